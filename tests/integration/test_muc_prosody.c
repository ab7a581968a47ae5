/* The MUC plugin end to end against Prosody 0.12's conference.localhost
 * (tests/servers/prosody.sh): alice creates an instant room, bob meets a
 * nick conflict then joins, carol joins; the subject, room and private
 * messages, voice and membership changes, the member list, a kick and a ban
 * are seen by the others; mediated and direct invitations arrive; the room
 * is destroyed. Then the canto-muc-bot example answers !ping and greets a
 * joiner. Public API only, one loop, one thread.
 *
 * Exit 77 (skip) only when prosody is not installed. CANTO_TEST_VERBOSE=1
 * shows every client's log. */
#include "../unit/check.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <canto/canto.h>
#include <canto/muc.h>

#ifndef CANTO_SERVERS_DIR
#error "CANTO_SERVERS_DIR must name tests/servers"
#endif
#ifndef CANTO_MUC_BOT_EXE
#error "CANTO_MUC_BOT_EXE must name the canto-muc-bot example"
#endif

#define WAIT_MS 60000u
#define ROOM "lounge@conference.localhost"
#define BOT_ROOM "bots@conference.localhost"

extern char **environ;

static int verbose;
static canto_loop *loop;
static char dir[64];
static char ca[512];
static unsigned port;

static int prosody(const char *verb)
{
    char *argv[] = {"bash", CANTO_SERVERS_DIR "/prosody.sh", (char *)verb, dir, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, "bash", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int load_env(void)
{
    char path[128], line[512];
    snprintf(path, sizeof(path), "%s/env", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "CANTO_PROSODY_STARTTLS_PORT=", 28) == 0)
            port = (unsigned)atoi(line + 28);
        else if (strncmp(line, "CANTO_PROSODY_CA=", 17) == 0)
            snprintf(ca, sizeof(ca), "%s", line + 17);
    }
    fclose(f);
    return port && ca[0] ? 0 : -1;
}

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
    char last_nick[64], last_body[256], last_room[128], last_from[128];
    int last_direct, last_self;
    int replies;
    canto_iq_outcome outcome;
    int list_has_bob;
    canto_form *form; /* the last configuration form received */
} user;

static void on_log(void *ud, canto_log_level level, const char *area, const char *msg)
{
    const user *u = ud;
    fprintf(stderr, "  [%s] %s %s: %s\n", u->name, canto_log_level_name(level), area, msg);
}

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    user *u = ud;
    (void)c;
    (void)info;
    if (st == CANTO_CLIENT_CONNECTED)
        u->connected = 1;
}

static void on_event(void *ud, canto_muc *muc, const canto_muc_event *ev)
{
    user *u = ud;
    (void)muc;
    u->ev[ev->type]++;
    snprintf(u->last_nick, sizeof(u->last_nick), "%s",
             ev->occupant ? ev->occupant->nick
             : ev->nick   ? ev->nick
                          : "");
    snprintf(u->last_body, sizeof(u->last_body), "%s", ev->body ? ev->body : "");
    snprintf(u->last_room, sizeof(u->last_room), "%s", ev->room_jid ? ev->room_jid : "");
    snprintf(u->last_from, sizeof(u->last_from), "%s", ev->from ? ev->from : "");
    u->last_direct = ev->direct;
    u->last_self = ev->self;
    if (verbose)
        fprintf(stderr, "  [%s] event %d %s %s\n", u->name, (int)ev->type, u->last_nick,
                u->last_body);
}

static void on_join(void *ud, canto_muc *muc, const canto_muc_join_result *r)
{
    user *u = ud;
    (void)muc;
    u->joins++;
    u->status = r->status;
    u->created = r->created;
}

static void on_reply(void *ud, canto_muc *muc, const canto_muc_reply *r)
{
    user *u = ud;
    (void)muc;
    u->replies++;
    u->outcome = r->outcome;
    if (r->form && !u->form)
        canto_form_copy(r->form, &u->form);
    for (size_t i = 0; i < r->nitems; i++)
        if (r->items[i].jid && strcmp(r->items[i].jid, "bob@localhost") == 0)
            u->list_has_bob = 1;
}

static int run_until(int (*done)(void *), void *arg, unsigned timeout_ms)
{
    uint64_t deadline = canto_loop_now(loop) + timeout_ms;
    while (!done(arg)) {
        if (canto_loop_now(loop) >= deadline)
            return 0;
        if (canto_loop_run_once(loop, 100) < 0)
            return 0;
    }
    return 1;
}

typedef struct wait_int {
    const int *v;
    int want;
} wait_int;

static int reached(void *arg)
{
    const wait_int *w = arg;
    return *w->v >= w->want;
}

static int wait_for(const int *v, int want)
{
    wait_int w = {v, want};
    return run_until(reached, &w, WAIT_MS);
}

