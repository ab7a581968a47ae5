/* Presence plugin: what it sends, what it tracks from canned presence, and its
 * life across disconnects, against the scripted server in fake_server.c. */
#include "check.h"
#include "fake_server.h"

#include <stdlib.h>

#include <canto/canto.h>
#include <canto/presence.h>

#define ME "tester@localhost/fake"
#define WAIT 3000

typedef struct event {
    char jid[128];
    int had_old, has_new, error;
    char old_status[64], new_status[64];
    int has_stanza;
} event;

typedef struct env {
    canto_loop *loop;
    fake_server *fs;
    canto_client *client;
    canto_presence *p;
    event events[32];
    int nevents;
    /* subscription callback */
    int nsubs;
    canto_presence_subscription sub_kind;
    char sub_from[128];
    char sub_status[64];
    /* options */
    int set_in_state_cb;
    int free_in_cb;
} env;

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void on_changed(void *ud, canto_presence *p, const canto_presence_change *ch)
{
    env *e = ud;
    if (e->nevents < 32) {
        event *ev = &e->events[e->nevents];
        copy(ev->jid, sizeof(ev->jid), canto_jid_str(ch->jid));
        ev->had_old = ch->old_state != NULL;
        ev->has_new = ch->new_state != NULL;
        ev->error = ch->error;
        ev->has_stanza = ch->stanza != NULL;
        copy(ev->old_status, sizeof(ev->old_status), canto_presence_resource_status(ch->old_state));
        copy(ev->new_status, sizeof(ev->new_status), canto_presence_resource_status(ch->new_state));
    }
    e->nevents++;
    if (e->free_in_cb) {
        canto_presence_free(p);
        e->p = NULL;
        e->free_in_cb = 0;
    }
}

static void on_sub(void *ud, canto_presence *p, canto_presence_subscription kind,
                   const canto_jid *from, const char *status, const canto_stanza *st)
{
    env *e = ud;
    (void)p;
    (void)st;
    e->nsubs++;
    e->sub_kind = kind;
    copy(e->sub_from, sizeof(e->sub_from), canto_jid_str(from));
    copy(e->sub_status, sizeof(e->sub_status), status);
}

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    env *e = ud;
    (void)c;
    (void)info;
    if (st == CANTO_CLIENT_CONNECTED && e->set_in_state_cb) {
        canto_presence_availability a = CANTO_PRESENCE_AVAILABILITY_INIT;
        a.status = "from the state callback";
        canto_presence_set_available(e->p, &a);
    }
}

static int setup_auto_reconnect;

static int setup(env *e, int connect)
{
    memset(e, 0, sizeof(*e));
    if (canto_loop_new(NULL, &e->loop) != 0 || fake_server_new(ME, &e->fs) != 0)
        return -1;
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    fake_server_client_options(e->fs, &o);
    /* A dropped connection stays dropped, except where a test wants more. */
    o.reconnect = setup_auto_reconnect ? CANTO_RECONNECT_AUTO : CANTO_RECONNECT_MANUAL;
    o.reconnect_min_ms = 20;
    o.reconnect_max_ms = 40;
    /* Stanzas not yet acked when a session is lost are not sent again on a
     * new one, so what reaches the server depends on the plugin alone. */
    o.resend = CANTO_RESEND_NEVER;
    if (canto_client_new(e->loop, "localhost", &o, &e->client) != 0 ||
        canto_presence_new(e->client, &e->p) != 0)
        return -1;
    canto_client_set_state_callback(e->client, on_state, e);
    canto_presence_set_changed_callback(e->p, on_changed, e);
    canto_presence_set_subscription_callback(e->p, on_sub, e);
    if (connect && fake_server_connect(e->fs, e->loop, e->client, WAIT) != 0)
        return -1;
    return 0;
}

static void teardown(env *e)
{
    canto_presence_free(e->p);
    canto_client_free(e->client);
    fake_server_free(e->fs);
    canto_loop_free(e->loop);
}

/* Send canned XML and give the client time to take it. */
static void feed(env *e, const char *xml)
{
    fake_server_send(e->fs, "%s", xml);
    CHECK_INT(fake_server_sync(e->fs, e->loop, WAIT), 0);
}

static int is_disconnected(void *ud)
{
    return canto_client_get_state(ud) == CANTO_CLIENT_DISCONNECTED;
}

/* ------------------------------------------------------------------------- */

