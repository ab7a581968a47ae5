/* Does a certificate name our XMPP domain? (RFC 6120 §13.7.2.1, RFC 9525)
 *
 * Accepted subjectAltName entries, compared with the reference domain only:
 *   - dNSName (DNS-ID), with a wildcard only as the whole left-most label;
 *   - otherName id-on-dnsSRV (SRV-ID) "_xmpp-client.DOMAIN" or
 *     "_xmpps-client.DOMAIN" (XEP-0368);
 *   - otherName id-on-xmppAddr equal to the bare domain, which RFC 6120
 *     still allows and some private CAs issue;
 *   - iPAddress, when the domain is an IP literal.
 * The subject CN is never consulted, and a certificate without a
 * subjectAltName names nothing. */
#include <arpa/inet.h>
#include <string.h>

#include <gnutls/x509-ext.h>

#include "net/tls_impl.h"

#define OID_SRV "1.3.6.1.5.5.7.8.7"
#define OID_XMPP "1.3.6.1.5.5.7.8.5"

/* DER tags of the otherName values. */
#define TAG_UTF8STRING 0x0c
#define TAG_IA5STRING 0x16

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Length without one trailing dot (a fully qualified spelling). */
static size_t trim_dot(const char *s, size_t len)
{
    return len > 1 && s[len - 1] == '.' ? len - 1 : len;
}

/* Equal ignoring ASCII case; each length already trimmed. */
static int names_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen || alen == 0)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

/* A presented name must be printable ASCII: an embedded NUL or a U-label
 * must never match by accident. */
static int printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

int canto__tls_dns_id_match(const char *ref, const char *presented, size_t plen)
{
    if (!ref || !presented || !printable(presented, plen))
        return 0;
    size_t rlen = trim_dot(ref, strlen(ref));
    plen = trim_dot(presented, plen);
    if (plen >= 2 && presented[0] == '*' && presented[1] == '.') {
        const char *rest = presented + 2;
        size_t rest_len = plen - 2;
        /* At least two labels after the wildcard ("*.com" names nothing),
         * and no second wildcard. */
        if (!memchr(rest, '.', rest_len) || memchr(rest, '*', rest_len))
            return 0;
        const char *dot = memchr(ref, '.', rlen);
        if (!dot || dot == ref) /* the wildcard stands for one non-empty label */
            return 0;
        return names_equal(dot + 1, rlen - (size_t)(dot + 1 - ref), rest, rest_len);
    }
    if (memchr(presented, '*', plen)) /* "f*o.example", "*", "a.*.example" */
        return 0;
    return names_equal(ref, rlen, presented, plen);
}

int canto__tls_srv_id_match(const char *ref, const char *presented, size_t plen)
{
    static const char *const services[] = {"_xmpp-client.", "_xmpps-client."};
    if (!ref || !presented || !printable(presented, plen))
        return 0;
    size_t rlen = trim_dot(ref, strlen(ref));
    plen = trim_dot(presented, plen);
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        size_t slen = strlen(services[i]);
        if (plen > slen && names_equal(presented, slen, services[i], slen) &&
            names_equal(presented + slen, plen - slen, ref, rlen))
            return 1;
    }
    return 0;
}

/* Unwrap a DER string value of @p tag: *out and *out_len get its content.
 * @return 1 if @p der is exactly one such element. */
static int der_string(const gnutls_datum_t *der, unsigned char tag, const char **out,
                      size_t *out_len)
{
    const unsigned char *d = der->data;
    size_t n = der->size;
    if (n < 2 || d[0] != tag)
        return 0;
    size_t len, hdr;
    if (d[1] < 0x80) {
        len = d[1];
        hdr = 2;
    } else if (d[1] == 0x81 && n >= 3) {
        len = d[2];
        hdr = 3;
    } else if (d[1] == 0x82 && n >= 4) {
        len = ((size_t)d[2] << 8) | d[3];
        hdr = 4;
    } else {
        return 0; /* longer than any name */
    }
    if (hdr + len != n)
        return 0;
    *out = (const char *)d + hdr;
    *out_len = len;
    return 1;
}

