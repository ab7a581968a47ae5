/* The hosts file: "address name [aliases...]" per line, '#' comments. Looked up
 * for A/AAAA only, before any query goes out, as the C library would with the
 * usual "files dns" order (we do not read nsswitch.conf). */
#include "net/resolver.h"

#include <netinet/in.h>
#include <string.h>

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    size_t len = a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    return memcmp(a, b, len) == 0;
}

/* Is @p name among the blank-separated names in [s, e)? */
static int line_has_name(const char *s, const char *e, const char *name)
{
    char word[CANTO__DNS_NAME_MAX];
    while (s < e) {
        while (s < e && is_blank(*s))
            s++;
        const char *w = s;
        while (s < e && !is_blank(*s))
            s++;
        size_t wl = (size_t)(s - w);
        if (wl == 0 || wl >= sizeof(word))
            continue;
        memcpy(word, w, wl);
        word[wl] = '\0';
        if (canto__dns_name_eq(word, name))
            return 1;
    }
    return 0;
}

size_t canto__hosts_lookup(const char *text, size_t len, const char *name, int want_v4, int want_v6,
                           struct sockaddr_storage *out, size_t cap)
{
    size_t n = 0;
    const char *p = text, *end = text + len;
    while (p < end && n < cap) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *s = p;
        p = eol < end ? eol + 1 : end;
        const char *hash = memchr(s, '#', (size_t)(eol - s));
        const char *e = hash ? hash : eol;
        while (s < e && is_blank(*s))
            s++;
        const char *a = s;
        while (s < e && !is_blank(*s))
            s++;
        char addr[64];
        size_t al = (size_t)(s - a);
        if (al == 0 || al >= sizeof(addr) || !line_has_name(s, e, name))
            continue;
        memcpy(addr, a, al);
        addr[al] = '\0';
        struct sockaddr_storage ss;
        if (!canto__dns_ip_literal(addr, &ss))
            continue;
        if ((ss.ss_family == AF_INET && !want_v4) || (ss.ss_family == AF_INET6 && !want_v6))
            continue;
        /* "127.0.0.1 localhost" listed twice would mean two identical
         * connection attempts. */
        int dup = 0;
        for (size_t i = 0; i < n && !dup; i++)
            dup = same_addr(&out[i], &ss);
        if (!dup)
            out[n++] = ss;
    }
    return n;
}
