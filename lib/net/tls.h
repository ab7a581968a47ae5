/* TLS for the transport layer: GnuTLS driven over memory buffers, sans-I/O.
 *
 * A canto__tls never touches a socket. The caller moves bytes:
 *   network -> canto__tls_feed()        ciphertext in
 *   canto__tls_out()/_out_consume()     ciphertext out, to the network
 *   canto__tls_handshake()              step the handshake after each feed
 *   canto__tls_read()/canto__tls_write() plaintext once the handshake is done
 * so Direct TLS and STARTTLS are the same code, and tests run both ends of a
 * connection in one process.
 *
 * Certificate checks (client role, tls_verify.c):
 *   1. chain: the peer's chain must verify against the trust store (system
 *      store and/or a CA file, or one in a shared canto__tls_ctx), for the TLS
 *      server purpose, at GnuTLS's "medium" security profile;
 *      or, when SPKI pins are configured, instead of the chain: the leaf's
 *      key must match one pin (CA store and validity dates are then ignored,
 *      as with DANE-EE);
 *   2. identity (always, also with pins), against the reference domain only
 *      (the JID domain, never an SRV target or a redirect host): a SAN
 *      dNSName (DNS-ID; a wildcard only as the whole left-most label and
 *      never matching the parent domain itself), an SRV-ID
 *      (_xmpp-client.DOMAIN or _xmpps-client.DOMAIN), or an XmppAddr equal
 *      to the domain. The subject CN is never used (RFC 9525).
 *   3. on failure, the application callback may still accept.
 * A link-local client (XEP-0174 peer, `link_local`) skips 1 and 2, for no
 * authority vouches for link-local names: pins, when set, are its only
 * check; without them any certificate is taken (see the field).
 * The trust store is loaded for the handshake and released right after it:
 * the system store costs about 4 MB of parsed certificates, far above the
 * budget of an idle connection. Callers with many connections share one
 * canto__tls_ctx instead, which also saves the 8 KB GnuTLS priority cache
 * and the credentials object each session would otherwise own.
 *
 * Minimum protocol version is TLS 1.2. Renegotiation is refused. TLS 1.3
 * session tickets are not requested (no resumption yet, and they would sit
 * in memory for nothing). */
#ifndef CANTO_NET_TLS_H
#define CANTO_NET_TLS_H

#include <stddef.h>

#include <canto/tls.h>
#include "base/alloc.h"
#include "base/log.h"

/* Returned by handshake/read when more bytes from the network are needed
 * (after flushing canto__tls_out). Positive, so it never collides with a
 * CANTO_E* code. */
#define CANTO__TLS_AGAIN 1

/* Largest channel-binding value (tls-unique is 12 bytes in TLS 1.2;
 * tls-exporter is 32). */
#define CANTO__TLS_CB_MAX 64

typedef struct canto__tls canto__tls;
typedef struct canto__tls_ctx canto__tls_ctx;

typedef enum canto__tls_role {
    CANTO__TLS_CLIENT = 0,
    CANTO__TLS_SERVER = 1, /* XEP-0174 link-local peers connecting to us */
} canto__tls_role;

