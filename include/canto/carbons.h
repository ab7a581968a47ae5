/**
 * @file canto/carbons.h
 * @brief Message Carbons (XEP-0280): see the messages of the account's other clients.
 *
 * With carbons enabled, the server copies to this client the chat messages
 * the account's other resources send and receive, wrapped as
 * `<message from=OWN-BARE-JID><sent|received xmlns='urn:xmpp:carbons:2'>
 * <forwarded xmlns='urn:xmpp:forward:0'><message>...</message></forwarded>
 * </sent|received></message>`.
 *
 * A canto_carbons is attached to one canto_client. It announces
 * "urn:xmpp:carbons:2" with canto_client_add_feature() (withdrawn by
 * canto_carbons_free()) and:
 * - enables or disables carbons with an iq to the account's server
 *   (canto_carbons_enable(), canto_carbons_disable()). Once enabled it
 *   enables them again after each reconnect (every CANTO_CLIENT_CONNECTED
 *   until canto_carbons_disable()), since the server forgets with the session;
 * - unwraps carbon copies and hands the inner message to a callback with its
 *   direction, consuming the wrapper (later handlers do not see it). A wrapper
 *   is trusted ONLY when its `from` is the account's own bare JID (XEP-0280,
 *   security considerations: anybody can send a message that looks like a
 *   carbon; believing it would let them put words in the user's mouth).
 *   Wrappers from anyone else are dropped: consumed, not reported.
 *
 * Threads: a canto_carbons is used only from the thread that runs its
 * client's loop; callbacks are called on that thread, from inside the loop's
 * dispatch. canto_carbons_unwrap() and canto_carbons_mark_private() touch
 * only their arguments.
 *
 * Ownership: canto_carbons_new() gives the caller the object, freed with
 * canto_carbons_free() before the client is freed. Values handed to callbacks
 * are valid until they return (canto_stanza_ref() keeps a stanza).
 */
#ifndef CANTO_CARBONS_H
#define CANTO_CARBONS_H

#include <stdint.h>
#include <canto/export.h>
#include <canto/client.h>
#include <canto/jid.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace (and disco feature) of Message Carbons. */
#define CANTO_NS_CARBONS "urn:xmpp:carbons:2"
/** Namespace of Stanza Forwarding (XEP-0297), which carbons wrap copies in. */
#define CANTO_NS_FORWARD "urn:xmpp:forward:0"

/** Which way a copied message went. */
typedef enum canto_carbons_direction {
    CANTO_CARBONS_RECEIVED = 1, /**< another resource of the account received it */
    CANTO_CARBONS_SENT = 2,     /**< another resource of the account sent it */
} canto_carbons_direction;

/**
 * Check and unwrap a carbon copy.
 * @param account the account's JID (bare or full; only the bare part is used).
 * @param message the message as received.
 * @param direction receives the direction (may be NULL).
 * @param inner receives the copied message, borrowed from @p message (may be NULL).
 * @return 0 (a trustworthy carbon); CANTO_ENOTFOUND (not a carbon: no
 *         `<sent/>` or `<received/>` child in urn:xmpp:carbons:2);
 *         CANTO_EPROTO (a wrapper whose `from` is not exactly the account's
 *         bare JID, or that lacks `<forwarded><message/></forwarded>`: to be
 *         ignored); CANTO_EINVAL (NULL @p account or @p message).
 */
CANTO_EXPORT int canto_carbons_unwrap(const canto_jid *account, const canto_stanza *message,
                                      canto_carbons_direction *direction, canto_stanza **inner);

/**
 * Ask the server not to copy this outgoing message to other resources
 * (XEP-0280: `<private xmlns='urn:xmpp:carbons:2'/>`, plus the XEP-0334
 * hint `<no-copy xmlns='urn:xmpp:hints'/>`).
 * @return 0, CANTO_EINVAL (not a message), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_carbons_mark_private(canto_stanza *message);

/** Carbons for one client. Opaque. */
typedef struct canto_carbons canto_carbons;

/**
 * A trustworthy carbon copy arrived. @p inner is the copied message (its
 * `from` and `to` tell who talked to whom), @p outer the wrapper; both
 * borrowed until return. The callback may call any function of this object,
 * including canto_carbons_free().
 */
typedef void (*canto_carbons_fn)(void *user_data, canto_carbons *carbons,
                                 canto_carbons_direction direction, canto_stanza *inner,
                                 canto_stanza *outer);

/**
 * Receives the server's answer to canto_carbons_enable() or
 * canto_carbons_disable(): RESULT, ERROR, TIMEOUT, or CANCELED (disconnect,
 * or the object freed first). May call any function of this object,
 * including canto_carbons_free().
 */
typedef void (*canto_carbons_result_fn)(void *user_data, canto_carbons *carbons,
                                        const canto_iq_response *response);

/**
 * Attach to @p client: announce the feature and unwrap copies.
 * @param out receives the object; free with canto_carbons_free().
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_carbons_new(canto_client *client, canto_carbons **out);

/**
 * Detach from the client and free. Requests still pending get their callback
 * first, with outcome CANTO_IQ_CANCELED. Must be called before the client is
 * freed. May be called from inside one of its own callbacks. NULL is allowed.
 */
CANTO_EXPORT void canto_carbons_free(canto_carbons *carbons);

/** Set (or clear with NULL) the callback for copies. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_carbons_set_callback(canto_carbons *carbons, canto_carbons_fn fn,
                                            void *user_data);

/**
 * Enable carbons (`<iq type='set'><enable xmlns='urn:xmpp:carbons:2'/></iq>`
 * to the account's server), and again after every reconnect until
 * canto_carbons_disable(). Re-enabling after a reconnect reports nothing;
 * check canto_carbons_enabled().
 * @param fn receives the answer (may be NULL).
 * @return 0, CANTO_EINVAL (NULL @p carbons), CANTO_ENOMEM, and the codes of
 *         canto_client_send_iq() (CANTO_ENOTCONN: not connected; carbons are
 *         then enabled at the next CANTO_CLIENT_CONNECTED).
 */
CANTO_EXPORT int canto_carbons_enable(canto_carbons *carbons, canto_carbons_result_fn fn,
                                      void *user_data);

/**
 * Disable carbons (`<disable/>`) and stop re-enabling them.
 * @param fn receives the answer (may be NULL).
 * @return as canto_carbons_enable() (when not connected nothing is sent, and
 *         the server has forgotten them anyway).
 */
CANTO_EXPORT int canto_carbons_disable(canto_carbons *carbons, canto_carbons_result_fn fn,
                                       void *user_data);

/**
 * @return 1 if the server confirmed that carbons are enabled for the current
 *         session, 0 otherwise (also before the answer, after a disable and
 *         after a disconnect until they are enabled again).
 */
CANTO_EXPORT int canto_carbons_enabled(const canto_carbons *carbons);

CANTO_END_DECLS

#endif
