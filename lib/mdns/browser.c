/* DNS-SD browser (RFC 6763): continuous PTR queries with known answers
 * (RFC 6762 §5.2, §7.1), resolution of each instance PTR -> SRV + TXT ->
 * A/AAAA, and the service events. */
#include "mdns/engine_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <canto/error.h>

#define QUERY_MAX_INTERVAL 3600000u /* §5.2: 60 minutes */
#define RESOLVE_MAX_INTERVAL 60000u

void mdns_inst_mark(canto__mdns *m, mdns_inst *in)
{
    in->dirty = 1;
    m->dirty_any = 1;
}

mdns_inst *mdns_inst_find(const canto__mdns *m, const char *name)
{
    for (mdns_inst *in = m->ibuckets[mdns_hash(name) % MDNS_CACHE_BUCKETS]; in; in = in->hnext)
        if (canto__mdns_name_eq(in->name, name))
            return in;
    return NULL;
}

mdns_inst *mdns_inst_get(canto__mdns *m, mdns_btype *bt, const char *name)
{
    mdns_inst *in = mdns_inst_find(m, name);
    if (in)
        return in->bt == bt ? in : NULL;
    char label[CANTO__MDNS_NAME_MAX];
    int n = mdns_first_label(name, label, sizeof(label));
    if (n <= 0 || name[n] != '.' || !canto__mdns_name_eq(name + n + 1, bt->qname))
        return NULL;
    /* Instances live only while a cached PTR points at them, so the cache
     * bound is theirs too; the slack covers one packet's worth before the
     * next evaluation frees the orphans. */
    if (m->ninsts >= CANTO__MDNS_MAX_CACHE + 2 * CANTO__MDNS_MAX_RECORDS)
        return NULL;
    in = canto__calloc(&m->alloc, 1, sizeof(*in));
    if (!in)
        return NULL;
    in->name = mdns_strdup(m, name);
    in->label = mdns_strdup(m, label);
    if (!in->name || !in->label) {
        canto__dealloc(&m->alloc, in->name);
        canto__dealloc(&m->alloc, in->label);
        canto__dealloc(&m->alloc, in);
        return NULL;
    }
    in->bt = bt;
    in->resolve_next = MDNS_NEVER;
    mdns_inst_mark(m, in);
    unsigned b = mdns_hash(name) % MDNS_CACHE_BUCKETS;
    in->hnext = m->ibuckets[b];
    m->ibuckets[b] = in;
    in->next = m->insts;
    m->insts = in;
    m->ninsts++;
    return in;
}

static void inst_free(canto__mdns *m, mdns_inst *in)
{
    canto__dealloc(&m->alloc, in->name);
    canto__dealloc(&m->alloc, in->label);
    canto__dealloc(&m->alloc, in->host);
    canto__dealloc(&m->alloc, in->txt);
    canto__dealloc(&m->alloc, in);
}

static void inst_unlink(canto__mdns *m, mdns_inst *in)
{
    mdns_inst **pp = &m->ibuckets[mdns_hash(in->name) % MDNS_CACHE_BUCKETS];
    while (*pp && *pp != in)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = in->hnext;
    for (pp = &m->insts; *pp && *pp != in; pp = &(*pp)->next)
        ;
    if (*pp)
        *pp = in->next;
    m->ninsts--;
}

/* The freshest record of a set, ignoring ones being flushed away. */
static mdns_centry *newest(const canto__mdns *m, const char *name, uint16_t type)
{
    mdns_centry *best = NULL;
    for (mdns_centry *e = mdns_cache_find(m, name, type, NULL); e;
         e = mdns_cache_find(m, name, type, e))
        if (!e->flushed && (!best || e->seen > best->seen))
            best = e;
    return best;
}

static int addr_cmp(const void *pa, const void *pb)
{
    const canto__mdns_addr *a = pa, *b = pb;
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    int c = memcmp(a->addr, b->addr, 16);
    if (c)
        return c;
    return a->ifindex < b->ifindex ? -1 : a->ifindex > b->ifindex;
}

static int addrs_eq(const canto__mdns_addr *a, size_t na, const canto__mdns_addr *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (addr_cmp(&a[i], &b[i]) != 0)
            return 0;
    return 1;
}

