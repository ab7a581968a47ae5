/* The XEP plugins (ping, software version, time, delay, receipts, chat
 * states, carbons, blocking, registration): their stanza helpers on canned
 * stanzas, and their behaviour on a connected client against the scripted
 * server in fake_server.c. Each plugin's tests are compiled only when the
 * plugin is built (CANTO_TEST_<PLUGIN>, set by meson). */
#include "check.h"
#include "fake_server.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <canto/canto.h>
#ifdef CANTO_TEST_PING
#include <canto/ping.h>
#endif
#ifdef CANTO_TEST_VERSION
#include <canto/software_version.h>
#endif
#ifdef CANTO_TEST_TIME
#include <canto/time.h>
#endif
#ifdef CANTO_TEST_DELAY
#include <canto/delay.h>
#endif
#ifdef CANTO_TEST_RECEIPTS
#include <canto/receipts.h>
#endif
#ifdef CANTO_TEST_CHATSTATES
#include <canto/chatstates.h>
#endif
#ifdef CANTO_TEST_CARBONS
#include <canto/carbons.h>
#endif
#ifdef CANTO_TEST_BLOCKING
#include <canto/blocking.h>
#endif
#ifdef CANTO_TEST_REGISTER
#include <canto/register.h>
#endif

#define ME "tester@localhost/fake"
#define ME_BARE "tester@localhost"
#define PEER "peer@localhost/phone"
#define WAIT 3000

/* ------------------------------------------------------------------------ */
/* Shared helpers                                                             */

/* Any subset of the plugins may be built, and a static helper that no
 * compiled-in test calls fails -Werror: each helper below is compiled only
 * for the plugins whose tests call it; a helper of one plugin's tests lives
 * in that plugin's section. */
#if defined(CANTO_TEST_VERSION) || defined(CANTO_TEST_TIME) || defined(CANTO_TEST_DELAY) ||        \
    defined(CANTO_TEST_RECEIPTS) || defined(CANTO_TEST_CHATSTATES) ||                              \
    defined(CANTO_TEST_CARBONS) || defined(CANTO_TEST_REGISTER)
static canto_stanza *parse(const char *xml)
{
    canto_stanza *st = NULL;
    if (canto_stanza_parse(NULL, xml, (size_t)-1, &st) != 0)
        return NULL;
    return st;
}
#endif

/* Delay's tests are the only ones without a client. */
#if defined(CANTO_TEST_PING) || defined(CANTO_TEST_VERSION) || defined(CANTO_TEST_TIME) ||         \
    defined(CANTO_TEST_RECEIPTS) || defined(CANTO_TEST_CHATSTATES) ||                              \
    defined(CANTO_TEST_CARBONS) || defined(CANTO_TEST_BLOCKING) || defined(CANTO_TEST_REGISTER)

typedef struct env {
    canto_loop *loop;
    fake_server *fs;
    canto_client *client;
} env;

/* A connected client. @p reconnect: CANTO_RECONNECT_MANUAL (the tests
 * reconnect it themselves) or CANTO_RECONNECT_AUTO (with a short backoff). */
static int env_open_mode(env *e, canto_reconnect_mode reconnect)
{
    memset(e, 0, sizeof(*e));
    if (canto_loop_new(NULL, &e->loop) != 0 || fake_server_new(ME, &e->fs) != 0)
        return -1;
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    fake_server_client_options(e->fs, &o);
    o.reconnect = reconnect;
    o.reconnect_min_ms = 20;
    if (canto_client_new(e->loop, "localhost", &o, &e->client) != 0)
        return -1;
    return fake_server_connect(e->fs, e->loop, e->client, WAIT);
}

#if defined(CANTO_TEST_PING) || defined(CANTO_TEST_VERSION) || defined(CANTO_TEST_TIME) ||         \
    defined(CANTO_TEST_RECEIPTS) || defined(CANTO_TEST_CHATSTATES) ||                              \
    defined(CANTO_TEST_BLOCKING) || defined(CANTO_TEST_REGISTER)
static int env_open(env *e)
{
    return env_open_mode(e, CANTO_RECONNECT_MANUAL);
}
#endif

static void env_close(env *e)
{
    canto_client_free(e->client);
    fake_server_free(e->fs);
    canto_loop_free(e->loop);
}

/* Waiting for a counter in a test's record to reach a value. */
typedef struct counter_wait {
    const int *counter;
    int want;
} counter_wait;

static int counter_reached(void *ud)
{
    const counter_wait *w = ud;
    return *w->counter >= w->want;
}

static int wait_count(env *e, const int *counter, int want, int timeout_ms)
{
    counter_wait w = {counter, want};
    return fake_server_wait(e->fs, e->loop, counter_reached, &w, timeout_ms);
}

#if defined(CANTO_TEST_PING) || defined(CANTO_TEST_VERSION) || defined(CANTO_TEST_TIME) ||         \
    defined(CANTO_TEST_RECEIPTS) || defined(CANTO_TEST_CHATSTATES) || defined(CANTO_TEST_CARBONS)
static int has_feature(const canto_client *c, const char *var)
{
    for (size_t i = 0; canto_client_feature(c, i); i++)
        if (strcmp(canto_client_feature(c, i), var) == 0)
            return 1;
    return 0;
}
#endif

#if defined(CANTO_TEST_RECEIPTS) || defined(CANTO_TEST_CHATSTATES) || defined(CANTO_TEST_CARBONS)
/* An application handler that counts the messages reaching it (priority 0,
 * after the plugins' own handlers). */
static int count_handler(void *ud, canto_client *client, canto_stanza *st)
{
    (void)client;
    (void)st;
    (*(int *)ud)++;
    return 1;
}

static unsigned add_counting_handler(canto_client *c, int *counter)
{
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "message";
    unsigned id = 0;
    canto_client_add_handler(c, &m, count_handler, counter, &id);
    return id;
}
#endif

#if defined(CANTO_TEST_PING) || defined(CANTO_TEST_VERSION) || defined(CANTO_TEST_TIME) ||         \
    defined(CANTO_TEST_CARBONS) || defined(CANTO_TEST_BLOCKING)
/* The element child of an iq the client sent, checked by name and namespace. */
static const canto_stanza *payload(const canto_stanza *iq, const char *name, const char *ns)
{
    return canto_stanza_child(iq, name, ns);
}
#endif

#endif /* a client */

#define ERROR_XML(cond)                                                                            \
    "<error type='cancel'><" cond " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"

/* ------------------------------------------------------------------------ */
#ifdef CANTO_TEST_PING

static int is_disconnected(void *ud)
{
    return canto_client_get_state(ud) == CANTO_CLIENT_DISCONNECTED;
}

typedef struct ping_rec {
    int n;
    canto_ping_result last;
    canto_error_condition cond;
    char jid[64];
    int free_in_cb;
    canto_ping **pp;
} ping_rec;

static void on_ping_result(void *ud, canto_ping *p, const canto_ping_result *r)
{
    ping_rec *rec = ud;
    rec->n++;
    rec->last = *r;
    rec->cond = r->error ? r->error->condition : CANTO_COND_UNKNOWN;
    snprintf(rec->jid, sizeof(rec->jid), "%s", r->jid ? r->jid : "(server)");
    rec->last.error = NULL;
    rec->last.jid = NULL;
    if (rec->free_in_cb) {
        canto_ping_free(p);
        *rec->pp = NULL;
    }
}

static int test_ping_answer(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    canto_ping *p;
    REQUIRE(canto_ping_new(e.client, e.loop, &p) == 0);
    CHECK(has_feature(e.client, CANTO_NS_PING));
    fake_server_send(e.fs, "<iq type='get' id='ping1' from='localhost'>"
                           "<ping xmlns='urn:xmpp:ping'/></iq>");
    canto_stanza *st = fake_server_next_named(e.fs, e.loop, "iq", "result", WAIT);
    REQUIRE(st);
    CHECK_STR(canto_stanza_attr(st, "id"), "ping1");
    CHECK_STR(canto_stanza_attr(st, "to"), "localhost");
    CHECK(canto_stanza_first_element(st) == NULL);
    canto_stanza_free(st);

    /* Freed: the feature goes, pings get the client's default error. */
    canto_ping_free(p);
    CHECK(!has_feature(e.client, CANTO_NS_PING));
    fake_server_send(e.fs, "<iq type='get' id='ping2' from='localhost'>"
                           "<ping xmlns='urn:xmpp:ping'/></iq>");
    st = fake_server_next_named(e.fs, e.loop, "iq", "error", WAIT);
    CHECK(st != NULL);
    CHECK_STR(canto_stanza_attr(st, "id"), "ping2");
    canto_stanza_free(st);
    env_close(&e);
    return 0;
}

