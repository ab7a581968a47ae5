/* The connection plan: SRV lookups, then each target's addresses, then a
 * Happy Eyeballs race per target, under one overall deadline. A small state
 * machine; the work of each step starts from a zero-delay "step" timer so that
 * canto__connect_plan_new() and _next() never call back synchronously. */
#include "net/connect_plan.h"

#include <arpa/nameser.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <canto/error.h>
#include "loop/loop.h"

#define AREA "connect"
#define DEFAULT_PLAN_TIMEOUT_MS 30000

typedef enum plan_state {
    PLAN_SRV,    /* waiting for the SRV answers */
    PLAN_ADDRS,  /* resolving targets[cur] */
    PLAN_RACE,   /* connecting to targets[cur] */
    PLAN_HANDED, /* a connection was handed over; _next() may continue */
    PLAN_OVER,   /* the final failure was reported */
} plan_state;

typedef enum plan_step { STEP_NONE, STEP_SRV, STEP_TARGET, STEP_RESUME } plan_step;

/* What one SRV lookup said, copied out of the resolver's callback. */
typedef struct srv_answer {
    canto__dns_query *q;
    int done, err;
    canto__srv_record *recs;
    size_t n;
} srv_answer;

struct canto__connect_plan {
    canto__resolver *r;
    canto_loop *loop;
    canto__alloc alloc;
    canto__log log;
    char domain[CANTO__DNS_NAME_MAX];
    canto__connect_config cfg; /* cfg.host points to host below */
    char host[CANTO__DNS_NAME_MAX];
    plan_state state;
    plan_step step;
    canto__timer step_timer, deadline;
    srv_answer srv[2]; /* [0] _xmpps-client, [1] _xmpp-client */
    canto__connect_target *targets;
    size_t ntargets, cur;
    canto__dns_query *addrq;
    canto__eyeballs *race;
    int connect_err; /* of the last failed race; 0: none failed yet */
    int handed;      /* a connection was handed over before */
    int last_err;
    char reason[400];
    canto__connect_fn cb;
    void *ud;
};

static void next_target(canto__connect_plan *p);
static void on_step(void *ud);

static void set_reason(canto__connect_plan *p, int err, const char *fmt, const char *a,
                       const char *b)
{
    snprintf(p->reason, sizeof(p->reason), fmt, a, b);
    p->last_err = err;
    canto__logf(&p->log, CANTO_LOG_DEBUG, AREA, "%s", p->reason);
}

static void stop_work(canto__connect_plan *p)
{
    for (int i = 0; i < 2; i++) {
        canto__dns_query_cancel(p->srv[i].q);
        p->srv[i].q = NULL;
    }
    canto__dns_query_cancel(p->addrq);
    p->addrq = NULL;
    canto__eyeballs_free(p->race);
    p->race = NULL;
    canto__timer_stop(&p->step_timer);
    p->step = STEP_NONE;
}

/* Report the end of the plan. Must be the caller's last action: the callback
 * may free @p p. */
static void fail(canto__connect_plan *p, int err)
{
    stop_work(p);
    canto__timer_stop(&p->deadline);
    p->state = PLAN_OVER;
    canto__logf(&p->log, CANTO_LOG_ERROR, AREA, "cannot connect to %s: %s", p->domain, p->reason);
    p->cb(p->ud, err, NULL, p->reason);
}

static int schedule(canto__connect_plan *p, plan_step step)
{
    p->step = step;
    return canto__timer_start(p->loop, &p->step_timer, canto_loop_now(p->loop), on_step, p);
}

