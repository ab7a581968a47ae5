/* Software Version (XEP-0092): answering with the configured name, version
 * and optional OS; querying others. Public API only. */
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>
#include <canto/software_version.h>
#include <canto/version.h>

#include "plugins/common/iq_query.h"

struct canto_software_version {
    canto__iq_query iq;
    char *name, *ver, *os; /* NULL name/ver: the defaults */
};

static void destroy(void *owner)
{
    canto_software_version *sv = owner;
    free(sv->name);
    free(sv->ver);
    free(sv->os);
    free(sv);
}

/* --- answering ------------------------------------------------------------ */

int canto_software_version_make_reply(const canto_software_version *sv, const canto_stanza *req,
                                      canto_stanza **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!sv || !req)
        return CANTO_EINVAL;
    canto_stanza *reply, *query;
    int rc = canto__iq_query_new_reply(req, "query", CANTO_NS_SOFTWARE_VERSION, &reply, &query);
    if (rc)
        return rc;
    rc = canto__iq_query_add_text(query, "name", sv->name ? sv->name : "Canto");
    if (rc == 0)
        rc = canto__iq_query_add_text(query, "version", sv->ver ? sv->ver : canto_version());
    if (rc == 0 && sv->os)
        rc = canto__iq_query_add_text(query, "os", sv->os);
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

static void report(void *owner, canto__iq_query_cb fn, void *ud, const char *jid,
                   const canto_iq_response *resp)
{
    canto_software_version_result r = {CANTO_SOFTWARE_VERSION_RESULT_VERSION,
                                       CANTO_IQ_CANCELED,
                                       NULL,
                                       CANTO_SOFTWARE_VERSION_INFO_INIT,
                                       0,
                                       jid,
                                       NULL};
    if (resp) {
        r.outcome = resp->outcome;
        r.stanza = resp->stanza;
        if (resp->outcome == CANTO_IQ_ERROR)
            r.error = &resp->error;
        else if (resp->outcome == CANTO_IQ_RESULT)
            r.parse_error = canto_software_version_parse(resp->stanza, &r.info);
    }
    ((canto_software_version_fn)fn)(ud, owner, &r);
}

int canto_software_version_query(canto_software_version *sv, const char *jid, uint32_t timeout_ms,
                                 canto_software_version_fn fn, void *ud, unsigned *handle)
{
    if (!sv || !jid || !fn || sv->iq.freed)
        return CANTO_EINVAL;
    return canto__iq_query_send(&sv->iq, jid, timeout_ms, (canto__iq_query_cb)fn, ud, handle);
}

int canto_software_version_cancel(canto_software_version *sv, unsigned handle)
{
    if (!sv)
        return CANTO_EINVAL;
    return canto__iq_query_cancel(&sv->iq, handle);
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
    int rc = canto__iq_query_init(&sv->iq, client, "query", CANTO_NS_SOFTWARE_VERSION, on_query, sv,
                                  report, destroy);
    if (rc) {
        free(sv);
        return rc;
    }
    *out = sv;
    return 0;
}

void canto_software_version_free(canto_software_version *sv)
{
    if (!sv || sv->iq.freed)
        return;
    canto__iq_query_free(&sv->iq);
}
