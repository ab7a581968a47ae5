/* Client dispatch and requests against the scripted in-process server:
 * handler matching and priorities, removal inside callbacks, the automatic
 * service-unavailable answer, and iq requests that get exactly one callback
 * whatever happens (answer, spoofed answer, timeout, disconnect); the
 * liveness timings on simulated time, and older option struct versions. */
#include "check.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <canto/canto.h>

#include "fake_server.h"

#define BOUND "juliet@example.com/balcony"

typedef struct env {
    fake_server *fs;
    canto_loop *loop;
    canto_client *client;
} env;

static int setup(env *e, int reconnect_manual)
{
    memset(e, 0, sizeof(*e));
    if (fake_server_new(BOUND, &e->fs) || canto_loop_new(NULL, &e->loop))
        return -1;
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    fake_server_client_options(e->fs, &o);
    if (reconnect_manual)
        o.reconnect = CANTO_RECONNECT_MANUAL;
    if (canto_client_new(e->loop, "example.com", &o, &e->client))
        return -1;
    return fake_server_connect(e->fs, e->loop, e->client, 5000);
}

static void teardown(env *e)
{
    canto_client_free(e->client);
    fake_server_free(e->fs);
    canto_loop_free(e->loop);
}

/* --- handlers --------------------------------------------------------------- */

typedef struct seen {
    int calls[4];
    int order[8];
    int norder;
    int consume;
    unsigned remove_id;
    canto_client *client;
} seen;

static int h0(void *ud, canto_client *c, canto_stanza *st)
{
    seen *s = ud;
    (void)c, (void)st;
    s->calls[0]++;
    if (s->norder < 8)
        s->order[s->norder++] = 0;
    return 0;
}

static int h1(void *ud, canto_client *c, canto_stanza *st)
{
    seen *s = ud;
    (void)st;
    s->calls[1]++;
    if (s->norder < 8)
        s->order[s->norder++] = 1;
    if (s->remove_id)
        canto_client_remove_handler(c, s->remove_id); /* removes h2 mid-dispatch */
    return s->consume;
}

static int h2(void *ud, canto_client *c, canto_stanza *st)
{
    seen *s = ud;
    (void)c, (void)st;
    s->calls[2]++;
    if (s->norder < 8)
        s->order[s->norder++] = 2;
    return 0;
}

static int test_handlers(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    seen s = {{0}, {0}, 0, 0, 0, NULL};
    canto_handler_match m0 = CANTO_HANDLER_MATCH_INIT, m1 = CANTO_HANDLER_MATCH_INIT,
                        m2 = CANTO_HANDLER_MATCH_INIT;
    m0.name = "message";
    m0.type = "chat";
    m0.priority = -5;
    m1.name = "message";
    m1.from = "romeo@example.net"; /* bare: any resource */
    m1.priority = 10;
    m2.ns = "urn:test:x";
    unsigned id0, id1, id2;
    CHECK_INT(canto_client_add_handler(e.client, &m0, h0, &s, &id0), 0);
    CHECK_INT(canto_client_add_handler(e.client, &m1, h1, &s, &id1), 0);
    CHECK_INT(canto_client_add_handler(e.client, &m2, h2, &s, &id2), 0);

    fake_server_send(e.fs, "<message from='romeo@example.net/orchard' type='chat'>"
                           "<x xmlns='urn:test:x'/></message>");
    CHECK_INT(fake_server_sync(e.fs, e.loop, 3000), 0);
    CHECK_INT(s.calls[0], 1);
    CHECK_INT(s.calls[1], 1);
    CHECK_INT(s.calls[2], 1);
    CHECK_INT(s.norder, 3);
    CHECK(s.order[0] == 1 && s.order[1] == 2 && s.order[2] == 0); /* by priority */

    /* Not matching: other sender, other type. */
    fake_server_send(e.fs, "<message from='tybalt@example.net/x' type='normal'/>");
    CHECK_INT(fake_server_sync(e.fs, e.loop, 3000), 0);
    CHECK_INT(s.calls[0], 1);
    CHECK_INT(s.calls[1], 1);

    /* Consuming stops later handlers; removal inside a callback takes effect
     * for the stanza being dispatched. */
    s.consume = 0;
    s.remove_id = id2;
    fake_server_send(e.fs, "<message from='romeo@example.net/r' type='chat'>"
                           "<x xmlns='urn:test:x'/></message>");
    CHECK_INT(fake_server_sync(e.fs, e.loop, 3000), 0);
    CHECK_INT(s.calls[1], 2);
    CHECK_INT(s.calls[2], 1); /* removed before its turn */
    CHECK_INT(s.calls[0], 2);
    CHECK_INT(canto_client_remove_handler(e.client, id2), CANTO_ENOTFOUND);
    s.remove_id = 0;
    s.consume = 1;
    fake_server_send(e.fs, "<message from='romeo@example.net/r' type='chat'/>");
    CHECK_INT(fake_server_sync(e.fs, e.loop, 3000), 0);
    CHECK_INT(s.calls[1], 3);
    CHECK_INT(s.calls[0], 2); /* consumed by h1 */
    CHECK_INT(canto_client_remove_handler(e.client, id1), 0);
    CHECK_INT(canto_client_remove_handler(e.client, id0), 0);
    CHECK_INT(canto_client_add_handler(e.client, NULL, NULL, NULL, NULL), CANTO_EINVAL);
    m0.from = "not a jid@";
    CHECK(canto_client_add_handler(e.client, &m0, h0, &s, NULL) < 0);
    teardown(&e);
    return 0;
}

