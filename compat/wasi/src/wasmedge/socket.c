/*
 * BSD sockets on WasmEdge's socket calls (libwlmake-wasmedge-sockets.a).
 *
 * Linked into builds for the `wasmedge` runtime only, before libwlmake-compat.a,
 * whose ENOSYS socket stubs are weak and give way to these. accept() and accept4()
 * replace wasi-libc's, which import the standard 3-parameter sock_accept; this file
 * imports WasmEdge's 2-parameter form. recv/send use the standard sock_recv and
 * sock_send, whose signatures WasmEdge shares.
 *
 * POSIX and WasmEdge number address families alike (AF_INET 1, AF_INET6 2) but not
 * socket types, option levels or option names: those are translated here.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <wasi/api.h>

#include "wasmedge.h"

static int fail(int error)
{
    errno = error;
    return -1;
}

static int set_nonblocking(int fd)
{
    __wasi_fdstat_t stat;
    __wasi_errno_t error = __wasi_fd_fdstat_get(fd, &stat);
    if (error == 0)
        error = __wasi_fd_fdstat_set_flags(fd, stat.fs_flags | __WASI_FDFLAGS_NONBLOCK);
    return error ? fail(error) : 0;
}

int socket(int domain, int type, int protocol)
{
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    int32_t af, socktype, fd;

    switch (domain) {
    case AF_INET: af = WASMEDGE_AF_INET4; break;
    case AF_INET6: af = WASMEDGE_AF_INET6; break;
    default: return fail(EAFNOSUPPORT);
    }
    if (base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
        socktype = WASMEDGE_SOCK_STREAM;
    else if (base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
        socktype = WASMEDGE_SOCK_DGRAM;
    else
        return fail(base == SOCK_STREAM || base == SOCK_DGRAM ? EPROTONOSUPPORT : EPROTOTYPE);

    int32_t error = wasmedge_sock_open(af, socktype, &fd);
    if (error)
        return fail(error);
    if ((type & SOCK_NONBLOCK) && set_nonblocking(fd) < 0) {
        int saved = errno;
        (void)__wasi_fd_close(fd);
        return fail(saved);
    }
    return fd;
}

/* A POSIX sockaddr as WasmEdge's raw address bytes and host-order port. */
static int to_wasmedge(const struct sockaddr *address, socklen_t length,
                       wasmedge_address_t *raw, int32_t *port)
{
    if (!address)
        return fail(EFAULT);
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)address;
        if (length < sizeof *in4)
            return fail(EINVAL);
        raw->buf = (uint8_t *)&in4->sin_addr;
        raw->buf_len = 4;
        *port = ntohs(in4->sin_port);
        return 0;
    }
    if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
        if (length < offsetof(struct sockaddr_in6, sin6_addr) + sizeof in6->sin6_addr)
            return fail(EINVAL);
        raw->buf = (uint8_t *)&in6->sin6_addr;
        raw->buf_len = 16;
        *port = ntohs(in6->sin6_port);
        return 0;
    }
    return fail(EAFNOSUPPORT);
}

void wlmake_fill_sockaddr(struct sockaddr *address, socklen_t *length, int family,
                          const uint8_t *bytes, uint16_t port)
{
    struct sockaddr_storage full;
    socklen_t size;

    memset(&full, 0, sizeof full);
    if (family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&full;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        memcpy(&in6->sin6_addr, bytes, 16);
        size = sizeof *in6;
    } else {
        struct sockaddr_in *in4 = (struct sockaddr_in *)&full;
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        memcpy(&in4->sin_addr, bytes, 4);
        size = sizeof *in4;
    }
    memcpy(address, &full, *length < size ? *length : size);
    *length = size;
}

typedef int32_t (*address_call)(int32_t, wasmedge_address_t *, int32_t);

/* bind() and connect(): the same address translation, then the WasmEdge call. */
static int call_with_address(address_call call, int fd, const struct sockaddr *address,
                             socklen_t length)
{
    wasmedge_address_t raw;
    int32_t port, error;

    if (to_wasmedge(address, length, &raw, &port) < 0)
        return -1;
    error = call(fd, &raw, port);
    return error ? fail(error) : 0;
}

