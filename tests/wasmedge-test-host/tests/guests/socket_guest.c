/* A test program for wasmedge-test-host, using WasmEdge's socket calls directly.
 * Built twice: with ACCEPT_PARAMS=2 (WasmEdge's sock_accept) and 3 (the standard one).
 *
 *   serve ADDR PORT COUNT   HTTP-ish server: answers COUNT requests, then exits
 *   poll ADDR PORT          non-blocking listener driven by poll() and epoll_oneoff
 *   connect ADDR PORT       client: sends "ping", prints the answer
 *   resolve NODE SERVICE FAMILY FLAGS   sock_getaddrinfo ("-" is an absent node/service)
 *   fds COUNT               opens and closes COUNT sockets, printing their fds
 *   env NAME                prints the environment variable NAME
 *   read PATH               prints the first line of the file PATH (from a --dir preopen)
 *   exit CODE               exits with CODE
 *   trap                    executes `unreachable`
 *   argv ...                prints its arguments
 *
 * Every line of output is flushed at once: the Rust tests read it while the program runs.
 * A failing call prints "FAIL <what>: errno N" and exits with 10. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wasmedge.h"

static void say(const char *format, ...) {
    va_list args;
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    putchar('\n');
    fflush(stdout);
}

static void check(const char *what, uint32_t err) {
    if (err != 0) {
        say("FAIL %s: errno %u", what, err);
        exit(10);
    }
}

/* Parses ADDR into raw bytes; returns the WasmEdge address family. */
static uint32_t parse_address(const char *text, uint8_t bytes[16], we_address_t *address) {
    if (strchr(text, ':') != NULL) {
        if (inet_pton(AF_INET6, text, bytes) != 1) check("inet_pton", 28);
        *address = (we_address_t){bytes, 16};
        return WE_AF_INET6;
    }
    if (inet_pton(AF_INET, text, bytes) != 1) check("inet_pton", 28);
    *address = (we_address_t){bytes, 4};
    return WE_AF_INET4;
}

static const char *format_address(const uint8_t *bytes, uint32_t addr_type, char *out) {
    inet_ntop(addr_type == 6 ? AF_INET6 : AF_INET, bytes, out, INET6_ADDRSTRLEN);
    return out;
}

static void print_address(const char *label, uint32_t fd, int peer) {
    uint8_t bytes[16] = {0};
    we_address_t address = {bytes, sizeof bytes};
    uint32_t addr_type = 0, port = 0;
    char text[INET6_ADDRSTRLEN];
    if (peer) {
        check("sock_getpeeraddr", we_sock_getpeeraddr(fd, &address, &addr_type, &port));
    } else {
        check("sock_getlocaladdr", we_sock_getlocaladdr(fd, &address, &addr_type, &port));
    }
    say("%s %s %u type=%u", label, format_address(bytes, addr_type, text), port, addr_type);
}

static int32_t get_option(uint32_t fd, uint32_t name) {
    int32_t value = -1;
    uint32_t len = sizeof value;
    check("sock_getsockopt", we_sock_getsockopt(fd, 0, name, &value, &len));
    if (len != 4) check("sock_getsockopt length", 28);
    return value;
}

static uint32_t listen_on(const char *text, uint32_t port) {
    uint8_t bytes[16];
    we_address_t address;
    uint32_t af = parse_address(text, bytes, &address);
    uint32_t fd;
    check("sock_open", we_sock_open(af, WE_SOCK_STREAM, &fd));
    int32_t one = 1;
    check("sock_setsockopt", we_sock_setsockopt(fd, 0, WE_SO_REUSEADDR, &one, sizeof one));
    check("sock_bind", we_sock_bind(fd, &address, port));
    check("sock_listen", we_sock_listen(fd, 16));
    return fd;
}

/* Reads until the blank line that ends an HTTP request, through two iovecs. */
static size_t read_request(uint32_t fd, char *request, size_t size) {
    size_t used = 0;
    while (used + 1 < size && strstr(request, "\r\n\r\n") == NULL) {
        size_t room = size - used - 1;
        __wasi_iovec_t iovs[2] = {{(uint8_t *)request + used, room / 2},
                                  {(uint8_t *)request + used + room / 2, room - room / 2}};
        uint32_t nread = 0;
        uint16_t roflags = 0;
        check("sock_recv", we_sock_recv(fd, iovs, 2, 0, &nread, &roflags));
        if (nread == 0) break;
        used += nread;
        request[used] = '\0';
    }
    return used;
}

static void send_all(uint32_t fd, const char *text) {
    size_t length = strlen(text);
    while (length > 0) {
        __wasi_ciovec_t iov = {(const uint8_t *)text, length};
        uint32_t nsent = 0;
        check("sock_send", we_sock_send(fd, &iov, 1, 0, &nsent));
        text += nsent;
        length -= nsent;
    }
}

