/* mDNS engine (lib/mdns/engine.h): two or three engines joined by an
 * in-memory link with a fake clock, plus hand-built packets. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <canto/error.h>

#include "base/alloc.h"
#include "mdns/engine.h"
#include "mdns/msg.h"

#include "check.h"

#define MAXE 3
#define TYPE "_presence._tcp"
#define PTRNAME "_presence._tcp.local"
#define IFX 2

typedef struct sent {
    int from;
    uint64_t t;
    canto__mdns_dest dest;
    canto__mdns_addr ucast;
    size_t len;
    uint8_t *data;
} sent;

typedef struct svc_ev {
    int eng;
    canto__mdns_svc_event ev;
    uint64_t t;
    char instance[128];
    char host[128];
    uint16_t port;
    uint8_t txt[256];
    uint16_t txt_len;
    canto__mdns_addr addrs[16];
    size_t naddrs;
} svc_ev;

typedef struct net net;

typedef struct peer {
    net *n;
    int idx;
} peer;

struct net {
    canto__alloc alloc;
    canto__mdns *e[MAXE];
    peer p[MAXE];
    int alive[MAXE];
    canto__mdns_addr v4[MAXE], v6[MAXE];
    uint64_t now;
    sent *q; /* not yet delivered */
    size_t nq, capq;
    sent *log; /* everything sent, for inspection */
    size_t nlog, caplog;
    int keep_log;
    svc_ev *evs;
    size_t nevs, capevs;
    char published[MAXE][128];
    int npublished[MAXE];
    char renamed[MAXE][128];
    int nrenamed[MAXE];
    int host_renamed[MAXE];
    canto__mdns_msg *msg;
};

static void push(sent **arr, size_t *n, size_t *cap, const sent *s)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *arr = realloc(*arr, *cap * sizeof(**arr));
    }
    (*arr)[(*n)++] = *s;
}

static void ev_send(void *ud, const void *pkt, size_t len, const canto__mdns_dest *dest)
{
    peer *p = ud;
    net *n = p->n;
    if (!n->alive[p->idx])
        return;
    sent s = {.from = p->idx, .t = n->now, .dest = *dest, .len = len};
    if (dest->unicast) {
        s.ucast = *dest->unicast;
        s.dest.unicast = NULL;
    }
    s.data = malloc(len);
    memcpy(s.data, pkt, len);
    push(&n->q, &n->nq, &n->capq, &s);
    if (n->keep_log) {
        sent c = s;
        c.data = malloc(len);
        memcpy(c.data, pkt, len);
        push(&n->log, &n->nlog, &n->caplog, &c);
    }
}

static void ev_service(void *ud, canto__mdns_svc_event ev, const canto__mdns_service *svc)
{
    peer *p = ud;
    net *n = p->n;
    if (n->nevs == n->capevs) {
        n->capevs = n->capevs ? n->capevs * 2 : 32;
        n->evs = realloc(n->evs, n->capevs * sizeof(*n->evs));
    }
    svc_ev *e = &n->evs[n->nevs++];
    memset(e, 0, sizeof(*e));
    e->eng = p->idx;
    e->ev = ev;
    e->t = n->now;
    snprintf(e->instance, sizeof(e->instance), "%s", svc->instance);
    snprintf(e->host, sizeof(e->host), "%s", svc->host);
    e->port = svc->port;
    e->txt_len = svc->txt_len < sizeof(e->txt) ? svc->txt_len : sizeof(e->txt);
    if (svc->txt)
        memcpy(e->txt, svc->txt, e->txt_len);
    e->naddrs = svc->naddrs < 16 ? svc->naddrs : 16;
    memcpy(e->addrs, svc->addrs, e->naddrs * sizeof(*e->addrs));
}

static void ev_published(void *ud, unsigned handle, const char *instance)
{
    peer *p = ud;
    (void)handle;
    snprintf(p->n->published[p->idx], 128, "%s", instance);
    p->n->npublished[p->idx]++;
}

static void ev_renamed(void *ud, unsigned handle, int host, const char *new_name)
{
    peer *p = ud;
    (void)handle;
    snprintf(p->n->renamed[p->idx], 128, "%s", new_name);
    p->n->nrenamed[p->idx]++;
    p->n->host_renamed[p->idx] += host;
}

static const canto__mdns_events events = {ev_send, ev_service, ev_published, ev_renamed};

static void set_v4(canto__mdns_addr *a, uint8_t x, uint8_t y)
{
    memset(a, 0, sizeof(*a));
    a->family = AF_INET;
    a->addr[0] = 169;
    a->addr[1] = 254;
    a->addr[2] = x;
    a->addr[3] = y;
    a->ifindex = IFX;
    a->port = CANTO__MDNS_PORT;
}

static void set_v6(canto__mdns_addr *a, uint8_t y)
{
    memset(a, 0, sizeof(*a));
    a->family = AF_INET6;
    a->addr[0] = 0xfe;
    a->addr[1] = 0x80;
    a->addr[15] = y;
    a->ifindex = IFX;
    a->port = CANTO__MDNS_PORT;
}

static net *net_new(void)
{
    net *n = calloc(1, sizeof(*n));
    canto__alloc_init(&n->alloc, NULL);
    n->msg = malloc(sizeof(*n->msg));
    n->keep_log = 1;
    for (int i = 0; i < MAXE; i++) {
        set_v4(&n->v4[i], (uint8_t)(i + 1), (uint8_t)(10 * (i + 1)));
        set_v6(&n->v6[i], (uint8_t)(i + 1));
    }
    return n;
}

static canto__mdns *eng_new(net *n, int i, const char *host)
{
    n->p[i].n = n;
    n->p[i].idx = i;
    n->alive[i] = 1;
    CHECK_INT(canto__mdns_new(&n->alloc, NULL, host, &events, &n->p[i], &n->e[i]), 0);
    return n->e[i];
}

static void eng_up(net *n, int i)
{
    canto__mdns_iface f;
    memset(&f, 0, sizeof(f));
    f.ifindex = IFX;
    f.has_v4 = f.has_v6 = 1;
    f.addrs[0] = n->v4[i];
    f.addrs[1] = n->v6[i];
    f.naddrs = 2;
    CHECK_INT(canto__mdns_set_ifaces(n->e[i], &f, 1, n->now), 0);
}

static int addr_is(const canto__mdns_addr *a, const canto__mdns_addr *b)
{
    size_t len = a->family == AF_INET ? 4 : 16;
    return a->family == b->family && memcmp(a->addr, b->addr, len) == 0;
}

