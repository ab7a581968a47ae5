/* Presence and roster plugins end to end against Prosody 0.12, started in a
 * temporary directory by tests/servers/prosody.sh. Public API and the
 * built-in loop only, one thread.
 *
 * alice (two resources), bob (two resources with different priorities and
 * show) and carol subscribe to each other (request, approve); each sees the
 * others' presence per resource; roster add/rename/remove on alice's first
 * resource reaches her second one as pushes; a fetch with the version the
 * copy has gets an empty answer and keeps the copy; canto-roster prints the
 * expected lines.
 *
 * Exit 77 (skip) only when prosody is not installed. CANTO_TEST_VERBOSE=1
 * shows every client's log on stderr. */
#include "../unit/check.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <canto/canto.h>
#include <canto/presence.h>
#include <canto/roster.h>

#include "prosody_fixture.h"

#ifndef CANTO_ROSTER_EXE
#error "CANTO_ROSTER_EXE must name the canto-roster example"
#endif

/* Generous: only a hang should reach them (valgrind is slow). */
#define WAIT_MS 60000

static int verbose;
static canto_loop *loop;

/* --- accounts ------------------------------------------------------------- */

typedef struct account {
    char label[16];
    char jid[64];
    char password[64];
    canto_client *client;
    canto_presence *presence;
    canto_roster *roster;
    int connected, disconnected, error;
    /* subscription callback */
    int auto_approve;
    int requests;
    char request_from[64];
    char request_status[64];
    /* roster results and changes */
    int results;
    canto_iq_outcome outcome;
    int result_had_query;
    int changes;
    canto_roster_change change;
    char change_jid[64];
    char change_name[64];
    char change_old_name[64];
    size_t change_groups;
    /* presence changes */
    char watch[64]; /* only changes of this full JID are recorded */
    int presence_changes;
    canto_presence_show presence_old_show, presence_new_show;
    int presence_had_old, presence_has_new;
} account;

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void on_log(void *ud, canto_log_level level, const char *area, const char *msg)
{
    account *a = ud;
    if (verbose)
        fprintf(stderr, "  [%s] %s %s: %s\n", a->label, canto_log_level_name(level), area, msg);
}

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    account *a = ud;
    (void)c;
    if (st == CANTO_CLIENT_CONNECTED) {
        a->connected = 1;
        /* Roster first (and the roster makes this resource "interested":
         * pushes reach it); the plugin sends the availability afterwards. */
        canto_roster_fetch(a->roster, NULL, NULL);
    } else if (st == CANTO_CLIENT_DISCONNECTED) {
        a->disconnected = 1;
        a->error = info ? info->error : 0;
        if (verbose && info)
            fprintf(stderr, "  [%s] disconnected: %s\n", a->label, info->detail);
    }
}

static void on_subscription(void *ud, canto_presence *p, canto_presence_subscription kind,
                            const canto_jid *from, const char *status, const canto_stanza *st)
{
    account *a = ud;
    (void)st;
    if (kind != CANTO_PRESENCE_SUBSCRIBE)
        return;
    a->requests++;
    copy(a->request_from, sizeof(a->request_from), canto_jid_str(from));
    copy(a->request_status, sizeof(a->request_status), status);
    if (a->auto_approve)
        canto_presence_approve(p, canto_jid_str(from));
}

static void on_roster_changed(void *ud, canto_roster *r, canto_roster_change change,
                              const canto_roster_item *item, const canto_roster_item *old)
{
    account *a = ud;
    (void)r;
    a->changes++;
    a->change = change;
    copy(a->change_jid, sizeof(a->change_jid), canto_jid_str(canto_roster_item_jid(item)));
    copy(a->change_name, sizeof(a->change_name), canto_roster_item_name(item));
    copy(a->change_old_name, sizeof(a->change_old_name), canto_roster_item_name(old));
    a->change_groups = canto_roster_item_group_count(item);
}

static void on_result(void *ud, canto_roster *r, const canto_iq_response *resp)
{
    account *a = ud;
    (void)r;
    a->results++;
    a->outcome = resp->outcome;
    a->result_had_query =
        resp->stanza && canto_stanza_child(resp->stanza, "query", CANTO_NS_ROSTER) != NULL;
}

