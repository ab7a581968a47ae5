/**
 * @file canto/stanza.h
 * @brief XML element trees for XMPP stanzas and their payloads.
 *
 * A canto_stanza is one node of a tree: an element (with a name, a namespace,
 * attributes and children) or a text node. All nodes of one tree share one block
 * of memory, so building and freeing a tree is cheap.
 *
 * Ownership:
 * - Functions that return a tree through `canto_stanza **out` give the caller one
 *   reference to that tree; release it with canto_stanza_free().
 * - Nodes returned directly (children, lookups) are borrowed: they stay valid as
 *   long as the tree they belong to is alive, even after canto_stanza_remove().
 * - canto_stanza_ref() on any node keeps its whole tree alive; each ref needs one
 *   canto_stanza_free() on that same node.
 * - Strings returned as `const char *` are borrowed from the tree and stay valid
 *   until the tree is freed or that same value is changed.
 * - Setters copy the strings they are given.
 *
 * Threads: a tree is used by one thread at a time. Distinct trees are independent.
 *
 * Strings in and out are NUL-terminated UTF-8; setters return CANTO_EUTF8 for
 * invalid UTF-8 and CANTO_EINVAL for characters XML cannot carry.
 */
#ifndef CANTO_STANZA_H
#define CANTO_STANZA_H

#include <stddef.h>
#include <canto/export.h>
#include <canto/memory.h>

CANTO_BEGIN_DECLS

/** Namespace of client-to-server stanzas. */
#define CANTO_NS_CLIENT "jabber:client"
/** Namespace of stanza error conditions (RFC 6120 §8.3). */
#define CANTO_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
/** Namespace of the stream element and stream features. */
#define CANTO_NS_STREAMS "http://etherx.jabber.org/streams"

/** A node of an XML tree (element or text). Opaque. */
typedef struct canto_stanza canto_stanza;

/** What a node is. */
typedef enum canto_node_kind {
    CANTO_NODE_ELEMENT = 1, /**< An element. */
    CANTO_NODE_TEXT = 2,    /**< Character data. */
} canto_node_kind;

/* ------------------------------------------------------------------------- */
/** @name Creating and releasing trees */
/**@{*/

/**
 * Create a tree holding one element.
 *
 * @param alloc allocator for the tree, or NULL for malloc.
 * @param name element name (local name, no prefix); required.
 * @param ns namespace URI, or NULL for none (a child then inherits nothing: it
 *        is in no namespace; use the parent's namespace explicitly if wanted).
 * @param out receives the new element; the caller owns one reference.
 * @return 0, CANTO_EINVAL (NULL/empty name, name not an XML name),
 *         CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_new(const canto_allocator *alloc, const char *name, const char *ns,
                                  canto_stanza **out);

/**
 * Take one more reference to the tree that @p node belongs to.
 * @return @p node, so that `kept = canto_stanza_ref(s);` reads naturally.
 */
CANTO_EXPORT canto_stanza *canto_stanza_ref(canto_stanza *node);

/**
 * Release one reference to the tree of @p node; the tree is freed with the last.
 * NULL is allowed and does nothing. Only pass nodes you hold a reference to.
 */
CANTO_EXPORT void canto_stanza_free(canto_stanza *node);

/**
 * Deep-copy @p node and everything below it into a new tree.
 * The copy's root keeps the namespace @p node has in its own tree.
 * @param out receives the copy (caller owns one reference).
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_copy(const canto_stanza *node, canto_stanza **out);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Reading nodes */
/**@{*/

/** @return the node's kind, or 0 for NULL. */
CANTO_EXPORT canto_node_kind canto_stanza_kind(const canto_stanza *node);

/** @return the element's local name (borrowed); NULL for text nodes and NULL. */
CANTO_EXPORT const char *canto_stanza_name(const canto_stanza *node);

/** @return the element's namespace URI (borrowed), or NULL if it has none. */
CANTO_EXPORT const char *canto_stanza_ns(const canto_stanza *node);

/** @return true (1) if @p node is an element named @p name in namespace @p ns
 *  (either may be NULL to mean "any"), else 0. */
CANTO_EXPORT int canto_stanza_is(const canto_stanza *node, const char *name, const char *ns);

/**
 * Value of an attribute that is in no namespace ("to", "type", ...) or in the XML
 * namespace, written with its prefix ("xml:lang").
 * @return the value (borrowed), or NULL if absent.
 */
CANTO_EXPORT const char *canto_stanza_attr(const canto_stanza *node, const char *name);

