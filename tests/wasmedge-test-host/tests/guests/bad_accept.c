/* Imports sock_accept with a type WasmEdge does not accept: the host must refuse to load it. */
#include <stdint.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_accept")))
uint32_t sock_accept_one_parameter(uint32_t fd);

int main(void) { return (int)sock_accept_one_parameter(3); }