int bind(int fd, const struct sockaddr *address, socklen_t length)
{
    return call_with_address(wasmedge_sock_bind, fd, address, length);
}

int connect(int fd, const struct sockaddr *address, socklen_t length)
{
    return call_with_address(wasmedge_sock_connect, fd, address, length);
}

int listen(int fd, int backlog)
{
    int32_t error = wasmedge_sock_listen(fd, backlog > 0 ? backlog : SOMAXCONN);
    return error ? fail(error) : 0;
}

typedef int32_t (*address_query)(int32_t, wasmedge_address_t *, uint32_t *, uint32_t *);

static int socket_address(address_query query, int fd, struct sockaddr *address,
                          socklen_t *length)
{
    uint8_t bytes[16];
    wasmedge_address_t raw = { bytes, sizeof bytes };
    uint32_t type = 0, port = 0;

    if (!address || !length)
        return fail(EFAULT);
    int32_t error = query(fd, &raw, &type, &port);
    if (error)
        return fail(error);
    wlmake_fill_sockaddr(address, length, type == 6 ? AF_INET6 : AF_INET, bytes,
                         (uint16_t)port);
    return 0;
}

int getsockname(int fd, struct sockaddr *address, socklen_t *length)
{
    return socket_address(wasmedge_sock_getlocaladdr, fd, address, length);
}

int getpeername(int fd, struct sockaddr *address, socklen_t *length)
{
    return socket_address(wasmedge_sock_getpeeraddr, fd, address, length);
}

int accept4(int fd, struct sockaddr *restrict address, socklen_t *restrict length, int flags)
{
    int32_t client;
    int32_t error = wasmedge_sock_accept(fd, &client);

    if (error)
        return fail(error);
    if ((flags & SOCK_NONBLOCK) && set_nonblocking(client) < 0) {
        int saved = errno;
        (void)__wasi_fd_close(client);
        return fail(saved);
    }
    /* WasmEdge's accept does not report the peer: ask for it. A peer the runtime
     * cannot name comes back with length 0 (callers treat it as unknown). */
    if (address && length && getpeername(client, address, length) < 0)
        *length = 0;
    return client;
}

int accept(int fd, struct sockaddr *restrict address, socklen_t *restrict length)
{
    return accept4(fd, address, length, 0);
}

int shutdown(int fd, int how)
{
    __wasi_sdflags_t flags;

    switch (how) {
    case SHUT_RD: flags = __WASI_SDFLAGS_RD; break;
    case SHUT_WR: flags = __WASI_SDFLAGS_WR; break;
    case SHUT_RDWR: flags = __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR; break;
    default: return fail(EINVAL);
    }
    __wasi_errno_t error = __wasi_sock_shutdown(fd, flags);
    return error ? fail(error) : 0;
}

/* POSIX SOL_SOCKET option names -> WasmEdge's, for options whose value is an int;
 * -1 for the rest (struct values like SO_LINGER and the timeouts are not supported). */
static int32_t option_name(int name)
{
    switch (name) {
    case SO_REUSEADDR: return WASMEDGE_SO_REUSEADDR;
    case SO_TYPE: return WASMEDGE_SO_TYPE;
    case SO_ERROR: return WASMEDGE_SO_ERROR;
    case SO_DONTROUTE: return WASMEDGE_SO_DONTROUTE;
    case SO_BROADCAST: return WASMEDGE_SO_BROADCAST;
    case SO_SNDBUF: return WASMEDGE_SO_SNDBUF;
    case SO_RCVBUF: return WASMEDGE_SO_RCVBUF;
    case SO_KEEPALIVE: return WASMEDGE_SO_KEEPALIVE;
    case SO_OOBINLINE: return WASMEDGE_SO_OOBINLINE;
    case SO_RCVLOWAT: return WASMEDGE_SO_RCVLOWAT;
    case SO_ACCEPTCONN: return WASMEDGE_SO_ACCEPTCONN;
    default: return -1;
    }
}

