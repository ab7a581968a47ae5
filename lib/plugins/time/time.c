/* Entity Time (XEP-0202): answering with UTC and the offset, querying others.
 * Public API only. The date-time code is a small copy of the delay plugin's
 * so that each plugin builds on its own. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <canto/error.h>
#include <canto/time.h>

#include "plugins/common/iq_query.h"

#define MS_PER_DAY 86400000LL
#define MS_LIMIT 1000000000000000LL

struct canto_time {
    canto__iq_query iq;
    int tzo; /* CANTO_TIME_TZO_LOCAL or minutes */
};

/* --- calendar (proleptic Gregorian, see delay.c) -------------------------- */

static int days_in_month(int y, int m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

static int64_t days_from_civil(int y, int m, int d)
{
    if (m <= 2)
        y--;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = (int)(z - era * 146097);
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400) + (*m <= 2);
}

static int digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

static int lit(const char **p, char c)
{
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

/* TZD: "Z" or "+hh:mm" / "-hh:mm", then the end of the text. */
static int parse_tzd(const char *p, int *tzo)
{
    if (*p == 'Z' || *p == 'z') {
        *tzo = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(&p, 2, &oh) || lit(&p, ':') || digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        *tzo = sign * (oh * 60 + om);
    } else {
        return -1;
    }
    return *p ? -1 : 0;
}

/* XEP-0082 DateTime to UTC milliseconds. */
static int parse_datetime(const char *p, int64_t *utc_ms)
{
    int y, mo, d, h, mi, s, ms = 0, tzo;
    if (!p || digits(&p, 4, &y) || lit(&p, '-') || digits(&p, 2, &mo) || lit(&p, '-') ||
        digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
        return -1;
    p++;
    if (digits(&p, 2, &h) || lit(&p, ':') || digits(&p, 2, &mi) || lit(&p, ':') ||
        digits(&p, 2, &s))
        return -1;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                ms = ms * 10 + (*p - '0');
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            ms *= 10;
    }
    if (parse_tzd(p, &tzo) || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || s > 60)
        return -1;
    *utc_ms = days_from_civil(y, mo, d) * MS_PER_DAY + (int64_t)h * 3600000 + (int64_t)mi * 60000 +
              (int64_t)s * 1000 + ms - (int64_t)tzo * 60000;
    return 0;
}

/* --- answering ------------------------------------------------------------ */

int canto_time_make_reply(const canto_stanza *req, int64_t utc_ms, int tzo_minutes,
                          canto_stanza **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!req || tzo_minutes <= -24 * 60 || tzo_minutes >= 24 * 60 || utc_ms <= -MS_LIMIT ||
        utc_ms >= MS_LIMIT)
        return CANTO_EINVAL;
    /* Whole seconds, floored also before 1970. */
    int64_t days = utc_ms / MS_PER_DAY, rem = utc_ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    int y, mo, d;
    civil_from_days(days, &y, &mo, &d);
    if (y < 0 || y > 9999)
        return CANTO_EINVAL;
    char utc[64], tzo[16];
    snprintf(utc, sizeof(utc), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, (int)(rem / 3600000),
             (int)(rem / 60000 % 60), (int)(rem / 1000 % 60));
    int a = tzo_minutes < 0 ? -tzo_minutes : tzo_minutes;
    snprintf(tzo, sizeof(tzo), "%c%02d:%02d", tzo_minutes < 0 ? '-' : '+', a / 60, a % 60);
    canto_stanza *reply, *time_el;
    int rc = canto__iq_query_new_reply(req, "time", CANTO_NS_TIME, &reply, &time_el);
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
    if (!info->utc || !info->tzo || parse_datetime(info->utc, &utc) || parse_tzd(info->tzo, &tzo))
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
