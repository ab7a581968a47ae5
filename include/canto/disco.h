/**
 * @file canto/disco.h
 * @brief Service discovery (XEP-0030) and entity capabilities (XEP-0115).
 *
 * A canto_disco attached to a client:
 * - answers disco#info requests sent to the client (without a node, or with
 *   the node `CAPSNODE#VER` of its own capabilities) with the client's
 *   identity (canto_client_get_identity()), its features
 *   (canto_client_feature()) and the extended-information forms (XEP-0128)
 *   added with canto_disco_add_extension(); other nodes get item-not-found;
 * - answers disco#items requests with an empty list (item-not-found for any
 *   node); an application that serves nodes of its own adds a handler with a
 *   higher priority for them;
 * - announces the features `http://jabber.org/protocol/disco#info`,
 *   `http://jabber.org/protocol/disco#items` and, unless caps are disabled,
 *   `http://jabber.org/protocol/caps`;
 * - adds `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node=... ver=.../>`
 *   to every available presence the client sends (the verification string is
 *   recomputed each time, so it follows feature changes; send presence again
 *   after changing features);
 * - verifies the capabilities other entities announce in their presence: an
 *   unknown `ver` is looked up with a disco#info request to `NODE#VER`, the
 *   answer is hashed again and cached only if it gives the same `ver`
 *   (XEP-0115 §5.4); a failed check is retried with up to four other entities
 *   (other bare JIDs) announcing the same `ver`. The caps callback reports each
 *   entity whose capabilities became known.
 * It also sends disco#info and disco#items requests to any entity.
 *
 * Ownership: canto_disco_new() gives the caller an object to free with
 * canto_disco_free(), BEFORE the client it is attached to. Results
 * (canto_disco_info, canto_disco_items) handed to callbacks are borrowed for
 * the callback; canto_disco_info_ref() keeps an info. Functions with a
 * `canto_disco_info **out` give the caller one reference, released with
 * canto_disco_info_free(); a `canto_disco_items **out` is freed with
 * canto_disco_items_free(). Strings and forms returned by accessors are
 * borrowed from the object they were read from. Setters copy.
 *
 * Threads: a canto_disco is used only from its client's loop thread; every
 * callback is called on that thread, from the client's dispatch. A
 * canto_disco_info is immutable and reference-counted without locks, so it
 * too stays on one thread. The parse and hash functions use no shared state.
 *
 * Callbacks may call any function here, including canto_disco_free(). To free
 * the client from inside one, free the disco object first.
 */
#ifndef CANTO_DISCO_H
#define CANTO_DISCO_H

#include <stddef.h>
#include <stdint.h>
#include <canto/export.h>
#include <canto/client.h>
#include <canto/forms.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace of disco#info. */
#define CANTO_NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
/** Namespace of disco#items. */
#define CANTO_NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
/** Namespace of entity capabilities. */
#define CANTO_NS_CAPS "http://jabber.org/protocol/caps"
/** The caps node used when canto_disco_options.caps_node is NULL. Applications
 *  should set a URL of their own (XEP-0115 §4). */
#define CANTO_DISCO_DEFAULT_NODE "https://canto.invalid"
/** Room for a SHA-1 verification string: 28 base64 characters and the NUL. */
#define CANTO_DISCO_VER_SIZE 29

/** Most identities in one disco#info answer. */
#define CANTO_DISCO_MAX_IDENTITIES 256
/** Most features in one disco#info answer. */
#define CANTO_DISCO_MAX_FEATURES 4096
/** Most extension forms in one disco#info answer. */
#define CANTO_DISCO_MAX_EXTENSIONS 64
/** Most items in one disco#items answer. */
#define CANTO_DISCO_MAX_ITEMS 65536

/** The disco plugin attached to one client. Opaque. */
typedef struct canto_disco canto_disco;
/** A disco#info answer: identities, features, extension forms. Opaque, immutable. */
typedef struct canto_disco_info canto_disco_info;
/** A disco#items answer. Opaque. */
typedef struct canto_disco_items canto_disco_items;

/* ------------------------------------------------------------------------- */
/** @name disco#info results */
/**@{*/

/**
 * Read a `<query xmlns='http://jabber.org/protocol/disco#info'/>` element.
 * Refused as malformed (CANTO_EPROTO): an identity without category or type,
 * a feature without var, an extension form canto_form_parse() refuses.
 * Duplicates are kept as they are (canto_disco_caps_hash() refuses them).
 * @param query the element; not kept.
 * @param out receives the info (one reference); release with canto_disco_info_free().
 * @param detail receives a static English sentence for CANTO_EPROTO and
 *        CANTO_ETOOBIG (may be NULL).
 * @return 0, CANTO_EINVAL (NULL argument, not a disco#info query),
 *         CANTO_EPROTO, CANTO_ETOOBIG (over a CANTO_DISCO_MAX_* limit), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_disco_info_parse(const canto_stanza *query, canto_disco_info **out,
                                        const char **detail);

/** Take one more reference to @p info. @return @p info. */
CANTO_EXPORT canto_disco_info *canto_disco_info_ref(canto_disco_info *info);
/** Release one reference; the info is freed with the last. NULL is allowed. */
CANTO_EXPORT void canto_disco_info_free(canto_disco_info *info);