/**
 * Value of an attribute in namespace @p ns (NULL: no namespace).
 * @return the value (borrowed), or NULL if absent.
 */
CANTO_EXPORT const char *canto_stanza_attr_ns(const canto_stanza *node, const char *ns,
                                              const char *name);

/** @return how many attributes the element has (0 for text nodes). */
CANTO_EXPORT size_t canto_stanza_attr_count(const canto_stanza *node);

/**
 * Read attribute number @p index (0-based, in document order).
 * @param ns receives the attribute's namespace or NULL (may itself be NULL).
 * @param name receives its name (borrowed); @param value receives its value.
 * @return 0, CANTO_EINVAL (no such index or not an element).
 */
CANTO_EXPORT int canto_stanza_attr_at(const canto_stanza *node, size_t index, const char **ns,
                                      const char **name, const char **value);

/**
 * Text of a node. For a text node, its characters; for an element, all of its
 * direct text children joined (an element without text gives "").
 * @return borrowed string, valid until the tree is freed or the node's text
 *         changes; NULL only for NULL input or when joining ran out of memory.
 */
CANTO_EXPORT const char *canto_stanza_text(const canto_stanza *node);

/**
 * Text of the first child element matching @p name / @p ns, e.g. the body of a
 * message: `canto_stanza_child_text(msg, "body", NULL)`.
 * @return borrowed string, or NULL if there is no such child.
 */
CANTO_EXPORT const char *canto_stanza_child_text(const canto_stanza *node, const char *name,
                                                 const char *ns);

/** @return the parent element, or NULL for a root or a removed node. */
CANTO_EXPORT canto_stanza *canto_stanza_parent(const canto_stanza *node);

/** @return the root of the tree the node belongs to. */
CANTO_EXPORT canto_stanza *canto_stanza_root(const canto_stanza *node);

/** @return the first child node (element or text), or NULL. */
CANTO_EXPORT canto_stanza *canto_stanza_first(const canto_stanza *node);

/** @return the next sibling node (element or text), or NULL. */
CANTO_EXPORT canto_stanza *canto_stanza_next(const canto_stanza *node);

/** @return the first child element, skipping text, or NULL. */
CANTO_EXPORT canto_stanza *canto_stanza_first_element(const canto_stanza *node);

/** @return the next sibling element, skipping text, or NULL. */
CANTO_EXPORT canto_stanza *canto_stanza_next_element(const canto_stanza *node);

/** @return how many child nodes (elements and text) the element has. */
CANTO_EXPORT size_t canto_stanza_child_count(const canto_stanza *node);

/**
 * First child element named @p name in namespace @p ns; either may be NULL to
 * match any. @return borrowed node or NULL.
 */
CANTO_EXPORT canto_stanza *canto_stanza_child(const canto_stanza *node, const char *name,
                                              const char *ns);

/**
 * Next sibling element after @p node matching @p name / @p ns (NULL: any);
 * with canto_stanza_child() this iterates all matching children.
 */
CANTO_EXPORT canto_stanza *canto_stanza_next_match(const canto_stanza *node, const char *name,
                                                   const char *ns);

/**
 * Find a descendant by a short path of child steps separated by '/'. A step is
 * `name`, `{namespace}name`, or `*` for any element. The namespace of a step
 * without braces is not checked.
 *
 * Example: `canto_stanza_find(iq, "{jabber:iq:roster}query/item")`.
 * @return the first match in document order (borrowed), or NULL (also for a
 *         malformed path).
 */
CANTO_EXPORT canto_stanza *canto_stanza_find(const canto_stanza *node, const char *path);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Changing trees */
/**@{*/

/** Rename an element. @return 0, CANTO_EINVAL, CANTO_EUTF8, CANTO_ENOMEM. */
CANTO_EXPORT int canto_stanza_set_name(canto_stanza *node, const char *name);

/** Set or clear (NULL) an element's namespace. @return 0, CANTO_EINVAL, CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_set_ns(canto_stanza *node, const char *ns);

/**
 * Set an attribute in no namespace (or "xml:lang"); NULL @p value removes it.
 * @return 0, CANTO_EINVAL (bad name, text node), CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_set_attr(canto_stanza *node, const char *name, const char *value);

/** Like canto_stanza_set_attr() for an attribute in namespace @p ns (NULL: none). */
CANTO_EXPORT int canto_stanza_set_attr_ns(canto_stanza *node, const char *ns, const char *name,
                                          const char *value);

