/* Stream engine life cycle: bytes in and out, timers, sending, closing. */
#include "stream/stream_impl.h"

#include <stdio.h>
#include <string.h>

#include <canto/error.h>
#include "base/id.h"
#include "stream/sm.h"
#include "stream/stream_error.h"
#include "xml/tree.h"

#define DEF_NEGOTIATION_MS 30000u
#define DEF_CLOSE_MS 5000u
#define DEF_KEEPALIVE_MS 60000u
#define DEF_PING_AFTER_MS 120000u
#define DEF_DEAD_AFTER_MS 30000u

static char *dup_opt(const canto__alloc *a, const char *s, int *failed)
{
    if (!s)
        return NULL;
    char *d = canto__strndup(a, s, strlen(s));
    if (!d)
        *failed = 1;
    return d;
}

/* --- reader events ------------------------------------------------------- */

static void on_open(void *ud, const canto_stanza *hdr)
{
    canto__stream *s = ud;
    if (s->ended)
        return;
    canto_stream_condition c = canto__stream_check_header(s, hdr);
    if (c != CANTO_STREAM_COND_NONE) {
        canto__stream_end end = {
            CANTO_EPROTO, c, 0, NULL, NULL, NULL, "the peer's stream header is not acceptable"};
        canto__stream_fail(s, CANTO_EPROTO, c, &end);
        return;
    }
    if (s->link_local) {
        /* The peer's address is what `established` reports on a link-local
         * stream, also when it comes later, after the peer's features. */
        const char *from = canto_stanza_attr(hdr, "from");
        canto__dealloc(&s->alloc, s->bound_jid);
        s->bound_jid = from ? canto__strndup(&s->alloc, from, strlen(from)) : NULL;
        if (from && !s->bound_jid) {
            canto__stream_end end = {
                CANTO_ENOMEM,   CANTO_STREAM_COND_RESOURCE_CONSTRAINT, 0, NULL, NULL, NULL,
                "out of memory"};
            canto__stream_fail(s, CANTO_ENOMEM, end.condition, &end);
            return;
        }
    }
    if (s->role == CANTO__STREAM_RECEIVER)
        canto__stream_send_header(s);
    const char *version = canto_stanza_attr(hdr, "version");
    if (s->link_local && !version) {
        /* A pre-1.0 link-local peer sends no features (XEP-0174 §6), so it
         * can neither see an offer of TLS nor make one. */
        if (s->ll_tls == CANTO__LL_TLS_REQUIRE && !s->tls_up) {
            canto_stream_condition pc = s->role == CANTO__STREAM_RECEIVER
                                            ? CANTO_STREAM_COND_POLICY_VIOLATION
                                            : CANTO_STREAM_COND_NONE;
            canto__stream_end end = {
                CANTO_ETLS,
                pc,
                0,
                NULL,
                NULL,
                NULL,
                "the peer's stream predates XMPP 1.0 and cannot do the TLS this stream requires"};
            canto__stream_fail(s, CANTO_ETLS, pc, &end);
            return;
        }
        s->ph = PH_ESTABLISHED;
        s->step_deadline = UINT64_MAX;
        if (s->ev.established)
            s->ev.established(s->ud, s->bound_jid);
        return;
    }
    if (s->role == CANTO__STREAM_RECEIVER) {
        canto__stream_ll_features(s);
        return;
    }
    s->ph = PH_AWAIT_FEATURES;
}

static void on_element(void *ud, canto_stanza *el)
{
    canto__stream *s = ud;
    if (s->ended || s->ph == PH_CLOSED) {
        canto_stanza_free(el);
        return;
    }
    canto__stream_on_element(s, el);
}

static void on_close(void *ud)
{
    canto__stream *s = ud;
    if (s->ended)
        return;
    int we_closed = s->ph == PH_CLOSING;
    if (!we_closed)
        canto__stream_write(s, "</stream:stream>", 16);
    s->ph = PH_CLOSED; /* our close tag is out either way */
    canto__stream_end end = {we_closed ? 0 : CANTO_ECLOSED,
                             CANTO_STREAM_COND_NONE,
                             0,
                             NULL,
                             NULL,
                             NULL,
                             we_closed ? "stream closed" : "the peer closed the stream"};
    canto__stream_fail(s, end.error, CANTO_STREAM_COND_NONE, &end);
}

