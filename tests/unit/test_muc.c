/* The MUC plugin (XEP-0045, XEP-0249) against the scripted server in
 * fake_server.c: joins and their failures, occupant state from presence,
 * status codes, room and private messages, kicks and bans, admin and owner
 * requests, invitations, rejoin after a new session and self-ping; hostile
 * input (missing attributes, unknown codes, spoofed rooms) ignored. */
#include "check.h"
#include "fake_server.h"

#include <stdlib.h>
#include <string.h>

#include <canto/canto.h>
#include <canto/forms.h>
#include <canto/muc.h>

#define ME "tester@localhost/fake"
#define ROOM "room@conference.localhost"
#define WAIT 3000

typedef struct env {
    canto_loop *loop;
    fake_server *fs;
    canto_client *client;
    canto_muc *muc;
    /* what the callbacks saw */
    int joins, events[32], app_messages, replies;
    canto_muc_join_status last_status;
    int last_created;
    char last_nick[64], last_body[256], last_from[128], last_room[128], last_actor[64];
    int last_delayed, last_self, last_direct;
    char last_occ_status[64];
    unsigned last_codes[8];
    size_t last_ncodes;
    canto_iq_outcome last_outcome;
    size_t last_nitems;
    char last_item[128];
    int form_fields;
} env;

static void on_event(void *ud, canto_muc *muc, const canto_muc_event *ev)
{
    env *e = ud;
    (void)muc;
    e->events[ev->type]++;
    snprintf(e->last_nick, sizeof(e->last_nick), "%s",
             ev->occupant ? ev->occupant->nick
             : ev->nick   ? ev->nick
                          : "");
    snprintf(e->last_body, sizeof(e->last_body), "%s", ev->body ? ev->body : "");
    snprintf(e->last_from, sizeof(e->last_from), "%s", ev->from ? ev->from : "");
    snprintf(e->last_room, sizeof(e->last_room), "%s", ev->room_jid ? ev->room_jid : "");
    snprintf(e->last_actor, sizeof(e->last_actor), "%s", ev->actor ? ev->actor : "");
    e->last_delayed = ev->delayed;
    e->last_self = ev->self;
    e->last_direct = ev->direct;
    snprintf(e->last_occ_status, sizeof(e->last_occ_status), "%s",
             ev->occupant && ev->occupant->status ? ev->occupant->status : "");
    e->last_ncodes = ev->ncodes < 8 ? ev->ncodes : 8;
    for (size_t i = 0; i < e->last_ncodes; i++)
        e->last_codes[i] = ev->codes[i];
    if (ev->join)
        e->last_status = ev->join->status;
}

static void on_join(void *ud, canto_muc *muc, const canto_muc_join_result *r)
{
    env *e = ud;
    (void)muc;
    e->joins++;
    e->last_status = r->status;
    e->last_created = r->created;
}

static void on_reply(void *ud, canto_muc *muc, const canto_muc_reply *r)
{
    env *e = ud;
    (void)muc;
    e->replies++;
    e->last_outcome = r->outcome;
    e->last_nitems = r->nitems;
    e->last_item[0] = '\0';
    if (r->nitems && r->items[0].jid)
        snprintf(e->last_item, sizeof(e->last_item), "%s", r->items[0].jid);
    e->form_fields = r->form ? (int)canto_form_field_count(r->form) : -1;
}

static int count_app(void *ud, canto_client *c, canto_stanza *st)
{
    env *e = ud;
    (void)c;
    if (strcmp(canto_stanza_name(st), "iq") != 0)
        e->app_messages++;
    return 0;
}

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
    if (canto_muc_new(e->client, e->loop, &e->muc) != 0)
        return -1;
    canto_muc_set_callback(e->muc, on_event, e);
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    canto_client_add_handler(e->client, &m, count_app, e, NULL);
    return fake_server_connect(e->fs, e->loop, e->client, WAIT);
}

static void env_close(env *e)
{
    canto_muc_free(e->muc);
    canto_client_free(e->client);
    fake_server_free(e->fs);
    canto_loop_free(e->loop);
}

static int sync(env *e)
{
    return fake_server_sync(e->fs, e->loop, WAIT);
}

/* Join ROOM as "me"; the server answers with one other occupant and our own
 * presence carrying @p self_codes. */
static int join_room(env *e, const canto_muc_join_options *o, const char *self_codes)
{
    if (canto_muc_join(e->muc, ROOM, "me", o, on_join, e, NULL) != 0)
        return -1;
    canto_stanza *p = fake_server_next_named(e->fs, e->loop, "presence", NULL, WAIT);
    if (!p)
        return -1;
    int ok = strcmp(canto_stanza_attr(p, "to"), ROOM "/me") == 0 &&
             canto_stanza_child(p, "x", CANTO_NS_MUC) != NULL;
    canto_stanza_free(p);
    fake_server_send(e->fs,
                     "<presence from='" ROOM "/alice'><x xmlns='" CANTO_NS_MUC_USER "'>"
                     "<item affiliation='owner' role='moderator' jid='alice@localhost/a'/>"
                     "</x></presence>"
                     "<presence from='" ROOM "/me'><x xmlns='" CANTO_NS_MUC_USER "'>"
                     "<item affiliation='none' role='participant'/>%s</x></presence>",
                     self_codes);
    return ok && sync(e) == 0 ? 0 : -1;
}

