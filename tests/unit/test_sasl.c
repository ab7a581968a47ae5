/* SASL engine: mechanism choice, SCRAM exchanges against libgsasl's server
 * side, channel-binding flags, server-signature checks, known answers
 * (RFC 5802, RFC 7677), XEP-0474, PLAIN/EXTERNAL/ANONYMOUS payloads,
 * <failure/> conditions, password wiping, logging, allocation failures. */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gsasl.h>

#include <canto/canto.h>
#include <canto/sasl.h>
#include "stream/sasl.h"
#include "stream/sasl_impl.h"

#define PASSWORD "pencil"

/* ------------------------------------------------------------------------ */
/* A fixed client nonce for the known-answer tests. libgsasl's SCRAM client
 * draws its nonce from gsasl_nonce(), which it calls through the PLT, so this
 * definition in the executable takes its place; outside those tests it is
 * libgsasl's own randomness. */

static unsigned char fixed_nonce[18];
static int use_fixed_nonce;

int gsasl_nonce(char *data, size_t datalen)
{
    if (use_fixed_nonce && datalen == sizeof(fixed_nonce)) {
        memcpy(data, fixed_nonce, datalen);
        return GSASL_OK;
    }
    return gsasl_random(data, datalen);
}

/* ------------------------------------------------------------------------ */
/* Helpers: base64 through libgsasl (independent of the engine's own code). */

static char *b64(const char *raw, size_t len)
{
    char *out = NULL;
    if (gsasl_base64_to(raw, len, &out, NULL) != GSASL_OK)
        return NULL;
    return out;
}

static char *b64s(const char *raw)
{
    return b64(raw, strlen(raw));
}

/* Decode into a NUL-terminated buffer (at most cap - 1 bytes); 0 on success. */
static int unb64(const char *text, char *buf, size_t cap, size_t *len)
{
    char *out = NULL;
    size_t n = 0;
    if (strcmp(text, "=") == 0 || !*text) {
        buf[0] = '\0';
        *len = 0;
        return 0;
    }
    if (gsasl_base64_from(text, strlen(text), &out, &n) != GSASL_OK || n >= cap) {
        gsasl_free(out);
        return -1;
    }
    memcpy(buf, out, n);
    buf[n] = '\0';
    *len = n;
    gsasl_free(out);
    return 0;
}

/* Split a space-separated list into a static array (for tables). */
static size_t split(const char *list, char store[][40], const char **out, size_t max)
{
    size_t n = 0;
    if (!list)
        return 0;
    const char *p = list;
    while (*p && n < max) {
        while (*p == ' ')
            p++;
        size_t l = strcspn(p, " ");
        if (!l)
            break;
        snprintf(store[n], 40, "%.*s", (int)l, p);
        out[n] = store[n];
        n++;
        p += l;
    }
    return n;
}

/* Every log message of every engine in this file, to prove none leaks a
 * secret (checked at the end). */
static char log_sink[65536];
static size_t log_used;

static void on_log(void *ud, canto_log_level level, const char *area, const char *msg)
{
    (void)ud;
    (void)level;
    int w = snprintf(log_sink + log_used, sizeof(log_sink) - log_used, "%s: %s\n", area, msg);
    if (w > 0 && (size_t)w < sizeof(log_sink) - log_used)
        log_used += (size_t)w;
}

static const canto__log test_log = {on_log, NULL, CANTO_LOG_DEBUG};

static canto__alloc libc_alloc(void)
{
    canto__alloc a;
    canto__alloc_init(&a, NULL);
    return a;
}

static canto__sasl_config cfg_password(void)
{
    canto__sasl_config c = {0};
    c.authcid = "user";
    c.password = PASSWORD;
    return c;
}

/* ------------------------------------------------------------------------ */
/* libgsasl's server side, standing in for the XMPP server. */

typedef struct server {
    Gsasl *ctx;
    Gsasl_session *sess;
    const char *password;
    const char *exporter_b64; /* binding data the server's TLS layer has, or NULL */
    const char *unique_b64;
} server;

static int server_cb(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
    server *sv = gsasl_callback_hook_get(ctx);
    switch (prop) {
    case GSASL_PASSWORD:
        return gsasl_property_set(sess, prop, sv->password);
    case GSASL_CB_TLS_EXPORTER:
        return sv->exporter_b64 ? gsasl_property_set(sess, prop, sv->exporter_b64)
                                : GSASL_NO_CALLBACK;
    case GSASL_CB_TLS_UNIQUE:
        return sv->unique_b64 ? gsasl_property_set(sess, prop, sv->unique_b64) : GSASL_NO_CALLBACK;
    default:
        return GSASL_NO_CALLBACK;
    }
}

static int server_start(server *sv, const char *mech)
{
    if (gsasl_init(&sv->ctx) != GSASL_OK)
        return -1;
    gsasl_callback_hook_set(sv->ctx, sv);
    gsasl_callback_set(sv->ctx, server_cb);
    return gsasl_server_start(sv->ctx, mech, &sv->sess) == GSASL_OK ? 0 : -1;
}

static void server_end(server *sv)
{
    gsasl_finish(sv->sess);
    gsasl_done(sv->ctx);
}

/* How the server delivers its final message (the "v=" server signature). */
typedef enum final_mode {
    FINAL_IN_SUCCESS,   /* <success>v=...</success>, the usual way */
    FINAL_AS_CHALLENGE, /* <challenge>v=...</challenge>, then an empty <success/> */
    FINAL_TAMPERED,     /* <success> with one character of the signature changed */
    FINAL_MISSING,      /* <success/> without additional data */
} final_mode;

typedef struct outcome {
    int start, server1, step1, server2, final_step, final;
    char first[512]; /* the decoded client-first message */
} outcome;

static void run_scram(canto__sasl *c, server *sv, final_mode mode, outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->server1 = o->server2 = o->step1 = o->final_step = o->final = 99;
    char *init = NULL, *resp = NULL, *out = NULL, *enc = NULL;
    char raw[512];
    size_t len, out_len;
    o->start = canto__sasl_start(c, &init);
    if (o->start != 0 || unb64(init, raw, sizeof(raw), &len) != 0)
        goto done;
    snprintf(o->first, sizeof(o->first), "%s", raw);

    o->server1 = gsasl_step(sv->sess, raw, len, &out, &out_len);
    if (o->server1 != GSASL_NEEDS_MORE)
        goto done;
    enc = b64(out, out_len);
    gsasl_free(out);
    out = NULL;
    o->step1 = canto__sasl_step(c, enc, &resp);
    gsasl_free(enc);
    enc = NULL;
    if (o->step1 != 0 || unb64(resp, raw, sizeof(raw), &len) != 0)
        goto done;

    o->server2 = gsasl_step(sv->sess, raw, len, &out, &out_len);
    if (o->server2 != GSASL_OK)
        goto done;
    if (mode == FINAL_TAMPERED) /* "v=" + base64: change a character of the signature */
        out[4] = out[4] == 'A' ? 'B' : 'A';
    enc = b64(out, out_len);
    switch (mode) {
    case FINAL_IN_SUCCESS:
    case FINAL_TAMPERED:
        o->final = canto__sasl_success(c, enc);
        break;
    case FINAL_AS_CHALLENGE: {
        char *empty = NULL;
        o->final_step = canto__sasl_step(c, enc, &empty);
        if (o->final_step == 0 && strcmp(empty, "") != 0)
            o->final_step = 98; /* the response to a server-final must be empty */
        canto__sasl_payload_free(empty);
        o->final = canto__sasl_success(c, NULL);
        break;
    }
    case FINAL_MISSING:
        o->final = canto__sasl_success(c, NULL);
        break;
    }
done:
    gsasl_free(out);
    gsasl_free(enc);
    canto__sasl_payload_free(init);
    canto__sasl_payload_free(resp);
}

/* Does this libgsasl send the GS2 'y' flag when given binding data for a
 * non-PLUS mechanism? 2.2.0 does not: it fails the first step instead. The
 * engine adapts (sasl_exchange.c); the tests expect whichever is true. */
static int probe_cb(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
    (void)ctx;
    if (prop == GSASL_AUTHID)
        return gsasl_property_set(sess, prop, "user");
    if (prop == GSASL_CB_TLS_EXPORTER)
        return gsasl_property_set(sess, prop, "QUJDREVGR0g=");
    return GSASL_NO_CALLBACK;
}

