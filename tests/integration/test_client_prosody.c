/* canto_client end to end against a real server: Prosody 0.12, started in a
 * temporary directory by tests/servers/prosody.sh (plus prosody-tls12.sh for
 * a TLS 1.2 only instance), and dnsmasq (tests/servers/dnsmasq.sh) for SRV
 * records. Only the public API and the built-in loop are used, on one thread.
 *
 * Covers: every SASL mechanism Prosody offers (allow-list of one), wrong
 * password, certificate for another name, untrusted CA, no STARTTLS offered,
 * refused connection, Direct TLS, two clients exchanging messages, 100
 * clients on one loop exchanging messages, SRV lookups through dnsmasq
 * (which port was used), the bound JID with and without a requested resource.
 *
 * Exit 77 (skip) only when prosody is not installed. Set CANTO_TEST_VERBOSE=1
 * to see every client's log on stderr. */
#include "../unit/check.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <canto/canto.h>

#include "prosody_fixture.h"

#ifndef CANTO_SERVERS_DIR
#error "CANTO_SERVERS_DIR must name tests/servers"
#endif

/* Library bug found by this test (see test_tls12): over TLS 1.2 Canto binds
 * SCRAM-*-PLUS with tls-exporter (EMS negotiated) although the server did not
 * announce it (XEP-0440); Prosody 0.12 only knows tls-unique and answers
 * <malformed-request/>. While this is 1, those logins are expected to fail
 * and are reported as XFAIL; set it to 0 once the library is fixed. */
#define KNOWN_BUG_TLS12_PLUS 0

/* Deadlines only matter when something hangs; valgrind makes everything
 * slow, so they are generous. */
#define WAIT_MS 60000u
#define WAIT_MANY_MS 600000u

#define N_MANY 100

extern char **environ;

static int verbose;
static canto_loop *loop;

/* ------------------------------------------------------------------------ */
/* Scripts and the servers' environment */

static char untrusted_ca[192];
static unsigned starttls_port, direct_port, plain_port, wrong_port, tls12_port;
static int extra_users;

/* A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
static unsigned dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    unsigned port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* ------------------------------------------------------------------------ */
/* Sessions: one client and what its callbacks saw */

typedef struct session {
    canto_client *client;
    char label[40];
    int index;
    /* state callback */
    int connected, disconnecting, disconnected;
    int error;
    int has_sasl;
    char sasl[64];
    char detail[256];
    char bound[160];
    /* log: "connected to HOST port N" */
    char conn_host[64];
    unsigned conn_port;
    int conn_direct;
    /* XML trace, when capture is set */
    int capture;
    char *trace;
    size_t trace_len, trace_cap;
    /* sent from the state callback on CONNECTED, when set */
    char send_on_connect_to[160];
    /* messages */
    int received;
    char from[160];
    char body[160];
} session;

static void on_log(void *ud, canto_log_level level, const char *area, const char *msg)
{
    session *s = ud;
    if (verbose)
        fprintf(stderr, "  [%s] %s %s: %s\n", s->label, canto_log_level_name(level), area, msg);
    if (strcmp(area, "client") == 0 && strncmp(msg, "connected to ", 13) == 0) {
        char host[64];
        unsigned port;
        if (sscanf(msg + 13, "%63s port %u", host, &port) == 2) {
            snprintf(s->conn_host, sizeof(s->conn_host), "%s", host);
            s->conn_port = port;
            s->conn_direct = strstr(msg, "(Direct TLS)") != NULL;
        }
    }
}

static void on_trace(void *ud, int outgoing, const char *xml, size_t len)
{
    session *s = ud;
    (void)outgoing;
    if (!s->capture)
        return;
    if (s->trace_len + len + 1 > s->trace_cap) {
        size_t cap = (s->trace_len + len + 1) * 2;
        char *t = realloc(s->trace, cap);
        if (!t)
            return;
        s->trace = t;
        s->trace_cap = cap;
    }
    memcpy(s->trace + s->trace_len, xml, len);
    s->trace_len += len;
    s->trace[s->trace_len] = '\0';
}

static int send_chat_from(canto_client *c, const char *to, const char *body)
{
    canto_stanza *msg = NULL;
    int rc = canto_stanza_new_message(NULL, "chat", to, NULL, body, &msg);
    if (rc == 0)
        rc = canto_client_send(c, msg);
    canto_stanza_free(msg);
    return rc;
}

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    session *s = ud;
    if (st == CANTO_CLIENT_CONNECTED) {
        s->connected = 1;
        snprintf(s->bound, sizeof(s->bound), "%s", canto_jid_str(canto_client_jid(c)));
        if (s->send_on_connect_to[0])
            CHECK_INT(send_chat_from(c, s->send_on_connect_to, "sent on connect"), 0);
    } else if (st == CANTO_CLIENT_DISCONNECTING) {
        s->disconnecting = 1;
    } else if (st == CANTO_CLIENT_DISCONNECTED) {
        s->disconnected = 1;
        if (info) {
            s->error = info->error;
            s->has_sasl = info->sasl_condition != NULL;
            snprintf(s->sasl, sizeof(s->sasl), "%s",
                     info->sasl_condition ? info->sasl_condition : "");
            snprintf(s->detail, sizeof(s->detail), "%s", info->detail ? info->detail : "");
        }
        if (verbose)
            fprintf(stderr, "  [%s] disconnected: %s (%s)\n", s->label, canto_strerror(s->error),
                    s->detail);
    }
}

