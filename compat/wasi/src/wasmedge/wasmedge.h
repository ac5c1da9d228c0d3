/*
 * WasmEdge's socket extensions of wasi_snapshot_preview1, as imports.
 *
 * Every parameter and result is an i32; results are WASI errno values, which are
 * also wasi-libc's errno values. The signatures are the ones in
 * runtimes/wasmedge-0.13-0.16.toml: WasmEdge 0.13 to 0.16 do not check a socket
 * import's type at load time, so a mistake here corrupts the runtime instead of
 * failing; `wlmake build` checks every import against that table.
 */
#ifndef WLMAKE_WASMEDGE_H
#define WLMAKE_WASMEDGE_H

#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define WASMEDGE_IMPORT(name) \
    __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))

/* WasmEdge's address: raw bytes in network order, 4 (IPv4) or 16 (IPv6) of them. */
typedef struct {
    uint8_t *buf;
    uint32_t buf_len;
} wasmedge_address_t;

/* Address families and socket types as WasmEdge numbers them. */
#define WASMEDGE_AF_INET4 1
#define WASMEDGE_AF_INET6 2
#define WASMEDGE_SOCK_DGRAM 1
#define WASMEDGE_SOCK_STREAM 2
/* Protocols (sock_getaddrinfo). */
#define WASMEDGE_PROTO_IP 0
#define WASMEDGE_PROTO_TCP 1
#define WASMEDGE_PROTO_UDP 2
/* The only socket option level, and the option names. */
#define WASMEDGE_SOL_SOCKET 0
#define WASMEDGE_SO_REUSEADDR 0
#define WASMEDGE_SO_TYPE 1
#define WASMEDGE_SO_ERROR 2
#define WASMEDGE_SO_DONTROUTE 3
#define WASMEDGE_SO_BROADCAST 4
#define WASMEDGE_SO_SNDBUF 5
#define WASMEDGE_SO_RCVBUF 6
#define WASMEDGE_SO_KEEPALIVE 7
#define WASMEDGE_SO_OOBINLINE 8
#define WASMEDGE_SO_LINGER 9
#define WASMEDGE_SO_RCVLOWAT 10
#define WASMEDGE_SO_ACCEPTCONN 13

/* sock_getaddrinfo's records (28 and 12 bytes; layouts in WASI-FACTS.md). */
typedef struct {
    uint8_t family;
    uint32_t data_len;
    uint8_t *data; /* port (network order), then the address: the native sockaddr past its family */
} wasmedge_sockaddr_t;

typedef struct wasmedge_addrinfo {
    uint16_t flags;
    uint8_t family;
    uint8_t socktype;
    uint8_t protocol;
    uint32_t addrlen;
    wasmedge_sockaddr_t *addr;
    char *canonname;
    uint32_t canonname_len;
    struct wasmedge_addrinfo *next;
} wasmedge_addrinfo_t;

_Static_assert(sizeof(wasmedge_address_t) == 8, "WasmEdge __wasi_address_t");
_Static_assert(sizeof(wasmedge_sockaddr_t) == 12, "WasmEdge __wasi_sockaddr_t");
_Static_assert(sizeof(wasmedge_addrinfo_t) == 28, "WasmEdge __wasi_addrinfo_t");
_Static_assert(__builtin_offsetof(wasmedge_addrinfo_t, addrlen) == 8, "addrlen @8");
_Static_assert(__builtin_offsetof(wasmedge_addrinfo_t, next) == 24, "next @24");

int32_t wasmedge_sock_open(int32_t af, int32_t socktype, int32_t *fd)
    WASMEDGE_IMPORT("sock_open");
int32_t wasmedge_sock_bind(int32_t fd, wasmedge_address_t *address, int32_t port)
    WASMEDGE_IMPORT("sock_bind");
int32_t wasmedge_sock_connect(int32_t fd, wasmedge_address_t *address, int32_t port)
    WASMEDGE_IMPORT("sock_connect");
int32_t wasmedge_sock_listen(int32_t fd, int32_t backlog)
    WASMEDGE_IMPORT("sock_listen");
/* WasmEdge's own 2-parameter form (the standard one takes fdflags too). */
int32_t wasmedge_sock_accept(int32_t fd, int32_t *new_fd)
    WASMEDGE_IMPORT("sock_accept");
int32_t wasmedge_sock_getlocaladdr(int32_t fd, wasmedge_address_t *address,
                                   uint32_t *address_type, uint32_t *port)
    WASMEDGE_IMPORT("sock_getlocaladdr");
int32_t wasmedge_sock_getpeeraddr(int32_t fd, wasmedge_address_t *address,
                                  uint32_t *address_type, uint32_t *port)
    WASMEDGE_IMPORT("sock_getpeeraddr");
int32_t wasmedge_sock_getsockopt(int32_t fd, int32_t level, int32_t name,
                                 int32_t *value, uint32_t *length)
    WASMEDGE_IMPORT("sock_getsockopt");
/* The length is passed by value. */
int32_t wasmedge_sock_setsockopt(int32_t fd, int32_t level, int32_t name,
                                 const int32_t *value, uint32_t length)
    WASMEDGE_IMPORT("sock_setsockopt");
int32_t wasmedge_sock_getaddrinfo(const char *node, uint32_t node_len,
                                  const char *service, uint32_t service_len,
                                  const wasmedge_addrinfo_t *hints,
                                  wasmedge_addrinfo_t **result, uint32_t max_results,
                                  uint32_t *result_count)
    WASMEDGE_IMPORT("sock_getaddrinfo");

/* Fills a POSIX sockaddr (truncated to *length, as POSIX says) from raw address
 * bytes; *length becomes the full size. Shared by socket.c and netdb.c. */
void wlmake_fill_sockaddr(struct sockaddr *address, socklen_t *length, int family,
                          const uint8_t *bytes, uint16_t port);

#endif /* WLMAKE_WASMEDGE_H */
