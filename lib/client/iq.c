/* Requests: iq get/set with exactly one callback (answer, error, timeout or
 * cancellation), answers matched by id and by the entity asked. */
#include "client/client_impl.h"

#include <string.h>

#include <canto/error.h>
#include "base/id.h"

#define DEFAULT_TIMEOUT_MS 60000u

struct canto__iq {
    canto__iq *next;
    canto_client *client;
    unsigned handle;
    char id[24];
    canto_jid *to; /* NULL: the account's own server */
    canto__timer timer;
    canto_iq_fn fn;
    void *ud;
};

static void iq_free(canto_client *c, canto__iq *q)
{
    canto__timer_stop(&q->timer);
    canto_jid_free(q->to);
    canto__dealloc(&c->alloc, q);
}

/* Unlink @p q; returns it (or NULL if it was not pending). */
static canto__iq *unlink_iq(canto_client *c, canto__iq *q)
{
    for (canto__iq **pp = &c->iqs; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            q->next = NULL;
            return q;
        }
    }
    return NULL;
}

static void deliver(canto_client *c, canto__iq *q, canto_iq_outcome outcome, canto_stanza *st)
{
    canto_iq_response r = {CANTO_IQ_RESPONSE_VERSION, outcome, st, CANTO_STANZA_ERROR_INIT, q->id};
    if (outcome == CANTO_IQ_ERROR)
        canto_stanza_get_error(st, &r.error);
    canto_iq_fn fn = q->fn;
    void *ud = q->ud;
    char id[sizeof(q->id)];
    memcpy(id, q->id, sizeof(id));
    r.id = id;
    iq_free(c, q);
    fn(ud, c, &r);
}

static void on_timeout(void *ud)
{
    canto__iq *q = ud;
    canto_client *c = q->client;
    canto__client_enter(c);
    if (unlink_iq(c, q))
        deliver(c, q, CANTO_IQ_TIMEOUT, NULL);
    canto__client_leave(c);
}

int canto_client_send_iq(canto_client *c, const canto_stanza *iq, uint32_t timeout_ms,
                         canto_iq_fn fn, void *ud, unsigned *request)
{
    if (!c || !iq || !fn || !canto_stanza_is(iq, "iq", NULL))
        return CANTO_EINVAL;
    const char *type = canto_stanza_attr(iq, "type");
    if (!type || (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
        return CANTO_EINVAL;
    if (c->state != CANTO_CLIENT_CONNECTED)
        return CANTO_ENOTCONN;
    canto__iq *q = canto__calloc(&c->alloc, 1, sizeof(*q));
    if (!q)
        return CANTO_ENOMEM;
    q->client = c;
    q->fn = fn;
    q->ud = ud;
    int rc = 0;
    const char *to = canto_stanza_attr(iq, "to");
    if (to)
        rc = canto_jid_parse(NULL, to, &q->to);
    if (rc) {
        canto__dealloc(&c->alloc, q);
        return rc < 0 && rc != CANTO_ENOMEM ? CANTO_EINVAL : rc;
    }
    const char *id = canto_stanza_attr(iq, "id");
    canto_stanza *copy = NULL;
    if (id && *id && strlen(id) < sizeof(q->id)) {
        memcpy(q->id, id, strlen(id) + 1);
        rc = canto_client_send(c, iq);
    } else if (id && *id) {
        rc = CANTO_EINVAL; /* our ids are short; a long one is the caller's mistake */
    } else {
        rc = canto__random_id(q->id, sizeof(q->id));
        if (rc == 0)
            rc = canto_stanza_copy(iq, &copy);
        if (rc == 0)
            rc = canto_stanza_set_attr(copy, "id", q->id);
        if (rc == 0)
            rc = canto_client_send(c, copy);
        canto_stanza_free(copy);
    }
    if (rc == 0)
        rc = canto__timer_start(c->loop, &q->timer,
                                canto_loop_now(c->loop) +
                                    (timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS),
                                on_timeout, q);
    if (rc) {
        iq_free(c, q);
        return rc;
    }
    q->handle = c->next_iq_handle++;
    if (c->next_iq_handle == 0)
        c->next_iq_handle = 1;
    q->next = c->iqs;
    c->iqs = q;
    if (request)
        *request = q->handle;
    return 0;
}

int canto_client_cancel_iq(canto_client *c, unsigned request)
{
    if (!c)
        return CANTO_EINVAL;
    for (canto__iq *q = c->iqs; q; q = q->next) {
        if (q->handle == request) {
            unlink_iq(c, q);
            iq_free(c, q);
            return 0;
        }
    }
    return CANTO_ENOTFOUND;
}

size_t canto_client_pending_iqs(const canto_client *c)
{
    size_t n = 0;
    for (const canto__iq *q = c ? c->iqs : NULL; q; q = q->next)
        n++;
    return n;
}

/* Is @p from (the answer's sender, possibly absent) the entity @p q asked? */
static int from_ok(canto_client *c, const canto__iq *q, const char *from)
{
    const canto_jid *me = canto_client_jid(c);
    canto_jid *f = NULL;
    if (from && canto_jid_parse(NULL, from, &f) != 0)
        return 0;
    int ok;
    if (!q->to || (canto_jid_is_bare(q->to) && canto_jid_bare_equal(q->to, me))) {
        /* Asked our own account (RFC 6120 §10.3.3): the server answers with no
         * `from` or with our own address; for no `to`, also with its domain. */
        ok = !f || canto_jid_bare_equal(f, me) ||
             (!q->to && !canto_jid_local(f) && !canto_jid_resource(f) &&
              strcmp(canto_jid_domain(f), canto_jid_domain(me)) == 0);
    } else {
        ok = f && canto_jid_equal(f, q->to);
    }
    canto_jid_free(f);
    return ok;
}

int canto__client_iq_answer(canto_client *c, canto_stanza *st)
{
    if (!c->iqs || !canto_stanza_is(st, "iq", NULL))
        return 0;
    const char *type = canto_stanza_attr(st, "type");
    const char *id = canto_stanza_attr(st, "id");
    if (!type || !id)
        return 0;
    int is_error = strcmp(type, "error") == 0;
    if (!is_error && strcmp(type, "result") != 0)
        return 0;
    for (canto__iq *q = c->iqs; q; q = q->next) {
        if (strcmp(q->id, id) != 0)
            continue;
        if (!from_ok(c, q, canto_stanza_attr(st, "from"))) {
            canto__logf(&c->log, CANTO_LOG_WARN, "client",
                        "ignored an answer to request %s from an entity it was not sent to", id);
            return 1; /* a spoofed answer is dropped, not handed to handlers */
        }
        unlink_iq(c, q);
        deliver(c, q, is_error ? CANTO_IQ_ERROR : CANTO_IQ_RESULT, st);
        return 1;
    }
    return 0;
}

void canto__client_iq_cancel_all(canto_client *c)
{
    /* Detach the list first: callbacks may send new requests (which fail, not
     * connected) or free the client (deferred while we are inside). */
    canto__iq *list = c->iqs;
    c->iqs = NULL;
    while (list) {
        canto__iq *q = list;
        list = q->next;
        q->next = NULL;
        deliver(c, q, CANTO_IQ_CANCELED, NULL);
    }
}