static void on_presence_changed(void *ud, canto_presence *p, const canto_presence_change *ch)
{
    account *a = ud;
    (void)p;
    if (strcmp(canto_jid_str(ch->jid), a->watch) != 0)
        return;
    a->presence_changes++;
    a->presence_had_old = ch->old_state != NULL;
    a->presence_has_new = ch->new_state != NULL;
    a->presence_old_show = canto_presence_resource_show(ch->old_state);
    a->presence_new_show = canto_presence_resource_show(ch->new_state);
}

/* Create the client and plugins; @p show / @p status / @p priority is the
 * availability sent once connected. */
static int acct_open(account *a, const char *label, const char *user, const char *resource,
                     canto_presence_show show, const char *status, int priority)
{
    memset(a, 0, sizeof(*a));
    copy(a->label, sizeof(a->label), label);
    snprintf(a->jid, sizeof(a->jid), "%s@localhost/%s", user, resource);
    char key[64];
    snprintf(key, sizeof(key), "CANTO_PROSODY_PASSWORD_%s", user);
    copy(a->password, sizeof(a->password), prosody_env(key));
    a->auto_approve = 1;
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    prosody_client_options(&o, a->password);
    o.log = on_log;
    o.log_user_data = a;
    o.log_level = verbose ? CANTO_LOG_DEBUG : CANTO_LOG_INFO;
    canto_presence_availability av = CANTO_PRESENCE_AVAILABILITY_INIT;
    av.show = show;
    av.status = status;
    av.priority = priority;
    int rc = canto_client_new(loop, a->jid, &o, &a->client);
    if (rc == 0)
        rc = canto_client_set_state_callback(a->client, on_state, a);
    if (rc == 0)
        rc = canto_roster_new(a->client, &a->roster);
    if (rc == 0)
        rc = canto_presence_new(a->client, &a->presence);
    if (rc == 0)
        rc = canto_roster_set_changed_callback(a->roster, on_roster_changed, a);
    if (rc == 0)
        rc = canto_presence_set_subscription_callback(a->presence, on_subscription, a);
    if (rc == 0)
        rc = canto_presence_set_changed_callback(a->presence, on_presence_changed, a);
    if (rc == 0)
        rc = canto_presence_set_available(a->presence, &av);
    if (rc == 0)
        rc = canto_client_connect(a->client);
    return rc;
}

static void acct_close(account *a)
{
    canto_presence_free(a->presence);
    canto_roster_free(a->roster);
    canto_client_free(a->client);
    a->presence = NULL;
    a->roster = NULL;
    a->client = NULL;
}

/* --- waiting -------------------------------------------------------------- */

static int wait_for(int (*cond)(const void *), const void *ud, const char *what)
{
    uint64_t end = canto_loop_now(loop) + WAIT_MS;
    while (!cond(ud)) {
        if (canto_loop_now(loop) >= end) {
            fprintf(stderr, "timed out waiting for %s\n", what);
            return 0;
        }
        canto_loop_run_once(loop, 50);
    }
    return 1;
}

typedef struct accts {
    account **list;
    size_t n;
} accts;

static int all_connected(const void *ud)
{
    const accts *s = ud;
    for (size_t i = 0; i < s->n; i++)
        if (!s->list[i]->connected || s->list[i]->disconnected)
            return 0;
    return 1;
}

static int all_disconnected(const void *ud)
{
    const accts *s = ud;
    for (size_t i = 0; i < s->n; i++)
        if (!s->list[i]->disconnected)
            return 0;
    return 1;
}

typedef struct sub_want {
    account *a;
    const char *jid;
    canto_roster_subscription sub;
} sub_want;

static int has_subscription(const void *ud)
{
    const sub_want *w = ud;
    const canto_roster_item *it = canto_roster_find(w->a->roster, w->jid);
    return it && canto_roster_item_subscription(it) == w->sub && !canto_roster_item_ask(it);
}

