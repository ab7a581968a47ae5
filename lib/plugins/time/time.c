/* Entity Time (XEP-0202): answering with UTC and the offset, querying others.
 * Public API only; date-times through plugins/common/datetime.h. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <canto/error.h>
#include <canto/time.h>

#include "plugins/common/datetime.h"
#include "plugins/common/iq_query.h"

struct canto_time {
    canto__iq_query iq;
    int tzo; /* CANTO_TIME_TZO_LOCAL or minutes */
};

/* --- answering ------------------------------------------------------------ */

int canto_time_make_reply(const canto_stanza *req, int64_t utc_ms, int tzo_minutes,
                          canto_stanza **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!req)
        return CANTO_EINVAL;
    /* Whole seconds in UTC, and the offset on its own. */
    char utc[64], tzo[16];
    int rc = canto__dt_format(utc_ms, 0, 0, utc, sizeof(utc));
    if (rc == 0 && (tzo_minutes <= -24 * 60 || tzo_minutes >= 24 * 60))
        rc = CANTO_EINVAL;
    if (rc)
        return rc == CANTO_ETOOBIG ? CANTO_EINVAL : rc;
    canto__dt_format_tzd(tzo_minutes, tzo, sizeof(tzo));
    canto_stanza *reply, *time_el;
    rc = canto__iq_query_new_reply(req, "time", CANTO_NS_TIME, &reply, &time_el);
    if (rc)
        return rc;
    rc = canto__iq_query_add_text(time_el, "tzo", tzo);
    if (rc == 0)
        rc = canto__iq_query_add_text(time_el, "utc", utc);
    if (rc) {
        canto_stanza_free(reply);
        return rc;
    }
    *out = reply;
    return 0;
}

static int local_tzo(time_t now)
{
    struct tm tm;
    if (!localtime_r(&now, &tm))
        return 0;
    long off = tm.tm_gmtoff / 60;
    return off > -24 * 60 && off < 24 * 60 ? (int)off : 0;
}

static int on_query(void *ud, canto_client *client, canto_stanza *st)
{
    canto_time *t = ud;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0; /* no clock: the default error answer goes out */
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int tzo = t->tzo == CANTO_TIME_TZO_LOCAL ? local_tzo(ts.tv_sec) : t->tzo;
    canto_stanza *reply;
    if (canto_time_make_reply(st, now, tzo, &reply) != 0)
        return 0;
    canto_client_send(client, reply);
    canto_stanza_free(reply);
    return 1;
}

int canto_time_set_tzo(canto_time *t, int tzo_minutes)
{
    if (!t || (tzo_minutes != CANTO_TIME_TZO_LOCAL &&
               (tzo_minutes <= -24 * 60 || tzo_minutes >= 24 * 60)))
        return CANTO_EINVAL;
    t->tzo = tzo_minutes;
    return 0;
}

/* --- parsing -------------------------------------------------------------- */

int canto_time_parse(const canto_stanza *result, canto_time_info *info)
{
    if (!result || !info || info->version != CANTO_TIME_INFO_VERSION)
        return CANTO_EINVAL;
    info->utc_ms = 0;
    info->tzo_minutes = 0;
    info->utc = info->tzo = NULL;
    const canto_stanza *el = canto_stanza_child(result, "time", CANTO_NS_TIME);
    if (!el)
        return CANTO_ENOTFOUND;
    info->utc = canto_stanza_child_text(el, "utc", CANTO_NS_TIME);
    info->tzo = canto_stanza_child_text(el, "tzo", CANTO_NS_TIME);
    int64_t utc;
    int tzo;
    if (!info->utc || !info->tzo || canto__dt_parse(info->utc, &utc, NULL) ||
        canto__dt_parse_tzd(info->tzo, &tzo))
        return CANTO_EPROTO;
    info->utc_ms = utc;
    info->tzo_minutes = tzo;
    return 0;
}

/* --- querying ------------------------------------------------------------- */

static void destroy(void *owner)
{
    free(owner);
}

static void report(void *owner, canto__iq_query_cb fn, void *ud, const char *jid,
                   const canto_iq_response *resp)
{
    canto_time_result r = {
        CANTO_TIME_RESULT_VERSION, CANTO_IQ_CANCELED, NULL, CANTO_TIME_INFO_INIT, 0, jid, NULL};
    if (resp) {
        r.outcome = resp->outcome;
        r.stanza = resp->stanza;
        if (resp->outcome == CANTO_IQ_ERROR)
            r.error = &resp->error;
        else if (resp->outcome == CANTO_IQ_RESULT)
            r.parse_error = canto_time_parse(resp->stanza, &r.info);
    }
    ((canto_time_fn)fn)(ud, owner, &r);
}

int canto_time_query(canto_time *t, const char *jid, uint32_t timeout_ms, canto_time_fn fn,
                     void *ud, unsigned *handle)
{
    if (!t || !jid || !fn || t->iq.freed)
        return CANTO_EINVAL;
    return canto__iq_query_send(&t->iq, jid, timeout_ms, (canto__iq_query_cb)fn, ud, handle);
}

int canto_time_cancel(canto_time *t, unsigned handle)
{
    if (!t)
        return CANTO_EINVAL;
    return canto__iq_query_cancel(&t->iq, handle);
}

/* --- life cycle ----------------------------------------------------------- */

int canto_time_new(canto_client *client, canto_time **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!client)
        return CANTO_EINVAL;
    canto_time *t = calloc(1, sizeof(*t));
    if (!t)
        return CANTO_ENOMEM;
    t->tzo = CANTO_TIME_TZO_LOCAL;
    int rc =
        canto__iq_query_init(&t->iq, client, "time", CANTO_NS_TIME, on_query, t, report, destroy);
    if (rc) {
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void canto_time_free(canto_time *t)
{
    if (!t || t->iq.freed)
        return;
    canto__iq_query_free(&t->iq);
}
