/* The mDNS engine on real sockets: one IPv4 and one IPv6 UDP socket bound to
 * port 5353 with SO_REUSEADDR/SO_REUSEPORT (so other responders on the host
 * keep working), joined to 224.0.0.251 / ff02::fb on each chosen interface,
 * non-blocking and watched by the canto_loop, with the engine's deadline kept
 * as a loop timer. Outgoing multicast goes out of one interface at a time
 * (IP_MULTICAST_IF / IPV6_MULTICAST_IF) with TTL/hop limit 255; received
 * packets carry their interface (IP_PKTINFO / IPV6_RECVPKTINFO), and those
 * from a source that is not on-link for that interface are dropped (RFC 6762
 * §11): IPv4 sources must lie in a subnet of one of the interface's addresses
 * (169.254/16 counts), IPv6 sources must be fe80::/10 or in an interface
 * prefix.
 *
 * Interfaces: the named ones, or every interface that is up, multicast-capable
 * and not loopback. Addresses come from getifaddrs(); canto__mdns_io_refresh()
 * reads them again (call it when the application knows they changed). */
#ifndef CANTO_MDNS_SOCKET_H
#define CANTO_MDNS_SOCKET_H

#include <canto/loop.h>
#include "mdns/engine.h"

typedef struct canto__mdns_io canto__mdns_io;

typedef struct canto__mdns_io_config {
    const char *host;           /* host label; NULL: gethostname() up to the first dot */
    const char *const *ifnames; /* NULL-terminated; NULL: all suitable interfaces */
    int no_ipv4, no_ipv6;       /* leave one family out */
} canto__mdns_io_config;

/* @p ev's `send` is ignored (the driver sends); the other events are passed
 * through. CANTO_EIO when no socket could be opened, CANTO_ENOTFOUND when no
 * named/suitable interface exists, CANTO_ENOMEM. */
int canto__mdns_io_new(canto_loop *loop, const canto__mdns_io_config *config,
                       const canto__mdns_events *ev, void *ud, canto__mdns_io **out);
/* Sends the engine's goodbyes, closes the sockets and frees. */
void canto__mdns_io_free(canto__mdns_io *io);
/* The engine, to publish and browse (borrowed; lives as long as @p io). Call
 * canto__mdns_io_kick() after using it so a new deadline gets a timer. */
canto__mdns *canto__mdns_io_engine(canto__mdns_io *io);
void canto__mdns_io_kick(canto__mdns_io *io);
/* The loop clock in ms, to pass as `now` to engine calls. */
uint64_t canto__mdns_io_now(const canto__mdns_io *io);
int canto__mdns_io_refresh(canto__mdns_io *io);

#endif
