/**
 * @file canto/pubsub.h
 * @brief Publish-subscribe (XEP-0060) and the Personal Eventing Protocol (XEP-0163).
 *
 * A canto_pubsub is attached to one canto_client and:
 * - discovers the nodes of a service (disco#items, optionally under a node)
 *   and the items of a node;
 * - creates, configures (through the node's configuration form), deletes and
 *   purges nodes (owner use cases, namespace CANTO_NS_PUBSUB_OWNER);
 * - publishes items (with an optional publish-options form), retracts them and
 *   retrieves them (all, some by id, or the latest N);
 * - subscribes, unsubscribes, lists subscriptions, reads and submits
 *   subscription options;
 * - dispatches event notifications (messages with an `event` child in
 *   CANTO_NS_PUBSUB_EVENT) to
 *   callbacks registered per service and node: new items with their payload,
 *   retractions, purges, deletions and configuration changes.
 *
 * Trust: a watch made with canto_pubsub_watch() accepts an event only when its
 * `from` is exactly the service JID given (after normalization). A watch made
 * with canto_pubsub_watch_pep() accepts events only from a bare account JID
 * (`local@domain`, no resource): the contact's server stamps PEP events with the
 * contact's bare JID, so a contact's client (which has a full JID) or a
 * component cannot fake them. Events whose node element has no `node`
 * attribute are ignored.
 *
 * PEP: pass NULL as the service to publish to (or read, or configure) the
 * account's own PEP node (the request goes without `to`). To receive contacts'
 * PEP events, call canto_pubsub_watch_pep(): it announces `NODE+notify`
 * (canto_client_add_feature()), which the caps plugin hashes into the presence
 * sent next; send available presence after adding PEP watches. The contacts
 * must share a presence subscription with the account.
 *
 * Ownership: canto_pubsub_new() gives the caller an object to free with
 * canto_pubsub_free(), before the client. Everything a callback receives
 * (results, events, items, forms, strings) is borrowed for the duration of the
 * callback; copy what you keep (canto_stanza_copy(), canto_form_copy()).
 * Request functions copy their arguments (payloads and forms are serialized
 * at once).
 *
 * Threads: a canto_pubsub is used only from its client's loop thread; every
 * callback runs on that thread, from the client's dispatch. Callbacks may make
 * new requests, add and remove watches, and free the canto_pubsub.
 */
#ifndef CANTO_PUBSUB_H
#define CANTO_PUBSUB_H

#include <stddef.h>
#include <canto/export.h>
#include <canto/client.h>
#include <canto/forms.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace of publish-subscribe requests. */
#define CANTO_NS_PUBSUB "http://jabber.org/protocol/pubsub"
/** Namespace of owner requests (configure, delete, purge). */
#define CANTO_NS_PUBSUB_OWNER "http://jabber.org/protocol/pubsub#owner"
/** Namespace of event notifications. */
#define CANTO_NS_PUBSUB_EVENT "http://jabber.org/protocol/pubsub#event"
/** FORM_TYPE of node configuration forms. */
#define CANTO_NS_PUBSUB_NODE_CONFIG "http://jabber.org/protocol/pubsub#node_config"
/** FORM_TYPE of publish-options forms. */
#define CANTO_NS_PUBSUB_PUBLISH_OPTIONS "http://jabber.org/protocol/pubsub#publish-options"
/** FORM_TYPE of subscription options forms. */
#define CANTO_NS_PUBSUB_SUBSCRIBE_OPTIONS "http://jabber.org/protocol/pubsub#subscribe_options"
/** User nickname (XEP-0172), a common PEP node. */
#define CANTO_NS_NICK "http://jabber.org/protocol/nick"

/** Most items, nodes or subscriptions read from one answer or event; more are ignored. */
#define CANTO_PUBSUB_MAX_ENTRIES 4096

/** A pubsub object attached to a client. Opaque. */
typedef struct canto_pubsub canto_pubsub;

/** One item, borrowed for the callback that receives it. */
typedef struct canto_pubsub_item {
    const char *id;              /**< item id, or NULL if the item had none */
    const char *publisher;       /**< `publisher` attribute, or NULL */
    const canto_stanza *payload; /**< the first child element, or NULL (retractions, no payload) */
} canto_pubsub_item;

