/* XMPP Ping (XEP-0199): answering, pinging with round-trip times, and a
 * keepalive driven by a loop timer. Public API only. */
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>
#include <canto/jid.h>
#include <canto/ping.h>

typedef struct pending {
    struct pending *next;
    canto_ping *ping;
    unsigned handle; /* the client's request handle */
    uint64_t sent_ms;
    char *jid; /* NULL: the server */
    int keepalive;
    canto_ping_fn fn;
    void *ud;
} pending;

struct canto_ping {
    canto_client *client;
    canto_loop *loop;
    unsigned handler_id, listener_id;
    pending *requests;
    /* Keepalive: settings, the timer that sends the next ping (0: none), and
     * whether a keepalive ping is in flight. */
    uint32_t ka_interval, ka_timeout;
    canto_ping_fn ka_fn;
    void *ka_ud;
    unsigned ka_timer;
    int ka_inflight;
    int depth, freed;
};

static void destroy(canto_ping *p)
{
    free(p);
}

static void enter(canto_ping *p)
{
    p->depth++;
}

static void leave(canto_ping *p)
{
    if (--p->depth == 0 && p->freed)
        destroy(p);
}

/* --- answering ------------------------------------------------------------ */

static int on_ping(void *ud, canto_client *client, canto_stanza *st)
{
    (void)ud;
    const char *id = canto_stanza_attr(st, "id");
    canto_stanza *reply;
    /* An iq without an id cannot be answered (RFC 6120, iq semantics). */
    if (id && canto_stanza_new_iq(NULL, "result", canto_stanza_attr(st, "from"), id, &reply) == 0) {
        canto_client_send(client, reply);
        canto_stanza_free(reply);
    }
    return 1;
}

/* --- pinging -------------------------------------------------------------- */

static void unlink_request(canto_ping *p, pending *q)
{
    for (pending **pp = &p->requests; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            return;
        }
    }
}

static void request_free(pending *q)
{
    free(q->jid);
    free(q);
}

static int keepalive_schedule(canto_ping *p);

static void report(canto_ping *p, pending *q, canto_iq_outcome outcome, uint64_t rtt,
                   const canto_stanza_error *err)
{
    canto_ping_result r = {CANTO_PING_RESULT_VERSION, outcome, rtt, err, q->jid, q->keepalive};
    q->fn(q->ud, p, &r);
}

static void on_answer(void *ud, canto_client *client, const canto_iq_response *resp)
{
    pending *q = ud;
    canto_ping *p = q->ping;
    (void)client;
    unlink_request(p, q);
    enter(p);
    if (q->keepalive) {
        p->ka_inflight = 0;
        if (resp->outcome != CANTO_IQ_CANCELED)
            keepalive_schedule(p);
    }
    int answered = resp->outcome == CANTO_IQ_RESULT || resp->outcome == CANTO_IQ_ERROR;
    uint64_t rtt = answered ? canto_loop_now(p->loop) - q->sent_ms : 0;
    /* A keepalive ping cancelled by a disconnect is not news. */
    if (q->fn && !p->freed && !(q->keepalive && resp->outcome == CANTO_IQ_CANCELED))
        report(p, q, resp->outcome, rtt, resp->outcome == CANTO_IQ_ERROR ? &resp->error : NULL);
    request_free(q);
    leave(p);
}

static int send_ping(canto_ping *p, const char *jid, uint32_t timeout_ms, int keepalive,
                     canto_ping_fn fn, void *ud, unsigned *handle)
{
    pending *q = calloc(1, sizeof(*q));
    if (!q)
        return CANTO_ENOMEM;
    q->ping = p;
    q->keepalive = keepalive;
    q->fn = fn;
    q->ud = ud;
    int rc = 0;
    const char *to;
    if (jid) {
        canto_jid *j;
        rc = canto_jid_parse(NULL, jid, &j);
        if (rc == 0) {
            q->jid = strdup(canto_jid_str(j));
            canto_jid_free(j);
            if (!q->jid)
                rc = CANTO_ENOMEM;
        }
        to = q->jid;
    } else {
        to = canto_jid_domain(canto_client_jid(p->client));
    }
    canto_stanza *iq = NULL, *child;
    if (rc == 0)
        rc = canto_stanza_new(NULL, "iq", CANTO_NS_CLIENT, &iq);
    if (rc == 0)
        rc = canto_stanza_set_attr(iq, "type", "get");
    if (rc == 0)
        rc = canto_stanza_set_attr(iq, "to", to);
    if (rc == 0)
        rc = canto_stanza_add_child(iq, "ping", CANTO_NS_PING, &child);
    if (rc == 0) {
        q->sent_ms = canto_loop_now(p->loop);
        rc = canto_client_send_iq(p->client, iq, timeout_ms, on_answer, q, &q->handle);
    }
    canto_stanza_free(iq);
    if (rc) {
        request_free(q);
        return rc;
    }
    q->next = p->requests;
    p->requests = q;
    if (handle)
        *handle = q->handle;
    return 0;
}

