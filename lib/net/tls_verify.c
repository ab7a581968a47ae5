/* Verification of the server's certificate, run by GnuTLS in the middle of
 * the handshake so that a refusal aborts it before any data flows.
 *
 * We do not let GnuTLS check the host name (it would fall back to the
 * subject CN, which RFC 9525 forbids) and we do not keep the trust store in
 * the session's credentials (4 MB for the system store): the chain is
 * checked against a trust list that exists only for this call, or against
 * the shared context's. */
#include <stdio.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include <canto/error.h>
#include "net/tls_impl.h"

#define AREA "tls"

/* Longer chains are cut: no real server sends more. */
#define MAX_CHAIN 16

typedef struct peer {
    gnutls_x509_crt_t chain[MAX_CHAIN];
    unsigned n;
    const gnutls_datum_t *der; /* der[0] is the leaf */
    unsigned char spki[CANTO_SHA256_LEN];
} peer;

static void peer_clear(peer *p)
{
    for (unsigned i = 0; i < p->n; i++)
        gnutls_x509_crt_deinit(p->chain[i]);
    p->n = 0;
}

/* SHA-256 of the DER SubjectPublicKeyInfo (the HPKP / `certtool` pin). */
static int spki_sha256(gnutls_x509_crt_t crt, unsigned char out[CANTO_SHA256_LEN])
{
    gnutls_pubkey_t pub;
    gnutls_datum_t der = {NULL, 0};
    if (gnutls_pubkey_init(&pub) < 0)
        return -1;
    int rc = gnutls_pubkey_import_x509(pub, crt, 0);
    if (rc >= 0)
        rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der);
    if (rc >= 0)
        rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, out);
    gnutls_free(der.data);
    gnutls_pubkey_deinit(pub);
    return rc < 0 ? -1 : 0;
}

/* Parse the peer's chain. @return NULL or why it cannot be used. */
static const char *peer_load(gnutls_session_t session, peer *p)
{
    if (gnutls_certificate_type_get2(session, GNUTLS_CTYPE_PEERS) != GNUTLS_CRT_X509)
        return "the server's certificate is not X.509";
    unsigned n = 0;
    p->der = gnutls_certificate_get_peers(session, &n);
    if (!p->der || n == 0)
        return "the server sent no certificate";
    if (n > MAX_CHAIN)
        n = MAX_CHAIN;
    for (p->n = 0; p->n < n; p->n++) {
        if (gnutls_x509_crt_init(&p->chain[p->n]) < 0)
            return "out of memory";
        if (gnutls_x509_crt_import(p->chain[p->n], &p->der[p->n], GNUTLS_X509_FMT_DER) < 0) {
            gnutls_x509_crt_deinit(p->chain[p->n]);
            return "the server's certificate cannot be parsed";
        }
    }
    if (spki_sha256(p->chain[0], p->spki) < 0)
        return "the server's public key cannot be read";
    return NULL;
}

/* The trust list for this check: the context's, or a fresh one the caller
 * must free (*own = 1). NULL if no CA could be loaded. */
static gnutls_x509_trust_list_t trust_for(canto__tls *tls, int *own)
{
    *own = 0;
    if (tls->ctx && tls->ctx->trust)
        return tls->ctx->trust;
    gnutls_x509_trust_list_t tl;
    if (gnutls_x509_trust_list_init(&tl, 0) < 0)
        return NULL;
    int loaded = 0;
    if (!tls->no_system_trust) {
        int n = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
        if (n > 0)
            loaded += n;
    }
    if (tls->ca_file) {
        int n = gnutls_x509_trust_list_add_trust_file(tl, tls->ca_file, NULL, GNUTLS_X509_FMT_PEM,
                                                      0, 0);
        if (n > 0)
            loaded += n;
        else
            canto__logf(&tls->log, CANTO_LOG_WARN, AREA, "no CA certificate in %s", tls->ca_file);
    }
    if (!loaded) {
        gnutls_x509_trust_list_deinit(tl, 1);
        return NULL;
    }
    *own = 1;
    return tl;
}

/* GnuTLS status bits -> canto_cert_status bits. */
static unsigned map_status(unsigned g)
{
    unsigned s = 0;
    if (g &
        (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA | GNUTLS_CERT_SIGNATURE_FAILURE))
        s |= CANTO_CERT_UNTRUSTED;
    if (g & GNUTLS_CERT_EXPIRED)
        s |= CANTO_CERT_EXPIRED;
    if (g & GNUTLS_CERT_NOT_ACTIVATED)
        s |= CANTO_CERT_NOT_YET_VALID;
    if (g & GNUTLS_CERT_REVOKED)
        s |= CANTO_CERT_REVOKED;
    if (g & GNUTLS_CERT_INSECURE_ALGORITHM)
        s |= CANTO_CERT_INSECURE;
    if (g && !s)
        s |= CANTO_CERT_OTHER;
    return s;
}

/* Append @p text to the reason, "; "-separated. */
static void reason_add(char *buf, size_t cap, const char *text)
{
    size_t len = strlen(buf);
    if (len < cap)
        snprintf(buf + len, cap - len, "%s%s", len ? "; " : "", text);
}

