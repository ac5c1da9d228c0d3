/*
 * Name resolution for WasmEdge builds (libwlmake-wasmedge-sockets.a).
 *
 * Numeric addresses and the absent host are resolved here, as a libc does before it
 * asks a resolver; names go to WasmEdge's sock_getaddrinfo. Services must be port
 * numbers (or "http"/"https"): the port is filled in here, not by the runtime.
 * One result per address, with the socket type asked for (SOCK_STREAM if none).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "wasmedge.h"

/* How many results WasmEdge may return for one name. */
#define MAX_RESULTS 16
#define CANONNAME_LENGTH 256

/* One result: the addrinfo, its address and its canonical name in one block. */
struct result {
    struct addrinfo info;
    struct sockaddr_storage address;
    char canonname[];
};

static struct addrinfo *new_result(int family, const uint8_t *bytes, uint16_t port,
                                   int socktype, int protocol, const char *canonname)
{
    size_t name_length = canonname ? strlen(canonname) + 1 : 0;
    struct result *entry = calloc(1, sizeof *entry + name_length);
    if (!entry)
        return NULL;
    entry->info.ai_family = family;
    entry->info.ai_socktype = socktype;
    entry->info.ai_protocol = protocol;
    entry->info.ai_addr = (struct sockaddr *)&entry->address;
    entry->info.ai_addrlen = sizeof entry->address;
    wlmake_fill_sockaddr(entry->info.ai_addr, &entry->info.ai_addrlen, family, bytes, port);
    if (canonname) {
        memcpy(entry->canonname, canonname, name_length);
        entry->info.ai_canonname = entry->canonname;
    }
    return &entry->info;
}

void freeaddrinfo(struct addrinfo *list)
{
    while (list) {
        struct addrinfo *next = list->ai_next;
        free(list); /* the block starts with the addrinfo (struct result) */
        list = next;
    }
}

static int parse_service(const char *service, int flags, uint16_t *port)
{
    char *end;

    *port = 0;
    if (!service || !*service)
        return 0;
    unsigned long number = strtoul(service, &end, 10);
    if (*end == '\0' && number <= 65535) {
        *port = (uint16_t)number;
        return 0;
    }
    if (flags & AI_NUMERICSERV)
        return EAI_NONAME;
    if (strcmp(service, "http") == 0)
        *port = 80;
    else if (strcmp(service, "https") == 0)
        *port = 443;
    else
        return EAI_SERVICE;
    return 0;
}

/* Appends one result; returns 0 or EAI_MEMORY. */
static int append(struct addrinfo ***tail, int family, const uint8_t *bytes, uint16_t port,
                  int socktype, int protocol, const char *canonname)
{
    struct addrinfo *entry = new_result(family, bytes, port, socktype, protocol, canonname);
    if (!entry)
        return EAI_MEMORY;
    **tail = entry;
    *tail = &entry->ai_next;
    return 0;
}

static uint16_t to_wasmedge_flags(int flags)
{
    uint16_t out = 0;
    if (flags & AI_PASSIVE) out |= 1;
    if (flags & AI_CANONNAME) out |= 2;
    if (flags & AI_NUMERICHOST) out |= 4;
    if (flags & AI_NUMERICSERV) out |= 8;
    if (flags & AI_V4MAPPED) out |= 16;
    if (flags & AI_ALL) out |= 32;
    if (flags & AI_ADDRCONFIG) out |= 64;
    return out;
}

