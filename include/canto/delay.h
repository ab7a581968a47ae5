/**
 * @file canto/delay.h
 * @brief Delayed Delivery (XEP-0203) and XMPP date-times (XEP-0082).
 *
 * Messages delivered from offline storage, from a MUC history or wrapped in a
 * forward carry `<delay xmlns='urn:xmpp:delay' stamp='...'/>` telling when
 * they were originally sent. canto_delay_get() reads it (and the older
 * `<x xmlns='jabber:x:delay'/>` of XEP-0091 when no valid XEP-0203 element is
 * there), canto_delay_add() writes one.
 *
 * Times are milliseconds since 1970-01-01T00:00:00Z (UTC, leap seconds not
 * counted, as in POSIX time), in an int64_t; divide by 1000 for a time_t.
 *
 * This plugin keeps no state and announces no disco feature (XEP-0203 defines
 * none). Threads: every function touches only its arguments and may be used
 * from any thread. Ownership: strings returned are borrowed from the stanza
 * they were read from.
 */
#ifndef CANTO_DELAY_H
#define CANTO_DELAY_H

#include <stddef.h>
#include <stdint.h>
#include <canto/export.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace of Delayed Delivery (XEP-0203). */
#define CANTO_NS_DELAY "urn:xmpp:delay"
/** Namespace of Legacy Delayed Delivery (XEP-0091, obsolete). */
#define CANTO_NS_DELAY_LEGACY "jabber:x:delay"

/** Buffer size that fits any date-time canto_delay_format_datetime() writes, with its NUL. */
#define CANTO_DELAY_DATETIME_MAX 32

/**
 * Parse an XEP-0082 DateTime: `CCYY-MM-DDThh:mm:ss[.sss]TZD` where TZD is `Z`
 * or `+hh:mm` / `-hh:mm`, e.g. "2002-09-10T23:41:07.123-07:00". Fractional
 * seconds may have any number of digits (truncated to milliseconds); a leap
 * second (ss = 60) counts as the first second of the next minute. `T` and `Z`
 * may be lowercase (as RFC 3339 allows). A time zone is required.
 * @param text NUL-terminated; nothing may follow the time zone.
 * @param utc_ms receives the time in UTC (may be NULL).
 * @param tzo_minutes receives the offset the text was written in, in minutes
 *        east of UTC (may be NULL).
 * @return 0, CANTO_EINVAL (NULL @p text), CANTO_EPROTO (not such a date-time,
 *         or a field out of range: month 1-12, day within the month, hour
 *         0-23, minute 0-59, second 0-60, offset hours 0-23).
 */
CANTO_EXPORT int canto_delay_parse_datetime(const char *text, int64_t *utc_ms, int *tzo_minutes);

/**
 * Write an XEP-0082 DateTime for @p utc_ms as local time at offset
 * @p tzo_minutes ("Z" for 0, else "+hh:mm"/"-hh:mm"), with ".sss" only when
 * the milliseconds are not zero, e.g. "1969-07-21T02:56:15Z".
 * @param buf receives the NUL-terminated text; @p cap its size
 *        (CANTO_DELAY_DATETIME_MAX always suffices).
 * @return 0, CANTO_EINVAL (NULL @p buf, an offset of a day or more, a year
 *         outside 0000-9999), CANTO_ETOOBIG (@p cap too small).
 */
CANTO_EXPORT int canto_delay_format_datetime(int64_t utc_ms, int tzo_minutes, char *buf,
                                             size_t cap);

/**
 * Read when @p stanza was originally sent. Looks at its `<delay/>` children
 * in urn:xmpp:delay; when there are several (each entity that delayed it may
 * add one), the one with the earliest valid stamp wins. Without a valid one,
 * the XEP-0091 `<x xmlns='jabber:x:delay' stamp='CCYYMMDDThh:mm:ss'/>` (UTC)
 * is used.
 * @param utc_ms receives the stamp (may be NULL).
 * @param from receives the `from` attribute of the element used: the entity
 *        that delayed the stanza (borrowed; NULL if absent; @p from may be NULL).
 * @param reason receives its text, the natural-language reason (borrowed; NULL
 *        if empty; @p reason may be NULL).
 * @return 0, CANTO_EINVAL (NULL @p stanza), CANTO_ENOTFOUND (no delay element),
 *         CANTO_EPROTO (delay elements, but none with a valid stamp).
 */
CANTO_EXPORT int canto_delay_get(const canto_stanza *stanza, int64_t *utc_ms, const char **from,
                                 const char **reason);

/**
 * Append `<delay xmlns='urn:xmpp:delay' stamp='...'/>` (stamp in UTC) to
 * @p stanza, e.g. when storing or forwarding it.
 * @param from the entity delaying it, or NULL; @param reason text, or NULL.
 * @return 0, CANTO_EINVAL (NULL @p stanza, time out of range), CANTO_EUTF8,
 *         CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_delay_add(canto_stanza *stanza, int64_t utc_ms, const char *from,
                                 const char *reason);

CANTO_END_DECLS

#endif