static int test_ping_send(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    canto_ping *p;
    REQUIRE(canto_ping_new(e.client, e.loop, &p) == 0);
    ping_rec rec = {0};

    /* A peer answers. */
    unsigned req;
    CHECK_INT(canto_ping_send(p, "Peer@localhost/phone", 2000, on_ping_result, &rec, &req), 0);
    canto_stanza *st = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    REQUIRE(st);
    CHECK_STR(canto_stanza_attr(st, "to"), PEER);
    CHECK(payload(st, "ping", CANTO_NS_PING) != NULL);
    fake_server_send(e.fs, "<iq type='result' id='%s' from='" PEER "'/>",
                     canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.n, 1, WAIT));
    CHECK_INT(rec.last.outcome, CANTO_IQ_RESULT);
    CHECK_STR(rec.jid, PEER);
    CHECK_INT(rec.last.keepalive, 0);
    CHECK(rec.last.rtt_ms < WAIT);
    CHECK_INT(canto_ping_cancel(p, req), CANTO_ENOTFOUND);

    /* The server (NULL) answers with an error: reachable, but an error. */
    CHECK_INT(canto_ping_send(p, NULL, 2000, on_ping_result, &rec, NULL), 0);
    st = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    REQUIRE(st);
    CHECK_STR(canto_stanza_attr(st, "to"), "localhost");
    fake_server_send(
        e.fs, "<iq type='error' id='%s' from='localhost'>" ERROR_XML("service-unavailable") "</iq>",
        canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.n, 2, WAIT));
    CHECK_INT(rec.last.outcome, CANTO_IQ_ERROR);
    CHECK_INT(rec.cond, CANTO_COND_SERVICE_UNAVAILABLE);
    CHECK_STR(rec.jid, "(server)");

    /* Nobody answers. */
    CHECK_INT(canto_ping_send(p, PEER, 100, on_ping_result, &rec, NULL), 0);
    CHECK(wait_count(&e, &rec.n, 3, WAIT));
    CHECK_INT(rec.last.outcome, CANTO_IQ_TIMEOUT);
    CHECK_INT(rec.last.rtt_ms, 0);

    /* Cancelled: no callback, even when the answer comes. */
    CHECK_INT(canto_ping_send(p, PEER, 2000, on_ping_result, &rec, &req), 0);
    CHECK_INT(canto_ping_cancel(p, req), 0);
    CHECK_INT(canto_ping_cancel(p, req), CANTO_ENOTFOUND);
    fake_server_run(e.fs, e.loop, 50);
    CHECK_INT(rec.n, 3);

    /* Bad arguments. */
    CHECK_INT(canto_ping_send(p, "@bad", 0, on_ping_result, &rec, NULL), CANTO_EJID_LOCAL);
    CHECK_INT(canto_ping_send(p, PEER, 0, NULL, &rec, NULL), CANTO_EINVAL);
    CHECK_INT(canto_ping_send(NULL, PEER, 0, on_ping_result, &rec, NULL), CANTO_EINVAL);

    /* Freed with a ping pending: CANCELED first. */
    CHECK_INT(canto_ping_send(p, PEER, 2000, on_ping_result, &rec, NULL), 0);
    canto_ping_free(p);
    CHECK_INT(rec.n, 4);
    CHECK_INT(rec.last.outcome, CANTO_IQ_CANCELED);
    CHECK_INT(canto_client_pending_iqs(e.client), 0);
    env_close(&e);
    return 0;
}

/* Freeing the plugin from its own callback. */
static int test_ping_free_in_callback(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    canto_ping *p;
    REQUIRE(canto_ping_new(e.client, e.loop, &p) == 0);
    ping_rec rec = {0};
    rec.free_in_cb = 1;
    rec.pp = &p;
    CHECK_INT(canto_ping_send(p, PEER, 50, on_ping_result, &rec, NULL), 0);
    CHECK(wait_count(&e, &rec.n, 1, WAIT));
    CHECK(p == NULL);
    CHECK(!has_feature(e.client, CANTO_NS_PING));
    env_close(&e);
    return 0;
}

static int test_ping_keepalive(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    canto_ping *p;
    REQUIRE(canto_ping_new(e.client, e.loop, &p) == 0);
    ping_rec rec = {0};
    CHECK_INT(canto_ping_keepalive(p, 50, 150, on_ping_result, &rec), 0);

    /* First ping: answered. */
    canto_stanza *st = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    REQUIRE(st);
    CHECK_STR(canto_stanza_attr(st, "to"), "localhost");
    CHECK(payload(st, "ping", CANTO_NS_PING) != NULL);
    fake_server_send(e.fs, "<iq type='result' id='%s' from='localhost'/>",
                     canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.n, 1, WAIT));
    CHECK_INT(rec.last.outcome, CANTO_IQ_RESULT);
    CHECK_INT(rec.last.keepalive, 1);

    /* Second: not answered, reported as a timeout; pinging goes on. */
    st = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    REQUIRE(st);
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.n, 2, WAIT));
    CHECK_INT(rec.last.outcome, CANTO_IQ_TIMEOUT);
    CHECK_INT(rec.last.keepalive, 1);
    st = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    CHECK(st != NULL);
    canto_stanza_free(st);

    /* A disconnect cancels the ping in flight without a report, and no
     * pings go out while disconnected. */
    int before = rec.n;
    fake_server_drop(e.fs);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    fake_server_run(e.fs, e.loop, 200);
    CHECK_INT(rec.n, before);
    /* Reconnected: the keepalive resumes by itself. */
    REQUIRE(fake_server_connect(e.fs, e.loop, e.client, WAIT) == 0);
    st = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    CHECK(st && payload(st, "ping", CANTO_NS_PING));
    if (st)
        fake_server_send(e.fs, "<iq type='result' id='%s' from='localhost'/>",
                         canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.n, before + 1, WAIT));

    /* Stopped: nothing more. */
    CHECK_INT(canto_ping_keepalive(p, 0, 0, NULL, NULL), 0);
    fake_server_run(e.fs, e.loop, 200);
    fake_server_discard(e.fs);
    fake_server_run(e.fs, e.loop, 200);
    CHECK_INT(fake_server_pending(e.fs), 0);
    canto_ping_free(p);
    env_close(&e);
    return 0;
}

#endif /* CANTO_TEST_PING */

/* ------------------------------------------------------------------------ */
#ifdef CANTO_TEST_VERSION

typedef struct version_rec {
    int n;
    canto_iq_outcome outcome;
    int parse_error;
    char name[64], ver[64], os[64];
} version_rec;

static void copy_or_null(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "(null)");
}

static void on_version(void *ud, canto_software_version *sv, const canto_software_version_result *r)
{
    version_rec *rec = ud;
    (void)sv;
    rec->n++;
    rec->outcome = r->outcome;
    rec->parse_error = r->parse_error;
    copy_or_null(rec->name, sizeof(rec->name), r->info.name);
    copy_or_null(rec->ver, sizeof(rec->ver), r->info.ver);
    copy_or_null(rec->os, sizeof(rec->os), r->info.os);
}

/* Ask the client's plugin and return its answer's query. */
static canto_stanza *ask_version(env *e, const char *id)
{
    fake_server_send(e->fs,
                     "<iq type='get' id='%s' from='" PEER "'>"
                     "<query xmlns='jabber:iq:version'/></iq>",
                     id);
    return fake_server_next_named(e->fs, e->loop, "iq", "result", WAIT);
}

static int test_version_answer(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    canto_software_version *sv;
    REQUIRE(canto_software_version_new(e.client, &sv) == 0);
    CHECK(has_feature(e.client, CANTO_NS_SOFTWARE_VERSION));

    /* Defaults: Canto and the library's version, no OS. */
    canto_stanza *st = ask_version(&e, "v1");
    REQUIRE(st);
    CHECK_STR(canto_stanza_attr(st, "id"), "v1");
    CHECK_STR(canto_stanza_attr(st, "to"), PEER);
    canto_software_version_info info = CANTO_SOFTWARE_VERSION_INFO_INIT;
    CHECK_INT(canto_software_version_parse(st, &info), 0);
    CHECK_STR(info.name, "Canto");
    CHECK_STR(info.ver, canto_version());
    CHECK(info.os == NULL);
    CHECK(canto_stanza_find(st, "{jabber:iq:version}query/os") == NULL);
    canto_stanza_free(st);

    /* Configured, with an OS. */
    CHECK_INT(canto_software_version_set(sv, "TestApp", "1.2.3", "Linux"), 0);
    st = ask_version(&e, "v2");
    REQUIRE(st);
    CHECK_INT(canto_software_version_parse(st, &info), 0);
    CHECK_STR(info.name, "TestApp");
    CHECK_STR(info.ver, "1.2.3");
    CHECK_STR(info.os, "Linux");
    canto_stanza_free(st);

    /* Bad settings are refused and change nothing. */
    CHECK_INT(canto_software_version_set(sv, "", NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_software_version_set(sv, "X", "\xff", NULL), CANTO_EUTF8);
    st = ask_version(&e, "v3");
    REQUIRE(st);
    CHECK_INT(canto_software_version_parse(st, &info), 0);
    CHECK_STR(info.name, "TestApp");
    canto_stanza_free(st);

    /* make_reply refuses what is not a version get. */
    canto_stanza *req = parse("<iq type='set' id='x'><query xmlns='jabber:iq:version'/></iq>");
    canto_stanza *out = (canto_stanza *)1;
    CHECK_INT(canto_software_version_make_reply(sv, req, &out), CANTO_EINVAL);
    CHECK(out == NULL);
    canto_stanza_free(req);

    canto_software_version_free(sv);
    CHECK(!has_feature(e.client, CANTO_NS_SOFTWARE_VERSION));
    env_close(&e);
    return 0;
}

static int test_version_query(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    canto_software_version *sv;
    REQUIRE(canto_software_version_new(e.client, &sv) == 0);
    version_rec rec = {0};
    CHECK_INT(canto_software_version_query(sv, PEER, 2000, on_version, &rec, NULL), 0);
    canto_stanza *st = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    REQUIRE(st);
    CHECK_STR(canto_stanza_attr(st, "to"), PEER);
    CHECK(payload(st, "query", CANTO_NS_SOFTWARE_VERSION) != NULL);
    fake_server_send(e.fs,
                     "<iq type='result' id='%s' from='" PEER "'><query xmlns='jabber:iq:version'>"
                     "<name>Psi</name><version>1.5</version><os>Plan 9</os></query></iq>",
                     canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.n, 1, WAIT));
    CHECK_INT(rec.outcome, CANTO_IQ_RESULT);
    CHECK_INT(rec.parse_error, 0);
    CHECK_STR(rec.name, "Psi");
    CHECK_STR(rec.ver, "1.5");
    CHECK_STR(rec.os, "Plan 9");

    /* An answer without <version/> is reported as malformed. */
    CHECK_INT(canto_software_version_query(sv, PEER, 2000, on_version, &rec, NULL), 0);
    st = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    REQUIRE(st);
    fake_server_send(e.fs,
                     "<iq type='result' id='%s' from='" PEER "'><query xmlns='jabber:iq:version'>"
                     "<name>Psi</name></query></iq>",
                     canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.n, 2, WAIT));
    CHECK_INT(rec.outcome, CANTO_IQ_RESULT);
    CHECK_INT(rec.parse_error, CANTO_EPROTO);
    CHECK_STR(rec.name, "Psi");
    CHECK_STR(rec.ver, "(null)");

    /* Freed with a query pending: CANCELED. */
    CHECK_INT(canto_software_version_query(sv, PEER, 2000, on_version, &rec, NULL), 0);
    canto_software_version_free(sv);
    CHECK_INT(rec.n, 3);
    CHECK_INT(rec.outcome, CANTO_IQ_CANCELED);
    env_close(&e);
    return 0;
}