/** One disco#items entry: a node of a service or an item of a node. Borrowed. */
typedef struct canto_pubsub_node {
    const char *jid;  /**< the entity (required; entries without one are skipped) */
    const char *node; /**< its node, or NULL */
    const char *name; /**< its name (for items of a node: the item id), or NULL */
} canto_pubsub_node;

/** One subscription. Borrowed. */
typedef struct canto_pubsub_subscription {
    const char *node;  /**< the node, or NULL if the answer did not say */
    const char *jid;   /**< the subscribed JID */
    const char *subid; /**< subscription id, or NULL */
    const char *state; /**< "subscribed", "pending", "unconfigured", "none", or NULL */
} canto_pubsub_subscription;

/**
 * What a request's callback receives. Which fields are filled in depends on
 * the request (see each function); all are NULL/0 unless the answer is a
 * result that carried them. Valid during the callback only.
 */
typedef struct canto_pubsub_result {
    unsigned version;                  /**< CANTO_PUBSUB_RESULT_VERSION */
    const canto_iq_response *response; /**< the answer (outcome, stanza, error); never NULL */
    const char *service;               /**< where the request went (NULL: own account) */
    const char *node;                  /**< the node (for create: the one the service assigned) */
    const canto_pubsub_item *items;    /**< retrieved items; publish: the published item id */
    size_t n_items;                    /**< number of @ref items */
    const canto_pubsub_node *nodes;    /**< discovered nodes or items */
    size_t n_nodes;                    /**< number of @ref nodes */
    const canto_pubsub_subscription *subscriptions; /**< subscribe, list subscriptions */
    size_t n_subscriptions;                         /**< number of @ref subscriptions */
    const canto_form *form; /**< configuration or subscription options form */
} canto_pubsub_result;

/** Version of canto_pubsub_result filled in by this library. */
#define CANTO_PUBSUB_RESULT_VERSION 1u

/**
 * Receives the one answer to a request: called exactly once per accepted
 * request (CANTO_IQ_CANCELED when the connection ends or the canto_pubsub is
 * freed first). May make new requests and may free the canto_pubsub.
 */
typedef void (*canto_pubsub_result_fn)(void *user_data, canto_pubsub *pubsub,
                                       const canto_pubsub_result *result);

/** Kinds of event notification. */
typedef enum canto_pubsub_event_type {
    CANTO_PUBSUB_EVENT_ITEMS = 1,   /**< items published (with payloads when the node sends them) */
    CANTO_PUBSUB_EVENT_RETRACT = 2, /**< items retracted (ids only) */
    CANTO_PUBSUB_EVENT_PURGE = 3,   /**< all items removed */
    CANTO_PUBSUB_EVENT_DELETE = 4,  /**< the node was deleted */
    CANTO_PUBSUB_EVENT_CONFIGURATION = 5, /**< the node's configuration changed */
} canto_pubsub_event_type;

/** An event notification; everything borrowed for the callback. */
typedef struct canto_pubsub_event {
    unsigned version;               /**< CANTO_PUBSUB_EVENT_VERSION */
    canto_pubsub_event_type type;   /**< what happened */
    const char *service;            /**< the `from` of the message (service or PEP account) */
    const char *node;               /**< the node */
    const canto_pubsub_item *items; /**< ITEMS: new items; RETRACT: retracted ids */
    size_t n_items;                 /**< number of @ref items */
    const canto_form *config;       /**< CONFIGURATION: the new configuration, if sent; else NULL */
    const char *redirect;           /**< DELETE: `<redirect uri/>`, or NULL */
    const canto_stanza *message;    /**< the whole message */
} canto_pubsub_event;

/** Version of canto_pubsub_event filled in by this library. */
#define CANTO_PUBSUB_EVENT_VERSION 1u

/**
 * Receives events for a watch. One message may give several calls (items and
 * retractions). May remove watches (a removed watch is not called again) and
 * may free the canto_pubsub.
 */
typedef void (*canto_pubsub_event_fn)(void *user_data, canto_pubsub *pubsub,
                                      const canto_pubsub_event *event);

/* ------------------------------------------------------------------------- */
/** @name Life cycle */
/**@{*/

