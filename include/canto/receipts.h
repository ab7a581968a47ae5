/**
 * @file canto/receipts.h
 * @brief Message Delivery Receipts (XEP-0184): ask for receipts, send them, hear them.
 *
 * A canto_receipts is attached to one canto_client and announces
 * "urn:xmpp:receipts" with canto_client_add_feature() (withdrawn by
 * canto_receipts_free()). It:
 * - answers incoming messages that carry `<request xmlns='urn:xmpp:receipts'/>`
 *   with `<message to=SENDER><received xmlns='urn:xmpp:receipts' id=ID/></message>`
 *   (see canto_receipts_make_receipt() for which messages qualify: never
 *   errors, never groupchat, never without an id). The application can turn
 *   this off (canto_receipts_set_auto_answer());
 * - reports receipts that arrive (`<received id=.../>`) through a callback;
 * - optionally adds `<request/>` to outgoing messages
 *   (canto_receipts_set_auto_request()): XEP-0184 lets a sender ask
 *   without knowing whether the recipient supports receipts (the request is
 *   then simply never answered), so whether to ask is the application's
 *   choice; canto_receipts_add_request() asks for one message.
 *
 * Receipts refer to the `id` attribute of the message: give every message you
 * want a receipt for an id of your own (messages without one get no request).
 *
 * Threads: a canto_receipts is used only from the thread that runs its
 * client's loop; callbacks are called on that thread, from inside the loop's
 * dispatch. The stanza helpers touch only their arguments.
 *
 * Ownership: canto_receipts_new() gives the caller the object, freed with
 * canto_receipts_free() before the client is freed. Values handed to
 * callbacks are valid until they return.
 */
#ifndef CANTO_RECEIPTS_H
#define CANTO_RECEIPTS_H

#include <canto/export.h>
#include <canto/client.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace (and disco feature) of Message Delivery Receipts. */
#define CANTO_NS_RECEIPTS "urn:xmpp:receipts"

/** Receipts for one client. Opaque. */
typedef struct canto_receipts canto_receipts;

/**
 * A receipt arrived: @p from says it received the message whose id was
 * @p id. @p message is the whole stanza. All are borrowed until return. The
 * callback may call any function of this object, including canto_receipts_free().
 */
typedef void (*canto_receipts_fn)(void *user_data, canto_receipts *receipts, const char *from,
                                  const char *id, canto_stanza *message);

/**
 * Attach to @p client: answer receipt requests, report receipts, announce the
 * feature. Automatic requests are off; automatic answers are on.
 * @param out receives the object; free with canto_receipts_free().
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_receipts_new(canto_client *client, canto_receipts **out);

/**
 * Detach from the client and free. Must be called before the client is freed.
 * May be called from inside the receipt callback. NULL is allowed.
 */
CANTO_EXPORT void canto_receipts_free(canto_receipts *receipts);

/** Set (or clear with NULL) the callback for arriving receipts. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_receipts_set_callback(canto_receipts *receipts, canto_receipts_fn fn,
                                             void *user_data);

/**
 * 1: add `<request/>` to every outgoing message that has an `id` and a
 * `<body/>` and is not of type "groupchat" or "error" and holds no receipt
 * or request already (XEP-0184 advises against requests in groupchat).
 * 0 (default): only messages the application marked themselves.
 * @return 0, CANTO_EINVAL.
 */
CANTO_EXPORT int canto_receipts_set_auto_request(canto_receipts *receipts, int on);

/**
 * 1 (default): answer receipt requests automatically. 0: don't (e.g. the
 * user turned receipts off); requests are then ignored.
 * @return 0, CANTO_EINVAL.
 */
CANTO_EXPORT int canto_receipts_set_auto_answer(canto_receipts *receipts, int on);

/**
 * Decides whether a receipt request is answered: return nonzero to answer.
 * @p message (borrowed until return) is a request that qualifies otherwise.
 * Must not free @p receipts.
 */
typedef int (*canto_receipts_allow_fn)(void *user_data, canto_receipts *receipts,
                                       const canto_stanza *message);

/**
 * Set (or clear with NULL: answer every qualifying request, the default) a
 * filter for automatic answers. XEP-0184's security considerations: a receipt tells the sender that
 * the user is online, so receipts should go only to senders allowed to see
 * the user's presence; the filter is where the application (or its roster)
 * says who that is.
 * @return 0, CANTO_EINVAL.
 */
CANTO_EXPORT int canto_receipts_set_answer_filter(canto_receipts *receipts,
                                                  canto_receipts_allow_fn fn, void *user_data);

/**
 * Add `<request xmlns='urn:xmpp:receipts'/>` to an outgoing message
 * (nothing if it has one already).
 * @return 0, CANTO_EINVAL (NULL, not a message, no `id` attribute, type
 *         "error", or a message that is itself a receipt), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_receipts_add_request(canto_stanza *message);

/**
 * Build the receipt for an incoming @p message: `<message to=FROM
 * [type='chat']><received xmlns='urn:xmpp:receipts' id=ID/></message>`
 * (type "chat" is kept so that the receipt stays in the chat, e.g. for
 * carbons; other types give none), with a fresh id of its own.
 * @param out receives the receipt (caller frees with canto_stanza_free()).
 * @return 0; CANTO_ENOTFOUND (no receipt request, or no `id` to refer to);
 *         CANTO_EINVAL (NULL argument; not a message; no `from`; type "error"
 *         — errors are never answered; type "groupchat" — XEP-0184: a
 *         room would send every occupant's receipt to everyone; or the
 *         message is itself a receipt); CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_receipts_make_receipt(const canto_stanza *message, canto_stanza **out);

/**
 * Read a receipt: the `id` of `<received xmlns='urn:xmpp:receipts'/>` in
 * @p message.
 * @param id receives it (borrowed from @p message).
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_ENOTFOUND (no receipt, or
 *         one without an id, or a message of type "error").
 */
CANTO_EXPORT int canto_receipts_get_received(const canto_stanza *message, const char **id);

CANTO_END_DECLS

#endif
