/* The stream element: the header we send and the checks on the peer's. */
#include <string.h>

#include "stream/stream_impl.h"
#include "xml/tree.h"

static void put_attr(canto__buf *b, const char *name, const char *value)
{
    canto__buf_puts(b, " ");
    canto__buf_puts(b, name);
    canto__buf_puts(b, "='");
    canto__xml_escape_into(b, value, strlen(value), 1);
    canto__buf_puts(b, "'");
}

void canto__stream_send_header(canto__stream *s)
{
    canto__buf b;
    canto__buf_init(&b, &s->alloc);
    canto__buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='" CANTO_NS_CLIENT
                        "' xmlns:stream='" CANTO_NS_STREAMS "' version='1.0' xml:lang='en'");
    if (s->role == CANTO__STREAM_RECEIVER) {
        char id[24];
        canto__stream_make_id(s, id, sizeof(id));
        put_attr(&b, "id", id);
    }
    if (s->domain)
        put_attr(&b, "to", s->domain);
    else if (s->role == CANTO__STREAM_RECEIVER && s->bound_jid)
        put_attr(&b, "to", s->bound_jid); /* RFC 6120 §4.7.2: answer the initiator's `from` */
    /* RFC 6120 §4.7.1: name ourselves only once the stream is protected, or on
     * a link-local stream where the name is all the peer has. */
    if (s->from && (s->tls_up || s->link_local))
        put_attr(&b, "from", s->from);
    canto__buf_puts(&b, ">");
    if (b.failed)
        s->out.failed = 1;
    else
        canto__stream_write(s, b.data, b.len);
    canto__buf_free(&b);
    if (s->role == CANTO__STREAM_INITIATOR) {
        s->ph = PH_AWAIT_HEADER;
        canto__stream_step_timer(s);
    } else {
        /* Ours is out, our features are next: a failure before them must
         * not send a second header. */
        s->ph = PH_AWAIT_FEATURES;
    }
}

canto_stream_condition canto__stream_check_header(canto__stream *s, const canto_stanza *hdr)
{
    if (!canto_stanza_is(hdr, "stream", CANTO_NS_STREAMS))
        return CANTO_STREAM_COND_INVALID_NAMESPACE;
    const char *dflt = canto__reader_stream_ns(s->reader);
    if (!dflt || strcmp(dflt, CANTO_NS_CLIENT) != 0)
        return CANTO_STREAM_COND_INVALID_NAMESPACE;
    const char *version = canto_stanza_attr(hdr, "version");
    if (!version)
        return s->link_local ? CANTO_STREAM_COND_NONE : CANTO_STREAM_COND_UNSUPPORTED_VERSION;
    /* "1.x" streams are compatible with 1.0 (RFC 6120 §4.7.5). */
    if (strncmp(version, "1.", 2) != 0)
        return CANTO_STREAM_COND_UNSUPPORTED_VERSION;
    return CANTO_STREAM_COND_NONE;
}