static int test_send_available(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    canto_stanza *caps;
    REQUIRE(canto_stanza_parse(NULL,
                               "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                               "node='https://canto.example' ver='abc='/>",
                               (size_t)-1, &caps) == 0);
    const canto_stanza *payload[] = {caps};
    canto_presence_availability a = CANTO_PRESENCE_AVAILABILITY_INIT;
    a.show = CANTO_PRESENCE_SHOW_AWAY;
    a.status = "Lunch <&>";
    a.priority = -5;
    a.payload = payload;
    a.n_payload = 1;
    CHECK_INT(canto_presence_set_available(e.p, &a), 0);
    CHECK_INT(canto_presence_is_available(e.p), 1);
    canto_stanza *st = fake_server_next(e.fs, e.loop, WAIT);
    REQUIRE(st != NULL);
    CHECK(canto_stanza_is(st, "presence", CANTO_NS_CLIENT));
    CHECK(canto_stanza_attr(st, "type") == NULL);
    CHECK(canto_stanza_attr(st, "to") == NULL);
    CHECK_STR(canto_stanza_child_text(st, "show", NULL), "away");
    CHECK_STR(canto_stanza_child_text(st, "status", NULL), "Lunch <&>");
    CHECK_STR(canto_stanza_child_text(st, "priority", NULL), "-5");
    const canto_stanza *c = canto_stanza_child(st, "c", "http://jabber.org/protocol/caps");
    CHECK(c != NULL);
    CHECK_STR(canto_stanza_attr(c, "ver"), "abc=");
    canto_stanza_free(st);

    /* Plain availability: no show, no status, no priority element. */
    canto_presence_availability plain = CANTO_PRESENCE_AVAILABILITY_INIT;
    CHECK_INT(canto_presence_set_available(e.p, &plain), 0);
    st = fake_server_next(e.fs, e.loop, WAIT);
    REQUIRE(st != NULL);
    CHECK(canto_stanza_attr(st, "type") == NULL);
    CHECK(canto_stanza_first_element(st) == NULL);
    canto_stanza_free(st);

    /* Refused: nothing is sent, the remembered availability stays. */
    a.priority = 128;
    CHECK_INT(canto_presence_set_available(e.p, &a), CANTO_EINVAL);
    a.priority = -129;
    CHECK_INT(canto_presence_set_available(e.p, &a), CANTO_EINVAL);
    a.priority = 0;
    a.show = (canto_presence_show)7;
    CHECK_INT(canto_presence_set_available(e.p, &a), CANTO_EINVAL);
    a.show = CANTO_PRESENCE_SHOW_DND;
    const canto_stanza *bad[] = {NULL};
    a.payload = bad;
    CHECK_INT(canto_presence_set_available(e.p, &a), CANTO_EINVAL);
    a.payload = NULL;
    CHECK_INT(canto_presence_set_available(e.p, &a), CANTO_EINVAL); /* n_payload 1, no array */
    a.n_payload = 0;
    a.version = 99;
    CHECK_INT(canto_presence_set_available(e.p, &a), CANTO_EINVAL);
    CHECK_INT(canto_presence_set_available(NULL, &plain), CANTO_EINVAL);
    CHECK_INT(canto_presence_set_available(e.p, NULL), CANTO_EINVAL);
    /* Extremes are fine. */
    plain.priority = 127;
    CHECK_INT(canto_presence_set_available(e.p, &plain), 0);
    st = fake_server_next(e.fs, e.loop, WAIT);
    CHECK_STR(canto_stanza_child_text(st, "priority", NULL), "127");
    canto_stanza_free(st);
    plain.priority = -128;
    CHECK_INT(canto_presence_set_available(e.p, &plain), 0);
    st = fake_server_next(e.fs, e.loop, WAIT);
    CHECK_STR(canto_stanza_child_text(st, "priority", NULL), "-128");
    canto_stanza_free(st);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(fake_server_pending(e.fs), 0);

    /* Unavailable with a status; forgotten afterwards. */
    CHECK_INT(canto_presence_set_unavailable(e.p, "bye"), 0);
    CHECK_INT(canto_presence_is_available(e.p), 0);
    st = fake_server_next(e.fs, e.loop, WAIT);
    REQUIRE(st != NULL);
    CHECK_STR(canto_stanza_attr(st, "type"), "unavailable");
    CHECK_STR(canto_stanza_child_text(st, "status", NULL), "bye");
    canto_stanza_free(st);

    CHECK_STR(canto_presence_show_name(CANTO_PRESENCE_SHOW_XA), "xa");
    CHECK_STR(canto_presence_show_name(CANTO_PRESENCE_SHOW_CHAT), "chat");
    CHECK(canto_presence_show_name(CANTO_PRESENCE_SHOW_NONE) == NULL);
    canto_stanza_free(caps);
    teardown(&e);
    return 0;
}

static int count_presences(env *e)
{
    CHECK_INT(fake_server_sync(e->fs, e->loop, WAIT), 0);
    int n = 0;
    canto_stanza *st;
    while ((st = fake_server_next(e->fs, e->loop, 0)) != NULL) {
        if (canto_stanza_is(st, "presence", NULL))
            n++;
        canto_stanza_free(st);
    }
    return n;
}

