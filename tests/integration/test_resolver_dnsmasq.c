/* The resolver and the connection plan against a real resolver: dnsmasq on a
 * loopback port (tests/servers/dnsmasq.sh), serving SRV, A and AAAA records
 * for *.test. Servers for the SRV targets are plain listening sockets on
 * 127.0.0.1 and ::1. Exits 77 (skip) only when dnsmasq is not installed. */
#include "../unit/check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <canto/canto.h>
#include "loop/loop.h"
#include "net/connect_plan.h"

extern char **environ;

static char dir[] = "/tmp/canto-dnsmasq-XXXXXX";
static pid_t dnsmasq_pid;

/* ------------------------------------------------------------------------ */
/* dnsmasq */

static int run_script(char *const argv[])
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    /* The script prints the port; the test reads it from DIR/port. */
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&pid, CANTO_DNSMASQ_SH, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static void stop_dnsmasq(void)
{
    char *argv[] = {CANTO_DNSMASQ_SH, "stop", dir, NULL};
    if (dnsmasq_pid > 0)
        run_script(argv);
    dnsmasq_pid = 0;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static long read_number(const char *file)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* @return the port dnsmasq serves on, 0 on failure, -77 without dnsmasq. */
static int start_dnsmasq(char **records)
{
    char owner[32];
    snprintf(owner, sizeof(owner), "%ld", (long)getpid());
    setenv("CANTO_TEST_OWNER_PID", owner, 1);
    char *argv[64] = {CANTO_DNSMASQ_SH, "start", dir};
    int n = 3;
    for (char **r = records; *r && n < 63; r++)
        argv[n++] = *r;
    argv[n] = NULL;
    int rc = run_script(argv);
    if (rc == 77)
        return -77;
    if (rc != 0)
        return 0;
    dnsmasq_pid = (pid_t)read_number("pid");
    long port = read_number("port");
    return port > 0 && port < 65536 ? (int)port : 0;
}

/* ------------------------------------------------------------------------ */
/* Listeners */

typedef struct listener {
    int fd;
    uint16_t port;
} listener;

static int listen_on(listener *l, int family, uint16_t port)
{
    l->fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    int one = 1;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin->sin_port = htons(port);
        sl = sizeof(*sin);
    } else {
        setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = in6addr_loopback;
        sin6->sin6_port = htons(port);
        sl = sizeof(*sin6);
    }
    if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&ss, sl) < 0 || listen(l->fd, 8) < 0) {
        if (l->fd >= 0)
            close(l->fd);
        l->fd = -1;
        return -1;
    }
    getsockname(l->fd, (struct sockaddr *)&ss, &sl);
    l->port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                      : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static int accepted(listener *l)
{
    struct pollfd p = {l->fd, POLLIN, 0};
    if (l->fd < 0 || poll(&p, 1, 0) != 1)
        return 0;
    int c = accept(l->fd, NULL, NULL);
    if (c < 0)
        return 0;
    close(c);
    return 1;
}

static uint16_t closed_port(void)
{
    listener l;
    if (listen_on(&l, AF_INET, 0) != 0)
        return 0;
    close(l.fd);
    return l.port;
}

/* ------------------------------------------------------------------------ */
/* Callbacks */

static void run_until(canto_loop *loop, const int *done, unsigned ms)
{
    uint64_t end = canto_loop_now(loop) + ms;
    while (!*done && canto_loop_now(loop) < end)
        canto_loop_run_once(loop, 20);
}

static const char *addr_str(const struct sockaddr_storage *ss)
{
    static char buf[80];
    canto__sockaddr_format(ss, buf, sizeof(buf));
    return buf;
}

typedef struct lookup {
    int calls, err;
    size_t n;
    canto__srv_record srv[32];
    struct sockaddr_storage addrs[4];
} lookup;

static void on_srv(void *ud, int err, const canto__srv_record *recs, size_t n)
{
    lookup *l = ud;
    l->calls++;
    l->err = err;
    l->n = n;
    for (size_t i = 0; i < n && i < 32; i++)
        l->srv[i] = recs[i];
}

static void on_addrs(void *ud, int err, const struct sockaddr_storage *addrs, size_t n)
{
    lookup *l = ud;
    l->calls++;
    l->err = err;
    l->n = n;
    for (size_t i = 0; i < n && i < 4; i++)
        l->addrs[i] = addrs[i];
}

typedef struct outcome {
    int calls, err, fd, direct_tls;
    char host[256];
    uint16_t port;
    int family;
    char reason[400];
} outcome;