static int gsasl_sends_y(void)
{
    Gsasl *ctx;
    Gsasl_session *sess;
    char *out = NULL;
    size_t len = 0;
    int y = 0;
    if (gsasl_init(&ctx) != GSASL_OK)
        return 0;
    gsasl_callback_set(ctx, probe_cb);
    if (gsasl_client_start(ctx, "SCRAM-SHA-256", &sess) == GSASL_OK) {
        y = gsasl_step(sess, NULL, 0, &out, &len) == GSASL_NEEDS_MORE && len > 2 &&
            memcmp(out, "y,", 2) == 0;
        gsasl_free(out);
        gsasl_finish(sess);
    }
    gsasl_done(ctx);
    return y;
}

static int y_works;

/* ------------------------------------------------------------------------ */

static int test_base64(void)
{
    canto__alloc a = libc_alloc();
    char *out;
    size_t len;
    CHECK_INT(canto__sasl_b64_encode(&a, "", 0, &out), 0);
    CHECK_STR(out, "");
    canto_free(out);
    CHECK_INT(canto__sasl_b64_encode(&a, "\0user\0pencil", 12, &out), 0);
    CHECK_STR(out, "AHVzZXIAcGVuY2ls");
    canto_free(out);
    CHECK_INT(canto__sasl_b64_encode(&a, "ab", 2, &out), 0);
    CHECK_STR(out, "YWI=");
    canto_free(out);

    CHECK_INT(canto__sasl_b64_decode(&a, "AHVzZXIAcGVuY2ls", &out, &len), 0);
    CHECK_INT(len, 12);
    CHECK(memcmp(out, "\0user\0pencil", 12) == 0);
    canto_free(out);
    CHECK_INT(canto__sasl_b64_decode(&a, " YW\nI= ", &out, &len), 0); /* XML whitespace */
    CHECK_INT(len, 2);
    CHECK_STR(out, "ab");
    canto_free(out);
    CHECK_INT(canto__sasl_b64_decode(&a, "=", &out, &len), 0); /* RFC 6120: empty */
    CHECK_INT(len, 0);
    canto_free(out);
    CHECK_INT(canto__sasl_b64_decode(&a, "", &out, &len), 0);
    CHECK_INT(len, 0);
    canto_free(out);
    const char *bad[] = {"YWI", "YW=I", "YWJ=", "Y===", "YWI*", "==", "YWI=YWI=", "Y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        out = (char *)1;
        CHECK_INT(canto__sasl_b64_decode(&a, bad[i], &out, &len), CANTO_EPROTO);
        CHECK(out == NULL);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Mechanism choice. */

enum { C_PASS = 1, C_CERT = 2, C_ANON = 4, C_NOUSER = 8 };

typedef struct sel_row {
    const char *offered; /* space-separated */
    int tls;
    const char *allow;     /* space-separated allow-list, or NULL for all */
    const char *cb;        /* binding type the TLS layer offers, or NULL */
    const char *server_cb; /* XEP-0440 list; NULL: not advertised; "": empty */
    int creds;
    const char *want; /* the chosen mechanism, or NULL for CANTO_EAUTH */
    const char *gs2;  /* client-first prefix; "Y": 'y' if libgsasl can, else 'n' */
} sel_row;

static const char *const ALL =
    "SCRAM-SHA-1 SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-256-PLUS PLAIN";

static const sel_row sel_table[] = {
    {"SCRAM-SHA-1 SCRAM-SHA-256 PLAIN", 1, NULL, NULL, NULL, C_PASS, "SCRAM-SHA-256", "n,,"},
    {NULL, 1, NULL, "tls-exporter", NULL, C_PASS, "SCRAM-SHA-256-PLUS", "p=tls-exporter,,"},
    {NULL, 1, NULL, "tls-unique", NULL, C_PASS, "SCRAM-SHA-256-PLUS", "p=tls-unique,,"},
    /* allow-list excludes -PLUS while the server offers it: must be 'n' */
    {NULL, 1, "SCRAM-SHA-256", "tls-exporter", NULL, C_PASS, "SCRAM-SHA-256", "n,,"},
    {NULL, 1, "SCRAM-SHA-1 SCRAM-SHA-1-PLUS", "tls-unique", NULL, C_PASS, "SCRAM-SHA-1-PLUS",
     "p=tls-unique,,"},
    {"SCRAM-SHA-1-PLUS SCRAM-SHA-1", 1, NULL, "tls-exporter", NULL, C_PASS, "SCRAM-SHA-1-PLUS",
     "p=tls-exporter,,"},
    /* no -PLUS offered but binding data at hand: 'y' */
    {"SCRAM-SHA-256 SCRAM-SHA-1", 1, NULL, "tls-exporter", NULL, C_PASS, "SCRAM-SHA-256", "Y"},
    {NULL, 1, NULL, NULL, NULL, C_PASS, "SCRAM-SHA-256", "n,,"},           /* no binding data */
    {NULL, 0, NULL, "tls-exporter", NULL, C_PASS, "SCRAM-SHA-256", "n,,"}, /* no TLS */
    /* an unknown -PLUS name still says "the server does channel binding" */
    {"SCRAM-SHA-512-PLUS SCRAM-SHA-256", 1, NULL, "tls-exporter", NULL, C_PASS, "SCRAM-SHA-256",
     "n,,"},
    {NULL, 1, NULL, "tls-server-end-point", NULL, C_PASS, "SCRAM-SHA-256", "n,,"},
    /* XEP-0440 lists */
    {NULL, 1, NULL, "tls-exporter", "tls-server-end-point", C_PASS, "SCRAM-SHA-256", "n,,"},
    {NULL, 1, NULL, "tls-exporter", "tls-server-end-point tls-exporter", C_PASS,
     "SCRAM-SHA-256-PLUS", "p=tls-exporter,,"},
    {NULL, 1, NULL, "tls-unique", "", C_PASS, "SCRAM-SHA-256", "n,,"},
    /* PLAIN only with TLS, allow-list or not */
    {"PLAIN", 0, NULL, NULL, NULL, C_PASS, NULL, NULL},
    {"PLAIN", 0, "PLAIN", NULL, NULL, C_PASS, NULL, NULL},
    {"PLAIN", 1, NULL, NULL, NULL, C_PASS, "PLAIN", NULL},
    {"PLAIN SCRAM-SHA-1", 0, NULL, NULL, NULL, C_PASS, "SCRAM-SHA-1", "n,,"},
    {NULL, 1, "PLAIN", "tls-exporter", NULL, C_PASS, "PLAIN", NULL},
    /* EXTERNAL: only with a certificate, and so only with TLS */
    {"EXTERNAL PLAIN", 1, NULL, NULL, NULL, C_PASS | C_CERT, "PLAIN", NULL},
    {"EXTERNAL PLAIN", 1, NULL, NULL, NULL, C_CERT, "EXTERNAL", NULL},
    {"EXTERNAL", 0, NULL, NULL, NULL, C_CERT, NULL, NULL},
    {"EXTERNAL", 1, NULL, NULL, NULL, C_PASS, NULL, NULL},
    /* ANONYMOUS: asked for, or no credentials at all */
    {"ANONYMOUS PLAIN", 1, NULL, NULL, NULL, C_PASS, "PLAIN", NULL},
    {"ANONYMOUS", 1, NULL, NULL, NULL, C_PASS, NULL, NULL},
    {"ANONYMOUS", 1, NULL, NULL, NULL, 0, NULL, NULL}, /* a JID without its password */
    {"ANONYMOUS", 0, NULL, NULL, NULL, C_NOUSER, "ANONYMOUS", NULL},
    {"ANONYMOUS SCRAM-SHA-1", 1, "ANONYMOUS", NULL, NULL, C_PASS | C_ANON, "ANONYMOUS", NULL},
    /* allow-list, case-insensitive; nothing usable */
    {"SCRAM-SHA-256 SCRAM-SHA-1", 1, "scram-sha-1", NULL, NULL, C_PASS, "SCRAM-SHA-1", "n,,"},
    {"SCRAM-SHA-256", 1, "PLAIN", NULL, NULL, C_PASS, NULL, NULL},
    {"DIGEST-MD5 CRAM-MD5", 1, NULL, NULL, NULL, C_PASS, NULL, NULL},
    {"", 1, NULL, NULL, NULL, C_PASS, NULL, NULL},
    {"SCRAM-SHA-256", 1, NULL, NULL, NULL, 0, NULL, NULL}, /* no password */
};

static int check_row(size_t i, const sel_row *r)
{
    char store[8][40], cbst[4][40];
    const char *offered[8], *scb[4];
    size_t n = split(r->offered ? r->offered : ALL, store, offered, 8);
    canto__sasl_config cfg = {0};
    cfg.authcid = r->creds & C_NOUSER ? NULL : "user";
    cfg.password = r->creds & C_PASS ? PASSWORD : NULL;
    cfg.client_cert = !!(r->creds & C_CERT);
    cfg.anonymous = !!(r->creds & C_ANON);
    char alst[4][40];
    const char *allow[5] = {NULL};
    if (r->allow)
        split(r->allow, alst, allow, 4);
    cfg.mechanisms = r->allow ? allow : NULL;

    canto__alloc a = libc_alloc();
    canto__sasl *s;
    REQUIRE(canto__sasl_new(&a, &test_log, &cfg, &s) == 0);
    if (r->server_cb) {
        size_t m = split(r->server_cb, cbst, scb, 4);
        CHECK_INT(canto__sasl_set_server_cb_types(s, scb, m), 0);
    }
    const unsigned char cbdata[] = "0123456789abcdef0123456789abcdef";
    canto__sasl_cb cb = {r->cb, cbdata, 32};
    const char *chosen = "x";
    int rc = canto__sasl_select(s, offered, n, r->tls, r->cb ? &cb : NULL, &chosen);
    int ok = 1;
    if (!r->want) {
        ok &= rc == CANTO_EAUTH && chosen == NULL && canto__sasl_error(s)[0] != '\0';
    } else {
        ok &= rc == 0 && chosen && strcmp(chosen, r->want) == 0;
        ok &= canto__sasl_mechanism(s) == chosen;
        char *init = NULL;
        ok &= canto__sasl_start(s, &init) == 0 && init != NULL;
        char raw[256] = "";
        size_t len;
        if (init && r->gs2) {
            const char *want = r->gs2[0] != 'Y' ? r->gs2 : y_works ? "y,," : "n,,";
            ok &= unb64(init, raw, sizeof(raw), &len) == 0 && strncmp(raw, want, strlen(want)) == 0;
            /* The decision itself, whatever this libgsasl can send. */
            ok &= s->try_y == (r->gs2[0] == 'Y');
            /* 'n' must mean that libgsasl was given no binding data at all. */
            if (want[0] == 'n')
                ok &= !gsasl_property_fast(s->session, GSASL_CB_TLS_EXPORTER) &&
                      !gsasl_property_fast(s->session, GSASL_CB_TLS_UNIQUE);
        }
        canto__sasl_payload_free(init);
        if (!ok)
            fprintf(stderr, "  first message: %s\n", raw);
    }
    if (!ok)
        fprintf(stderr, "  row %zu: rc %d chosen %s, want %s\n", i, rc, chosen ? chosen : "-",
                r->want ? r->want : "-");
    CHECK(ok);
    canto__sasl_free(s);
    return 0;
}

static int test_select_table(void)
{
    for (size_t i = 0; i < sizeof(sel_table) / sizeof(sel_table[0]); i++)
        check_row(i, &sel_table[i]);
    return 0;
}

static int test_select_reasons(void)
{
    canto__alloc a = libc_alloc();
    canto__sasl_config cfg = cfg_password();
    canto__sasl *s;
    REQUIRE(canto__sasl_new(&a, &test_log, &cfg, &s) == 0);
    const char *plain[] = {"PLAIN"}, *chosen;
    CHECK_INT(canto__sasl_select(s, plain, 1, 0, NULL, &chosen), CANTO_EAUTH);
    CHECK(strstr(canto__sasl_error(s), "need TLS") != NULL);
    CHECK(strstr(canto__sasl_error(s), "PLAIN") != NULL);
    /* choose again, this time over TLS */
    CHECK_INT(canto__sasl_select(s, plain, 1, 1, NULL, &chosen), 0);
    CHECK_STR(chosen, "PLAIN");
    CHECK_STR(canto__sasl_error(s), "");
    CHECK_INT(canto__sasl_select(s, NULL, 1, 1, NULL, &chosen), CANTO_EINVAL);
    CHECK_INT(canto__sasl_select(s, plain, 1, 1, NULL, NULL), CANTO_EINVAL);
    const char *with_null[] = {"PLAIN", NULL};
    CHECK_INT(canto__sasl_select(s, with_null, 2, 1, NULL, &chosen), CANTO_EINVAL);
    canto__sasl_free(s);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Full SCRAM exchanges against libgsasl's server. */

typedef struct scram_case {
    const char *name;
    const char *offered;   /* what the server advertised */
    const char *allow;     /* the application's allow-list, or NULL */
    const char *client_cb; /* "tls-exporter"/"tls-unique" with data "client_cb_data", or NULL */
    const char *server_mech;
    const char *server_exporter, *server_unique; /* the server's binding data, base64 */
    const char *server_password;
    final_mode mode;
    const char *want_first; /* prefix of client-first; "Y": y or n per libgsasl */
    int want_server2;       /* GSASL_OK, or the server's rejection */
    int want_final;         /* result of canto__sasl_success() */
} scram_case;

#define CB_DATA "binding-data-32-bytes-long......"
#define CB_B64 "YmluZGluZy1kYXRhLTMyLWJ5dGVzLWxvbmcuLi4uLi4="
#define OTHER_B64 "b3RoZXItYmluZGluZy1kYXRh"

static int scram_one(const scram_case *c, const char *hash)
{
    char offered_s[200], allow_s[64], mech[40];
    snprintf(offered_s, sizeof(offered_s), c->offered, hash, hash, hash);
    snprintf(mech, sizeof(mech), c->server_mech, hash);
    char store[8][40], astore[4][40];
    const char *offered[8], *allow[5] = {NULL};
    size_t n = split(offered_s, store, offered, 8);
    if (c->allow) {
        snprintf(allow_s, sizeof(allow_s), c->allow, hash);
        split(allow_s, astore, allow, 4);
    }
    canto__sasl_config cfg = cfg_password();
    cfg.mechanisms = c->allow ? allow : NULL;
    canto__alloc a = libc_alloc();
    canto__sasl *s;
    REQUIRE(canto__sasl_new(&a, &test_log, &cfg, &s) == 0);
    canto__sasl_cb cb = {c->client_cb, (const unsigned char *)CB_DATA, strlen(CB_DATA)};
    const char *chosen;
    int rc = canto__sasl_select(s, offered, n, 1, c->client_cb ? &cb : NULL, &chosen);
    CHECK_INT(rc, 0);
    if (rc != 0) {
        canto__sasl_free(s);
        return 0;
    }
    server sv = {0};
    sv.password = c->server_password ? c->server_password : PASSWORD;
    sv.exporter_b64 = c->server_exporter;
    sv.unique_b64 = c->server_unique;
    REQUIRE(server_start(&sv, mech) == 0);
    CHECK_STR(chosen, mech);

    outcome o;
    run_scram(s, &sv, c->mode, &o);
    const char *want = c->want_first[0] != 'Y' ? c->want_first : y_works ? "y,," : "n,,";
    int ok = o.start == 0 && strncmp(o.first, want, strlen(want)) == 0 &&
             o.server1 == GSASL_NEEDS_MORE && o.step1 == 0 && o.server2 == c->want_server2;
    if (c->want_server2 == GSASL_OK)
        ok &= o.final == c->want_final;
    if (c->mode == FINAL_AS_CHALLENGE)
        ok &= o.final_step == 0;
    if (!ok)
        fprintf(stderr,
                "  %s (%s): first '%s' start %d server1 %d step1 %d server2 %d final_step %d "
                "final %d (%s)\n",
                c->name, hash, o.first, o.start, o.server1, o.step1, o.server2, o.final_step,
                o.final, canto__sasl_error(s));
    CHECK(ok);
    /* After a failed verification the engine refuses to go on. */
    if (c->want_final != 0 && c->want_server2 == GSASL_OK)
        CHECK_INT(canto__sasl_success(s, NULL), CANTO_ESTATE);
    server_end(&sv);
    canto__sasl_free(s);
    return 0;
}

static const scram_case scram_cases[] = {
    {"no binding", "SCRAM-%s SCRAM-SHA-1", NULL, NULL, "SCRAM-%s", NULL, NULL, NULL,
     FINAL_IN_SUCCESS, "n,,n=user,r=", GSASL_OK, 0},
    {"tls-exporter", "SCRAM-%s-PLUS SCRAM-%s", NULL, "tls-exporter", "SCRAM-%s-PLUS", CB_B64, NULL,
     NULL, FINAL_IN_SUCCESS, "p=tls-exporter,,n=user,r=", GSASL_OK, 0},
    {"tls-unique", "SCRAM-%s-PLUS SCRAM-%s", NULL, "tls-unique", "SCRAM-%s-PLUS", NULL, CB_B64,
     NULL, FINAL_IN_SUCCESS, "p=tls-unique,,n=user,r=", GSASL_OK, 0},
    /* the binding really is checked: different TLS channels, the server refuses */
    {"binding mismatch", "SCRAM-%s-PLUS", NULL, "tls-exporter", "SCRAM-%s-PLUS", OTHER_B64, NULL,
     NULL, FINAL_IN_SUCCESS, "p=tls-exporter,,", GSASL_AUTHENTICATION_ERROR, 0},
    /* no -PLUS offered, we have binding data, the server has none: 'y' accepted */
    {"y case", "SCRAM-%s", NULL, "tls-exporter", "SCRAM-%s", NULL, NULL, NULL, FINAL_IN_SUCCESS,
     "Y", GSASL_OK, 0},
    /* -PLUS offered but the allow-list picks plain SCRAM, and the server does
     * support binding: a 'y' would be refused, 'n' must be sent */
    {"must not y", "SCRAM-%s-PLUS SCRAM-%s", "SCRAM-%s", "tls-exporter", "SCRAM-%s", CB_B64, CB_B64,
     NULL, FINAL_IN_SUCCESS, "n,,n=user,r=", GSASL_OK, 0},
    {"final as challenge", "SCRAM-%s", NULL, NULL, "SCRAM-%s", NULL, NULL, NULL, FINAL_AS_CHALLENGE,
     "n,,", GSASL_OK, 0},
    {"wrong password", "SCRAM-%s", NULL, NULL, "SCRAM-%s", NULL, NULL, "not-" PASSWORD,
     FINAL_IN_SUCCESS, "n,,", GSASL_AUTHENTICATION_ERROR, 0},
    {"tampered signature", "SCRAM-%s", NULL, NULL, "SCRAM-%s", NULL, NULL, NULL, FINAL_TAMPERED,
     "n,,", GSASL_OK, CANTO_EAUTH},
    {"success without signature", "SCRAM-%s", NULL, NULL, "SCRAM-%s", NULL, NULL, NULL,
     FINAL_MISSING, "n,,", GSASL_OK, CANTO_EAUTH},
};

static int test_scram_exchanges(void)
{
    const char *hashes[] = {"SHA-1", "SHA-256"};
    for (size_t h = 0; h < 2; h++)
        for (size_t i = 0; i < sizeof(scram_cases) / sizeof(scram_cases[0]); i++)
            scram_one(&scram_cases[i], hashes[h]);
    return 0;
}

/* A server that does not know the password cannot produce the signature:
 * here it fails the client and then pretends success anyway. */
static int test_scram_forged_success(void)
{
    canto__alloc a = libc_alloc();
    canto__sasl_config cfg = cfg_password();
    canto__sasl *s;
    REQUIRE(canto__sasl_new(&a, &test_log, &cfg, &s) == 0);
    const char *offered[] = {"SCRAM-SHA-256"}, *chosen;
    REQUIRE(canto__sasl_select(s, offered, 1, 1, NULL, &chosen) == 0);
    server sv = {0};
    sv.password = "guess";
    REQUIRE(server_start(&sv, "SCRAM-SHA-256") == 0);
    outcome o;
    run_scram(s, &sv, FINAL_IN_SUCCESS, &o);
    CHECK_INT(o.server2, GSASL_AUTHENTICATION_ERROR);
    char *forged = b64s("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    CHECK_INT(canto__sasl_success(s, forged), CANTO_EAUTH);
    CHECK(strstr(canto__sasl_error(s), "signature") != NULL);
    gsasl_free(forged);
    server_end(&sv);
    canto__sasl_free(s);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Known answers. */

/* ClientProof and ServerSignature (RFC 5802 §3), computed here with GnuTLS,
 * independently of libgsasl. */
static int scram_math(int sha256, const char *password, const char *salt_b64, unsigned iter,
                      const char *auth_message, char **proof_b64, char **sig_b64)
{
    gnutls_mac_algorithm_t mac = sha256 ? GNUTLS_MAC_SHA256 : GNUTLS_MAC_SHA1;
    gnutls_digest_algorithm_t dig = sha256 ? GNUTLS_DIG_SHA256 : GNUTLS_DIG_SHA1;
    size_t hl = sha256 ? 32 : 20;
    unsigned char salted[32], ckey[32], skey[32], stored[32], csig[32], ssig[32], proof[32];
    char *salt = NULL;
    size_t salt_len = 0;
    if (gsasl_base64_from(salt_b64, strlen(salt_b64), &salt, &salt_len) != GSASL_OK)
        return -1;
    gnutls_datum_t key = {(unsigned char *)password, (unsigned)strlen(password)};
    gnutls_datum_t sd = {(unsigned char *)salt, (unsigned)salt_len};
    int rc = gnutls_pbkdf2(mac, &key, &sd, iter, salted, hl);
    gsasl_free(salt);
    if (rc != 0)
        return -1;
    size_t am = strlen(auth_message);
    if (gnutls_hmac_fast(mac, salted, hl, "Client Key", 10, ckey) != 0 ||
        gnutls_hash_fast(dig, ckey, hl, stored) != 0 ||
        gnutls_hmac_fast(mac, stored, hl, auth_message, am, csig) != 0 ||
        gnutls_hmac_fast(mac, salted, hl, "Server Key", 10, skey) != 0 ||
        gnutls_hmac_fast(mac, skey, hl, auth_message, am, ssig) != 0)
        return -1;
    for (size_t i = 0; i < hl; i++)
        proof[i] = ckey[i] ^ csig[i];
    *proof_b64 = b64((const char *)proof, hl);
    *sig_b64 = b64((const char *)ssig, hl);
    return *proof_b64 && *sig_b64 ? 0 : -1;
}

static int check_math(int sha256, const char *salt, const char *cfb, const char *sf,
                      const char *cfwp, const char *want_proof, const char *want_sig)
{
    char am[512], *proof = NULL, *sig = NULL;
    snprintf(am, sizeof(am), "%s,%s,%s", cfb, sf, cfwp);
    int ok = scram_math(sha256, PASSWORD, salt, 4096, am, &proof, &sig) == 0 && proof && sig &&
             strcmp(proof, want_proof) == 0 && strcmp(sig, want_sig) == 0;
    gsasl_free(proof);
    gsasl_free(sig);
    return ok;
}

static void set_nonce(const char *b64text)
{
    char raw[32];
    size_t len = 0;
    if (unb64(b64text, raw, sizeof(raw), &len) == 0 && len == sizeof(fixed_nonce))
        memcpy(fixed_nonce, raw, sizeof(fixed_nonce));
    use_fixed_nonce = 1;
}

/* Drive an engine through start/step/success with given server messages;
 * returns the decoded client messages for comparison. */
static int scripted(canto__sasl *s, const char *server_first, const char *server_final, char *first,
                    char *final, size_t cap)
{
    char *init = NULL, *resp = NULL, *sf = b64s(server_first), *sl = b64s(server_final);
    size_t len;
    int rc = canto__sasl_start(s, &init);
    if (rc == 0)
        rc = unb64(init, first, cap, &len);
    if (rc == 0)
        rc = canto__sasl_step(s, sf, &resp);
    if (rc == 0)
        rc = unb64(resp, final, cap, &len);
    if (rc == 0)
        rc = canto__sasl_success(s, sl);
    canto__sasl_payload_free(init);
    canto__sasl_payload_free(resp);
    gsasl_free(sf);
    gsasl_free(sl);
    return rc;
}

/* RFC 5802 §5: the whole SCRAM-SHA-1 example, byte for byte. Its client
 * nonce happens to be base64 of 18 bytes, which is what libgsasl draws. */
static int test_kat_rfc5802(void)
{
    const char *cfb = "n=user,r=fyko+d2lbbFgONRv9qkxdawL";
    const char *sf = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
    const char *cfwp = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j";
    CHECK(check_math(0, "QSXCR+Q6sek8bf92", cfb, sf, cfwp,
                     "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", "rmF9pqV8S7suAoZWja4dJRkFsKQ="));

    set_nonce("fyko+d2lbbFgONRv9qkxdawL");
    canto__alloc a = libc_alloc();
    canto__sasl_config cfg = cfg_password();
    canto__sasl *s;
    REQUIRE(canto__sasl_new(&a, &test_log, &cfg, &s) == 0);
    const char *offered[] = {"SCRAM-SHA-1"}, *chosen;
    REQUIRE(canto__sasl_select(s, offered, 1, 1, NULL, &chosen) == 0);
    char first[256] = "", final[256] = "";
    CHECK_INT(scripted(s, sf, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", first, final, sizeof(first)), 0);
    use_fixed_nonce = 0;
    CHECK_STR(first, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    CHECK_STR(final, "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                     "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    canto__sasl_free(s);
    return 0;
}

/* RFC 7677 §3. Its client nonce (20 characters) cannot come out of libgsasl,
 * which always draws 18 bytes (24 characters), so: check our independent
 * SCRAM arithmetic against the RFC's exact values, then run the engine with
 * the RFC's password, salt, iteration count and server nonce and a nonce
 * libgsasl can produce, and compare with that arithmetic. */
static int test_kat_rfc7677(void)
{
    const char *salt = "W22ZaJ0SNY7soEsUEjb6gQ==";
    CHECK(check_math(1, salt, "n=user,r=rOprNGfwEbeRWgbNEkqO",
                     "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                     "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                     "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                     "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                     "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));

    const char *cn = "rOprNGfwEbeRWgbNEkqOabcd";
    char cfb[128], sf[256], cfwp[256], am[640];
    snprintf(cfb, sizeof(cfb), "n=user,r=%s", cn);
    snprintf(sf, sizeof(sf), "r=%s%%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=%s,i=4096", cn, salt);
    snprintf(cfwp, sizeof(cfwp), "c=biws,r=%s%%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", cn);
    snprintf(am, sizeof(am), "%s,%s,%s", cfb, sf, cfwp);
    char *proof = NULL, *sig = NULL;
    REQUIRE(scram_math(1, PASSWORD, salt, 4096, am, &proof, &sig) == 0);
    char want_final[320], server_final[80];
    snprintf(want_final, sizeof(want_final), "%s,p=%s", cfwp, proof);
    snprintf(server_final, sizeof(server_final), "v=%s", sig);

    set_nonce(cn);
    canto__alloc a = libc_alloc();
    canto__sasl_config cfg = cfg_password();
    canto__sasl *s;
    REQUIRE(canto__sasl_new(&a, &test_log, &cfg, &s) == 0);
    const char *offered[] = {"SCRAM-SHA-256"}, *chosen;
    REQUIRE(canto__sasl_select(s, offered, 1, 1, NULL, &chosen) == 0);
    char first[256] = "", final[320] = "", want_first[140];
    snprintf(want_first, sizeof(want_first), "n,,%s", cfb);
    CHECK_INT(scripted(s, sf, server_final, first, final, sizeof(final)), 0);
    use_fixed_nonce = 0;
    CHECK_STR(first, want_first);
    CHECK_STR(final, want_final);
    canto__sasl_free(s);
    gsasl_free(proof);
    gsasl_free(sig);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* XEP-0474. */

static int test_ssdp_hash(void)
{
    canto__alloc a = libc_alloc();
    /* the examples of XEP-0474 0.3 and 0.5, in a different order than sorted */
    const char *mechs[] = {"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"};
    const char *cbs[] = {"tls-server-end-point", "tls-exporter"};
    char *h = NULL;
    CHECK_INT(canto__sasl_ssdp_hash(&a, CANTO__SSDP_D, 0, mechs, 2, cbs, 2, &h), 0);
    CHECK_STR(h, "dRc3RenuSY9ypgPpERowoaySQZY=");
    canto_free(h);
    CHECK_INT(canto__sasl_ssdp_hash(&a, CANTO__SSDP_H, 0, mechs, 2, cbs, 2, &h), 0);
    CHECK_STR(h, "G6k/rBLDqgOhRRaCuuatSDFkJ08=");
    canto_free(h);
    /* no <sasl-channel-binding/> at all vs. an empty one: different input */
    char *none = NULL, *empty = NULL;
    CHECK_INT(canto__sasl_ssdp_hash(&a, CANTO__SSDP_H, 1, mechs, 2, NULL, 0, &none), 0);
    CHECK_INT(canto__sasl_ssdp_hash(&a, CANTO__SSDP_H, 1, mechs, 2, cbs, 0, &empty), 0);
    CHECK(none && empty && strcmp(none, empty) != 0);
    CHECK_INT(strlen(none), 44); /* SHA-256 */
    canto_free(none);
    canto_free(empty);
    return 0;
}

/* Our own hash of the server's lists, as a server would put it in its
 * server-first message; plain GnuTLS, not the engine's code. */
static void server_hash(const char *s_in, int sha256, char *out, size_t cap)
{
    unsigned char d[32];
    gnutls_hash_fast(sha256 ? GNUTLS_DIG_SHA256 : GNUTLS_DIG_SHA1, s_in, strlen(s_in), d);
    char *e = b64((const char *)d, sha256 ? 32 : 20);
    snprintf(out, cap, "%s", e ? e : "");
    gsasl_free(e);
}

typedef struct ssdp_case {
    const char *seen_mechs; /* what reached the client (maybe edited by a MITM) */
    const char *seen_cb;    /* XEP-0440 types that reached the client, NULL: none */
    const char *hashed;     /* the server's real lists, as hash input */
    char attr;              /* 'd' or 'h' */
    int want;               /* result of the step on the server-first message */
} ssdp_case;

static const ssdp_case ssdp_cases[] = {
    {"SCRAM-SHA-256 SCRAM-SHA-1 PLAIN", "tls-server-end-point",
     "PLAIN,SCRAM-SHA-1,SCRAM-SHA-256|tls-server-end-point", 'd', 0},
    {"SCRAM-SHA-256 SCRAM-SHA-1 PLAIN", "tls-server-end-point",
     "PLAIN\x1eSCRAM-SHA-1\x1eSCRAM-SHA-256\x1ftls-server-end-point", 'h', 0},
    {"SCRAM-SHA-1 SCRAM-SHA-256", NULL, "SCRAM-SHA-1,SCRAM-SHA-256", 'd', 0},
    /* a MITM removed the -PLUS mechanisms */
    {"SCRAM-SHA-256 SCRAM-SHA-1", NULL,
     "SCRAM-SHA-1,SCRAM-SHA-1-PLUS,SCRAM-SHA-256,SCRAM-SHA-256-PLUS", 'd', CANTO_EAUTH},
    /* a MITM removed tls-exporter from the channel-binding list */
    {"SCRAM-SHA-256 SCRAM-SHA-1", "tls-server-end-point",
     "SCRAM-SHA-1\x1eSCRAM-SHA-256\x1ftls-exporter\x1etls-server-end-point", 'h', CANTO_EAUTH},
};

static int ssdp_one(const ssdp_case *c)
{
    char store[6][40], cstore[4][40];
    const char *mechs[6], *cbs[4];
    size_t n = split(c->seen_mechs, store, mechs, 6);
    canto__alloc a = libc_alloc();
    canto__sasl_config cfg = cfg_password();
    canto__sasl *s;
    REQUIRE(canto__sasl_new(&a, &test_log, &cfg, &s) == 0);
    if (c->seen_cb)
        CHECK_INT(canto__sasl_set_server_cb_types(s, cbs, split(c->seen_cb, cstore, cbs, 4)), 0);
    const char *chosen;
    REQUIRE(canto__sasl_select(s, mechs, n, 1, NULL, &chosen) == 0);
    REQUIRE(strcmp(chosen, "SCRAM-SHA-256") == 0);

    char *init = NULL, raw[256], hash[64], sf[256], cfwp[200], am[1024];
    size_t len;
    REQUIRE(canto__sasl_start(s, &init) == 0);
    REQUIRE(unb64(init, raw, sizeof(raw), &len) == 0);
    canto__sasl_payload_free(init);
    const char *cn = strstr(raw, ",r=") + 3;
    server_hash(c->hashed, 1, hash, sizeof(hash));
    snprintf(sf, sizeof(sf), "r=%sSRV,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,%c=%s", cn, c->attr, hash);
    snprintf(cfwp, sizeof(cfwp), "c=biws,r=%sSRV", cn);
    snprintf(am, sizeof(am), "%s,%s,%s", raw + 3, sf, cfwp);
    char *proof = NULL, *sig = NULL, *resp = NULL, *sf64 = b64s(sf);
    REQUIRE(scram_math(1, PASSWORD, "W22ZaJ0SNY7soEsUEjb6gQ==", 4096, am, &proof, &sig) == 0);
    int rc = canto__sasl_step(s, sf64, &resp);
    CHECK_INT(rc, c->want);
    if (rc == 0) {
        /* the hash is part of what the proofs sign: complete the exchange */
        char want[300], got[300], v[80];
        snprintf(want, sizeof(want), "%s,p=%s", cfwp, proof);
        CHECK(unb64(resp, got, sizeof(got), &len) == 0 && strcmp(got, want) == 0);
        snprintf(v, sizeof(v), "v=%s", sig);
        char *v64 = b64s(v);
        CHECK_INT(canto__sasl_success(s, v64), 0);
        gsasl_free(v64);
    } else {
        CHECK(resp == NULL);
        CHECK(strstr(canto__sasl_error(s), "downgrade") != NULL);
    }
    canto__sasl_payload_free(resp);
    gsasl_free(sf64);
    gsasl_free(proof);
    gsasl_free(sig);
    canto__sasl_free(s);
    return 0;
}

static int test_ssdp_exchange(void)
{
    for (size_t i = 0; i < sizeof(ssdp_cases) / sizeof(ssdp_cases[0]); i++)
        ssdp_one(&ssdp_cases[i]);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* PLAIN, EXTERNAL, ANONYMOUS. */

/* Select @p mech over TLS, start, and return the decoded initial response
 * (raw bytes in buf, length in *len), and the text as sent in *text. */
static int initial(const canto__sasl_config *cfg, const char *mech, char *buf, size_t cap,
                   size_t *len, char *text, size_t text_cap)
{
    canto__alloc a = libc_alloc();
    canto__sasl *s;
    if (canto__sasl_new(&a, &test_log, cfg, &s) != 0)
        return -1;
    const char *chosen;
    char *init = NULL;
    int rc = canto__sasl_select(s, &mech, 1, 1, NULL, &chosen);
    if (rc == 0)
        rc = canto__sasl_start(s, &init);
    if (rc == 0) {
        snprintf(text, text_cap, "%s", init);
        rc = unb64(init, buf, cap, len);
    }
    /* These mechanisms are done once they have spoken: success needs no data. */
    if (rc == 0)
        rc = canto__sasl_success(s, NULL);
    canto__sasl_payload_free(init);
    canto__sasl_free(s);
    return rc;
}

static int test_plain_external_anonymous(void)
{
    char buf[128], text[128];
    size_t len = 0;
    canto__sasl_config cfg = cfg_password();
    CHECK_INT(initial(&cfg, "PLAIN", buf, sizeof(buf), &len, text, sizeof(text)), 0);
    CHECK_INT(len, 12);
    CHECK(memcmp(buf, "\0user\0pencil", 12) == 0);
    cfg.authzid = "admin@example.org";
    CHECK_INT(initial(&cfg, "PLAIN", buf, sizeof(buf), &len, text, sizeof(text)), 0);
    CHECK_INT(len, 29);
    CHECK(memcmp(buf, "admin@example.org\0user\0pencil", 29) == 0);

    canto__sasl_config ext = {0};
    ext.client_cert = 1;
    CHECK_INT(initial(&ext, "EXTERNAL", buf, sizeof(buf), &len, text, sizeof(text)), 0);
    CHECK_STR(text, "="); /* empty initial response (RFC 6120 §6.4.2) */
    ext.authzid = "juliet@example.com";
    CHECK_INT(initial(&ext, "EXTERNAL", buf, sizeof(buf), &len, text, sizeof(text)), 0);
    CHECK_STR(buf, "juliet@example.com");

    canto__sasl_config anon = {0};
    CHECK_INT(initial(&anon, "ANONYMOUS", buf, sizeof(buf), &len, text, sizeof(text)), 0);
    CHECK_STR(text, "=");
    anon.anonymous_mail = "sirhc";
    CHECK_INT(initial(&anon, "ANONYMOUS", buf, sizeof(buf), &len, text, sizeof(text)), 0);
    CHECK_STR(buf, "sirhc");
    return 0;
}

/* Calls in the wrong order or with bad input. */
static int test_states(void)
{
    canto__alloc a = libc_alloc();
    canto__sasl_config cfg = cfg_password();
    canto__sasl *s;
    char *out = (char *)1;
    CHECK_INT(canto__sasl_new(&a, NULL, NULL, &s), CANTO_EINVAL);
    CHECK_INT(canto__sasl_new(&a, NULL, &cfg, NULL), CANTO_EINVAL);
    REQUIRE(canto__sasl_new(&a, NULL, &cfg, &s) == 0);
    CHECK_INT(canto__sasl_start(s, &out), CANTO_ESTATE);
    CHECK(out == NULL);
    CHECK_INT(canto__sasl_step(s, "", &out), CANTO_ESTATE);
    CHECK_INT(canto__sasl_success(s, NULL), CANTO_ESTATE);
    CHECK(canto__sasl_mechanism(s) == NULL);

    const char *plain[] = {"PLAIN"}, *scram[] = {"SCRAM-SHA-1"}, *chosen;
    REQUIRE(canto__sasl_select(s, plain, 1, 1, NULL, &chosen) == 0);
    CHECK_INT(canto__sasl_start(s, NULL), CANTO_EINVAL);
    REQUIRE(canto__sasl_start(s, &out) == 0);
    canto__sasl_payload_free(out);
    CHECK_INT(canto__sasl_select(s, plain, 1, 1, NULL, &chosen), CANTO_ESTATE);
    CHECK_INT(canto__sasl_set_server_cb_types(s, NULL, 0), CANTO_ESTATE);
    /* PLAIN has nothing to say to a challenge */
    CHECK_INT(canto__sasl_step(s, "YWI=", &out), CANTO_EPROTO);
    canto__sasl_free(s);

    REQUIRE(canto__sasl_new(&a, &test_log, &cfg, &s) == 0);
    REQUIRE(canto__sasl_select(s, scram, 1, 1, NULL, &chosen) == 0);
    REQUIRE(canto__sasl_start(s, &out) == 0);
    canto__sasl_payload_free(out);
    CHECK_INT(canto__sasl_step(s, "not base64!", &out), CANTO_EPROTO);
    CHECK(out == NULL);
    CHECK_INT(canto__sasl_step(s, "cj1h", &out), CANTO_ESTATE); /* failed for good */
    /* after a failure, a new choice is allowed */
    CHECK_INT(canto__sasl_select(s, scram, 1, 1, NULL, &chosen), 0);
    REQUIRE(canto__sasl_start(s, &out) == 0);
    canto__sasl_payload_free(out);
    CHECK_INT(canto__sasl_success(s, NULL), CANTO_EAUTH); /* before server-first */
    canto__sasl_free(s);

    /* a server-first message that libgsasl refuses (nonce not ours) */
    REQUIRE(canto__sasl_new(&a, &test_log, &cfg, &s) == 0);
    REQUIRE(canto__sasl_select(s, scram, 1, 1, NULL, &chosen) == 0);
    REQUIRE(canto__sasl_start(s, &out) == 0);
    canto__sasl_payload_free(out);
    char *sf = b64s("r=somebodyelse,s=QSXCR+Q6sek8bf92,i=4096");
    CHECK_INT(canto__sasl_step(s, sf, &out), CANTO_EAUTH);
    gsasl_free(sf);
    canto__sasl_free(s);
    canto__sasl_free(NULL);
    canto__sasl_payload_free(NULL);
    return 0;
}

/* The engine checks the GS2 header libgsasl wrote against what it meant. A
 * libgsasl that picked another binding type (here made to by answering its
 * tls-exporter question behind the engine's back) is refused before anything
 * is sent. */
static int hijack_cb(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
    (void)ctx;
    if (prop == GSASL_AUTHID)
        return gsasl_property_set(sess, prop, "user");
    if (prop == GSASL_CB_TLS_EXPORTER)
        return gsasl_property_set(sess, prop, "QUJDREVGR0g=");
    return GSASL_NO_CALLBACK;
}

static int test_gs2_guard(void)
{
    canto__alloc a = libc_alloc();
    canto__sasl_config cfg = cfg_password();
    canto__sasl *s;
    REQUIRE(canto__sasl_new(&a, &test_log, &cfg, &s) == 0);
    const char *offered[] = {"SCRAM-SHA-256-PLUS"}, *chosen;
    canto__sasl_cb cb = {"tls-unique", (const unsigned char *)CB_DATA, 12};
    REQUIRE(canto__sasl_select(s, offered, 1, 1, &cb, &chosen) == 0);
    gsasl_callback_set(s->ctx, hijack_cb);
    char *init = (char *)1;
    CHECK_INT(canto__sasl_start(s, &init), CANTO_EAUTH);
    CHECK(init == NULL);
    CHECK(strstr(canto__sasl_error(s), "GS2") != NULL);
    canto__sasl_free(s);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* <failure/>. */

static int test_failure(void)
{
    CHECK(canto_sasl_condition_name(CANTO_SASL_COND_NONE) == NULL);
    CHECK(canto_sasl_condition_name(CANTO_SASL_COND_OTHER) == NULL);
    CHECK(canto_sasl_condition_name((canto_sasl_condition)99) == NULL);
    CHECK_STR(canto_sasl_condition_name(CANTO_SASL_COND_NOT_AUTHORIZED), "not-authorized");
    CHECK_INT(canto_sasl_condition_from_name("bogus"), CANTO_SASL_COND_OTHER);
    CHECK_INT(canto_sasl_condition_from_name(NULL), CANTO_SASL_COND_OTHER);
    const char *all[] = {"aborted",
                         "account-disabled",
                         "credentials-expired",
                         "encryption-required",
                         "incorrect-encoding",
                         "invalid-authzid",
                         "invalid-mechanism",
                         "malformed-request",
                         "mechanism-too-weak",
                         "not-authorized",
                         "temporary-auth-failure"};
    for (int i = 0; i < 11; i++) {
        canto_sasl_condition c = canto_sasl_condition_from_name(all[i]);
        CHECK_INT(c, CANTO_SASL_COND_ABORTED + i);
        CHECK_STR(canto_sasl_condition_name(c), all[i]);
    }

    struct {
        const char *xml;
        canto_sasl_condition cond;
        const char *name, *text;
    } cases[] = {
        {"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/>"
         "<text xml:lang='en'>Wrong password</text></failure>",
         CANTO_SASL_COND_NOT_AUTHORIZED, "not-authorized", "Wrong password"},
        {"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><text>first</text>"
         "<account-disabled/></failure>",
         CANTO_SASL_COND_ACCOUNT_DISABLED, "account-disabled", "first"},
        {"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><made-up/></failure>",
         CANTO_SASL_COND_OTHER, "made-up", NULL},
        {"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", CANTO_SASL_COND_OTHER, NULL, NULL},
        /* a condition in a foreign namespace is not a SASL condition */
        {"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized xmlns='urn:x'/>"
         "</failure>",
         CANTO_SASL_COND_OTHER, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        canto_stanza *f = NULL;
        REQUIRE(canto_stanza_parse(NULL, cases[i].xml, strlen(cases[i].xml), &f) == 0);
        canto__sasl_failure_info info;
        canto__sasl_failure_read(f, &info);
        CHECK_INT(info.condition, cases[i].cond);
        CHECK_STR(info.name, cases[i].name);
        CHECK_STR(info.text, cases[i].text);
        canto_stanza_free(f);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Secrets: an allocator that remembers live blocks and looks into every
 * block it frees. */

typedef union hdr {
    struct {
        size_t n;
        union hdr *prev, *next;
    } h;
    max_align_t align;
} hdr;

typedef struct track {
    hdr head;              /* list of live blocks */
    const char *needle[2]; /* byte strings to look for */
    int freed_with[2];     /* frees of a block containing needle[i] */
    long allocs, fail_at;  /* fail the fail_at-th allocation (1-based), 0: never */
    int failed;
} track;

static int has(const void *p, size_t n, const char *needle)
{
    return needle && memmem(p, n, needle, strlen(needle)) != NULL;
}

static void *t_alloc(void *ud, size_t n)
{
    track *t = ud;
    if (t->fail_at && ++t->allocs == t->fail_at) {
        t->failed = 1;
        return NULL;
    }
    hdr *h = malloc(sizeof(hdr) + n);
    if (!h)
        return NULL;
    h->h.n = n;
    h->h.prev = &t->head;
    h->h.next = t->head.h.next;
    if (h->h.next)
        h->h.next->h.prev = h;
    t->head.h.next = h;
    return h + 1;
}

static void t_free(void *ud, void *p)
{
    track *t = ud;
    if (!p)
        return;
    hdr *h = (hdr *)p - 1;
    for (int i = 0; i < 2; i++)
        if (has(p, h->h.n, t->needle[i]))
            t->freed_with[i]++;
    h->h.prev->h.next = h->h.next;
    if (h->h.next)
        h->h.next->h.prev = h->h.prev;
    free(h);
}

/* Move instead of resizing in place, so the old block passes through t_free. */
static void *t_realloc(void *ud, void *p, size_t n)
{
    if (!p)
        return t_alloc(ud, n);
    void *q = t_alloc(ud, n);
    if (!q)
        return NULL;
    size_t old = ((hdr *)p - 1)->h.n;
    memcpy(q, p, old < n ? old : n);
    t_free(ud, p);
    return q;
}

static int live_has(const track *t, const char *needle)
{
    for (const hdr *h = t->head.h.next; h; h = h->h.next)
        if (has(h + 1, h->h.n, needle))
            return 1;
    return 0;
}

static int live_count(const track *t)
{
    int n = 0;
    for (const hdr *h = t->head.h.next; h; h = h->h.next)
        n++;
    return n;
}

static canto__alloc track_alloc(track *t)
{
    canto_allocator user = CANTO_ALLOCATOR_INIT;
    user.alloc = t_alloc;
    user.realloc = t_realloc;
    user.free = t_free;
    user.user_data = t;
    canto__alloc a;
    canto__alloc_init(&a, &user);
    return a;
}

#define SECRET "s3cret-Pa55word"

static int pw_calls;

static int give_secret(void *ud, char *buf, size_t cap)
{
    (void)ud;
    pw_calls++;
    snprintf(buf, cap, "%s", SECRET);
    return 0;
}

/* SCRAM up to the server signature, checking the engine's memory as it goes. */
static int wipe_run(int use_callback)
{
    track t = {0};
    t.needle[0] = SECRET;
    canto__alloc a = track_alloc(&t);
    canto__sasl_config cfg = {0};
    cfg.authcid = "user";
    if (use_callback)
        cfg.password_fn = give_secret;
    else
        cfg.password = SECRET;
    pw_calls = 0;
    canto__sasl *s;
    REQUIRE(canto__sasl_new(&a, &test_log, &cfg, &s) == 0);
    /* the scan works: the engine holds its copy until it is needed */
    CHECK_INT(live_has(&t, SECRET), !use_callback);

    const char *offered[] = {"SCRAM-SHA-256"}, *chosen;
    REQUIRE(canto__sasl_select(s, offered, 1, 1, NULL, &chosen) == 0);
    server sv = {0};
    sv.password = SECRET;
    REQUIRE(server_start(&sv, "SCRAM-SHA-256") == 0);
    char *init = NULL, *resp = NULL, *out = NULL, raw[256];
    size_t len, out_len;
    REQUIRE(canto__sasl_start(s, &init) == 0);
    CHECK_INT(pw_calls, 0); /* not asked before libgsasl needs it */
    REQUIRE(unb64(init, raw, sizeof(raw), &len) == 0);
    REQUIRE(gsasl_step(sv.sess, raw, len, &out, &out_len) == GSASL_NEEDS_MORE);
    char *sf = b64(out, out_len);
    gsasl_free(out);
    CHECK_INT(canto__sasl_step(s, sf, &resp), 0);
    CHECK_INT(pw_calls, use_callback);
    /* used: gone from the engine's memory and from libgsasl's session */
    CHECK(!live_has(&t, SECRET));
    CHECK(gsasl_property_fast(s->session, GSASL_PASSWORD) == NULL);
    CHECK(gsasl_property_fast(s->session, GSASL_SCRAM_SALTED_PASSWORD) == NULL);
    REQUIRE(unb64(resp, raw, sizeof(raw), &len) == 0);
    CHECK_INT(gsasl_step(sv.sess, raw, len, &out, &out_len), GSASL_OK);
    char *v = b64(out, out_len);
    CHECK_INT(canto__sasl_success(s, v), 0);
    gsasl_free(out);
    gsasl_free(v);
    gsasl_free(sf);
    canto__sasl_payload_free(init);
    canto__sasl_payload_free(resp);
    canto__sasl_free(s);
    server_end(&sv);
    CHECK_INT(t.freed_with[0], 0);
    CHECK_INT(live_count(&t), 0);
    return 0;
}

static int test_password_wiped(void)
{
    wipe_run(0);
    wipe_run(1);

    /* Never used (no exchange): wiped on free. */
    track t = {0};
    t.needle[0] = SECRET;
    canto__alloc a = track_alloc(&t);
    canto__sasl_config cfg = {0};
    cfg.authcid = "user";
    cfg.password = SECRET;
    canto__sasl *s;
    REQUIRE(canto__sasl_new(&a, NULL, &cfg, &s) == 0);
    CHECK(live_has(&t, SECRET));
    canto__sasl_free(s);
    CHECK_INT(t.freed_with[0], 0);

    /* PLAIN: the initial response carries the password; the engine's copy is
     * gone after start, and canto__sasl_payload_free() clears the payload. */
    REQUIRE(canto__sasl_new(&a, NULL, &cfg, &s) == 0);
    const char *plain[] = {"PLAIN"}, *chosen;
    char *init = NULL;
    REQUIRE(canto__sasl_select(s, plain, 1, 1, NULL, &chosen) == 0);
    REQUIRE(canto__sasl_start(s, &init) == 0);
    CHECK(!live_has(&t, SECRET));
    char copy[64];
    snprintf(copy, sizeof(copy), "%s", init);
    t.needle[1] = copy;
    CHECK(live_has(&t, copy));
    canto__sasl_payload_free(init);
    CHECK_INT(t.freed_with[1], 0);
    canto__sasl_free(s);
    CHECK_INT(t.freed_with[0], 0);
    CHECK_INT(live_count(&t), 0);
    return 0;
}

static int refuse_password(void *ud, char *buf, size_t cap)
{
    (void)ud;
    (void)buf;
    (void)cap;
    return -1;
}

static int test_password_callback_refuses(void)
{
    canto__alloc a = libc_alloc();
    canto__sasl_config cfg = {0};
    cfg.authcid = "user";
    cfg.password_fn = refuse_password;
    canto__sasl *s;
    REQUIRE(canto__sasl_new(&a, &test_log, &cfg, &s) == 0);
    const char *offered[] = {"SCRAM-SHA-1"}, *chosen;
    REQUIRE(canto__sasl_select(s, offered, 1, 1, NULL, &chosen) == 0);
    server sv = {0};
    sv.password = PASSWORD;
    REQUIRE(server_start(&sv, "SCRAM-SHA-1") == 0);
    outcome o;
    run_scram(s, &sv, FINAL_IN_SUCCESS, &o);
    CHECK_INT(o.start, 0);
    CHECK_INT(o.step1, CANTO_EAUTH);
    server_end(&sv);
    canto__sasl_free(s);
    return 0;
}

/* Allocation failure at every point of a whole SCRAM-SHA-256-PLUS exchange:
 * each call reports CANTO_ENOMEM or succeeds, never anything else, and
 * nothing leaks (valgrind). */
static int test_alloc_failures(void)
{
    int completed = 0;
    for (long k = 1; k < 400 && !completed; k++) {
        track t = {0};
        t.fail_at = k;
        canto__alloc a = track_alloc(&t);
        canto__sasl_config cfg = cfg_password();
        canto__sasl *s = NULL;
        int rc = canto__sasl_new(&a, NULL, &cfg, &s);
        if (rc == 0) {
            const char *offered[] = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}, *chosen;
            const char *types[] = {"tls-exporter"};
            canto__sasl_cb cb = {"tls-exporter", (const unsigned char *)CB_DATA, strlen(CB_DATA)};
            rc = canto__sasl_set_server_cb_types(s, types, 1);
            if (rc == 0)
                rc = canto__sasl_select(s, offered, 2, 1, &cb, &chosen);
            if (rc == 0) {
                server sv = {0};
                sv.password = PASSWORD;
                sv.exporter_b64 = CB_B64;
                REQUIRE(server_start(&sv, "SCRAM-SHA-256-PLUS") == 0);
                outcome o;
                run_scram(s, &sv, FINAL_IN_SUCCESS, &o);
                rc = o.start ? o.start : o.step1 ? o.step1 : o.final;
                if (o.start == 0 && o.step1 == 0)
                    CHECK_INT(o.server2, GSASL_OK);
                server_end(&sv);
            }
        }
        if (rc != 0 && rc != CANTO_ENOMEM)
            fprintf(stderr, "  allocation %ld: rc %d (%s)\n", k, rc, s ? canto__sasl_error(s) : "");
        canto__sasl_free(s);
        CHECK(rc == 0 || rc == CANTO_ENOMEM);
        CHECK(rc == 0 || t.failed);
        CHECK_INT(live_count(&t), 0);
        completed = rc == 0 && !t.failed;
    }
    CHECK(completed);
    return 0;
}

/* Nothing secret in any log message of this whole file. Runs last. */
static int test_logs_clean(void)
{
    CHECK(log_used > 0);
    CHECK(strstr(log_sink, "SCRAM-SHA-256") != NULL); /* the sink did see messages */
    CHECK(strstr(log_sink, PASSWORD) == NULL);
    CHECK(strstr(log_sink, SECRET) == NULL);
    CHECK(strstr(log_sink, "cGVuY2ls") == NULL); /* base64("pencil") */
    CHECK(strstr(log_sink, "n=user") == NULL);   /* SCRAM messages */
    CHECK(strstr(log_sink, "r=") == NULL);
    CHECK(strstr(log_sink, "v=") == NULL);
    CHECK(strstr(log_sink, "p=") == NULL);
    return 0;
}

int main(void)
{
    y_works = gsasl_sends_y();
    fprintf(stderr, "libgsasl %s %s the GS2 'y' flag\n", gsasl_check_version(NULL),
            y_works ? "sends" : "cannot send");
    RUN(test_base64);
    RUN(test_select_table);
    RUN(test_select_reasons);
    RUN(test_scram_exchanges);
    RUN(test_scram_forged_success);
    RUN(test_kat_rfc5802);
    RUN(test_kat_rfc7677);
    RUN(test_ssdp_hash);
    RUN(test_ssdp_exchange);
    RUN(test_plain_external_anonymous);
    RUN(test_states);
    RUN(test_gs2_guard);
    RUN(test_failure);
    RUN(test_password_wiped);
    RUN(test_password_callback_refuses);
    RUN(test_alloc_failures);
    RUN(test_logs_clean);
    return CHECK_DONE();
}