static void on_race(void *ud, int err, int fd, const struct sockaddr_storage *addr,
                    const char *reason)
{
    canto__connect_plan *p = ud;
    const canto__connect_target *t = &p->targets[p->cur];
    if (err == 0) {
        p->state = PLAN_HANDED;
        p->handed = 1;
        canto__timer_stop(&p->deadline);
        canto__connect_result res = {fd, t->host, t->port, t->direct_tls, *addr};
        canto__logf(&p->log, CANTO_LOG_INFO, AREA, "%s: connected to %s port %u (%s)", p->domain,
                    t->host, (unsigned)t->port, t->direct_tls ? "Direct TLS" : "STARTTLS");
        p->cb(p->ud, 0, &res, NULL);
        return;
    }
    p->connect_err = err;
    set_reason(p, err, "%s: %s", t->host, reason);
    canto__eyeballs_free(p->race); /* allowed from inside its callback */
    p->race = NULL;
    p->cur++;
    next_target(p);
}

static void on_addrs(void *ud, int err, const struct sockaddr_storage *addrs, size_t n)
{
    canto__connect_plan *p = ud;
    const canto__connect_target *t = &p->targets[p->cur];
    p->addrq = NULL;
    if (err) {
        set_reason(p, CANTO_EDNS, "cannot resolve %s: %s", t->host, canto_strerror(err));
        p->cur++;
        next_target(p);
        return;
    }
    p->state = PLAN_RACE;
    int rc = canto__eyeballs_new(p->loop, &p->log, addrs, n, t->port, p->cfg.attempt_delay_ms,
                                 p->cfg.attempt_timeout_ms, on_race, p, &p->race);
    if (rc != 0) {
        set_reason(p, rc, "%s: %s", t->host, canto_strerror(rc));
        fail(p, rc);
    }
}

/* Resolve targets[cur], or give up when there is none left. Runs only from
 * loop callbacks. */
static void next_target(canto__connect_plan *p)
{
    while (p->cur < p->ntargets) {
        const canto__connect_target *t = &p->targets[p->cur];
        canto__logf(&p->log, CANTO_LOG_DEBUG, AREA, "%s: trying %s port %u (%s)", p->domain,
                    t->host, (unsigned)t->port, t->direct_tls ? "Direct TLS" : "STARTTLS");
        p->state = PLAN_ADDRS;
        int rc = canto__resolver_addrs(p->r, t->host, 1, 1, on_addrs, p, &p->addrq);
        if (rc == 0)
            return;
        set_reason(p, CANTO_EDNS, "cannot resolve %s: %s", t->host, canto_strerror(rc));
        if (rc == CANTO_ENOMEM) {
            fail(p, rc);
            return;
        }
        p->cur++;
    }
    /* A connection refused somewhere says more than a name that did not
     * resolve elsewhere; DNS is the cause only if no address was ever tried. */
    if (!p->reason[0])
        set_reason(p, CANTO_ECONNECT, "%s: no further servers to try%s", p->domain, "");
    fail(p, p->connect_err ? p->connect_err : p->handed ? CANTO_ECONNECT : CANTO_EDNS);
}

static void log_targets(canto__connect_plan *p)
{
    if (!canto__log_enabled(&p->log, CANTO_LOG_DEBUG))
        return;
    for (size_t i = 0; i < p->ntargets; i++)
        canto__logf(&p->log, CANTO_LOG_DEBUG, AREA, "%s: target %zu: %s port %u (%s)", p->domain,
                    i + 1, p->targets[i].host, (unsigned)p->targets[i].port,
                    p->targets[i].direct_tls ? "Direct TLS" : "STARTTLS");
}

static void srv_finished(canto__connect_plan *p)
{
    const srv_answer *s = p->srv, *x = &p->srv[1];
    canto__rand_fn rnd = p->cfg.rnd ? p->cfg.rnd : canto__rand_gnutls;
    int rc = canto__connect_targets(&p->alloc, p->domain, s->err, s->recs, s->n, x->err, x->recs,
                                    x->n, rnd, p->cfg.rnd_ud, &p->targets, &p->ntargets);
    for (int i = 0; i < 2; i++) {
        canto__dealloc(&p->alloc, p->srv[i].recs);
        p->srv[i].recs = NULL;
    }
    if (rc == CANTO_ECONNECT) {
        set_reason(p, rc, "%s offers no XMPP client service (SRV target \".\")%s", p->domain, "");
        fail(p, rc);
        return;
    }
    if (rc != 0) {
        set_reason(p, rc, "%s: %s", p->domain, canto_strerror(rc));
        fail(p, rc);
        return;
    }
    if (s->err && x->err)
        canto__logf(&p->log, CANTO_LOG_DEBUG, AREA,
                    "%s: no SRV records (%s), falling back to %s port %u", p->domain,
                    canto_strerror(x->err), p->domain, (unsigned)CANTO__XMPP_CLIENT_PORT);
    log_targets(p);
    p->cur = 0;
    next_target(p);
}

