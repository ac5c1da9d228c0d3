/*
 * Shadows wasi-libc's header of the same name: its struct sockaddr_un has no sun_path,
 * which POSIX code (unix-domain stream wrappers) fills in before calling connect(),
 * which fails with ENOSYS on WASI anyway. Same include guard, full POSIX layout.
 */
#ifndef __wasilibc___struct_sockaddr_un_h
#define __wasilibc___struct_sockaddr_un_h

#include <__typedef_sa_family_t.h>

struct sockaddr_un {
    sa_family_t sun_family;
    char sun_path[108];
};

#endif