/* Asks WasmEdge to resolve a name. */
static int resolve_name(const char *node, int flags, int family, int socktype, int protocol,
                        uint16_t port, struct addrinfo ***tail)
{
    wasmedge_addrinfo_t hints = {
        .flags = to_wasmedge_flags(flags),
        .family = family == AF_INET ? WASMEDGE_AF_INET4
                  : family == AF_INET6 ? WASMEDGE_AF_INET6 : 0,
        .socktype = socktype == SOCK_DGRAM ? WASMEDGE_SOCK_DGRAM : WASMEDGE_SOCK_STREAM,
        .protocol = protocol == IPPROTO_UDP ? WASMEDGE_PROTO_UDP
                    : protocol == IPPROTO_TCP ? WASMEDGE_PROTO_TCP : WASMEDGE_PROTO_IP,
    };
    struct {
        wasmedge_addrinfo_t info[MAX_RESULTS];
        wasmedge_sockaddr_t address[MAX_RESULTS];
        uint8_t data[MAX_RESULTS][26];
        char canonname[MAX_RESULTS][CANONNAME_LENGTH];
    } *records = calloc(1, sizeof *records);
    if (!records)
        return EAI_MEMORY;
    for (int i = 0; i < MAX_RESULTS; i++) {
        records->address[i].data = records->data[i];
        records->address[i].data_len = sizeof records->data[i];
        records->info[i].addr = &records->address[i];
        records->info[i].canonname = records->canonname[i];
        records->info[i].canonname_len = CANONNAME_LENGTH;
        records->info[i].next = i + 1 < MAX_RESULTS ? &records->info[i + 1] : NULL;
    }

    wasmedge_addrinfo_t *first = records->info;
    uint32_t count = 0;
    int32_t error = wasmedge_sock_getaddrinfo(node, strlen(node), NULL, 0, &hints, &first,
                                              MAX_RESULTS, &count);
    int status = 0;
    if (error == EAGAIN)
        status = EAI_AGAIN;
    else if (error == ENOSYS || error == ENOTSUP)
        status = EAI_FAIL;
    else if (error || count == 0)
        status = EAI_NONAME;

    wasmedge_addrinfo_t *record = first;
    for (uint32_t i = 0; status == 0 && i < count && i < MAX_RESULTS && record; i++) {
        const uint8_t *data = record->addr->data;
        /* data: port (2 bytes), then for IPv6 the flow info (4), then the address. */
        if (record->addr->family == WASMEDGE_AF_INET4)
            status = append(tail, AF_INET, data + 2, port, socktype, protocol,
                            (flags & AI_CANONNAME) && i == 0 ? node : NULL);
        else if (record->addr->family == WASMEDGE_AF_INET6)
            status = append(tail, AF_INET6, data + 6, port, socktype, protocol,
                            (flags & AI_CANONNAME) && i == 0 ? node : NULL);
        record = record->next;
    }
    free(records);
    return status;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **result)
{
    int flags = hints ? hints->ai_flags : 0;
    int family = hints ? hints->ai_family : AF_UNSPEC;
    int socktype = hints && hints->ai_socktype ? hints->ai_socktype : SOCK_STREAM;
    int protocol = hints ? hints->ai_protocol : 0;
    struct addrinfo *list = NULL, **tail = &list;
    uint16_t port;
    uint8_t bytes[16];
    int status;

    if (!result)
        return EAI_FAIL;
    *result = NULL;
    if ((!node || !*node) && (!service || !*service))
        return EAI_NONAME;
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
        return EAI_FAMILY;
    if (socktype != SOCK_STREAM && socktype != SOCK_DGRAM)
        return EAI_SOCKTYPE;
    if ((status = parse_service(service, flags, &port)))
        return status;
    const char *canonname = flags & AI_CANONNAME ? node : NULL;

    if (!node || !*node) {
        /* No host: the wildcard address for a server, else loopback. */
        static const uint8_t any4[4], any6[16];
        static const uint8_t loopback4[4] = { 127, 0, 0, 1 };
        static const uint8_t loopback6[16] = { [15] = 1 };
        int passive = flags & AI_PASSIVE;
        if (family != AF_INET6)
            status = append(&tail, AF_INET, passive ? any4 : loopback4, port, socktype,
                            protocol, NULL);
        if (!status && family != AF_INET)
            status = append(&tail, AF_INET6, passive ? any6 : loopback6, port, socktype,
                            protocol, NULL);
    } else if (inet_pton(AF_INET, node, bytes) == 1) {
        status = family == AF_INET6 ? EAI_NONAME
                                    : append(&tail, AF_INET, bytes, port, socktype, protocol,
                                             canonname);
    } else if (inet_pton(AF_INET6, node, bytes) == 1) {
        status = family == AF_INET ? EAI_NONAME
                                   : append(&tail, AF_INET6, bytes, port, socktype, protocol,
                                            canonname);
    } else if (flags & AI_NUMERICHOST) {
        status = EAI_NONAME;
    } else {
        status = resolve_name(node, flags, family, socktype, protocol, port, &tail);
    }

    if (status) {
        freeaddrinfo(list);
        return status;
    }
    if (!list)
        return EAI_NONAME;
    *result = list;
    return 0;
}

const char *gai_strerror(int code)
{
    switch (code) {
    case 0: return "Success";
    case EAI_BADFLAGS: return "Invalid flags";
    case EAI_NONAME: return "Name does not resolve";
    case EAI_AGAIN: return "Temporary failure in name resolution";
    case EAI_FAIL: return "Non-recoverable failure in name resolution";
    case EAI_FAMILY: return "Unrecognized address family or invalid length";
    case EAI_SOCKTYPE: return "Unrecognized socket type";
    case EAI_SERVICE: return "Unrecognized service";
    case EAI_MEMORY: return "Out of memory";
    case EAI_SYSTEM: return "System error";
    case EAI_OVERFLOW: return "Overflow";
    default: return "Unknown error";
    }
}

/* Numeric only: the runtime has no reverse lookup. */
int getnameinfo(const struct sockaddr *restrict address, socklen_t length, char *restrict host,
                socklen_t host_length, char *restrict service, socklen_t service_length,
                int flags)
{
    const void *bytes;
    uint16_t port;

    if (!address)
        return EAI_FAIL;
    if (address->sa_family == AF_INET && length >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)address;
        bytes = &in4->sin_addr;
        port = ntohs(in4->sin_port);
    } else if (address->sa_family == AF_INET6 && length >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
        bytes = &in6->sin6_addr;
        port = ntohs(in6->sin6_port);
    } else {
        return EAI_FAMILY;
    }
    if (host && host_length) {
        if (flags & NI_NAMEREQD)
            return EAI_NONAME;
        if (!inet_ntop(address->sa_family, bytes, host, host_length))
            return EAI_OVERFLOW;
    }
    if (service && service_length
        && snprintf(service, service_length, "%u", port) >= (int)service_length)
        return EAI_OVERFLOW;
    return 0;
}
