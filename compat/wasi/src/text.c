/*
 * Real implementations of small libc functions wasi-libc leaves out: the IPv4 text
 * conversions and mktemp().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

in_addr_t inet_addr(const char *text)
{
    struct in_addr address;
    return inet_aton(text, &address) ? address.s_addr : (in_addr_t)-1;
}

char *inet_ntoa(struct in_addr address)
{
    static char buffer[16];
    const unsigned char *bytes = (const unsigned char *)&address.s_addr;
    snprintf(buffer, sizeof buffer, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
    return buffer;
}

char *mktemp(char *name_template)
{
    static const char letters[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t length = strlen(name_template);
    if (length < 6 || strcmp(name_template + length - 6, "XXXXXX") != 0) {
        errno = EINVAL;
        name_template[0] = '\0';
        return name_template;
    }
    unsigned char noise[6];
    arc4random_buf(noise, sizeof noise);
    for (size_t i = 0; i < 6; i++) {
        name_template[length - 6 + i] = letters[noise[i] % (sizeof letters - 1)];
    }
    return name_template;
}
