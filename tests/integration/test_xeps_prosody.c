/* The XEP plugins end to end against Prosody 0.12 (tests/servers/prosody.sh,
 * started with CANTO_PROSODY_ALLOW_REGISTRATION=1): ping of the server and
 * of a peer, a peer's software version and time, delivery receipts from
 * alice to bob and back, carbons to alice's second resource, a blocklist
 * round trip, and in-band registration of a new account followed by a login,
 * a password change and the account's removal. Public API only, one loop,
 * one thread.
 *
 * Exit 77 (skip) only when prosody is not installed. CANTO_TEST_VERBOSE=1
 * shows every client's log. */
#include "../unit/check.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <canto/blocking.h>
#include <canto/canto.h>
#include <canto/carbons.h>
#include <canto/ping.h>
#include <canto/receipts.h>
#include <canto/register.h>
#include <canto/software_version.h>
#include <canto/time.h>

#include "prosody_fixture.h"

/* Only matters when something hangs; valgrind makes everything slow. */
#define WAIT_MS 60000u

static int verbose;
static canto_loop *loop;

/* ------------------------------------------------------------------------ */
/* Clients */

typedef struct session {
    canto_client *client;
    char label[32];
    int connected, disconnected, error;
    char jid[128];
} session;

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    session *s = ud;
    if (st == CANTO_CLIENT_CONNECTED) {
        s->connected = 1;
        snprintf(s->jid, sizeof(s->jid), "%s", canto_jid_str(canto_client_jid(c)));
    } else if (st == CANTO_CLIENT_DISCONNECTED) {
        s->disconnected = 1;
        s->error = info ? info->error : 0;
        if (verbose)
            fprintf(stderr, "  [%s] disconnected: %s\n", s->label,
                    info && info->detail ? info->detail : "");
    }
}

static int settled(void *arg)
{
    const session *s = arg;
    return s->connected || s->disconnected;
}

static int wait_for(const int *v, int want)
{
    return prosody_wait_for(loop, v, want, WAIT_MS);
}

/* Log in as @p user (password @p password) with @p resource; send initial
 * presence. @return 1 once connected. */
static int login(session *s, const char *label, const char *user, const char *password,
                 const char *resource)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->label, sizeof(s->label), "%s", label);
    char jid[128];
    snprintf(jid, sizeof(jid), "%s@localhost", user);
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    prosody_client_options(&o, password);
    o.resource = resource;
    if (verbose) {
        o.log = prosody_log;
        o.log_user_data = s->label;
        o.log_level = CANTO_LOG_DEBUG;
    }
    if (canto_client_new(loop, jid, &o, &s->client) != 0 ||
        canto_client_set_state_callback(s->client, on_state, s) != 0 ||
        canto_client_connect(s->client) != 0)
        return 0;
    if (!prosody_run_until(loop, settled, s, WAIT_MS) || !s->connected)
        return 0;
    prosody_send_presence(s->client, NULL, NULL);
    return 1;
}

static void logout(session *s)
{
    if (s->client && canto_client_get_state(s->client) != CANTO_CLIENT_DISCONNECTED &&
        canto_client_disconnect(s->client) == 0)
        wait_for(&s->disconnected, 1);
    canto_client_free(s->client);
    s->client = NULL;
}

