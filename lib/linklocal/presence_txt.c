/* XEP-0174 §3 TXT records: ours built from the options and status, peers'
 * read into canto_ll_peer. */
#include "linklocal/linklocal_impl.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <canto/error.h>
#include "mdns/msg.h"

int canto__ll_build_txt(const canto_linklocal *ll, uint8_t *txt, uint16_t *len)
{
    /* txtvers first: RFC 6763 §6.7 wants it as the first key. */
    const struct {
        const char *key, *value;
    } kv[] = {
        {"txtvers", "1"},
        {"1st", ll->first},
        {"last", ll->last},
        {"nick", ll->nick},
        {"email", ll->email},
        {"jid", ll->jid},
        {"status", canto_ll_status_name(ll->status)},
        {"msg", ll->msg},
        {"hash", ll->caps_hash},
        {"node", ll->caps_node},
        {"ver", ll->caps_ver},
    };
    *len = 0;
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        if (!kv[i].value)
            continue;
        int rc = canto__mdns_txt_add(txt, len, kv[i].key, kv[i].value);
        if (rc)
            return rc;
    }
    return 0;
}

/* A NUL-terminated copy of a TXT value in scratch slot @p i, or NULL. */
static const char *txt_string(canto_linklocal *ll, size_t i, const canto__ll_peer *p,
                              const char *key)
{
    const uint8_t *v;
    size_t vlen;
    canto__dealloc(&ll->alloc, ll->txt_scratch[i]);
    ll->txt_scratch[i] = NULL;
    if (!canto__mdns_txt_get(p->txt, p->txt_len, key, &v, &vlen) || !v)
        return NULL;
    ll->txt_scratch[i] = canto__strndup(&ll->alloc, (const char *)v, vlen);
    return ll->txt_scratch[i];
}

static void free_addr_text(canto_linklocal *ll)
{
    for (size_t i = 0; i < ll->addr_text_n; i++)
        canto__dealloc(&ll->alloc, ll->addr_text[i]);
    canto__dealloc(&ll->alloc, ll->addr_text);
    ll->addr_text = NULL;
    ll->addr_text_n = 0;
}

void canto__ll_describe_free(canto_linklocal *ll)
{
    free_addr_text(ll);
    for (size_t i = 0; i < sizeof(ll->txt_scratch) / sizeof(ll->txt_scratch[0]); i++) {
        canto__dealloc(&ll->alloc, ll->txt_scratch[i]);
        ll->txt_scratch[i] = NULL;
    }
}

static char *addr_to_text(canto_linklocal *ll, const canto__mdns_addr *a)
{
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    if (!inet_ntop(a->family, a->addr, buf, sizeof(buf)))
        return NULL;
    /* An IPv6 link-local address means nothing without its interface. */
    if (a->family == AF_INET6 && a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80) {
        char ifname[IF_NAMESIZE];
        size_t n = strlen(buf);
        if (if_indextoname(a->ifindex, ifname))
            snprintf(buf + n, sizeof(buf) - n, "%%%s", ifname);
        else
            snprintf(buf + n, sizeof(buf) - n, "%%%u", a->ifindex);
    }
    return canto__strndup(&ll->alloc, buf, strlen(buf));
}

int canto__ll_describe(canto_linklocal *ll, const canto__ll_peer *p, canto_ll_peer *out)
{
    memset(out, 0, sizeof(*out));
    out->name = p->name;
    out->host = p->host;
    out->port = p->port;
    out->nick = txt_string(ll, 0, p, "nick");
    out->first = txt_string(ll, 1, p, "1st");
    out->last = txt_string(ll, 2, p, "last");
    out->email = txt_string(ll, 3, p, "email");
    out->jid = txt_string(ll, 4, p, "jid");
    out->status = txt_string(ll, 5, p, "status");
    if (!out->status)
        out->status = "avail"; /* XEP-0174 §3.3: the default */
    out->msg = txt_string(ll, 6, p, "msg");
    out->hash = txt_string(ll, 7, p, "hash");
    out->node = txt_string(ll, 8, p, "node");
    out->ver = txt_string(ll, 9, p, "ver");
    free_addr_text(ll);
    if (p->naddrs) {
        ll->addr_text = canto__calloc(&ll->alloc, p->naddrs, sizeof(char *));
        if (!ll->addr_text)
            return CANTO_ENOMEM;
        for (size_t i = 0; i < p->naddrs; i++) {
            char *t = addr_to_text(ll, &p->addrs[i]);
            if (t)
                ll->addr_text[ll->addr_text_n++] = t;
        }
    }
    out->addresses = (const char *const *)ll->addr_text;
    out->naddresses = ll->addr_text_n;
    return 0;
}