static int login(user *u, const char *name)
{
    memset(u, 0, sizeof(*u));
    snprintf(u->name, sizeof(u->name), "%s", name);
    char jid[64], pw[64];
    snprintf(jid, sizeof(jid), "%s@localhost", name);
    snprintf(pw, sizeof(pw), "%s-secret", name);
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    o.password = pw;
    o.resource = "muc";
    o.host = "127.0.0.1";
    o.port = port;
    o.ca_file = ca;
    o.no_system_trust = 1;
    o.reconnect = CANTO_RECONNECT_MANUAL;
    if (verbose) {
        o.log = on_log;
        o.log_user_data = u;
        o.log_level = CANTO_LOG_DEBUG;
    }
    if (canto_client_new(loop, jid, &o, &u->client) != 0 ||
        canto_muc_new(u->client, loop, &u->muc) != 0)
        return 0;
    canto_muc_set_callback(u->muc, on_event, u);
    canto_client_set_state_callback(u->client, on_state, u);
    if (canto_client_connect(u->client) != 0 || !wait_for(&u->connected, 1))
        return 0;
    canto_stanza *p;
    if (canto_stanza_new_presence(NULL, NULL, NULL, &p) == 0) {
        canto_client_send(u->client, p);
        canto_stanza_free(p);
    }
    return 1;
}

static void logout(user *u)
{
    canto_form_free(u->form);
    canto_muc_free(u->muc);
    canto_client_free(u->client);
}

static int join(user *u, const char *room, const char *nick, int instant)
{
    canto_muc_join_options o = CANTO_MUC_JOIN_OPTIONS_INIT;
    o.create_instant = instant;
    int before = u->joins;
    if (canto_muc_join(u->muc, room, nick, &o, on_join, u, NULL) != 0)
        return -1;
    if (!wait_for(&u->joins, before + 1))
        return -1;
    return (int)u->status;
}

