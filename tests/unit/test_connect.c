/* Connection plan: target lists from SRV answers (XEP-0368 merge, "." and the
 * 5222 fallback), RFC 8305 interleaving, Happy Eyeballs races against real
 * listeners on 127.0.0.1 and ::1 (refused, never answering, pacing, resume),
 * and whole plans, with a small fake nameserver for the SRV step. Targets
 * named "localhost" resolve without DNS, so only SRV needs the fake. */
#include "check.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <resolv.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <canto/canto.h>
#include "loop/loop.h"
#include "net/connect_plan.h"

static canto__alloc A;

static const char *addr_str(const struct sockaddr_storage *ss)
{
    static char buf[80];
    canto__sockaddr_format(ss, buf, sizeof(buf));
    return buf;
}

static void set_rec(canto__srv_record *r, unsigned prio, unsigned weight, unsigned port,
                    const char *target)
{
    r->priority = (uint16_t)prio;
    r->weight = (uint16_t)weight;
    r->port = (uint16_t)port;
    snprintf(r->target, sizeof(r->target), "%s", target);
}

typedef struct script {
    const uint32_t *v;
    size_t n, at;
} script;

static uint32_t scripted(void *ud)
{
    script *s = ud;
    return s->at < s->n ? s->v[s->at++] : (s->at++, 0);
}

/* ------------------------------------------------------------------------ */
/* Pure parts */

static int test_targets_merge(void)
{
    canto__srv_record tls[2], plain[3];
    set_rec(&tls[0], 5, 0, 5223, "fast.example.org");
    set_rec(&tls[1], 10, 50, 443, "web.example.org");
    set_rec(&plain[0], 10, 50, 5222, "one.example.org");
    set_rec(&plain[1], 20, 0, 5222, "backup.example.org");
    set_rec(&plain[2], 10, 0, 5222, "zero.example.org");
    /* Priority 10 holds [zero(0), web(50, tls), one(50)] after weight-0
     * first: total 100, draw 51 -> "one" (0, 50, 100 >= 51); then [zero, web]
     * total 50, draw 0 -> zero. */
    uint32_t v[] = {51, 0};
    script s = {v, 2, 0};
    canto__connect_target *t;
    size_t n;
    REQUIRE(canto__connect_targets(&A, "example.org", 0, tls, 2, 0, plain, 3, scripted, &s, &t,
                                   &n) == 0);
    REQUIRE(n == 5);
    CHECK_STR(t[0].host, "fast.example.org");
    CHECK_INT(t[0].port, 5223);
    CHECK_INT(t[0].direct_tls, 1);
    CHECK_STR(t[1].host, "one.example.org");
    CHECK_INT(t[1].direct_tls, 0);
    CHECK_STR(t[2].host, "zero.example.org");
    CHECK_STR(t[3].host, "web.example.org");
    CHECK_INT(t[3].port, 443);
    CHECK_INT(t[3].direct_tls, 1);
    CHECK_STR(t[4].host, "backup.example.org");
    CHECK_INT(t[4].direct_tls, 0);
    canto__dealloc(&A, t);
    return 0;
}