static void on_srv(canto__connect_plan *p, int i, int err, const canto__srv_record *recs, size_t n)
{
    srv_answer *s = &p->srv[i];
    s->q = NULL;
    s->done = 1;
    s->err = err;
    if (err == 0) {
        s->recs = canto__calloc(&p->alloc, n, sizeof(*recs));
        if (!s->recs) {
            set_reason(p, CANTO_ENOMEM, "%s: %s", p->domain, canto_strerror(CANTO_ENOMEM));
            fail(p, CANTO_ENOMEM);
            return;
        }
        memcpy(s->recs, recs, n * sizeof(*recs));
        s->n = n;
    }
    if (p->srv[0].done && p->srv[1].done)
        srv_finished(p);
}

static void on_srv_xmpps(void *ud, int err, const canto__srv_record *recs, size_t n)
{
    on_srv(ud, 0, err, recs, n);
}

static void on_srv_xmpp(void *ud, int err, const canto__srv_record *recs, size_t n)
{
    on_srv(ud, 1, err, recs, n);
}

static void start_srv(canto__connect_plan *p)
{
    static const char *const prefix[2] = {"_xmpps-client._tcp.", "_xmpp-client._tcp."};
    static const canto__srv_fn fns[2] = {on_srv_xmpps, on_srv_xmpp};
    p->state = PLAN_SRV;
    for (int i = 0; i < 2; i++) {
        char name[CANTO__DNS_NAME_MAX + 32];
        snprintf(name, sizeof(name), "%s%s", prefix[i], p->domain);
        int rc = canto__resolver_srv(p->r, name, fns[i], p, &p->srv[i].q);
        if (rc != 0) {
            /* Too long a name, say: the lookup counts as having found nothing. */
            p->srv[i].done = 1;
            p->srv[i].err = rc;
        }
    }
    if (p->srv[0].done && p->srv[1].done)
        srv_finished(p);
}

static void on_step(void *ud)
{
    canto__connect_plan *p = ud;
    plan_step step = p->step;
    p->step = STEP_NONE;
    switch (step) {
    case STEP_SRV:
        start_srv(p);
        return;
    case STEP_TARGET:
        next_target(p);
        return;
    case STEP_RESUME:
        p->state = PLAN_RACE;
        if (canto__eyeballs_resume(p->race) == 0)
            return;
        canto__eyeballs_free(p->race);
        p->race = NULL;
        p->cur++;
        next_target(p);
        return;
    case STEP_NONE:
        return;
    }
}

static void on_deadline(void *ud)
{
    canto__connect_plan *p = ud;
    char limit[32];
    snprintf(limit, sizeof(limit), "%u ms", p->cfg.plan_timeout_ms);
    if (p->last_err)
        snprintf(p->reason + strlen(p->reason), sizeof(p->reason) - strlen(p->reason),
                 " (then no connection within %s)", limit);
    else
        set_reason(p, CANTO_ETIMEDOUT, "no connection within %s%s", limit, "");
    fail(p, CANTO_ETIMEDOUT);
}

static int arm_deadline(canto__connect_plan *p)
{
    return canto__timer_start(p->loop, &p->deadline,
                              canto_loop_now(p->loop) + p->cfg.plan_timeout_ms, on_deadline, p);
}

static int copy_name(char *dst, const char *src)
{
    size_t len = src ? strlen(src) : 0;
    if (len == 0 || len >= CANTO__DNS_NAME_MAX)
        return CANTO_EINVAL;
    memcpy(dst, src, len + 1);
    return 0;
}