static canto_stream_condition cond_for_reader_error(int code)
{
    switch (code) {
    case CANTO_ERESTRICTED:
        return CANTO_STREAM_COND_RESTRICTED_XML;
    case CANTO_ETOOBIG:
        return CANTO_STREAM_COND_POLICY_VIOLATION;
    case CANTO_ETOODEEP:
        return CANTO_STREAM_COND_POLICY_VIOLATION;
    case CANTO_EENCODING:
        return CANTO_STREAM_COND_UNSUPPORTED_ENCODING;
    case CANTO_ENOMEM:
        return CANTO_STREAM_COND_RESOURCE_CONSTRAINT;
    default:
        return CANTO_STREAM_COND_NOT_WELL_FORMED;
    }
}

static void on_error(void *ud, int code, const char *msg)
{
    canto__stream *s = ud;
    if (s->ended)
        return;
    canto__logf(s->log, CANTO_LOG_WARN, "stream", "bad XML from peer: %s", msg);
    char detail[256];
    snprintf(detail, sizeof(detail), "the peer sent bad XML: %s", msg);
    canto_stream_condition c = cond_for_reader_error(code);
    canto__stream_end end = {code, c, 0, NULL, NULL, NULL, detail};
    canto__stream_fail(s, code, c, &end);
}

/* --- life cycle ----------------------------------------------------------- */

/* Link-local TLS settings become a session config of our own, so the caller
 * need not keep anything alive and cannot get the verification wrong. */
static int ll_tls_setup(canto__stream *s, const canto__stream_config *cfg)
{
    int failed = 0;
    s->ll_tls = cfg->ll_tls;
    s->ll_cert_file = dup_opt(&s->alloc, cfg->ll_cert_file, &failed);
    s->ll_key_file = dup_opt(&s->alloc, cfg->ll_key_file, &failed);
    if (cfg->ll_n_pins) {
        s->ll_pins = canto__calloc(&s->alloc, cfg->ll_n_pins, sizeof(*s->ll_pins));
        if (!s->ll_pins)
            return -1;
        memcpy(s->ll_pins, cfg->ll_pins, cfg->ll_n_pins * sizeof(*s->ll_pins));
    }
    if (failed)
        return -1;
    canto__tls_config tc = CANTO__TLS_CONFIG_INIT;
    if (cfg->role == CANTO__STREAM_RECEIVER) {
        tc.role = CANTO__TLS_SERVER;
    } else {
        tc.link_local = 1;
        tc.no_system_trust = 1; /* no CA has a say, so none is loaded */
        tc.pins = s->ll_pins;
        tc.n_pins = cfg->ll_n_pins;
    }
    tc.cert_file = s->ll_cert_file;
    tc.key_file = s->ll_key_file;
    s->ll_tls_config = tc;
    s->tls_config = &s->ll_tls_config;
    return 0;
}