#endif /* CANTO_TEST_VERSION */

/* ------------------------------------------------------------------------ */
#ifdef CANTO_TEST_TIME

static int test_time_reply(void)
{
    canto_stanza *req =
        parse("<iq type='get' id='t1' from='" PEER "'><time xmlns='urn:xmpp:time'/></iq>");
    REQUIRE(req);
    canto_stanza *out;
    CHECK_INT(canto_time_make_reply(req, 1166551115999LL, -360, &out), 0);
    REQUIRE(out);
    CHECK_STR(canto_stanza_attr(out, "type"), "result");
    CHECK_STR(canto_stanza_attr(out, "id"), "t1");
    CHECK_STR(canto_stanza_attr(out, "to"), PEER);
    CHECK_STR(canto_stanza_child_text(canto_stanza_child(out, "time", CANTO_NS_TIME), "tzo", NULL),
              "-06:00");
    CHECK_STR(canto_stanza_child_text(canto_stanza_child(out, "time", CANTO_NS_TIME), "utc", NULL),
              "2006-12-19T17:58:35Z");
    canto_time_info info = CANTO_TIME_INFO_INIT;
    CHECK_INT(canto_time_parse(out, &info), 0);
    CHECK_INT(info.utc_ms, 1166551115000LL);
    CHECK_INT(info.tzo_minutes, -360);
    canto_stanza_free(out);

    /* Before 1970, a positive half-hour offset. */
    CHECK_INT(canto_time_make_reply(req, -1, 330, &out), 0);
    CHECK_STR(canto_stanza_find(out, "{urn:xmpp:time}time/utc")
                  ? canto_stanza_text(canto_stanza_find(out, "{urn:xmpp:time}time/utc"))
                  : NULL,
              "1969-12-31T23:59:59Z");
    CHECK_STR(canto_stanza_text(canto_stanza_find(out, "{urn:xmpp:time}time/tzo")), "+05:30");
    canto_stanza_free(out);

    CHECK_INT(canto_time_make_reply(req, 0, 24 * 60, &out), CANTO_EINVAL);
    canto_stanza_free(req);
    req = parse("<iq type='get' id='t1'><ping xmlns='urn:xmpp:ping'/></iq>");
    CHECK_INT(canto_time_make_reply(req, 0, 0, &out), CANTO_EINVAL);
    canto_stanza_free(req);
    return 0;
}

static int test_time_parse(void)
{
    canto_time_info info = CANTO_TIME_INFO_INIT;
    canto_stanza *st = parse("<iq type='result' id='a'><time xmlns='urn:xmpp:time'>"
                             "<tzo>Z</tzo><utc>2002-09-10T23:41:07.250Z</utc></time></iq>");
    CHECK_INT(canto_time_parse(st, &info), 0);
    CHECK_INT(info.utc_ms, 1031701267250LL);
    CHECK_INT(info.tzo_minutes, 0);
    CHECK_STR(info.utc, "2002-09-10T23:41:07.250Z");
    canto_stanza_free(st);

    st = parse("<iq type='result' id='a'><time xmlns='urn:xmpp:time'>"
               "<tzo>+25:00</tzo><utc>2002-09-10T23:41:07Z</utc></time></iq>");
    CHECK_INT(canto_time_parse(st, &info), CANTO_EPROTO);
    CHECK_STR(info.tzo, "+25:00");
    canto_stanza_free(st);
    st = parse("<iq type='result' id='a'><time xmlns='urn:xmpp:time'>"
               "<tzo>+01:00</tzo><utc>2002-13-10T23:41:07Z</utc></time></iq>");
    CHECK_INT(canto_time_parse(st, &info), CANTO_EPROTO);
    canto_stanza_free(st);
    st =
        parse("<iq type='result' id='a'><time xmlns='urn:xmpp:time'><tzo>+01:00</tzo></time></iq>");
    CHECK_INT(canto_time_parse(st, &info), CANTO_EPROTO);
    canto_stanza_free(st);
    st = parse("<iq type='result' id='a'/>");
    CHECK_INT(canto_time_parse(st, &info), CANTO_ENOTFOUND);
    canto_time_info bad = {99, 0, 0, NULL, NULL};
    CHECK_INT(canto_time_parse(st, &bad), CANTO_EINVAL);
    canto_stanza_free(st);
    return 0;
}

typedef struct time_rec {
    int n;
    canto_iq_outcome outcome;
    int parse_error;
    int64_t utc_ms;
    int tzo;
} time_rec;

static void on_time(void *ud, canto_time *t, const canto_time_result *r)
{
    time_rec *rec = ud;
    (void)t;
    rec->n++;
    rec->outcome = r->outcome;
    rec->parse_error = r->parse_error;
    rec->utc_ms = r->info.utc_ms;
    rec->tzo = r->info.tzo_minutes;
}

static int test_time_client(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    canto_time *t;
    REQUIRE(canto_time_new(e.client, &t) == 0);
    CHECK(has_feature(e.client, CANTO_NS_TIME));

    /* The answer carries the current time and the local offset. */
    fake_server_send(e.fs, "<iq type='get' id='t1' from='" PEER "'>"
                           "<time xmlns='urn:xmpp:time'/></iq>");
    canto_stanza *st = fake_server_next_named(e.fs, e.loop, "iq", "result", WAIT);
    REQUIRE(st);
    canto_time_info info = CANTO_TIME_INFO_INIT;
    CHECK_INT(canto_time_parse(st, &info), 0);
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    CHECK(llabs(info.utc_ms - (int64_t)now * 1000) < 5000);
    CHECK_INT(info.tzo_minutes, tm.tm_gmtoff / 60);
    canto_stanza_free(st);

    /* A fixed offset (0: keep the time zone private). */
    CHECK_INT(canto_time_set_tzo(t, 0), 0);
    fake_server_send(e.fs, "<iq type='get' id='t2' from='" PEER "'>"
                           "<time xmlns='urn:xmpp:time'/></iq>");
    st = fake_server_next_named(e.fs, e.loop, "iq", "result", WAIT);
    REQUIRE(st);
    CHECK_STR(canto_stanza_text(canto_stanza_find(st, "{urn:xmpp:time}time/tzo")), "+00:00");
    canto_stanza_free(st);
    CHECK_INT(canto_time_set_tzo(t, 1440), CANTO_EINVAL);

    /* Asking a peer. */
    time_rec rec = {0};
    CHECK_INT(canto_time_query(t, PEER, 2000, on_time, &rec, NULL), 0);
    st = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    REQUIRE(st);
    CHECK_STR(canto_stanza_attr(st, "to"), PEER);
    CHECK(payload(st, "time", CANTO_NS_TIME) != NULL);
    fake_server_send(e.fs,
                     "<iq type='result' id='%s' from='" PEER "'><time xmlns='urn:xmpp:time'>"
                     "<tzo>-06:00</tzo><utc>2006-12-19T17:58:35Z</utc></time></iq>",
                     canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.n, 1, WAIT));
    CHECK_INT(rec.outcome, CANTO_IQ_RESULT);
    CHECK_INT(rec.parse_error, 0);
    CHECK_INT(rec.utc_ms, 1166551115000LL);
    CHECK_INT(rec.tzo, -360);

    /* A peer without the feature. */
    CHECK_INT(canto_time_query(t, PEER, 2000, on_time, &rec, NULL), 0);
    st = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    REQUIRE(st);
    fake_server_send(e.fs,
                     "<iq type='error' id='%s' from='" PEER
                     "'>" ERROR_XML("feature-not-implemented") "</iq>",
                     canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.n, 2, WAIT));
    CHECK_INT(rec.outcome, CANTO_IQ_ERROR);

    canto_time_free(t);
    CHECK(!has_feature(e.client, CANTO_NS_TIME));
    env_close(&e);
    return 0;
}

#endif /* CANTO_TEST_TIME */

/* ------------------------------------------------------------------------ */
#ifdef CANTO_TEST_DELAY

static int test_delay_datetime(void)
{
    int64_t ms = 1;
    int tzo = 1;
    CHECK_INT(canto_delay_parse_datetime("1970-01-01T00:00:00Z", &ms, &tzo), 0);
    CHECK_INT(ms, 0);
    CHECK_INT(tzo, 0);
    CHECK_INT(canto_delay_parse_datetime("2002-09-10T23:41:07.123-07:00", &ms, &tzo), 0);
    CHECK_INT(ms, 1031726467123LL);
    CHECK_INT(tzo, -420);
    CHECK_INT(canto_delay_parse_datetime("2000-02-29T12:00:00+05:30", &ms, &tzo), 0);
    CHECK_INT(ms, 951805800000LL);
    CHECK_INT(tzo, 330);
    /* Fractions of any length, truncated to milliseconds. */
    CHECK_INT(canto_delay_parse_datetime("2002-09-10T23:08:25.1Z", &ms, NULL), 0);
    CHECK_INT(ms, 1031699305100LL);
    CHECK_INT(canto_delay_parse_datetime("2002-09-10T23:08:25.123456789Z", &ms, NULL), 0);
    CHECK_INT(ms, 1031699305123LL);
    CHECK_INT(canto_delay_parse_datetime("2002-09-10T23:08:25.000001Z", &ms, NULL), 0);
    CHECK_INT(ms, 1031699305000LL);
    /* Lowercase separators, a leap second, dates before 1970, the ends of the range. */
    CHECK_INT(canto_delay_parse_datetime("2002-09-10t23:08:25z", &ms, NULL), 0);
    CHECK_INT(ms, 1031699305000LL);
    CHECK_INT(canto_delay_parse_datetime("1998-12-31T23:59:60Z", &ms, NULL), 0);
    CHECK_INT(ms, 915148800000LL);
    CHECK_INT(canto_delay_parse_datetime("1969-07-21T02:56:15Z", &ms, NULL), 0);
    CHECK_INT(ms, -14159025000LL);
    CHECK_INT(canto_delay_parse_datetime("9999-12-31T23:59:59Z", &ms, NULL), 0);
    CHECK_INT(ms, 253402300799000LL);
    CHECK_INT(canto_delay_parse_datetime("0001-01-01T00:00:00Z", &ms, NULL), 0);
    CHECK_INT(ms, -62135596800000LL);
    /* -00:00 is UTC too. */
    CHECK_INT(canto_delay_parse_datetime("1970-01-01T01:00:00-00:00", &ms, &tzo), 0);
    CHECK_INT(ms, 3600000);
    CHECK_INT(tzo, 0);

    static const char *const bad[] = {
        "",
        "2002-09-10T23:08:25",       /* no time zone */
        "2002-09-10 23:08:25Z",      /* space instead of T */
        "2002-09-10T23:08:25Zjunk",  /* trailing text */
        "2002-09-10T23:08:25.Z",     /* empty fraction */
        "2002-13-10T23:08:25Z",      /* month 13 */
        "2002-00-10T23:08:25Z",      /* month 0 */
        "2002-09-31T23:08:25Z",      /* September 31 */
        "2001-02-29T00:00:00Z",      /* not a leap year */
        "1900-02-29T00:00:00Z",      /* not a leap year either */
        "2002-09-10T24:00:00Z",      /* hour 24 */
        "2002-09-10T23:60:00Z",      /* minute 60 */
        "2002-09-10T23:59:61Z",      /* second 61 */
        "2002-09-10T23:08:25+24:00", /* offset a day */
        "2002-09-10T23:08:25+05",    /* offset without minutes */
        "2002-09-10T23:08:25+0530",  /* offset without colon */
        "02-09-10T23:08:25Z",        /* two-digit year */
        "2002-9-10T23:08:25Z",       /* one-digit month */
        "20020910T23:08:25",         /* the legacy format */
        "2002-09-10",                /* a date only */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = canto_delay_parse_datetime(bad[i], &ms, NULL);
        if (rc != CANTO_EPROTO)
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
        CHECK_INT(rc, CANTO_EPROTO);
    }
    CHECK_INT(canto_delay_parse_datetime(NULL, &ms, NULL), CANTO_EINVAL);
    return 0;
}

