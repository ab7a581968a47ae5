/* canto_linklocal through its public API, two objects on one loop inside a
 * network namespace that run_in_netns.sh made (one veth end with link-local
 * addresses; multicast loops back to both objects): option checks, discovery
 * with every TXT field, messages through canto_linklocal_send() queued while
 * the stream opens, stanzas stamped with the true sender, iq requests and
 * answers on a session, the automatic error for an unhandled iq, status
 * changes, undelivered reports, and a peer leaving (goodbye) while a session
 * is open. Exits 77 when started outside a namespace with no usable
 * interface. */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/canto.h>
#include <canto/linklocal.h>

typedef struct side {
    const char *tag;
    canto_linklocal *ll;
    int appeared, changed, gone;
    char last_status[16], last_msg[64], last_nick[32], last_first[32], last_jid[64];
    size_t naddr;
    canto_client *session;
    int opened, closed, incoming, closed_error;
    char messages[512];
    int nmessages;
    char last_from[128];
    int undelivered, undelivered_err;
} side;

static canto_loop *loop;
static side A, B;
static int pings_answered, iq_outcome = -1, iq_error_outcome = -1;
static int close_tags_in; /* </stream:stream> received by alice */
static int delivered = -1;
static uint64_t delivered_token;

static void on_delivery(void *ud, canto_client *c, uint64_t token, int status)
{
    (void)ud;
    (void)c;
    delivered_token = token;
    delivered = status;
}

static void on_trace(void *ud, int outgoing, const char *xml, size_t len)
{
    (void)ud;
    static const char tag[] = "</stream:stream>";
    if (!outgoing && len >= sizeof(tag) - 1 && memcmp(xml, tag, sizeof(tag) - 1) == 0)
        close_tags_in++;
}
static char iq_error_cond[64];

static void on_peer(void *ud, canto_linklocal *ll, canto_ll_peer_event ev, const canto_ll_peer *p)
{
    side *s = ud;
    (void)ll;
    if (ev == CANTO_LL_PEER_GONE) {
        s->gone++;
        return;
    }
    if (ev == CANTO_LL_PEER_APPEARED)
        s->appeared++;
    else
        s->changed++;
    snprintf(s->last_status, sizeof(s->last_status), "%s", p->status);
    snprintf(s->last_msg, sizeof(s->last_msg), "%s", p->msg ? p->msg : "");
    snprintf(s->last_nick, sizeof(s->last_nick), "%s", p->nick ? p->nick : "");
    snprintf(s->last_first, sizeof(s->last_first), "%s", p->first ? p->first : "");
    snprintf(s->last_jid, sizeof(s->last_jid), "%s", p->jid ? p->jid : "");
    s->naddr = p->naddresses;
}

static int on_message(void *ud, canto_client *c, canto_stanza *st)
{
    side *s = ud;
    (void)c;
    const char *body = canto_stanza_child_text(st, "body", NULL);
    const char *from = canto_stanza_attr(st, "from");
    snprintf(s->last_from, sizeof(s->last_from), "%s", from ? from : "");
    if (body) {
        size_t n = strlen(s->messages);
        snprintf(s->messages + n, sizeof(s->messages) - n, "[%s]", body);
        s->nmessages++;
    }
    return 1;
}

/* bob answers pings (XEP-0199) by hand, as an application would. */
static int on_ping(void *ud, canto_client *c, canto_stanza *st)
{
    (void)ud;
    canto_stanza *res;
    if (canto_stanza_new_iq(NULL, "result", canto_stanza_attr(st, "from"),
                            canto_stanza_attr(st, "id"), &res) == 0) {
        if (canto_client_send(c, res) == 0)
            pings_answered++;
        canto_stanza_free(res);
    }
    return 1;
}

static void on_session(void *ud, canto_linklocal *ll, canto_client *session,
                       canto_ll_session_event ev, const char *peer, int incoming, int error)
{
    side *s = ud;
    (void)ll;
    (void)peer;
    if (ev == CANTO_LL_SESSION_OPENED) {
        s->opened++;
        s->session = session;
        s->incoming = incoming;
        canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
        m.name = "message";
        canto_client_add_handler(session, &m, on_message, s, NULL);
        canto_handler_match p = CANTO_HANDLER_MATCH_INIT;
        p.name = "iq";
        p.type = "get";
        p.ns = "urn:xmpp:ping";
        canto_client_add_handler(session, &p, on_ping, s, NULL);
    } else {
        s->closed++;
        s->closed_error = error;
        if (s->session == session)
            s->session = NULL;
    }
}

