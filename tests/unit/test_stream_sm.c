/* XEP-0198 on the stream engine: scripted transcripts played against
 * canto__stream from memory, on a fake clock, with a canto__sm owned by the
 * test as a client would own it.
 *
 * The server side of a transcript is a list of steps: client bytes to expect
 * ('*' matches a run without '<' or '>'; "$ID" matches an id and keeps it for
 * server bytes to quote), server bytes to feed, clock moves, stanzas to send,
 * checks of the SM state and of the delivery reports. Streams run in plaintext
 * with SASL ANONYMOUS, so a transcript is XMPP only and cheap to replay.
 *
 * Every script is played whole and checked. It is then replayed with each
 * server send from a chosen one on cut in two at offset k, for every k below
 * the longest of those sends, and once fed byte by byte. Every replay must
 * meet the same expectations and end in the same state: events, delivery
 * reports, and the exported SM state. */
#include "check.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include <canto/canto.h>
#include "stream/sasl.h"
#include "stream/sm.h"
#include "stream/stream.h"

static canto__alloc A;

/* ------------------------------------------------------------------------ */
/* What one run saw */

typedef struct run {
    int established;
    char est[512]; /* per established event: "jid resumed=N sm=N;" */
    int nstanzas;
    char stanzas[4096];
    int closed; /* closed events, over all streams of the run */
    int error, condition, received;
    char detail[256];
    int feed_rc;         /* first non-zero canto__stream_feed() result */
    char done[1024];     /* delivery reports: "token" if acked, else "token!status" */
    char final_sm[8192]; /* canto__sm_export() at the end of the run */
    int errors;
    char first_error[1024];
} run;

static void run_err(run *r, const char *fmt, ...) CANTO_PRINTF(2, 3);

static void run_err(run *r, const char *fmt, ...)
{
    if (r->errors++)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->first_error, sizeof(r->first_error), fmt, ap);
    va_end(ap);
}

static void append(char *buf, size_t cap, const char *fmt, ...) CANTO_PRINTF(3, 4);

static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
}

/* Everything a replay has to reproduce. The client's own bytes are not in it:
 * the EXPECT steps check every one of them in every run (and some carry a
 * random id). */
static void digest(const run *r, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "established=%d %s stanzas=%d %s closed=%d error=%d cond=%d received=%d "
             "detail=%s feed_rc=%d done=%s sm=%s",
             r->established, r->est, r->nstanzas, r->stanzas, r->closed, r->error, r->condition,
             r->received, r->detail, r->feed_rc, r->done, r->final_sm);
}

/* ------------------------------------------------------------------------ */
/* Scripts */

typedef struct ctx ctx;

typedef enum kind {
    K_END,
    K_EXPECT,   /* a: pattern for all client output since the last EXPECT */
    K_SEND,     /* a: server bytes ("$ID": the id kept by the last EXPECT) */
    K_AT,       /* x: set the clock, then canto__stream_timeout() */
    K_DEADLINE, /* x: what canto__stream_deadline() must say */
    K_STANZA,   /* a: XML for canto__stream_send_counted(); x: token; y: expected result */
    K_EOF,      /* the transport reached end of file */
    K_RESTART,  /* a new stream, same configuration and SM state (a reconnect) */
    K_CLOSED,   /* x: closed events so far */
    K_EST,      /* x: established events so far; y: resumed(); z: sm_active() */
    K_SM,       /* x: canto__sm_sent(); y: canto__sm_received(); z: canto__sm_unacked() */
    K_ID,       /* a, b: canto__sm_id(), canto__sm_location() (NULL: none) */
    K_DONE,     /* a: every delivery report so far */
    K_CALL,     /* fn(t) */
    K_SUB,      /* sub: these steps */
} kind;

typedef struct step {
    kind k;
    const char *a, *b;
    long long x, y, z;
    const struct step *sub;
    void (*fn)(ctx *t);
} step;

#define END                                                                                        \
    {                                                                                              \
        .k = K_END                                                                                 \
    }
#define EXPECT(p)                                                                                  \
    {                                                                                              \
        .k = K_EXPECT, .a = (p)                                                                    \
    }
#define SEND(bytes)                                                                                \
    {                                                                                              \
        .k = K_SEND, .a = (bytes)                                                                  \
    }
#define AT(ms)                                                                                     \
    {                                                                                              \
        .k = K_AT, .x = (ms)                                                                       \
    }
#define DEADLINE(ms)                                                                               \
    {                                                                                              \
        .k = K_DEADLINE, .x = (ms)                                                                 \
    }
#define STANZA(xml, token)                                                                         \
    {                                                                                              \
        .k = K_STANZA, .a = (xml), .x = (token), .y = 0                                            \
    }
#define STANZA_RC(xml, token, rc)                                                                  \
    {                                                                                              \
        .k = K_STANZA, .a = (xml), .x = (token), .y = (rc)                                         \
    }
#define EOF_()                                                                                     \
    {                                                                                              \
        .k = K_EOF                                                                                 \
    }
#define RESTART()                                                                                  \
    {                                                                                              \
        .k = K_RESTART                                                                             \
    }
#define CLOSED(n)                                                                                  \
    {                                                                                              \
        .k = K_CLOSED, .x = (n)                                                                    \
    }
#define EST(n, resumed, active)                                                                    \
    {                                                                                              \
        .k = K_EST, .x = (n), .y = (resumed), .z = (active)                                        \
    }
#define SM(sent, received, unacked)                                                                \
    {                                                                                              \
        .k = K_SM, .x = (sent), .y = (received), .z = (unacked)                                    \
    }
#define ID(id, location)                                                                           \
    {                                                                                              \
        .k = K_ID, .a = (id), .b = (location)                                                      \
    }
#define DONE(reports)                                                                              \
    {                                                                                              \
        .k = K_DONE, .a = (reports)                                                                \
    }
#define CALL(f)                                                                                    \
    {                                                                                              \
        .k = K_CALL, .fn = (f)                                                                     \
    }
#define SUB(steps)                                                                                 \
    {                                                                                              \
        .k = K_SUB, .sub = (steps)                                                                 \
    }

typedef struct script {
    const char *name;
    void (*setup)(ctx *t);
    const step *steps;
    int split_from; /* replays cut the sends from this index on; -1: no replays */
} script;

