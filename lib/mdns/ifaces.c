/* Interface enumeration with getifaddrs(). It returns one entry per address
 * (plus AF_PACKET entries, ignored here), so entries are grouped by interface
 * index; an interface without any IPv4/IPv6 address cannot source multicast
 * and is left out. */
#include "mdns/ifaces.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <canto/error.h>

#define AREA "mdns"

static int named(const char *const *ifnames, const char *name)
{
    for (; *ifnames; ifnames++)
        if (strcmp(*ifnames, name) == 0)
            return 1;
    return 0;
}

static unsigned prefix_len(const uint8_t *mask, size_t bytes)
{
    unsigned bits = 0;
    for (size_t i = 0; i < bytes; i++)
        for (int b = 7; b >= 0; b--) {
            if (!(mask[i] & (1u << b)))
                return bits;
            bits++;
        }
    return bits;
}

static canto__mdns_ifinfo *entry_for(canto__mdns_ifinfo *ifs, size_t *n, unsigned ifindex,
                                     const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (ifs[i].iface.ifindex == ifindex)
            return &ifs[i];
    canto__mdns_ifinfo *e = &ifs[(*n)++];
    memset(e, 0, sizeof(*e));
    e->iface.ifindex = ifindex;
    size_t len = strcspn(name, ":");
    if (len >= sizeof(e->name))
        len = sizeof(e->name) - 1;
    memcpy(e->name, name, len);
    return e;
}

static void add_address(canto__mdns_ifinfo *e, const struct ifaddrs *ifa)
{
    int family = ifa->ifa_addr->sa_family;
    uint8_t addr[16] = {0};
    unsigned prefix = 0;
    if (family == AF_INET) {
        const struct sockaddr_in *sin = (const void *)ifa->ifa_addr;
        memcpy(addr, &sin->sin_addr, 4);
        prefix = 32;
        if (ifa->ifa_netmask) {
            const struct sockaddr_in *m = (const void *)ifa->ifa_netmask;
            prefix = prefix_len((const uint8_t *)&m->sin_addr, 4);
        }
        e->iface.has_v4 = 1;
    } else {
        const struct sockaddr_in6 *sin6 = (const void *)ifa->ifa_addr;
        memcpy(addr, &sin6->sin6_addr, 16);
        prefix = 128;
        if (ifa->ifa_netmask) {
            const struct sockaddr_in6 *m = (const void *)ifa->ifa_netmask;
            prefix = prefix_len((const uint8_t *)&m->sin6_addr, 16);
        }
        e->iface.has_v6 = 1;
    }
    if (e->nnets < CANTO__MDNS_MAX_NETS) {
        canto__mdns_net *net = &e->nets[e->nnets++];
        net->family = family;
        memcpy(net->addr, addr, sizeof(addr));
        net->prefix = prefix;
    }
    size_t cap = sizeof(e->iface.addrs) / sizeof(e->iface.addrs[0]);
    canto__mdns_addr a = {.family = family, .ifindex = e->iface.ifindex};
    memcpy(a.addr, addr, sizeof(addr));
    if (e->iface.naddrs < cap) {
        e->iface.addrs[e->iface.naddrs++] = a;
        return;
    }
    /* Full (many IPv6 addresses): an IPv4 address still replaces the last
     * IPv6 one, so a host with lots of temporary addresses keeps its A record. */
    if (family == AF_INET && e->iface.addrs[cap - 1].family == AF_INET6)
        e->iface.addrs[cap - 1] = a;
}

int canto__mdns_ifaces_scan(const canto__alloc *a, const canto__log *log,
                            const char *const *ifnames, canto__mdns_ifinfo **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    struct ifaddrs *list;
    if (getifaddrs(&list) < 0) {
        canto__logf(log, CANTO_LOG_WARN, AREA, "getifaddrs failed");
        return CANTO_EIO;
    }
    size_t max = 0;
    for (struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next)
        max++;
    canto__mdns_ifinfo *ifs = canto__calloc(a, max ? max : 1, sizeof(*ifs));
    if (!ifs) {
        freeifaddrs(list);
        return CANTO_ENOMEM;
    }
    size_t count = 0;
    for (struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr || !ifa->ifa_name)
            continue;
        int family = ifa->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6)
            continue;
        char base[IF_NAMESIZE] = {0};
        size_t len = strcspn(ifa->ifa_name, ":");
        if (len >= sizeof(base))
            continue;
        memcpy(base, ifa->ifa_name, len);
        if (ifnames) {
            if (!named(ifnames, base))
                continue;
        } else if (!(ifa->ifa_flags & IFF_UP) || !(ifa->ifa_flags & IFF_MULTICAST) ||
                   (ifa->ifa_flags & IFF_LOOPBACK)) {
            continue;
        }
        unsigned ifindex = if_nametoindex(base);
        if (ifindex == 0)
            continue;
        add_address(entry_for(ifs, &count, ifindex, base), ifa);
    }
    freeifaddrs(list);
    if (ifnames)
        for (const char *const *p = ifnames; *p; p++) {
            int found = 0;
            for (size_t i = 0; i < count && !found; i++)
                found = strcmp(ifs[i].name, *p) == 0;
            if (!found)
                canto__logf(log, CANTO_LOG_WARN, AREA,
                            "interface %s does not exist or has no address", *p);
        }
    *out = ifs;
    *n = count;
    return 0;
}

static int in_prefix(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    size_t whole = bits / 8;
    if (memcmp(a, b, whole) != 0)
        return 0;
    unsigned rest = bits % 8;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

int canto__mdns_ifaces_on_link(const canto__mdns_ifinfo *ifi, const canto__mdns_addr *src)
{
    if (src->family == AF_INET) {
        static const uint8_t ll4[4] = {169, 254, 0, 0};
        if (in_prefix(src->addr, ll4, 16))
            return 1;
    } else if (src->family == AF_INET6) {
        static const uint8_t ll6[16] = {0xfe, 0x80};
        if (in_prefix(src->addr, ll6, 10))
            return 1;
    } else {
        return 0;
    }
    for (size_t i = 0; i < ifi->nnets; i++) {
        const canto__mdns_net *net = &ifi->nets[i];
        /* A /32 or /128 alone (point-to-point, some VPNs) makes nothing else
         * on-link except the address itself: our own looped-back packets. */
        if (net->family == src->family && in_prefix(src->addr, net->addr, net->prefix))
            return 1;
    }
    return 0;
}

const canto__mdns_ifinfo *canto__mdns_ifaces_find(const canto__mdns_ifinfo *ifs, size_t n,
                                                  unsigned ifindex)
{
    for (size_t i = 0; i < n; i++)
        if (ifs[i].iface.ifindex == ifindex)
            return &ifs[i];
    return NULL;
}