static void on_plan(void *ud, int err, const canto__connect_result *res, const char *reason)
{
    outcome *o = ud;
    o->calls++;
    o->err = err;
    o->fd = -1;
    if (res) {
        o->fd = res->fd;
        o->direct_tls = res->direct_tls;
        o->port = res->port;
        o->family = res->addr.ss_family;
        snprintf(o->host, sizeof(o->host), "%s", res->host);
    }
    snprintf(o->reason, sizeof(o->reason), "%s", reason ? reason : "");
    if (res)
        fprintf(stderr, "  connected: %s port %u %s via %s\n", o->host, (unsigned)o->port,
                o->direct_tls ? "(Direct TLS)" : "(STARTTLS)", addr_str(&res->addr));
    else
        fprintf(stderr, "  plan over: %s: %s\n", canto_strerror(err), o->reason);
}

/* A draw in the middle of any weight range: with weights 0 and 100 in one
 * priority, it always picks the weight-100 record first, whatever order
 * dnsmasq lists them in. */
static uint32_t middle(void *ud)
{
    (void)ud;
    return 50;
}

static void on_log(void *ud, canto_log_level level, const char *area, const char *msg)
{
    (void)ud;
    fprintf(stderr, "    [%s %s] %s\n", canto_log_level_name(level), area, msg);
}

/* ------------------------------------------------------------------------ */

static canto_loop *loop;
static canto__resolver *res;
static listener tls4, tls6, plain4, late6;
static uint16_t refused;
static int have_v6;

static int test_lookups(void)
{
    lookup srv = {0}, a1 = {0}, a2 = {0}, nx = {0}, nodata = {0}, big = {0};
    REQUIRE(canto__resolver_srv(res, "_xmpp-client._tcp.example.test", on_srv, &srv, NULL) == 0);
    REQUIRE(canto__resolver_addrs(res, "xmpp1.example.test", 1, 1, on_addrs, &a1, NULL) == 0);
    REQUIRE(canto__resolver_addrs(res, "xmpp2.example.test", 1, 1, on_addrs, &a2, NULL) == 0);
    REQUIRE(canto__resolver_srv(res, "_xmpp-client._tcp.nosuch.test", on_srv, &nx, NULL) == 0);
    REQUIRE(canto__resolver_addrs(res, "xmpp3.example.test", 0, 1, on_addrs, &nodata, NULL) == 0);
    REQUIRE(canto__resolver_srv(res, "_xmpp-client._tcp.big.test", on_srv, &big, NULL) == 0);
    run_until(loop, &srv.calls, 5000);
    run_until(loop, &a1.calls, 5000);
    run_until(loop, &a2.calls, 5000);
    run_until(loop, &nx.calls, 5000);
    run_until(loop, &nodata.calls, 5000);
    run_until(loop, &big.calls, 5000);

    CHECK_INT(srv.err, 0);
    REQUIRE(srv.n == 2);
    /* dnsmasq's order is its own; find each record. */
    int i3 = strcmp(srv.srv[0].target, "xmpp3.example.test") == 0 ? 0 : 1;
    CHECK_STR(srv.srv[i3].target, "xmpp3.example.test");
    CHECK_INT(srv.srv[i3].port, plain4.port);
    CHECK_INT(srv.srv[i3].priority, 10);
    CHECK_INT(srv.srv[i3].weight, 100);
    CHECK_STR(srv.srv[1 - i3].target, "xmpp2.example.test");
    CHECK_INT(srv.srv[1 - i3].weight, 0);

    CHECK_INT(a1.err, 0);
    REQUIRE(a1.n == 2);
    CHECK_STR(addr_str(&a1.addrs[0]), "::1");
    CHECK_STR(addr_str(&a1.addrs[1]), "127.0.0.1");
    CHECK_INT(a2.err, 0);
    REQUIRE(a2.n == 1);
    CHECK_STR(addr_str(&a2.addrs[0]), "127.0.0.1");
    CHECK_INT(nx.err, CANTO_ENOTFOUND);
    CHECK_INT(nodata.err, CANTO_ENOTFOUND);
    /* 20 long records do not fit in 512 bytes: dnsmasq truncates and the
     * resolver asks again over TCP. */
    CHECK_INT(big.err, 0);
    CHECK_INT(big.n, 20);
    return 0;
}