static void deliver_all(net *n)
{
    while (n->nq) {
        /* swap out the queue so that answers queue behind it */
        sent *q = n->q;
        size_t nq = n->nq;
        n->q = NULL;
        n->nq = n->capq = 0;
        for (size_t k = 0; k < nq; k++) {
            sent *s = &q[k];
            if (!n->alive[s->from])
                continue;
            for (int j = 0; j < MAXE; j++) {
                if (j == s->from || !n->alive[j] || !n->e[j])
                    continue;
                canto__mdns_addr src = s->dest.family == AF_INET ? n->v4[s->from] : n->v6[s->from];
                if (s->ucast.family) {
                    if (!addr_is(&s->ucast, &n->v4[j]) && !addr_is(&s->ucast, &n->v6[j]))
                        continue;
                    src = s->ucast.family == AF_INET ? n->v4[s->from] : n->v6[s->from];
                }
                canto__mdns_input(n->e[j], s->data, s->len, &src, n->now);
            }
        }
        for (size_t k = 0; k < nq; k++)
            free(q[k].data);
        free(q);
    }
}

static int run(net *n, uint64_t until)
{
    for (long guard = 0; guard < 2000000; guard++) {
        deliver_all(n);
        uint64_t d = UINT64_MAX;
        for (int i = 0; i < MAXE; i++)
            if (n->e[i] && n->alive[i]) {
                uint64_t x = canto__mdns_deadline(n->e[i]);
                d = x < d ? x : d;
            }
        if (d > until) {
            if (until > n->now)
                n->now = until;
            return 0;
        }
        if (d > n->now)
            n->now = d;
        for (int i = 0; i < MAXE; i++)
            if (n->e[i] && n->alive[i] && canto__mdns_deadline(n->e[i]) <= n->now)
                canto__mdns_timeout(n->e[i], n->now);
    }
    fprintf(stderr, "run: engines never went quiet\n");
    return -1;
}

static void net_free(net *n)
{
    for (int i = 0; i < MAXE; i++)
        if (n->e[i]) {
            canto__mdns_free(n->e[i], n->now);
            n->e[i] = NULL;
        }
    for (size_t k = 0; k < n->nq; k++)
        free(n->q[k].data);
    for (size_t k = 0; k < n->nlog; k++)
        free(n->log[k].data);
    free(n->q);
    free(n->log);
    free(n->evs);
    free(n->msg);
    free(n);
}

static void clear_log(net *n)
{
    for (size_t k = 0; k < n->nlog; k++)
        free(n->log[k].data);
    n->nlog = 0;
}

static size_t count_evs(net *n, int eng, canto__mdns_svc_event ev, const char *instance)
{
    size_t c = 0;
    for (size_t i = 0; i < n->nevs; i++)
        if (n->evs[i].eng == eng && n->evs[i].ev == ev &&
            (!instance || strcmp(n->evs[i].instance, instance) == 0))
            c++;
    return c;
}

static svc_ev *last_ev(net *n, int eng, const char *instance)
{
    svc_ev *r = NULL;
    for (size_t i = 0; i < n->nevs; i++)
        if (n->evs[i].eng == eng && strcmp(n->evs[i].instance, instance) == 0)
            r = &n->evs[i];
    return r;
}

static uint16_t make_txt(uint8_t *txt, const char *status)
{
    uint16_t len = 0;
    canto__mdns_txt_add(txt, &len, "txtvers", "1");
    canto__mdns_txt_add(txt, &len, "status", status);
    return len;
}

static int txt_status_is(const svc_ev *e, const char *status)
{
    const uint8_t *v;
    size_t vlen;
    if (!canto__mdns_txt_get(e->txt, e->txt_len, "status", &v, &vlen))
        return 0;
    return vlen == strlen(status) && memcmp(v, status, vlen) == 0;
}

/* Does this record appear in section @p sec of the parsed message? */
static const canto__mdns_rr *find_rr(const canto__mdns_msg *msg, int sec, const char *name,
                                     uint16_t type)
{
    for (size_t i = 0; i < msg->nrr; i++)
        if ((int)msg->rr[i].section == sec && msg->rr[i].type == type &&
            canto__mdns_name_eq(msg->rr[i].name, name))
            return &msg->rr[i];
    return NULL;
}

/* ---- hand-made packets ---- */

typedef struct pb {
    canto__mdns_builder b;
    uint8_t buf[CANTO__MDNS_MAX_PACKET];
    canto__mdns_rr rr;
} pb;

static void pb_init(pb *p, uint16_t id, uint16_t flags)
{
    canto__mdns_build_init(&p->b, p->buf, sizeof(p->buf), id, flags);
}

static int pb_q(pb *p, const char *name, uint16_t type, int qu)
{
    memset(&p->rr, 0, sizeof(p->rr));
    p->rr.section = CANTO__MDNS_QD;
    snprintf(p->rr.name, sizeof(p->rr.name), "%s", name);
    p->rr.type = type;
    p->rr.rclass = CANTO__MDNS_CLASS_IN;
    p->rr.unicast = qu;
    return canto__mdns_build_add(&p->b, &p->rr);
}

static canto__mdns_rr *pb_rr(pb *p, int sec, const char *name, uint16_t type, uint32_t ttl,
                             int flush)
{
    memset(&p->rr, 0, sizeof(p->rr));
    p->rr.section = (canto__mdns_section)sec;
    snprintf(p->rr.name, sizeof(p->rr.name), "%s", name);
    p->rr.type = type;
    p->rr.rclass = CANTO__MDNS_CLASS_IN;
    p->rr.ttl = ttl;
    p->rr.cache_flush = flush;
    return &p->rr;
}

static int pb_add(pb *p)
{
    return canto__mdns_build_add(&p->b, &p->rr);
}

static int inject(net *n, int to, pb *p, const canto__mdns_addr *src)
{
    size_t len = canto__mdns_build_finish(&p->b);
    return canto__mdns_input(n->e[to], p->buf, len, src, n->now);
}

/* ---- tests ---- */

static net *two_up(void)
{
    net *n = net_new();
    eng_new(n, 0, "alpha");
    eng_new(n, 1, "beta");
    eng_up(n, 0);
    eng_up(n, 1);
    return n;
}