static int test_targets_special(void)
{
    canto__srv_record dot, recs[2];
    set_rec(&dot, 0, 0, 0, ".");
    set_rec(&recs[0], 1, 0, 5222, "a.example.org");
    set_rec(&recs[1], 2, 0, 5222, ".");
    canto__connect_target *t;
    size_t n;
    script s = {NULL, 0, 0};

    /* No records anywhere (NXDOMAIN, no data, or failures): DOMAIN:5222. */
    const int errs[][2] = {{CANTO_ENOTFOUND, CANTO_ENOTFOUND},
                           {CANTO_ETIMEDOUT, CANTO_EDNS},
                           {CANTO_ENOTFOUND, CANTO_ETIMEDOUT}};
    for (size_t i = 0; i < 3; i++) {
        REQUIRE(canto__connect_targets(&A, "example.org", errs[i][0], NULL, 0, errs[i][1], NULL, 0,
                                       scripted, &s, &t, &n) == 0);
        REQUIRE(n == 1);
        CHECK_STR(t[0].host, "example.org");
        CHECK_INT(t[0].port, 5222);
        CHECK_INT(t[0].direct_tls, 0);
        canto__dealloc(&A, t);
    }
    /* "." for both, or for _xmpp-client with no Direct TLS records: no
     * service, and no fallback. */
    CHECK_INT(
        canto__connect_targets(&A, "example.org", 0, &dot, 1, 0, &dot, 1, scripted, &s, &t, &n),
        CANTO_ECONNECT);
    CHECK(t == NULL && n == 0);
    CHECK_INT(canto__connect_targets(&A, "example.org", CANTO_ENOTFOUND, NULL, 0, 0, &dot, 1,
                                     scripted, &s, &t, &n),
              CANTO_ECONNECT);
    /* "." for _xmpps-client only: no Direct TLS, STARTTLS fallback stands. */
    REQUIRE(canto__connect_targets(&A, "example.org", 0, &dot, 1, CANTO_ENOTFOUND, NULL, 0,
                                   scripted, &s, &t, &n) == 0);
    REQUIRE(n == 1);
    CHECK_INT(t[0].port, 5222);
    canto__dealloc(&A, t);
    /* "." on one side, records on the other: the records. */
    REQUIRE(canto__connect_targets(&A, "example.org", 0, recs, 1, 0, &dot, 1, scripted, &s, &t,
                                   &n) == 0);
    REQUIRE(n == 1);
    CHECK_STR(t[0].host, "a.example.org");
    CHECK_INT(t[0].direct_tls, 1);
    canto__dealloc(&A, t);
    /* A "." among several records is skipped, not obeyed. */
    REQUIRE(canto__connect_targets(&A, "example.org", CANTO_ENOTFOUND, NULL, 0, 0, recs, 2,
                                   scripted, &s, &t, &n) == 0);
    REQUIRE(n == 1);
    CHECK_STR(t[0].host, "a.example.org");
    CHECK_INT(t[0].direct_tls, 0);
    canto__dealloc(&A, t);
    CHECK_INT(s.at, 0);
    return 0;
}

static void v4(struct sockaddr_storage *ss, const char *ip)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sin->sin_addr);
}

static void v6(struct sockaddr_storage *ss, const char *ip)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &sin6->sin6_addr);
}

