/* Delayed Delivery (XEP-0203, with the XEP-0091 fallback) and XEP-0082
 * date-times. Public API only; no state. */
#include <stdio.h>
#include <string.h>

#include <canto/delay.h>
#include <canto/error.h>

#include "plugins/common/datetime.h"

int canto_delay_parse_datetime(const char *text, int64_t *utc_ms, int *tzo_minutes)
{
    if (!text)
        return CANTO_EINVAL;
    return canto__dt_parse(text, utc_ms, tzo_minutes) == 0 ? 0 : CANTO_EPROTO;
}

int canto_delay_format_datetime(int64_t utc_ms, int tzo_minutes, char *buf, size_t cap)
{
    return canto__dt_format(utc_ms, tzo_minutes, 1, buf, cap);
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
            if (canto__dt_parse_legacy(canto_stanza_attr(x, "stamp"), &best_stamp) == 0)
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