static int test_unhandled_iq(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    fake_server_discard(e.fs);
    fake_server_send(e.fs, "<iq type='get' id='q1' from='example.com'>"
                           "<query xmlns='urn:nobody'/></iq>");
    canto_stanza *reply = fake_server_next_named(e.fs, e.loop, "iq", "error", 3000);
    REQUIRE(reply != NULL);
    CHECK_STR(canto_stanza_attr(reply, "id"), "q1");
    CHECK_STR(canto_stanza_attr(reply, "to"), "example.com");
    canto_stanza_error err = CANTO_STANZA_ERROR_INIT;
    CHECK_INT(canto_stanza_get_error(reply, &err), 0);
    CHECK_INT(err.condition, CANTO_COND_SERVICE_UNAVAILABLE);
    CHECK_INT(err.type, CANTO_ERROR_CANCEL);
    canto_stanza_free(reply);
    /* Errors and results are never answered. */
    fake_server_send(e.fs,
                     "<iq type='error' id='q2' from='example.com'><error type='cancel'>"
                     "<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    fake_server_send(e.fs, "<iq type='result' id='q3' from='example.com'/>");
    CHECK_INT(fake_server_sync(e.fs, e.loop, 3000), 0);
    CHECK_INT(fake_server_pending(e.fs), 0);
    teardown(&e);
    return 0;
}

/* --- requests --------------------------------------------------------------- */

typedef struct answers {
    int calls;
    canto_iq_outcome last;
    int per_outcome[4];
    char text[64];
} answers;

static void on_answer(void *ud, canto_client *c, const canto_iq_response *r)
{
    answers *a = ud;
    (void)c;
    a->calls++;
    a->last = r->outcome;
    a->per_outcome[r->outcome]++;
    if (r->outcome == CANTO_IQ_ERROR)
        snprintf(a->text, sizeof(a->text), "%s",
                 r->error.condition_name ? r->error.condition_name : "");
}

static int calls_at_least(void *ud)
{
    answers *a = ud;
    return a->calls >= 1;
}

static canto_stanza *make_get(const char *to)
{
    canto_stanza *iq, *q;
    if (canto_stanza_new_iq(NULL, "get", to, "x", &iq))
        return NULL;
    canto_stanza_set_attr(iq, "id", NULL); /* let the client choose */
    canto_stanza_add_child(iq, "query", "urn:test:q", &q);
    return iq;
}

static int test_request_matching(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    fake_server_discard(e.fs);
    answers a = {0, 0, {0}, ""};
    canto_stanza *iq = make_get("service.example.com");
    REQUIRE(iq);
    unsigned req;
    CHECK_INT(canto_client_send_iq(e.client, iq, 5000, on_answer, &a, &req), 0);
    CHECK(canto_stanza_attr(iq, "id") == NULL); /* the caller's tree is untouched */
    canto_stanza *sent = fake_server_next_named(e.fs, e.loop, "iq", "get", 3000);
    REQUIRE(sent);
    const char *id = canto_stanza_attr(sent, "id");
    REQUIRE(id && strlen(id) >= 16); /* long random ids */
    char idcopy[64];
    snprintf(idcopy, sizeof(idcopy), "%s", id);
    canto_stanza_free(sent);
    CHECK_INT(canto_client_pending_iqs(e.client), 1);

    /* An answer from someone else is ignored... */
    fake_server_send(e.fs, "<iq type='result' id='%s' from='evil.example.com'/>", idcopy);
    fake_server_send(e.fs, "<iq type='result' id='%s'/>", idcopy); /* no from: not the service */
    CHECK_INT(fake_server_sync(e.fs, e.loop, 3000), 0);
    CHECK_INT(a.calls, 0);
    /* ...the right one counts, once. */
    fake_server_send(e.fs,
                     "<iq type='error' id='%s' from='service.example.com'><error type='cancel'>"
                     "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                     idcopy);
    fake_server_send(e.fs, "<iq type='result' id='%s' from='service.example.com'/>", idcopy);
    CHECK_INT(fake_server_sync(e.fs, e.loop, 3000), 0);
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.last, CANTO_IQ_ERROR);
    CHECK_STR(a.text, "item-not-found");
    CHECK_INT(canto_client_pending_iqs(e.client), 0);
    CHECK_INT(canto_client_cancel_iq(e.client, req), CANTO_ENOTFOUND);

    /* A request to our own account: no `from` or our bare JID are fine. */
    answers b = {0, 0, {0}, ""};
    canto_stanza *own = make_get(NULL);
    CHECK_INT(canto_client_send_iq(e.client, own, 5000, on_answer, &b, NULL), 0);
    sent = fake_server_next_named(e.fs, e.loop, "iq", "get", 3000);
    REQUIRE(sent);
    fake_server_send(e.fs, "<iq type='result' id='%s' from='romeo@example.com'/>",
                     canto_stanza_attr(sent, "id"));
    fake_server_send(e.fs, "<iq type='result' id='%s' from='juliet@example.com'/>",
                     canto_stanza_attr(sent, "id"));
    canto_stanza_free(sent);
    CHECK_INT(fake_server_sync(e.fs, e.loop, 3000), 0);
    CHECK_INT(b.calls, 1);
    CHECK_INT(b.last, CANTO_IQ_RESULT);

    /* Bad requests are refused without a callback. */
    canto_stanza *notiq;
    CHECK_INT(canto_stanza_new_message(NULL, "chat", "x@y", NULL, "hi", &notiq), 0);
    CHECK_INT(canto_client_send_iq(e.client, notiq, 0, on_answer, &b, NULL), CANTO_EINVAL);
    canto_stanza_free(notiq);
    canto_stanza *result;
    CHECK_INT(canto_stanza_new_iq(NULL, "result", NULL, "r", &result), 0);
    CHECK_INT(canto_client_send_iq(e.client, result, 0, on_answer, &b, NULL), CANTO_EINVAL);
    canto_stanza_free(result);
    CHECK_INT(b.calls, 1);
    canto_stanza_free(own);
    canto_stanza_free(iq);
    teardown(&e);
    return 0;
}

static int test_request_timeout(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    answers a = {0, 0, {0}, ""};
    canto_stanza *iq = make_get("service.example.com");
    CHECK_INT(canto_client_send_iq(e.client, iq, 200, on_answer, &a, NULL), 0);
    CHECK(fake_server_wait(e.fs, e.loop, calls_at_least, &a, 3000));
    fake_server_run(e.fs, e.loop, 300); /* nothing more may come */
    CHECK_INT(a.calls, 1);
    CHECK_INT(a.last, CANTO_IQ_TIMEOUT);
    /* A late answer after the timeout is not delivered a second time. */
    canto_stanza *sent = fake_server_next_named(e.fs, e.loop, "iq", "get", 1000);
    if (sent) {
        fake_server_send(e.fs, "<iq type='result' id='%s' from='service.example.com'/>",
                         canto_stanza_attr(sent, "id"));
        canto_stanza_free(sent);
    }
    CHECK_INT(fake_server_sync(e.fs, e.loop, 3000), 0);
    CHECK_INT(a.calls, 1);
    canto_stanza_free(iq);
    teardown(&e);
    return 0;
}

static int all_answered(void *ud)
{
    answers *a = ud;
    return a->calls >= 50;
}

static int test_disconnect_cancels(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    answers a = {0, 0, {0}, ""};
    canto_stanza *iq = make_get("service.example.com");
    for (int i = 0; i < 50; i++)
        CHECK_INT(canto_client_send_iq(e.client, iq, 60000, on_answer, &a, NULL), 0);
    CHECK_INT(canto_client_pending_iqs(e.client), 50);
    fake_server_drop(e.fs); /* the connection breaks */
    CHECK(fake_server_wait(e.fs, e.loop, all_answered, &a, 5000));
    fake_server_run(e.fs, e.loop, 200);
    CHECK_INT(a.calls, 50);
    CHECK_INT(a.per_outcome[CANTO_IQ_CANCELED], 50);
    CHECK_INT(canto_client_pending_iqs(e.client), 0);
    CHECK_INT(canto_client_get_state(e.client), CANTO_CLIENT_DISCONNECTED);
    CHECK_INT(canto_client_send_iq(e.client, iq, 0, on_answer, &a, NULL), CANTO_ENOTCONN);

    /* Freeing the client with requests pending also answers each once. */
    CHECK_INT(fake_server_connect(e.fs, e.loop, e.client, 5000), 0);
    answers b = {0, 0, {0}, ""};
    for (int i = 0; i < 5; i++)
        CHECK_INT(canto_client_send_iq(e.client, iq, 60000, on_answer, &b, NULL), 0);
    canto_client_free(e.client);
    e.client = NULL;
    CHECK_INT(b.calls, 5);
    CHECK_INT(b.per_outcome[CANTO_IQ_CANCELED], 5);
    canto_stanza_free(iq);
    teardown(&e);
    return 0;
}

static void free_in_callback(void *ud, canto_client *c, const canto_iq_response *r)
{
    int *calls = ud;
    (void)r;
    (*calls)++;
    canto_client_free(c); /* allowed: the client goes once the callback returns */
}

static int test_free_inside_callback(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    int calls = 0;
    canto_stanza *iq = make_get("service.example.com");
    CHECK_INT(canto_client_send_iq(e.client, iq, 100, free_in_callback, &calls, NULL), 0);
    CHECK_INT(canto_client_send_iq(e.client, iq, 60000, free_in_callback, &calls, NULL), 0);
    for (int i = 0; i < 40 && calls < 2; i++)
        canto_loop_run_once(e.loop, 50);
    CHECK_INT(calls, 2); /* the timeout, then the cancellation while freeing */
    e.client = NULL;
    canto_stanza_free(iq);
    teardown(&e);
    return 0;
}

typedef struct states {
    int disconnected;
    int error;
    canto_stream_condition cond;
} states;

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    states *s = ud;
    (void)c;
    if (st == CANTO_CLIENT_DISCONNECTED) {
        s->disconnected++;
        s->error = info ? info->error : 0;
        s->cond = info ? info->condition : CANTO_STREAM_COND_NONE;
    }
}

