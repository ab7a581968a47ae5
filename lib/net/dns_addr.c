/* Address text: IP literals (hosts that need no lookup), nameserver specs with
 * an optional port, and the "[addr]:port" form used in log messages. */
#include "net/resolver.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>

/* Longest text accepted for an IPv6 address with a scope name. */
#define LITERAL_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 2)

static int parse_v6(const char *text, size_t len, struct sockaddr_storage *out)
{
    char buf[LITERAL_MAX];
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, text, len);
    buf[len] = '\0';
    uint32_t scope = 0;
    char *pct = strchr(buf, '%');
    if (pct) {
        *pct++ = '\0';
        char *end;
        unsigned long v = strtoul(pct, &end, 10);
        /* if_nametoindex is an ioctl on a local socket: no network, no wait. */
        if (*pct && !*end && *pct >= '0' && *pct <= '9')
            scope = (uint32_t)v;
        else if (!*pct || !(scope = if_nametoindex(pct)))
            return 0;
    }
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET6, buf, &sin6.sin6_addr) != 1)
        return 0;
    sin6.sin6_family = AF_INET6;
    sin6.sin6_scope_id = scope;
    memset(out, 0, sizeof(*out));
    memcpy(out, &sin6, sizeof(sin6));
    return 1;
}

static int parse_v4(const char *text, size_t len, struct sockaddr_storage *out)
{
    char buf[INET_ADDRSTRLEN];
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, text, len);
    buf[len] = '\0';
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    /* inet_pton, unlike inet_aton, refuses "127.1" and octal forms, which
     * would otherwise make odd host names look like addresses. */
    if (inet_pton(AF_INET, buf, &sin.sin_addr) != 1)
        return 0;
    sin.sin_family = AF_INET;
    memset(out, 0, sizeof(*out));
    memcpy(out, &sin, sizeof(sin));
    return 1;
}

int canto__dns_ip_literal(const char *text, struct sockaddr_storage *out)
{
    if (!text)
        return 0;
    size_t len = strlen(text);
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']')
        return parse_v6(text + 1, len - 2, out);
    return parse_v4(text, len, out) || (memchr(text, ':', len) && parse_v6(text, len, out));
}

static int parse_port(const char *s, size_t len, uint16_t *port)
{
    unsigned long v = 0;
    if (len == 0 || len > 5)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return 0;
    *port = (uint16_t)v;
    return 1;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

int canto__dns_parse_nameserver(const char *text, size_t len, struct sockaddr_storage *out)
{
    uint16_t port = 53;
    int ok;
    if (!text || len == 0)
        return CANTO_EINVAL;
    if (text[0] == '[') {
        const char *close = memchr(text, ']', len);
        if (!close)
            return CANTO_EINVAL;
        size_t rest = len - (size_t)(close + 1 - text);
        if (rest && (close[1] != ':' || !parse_port(close + 2, rest - 1, &port)))
            return CANTO_EINVAL;
        ok = parse_v6(text + 1, (size_t)(close - text - 1), out);
    } else {
        const char *colon = memchr(text, ':', len);
        /* One colon: IPv4 with a port. More: a bare IPv6 address, whose port
         * can only be given in the bracketed form. */
        if (colon && !memchr(colon + 1, ':', len - (size_t)(colon + 1 - text))) {
            if (!parse_port(colon + 1, len - (size_t)(colon + 1 - text), &port))
                return CANTO_EINVAL;
            ok = parse_v4(text, (size_t)(colon - text), out);
        } else {
            ok = colon ? parse_v6(text, len, out) : parse_v4(text, len, out);
        }
    }
    if (!ok)
        return CANTO_EINVAL;
    set_port(out, port);
    return 0;
}

void canto__sockaddr_format(const struct sockaddr_storage *sa, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN + 16];
    uint16_t port;
    if (!cap)
        return;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        port = ntohs(sin->sin_port);
        if (port)
            snprintf(buf, cap, "%s:%u", host, (unsigned)port);
        else
            snprintf(buf, cap, "%s", host);
        return;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, INET6_ADDRSTRLEN);
        if (sin6->sin6_scope_id) {
            size_t l = strlen(host);
            snprintf(host + l, sizeof(host) - l, "%%%u", (unsigned)sin6->sin6_scope_id);
        }
        port = ntohs(sin6->sin6_port);
        if (port)
            snprintf(buf, cap, "[%s]:%u", host, (unsigned)port);
        else
            snprintf(buf, cap, "%s", host);
        return;
    }
    snprintf(buf, cap, "(address family %d)", (int)sa->ss_family);
}