static int on_message(void *ud, canto_client *c, canto_stanza *st)
{
    session *s = ud;
    (void)c;
    const char *from = canto_stanza_attr(st, "from");
    const char *body = canto_stanza_child_text(st, "body", NULL);
    if (!body)
        return 0;
    s->received++;
    snprintf(s->from, sizeof(s->from), "%s", from ? from : "");
    snprintf(s->body, sizeof(s->body), "%s", body);
    return 1;
}

/* Options every test starts from: STARTTLS to the main instance, trusting
 * only the test CA. */
static canto_client_options opts_for(session *s, const char *password)
{
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    prosody_client_options(&o, password);
    o.log = on_log;
    o.log_user_data = s;
    o.log_level = verbose ? CANTO_LOG_DEBUG : CANTO_LOG_INFO;
    o.xml_trace = on_trace;
    o.xml_trace_user_data = s;
    return o;
}

static void session_reset(session *s, const char *label)
{
    free(s->trace);
    memset(s, 0, sizeof(*s));
    snprintf(s->label, sizeof(s->label), "%s", label);
}

/* Create the client and start connecting. @return 0 or a CANTO_E* code. */
static int session_start(session *s, const char *jid, const canto_client_options *o)
{
    int rc = canto_client_new(loop, jid, o, &s->client);
    if (rc == 0)
        rc = canto_client_set_state_callback(s->client, on_state, s);
    if (rc == 0) {
        canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
        m.name = "message";
        rc = canto_client_add_handler(s->client, &m, on_message, s, NULL);
    }
    if (rc == 0)
        rc = canto_client_connect(s->client);
    return rc;
}

static void session_free(session *s)
{
    canto_client_free(s->client);
    s->client = NULL;
    free(s->trace);
    s->trace = NULL;
    s->trace_len = s->trace_cap = 0;
}

static int settled(void *arg)
{
    const session *s = arg;
    return s->connected || s->disconnected;
}

/* Connect and wait for CONNECTED or DISCONNECTED. @return 1 if connected. */
static int connect_wait(session *s, const char *jid, const canto_client_options *o)
{
    int rc = session_start(s, jid, o);
    if (rc) {
        fprintf(stderr, "  %s: could not start: %s\n", s->label, canto_strerror(rc));
        return 0;
    }
    if (!prosody_run_until(loop, settled, s, WAIT_MS)) {
        fprintf(stderr, "  %s: neither connected nor disconnected in time\n", s->label);
        return 0;
    }
    return s->connected && !s->disconnected;
}

/* Close gracefully and check it ended without error. @return 0 if it did. */
static int disconnect_wait(session *s)
{
    if (canto_client_disconnect(s->client) != 0)
        return -1;
    if (!prosody_wait_for(loop, &s->disconnected, 1, WAIT_MS))
        return -1;
    if (s->error != 0 || !s->disconnecting ||
        canto_client_get_state(s->client) != CANTO_CLIENT_DISCONNECTED) {
        fprintf(stderr, "  %s: disconnect ended with %s (%s)\n", s->label, canto_strerror(s->error),
                s->detail);
        return -1;
    }
    return 0;
}

/* Connect with @p o and expect a failure with @p error. */
static int expect_failure(const char *label, const char *jid, const canto_client_options *o,
                          int error)
{
    session s;
    memset(&s, 0, sizeof(s));
    session_reset(&s, label);
    canto_client_options oo = *o;
    oo.log_user_data = &s;
    oo.xml_trace_user_data = &s;
    int connected = connect_wait(&s, jid, &oo);
    CHECK(!connected);
    CHECK(s.disconnected);
    CHECK_INT(s.error, error);
    if (s.error != error)
        fprintf(stderr, "  %s: got %s: %s\n", label, canto_strerror(s.error), s.detail);
    CHECK(s.detail[0] != '\0');
    CHECK(strlen(canto_client_last_error(s.client)) > 0);
    CHECK_INT(canto_client_get_state(s.client), CANTO_CLIENT_DISCONNECTED);
    fprintf(stderr, "  %s: %s: %s\n", label, canto_strerror(s.error), s.detail);
    session_free(&s);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* SASL */

/* Mechanism names from the <mechanism/> elements in a trace. */
static int offered(const char *trace, const char *mech)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "<mechanism>%s</mechanism>", mech);
    return trace && strstr(trace, needle) != NULL;
}

