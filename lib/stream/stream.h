/* The XMPP stream engine: one end of one XML stream, sans I/O.
 *
 * Bytes from the socket go in with canto__stream_feed(); bytes for the socket
 * come out of canto__stream_out()/canto__stream_consume(); time comes in as
 * arguments, and canto__stream_deadline() says when to call
 * canto__stream_timeout(). TLS runs inside over memory buffers, so STARTTLS is
 * a state change, and every path here can be driven from recorded transcripts.
 *
 * Roles: the initiator opens the stream (client to server, or to a link-local
 * peer); the receiver answers one (a link-local peer connecting to us). With
 * `link_local` set, neither side does SASL or resource binding (XEP-0174).
 *
 * TLS between link-local peers (`ll_tls`) is STARTTLS as in RFC 6120 §5: the
 * receiver lists <starttls/> in its first features, the initiator asks for
 * it, both restart the stream inside TLS, and the receiver's second features
 * are empty. What it protects against, honestly: no certificate authority
 * vouches for link-local names, so by default the initiator takes whatever
 * certificate the receiver shows. That stops passive eavesdroppers on the
 * link, not an active attacker, who can answer the mDNS query or the TCP
 * connection with a certificate of its own. Only a pin (`ll_pins`, the
 * SHA-256 of the peer's SubjectPublicKeyInfo, learned out of band or on a
 * first contact the user trusted) authenticates the peer. The receiver does
 * not ask the initiator for a certificate: who connected stays unproven, as
 * on any plaintext link-local stream.
 */
#ifndef CANTO_STREAM_STREAM_H
#define CANTO_STREAM_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include <canto/stanza.h>
#include <canto/stream.h>
#include <canto/tls.h>
#include "base/alloc.h"
#include "base/log.h"

typedef struct canto__stream canto__stream;
typedef struct canto__tls_config canto__tls_config;
typedef struct canto__sasl_config canto__sasl_config;
typedef struct canto__sm canto__sm;

typedef enum canto__stream_role {
    CANTO__STREAM_INITIATOR = 0,
    CANTO__STREAM_RECEIVER = 1,
} canto__stream_role;

typedef enum canto__stream_tls {
    CANTO__TLS_STARTTLS = 0, /* required: no <starttls/> or a <failure/> ends the attempt */
    CANTO__TLS_DIRECT = 1,   /* handshake before the stream header (XEP-0368) */
    CANTO__TLS_NONE = 2,     /* plaintext: only with the application's explicit consent */
} canto__stream_tls;

/* TLS on a link-local stream. The optional level reads as "offer" for a
 * receiver and "use if offered" for an initiator, so one setting serves
 * both ends of a peer-to-peer application. */
typedef enum canto__stream_ll_tls {
    /* Plaintext, as XEP-0174 peers mostly run. An initiator ignores an offer,
     * but fails at once when the receiver marks TLS <required/>. */
    CANTO__LL_TLS_OFF = 0,
    CANTO__LL_TLS_OPTIONAL = 1,
    /* Receiver: list <starttls/> (not required); a first element other than
     * <starttls/>, or silence for negotiation_timeout_ms, means the initiator
     * stays in plaintext. `established` waits for that choice. */
    CANTO__LL_TLS_OFFER = CANTO__LL_TLS_OPTIONAL,
    /* Initiator: STARTTLS when the receiver lists it, else plaintext. */
    CANTO__LL_TLS_USE_IF_OFFERED = CANTO__LL_TLS_OPTIONAL,
    /* Both roles: TLS or no stream. An initiator fails (CANTO_ETLS) when no
     * <starttls/> is offered; a receiver marks it <required/> and answers a
     * stanza sent before TLS with a policy-violation stream error. A pre-1.0
     * peer (no features at all) fails too. */
    CANTO__LL_TLS_REQUIRE = 2,
} canto__stream_ll_tls;

/* Why a stream ended, handed to the `closed` event. Strings are borrowed for
 * the duration of the call. */
typedef struct canto__stream_end {
    int error;                        /* 0 for a clean close, else CANTO_E* */
    canto_stream_condition condition; /* stream error sent or received, or NONE */
    int received;                     /* 1 if the peer sent the stream error */
    const char *text;                 /* stream error <text/>, SASL failure text, or NULL */
    const char *sasl_condition;       /* SASL <failure/> condition name, or NULL */
    const char *see_other_host;       /* host[:port] of a see-other-host, or NULL */
    const char *detail;               /* one human-readable sentence; never NULL */
} canto__stream_end;

typedef struct canto__stream_events {
    /* Negotiation finished; stanzas may be sent. @p jid is the bound full JID
     * (initiator, client role) or the peer's address (link-local). */
    void (*established)(void *ud, const char *jid);
    /* A stanza arrived on an established stream. The callee owns it. */
    void (*stanza)(void *ud, canto_stanza *stanza);
    /* The stream is over; no further event follows. The transport can be
     * closed once canto__stream_out() is empty (anything left is a final
     * error or close tag worth flushing). */
    void (*closed)(void *ud, const canto__stream_end *end);
    /* Optional: raw XML as sent and received (after TLS). */
    void (*trace)(void *ud, int outgoing, const char *data, size_t len);
} canto__stream_events;

