/* Service discovery and entity capabilities against a real server: Prosody
 * 0.12 started by tests/servers/prosody.sh in a temporary directory. Only the
 * public API and the built-in loop are used, on one thread.
 *
 * Covers: disco#info and disco#items of the server; alice asking bob's client
 * (full JID) for its info and items, with and without the caps node, and an
 * unknown node; caps: bob's directed presence carries a ver that alice's
 * disco verifies (the ver alice recomputes from bob's answer is the one bob
 * computed), then finds in her cache; a peer (carol, without the plugin) that
 * announces a ver its answer does not hash to is not believed.
 *
 * Exit 77 (skip) only when prosody is not installed. Set CANTO_TEST_VERBOSE=1
 * to see the XML traffic. */
#include "../unit/check.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <canto/canto.h>
#include <canto/disco.h>
#include <canto/forms.h>

#include "prosody_fixture.h"

/* Deadlines only matter when something hangs; valgrind is slow. */
#define WAIT_MS 60000

static int verbose;
static canto_loop *loop;

/* ------------------------------------------------------------------------ */
/* Clients */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Run the loop until *flag is non-zero or @p ms pass. @return 1 if it is. */
static int run_until(const int *flag, unsigned ms)
{
    return prosody_wait_for(loop, flag, 1, ms);
}

typedef struct account {
    const char *name;
    canto_client *client;
    canto_disco *disco;
    int connected;
    int disconnected;
} account;

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    account *a = ud;
    (void)c;
    if (st == CANTO_CLIENT_CONNECTED)
        a->connected = 1;
    if (st == CANTO_CLIENT_DISCONNECTED) {
        a->disconnected = 1;
        if (info && info->error && !a->connected)
            fprintf(stderr, "%s: %s\n", a->name, info->detail ? info->detail : "failed");
    }
}

static void trace(void *ud, int outgoing, const char *xml, size_t len)
{
    fprintf(stderr, "%s %s %.*s\n", (const char *)ud, outgoing ? ">>" : "<<", (int)len, xml);
}

static int account_open(account *a, const char *user, const char *resource)
{
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    if (verbose) {
        o.xml_trace = trace;
        o.xml_trace_user_data = (void *)a->name;
    }
    int rc = prosody_client_new(loop, user, resource, &o, &a->client);
    if (rc == 0)
        rc = canto_client_set_state_callback(a->client, on_state, a);
    return rc;
}

static const char *full_jid(const account *a)
{
    return canto_jid_str(canto_client_jid(a->client));
}

/* ------------------------------------------------------------------------ */
/* Requests */

typedef struct answer {
    int done;
    canto_disco_status status;
    canto_disco_info *info;
    size_t nitems;
    int has_items, has_conference, has_pubsub;
    canto_error_condition cond;
    char node[256];
} answer;

static void answer_reset(answer *a)
{
    canto_disco_info_free(a->info);
    memset(a, 0, sizeof(*a));
}

static void on_answer(void *ud, canto_disco *d, const canto_disco_response *r)
{
    answer *a = ud;
    (void)d;
    a->done = 1;
    a->status = r->status;
    if (r->info) {
        a->info = canto_disco_info_ref((canto_disco_info *)r->info);
        snprintf(a->node, sizeof(a->node), "%s",
                 canto_disco_info_node(r->info) ? canto_disco_info_node(r->info) : "");
    }
    a->has_items = r->items != NULL;
    if (r->items) {
        a->nitems = canto_disco_items_count(r->items);
        for (size_t i = 0; i < a->nitems; i++) {
            const char *jid;
            canto_disco_items_get(r->items, i, &jid, NULL, NULL);
            if (verbose)
                fprintf(stderr, "item of %s: %s\n", r->jid, jid);
            a->has_conference |= strcmp(jid, "conference.localhost") == 0;
            a->has_pubsub |= strcmp(jid, "pubsub.localhost") == 0;
        }
    }
    if (r->error)
        a->cond = r->error->condition;
    if (r->status == CANTO_DISCO_MALFORMED)
        fprintf(stderr, "malformed answer from %s: %s\n", r->jid, r->detail);
}