static int test_plan_example(void)
{
    canto__connect_config cfg = CANTO__CONNECT_CONFIG_INIT;
    cfg.rnd = middle;
    outcome o = {0};
    canto__connect_plan *p;
    REQUIRE(canto__connect_plan_new(res, "example.test", &cfg, on_plan, &o, &p) == 0);
    run_until(loop, &o.calls, 10000);

    /* The merged order: priority 5 (xmpps), 10 (xmpp, weight 100 then 0),
     * 20 (xmpps). */
    const canto__connect_target *t;
    size_t n = canto__connect_plan_targets(p, &t);
    REQUIRE(n == 4);
    CHECK_STR(t[0].host, "xmpp1.example.test");
    CHECK_INT(t[0].port, tls4.port);
    CHECK_INT(t[0].direct_tls, 1);
    CHECK_STR(t[1].host, "xmpp3.example.test");
    CHECK_INT(t[1].port, plain4.port);
    CHECK_INT(t[1].direct_tls, 0);
    CHECK_STR(t[2].host, "xmpp2.example.test");
    CHECK_INT(t[2].port, refused);
    CHECK_INT(t[2].direct_tls, 0);
    CHECK_STR(t[3].host, "xmpp4.example.test");
    CHECK_INT(t[3].direct_tls, 1);

    /* 1: xmpp1 over IPv6 first (Happy Eyeballs). */
    CHECK_INT(o.err, 0);
    CHECK_STR(o.host, "xmpp1.example.test");
    CHECK_INT(o.direct_tls, 1);
    CHECK_INT(o.family, have_v6 ? AF_INET6 : AF_INET);
    CHECK(accepted(have_v6 ? &tls6 : &tls4));
    if (o.fd >= 0)
        close(o.fd);

    /* 2: the same target's other address. */
    if (have_v6) {
        CHECK_INT(canto__connect_plan_next(p, 0), 0);
        o.calls = 0;
        run_until(loop, &o.calls, 10000);
        CHECK_INT(o.err, 0);
        CHECK_STR(o.host, "xmpp1.example.test");
        CHECK_INT(o.family, AF_INET);
        CHECK(accepted(&tls4));
        if (o.fd >= 0)
            close(o.fd);
    }

    /* 3: nothing left there: xmpp3, STARTTLS. */
    CHECK_INT(canto__connect_plan_next(p, 0), 0);
    o.calls = 0;
    run_until(loop, &o.calls, 10000);
    CHECK_INT(o.err, 0);
    CHECK_STR(o.host, "xmpp3.example.test");
    CHECK_INT(o.port, plain4.port);
    CHECK_INT(o.direct_tls, 0);
    CHECK(accepted(&plain4));
    if (o.fd >= 0)
        close(o.fd);

    /* 4: skip on; xmpp2 refuses, xmpp4 (IPv6 only) answers. */
    CHECK_INT(canto__connect_plan_next(p, 1), 0);
    o.calls = 0;
    run_until(loop, &o.calls, 10000);
    if (have_v6) {
        CHECK_INT(o.err, 0);
        CHECK_STR(o.host, "xmpp4.example.test");
        CHECK_INT(o.direct_tls, 1);
        CHECK_INT(o.family, AF_INET6);
        CHECK(accepted(&late6));
        if (o.fd >= 0)
            close(o.fd);
        /* 5: the end. */
        CHECK_INT(canto__connect_plan_next(p, 1), 0);
        o.calls = 0;
        run_until(loop, &o.calls, 10000);
    }
    CHECK_INT(o.err, CANTO_ECONNECT);
    CHECK_INT(canto__connect_plan_next(p, 1), CANTO_ESTATE);
    canto__connect_plan_free(p);
    return 0;
}

