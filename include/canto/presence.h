/**
 * @file canto/presence.h
 * @brief Presence and presence subscriptions (RFC 6121 §3 and §4).
 *
 * A canto_presence is attached to one canto_client. It
 * - sends the account's availability (broadcast presence with show, status,
 *   priority and extra payload), unavailable presence and directed presence;
 * - remembers the last availability set and sends it again each time a new
 *   session starts (CANTO_CLIENT_CONNECTED with canto_client_session_is_new()),
 *   so the application sets it once;
 * - sends subscription requests, approvals (also pre-approvals), denials,
 *   cancellations and unsubscriptions;
 * - tracks every available resource of every contact from incoming presence
 *   (including the account's own other resources), with the last presence
 *   stanza of each resource kept for payload access (entity capabilities...);
 * - reports changes and incoming subscription stanzas through callbacks.
 *
 * Everything learned about contacts is forgotten when the client reaches
 * CANTO_CLIENT_DISCONNECTED and will not reconnect by itself
 * (canto_disconnect_info::will_reconnect 0), when a connection starts a new
 * session (canto_client_session_is_new()), and when the application sends
 * unavailable broadcast presence (the server stops sending presence then); the
 * change callback hears of each resource that is dropped. While the client
 * waits to reconnect, the last known presence is kept: a session resumed with
 * stream management (XEP-0198) simply continues, and the server delivers what
 * it held back.
 *
 * The plugin's presence handler does not consume stanzas: handlers with a
 * lower priority (and other plugins) still see every presence. A plugin that
 * does not want some presences tracked (a MUC room's occupants, say) consumes
 * them in a handler with a priority above 0.
 *
 * Incoming presence is ignored when it has no `from`, a `from` that is not a
 * valid JID, or a `type` that RFC 6121 does not define; "probe" is ignored too
 * (the server answers probes).
 *
 * Threads: a canto_presence is used only from the thread that runs its
 * client's loop; callbacks are called on that thread from inside the loop's
 * dispatch.
 *
 * Ownership: canto_presence_new() gives the caller the object, freed with
 * canto_presence_free() before the client is freed. Strings and stanzas passed
 * in are copied. Contacts and resources returned by the lookup functions are
 * borrowed: they stay valid until the tracked state next changes, i.e. until
 * control returns to the loop or canto_presence_set_unavailable() or
 * canto_presence_free() is called (do not keep them across loop iterations;
 * canto_stanza_ref() the stanza of a resource to keep it). Values passed to
 * callbacks are valid until the callback returns.
 */
#ifndef CANTO_PRESENCE_H
#define CANTO_PRESENCE_H

#include <stddef.h>
#include <canto/export.h>
#include <canto/client.h>
#include <canto/jid.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Presence tracking and sending for one client. Opaque. */
typedef struct canto_presence canto_presence;

/** One contact (a bare JID) with its available resources. Opaque, borrowed. */
typedef struct canto_presence_contact canto_presence_contact;

/** One available resource of a contact. Opaque, borrowed. */
typedef struct canto_presence_resource canto_presence_resource;

/** The `<show/>` of available presence (RFC 6121 §4.7.2.1). */
typedef enum canto_presence_show {
    CANTO_PRESENCE_SHOW_NONE = 0, /**< No `<show/>`: simply available. */
    CANTO_PRESENCE_SHOW_CHAT,     /**< "chat": free to chat. */
    CANTO_PRESENCE_SHOW_AWAY,     /**< "away": away for a short while. */
    CANTO_PRESENCE_SHOW_XA,       /**< "xa": away for a long while. */
    CANTO_PRESENCE_SHOW_DND,      /**< "dnd": do not disturb. */
} canto_presence_show;

/**
 * @return the XML value of @p show ("chat", "away", "xa", "dnd"), or NULL for
 *         CANTO_PRESENCE_SHOW_NONE and unknown values. Thread-safe.
 */
CANTO_EXPORT const char *canto_presence_show_name(canto_presence_show show);

/**
 * Availability to send: what goes into a presence stanza without a type.
 * Initialize with CANTO_PRESENCE_AVAILABILITY_INIT.
 */
typedef struct canto_presence_availability {
    unsigned version;         /**< CANTO_PRESENCE_AVAILABILITY_VERSION */
    canto_presence_show show; /**< the `<show/>`, or CANTO_PRESENCE_SHOW_NONE */
    const char *status;       /**< text of a `<status/>`, or NULL for none; copied */
    int priority;             /**< -128..127; 0 is sent as no `<priority/>` */
    /** Extra child elements (e.g. a vCard photo hash), each copied into the
     *  stanza after show, status and priority. May be NULL when n_payload is 0. */
    const canto_stanza *const *payload;
    size_t n_payload; /**< number of elements in @ref payload */
} canto_presence_availability;

