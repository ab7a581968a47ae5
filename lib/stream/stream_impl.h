/* Private layout of the stream engine, shared by stream.c (life cycle, bytes in
 * and out, timers, closing), stream_negotiate.c (what each received element
 * means in each phase) and stream_header.c (the stream element itself). */
#ifndef CANTO_STREAM_STREAM_IMPL_H
#define CANTO_STREAM_STREAM_IMPL_H

#include "base/buf.h"
#include "net/tls.h"
#include "stream/stream.h"
#include "xml/reader.h"

typedef struct canto__sasl canto__sasl;

#define CANTO__NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define CANTO__NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define CANTO__NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define CANTO__NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define CANTO__NS_PING "urn:xmpp:ping"

typedef enum phase {
    PH_IDLE,           /* created, not started */
    PH_TLS_HANDSHAKE,  /* TLS handshake (direct, or after <proceed/>) */
    PH_AWAIT_HEADER,   /* our header sent (or, receiver: waiting for theirs) */
    PH_AWAIT_FEATURES, /* their header received, features not yet */
    PH_LL_OFFERED,     /* link-local receiver: <starttls/> offered, the peer's choice pending */
    PH_STARTTLS,       /* <starttls/> sent */
    PH_SASL,           /* <auth/> sent */
    PH_BIND,           /* bind iq sent */
    PH_SESSION,        /* legacy session iq sent */
    PH_SM_RESUME,      /* <resume/> sent */
    PH_SM_ENABLE,      /* <enable/> sent */
    PH_ESTABLISHED,
    PH_CLOSING, /* our </stream:stream> sent, waiting for theirs */
    PH_CLOSED,
} phase;

struct canto__stream {
    canto__alloc alloc;
    const canto__log *log;
    canto__stream_events ev;
    void *ud;

    canto__stream_role role;
    int link_local;
    int preauth;
    canto__stream_tls tls_mode;
    char *domain, *from, *resource;
    const canto__tls_config *tls_config;
    const canto__sasl_config *sasl_config;
    canto__stream_ll_tls ll_tls;
    /* What link-local TLS needs, owned: tls_config points here then. */
    canto__tls_config ll_tls_config;
    char *ll_cert_file, *ll_key_file;
    canto_spki_pin *ll_pins;
    uint32_t negotiation_ms, close_ms, keepalive_ms, ping_after_ms, dead_after_ms;

    phase ph;
    canto__reader *reader;
    canto__tls *tls; /* non-NULL once TLS started */
    int tls_up;      /* handshake finished and verified */
    canto__sasl *sasl;
    int authenticated;
    int restart_pending;    /* the reader reset for a stream restart */
    canto_stanza *features; /* of the current stream, until established */
    char *feature_names;    /* once established: condensed names (canto_free) */
    char *bound_jid;
    char iq_id[24];   /* id of the negotiation iq in flight (bind, session) */
    char ping_id[24]; /* id of the liveness ping in flight, or "" */

    canto__buf out; /* plaintext before TLS; nothing once TLS owns the output */
    size_t out_off;

    uint64_t now;
    uint64_t step_deadline; /* negotiation step or close wait; UINT64_MAX: none */
    uint64_t last_in, last_out;
    uint64_t ping_sent_at; /* 0: no liveness ping in flight */

    canto__sm *sm; /* borrowed from the caller; NULL: no XEP-0198 */
    int sm_on;     /* enabled or resumed on this stream */
    int resumed;   /* this stream resumed the previous session */
    uint32_t sm_ack_every, sm_ack_ms;
    uint32_t sm_since_r; /* counted stanzas sent since our last <r/> */
    uint64_t sm_r_at;    /* when an ack request falls due; 0: none */
    int ended;           /* closed event delivered */
};

/* stream.c */
void canto__stream_write(canto__stream *s, const char *data, size_t len);
void canto__stream_write_stanza(canto__stream *s, const canto_stanza *st);
/* End the stream: optionally send a stream error (CANTO_STREAM_COND_NONE: none)
 * and our close tag, then deliver the closed event once. */
void canto__stream_fail(canto__stream *s, int error, canto_stream_condition send_cond,
                        const canto__stream_end *end);
void canto__stream_step_timer(canto__stream *s);
void canto__stream_make_id(canto__stream *s, char *buf, size_t cap);

/* stream_header.c */
void canto__stream_send_header(canto__stream *s);
/* Checks the peer's header; 0 or a stream condition to fail with. */
canto_stream_condition canto__stream_check_header(canto__stream *s, const canto_stanza *hdr);

/* stream_negotiate.c */
void canto__stream_on_element(canto__stream *s, canto_stanza *el);
void canto__stream_after_features(canto__stream *s);
void canto__stream_send_bind(canto__stream *s);
void canto__stream_established_now(canto__stream *s);
void canto__stream_tls_done(canto__stream *s);
/* A link-local receiver answering a stream header (the first, or the one
 * after TLS): send its features and go on from there. */
void canto__stream_ll_features(canto__stream *s);

/* stream_tls.c: TLS glue */
int canto__stream_tls_begin(canto__stream *s);
/* Push ciphertext in, drive the handshake, hand plaintext to the reader. */
int canto__stream_tls_input(canto__stream *s, const char *data, size_t len);
void canto__stream_tls_write(canto__stream *s, const char *data, size_t len);
size_t canto__stream_tls_out(canto__stream *s, const char **data);
void canto__stream_tls_consume(canto__stream *s, size_t n);
void canto__stream_tls_free(canto__stream *s);

/* stream_sasl.c: SASL glue */
int canto__stream_sasl_begin(canto__stream *s, const canto_stanza *mechanisms);
void canto__stream_sasl_element(canto__stream *s, canto_stanza *el);
void canto__stream_sasl_free(canto__stream *s);

/* stream_sm.c: XEP-0198 */
/* After authentication: send <resume/> if a session can be resumed. 1 if sent. */
int canto__stream_sm_try_resume(canto__stream *s);
/* After binding: send <enable/> if the server offers SM; 1 if sent. */
int canto__stream_sm_try_enable(canto__stream *s);
/* An element in the SM namespace; 1 if it was one (and consumed). */
int canto__stream_sm_element(canto__stream *s, canto_stanza *el);
/* A counted stanza arrived on an SM stream. */
void canto__stream_sm_received(canto__stream *s, const canto_stanza *el);
/* Write a stanza; queue it for acks if it counts. */
void canto__stream_sm_send(canto__stream *s, const canto_stanza *st, uint64_t token);
uint64_t canto__stream_sm_deadline(const canto__stream *s);
void canto__stream_sm_timeout(canto__stream *s);
void canto__stream_sm_request(canto__stream *s);

/* Hand plaintext to the reader, handling restarts requested from inside it. */
int canto__stream_parse(canto__stream *s, const char *data, size_t len);

#endif