#define CUT_NONE ((size_t)0)
#define CUT_BYTES ((size_t)-1)

struct ctx {
    const script *sc;
    run *r;
    canto__stream *s;
    canto__stream_config cfg;
    canto__sasl_config sasl;
    canto__sm *sm;
    uint64_t now;
    size_t cut;       /* CUT_NONE, CUT_BYTES, or where each cut send is cut */
    int sends;        /* server sends so far */
    size_t longest;   /* the longest send that replays cut */
    int stream_ended; /* the current stream reported closed */
    char got[16384];  /* client output not yet matched */
    size_t got_len;
    char id[64];
};

/* --- events ------------------------------------------------------------- */

static void ev_established(void *ud, const char *jid)
{
    ctx *t = ud;
    if (t->stream_ended)
        run_err(t->r, "established after closed");
    t->r->established++;
    append(t->r->est, sizeof(t->r->est), "%s resumed=%d sm=%d;", jid ? jid : "(null)",
           canto__stream_resumed(t->s), canto__stream_sm_active(t->s));
}

static void ev_stanza(void *ud, canto_stanza *st)
{
    ctx *t = ud;
    if (t->stream_ended)
        run_err(t->r, "stanza after closed");
    char *xml = NULL;
    size_t len = 0;
    if (canto_stanza_to_string(st, &xml, &len) == 0)
        append(t->r->stanzas, sizeof(t->r->stanzas), "[%s]", xml);
    else
        run_err(t->r, "cannot serialize a received stanza");
    canto_free(xml);
    canto_stanza_free(st);
    t->r->nstanzas++;
}

static void ev_closed(void *ud, const canto__stream_end *e)
{
    ctx *t = ud;
    run *r = t->r;
    if (t->stream_ended++)
        run_err(r, "closed twice");
    r->closed++;
    r->error = e->error;
    r->condition = (int)e->condition;
    r->received = e->received;
    snprintf(r->detail, sizeof(r->detail), "%s", e->detail ? e->detail : "(null)");
}

static const canto__stream_events events = {ev_established, ev_stanza, ev_closed, NULL};

/* Delivery reports from the SM queue. */
static void on_done(void *ud, uint64_t token, int status)
{
    ctx *t = ud;
    run *r = t->r;
    const char *sep = r->done[0] ? " " : "";
    if (status)
        append(r->done, sizeof(r->done), "%s%" PRIu64 "!%d", sep, token, status);
    else
        append(r->done, sizeof(r->done), "%s%" PRIu64, sep, token);
}

/* --- bytes both ways ---------------------------------------------------- */

static void pull(ctx *t)
{
    const char *p;
    size_t n;
    while ((n = canto__stream_out(t->s, &p)) > 0) {
        if (n > sizeof(t->got) - 1 - t->got_len) {
            run_err(t->r, "client output overflows the test buffer");
            n = sizeof(t->got) - 1 - t->got_len;
        }
        memcpy(t->got + t->got_len, p, n);
        t->got_len += n;
        t->got[t->got_len] = '\0';
        canto__stream_consume(t->s, n, t->now);
    }
}

static void feed(ctx *t, const char *data, size_t len)
{
    if (t->stream_ended)
        return;
    int rc = canto__stream_feed(t->s, data, len, t->now);
    if (rc && !t->r->feed_rc)
        t->r->feed_rc = rc;
    if (rc && !t->stream_ended)
        run_err(t->r, "feed returned %d without a closed event", rc);
    if (!rc && t->stream_ended)
        run_err(t->r, "feed returned 0 although the stream closed");
}

static void deliver(ctx *t, const char *data, size_t len)
{
    int cut_this = t->sc->split_from >= 0 && t->sends++ >= t->sc->split_from;
    if (cut_this && len > t->longest)
        t->longest = len;
    if (t->cut == CUT_BYTES) {
        for (size_t i = 0; i < len; i++)
            feed(t, data + i, 1);
    } else if (cut_this && t->cut != CUT_NONE && t->cut < len) {
        feed(t, data, t->cut);
        feed(t, data + t->cut, len - t->cut);
    } else {
        feed(t, data, len);
    }
}

/* Server bytes, with "$ID" replaced by the id kept last. */
static void send_text(ctx *t, const char *text)
{
    char buf[4096];
    size_t o = 0, idlen = strlen(t->id);
    while (*text) {
        int is_id = strncmp(text, "$ID", 3) == 0;
        size_t take = is_id ? idlen : 1;
        if (o + take >= sizeof(buf)) {
            run_err(t->r, "server send too long for the test buffer");
            return;
        }
        memcpy(buf + o, is_id ? t->id : text, take);
        o += take;
        text += is_id ? 3 : 1;
    }
    deliver(t, buf, o);
}

/* Does @p pat describe all of [s, end)? */
static int match(const char *pat, const char *s, const char *end, char *id, size_t cap)
{
    while (*pat) {
        if (*pat == '*') {
            for (const char *q = s;; q++) {
                if (match(pat + 1, q, end, id, cap))
                    return 1;
                if (q == end || *q == '<' || *q == '>')
                    return 0;
            }
        }
        if (strncmp(pat, "$ID", 3) == 0) {
            size_t n = 0;
            while (s + n < end && isalnum((unsigned char)s[n]))
                n++;
            if (n == 0 || n >= cap)
                return 0;
            memcpy(id, s, n);
            id[n] = '\0';
            s += n;
            pat += 3;
            continue;
        }
        if (s == end || *s != *pat)
            return 0;
        s++;
        pat++;
    }
    return s == end;
}

static void expect(ctx *t, const char *pat)
{
    pull(t);
    if (!match(pat, t->got, t->got + t->got_len, t->id, sizeof(t->id)))
        run_err(t->r, "expected client output\n  %s\ngot\n  %s", pat, t->got);
    t->got_len = 0;
    t->got[0] = '\0';
}

/* --- running -------------------------------------------------------------- */

#define T0 1000u /* the clock at the start: not 0, so "0 means unset" mistakes show */

