#ifndef CANTO_STREAM_STREAM_ERROR_H
#define CANTO_STREAM_STREAM_ERROR_H

#include <canto/stanza.h>
#include <canto/stream.h>

#define CANTO__NS_STREAM_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"

typedef struct canto__stream_error_info {
    canto_stream_condition condition;
    const char *text;           /* borrowed from the element, or NULL */
    const char *see_other_host; /* borrowed, or NULL */
} canto__stream_error_info;

/* Read the children of a received <stream:error/>. A missing or foreign
 * condition reads as undefined-condition, so a peer cannot make an error look
 * like "no error". */
void canto__stream_error_read(const canto_stanza *err, canto__stream_error_info *info);

#endif
