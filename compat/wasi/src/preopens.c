/*
 * Preopened folders that follow an inherited socket.
 *
 * wasi-libc registers preopened folders by walking descriptors from 3 and stops at the
 * first one that is not a preopen. Wasmtime's `-S tcplisten=ADDR` puts the listening
 * socket at 3, before the folders, so wasi-libc sees none of them and every path lookup
 * fails. Programs that serve on an inherited socket call this once at startup.
 */
#include <stdlib.h>
#include <wasi/api.h>

int __wasilibc_register_preopened_fd(int fd, const char *prefix);

int wlmake_register_preopens_after_sockets(void)
{
    int registered = 0;
    int seen_socket = 0;
    for (__wasi_fd_t fd = 3;; fd++) {
        __wasi_fdstat_t stat;
        if (__wasi_fd_fdstat_get(fd, &stat) != __WASI_ERRNO_SUCCESS) {
            break;
        }
        if (stat.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM
            || stat.fs_filetype == __WASI_FILETYPE_SOCKET_DGRAM) {
            seen_socket = 1;
            continue;
        }
        __wasi_prestat_t prestat;
        /* Folders before the first socket are registered by wasi-libc already. */
        if (!seen_socket || __wasi_fd_prestat_get(fd, &prestat) != __WASI_ERRNO_SUCCESS
            || prestat.tag != __WASI_PREOPENTYPE_DIR) {
            continue;
        }
        size_t length = prestat.u.dir.pr_name_len;
        char *name = malloc(length + 1);
        if (name == NULL) {
            break;
        }
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, length) == __WASI_ERRNO_SUCCESS) {
            name[length] = '\0';
            if (__wasilibc_register_preopened_fd(fd, name) == 0) {
                registered++;
            }
        }
        free(name);
    }
    return registered;
}
