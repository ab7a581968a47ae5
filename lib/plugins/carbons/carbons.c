/* Message Carbons (XEP-0280): enable/disable (again after reconnects),
 * unwrap copies from the account's own bare JID only. Public API only. */
#include <stdlib.h>
#include <string.h>

#include <canto/carbons.h>
#include <canto/error.h>

/* Runs before ordinary message handlers (and the receipt and chat state
 * observers): a wrapper is consumed here, never seen as a message. */
#define HANDLER_PRIORITY 200

#define NS_HINTS "urn:xmpp:hints"

typedef struct pending {
    struct pending *next;
    canto_carbons *carbons;
    unsigned handle;
    int enable;
    canto_carbons_result_fn fn;
    void *ud;
} pending;

struct canto_carbons {
    canto_client *client;
    unsigned handler_id, listener_id;
    int want;    /* enable at every CONNECTED */
    int enabled; /* confirmed for this session */
    pending *requests;
    canto_carbons_fn fn;
    void *ud;
    int depth, freed;
};

/* --- stanza helpers ------------------------------------------------------- */

int canto_carbons_unwrap(const canto_jid *account, const canto_stanza *message,
                         canto_carbons_direction *direction, canto_stanza **inner)
{
    if (!account || !message)
        return CANTO_EINVAL;
    if (!canto_stanza_is(message, "message", NULL))
        return CANTO_ENOTFOUND;
    canto_carbons_direction dir = CANTO_CARBONS_RECEIVED;
    const canto_stanza *w = canto_stanza_child(message, "received", CANTO_NS_CARBONS);
    if (!w) {
        dir = CANTO_CARBONS_SENT;
        w = canto_stanza_child(message, "sent", CANTO_NS_CARBONS);
    }
    if (!w)
        return CANTO_ENOTFOUND;
    /* XEP-0280, security considerations: only the account's own server, speaking for the bare JID,
     * sends carbons. Anything else is an impersonation attempt. */
    const char *from = canto_stanza_attr(message, "from");
    canto_jid *f = NULL;
    if (!from || canto_jid_parse(NULL, from, &f) != 0)
        return CANTO_EPROTO;
    int own = canto_jid_is_bare(f) && canto_jid_bare_equal(f, account);
    canto_jid_free(f);
    if (!own)
        return CANTO_EPROTO;
    canto_stanza *fwd = canto_stanza_child(w, "forwarded", CANTO_NS_FORWARD);
    canto_stanza *msg = canto_stanza_child(fwd, "message", CANTO_NS_CLIENT);
    if (!msg)
        return CANTO_EPROTO;
    if (direction)
        *direction = dir;
    if (inner)
        *inner = msg;
    return 0;
}

int canto_carbons_mark_private(canto_stanza *message)
{
    if (!canto_stanza_is(message, "message", NULL))
        return CANTO_EINVAL;
    int rc = 0;
    if (!canto_stanza_child(message, "private", CANTO_NS_CARBONS))
        rc = canto_stanza_add_child(message, "private", CANTO_NS_CARBONS, NULL);
    if (rc == 0 && !canto_stanza_child(message, "no-copy", NS_HINTS))
        rc = canto_stanza_add_child(message, "no-copy", NS_HINTS, NULL);
    return rc;
}

/* --- life cycle helpers --------------------------------------------------- */

static void destroy(canto_carbons *c)
{
    free(c);
}

static void enter(canto_carbons *c)
{
    c->depth++;
}

static void leave(canto_carbons *c)
{
    if (--c->depth == 0 && c->freed)
        destroy(c);
}

/* --- copies --------------------------------------------------------------- */

static int on_message(void *ud, canto_client *client, canto_stanza *st)
{
    canto_carbons *c = ud;
    canto_carbons_direction dir;
    canto_stanza *inner;
    int rc = canto_carbons_unwrap(canto_client_jid(client), st, &dir, &inner);
    if (rc == CANTO_ENOTFOUND)
        return 0;
    if (rc == 0 && c->fn)
        c->fn(c->ud, c, dir, inner, st); /* c may be gone now */
    return 1;                            /* a forged wrapper is dropped too */
}

/* --- enable / disable ----------------------------------------------------- */

static void unlink_request(canto_carbons *c, pending *q)
{
    for (pending **pp = &c->requests; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            return;
        }
    }
}