int canto__stream_new(const canto__alloc *alloc, const canto__log *log,
                      const canto__stream_config *cfg, const canto__stream_events *ev, void *ud,
                      canto__stream **out)
{
    if (!alloc || !cfg || !ev || !out)
        return CANTO_EINVAL;
    *out = NULL;
    if (cfg->role == CANTO__STREAM_INITIATOR && !cfg->domain)
        return CANTO_EINVAL;
    if (cfg->tls != CANTO__TLS_NONE && !cfg->tls_config)
        return CANTO_EINVAL;
    if (!cfg->link_local && cfg->role == CANTO__STREAM_INITIATOR && !cfg->sasl_config)
        return CANTO_EINVAL;
    if (cfg->link_local && cfg->ll_tls != CANTO__LL_TLS_OFF) {
        if ((unsigned)cfg->ll_tls > CANTO__LL_TLS_REQUIRE || (cfg->ll_n_pins && !cfg->ll_pins) ||
            !cfg->ll_cert_file != !cfg->ll_key_file)
            return CANTO_EINVAL;
        /* A receiver offering TLS has to be able to serve it. */
        if (cfg->role == CANTO__STREAM_RECEIVER && !cfg->ll_cert_file)
            return CANTO_EINVAL;
    }
    canto__stream *s = canto__calloc(alloc, 1, sizeof(*s));
    if (!s)
        return CANTO_ENOMEM;
    s->alloc = *alloc;
    s->log = log;
    s->ev = *ev;
    s->ud = ud;
    s->role = cfg->role;
    s->link_local = cfg->link_local;
    s->preauth = cfg->preauth;
    s->sm = cfg->sm;
    s->sm_ack_every = cfg->sm_ack_every ? cfg->sm_ack_every : 5;
    s->sm_ack_ms = cfg->sm_ack_ms ? cfg->sm_ack_ms : 5000;
    s->tls_mode = cfg->tls;
    s->tls_config = cfg->tls_config;
    s->sasl_config = cfg->sasl_config;
    s->negotiation_ms =
        cfg->negotiation_timeout_ms ? cfg->negotiation_timeout_ms : DEF_NEGOTIATION_MS;
    s->close_ms = cfg->close_timeout_ms ? cfg->close_timeout_ms : DEF_CLOSE_MS;
    s->keepalive_ms = cfg->keepalive_ms ? cfg->keepalive_ms : DEF_KEEPALIVE_MS;
    s->ping_after_ms = cfg->ping_after_ms ? cfg->ping_after_ms : DEF_PING_AFTER_MS;
    s->dead_after_ms = cfg->dead_after_ms ? cfg->dead_after_ms : DEF_DEAD_AFTER_MS;
    s->step_deadline = UINT64_MAX;
    canto__buf_init(&s->out, &s->alloc);
    int failed = 0;
    s->domain = dup_opt(alloc, cfg->domain, &failed);
    s->from = dup_opt(alloc, cfg->from, &failed);
    s->resource = dup_opt(alloc, cfg->resource, &failed);
    if (cfg->link_local && cfg->ll_tls != CANTO__LL_TLS_OFF && !failed && ll_tls_setup(s, cfg) != 0)
        failed = 1;
    canto__reader_options ro = {cfg->max_stanza_bytes, 0, 0};
    canto__reader_events re = {on_open, on_element, on_close, on_error};
    if (failed || canto__reader_new(&s->alloc, &ro, &re, s, &s->reader) != 0) {
        canto__stream_free(s);
        return CANTO_ENOMEM;
    }
    *out = s;
    return 0;
}

void canto__stream_free(canto__stream *s)
{
    if (!s)
        return;
    canto__reader_free(s->reader);
    canto__stream_tls_free(s);
    canto__stream_sasl_free(s);
    canto_stanza_free(s->features);
    canto_free(s->feature_names);
    canto__buf_free(&s->out);
    canto__dealloc(&s->alloc, s->domain);
    canto__dealloc(&s->alloc, s->from);
    canto__dealloc(&s->alloc, s->resource);
    canto__dealloc(&s->alloc, s->bound_jid);
    canto__dealloc(&s->alloc, s->ll_cert_file);
    canto__dealloc(&s->alloc, s->ll_key_file);
    canto__dealloc(&s->alloc, s->ll_pins);
    canto__dealloc(&s->alloc, s);
}

void canto__stream_step_timer(canto__stream *s)
{
    s->step_deadline = s->now + s->negotiation_ms;
}

int canto__stream_start(canto__stream *s, uint64_t now)
{
    if (!s || s->ph != PH_IDLE)
        return CANTO_ESTATE;
    s->now = s->last_in = s->last_out = now;
    canto__stream_step_timer(s);
    if (s->role == CANTO__STREAM_RECEIVER) {
        s->ph = PH_AWAIT_HEADER;
        return 0;
    }
    if (s->tls_mode == CANTO__TLS_DIRECT) {
        s->ph = PH_TLS_HANDSHAKE;
        return canto__stream_tls_begin(s);
    }
    canto__stream_send_header(s);
    return 0;
}

/* --- bytes in ------------------------------------------------------------ */

int canto__stream_parse(canto__stream *s, const char *data, size_t len)
{
    while (len > 0 && !s->ended) {
        size_t used = 0;
        s->restart_pending = 0;
        int rc = canto__reader_feed(s->reader, data, len, &used);
        if (rc)
            return rc; /* reported through on_error */
        data += used;
        len -= used;
        if (len > 0 && s->ph == PH_TLS_HANDSHAKE) {
            /* Bytes after <proceed/> (or, receiving, after <starttls/>) were
             * sent in the clear once both sides had agreed to encrypt: an
             * attacker's injection, never to be read. */
            canto__stream_end end = {CANTO_EPROTO,
                                     CANTO_STREAM_COND_NONE,
                                     0,
                                     NULL,
                                     NULL,
                                     NULL,
                                     s->role == CANTO__STREAM_RECEIVER
                                         ? "plaintext data followed <starttls/>"
                                         : "plaintext data followed <proceed/>"};
            canto__stream_fail(s, CANTO_EPROTO, CANTO_STREAM_COND_NONE, &end);
            return CANTO_EPROTO;
        }
    }
    return 0;
}