static size_t collect_addrs(const canto__mdns *m, const char *host, canto__mdns_addr *out)
{
    size_t n = 0;
    static const uint16_t types[2] = {CANTO__MDNS_T_A, CANTO__MDNS_T_AAAA};
    for (int t = 0; t < 2; t++)
        for (mdns_centry *e = mdns_cache_find(m, host, types[t], NULL); e;
             e = mdns_cache_find(m, host, types[t], e)) {
            if (e->flushed)
                continue;
            canto__mdns_addr a;
            memset(&a, 0, sizeof(a));
            a.family = types[t] == CANTO__MDNS_T_A ? AF_INET : AF_INET6;
            memcpy(a.addr, e->data, e->len);
            a.ifindex = e->ifindex;
            int dup = 0;
            for (size_t i = 0; i < n; i++)
                dup |= addr_cmp(&out[i], &a) == 0;
            if (!dup && n < MDNS_MAX_SVC_ADDRS)
                memcpy(&out[n++], &a, sizeof(a));
        }
    qsort(out, n, sizeof(*out), addr_cmp);
    return n;
}

int mdns_addr_wanted(canto__mdns *m, const char *host)
{
    for (mdns_inst *in = m->insts; in; in = in->next)
        for (mdns_centry *e = mdns_cache_find(m, in->name, CANTO__MDNS_T_SRV, NULL); e;
             e = mdns_cache_find(m, in->name, CANTO__MDNS_T_SRV, e))
            if (canto__mdns_name_eq(e->target, host))
                return 1;
    return 0;
}

void mdns_mark_addr_users(canto__mdns *m, const char *host)
{
    for (mdns_inst *in = m->insts; in; in = in->next) {
        if (in->dirty)
            continue;
        for (mdns_centry *e = mdns_cache_find(m, in->name, CANTO__MDNS_T_SRV, NULL); e;
             e = mdns_cache_find(m, in->name, CANTO__MDNS_T_SRV, e))
            if (canto__mdns_name_eq(e->target, host)) {
                mdns_inst_mark(m, in);
                break;
            }
    }
}

static mdns_btype *btype_by_qname(const canto__mdns *m, const char *qname)
{
    for (mdns_btype *bt = m->btypes; bt; bt = bt->next)
        if (canto__mdns_name_eq(bt->qname, qname))
            return bt;
    return NULL;
}

void mdns_browse_response(canto__mdns *m, int ii)
{
    if (!m->btypes)
        return;
    unsigned ifindex = m->ifs[ii].ifindex;
    const canto__mdns_msg *msg = &m->msg;
    /* PTR first, then what they point at, then addresses: a record counts
     * only when something we browse leads to it, whatever its place in the
     * packet. */
    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < msg->nrr; i++) {
            const canto__mdns_rr *rr = &msg->rr[i];
            if ((rr->section != CANTO__MDNS_AN && rr->section != CANTO__MDNS_AR) ||
                rr->rclass != CANTO__MDNS_CLASS_IN)
                continue;
            if (pass == 0 && rr->type == CANTO__MDNS_T_PTR) {
                mdns_btype *bt = btype_by_qname(m, rr->name);
                if (!bt)
                    continue;
                mdns_inst *in =
                    rr->ttl ? mdns_inst_get(m, bt, rr->u.target) : mdns_inst_find(m, rr->u.target);
                if (in)
                    mdns_cache_put(m, ifindex, rr, in);
            } else if (pass == 1 &&
                       (rr->type == CANTO__MDNS_T_SRV || rr->type == CANTO__MDNS_T_TXT)) {
                if (mdns_inst_find(m, rr->name))
                    mdns_cache_put(m, ifindex, rr, NULL);
            } else if (pass == 2 &&
                       (rr->type == CANTO__MDNS_T_A || rr->type == CANTO__MDNS_T_AAAA)) {
                if (mdns_addr_wanted(m, rr->name))
                    mdns_cache_put(m, ifindex, rr, NULL);
            }
        }
}

static void snapshot_free(canto__mdns *m, mdns_inst *in)
{
    canto__dealloc(&m->alloc, in->host);
    canto__dealloc(&m->alloc, in->txt);
    in->host = NULL;
    in->txt = NULL;
    in->txt_len = 0;
    in->naddrs = 0;
}

static void report(canto__mdns *m, mdns_inst *in, canto__mdns_svc_event ev)
{
    if (!m->ev.service)
        return;
    canto__mdns_service svc = {
        .instance = in->label,
        .type = in->bt->type,
        .host = in->host ? in->host : "",
        .port = in->port,
        .txt = in->txt,
        .txt_len = in->txt_len,
        .addrs = in->addrs,
        .naddrs = in->naddrs,
    };
    m->ev.service(m->ud, ev, &svc);
}