static void defaults(ctx *t)
{
    t->now = T0;
    t->cfg.role = CANTO__STREAM_INITIATOR;
    t->cfg.domain = "example.com";
    t->cfg.resource = "res";
    t->cfg.tls = CANTO__TLS_NONE;
    t->cfg.sasl_config = &t->sasl;
    t->cfg.sm = t->sm;
    t->cfg.sm_ack_every = 100;
    t->cfg.sm_ack_ms = 500000;
    t->cfg.negotiation_timeout_ms = 3000;
    t->cfg.close_timeout_ms = 2000;
    t->cfg.keepalive_ms = 100000;
    t->cfg.ping_after_ms = 200000;
    t->cfg.dead_after_ms = 5000;
    t->sasl.anonymous = 1;
}

static int start_stream(ctx *t)
{
    t->stream_ended = 0;
    int rc = canto__stream_new(&A, NULL, &t->cfg, &events, t, &t->s);
    if (rc == 0)
        rc = canto__stream_start(t->s, t->now);
    if (rc)
        run_err(t->r, "stream setup failed: %d", rc);
    return rc;
}

static void check_sm(ctx *t, const step *st)
{
    uint32_t sent = canto__sm_sent(t->sm), received = canto__sm_received(t->sm);
    size_t unacked = canto__sm_unacked(t->sm);
    if (sent != (uint32_t)st->x || received != (uint32_t)st->y || unacked != (size_t)st->z)
        run_err(t->r,
                "SM sent/received/unacked %" PRIu32 "/%" PRIu32 "/%zu, expected %lld/%lld/%lld",
                sent, received, unacked, st->x, st->y, st->z);
}

static int same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void run_steps(ctx *t, const step *st)
{
    for (; st->k != K_END && t->s; st++) {
        switch (st->k) {
        case K_END:
            return;
        case K_EXPECT:
            expect(t, st->a);
            break;
        case K_SEND:
            send_text(t, st->a);
            break;
        case K_AT:
            t->now = (uint64_t)st->x;
            canto__stream_timeout(t->s, t->now);
            break;
        case K_DEADLINE: {
            uint64_t d = canto__stream_deadline(t->s);
            if (d != (uint64_t)st->x)
                run_err(t->r, "deadline %" PRIu64 ", expected %lld", d, st->x);
            break;
        }
        case K_STANZA: {
            canto_stanza *x = NULL;
            if (canto_stanza_parse(NULL, st->a, (size_t)-1, &x) != 0) {
                run_err(t->r, "test stanza does not parse: %s", st->a);
                break;
            }
            int rc = canto__stream_send_counted(t->s, x, (uint64_t)st->x, t->now);
            if (rc != st->y)
                run_err(t->r, "send_counted returned %d, expected %lld", rc, st->y);
            canto_stanza_free(x);
            break;
        }
        case K_EOF:
            canto__stream_eof(t->s, 0);
            break;
        case K_RESTART:
            pull(t);
            if (t->got_len)
                run_err(t->r, "unchecked client output before the restart:\n  %s", t->got);
            t->got_len = 0;
            canto__stream_free(t->s);
            t->s = NULL;
            start_stream(t);
            break;
        case K_CLOSED:
            if (t->r->closed != st->x)
                run_err(t->r, "%d closed events, expected %lld", t->r->closed, st->x);
            break;
        case K_EST: {
            int res = canto__stream_resumed(t->s), act = canto__stream_sm_active(t->s);
            if (t->r->established != st->x || res != st->y || act != st->z)
                run_err(t->r, "established/resumed/sm_active %d/%d/%d, expected %lld/%lld/%lld",
                        t->r->established, res, act, st->x, st->y, st->z);
            break;
        }
        case K_SM:
            check_sm(t, st);
            break;
        case K_ID: {
            const char *id = canto__sm_id(t->sm), *loc = canto__sm_location(t->sm);
            if (!same_str(id, st->a) || !same_str(loc, st->b))
                run_err(t->r, "SM id/location %s/%s, expected %s/%s", id ? id : "(null)",
                        loc ? loc : "(null)", st->a ? st->a : "(null)", st->b ? st->b : "(null)");
            break;
        }
        case K_DONE:
            if (strcmp(t->r->done, st->a) != 0)
                run_err(t->r, "delivery reports \"%s\", expected \"%s\"", t->r->done, st->a);
            break;
        case K_CALL:
            st->fn(t);
            break;
        case K_SUB:
            run_steps(t, st->sub);
            break;
        }
    }
}

/* One run; returns the length of the longest send that replays cut. */
static size_t run_once(const script *sc, size_t cut, run *r)
{
    memset(r, 0, sizeof(*r));
    ctx *t = calloc(1, sizeof(*t));
    if (!t) {
        run_err(r, "out of memory");
        return 0;
    }
    t->sc = sc;
    t->r = r;
    t->cut = cut;
    if (canto__sm_new(&A, on_done, t, &t->sm) != 0) {
        run_err(r, "canto__sm_new failed");
        free(t);
        return 0;
    }
    defaults(t);
    if (sc->setup)
        sc->setup(t);
    if (start_stream(t) == 0) {
        run_steps(t, sc->steps);
        pull(t);
        if (t->got_len)
            run_err(r, "unchecked client output at the end:\n  %s", t->got);
    }
    char *state = NULL;
    size_t len = 0;
    if (canto__sm_export(t->sm, &state, &len) == 0 && len < sizeof(r->final_sm)) {
        memcpy(r->final_sm, state, len);
        r->final_sm[len] = '\0';
    } else {
        run_err(r, "cannot export the SM state");
    }
    canto_free(state);
    canto__stream_free(t->s);
    canto__sm_free(t->sm);
    size_t longest = t->longest;
    free(t);
    return longest;
}

static run R;   /* the whole run of the script played last, for the test's checks */
static run alt; /* a replay */

static int replay(const script *sc, size_t cut, const char *want)
{
    static char got[32768];
    run_once(sc, cut, &alt);
    digest(&alt, got, sizeof(got));
    if (!alt.errors && strcmp(got, want) == 0)
        return 0;
    if (cut == CUT_BYTES)
        fprintf(stderr, "%s: fed byte by byte:\n", sc->name);
    else
        fprintf(stderr, "%s: sends cut at %zu:\n", sc->name, cut);
    if (alt.errors)
        fprintf(stderr, "  %s\n", alt.first_error);
    else
        fprintf(stderr, "  want %s\n  got  %s\n", want, got);
    return 1;
}

