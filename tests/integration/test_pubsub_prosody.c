/* Publish-subscribe and PEP against Prosody 0.12 (tests/servers/prosody.sh,
 * service pubsub.localhost, mod_pep on the accounts). Public API and the
 * built-in loop only, one thread.
 *
 * pubsub.localhost (where prosody.sh makes alice an admin, which Prosody
 * requires for creating nodes): alice creates a node with a configuration
 * form, finds it by discovery, bob and carol subscribe (bob reads and sets
 * his subscription options), alice reconfigures it through its form,
 * publishes with item ids and publish-options, retracts, purges and deletes
 * it; bob and carol each see every event; bob retrieves all items, one by id
 * and the latest one, and lists his subscriptions. PEP: alice and bob share a presence subscription
 * (raw presence stanzas), alice watches the nick node (+notify in her caps, via the disco plugin),
 * bob publishes his nick, alice sees it.
 *
 * Exit 77 (skip) only when prosody is not installed. CANTO_TEST_VERBOSE=1
 * prints the XML traffic. */
#include "../unit/check.h"

#include <stdlib.h>

#include <canto/canto.h>
#include <canto/disco.h>
#include <canto/forms.h>
#include <canto/pubsub.h>

#include "prosody_fixture.h"

#define WAIT_MS 30000u
#define NODE "canto-test-node"

static int verbose;
static canto_loop *loop;
static char service[128] = "pubsub.localhost";

/* --- accounts ------------------------------------------------------------- */

typedef struct event_log {
    int counts[6];
    int total;
    char item_id[64], payload_text[128], service[128], node[128];
} event_log;

typedef struct account {
    const char *user;
    canto_client *client;
    canto_pubsub *ps;
    canto_disco *disco;
    int connected, failed;
    event_log events;
} account;

static account alice = {.user = "alice"}, bob = {.user = "bob"}, carol = {.user = "carol"};

static void on_state(void *ud, canto_client *c, canto_client_state state,
                     const canto_disconnect_info *info)
{
    account *a = ud;
    (void)c;
    if (state == CANTO_CLIENT_CONNECTED)
        a->connected = 1;
    else if (state == CANTO_CLIENT_DISCONNECTED) {
        a->failed = 1;
        if (info && info->error)
            fprintf(stderr, "%s disconnected: %s\n", a->user, info->detail ? info->detail : "?");
    }
}

static void on_trace(void *ud, int outgoing, const char *xml, size_t len)
{
    fprintf(stderr, "[%s] %s %.*s\n", (const char *)ud, outgoing ? "SEND" : "RECV", (int)len, xml);
}

static int account_new(account *a)
{
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    o.reconnect = CANTO_RECONNECT_MANUAL;
    if (verbose) {
        o.xml_trace = on_trace;
        o.xml_trace_user_data = (void *)a->user;
    }
    if (prosody_client_new(loop, a->user, "pubsub", &o, &a->client) != 0 ||
        canto_client_set_state_callback(a->client, on_state, a) != 0 ||
        canto_disco_new(a->client, NULL, &a->disco) != 0 ||
        canto_pubsub_new(a->client, &a->ps) != 0)
        return -1;
    return canto_client_connect(a->client);
}

/* Every account connected, or one of them gave up. */
static int all_settled(void *unused)
{
    (void)unused;
    return (alice.connected && bob.connected && carol.connected) || alice.failed || bob.failed ||
           carol.failed;
}

static void account_free(account *a)
{
    canto_pubsub_free(a->ps);
    canto_disco_free(a->disco);
    canto_client_free(a->client);
}

static int send_presence(account *a, const char *type, const char *to)
{
    return prosody_send_presence(a->client, type, to);
}

