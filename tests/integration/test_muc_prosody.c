/* The MUC plugin end to end against Prosody 0.12's conference.localhost
 * (tests/servers/prosody.sh), with alice, bob and carol; every outcome is
 * checked where the other occupants see it.
 *
 * test_room: an instant room (201, 110) configured through its form
 * (non-anonymous: 100, real JIDs); history delivered delayed to later
 * joiners; nick conflict; subject; room and private messages; a nick change
 * (303); voice revoked and granted; moderator and participant lists;
 * member, admin and owner affiliations and the member list; a mediated
 * invitation declined and a direct invitation; leaving with a status text;
 * a kick (307); a ban (301) of an occupant, the ban list, a banned join;
 * destruction with a reason.
 * test_reserved_room: a room locked until configured (join: not found),
 * password protected (password required), then members only (322 for the
 * non-member, 104 notice to the others, join: members only).
 * test_rejoin_after_reconnect: bob, without stream management, disconnects
 * and connects again; the plugin rejoins by itself without history.
 * test_bot: the canto-muc-bot example answers !ping and greets a joiner.
 * Public API only, one loop, one thread.
 *
 * Exit 77 (skip) only when prosody is not installed. CANTO_TEST_VERBOSE=1
 * shows every client's log. */
#include "../unit/check.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <canto/canto.h>
#include <canto/muc.h>

#include "prosody_fixture.h"

#ifndef CANTO_MUC_BOT_EXE
#error "CANTO_MUC_BOT_EXE must name the canto-muc-bot example"
#endif

#define WAIT_MS 60000u
#define ROOM "lounge@conference.localhost"
#define BOT_ROOM "bots@conference.localhost"
#define VAULT "vault@conference.localhost"
#define AGAIN "again@conference.localhost"

extern char **environ;

static int verbose;
static canto_loop *loop;

/* What one event said. */
typedef struct seen {
    char nick[64], body[256], room[128], from[128];
    char new_nick[64], reason[128], occ_status[128], occ_jid[128];
    int direct, self, delayed;
    canto_muc_role role;
    canto_muc_affiliation affil;
    unsigned codes[16];
    size_t ncodes;
} seen;

/* One account with its MUC plugin and what its callbacks saw. */
typedef struct user {
    char name[16];
    canto_client *client;
    canto_muc *muc;
    int connected;
    int joins;
    canto_muc_join_status status;
    int created;
    int ev[32];
    seen at[32];          /* the last event of each type */
    int delayed_messages; /* room messages marked as history */
    int self_codes[1000]; /* how often our own presence carried each status code */
    int replies;
    canto_iq_outcome outcome;
    char list[512];   /* the last reply's items, "nick/jid/role/affiliation;" each */
    canto_form *form; /* the last configuration form received */
} user;

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    user *u = ud;
    (void)c;
    (void)info;
    u->connected = st == CANTO_CLIENT_CONNECTED;
}

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src) ? (src) : "")

static void on_event(void *ud, canto_muc *muc, const canto_muc_event *ev)
{
    user *u = ud;
    (void)muc;
    const canto_muc_occupant *o = ev->occupant;
    seen *l = &u->at[ev->type];
    COPY(l->nick, o ? o->nick : ev->nick);
    COPY(l->body, ev->body);
    COPY(l->room, ev->room_jid);
    COPY(l->from, ev->from);
    COPY(l->new_nick, ev->new_nick);
    COPY(l->reason, ev->reason);
    COPY(l->occ_status, o ? o->status : NULL);
    COPY(l->occ_jid, o ? o->jid : NULL);
    l->role = o ? o->role : CANTO_MUC_ROLE_NONE;
    l->affil = o ? o->affiliation : CANTO_MUC_AFFIL_NONE;
    l->direct = ev->direct;
    l->self = ev->self;
    l->delayed = ev->delayed;
    l->ncodes = 0;
    for (size_t i = 0; i < ev->ncodes && i < 16; i++) {
        l->codes[l->ncodes++] = ev->codes[i];
        if (ev->self && ev->codes[i] < 1000)
            u->self_codes[ev->codes[i]]++;
    }
    if (ev->type == CANTO_MUC_EV_MESSAGE && ev->delayed)
        u->delayed_messages++;
    /* Counted last: a test waiting for the count finds the details above. */
    u->ev[ev->type]++;
    if (verbose)
        fprintf(stderr, "  [%s] event %d %s %s\n", u->name, (int)ev->type, l->nick, l->body);
}

static int has_code(const seen *l, unsigned code)
{
    for (size_t i = 0; i < l->ncodes; i++)
        if (l->codes[i] == code)
            return 1;
    return 0;
}

