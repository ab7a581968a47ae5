/* The resolver object and its query handles: configuration, the answers that
 * need no DNS (IP literals, the hosts file, localhost), and delivery.
 *
 * Every result is delivered from a zero-delay loop timer, never from inside the
 * call that started the query nor from inside a socket callback, so callers
 * always get their handle before the callback and callbacks may do anything
 * (cancel, start queries, free the resolver) without pulling state from under
 * the transport. */
#include "net/resolver_impl.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <string.h>

#include <canto/error.h>

#define AREA "dns"
#define DEFAULT_RESOLV_CONF "/etc/resolv.conf"
#define DEFAULT_HOSTS "/etc/hosts"
#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_ROUNDS 2
/* Config files bigger than this are not ours to parse. */
#define FILE_MAX (1024 * 1024)
/* Addresses taken from the hosts file for one name. */
#define HOSTS_MAX 16

static int parse_nameservers(canto__resolver *r, const char *spec)
{
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        const char *s = p;
        while (*p && *p != ' ' && *p != ',' && *p != '\t')
            p++;
        if (p == s)
            break;
        if (r->nns == CANTO__DNS_MAX_NS ||
            canto__dns_parse_nameserver(s, (size_t)(p - s), &r->ns[r->nns]) != 0)
            return CANTO_EINVAL;
        r->nns++;
    }
    return r->nns ? 0 : CANTO_EINVAL;
}

static void read_resolv_conf(canto__resolver *r, const char *path)
{
    char *text;
    size_t len;
    int rc = canto__dns_read_file(&r->alloc, path, FILE_MAX, &text, &len);
    if (rc == 0) {
        r->nns = canto__resolv_conf_parse(text, len, r->ns, CANTO__DNS_MAX_NS);
        canto__dealloc(&r->alloc, text);
    } else {
        canto__logf(&r->log, CANTO_LOG_DEBUG, AREA, "cannot read %s: %s", path, canto_strerror(rc));
    }
    if (r->nns == 0) {
        /* What the C library does without nameserver lines: ask this host. */
        canto__dns_parse_nameserver("127.0.0.1", 9, &r->ns[0]);
        r->nns = 1;
    }
}

int canto__resolver_new(canto_loop *loop, const canto__resolver_config *cfg, canto__resolver **out)
{
    static const canto__resolver_config defaults = CANTO__RESOLVER_CONFIG_INIT;
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!loop)
        return CANTO_EINVAL;
    if (!cfg)
        cfg = &defaults;
    const canto__alloc *a = canto__loop_alloc(loop);
    canto__resolver *r = canto__calloc(a, 1, sizeof(*r));
    if (!r)
        return CANTO_ENOMEM;
    r->loop = loop;
    r->alloc = *a;
    const canto__log *log = cfg->log ? cfg->log : canto__loop_log(loop);
    if (log)
        r->log = *log;
    r->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    r->rounds = cfg->rounds ? cfg->rounds : DEFAULT_ROUNDS;
    const char *hosts = cfg->hosts ? cfg->hosts : DEFAULT_HOSTS;
    if (*hosts && !(r->hosts = canto__strndup(a, hosts, strlen(hosts)))) {
        canto__dealloc(a, r);
        return CANTO_ENOMEM;
    }
    if (cfg->nameservers && *cfg->nameservers) {
        if (parse_nameservers(r, cfg->nameservers) != 0) {
            canto__dealloc(a, r->hosts);
            canto__dealloc(a, r);
            return CANTO_EINVAL;
        }
    } else {
        read_resolv_conf(r, cfg->resolv_conf ? cfg->resolv_conf : DEFAULT_RESOLV_CONF);
    }
    if (canto__log_enabled(&r->log, CANTO_LOG_DEBUG)) {
        for (size_t i = 0; i < r->nns; i++) {
            char ns[64];
            canto__sockaddr_format(&r->ns[i], ns, sizeof(ns));
            canto__logf(&r->log, CANTO_LOG_DEBUG, AREA, "nameserver %s", ns);
        }
    }
    *out = r;
    return 0;
}

canto_loop *canto__resolver_loop(const canto__resolver *r)
{
    return r->loop;
}

const canto__log *canto__resolver_log(const canto__resolver *r)
{
    return &r->log;
}

static void destroy_resolver(canto__resolver *r)
{
    canto__alloc a = r->alloc;
    canto__dealloc(&a, r->hosts);
    canto__dealloc(&a, r);
}

static void destroy_query(canto__dns_query *q)
{
    canto__resolver *r = q->r;
    for (size_t i = 0; i < q->nlk; i++)
        canto__dns_lookup_stop(&q->lk[i]);
    canto__timer_stop(&q->deliver);
    if (q->prev)
        q->prev->next = q->next;
    else
        r->queries = q->next;
    if (q->next)
        q->next->prev = q->prev;
    canto__dealloc(&r->alloc, q->local);
    canto__dealloc(&r->alloc, q);
}