static int oid_is(const gnutls_datum_t *oid, const char *want)
{
    size_t n = oid->size;
    if (n && oid->data[n - 1] == '\0') /* some versions count the NUL */
        n--;
    return n == strlen(want) && memcmp(oid->data, want, n) == 0;
}

static int othername_matches(const gnutls_datum_t *oid, const gnutls_datum_t *value,
                             const char *domain)
{
    const char *s;
    size_t len;
    if (oid_is(oid, OID_SRV) && der_string(value, TAG_IA5STRING, &s, &len))
        return canto__tls_srv_id_match(domain, s, len);
    if (oid_is(oid, OID_XMPP) && der_string(value, TAG_UTF8STRING, &s, &len) && printable(s, len)) {
        size_t dlen = trim_dot(domain, strlen(domain));
        return names_equal(s, trim_dot(s, len), domain, dlen);
    }
    return 0;
}

/* @p domain as address bytes if it is an IP literal ("[v6]" allowed).
 * @return the address length (4 or 16), or 0. */
static size_t ip_literal(const char *domain, unsigned char addr[16])
{
    char buf[64];
    size_t len = strlen(domain);
    if (len >= 2 && domain[0] == '[' && domain[len - 1] == ']' && len - 2 < sizeof(buf)) {
        memcpy(buf, domain + 1, len - 2);
        buf[len - 2] = '\0';
        return inet_pton(AF_INET6, buf, addr) == 1 ? 16 : 0;
    }
    if (inet_pton(AF_INET, domain, addr) == 1)
        return 4;
    if (inet_pton(AF_INET6, domain, addr) == 1)
        return 16;
    return 0;
}

static int san_matches(unsigned type, const gnutls_datum_t *san, const gnutls_datum_t *oid,
                       const char *domain, const unsigned char *ip, size_t ip_len)
{
    switch (type) {
    case GNUTLS_SAN_DNSNAME:
        return !ip_len && canto__tls_dns_id_match(domain, (const char *)san->data, san->size);
    case GNUTLS_SAN_OTHERNAME:
        return !ip_len && othername_matches(oid, san, domain);
    case GNUTLS_SAN_OTHERNAME_XMPP: /* if GnuTLS already decoded it */
        return !ip_len && printable((const char *)san->data, san->size) &&
               names_equal((const char *)san->data, trim_dot((const char *)san->data, san->size),
                           domain, trim_dot(domain, strlen(domain)));
    case GNUTLS_SAN_IPADDRESS:
        return ip_len && san->size == ip_len && memcmp(san->data, ip, ip_len) == 0;
    default:
        return 0;
    }
}

int canto__tls_cert_names_domain(gnutls_x509_crt_t crt, const char *domain)
{
    if (!domain)
        return 0;
    gnutls_datum_t ext = {NULL, 0};
    unsigned critical = 0;
    if (gnutls_x509_crt_get_extension_by_oid2(crt, GNUTLS_X509EXT_OID_SAN, 0, &ext, &critical) < 0)
        return 0; /* no subjectAltName: no identity (and no CN fallback) */
    gnutls_subject_alt_names_t sans;
    if (gnutls_subject_alt_names_init(&sans) < 0) {
        gnutls_free(ext.data);
        return 0;
    }
    unsigned char ip[16];
    size_t ip_len = ip_literal(domain, ip);
    int match = 0;
    if (gnutls_x509_ext_import_subject_alt_names(&ext, sans, 0) >= 0) {
        for (unsigned i = 0; !match; i++) {
            unsigned type;
            gnutls_datum_t san, oid = {NULL, 0};
            if (gnutls_subject_alt_names_get(sans, i, &type, &san, &oid) < 0)
                break;
            match = san_matches(type, &san, &oid, domain, ip, ip_len);
        }
    }
    gnutls_subject_alt_names_deinit(sans);
    gnutls_free(ext.data);
    return match;
}
