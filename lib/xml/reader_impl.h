/* Private layout of the stream reader, shared by reader.c (life cycle and
 * feeding), reader_sax.c (libxml2 callbacks that build trees) and
 * reader_head.c (the first bytes of a stream). */
#ifndef CANTO_XML_READER_IMPL_H
#define CANTO_XML_READER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "xml/reader.h"
#include "xml/tree.h"

/* --- stream head --------------------------------------------------------- */

/* Longest XML declaration accepted; real ones are about 40 bytes. */
#define CANTO__HEAD_MAX 1024

/* Looks at the first bytes of a stream before libxml2 does, because libxml2
 * would act on them: switch to UTF-16 on a byte order mark or NUL bytes, or
 * convert from a declared encoding. The parser is told to ignore both; this
 * turns them into CANTO_EENCODING instead. */
typedef struct canto__head {
    unsigned char buf[CANTO__HEAD_MAX];
    size_t len;
    size_t skip; /* leading bytes not to give to libxml2 (a UTF-8 BOM) */
    int done;
} canto__head;

enum { CANTO__HEAD_MORE = 1 };

/* Take bytes of @p data into the head. Returns CANTO__HEAD_MORE (all of them
 * taken, still undecided), 0 (decided: give h->buf[h->skip..h->len) to the
 * parser, then data[*taken..len)), or an error code with a reason in *why. */
int canto__head_push(canto__head *h, const char *data, size_t len, size_t *taken, const char **why);

/* --- name cache ---------------------------------------------------------- */

/* libxml2 hands out names and namespace URIs as strings of its per-context
 * dictionary, so one pointer always means one string. Remembering the interned
 * copy per pointer saves strlen and the lookup on every element. Cleared
 * whenever the context (and so the dictionary) changes.
 *
 * Two-way set associative, most recently used first: a stream uses a few
 * dozen names, and with one slot per hash value two busy names that collide
 * would evict each other on every stanza. 64 sets of 2 slots (2 KiB) miss
 * about as rarely as 256 direct-mapped slots of 24 bytes (6 KiB) did; the
 * cache is per connection, so its size counts in the idle footprint. */
#define CANTO__NAME_SET_BITS 6
#define CANTO__NAME_SLOTS (2u << CANTO__NAME_SET_BITS)

typedef struct canto__name_slot {
    const xmlChar *key;
    const char *interned; /* NULL: not a common name, copy it into the arena */
} canto__name_slot;

/* --- the reader ---------------------------------------------------------- */

/* libxml2 2.9 checks attributes and namespace declarations with loops that
 * are quadratic in their number, and looks prefixes up through every
 * declaration in scope. Bounding one start tag and the declarations in scope
 * keeps a hostile stanza from costing seconds of CPU within the size limit;
 * real XMPP stays far below both. */
#define CANTO__READER_MAX_TAG_BYTES (32 * 1024)
#define CANTO__READER_MAX_NS_IN_SCOPE 256

struct canto__reader {
    canto__alloc alloc;
    canto__reader_events ev;
    void *ud;
    size_t max_bytes;
    unsigned max_depth;
    int fragment;
    unsigned top; /* libxml2 depth of a stanza root: 2 in a stream, 1 in a fragment */

    xmlParserCtxtPtr ctxt;
    /* Allocated while the first bytes of a stream are looked at, then freed:
     * an idle connection does not keep the buffer. */
    canto__head *head;
    size_t head_skip; /* head->skip, kept once the head is freed */
    int head_done;

    /* Positions count bytes given to libxml2 by the current context. */
    size_t fed;
    size_t mark;      /* where the current top-level item started, at the latest */
    size_t event_pos; /* just after the construct whose event is being delivered */
    size_t taken;     /* bytes accepted from the caller since the reset */
    size_t stop_pos;  /* event_pos of the event that asked for a reset */

    /* Tree under construction. */
    unsigned depth; /* libxml2 element depth; 0 outside the document element */
    canto_stanza *cur;
    char *text; /* character data not yet turned into a node */
    size_t text_len, text_cap;
    unsigned explicit_ns_depth; /* fragment: depth that declared a default ns, 0: none */
    unsigned ns_in_scope;       /* namespace declarations on the open elements */
    uint16_t *ns_declared;      /* per depth, max_depth + 2 entries */

    const char *client_ns; /* the interned "jabber:client" (fragment default) */
    const char *stream_ns; /* interned or stream_ns_buf */
    char *stream_ns_buf;

    int err;
    char err_msg[128];
    unsigned char in_callback; /* inside a user callback or xmlParseChunk */
    unsigned char reset_pending;
    unsigned char halted; /* ignore further libxml2 events of this context */
    unsigned char closed; /* stream element ended */

    canto__name_slot names[CANTO__NAME_SLOTS];
};

/* Offset in the context's input just past what libxml2 has parsed. */
static inline size_t canto__reader_pos(const canto__reader *r)
{
    const xmlParserInput *in = r->ctxt->input;
    return (size_t)in->consumed + (size_t)(in->cur - in->base);
}

/* The SAX2 handler table the reader's contexts are created with. */
extern const xmlSAXHandler canto__reader_sax;

/* Record the first error, stop listening to the context and tell the user.
 * @p stop: also call xmlStopParser (only safe from SAX content callbacks). */
void canto__reader_fail(canto__reader *r, int code, const char *msg, int stop);

/* Free the half-built stanza and pending text. */
void canto__reader_drop_tree(canto__reader *r);

#endif
