/* Stream engine tests: scripted transcripts played against canto__stream from
 * memory, with a fake clock and no sockets.
 *
 * A script is a list of steps for the "server" side: expect exactly these
 * client bytes (with '*' for base64 and "$ID" for a random id that later
 * server bytes can quote), send these server bytes, answer SASL with a real
 * libgsasl server session, run a TLS handshake with a real canto__tls in the
 * server role, move the clock. Every script is first run with each server
 * send fed whole; that run is checked in detail by the test. It is then run
 * again with server sends cut in two at every offset (plaintext) or at a few
 * offsets (TLS records, whose handshakes are costly under valgrind), and once
 * fed byte by byte; each of those runs must end with exactly the same events
 * and pass the same expectations. */
#include "check.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <gsasl.h>

#include <canto/canto.h>
#include "net/tls.h"
#include "stream/sasl.h"
#include "stream/stream.h"

static canto__alloc A;

#define PASSWORD "pencil"

/* ------------------------------------------------------------------------ */
/* Certificates: a CA and a server certificate for example.com, made here
 * (ECDSA P-256, quick to generate) and removed at the end. */

static char cert_dir[64], ca_pem[128], srv_pem[128], srv_key[128];
/* A link-local peer's certificate: self-signed, as peers make their own. */
static char peer_pem[128], peer_key[128];
static canto_spki_pin peer_pin;

static int write_file(const char *path, const gnutls_datum_t *d)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(d->data, 1, d->size, f);
    return fclose(f) == 0 && n == d->size ? 0 : -1;
}

/* Make a certificate for @p cn (a CA when @p issuer is NULL, self-signed;
 * otherwise a server certificate with dNSName @p cn signed by it, which may
 * be @p crt itself for a self-signed leaf). */
static int make_cert(const char *cn, gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key,
                     gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *pem_path,
                     const char *key_path)
{
    int ca = issuer == NULL;
    unsigned char serial[8], id[64];
    size_t id_len = sizeof(id);
    time_t now = time(NULL);
    char dn[128];
    snprintf(dn, sizeof(dn), "CN=%s,O=Canto stream tests", cn);
    int rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                          GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    if (rc >= 0)
        rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
    serial[0] &= 0x7f; /* a positive serial number */
    if (rc >= 0)
        rc = gnutls_x509_crt_set_version(crt, 3);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
    if (rc >= 0)
        rc = gnutls_x509_crt_set_activation_time(crt, now - 86400);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_expiration_time(crt, now + 30 * 86400);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_key(crt, key);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_dn(crt, dn, NULL);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_basic_constraints(crt, ca, -1);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_key_usage(crt, ca ? GNUTLS_KEY_KEY_CERT_SIGN
                                                   : GNUTLS_KEY_DIGITAL_SIGNATURE);
    if (rc >= 0 && !ca)
        rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
    if (rc >= 0 && !ca)
        rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, cn, (unsigned)strlen(cn),
                                                  GNUTLS_FSAN_APPEND);
    if (rc >= 0)
        rc = gnutls_x509_crt_get_key_id(crt, 0, id, &id_len);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_subject_key_id(crt, id, id_len);
    if (rc >= 0 && !ca) {
        id_len = sizeof(id);
        rc = gnutls_x509_crt_get_subject_key_id(issuer, id, &id_len, NULL);
        if (rc >= 0)
            rc = gnutls_x509_crt_set_authority_key_id(crt, id, id_len);
    }
    if (rc >= 0)
        rc = gnutls_x509_crt_sign2(crt, ca ? crt : issuer, ca ? key : issuer_key, GNUTLS_DIG_SHA256,
                                   0);
    gnutls_datum_t pem = {NULL, 0};
    if (rc >= 0)
        rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem);
    if (rc >= 0)
        rc = write_file(pem_path, &pem);
    gnutls_free(pem.data);
    pem.data = NULL;
    if (rc >= 0 && key_path) {
        rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &pem);
        if (rc >= 0)
            rc = write_file(key_path, &pem);
        gnutls_free(pem.data);
    }
    if (rc < 0)
        fprintf(stderr, "make_cert %s: %s\n", cn, rc == -1 ? "write failed" : gnutls_strerror(rc));
    return rc < 0 ? -1 : 0;
}

static int make_certs(void)
{
    snprintf(cert_dir, sizeof(cert_dir), "/tmp/canto-test-stream.XXXXXX");
    if (!mkdtemp(cert_dir))
        return -1;
    snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", cert_dir);
    snprintf(srv_pem, sizeof(srv_pem), "%s/server.pem", cert_dir);
    snprintf(srv_key, sizeof(srv_key), "%s/server.key", cert_dir);
    snprintf(peer_pem, sizeof(peer_pem), "%s/peer.pem", cert_dir);
    snprintf(peer_key, sizeof(peer_key), "%s/peer.key", cert_dir);
    gnutls_x509_crt_t ca = NULL, srv = NULL, peer = NULL;
    gnutls_x509_privkey_t ca_key = NULL, key = NULL, pkey = NULL;
    size_t pin_len = sizeof(peer_pin.sha256);
    int rc = -1;
    /* The pin comes from GnuTLS's own key id (SHA-256 over the DER
     * SubjectPublicKeyInfo), a path independent of the library's. */
    if (gnutls_x509_crt_init(&ca) >= 0 && gnutls_x509_crt_init(&srv) >= 0 &&
        gnutls_x509_crt_init(&peer) >= 0 && gnutls_x509_privkey_init(&ca_key) >= 0 &&
        gnutls_x509_privkey_init(&key) >= 0 && gnutls_x509_privkey_init(&pkey) >= 0 &&
        make_cert("Canto Stream Test CA", NULL, NULL, ca, ca_key, ca_pem, NULL) == 0 &&
        make_cert("example.com", ca, ca_key, srv, key, srv_pem, srv_key) == 0 &&
        make_cert("peer.local", peer, pkey, peer, pkey, peer_pem, peer_key) == 0 &&
        gnutls_x509_crt_get_key_id(peer, GNUTLS_KEYID_USE_SHA256, peer_pin.sha256, &pin_len) >= 0 &&
        pin_len == sizeof(peer_pin.sha256))
        rc = 0;
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_crt_deinit(srv);
    gnutls_x509_crt_deinit(peer);
    gnutls_x509_privkey_deinit(ca_key);
    gnutls_x509_privkey_deinit(key);
    gnutls_x509_privkey_deinit(pkey);
    return rc;
}

static void remove_certs(void)
{
    unlink(ca_pem);
    unlink(srv_pem);
    unlink(srv_key);
    unlink(peer_pem);
    unlink(peer_key);
    rmdir(cert_dir);
}

/* ------------------------------------------------------------------------ */
/* What the engine reported during one run */

typedef struct rec {
    int established;
    char jid[128];
    int nstanzas;
    char stanzas[4096]; /* each received stanza serialized, in brackets */
    int closed;
    int error, condition, received;
    char text[128], sasl_cond[64], soh[128], detail[256];
    int feed_rc; /* first non-zero canto__stream_feed() result */
    /* The server's view of the SASL exchange. */
    char mech[32];
    char gs2[64];        /* client-first message up to the nonce ("n,,n=user,") */
    char auth_b64[1024]; /* the initial response as sent */
    int plain_ok;        /* a PLAIN initial response carried the right credentials */
    /* Outgoing trace (everything the trace callback showed). */
    char trace_out[16384];
    size_t trace_len;
    unsigned char first_out; /* first byte the client ever wrote */
    char alpn[32];           /* ALPN the server agreed on */
    int errors;              /* expectations of the script that failed */
    char first_error[1024];
} rec;

static void rec_err(rec *r, const char *fmt, ...) CANTO_PRINTF(2, 3);

static void rec_err(rec *r, const char *fmt, ...)
{
    if (r->errors++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->first_error, sizeof(r->first_error), fmt, ap);
        va_end(ap);
    }
}

/* A printable excerpt of client output, which may hold TLS records. */
static const char *show(const char *data, size_t len)
{
    static char buf[600];
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < sizeof(buf); i++) {
        unsigned char c = (unsigned char)data[i];
        if (c >= 0x20 && c < 0x7f)
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
    }
    buf[o] = '\0';
    return buf;
}

/* The facts every split of a transcript must reproduce exactly. */
static void digest(const rec *r, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "established=%d jid=%s stanzas=%d%s closed=%d error=%d cond=%d received=%d "
             "text=%s sasl=%s soh=%s detail=%s feed_rc=%d mech=%s gs2=%s plain=%d alpn=%s",
             r->established, r->jid, r->nstanzas, r->stanzas, r->closed, r->error, r->condition,
             r->received, r->text, r->sasl_cond, r->soh, r->detail, r->feed_rc, r->mech, r->gs2,
             r->plain_ok, r->alpn);
}

/* ------------------------------------------------------------------------ */
/* Scripts */

typedef struct tctx tctx;

typedef enum step_kind {
    ST_END,
    ST_EXPECT,   /* a: the exact client output since the last check (pattern) */
    ST_SEND,     /* a: server bytes ("$ID" replaced by the last captured id) */
    ST_TLS,      /* run the TLS handshake with the server role */
    ST_AUTH,     /* a: mechanism; b: sent after <success/> in the same chunk */
    ST_RESPOND,  /* b: as for ST_AUTH; arg: how the server-final is delivered */
    ST_AT,       /* arg: set the clock, then call canto__stream_timeout() */
    ST_DEADLINE, /* arg: canto__stream_deadline() must say this */
    ST_CLOSE,    /* canto__stream_close(); arg: its expected result */
    ST_STANZA,   /* a: canto__stream_send() of this XML; arg: its expected result */
    ST_EOF,      /* canto__stream_eof() with error arg */
    ST_CLOSED,   /* arg: the number of closed events so far */
    ST_CALL,     /* fn(t): a check or action of its own */
    ST_SUB,      /* sub: run these steps */
} step_kind;

typedef struct step {
    step_kind kind;
    const char *a, *b;
    long long arg;
    const struct step *sub;
    void (*fn)(tctx *t);
} step;

#define END                                                                                        \
    {                                                                                              \
        ST_END, NULL, NULL, 0, NULL, NULL                                                          \
    }
#define EXPECT(p)                                                                                  \
    {                                                                                              \
        ST_EXPECT, p, NULL, 0, NULL, NULL                                                          \
    }
#define SEND(x)                                                                                    \
    {                                                                                              \
        ST_SEND, x, NULL, 0, NULL, NULL                                                            \
    }
#define TLS()                                                                                      \
    {                                                                                              \
        ST_TLS, NULL, NULL, 0, NULL, NULL                                                          \
    }
#define AUTH(mech, tail)                                                                           \
    {                                                                                              \
        ST_AUTH, mech, tail, 0, NULL, NULL                                                         \
    }
#define RESPOND(tail, mode)                                                                        \
    {                                                                                              \
        ST_RESPOND, NULL, tail, mode, NULL, NULL                                                   \
    }
#define AT(ms)                                                                                     \
    {                                                                                              \
        ST_AT, NULL, NULL, ms, NULL, NULL                                                          \
    }
#define DEADLINE(ms)                                                                               \
    {                                                                                              \
        ST_DEADLINE, NULL, NULL, ms, NULL, NULL                                                    \
    }
#define CLOSE(rc)                                                                                  \
    {                                                                                              \
        ST_CLOSE, NULL, NULL, rc, NULL, NULL                                                       \
    }
#define STANZA(x, rc)                                                                              \
    {                                                                                              \
        ST_STANZA, x, NULL, rc, NULL, NULL                                                         \
    }
#define EOF_(err)                                                                                  \
    {                                                                                              \
        ST_EOF, NULL, NULL, err, NULL, NULL                                                        \
    }
#define CLOSED(n)                                                                                  \
    {                                                                                              \
        ST_CLOSED, NULL, NULL, n, NULL, NULL                                                       \
    }
#define CALL(f)                                                                                    \
    {                                                                                              \
        ST_CALL, NULL, NULL, 0, NULL, f                                                            \
    }
#define SUB(s)                                                                                     \
    {                                                                                              \
        ST_SUB, NULL, NULL, 0, s, NULL                                                             \
    }

#define NEVER (-1LL) /* ST_DEADLINE: UINT64_MAX */

/* How the server delivers its SCRAM server-final message. */
enum { FINAL_OK = 0, FINAL_TAMPERED = 1, FINAL_MISSING = 2 };

typedef struct script {
    const char *name;
    void (*setup)(tctx *t);
    const step *steps;
    /* Sends from this index on are split (earlier ones were split by another
     * script already); -1: no split runs at all. */
    int split_from;
    int no_bytewise; /* skip the byte-by-byte run */
} script;

/* Which server send is cut where. */
typedef struct plan {
    int send;  /* index of the split send, or -1 */
    size_t at; /* first chunk length */
    int bytewise;
} plan;

#define MAX_SENDS 64

struct tctx {
    canto__stream *s;
    canto__stream_config cfg;
    canto__tls_config ctls, stls;
    canto__sasl_config sasl;
    rec *r;
    uint64_t now;
    const plan *plan;
    int sends;
    size_t send_len[MAX_SENDS];
    int send_tls[MAX_SENDS];
    int out_seen;
    /* server side */
    canto__tls *srv;
    int srv_up;
    Gsasl *gctx;
    Gsasl_session *gsess;
    char got[32768]; /* client plaintext not yet checked */
    size_t got_len;
    char id[64]; /* last id captured by "$ID" */
};