static int test_resend_on_connect(void)
{
    env e;
    REQUIRE(setup(&e, 0) == 0);
    /* Set while disconnected: remembered, sent as initial presence. */
    canto_presence_availability a = CANTO_PRESENCE_AVAILABILITY_INIT;
    a.show = CANTO_PRESENCE_SHOW_DND;
    a.status = "busy";
    CHECK_INT(canto_presence_set_available(e.p, &a), 0);
    CHECK_INT(canto_presence_is_available(e.p), 1);
    REQUIRE(fake_server_connect(e.fs, e.loop, e.client, WAIT) == 0);
    canto_stanza *st = fake_server_next(e.fs, e.loop, WAIT);
    REQUIRE(st != NULL);
    CHECK(canto_stanza_is(st, "presence", NULL));
    CHECK_STR(canto_stanza_child_text(st, "show", NULL), "dnd");
    CHECK_STR(canto_stanza_child_text(st, "status", NULL), "busy");
    canto_stanza_free(st);
    CHECK_INT(count_presences(&e), 0); /* exactly once */

    /* The connection dies; the next session gets it again. */
    fake_server_drop(e.fs);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    REQUIRE(fake_server_connect(e.fs, e.loop, e.client, WAIT) == 0);
    CHECK_INT(fake_server_sessions(e.fs), 2);
    st = fake_server_next(e.fs, e.loop, WAIT);
    REQUIRE(st != NULL);
    CHECK_STR(canto_stanza_child_text(st, "show", NULL), "dnd");
    canto_stanza_free(st);
    CHECK_INT(count_presences(&e), 0);

    /* Set from the application's own state callback: still only once. */
    canto_client_disconnect(e.client);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    e.set_in_state_cb = 1;
    REQUIRE(fake_server_connect(e.fs, e.loop, e.client, WAIT) == 0);
    st = fake_server_next(e.fs, e.loop, WAIT);
    REQUIRE(st != NULL);
    CHECK_STR(canto_stanza_child_text(st, "status", NULL), "from the state callback");
    canto_stanza_free(st);
    CHECK_INT(count_presences(&e), 0);
    e.set_in_state_cb = 0;

    /* After going unavailable, later sessions start without presence. */
    CHECK_INT(canto_presence_set_unavailable(e.p, NULL), 0);
    CHECK_INT(count_presences(&e), 1);
    fake_server_drop(e.fs);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    /* Unavailable while disconnected: nothing to send, not an error. */
    CHECK_INT(canto_presence_set_unavailable(e.p, NULL), 0);
    REQUIRE(fake_server_connect(e.fs, e.loop, e.client, WAIT) == 0);
    CHECK_INT(count_presences(&e), 0);
    teardown(&e);
    return 0;
}

static int test_directed_and_subscriptions(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    canto_presence_availability a = CANTO_PRESENCE_AVAILABILITY_INIT;
    a.show = CANTO_PRESENCE_SHOW_CHAT;
    CHECK_INT(canto_presence_send_directed(e.p, "Room@Conference.Localhost/Nick", &a), 0);
    canto_stanza *st = fake_server_next(e.fs, e.loop, WAIT);
    REQUIRE(st != NULL);
    CHECK_STR(canto_stanza_attr(st, "to"), "room@conference.localhost/Nick");
    CHECK(canto_stanza_attr(st, "type") == NULL);
    CHECK_STR(canto_stanza_child_text(st, "show", NULL), "chat");
    canto_stanza_free(st);
    CHECK_INT(canto_presence_send_directed(e.p, "room@conference.localhost/Nick", NULL), 0);
    st = fake_server_next(e.fs, e.loop, WAIT);
    REQUIRE(st != NULL);
    CHECK_STR(canto_stanza_attr(st, "type"), "unavailable");
    CHECK_STR(canto_stanza_attr(st, "to"), "room@conference.localhost/Nick");
    canto_stanza_free(st);
    /* Directed presence is not remembered. */
    CHECK_INT(canto_presence_is_available(e.p), 0);
    CHECK_INT(canto_presence_send_directed(e.p, "a@@b", &a), CANTO_EJID_DOMAIN);
    CHECK_INT(canto_presence_send_directed(e.p, NULL, &a), CANTO_EINVAL);

    /* Subscription stanzas go to the bare JID. */
    static const struct {
        canto_presence_subscription kind;
        const char *type;
    } kinds[] = {
        {CANTO_PRESENCE_SUBSCRIBE, "subscribe"},
        {CANTO_PRESENCE_SUBSCRIBED, "subscribed"},
        {CANTO_PRESENCE_UNSUBSCRIBE, "unsubscribe"},
        {CANTO_PRESENCE_UNSUBSCRIBED, "unsubscribed"},
    };
    for (size_t i = 0; i < 4; i++) {
        CHECK_INT(
            canto_presence_send_subscription(e.p, kinds[i].kind, "Bob@Localhost/phone", "please"),
            0);
        st = fake_server_next(e.fs, e.loop, WAIT);
        REQUIRE(st != NULL);
        CHECK_STR(canto_stanza_attr(st, "type"), kinds[i].type);
        CHECK_STR(canto_stanza_attr(st, "to"), "bob@localhost");
        /* Only a request carries the status. */
        if (kinds[i].kind == CANTO_PRESENCE_SUBSCRIBE)
            CHECK_STR(canto_stanza_child_text(st, "status", NULL), "please");
        else
            CHECK(canto_stanza_child(st, "status", NULL) == NULL);
        canto_stanza_free(st);
    }
    CHECK_INT(canto_presence_subscribe(e.p, "carol@localhost", NULL), 0);
    CHECK_INT(canto_presence_approve(e.p, "carol@localhost"), 0);
    CHECK_INT(canto_presence_deny(e.p, "carol@localhost"), 0);
    CHECK_INT(canto_presence_unsubscribe(e.p, "carol@localhost"), 0);
    const char *want[] = {"subscribe", "subscribed", "unsubscribed", "unsubscribe"};
    for (size_t i = 0; i < 4; i++) {
        st = fake_server_next(e.fs, e.loop, WAIT);
        REQUIRE(st != NULL);
        CHECK_STR(canto_stanza_attr(st, "type"), want[i]);
        CHECK_STR(canto_stanza_attr(st, "to"), "carol@localhost");
        CHECK(canto_stanza_first_element(st) == NULL);
        canto_stanza_free(st);
    }
    CHECK_INT(canto_presence_send_subscription(e.p, (canto_presence_subscription)0, "a@b", NULL),
              CANTO_EINVAL);
    CHECK_INT(canto_presence_send_subscription(e.p, (canto_presence_subscription)5, "a@b", NULL),
              CANTO_EINVAL);
    CHECK_INT(canto_presence_subscribe(e.p, "", NULL), CANTO_EJID_DOMAIN);

    canto_client_disconnect(e.client);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    CHECK_INT(canto_presence_subscribe(e.p, "carol@localhost", NULL), CANTO_ENOTCONN);
    CHECK_INT(canto_presence_send_directed(e.p, "carol@localhost", NULL), CANTO_ENOTCONN);
    teardown(&e);
    return 0;
}