static int test_publish_browse_update_withdraw(void)
{
    net *n = two_up();
    uint8_t txt[256];
    uint16_t tl = make_txt(txt, "avail");
    unsigned h = 0;
    CHECK_INT(canto__mdns_publish(n->e[0], "alice@alpha", TYPE, 5562, txt, tl, n->now, &h), 0);
    CHECK(h != 0);
    CHECK_INT(canto__mdns_browse(n->e[1], TYPE, n->now), 0);
    REQUIRE(run(n, 5000) == 0);

    CHECK_INT(n->npublished[0], 1);
    CHECK_STR(n->published[0], "alice@alpha");
    CHECK_STR(canto__mdns_instance(n->e[0], h), "alice@alpha");
    CHECK_STR(canto__mdns_host(n->e[0]), "alpha.local");
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_APPEARED, "alice@alpha"), 1);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_CHANGED, NULL), 0);
    svc_ev *e = last_ev(n, 1, "alice@alpha");
    REQUIRE(e != NULL);
    CHECK_STR(e->host, "alpha.local");
    CHECK_INT(e->port, 5562);
    CHECK(txt_status_is(e, "avail"));
    CHECK_INT(e->naddrs, 2);
    int v4 = 0, v6 = 0;
    for (size_t i = 0; i < e->naddrs; i++) {
        v4 += addr_is(&e->addrs[i], &n->v4[0]);
        v6 += addr_is(&e->addrs[i], &n->v6[0]);
        CHECK_INT(e->addrs[i].ifindex, IFX);
    }
    CHECK_INT(v4, 1);
    CHECK_INT(v6, 1);
    /* published, not browsed by A: A's cache holds nothing */
    CHECK_INT(canto__mdns_cache_size(n->e[0]), 0);

    /* TXT update: announced with the cache-flush bit, seen as CHANGED */
    clear_log(n);
    tl = make_txt(txt, "away");
    CHECK_INT(canto__mdns_update_txt(n->e[0], h, txt, tl, n->now), 0);
    REQUIRE(run(n, n->now + 3000) == 0);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_CHANGED, "alice@alpha"), 1);
    e = last_ev(n, 1, "alice@alpha");
    CHECK_INT(e->ev, CANTO__MDNS_SVC_CHANGED);
    CHECK(txt_status_is(e, "away"));
    CHECK_INT(e->port, 5562);
    int txt_announcements = 0;
    for (size_t k = 0; k < n->nlog; k++) {
        sent *s = &n->log[k];
        if (s->from != 0 || s->dest.family != AF_INET || s->ucast.family)
            continue;
        REQUIRE(canto__mdns_parse(s->data, s->len, n->msg) == 0);
        const canto__mdns_rr *t =
            find_rr(n->msg, CANTO__MDNS_AN, "alice@alpha." PTRNAME, CANTO__MDNS_T_TXT);
        if (t && (n->msg->flags & 0x8000)) {
            txt_announcements++;
            CHECK(t->cache_flush);
        }
    }
    CHECK_INT(txt_announcements, 2);
    CHECK_INT(canto__mdns_update_txt(n->e[0], h + 100, txt, tl, n->now), CANTO_ENOTFOUND);

    /* withdraw: goodbye, GONE a second later (§10.1) */
    uint64_t t0 = n->now;
    CHECK_INT(canto__mdns_withdraw(n->e[0], h, n->now), 0);
    CHECK(canto__mdns_instance(n->e[0], h) == NULL);
    CHECK_INT(canto__mdns_withdraw(n->e[0], h, n->now), CANTO_ENOTFOUND);
    REQUIRE(run(n, n->now + 3000) == 0);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_GONE, "alice@alpha"), 1);
    e = last_ev(n, 1, "alice@alpha");
    CHECK_INT(e->ev, CANTO__MDNS_SVC_GONE);
    CHECK(e->t >= t0 + 1000 && e->t <= t0 + 1100);
    net_free(n);
    return 0;
}

static int test_own_service_and_goodbye_on_free(void)
{
    net *n = two_up();
    uint8_t txt[64];
    uint16_t tl = make_txt(txt, "avail");
    unsigned h;
    CHECK_INT(canto__mdns_publish(n->e[0], "alice@alpha", TYPE, 1, txt, tl, n->now, &h), 0);
    CHECK_INT(canto__mdns_browse(n->e[0], TYPE, n->now), 0);
    CHECK_INT(canto__mdns_browse(n->e[1], TYPE, n->now), 0);
    CHECK_INT(canto__mdns_browse(n->e[1], TYPE, n->now), 0); /* twice is once */
    CHECK_INT(canto__mdns_browse(n->e[1], "presence", n->now), CANTO_EINVAL);
    REQUIRE(run(n, 4000) == 0);
    CHECK_INT(count_evs(n, 0, CANTO__MDNS_SVC_APPEARED, "alice@alpha"), 1);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_APPEARED, "alice@alpha"), 1);
    /* freeing the engine says goodbye */
    uint64_t t0 = n->now;
    canto__mdns_free(n->e[0], n->now);
    n->e[0] = NULL;
    REQUIRE(run(n, n->now + 2000) == 0);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_GONE, "alice@alpha"), 1);
    svc_ev *e = last_ev(n, 1, "alice@alpha");
    CHECK(e->t >= t0 + 1000 && e->t <= t0 + 1100);
    net_free(n);
    return 0;
}

static int test_silent_death_expires(void)
{
    net *n = two_up();
    CHECK_INT(canto__mdns_set_ttls(n->e[0], 4, 6), 0);
    uint8_t txt[64];
    uint16_t tl = make_txt(txt, "avail");
    unsigned h;
    CHECK_INT(canto__mdns_publish(n->e[0], "alice@alpha", TYPE, 1, txt, tl, n->now, &h), 0);
    CHECK_INT(canto__mdns_browse(n->e[1], TYPE, n->now), 0);
    REQUIRE(run(n, 3000) == 0);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_APPEARED, "alice@alpha"), 1);
    /* still there well after the TTLs: B's requeries keep it fresh */
    REQUIRE(run(n, 20000) == 0);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_GONE, NULL), 0);
    /* A vanishes without a goodbye */
    uint64_t t0 = n->now;
    n->alive[0] = 0;
    clear_log(n);
    REQUIRE(run(n, n->now + 10000) == 0);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_GONE, "alice@alpha"), 1);
    svc_ev *e = last_ev(n, 1, "alice@alpha");
    /* the SRV (4 s) runs out first */
    CHECK(e->t > t0 && e->t <= t0 + 4000);
    /* B asked again before dropping it (§5.2) */
    int requeries = 0;
    for (size_t k = 0; k < n->nlog; k++) {
        sent *s = &n->log[k];
        if (s->from != 1 || s->dest.family != AF_INET)
            continue;
        REQUIRE(canto__mdns_parse(s->data, s->len, n->msg) == 0);
        if (!(n->msg->flags & 0x8000) &&
            find_rr(n->msg, CANTO__MDNS_QD, "alice@alpha." PTRNAME, CANTO__MDNS_T_SRV))
            requeries++;
    }
    CHECK(requeries >= 1);
    net_free(n);
    return 0;
}

