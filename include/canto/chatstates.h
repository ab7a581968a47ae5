/**
 * @file canto/chatstates.h
 * @brief Chat State Notifications (XEP-0085): typing indicators and friends.
 *
 * A canto_chatstates is attached to one canto_client, announces
 * "http://jabber.org/protocol/chatstates" with canto_client_add_feature()
 * (withdrawn by canto_chatstates_free()) and reports the chat state carried by
 * incoming messages (not by errors) through a callback. States are sent either
 * on their own (canto_chatstates_send(): a message with only the state) or
 * attached to a message the application sends anyway
 * (canto_chatstate_set(): XEP-0085 says a message with a body should
 * carry `<active/>`).
 *
 * XEP-0085's business rules: send notifications only to a contact that showed support
 * (it sent a chat state, or announces the feature), and stop after the
 * contact answered a message without any; that bookkeeping stays with the
 * application, which sees both directions.
 *
 * Threads: a canto_chatstates is used only from the thread that runs its
 * client's loop; callbacks are called on that thread, from inside the loop's
 * dispatch. canto_chatstate_get(), canto_chatstate_set() and
 * canto_chatstate_name() touch only their arguments.
 *
 * Ownership: canto_chatstates_new() gives the caller the object, freed with
 * canto_chatstates_free() before the client is freed. Values handed to
 * callbacks are valid until they return.
 */
#ifndef CANTO_CHATSTATES_H
#define CANTO_CHATSTATES_H

#include <canto/export.h>
#include <canto/client.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace (and disco feature) of Chat State Notifications. */
#define CANTO_NS_CHATSTATES "http://jabber.org/protocol/chatstates"

/** The five chat states (XEP-0085). */
typedef enum canto_chatstate {
    CANTO_CHATSTATE_NONE = 0,  /**< No chat state element. */
    CANTO_CHATSTATE_ACTIVE,    /**< Paying attention to the chat. */
    CANTO_CHATSTATE_COMPOSING, /**< Typing a message. */
    CANTO_CHATSTATE_PAUSED,    /**< Was typing, stopped for a moment. */
    CANTO_CHATSTATE_INACTIVE,  /**< Not paying attention for a while. */
    CANTO_CHATSTATE_GONE,      /**< Has closed the chat. */
} canto_chatstate;

/** @return the element name of @p state ("composing", ...), or NULL for NONE and unknown values. */
CANTO_EXPORT const char *canto_chatstate_name(canto_chatstate state);

/**
 * The chat state carried by @p message: its first child element in the chat
 * states namespace (NONE if it has none or one with an unknown name).
 * Messages of type "error" carry none.
 */
CANTO_EXPORT canto_chatstate canto_chatstate_get(const canto_stanza *message);

/**
 * Put @p state on an outgoing @p message, replacing any chat state element it
 * has; CANTO_CHATSTATE_NONE only removes.
 * @return 0, CANTO_EINVAL (not a message, unknown state), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_chatstate_set(canto_stanza *message, canto_chatstate state);

/** Chat states for one client. Opaque. */
typedef struct canto_chatstates canto_chatstates;

/**
 * A chat state arrived from @p from in @p message (type "chat" normally,
 * "groupchat" from a room). Both are borrowed until return. The callback may
 * call any function of this object, including canto_chatstates_free().
 */
typedef void (*canto_chatstates_fn)(void *user_data, canto_chatstates *cs, const char *from,
                                    canto_chatstate state, canto_stanza *message);

/**
 * Attach to @p client: announce the feature and watch incoming messages.
 * The stanzas themselves are passed on to the other handlers.
 * @param out receives the object; free with canto_chatstates_free().
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_chatstates_new(canto_client *client, canto_chatstates **out);

/**
 * Detach from the client and free. Must be called before the client is freed.
 * May be called from inside the callback. NULL is allowed.
 */
CANTO_EXPORT void canto_chatstates_free(canto_chatstates *cs);

/** Set (or clear with NULL) the callback. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_chatstates_set_callback(canto_chatstates *cs, canto_chatstates_fn fn,
                                               void *user_data);

/**
 * Send a standalone notification: `<message to=TO type=TYPE><STATE
 * xmlns='http://jabber.org/protocol/chatstates'/></message>`.
 * @param to the contact (a full JID once the conversation is bound to one) or room.
 * @param type "chat", or "groupchat" for a room; NULL: "chat".
 * @return 0, CANTO_EINVAL (NULL argument, state NONE or unknown, a type other
 *         than those two), CANTO_ENOMEM, and the codes of canto_client_send().
 */
CANTO_EXPORT int canto_chatstates_send(canto_chatstates *cs, const char *to, const char *type,
                                       canto_chatstate state);

CANTO_END_DECLS

#endif