static int subscription_of(account *a, const char *jid, canto_roster_subscription sub)
{
    sub_want w = {a, jid, sub};
    char what[128];
    snprintf(what, sizeof(what), "%s: %s with subscription %s", a->label, jid,
             canto_roster_subscription_name(sub));
    return wait_for(has_subscription, &w, what);
}

typedef struct res_want {
    account *a;
    const char *bare;
    size_t n;
} res_want;

static int has_resources(const void *ud)
{
    const res_want *w = ud;
    return canto_presence_contact_resource_count(canto_presence_find(w->a->presence, w->bare)) ==
           w->n;
}

static int resources_of(account *a, const char *bare, size_t n)
{
    res_want w = {a, bare, n};
    char what[128];
    snprintf(what, sizeof(what), "%s: %zu resources of %s", a->label, n, bare);
    return wait_for(has_resources, &w, what);
}

typedef struct count_want {
    const int *counter;
    int at_least;
} count_want;

static int counter_reached(const void *ud)
{
    const count_want *w = ud;
    return *w->counter >= w->at_least;
}

static int count_reaches(const int *counter, int n, const char *what)
{
    count_want w = {counter, n};
    return wait_for(counter_reached, &w, what);
}

/* Waiting for a state, not a count: Prosody may repeat a presence (probes,
 * session restarts), and each repeat is a change callback too. */
typedef struct show_want {
    const account *a;
    canto_presence_show show;
} show_want;

static int show_reached(const void *ud)
{
    const show_want *w = ud;
    return w->a->presence_has_new && w->a->presence_new_show == w->show;
}

static const canto_presence_resource *resource(account *a, const char *bare, const char *full)
{
    const canto_presence_contact *c = canto_presence_find(a->presence, bare);
    for (size_t i = 0; i < canto_presence_contact_resource_count(c); i++) {
        const canto_presence_resource *r = canto_presence_contact_resource_at(c, i);
        if (strcmp(canto_jid_str(canto_presence_resource_jid(r)), full) == 0)
            return r;
    }
    return NULL;
}

/* --- the scenario --------------------------------------------------------- */

static account alice1, alice2, bob_a, bob_b, carol;

static int test_connect(void)
{
    REQUIRE(acct_open(&alice1, "alice/one", "alice", "one", CANTO_PRESENCE_SHOW_NONE, NULL, 1) ==
            0);
    REQUIRE(acct_open(&alice2, "alice/two", "alice", "two", CANTO_PRESENCE_SHOW_XA, "far away",
                      0) == 0);
    REQUIRE(acct_open(&bob_a, "bob/a", "bob", "a", CANTO_PRESENCE_SHOW_CHAT, "talk to me", 5) == 0);
    REQUIRE(acct_open(&bob_b, "bob/b", "bob", "b", CANTO_PRESENCE_SHOW_AWAY, "in a meeting", -1) ==
            0);
    REQUIRE(acct_open(&carol, "carol/c", "carol", "c", CANTO_PRESENCE_SHOW_NONE, NULL, 0) == 0);
    account *all[] = {&alice1, &alice2, &bob_a, &bob_b, &carol};
    accts s = {all, 5};
    REQUIRE(wait_for(all_connected, &s, "all connected"));
    /* Fresh accounts: empty rosters. */
    prosody_run_for(loop, 300);
    for (size_t i = 0; i < 5; i++)
        CHECK_INT(canto_roster_count(all[i]->roster), 0);
    /* Each account sees its own other resources. */
    CHECK(resources_of(&alice1, "alice@localhost", 2));
    CHECK(resources_of(&bob_b, "bob@localhost", 2));
    return 0;
}

static int ask_pending(const void *ud)
{
    const account *a = ud;
    return canto_roster_item_ask(canto_roster_find(a->roster, "bob@localhost"));
}

