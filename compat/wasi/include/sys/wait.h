/* sys/wait.h for WASI (wlmake compat): there are no child processes to wait for. */
#ifndef WLMAKE_SYS_WAIT_H
#define WLMAKE_SYS_WAIT_H

#include <sys/types.h>

#define WNOHANG    1
#define WUNTRACED  2

/* The traditional status layout: exit code in bits 8-15, signal in bits 0-6,
 * 0x7f in the low byte for a stopped child. Nothing produces one on WASI. */
#define WEXITSTATUS(s) (((s) >> 8) & 0xff)
#define WTERMSIG(s)    ((s) & 0x7f)
#define WSTOPSIG(s)    WEXITSTATUS(s)
#define WIFEXITED(s)   (WTERMSIG(s) == 0)
#define WIFSTOPPED(s)  (((s) & 0xff) == 0x7f)
#define WIFSIGNALED(s) (WTERMSIG(s) != 0 && !WIFSTOPPED(s))

#ifdef __cplusplus
extern "C" {
#endif

pid_t wait(int *status);
pid_t waitpid(pid_t pid, int *status, int options);

#ifdef __cplusplus
}
#endif

#endif
