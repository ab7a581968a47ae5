/**
 * @file canto/ping.h
 * @brief XMPP Ping (XEP-0199): answer pings, ping others, keep the connection alive.
 *
 * A canto_ping is attached to one canto_client:
 * - it answers every `<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>` sent
 *   to the client with an empty result, and announces "urn:xmpp:ping" with
 *   canto_client_add_feature() (withdrawn by canto_ping_free());
 * - canto_ping_send() pings any entity (or the account's server) and reports
 *   the round-trip time, the error the entity answered with, or a timeout;
 * - canto_ping_keepalive() pings the server at an interval while the client
 *   is connected and reports each outcome, so that the application can notice
 *   a dead connection (a timeout) and decide what to do, e.g. call
 *   canto_client_disconnect() and connect again. The plugin itself never
 *   disconnects.
 *
 * An error answer still proves that the entity is there: XEP-0199 says an
 * entity without ping support answers with `service-unavailable` or
 * `feature-not-implemented`, and a server answers for an offline contact.
 * The outcome tells which one came.
 *
 * Threads: a canto_ping is used only from the thread that runs its client's
 * loop; callbacks are called on that thread, from inside the loop's dispatch.
 *
 * Ownership: canto_ping_new() gives the caller the object, freed with
 * canto_ping_free() before the client (and before the loop) is freed. Strings
 * passed in are copied. Values handed to callbacks are valid until they return.
 */
#ifndef CANTO_PING_H
#define CANTO_PING_H

#include <stdint.h>
#include <canto/export.h>
#include <canto/client.h>
#include <canto/loop.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace (and disco feature) of XMPP Ping. */
#define CANTO_NS_PING "urn:xmpp:ping"

/** Pings for one client. Opaque. */
typedef struct canto_ping canto_ping;

/** How one ping ended; valid during the callback only. */
typedef struct canto_ping_result {
    unsigned version; /**< CANTO_PING_RESULT_VERSION */
    /**
     * CANTO_IQ_RESULT: the entity answered the ping. CANTO_IQ_ERROR: it
     * answered with an error (it is reachable but declined, see @ref error).
     * CANTO_IQ_TIMEOUT: no answer in time. CANTO_IQ_CANCELED: the connection
     * ended, the request was cancelled or the plugin freed first.
     */
    canto_iq_outcome outcome;
    /** Milliseconds from sending to the answer (RESULT and ERROR), else 0. */
    uint64_t rtt_ms;
    /** The error answered (ERROR only), else NULL. Borrowed. */
    const canto_stanza_error *error;
    /** The entity pinged as given (normalized), or NULL for the account's server. */
    const char *jid;
    /** 1 for a ping sent by the keepalive, 0 for one from canto_ping_send(). */
    int keepalive;
} canto_ping_result;

/** Version of canto_ping_result filled in by this library. */
#define CANTO_PING_RESULT_VERSION 1u

/**
 * Receives the outcome of one ping. The callback may call any function of
 * this plugin, including canto_ping_free(), and may disconnect or free the
 * client after freeing the plugin.
 */
typedef void (*canto_ping_fn)(void *user_data, canto_ping *ping, const canto_ping_result *result);

/**
 * Attach ping support to @p client: answer pings and announce the feature.
 * @param loop the loop @p client was created with: its clock measures
 *        round-trip times and it runs the keepalive timer.
 * @param out receives the plugin; free with canto_ping_free().
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_ping_new(canto_client *client, canto_loop *loop, canto_ping **out);

/**
 * Stop answering pings, withdraw the feature, stop the keepalive and free the
 * plugin. Pings still pending get their callback first, with outcome
 * CANTO_IQ_CANCELED (keepalive pings get none). Must be called before the
 * client is freed. May be called from inside one of this plugin's callbacks
 * (the memory is released when the outermost one returns). NULL is allowed.
 */
CANTO_EXPORT void canto_ping_free(canto_ping *ping);

/**
 * Ping @p jid (or the account's server for NULL) and call @p fn once with
 * the outcome.
 * @param jid full or bare JID, or a domain; NULL: the account's server.
 * @param timeout_ms how long to wait for the answer; 0: 60 seconds.
 * @param fn called exactly once if this returns 0 (required).
 * @param request receives a handle for canto_ping_cancel() (may be NULL).
 * @return 0, CANTO_EINVAL (NULL ping or fn), CANTO_EJID_* (invalid @p jid),
 *         CANTO_ENOMEM, and the codes of canto_client_send_iq()
 *         (CANTO_ENOTCONN when not connected).
 */
CANTO_EXPORT int canto_ping_send(canto_ping *ping, const char *jid, uint32_t timeout_ms,
                                 canto_ping_fn fn, void *user_data, unsigned *request);

/**
 * Forget a pending ping: its callback will not be called. Safe inside any
 * callback. @return 0, CANTO_EINVAL (NULL ping), CANTO_ENOTFOUND (answered,
 * cancelled, or unknown).
 */
CANTO_EXPORT int canto_ping_cancel(canto_ping *ping, unsigned request);

/**
 * Ping the account's server every @p interval_ms while the client is
 * connected. The first ping goes @p interval_ms after the call (or after
 * CANTO_CLIENT_CONNECTED if not connected yet), each next one @p interval_ms
 * after the previous one ended, so at most one keepalive ping is in flight.
 * Every ping's outcome except CANTO_IQ_CANCELED goes to @p fn with
 * `keepalive` set: CANTO_IQ_TIMEOUT means the server did not answer within
 * @p timeout_ms, and the application decides whether to reconnect; pinging
 * goes on meanwhile.
 *
 * Calling again replaces the settings (a ping in flight finishes under the
 * old ones); @p interval_ms 0 stops the keepalive.
 * @param timeout_ms how long to wait for each answer; 0: the interval.
 * @param fn receives the outcomes (may be NULL: pings are only sent).
 * @return 0, CANTO_EINVAL (NULL ping), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_ping_keepalive(canto_ping *ping, uint32_t interval_ms, uint32_t timeout_ms,
                                      canto_ping_fn fn, void *user_data);

CANTO_END_DECLS

#endif
