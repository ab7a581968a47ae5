/* Stream reader life cycle and feeding: libxml2 contexts, size limits,
 * deferred resets and error state. The SAX callbacks are in reader_sax.c. */
#include "xml/reader_impl.h"

#include <pthread.h>
#include <string.h>

#include <canto/error.h>

/* libxml2 gets input in slices of at most this size, so a limit is noticed
 * soon after it is crossed however large the caller's chunk is. */
#define SLICE_MAX (16 * 1024)

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

static int new_context(canto__reader *r)
{
    xmlParserCtxtPtr ctxt =
        xmlCreatePushParserCtxt((xmlSAXHandlerPtr)&canto__reader_sax, r, NULL, 0, NULL);
    if (!ctxt)
        return CANTO_ENOMEM;
    /* NONET: never fetch anything. IGNORE_ENC: never convert from a declared
     * encoding (the stream head check refuses those). NOENT only makes
     * libxml2 hand over "&amp;" in attribute values as "&" rather than as
     * "&#38;" for a tree builder to decode: no other entity can exist, since
     * a DTD stops the parser before its first declaration and the entity
     * lookups answer nothing. Everything else off (no DTD loading, no
     * recovery), which also undoes process-wide defaults an application may
     * have changed. */
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC | XML_PARSE_NOENT);
    /* No guessing from the first bytes either: the input is UTF-8. */
    xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);
    r->ctxt = ctxt;
    return 0;
}

/* Forget the current stream: context, positions, tree, error. */
static void clear_stream(canto__reader *r)
{
    if (r->ctxt) {
        /* libxml2 builds a document of its own to keep entity declarations
         * in when a SAX user has none ("SAX compatibility mode"); the context
         * does not free it. */
        if (r->ctxt->myDoc)
            xmlFreeDoc(r->ctxt->myDoc);
        xmlFreeParserCtxt(r->ctxt);
        r->ctxt = NULL;
    }
    canto__reader_drop_tree(r);
    canto__dealloc(&r->alloc, r->stream_ns_buf);
    r->stream_ns_buf = NULL;
    r->stream_ns = NULL;
    canto__dealloc(&r->alloc, r->head);
    r->head = NULL;
    r->head_skip = 0;
    r->head_done = 0;
    r->fed = r->mark = r->event_pos = r->taken = r->stop_pos = 0;
    r->depth = 0;
    r->explicit_ns_depth = 0;
    r->ns_in_scope = 0;
    r->err = 0;
    r->err_msg[0] = '\0';
    r->reset_pending = r->halted = r->closed = 0;
    /* The new context has a new dictionary: cached pointers mean nothing. */
    memset(r->names, 0, sizeof(r->names));
}

static int start_stream(canto__reader *r)
{
    clear_stream(r);
    int rc = new_context(r);
    if (rc) {
        r->err = rc;
        r->halted = 1;
        strcpy(r->err_msg, "out of memory");
    }
    return rc;
}

int canto__reader_new(const canto__alloc *alloc, const canto__reader_options *opts,
                      const canto__reader_events *ev, void *ud, canto__reader **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (opts && opts->max_depth > CANTO__READER_DEPTH_LIMIT)
        return CANTO_EINVAL;
    canto__alloc a;
    if (alloc)
        a = *alloc;
    else
        canto__alloc_init(&a, NULL);
    pthread_once(&xml_once, xml_init);

    canto__reader *r = canto__calloc(&a, 1, sizeof(*r));
    if (!r)
        return CANTO_ENOMEM;
    r->alloc = a;
    if (ev)
        r->ev = *ev;
    r->ud = ud;
    r->max_bytes =
        opts && opts->max_stanza_bytes ? opts->max_stanza_bytes : CANTO__READER_MAX_STANZA_BYTES;
    r->max_depth = opts && opts->max_depth ? opts->max_depth : CANTO__READER_MAX_DEPTH;
    r->fragment = opts && opts->fragment;
    r->top = r->fragment ? 1 : 2;
    /* The same pointer a declared xmlns='jabber:client' gives, so comparisons
     * by pointer work for both. */
    r->client_ns = canto__intern(CANTO_NS_CLIENT, sizeof(CANTO_NS_CLIENT) - 1);
    if (!r->client_ns)
        r->client_ns = CANTO_NS_CLIENT;
    /* Deeper elements are refused before anything is stored for them. */
    r->ns_declared = canto__calloc(&a, (size_t)r->max_depth + 2, sizeof(uint16_t));
    if (!r->ns_declared || new_context(r)) {
        canto__dealloc(&a, r->ns_declared);
        canto__dealloc(&a, r);
        return CANTO_ENOMEM;
    }
    *out = r;
    return 0;
}

void canto__reader_free(canto__reader *r)
{
    if (!r)
        return;
    clear_stream(r);
    canto__dealloc(&r->alloc, r->text);
    canto__dealloc(&r->alloc, r->ns_declared);
    canto__alloc a = r->alloc;
    canto__dealloc(&a, r);
}

void canto__reader_fail(canto__reader *r, int code, const char *msg, int stop)
{
    if (r->halted)
        return;
    r->halted = 1;
    r->err = code;
    size_t n = strlen(msg);
    if (n >= sizeof(r->err_msg))
        n = sizeof(r->err_msg) - 1;
    memcpy(r->err_msg, msg, n);
    r->err_msg[n] = '\0';
    canto__reader_drop_tree(r);
    if (stop)
        xmlStopParser(r->ctxt);
    if (r->ev.error)
        r->ev.error(r->ud, code, r->err_msg);
}