static int test_plan_special(void)
{
    /* "." for both services. */
    outcome dot = {0};
    canto__connect_plan *p;
    REQUIRE(canto__connect_plan_new(res, "dot.test", NULL, on_plan, &dot, &p) == 0);
    run_until(loop, &dot.calls, 10000);
    CHECK_INT(dot.err, CANTO_ECONNECT);
    CHECK(strstr(dot.reason, "dot.test offers no XMPP client service") != NULL);
    canto__connect_plan_free(p);

    /* No SRV records at all: nosrv.test:5222, whose A record is 127.0.0.1.
     * Something may or may not listen on 5222 here; the target list is
     * what matters. */
    outcome fb = {0};
    REQUIRE(canto__connect_plan_new(res, "nosrv.test", NULL, on_plan, &fb, &p) == 0);
    run_until(loop, &fb.calls, 15000);
    CHECK_INT(fb.calls, 1);
    const canto__connect_target *t;
    REQUIRE(canto__connect_plan_targets(p, &t) == 1);
    CHECK_STR(t[0].host, "nosrv.test");
    CHECK_INT(t[0].port, 5222);
    CHECK_INT(t[0].direct_tls, 0);
    if (fb.err == 0)
        close(fb.fd);
    else
        CHECK_INT(fb.err, CANTO_ECONNECT);
    canto__connect_plan_free(p);

    /* Neither SRV nor the domain exists: a DNS failure. */
    outcome nx = {0};
    REQUIRE(canto__connect_plan_new(res, "nosuch.test", NULL, on_plan, &nx, &p) == 0);
    run_until(loop, &nx.calls, 15000);
    CHECK_INT(nx.err, CANTO_EDNS);
    canto__connect_plan_free(p);
    return 0;
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    if (listen_on(&tls4, AF_INET, 0) != 0 || listen_on(&plain4, AF_INET, 0) != 0) {
        fprintf(stderr, "cannot listen on 127.0.0.1\n");
        return 1;
    }
    have_v6 = listen_on(&tls6, AF_INET6, tls4.port) == 0 && listen_on(&late6, AF_INET6, 0) == 0;
    if (!have_v6)
        fprintf(stderr, "no IPv6 loopback: IPv6 checks skipped\n");
    refused = closed_port();

    char rec[8][160];
    snprintf(rec[0], sizeof(rec[0]),
             "--srv-host=_xmpps-client._tcp.example.test,xmpp1.example.test,%u,5,0",
             (unsigned)tls4.port);
    snprintf(rec[1], sizeof(rec[1]),
             "--srv-host=_xmpp-client._tcp.example.test,xmpp3.example.test,%u,10,100",
             (unsigned)plain4.port);
    snprintf(rec[2], sizeof(rec[2]),
             "--srv-host=_xmpp-client._tcp.example.test,xmpp2.example.test,%u,10,0",
             (unsigned)refused);
    snprintf(rec[3], sizeof(rec[3]),
             "--srv-host=_xmpps-client._tcp.example.test,xmpp4.example.test,%u,20,0",
             (unsigned)(have_v6 ? late6.port : refused));
    char *records[64] = {
        rec[0],
        rec[1],
        rec[2],
        rec[3],
        "--host-record=xmpp1.example.test,127.0.0.1,::1",
        "--host-record=xmpp2.example.test,127.0.0.1",
        "--host-record=xmpp3.example.test,127.0.0.1",
        "--host-record=xmpp4.example.test,::1",
        "--srv-host=_xmpp-client._tcp.dot.test",
        "--srv-host=_xmpps-client._tcp.dot.test",
        "--host-record=nosrv.test,127.0.0.1",
    };
    int nrec = 11;
    char big[20][128];
    for (int i = 0; i < 20; i++) {
        snprintf(big[i], sizeof(big[i]),
                 "--srv-host=_xmpp-client._tcp.big.test,"
                 "a-rather-long-server-name-number-%02d.example.test,5222,%d,10",
                 i, i);
        records[nrec++] = big[i];
    }
    records[nrec] = NULL;

    int port = start_dnsmasq(records);
    if (port == -77) {
        fprintf(stderr, "dnsmasq is not installed: skipped\n");
        stop_dnsmasq();
        return 77;
    }
    if (port <= 0) {
        fprintf(stderr, "dnsmasq did not start (see %s)\n", dir);
        return 1;
    }
    fprintf(stderr, "dnsmasq pid %ld on 127.0.0.1:%d\n", (long)dnsmasq_pid, port);

    canto_loop_options lo = CANTO_LOOP_OPTIONS_INIT;
    if (getenv("CANTO_TEST_LOG")) {
        lo.log = on_log;
        lo.log_level = CANTO_LOG_DEBUG;
    }
    char ns[64];
    snprintf(ns, sizeof(ns), "127.0.0.1:%d", port);
    canto__resolver_config cfg = CANTO__RESOLVER_CONFIG_INIT;
    cfg.nameservers = ns;
    cfg.hosts = ""; /* only dnsmasq answers */
    cfg.timeout_ms = 1000;
    if (canto_loop_new(&lo, &loop) != 0 || canto__resolver_new(loop, &cfg, &res) != 0) {
        stop_dnsmasq();
        return 1;
    }

    RUN(test_lookups);
    RUN(test_plan_example);
    RUN(test_plan_special);

    canto__resolver_free(res);
    canto_loop_free(loop);
    close(tls4.fd);
    close(plain4.fd);
    if (have_v6) {
        close(tls6.fd);
        close(late6.fd);
    }
    stop_dnsmasq();
    return CHECK_DONE();
}