int canto_ping_send(canto_ping *p, const char *jid, uint32_t timeout_ms, canto_ping_fn fn, void *ud,
                    unsigned *request_out)
{
    if (!p || !fn || p->freed)
        return CANTO_EINVAL;
    return send_ping(p, jid, timeout_ms, 0, fn, ud, request_out);
}

int canto_ping_cancel(canto_ping *p, unsigned handle)
{
    if (!p)
        return CANTO_EINVAL;
    for (pending *q = p->requests; q; q = q->next) {
        if (q->handle == handle && !q->keepalive) {
            unlink_request(p, q);
            canto_client_cancel_iq(p->client, q->handle);
            request_free(q);
            return 0;
        }
    }
    return CANTO_ENOTFOUND;
}

/* --- keepalive ------------------------------------------------------------ */

static void on_keepalive_timer(void *ud, canto_loop *loop, unsigned id)
{
    canto_ping *p = ud;
    (void)loop;
    (void)id;
    p->ka_timer = 0;
    if (!p->ka_interval || canto_client_get_state(p->client) != CANTO_CLIENT_CONNECTED)
        return;
    uint32_t timeout = p->ka_timeout ? p->ka_timeout : p->ka_interval;
    if (send_ping(p, NULL, timeout, 1, p->ka_fn, p->ka_ud, NULL) == 0)
        p->ka_inflight = 1;
    else
        keepalive_schedule(p); /* out of memory or queue full: try again later */
}

/* Arm the timer for the next keepalive ping, unless one is armed or in
 * flight or the client is not connected. Out of memory, the keepalive resumes
 * at the next CONNECTED. */
static int keepalive_schedule(canto_ping *p)
{
    if (p->freed || !p->ka_interval || p->ka_timer || p->ka_inflight ||
        canto_client_get_state(p->client) != CANTO_CLIENT_CONNECTED)
        return 0;
    int rc = canto_loop_add_timer(p->loop, p->ka_interval, on_keepalive_timer, p, &p->ka_timer);
    if (rc)
        p->ka_timer = 0;
    return rc;
}

static void keepalive_stop_timer(canto_ping *p)
{
    if (p->ka_timer) {
        canto_loop_cancel_timer(p->loop, p->ka_timer);
        p->ka_timer = 0;
    }
}

int canto_ping_keepalive(canto_ping *p, uint32_t interval_ms, uint32_t timeout_ms, canto_ping_fn fn,
                         void *ud)
{
    if (!p || p->freed)
        return CANTO_EINVAL;
    keepalive_stop_timer(p);
    p->ka_interval = interval_ms;
    p->ka_timeout = timeout_ms;
    p->ka_fn = fn;
    p->ka_ud = ud;
    return keepalive_schedule(p);
}

static void on_state(void *ud, canto_client *client, canto_client_state state,
                     const canto_disconnect_info *info)
{
    canto_ping *p = ud;
    (void)client;
    (void)info;
    if (state == CANTO_CLIENT_CONNECTED)
        keepalive_schedule(p);
    else
        keepalive_stop_timer(p);
}

/* --- life cycle ----------------------------------------------------------- */

int canto_ping_new(canto_client *client, canto_loop *loop, canto_ping **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!client || !loop)
        return CANTO_EINVAL;
    canto_ping *p = calloc(1, sizeof(*p));
    if (!p)
        return CANTO_ENOMEM;
    p->client = client;
    p->loop = loop;
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "iq";
    m.type = "get";
    m.ns = CANTO_NS_PING;
    int rc = canto_client_add_handler(client, &m, on_ping, p, &p->handler_id);
    if (rc == 0) {
        rc = canto_client_add_listener(client, on_state, p, &p->listener_id);
        if (rc)
            canto_client_remove_handler(client, p->handler_id);
    }
    if (rc == 0) {
        rc = canto_client_add_feature(client, CANTO_NS_PING);
        if (rc) {
            canto_client_remove_handler(client, p->handler_id);
            canto_client_remove_listener(client, p->listener_id);
        }
    }
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void canto_ping_free(canto_ping *p)
{
    if (!p || p->freed)
        return;
    p->freed = 1;
    canto_client_remove_handler(p->client, p->handler_id);
    canto_client_remove_listener(p->client, p->listener_id);
    canto_client_remove_feature(p->client, CANTO_NS_PING);
    keepalive_stop_timer(p);
    enter(p);
    pending *list = p->requests;
    p->requests = NULL;
    while (list) {
        pending *q = list;
        list = q->next;
        canto_client_cancel_iq(p->client, q->handle);
        if (q->fn && !q->keepalive)
            report(p, q, CANTO_IQ_CANCELED, 0, NULL);
        request_free(q);
    }
    leave(p);
}
