/* Delivery guarantees: tracked sends, the XEP-0198 queue across reconnects,
 * back-pressure, the resend policy after a lost session, reconnect backoff,
 * session export/import and Client State Indication. */
#include "client/client_impl.h"
#include "client/client_peer.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include <canto/error.h>
#include "stream/sm.h"
#include "xml/tree.h"

#define DEF_QUEUE_STANZAS 1000u
#define DEF_QUEUE_BYTES (4u << 20)
#define DEF_BACKOFF_MIN 1000u
#define DEF_BACKOFF_MAX 60000u
#define NS_CSI "urn:xmpp:csi:0"
#define NS_DELAY "urn:xmpp:delay"

/* --- delivery reports ------------------------------------------------------ */

static void report(canto_client *c, uint64_t token, int status)
{
    if (token && c->delivery_fn)
        c->delivery_fn(c->delivery_ud, c, token, status);
}

/* What the byte limit counts: unacknowledged stanzas and unsent output. */
static size_t queued_bytes(canto_client *c)
{
    size_t bytes = c->sm ? canto__sm_unacked_bytes(c->sm) : 0;
    if (c->stream) {
        const char *d;
        bytes += canto__stream_out(c->stream, &d);
    }
    return bytes;
}

static void maybe_drain(canto_client *c)
{
    /* Room for half of either limit again, so that a full queue does not
     * bounce between full and drained with every acknowledged stanza. */
    if (!c->want_drain || canto_client_queued(c) > c->max_q_stanzas / 2 ||
        queued_bytes(c) > c->max_q_bytes / 2)
        return;
    c->want_drain = 0;
    if (c->drain_fn)
        c->drain_fn(c->drain_ud, c);
}

static void on_sm_done(void *ud, uint64_t token, int status)
{
    canto_client *c = ud;
    report(c, token, status);
    maybe_drain(c);
}

int canto__client_reliability_init(canto_client *c, const canto_client_options *o)
{
    c->reconnect_mode = o->reconnect;
    c->backoff_min = o->reconnect_min_ms ? o->reconnect_min_ms : DEF_BACKOFF_MIN;
    c->backoff_max = o->reconnect_max_ms ? o->reconnect_max_ms : DEF_BACKOFF_MAX;
    if (c->backoff_max < c->backoff_min)
        c->backoff_max = c->backoff_min;
    c->resend = o->resend;
    c->max_q_stanzas = o->max_queue_stanzas ? o->max_queue_stanzas : DEF_QUEUE_STANZAS;
    c->max_q_bytes = o->max_queue_bytes ? o->max_queue_bytes : DEF_QUEUE_BYTES;
    c->csi = -1;
    if (o->no_stream_management)
        return 0;
    return canto__sm_new(&c->alloc, on_sm_done, c, &c->sm);
}

void canto__client_reliability_free(canto_client *c)
{
    canto__timer_stop(&c->reconnect_timer);
    if (c->sm) {
        canto__sm_fail_all(c->sm, CANTO_ECLOSED);
        canto__sm_free(c->sm);
        c->sm = NULL;
    }
}

int canto_client_set_delivery_callback(canto_client *c, canto_delivery_fn fn, void *ud)
{
    if (!c)
        return CANTO_EINVAL;
    c->delivery_fn = fn;
    c->delivery_ud = ud;
    return 0;
}

int canto_client_set_drain_callback(canto_client *c, canto_drain_fn fn, void *ud)
{
    if (!c)
        return CANTO_EINVAL;
    c->drain_fn = fn;
    c->drain_ud = ud;
    return 0;
}

size_t canto_client_queued(const canto_client *c)
{
    return c && c->sm ? canto__sm_unacked(c->sm) : 0;
}

/* --- back-pressure ---------------------------------------------------------- */

int canto__client_queue_check(canto_client *c)
{
    if (canto_client_queued(c) >= c->max_q_stanzas || queued_bytes(c) >= c->max_q_bytes) {
        c->want_drain = 1;
        return CANTO_EQUEUEFULL;
    }
    return 0;
}

