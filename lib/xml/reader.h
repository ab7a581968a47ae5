/* Stream reader: bytes in, XMPP events out.
 *
 * A sans-I/O wrapper around the libxml2 SAX2 push parser. The caller hands it
 * whatever bytes arrived, in chunks of any size; it reports the stream header,
 * each complete top-level element (stanza, stream features, stream error...) as
 * a canto_stanza tree, the end of the stream, and the first error. It enforces
 * RFC 6120 §11 restricted XML (no DTD, comment, processing instruction or entity
 * other than the five predefined; UTF-8 only) and its own size and depth
 * limits, so hostile input is refused early and with bounded memory. Nothing is
 * ever loaded from the network or the file system.
 *
 * The events, and the trees they carry, are identical however the input is cut
 * into chunks. The reader does not check that the document element is
 * <stream:stream/> or what it declares: that is the stream layer's business.
 *
 * Callbacks:
 * - may call canto__reader_reset() (a stream restart after <proceed/> or SASL
 *   <success/>): the reset happens when the callback returns, no further event
 *   of the old stream is delivered, and canto__reader_feed() returns at once
 *   with *used telling how many bytes of its input belonged to the old stream
 *   (up to the end of the element whose event asked for the reset). The caller
 *   decides what the rest means; it is not parsed. After <proceed/> any such
 *   bytes were sent before TLS and must not be trusted.
 * - must not call canto__reader_feed(), canto__reader_finish() or
 *   canto__reader_free() on the same reader (feed returns CANTO_ESTATE).
 *
 * Threads: a reader is used by one thread at a time; readers are independent.
 */
#ifndef CANTO_XML_READER_H
#define CANTO_XML_READER_H

#include <stddef.h>

#include <canto/stanza.h>
#include "base/alloc.h"

typedef struct canto__reader canto__reader;

/* Defaults used where an option is 0. */
#define CANTO__READER_MAX_STANZA_BYTES ((size_t)1 << 20)
#define CANTO__READER_MAX_DEPTH 64u
/* Largest max_depth accepted. */
#define CANTO__READER_DEPTH_LIMIT 4096u

typedef struct canto__reader_options {
    /* Largest top-level element, counted in input bytes from the end of the
     * previous one (so whitespace before it counts, except keepalives that
     * arrived on their own); also bounds the stream header. 0: 1 MiB. */
    size_t max_stanza_bytes;
    /* Deepest element nesting inside a stanza; the stanza element itself is at
     * depth 1. 0: 64; at most CANTO__READER_DEPTH_LIMIT. Independently of the
     * options, a start tag may not exceed 32 KiB and at most 256 namespace
     * declarations may be in scope (CANTO_ETOOBIG). */
    unsigned max_depth;
    /* Non-zero: no stream wrapper. The input is one element (the "stanza"),
     * an element without a namespace declaration in scope is in jabber:client,
     * and canto__reader_finish() marks the end of the input. Used by
     * canto_stanza_parse(). */
    int fragment;
} canto__reader_options;

typedef struct canto__reader_events {
    /* The stream header: an element without children that has the header's
     * name, namespace and attributes (to, from, id, version, xml:lang...).
     * Borrowed: valid during the call; canto_stanza_ref() it to keep it. The
     * default namespace the header declared is canto__reader_stream_ns(). */
    void (*stream_open)(void *ud, const canto_stanza *header);
    /* One complete top-level element. The callee owns the tree and must
     * canto_stanza_free() it. NULL: the reader frees it. */
    void (*stanza)(void *ud, canto_stanza *stanza);
    /* The end tag of the stream element. */
    void (*stream_close)(void *ud);
    /* The first error; later input is refused with the same code until
     * canto__reader_reset(). @p code is CANTO_EXML, CANTO_ERESTRICTED,
     * CANTO_ETOOBIG, CANTO_ETOODEEP, CANTO_EENCODING or CANTO_ENOMEM; @p msg a
     * short English reason, valid during the call (canto__reader_error() keeps
     * it until the reset). */
    void (*error)(void *ud, int code, const char *msg);
} canto__reader_events;

/* Create a reader. @p alloc NULL: libc. @p opts NULL: all defaults. @p ev is
 * copied; any callback may be NULL. @p ud is passed to every callback.
 * Returns 0, CANTO_EINVAL, CANTO_ENOMEM. */
int canto__reader_new(const canto__alloc *alloc, const canto__reader_options *opts,
                      const canto__reader_events *ev, void *ud, canto__reader **out);

/* Parse @p len more bytes. Returns 0 or the error code (also reported through
 * the error callback, once). @p used (may be NULL) receives how many bytes were
 * taken: @p len, unless a callback reset the reader (see above); 0 on error.
 * Returns CANTO_ESTATE when called from inside a callback. */
int canto__reader_feed(canto__reader *r, const char *data, size_t len, size_t *used);

/* The input is complete (fragment mode): reports CANTO_EXML if the element is
 * unfinished or followed by anything but whitespace. In stream mode it checks
 * that the stream was closed. Returns 0 or the error code. */
int canto__reader_finish(canto__reader *r);

/* Start over for a new stream with a fresh libxml2 context, the same options
 * and callbacks; clears the error and drops any half-built stanza. From inside
 * a callback the reset is deferred until the callback returns. Returns 0 or
 * CANTO_ENOMEM (the reader then reports CANTO_ENOMEM until reset again). */
int canto__reader_reset(canto__reader *r);

/* NULL is allowed. Never from inside a callback. */
void canto__reader_free(canto__reader *r);

/* The first error's message, or "" when there was none. */
const char *canto__reader_error(const canto__reader *r);

/* The default namespace declared on the stream header ("jabber:client"...),
 * or NULL before the header or when it declared none. Valid until reset. */
const char *canto__reader_stream_ns(const canto__reader *r);

#endif