static int test_probe_timing(void)
{
    net *n = net_new();
    eng_new(n, 0, "alpha");
    n->now = 10000;
    eng_up(n, 0);
    uint8_t txt[64];
    uint16_t tl = make_txt(txt, "avail");
    unsigned h;
    CHECK_INT(canto__mdns_publish(n->e[0], "alice@alpha", TYPE, 7, txt, tl, n->now, &h), 0);
    REQUIRE(run(n, 15000) == 0);
    const char *name = "alice@alpha." PTRNAME;
    uint64_t probes[8], ann[8];
    int np = 0, na = 0;
    for (size_t k = 0; k < n->nlog; k++) {
        sent *s = &n->log[k];
        if (s->dest.family != AF_INET || s->ucast.family)
            continue;
        REQUIRE(canto__mdns_parse(s->data, s->len, n->msg) == 0);
        const canto__mdns_rr *q = find_rr(n->msg, CANTO__MDNS_QD, name, CANTO__MDNS_T_ANY);
        if (q && !(n->msg->flags & 0x8000) && np < 8) {
            CHECK(!q->unicast); /* QM: see send_probes() */
            const canto__mdns_rr *srv = find_rr(n->msg, CANTO__MDNS_NS, name, CANTO__MDNS_T_SRV);
            CHECK(srv != NULL);
            CHECK(srv && srv->u.srv.port == 7);
            CHECK(find_rr(n->msg, CANTO__MDNS_NS, name, CANTO__MDNS_T_TXT) != NULL);
            probes[np++] = s->t;
        }
        const canto__mdns_rr *srv = find_rr(n->msg, CANTO__MDNS_AN, name, CANTO__MDNS_T_SRV);
        if (srv && (n->msg->flags & 0x8000) && na < 8) {
            CHECK(srv->cache_flush);
            CHECK_INT(srv->ttl, 120);
            /* RFC 6763 §12 style: PTR, SRV, TXT, then the addresses */
            CHECK(find_rr(n->msg, CANTO__MDNS_AN, PTRNAME, CANTO__MDNS_T_PTR) != NULL);
            CHECK(find_rr(n->msg, CANTO__MDNS_AR, "alpha.local", CANTO__MDNS_T_A) != NULL);
            ann[na++] = s->t;
        }
    }
    CHECK_INT(np, 3);
    CHECK_INT(na, 2);
    REQUIRE(np == 3 && na == 2);
    CHECK(probes[0] >= 10000 && probes[0] <= 10250);
    CHECK_INT(probes[1] - probes[0], 250);
    CHECK_INT(probes[2] - probes[1], 250);
    CHECK(ann[0] >= probes[2] + 250);
    CHECK(ann[0] <= probes[2] + 500);
    CHECK_INT(ann[1] - ann[0], 1000);
    CHECK_INT(n->npublished[0], 1);
    net_free(n);
    return 0;
}

static int test_instance_conflict_sequential(void)
{
    net *n = two_up();
    eng_new(n, 2, "gamma");
    eng_up(n, 2);
    uint8_t txt[64];
    uint16_t tl = make_txt(txt, "avail");
    unsigned ha, hb;
    CHECK_INT(canto__mdns_browse(n->e[2], TYPE, n->now), 0);
    CHECK_INT(canto__mdns_publish(n->e[0], "alice", TYPE, 1111, txt, tl, n->now, &ha), 0);
    REQUIRE(run(n, 3000) == 0);
    CHECK_INT(canto__mdns_publish(n->e[1], "alice", TYPE, 2222, txt, tl, n->now, &hb), 0);
    REQUIRE(run(n, 10000) == 0);
    CHECK_STR(canto__mdns_instance(n->e[0], ha), "alice");
    CHECK_STR(canto__mdns_instance(n->e[1], hb), "alice-2");
    CHECK_INT(n->nrenamed[0], 0);
    CHECK_INT(n->nrenamed[1], 1);
    CHECK_STR(n->renamed[1], "alice-2");
    CHECK_STR(n->published[1], "alice-2");
    CHECK_INT(n->npublished[1], 1);
    CHECK_INT(count_evs(n, 2, CANTO__MDNS_SVC_APPEARED, "alice"), 1);
    CHECK_INT(count_evs(n, 2, CANTO__MDNS_SVC_APPEARED, "alice-2"), 1);
    CHECK_INT(count_evs(n, 2, CANTO__MDNS_SVC_GONE, NULL), 0);
    CHECK_INT(count_evs(n, 2, CANTO__MDNS_SVC_CHANGED, NULL), 0);
    svc_ev *a = last_ev(n, 2, "alice"), *b = last_ev(n, 2, "alice-2");
    REQUIRE(a && b);
    CHECK_INT(a->port, 1111);
    CHECK_STR(a->host, "alpha.local");
    CHECK_INT(b->port, 2222);
    CHECK_STR(b->host, "beta.local");
    net_free(n);
    return 0;
}

static int test_instance_conflict_simultaneous(void)
{
    net *n = two_up();
    eng_new(n, 2, "gamma");
    eng_up(n, 2);
    uint8_t txt[64];
    uint16_t tl = make_txt(txt, "avail");
    unsigned ha, hb;
    CHECK_INT(canto__mdns_browse(n->e[2], TYPE, n->now), 0);
    CHECK_INT(canto__mdns_publish(n->e[0], "alice", TYPE, 1111, txt, tl, n->now, &ha), 0);
    CHECK_INT(canto__mdns_publish(n->e[1], "alice", TYPE, 2222, txt, tl, n->now, &hb), 0);
    REQUIRE(run(n, 12000) == 0);
    const char *ia = canto__mdns_instance(n->e[0], ha), *ib = canto__mdns_instance(n->e[1], hb);
    REQUIRE(ia && ib);
    /* §8.2: SRV rdata "beta.local" sorts after "alpha.local": B keeps it */
    CHECK_STR(ib, "alice");
    CHECK_STR(ia, "alice-2");
    CHECK_INT(n->nrenamed[0] + n->nrenamed[1], 1);
    CHECK_INT(count_evs(n, 2, CANTO__MDNS_SVC_APPEARED, "alice"), 1);
    CHECK_INT(count_evs(n, 2, CANTO__MDNS_SVC_APPEARED, "alice-2"), 1);
    CHECK_INT(count_evs(n, 2, CANTO__MDNS_SVC_GONE, NULL), 0);
    svc_ev *a = last_ev(n, 2, "alice");
    REQUIRE(a);
    CHECK_INT(a->port, 2222);
    net_free(n);
    return 0;
}

static int test_host_conflict(void)
{
    net *n = net_new();
    eng_new(n, 0, "twin");
    eng_new(n, 1, "twin");
    eng_new(n, 2, "gamma");
    eng_up(n, 0);
    eng_up(n, 2);
    uint8_t txt[64];
    uint16_t tl = make_txt(txt, "avail");
    unsigned ha, hb;
    CHECK_INT(canto__mdns_browse(n->e[2], TYPE, n->now), 0);
    CHECK_INT(canto__mdns_publish(n->e[0], "alice@twin", TYPE, 1111, txt, tl, n->now, &ha), 0);
    REQUIRE(run(n, 3000) == 0);
    /* the second peer with the same host name comes up later */
    eng_up(n, 1);
    CHECK_INT(canto__mdns_publish(n->e[1], "bob@twin", TYPE, 2222, txt, tl, n->now, &hb), 0);
    REQUIRE(run(n, 10000) == 0);
    CHECK_STR(canto__mdns_host(n->e[0]), "twin.local");
    CHECK_STR(canto__mdns_host(n->e[1]), "twin-2.local");
    CHECK_INT(n->host_renamed[1], 1);
    CHECK_INT(n->host_renamed[0], 0);
    CHECK_STR(n->renamed[1], "twin-2.local");
    svc_ev *a = last_ev(n, 2, "alice@twin"), *b = last_ev(n, 2, "bob@twin");
    REQUIRE(a && b);
    CHECK_INT(a->ev, CANTO__MDNS_SVC_APPEARED);
    CHECK_INT(b->ev, CANTO__MDNS_SVC_APPEARED);
    CHECK_STR(a->host, "twin.local");
    CHECK_STR(b->host, "twin-2.local");
    /* each service resolves to its own peer's addresses only */
    CHECK_INT(b->naddrs, 2);
    for (size_t i = 0; i < b->naddrs; i++)
        CHECK(addr_is(&b->addrs[i], &n->v4[1]) || addr_is(&b->addrs[i], &n->v6[1]));
    CHECK_INT(a->naddrs, 2);
    for (size_t i = 0; i < a->naddrs; i++)
        CHECK(addr_is(&a->addrs[i], &n->v4[0]) || addr_is(&a->addrs[i], &n->v6[0]));
    net_free(n);
    return 0;
}