static const canto_presence_resource *resource(env *e, const char *bare, const char *full)
{
    const canto_presence_contact *c = canto_presence_find(e->p, bare);
    for (size_t i = 0; i < canto_presence_contact_resource_count(c); i++) {
        const canto_presence_resource *r = canto_presence_contact_resource_at(c, i);
        if (strcmp(canto_jid_str(canto_presence_resource_jid(r)), full) == 0)
            return r;
    }
    return NULL;
}

static int test_tracking(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    feed(&e, "<presence from='bob@localhost/a'><show>away</show><status>x</status>"
             "<priority>1</priority><c xmlns='http://jabber.org/protocol/caps' ver='v1'/>"
             "</presence>"
             "<presence from='Bob@LOCALHOST/b'><show>chat</show><priority>5</priority></presence>"
             "<presence from='carol@localhost'/>");
    CHECK_INT(e.nevents, 3);
    CHECK_STR(e.events[0].jid, "bob@localhost/a");
    CHECK(!e.events[0].had_old && e.events[0].has_new && e.events[0].has_stanza);
    CHECK_STR(e.events[0].new_status, "x");
    CHECK_STR(e.events[1].jid, "bob@localhost/b");
    CHECK_STR(e.events[2].jid, "carol@localhost");
    CHECK_INT(canto_presence_contact_count(e.p), 2);
    /* Sorted by bare JID. */
    CHECK_STR(canto_jid_str(canto_presence_contact_jid(canto_presence_contact_at(e.p, 0))),
              "bob@localhost");
    CHECK_STR(canto_jid_str(canto_presence_contact_jid(canto_presence_contact_at(e.p, 1))),
              "carol@localhost");
    CHECK(canto_presence_contact_at(e.p, 2) == NULL);

    const canto_presence_contact *bob = canto_presence_find(e.p, "bob@localhost/whatever");
    REQUIRE(bob != NULL);
    CHECK_INT(canto_presence_contact_resource_count(bob), 2);
    CHECK(canto_presence_contact_error(bob) == NULL);
    const canto_presence_resource *ra = resource(&e, "bob@localhost", "bob@localhost/a");
    REQUIRE(ra != NULL);
    CHECK_INT(canto_presence_resource_show(ra), CANTO_PRESENCE_SHOW_AWAY);
    CHECK_STR(canto_presence_resource_status(ra), "x");
    CHECK_INT(canto_presence_resource_priority(ra), 1);
    const canto_stanza *rst = canto_presence_resource_stanza(ra);
    CHECK_STR(
        canto_stanza_attr(canto_stanza_child(rst, "c", "http://jabber.org/protocol/caps"), "ver"),
        "v1");
    const canto_presence_resource *best = canto_presence_contact_best(bob);
    REQUIRE(best != NULL);
    CHECK_STR(canto_jid_str(canto_presence_resource_jid(best)), "bob@localhost/b");
    CHECK_INT(canto_presence_resource_show(best), CANTO_PRESENCE_SHOW_CHAT);
    CHECK(canto_presence_resource_status(best) == NULL);
    const canto_presence_resource *rcar = resource(&e, "carol@localhost", "carol@localhost");
    REQUIRE(rcar != NULL);
    CHECK(canto_jid_resource(canto_presence_resource_jid(rcar)) == NULL);
    CHECK_INT(canto_presence_resource_priority(rcar), 0);
    CHECK(canto_presence_find(e.p, "nobody@localhost") == NULL);
    CHECK(canto_presence_find(e.p, "bad@@jid") == NULL);

    /* An update reports old and new. */
    e.nevents = 0;
    feed(&e, "<presence from='bob@localhost/a'><status>y</status><priority>9</priority>"
             "</presence>");
    CHECK_INT(e.nevents, 1);
    CHECK(e.events[0].had_old && e.events[0].has_new);
    CHECK_STR(e.events[0].old_status, "x");
    CHECK_STR(e.events[0].new_status, "y");
    bob = canto_presence_find(e.p, "bob@localhost");
    CHECK_INT(canto_presence_contact_resource_count(bob), 2);
    best = canto_presence_contact_best(bob);
    CHECK_STR(canto_jid_resource(canto_presence_resource_jid(best)), "a");
    ra = resource(&e, "bob@localhost", "bob@localhost/a");
    CHECK_INT(canto_presence_resource_show(ra), CANTO_PRESENCE_SHOW_NONE);
    /* The caps of the earlier stanza are gone with it. */
    CHECK(canto_stanza_child(canto_presence_resource_stanza(ra), "c", NULL) == NULL);

    /* Ties on priority: the more available show wins, then the newer one. */
    feed(&e, "<presence from='dave@localhost/1'><priority>3</priority><show>xa</show></presence>"
             "<presence from='dave@localhost/2'><priority>3</priority></presence>"
             "<presence from='dave@localhost/3'><priority>3</priority><show>dnd</show></presence>");
    const canto_presence_contact *dave = canto_presence_find(e.p, "dave@localhost");
    CHECK_STR(canto_jid_resource(canto_presence_resource_jid(canto_presence_contact_best(dave))),
              "2");
    feed(&e, "<presence from='dave@localhost/1'><priority>3</priority></presence>");
    dave = canto_presence_find(e.p, "dave@localhost");
    CHECK_STR(canto_jid_resource(canto_presence_resource_jid(canto_presence_contact_best(dave))),
              "1");

    /* Unavailable removes the resource, then the contact. */
    e.nevents = 0;
    feed(&e, "<presence from='bob@localhost/a' type='unavailable'><status>gone</status>"
             "</presence>");
    CHECK_INT(e.nevents, 1);
    CHECK(e.events[0].had_old && !e.events[0].has_new);
    CHECK_STR(e.events[0].old_status, "y");
    bob = canto_presence_find(e.p, "bob@localhost");
    CHECK_INT(canto_presence_contact_resource_count(bob), 1);
    CHECK_STR(canto_jid_resource(canto_presence_resource_jid(canto_presence_contact_best(bob))),
              "b");
    /* For a resource that is not there: nothing. */
    feed(&e, "<presence from='bob@localhost/zzz' type='unavailable'/>"
             "<presence from='nobody@localhost' type='unavailable'/>");
    CHECK_INT(e.nevents, 1);
    feed(&e, "<presence from='bob@localhost/b' type='unavailable'/>");
    CHECK_INT(e.nevents, 2);
    CHECK(canto_presence_find(e.p, "bob@localhost") == NULL);
    CHECK_INT(canto_presence_contact_count(e.p), 2); /* carol, dave */

    /* The disconnect forgets everyone, reporting each resource. */
    e.nevents = 0;
    fake_server_drop(e.fs);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    CHECK_INT(canto_presence_contact_count(e.p), 0);
    CHECK_INT(e.nevents, 4); /* carol + dave/1..3 */
    for (int i = 0; i < e.nevents && i < 32; i++)
        CHECK(e.events[i].had_old && !e.events[i].has_new && !e.events[i].has_stanza);
    teardown(&e);
    return 0;
}