static int is_connected_to(void *ud)
{
    return fake_server_connected(ud);
}

static int gave_up(void *ud)
{
    return ((states *)ud)->disconnected > 0;
}

static int test_see_other_host(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    fake_server *other;
    REQUIRE(fake_server_new(BOUND, &other) == 0);
    states s = {0, 0, CANTO_STREAM_COND_NONE};
    canto_client_set_state_callback(e.client, on_state, &s);
    fake_server *servers[2] = {e.fs, other};
    /* Bounce between two servers: the client follows five redirects and
     * refuses the sixth. */
    int followed = 0;
    for (int i = 0; i < 6; i++) {
        fake_server *from = servers[i % 2], *to = servers[(i + 1) % 2];
        fake_server_send(from,
                         "<stream:error><see-other-host "
                         "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>127.0.0.1:%u"
                         "</see-other-host></stream:error></stream:stream>",
                         fake_server_port(to));
        fake_server_run(from, e.loop, 100);
        if (i < 5) {
            if (fake_server_wait(to, e.loop, is_connected_to, to, 5000) &&
                fake_server_wait(to, e.loop, is_connected_to, to, 100))
                followed++;
            for (int k = 0; k < 50 && canto_client_get_state(e.client) != CANTO_CLIENT_CONNECTED;
                 k++)
                fake_server_run(to, e.loop, 20);
        }
    }
    CHECK_INT(followed, 5);
    CHECK(fake_server_wait(e.fs, e.loop, gave_up, &s, 5000) ||
          fake_server_wait(other, e.loop, gave_up, &s, 5000));
    CHECK_INT(s.disconnected, 1);
    CHECK_INT(s.error, CANTO_ESTREAM);
    CHECK_INT(s.cond, CANTO_STREAM_COND_SEE_OTHER_HOST);
    fake_server_free(other);
    teardown(&e);
    return 0;
}

