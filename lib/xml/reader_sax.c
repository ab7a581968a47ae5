/* libxml2 SAX2 callbacks: element events become canto_stanza trees, restricted
 * XML becomes an error. This is the inbound hot path: no per-node malloc (the
 * tree lives in one arena per stanza), names come from the interning table
 * through a per-context pointer cache, and lengths come from libxml2. */
#include "xml/reader_impl.h"

#include <string.h>

#include <canto/error.h>
#include "base/utf8.h"

/* Called only from element callbacks, where libxml2 checks for a stop as soon
 * as the callback returns. */
static void stop_if_needed(canto__reader *r)
{
    if (r->halted)
        xmlStopParser(r->ctxt);
}

static const char *name_of(canto__reader *r, canto__doc *doc, const xmlChar *s)
{
    uintptr_t h = (uintptr_t)s * (uintptr_t)0x9E3779B97F4A7C15ull;
    canto__name_slot *set = &r->names[2 * (h >> (sizeof(uintptr_t) * 8 - CANTO__NAME_SET_BITS))];
    if (set[0].key != s) {
        canto__name_slot hit = set[1];
        if (hit.key != s) {
            hit.key = s;
            hit.interned = canto__intern((const char *)s, strlen((const char *)s));
        }
        set[1] = set[0];
        set[0] = hit;
    }
    if (set[0].interned)
        return set[0].interned;
    return canto__arena_strndup(doc, (const char *)s, strlen((const char *)s));
}

/* Attributes in the XML namespace are stored as "xml:NAME" with no namespace,
 * the form canto_stanza_attr(s, "xml:lang") looks for. */
static const char *xml_attr_name(canto__doc *doc, const xmlChar *local)
{
    size_t len = strlen((const char *)local);
    if (len == 4 && memcmp(local, "lang", 4) == 0)
        return canto__intern("xml:lang", 8);
    char *s = canto__arena_alloc(doc, len + 5);
    if (s) {
        memcpy(s, "xml:", 4);
        memcpy(s + 4, local, len + 1);
    }
    return s;
}

static int add_attrs(canto__reader *r, canto_stanza *e, int n, const xmlChar **a)
{
    canto__doc *doc = e->doc;
    if (canto__elem_reserve_attrs(e, (uint32_t)n))
        return CANTO_ENOMEM;
    /* Five pointers per attribute: local name, prefix, URI, value, value end. */
    for (int i = 0; i < n; i++, a += 5) {
        const char *ns = NULL, *name;
        if (!a[2]) {
            name = name_of(r, doc, a[0]);
        } else {
            ns = name_of(r, doc, a[2]);
            if (ns && strcmp(ns, CANTO__NS_XML) == 0) {
                ns = NULL;
                name = xml_attr_name(doc, a[0]);
            } else {
                name = ns ? name_of(r, doc, a[0]) : NULL;
            }
        }
        size_t len = (size_t)(a[4] - a[3]);
        const char *value = canto__arena_strndup(doc, (const char *)a[3], len);
        if (!name || !value)
            return CANTO_ENOMEM;
        e->attrs[e->nattrs++] = (canto__attr){ns, name, value, len};
    }
    return 0;
}

static int flush_text(canto__reader *r)
{
    if (r->text_len == 0)
        return 0;
    canto_stanza *t = canto__text_new(r->cur, r->text, r->text_len);
    r->text_len = 0;
    return t ? 0 : CANTO_ENOMEM;
}

void canto__reader_drop_tree(canto__reader *r)
{
    if (r->cur)
        canto_stanza_free(r->cur); /* any node releases the whole tree */
    r->cur = NULL;
    r->text_len = 0;
}

/* Fragment mode: an element with no namespace is in jabber:client unless an
 * ancestor (or itself) declared a default namespace, possibly xmlns=''. */
static void track_default_ns(canto__reader *r, unsigned depth, int nb_ns, const xmlChar **ns)
{
    if (r->explicit_ns_depth)
        return;
    for (int i = 0; i < nb_ns; i++) {
        if (!ns[2 * i]) {
            r->explicit_ns_depth = depth;
            return;
        }
    }
}

static void open_stream(canto__reader *r, const xmlChar *local, const xmlChar *uri, int nb_ns,
                        const xmlChar **ns, int nb_attrs, const xmlChar **attrs)
{
    for (int i = 0; i < nb_ns; i++) {
        if (ns[2 * i] || !ns[2 * i + 1])
            continue;
        size_t len = strlen((const char *)ns[2 * i + 1]);
        r->stream_ns = canto__intern((const char *)ns[2 * i + 1], len);
        if (!r->stream_ns) {
            r->stream_ns_buf = canto__strndup(&r->alloc, (const char *)ns[2 * i + 1], len);
            r->stream_ns = r->stream_ns_buf;
        }
        if (!r->stream_ns) {
            canto__reader_fail(r, CANTO_ENOMEM, "out of memory", 1);
            return;
        }
    }

    canto__doc *doc = canto__doc_new(&r->alloc, 512);
    if (!doc) {
        canto__reader_fail(r, CANTO_ENOMEM, "out of memory", 1);
        return;
    }
    const char *name = name_of(r, doc, local);
    const char *nsv = uri ? name_of(r, doc, uri) : NULL;
    canto_stanza *h = name && (nsv || !uri) ? canto__elem_new(doc, NULL, name, nsv) : NULL;
    if (!h || add_attrs(r, h, nb_attrs, attrs)) {
        canto__doc_unref(doc);
        canto__reader_fail(r, CANTO_ENOMEM, "out of memory", 1);
        return;
    }

    /* libxml2 reports the start tag before consuming its closing "/>" or ">". */
    const xmlChar *cur = r->ctxt->input->cur;
    r->event_pos = canto__reader_pos(r) + (cur[0] == '/' ? 2 : 1);
    r->mark = r->event_pos;
    if (r->ev.stream_open)
        r->ev.stream_open(r->ud, h);
    canto__doc_unref(doc);
}

