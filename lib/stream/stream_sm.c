/* XEP-0198 on the stream: enable or resume after authentication, answer and
 * send ack requests, count stanzas both ways, and keep sent stanzas queued
 * until acked (the queue itself is canto__sm, owned by the caller). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>
#include "stream/sm.h"
#include "stream/stream_impl.h"
#include "xml/tree.h"

#define NS_SM "urn:xmpp:sm:3"

static int counts(const canto_stanza *st)
{
    const char *n = canto_stanza_name(st);
    return canto_stanza_is(st, NULL, CANTO_NS_CLIENT) &&
           (strcmp(n, "message") == 0 || strcmp(n, "presence") == 0 || strcmp(n, "iq") == 0);
}

static int parse_h(const canto_stanza *el, uint32_t *h)
{
    const char *v = canto_stanza_attr(el, "h");
    if (!v || !*v)
        return 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || x > UINT32_MAX || v[0] == '-')
        return 0;
    *h = (uint32_t)x;
    return 1;
}

static void fail(canto__stream *s, int error, canto_stream_condition cond, const char *detail)
{
    canto__stream_end end = {error, cond, 0, NULL, NULL, NULL, detail};
    canto__stream_fail(s, error, cond, &end);
}

void canto__stream_sm_request(canto__stream *s)
{
    static const char r[] = "<r xmlns='" NS_SM "'/>";
    canto__stream_write(s, r, sizeof(r) - 1);
    s->sm_since_r = 0;
    s->sm_r_at = 0;
}

static void send_answer(canto__stream *s)
{
    char a[80];
    int n =
        snprintf(a, sizeof(a), "<a xmlns='" NS_SM "' h='%" PRIu32 "'/>", canto__sm_received(s->sm));
    canto__stream_write(s, a, (size_t)n);
}

/* An ack for more than we sent is the peer's bug or an attack on the queue;
 * XEP-0198 §4 says to end the stream with this condition. */
static int apply_ack(canto__stream *s, uint32_t h)
{
    if (canto__sm_ack(s->sm, h) == 0) {
        /* Nothing left unacknowledged: no ack request falls due for it. */
        if (canto__sm_unacked(s->sm) == 0)
            s->sm_r_at = 0;
        return 0;
    }
    char err[200];
    int n = snprintf(err, sizeof(err),
                     "<stream:error><undefined-condition "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><handled-count-too-high "
                     "xmlns='" NS_SM "' h='%" PRIu32 "' send-count='%" PRIu32 "'/></stream:error>",
                     h, canto__sm_sent(s->sm));
    canto__stream_write(s, err, (size_t)n);
    /* The stream error is written above (it carries the SM element); the
     * closed event still names the condition we sent. */
    canto__stream_end end = {
        CANTO_EPROTO,
        CANTO_STREAM_COND_UNDEFINED_CONDITION,
        0,
        NULL,
        NULL,
        NULL,
        "the server acknowledged more stanzas than were sent (handled-count-too-high)"};
    canto__stream_fail(s, CANTO_EPROTO, CANTO_STREAM_COND_NONE, &end);
    return CANTO_EPROTO;
}

int canto__stream_sm_try_resume(canto__stream *s)
{
    if (!s->sm || !canto__sm_id(s->sm) || !canto_stanza_child(s->features, "sm", NS_SM))
        return 0;
    canto__buf b;
    canto__buf_init(&b, &s->alloc);
    char h[16];
    snprintf(h, sizeof(h), "%" PRIu32, canto__sm_received(s->sm));
    canto__buf_puts(&b, "<resume xmlns='" NS_SM "' h='");
    canto__buf_puts(&b, h);
    canto__buf_puts(&b, "' previd='");
    const char *id = canto__sm_id(s->sm);
    canto__xml_escape_into(&b, id, strlen(id), 1);
    canto__buf_puts(&b, "'/>");
    if (b.failed) {
        canto__buf_free(&b);
        return 0; /* fall back to a new session */
    }
    canto__stream_write(s, b.data, b.len);
    canto__buf_free(&b);
    s->ph = PH_SM_RESUME;
    canto__stream_step_timer(s);
    return 1;
}

int canto__stream_sm_try_enable(canto__stream *s)
{
    if (!s->sm || !canto_stanza_child(s->features, "sm", NS_SM))
        return 0;
    static const char enable[] = "<enable xmlns='" NS_SM "' resume='true'/>";
    /* The outbound count starts with <enable/> (XEP-0198 §4). */
    canto__sm_reset_counters(s->sm);
    canto__stream_write(s, enable, sizeof(enable) - 1);
    s->ph = PH_SM_ENABLE;
    canto__stream_step_timer(s);
    return 1;
}

static void on_enabled(canto__stream *s, const canto_stanza *el)
{
    const char *resume = canto_stanza_attr(el, "resume");
    int resumable = resume && (strcmp(resume, "true") == 0 || strcmp(resume, "1") == 0);
    const char *max = canto_stanza_attr(el, "max");
    if (canto__sm_enabled(s->sm, resumable ? canto_stanza_attr(el, "id") : NULL,
                          resumable ? canto_stanza_attr(el, "location") : NULL,
                          max ? (uint32_t)strtoul(max, NULL, 10) : 0) != 0) {
        fail(s, CANTO_ENOMEM, CANTO_STREAM_COND_NONE, "out of memory");
        return;
    }
    s->sm_on = 1;
    canto__logf(s->log, CANTO_LOG_INFO, "sm", "stream management enabled%s",
                resumable ? " (resumable)" : "");
    canto__stream_established_now(s);
}

