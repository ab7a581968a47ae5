/* TLS layer tests without sockets: a client and a server canto__tls talk
 * through their memory queues in this process. Certificates are made here
 * with the GnuTLS X.509 API (ECDSA P-256: fast to generate), written to a
 * temporary directory and removed at the end. */
#include "check.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include <canto/canto.h>
#include "net/tls_impl.h"

/* ------------------------------------------------------------------------ */
/* Certificates */

static char dir[64];
static char ca_file[128];

typedef struct spec {
    const char *name; /* file stem: DIR/name.pem, DIR/name.key */
    const char *cn;
    const char *dns;  /* SAN dNSName */
    const char *srv;  /* SAN SRV-ID value */
    const char *xmpp; /* SAN XmppAddr value */
    const char *ip;   /* SAN iPAddress (IPv4) */
    int is_ca;
    long from_days, to_days; /* validity, relative to now */
} spec;

typedef struct cert {
    gnutls_x509_crt_t crt;
    gnutls_x509_privkey_t key;
    unsigned char pin[CANTO_SHA256_LEN];
} cert;

static int write_datum(const char *name, const char *ext, const gnutls_datum_t *d)
{
    char path[192];
    snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(d->data, 1, d->size, f);
    return fclose(f) == 0 && n == d->size ? 0 : -1;
}

/* The pin computed from the private key, not from the certificate, so the
 * library's own path (certificate -> public key) is checked against it. */
static int key_pin(gnutls_x509_privkey_t key, unsigned char out[CANTO_SHA256_LEN])
{
    gnutls_privkey_t priv;
    gnutls_pubkey_t pub;
    gnutls_datum_t der = {NULL, 0};
    int rc = gnutls_privkey_init(&priv);
    if (rc < 0)
        return rc;
    rc = gnutls_pubkey_init(&pub);
    if (rc >= 0) {
        rc = gnutls_privkey_import_x509(priv, key, 0);
        if (rc >= 0)
            rc = gnutls_pubkey_import_privkey(pub, priv, 0, 0);
        if (rc >= 0)
            rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der);
        if (rc >= 0)
            rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, out);
        gnutls_free(der.data);
        gnutls_pubkey_deinit(pub);
    }
    gnutls_privkey_deinit(priv);
    return rc;
}

static int set_sans(gnutls_x509_crt_t crt, const spec *sp)
{
    int rc = 0;
    if (sp->dns)
        rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, sp->dns,
                                                  (unsigned)strlen(sp->dns), GNUTLS_FSAN_APPEND);
    if (rc >= 0 && sp->srv) {
        /* SRVName is an IA5String (RFC 4985); GnuTLS wants it DER-encoded. */
        unsigned char der[128];
        size_t len = strlen(sp->srv);
        der[0] = 0x16;
        der[1] = (unsigned char)len;
        memcpy(der + 2, sp->srv, len);
        rc = gnutls_x509_crt_set_subject_alt_othername(crt, "1.3.6.1.5.5.7.8.7", der,
                                                       (unsigned)len + 2, GNUTLS_FSAN_APPEND);
    }
    if (rc >= 0 && sp->xmpp)
        rc = gnutls_x509_crt_set_subject_alt_othername(
            crt, "1.3.6.1.5.5.7.8.5", sp->xmpp, (unsigned)strlen(sp->xmpp),
            GNUTLS_FSAN_APPEND | GNUTLS_FSAN_ENCODE_UTF8_STRING);
    if (rc >= 0 && sp->ip) {
        unsigned char a[4];
        if (inet_pton(AF_INET, sp->ip, a) != 1)
            return -1;
        rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, a, 4,
                                                  GNUTLS_FSAN_APPEND);
    }
    return rc;
}

/* Make the certificate @p sp, signed by @p issuer (NULL: self-signed), and
 * write it and its key to DIR. */
static int make_cert(const spec *sp, const cert *issuer, cert *out)
{
    memset(out, 0, sizeof(*out));
    if (gnutls_x509_privkey_init(&out->key) < 0 || gnutls_x509_crt_init(&out->crt) < 0)
        return -1;
    gnutls_x509_crt_t crt = out->crt;
    int rc = gnutls_x509_privkey_generate(out->key, GNUTLS_PK_ECDSA,
                                          GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    unsigned char serial[8];
    if (rc >= 0)
        rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
    serial[0] &= 0x7f;
    time_t now = time(NULL);
    char dn[128];
    snprintf(dn, sizeof(dn), "CN=%s,O=Canto tests", sp->cn);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_version(crt, 3);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
    if (rc >= 0)
        rc = gnutls_x509_crt_set_activation_time(crt, now + sp->from_days * 86400);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_expiration_time(crt, now + sp->to_days * 86400);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_key(crt, out->key);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_dn(crt, dn, NULL);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_basic_constraints(crt, sp->is_ca, -1);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_key_usage(crt, sp->is_ca ? GNUTLS_KEY_KEY_CERT_SIGN
                                                          : GNUTLS_KEY_DIGITAL_SIGNATURE);
    if (rc >= 0 && !sp->is_ca)
        rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
    unsigned char id[64];
    size_t id_len = sizeof(id);
    if (rc >= 0)
        rc = gnutls_x509_crt_get_key_id(crt, 0, id, &id_len);
    if (rc >= 0)
        rc = gnutls_x509_crt_set_subject_key_id(crt, id, id_len);
    if (rc >= 0 && issuer) {
        id_len = sizeof(id);
        rc = gnutls_x509_crt_get_subject_key_id(issuer->crt, id, &id_len, NULL);
        if (rc >= 0)
            rc = gnutls_x509_crt_set_authority_key_id(crt, id, id_len);
    }
    if (rc >= 0)
        rc = set_sans(crt, sp);
    if (rc >= 0)
        rc = gnutls_x509_crt_sign2(crt, issuer ? issuer->crt : crt, issuer ? issuer->key : out->key,
                                   GNUTLS_DIG_SHA256, 0);
    gnutls_datum_t pem = {NULL, 0};
    if (rc >= 0)
        rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem);
    if (rc >= 0)
        rc = write_datum(sp->name, "pem", &pem);
    gnutls_free(pem.data);
    pem.data = NULL;
    if (rc >= 0)
        rc = gnutls_x509_privkey_export2(out->key, GNUTLS_X509_FMT_PEM, &pem);
    if (rc >= 0)
        rc = write_datum(sp->name, "key", &pem);
    gnutls_free(pem.data);
    if (rc >= 0)
        rc = key_pin(out->key, out->pin);
    if (rc < 0)
        fprintf(stderr, "make_cert %s: %s\n", sp->name, gnutls_strerror(rc));
    return rc < 0 ? -1 : 0;
}

