/* Internals of the mDNS engine (engine.h) shared by engine.c, responder.c,
 * browser.c and cache.c. Not installed, not used outside lib/mdns. */
#ifndef CANTO_MDNS_ENGINE_IMPL_H
#define CANTO_MDNS_ENGINE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "mdns/engine.h"

#define MDNS_MAX_IFACES 16
#define MDNS_NEVER UINT64_MAX
#define MDNS_AREA "mdns"
/* Multicast packets we build stay under a typical Ethernet MTU (§17); a lone
 * record that does not fit goes out in a bigger packet. */
#define MDNS_MTU_PAYLOAD 1440
#define MDNS_CACHE_BUCKETS 1024
#define MDNS_MAX_SVC_ADDRS 16
#define MDNS_RESP_FLAGS 0x8400u /* QR + AA */
#define MDNS_TC_FLAG 0x0200u
#define MDNS_LEGACY_TTL 10 /* §6.7 */

/* Our record sets: the host's A and AAAA, and each service's PTR, SRV, TXT. */
enum { K_A = 0, K_AAAA, K_PTR, K_SRV, K_TXT, K_COUNT };

/* Per record set and interface: when it was last multicast (§5.4, §6.2) and
 * when a multicast answer to it is due (0: none). */
typedef struct mdns_rstate {
    uint64_t last_mc[MDNS_MAX_IFACES];
    uint64_t due[MDNS_MAX_IFACES];
    int mark; /* while building a response: 1 answer, 2 additional */
} mdns_rstate;

/* Life of a unique name we claim (the host name or a service instance). */
typedef enum mdns_ostate {
    OS_IDLE = 0,    /* no interface to probe on yet */
    OS_PROBING,     /* `probes` sent; `next` is the next probe or the end */
    OS_WAIT_HOST,   /* service probed, waiting until the host name is ours */
    OS_ANNOUNCING,  /* `announces` left, the next at `next` */
    OS_ESTABLISHED, /* answering */
} mdns_ostate;

typedef struct mdns_owned {
    mdns_ostate state;
    unsigned probes, announces;
    uint64_t next;
    /* §8.1 rate limit: conflicts counted in a 10 s window */
    unsigned conflicts;
    uint64_t conflict_window;
    int announced; /* something went out that a goodbye must take back */
    int sel;       /* in the probe packet being built */
} mdns_owned;

typedef struct mdns_svc {
    struct mdns_svc *next;
    unsigned handle;
    char *base;     /* label as requested, for "-2", "-3" ... */
    char *instance; /* label in use (unescaped) */
    char *fullname; /* escaped "<instance>.<type>.local" */
    char *type;     /* "_presence._tcp" */
    char *ptrname;  /* "_presence._tcp.local" */
    unsigned suffix;
    uint16_t port;
    uint8_t *txt;
    uint16_t txt_len;
    mdns_owned o;
    unsigned txt_announces;
    uint64_t txt_next;
    char *published_as; /* instance last reported through `published` */
    mdns_rstate r[K_COUNT];
    int dead; /* withdrawn; freed once no call is running */
} mdns_svc;

typedef struct mdns_btype {
    struct mdns_btype *next;
    char *type;  /* "_presence._tcp" */
    char *qname; /* "_presence._tcp.local" */
    uint64_t next_query;
    uint64_t interval;
} mdns_btype;

typedef struct mdns_inst mdns_inst;

/* One cached record, seen on one interface. Name and rdata strings live in
 * the same allocation. */
typedef struct mdns_centry {
    struct mdns_centry *hnext;       /* hash chain */
    struct mdns_centry *prev, *next; /* age list, oldest first */
    mdns_inst *owner;                /* PTR: the instance it points at */
    unsigned ifindex;
    uint16_t type;
    char *name;
    char *target; /* PTR, SRV */
    uint16_t prio, weight, port;
    uint8_t *data; /* TXT, A, AAAA */
    uint16_t len;
    uint32_t ttl;
    uint64_t seen; /* last received */
    uint64_t expire;
    uint64_t requery_at;
    unsigned requeries;
    int flushed; /* replaced through the cache-flush bit, gone at `expire` */
    int goodbye; /* TTL 0 received, gone at `expire` */
} mdns_centry;

/* A browsed service instance, alive while a PTR to it is cached. */
struct mdns_inst {
    mdns_inst *hnext, *next;
    mdns_btype *bt;
    char *name;  /* escaped full name */
    char *label; /* unescaped instance */
    unsigned nptr;
    int dirty, reported;
    uint64_t resolve_next, resolve_ival;
    /* what was last reported, to tell CHANGED apart */
    char *host;
    uint16_t port;
    uint8_t *txt;
    uint16_t txt_len;
    canto__mdns_addr addrs[MDNS_MAX_SVC_ADDRS];
    size_t naddrs;
};

/* A packet being built for one destination; full packets go out and the
 * builder starts again. */
