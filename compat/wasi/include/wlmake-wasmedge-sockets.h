/*
 * wlmake's BSD socket layer for WasmEdge, force-included (-include) after
 * wlmake-wasi-compat.h in builds for the `wasmedge` runtime only.
 *
 * WASI preview1 cannot open, bind, listen or connect; WasmEdge adds its own
 * socket calls to `wasi_snapshot_preview1` (sock_open, sock_bind, ...).
 * libwlmake-wasmedge-sockets.a implements the POSIX functions on top of them
 * (src/socket.c, src/netdb.c). wasi-libc leaves out the socket options its own
 * runtime model has no use for; this header gives them their Linux values.
 */
#ifndef WLMAKE_WASMEDGE_SOCKETS_H
#define WLMAKE_WASMEDGE_SOCKETS_H

#ifdef __wasi__

#include <sys/socket.h>

#ifndef SO_REUSEADDR
#define SO_REUSEADDR 2
#endif
#ifndef SO_DONTROUTE
#define SO_DONTROUTE 5
#endif
#ifndef SO_BROADCAST
#define SO_BROADCAST 6
#endif
#ifndef SO_SNDBUF
#define SO_SNDBUF 7
#endif
#ifndef SO_RCVBUF
#define SO_RCVBUF 8
#endif
#ifndef SO_KEEPALIVE
#define SO_KEEPALIVE 9
#endif
#ifndef SO_OOBINLINE
#define SO_OOBINLINE 10
#endif
#ifndef SO_LINGER
#define SO_LINGER 13
#endif
#ifndef SO_RCVLOWAT
#define SO_RCVLOWAT 18
#endif
#ifndef SO_ACCEPTCONN
#define SO_ACCEPTCONN 30
#endif
#ifndef MSG_NOSIGNAL
/* No signals under WASI: asking not to get SIGPIPE changes nothing. */
#define MSG_NOSIGNAL 0
#endif

#endif /* __wasi__ */
#endif /* WLMAKE_WASMEDGE_SOCKETS_H */
