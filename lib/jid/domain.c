/* Domainpart checks and normalization: IP literals, LDH host names, and
 * internationalized names through GnuTLS's IDNA2008 mapping. */
#include "jid/jid_prep.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include <canto/error.h>

#include "base/utf8.h"

#define LABEL_MAX 63

static unsigned char ascii_lower(unsigned char c)
{
    return (unsigned char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/* Lower-case letters, digits and hyphen: the only characters left in a
 * normalized A-label domain. */
static int is_ldh_lower(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Labels of 1..63 LDH characters that neither start nor end with a hyphen.
 * Digits may start a label (RFC 1123), so "localhost", "1.example" and
 * "example.test" all pass. */
static int check_ldh(const char *s, size_t len)
{
    if (len == 0 || len > CANTO_JID_PART_MAX)
        return CANTO_EJID_DOMAIN;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            size_t n = i - start;
            if (n == 0 || n > LABEL_MAX || s[start] == '-' || s[i - 1] == '-')
                return CANTO_EJID_DOMAIN;
            start = i + 1;
        } else if (!is_ldh_lower((unsigned char)s[i])) {
            return CANTO_EJID_DOMAIN;
        }
    }
    return 0;
}

static int has_alabel(const char *s, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++) {
        if ((i == 0 || s[i - 1] == '.') && memcmp(s + i, "xn--", 4) == 0)
            return 1;
    }
    return 0;
}

static void set_both(canto__jid_domain *out, const char *s, size_t len)
{
    memcpy(out->uform, s, len);
    out->uform[len] = '\0';
    out->ulen = len;
    memcpy(out->aform, s, len);
    out->aform[len] = '\0';
    out->alen = len;
}

/* "[v6-address]": checked with inet_pton and kept as written, lowercased. */
static int prep_ipv6(const char *in, size_t len, canto__jid_domain *out)
{
    char addr[64];
    unsigned char bin[sizeof(struct in6_addr)];
    if (len < 3 || in[len - 1] != ']' || len - 2 >= sizeof(addr))
        return CANTO_EJID_DOMAIN;
    memcpy(addr, in + 1, len - 2);
    addr[len - 2] = '\0';
    if (inet_pton(AF_INET6, addr, bin) != 1)
        return CANTO_EJID_DOMAIN;
    char low[sizeof(addr) + 2];
    for (size_t i = 0; i < len; i++)
        low[i] = (char)ascii_lower((unsigned char)in[i]);
    set_both(out, low, len);
    return 0;
}

static int is_ipv4(const char *s, size_t len)
{
    char addr[INET_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in_addr)];
    if (len >= sizeof(addr))
        return 0;
    memcpy(addr, s, len);
    addr[len] = '\0';
    return inet_pton(AF_INET, addr, bin) == 1;
}

/* IDNA2008 ToASCII without the transitional fallback. 0 on success; the caller
 * frees out->data with gnutls_free(). */
static int idna_to_ascii(const char *s, size_t len, gnutls_datum_t *out)
{
    out->data = NULL;
    out->size = 0;
    if (len == 0 || gnutls_idna_map(s, (unsigned)len, out, GNUTLS_IDNA_FORCE_2008) < 0)
        return -1;
    return 0;
}

static int ascii_ok_in_uform(unsigned char c)
{
    return is_ldh_lower(c) || c == '.';
}

/* Compute out->uform from out->aform, which contains A-labels. Only canonical
 * A-labels are accepted: mapping the U-labels back must give the same string,
 * which also rejects labels that are not valid Punycode or not valid IDNA2008. */