static int test_delay_format(void)
{
    char buf[CANTO_DELAY_DATETIME_MAX];
    CHECK_INT(canto_delay_format_datetime(0, 0, buf, sizeof(buf)), 0);
    CHECK_STR(buf, "1970-01-01T00:00:00Z");
    CHECK_INT(canto_delay_format_datetime(-1, 0, buf, sizeof(buf)), 0);
    CHECK_STR(buf, "1969-12-31T23:59:59.999Z");
    CHECK_INT(canto_delay_format_datetime(1031726467123LL, -420, buf, sizeof(buf)), 0);
    CHECK_STR(buf, "2002-09-10T23:41:07.123-07:00");
    CHECK_INT(canto_delay_format_datetime(951805800000LL, 330, buf, sizeof(buf)), 0);
    CHECK_STR(buf, "2000-02-29T12:00:00+05:30");
    CHECK_INT(canto_delay_format_datetime(253402300799000LL, 0, buf, sizeof(buf)), 0);
    CHECK_STR(buf, "9999-12-31T23:59:59Z");
    CHECK_INT(canto_delay_format_datetime(253402300800000LL, 0, buf, sizeof(buf)), CANTO_EINVAL);
    CHECK_INT(canto_delay_format_datetime(0, 1440, buf, sizeof(buf)), CANTO_EINVAL);
    CHECK_INT(canto_delay_format_datetime(0, 0, buf, 20), CANTO_ETOOBIG);
    CHECK_INT(canto_delay_format_datetime(0, 0, buf, 21), 0);
    CHECK_INT(canto_delay_format_datetime(0, 0, NULL, 0), CANTO_EINVAL);

    /* Round trips over the calendar, at odd offsets. */
    int64_t t = -62135596800000LL;
    for (int i = 0; i < 2000; i++) {
        int tzo = (i * 37) % 1439 - 719;
        int64_t back = 0;
        int back_tzo = 0;
        if (canto_delay_format_datetime(t, tzo, buf, sizeof(buf)) != 0 ||
            canto_delay_parse_datetime(buf, &back, &back_tzo) != 0 || back != t ||
            back_tzo != tzo) {
            fprintf(stderr, "round trip failed at %lld (%s)\n", (long long)t, buf);
            CHECK(0);
            break;
        }
        t += 157680000007LL + i; /* about five years, and a bit */
    }
    return 0;
}

static int test_delay_get(void)
{
    int64_t ms = 0;
    const char *from = NULL, *reason = NULL;
    canto_stanza *st = parse("<message from='romeo@montague.net/orchard' to='juliet@capulet.com'>"
                             "<body>O blessed night</body>"
                             "<delay xmlns='urn:xmpp:delay' from='capulet.com' "
                             "stamp='2002-09-10T23:08:25Z'>Offline Storage</delay></message>");
    CHECK_INT(canto_delay_get(st, &ms, &from, &reason), 0);
    CHECK_INT(ms, 1031699305000LL);
    CHECK_STR(from, "capulet.com");
    CHECK_STR(reason, "Offline Storage");
    canto_stanza_free(st);

    /* Several: the earliest wins; a bad one is skipped. */
    st = parse("<message><delay xmlns='urn:xmpp:delay' from='b' stamp='2002-09-10T23:08:25Z'/>"
               "<delay xmlns='urn:xmpp:delay' from='x' stamp='yesterday'/>"
               "<delay xmlns='urn:xmpp:delay' from='a' stamp='2002-09-10T20:08:25-02:00'/>"
               "</message>");
    CHECK_INT(canto_delay_get(st, &ms, &from, &reason), 0);
    CHECK_INT(ms, 1031699305000LL - 3600000);
    CHECK_STR(from, "a");
    CHECK(reason == NULL);
    canto_stanza_free(st);

    /* Legacy only, and legacy next to a broken XEP-0203 stamp. */
    st = parse("<message><x xmlns='jabber:x:delay' from='capulet.com' "
               "stamp='20020910T23:08:25'>Offline</x></message>");
    CHECK_INT(canto_delay_get(st, &ms, &from, NULL), 0);
    CHECK_INT(ms, 1031699305000LL);
    CHECK_STR(from, "capulet.com");
    canto_stanza_free(st);
    st = parse("<message><delay xmlns='urn:xmpp:delay' stamp='bad'/>"
               "<x xmlns='jabber:x:delay' stamp='20020910T23:08:26'/></message>");
    CHECK_INT(canto_delay_get(st, &ms, NULL, NULL), 0);
    CHECK_INT(ms, 1031699306000LL);
    canto_stanza_free(st);

    /* Broken only, none, a delay in the wrong namespace. */
    st = parse("<message><delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:25'/>"
               "<x xmlns='jabber:x:delay' stamp='2002-09-10T23:08:25Z'/></message>");
    CHECK_INT(canto_delay_get(st, &ms, NULL, NULL), CANTO_EPROTO);
    canto_stanza_free(st);
    st = parse("<message><delay xmlns='urn:xmpp:other' stamp='2002-09-10T23:08:25Z'/></message>");
    CHECK_INT(canto_delay_get(st, &ms, NULL, NULL), CANTO_ENOTFOUND);
    CHECK_INT(canto_delay_get(NULL, &ms, NULL, NULL), CANTO_EINVAL);

    /* Added, then read back. */
    CHECK_INT(canto_delay_add(st, 1031726467123LL, "localhost", "Held"), 0);
    CHECK_INT(canto_delay_get(st, &ms, &from, &reason), 0);
    CHECK_INT(ms, 1031726467123LL);
    CHECK_STR(from, "localhost");
    CHECK_STR(reason, "Held");
    CHECK_STR(canto_stanza_attr(canto_stanza_child(st, "delay", CANTO_NS_DELAY), "stamp"),
              "2002-09-11T06:41:07.123Z");
    canto_stanza_free(st);
    return 0;
}

#endif /* CANTO_TEST_DELAY */

/* ------------------------------------------------------------------------ */
#ifdef CANTO_TEST_RECEIPTS