static void play(const script *sc)
{
    static char want[32768];
    size_t longest = run_once(sc, CUT_NONE, &R);
    if (R.errors)
        fprintf(stderr, "%s: %s\n", sc->name, R.first_error);
    CHECK_INT(R.errors, 0);
    if (sc->split_from < 0)
        return;
    /* A script asking for replays must have something to cut. */
    CHECK(longest > 1);
    digest(&R, want, sizeof(want));
    int bad = 0, runs = 0;
    for (size_t k = 1; k < longest && bad < 3; k++, runs++)
        bad += replay(sc, k, want);
    if (!bad) {
        bad += replay(sc, CUT_BYTES, want);
        runs++;
    }
    CHECK_INT(bad, 0);
    fprintf(stderr, "  %s: %d replays\n", sc->name, runs);
}

/* ------------------------------------------------------------------------ */
/* Transcript pieces */

#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SE "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_SM "urn:xmpp:sm:3"

#define SRV_HDR                                                                                    \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS          \
    "' id='s1' from='example.com' version='1.0'>"
#define CLI_HDR                                                                                    \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS          \
    "' version='1.0' xml:lang='en' to='example.com'>"
#define FEATURES(x) "<stream:features>" x "</stream:features>"
#define F_MECHS "<mechanisms xmlns='" NS_SASL "'><mechanism>ANONYMOUS</mechanism></mechanisms>"
#define F_BIND "<bind xmlns='" NS_BIND "'/>"
#define F_SM "<sm xmlns='" NS_SM "'/>"
#define AUTH "<auth xmlns='" NS_SASL "' mechanism='ANONYMOUS'>*</auth>"
#define SUCCESS "<success xmlns='" NS_SASL "'/>"
#define BIND_REQ                                                                                   \
    "<iq type='set' id='$ID'><bind xmlns='" NS_BIND "'><resource>res</resource></bind></iq>"
#define BIND_RES                                                                                   \
    "<iq type='result' id='$ID'><bind xmlns='" NS_BIND "'><jid>anon@example.com/res</jid>"         \
    "</bind></iq>"
#define CLOSE_TAG "</stream:stream>"

#define ENABLE "<enable xmlns='" NS_SM "' resume='true'/>"
#define ENABLED(attrs) "<enabled xmlns='" NS_SM "'" attrs "/>"
#define ENABLED_X ENABLED(" id='X' resume='true' location='host:5223' max='300'")
#define RESUME(h, id) "<resume xmlns='" NS_SM "' h='" h "' previd='" id "'/>"
#define RESUMED(h, id) "<resumed xmlns='" NS_SM "' h='" h "' previd='" id "'/>"
#define FAILED(attrs) "<failed xmlns='" NS_SM "'" attrs "/>"
#define FAILED_NOT_FOUND(attrs)                                                                    \
    "<failed xmlns='" NS_SM "'" attrs "><item-not-found xmlns='" NS_STANZAS "'/></failed>"
#define REQ "<r xmlns='" NS_SM "'/>"
#define ACK(h) "<a xmlns='" NS_SM "' h='" h "'/>"
#define TOO_HIGH(h, sent)                                                                          \
    "<stream:error><undefined-condition xmlns='" NS_SE "'/><handled-count-too-high xmlns='" NS_SM  \
    "' h='" h "' send-count='" sent "'/></stream:error>" CLOSE_TAG

/* Ours: numbered messages, written exactly as the engine serializes them. */
#define OUT(n) "<message to='friend@example.net' id='o" #n "'><body>" #n "</body></message>"
#define PRES_OUT "<presence/>"
#define IQ_OUT "<iq type='get' id='q1' to='example.com'><query xmlns='jabber:iq:version'/></iq>"
/* Named like a stanza, but not in jabber:client: not a stanza, never counted. */
#define NONZA "<message xmlns='urn:example:nonza'/>"
/* Theirs. */
#define IN(n) "<message from='friend@example.net/x' id='i" #n "'><body>" #n "</body></message>"

/* Up to our <enable/>: three server sends. */
#define N_TO_ENABLE 3
#define TO_BIND(features)                                                                          \
    EXPECT(CLI_HDR), SEND(SRV_HDR FEATURES(F_MECHS)), EXPECT(AUTH),                                \
        SEND(SUCCESS SRV_HDR FEATURES(features)), EXPECT(CLI_HDR BIND_REQ)

static const step to_enable[] = {
    TO_BIND(F_BIND F_SM),
    SEND(BIND_RES),
    EXPECT(ENABLE),
    END,
};

/* Established at T0 with SM session X: four server sends. */
#define N_ENABLED 4
static const step enabled_x[] = {
    SUB(to_enable), SEND(ENABLED_X), EXPECT(""), EST(1, 0, 1), END,
};

/* An SM state as an export (the format canto__sm_import() reads). */
static void import_state(ctx *t, int enabled, uint32_t sent, uint32_t acked, uint32_t received,
                         const char *id, const char *const *entries, const uint64_t *tokens,
                         size_t n)
{
    char buf[4096];
    int o =
        snprintf(buf, sizeof(buf), "canto-sm 1\n%d %" PRIu32 " %" PRIu32 " %" PRIu32 " 300 %zu\n",
                 enabled, sent, acked, received, n);
    if (id)
        o += snprintf(buf + o, sizeof(buf) - (size_t)o, "%zu\n%s\n", strlen(id) + 1, id);
    else
        o += snprintf(buf + o, sizeof(buf) - (size_t)o, "0\n");
    o += snprintf(buf + o, sizeof(buf) - (size_t)o, "0\n"); /* no location */
    for (size_t i = 0; i < n; i++)
        o += snprintf(buf + o, sizeof(buf) - (size_t)o, "%" PRIu64 " %zu\n%s\n", tokens[i],
                      strlen(entries[i]), entries[i]);
    if (o <= 0 || (size_t)o >= sizeof(buf) || canto__sm_import(t->sm, buf, (size_t)o) != 0)
        run_err(t->r, "cannot import the SM state");
}