static int test_host_conflict_simultaneous(void)
{
    net *n = net_new();
    eng_new(n, 0, "twin");
    eng_new(n, 1, "twin");
    eng_up(n, 0);
    eng_up(n, 1);
    REQUIRE(run(n, 8000) == 0);
    /* 169.254.2.20 sorts after 169.254.1.10: the second keeps "twin" */
    CHECK_STR(canto__mdns_host(n->e[1]), "twin.local");
    CHECK_STR(canto__mdns_host(n->e[0]), "twin-2.local");
    CHECK_INT(n->host_renamed[0], 1);
    CHECK_INT(n->host_renamed[1], 0);
    net_free(n);
    return 0;
}

static net *one_published(unsigned *h)
{
    net *n = net_new();
    eng_new(n, 0, "alpha");
    eng_up(n, 0);
    uint8_t txt[64];
    uint16_t tl = make_txt(txt, "avail");
    CHECK_INT(canto__mdns_publish(n->e[0], "alice", TYPE, 5562, txt, tl, n->now, h), 0);
    run(n, 3000);
    clear_log(n);
    return n;
}

/* Responses from engine 0 in the log: how many carry @p type for @p name in
 * their answers, multicast and unicast. */
static void count_answers(net *n, const char *name, uint16_t type, int *mc, int *uc)
{
    *mc = *uc = 0;
    for (size_t k = 0; k < n->nlog; k++) {
        sent *s = &n->log[k];
        if (s->from != 0 || (!s->ucast.family && s->dest.family != AF_INET))
            continue;
        if (canto__mdns_parse(s->data, s->len, n->msg) != 0 || !(n->msg->flags & 0x8000))
            continue;
        if (find_rr(n->msg, CANTO__MDNS_AN, name, type))
            (*(s->ucast.family ? uc : mc))++;
    }
}

static int test_known_answer_suppression(void)
{
    unsigned h;
    net *n = one_published(&h);
    pb *p = malloc(sizeof(*p));
    canto__mdns_addr q;
    set_v4(&q, 9, 9);
    int mc, uc;

    /* we know it with the full TTL: A stays quiet */
    pb_init(p, 0, 0);
    pb_q(p, PTRNAME, CANTO__MDNS_T_PTR, 0);
    snprintf(pb_rr(p, CANTO__MDNS_AN, PTRNAME, CANTO__MDNS_T_PTR, 4500, 0)->u.target,
             CANTO__MDNS_NAME_MAX, "alice." PTRNAME);
    pb_add(p);
    CHECK_INT(inject(n, 0, p, &q), 0);
    REQUIRE(run(n, n->now + 1500) == 0);
    count_answers(n, PTRNAME, CANTO__MDNS_T_PTR, &mc, &uc);
    CHECK_INT(mc + uc, 0);

    /* with less than half the TTL left it answers, after 20-120 ms */
    uint64_t t0 = n->now;
    pb_init(p, 0, 0);
    pb_q(p, PTRNAME, CANTO__MDNS_T_PTR, 0);
    snprintf(pb_rr(p, CANTO__MDNS_AN, PTRNAME, CANTO__MDNS_T_PTR, 2000, 0)->u.target,
             CANTO__MDNS_NAME_MAX, "alice." PTRNAME);
    pb_add(p);
    CHECK_INT(inject(n, 0, p, &q), 0);
    REQUIRE(run(n, n->now + 300) == 0);
    count_answers(n, PTRNAME, CANTO__MDNS_T_PTR, &mc, &uc);
    CHECK_INT(mc, 1);
    CHECK_INT(uc, 0);
    for (size_t k = 0; k < n->nlog; k++)
        if (n->log[k].from == 0) {
            CHECK(n->log[k].t >= t0 + 20 && n->log[k].t <= t0 + 120);
            REQUIRE(canto__mdns_parse(n->log[k].data, n->log[k].len, n->msg) == 0);
            /* RFC 6763 §12: SRV, TXT and addresses as additional records */
            CHECK(find_rr(n->msg, CANTO__MDNS_AR, "alice." PTRNAME, CANTO__MDNS_T_SRV) != NULL);
            CHECK(find_rr(n->msg, CANTO__MDNS_AR, "alice." PTRNAME, CANTO__MDNS_T_TXT) != NULL);
            CHECK(find_rr(n->msg, CANTO__MDNS_AR, "alpha.local", CANTO__MDNS_T_A) != NULL);
            CHECK(find_rr(n->msg, CANTO__MDNS_AR, "alpha.local", CANTO__MDNS_T_AAAA) != NULL);
        }

    /* a second query within a second gets no second multicast (§6.2) */
    clear_log(n);
    pb_init(p, 0, 0);
    pb_q(p, PTRNAME, CANTO__MDNS_T_PTR, 0);
    CHECK_INT(inject(n, 0, p, &q), 0);
    REQUIRE(run(n, n->now + 200) == 0);
    count_answers(n, PTRNAME, CANTO__MDNS_T_PTR, &mc, &uc);
    CHECK_INT(mc + uc, 0);
    free(p);
    net_free(n);
    return 0;
}

