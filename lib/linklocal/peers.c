/* Peers as the mDNS browser reports them: a table of the last announcement
 * of each, and the application's peer callback. */
#include "linklocal/linklocal_impl.h"

#include <netinet/in.h>
#include <string.h>

#include <canto/error.h>
#include "mdns/msg.h"

canto__ll_peer *canto__ll_find_peer(canto_linklocal *ll, const char *name)
{
    for (size_t i = 0; i < ll->npeers; i++)
        if (canto__mdns_name_eq(ll->peers[i].name, name))
            return &ll->peers[i];
    return NULL;
}

static void clear_peer(canto_linklocal *ll, canto__ll_peer *p)
{
    canto__dealloc(&ll->alloc, p->name);
    canto__dealloc(&ll->alloc, p->host);
    canto__dealloc(&ll->alloc, p->txt);
    canto__dealloc(&ll->alloc, p->addrs);
    memset(p, 0, sizeof(*p));
}

/* Replace @p p's announcement with @p svc; @p p keeps its old one on failure. */
static int store(canto_linklocal *ll, canto__ll_peer *p, const canto__mdns_service *svc)
{
    canto__ll_peer n = {0};
    n.name = canto__strndup(&ll->alloc, svc->instance, strlen(svc->instance));
    n.host =
        canto__strndup(&ll->alloc, svc->host ? svc->host : "", svc->host ? strlen(svc->host) : 0);
    n.port = svc->port;
    n.txt = canto__malloc(&ll->alloc, svc->txt_len ? svc->txt_len : 1);
    n.addrs = canto__calloc(&ll->alloc, svc->naddrs ? svc->naddrs : 1, sizeof(*n.addrs));
    if (!n.name || !n.host || !n.txt || !n.addrs) {
        clear_peer(ll, &n);
        return CANTO_ENOMEM;
    }
    if (svc->txt_len)
        memcpy(n.txt, svc->txt, svc->txt_len);
    n.txt_len = svc->txt_len;
    if (svc->naddrs)
        memcpy(n.addrs, svc->addrs, svc->naddrs * sizeof(*n.addrs));
    n.naddrs = svc->naddrs;
    clear_peer(ll, p);
    *p = n;
    return 0;
}

static void report(canto_linklocal *ll, canto_ll_peer_event ev, const canto__ll_peer *p)
{
    if (!ll->opts.peer)
        return;
    canto_ll_peer info;
    if (canto__ll_describe(ll, p, &info) != 0)
        return;
    ll->opts.peer(ll->opts.user_data, ll, ev, &info);
}

void canto__ll_on_service(void *ud, canto__mdns_svc_event ev, const canto__mdns_service *svc)
{
    canto_linklocal *ll = ud;
    if (!svc->instance || ll->freed)
        return;
    /* Our own announcement comes back to us like anyone's. */
    if (ll->published && canto__mdns_name_eq(svc->instance, ll->published))
        return;
    canto__ll_enter(ll);
    canto__ll_peer *p = canto__ll_find_peer(ll, svc->instance);
    if (ev == CANTO__MDNS_SVC_GONE) {
        if (p) {
            canto__logf(&ll->log, CANTO_LOG_INFO, "linklocal", "peer %s gone", p->name);
            canto__ll_peer gone = *p;
            *p = ll->peers[--ll->npeers];
            memset(&ll->peers[ll->npeers], 0, sizeof(ll->peers[0]));
            canto__ll_peer_gone(ll, gone.name);
            if (!ll->freed)
                report(ll, CANTO_LL_PEER_GONE, &gone);
            clear_peer(ll, &gone);
        }
        canto__ll_leave(ll);
        return;
    }
    int appeared = p == NULL;
    if (!p) {
        if (ll->npeers == ll->peer_cap) {
            size_t cap = ll->peer_cap ? ll->peer_cap * 2 : 8;
            canto__ll_peer *np = canto__realloc(&ll->alloc, ll->peers, cap * sizeof(*np));
            if (!np) {
                canto__ll_leave(ll);
                return;
            }
            ll->peers = np;
            ll->peer_cap = cap;
        }
        p = &ll->peers[ll->npeers];
        memset(p, 0, sizeof(*p));
    }
    if (store(ll, p, svc) != 0) {
        canto__ll_leave(ll);
        return;
    }
    if (appeared) {
        ll->npeers++;
        canto__logf(&ll->log, CANTO_LOG_INFO, "linklocal", "peer %s at %s port %u", p->name,
                    p->host, (unsigned)p->port);
    }
    report(ll, appeared ? CANTO_LL_PEER_APPEARED : CANTO_LL_PEER_CHANGED, p);
    canto__ll_leave(ll);
}

void canto__ll_peers_free(canto_linklocal *ll)
{
    for (size_t i = 0; i < ll->npeers; i++)
        clear_peer(ll, &ll->peers[i]);
    canto__dealloc(&ll->alloc, ll->peers);
    ll->peers = NULL;
    ll->npeers = ll->peer_cap = 0;
    canto__ll_describe_free(ll);
}

int canto__ll_peer_has_addr(canto_linklocal *ll, const char *name,
                            const struct sockaddr_storage *addr)
{
    const canto__ll_peer *p = canto__ll_find_peer(ll, name);
    if (!p)
        return 0;
    for (size_t i = 0; i < p->naddrs; i++) {
        const canto__mdns_addr *a = &p->addrs[i];
        if (addr->ss_family == AF_INET && a->family == AF_INET &&
            memcmp(&((const struct sockaddr_in *)addr)->sin_addr, a->addr, 4) == 0)
            return 1;
        if (addr->ss_family == AF_INET6) {
            const struct in6_addr *in6 = &((const struct sockaddr_in6 *)addr)->sin6_addr;
            if (a->family == AF_INET6 && memcmp(in6, a->addr, 16) == 0)
                return 1;
            /* A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d. */
            if (a->family == AF_INET && IN6_IS_ADDR_V4MAPPED(in6) &&
                memcmp(in6->s6_addr + 12, a->addr, 4) == 0)
                return 1;
        }
    }
    return 0;
}

int canto_linklocal_peer(canto_linklocal *ll, const char *name, canto_ll_peer *out)
{
    if (!ll || !name || !out)
        return CANTO_EINVAL;
    const canto__ll_peer *p = canto__ll_find_peer(ll, name);
    if (!p)
        return CANTO_ENOTFOUND;
    return canto__ll_describe(ll, p, out);
}

size_t canto_linklocal_peer_count(const canto_linklocal *ll)
{
    return ll ? ll->npeers : 0;
}