/* The export's counter line: enabled sent acked received max count. */
static int export_fields(ctx *t, uint64_t f[6])
{
    char *buf = NULL;
    size_t len = 0;
    int ok =
        canto__sm_export(t->sm, &buf, &len) == 0 &&
        sscanf(buf,
               "canto-sm 1\n%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
               &f[0], &f[1], &f[2], &f[3], &f[4], &f[5]) == 6;
    canto_free(buf);
    if (!ok)
        run_err(t->r, "cannot read the SM export");
    return ok;
}

/* The state survives an export and an import, as a client keeps it. */
static void export_round_trip(ctx *t)
{
    char *buf = NULL;
    size_t len = 0;
    canto__sm *other = NULL;
    if (canto__sm_export(t->sm, &buf, &len) != 0 || canto__sm_new(&A, NULL, NULL, &other) != 0) {
        run_err(t->r, "cannot export the SM state");
    } else {
        int rc = canto__sm_import(other, buf, len);
        if (rc != 0)
            run_err(t->r, "the SM export does not import: %d", rc);
    }
    canto__sm_free(other);
    canto_free(buf);
}

/* ------------------------------------------------------------------------ */
/* 1. Enabling */

static void max_is_300(ctx *t)
{
    uint64_t f[6];
    if (export_fields(t, f) && (f[0] != 1 || f[4] != 300))
        run_err(t->r, "enabled=%" PRIu64 " max=%" PRIu64 ", expected 1 and 300", f[0], f[4]);
}

/* clang-format off */
static const step enable_steps[] = {
    TO_BIND(F_BIND F_SM),
    AT(T0 + 1000),
    SEND(BIND_RES),
    EXPECT(ENABLE),
    EST(0, 0, 0),        /* not before <enabled/> */
    DEADLINE(T0 + 4000), /* the enable step is timed */
    STANZA_RC(OUT(9), 9, CANTO_ESTATE), /* nothing goes out before <enabled/> */
    SM(0, 0, 0),
    SEND(ENABLED_X),
    EXPECT(""),
    EST(1, 0, 1),
    ID("X", "host:5223"),
    CALL(max_is_300),
    DEADLINE(T0 + 101000), /* keepalive: nothing of SM pending */
    SM(0, 0, 0),
    END,
};
/* clang-format on */

/* clang-format off */
static const step enabled_no_resume_steps[] = {
    SUB(to_enable),
    SEND(ENABLED(" id='X' max='60'")),
    EXPECT(""),
    EST(1, 0, 1),
    ID(NULL, NULL), /* an id without resume='true' is not a resumable session */
    STANZA(OUT(1), 1),
    EXPECT(OUT(1)),
    SM(1, 0, 1),
    SEND(ACK("1")),
    DONE("1"),
    END,
};
/* clang-format on */

static void ack_every_1(ctx *t)
{
    t->cfg.sm_ack_every = 1;
    t->cfg.sm_ack_ms = 1000;
}

static const step enable_failed_steps[] = {
    SUB(to_enable),
    SEND(FAILED_NOT_FOUND("")),
    EXPECT(""),
    EST(1, 0, 0),
    ID(NULL, NULL),
    STANZA(OUT(1), 1),
    EXPECT(OUT(1)), /* no <r/> although ack_every is 1 */
    SM(0, 0, 0),    /* nothing queued */
    DEADLINE(T0 + 100000),
    SEND(REQ),
    EXPECT(""), /* not answered */
    SEND(IN(1)),
    AT(T0 + 1000),
    EXPECT(""),
    SM(0, 0, 0),
    CLOSED(0),
    END,
};

static const step enable_timeout_steps[] = {
    SUB(to_enable),
    AT(T0 + 2999),
    CLOSED(0),
    AT(T0 + 3000),
    CLOSED(1),
    EXPECT("<stream:error><connection-timeout xmlns='" NS_SE "'/></stream:error>" CLOSE_TAG),
    EST(0, 0, 0),
    END,
};

/* clang-format off */
static const step no_sm_feature_steps[] = {
    TO_BIND(F_BIND),
    SEND(BIND_RES),
    EXPECT(""), /* no <enable/> */
    EST(1, 0, 0),
    STANZA(OUT(1), 1),
    EXPECT(OUT(1)),
    SM(0, 0, 0),
    END,
};
/* clang-format on */

static int test_enable(void)
{
    script a = {"enabled, resumable", NULL, enable_steps, N_TO_ENABLE - 1};
    play(&a);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.est, "anon@example.com/res resumed=0 sm=1;");
    CHECK_INT(R.closed, 0);

    script b = {"enabled, not resumable", NULL, enabled_no_resume_steps, N_TO_ENABLE};
    play(&b);
    CHECK_STR(R.est, "anon@example.com/res resumed=0 sm=1;");
    CHECK_STR(R.done, "1");

    script c = {"enable refused", ack_every_1, enable_failed_steps, N_TO_ENABLE};
    play(&c);
    CHECK_STR(R.est, "anon@example.com/res resumed=0 sm=0;");
    /* The <r/> of a stream without SM reaches nobody; the message does. */
    CHECK_INT(R.nstanzas, 1);
    CHECK(strstr(R.stanzas, "id='i1'") != NULL);
    CHECK_STR(R.done, "");

    script d = {"enable unanswered", NULL, enable_timeout_steps, -1};
    play(&d);
    CHECK_INT(R.error, CANTO_ETIMEDOUT);

    script e = {"no SM offered", ack_every_1, no_sm_feature_steps, -1};
    play(&e);
    CHECK_STR(R.est, "anon@example.com/res resumed=0 sm=0;");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 2. Counting */

/* Counters left from an earlier, unresumable session. */
static void stale_counters(ctx *t)
{
    import_state(t, 0, 5, 5, 7, NULL, NULL, NULL, 0);
}