static int test_receipts_helpers(void)
{
    canto_stanza *out;
    canto_stanza *m = parse("<message from='" PEER "' to='" ME "' id='m1' type='chat'>"
                            "<body>hi</body><request xmlns='urn:xmpp:receipts'/></message>");
    CHECK_INT(canto_receipts_make_receipt(m, &out), 0);
    REQUIRE(out);
    CHECK_STR(canto_stanza_attr(out, "to"), PEER);
    CHECK_STR(canto_stanza_attr(out, "type"), "chat");
    CHECK(canto_stanza_attr(out, "id") != NULL);
    CHECK(strcmp(canto_stanza_attr(out, "id"), "m1") != 0);
    CHECK_STR(canto_stanza_attr(canto_stanza_child(out, "received", CANTO_NS_RECEIPTS), "id"),
              "m1");
    CHECK(canto_stanza_child(out, "request", NULL) == NULL);
    CHECK(canto_stanza_child(out, "body", NULL) == NULL);
    const char *id;
    CHECK_INT(canto_receipts_get_received(out, &id), 0);
    CHECK_STR(id, "m1");
    canto_stanza_free(out);
    canto_stanza_free(m);

    /* Type normal: no type on the receipt. */
    m = parse("<message from='" PEER "' id='m2'><request xmlns='urn:xmpp:receipts'/></message>");
    CHECK_INT(canto_receipts_make_receipt(m, &out), 0);
    CHECK(out && canto_stanza_attr(out, "type") == NULL);
    canto_stanza_free(out);
    canto_stanza_free(m);

    /* Never for groupchat or errors; not without a request, an id or a sender;
     * not for something that is itself a receipt. */
    static const struct {
        const char *xml;
        int rc;
    } cases[] = {
        {"<message from='room@conf/n' id='g' type='groupchat'><body>x</body>"
         "<request xmlns='urn:xmpp:receipts'/></message>",
         CANTO_EINVAL},
        {"<message from='" PEER "' id='e' type='error'><request xmlns='urn:xmpp:receipts'/>"
         "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
         "</error></message>",
         CANTO_EINVAL},
        {"<message from='" PEER "' id='n' type='chat'><body>x</body></message>", CANTO_ENOTFOUND},
        {"<message from='" PEER "' type='chat'><request xmlns='urn:xmpp:receipts'/></message>",
         CANTO_ENOTFOUND},
        {"<message id='x' type='chat'><request xmlns='urn:xmpp:receipts'/></message>",
         CANTO_EINVAL},
        {"<message from='" PEER "' id='r' type='chat'><received xmlns='urn:xmpp:receipts' "
         "id='z'/><request xmlns='urn:xmpp:receipts'/></message>",
         CANTO_EINVAL},
        {"<message from='" PEER "' id='o' type='chat'><request xmlns='urn:xmpp:other'/></message>",
         CANTO_ENOTFOUND},
        {"<iq from='" PEER "' id='i' type='get'><request xmlns='urn:xmpp:receipts'/></iq>",
         CANTO_EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        m = parse(cases[i].xml);
        out = (canto_stanza *)1;
        int rc = canto_receipts_make_receipt(m, &out);
        if (rc != cases[i].rc)
            fprintf(stderr, "case %zu\n", i);
        CHECK_INT(rc, cases[i].rc);
        CHECK(out == NULL);
        canto_stanza_free(m);
    }

    /* A receipt in an error is no receipt. */
    m = parse("<message from='" PEER "' type='error'><received xmlns='urn:xmpp:receipts' "
              "id='m1'/></message>");
    CHECK_INT(canto_receipts_get_received(m, &id), CANTO_ENOTFOUND);
    canto_stanza_free(m);

    /* Requests are added once, only to messages with an id. */
    m = parse("<message to='" PEER "' id='q'><body>x</body></message>");
    CHECK_INT(canto_receipts_add_request(m), 0);
    CHECK_INT(canto_receipts_add_request(m), 0);
    CHECK(canto_stanza_child(m, "request", CANTO_NS_RECEIPTS) != NULL);
    CHECK(canto_stanza_next_match(canto_stanza_child(m, "request", CANTO_NS_RECEIPTS), "request",
                                  CANTO_NS_RECEIPTS) == NULL);
    canto_stanza_free(m);
    m = parse("<message to='" PEER "'><body>x</body></message>");
    CHECK_INT(canto_receipts_add_request(m), CANTO_EINVAL);
    canto_stanza_free(m);
    return 0;
}

typedef struct receipt_rec {
    int n;
    char from[64], id[64];
} receipt_rec;

static void on_receipt(void *ud, canto_receipts *r, const char *from, const char *id,
                       canto_stanza *message)
{
    receipt_rec *rec = ud;
    (void)r;
    (void)message;
    rec->n++;
    snprintf(rec->from, sizeof(rec->from), "%s", from ? from : "(null)");
    snprintf(rec->id, sizeof(rec->id), "%s", id);
}

static int allow_receipt(void *ud, canto_receipts *r, const canto_stanza *message)
{
    (void)r;
    CHECK_STR(canto_stanza_attr(message, "from"), PEER);
    return *(const int *)ud;
}

static int test_receipts_client(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    canto_receipts *r;
    REQUIRE(canto_receipts_new(e.client, &r) == 0);
    CHECK(has_feature(e.client, CANTO_NS_RECEIPTS));
    receipt_rec rec = {0};
    CHECK_INT(canto_receipts_set_callback(r, on_receipt, &rec), 0);
    int app = 0;
    add_counting_handler(e.client, &app);

    /* A request is answered, and the message still reaches the application. */
    fake_server_send(e.fs, "<message from='" PEER "' id='m1' type='chat'><body>hi</body>"
                           "<request xmlns='urn:xmpp:receipts'/></message>");
    canto_stanza *st = fake_server_next_named(e.fs, e.loop, "message", "chat", WAIT);
    REQUIRE(st);
    CHECK_STR(canto_stanza_attr(st, "to"), PEER);
    CHECK_STR(canto_stanza_attr(canto_stanza_child(st, "received", CANTO_NS_RECEIPTS), "id"), "m1");
    canto_stanza_free(st);
    CHECK_INT(app, 1);

    /* Not in groupchat, not for errors, not when turned off. */
    fake_server_send(e.fs, "<message from='room@conference.localhost/nick' id='g1' "
                           "type='groupchat'><body>hi</body>"
                           "<request xmlns='urn:xmpp:receipts'/></message>");
    fake_server_send(e.fs, "<message from='" PEER "' id='e1' type='error'>"
                           "<request xmlns='urn:xmpp:receipts'/>" ERROR_XML(
                               "recipient-unavailable") "</message>");
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(fake_server_pending(e.fs), 0);
    CHECK_INT(canto_receipts_set_auto_answer(r, 0), 0);
    fake_server_send(e.fs, "<message from='" PEER "' id='m2' type='chat'><body>hi</body>"
                           "<request xmlns='urn:xmpp:receipts'/></message>");
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(fake_server_pending(e.fs), 0);
    CHECK_INT(canto_receipts_set_auto_answer(r, 1), 0);

    /* The filter decides: refused, then allowed. */
    int allow = 0;
    CHECK_INT(canto_receipts_set_answer_filter(r, allow_receipt, &allow), 0);
    fake_server_send(e.fs, "<message from='" PEER "' id='f1' type='chat'><body>hi</body>"
                           "<request xmlns='urn:xmpp:receipts'/></message>");
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(fake_server_pending(e.fs), 0);
    allow = 1;
    fake_server_send(e.fs, "<message from='" PEER "' id='f2' type='chat'><body>hi</body>"
                           "<request xmlns='urn:xmpp:receipts'/></message>");
    st = fake_server_next_named(e.fs, e.loop, "message", "chat", WAIT);
    CHECK(st &&
          strcmp(canto_stanza_attr(canto_stanza_child(st, "received", CANTO_NS_RECEIPTS), "id"),
                 "f2") == 0);
    canto_stanza_free(st);
    CHECK_INT(canto_receipts_set_answer_filter(r, NULL, NULL), 0);

    /* Receipts are reported. */
    fake_server_send(e.fs, "<message from='" PEER "' id='x'>"
                           "<received xmlns='urn:xmpp:receipts' id='out-7'/></message>");
    CHECK(wait_count(&e, &rec.n, 1, WAIT));
    CHECK_STR(rec.from, PEER);
    CHECK_STR(rec.id, "out-7");

    /* Automatic requests: only messages with a body and an id, never groupchat. */
    CHECK_INT(canto_receipts_set_auto_request(r, 1), 0);
    canto_stanza *m;
    canto_stanza_new_message(NULL, "chat", PEER, "out-1", "hello", &m);
    CHECK_INT(canto_client_send(e.client, m), 0);
    CHECK(canto_stanza_child(m, "request", NULL) == NULL); /* the caller's copy is untouched */
    canto_stanza_free(m);
    canto_stanza_new_message(NULL, "chat", PEER, NULL, "no id", &m);
    CHECK_INT(canto_client_send(e.client, m), 0);
    canto_stanza_free(m);
    canto_stanza_new_message(NULL, "groupchat", "room@conference.localhost", "g-1", "all", &m);
    CHECK_INT(canto_client_send(e.client, m), 0);
    canto_stanza_free(m);
    canto_stanza_new_message(NULL, "chat", PEER, "out-2", NULL, &m);
    CHECK_INT(canto_client_send(e.client, m), 0);
    canto_stanza_free(m);
    static const int want_request[] = {1, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        st = fake_server_next_named(e.fs, e.loop, "message", i == 2 ? "groupchat" : "chat", WAIT);
        REQUIRE(st);
        CHECK_INT(canto_stanza_child(st, "request", CANTO_NS_RECEIPTS) != NULL, want_request[i]);
        canto_stanza_free(st);
    }
    CHECK_INT(canto_receipts_set_auto_request(r, 0), 0);
    canto_stanza_new_message(NULL, "chat", PEER, "out-3", "hello", &m);
    CHECK_INT(canto_client_send(e.client, m), 0);
    canto_stanza_free(m);
    st = fake_server_next_named(e.fs, e.loop, "message", "chat", WAIT);
    CHECK(st && !canto_stanza_child(st, "request", CANTO_NS_RECEIPTS));
    canto_stanza_free(st);

    canto_receipts_free(r);
    CHECK(!has_feature(e.client, CANTO_NS_RECEIPTS));
    /* Without the plugin nobody answers. */
    fake_server_send(e.fs, "<message from='" PEER "' id='m3' type='chat'><body>hi</body>"
                           "<request xmlns='urn:xmpp:receipts'/></message>");
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(fake_server_pending(e.fs), 0);
    env_close(&e);
    return 0;
}

#endif /* CANTO_TEST_RECEIPTS */

/* ------------------------------------------------------------------------ */
#ifdef CANTO_TEST_CHATSTATES

static int test_chatstates_helpers(void)
{
    CHECK_STR(canto_chatstate_name(CANTO_CHATSTATE_COMPOSING), "composing");
    CHECK_STR(canto_chatstate_name(CANTO_CHATSTATE_GONE), "gone");
    CHECK(canto_chatstate_name(CANTO_CHATSTATE_NONE) == NULL);
    CHECK(canto_chatstate_name((canto_chatstate)42) == NULL);

    canto_stanza *m = parse("<message from='" PEER "' type='chat'>"
                            "<paused xmlns='http://jabber.org/protocol/chatstates'/></message>");
    CHECK_INT(canto_chatstate_get(m), CANTO_CHATSTATE_PAUSED);
    CHECK_INT(canto_chatstate_set(m, CANTO_CHATSTATE_ACTIVE), 0);
    CHECK_INT(canto_chatstate_get(m), CANTO_CHATSTATE_ACTIVE);
    CHECK_INT(canto_stanza_child_count(m), 1); /* replaced, not added */
    CHECK_INT(canto_chatstate_set(m, CANTO_CHATSTATE_NONE), 0);
    CHECK_INT(canto_chatstate_get(m), CANTO_CHATSTATE_NONE);
    CHECK_INT(canto_stanza_child_count(m), 0);
    CHECK_INT(canto_chatstate_set(m, (canto_chatstate)9), CANTO_EINVAL);
    canto_stanza_free(m);

    m = parse("<message type='error'><composing xmlns='http://jabber.org/protocol/chatstates'/>"
              "</message>");
    CHECK_INT(canto_chatstate_get(m), CANTO_CHATSTATE_NONE);
    canto_stanza_free(m);
    m = parse("<message><dancing xmlns='http://jabber.org/protocol/chatstates'/></message>");
    CHECK_INT(canto_chatstate_get(m), CANTO_CHATSTATE_NONE);
    canto_stanza_free(m);
    m = parse("<presence><composing xmlns='http://jabber.org/protocol/chatstates'/></presence>");
    CHECK_INT(canto_chatstate_get(m), CANTO_CHATSTATE_NONE);
    CHECK_INT(canto_chatstate_set(m, CANTO_CHATSTATE_ACTIVE), CANTO_EINVAL);
    canto_stanza_free(m);
    return 0;
}

typedef struct chatstate_rec {
    int n;
    canto_chatstate state;
    char from[64];
} chatstate_rec;

static void on_chatstate(void *ud, canto_chatstates *cs, const char *from, canto_chatstate state,
                         canto_stanza *message)
{
    chatstate_rec *rec = ud;
    (void)cs;
    (void)message;
    rec->n++;
    rec->state = state;
    snprintf(rec->from, sizeof(rec->from), "%s", from ? from : "(null)");
}

static int test_chatstates_client(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    canto_chatstates *cs;
    REQUIRE(canto_chatstates_new(e.client, &cs) == 0);
    CHECK(has_feature(e.client, CANTO_NS_CHATSTATES));
    chatstate_rec rec = {0};
    CHECK_INT(canto_chatstates_set_callback(cs, on_chatstate, &rec), 0);
    int app = 0;
    add_counting_handler(e.client, &app);

    fake_server_send(e.fs, "<message from='" PEER "' type='chat'>"
                           "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
    CHECK(wait_count(&e, &rec.n, 1, WAIT));
    CHECK_INT(rec.state, CANTO_CHATSTATE_COMPOSING);
    CHECK_STR(rec.from, PEER);
    CHECK_INT(app, 1); /* passed on */
    /* A message without a state, and an error, are not reported. */
    fake_server_send(e.fs, "<message from='" PEER "' type='chat'><body>x</body></message>");
    fake_server_send(e.fs, "<message from='" PEER "' type='error'>"
                           "<gone xmlns='http://jabber.org/protocol/chatstates'/></message>");
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(rec.n, 1);
    CHECK_INT(app, 3);

    /* Standalone notifications. */
    CHECK_INT(canto_chatstates_send(cs, PEER, NULL, CANTO_CHATSTATE_PAUSED), 0);
    canto_stanza *st = fake_server_next_named(e.fs, e.loop, "message", "chat", WAIT);
    REQUIRE(st);
    CHECK_STR(canto_stanza_attr(st, "to"), PEER);
    CHECK_INT(canto_chatstate_get(st), CANTO_CHATSTATE_PAUSED);
    CHECK(canto_stanza_child(st, "body", NULL) == NULL);
    canto_stanza_free(st);
    CHECK_INT(
        canto_chatstates_send(cs, "room@conference.localhost", "groupchat", CANTO_CHATSTATE_ACTIVE),
        0);
    st = fake_server_next_named(e.fs, e.loop, "message", "groupchat", WAIT);
    CHECK(st && canto_chatstate_get(st) == CANTO_CHATSTATE_ACTIVE);
    canto_stanza_free(st);
    CHECK_INT(canto_chatstates_send(cs, PEER, "headline", CANTO_CHATSTATE_ACTIVE), CANTO_EINVAL);
    CHECK_INT(canto_chatstates_send(cs, PEER, NULL, CANTO_CHATSTATE_NONE), CANTO_EINVAL);

    canto_chatstates_free(cs);
    CHECK(!has_feature(e.client, CANTO_NS_CHATSTATES));
    env_close(&e);
    return 0;
}

#endif /* CANTO_TEST_CHATSTATES */

/* ------------------------------------------------------------------------ */
#ifdef CANTO_TEST_CARBONS

typedef struct session_wait {
    env *e;
    unsigned sessions;
} session_wait;

static int new_session(void *ud)
{
    const session_wait *w = ud;
    return fake_server_sessions(w->e->fs) > w->sessions &&
           canto_client_get_state(w->e->client) == CANTO_CLIENT_CONNECTED;
}

/* Drop the connection and wait for the client to come back by itself
 * (CANTO_RECONNECT_AUTO). */
static int env_reconnect_auto(env *e)
{
    session_wait w = {e, fake_server_sessions(e->fs)};
    fake_server_drop(e->fs);
    return fake_server_wait(e->fs, e->loop, new_session, &w, WAIT) ? 0 : -1;
}

#define CARBON(from, dir, inner_from, inner_to, body)                                              \
    "<message from='" from "' to='" ME "' type='chat'><" dir " xmlns='urn:xmpp:carbons:2'>"        \
    "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='" inner_from       \
    "' to='" inner_to "' type='chat'><body>" body "</body></message></forwarded></" dir            \
    "></message>"

static int test_carbons_unwrap(void)
{
    canto_jid *me;
    REQUIRE(canto_jid_parse(NULL, ME, &me) == 0);
    canto_carbons_direction dir = 0;
    canto_stanza *inner = NULL;
    canto_stanza *m = parse(CARBON(ME_BARE, "received", PEER, ME_BARE "/other", "hi"));
    CHECK_INT(canto_carbons_unwrap(me, m, &dir, &inner), 0);
    CHECK_INT(dir, CANTO_CARBONS_RECEIVED);
    CHECK_STR(canto_stanza_attr(inner, "from"), PEER);
    CHECK_STR(canto_stanza_child_text(inner, "body", NULL), "hi");
    canto_stanza_free(m);
    m = parse(CARBON("Tester@LOCALHOST", "sent", ME_BARE "/other", PEER, "yo"));
    CHECK_INT(canto_carbons_unwrap(me, m, &dir, &inner), 0);
    CHECK_INT(dir, CANTO_CARBONS_SENT);
    CHECK_STR(canto_stanza_attr(inner, "to"), PEER);
    canto_stanza_free(m);

    /* Spoofing: a stranger, our own full JID, our server, no from at all. */
    static const char *const forged[] = {
        CARBON("mallory@localhost", "received", PEER, ME, "pay mallory"),
        CARBON(ME, "sent", ME, PEER, "pay mallory"),
        CARBON("localhost", "received", PEER, ME, "pay mallory"),
        "<message to='" ME "'><received xmlns='urn:xmpp:carbons:2'><forwarded "
        "xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='" PEER "'/>"
        "</forwarded></received></message>",
        /* ours, but malformed: no forwarded message */
        "<message from='" ME_BARE "'><received xmlns='urn:xmpp:carbons:2'/></message>",
    };
    for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
        m = parse(forged[i]);
        REQUIRE(m);
        CHECK_INT(canto_carbons_unwrap(me, m, &dir, &inner), CANTO_EPROTO);
        canto_stanza_free(m);
    }
    m = parse("<message from='" PEER "'><body>plain</body></message>");
    CHECK_INT(canto_carbons_unwrap(me, m, &dir, &inner), CANTO_ENOTFOUND);
    CHECK_INT(canto_carbons_unwrap(NULL, m, &dir, &inner), CANTO_EINVAL);

    CHECK_INT(canto_carbons_mark_private(m), 0);
    CHECK_INT(canto_carbons_mark_private(m), 0);
    CHECK(canto_stanza_child(m, "private", CANTO_NS_CARBONS) != NULL);
    CHECK(canto_stanza_child(m, "no-copy", "urn:xmpp:hints") != NULL);
    CHECK_INT(canto_stanza_child_count(m), 3);
    canto_stanza_free(m);
    canto_jid_free(me);
    return 0;
}

typedef struct carbon_rec {
    int n;
    canto_carbons_direction dir;
    char body[64];
    int results;
    canto_iq_outcome outcome;
} carbon_rec;

static void on_carbon(void *ud, canto_carbons *c, canto_carbons_direction dir, canto_stanza *inner,
                      canto_stanza *outer)
{
    carbon_rec *rec = ud;
    (void)c;
    (void)outer;
    rec->n++;
    rec->dir = dir;
    const char *b = canto_stanza_child_text(inner, "body", NULL);
    snprintf(rec->body, sizeof(rec->body), "%s", b ? b : "");
}

static void on_carbons_result(void *ud, canto_carbons *c, const canto_iq_response *r)
{
    carbon_rec *rec = ud;
    (void)c;
    rec->results++;
    rec->outcome = r->outcome;
}

/* The next iq set the client sends, which must hold @p name in the carbons
 * namespace; answered with a result. */
static int expect_toggle(env *e, const char *name)
{
    canto_stanza *st = fake_server_next_named(e->fs, e->loop, "iq", "set", WAIT);
    if (!st)
        return -1;
    int ok = payload(st, name, CANTO_NS_CARBONS) != NULL && !canto_stanza_attr(st, "to");
    fake_server_send(e->fs, "<iq type='result' id='%s'/>", canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    return ok ? 0 : -1;
}

static int test_carbons_client(void)
{
    env e;
    REQUIRE(env_open_mode(&e, CANTO_RECONNECT_AUTO) == 0);
    canto_carbons *c;
    REQUIRE(canto_carbons_new(e.client, &c) == 0);
    CHECK(has_feature(e.client, CANTO_NS_CARBONS));
    carbon_rec rec = {0};
    CHECK_INT(canto_carbons_set_callback(c, on_carbon, &rec), 0);
    int app = 0;
    add_counting_handler(e.client, &app);

    CHECK_INT(canto_carbons_enabled(c), 0);
    CHECK_INT(canto_carbons_enable(c, on_carbons_result, &rec), 0);
    CHECK_INT(expect_toggle(&e, "enable"), 0);
    CHECK(wait_count(&e, &rec.results, 1, WAIT));
    CHECK_INT(rec.outcome, CANTO_IQ_RESULT);
    CHECK_INT(canto_carbons_enabled(c), 1);

    /* Copies from our own bare JID are unwrapped and consumed. */
    fake_server_send(e.fs, CARBON(ME_BARE, "received", PEER, ME_BARE "/other", "to other"));
    CHECK(wait_count(&e, &rec.n, 1, WAIT));
    CHECK_INT(rec.dir, CANTO_CARBONS_RECEIVED);
    CHECK_STR(rec.body, "to other");
    fake_server_send(e.fs, CARBON(ME_BARE, "sent", ME_BARE "/other", PEER, "from other"));
    CHECK(wait_count(&e, &rec.n, 2, WAIT));
    CHECK_INT(rec.dir, CANTO_CARBONS_SENT);
    CHECK_STR(rec.body, "from other");
    /* Forged copies: neither reported nor passed on. */
    fake_server_send(e.fs, CARBON("mallory@localhost", "sent", ME, PEER, "forged"));
    fake_server_send(e.fs, CARBON(ME, "received", PEER, ME, "forged"));
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(rec.n, 2);
    CHECK_INT(app, 0);
    /* Ordinary messages pass. */
    fake_server_send(e.fs, "<message from='" PEER "' type='chat'><body>plain</body></message>");
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(app, 1);
    CHECK_INT(rec.n, 2);

    /* After the client reconnected by itself, enabled again without being asked. */
    REQUIRE(env_reconnect_auto(&e) == 0);
    CHECK_INT(canto_carbons_enabled(c), 0);
    CHECK_INT(expect_toggle(&e, "enable"), 0);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(canto_carbons_enabled(c), 1);
    CHECK_INT(rec.results, 1); /* the automatic one is not reported */

    /* Disabled: not enabled at the next reconnect. */
    CHECK_INT(canto_carbons_disable(c, on_carbons_result, &rec), 0);
    CHECK_INT(expect_toggle(&e, "disable"), 0);
    CHECK(wait_count(&e, &rec.results, 2, WAIT));
    CHECK_INT(canto_carbons_enabled(c), 0);
    REQUIRE(env_reconnect_auto(&e) == 0);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(fake_server_pending(e.fs), 0);

    /* Freed with a request pending: CANCELED. */
    CHECK_INT(canto_carbons_enable(c, on_carbons_result, &rec), 0);
    canto_carbons_free(c);
    CHECK_INT(rec.results, 3);
    CHECK_INT(rec.outcome, CANTO_IQ_CANCELED);
    CHECK(!has_feature(e.client, CANTO_NS_CARBONS));
    env_close(&e);
    return 0;
}

#endif /* CANTO_TEST_CARBONS */

/* ------------------------------------------------------------------------ */
#ifdef CANTO_TEST_BLOCKING

typedef struct block_rec {
    int results;
    canto_iq_outcome outcome;
    int changes;
    int blocked;
    size_t n;
    char first[64];
} block_rec;

static void on_block_result(void *ud, canto_blocking *b, const canto_iq_response *r)
{
    block_rec *rec = ud;
    (void)b;
    rec->results++;
    rec->outcome = r->outcome;
}

static void on_block_change(void *ud, canto_blocking *b, int blocked, const char *const *jids,
                            size_t n)
{
    block_rec *rec = ud;
    (void)b;
    rec->changes++;
    rec->blocked = blocked;
    rec->n = n;
    snprintf(rec->first, sizeof(rec->first), "%s", n ? jids[0] : "");
}

static int test_blocking_client(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    canto_blocking *b;
    REQUIRE(canto_blocking_new(e.client, &b) == 0);
    block_rec rec = {0};
    CHECK_INT(canto_blocking_set_change_callback(b, on_block_change, &rec), 0);

    /* Fetch: the copy is replaced; an invalid item is skipped. */
    CHECK_INT(canto_blocking_get(b, on_block_result, &rec), 0);
    canto_stanza *st = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    REQUIRE(st);
    CHECK(payload(st, "blocklist", CANTO_NS_BLOCKING) != NULL);
    fake_server_send(
        e.fs,
        "<iq type='result' id='%s'><blocklist xmlns='urn:xmpp:blocking'>"
        "<item jid='romeo@montague.net'/><item jid='@bad'/><item jid='iago@shakespeare.lit'/>"
        "</blocklist></iq>",
        canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.results, 1, WAIT));
    CHECK_INT(rec.outcome, CANTO_IQ_RESULT);
    CHECK_INT(canto_blocking_count(b), 2);
    CHECK(canto_blocking_contains(b, "Romeo@Montague.net"));
    CHECK(!canto_blocking_contains(b, "romeo@montague.net/orchard"));
    CHECK_INT(rec.changes, 0);

    /* Block: sent normalized; the copy follows the result. */
    const char *const to_block[] = {"Mallory@Evil.example", "spam.example"};
    CHECK_INT(canto_blocking_block(b, to_block, 2, on_block_result, &rec), 0);
    st = fake_server_next_named(e.fs, e.loop, "iq", "set", WAIT);
    REQUIRE(st);
    const canto_stanza *el = payload(st, "block", CANTO_NS_BLOCKING);
    REQUIRE(el);
    const canto_stanza *item = canto_stanza_child(el, "item", CANTO_NS_BLOCKING);
    CHECK_STR(canto_stanza_attr(item, "jid"), "mallory@evil.example");
    CHECK_STR(canto_stanza_attr(canto_stanza_next_match(item, "item", NULL), "jid"),
              "spam.example");
    CHECK(!canto_blocking_contains(b, "mallory@evil.example"));
    fake_server_send(e.fs, "<iq type='result' id='%s'/>", canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.results, 2, WAIT));
    CHECK(canto_blocking_contains(b, "mallory@evil.example"));
    CHECK_INT(canto_blocking_count(b), 4);

    /* An error changes nothing. */
    const char *const one[] = {"x@y.example"};
    CHECK_INT(canto_blocking_block(b, one, 1, on_block_result, &rec), 0);
    st = fake_server_next_named(e.fs, e.loop, "iq", "set", WAIT);
    REQUIRE(st);
    fake_server_send(e.fs, "<iq type='error' id='%s'>" ERROR_XML("not-acceptable") "</iq>",
                     canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.results, 3, WAIT));
    CHECK_INT(rec.outcome, CANTO_IQ_ERROR);
    CHECK(!canto_blocking_contains(b, "x@y.example"));

    /* Pushes from the account (no from, or the bare JID) are applied and answered. */
    fake_server_send(e.fs, "<iq type='set' id='push1'><block xmlns='urn:xmpp:blocking'>"
                           "<item jid='Tybalt@Capulet.lit'/></block></iq>");
    st = fake_server_next_named(e.fs, e.loop, "iq", "result", WAIT);
    CHECK(st && strcmp(canto_stanza_attr(st, "id"), "push1") == 0);
    canto_stanza_free(st);
    CHECK_INT(rec.changes, 1);
    CHECK_INT(rec.blocked, 1);
    CHECK_INT(rec.n, 1);
    CHECK_STR(rec.first, "tybalt@capulet.lit");
    CHECK(canto_blocking_contains(b, "tybalt@capulet.lit"));
    fake_server_send(e.fs, "<iq type='set' id='push2' from='" ME_BARE "'>"
                           "<unblock xmlns='urn:xmpp:blocking'><item jid='romeo@montague.net'/>"
                           "</unblock></iq>");
    st = fake_server_next_named(e.fs, e.loop, "iq", "result", WAIT);
    canto_stanza_free(st);
    CHECK_INT(rec.changes, 2);
    CHECK_INT(rec.blocked, 0);
    CHECK(!canto_blocking_contains(b, "romeo@montague.net"));

    /* Pushes from anyone else are refused and change nothing. */
    size_t count = canto_blocking_count(b);
    fake_server_send(e.fs, "<iq type='set' id='push3' from='mallory@localhost'>"
                           "<unblock xmlns='urn:xmpp:blocking'/></iq>");
    fake_server_send(e.fs, "<iq type='set' id='push4' from='" ME "'>"
                           "<unblock xmlns='urn:xmpp:blocking'/></iq>");
    st = fake_server_next_named(e.fs, e.loop, "iq", "error", WAIT);
    CHECK(st && strcmp(canto_stanza_attr(st, "id"), "push3") == 0);
    canto_stanza_free(st);
    st = fake_server_next_named(e.fs, e.loop, "iq", "error", WAIT);
    CHECK(st && strcmp(canto_stanza_attr(st, "id"), "push4") == 0);
    canto_stanza_free(st);
    CHECK_INT(rec.changes, 2);
    CHECK_INT(canto_blocking_count(b), count);

    /* Unblock everyone, by push. */
    fake_server_send(e.fs, "<iq type='set' id='push5'><unblock xmlns='urn:xmpp:blocking'/></iq>");
    st = fake_server_next_named(e.fs, e.loop, "iq", "result", WAIT);
    canto_stanza_free(st);
    CHECK_INT(rec.changes, 3);
    CHECK_INT(rec.n, 0);
    CHECK_INT(canto_blocking_count(b), 0);

    /* Unblock request with no JIDs: everyone. */
    CHECK_INT(canto_blocking_unblock(b, NULL, 0, on_block_result, &rec), 0);
    st = fake_server_next_named(e.fs, e.loop, "iq", "set", WAIT);
    REQUIRE(st);
    el = payload(st, "unblock", CANTO_NS_BLOCKING);
    CHECK(el && canto_stanza_first_element(el) == NULL);
    canto_stanza_free(st);

    /* Bad arguments; freed with a request pending. */
    const char *const invalid[] = {"@nope"};
    CHECK_INT(canto_blocking_block(b, invalid, 1, NULL, NULL), CANTO_EJID_LOCAL);
    CHECK_INT(canto_blocking_block(b, NULL, 0, NULL, NULL), CANTO_EINVAL);
    int results = rec.results;
    canto_blocking_free(b);
    CHECK_INT(rec.results, results + 1);
    CHECK_INT(rec.outcome, CANTO_IQ_CANCELED);
    env_close(&e);
    return 0;
}