static void on_join(void *ud, canto_muc *muc, const canto_muc_join_result *r)
{
    user *u = ud;
    (void)muc;
    u->status = r->status;
    u->created = r->created;
    u->joins++;
}

static void on_reply(void *ud, canto_muc *muc, const canto_muc_reply *r)
{
    user *u = ud;
    (void)muc;
    u->outcome = r->outcome;
    if (r->form && !u->form)
        canto_form_copy(r->form, &u->form);
    u->list[0] = '\0';
    for (size_t i = 0; i < r->nitems; i++) {
        size_t n = strlen(u->list);
        snprintf(u->list + n, sizeof(u->list) - n, "%s/%s/%s/%s;",
                 r->items[i].nick ? r->items[i].nick : "", r->items[i].jid ? r->items[i].jid : "",
                 canto_muc_role_name(r->items[i].role),
                 canto_muc_affiliation_name(r->items[i].affiliation));
    }
    u->replies++;
}

static int wait_for(const int *v, int want)
{
    return prosody_wait_for(loop, v, want, WAIT_MS);
}

/* Wait for the answer to the request just made; @return its outcome. */
static canto_iq_outcome answered(user *u, int before)
{
    return wait_for(&u->replies, before + 1) ? u->outcome : CANTO_IQ_CANCELED;
}

static int login(user *u, const char *name, int no_sm)
{
    memset(u, 0, sizeof(*u));
    snprintf(u->name, sizeof(u->name), "%s", name);
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    o.reconnect = CANTO_RECONNECT_MANUAL;
    o.no_stream_management = no_sm;
    if (verbose) {
        o.log = prosody_log;
        o.log_user_data = u->name;
        o.log_level = CANTO_LOG_DEBUG;
    }
    if (prosody_client_new(loop, name, "muc", &o, &u->client) != 0 ||
        canto_muc_new(u->client, loop, &u->muc) != 0)
        return 0;
    canto_muc_set_callback(u->muc, on_event, u);
    canto_client_set_state_callback(u->client, on_state, u);
    if (canto_client_connect(u->client) != 0 || !wait_for(&u->connected, 1))
        return 0;
    return prosody_send_presence(u->client, NULL, NULL) == 0;
}

static void logout(user *u)
{
    canto_form_free(u->form);
    canto_muc_free(u->muc);
    canto_client_free(u->client);
}

static int join_pw(user *u, const char *room, const char *nick, int instant, const char *password)
{
    canto_muc_join_options o = CANTO_MUC_JOIN_OPTIONS_INIT;
    o.create_instant = instant;
    o.password = password;
    int before = u->joins;
    if (canto_muc_join(u->muc, room, nick, &o, on_join, u, NULL) != 0)
        return -1;
    if (!wait_for(&u->joins, before + 1))
        return -1;
    return (int)u->status;
}

static int join(user *u, const char *room, const char *nick, int instant)
{
    return join_pw(u, room, nick, instant, NULL);
}

/* One round trip to the room: what @p u sent it before (the instant room's
 * configuration) has been handled when this returns 1. */
static int settle(user *u, const char *room)
{
    int n = u->replies;
    canto_form_free(u->form);
    u->form = NULL;
    return canto_muc_get_config(u->muc, room, on_reply, u) == 0 &&
           answered(u, n) == CANTO_IQ_RESULT;
}

/* Get the room's configuration form, set @p var to @p value in the submit
 * form made from it (twice for two fields: var2/value2 may be NULL), and
 * submit it. @return 1 if both requests succeeded. */
static int configure(user *u, const char *room, const char *var, const char *value,
                     const char *var2, const char *value2)
{
    canto_form_free(u->form);
    u->form = NULL;
    int n = u->replies;
    if (canto_muc_get_config(u->muc, room, on_reply, u) != 0 || answered(u, n) != CANTO_IQ_RESULT ||
        !u->form)
        return 0;
    canto_form *submit = NULL;
    if (canto_form_make_submit(u->form, &submit) != 0)
        return 0;
    canto_form_field *f = canto_form_get_field(submit, var);
    canto_form_field *f2 = var2 ? canto_form_get_field(submit, var2) : NULL;
    int ok = f && canto_form_field_set_value(f, value) == 0 &&
             (!var2 || (f2 && canto_form_field_set_value(f2, value2) == 0));
    n = u->replies;
    ok = ok && canto_muc_submit_config(u->muc, room, submit, on_reply, u) == 0 &&
         answered(u, n) == CANTO_IQ_RESULT;
    canto_form_free(submit);
    return ok;
}

