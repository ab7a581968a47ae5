/* Private to lib/net/tls*.c: the session struct and the helpers its files
 * share. Only these files include GnuTLS headers. */
#ifndef CANTO_NET_TLS_IMPL_H
#define CANTO_NET_TLS_IMPL_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "net/tls.h"

/* The default priority: TLS 1.3 and 1.2 only, GnuTLS's usual algorithm
 * choices, and at least 112-bit security for keys and signatures in the
 * handshake (%PROFILE_MEDIUM: RSA/DH >= 2048 bits). */
#define CANTO__TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%PROFILE_MEDIUM"
/* The same profile for certificate chains, which we verify ourselves. */
#define CANTO__TLS_VERIFY_FLAGS GNUTLS_PROFILE_TO_VFLAGS(GNUTLS_PROFILE_MEDIUM)

/* A byte queue that owns no memory while empty, so an idle connection keeps
 * no buffers: data[off, off+len) is pending. */
typedef struct canto__tls_bytes {
    unsigned char *data;
    size_t off, len, cap;
} canto__tls_bytes;

/* @return 0 or CANTO_ENOMEM. */
int canto__tls_bytes_push(const canto__alloc *a, canto__tls_bytes *q, const void *p, size_t n);
/* Copy up to @p n bytes out and drop them; @return how many. */
size_t canto__tls_bytes_pull(const canto__alloc *a, canto__tls_bytes *q, void *p, size_t n);
/* Drop up to @p n bytes; storage is released when the queue empties. */
void canto__tls_bytes_drop(const canto__alloc *a, canto__tls_bytes *q, size_t n);
void canto__tls_bytes_clear(const canto__alloc *a, canto__tls_bytes *q);

struct canto__tls_ctx {
    canto__alloc alloc;
    gnutls_priority_t prio; /* the same cache serves both roles */
    /* Credentials for clients without a client certificate. */
    gnutls_certificate_credentials_t client_cred;
    gnutls_x509_trust_list_t trust; /* NULL until canto__tls_ctx_load_trust() */
};

typedef enum canto__tls_state {
    CANTO__TLS_HANDSHAKING = 0,
    CANTO__TLS_OPEN,
    CANTO__TLS_FAILED,
} canto__tls_state;

struct canto__tls {
    canto__alloc alloc;
    canto__log log;
    canto__tls_role role;
    canto__tls_state state;
    int failure;    /* the CANTO_E* code once FAILED */
    int eof;        /* the peer closed the TCP connection */
    int sent_bye;   /* close_notify queued: no more writes */
    int push_nomem; /* the push callback could not queue output */
    gnutls_session_t session;
    /* Owned only when the session could not borrow the context's. */
    gnutls_certificate_credentials_t cred;
    canto__tls_bytes in, out;
    char *error; /* last failure text, NULL if none */

    /* What verification needs; the copies are dropped after the handshake. */
    const canto__tls_ctx *ctx;
    char *domain;
    char *ca_file;
    int no_system_trust;
    canto_spki_pin *pins;
    size_t n_pins;
    canto_cert_verify_fn verify_fn;
    void *verify_ud;
    int insecure;
    int link_local;   /* XEP-0174 peer: pins only, see canto__tls_config */
    int cert_refused; /* the verify callback refused the peer's certificate */
};

/* Record a failure text (formatted) as the last error and log it. */
void canto__tls_fail_text(canto__tls *tls, const char *fmt, ...) CANTO_PRINTF(2, 3);

/* Certificate credentials as sessions need them: we verify chains ourselves,
 * so the trust list GnuTLS allocates inside (6 KB of empty hash buckets) is
 * replaced by a one-bucket list. @return a GnuTLS error code. */
int canto__tls_cred_new(gnutls_certificate_credentials_t *out);

/* The GnuTLS verify callback (tls_verify.c): installed on client sessions. */
int canto__tls_verify_peer(gnutls_session_t session);

/* Does the certificate name @p domain (DNS-ID, SRV-ID or XmppAddr)?
 * @return 1 yes, 0 no (tls_identity.c). */
int canto__tls_cert_names_domain(gnutls_x509_crt_t crt, const char *domain);

#endif
