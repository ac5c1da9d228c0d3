/*
 * Exit-status clamp. Wasmtime refuses proc_exit codes of 126 and above (it prints a
 * backtrace and exits 1), while C programs commonly exit 255 on fatal errors. Programs
 * linked with -Wl,--wrap=__wasi_proc_exit get their status mapped: 0-125 unchanged,
 * anything else becomes 125.
 */
#include <wasi/api.h>

void __real___wasi_proc_exit(__wasi_exitcode_t code) __attribute__((noreturn));

void __wrap___wasi_proc_exit(__wasi_exitcode_t code)
{
    __real___wasi_proc_exit(code > 125 ? 125 : code);
}
