/* mDNS responder and DNS-SD browser (RFC 6762, RFC 6763), sans I/O.
 *
 * Packets received go in with canto__mdns_input() together with where they
 * came from; packets to send come out through the `send` event; time comes in
 * as arguments and canto__mdns_deadline() says when to call
 * canto__mdns_timeout(). The socket driver (socket.h) is the only caller in
 * the library, and tests drive the engine from memory with a fake clock.
 *
 * Responder: every published service owns its SRV and TXT records under
 * "<instance>.<type>.local", a shared PTR "<type>.local" -> instance, and the
 * host's A/AAAA records under "<host>.local" (one host per engine). Unique
 * records are probed three times 250 ms apart (§8.1), a conflicting answer or
 * a probe tie lost (§8.2) renames the instance ("name (2)" is for humans;
 * XEP-0174 wants "name-2", so renaming appends "-2", "-3", ...) or the host
 * and probes again; then announced twice one second apart (§8.3), answered
 * with known-answer suppression (§7.1) and the unicast-response bit honoured
 * (§5.4), TXT changes announced, and a goodbye (TTL 0) sent on withdrawal and
 * when the engine is freed.
 *
 * Browser: queries "<type>.local" PTR at 1 s, then doubling up to 60 min
 * (§5.2), with known answers; caches records with their TTLs (cache-flush bit
 * replaces older rdata after one second, §10.2; TTL 0 means gone in 1 s,
 * §10.1); requery at 80-95% of TTL; resolves each instance PTR -> SRV + TXT
 * -> A/AAAA and reports it once it has SRV, TXT and at least one address.
 */
#ifndef CANTO_MDNS_ENGINE_H
#define CANTO_MDNS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/log.h"
#include "mdns/msg.h"

typedef struct canto__mdns canto__mdns;

/* An address with its interface: family AF_INET (addr[0..3]) or AF_INET6. */
typedef struct canto__mdns_addr {
    int family;
    uint8_t addr[16];
    unsigned ifindex; /* interface the packet came in on / goes out of */
    uint16_t port;    /* UDP source port (5353 for a fully compliant responder) */
} canto__mdns_addr;

/* Where a packet goes: multicast on one interface (dest NULL in the event:
 * 224.0.0.251 and/or ff02::fb, per `family`), or unicast to dest. */
typedef struct canto__mdns_dest {
    unsigned ifindex;
    int family;                      /* AF_INET or AF_INET6 */
    const canto__mdns_addr *unicast; /* NULL: multicast */
} canto__mdns_dest;

typedef enum canto__mdns_svc_event {
    CANTO__MDNS_SVC_APPEARED = 0,
    CANTO__MDNS_SVC_CHANGED = 1, /* TXT, port or addresses changed */
    CANTO__MDNS_SVC_GONE = 2,    /* goodbye or TTL expiry */
} canto__mdns_svc_event;

/* A resolved remote service, borrowed for the duration of the callback. */
typedef struct canto__mdns_service {
    const char *instance; /* "alice@host" (label, unescaped) */
    const char *type;     /* "_presence._tcp" */
    const char *host;     /* SRV target, "host.local" */
    uint16_t port;
    const uint8_t *txt;
    uint16_t txt_len;
    const canto__mdns_addr *addrs; /* ifindex = interface it was seen on */
    size_t naddrs;
} canto__mdns_service;

typedef struct canto__mdns_events {
    /* A packet to send; the engine keeps no reference to @p pkt. */
    void (*send)(void *ud, const void *pkt, size_t len, const canto__mdns_dest *dest);
    /* Browsing: a service of a browsed type appeared, changed or went. */
    void (*service)(void *ud, canto__mdns_svc_event ev, const canto__mdns_service *svc);
    /* Publishing: a service finished probing and is announced under @p instance
     * (which differs from the requested one after a conflict). */
    void (*published)(void *ud, unsigned handle, const char *instance);
    /* Publishing: the instance (or the host) name was taken; the engine is
     * probing @p new_name now. host is 1 for the host name; @p new_name is
     * then "<host>-N.local" as canto__mdns_host() gives it (handle 0).
     * Events run from inside engine calls: they may publish, withdraw,
     * update and browse, but must not free the engine nor feed it input. */
    void (*renamed)(void *ud, unsigned handle, int host, const char *new_name);
} canto__mdns_events;