/* --- engine events --- */

static void ev_established(void *ud, const char *jid)
{
    tctx *t = ud;
    if (t->r->closed)
        rec_err(t->r, "established after closed");
    t->r->established++;
    snprintf(t->r->jid, sizeof(t->r->jid), "%s", jid ? jid : "(null)");
}

static void ev_stanza(void *ud, canto_stanza *st)
{
    tctx *t = ud;
    rec *r = t->r;
    if (r->closed)
        rec_err(r, "stanza after closed");
    if (!r->established)
        rec_err(r, "stanza before established");
    char *xml = NULL;
    size_t len = 0;
    if (canto_stanza_to_string(st, &xml, &len) == 0) {
        size_t used = strlen(r->stanzas);
        snprintf(r->stanzas + used, sizeof(r->stanzas) - used, "[%s]", xml);
    }
    canto_free(xml);
    canto_stanza_free(st);
    r->nstanzas++;
}

static void ev_closed(void *ud, const canto__stream_end *e)
{
    tctx *t = ud;
    rec *r = t->r;
    if (r->closed++)
        rec_err(r, "closed twice");
    if (!e->detail)
        rec_err(r, "closed without detail");
    r->error = e->error;
    r->condition = (int)e->condition;
    r->received = e->received;
    snprintf(r->text, sizeof(r->text), "%s", e->text ? e->text : "(null)");
    snprintf(r->sasl_cond, sizeof(r->sasl_cond), "%s",
             e->sasl_condition ? e->sasl_condition : "(null)");
    snprintf(r->soh, sizeof(r->soh), "%s", e->see_other_host ? e->see_other_host : "(null)");
    snprintf(r->detail, sizeof(r->detail), "%s", e->detail ? e->detail : "(null)");
}

static void ev_trace(void *ud, int outgoing, const char *data, size_t len)
{
    tctx *t = ud;
    rec *r = t->r;
    if (!outgoing)
        return;
    if (len > sizeof(r->trace_out) - 1 - r->trace_len)
        len = sizeof(r->trace_out) - 1 - r->trace_len;
    memcpy(r->trace_out + r->trace_len, data, len);
    r->trace_len += len;
    r->trace_out[r->trace_len] = '\0';
}

/* --- bytes between the engine and the scripted server --- */

static void got_append(tctx *t, const char *data, size_t len)
{
    if (len > sizeof(t->got) - 1 - t->got_len) {
        rec_err(t->r, "client output overflows the test buffer");
        len = sizeof(t->got) - 1 - t->got_len;
    }
    memcpy(t->got + t->got_len, data, len);
    t->got_len += len;
    t->got[t->got_len] = '\0';
}

static void got_clear(tctx *t)
{
    t->got_len = 0;
    t->got[0] = '\0';
}

/* Step the server's TLS and collect whatever plaintext it decrypted. */
static void server_tls_step(tctx *t)
{
    if (!t->srv_up) {
        int rc = canto__tls_handshake(t->srv);
        if (rc == 0)
            t->srv_up = 1;
        else if (rc != CANTO__TLS_AGAIN)
            return;
    }
    for (;;) {
        char buf[4096];
        size_t n = 0;
        int rc = canto__tls_read(t->srv, buf, sizeof(buf), &n);
        if (rc != 0)
            return;
        got_append(t, buf, n);
    }
}

/* Move everything the client wrote to the server (through its TLS if up). */
static void pull(tctx *t)
{
    const char *p;
    size_t n;
    while ((n = canto__stream_out(t->s, &p)) > 0) {
        if (!t->out_seen) {
            t->out_seen = 1;
            t->r->first_out = (unsigned char)p[0];
        }
        if (t->srv) {
            if (canto__tls_feed(t->srv, p, n) != 0)
                rec_err(t->r, "server TLS refused client bytes");
        } else {
            got_append(t, p, n);
        }
        canto__stream_consume(t->s, n, t->now);
    }
    if (t->srv)
        server_tls_step(t);
}

static void feed(tctx *t, const char *data, size_t len)
{
    if (len == 0 || t->r->closed)
        return;
    int rc = canto__stream_feed(t->s, data, len, t->now);
    if (rc && !t->r->feed_rc)
        t->r->feed_rc = rc;
    if (rc && !t->r->closed)
        rec_err(t->r, "feed returned %d without a closed event", rc);
    if (!rc && t->r->closed)
        rec_err(t->r, "feed returned 0 although the stream closed");
}

/* One server send, cut as the plan says. */
static void deliver(tctx *t, const char *data, size_t len, int tls)
{
    int idx = t->sends++;
    if (idx < MAX_SENDS) {
        t->send_len[idx] = len;
        t->send_tls[idx] = tls;
    }
    const plan *p = t->plan;
    if (p->bytewise) {
        for (size_t i = 0; i < len; i++)
            feed(t, data + i, 1);
        return;
    }
    if (idx == p->send && p->at > 0 && p->at < len) {
        feed(t, data, p->at);
        feed(t, data + p->at, len - p->at);
        return;
    }
    feed(t, data, len);
}

static void flush_server_tls(tctx *t)
{
    const void *p;
    size_t n;
    canto__tls_out(t->srv, &p, &n);
    if (n) {
        deliver(t, p, n, 1);
        canto__tls_out_consume(t->srv, n);
    }
}

static void push(tctx *t, const char *data, size_t len)
{
    if (t->srv_up) {
        if (canto__tls_write(t->srv, data, len) != 0)
            rec_err(t->r, "server TLS write failed");
        flush_server_tls(t);
        return;
    }
    deliver(t, data, len, 0);
}

/* Send @p text with every "$ID" replaced by the last captured id. */
static void push_text(tctx *t, const char *text)
{
    char buf[8192];
    size_t o = 0;
    size_t idlen = strlen(t->id);
    for (const char *p = text; *p;) {
        if (strncmp(p, "$ID", 3) == 0) {
            if (o + idlen < sizeof(buf)) {
                memcpy(buf + o, t->id, idlen);
                o += idlen;
            }
            p += 3;
        } else if (o + 1 < sizeof(buf)) {
            buf[o++] = *p++;
        } else {
            p++;
        }
    }
    push(t, buf, o);
}

/* '*' matches a run of characters other than '<' and '>' (base64 payloads);
 * "$ID" matches a non-empty run of letters and digits and stores it. */
static int match_at(const char *p, const char *s, const char *end, char *id, size_t cap)
{
    for (;;) {
        if (!*p)
            return s == end;
        if (*p == '*') {
            for (const char *q = s;; q++) {
                if (match_at(p + 1, q, end, id, cap))
                    return 1;
                if (q == end || *q == '<' || *q == '>')
                    return 0;
            }
        }
        if (strncmp(p, "$ID", 3) == 0) {
            const char *q = s;
            while (q < end && isalnum((unsigned char)*q))
                q++;
            size_t n = (size_t)(q - s);
            if (n == 0 || n >= cap)
                return 0;
            memcpy(id, s, n);
            id[n] = '\0';
            p += 3;
            s = q;
            continue;
        }
        if (s == end || *p != *s)
            return 0;
        p++;
        s++;
    }
}

static void expect(tctx *t, const char *pattern)
{
    pull(t);
    if (!match_at(pattern, t->got, t->got + t->got_len, t->id, sizeof(t->id)))
        rec_err(t->r, "expected client output\n  %s\ngot\n  %s", pattern, show(t->got, t->got_len));
    got_clear(t);
}

/* --- TLS server --- */

static void tls_handshake(tctx *t)
{
    if (!t->srv && canto__tls_new(&A, NULL, &t->stls, &t->srv) != 0) {
        rec_err(t->r, "cannot create the TLS server");
        return;
    }
    /* Flights go back and forth until neither side has anything to say. */
    for (int i = 0; i < 16; i++) {
        pull(t);
        const void *p;
        size_t n;
        canto__tls_out(t->srv, &p, &n);
        if (!n)
            break;
        flush_server_tls(t);
    }
    if (!t->srv_up)
        rec_err(t->r, "the TLS handshake did not complete on the server");
    size_t alen = 0;
    const unsigned char *alpn = canto__tls_alpn(t->srv, &alen);
    if (alpn && alen < sizeof(t->r->alpn)) {
        memcpy(t->r->alpn, alpn, alen);
        t->r->alpn[alen] = '\0';
    }
}

/* --- SASL server (libgsasl) --- */

static int gsasl_cb(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
    tctx *t = gsasl_callback_hook_get(ctx);
    switch (prop) {
    case GSASL_PASSWORD:
        return gsasl_property_set(sess, prop, PASSWORD);
    case GSASL_SCRAM_ITER:
        /* Few iterations: hundreds of runs, under valgrind. */
        return gsasl_property_set(sess, prop, "64");
    case GSASL_CB_TLS_EXPORTER:
    case GSASL_CB_TLS_UNIQUE: {
        if (!t->srv_up)
            return GSASL_NO_CALLBACK;
        unsigned char cb[CANTO__TLS_CB_MAX];
        size_t len = 0;
        canto__tls_cb_type type =
            prop == GSASL_CB_TLS_EXPORTER ? CANTO__TLS_CB_TLS_EXPORTER : CANTO__TLS_CB_TLS_UNIQUE;
        if (canto__tls_channel_binding(t->srv, type, cb, sizeof(cb), &len) != 0)
            return GSASL_NO_CALLBACK;
        char *b64 = NULL;
        if (gsasl_base64_to((const char *)cb, len, &b64, NULL) != GSASL_OK)
            return GSASL_MALLOC_ERROR;
        int rc = gsasl_property_set(sess, prop, b64);
        gsasl_free(b64);
        return rc;
    }
    default:
        return GSASL_NO_CALLBACK;
    }
}

/* Take "<OPEN...>payload</CLOSE>" out of the client output: the whole of it,
 * nothing more. @p open ends just before the payload. */
static int take_payload(tctx *t, const char *open_prefix, char *attr, size_t acap,
                        const char *close, char *payload, size_t pcap)
{
    pull(t);
    const char *g = t->got;
    size_t pl = strlen(open_prefix);
    int ok = 0;
    if (strncmp(g, open_prefix, pl) == 0) {
        const char *p = g + pl;
        if (attr) { /* the mechanism attribute value, then "'>" */
            const char *q = strstr(p, "'>");
            if (q && (size_t)(q - p) < acap) {
                memcpy(attr, p, (size_t)(q - p));
                attr[q - p] = '\0';
                p = q + 2;
            } else {
                p = NULL;
            }
        }
        const char *c = p ? strstr(p, close) : NULL;
        if (c && (size_t)(c - p) < pcap && c + strlen(close) == g + t->got_len) {
            memcpy(payload, p, (size_t)(c - p));
            payload[c - p] = '\0';
            ok = 1;
        }
    }
    if (!ok)
        rec_err(t->r, "expected %s...%s, got\n  %s", open_prefix, close, show(g, t->got_len));
    got_clear(t);
    return ok ? 0 : -1;
}

#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"

/* Run one libgsasl server step on the client's base64 @p in and answer as an
 * XMPP server would: <challenge/>, <success/> (followed by @p tail in the same
 * chunk), or <failure/>. */
static void sasl_answer(tctx *t, const char *in, const char *tail, int mode)
{
    char *raw = NULL, *out = NULL, *enc = NULL;
    size_t raw_len = 0, out_len = 0;
    if (strcmp(in, "=") != 0 && gsasl_base64_from(in, strlen(in), &raw, &raw_len) != GSASL_OK) {
        rec_err(t->r, "client sent invalid base64");
        return;
    }
    int rc = gsasl_step(t->gsess, raw, raw_len, &out, &out_len);
    gsasl_free(raw);
    char buf[4096];
    if (rc == GSASL_NEEDS_MORE) {
        gsasl_base64_to(out, out_len, &enc, NULL);
        snprintf(buf, sizeof(buf), "<challenge xmlns='" NS_SASL "'>%s</challenge>", enc);
    } else if (rc == GSASL_OK) {
        if (mode == FINAL_TAMPERED && out_len > 4) /* "v=" + base64: change the signature */
            out[4] = out[4] == 'A' ? 'B' : 'A';
        if (mode == FINAL_MISSING)
            out_len = 0;
        if (out_len)
            gsasl_base64_to(out, out_len, &enc, NULL);
        snprintf(buf, sizeof(buf), "<success xmlns='" NS_SASL "'%s%s%s%s", enc ? ">" : "/>",
                 enc ? enc : "", enc ? "</success>" : "", tail ? tail : "");
    } else {
        rec_err(t->r, "the SASL server refused the client: %s", gsasl_strerror(rc));
        snprintf(buf, sizeof(buf), "<failure xmlns='" NS_SASL "'><not-authorized/></failure>");
    }
    gsasl_free(out);
    gsasl_free(enc);
    push_text(t, buf);
}