static void on_undelivered(void *ud, canto_linklocal *ll, const canto_stanza *st, int error)
{
    side *s = ud;
    (void)ll;
    (void)st;
    s->undelivered++;
    s->undelivered_err = error;
}

static void on_iq(void *ud, canto_client *c, const canto_iq_response *r)
{
    int *outcome = ud;
    (void)c;
    *outcome = (int)r->outcome;
    if (outcome == &iq_error_outcome && r->error.condition_name)
        snprintf(iq_error_cond, sizeof(iq_error_cond), "%s", r->error.condition_name);
}

/* Run the loop until *flag >= want or @p ms pass. */
static int run_until(const int *flag, int want, int ms)
{
    uint64_t end = canto_loop_now(loop) + (uint64_t)ms;
    while (*flag < want && canto_loop_now(loop) < end)
        canto_loop_run_once(loop, 50);
    return *flag >= want;
}

static int make(side *s, const char *name, const char *nick)
{
    canto_linklocal_options o = CANTO_LINKLOCAL_OPTIONS_INIT;
    o.name = name;
    o.nick = nick;
    o.first = s == &A ? "Alice" : "Bob";
    o.jid = s == &A ? "alice@example.org" : NULL;
    o.ttl = 5;
    o.peer = on_peer;
    o.session = on_session;
    o.undelivered = on_undelivered;
    o.user_data = s;
    /* alice names her interface (the veth end run_in_netns.sh made); bob
     * takes every suitable one. */
    static const char *const alice_ifs[] = {"cv0", NULL};
    if (s == &A) {
        o.xml_trace = on_trace;
        o.interfaces = alice_ifs;
    }
    s->tag = name;
    int rc = canto_linklocal_new(loop, &o, &s->ll);
    if (rc)
        return rc;
    return canto_linklocal_start(s->ll);
}

static int test_options(void)
{
    canto_linklocal *ll = NULL;
    canto_linklocal_options o = CANTO_LINKLOCAL_OPTIONS_INIT;
    CHECK_INT(canto_linklocal_new(loop, &o, &ll), CANTO_EINVAL); /* no name */
    o.name = "has space@host";
    CHECK(canto_linklocal_new(loop, &o, &ll) < 0);
    o.name = "ok";
    o.caps_hash = "sha-1"; /* caps need all three */
    CHECK_INT(canto_linklocal_new(loop, &o, &ll), CANTO_EINVAL);
    o.caps_hash = NULL;
    o.tls = CANTO_LL_TLS_REQUIRED; /* TLS without a certificate */
    CHECK_INT(canto_linklocal_new(loop, &o, &ll), CANTO_EINVAL);
    o.cert_file = "/nonexistent/cert.pem";
    o.key_file = "/nonexistent/key.pem";
    CHECK_INT(canto_linklocal_new(loop, &o, &ll), 0);
    CHECK_INT(canto_linklocal_start(ll), CANTO_EIO); /* told at start, not per stream */
    CHECK(strstr(canto_linklocal_last_error(ll), "/nonexistent/cert.pem") != NULL);
    canto_linklocal_free(ll);
    ll = NULL;
    o.cert_file = o.key_file = NULL;
    o.tls = CANTO_LL_TLS_OFF;
    /* Only the interfaces named: none of them exists. */
    const char *ifs[] = {"canto-nope0", NULL};
    o.interfaces = ifs;
    CHECK_INT(canto_linklocal_new(loop, &o, &ll), 0);
    CHECK_INT(canto_linklocal_start(ll), CANTO_ENOTFOUND);
    CHECK(strstr(canto_linklocal_last_error(ll), "mDNS") != NULL);
    canto_linklocal_free(ll);
    ll = NULL;
    o.interfaces = NULL;
    char big[300];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    o.msg = big; /* over one TXT string */
    CHECK_INT(canto_linklocal_new(loop, &o, &ll), CANTO_EINVAL);
    o.msg = NULL;
    o.version = 99;
    CHECK_INT(canto_linklocal_new(loop, &o, &ll), CANTO_EINVAL);
    o.version = CANTO_LINKLOCAL_OPTIONS_VERSION;
    CHECK_INT(canto_linklocal_new(loop, &o, &ll), 0);
    /* "user" gets the host name; nothing goes out before start. */
    CHECK(strncmp(canto_linklocal_name(ll), "ok@", 3) == 0);
    CHECK_INT((int)canto_linklocal_port(ll), 0);
    CHECK_INT(canto_linklocal_send_message(ll, "x@y", "hi"), CANTO_ESTATE);
    CHECK_INT(canto_linklocal_set_status(ll, CANTO_LL_DND, "busy"), 0);
    CHECK_INT(canto_linklocal_set_status(ll, (canto_ll_status)7, NULL), CANTO_EINVAL);
    canto_linklocal_free(ll);
    CHECK_STR(canto_ll_status_name(CANTO_LL_AWAY), "away");
    return 0;
}

