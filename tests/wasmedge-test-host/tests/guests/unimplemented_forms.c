/* Imports forms of WasmEdge's calls that the host does not implement: the module loads and
 * the calls answer NOSYS (52). */
#include <stdint.h>
#include <stdio.h>

#define WE_IMPORT(name) \
    __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))

WE_IMPORT("sock_getlocaladdr") uint32_t getlocaladdr_v2_form(uint32_t fd, void *addr, uint32_t *port);
WE_IMPORT("sock_recv_from") uint32_t recv_from(uint32_t fd, void *iovs, uint32_t iovs_len, void *addr,
                                              uint32_t riflags, uint32_t *nread, uint32_t *roflags);

int main(void) {
    uint32_t port, nread, roflags;
    printf("getlocaladdr(3 params) errno %u\n", getlocaladdr_v2_form(3, 0, &port));
    printf("sock_recv_from errno %u\n", recv_from(3, 0, 0, 0, 0, &nread, &roflags));
    return 0;
}