static int test_unicast_and_legacy(void)
{
    unsigned h;
    net *n = one_published(&h);
    pb *p = malloc(sizeof(*p));
    canto__mdns_addr q;
    set_v4(&q, 9, 9);
    int mc, uc;

    /* QU shortly after the announcements: unicast to the asker (§5.4) */
    pb_init(p, 0, 0);
    pb_q(p, "alice." PTRNAME, CANTO__MDNS_T_SRV, 1);
    CHECK_INT(inject(n, 0, p, &q), 0);
    REQUIRE(run(n, n->now + 100) == 0);
    count_answers(n, "alice." PTRNAME, CANTO__MDNS_T_SRV, &mc, &uc);
    CHECK_INT(uc, 1);
    CHECK_INT(mc, 0);
    for (size_t k = 0; k < n->nlog; k++)
        if (n->log[k].ucast.family) {
            CHECK(addr_is(&n->log[k].ucast, &q));
            CHECK_INT(n->log[k].ucast.port, CANTO__MDNS_PORT);
        }

    /* long after the last multicast a QU question gets a multicast answer */
    clear_log(n);
    REQUIRE(run(n, n->now + 60000) == 0);
    CHECK_INT(n->nlog, 0);
    pb_init(p, 0, 0);
    pb_q(p, "alice." PTRNAME, CANTO__MDNS_T_SRV, 1);
    CHECK_INT(inject(n, 0, p, &q), 0);
    REQUIRE(run(n, n->now + 100) == 0);
    count_answers(n, "alice." PTRNAME, CANTO__MDNS_T_SRV, &mc, &uc);
    CHECK_INT(mc, 1);
    CHECK_INT(uc, 0);

    /* legacy unicast (§6.7): source port not 5353 */
    clear_log(n);
    canto__mdns_addr lq = q;
    lq.port = 40000;
    pb_init(p, 0x4242, 0);
    pb_q(p, "alpha.local", CANTO__MDNS_T_A, 0);
    CHECK_INT(inject(n, 0, p, &lq), 0);
    REQUIRE(run(n, n->now + 100) == 0);
    int found = 0;
    for (size_t k = 0; k < n->nlog; k++) {
        sent *s = &n->log[k];
        if (!s->ucast.family)
            continue;
        found++;
        CHECK_INT(s->ucast.port, 40000);
        REQUIRE(canto__mdns_parse(s->data, s->len, n->msg) == 0);
        CHECK_INT(n->msg->id, 0x4242);
        CHECK(find_rr(n->msg, CANTO__MDNS_QD, "alpha.local", CANTO__MDNS_T_A) != NULL);
        const canto__mdns_rr *a = find_rr(n->msg, CANTO__MDNS_AN, "alpha.local", CANTO__MDNS_T_A);
        REQUIRE(a != NULL);
        CHECK(a->ttl <= 10);
        CHECK(!a->cache_flush);
        CHECK(memcmp(a->u.a, n->v4[0].addr, 4) == 0);
    }
    CHECK_INT(found, 1);
    /* a response from a port other than 5353 is not mDNS (§11): ignored,
     * where a conflict would have made A probe again */
    clear_log(n);
    pb_init(p, 0, 0x8400);
    snprintf(pb_rr(p, CANTO__MDNS_AN, "alpha.local", CANTO__MDNS_T_A, 120, 1)->name,
             CANTO__MDNS_NAME_MAX, "alpha.local");
    memcpy(p->rr.u.a, (uint8_t[]){169, 254, 9, 9}, 4);
    pb_add(p);
    CHECK_INT(inject(n, 0, p, &lq), 0);
    REQUIRE(run(n, n->now + 2000) == 0);
    CHECK_STR(canto__mdns_host(n->e[0]), "alpha.local");
    CHECK_INT(n->nlog, 0);
    free(p);
    net_free(n);
    return 0;
}

static void add_service_records(pb *p, const char *inst, const char *host, uint16_t port,
                                int with_a, const uint8_t a[4])
{
    char full[256];
    snprintf(full, sizeof(full), "%s." PTRNAME, inst);
    snprintf(pb_rr(p, CANTO__MDNS_AN, PTRNAME, CANTO__MDNS_T_PTR, 4500, 0)->u.target,
             CANTO__MDNS_NAME_MAX, "%s", full);
    pb_add(p);
    canto__mdns_rr *rr = pb_rr(p, CANTO__MDNS_AR, full, CANTO__MDNS_T_SRV, 120, 1);
    rr->u.srv.port = port;
    snprintf(rr->u.srv.target, sizeof(rr->u.srv.target), "%s", host);
    pb_add(p);
    rr = pb_rr(p, CANTO__MDNS_AR, full, CANTO__MDNS_T_TXT, 4500, 1);
    rr->u.txt.len = make_txt(rr->u.txt.data, "avail");
    pb_add(p);
    if (with_a) {
        memcpy(pb_rr(p, CANTO__MDNS_AR, host, CANTO__MDNS_T_A, 120, 1)->u.a, a, 4);
        pb_add(p);
    }
}

static int test_cache_flush(void)
{
    net *n = net_new();
    eng_new(n, 1, "beta");
    eng_up(n, 1);
    CHECK_INT(canto__mdns_browse(n->e[1], TYPE, n->now), 0);
    REQUIRE(run(n, 500) == 0);
    pb *p = malloc(sizeof(*p));
    canto__mdns_addr src;
    set_v4(&src, 7, 7);
    pb_init(p, 0, 0x8400);
    add_service_records(p, "zed", "h7.local", 9, 1, (uint8_t[]){169, 254, 7, 7});
    CHECK_INT(inject(n, 1, p, &src), 0);
    REQUIRE(run(n, 1000) == 0);
    svc_ev *e = last_ev(n, 1, "zed");
    REQUIRE(e != NULL);
    CHECK_INT(e->ev, CANTO__MDNS_SVC_APPEARED);
    CHECK_INT(e->naddrs, 1);
    CHECK_INT(e->addrs[0].addr[2], 7);

    /* another address without the flush bit joins the set */
    n->now = 3000;
    pb_init(p, 0, 0x8400);
    memcpy(pb_rr(p, CANTO__MDNS_AN, "h7.local", CANTO__MDNS_T_A, 120, 0)->u.a,
           (uint8_t[]){169, 254, 7, 8}, 4);
    pb_add(p);
    CHECK_INT(inject(n, 1, p, &src), 0);
    e = last_ev(n, 1, "zed");
    CHECK_INT(e->ev, CANTO__MDNS_SVC_CHANGED);
    CHECK_INT(e->naddrs, 2);

    /* a new address with the flush bit replaces both (§10.2) */
    n->now = 6000;
    size_t before = canto__mdns_cache_size(n->e[1]);
    pb_init(p, 0, 0x8400);
    memcpy(pb_rr(p, CANTO__MDNS_AN, "h7.local", CANTO__MDNS_T_A, 120, 1)->u.a,
           (uint8_t[]){169, 254, 8, 8}, 4);
    pb_add(p);
    CHECK_INT(inject(n, 1, p, &src), 0);
    e = last_ev(n, 1, "zed");
    CHECK_INT(e->ev, CANTO__MDNS_SVC_CHANGED);
    CHECK_INT(e->naddrs, 1);
    CHECK_INT(e->addrs[0].addr[2], 8);
    CHECK_INT(canto__mdns_cache_size(n->e[1]), before + 1);
    /* the flushed records leave the cache one second later */
    REQUIRE(run(n, 7100) == 0);
    CHECK_INT(canto__mdns_cache_size(n->e[1]), before - 1);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_CHANGED, "zed"), 2);

    /* a record received less than a second ago is not flushed */
    n->now = 8000;
    pb_init(p, 0, 0x8400);
    memcpy(pb_rr(p, CANTO__MDNS_AN, "h7.local", CANTO__MDNS_T_A, 120, 1)->u.a,
           (uint8_t[]){169, 254, 9, 9}, 4);
    pb_add(p);
    CHECK_INT(inject(n, 1, p, &src), 0);
    n->now = 8500;
    pb_init(p, 0, 0x8400);
    memcpy(pb_rr(p, CANTO__MDNS_AN, "h7.local", CANTO__MDNS_T_A, 120, 1)->u.a,
           (uint8_t[]){169, 254, 9, 10}, 4);
    pb_add(p);
    CHECK_INT(inject(n, 1, p, &src), 0);
    REQUIRE(run(n, 10000) == 0);
    e = last_ev(n, 1, "zed");
    CHECK_INT(e->naddrs, 2);
    CHECK_INT(e->addrs[0].addr[2], 9);
    CHECK_INT(e->addrs[1].addr[2], 9);

    /* a PTR goodbye: gone a second later */
    n->now = 12000;
    pb_init(p, 0, 0x8400);
    snprintf(pb_rr(p, CANTO__MDNS_AN, PTRNAME, CANTO__MDNS_T_PTR, 0, 0)->u.target,
             CANTO__MDNS_NAME_MAX, "zed." PTRNAME);
    pb_add(p);
    CHECK_INT(inject(n, 1, p, &src), 0);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_GONE, "zed"), 0);
    REQUIRE(run(n, 13001) == 0);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_GONE, "zed"), 1);
    CHECK_INT(last_ev(n, 1, "zed")->t, 13000);
    free(p);
    net_free(n);
    return 0;
}