static void cert_free(cert *c)
{
    gnutls_x509_crt_deinit(c->crt);
    gnutls_x509_privkey_deinit(c->key);
}

enum {
    C_CA,
    C_EVIL_CA,
    C_LOCALHOST,
    C_WILD,
    C_CN_ONLY,
    C_WRONG,
    C_UNTRUSTED,
    C_EXPIRED,
    C_SRV,
    C_XMPP,
    C_IP,
    C_COUNT
};

static cert certs[C_COUNT];

static const spec specs[C_COUNT] = {
    [C_CA] = {"ca", "Canto Test CA", NULL, NULL, NULL, NULL, 1, -1, 365},
    [C_EVIL_CA] = {"evil-ca", "Untrusted CA", NULL, NULL, NULL, NULL, 1, -1, 365},
    [C_LOCALHOST] = {"localhost", "localhost", "localhost", NULL, NULL, NULL, 0, -1, 30},
    [C_WILD] = {"wild", "example.org", "*.example.org", NULL, NULL, NULL, 0, -1, 30},
    [C_CN_ONLY] = {"cn-only", "localhost", NULL, NULL, NULL, NULL, 0, -1, 30},
    [C_WRONG] = {"wrong", "wrong.example", "wrong.example", NULL, NULL, NULL, 0, -1, 30},
    [C_UNTRUSTED] = {"untrusted", "localhost", "localhost", NULL, NULL, NULL, 0, -1, 30},
    [C_EXPIRED] = {"expired", "localhost", "localhost", NULL, NULL, NULL, 0, -30, -1},
    [C_SRV] = {"srv", "srv", NULL, "_xmpp-client.example.net", NULL, NULL, 0, -1, 30},
    [C_XMPP] = {"xmpp", "xmpp", NULL, NULL, "example.com", NULL, 0, -1, 30},
    [C_IP] = {"ip", "127.0.0.1", NULL, NULL, NULL, "127.0.0.1", 0, -1, 30},
};

