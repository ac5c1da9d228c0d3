/*
 * ENOSYS stubs for the POSIX functions wasi-libc hides (see wlmake-wasi-compat.h).
 * Each fails the way POSIX lets it fail, so callers take their error paths.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <netdb.h>
#include <pwd.h>
#include <grp.h>
#include <syslog.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#define FAIL(value) do { errno = ENOSYS; return (value); } while (0)
/* Socket and resolver stubs give way to the real functions of
 * libwlmake-wasmedge-sockets.a in builds for WasmEdge (linked before this library). */
#define WEAK __attribute__((weak))

/* WASI has no permission bits: changing a file's mode is accepted and changes nothing,
 * as on a file system without modes. The file must exist (ENOENT, EBADF otherwise), so
 * programs that set modes after writing (archive extraction, uploads) go on. */
int chmod(const char *path, mode_t mode) { struct stat st; (void)mode; return stat(path, &st); }
int fchmod(int fd, mode_t mode) { struct stat st; (void)mode; return fstat(fd, &st); }
/* Files get the runtime's default permissions: report the conventional mask. */
mode_t umask(mode_t mask) { (void)mask; return 022; }

int chown(const char *path, uid_t owner, gid_t group) { (void)path; (void)owner; (void)group; FAIL(-1); }
int fchown(int fd, uid_t owner, gid_t group) { (void)fd; (void)owner; (void)group; FAIL(-1); }
int lchown(const char *path, uid_t owner, gid_t group) { (void)path; (void)owner; (void)group; FAIL(-1); }

/* A WASI program runs as nobody in particular: user and group 0, no supplementary groups. */
uid_t getuid(void) { return 0; }
uid_t geteuid(void) { return 0; }
gid_t getgid(void) { return 0; }
gid_t getegid(void) { return 0; }
int getgroups(int size, gid_t list[]) { (void)size; (void)list; return 0; }
int setuid(uid_t uid) { (void)uid; FAIL(-1); }
int setgid(gid_t gid) { (void)gid; FAIL(-1); }
pid_t getppid(void) { return 1; }
pid_t getpgrp(void) { return 1; }
pid_t setsid(void) { FAIL(-1); }
int setpgid(pid_t pid, pid_t pgid) { (void)pid; (void)pgid; FAIL(-1); }
/* No terminal names under WASI (ext/posix calls it without a configure check). */
char *ttyname(int fd) { (void)fd; FAIL(NULL); }
pid_t fork(void) { FAIL(-1); }
int dup(int fd) { (void)fd; FAIL(-1); }
int dup2(int fd, int target) { (void)fd; (void)target; FAIL(-1); }
/* Descriptors are not small integers under every runtime: claim the usual table size. */
int getdtablesize(void) { return 1024; }
int pipe(int fds[2]) { (void)fds; FAIL(-1); }
unsigned int alarm(unsigned int seconds) { (void)seconds; return 0; }
int kill(pid_t pid, int sig) { (void)pid; (void)sig; FAIL(-1); }
pid_t wait(int *status) { (void)status; errno = ECHILD; return -1; }
pid_t waitpid(pid_t pid, int *status, int options) { (void)pid; (void)status; (void)options; errno = ECHILD; return -1; }

FILE *popen(const char *command, const char *mode) { (void)command; (void)mode; FAIL(NULL); }
/* wasi-libc declares tmpfile() and defines none (no temporary folder is known to it):
 * callers take their fallback (libgd writes BMP uncompressed). */
FILE *tmpfile(void) { FAIL(NULL); }
int pclose(FILE *stream) { (void)stream; FAIL(-1); }

WEAK int socket(int domain, int type, int protocol) { (void)domain; (void)type; (void)protocol; FAIL(-1); }
int socketpair(int domain, int type, int protocol, int fds[2]) { (void)domain; (void)type; (void)protocol; (void)fds; FAIL(-1); }
WEAK int bind(int fd, const struct sockaddr *address, socklen_t length) { (void)fd; (void)address; (void)length; FAIL(-1); }
WEAK int connect(int fd, const struct sockaddr *address, socklen_t length) { (void)fd; (void)address; (void)length; FAIL(-1); }
WEAK int listen(int fd, int backlog) { (void)fd; (void)backlog; FAIL(-1); }
WEAK int getsockname(int fd, struct sockaddr *address, socklen_t *length) { (void)fd; (void)address; (void)length; FAIL(-1); }
WEAK int getpeername(int fd, struct sockaddr *address, socklen_t *length) { (void)fd; (void)address; (void)length; FAIL(-1); }
WEAK ssize_t sendto(int fd, const void *buffer, size_t length, int flags, const struct sockaddr *address, socklen_t address_length)
{ (void)fd; (void)buffer; (void)length; (void)flags; (void)address; (void)address_length; FAIL(-1); }
WEAK ssize_t recvfrom(int fd, void *buffer, size_t length, int flags, struct sockaddr *address, socklen_t *address_length)
{ (void)fd; (void)buffer; (void)length; (void)flags; (void)address; (void)address_length; FAIL(-1); }
WEAK int getsockopt(int fd, int level, int name, void *value, socklen_t *length) { (void)fd; (void)level; (void)name; (void)value; (void)length; FAIL(-1); }
WEAK int setsockopt(int fd, int level, int name, const void *value, socklen_t length) { (void)fd; (void)level; (void)name; (void)value; (void)length; FAIL(-1); }