int canto__connect_plan_new(canto__resolver *r, const char *domain,
                            const canto__connect_config *cfg, canto__connect_fn cb, void *ud,
                            canto__connect_plan **out)
{
    static const canto__connect_config defaults = CANTO__CONNECT_CONFIG_INIT;
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!r || !cb)
        return CANTO_EINVAL;
    if (!cfg)
        cfg = &defaults;
    canto_loop *loop = canto__resolver_loop(r);
    const canto__alloc *a = canto__loop_alloc(loop);
    canto__connect_plan *p = canto__calloc(a, 1, sizeof(*p));
    if (!p)
        return CANTO_ENOMEM;
    p->r = r;
    p->loop = loop;
    p->alloc = *a;
    p->log = *(cfg->log ? cfg->log : canto__resolver_log(r));
    p->cfg = *cfg;
    p->cfg.log = NULL;
    p->cb = cb;
    p->ud = ud;
    if (!p->cfg.plan_timeout_ms)
        p->cfg.plan_timeout_ms = DEFAULT_PLAN_TIMEOUT_MS;
    int rc = copy_name(p->domain, domain);
    if (rc == 0 && cfg->host) {
        rc = copy_name(p->host, cfg->host);
        p->cfg.host = p->host;
    }
    if (rc == 0 && cfg->host) {
        /* An explicit server is the whole target list. */
        p->targets = canto__calloc(a, 1, sizeof(*p->targets));
        rc = p->targets ? 0 : CANTO_ENOMEM;
        if (rc == 0) {
            memcpy(p->targets[0].host, p->host, strlen(p->host) + 1);
            p->targets[0].port =
                cfg->port ? cfg->port
                          : (cfg->direct_tls ? CANTO__XMPPS_CLIENT_PORT : CANTO__XMPP_CLIENT_PORT);
            p->targets[0].direct_tls = cfg->direct_tls != 0;
            p->ntargets = 1;
        }
    }
    if (rc == 0)
        rc = schedule(p, cfg->host ? STEP_TARGET : STEP_SRV);
    if (rc == 0)
        rc = arm_deadline(p);
    if (rc != 0) {
        canto__connect_plan_free(p);
        return rc;
    }
    canto__logf(&p->log, CANTO_LOG_DEBUG, AREA, "%s: connecting%s%s", p->domain,
                cfg->host ? " via " : " (SRV)", cfg->host ? p->host : "");
    *out = p;
    return 0;
}

int canto__connect_plan_next(canto__connect_plan *p, int skip_target)
{
    if (!p || p->state != PLAN_HANDED)
        return CANTO_ESTATE;
    plan_step step = STEP_RESUME;
    if (skip_target || !p->race) {
        canto__eyeballs_free(p->race);
        p->race = NULL;
        p->cur++;
        step = STEP_TARGET;
    }
    p->state = PLAN_ADDRS;
    p->last_err = 0;
    p->reason[0] = '\0';
    int rc = schedule(p, step);
    if (rc == 0)
        rc = arm_deadline(p);
    if (rc != 0) {
        canto__timer_stop(&p->step_timer);
        p->state = PLAN_OVER;
        return rc;
    }
    canto__logf(&p->log, CANTO_LOG_DEBUG, AREA, "%s: trying further%s", p->domain,
                skip_target ? " (next target)" : "");
    return 0;
}

void canto__connect_plan_free(canto__connect_plan *p)
{
    if (!p)
        return;
    canto__alloc a = p->alloc;
    stop_work(p);
    canto__timer_stop(&p->deadline);
    for (int i = 0; i < 2; i++)
        canto__dealloc(&a, p->srv[i].recs);
    canto__dealloc(&a, p->targets);
    canto__dealloc(&a, p);
}

size_t canto__connect_plan_targets(const canto__connect_plan *p, const canto__connect_target **out)
{
    *out = p && p->state != PLAN_SRV ? p->targets : NULL;
    return *out ? p->ntargets : 0;
}
