/* Interface and address enumeration for the mDNS socket driver (socket.c),
 * from getifaddrs(): which interfaces mDNS talks on, the host's addresses on
 * each (handed to the engine) and the prefixes that make a packet's source
 * on-link (RFC 6762 §11). Private to lib/mdns. */
#ifndef CANTO_MDNS_IFACES_H
#define CANTO_MDNS_IFACES_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/log.h"
#include "mdns/engine.h"

#define CANTO__MDNS_MAX_NETS 16 /* prefixes kept per interface for on-link checks */

typedef struct canto__mdns_net {
    int family;
    uint8_t addr[16];
    unsigned prefix; /* bits */
} canto__mdns_net;

typedef struct canto__mdns_ifinfo {
    char name[IF_NAMESIZE];
    /* has_v4/has_v6 say the interface has an address of that family; the
     * driver clears them for a family it could not join the group of. */
    canto__mdns_iface iface;
    canto__mdns_net nets[CANTO__MDNS_MAX_NETS];
    size_t nnets;
} canto__mdns_ifinfo;

/* The interfaces to use: those named in @p ifnames (NULL-terminated), or with
 * @p ifnames NULL every interface that is up, multicast-capable, not loopback
 * and has an address. *out (caller frees with canto__dealloc) may hold 0
 * entries. CANTO_EIO when getifaddrs() fails, CANTO_ENOMEM. */
int canto__mdns_ifaces_scan(const canto__alloc *a, const canto__log *log,
                            const char *const *ifnames, canto__mdns_ifinfo **out, size_t *n);

/* 1 if @p src (its address and family) is on-link for @p ifi. */
int canto__mdns_ifaces_on_link(const canto__mdns_ifinfo *ifi, const canto__mdns_addr *src);

/* The entry for @p ifindex in @p ifs, or NULL. */
const canto__mdns_ifinfo *canto__mdns_ifaces_find(const canto__mdns_ifinfo *ifs, size_t n,
                                                  unsigned ifindex);

#endif