static int test_subscribe(void)
{
    /* alice asks bob with a message; bob's resources both hear it and approve. */
    bob_a.auto_approve = bob_b.auto_approve = 0;
    CHECK_INT(canto_presence_subscribe(alice1.presence, "bob@localhost", "hi bob"), 0);
    CHECK(count_reaches(&bob_a.requests, 1, "bob/a: subscription request"));
    CHECK(count_reaches(&bob_b.requests, 1, "bob/b: subscription request"));
    CHECK_STR(bob_a.request_from, "alice@localhost");
    CHECK_STR(bob_a.request_status, "hi bob");
    /* Pending: alice's roster says so, on both of her resources. */
    CHECK(wait_for(ask_pending, &alice2, "alice/two: bob pending"));
    const canto_roster_item *it = canto_roster_find(alice2.roster, "bob@localhost");
    CHECK(it && canto_roster_item_subscription(it) == CANTO_ROSTER_SUB_NONE);
    CHECK_INT(canto_presence_approve(bob_a.presence, bob_a.request_from), 0);
    CHECK(subscription_of(&alice1, "bob@localhost", CANTO_ROSTER_SUB_TO));
    CHECK(subscription_of(&alice2, "bob@localhost", CANTO_ROSTER_SUB_TO));
    CHECK(subscription_of(&bob_b, "alice@localhost", CANTO_ROSTER_SUB_FROM));
    bob_a.auto_approve = bob_b.auto_approve = 1;

    /* The rest with automatic approval. */
    CHECK_INT(canto_presence_subscribe(bob_a.presence, "alice@localhost", NULL), 0);
    CHECK_INT(canto_presence_subscribe(alice1.presence, "carol@localhost", NULL), 0);
    CHECK_INT(canto_presence_subscribe(carol.presence, "alice@localhost", NULL), 0);
    CHECK_INT(canto_presence_subscribe(bob_b.presence, "carol@localhost", NULL), 0);
    CHECK_INT(canto_presence_subscribe(carol.presence, "bob@localhost", NULL), 0);
    account *alices[] = {&alice1, &alice2}, *bobs[] = {&bob_a, &bob_b};
    for (size_t i = 0; i < 2; i++) {
        CHECK(subscription_of(alices[i], "bob@localhost", CANTO_ROSTER_SUB_BOTH));
        CHECK(subscription_of(alices[i], "carol@localhost", CANTO_ROSTER_SUB_BOTH));
        CHECK(subscription_of(bobs[i], "alice@localhost", CANTO_ROSTER_SUB_BOTH));
        CHECK(subscription_of(bobs[i], "carol@localhost", CANTO_ROSTER_SUB_BOTH));
    }
    CHECK(subscription_of(&carol, "alice@localhost", CANTO_ROSTER_SUB_BOTH));
    CHECK(subscription_of(&carol, "bob@localhost", CANTO_ROSTER_SUB_BOTH));
    CHECK_INT(canto_roster_count(carol.roster), 2);
    return 0;
}