typedef struct mdns_out {
    canto__mdns *m;
    canto__mdns_builder b;
    uint8_t buf[CANTO__MDNS_MAX_PACKET];
    int ii; /* interface position; -1: all families of unicast dest */
    const canto__mdns_addr *unicast;
    uint16_t id, flags;
    int is_query; /* a query split over packets carries TC (§7.2) */
    int nrec;
    int failed;
} mdns_out;

typedef struct mdns_loop {
    struct mdns_loop *next;
    int ii;
    size_t len;
    uint8_t pkt[];
} mdns_loop;

struct canto__mdns {
    canto__alloc alloc;
    canto__log log;
    canto__mdns_events ev;
    void *ud;
    uint64_t rng;
    uint64_t now;
    int depth;
    int loopback;

    canto__mdns_iface ifs[MDNS_MAX_IFACES];
    size_t nifs;

    /* responder */
    char *host_base;
    char *host_label;
    char *host_full; /* "<label>.local" escaped */
    unsigned host_suffix;
    mdns_owned host;
    mdns_rstate host_r[2]; /* K_A, K_AAAA */
    mdns_svc *svcs;
    unsigned next_handle;
    uint32_t host_ttl, other_ttl;

    /* browser */
    mdns_btype *btypes;
    mdns_inst *insts;
    mdns_inst *ibuckets[MDNS_CACHE_BUCKETS];
    size_t ninsts;
    int dirty_any;
    mdns_centry *buckets[MDNS_CACHE_BUCKETS];
    mdns_centry *oldest, *newest;
    size_t ncache;

    mdns_loop *loop_head, *loop_tail;

    canto__mdns_msg msg; /* parsed input */
    canto__mdns_rr rr;   /* record being written */
    canto__mdns_rr ours[2 * 8 + 2];
    mdns_out out; /* one packet under construction at a time */
};

/* engine.c */
void mdns_enter(canto__mdns *m, uint64_t now);
void mdns_leave(canto__mdns *m);
uint32_t mdns_rand(canto__mdns *m, uint32_t lo, uint32_t hi); /* [lo, hi] */
int mdns_iface_pos(const canto__mdns *m, unsigned ifindex);
unsigned mdns_hash(const char *name);
/* Escape one label as dn_expand() prints it; CANTO_EINVAL when it does not
 * fit. */
int mdns_escape_label(const char *label, char *out, size_t cap);
/* First label of an escaped name, unescaped; returns the length of the escaped
 * label (up to the separating dot) or -1. */
int mdns_first_label(const char *name, char *out, size_t cap);
char *mdns_strdup(canto__mdns *m, const char *s);
char *mdns_concat(canto__mdns *m, const char *a, const char *b, const char *c);

void mdns_out_begin(canto__mdns *m, int ii, const canto__mdns_addr *unicast, uint16_t id,
                    uint16_t flags, int is_query);
int mdns_out_add(canto__mdns *m, const canto__mdns_rr *rr);
void mdns_out_end(canto__mdns *m);

/* responder.c */
void mdns_resp_query(canto__mdns *m, int ii, const canto__mdns_addr *src);
void mdns_resp_response(canto__mdns *m, int ii);
void mdns_resp_timeout(canto__mdns *m);
uint64_t mdns_resp_deadline(const canto__mdns *m);
void mdns_resp_ifaces_changed(canto__mdns *m);
void mdns_resp_goodbye_all(canto__mdns *m);
void mdns_resp_free(canto__mdns *m);
void mdns_resp_gc(canto__mdns *m);

/* browser.c */
void mdns_browse_response(canto__mdns *m, int ii);
void mdns_browse_timeout(canto__mdns *m);
uint64_t mdns_browse_deadline(const canto__mdns *m);
void mdns_browse_ifaces_changed(canto__mdns *m);
void mdns_browse_evaluate(canto__mdns *m);
int mdns_browse_pending(const canto__mdns *m);
void mdns_browse_free(canto__mdns *m);
mdns_inst *mdns_inst_find(const canto__mdns *m, const char *name);
mdns_inst *mdns_inst_get(canto__mdns *m, mdns_btype *bt, const char *name);
void mdns_inst_mark(canto__mdns *m, mdns_inst *in);
void mdns_mark_addr_users(canto__mdns *m, const char *host);
int mdns_addr_wanted(canto__mdns *m, const char *host);
int mdns_type_valid(const char *type);

/* cache.c */
mdns_centry *mdns_cache_find(const canto__mdns *m, const char *name, uint16_t type,
                             mdns_centry *after);
void mdns_cache_put(canto__mdns *m, unsigned ifindex, const canto__mdns_rr *rr, mdns_inst *owner);
void mdns_cache_remove(canto__mdns *m, mdns_centry *e);
void mdns_cache_timeout(canto__mdns *m);
uint64_t mdns_cache_deadline(const canto__mdns *m);
void mdns_cache_forget_iface(canto__mdns *m, unsigned ifindex);
void mdns_cache_entry_rr(const mdns_centry *e, canto__mdns_rr *rr);
void mdns_cache_free(canto__mdns *m);

#endif
