/* Stream reader and canto_stanza_parse: chunking independence, restricted XML,
 * limits with bounded memory, stream restarts, allocation failures. */
#include "check.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <canto/canto.h>
#include "xml/reader.h"
#include "xml/tree.h"

#define NS_STREAM_DECL "xmlns:stream='http://etherx.jabber.org/streams'"
#define HDR                                                                                        \
    "<stream:stream xmlns='jabber:client' " NS_STREAM_DECL " to='example.org' version='1.0'>"

/* ------------------------------------------------------------------------- */
/* Counting allocator: live bytes, peak and a failure trigger. */

typedef struct counter {
    size_t live, peak;
    long allocs, frees;
    long fail_after; /* -1: never fail; else number of allocations that succeed */
} counter;

typedef union hdr {
    size_t size;
    max_align_t align;
} hdr;

static void *cnt_alloc(void *ud, size_t n)
{
    counter *c = ud;
    if (c->fail_after >= 0 && c->allocs >= c->fail_after)
        return NULL;
    hdr *h = malloc(sizeof(hdr) + n);
    if (!h)
        return NULL;
    h->size = n;
    c->allocs++;
    c->live += n;
    if (c->live > c->peak)
        c->peak = c->live;
    return h + 1;
}

static void cnt_free(void *ud, void *p)
{
    counter *c = ud;
    if (!p)
        return;
    hdr *h = (hdr *)p - 1;
    c->frees++;
    c->live -= h->size;
    free(h);
}

static void *cnt_realloc(void *ud, void *p, size_t n)
{
    counter *c = ud;
    if (!p)
        return cnt_alloc(ud, n);
    if (c->fail_after >= 0 && c->allocs >= c->fail_after)
        return NULL;
    hdr *h = (hdr *)p - 1;
    size_t old = h->size;
    hdr *nh = realloc(h, sizeof(hdr) + n);
    if (!nh)
        return NULL;
    nh->size = n;
    c->live = c->live - old + n;
    if (c->live > c->peak)
        c->peak = c->live;
    return nh + 1;
}

static canto_allocator counting(counter *c)
{
    canto_allocator a = CANTO_ALLOCATOR_INIT;
    a.alloc = cnt_alloc;
    a.realloc = cnt_realloc;
    a.free = cnt_free;
    a.user_data = c;
    return a;
}

static canto__alloc internal_alloc(counter *c)
{
    canto_allocator user = counting(c);
    canto__alloc a;
    canto__alloc_init(&a, &user);
    return a;
}

/* Heap in use by the whole process (libxml2 included); 0 where a tool
 * replaces malloc, which makes the bound trivially true there. */
static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------- */
/* Event recorder: every event as a line of text. */

#define KEEP_MAX 32

typedef struct recorder {
    canto__reader *r;
    char *log;
    size_t len, cap;
    int errors, last_error;
    const char *reset_on; /* a stanza of this name resets the reader from the callback */
    int reset_on_open, reset_on_error, feed_inside;
    int inner_feed_rc;
    canto_stanza *kept[KEEP_MAX];
    int nkept, keep;
    char header_lang[16];
    char stream_ns[32];
} recorder;

static void rec_add(recorder *rec, const char *kind, const char *text)
{
    size_t need = rec->len + strlen(kind) + (text ? strlen(text) + 1 : 0) + 2;
    if (need > rec->cap) {
        rec->cap = need * 2;
        rec->log = realloc(rec->log, rec->cap);
        if (!rec->log)
            abort();
    }
    rec->len +=
        (size_t)sprintf(rec->log + rec->len, "%s%s%s\n", kind, text ? " " : "", text ? text : "");
}

static void ev_open(void *ud, const canto_stanza *header)
{
    recorder *rec = ud;
    char *s = NULL;
    canto_stanza_to_string(header, &s, NULL);
    rec_add(rec, "open", s ? s : "(enomem)");
    canto_free(s);
    const char *lang = canto_stanza_attr(header, "xml:lang");
    snprintf(rec->header_lang, sizeof(rec->header_lang), "%s", lang ? lang : "");
    const char *ns = canto__reader_stream_ns(rec->r);
    snprintf(rec->stream_ns, sizeof(rec->stream_ns), "%s", ns ? ns : "");
    if (rec->reset_on_open)
        canto__reader_reset(rec->r);
}

static void ev_stanza(void *ud, canto_stanza *st)
{
    recorder *rec = ud;
    char *s = NULL;
    canto_stanza_to_string(st, &s, NULL);
    rec_add(rec, "stanza", s ? s : "(enomem)");
    canto_free(s);
    if (rec->feed_inside)
        rec->inner_feed_rc = canto__reader_feed(rec->r, "<a/>", 4, NULL);
    if (rec->reset_on && canto_stanza_is(st, rec->reset_on, NULL))
        canto__reader_reset(rec->r);
    if (rec->keep && rec->nkept < KEEP_MAX)
        rec->kept[rec->nkept++] = st;
    else
        canto_stanza_free(st);
}

static void ev_close(void *ud)
{
    rec_add(ud, "close", NULL);
}

static void ev_error(void *ud, int code, const char *msg)
{
    recorder *rec = ud;
    char line[200];
    snprintf(line, sizeof(line), "%d %s", code, msg);
    rec_add(rec, "error", line);
    rec->errors++;
    rec->last_error = code;
    if (rec->reset_on_error)
        canto__reader_reset(rec->r);
}

static const canto__reader_events rec_events = {ev_open, ev_stanza, ev_close, ev_error};

static int rec_init(recorder *rec, const canto__alloc *alloc, const canto__reader_options *opts)
{
    memset(rec, 0, sizeof(*rec));
    return canto__reader_new(alloc, opts, &rec_events, rec, &rec->r);
}

static void rec_done(recorder *rec)
{
    canto__reader_free(rec->r);
    for (int i = 0; i < rec->nkept; i++)
        canto_stanza_free(rec->kept[i]);
    free(rec->log);
    memset(rec, 0, sizeof(*rec));
}