void canto__client_output_drained(canto_client *c)
{
    maybe_drain(c);
}

/* --- sending while a resumable session waits for its connection ------------ */

/* A stream management session that a reconnection may resume. */
static int session_resumable(const canto_client *c)
{
    return c->sm && canto__sm_id(c->sm) && !c->user_closing;
}

int canto__client_can_queue_offline(const canto_client *c)
{
    if (!session_resumable(c))
        return 0;
    /* Waiting for the backoff timer is part of reconnecting, although the
     * state reads DISCONNECTED (with will_reconnect) meanwhile. */
    return c->state == CANTO_CLIENT_CONNECTING || c->state == CANTO_CLIENT_NEGOTIATING ||
           (c->state == CANTO_CLIENT_DISCONNECTED && c->waiting_reconnect);
}

int canto__client_queue_offline(canto_client *c, const canto_stanza *st, uint64_t token)
{
    /* Counted now, sent on resumption with the rest of the unacked queue. */
    char *xml;
    size_t len;
    int rc = canto__serialize(st, CANTO_NS_CLIENT, &xml, &len);
    if (rc)
        return rc;
    rc = canto__sm_push(c->sm, xml, len, token);
    canto_free(xml);
    return rc;
}

/* --- tracked sends without stream management ------------------------------ */

typedef struct ping_track {
    canto_client *client;
    uint64_t token;
} ping_track;

static void on_track_ping(void *ud, canto_client *c, const canto_iq_response *r)
{
    ping_track *t = ud;
    uint64_t token = t->token;
    canto__dealloc(&c->alloc, t);
    /* Any answer, even an error, means the server processed what came
     * before the ping on the same stream. */
    int status = r->outcome == CANTO_IQ_RESULT || r->outcome == CANTO_IQ_ERROR ? 0
                 : r->outcome == CANTO_IQ_TIMEOUT                              ? CANTO_ETIMEDOUT
                                                                               : CANTO_ECLOSED;
    report(c, token, status);
}

int canto__client_confirm_by_ping(canto_client *c, uint64_t token)
{
    ping_track *t = canto__calloc(&c->alloc, 1, sizeof(*t));
    if (!t)
        return CANTO_ENOMEM;
    t->client = c;
    t->token = token;
    canto_stanza *ping = NULL, *child;
    /* On a link-local session the peer itself is the other end. */
    const char *to = c->peer ? canto__client_peer_name(c) : canto_jid_domain(c->jid);
    int rc = to ? canto_stanza_new_iq(NULL, "get", to, "x", &ping) : CANTO_ENOTCONN;
    if (rc == 0)
        rc = canto_stanza_set_attr(ping, "id", NULL); /* a fresh random one */
    if (rc == 0)
        rc = canto_stanza_add_child(ping, "ping", "urn:xmpp:ping", &child);
    if (rc == 0)
        rc = canto_client_send_iq(c, ping, 0, on_track_ping, t, NULL);
    if (ping)
        canto_stanza_free(ping);
    if (rc)
        canto__dealloc(&c->alloc, t);
    return rc;
}

/* --- a new session after a lost one ------------------------------------------ */