static void evaluate(canto__mdns *m, mdns_inst *in)
{
    mdns_centry *srv = newest(m, in->name, CANTO__MDNS_T_SRV);
    mdns_centry *txt = newest(m, in->name, CANTO__MDNS_T_TXT);
    canto__mdns_addr addrs[MDNS_MAX_SVC_ADDRS];
    size_t naddrs = srv ? collect_addrs(m, srv->target, addrs) : 0;
    int complete = in->nptr > 0 && srv && txt && naddrs > 0;
    if (!complete) {
        if (in->reported) {
            in->reported = 0;
            report(m, in, CANTO__MDNS_SVC_GONE);
            snapshot_free(m, in);
        }
        if (in->nptr > 0 && in->resolve_next == MDNS_NEVER) {
            /* the rest often follows in the next packet: give it a moment */
            in->resolve_ival = 1000;
            in->resolve_next = m->now + mdns_rand(m, 20, 120);
        }
        return;
    }
    in->resolve_next = MDNS_NEVER;
    int changed = !in->reported || in->port != srv->port || !in->host ||
                  !canto__mdns_name_eq(in->host, srv->target) || in->txt_len != txt->len ||
                  (txt->len && memcmp(in->txt, txt->data, txt->len) != 0) ||
                  !addrs_eq(in->addrs, in->naddrs, addrs, naddrs);
    if (!changed)
        return;
    char *host = mdns_strdup(m, srv->target);
    uint8_t *t = canto__malloc(&m->alloc, txt->len ? txt->len : 1);
    if (!host || !t) {
        canto__dealloc(&m->alloc, host);
        canto__dealloc(&m->alloc, t);
        return;
    }
    memcpy(t, txt->data, txt->len);
    snapshot_free(m, in);
    in->host = host;
    in->txt = t;
    in->txt_len = txt->len;
    in->port = srv->port;
    memcpy(in->addrs, addrs, naddrs * sizeof(*addrs));
    in->naddrs = naddrs;
    int was = in->reported;
    in->reported = 1;
    report(m, in, was ? CANTO__MDNS_SVC_CHANGED : CANTO__MDNS_SVC_APPEARED);
}

int mdns_browse_pending(const canto__mdns *m)
{
    return m->dirty_any;
}

void mdns_browse_evaluate(canto__mdns *m)
{
    m->dirty_any = 0;
    for (mdns_inst *in = m->insts, *next; in; in = next) {
        next = in->next;
        if (!in->dirty)
            continue;
        in->dirty = 0;
        evaluate(m, in);
        if (in->nptr == 0) {
            inst_unlink(m, in);
            inst_free(m, in);
        }
    }
}

static void add_question(canto__mdns *m, const char *name, uint16_t type)
{
    memset(&m->rr, 0, sizeof(m->rr));
    m->rr.section = CANTO__MDNS_QD;
    snprintf(m->rr.name, sizeof(m->rr.name), "%s", name);
    m->rr.type = type;
    m->rr.rclass = CANTO__MDNS_CLASS_IN;
    mdns_out_add(m, &m->rr);
}

static void send_browse(canto__mdns *m, mdns_btype *bt, int ii)
{
    uint64_t now = m->now;
    mdns_out_begin(m, ii, NULL, 0, 0, 1);
    add_question(m, bt->qname, CANTO__MDNS_T_PTR);
    /* §7.1: what we know with more than half its TTL left, so that those
     * who have nothing new stay quiet */
    for (mdns_centry *e = m->oldest; e; e = e->next) {
        if (e->type != CANTO__MDNS_T_PTR || !e->owner || e->owner->bt != bt ||
            e->ifindex != m->ifs[ii].ifindex || e->goodbye || e->flushed)
            continue;
        uint64_t left = e->expire > now ? e->expire - now : 0;
        if (left * 2 < (uint64_t)e->ttl * 1000)
            continue;
        mdns_cache_entry_rr(e, &m->rr);
        m->rr.section = CANTO__MDNS_AN;
        m->rr.ttl = (uint32_t)(left / 1000);
        mdns_out_add(m, &m->rr);
    }
    mdns_out_end(m);
}