/* Every use case of a public room, each observed by the other occupants. */
static int test_room(void)
{
    user a, b, c;
    REQUIRE(login(&a, "alice", 0) && login(&b, "bob", 0) && login(&c, "carol", 0));
    int n, mark, mark2;

    /* An instant room: created (201) and accepted at once; our own presence
     * is marked 110. */
    CHECK_INT(join(&a, ROOM, "Alice", 1), CANTO_MUC_JOIN_OK);
    CHECK_INT(a.created, 1);
    CHECK(a.self_codes[110] >= 1);
    CHECK(a.self_codes[201] >= 1);
    /* the instant room configuration is accepted before others join */
    CHECK(settle(&a, ROOM));
    /* then configured through its form: a name, and real JIDs shown to all */
    CHECK(configure(&a, ROOM, "muc#roomconfig_roomname", "The Lounge", "muc#roomconfig_whois",
                    "anyone"));

    /* History: said before bob and carol come, delivered to them delayed. */
    mark = a.ev[CANTO_MUC_EV_MESSAGE];
    CHECK_INT(canto_muc_send_message(a.muc, ROOM, "before you came"), 0);
    CHECK(wait_for(&a.ev[CANTO_MUC_EV_MESSAGE], mark + 1));
    CHECK_INT(a.at[CANTO_MUC_EV_MESSAGE].delayed, 0);

    CHECK_INT(join(&b, ROOM, "Alice", 0), CANTO_MUC_JOIN_NICK_CONFLICT);
    CHECK_INT(join(&b, ROOM, "Bob", 0), CANTO_MUC_JOIN_OK);
    CHECK(wait_for(&b.delayed_messages, 1));
    CHECK_STR(b.at[CANTO_MUC_EV_MESSAGE].body, "before you came");
    CHECK_STR(b.at[CANTO_MUC_EV_MESSAGE].nick, "Alice");
    CHECK(b.self_codes[100] >= 1); /* non-anonymous room */
    CHECK_INT(b.created, 0);
    CHECK_INT(join(&c, ROOM, "Carol", 0), CANTO_MUC_JOIN_OK);
    CHECK(wait_for(&c.delayed_messages, 1));
    CHECK(wait_for(&a.ev[CANTO_MUC_EV_OCCUPANT_JOINED], 3)); /* herself, Bob, Carol */
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_OCCUPANT_JOINED], 3)); /* Alice, himself, Carol */
    CHECK_STR(b.at[CANTO_MUC_EV_OCCUPANT_JOINED].nick, "Carol");
    CHECK_STR(b.at[CANTO_MUC_EV_OCCUPANT_JOINED].occ_jid, "carol@localhost/muc");
    canto_muc_room *ra = canto_muc_find_room(a.muc, ROOM);
    REQUIRE(ra);
    CHECK_INT(canto_muc_room_occupant_count(ra), 3);
    const canto_muc_occupant *self = canto_muc_room_self(ra);
    CHECK(self && self->affiliation == CANTO_MUC_AFFIL_OWNER);
    const canto_muc_occupant *oc = canto_muc_room_occupant(canto_muc_find_room(c.muc, ROOM), "Bob");
    CHECK(oc && oc->jid && strcmp(oc->jid, "bob@localhost/muc") == 0);

    /* subject and messages */
    mark = b.ev[CANTO_MUC_EV_SUBJECT]; /* the (empty) subject sent on joining */
    mark2 = c.ev[CANTO_MUC_EV_SUBJECT];
    CHECK_INT(canto_muc_set_subject(a.muc, ROOM, "Welcome"), 0);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_SUBJECT], mark + 1));
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_SUBJECT], mark2 + 1));
    CHECK_STR(c.at[CANTO_MUC_EV_SUBJECT].nick, "Alice");
    CHECK_STR(c.at[CANTO_MUC_EV_SUBJECT].body, "Welcome");
    CHECK_STR(canto_muc_room_subject(canto_muc_find_room(b.muc, ROOM)), "Welcome");
    mark = c.ev[CANTO_MUC_EV_MESSAGE];
    CHECK_INT(canto_muc_send_message(a.muc, ROOM, "hello all"), 0);
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_MESSAGE], mark + 1));
    CHECK_STR(c.at[CANTO_MUC_EV_MESSAGE].nick, "Alice");
    CHECK_STR(c.at[CANTO_MUC_EV_MESSAGE].body, "hello all");
    CHECK_INT(c.at[CANTO_MUC_EV_MESSAGE].delayed, 0);
    CHECK_INT(canto_muc_send_private(b.muc, ROOM, "Carol", "psst"), 0);
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_PRIVATE], 1));
    CHECK_STR(c.at[CANTO_MUC_EV_PRIVATE].nick, "Bob");
    CHECK_STR(c.at[CANTO_MUC_EV_PRIVATE].body, "psst");
    CHECK_INT(a.ev[CANTO_MUC_EV_PRIVATE], 0);

    /* a nick change (303), seen by alice and carol */
    mark = a.ev[CANTO_MUC_EV_NICK_CHANGED];
    mark2 = c.ev[CANTO_MUC_EV_NICK_CHANGED];
    CHECK_INT(canto_muc_change_nick(b.muc, ROOM, "Robert"), 0);
    CHECK(wait_for(&a.ev[CANTO_MUC_EV_NICK_CHANGED], mark + 1));
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_NICK_CHANGED], mark2 + 1));
    CHECK_STR(c.at[CANTO_MUC_EV_NICK_CHANGED].nick, "Bob");
    CHECK_STR(c.at[CANTO_MUC_EV_NICK_CHANGED].new_nick, "Robert");
    CHECK(has_code(&c.at[CANTO_MUC_EV_NICK_CHANGED], 303));
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_NICK_CHANGED], 1));
    CHECK_INT(b.at[CANTO_MUC_EV_NICK_CHANGED].self, 1);
    CHECK_STR(canto_muc_room_nick(canto_muc_find_room(b.muc, ROOM)), "Robert");
    CHECK(canto_muc_room_occupant(ra, "Robert") != NULL);
    CHECK(canto_muc_room_occupant(ra, "Bob") == NULL);
    CHECK_INT(canto_muc_room_occupant_count(ra), 3);

    /* voice: carol becomes a visitor, then a participant again, seen by bob */
    n = a.replies;
    mark = b.ev[CANTO_MUC_EV_OCCUPANT_CHANGED];
    CHECK_INT(canto_muc_set_role(a.muc, ROOM, "Carol", CANTO_MUC_ROLE_VISITOR, NULL, on_reply, &a),
              0);
    CHECK_INT(answered(&a, n), CANTO_IQ_RESULT);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_OCCUPANT_CHANGED], mark + 1));
    CHECK_STR(b.at[CANTO_MUC_EV_OCCUPANT_CHANGED].nick, "Carol");
    CHECK_INT(b.at[CANTO_MUC_EV_OCCUPANT_CHANGED].role, CANTO_MUC_ROLE_VISITOR);
    n = a.replies;
    mark = b.ev[CANTO_MUC_EV_OCCUPANT_CHANGED];
    CHECK_INT(
        canto_muc_set_role(a.muc, ROOM, "Carol", CANTO_MUC_ROLE_PARTICIPANT, NULL, on_reply, &a),
        0);
    CHECK_INT(answered(&a, n), CANTO_IQ_RESULT);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_OCCUPANT_CHANGED], mark + 1));
    CHECK_INT(b.at[CANTO_MUC_EV_OCCUPANT_CHANGED].role, CANTO_MUC_ROLE_PARTICIPANT);
    oc = canto_muc_room_occupant(canto_muc_find_room(b.muc, ROOM), "Carol");
    CHECK(oc && oc->role == CANTO_MUC_ROLE_PARTICIPANT);

    /* role lists */
    n = a.replies;
    CHECK_INT(canto_muc_get_role_list(a.muc, ROOM, CANTO_MUC_ROLE_MODERATOR, on_reply, &a), 0);
    CHECK_INT(answered(&a, n), CANTO_IQ_RESULT);
    CHECK(strstr(a.list, "Alice/alice@localhost/muc/moderator/owner;") != NULL);
    CHECK(strstr(a.list, "Robert") == NULL);
    n = a.replies;
    CHECK_INT(canto_muc_get_role_list(a.muc, ROOM, CANTO_MUC_ROLE_PARTICIPANT, on_reply, &a), 0);
    CHECK_INT(answered(&a, n), CANTO_IQ_RESULT);
    CHECK(strstr(a.list, "Robert/bob@localhost/muc/participant/") != NULL);
    CHECK(strstr(a.list, "Carol/carol@localhost/muc/participant/") != NULL);
    CHECK(strstr(a.list, "Alice") == NULL);

    /* affiliations: bob becomes member, admin, owner, each seen by carol */
    static const canto_muc_affiliation ladder[] = {CANTO_MUC_AFFIL_MEMBER, CANTO_MUC_AFFIL_ADMIN,
                                                   CANTO_MUC_AFFIL_OWNER};
    for (size_t i = 0; i < 3; i++) {
        n = a.replies;
        mark = c.ev[CANTO_MUC_EV_OCCUPANT_CHANGED];
        CHECK_INT(
            canto_muc_set_affiliation(a.muc, ROOM, "bob@localhost", ladder[i], NULL, on_reply, &a),
            0);
        CHECK_INT(answered(&a, n), CANTO_IQ_RESULT);
        CHECK(wait_for(&c.ev[CANTO_MUC_EV_OCCUPANT_CHANGED], mark + 1));
        CHECK_STR(c.at[CANTO_MUC_EV_OCCUPANT_CHANGED].nick, "Robert");
        CHECK_INT(c.at[CANTO_MUC_EV_OCCUPANT_CHANGED].affil, ladder[i]);
        if (ladder[i] == CANTO_MUC_AFFIL_MEMBER) {
            n = a.replies;
            CHECK_INT(canto_muc_get_list(a.muc, ROOM, CANTO_MUC_AFFIL_MEMBER, on_reply, &a), 0);
            CHECK_INT(answered(&a, n), CANTO_IQ_RESULT);
            CHECK(strstr(a.list, "bob@localhost") != NULL);
        }
    }
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_OCCUPANT_CHANGED], 1));
    CHECK(canto_muc_room_self(canto_muc_find_room(b.muc, ROOM)) &&
          canto_muc_room_self(canto_muc_find_room(b.muc, ROOM))->affiliation ==
              CANTO_MUC_AFFIL_OWNER);
    /* and back to member */
    n = a.replies;
    mark = c.ev[CANTO_MUC_EV_OCCUPANT_CHANGED];
    CHECK_INT(canto_muc_set_affiliation(a.muc, ROOM, "bob@localhost", CANTO_MUC_AFFIL_MEMBER, NULL,
                                        on_reply, &a),
              0);
    CHECK_INT(answered(&a, n), CANTO_IQ_RESULT);
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_OCCUPANT_CHANGED], mark + 1));
    CHECK_INT(c.at[CANTO_MUC_EV_OCCUPANT_CHANGED].affil, CANTO_MUC_AFFIL_MEMBER);

    /* invitations: mediated (carol declines it) and direct */
    CHECK_INT(canto_muc_invite(a.muc, ROOM, "carol@localhost", "come"), 0);
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_INVITE], 1));
    CHECK_STR(c.at[CANTO_MUC_EV_INVITE].room, ROOM);
    CHECK_INT(c.at[CANTO_MUC_EV_INVITE].direct, 0);
    CHECK_STR(c.at[CANTO_MUC_EV_INVITE].reason, "come");
    CHECK(strncmp(c.at[CANTO_MUC_EV_INVITE].from, "alice@localhost", 15) == 0);
    CHECK_INT(canto_muc_decline(c.muc, ROOM, c.at[CANTO_MUC_EV_INVITE].from, "busy"), 0);
    CHECK(wait_for(&a.ev[CANTO_MUC_EV_DECLINE], 1));
    CHECK_STR(a.at[CANTO_MUC_EV_DECLINE].room, ROOM);
    CHECK(strncmp(a.at[CANTO_MUC_EV_DECLINE].from, "carol@localhost", 15) == 0);
    CHECK_STR(a.at[CANTO_MUC_EV_DECLINE].reason, "busy");
    CHECK_INT(canto_muc_invite_direct(a.muc, ROOM, "carol@localhost/muc", "come", NULL), 0);
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_INVITE], 2));
    CHECK_INT(c.at[CANTO_MUC_EV_INVITE].direct, 1);
    CHECK_STR(c.at[CANTO_MUC_EV_INVITE].room, ROOM);
    CHECK_STR(c.at[CANTO_MUC_EV_INVITE].from, "alice@localhost/muc");

    /* leave with a status text, seen by alice and bob; then back */
    mark = a.ev[CANTO_MUC_EV_OCCUPANT_LEFT];
    mark2 = b.ev[CANTO_MUC_EV_OCCUPANT_LEFT];
    CHECK_INT(canto_muc_leave(c.muc, ROOM, "see you"), 0);
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_LEFT_ROOM], 1));
    CHECK(canto_muc_find_room(c.muc, ROOM) == NULL);
    CHECK(wait_for(&a.ev[CANTO_MUC_EV_OCCUPANT_LEFT], mark + 1));
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_OCCUPANT_LEFT], mark2 + 1));
    CHECK_STR(b.at[CANTO_MUC_EV_OCCUPANT_LEFT].nick, "Carol");
    CHECK_STR(b.at[CANTO_MUC_EV_OCCUPANT_LEFT].occ_status, "see you");
    CHECK_INT(canto_muc_room_occupant_count(ra), 2);
    CHECK_INT(join(&c, ROOM, "Carol", 0), CANTO_MUC_JOIN_OK);

    /* kick carol (307): alice and bob see it, carol is out */
    n = a.replies;
    CHECK_INT(canto_muc_kick(a.muc, ROOM, "Carol", "out", on_reply, &a), 0);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_KICKED], 1));
    CHECK_STR(b.at[CANTO_MUC_EV_KICKED].nick, "Carol");
    CHECK_STR(b.at[CANTO_MUC_EV_KICKED].reason, "out");
    CHECK(has_code(&b.at[CANTO_MUC_EV_KICKED], 307));
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_KICKED], 1));
    CHECK_INT(c.at[CANTO_MUC_EV_KICKED].self, 1);
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_LEFT_ROOM], 2));
    CHECK(canto_muc_find_room(c.muc, ROOM) == NULL);
    CHECK_INT(answered(&a, n), CANTO_IQ_RESULT);

    /* ban carol while she is in (301): alice and bob see it; the ban list
     * has her; she cannot come back */
    CHECK_INT(join(&c, ROOM, "Carol", 0), CANTO_MUC_JOIN_OK);
    n = a.replies;
    CHECK_INT(canto_muc_ban(a.muc, ROOM, "carol@localhost", "banned", on_reply, &a), 0);
    CHECK_INT(answered(&a, n), CANTO_IQ_RESULT);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_BANNED], 1));
    CHECK_STR(b.at[CANTO_MUC_EV_BANNED].nick, "Carol");
    CHECK_STR(b.at[CANTO_MUC_EV_BANNED].reason, "banned");
    CHECK(has_code(&b.at[CANTO_MUC_EV_BANNED], 301));
    CHECK(wait_for(&a.ev[CANTO_MUC_EV_BANNED], 1));
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_LEFT_ROOM], 3));
    CHECK(has_code(&c.at[CANTO_MUC_EV_LEFT_ROOM], 301));
    n = a.replies;
    CHECK_INT(canto_muc_get_list(a.muc, ROOM, CANTO_MUC_AFFIL_OUTCAST, on_reply, &a), 0);
    CHECK_INT(answered(&a, n), CANTO_IQ_RESULT);
    CHECK(strstr(a.list, "carol@localhost") != NULL);
    CHECK(strstr(a.list, "bob@localhost") == NULL);
    CHECK_INT(join(&c, ROOM, "Carol", 0), CANTO_MUC_JOIN_BANNED);

    /* destroy: bob is told, with the reason */
    n = a.replies;
    CHECK_INT(canto_muc_destroy(a.muc, ROOM, NULL, "closing", on_reply, &a), 0);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_DESTROYED], 1));
    CHECK_STR(b.at[CANTO_MUC_EV_DESTROYED].reason, "closing");
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_LEFT_ROOM], 1));
    CHECK(canto_muc_find_room(b.muc, ROOM) == NULL);
    CHECK_INT(answered(&a, n), CANTO_IQ_RESULT);
    logout(&a);
    logout(&b);
    logout(&c);
    return 0;
}