/** Version of canto_presence_availability understood by this header. */
#define CANTO_PRESENCE_AVAILABILITY_VERSION 1u
/** Initializer for canto_presence_availability: plain "available". */
#define CANTO_PRESENCE_AVAILABILITY_INIT                                                           \
    {                                                                                              \
        CANTO_PRESENCE_AVAILABILITY_VERSION, CANTO_PRESENCE_SHOW_NONE, NULL, 0, NULL, 0            \
    }

/* ------------------------------------------------------------------------- */
/** @name Life cycle */
/**@{*/

/**
 * Attach presence handling to @p client (adds a presence handler at priority
 * 0 and a state listener).
 * @param client the client; must outlive the object.
 * @param out receives the object; free with canto_presence_free().
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_presence_new(canto_client *client, canto_presence **out);

/**
 * Detach from the client and free everything, without calling any callback.
 * Must be called before the client is freed. May be called from inside one
 * of this object's callbacks (the memory is released when it returns).
 * NULL is allowed.
 */
CANTO_EXPORT void canto_presence_free(canto_presence *presence);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Sending presence */
/**@{*/

/**
 * Set the account's availability: broadcast it now if the client is
 * connected, and again at the start of every later new session until
 * canto_presence_set_unavailable() is called. Setting it while disconnected
 * is allowed: it is then sent as initial presence once connected (after the
 * state callback has run, so a roster request made there goes first, as
 * RFC 6121 §2.2 recommends), or, if the session is resumed (XEP-0198), as the
 * update the server missed. A session resumed without changes gets nothing:
 * the server still has the presence.
 * @param presence the object.
 * @param availability copied; see canto_presence_availability.
 * @return 0 (also when not connected: sent later), CANTO_EINVAL (NULL, bad
 *         version, priority out of range, unknown show, a payload entry that
 *         is NULL or not an element), CANTO_EUTF8, and the codes of
 *         canto_client_send() other than CANTO_ENOTCONN. On error, the
 *         availability remembered before is kept.
 */
CANTO_EXPORT int canto_presence_set_available(canto_presence *presence,
                                              const canto_presence_availability *availability);

/**
 * Broadcast unavailable presence (if connected) and forget the availability
 * set before, so that later sessions start without presence. Everything
 * tracked about contacts is dropped (the change callback hears of it).
 * While the client waits to resume a session, the unavailable presence is
 * sent on resumption.
 * @param presence the object.
 * @param status text of a `<status/>`, or NULL; copied.
 * @return 0 (also when not connected: nothing is sent now), CANTO_EINVAL,
 *         CANTO_EUTF8, and the codes of canto_client_send().
 */
CANTO_EXPORT int canto_presence_set_unavailable(canto_presence *presence, const char *status);

/**
 * @return 1 if an availability is remembered for broadcast (set and not
 *         withdrawn since), else 0 (also for NULL).
 */
CANTO_EXPORT int canto_presence_is_available(const canto_presence *presence);

/**
 * Send directed presence to @p to (RFC 6121 §4.6): available with
 * @p availability, or unavailable when @p availability is NULL. Directed
 * presence is not remembered or re-sent.
 * @param presence the object.
 * @param to a bare or full JID.
 * @param availability what to send (copied), or NULL for unavailable.
 * @return 0, CANTO_EINVAL (NULL presence or to, bad version, priority out of
 *         range, bad payload), CANTO_EJID_LOCAL / CANTO_EJID_DOMAIN /
 *         CANTO_EJID_RESOURCE (invalid @p to), CANTO_EUTF8, and the codes of
 *         canto_client_send() (CANTO_ENOTCONN when not connected).
 */
CANTO_EXPORT int canto_presence_send_directed(canto_presence *presence, const char *to,
                                              const canto_presence_availability *availability);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Subscriptions (RFC 6121 §3) */
/**@{*/

/** Kinds of subscription stanza. */
typedef enum canto_presence_subscription {
    CANTO_PRESENCE_SUBSCRIBE = 1,    /**< "subscribe": a request for the presence of the receiver */
    CANTO_PRESENCE_SUBSCRIBED = 2,   /**< "subscribed": a request was approved (or pre-approved) */
    CANTO_PRESENCE_UNSUBSCRIBE = 3,  /**< "unsubscribe": the sender ends its subscription */
    CANTO_PRESENCE_UNSUBSCRIBED = 4, /**< "unsubscribed": denied, or a subscription cancelled */
} canto_presence_subscription;