void mdns_browse_timeout(canto__mdns *m)
{
    uint64_t now = m->now;
    for (mdns_btype *bt = m->btypes; bt; bt = bt->next) {
        if (bt->next_query > now)
            continue;
        for (size_t ii = 0; ii < m->nifs; ii++)
            send_browse(m, bt, (int)ii);
        bt->next_query = now + bt->interval;
        bt->interval =
            bt->interval * 2 > QUERY_MAX_INTERVAL ? QUERY_MAX_INTERVAL : bt->interval * 2;
    }
    int due = 0;
    for (mdns_inst *in = m->insts; in; in = in->next)
        due |= in->resolve_next <= now;
    if (!due)
        return;
    /* Resolution: ask for whatever of an instance is still missing. */
    for (size_t ii = 0; ii < m->nifs; ii++) {
        mdns_out_begin(m, (int)ii, NULL, 0, 0, 1);
        for (mdns_inst *in = m->insts; in; in = in->next) {
            if (in->resolve_next > now || in->nptr == 0)
                continue;
            mdns_centry *srv = newest(m, in->name, CANTO__MDNS_T_SRV);
            if (!srv)
                add_question(m, in->name, CANTO__MDNS_T_SRV);
            if (!newest(m, in->name, CANTO__MDNS_T_TXT))
                add_question(m, in->name, CANTO__MDNS_T_TXT);
            if (srv) {
                canto__mdns_addr addrs[MDNS_MAX_SVC_ADDRS];
                if (collect_addrs(m, srv->target, addrs) == 0) {
                    add_question(m, srv->target, CANTO__MDNS_T_A);
                    add_question(m, srv->target, CANTO__MDNS_T_AAAA);
                }
            }
        }
        mdns_out_end(m);
    }
    for (mdns_inst *in = m->insts; in; in = in->next) {
        if (in->resolve_next > now)
            continue;
        in->resolve_next = now + in->resolve_ival;
        in->resolve_ival = in->resolve_ival * 2 > RESOLVE_MAX_INTERVAL ? RESOLVE_MAX_INTERVAL
                                                                       : in->resolve_ival * 2;
    }
}

uint64_t mdns_browse_deadline(const canto__mdns *m)
{
    uint64_t d = MDNS_NEVER;
    if (m->nifs == 0)
        return d;
    for (const mdns_btype *bt = m->btypes; bt; bt = bt->next)
        if (bt->next_query < d)
            d = bt->next_query;
    for (const mdns_inst *in = m->insts; in; in = in->next)
        if (in->resolve_next < d)
            d = in->resolve_next;
    return d;
}

void mdns_browse_ifaces_changed(canto__mdns *m)
{
    for (mdns_btype *bt = m->btypes; bt; bt = bt->next) {
        bt->interval = 1000;
        bt->next_query = m->now + mdns_rand(m, 20, 120);
    }
}

/* "_name._tcp" or "_name._udp" (RFC 6763 §7, RFC 6335 §5.1). */
int mdns_type_valid(const char *type)
{
    if (!type || type[0] != '_')
        return 0;
    const char *dot = strchr(type, '.');
    if (!dot || dot - type < 2 || dot - type > 16)
        return 0;
    for (const char *p = type + 1; p < dot; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return 0;
    return strcmp(dot, "._tcp") == 0 || strcmp(dot, "._udp") == 0;
}

int canto__mdns_browse(canto__mdns *m, const char *type, uint64_t now)
{
    if (!m || !mdns_type_valid(type))
        return CANTO_EINVAL;
    char qname[64];
    snprintf(qname, sizeof(qname), "%s.local", type);
    if (btype_by_qname(m, qname))
        return 0;
    mdns_btype *bt = canto__calloc(&m->alloc, 1, sizeof(*bt));
    if (!bt)
        return CANTO_ENOMEM;
    bt->type = mdns_strdup(m, type);
    bt->qname = mdns_strdup(m, qname);
    if (!bt->type || !bt->qname) {
        canto__dealloc(&m->alloc, bt->type);
        canto__dealloc(&m->alloc, bt->qname);
        canto__dealloc(&m->alloc, bt);
        return CANTO_ENOMEM;
    }
    mdns_enter(m, now);
    /* §5.2: the first query after 20-120 ms, then 1 s, doubling */
    bt->interval = 1000;
    bt->next_query = m->now + mdns_rand(m, 20, 120);
    mdns_btype **pp = &m->btypes;
    while (*pp)
        pp = &(*pp)->next;
    *pp = bt;
    mdns_leave(m);
    return 0;
}

void mdns_browse_free(canto__mdns *m)
{
    for (mdns_inst *in = m->insts, *next; in; in = next) {
        next = in->next;
        inst_free(m, in);
    }
    m->insts = NULL;
    memset(m->ibuckets, 0, sizeof(m->ibuckets));
    m->ninsts = 0;
    for (mdns_btype *bt = m->btypes, *next; bt; bt = next) {
        next = bt->next;
        canto__dealloc(&m->alloc, bt->type);
        canto__dealloc(&m->alloc, bt->qname);
        canto__dealloc(&m->alloc, bt);
    }
    m->btypes = NULL;
}