static int test_resolve_missing(void)
{
    /* only a PTR arrives: the browser asks for SRV and TXT, then A/AAAA */
    net *n = two_up();
    uint8_t txt[64];
    uint16_t tl = make_txt(txt, "avail");
    unsigned h;
    CHECK_INT(canto__mdns_publish(n->e[0], "alice", TYPE, 42, txt, tl, n->now, &h), 0);
    REQUIRE(run(n, 3000) == 0);
    n->alive[0] = 0; /* deaf for a moment: B must ask by itself */
    CHECK_INT(canto__mdns_browse(n->e[1], TYPE, n->now), 0);
    pb *p = malloc(sizeof(*p));
    pb_init(p, 0, 0x8400);
    snprintf(pb_rr(p, CANTO__MDNS_AN, PTRNAME, CANTO__MDNS_T_PTR, 4500, 0)->u.target,
             CANTO__MDNS_NAME_MAX, "alice." PTRNAME);
    pb_add(p);
    CHECK_INT(inject(n, 1, p, &n->v4[0]), 0);
    n->alive[0] = 1;
    clear_log(n);
    REQUIRE(run(n, n->now + 3000) == 0);
    int asked_srv = 0;
    for (size_t k = 0; k < n->nlog; k++) {
        sent *s = &n->log[k];
        if (s->from != 1 || s->dest.family != AF_INET)
            continue;
        REQUIRE(canto__mdns_parse(s->data, s->len, n->msg) == 0);
        if (!(n->msg->flags & 0x8000) &&
            find_rr(n->msg, CANTO__MDNS_QD, "alice." PTRNAME, CANTO__MDNS_T_SRV) &&
            find_rr(n->msg, CANTO__MDNS_QD, "alice." PTRNAME, CANTO__MDNS_T_TXT))
            asked_srv++;
    }
    CHECK(asked_srv >= 1);
    svc_ev *e = last_ev(n, 1, "alice");
    REQUIRE(e != NULL);
    CHECK_INT(e->ev, CANTO__MDNS_SVC_APPEARED);
    CHECK_INT(e->port, 42);
    free(p);
    net_free(n);
    return 0;
}

static int test_needs_txt_and_address(void)
{
    /* APPEARED only once SRV, TXT and an address are all known */
    net *n = net_new();
    eng_new(n, 1, "beta");
    eng_up(n, 1);
    CHECK_INT(canto__mdns_browse(n->e[1], TYPE, n->now), 0);
    REQUIRE(run(n, 500) == 0);
    pb *p = malloc(sizeof(*p));
    canto__mdns_addr src;
    set_v4(&src, 7, 7);
    pb_init(p, 0, 0x8400);
    snprintf(pb_rr(p, CANTO__MDNS_AN, PTRNAME, CANTO__MDNS_T_PTR, 4500, 0)->u.target,
             CANTO__MDNS_NAME_MAX, "nt." PTRNAME);
    pb_add(p);
    canto__mdns_rr *rr = pb_rr(p, CANTO__MDNS_AR, "nt." PTRNAME, CANTO__MDNS_T_SRV, 120, 1);
    rr->u.srv.port = 77;
    snprintf(rr->u.srv.target, sizeof(rr->u.srv.target), "h9.local");
    pb_add(p);
    CHECK_INT(inject(n, 1, p, &src), 0);
    REQUIRE(run(n, 600) == 0);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_APPEARED, "nt"), 0);
    pb_init(p, 0, 0x8400);
    uint8_t aaaa[16] = {0xfe, 0x80, [15] = 9};
    memcpy(pb_rr(p, CANTO__MDNS_AN, "h9.local", CANTO__MDNS_T_AAAA, 120, 1)->u.aaaa, aaaa, 16);
    pb_add(p);
    CHECK_INT(inject(n, 1, p, &src), 0);
    REQUIRE(run(n, 700) == 0);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_APPEARED, "nt"), 0);
    pb_init(p, 0, 0x8400);
    rr = pb_rr(p, CANTO__MDNS_AN, "nt." PTRNAME, CANTO__MDNS_T_TXT, 4500, 1);
    rr->u.txt.len = make_txt(rr->u.txt.data, "dnd");
    pb_add(p);
    CHECK_INT(inject(n, 1, p, &src), 0);
    CHECK_INT(count_evs(n, 1, CANTO__MDNS_SVC_APPEARED, "nt"), 1);
    svc_ev *e = last_ev(n, 1, "nt");
    REQUIRE(e != NULL);
    CHECK(txt_status_is(e, "dnd"));
    CHECK_INT(e->port, 77);
    CHECK_INT(e->naddrs, 1);
    CHECK_INT(e->addrs[0].family, AF_INET6);
    CHECK_INT(e->addrs[0].addr[15], 9);
    free(p);
    net_free(n);
    return 0;
}