typedef struct canto__tls_config {
    canto__tls_role role;
    /* Client: the reference identity, an ASCII (A-label) domain; sent as SNI
     * and checked against the certificate. Required unless
     * insecure_skip_verify. Server: unused. */
    const char *domain;
    /* PEM file of CAs trusted in addition to the system store (or instead of
     * it with no_system_trust). Ignored when @ref ctx holds a trust store. */
    const char *ca_file;
    int no_system_trust;
    /* Shared context (borrowed; must outlive the session). If it holds a
     * trust store, that store is used and ca_file/no_system_trust are
     * ignored. NULL: the session builds what it needs itself. */
    const canto__tls_ctx *ctx;
    /* ALPN protocol to offer (client) or accept (server), e.g. "xmpp-client"
     * for Direct TLS. NULL: no ALPN. */
    const char *alpn;
    /* Pins (copied). When n_pins > 0 they replace CA validation; see above. */
    const canto_spki_pin *pins;
    size_t n_pins;
    /* Called when verification failed; may accept. NULL: refuse. */
    canto_cert_verify_fn verify_fn;
    void *verify_ud;
    /* PEM certificate (chain) and key: the client certificate for SASL
     * EXTERNAL, or the server's certificate (required for the server role). */
    const char *cert_file;
    const char *key_file;
    /* TESTS ONLY: accept any certificate, no chain, no name, no pins.
     * Anyone on the path can then read and change the traffic. */
    int insecure_skip_verify;
    /* TESTS ONLY: a GnuTLS priority string replacing the default
     * (TLS 1.3 + 1.2, medium profile). NULL: the default. */
    const char *priority_override;
    /* Client role, XEP-0174 peer: no CA can vouch for a link-local name, so
     * neither the chain nor the name is checked and @ref domain is optional
     * (link-local names need not be ASCII). With pins, the peer's key must
     * match one (then verify_fn may still accept); without pins any
     * certificate is taken: encryption against passive eavesdroppers only,
     * no protection from an active attacker on the link. */
    int link_local;
} canto__tls_config;

#define CANTO__TLS_CONFIG_INIT                                                                     \
    {                                                                                              \
        CANTO__TLS_CLIENT, NULL, NULL, 0, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, NULL, 0  \
    }

/* ------------------------------------------------------------------------ */
/* Session (tls.c) */

/* Create a session. Strings and pins in @p cfg are copied; cert/key files are
 * read now. @p log is copied (NULL: silent).
 * @return 0, CANTO_EINVAL (missing or non-ASCII domain, server without a
 * certificate, a client that could trust nothing: no_system_trust without
 * ca_file, pins or a context trust store),
 * CANTO_ENOTFOUND (a file cannot be read), CANTO_ETLS (GnuTLS refused a file
 * or a setting; see the log), CANTO_ENOMEM. Free with canto__tls_free(). */
int canto__tls_new(const canto__alloc *a, const canto__log *log, const canto__tls_config *cfg,
                   canto__tls **out);
/* NULL allowed. Does not send close_notify; see canto__tls_bye(). */
void canto__tls_free(canto__tls *tls);

/* Queue ciphertext received from the network (copied). @p len 0 means the
 * peer closed the connection (EOF). @return 0, CANTO_ENOMEM, CANTO_ESTATE
 * (after EOF). */
int canto__tls_feed(canto__tls *tls, const void *cipher, size_t len);

/* Step the handshake. Flush canto__tls_out() after every call, whatever it
 * returned: on failure it may hold an alert for the peer. Once it returns 0,
 * call canto__tls_read(): the last feed may already have carried data.
 * @return 0 (done; also on later calls), CANTO__TLS_AGAIN (feed more),
 * CANTO_ECERT (certificate refused; canto__tls_error_text() says why),
 * CANTO_ETLS (any other failure, including EOF), CANTO_ENOMEM. */
int canto__tls_handshake(canto__tls *tls);
int canto__tls_handshake_done(const canto__tls *tls);

/* Decrypt up to @p cap bytes into @p buf; *n receives the count. Call until it
 * returns CANTO__TLS_AGAIN: one fed chunk can hold several records.
 * @return 0 (*n > 0), CANTO__TLS_AGAIN (*n = 0), CANTO_ECLOSED (the peer sent
 * close_notify), CANTO_ETLS (error or EOF without close_notify), CANTO_ESTATE
 * (handshake not done). */
int canto__tls_read(canto__tls *tls, void *buf, size_t cap, size_t *n);
/* Plaintext bytes already decrypted and waiting inside GnuTLS. */
size_t canto__tls_pending(const canto__tls *tls);

/* Encrypt all of @p len bytes into the output queue. @return 0, CANTO_ESTATE
 * (handshake not done, or closed), CANTO_ETLS, CANTO_ENOMEM. */
int canto__tls_write(canto__tls *tls, const void *plain, size_t len);

/* Ciphertext waiting for the network: *ptr and *len are borrowed until the next
 * call on @p tls. *len is 0 when nothing is pending. */
void canto__tls_out(const canto__tls *tls, const void **ptr, size_t *len);
/* Drop the first @p n bytes of the output queue (what was sent). */
void canto__tls_out_consume(canto__tls *tls, size_t n);