static void wall_clock_stamp(char *buf, size_t cap, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Stanzas still queued from a session that could not be resumed: resend
 * messages (marked as delayed) or fail them, by policy. Presence and iq are
 * not resent: plugins announce presence anew and iq callers were told. */
void canto__client_session_lost_queue(canto_client *c)
{
    if (!c->sm)
        return;
    size_t n = canto__sm_unacked(c->sm);
    if (n == 0)
        return;
    canto__logf(&c->log, CANTO_LOG_INFO, "client",
                "%zu unacknowledged stanza(s) from the lost session: %s", n,
                c->resend == CANTO_RESEND_WITH_DELAY ? "resending" : "reporting them failed");
    char stamp[40];
    wall_clock_stamp(stamp, sizeof(stamp), c->lost_at ? (time_t)c->lost_at : time(NULL));
    for (size_t i = 0; i < n && !c->freed; i++) {
        char *xml;
        size_t len;
        uint64_t token;
        if (canto__sm_pop(c->sm, &xml, &len, &token) != 0)
            break;
        canto_stanza *st = NULL;
        int rc = canto_stanza_parse(NULL, xml, len, &st);
        canto_free(xml);
        int resend = rc == 0 && c->resend == CANTO_RESEND_WITH_DELAY &&
                     canto_stanza_is(st, "message", CANTO_NS_CLIENT);
        if (resend && !canto_stanza_child(st, "delay", NS_DELAY)) {
            canto_stanza *d;
            if (canto_stanza_add_child(st, "delay", NS_DELAY, &d) == 0) {
                canto_stanza_set_attr(d, "stamp", stamp);
                canto_stanza_set_attr(d, "from", canto_jid_str(canto_client_jid(c)));
            }
        }
        if (resend) {
            rc = canto__client_send_token(c, st, token);
            /* The new connection broke while the leftovers went out: the
             * rest wait for the new session's resumption, counted on it as
             * if sent while reconnecting, instead of being given up. */
            if (rc == CANTO_ENOTCONN && !c->freed && session_resumable(c))
                rc = canto__client_queue_offline(c, st, token);
        } else if (rc == 0) {
            rc = CANTO_ECLOSED;
        }
        canto_stanza_free(st);
        if (rc)
            report(c, token, rc == CANTO_ECLOSED ? CANTO_ECLOSED : rc);
    }
}

/* --- reconnecting ------------------------------------------------------------ */

static int fatal_end(const canto__stream_end *end)
{
    if (end->error == CANTO_EAUTH || end->error == CANTO_ECERT)
        return 1;
    switch (end->condition) {
    case CANTO_STREAM_COND_CONFLICT:
    case CANTO_STREAM_COND_NOT_AUTHORIZED:
    case CANTO_STREAM_COND_POLICY_VIOLATION:
    case CANTO_STREAM_COND_HOST_UNKNOWN:
    case CANTO_STREAM_COND_INVALID_NAMESPACE:
    case CANTO_STREAM_COND_UNSUPPORTED_VERSION:
        return 1;
    default:
        return 0;
    }
}

int canto__client_should_reconnect(const canto_client *c, const canto__stream_end *end)
{
    return c->reconnect_mode == CANTO_RECONNECT_AUTO && c->established_once && !c->user_closing &&
           !fatal_end(end);
}

static void on_reconnect_timer(void *ud)
{
    canto_client *c = ud;
    canto__client_enter(c);
    c->waiting_reconnect = 0;
    if (canto__client_start(c) != 0) {
        /* Could not even begin (out of memory): try again later. */
        canto__client_schedule_reconnect(c);
    }
    canto__client_leave(c);
}

void canto__client_schedule_reconnect(canto_client *c)
{
    uint64_t delay = c->backoff_min;
    for (unsigned i = 0; i < c->attempt && delay < c->backoff_max; i++)
        delay *= 2;
    if (delay > c->backoff_max)
        delay = c->backoff_max;
    /* Jitter in [delay/2, delay): clients cut off together must not return
     * together. */
    uint32_t r = 0;
    gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r));
    delay = delay / 2 + (delay / 2 ? r % (delay / 2) : 0);
    c->attempt++;
    c->waiting_reconnect = 1;
    canto__logf(&c->log, CANTO_LOG_INFO, "client", "reconnecting in %llu ms",
                (unsigned long long)delay);
    canto__timer_start(c->loop, &c->reconnect_timer, canto_loop_now(c->loop) + delay,
                       on_reconnect_timer, c);
}

int canto_client_network_changed(canto_client *c)
{
    if (!c)
        return CANTO_EINVAL;
    if (!c->waiting_reconnect)
        return CANTO_ESTATE;
    c->attempt = 0;
    canto__timer_start(c->loop, &c->reconnect_timer, canto_loop_now(c->loop), on_reconnect_timer,
                       c);
    return 0;
}