static int saw_will_reconnect;

static void note_disconnect(void *ud, canto_client *c, canto_client_state st,
                            const canto_disconnect_info *info)
{
    (void)ud;
    (void)c;
    if (st == CANTO_CLIENT_DISCONNECTED && info)
        saw_will_reconnect = info->will_reconnect;
}

static int is_connected(void *ud)
{
    return canto_client_get_state(ud) == CANTO_CLIENT_CONNECTED;
}

/* With automatic reconnection, tracked presence survives the gap and goes
 * when the new connection turns out to be a new session (the fake server
 * has no stream management, so it always is). */
static int test_auto_reconnect(void)
{
    env e;
    setup_auto_reconnect = 1;
    int rc = setup(&e, 1);
    setup_auto_reconnect = 0;
    REQUIRE(rc == 0);
    REQUIRE(canto_client_add_listener(e.client, note_disconnect, NULL, NULL) == 0);
    canto_presence_availability a = CANTO_PRESENCE_AVAILABILITY_INIT;
    a.status = "here";
    CHECK_INT(canto_presence_set_available(e.p, &a), 0);
    CHECK_INT(count_presences(&e), 1);
    feed(&e, "<presence from='bob@localhost/a'/><presence from='carol@localhost/x'/>");
    CHECK_INT(e.nevents, 2);

    saw_will_reconnect = 0;
    e.nevents = 0;
    fake_server_drop(e.fs);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    CHECK_INT(saw_will_reconnect, 1);
    CHECK_INT(canto_presence_contact_count(e.p), 2); /* kept for a possible resumption */
    CHECK_INT(e.nevents, 0);
    /* Changed while away: the new session gets the new one, once. */
    a.status = "back";
    CHECK_INT(canto_presence_set_available(e.p, &a), 0);
    CHECK(fake_server_wait(e.fs, e.loop, is_connected, e.client, WAIT));
    CHECK_INT(fake_server_sessions(e.fs), 2);
    CHECK_INT(canto_presence_contact_count(e.p), 0); /* a new session: stale */
    CHECK_INT(e.nevents, 2);
    canto_stanza *st = fake_server_next_named(e.fs, e.loop, "presence", NULL, WAIT);
    REQUIRE(st != NULL);
    CHECK_STR(canto_stanza_child_text(st, "status", NULL), "back");
    canto_stanza_free(st);
    CHECK_INT(count_presences(&e), 0);

    /* Unavailable while away: the next session starts without presence. */
    fake_server_drop(e.fs);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    CHECK_INT(canto_presence_set_unavailable(e.p, NULL), 0);
    CHECK(fake_server_wait(e.fs, e.loop, is_connected, e.client, WAIT));
    CHECK_INT(fake_server_sessions(e.fs), 3);
    CHECK_INT(count_presences(&e), 0);

    /* An explicit disconnect does not reconnect, and clears at once. */
    feed(&e, "<presence from='bob@localhost/a'/>");
    CHECK_INT(canto_presence_contact_count(e.p), 1);
    canto_client_disconnect(e.client);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    CHECK_INT(saw_will_reconnect, 0);
    CHECK_INT(canto_presence_contact_count(e.p), 0);
    teardown(&e);
    return 0;
}

