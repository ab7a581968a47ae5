/* Delayed Delivery (XEP-0203, with the XEP-0091 fallback) and XEP-0082
 * date-times. Public API only; no state. */
#include <stdio.h>
#include <string.h>

#include <canto/delay.h>
#include <canto/error.h>

#define MS_PER_DAY 86400000LL
/* Beyond this (about 31700 years either way) no 4-digit year can come out,
 * and adding an offset cannot overflow. */
#define MS_LIMIT 1000000000000000LL

/* --- calendar ------------------------------------------------------------- */

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar: the year
 * is counted from March so that the leap day comes last, and split into
 * 400-year eras of 146097 days. */
static int64_t days_from_civil(int y, int m, int d)
{
    if (m <= 2)
        y--;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;                                   /* 0..399 */
    int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
    return (int64_t)era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil(). */
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

/* --- parsing -------------------------------------------------------------- */

/* Exactly @p n decimal digits. */
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

static int lit2(const char **p, char a, char b)
{
    if (**p != a && **p != b)
        return -1;
    (*p)++;
    return 0;
}

/* hh:mm:ss[.fff...] */
static int parse_time(const char **p, int *h, int *mi, int *s, int *ms)
{
    if (digits(p, 2, h) || lit(p, ':') || digits(p, 2, mi) || lit(p, ':') || digits(p, 2, s))
        return -1;
    *ms = 0;
    if (**p == '.') {
        (*p)++;
        int n = 0;
        while (**p >= '0' && **p <= '9') {
            if (n < 3)
                *ms = *ms * 10 + (**p - '0');
            n++;
            (*p)++;
        }
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            *ms *= 10;
    }
    return 0;
}

static int check_ranges(int y, int mo, int d, int h, int mi, int s)
{
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60)
        return -1;
    return 0;
}

static int64_t to_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
    return days_from_civil(y, mo, d) * MS_PER_DAY + (int64_t)h * 3600000 + (int64_t)mi * 60000 +
           (int64_t)s * 1000 + ms;
}

int canto_delay_parse_datetime(const char *text, int64_t *utc_ms, int *tzo_minutes)
{
    if (!text)
        return CANTO_EINVAL;
    const char *p = text;
    int y, mo, d, h, mi, s, ms, tzo;
    if (digits(&p, 4, &y) || lit(&p, '-') || digits(&p, 2, &mo) || lit(&p, '-') ||
        digits(&p, 2, &d) || lit2(&p, 'T', 't') || parse_time(&p, &h, &mi, &s, &ms))
        return CANTO_EPROTO;
    if (*p == 'Z' || *p == 'z') {
        tzo = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(&p, 2, &oh) || lit(&p, ':') || digits(&p, 2, &om) || oh > 23 || om > 59)
            return CANTO_EPROTO;
        tzo = sign * (oh * 60 + om);
    } else {
        return CANTO_EPROTO;
    }
    if (*p || check_ranges(y, mo, d, h, mi, s))
        return CANTO_EPROTO;
    if (utc_ms)
        *utc_ms = to_ms(y, mo, d, h, mi, s, ms) - (int64_t)tzo * 60000;
    if (tzo_minutes)
        *tzo_minutes = tzo;
    return 0;
}

/* XEP-0091: CCYYMMDDThh:mm:ss, always UTC. */
static int parse_legacy(const char *text, int64_t *utc_ms)
{
    const char *p = text;
    int y, mo, d, h, mi, s;
    if (!p || digits(&p, 4, &y) || digits(&p, 2, &mo) || digits(&p, 2, &d) || lit(&p, 'T') ||
        digits(&p, 2, &h) || lit(&p, ':') || digits(&p, 2, &mi) || lit(&p, ':') ||
        digits(&p, 2, &s) || *p || check_ranges(y, mo, d, h, mi, s))
        return CANTO_EPROTO;
    *utc_ms = to_ms(y, mo, d, h, mi, s, 0);
    return 0;
}

