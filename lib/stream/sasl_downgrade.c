/* XEP-0474 SASL SCRAM Downgrade Protection (SSDP).
 *
 * A server that implements it puts a hash of the mechanism list and the
 * XEP-0440 channel-binding types it advertised into its SCRAM server-first
 * message. We hash what we received and compare: a MITM who edited the
 * features (say, removed the -PLUS names) is caught here, and one who edits
 * the hash is caught by SCRAM itself, because the server-first message is
 * part of what both proofs sign.
 *
 * Two wire formats exist. Version 0.3 (2023, what Prosody's mod_sasl_ssdp
 * and ejabberd implement) uses attribute "d" with the delimiters ',' between
 * names and '|' between the lists; 0.4 (2025) uses attribute "h" with 0x1E
 * and 0x1F, which cannot occur in XML. We check whichever the server sent. */
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <canto/error.h>
#include "base/buf.h"
#include "stream/sasl_impl.h"

/* "i;octet" collation (RFC 4790 §9.3) is what strcmp does: bytes compared
 * as unsigned char. */
static int by_octet(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void append_sorted(canto__buf *b, const char **tmp, const char *const *names, size_t n,
                          char sep)
{
    memcpy(tmp, names, n * sizeof(*tmp));
    qsort(tmp, n, sizeof(*tmp), by_octet);
    for (size_t i = 0; i < n; i++) {
        if (i)
            canto__buf_append(b, &sep, 1);
        canto__buf_puts(b, tmp[i]);
    }
}

int canto__sasl_ssdp_hash(const canto__alloc *alloc, canto__sasl_ssdp_version version, int sha256,
                          const char *const *mechs, size_t n_mechs, const char *const *cb_types,
                          size_t n_cb_types, char **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!alloc || (n_mechs && !mechs) || (n_cb_types && !cb_types))
        return CANTO_EINVAL;
    const char item_sep = version == CANTO__SSDP_H ? '\x1e' : ',';
    const char list_sep = version == CANTO__SSDP_H ? '\x1f' : '|';

    size_t most = n_mechs > n_cb_types ? n_mechs : n_cb_types;
    const char **tmp = canto__calloc(alloc, most ? most : 1, sizeof(*tmp));
    if (!tmp)
        return CANTO_ENOMEM;
    canto__buf b;
    canto__buf_init(&b, alloc);
    append_sorted(&b, tmp, mechs, n_mechs, item_sep);
    /* The channel-binding part exists only when the server used XEP-0440. */
    if (cb_types) {
        canto__buf_append(&b, &list_sep, 1);
        append_sorted(&b, tmp, cb_types, n_cb_types, item_sep);
    }
    canto__dealloc(alloc, tmp);
    char *s;
    size_t len;
    int rc = canto__buf_take(&b, &s, &len);
    if (rc != 0)
        return rc;

    unsigned char digest[32];
    gnutls_digest_algorithm_t alg = sha256 ? GNUTLS_DIG_SHA256 : GNUTLS_DIG_SHA1;
    if (gnutls_hash_fast(alg, s, len, digest) != 0) {
        canto_free(s);
        return CANTO_ENOMEM;
    }
    canto_free(s);
    return canto__sasl_b64_encode(alloc, digest, gnutls_hash_get_len(alg), out);
}

/* Find attribute @p name ("d" or "h") among the comma-separated attributes
 * of a server-first message. */
static const char *find_attr(const char *msg, size_t len, char name, size_t *vlen)
{
    const char *p = msg, *end = msg + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (stop - p >= 2 && p[0] == name && p[1] == '=') {
            *vlen = (size_t)(stop - p - 2);
            return p + 2;
        }
        p = stop + 1;
    }
    return NULL;
}

static int check_one(canto__sasl *s, const char *msg, size_t len, char name,
                     canto__sasl_ssdp_version version)
{
    size_t vlen;
    const char *v = find_attr(msg, len, name, &vlen);
    if (!v)
        return 0;
    char *want;
    int rc = canto__sasl_ssdp_hash(&s->alloc, version, s->mech->sha256,
                                   (const char *const *)s->offered, s->n_offered,
                                   (const char *const *)s->server_cb, s->n_server_cb, &want);
    if (rc != 0)
        return rc;
    int same = strlen(want) == vlen && memcmp(want, v, vlen) == 0;
    canto_free(want);
    canto__logf(&s->log, same ? CANTO_LOG_DEBUG : CANTO_LOG_ERROR, "sasl", "XEP-0474 hash (%c=) %s",
                name, same ? "matches" : "does not match");
    return same ? 1 : CANTO_EAUTH;
}

int canto__sasl_ssdp_check(canto__sasl *s, const char *server_first, size_t len)
{
    int d = check_one(s, server_first, len, 'd', CANTO__SSDP_D);
    if (d < 0)
        return d;
    int h = check_one(s, server_first, len, 'h', CANTO__SSDP_H);
    if (h < 0)
        return h;
    if (!d && !h)
        canto__logf(&s->log, CANTO_LOG_DEBUG, "sasl", "no XEP-0474 hash from the server");
    return 0;
}