static int test_features(void)
{
    canto_loop *loop;
    canto_client *c;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    REQUIRE(canto_client_new(loop, "example.com", NULL, &c) == 0);
    CHECK_INT(canto_client_add_feature(c, "urn:b"), 0);
    CHECK_INT(canto_client_add_feature(c, "urn:a"), 0);
    CHECK_INT(canto_client_add_feature(c, "urn:b"), 0); /* a second user */
    CHECK_STR(canto_client_feature(c, 0), "urn:a");
    CHECK_STR(canto_client_feature(c, 1), "urn:b");
    CHECK(canto_client_feature(c, 2) == NULL);
    CHECK_INT(canto_client_remove_feature(c, "urn:b"), 0);
    CHECK_STR(canto_client_feature(c, 1), "urn:b"); /* still announced once */
    CHECK_INT(canto_client_remove_feature(c, "urn:a"), 0);
    CHECK_STR(canto_client_feature(c, 0), "urn:b");
    CHECK_INT(canto_client_remove_feature(c, "urn:b"), 0);
    CHECK(canto_client_feature(c, 0) == NULL);
    CHECK_INT(canto_client_remove_feature(c, "urn:b"), CANTO_ENOTFOUND);
    const char *cat, *type, *name;
    CHECK_INT(canto_client_get_identity(c, &cat, &type, &name), 0);
    CHECK_STR(cat, "client");
    CHECK_STR(type, "pc");
    CHECK_INT(canto_client_set_identity(c, "client", "bot", "Canto"), 0);
    CHECK_INT(canto_client_get_identity(c, &cat, &type, &name), 0);
    CHECK_STR(type, "bot");
    CHECK_STR(name, "Canto");
    canto_client_free(c);
    canto_loop_free(loop);
    return 0;
}