/**
 * Send a subscription stanza of @p kind to the bare JID of @p jid (the
 * resource, if any, is dropped, as RFC 6121 §3 requires).
 *
 * - CANTO_PRESENCE_SUBSCRIBE: ask for @p jid's presence; @p status may carry a
 *   short message to show to the contact.
 * - CANTO_PRESENCE_SUBSCRIBED: approve a request from @p jid. Sent before any
 *   request, it is a pre-approval (RFC 6121 §3.4), which only a server that
 *   advertised `<sub xmlns='urn:xmpp:features:pre-approval'/>` honours; this
 *   call does not check (use canto_presence_preapprove() for that).
 * - CANTO_PRESENCE_UNSUBSCRIBED: deny a request, or cancel a subscription
 *   @p jid has to our presence (or a pre-approval).
 * - CANTO_PRESENCE_UNSUBSCRIBE: stop receiving @p jid's presence.
 *
 * @param presence the object.
 * @param kind which stanza.
 * @param jid the contact; only its bare JID is used.
 * @param status text of a `<status/>`, or NULL (only sent for SUBSCRIBE).
 * @return 0, CANTO_EINVAL (NULL, unknown kind), CANTO_EJID_* (invalid @p jid),
 *         CANTO_EUTF8, and the codes of canto_client_send() (CANTO_ENOTCONN
 *         when not connected).
 */
CANTO_EXPORT int canto_presence_send_subscription(canto_presence *presence,
                                                  canto_presence_subscription kind, const char *jid,
                                                  const char *status);

/** Shorthand for canto_presence_send_subscription() with CANTO_PRESENCE_SUBSCRIBE. */
CANTO_EXPORT int canto_presence_subscribe(canto_presence *presence, const char *jid,
                                          const char *status);
/** Shorthand for CANTO_PRESENCE_SUBSCRIBED: approve (or pre-approve) @p jid. */
CANTO_EXPORT int canto_presence_approve(canto_presence *presence, const char *jid);
/**
 * Pre-approve a subscription request from @p jid before it is made (RFC 6121
 * §3.4): sends "subscribed" like canto_presence_approve(), but only if the
 * server announced `<sub xmlns='urn:xmpp:features:pre-approval'/>` in its
 * stream features, as the RFC requires of clients.
 * @return as canto_presence_send_subscription(), and CANTO_EUNSUPPORTED when
 *         the server did not announce pre-approvals (nothing is sent).
 */
CANTO_EXPORT int canto_presence_preapprove(canto_presence *presence, const char *jid);
/** Shorthand for CANTO_PRESENCE_UNSUBSCRIBED: deny @p jid's request or cancel its subscription. */
CANTO_EXPORT int canto_presence_deny(canto_presence *presence, const char *jid);
/** Shorthand for CANTO_PRESENCE_UNSUBSCRIBE: stop receiving @p jid's presence. */
CANTO_EXPORT int canto_presence_unsubscribe(canto_presence *presence, const char *jid);

/**
 * Receives subscription stanzas: requests to approve or deny (SUBSCRIBE) and
 * news about the account's own requests and subscriptions (the others).
 * Answer a request with canto_presence_approve() or canto_presence_deny(),
 * now or later (the server keeps unanswered requests and delivers them again
 * at the next login).
 * @param user_data as given to canto_presence_set_subscription_callback().
 * @param presence the object.
 * @param kind which subscription stanza arrived.
 * @param from the sender's bare JID (any resource removed); borrowed.
 * @param status the request's `<status/>` text, or NULL; borrowed.
 * @param stanza the presence stanza; borrowed, valid until return.
 * The callback may call any function of this object, including
 * canto_presence_free().
 */
typedef void (*canto_presence_subscription_fn)(void *user_data, canto_presence *presence,
                                               canto_presence_subscription kind,
                                               const canto_jid *from, const char *status,
                                               const canto_stanza *stanza);

/** Set (or clear with NULL) the subscription callback. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_presence_set_subscription_callback(canto_presence *presence,
                                                          canto_presence_subscription_fn fn,
                                                          void *user_data);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Tracked presence */
/**@{*/

/** @return how many contacts have an available resource or an error; 0 for NULL. */
CANTO_EXPORT size_t canto_presence_contact_count(const canto_presence *presence);

/**
 * Contacts in byte-wise order of their bare JIDs.
 * @return the contact at @p index (borrowed, see the ownership notes), or NULL
 *         past the end.
 */