/* A reserved room: locked until its owner configures it, then protected by
 * a password, then members only. Each join result as Prosody gives it, and
 * the configuration change seen by the occupants. */
static int test_reserved_room(void)
{
    user a, b, c;
    REQUIRE(login(&a, "alice", 0) && login(&b, "bob", 0) && login(&c, "carol", 0));
    int n, mark;

    CHECK_INT(join(&a, VAULT, "Alice", 0), CANTO_MUC_JOIN_OK);
    CHECK_INT(a.created, 1);
    /* not configured yet: locked (XEP-0045 §10.1.3), no one else gets in */
    CHECK_INT(join(&c, VAULT, "Carol", 0), CANTO_MUC_JOIN_NOT_FOUND);
    CHECK(canto_muc_find_room(c.muc, VAULT) == NULL);
    CHECK(configure(&a, VAULT, "muc#roomconfig_roomsecret", "sesame", NULL, NULL));

    CHECK_INT(join(&c, VAULT, "Carol", 0), CANTO_MUC_JOIN_PASSWORD_REQUIRED);
    CHECK_INT(join_pw(&c, VAULT, "Carol", 0, "wrong"), CANTO_MUC_JOIN_PASSWORD_REQUIRED);
    CHECK_INT(join_pw(&c, VAULT, "Carol", 0, "sesame"), CANTO_MUC_JOIN_OK);
    CHECK_INT(join_pw(&b, VAULT, "Bob", 0, "sesame"), CANTO_MUC_JOIN_OK);

    /* bob becomes a member; then the room goes members only: carol, not a
     * member, is removed (322) and bob sees the notice (104). XEP-0045 §9.3
     * wants the remaining occupants told of her going too, but Prosody 0.12
     * tells only her (its members_only.lib.lua saves her role as none before
     * broadcasting), so that is not checked here; test_muc.c covers how
     * the plugin reads 322 from others. */
    n = a.replies;
    CHECK_INT(canto_muc_set_affiliation(a.muc, VAULT, "bob@localhost", CANTO_MUC_AFFIL_MEMBER, NULL,
                                        on_reply, &a),
              0);
    CHECK_INT(answered(&a, n), CANTO_IQ_RESULT);
    CHECK(configure(&a, VAULT, "muc#roomconfig_membersonly", "1", NULL, NULL));
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_ROOM_STATUS], 1));
    CHECK(has_code(&b.at[CANTO_MUC_EV_ROOM_STATUS], 104));
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_LEFT_ROOM], 1));
    CHECK(has_code(&c.at[CANTO_MUC_EV_LEFT_ROOM], 322));
    CHECK(has_code(&c.at[CANTO_MUC_EV_OCCUPANT_LEFT], 322));
    CHECK_INT(c.at[CANTO_MUC_EV_OCCUPANT_LEFT].self, 1);
    CHECK_INT(join_pw(&c, VAULT, "Carol", 0, "sesame"), CANTO_MUC_JOIN_MEMBERS_ONLY);

    /* bob goes, saying why; alice sees it */
    mark = a.ev[CANTO_MUC_EV_OCCUPANT_LEFT];
    CHECK_INT(canto_muc_leave(b.muc, VAULT, "done here"), 0);
    CHECK(wait_for(&a.ev[CANTO_MUC_EV_OCCUPANT_LEFT], mark + 1));
    CHECK_STR(a.at[CANTO_MUC_EV_OCCUPANT_LEFT].nick, "Bob");
    CHECK_STR(a.at[CANTO_MUC_EV_OCCUPANT_LEFT].occ_status, "done here");
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_LEFT_ROOM], 1));
    logout(&a);
    logout(&b);
    logout(&c);
    return 0;
}