static void on_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri,
                     int nb_ns, const xmlChar **ns, int nb_attrs, int nb_defaulted,
                     const xmlChar **attrs)
{
    (void)prefix;
    (void)nb_defaulted; /* no DTD, so never any */
    canto__reader *r = ctx;
    if (r->halted) {
        /* Halted from a callback where stopping libxml2 was not safe. */
        xmlStopParser(r->ctxt);
        return;
    }
    unsigned depth = ++r->depth;
    r->ns_in_scope += (unsigned)nb_ns;
    if (depth <= r->max_depth + 1)
        r->ns_declared[depth] = (uint16_t)nb_ns;
    if (r->ns_in_scope > CANTO__READER_MAX_NS_IN_SCOPE) {
        canto__reader_fail(r, CANTO_ETOOBIG, "too many namespace declarations", 1);
        return;
    }
    if (depth < r->top) {
        open_stream(r, local, uri, nb_ns, ns, nb_attrs, attrs);
        stop_if_needed(r);
        return;
    }
    if (depth - r->top >= r->max_depth) {
        canto__reader_fail(r, CANTO_ETOODEEP, "elements nested too deeply", 1);
        return;
    }

    canto__doc *doc;
    if (depth == r->top) {
        doc = canto__doc_new(&r->alloc, 2048);
        if (!doc)
            goto nomem;
    } else {
        if (flush_text(r))
            goto nomem;
        doc = r->cur->doc;
    }

    const char *name = name_of(r, doc, local);
    const char *nsv = NULL;
    if (r->fragment)
        track_default_ns(r, depth, nb_ns, ns);
    if (uri)
        nsv = name_of(r, doc, uri);
    else if (r->fragment && !r->explicit_ns_depth)
        nsv = r->client_ns;
    canto_stanza *e = name && (nsv || !uri) ? canto__elem_new(doc, r->cur, name, nsv) : NULL;
    if (!e) {
        if (depth == r->top)
            canto__doc_unref(doc);
        goto nomem;
    }
    r->cur = e;
    if (nb_attrs && add_attrs(r, e, nb_attrs, attrs))
        goto nomem;
    return;

nomem:
    canto__reader_fail(r, CANTO_ENOMEM, "out of memory", 1);
}

static void on_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
    (void)local;
    (void)prefix;
    (void)uri;
    canto__reader *r = ctx;
    if (r->halted) {
        xmlStopParser(r->ctxt);
        return;
    }
    unsigned depth = r->depth--;
    r->ns_in_scope -= r->ns_declared[depth];
    if (depth < r->top) {
        r->event_pos = r->mark = canto__reader_pos(r);
        r->closed = 1;
        if (r->ev.stream_close)
            r->ev.stream_close(r->ud);
        stop_if_needed(r);
        return;
    }
    if (flush_text(r)) {
        canto__reader_fail(r, CANTO_ENOMEM, "out of memory", 1);
        return;
    }
    if (r->explicit_ns_depth == depth)
        r->explicit_ns_depth = 0;
    if (depth > r->top) {
        r->cur = r->cur->parent;
        return;
    }
    canto_stanza *root = r->cur;
    r->cur = NULL;
    r->event_pos = r->mark = canto__reader_pos(r);
    if (r->ev.stanza)
        r->ev.stanza(r->ud, root);
    else
        canto_stanza_free(root);
    stop_if_needed(r);
}