static void sasl_auth(tctx *t, const char *mech, const char *tail)
{
    char got_mech[32], b64[1024];
    if (take_payload(t, "<auth xmlns='" NS_SASL "' mechanism='", got_mech, sizeof(got_mech),
                     "</auth>", b64, sizeof(b64)) != 0)
        return;
    snprintf(t->r->mech, sizeof(t->r->mech), "%s", got_mech);
    snprintf(t->r->auth_b64, sizeof(t->r->auth_b64), "%s", b64);
    if (strcmp(got_mech, mech) != 0)
        rec_err(t->r, "client chose %s, expected %s", got_mech, mech);
    char *raw = NULL;
    size_t raw_len = 0;
    if (gsasl_base64_from(b64, strlen(b64), &raw, &raw_len) == GSASL_OK && raw) {
        if (strcmp(mech, "PLAIN") == 0) {
            static const char creds[] = "\0user\0" PASSWORD;
            t->r->plain_ok =
                raw_len == sizeof(creds) - 1 && memcmp(raw, creds, sizeof(creds) - 1) == 0;
        } else {
            /* The GS2 header and username, before the random nonce. */
            char *r = strstr(raw, ",r=");
            size_t n = r ? (size_t)(r - raw) + 1 : 0;
            if (n < sizeof(t->r->gs2)) {
                memcpy(t->r->gs2, raw, n);
                t->r->gs2[n] = '\0';
            }
        }
    }
    gsasl_free(raw);
    if (gsasl_init(&t->gctx) != GSASL_OK) {
        rec_err(t->r, "gsasl_init failed");
        return;
    }
    gsasl_callback_hook_set(t->gctx, t);
    gsasl_callback_set(t->gctx, gsasl_cb);
    if (gsasl_server_start(t->gctx, mech, &t->gsess) != GSASL_OK) {
        rec_err(t->r, "gsasl_server_start %s failed", mech);
        return;
    }
    sasl_answer(t, b64, tail, FINAL_OK);
}

static void sasl_respond(tctx *t, const char *tail, int mode)
{
    char b64[1024];
    if (take_payload(t, "<response xmlns='" NS_SASL "'>", NULL, 0, "</response>", b64,
                     sizeof(b64)) != 0)
        return;
    if (!t->gsess) {
        rec_err(t->r, "response without a SASL session");
        return;
    }
    sasl_answer(t, b64, tail, mode);
}

/* --- running --- */

static void run_steps(tctx *t, const step *st)
{
    for (; st->kind != ST_END; st++) {
        switch (st->kind) {
        case ST_END:
            return;
        case ST_EXPECT:
            expect(t, st->a);
            break;
        case ST_SEND:
            push_text(t, st->a);
            break;
        case ST_TLS:
            tls_handshake(t);
            break;
        case ST_AUTH:
            sasl_auth(t, st->a, st->b);
            break;
        case ST_RESPOND:
            sasl_respond(t, st->b, (int)st->arg);
            break;
        case ST_AT:
            t->now = (uint64_t)st->arg;
            canto__stream_timeout(t->s, t->now);
            break;
        case ST_DEADLINE: {
            uint64_t want = st->arg == NEVER ? UINT64_MAX : (uint64_t)st->arg;
            uint64_t d = canto__stream_deadline(t->s);
            if (d != want)
                rec_err(t->r, "deadline %llu, expected %llu", (unsigned long long)d,
                        (unsigned long long)want);
            break;
        }
        case ST_CLOSE: {
            int rc = canto__stream_close(t->s, t->now);
            if (rc != st->arg)
                rec_err(t->r, "canto__stream_close returned %d, expected %lld", rc, st->arg);
            break;
        }
        case ST_STANZA: {
            canto_stanza *x = NULL;
            if (canto_stanza_parse(NULL, st->a, (size_t)-1, &x) != 0) {
                rec_err(t->r, "test stanza does not parse: %s", st->a);
                break;
            }
            int rc = canto__stream_send(t->s, x, t->now);
            if (rc != st->arg)
                rec_err(t->r, "canto__stream_send returned %d, expected %lld", rc, st->arg);
            canto_stanza_free(x);
            break;
        }
        case ST_EOF:
            canto__stream_eof(t->s, (int)st->arg);
            break;
        case ST_CLOSED:
            if (t->r->closed != st->arg)
                rec_err(t->r, "%d closed events, expected %lld", t->r->closed, st->arg);
            break;
        case ST_CALL:
            st->fn(t);
            break;
        case ST_SUB:
            run_steps(t, st->sub);
            break;
        }
    }
}

#define T0 1000u /* the fake clock at start: not 0, so "0 means unset" bugs show */

static const canto__stream_events events = {ev_established, ev_stanza, ev_closed, ev_trace};
/* For streams driven by hand, outside the script machinery. */
static const canto__stream_events no_events = {NULL, NULL, NULL, NULL};

/* Defaults: a client of example.com requiring STARTTLS, user/pencil. */
static void defaults(tctx *t)
{
    t->now = T0;
    t->cfg.role = CANTO__STREAM_INITIATOR;
    t->cfg.domain = "example.com";
    t->cfg.from = "user@example.com";
    t->cfg.resource = "res";
    t->cfg.tls = CANTO__TLS_STARTTLS;
    t->cfg.tls_config = &t->ctls;
    t->cfg.sasl_config = &t->sasl;
    t->cfg.negotiation_timeout_ms = 3000;
    t->cfg.close_timeout_ms = 2000;
    t->cfg.keepalive_ms = 100000;
    t->cfg.ping_after_ms = 200000;
    t->cfg.dead_after_ms = 5000;
    canto__tls_config c = CANTO__TLS_CONFIG_INIT;
    t->ctls = c;
    t->ctls.domain = "example.com";
    t->ctls.ca_file = ca_pem;
    t->ctls.no_system_trust = 1;
    t->stls = c;
    t->stls.role = CANTO__TLS_SERVER;
    t->stls.cert_file = srv_pem;
    t->stls.key_file = srv_key;
    t->sasl.authcid = "user";
    t->sasl.password = PASSWORD;
}

static void run_once(const script *sc, const plan *p, rec *r, size_t *lens, int *tls, int *nsends)
{
    memset(r, 0, sizeof(*r));
    tctx *t = calloc(1, sizeof(*t));
    if (!t) {
        rec_err(r, "out of memory");
        return;
    }
    t->r = r;
    t->plan = p;
    defaults(t);
    if (sc->setup)
        sc->setup(t);
    int rc = canto__stream_new(&A, NULL, &t->cfg, &events, t, &t->s);
    if (rc == 0)
        rc = canto__stream_start(t->s, t->now);
    if (rc != 0) {
        rec_err(r, "stream setup failed: %d", rc);
    } else {
        run_steps(t, sc->steps);
        /* Anything the client wrote that no step looked at is a failure. */
        pull(t);
        if (t->got_len)
            rec_err(r, "unchecked client output at the end:\n  %s", show(t->got, t->got_len));
    }
    if (lens) {
        *nsends = t->sends < MAX_SENDS ? t->sends : MAX_SENDS;
        memcpy(lens, t->send_len, sizeof(t->send_len));
        memcpy(tls, t->send_tls, sizeof(t->send_tls));
    }
    canto__stream_free(t->s);
    canto__tls_free(t->srv);
    if (t->gsess)
        gsasl_finish(t->gsess);
    if (t->gctx)
        gsasl_done(t->gctx);
    free(t);
}

static rec R;    /* the reference run of the script last played */
static rec cur_; /* a split run */

static int compare_run(const script *sc, const plan *p, const char *want)
{
    static char got[8192];
    size_t lens[MAX_SENDS];
    int tls[MAX_SENDS], n;
    run_once(sc, p, &cur_, lens, tls, &n);
    digest(&cur_, got, sizeof(got));
    if (cur_.errors == 0 && strcmp(got, want) == 0)
        return 0;
    fprintf(stderr, "%s: split %s send %d at %zu differs:\n", sc->name,
            p->bytewise ? "bytewise" : "", p->send, p->at);
    if (cur_.errors)
        fprintf(stderr, "  %s\n", cur_.first_error);
    else
        fprintf(stderr, "  want %s\n  got  %s\n", want, got);
    return 1;
}

/* Play @p sc whole (into R, for the caller's checks), then split. */
static void play(const script *sc)
{
    static char want[8192];
    size_t lens[MAX_SENDS];
    int tls[MAX_SENDS], n = 0;
    plan whole = {-1, 0, 0};
    run_once(sc, &whole, &R, lens, tls, &n);
    if (R.errors)
        fprintf(stderr, "%s: %s\n", sc->name, R.first_error);
    CHECK_INT(R.errors, 0);
    digest(&R, want, sizeof(want));
    if (sc->split_from < 0)
        return;
    if (sc->split_from >= n) {
        /* A script that asks for splits but has nothing there to split. */
        fprintf(stderr, "%s: split_from %d, but only %d sends\n", sc->name, sc->split_from, n);
        CHECK(sc->split_from < n);
    }
    int bad = 0, runs = 0;
    for (int i = sc->split_from; i < n && bad < 3; i++) {
        if (tls[i]) {
            /* A few cuts: inside the record header, inside the body, and
             * all but the last byte. Every offset of a TLS record would
             * exercise GnuTLS more than the engine, at a handshake a run. */
            size_t cuts[] = {3, lens[i] / 2, lens[i] - 1};
            for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]) && bad < 3; k++) {
                plan p = {i, cuts[k], 0};
                bad += compare_run(sc, &p, want);
                runs++;
            }
        } else {
            for (size_t at = 1; at < lens[i] && bad < 3; at++) {
                plan p = {i, at, 0};
                bad += compare_run(sc, &p, want);
                runs++;
            }
        }
    }
    if (!sc->no_bytewise && !bad) {
        plan p = {-1, 0, 1};
        bad += compare_run(sc, &p, want);
        runs++;
    }
    CHECK_INT(bad, 0);
    fprintf(stderr, "  %s: %d split runs\n", sc->name, runs);
}

/* ------------------------------------------------------------------------ */
/* Transcript pieces */

#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_SE "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"

#define SRV_HDR                                                                                    \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS          \
    "' id='s1' from='example.com' version='1.0' xml:lang='en'>"
#define CLI_HDR_START                                                                              \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS          \
    "' version='1.0' xml:lang='en'"
#define CLI_HDR CLI_HDR_START " to='example.com'>"
#define CLI_HDR_FROM CLI_HDR_START " to='example.com' from='user@example.com'>"
#define FEATURES(x) "<stream:features>" x "</stream:features>"
#define F_STARTTLS "<starttls xmlns='" NS_TLS "'><required/></starttls>"
#define MECHS(x) "<mechanisms xmlns='" NS_SASL "'>" x "</mechanisms>"
#define MECH(x) "<mechanism>" x "</mechanism>"
#define F_BIND "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
#define NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define STARTTLS_REQ "<starttls xmlns='" NS_TLS "'/>"
#define PROCEED "<proceed xmlns='" NS_TLS "'/>"
#define CLOSE_TAG "</stream:stream>"
#define BIND_REQ                                                                                   \
    "<iq type='set' id='$ID'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"                      \
    "<resource>res</resource></bind></iq>"
#define BIND_RES                                                                                   \
    "<iq type='result' id='$ID'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"                   \
    "<jid>user@example.com/res</jid></bind></iq>"
#define SESSION_REQ "<iq type='set' id='$ID'><session xmlns='" NS_SESSION "'/></iq>"
#define SERR(x) "<stream:error>" x "</stream:error>"
#define SENT_SERR(cond) SERR("<" cond " xmlns='" NS_SE "'/>") CLOSE_TAG
#define AUTH_ANY(mech) "<auth xmlns='" NS_SASL "' mechanism='" mech "'>*</auth>"

#define MSG_IN "<message from='friend@example.net/x' type='chat' id='m1'><body>hi</body></message>"
/* The same as the application receives it: a stanza standing alone names
 * its namespace. */
#define MSG_IN_APP                                                                                 \
    "<message xmlns='jabber:client' from='friend@example.net/x' type='chat' id='m1'>"              \
    "<body>hi</body></message>"
#define MSG_OUT "<message to='friend@example.net' type='chat' id='m2'><body>hello</body></message>"

/* Plaintext (TLS_NONE), SCRAM-SHA-1, up to the bind request. */
#define PLAIN_TO_BIND(bind_features)                                                               \
    EXPECT(CLI_HDR), SEND(SRV_HDR FEATURES(MECHS(MECH("PLAIN") MECH("SCRAM-SHA-1")))),             \
        AUTH("SCRAM-SHA-1", NULL), RESPOND(SRV_HDR FEATURES(bind_features), FINAL_OK),             \
        EXPECT(CLI_HDR BIND_REQ)

static const step plain_established[] = {
    PLAIN_TO_BIND(F_BIND),
    SEND(BIND_RES),
    EXPECT(""),
    END,
};

static void setup_plain(tctx *t)
{
    t->cfg.tls = CANTO__TLS_NONE;
    t->cfg.tls_config = NULL;
}

/* Plain (no TLS) SCRAM-SHA-1 up to an established stream: the sends before
 * this count; scripts that build on it split only what comes after. */
#define N_PLAIN_ESTABLISHED 4

/* ------------------------------------------------------------------------ */
/* 1. Negotiation that succeeds */

static const step plain_scram_steps[] = {
    SUB(plain_established), DEADLINE(T0 + 100000), /* keepalive; no negotiation step pending any
                                                      more */
    SEND(MSG_IN),           STANZA(MSG_OUT, 0),    EXPECT(MSG_OUT), END,
};

static int test_plaintext_scram(void)
{
    /* The first send (header and features) is split by the cheaper scripts
     * below, which read it the same way up to the choice of mechanism. */
    script sc = {"plaintext SCRAM-SHA-1", setup_plain, plain_scram_steps, 1, 0};
    play(&sc);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.jid, "user@example.com/res");
    CHECK_INT(R.closed, 0);
    CHECK_STR(R.mech, "SCRAM-SHA-1");
    /* No TLS, so no channel binding and no 'y' either. */
    CHECK_STR(R.gs2, "n,,n=user,");
    CHECK_INT(R.nstanzas, 1);
    CHECK_STR(R.stanzas, "[" MSG_IN_APP "]");
    CHECK_INT(R.feed_rc, 0);
    return 0;
}