/* --- liveness on simulated time ------------------------------------------- */

static uint64_t fake_clock(void *ud)
{
    return *(const uint64_t *)ud;
}

/* A server and a loop whose clock moves only when the test says: the
 * liveness timers then fire at exact instants, however slow the machine. */
static int clocked_setup(env *e, uint64_t *now)
{
    memset(e, 0, sizeof(*e));
    canto_loop_options lo = CANTO_LOOP_OPTIONS_INIT;
    lo.now_ms = fake_clock;
    lo.clock_user_data = now;
    return fake_server_new(BOUND, &e->fs) || canto_loop_new(&lo, &e->loop) ? -1 : 0;
}

static void advance(env *e, uint64_t *now, uint64_t ms)
{
    *now += ms;
    fake_server_run(e->fs, e->loop, 50);
}

static int is_ping(const canto_stanza *st)
{
    return st && canto_stanza_child(st, "ping", "urn:xmpp:ping") != NULL;
}

static int test_dead_connection(void)
{
    uint64_t now = 1000000;
    env e;
    REQUIRE(clocked_setup(&e, &now) == 0);
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    fake_server_client_options(e.fs, &o);
    o.reconnect = CANTO_RECONNECT_MANUAL;
    o.ping_after_ms = 2000;
    o.dead_after_ms = 1000;
    REQUIRE(canto_client_new(e.loop, "example.com", &o, &e.client) == 0);
    states s = {0, 0, CANTO_STREAM_COND_NONE};
    canto_client_set_state_callback(e.client, on_state, &s);
    REQUIRE(fake_server_connect(e.fs, e.loop, e.client, 5000) == 0);
    fake_server_discard(e.fs);

    /* The server falls silent from here on: it never answers the ping. */
    advance(&e, &now, 1999);
    CHECK_INT(fake_server_pending(e.fs), 0);
    advance(&e, &now, 1);
    canto_stanza *ping = fake_server_next_named(e.fs, e.loop, "iq", "get", 1000);
    CHECK(is_ping(ping));
    canto_stanza_free(ping);
    advance(&e, &now, 999);
    CHECK_INT(s.disconnected, 0);
    CHECK_INT(canto_client_get_state(e.client), CANTO_CLIENT_CONNECTED);
    advance(&e, &now, 1);
    CHECK(fake_server_wait(e.fs, e.loop, gave_up, &s, 2000));
    CHECK_INT(s.disconnected, 1);
    CHECK_INT(s.error, CANTO_ETIMEDOUT);
    teardown(&e);
    return 0;
}