#endif /* CANTO_TEST_BLOCKING */

/* ------------------------------------------------------------------------ */
#ifdef CANTO_TEST_REGISTER

static int test_register_submission(void)
{
    canto_stanza *iq;
    const char *detail;
    /* Plain fields. */
    canto_stanza *form = parse("<iq type='result' id='r1'><query xmlns='jabber:iq:register'>"
                               "<instructions>Choose</instructions><username/><password/>"
                               "</query></iq>");
    CHECK_INT(canto_register_make_submission(form, "juliet", "s3cret", NULL, &iq, &detail), 0);
    REQUIRE(iq);
    CHECK_STR(canto_stanza_attr(iq, "type"), "set");
    CHECK(canto_stanza_attr(iq, "to") == NULL);
    CHECK_STR(canto_stanza_text(canto_stanza_find(iq, "{jabber:iq:register}query/username")),
              "juliet");
    CHECK_STR(canto_stanza_text(canto_stanza_find(iq, "{jabber:iq:register}query/password")),
              "s3cret");
    CHECK(canto_stanza_find(iq, "{jabber:iq:register}query/instructions") == NULL);
    canto_stanza_free(iq);
    canto_stanza_free(form);

    /* E-mail: filled in when given, refused when not; a key is echoed. */
    form = parse("<query xmlns='jabber:iq:register'><username/><password/><email/>"
                 "<key>k-123</key></query>");
    CHECK_INT(canto_register_make_submission(form, "juliet", "pw", "j@example.org", &iq, NULL), 0);
    CHECK_STR(canto_stanza_text(canto_stanza_find(iq, "{jabber:iq:register}query/email")),
              "j@example.org");
    CHECK_STR(canto_stanza_text(canto_stanza_find(iq, "{jabber:iq:register}query/key")), "k-123");
    canto_stanza_free(iq);
    CHECK_INT(canto_register_make_submission(form, "juliet", "pw", NULL, &iq, &detail),
              CANTO_EUNSUPPORTED);
    CHECK(iq == NULL && detail != NULL);
    canto_stanza_free(form);

    /* Fields we cannot fill in; an already registered connection; no form. */
    form = parse("<query xmlns='jabber:iq:register'><username/><password/><first/></query>");
    CHECK_INT(canto_register_make_submission(form, "juliet", "pw", NULL, &iq, &detail),
              CANTO_EUNSUPPORTED);
    canto_stanza_free(form);
    form = parse("<query xmlns='jabber:iq:register'><registered/><username>juliet</username>"
                 "<password/></query>");
    CHECK_INT(canto_register_make_submission(form, "juliet", "pw", NULL, &iq, &detail),
              CANTO_EUNSUPPORTED);
    canto_stanza_free(form);
    form = parse("<iq type='result' id='r'/>");
    CHECK_INT(canto_register_make_submission(form, "juliet", "pw", NULL, &iq, &detail),
              CANTO_EINVAL);
    canto_stanza_free(form);
    form = parse("<query xmlns='jabber:iq:register'><username/><password/></query>");
    CHECK_INT(canto_register_make_submission(form, "", "pw", NULL, &iq, &detail), CANTO_EINVAL);
    CHECK_INT(canto_register_make_submission(form, "juliet", NULL, NULL, &iq, &detail),
              CANTO_EINVAL);
    canto_stanza_free(form);

    /* A data form only (XEP-0077 §5). */
    static const char data_form[] =
        "<query xmlns='jabber:iq:register'><instructions>Use the form</instructions>"
        "<x xmlns='jabber:x:data' type='form'>"
        "<field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>"
        "<field type='text-single' var='username'><required/></field>"
        "<field type='text-private' var='password'><required/></field>"
        "<field type='text-single' var='nick'/>"
        "</x></query>";
    form = parse(data_form);
    int rc = canto_register_make_submission(form, "juliet", "pw", NULL, &iq, &detail);
    if (canto_register_uses_forms()) {
        CHECK_INT(rc, 0);
        const canto_stanza *x = canto_stanza_find(iq, "{jabber:iq:register}query/{jabber:x:data}x");
        REQUIRE(x);
        CHECK_STR(canto_stanza_attr(x, "type"), "submit");
        int seen = 0;
        for (const canto_stanza *f = canto_stanza_child(x, "field", NULL); f;
             f = canto_stanza_next_match(f, "field", NULL)) {
            const char *var = canto_stanza_attr(f, "var");
            const char *value = canto_stanza_child_text(f, "value", NULL);
            if (strcmp(var, "FORM_TYPE") == 0 && value && strcmp(value, "jabber:iq:register") == 0)
                seen |= 1;
            if (strcmp(var, "username") == 0 && value && strcmp(value, "juliet") == 0)
                seen |= 2;
            if (strcmp(var, "password") == 0 && value && strcmp(value, "pw") == 0)
                seen |= 4;
        }
        CHECK_INT(seen, 7);
        canto_stanza_free(iq);
    } else {
        CHECK_INT(rc, CANTO_EUNSUPPORTED);
    }
    canto_stanza_free(form);

    /* A data form requiring something we cannot answer (a CAPTCHA). */
    form = parse("<query xmlns='jabber:iq:register'><username/><password/>"
                 "<x xmlns='jabber:x:data' type='form'>"
                 "<field type='text-single' var='username'><required/></field>"
                 "<field type='text-private' var='password'><required/></field>"
                 "<field type='text-single' var='ocr'><required/></field></x></query>");
    rc = canto_register_make_submission(form, "juliet", "pw", NULL, &iq, &detail);
    if (canto_register_uses_forms())
        CHECK_INT(rc, CANTO_EUNSUPPORTED);
    else
        CHECK_INT(rc, 0); /* the plain fields are used */
    if (rc == 0)
        canto_stanza_free(iq);
    canto_stanza_free(form);
    return 0;
}

