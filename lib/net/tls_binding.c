/* Channel-binding data for SCRAM-*-PLUS (RFC 5802, RFC 9266).
 *
 * tls-exporter is defined for TLS 1.3, and for TLS 1.2 only when Extended
 * Master Secret was negotiated: without EMS, a man in the middle can make
 * two connections share a master secret (the triple-handshake attack), and
 * the exported value would no longer be unique to this channel. In that
 * case the only binding left is tls-unique, which TLS 1.3 does not define.
 * Renegotiation, which would also invalidate tls-exporter, is refused by
 * canto__tls_read(). */
#include <string.h>

#include <canto/error.h>
#include "net/tls_impl.h"

/* RFC 9266 §2: label without NUL, zero-length context, 32 bytes. */
static const char exporter_label[] = "EXPORTER-Channel-Binding";
#define EXPORTER_LEN 32

canto__tls_cb_type canto__tls_cb_preferred(const canto__tls *tls)
{
    if (!canto__tls_version(tls))
        return CANTO__TLS_CB_NONE;
    return canto__tls_ems(tls) ? CANTO__TLS_CB_TLS_EXPORTER : CANTO__TLS_CB_TLS_UNIQUE;
}

const char *canto__tls_cb_name(canto__tls_cb_type type)
{
    switch (type) {
    case CANTO__TLS_CB_TLS_UNIQUE:
        return "tls-unique";
    case CANTO__TLS_CB_TLS_EXPORTER:
        return "tls-exporter";
    case CANTO__TLS_CB_NONE:
        break;
    }
    return NULL;
}

static int exporter(const canto__tls *tls, unsigned char *out, size_t cap, size_t *len)
{
    if (!canto__tls_ems(tls))
        return CANTO_EUNSUPPORTED;
    if (cap < EXPORTER_LEN)
        return CANTO_EINVAL;
    /* A non-NULL empty context: in TLS 1.2 GnuTLS then hashes in a zero
     * length prefix (RFC 5705 "context provided, empty"), which is what RFC
     * 9266 means and what OpenSSL-based servers compute; NULL would mean
     * "no context" and give a different value. TLS 1.3 does not tell the two
     * apart. */
    int rc = gnutls_prf_rfc5705(tls->session, sizeof(exporter_label) - 1, exporter_label, 0, "",
                                EXPORTER_LEN, (char *)out);
    if (rc < 0)
        return CANTO_ETLS;
    *len = EXPORTER_LEN;
    return 0;
}

static int unique(const canto__tls *tls, unsigned char *out, size_t cap, size_t *len)
{
    if (canto__tls_version(tls) != 12)
        return CANTO_EUNSUPPORTED;
    gnutls_datum_t cb = {NULL, 0};
    if (gnutls_session_channel_binding(tls->session, GNUTLS_CB_TLS_UNIQUE, &cb) < 0)
        return CANTO_ETLS;
    int rc = 0;
    if (cb.size > cap) {
        rc = CANTO_EINVAL;
    } else {
        memcpy(out, cb.data, cb.size);
        *len = cb.size;
    }
    gnutls_free(cb.data);
    return rc;
}

int canto__tls_channel_binding(const canto__tls *tls, canto__tls_cb_type type, unsigned char *out,
                               size_t cap, size_t *len)
{
    if (!len)
        return CANTO_EINVAL;
    *len = 0;
    if (!tls || !out)
        return CANTO_EINVAL;
    if (!canto__tls_version(tls))
        return tls->state == CANTO__TLS_FAILED ? tls->failure : CANTO_ESTATE;
    switch (type) {
    case CANTO__TLS_CB_TLS_EXPORTER:
        return exporter(tls, out, cap, len);
    case CANTO__TLS_CB_TLS_UNIQUE:
        return unique(tls, out, cap, len);
    case CANTO__TLS_CB_NONE:
        break;
    }
    return CANTO_EINVAL;
}
