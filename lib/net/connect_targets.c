/* From the two SRV answers to the ordered list of hosts to try (XEP-0368 §3,
 * RFC 6120 §3.2.1). Pure, so every combination of answers is unit-tested. */
#include "net/connect_plan.h"

#include <string.h>

#include <canto/error.h>

/* RFC 2782: a single record whose target is "." says the service is
 * decidedly not available at this domain. */
static int says_not_offered(int err, const canto__srv_record *recs, size_t n)
{
    return err == 0 && n == 1 && strcmp(recs[0].target, ".") == 0;
}

/* Records we could connect to: a "." among several is not one of them. */
static size_t usable(int err, const canto__srv_record *recs, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; err == 0 && i < n; i++)
        k += strcmp(recs[i].target, ".") != 0;
    return k;
}

int canto__connect_targets(const canto__alloc *a, const char *domain, int xmpps_err,
                           const canto__srv_record *xmpps, size_t nxmpps, int xmpp_err,
                           const canto__srv_record *xmpp, size_t nxmpp, canto__rand_fn rnd,
                           void *rnd_ud, canto__connect_target **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t total = usable(xmpps_err, xmpps, nxmpps) + usable(xmpp_err, xmpp, nxmpp);
    if (total == 0) {
        /* "." for _xmpp-client forbids the fallback to DOMAIN:5222, which is
         * that very service (RFC 6120 §3.2.1); "." for _xmpps-client only says
         * there is no Direct TLS. */
        if (says_not_offered(xmpp_err, xmpp, nxmpp))
            return CANTO_ECONNECT;
        canto__connect_target *t = canto__calloc(a, 1, sizeof(*t));
        if (!t)
            return CANTO_ENOMEM;
        size_t len = strlen(domain);
        if (len >= sizeof(t->host))
            len = sizeof(t->host) - 1;
        memcpy(t->host, domain, len);
        t->port = CANTO__XMPP_CLIENT_PORT;
        *out = t;
        *n = 1;
        return 0;
    }

    /* One merged list, so priorities and weights compare across both
     * services, with a parallel array remembering which service each is. */
    canto__srv_record *all = canto__calloc(a, total, sizeof(*all));
    unsigned char *tls = canto__calloc(a, total, 1);
    size_t *order = canto__calloc(a, total, sizeof(*order));
    canto__connect_target *t = canto__calloc(a, total, sizeof(*t));
    if (!all || !tls || !order || !t) {
        canto__dealloc(a, all);
        canto__dealloc(a, tls);
        canto__dealloc(a, order);
        canto__dealloc(a, t);
        return CANTO_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; xmpps_err == 0 && i < nxmpps; i++)
        if (strcmp(xmpps[i].target, ".") != 0) {
            tls[k] = 1;
            all[k++] = xmpps[i];
        }
    for (size_t i = 0; xmpp_err == 0 && i < nxmpp; i++)
        if (strcmp(xmpp[i].target, ".") != 0)
            all[k++] = xmpp[i];
    canto__srv_order(all, total, rnd, rnd_ud, order);
    for (size_t i = 0; i < total; i++) {
        const canto__srv_record *s = &all[order[i]];
        memcpy(t[i].host, s->target, strlen(s->target) + 1);
        t[i].port = s->port;
        t[i].direct_tls = tls[order[i]];
    }
    canto__dealloc(a, all);
    canto__dealloc(a, tls);
    canto__dealloc(a, order);
    *out = t;
    *n = total;
    return 0;
}
