/* Shared between resolver.c (objects, handles, delivery) and
 * resolver_transport.c (one question's tries over UDP and TCP). Not for use
 * outside lib/net/resolver*.c. */
#ifndef CANTO_NET_RESOLVER_IMPL_H
#define CANTO_NET_RESOLVER_IMPL_H

#include "loop/loop.h"
#include "net/resolver.h"

/* A query of ours is at most 12 + 255 + 4 bytes; the first two bytes hold the
 * TCP length prefix so the same buffer serves both transports. */
#define CANTO__DNS_QUERY_MAX 512

struct canto__resolver {
    canto_loop *loop;
    canto__alloc alloc;
    canto__log log;
    struct sockaddr_storage ns[CANTO__DNS_MAX_NS];
    size_t nns;
    char *hosts; /* NULL: no hosts file */
    unsigned timeout_ms, rounds;
    canto__dns_query *queries; /* every live handle, doubly linked */
    unsigned busy;             /* user callbacks running */
    int freed;                 /* canto__resolver_free() called inside one */
};

typedef enum canto__dns_conn {
    CANTO__DNS_IDLE,
    CANTO__DNS_UDP,
    CANTO__DNS_TCP_CONNECT,
    CANTO__DNS_TCP_SEND,
    CANTO__DNS_TCP_RECV,
} canto__dns_conn;

/* One question (name, type) asked of the nameservers in turn. */
typedef struct canto__dns_lookup {
    canto__dns_query *q;
    uint16_t type;
    uint16_t id;
    canto__dns_conn conn;
    int fd;
    canto__watch *watch;
    canto__timer timer;
    unsigned tries;  /* tries started */
    size_t ns;       /* nameserver of the current try */
    unsigned errors; /* tries that ended otherwise than by a timeout */
    unsigned char out[2 + CANTO__DNS_QUERY_MAX];
    size_t out_len, out_sent; /* out_len counts the length prefix */
    unsigned char *in;        /* TCP answer being read */
    size_t in_len, in_have;
    unsigned char in_prefix[2];
    int done, err;
    canto__dns_answer ans;
} canto__dns_lookup;

struct canto__dns_query {
    canto__resolver *r;
    canto__dns_query *prev, *next;
    int is_srv;
    canto__srv_fn srv_cb;
    canto__addrs_fn addrs_cb;
    void *ud;
    char name[CANTO__DNS_NAME_MAX];
    canto__dns_lookup lk[2]; /* AAAA before A, so IPv6 results come first */
    size_t nlk, pending;
    struct sockaddr_storage *local; /* addresses found without DNS */
    size_t nlocal;
    canto__timer deliver;
    int delivering;
};

/* Start asking (never calls back synchronously: completion only marks the
 * lookup done and tells its query through canto__dns_query_lookup_done). */
void canto__dns_lookup_start(canto__dns_lookup *l);
/* Close whatever is open and release the answer. Safe on a finished lookup. */
void canto__dns_lookup_stop(canto__dns_lookup *l);
/* Called by the transport when @p l finished (l->done, l->err, l->ans set). */
void canto__dns_query_lookup_done(canto__dns_query *q);

#endif
