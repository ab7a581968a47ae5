/* Inbound parsing cost: the Canto stream reader (trees, limits, restricted-XML
 * checks) against a bare libxml2 SAX2 push parse that only counts elements,
 * over the same stream of chat messages fed in 4 KiB reads.
 *
 * usage: parse_bench [messages (default 1000000)] [rounds (default 3)] [canto|bare]
 * The third argument runs one side only, for profiling. Times are the thread's
 * CPU time, so other processes on a busy machine disturb them less.
 * Exits 1 if the two sides did not see the same number of messages. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include <canto/canto.h>
#include "xml/reader.h"

#define CHUNK 4096

/* --- the input ------------------------------------------------------------ */

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint32_t rnd(void)
{
    /* xorshift64*: reproducible and fast; quality is irrelevant here. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static const char *const words[] = {
    "hello",    "are",     "you",       "coming", "tonight",     "the",
    "meeting",  "moved",   "to",        "room",   "B",           "see",
    "ya",       "ok",      "thanks",    "lunch",  "maybe",       "later",
    "&amp;",    "&lt;3",   "&gt;",      "&quot;", "caf\xc3\xa9", "\xf0\x9f\x98\x80",
    "Montague", "balcony", "wherefore", "art",
};

typedef struct text {
    char *data;
    size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->len + n > t->cap) {
        t->cap = (t->len + n) * 2;
        t->data = realloc(t->data, t->cap);
        if (!t->data) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
}

static void putf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(text *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    put(t, buf, (size_t)n);
}

static void put_message(text *t, unsigned i)
{
    uint32_t a = rnd(), b = rnd(), c = rnd(), d = rnd();
    putf(t,
         "<message from='user%u@example.org/%04x' to='juliet@example.com/home' "
         "type='chat' id='msg-%08x'><body>",
         a % 5000, b & 0xffff, i);
    unsigned nwords = 2 + rnd() % 7;
    for (unsigned w = 0; w < nwords; w++) {
        const char *word = words[rnd() % (sizeof(words) / sizeof(words[0]))];
        if (w)
            put(t, " ", 1);
        put(t, word, strlen(word));
    }
    putf(t,
         "</body><thread>%08x%08x</thread><active "
         "xmlns='http://jabber.org/protocol/chatstates'/><origin-id xmlns='urn:xmpp:sid:0' "
         "id='%08x-%04x-4%03x'/><stanza-id xmlns='urn:xmpp:sid:0' id='%08x-%04x' "
         "by='juliet@example.com'/></message>",
         c, d, a, b & 0xffff, c & 0xfff, d, a & 0xffff);
    if (i % 64 == 63)
        put(t, " ", 1); /* a keepalive now and then */
}

static text make_stream(unsigned n)
{
    text t = {NULL, 0, 0};
    const char *hdr = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                      "xmlns:stream='http://etherx.jabber.org/streams' "
                      "id='bench' from='example.com' version='1.0' xml:lang='en'>";
    put(&t, hdr, strlen(hdr));
    for (unsigned i = 0; i < n; i++)
        put_message(&t, i);
    put(&t, "</stream:stream>", 16);
    return t;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- bare libxml2 ---------------------------------------------------------- */

typedef struct bare_count {
    unsigned depth;
    unsigned long messages;
} bare_count;

static void bare_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri,
                       int nb_ns, const xmlChar **ns, int nb_attrs, int nb_defaulted,
                       const xmlChar **attrs)
{
    (void)local, (void)prefix, (void)uri, (void)nb_ns, (void)ns;
    (void)nb_attrs, (void)nb_defaulted, (void)attrs;
    bare_count *c = ctx;
    if (c->depth++ == 1)
        c->messages++;
}

static void bare_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
    (void)local, (void)prefix, (void)uri;
    ((bare_count *)ctx)->depth--;
}

static unsigned long run_bare(const text *in)
{
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof(sax));
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = bare_start;
    sax.endElementNs = bare_end;
    bare_count c = {0, 0};
    xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, &c, NULL, 0, NULL);
    for (size_t off = 0; off < in->len; off += CHUNK) {
        size_t n = in->len - off < CHUNK ? in->len - off : CHUNK;
        xmlParseChunk(ctxt, in->data + off, (int)n, 0);
    }
    xmlFreeParserCtxt(ctxt);
    return c.messages;
}

/* --- Canto ----------------------------------------------------------------- */

static void on_stanza(void *ud, canto_stanza *stanza)
{
    if (canto_stanza_is(stanza, "message", NULL))
        (*(unsigned long *)ud)++;
    canto_stanza_free(stanza);
}

static void on_error(void *ud, int code, const char *msg)
{
    (void)ud;
    fprintf(stderr, "reader error %d: %s\n", code, msg);
}

static unsigned long run_canto(const text *in)
{
    unsigned long messages = 0;
    canto__reader_events ev = {NULL, on_stanza, NULL, on_error};
    canto__reader *r;
    if (canto__reader_new(NULL, NULL, &ev, &messages, &r))
        return 0;
    for (size_t off = 0; off < in->len; off += CHUNK) {
        size_t n = in->len - off < CHUNK ? in->len - off : CHUNK;
        if (canto__reader_feed(r, in->data + off, n, NULL))
            break;
    }
    canto__reader_free(r);
    return messages;
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000000u;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    const char *only = argc > 3 ? argv[3] : "";
    int do_bare = strcmp(only, "canto") != 0, do_canto = strcmp(only, "bare") != 0;
    if (n == 0 || rounds < 1) {
        fprintf(stderr, "usage: %s [messages] [rounds] [canto|bare]\n", argv[0]);
        return 2;
    }
    xmlInitParser();
    text in = make_stream(n);

    double best_bare = 1e30, best_canto = 1e30;
    unsigned long seen_bare = 0, seen_canto = 0;
    for (int i = 0; i < rounds; i++) {
        double t0 = now_s();
        seen_bare = do_bare ? run_bare(&in) : n;
        double t1 = now_s();
        seen_canto = do_canto ? run_canto(&in) : n;
        double t2 = now_s();
        if (t1 - t0 < best_bare)
            best_bare = t1 - t0;
        if (t2 - t1 < best_canto)
            best_canto = t2 - t1;
    }

    double mb = (double)in.len / 1e6;
    printf("stream: %u messages, %.1f MB, %d-byte reads, best of %d rounds\n", n, mb, CHUNK,
           rounds);
    printf("bare libxml2 SAX2: %8.3f s %10.0f msg/s %7.1f MB/s  saw %lu messages\n", best_bare,
           n / best_bare, mb / best_bare, seen_bare);
    printf("canto reader:      %8.3f s %10.0f msg/s %7.1f MB/s  saw %lu messages\n", best_canto,
           n / best_canto, mb / best_canto, seen_canto);
    printf("ratio canto/bare:  %.2f\n", best_canto / best_bare);
    free(in.data);
    if (seen_bare != n || seen_canto != n) {
        fprintf(stderr, "message counts differ: expected %u\n", n);
        return 1;
    }
    return 0;
}