int canto__stream_feed(canto__stream *s, const void *data, size_t len, uint64_t now)
{
    if (!s)
        return CANTO_EINVAL;
    if (s->ended)
        return CANTO_ECLOSED;
    if (s->ph == PH_IDLE)
        return CANTO_ESTATE;
    s->now = now;
    if (len) {
        /* Anything at all from the peer proves the connection alive. */
        s->last_in = now;
        s->ping_sent_at = 0;
    }
    /* Every failure below ends the stream; its code is kept in s->ended. */
    if (s->tls) {
        canto__stream_tls_input(s, data, len);
    } else {
        if (s->ev.trace && len)
            s->ev.trace(s->ud, 0, data, len);
        canto__stream_parse(s, data, len);
    }
    if (s->ended)
        return s->ended < 0 ? s->ended : CANTO_ECLOSED;
    return 0;
}

void canto__stream_eof(canto__stream *s, int error)
{
    if (!s || s->ended)
        return;
    int clean = s->ph == PH_CLOSING && !error;
    canto__stream_end end = {clean ? 0 : (error ? error : CANTO_ECLOSED),
                             CANTO_STREAM_COND_NONE,
                             0,
                             NULL,
                             NULL,
                             NULL,
                             error ? "the connection failed" : "the peer closed the connection"};
    s->ph = PH_CLOSED;
    canto__stream_fail(s, end.error, CANTO_STREAM_COND_NONE, &end);
}

/* --- bytes out ----------------------------------------------------------- */

void canto__stream_write(canto__stream *s, const char *data, size_t len)
{
    if (s->ev.trace && len)
        s->ev.trace(s->ud, 1, data, len);
    s->last_out = s->now;
    if (s->tls_up) {
        canto__stream_tls_write(s, data, len);
        return;
    }
    canto__buf_append(&s->out, data, len);
}

void canto__stream_write_stanza(canto__stream *s, const canto_stanza *st)
{
    /* Serialize in place: the common case needs no temporary copy. Tracing
     * and TLS need the bytes as one run, which a scratch buffer provides. */
    if (!s->tls_up && !s->ev.trace) {
        canto__serialize_into(&s->out, st, CANTO_NS_CLIENT);
        s->last_out = s->now;
        return;
    }
    canto__buf tmp;
    canto__buf_init(&tmp, &s->alloc);
    canto__serialize_into(&tmp, st, CANTO_NS_CLIENT);
    if (tmp.failed)
        s->out.failed = 1;
    else
        canto__stream_write(s, tmp.data, tmp.len);
    canto__buf_free(&tmp);
}

size_t canto__stream_out(canto__stream *s, const char **data)
{
    if (s->out_off < s->out.len) {
        *data = s->out.data + s->out_off;
        return s->out.len - s->out_off;
    }
    if (s->tls)
        return canto__stream_tls_out(s, data);
    *data = NULL;
    return 0;
}

void canto__stream_consume(canto__stream *s, size_t n, uint64_t now)
{
    s->now = now;
    if (s->out_off < s->out.len) {
        s->out_off += n;
        if (s->out_off >= s->out.len) {
            /* Give the memory back: idle connections should cost little. */
            canto__buf_free(&s->out);
            s->out_off = 0;
        }
        return;
    }
    if (s->tls)
        canto__stream_tls_consume(s, n);
}

/* --- ids ------------------------------------------------------------------ */

void canto__stream_make_id(canto__stream *s, char *buf, size_t cap)
{
    if (canto__random_id(buf, cap) != 0) {
        /* Unpredictability is a defence, uniqueness is the requirement. */
        snprintf(buf, cap, "c%llx", (unsigned long long)s->now);
    }
}

/* --- sending and closing -------------------------------------------------- */

