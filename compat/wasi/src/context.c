/*
 * No stack switching on WASI: user contexts and page protection fail with ENOSYS
 * (see include/ucontext.h).
 */
#include <errno.h>
#include <stddef.h>
#include <ucontext.h>

int getcontext(ucontext_t *context) { (void)context; errno = ENOSYS; return -1; }
void makecontext(ucontext_t *context, void (*function)(void), int argc, ...) { (void)context; (void)function; (void)argc; }
int swapcontext(ucontext_t *from, const ucontext_t *to) { (void)from; (void)to; errno = ENOSYS; return -1; }
int setcontext(const ucontext_t *context) { (void)context; errno = ENOSYS; return -1; }

/* wasi-libc's mman emulation declares mprotect() but does not define it. */
int mprotect(void *address, size_t length, int protection);
int mprotect(void *address, size_t length, int protection)
{
    (void)address; (void)length; (void)protection;
    errno = ENOSYS;
    return -1;
}
