/* WasmEdge's socket calls, declared by hand as a program built for WasmEdge declares them.
 * Every parameter and result is 32 bits; results are WASI errno values. */
#ifndef WASMEDGE_H
#define WASMEDGE_H

#include <stdint.h>
#include <wasi/api.h>

#define WE_IMPORT(name) \
    __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))

enum { WE_AF_INET4 = 1, WE_AF_INET6 = 2, WE_SOCK_STREAM = 2 };
enum { WE_SO_REUSEADDR = 0, WE_SO_TYPE = 1, WE_SO_ERROR = 2, WE_SO_RCVBUF = 6,
       WE_SO_KEEPALIVE = 7, WE_SO_LINGER = 9, WE_SO_ACCEPTCONN = 13 };

/* `__wasi_address_t`: raw address bytes in network order (4 or 16). */
typedef struct {
    uint8_t *buf;
    uint32_t buf_len;
} we_address_t;

typedef struct {
    uint8_t sa_family;
    uint32_t sa_data_len;
    uint8_t *sa_data;
} we_sockaddr_t;

typedef struct we_addrinfo {
    uint16_t ai_flags;
    uint8_t ai_family;
    uint8_t ai_socktype;
    uint8_t ai_protocol;
    uint32_t ai_addrlen;
    we_sockaddr_t *ai_addr;
    char *ai_canonname;
    uint32_t ai_canonname_len;
    struct we_addrinfo *ai_next;
} we_addrinfo_t;

_Static_assert(sizeof(we_sockaddr_t) == 12, "__wasi_sockaddr_t is 12 bytes");
_Static_assert(sizeof(we_addrinfo_t) == 28, "__wasi_addrinfo_t is 28 bytes");
_Static_assert(__builtin_offsetof(we_addrinfo_t, ai_addrlen) == 8, "ai_addrlen @8");
_Static_assert(__builtin_offsetof(we_addrinfo_t, ai_next) == 24, "ai_next @24");

WE_IMPORT("sock_open") uint32_t we_sock_open(uint32_t af, uint32_t socktype, uint32_t *fd);
WE_IMPORT("sock_bind") uint32_t we_sock_bind(uint32_t fd, we_address_t *addr, uint32_t port);
WE_IMPORT("sock_connect") uint32_t we_sock_connect(uint32_t fd, we_address_t *addr, uint32_t port);
WE_IMPORT("sock_listen") uint32_t we_sock_listen(uint32_t fd, uint32_t backlog);
#if ACCEPT_PARAMS == 3
WE_IMPORT("sock_accept") uint32_t we_sock_accept3(uint32_t fd, uint32_t fdflags, uint32_t *new_fd);
static inline uint32_t we_accept(uint32_t fd, uint32_t *new_fd) {
    return we_sock_accept3(fd, 0, new_fd);
}
#else
WE_IMPORT("sock_accept") uint32_t we_sock_accept2(uint32_t fd, uint32_t *new_fd);
static inline uint32_t we_accept(uint32_t fd, uint32_t *new_fd) {
    return we_sock_accept2(fd, new_fd);
}
#endif
WE_IMPORT("sock_recv") uint32_t we_sock_recv(uint32_t fd, const __wasi_iovec_t *iovs,
                                            uint32_t iovs_len, uint32_t riflags,
                                            uint32_t *nread, uint16_t *roflags);
WE_IMPORT("sock_send") uint32_t we_sock_send(uint32_t fd, const __wasi_ciovec_t *iovs,
                                            uint32_t iovs_len, uint32_t siflags,
                                            uint32_t *nsent);
WE_IMPORT("sock_shutdown") uint32_t we_sock_shutdown(uint32_t fd, uint32_t how);
WE_IMPORT("sock_getsockopt") uint32_t we_sock_getsockopt(uint32_t fd, uint32_t level,
                                                        uint32_t name, int32_t *value,
                                                        uint32_t *len);
WE_IMPORT("sock_setsockopt") uint32_t we_sock_setsockopt(uint32_t fd, uint32_t level,
                                                        uint32_t name, const int32_t *value,
                                                        uint32_t len);
WE_IMPORT("sock_getlocaladdr") uint32_t we_sock_getlocaladdr(uint32_t fd, we_address_t *addr,
                                                            uint32_t *addr_type, uint32_t *port);
WE_IMPORT("sock_getpeeraddr") uint32_t we_sock_getpeeraddr(uint32_t fd, we_address_t *addr,
                                                          uint32_t *addr_type, uint32_t *port);
WE_IMPORT("sock_getaddrinfo") uint32_t we_sock_getaddrinfo(const char *node, uint32_t node_len,
                                                          const char *service,
                                                          uint32_t service_len,
                                                          const we_addrinfo_t *hints,
                                                          we_addrinfo_t **res, uint32_t max_res,
                                                          uint32_t *res_len);
WE_IMPORT("epoll_oneoff") uint32_t we_epoll_oneoff(const __wasi_subscription_t *in,
                                                  __wasi_event_t *out, uint32_t nsubscriptions,
                                                  uint32_t *nevents);

#endif
