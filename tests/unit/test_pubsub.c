/* Publish-subscribe and PEP plugin (XEP-0060, XEP-0163) against the scripted
 * server in fake_server.c: the requests it builds, the answers it parses, and
 * which event notifications reach which watch (spoofed senders and events
 * without a node are ignored). */
#include "check.h"
#include "fake_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/canto.h>
#include <canto/forms.h>
#include <canto/pubsub.h>

#define ME "tester@localhost/fake"
#define ME_BARE "tester@localhost"
#define SERVICE "pubsub.localhost"
#define WAIT 3000

typedef struct env {
    canto_loop *loop;
    fake_server *fs;
    canto_client *client;
    canto_pubsub *ps;
} env;

static int env_open(env *e)
{
    memset(e, 0, sizeof(*e));
    if (canto_loop_new(NULL, &e->loop) != 0 || fake_server_new(ME, &e->fs) != 0)
        return -1;
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    fake_server_client_options(e->fs, &o);
    o.reconnect = CANTO_RECONNECT_MANUAL;
    if (canto_client_new(e->loop, "localhost", &o, &e->client) != 0)
        return -1;
    if (fake_server_connect(e->fs, e->loop, e->client, WAIT) != 0)
        return -1;
    return canto_pubsub_new(e->client, &e->ps);
}

static void env_close(env *e)
{
    canto_pubsub_free(e->ps);
    canto_client_free(e->client);
    fake_server_free(e->fs);
    canto_loop_free(e->loop);
}

typedef struct counter_wait {
    const int *counter;
    int want;
} counter_wait;

static int counter_reached(void *ud)
{
    counter_wait *w = ud;
    return *w->counter >= w->want;
}

static int wait_count(env *e, const int *counter, int want)
{
    counter_wait w = {counter, want};
    return fake_server_wait(e->fs, e->loop, counter_reached, &w, WAIT);
}

/* What result callbacks saw (copied). */
typedef struct rec {
    int n;
    canto_iq_outcome outcome;
    char node[64];
    size_t n_items, n_nodes, n_subs;
    char item_id[8][32];
    char payload[8][128];
    char node_names[8][64];
    char sub_state[32], subid[32];
    int has_form;
    char form_value[64];
} rec;

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "(null)");
}

static void on_result(void *ud, canto_pubsub *ps, const canto_pubsub_result *r)
{
    rec *x = ud;
    (void)ps;
    x->n++;
    x->outcome = r->response->outcome;
    copy_str(x->node, sizeof(x->node), r->node);
    x->n_items = r->n_items;
    for (size_t i = 0; i < r->n_items && i < 8; i++) {
        copy_str(x->item_id[i], sizeof(x->item_id[i]), r->items[i].id);
        char *xml = NULL;
        size_t len;
        if (r->items[i].payload && canto_stanza_to_string(r->items[i].payload, &xml, &len) == 0)
            copy_str(x->payload[i], sizeof(x->payload[i]), xml);
        else
            copy_str(x->payload[i], sizeof(x->payload[i]), NULL);
        canto_free(xml);
    }
    x->n_nodes = r->n_nodes;
    for (size_t i = 0; i < r->n_nodes && i < 8; i++)
        copy_str(x->node_names[i], sizeof(x->node_names[i]),
                 r->nodes[i].node ? r->nodes[i].node : r->nodes[i].name);
    x->n_subs = r->n_subscriptions;
    if (r->n_subscriptions) {
        copy_str(x->sub_state, sizeof(x->sub_state), r->subscriptions[0].state);
        copy_str(x->subid, sizeof(x->subid), r->subscriptions[0].subid);
    }
    x->has_form = r->form != NULL;
    if (r->form)
        copy_str(x->form_value, sizeof(x->form_value), canto_form_value(r->form, "pubsub#title"));
}

/* The next iq the client sent, of @p type; its first child must be @p name in @p ns. */
static canto_stanza *next_request(env *e, const char *type, const char *name, const char *ns,
                                  const canto_stanza **el)
{
    canto_stanza *st = fake_server_next_named(e->fs, e->loop, "iq", type, WAIT);
    *el = st ? canto_stanza_child(st, name, ns) : NULL;
    return st;
}