void canto__resolver_free(canto__resolver *r)
{
    if (!r)
        return;
    canto__dns_query *q = r->queries;
    while (q) {
        canto__dns_query *next = q->next;
        /* The one whose callback is running is destroyed when it returns. */
        if (!q->delivering)
            destroy_query(q);
        q = next;
    }
    if (r->busy)
        r->freed = 1;
    else
        destroy_resolver(r);
}

void canto__dns_query_cancel(canto__dns_query *q)
{
    if (q && !q->delivering)
        destroy_query(q);
}

/* The error of an address lookup none of whose questions found anything: the
 * most telling one (a failure says more than "no such records"). */
static int combined_error(const canto__dns_query *q)
{
    int err = CANTO_ENOTFOUND;
    for (size_t i = 0; i < q->nlk; i++) {
        int e = q->lk[i].err;
        if (e == CANTO_ENOMEM || (e == CANTO_EDNS && err != CANTO_ENOMEM) ||
            (e == CANTO_ETIMEDOUT && err == CANTO_ENOTFOUND))
            err = e;
    }
    return err;
}

static void deliver_addrs(canto__dns_query *q)
{
    canto__resolver *r = q->r;
    struct sockaddr_storage *list = q->local;
    size_t n = q->nlocal;
    int err = n ? 0 : CANTO_ENOTFOUND;
    int merged = 0;
    if (q->nlk) {
        n = 0;
        for (size_t i = 0; i < q->nlk; i++)
            n += q->lk[i].err == 0 ? q->lk[i].ans.count : 0;
        list = n ? canto__calloc(&r->alloc, n, sizeof(*list)) : NULL;
        err = n ? (list ? 0 : CANTO_ENOMEM) : combined_error(q);
        if (!list)
            n = 0;
        merged = list != NULL;
        size_t at = 0;
        for (size_t i = 0; list && i < q->nlk; i++) {
            if (q->lk[i].err != 0)
                continue;
            memcpy(list + at, q->lk[i].ans.addrs, q->lk[i].ans.count * sizeof(*list));
            at += q->lk[i].ans.count;
        }
    }
    canto__logf(&r->log, CANTO_LOG_DEBUG, AREA, "addresses of %s: %zu (%s)", q->name, n,
                canto_strerror(err));
    q->addrs_cb(q->ud, err, n ? list : NULL, n);
    if (merged)
        canto__dealloc(&r->alloc, list);
}

static void on_deliver(void *ud)
{
    canto__dns_query *q = ud;
    canto__resolver *r = q->r;
    q->delivering = 1;
    r->busy++;
    if (q->is_srv) {
        const canto__dns_lookup *l = &q->lk[0];
        q->srv_cb(q->ud, l->err, l->err ? NULL : l->ans.srv, l->err ? 0 : l->ans.count);
    } else {
        deliver_addrs(q);
    }
    r->busy--;
    destroy_query(q);
    if (r->freed && !r->busy)
        destroy_resolver(r);
}

static int arm_delivery(canto__dns_query *q)
{
    canto_loop *loop = q->r->loop;
    return canto__timer_start(loop, &q->deliver, canto_loop_now(loop), on_deliver, q);
}

void canto__dns_query_lookup_done(canto__dns_query *q)
{
    if (q->pending && --q->pending == 0 && arm_delivery(q) != 0)
        canto__logf(&q->r->log, CANTO_LOG_ERROR, AREA, "%s: cannot schedule the result", q->name);
}

static int valid_name(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    /* 253 characters plus an optional final dot; no empty labels. */
    if (len == 0 || len > 254 || (len == 254 && name[253] != '.') || name[0] == '.')
        return 0;
    return strstr(name, "..") == NULL;
}

static canto__dns_query *new_query(canto__resolver *r, const char *name)
{
    canto__dns_query *q = canto__calloc(&r->alloc, 1, sizeof(*q));
    if (!q)
        return NULL;
    q->r = r;
    memcpy(q->name, name, strlen(name) + 1);
    for (size_t i = 0; i < 2; i++) {
        q->lk[i].q = q;
        q->lk[i].fd = -1;
    }
    q->next = r->queries;
    if (q->next)
        q->next->prev = q;
    r->queries = q;
    return q;
}

/* Starts the lookups of @p q, or schedules delivery if there are none. */
static int launch(canto__dns_query *q, canto__dns_query **out)
{
    if (q->nlk) {
        /* One extra count held during the starts, so lookups that finish at
         * once (no usable nameserver) cannot schedule delivery twice. */
        q->pending = q->nlk + 1;
        for (size_t i = 0; i < q->nlk; i++)
            canto__dns_lookup_start(&q->lk[i]);
        q->pending--;
    }
    if (q->pending == 0 && arm_delivery(q) != 0) {
        destroy_query(q);
        return CANTO_ENOMEM;
    }
    if (out)
        *out = q;
    return 0;
}

