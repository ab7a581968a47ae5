/**
 * @file canto/time.h
 * @brief Entity Time (XEP-0202): tell others the local time, and ask them.
 *
 * A canto_time is attached to one canto_client:
 * - it answers `<iq type='get'><time xmlns='urn:xmpp:time'/></iq>` with the
 *   current UTC time and the time zone offset (`<tzo/>`), and announces
 *   "urn:xmpp:time" with canto_client_add_feature() (withdrawn by
 *   canto_time_free()). The offset is the system's local one at the time of
 *   the answer unless canto_time_set_tzo() fixed it (e.g. to 0, to keep the
 *   user's time zone private);
 * - canto_time_query() asks another entity and parses its answer.
 *
 * Times are milliseconds since 1970-01-01T00:00:00Z (POSIX time, in ms);
 * offsets are minutes east of UTC. The entity's wall-clock time is
 * `utc_ms + tzo_minutes * 60000`.
 *
 * Threads: a canto_time is used only from the thread that runs its client's
 * loop; callbacks are called on that thread, from inside the loop's dispatch.
 * canto_time_make_reply() and canto_time_parse() touch only their arguments
 * and may be used from any thread.
 *
 * Ownership: canto_time_new() gives the caller the object, freed with
 * canto_time_free() before the client is freed. Values handed to callbacks
 * are valid until they return; strings read by canto_time_parse() are
 * borrowed from the stanza.
 */
#ifndef CANTO_TIME_H
#define CANTO_TIME_H

#include <stdint.h>
#include <canto/export.h>
#include <canto/client.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace (and disco feature) of Entity Time. */
#define CANTO_NS_TIME "urn:xmpp:time"

/** For canto_time_set_tzo(): use the system's local offset at each answer. */
#define CANTO_TIME_TZO_LOCAL (-32768)

/** Entity Time for one client. Opaque. */
typedef struct canto_time canto_time;

/** An entity's time as read from its answer. Strings are borrowed. */
typedef struct canto_time_info {
    unsigned version; /**< CANTO_TIME_INFO_VERSION */
    int64_t utc_ms;   /**< the entity's clock, in UTC */
    int tzo_minutes;  /**< its offset from UTC, minutes east */
    const char *utc;  /**< the `<utc/>` text as received */
    const char *tzo;  /**< the `<tzo/>` text as received */
} canto_time_info;

/** Version of canto_time_info understood by this header. */
#define CANTO_TIME_INFO_VERSION 1u
/** Initializer for canto_time_info. */
#define CANTO_TIME_INFO_INIT                                                                       \
    {                                                                                              \
        CANTO_TIME_INFO_VERSION, 0, 0, NULL, NULL                                                  \
    }

/**
 * Attach to @p client: answer time queries and announce the feature.
 * @param out receives the object; free with canto_time_free().
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_time_new(canto_client *client, canto_time **out);

/**
 * Stop answering, withdraw the feature and free the object. Queries still
 * pending get their callback first, with outcome CANTO_IQ_CANCELED. Must be
 * called before the client is freed. May be called from inside one of its own
 * callbacks. NULL is allowed.
 */
CANTO_EXPORT void canto_time_free(canto_time *t);

/**
 * Choose the offset the answers carry: CANTO_TIME_TZO_LOCAL (the default) for
 * the system's local offset, or a fixed number of minutes east of UTC.
 * @return 0, CANTO_EINVAL (NULL @p t, an offset of a day or more).
 */
CANTO_EXPORT int canto_time_set_tzo(canto_time *t, int tzo_minutes);

/**
 * Build the answer to @p request (an iq get carrying an urn:xmpp:time
 * `<time/>`): an iq result to its sender, same id, with `<tzo/>` (e.g.
 * "-06:00", "+00:00" for UTC) and `<utc/>` (whole seconds, e.g.
 * "2006-12-19T17:58:35Z"). The handler calls it with the current time; it is
 * public so that answers can be checked without a connection.
 * @param out receives the answer (caller frees with canto_stanza_free()).
 * @return 0, CANTO_EINVAL (NULL argument, not an iq get with an id and that
 *         child, an offset of a day or more, a year outside 0000-9999),
 *         CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_time_make_reply(const canto_stanza *request, int64_t utc_ms, int tzo_minutes,
                                       canto_stanza **out);

/**
 * Read an answer: the `<time/>` child's `<utc/>` (an XEP-0082 date-time; UTC
 * as XEP-0202 requires, though an explicit offset is honoured) and `<tzo/>`
 * ("Z" or "+hh:mm"/"-hh:mm").
 * @param result the iq result (or any element holding `<time/>`).
 * @param info a struct whose version is set (CANTO_TIME_INFO_INIT); filled in.
 * @return 0, CANTO_EINVAL (NULL argument, bad info version), CANTO_ENOTFOUND
 *         (no urn:xmpp:time `<time/>` child), CANTO_EPROTO (`<utc/>` or
 *         `<tzo/>` missing or malformed; the text fields are still filled in).
 */
CANTO_EXPORT int canto_time_parse(const canto_stanza *result, canto_time_info *info);

/** How a time query ended; valid during the callback only. */
typedef struct canto_time_result {
    unsigned version;                /**< CANTO_TIME_RESULT_VERSION */
    canto_iq_outcome outcome;        /**< see canto_iq_outcome */
    const canto_stanza_error *error; /**< the error answered (ERROR), else NULL */
    canto_time_info info;            /**< the entity's time (RESULT and parse_error 0) */
    /** 0, or for a RESULT that canto_time_parse() refused, its code. */
    int parse_error;
    const char *jid;            /**< the entity asked (normalized) */
    const canto_stanza *stanza; /**< the answer (RESULT, ERROR), else NULL */
} canto_time_result;

/** Version of canto_time_result filled in by this library. */
#define CANTO_TIME_RESULT_VERSION 1u

/**
 * Receives the outcome of one query. May call any function of this object,
 * including canto_time_free().
 */
typedef void (*canto_time_fn)(void *user_data, canto_time *t, const canto_time_result *result);

/**
 * Ask @p jid for its time (a contact: usually a full JID).
 * @param timeout_ms 0: 60 seconds.
 * @param fn called exactly once if this returns 0 (required).
 * @param request receives a handle for canto_time_cancel() (may be NULL).
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_EJID_* (invalid @p jid),
 *         CANTO_ENOMEM, and the codes of canto_client_send_iq().
 */
CANTO_EXPORT int canto_time_query(canto_time *t, const char *jid, uint32_t timeout_ms,
                                  canto_time_fn fn, void *user_data, unsigned *request);

/**
 * Forget a pending query: its callback will not be called.
 * @return 0, CANTO_EINVAL (NULL @p t), CANTO_ENOTFOUND.
 */
CANTO_EXPORT int canto_time_cancel(canto_time *t, unsigned request);

CANTO_END_DECLS

#endif
