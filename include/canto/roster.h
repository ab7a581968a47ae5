/**
 * @file canto/roster.h
 * @brief The roster: the account's contact list kept by the server (RFC 6121 §2).
 *
 * A canto_roster is attached to one canto_client and holds an in-memory copy
 * of the roster:
 * - canto_roster_fetch() requests it (a "roster get"), with roster versioning
 *   (RFC 6121 §2.6) when the copy has a version: the server then answers with
 *   an empty result when the copy is current, or with the whole roster, or
 *   with roster pushes for what changed;
 * - roster pushes from the server (RFC 6121 §2.1.6) keep it current. A push is
 *   accepted only without a `from` or with the account's bare JID as `from`;
 *   any other is ignored (the roster does not change) and answered with a
 *   `service-unavailable` error, as for an unknown request. Accepted pushes are
 *   answered with an empty result; a push that does not hold exactly one
 *   valid item is answered with `bad-request` and changes nothing;
 * - canto_roster_set_item() and canto_roster_remove_item() ask the server to
 *   add, update or remove items; the copy changes when the server's push
 *   arrives, not when the request is answered;
 * - canto_roster_export() and canto_roster_import() save the copy, with its
 *   version, to a buffer and restore it (e.g. before connecting), so that the
 *   next fetch can be answered with "nothing changed".
 *
 * The copy is kept when the client disconnects: it is what versioning needs.
 * Nothing is fetched automatically; call canto_roster_fetch() after each
 * CANTO_CLIENT_CONNECTED that starts a new session
 * (canto_client_session_is_new()) if the session wants roster pushes (the
 * server sends pushes only to resources that requested the roster). A session
 * resumed with stream management (XEP-0198) keeps getting them.
 *
 * Roster versioning (RFC 6121 §2.6): when the server announced
 * `<ver xmlns='urn:xmpp:features:rosterver'/>` in its stream features, the
 * fetch carries the copy's version, or an empty `ver` when the copy has none
 * (asking the server to start versioning). To a server that did not announce
 * it, `ver` is never sent, as the RFC requires, and every fetch returns the
 * full roster.
 *
 * Threads: a canto_roster is used only from the thread that runs its client's
 * loop; callbacks are called on that thread, from inside the loop's dispatch.
 *
 * Ownership: canto_roster_new() gives the caller the object, freed with
 * canto_roster_free() before the client is freed. Strings passed in are
 * copied. Items returned by lookups are borrowed: valid until the roster next
 * changes (a push, a fetch result, an import), i.e. do not keep them across
 * loop iterations. Values handed to callbacks are valid until they return.
 */
#ifndef CANTO_ROSTER_H
#define CANTO_ROSTER_H

#include <stddef.h>
#include <canto/export.h>
#include <canto/client.h>
#include <canto/jid.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace of the roster protocol. */
#define CANTO_NS_ROSTER "jabber:iq:roster"

/** A roster and its requests, for one client. Opaque. */
typedef struct canto_roster canto_roster;

/** One roster item. Opaque, borrowed. */
typedef struct canto_roster_item canto_roster_item;

/** The `subscription` attribute of an item (RFC 6121 §2.1.2.5). */
typedef enum canto_roster_subscription {
    CANTO_ROSTER_SUB_NONE = 0, /**< "none": no subscription either way */
    CANTO_ROSTER_SUB_TO,       /**< "to": we receive the contact's presence */
    CANTO_ROSTER_SUB_FROM,     /**< "from": the contact receives ours */
    CANTO_ROSTER_SUB_BOTH,     /**< "both": both ways */
    CANTO_ROSTER_SUB_REMOVE,   /**< "remove": only in pushes, the item was deleted */
} canto_roster_subscription;

/** @return the XML value of @p sub ("none", "to", ...), or NULL if unknown. Thread-safe. */
CANTO_EXPORT const char *canto_roster_subscription_name(canto_roster_subscription sub);

/* ------------------------------------------------------------------------- */
/** @name Life cycle */
/**@{*/