static int test_room(void)
{
    user a, b, c;
    REQUIRE(login(&a, "alice") && login(&b, "bob") && login(&c, "carol"));

    CHECK_INT(join(&a, ROOM, "Alice", 1), CANTO_MUC_JOIN_OK);
    CHECK_INT(a.created, 1);
    /* the instant room configuration is accepted before others join */
    canto_loop_run_once(loop, 300);
    /* reserved-room style configuration: get the form, fill it, submit it */
    CHECK_INT(canto_muc_get_config(a.muc, ROOM, on_reply, &a), 0);
    REQUIRE(wait_for(&a.replies, 1));
    CHECK_INT(a.outcome, CANTO_IQ_RESULT);
    REQUIRE(a.form);
    canto_form *submit = NULL;
    REQUIRE(canto_form_make_submit(a.form, &submit) == 0);
    canto_form_field *name = canto_form_get_field(submit, "muc#roomconfig_roomname");
    CHECK(name && canto_form_field_set_value(name, "The Lounge") == 0);
    CHECK_INT(canto_muc_submit_config(a.muc, ROOM, submit, on_reply, &a), 0);
    canto_form_free(submit);
    REQUIRE(wait_for(&a.replies, 2));
    CHECK_INT(a.outcome, CANTO_IQ_RESULT);
    a.replies = 0;

    CHECK_INT(join(&b, ROOM, "Alice", 0), CANTO_MUC_JOIN_NICK_CONFLICT);
    CHECK_INT(join(&b, ROOM, "Bob", 0), CANTO_MUC_JOIN_OK);
    CHECK_INT(join(&c, ROOM, "Carol", 0), CANTO_MUC_JOIN_OK);
    REQUIRE(wait_for(&a.ev[CANTO_MUC_EV_OCCUPANT_JOINED], 3));
    canto_muc_room *ra = canto_muc_find_room(a.muc, ROOM);
    REQUIRE(ra);
    CHECK_INT(canto_muc_room_occupant_count(ra), 3);
    const canto_muc_occupant *self = canto_muc_room_self(ra);
    CHECK(self && self->affiliation == CANTO_MUC_AFFIL_OWNER);

    /* subject and messages */
    int subjects = b.ev[CANTO_MUC_EV_SUBJECT]; /* the (empty) subject sent on joining */
    CHECK_INT(canto_muc_set_subject(a.muc, ROOM, "Welcome"), 0);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_SUBJECT], subjects + 1));
    CHECK_STR(canto_muc_room_subject(canto_muc_find_room(b.muc, ROOM)), "Welcome");
    CHECK_INT(canto_muc_send_message(a.muc, ROOM, "hello all"), 0);
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_MESSAGE], 1));
    CHECK_STR(c.last_nick, "Alice");
    CHECK_STR(c.last_body, "hello all");
    CHECK_INT(canto_muc_send_private(b.muc, ROOM, "Carol", "psst"), 0);
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_PRIVATE], 1));
    CHECK_STR(c.last_nick, "Bob");
    CHECK_STR(c.last_body, "psst");

    /* voice: carol becomes a visitor, seen by bob */
    int changed = b.ev[CANTO_MUC_EV_OCCUPANT_CHANGED];
    CHECK_INT(canto_muc_set_role(a.muc, ROOM, "Carol", CANTO_MUC_ROLE_VISITOR, NULL, on_reply, &a),
              0);
    CHECK(wait_for(&a.replies, 1));
    CHECK_INT(a.outcome, CANTO_IQ_RESULT);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_OCCUPANT_CHANGED], changed + 1));
    const canto_muc_occupant *oc =
        canto_muc_room_occupant(canto_muc_find_room(b.muc, ROOM), "Carol");
    CHECK(oc && oc->role == CANTO_MUC_ROLE_VISITOR);

    /* membership and the member list */
    CHECK_INT(canto_muc_set_affiliation(a.muc, ROOM, "bob@localhost", CANTO_MUC_AFFIL_MEMBER, NULL,
                                        on_reply, &a),
              0);
    CHECK(wait_for(&a.replies, 2));
    CHECK_INT(a.outcome, CANTO_IQ_RESULT);
    CHECK_INT(canto_muc_get_list(a.muc, ROOM, CANTO_MUC_AFFIL_MEMBER, on_reply, &a), 0);
    CHECK(wait_for(&a.replies, 3));
    CHECK_INT(a.list_has_bob, 1);

    /* invitations */
    CHECK_INT(canto_muc_invite(a.muc, ROOM, "carol@localhost", "come"), 0);
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_INVITE], 1));
    CHECK_STR(c.last_room, ROOM);
    CHECK_INT(c.last_direct, 0);
    CHECK_INT(canto_muc_invite_direct(a.muc, ROOM, "carol@localhost/muc", "come", NULL), 0);
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_INVITE], 2));
    CHECK_INT(c.last_direct, 1);
    CHECK_STR(c.last_room, ROOM);

    /* kick carol: bob sees it, carol is out */
    CHECK_INT(canto_muc_kick(a.muc, ROOM, "Carol", "out", on_reply, &a), 0);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_KICKED], 1));
    CHECK_STR(b.last_nick, "Carol");
    CHECK(wait_for(&c.ev[CANTO_MUC_EV_LEFT_ROOM], 1));
    CHECK(canto_muc_find_room(c.muc, ROOM) == NULL);

    /* ban carol by JID, then she cannot join */
    CHECK_INT(canto_muc_ban(a.muc, ROOM, "carol@localhost", "banned", on_reply, &a), 0);
    CHECK(wait_for(&a.replies, 5));
    CHECK_INT(a.outcome, CANTO_IQ_RESULT);
    CHECK_INT(join(&c, ROOM, "Carol", 0), CANTO_MUC_JOIN_BANNED);

    /* destroy: bob is told */
    CHECK_INT(canto_muc_destroy(a.muc, ROOM, NULL, "closing", on_reply, &a), 0);
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_DESTROYED], 1));
    CHECK(wait_for(&b.ev[CANTO_MUC_EV_LEFT_ROOM], 1));
    CHECK(wait_for(&a.replies, 6));
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
    REQUIRE(login(&a, "alice") && login(&b, "bob"));
    CHECK_INT(join(&a, BOT_ROOM, "Alice", 1), CANTO_MUC_JOIN_OK);
    canto_loop_run_once(loop, 300);

    char server[64];
    snprintf(server, sizeof(server), "127.0.0.1:%u", port);
    char *argv[] = {CANTO_MUC_BOT_EXE,
                    "--jid",
                    "carol@localhost/bot",
                    "--server",
                    server,
                    "--ca-file",
                    ca,
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
    while (strcmp(a.last_body, "pong") != 0 && canto_loop_now(loop) < deadline)
        canto_loop_run_once(loop, 100);
    CHECK_STR(a.last_body, "pong");
    CHECK_STR(a.last_nick, "bot");

    CHECK_INT(join(&b, BOT_ROOM, "Bob", 0), CANTO_MUC_JOIN_OK);
    deadline = canto_loop_now(loop) + WAIT_MS;
    while (strcmp(a.last_body, "Hello Bob") != 0 && canto_loop_now(loop) < deadline)
        canto_loop_run_once(loop, 100);
    CHECK_STR(a.last_body, "Hello Bob");

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
    snprintf(dir, sizeof(dir), "/tmp/canto-muc-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    int rc = prosody("start");
    if (rc == 77) {
        fprintf(stderr, "prosody not installed: skipping\n");
        rmdir(dir);
        return 77;
    }
    if (rc != 0 || load_env() != 0) {
        fprintf(stderr, "could not start prosody (see %s)\n", dir);
        prosody("stop");
        return 1;
    }
    if (canto_loop_new(NULL, &loop) != 0) {
        prosody("stop");
        return 1;
    }
    RUN(test_room);
    RUN(test_bot);
    canto_loop_free(loop);
    prosody("stop");
    if (check_failures == 0) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    } else {
        fprintf(stderr, "server files kept in %s\n", dir);
    }
    return CHECK_DONE();
}