static int test_options_version_1(void)
{
    uint64_t now = 1000000;
    env e;
    REQUIRE(clocked_setup(&e, &now) == 0);
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    fake_server_client_options(e.fs, &o);
    o.reconnect = CANTO_RECONNECT_MANUAL;

    o.version = 0;
    CHECK_INT(canto_client_new(e.loop, "example.com", &o, &e.client), CANTO_EINVAL);
    o.version = CANTO_CLIENT_OPTIONS_VERSION + 1;
    CHECK_INT(canto_client_new(e.loop, "example.com", &o, &e.client), CANTO_EINVAL);

    /* A program built against version 1 hands over a struct that ends where
     * ping_after_ms begins. Exactly that much is allocated, so that reading
     * past it shows up under AddressSanitizer and valgrind. */
    o.version = 1;
    o.ping_after_ms = 10; /* not passed: must not matter */
    size_t v1_size = offsetof(canto_client_options, ping_after_ms);
    unsigned char *v1 = malloc(v1_size);
    REQUIRE(v1 != NULL);
    memcpy(v1, &o, v1_size);
    CHECK_INT(canto_client_new(e.loop, "example.com", (const canto_client_options *)(void *)v1,
                               &e.client),
              0);
    free(v1);
    REQUIRE(e.client != NULL);
    REQUIRE(fake_server_connect(e.fs, e.loop, e.client, 5000) == 0);
    fake_server_discard(e.fs);

    /* The defaults apply: the first ping after 120 s of silence. */
    advance(&e, &now, 119999);
    CHECK_INT(fake_server_pending(e.fs), 0);
    advance(&e, &now, 1);
    canto_stanza *ping = fake_server_next_named(e.fs, e.loop, "iq", "get", 1000);
    CHECK(is_ping(ping));
    canto_stanza_free(ping);
    CHECK_INT(canto_client_get_state(e.client), CANTO_CLIENT_CONNECTED);
    teardown(&e);
    return 0;
}

int main(void)
{
    RUN(test_features);
    RUN(test_see_other_host);
    RUN(test_handlers);
    RUN(test_unhandled_iq);
    RUN(test_request_matching);
    RUN(test_request_timeout);
    RUN(test_disconnect_cancels);
    RUN(test_free_inside_callback);
    RUN(test_dead_connection);
    RUN(test_options_version_1);
    return CHECK_DONE();
}