static void on_event(void *ud, canto_pubsub *ps, const canto_pubsub_event *ev)
{
    event_log *log = ud;
    (void)ps;
    log->total++;
    log->counts[ev->type]++;
    snprintf(log->service, sizeof(log->service), "%s", ev->service);
    snprintf(log->node, sizeof(log->node), "%s", ev->node);
    if (ev->n_items) {
        snprintf(log->item_id, sizeof(log->item_id), "%s", ev->items[0].id ? ev->items[0].id : "");
        const char *text = ev->items[0].payload ? canto_stanza_text(ev->items[0].payload) : NULL;
        snprintf(log->payload_text, sizeof(log->payload_text), "%s", text ? text : "");
    }
}

/* --- requests ------------------------------------------------------------- */

typedef struct outcome {
    int done;
    canto_iq_outcome how;
    canto_error_condition cond;
    int found_node;
    size_t n_items, n_subs;
    char item_id[64], payload_text[128], sub_state[32], sub_node[128];
    canto_form *form;
} outcome;

static void on_result(void *ud, canto_pubsub *ps, const canto_pubsub_result *r)
{
    outcome *o = ud;
    (void)ps;
    o->done++;
    o->how = r->response->outcome;
    o->cond = r->response->outcome == CANTO_IQ_ERROR ? r->response->error.condition : 0;
    for (size_t i = 0; i < r->n_nodes; i++)
        if (r->nodes[i].node && strcmp(r->nodes[i].node, NODE) == 0)
            o->found_node = 1;
    for (size_t i = 0; i < r->n_nodes; i++)
        if (r->nodes[i].name && strcmp(r->nodes[i].name, "item-1") == 0)
            o->found_node = 1;
    o->n_items = r->n_items;
    if (r->n_items) {
        snprintf(o->item_id, sizeof(o->item_id), "%s", r->items[0].id ? r->items[0].id : "");
        const char *text = r->items[0].payload ? canto_stanza_text(r->items[0].payload) : NULL;
        snprintf(o->payload_text, sizeof(o->payload_text), "%s", text ? text : "");
    }
    o->n_subs = r->n_subscriptions;
    if (r->n_subscriptions) {
        snprintf(o->sub_state, sizeof(o->sub_state), "%s",
                 r->subscriptions[0].state ? r->subscriptions[0].state : "");
        snprintf(o->sub_node, sizeof(o->sub_node), "%s",
                 r->subscriptions[0].node ? r->subscriptions[0].node : "");
    }
    canto_form_free(o->form);
    o->form = NULL;
    if (r->form)
        canto_form_copy(r->form, &o->form);
}

/* Wait for @p o's next answer and say whether it was a result. */
static int answered_ok(outcome *o, int before)
{
    if (!prosody_wait_for(loop, &o->done, before + 1, WAIT_MS))
        return 0;
    if (o->how != CANTO_IQ_RESULT)
        fprintf(stderr, "request failed: outcome %d, %s\n", (int)o->how,
                canto_error_condition_name(o->cond));
    return o->how == CANTO_IQ_RESULT;
}

typedef struct both_wait {
    canto_pubsub_event_type type;
    int want;
} both_wait;

static int both_reached(void *arg)
{
    const both_wait *w = arg;
    return bob.events.counts[w->type] >= w->want && carol.events.counts[w->type] >= w->want;
}

static int both_saw(canto_pubsub_event_type type, int want)
{
    both_wait w = {type, want};
    return prosody_run_until(loop, both_reached, &w, WAIT_MS);
}

static int set_field(canto_form *form, canto_form_field_type type, const char *var,
                     const char *value)
{
    canto_form_field *f = canto_form_get_field(form, var);
    if (!f && canto_form_add_field(form, type, var, NULL, &f) != 0)
        return -1;
    return canto_form_field_set_value(f, value);
}

/* --- tests ---------------------------------------------------------------- */