static const step counting_steps[] = {
    SUB(to_enable),
    SM(0, 0, 0), /* the outbound count starts at <enable/> */
    SEND(ENABLED_X),
    EXPECT(""),
    SEND(REQ),
    EXPECT(ACK("0")), /* the bind result came before <enabled/> */
    STANZA(OUT(1), 1),
    STANZA(PRES_OUT, 2),
    STANZA(NONZA, 99),
    STANZA(IQ_OUT, 3),
    EXPECT(OUT(1) PRES_OUT NONZA IQ_OUT),
    SM(3, 0, 3),
    AT(T0 + 100000),
    EXPECT(" "), /* keepalive whitespace does not count */
    SM(3, 0, 3),
    SEND(IN(1)),
    SEND("<presence from='friend@example.net/x'/>"),
    SEND("<iq type='get' id='g1' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"),
    SEND("<iq type='result' id='q1' from='example.com'/>"),
    SEND(" "),
    SEND(ACK("1")),
    DONE("1"),
    SEND(REQ),
    EXPECT(ACK("4")), /* message, presence, both iqs; not <a/>, <r/> or whitespace */
    SEND(REQ REQ),
    EXPECT(ACK("4") ACK("4")),
    SM(3, 4, 2),
    SEND(IN(2) NONZA REQ),
    EXPECT(ACK("5")),
    SEND(ACK("3")),
    DONE("1 2 3"),
    CALL(export_round_trip),
    END,
};