static void on_answer(void *ud, canto_client *client, const canto_iq_response *resp)
{
    pending *q = ud;
    canto_carbons *c = q->carbons;
    (void)client;
    unlink_request(c, q);
    enter(c);
    if (resp->outcome == CANTO_IQ_RESULT && !c->freed)
        c->enabled = q->enable;
    if (q->fn && !c->freed)
        q->fn(q->ud, c, resp);
    free(q);
    leave(c);
}

static int send_toggle(canto_carbons *c, int enable, canto_carbons_result_fn fn, void *ud)
{
    pending *q = calloc(1, sizeof(*q));
    if (!q)
        return CANTO_ENOMEM;
    q->carbons = c;
    q->enable = enable;
    q->fn = fn;
    q->ud = ud;
    /* No `to`: the request goes to the account's own server. */
    canto_stanza *iq;
    int rc = canto_stanza_new(NULL, "iq", CANTO_NS_CLIENT, &iq);
    if (rc == 0) {
        rc = canto_stanza_set_attr(iq, "type", "set");
        if (rc == 0)
            rc = canto_stanza_add_child(iq, enable ? "enable" : "disable", CANTO_NS_CARBONS, NULL);
        if (rc == 0)
            rc = canto_client_send_iq(c->client, iq, 0, on_answer, q, &q->handle);
        canto_stanza_free(iq);
    }
    if (rc) {
        free(q);
        return rc;
    }
    q->next = c->requests;
    c->requests = q;
    return 0;
}

int canto_carbons_enable(canto_carbons *c, canto_carbons_result_fn fn, void *ud)
{
    if (!c || c->freed)
        return CANTO_EINVAL;
    c->want = 1;
    return send_toggle(c, 1, fn, ud);
}

int canto_carbons_disable(canto_carbons *c, canto_carbons_result_fn fn, void *ud)
{
    if (!c || c->freed)
        return CANTO_EINVAL;
    c->want = 0;
    return send_toggle(c, 0, fn, ud);
}

int canto_carbons_enabled(const canto_carbons *c)
{
    return c && c->enabled;
}

static void on_state(void *ud, canto_client *client, canto_client_state state,
                     const canto_disconnect_info *info)
{
    canto_carbons *c = ud;
    (void)client;
    (void)info;
    if (state != CANTO_CLIENT_CONNECTED) {
        c->enabled = 0;
        return;
    }
    if (c->want)
        send_toggle(c, 1, NULL, NULL); /* failure: tried again at the next connect */
}

/* --- life cycle ----------------------------------------------------------- */

int canto_carbons_new(canto_client *client, canto_carbons **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!client)
        return CANTO_EINVAL;
    canto_carbons *c = calloc(1, sizeof(*c));
    if (!c)
        return CANTO_ENOMEM;
    c->client = client;
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "message";
    m.priority = HANDLER_PRIORITY;
    int rc = canto_client_add_handler(client, &m, on_message, c, &c->handler_id);
    if (rc == 0) {
        rc = canto_client_add_listener(client, on_state, c, &c->listener_id);
        if (rc)
            canto_client_remove_handler(client, c->handler_id);
    }
    if (rc == 0) {
        rc = canto_client_add_feature(client, CANTO_NS_CARBONS);
        if (rc) {
            canto_client_remove_handler(client, c->handler_id);
            canto_client_remove_listener(client, c->listener_id);
        }
    }
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void canto_carbons_free(canto_carbons *c)
{
    if (!c || c->freed)
        return;
    c->freed = 1;
    canto_client_remove_handler(c->client, c->handler_id);
    canto_client_remove_listener(c->client, c->listener_id);
    canto_client_remove_feature(c->client, CANTO_NS_CARBONS);
    enter(c);
    pending *list = c->requests;
    c->requests = NULL;
    while (list) {
        pending *q = list;
        list = q->next;
        canto_client_cancel_iq(c->client, q->handle);
        if (q->fn) {
            canto_iq_response resp = {CANTO_IQ_RESPONSE_VERSION, CANTO_IQ_CANCELED, NULL,
                                      CANTO_STANZA_ERROR_INIT, ""};
            q->fn(q->ud, c, &resp);
        }
        free(q);
    }
    leave(c);
}

int canto_carbons_set_callback(canto_carbons *c, canto_carbons_fn fn, void *ud)
{
    if (!c)
        return CANTO_EINVAL;
    c->fn = fn;
    c->ud = ud;
    return 0;
}