static int to_unicode(canto__jid_domain *out)
{
    gnutls_datum_t u = {NULL, 0}, a = {NULL, 0};
    if (gnutls_idna_reverse_map(out->aform, (unsigned)out->alen, &u, 0) < 0)
        return CANTO_EJID_DOMAIN;
    int rc = CANTO_EJID_DOMAIN;
    const unsigned char *p = u.data;
    size_t n = u.size;
    if (n == 0 || n > CANTO_JID_PART_MAX)
        goto done;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k =
            p[i] < 0x80 ? (ascii_ok_in_uform(p[i]) ? 1 : 0) : canto__utf8_decode(p + i, n - i, &cp);
        if (k == 0)
            goto done;
        i += k;
    }
    if (idna_to_ascii((const char *)p, n, &a) != 0)
        goto done;
    if (a.size == out->alen && memcmp(a.data, out->aform, out->alen) == 0) {
        memcpy(out->uform, p, n);
        out->uform[n] = '\0';
        out->ulen = n;
        rc = 0;
    }
done:
    gnutls_free(a.data);
    gnutls_free(u.data);
    return rc;
}

/* libidn2 (behind gnutls_idna_map) silently drops characters that UTS #46
 * does not allow in host names, such as U+00A0 or the fullwidth '@', instead of
 * failing, so "a\uFF20b.example" would become "ab.example". Refuse a domain in
 * which removing some non-ASCII character does not change the result. The input
 * is at most CANTO_JID_PART_MAX bytes. */
static int check_nothing_dropped(const char *s, size_t len, const canto__jid_domain *d)
{
    char buf[CANTO_JID_PART_MAX];
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = canto__utf8_decode(p + i, len - i, &cp);
        if (n == 0)
            return CANTO_EUTF8;
        memcpy(buf, s, i);
        memcpy(buf + i, s + i + n, len - i - n);
        gnutls_datum_t a;
        int same = 0;
        if (idna_to_ascii(buf, len - n, &a) == 0) {
            same = a.size == d->alen && memcmp(a.data, d->aform, d->alen) == 0;
            gnutls_free(a.data);
        }
        if (same)
            return CANTO_EJID_DOMAIN;
        i += n;
    }
    return 0;
}

int canto__jid_prep_domain(const char *in, size_t len, canto__jid_domain *out)
{
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0 || len > CANTO_JID_PART_MAX)
        return CANTO_EJID_DOMAIN;
    if (in[0] == '[')
        return prep_ipv6(in, len, out);

    /* ASCII lowercased; every ASCII character must be a letter, digit, hyphen
     * or dot, whether or not the name is internationalized. */
    char low[CANTO_JID_PART_MAX + 1];
    const unsigned char *p = (const unsigned char *)in;
    int ascii = 1;
    for (size_t i = 0; i < len;) {
        unsigned char c = ascii_lower(p[i]);
        if (c < 0x80) {
            if (!is_ldh_lower(c) && c != '.')
                return CANTO_EJID_DOMAIN;
            low[i++] = (char)c;
            continue;
        }
        uint32_t cp;
        size_t n = canto__utf8_decode(p + i, len - i, &cp);
        if (n == 0)
            return CANTO_EUTF8;
        memcpy(low + i, p + i, n);
        i += n;
        ascii = 0;
    }
    low[len] = '\0';

    int rc;
    if (ascii) {
        if (is_ipv4(low, len)) {
            set_both(out, low, len);
            return 0;
        }
        if ((rc = check_ldh(low, len)) != 0)
            return rc;
        memcpy(out->aform, low, len + 1);
        out->alen = len;
    } else {
        gnutls_datum_t a;
        if (idna_to_ascii(low, len, &a) != 0)
            return CANTO_EJID_DOMAIN;
        rc = check_ldh((const char *)a.data, a.size);
        if (rc == 0) {
            memcpy(out->aform, a.data, a.size);
            out->aform[a.size] = '\0';
            out->alen = a.size;
        }
        gnutls_free(a.data);
        if (rc != 0)
            return rc;
    }

    if (has_alabel(out->aform, out->alen)) {
        if ((rc = to_unicode(out)) != 0)
            return rc;
    } else {
        memcpy(out->uform, out->aform, out->alen + 1);
        out->ulen = out->alen;
    }

    /* Input already in normalized U-label form cannot have lost anything. */
    if (!ascii && (out->ulen != len || memcmp(out->uform, low, len) != 0))
        return check_nothing_dropped(low, len, out);
    return 0;
}