int canto__resolver_srv(canto__resolver *r, const char *name, canto__srv_fn cb, void *ud,
                        canto__dns_query **out)
{
    if (out)
        *out = NULL;
    if (!r || !cb || !valid_name(name))
        return CANTO_EINVAL;
    canto__dns_query *q = new_query(r, name);
    if (!q)
        return CANTO_ENOMEM;
    q->is_srv = 1;
    q->srv_cb = cb;
    q->ud = ud;
    q->lk[0].type = ns_t_srv;
    q->nlk = 1;
    canto__logf(&r->log, CANTO_LOG_DEBUG, AREA, "SRV %s: asking", name);
    return launch(q, out);
}

/* "localhost" or a name under it (RFC 6761 §6.3). */
static int is_localhost(const char *name)
{
    static const char word[] = "localhost";
    const size_t wl = sizeof(word) - 1;
    size_t len = strlen(name);
    if (len && name[len - 1] == '.')
        len--;
    if (len < wl || (len > wl && name[len - wl - 1] != '.'))
        return 0;
    for (size_t i = 0; i < wl; i++) {
        char c = name[len - wl + i];
        if ((c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c) != word[i])
            return 0;
    }
    return 1;
}

static void loopback(struct sockaddr_storage *ss, int family)
{
    memset(ss, 0, sizeof(*ss));
    ss->ss_family = (sa_family_t)family;
    if (family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else
        ((struct sockaddr_in6 *)ss)->sin6_addr = in6addr_loopback;
}

/* Answers that need no DNS. @return how many addresses were found (>= 0), or
 * CANTO_ENOMEM; a literal of an unwanted family counts as found, with 0. */
static int local_answer(canto__dns_query *q, int want_v4, int want_v6, int *is_literal)
{
    canto__resolver *r = q->r;
    struct sockaddr_storage found[HOSTS_MAX];
    size_t n = 0;
    *is_literal = 0;
    if (canto__dns_ip_literal(q->name, &found[0])) {
        *is_literal = 1;
        int fam = found[0].ss_family;
        n = (fam == AF_INET && want_v4) || (fam == AF_INET6 && want_v6);
    } else {
        char *text = NULL;
        size_t len = 0;
        int rc = r->hosts ? canto__dns_read_file(&r->alloc, r->hosts, FILE_MAX, &text, &len)
                          : CANTO_ENOTFOUND;
        if (rc == 0) {
            /* Listed order within a family, IPv6 first like the DNS results. */
            if (want_v6)
                n = canto__hosts_lookup(text, len, q->name, 0, 1, found, HOSTS_MAX);
            if (want_v4)
                n += canto__hosts_lookup(text, len, q->name, 1, 0, found + n, HOSTS_MAX - n);
            canto__dealloc(&r->alloc, text);
        } else if (rc != CANTO_ENOTFOUND) {
            canto__logf(&r->log, CANTO_LOG_WARN, AREA, "cannot read %s: %s", r->hosts,
                        canto_strerror(rc));
        }
        /* RFC 6761 §6.3: localhost names never leave the host. */
        if (n == 0 && is_localhost(q->name)) {
            if (want_v6)
                loopback(&found[n++], AF_INET6);
            if (want_v4)
                loopback(&found[n++], AF_INET);
        }
    }
    if (n == 0)
        return 0;
    q->local = canto__calloc(&r->alloc, n, sizeof(*q->local));
    if (!q->local)
        return CANTO_ENOMEM;
    memcpy(q->local, found, n * sizeof(*found));
    q->nlocal = n;
    return (int)n;
}

int canto__resolver_addrs(canto__resolver *r, const char *host, int want_v4, int want_v6,
                          canto__addrs_fn cb, void *ud, canto__dns_query **out)
{
    if (out)
        *out = NULL;
    if (!r || !cb || (!want_v4 && !want_v6))
        return CANTO_EINVAL;
    struct sockaddr_storage lit;
    if (!valid_name(host) && !(host && canto__dns_ip_literal(host, &lit)))
        return CANTO_EINVAL;
    canto__dns_query *q = new_query(r, host);
    if (!q)
        return CANTO_ENOMEM;
    q->addrs_cb = cb;
    q->ud = ud;
    int is_literal;
    int n = local_answer(q, want_v4, want_v6, &is_literal);
    if (n < 0) {
        destroy_query(q);
        return n;
    }
    if (n > 0 || is_literal) {
        canto__logf(&r->log, CANTO_LOG_DEBUG, AREA, "%s: %d address(es) without DNS", host, n);
        return launch(q, out);
    }
    if (want_v6)
        q->lk[q->nlk++].type = ns_t_aaaa;
    if (want_v4)
        q->lk[q->nlk++].type = ns_t_a;
    canto__logf(&r->log, CANTO_LOG_DEBUG, AREA, "%s: asking for %s%s%s", host,
                want_v6 ? "AAAA" : "", want_v4 && want_v6 ? " and " : "", want_v4 ? "A" : "");
    return launch(q, out);
}