/**
 * Attach to a client: installs a message handler for event notifications.
 * Event messages that reach at least one watch are consumed (handlers added
 * later with a lower priority do not see them); others are passed on.
 * @param client the client; must outlive the object.
 * @param out receives the object; free it with canto_pubsub_free().
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_pubsub_new(canto_client *client, canto_pubsub **out);

/**
 * Detach and free: the handler is removed, `+notify` features withdrawn, and
 * pending requests get CANTO_IQ_CANCELED. NULL is allowed. Safe inside this
 * object's callbacks. The client must still exist.
 */
CANTO_EXPORT void canto_pubsub_free(canto_pubsub *pubsub);

/** @return the client this object is attached to (borrowed). */
CANTO_EXPORT canto_client *canto_pubsub_client(const canto_pubsub *pubsub);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Events */
/**@{*/

/**
 * Watch a node of a service: @p fn gets events sent from exactly @p service
 * about @p node (NULL: every node of that service).
 * @param pubsub the object.
 * @param service the service JID (copied, normalized); events from any other
 *        sender are ignored.
 * @param node the node (copied), or NULL for every node.
 * @param fn called for each accepted event; @param user_data passed to it.
 * @param id receives an id for canto_pubsub_unwatch() (may be NULL).
 * @return 0, CANTO_EINVAL (NULL or invalid service), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_pubsub_watch(canto_pubsub *pubsub, const char *service, const char *node,
                                    canto_pubsub_event_fn fn, void *user_data, unsigned *id);

/**
 * Watch a PEP node of every contact (and of the account itself): @p fn gets
 * events about @p node sent from a bare account JID, and `NODE+notify` is
 * announced until the watch is removed. Send presence afterwards so that the
 * server learns the new capabilities.
 * @param pubsub the object; @param node the PEP node (copied), e.g. CANTO_NS_NICK.
 * @param fn called for each accepted event; @param user_data passed to it.
 * @param id receives an id for canto_pubsub_unwatch() (may be NULL).
 * @return 0, CANTO_EINVAL (NULL node), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_pubsub_watch_pep(canto_pubsub *pubsub, const char *node,
                                        canto_pubsub_event_fn fn, void *user_data, unsigned *id);

/** Remove a watch (safe inside callbacks). @return 0, CANTO_ENOTFOUND. */
CANTO_EXPORT int canto_pubsub_unwatch(canto_pubsub *pubsub, unsigned id);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Requests
 *
 * Every request takes the @p service JID (NULL: the account's own PEP
 * service), and a callback @p fn (may be NULL) with @p user_data. They return
 * 0 (the callback follows), CANTO_EINVAL (NULL object, missing node, bad
 * argument), CANTO_ENOMEM, or an error of canto_client_send_iq() (then no
 * callback follows).
 */
/**@{*/

/**
 * Discover nodes: disco#items to @p service, under @p node (NULL: top level).
 * Result: @ref canto_pubsub_result.nodes.
 */
CANTO_EXPORT int canto_pubsub_discover_nodes(canto_pubsub *pubsub, const char *service,
                                             const char *node, canto_pubsub_result_fn fn,
                                             void *user_data);

/**
 * Discover the items of a node (disco#items with the node; each entry's
 * `name` is an item id). Result: @ref canto_pubsub_result.nodes.
 */
CANTO_EXPORT int canto_pubsub_discover_items(canto_pubsub *pubsub, const char *service,
                                             const char *node, canto_pubsub_result_fn fn,
                                             void *user_data);

/**
 * Create a node. @p node NULL asks for an instant node; @p config (a submit
 * form, may be NULL) configures it at once. Result: @ref
 * canto_pubsub_result.node is the node created.
 */
CANTO_EXPORT int canto_pubsub_create(canto_pubsub *pubsub, const char *service, const char *node,
                                     const canto_form *config, canto_pubsub_result_fn fn,
                                     void *user_data);

/**
 * Fetch a node's configuration form. Result: @ref canto_pubsub_result.form
 * (fill it in with canto_form_make_submit() and pass it to
 * canto_pubsub_configure()).
 */
CANTO_EXPORT int canto_pubsub_get_config(canto_pubsub *pubsub, const char *service,
                                         const char *node, canto_pubsub_result_fn fn,
                                         void *user_data);

