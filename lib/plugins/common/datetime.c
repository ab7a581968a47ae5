/* XEP-0082 date-times shared by the delay and time plugins (datetime.h). */
#include "plugins/common/datetime.h"

#include <stdio.h>

#include <canto/error.h>

#define MS_PER_DAY 86400000LL

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

int canto__dt_parse_tzd(const char *p, int *tzo)
{
    if (!p)
        return -1;
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

int canto__dt_parse(const char *text, int64_t *utc_ms, int *tzo_out)
{
    const char *p = text;
    int y, mo, d, h, mi, s, ms, tzo;
    if (!p || digits(&p, 4, &y) || lit(&p, '-') || digits(&p, 2, &mo) || lit(&p, '-') ||
        digits(&p, 2, &d) || lit2(&p, 'T', 't') || parse_time(&p, &h, &mi, &s, &ms) ||
        canto__dt_parse_tzd(p, &tzo) || check_ranges(y, mo, d, h, mi, s))
        return -1;
    if (utc_ms)
        *utc_ms = to_ms(y, mo, d, h, mi, s, ms) - (int64_t)tzo * 60000;
    if (tzo_out)
        *tzo_out = tzo;
    return 0;
}

int canto__dt_parse_legacy(const char *text, int64_t *utc_ms)
{
    const char *p = text;
    int y, mo, d, h, mi, s;
    if (!p || digits(&p, 4, &y) || digits(&p, 2, &mo) || digits(&p, 2, &d) || lit(&p, 'T') ||
        digits(&p, 2, &h) || lit(&p, ':') || digits(&p, 2, &mi) || lit(&p, ':') ||
        digits(&p, 2, &s) || *p || check_ranges(y, mo, d, h, mi, s))
        return -1;
    *utc_ms = to_ms(y, mo, d, h, mi, s, 0);
    return 0;
}

/* --- formatting ----------------------------------------------------------- */

void canto__dt_format_tzd(int tzo, char *buf, size_t cap)
{
    int a = tzo < 0 ? -tzo : tzo;
    snprintf(buf, cap, "%c%02d:%02d", tzo < 0 ? '-' : '+', a / 60, a % 60);
}

int canto__dt_format(int64_t utc_ms, int tzo, int with_ms, char *buf, size_t cap)
{
    if (!buf || tzo <= -24 * 60 || tzo >= 24 * 60 || utc_ms <= -CANTO__DT_MS_LIMIT ||
        utc_ms >= CANTO__DT_MS_LIMIT)
        return CANTO_EINVAL;
    int64_t local = utc_ms + (int64_t)tzo * 60000;
    /* Floored, also before 1970. */
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
    if (with_ms && ms)
        snprintf(frac, sizeof(frac), ".%03d", ms);
    if (tzo)
        canto__dt_format_tzd(tzo, zone, sizeof(zone));
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", y, mo, d, (int)(rem / 3600000),
                     (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), frac, zone);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            buf[0] = '\0';
        return CANTO_ETOOBIG;
    }
    return 0;
}