/* PLAIN is all the server offers, and there is no TLS: nothing is sent. */
static const step plain_refused_steps[] = {
    EXPECT(CLI_HDR),
    SEND(SRV_HDR FEATURES(MECHS(MECH("PLAIN")))),
    EXPECT(CLOSE_TAG),
    END,
};

static int test_plaintext_plain_refused(void)
{
    script sc = {"PLAIN without TLS", setup_plain, plain_refused_steps, 0, 0};
    play(&sc);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.error, CANTO_EAUTH);
    CHECK_INT(R.feed_rc, CANTO_EAUTH);
    CHECK_STR(R.mech, "");
    CHECK(strstr(R.detail, "PLAIN") != NULL);
    return 0;
}

/* Legacy session establishment (RFC 3921): only when not optional. */
static void not_yet_established(tctx *t)
{
    if (t->r->established)
        rec_err(t->r, "established before the session was opened");
}

static const step session_required_steps[] = {
    PLAIN_TO_BIND(F_BIND "<session xmlns='" NS_SESSION "'/>"),
    SEND(BIND_RES),
    EXPECT(SESSION_REQ),
    CALL(not_yet_established),
    SEND("<iq type='result' id='$ID'/>"),
    EXPECT(""),
    END,
};

static const step session_optional_steps[] = {
    PLAIN_TO_BIND(F_BIND "<session xmlns='" NS_SESSION "'><optional/></session>"),
    SEND(BIND_RES),
    EXPECT(""),
    END,
};

static const step session_refused_steps[] = {
    PLAIN_TO_BIND(F_BIND "<session xmlns='" NS_SESSION "'/>"),
    SEND(BIND_RES),
    EXPECT(SESSION_REQ),
    SEND("<iq type='error' id='$ID'><error type='wait'><internal-server-error "
         "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"),
    EXPECT(CLOSE_TAG),
    END,
};

static int test_session(void)
{
    script req = {"session required", setup_plain, session_required_steps, N_PLAIN_ESTABLISHED, 1};
    play(&req);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.jid, "user@example.com/res");
    CHECK_INT(R.closed, 0);

    script opt = {"session optional", setup_plain, session_optional_steps, -1, 0};
    play(&opt);
    CHECK_INT(R.established, 1);
    CHECK_INT(R.closed, 0);

    script bad = {"session refused", setup_plain, session_refused_steps, -1, 0};
    play(&bad);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_EPROTO);
    return 0;
}

/* STARTTLS, then SCRAM over TLS. The client header names us only inside TLS. */
#define STARTTLS_STEPS                                                                             \
    EXPECT(CLI_HDR), SEND(SRV_HDR FEATURES(F_STARTTLS MECHS(MECH("PLAIN")))),                      \
        EXPECT(STARTTLS_REQ), SEND(PROCEED), TLS(), EXPECT(CLI_HDR_FROM)

#define ALL_MECHS                                                                                  \
    MECHS(MECH("SCRAM-SHA-1") MECH("SCRAM-SHA-1-PLUS") MECH("SCRAM-SHA-256")                       \
              MECH("SCRAM-SHA-256-PLUS") MECH("PLAIN"))
#define CB_TYPES                                                                                   \
    "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/>"      \
    "<channel-binding type='tls-unique'/></sasl-channel-binding>"

static const step tls_scram256plus_steps[] = {
    STARTTLS_STEPS,
    SEND(SRV_HDR FEATURES(ALL_MECHS CB_TYPES)),
    AUTH("SCRAM-SHA-256-PLUS", NULL),
    RESPOND(SRV_HDR FEATURES(F_BIND), FINAL_OK),
    EXPECT(CLI_HDR_FROM BIND_REQ),
    SEND(BIND_RES),
    EXPECT(""),
    SEND(MSG_IN),
    STANZA(MSG_OUT, 0),
    EXPECT(MSG_OUT),
    CLOSE(0),
    EXPECT(CLOSE_TAG),
    SEND(CLOSE_TAG),
    EXPECT(""),
    END,
};

static int test_starttls_scram_sha256_plus(void)
{
    /* TLS 1.3 (the default): tls-exporter. */
    /* The plaintext sends before TLS are split by the STARTTLS failure
     * scripts; split from the first TLS flight on. */
    script sc = {"STARTTLS SCRAM-SHA-256-PLUS", NULL, tls_scram256plus_steps, 2, 0};
    play(&sc);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.jid, "user@example.com/res");
    CHECK_STR(R.mech, "SCRAM-SHA-256-PLUS");
    CHECK_STR(R.gs2, "p=tls-exporter,,n=user,");
    CHECK_STR(R.stanzas, "[" MSG_IN_APP "]");
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.error, 0);
    CHECK_INT(R.condition, CANTO_STREAM_COND_NONE);
    CHECK_STR(R.detail, "stream closed");
    /* Which bytes went out in the clear: the header, then the ClientHello. */
    CHECK_INT(R.first_out, '<');
    return 0;
}

static const step tls_scram1plus_steps[] = {
    STARTTLS_STEPS,
    SEND(SRV_HDR FEATURES(MECHS(MECH("SCRAM-SHA-1") MECH("SCRAM-SHA-1-PLUS")))),
    AUTH("SCRAM-SHA-1-PLUS", NULL),
    RESPOND(SRV_HDR FEATURES(F_BIND), FINAL_OK),
    EXPECT(CLI_HDR_FROM BIND_REQ),
    SEND(BIND_RES),
    EXPECT(""),
    END,
};

static void setup_tls12_no_ems(tctx *t)
{
    /* Without Extended Master Secret, tls-exporter is not defined for TLS
     * 1.2 (RFC 9266): tls-unique is what remains. */
    t->stls.priority_override = "NORMAL:-VERS-ALL:+VERS-TLS1.2:%NO_SESSION_HASH";
}

static void setup_tls12_ems(tctx *t)
{
    t->stls.priority_override = "NORMAL:-VERS-ALL:+VERS-TLS1.2";
}

static int test_starttls_scram_sha1_plus(void)
{
    script u = {"TLS 1.2 tls-unique", setup_tls12_no_ems, tls_scram1plus_steps, -1, 0};
    play(&u);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.mech, "SCRAM-SHA-1-PLUS");
    CHECK_STR(R.gs2, "p=tls-unique,,n=user,");

    /* EMS alone does not mean the server knows tls-exporter: without its
     * XEP-0440 list, TLS 1.2 servers (Prosody 0.12) expect tls-unique. */
    script e = {"TLS 1.2 EMS, no binding list", setup_tls12_ems, tls_scram1plus_steps, -1, 0};
    play(&e);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.gs2, "p=tls-unique,,n=user,");
    return 0;
}

/* Non-PLUS SCRAM over TLS: chosen because the configuration allows nothing
 * else, while the server offers -PLUS. The engine must then not claim
 * (with 'y') that the server lacks channel binding: the flag is 'n'. */
static const step tls_scram_nonplus_steps[] = {
    STARTTLS_STEPS,
    SEND(SRV_HDR FEATURES(ALL_MECHS)),
    AUTH("SCRAM-SHA-1", NULL),
    RESPOND(SRV_HDR FEATURES(F_BIND), FINAL_OK),
    EXPECT(CLI_HDR_FROM BIND_REQ),
    SEND(BIND_RES),
    EXPECT(""),
    END,
};

static const char *const only_scram1[] = {"SCRAM-SHA-1", NULL};

static void setup_only_scram1(tctx *t)
{
    t->sasl.mechanisms = only_scram1;
}

/* The server offers no -PLUS at all: SCRAM-SHA-256 over TLS. */
static const step tls_scram256_steps[] = {
    STARTTLS_STEPS,
    SEND(SRV_HDR FEATURES(MECHS(MECH("SCRAM-SHA-1") MECH("SCRAM-SHA-256") MECH("PLAIN")))),
    AUTH("SCRAM-SHA-256", NULL),
    RESPOND(SRV_HDR FEATURES(F_BIND), FINAL_OK),
    EXPECT(CLI_HDR_FROM BIND_REQ),
    SEND(BIND_RES),
    EXPECT(""),
    END,
};

static int test_starttls_scram_nonplus(void)
{
    script a = {"TLS SCRAM-SHA-1 by configuration", setup_only_scram1, tls_scram_nonplus_steps, -1,
                1};
    play(&a);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.mech, "SCRAM-SHA-1");
    CHECK_STR(R.gs2, "n,,n=user,");

    script b = {"TLS SCRAM-SHA-256", NULL, tls_scram256_steps, -1, 1};
    play(&b);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.mech, "SCRAM-SHA-256");
    /* 'y' (we could bind, the server did not offer it) or, with libgsasl
     * versions that cannot send 'y', 'n'; never a binding. */
    CHECK(strcmp(R.gs2, "y,,n=user,") == 0 || strcmp(R.gs2, "n,,n=user,") == 0);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 2. STARTTLS required */

static const step no_starttls_steps[] = {
    EXPECT(CLI_HDR),
    SEND(SRV_HDR FEATURES(MECHS(MECH("SCRAM-SHA-1")))),
    EXPECT(CLOSE_TAG),
    END,
};

static const step tls_failure_steps[] = {
    EXPECT(CLI_HDR),      SEND(SRV_HDR FEATURES(F_STARTTLS)),
    EXPECT(STARTTLS_REQ), SEND("<failure xmlns='" NS_TLS "'/>"),
    EXPECT(CLOSE_TAG),    END,
};

/* The injected bytes travel with the <proceed/>: the client has begun TLS
 * (its ClientHello is out) and must not read them as XML. */
static void saw_client_hello_only(tctx *t)
{
    pull(t);
    if (t->got_len < 6 || (unsigned char)t->got[0] != 0x16 || strstr(t->got, "stream"))
        rec_err(t->r, "expected a lone ClientHello, got %s", show(t->got, t->got_len));
    got_clear(t);
}

static const step injection_steps[] = {
    EXPECT(CLI_HDR),
    SEND(SRV_HDR FEATURES(F_STARTTLS)),
    EXPECT(STARTTLS_REQ),
    SEND(PROCEED SRV_HDR FEATURES(MECHS(MECH("PLAIN")))),
    CALL(saw_client_hello_only),
    END,
};

static int test_starttls_required(void)
{
    script a = {"no STARTTLS offered", NULL, no_starttls_steps, 0, 0};
    play(&a);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_ETLS);
    CHECK_INT(R.feed_rc, CANTO_ETLS);
    CHECK_INT(R.condition, CANTO_STREAM_COND_NONE);

    script b = {"STARTTLS failure", NULL, tls_failure_steps, 1, 0};
    play(&b);
    CHECK_INT(R.error, CANTO_ETLS);
    CHECK_INT(R.feed_rc, CANTO_ETLS);

    /* Split at every offset of the <proceed/> chunk by hand: where the cut
     * falls exactly after <proceed/>, the injected bytes arrive in a read of
     * their own, indistinguishable from TLS records, and TLS refuses them;
     * every other cut puts them behind <proceed/> in one read. */
    script c = {"plaintext after proceed", NULL, injection_steps, -1, 0};
    play(&c);
    CHECK_INT(R.error, CANTO_EPROTO);
    CHECK_INT(R.feed_rc, CANTO_EPROTO);
    CHECK_INT(R.established, 0);
    size_t total = strlen(PROCEED SRV_HDR FEATURES(MECHS(MECH("PLAIN"))));
    size_t boundary = strlen(PROCEED);
    int bad = 0;
    for (size_t at = 1; at < total; at++) {
        plan p = {1, at, 0};
        run_once(&c, &p, &cur_, NULL, NULL, NULL);
        int want = at == boundary ? CANTO_ETLS : CANTO_EPROTO;
        /* At the boundary the client answers the garbage with a TLS alert
         * after its ClientHello, so the output check does not apply. */
        int ok = cur_.closed == 1 && cur_.error == want && !cur_.established &&
                 (at == boundary || cur_.errors == 0);
        if (!ok && bad++ < 3)
            fprintf(stderr, "injection cut at %zu: closed %d error %d %s (%s)\n", at, cur_.closed,
                    cur_.error, cur_.detail, cur_.first_error);
    }
    CHECK_INT(bad, 0);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 3. SASL failures */

static const step sasl_failure_steps[] = {
    EXPECT(CLI_HDR),
    SEND(SRV_HDR FEATURES(MECHS(MECH("SCRAM-SHA-1")))),
    EXPECT(AUTH_ANY("SCRAM-SHA-1")),
    SEND("<failure xmlns='" NS_SASL "'><not-authorized/><text xml:lang='en'>Wrong "
         "password</text></failure>"),
    EXPECT(CLOSE_TAG),
    END,
};

static const step bad_signature_steps[] = {
    EXPECT(CLI_HDR),           SEND(SRV_HDR FEATURES(MECHS(MECH("SCRAM-SHA-1")))),
    AUTH("SCRAM-SHA-1", NULL), RESPOND(NULL, FINAL_TAMPERED),
    EXPECT(CLOSE_TAG),         END,
};

