/* canto__tls against a real server: Prosody, started in a temporary directory
 * by tests/servers/prosody.sh. The test drives plain non-blocking sockets
 * with poll() itself, the way the client's loop will: bytes from recv() go
 * to canto__tls_feed(), canto__tls_out() goes to send().
 * Exit 77 (skip) when prosody or certtool is not installed. */
#include "../unit/check.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include <canto/canto.h>
#include "net/tls.h"
#include "prosody_fixture.h"

#define IO_TIMEOUT_MS 5000

static char untrusted_ca[256];

/* ------------------------------------------------------------------------ */
/* A connection: socket + TLS, driven with poll() */

static canto__alloc A;

typedef struct conn {
    int fd;
    canto__tls *tls;
    char rx[16384]; /* plaintext received, NUL-terminated */
    size_t rxlen;
} conn;

static int wait_fd(int fd, short events)
{
    struct pollfd p = {fd, events, 0};
    int rc;
    while ((rc = poll(&p, 1, IO_TIMEOUT_MS)) < 0 && errno == EINTR)
        ;
    return rc == 1 ? 0 : -1;
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int err = 0;
    socklen_t len = sizeof(err);
    if ((connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) ||
        wait_fd(fd, POLLOUT) != 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
        err != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT) != 0)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Send what TLS has queued for the network. */
static int flush(conn *c)
{
    const void *p;
    size_t n;
    canto__tls_out(c->tls, &p, &n);
    if (n && send_all(c->fd, p, n) != 0)
        return -1;
    canto__tls_out_consume(c->tls, n);
    return 0;
}