typedef struct iq_rec {
    int n;
    canto_iq_outcome outcome;
} iq_rec;

static void on_iq(void *ud, canto_client *client, const canto_iq_response *r)
{
    iq_rec *rec = ud;
    (void)client;
    rec->n++;
    rec->outcome = r->outcome;
}

static int test_register_account_ops(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    iq_rec rec = {0};
    CHECK_INT(canto_register_change_password(e.client, "n3w", 2000, on_iq, &rec, NULL), 0);
    canto_stanza *st = fake_server_next_named(e.fs, e.loop, "iq", "set", WAIT);
    REQUIRE(st);
    CHECK_STR(canto_stanza_attr(st, "to"), "localhost");
    CHECK_STR(canto_stanza_text(canto_stanza_find(st, "{jabber:iq:register}query/username")),
              "tester");
    CHECK_STR(canto_stanza_text(canto_stanza_find(st, "{jabber:iq:register}query/password")),
              "n3w");
    fake_server_send(e.fs, "<iq type='result' id='%s' from='localhost'/>",
                     canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.n, 1, WAIT));
    CHECK_INT(rec.outcome, CANTO_IQ_RESULT);

    CHECK_INT(canto_register_remove_account(e.client, 2000, on_iq, &rec, NULL), 0);
    st = fake_server_next_named(e.fs, e.loop, "iq", "set", WAIT);
    REQUIRE(st);
    CHECK(canto_stanza_find(st, "{jabber:iq:register}query/remove") != NULL);
    CHECK(canto_stanza_find(st, "{jabber:iq:register}query/username") == NULL);
    fake_server_send(e.fs, "<iq type='result' id='%s'/>", canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &rec.n, 2, WAIT));
    CHECK_INT(rec.outcome, CANTO_IQ_RESULT);

    CHECK_INT(canto_register_change_password(e.client, "", 0, on_iq, &rec, NULL), CANTO_EINVAL);
    CHECK_INT(canto_register_change_password(e.client, "x", 0, NULL, &rec, NULL), CANTO_EINVAL);
    env_close(&e);
    return 0;
}