static void list_offered(const char *trace, char *out, size_t cap)
{
    out[0] = '\0';
    size_t used = 0;
    for (const char *p = trace; p && (p = strstr(p, "<mechanism>")) != NULL;) {
        p += strlen("<mechanism>");
        const char *end = strchr(p, '<');
        if (!end)
            break;
        int w = snprintf(out + used, cap - used, "%s%.*s", used ? " " : "", (int)(end - p), p);
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
        p = end;
    }
}

static const char *const all_mechs[] = {"SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN", "SCRAM-SHA-1-PLUS",
                                        "SCRAM-SHA-256-PLUS"};
#define N_ALL_MECHS (sizeof(all_mechs) / sizeof(all_mechs[0]))

/* Log in as alice on @p port allowing only @p mech. @return 1 if logged in;
 * @p detail receives why not. */
static int login_with(unsigned port, const char *mech, char *detail, size_t cap)
{
    session s;
    memset(&s, 0, sizeof(s));
    char label[40];
    snprintf(label, sizeof(label), "%s", mech);
    session_reset(&s, label);
    const char *allow[] = {mech, NULL};
    canto_client_options o = opts_for(&s, "alice-secret");
    o.port = port;
    o.sasl_mechanisms = allow;
    s.capture = 1;
    int ok = connect_wait(&s, "alice@localhost", &o);
    snprintf(detail, cap, "%s", s.detail);
    if (ok) {
        char auth[96];
        snprintf(auth, sizeof(auth), "mechanism='%s'", mech);
        CHECK(s.trace && strstr(s.trace, auth) != NULL);
        /* Authentication payloads never reach the trace. */
        CHECK(s.trace && strstr(s.trace, "[redacted]") != NULL);
        CHECK(s.trace && strstr(s.trace, "alice-secret") == NULL);
        CHECK(s.trace && strstr(s.trace, "AGFsaWNlAGFsaWNlLXNlY3JldA==") == NULL);
        CHECK_INT(disconnect_wait(&s), 0);
    } else {
        CHECK_INT(s.error, CANTO_EAUTH);
    }
    session_free(&s);
    return ok;
}

/* What a server offers after TLS, seen through the trace of a login. */
static int offered_list(unsigned port, char *trace_copy, size_t cap)
{
    session s;
    memset(&s, 0, sizeof(s));
    session_reset(&s, "features");
    canto_client_options o = opts_for(&s, "alice-secret");
    o.port = port;
    s.capture = 1;
    const char *allow[] = {"SCRAM-SHA-1", NULL}; /* known to work everywhere */
    o.sasl_mechanisms = allow;
    int ok = connect_wait(&s, "alice@localhost", &o);
    CHECK(ok);
    snprintf(trace_copy, cap, "%s", s.trace ? s.trace : "");
    if (ok)
        CHECK_INT(disconnect_wait(&s), 0);
    session_free(&s);
    return ok ? 0 : -1;
}

static int test_sasl_mechanisms(void)
{
    static char trace[65536];
    REQUIRE(offered_list(starttls_port, trace, sizeof(trace)) == 0);
    char list[256];
    list_offered(trace, list, sizeof(list));
    fprintf(stderr, "  main instance (TLS 1.3) offers: %s\n", list);
    /* Prosody 0.12 on TLS 1.3: no -PLUS (it only knows tls-unique). */
    CHECK(offered(trace, "SCRAM-SHA-1"));
    CHECK(offered(trace, "SCRAM-SHA-256"));
    CHECK(offered(trace, "PLAIN"));
    for (size_t i = 0; i < N_ALL_MECHS; i++) {
        char detail[256];
        int want = offered(trace, all_mechs[i]);
        int ok = login_with(starttls_port, all_mechs[i], detail, sizeof(detail));
        fprintf(stderr, "  %-18s %s -> %s%s%s\n", all_mechs[i], want ? "offered" : "not offered",
                ok ? "logged in" : "refused", ok ? "" : ": ", ok ? "" : detail);
        CHECK_INT(ok, want);
        if (!want)
            CHECK(strstr(detail, "no usable authentication mechanism") != NULL);
    }
    return 0;
}