/**
 * Replace all text children of an element with one text node holding @p text
 * (NULL or "" removes the text). Element children are kept. For a text node,
 * replace its characters.
 * @return 0, CANTO_EINVAL, CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_set_text(canto_stanza *node, const char *text);

/**
 * Append a text node with @p len bytes of @p text (not NUL-terminated needed).
 * @return 0, CANTO_EINVAL, CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_add_text(canto_stanza *node, const char *text, size_t len);

/**
 * Append a new empty child element.
 * @param ns the child's namespace; NULL means "the same as the parent's".
 * @param child receives the new child (borrowed; may be NULL if not needed).
 * @return 0, CANTO_EINVAL, CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_add_child(canto_stanza *parent, const char *name, const char *ns,
                                        canto_stanza **child);

/**
 * Append a deep copy of @p tree (which may belong to any tree, including this one)
 * as the last child of @p parent. The caller keeps its own reference to @p tree.
 * @param copy receives the inserted copy (borrowed; may be NULL).
 * @return 0, CANTO_EINVAL (text-node parent, or @p tree is an ancestor of
 *         @p parent), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_append_copy(canto_stanza *parent, const canto_stanza *tree,
                                          canto_stanza **copy);

/**
 * Detach @p node from its parent. Its memory stays with the tree until the tree
 * is freed, so borrowed pointers to it stay valid.
 * @return 0, CANTO_EINVAL (a root has no parent).
 */
CANTO_EXPORT int canto_stanza_remove(canto_stanza *node);

/**
 * Put a deep copy of @p with in the place of @p old, which is detached.
 * @param copy receives the inserted copy (borrowed; may be NULL).
 * @return 0, CANTO_EINVAL (old is a root), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_replace(canto_stanza *old, const canto_stanza *with,
                                      canto_stanza **copy);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Stanzas: message, presence, iq */
/**@{*/

/**
 * Create `<message/>` in jabber:client.
 * @param type "chat", "normal", "groupchat", "headline", "error" or NULL.
 * @param to recipient JID or NULL; @param id stanza id or NULL.
 * @param body text of a `<body/>` child, or NULL for none.
 * @return 0, CANTO_EINVAL, CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_new_message(const canto_allocator *alloc, const char *type,
                                          const char *to, const char *id, const char *body,
                                          canto_stanza **out);

/**
 * Create `<presence/>` in jabber:client. @p type is NULL for available, or
 * "unavailable", "subscribe", "subscribed", "unsubscribe", "unsubscribed",
 * "probe", "error". @return as canto_stanza_new_message().
 */
CANTO_EXPORT int canto_stanza_new_presence(const canto_allocator *alloc, const char *type,
                                           const char *to, canto_stanza **out);

/**
 * Create `<iq/>` in jabber:client.
 * @param type "get", "set", "result" or "error"; required.
 * @param id required (iq stanzas must carry one).
 * @return 0, CANTO_EINVAL (missing or unknown type, missing id), CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_new_iq(const canto_allocator *alloc, const char *type, const char *to,
                                     const char *id, canto_stanza **out);

/** The `type` attribute of a stanza error (RFC 6120 §8.3.2). */
typedef enum canto_error_type {
    CANTO_ERROR_TYPE_UNKNOWN = 0, /**< Missing or not one of the five. */
    CANTO_ERROR_AUTH,             /**< Retry after providing credentials. */
    CANTO_ERROR_CANCEL,           /**< Do not retry. */
    CANTO_ERROR_CONTINUE,         /**< Proceed; the condition was only a warning. */
    CANTO_ERROR_MODIFY,           /**< Retry after changing the data sent. */
    CANTO_ERROR_WAIT,             /**< Retry after waiting. */
} canto_error_type;

/** Defined conditions of stanza errors (RFC 6120 §8.3.3). */
typedef enum canto_error_condition {
    CANTO_COND_UNKNOWN = 0, /**< No condition, or one not defined by RFC 6120. */
    CANTO_COND_BAD_REQUEST,
    CANTO_COND_CONFLICT,
    CANTO_COND_FEATURE_NOT_IMPLEMENTED,
    CANTO_COND_FORBIDDEN,
    CANTO_COND_GONE,
    CANTO_COND_INTERNAL_SERVER_ERROR,
    CANTO_COND_ITEM_NOT_FOUND,
    CANTO_COND_JID_MALFORMED,
    CANTO_COND_NOT_ACCEPTABLE,
    CANTO_COND_NOT_ALLOWED,
    CANTO_COND_NOT_AUTHORIZED,
    CANTO_COND_POLICY_VIOLATION,
    CANTO_COND_RECIPIENT_UNAVAILABLE,
    CANTO_COND_REDIRECT,
    CANTO_COND_REGISTRATION_REQUIRED,
    CANTO_COND_REMOTE_SERVER_NOT_FOUND,
    CANTO_COND_REMOTE_SERVER_TIMEOUT,
    CANTO_COND_RESOURCE_CONSTRAINT,
    CANTO_COND_SERVICE_UNAVAILABLE,
    CANTO_COND_SUBSCRIPTION_REQUIRED,
    CANTO_COND_UNDEFINED_CONDITION,
    CANTO_COND_UNEXPECTED_REQUEST,
} canto_error_condition;