static int test_join_ok(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    canto_muc_join_options o = CANTO_MUC_JOIN_OPTIONS_INIT;
    o.password = "pw";
    o.history_maxstanzas = 5;
    o.history_since = "2020-01-01T00:00:00Z";
    o.create_instant = 1;
    REQUIRE(canto_muc_join(e.muc, "Room@Conference.LOCALHOST", "me", &o, on_join, &e, NULL) == 0);
    CHECK_INT(canto_muc_join(e.muc, ROOM, "me", NULL, on_join, &e, NULL), CANTO_ESTATE);
    CHECK_INT(canto_muc_join(e.muc, "conference.localhost", "me", NULL, NULL, NULL, NULL),
              CANTO_EINVAL);
    CHECK_INT(canto_muc_join(e.muc, "r2@conference.localhost/x", "me", NULL, NULL, NULL, NULL),
              CANTO_EINVAL);
    canto_stanza *p = fake_server_next_named(e.fs, e.loop, "presence", NULL, WAIT);
    REQUIRE(p);
    CHECK_STR(canto_stanza_attr(p, "to"), ROOM "/me");
    CHECK_STR(
        canto_stanza_child_text(canto_stanza_child(p, "x", CANTO_NS_MUC), "password", CANTO_NS_MUC),
        "pw");
    canto_stanza *h = canto_stanza_find(p, "x/history");
    CHECK_STR(canto_stanza_attr(h, "maxstanzas"), "5");
    CHECK_STR(canto_stanza_attr(h, "since"), "2020-01-01T00:00:00Z");
    CHECK(canto_stanza_attr(h, "seconds") == NULL);
    canto_stanza_free(p);

    canto_muc_room *r = canto_muc_find_room(e.muc, ROOM);
    REQUIRE(r);
    CHECK(!canto_muc_room_joined(r));
    fake_server_send(e.fs, "<presence from='" ROOM "/alice'><x xmlns='" CANTO_NS_MUC_USER "'>"
                           "<item affiliation='owner' role='moderator' "
                           "jid='alice@localhost/a'/></x></presence>");
    fake_server_send(e.fs, "<presence from='" ROOM "/me'><x xmlns='" CANTO_NS_MUC_USER "'>"
                           "<item affiliation='owner' role='moderator'/>"
                           "<status code='110'/><status code='201'/></x></presence>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.joins, 1);
    CHECK_INT(e.last_status, CANTO_MUC_JOIN_OK);
    CHECK_INT(e.last_created, 1);
    CHECK(canto_muc_room_joined(r));
    CHECK_INT(canto_muc_room_occupant_count(r), 2);
    CHECK_INT(e.events[CANTO_MUC_EV_OCCUPANT_JOINED], 2);
    const canto_muc_occupant *a = canto_muc_room_occupant(r, "alice");
    REQUIRE(a);
    CHECK_INT(a->role, CANTO_MUC_ROLE_MODERATOR);
    CHECK_INT(a->affiliation, CANTO_MUC_AFFIL_OWNER);
    CHECK_STR(a->jid, "alice@localhost/a");
    CHECK(canto_muc_room_self(r) && canto_muc_room_self(r)->self);
    CHECK_INT(e.app_messages, 0); /* room presence consumed */
    /* instant room: an empty submit form to muc#owner */
    canto_stanza *iq = fake_server_next_named(e.fs, e.loop, "iq", "set", WAIT);
    REQUIRE(iq);
    CHECK_STR(canto_stanza_attr(iq, "to"), ROOM);
    canto_stanza *x = canto_stanza_find(iq, "{" CANTO_NS_MUC_OWNER "}query/{jabber:x:data}x");
    CHECK(x && strcmp(canto_stanza_attr(x, "type"), "submit") == 0);
    CHECK(x && canto_stanza_first_element(x) == NULL);
    canto_stanza_free(iq);

    /* status change of an occupant, then leave */
    fake_server_send(e.fs, "<presence from='" ROOM "/alice'><show>away</show><status>brb"
                           "</status><x xmlns='" CANTO_NS_MUC_USER "'><item affiliation='owner' "
                           "role='moderator'/></x></presence>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_OCCUPANT_CHANGED], 1);
    a = canto_muc_room_occupant(r, "alice");
    CHECK_STR(a ? a->show : NULL, "away");
    CHECK_STR(a ? a->status : NULL, "brb");
    CHECK(a && a->jid == NULL); /* no longer shown */

    CHECK_INT(canto_muc_leave(e.muc, ROOM, "bye"), 0);
    p = fake_server_next_named(e.fs, e.loop, "presence", "unavailable", WAIT);
    CHECK(p && strcmp(canto_stanza_child_text(p, "status", NULL), "bye") == 0);
    canto_stanza_free(p);
    fake_server_send(e.fs, "<presence type='unavailable' from='" ROOM "/me'>"
                           "<x xmlns='" CANTO_NS_MUC_USER "'><item affiliation='owner' "
                           "role='none'/><status code='110'/></x></presence>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_LEFT_ROOM], 1);
    CHECK(canto_muc_find_room(e.muc, ROOM) == NULL);
    env_close(&e);
    return 0;
}

static int test_join_errors(void)
{
    static const struct {
        const char *cond;
        const char *type;
        canto_muc_join_status want;
    } cases[] = {
        {"conflict", "cancel", CANTO_MUC_JOIN_NICK_CONFLICT},
        {"registration-required", "auth", CANTO_MUC_JOIN_MEMBERS_ONLY},
        {"forbidden", "auth", CANTO_MUC_JOIN_BANNED},
        {"not-authorized", "auth", CANTO_MUC_JOIN_PASSWORD_REQUIRED},
        {"item-not-found", "cancel", CANTO_MUC_JOIN_NOT_FOUND},
        {"service-unavailable", "cancel", CANTO_MUC_JOIN_ERROR},
    };
    env e;
    REQUIRE(env_open(&e) == 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        REQUIRE(canto_muc_join(e.muc, ROOM, "me", NULL, on_join, &e, NULL) == 0);
        canto_stanza *p = fake_server_next_named(e.fs, e.loop, "presence", NULL, WAIT);
        canto_stanza_free(p);
        fake_server_send(e.fs,
                         "<presence type='error' from='" ROOM "/me'><x xmlns='" CANTO_NS_MUC
                         "'/><error type='%s'><%s xmlns='" CANTO_NS_STANZAS "'/></error>"
                         "</presence>",
                         cases[i].type, cases[i].cond);
        REQUIRE(sync(&e) == 0);
        CHECK_INT(e.joins, (int)i + 1);
        CHECK_INT(e.last_status, cases[i].want);
        CHECK(canto_muc_find_room(e.muc, ROOM) == NULL);
    }
    /* leaving while joining cancels */
    REQUIRE(canto_muc_join(e.muc, ROOM, "me", NULL, on_join, &e, NULL) == 0);
    CHECK_INT(canto_muc_leave(e.muc, ROOM, NULL), 0);
    CHECK_INT(e.last_status, CANTO_MUC_JOIN_CANCELED);
    CHECK(canto_muc_find_room(e.muc, ROOM) == NULL);
    CHECK_STR(canto_muc_join_status_name(CANTO_MUC_JOIN_BANNED), "banned");
    env_close(&e);
    return 0;
}

static int test_messages_and_spoofing(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    REQUIRE(join_room(&e, NULL, "<status code='110'/>") == 0);
    canto_muc_room *r = canto_muc_find_room(e.muc, ROOM);
    REQUIRE(r && canto_muc_room_joined(r));
    fake_server_send(e.fs, "<message type='groupchat' from='" ROOM "/alice'><body>old</body>"
                           "<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>"
                           "</message>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_MESSAGE], 1);
    CHECK_INT(e.last_delayed, 1);
    CHECK_STR(e.last_body, "old");
    fake_server_send(e.fs, "<message type='groupchat' from='" ROOM "/alice'><body>new</body>"
                           "</message>");
    fake_server_send(e.fs, "<message type='groupchat' from='" ROOM "/alice'><subject>Topic"
                           "</subject></message>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_MESSAGE], 2);
    CHECK_INT(e.events[CANTO_MUC_EV_SUBJECT], 1);
    CHECK_STR(canto_muc_room_subject(r), "Topic");
    fake_server_send(e.fs, "<message type='chat' from='" ROOM "/alice'><body>psst</body>"
                           "<x xmlns='" CANTO_NS_MUC_USER "'/></message>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_PRIVATE], 1);
    CHECK_STR(e.last_nick, "alice");
    CHECK_STR(e.last_body, "psst");
    CHECK_INT(e.app_messages, 0);

    /* Spoofs: same room name at another service or domain, no from, errors */
    int before = e.events[CANTO_MUC_EV_MESSAGE];
    fake_server_send(e.fs, "<message type='groupchat' from='room@conference.evil/alice'>"
                           "<body>spoof</body></message>"
                           "<message type='groupchat' from='room@evil.localhost/alice'>"
                           "<body>spoof</body></message>"
                           "<message type='groupchat'><body>nofrom</body></message>"
                           "<message type='error' from='" ROOM "/alice'><body>x</body>"
                           "</message>");
    fake_server_send(e.fs,
                     "<presence from='room@conference.evil/mallory'><x xmlns='" CANTO_NS_MUC_USER
                     "'><item role='moderator'/></x></presence>"
                     "<presence type='unavailable' from='room@evil.localhost/me'>"
                     "<x xmlns='" CANTO_NS_MUC_USER "'><status code='110'/>"
                     "<status code='307'/></x></presence>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_MESSAGE], before);
    CHECK_INT(e.app_messages, 6); /* passed on, not consumed */
    CHECK_INT(canto_muc_room_occupant_count(r), 2);
    CHECK(canto_muc_room_joined(r));

    /* Hostile occupant presence: no item, bad attributes, unknown codes */
    fake_server_send(e.fs, "<presence from='" ROOM "/bob'/>"
                           "<presence from='" ROOM "/carol'><x xmlns='" CANTO_NS_MUC_USER "'>"
                           "<item role='emperor' affiliation='' jid='not a jid@@'/>"
                           "<status/><status code='abc'/><status code='999'/>"
                           "<status code='-1'/><status code='12345'/></x></presence>"
                           "<presence type='unavailable' from='" ROOM "/nobody'/>"
                           "<presence type='unavailable' from='" ROOM "/bob'>"
                           "<x xmlns='" CANTO_NS_MUC_USER "'><status code='303'/></x></presence>"
                           "<presence type='error' from='" ROOM "/x'/>");
    REQUIRE(sync(&e) == 0);
    const canto_muc_occupant *c = canto_muc_room_occupant(r, "carol");
    REQUIRE(c);
    CHECK_INT(c->role, CANTO_MUC_ROLE_NONE);
    CHECK_INT(c->affiliation, CANTO_MUC_AFFIL_NONE);
    CHECK(c->jid == NULL);
    CHECK(canto_muc_room_occupant(r, "bob") == NULL); /* 303 without nick: a plain leave */
    CHECK_INT(canto_muc_room_occupant_count(r), 3);
    CHECK(canto_muc_room_joined(r));

    /* sending */
    CHECK_INT(canto_muc_send_message(e.muc, ROOM, "hello"), 0);
    canto_stanza *m = fake_server_next_named(e.fs, e.loop, "message", "groupchat", WAIT);
    CHECK(m && strcmp(canto_stanza_attr(m, "to"), ROOM) == 0);
    canto_stanza_free(m);
    CHECK_INT(canto_muc_send_private(e.muc, ROOM, "alice", "hi"), 0);
    m = fake_server_next_named(e.fs, e.loop, "message", "chat", WAIT);
    CHECK(m && strcmp(canto_stanza_attr(m, "to"), ROOM "/alice") == 0);
    canto_stanza_free(m);
    CHECK_INT(canto_muc_set_subject(e.muc, ROOM, "New"), 0);
    m = fake_server_next_named(e.fs, e.loop, "message", "groupchat", WAIT);
    CHECK(m && strcmp(canto_stanza_child_text(m, "subject", NULL), "New") == 0);
    canto_stanza_free(m);
    env_close(&e);
    return 0;
}

static int test_nick_kick_ban(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    REQUIRE(join_room(&e, NULL, "<status code='110'/>") == 0);
    canto_muc_room *r = canto_muc_find_room(e.muc, ROOM);
    REQUIRE(r);
    fake_server_send(e.fs, "<presence type='unavailable' from='" ROOM "/alice'>"
                           "<x xmlns='" CANTO_NS_MUC_USER "'><item affiliation='owner' "
                           "role='moderator' nick='alicia'/><status code='303'/></x></presence>"
                           "<presence from='" ROOM "/alicia'><x xmlns='" CANTO_NS_MUC_USER
                           "'><item affiliation='owner' role='moderator'/></x></presence>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_NICK_CHANGED], 1);
    CHECK(canto_muc_room_occupant(r, "alice") == NULL);
    CHECK(canto_muc_room_occupant(r, "alicia") != NULL);
    CHECK_INT(canto_muc_room_occupant_count(r), 2);

    fake_server_send(e.fs, "<presence from='" ROOM "/bob'><x xmlns='" CANTO_NS_MUC_USER "'>"
                           "<item role='participant'/></x></presence>"
                           "<presence type='unavailable' from='" ROOM "/bob'>"
                           "<x xmlns='" CANTO_NS_MUC_USER "'><item role='none'>"
                           "<actor nick='alicia'/><reason>spam</reason></item>"
                           "<status code='307'/></x></presence>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_KICKED], 1);
    CHECK_STR(e.last_actor, "alicia");
    CHECK_STR(e.last_nick, "bob");
    CHECK_INT(e.last_self, 0);

    /* we get banned */
    fake_server_send(e.fs, "<presence type='unavailable' from='" ROOM "/me'>"
                           "<x xmlns='" CANTO_NS_MUC_USER "'><item affiliation='outcast' "
                           "role='none'/><status code='301'/><status code='110'/></x>"
                           "</presence>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_BANNED], 1);
    CHECK_INT(e.events[CANTO_MUC_EV_LEFT_ROOM], 1);
    CHECK_INT(e.last_self, 1);
    CHECK(canto_muc_find_room(e.muc, ROOM) == NULL);
    env_close(&e);
    return 0;
}

static int test_admin_owner(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    REQUIRE(join_room(&e, NULL, "<status code='110'/>") == 0);
    CHECK_INT(canto_muc_kick(e.muc, ROOM, "alice", "bye", on_reply, &e), 0);
    canto_stanza *iq = fake_server_next_named(e.fs, e.loop, "iq", "set", WAIT);
    REQUIRE(iq);
    canto_stanza *item = canto_stanza_find(iq, "{" CANTO_NS_MUC_ADMIN "}query/item");
    CHECK_STR(canto_stanza_attr(item, "nick"), "alice");
    CHECK_STR(canto_stanza_attr(item, "role"), "none");
    CHECK_STR(canto_stanza_child_text(item, "reason", NULL), "bye");
    fake_server_send(e.fs, "<iq type='result' id='%s' from='" ROOM "'/>",
                     canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.replies, 1);
    CHECK_INT(e.last_outcome, CANTO_IQ_RESULT);

    CHECK_INT(canto_muc_ban(e.muc, ROOM, "bob@localhost/res", NULL, on_reply, &e), 0);
    iq = fake_server_next_named(e.fs, e.loop, "iq", "set", WAIT);
    item = canto_stanza_find(iq, "{" CANTO_NS_MUC_ADMIN "}query/item");
    CHECK_STR(canto_stanza_attr(item, "jid"), "bob@localhost");
    CHECK_STR(canto_stanza_attr(item, "affiliation"), "outcast");
    fake_server_send(e.fs,
                     "<iq type='error' id='%s' from='" ROOM "'><error type='cancel'>"
                     "<not-allowed xmlns='" CANTO_NS_STANZAS "'/></error></iq>",
                     canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.last_outcome, CANTO_IQ_ERROR);

    CHECK_INT(canto_muc_get_list(e.muc, ROOM, CANTO_MUC_AFFIL_MEMBER, on_reply, &e), 0);
    iq = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    item = canto_stanza_find(iq, "{" CANTO_NS_MUC_ADMIN "}query/item");
    CHECK_STR(canto_stanza_attr(item, "affiliation"), "member");
    fake_server_send(e.fs,
                     "<iq type='result' id='%s' from='" ROOM "'><query xmlns='" CANTO_NS_MUC_ADMIN
                     "'><item affiliation='member' "
                     "jid='carol@localhost' nick='carol'/><item/></query></iq>",
                     canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.last_nitems, 2);
    CHECK_STR(e.last_item, "carol@localhost");

    CHECK_INT(canto_muc_get_config(e.muc, ROOM, on_reply, &e), 0);
    iq = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    CHECK(canto_stanza_child(iq, "query", CANTO_NS_MUC_OWNER) != NULL);
    fake_server_send(e.fs,
                     "<iq type='result' id='%s' from='" ROOM "'><query xmlns='" CANTO_NS_MUC_OWNER
                     "'><x xmlns='jabber:x:data' type='form'>"
                     "<field var='FORM_TYPE' type='hidden'><value>"
                     "http://jabber.org/protocol/muc#roomconfig</value></field>"
                     "<field var='muc#roomconfig_roomname' type='text-single'/>"
                     "</x></query></iq>",
                     canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.form_fields, 2);

    canto_form *f;
    REQUIRE(canto_form_new(NULL, CANTO_FORM_SUBMIT, &f) == 0);
    CHECK_INT(canto_muc_submit_config(e.muc, ROOM, f, NULL, NULL), 0);
    canto_form_free(f);
    iq = fake_server_next_named(e.fs, e.loop, "iq", "set", WAIT);
    CHECK(canto_stanza_find(iq, "{" CANTO_NS_MUC_OWNER "}query/{jabber:x:data}x") != NULL);
    canto_stanza_free(iq);

    CHECK_INT(canto_muc_destroy(e.muc, ROOM, "other@conference.localhost", "moved", NULL, NULL), 0);
    iq = fake_server_next_named(e.fs, e.loop, "iq", "set", WAIT);
    canto_stanza *d = canto_stanza_find(iq, "{" CANTO_NS_MUC_OWNER "}query/destroy");
    CHECK_STR(canto_stanza_attr(d, "jid"), "other@conference.localhost");
    CHECK_STR(canto_stanza_child_text(d, "reason", NULL), "moved");
    canto_stanza_free(iq);
    fake_server_send(e.fs, "<presence type='unavailable' from='" ROOM "/me'>"
                           "<x xmlns='" CANTO_NS_MUC_USER "'><item role='none'/>"
                           "<destroy jid='other@conference.localhost'><reason>moved</reason>"
                           "</destroy><status code='110'/></x></presence>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_DESTROYED], 1);
    CHECK_INT(e.events[CANTO_MUC_EV_LEFT_ROOM], 1);
    CHECK_INT(canto_muc_set_role(e.muc, ROOM, "x", (canto_muc_role)9, NULL, NULL, NULL),
              CANTO_EINVAL);
    CHECK_INT(canto_muc_ban(e.muc, ROOM, "@@", NULL, NULL, NULL), CANTO_EINVAL);
    env_close(&e);
    return 0;
}

static int test_invitations(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    fake_server_send(e.fs, "<message from='" ROOM "'><x xmlns='" CANTO_NS_MUC_USER "'>"
                           "<invite from='alice@localhost/a'><reason>join us</reason></invite>"
                           "<password>pw</password></x></message>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_INVITE], 1);
    CHECK_STR(e.last_from, "alice@localhost/a");
    CHECK_STR(e.last_room, ROOM);
    CHECK_INT(e.last_direct, 0);
    fake_server_send(e.fs, "<message from='alice@localhost/a'><x xmlns='" CANTO_NS_CONFERENCE
                           "' jid='Room@conference.localhost' reason='hi'/></message>");
    fake_server_send(e.fs, "<message from='alice@localhost/a'><x xmlns='" CANTO_NS_CONFERENCE
                           "' jid='not a room'/></message>"
                           "<message from='" ROOM "'><x xmlns='" CANTO_NS_MUC_USER "'>"
                           "<invite/></x></message>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_INVITE], 2);
    CHECK_INT(e.last_direct, 1);
    CHECK_STR(e.last_room, ROOM);
    CHECK_INT(e.app_messages, 2);
    fake_server_send(e.fs, "<message from='" ROOM "'><x xmlns='" CANTO_NS_MUC_USER "'>"
                           "<decline from='bob@localhost'/></x></message>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_DECLINE], 1);

    CHECK_INT(canto_muc_invite(e.muc, ROOM, "bob@localhost", "come"), 0);
    canto_stanza *m = fake_server_next_named(e.fs, e.loop, "message", NULL, WAIT);
    canto_stanza *i = canto_stanza_find(m, "{" CANTO_NS_MUC_USER "}x/invite");
    CHECK_STR(canto_stanza_attr(i, "to"), "bob@localhost");
    canto_stanza_free(m);
    CHECK_INT(canto_muc_invite_direct(e.muc, ROOM, "bob@localhost", "come", "pw"), 0);
    m = fake_server_next_named(e.fs, e.loop, "message", NULL, WAIT);
    canto_stanza *x = canto_stanza_child(m, "x", CANTO_NS_CONFERENCE);
    CHECK_STR(canto_stanza_attr(x, "jid"), ROOM);
    CHECK_STR(canto_stanza_attr(x, "password"), "pw");
    canto_stanza_free(m);
    CHECK_INT(canto_muc_decline(e.muc, ROOM, "alice@localhost/a", "no"), 0);
    m = fake_server_next_named(e.fs, e.loop, "message", NULL, WAIT);
    CHECK(canto_stanza_find(m, "{" CANTO_NS_MUC_USER "}x/decline") != NULL);
    canto_stanza_free(m);
    env_close(&e);
    return 0;
}

static int test_rejoin_and_self_ping(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    REQUIRE(join_room(&e, NULL, "<status code='110'/>") == 0);
    fake_server_drop(e.fs);
    fake_server_run(e.fs, e.loop, 100);
    REQUIRE(fake_server_connect(e.fs, e.loop, e.client, WAIT) == 0);
    canto_stanza *p = fake_server_next_named(e.fs, e.loop, "presence", NULL, WAIT);
    REQUIRE(p);
    CHECK_STR(canto_stanza_attr(p, "to"), ROOM "/me");
    CHECK_STR(canto_stanza_attr(canto_stanza_find(p, "x/history"), "maxstanzas"), "0");
    canto_stanza_free(p);
    canto_muc_room *r = canto_muc_find_room(e.muc, ROOM);
    REQUIRE(r);
    CHECK(!canto_muc_room_joined(r));
    CHECK_INT(canto_muc_room_occupant_count(r), 0);
    fake_server_send(e.fs, "<presence from='" ROOM "/me'><x xmlns='" CANTO_NS_MUC_USER "'>"
                           "<item role='participant'/><status code='110'/></x></presence>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_REJOINED], 1);
    CHECK_INT(e.last_status, CANTO_MUC_JOIN_OK);
    CHECK(canto_muc_room_joined(r));

    /* self-ping: an answer keeps us, not-acceptable rejoins */
    CHECK_INT(canto_muc_set_self_ping(e.muc, 50), 0);
    canto_stanza *iq = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    REQUIRE(iq);
    CHECK_STR(canto_stanza_attr(iq, "to"), ROOM "/me");
    CHECK(canto_stanza_child(iq, "ping", "urn:xmpp:ping") != NULL);
    fake_server_send(e.fs,
                     "<iq type='error' id='%s' from='" ROOM "/me'><error type='cancel'>"
                     "<not-acceptable xmlns='" CANTO_NS_STANZAS "'/></error></iq>",
                     canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    p = fake_server_next_named(e.fs, e.loop, "presence", NULL, WAIT);
    CHECK(p && strcmp(canto_stanza_attr(p, "to"), ROOM "/me") == 0);
    canto_stanza_free(p);
    CHECK_INT(canto_muc_set_self_ping(e.muc, 0), 0);
    fake_server_send(e.fs, "<presence from='" ROOM "/me'><x xmlns='" CANTO_NS_MUC_USER "'>"
                           "<item role='participant'/><status code='110'/></x></presence>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_REJOINED], 2);

    /* no auto rejoin: the room is reported left on a new session */
    canto_muc_set_auto_rejoin(e.muc, 0);
    fake_server_drop(e.fs);
    fake_server_run(e.fs, e.loop, 100);
    fake_server_discard(e.fs);
    REQUIRE(fake_server_connect(e.fs, e.loop, e.client, WAIT) == 0);
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_LEFT_ROOM], 1);
    CHECK(canto_muc_find_room(e.muc, ROOM) == NULL);
    env_close(&e);
    return 0;
}

/* Answer the next self-ping with an error @p cond (NULL: a result, or no
 * answer at all when @p cond is "timeout"); @return 1 if one came. */
static int answer_ping(env *e, const char *cond)
{
    canto_stanza *iq = fake_server_next(e->fs, e->loop, WAIT);
    int ok = iq && strcmp(canto_stanza_name(iq), "iq") == 0 &&
             canto_stanza_child(iq, "ping", "urn:xmpp:ping") != NULL;
    if (ok && !cond)
        fake_server_send(e->fs, "<iq type='result' id='%s' from='" ROOM "/me'/>",
                         canto_stanza_attr(iq, "id"));
    else if (ok && strcmp(cond, "timeout") != 0)
        fake_server_send(e->fs,
                         "<iq type='error' id='%s' from='" ROOM "/me'><error type='cancel'>"
                         "<%s xmlns='" CANTO_NS_STANZAS "'/></error></iq>",
                         canto_stanza_attr(iq, "id"), cond);
    canto_stanza_free(iq);
    return ok;
}

/* XEP-0410 §3.2: which self-ping answers mean we are still joined (the next
 * thing sent is another ping) and which mean the room forgot us (the next
 * thing sent is a join presence without history), timeouts included. */
static int test_self_ping_answers(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    REQUIRE(join_room(&e, NULL, "<status code='110'/>") == 0);
    CHECK_INT(canto_muc_set_self_ping(e.muc, 50), 0);
    static const char *const stay[] = {NULL, "service-unavailable", "feature-not-implemented",
                                       "remote-server-not-found", "remote-server-timeout"};
    for (size_t i = 0; i < sizeof(stay) / sizeof(*stay); i++)
        CHECK(answer_ping(&e, stay[i]));
    CHECK(answer_ping(&e, NULL)); /* still pinging: no join presence came in between */
    CHECK_INT(e.events[CANTO_MUC_EV_REJOINED], 0);

    static const char *const gone[] = {"not-acceptable", "item-not-found", "timeout",
                                       "internal-server-error"};
    for (size_t i = 0; i < sizeof(gone) / sizeof(*gone); i++) {
        CHECK(answer_ping(&e, gone[i]));
        canto_stanza *p = fake_server_next(e.fs, e.loop, WAIT);
        CHECK(p && strcmp(canto_stanza_name(p), "presence") == 0);
        CHECK_STR(p ? canto_stanza_attr(p, "to") : NULL, ROOM "/me");
        CHECK_STR(canto_stanza_attr(canto_stanza_find(p, "x/history"), "maxstanzas"), "0");
        canto_stanza_free(p);
        CHECK(!canto_muc_room_joined(canto_muc_find_room(e.muc, ROOM)));
        fake_server_send(e.fs, "<presence from='" ROOM "/alice'><x xmlns='" CANTO_NS_MUC_USER
                               "'><item role='moderator'/></x></presence>"
                               "<presence from='" ROOM "/me'><x xmlns='" CANTO_NS_MUC_USER "'>"
                               "<item role='participant'/><status code='110'/></x></presence>");
        REQUIRE(sync(&e) == 0);
        CHECK_INT(e.events[CANTO_MUC_EV_REJOINED], (int)i + 1);
        CHECK_INT(e.last_status, CANTO_MUC_JOIN_OK);
        canto_muc_room *r = canto_muc_find_room(e.muc, ROOM);
        CHECK(canto_muc_room_joined(r));
        CHECK_INT(canto_muc_room_occupant_count(r), 2);
    }
    CHECK_INT(canto_muc_set_self_ping(e.muc, 0), 0);
    env_close(&e);
    return 0;
}

/* The role lists (moderators, participants) of muc#admin. */
static int test_role_list(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    REQUIRE(join_room(&e, NULL, "<status code='110'/>") == 0);
    CHECK_INT(canto_muc_get_role_list(e.muc, ROOM, CANTO_MUC_ROLE_NONE, on_reply, &e),
              CANTO_EINVAL);
    CHECK_INT(canto_muc_get_role_list(e.muc, ROOM, (canto_muc_role)7, on_reply, &e), CANTO_EINVAL);
    CHECK_INT(canto_muc_get_role_list(e.muc, "no room", CANTO_MUC_ROLE_MODERATOR, on_reply, &e),
              CANTO_EINVAL);
    CHECK_INT(canto_muc_get_role_list(e.muc, ROOM, CANTO_MUC_ROLE_MODERATOR, on_reply, &e), 0);
    canto_stanza *iq = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    REQUIRE(iq);
    CHECK_STR(canto_stanza_attr(iq, "to"), ROOM);
    canto_stanza *item = canto_stanza_find(iq, "{" CANTO_NS_MUC_ADMIN "}query/item");
    CHECK_STR(canto_stanza_attr(item, "role"), "moderator");
    CHECK(canto_stanza_attr(item, "affiliation") == NULL);
    fake_server_send(e.fs,
                     "<iq type='result' id='%s' from='" ROOM "'><query xmlns='" CANTO_NS_MUC_ADMIN
                     "'><item role='moderator' affiliation='owner' nick='alice' "
                     "jid='alice@localhost/a'/><item role='bogus' nick='x'/></query></iq>",
                     canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.replies, 1);
    CHECK_INT(e.last_outcome, CANTO_IQ_RESULT);
    CHECK_INT(e.last_nitems, 2);
    CHECK_STR(e.last_item, "alice@localhost/a");

    CHECK_INT(canto_muc_get_role_list(e.muc, ROOM, CANTO_MUC_ROLE_PARTICIPANT, on_reply, &e), 0);
    iq = fake_server_next_named(e.fs, e.loop, "iq", "get", WAIT);
    REQUIRE(iq);
    item = canto_stanza_find(iq, "{" CANTO_NS_MUC_ADMIN "}query/item");
    CHECK_STR(canto_stanza_attr(item, "role"), "participant");
    fake_server_send(e.fs,
                     "<iq type='error' id='%s' from='" ROOM "'><error type='auth'>"
                     "<forbidden xmlns='" CANTO_NS_STANZAS "'/></error></iq>",
                     canto_stanza_attr(iq, "id"));
    canto_stanza_free(iq);
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.replies, 2);
    CHECK_INT(e.last_outcome, CANTO_IQ_ERROR);
    CHECK_INT(e.last_nitems, 0);
    env_close(&e);
    return 0;
}

/* Status-code notices from the room itself (configuration changes), and the
 * status text of an occupant that leaves. */
static int test_room_status_and_leave_text(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    REQUIRE(join_room(&e, NULL, "<status code='110'/>") == 0);
    fake_server_send(e.fs, "<message type='groupchat' from='" ROOM "'><x xmlns='" CANTO_NS_MUC_USER
                           "'><status code='104'/><status code='172'/><status code='x'/>"
                           "<status/><status code='9999'/></x></message>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_ROOM_STATUS], 1);
    CHECK_INT(e.last_ncodes, 2);
    CHECK_INT(e.last_codes[0], 104);
    CHECK_INT(e.last_codes[1], 172);
    CHECK_STR(e.last_room, ROOM);
    /* No codes, or from an occupant, or from another room: no notice. */
    fake_server_send(e.fs,
                     "<message type='groupchat' from='" ROOM "'><x xmlns='" CANTO_NS_MUC_USER
                     "'/></message>"
                     "<message type='groupchat' from='" ROOM "/alice'><x xmlns='" CANTO_NS_MUC_USER
                     "'><status code='104'/></x></message>"
                     "<message type='groupchat' from='other@conference.localhost'>"
                     "<x xmlns='" CANTO_NS_MUC_USER "'><status code='104'/></x></message>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_ROOM_STATUS], 1);
    CHECK_INT(e.events[CANTO_MUC_EV_MESSAGE], 0);
    CHECK_INT(e.app_messages, 1); /* only the other room's message is passed on */

    fake_server_send(e.fs, "<presence type='unavailable' from='" ROOM "/alice'>"
                           "<status>gone fishing</status><x xmlns='" CANTO_NS_MUC_USER "'>"
                           "<item affiliation='owner' role='none'/></x></presence>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[CANTO_MUC_EV_OCCUPANT_LEFT], 1);
    CHECK_STR(e.last_nick, "alice");
    CHECK_STR(e.last_occ_status, "gone fishing");
    CHECK_INT(canto_muc_room_occupant_count(canto_muc_find_room(e.muc, ROOM)), 1);
    env_close(&e);
    return 0;
}

/* Freeing the plugin inside its own callback. */
static void free_in_cb(void *ud, canto_muc *muc, const canto_muc_event *ev)
{
    env *e = ud;
    (void)ev;
    canto_muc_free(muc);
    e->muc = NULL;
    e->events[0]++;
}

static int test_free_in_callback(void)
{
    env e;
    REQUIRE(env_open(&e) == 0);
    REQUIRE(join_room(&e, NULL, "<status code='110'/>") == 0);
    canto_muc_set_callback(e.muc, free_in_cb, &e);
    fake_server_send(e.fs, "<message type='groupchat' from='" ROOM "/alice'><body>x</body>"
                           "</message><message type='groupchat' from='" ROOM "/alice'>"
                           "<body>y</body></message>");
    REQUIRE(sync(&e) == 0);
    CHECK_INT(e.events[0], 1);
    CHECK(e.muc == NULL);
    env_close(&e);
    return 0;
}

int main(void)
{
    RUN(test_join_ok);
    RUN(test_join_errors);
    RUN(test_messages_and_spoofing);
    RUN(test_nick_kick_ban);
    RUN(test_admin_owner);
    RUN(test_invitations);
    RUN(test_rejoin_and_self_ping);
    RUN(test_self_ping_answers);
    RUN(test_role_list);
    RUN(test_room_status_and_leave_text);
    RUN(test_free_in_callback);
    return CHECK_DONE();
}