/* TLS 1.2: Prosody offers SCRAM-*-PLUS with tls-unique. */
static int test_tls12(void)
{
    REQUIRE(tls12_port != 0);
    static char trace[65536];
    REQUIRE(offered_list(tls12_port, trace, sizeof(trace)) == 0);
    char list[256];
    list_offered(trace, list, sizeof(list));
    fprintf(stderr, "  TLS 1.2 instance offers: %s\n", list);
    CHECK(offered(trace, "SCRAM-SHA-1-PLUS"));
    CHECK(offered(trace, "SCRAM-SHA-256-PLUS"));
    for (size_t i = 0; i < N_ALL_MECHS; i++) {
        char detail[256];
        int plus = strstr(all_mechs[i], "-PLUS") != NULL;
        int ok = login_with(tls12_port, all_mechs[i], detail, sizeof(detail));
        if (plus && KNOWN_BUG_TLS12_PLUS) {
            fprintf(stderr, "  %-18s %s (known bug: tls-exporter over TLS 1.2)%s%s\n", all_mechs[i],
                    ok ? "XPASS: logged in" : "XFAIL: refused", ok ? "" : ": ", ok ? "" : detail);
            continue;
        }
        fprintf(stderr, "  %-18s %s%s%s\n", all_mechs[i], ok ? "logged in" : "refused",
                ok ? "" : ": ", ok ? "" : detail);
        CHECK(ok);
    }
    /* No allow-list: the strongest mechanism, SCRAM-SHA-256-PLUS. */
    session s;
    memset(&s, 0, sizeof(s));
    session_reset(&s, "tls12-default");
    canto_client_options o = opts_for(&s, "alice-secret");
    o.port = tls12_port;
    int ok = connect_wait(&s, "alice@localhost", &o);
    if (KNOWN_BUG_TLS12_PLUS)
        fprintf(stderr, "  default mechanisms: %s%s\n",
                ok ? "XPASS: logged in" : "XFAIL: ", ok ? "" : s.detail);
    else
        CHECK(ok);
    if (ok)
        CHECK_INT(disconnect_wait(&s), 0);
    session_free(&s);
    return 0;
}