static int send_chat(session *from, const char *to, const char *id, const char *body)
{
    canto_stanza *m;
    int rc = canto_stanza_new_message(NULL, "chat", to, id, body, &m);
    if (rc == 0) {
        rc = canto_client_send(from->client, m);
        canto_stanza_free(m);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Ping, version, time */

typedef struct ping_rec {
    int n;
    canto_iq_outcome outcome;
} ping_rec;

static void on_ping(void *ud, canto_ping *p, const canto_ping_result *r)
{
    ping_rec *rec = ud;
    (void)p;
    rec->n++;
    rec->outcome = r->outcome;
    if (verbose)
        fprintf(stderr, "  ping %s: outcome %d, %llu ms\n", r->jid ? r->jid : "(server)",
                (int)r->outcome, (unsigned long long)r->rtt_ms);
}

typedef struct version_rec {
    int n;
    canto_iq_outcome outcome;
    char name[64], ver[64];
    int has_os;
} version_rec;

static void on_version(void *ud, canto_software_version *sv, const canto_software_version_result *r)
{
    version_rec *rec = ud;
    (void)sv;
    rec->n++;
    rec->outcome = r->outcome;
    snprintf(rec->name, sizeof(rec->name), "%s", r->info.name ? r->info.name : "");
    snprintf(rec->ver, sizeof(rec->ver), "%s", r->info.ver ? r->info.ver : "");
    rec->has_os = r->info.os != NULL;
}

typedef struct time_rec {
    int n;
    canto_iq_outcome outcome;
    int parse_error;
    int64_t utc_ms;
    int tzo;
} time_rec;

static void on_time(void *ud, canto_time *t, const canto_time_result *r)
{
    time_rec *rec = ud;
    (void)t;
    rec->n++;
    rec->outcome = r->outcome;
    rec->parse_error = r->parse_error;
    rec->utc_ms = r->info.utc_ms;
    rec->tzo = r->info.tzo_minutes;
}

static int test_ping_version_time(void)
{
    session alice, bob;
    REQUIRE(login(&alice, "alice", "alice", "alice-secret", "pvt"));
    REQUIRE(login(&bob, "bob", "bob", "bob-secret", "pvt"));
    canto_ping *ap, *bp;
    canto_software_version *av, *bv;
    canto_time *at, *bt;
    REQUIRE(canto_ping_new(alice.client, loop, &ap) == 0);
    REQUIRE(canto_ping_new(bob.client, loop, &bp) == 0);
    REQUIRE(canto_software_version_new(alice.client, &av) == 0);
    REQUIRE(canto_software_version_new(bob.client, &bv) == 0);
    REQUIRE(canto_software_version_set(bv, "BobChat", "2.5", NULL) == 0);
    REQUIRE(canto_time_new(alice.client, &at) == 0);
    REQUIRE(canto_time_new(bob.client, &bt) == 0);

    /* The server (mod_ping), then bob's client. */
    ping_rec pr = {0};
    CHECK_INT(canto_ping_send(ap, NULL, WAIT_MS, on_ping, &pr, NULL), 0);
    CHECK(wait_for(&pr.n, 1));
    CHECK_INT(pr.outcome, CANTO_IQ_RESULT);
    CHECK_INT(canto_ping_send(ap, bob.jid, WAIT_MS, on_ping, &pr, NULL), 0);
    CHECK(wait_for(&pr.n, 2));
    CHECK_INT(pr.outcome, CANTO_IQ_RESULT);
    /* A resource that does not exist: the server answers with an error. */
    CHECK_INT(canto_ping_send(ap, "bob@localhost/nobody", WAIT_MS, on_ping, &pr, NULL), 0);
    CHECK(wait_for(&pr.n, 3));
    CHECK_INT(pr.outcome, CANTO_IQ_ERROR);

    /* The keepalive pings the server. */
    ping_rec kr = {0};
    CHECK_INT(canto_ping_keepalive(ap, 100, 10000, on_ping, &kr), 0);
    CHECK(wait_for(&kr.n, 2));
    CHECK_INT(kr.outcome, CANTO_IQ_RESULT);
    CHECK_INT(canto_ping_keepalive(ap, 0, 0, NULL, NULL), 0);

    version_rec vr = {0};
    CHECK_INT(canto_software_version_query(av, bob.jid, WAIT_MS, on_version, &vr, NULL), 0);
    CHECK(wait_for(&vr.n, 1));
    CHECK_INT(vr.outcome, CANTO_IQ_RESULT);
    CHECK_STR(vr.name, "BobChat");
    CHECK_STR(vr.ver, "2.5");
    CHECK_INT(vr.has_os, 0);

    time_rec tr = {0};
    CHECK_INT(canto_time_set_tzo(bt, 120), 0);
    CHECK_INT(canto_time_query(at, bob.jid, WAIT_MS, on_time, &tr, NULL), 0);
    CHECK(wait_for(&tr.n, 1));
    CHECK_INT(tr.outcome, CANTO_IQ_RESULT);
    CHECK_INT(tr.parse_error, 0);
    CHECK_INT(tr.tzo, 120);
    CHECK(llabs(tr.utc_ms - (int64_t)time(NULL) * 1000) < 10000);

    canto_ping_free(ap);
    canto_ping_free(bp);
    canto_software_version_free(av);
    canto_software_version_free(bv);
    canto_time_free(at);
    canto_time_free(bt);
    logout(&alice);
    logout(&bob);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Receipts */

typedef struct receipt_rec {
    int n;
    char from[128], id[64];
} receipt_rec;

static void on_receipt(void *ud, canto_receipts *r, const char *from, const char *id,
                       canto_stanza *message)
{
    receipt_rec *rec = ud;
    (void)r;
    (void)message;
    rec->n++;
    snprintf(rec->from, sizeof(rec->from), "%s", from ? from : "");
    snprintf(rec->id, sizeof(rec->id), "%s", id);
}

static int test_receipts(void)
{
    session alice, bob;
    REQUIRE(login(&alice, "alice", "alice", "alice-secret", "rcpt"));
    REQUIRE(login(&bob, "bob", "bob", "bob-secret", "rcpt"));
    canto_receipts *ar, *br;
    REQUIRE(canto_receipts_new(alice.client, &ar) == 0);
    REQUIRE(canto_receipts_new(bob.client, &br) == 0);
    receipt_rec rec = {0};
    CHECK_INT(canto_receipts_set_callback(ar, on_receipt, &rec), 0);
    CHECK_INT(canto_receipts_set_auto_request(ar, 1), 0);

    /* alice asks (automatically), bob's plugin answers, alice hears it. */
    CHECK_INT(send_chat(&alice, bob.jid, "rcpt-1", "did you get this?"), 0);
    CHECK(wait_for(&rec.n, 1));
    CHECK_STR(rec.from, bob.jid);
    CHECK_STR(rec.id, "rcpt-1");

    /* bob's answering turned off: no receipt for the next one. */
    CHECK_INT(canto_receipts_set_auto_answer(br, 0), 0);
    CHECK_INT(send_chat(&alice, bob.jid, "rcpt-2", "and this?"), 0);
    /* A ping round trip from alice to bob, after which bob's receipt would have
     * arrived before the pong (same route, in order). */
    canto_ping *ap, *bp;
    REQUIRE(canto_ping_new(alice.client, loop, &ap) == 0);
    REQUIRE(canto_ping_new(bob.client, loop, &bp) == 0);
    ping_rec pr = {0};
    CHECK_INT(canto_ping_send(ap, bob.jid, WAIT_MS, on_ping, &pr, NULL), 0);
    CHECK(wait_for(&pr.n, 1));
    CHECK_INT(rec.n, 1);
    canto_ping_free(ap);
    canto_ping_free(bp);

    canto_receipts_free(ar);
    canto_receipts_free(br);
    logout(&alice);
    logout(&bob);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Carbons */

typedef struct carbon_rec {
    int n;
    canto_carbons_direction dir;
    char body[64], from[128], to[128];
    int results;
    canto_iq_outcome outcome;
} carbon_rec;

static void on_carbon(void *ud, canto_carbons *c, canto_carbons_direction direction,
                      canto_stanza *inner, canto_stanza *outer)
{
    carbon_rec *rec = ud;
    (void)c;
    (void)outer;
    rec->n++;
    rec->dir = direction;
    const char *b = canto_stanza_child_text(inner, "body", NULL);
    const char *f = canto_stanza_attr(inner, "from");
    const char *t = canto_stanza_attr(inner, "to");
    snprintf(rec->body, sizeof(rec->body), "%s", b ? b : "");
    snprintf(rec->from, sizeof(rec->from), "%s", f ? f : "");
    snprintf(rec->to, sizeof(rec->to), "%s", t ? t : "");
}

static void on_carbons_enabled(void *ud, canto_carbons *c, const canto_iq_response *r)
{
    carbon_rec *rec = ud;
    (void)c;
    rec->results++;
    rec->outcome = r->outcome;
}

static int test_carbons(void)
{
    session a1, a2, bob;
    REQUIRE(login(&a1, "alice/res1", "alice", "alice-secret", "res1"));
    REQUIRE(login(&a2, "alice/res2", "alice", "alice-secret", "res2"));
    REQUIRE(login(&bob, "bob", "bob", "bob-secret", "carbons"));
    canto_carbons *c1, *c2;
    REQUIRE(canto_carbons_new(a1.client, &c1) == 0);
    REQUIRE(canto_carbons_new(a2.client, &c2) == 0);
    carbon_rec r1 = {0}, r2 = {0};
    CHECK_INT(canto_carbons_set_callback(c1, on_carbon, &r1), 0);
    CHECK_INT(canto_carbons_set_callback(c2, on_carbon, &r2), 0);
    CHECK_INT(canto_carbons_enable(c1, on_carbons_enabled, &r1), 0);
    CHECK_INT(canto_carbons_enable(c2, on_carbons_enabled, &r2), 0);
    CHECK(wait_for(&r1.results, 1) && wait_for(&r2.results, 1));
    CHECK_INT(r1.outcome, CANTO_IQ_RESULT);
    CHECK_INT(r2.outcome, CANTO_IQ_RESULT);
    CHECK_INT(canto_carbons_enabled(c2), 1);

    /* bob writes to alice/res1: res2 gets a received-carbon. */
    CHECK_INT(send_chat(&bob, a1.jid, NULL, "hello res1"), 0);
    CHECK(wait_for(&r2.n, 1));
    CHECK_INT(r2.dir, CANTO_CARBONS_RECEIVED);
    CHECK_STR(r2.body, "hello res1");
    CHECK_STR(r2.from, bob.jid);
    CHECK_STR(r2.to, a1.jid);

    /* alice/res1 writes to bob: res2 gets a sent-carbon. */
    CHECK_INT(send_chat(&a1, bob.jid, NULL, "hi bob, from res1"), 0);
    CHECK(wait_for(&r2.n, 2));
    CHECK_INT(r2.dir, CANTO_CARBONS_SENT);
    CHECK_STR(r2.body, "hi bob, from res1");
    CHECK_STR(r2.from, a1.jid);
    CHECK_INT(r1.n, 0); /* res1 itself gets no copies of its own conversation */

    /* After a reconnect, res2 enables carbons again by itself. */
    CHECK_INT(canto_client_disconnect(a2.client), 0);
    CHECK(wait_for(&a2.disconnected, 1));
    a2.connected = a2.disconnected = 0;
    CHECK_INT(canto_client_connect(a2.client), 0);
    CHECK(prosody_run_until(loop, settled, &a2, WAIT_MS) && a2.connected);
    /* Whether the re-enable answer is already in depends on timing (slow under
     * valgrind); what matters is that it arrives without the app asking. */
    canto_stanza *p;
    if (canto_stanza_new_presence(NULL, NULL, NULL, &p) == 0) {
        canto_client_send(a2.client, p);
        canto_stanza_free(p);
    }
    int enabled = 0;
    for (int i = 0; i < 600 && !enabled; i++) {
        canto_loop_run_once(loop, 100);
        enabled = canto_carbons_enabled(c2);
    }
    CHECK(enabled);
    CHECK_INT(send_chat(&bob, a1.jid, NULL, "after reconnect"), 0);
    CHECK(wait_for(&r2.n, 3));
    CHECK_STR(r2.body, "after reconnect");

    canto_carbons_free(c1);
    canto_carbons_free(c2);
    logout(&a1);
    logout(&a2);
    logout(&bob);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Blocking */

typedef struct block_rec {
    int results;
    canto_iq_outcome outcome;
    int changes, blocked;
    char first[128];
} block_rec;

static void on_block_result(void *ud, canto_blocking *b, const canto_iq_response *r)
{
    block_rec *rec = ud;
    (void)b;
    rec->results++;
    rec->outcome = r->outcome;
}

static void on_block_change(void *ud, canto_blocking *b, int blocked, const char *const *jids,
                            size_t n)
{
    block_rec *rec = ud;
    (void)b;
    rec->changes++;
    rec->blocked = blocked;
    snprintf(rec->first, sizeof(rec->first), "%s", n ? jids[0] : "");
}

static int test_blocking(void)
{
    session alice;
    REQUIRE(login(&alice, "alice", "alice", "alice-secret", "block"));
    canto_blocking *b;
    REQUIRE(canto_blocking_new(alice.client, &b) == 0);
    block_rec rec = {0};
    CHECK_INT(canto_blocking_set_change_callback(b, on_block_change, &rec), 0);

    CHECK_INT(canto_blocking_get(b, on_block_result, &rec), 0);
    CHECK(wait_for(&rec.results, 1));
    CHECK_INT(rec.outcome, CANTO_IQ_RESULT);
    CHECK_INT(canto_blocking_count(b), 0);

    const char *const carol[] = {"Carol@localhost"};
    CHECK_INT(canto_blocking_block(b, carol, 1, on_block_result, &rec), 0);
    CHECK(wait_for(&rec.results, 2));
    CHECK_INT(rec.outcome, CANTO_IQ_RESULT);
    CHECK(canto_blocking_contains(b, "carol@localhost"));
    /* The server pushes the change to resources that fetched the list. */
    CHECK(wait_for(&rec.changes, 1));
    CHECK_INT(rec.blocked, 1);
    CHECK_STR(rec.first, "carol@localhost");

    /* A fresh fetch agrees. */
    CHECK_INT(canto_blocking_get(b, on_block_result, &rec), 0);
    CHECK(wait_for(&rec.results, 3));
    CHECK_INT(canto_blocking_count(b), 1);
    CHECK_STR(canto_blocking_item(b, 0), "carol@localhost");

    CHECK_INT(canto_blocking_unblock(b, carol, 1, on_block_result, &rec), 0);
    CHECK(wait_for(&rec.results, 4));
    CHECK(wait_for(&rec.changes, 2));
    CHECK_INT(rec.blocked, 0);
    CHECK_INT(canto_blocking_get(b, on_block_result, &rec), 0);
    CHECK(wait_for(&rec.results, 5));
    CHECK_INT(canto_blocking_count(b), 0);

    canto_blocking_free(b);
    logout(&alice);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Registration */

typedef struct reg_rec {
    int n;
    canto_register_outcome outcome;
    int error;
    canto_error_condition cond;
    char detail[256];
} reg_rec;

static void on_registered(void *ud, canto_register *reg, const canto_register_result *r)
{
    reg_rec *rec = ud;
    (void)reg;
    rec->n++;
    rec->outcome = r->outcome;
    rec->error = r->error;
    rec->cond = r->stanza_error ? r->stanza_error->condition : CANTO_COND_UNKNOWN;
    snprintf(rec->detail, sizeof(rec->detail), "%s", r->detail);
    if (verbose)
        fprintf(stderr, "  registration: outcome %d (%s)\n", (int)r->outcome, r->detail);
}

static int do_register(reg_rec *rec, const char *user, const char *password)
{
    canto_register_options o = CANTO_REGISTER_OPTIONS_INIT;
    o.host = "127.0.0.1";
    o.port = prosody_port();
    o.ca_file = prosody_ca();
    o.no_system_trust = 1;
    o.timeout_ms = WAIT_MS;
    int before = rec->n;
    if (canto_register_account(loop, "localhost", user, password, &o, on_registered, rec, NULL) !=
        0)
        return 0;
    return wait_for(&rec->n, before + 1);
}

typedef struct iq_rec {
    int n;
    canto_iq_outcome outcome;
} iq_rec;

static void on_iq(void *ud, canto_client *client, const canto_iq_response *r)
{
    iq_rec *rec = ud;
    (void)client;
    rec->n++;
    rec->outcome = r->outcome;
}

static int test_register(void)
{
    char user[32];
    snprintf(user, sizeof(user), "dave%ld", (long)getpid());
    reg_rec rec = {0};
    REQUIRE(do_register(&rec, user, "dave-secret"));
    CHECK_INT(rec.outcome, CANTO_REGISTER_OK);
    /* Taken now. */
    REQUIRE(do_register(&rec, user, "other-secret"));
    CHECK_INT(rec.outcome, CANTO_REGISTER_REFUSED);
    CHECK_INT(rec.cond, CANTO_COND_CONFLICT);

    /* Log in with it, change the password. */
    session s;
    REQUIRE(login(&s, "dave", user, "dave-secret", "reg"));
    iq_rec ir = {0};
    CHECK_INT(canto_register_change_password(s.client, "dave-new", WAIT_MS, on_iq, &ir, NULL), 0);
    CHECK(wait_for(&ir.n, 1));
    CHECK_INT(ir.outcome, CANTO_IQ_RESULT);
    logout(&s);
    /* The old password fails, the new one works. */
    CHECK(!login(&s, "dave-old", user, "dave-secret", "reg"));
    CHECK_INT(s.error, CANTO_EAUTH);
    logout(&s);
    REQUIRE(login(&s, "dave-new", user, "dave-new", "reg"));

    /* Delete it: answered, then the server closes the stream. */
    CHECK_INT(canto_register_remove_account(s.client, WAIT_MS, on_iq, &ir, NULL), 0);
    CHECK(wait_for(&ir.n, 2));
    CHECK_INT(ir.outcome, CANTO_IQ_RESULT);
    CHECK(wait_for(&s.disconnected, 1));
    logout(&s);
    CHECK(!login(&s, "dave-gone", user, "dave-new", "reg"));
    CHECK_INT(s.error, CANTO_EAUTH);
    logout(&s);

    /* An invalid username is refused before anything is sent. */
    CHECK_INT(canto_register_account(loop, "localhost", "bad@name", "pw", NULL, on_registered, &rec,
                                     NULL),
              CANTO_EJID_LOCAL);
    return 0;
}

/* ------------------------------------------------------------------------ */

int main(void)
{
    verbose = getenv("CANTO_TEST_VERBOSE") && strcmp(getenv("CANTO_TEST_VERBOSE"), "0") != 0;
    setenv("CANTO_PROSODY_ALLOW_REGISTRATION", "1", 1);
    int rc = prosody_start("xeps");
    if (rc != 0)
        return rc;
    if (canto_loop_new(NULL, &loop) != 0) {
        prosody_stop(1);
        return 1;
    }
    RUN(test_ping_version_time);
    RUN(test_receipts);
    RUN(test_carbons);
    RUN(test_blocking);
    RUN(test_register);
    canto_loop_free(loop);
    int result = CHECK_DONE();
    prosody_stop(result != 0);
    return result;
}