static int has_identity(const canto_disco_info *info, const char *category, const char *type,
                        const char *name)
{
    for (size_t i = 0; i < canto_disco_info_identity_count(info); i++) {
        const char *c, *t, *n;
        canto_disco_info_identity(info, i, &c, &t, &n, NULL);
        if (strcmp(c, category) == 0 && strcmp(t, type) == 0 &&
            (!name || (n && strcmp(n, name) == 0)))
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Caps notifications */

typedef struct caps_seen {
    int count;
    char jid[128];
    char node[128];
    char ver[CANTO_DISCO_VER_SIZE];
    int has_bob_feature;
    int carol_seen;
} caps_seen;

static void on_caps(void *ud, canto_disco *d, const char *jid, const char *node, const char *ver,
                    const canto_disco_info *info)
{
    caps_seen *s = ud;
    (void)d;
    if (strncmp(jid, "carol@", 6) == 0) {
        s->carol_seen = 1;
        return;
    }
    s->count++;
    snprintf(s->jid, sizeof(s->jid), "%s", jid);
    snprintf(s->node, sizeof(s->node), "%s", node);
    snprintf(s->ver, sizeof(s->ver), "%s", ver);
    s->has_bob_feature = canto_disco_info_has_feature(info, "urn:example:bob");
}

/* Carol has no disco plugin: she answers disco#info herself with features
 * that do not hash to the ver her presence announced. */
static int carol_asked;

static int carol_info(void *ud, canto_client *c, canto_stanza *st)
{
    (void)ud;
    canto_stanza *iq, *q, *el;
    carol_asked++;
    const canto_stanza *rq = canto_stanza_first_element(st);
    if (canto_stanza_new_iq(NULL, "result", canto_stanza_attr(st, "from"),
                            canto_stanza_attr(st, "id"), &iq) != 0)
        return 1;
    canto_stanza_add_child(iq, "query", CANTO_NS_DISCO_INFO, &q);
    if (canto_stanza_attr(rq, "node"))
        canto_stanza_set_attr(q, "node", canto_stanza_attr(rq, "node"));
    canto_stanza_add_child(q, "identity", NULL, &el);
    canto_stanza_set_attr(el, "category", "client");
    canto_stanza_set_attr(el, "type", "pc");
    canto_stanza_set_attr(el, "name", "Exodus 0.9.1");
    canto_stanza_add_child(q, "feature", NULL, &el);
    canto_stanza_set_attr(el, "var", "urn:forged");
    canto_client_send(c, iq);
    canto_stanza_free(iq);
    return 1;
}

/* ------------------------------------------------------------------------ */

static account alice = {"alice", NULL, NULL, 0, 0};
static account bob = {"bob", NULL, NULL, 0, 0};
static account carol = {"carol", NULL, NULL, 0, 0};

static int test_server(void)
{
    answer a;
    memset(&a, 0, sizeof(a));
    REQUIRE(canto_disco_query_info(alice.disco, "localhost", NULL, on_answer, &a, NULL) == 0);
    REQUIRE(run_until(&a.done, WAIT_MS));
    CHECK_INT(a.status, CANTO_DISCO_OK);
    CHECK(has_identity(a.info, "server", "im", NULL));
    CHECK_INT(canto_disco_info_has_feature(a.info, "urn:xmpp:ping"), 1);
    CHECK_INT(canto_disco_info_has_feature(a.info, CANTO_NS_DISCO_INFO), 1);
    CHECK_INT(canto_disco_info_has_feature(a.info, "urn:example:nothing"), 0);
    answer_reset(&a);

    REQUIRE(canto_disco_query_items(alice.disco, "localhost", NULL, on_answer, &a, NULL) == 0);
    REQUIRE(run_until(&a.done, WAIT_MS));
    CHECK_INT(a.status, CANTO_DISCO_OK);
    CHECK(a.has_items);
    CHECK(a.has_conference);
    CHECK(a.has_pubsub);
    answer_reset(&a);

    /* A component's own info. */
    REQUIRE(canto_disco_query_info(alice.disco, "conference.localhost", NULL, on_answer, &a,
                                   NULL) == 0);
    REQUIRE(run_until(&a.done, WAIT_MS));
    CHECK_INT(a.status, CANTO_DISCO_OK);
    CHECK(has_identity(a.info, "conference", "text", NULL));
    CHECK_INT(canto_disco_info_has_feature(a.info, "http://jabber.org/protocol/muc"), 1);
    answer_reset(&a);
    return 0;
}

/* Frees the disco object that called it. */
static void free_in_callback(void *ud, canto_disco *d, const canto_disco_response *r)
{
    int *done = ud;
    *done = r->status == CANTO_DISCO_OK ? 1 : 2;
    canto_disco_free(d);
}

static void count_callback(void *ud, canto_disco *d, const canto_disco_response *r)
{
    (void)d;
    (void)r;
    (*(int *)ud)++;
}

static int test_free(void)
{
    /* Freed inside its own callback. */
    canto_disco *tmp;
    int done = 0;
    REQUIRE(canto_disco_new(alice.client, NULL, &tmp) == 0);
    REQUIRE(canto_disco_query_info(tmp, "localhost", NULL, free_in_callback, &done, NULL) == 0);
    REQUIRE(run_until(&done, WAIT_MS));
    CHECK_INT(done, 1);

    /* Freed with requests pending: no callback afterwards. */
    int calls = 0;
    REQUIRE(canto_disco_new(alice.client, NULL, &tmp) == 0);
    CHECK_INT(canto_disco_query_info(tmp, "localhost", NULL, count_callback, &calls, NULL), 0);
    CHECK_INT(canto_disco_query_items(tmp, "localhost", NULL, count_callback, &calls, NULL), 0);
    canto_disco_free(tmp);
    prosody_run_for(loop, 1000);
    CHECK_INT(calls, 0);

    /* alice's own object still answers. */
    answer a;
    memset(&a, 0, sizeof(a));
    REQUIRE(canto_disco_query_info(bob.disco, full_jid(&alice), NULL, on_answer, &a, NULL) == 0);
    REQUIRE(run_until(&a.done, WAIT_MS));
    CHECK_INT(a.status, CANTO_DISCO_OK);
    CHECK_INT(canto_disco_info_has_feature(a.info, CANTO_NS_CAPS), 1);
    answer_reset(&a);
    return 0;
}

static int test_peer_info(void)
{
    answer a;
    memset(&a, 0, sizeof(a));
    REQUIRE(canto_disco_query_info(alice.disco, full_jid(&bob), NULL, on_answer, &a, NULL) == 0);
    REQUIRE(run_until(&a.done, WAIT_MS));
    CHECK_INT(a.status, CANTO_DISCO_OK);
    REQUIRE(a.info != NULL);
    CHECK(has_identity(a.info, "client", "pc", "Bob's client"));
    CHECK_INT(canto_disco_info_has_feature(a.info, "urn:example:bob"), 1);
    CHECK_INT(canto_disco_info_has_feature(a.info, CANTO_NS_CAPS), 1);
    CHECK_INT(canto_disco_info_has_feature(a.info, CANTO_NS_DISCO_ITEMS), 1);
    const canto_form *sw =
        canto_disco_info_find_extension(a.info, "urn:xmpp:dataforms:softwareinfo");
    CHECK(sw != NULL);
    CHECK_STR(canto_form_value(sw, "software"), "canto-test");
    /* The hash alice computes from the answer is the ver bob announces. */
    char mine[CANTO_DISCO_VER_SIZE];
    CHECK_INT(canto_disco_caps_hash(a.info, "sha-1", mine, sizeof(mine)), 0);
    CHECK_STR(mine, canto_disco_caps_ver(bob.disco));
    answer_reset(&a);

    /* With the caps node: echoed back, same content. */
    char node[256];
    snprintf(node, sizeof(node), "%s#%s", canto_disco_caps_node(bob.disco),
             canto_disco_caps_ver(bob.disco));
    REQUIRE(canto_disco_query_info(alice.disco, full_jid(&bob), node, on_answer, &a, NULL) == 0);
    REQUIRE(run_until(&a.done, WAIT_MS));
    CHECK_INT(a.status, CANTO_DISCO_OK);
    CHECK_STR(a.node, node);
    CHECK_INT(canto_disco_caps_verify(a.info, "sha-1", canto_disco_caps_ver(bob.disco)), 1);
    answer_reset(&a);

    /* An unknown node. */
    REQUIRE(canto_disco_query_info(alice.disco, full_jid(&bob), "urn:nope", on_answer, &a, NULL) ==
            0);
    REQUIRE(run_until(&a.done, WAIT_MS));
    CHECK_INT(a.status, CANTO_DISCO_ERROR);
    CHECK_INT(a.cond, CANTO_COND_ITEM_NOT_FOUND);
    answer_reset(&a);

    /* Items: empty; unknown node: item-not-found. */
    REQUIRE(canto_disco_query_items(alice.disco, full_jid(&bob), NULL, on_answer, &a, NULL) == 0);
    REQUIRE(run_until(&a.done, WAIT_MS));
    CHECK_INT(a.status, CANTO_DISCO_OK);
    CHECK(a.has_items);
    CHECK_INT(a.nitems, 0);
    answer_reset(&a);
    REQUIRE(canto_disco_query_items(alice.disco, full_jid(&bob), "x", on_answer, &a, NULL) == 0);
    REQUIRE(run_until(&a.done, WAIT_MS));
    CHECK_INT(a.status, CANTO_DISCO_ERROR);
    CHECK_INT(a.cond, CANTO_COND_ITEM_NOT_FOUND);
    answer_reset(&a);

    /* A resource that is not online: an error from the server. */
    REQUIRE(canto_disco_query_info(alice.disco, "bob@localhost/absent", NULL, on_answer, &a,
                                   NULL) == 0);
    REQUIRE(run_until(&a.done, WAIT_MS));
    CHECK_INT(a.status, CANTO_DISCO_ERROR);
    answer_reset(&a);

    /* A cancelled request never calls back. */
    unsigned req = 0;
    REQUIRE(canto_disco_query_info(alice.disco, "localhost", NULL, on_answer, &a, &req) == 0);
    CHECK_INT(canto_disco_cancel(alice.disco, req), 0);
    prosody_run_for(loop, 500);
    CHECK_INT(a.done, 0);
    return 0;
}

static int test_caps(void)
{
    caps_seen seen;
    memset(&seen, 0, sizeof(seen));
    REQUIRE(canto_disco_set_caps_callback(alice.disco, on_caps, &seen) == 0);

    /* Bob's directed presence: the filter adds <c/>, alice verifies it. */
    canto_stanza *pres;
    REQUIRE(canto_stanza_new_presence(NULL, NULL, full_jid(&alice), &pres) == 0);
    CHECK_INT(canto_client_send(bob.client, pres), 0);
    canto_stanza_free(pres);
    REQUIRE(run_until(&seen.count, WAIT_MS));
    CHECK_INT(seen.count, 1);
    CHECK_STR(seen.jid, full_jid(&bob));
    CHECK_STR(seen.node, "https://bob.example/caps");
    CHECK_STR(seen.ver, canto_disco_caps_ver(bob.disco));
    CHECK_INT(seen.has_bob_feature, 1);

    canto_disco_info *info = NULL;
    CHECK_INT(canto_disco_caps_of(alice.disco, full_jid(&bob), &info), 0);
    CHECK_INT(canto_disco_info_has_feature(info, "urn:example:bob"), 1);
    canto_disco_info_free(info);
    info = NULL;
    CHECK_INT(canto_disco_caps_lookup(alice.disco, canto_disco_caps_ver(bob.disco), &info), 0);
    canto_disco_info_free(info);
    CHECK_INT(canto_disco_caps_count(alice.disco), 1);

    /* The same presence again: known already, no second report. */
    REQUIRE(canto_stanza_new_presence(NULL, NULL, full_jid(&alice), &pres) == 0);
    CHECK_INT(canto_client_send(bob.client, pres), 0);
    canto_stanza_free(pres);
    prosody_run_for(loop, 500);
    CHECK_INT(seen.count, 1);

    /* Bob's features change: a new ver, verified again. */
    char old_ver[CANTO_DISCO_VER_SIZE];
    snprintf(old_ver, sizeof(old_ver), "%s", canto_disco_caps_ver(bob.disco));
    REQUIRE(canto_client_add_feature(bob.client, "urn:example:bob:v2") == 0);
    CHECK(strcmp(canto_disco_caps_ver(bob.disco), old_ver) != 0);
    REQUIRE(canto_stanza_new_presence(NULL, NULL, full_jid(&alice), &pres) == 0);
    CHECK_INT(canto_client_send(bob.client, pres), 0);
    canto_stanza_free(pres);
    uint64_t end = now_ms() + WAIT_MS;
    while (seen.count < 2 && now_ms() < end)
        canto_loop_run_once(loop, 50);
    CHECK_INT(seen.count, 2);
    CHECK_STR(seen.ver, canto_disco_caps_ver(bob.disco));
    CHECK_INT(canto_disco_caps_count(alice.disco), 2);

    /* Carol claims Exodus's ver but answers with something else. */
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "iq";
    m.type = "get";
    m.ns = CANTO_NS_DISCO_INFO;
    REQUIRE(canto_client_add_handler(carol.client, &m, carol_info, NULL, NULL) == 0);
    canto_stanza *c;
    REQUIRE(canto_stanza_new_presence(NULL, NULL, full_jid(&alice), &pres) == 0);
    REQUIRE(canto_stanza_add_child(pres, "c", CANTO_NS_CAPS, &c) == 0);
    canto_stanza_set_attr(c, "hash", "sha-1");
    canto_stanza_set_attr(c, "node", "http://code.google.com/p/exodus");
    canto_stanza_set_attr(c, "ver", "QgayPKawpkPSDYmwT/WM94uAlu0=");
    CHECK_INT(canto_client_send(carol.client, pres), 0);
    canto_stanza_free(pres);
    REQUIRE(run_until(&carol_asked, WAIT_MS));
    prosody_run_for(loop, 1000); /* let alice receive and check the answer */
    CHECK_INT(seen.carol_seen, 0);
    info = NULL;
    CHECK_INT(canto_disco_caps_lookup(alice.disco, "QgayPKawpkPSDYmwT/WM94uAlu0=", &info),
              CANTO_ENOTFOUND);
    CHECK_INT(canto_disco_caps_of(alice.disco, full_jid(&carol), &info), CANTO_ENOTFOUND);
    CHECK(info == NULL);
    /* Announcing it again does not make alice ask carol again. */
    REQUIRE(canto_stanza_new_presence(NULL, NULL, full_jid(&alice), &pres) == 0);
    REQUIRE(canto_stanza_add_child(pres, "c", CANTO_NS_CAPS, &c) == 0);
    canto_stanza_set_attr(c, "hash", "sha-1");
    canto_stanza_set_attr(c, "node", "http://code.google.com/p/exodus2");
    canto_stanza_set_attr(c, "ver", "QgayPKawpkPSDYmwT/WM94uAlu0=");
    CHECK_INT(canto_client_send(carol.client, pres), 0);
    canto_stanza_free(pres);
    prosody_run_for(loop, 1000);
    CHECK_INT(carol_asked, 1);

    /* Unavailable: bob's caps are forgotten (the cache keeps the ver). */
    REQUIRE(canto_stanza_new_presence(NULL, "unavailable", full_jid(&alice), &pres) == 0);
    CHECK_INT(canto_client_send(bob.client, pres), 0);
    canto_stanza_free(pres);
    end = now_ms() + WAIT_MS;
    int gone = 0;
    while (!gone && now_ms() < end) {
        canto_loop_run_once(loop, 50);
        info = NULL;
        gone = canto_disco_caps_of(alice.disco, full_jid(&bob), &info) == CANTO_ENOTFOUND;
        canto_disco_info_free(info);
    }
    CHECK(gone);
    info = NULL;
    CHECK_INT(canto_disco_caps_lookup(alice.disco, canto_disco_caps_ver(bob.disco), &info), 0);
    canto_disco_info_free(info);

    canto_disco_set_caps_callback(alice.disco, NULL, NULL);
    return 0;
}

static int setup_bob(void)
{
    canto_disco_options o = CANTO_DISCO_OPTIONS_INIT;
    o.caps_node = "https://bob.example/caps";
    REQUIRE(canto_client_set_identity(bob.client, "client", "pc", "Bob's client") == 0);
    REQUIRE(canto_client_add_feature(bob.client, "urn:example:bob") == 0);
    REQUIRE(canto_disco_new(bob.client, &o, &bob.disco) == 0);
    canto_form *form;
    canto_form_field *fd;
    REQUIRE(canto_form_new(NULL, CANTO_FORM_RESULT, &form) == 0);
    CHECK_INT(canto_form_add_field(form, CANTO_FORM_FIELD_HIDDEN, "FORM_TYPE", NULL, &fd), 0);
    CHECK_INT(canto_form_field_add_value(fd, "urn:xmpp:dataforms:softwareinfo"), 0);
    CHECK_INT(canto_form_add_field(form, CANTO_FORM_FIELD_TEXT_SINGLE, "software", NULL, &fd), 0);
    CHECK_INT(canto_form_field_set_value(fd, "canto-test"), 0);
    CHECK_INT(canto_form_add_field(form, CANTO_FORM_FIELD_TEXT_MULTI, "ip_version", NULL, &fd), 0);
    CHECK_INT(canto_form_field_add_value(fd, "ipv6"), 0);
    CHECK_INT(canto_form_field_add_value(fd, "ipv4"), 0);
    CHECK_INT(canto_disco_add_extension(bob.disco, form), 0);
    canto_form_free(form);
    return 0;
}

int main(void)
{
    verbose = getenv("CANTO_TEST_VERBOSE") != NULL;
    int rc = prosody_start("disco");
    if (rc != 0)
        return rc;

    int ok = canto_loop_new(NULL, &loop) == 0 && account_open(&alice, "alice", "desk") == 0 &&
             account_open(&bob, "bob", "phone") == 0 &&
             account_open(&carol, "carol", "laptop") == 0 &&
             canto_disco_new(alice.client, NULL, &alice.disco) == 0 && setup_bob() == 0;
    CHECK(ok);
    if (ok) {
        CHECK_INT(canto_client_connect(alice.client), 0);
        CHECK_INT(canto_client_connect(bob.client), 0);
        CHECK_INT(canto_client_connect(carol.client), 0);
        uint64_t end = now_ms() + WAIT_MS;
        while (!(alice.connected && bob.connected && carol.connected) && now_ms() < end &&
               !alice.disconnected && !bob.disconnected && !carol.disconnected)
            canto_loop_run_once(loop, 50);
        ok = alice.connected && bob.connected && carol.connected;
        CHECK(ok);
    }
    if (ok) {
        RUN(test_server);
        RUN(test_peer_info);
        RUN(test_caps);
        RUN(test_free);
    }

    canto_disco_free(alice.disco);
    canto_disco_free(bob.disco);
    canto_client_free(alice.client);
    canto_client_free(bob.client);
    canto_client_free(carol.client);
    canto_loop_free(loop);
    int result = CHECK_DONE();
    prosody_stop(result != 0);
    return result;
}
