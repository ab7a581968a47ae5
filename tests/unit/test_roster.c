/* Roster plugin: fetch and versioning, pushes (and pushes from strangers),
 * item requests, export/import, against the scripted server in fake_server.c. */
#include "check.h"
#include "fake_server.h"

#include <stdlib.h>

#include <canto/canto.h>
#include <canto/roster.h>

#define ME "tester@localhost/fake"
#define WAIT 3000

typedef struct change {
    canto_roster_change kind;
    char jid[128];
    char name[64];
    char old_name[64];
    int has_old;
} change;

typedef struct env {
    canto_loop *loop;
    fake_server *fs;
    canto_client *client;
    canto_roster *r;
    change changes[32];
    int nchanges;
    /* result callback */
    int nresults;
    canto_iq_outcome outcome;
    canto_error_condition cond;
    int free_in_result;
} env;

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void on_changed(void *ud, canto_roster *r, canto_roster_change kind,
                       const canto_roster_item *item, const canto_roster_item *old)
{
    env *e = ud;
    (void)r;
    if (e->nchanges < 32) {
        change *c = &e->changes[e->nchanges];
        c->kind = kind;
        copy(c->jid, sizeof(c->jid), canto_jid_str(canto_roster_item_jid(item)));
        copy(c->name, sizeof(c->name), canto_roster_item_name(item));
        copy(c->old_name, sizeof(c->old_name), canto_roster_item_name(old));
        c->has_old = old != NULL;
    }
    e->nchanges++;
}

static void on_result(void *ud, canto_roster *r, const canto_iq_response *resp)
{
    env *e = ud;
    e->nresults++;
    e->outcome = resp->outcome;
    e->cond = resp->outcome == CANTO_IQ_ERROR ? resp->error.condition : CANTO_COND_UNKNOWN;
    if (e->free_in_result) {
        e->free_in_result = 0;
        canto_roster_free(r);
        e->r = NULL;
    }
}

static int setup_no_versioning;

static int setup(env *e, int connect)
{
    memset(e, 0, sizeof(*e));
    if (canto_loop_new(NULL, &e->loop) != 0 || fake_server_new(ME, &e->fs) != 0)
        return -1;
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    fake_server_client_options(e->fs, &o);
    o.reconnect = CANTO_RECONNECT_MANUAL; /* a dropped connection stays dropped */
    if (!setup_no_versioning &&
        fake_server_set_features(e->fs, "<ver xmlns='urn:xmpp:features:rosterver'/>") != 0)
        return -1;
    if (canto_client_new(e->loop, "localhost", &o, &e->client) != 0 ||
        canto_roster_new(e->client, &e->r) != 0)
        return -1;
    canto_roster_set_changed_callback(e->r, on_changed, e);
    if (connect && fake_server_connect(e->fs, e->loop, e->client, WAIT) != 0)
        return -1;
    return 0;
}

static void teardown(env *e)
{
    canto_roster_free(e->r);
    canto_client_free(e->client);
    fake_server_free(e->fs);
    canto_loop_free(e->loop);
}

static void feed(env *e, const char *xml)
{
    fake_server_send(e->fs, "%s", xml);
    CHECK_INT(fake_server_sync(e->fs, e->loop, WAIT), 0);
}

static int is_disconnected(void *ud)
{
    return canto_client_get_state(ud) == CANTO_CLIENT_DISCONNECTED;
}

/* The next iq the client sent, which must be a roster request. */
static canto_stanza *next_request(env *e, const char *type)
{
    canto_stanza *st = fake_server_next_named(e->fs, e->loop, "iq", type, WAIT);
    if (st && !canto_stanza_child(st, "query", CANTO_NS_ROSTER)) {
        canto_stanza_free(st);
        return NULL;
    }
    return st;
}

/* The answer the client gave to the iq with id @p id (others are dropped). */
static canto_stanza *answer_to(env *e, const char *id)
{
    canto_stanza *st;
    while ((st = fake_server_next(e->fs, e->loop, 500)) != NULL) {
        const char *sid = canto_stanza_attr(st, "id");
        if (canto_stanza_is(st, "iq", NULL) && sid && strcmp(sid, id) == 0)
            return st;
        canto_stanza_free(st);
    }
    return NULL;
}

