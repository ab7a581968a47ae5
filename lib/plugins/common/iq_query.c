/* See iq_query.h. Public API only. */
#include "plugins/common/iq_query.h"

#include <stdlib.h>
#include <string.h>

#include <canto/error.h>
#include <canto/jid.h>

struct canto__iq_query_req {
    canto__iq_query_req *next;
    canto__iq_query *q;
    unsigned handle;
    char *jid;
    canto__iq_query_cb fn;
    void *ud;
};

/* The depth count keeps the owner alive while one of its callbacks runs:
 * the application may free the plugin from inside it. */
static void enter(canto__iq_query *q)
{
    q->depth++;
}

static void leave(canto__iq_query *q)
{
    if (--q->depth == 0 && q->freed)
        q->destroy(q->owner);
}

static void unlink_request(canto__iq_query *q, canto__iq_query_req *r)
{
    for (canto__iq_query_req **pp = &q->requests; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            return;
        }
    }
}

static void request_free(canto__iq_query_req *r)
{
    free(r->jid);
    free(r);
}

static void on_answer(void *ud, canto_client *client, const canto_iq_response *resp)
{
    canto__iq_query_req *r = ud;
    canto__iq_query *q = r->q;
    (void)client;
    unlink_request(q, r);
    enter(q);
    if (!q->freed)
        q->report(q->owner, r->fn, r->ud, r->jid, resp);
    request_free(r);
    leave(q);
}

int canto__iq_query_init(canto__iq_query *q, canto_client *client, const char *name, const char *ns,
                         canto_handler_fn on_get, void *owner, canto__iq_query_report_fn report,
                         void (*destroy)(void *owner))
{
    memset(q, 0, sizeof(*q));
    q->client = client;
    q->name = name;
    q->ns = ns;
    q->owner = owner;
    q->report = report;
    q->destroy = destroy;
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "iq";
    m.type = "get";
    m.ns = ns;
    int rc = canto_client_add_handler(client, &m, on_get, owner, &q->handler_id);
    if (rc == 0) {
        rc = canto_client_add_feature(client, ns);
        if (rc)
            canto_client_remove_handler(client, q->handler_id);
    }
    return rc;
}

void canto__iq_query_free(canto__iq_query *q)
{
    q->freed = 1;
    canto_client_remove_handler(q->client, q->handler_id);
    canto_client_remove_feature(q->client, q->ns);
    enter(q);
    /* Detached first: a callback cannot reach requests already reported. */
    canto__iq_query_req *list = q->requests;
    q->requests = NULL;
    while (list) {
        canto__iq_query_req *r = list;
        list = r->next;
        canto_client_cancel_iq(q->client, r->handle);
        q->report(q->owner, r->fn, r->ud, r->jid, NULL);
        request_free(r);
    }
    leave(q);
}

int canto__iq_query_send(canto__iq_query *q, const char *jid, uint32_t timeout_ms,
                         canto__iq_query_cb fn, void *user_data, unsigned *handle)
{
    canto__iq_query_req *r = calloc(1, sizeof(*r));
    if (!r)
        return CANTO_ENOMEM;
    r->q = q;
    r->fn = fn;
    r->ud = user_data;
    canto_jid *j;
    int rc = canto_jid_parse(NULL, jid, &j);
    if (rc == 0) {
        r->jid = strdup(canto_jid_str(j));
        canto_jid_free(j);
        if (!r->jid)
            rc = CANTO_ENOMEM;
    }
    canto_stanza *iq = NULL;
    if (rc == 0)
        rc = canto_stanza_new(NULL, "iq", CANTO_NS_CLIENT, &iq);
    if (rc == 0)
        rc = canto_stanza_set_attr(iq, "type", "get");
    if (rc == 0)
        rc = canto_stanza_set_attr(iq, "to", r->jid);
    if (rc == 0)
        rc = canto_stanza_add_child(iq, q->name, q->ns, NULL);
    if (rc == 0)
        rc = canto_client_send_iq(q->client, iq, timeout_ms, on_answer, r, &r->handle);
    canto_stanza_free(iq);
    if (rc) {
        request_free(r);
        return rc;
    }
    r->next = q->requests;
    q->requests = r;
    if (handle)
        *handle = r->handle;
    return 0;
}

int canto__iq_query_cancel(canto__iq_query *q, unsigned handle)
{
    for (canto__iq_query_req *r = q->requests; r; r = r->next) {
        if (r->handle == handle) {
            unlink_request(q, r);
            canto_client_cancel_iq(q->client, r->handle);
            request_free(r);
            return 0;
        }
    }
    return CANTO_ENOTFOUND;
}

int canto__iq_query_new_reply(const canto_stanza *req, const char *name, const char *ns,
                              canto_stanza **reply, canto_stanza **child)
{
    *reply = NULL;
    if (!canto_stanza_is(req, "iq", NULL))
        return CANTO_EINVAL;
    const char *type = canto_stanza_attr(req, "type");
    const char *id = canto_stanza_attr(req, "id");
    if (!type || strcmp(type, "get") != 0 || !id || !canto_stanza_child(req, name, ns))
        return CANTO_EINVAL;
    int rc = canto_stanza_new_iq(NULL, "result", canto_stanza_attr(req, "from"), id, reply);
    if (rc)
        return rc;
    rc = canto_stanza_add_child(*reply, name, ns, child);
    if (rc) {
        canto_stanza_free(*reply);
        *reply = NULL;
    }
    return rc;
}

int canto__iq_query_add_text(canto_stanza *parent, const char *name, const char *text)
{
    canto_stanza *c;
    int rc = canto_stanza_add_child(parent, name, NULL, &c);
    if (rc == 0)
        rc = canto_stanza_set_text(c, text);
    return rc;
}