static int test_flood(void)
{
    net *n = net_new();
    n->keep_log = 0;
    eng_new(n, 1, "beta");
    eng_up(n, 1);
    CHECK_INT(canto__mdns_browse(n->e[1], TYPE, n->now), 0);
    REQUIRE(run(n, 500) == 0);
    pb *p = malloc(sizeof(*p));
    canto__mdns_addr src;
    set_v4(&src, 6, 6);
    int k = 0;
    for (int pkt = 0; k < 10000; pkt++) {
        pb_init(p, 0, 0x8400);
        for (int i = 0; i < 40 && k < 10000; i++, k++) {
            snprintf(pb_rr(p, CANTO__MDNS_AN, PTRNAME, CANTO__MDNS_T_PTR, 4500, 0)->u.target,
                     CANTO__MDNS_NAME_MAX, "flood%05d." PTRNAME, k);
            pb_add(p);
        }
        CHECK_INT(inject(n, 1, p, &src), 0);
        CHECK(canto__mdns_cache_size(n->e[1]) <= CANTO__MDNS_MAX_CACHE);
        if (pkt % 25 == 0)
            run(n, n->now + 10);
    }
    CHECK_INT(canto__mdns_cache_size(n->e[1]), CANTO__MDNS_MAX_CACHE);
    REQUIRE(run(n, n->now + 5000) == 0);
    CHECK_INT(canto__mdns_cache_size(n->e[1]), CANTO__MDNS_MAX_CACHE);
    /* records nobody browsed for are not cached at all */
    size_t before = canto__mdns_cache_size(n->e[1]);
    for (k = 0; k < 2000;) {
        pb_init(p, 0, 0x8400);
        for (int i = 0; i < 40; i++, k++) {
            char name[64];
            snprintf(name, sizeof(name), "junk%05d.local", k);
            memcpy(pb_rr(p, CANTO__MDNS_AN, name, CANTO__MDNS_T_A, 120, 1)->u.a,
                   (uint8_t[]){169, 254, 6, 6}, 4);
            pb_add(p);
        }
        CHECK_INT(inject(n, 1, p, &src), 0);
    }
    CHECK_INT(canto__mdns_cache_size(n->e[1]), before);
    free(p);
    net_free(n);
    return 0;
}

static int test_malformed(void)
{
    unsigned h;
    net *n = one_published(&h);
    canto__mdns_addr q;
    set_v4(&q, 9, 9);
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    CHECK(canto__mdns_input(n->e[0], junk, sizeof(junk), &q, n->now) < 0);
    /* header says one question, none follows */
    uint8_t trunc[12] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    CHECK(canto__mdns_input(n->e[0], trunc, sizeof(trunc), &q, n->now) < 0);
    CHECK(canto__mdns_input(n->e[0], trunc, 5, &q, n->now) < 0);
    /* a compression pointer to itself */
    uint8_t loop[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    CHECK(canto__mdns_input(n->e[0], loop, sizeof(loop), &q, n->now) < 0);
    CHECK_INT(canto__mdns_input(n->e[0], NULL, 0, &q, n->now), CANTO_EINVAL);
    REQUIRE(run(n, n->now + 2000) == 0);
    CHECK_INT(n->nlog, 0);
    /* a packet from an interface we do not use is ignored */
    pb *p = malloc(sizeof(*p));
    pb_init(p, 0, 0);
    pb_q(p, "alpha.local", CANTO__MDNS_T_A, 0);
    canto__mdns_addr other = q;
    other.ifindex = 77;
    CHECK_INT(inject(n, 0, p, &other), 0);
    REQUIRE(run(n, n->now + 500) == 0);
    CHECK_INT(n->nlog, 0);
    /* and the engine still answers */
    pb_init(p, 0, 0);
    pb_q(p, "alpha.local", CANTO__MDNS_T_A, 0);
    CHECK_INT(inject(n, 0, p, &q), 0);
    REQUIRE(run(n, n->now + 500) == 0);
    CHECK_INT(n->nlog, 2); /* one packet per family */
    free(p);
    net_free(n);
    return 0;
}

static int test_api_errors(void)
{
    net *n = net_new();
    canto__mdns *m = eng_new(n, 0, "alpha");
    unsigned h;
    CHECK_INT(canto__mdns_publish(m, "x", "_presence", 1, NULL, 0, 0, &h), CANTO_EINVAL);
    CHECK_INT(canto__mdns_publish(m, "x", "presence._tcp", 1, NULL, 0, 0, &h), CANTO_EINVAL);
    CHECK_INT(canto__mdns_publish(m, "", TYPE, 1, NULL, 0, 0, &h), CANTO_EINVAL);
    char longname[80];
    memset(longname, 'a', 70);
    longname[70] = '\0';
    CHECK_INT(canto__mdns_publish(m, longname, TYPE, 1, NULL, 0, 0, &h), CANTO_EINVAL);
    uint8_t bad_txt[] = {5, 'a'};
    CHECK_INT(canto__mdns_publish(m, "x", TYPE, 1, bad_txt, 2, 0, &h), CANTO_EINVAL);
    /* an empty TXT is fine (sent as one empty string) */
    CHECK_INT(canto__mdns_publish(m, "x", TYPE, 1, NULL, 0, 0, &h), 0);
    CHECK_INT(canto__mdns_withdraw(m, 999, 0), CANTO_ENOTFOUND);
    CHECK(canto__mdns_instance(m, 999) == NULL);
    canto__mdns *bad = NULL;
    CHECK_INT(canto__mdns_new(&n->alloc, NULL, "", &events, NULL, &bad), CANTO_EINVAL);
    CHECK(bad == NULL);
    /* nothing to do before there is an interface */
    CHECK(canto__mdns_deadline(m) == UINT64_MAX);
    canto__mdns_iface many[17];
    memset(many, 0, sizeof(many));
    CHECK_INT(canto__mdns_set_ifaces(m, many, 17, 0), CANTO_ETOOBIG);
    net_free(n);
    return 0;
}

static int test_own_name_collision(void)
{
    /* the same instance twice on one engine: the second renames without
     * asking the network */
    net *n = net_new();
    eng_new(n, 0, "alpha");
    eng_up(n, 0);
    unsigned h1, h2;
    CHECK_INT(canto__mdns_publish(n->e[0], "alice", TYPE, 1, NULL, 0, n->now, &h1), 0);
    CHECK_INT(canto__mdns_publish(n->e[0], "alice", TYPE, 2, NULL, 0, n->now, &h2), 0);
    REQUIRE(run(n, 5000) == 0);
    CHECK_STR(canto__mdns_instance(n->e[0], h1), "alice");
    CHECK_STR(canto__mdns_instance(n->e[0], h2), "alice-2");
    CHECK_INT(n->npublished[0], 2);
    net_free(n);
    return 0;
}

int main(void)
{
    RUN(test_publish_browse_update_withdraw);
    RUN(test_own_service_and_goodbye_on_free);
    RUN(test_silent_death_expires);
    RUN(test_probe_timing);
    RUN(test_instance_conflict_sequential);
    RUN(test_instance_conflict_simultaneous);
    RUN(test_host_conflict);
    RUN(test_host_conflict_simultaneous);
    RUN(test_known_answer_suppression);
    RUN(test_unicast_and_legacy);
    RUN(test_cache_flush);
    RUN(test_resolve_missing);
    RUN(test_needs_txt_and_address);
    RUN(test_flood);
    RUN(test_malformed);
    RUN(test_api_errors);
    RUN(test_own_name_collision);
    return CHECK_DONE();
}