/* Queue close_notify (does not wait for the peer's). Afterwards only reads
 * are allowed. @return 0, CANTO_ETLS. */
int canto__tls_bye(canto__tls *tls);

/* Last failure, one English sentence; "" if none. Borrowed. */
const char *canto__tls_error_text(const canto__tls *tls);

/* After the handshake: 13 for TLS 1.3, 12 for TLS 1.2, 0 before. */
int canto__tls_version(const canto__tls *tls);
/* 1 if a TLS 1.2 session negotiated Extended Master Secret (RFC 7627);
 * always 1 for TLS 1.3, whose key schedule has the same property. */
int canto__tls_ems(const canto__tls *tls);
/* The ALPN protocol both sides agreed on, or NULL. Borrowed, not
 * NUL-terminated: *len receives its length. */
const unsigned char *canto__tls_alpn(const canto__tls *tls, size_t *len);

/* ------------------------------------------------------------------------ */
/* Channel binding (tls_binding.c) */

typedef enum canto__tls_cb_type {
    CANTO__TLS_CB_NONE = 0,
    CANTO__TLS_CB_TLS_UNIQUE,   /* RFC 5929 */
    CANTO__TLS_CB_TLS_EXPORTER, /* RFC 9266 */
} canto__tls_cb_type;

/* The type to use for SCRAM-*-PLUS: tls-exporter on TLS 1.3 and on TLS 1.2
 * with EMS, else tls-unique. NONE before the handshake. */
canto__tls_cb_type canto__tls_cb_preferred(const canto__tls *tls);
/* "tls-unique", "tls-exporter", or NULL. */
const char *canto__tls_cb_name(canto__tls_cb_type type);
/* Channel-binding data of @p type into @p out (at most @p cap bytes).
 * @return 0, CANTO_ESTATE (handshake not done), CANTO_EUNSUPPORTED (type not
 * defined for this session: tls-unique on TLS 1.3, tls-exporter on TLS 1.2
 * without EMS), CANTO_EINVAL (bad type, @p cap too small), CANTO_ETLS. */
int canto__tls_channel_binding(const canto__tls *tls, canto__tls_cb_type type, unsigned char *out,
                               size_t cap, size_t *len);

/* ------------------------------------------------------------------------ */
/* Shared context (tls_ctx.c)
 *
 * What sessions driven by the same thread can share: the priority cache
 * (GnuTLS reference-counts it), the credentials of clients without a
 * client certificate and, optionally, a loaded trust store. */

/* @return 0, CANTO_ETLS, CANTO_ENOMEM. Free with canto__tls_ctx_free() after
 * every session that uses it. */
int canto__tls_ctx_new(const canto__alloc *a, canto__tls_ctx **out);
/* Load trusted CAs into @p ctx, replacing any loaded before: the system store
 * unless @p no_system, plus @p ca_file (PEM) if not NULL.
 * @return 0, CANTO_ENOTFOUND (cannot read ca_file), CANTO_ETLS (no usable
 * certificate in ca_file, or no CA at all), CANTO_ENOMEM. */
int canto__tls_ctx_load_trust(canto__tls_ctx *ctx, const char *ca_file, int no_system);
void canto__tls_ctx_free(canto__tls_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* Identity matching (tls_identity.c): pure functions on ASCII names */

/* Does the presented dNSName @p presented (length @p plen, not necessarily
 * NUL-terminated) match the reference domain @p ref? Case-insensitive, one
 * trailing dot ignored on either; "*.example.org" matches exactly one extra
 * label ("a.example.org", not "example.org" nor "a.b.example.org"); a
 * wildcard must be the whole left-most label and be followed by at least two
 * labels; other '*' never match. */
int canto__tls_dns_id_match(const char *ref, const char *presented, size_t plen);
/* Does an SRV-ID value ("_xmpp-client.example.org") name @p ref for XMPP
 * client service (_xmpp-client or _xmpps-client)? No wildcards. */
int canto__tls_srv_id_match(const char *ref, const char *presented, size_t plen);

#endif