static int all_blank(const xmlChar *s, int len)
{
    for (int i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

static void on_text(void *ctx, const xmlChar *s, int len)
{
    canto__reader *r = ctx;
    if (r->halted || len <= 0)
        return;
    if (r->depth < r->top) {
        /* Between stanzas only whitespace keepalives are allowed. They end
         * the previous item, so idle keepalives never add up to a limit. */
        if (!all_blank(s, len)) {
            canto__reader_fail(r, CANTO_EXML, "character data between stanzas", 0);
            return;
        }
        r->mark = canto__reader_pos(r);
        return;
    }
    /* libxml2 cuts character data at chunk edges and entity references, in
     * different places for different chunkings: collect it into one node. */
    size_t need = r->text_len + (size_t)len;
    if (need > r->text_cap) {
        size_t cap = r->text_cap ? r->text_cap : 256;
        while (cap < need)
            cap *= 2;
        char *t = canto__realloc(&r->alloc, r->text, cap);
        if (!t) {
            canto__reader_fail(r, CANTO_ENOMEM, "out of memory", 0);
            return;
        }
        r->text = t;
        r->text_cap = cap;
    }
    memcpy(r->text + r->text_len, s, (size_t)len);
    r->text_len = need;
}

static void on_cdata(void *ctx, const xmlChar *s, int len)
{
    /* libxml2 2.9 checks CDATA sections more loosely than other text: it lets
     * overlong UTF-8 through. It cuts blocks on character boundaries, so each
     * one can be checked on its own. */
    if (len > 0 && canto__xml_text_check((const char *)s, (size_t)len) != 0) {
        canto__reader_fail(ctx, CANTO_EXML, "invalid UTF-8 in a CDATA section", 0);
        return;
    }
    on_text(ctx, s, len);
}

/* --- restricted XML (RFC 6120 §11.1) ------------------------------------- */

static void on_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id,
                   const xmlChar *system_id)
{
    (void)name;
    (void)external_id;
    (void)system_id;
    canto__reader *r = ctx;
    /* Stopping here, before the internal subset is read, means no entity is
     * ever declared, let alone expanded or fetched: also when an earlier
     * error only made the reader stop listening. */
    canto__reader_fail(r, CANTO_ERESTRICTED, "document type declaration", 0);
    xmlStopParser(r->ctxt);
}

static xmlEntityPtr on_entity(void *ctx, const xmlChar *name)
{
    (void)name;
    /* The five predefined entities never get here. */
    canto__reader_fail(ctx, CANTO_ERESTRICTED, "entity reference", 0);
    return NULL;
}

static xmlParserInputPtr on_resolve(void *ctx, const xmlChar *public_id, const xmlChar *system_id)
{
    (void)public_id;
    (void)system_id;
    canto__reader_fail(ctx, CANTO_ERESTRICTED, "external entity", 0);
    return NULL;
}

static void on_reference(void *ctx, const xmlChar *name)
{
    (void)name;
    canto__reader_fail(ctx, CANTO_ERESTRICTED, "entity reference", 0);
}

static void on_comment(void *ctx, const xmlChar *value)
{
    (void)value;
    canto__reader_fail(ctx, CANTO_ERESTRICTED, "comment", 0);
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    (void)target;
    (void)data;
    canto__reader_fail(ctx, CANTO_ERESTRICTED, "processing instruction", 0);
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content)
{
    (void)name;
    (void)type;
    (void)public_id;
    (void)system_id;
    (void)content;
    canto__reader_fail(ctx, CANTO_ERESTRICTED, "entity declaration", 0);
}

/* --- libxml2 errors ------------------------------------------------------ */

static int map_error(int code)
{
    switch (code) {
    case XML_ERR_NO_MEMORY:
        return CANTO_ENOMEM;
    case XML_ERR_UNKNOWN_ENCODING:
    case XML_ERR_UNSUPPORTED_ENCODING:
        return CANTO_EENCODING;
    case XML_ERR_UNDECLARED_ENTITY:
    case XML_WAR_UNDECLARED_ENTITY:
    case XML_ERR_UNPARSED_ENTITY:
    case XML_ERR_ENTITY_IS_EXTERNAL:
    case XML_ERR_ENTITY_IS_PARAMETER:
    case XML_ERR_ENTITY_LOOP:
    case XML_ERR_ENTITY_BOUNDARY:
    case XML_ERR_ENTITY_PROCESSING:
    case XML_ERR_DOCTYPE_NOT_FINISHED:
        return CANTO_ERESTRICTED;
    default:
        return CANTO_EXML;
    }
}

static void on_error(void *ctx, xmlErrorPtr e)
{
    canto__reader *r = ctx;
    /* Warnings (an unknown XML version, a relative namespace URI) do not make
     * the document unusable; namespace errors (level ERROR) do. */
    if (!e || e->level < XML_ERR_ERROR || r->halted)
        return;
    char msg[sizeof(r->err_msg)];
    const char *m = e->message ? e->message : "not well-formed";
    size_t n = strlen(m);
    if (n >= sizeof(msg))
        n = sizeof(msg) - 1;
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    memcpy(msg, m, n);
    msg[n] = '\0';
    /* libxml2 may still be inside a construct whose input it holds: stopping
     * it from here is unsafe. The context is just ignored from now on. */
    canto__reader_fail(r, map_error(e->code), msg, 0);
}

const xmlSAXHandler canto__reader_sax = {
    .internalSubset = on_dtd,
    .externalSubset = on_dtd,
    .resolveEntity = on_resolve,
    .getEntity = on_entity,
    .getParameterEntity = on_entity,
    .entityDecl = on_entity_decl,
    .reference = on_reference,
    .characters = on_text,
    .ignorableWhitespace = on_text,
    .cdataBlock = on_cdata,
    .processingInstruction = on_pi,
    .comment = on_comment,
    .initialized = XML_SAX2_MAGIC,
    .startElementNs = on_start,
    .endElementNs = on_end,
    .serror = on_error,
};