/* The chain part: pins, or the CA store. Adds to @p status and @p why. */
static void check_chain(canto__tls *tls, peer *p, unsigned *status, char *why, size_t cap)
{
    if (tls->n_pins) {
        for (size_t i = 0; i < tls->n_pins; i++)
            if (memcmp(tls->pins[i].sha256, p->spki, CANTO_SHA256_LEN) == 0)
                return;
        *status |= CANTO_CERT_PIN_MISMATCH;
        reason_add(why, cap, "the server's key matches none of the pinned keys");
        return;
    }
    int own;
    gnutls_x509_trust_list_t tl = trust_for(tls, &own);
    if (!tl) {
        *status |= CANTO_CERT_UNTRUSTED;
        reason_add(why, cap, "no trusted CA could be loaded");
        return;
    }
    /* Purpose: the leaf must be usable by a TLS server (when it says). */
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
                                     (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0};
    unsigned gst = 0;
    int rc = gnutls_x509_trust_list_verify_crt2(tl, p->chain, p->n, &purpose, 1,
                                                CANTO__TLS_VERIFY_FLAGS, &gst, NULL);
    if (own)
        gnutls_x509_trust_list_deinit(tl, 1);
    if (rc < 0) {
        *status |= CANTO_CERT_UNTRUSTED;
        reason_add(why, cap, gnutls_strerror(rc));
        return;
    }
    if (!gst)
        return;
    *status |= map_status(gst);
    gnutls_datum_t text = {NULL, 0};
    if (gnutls_certificate_verification_status_print(gst, GNUTLS_CRT_X509, &text, 0) >= 0 &&
        text.data)
        reason_add(why, cap, (const char *)text.data);
    else
        reason_add(why, cap, "the certificate chain is not valid");
    gnutls_free(text.data);
}

/* Offer the failure to the application. @return nonzero if it accepts. */
static int ask_application(canto__tls *tls, peer *p, unsigned status, const char *why)
{
    gnutls_datum_t subject = {NULL, 0}, issuer = {NULL, 0};
    gnutls_x509_crt_get_dn3(p->chain[0], &subject, 0);
    gnutls_x509_crt_get_issuer_dn3(p->chain[0], &issuer, 0);
    canto_cert_failure f;
    memset(&f, 0, sizeof(f));
    f.version = CANTO_CERT_FAILURE_VERSION;
    f.status = status;
    f.reason = why;
    f.domain = tls->domain ? tls->domain : "";
    f.subject = subject.data ? (const char *)subject.data : "";
    f.issuer = issuer.data ? (const char *)issuer.data : "";
    f.der = p->der[0].data;
    f.der_len = p->der[0].size;
    memcpy(f.spki_sha256, p->spki, CANTO_SHA256_LEN);
    int accept = tls->verify_fn(tls->verify_ud, &f);
    gnutls_free(subject.data);
    gnutls_free(issuer.data);
    return accept;
}

/* XEP-0174 peers have no authority to vouch for their names: a pinned key
 * is the only identity check there can be, and without one the session is
 * still worth having against passive listeners. */
static int verify_link_local(canto__tls *tls, gnutls_session_t session)
{
    if (!tls->n_pins) {
        canto__logf(&tls->log, CANTO_LOG_INFO, AREA,
                    "link-local peer's certificate taken unverified (no pin): encrypted, "
                    "but the peer is not authenticated");
        return 0;
    }
    peer p;
    memset(&p, 0, sizeof(p));
    const char *load_err = peer_load(session, &p);
    int accepted = 0;
    char why[256] = "";
    if (load_err) {
        snprintf(why, sizeof(why), "%s", load_err);
    } else {
        for (size_t i = 0; i < tls->n_pins && !accepted; i++)
            accepted = memcmp(tls->pins[i].sha256, p.spki, CANTO_SHA256_LEN) == 0;
        if (!accepted) {
            snprintf(why, sizeof(why), "the peer's key matches none of the pinned keys");
            if (tls->verify_fn && ask_application(tls, &p, CANTO_CERT_PIN_MISMATCH, why)) {
                canto__logf(&tls->log, CANTO_LOG_WARN, AREA,
                            "link-local peer's key accepted by the application despite: %s", why);
                accepted = 1;
            }
        }
    }
    peer_clear(&p);
    if (accepted)
        return 0;
    tls->cert_refused = 1;
    canto__tls_fail_text(tls, "certificate of the link-local peer refused: %s", why);
    return -1;
}

int canto__tls_verify_peer(gnutls_session_t session)
{
    canto__tls *tls = gnutls_session_get_ptr(session);
    if (tls->insecure) {
        canto__logf(&tls->log, CANTO_LOG_WARN, AREA,
                    "server certificate NOT verified (insecure_skip_verify)");
        return 0;
    }
    if (tls->link_local)
        return verify_link_local(tls, session);
    peer p;
    memset(&p, 0, sizeof(p));
    const char *load_err = peer_load(session, &p);
    if (load_err) {
        peer_clear(&p);
        tls->cert_refused = 1;
        canto__tls_fail_text(tls, "certificate of %s refused: %s", tls->domain, load_err);
        return -1;
    }
    char why[768] = "";
    unsigned status = 0;
    check_chain(tls, &p, &status, why, sizeof(why));
    if (!canto__tls_cert_names_domain(p.chain[0], tls->domain)) {
        status |= CANTO_CERT_NAME_MISMATCH;
        char text[320];
        snprintf(text, sizeof(text),
                 "the certificate does not name %s (no matching DNS, SRV or XmppAddr "
                 "subjectAltName; the subject CN is not used)",
                 tls->domain);
        reason_add(why, sizeof(why), text);
    }
    int accepted = status == 0;
    if (!accepted && tls->verify_fn && ask_application(tls, &p, status, why)) {
        canto__logf(&tls->log, CANTO_LOG_WARN, AREA,
                    "certificate of %s accepted by the application despite: %s", tls->domain, why);
        accepted = 1;
    }
    peer_clear(&p);
    if (accepted) {
        canto__logf(&tls->log, CANTO_LOG_DEBUG, AREA, "certificate of %s verified", tls->domain);
        return 0;
    }
    tls->cert_refused = 1;
    canto__tls_fail_text(tls, "certificate of %s refused: %s", tls->domain, why);
    return -1;
}
