/* The browser's record cache: TTL expiry, requery at 80-95% of the TTL
 * (RFC 6762 §5.2), goodbyes (§10.1), the cache-flush bit (§10.2), and a hard
 * bound on its size so that a flood of records cannot exhaust memory. */
#include "mdns/engine_impl.h"

#include <stdio.h>
#include <string.h>

#include <canto/error.h>

/* PTR records of one type all share a name: hashing their target too keeps
 * the chains short when thousands of instances are announced. */
static unsigned bucket_of(const char *name, uint16_t type, const char *target)
{
    unsigned h = mdns_hash(name) ^ (type * 0x9E3779B1u);
    if (type == CANTO__MDNS_T_PTR && target)
        h ^= mdns_hash(target) * 31u;
    return h % MDNS_CACHE_BUCKETS;
}

void mdns_cache_entry_rr(const mdns_centry *e, canto__mdns_rr *rr)
{
    memset(rr, 0, sizeof(*rr));
    rr->section = CANTO__MDNS_AN;
    snprintf(rr->name, sizeof(rr->name), "%s", e->name);
    rr->type = e->type;
    rr->rclass = CANTO__MDNS_CLASS_IN;
    rr->ttl = e->ttl;
    switch (e->type) {
    case CANTO__MDNS_T_PTR:
        snprintf(rr->u.target, sizeof(rr->u.target), "%s", e->target);
        break;
    case CANTO__MDNS_T_SRV:
        rr->u.srv.priority = e->prio;
        rr->u.srv.weight = e->weight;
        rr->u.srv.port = e->port;
        snprintf(rr->u.srv.target, sizeof(rr->u.srv.target), "%s", e->target);
        break;
    case CANTO__MDNS_T_TXT:
        rr->u.txt.len = e->len;
        memcpy(rr->u.txt.data, e->data, e->len);
        break;
    case CANTO__MDNS_T_A:
        memcpy(rr->u.a, e->data, 4);
        break;
    case CANTO__MDNS_T_AAAA:
        memcpy(rr->u.aaaa, e->data, 16);
        break;
    default:
        break;
    }
}

static int same_rdata(const mdns_centry *e, const canto__mdns_rr *rr)
{
    switch (rr->type) {
    case CANTO__MDNS_T_PTR:
        return canto__mdns_name_eq(e->target, rr->u.target);
    case CANTO__MDNS_T_SRV:
        return e->prio == rr->u.srv.priority && e->weight == rr->u.srv.weight &&
               e->port == rr->u.srv.port && canto__mdns_name_eq(e->target, rr->u.srv.target);
    case CANTO__MDNS_T_TXT:
        return e->len == rr->u.txt.len && memcmp(e->data, rr->u.txt.data, e->len) == 0;
    case CANTO__MDNS_T_A:
        return memcmp(e->data, rr->u.a, 4) == 0;
    case CANTO__MDNS_T_AAAA:
        return memcmp(e->data, rr->u.aaaa, 16) == 0;
    default:
        return 0;
    }
}

mdns_centry *mdns_cache_find(const canto__mdns *m, const char *name, uint16_t type,
                             mdns_centry *after)
{
    mdns_centry *e = after ? after->hnext : m->buckets[bucket_of(name, type, NULL)];
    for (; e; e = e->hnext)
        if (e->type == type && canto__mdns_name_eq(e->name, name))
            return e;
    return NULL;
}

/* Who has to look again at an instance because this record changed. */
static void mark_users(canto__mdns *m, const mdns_centry *e)
{
    if (e->type == CANTO__MDNS_T_PTR) {
        if (e->owner)
            mdns_inst_mark(m, e->owner);
    } else if (e->type == CANTO__MDNS_T_SRV || e->type == CANTO__MDNS_T_TXT) {
        mdns_inst *in = mdns_inst_find(m, e->name);
        if (in)
            mdns_inst_mark(m, in);
    } else {
        mdns_mark_addr_users(m, e->name);
    }
}

static void set_requery(canto__mdns *m, mdns_centry *e)
{
    if (e->requeries >= 4 || e->goodbye || e->flushed) {
        e->requery_at = MDNS_NEVER;
        return;
    }
    /* 80, 85, 90, 95% plus up to 2% so hosts do not all ask at once */
    uint64_t pct = 80 + 5 * (uint64_t)e->requeries + mdns_rand(m, 0, 2);
    e->requery_at = e->seen + (uint64_t)e->ttl * 10 * pct;
}