/** Submit a node's configuration (@p config: a submit form; required). */
CANTO_EXPORT int canto_pubsub_configure(canto_pubsub *pubsub, const char *service, const char *node,
                                        const canto_form *config, canto_pubsub_result_fn fn,
                                        void *user_data);

/** Delete a node; @p redirect (may be NULL) is a URI for subscribers. */
CANTO_EXPORT int canto_pubsub_delete(canto_pubsub *pubsub, const char *service, const char *node,
                                     const char *redirect, canto_pubsub_result_fn fn,
                                     void *user_data);

/** Remove every item of a node. */
CANTO_EXPORT int canto_pubsub_purge(canto_pubsub *pubsub, const char *service, const char *node,
                                    canto_pubsub_result_fn fn, void *user_data);

/**
 * Publish an item.
 * @param pubsub the object; @param service the service, NULL for own PEP.
 * @param node the node (PEP nodes are created by the first publish).
 * @param fn gets the result (may be NULL); @param user_data passed to it.
 * @param item_id NULL lets the service choose one.
 * @param payload the item's content, copied (may be NULL for a notification-only item).
 * @param options a publish-options submit form, or NULL.
 * Result: @ref canto_pubsub_result.items holds one entry with the item id
 * (the service's, else @p item_id).
 */
CANTO_EXPORT int canto_pubsub_publish(canto_pubsub *pubsub, const char *service, const char *node,
                                      const char *item_id, const canto_stanza *payload,
                                      const canto_form *options, canto_pubsub_result_fn fn,
                                      void *user_data);

/** Retract an item; @p notify 1 asks the service to notify subscribers. */
CANTO_EXPORT int canto_pubsub_retract(canto_pubsub *pubsub, const char *service, const char *node,
                                      const char *item_id, int notify, canto_pubsub_result_fn fn,
                                      void *user_data);

/**
 * Retrieve items: those named in @p ids (@p n_ids of them), or, when @p n_ids
 * is 0, all of them, or the latest @p max_items if it is not 0.
 * Result: @ref canto_pubsub_result.items.
 */
CANTO_EXPORT int canto_pubsub_get_items(canto_pubsub *pubsub, const char *service, const char *node,
                                        const char *const *ids, size_t n_ids, unsigned max_items,
                                        canto_pubsub_result_fn fn, void *user_data);

/**
 * Subscribe @p jid (NULL: the account's bare JID) to a node, with optional
 * subscription @p options (a submit form). Result: @ref
 * canto_pubsub_result.subscriptions (one entry, when the service sent it).
 */
CANTO_EXPORT int canto_pubsub_subscribe(canto_pubsub *pubsub, const char *service, const char *node,
                                        const char *jid, const canto_form *options,
                                        canto_pubsub_result_fn fn, void *user_data);

/** Unsubscribe @p jid (NULL: the account's bare JID); @p subid may be NULL. */
CANTO_EXPORT int canto_pubsub_unsubscribe(canto_pubsub *pubsub, const char *service,
                                          const char *node, const char *jid, const char *subid,
                                          canto_pubsub_result_fn fn, void *user_data);

/**
 * List the account's subscriptions at a service, to @p node only or (NULL)
 * to every node. Result: @ref canto_pubsub_result.subscriptions.
 */
CANTO_EXPORT int canto_pubsub_subscriptions(canto_pubsub *pubsub, const char *service,
                                            const char *node, canto_pubsub_result_fn fn,
                                            void *user_data);

/**
 * Fetch the subscription options form of @p jid (NULL: the account's bare
 * JID) at a node. Result: @ref canto_pubsub_result.form.
 */
CANTO_EXPORT int canto_pubsub_get_options(canto_pubsub *pubsub, const char *service,
                                          const char *node, const char *jid, const char *subid,
                                          canto_pubsub_result_fn fn, void *user_data);

/** Submit subscription options (@p options: a submit form; required). */
CANTO_EXPORT int canto_pubsub_set_options(canto_pubsub *pubsub, const char *service,
                                          const char *node, const char *jid, const char *subid,
                                          const canto_form *options, canto_pubsub_result_fn fn,
                                          void *user_data);

/**@}*/

CANTO_END_DECLS

#endif