static void on_resumed(canto__stream *s, const canto_stanza *el)
{
    uint32_t h;
    if (!parse_h(el, &h)) {
        fail(s, CANTO_EPROTO, CANTO_STREAM_COND_NONE, "<resumed/> without a valid h");
        return;
    }
    if (apply_ack(s, h))
        return;
    s->sm_on = 1;
    s->resumed = 1;
    /* Inbound counting continues from the h we sent with <resume/>. */
    canto__logf(s->log, CANTO_LOG_INFO, "sm", "session resumed; resending %zu stanza(s)",
                canto__sm_unacked(s->sm));
    for (size_t i = 0; i < canto__sm_unacked(s->sm); i++) {
        size_t len;
        const char *xml = canto__sm_entry(s->sm, i, &len, NULL);
        canto__stream_write(s, xml, len);
    }
    if (canto__sm_unacked(s->sm))
        canto__stream_sm_request(s);
    canto__stream_established_now(s);
}

/* Resumption refused: acknowledge what the server says it got, forget the old
 * session, and bind a new one. What stays queued is the caller's to resend or
 * fail once the new session is up (canto__stream_resumed() reads 0). */
static void on_resume_failed(canto__stream *s, const canto_stanza *el)
{
    uint32_t h;
    if (parse_h(el, &h) && apply_ack(s, h))
        return;
    canto__sm_forget_session(s->sm);
    canto__logf(s->log, CANTO_LOG_INFO, "sm", "resumption refused; starting a new session");
    if (!canto_stanza_child(s->features, "bind", CANTO__NS_BIND)) {
        fail(s, CANTO_EPROTO, CANTO_STREAM_COND_NONE, "the server offers no resource binding");
        return;
    }
    canto__stream_send_bind(s);
}

int canto__stream_sm_element(canto__stream *s, canto_stanza *el)
{
    if (!canto_stanza_is(el, NULL, NS_SM))
        return 0;
    if (!s->sm)
        return 1; /* stream management is off: its elements are nobody's */
    const char *n = canto_stanza_name(el);
    if (s->ph == PH_SM_ENABLE) {
        if (strcmp(n, "enabled") == 0) {
            on_enabled(s, el);
        } else if (strcmp(n, "failed") == 0) {
            canto__logf(s->log, CANTO_LOG_WARN, "sm", "the server refused stream management");
            canto__sm_forget_session(s->sm);
            canto__stream_established_now(s);
        } else if (strcmp(n, "r") == 0) {
            return 1; /* nothing counted yet */
        } else {
            fail(s, CANTO_EPROTO, CANTO_STREAM_COND_UNSUPPORTED_STANZA_TYPE,
                 "unexpected stream management element");
        }
        return 1;
    }
    if (s->ph == PH_SM_RESUME) {
        if (strcmp(n, "resumed") == 0)
            on_resumed(s, el);
        else if (strcmp(n, "failed") == 0)
            on_resume_failed(s, el);
        else
            fail(s, CANTO_EPROTO, CANTO_STREAM_COND_UNSUPPORTED_STANZA_TYPE,
                 "unexpected stream management element");
        return 1;
    }
    if (!s->sm_on)
        return 1; /* not ours to answer: ignore */
    if (strcmp(n, "r") == 0) {
        send_answer(s);
    } else if (strcmp(n, "a") == 0) {
        uint32_t h;
        if (!parse_h(el, &h))
            fail(s, CANTO_EPROTO, CANTO_STREAM_COND_NONE, "<a/> without a valid h");
        else
            apply_ack(s, h);
    }
    return 1;
}

void canto__stream_sm_received(canto__stream *s, const canto_stanza *el)
{
    if (counts(el))
        canto__sm_handled(s->sm);
}

void canto__stream_sm_send(canto__stream *s, const canto_stanza *st, uint64_t token)
{
    if (!counts(st)) {
        canto__stream_write_stanza(s, st);
        return;
    }
    canto__buf tmp;
    canto__buf_init(&tmp, &s->alloc);
    canto__serialize_into(&tmp, st, CANTO_NS_CLIENT);
    if (tmp.failed || canto__sm_push(s->sm, tmp.data, tmp.len, token) != 0) {
        s->out.failed = 1;
        canto__buf_free(&tmp);
        return;
    }
    canto__stream_write(s, tmp.data, tmp.len);
    canto__buf_free(&tmp);
    if (++s->sm_since_r >= s->sm_ack_every)
        canto__stream_sm_request(s);
    else if (!s->sm_r_at)
        s->sm_r_at = s->now + s->sm_ack_ms;
}

uint64_t canto__stream_sm_deadline(const canto__stream *s)
{
    return s->sm_on && s->sm_r_at ? s->sm_r_at : UINT64_MAX;
}

void canto__stream_sm_timeout(canto__stream *s)
{
    if (s->sm_on && s->sm_r_at && s->now >= s->sm_r_at)
        canto__stream_sm_request(s);
}

void canto__stream_sm_want_ack(canto__stream *s, uint64_t now)
{
    /* Someone waits for a confirmation: ask soon, still batching what is
     * sent in the same moment. */
    uint64_t due = now + (s->sm_ack_ms < 20 ? s->sm_ack_ms : 20);
    if (s->sm_on && canto__sm_unacked(s->sm) && (!s->sm_r_at || due < s->sm_r_at))
        s->sm_r_at = due;
}