int canto__reader_reset(canto__reader *r)
{
    if (!r)
        return CANTO_EINVAL;
    if (r->in_callback) {
        /* The context is still on the C stack: finish with it first. Only the
         * first reset's position counts; later events were not delivered. */
        if (!r->reset_pending) {
            r->reset_pending = 1;
            r->stop_pos = r->event_pos;
        }
        r->halted = 1;
        return 0;
    }
    return start_stream(r);
}

/* Give libxml2 one slice; returns 1 if the caller must stop feeding. */
static int push(canto__reader *r, const char *data, size_t len, int terminate)
{
    r->in_callback = 1;
    xmlParseChunk(r->ctxt, data, (int)len, terminate);
    r->in_callback = 0;
    r->fed += len;
    return r->halted;
}

/* After a push that asked to stop: a deferred reset, or an error. */
static int settle(canto__reader *r, size_t start_taken, size_t len, size_t *used)
{
    if (!r->reset_pending)
        return r->err;
    /* Bytes of this call up to the end of the event that asked for it. */
    size_t at = r->stop_pos + r->head_skip;
    size_t u = at > start_taken ? at - start_taken : 0;
    /* An error callback may have asked for the reset: this call still
     * failed, but the reader is ready for a new stream. */
    int err = r->err;
    if (used && !err)
        *used = u < len ? u : len;
    int rc = start_stream(r);
    if (rc && r->ev.error)
        r->ev.error(r->ud, rc, r->err_msg);
    return rc ? rc : err;
}

int canto__reader_feed(canto__reader *r, const char *data, size_t len, size_t *used)
{
    if (used)
        *used = 0;
    if (!r || (!data && len))
        return CANTO_EINVAL;
    if (r->in_callback)
        return CANTO_ESTATE;
    if (r->err)
        return r->err;

    size_t start_taken = r->taken;
    size_t off = 0;

    if (!r->head_done) {
        if (!r->head && !(r->head = canto__calloc(&r->alloc, 1, sizeof(*r->head)))) {
            canto__reader_fail(r, CANTO_ENOMEM, "out of memory", 0);
            return CANTO_ENOMEM;
        }
        size_t n = 0;
        const char *why = "";
        int rc = canto__head_push(r->head, data, len, &n, &why);
        off = n;
        r->taken += n;
        if (rc < 0) {
            canto__reader_fail(r, rc, why, 0);
            return rc;
        }
        if (rc == CANTO__HEAD_MORE) {
            if (used)
                *used = len;
            return 0;
        }
        r->head_done = 1;
        r->head_skip = r->head->skip;
        size_t hl = r->head->len - r->head->skip;
        if (hl > r->max_bytes) {
            canto__reader_fail(r, CANTO_ETOOBIG, "stream header too large", 0);
            return CANTO_ETOOBIG;
        }
        /* Callbacks cannot reach the head: a reset they ask for waits until
         * push() returns. */
        int stop = hl && push(r, (const char *)r->head->buf + r->head_skip, hl, 0);
        canto__dealloc(&r->alloc, r->head);
        r->head = NULL;
        if (stop)
            return settle(r, start_taken, len, used);
    }

    while (off < len) {
        /* libxml2 parses a start tag only once its '>' is there; don't let
         * one grow past the point where parsing it gets expensive. */
        if (r->ctxt->instate == XML_PARSER_START_TAG &&
            r->fed - canto__reader_pos(r) > CANTO__READER_MAX_TAG_BYTES) {
            canto__reader_fail(r, CANTO_ETOOBIG, "start tag too large", 0);
            return CANTO_ETOOBIG;
        }
        /* Everything since the mark is one top-level item (or the header):
         * never hand libxml2 more of it than the limit allows. */
        size_t pending = r->fed - r->mark;
        if (pending >= r->max_bytes) {
            canto__reader_fail(r, CANTO_ETOOBIG,
                               r->depth < r->top ? "stream header too large" : "stanza too large",
                               0);
            return CANTO_ETOOBIG;
        }
        size_t n = len - off;
        size_t room = r->max_bytes - pending;
        if (n > room)
            n = room;
        if (n > SLICE_MAX)
            n = SLICE_MAX;
        r->taken += n;
        int stop = push(r, data + off, n, 0);
        off += n;
        if (stop)
            return settle(r, start_taken, len, used);
    }
    if (used)
        *used = len;
    return 0;
}

int canto__reader_finish(canto__reader *r)
{
    if (!r)
        return CANTO_EINVAL;
    if (r->in_callback)
        return CANTO_ESTATE;
    if (r->err)
        return r->err;
    if (!r->head_done) {
        /* Fewer bytes than it took to decide: hand over what there is. */
        r->head_done = 1;
        int stop = 0;
        if (r->head) {
            r->head_skip = r->head->skip;
            size_t hl = r->head->len - r->head->skip;
            stop = hl && push(r, (const char *)r->head->buf + r->head_skip, hl, 0);
            canto__dealloc(&r->alloc, r->head);
            r->head = NULL;
        }
        if (stop)
            return settle(r, r->taken, 0, NULL);
    }
    if (push(r, NULL, 0, 1))
        return settle(r, r->taken, 0, NULL);
    if (!r->fragment && !r->closed) {
        canto__reader_fail(r, CANTO_EXML, "stream not closed", 0);
        return CANTO_EXML;
    }
    return 0;
}

const char *canto__reader_error(const canto__reader *r)
{
    return r ? r->err_msg : "";
}

const char *canto__reader_stream_ns(const canto__reader *r)
{
    return r ? r->stream_ns : NULL;
}