static const char *rec_log(recorder *rec)
{
    return rec->log ? rec->log : "";
}

/* Feed in pieces of @p chunk bytes (0: all at once); stops at the first error. */
static int feed_chunks(recorder *rec, const char *data, size_t len, size_t chunk)
{
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t off = 0; off < len;) {
        size_t n = len - off < chunk ? len - off : chunk;
        size_t used = 0;
        int rc = canto__reader_feed(rec->r, data + off, n, &used);
        if (rc)
            return rc;
        off += used;
    }
    return 0;
}

static char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", CANTO_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

static int count_lines(const char *log, const char *prefix)
{
    int n = 0;
    size_t plen = strlen(prefix);
    for (const char *p = log; *p;) {
        if (strncmp(p, prefix, plen) == 0)
            n++;
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

/* ------------------------------------------------------------------------- */
/* A recorded server stream, whole and cut everywhere. */

static int test_transcript_content(void)
{
    size_t len;
    char *data = load("prosody_stream.xml", &len);
    REQUIRE(data != NULL);
    recorder rec;
    REQUIRE(rec_init(&rec, NULL, NULL) == 0);
    rec.keep = 1;
    CHECK_INT(feed_chunks(&rec, data, len, 0), 0);
    CHECK_INT(rec.errors, 0);
    CHECK_INT(count_lines(rec_log(&rec), "open "), 1);
    CHECK_INT(count_lines(rec_log(&rec), "close"), 1);
    CHECK_INT(rec.nkept, 12);
    CHECK_STR(rec.header_lang, "en");
    CHECK_STR(rec.stream_ns, "jabber:client");
    CHECK(strstr(rec_log(&rec), "open <stream xmlns='http://etherx.jabber.org/streams' "
                                "xml:lang='en' id='7d1c5f0e-3b8a-4a61-9e2f-5c0d9b8e4a17' "
                                "from='example.org' version='1.0'/>\n") == rec_log(&rec));
    REQUIRE(rec.nkept == 12);

    canto_stanza **k = rec.kept;
    CHECK(canto_stanza_is(k[0], "features", CANTO_NS_STREAMS));
    /* Common names and namespaces point at the interned copies. */
    CHECK(canto_stanza_ns(k[1]) == canto__intern("jabber:client", 13));
    CHECK(canto_stanza_name(k[4]) == canto__intern("message", 7));
    CHECK(canto_stanza_find(k[0], "{urn:ietf:params:xml:ns:xmpp-tls}starttls/required") != NULL);
    CHECK_STR(canto_stanza_text(canto_stanza_find(k[0], "mechanisms/mechanism")),
              "SCRAM-SHA-1-PLUS");

    CHECK(canto_stanza_is(k[1], "iq", CANTO_NS_CLIENT));
    CHECK_STR(canto_stanza_text(canto_stanza_find(k[1], "bind/jid")), "juliet@example.org/balcony");

    canto_stanza *item = canto_stanza_find(k[2], "{jabber:iq:roster}query/item");
    REQUIRE(item != NULL);
    CHECK_STR(canto_stanza_ns(item), "jabber:iq:roster");
    CHECK_STR(canto_stanza_text(
                  canto_stanza_next_match(canto_stanza_child(item, "group", NULL), "group", NULL)),
              "Montague & Co");
    canto_stanza *ben =
        canto_stanza_next_match(canto_stanza_next_match(item, "item", NULL), "item", NULL);
    CHECK_STR(canto_stanza_attr(ben, "name"), "Benvolio \"Ben\" M\xc3\xa9");

    CHECK(canto_stanza_is(k[3], "presence", CANTO_NS_CLIENT));
    CHECK_STR(canto_stanza_child_text(k[3], "status", NULL), "In the orchard <3");
    CHECK_STR(canto_stanza_attr(k[3], "xml:lang"), "en");
    CHECK_STR(canto_stanza_attr_ns(k[3], "http://www.w3.org/XML/1998/namespace", "lang"), "en");

    canto_stanza *body = canto_stanza_child(k[4], "body", NULL);
    CHECK_STR(canto_stanza_text(body),
              "Art thou not Romeo, and a Montague? & what's in a name <3 > all");
    CHECK_INT(canto_stanza_child_count(body), 1); /* one text node despite the entities */
    CHECK_STR(canto_stanza_attr(canto_stanza_child(k[4], "thread", NULL), "parent"),
              "e0ffe42b28561960c6b12b944a092794b9683a38");
    CHECK(canto_stanza_child(k[4], "active", "http://jabber.org/protocol/chatstates") != NULL);
    CHECK_STR(canto_stanza_attr(canto_stanza_child(k[4], "stanza-id", "urn:xmpp:sid:0"), "by"),
              "juliet@example.org");
    CHECK_STR(canto_stanza_attr(canto_stanza_child(k[4], "origin-id", NULL), "id"),
              "de305d54-75b4-431b-adb2-eb6b9e546014");

    CHECK(strstr(rec_log(&rec),
                 "stanza <message xmlns='jabber:client' from='nurse@example.com/kitchen' "
                 "to='juliet@example.org/balcony' type='chat' id='m2'><composing "
                 "xmlns='http://jabber.org/protocol/chatstates'/></message>\n") != NULL);

    CHECK_STR(canto_stanza_child_text(k[6], "body", NULL),
              "Madam! Your lady mother is coming to your chamber. \xf0\x9f\x8f\x83 "
              "\xe6\x80\xa5\xe3\x81\x84\xe3\x81\xa7");
    CHECK_STR(canto_stanza_attr(canto_stanza_child(k[6], "delay", "urn:xmpp:delay"), "stamp"),
              "2024-03-15T10:23:07.123Z");

    CHECK(canto_stanza_find(k[7], "{urn:xmpp:ping}ping") != NULL);

    /* Whitespace inside a stanza is content and is kept. */
    CHECK_STR(canto_stanza_text(canto_stanza_first(k[8])), "\n  ");
    CHECK_STR(canto_stanza_child_text(k[8], "body", NULL),
              "Multi-line\n  body, with indentation kept");
    canto_stanza *p = canto_stanza_find(k[8], "html/body/p");
    REQUIRE(p != NULL);
    CHECK_INT(canto_stanza_child_count(p), 5);
    CHECK_STR(canto_stanza_text(p), "Mixed  and  text");
    CHECK_STR(canto_stanza_ns(canto_stanza_parent(p)), "http://www.w3.org/1999/xhtml");

    /* CDATA and the text after it are one node. */
    body = canto_stanza_child(k[9], "body", NULL);
    CHECK_INT(canto_stanza_child_count(body), 1);
    CHECK_STR(canto_stanza_text(body), "if (a < b && c > d) { return \"x\"; } and after");

    CHECK_STR(canto_stanza_attr(k[10], "type"), "unavailable");
    CHECK(canto_stanza_is(k[11], "error", CANTO_NS_STREAMS));
    CHECK(canto_stanza_child(k[11], "conflict", "urn:ietf:params:xml:ns:xmpp-streams") != NULL);

    rec_done(&rec);
    free(data);
    return 0;
}

static int test_transcript_splits(void)
{
    size_t len;
    char *data = load("prosody_stream.xml", &len);
    REQUIRE(data != NULL);
    recorder whole;
    REQUIRE(rec_init(&whole, NULL, NULL) == 0);
    CHECK_INT(feed_chunks(&whole, data, len, 0), 0);
    CHECK_INT(whole.errors, 0);

    /* Every cut into two chunks. The same reader is reused through resets,
     * which is also what a stream restart does. */
    recorder rec;
    REQUIRE(rec_init(&rec, NULL, NULL) == 0);
    size_t bad = 0, first_bad = 0;
    for (size_t cut = 1; cut < len; cut++) {
        CHECK_INT(canto__reader_reset(rec.r), 0);
        rec.len = 0;
        size_t u1 = 0, u2 = 0;
        int rc1 = canto__reader_feed(rec.r, data, cut, &u1);
        int rc2 = canto__reader_feed(rec.r, data + cut, len - cut, &u2);
        if (rc1 || rc2 || u1 != cut || u2 != len - cut || rec.len != whole.len ||
            memcmp(rec.log, whole.log, whole.len) != 0) {
            if (!bad++)
                first_bad = cut;
        }
    }
    CHECK_INT(bad, 0);
    if (bad)
        fprintf(stderr, "first differing cut: %zu\n", first_bad);

    /* Byte by byte. */
    CHECK_INT(canto__reader_reset(rec.r), 0);
    rec.len = 0;
    CHECK_INT(feed_chunks(&rec, data, len, 1), 0);
    CHECK(rec.len == whole.len && memcmp(rec.log, whole.log, whole.len) == 0);

    /* Odd chunk sizes. */
    for (size_t chunk = 2; chunk < 40; chunk += 7) {
        CHECK_INT(canto__reader_reset(rec.r), 0);
        rec.len = 0;
        CHECK_INT(feed_chunks(&rec, data, len, chunk), 0);
        CHECK(rec.len == whole.len && memcmp(rec.log, whole.log, whole.len) == 0);
    }
    CHECK_INT(canto__reader_finish(rec.r), 0); /* the stream was closed */

    rec_done(&rec);
    rec_done(&whole);
    free(data);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Hostile and forbidden input. */

/* Feed @p data whole, then byte by byte, to fresh readers: both must fail with
 * @p code, report it once, keep refusing input, and work again after a reset. */
static void expect_error(const char *what, const char *data, size_t len, int code)
{
    for (int pass = 0; pass < 2; pass++) {
        recorder rec;
        if (rec_init(&rec, NULL, NULL)) {
            CHECK(!"reader");
            return;
        }
        int rc = feed_chunks(&rec, data, len, pass ? 1 : 0);
        if (rc != code || rec.errors != 1 || rec.last_error != code)
            fprintf(stderr, "  %s (%s): rc %d, %d errors, log:\n%s", what,
                    pass ? "bytewise" : "whole", rc, rec.errors, rec_log(&rec));
        CHECK_INT(rc, code);
        CHECK_INT(rec.errors, 1);
        CHECK_INT(rec.last_error, code);
        CHECK(canto__reader_error(rec.r)[0] != '\0');
        CHECK_INT(canto__reader_feed(rec.r, "<a/>", 4, NULL), code);
        CHECK_INT(rec.errors, 1);
        CHECK_INT(canto__reader_reset(rec.r), 0);
        CHECK_STR(canto__reader_error(rec.r), "");
        rec.len = 0;
        CHECK_INT(feed_chunks(&rec, HDR "<presence/>", strlen(HDR "<presence/>"), 0), 0);
        CHECK_INT(count_lines(rec_log(&rec), "stanza "), 1);
        rec_done(&rec);
    }
}

#define EXPECT(what, s, code) expect_error(what, s, sizeof(s) - 1, code)

static const char billion_laughs[] =
    "<?xml version='1.0'?>\n"
    "<!DOCTYPE lolz [\n"
    " <!ENTITY lol \"lol\">\n"
    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
    " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
    " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
    " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
    " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
    " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
    "]>\n"
    "<stream:stream xmlns='jabber:client' " NS_STREAM_DECL "><message><body>&lol9;</body>"
    "</message>";

static int test_restricted(void)
{
    counter c = {0, 0, 0, 0, -1};
    canto__alloc a = internal_alloc(&c);
    size_t heap0 = heap_in_use();
    double t0 = now_s();
    recorder rec;
    REQUIRE(rec_init(&rec, &a, NULL) == 0);
    CHECK_INT(feed_chunks(&rec, billion_laughs, sizeof(billion_laughs) - 1, 0), CANTO_ERESTRICTED);
    CHECK(heap_in_use() < heap0 + (1u << 20));
    rec_done(&rec);
    CHECK(now_s() - t0 < 5.0);
    CHECK(c.peak < 64 * 1024);
    CHECK_INT(c.live, 0);
    EXPECT("billion laughs", billion_laughs, CANTO_ERESTRICTED);

    EXPECT("XXE",
           "<?xml version='1.0'?><!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
           "<stream:stream xmlns='jabber:client' " NS_STREAM_DECL "><message><body>&xxe;"
           "</body></message>",
           CANTO_ERESTRICTED);
    EXPECT("external DTD", "<!DOCTYPE stream SYSTEM \"http://127.0.0.1:9/evil.dtd\">" HDR,
           CANTO_ERESTRICTED);
    EXPECT("parameter entity",
           "<!DOCTYPE x [<!ENTITY % pe SYSTEM \"file:///etc/passwd\"> %pe;]>" HDR,
           CANTO_ERESTRICTED);
    EXPECT("DTD", "<?xml version='1.0'?><!DOCTYPE stream:stream>" HDR, CANTO_ERESTRICTED);
    /* libxml2 keeps entity declarations in a document of its own when it gets
     * that far: no leak (valgrind, ASan) and no expansion. */
    EXPECT("PI, then entities",
           "<?pi x?><!DOCTYPE l [<!ENTITY a 'aa'><!ENTITY b '&a;&a;'>]>" HDR
           "<message><body>&b;</body></message>",
           CANTO_ERESTRICTED);
    EXPECT("comment in prolog", "<!-- hello -->" HDR, CANTO_ERESTRICTED);
    EXPECT("comment between stanzas", HDR "<presence/><!-- hello --><presence/>",
           CANTO_ERESTRICTED);
    EXPECT("comment in stanza", HDR "<message><!-- hello --></message>", CANTO_ERESTRICTED);
    EXPECT("PI in prolog", "<?xml version='1.0'?><?xml-stylesheet href='x'?>" HDR,
           CANTO_ERESTRICTED);
    EXPECT("PI in stanza", HDR "<message><?php echo 1; ?></message>", CANTO_ERESTRICTED);
    EXPECT("undeclared entity", HDR "<message><body>&nbsp;</body></message>", CANTO_ERESTRICTED);
    EXPECT("entity in attribute", HDR "<message to='&x;'/>", CANTO_ERESTRICTED);
    EXPECT("encoding", "<?xml version='1.0' encoding='ISO-8859-1'?>" HDR, CANTO_EENCODING);
    EXPECT("encoding dq", "<?xml version=\"1.0\" encoding=\"UTF-16\" standalone=\"yes\"?>" HDR,
           CANTO_EENCODING);
    EXPECT("UTF-16LE BOM", "\xff\xfe<\0s\0", CANTO_EENCODING);
    EXPECT("UTF-16BE BOM", "\xfe\xff\0<\0s", CANTO_EENCODING);
    EXPECT("UTF-16BE", "\0<\0s\0t", CANTO_EENCODING);
    EXPECT("UTF-16LE", "<\0s\0t\0", CANTO_EENCODING);
    EXPECT("UTF-8 in text", HDR "<message><body>caf\xc3</body></message>", CANTO_EXML);
    EXPECT("UTF-8 overlong", HDR "<message><body>\xc0\xaf</body></message>", CANTO_EXML);
    EXPECT("UTF-8 surrogate", HDR "<message to='\xed\xa0\x80'/>", CANTO_EXML);
    EXPECT("UTF-8 in name", HDR "<mess\xff/>", CANTO_EXML);
    EXPECT("overlong in CDATA", HDR "<message><body><![CDATA[x\xc1\xa2]]></body></message>",
           CANTO_EXML);
    EXPECT("NUL later", HDR "<message><body>a\0b</body></message>", CANTO_EXML);
    EXPECT("control char", HDR "<message><body>&#1;</body></message>", CANTO_EXML);
    EXPECT("text between stanzas", HDR "<presence/>hello<presence/>", CANTO_EXML);
    EXPECT("undeclared prefix", HDR "<foo:bar/>", CANTO_EXML);
    EXPECT("mismatched tags", HDR "<message></presence>", CANTO_EXML);
    EXPECT("duplicate attribute", HDR "<message to='a' to='b'/>", CANTO_EXML);
    EXPECT("declaration too late", HDR "<?xml version='1.0'?>", CANTO_EXML);
    EXPECT("garbage", "hello", CANTO_EXML);

    /* What restricted XML still allows. */
    const char ok[] = "\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?>\n" HDR
                      "<message><body>&#x41;&#66;&amp;&lt;&gt;&quot;&apos;</body></message>";
    REQUIRE(rec_init(&rec, NULL, NULL) == 0);
    CHECK_INT(feed_chunks(&rec, ok, sizeof(ok) - 1, 1), 0);
    CHECK(strstr(rec_log(&rec), "<body>AB&amp;&lt;&gt;\"'</body>") != NULL);
    rec_done(&rec);
    return 0;
}

/* Feed an endless element in 64 KiB pieces: it must be refused with
 * CANTO_ETOOBIG after about @p limit bytes, with memory to match. */
static void expect_too_big(const char *what, const char *open, char fill, size_t limit)
{
    counter c = {0, 0, 0, 0, -1};
    canto__alloc a = internal_alloc(&c);
    recorder rec;
    if (rec_init(&rec, &a, NULL)) {
        CHECK(!"reader");
        return;
    }
    size_t heap0 = heap_in_use(), heap_peak = heap0;
    char *piece = malloc(64 * 1024);
    memset(piece, fill, 64 * 1024);
    int rc = feed_chunks(&rec, HDR, strlen(HDR), 0);
    rc = rc ? rc : feed_chunks(&rec, open, strlen(open), 0);
    size_t fed = 0;
    const size_t total = (size_t)100 << 20;
    while (rc == 0 && fed < total) {
        rc = canto__reader_feed(rec.r, piece, 64 * 1024, NULL);
        fed += 64 * 1024;
        size_t h = heap_in_use();
        if (h > heap_peak)
            heap_peak = h;
    }
    if (rc != CANTO_ETOOBIG)
        fprintf(stderr, "  %s: rc %d after %zu bytes\n", what, rc, fed);
    CHECK_INT(rc, CANTO_ETOOBIG);
    CHECK(fed <= limit + 64 * 1024);
    CHECK(fed + 64 * 1024 >= limit);
    CHECK(c.peak < ((size_t)3 << 20));
    CHECK(heap_peak - heap0 < ((size_t)16 << 20));
    free(piece);
    rec_done(&rec);
    CHECK_INT(c.live, 0);
}

static int test_limits(void)
{
    expect_too_big("text node", "<message><body>", 'a', (size_t)1 << 20);
    expect_too_big("whitespace in stanza", "<message>", ' ', (size_t)1 << 20);
    /* A start tag is bounded more tightly than a stanza. */
    expect_too_big("attribute", "<message to='", 'b', 32 * 1024);

    /* Thousands of attributes: refused before libxml2's quadratic checks
     * could take seconds. */
    size_t cap = (size_t)1 << 20, n = 0;
    char *attrs = malloc(cap);
    n += (size_t)sprintf(attrs, "<a");
    for (int i = 0; n + 40 < cap; i++)
        n += (size_t)sprintf(attrs + n, " a%d=''", i);
    strcpy(attrs + n, "/>");
    canto_stanza *s = NULL;
    double t0 = now_s();
    CHECK_INT(canto_stanza_parse(NULL, attrs, (size_t)-1, &s), CANTO_ETOOBIG);
    CHECK(now_s() - t0 < 2.0);
    /* Namespace declarations in scope are bounded too. */
    n = (size_t)sprintf(attrs, "<a>");
    for (int depth = 0; depth < 10; depth++) {
        n += (size_t)sprintf(attrs + n, "<b");
        for (int i = 0; i < 30; i++)
            n += (size_t)sprintf(attrs + n, " xmlns:p%d_%d='urn:x'", depth, i);
        n += (size_t)sprintf(attrs + n, ">");
    }
    CHECK_INT(canto_stanza_parse(NULL, attrs, n, &s), CANTO_ETOOBIG);
    strcpy(attrs, "<a xmlns:p='urn:p'><b xmlns='urn:b'/><b xmlns='urn:b'/></a>");
    CHECK_INT(canto_stanza_parse(NULL, attrs, (size_t)-1, &s), 0);
    canto_stanza_free(s);
    free(attrs);

    /* 100 000 levels: refused at level 65, at once. */
    const size_t deep = 100000;
    char *nest = malloc(strlen(HDR) + deep * 3 + 1);
    strcpy(nest, HDR);
    for (size_t i = 0; i < deep; i++)
        memcpy(nest + strlen(HDR) + i * 3, "<a>", 3);
    nest[strlen(HDR) + deep * 3] = '\0';
    t0 = now_s();
    recorder rec;
    REQUIRE(rec_init(&rec, NULL, NULL) == 0);
    CHECK_INT(feed_chunks(&rec, nest, strlen(nest), 0), CANTO_ETOODEEP);
    CHECK_INT(rec.errors, 1);
    rec_done(&rec);
    CHECK(now_s() - t0 < 5.0);
    free(nest);

    /* The limit itself: 64 levels pass, 65 do not. */
    char buf[1024];
    for (int levels = 64; levels <= 65; levels++) {
        n = 0;
        for (int i = 0; i < levels; i++)
            n += (size_t)sprintf(buf + n, "<a>");
        for (int i = 0; i < levels; i++)
            n += (size_t)sprintf(buf + n, "</a>");
        CHECK_INT(canto_stanza_parse(NULL, buf, n, &s), levels == 64 ? 0 : CANTO_ETOODEEP);
        canto_stanza_free(s);
    }

    /* A small limit applies to each stanza, not to the stream; keepalive
     * whitespace does not add up either. */
    canto__reader_options opts = {1000, 8, 0};
    REQUIRE(rec_init(&rec, NULL, &opts) == 0);
    CHECK_INT(feed_chunks(&rec, HDR, strlen(HDR), 0), 0);
    for (int i = 0; i < 200; i++) {
        char st[600];
        int sn = snprintf(st, sizeof(st), "<message id='%d'><body>%0500d</body></message>", i, i);
        CHECK_INT(canto__reader_feed(rec.r, st, (size_t)sn, NULL), 0);
    }
    for (int i = 0; i < 5000; i++)
        CHECK_INT(canto__reader_feed(rec.r, " ", 1, NULL), 0);
    CHECK_INT(feed_chunks(&rec, "<presence/>", 11, 0), 0);
    CHECK_INT(count_lines(rec_log(&rec), "stanza "), 201);
    char big[1200];
    int bn = snprintf(big, sizeof(big), "<message><body>%01000d</body></message>", 7);
    CHECK_INT(canto__reader_feed(rec.r, big, (size_t)bn, NULL), CANTO_ETOOBIG);
    rec_done(&rec);

    REQUIRE(rec_init(&rec, NULL, &opts) == 0);
    const char eight[] = HDR "<a><b><c><d><e><f><g><h/></g></f></e></d></c></b></a>";
    const char nine[] = "<a><b><c><d><e><f><g><h><i/>";
    CHECK_INT(feed_chunks(&rec, eight, sizeof(eight) - 1, 0), 0);
    CHECK_INT(count_lines(rec_log(&rec), "stanza "), 1);
    CHECK_INT(feed_chunks(&rec, nine, sizeof(nine) - 1, 0), CANTO_ETOODEEP);
    rec_done(&rec);

    /* A header that never ends is a stanza-sized problem too. */
    opts.max_depth = 0;
    REQUIRE(rec_init(&rec, NULL, &opts) == 0);
    int rc = feed_chunks(&rec, "<stream:stream " NS_STREAM_DECL, strlen(NS_STREAM_DECL) + 15, 0);
    for (int i = 0; rc == 0 && i < 100; i++)
        rc = canto__reader_feed(rec.r, "a='1'                                            ", 50,
                                NULL);
    CHECK_INT(rc, CANTO_ETOOBIG);
    rec_done(&rec);

    /* Just under the default limit is fine. */
    size_t blen = ((size_t)1 << 20) - 200;
    char *body = malloc(blen + 64);
    n = (size_t)sprintf(body, "<message><body>");
    memset(body + n, 'x', blen - n - 30);
    strcpy(body + blen - 30, "</body></message>");
    CHECK_INT(canto_stanza_parse(NULL, body, (size_t)-1, &s), 0);
    CHECK_INT(strlen(canto_stanza_child_text(s, "body", NULL)), blen - n - 30);
    canto_stanza_free(s);
    free(body);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Stream restarts. */

#define PROCEED "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
#define FEATURES_TLS                                                                               \
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"               \
    "</starttls></stream:features>"
#define SUCCESS "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"

static int test_restart(void)
{
    recorder rec;
    REQUIRE(rec_init(&rec, NULL, NULL) == 0);

    /* STARTTLS: whatever follows <proceed/> in the same read is not parsed. */
    const char s1[] = HDR FEATURES_TLS PROCEED "<message><body>injected</body></message>";
    rec.reset_on = "proceed";
    size_t used = 0;
    CHECK_INT(canto__reader_feed(rec.r, s1, sizeof(s1) - 1, &used), 0);
    CHECK_INT(used, strlen(HDR FEATURES_TLS PROCEED));
    CHECK(strstr(rec_log(&rec), "injected") == NULL);
    CHECK_INT(count_lines(rec_log(&rec), "stanza "), 2);
    CHECK_STR(canto__reader_stream_ns(rec.r), NULL); /* forgotten with the stream */

    /* The second stream, after TLS, on the same reader, ending with SASL
     * success and the server's next header in the same read. */
    const char s2[] = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " NS_STREAM_DECL
                      " id='s2' xml:lang='fr'><stream:features><mechanisms "
                      "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
                      "</mechanisms></stream:features>" SUCCESS
                      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " NS_STREAM_DECL
                      " id='s3'><stream:features/></stream:stream>";
    rec.reset_on = "success";
    rec.len = 0;
    CHECK_INT(canto__reader_feed(rec.r, s2, sizeof(s2) - 1, &used), 0);
    size_t first = (size_t)(strstr(s2, SUCCESS) - s2) + strlen(SUCCESS);
    CHECK_INT(used, first);
    CHECK_STR(rec.header_lang, "fr");
    CHECK_INT(count_lines(rec_log(&rec), "open "), 1);
    /* The rest is the third stream. */
    size_t used2 = 0;
    CHECK_INT(canto__reader_feed(rec.r, s2 + used, sizeof(s2) - 1 - used, &used2), 0);
    CHECK_INT(used2, sizeof(s2) - 1 - used);
    CHECK_INT(count_lines(rec_log(&rec), "open "), 2);
    CHECK(strstr(rec_log(&rec), "id='s3'") != NULL);
    CHECK_INT(count_lines(rec_log(&rec), "close"), 1);
    CHECK_INT(rec.errors, 0);
    CHECK_INT(canto__reader_finish(rec.r), 0);
    rec_done(&rec);

    /* Byte by byte the reset happens on the '>' of <proceed/>. */
    REQUIRE(rec_init(&rec, NULL, NULL) == 0);
    rec.reset_on = "proceed";
    size_t reset_at = 0;
    for (size_t i = 0; i < sizeof(s1) - 1 && !reset_at; i++) {
        used = 99;
        CHECK_INT(canto__reader_feed(rec.r, s1 + i, 1, &used), 0);
        CHECK_INT(used, 1);
        if (count_lines(rec_log(&rec), "stanza ") == 2)
            reset_at = i + 1;
    }
    CHECK_INT(reset_at, strlen(HDR FEATURES_TLS PROCEED));
    CHECK_INT(rec.errors, 0);
    /* The reader is ready for the next stream. */
    CHECK_INT(feed_chunks(&rec, HDR "<presence/>", strlen(HDR) + 11, 1), 0);
    CHECK_INT(count_lines(rec_log(&rec), "open "), 2);
    CHECK_INT(count_lines(rec_log(&rec), "stanza "), 3);
    rec_done(&rec);

    /* A reset from the stream header callback. */
    REQUIRE(rec_init(&rec, NULL, NULL) == 0);
    rec.reset_on_open = 1;
    CHECK_INT(canto__reader_feed(rec.r, HDR "<presence/>", strlen(HDR) + 11, &used), 0);
    CHECK_INT(used, strlen(HDR));
    CHECK_INT(count_lines(rec_log(&rec), "stanza "), 0);
    rec_done(&rec);

    /* A reset from the error callback: the call fails, the reader is fresh. */
    REQUIRE(rec_init(&rec, NULL, NULL) == 0);
    rec.reset_on_error = 1;
    CHECK_INT(canto__reader_feed(rec.r, HDR "<!-- x -->", strlen(HDR) + 10, NULL),
              CANTO_ERESTRICTED);
    rec.reset_on_error = 0;
    CHECK_INT(canto__reader_feed(rec.r, HDR "<presence/>", strlen(HDR) + 11, NULL), 0);
    CHECK_INT(count_lines(rec_log(&rec), "stanza "), 1);
    rec_done(&rec);

    /* A reset between reads drops a half-built stanza. */
    counter c = {0, 0, 0, 0, -1};
    canto__alloc a = internal_alloc(&c);
    REQUIRE(rec_init(&rec, &a, NULL) == 0);
    CHECK_INT(feed_chunks(&rec, HDR "<message><body>half", strlen(HDR) + 19, 0), 0);
    CHECK_INT(canto__reader_reset(rec.r), 0);
    CHECK_INT(feed_chunks(&rec, HDR "<presence/>", strlen(HDR) + 11, 0), 0);
    CHECK_INT(count_lines(rec_log(&rec), "stanza "), 1);
    CHECK_INT(canto__reader_finish(rec.r), CANTO_EXML); /* never closed */
    rec_done(&rec);
    CHECK_INT(c.live, 0);
    CHECK_INT(c.allocs, c.frees);

    /* Feeding from inside a callback is refused. */
    REQUIRE(rec_init(&rec, NULL, NULL) == 0);
    rec.feed_inside = 1;
    CHECK_INT(feed_chunks(&rec, HDR "<presence/>", strlen(HDR) + 11, 0), 0);
    CHECK_INT(rec.inner_feed_rc, CANTO_ESTATE);
    rec_done(&rec);

    /* Callbacks are optional: unclaimed stanzas are freed by the reader. */
    canto__reader *r = NULL;
    REQUIRE(canto__reader_new(&a, NULL, NULL, NULL, &r) == 0);
    CHECK_INT(canto__reader_feed(r, HDR "<presence/><message/>", strlen(HDR) + 21, NULL), 0);
    canto__reader_free(r);
    canto__reader_free(NULL);
    CHECK_INT(c.live, 0);
    CHECK_INT(canto__reader_new(NULL, NULL, NULL, NULL, NULL), CANTO_EINVAL);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* canto_stanza_parse */

static char *to_s(const canto_stanza *s)
{
    char *out = NULL;
    if (!s || canto_stanza_to_string(s, &out, NULL))
        return NULL;
    return out;
}

/* parse -> string must equal @p want, and parse -> string -> parse -> string too. */
static void round_trip(const char *in, const char *want)
{
    canto_stanza *s = NULL, *s2 = NULL;
    int rc = canto_stanza_parse(NULL, in, (size_t)-1, &s);
    CHECK_INT(rc, 0);
    char *a = to_s(s);
    CHECK_STR(a, want);
    if (a)
        CHECK_INT(canto_stanza_parse(NULL, a, strlen(a), &s2), 0);
    char *b = to_s(s2);
    CHECK_STR(b, a);
    canto_free(a);
    canto_free(b);
    canto_stanza_free(s);
    canto_stanza_free(s2);
}

static int test_parse(void)
{
    canto_stanza *s = NULL;
    REQUIRE(canto_stanza_parse(NULL,
                               "<message xmlns='jabber:client' to='romeo@example.net' "
                               "xml:lang='en' type='chat'><body>Hi &amp; bye</body>"
                               "<p:x xmlns:p='urn:example:p' p:flag='1' plain='2'/></message>",
                               (size_t)-1, &s) == 0);
    CHECK(canto_stanza_is(s, "message", CANTO_NS_CLIENT));
    CHECK_STR(canto_stanza_attr(s, "xml:lang"), "en");
    CHECK_STR(canto_stanza_attr(s, "to"), "romeo@example.net");
    CHECK_INT(canto_stanza_attr_count(s), 3);
    canto_stanza *x = canto_stanza_child(s, "x", "urn:example:p");
    REQUIRE(x != NULL);
    CHECK_STR(canto_stanza_attr_ns(x, "urn:example:p", "flag"), "1");
    CHECK_STR(canto_stanza_attr(x, "flag"), NULL);
    CHECK_STR(canto_stanza_attr(x, "plain"), "2");
    CHECK_STR(canto_stanza_child_text(s, "body", NULL), "Hi & bye");
    canto_stanza_free(s);

    /* No declaration: jabber:client all the way down; xmlns='' means none. */
    REQUIRE(canto_stanza_parse(NULL,
                               "<iq type='get' id='1'><query xmlns='jabber:iq:roster'>"
                               "<item xmlns=''/></query><error/></iq>",
                               (size_t)-1, &s) == 0);
    CHECK_STR(canto_stanza_ns(s), CANTO_NS_CLIENT);
    CHECK(canto_stanza_ns(s) == canto__intern("jabber:client", 13)); /* interned */
    CHECK_STR(canto_stanza_ns(canto_stanza_child(s, "error", NULL)), CANTO_NS_CLIENT);
    CHECK_STR(canto_stanza_ns(canto_stanza_find(s, "query/item")), NULL);
    canto_stanza_free(s);
    REQUIRE(canto_stanza_parse(NULL, "<a xmlns=''><b/></a>", (size_t)-1, &s) == 0);
    CHECK_STR(canto_stanza_ns(s), NULL);
    CHECK_STR(canto_stanza_ns(canto_stanza_child(s, "b", NULL)), NULL);
    canto_stanza_free(s);
    REQUIRE(canto_stanza_parse(NULL, "<s:a xmlns:s='urn:s'><b/></s:a>", (size_t)-1, &s) == 0);
    CHECK_STR(canto_stanza_ns(s), "urn:s");
    CHECK_STR(canto_stanza_ns(canto_stanza_child(s, "b", NULL)), CANTO_NS_CLIENT);
    canto_stanza_free(s);

    /* Mixed content, whitespace, a length shorter than the string. */
    const char mixed[] = "<p> a <b>x</b>&#x20;<![CDATA[<c>]]> </p>";
    const char mixed_more[] = "<p> a <b>x</b>&#x20;<![CDATA[<c>]]> </p>trailing";
    REQUIRE(canto_stanza_parse(NULL, mixed_more, sizeof(mixed) - 1, &s) == 0);
    CHECK_INT(canto_stanza_child_count(s), 3);
    CHECK_STR(canto_stanza_text(canto_stanza_first(s)), " a ");
    CHECK_STR(canto_stanza_text(canto_stanza_next(canto_stanza_child(s, "b", NULL))), " <c> ");
    canto_stanza_free(s);

    round_trip("<message to='a&amp;b' id=\"q&quot;'\"><body>&lt;3 &amp; &gt; \"'</body></message>",
               "<message xmlns='jabber:client' to='a&amp;b' id='q&quot;&apos;'><body>&lt;3 &amp; "
               "&gt; \"'</body></message>");
    round_trip("<a xmlns='urn:a' xmlns:b='urn:b'><b:c b:d='1'>t&#13;&#x9;\n</b:c><e xmlns=''/></a>",
               "<a xmlns='urn:a'><c xmlns='urn:b' xmlns:ns0='urn:b' ns0:d='1'>t&#13;\t\n</c>"
               "<e xmlns=''/></a>");
    round_trip("<x attr='tab&#9;nl&#10;cr&#13;'/>",
               "<x xmlns='jabber:client' attr='tab&#9;nl&#10;cr&#13;'/>");
    round_trip(
        "<t xml:lang='de' xml:space='preserve'>\xc3\xa4\xf0\x9f\x98\x80</t>",
        "<t xmlns='jabber:client' xml:lang='de' xml:space='preserve'>\xc3\xa4\xf0\x9f\x98\x80"
        "</t>");
    round_trip("<?xml version='1.0'?>\n<r/>\n", "<r xmlns='jabber:client'/>");
    /* The XML namespace is only reachable through its prefix. */
    round_trip("<a><xml:b xml:lang='en'><c/></xml:b></a>",
               "<a xmlns='jabber:client'><xml:b xml:lang='en'><c xmlns='jabber:client'/></xml:b>"
               "</a>");

    /* Errors. */
    CHECK_INT(canto_stanza_parse(NULL, NULL, 0, &s), CANTO_EINVAL);
    CHECK_INT(canto_stanza_parse(NULL, "<a/>", 4, NULL), CANTO_EINVAL);
    canto_allocator bad = CANTO_ALLOCATOR_INIT;
    CHECK_INT(canto_stanza_parse(&bad, "<a/>", 4, &s), CANTO_EINVAL);
    static const struct {
        const char *xml;
        int code;
    } errs[] = {
        {"", CANTO_EXML},
        {"   ", CANTO_EXML},
        {"<a>", CANTO_EXML},
        {"<a/><b/>", CANTO_EXML},
        {"<a/>junk", CANTO_EXML},
        {"text", CANTO_EXML},
        {"<a></b>", CANTO_EXML},
        {"<a b='1' b='2'/>", CANTO_EXML},
        {"<p:a/>", CANTO_EXML},
        {"<stream:features/>", CANTO_EXML},
        {"<a>\xff</a>", CANTO_EXML},
        {"<a/><!-- c -->", CANTO_ERESTRICTED},
        {"<a><!-- c --></a>", CANTO_ERESTRICTED},
        {"<?pi x?><a/>", CANTO_ERESTRICTED},
        {"<!DOCTYPE a><a/>", CANTO_ERESTRICTED},
        {"<a>&ent;</a>", CANTO_ERESTRICTED},
        {"<?xml version='1.0' encoding='latin1'?><a/>", CANTO_EENCODING},
        {"\xfe\xff\0<\0a\0/\0>", CANTO_EENCODING},
    };
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        s = (canto_stanza *)&s;
        int rc = canto_stanza_parse(
            NULL, errs[i].xml, i == sizeof(errs) / sizeof(errs[0]) - 1 ? 10 : strlen(errs[i].xml),
            &s);
        if (rc != errs[i].code)
            fprintf(stderr, "  parse error case %zu: %d\n", i, rc);
        CHECK_INT(rc, errs[i].code);
        CHECK(s == NULL);
    }
    char *huge = malloc(((size_t)1 << 20) + 100);
    memset(huge, ' ', ((size_t)1 << 20) + 99);
    memcpy(huge, "<a/>", 4);
    huge[((size_t)1 << 20) + 99] = '\0';
    CHECK_INT(canto_stanza_parse(NULL, huge, (size_t)-1, &s), CANTO_ETOOBIG);
    free(huge);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Every allocation failing in turn: an error or success, never a leak. */

static int test_enomem(void)
{
    size_t len;
    char *data = load("prosody_stream.xml", &len);
    REQUIRE(data != NULL);
    int saw_enomem = 0, succeeded = 0;
    for (long n = 0; n < 400 && !succeeded; n++) {
        counter c = {0, 0, 0, 0, n};
        canto__alloc a = internal_alloc(&c);
        recorder rec;
        int rc = rec_init(&rec, &a, NULL);
        if (rc == 0)
            rc = feed_chunks(&rec, data, len, 97);
        if (rec.r)
            rec_done(&rec);
        if (rc == CANTO_ENOMEM)
            saw_enomem = 1;
        else if (rc == 0)
            succeeded = 1;
        else
            CHECK_INT(rc, CANTO_ENOMEM);
        CHECK_INT(c.live, 0);
    }
    CHECK(saw_enomem);
    CHECK(succeeded);

    succeeded = 0;
    for (long n = 0; n < 50 && !succeeded; n++) {
        counter c = {0, 0, 0, 0, n};
        canto_allocator user = counting(&c);
        canto_stanza *s = NULL;
        int rc = canto_stanza_parse(
            &user, "<message><body>x</body><a xmlns='urn:x' b='c'/></message>", (size_t)-1, &s);
        if (rc == 0)
            succeeded = 1;
        else
            CHECK_INT(rc, CANTO_ENOMEM);
        canto_stanza_free(s);
        CHECK_INT(c.live, 0);
    }
    CHECK(succeeded);
    free(data);
    return 0;
}

int main(void)
{
    RUN(test_transcript_content);
    RUN(test_transcript_splits);
    RUN(test_restricted);
    RUN(test_limits);
    RUN(test_restart);
    RUN(test_parse);
    RUN(test_enomem);
    return CHECK_DONE();
}