/* --- formatting ----------------------------------------------------------- */

int canto_delay_format_datetime(int64_t utc_ms, int tzo_minutes, char *buf, size_t cap)
{
    if (!buf || tzo_minutes <= -24 * 60 || tzo_minutes >= 24 * 60 || utc_ms <= -MS_LIMIT ||
        utc_ms >= MS_LIMIT)
        return CANTO_EINVAL;
    int64_t local = utc_ms + (int64_t)tzo_minutes * 60000;
    int64_t days = local / MS_PER_DAY, rem = local % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    int y, mo, d;
    civil_from_days(days, &y, &mo, &d);
    if (y < 0 || y > 9999)
        return CANTO_EINVAL;
    int ms = (int)(rem % 1000);
    char frac[8] = "", zone[8] = "Z";
    if (ms)
        snprintf(frac, sizeof(frac), ".%03d", ms);
    if (tzo_minutes) {
        int a = tzo_minutes < 0 ? -tzo_minutes : tzo_minutes;
        snprintf(zone, sizeof(zone), "%c%02d:%02d", tzo_minutes < 0 ? '-' : '+', a / 60, a % 60);
    }
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", y, mo, d, (int)(rem / 3600000),
                     (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), frac, zone);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            buf[0] = '\0';
        return CANTO_ETOOBIG;
    }
    return 0;
}

/* --- the stanza ----------------------------------------------------------- */

static void fill(const canto_stanza *el, int64_t stamp, int64_t *utc_ms, const char **from,
                 const char **reason)
{
    if (utc_ms)
        *utc_ms = stamp;
    if (from)
        *from = canto_stanza_attr(el, "from");
    if (reason) {
        const char *t = canto_stanza_text(el);
        *reason = t && *t ? t : NULL;
    }
}

int canto_delay_get(const canto_stanza *stanza, int64_t *utc_ms, const char **from,
                    const char **reason)
{
    if (!stanza)
        return CANTO_EINVAL;
    const canto_stanza *best = NULL;
    int64_t best_stamp = 0;
    int seen = 0;
    for (const canto_stanza *el = canto_stanza_child(stanza, "delay", CANTO_NS_DELAY); el;
         el = canto_stanza_next_match(el, "delay", CANTO_NS_DELAY)) {
        int64_t t;
        seen = 1;
        if (canto_delay_parse_datetime(canto_stanza_attr(el, "stamp"), &t, NULL) == 0 &&
            (!best || t < best_stamp)) {
            best = el;
            best_stamp = t;
        }
    }
    if (!best) {
        const canto_stanza *x = canto_stanza_child(stanza, "x", CANTO_NS_DELAY_LEGACY);
        if (x) {
            seen = 1;
            if (parse_legacy(canto_stanza_attr(x, "stamp"), &best_stamp) == 0)
                best = x;
        }
    }
    if (!best)
        return seen ? CANTO_EPROTO : CANTO_ENOTFOUND;
    fill(best, best_stamp, utc_ms, from, reason);
    return 0;
}

int canto_delay_add(canto_stanza *stanza, int64_t utc_ms, const char *from, const char *reason)
{
    if (!stanza || canto_stanza_kind(stanza) != CANTO_NODE_ELEMENT)
        return CANTO_EINVAL;
    char stamp[CANTO_DELAY_DATETIME_MAX];
    int rc = canto_delay_format_datetime(utc_ms, 0, stamp, sizeof(stamp));
    if (rc)
        return rc;
    canto_stanza *d = NULL;
    rc = canto_stanza_add_child(stanza, "delay", CANTO_NS_DELAY, &d);
    if (rc == 0 && from)
        rc = canto_stanza_set_attr(d, "from", from);
    if (rc == 0)
        rc = canto_stanza_set_attr(d, "stamp", stamp);
    if (rc == 0 && reason)
        rc = canto_stanza_set_text(d, reason);
    if (rc && d)
        canto_stanza_remove(d);
    return rc;
}