CANTO_EXPORT const canto_presence_contact *canto_presence_contact_at(const canto_presence *presence,
                                                                     size_t index);

/**
 * Find a contact by JID (its resource, if any, is ignored).
 * @return the contact (borrowed), or NULL if nothing is tracked for it or
 *         @p jid is not a valid JID.
 */
CANTO_EXPORT const canto_presence_contact *canto_presence_find(const canto_presence *presence,
                                                               const char *jid);

/** @return the contact's bare JID (borrowed); NULL for NULL. */
CANTO_EXPORT const canto_jid *canto_presence_contact_jid(const canto_presence_contact *contact);

/** @return how many available resources the contact has; 0 for NULL. */
CANTO_EXPORT size_t canto_presence_contact_resource_count(const canto_presence_contact *contact);

/**
 * Resources of a contact in byte-wise order of their full JIDs (a presence
 * from the bare JID counts as a resource without a name).
 * @return the resource at @p index (borrowed), or NULL past the end.
 */
CANTO_EXPORT const canto_presence_resource *
canto_presence_contact_resource_at(const canto_presence_contact *contact, size_t index);

/**
 * The resource with the highest priority; among equal priorities the most
 * available show (chat, none, away, xa, dnd), then the most recent presence.
 * Resources with a negative priority are included (a message client may prefer
 * to skip them, RFC 6121 §4.7.2.3).
 * @return the resource (borrowed), or NULL if the contact has none.
 */
CANTO_EXPORT const canto_presence_resource *
canto_presence_contact_best(const canto_presence_contact *contact);

/**
 * The last error presence received from the contact (RFC 6120 §8.3), kept until
 * it next sends available presence (or until the disconnect). A contact with an
 * error and no resources still counts as tracked.
 * @return the stanza (borrowed; read it with canto_stanza_get_error()), or NULL.
 */
CANTO_EXPORT const canto_stanza *
canto_presence_contact_error(const canto_presence_contact *contact);

/** @return the resource's full JID (bare for presence from a bare JID); borrowed. */
CANTO_EXPORT const canto_jid *canto_presence_resource_jid(const canto_presence_resource *resource);
/** @return the resource's `<show/>`; CANTO_PRESENCE_SHOW_NONE also for unknown values. */
CANTO_EXPORT canto_presence_show
canto_presence_resource_show(const canto_presence_resource *resource);
/** @return its `<status/>` text (borrowed), or NULL. */
CANTO_EXPORT const char *canto_presence_resource_status(const canto_presence_resource *resource);
/** @return its priority (-128..127; 0 when absent or not a number in range). */
CANTO_EXPORT int canto_presence_resource_priority(const canto_presence_resource *resource);
/**
 * The last available presence stanza received from the resource, for access to
 * its payload (`<c/>` of entity capabilities, ...).
 * @return borrowed; canto_stanza_ref() it to keep it beyond the resource.
 */
CANTO_EXPORT const canto_stanza *
canto_presence_resource_stanza(const canto_presence_resource *resource);

/**
 * What a change callback receives. All pointers are borrowed and valid until
 * the callback returns.
 */
typedef struct canto_presence_change {
    unsigned version;                         /**< CANTO_PRESENCE_CHANGE_VERSION */
    const canto_jid *jid;                     /**< full JID (bare for a bare sender) */
    const canto_presence_resource *old_state; /**< before: NULL if it was unavailable */
    const canto_presence_resource *new_state; /**< after: NULL if now unavailable */
    const canto_stanza *stanza;               /**< the cause; NULL when state is cleared */
    int error;                                /**< 1 for an error presence */
} canto_presence_change;

/** Version of canto_presence_change filled in by this library. */
#define CANTO_PRESENCE_CHANGE_VERSION 1u

/**
 * Receives every change of tracked presence: a resource that became available,
 * changed, or went away (unavailable presence, an error presence, or state
 * cleared by a disconnect or by our own unavailable presence).
 *
 * An error presence marks the contact (canto_presence_contact_error()) and
 * drops the resource it came from, or every resource of the contact when it
 * came from the bare JID; each dropped resource is reported with
 * @p change->error set to 1. If nothing was dropped, one change is still
 * reported, with old_state and new_state NULL and error 1.
 *
 * The callback may call any function of this object, including
 * canto_presence_free().
 */
typedef void (*canto_presence_changed_fn)(void *user_data, canto_presence *presence,
                                          const canto_presence_change *change);

/** Set (or clear with NULL) the change callback. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_presence_set_changed_callback(canto_presence *presence,
                                                     canto_presence_changed_fn fn, void *user_data);

/**@}*/

CANTO_END_DECLS

#endif