/**
 * Attach a roster to @p client (adds a handler for roster pushes).
 * @param client the client; must outlive the roster.
 * @param out receives the roster, empty and without a version; free with
 *        canto_roster_free().
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_roster_new(canto_client *client, canto_roster **out);

/**
 * Detach from the client and free the roster. Requests still pending get
 * their callback first, with outcome CANTO_IQ_CANCELED; the change callback is
 * not called. Must be called before the client is freed. May be called from
 * inside one of this roster's callbacks (the memory is released when the
 * outermost one returns). NULL is allowed.
 */
CANTO_EXPORT void canto_roster_free(canto_roster *roster);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Requests */
/**@{*/

/**
 * Receives the one answer to a roster request: the server's result or error,
 * a timeout, or CANTO_IQ_CANCELED (disconnect, or the roster freed first).
 * The roster is updated before the callback runs. @p response is valid until
 * return. The callback may call any function of this roster, including
 * canto_roster_free().
 */
typedef void (*canto_roster_result_fn)(void *user_data, canto_roster *roster,
                                       const canto_iq_response *response);

/**
 * Request the roster (a roster get), with the copy's version if the server
 * supports versioning (see above).
 * When the result arrives, the copy is replaced by the roster in it (items
 * that are malformed — no or invalid `jid`, `subscription='remove'`, a JID
 * seen before — are skipped) and the change callback reports each item added,
 * updated or removed; an empty result keeps the copy as it is. The version
 * becomes the result's `ver` (none if absent).
 * @param roster the roster.
 * @param fn called exactly once if this returns 0 (may be NULL: no callback).
 * @param user_data passed to @p fn.
 * @return 0, CANTO_EINVAL (NULL roster), CANTO_ENOMEM, and the codes of
 *         canto_client_send_iq() (CANTO_ENOTCONN when not connected).
 */
CANTO_EXPORT int canto_roster_fetch(canto_roster *roster, canto_roster_result_fn fn,
                                    void *user_data);

/**
 * Add an item or update it (a roster set, RFC 6121 §2.3 and §2.4). The server
 * answers the request and pushes the new item to every interested resource,
 * this one included; the copy changes when that push arrives.
 * @param roster the roster.
 * @param jid the contact (its normalized form is sent).
 * @param name the item's name, or NULL for none; copied.
 * @param groups group names (duplicates are sent once); copied; NULL when
 *        @p n_groups is 0.
 * @param n_groups how many entries @p groups has.
 * @param fn called exactly once if this returns 0 (may be NULL).
 * @param user_data passed to @p fn.
 * @return 0, CANTO_EINVAL (NULL roster or jid, a NULL or empty group name),
 *         CANTO_EJID_* (invalid @p jid), CANTO_EUTF8, CANTO_ENOMEM, and the
 *         codes of canto_client_send_iq().
 */
CANTO_EXPORT int canto_roster_set_item(canto_roster *roster, const char *jid, const char *name,
                                       const char *const *groups, size_t n_groups,
                                       canto_roster_result_fn fn, void *user_data);

/**
 * Remove an item (RFC 6121 §2.5: `subscription='remove'`); the server also
 * cancels the subscriptions both ways. The copy changes when the push arrives.
 * @param roster the roster.
 * @param jid the contact to remove.
 * @param fn called exactly once if this returns 0 (may be NULL).
 * @param user_data passed to @p fn.
 * @return as canto_roster_set_item().
 */
CANTO_EXPORT int canto_roster_remove_item(canto_roster *roster, const char *jid,
                                          canto_roster_result_fn fn, void *user_data);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name The copy */
/**@{*/

/** @return how many items the copy holds; 0 for NULL. */
CANTO_EXPORT size_t canto_roster_count(const canto_roster *roster);

/**
 * Items in byte-wise order of their JIDs.
 * @return the item at @p index (borrowed), or NULL past the end.
 */
CANTO_EXPORT const canto_roster_item *canto_roster_item_at(const canto_roster *roster,
                                                           size_t index);

/**
 * Find an item by JID (compared after normalization).
 * @return the item (borrowed), or NULL if absent or @p jid is invalid.
 */