static int test_counting(void)
{
    script a = {"counting", stale_counters, counting_steps, N_TO_ENABLE};
    play(&a);
    CHECK_INT(R.nstanzas, 6);            /* the nonza too: not ours to judge */
    CHECK(strstr(R.done, "99") == NULL); /* the nonza was never queued */
    CHECK_INT(R.closed, 0);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 3. Ack request cadence */

static void cadence(ctx *t)
{
    t->cfg.sm_ack_every = 3;
    t->cfg.sm_ack_ms = 2000;
}

static const step cadence_steps[] = {
    SUB(enabled_x),
    DEADLINE(T0 + 100000),
    AT(T0 + 100),
    STANZA(OUT(1), 1),
    STANZA(NONZA, 0),
    STANZA(OUT(2), 2),
    EXPECT(OUT(1) NONZA OUT(2)),
    DEADLINE(T0 + 2100), /* sm_ack_ms after the first unrequested stanza */
    STANZA(OUT(3), 3),
    EXPECT(OUT(3) REQ), /* the third counted stanza */
    DEADLINE(T0 + 100100),
    AT(T0 + 500),
    STANZA(OUT(4), 4),
    EXPECT(OUT(4)),
    DEADLINE(T0 + 2500),
    AT(T0 + 2499),
    EXPECT(""),
    AT(T0 + 2500),
    EXPECT(REQ), /* fewer than 3, but old enough */
    DEADLINE(T0 + 102500),
    SEND(ACK("4")),
    DONE("1 2 3 4"),
    SM(4, 0, 0),
    AT(T0 + 3000),
    STANZA(OUT(5), 5),
    STANZA(OUT(6), 6),
    EXPECT(OUT(5) OUT(6)), /* the timed <r/> restarted the count */
    STANZA(OUT(7), 7),
    EXPECT(OUT(7) REQ),
    AT(T0 + 4000),
    STANZA(OUT(8), 8),
    EXPECT(OUT(8)),
    DEADLINE(T0 + 6000),
    SEND(ACK("8")), /* acked unasked: nothing is left to ask about */
    DONE("1 2 3 4 5 6 7 8"),
    DEADLINE(T0 + 104000),
    AT(T0 + 6000),
    EXPECT(""),
    END,
};

static int test_cadence(void)
{
    script a = {"ack request cadence", cadence, cadence_steps, N_ENABLED};
    play(&a);
    CHECK_INT(R.closed, 0);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 4. Acks trim the queue */

static const step trim_steps[] = {
    SUB(enabled_x),
    STANZA(OUT(1), 11),
    STANZA(OUT(2), 12),
    STANZA(OUT(3), 13),
    STANZA(OUT(4), 14),
    STANZA(OUT(5), 15),
    EXPECT(OUT(1) OUT(2) OUT(3) OUT(4) OUT(5)),
    DONE(""),
    SEND(ACK("2")),
    DONE("11 12"),
    SM(5, 0, 3),
    SEND(ACK("2")), /* the same ack again */
    DONE("11 12"),
    SM(5, 0, 3),
    SEND(ACK("4")),
    DONE("11 12 13 14"),
    SEND(ACK("7")),
    EXPECT(TOO_HIGH("7", "5")),
    CLOSED(1),
    DONE("11 12 13 14"), /* the rest is the caller's to keep or fail */
    SM(5, 0, 1),
    END,
};

static const step ack_without_h_steps[] = {
    SUB(enabled_x),
    STANZA(OUT(1), 1),
    EXPECT(OUT(1)),
    SEND("<a xmlns='" NS_SM "'/>"),
    EXPECT(CLOSE_TAG),
    CLOSED(1),
    DONE(""),
    SM(1, 0, 1),
    END,
};

/* clang-format off */
static const step ack_bad_h_steps[] = {
    SUB(enabled_x),
    STANZA(OUT(1), 1),
    EXPECT(OUT(1)),
    SEND(ACK("-1")),
    EXPECT(CLOSE_TAG),
    CLOSED(1),
    DONE(""),
    END,
};
/* clang-format on */

static const step ack_huge_h_steps[] = {
    SUB(enabled_x),
    STANZA(OUT(1), 1),
    EXPECT(OUT(1)),
    SEND(ACK("4294967297")),
    EXPECT(CLOSE_TAG), /* not taken mod 2^32 as 1 */
    CLOSED(1),
    DONE(""),
    END,
};

static int test_trim(void)
{
    script a = {"acks trim the queue", NULL, trim_steps, N_ENABLED};
    play(&a);
    CHECK_INT(R.error, CANTO_EPROTO);
    CHECK_INT(R.feed_rc, CANTO_EPROTO);
    CHECK_INT(R.condition, CANTO_STREAM_COND_UNDEFINED_CONDITION);
    CHECK_INT(R.received, 0);
    CHECK(strstr(R.detail, "handled-count-too-high") != NULL);

    script b = {"ack without h", NULL, ack_without_h_steps, N_ENABLED};
    play(&b);
    CHECK_INT(R.error, CANTO_EPROTO);
    CHECK_INT(R.feed_rc, CANTO_EPROTO);

    script c = {"ack with a negative h", NULL, ack_bad_h_steps, -1};
    play(&c);
    CHECK_INT(R.error, CANTO_EPROTO);

    script d = {"ack with h past 2^32", NULL, ack_huge_h_steps, -1};
    play(&d);
    CHECK_INT(R.error, CANTO_EPROTO);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 5. Counters wrap at 2^32 */

static void near_wrap(ctx *t)
{
    static const char *const entries[] = {OUT(0)};
    static const uint64_t tokens[] = {7};
    /* Session X: 2^32-2 sent, the last of them unacked; 2^32-1 received. */
    import_state(t, 1, 4294967294u, 4294967293u, 4294967295u, "X", entries, tokens, 1);
}

static const step wrap_steps[] = {
    EXPECT(CLI_HDR),
    SEND(SRV_HDR FEATURES(F_MECHS)),
    EXPECT(AUTH),
    SEND(SUCCESS SRV_HDR FEATURES(F_BIND F_SM)),
    EXPECT(CLI_HDR RESUME("4294967295", "X")),
    SEND(RESUMED("4294967293", "X")),
    EXPECT(OUT(0) REQ),
    EST(1, 1, 1),
    DONE(""),
    SM(4294967294, 4294967295, 1),
    STANZA(OUT(1), 8),
    STANZA(OUT(2), 9),
    STANZA(OUT(3), 10),
    EXPECT(OUT(1) OUT(2) OUT(3)),
    SM(1, 4294967295, 4),
    SEND(ACK("0")),
    DONE("7 8 9"),
    SEND(IN(1) IN(2)),
    SEND(REQ),
    EXPECT(ACK("1")),
    SEND(ACK("1")),
    DONE("7 8 9 10"),
    SM(1, 1, 0),
    SEND(ACK("2")),
    EXPECT(TOO_HIGH("2", "1")),
    CLOSED(1),
    END,
};

static int test_wrap(void)
{
    script a = {"counters wrap", near_wrap, wrap_steps, 2};
    play(&a);
    CHECK_INT(R.nstanzas, 2);
    CHECK_INT(R.error, CANTO_EPROTO);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 6. Resumption */

/* Session X sends four stanzas, receives two, hears one acked; the
 * connection drops; the next stream asks to resume. Nine server sends. */
#define N_RECONNECTED 9
static const step reconnect_steps[] = {
    SUB(enabled_x),
    STANZA(OUT(1), 1),
    STANZA(OUT(2), 2),
    STANZA(OUT(3), 3),
    STANZA(OUT(4), 4),
    EXPECT(OUT(1) OUT(2) OUT(3) OUT(4)),
    SEND(IN(1) IN(2)),
    SEND(ACK("1")),
    DONE("1"),
    AT(T0 + 1000),
    EOF_(),
    CLOSED(1),
    RESTART(),
    EXPECT(CLI_HDR),
    SEND(SRV_HDR FEATURES(F_MECHS)),
    EXPECT(AUTH),
    SEND(SUCCESS),
    EXPECT(CLI_HDR),
    AT(T0 + 1500),
    SEND(SRV_HDR FEATURES(F_BIND F_SM)),
    EXPECT(RESUME("2", "X")), /* instead of binding */
    EST(1, 0, 0),
    DEADLINE(T0 + 4500), /* the resume step is timed */
    SM(4, 2, 3),
    END,
};

static const step resume_steps[] = {
    SUB(reconnect_steps),
    SEND(RESUMED("2", "X")),
    EXPECT(OUT(3) OUT(4) REQ), /* the unacked tail, as first sent, in order */
    EST(2, 1, 1),
    DONE("1 2"),
    SM(4, 2, 2),
    ID("X", "host:5223"),
    STANZA(OUT(5), 5),
    EXPECT(OUT(5)),
    SEND(IN(3)),
    SEND(REQ),
    EXPECT(ACK("3")), /* inbound counting went on from 2 */
    SEND(ACK("5")),
    DONE("1 2 3 4 5"),
    SM(5, 3, 0),
    END,
};

static const step resume_all_acked_steps[] = {
    SUB(reconnect_steps),
    SEND(RESUMED("4", "X")),
    EXPECT(""), /* nothing to resend, nothing to ask */
    EST(2, 1, 1),
    DONE("1 2 3 4"),
    END,
};

static const step resumed_too_high_steps[] = {
    SUB(reconnect_steps),
    SEND(RESUMED("5", "X")),
    EXPECT(TOO_HIGH("5", "4")),
    CLOSED(2),
    EST(1, 0, 0),
    DONE("1"),
    SM(4, 2, 3),
    END,
};

static int test_resume(void)
{
    script a = {"resumed", NULL, resume_steps, N_RECONNECTED};
    play(&a);
    CHECK_INT(R.established, 2);
    CHECK(strstr(R.est, "resumed=1 sm=1;") != NULL);
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.nstanzas, 3);

    script b = {"resumed, all acked", NULL, resume_all_acked_steps, N_RECONNECTED};
    play(&b);
    CHECK_INT(R.closed, 1);

    script c = {"resumed, h too high", NULL, resumed_too_high_steps, N_RECONNECTED};
    play(&c);
    CHECK_INT(R.error, CANTO_EPROTO);
    CHECK_INT(R.condition, CANTO_STREAM_COND_UNDEFINED_CONDITION);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 7. Resumption refused */

/* What a client does with the queue of a lost session on the new one: take
 * every stanza out and send it again. */
static void resend_queue(ctx *t)
{
    static const char *const want[] = {OUT(3), OUT(4)};
    for (int i = 0; i < 2; i++) {
        char *xml = NULL;
        size_t len = 0;
        uint64_t token = 0;
        if (canto__sm_pop(t->sm, &xml, &len, &token) != 0) {
            run_err(t->r, "the queue holds %d stanza(s), expected 2", i);
            return;
        }
        if (token != (uint64_t)i + 3 || len != strlen(want[i]) || memcmp(xml, want[i], len) != 0)
            run_err(t->r, "queue entry %d: token %" PRIu64 ", %.*s", i, token, (int)len, xml);
        canto_stanza *st = NULL;
        if (canto_stanza_parse(NULL, xml, len, &st) != 0 ||
            canto__stream_send_counted(t->s, st, token, t->now) != 0)
            run_err(t->r, "cannot send queue entry %d again", i);
        canto_stanza_free(st);
        canto_free(xml);
    }
}

/* Or give up on them. */
static void fail_queue(ctx *t)
{
    canto__sm_fail_all(t->sm, CANTO_ECLOSED);
}

#define RESUME_REFUSED(h_attr)                                                                     \
    SUB(reconnect_steps), SEND(FAILED_NOT_FOUND(h_attr)), EXPECT(BIND_REQ), ID(NULL, NULL),        \
        EST(1, 0, 0)

static const step resume_failed_steps[] = {
    RESUME_REFUSED(" h='2'"),
    DONE("1 2"), /* trimmed first */
    SM(4, 2, 2),
    SEND(BIND_RES),
    EXPECT(ENABLE),
    SEND(ENABLED(" id='Y' resume='true'")),
    EXPECT(""),
    EST(2, 0, 1),
    ID("Y", NULL),
    SM(0, 0, 2), /* new counters; the old tail still queued, unreported */
    DONE("1 2"),
    CALL(export_round_trip),
    SEND(REQ),
    EXPECT(ACK("0")),
    CALL(resend_queue),
    EXPECT(OUT(3) OUT(4)),
    STANZA(OUT(5), 5),
    EXPECT(OUT(5)),
    SM(3, 0, 3),
    SEND(ACK("2")),
    DONE("1 2 3 4"),
    SEND(ACK("3")),
    DONE("1 2 3 4 5"),
    CALL(export_round_trip),
    CLOSED(1),
    END,
};

/* Reports after the stale tail (tokens 3 and 4) was failed with CANTO_ECLOSED. */
static void tail_failed(ctx *t)
{
    char want[64];
    snprintf(want, sizeof(want), "1 2 3!%d 4!%d", CANTO_ECLOSED, CANTO_ECLOSED);
    if (strcmp(t->r->done, want) != 0)
        run_err(t->r, "delivery reports \"%s\", expected \"%s\"", t->r->done, want);
}

static void tail_failed_then_5(ctx *t)
{
    char want[64];
    snprintf(want, sizeof(want), "1 2 3!%d 4!%d 5", CANTO_ECLOSED, CANTO_ECLOSED);
    if (strcmp(t->r->done, want) != 0)
        run_err(t->r, "delivery reports \"%s\", expected \"%s\"", t->r->done, want);
}

/* clang-format off */
static const step resume_failed_drop_steps[] = {
    RESUME_REFUSED(" h='2'"),
    SEND(BIND_RES),
    EXPECT(ENABLE),
    SEND(ENABLED_X),
    EXPECT(""),
    EST(2, 0, 1),
    CALL(fail_queue),
    CALL(tail_failed),
    SM(0, 0, 0),
    STANZA(OUT(5), 5),
    EXPECT(OUT(5)),
    SEND(ACK("1")),
    CALL(tail_failed_then_5),
    CLOSED(1),
    END,
};
/* clang-format on */

/* clang-format off */
static const step resume_failed_no_h_steps[] = {
    RESUME_REFUSED(""),
    DONE("1"), /* nothing trimmed */
    SM(4, 2, 3),
    SEND(BIND_RES),
    EXPECT(ENABLE),
    SEND(ENABLED(" id='Z' resume='true'")),
    EXPECT(""),
    EST(2, 0, 1),
    ID("Z", NULL),
    SM(0, 0, 3),
    DONE("1"),
    END,
};
/* clang-format on */

static const step resume_failed_too_high_steps[] = {
    SUB(reconnect_steps),
    SEND(FAILED(" h='9'")),
    EXPECT(TOO_HIGH("9", "4")),
    CLOSED(2),
    DONE("1"),
    SM(4, 2, 3),
    END,
};

#define TWICE_BOUND "anon@example.com/res resumed=0 sm=1;anon@example.com/res resumed=0 sm=1;"

static int test_resume_failed(void)
{
    script a = {"resumption refused", NULL, resume_failed_steps, N_RECONNECTED};
    play(&a);
    CHECK_STR(R.est, TWICE_BOUND);
    CHECK_INT(R.closed, 1);

    script b = {"resumption refused, tail failed", NULL, resume_failed_drop_steps,
                N_RECONNECTED + 2};
    play(&b);
    CHECK_STR(R.est, TWICE_BOUND);

    script c = {"resumption refused without h", NULL, resume_failed_no_h_steps, N_RECONNECTED};
    play(&c);
    CHECK_STR(R.est, TWICE_BOUND);

    script d = {"resumption refused, h too high", NULL, resume_failed_too_high_steps, -1};
    play(&d);
    CHECK_INT(R.error, CANTO_EPROTO);
    CHECK_INT(R.established, 1);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 8. Liveness with SM: <r/> is the probe */

static void liveness(ctx *t)
{
    t->cfg.ping_after_ms = 5000;
    t->cfg.dead_after_ms = 2000;
}

/* clang-format off */
static const step liveness_steps[] = {
    SUB(enabled_x), /* <enabled/> came at T0 */
    DEADLINE(T0 + 5000),
    AT(T0 + 4999),
    EXPECT(""),
    AT(T0 + 5000),
    EXPECT(REQ), /* not an iq ping */
    DEADLINE(T0 + 7000),
    AT(T0 + 6000),
    SEND(ACK("0")),
    DEADLINE(T0 + 11000),
    AT(T0 + 11000),
    EXPECT(REQ),
    AT(T0 + 12999),
    CLOSED(0),
    EXPECT(""),
    AT(T0 + 13000),
    CLOSED(1),
    EXPECT(CLOSE_TAG),
    SM(0, 0, 0),
    END,
};
/* clang-format on */

static int test_liveness(void)
{
    script a = {"liveness with SM", liveness, liveness_steps, N_ENABLED};
    play(&a);
    CHECK_INT(R.error, CANTO_ETIMEDOUT);
    CHECK_INT(R.nstanzas, 0);
    return 0;
}

int main(void)
{
    REQUIRE(canto__alloc_init(&A, NULL) == 0);
    RUN(test_enable);
    RUN(test_counting);
    RUN(test_cadence);
    RUN(test_trim);
    RUN(test_wrap);
    RUN(test_resume);
    RUN(test_resume_failed);
    RUN(test_liveness);
    return CHECK_DONE();
}