/** @return the `node` attribute of the answer (borrowed), or NULL. */
CANTO_EXPORT const char *canto_disco_info_node(const canto_disco_info *info);
/** @return how many identities the answer has. */
CANTO_EXPORT size_t canto_disco_info_identity_count(const canto_disco_info *info);
/**
 * Read identity number @p index; each pointer may be NULL if not wanted.
 * @param name receives the name or NULL; @param lang its xml:lang or NULL.
 * @return 0, CANTO_EINVAL (NULL info or past the end).
 */
CANTO_EXPORT int canto_disco_info_identity(const canto_disco_info *info, size_t index,
                                           const char **category, const char **type,
                                           const char **name, const char **lang);
/** @return how many features the answer has. */
CANTO_EXPORT size_t canto_disco_info_feature_count(const canto_disco_info *info);
/** @return feature number @p index (borrowed), or NULL past the end. */
CANTO_EXPORT const char *canto_disco_info_feature(const canto_disco_info *info, size_t index);
/** @return 1 if the answer lists feature @p var, else 0. */
CANTO_EXPORT int canto_disco_info_has_feature(const canto_disco_info *info, const char *var);
/** @return how many extension forms (XEP-0128) the answer has. */
CANTO_EXPORT size_t canto_disco_info_extension_count(const canto_disco_info *info);
/** @return extension form number @p index (borrowed), or NULL past the end. */
CANTO_EXPORT const canto_form *canto_disco_info_extension(const canto_disco_info *info,
                                                          size_t index);
/** @return the first extension form whose FORM_TYPE is @p form_type (borrowed), or NULL. */
CANTO_EXPORT const canto_form *canto_disco_info_find_extension(const canto_disco_info *info,
                                                               const char *form_type);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Capabilities hash (XEP-0115 §5) */
/**@{*/

/**
 * Compute the verification string of @p info (XEP-0115 §5.1): identities
 * sorted by category, type, xml:lang (then name) as `category/type/lang/name<`;
 * features sorted, each followed by `<`; extension forms sorted by FORM_TYPE,
 * each as `FORM_TYPE<` and its other fields sorted by var as `var<` followed
 * by the field's values sorted, each followed by `<`. Sorting is by bytes
 * ("i;octet"); the SHA-1 of the string is written in base64.
 *
 * Forms without a FORM_TYPE field, or whose FORM_TYPE field has a type other
 * than hidden, are left out (§5.4 step 3.6). The answer is refused as
 * ill-formed (CANTO_EPROTO) if it has two identical identities or features,
 * two forms with the same FORM_TYPE, a FORM_TYPE with differing values, a var
 * twice in one form (§5.4 steps 3.3 to 3.5), or a `<` character in any string
 * that goes into the hash (it would make two different answers hash alike).
 *
 * @param hash the hash function's name; NULL or "sha-1" (the only one supported).
 * @param ver receives the NUL-terminated string; @param cap its size (at
 *        least CANTO_DISCO_VER_SIZE).
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_EUNSUPPORTED (other hash),
 *         CANTO_EPROTO (ill-formed), CANTO_ETOOBIG (@p cap too small), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_disco_caps_hash(const canto_disco_info *info, const char *hash, char *ver,
                                       size_t cap);

/**
 * Check a received verification string against an answer (XEP-0115 §5.4).
 * @return 1 if @p info hashes to @p ver, 0 if it does not, or a negative
 *         code of canto_disco_caps_hash() (CANTO_EPROTO: ill-formed answer).
 */
CANTO_EXPORT int canto_disco_caps_verify(const canto_disco_info *info, const char *hash,
                                         const char *ver);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name disco#items results */
/**@{*/