/* A session resumed with stream management keeps its presence both ways:
 * nothing is cleared, nothing re-sent unless it changed meanwhile. */
static int test_resumed_session(void)
{
    env e;
    setup_auto_reconnect = 1;
    int rc = setup(&e, 0);
    setup_auto_reconnect = 0;
    REQUIRE(rc == 0);
    fake_server_set_sm(e.fs, 1, 0);
    REQUIRE(fake_server_connect(e.fs, e.loop, e.client, WAIT) == 0);
    canto_presence_availability a = CANTO_PRESENCE_AVAILABILITY_INIT;
    a.status = "here";
    CHECK_INT(canto_presence_set_available(e.p, &a), 0);
    CHECK_INT(count_presences(&e), 1);
    feed(&e, "<presence from='bob@localhost/a'/>");
    CHECK_INT(e.nevents, 1);

    /* Resumed without changes: the same contacts, no presence sent. */
    e.nevents = 0;
    fake_server_drop(e.fs);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    CHECK(fake_server_wait(e.fs, e.loop, is_connected, e.client, WAIT));
    CHECK_INT(fake_server_resumptions(e.fs), 1);
    CHECK_INT(fake_server_sessions(e.fs), 1);
    CHECK_INT(canto_client_session_is_new(e.client), 0);
    CHECK_INT(e.nevents, 0);
    CHECK(canto_presence_find(e.p, "bob@localhost") != NULL);
    CHECK_INT(count_presences(&e), 0);

    /* Changed while away: sent once on resumption. */
    fake_server_drop(e.fs);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    a.status = "changed";
    CHECK_INT(canto_presence_set_available(e.p, &a), 0);
    CHECK(fake_server_wait(e.fs, e.loop, is_connected, e.client, WAIT));
    CHECK_INT(fake_server_resumptions(e.fs), 2);
    canto_stanza *st = fake_server_next_named(e.fs, e.loop, "presence", NULL, WAIT);
    REQUIRE(st != NULL);
    CHECK_STR(canto_stanza_child_text(st, "status", NULL), "changed");
    canto_stanza_free(st);
    CHECK_INT(count_presences(&e), 0);

    /* Withdrawn while away: the resumed session hears "unavailable". */
    fake_server_drop(e.fs);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    CHECK_INT(canto_presence_set_unavailable(e.p, NULL), 0);
    CHECK(fake_server_wait(e.fs, e.loop, is_connected, e.client, WAIT));
    CHECK_INT(fake_server_resumptions(e.fs), 3);
    st = fake_server_next_named(e.fs, e.loop, "presence", "unavailable", WAIT);
    CHECK(st != NULL);
    canto_stanza_free(st);

    /* Resumption refused: a new session after all, state cleared. */
    CHECK_INT(canto_presence_set_available(e.p, &a), 0);
    CHECK_INT(count_presences(&e), 1);
    feed(&e, "<presence from='bob@localhost/a'/>");
    CHECK_INT(canto_presence_contact_count(e.p), 1);
    fake_server_set_sm(e.fs, 1, 1);
    e.nevents = 0;
    fake_server_drop(e.fs);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    CHECK(fake_server_wait(e.fs, e.loop, is_connected, e.client, WAIT));
    CHECK_INT(fake_server_sessions(e.fs), 2);
    CHECK_INT(canto_client_session_is_new(e.client), 1);
    CHECK_INT(canto_presence_contact_count(e.p), 0);
    CHECK_INT(e.nevents, 1);
    CHECK_INT(count_presences(&e), 1); /* initial presence of the new session */
    teardown(&e);
    return 0;
}

static int test_unavailable_clears(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    feed(&e, "<presence from='bob@localhost/a'/><presence from='carol@localhost/x'/>");
    CHECK_INT(canto_presence_contact_count(e.p), 2);
    e.nevents = 0;
    CHECK_INT(canto_presence_set_unavailable(e.p, NULL), 0);
    CHECK_INT(canto_presence_contact_count(e.p), 0);
    CHECK_INT(e.nevents, 2);
    teardown(&e);
    return 0;
}