static const step no_signature_steps[] = {
    EXPECT(CLI_HDR),           SEND(SRV_HDR FEATURES(MECHS(MECH("SCRAM-SHA-1")))),
    AUTH("SCRAM-SHA-1", NULL), RESPOND(NULL, FINAL_MISSING),
    EXPECT(CLOSE_TAG),         END,
};

/* PLAIN over Direct TLS (see test_direct_tls) shows the trace redaction. */

static int test_sasl_failures(void)
{
    script a = {"SASL failure", setup_plain, sasl_failure_steps, 1, 0};
    play(&a);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_EAUTH);
    CHECK_INT(R.feed_rc, CANTO_EAUTH);
    CHECK_STR(R.sasl_cond, "not-authorized");
    CHECK_STR(R.text, "Wrong password");
    CHECK_INT(R.condition, CANTO_STREAM_COND_NONE);

    script b = {"wrong server signature", setup_plain, bad_signature_steps, 1, 0};
    play(&b);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_EAUTH);
    CHECK(strstr(R.detail, "proof") != NULL);

    script c = {"no server signature", setup_plain, no_signature_steps, 2, 1};
    play(&c);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_EAUTH);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 4. Direct TLS */

static void setup_direct(tctx *t)
{
    t->cfg.tls = CANTO__TLS_DIRECT;
    t->ctls.alpn = "xmpp-client";
    t->stls.alpn = "xmpp-client";
}

static const step direct_steps[] = {
    TLS(),
    EXPECT(CLI_HDR_FROM),
    SEND(SRV_HDR FEATURES(MECHS(MECH("PLAIN")))),
    AUTH("PLAIN", SRV_HDR FEATURES(F_BIND)),
    EXPECT(CLI_HDR_FROM BIND_REQ),
    SEND(BIND_RES),
    EXPECT(""),
    END,
};

static int test_direct_tls(void)
{
    script sc = {"Direct TLS", setup_direct, direct_steps, 0, 0};
    play(&sc);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.jid, "user@example.com/res");
    CHECK_INT(R.first_out, 0x16); /* a TLS handshake record before any XML */
    CHECK_STR(R.alpn, "xmpp-client");
    CHECK_STR(R.mech, "PLAIN");
    CHECK_INT(R.plain_ok, 1);
    /* The PLAIN payload carries the password: the trace shows a marker. */
    CHECK(R.auth_b64[0] != '\0');
    CHECK(strstr(R.trace_out, R.auth_b64) == NULL);
    CHECK(strstr(R.trace_out, "[redacted]") != NULL);
    CHECK(strstr(R.trace_out, "mechanism='PLAIN'") != NULL);
    CHECK(strstr(R.trace_out, "<resource>res</resource>") != NULL);
    return 0;
}

/* The SCRAM proofs are not traced either. */
static int test_scram_trace_redacted(void)
{
    script sc = {"SCRAM trace", setup_plain, plain_established, -1, 1};
    play(&sc);
    CHECK_INT(R.established, 1);
    CHECK(R.auth_b64[0] != '\0');
    CHECK(strstr(R.trace_out, R.auth_b64) == NULL);
    CHECK(strstr(R.trace_out, "<response xmlns='" NS_SASL "'>[redacted]</response>") != NULL);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 5. Stream errors */

#define E_HOST_UNKNOWN                                                                             \
    SERR("<host-unknown xmlns='" NS_SE "'/><text xmlns='" NS_SE "' xml:lang='en'>No such "         \
         "host</text>")
#define E_SEE_OTHER SERR("<see-other-host xmlns='" NS_SE "'>other.example:5223</see-other-host>")
#define E_UNKNOWN SERR("<flux-capacitor xmlns='" NS_SE "'/>")
#define E_SHUTDOWN SERR("<system-shutdown xmlns='" NS_SE "'/>")

static const step err_with_header[] = {
    EXPECT(CLI_HDR),
    SEND(SRV_HDR E_HOST_UNKNOWN),
    EXPECT(CLOSE_TAG),
    END,
};

static const step err_before_features[] = {
    EXPECT(CLI_HDR), SEND(SRV_HDR), SEND(E_SEE_OTHER), EXPECT(CLOSE_TAG), END,
};

static const step err_in_starttls[] = {
    EXPECT(CLI_HDR),      SEND(SRV_HDR FEATURES(F_STARTTLS)),
    EXPECT(STARTTLS_REQ), SEND(E_UNKNOWN),
    EXPECT(CLOSE_TAG),    END,
};

static const step err_in_sasl[] = {
    EXPECT(CLI_HDR),
    SEND(SRV_HDR FEATURES(MECHS(MECH("SCRAM-SHA-1")))),
    EXPECT(AUTH_ANY("SCRAM-SHA-1")),
    SEND(E_HOST_UNKNOWN),
    EXPECT(CLOSE_TAG),
    END,
};

static const step err_in_bind[] = {
    PLAIN_TO_BIND(F_BIND),
    SEND(E_SEE_OTHER),
    EXPECT(CLOSE_TAG),
    END,
};

static const step err_established[] = {
    SUB(plain_established),
    SEND(MSG_IN E_SHUTDOWN),
    EXPECT(CLOSE_TAG),
    END,
};

static const step err_in_tls[] = {
    STARTTLS_STEPS,
    SEND(SRV_HDR E_HOST_UNKNOWN),
    EXPECT(CLOSE_TAG),
    END,
};

static int test_stream_errors(void)
{
    static const struct {
        script sc;
        int cond;
        const char *text, *soh;
    } cases[] = {
        {{"error with header", setup_plain, err_with_header, 0, 0},
         CANTO_STREAM_COND_HOST_UNKNOWN,
         "No such host",
         "(null)"},
        {{"error before features", setup_plain, err_before_features, 1, 0},
         CANTO_STREAM_COND_SEE_OTHER_HOST,
         "(null)",
         "other.example:5223"},
        {{"error answering starttls", NULL, err_in_starttls, 1, 0},
         CANTO_STREAM_COND_OTHER,
         "(null)",
         "(null)"},
        {{"error during SASL", setup_plain, err_in_sasl, 1, 0},
         CANTO_STREAM_COND_HOST_UNKNOWN,
         "No such host",
         "(null)"},
        {{"error during bind", setup_plain, err_in_bind, N_PLAIN_ESTABLISHED - 1, 0},
         CANTO_STREAM_COND_SEE_OTHER_HOST,
         "(null)",
         "other.example:5223"},
        {{"error when established", setup_plain, err_established, N_PLAIN_ESTABLISHED, 0},
         CANTO_STREAM_COND_SYSTEM_SHUTDOWN,
         "(null)",
         "(null)"},
        {{"error inside TLS", NULL, err_in_tls, -1, 0},
         CANTO_STREAM_COND_HOST_UNKNOWN,
         "No such host",
         "(null)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        play(&cases[i].sc);
        CHECK_INT(R.closed, 1);
        CHECK_INT(R.error, CANTO_ESTREAM);
        CHECK_INT(R.feed_rc, CANTO_ESTREAM);
        CHECK_INT(R.condition, cases[i].cond);
        CHECK_INT(R.received, 1);
        CHECK_STR(R.text, cases[i].text);
        CHECK_STR(R.soh, cases[i].soh);
        /* In the established case, the stanza before the error still
         * reached the application. */
        CHECK_INT(R.nstanzas, cases[i].sc.steps == err_established ? 1 : 0);
    }
    return 0;
}

static const step bad_xml_steps[] = {
    EXPECT(CLI_HDR),
    SEND(SRV_HDR),
    SEND("<stream:features></wrong>"),
    EXPECT(SENT_SERR("not-well-formed")),
    END,
};

static const step bad_header_steps[] = {
    EXPECT(CLI_HDR),
    SEND("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS
         "' version='1.0' <>"),
    EXPECT(SENT_SERR("not-well-formed")),
    END,
};

static const step comment_steps[] = {
    EXPECT(CLI_HDR),
    SEND(SRV_HDR "<!-- comments are not allowed -->"),
    EXPECT(SENT_SERR("restricted-xml")),
    END,
};

static const step comment_established_steps[] = {
    SUB(plain_established),
    SEND("<message from='a@b'><!-- no --><body>x</body></message>"),
    EXPECT(SENT_SERR("restricted-xml")),
    END,
};

static const step bad_namespace_steps[] = {
    EXPECT(CLI_HDR),
    SEND("<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='" NS_STREAMS
         "' id='s1' from='example.com' version='1.0'>"),
    EXPECT(SENT_SERR("invalid-namespace")),
    END,
};

static const step old_version_steps[] = {
    EXPECT(CLI_HDR),
    SEND("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS
         "' id='s1' from='example.com'>"),
    EXPECT(SENT_SERR("unsupported-version")),
    END,
};

static int test_bad_xml(void)
{
    script a = {"bad XML", setup_plain, bad_xml_steps, 1, 0};
    play(&a);
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.error, CANTO_EXML);
    CHECK_INT(R.feed_rc, CANTO_EXML);
    CHECK_INT(R.condition, CANTO_STREAM_COND_NOT_WELL_FORMED);
    CHECK_INT(R.received, 0);

    script b = {"bad XML in header", setup_plain, bad_header_steps, 0, 0};
    play(&b);
    CHECK_INT(R.error, CANTO_EXML);
    CHECK_INT(R.condition, CANTO_STREAM_COND_NOT_WELL_FORMED);

    script c = {"comment", setup_plain, comment_steps, 0, 0};
    play(&c);
    CHECK_INT(R.error, CANTO_ERESTRICTED);
    CHECK_INT(R.condition, CANTO_STREAM_COND_RESTRICTED_XML);
    CHECK_INT(R.received, 0);

    script d = {"comment in a stanza", setup_plain, comment_established_steps, N_PLAIN_ESTABLISHED,
                0};
    play(&d);
    CHECK_INT(R.error, CANTO_ERESTRICTED);
    CHECK_INT(R.nstanzas, 0);

    script e = {"jabber:server stream", setup_plain, bad_namespace_steps, -1, 0};
    play(&e);
    CHECK_INT(R.error, CANTO_EPROTO);
    CHECK_INT(R.condition, CANTO_STREAM_COND_INVALID_NAMESPACE);

    script f = {"pre-1.0 server", setup_plain, old_version_steps, -1, 0};
    play(&f);
    CHECK_INT(R.error, CANTO_EPROTO);
    CHECK_INT(R.condition, CANTO_STREAM_COND_UNSUPPORTED_VERSION);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 6. Bind */

static const step bind_conflict_steps[] = {
    PLAIN_TO_BIND(F_BIND),
    SEND("<iq type='error' id='$ID'><error type='cancel'><conflict "
         "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
         "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Resource in use</text></error></iq>"),
    EXPECT(CLOSE_TAG),
    END,
};

static const step bind_no_jid_steps[] = {
    PLAIN_TO_BIND(F_BIND),
    SEND("<iq type='result' id='$ID'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>"),
    EXPECT(CLOSE_TAG),
    END,
};

static const step bind_wrong_id_steps[] = {
    PLAIN_TO_BIND(F_BIND),
    SEND("<iq type='result' id='x$ID'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
         "<jid>user@example.com/res</jid></bind></iq>"),
    EXPECT(CLOSE_TAG),
    END,
};

static const step no_bind_steps[] = {
    EXPECT(CLI_HDR),           SEND(SRV_HDR FEATURES(MECHS(MECH("SCRAM-SHA-1")))),
    AUTH("SCRAM-SHA-1", NULL), RESPOND(SRV_HDR FEATURES(""), FINAL_OK),
    EXPECT(CLI_HDR CLOSE_TAG), END,
};

static int test_bind(void)
{
    script a = {"bind conflict", setup_plain, bind_conflict_steps, N_PLAIN_ESTABLISHED - 1, 0};
    play(&a);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_EPROTO);
    CHECK_STR(R.text, "Resource in use");
    CHECK(strstr(R.detail, "conflict") != NULL);

    script b = {"bind without jid", setup_plain, bind_no_jid_steps, N_PLAIN_ESTABLISHED - 1, 1};
    play(&b);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_EPROTO);

    script c = {"bind answer with another id", setup_plain, bind_wrong_id_steps, -1, 0};
    play(&c);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_EPROTO);

    script d = {"no bind feature", setup_plain, no_bind_steps, -1, 0};
    play(&d);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_EPROTO);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 7. Timers */

static const step negotiation_timeout_steps[] = {
    EXPECT(CLI_HDR),
    DEADLINE(T0 + 3000),
    AT(T0 + 1000),
    SEND(SRV_HDR), /* and then silence */
    DEADLINE(T0 + 3000),
    AT(T0 + 2999),
    EXPECT(""),
    CLOSED(0),
    AT(T0 + 3000),
    CLOSED(1),
    EXPECT(SENT_SERR("connection-timeout")),
    DEADLINE(NEVER),
    END,
};

/* Each negotiation step gets the full timeout again. */
static const step step_timer_steps[] = {
    EXPECT(CLI_HDR),
    AT(T0 + 2000),
    SEND(SRV_HDR FEATURES(MECHS(MECH("SCRAM-SHA-1")))),
    EXPECT(AUTH_ANY("SCRAM-SHA-1")),
    DEADLINE(T0 + 5000),
    AT(T0 + 4999),
    CLOSED(0),
    AT(T0 + 5000),
    CLOSED(1),
    EXPECT(SENT_SERR("connection-timeout")), /* the stream error ends SASL too */
    END,
};

static void setup_keepalive(tctx *t)
{
    setup_plain(t);
    t->cfg.keepalive_ms = 1000;
}

