/* libFuzzer target for the stream reader. The first byte picks the read size
 * and the second the options (small limits, a restart on <proceed/>); the rest
 * is fed as a stream. Every stanza must serialize to something that
 * canto_stanza_parse accepts. Nothing may crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <canto/canto.h>
#include "xml/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_state {
    canto__reader *r;
    int restart_on_proceed;
    int errors;
} fuzz_state;

static void on_open(void *ud, const canto_stanza *header)
{
    (void)ud;
    char *s = NULL;
    if (canto_stanza_to_string(header, &s, NULL) != 0)
        abort();
    canto_free(s);
}

static void on_stanza(void *ud, canto_stanza *stanza)
{
    fuzz_state *st = ud;
    char *s = NULL;
    size_t len = 0;
    if (canto_stanza_to_string(stanza, &s, &len) != 0)
        abort();
    /* Escaping can make the text longer than the input it came from. */
    if (len <= CANTO__READER_MAX_STANZA_BYTES) {
        canto_stanza *again = NULL;
        if (canto_stanza_parse(NULL, s, len, &again) != 0)
            abort();
        canto_stanza_free(again);
    }
    canto_free(s);
    if (st->restart_on_proceed && canto_stanza_is(stanza, "proceed", NULL)) {
        canto__reader_reset(st->r);
        st->errors = 0; /* the next stream may fail on its own */
    }
    canto_stanza_free(stanza);
}

static void on_error(void *ud, int code, const char *msg)
{
    fuzz_state *st = ud;
    if (code >= 0 || !msg || st->errors++)
        abort(); /* one error per stream, always a code */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t chunk = data[0] ? data[0] : 4096;
    uint8_t flags = data[1];
    data += 2;
    size -= 2;

    canto__reader_options opts = {0, 0, 0};
    if (flags & 1) {
        opts.max_stanza_bytes = 64 + (size_t)(flags >> 2) * 16;
        opts.max_depth = 1 + (flags >> 4);
    }
    fuzz_state st = {NULL, (flags & 2) != 0, 0};
    const canto__reader_events ev = {on_open, on_stanza, NULL, on_error};
    if (canto__reader_new(NULL, &opts, &ev, &st, &st.r) != 0)
        abort();

    int rc = 0;
    for (size_t off = 0; off < size && rc == 0;) {
        size_t n = size - off < chunk ? size - off : chunk;
        size_t used = 0;
        rc = canto__reader_feed(st.r, (const char *)data + off, n, &used);
        if (used > n)
            abort();
        off += rc ? n : used;
    }
    if (rc == 0)
        canto__reader_finish(st.r);
    canto__reader_free(st.r);
    return 0;
}