static int serve(const char *address, uint32_t port, int count) {
    uint32_t fd = listen_on(address, port);
    say("sockopt reuseaddr=%d type=%d acceptconn=%d error=%d keepalive=%d rcvbuf_positive=%d",
        get_option(fd, WE_SO_REUSEADDR), get_option(fd, WE_SO_TYPE),
        get_option(fd, WE_SO_ACCEPTCONN), get_option(fd, WE_SO_ERROR),
        get_option(fd, WE_SO_KEEPALIVE), get_option(fd, WE_SO_RCVBUF) > 0);
    int32_t linger = 0;
    uint32_t len = sizeof linger;
    say("sockopt linger errno=%u", we_sock_getsockopt(fd, 0, WE_SO_LINGER, &linger, &len));
    print_address("local", fd, 0);
    say("listening fd=%u", fd);
    for (int i = 0; i < count; i++) {
        uint32_t connection;
        check("sock_accept", we_accept(fd, &connection));
        say("accepted fd=%u", connection);
        print_address("peer", connection, 1);
        char request[2048] = "";
        read_request(connection, request, sizeof request);
        char *end_of_line = strstr(request, "\r\n");
        if (end_of_line != NULL) *end_of_line = '\0';
        char response[2600];
        snprintf(response, sizeof response,
                 "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                 "served by fd %u on listener fd %u: %s\n",
                 connection, fd, request);
        send_all(connection, response);
        check("sock_shutdown", we_sock_shutdown(connection, 2));
        if (close(connection) != 0) check("close", errno);
    }
    if (close(fd) != 0) check("close", errno);
    say("done");
    return 0;
}

static int poll_server(const char *address, uint32_t port) {
    uint32_t fd = listen_on(address, port);
    check("fd_fdstat_set_flags", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_NONBLOCK));
    __wasi_fdstat_t stat;
    check("fd_fdstat_get", __wasi_fd_fdstat_get(fd, &stat));
    uint32_t connection;
    say("fdstat filetype=%u nonblock=%d", stat.fs_filetype,
        (stat.fs_flags & __WASI_FDFLAGS_NONBLOCK) != 0);
    say("accept before a client: errno %u", we_accept(fd, &connection));
    say("listening fd=%u", fd);

    struct pollfd ready = {.fd = (int)fd, .events = POLLIN};
    int n = poll(&ready, 1, 20000);
    say("poll: %d revents_in=%d", n, (ready.revents & POLLIN) != 0);
    check("sock_accept", we_accept(fd, &connection));
    say("accepted fd=%u", connection);

    /* Wait for the request with WasmEdge's epoll_oneoff, 20 s at most, watching the
     * listener too: only the connection is ready, so only it may be reported. */
    __wasi_subscription_t subscriptions[3] = {
        {.userdata = 1, .u = {.tag = __WASI_EVENTTYPE_FD_READ,
                              .u = {.fd_read = {.file_descriptor = connection}}}},
        {.userdata = 3, .u = {.tag = __WASI_EVENTTYPE_FD_READ,
                              .u = {.fd_read = {.file_descriptor = fd}}}},
        {.userdata = 2, .u = {.tag = __WASI_EVENTTYPE_CLOCK,
                              .u = {.clock = {.id = __WASI_CLOCKID_MONOTONIC,
                                              .timeout = 20000000000ull}}}},
    };
    __wasi_event_t events[3];
    uint32_t nevents = 0;
    check("epoll_oneoff", we_epoll_oneoff(subscriptions, events, 3, &nevents));
    say("epoll_oneoff: events=%u first_userdata=%llu", nevents,
        (unsigned long long)events[0].userdata);

    /* Read up to the end of the headers: the request may come in more than one
     * segment, and closing with unread bytes would reset the client's connection. */
    char request[512] = "";
    size_t used = 0;
    while (used < sizeof request - 1 && strstr(request, "\r\n\r\n") == NULL) {
        ssize_t got = read((int)connection, request + used, sizeof request - 1 - used);
        if (got < 0 && errno == EAGAIN) {
            struct pollfd more = {.fd = (int)connection, .events = POLLIN};
            poll(&more, 1, 20000);
            continue;
        }
        if (got < 0) check("read", errno);
        if (got == 0) break;
        used += (size_t)got;
        request[used] = '\0';
    }
    const char *response = "HTTP/1.0 200 OK\r\n\r\npolled\n";
    if (write((int)connection, response, strlen(response)) < 0) check("write", errno);
    close(connection);
    close(fd);
    say("done");
    return 0;
}