/**
 * Read a `<query xmlns='http://jabber.org/protocol/disco#items'/>` element.
 * An item without a valid `jid` is refused as malformed (CANTO_EPROTO).
 * @param out receives the result; free it with canto_disco_items_free().
 * @param detail as for canto_disco_info_parse().
 * @return 0, CANTO_EINVAL, CANTO_EPROTO, CANTO_ETOOBIG, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_disco_items_parse(const canto_stanza *query, canto_disco_items **out,
                                         const char **detail);
/** Free an items result. NULL is allowed. */
CANTO_EXPORT void canto_disco_items_free(canto_disco_items *items);
/** @return the `node` attribute of the answer (borrowed), or NULL. */
CANTO_EXPORT const char *canto_disco_items_node(const canto_disco_items *items);
/** @return how many items there are. */
CANTO_EXPORT size_t canto_disco_items_count(const canto_disco_items *items);
/**
 * Read item number @p index; each pointer may be NULL if not wanted.
 * @param jid receives the item's JID (normalized); @param node its node or
 *        NULL; @param name its name or NULL. All borrowed.
 * @return 0, CANTO_EINVAL (NULL items or past the end).
 */
CANTO_EXPORT int canto_disco_items_get(const canto_disco_items *items, size_t index,
                                       const char **jid, const char **node, const char **name);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name The plugin */
/**@{*/

/** Options for canto_disco_new(); initialize with CANTO_DISCO_OPTIONS_INIT. */
typedef struct canto_disco_options {
    unsigned version;      /**< CANTO_DISCO_OPTIONS_VERSION */
    const char *caps_node; /**< our caps node, copied; NULL: CANTO_DISCO_DEFAULT_NODE */
    /** 1: no `<c/>` on presence, no caps feature, others' caps not verified. */
    int caps_disabled;
    size_t caps_cache_max; /**< verified `ver` values kept; 0: 256 */
    uint32_t timeout_ms;   /**< for requests this object sends; 0: the client's default */
} canto_disco_options;

/** Version of canto_disco_options understood by this header. */
#define CANTO_DISCO_OPTIONS_VERSION 1u
/** Initializer for canto_disco_options. */
#define CANTO_DISCO_OPTIONS_INIT                                                                   \
    {                                                                                              \
        CANTO_DISCO_OPTIONS_VERSION, NULL, 0, 0, 0                                                 \
    }

/**
 * Attach service discovery and caps to @p client (connected or not): adds
 * the handlers, the presence filter, a state listener and the features above.
 * @param opts NULL for the defaults.
 * @param out receives the object; free it with canto_disco_free() before the client.
 * @return 0, CANTO_EINVAL (NULL argument, bad options version), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_disco_new(canto_client *client, const canto_disco_options *opts,
                                 canto_disco **out);

/**
 * Detach from the client and free: handlers, filter and listener are removed,
 * the features this object added are withdrawn, and pending requests are
 * forgotten (their callbacks are not called). NULL is allowed. Safe inside
 * this object's callbacks. The client must still exist.
 */
CANTO_EXPORT void canto_disco_free(canto_disco *disco);

/**
 * Add an extended-information form (XEP-0128) to our disco#info answer and
 * caps hash, replacing one with the same FORM_TYPE. The form is copied.
 * @param form a form of kind "result" with a hidden FORM_TYPE field.
 * @return 0, CANTO_EINVAL (NULL, not a result, no FORM_TYPE),
 *         CANTO_ETOOBIG (CANTO_DISCO_MAX_EXTENSIONS reached), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_disco_add_extension(canto_disco *disco, const canto_form *form);
/** Remove the extension form with FORM_TYPE @p form_type. @return 0, CANTO_EINVAL, CANTO_ENOTFOUND.
 */
CANTO_EXPORT int canto_disco_remove_extension(canto_disco *disco, const char *form_type);

/** @return our caps node (borrowed; lives as long as @p disco). */
CANTO_EXPORT const char *canto_disco_caps_node(const canto_disco *disco);

/**
 * Our current verification string, computed from the client's identity and
 * features and our extension forms.
 * @return borrowed string, valid until the next call into @p disco or the
 *         next return to the loop (the object recomputes it for every
 *         presence it annotates); NULL if the hash cannot be computed (e.g. a
 *         feature contains `<`).
 */
CANTO_EXPORT const char *canto_disco_caps_ver(canto_disco *disco);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Requests */
/**@{*/

/** How a request ended. */
typedef enum canto_disco_status {
    CANTO_DISCO_OK = 0,        /**< Answered; info or items is set. */
    CANTO_DISCO_ERROR = 1,     /**< The entity answered with an error; see error. */
    CANTO_DISCO_TIMEOUT = 2,   /**< No answer in time. */
    CANTO_DISCO_CANCELED = 3,  /**< Disconnected (or the client was freed) first. */
    CANTO_DISCO_MALFORMED = 4, /**< The answer could not be read; see detail. */
} canto_disco_status;

