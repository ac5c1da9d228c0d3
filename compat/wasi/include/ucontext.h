/*
 * ucontext.h for WASI (wlmake compat). WebAssembly has no stack switching in WASI
 * preview1, so user contexts cannot work. The type and declarations let programs that
 * pick ucontext at configure time compile; getcontext() and swapcontext() fail with
 * ENOSYS. Programs should fail before switching (PHP's fibers do: their stack's guard
 * page needs mprotect(), which fails too, so `new Fiber` throws a catchable error).
 */
#ifndef WLMAKE_UCONTEXT_H
#define WLMAKE_UCONTEXT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wlmake_context_stack {
    void *ss_sp;
    int ss_flags;
    size_t ss_size;
} wlmake_context_stack;

typedef struct ucontext_t {
    struct ucontext_t *uc_link;
    wlmake_context_stack uc_stack;
} ucontext_t;

int getcontext(ucontext_t *context);
void makecontext(ucontext_t *context, void (*function)(void), int argc, ...);
int swapcontext(ucontext_t *from, const ucontext_t *to);
int setcontext(const ucontext_t *context);

#ifdef __cplusplus
}
#endif

#endif