int canto__stream_send_counted(canto__stream *s, const canto_stanza *stanza, uint64_t token,
                               uint64_t now)
{
    if (!s || !stanza || canto_stanza_kind(stanza) != CANTO_NODE_ELEMENT)
        return CANTO_EINVAL;
    if (s->ended || s->ph != PH_ESTABLISHED)
        return CANTO_ESTATE;
    s->now = now;
    if (s->sm_on)
        canto__stream_sm_send(s, stanza, token);
    else
        canto__stream_write_stanza(s, stanza);
    return s->out.failed ? CANTO_ENOMEM : 0;
}

int canto__stream_send(canto__stream *s, const canto_stanza *stanza, uint64_t now)
{
    return canto__stream_send_counted(s, stanza, 0, now);
}

int canto__stream_resumed(const canto__stream *s)
{
    return s && s->resumed;
}

int canto__stream_sm_active(const canto__stream *s)
{
    return s && s->sm_on;
}

int canto__stream_close(canto__stream *s, uint64_t now)
{
    if (!s || s->ended)
        return CANTO_ESTATE;
    s->now = now;
    if (s->ph == PH_CLOSING)
        return 0;
    if (s->ph == PH_IDLE) {
        canto__stream_end end = {0,    CANTO_STREAM_COND_NONE,    0, NULL, NULL,
                                 NULL, "closed before it started"};
        s->ph = PH_CLOSED;
        canto__stream_fail(s, 0, CANTO_STREAM_COND_NONE, &end);
        return 0;
    }
    if (s->ph == PH_TLS_HANDSHAKE ||
        (s->ph == PH_AWAIT_HEADER && s->role == CANTO__STREAM_RECEIVER)) {
        /* No stream of ours is open: during the handshake a close tag would
         * go out in the clear among the TLS records (and the handshake's end
         * would still open a stream); a receiver has not answered yet. There
         * is nothing to close and nothing to wait for: end here. */
        canto__stream_end end = {0,    CANTO_STREAM_COND_NONE,           0, NULL, NULL,
                                 NULL, "closed before our stream opened"};
        s->ph = PH_CLOSED; /* so that no close tag is written */
        canto__stream_fail(s, 0, CANTO_STREAM_COND_NONE, &end);
        return 0;
    }
    if (s->sm_on && s->sm && canto__sm_unacked(s->sm))
        canto__stream_sm_request(s); /* the answer precedes the peer's close tag */
    canto__stream_write(s, "</stream:stream>", 16);
    s->ph = PH_CLOSING;
    s->step_deadline = now + s->close_ms;
    return 0;
}

void canto__stream_fail(canto__stream *s, int error, canto_stream_condition send_cond,
                        const canto__stream_end *end)
{
    if (s->ended)
        return;
    if (send_cond != CANTO_STREAM_COND_NONE && s->ph != PH_IDLE && s->ph != PH_CLOSED &&
        s->ph != PH_TLS_HANDSHAKE) {
        if (s->ph == PH_AWAIT_HEADER && s->role == CANTO__STREAM_RECEIVER)
            canto__stream_send_header(s); /* an error needs a stream to travel in */
        const char *name = canto_stream_condition_name(send_cond);
        char buf[160];
        int n = snprintf(buf, sizeof(buf),
                         "<stream:error><%s xmlns='" CANTO__NS_STREAM_ERRORS "'/></stream:error>",
                         name ? name : "undefined-condition");
        canto__stream_write(s, buf, (size_t)n);
    }
    if (s->ph != PH_CLOSING && s->ph != PH_CLOSED && s->ph != PH_IDLE && s->ph != PH_TLS_HANDSHAKE)
        canto__stream_write(s, "</stream:stream>", 16);
    s->ph = PH_CLOSED;
    /* Non-zero: the closed event was delivered. Negative: also the error it
     * reported, which canto__stream_feed() returns (a stream error or a
     * SASL failure is not a parse error, so the feed has no code of its own). */
    s->ended = error < 0 ? error : 1;
    s->step_deadline = UINT64_MAX;
    canto__logf(s->log, error ? CANTO_LOG_WARN : CANTO_LOG_INFO, "stream", "stream ended: %s",
                end->detail);
    if (s->ev.closed)
        s->ev.closed(s->ud, end);
}

/* --- timers ---------------------------------------------------------------- */

