/*
 * wlmake's WASI compat header, force-included (-include) in every compilation unit.
 *
 * wasi-libc hides POSIX functions that WASI preview1 cannot implement (processes,
 * users, permissions, BSD sockets beyond accept/recv/send). Programs written for POSIX
 * still call them on paths that never run under WASI; this header declares them so the
 * code compiles, and libwlmake-compat.a defines them as stubs that fail with ENOSYS.
 *
 * Configure scripts see these declarations but not the library (it is linked at make
 * time only), so feature probes (HAVE_CHMOD, ...) stay false and programs take their
 * portable paths where they have one.
 */
#ifndef WLMAKE_WASI_COMPAT_H
#define WLMAKE_WASI_COMPAT_H

#ifdef __wasi__

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <signal.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

/* sys/stat.h */
int chmod(const char *path, mode_t mode);
int fchmod(int fd, mode_t mode);
mode_t umask(mode_t mask);

/* unistd.h: users, groups, processes, descriptors */
int chown(const char *path, uid_t owner, gid_t group);
int fchown(int fd, uid_t owner, gid_t group);
int lchown(const char *path, uid_t owner, gid_t group);
uid_t getuid(void);
uid_t geteuid(void);
gid_t getgid(void);
gid_t getegid(void);
int getgroups(int size, gid_t list[]);
int setuid(uid_t uid);
int setgid(gid_t gid);
pid_t getppid(void);
pid_t getpgrp(void);
pid_t setsid(void);
int setpgid(pid_t pid, pid_t pgid);
char *ttyname(int fd);
pid_t fork(void);
int dup(int fd);
int dup2(int fd, int target);
int getdtablesize(void);
int pipe(int fds[2]);
unsigned int alarm(unsigned int seconds);
int kill(pid_t pid, int sig);

/* stdlib.h: wasi-libc has no mktemp; ours is real (random letters, unchecked) */
char *mktemp(char *name_template);

/* arpa/inet.h: the IPv4 text conversions wasi-libc hides; ours are real */
in_addr_t inet_addr(const char *text);
char *inet_ntoa(struct in_addr address);

/* Registers preopened folders that follow an inherited socket (src/preopens.c);
 * returns how many. */
int wlmake_register_preopens_after_sockets(void);

/* stdio.h: no processes, so no pipes to them */
FILE *popen(const char *command, const char *mode);
int pclose(FILE *stream);

/* stdio.h: wasi-libc leaves P_tmpdir out (WASI has no standard temporary folder).
 * "/tmp" works wherever the runtime preopens one; without it, programs fall back to
 * an empty path (PHP: sys_get_temp_dir() == "", tempnam() and tmpfile() always fail). */
#ifndef P_tmpdir
#define P_tmpdir "/tmp"
#endif

/* sys/socket.h: preview1 cannot open, bind, listen or connect */
int socket(int domain, int type, int protocol);
int socketpair(int domain, int type, int protocol, int fds[2]);
int bind(int fd, const struct sockaddr *address, socklen_t length);
int connect(int fd, const struct sockaddr *address, socklen_t length);
int listen(int fd, int backlog);
int getsockname(int fd, struct sockaddr *address, socklen_t *length);
int getpeername(int fd, struct sockaddr *address, socklen_t *length);
ssize_t sendto(int fd, const void *buffer, size_t length, int flags,
               const struct sockaddr *address, socklen_t address_length);
ssize_t recvfrom(int fd, void *buffer, size_t length, int flags,
                 struct sockaddr *address, socklen_t *address_length);
int getsockopt(int fd, int level, int name, void *value, socklen_t *length);
int setsockopt(int fd, int level, int name, const void *value, socklen_t length);

#ifndef SOMAXCONN
#define SOMAXCONN 128
#endif
#ifndef PF_UNIX
#define PF_UNIX AF_UNIX
#endif
#ifndef PF_INET
#define PF_INET AF_INET
#endif
#ifndef PF_INET6
#define PF_INET6 AF_INET6
#endif
#ifndef SOL_IP
#define SOL_IP 0 /* IPPROTO_IP */
#endif
#ifndef SO_ERROR
#define SO_ERROR 4
#endif
#ifndef MSG_OOB
#define MSG_OOB 0x0001
#endif
#ifndef MSG_DONTWAIT
#define MSG_DONTWAIT 0x0040
#endif
#ifndef POLLPRI
/* No out-of-band data on WASI: asking for it must not change a poll. */
#define POLLPRI 0
#endif

/* signal.h: _WASI_EMULATED_SIGNAL gives signal() and raise(), not sigaction() */
struct sigaction {
    void (*sa_handler)(int);
    sigset_t sa_mask;
    int sa_flags;
};
int sigaction(int sig, const struct sigaction *action, struct sigaction *old);
int sigemptyset(sigset_t *set);
int sigaddset(sigset_t *set, int sig);
int sigprocmask(int how, const sigset_t *set, sigset_t *old);
#ifndef SIG_BLOCK
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#endif

#ifdef __cplusplus
}
#endif

#endif /* __wasi__ */
#endif /* WLMAKE_WASI_COMPAT_H */