static int test_wrong_password(void)
{
    session s;
    memset(&s, 0, sizeof(s));
    session_reset(&s, "wrong-password");
    canto_client_options o = opts_for(&s, "not-the-password");
    CHECK(!connect_wait(&s, "alice@localhost", &o));
    CHECK_INT(s.error, CANTO_EAUTH);
    CHECK(s.has_sasl);
    CHECK_STR(s.sasl, "not-authorized");
    CHECK(strstr(canto_client_last_error(s.client), "not-authorized") != NULL);
    fprintf(stderr, "  %s\n", s.detail);
    session_free(&s);
    /* The same through PLAIN, where the server checks the password itself. */
    session_reset(&s, "wrong-password-plain");
    o = opts_for(&s, "not-the-password");
    const char *allow[] = {"PLAIN", NULL};
    o.sasl_mechanisms = allow;
    CHECK(!connect_wait(&s, "alice@localhost", &o));
    CHECK_INT(s.error, CANTO_EAUTH);
    CHECK_STR(s.sasl, "not-authorized");
    session_free(&s);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* TLS */

static int test_tls_failures(void)
{
    session dummy;
    memset(&dummy, 0, sizeof(dummy));
    /* A certificate for wrong.example, signed by the trusted CA. */
    canto_client_options o = opts_for(&dummy, "alice-secret");
    o.port = wrong_port;
    o.tls = CANTO_TLS_DIRECT;
    expect_failure("wrong-name", "alice@localhost", &o, CANTO_ECERT);
    /* Only another CA trusted: STARTTLS and Direct TLS. */
    o = opts_for(&dummy, "alice-secret");
    o.ca_file = untrusted_ca;
    expect_failure("untrusted-ca", "alice@localhost", &o, CANTO_ECERT);
    o.port = direct_port;
    o.tls = CANTO_TLS_DIRECT;
    expect_failure("untrusted-ca-direct", "alice@localhost", &o, CANTO_ECERT);
    /* A server that offers no STARTTLS. */
    o = opts_for(&dummy, "alice-secret");
    o.port = plain_port;
    expect_failure("no-starttls", "alice@localhost", &o, CANTO_ETLS);
    /* Nothing listening. */
    o = opts_for(&dummy, "alice-secret");
    o.port = dead_port();
    expect_failure("refused", "alice@localhost", &o, CANTO_ECONNECT);
    return 0;
}

static int test_direct_tls(void)
{
    session s;
    memset(&s, 0, sizeof(s));
    session_reset(&s, "direct-tls");
    canto_client_options o = opts_for(&s, "bob-secret");
    o.port = direct_port;
    o.tls = CANTO_TLS_DIRECT;
    REQUIRE(connect_wait(&s, "bob@localhost", &o));
    CHECK_INT(s.conn_port, direct_port);
    CHECK(s.conn_direct);
    CHECK_INT(disconnect_wait(&s), 0);
    session_free(&s);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* JIDs */

static int test_bound_jid(void)
{
    session s;
    memset(&s, 0, sizeof(s));
    session_reset(&s, "resource");
    canto_client_options o = opts_for(&s, "carol-secret");
    REQUIRE(session_start(&s, "carol@localhost/desk", &o) == 0);
    CHECK_STR(canto_jid_str(canto_client_jid(s.client)), "carol@localhost/desk");
    REQUIRE(prosody_run_until(loop, settled, &s, WAIT_MS) && s.connected);
    CHECK_STR(s.bound, "carol@localhost/desk");
    CHECK_STR(canto_jid_str(canto_client_jid(s.client)), "carol@localhost/desk");
    CHECK_STR(canto_jid_resource(canto_client_jid(s.client)), "desk");
    CHECK_INT(disconnect_wait(&s), 0);
    session_free(&s);

    /* A bare JID: the server picks the resource. */
    session_reset(&s, "bare");
    o = opts_for(&s, "carol-secret");
    REQUIRE(session_start(&s, "carol@localhost", &o) == 0);
    CHECK_STR(canto_jid_str(canto_client_jid(s.client)), "carol@localhost");
    REQUIRE(prosody_run_until(loop, settled, &s, WAIT_MS) && s.connected);
    const canto_jid *j = canto_client_jid(s.client);
    CHECK_STR(canto_jid_bare_str(j), "carol@localhost");
    CHECK(canto_jid_resource(j) && canto_jid_resource(j)[0]);
    CHECK_STR(canto_jid_str(j), s.bound);
    CHECK(strncmp(s.bound, "carol@localhost/", 16) == 0 && strlen(s.bound) > 16);
    CHECK_INT(disconnect_wait(&s), 0);
    session_free(&s);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Messages */

static int send_chat(session *from, const char *to, const char *body)
{
    return send_chat_from(from->client, to, body);
}

static int both_connected(void *arg)
{
    session *s = arg;
    return (s[0].connected || s[0].disconnected) && (s[1].connected || s[1].disconnected);
}

static int got_message(void *arg)
{
    return ((session *)arg)->received > 0;
}

static int carol_only(void *ud, canto_client *c, canto_stanza *st)
{
    int *hits = ud;
    (void)c;
    (void)st;
    (*hits)++;
    return 1;
}

static int test_two_clients(void)
{
    session s[2];
    memset(s, 0, sizeof(s));
    session_reset(&s[0], "alice");
    session_reset(&s[1], "bob");
    canto_client_options oa = opts_for(&s[0], "alice-secret");
    canto_client_options ob = opts_for(&s[1], "bob-secret");
    REQUIRE(session_start(&s[0], "alice@localhost", &oa) == 0);
    REQUIRE(session_start(&s[1], "bob@localhost/phone", &ob) == 0);
    /* A handler for carol's messages only, ahead of the catch-all one. */
    int carol_hits = 0;
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "message";
    m.from = "carol@localhost";
    m.priority = 10;
    REQUIRE(canto_client_add_handler(s[1].client, &m, carol_only, &carol_hits, NULL) == 0);
    REQUIRE(prosody_run_until(loop, both_connected, s, WAIT_MS));
    REQUIRE(s[0].connected && s[1].connected);

    CHECK_INT(send_chat(&s[0], "bob@localhost/phone", "Hello Bob <&> \xc3\xa9"), 0);
    REQUIRE(prosody_run_until(loop, got_message, &s[1], WAIT_MS));
    CHECK_INT(s[1].received, 1);
    CHECK_STR(s[1].from, s[0].bound);
    CHECK_STR(s[1].body, "Hello Bob <&> \xc3\xa9");
    CHECK_INT(carol_hits, 0);

    CHECK_INT(send_chat(&s[1], s[1].from, "Hi Alice"), 0);
    REQUIRE(prosody_run_until(loop, got_message, &s[0], WAIT_MS));
    CHECK_STR(s[0].from, "bob@localhost/phone");
    CHECK_STR(s[0].body, "Hi Alice");

    CHECK_INT(disconnect_wait(&s[0]), 0);
    CHECK_INT(disconnect_wait(&s[1]), 0);
    /* Sending while disconnected is refused. */
    CHECK_INT(send_chat(&s[0], "bob@localhost", "late"), CANTO_ENOTCONN);
    session_free(&s[0]);
    session_free(&s[1]);
    return 0;
}

static int got_marker(void *arg)
{
    return strcmp(((session *)arg)->body, "marker") == 0;
}

/* What an application typically does: send from the state callback as soon
 * as it is connected. The peer must get it once (with XEP-0198 on, such a
 * message was once taken for a leftover of a lost session and sent again). */
static int test_send_on_connect(void)
{
    session s[2];
    memset(s, 0, sizeof(s));
    session_reset(&s[0], "bob");
    session_reset(&s[1], "alice");
    canto_client_options ob = opts_for(&s[0], "bob-secret");
    canto_client_options oa = opts_for(&s[1], "alice-secret");
    REQUIRE(connect_wait(&s[0], "bob@localhost/desk", &ob));
    snprintf(s[1].send_on_connect_to, sizeof(s[1].send_on_connect_to), "%s", s[0].bound);
    REQUIRE(connect_wait(&s[1], "alice@localhost", &oa));
    /* The server keeps the order of one sender's stanzas: once the marker
     * is in, every copy of the first message is too. */
    CHECK_INT(send_chat(&s[1], s[0].bound, "marker"), 0);
    REQUIRE(prosody_run_until(loop, got_marker, &s[0], WAIT_MS));
    CHECK_INT(s[0].received - 1, 1);
    CHECK_INT(disconnect_wait(&s[1]), 0);
    CHECK_INT(disconnect_wait(&s[0]), 0);
    session_free(&s[0]);
    session_free(&s[1]);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Many clients on one loop */

typedef struct many {
    session s[N_MANY];
    char jid[N_MANY][64];
    char password[N_MANY][64];
} many;

static int all_settled(void *arg)
{
    many *m = arg;
    for (int i = 0; i < N_MANY; i++)
        if (!m->s[i].connected && !m->s[i].disconnected)
            return 0;
    return 1;
}

static int all_received(void *arg)
{
    many *m = arg;
    int total = 0;
    for (int i = 0; i < N_MANY; i++)
        total += m->s[i].received;
    return total >= N_MANY;
}

static int all_disconnected(void *arg)
{
    many *m = arg;
    for (int i = 0; i < N_MANY; i++)
        if (!m->s[i].disconnected)
            return 0;
    return 1;
}

static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    int n = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

static int test_many_clients(void)
{
    many *m = calloc(1, sizeof(*m));
    REQUIRE(m != NULL);
    static const char *const users[] = {"alice", "bob", "carol"};
    for (int i = 0; i < N_MANY; i++) {
        /* One account each when prosody.sh made extra accounts, else 100
         * resources of the three standing accounts. */
        if (extra_users >= N_MANY) {
            snprintf(m->jid[i], sizeof(m->jid[i]), "bench%d@localhost/load", i);
            snprintf(m->password[i], sizeof(m->password[i]), "bench%d-secret", i);
        } else {
            snprintf(m->jid[i], sizeof(m->jid[i]), "%s@localhost/load%02d", users[i % 3], i);
            snprintf(m->password[i], sizeof(m->password[i]), "%s-secret", users[i % 3]);
        }
        char label[24];
        snprintf(label, sizeof(label), "many%02d", i);
        session_reset(&m->s[i], label);
        m->s[i].index = i;
        canto_client_options o = opts_for(&m->s[i], m->password[i]);
        o.connect_timeout_ms = WAIT_MANY_MS; /* 100 handshakes in a row under valgrind */
        o.xml_trace = NULL;
        CHECK_INT(session_start(&m->s[i], m->jid[i], &o), 0);
    }
    fprintf(stderr, "  %d clients (%s) connecting on one loop\n", N_MANY,
            extra_users >= N_MANY ? "one account each" : "resources of alice, bob, carol");
    CHECK(prosody_run_until(loop, all_settled, m, WAIT_MANY_MS));
    int connected = 0;
    for (int i = 0; i < N_MANY; i++) {
        connected += m->s[i].connected && !m->s[i].disconnected;
        if (!m->s[i].connected)
            fprintf(stderr, "  %s did not connect: %s (%s)\n", m->s[i].label,
                    canto_strerror(m->s[i].error), m->s[i].detail);
    }
    CHECK_INT(connected, N_MANY);
    CHECK_INT(thread_count(), 1);

    /* All logged in at once: each sends one message to the next one. */
    for (int i = 0; i < N_MANY && connected == N_MANY; i++) {
        char body[64];
        snprintf(body, sizeof(body), "message %d from client %d", i, i);
        CHECK_INT(send_chat(&m->s[i], m->s[(i + 1) % N_MANY].bound, body), 0);
    }
    if (connected == N_MANY) {
        CHECK(prosody_run_until(loop, all_received, m, WAIT_MANY_MS));
        int right = 0;
        for (int i = 0; i < N_MANY; i++) {
            int from = (i + N_MANY - 1) % N_MANY;
            char body[64];
            snprintf(body, sizeof(body), "message %d from client %d", from, from);
            int ok = m->s[i].received == 1 && strcmp(m->s[i].body, body) == 0 &&
                     strcmp(m->s[i].from, m->s[from].bound) == 0;
            if (!ok)
                fprintf(stderr, "  %s: received %d, last \"%s\" from %s\n", m->s[i].label,
                        m->s[i].received, m->s[i].body, m->s[i].from);
            right += ok;
        }
        CHECK_INT(right, N_MANY);
    }

    for (int i = 0; i < N_MANY; i++)
        if (!m->s[i].disconnected)
            CHECK_INT(canto_client_disconnect(m->s[i].client), 0);
    CHECK(prosody_run_until(loop, all_disconnected, m, WAIT_MANY_MS));
    int clean = 0;
    for (int i = 0; i < N_MANY; i++) {
        clean += m->s[i].disconnected && m->s[i].disconnecting && m->s[i].error == 0 &&
                 canto_client_get_state(m->s[i].client) == CANTO_CLIENT_DISCONNECTED;
        session_free(&m->s[i]);
    }
    CHECK_INT(clean, N_MANY);
    fprintf(stderr, "  %d connected, %d closed cleanly\n", connected, clean);
    free(m);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* SRV through dnsmasq */

#define N_DNS 4
static char dns_dirs[N_DNS][96];
static int n_dns;

/* Start a dnsmasq of its own with the records; @return its port, 0 on failure. */
static unsigned dnsmasq_start(const char *name, int n, ...)
{
    if (n_dns == N_DNS)
        return 0;
    char *dns_dir = dns_dirs[n_dns++];
    snprintf(dns_dir, sizeof(dns_dirs[0]), "%s/dns-%s", prosody_dir(), name);
    char *argv[16] = {"bash", CANTO_SERVERS_DIR "/dnsmasq.sh", "start", dns_dir};
    static char records[8][160];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n && i < 8; i++) {
        snprintf(records[i], sizeof(records[i]), "%s", va_arg(ap, const char *));
        argv[4 + i] = records[i];
    }
    va_end(ap);
    argv[4 + (n < 8 ? n : 8)] = NULL;
    int rc = prosody_run_bash(argv);
    if (rc != 0) {
        fprintf(stderr, "  dnsmasq.sh start failed (%d)%s\n", rc,
                rc == 77 ? ": dnsmasq is not installed (apt-get install dnsmasq-base)" : "");
        return 0;
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/port", dns_dir);
    FILE *f = fopen(path, "r");
    unsigned port = 0;
    if (f) {
        if (fscanf(f, "%u", &port) != 1)
            port = 0;
        fclose(f);
    }
    return port;
}

/* Stop every dnsmasq started, all at once: each takes a second to exit. */
static void dnsmasq_stop_all(void)
{
    pid_t pids[N_DNS];
    for (int i = 0; i < n_dns; i++) {
        char *argv[] = {"bash", CANTO_SERVERS_DIR "/dnsmasq.sh", "stop", dns_dirs[i], NULL};
        if (posix_spawnp(&pids[i], "bash", NULL, NULL, argv, environ) != 0)
            pids[i] = -1;
    }
    for (int i = 0; i < n_dns; i++)
        if (pids[i] > 0)
            while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
                ;
    n_dns = 0;
}

/* Connect as alice through SRV (no host) with dnsmasq on @p dns_port.
 * @return 1 if logged in; the session keeps the port that was used. */
static int srv_login(session *s, unsigned dns_port, const char *label)
{
    session_reset(s, label);
    char resolver[32];
    snprintf(resolver, sizeof(resolver), "127.0.0.1:%u", dns_port);
    canto_client_options o = opts_for(s, "alice-secret");
    o.host = NULL;
    o.port = 0;
    o.resolver = resolver;
    int ok = connect_wait(s, "alice@localhost", &o);
    if (ok)
        CHECK_INT(disconnect_wait(s), 0);
    if (ok)
        fprintf(stderr, "  %s: logged in through %s port %u%s\n", label, s->conn_host, s->conn_port,
                s->conn_direct ? " (Direct TLS)" : " (STARTTLS)");
    else
        fprintf(stderr, "  %s: %s: %s\n", label, canto_strerror(s->error), s->detail);
    return ok;
}

static int test_srv(void)
{
    char owner[32];
    snprintf(owner, sizeof(owner), "%ld", (long)getpid());
    setenv("CANTO_TEST_OWNER_PID", owner, 1);
    char xmpp[128], xmpps[128], dead[128];
    const char *host = "--host-record=xmpp.test,127.0.0.1";
    session s;
    memset(&s, 0, sizeof(s));

    /* Both services; _xmpps-client has the better priority: Direct TLS. The
     * target also has ::1, where nothing listens: 127.0.0.1 is tried next. */
    snprintf(xmpp, sizeof(xmpp), "--srv-host=_xmpp-client._tcp.localhost,xmpp.test,%u,10,0",
             starttls_port);
    snprintf(xmpps, sizeof(xmpps), "--srv-host=_xmpps-client._tcp.localhost,xmpp.test,%u,5,0",
             direct_port);
    unsigned port = dnsmasq_start("both", 3, xmpp, xmpps, "--host-record=xmpp.test,127.0.0.1,::1");
    REQUIRE(port != 0);
    CHECK(srv_login(&s, port, "srv-both"));
    CHECK_STR(s.conn_host, "xmpp.test");
    CHECK_INT(s.conn_port, direct_port);
    CHECK(s.conn_direct);
    session_free(&s);

    /* Only _xmpp-client: STARTTLS. */
    port = dnsmasq_start("starttls", 2, xmpp, host);
    REQUIRE(port != 0);
    CHECK(srv_login(&s, port, "srv-starttls"));
    CHECK_INT(s.conn_port, starttls_port);
    CHECK(!s.conn_direct);
    session_free(&s);

    /* The preferred Direct TLS target refuses: on to the STARTTLS one. */
    snprintf(dead, sizeof(dead), "--srv-host=_xmpps-client._tcp.localhost,xmpp.test,%u,0,0",
             dead_port());
    port = dnsmasq_start("fallback", 3, xmpp, dead, host);
    REQUIRE(port != 0);
    CHECK(srv_login(&s, port, "srv-fallback"));
    CHECK_INT(s.conn_port, starttls_port);
    CHECK(!s.conn_direct);
    session_free(&s);

    /* "." as the only _xmpp-client target: no service, and no fallback to
     * localhost:5222 either. */
    port = dnsmasq_start("none", 1, "--srv-host=_xmpp-client._tcp.localhost");
    REQUIRE(port != 0);
    CHECK(!srv_login(&s, port, "srv-no-service"));
    CHECK(s.error == CANTO_EDNS || s.error == CANTO_ECONNECT);
    CHECK_INT(s.conn_port, 0);
    session_free(&s);
    return 0;
}

/* ------------------------------------------------------------------------ */

static int start_servers(void)
{
    /* Accounts for the 100-client test, where prosody.sh supports them. */
    char n[16];
    snprintf(n, sizeof(n), "%d", N_MANY);
    setenv("CANTO_PROSODY_EXTRA_USERS", n, 1);
    int rc = prosody_start("client");
    unsetenv("CANTO_PROSODY_EXTRA_USERS");
    if (rc != 0)
        return rc;
    rc = prosody_script("prosody-tls12.sh", "start");
    if (rc != 0) {
        fprintf(stderr, "starting the TLS 1.2 server failed (%d); see %s\n", rc, prosody_dir());
        return 1;
    }
    const char *v = prosody_env("CANTO_PROSODY_UNTRUSTED_CA");
    snprintf(untrusted_ca, sizeof(untrusted_ca), "%s", v ? v : "");
    starttls_port = prosody_env_port("CANTO_PROSODY_STARTTLS_PORT");
    direct_port = prosody_env_port("CANTO_PROSODY_DIRECT_TLS_PORT");
    plain_port = prosody_env_port("CANTO_PROSODY_PLAIN_PORT");
    wrong_port = prosody_env_port("CANTO_PROSODY_WRONG_TLS_PORT");
    tls12_port = prosody_env_port("CANTO_PROSODY_TLS12_PORT");
    extra_users = (int)prosody_env_port("CANTO_PROSODY_EXTRA_USERS");
    if (!untrusted_ca[0] || !direct_port || !plain_port || !wrong_port) {
        fprintf(stderr, "incomplete %s/env\n", prosody_dir());
        return 1;
    }
    return 0;
}

static void stop_servers(int keep)
{
    prosody_script("prosody-tls12.sh", "stop");
    prosody_stop(keep);
}

/* RUN, with the time each test took. */
#define TIMED_RUN(test_fn)                                                                         \
    do {                                                                                           \
        uint64_t t0_ = canto_loop_now(loop);                                                       \
        RUN(test_fn);                                                                              \
        fprintf(stderr, "     (%.1f s)\n", (double)(canto_loop_now(loop) - t0_) / 1000.0);         \
    } while (0)

int main(void)
{
    const char *v = getenv("CANTO_TEST_VERBOSE");
    verbose = v && *v && strcmp(v, "0") != 0;
    int rc = start_servers();
    if (rc == 77)
        return 77;
    if (rc != 0) {
        stop_servers(1);
        return 1;
    }
    if (canto_loop_new(NULL, &loop) != 0) {
        stop_servers(0);
        return 1;
    }
    TIMED_RUN(test_sasl_mechanisms);
    TIMED_RUN(test_tls12);
    TIMED_RUN(test_wrong_password);
    TIMED_RUN(test_tls_failures);
    TIMED_RUN(test_direct_tls);
    TIMED_RUN(test_bound_jid);
    TIMED_RUN(test_two_clients);
    TIMED_RUN(test_send_on_connect);
    TIMED_RUN(test_many_clients);
    TIMED_RUN(test_srv);
    dnsmasq_stop_all();
    canto_loop_free(loop);
    int result = CHECK_DONE();
    stop_servers(result != 0);
    return result;
}