static int test_interleave(void)
{
    struct sockaddr_storage in[6], out[6];
    v4(&in[0], "192.0.2.1");
    v4(&in[1], "192.0.2.2");
    v6(&in[2], "2001:db8::1");
    v6(&in[3], "2001:db8::2");
    v6(&in[4], "2001:db8::3");
    v4(&in[5], "192.0.2.3");
    CHECK_INT(canto__addrs_interleave(in, 6, out), 6);
    static const char *const want[] = {"2001:db8::1", "192.0.2.1",   "2001:db8::2",
                                       "192.0.2.2",   "2001:db8::3", "192.0.2.3"};
    for (int i = 0; i < 6; i++)
        CHECK_STR(addr_str(&out[i]), want[i]);
    /* One family runs out: the other continues in order. */
    v6(&in[0], "2001:db8::a");
    v4(&in[1], "192.0.2.9");
    v4(&in[2], "192.0.2.8");
    v4(&in[3], "192.0.2.7");
    canto__addrs_interleave(in, 4, out);
    CHECK_STR(addr_str(&out[0]), "2001:db8::a");
    CHECK_STR(addr_str(&out[1]), "192.0.2.9");
    CHECK_STR(addr_str(&out[2]), "192.0.2.8");
    CHECK_STR(addr_str(&out[3]), "192.0.2.7");
    canto__addrs_interleave(in + 1, 1, out);
    CHECK_STR(addr_str(&out[0]), "192.0.2.9");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Sockets on the loopback */

typedef struct listener {
    int fd;
    uint16_t port;
    int filler; /* for a black hole: the connection that fills the backlog */
} listener;

static int make_listener(listener *l, int family, int backlog, uint16_t port)
{
    l->filler = -1;
    l->fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l->fd < 0)
        return -1;
    int one = 1;
    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_storage ss;
    socklen_t sl;
    if (family == AF_INET) {
        v4(&ss, "127.0.0.1");
        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
        sl = sizeof(struct sockaddr_in);
    } else {
        setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        v6(&ss, "::1");
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
        sl = sizeof(struct sockaddr_in6);
    }
    if (bind(l->fd, (struct sockaddr *)&ss, sl) < 0 || listen(l->fd, backlog) < 0) {
        close(l->fd);
        l->fd = -1;
        return -1;
    }
    getsockname(l->fd, (struct sockaddr *)&ss, &sl);
    l->port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                      : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static void close_listener(listener *l)
{
    if (l->fd >= 0)
        close(l->fd);
    if (l->filler >= 0)
        close(l->filler);
    l->fd = l->filler = -1;
}

/* Did a connection arrive (accept it and close it)? */
static int accepted(listener *l)
{
    struct pollfd p = {l->fd, POLLIN, 0};
    if (poll(&p, 1, 0) != 1)
        return 0;
    int c = accept(l->fd, NULL, NULL);
    if (c < 0)
        return 0;
    close(c);
    return 1;
}

/* A port whose SYNs go unanswered: a listener with a full backlog (the
 * kernel drops SYNs then). Checks that it really swallows connects. */
static int make_black_hole(listener *l, int family)
{
    if (make_listener(l, family, 0, 0) != 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(l->fd, (struct sockaddr *)&ss, &sl);
    l->filler = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    connect(l->filler, (struct sockaddr *)&ss, sl);
    struct pollfd p = {l->filler, POLLOUT, 0};
    poll(&p, 1, 200);
    int probe = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    connect(probe, (struct sockaddr *)&ss, sl);
    p.fd = probe;
    int hangs = poll(&p, 1, 100) == 0;
    close(probe);
    if (!hangs) {
        close_listener(l);
        return -1;
    }
    return 0;
}

static uint16_t closed_port(int family)
{
    listener l;
    if (make_listener(&l, family, 1, 0) != 0)
        return 0;
    uint16_t port = l.port;
    close_listener(&l);
    return port;
}

typedef struct race_result {
    int calls, err, fd;
    struct sockaddr_storage addr;
    char reason[300];
    uint64_t when;
    canto_loop *loop;
} race_result;

static void on_race(void *ud, int err, int fd, const struct sockaddr_storage *addr,
                    const char *reason)
{
    race_result *r = ud;
    r->calls++;
    r->err = err;
    r->fd = fd;
    r->when = canto_loop_now(r->loop);
    if (addr)
        r->addr = *addr;
    snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
}

static void run_until(canto_loop *loop, const int *done, unsigned ms)
{
    uint64_t end = canto_loop_now(loop) + ms;
    while (!*done && canto_loop_now(loop) < end)
        canto_loop_run_once(loop, 20);
}

static void loopbacks(struct sockaddr_storage *two)
{
    v4(&two[0], "127.0.0.1");
    v6(&two[1], "::1");
}

static int test_eyeballs_v6_first(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    listener l4, l6;
    REQUIRE(make_listener(&l4, AF_INET, 8, 0) == 0);
    if (make_listener(&l6, AF_INET6, 8, l4.port) != 0) {
        fprintf(stderr, "  no IPv6 loopback: skipped\n");
        close_listener(&l4);
        canto_loop_free(loop);
        return 0;
    }
    struct sockaddr_storage addrs[2];
    loopbacks(addrs); /* v4 listed first: the race still starts with v6 */
    race_result r = {0};
    r.loop = loop;
    canto__eyeballs *e;
    REQUIRE(canto__eyeballs_new(loop, NULL, addrs, 2, l4.port, 0, 0, on_race, &r, &e) == 0);
    CHECK_INT(r.calls, 0);
    run_until(loop, &r.calls, 2000);
    CHECK_INT(r.err, 0);
    REQUIRE(r.fd >= 0);
    CHECK_INT(r.addr.ss_family, AF_INET6);
    CHECK(accepted(&l6));
    /* The socket is ready for XMPP: non-blocking, no Nagle. */
    int nodelay = 0;
    socklen_t sl = sizeof(nodelay);
    getsockopt(r.fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &sl);
    CHECK(nodelay != 0);
    close(r.fd);

    /* Resume: the other address; then there is nothing left. */
    CHECK_INT(canto__eyeballs_resume(e), 0);
    CHECK_INT(canto__eyeballs_resume(e), CANTO_ESTATE);
    r.calls = 0;
    run_until(loop, &r.calls, 2000);
    CHECK_INT(r.err, 0);
    CHECK_INT(r.addr.ss_family, AF_INET);
    CHECK(accepted(&l4));
    close(r.fd);
    CHECK_INT(canto__eyeballs_resume(e), CANTO_ENOTFOUND);
    canto__eyeballs_free(e);
    canto__eyeballs_free(NULL);
    close_listener(&l4);
    close_listener(&l6);
    canto_loop_free(loop);
    return 0;
}

static int test_eyeballs_refused(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    listener l4;
    REQUIRE(make_listener(&l4, AF_INET, 8, 0) == 0);
    /* ::1 at the same port number has no listener: refused at once, and the
     * IPv4 attempt starts without waiting out the (long) delay. */
    struct sockaddr_storage addrs[2];
    loopbacks(addrs);
    race_result r = {0};
    r.loop = loop;
    canto__eyeballs *e;
    uint64_t t0 = canto_loop_now(loop);
    REQUIRE(canto__eyeballs_new(loop, NULL, addrs, 2, l4.port, 5000, 0, on_race, &r, &e) == 0);
    run_until(loop, &r.calls, 3000);
    CHECK_INT(r.err, 0);
    CHECK_INT(r.addr.ss_family, AF_INET);
    CHECK(r.when - t0 < 2500); /* the attempt delay is 5 s */
    if (r.fd >= 0)
        close(r.fd);
    canto__eyeballs_free(e);

    /* Everything refused: ECONNECT with the last reason. */
    uint16_t port = closed_port(AF_INET);
    race_result bad = {0};
    bad.loop = loop;
    REQUIRE(canto__eyeballs_new(loop, NULL, addrs, 2, port, 0, 0, on_race, &bad, &e) == 0);
    run_until(loop, &bad.calls, 3000);
    CHECK_INT(bad.calls, 1);
    CHECK_INT(bad.err, CANTO_ECONNECT);
    CHECK_INT(bad.fd, -1);
    CHECK(strstr(bad.reason, "127.0.0.1") != NULL);
    CHECK(strstr(bad.reason, "refused") != NULL);
    canto__eyeballs_free(e);
    close_listener(&l4);
    canto_loop_free(loop);
    return 0;
}

static int test_eyeballs_black_hole(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    listener hole, l4;
    if (make_black_hole(&hole, AF_INET6) != 0) {
        fprintf(stderr, "  no way to make an unanswering ::1 port here: skipped\n");
        canto_loop_free(loop);
        return 0;
    }
    REQUIRE(make_listener(&l4, AF_INET, 8, hole.port) == 0);
    /* ::1 swallows the SYN; 127.0.0.1 answers. The v4 attempt starts one
     * attempt delay (150 ms) later and wins; the v6 one is abandoned. */
    struct sockaddr_storage addrs[2];
    loopbacks(addrs);
    race_result r = {0};
    r.loop = loop;
    canto__eyeballs *e;
    uint64_t t0 = canto_loop_now(loop);
    REQUIRE(canto__eyeballs_new(loop, NULL, addrs, 2, hole.port, 150, 0, on_race, &r, &e) == 0);
    run_until(loop, &r.calls, 3000);
    CHECK_INT(r.err, 0);
    CHECK_INT(r.addr.ss_family, AF_INET);
    fprintf(stderr, "  v4 won after %llu ms\n", (unsigned long long)(r.when - t0));
    CHECK(r.when - t0 >= 140 && r.when - t0 < 2500); /* the attempt timeout is 10 s */
    if (r.fd >= 0)
        close(r.fd);
    canto__eyeballs_free(e);

    /* Only the black hole: each attempt times out; the last failure was a
     * timeout, so the race reports ETIMEDOUT. */
    race_result t = {0};
    t.loop = loop;
    t0 = canto_loop_now(loop);
    REQUIRE(canto__eyeballs_new(loop, NULL, &addrs[1], 1, hole.port, 0, 200, on_race, &t, &e) == 0);
    run_until(loop, &t.calls, 3000);
    CHECK_INT(t.err, CANTO_ETIMEDOUT);
    CHECK(strstr(t.reason, "no answer within 200 ms") != NULL);
    CHECK(t.when - t0 >= 190 && t.when - t0 < 3000);
    canto__eyeballs_free(e);

    /* Freed while attempts are pending: no callback. */
    race_result f = {0};
    f.loop = loop;
    REQUIRE(canto__eyeballs_new(loop, NULL, addrs, 2, hole.port, 50, 0, on_race, &f, &e) == 0);
    canto_loop_run_once(loop, 10);
    canto__eyeballs_free(e);
    int idle = 0;
    run_until(loop, &idle, 200);
    CHECK_INT(f.calls, 0);
    close_listener(&l4);
    close_listener(&hole);
    canto_loop_free(loop);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Whole plans, with a fake nameserver answering SRV from a table */

typedef struct srv_entry {
    const char *name; /* question; NULL ends the table */
    int rcode;
    const char *targets[3]; /* "prio weight port target" */
} srv_entry;

typedef struct fake_dns {
    int fd;
    canto__watch *w;
    uint16_t port;
    const srv_entry *table;
    int queries;
} fake_dns;

static void put16(unsigned char *b, size_t *len, unsigned v)
{
    b[(*len)++] = (unsigned char)(v >> 8);
    b[(*len)++] = (unsigned char)v;
}

static void fake_dns_io(void *ud, int fd, unsigned events)
{
    fake_dns *f = ud;
    unsigned char q[512], out[1024];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
    if (n < 17)
        return;
    f->queries++;
    char name[256];
    if (dn_expand(q, q + n, q + 12, name, sizeof(name)) < 0)
        return;
    memcpy(out, q, (size_t)n);
    size_t len = (size_t)n;
    unsigned rcode = ns_r_nxdomain, an = 0;
    out[6] = out[7] = 0;
    for (const srv_entry *e = f->table; e && e->name; e++) {
        if (strcmp(e->name, name) != 0 || ns_get16(q + n - 4) != ns_t_srv)
            continue;
        rcode = (unsigned)e->rcode;
        for (int i = 0; i < 3 && e->targets[i]; i++) {
            unsigned prio, weight, port;
            char target[128];
            sscanf(e->targets[i], "%u %u %u %127s", &prio, &weight, &port, target);
            put16(out, &len, 0xc00c);
            put16(out, &len, ns_t_srv);
            put16(out, &len, ns_c_in);
            put16(out, &len, 0);
            put16(out, &len, 60);
            size_t rdlen_at = len;
            put16(out, &len, 0);
            put16(out, &len, prio);
            put16(out, &len, weight);
            put16(out, &len, port);
            const char *p = target;
            while (*p && strcmp(p, ".") != 0) {
                const char *dot = strchr(p, '.');
                size_t l = dot ? (size_t)(dot - p) : strlen(p);
                out[len++] = (unsigned char)l;
                memcpy(out + len, p, l);
                len += l;
                p += l + (dot ? 1 : 0);
            }
            out[len++] = 0;
            size_t rdlen = len - rdlen_at - 2;
            out[rdlen_at] = (unsigned char)(rdlen >> 8);
            out[rdlen_at + 1] = (unsigned char)rdlen;
            an++;
        }
    }
    out[2] = 0x81;
    out[3] = (unsigned char)(0x80 | rcode);
    out[7] = (unsigned char)an;
    sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
}

static int fake_dns_start(fake_dns *f, canto_loop *loop, const srv_entry *table)
{
    memset(f, 0, sizeof(*f));
    f->table = table;
    f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_storage ss;
    v4(&ss, "127.0.0.1");
    socklen_t sl = sizeof(struct sockaddr_in);
    if (bind(f->fd, (struct sockaddr *)&ss, sl) < 0)
        return -1;
    getsockname(f->fd, (struct sockaddr *)&ss, &sl);
    f->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return canto__watch_add(loop, f->fd, CANTO_IO_IN, fake_dns_io, f, &f->w);
}

static void fake_dns_stop(fake_dns *f)
{
    canto__watch_remove(f->w);
    close(f->fd);
}

typedef struct plan_result {
    int calls, err, fd;
    char host[256];
    uint16_t port;
    int direct_tls;
    struct sockaddr_storage addr;
    char reason[400];
    canto__connect_plan *free_me;
} plan_result;

static void on_plan(void *ud, int err, const canto__connect_result *res, const char *reason)
{
    plan_result *r = ud;
    r->calls++;
    r->err = err;
    r->fd = res ? res->fd : -1;
    if (res) {
        snprintf(r->host, sizeof(r->host), "%s", res->host);
        r->port = res->port;
        r->direct_tls = res->direct_tls;
        r->addr = res->addr;
    }
    snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
    if (r->free_me)
        canto__connect_plan_free(r->free_me);
}

static canto__resolver *make_resolver(canto_loop *loop, uint16_t dns_port)
{
    char ns[64];
    snprintf(ns, sizeof(ns), "127.0.0.1:%u", (unsigned)dns_port);
    canto__resolver_config cfg = CANTO__RESOLVER_CONFIG_INIT;
    cfg.nameservers = ns;
    cfg.hosts = ""; /* "localhost" then falls back to ::1 and 127.0.0.1 */
    cfg.timeout_ms = 300;
    canto__resolver *r = NULL;
    canto__resolver_new(loop, &cfg, &r);
    return r;
}

static int test_plan_explicit_host(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    canto__resolver *r = make_resolver(loop, closed_port(AF_INET));
    REQUIRE(r != NULL);
    listener l4;
    REQUIRE(make_listener(&l4, AF_INET, 8, 0) == 0);

    canto__connect_config cfg = CANTO__CONNECT_CONFIG_INIT;
    cfg.host = "127.0.0.1";
    cfg.port = l4.port;
    cfg.direct_tls = 1;
    plan_result res = {0};
    canto__connect_plan *p;
    REQUIRE(canto__connect_plan_new(r, "example.org", &cfg, on_plan, &res, &p) == 0);
    CHECK_INT(res.calls, 0);
    run_until(loop, &res.calls, 3000);
    CHECK_INT(res.err, 0);
    CHECK_STR(res.host, "127.0.0.1");
    CHECK_INT(res.port, l4.port);
    CHECK_INT(res.direct_tls, 1);
    char want[40];
    snprintf(want, sizeof(want), "127.0.0.1:%u", (unsigned)l4.port);
    CHECK_STR(addr_str(&res.addr), want);
    CHECK(accepted(&l4));
    if (res.fd >= 0)
        close(res.fd);
    const canto__connect_target *t;
    CHECK_INT(canto__connect_plan_targets(p, &t), 1);
    /* Nothing further to try: the plan ends with ECONNECT. */
    CHECK_INT(canto__connect_plan_next(p, 0), 0);
    res.calls = 0;
    run_until(loop, &res.calls, 3000);
    CHECK_INT(res.err, CANTO_ECONNECT);
    CHECK(strstr(res.reason, "no further") != NULL);
    CHECK_INT(canto__connect_plan_next(p, 0), CANTO_ESTATE);
    canto__connect_plan_free(p);

    /* Refused: the reason names the address. */
    cfg.host = "localhost";
    cfg.port = closed_port(AF_INET);
    cfg.direct_tls = 0;
    plan_result bad = {0};
    REQUIRE(canto__connect_plan_new(r, "example.org", &cfg, on_plan, &bad, &p) == 0);
    run_until(loop, &bad.calls, 3000);
    CHECK_INT(bad.err, CANTO_ECONNECT);
    CHECK(strstr(bad.reason, "localhost") != NULL);
    CHECK(strstr(bad.reason, "refused") != NULL);
    canto__connect_plan_free(p);

    /* Freed before anything happened, and from inside the callback. */
    REQUIRE(canto__connect_plan_new(r, "example.org", &cfg, on_plan, &bad, &p) == 0);
    canto__connect_plan_free(p);
    canto__connect_plan_free(NULL);
    plan_result self = {0};
    REQUIRE(canto__connect_plan_new(r, "example.org", &cfg, on_plan, &self, &p) == 0);
    self.free_me = p;
    run_until(loop, &self.calls, 3000);
    CHECK_INT(self.calls, 1);

    CHECK_INT(canto__connect_plan_new(r, "", &cfg, on_plan, &bad, &p), CANTO_EINVAL);
    CHECK_INT(canto__connect_plan_new(NULL, "x", &cfg, on_plan, &bad, &p), CANTO_EINVAL);
    close_listener(&l4);
    canto__resolver_free(r);
    canto_loop_free(loop);
    return 0;
}

static int test_plan_srv(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    listener tls4, plain4, plain6;
    REQUIRE(make_listener(&tls4, AF_INET, 8, 0) == 0);
    REQUIRE(make_listener(&plain4, AF_INET, 8, 0) == 0);
    int have_v6 = make_listener(&plain6, AF_INET6, 8, plain4.port) == 0;
    uint16_t refused = closed_port(AF_INET);
    char t_tls[64], t_plain[64], t_refused[64];
    snprintf(t_tls, sizeof(t_tls), "5 0 %u localhost", (unsigned)tls4.port);
    snprintf(t_refused, sizeof(t_refused), "10 0 %u localhost", (unsigned)refused);
    snprintf(t_plain, sizeof(t_plain), "20 0 %u localhost", (unsigned)plain4.port);
    const srv_entry table[] = {
        {"_xmpps-client._tcp.example.test", 0, {t_tls, NULL, NULL}},
        {"_xmpp-client._tcp.example.test", 0, {t_plain, t_refused, NULL}},
        {"_xmpp-client._tcp.dot.test", 0, {"0 0 0 .", NULL, NULL}},
        {"_xmpps-client._tcp.dot.test", 0, {"0 0 0 .", NULL, NULL}},
        {"_xmpp-client._tcp.broken.test", ns_r_servfail, {NULL, NULL, NULL}},
        {NULL, 0, {NULL, NULL, NULL}},
    };
    fake_dns dns;
    REQUIRE(fake_dns_start(&dns, loop, table) == 0);
    canto__resolver *r = make_resolver(loop, dns.port);
    REQUIRE(r != NULL);

    /* Direct TLS target first (priority 5); the client then rejects it (TLS
     * failed, say) and asks for the next target: priority 10 is refused, so
     * priority 20 answers, over IPv6 first when there is a ::1. */
    plan_result res = {0};
    canto__connect_plan *p;
    REQUIRE(canto__connect_plan_new(r, "example.test", NULL, on_plan, &res, &p) == 0);
    const canto__connect_target *t;
    CHECK_INT(canto__connect_plan_targets(p, &t), 0); /* not known yet */
    run_until(loop, &res.calls, 5000);
    CHECK_INT(res.err, 0);
    CHECK_STR(res.host, "localhost");
    CHECK_INT(res.port, tls4.port);
    CHECK_INT(res.direct_tls, 1);
    CHECK(accepted(&tls4));
    if (res.fd >= 0)
        close(res.fd);
    size_t n = canto__connect_plan_targets(p, &t);
    REQUIRE(n == 3);
    CHECK_INT(t[0].port, tls4.port);
    CHECK_INT(t[0].direct_tls, 1);
    CHECK_INT(t[1].port, refused);
    CHECK_INT(t[1].direct_tls, 0);
    CHECK_INT(t[2].port, plain4.port);
    CHECK_INT(canto__connect_plan_next(p, 1), 0);
    res.calls = 0;
    run_until(loop, &res.calls, 5000);
    CHECK_INT(res.err, 0);
    CHECK_INT(res.port, plain4.port);
    CHECK_INT(res.direct_tls, 0);
    CHECK_INT(res.addr.ss_family, have_v6 ? AF_INET6 : AF_INET);
    if (res.fd >= 0)
        close(res.fd);
    canto__connect_plan_free(p);

    /* "." for both services: no service, no fallback. */
    plan_result dot = {0};
    REQUIRE(canto__connect_plan_new(r, "dot.test", NULL, on_plan, &dot, &p) == 0);
    run_until(loop, &dot.calls, 5000);
    CHECK_INT(dot.err, CANTO_ECONNECT);
    CHECK(strstr(dot.reason, "no XMPP client service") != NULL);
    canto__connect_plan_free(p);

    /* No SRV (NXDOMAIN for one, SERVFAIL for the other): DOMAIN:5222. The
     * domain "localhost" resolves without DNS; whether 5222 answers here
     * does not matter, the target list does. */
    plan_result fb = {0};
    REQUIRE(canto__connect_plan_new(r, "localhost", NULL, on_plan, &fb, &p) == 0);
    run_until(loop, &fb.calls, 5000);
    CHECK_INT(fb.calls, 1);
    REQUIRE(canto__connect_plan_targets(p, &t) == 1);
    CHECK_STR(t[0].host, "localhost");
    CHECK_INT(t[0].port, 5222);
    CHECK_INT(t[0].direct_tls, 0);
    if (fb.err == 0)
        close(fb.fd);
    canto__connect_plan_free(p);

    /* SRV fails, then the domain itself does not resolve: a DNS error. */
    plan_result nx = {0};
    REQUIRE(canto__connect_plan_new(r, "broken.test", NULL, on_plan, &nx, &p) == 0);
    run_until(loop, &nx.calls, 5000);
    CHECK_INT(nx.err, CANTO_EDNS);
    CHECK(strstr(nx.reason, "cannot resolve broken.test") != NULL);
    canto__connect_plan_free(p);

    canto__resolver_free(r);
    fake_dns_stop(&dns);
    close_listener(&tls4);
    close_listener(&plain4);
    if (have_v6)
        close_listener(&plain6);
    canto_loop_free(loop);
    return 0;
}

static int test_plan_timeout(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    listener hole;
    if (make_black_hole(&hole, AF_INET) != 0) {
        fprintf(stderr, "  no way to make an unanswering port here: skipped\n");
        canto_loop_free(loop);
        return 0;
    }
    canto__resolver *r = make_resolver(loop, closed_port(AF_INET));
    REQUIRE(r != NULL);
    canto__connect_config cfg = CANTO__CONNECT_CONFIG_INIT;
    cfg.host = "127.0.0.1";
    cfg.port = hole.port;
    cfg.plan_timeout_ms = 300;
    plan_result res = {0};
    canto__connect_plan *p;
    uint64_t t0 = canto_loop_now(loop);
    REQUIRE(canto__connect_plan_new(r, "example.org", &cfg, on_plan, &res, &p) == 0);
    run_until(loop, &res.calls, 3000);
    CHECK_INT(res.err, CANTO_ETIMEDOUT);
    CHECK(canto_loop_now(loop) - t0 >= 290);
    CHECK(strstr(res.reason, "300 ms") != NULL);
    canto__connect_plan_free(p);
    canto__resolver_free(r);
    close_listener(&hole);
    canto_loop_free(loop);
    return 0;
}

int main(void)
{
    canto__alloc_init(&A, NULL);
    RUN(test_targets_merge);
    RUN(test_targets_special);
    RUN(test_interleave);
    RUN(test_eyeballs_v6_first);
    RUN(test_eyeballs_refused);
    RUN(test_eyeballs_black_hole);
    RUN(test_plan_explicit_host);
    RUN(test_plan_srv);
    RUN(test_plan_timeout);
    return CHECK_DONE();
}