/* One interface the engine talks on, with the host's addresses on it. */
typedef struct canto__mdns_iface {
    unsigned ifindex;
    int has_v4, has_v6;        /* multicast sockets of that family are open on it */
    canto__mdns_addr addrs[8]; /* the host's own addresses on this interface */
    size_t naddrs;
} canto__mdns_iface;

/* @p host: host label without ".local" (e.g. from gethostname()). */
int canto__mdns_new(const canto__alloc *alloc, const canto__log *log, const char *host,
                    const canto__mdns_events *ev, void *ud, canto__mdns **out);
/* Sends goodbyes for every announced record, then frees. */
void canto__mdns_free(canto__mdns *m, uint64_t now);

/* Replace the interface list (on start and when addresses change). Records
 * of removed interfaces are forgotten; new ones get probed/queried. At most
 * 16 interfaces (CANTO_ETOOBIG) of at most 8 addresses each (CANTO_EINVAL);
 * the same list again changes nothing. */
int canto__mdns_set_ifaces(canto__mdns *m, const canto__mdns_iface *ifs, size_t n, uint64_t now);

/* A received packet. Packets whose source is not on-link for @p src->ifindex
 * have already been dropped by the driver. Malformed packets are ignored (and
 * logged at debug level); returns 0 or the parse error for tests. */
int canto__mdns_input(canto__mdns *m, const void *pkt, size_t len, const canto__mdns_addr *src,
                      uint64_t now);

uint64_t canto__mdns_deadline(const canto__mdns *m); /* UINT64_MAX: none */
void canto__mdns_timeout(canto__mdns *m, uint64_t now);

/* Publish "<instance>.<type>.local" on @p port with @p txt (raw rdata).
 * *handle identifies it later. CANTO_EINVAL for a bad instance/type. */
int canto__mdns_publish(canto__mdns *m, const char *instance, const char *type, uint16_t port,
                        const uint8_t *txt, uint16_t txt_len, uint64_t now, unsigned *handle);
int canto__mdns_update_txt(canto__mdns *m, unsigned handle, const uint8_t *txt, uint16_t txt_len,
                           uint64_t now);
/* Goodbye and forget. CANTO_ENOTFOUND for an unknown handle. */
int canto__mdns_withdraw(canto__mdns *m, unsigned handle, uint64_t now);
/* The name currently used (after renames), borrowed; NULL if unknown. */
const char *canto__mdns_instance(const canto__mdns *m, unsigned handle);
const char *canto__mdns_host(const canto__mdns *m); /* "host.local" as currently used */

/* Start browsing @p type ("_presence._tcp"); services of it are reported
 * through the `service` event, own ones included (callers tell them apart by
 * instance name). */
int canto__mdns_browse(canto__mdns *m, const char *type, uint64_t now);

/* TTLs of the records this engine publishes: host A/AAAA and SRV (RFC 6762
 * §10 recommends 120 s) and the others (PTR, TXT: 4500 s). The
 * defaults are those; tests and short-lived peers use less so that a peer
 * that dies without a goodbye disappears sooner. Applies to records
 * published or announced afterwards. 0 keeps a value. */
int canto__mdns_set_ttls(canto__mdns *m, uint32_t host_ttl, uint32_t other_ttl);

/* Bound on cached records; beyond it the oldest are dropped (hostile floods). */
#define CANTO__MDNS_MAX_CACHE 2048

/* Records in the browser's cache (tests check the bound). */
size_t canto__mdns_cache_size(const canto__mdns *m);

/* The engine hears its own multicast packets as another host would (default
 * on), so own services are browsed and own probes recognised whether or not
 * the sockets loop multicast back. A driver whose sockets do loop back may
 * switch this off; hearing a packet twice is harmless either way. */
void canto__mdns_set_loopback(canto__mdns *m, int on);

#endif