int getsockopt(int fd, int level, int name, void *restrict value, socklen_t *restrict length)
{
    int32_t wasmedge_name = option_name(name), result = 0;
    uint32_t result_length = sizeof result;

    if (level != SOL_SOCKET || wasmedge_name < 0)
        return fail(ENOPROTOOPT);
    if (!value || !length)
        return fail(EFAULT);
    if (*length < sizeof(int))
        return fail(EINVAL);
    int32_t error = wasmedge_sock_getsockopt(fd, WASMEDGE_SOL_SOCKET, wasmedge_name,
                                             &result, &result_length);
    if (error)
        return fail(error);
    if (name == SO_TYPE)
        result = result == WASMEDGE_SOCK_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
    *(int *)value = result;
    *length = sizeof(int);
    return 0;
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t length)
{
    int32_t wasmedge_name = option_name(name);

    if (level != SOL_SOCKET || wasmedge_name < 0)
        return fail(ENOPROTOOPT);
    if (!value)
        return fail(EFAULT);
    if (length < sizeof(int))
        return fail(EINVAL);
    int32_t option = *(const int *)value;
    int32_t error = wasmedge_sock_setsockopt(fd, WASMEDGE_SOL_SOCKET, wasmedge_name,
                                             &option, sizeof option);
    return error ? fail(error) : 0;
}

/* MSG_DONTWAIT on a blocking socket: fail with EAGAIN unless it is ready now. */
static int ready_now(int fd, short events)
{
    struct pollfd entry = { .fd = fd, .events = events };
    int ready = poll(&entry, 1, 0);
    if (ready < 0)
        return -1;
    return ready == 0 ? fail(EAGAIN) : 0;
}

ssize_t recv(int fd, void *buffer, size_t length, int flags)
{
    __wasi_riflags_t riflags = 0;
    __wasi_iovec_t iov = { .buf = buffer, .buf_len = length };
    __wasi_size_t received;
    __wasi_roflags_t roflags;

    if (flags & ~(MSG_PEEK | MSG_WAITALL | MSG_DONTWAIT | MSG_NOSIGNAL))
        return fail(EOPNOTSUPP);
    if (flags & MSG_PEEK)
        riflags |= __WASI_RIFLAGS_RECV_PEEK;
    if (flags & MSG_WAITALL)
        riflags |= __WASI_RIFLAGS_RECV_WAITALL;
    if ((flags & MSG_DONTWAIT) && ready_now(fd, POLLIN) < 0)
        return -1;
    __wasi_errno_t error = __wasi_sock_recv(fd, &iov, 1, riflags, &received, &roflags);
    return error ? fail(error) : (ssize_t)received;
}

ssize_t send(int fd, const void *buffer, size_t length, int flags)
{
    __wasi_ciovec_t iov = { .buf = buffer, .buf_len = length };
    __wasi_size_t sent;

    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL))
        return fail(EOPNOTSUPP);
    if ((flags & MSG_DONTWAIT) && ready_now(fd, POLLOUT) < 0)
        return -1;
    __wasi_errno_t error = __wasi_sock_send(fd, &iov, 1, 0, &sent);
    return error ? fail(error) : (ssize_t)sent;
}

/* Stream sockets only: the peer is the connected one. */
ssize_t recvfrom(int fd, void *buffer, size_t length, int flags, struct sockaddr *address,
                 socklen_t *address_length)
{
    ssize_t received = recv(fd, buffer, length, flags);
    if (received >= 0 && address && address_length
        && getpeername(fd, address, address_length) < 0)
        *address_length = 0;
    return received;
}

ssize_t sendto(int fd, const void *buffer, size_t length, int flags,
               const struct sockaddr *address, socklen_t address_length)
{
    /* A connected stream socket ignores the address, as POSIX allows. */
    (void)address;
    (void)address_length;
    return send(fd, buffer, length, flags);
}