static int test_presence_per_resource(void)
{
    CHECK(resources_of(&alice1, "bob@localhost", 2));
    CHECK(resources_of(&carol, "bob@localhost", 2));
    CHECK(resources_of(&carol, "alice@localhost", 2));
    CHECK(resources_of(&bob_a, "carol@localhost", 1));
    const canto_presence_resource *ra = resource(&alice1, "bob@localhost", "bob@localhost/a");
    const canto_presence_resource *rb = resource(&alice1, "bob@localhost", "bob@localhost/b");
    REQUIRE(ra && rb);
    CHECK_INT(canto_presence_resource_show(ra), CANTO_PRESENCE_SHOW_CHAT);
    CHECK_INT(canto_presence_resource_priority(ra), 5);
    CHECK_STR(canto_presence_resource_status(ra), "talk to me");
    CHECK_INT(canto_presence_resource_show(rb), CANTO_PRESENCE_SHOW_AWAY);
    CHECK_INT(canto_presence_resource_priority(rb), -1);
    CHECK_STR(canto_presence_resource_status(rb), "in a meeting");
    const canto_presence_contact *bob = canto_presence_find(alice1.presence, "bob@localhost");
    CHECK_STR(canto_jid_str(canto_presence_resource_jid(canto_presence_contact_best(bob))),
              "bob@localhost/a");
    const canto_presence_resource *a2 = resource(&carol, "alice@localhost", "alice@localhost/two");
    REQUIRE(a2 != NULL);
    CHECK_INT(canto_presence_resource_show(a2), CANTO_PRESENCE_SHOW_XA);
    CHECK_STR(canto_presence_resource_status(a2), "far away");

    /* bob/b changes: alice sees old and new. */
    copy(alice1.watch, sizeof(alice1.watch), "bob@localhost/b");
    int before = alice1.presence_changes;
    canto_presence_availability av = CANTO_PRESENCE_AVAILABILITY_INIT;
    av.show = CANTO_PRESENCE_SHOW_DND;
    av.status = "busy";
    av.priority = 10;
    CHECK_INT(canto_presence_set_available(bob_b.presence, &av), 0);
    show_want dnd = {&alice1, CANTO_PRESENCE_SHOW_DND};
    CHECK(wait_for(show_reached, &dnd, "alice: bob/b changed"));
    CHECK(alice1.presence_changes > before);
    CHECK(alice1.presence_had_old && alice1.presence_has_new);
    CHECK_INT(alice1.presence_new_show, CANTO_PRESENCE_SHOW_DND);
    bob = canto_presence_find(alice1.presence, "bob@localhost");
    CHECK_STR(canto_jid_str(canto_presence_resource_jid(canto_presence_contact_best(bob))),
              "bob@localhost/b");
    /* back to what it was, for canto-roster below */
    av.show = CANTO_PRESENCE_SHOW_AWAY;
    av.status = "in a meeting";
    av.priority = -1;
    CHECK_INT(canto_presence_set_available(bob_b.presence, &av), 0);
    show_want away = {&alice1, CANTO_PRESENCE_SHOW_AWAY};
    CHECK(wait_for(show_reached, &away, "alice: bob/b back"));
    return 0;
}

static int test_roster_pushes(void)
{
    const char *groups[] = {"Friends"};
    int before = alice2.changes;
    CHECK_INT(canto_roster_set_item(alice1.roster, "dave@localhost", "Dave", groups, 1, on_result,
                                    &alice1),
              0);
    CHECK(count_reaches(&alice1.results, 1, "alice/one: add answered"));
    CHECK_INT(alice1.outcome, CANTO_IQ_RESULT);
    CHECK(count_reaches(&alice2.changes, before + 1, "alice/two: push for dave"));
    CHECK_INT(alice2.change, CANTO_ROSTER_ADDED);
    CHECK_STR(alice2.change_jid, "dave@localhost");
    CHECK_STR(alice2.change_name, "Dave");
    CHECK_INT(alice2.change_groups, 1);
    const canto_roster_item *d = canto_roster_find(alice2.roster, "dave@localhost");
    CHECK(d && canto_roster_item_subscription(d) == CANTO_ROSTER_SUB_NONE);
    CHECK_STR(canto_roster_item_group(d, 0), "Friends");

    const char *two[] = {"Friends", "Work"};
    CHECK_INT(
        canto_roster_set_item(alice1.roster, "dave@localhost", "David", two, 2, on_result, &alice1),
        0);
    CHECK(count_reaches(&alice2.changes, before + 2, "alice/two: push for the rename"));
    CHECK_INT(alice2.change, CANTO_ROSTER_UPDATED);
    CHECK_STR(alice2.change_old_name, "Dave");
    CHECK_STR(alice2.change_name, "David");
    CHECK_INT(alice2.change_groups, 2);

    CHECK_INT(canto_roster_remove_item(alice1.roster, "dave@localhost", on_result, &alice1), 0);
    CHECK(count_reaches(&alice2.changes, before + 3, "alice/two: push for the removal"));
    CHECK_INT(alice2.change, CANTO_ROSTER_REMOVED);
    CHECK_STR(alice2.change_jid, "dave@localhost");
    CHECK(canto_roster_find(alice2.roster, "dave@localhost") == NULL);
    CHECK(count_reaches(&alice1.results, 3, "alice/one: all answered"));
    CHECK_INT(alice1.outcome, CANTO_IQ_RESULT);

    /* A name for bob; the subscription stays. */
    CHECK_INT(canto_roster_set_item(alice1.roster, "bob@localhost", "Bobby", NULL, 0, NULL, NULL),
              0);
    CHECK(count_reaches(&alice2.changes, before + 4, "alice/two: bob renamed"));
    const canto_roster_item *b = canto_roster_find(alice2.roster, "bob@localhost");
    CHECK_STR(canto_roster_item_name(b), "Bobby");
    CHECK_INT(canto_roster_item_subscription(b), CANTO_ROSTER_SUB_BOTH);
    /* alice/one got the same pushes. */
    CHECK(count_reaches(&alice1.changes, alice2.changes, "alice/one: same pushes"));
    CHECK_STR(canto_roster_item_name(canto_roster_find(alice1.roster, "bob@localhost")), "Bobby");
    CHECK_STR(canto_roster_version(alice1.roster), canto_roster_version(alice2.roster));
    return 0;
}

