/* canto_stanza_parse: one element from a string, through a fragment-mode
 * reader so that strings get exactly the checks and limits a stream gets. */
#include "xml/reader.h"

#include <string.h>

#include <canto/error.h>

typedef struct parse_result {
    canto_stanza *root;
} parse_result;

static void on_stanza(void *ud, canto_stanza *stanza)
{
    parse_result *res = ud;
    /* libxml2 refuses a second document element before it could arrive. */
    if (res->root)
        canto_stanza_free(res->root);
    res->root = stanza;
}

int canto_stanza_parse(const canto_allocator *alloc, const char *xml, size_t len,
                       canto_stanza **out)
{
    if (out)
        *out = NULL;
    canto__alloc a;
    if (!xml || !out || canto__alloc_init(&a, alloc))
        return CANTO_EINVAL;
    if (len == (size_t)-1)
        len = strlen(xml);
    if (len > CANTO__READER_MAX_STANZA_BYTES)
        return CANTO_ETOOBIG;

    parse_result res = {NULL};
    const canto__reader_events ev = {.stanza = on_stanza};
    const canto__reader_options opts = {.fragment = 1};
    canto__reader *r;
    int rc = canto__reader_new(&a, &opts, &ev, &res, &r);
    if (rc)
        return rc;
    rc = canto__reader_feed(r, xml, len, NULL);
    if (rc == 0)
        rc = canto__reader_finish(r);
    canto__reader_free(r);
    if (rc == 0 && !res.root)
        rc = CANTO_EXML;
    if (rc) {
        canto_stanza_free(res.root);
        return rc;
    }
    *out = res.root;
    return 0;
}