static int test_node_life(void)
{
    outcome o = {0};
    int n = 0;

    /* Create with a configuration form. */
    canto_form *conf;
    REQUIRE(canto_form_new(NULL, CANTO_FORM_SUBMIT, &conf) == 0);
    set_field(conf, CANTO_FORM_FIELD_HIDDEN, "FORM_TYPE", CANTO_NS_PUBSUB_NODE_CONFIG);
    set_field(conf, CANTO_FORM_FIELD_NONE, "pubsub#title", "Canto test");
    set_field(conf, CANTO_FORM_FIELD_NONE, "pubsub#access_model", "open");
    CHECK_INT(canto_pubsub_create(alice.ps, service, NODE, conf, on_result, &o), 0);
    canto_form_free(conf);
    REQUIRE(answered_ok(&o, n++));

    /* Discovery finds it. */
    CHECK_INT(canto_pubsub_discover_nodes(alice.ps, service, NULL, on_result, &o), 0);
    REQUIRE(answered_ok(&o, n++));
    CHECK(o.found_node);

    /* Two subscribers, each watching the node. */
    CHECK_INT(canto_pubsub_watch(bob.ps, service, NODE, on_event, &bob.events, NULL), 0);
    CHECK_INT(canto_pubsub_watch(carol.ps, service, NODE, on_event, &carol.events, NULL), 0);
    outcome ob = {0}, oc = {0};
    CHECK_INT(canto_pubsub_subscribe(bob.ps, service, NODE, NULL, NULL, on_result, &ob), 0);
    CHECK_INT(canto_pubsub_subscribe(carol.ps, service, NODE, NULL, NULL, on_result, &oc), 0);
    REQUIRE(answered_ok(&ob, 0));
    REQUIRE(answered_ok(&oc, 0));
    CHECK_STR(ob.sub_state, "subscribed");
    int nb = 1;
    CHECK_INT(canto_pubsub_subscriptions(bob.ps, service, NULL, on_result, &ob), 0);
    REQUIRE(answered_ok(&ob, nb++));
    CHECK_INT(ob.n_subs, 1);
    CHECK_STR(ob.sub_node, NODE);
    CHECK_STR(ob.sub_state, "subscribed");

    /* Subscription options: Prosody 0.12 offers pubsub#include_body; bob
     * turns it on and reads it back. */
    CHECK_INT(canto_pubsub_get_options(bob.ps, service, NODE, NULL, NULL, on_result, &ob), 0);
    REQUIRE(answered_ok(&ob, nb++));
    REQUIRE(ob.form);
    CHECK_STR(canto_form_value(ob.form, "FORM_TYPE"), CANTO_NS_PUBSUB_SUBSCRIBE_OPTIONS);
    REQUIRE(canto_form_get_field(ob.form, "pubsub#include_body") != NULL);
    canto_form *opts;
    REQUIRE(canto_form_make_submit(ob.form, &opts) == 0);
    CHECK_INT(canto_form_field_set_bool(canto_form_get_field(opts, "pubsub#include_body"), 1), 0);
    CHECK_INT(canto_pubsub_set_options(bob.ps, service, NODE, NULL, NULL, opts, on_result, &ob), 0);
    canto_form_free(opts);
    REQUIRE(answered_ok(&ob, nb++));
    CHECK_INT(canto_pubsub_get_options(bob.ps, service, NODE, NULL, NULL, on_result, &ob), 0);
    REQUIRE(answered_ok(&ob, nb++));
    const char *body_opt = ob.form ? canto_form_value(ob.form, "pubsub#include_body") : NULL;
    CHECK(body_opt && (strcmp(body_opt, "1") == 0 || strcmp(body_opt, "true") == 0));

    /* Configure through the node's form: title kept from creation, changed;
     * configuration notifications asked for when the server offers them. */
    CHECK_INT(canto_pubsub_get_config(alice.ps, service, NODE, on_result, &o), 0);
    REQUIRE(answered_ok(&o, n++));
    REQUIRE(o.form);
    CHECK_STR(canto_form_value(o.form, "pubsub#title"), "Canto test");
    int notify_config = canto_form_get_field(o.form, "pubsub#notify_config") != NULL;
    canto_form *submit;
    REQUIRE(canto_form_make_submit(o.form, &submit) == 0);
    set_field(submit, CANTO_FORM_FIELD_TEXT_SINGLE, "pubsub#title", "Renamed");
    if (notify_config)
        canto_form_field_set_bool(canto_form_get_field(submit, "pubsub#notify_config"), 1);
    CHECK_INT(canto_pubsub_configure(alice.ps, service, NODE, submit, on_result, &o), 0);
    canto_form_free(submit);
    REQUIRE(answered_ok(&o, n++));
    if (notify_config) {
        /* Asked for in the same submit that turns it on: a server may or may
         * not notify that change; a second change must be notified. */
        CHECK_INT(canto_pubsub_get_config(alice.ps, service, NODE, on_result, &o), 0);
        REQUIRE(answered_ok(&o, n++));
        CHECK_STR(canto_form_value(o.form, "pubsub#title"), "Renamed");
        REQUIRE(canto_form_make_submit(o.form, &submit) == 0);
        set_field(submit, CANTO_FORM_FIELD_TEXT_SINGLE, "pubsub#title", "Renamed again");
        CHECK_INT(canto_pubsub_configure(alice.ps, service, NODE, submit, on_result, &o), 0);
        canto_form_free(submit);
        REQUIRE(answered_ok(&o, n++));
        CHECK(both_saw(CANTO_PUBSUB_EVENT_CONFIGURATION, 1));
    } else {
        /* Prosody 0.12 has no pubsub#notify_config and never sends
         * <configuration/> events; test_pubsub.c covers their parsing. */
        fprintf(stderr, "server offers no pubsub#notify_config: configuration events not tested "
                        "here (unit test test_pubsub covers them)\n");
    }

    /* Publish with an item id and publish-options that the node meets:
     * both subscribers get the payload. */
    canto_form *popts;
    REQUIRE(canto_form_new(NULL, CANTO_FORM_SUBMIT, &popts) == 0);
    set_field(popts, CANTO_FORM_FIELD_HIDDEN, "FORM_TYPE", CANTO_NS_PUBSUB_PUBLISH_OPTIONS);
    set_field(popts, CANTO_FORM_FIELD_NONE, "pubsub#access_model", "open");
    canto_stanza *payload;
    const char *xml = "<entry xmlns='urn:canto:example'>first</entry>";
    REQUIRE(canto_stanza_parse(NULL, xml, strlen(xml), &payload) == 0);
    CHECK_INT(
        canto_pubsub_publish(alice.ps, service, NODE, "item-1", payload, popts, on_result, &o), 0);
    REQUIRE(answered_ok(&o, n++));
    CHECK_STR(o.item_id, "item-1");
    CHECK(both_saw(CANTO_PUBSUB_EVENT_ITEMS, 1));
    CHECK_STR(bob.events.item_id, "item-1");
    CHECK_STR(bob.events.payload_text, "first");
    CHECK_STR(carol.events.item_id, "item-1");
    CHECK_STR(carol.events.payload_text, "first");
    CHECK_STR(carol.events.service, service);
    CHECK_STR(carol.events.node, NODE);

    /* Options the node does not meet: refused (precondition-not-met), which
     * shows that the options reached the service; nobody is notified. */
    set_field(popts, CANTO_FORM_FIELD_NONE, "pubsub#access_model", "whitelist");
    CHECK_INT(
        canto_pubsub_publish(alice.ps, service, NODE, "item-x", payload, popts, on_result, &o), 0);
    REQUIRE(prosody_wait_for(loop, &o.done, ++n, WAIT_MS));
    CHECK_INT(o.how, CANTO_IQ_ERROR);
    canto_stanza_free(payload);
    canto_form_free(popts);

    /* A second item, so that "latest 1" and "by id" pick different ones. */
    xml = "<entry xmlns='urn:canto:example'>second</entry>";
    REQUIRE(canto_stanza_parse(NULL, xml, strlen(xml), &payload) == 0);
    CHECK_INT(canto_pubsub_publish(alice.ps, service, NODE, "item-2", payload, NULL, on_result, &o),
              0);
    canto_stanza_free(payload);
    REQUIRE(answered_ok(&o, n++));
    CHECK(both_saw(CANTO_PUBSUB_EVENT_ITEMS, 2));
    CHECK_STR(bob.events.item_id, "item-2");
    CHECK_STR(carol.events.payload_text, "second");

    /* Retrieve: all, latest 1, by id; discover the node's items. */
    CHECK_INT(canto_pubsub_get_items(bob.ps, service, NODE, NULL, 0, 0, on_result, &ob), 0);
    REQUIRE(answered_ok(&ob, nb++));
    CHECK_INT(ob.n_items, 2);
    CHECK_INT(canto_pubsub_get_items(bob.ps, service, NODE, NULL, 0, 1, on_result, &ob), 0);
    REQUIRE(answered_ok(&ob, nb++));
    CHECK_INT(ob.n_items, 1);
    CHECK_STR(ob.item_id, "item-2");
    CHECK_STR(ob.payload_text, "second");
    const char *ids[] = {"item-1"};
    CHECK_INT(canto_pubsub_get_items(bob.ps, service, NODE, ids, 1, 0, on_result, &ob), 0);
    REQUIRE(answered_ok(&ob, nb++));
    CHECK_INT(ob.n_items, 1);
    CHECK_STR(ob.item_id, "item-1");
    CHECK_STR(ob.payload_text, "first");
    o.found_node = 0;
    CHECK_INT(canto_pubsub_discover_items(bob.ps, service, NODE, on_result, &o), 0);
    REQUIRE(answered_ok(&o, n++));
    CHECK(o.found_node);

    /* Retract with notify. */
    CHECK_INT(canto_pubsub_retract(alice.ps, service, NODE, "item-1", 1, on_result, &o), 0);
    REQUIRE(answered_ok(&o, n++));
    CHECK(both_saw(CANTO_PUBSUB_EVENT_RETRACT, 1));
    CHECK_STR(carol.events.item_id, "item-1");

    /* Purge (item-2 is left), then delete. */
    CHECK_INT(canto_pubsub_purge(alice.ps, service, NODE, on_result, &o), 0);
    REQUIRE(answered_ok(&o, n++));
    CHECK(both_saw(CANTO_PUBSUB_EVENT_PURGE, 1));
    CHECK_STR(bob.events.node, NODE);
    CHECK_INT(canto_pubsub_get_items(bob.ps, service, NODE, NULL, 0, 0, on_result, &ob), 0);
    REQUIRE(answered_ok(&ob, nb++));
    CHECK_INT(ob.n_items, 0);
    CHECK_INT(canto_pubsub_delete(alice.ps, service, NODE, NULL, on_result, &o), 0);
    REQUIRE(answered_ok(&o, n++));
    CHECK(both_saw(CANTO_PUBSUB_EVENT_DELETE, 1));
    CHECK_STR(carol.events.node, NODE);
    /* No notification went anywhere twice. */
    CHECK_INT(bob.events.total, carol.events.total);
    o.found_node = 0;
    CHECK_INT(canto_pubsub_discover_nodes(alice.ps, service, NULL, on_result, &o), 0);
    REQUIRE(answered_ok(&o, n++));
    CHECK(!o.found_node);

    canto_form_free(o.form);
    canto_form_free(ob.form);
    canto_form_free(oc.form);
    return 0;
}