static int test_versioning(void)
{
    const char *ver = canto_roster_version(alice2.roster);
    REQUIRE(ver != NULL); /* Prosody versions rosters */
    char *saved;
    REQUIRE(canto_roster_export(alice2.roster, &saved, NULL) == 0);

    /* The same copy, fetched again with its version: nothing to send. */
    int results = alice2.results, changes = alice2.changes;
    CHECK_INT(canto_roster_fetch(alice2.roster, on_result, &alice2), 0);
    CHECK(count_reaches(&alice2.results, results + 1, "alice/two: versioned fetch"));
    CHECK_INT(alice2.outcome, CANTO_IQ_RESULT);
    CHECK_INT(alice2.result_had_query, 0);
    CHECK_INT(alice2.changes, changes);
    CHECK_INT(canto_roster_count(alice2.roster), 2);

    /* A new session restoring the saved copy gets the same answer. */
    account third;
    REQUIRE(acct_open(&third, "alice/three", "alice", "three", CANTO_PRESENCE_SHOW_NONE, NULL, 0) ==
            0);
    /* acct_open connects at once; the import happens before CONNECTED. */
    CHECK_INT(canto_roster_import(third.roster, saved, (size_t)-1), 0);
    CHECK_INT(canto_roster_count(third.roster), 2);
    account *one[] = {&third};
    accts s = {one, 1};
    CHECK(wait_for(all_connected, &s, "alice/three connected"));
    /* on_state fetched without a callback; fetch once more to see the answer. */
    CHECK_INT(canto_roster_fetch(third.roster, on_result, &third), 0);
    CHECK(count_reaches(&third.results, 1, "alice/three: fetch"));
    CHECK_INT(third.result_had_query, 0);
    CHECK_INT(third.changes, 0);
    CHECK_INT(canto_roster_count(third.roster), 2);
    CHECK_STR(canto_roster_item_name(canto_roster_find(third.roster, "bob@localhost")), "Bobby");

    /* A stale version gets the full roster back. */
    CHECK_INT(canto_roster_import(third.roster,
                                  "<query xmlns='jabber:iq:roster' ver='1'>"
                                  "<item jid='zed@localhost' subscription='none'/></query>",
                                  (size_t)-1),
              0);
    CHECK_INT(canto_roster_fetch(third.roster, on_result, &third), 0);
    CHECK(count_reaches(&third.results, 2, "alice/three: stale fetch"));
    CHECK_INT(third.result_had_query, 1);
    CHECK_INT(canto_roster_count(third.roster), 2);
    CHECK(canto_roster_find(third.roster, "zed@localhost") == NULL);
    CHECK_STR(canto_roster_version(third.roster), canto_roster_version(alice2.roster));
    CHECK_INT(third.changes, 3); /* zed removed, bob and carol added */

    canto_client_disconnect(third.client);
    CHECK(wait_for(all_disconnected, &s, "alice/three disconnected"));
    acct_close(&third);
    canto_free(saved);
    return 0;
}