static const step keepalive_steps[] = {
    SUB(plain_established), /* all at T0 */
    DEADLINE(T0 + 1000),
    AT(T0 + 999),
    EXPECT(""),
    AT(T0 + 1000),
    EXPECT(" "),
    DEADLINE(T0 + 2000),
    AT(T0 + 1500),
    STANZA(MSG_OUT, 0), /* output resets the keepalive timer */
    EXPECT(MSG_OUT),
    DEADLINE(T0 + 2500),
    AT(T0 + 2000),
    EXPECT(""),
    SEND(MSG_IN), /* input does not */
    DEADLINE(T0 + 2500),
    AT(T0 + 2500),
    EXPECT(" "),
    CLOSED(0),
    END,
};

static void setup_liveness(tctx *t)
{
    setup_plain(t);
    t->cfg.ping_after_ms = 5000;
    t->cfg.dead_after_ms = 2000;
}

#define PING "<iq type='get' id='$ID' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"

static const step liveness_steps[] = {
    SUB(plain_established), /* the bind result came at T0 */
    DEADLINE(T0 + 5000),
    AT(T0 + 4999),
    EXPECT(""),
    AT(T0 + 5000),
    EXPECT(PING),
    DEADLINE(T0 + 7000),
    AT(T0 + 6000),
    SEND("<iq type='result' id='$ID' from='example.com'/>"), /* swallowed */
    DEADLINE(T0 + 11000),
    AT(T0 + 11000),
    EXPECT(PING),
    AT(T0 + 12000),
    SEND(" "), /* any byte proves the peer alive */
    DEADLINE(T0 + 17000),
    AT(T0 + 13000),
    EXPECT(""),
    CLOSED(0),
    SEND("<iq type='result' id='other' from='example.com'/>"), /* not ours: delivered */
    AT(T0 + 18000),
    EXPECT(PING),
    AT(T0 + 19999),
    CLOSED(0),
    AT(T0 + 20000),
    CLOSED(1),
    EXPECT(CLOSE_TAG),
    END,
};

static int test_timers(void)
{
    script a = {"negotiation timeout", setup_plain, negotiation_timeout_steps, -1, 1};
    play(&a);
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.error, CANTO_ETIMEDOUT);
    CHECK_INT(R.condition, CANTO_STREAM_COND_CONNECTION_TIMEOUT);
    CHECK_INT(R.received, 0);

    script b = {"step timer", setup_plain, step_timer_steps, -1, 1};
    play(&b);
    CHECK_INT(R.error, CANTO_ETIMEDOUT);

    script c = {"keepalive", setup_keepalive, keepalive_steps, -1, 1};
    play(&c);
    CHECK_INT(R.established, 1);
    CHECK_INT(R.closed, 0);
    CHECK_INT(R.nstanzas, 1);

    script d = {"liveness", setup_liveness, liveness_steps, -1, 1};
    play(&d);
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.error, CANTO_ETIMEDOUT);
    CHECK_INT(R.condition, CANTO_STREAM_COND_NONE);
    /* Only the iq that was not the answer to our ping reached the app. */
    CHECK_STR(R.stanzas,
              "[<iq xmlns='jabber:client' type='result' id='other' from='example.com'/>]");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 8. Closing */

static const step close_steps[] = {
    SUB(plain_established),
    AT(T0 + 100),
    CLOSE(0),
    EXPECT(CLOSE_TAG),
    STANZA(MSG_OUT, CANTO_ESTATE),
    DEADLINE(T0 + 2100),
    CLOSE(0), /* a second close changes nothing */
    EXPECT(""),
    SEND(MSG_IN), /* still read while the peer finishes */
    CLOSED(0),
    SEND(CLOSE_TAG),
    CLOSED(1),
    EXPECT(""),
    STANZA(MSG_OUT, CANTO_ESTATE),
    CLOSE(CANTO_ESTATE),
    DEADLINE(NEVER),
    END,
};

static const step close_timeout_steps[] = {
    SUB(plain_established),
    AT(T0 + 100),
    CLOSE(0),
    EXPECT(CLOSE_TAG),
    AT(T0 + 2099),
    CLOSED(0),
    AT(T0 + 2100),
    CLOSED(1),
    EXPECT(""),
    END,
};

static const step peer_closes_steps[] = {
    SUB(plain_established), SEND(CLOSE_TAG), EXPECT(CLOSE_TAG), CLOSE(CANTO_ESTATE), END,
};

/* No XML can be said while the TLS handshake runs: a close then ends the
 * stream at once, without a plaintext close tag among the TLS records, and
 * without a stream header once the handshake would have finished. */
static const step close_in_handshake_steps[] = {
    EXPECT(CLI_HDR),
    SEND(SRV_HDR FEATURES(F_STARTTLS)),
    EXPECT(STARTTLS_REQ),
    SEND(PROCEED),
    CLOSE(0),
    CLOSED(1),
    CALL(saw_client_hello_only),
    DEADLINE(NEVER),
    END,
};

static const step eof_steps[] = {
    SUB(plain_established),
    EOF_(0),
    EXPECT(""),
    END,
};

static int test_close(void)
{
    script a = {"graceful close", setup_plain, close_steps, N_PLAIN_ESTABLISHED, 0};
    play(&a);
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.error, 0);
    CHECK_INT(R.condition, CANTO_STREAM_COND_NONE);
    CHECK_STR(R.detail, "stream closed");
    CHECK_INT(R.nstanzas, 1);
    CHECK_INT(R.feed_rc, CANTO_ECLOSED);

    script b = {"close timeout", setup_plain, close_timeout_steps, -1, 1};
    play(&b);
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.error, 0);
    CHECK_STR(R.detail, "the peer did not close its stream in time");

    script c = {"peer closes", setup_plain, peer_closes_steps, N_PLAIN_ESTABLISHED, 0};
    play(&c);
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.error, CANTO_ECLOSED);
    CHECK_INT(R.feed_rc, CANTO_ECLOSED);
    CHECK_INT(R.condition, CANTO_STREAM_COND_NONE);

    script e = {"close during the TLS handshake", NULL, close_in_handshake_steps, -1, 1};
    play(&e);
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.error, 0);
    CHECK_INT(R.established, 0);

    script d = {"EOF", setup_plain, eof_steps, -1, 1};
    play(&d);
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.error, CANTO_ECLOSED);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 9. Link-local (XEP-0174) */

#define PEER_HDR_START                                                                             \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS          \
    "' from='peer@remote' to='me@host'"
#define PEER_HDR PEER_HDR_START " version='1.0'>"
#define PEER_HDR_OLD PEER_HDR_START ">"
#define LL_HDR_START                                                                               \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS          \
    "' version='1.0' xml:lang='en'"
#define LL_MSG_IN "<message from='peer@remote' to='me@host' type='chat'><body>hi</body></message>"
#define LL_MSG_IN_APP                                                                              \
    "<message xmlns='jabber:client' from='peer@remote' to='me@host' type='chat'>"                  \
    "<body>hi</body></message>"
#define LL_MSG_OUT "<message to='peer@remote' type='chat'><body>hello</body></message>"

static void setup_receiver(tctx *t)
{
    t->cfg.role = CANTO__STREAM_RECEIVER;
    t->cfg.link_local = 1;
    t->cfg.tls = CANTO__TLS_NONE;
    t->cfg.tls_config = NULL;
    t->cfg.sasl_config = NULL;
    t->cfg.domain = NULL;
    t->cfg.from = "me@host";
    t->cfg.resource = NULL;
}

static const step receiver_steps[] = {
    STANZA(LL_MSG_OUT, CANTO_ESTATE),
    EXPECT(""),
    DEADLINE(T0 + 3000), /* waiting for the peer's header is bounded too */
    SEND(PEER_HDR),
    EXPECT(LL_HDR_START " id='$ID' to='peer@remote' from='me@host'><stream:features/>"),
    DEADLINE(NEVER), /* no keepalive or ping on link-local streams */
    SEND(LL_MSG_IN),
    STANZA(LL_MSG_OUT, 0),
    EXPECT(LL_MSG_OUT),
    SEND(CLOSE_TAG),
    EXPECT(CLOSE_TAG),
    END,
};

static const step receiver_close_early_steps[] = {
    CLOSE(0),
    CLOSED(1),
    EXPECT(""), /* not a lone close tag */
    END,
};

static const step receiver_old_steps[] = {
    SEND(PEER_HDR_OLD), EXPECT(LL_HDR_START " id='$ID' to='peer@remote' from='me@host'>"),
    SEND(LL_MSG_IN),    STANZA(LL_MSG_OUT, 0),
    EXPECT(LL_MSG_OUT), END,
};

static const step receiver_bad_xml_steps[] = {
    SEND("<stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS "' from='peer@remote' "
         "version='1.0'><a></b>"),
    EXPECT(LL_HDR_START " id='$ID' to='peer@remote' from='me@host'><stream:features/>" SENT_SERR(
        "not-well-formed")),
    END,
};

static void setup_ll_initiator(tctx *t)
{
    t->cfg.link_local = 1;
    t->cfg.tls = CANTO__TLS_NONE;
    t->cfg.tls_config = NULL;
    t->cfg.sasl_config = NULL;
    t->cfg.domain = "peer@remote";
    t->cfg.from = "me@host";
    t->cfg.resource = NULL;
}

static const step ll_initiator_steps[] = {
    EXPECT(LL_HDR_START " to='peer@remote' from='me@host'>"),
    SEND("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS
         "' from='peer@remote' to='me@host' version='1.0' id='p1'><stream:features/>"),
    EXPECT(""), /* no SASL, no bind */
    DEADLINE(NEVER),
    SEND(LL_MSG_IN),
    STANZA(LL_MSG_OUT, 0),
    EXPECT(LL_MSG_OUT),
    END,
};

static const step ll_initiator_old_steps[] = {
    EXPECT(LL_HDR_START " to='peer@remote' from='me@host'>"),
    SEND("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS
         "' from='peer@remote' to='me@host'>"),
    EXPECT(""),
    SEND(LL_MSG_IN),
    END,
};

static int test_link_local(void)
{
    script a = {"receiver", setup_receiver, receiver_steps, 0, 0};
    play(&a);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.jid, "peer@remote");
    CHECK_STR(R.stanzas, "[" LL_MSG_IN_APP "]");
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.error, CANTO_ECLOSED);

    script b = {"receiver, pre-1.0 peer", setup_receiver, receiver_old_steps, 0, 0};
    play(&b);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.jid, "peer@remote");
    CHECK_INT(R.nstanzas, 1);

    /* The header was fine, so the stream was up when the bad XML came. */
    script f = {"receiver closes first", setup_receiver, receiver_close_early_steps, -1, 1};
    play(&f);
    CHECK_INT(R.closed, 1);
    CHECK_INT(R.error, 0);

    script c = {"receiver, bad XML", setup_receiver, receiver_bad_xml_steps, 0, 0};
    play(&c);
    CHECK_INT(R.established, 1);
    CHECK_INT(R.condition, CANTO_STREAM_COND_NOT_WELL_FORMED);
    CHECK_INT(R.error, CANTO_EXML);

    script d = {"link-local initiator", setup_ll_initiator, ll_initiator_steps, 0, 0};
    play(&d);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.jid, "peer@remote");
    CHECK_STR(R.stanzas, "[" LL_MSG_IN_APP "]");
    CHECK_INT(R.closed, 0);

    script e = {"link-local initiator, pre-1.0 peer", setup_ll_initiator, ll_initiator_old_steps, 0,
                0};
    play(&e);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.jid, "peer@remote");
    CHECK_INT(R.nstanzas, 1);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 10. Link-local TLS (XEP-0174 with STARTTLS) */

#define F_LL_OFFER FEATURES("<starttls xmlns='" NS_TLS "'/>")
#define LL_PEER_HDR_ID                                                                             \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS          \
    "' from='peer@remote' to='me@host' version='1.0' id='p1'>"
#define LL_ME_HDR LL_HDR_START " to='peer@remote' from='me@host'>"
#define LL_RECV_HDR LL_HDR_START " id='$ID' to='peer@remote' from='me@host'>"

static void setup_receiver_offer(tctx *t)
{
    setup_receiver(t);
    t->cfg.ll_tls = CANTO__LL_TLS_OFFER;
    t->cfg.ll_cert_file = peer_pem;
    t->cfg.ll_key_file = peer_key;
}

static void setup_receiver_require(tctx *t)
{
    setup_receiver_offer(t);
    t->cfg.ll_tls = CANTO__LL_TLS_REQUIRE;
}

static void setup_ll_use_if_offered(tctx *t)
{
    setup_ll_initiator(t);
    t->cfg.ll_tls = CANTO__LL_TLS_USE_IF_OFFERED;
}

static void setup_ll_require(tctx *t)
{
    setup_ll_initiator(t);
    t->cfg.ll_tls = CANTO__LL_TLS_REQUIRE;
}

static void is_encrypted(tctx *t)
{
    if (canto__stream_encrypted(t->s) != 1)
        rec_err(t->r, "the stream does not report encryption");
}

static void is_plaintext(tctx *t)
{
    if (canto__stream_encrypted(t->s) != 0)
        rec_err(t->r, "a plaintext stream reports encryption");
}