static int test_pep_nick(void)
{
    /* A mutual presence subscription between alice and bob. */
    CHECK_INT(send_presence(&alice, "subscribe", "bob@localhost"), 0);
    prosody_run_for(loop, 300);
    CHECK_INT(send_presence(&bob, "subscribed", "alice@localhost"), 0);
    CHECK_INT(send_presence(&bob, "subscribe", "alice@localhost"), 0);
    prosody_run_for(loop, 300);
    CHECK_INT(send_presence(&alice, "subscribed", "bob@localhost"), 0);
    prosody_run_for(loop, 300);

    /* Alice asks for nick events: +notify in her caps, sent with her presence. */
    event_log nick = {0};
    CHECK_INT(canto_pubsub_watch_pep(alice.ps, CANTO_NS_NICK, on_event, &nick, NULL), 0);
    CHECK_INT(send_presence(&alice, NULL, NULL), 0);
    prosody_run_for(loop, 500);

    /* Bob publishes to his own PEP node (no `to`); the server may learn
     * alice's caps only after a round trip, so publish again until seen. */
    outcome o = {0};
    for (int attempt = 0; attempt < 10 && nick.counts[CANTO_PUBSUB_EVENT_ITEMS] == 0; attempt++) {
        canto_stanza *payload;
        const char *xml = "<nick xmlns='http://jabber.org/protocol/nick'>Bobby</nick>";
        REQUIRE(canto_stanza_parse(NULL, xml, strlen(xml), &payload) == 0);
        CHECK_INT(canto_pubsub_publish(bob.ps, NULL, CANTO_NS_NICK, "current", payload, NULL,
                                       on_result, &o),
                  0);
        canto_stanza_free(payload);
        REQUIRE(answered_ok(&o, attempt));
        prosody_wait_for(loop, &nick.counts[CANTO_PUBSUB_EVENT_ITEMS], 1, 2000);
    }
    CHECK(nick.counts[CANTO_PUBSUB_EVENT_ITEMS] >= 1);
    CHECK_STR(nick.service, "bob@localhost");
    CHECK_STR(nick.node, CANTO_NS_NICK);
    CHECK_STR(nick.payload_text, "Bobby");

    /* Bob reads his own node back. */
    CHECK_INT(canto_pubsub_get_items(bob.ps, NULL, CANTO_NS_NICK, NULL, 0, 1, on_result, &o), 0);
    REQUIRE(prosody_wait_for(loop, &o.done, o.done + 1, WAIT_MS));
    CHECK_INT(o.how, CANTO_IQ_RESULT);
    CHECK_STR(o.payload_text, "Bobby");
    canto_form_free(o.form);
    return 0;
}