/* Run canto-roster as alice while the loop keeps the others going. */
static int run_canto_roster(char *out, size_t cap, int *status)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    char server[64];
    snprintf(server, sizeof(server), "127.0.0.1:%u", prosody_port());
    char *argv[] = {CANTO_ROSTER_EXE, "--jid",     "alice@localhost/tool", "--server",
                    server,           "--ca-file", (char *)prosody_ca(),   NULL};
    char pw[96];
    snprintf(pw, sizeof(pw), "CANTO_PASSWORD=%s", prosody_env("CANTO_PROSODY_PASSWORD_alice"));
    char *envp[] = {pw, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    pid_t pid;
    int rc = posix_spawn(&pid, CANTO_ROSTER_EXE, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        return -1;
    }
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    size_t len = 0;
    int eof = 0;
    uint64_t end = canto_loop_now(loop) + WAIT_MS;
    while (!eof && canto_loop_now(loop) < end) {
        canto_loop_run_once(loop, 20);
        ssize_t n;
        while ((n = read(pipefd[0], out + len, cap - 1 - len)) > 0)
            len += (size_t)n;
        if (n == 0 || len == cap - 1)
            eof = 1;
    }
    close(pipefd[0]);
    out[len] = '\0';
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return eof ? 0 : -1;
}

static int test_canto_roster(void)
{
    char out[4096];
    int status = -1;
    REQUIRE(run_canto_roster(out, sizeof(out), &status) == 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (verbose)
        fprintf(stderr, "canto-roster printed:\n%s", out);
    static const char want[] = "bob@localhost\tBobby\tboth\n"
                               "\tbob@localhost/a\tchat\t5\ttalk to me\n"
                               "\tbob@localhost/b\taway\t-1\tin a meeting\n"
                               "carol@localhost\t\tboth\n"
                               "\tcarol@localhost/c\tavailable\t0\t\n";
    CHECK_STR(out, want);
    /* bob saw alice/tool come and go. */
    CHECK(resources_of(&bob_a, "alice@localhost", 2));
    return 0;
}

static int test_disconnect(void)
{
    /* bob/b leaves: the others see one bob resource left. */
    CHECK_INT(canto_presence_set_unavailable(bob_b.presence, "bye"), 0);
    CHECK(resources_of(&alice1, "bob@localhost", 1));
    CHECK(resources_of(&carol, "bob@localhost", 1));
    CHECK_INT(canto_presence_contact_count(bob_b.presence), 0);
    account *all[] = {&alice1, &alice2, &bob_a, &bob_b, &carol};
    accts s = {all, 5};
    for (size_t i = 0; i < 5; i++)
        canto_client_disconnect(all[i]->client);
    CHECK(wait_for(all_disconnected, &s, "all disconnected"));
    for (size_t i = 0; i < 5; i++) {
        CHECK_INT(all[i]->error, 0);
        /* Presence is forgotten, the roster copy kept. */
        CHECK_INT(canto_presence_contact_count(all[i]->presence), 0);
        CHECK_INT(canto_roster_count(all[i]->roster), 2);
    }
    for (size_t i = 0; i < 5; i++)
        acct_close(all[i]);
    return 0;
}

int main(void)
{
    verbose = getenv("CANTO_TEST_VERBOSE") != NULL;
    int rc = prosody_start("im");
    if (rc != 0)
        return rc;
    if (canto_loop_new(NULL, &loop) != 0) {
        prosody_stop(1);
        return 1;
    }
    int ok = 1;
#define STEP(fn)                                                                                   \
    do {                                                                                           \
        if (ok) {                                                                                  \
            int step_before_ = check_failures;                                                     \
            RUN(fn);                                                                               \
            ok = check_failures == step_before_;                                                   \
        }                                                                                          \
    } while (0)
    /* Each step builds on the one before. */
    STEP(test_connect);
    STEP(test_subscribe);
    STEP(test_presence_per_resource);
    STEP(test_roster_pushes);
    STEP(test_versioning);
    STEP(test_canto_roster);
    STEP(test_disconnect);
    if (!ok) {
        account *all[] = {&alice1, &alice2, &bob_a, &bob_b, &carol};
        for (size_t i = 0; i < 5; i++)
            acct_close(all[i]);
    }
    canto_loop_free(loop);
    int result = CHECK_DONE();
    prosody_stop(result != 0);
    return result;
}
