/* resolv.conf: only the nameserver lines matter to us. Search lists and ndots
 * are ignored on purpose: XMPP domains are always fully qualified, and trying
 * suffixes would send users' domains to the wrong zones. */
#include "net/resolver.h"

#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

size_t canto__resolv_conf_parse(const char *text, size_t len, struct sockaddr_storage *out,
                                size_t cap)
{
    static const char keyword[] = "nameserver";
    const size_t klen = sizeof(keyword) - 1;
    size_t n = 0;
    const char *p = text, *end = text + len;
    while (p < end && n < cap) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *s = p;
        p = eol < end ? eol + 1 : end;
        while (s < eol && is_space(*s))
            s++;
        if ((size_t)(eol - s) <= klen || memcmp(s, keyword, klen) != 0 || !is_space(s[klen]))
            continue;
        s += klen;
        while (s < eol && is_space(*s))
            s++;
        const char *e = s;
        while (e < eol && !is_space(*e) && *e != '#' && *e != ';')
            e++;
        /* A bad address skips its line only, as the C library does. */
        if (e > s && canto__dns_parse_nameserver(s, (size_t)(e - s), &out[n]) == 0)
            n++;
    }
    return n;
}