typedef struct canto__stream_config {
    canto__stream_role role;
    int link_local;
    int preauth;          /* initiator: established once encrypted, without SASL or bind */
    const char *domain;   /* initiator: the `to` of the header; the TLS reference identity */
    const char *from;     /* bare JID sent as `from` once the stream is encrypted, or NULL */
    const char *resource; /* requested resource, or NULL to let the server pick */
    canto__stream_tls tls;
    const canto__tls_config *tls_config;   /* required unless tls == NONE */
    const canto__sasl_config *sasl_config; /* required for a client initiator */
    /* XEP-0198 state kept by the caller across streams (NULL: no stream
     * management). With an id in it, the stream tries to resume that session
     * instead of binding a new one. */
    canto__sm *sm;
    uint32_t sm_ack_every;           /* request an ack after this many stanzas; 0: 5 */
    uint32_t sm_ack_ms;              /* or once this old an unacked stanza is; 0: 5 s */
    size_t max_stanza_bytes;         /* 0: default (1 MiB) */
    uint32_t negotiation_timeout_ms; /* 0: default 30 s, for each step */
    uint32_t close_timeout_ms;       /* 0: default 5 s to wait for the peer's close */
    uint32_t keepalive_ms;  /* whitespace after this much output silence; 0: default 60 s */
    uint32_t ping_after_ms; /* ping the server after this much input silence; 0: 120 s */
    uint32_t dead_after_ms; /* give up this long after that ping; 0: 30 s */
    /* Link-local TLS (only with link_local; these replace `tls` and
     * `tls_config` there, which stay NONE and NULL). Strings and pins are
     * copied; the files are read when TLS starts. */
    canto__stream_ll_tls ll_tls;
    const char *ll_cert_file; /* receiver, ll_tls != OFF: PEM certificate (chain); required */
    const char *ll_key_file;  /* its PEM private key; required with ll_cert_file */
    /* Initiator: keys the receiver may present (SHA-256 of the DER
     * SubjectPublicKeyInfo: canto_cert_failure::spki_sha256, or the base64
     * `pin-sha256:` value of `certtool -i`, decoded). With pins, a
     * certificate whose key matches none fails the stream with CANTO_ECERT;
     * NULL/0: any certificate is taken (see the top of this file). */
    const canto_spki_pin *ll_pins;
    size_t ll_n_pins;
} canto__stream_config;

int canto__stream_new(const canto__alloc *alloc, const canto__log *log,
                      const canto__stream_config *config, const canto__stream_events *ev, void *ud,
                      canto__stream **out);
void canto__stream_free(canto__stream *s);

/* Initiator: begin (TLS handshake or stream header). Receiver: wait for the
 * peer's header. */
int canto__stream_start(canto__stream *s, uint64_t now);

/* Bytes read from the transport. Returns 0, or the CANTO_E* code the stream
 * ended with (the closed event has then been delivered). */
int canto__stream_feed(canto__stream *s, const void *data, size_t len, uint64_t now);
/* The transport reached end of file (or failed: @p error is its CANTO_E*). */
void canto__stream_eof(canto__stream *s, int error);

/* Bytes waiting for the transport. */
size_t canto__stream_out(canto__stream *s, const char **data);
void canto__stream_consume(canto__stream *s, size_t n, uint64_t now);

/* When canto__stream_timeout() wants to be called; UINT64_MAX for never. */
uint64_t canto__stream_deadline(const canto__stream *s);
void canto__stream_timeout(canto__stream *s, uint64_t now);

/* Queue a stanza on an established stream (the stanza is not kept).
 * CANTO_ESTATE before establishment or after closing; CANTO_ENOMEM. */
int canto__stream_send(canto__stream *s, const canto_stanza *stanza, uint64_t now);

/* Like canto__stream_send(); when stream management is on and the stanza
 * counts (message, presence, iq), @p token identifies it in the SM queue's
 * delivery reports. */
int canto__stream_send_counted(canto__stream *s, const canto_stanza *stanza, uint64_t token,
                               uint64_t now);
/* After `established`: 1 if the previous session was resumed (XEP-0198), so
 * nothing needs to be set up again; 0 for a new session. */
int canto__stream_resumed(const canto__stream *s);
/* Request an ack within ~20 ms (instead of the batching delay): someone is
 * waiting for a confirmation. */
void canto__stream_sm_want_ack(canto__stream *s, uint64_t now);
/* 1 if stream management is active on this stream. */
int canto__stream_sm_active(const canto__stream *s);

/* Close gracefully: send </stream:stream>, wait for the peer's (bounded by
 * close_timeout_ms), then report closed. */
int canto__stream_close(canto__stream *s, uint64_t now);

/* Whether the current stream's features include @p name in @p ns (NULL:
 * any namespace); also after establishment, when only names are kept. */
int canto__stream_has_feature(const canto__stream *s, const char *name, const char *ns);
/* The features of the current stream (borrowed; NULL before they arrive and
 * once the stream is established). */
const canto_stanza *canto__stream_features(const canto__stream *s);
int canto__stream_established(const canto__stream *s);
/* 1 once TLS is up on this stream (also a link-local one), else 0. */
int canto__stream_encrypted(const canto__stream *s);

#endif