uint64_t canto__stream_deadline(const canto__stream *s)
{
    if (!s || s->ended)
        return UINT64_MAX;
    uint64_t d = s->step_deadline;
    if (s->ph == PH_ESTABLISHED && !s->link_local) {
        uint64_t k = s->last_out + s->keepalive_ms;
        uint64_t p =
            s->ping_sent_at ? s->ping_sent_at + s->dead_after_ms : s->last_in + s->ping_after_ms;
        if (k < d)
            d = k;
        if (p < d)
            d = p;
        uint64_t r = canto__stream_sm_deadline(s);
        if (r < d)
            d = r;
    }
    return d;
}

static void send_ping(canto__stream *s)
{
    if (s->sm_on) {
        /* An ack request proves liveness without adding a counted stanza. */
        canto__stream_sm_request(s);
        s->ping_sent_at = s->now;
        return;
    }
    canto__stream_make_id(s, s->ping_id, sizeof(s->ping_id));
    char buf[160];
    int n = snprintf(buf, sizeof(buf), "<iq type='get' id='%s' to='%s'><ping xmlns='%s'/></iq>",
                     s->ping_id, s->domain, CANTO__NS_PING);
    canto__stream_write(s, buf, (size_t)n);
    s->ping_sent_at = s->now;
}

void canto__stream_timeout(canto__stream *s, uint64_t now)
{
    if (!s || s->ended)
        return;
    s->now = now;
    if (now >= s->step_deadline && s->ph == PH_LL_OFFERED && s->ll_tls != CANTO__LL_TLS_REQUIRE) {
        /* An initiator that wanted TLS would have asked at once; a silent
         * one is a plaintext peer with nothing to say yet, and should not
         * keep our side from sending. */
        canto__logf(s->log, CANTO_LOG_INFO, "stream", "the peer did not ask for TLS");
        canto__stream_established_now(s);
        return;
    }
    if (now >= s->step_deadline) {
        int closing = s->ph == PH_CLOSING;
        canto__stream_end end = {closing ? 0 : CANTO_ETIMEDOUT,
                                 closing ? CANTO_STREAM_COND_NONE
                                         : CANTO_STREAM_COND_CONNECTION_TIMEOUT,
                                 0,
                                 NULL,
                                 NULL,
                                 NULL,
                                 closing ? "the peer did not close its stream in time"
                                         : "the peer did not answer in time"};
        canto__stream_fail(s, end.error, end.condition, &end);
        return;
    }
    if (s->ph != PH_ESTABLISHED || s->link_local)
        return;
    if (s->ping_sent_at && now >= s->ping_sent_at + s->dead_after_ms) {
        canto__stream_end end = {CANTO_ETIMEDOUT,
                                 CANTO_STREAM_COND_NONE,
                                 0,
                                 NULL,
                                 NULL,
                                 NULL,
                                 "the connection is dead: nothing received after a ping"};
        canto__stream_fail(s, CANTO_ETIMEDOUT, CANTO_STREAM_COND_NONE, &end);
        return;
    }
    canto__stream_sm_timeout(s);
    if (!s->ping_sent_at && now >= s->last_in + s->ping_after_ms)
        send_ping(s);
    if (now >= s->last_out + s->keepalive_ms)
        canto__stream_write(s, " ", 1);
}

/* --- queries ---------------------------------------------------------------- */

int canto__stream_has_feature(const canto__stream *s, const char *name, const char *ns)
{
    if (!s || !name)
        return 0;
    if (s->features)
        return canto_stanza_child(s->features, name, ns) != NULL;
    size_t nl = strlen(name), sl = ns ? strlen(ns) : 0;
    for (const char *p = s->feature_names; p && *p;) {
        const char *us = strchr(p, '\x1f');
        const char *rs = us ? strchr(us, '\x1e') : NULL;
        if (!rs)
            break;
        if ((size_t)(rs - us - 1) == nl && memcmp(us + 1, name, nl) == 0 &&
            (!ns || ((size_t)(us - p) == sl && memcmp(p, ns, sl) == 0)))
            return 1;
        p = rs + 1;
    }
    return 0;
}

const canto_stanza *canto__stream_features(const canto__stream *s)
{
    return s ? s->features : NULL;
}

int canto__stream_established(const canto__stream *s)
{
    return s && s->ph == PH_ESTABLISHED && !s->ended;
}

int canto__stream_encrypted(const canto__stream *s)
{
    return s && s->tls_up;
}
