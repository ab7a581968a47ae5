/**
 * @file canto/blocking.h
 * @brief Blocking Command (XEP-0191): keep contacts from reaching the account.
 *
 * The server keeps the account's blocklist. A canto_blocking is attached to
 * one canto_client and:
 * - fetches the list (canto_blocking_get()), blocks and unblocks JIDs
 *   (canto_blocking_block(), canto_blocking_unblock(); unblocking nothing
 *   means unblocking everyone);
 * - keeps a copy of the list, replaced by each fetch and changed by every
 *   confirmed block/unblock and by the server's pushes;
 * - accepts pushes (`<iq type='set'><block/>` or `<unblock/>`) only when they
 *   come from the account itself: no `from`, or the account's bare JID. Any
 *   other is not handled (the client answers it with service-unavailable) and
 *   changes nothing. Accepted pushes are answered with an empty result and
 *   reported through the change callback.
 *
 * The server sends pushes only to resources that fetched the list (XEP-0191),
 * so fetch it after each CANTO_CLIENT_CONNECTED if the copy is to stay
 * current; the copy is kept across disconnects but may then be stale.
 * Support is announced by the server ("urn:xmpp:blocking" in its disco
 * features); the client side has no feature to announce.
 *
 * Threads: a canto_blocking is used only from the thread that runs its
 * client's loop; callbacks are called on that thread, from inside the loop's
 * dispatch.
 *
 * Ownership: canto_blocking_new() gives the caller the object, freed with
 * canto_blocking_free() before the client is freed. Strings passed in are
 * copied. Strings returned by canto_blocking_item() are borrowed until the
 * copy next changes. Values handed to callbacks are valid until they return.
 */
#ifndef CANTO_BLOCKING_H
#define CANTO_BLOCKING_H

#include <stddef.h>
#include <canto/export.h>
#include <canto/client.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace of the Blocking Command. */
#define CANTO_NS_BLOCKING "urn:xmpp:blocking"

/** The blocklist of one client. Opaque. */
typedef struct canto_blocking canto_blocking;

/**
 * Receives the answer to a request: RESULT (the copy is already updated),
 * ERROR, TIMEOUT, or CANCELED (disconnect, or the object freed first).
 * May call any function of this object, including canto_blocking_free().
 */
typedef void (*canto_blocking_result_fn)(void *user_data, canto_blocking *blocking,
                                         const canto_iq_response *response);

/**
 * The list changed by a push from the server. @p blocked is 1 for a block,
 * 0 for an unblock; @p jids are the @p n JIDs concerned (normalized,
 * borrowed until return); an unblock with @p n 0 unblocked everyone. May call
 * any function of this object, including canto_blocking_free().
 */
typedef void (*canto_blocking_change_fn)(void *user_data, canto_blocking *blocking, int blocked,
                                         const char *const *jids, size_t n);

/**
 * Attach to @p client and start accepting pushes. The copy starts empty.
 * @param out receives the object; free with canto_blocking_free().
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_blocking_new(canto_client *client, canto_blocking **out);

/**
 * Detach from the client and free. Requests still pending get their callback
 * first, with outcome CANTO_IQ_CANCELED. Must be called before the client is
 * freed. May be called from inside one of its own callbacks. NULL is allowed.
 */
CANTO_EXPORT void canto_blocking_free(canto_blocking *blocking);

/** Set (or clear with NULL) the change callback for pushes. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_blocking_set_change_callback(canto_blocking *blocking,
                                                    canto_blocking_change_fn fn, void *user_data);

/**
 * Fetch the blocklist (`<blocklist/>`); on RESULT the copy is replaced by it
 * (items without a valid `jid` are skipped).
 * @param fn called exactly once if this returns 0 (may be NULL).
 * @return 0, CANTO_EINVAL (NULL @p blocking), CANTO_ENOMEM, and the codes of
 *         canto_client_send_iq() (CANTO_ENOTCONN when not connected).
 */
CANTO_EXPORT int canto_blocking_get(canto_blocking *blocking, canto_blocking_result_fn fn,
                                    void *user_data);

/**
 * Block @p n JIDs (`<block><item jid=.../>...</block>`); on RESULT they are
 * added to the copy.
 * @param jids JIDs (bare, full or domains), normalized before sending.
 * @return 0, CANTO_EINVAL (NULL argument, @p n 0), CANTO_EJID_* (an invalid
 *         JID), CANTO_ENOMEM, and the codes of canto_client_send_iq().
 */
CANTO_EXPORT int canto_blocking_block(canto_blocking *blocking, const char *const *jids, size_t n,
                                      canto_blocking_result_fn fn, void *user_data);

/**
 * Unblock @p n JIDs, or everyone when @p n is 0 (`<unblock/>` without items);
 * on RESULT the copy changes accordingly.
 * @return as canto_blocking_block(), except that @p n 0 is allowed (and
 *         @p jids may then be NULL).
 */
CANTO_EXPORT int canto_blocking_unblock(canto_blocking *blocking, const char *const *jids, size_t n,
                                        canto_blocking_result_fn fn, void *user_data);

/** @return how many JIDs the copy holds; 0 for NULL. */
CANTO_EXPORT size_t canto_blocking_count(const canto_blocking *blocking);

/** @return JID number @p index of the copy (normalized, borrowed), or NULL past the end. */
CANTO_EXPORT const char *canto_blocking_item(const canto_blocking *blocking, size_t index);

/**
 * @return 1 if @p jid (compared after normalization, exactly: blocking a
 *         domain or bare JID is not looked through) is in the copy, else 0.
 */
CANTO_EXPORT int canto_blocking_contains(const canto_blocking *blocking, const char *jid);

CANTO_END_DECLS

#endif