/* The initiator asks nothing: its first stanza is its answer. */
static const step offer_declined_steps[] = {
    SEND(PEER_HDR),
    EXPECT(LL_RECV_HDR F_LL_OFFER),
    STANZA(LL_MSG_OUT, CANTO_ESTATE), /* its choice is still open */
    DEADLINE(T0 + 3000),
    SEND(LL_MSG_IN),
    DEADLINE(NEVER),
    CALL(is_plaintext),
    STANZA(LL_MSG_OUT, 0),
    EXPECT(LL_MSG_OUT),
    END,
};

/* A silent initiator is a plaintext one once the step timer runs out. */
static const step offer_silence_steps[] = {
    SEND(PEER_HDR),        EXPECT(LL_RECV_HDR F_LL_OFFER),
    AT(T0 + 2999),         STANZA(LL_MSG_OUT, CANTO_ESTATE),
    AT(T0 + 3000),         CLOSED(0),
    STANZA(LL_MSG_OUT, 0), EXPECT(LL_MSG_OUT),
    SEND(LL_MSG_IN),       END,
};

static const step offer_required_steps[] = {
    SEND(PEER_HDR),
    EXPECT(LL_RECV_HDR FEATURES("<starttls xmlns='" NS_TLS "'><required/></starttls>")),
    SEND(LL_MSG_IN),
    EXPECT(SENT_SERR("policy-violation")),
    END,
};

static const step offer_accepted_steps[] = {
    SEND(PEER_HDR),
    EXPECT(LL_RECV_HDR F_LL_OFFER),
    SEND(STARTTLS_REQ),
    EXPECT(PROCEED),
    DEADLINE(T0 + 3000), /* the handshake is a bounded step */
    EOF_(0),
    END,
};

/* <starttls/> and plaintext in one read: the tail must not be parsed. */
static const step offer_injection_steps[] = {
    SEND(PEER_HDR),
    EXPECT(LL_RECV_HDR F_LL_OFFER),
    SEND(STARTTLS_REQ LL_MSG_IN),
    EXPECT(PROCEED),
    END,
};

static const step not_offered_steps[] = {
    SEND(PEER_HDR),
    EXPECT(LL_RECV_HDR "<stream:features/>"),
    SEND(STARTTLS_REQ),
    EXPECT("<failure xmlns='" NS_TLS "'/>" CLOSE_TAG),
    END,
};

static const step receiver_require_old_steps[] = {
    SEND(PEER_HDR_OLD),
    EXPECT(LL_RECV_HDR SENT_SERR("policy-violation")),
    END,
};

/* The initiator against a scripted receiver whose TLS server shows a
 * certificate from a CA the initiator has never heard of, for another name:
 * link-local TLS takes it all the same. */
static const step use_offered_steps[] = {
    EXPECT(LL_ME_HDR),
    SEND(LL_PEER_HDR_ID F_LL_OFFER),
    EXPECT(STARTTLS_REQ),
    SEND(PROCEED),
    TLS(),
    EXPECT(LL_ME_HDR), /* the restart, inside TLS */
    SEND(LL_PEER_HDR_ID "<stream:features/>"),
    EXPECT(""),
    DEADLINE(NEVER),
    CALL(is_encrypted),
    SEND(LL_MSG_IN),
    STANZA(LL_MSG_OUT, 0),
    EXPECT(LL_MSG_OUT),
    END,
};

static const step use_not_offered_steps[] = {
    EXPECT(LL_ME_HDR), SEND(LL_PEER_HDR_ID "<stream:features/>"),
    EXPECT(""),        CALL(is_plaintext),
    SEND(LL_MSG_IN),   END,
};

static const step require_not_offered_steps[] = {
    EXPECT(LL_ME_HDR),
    SEND(LL_PEER_HDR_ID "<stream:features/>"),
    EXPECT(CLOSE_TAG),
    END,
};

static const step off_but_required_steps[] = {
    EXPECT(LL_ME_HDR),
    SEND(LL_PEER_HDR_ID FEATURES("<starttls xmlns='" NS_TLS "'><required/></starttls>")),
    EXPECT(CLOSE_TAG),
    END,
};

/* An initiator with TLS off ignores an offer that is not required. */
static const step off_offered_steps[] = {
    EXPECT(LL_ME_HDR), SEND(LL_PEER_HDR_ID F_LL_OFFER), EXPECT(""), CALL(is_plaintext), END,
};

static const step use_refused_steps[] = {
    EXPECT(LL_ME_HDR),    SEND(LL_PEER_HDR_ID F_LL_OFFER),
    EXPECT(STARTTLS_REQ), SEND("<failure xmlns='" NS_TLS "'/>"),
    EXPECT(CLOSE_TAG),    END,
};

static const step initiator_require_old_steps[] = {
    EXPECT(LL_ME_HDR),
    SEND("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='" NS_STREAMS
         "' from='peer@remote' to='me@host'>"),
    EXPECT(CLOSE_TAG),
    END,
};

static int test_ll_tls_transcripts(void)
{
    script a = {"ll receiver offers, peer declines", setup_receiver_offer, offer_declined_steps, 0,
                0};
    play(&a);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.jid, "peer@remote");
    CHECK_STR(R.stanzas, "[" LL_MSG_IN_APP "]");
    CHECK_INT(R.closed, 0);

    script b = {"ll receiver offers, peer silent", setup_receiver_offer, offer_silence_steps, 0, 0};
    play(&b);
    CHECK_INT(R.established, 1);
    CHECK_INT(R.nstanzas, 1);
    CHECK_INT(R.closed, 0);

    script c = {"ll receiver requires, peer sends a stanza", setup_receiver_require,
                offer_required_steps, 0, 0};
    play(&c);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.nstanzas, 0);
    CHECK_INT(R.error, CANTO_ETLS);
    CHECK_INT(R.condition, CANTO_STREAM_COND_POLICY_VIOLATION);
    CHECK_STR(R.detail, "the peer sent a stanza before starting TLS, which this stream requires");

    script d = {"ll receiver proceeds", setup_receiver_offer, offer_accepted_steps, 0, 0};
    play(&d);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.closed, 1);

    /* Splits would put the tail in a read of its own, where it is (garbage)
     * TLS input instead: a different failure, checked in the client tests. */
    script e = {"ll receiver, plaintext after starttls", setup_receiver_offer,
                offer_injection_steps, -1, 1};
    play(&e);
    CHECK_INT(R.nstanzas, 0);
    CHECK_INT(R.error, CANTO_EPROTO);
    CHECK_STR(R.detail, "plaintext data followed <starttls/>");

    script f = {"ll receiver, starttls not offered", setup_receiver, not_offered_steps, 0, 0};
    play(&f);
    CHECK_INT(R.error, CANTO_ETLS);
    CHECK_INT(R.nstanzas, 0);
    CHECK_STR(R.detail, "the peer asked for TLS, which this stream does not offer");

    script g = {"ll receiver requires, pre-1.0 peer", setup_receiver_require,
                receiver_require_old_steps, 0, 0};
    play(&g);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_ETLS);
    CHECK_INT(R.condition, CANTO_STREAM_COND_POLICY_VIOLATION);

    script h = {"ll initiator uses offered TLS", setup_ll_use_if_offered, use_offered_steps, 0, 0};
    play(&h);
    CHECK_INT(R.established, 1);
    CHECK_STR(R.jid, "peer@remote");
    CHECK_STR(R.stanzas, "[" LL_MSG_IN_APP "]");
    CHECK_INT(R.closed, 0);

    script i = {"ll initiator, no offer", setup_ll_use_if_offered, use_not_offered_steps, 0, 0};
    play(&i);
    CHECK_INT(R.established, 1);
    CHECK_INT(R.nstanzas, 1);

    script j = {"ll initiator requires, no offer", setup_ll_require, require_not_offered_steps, 0,
                0};
    play(&j);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_ETLS);
    CHECK_INT(R.condition, CANTO_STREAM_COND_NONE);
    CHECK_STR(R.detail, "the link-local peer does not offer TLS, which this stream requires");

    script k = {"ll initiator off, TLS required", setup_ll_initiator, off_but_required_steps, 0, 0};
    play(&k);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_ETLS);
    CHECK_STR(R.detail, "the link-local peer requires TLS, which is off for this stream");

    script l = {"ll initiator off, TLS offered", setup_ll_initiator, off_offered_steps, 0, 0};
    play(&l);
    CHECK_INT(R.established, 1);
    CHECK_INT(R.closed, 0);

    script m = {"ll initiator, STARTTLS refused", setup_ll_use_if_offered, use_refused_steps, 1, 0};
    play(&m);
    CHECK_INT(R.error, CANTO_ETLS);
    CHECK_STR(R.detail, "the link-local peer refused STARTTLS");

    script n = {"ll initiator requires, pre-1.0 peer", setup_ll_require,
                initiator_require_old_steps, 0, 0};
    play(&n);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_ETLS);
    return 0;
}

/* --- two engines back to back --- */

/* Both ends of one link-local connection in this process: bytes move from
 * one engine's output to the other's input until both are quiet. */
typedef struct ll_pair {
    tctx *ini, *rcv;
    rec ri, rr;
    char wire[65536]; /* every byte either way, to look for leaks */
    size_t wire_len;
} ll_pair;

static void wire_note(ll_pair *p, const char *data, size_t n)
{
    if (n > sizeof(p->wire) - p->wire_len)
        n = sizeof(p->wire) - p->wire_len;
    memcpy(p->wire + p->wire_len, data, n);
    p->wire_len += n;
}

/* Move one engine's output to the other; 1 if anything moved. */
static int pair_move(ll_pair *p, tctx *from, tctx *to)
{
    const char *data;
    size_t n;
    int moved = 0;
    while ((n = canto__stream_out(from->s, &data)) > 0) {
        wire_note(p, data, n);
        if (!to->r->closed) {
            int rc = canto__stream_feed(to->s, data, n, to->now);
            if (rc && !to->r->closed)
                rec_err(to->r, "feed returned %d without a closed event", rc);
        }
        canto__stream_consume(from->s, n, from->now);
        moved = 1;
    }
    return moved;
}

static void pair_pump(ll_pair *p)
{
    for (int i = 0; i < 64; i++)
        if (!pair_move(p, p->ini, p->rcv) && !pair_move(p, p->rcv, p->ini))
            return;
    rec_err(&p->ri, "the engines never went quiet");
}

/* The initiator is me@host calling peer@remote; the receiver is peer@remote
 * with the self-signed peer certificate. */
static int pair_new(ll_pair *p, canto__stream_ll_tls ini_tls, canto__stream_ll_tls rcv_tls,
                    const canto_spki_pin *pin)
{
    memset(p, 0, sizeof(*p));
    p->ini = calloc(1, sizeof(*p->ini));
    p->rcv = calloc(1, sizeof(*p->rcv));
    if (!p->ini || !p->rcv)
        return -1;
    p->ini->r = &p->ri;
    p->rcv->r = &p->rr;
    defaults(p->ini);
    defaults(p->rcv);
    setup_ll_initiator(p->ini);
    p->ini->cfg.ll_tls = ini_tls;
    p->ini->cfg.ll_pins = pin;
    p->ini->cfg.ll_n_pins = pin ? 1 : 0;
    setup_receiver_offer(p->rcv);
    p->rcv->cfg.from = "peer@remote";
    p->rcv->cfg.ll_tls = rcv_tls;
    if (canto__stream_new(&A, NULL, &p->ini->cfg, &events, p->ini, &p->ini->s) != 0 ||
        canto__stream_new(&A, NULL, &p->rcv->cfg, &events, p->rcv, &p->rcv->s) != 0 ||
        canto__stream_start(p->rcv->s, T0) != 0 || canto__stream_start(p->ini->s, T0) != 0)
        return -1;
    pair_pump(p);
    return 0;
}

static void pair_free(ll_pair *p)
{
    if (p->ini)
        canto__stream_free(p->ini->s);
    if (p->rcv)
        canto__stream_free(p->rcv->s);
    free(p->ini);
    free(p->rcv);
}

static int pair_send(ll_pair *p, tctx *from, const char *xml)
{
    canto_stanza *st = NULL;
    if (canto_stanza_parse(NULL, xml, (size_t)-1, &st) != 0)
        return -1;
    int rc = canto__stream_send(from->s, st, from->now);
    canto_stanza_free(st);
    pair_pump(p);
    return rc;
}

static int wire_has(const ll_pair *p, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= p->wire_len; i++)
        if (memcmp(p->wire + i, text, n) == 0)
            return 1;
    return 0;
}

#define SECRET_OUT "<message to='peer@remote' type='chat'><body>a secret to peer</body></message>"
#define SECRET_BACK "<message to='me@host' type='chat'><body>a secret back</body></message>"

static void check_pair_clean(ll_pair *p)
{
    if (p->ri.errors)
        fprintf(stderr, "initiator: %s\n", p->ri.first_error);
    if (p->rr.errors)
        fprintf(stderr, "receiver: %s\n", p->rr.first_error);
    CHECK_INT(p->ri.errors, 0);
    CHECK_INT(p->rr.errors, 0);
}