static int make_all_certs(void)
{
    snprintf(dir, sizeof(dir), "/tmp/canto-test-tls.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(ca_file, sizeof(ca_file), "%s/ca.pem", dir);
    for (int i = 0; i < C_COUNT; i++) {
        const cert *issuer = NULL;
        if (i == C_UNTRUSTED)
            issuer = &certs[C_EVIL_CA];
        else if (i != C_CA && i != C_EVIL_CA)
            issuer = &certs[C_CA];
        if (make_cert(&specs[i], issuer, &certs[i]) != 0)
            return -1;
    }
    return 0;
}

static void remove_all_certs(void)
{
    for (int i = 0; i < C_COUNT; i++) {
        char path[192];
        snprintf(path, sizeof(path), "%s/%s.pem", dir, specs[i].name);
        unlink(path);
        snprintf(path, sizeof(path), "%s/%s.key", dir, specs[i].name);
        unlink(path);
        cert_free(&certs[i]);
    }
    rmdir(dir);
}

static const char *path_of(int which, const char *ext)
{
    static char bufs[4][192];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s/%s.%s", dir, specs[which].name, ext);
    return b;
}

/* ------------------------------------------------------------------------ */
/* Two endpoints in memory */

static canto__alloc A;

typedef struct logbuf {
    int errors;
    char last[512];
} logbuf;

static void on_log(void *ud, canto_log_level level, const char *area, const char *msg)
{
    logbuf *lb = ud;
    if (level >= CANTO_LOG_ERROR) {
        lb->errors++;
        snprintf(lb->last, sizeof(lb->last), "%s: %s", area, msg);
    }
}

static logbuf client_log;

static canto__tls_config client_cfg(const char *domain)
{
    canto__tls_config cfg = CANTO__TLS_CONFIG_INIT;
    cfg.domain = domain;
    cfg.ca_file = ca_file;
    cfg.no_system_trust = 1;
    return cfg;
}

static canto__tls *server_new(int which, const char *priority, const char *alpn)
{
    canto__tls_config cfg = CANTO__TLS_CONFIG_INIT;
    cfg.role = CANTO__TLS_SERVER;
    cfg.cert_file = path_of(which, "pem");
    cfg.key_file = path_of(which, "key");
    cfg.priority_override = priority;
    cfg.alpn = alpn;
    canto__tls *s = NULL;
    int rc = canto__tls_new(&A, NULL, &cfg, &s);
    if (rc)
        fprintf(stderr, "server_new: %s\n", canto_strerror(rc));
    return s;
}

static int feed_failures; /* feeds refused (out of memory) */

/* Move @p from's output into @p to, @p chunk bytes per feed. @return bytes. */
static size_t move(canto__tls *from, canto__tls *to, size_t chunk)
{
    size_t moved = 0;
    const void *p;
    size_t n;
    for (canto__tls_out(from, &p, &n); n; canto__tls_out(from, &p, &n)) {
        size_t k = n < chunk ? n : chunk;
        if (canto__tls_feed(to, p, k) != 0) {
            feed_failures++;
            return moved;
        }
        canto__tls_out_consume(from, k);
        moved += k;
    }
    return moved;
}

typedef struct pair {
    canto__tls *c, *s;
    int crc, src; /* last handshake results */
} pair;

static void run_handshake(pair *p, size_t chunk)
{
    p->crc = p->src = CANTO__TLS_AGAIN;
    for (int i = 0; i < 200; i++) {
        if (p->crc == CANTO__TLS_AGAIN)
            p->crc = canto__tls_handshake(p->c);
        size_t moved = move(p->c, p->s, chunk);
        if (p->src == CANTO__TLS_AGAIN)
            p->src = canto__tls_handshake(p->s);
        moved += move(p->s, p->c, chunk);
        if (p->crc != CANTO__TLS_AGAIN && p->src != CANTO__TLS_AGAIN)
            return;
        if (!moved && (p->crc < 0 || p->src < 0))
            return;
    }
}

/* Connect a client configured by @p cfg to a server presenting @p which.
 * @return the client's handshake result. */
static int connect_pair(pair *p, const canto__tls_config *cfg, int which, const char *priority)
{
    memset(p, 0, sizeof(*p));
    memset(&client_log, 0, sizeof(client_log));
    canto__log log = {on_log, &client_log, CANTO_LOG_DEBUG};
    int rc = canto__tls_new(&A, &log, cfg, &p->c);
    if (rc)
        return rc;
    p->s = server_new(which, priority, cfg->alpn);
    if (!p->s)
        return CANTO_EINVAL;
    run_handshake(p, 4096);
    return p->crc;
}

static void pair_free(pair *p)
{
    canto__tls_free(p->c);
    canto__tls_free(p->s);
    p->c = p->s = NULL;
}

/* Handshake result of the default client for @p domain against @p which. */
static int try_domain(const char *domain, int which)
{
    canto__tls_config cfg = client_cfg(domain);
    pair p;
    int rc = connect_pair(&p, &cfg, which, NULL);
    pair_free(&p);
    return rc;
}

/* Records the failure details the verify callback was given. */
typedef struct verdict {
    int calls;
    int accept;
    unsigned status;
    char reason[768], domain[64], subject[128];
    size_t der_len;
    unsigned char spki[CANTO_SHA256_LEN];
} verdict;

static int on_verify(void *ud, const canto_cert_failure *f)
{
    verdict *v = ud;
    v->calls++;
    v->status = f->status;
    snprintf(v->reason, sizeof(v->reason), "%s", f->reason);
    snprintf(v->domain, sizeof(v->domain), "%s", f->domain);
    snprintf(v->subject, sizeof(v->subject), "%s", f->subject);
    v->der_len = f->der_len;
    memcpy(v->spki, f->spki_sha256, CANTO_SHA256_LEN);
    return v->accept;
}

/* The status the callback sees for @p domain against @p which (refusing). */
static unsigned failure_status(const char *domain, int which)
{
    verdict v;
    memset(&v, 0, sizeof(v));
    canto__tls_config cfg = client_cfg(domain);
    cfg.verify_fn = on_verify;
    cfg.verify_ud = &v;
    pair p;
    int rc = connect_pair(&p, &cfg, which, NULL);
    pair_free(&p);
    return rc == CANTO_ECERT && v.calls == 1 ? v.status : 0;
}

/* ------------------------------------------------------------------------ */
/* Identity rules (pure) */

static int test_identity_rules(void)
{
#define DNS(ref, pres) canto__tls_dns_id_match(ref, pres, strlen(pres))
    CHECK(DNS("example.org", "example.org"));
    CHECK(DNS("Example.ORG", "example.org"));
    CHECK(DNS("example.org.", "example.org"));
    CHECK(DNS("example.org", "example.org."));
    CHECK(!DNS("example.org", "example.com"));
    CHECK(!DNS("example.org", "xexample.org"));
    CHECK(!DNS("example.org", ""));
    CHECK(DNS("chat.example.org", "*.example.org"));
    CHECK(DNS("CHAT.example.org", "*.EXAMPLE.org"));
    CHECK(!DNS("example.org", "*.example.org"));       /* not the parent */
    CHECK(!DNS("a.b.example.org", "*.example.org"));   /* one label only */
    CHECK(!DNS(".example.org", "*.example.org"));      /* empty label */
    CHECK(!DNS("example.org", "*.org"));               /* too broad */
    CHECK(!DNS("chat.example.org", "c*.example.org")); /* partial wildcard */
    CHECK(!DNS("chat.example.org", "*chat.example.org"));
    CHECK(!DNS("chat.example.org", "chat.*.org"));
    CHECK(!DNS("a.chat.example.org", "*.*.example.org"));
    CHECK(!DNS("chat.example.org", "*"));
    CHECK(!canto__tls_dns_id_match("example.org", "example.org\0.evil.com", 21));
    CHECK(!DNS("b\xc3\xbc"
               "cher.de",
               "b\xc3\xbc"
               "cher.de")); /* U-labels never */
    CHECK(DNS("xn--bcher-kva.de", "xn--bcher-kva.de"));
#undef DNS
#define SRV(ref, pres) canto__tls_srv_id_match(ref, pres, strlen(pres))
    CHECK(SRV("example.org", "_xmpp-client.example.org"));
    CHECK(SRV("example.org", "_xmpps-client.Example.org"));
    CHECK(!SRV("example.org", "_xmpp-server.example.org"));
    CHECK(!SRV("example.org", "_xmpp-client.example.com"));
    CHECK(!SRV("example.org", "_xmpp-client.*.org"));
    CHECK(!SRV("example.org", "_xmpp-client."));
    CHECK(!SRV("example.org", "example.org"));
#undef SRV
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Handshakes */

static int test_handshake_ok(void)
{
    canto__tls_config cfg = client_cfg("localhost");
    cfg.alpn = "xmpp-client";
    pair p;
    CHECK_INT(connect_pair(&p, &cfg, C_LOCALHOST, NULL), 0);
    CHECK_INT(p.src, 0);
    CHECK(canto__tls_handshake_done(p.c));
    CHECK_INT(canto__tls_handshake(p.c), 0); /* idempotent */
    CHECK_INT(canto__tls_version(p.c), 13);
    CHECK_INT(canto__tls_ems(p.c), 1);
    size_t len = 0;
    const unsigned char *alpn = canto__tls_alpn(p.c, &len);
    CHECK(alpn && len == 11 && memcmp(alpn, "xmpp-client", 11) == 0);
    alpn = canto__tls_alpn(p.s, &len);
    CHECK(alpn && len == 11 && memcmp(alpn, "xmpp-client", 11) == 0);
    CHECK_STR(canto__tls_error_text(p.c), "");
    CHECK_INT(client_log.errors, 0);
    /* Handshake over: no buffer is kept. */
    CHECK(p.c->in.data == NULL && p.c->out.data == NULL);
    pair_free(&p);

    /* Without ALPN nothing is negotiated. */
    cfg.alpn = NULL;
    CHECK_INT(connect_pair(&p, &cfg, C_LOCALHOST, NULL), 0);
    CHECK(canto__tls_alpn(p.c, &len) == NULL && len == 0);
    pair_free(&p);

    /* One byte per feed: the handshake survives any split. */
    CHECK(canto__tls_new(&A, NULL, &cfg, &p.c) == 0);
    p.s = server_new(C_LOCALHOST, NULL, NULL);
    REQUIRE(p.s != NULL);
    run_handshake(&p, 1);
    CHECK_INT(p.crc, 0);
    CHECK_INT(p.src, 0);
    pair_free(&p);
    return 0;
}

static int test_wildcard(void)
{
    CHECK_INT(try_domain("chat.example.org", C_WILD), 0);
    CHECK_INT(try_domain("example.org", C_WILD), CANTO_ECERT);
    CHECK_INT(try_domain("a.chat.example.org", C_WILD), CANTO_ECERT);
    return 0;
}

static int test_cn_only_refused(void)
{
    /* The CN says localhost; without a SAN that is not an identity. */
    CHECK_INT(failure_status("localhost", C_CN_ONLY), CANTO_CERT_NAME_MISMATCH);
    CHECK_INT(try_domain("localhost", C_CN_ONLY), CANTO_ECERT);
    CHECK(strstr(client_log.last, "does not name localhost") != NULL);
    return 0;
}

static int test_wrong_name(void)
{
    canto__tls_config cfg = client_cfg("localhost");
    pair p;
    CHECK_INT(connect_pair(&p, &cfg, C_WRONG, NULL), CANTO_ECERT);
    CHECK(strstr(canto__tls_error_text(p.c), "does not name localhost") != NULL);
    CHECK(!canto__tls_handshake_done(p.c));
    /* The server heard why: the client's alert ended its handshake. */
    CHECK_INT(p.src, CANTO_ETLS);
    CHECK(strstr(canto__tls_error_text(p.s), "alert") != NULL);
    /* Later calls repeat the failure. */
    CHECK_INT(canto__tls_handshake(p.c), CANTO_ECERT);
    size_t n;
    char buf[8];
    CHECK_INT(canto__tls_read(p.c, buf, sizeof(buf), &n), CANTO_ECERT);
    CHECK_INT(canto__tls_write(p.c, "x", 1), CANTO_ECERT);
    pair_free(&p);
    CHECK_INT(failure_status("localhost", C_WRONG), CANTO_CERT_NAME_MISMATCH);
    /* The name that is in the certificate works. */
    CHECK_INT(try_domain("wrong.example", C_WRONG), 0);
    return 0;
}

static int test_untrusted_and_expired(void)
{
    CHECK_INT(try_domain("localhost", C_UNTRUSTED), CANTO_ECERT);
    CHECK(strstr(client_log.last, "refused") != NULL);
    CHECK_INT(failure_status("localhost", C_UNTRUSTED), CANTO_CERT_UNTRUSTED);
    CHECK_INT(try_domain("localhost", C_EXPIRED), CANTO_ECERT);
    CHECK_INT(failure_status("localhost", C_EXPIRED), CANTO_CERT_EXPIRED);
    /* Both problems at once are both reported. */
    CHECK_INT(failure_status("elsewhere.example", C_UNTRUSTED),
              CANTO_CERT_UNTRUSTED | CANTO_CERT_NAME_MISMATCH);
    /* With the system store only, our test CA is unknown. */
    canto__tls_config cfg = client_cfg("localhost");
    cfg.ca_file = NULL;
    cfg.no_system_trust = 0;
    pair p;
    CHECK_INT(connect_pair(&p, &cfg, C_LOCALHOST, NULL), CANTO_ECERT);
    pair_free(&p);
    return 0;
}

static int test_verify_callback(void)
{
    verdict v;
    memset(&v, 0, sizeof(v));
    v.accept = 1;
    canto__tls_config cfg = client_cfg("localhost");
    cfg.verify_fn = on_verify;
    cfg.verify_ud = &v;
    pair p;
    CHECK_INT(connect_pair(&p, &cfg, C_UNTRUSTED, NULL), 0);
    CHECK_INT(v.calls, 1);
    CHECK_INT(v.status, CANTO_CERT_UNTRUSTED);
    CHECK_STR(v.domain, "localhost");
    CHECK(strstr(v.subject, "CN=localhost") != NULL);
    CHECK(v.reason[0] != '\0');
    CHECK(v.der_len > 100);
    CHECK(memcmp(v.spki, certs[C_UNTRUSTED].pin, CANTO_SHA256_LEN) == 0);
    pair_free(&p);

    /* A good certificate never reaches the callback. */
    memset(&v, 0, sizeof(v));
    CHECK_INT(connect_pair(&p, &cfg, C_LOCALHOST, NULL), 0);
    CHECK_INT(v.calls, 0);
    pair_free(&p);
    return 0;
}

static int test_pins(void)
{
    canto_spki_pin pins[2];
    memset(pins, 0xab, sizeof(pins));
    memcpy(pins[1].sha256, certs[C_UNTRUSTED].pin, CANTO_SHA256_LEN);
    canto__tls_config cfg = CANTO__TLS_CONFIG_INIT;
    cfg.domain = "localhost";
    cfg.no_system_trust = 1; /* pins alone are enough to trust */
    cfg.pins = pins;
    cfg.n_pins = 2;
    pair p;
    /* Untrusted issuer, but the key is pinned. */
    CHECK_INT(connect_pair(&p, &cfg, C_UNTRUSTED, NULL), 0);
    pair_free(&p);
    /* Pins replace the CA: a CA-valid certificate with another key fails. */
    cfg.ca_file = ca_file;
    CHECK_INT(connect_pair(&p, &cfg, C_LOCALHOST, NULL), CANTO_ECERT);
    CHECK(strstr(canto__tls_error_text(p.c), "pinned") != NULL);
    pair_free(&p);
    /* The name is still checked with a matching pin. */
    memcpy(pins[0].sha256, certs[C_WRONG].pin, CANTO_SHA256_LEN);
    verdict v;
    memset(&v, 0, sizeof(v));
    cfg.verify_fn = on_verify;
    cfg.verify_ud = &v;
    CHECK_INT(connect_pair(&p, &cfg, C_WRONG, NULL), CANTO_ECERT);
    CHECK_INT(v.status, CANTO_CERT_NAME_MISMATCH);
    pair_free(&p);
    /* Expiry does not matter for a pinned key (as with DANE-EE). */
    memcpy(pins[0].sha256, certs[C_EXPIRED].pin, CANTO_SHA256_LEN);
    memset(&v, 0, sizeof(v));
    CHECK_INT(connect_pair(&p, &cfg, C_EXPIRED, NULL), 0);
    CHECK_INT(v.calls, 0);
    pair_free(&p);
    /* Wrong pin only. */
    memset(pins, 0xcd, sizeof(pins));
    memset(&v, 0, sizeof(v));
    CHECK_INT(connect_pair(&p, &cfg, C_UNTRUSTED, NULL), CANTO_ECERT);
    CHECK_INT(v.status, CANTO_CERT_PIN_MISMATCH);
    pair_free(&p);
    return 0;
}

static int test_srv_xmpp_ip_ids(void)
{
    CHECK_INT(try_domain("example.net", C_SRV), 0);
    CHECK_INT(try_domain("example.com", C_SRV), CANTO_ECERT);
    CHECK_INT(try_domain("example.com", C_XMPP), 0);
    CHECK_INT(try_domain("example.net", C_XMPP), CANTO_ECERT);
    CHECK_INT(try_domain("127.0.0.1", C_IP), 0);
    CHECK_INT(try_domain("127.0.0.2", C_IP), CANTO_ECERT);
    /* An IP literal is never matched by a dNSName. */
    CHECK_INT(try_domain("127.0.0.1", C_CN_ONLY), CANTO_ECERT);
    return 0;
}

static int test_old_versions_refused(void)
{
    canto__tls_config cfg = client_cfg("localhost");
    pair p;
    CHECK_INT(connect_pair(&p, &cfg, C_LOCALHOST, "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0"),
              CANTO_ETLS);
    CHECK(!canto__tls_handshake_done(p.c));
    pair_free(&p);
    /* The same server accepts a client that allows TLS 1.1 (if this GnuTLS
     * still speaks it), so the refusal above is ours. */
    cfg.priority_override = "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1";
    int rc = connect_pair(&p, &cfg, C_LOCALHOST, "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0");
    if (rc == 0)
        CHECK_INT(canto__tls_version(p.c), 0); /* neither 1.2 nor 1.3 */
    else
        fprintf(stderr, "note: this GnuTLS refuses TLS 1.1 even when asked\n");
    pair_free(&p);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Channel binding */

static int same_binding(pair *p, canto__tls_cb_type type, size_t want_len)
{
    unsigned char a[CANTO__TLS_CB_MAX], b[CANTO__TLS_CB_MAX];
    size_t alen = 0, blen = 0;
    CHECK_INT(canto__tls_channel_binding(p->c, type, a, sizeof(a), &alen), 0);
    CHECK_INT(canto__tls_channel_binding(p->s, type, b, sizeof(b), &blen), 0);
    CHECK_INT(alen, want_len);
    CHECK(alen == blen && memcmp(a, b, alen) == 0);
    return alen == want_len && alen == blen && memcmp(a, b, alen) == 0;
}

/* Our exporter value must equal GnuTLS's own RFC 9266 implementation, and
 * differ from the "no context" variant (which matters in TLS 1.2). */
static void exporter_cross_check(pair *p, int expect_no_context_differs)
{
    unsigned char ours[CANTO__TLS_CB_MAX], nocontext[32];
    size_t len = 0;
    CHECK_INT(
        canto__tls_channel_binding(p->c, CANTO__TLS_CB_TLS_EXPORTER, ours, sizeof(ours), &len), 0);
    gnutls_datum_t ref = {NULL, 0};
    CHECK_INT(gnutls_session_channel_binding(p->c->session, GNUTLS_CB_TLS_EXPORTER, &ref), 0);
    CHECK(ref.size == len && memcmp(ref.data, ours, len) == 0);
    gnutls_free(ref.data);
    static const char label[] = "EXPORTER-Channel-Binding";
    CHECK_INT(
        gnutls_prf_rfc5705(p->c->session, sizeof(label) - 1, label, 0, NULL, 32, (char *)nocontext),
        0);
    CHECK_INT(memcmp(nocontext, ours, 32) != 0, expect_no_context_differs);
}

static int test_binding_tls13(void)
{
    canto__tls_config cfg = client_cfg("localhost");
    pair p;
    unsigned char buf[CANTO__TLS_CB_MAX];
    size_t len = 99;
    CHECK(canto__tls_new(&A, NULL, &cfg, &p.c) == 0);
    CHECK_INT(canto__tls_cb_preferred(p.c), CANTO__TLS_CB_NONE);
    CHECK_INT(canto__tls_channel_binding(p.c, CANTO__TLS_CB_TLS_EXPORTER, buf, sizeof(buf), &len),
              CANTO_ESTATE);
    CHECK_INT(len, 0);
    canto__tls_free(p.c);

    CHECK_INT(connect_pair(&p, &cfg, C_LOCALHOST, NULL), 0);
    CHECK_INT(canto__tls_cb_preferred(p.c), CANTO__TLS_CB_TLS_EXPORTER);
    CHECK_INT(canto__tls_cb_preferred(p.s), CANTO__TLS_CB_TLS_EXPORTER);
    CHECK_STR(canto__tls_cb_name(canto__tls_cb_preferred(p.c)), "tls-exporter");
    same_binding(&p, CANTO__TLS_CB_TLS_EXPORTER, 32);
    exporter_cross_check(&p, 0);
    CHECK_INT(canto__tls_channel_binding(p.c, CANTO__TLS_CB_TLS_UNIQUE, buf, sizeof(buf), &len),
              CANTO_EUNSUPPORTED);
    CHECK_INT(canto__tls_channel_binding(p.c, CANTO__TLS_CB_TLS_EXPORTER, buf, 31, &len),
              CANTO_EINVAL);
    CHECK_INT(canto__tls_channel_binding(p.c, CANTO__TLS_CB_NONE, buf, sizeof(buf), &len),
              CANTO_EINVAL);
    pair_free(&p);
    return 0;
}

static int test_binding_tls12(void)
{
    canto__tls_config cfg = client_cfg("localhost");
    pair p;
    /* TLS 1.2 with Extended Master Secret (GnuTLS's default). */
    CHECK_INT(connect_pair(&p, &cfg, C_LOCALHOST, "NORMAL:-VERS-ALL:+VERS-TLS1.2"), 0);
    CHECK_INT(canto__tls_version(p.c), 12);
    CHECK_INT(canto__tls_ems(p.c), 1);
    CHECK_INT(canto__tls_cb_preferred(p.c), CANTO__TLS_CB_TLS_EXPORTER);
    same_binding(&p, CANTO__TLS_CB_TLS_EXPORTER, 32);
    exporter_cross_check(&p, 1);
    same_binding(&p, CANTO__TLS_CB_TLS_UNIQUE, 12);
    pair_free(&p);

    /* Without EMS: tls-exporter is not defined, tls-unique is the binding. */
    CHECK_INT(connect_pair(&p, &cfg, C_LOCALHOST, "NORMAL:-VERS-ALL:+VERS-TLS1.2:%NO_SESSION_HASH"),
              0);
    CHECK_INT(canto__tls_version(p.c), 12);
    CHECK_INT(canto__tls_ems(p.c), 0);
    CHECK_INT(canto__tls_cb_preferred(p.c), CANTO__TLS_CB_TLS_UNIQUE);
    CHECK_STR(canto__tls_cb_name(CANTO__TLS_CB_TLS_UNIQUE), "tls-unique");
    same_binding(&p, CANTO__TLS_CB_TLS_UNIQUE, 12);
    unsigned char buf[CANTO__TLS_CB_MAX];
    size_t len;
    CHECK_INT(canto__tls_channel_binding(p.c, CANTO__TLS_CB_TLS_EXPORTER, buf, sizeof(buf), &len),
              CANTO_EUNSUPPORTED);
    pair_free(&p);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Data */

/* Send @p len pattern bytes from @p from to @p to in @p wchunk writes,
 * moving ciphertext @p cchunk bytes per feed, reading @p rchunk at a time.
 * @return 1 if everything arrived intact. */
static int transfer(canto__tls *from, canto__tls *to, size_t len, size_t wchunk, size_t cchunk,
                    size_t rchunk)
{
    unsigned char *src = malloc(len), *dst = malloc(len);
    if (!src || !dst) {
        free(src);
        free(dst);
        return 0;
    }
    for (size_t i = 0; i < len; i++)
        src[i] = (unsigned char)(i * 7 + i / 251);
    size_t sent = 0, got = 0;
    int ok = 1;
    unsigned char rbuf[4096];
    while (ok && got < len) {
        if (sent < len) {
            size_t k = len - sent < wchunk ? len - sent : wchunk;
            ok = canto__tls_write(from, src + sent, k) == 0;
            sent += k;
        }
        move(from, to, cchunk);
        for (;;) {
            size_t n = 0;
            int rc = canto__tls_read(to, rbuf, rchunk, &n);
            if (rc == CANTO__TLS_AGAIN)
                break;
            if (rc != 0 || got + n > len) {
                ok = 0;
                break;
            }
            memcpy(dst + got, rbuf, n);
            got += n;
        }
        if (sent == len && got < len && !to->in.len && !canto__tls_pending(to)) {
            const void *p;
            size_t n;
            canto__tls_out(from, &p, &n);
            if (!n)
                ok = 0; /* nothing left in flight: bytes were lost */
        }
    }
    ok = ok && got == len && memcmp(src, dst, len) == 0;
    free(src);
    free(dst);
    return ok;
}

static int test_data_both_ways(void)
{
    canto__tls_config cfg = client_cfg("localhost");
    pair p;
    REQUIRE(connect_pair(&p, &cfg, C_LOCALHOST, NULL) == 0);
    CHECK(transfer(p.c, p.s, 100000, 4999, 1, 13));
    CHECK(transfer(p.s, p.c, 100000, 17, 333, 4096));
    CHECK(transfer(p.c, p.s, 70000, 70000, 7, 1));
    CHECK(transfer(p.s, p.c, 1, 1, 1, 1));
    /* Idle again: no buffers held. */
    CHECK(!p.c->in.data && !p.c->out.data && !p.s->in.data && !p.s->out.data);
    pair_free(&p);
    return 0;
}

static int test_bye_and_eof(void)
{
    canto__tls_config cfg = client_cfg("localhost");
    pair p;
    REQUIRE(connect_pair(&p, &cfg, C_LOCALHOST, NULL) == 0);
    CHECK_INT(canto__tls_write(p.c, "last words", 10), 0);
    CHECK_INT(canto__tls_bye(p.c), 0);
    CHECK_INT(canto__tls_bye(p.c), 0);
    CHECK_INT(canto__tls_write(p.c, "more", 4), CANTO_ESTATE);
    move(p.c, p.s, 4096);
    char buf[64];
    size_t n = 0;
    CHECK_INT(canto__tls_read(p.s, buf, sizeof(buf), &n), 0);
    CHECK(n == 10 && memcmp(buf, "last words", 10) == 0);
    CHECK_INT(canto__tls_read(p.s, buf, sizeof(buf), &n), CANTO_ECLOSED);
    CHECK_INT(n, 0);
    /* The server answers with its own close_notify; the client sees it. */
    CHECK_INT(canto__tls_bye(p.s), 0);
    move(p.s, p.c, 4096);
    CHECK_INT(canto__tls_read(p.c, buf, sizeof(buf), &n), CANTO_ECLOSED);
    pair_free(&p);

    /* TCP closed without close_notify: truncation is an error. */
    REQUIRE(connect_pair(&p, &cfg, C_LOCALHOST, NULL) == 0);
    CHECK_INT(canto__tls_read(p.c, buf, sizeof(buf), &n), CANTO__TLS_AGAIN);
    CHECK_INT(canto__tls_feed(p.c, NULL, 0), 0);
    CHECK_INT(canto__tls_feed(p.c, "x", 1), CANTO_ESTATE);
    CHECK_INT(canto__tls_read(p.c, buf, sizeof(buf), &n), CANTO_ETLS);
    CHECK(strstr(canto__tls_error_text(p.c), "close_notify") != NULL);
    pair_free(&p);

    /* EOF in the middle of the handshake. */
    REQUIRE(canto__tls_new(&A, NULL, &cfg, &p.c) == 0);
    CHECK_INT(canto__tls_handshake(p.c), CANTO__TLS_AGAIN);
    CHECK_INT(canto__tls_feed(p.c, NULL, 0), 0);
    CHECK_INT(canto__tls_handshake(p.c), CANTO_ETLS);
    canto__tls_free(p.c);
    return 0;
}

/* Post-handshake messages (TLS 1.3 KeyUpdate here; NewSessionTicket from
 * real servers) fed together with data: GnuTLS stops after each message,
 * and the layer must go on with the queued records instead of asking for
 * more input that will not come. */
static int test_post_handshake_messages(void)
{
    canto__tls_config cfg = client_cfg("localhost");
    pair p;
    REQUIRE(connect_pair(&p, &cfg, C_LOCALHOST, NULL) == 0);
    CHECK_INT(gnutls_session_key_update(p.s->session, 0), 0);
    CHECK_INT(gnutls_session_key_update(p.s->session, 0), 0);
    CHECK_INT(canto__tls_write(p.s, "after", 5), 0);
    move(p.s, p.c, 65536); /* all in one feed */
    char buf[16];
    size_t n = 0;
    CHECK_INT(canto__tls_read(p.c, buf, sizeof(buf), &n), 0);
    CHECK(n == 5 && memcmp(buf, "after", 5) == 0);
    CHECK_INT(canto__tls_read(p.c, buf, sizeof(buf), &n), CANTO__TLS_AGAIN);
    CHECK(transfer(p.c, p.s, 1000, 100, 50, 64)); /* keys still agree */
    pair_free(&p);

    /* The same during the handshake: the server's first data arrives in the
     * feed that completes the client's handshake. */
    REQUIRE(canto__tls_new(&A, NULL, &cfg, &p.c) == 0);
    p.s = server_new(C_LOCALHOST, NULL, NULL);
    REQUIRE(p.s != NULL);
    run_handshake(&p, 65536);
    CHECK_INT(p.crc, 0);
    pair_free(&p);
    return 0;
}

static int test_renegotiation_refused(void)
{
    canto__tls_config cfg = client_cfg("localhost");
    pair p;
    REQUIRE(connect_pair(&p, &cfg, C_LOCALHOST, "NORMAL:-VERS-ALL:+VERS-TLS1.2") == 0);
    /* The server asks for a new handshake; the client declines and the
     * connection goes on. */
    CHECK_INT(gnutls_rehandshake(p.s->session), 0);
    move(p.s, p.c, 4096);
    char buf[16];
    size_t n;
    CHECK_INT(canto__tls_read(p.c, buf, sizeof(buf), &n), CANTO__TLS_AGAIN);
    move(p.c, p.s, 4096);
    int rc = gnutls_handshake(p.s->session);
    CHECK(rc == GNUTLS_E_WARNING_ALERT_RECEIVED || rc == GNUTLS_E_AGAIN);
    CHECK(transfer(p.c, p.s, 1000, 100, 50, 64));
    pair_free(&p);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Configuration, context, errors */

static int test_config_errors(void)
{
    canto__tls *t = (canto__tls *)1;
    canto__tls_config cfg = client_cfg(NULL);
    CHECK_INT(canto__tls_new(&A, NULL, &cfg, &t), CANTO_EINVAL); /* no domain */
    CHECK(t == NULL);
    cfg.domain = "b\xc3\xbc"
                 "cher.de";
    CHECK_INT(canto__tls_new(&A, NULL, &cfg, &t), CANTO_EINVAL); /* not an A-label */
    cfg.domain = "exa mple.org";
    CHECK_INT(canto__tls_new(&A, NULL, &cfg, &t), CANTO_EINVAL);
    cfg.domain = "localhost";
    cfg.ca_file = "/nonexistent/ca.pem";
    CHECK_INT(canto__tls_new(&A, NULL, &cfg, &t), CANTO_ENOTFOUND);
    cfg.ca_file = NULL; /* no CA at all and no pins: nothing could be trusted */
    CHECK_INT(canto__tls_new(&A, NULL, &cfg, &t), CANTO_EINVAL);
    cfg.ca_file = ca_file;
    cfg.cert_file = path_of(C_LOCALHOST, "pem"); /* a certificate needs its key */
    CHECK_INT(canto__tls_new(&A, NULL, &cfg, &t), CANTO_EINVAL);
    cfg.key_file = path_of(C_WRONG, "key"); /* a key that does not match */
    CHECK_INT(canto__tls_new(&A, NULL, &cfg, &t), CANTO_ETLS);
    cfg.key_file = "/nonexistent/key.pem";
    CHECK_INT(canto__tls_new(&A, NULL, &cfg, &t), CANTO_ENOTFOUND);
    cfg.key_file = path_of(C_LOCALHOST, "key"); /* a client certificate is fine */
    CHECK_INT(canto__tls_new(&A, NULL, &cfg, &t), 0);
    canto__tls_free(t);
    cfg.cert_file = cfg.key_file = NULL;
    cfg.priority_override = "NONSENSE:+";
    CHECK_INT(canto__tls_new(&A, NULL, &cfg, &t), CANTO_ETLS);
    cfg.priority_override = NULL;
    cfg.alpn = "";
    CHECK_INT(canto__tls_new(&A, NULL, &cfg, &t), CANTO_EINVAL);
    cfg.alpn = NULL;
    cfg.role = CANTO__TLS_SERVER; /* a server needs a certificate */
    CHECK_INT(canto__tls_new(&A, NULL, &cfg, &t), CANTO_EINVAL);
    CHECK_INT(canto__tls_new(NULL, NULL, &cfg, &t), CANTO_EINVAL);
    canto__tls_free(NULL);

    /* Before the handshake: no data, no facts. */
    cfg = client_cfg("localhost");
    REQUIRE(canto__tls_new(&A, NULL, &cfg, &t) == 0);
    char buf[8];
    size_t n = 5;
    CHECK_INT(canto__tls_read(t, buf, sizeof(buf), &n), CANTO_ESTATE);
    CHECK_INT(n, 0);
    CHECK_INT(canto__tls_write(t, "x", 1), CANTO_ESTATE);
    CHECK_INT(canto__tls_bye(t), CANTO_ESTATE);
    CHECK_INT(canto__tls_version(t), 0);
    CHECK_INT(canto__tls_ems(t), 0);
    CHECK_INT(canto__tls_pending(t), 0);
    CHECK_STR(canto__tls_error_text(t), "");
    /* The first flight (ClientHello) is ready at once. */
    CHECK_INT(canto__tls_handshake(t), CANTO__TLS_AGAIN);
    const void *p;
    canto__tls_out(t, &p, &n);
    CHECK(n > 0 && ((const unsigned char *)p)[0] == 22); /* handshake record */
    canto__tls_free(t);
    return 0;
}

static int test_insecure(void)
{
    canto__tls_config cfg = CANTO__TLS_CONFIG_INIT;
    cfg.insecure_skip_verify = 1; /* no domain, no CA: anything goes */
    cfg.no_system_trust = 1;
    pair p;
    CHECK_INT(connect_pair(&p, &cfg, C_UNTRUSTED, NULL), 0);
    pair_free(&p);
    cfg.domain = "localhost";
    CHECK_INT(connect_pair(&p, &cfg, C_EXPIRED, NULL), 0);
    pair_free(&p);
    return 0;
}

static int test_shared_ctx(void)
{
    canto__tls_ctx *ctx = NULL;
    REQUIRE(canto__tls_ctx_new(&A, &ctx) == 0);
    CHECK_INT(canto__tls_ctx_load_trust(ctx, "/nonexistent/ca.pem", 1), CANTO_ENOTFOUND);
    CHECK_INT(canto__tls_ctx_load_trust(ctx, NULL, 1), CANTO_EINVAL);
    CHECK_INT(canto__tls_ctx_load_trust(ctx, path_of(C_LOCALHOST, "key"), 1), CANTO_ETLS);

    /* Without a trust store the context still shares priority and
     * credentials; each session checks against its own CA file. */
    canto__tls_config cfg = client_cfg("localhost");
    cfg.ctx = ctx;
    pair p;
    CHECK_INT(connect_pair(&p, &cfg, C_LOCALHOST, NULL), 0);
    pair_free(&p);

    /* With one, the session's own CA settings are ignored. */
    CHECK_INT(canto__tls_ctx_load_trust(ctx, ca_file, 1), 0);
    cfg.ca_file = NULL;
    CHECK_INT(connect_pair(&p, &cfg, C_LOCALHOST, NULL), 0);
    pair q; /* a second session on the same context, while the first lives */
    CHECK_INT(connect_pair(&q, &cfg, C_WRONG, NULL), CANTO_ECERT);
    pair_free(&q);
    CHECK_INT(connect_pair(&q, &cfg, C_LOCALHOST, NULL), 0);
    CHECK(transfer(p.c, p.s, 100, 100, 4096, 4096));
    pair_free(&p);
    pair_free(&q);
    /* Replacing the store: now only the untrusted CA is known. */
    CHECK_INT(canto__tls_ctx_load_trust(ctx, path_of(C_EVIL_CA, "pem"), 1), 0);
    CHECK_INT(connect_pair(&p, &cfg, C_LOCALHOST, NULL), CANTO_ECERT);
    pair_free(&p);
    CHECK_INT(connect_pair(&p, &cfg, C_UNTRUSTED, NULL), 0);
    pair_free(&p);
    canto__tls_ctx_free(ctx);
    canto__tls_ctx_free(NULL);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Allocation failures and memory */

typedef struct failing {
    long countdown; /* allocations left before failing; < 0: never fail */
    long live;
} failing;

static void *f_alloc(void *ud, size_t n)
{
    failing *f = ud;
    if (f->countdown == 0)
        return NULL;
    if (f->countdown > 0)
        f->countdown--;
    void *p = malloc(n);
    if (p)
        f->live++;
    return p;
}

static void *f_realloc(void *ud, void *p, size_t n)
{
    failing *f = ud;
    if (!p)
        return f_alloc(ud, n);
    if (f->countdown == 0)
        return NULL;
    if (f->countdown > 0)
        f->countdown--;
    return realloc(p, n);
}

static void f_free(void *ud, void *p)
{
    failing *f = ud;
    if (p)
        f->live--;
    free(p);
}

/* Every allocation of ours failing in turn, from creation through a data
 * round trip: each failure is reported, nothing leaks (run under valgrind),
 * nothing crashes. */
static int test_alloc_failures(void)
{
    canto_allocator user = CANTO_ALLOCATOR_INIT;
    user.alloc = f_alloc;
    user.realloc = f_realloc;
    user.free = f_free;
    failing f;
    user.user_data = &f;
    canto__alloc fa;
    REQUIRE(canto__alloc_init(&fa, &user) == 0);
    int succeeded = 0;
    for (long k = 0; k < 200 && !succeeded; k++) {
        f.countdown = k;
        f.live = 0;
        feed_failures = 0;
        canto__tls_config cfg = client_cfg("localhost");
        canto__tls *c = NULL;
        canto__tls *s = server_new(C_LOCALHOST, NULL, NULL);
        REQUIRE(s != NULL);
        int rc = canto__tls_new(&fa, NULL, &cfg, &c);
        if (rc == 0) {
            pair p = {c, s, 0, 0};
            run_handshake(&p, 4096);
            rc = p.crc == CANTO__TLS_AGAIN && feed_failures ? CANTO_ENOMEM : p.crc;
            if (rc == 0) {
                rc = canto__tls_write(c, "ping", 4);
                move(c, s, 4096);
                char buf[8];
                size_t n = 0;
                if (rc == 0 && canto__tls_read(s, buf, sizeof(buf), &n) == 0 && n == 4)
                    succeeded = 1;
            }
        }
        if (rc != 0 && rc != CANTO_ENOMEM)
            fprintf(stderr, "allocation %ld failing: %s (%s)\n", k, canto_strerror(rc),
                    c ? canto__tls_error_text(c) : "");
        CHECK(rc == 0 || rc == CANTO_ENOMEM);
        canto__tls_free(c);
        canto__tls_free(s);
        CHECK_INT(f.live, 0);
    }
    CHECK(succeeded);
    return 0;
}

static size_t heap_used(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

/* What an idle, established client costs: measured with the server already
 * gone, after one warm-up connection so GnuTLS's one-time tables are not
 * counted. */
static size_t idle_client_bytes(const canto__tls_ctx *ctx)
{
    canto__tls_config cfg = client_cfg("localhost");
    cfg.ctx = ctx;
    size_t before = heap_used(); /* the server is created and freed after this */
    canto__tls *s = server_new(C_LOCALHOST, NULL, NULL);
    pair p = {NULL, s, 0, 0};
    if (canto__tls_new(&A, NULL, &cfg, &p.c) != 0)
        return 0;
    run_handshake(&p, 4096);
    size_t result = 0;
    if (p.crc == 0 && transfer(p.c, p.s, 300, 300, 4096, 4096) &&
        transfer(p.s, p.c, 300, 300, 4096, 4096)) {
        canto__tls_free(p.s); /* its memory is gone again; the client's remains */
        p.s = NULL;
        size_t after = heap_used();
        result = after > before ? after - before : 1;
    }
    canto__tls_free(p.c);
    canto__tls_free(p.s);
    return result;
}

static int test_idle_memory(void)
{
    if (heap_used() == 0) {
        fprintf(stderr, "note: mallinfo2 unavailable (sanitizer or valgrind): not measured\n");
        return 0;
    }
    canto__tls_ctx *ctx = NULL;
    REQUIRE(canto__tls_ctx_new(&A, &ctx) == 0);
    idle_client_bytes(NULL); /* warm-up */
    size_t alone = idle_client_bytes(NULL);
    size_t shared = idle_client_bytes(ctx);
    fprintf(stderr, "idle TLS 1.3 client session: %zu bytes alone, %zu with a shared context\n",
            alone, shared);
    CHECK(alone > 0 && alone < 40 * 1024);
    CHECK(shared > 0 && shared < 24 * 1024);
    canto__tls_ctx_free(ctx);
    return 0;
}

int main(void)
{
    REQUIRE(canto__alloc_init(&A, NULL) == 0);
    REQUIRE(make_all_certs() == 0);
    RUN(test_identity_rules);
    RUN(test_handshake_ok);
    RUN(test_wildcard);
    RUN(test_cn_only_refused);
    RUN(test_wrong_name);
    RUN(test_untrusted_and_expired);
    RUN(test_verify_callback);
    RUN(test_pins);
    RUN(test_srv_xmpp_ip_ids);
    RUN(test_old_versions_refused);
    RUN(test_binding_tls13);
    RUN(test_binding_tls12);
    RUN(test_data_both_ways);
    RUN(test_bye_and_eof);
    RUN(test_post_handshake_messages);
    RUN(test_renegotiation_refused);
    RUN(test_config_errors);
    RUN(test_insecure);
    RUN(test_shared_ctx);
    RUN(test_alloc_failures);
    RUN(test_idle_memory);
    remove_all_certs();
    return CHECK_DONE();
}