static int has_group(const canto_roster_item *it, const char *g)
{
    for (size_t i = 0; i < canto_roster_item_group_count(it); i++)
        if (strcmp(canto_roster_item_group(it, i), g) == 0)
            return 1;
    return 0;
}

static const char first_roster[] =
    "<query xmlns='jabber:iq:roster' ver='v1'>"
    "<item jid='romeo@example.net' name='Romeo' subscription='both'>"
    "<group>Friends</group><group>Lovers</group><group>Friends</group><group></group></item>"
    "<item jid='Mercutio@Example.COM' subscription='from' approved='true'/>"
    "<item jid='benvolio@example.net' subscription='to' ask='subscribe' name=''/>"
    "<item jid='nurse@example.com' subscription='weird'/>"
    /* skipped: no jid, invalid jid, remove in a result, a repeated JID */
    "<item name='nobody'/>"
    "<item jid='a@@b'/>"
    "<item jid='tybalt@example.com' subscription='remove'/>"
    "<item jid='romeo@example.net' name='Impostor'/>"
    "<other jid='x@y'/>"
    "</query>";

static int test_fetch(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    CHECK_INT(canto_roster_fetch(e.r, on_result, &e), 0);
    canto_stanza *iq = next_request(&e, "get");
    REQUIRE(iq != NULL);
    /* No cached version: an empty `ver` asks the server to start versioning. */
    CHECK_STR(canto_stanza_attr(canto_stanza_child(iq, "query", CANTO_NS_ROSTER), "ver"), "");
    CHECK(canto_stanza_attr(iq, "to") == NULL);
    const char *id = canto_stanza_attr(iq, "id");
    REQUIRE(id != NULL && *id);
    fake_server_send(e.fs, "<iq type='result' id='%s' to='%s'>%s</iq>", id, ME, first_roster);
    canto_stanza_free(iq);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(e.nresults, 1);
    CHECK_INT(e.outcome, CANTO_IQ_RESULT);
    CHECK_INT(canto_roster_count(e.r), 4);
    CHECK_STR(canto_roster_version(e.r), "v1");
    CHECK_INT(e.nchanges, 4);
    for (int i = 0; i < 4; i++)
        CHECK(e.changes[i].kind == CANTO_ROSTER_ADDED && !e.changes[i].has_old);
    /* Sorted by JID. */
    CHECK_STR(canto_jid_str(canto_roster_item_jid(canto_roster_item_at(e.r, 0))),
              "benvolio@example.net");
    CHECK_STR(canto_jid_str(canto_roster_item_jid(canto_roster_item_at(e.r, 3))),
              "romeo@example.net");
    CHECK(canto_roster_item_at(e.r, 4) == NULL);

    const canto_roster_item *romeo = canto_roster_find(e.r, "Romeo@example.net");
    REQUIRE(romeo != NULL);
    CHECK_STR(canto_roster_item_name(romeo), "Romeo"); /* the first one counts */
    CHECK_INT(canto_roster_item_subscription(romeo), CANTO_ROSTER_SUB_BOTH);
    CHECK_INT(canto_roster_item_ask(romeo), 0);
    CHECK_INT(canto_roster_item_group_count(romeo), 2); /* duplicate and empty dropped */
    CHECK(has_group(romeo, "Friends") && has_group(romeo, "Lovers"));
    CHECK(canto_roster_item_group(romeo, 2) == NULL);
    const canto_roster_item *merc = canto_roster_find(e.r, "mercutio@example.com");
    REQUIRE(merc != NULL);
    CHECK_INT(canto_roster_item_subscription(merc), CANTO_ROSTER_SUB_FROM);
    CHECK_INT(canto_roster_item_approved(merc), 1);
    CHECK(canto_roster_item_name(merc) == NULL);
    const canto_roster_item *ben = canto_roster_find(e.r, "benvolio@example.net");
    REQUIRE(ben != NULL);
    CHECK_INT(canto_roster_item_ask(ben), 1);
    CHECK_INT(canto_roster_item_subscription(ben), CANTO_ROSTER_SUB_TO);
    CHECK(canto_roster_item_name(ben) == NULL); /* empty name = none */
    CHECK_INT(canto_roster_item_subscription(canto_roster_find(e.r, "nurse@example.com")),
              CANTO_ROSTER_SUB_NONE);
    CHECK(canto_roster_find(e.r, "tybalt@example.com") == NULL);
    CHECK(canto_roster_find(e.r, "a@@b") == NULL);

    /* Second fetch sends the version; an empty result keeps everything. */
    e.nchanges = 0;
    CHECK_INT(canto_roster_fetch(e.r, on_result, &e), 0);
    iq = next_request(&e, "get");
    REQUIRE(iq != NULL);
    CHECK_STR(canto_stanza_attr(canto_stanza_child(iq, "query", CANTO_NS_ROSTER), "ver"), "v1");
    fake_server_send(e.fs, "<iq type='result' id='%s'/>", canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(e.nresults, 2);
    CHECK_INT(e.outcome, CANTO_IQ_RESULT);
    CHECK_INT(canto_roster_count(e.r), 4);
    CHECK_STR(canto_roster_version(e.r), "v1");
    CHECK_INT(e.nchanges, 0);

    /* A full result replaces the copy and reports the differences. */
    CHECK_INT(canto_roster_fetch(e.r, on_result, &e), 0);
    iq = next_request(&e, "get");
    REQUIRE(iq != NULL);
    fake_server_send(e.fs,
                     "<iq type='result' id='%s'><query xmlns='jabber:iq:roster' ver='v5'>"
                     "<item jid='romeo@example.net' name='Romeo' subscription='both'>"
                     "<group>Friends</group><group>Lovers</group></item>"
                     "<item jid='mercutio@example.com' name='Merc' subscription='from' "
                     "approved='true'/>"
                     "<item jid='juliet@example.com' subscription='none'/>"
                     "</query></iq>",
                     canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(e.nresults, 3);
    CHECK_INT(canto_roster_count(e.r), 3);
    CHECK_STR(canto_roster_version(e.r), "v5");
    /* benvolio removed, juliet added, mercutio updated, nurse removed; romeo same. */
    CHECK_INT(e.nchanges, 4);
    int added = 0, removed = 0, updated = 0;
    for (int i = 0; i < e.nchanges && i < 32; i++) {
        if (e.changes[i].kind == CANTO_ROSTER_ADDED)
            added += strcmp(e.changes[i].jid, "juliet@example.com") == 0;
        if (e.changes[i].kind == CANTO_ROSTER_REMOVED)
            removed += strcmp(e.changes[i].jid, "benvolio@example.net") == 0 ||
                       strcmp(e.changes[i].jid, "nurse@example.com") == 0;
        if (e.changes[i].kind == CANTO_ROSTER_UPDATED) {
            updated += strcmp(e.changes[i].jid, "mercutio@example.com") == 0;
            CHECK(e.changes[i].has_old);
            CHECK_STR(e.changes[i].old_name, "");
            CHECK_STR(e.changes[i].name, "Merc");
        }
    }
    CHECK_INT(added, 1);
    CHECK_INT(removed, 2);
    CHECK_INT(updated, 1);

    /* An error answer leaves the copy alone. */
    CHECK_INT(canto_roster_fetch(e.r, on_result, &e), 0);
    iq = next_request(&e, "get");
    REQUIRE(iq != NULL);
    fake_server_send(e.fs,
                     "<iq type='error' id='%s'><error type='wait'><resource-constraint "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                     canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(e.nresults, 4);
    CHECK_INT(e.outcome, CANTO_IQ_ERROR);
    CHECK_INT(e.cond, CANTO_COND_RESOURCE_CONSTRAINT);
    CHECK_INT(canto_roster_count(e.r), 3);

    /* A result without `ver` from a server without versioning: none kept. */
    CHECK_INT(canto_roster_fetch(e.r, NULL, NULL), 0);
    iq = next_request(&e, "get");
    REQUIRE(iq != NULL);
    fake_server_send(e.fs, "<iq type='result' id='%s'><query xmlns='jabber:iq:roster'/></iq>",
                     canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(e.nresults, 4); /* no callback was asked for */
    CHECK_INT(canto_roster_count(e.r), 0);
    CHECK(canto_roster_version(e.r) == NULL);
    teardown(&e);
    return 0;
}

static int test_pushes(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    REQUIRE(canto_roster_import(e.r,
                                "<query xmlns='jabber:iq:roster' ver='v1'>"
                                "<item jid='romeo@example.net' name='Romeo' subscription='both'/>"
                                "</query>",
                                (size_t)-1) == 0);

    /* From our own bare JID: accepted and answered with an empty result. */
    feed(&e, "<iq type='set' id='push1' from='tester@localhost'>"
             "<query xmlns='jabber:iq:roster' ver='v2'><item jid='nurse@example.com' "
             "name='Nurse' ask='subscribe'><group>Servants</group></item></query></iq>");
    canto_stanza *ans = answer_to(&e, "push1");
    REQUIRE(ans != NULL);
    CHECK_STR(canto_stanza_attr(ans, "type"), "result");
    CHECK(canto_stanza_first_element(ans) == NULL);
    canto_stanza_free(ans);
    CHECK_INT(canto_roster_count(e.r), 2);
    CHECK_STR(canto_roster_version(e.r), "v2");
    CHECK_INT(e.nchanges, 1);
    CHECK_INT(e.changes[0].kind, CANTO_ROSTER_ADDED);
    CHECK_STR(e.changes[0].jid, "nurse@example.com");
    const canto_roster_item *nurse = canto_roster_find(e.r, "nurse@example.com");
    CHECK_INT(canto_roster_item_ask(nurse), 1);
    CHECK_STR(canto_roster_item_group(nurse, 0), "Servants");

    /* Without from: accepted; an update reports the old item. */
    feed(&e, "<iq type='set' id='push2'><query xmlns='jabber:iq:roster' ver='v3'>"
             "<item jid='romeo@example.net' name='Romeo M.' subscription='both'/></query></iq>");
    ans = answer_to(&e, "push2");
    REQUIRE(ans != NULL);
    CHECK_STR(canto_stanza_attr(ans, "type"), "result");
    canto_stanza_free(ans);
    CHECK_INT(e.nchanges, 2);
    CHECK_INT(e.changes[1].kind, CANTO_ROSTER_UPDATED);
    CHECK_STR(e.changes[1].old_name, "Romeo");
    CHECK_STR(e.changes[1].name, "Romeo M.");
    CHECK_STR(canto_roster_version(e.r), "v3");
    /* The same item again: answered, no change reported. */
    feed(&e, "<iq type='set' id='push2b'><query xmlns='jabber:iq:roster'>"
             "<item jid='romeo@example.net' name='Romeo M.' subscription='both'/></query></iq>");
    ans = answer_to(&e, "push2b");
    CHECK(ans != NULL);
    canto_stanza_free(ans);
    CHECK_INT(e.nchanges, 2);
    CHECK_STR(canto_roster_version(e.r), "v3"); /* a push without ver keeps it */

    /* From strangers, our own full JID, or our server's domain: ignored and
     * answered with service-unavailable. */
    static const char *const strangers[] = {
        "mallory@evil.example", "tester@localhost/fake", "localhost",
        "evil.example",         "tester@evil.example",   "not a@@jid"};
    for (size_t i = 0; i < sizeof(strangers) / sizeof(strangers[0]); i++) {
        char id[16];
        snprintf(id, sizeof(id), "spoof%zu", i);
        fake_server_send(e.fs,
                         "<iq type='set' id='%s' from='%s'><query xmlns='jabber:iq:roster' "
                         "ver='evil'><item jid='mallory@evil.example' name='Trust me'/>"
                         "</query></iq>",
                         id, strangers[i]);
        CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
        ans = answer_to(&e, id);
        REQUIRE(ans != NULL);
        CHECK_STR(canto_stanza_attr(ans, "type"), "error");
        canto_stanza_error err = CANTO_STANZA_ERROR_INIT;
        CHECK_INT(canto_stanza_get_error(ans, &err), 0);
        CHECK_INT(err.condition, CANTO_COND_SERVICE_UNAVAILABLE);
        canto_stanza_free(ans);
    }
    CHECK(canto_roster_find(e.r, "mallory@evil.example") == NULL);
    CHECK_INT(canto_roster_count(e.r), 2);
    CHECK_STR(canto_roster_version(e.r), "v3");
    CHECK_INT(e.nchanges, 2);

    /* Malformed pushes: bad-request, nothing changes. */
    static const char *const bad[] = {
        "<query xmlns='jabber:iq:roster'/>",
        ("<query xmlns='jabber:iq:roster'><item jid='a@x.example'/>"
         "<item jid='b@x.example'/></query>"),
        "<query xmlns='jabber:iq:roster'><item jid='a@@example.com'/></query>",
        "<query xmlns='jabber:iq:roster'><item name='no jid'/></query>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char id[16];
        snprintf(id, sizeof(id), "bad%zu", i);
        fake_server_send(e.fs, "<iq type='set' id='%s'>%s</iq>", id, bad[i]);
        CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
        ans = answer_to(&e, id);
        REQUIRE(ans != NULL);
        canto_stanza_error err = CANTO_STANZA_ERROR_INIT;
        CHECK_INT(canto_stanza_get_error(ans, &err), 0);
        CHECK_INT(err.condition, CANTO_COND_BAD_REQUEST);
        canto_stanza_free(ans);
    }
    CHECK_INT(canto_roster_count(e.r), 2);
    CHECK_INT(e.nchanges, 2);

    /* Removal. */
    feed(&e, "<iq type='set' id='push3' from='tester@localhost'><query xmlns='jabber:iq:roster' "
             "ver='v4'><item jid='nurse@example.com' subscription='remove'/></query></iq>");
    ans = answer_to(&e, "push3");
    CHECK(ans != NULL);
    canto_stanza_free(ans);
    CHECK(canto_roster_find(e.r, "nurse@example.com") == NULL);
    CHECK_INT(e.nchanges, 3);
    CHECK_INT(e.changes[2].kind, CANTO_ROSTER_REMOVED);
    CHECK_STR(e.changes[2].jid, "nurse@example.com");
    CHECK_STR(e.changes[2].name, "Nurse");
    CHECK_STR(canto_roster_version(e.r), "v4");
    /* Removing what is not there: answered, nothing reported. */
    feed(&e, "<iq type='set' id='push4'><query xmlns='jabber:iq:roster' ver='v5'>"
             "<item jid='ghost@example.com' subscription='remove'/></query></iq>");
    ans = answer_to(&e, "push4");
    CHECK(ans != NULL);
    canto_stanza_free(ans);
    CHECK_INT(e.nchanges, 3);
    CHECK_INT(canto_roster_count(e.r), 1);
    teardown(&e);
    return 0;
}

static int test_item_requests(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    const char *groups[] = {"Friends", "Work", "Friends"};
    CHECK_INT(canto_roster_set_item(e.r, "Juliet@Example.com", "Juliet", groups, 3, on_result, &e),
              0);
    canto_stanza *iq = next_request(&e, "set");
    REQUIRE(iq != NULL);
    const canto_stanza *item = canto_stanza_find(iq, "{jabber:iq:roster}query/item");
    REQUIRE(item != NULL);
    CHECK_STR(canto_stanza_attr(item, "jid"), "juliet@example.com");
    CHECK_STR(canto_stanza_attr(item, "name"), "Juliet");
    CHECK(canto_stanza_attr(item, "subscription") == NULL);
    int ngroups = 0;
    for (const canto_stanza *g = canto_stanza_child(item, "group", CANTO_NS_ROSTER); g;
         g = canto_stanza_next_match(g, "group", CANTO_NS_ROSTER))
        ngroups++;
    CHECK_INT(ngroups, 2);
    fake_server_send(e.fs, "<iq type='result' id='%s'/>", canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(e.nresults, 1);
    CHECK_INT(e.outcome, CANTO_IQ_RESULT);
    /* The copy waits for the push. */
    CHECK_INT(canto_roster_count(e.r), 0);

    CHECK_INT(canto_roster_remove_item(e.r, "juliet@example.com", on_result, &e), 0);
    iq = next_request(&e, "set");
    REQUIRE(iq != NULL);
    item = canto_stanza_find(iq, "{jabber:iq:roster}query/item");
    CHECK_STR(canto_stanza_attr(item, "subscription"), "remove");
    CHECK(canto_stanza_attr(item, "name") == NULL);
    fake_server_send(e.fs,
                     "<iq type='error' id='%s'><error type='cancel'><item-not-found "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
                     canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(e.nresults, 2);
    CHECK_INT(e.outcome, CANTO_IQ_ERROR);
    CHECK_INT(e.cond, CANTO_COND_ITEM_NOT_FOUND);

    /* Refused before sending. */
    const char *empty[] = {""};
    const char *null_group[] = {NULL};
    CHECK_INT(canto_roster_set_item(e.r, "a@example.com", NULL, empty, 1, NULL, NULL),
              CANTO_EINVAL);
    CHECK_INT(canto_roster_set_item(e.r, "a@example.com", NULL, null_group, 1, NULL, NULL),
              CANTO_EINVAL);
    CHECK_INT(canto_roster_set_item(e.r, "a@example.com", NULL, NULL, 1, NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_roster_set_item(e.r, "a@@example.com", NULL, NULL, 0, NULL, NULL),
              CANTO_EJID_DOMAIN);
    CHECK_INT(canto_roster_set_item(e.r, NULL, NULL, NULL, 0, NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_roster_remove_item(NULL, "a@example.com", NULL, NULL), CANTO_EINVAL);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(fake_server_pending(e.fs), 0);

    /* Pending requests are cancelled by a disconnect: one callback each. */
    CHECK_INT(canto_roster_fetch(e.r, on_result, &e), 0);
    CHECK_INT(canto_roster_set_item(e.r, "b@example.com", NULL, NULL, 0, on_result, &e), 0);
    fake_server_drop(e.fs);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    CHECK_INT(e.nresults, 4);
    CHECK_INT(e.outcome, CANTO_IQ_CANCELED);
    CHECK_INT(canto_roster_fetch(e.r, on_result, &e), CANTO_ENOTCONN);
    CHECK_INT(canto_roster_remove_item(e.r, "b@example.com", on_result, &e), CANTO_ENOTCONN);
    fake_server_run(e.fs, e.loop, 30);
    CHECK_INT(e.nresults, 4);
    teardown(&e);
    return 0;
}

static int test_free_with_pending(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    CHECK_INT(canto_roster_fetch(e.r, on_result, &e), 0);
    CHECK_INT(canto_roster_fetch(e.r, on_result, &e), 0);
    canto_roster_free(e.r);
    e.r = NULL;
    CHECK_INT(e.nresults, 2);
    CHECK_INT(e.outcome, CANTO_IQ_CANCELED);
    CHECK_INT(canto_client_pending_iqs(e.client), 0);
    /* Answers arriving now reach nobody. */
    canto_stanza *iq;
    while ((iq = fake_server_next_named(e.fs, e.loop, "iq", "get", 100)) != NULL) {
        fake_server_send(e.fs, "<iq type='result' id='%s'/>", canto_stanza_attr(iq, "id"));
        canto_stanza_free(iq);
    }
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(e.nresults, 2);

    /* Freed from inside its own result callback. */
    REQUIRE(canto_roster_new(e.client, &e.r) == 0);
    e.free_in_result = 1;
    CHECK_INT(canto_roster_fetch(e.r, on_result, &e), 0);
    iq = next_request(&e, "get");
    REQUIRE(iq != NULL);
    fake_server_send(e.fs, "<iq type='result' id='%s'>%s</iq>", canto_stanza_attr(iq, "id"),
                     first_roster);
    canto_stanza_free(iq);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK(e.r == NULL);
    CHECK_INT(e.nresults, 3);
    /* A push now is nobody's: the client answers service-unavailable. */
    feed(&e, "<iq type='set' id='late'><query xmlns='jabber:iq:roster'>"
             "<item jid='x@example.com'/></query></iq>");
    canto_stanza *ans = answer_to(&e, "late");
    REQUIRE(ans != NULL);
    CHECK_STR(canto_stanza_attr(ans, "type"), "error");
    canto_stanza_free(ans);
    teardown(&e);
    return 0;
}

static int test_export_import(void)
{
    env e;
    REQUIRE(setup(&e, 0) == 0);
    CHECK_INT(canto_roster_count(e.r), 0);
    CHECK(canto_roster_version(e.r) == NULL);
    /* Import while disconnected: no change callback. */
    CHECK_INT(canto_roster_import(e.r, first_roster, strlen(first_roster)), 0);
    CHECK_INT(canto_roster_count(e.r), 4);
    CHECK_STR(canto_roster_version(e.r), "v1");
    CHECK_INT(e.nchanges, 0);

    char *buf;
    size_t len;
    CHECK_INT(canto_roster_export(e.r, &buf, &len), 0);
    REQUIRE(buf != NULL);
    CHECK_INT(len, strlen(buf));
    CHECK(strstr(buf, "ver=") != NULL);

    /* Round trip into another roster of another client. */
    env f;
    REQUIRE(setup(&f, 0) == 0);
    CHECK_INT(canto_roster_import(f.r, buf, len), 0);
    CHECK_INT(canto_roster_count(f.r), 4);
    CHECK_STR(canto_roster_version(f.r), "v1");
    for (size_t i = 0; i < canto_roster_count(e.r); i++) {
        const canto_roster_item *a = canto_roster_item_at(e.r, i);
        const canto_roster_item *b = canto_roster_item_at(f.r, i);
        CHECK(canto_jid_equal(canto_roster_item_jid(a), canto_roster_item_jid(b)));
        CHECK_STR(canto_roster_item_name(a), canto_roster_item_name(b));
        CHECK_INT(canto_roster_item_subscription(a), canto_roster_item_subscription(b));
        CHECK_INT(canto_roster_item_ask(a), canto_roster_item_ask(b));
        CHECK_INT(canto_roster_item_approved(a), canto_roster_item_approved(b));
        CHECK_INT(canto_roster_item_group_count(a), canto_roster_item_group_count(b));
        for (size_t g = 0; g < canto_roster_item_group_count(a); g++)
            CHECK_STR(canto_roster_item_group(a, g), canto_roster_item_group(b, g));
    }
    char *buf2;
    CHECK_INT(canto_roster_export(f.r, &buf2, NULL), 0);
    CHECK_STR(buf2, buf);
    canto_free(buf2);

    /* Bad input changes nothing. */
    CHECK_INT(canto_roster_import(f.r, "<query xmlns='jabber:iq:roster'><item", (size_t)-1),
              CANTO_EXML);
    CHECK_INT(canto_roster_import(f.r, "<query xmlns='other'/>", (size_t)-1), CANTO_EINVAL);
    CHECK_INT(canto_roster_import(f.r, "<foo/>", (size_t)-1), CANTO_EINVAL);
    CHECK_INT(canto_roster_import(f.r, NULL, 0), CANTO_EINVAL);
    CHECK_INT(canto_roster_count(f.r), 4);
    CHECK_STR(canto_roster_version(f.r), "v1");

    /* The imported version goes out with the next fetch; "nothing changed"
     * keeps the imported copy. */
    REQUIRE(fake_server_connect(f.fs, f.loop, f.client, WAIT) == 0);
    CHECK_INT(canto_roster_fetch(f.r, on_result, &f), 0);
    canto_stanza *iq = next_request(&f, "get");
    REQUIRE(iq != NULL);
    CHECK_STR(canto_stanza_attr(canto_stanza_child(iq, "query", CANTO_NS_ROSTER), "ver"), "v1");
    fake_server_send(f.fs, "<iq type='result' id='%s'/>", canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    CHECK_INT(fake_server_sync(f.fs, f.loop, WAIT), 0);
    CHECK_INT(f.nresults, 1);
    CHECK_INT(canto_roster_count(f.r), 4);

    /* The copy survives a disconnect. */
    fake_server_drop(f.fs);
    CHECK(fake_server_wait(f.fs, f.loop, is_disconnected, f.client, WAIT));
    CHECK_INT(canto_roster_count(f.r), 4);
    CHECK_STR(canto_roster_version(f.r), "v1");

    CHECK_INT(canto_roster_clear(f.r), 0);
    CHECK_INT(canto_roster_count(f.r), 0);
    CHECK(canto_roster_version(f.r) == NULL);
    canto_free(buf);
    /* An empty roster exports to an empty query without ver. */
    CHECK_INT(canto_roster_export(f.r, &buf, NULL), 0);
    CHECK(strstr(buf, "ver=") == NULL);
    CHECK(strstr(buf, "jabber:iq:roster") != NULL);
    canto_free(buf);
    teardown(&f);
    teardown(&e);
    return 0;
}

/* RFC 6121 §2.6.2: no `ver` to a server that did not announce versioning,
 * even with a cached version. */
static int test_no_versioning(void)
{
    env e;
    setup_no_versioning = 1;
    int rc = setup(&e, 1);
    setup_no_versioning = 0;
    REQUIRE(rc == 0);
    CHECK_INT(canto_roster_import(e.r, first_roster, (size_t)-1), 0);
    CHECK_STR(canto_roster_version(e.r), "v1");
    CHECK_INT(canto_roster_fetch(e.r, on_result, &e), 0);
    canto_stanza *iq = next_request(&e, "get");
    REQUIRE(iq != NULL);
    CHECK(canto_stanza_attr(canto_stanza_child(iq, "query", CANTO_NS_ROSTER), "ver") == NULL);
    fake_server_send(e.fs,
                     "<iq type='result' id='%s'><query xmlns='jabber:iq:roster'>"
                     "<item jid='juliet@example.com'/></query></iq>",
                     canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(e.nresults, 1);
    CHECK_INT(canto_roster_count(e.r), 1);
    CHECK(canto_roster_version(e.r) == NULL);
    teardown(&e);
    return 0;
}

static int test_misc(void)
{
    CHECK_INT(canto_roster_new(NULL, NULL), CANTO_EINVAL);
    canto_roster_free(NULL);
    CHECK_INT(canto_roster_count(NULL), 0);
    CHECK(canto_roster_item_at(NULL, 0) == NULL);
    CHECK(canto_roster_find(NULL, "a@b") == NULL);
    CHECK(canto_roster_version(NULL) == NULL);
    CHECK(canto_roster_item_jid(NULL) == NULL);
    CHECK_INT(canto_roster_fetch(NULL, NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_roster_export(NULL, NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_roster_clear(NULL), CANTO_EINVAL);
    CHECK_STR(canto_roster_subscription_name(CANTO_ROSTER_SUB_BOTH), "both");
    CHECK_STR(canto_roster_subscription_name(CANTO_ROSTER_SUB_REMOVE), "remove");
    CHECK(canto_roster_subscription_name((canto_roster_subscription)42) == NULL);
    return 0;
}

int main(void)
{
    RUN(test_fetch);
    RUN(test_pushes);
    RUN(test_item_requests);
    RUN(test_free_with_pending);
    RUN(test_export_import);
    RUN(test_no_versioning);
    RUN(test_misc);
    return CHECK_DONE();
}