/** What a request's callback receives; everything is borrowed for the callback. */
typedef struct canto_disco_response {
    unsigned version;                /**< CANTO_DISCO_RESPONSE_VERSION */
    canto_disco_status status;       /**< how it ended */
    unsigned request;                /**< the request's handle */
    const char *jid;                 /**< the entity asked */
    const char *node;                /**< the node asked, or NULL */
    const canto_disco_info *info;    /**< OK answer to canto_disco_query_info(), else NULL */
    const canto_disco_items *items;  /**< OK answer to canto_disco_query_items(), else NULL */
    const canto_stanza_error *error; /**< for CANTO_DISCO_ERROR, else NULL */
    const char *detail;              /**< for CANTO_DISCO_MALFORMED: what was wrong */
} canto_disco_response;

/** Version of canto_disco_response filled in by this library. */
#define CANTO_DISCO_RESPONSE_VERSION 1u

/**
 * Receives the one answer to a request (exactly once, unless the request was
 * cancelled or the disco object freed first), on the client's loop thread.
 * canto_disco_info_ref() keeps the info beyond the callback. May send further
 * requests and may free @p disco.
 */
typedef void (*canto_disco_fn)(void *user_data, canto_disco *disco,
                               const canto_disco_response *response);

/**
 * Ask @p jid for its disco#info (of @p node, or NULL for none).
 * @param request receives a handle for canto_disco_cancel() (may be NULL).
 * @return 0, CANTO_EINVAL (NULL disco/jid/fn), CANTO_EJID_* (bad @p jid),
 *         CANTO_ENOTCONN, CANTO_ENOMEM, and the codes of canto_client_send_iq().
 *         On error no callback follows.
 */
CANTO_EXPORT int canto_disco_query_info(canto_disco *disco, const char *jid, const char *node,
                                        canto_disco_fn fn, void *user_data, unsigned *request);

/** Ask @p jid for its disco#items; as canto_disco_query_info(). */
CANTO_EXPORT int canto_disco_query_items(canto_disco *disco, const char *jid, const char *node,
                                         canto_disco_fn fn, void *user_data, unsigned *request);

/** Forget a pending request: its callback will not be called.
 *  @return 0, CANTO_EINVAL, CANTO_ENOTFOUND. */
CANTO_EXPORT int canto_disco_cancel(canto_disco *disco, unsigned request);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Others' capabilities */
/**@{*/

/**
 * Called when the capabilities of an entity that sent presence become known:
 * its `ver` was verified, was already in the cache, or changed to another
 * known one. @p jid is the presence's sender, @p node and @p ver its caps
 * attributes; @p info is borrowed for the call (canto_disco_info_ref() keeps it).
 * Called on the client's loop thread; may call any function here, including
 * canto_disco_free().
 */
typedef void (*canto_disco_caps_fn)(void *user_data, canto_disco *disco, const char *jid,
                                    const char *node, const char *ver,
                                    const canto_disco_info *info);

/** Set (or clear with NULL) the caps callback. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_disco_set_caps_callback(canto_disco *disco, canto_disco_caps_fn fn,
                                               void *user_data);

/**
 * Look up a verified `ver` in the cache.
 * @param out receives one reference; release it with canto_disco_info_free().
 * @return 0, CANTO_EINVAL, CANTO_ENOTFOUND.
 */
CANTO_EXPORT int canto_disco_caps_lookup(canto_disco *disco, const char *ver,
                                         canto_disco_info **out);

/**
 * The verified capabilities of an entity that is available, by the JID its
 * presence came from (normally a full JID). Forgotten on its unavailable
 * presence and on disconnect.
 * @param out receives one reference; release it with canto_disco_info_free().
 * @return 0, CANTO_EINVAL, CANTO_ENOTFOUND (no caps seen, or not verified yet).
 */
CANTO_EXPORT int canto_disco_caps_of(canto_disco *disco, const char *jid, canto_disco_info **out);

/** @return how many verified `ver` values the cache holds. */
CANTO_EXPORT size_t canto_disco_caps_count(const canto_disco *disco);

/**
 * Write the cache as text, to store it across sessions: one line per entry,
 * each a disco#info `<query/>` whose node is the `ver`. Entries whose text
 * contains a line break are left out.
 * @param buf receives the NUL-terminated text (may be NULL to ask for the size).
 * @param cap size of @p buf.
 * @param len receives the length the text needs, without the NUL (may be NULL).
 * @return 0, CANTO_EINVAL, CANTO_ETOOBIG (@p cap too small: *len tells what
 *         is needed), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_disco_caps_export(const canto_disco *disco, char *buf, size_t cap,
                                         size_t *len);

/**
 * Read text written by canto_disco_caps_export(). Every entry is hashed again
 * and taken only if it matches its `ver`; other lines are skipped.
 * @param len bytes of @p text, or (size_t)-1 if it is NUL-terminated.
 * @param imported receives how many entries were taken (may be NULL).
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_disco_caps_import(canto_disco *disco, const char *text, size_t len,
                                         size_t *imported);

/**@}*/

CANTO_END_DECLS

#endif