static int is_disconnected(void *client)
{
    return canto_client_get_state(client) == CANTO_CLIENT_DISCONNECTED;
}

/* Bob, without stream management, leaves the server and comes back: a new
 * session, so the plugin joins the room again by itself, asking for no
 * history; alice and carol see him go and come back. */
static int test_rejoin_after_reconnect(void)
{
    user a, b, c;
    REQUIRE(login(&a, "alice", 0) && login(&b, "bob", 1) && login(&c, "carol", 0));
    CHECK_INT(join(&a, AGAIN, "Alice", 1), CANTO_MUC_JOIN_OK);
    CHECK(settle(&a, AGAIN));
    CHECK_INT(join(&b, AGAIN, "Bob", 0), CANTO_MUC_JOIN_OK);
    CHECK_INT(join(&c, AGAIN, "Carol", 0), CANTO_MUC_JOIN_OK);
    int mark = b.ev[CANTO_MUC_EV_MESSAGE];
    CHECK_INT(canto_muc_send_message(a.muc, AGAIN, "said once"), 0);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_MESSAGE], mark + 1));
    int delayed = b.delayed_messages;

    int left_a = a.ev[CANTO_MUC_EV_OCCUPANT_LEFT], left_c = c.ev[CANTO_MUC_EV_OCCUPANT_LEFT];
    int joined_a = a.ev[CANTO_MUC_EV_OCCUPANT_JOINED];
    int joined_c = c.ev[CANTO_MUC_EV_OCCUPANT_JOINED];
    CHECK_INT(canto_client_disconnect(b.client), 0);
    CHECK(wait_for(&a.ev[CANTO_MUC_EV_OCCUPANT_LEFT], left_a + 1));
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_OCCUPANT_LEFT], left_c + 1));
    CHECK_STR(c.at[CANTO_MUC_EV_OCCUPANT_LEFT].nick, "Bob");
    CHECK_INT(b.ev[CANTO_MUC_EV_LEFT_ROOM], 0);
    CHECK(canto_muc_find_room(b.muc, AGAIN) != NULL);
    /* The room can see bob go before his own client has finished closing,
     * and connect refuses (CANTO_ESTATE) until it has. */
    CHECK(prosody_run_until(loop, is_disconnected, b.client, WAIT_MS));

    int subjects = b.ev[CANTO_MUC_EV_SUBJECT];
    CHECK_INT(canto_client_connect(b.client), 0);
    CHECK(wait_for(&b.connected, 1));
    CHECK_INT(canto_client_session_is_new(b.client), 1);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_REJOINED], 1));
    CHECK(wait_for(&a.ev[CANTO_MUC_EV_OCCUPANT_JOINED], joined_a + 1));
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_OCCUPANT_JOINED], joined_c + 1));
    CHECK_STR(c.at[CANTO_MUC_EV_OCCUPANT_JOINED].nick, "Bob");
    canto_muc_room *rb = canto_muc_find_room(b.muc, AGAIN);
    CHECK(rb && canto_muc_room_joined(rb));
    CHECK_INT(canto_muc_room_occupant_count(rb), 3);
    /* the room does not replay what bob already saw: the subject, which
     * comes after the history, arrives without any delayed message first */
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_SUBJECT], subjects + 1));
    CHECK_INT(b.delayed_messages, delayed);
    mark = b.ev[CANTO_MUC_EV_MESSAGE];
    CHECK_INT(canto_muc_send_message(c.muc, AGAIN, "welcome back"), 0);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_MESSAGE], mark + 1));
    CHECK_STR(b.at[CANTO_MUC_EV_MESSAGE].body, "welcome back");
    CHECK_INT(b.at[CANTO_MUC_EV_MESSAGE].delayed, 0);
    logout(&a);
    logout(&b);
    logout(&c);
    return 0;
}