CANTO_EXPORT const canto_roster_item *canto_roster_find(const canto_roster *roster,
                                                        const char *jid);

/** @return the copy's version (borrowed, valid until it changes), or NULL if it has none. */
CANTO_EXPORT const char *canto_roster_version(const canto_roster *roster);

/** @return the item's JID (borrowed). */
CANTO_EXPORT const canto_jid *canto_roster_item_jid(const canto_roster_item *item);
/** @return the item's name (borrowed), or NULL if it has none. */
CANTO_EXPORT const char *canto_roster_item_name(const canto_roster_item *item);
/** @return the subscription state (an unknown value reads as CANTO_ROSTER_SUB_NONE). */
CANTO_EXPORT canto_roster_subscription
canto_roster_item_subscription(const canto_roster_item *item);
/** @return 1 if the item has `ask='subscribe'` (our request is pending), else 0. */
CANTO_EXPORT int canto_roster_item_ask(const canto_roster_item *item);
/** @return 1 if the item has `approved='true'` (a pre-approval), else 0. */
CANTO_EXPORT int canto_roster_item_approved(const canto_roster_item *item);
/** @return how many groups the item is in. */
CANTO_EXPORT size_t canto_roster_item_group_count(const canto_roster_item *item);
/** @return group @p index in the order received (borrowed), or NULL past the end. */
CANTO_EXPORT const char *canto_roster_item_group(const canto_roster_item *item, size_t index);

/** What happened to an item. */
typedef enum canto_roster_change {
    CANTO_ROSTER_ADDED = 1,   /**< new in the copy */
    CANTO_ROSTER_UPDATED = 2, /**< changed (name, subscription, ask, approved or groups) */
    CANTO_ROSTER_REMOVED = 3, /**< deleted from the copy */
} canto_roster_change;

/**
 * Receives each change of the copy made by a push or a fetch result (not by
 * canto_roster_import()). @p item is the new item, or for
 * CANTO_ROSTER_REMOVED the one removed; @p old is the item before an update,
 * else NULL. Both are borrowed until return. The callback may call any
 * function of this roster, including canto_roster_free().
 */
typedef void (*canto_roster_changed_fn)(void *user_data, canto_roster *roster,
                                        canto_roster_change change, const canto_roster_item *item,
                                        const canto_roster_item *old);

/** Set (or clear with NULL) the change callback. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_roster_set_changed_callback(canto_roster *roster, canto_roster_changed_fn fn,
                                                   void *user_data);

/**
 * Save the copy and its version as XML: a `query` element in the
 * `jabber:iq:roster` namespace with the version in its `ver` attribute and
 * one `item` child per item, exactly as in a roster result (RFC 6121 §2.1),
 * serialized as UTF-8 without an XML declaration.
 * @param roster the roster.
 * @param out receives a NUL-terminated buffer; free it with canto_free().
 * @param len receives its length without the NUL (may be NULL).
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_roster_export(const canto_roster *roster, char **out, size_t *len);

/**
 * Replace the copy and its version with what canto_roster_export() produced
 * (or any `<query xmlns='jabber:iq:roster'/>` holding items). Malformed items
 * are skipped as in a fetch result. The change callback is not called.
 * Intended for before connecting; if a fetch is pending, its result replaces
 * the imported copy.
 * @param roster the roster.
 * @param data the saved XML.
 * @param len bytes of @p data, or (size_t)-1 if it is NUL-terminated.
 * @return 0, CANTO_EINVAL (NULL, or not a roster query), the codes of
 *         canto_stanza_parse() (CANTO_EXML, ...), CANTO_ENOMEM. On error the
 *         copy is unchanged.
 */
CANTO_EXPORT int canto_roster_import(canto_roster *roster, const char *data, size_t len);

/**
 * Empty the copy and forget its version (no callback), e.g. when the account
 * changes. @return 0, CANTO_EINVAL.
 */
CANTO_EXPORT int canto_roster_clear(canto_roster *roster);

/**@}*/

CANTO_END_DECLS

#endif
