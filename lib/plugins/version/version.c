/* Software Version (XEP-0092): answering with the configured name, version
 * and optional OS; querying others. Public API only. */
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>
#include <canto/jid.h>
#include <canto/software_version.h>
#include <canto/version.h>

typedef struct pending {
    struct pending *next;
    canto_software_version *sv;
    unsigned handle;
    char *jid;
    canto_software_version_fn fn;
    void *ud;
} pending;

struct canto_software_version {
    canto_client *client;
    unsigned handler_id;
    char *name, *ver, *os; /* NULL name/ver: the defaults */
    pending *requests;
    int depth, freed;
};

static void destroy(canto_software_version *sv)
{
    free(sv->name);
    free(sv->ver);
    free(sv->os);
    free(sv);
}

static void enter(canto_software_version *sv)
{
    sv->depth++;
}

static void leave(canto_software_version *sv)
{
    if (--sv->depth == 0 && sv->freed)
        destroy(sv);
}

/* --- answering ------------------------------------------------------------ */

static int add_text_child(canto_stanza *parent, const char *name, const char *text)
{
    canto_stanza *c;
    int rc = canto_stanza_add_child(parent, name, NULL, &c);
    if (rc == 0)
        rc = canto_stanza_set_text(c, text);
    return rc;
}

int canto_software_version_make_reply(const canto_software_version *sv, const canto_stanza *req,
                                      canto_stanza **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!sv || !req || !canto_stanza_is(req, "iq", NULL))
        return CANTO_EINVAL;
    const char *type = canto_stanza_attr(req, "type");
    const char *id = canto_stanza_attr(req, "id");
    if (!type || strcmp(type, "get") != 0 || !id ||
        !canto_stanza_child(req, "query", CANTO_NS_SOFTWARE_VERSION))
        return CANTO_EINVAL;
    canto_stanza *reply, *query;
    int rc = canto_stanza_new_iq(NULL, "result", canto_stanza_attr(req, "from"), id, &reply);
    if (rc)
        return rc;
    rc = canto_stanza_add_child(reply, "query", CANTO_NS_SOFTWARE_VERSION, &query);
    if (rc == 0)
        rc = add_text_child(query, "name", sv->name ? sv->name : "Canto");
    if (rc == 0)
        rc = add_text_child(query, "version", sv->ver ? sv->ver : canto_version());
    if (rc == 0 && sv->os)
        rc = add_text_child(query, "os", sv->os);
    if (rc) {
        canto_stanza_free(reply);
        return rc;
    }
    *out = reply;
    return 0;
}

static int on_query(void *ud, canto_client *client, canto_stanza *st)
{
    canto_software_version *sv = ud;
    canto_stanza *reply;
    if (canto_software_version_make_reply(sv, st, &reply) != 0)
        return 0; /* malformed: the client's default error answer goes out */
    canto_client_send(client, reply);
    canto_stanza_free(reply);
    return 1;
}

/* Copy of @p s checked as XML text; *out NULL for NULL. */
static int copy_text(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return 0;
    if (!*s)
        return CANTO_EINVAL;
    canto_stanza *probe;
    int rc = canto_stanza_new(NULL, "x", NULL, &probe);
    if (rc == 0)
        rc = canto_stanza_set_text(probe, s);
    canto_stanza_free(probe);
    if (rc == 0 && !(*out = strdup(s)))
        rc = CANTO_ENOMEM;
    return rc;
}

int canto_software_version_set(canto_software_version *sv, const char *name, const char *ver,
                               const char *os)
{
    if (!sv)
        return CANTO_EINVAL;
    char *n, *v = NULL, *o = NULL;
    int rc = copy_text(name, &n);
    if (rc == 0)
        rc = copy_text(ver, &v);
    if (rc == 0)
        rc = copy_text(os, &o);
    if (rc) {
        free(n);
        free(v);
        free(o);
        return rc;
    }
    free(sv->name);
    free(sv->ver);
    free(sv->os);
    sv->name = n;
    sv->ver = v;
    sv->os = o;
    return 0;
}

/* --- parsing -------------------------------------------------------------- */

int canto_software_version_parse(const canto_stanza *result, canto_software_version_info *info)
{
    if (!result || !info || info->version != CANTO_SOFTWARE_VERSION_INFO_VERSION)
        return CANTO_EINVAL;
    info->name = info->ver = info->os = NULL;
    const canto_stanza *q = canto_stanza_child(result, "query", CANTO_NS_SOFTWARE_VERSION);
    if (!q)
        return CANTO_ENOTFOUND;
    info->name = canto_stanza_child_text(q, "name", CANTO_NS_SOFTWARE_VERSION);
    info->ver = canto_stanza_child_text(q, "version", CANTO_NS_SOFTWARE_VERSION);
    info->os = canto_stanza_child_text(q, "os", CANTO_NS_SOFTWARE_VERSION);
    return info->name && info->ver ? 0 : CANTO_EPROTO;
}