static int test_error_presence(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    feed(&e, "<presence from='bob@localhost/a'/><presence from='bob@localhost/b'/>"
             "<presence from='carol@localhost/a'/><presence from='carol@localhost/b'/>");
    CHECK_INT(e.nevents, 4);
    e.nevents = 0;
    /* From the bare JID: every resource goes, the contact stays marked. */
    feed(&e, "<presence from='bob@localhost' type='error'><error type='cancel'>"
             "<remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
             "</error></presence>");
    CHECK_INT(e.nevents, 2);
    for (int i = 0; i < 2; i++)
        CHECK(e.events[i].error && e.events[i].had_old && !e.events[i].has_new);
    const canto_presence_contact *bob = canto_presence_find(e.p, "bob@localhost");
    REQUIRE(bob != NULL);
    CHECK_INT(canto_presence_contact_resource_count(bob), 0);
    CHECK(canto_presence_contact_best(bob) == NULL);
    canto_stanza_error err = CANTO_STANZA_ERROR_INIT;
    CHECK_INT(canto_stanza_get_error(canto_presence_contact_error(bob), &err), 0);
    CHECK_INT(err.condition, CANTO_COND_REMOTE_SERVER_NOT_FOUND);
    /* From a full JID: only that resource. */
    e.nevents = 0;
    feed(&e, "<presence from='carol@localhost/a' type='error'><error type='cancel'>"
             "<gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
    CHECK_INT(e.nevents, 1);
    CHECK_STR(e.events[0].jid, "carol@localhost/a");
    const canto_presence_contact *carol = canto_presence_find(e.p, "carol@localhost");
    CHECK_INT(canto_presence_contact_resource_count(carol), 1);
    CHECK(canto_presence_contact_error(carol) != NULL);
    /* From someone unknown: a marked contact without resources. */
    e.nevents = 0;
    feed(&e, "<presence from='eve@elsewhere.example' type='error'/>");
    CHECK_INT(e.nevents, 1);
    CHECK(e.events[0].error && !e.events[0].had_old && !e.events[0].has_new);
    CHECK(canto_presence_find(e.p, "eve@elsewhere.example") != NULL);
    /* Available again clears the mark. */
    feed(&e, "<presence from='bob@localhost/c'/>");
    bob = canto_presence_find(e.p, "bob@localhost");
    CHECK(canto_presence_contact_error(bob) == NULL);
    CHECK_INT(canto_presence_contact_resource_count(bob), 1);
    teardown(&e);
    return 0;
}

static int seen_by_app;

static int app_handler(void *ud, canto_client *c, canto_stanza *st)
{
    (void)ud;
    (void)c;
    (void)st;
    seen_by_app++;
    return 1;
}

static int test_weird_presence(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "presence";
    m.priority = -1;
    REQUIRE(canto_client_add_handler(e.client, &m, app_handler, NULL, NULL) == 0);
    seen_by_app = 0;
    feed(&e, "<presence/>"                                     /* no from */
             "<presence from=''/>"                             /* empty */
             "<presence from='a@@b/c'/>"                       /* invalid */
             "<presence from='@localhost/x'/>"                 /* empty localpart */
             "<presence from='bob@localhost/' />"              /* empty resource */
             "<presence from='bob@localhost/x' type='probe'/>" /* servers' business */
             "<presence from='bob@localhost/x' type='bogus'/>" /* undefined */
             "<presence from='bob@localhost/x' type=''/>");    /* undefined */
    CHECK_INT(e.nevents, 0);
    CHECK_INT(canto_presence_contact_count(e.p), 0);
    CHECK_INT(seen_by_app, 8);
    /* Odd but valid: resources with spaces and slashes, junk priority/show. */
    feed(&e, "<presence from='bob@localhost/with space/and slash'><priority>abc</priority>"
             "<show>sleeping</show></presence>"
             "<presence from='bob@localhost/big'><priority>1000</priority></presence>"
             "<presence from='bob@localhost/neg'><priority> -128 </priority></presence>"
             "<presence from='bob@localhost/over'><priority>-129</priority></presence>"
             "<presence from='bob@localhost/frac'><priority>1.5</priority></presence>"
             "<presence from='localhost'/>"); /* a server's presence */
    CHECK_INT(e.nevents, 6);
    const canto_presence_resource *r =
        resource(&e, "bob@localhost", "bob@localhost/with space/and slash");
    REQUIRE(r != NULL);
    CHECK_INT(canto_presence_resource_priority(r), 0);
    CHECK_INT(canto_presence_resource_show(r), CANTO_PRESENCE_SHOW_NONE);
    CHECK_INT(canto_presence_resource_priority(resource(&e, "bob@localhost", "bob@localhost/big")),
              0);
    CHECK_INT(canto_presence_resource_priority(resource(&e, "bob@localhost", "bob@localhost/neg")),
              -128);
    CHECK_INT(canto_presence_resource_priority(resource(&e, "bob@localhost", "bob@localhost/over")),
              0);
    CHECK_INT(canto_presence_resource_priority(resource(&e, "bob@localhost", "bob@localhost/frac")),
              0);
    CHECK(canto_presence_find(e.p, "localhost") != NULL);
    CHECK_INT(canto_presence_contact_count(e.p), 2);
    /* Our own other resources are tracked like anyone's. */
    feed(&e, "<presence from='tester@localhost/other'><show>xa</show></presence>");
    CHECK(resource(&e, "tester@localhost", "tester@localhost/other") != NULL);
    teardown(&e);
    return 0;
}

static int test_subscription_requests(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    feed(&e, "<presence from='dave@localhost/phone' type='subscribe'><status>let me in</status>"
             "</presence>");
    CHECK_INT(e.nsubs, 1);
    CHECK_INT(e.sub_kind, CANTO_PRESENCE_SUBSCRIBE);
    CHECK_STR(e.sub_from, "dave@localhost"); /* bare */
    CHECK_STR(e.sub_status, "let me in");
    CHECK_INT(e.nevents, 0);
    CHECK_INT(canto_presence_contact_count(e.p), 0);
    CHECK_INT(canto_presence_approve(e.p, e.sub_from), 0);
    canto_stanza *st = fake_server_next(e.fs, e.loop, WAIT);
    REQUIRE(st != NULL);
    CHECK_STR(canto_stanza_attr(st, "type"), "subscribed");
    CHECK_STR(canto_stanza_attr(st, "to"), "dave@localhost");
    canto_stanza_free(st);

    feed(&e, "<presence from='dave@localhost' type='subscribed'/>"
             "<presence from='dave@localhost' type='unsubscribe'/>"
             "<presence from='dave@localhost' type='unsubscribed'/>");
    CHECK_INT(e.nsubs, 4);
    CHECK_INT(e.sub_kind, CANTO_PRESENCE_UNSUBSCRIBED);
    CHECK_STR(e.sub_status, "");
    /* No from: ignored. */
    feed(&e, "<presence type='subscribe'/>");
    CHECK_INT(e.nsubs, 4);
    /* Without a callback nothing happens, and nothing is answered. */
    canto_presence_set_subscription_callback(e.p, NULL, NULL);
    feed(&e, "<presence from='eve@localhost' type='subscribe'/>");
    CHECK_INT(e.nsubs, 4);
    CHECK_INT(fake_server_pending(e.fs), 0);
    teardown(&e);
    return 0;
}

static int test_preapprove(void)
{
    /* Not announced by the server: refused, nothing sent. */
    env e;
    REQUIRE(setup(&e, 1) == 0);
    CHECK_INT(canto_presence_preapprove(e.p, "dave@localhost"), CANTO_EUNSUPPORTED);
    CHECK_INT(fake_server_sync(e.fs, e.loop, WAIT), 0);
    CHECK_INT(fake_server_pending(e.fs), 0);
    teardown(&e);

    /* Announced: "subscribed" to the bare JID. */
    REQUIRE(setup(&e, 0) == 0);
    REQUIRE(fake_server_set_features(e.fs, "<sub xmlns='urn:xmpp:features:pre-approval'/>") == 0);
    CHECK_INT(canto_presence_preapprove(e.p, "dave@localhost"), CANTO_ENOTCONN);
    REQUIRE(fake_server_connect(e.fs, e.loop, e.client, WAIT) == 0);
    CHECK_INT(canto_presence_preapprove(e.p, "Dave@localhost/x"), 0);
    canto_stanza *st = fake_server_next(e.fs, e.loop, WAIT);
    REQUIRE(st != NULL);
    CHECK_STR(canto_stanza_attr(st, "type"), "subscribed");
    CHECK_STR(canto_stanza_attr(st, "to"), "dave@localhost");
    canto_stanza_free(st);
    CHECK_INT(canto_presence_preapprove(e.p, "a@@b"), CANTO_EJID_DOMAIN);
    CHECK_INT(canto_presence_preapprove(NULL, "a@b"), CANTO_EINVAL);
    teardown(&e);
    return 0;
}

static int test_free_in_callback(void)
{
    env e;
    REQUIRE(setup(&e, 1) == 0);
    e.free_in_cb = 1;
    feed(&e, "<presence from='bob@localhost/a'/><presence from='bob@localhost/b'/>");
    CHECK(e.p == NULL);
    CHECK_INT(e.nevents, 1); /* the handler is gone after the first */
    /* A disconnect no longer reaches the freed object. */
    fake_server_drop(e.fs);
    CHECK(fake_server_wait(e.fs, e.loop, is_disconnected, e.client, WAIT));
    CHECK_INT(e.nevents, 1);

    /* Freed while clearing on disconnect (several resources pending). */
    env f;
    REQUIRE(setup(&f, 1) == 0);
    feed(&f, "<presence from='bob@localhost/a'/><presence from='bob@localhost/b'/>"
             "<presence from='carol@localhost/b'/>");
    f.nevents = 0;
    f.free_in_cb = 1;
    fake_server_drop(f.fs);
    CHECK(fake_server_wait(f.fs, f.loop, is_disconnected, f.client, WAIT));
    CHECK(f.p == NULL);
    CHECK_INT(f.nevents, 1);
    teardown(&f);
    teardown(&e);
    return 0;
}

static int test_misc(void)
{
    CHECK_INT(canto_presence_new(NULL, NULL), CANTO_EINVAL);
    canto_presence_free(NULL);
    CHECK_INT(canto_presence_contact_count(NULL), 0);
    CHECK(canto_presence_contact_at(NULL, 0) == NULL);
    CHECK(canto_presence_find(NULL, "a@b") == NULL);
    CHECK(canto_presence_contact_best(NULL) == NULL);
    CHECK(canto_presence_resource_jid(NULL) == NULL);
    CHECK_INT(canto_presence_set_changed_callback(NULL, NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_presence_set_subscription_callback(NULL, NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_presence_is_available(NULL), 0);
    CHECK_INT(canto_presence_set_unavailable(NULL, NULL), CANTO_EINVAL);
    return 0;
}

int main(void)
{
    RUN(test_send_available);
    RUN(test_resend_on_connect);
    RUN(test_directed_and_subscriptions);
    RUN(test_tracking);
    RUN(test_unavailable_clears);
    RUN(test_auto_reconnect);
    RUN(test_resumed_session);
    RUN(test_error_presence);
    RUN(test_weird_presence);
    RUN(test_subscription_requests);
    RUN(test_preapprove);
    RUN(test_free_in_callback);
    RUN(test_misc);
    return CHECK_DONE();
}