static void reply(env *e, canto_stanza *req, const char *inner)
{
    fake_server_send(e->fs, "<iq type='result' id='%s' from='%s'>%s</iq>",
                     canto_stanza_attr(req, "id"), canto_stanza_attr(req, "to"), inner);
    canto_stanza_free(req);
}

/* ------------------------------------------------------------------------ */

static int test_publish_and_items(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    rec r = {0};

    /* Publish: payload copied, item id and publish-options form sent. */
    canto_stanza *payload;
    REQUIRE(canto_stanza_parse(NULL, "<entry xmlns='urn:canto:example'>hi</entry>", 43, &payload) ==
            0);
    canto_form *opts;
    canto_form_field *f;
    REQUIRE(canto_form_new(NULL, CANTO_FORM_SUBMIT, &opts) == 0);
    canto_form_add_field(opts, CANTO_FORM_FIELD_HIDDEN, "FORM_TYPE", NULL, &f);
    canto_form_field_set_value(f, CANTO_NS_PUBSUB_PUBLISH_OPTIONS);
    canto_form_add_field(opts, CANTO_FORM_FIELD_NONE, "pubsub#access_model", NULL, &f);
    canto_form_field_set_value(f, "open");
    CHECK_INT(canto_pubsub_publish(e.ps, SERVICE, "news", "i1", payload, opts, on_result, &r), 0);
    canto_stanza_free(payload);
    canto_form_free(opts);
    const canto_stanza *p;
    canto_stanza *st = next_request(&e, "set", "pubsub", CANTO_NS_PUBSUB, &p);
    REQUIRE(st && p);
    CHECK_STR(canto_stanza_attr(st, "to"), SERVICE);
    const canto_stanza *pub = canto_stanza_child(p, "publish", CANTO_NS_PUBSUB);
    CHECK_STR(canto_stanza_attr(pub, "node"), "news");
    const canto_stanza *item = canto_stanza_child(pub, "item", CANTO_NS_PUBSUB);
    CHECK_STR(canto_stanza_attr(item, "id"), "i1");
    CHECK_STR(canto_stanza_child_text(item, "entry", "urn:canto:example"), "hi");
    const canto_stanza *po = canto_stanza_child(p, "publish-options", CANTO_NS_PUBSUB);
    CHECK(canto_stanza_child(po, "x", CANTO_NS_DATA_FORMS) != NULL);
    reply(&e, st,
          "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='news'>"
          "<item id='server-id'/></publish></pubsub>");
    CHECK(wait_count(&e, &r.n, 1));
    CHECK_INT(r.outcome, CANTO_IQ_RESULT);
    CHECK_INT(r.n_items, 1);
    CHECK_STR(r.item_id[0], "server-id");

    /* An empty result keeps the id we asked for; a PEP publish has no `to`. */
    CHECK_INT(canto_pubsub_publish(e.ps, NULL, CANTO_NS_NICK, "current", NULL, NULL, on_result, &r),
              0);
    st = next_request(&e, "set", "pubsub", CANTO_NS_PUBSUB, &p);
    REQUIRE(st);
    CHECK(canto_stanza_attr(st, "to") == NULL);
    fake_server_send(e.fs, "<iq type='result' id='%s'/>", canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &r.n, 2));
    CHECK_STR(r.item_id[0], "current");

    /* Latest N. */
    CHECK_INT(canto_pubsub_get_items(e.ps, SERVICE, "news", NULL, 0, 2, on_result, &r), 0);
    st = next_request(&e, "get", "pubsub", CANTO_NS_PUBSUB, &p);
    REQUIRE(st && p);
    const canto_stanza *items = canto_stanza_child(p, "items", CANTO_NS_PUBSUB);
    CHECK_STR(canto_stanza_attr(items, "node"), "news");
    CHECK_STR(canto_stanza_attr(items, "max_items"), "2");
    reply(&e, st,
          "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='news'>"
          "<item id='a'><entry xmlns='urn:canto:example'>A</entry></item>"
          "<item id='b'/></items></pubsub>");
    CHECK(wait_count(&e, &r.n, 3));
    CHECK_INT(r.n_items, 2);
    CHECK_STR(r.item_id[0], "a");
    CHECK_STR(r.payload[0], "<entry xmlns='urn:canto:example'>A</entry>");
    CHECK_STR(r.item_id[1], "b");
    CHECK_STR(r.payload[1], "(null)");

    /* By ids; an error answer carries no items. */
    const char *ids[] = {"a", "c"};
    CHECK_INT(canto_pubsub_get_items(e.ps, SERVICE, "news", ids, 2, 5, on_result, &r), 0);
    st = next_request(&e, "get", "pubsub", CANTO_NS_PUBSUB, &p);
    REQUIRE(st && p);
    items = canto_stanza_child(p, "items", CANTO_NS_PUBSUB);
    CHECK(canto_stanza_attr(items, "max_items") == NULL);
    item = canto_stanza_child(items, "item", CANTO_NS_PUBSUB);
    CHECK_STR(canto_stanza_attr(item, "id"), "a");
    CHECK_STR(canto_stanza_attr(canto_stanza_next_match(item, "item", CANTO_NS_PUBSUB), "id"), "c");
    fake_server_send(e.fs,
                     "<iq type='error' id='%s' from='" SERVICE "'><error type='cancel'>"
                     "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                     canto_stanza_attr(st, "id"));
    canto_stanza_free(st);
    CHECK(wait_count(&e, &r.n, 4));
    CHECK_INT(r.outcome, CANTO_IQ_ERROR);
    CHECK_INT(r.n_items, 0);

    /* Retract with notify. */
    CHECK_INT(canto_pubsub_retract(e.ps, SERVICE, "news", "a", 1, on_result, &r), 0);
    st = next_request(&e, "set", "pubsub", CANTO_NS_PUBSUB, &p);
    REQUIRE(st && p);
    const canto_stanza *ret = canto_stanza_child(p, "retract", CANTO_NS_PUBSUB);
    CHECK_STR(canto_stanza_attr(ret, "node"), "news");
    CHECK_STR(canto_stanza_attr(ret, "notify"), "true");
    CHECK_STR(canto_stanza_attr(canto_stanza_child(ret, "item", CANTO_NS_PUBSUB), "id"), "a");
    reply(&e, st, "");
    CHECK(wait_count(&e, &r.n, 5));
    CHECK_INT(r.outcome, CANTO_IQ_RESULT);

    /* Bad arguments. */
    CHECK_INT(canto_pubsub_publish(e.ps, SERVICE, NULL, "x", NULL, NULL, NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_pubsub_retract(e.ps, SERVICE, "news", NULL, 0, NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_pubsub_get_items(e.ps, SERVICE, "news", NULL, 3, 0, NULL, NULL), CANTO_EINVAL);
    env_close(&e);
    return 0;
}

static int test_owner(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    rec r = {0};
    const canto_stanza *p;

    /* Discover nodes: entries without a jid are skipped. */
    CHECK_INT(canto_pubsub_discover_nodes(e.ps, SERVICE, NULL, on_result, &r), 0);
    canto_stanza *st =
        next_request(&e, "get", "query", "http://jabber.org/protocol/disco#items", &p);
    REQUIRE(st && p);
    CHECK(canto_stanza_attr(p, "node") == NULL);
    reply(&e, st,
          "<query xmlns='http://jabber.org/protocol/disco#items'>"
          "<item jid='" SERVICE "' node='news'/><item node='nojid'/>"
          "<item jid='" SERVICE "' node='blog' name='Blog'/></query>");
    CHECK(wait_count(&e, &r.n, 1));
    CHECK_INT(r.n_nodes, 2);
    CHECK_STR(r.node_names[0], "news");
    CHECK_STR(r.node_names[1], "blog");

    /* Items of a node. */
    CHECK_INT(canto_pubsub_discover_items(e.ps, SERVICE, "news", on_result, &r), 0);
    st = next_request(&e, "get", "query", "http://jabber.org/protocol/disco#items", &p);
    REQUIRE(st && p);
    CHECK_STR(canto_stanza_attr(p, "node"), "news");
    reply(&e, st,
          "<query xmlns='http://jabber.org/protocol/disco#items' node='news'>"
          "<item jid='" SERVICE "' name='i1'/></query>");
    CHECK(wait_count(&e, &r.n, 2));
    CHECK_INT(r.n_nodes, 1);
    CHECK_STR(r.node_names[0], "i1");
    CHECK_INT(canto_pubsub_discover_items(e.ps, SERVICE, NULL, on_result, &r), CANTO_EINVAL);

    /* Create with a configuration form; instant node named by the answer. */
    canto_form *conf;
    canto_form_field *f;
    REQUIRE(canto_form_new(NULL, CANTO_FORM_SUBMIT, &conf) == 0);
    canto_form_add_field(conf, CANTO_FORM_FIELD_HIDDEN, "FORM_TYPE", NULL, &f);
    canto_form_field_set_value(f, CANTO_NS_PUBSUB_NODE_CONFIG);
    canto_form_add_field(conf, CANTO_FORM_FIELD_NONE, "pubsub#title", NULL, &f);
    canto_form_field_set_value(f, "News");
    CHECK_INT(canto_pubsub_create(e.ps, SERVICE, "news", conf, on_result, &r), 0);
    st = next_request(&e, "set", "pubsub", CANTO_NS_PUBSUB, &p);
    REQUIRE(st && p);
    CHECK_STR(canto_stanza_attr(canto_stanza_child(p, "create", CANTO_NS_PUBSUB), "node"), "news");
    CHECK(canto_stanza_child(canto_stanza_child(p, "configure", CANTO_NS_PUBSUB), "x",
                             CANTO_NS_DATA_FORMS) != NULL);
    reply(&e, st, "");
    CHECK(wait_count(&e, &r.n, 3));
    CHECK_STR(r.node, "news");
    CHECK_INT(canto_pubsub_create(e.ps, SERVICE, NULL, NULL, on_result, &r), 0);
    st = next_request(&e, "set", "pubsub", CANTO_NS_PUBSUB, &p);
    REQUIRE(st && p);
    CHECK(canto_stanza_attr(canto_stanza_child(p, "create", CANTO_NS_PUBSUB), "node") == NULL);
    reply(&e, st,
          "<pubsub xmlns='http://jabber.org/protocol/pubsub'><create node='instant-1'/></pubsub>");
    CHECK(wait_count(&e, &r.n, 4));
    CHECK_STR(r.node, "instant-1");

    /* Configuration form: get, then submit. */
    CHECK_INT(canto_pubsub_get_config(e.ps, SERVICE, "news", on_result, &r), 0);
    st = next_request(&e, "get", "pubsub", CANTO_NS_PUBSUB_OWNER, &p);
    REQUIRE(st && p);
    CHECK_STR(canto_stanza_attr(canto_stanza_child(p, "configure", CANTO_NS_PUBSUB_OWNER), "node"),
              "news");
    reply(&e, st,
          "<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='news'>"
          "<x xmlns='jabber:x:data' type='form'><field var='FORM_TYPE' type='hidden'>"
          "<value>http://jabber.org/protocol/pubsub#node_config</value></field>"
          "<field var='pubsub#title' type='text-single'><value>Old</value></field>"
          "</x></configure></pubsub>");
    CHECK(wait_count(&e, &r.n, 5));
    CHECK(r.has_form);
    CHECK_STR(r.form_value, "Old");
    CHECK_INT(canto_pubsub_configure(e.ps, SERVICE, "news", conf, on_result, &r), 0);
    st = next_request(&e, "set", "pubsub", CANTO_NS_PUBSUB_OWNER, &p);
    REQUIRE(st && p);
    const canto_stanza *c = canto_stanza_child(p, "configure", CANTO_NS_PUBSUB_OWNER);
    const canto_stanza *x = canto_stanza_child(c, "x", CANTO_NS_DATA_FORMS);
    CHECK_STR(canto_stanza_attr(x, "type"), "submit");
    reply(&e, st, "");
    CHECK(wait_count(&e, &r.n, 6));
    CHECK(!r.has_form);
    CHECK_INT(canto_pubsub_configure(e.ps, SERVICE, "news", NULL, NULL, NULL), CANTO_EINVAL);
    canto_form_free(conf);

    /* Purge, delete with redirect. */
    CHECK_INT(canto_pubsub_purge(e.ps, SERVICE, "news", on_result, &r), 0);
    st = next_request(&e, "set", "pubsub", CANTO_NS_PUBSUB_OWNER, &p);
    REQUIRE(st && p);
    CHECK_STR(canto_stanza_attr(canto_stanza_child(p, "purge", CANTO_NS_PUBSUB_OWNER), "node"),
              "news");
    reply(&e, st, "");
    CHECK(wait_count(&e, &r.n, 7));
    CHECK_INT(
        canto_pubsub_delete(e.ps, SERVICE, "news", "xmpp:" SERVICE "?;node=blog", on_result, &r),
        0);
    st = next_request(&e, "set", "pubsub", CANTO_NS_PUBSUB_OWNER, &p);
    REQUIRE(st && p);
    const canto_stanza *d = canto_stanza_child(p, "delete", CANTO_NS_PUBSUB_OWNER);
    CHECK_STR(canto_stanza_attr(d, "node"), "news");
    CHECK_STR(canto_stanza_attr(canto_stanza_child(d, "redirect", CANTO_NS_PUBSUB_OWNER), "uri"),
              "xmpp:" SERVICE "?;node=blog");
    reply(&e, st, "");
    CHECK(wait_count(&e, &r.n, 8));
    CHECK_INT(r.outcome, CANTO_IQ_RESULT);
    env_close(&e);
    return 0;
}

static int test_subscriptions(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    rec r = {0};
    const canto_stanza *p;

    CHECK_INT(canto_pubsub_subscribe(e.ps, SERVICE, "news", NULL, NULL, on_result, &r), 0);
    canto_stanza *st = next_request(&e, "set", "pubsub", CANTO_NS_PUBSUB, &p);
    REQUIRE(st && p);
    const canto_stanza *s = canto_stanza_child(p, "subscribe", CANTO_NS_PUBSUB);
    CHECK_STR(canto_stanza_attr(s, "node"), "news");
    CHECK_STR(canto_stanza_attr(s, "jid"), ME_BARE);
    reply(&e, st,
          "<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscription node='news' "
          "jid='" ME_BARE "' subid='s1' subscription='subscribed'/></pubsub>");
    CHECK(wait_count(&e, &r.n, 1));
    CHECK_INT(r.n_subs, 1);
    CHECK_STR(r.sub_state, "subscribed");
    CHECK_STR(r.subid, "s1");

    /* List: a subscription without jid is skipped. */
    CHECK_INT(canto_pubsub_subscriptions(e.ps, SERVICE, NULL, on_result, &r), 0);
    st = next_request(&e, "get", "pubsub", CANTO_NS_PUBSUB, &p);
    REQUIRE(st && p);
    CHECK(canto_stanza_child(p, "subscriptions", CANTO_NS_PUBSUB) != NULL);
    reply(&e, st,
          "<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscriptions>"
          "<subscription node='news' subscription='subscribed'/>"
          "<subscription node='blog' jid='" ME_BARE "' subscription='pending'/>"
          "</subscriptions></pubsub>");
    CHECK(wait_count(&e, &r.n, 2));
    CHECK_INT(r.n_subs, 1);
    CHECK_STR(r.sub_state, "pending");

    /* Options: get the form, submit one. */
    CHECK_INT(canto_pubsub_get_options(e.ps, SERVICE, "news", NULL, "s1", on_result, &r), 0);
    st = next_request(&e, "get", "pubsub", CANTO_NS_PUBSUB, &p);
    REQUIRE(st && p);
    const canto_stanza *o = canto_stanza_child(p, "options", CANTO_NS_PUBSUB);
    CHECK_STR(canto_stanza_attr(o, "subid"), "s1");
    CHECK_STR(canto_stanza_attr(o, "jid"), ME_BARE);
    reply(&e, st,
          "<pubsub xmlns='http://jabber.org/protocol/pubsub'><options node='news' jid='" ME_BARE
          "'><x xmlns='jabber:x:data' type='form'><field var='pubsub#deliver' type='boolean'>"
          "<value>1</value></field></x></options></pubsub>");
    CHECK(wait_count(&e, &r.n, 3));
    CHECK(r.has_form);
    canto_form *opt;
    canto_form_field *f;
    REQUIRE(canto_form_new(NULL, CANTO_FORM_SUBMIT, &opt) == 0);
    canto_form_add_field(opt, CANTO_FORM_FIELD_BOOLEAN, "pubsub#deliver", NULL, &f);
    canto_form_field_set_bool(f, 0);
    CHECK_INT(canto_pubsub_set_options(e.ps, SERVICE, "news", NULL, "s1", opt, on_result, &r), 0);
    canto_form_free(opt);
    st = next_request(&e, "set", "pubsub", CANTO_NS_PUBSUB, &p);
    REQUIRE(st && p);
    o = canto_stanza_child(p, "options", CANTO_NS_PUBSUB);
    CHECK(canto_stanza_child(o, "x", CANTO_NS_DATA_FORMS) != NULL);
    reply(&e, st, "");
    CHECK(wait_count(&e, &r.n, 4));

    CHECK_INT(
        canto_pubsub_unsubscribe(e.ps, SERVICE, "news", "other@localhost", "s1", on_result, &r), 0);
    st = next_request(&e, "set", "pubsub", CANTO_NS_PUBSUB, &p);
    REQUIRE(st && p);
    const canto_stanza *u = canto_stanza_child(p, "unsubscribe", CANTO_NS_PUBSUB);
    CHECK_STR(canto_stanza_attr(u, "jid"), "other@localhost");
    CHECK_STR(canto_stanza_attr(u, "subid"), "s1");
    reply(&e, st, "");
    CHECK(wait_count(&e, &r.n, 5));

    /* A pending request is canceled when the object is freed. */
    CHECK_INT(canto_pubsub_subscriptions(e.ps, SERVICE, "news", on_result, &r), 0);
    canto_pubsub_free(e.ps);
    e.ps = NULL;
    CHECK_INT(r.n, 6);
    CHECK_INT(r.outcome, CANTO_IQ_CANCELED);
    env_close(&e);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Events                                                                     */

typedef struct ev_rec {
    int n;
    int counts[6];
    char service[64], node[64], item_id[32], payload_text[64], redirect[64], title[64];
    size_t n_items;
    canto_pubsub *ps;
    unsigned unwatch_id;
    int free_on_event;
} ev_rec;

static void on_event(void *ud, canto_pubsub *ps, const canto_pubsub_event *ev)
{
    ev_rec *x = ud;
    x->n++;
    x->counts[ev->type]++;
    copy_str(x->service, sizeof(x->service), ev->service);
    copy_str(x->node, sizeof(x->node), ev->node);
    x->n_items = ev->n_items;
    copy_str(x->item_id, sizeof(x->item_id), ev->n_items ? ev->items[0].id : NULL);
    copy_str(x->payload_text, sizeof(x->payload_text),
             ev->n_items && ev->items[0].payload ? canto_stanza_text(ev->items[0].payload) : NULL);
    copy_str(x->redirect, sizeof(x->redirect), ev->redirect);
    copy_str(x->title, sizeof(x->title),
             ev->config ? canto_form_value(ev->config, "pubsub#title") : NULL);
    if (x->unwatch_id) {
        canto_pubsub_unwatch(ps, x->unwatch_id);
        x->unwatch_id = 0;
    }
    if (x->free_on_event) {
        x->free_on_event = 0;
        canto_pubsub_free(ps);
    }
}

#define EVENT(from, inner)                                                                         \
    "<message from='" from "' to='" ME "' type='headline'>"                                        \
    "<event xmlns='http://jabber.org/protocol/pubsub#event'>" inner "</event></message>"

static int test_events(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    ev_rec r = {0}, other = {0};
    unsigned id;
    CHECK_INT(canto_pubsub_watch(e.ps, "PubSub.LocalHost", "news", on_event, &r, &id), 0);
    CHECK_INT(canto_pubsub_watch(e.ps, "other.localhost", NULL, on_event, &other, NULL), 0);
    CHECK_INT(canto_pubsub_watch(e.ps, NULL, "news", on_event, &r, NULL), CANTO_EINVAL);
    CHECK_INT(canto_pubsub_watch(e.ps, "@bad", "news", on_event, &r, NULL), CANTO_EINVAL);

    /* New item with payload. */
    fake_server_send(e.fs,
                     EVENT(SERVICE, "<items node='news'><item id='i1' publisher='a@localhost'>"
                                    "<entry xmlns='urn:canto:example'>hello</entry>"
                                    "</item></items>"));
    CHECK(wait_count(&e, &r.n, 1));
    CHECK_INT(r.counts[CANTO_PUBSUB_EVENT_ITEMS], 1);
    CHECK_STR(r.service, SERVICE);
    CHECK_STR(r.node, "news");
    CHECK_STR(r.item_id, "i1");
    CHECK_STR(r.payload_text, "hello");

    /* Spoofed: another service, a full JID, a user, the client's own domain;
     * an event for another node; items without a node attribute. None reach r. */
    fake_server_send(e.fs, EVENT("evil.localhost", "<items node='news'><item id='x'/></items>"));
    fake_server_send(e.fs, EVENT(SERVICE "/res", "<items node='news'><item id='x'/></items>"));
    fake_server_send(e.fs, EVENT("mallory@localhost", "<items node='news'><item id='x'/></items>"));
    fake_server_send(e.fs, EVENT("localhost", "<purge node='news'/>"));
    fake_server_send(e.fs, EVENT(SERVICE, "<items node='blog'><item id='x'/></items>"));
    fake_server_send(e.fs, EVENT(SERVICE, "<items><item id='x'/></items><purge/>"));
    fake_server_send(e.fs, "<message from='" SERVICE "' type='error'>"
                           "<event xmlns='http://jabber.org/protocol/pubsub#event'>"
                           "<purge node='news'/></event></message>");
    /* Another service's watch (any node) sees its own events only. */
    fake_server_send(e.fs, EVENT("other.localhost", "<purge node='whatever'/>"));
    REQUIRE(fake_server_sync(e.fs, e.loop, WAIT) == 0);
    CHECK_INT(r.n, 1);
    CHECK_INT(other.n, 1);
    CHECK_INT(other.counts[CANTO_PUBSUB_EVENT_PURGE], 1);
    CHECK_STR(other.node, "whatever");

    /* Items and retractions in one message: two calls. */
    fake_server_send(e.fs, EVENT(SERVICE, "<items node='news'><item id='i2'/><retract id='i1'/>"
                                          "<retract/></items>"));
    CHECK(wait_count(&e, &r.n, 3));
    CHECK_INT(r.counts[CANTO_PUBSUB_EVENT_ITEMS], 2);
    CHECK_INT(r.counts[CANTO_PUBSUB_EVENT_RETRACT], 1);
    CHECK_INT(r.n_items, 1);
    CHECK_STR(r.item_id, "i1");

    /* Configuration, purge, delete. The configuration event is only tested
     * here: Prosody 0.12 (the integration tests' server) has no
     * pubsub#notify_config and never sends it. */
    fake_server_send(e.fs, EVENT(SERVICE, "<configuration node='news'><x xmlns='jabber:x:data' "
                                          "type='result'><field var='pubsub#title'><value>T"
                                          "</value></field></x></configuration>"));
    CHECK(wait_count(&e, &r.n, 4));
    CHECK_INT(r.counts[CANTO_PUBSUB_EVENT_CONFIGURATION], 1);
    CHECK_STR(r.title, "T");
    fake_server_send(e.fs, EVENT(SERVICE, "<purge node='news'/>"));
    CHECK(wait_count(&e, &r.n, 5));
    CHECK_INT(r.counts[CANTO_PUBSUB_EVENT_PURGE], 1);
    fake_server_send(e.fs, EVENT(SERVICE, "<delete node='news'><redirect uri='xmpp:x'/></delete>"));
    CHECK(wait_count(&e, &r.n, 6));
    CHECK_INT(r.counts[CANTO_PUBSUB_EVENT_DELETE], 1);
    CHECK_STR(r.redirect, "xmpp:x");

    /* Unwatch from inside the callback: called once, then never again. */
    r.unwatch_id = id;
    fake_server_send(e.fs, EVENT(SERVICE, "<purge node='news'/>"));
    CHECK(wait_count(&e, &r.n, 7));
    fake_server_send(e.fs, EVENT(SERVICE, "<purge node='news'/>"));
    REQUIRE(fake_server_sync(e.fs, e.loop, WAIT) == 0);
    CHECK_INT(r.n, 7);
    CHECK_INT(canto_pubsub_unwatch(e.ps, id), CANTO_ENOTFOUND);

    /* Free from inside the callback. */
    other.free_on_event = 1;
    fake_server_send(e.fs, EVENT("other.localhost", "<purge node='a'/><purge node='b'/>"));
    CHECK(wait_count(&e, &other.n, 2));
    e.ps = NULL;
    REQUIRE(fake_server_sync(e.fs, e.loop, WAIT) == 0);
    CHECK_INT(other.n, 2);
    env_close(&e);
    return 0;
}

static int has_feature(canto_client *c, const char *var)
{
    for (size_t i = 0; canto_client_feature(c, i); i++)
        if (strcmp(canto_client_feature(c, i), var) == 0)
            return 1;
    return 0;
}

static int test_pep(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    ev_rec r = {0};
    unsigned id;
    CHECK(!has_feature(e.client, CANTO_NS_NICK "+notify"));
    CHECK_INT(canto_pubsub_watch_pep(e.ps, CANTO_NS_NICK, on_event, &r, &id), 0);
    CHECK(has_feature(e.client, CANTO_NS_NICK "+notify"));
    CHECK_INT(canto_pubsub_watch_pep(e.ps, NULL, on_event, &r, NULL), CANTO_EINVAL);

    fake_server_send(e.fs,
                     EVENT("bob@localhost", "<items node='http://jabber.org/protocol/nick'>"
                                            "<item id='current'><nick xmlns='http://jabber.org/"
                                            "protocol/nick'>Bobby</nick></item></items>"));
    CHECK(wait_count(&e, &r.n, 1));
    CHECK_STR(r.service, "bob@localhost");
    CHECK_STR(r.payload_text, "Bobby");

    /* From a contact's client (full JID), a server or a component: ignored;
     * another node: ignored. */
    fake_server_send(e.fs, EVENT("bob@localhost/phone",
                                 "<items node='http://jabber.org/protocol/nick'><item id='x'/>"
                                 "</items>"));
    fake_server_send(e.fs, EVENT("localhost", "<items node='http://jabber.org/protocol/nick'>"
                                              "<item id='x'/></items>"));
    fake_server_send(e.fs,
                     EVENT("bob@localhost", "<items node='urn:other'><item id='x'/></items>"));
    REQUIRE(fake_server_sync(e.fs, e.loop, WAIT) == 0);
    CHECK_INT(r.n, 1);

    /* The feature goes with the watch; a second watch keeps it until both go. */
    unsigned id2;
    CHECK_INT(canto_pubsub_watch_pep(e.ps, CANTO_NS_NICK, on_event, &r, &id2), 0);
    CHECK_INT(canto_pubsub_unwatch(e.ps, id), 0);
    CHECK(has_feature(e.client, CANTO_NS_NICK "+notify"));
    CHECK_INT(canto_pubsub_unwatch(e.ps, id2), 0);
    CHECK(!has_feature(e.client, CANTO_NS_NICK "+notify"));
    CHECK_INT(canto_pubsub_watch_pep(e.ps, "urn:xmpp:tune", on_event, &r, NULL), 0);
    CHECK(has_feature(e.client, "urn:xmpp:tune+notify"));
    canto_pubsub_free(e.ps);
    e.ps = NULL;
    CHECK(!has_feature(e.client, "urn:xmpp:tune+notify"));
    env_close(&e);
    return 0;
}

int main(void)
{
    RUN(test_publish_and_items);
    RUN(test_owner);
    RUN(test_subscriptions);
    RUN(test_events);
    RUN(test_pep);
    return CHECK_DONE();
}