int sigaction(int sig, const struct sigaction *action, struct sigaction *old)
{
    (void)sig; (void)action;
    if (old) memset(old, 0, sizeof *old);
    return 0;
}
int sigemptyset(sigset_t *set) { memset(set, 0, sizeof *set); return 0; }
int sigaddset(sigset_t *set, int sig) { (void)set; (void)sig; return 0; }
int sigprocmask(int how, const sigset_t *set, sigset_t *old) { (void)how; (void)set; if (old) memset(old, 0, sizeof *old); return 0; }

int h_errno;
struct hostent *gethostbyname(const char *name) { (void)name; h_errno = HOST_NOT_FOUND; return NULL; }
struct hostent *gethostbyaddr(const void *address, socklen_t length, int type) { (void)address; (void)length; (void)type; h_errno = HOST_NOT_FOUND; return NULL; }
struct servent *getservbyname(const char *name, const char *proto) { (void)name; (void)proto; return NULL; }
struct servent *getservbyport(int port, const char *proto) { (void)port; (void)proto; return NULL; }
struct protoent *getprotobyname(const char *name) { (void)name; return NULL; }
struct protoent *getprotobynumber(int proto) { (void)proto; return NULL; }
WEAK int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **result)
{ (void)node; (void)service; (void)hints; if (result) *result = NULL; return EAI_FAIL; }
WEAK void freeaddrinfo(struct addrinfo *list) { (void)list; }
WEAK const char *gai_strerror(int code) { (void)code; return "name resolution is not available on WASI"; }
WEAK int getnameinfo(const struct sockaddr *address, socklen_t length, char *host, socklen_t host_length, char *service, socklen_t service_length, int flags)
{ (void)address; (void)length; (void)host; (void)host_length; (void)service; (void)service_length; (void)flags; return EAI_FAIL; }
const char *hstrerror(int code) { (void)code; return "name resolution is not available on WASI"; }

struct passwd *getpwnam(const char *name) { (void)name; return NULL; }
struct passwd *getpwuid(uid_t uid) { (void)uid; return NULL; }
int getpwnam_r(const char *name, struct passwd *entry, char *buffer, size_t size, struct passwd **result)
{ (void)name; (void)entry; (void)buffer; (void)size; *result = NULL; return 0; }
int getpwuid_r(uid_t uid, struct passwd *entry, char *buffer, size_t size, struct passwd **result)
{ (void)uid; (void)entry; (void)buffer; (void)size; *result = NULL; return 0; }
struct group *getgrnam(const char *name) { (void)name; return NULL; }
struct group *getgrgid(gid_t gid) { (void)gid; return NULL; }
int getgrnam_r(const char *name, struct group *entry, char *buffer, size_t size, struct group **result)
{ (void)name; (void)entry; (void)buffer; (void)size; *result = NULL; return 0; }
int getgrgid_r(gid_t gid, struct group *entry, char *buffer, size_t size, struct group **result)
{ (void)gid; (void)entry; (void)buffer; (void)size; *result = NULL; return 0; }

void openlog(const char *ident, int option, int facility) { (void)ident; (void)option; (void)facility; }
void closelog(void) {}
void syslog(int priority, const char *format, ...)
{
    va_list args;
    (void)priority;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
}

/*
 * The starting folder. WASI has no current directory of its own: wasi-libc starts every
 * program in `/`. A runner that preopens the host's current folder at the same path
 * (wlmake's test-suite wrappers) names it in WLMAKE_GUEST_CWD, and the program starts
 * there, as it would natively; relative paths and `.` (open_basedir=.) then mean that
 * folder. When the folder is not preopened, chdir fails and the program stays in `/`.
 * Lowest priority: runs after wasi-libc's own constructors. It lives here because every
 * port links this object (the stubs), so the constructor is always part of the program.
 */
__attribute__((constructor(65535))) static void wlmake_start_in_guest_cwd(void)
{
    const char *dir = getenv("WLMAKE_GUEST_CWD");
    if (dir != NULL && dir[0] == '/') {
        (void)chdir(dir);
    }
}