void mdns_cache_remove(canto__mdns *m, mdns_centry *e)
{
    mdns_centry **pp = &m->buckets[bucket_of(e->name, e->type, e->target)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    if (e->prev)
        e->prev->next = e->next;
    else
        m->oldest = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        m->newest = e->prev;
    m->ncache--;
    mark_users(m, e);
    if (e->type == CANTO__MDNS_T_PTR && e->owner)
        e->owner->nptr--;
    canto__dealloc(&m->alloc, e);
}

static void touch(canto__mdns *m, mdns_centry *e)
{
    if (e == m->newest)
        return;
    if (e->prev)
        e->prev->next = e->next;
    else
        m->oldest = e->next;
    e->next->prev = e->prev;
    e->prev = m->newest;
    e->next = NULL;
    m->newest->next = e;
    m->newest = e;
}

static mdns_centry *insert(canto__mdns *m, unsigned ifindex, const canto__mdns_rr *rr,
                           mdns_inst *owner)
{
    size_t nl = strlen(rr->name) + 1, tl = 0, dl = 0;
    const char *target = NULL;
    const uint8_t *data = NULL;
    switch (rr->type) {
    case CANTO__MDNS_T_PTR:
        target = rr->u.target;
        break;
    case CANTO__MDNS_T_SRV:
        target = rr->u.srv.target;
        break;
    case CANTO__MDNS_T_TXT:
        data = rr->u.txt.data;
        dl = rr->u.txt.len;
        break;
    case CANTO__MDNS_T_A:
        data = rr->u.a;
        dl = 4;
        break;
    case CANTO__MDNS_T_AAAA:
        data = rr->u.aaaa;
        dl = 16;
        break;
    default:
        return NULL;
    }
    if (target)
        tl = strlen(target) + 1;
    /* Oldest out first: the bound holds even while the newcomer is added. */
    while (m->ncache >= CANTO__MDNS_MAX_CACHE && m->oldest)
        mdns_cache_remove(m, m->oldest);
    mdns_centry *e = canto__calloc(&m->alloc, 1, sizeof(*e) + nl + tl + dl);
    if (!e)
        return NULL;
    char *p = (char *)(e + 1);
    e->name = p;
    memcpy(p, rr->name, nl);
    p += nl;
    if (target) {
        e->target = p;
        memcpy(p, target, tl);
        p += tl;
    }
    if (dl) {
        e->data = (uint8_t *)p;
        memcpy(p, data, dl);
    }
    e->len = (uint16_t)dl;
    e->type = rr->type;
    e->ifindex = ifindex;
    if (rr->type == CANTO__MDNS_T_SRV) {
        e->prio = rr->u.srv.priority;
        e->weight = rr->u.srv.weight;
        e->port = rr->u.srv.port;
    }
    if (rr->type == CANTO__MDNS_T_PTR) {
        e->owner = owner;
        if (owner)
            owner->nptr++;
    }
    unsigned b = bucket_of(e->name, e->type, e->target);
    e->hnext = m->buckets[b];
    m->buckets[b] = e;
    e->prev = m->newest;
    if (m->newest)
        m->newest->next = e;
    else
        m->oldest = e;
    m->newest = e;
    m->ncache++;
    return e;
}

void mdns_cache_put(canto__mdns *m, unsigned ifindex, const canto__mdns_rr *rr, mdns_inst *owner)
{
    uint64_t now = m->now;
    mdns_centry *e = NULL;
    for (mdns_centry *x = m->buckets[bucket_of(rr->name, rr->type, rr->u.target)]; x; x = x->hnext)
        if (x->type == rr->type && x->ifindex == ifindex &&
            canto__mdns_name_eq(x->name, rr->name) && same_rdata(x, rr)) {
            e = x;
            break;
        }
    /* §10.2: the sender says this is the whole set; what we heard from it
     * more than a second ago goes in one second. PTR records are shared and
     * never flush each other. */
    if (rr->cache_flush && rr->type != CANTO__MDNS_T_PTR) {
        for (mdns_centry *x = mdns_cache_find(m, rr->name, rr->type, NULL); x;
             x = mdns_cache_find(m, rr->name, rr->type, x)) {
            if (x == e || x->ifindex != ifindex || x->seen + 1000 > now)
                continue;
            if (x->expire > now + 1000)
                x->expire = now + 1000;
            if (!x->flushed) {
                x->flushed = 1;
                x->requery_at = MDNS_NEVER;
                mark_users(m, x);
            }
        }
    }
    if (rr->ttl == 0) {
        /* §10.1: gone in one second, unless someone still has it and says so */
        if (e && !e->goodbye) {
            e->goodbye = 1;
            e->expire = now + 1000;
            e->requery_at = MDNS_NEVER;
            mark_users(m, e);
        }
        return;
    }
    int changed = 0;
    if (!e) {
        e = insert(m, ifindex, rr, owner);
        if (!e)
            return;
        changed = 1;
    } else {
        changed = e->goodbye || e->flushed;
        touch(m, e);
    }
    /* RFC 2181 §8: a TTL with the top bit set means zero; we cap it instead
     * of dropping the record. */
    e->ttl = rr->ttl > 0x7fffffffu ? 0x7fffffffu : rr->ttl;
    e->seen = now;
    e->expire = now + (uint64_t)e->ttl * 1000;
    e->goodbye = 0;
    e->flushed = 0;
    e->requeries = 0;
    set_requery(m, e);
    if (changed)
        mark_users(m, e);
}

void mdns_cache_timeout(canto__mdns *m)
{
    uint64_t now = m->now;
    for (mdns_centry *e = m->oldest, *next; e; e = next) {
        next = e->next;
        if (e->expire <= now)
            mdns_cache_remove(m, e);
    }
    /* Requeries (§5.2): a PTR is asked again by the browse query of its
     * type; other records by a question of their own, one per name and type
     * per interface. */
    for (mdns_centry *e = m->oldest; e; e = e->next) {
        if (e->requery_at > now || e->type != CANTO__MDNS_T_PTR)
            continue;
        e->requeries++;
        set_requery(m, e);
        if (e->owner && e->owner->bt->next_query > now)
            e->owner->bt->next_query = now;
    }
    for (size_t ii = 0; ii < m->nifs; ii++) {
        int open = 0;
        for (mdns_centry *e = m->oldest; e; e = e->next) {
            if (e->requery_at > now || e->ifindex != m->ifs[ii].ifindex)
                continue;
            if (!open) {
                mdns_out_begin(m, (int)ii, NULL, 0, 0, 1);
                open = 1;
            }
            memset(&m->rr, 0, sizeof(m->rr));
            m->rr.section = CANTO__MDNS_QD;
            snprintf(m->rr.name, sizeof(m->rr.name), "%s", e->name);
            m->rr.type = e->type;
            m->rr.rclass = CANTO__MDNS_CLASS_IN;
            mdns_out_add(m, &m->rr);
            /* the same question answers the others of its set */
            for (mdns_centry *x = mdns_cache_find(m, e->name, e->type, NULL); x;
                 x = mdns_cache_find(m, e->name, e->type, x)) {
                if (x->ifindex == e->ifindex && x->requery_at <= now && x != e) {
                    x->requeries++;
                    set_requery(m, x);
                }
            }
            e->requeries++;
            set_requery(m, e);
        }
        if (open)
            mdns_out_end(m);
    }
    /* Entries seen on no current interface cannot be asked for again. */
    for (mdns_centry *e = m->oldest; e; e = e->next)
        if (e->requery_at <= now && mdns_iface_pos(m, e->ifindex) < 0) {
            e->requeries = 4;
            set_requery(m, e);
        }
}

uint64_t mdns_cache_deadline(const canto__mdns *m)
{
    uint64_t d = MDNS_NEVER;
    for (const mdns_centry *e = m->oldest; e; e = e->next) {
        if (e->expire < d)
            d = e->expire;
        if (e->requery_at < d)
            d = e->requery_at;
    }
    return d;
}

void mdns_cache_forget_iface(canto__mdns *m, unsigned ifindex)
{
    for (mdns_centry *e = m->oldest, *next; e; e = next) {
        next = e->next;
        if (e->ifindex == ifindex)
            mdns_cache_remove(m, e);
    }
}

void mdns_cache_free(canto__mdns *m)
{
    for (mdns_centry *e = m->oldest, *next; e; e = next) {
        next = e->next;
        canto__dealloc(&m->alloc, e);
    }
    m->oldest = m->newest = NULL;
    memset(m->buckets, 0, sizeof(m->buckets));
    m->ncache = 0;
}