/** @return the XML name of an error type ("cancel", ...), or NULL if unknown. */
CANTO_EXPORT const char *canto_error_type_name(canto_error_type type);
/** @return the XML element name of a condition ("item-not-found", ...), or NULL if unknown. */
CANTO_EXPORT const char *canto_error_condition_name(canto_error_condition cond);
/** @return the condition named @p name, or CANTO_COND_UNKNOWN. */
CANTO_EXPORT canto_error_condition canto_error_condition_from_name(const char *name);

/**
 * A stanza error read back from a tree. All pointers are borrowed from the
 * stanza they were read from and live as long as it.
 */
typedef struct canto_stanza_error {
    unsigned version;                /**< CANTO_STANZA_ERROR_VERSION */
    canto_error_type type;           /**< the `type` attribute */
    canto_error_condition condition; /**< defined condition, or CANTO_COND_UNKNOWN */
    const char *condition_name;      /**< element name of the condition as received, or NULL */
    const char *text;                /**< human-readable `<text/>`, or NULL */
    const char *lang;                /**< xml:lang of the text, or NULL */
    const char *by;                  /**< the `by` attribute, or NULL */
    const char *redirect;            /**< content of `<gone/>` or `<redirect/>`, or NULL */
    const canto_stanza *app;         /**< application-specific condition element, or NULL */
} canto_stanza_error;

/** Version of canto_stanza_error understood by this header. */
#define CANTO_STANZA_ERROR_VERSION 1u
/** Initializer for canto_stanza_error. */
#define CANTO_STANZA_ERROR_INIT                                                                    \
    {                                                                                              \
        CANTO_STANZA_ERROR_VERSION, CANTO_ERROR_TYPE_UNKNOWN, CANTO_COND_UNKNOWN, NULL, NULL,      \
            NULL, NULL, NULL, NULL                                                                 \
    }

/**
 * Build the error reply to @p request (RFC 6120 §8.3): same name, id, `to` and
 * `from` swapped, type "error", the request's children copied for context for
 * message/presence (not for iq), and an `<error/>` with @p type, @p cond and an
 * optional @p text.
 * @param out receives the reply (caller owns one reference), using the
 *        request's allocator.
 * @return 0, CANTO_EINVAL (request is itself an error, or not a stanza; or an
 *         unknown type/condition), CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_new_error_reply(const canto_stanza *request, canto_error_type type,
                                              canto_error_condition cond, const char *text,
                                              canto_stanza **out);

/**
 * Read the `<error/>` child of a stanza of type "error".
 * @param err a struct whose version is set (use CANTO_STANZA_ERROR_INIT); filled in.
 * @return 0, CANTO_ENOTFOUND (no `<error/>` child), CANTO_EINVAL.
 */
CANTO_EXPORT int canto_stanza_get_error(const canto_stanza *stanza, canto_stanza_error *err);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Serializing and parsing */
/**@{*/

/**
 * Serialize @p node and its subtree. Attribute values and text are escaped
 * (`& < > " '` and characters that must not appear raw); namespaces are declared
 * only where they differ from the parent's.
 * @param out receives a NUL-terminated string; free it with canto_free().
 * @param len receives its length without the NUL (may be NULL).
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_to_string(const canto_stanza *node, char **out, size_t *len);

/**
 * Parse exactly one element from @p xml, with the same restrictions as a stream
 * (no DTD, comments, PIs or entities other than the five predefined; UTF-8 only;
 * the default size and depth limits). An element with no namespace declaration is
 * taken to be in jabber:client, as it would be inside a client stream.
 * @param len bytes of @p xml, or (size_t)-1 if it is NUL-terminated.
 * @param out receives the tree (caller owns one reference).
 * @return 0, CANTO_EINVAL, CANTO_EXML, CANTO_ERESTRICTED, CANTO_EENCODING,
 *         CANTO_ETOOBIG, CANTO_ETOODEEP, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_stanza_parse(const canto_allocator *alloc, const char *xml, size_t len,
                                    canto_stanza **out);

/**@}*/

CANTO_END_DECLS

#endif