/* A registration that cannot connect reports FAILED once, after the fact. */
typedef struct reg_rec {
    int n;
    canto_register_outcome outcome;
    int error;
} reg_rec;

static void on_registered(void *ud, canto_register *reg, const canto_register_result *r)
{
    reg_rec *rec = ud;
    (void)reg;
    rec->n++;
    rec->outcome = r->outcome;
    rec->error = r->error;
    CHECK(r->detail != NULL);
}

static int test_register_unreachable(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    reg_rec rec = {0};
    canto_register_options o = CANTO_REGISTER_OPTIONS_INIT;
    o.host = "127.0.0.1";
    o.port = 1; /* nothing listens there */
    o.tls = CANTO_TLS_INSECURE_PLAINTEXT;
    o.timeout_ms = 2000;
    CHECK_INT(
        canto_register_account(loop, "localhost", "juliet", "pw", &o, on_registered, &rec, NULL),
        0);
    for (int i = 0; i < 100 && rec.n == 0; i++)
        canto_loop_run_once(loop, 50);
    CHECK_INT(rec.n, 1);
    CHECK_INT(rec.outcome, CANTO_REGISTER_FAILED);
    CHECK(rec.error < 0);

    /* Cancelled: no callback, nothing left on the loop. */
    canto_register *reg;
    CHECK_INT(
        canto_register_account(loop, "localhost", "juliet", "pw", &o, on_registered, &rec, &reg),
        0);
    canto_register_cancel(reg);
    canto_loop_run_once(loop, 50);
    CHECK_INT(rec.n, 1);

    CHECK_INT(
        canto_register_account(loop, "localhost", "@bad", "pw", &o, on_registered, &rec, NULL),
        CANTO_EJID_LOCAL);
    CHECK_INT(
        canto_register_account(loop, "localhost", "juliet", "", &o, on_registered, &rec, NULL),
        CANTO_EINVAL);
    canto_loop_free(loop);
    return 0;
}

#endif /* CANTO_TEST_REGISTER */

int main(void)
{
#ifdef CANTO_TEST_PING
    RUN(test_ping_answer);
    RUN(test_ping_send);
    RUN(test_ping_free_in_callback);
    RUN(test_ping_keepalive);
#endif
#ifdef CANTO_TEST_VERSION
    RUN(test_version_answer);
    RUN(test_version_query);
#endif
#ifdef CANTO_TEST_TIME
    RUN(test_time_reply);
    RUN(test_time_parse);
    RUN(test_time_client);
#endif
#ifdef CANTO_TEST_DELAY
    RUN(test_delay_datetime);
    RUN(test_delay_format);
    RUN(test_delay_get);
#endif
#ifdef CANTO_TEST_RECEIPTS
    RUN(test_receipts_helpers);
    RUN(test_receipts_client);
#endif
#ifdef CANTO_TEST_CHATSTATES
    RUN(test_chatstates_helpers);
    RUN(test_chatstates_client);
#endif
#ifdef CANTO_TEST_CARBONS
    RUN(test_carbons_unwrap);
    RUN(test_carbons_client);
#endif
#ifdef CANTO_TEST_BLOCKING
    RUN(test_blocking_client);
#endif
#ifdef CANTO_TEST_REGISTER
    RUN(test_register_submission);
    RUN(test_register_account_ops);
    RUN(test_register_unreachable);
#endif
    return CHECK_DONE();
}