/* Wait for bytes from the network and hand them to TLS (EOF included). */
static int pump_in(conn *c)
{
    char buf[4096];
    if (wait_fd(c->fd, POLLIN) != 0)
        return -1;
    ssize_t n;
    while ((n = recv(c->fd, buf, sizeof(buf), 0)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return errno == EAGAIN ? 0 : -1;
    return canto__tls_feed(c->tls, buf, (size_t)n) == 0 ? 0 : -1;
}

static int tls_start(conn *c, const canto__tls_config *cfg)
{
    int rc = canto__tls_new(&A, NULL, cfg, &c->tls);
    if (rc)
        return rc;
    for (;;) {
        rc = canto__tls_handshake(c->tls);
        if (flush(c) != 0)
            return CANTO_EIO;
        if (rc != CANTO__TLS_AGAIN)
            return rc;
        if (pump_in(c) != 0)
            return CANTO_ETIMEDOUT;
    }
}

/* Direct TLS to @p port. @return the handshake result. */
static int open_tls(conn *c, int port, const canto__tls_config *cfg)
{
    memset(c, 0, sizeof(*c));
    c->fd = tcp_connect(port);
    if (c->fd < 0)
        return CANTO_ECONNECT;
    return tls_start(c, cfg);
}

static void conn_close(conn *c)
{
    if (c->tls && canto__tls_handshake_done(c->tls) && canto__tls_bye(c->tls) == 0)
        flush(c);
    canto__tls_free(c->tls);
    if (c->fd >= 0)
        close(c->fd);
    c->tls = NULL;
    c->fd = -1;
}

static int tls_send(conn *c, const char *text)
{
    return canto__tls_write(c->tls, text, strlen(text)) == 0 && flush(c) == 0 ? 0 : -1;
}

/* Read plaintext until @p needle has arrived. */
static int tls_read_until(conn *c, const char *needle)
{
    while (!strstr(c->rx, needle)) {
        size_t n = 0;
        if (c->rxlen + 1 >= sizeof(c->rx))
            return -1;
        int rc = canto__tls_read(c->tls, c->rx + c->rxlen, sizeof(c->rx) - 1 - c->rxlen, &n);
        if (rc == 0) {
            c->rxlen += n;
            c->rx[c->rxlen] = '\0';
        } else if (rc != CANTO__TLS_AGAIN || flush(c) != 0 || pump_in(c) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Before TLS (STARTTLS negotiation): plain reads until @p needle. */
static int plain_read_until(conn *c, const char *needle)
{
    while (!strstr(c->rx, needle)) {
        if (c->rxlen + 1 >= sizeof(c->rx) || wait_fd(c->fd, POLLIN) != 0)
            return -1;
        ssize_t n = recv(c->fd, c->rx + c->rxlen, sizeof(c->rx) - 1 - c->rxlen, 0);
        if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
            return -1;
        if (n > 0) {
            c->rxlen += (size_t)n;
            c->rx[c->rxlen] = '\0';
        }
    }
    return 0;
}

static const char stream_header[] =
    "<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

static canto__tls_config client_cfg(const char *domain, const char *ca_file)
{
    canto__tls_config cfg = CANTO__TLS_CONFIG_INIT;
    cfg.domain = domain;
    cfg.ca_file = ca_file;
    cfg.no_system_trust = 1;
    return cfg;
}

/* ------------------------------------------------------------------------ */
/* Tests */

static int test_direct_tls(void)
{
    canto__tls_config cfg = client_cfg("localhost", prosody_ca());
    cfg.alpn = "xmpp-client";
    conn c;
    CHECK_INT(open_tls(&c, (int)prosody_env_port("CANTO_PROSODY_DIRECT_TLS_PORT"), &cfg), 0);
    REQUIRE(canto__tls_handshake_done(c.tls));
    CHECK_INT(canto__tls_version(c.tls), 13);
    size_t len = 0;
    const unsigned char *alpn = canto__tls_alpn(c.tls, &len);
    CHECK(alpn && len == 11 && memcmp(alpn, "xmpp-client", 11) == 0);
    CHECK_INT(canto__tls_cb_preferred(c.tls), CANTO__TLS_CB_TLS_EXPORTER);
    unsigned char cb[CANTO__TLS_CB_MAX];
    CHECK_INT(canto__tls_channel_binding(c.tls, CANTO__TLS_CB_TLS_EXPORTER, cb, sizeof(cb), &len),
              0);
    CHECK_INT(len, 32);
    /* XMPP over it: the server answers with its stream header and features. */
    CHECK_INT(tls_send(&c, stream_header), 0);
    CHECK_INT(tls_read_until(&c, "</stream:features>"), 0);
    CHECK(strstr(c.rx, "<stream:stream") != NULL);
    CHECK(strstr(c.rx, "SCRAM-SHA-1") != NULL);
    CHECK(strstr(c.rx, "<starttls") == NULL); /* already encrypted */
    CHECK_INT(tls_send(&c, "</stream:stream>"), 0);
    CHECK_INT(tls_read_until(&c, "</stream:stream>"), 0);
    conn_close(&c);
    return 0;
}

static int test_refusals(void)
{
    conn c;
    /* Prosody itself refuses an SNI name it does not host (alert
     * unrecognized_name) before any certificate is sent. */
    canto__tls_config cfg = client_cfg("wrong.example", prosody_ca());
    CHECK_INT(open_tls(&c, (int)prosody_env_port("CANTO_PROSODY_DIRECT_TLS_PORT"), &cfg),
              CANTO_ETLS);
    CHECK(strstr(canto__tls_error_text(c.tls), "alert") != NULL);
    conn_close(&c);
    /* A trusted certificate for another name, for our domain. */
    cfg = client_cfg("localhost", prosody_ca());
    CHECK_INT(open_tls(&c, (int)prosody_env_port("CANTO_PROSODY_WRONG_TLS_PORT"), &cfg),
              CANTO_ECERT);
    CHECK(strstr(canto__tls_error_text(c.tls), "does not name localhost") != NULL);
    conn_close(&c);
    /* Trusting another CA only. */
    cfg = client_cfg("localhost", untrusted_ca);
    CHECK_INT(open_tls(&c, (int)prosody_env_port("CANTO_PROSODY_DIRECT_TLS_PORT"), &cfg),
              CANTO_ECERT);
    CHECK(strstr(canto__tls_error_text(c.tls), "NOT trusted") != NULL);
    conn_close(&c);
    return 0;
}

/* The pin certtool printed for the server key is the one we compute. */
static int test_pin(void)
{
    const char *b64 = prosody_env("CANTO_PROSODY_PIN");
    REQUIRE(b64 != NULL);
    gnutls_datum_t in = {(unsigned char *)b64, (unsigned)strlen(b64)}, raw = {NULL, 0};
    REQUIRE(gnutls_base64_decode2(&in, &raw) == 0);
    REQUIRE(raw.size == CANTO_SHA256_LEN);
    canto_spki_pin pin;
    memcpy(pin.sha256, raw.data, CANTO_SHA256_LEN);
    gnutls_free(raw.data);
    canto__tls_config cfg = client_cfg("localhost", NULL); /* no CA at all */
    cfg.pins = &pin;
    cfg.n_pins = 1;
    conn c;
    CHECK_INT(open_tls(&c, (int)prosody_env_port("CANTO_PROSODY_DIRECT_TLS_PORT"), &cfg), 0);
    conn_close(&c);
    pin.sha256[0] ^= 1;
    CHECK_INT(open_tls(&c, (int)prosody_env_port("CANTO_PROSODY_DIRECT_TLS_PORT"), &cfg),
              CANTO_ECERT);
    conn_close(&c);
    return 0;
}

/* STARTTLS: plaintext negotiation, then TLS on the same socket. */
static int test_starttls(void)
{
    conn c;
    memset(&c, 0, sizeof(c));
    c.fd = tcp_connect((int)prosody_env_port("CANTO_PROSODY_STARTTLS_PORT"));
    REQUIRE(c.fd >= 0);
    CHECK_INT(send_all(c.fd, stream_header, strlen(stream_header)), 0);
    CHECK_INT(plain_read_until(&c, "</stream:features>"), 0);
    CHECK(strstr(c.rx, "<starttls") != NULL && strstr(c.rx, "<required/>") != NULL);
    static const char starttls[] = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    CHECK_INT(send_all(c.fd, starttls, strlen(starttls)), 0);
    CHECK_INT(plain_read_until(&c, "<proceed"), 0);
    c.rxlen = 0;
    c.rx[0] = '\0';
    /* TLS 1.2 here, to see what Prosody does with it: EMS, and SCRAM-*-PLUS
     * (which Prosody 0.12 offers only with tls-unique, i.e. TLS 1.2). */
    canto__tls_config cfg = client_cfg("localhost", prosody_ca());
    cfg.priority_override = "NORMAL:-VERS-ALL:+VERS-TLS1.2";
    CHECK_INT(tls_start(&c, &cfg), 0);
    REQUIRE(canto__tls_handshake_done(c.tls));
    CHECK_INT(canto__tls_version(c.tls), 12);
    CHECK_INT(canto__tls_ems(c.tls), 1);
    unsigned char cb[CANTO__TLS_CB_MAX];
    size_t len = 0;
    CHECK_INT(canto__tls_channel_binding(c.tls, CANTO__TLS_CB_TLS_UNIQUE, cb, sizeof(cb), &len), 0);
    CHECK_INT(len, 12);
    CHECK_INT(tls_send(&c, stream_header), 0);
    CHECK_INT(tls_read_until(&c, "</stream:features>"), 0);
    CHECK(strstr(c.rx, "SCRAM-SHA-1-PLUS") != NULL);
    CHECK(strstr(c.rx, "PLAIN") != NULL); /* allowed once encrypted */
    conn_close(&c);
    return 0;
}

/* The second instance offers no STARTTLS (for the "refuse" tests). */
static int test_plain_server(void)
{
    conn c;
    memset(&c, 0, sizeof(c));
    c.fd = tcp_connect((int)prosody_env_port("CANTO_PROSODY_PLAIN_PORT"));
    REQUIRE(c.fd >= 0);
    CHECK_INT(send_all(c.fd, stream_header, strlen(stream_header)), 0);
    CHECK_INT(plain_read_until(&c, "</stream:features>"), 0);
    CHECK(strstr(c.rx, "<starttls") == NULL);
    close(c.fd);
    return 0;
}

int main(void)
{
    REQUIRE(canto__alloc_init(&A, NULL) == 0);
    int rc = prosody_start("tls");
    if (rc != 0)
        return rc;
    const char *v = prosody_env("CANTO_PROSODY_UNTRUSTED_CA");
    snprintf(untrusted_ca, sizeof(untrusted_ca), "%s", v ? v : "");
    if (!untrusted_ca[0]) {
        fprintf(stderr, "no untrusted CA in %s/env\n", prosody_dir());
        prosody_stop(1);
        return 1;
    }
    RUN(test_direct_tls);
    RUN(test_refusals);
    RUN(test_pin);
    RUN(test_starttls);
    RUN(test_plain_server);
    CHECK_INT(prosody_stop(check_failures != 0), 0); /* a failed run keeps its logs */
    return CHECK_DONE();
}