int main(void)
{
    verbose = getenv("CANTO_TEST_VERBOSE") != NULL;
    int rc = prosody_start("pubsub");
    if (rc != 0)
        return rc;
    const char *pubsub = prosody_env("CANTO_PROSODY_PUBSUB");
    if (pubsub)
        snprintf(service, sizeof(service), "%s", pubsub);

    int ok = canto_loop_new(NULL, &loop) == 0 && account_new(&alice) == 0 &&
             account_new(&bob) == 0 && account_new(&carol) == 0;
    CHECK(ok);
    if (ok) {
        prosody_run_until(loop, all_settled, NULL, WAIT_MS);
        ok = alice.connected && bob.connected && carol.connected;
        CHECK(ok);
    }
    if (ok) {
        /* Available presence: notifications to a bare JID go to available resources. */
        CHECK_INT(send_presence(&alice, NULL, NULL), 0);
        CHECK_INT(send_presence(&bob, NULL, NULL), 0);
        CHECK_INT(send_presence(&carol, NULL, NULL), 0);
        prosody_run_for(loop, 200);
        RUN(test_node_life);
        RUN(test_pep_nick);
    }

    account_free(&alice);
    account_free(&bob);
    account_free(&carol);
    canto_loop_free(loop);
    int result = CHECK_DONE();
    prosody_stop(result != 0);
    return result;
}