static int client(const char *text, uint32_t port) {
    uint8_t bytes[16];
    we_address_t address;
    uint32_t af = parse_address(text, bytes, &address);
    uint32_t fd;
    check("sock_open", we_sock_open(af, WE_SOCK_STREAM, &fd));
    check("sock_connect", we_sock_connect(fd, &address, port));
    say("connected fd=%u", fd);
    print_address("peer", fd, 1);
    print_address("local", fd, 0);
    send_all(fd, "ping\n");
    check("sock_shutdown", we_sock_shutdown(fd, 2));
    char answer[256] = "";
    ssize_t got = read((int)fd, answer, sizeof answer - 1);
    if (got < 0) check("read", errno);
    answer[got] = '\0';
    say("answer %s", answer);
    close(fd);
    return 0;
}

enum { MAX_RESULTS = 4 };

static int resolve(const char *node, const char *service, int family, int flags) {
    we_addrinfo_t records[MAX_RESULTS];
    we_sockaddr_t sockaddrs[MAX_RESULTS];
    uint8_t data[MAX_RESULTS][26];
    char names[MAX_RESULTS][64];
    for (int i = 0; i < MAX_RESULTS; i++) {
        memset(&records[i], 0, sizeof records[i]);
        records[i].ai_addr = &sockaddrs[i];
        records[i].ai_canonname = names[i];
        records[i].ai_canonname_len = sizeof names[i];
        records[i].ai_next = i + 1 < MAX_RESULTS ? &records[i + 1] : NULL;
        sockaddrs[i] = (we_sockaddr_t){0, sizeof data[i], data[i]};
    }
    we_addrinfo_t hints = {.ai_flags = (uint16_t)flags, .ai_family = (uint8_t)family};
    we_addrinfo_t *result = records;
    uint32_t count = 0;
    const char *no_node = strcmp(node, "-") == 0 ? "" : node;
    const char *no_service = strcmp(service, "-") == 0 ? "" : service;
    uint32_t err = we_sock_getaddrinfo(no_node, strlen(no_node), no_service, strlen(no_service),
                                       &hints, &result, MAX_RESULTS, &count);
    if (err != 0) {
        say("getaddrinfo errno %u", err);
        return 3;
    }
    for (uint32_t i = 0; i < count; i++) {
        we_addrinfo_t *info = &records[i];
        uint8_t *bytes = info->ai_addr->sa_data;
        char text[INET6_ADDRSTRLEN];
        int v6 = info->ai_family == WE_AF_INET6;
        say("result family=%u socktype=%u protocol=%u addrlen=%u sa_family=%u "
            "data_len=%u port=%u addr=%s canonname=%.*s",
            info->ai_family, info->ai_socktype, info->ai_protocol, info->ai_addrlen,
            info->ai_addr->sa_family, info->ai_addr->sa_data_len, bytes[0] << 8 | bytes[1],
            format_address(v6 ? bytes + 6 : bytes + 2, v6 ? 6 : 4, text),
            (int)info->ai_canonname_len, info->ai_canonname);
    }
    return 0;
}

static int open_sockets(int count) {
    for (int i = 0; i < count; i++) {
        uint32_t fd;
        check("sock_open", we_sock_open(i % 2 ? WE_AF_INET6 : WE_AF_INET4, WE_SOCK_STREAM, &fd));
        __wasi_fdstat_t stat;
        check("fd_fdstat_get", __wasi_fd_fdstat_get(fd, &stat));
        say("socket fd=%u filetype=%u", fd, stat.fs_filetype);
        check("fd_close", __wasi_fd_close(fd));
        say("closed again: errno %u", __wasi_fd_close(fd));
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 5 && strcmp(argv[1], "serve") == 0) {
        return serve(argv[2], (uint32_t)atoi(argv[3]), atoi(argv[4]));
    }
    if (argc >= 4 && strcmp(argv[1], "poll") == 0) {
        return poll_server(argv[2], (uint32_t)atoi(argv[3]));
    }
    if (argc >= 4 && strcmp(argv[1], "connect") == 0) {
        return client(argv[2], (uint32_t)atoi(argv[3]));
    }
    if (argc >= 6 && strcmp(argv[1], "resolve") == 0) {
        return resolve(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    }
    if (argc >= 3 && strcmp(argv[1], "fds") == 0) {
        return open_sockets(atoi(argv[2]));
    }
    if (argc >= 3 && strcmp(argv[1], "env") == 0) {
        const char *value = getenv(argv[2]);
        say("env %s=%s", argv[2], value ? value : "(unset)");
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "read") == 0) {
        FILE *file = fopen(argv[2], "r");
        if (file == NULL) check("fopen", errno);
        char line[256] = "";
        fgets(line, sizeof line, file);
        line[strcspn(line, "\n")] = '\0';
        say("read %s", line);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "exit") == 0) {
        exit(atoi(argv[2]));
    }
    if (argc >= 2 && strcmp(argv[1], "trap") == 0) {
        __builtin_trap();
    }
    if (argc >= 2 && strcmp(argv[1], "argv") == 0) {
        for (int i = 0; i < argc; i++) say("argv[%d]=%s", i, argv[i]);
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top of socket_guest.c (argv[0]=%s)\n",
            argv[0]);
    return 2;
}
