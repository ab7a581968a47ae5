/* Internal layout of stanza trees and the builder calls the parser uses.
 *
 * Every node of a tree lives in one arena owned by a reference-counted document:
 * the parser builds a typical chat message with a single allocation, and freeing
 * a tree is one walk over a short chunk list. Names and namespaces that XMPP uses
 * all the time point at static interned strings instead of arena copies. */
#ifndef CANTO_XML_TREE_H
#define CANTO_XML_TREE_H

#include <stddef.h>
#include <stdint.h>

#include <canto/stanza.h>
#include "base/alloc.h"

typedef struct canto__chunk canto__chunk;

typedef struct canto__doc {
    unsigned refs;
    canto__alloc alloc;
    canto__chunk *chunks; /* newest first; the first chunk is allocated with the doc */
    size_t next_chunk;    /* size of the next chunk to allocate */
} canto__doc;

typedef struct canto__attr {
    const char *ns; /* NULL: no namespace */
    const char *name;
    const char *value;
    size_t value_len;
} canto__attr;

struct canto_stanza {
    canto__doc *doc;
    canto_stanza *parent, *prev, *next;
    canto_stanza *first, *last;
    unsigned char kind; /* canto_node_kind */
    uint32_t nattrs, attr_cap;
    uint32_t nchildren;
    const char *name;   /* elements */
    const char *ns;     /* elements; NULL: no namespace */
    canto__attr *attrs; /* elements */
    /* Text nodes: the characters. Elements: the joined text of the children,
     * cached by canto_stanza_text() and dropped whenever the children change. */
    const char *text;
    size_t text_len;
};

/* Attributes in the XML namespace are kept under their "xml:" prefixed name
 * with no namespace, so canto_stanza_attr(s, "xml:lang") finds them. */
#define CANTO__NS_XML "http://www.w3.org/XML/1998/namespace"

/* --- documents and arena ------------------------------------------------- */

/* A new document with one reference and a first chunk of @p first_chunk bytes
 * allocated together with it. NULL on allocation failure. */
canto__doc *canto__doc_new(const canto__alloc *alloc, size_t first_chunk);
void canto__doc_unref(canto__doc *doc);

/* Pointer-aligned arena memory; NULL on allocation failure. */
void *canto__arena_alloc(canto__doc *doc, size_t size);
/* Copy of s[0..len) with a NUL after it. */
char *canto__arena_strndup(canto__doc *doc, const char *s, size_t len);

/* --- interned names ------------------------------------------------------ */

/* The static copy of a common element/attribute name or namespace, or NULL. */
const char *canto__intern(const char *s, size_t len);
/* An interned copy when there is one, else an arena copy. */
const char *canto__arena_name(canto__doc *doc, const char *s, size_t len);

/* --- building (no validation: callers check their input) --------------- */

/* A new element appended to @p parent, or the root when @p parent is NULL (the
 * document's root reference is then the caller's). @p name and @p ns must already
 * live as long as the document (interned or arena strings). */
canto_stanza *canto__elem_new(canto__doc *doc, canto_stanza *parent, const char *name,
                              const char *ns);
/* Reserve room for @p n attributes on an element before adding them. */
int canto__elem_reserve_attrs(canto_stanza *elem, uint32_t n);
/* Append an attribute without checking for duplicates; strings must outlive the
 * document. */
int canto__elem_push_attr(canto_stanza *elem, const char *ns, const char *name, const char *value,
                          size_t value_len);
/* Append a text node holding a copy of text[0..len). */
canto_stanza *canto__text_new(canto_stanza *parent, const char *text, size_t len);

/* Detach a node from its parent and siblings. */
void canto__node_unlink(canto_stanza *node);
/* Insert a detached node before @p before (NULL: at the end of @p parent). */
void canto__node_link(canto_stanza *parent, canto_stanza *node, canto_stanza *before);
/* Deep copy of @p src into @p doc under @p parent (NULL: new root); namespaces
 * are carried as resolved values, so nothing changes meaning. */
canto_stanza *canto__node_copy(canto__doc *doc, canto_stanza *parent, const canto_stanza *src);

/* Serialize into an owned buffer (canto_free). @p parent_ns is the default
 * namespace in scope where the element will appear (NULL: none), so a stanza
 * written into a jabber:client stream omits the redundant declaration. */
int canto__serialize(const canto_stanza *node, const char *parent_ns, char **out, size_t *len);
/* The same, appended to @p b (check b->failed afterwards). */
struct canto__buf;
void canto__serialize_into(struct canto__buf *b, const canto_stanza *node, const char *parent_ns);
/* Append s[0..len) escaped for XML text (@p attr 0) or a quoted attribute value. */
void canto__xml_escape_into(struct canto__buf *b, const char *s, size_t len, int attr);

#endif