static int test_ll_tls_pair(void)
{
    ll_pair p;

    /* Offer taken: TLS both ways, then stanzas both ways, then a close. */
    REQUIRE(pair_new(&p, CANTO__LL_TLS_USE_IF_OFFERED, CANTO__LL_TLS_OFFER, NULL) == 0);
    CHECK_INT(p.ri.established, 1);
    CHECK_INT(p.rr.established, 1);
    CHECK_STR(p.ri.jid, "peer@remote");
    CHECK_STR(p.rr.jid, "me@host");
    CHECK_INT(canto__stream_encrypted(p.ini->s), 1);
    CHECK_INT(canto__stream_encrypted(p.rcv->s), 1);
    CHECK_INT(pair_send(&p, p.ini, SECRET_OUT), 0);
    CHECK_INT(pair_send(&p, p.rcv, SECRET_BACK), 0);
    CHECK_INT(p.rr.nstanzas, 1);
    CHECK_INT(p.ri.nstanzas, 1);
    CHECK(strstr(p.rr.stanzas, "a secret to peer") != NULL);
    CHECK(strstr(p.ri.stanzas, "a secret back") != NULL);
    CHECK(wire_has(&p, "<proceed xmlns='" NS_TLS "'/>"));
    CHECK(!wire_has(&p, "secret")); /* the bodies only ever crossed encrypted */
    CHECK_INT(canto__stream_close(p.ini->s, T0), 0);
    pair_pump(&p);
    CHECK_INT(p.ri.closed, 1);
    CHECK_INT(p.ri.error, 0);
    CHECK_INT(p.rr.closed, 1);
    check_pair_clean(&p);
    pair_free(&p);

    /* Required on both sides, with the receiver's key pinned. */
    REQUIRE(pair_new(&p, CANTO__LL_TLS_REQUIRE, CANTO__LL_TLS_REQUIRE, &peer_pin) == 0);
    CHECK_INT(p.ri.established, 1);
    CHECK_INT(p.rr.established, 1);
    CHECK_INT(canto__stream_encrypted(p.ini->s), 1);
    CHECK_INT(pair_send(&p, p.rcv, SECRET_BACK), 0);
    CHECK_INT(p.ri.nstanzas, 1);
    check_pair_clean(&p);
    pair_free(&p);

    /* A pin the receiver's key does not match: the initiator refuses. */
    canto_spki_pin other;
    memcpy(&other, &peer_pin, sizeof(other));
    other.sha256[0] ^= 1;
    REQUIRE(pair_new(&p, CANTO__LL_TLS_USE_IF_OFFERED, CANTO__LL_TLS_OFFER, &other) == 0);
    CHECK_INT(p.ri.established, 0);
    CHECK_INT(p.rr.established, 0);
    CHECK_INT(p.ri.closed, 1);
    CHECK_INT(p.ri.error, CANTO_ECERT);
    CHECK(strstr(p.ri.detail, "the link-local peer's certificate was refused") != NULL);
    CHECK(strstr(p.ri.detail, "matches none of the pinned keys") != NULL);
    CHECK_INT(p.rr.closed, 1); /* the alert ends the receiver's handshake */
    CHECK_INT(p.rr.error, CANTO_ETLS);
    check_pair_clean(&p);
    pair_free(&p);

    /* Offered, but the initiator keeps TLS off: plaintext both ways. */
    REQUIRE(pair_new(&p, CANTO__LL_TLS_OFF, CANTO__LL_TLS_OFFER, NULL) == 0);
    CHECK_INT(p.ri.established, 1);
    CHECK_INT(p.rr.established, 0); /* until the initiator's first stanza */
    CHECK_INT(pair_send(&p, p.ini, SECRET_OUT), 0);
    CHECK_INT(p.rr.established, 1);
    CHECK_INT(p.rr.nstanzas, 1);
    CHECK_INT(pair_send(&p, p.rcv, SECRET_BACK), 0);
    CHECK_INT(p.ri.nstanzas, 1);
    CHECK_INT(canto__stream_encrypted(p.ini->s), 0);
    CHECK_INT(canto__stream_encrypted(p.rcv->s), 0);
    CHECK(wire_has(&p, "a secret to peer"));
    check_pair_clean(&p);
    pair_free(&p);

    /* Use-if-offered against a receiver that offers nothing. */
    REQUIRE(pair_new(&p, CANTO__LL_TLS_USE_IF_OFFERED, CANTO__LL_TLS_OFF, NULL) == 0);
    CHECK_INT(p.ri.established, 1);
    CHECK_INT(p.rr.established, 1);
    CHECK_INT(canto__stream_encrypted(p.ini->s), 0);
    CHECK_INT(pair_send(&p, p.ini, SECRET_OUT), 0);
    CHECK_INT(p.rr.nstanzas, 1);
    check_pair_clean(&p);
    pair_free(&p);

    /* Require against off, each way round. */
    REQUIRE(pair_new(&p, CANTO__LL_TLS_REQUIRE, CANTO__LL_TLS_OFF, NULL) == 0);
    CHECK_INT(p.ri.established, 0);
    CHECK_INT(p.ri.error, CANTO_ETLS);
    CHECK_STR(p.ri.detail, "the link-local peer does not offer TLS, which this stream requires");
    CHECK_INT(p.rr.closed, 1);
    CHECK_INT(p.rr.error, CANTO_ECLOSED);
    check_pair_clean(&p);
    pair_free(&p);

    REQUIRE(pair_new(&p, CANTO__LL_TLS_OFF, CANTO__LL_TLS_REQUIRE, NULL) == 0);
    CHECK_INT(p.ri.established, 0);
    CHECK_INT(p.ri.error, CANTO_ETLS);
    CHECK_STR(p.ri.detail, "the link-local peer requires TLS, which is off for this stream");
    CHECK_INT(p.rr.established, 0);
    CHECK_INT(p.rr.closed, 1);
    check_pair_clean(&p);
    pair_free(&p);
    return 0;
}

/* Link-local TLS settings the engine must refuse. */
static int test_ll_tls_config(void)
{
    canto__stream *s = NULL;
    tctx *t = calloc(1, sizeof(*t));
    REQUIRE(t != NULL);
    defaults(t);
    setup_receiver_offer(t);
    t->cfg.ll_cert_file = t->cfg.ll_key_file = NULL;
    CHECK_INT(canto__stream_new(&A, NULL, &t->cfg, &no_events, NULL, &s), CANTO_EINVAL);
    t->cfg.ll_cert_file = peer_pem;
    CHECK_INT(canto__stream_new(&A, NULL, &t->cfg, &no_events, NULL, &s), CANTO_EINVAL);
    t->cfg.ll_key_file = peer_key;
    t->cfg.ll_tls = (canto__stream_ll_tls)7;
    CHECK_INT(canto__stream_new(&A, NULL, &t->cfg, &no_events, NULL, &s), CANTO_EINVAL);
    setup_ll_use_if_offered(t);
    t->cfg.ll_n_pins = 1; /* but no pins */
    CHECK_INT(canto__stream_new(&A, NULL, &t->cfg, &no_events, NULL, &s), CANTO_EINVAL);
    t->cfg.ll_n_pins = 0;
    CHECK_INT(canto__stream_new(&A, NULL, &t->cfg, &no_events, NULL, &s), 0);
    canto__stream_free(s);
    /* Off needs nothing, as before. */
    s = NULL;
    setup_receiver(t);
    t->cfg.ll_tls = CANTO__LL_TLS_OFF;
    CHECK_INT(canto__stream_new(&A, NULL, &t->cfg, &no_events, NULL, &s), 0);
    canto__stream_free(s);
    free(t);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* 11. Stanzas out of place */

static const step send_early_steps[] = {
    STANZA(MSG_OUT, CANTO_ESTATE),
    EXPECT(CLI_HDR),
    SEND(SRV_HDR),
    STANZA(MSG_OUT, CANTO_ESTATE),
    SEND(FEATURES(MECHS(MECH("SCRAM-SHA-1")))),
    EXPECT(AUTH_ANY("SCRAM-SHA-1")),
    STANZA(MSG_OUT, CANTO_ESTATE),
    SEND(FEATURES("")), /* nonsense during SASL */
    EXPECT(SENT_SERR("unsupported-stanza-type")),
    STANZA(MSG_OUT, CANTO_ESTATE),
    END,
};

static const step stanza_before_features_steps[] = {
    EXPECT(CLI_HDR),
    SEND(SRV_HDR MSG_IN),
    EXPECT(SENT_SERR("not-authorized")),
    END,
};

static const step stanza_in_sasl_steps[] = {
    EXPECT(CLI_HDR),
    SEND(SRV_HDR FEATURES(MECHS(MECH("SCRAM-SHA-1")))),
    EXPECT(AUTH_ANY("SCRAM-SHA-1")),
    SEND(MSG_IN),
    EXPECT(SENT_SERR("unsupported-stanza-type")),
    END,
};

static const step stanza_in_bind_steps[] = {
    PLAIN_TO_BIND(F_BIND),
    SEND(MSG_IN),
    EXPECT(CLOSE_TAG),
    END,
};

static const step stanza_in_starttls_steps[] = {
    EXPECT(CLI_HDR), SEND(SRV_HDR FEATURES(F_STARTTLS)),           EXPECT(STARTTLS_REQ),
    SEND(MSG_IN),    EXPECT(SENT_SERR("unsupported-stanza-type")), END,
};

static int test_out_of_place(void)
{
    canto__stream_config cfg = {0};
    canto__sasl_config sasl = {0};
    cfg.domain = "example.com";
    cfg.tls = CANTO__TLS_NONE;
    cfg.sasl_config = &sasl;
    canto__stream *s = NULL;
    REQUIRE(canto__stream_new(&A, NULL, &cfg, &no_events, NULL, &s) == 0);
    canto_stanza *m = NULL;
    REQUIRE(canto_stanza_parse(NULL, MSG_OUT, (size_t)-1, &m) == 0);
    /* Not started yet: nothing may go out, nothing may come in. */
    CHECK_INT(canto__stream_send(s, m, T0), CANTO_ESTATE);
    CHECK_INT(canto__stream_feed(s, "<", 1, T0), CANTO_ESTATE);
    CHECK_INT(canto__stream_established(s), 0);
    const char *out = NULL;
    CHECK_INT(canto__stream_out(s, &out), 0);
    canto_stanza_free(m);
    canto__stream_free(s);

    script a = {"send before established", setup_plain, send_early_steps, 1, 0};
    play(&a);
    CHECK_INT(R.established, 0);
    CHECK_INT(R.error, CANTO_EPROTO);

    script b = {"stanza before features", setup_plain, stanza_before_features_steps, 0, 0};
    play(&b);
    CHECK_INT(R.nstanzas, 0);
    CHECK_INT(R.error, CANTO_EPROTO);

    script c = {"stanza during SASL", setup_plain, stanza_in_sasl_steps, 1, 0};
    play(&c);
    CHECK_INT(R.nstanzas, 0);
    CHECK_INT(R.error, CANTO_EPROTO);

    script d = {"stanza during bind", setup_plain, stanza_in_bind_steps, N_PLAIN_ESTABLISHED - 1,
                0};
    play(&d);
    CHECK_INT(R.nstanzas, 0);
    CHECK_INT(R.error, CANTO_EPROTO);

    script e = {"stanza answering starttls", NULL, stanza_in_starttls_steps, 1, 0};
    play(&e);
    CHECK_INT(R.nstanzas, 0);
    CHECK_INT(R.error, CANTO_EPROTO);
    return 0;
}

/* Configuration the engine must refuse before anything starts. */
static int test_config_errors(void)
{
    canto__stream *s = (canto__stream *)1;
    canto__stream_config cfg = {0};
    canto__sasl_config sasl = {0};
    canto__tls_config tls = CANTO__TLS_CONFIG_INIT;
    cfg.tls = CANTO__TLS_STARTTLS;
    cfg.tls_config = &tls;
    cfg.sasl_config = &sasl;
    CHECK_INT(canto__stream_new(&A, NULL, &cfg, &no_events, NULL, &s),
              CANTO_EINVAL); /* no domain */
    CHECK(s == NULL);
    cfg.domain = "example.com";
    cfg.tls_config = NULL;
    CHECK_INT(canto__stream_new(&A, NULL, &cfg, &no_events, NULL, &s),
              CANTO_EINVAL); /* no TLS cfg */
    cfg.tls_config = &tls;
    cfg.sasl_config = NULL;
    CHECK_INT(canto__stream_new(&A, NULL, &cfg, &no_events, NULL, &s), CANTO_EINVAL); /* no SASL */
    cfg.sasl_config = &sasl;
    CHECK_INT(canto__stream_new(&A, NULL, &cfg, &no_events, NULL, &s), 0);
    CHECK_INT(canto__stream_start(s, T0), 0);
    CHECK_INT(canto__stream_start(s, T0), CANTO_ESTATE); /* only once */
    canto__stream_free(s);
    return 0;
}

int main(void)
{
    REQUIRE(canto__alloc_init(&A, NULL) == 0);
    REQUIRE(make_certs() == 0);
    RUN(test_config_errors);
    RUN(test_plaintext_scram);
    RUN(test_plaintext_plain_refused);
    RUN(test_session);
    RUN(test_starttls_scram_sha256_plus);
    RUN(test_starttls_scram_sha1_plus);
    RUN(test_starttls_scram_nonplus);
    RUN(test_starttls_required);
    RUN(test_sasl_failures);
    RUN(test_direct_tls);
    RUN(test_scram_trace_redacted);
    RUN(test_stream_errors);
    RUN(test_bad_xml);
    RUN(test_bind);
    RUN(test_timers);
    RUN(test_close);
    RUN(test_link_local);
    RUN(test_ll_tls_transcripts);
    RUN(test_ll_tls_pair);
    RUN(test_ll_tls_config);
    RUN(test_out_of_place);
    remove_certs();
    return CHECK_DONE();
}