static int test_two_peers(void)
{
    int rc = make(&A, "alice@hosta", "Al");
    if (rc == CANTO_ENOTFOUND || rc == CANTO_EIO) {
        fprintf(stderr, "no usable interface here (%s): run me through run_in_netns.sh\n",
                canto_strerror(rc));
        canto_linklocal_free(A.ll);
        return 77;
    }
    CHECK_INT(rc, 0);
    CHECK_INT(make(&B, "bob@hostb", "Bobby"), 0);
    CHECK(canto_linklocal_port(A.ll) != 0);

    /* Discovery, both ways, with the TXT fields. */
    CHECK(run_until(&A.appeared, 1, 20000));
    CHECK(run_until(&B.appeared, 1, 20000));
    CHECK_STR(A.last_nick, "Bobby");
    CHECK_STR(A.last_first, "Bob");
    CHECK_STR(A.last_status, "avail");
    CHECK_STR(B.last_jid, "alice@example.org");
    CHECK(A.naddr >= 1);
    CHECK_INT((int)canto_linklocal_peer_count(A.ll), 1); /* not ourselves */
    canto_ll_peer p;
    CHECK_INT(canto_linklocal_peer(A.ll, "bob@hostb", &p), 0);
    CHECK_STR(p.name, "bob@hostb");
    CHECK_STR(p.host, "hostb.local");
    CHECK(p.port != 0);
    CHECK_INT(canto_linklocal_peer(A.ll, "nobody@nowhere", &p), CANTO_ENOTFOUND);

    /* Unknown peer: refused at once with a reason. */
    CHECK_INT(canto_linklocal_send_message(A.ll, "nobody@nowhere", "x"), CANTO_ENOTFOUND);
    CHECK(strstr(canto_linklocal_last_error(A.ll), "nobody@nowhere") != NULL);

    /* Two messages queued while the stream opens arrive in order; a forged
     * `from` is replaced with the sender's real name. */
    canto_stanza *m;
    CHECK_INT(canto_stanza_new_message(NULL, "chat", "bob@hostb", NULL, "one", &m), 0);
    CHECK_INT(canto_stanza_set_attr(m, "from", "mallory@evil"), 0);
    CHECK_INT(canto_linklocal_send(A.ll, m), 0);
    canto_stanza_free(m);
    CHECK_INT(canto_linklocal_send_message(A.ll, "bob@hostb", "two"), 0);
    CHECK(canto_linklocal_session(A.ll, "bob@hostb") == NULL); /* still opening */
    CHECK(run_until(&B.nmessages, 2, 10000));
    CHECK_STR(B.messages, "[one][two]");
    CHECK_STR(B.last_from, "alice@hosta");
    CHECK_INT(A.opened, 1);
    CHECK_INT(A.incoming, 0);
    CHECK_INT(B.incoming, 1);
    CHECK(canto_linklocal_session(A.ll, "bob@hostb") == A.session);

    /* bob answers on the stream alice opened. */
    CHECK_INT(canto_linklocal_send_message(B.ll, "alice@hosta", "back"), 0);
    CHECK(run_until(&A.nmessages, 1, 10000));
    CHECK_STR(A.messages, "[back]");
    CHECK_STR(A.last_from, "bob@hostb");
    CHECK_INT(B.opened, 1); /* no second stream */

    /* An iq request on the session, answered by bob's handler. */
    canto_stanza *iq, *child;
    CHECK_INT(canto_stanza_new_iq(NULL, "get", "bob@hostb", "q1", &iq), 0);
    CHECK_INT(canto_stanza_add_child(iq, "ping", "urn:xmpp:ping", &child), 0);
    CHECK_INT(canto_client_send_iq(A.session, iq, 5000, on_iq, &iq_outcome, NULL), 0);
    canto_stanza_free(iq);
    for (int i = 0; i < 200 && iq_outcome < 0; i++)
        canto_loop_run_once(loop, 50);
    CHECK_INT(pings_answered, 1);
    CHECK_INT(iq_outcome, CANTO_IQ_RESULT);

    /* A tracked send is confirmed by the peer itself (a ping after it). */
    CHECK_INT(canto_client_set_delivery_callback(A.session, on_delivery, NULL), 0);
    CHECK_INT(canto_stanza_new_message(NULL, "chat", "bob@hostb", NULL, "tracked", &m), 0);
    CHECK_INT(canto_client_send_tracked(A.session, m, 42), 0);
    canto_stanza_free(m);
    for (int i = 0; i < 200 && delivered < 0; i++)
        canto_loop_run_once(loop, 50);
    CHECK_INT(delivered, 0);
    CHECK_INT((int)delivered_token, 42);
    CHECK(strstr(B.messages, "[tracked]") != NULL);

    /* One nobody handles gets the automatic service-unavailable. */
    CHECK_INT(canto_stanza_new_iq(NULL, "get", "bob@hostb", "q1", &iq), 0);
    CHECK_INT(canto_stanza_add_child(iq, "query", "urn:example:nothing", &child), 0);
    CHECK_INT(canto_client_send_iq(A.session, iq, 5000, on_iq, &iq_error_outcome, NULL), 0);
    canto_stanza_free(iq);
    for (int i = 0; i < 100 && iq_error_outcome < 0; i++)
        canto_loop_run_once(loop, 50);
    CHECK_INT(iq_error_outcome, CANTO_IQ_ERROR);
    CHECK_STR(iq_error_cond, "service-unavailable");

    /* Status change: a TXT update seen as CHANGED. */
    CHECK_INT(canto_linklocal_set_status(B.ll, CANTO_LL_AWAY, "back soon"), 0);
    CHECK(run_until(&A.changed, 1, 10000));
    CHECK_STR(A.last_status, "away");
    CHECK_STR(A.last_msg, "back soon");

    /* bob's machine gets one more address (inside this test's own
     * namespace, link-local range): after network_changed alice sees it. */
    size_t before = A.naddr;
    int changes = A.changed;
    CHECK_INT(canto_linklocal_network_changed(B.ll), 0); /* nothing new: nothing happens */
    CHECK_INT(system("ip addr add 169.254.99.9/16 dev cv0"), 0);
    CHECK_INT(canto_linklocal_network_changed(B.ll), 0);
    CHECK(run_until(&A.changed, changes + 1, 15000));
    for (int i = 0; i < 40 && A.naddr <= before; i++)
        run_until(&A.changed, A.changed + 1, 500);
    CHECK(A.naddr > before);
    CHECK_STR(A.last_status, "away"); /* the TXT record came along unchanged */

    /* bob leaves: goodbye; alice's session with him ends. */
    canto_linklocal_free(B.ll);
    B.ll = NULL;
    CHECK(run_until(&A.gone, 1, 5000));
    CHECK(run_until(&A.closed, 1, 5000));
    CHECK_INT(A.closed_error, CANTO_ECLOSED);
    CHECK_INT(close_tags_in, 1); /* bob closed the stream (§8) rather than the socket */
    CHECK(A.session == NULL);
    CHECK_INT((int)canto_linklocal_peer_count(A.ll), 0);
    CHECK_INT(canto_linklocal_send_message(A.ll, "bob@hostb", "late"), CANTO_ENOTFOUND);
    CHECK_INT(A.undelivered, 0);
    canto_linklocal_free(A.ll);
    A.ll = NULL;
    return 0;
}

int main(void)
{
    if (canto_loop_new(NULL, &loop) != 0)
        return 1;
    RUN(test_options);
    int rc = test_two_peers();
    if (rc == 77) {
        canto_loop_free(loop);
        return 77;
    }
    if (rc)
        check_failures++;
    canto_loop_free(loop);
    return CHECK_DONE();
}