/* --- querying ------------------------------------------------------------- */

static void unlink_request(canto_software_version *sv, pending *q)
{
    for (pending **pp = &sv->requests; *pp; pp = &(*pp)->next) {
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

static void report(canto_software_version *sv, pending *q, const canto_iq_response *resp)
{
    canto_software_version_result r = {CANTO_SOFTWARE_VERSION_RESULT_VERSION,
                                       CANTO_IQ_CANCELED,
                                       NULL,
                                       CANTO_SOFTWARE_VERSION_INFO_INIT,
                                       0,
                                       q->jid,
                                       NULL};
    if (resp) {
        r.outcome = resp->outcome;
        r.stanza = resp->stanza;
        if (resp->outcome == CANTO_IQ_ERROR)
            r.error = &resp->error;
        else if (resp->outcome == CANTO_IQ_RESULT)
            r.parse_error = canto_software_version_parse(resp->stanza, &r.info);
    }
    q->fn(q->ud, sv, &r);
}

static void on_answer(void *ud, canto_client *client, const canto_iq_response *resp)
{
    pending *q = ud;
    canto_software_version *sv = q->sv;
    (void)client;
    unlink_request(sv, q);
    enter(sv);
    if (!sv->freed)
        report(sv, q, resp);
    request_free(q);
    leave(sv);
}

int canto_software_version_query(canto_software_version *sv, const char *jid, uint32_t timeout_ms,
                                 canto_software_version_fn fn, void *ud, unsigned *handle)
{
    if (!sv || !jid || !fn || sv->freed)
        return CANTO_EINVAL;
    pending *q = calloc(1, sizeof(*q));
    if (!q)
        return CANTO_ENOMEM;
    q->sv = sv;
    q->fn = fn;
    q->ud = ud;
    canto_jid *j;
    int rc = canto_jid_parse(NULL, jid, &j);
    if (rc == 0) {
        q->jid = strdup(canto_jid_str(j));
        canto_jid_free(j);
        if (!q->jid)
            rc = CANTO_ENOMEM;
    }
    canto_stanza *iq = NULL;
    if (rc == 0)
        rc = canto_stanza_new(NULL, "iq", CANTO_NS_CLIENT, &iq);
    if (rc == 0)
        rc = canto_stanza_set_attr(iq, "type", "get");
    if (rc == 0)
        rc = canto_stanza_set_attr(iq, "to", q->jid);
    if (rc == 0)
        rc = canto_stanza_add_child(iq, "query", CANTO_NS_SOFTWARE_VERSION, NULL);
    if (rc == 0)
        rc = canto_client_send_iq(sv->client, iq, timeout_ms, on_answer, q, &q->handle);
    canto_stanza_free(iq);
    if (rc) {
        request_free(q);
        return rc;
    }
    q->next = sv->requests;
    sv->requests = q;
    if (handle)
        *handle = q->handle;
    return 0;
}

int canto_software_version_cancel(canto_software_version *sv, unsigned handle)
{
    if (!sv)
        return CANTO_EINVAL;
    for (pending *q = sv->requests; q; q = q->next) {
        if (q->handle == handle) {
            unlink_request(sv, q);
            canto_client_cancel_iq(sv->client, q->handle);
            request_free(q);
            return 0;
        }
    }
    return CANTO_ENOTFOUND;
}

/* --- life cycle ----------------------------------------------------------- */

int canto_software_version_new(canto_client *client, canto_software_version **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!client)
        return CANTO_EINVAL;
    canto_software_version *sv = calloc(1, sizeof(*sv));
    if (!sv)
        return CANTO_ENOMEM;
    sv->client = client;
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "iq";
    m.type = "get";
    m.ns = CANTO_NS_SOFTWARE_VERSION;
    int rc = canto_client_add_handler(client, &m, on_query, sv, &sv->handler_id);
    if (rc == 0) {
        rc = canto_client_add_feature(client, CANTO_NS_SOFTWARE_VERSION);
        if (rc)
            canto_client_remove_handler(client, sv->handler_id);
    }
    if (rc) {
        free(sv);
        return rc;
    }
    *out = sv;
    return 0;
}

void canto_software_version_free(canto_software_version *sv)
{
    if (!sv || sv->freed)
        return;
    sv->freed = 1;
    canto_client_remove_handler(sv->client, sv->handler_id);
    canto_client_remove_feature(sv->client, CANTO_NS_SOFTWARE_VERSION);
    enter(sv);
    pending *list = sv->requests;
    sv->requests = NULL;
    while (list) {
        pending *q = list;
        list = q->next;
        canto_client_cancel_iq(sv->client, q->handle);
        report(sv, q, NULL);
        request_free(q);
    }
    leave(sv);
}