int canto_client_session_is_new(const canto_client *c)
{
    return c ? c->session_new : 1;
}

/* --- persistence -------------------------------------------------------------- */

#define SESSION_MAGIC "canto-session 1\n"

int canto_client_export_session(const canto_client *c, char **out, size_t *len)
{
    if (!c || !out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!c->sm || !canto__sm_id(c->sm) || !c->bound)
        return CANTO_ENOTFOUND;
    char *sm;
    size_t smlen;
    int rc = canto__sm_export(c->sm, &sm, &smlen);
    if (rc)
        return rc;
    const char *jid = canto_jid_str(c->bound);
    size_t total = strlen(SESSION_MAGIC) + strlen(jid) + 1 + smlen;
    char *buf = canto__owned_alloc(&c->alloc, total + 1);
    if (!buf) {
        canto_free(sm);
        return CANTO_ENOMEM;
    }
    int n = snprintf(buf, total + 1, "%s%s\n", SESSION_MAGIC, jid);
    memcpy(buf + n, sm, smlen);
    buf[total] = '\0';
    canto_free(sm);
    *out = buf;
    if (len)
        *len = total;
    return 0;
}

int canto_client_import_session(canto_client *c, const char *data, size_t len)
{
    if (!c || !data)
        return CANTO_EINVAL;
    if (c->state != CANTO_CLIENT_DISCONNECTED)
        return CANTO_ESTATE;
    if (!c->sm)
        return CANTO_EINVAL;
    size_t ml = strlen(SESSION_MAGIC);
    if (len < ml || memcmp(data, SESSION_MAGIC, ml) != 0)
        return CANTO_EINVAL;
    const char *nl = memchr(data + ml, '\n', len - ml);
    if (!nl || nl - (data + ml) > 3071)
        return CANTO_EINVAL;
    char jidbuf[3072];
    memcpy(jidbuf, data + ml, (size_t)(nl - (data + ml)));
    jidbuf[nl - (data + ml)] = '\0';
    canto_jid *bound;
    if (canto_jid_parse(NULL, jidbuf, &bound) != 0)
        return CANTO_EINVAL;
    if (!canto_jid_bare_equal(bound, c->jid)) {
        canto_jid_free(bound);
        return CANTO_EINVAL;
    }
    int rc = canto__sm_import(c->sm, nl + 1, len - (size_t)(nl + 1 - data));
    if (rc) {
        canto_jid_free(bound);
        return rc;
    }
    canto_jid_free(c->bound);
    c->bound = bound;
    c->established_once = 1; /* a resumable session counts as established */
    return 0;
}

/* --- Client State Indication ----------------------------------------------- */

static int send_csi(canto_client *c)
{
    if (!canto__stream_has_feature(c->stream, "csi", NS_CSI))
        return CANTO_EUNSUPPORTED;
    canto_stanza *el;
    int rc = canto_stanza_new(NULL, c->csi ? "active" : "inactive", NS_CSI, &el);
    if (rc)
        return rc;
    rc = canto__stream_send(c->stream, el, canto_loop_now(c->loop));
    canto_stanza_free(el);
    if (rc == 0)
        canto__client_io_sync(c);
    return rc;
}

int canto_client_set_active(canto_client *c, int active)
{
    if (!c)
        return CANTO_EINVAL;
    c->csi = active ? 1 : 0;
    if (c->state != CANTO_CLIENT_CONNECTED || !c->stream)
        return CANTO_ENOTCONN;
    canto__client_enter(c);
    int rc = send_csi(c);
    canto__client_leave(c);
    return rc;
}

void canto__client_new_session(canto_client *c)
{
    /* The server forgot our CSI state with the old session. */
    if (c->csi >= 0 && c->stream)
        send_csi(c);
    canto__client_session_lost_queue(c);
}
