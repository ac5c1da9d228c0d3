/*
 * Directory listings that survive a neighbour deleting files. Wasmtime's fd_readdir
 * looks up every entry it lists; when another process removes an entry between the
 * listing and the lookup, the whole call fails with ENOENT, so opendir() and readdir()
 * fail on a directory that exists. Measured on Wasmtime 49: 571 of 3,000 opendir()
 * calls failed while a host loop created and removed files in the folder; PHP's
 * upstream tests hit it when two tests share a folder. Listing again no longer sees
 * the removed entry, so programs linked with -Wl,--wrap=__wasi_fd_readdir retry a
 * bounded number of times before they report the error.
 */
#include <wasi/api.h>

/* Each retry lists the folder again; a real ENOENT still comes back after these. */
#define READDIR_ATTEMPTS 64

__wasi_errno_t __real___wasi_fd_readdir(__wasi_fd_t fd, uint8_t *buf, __wasi_size_t buf_len,
                                        __wasi_dircookie_t cookie, __wasi_size_t *used);

__wasi_errno_t __wrap___wasi_fd_readdir(__wasi_fd_t fd, uint8_t *buf, __wasi_size_t buf_len,
                                        __wasi_dircookie_t cookie, __wasi_size_t *used)
{
    __wasi_errno_t error = __WASI_ERRNO_NOENT;
    for (int attempt = 0; attempt < READDIR_ATTEMPTS && error == __WASI_ERRNO_NOENT; attempt++)
        error = __real___wasi_fd_readdir(fd, buf, buf_len, cookie, used);
    return error;
}