/* canto-muc-bot as carol in BOT_ROOM: alice sees it join, pings it, and sees
 * bob greeted. */
static int test_bot(void)
{
    user a, b;
    REQUIRE(login(&a, "alice", 0) && login(&b, "bob", 0));
    CHECK_INT(join(&a, BOT_ROOM, "Alice", 1), CANTO_MUC_JOIN_OK);
    CHECK(settle(&a, BOT_ROOM));

    char server[64];
    snprintf(server, sizeof(server), "127.0.0.1:%u", prosody_port());
    char *argv[] = {CANTO_MUC_BOT_EXE,
                    "--jid",
                    "carol@localhost/bot",
                    "--server",
                    server,
                    "--ca-file",
                    (char *)prosody_ca(),
                    BOT_ROOM,
                    "bot",
                    NULL};
    setenv("CANTO_PASSWORD", "carol-secret", 1);
    int out[2];
    REQUIRE(pipe(out) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    pid_t pid;
    int rc = posix_spawn(&pid, CANTO_MUC_BOT_EXE, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    REQUIRE(rc == 0);

    CHECK(wait_for(&a.ev[CANTO_MUC_EV_OCCUPANT_JOINED], 2)); /* ourselves, then bot */
    CHECK_INT(canto_muc_send_message(a.muc, BOT_ROOM, "!ping"), 0);
    /* our own !ping comes back, then pong */
    uint64_t deadline = canto_loop_now(loop) + WAIT_MS;
    while (strcmp(a.at[CANTO_MUC_EV_MESSAGE].body, "pong") != 0 && canto_loop_now(loop) < deadline)
        canto_loop_run_once(loop, 100);
    CHECK_STR(a.at[CANTO_MUC_EV_MESSAGE].body, "pong");
    CHECK_STR(a.at[CANTO_MUC_EV_MESSAGE].nick, "bot");

    CHECK_INT(join(&b, BOT_ROOM, "Bob", 0), CANTO_MUC_JOIN_OK);
    deadline = canto_loop_now(loop) + WAIT_MS;
    while (strcmp(a.at[CANTO_MUC_EV_MESSAGE].body, "Hello Bob") != 0 &&
           canto_loop_now(loop) < deadline)
        canto_loop_run_once(loop, 100);
    CHECK_STR(a.at[CANTO_MUC_EV_MESSAGE].body, "Hello Bob");

    kill(pid, SIGTERM);
    /* the bot printed the room's messages */
    char buf[4096];
    size_t n = 0;
    ssize_t got;
    while (n < sizeof(buf) - 1 && (got = read(out[0], buf + n, sizeof(buf) - 1 - n)) > 0)
        n += (size_t)got;
    buf[n] = '\0';
    close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    CHECK(strstr(buf, BOT_ROOM "\tAlice\t!ping\n") != NULL);
    CHECK(strstr(buf, BOT_ROOM "\tbot\tpong\n") != NULL);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    logout(&a);
    logout(&b);
    return 0;
}

int main(void)
{
    verbose = getenv("CANTO_TEST_VERBOSE") && strcmp(getenv("CANTO_TEST_VERBOSE"), "0") != 0;
    int rc = prosody_start("muc");
    if (rc != 0)
        return rc;
    if (canto_loop_new(NULL, &loop) != 0) {
        prosody_stop(1);
        return 1;
    }
    RUN(test_room);
    RUN(test_reserved_room);
    RUN(test_rejoin_after_reconnect);
    RUN(test_bot);
    canto_loop_free(loop);
    int result = CHECK_DONE();
    prosody_stop(result != 0);
    return result;
}
