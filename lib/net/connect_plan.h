/* Getting a TCP connection to an XMPP server for a domain (RFC 6120 §3.2,
 * XEP-0368, RFC 8305):
 *
 *  1. _xmpps-client._tcp.DOMAIN and _xmpp-client._tcp.DOMAIN are looked up in
 *     parallel and merged into one list in RFC 2782 order, each entry marked
 *     Direct TLS (xmpps) or STARTTLS. No records at all: DOMAIN:5222 STARTTLS.
 *     A lone "." target means "service not offered"; if that leaves nothing
 *     the plan fails instead of falling back. An explicit host skips SRV.
 *  2. For each target in turn, A and AAAA are resolved in parallel, then the
 *     addresses are raced Happy-Eyeballs style: IPv6 and IPv4 interleaved
 *     (IPv6 first), a new non-blocking connect every attempt delay while the
 *     earlier ones are pending, a refused connect starts the next at once, the
 *     first to complete wins and the others are closed.
 *  3. The first connection is handed over; when it proves bad at the XMPP
 *     level (TLS failed, say), canto__connect_plan_next() carries on.
 *
 * Everything runs from loop callbacks; no call here blocks or calls back
 * synchronously. Logs go to area "connect" (the resolver logs as "dns"). */
#ifndef CANTO_NET_CONNECT_PLAN_H
#define CANTO_NET_CONNECT_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/resolver.h"

#define CANTO__XMPP_CLIENT_PORT 5222
#define CANTO__XMPPS_CLIENT_PORT 5223

typedef struct canto__connect_target {
    char host[CANTO__DNS_NAME_MAX];
    uint16_t port;
    int direct_tls; /* from _xmpps-client (or an explicit Direct TLS host) */
} canto__connect_target;

/* Target list from the two SRV lookups (@p *_err as given to canto__srv_fn,
 * records borrowed). Writes an array of @p *n targets to @p out (free with
 * canto__dealloc). @return 0, CANTO_ECONNECT (_xmpp-client says "." and no
 * usable record is left: the domain offers no client service) or CANTO_ENOMEM.
 * Lookups that failed count as "no records", so both failing falls back to
 * DOMAIN:5222 — the connection attempt then tells whether the host exists. */
int canto__connect_targets(const canto__alloc *a, const char *domain, int xmpps_err,
                           const canto__srv_record *xmpps, size_t nxmpps, int xmpp_err,
                           const canto__srv_record *xmpp, size_t nxmpp, canto__rand_fn rnd,
                           void *rnd_ud, canto__connect_target **out, size_t *n);

/* RFC 8305 §4 order: alternate families starting with IPv6, keeping the order
 * within each family. @p out has room for @p n. @return n. */
size_t canto__addrs_interleave(const struct sockaddr_storage *in, size_t n,
                               struct sockaddr_storage *out);

/* ------------------------------------------------------------------------ */
/* Happy Eyeballs over one target's addresses (used by the plan; exposed for
 * tests). */

typedef struct canto__eyeballs canto__eyeballs;

/* @p err 0: @p fd is connected (non-blocking, close-on-exec, TCP_NODELAY) and
 * now belongs to the callee; @p addr is its peer. Otherwise CANTO_ECONNECT or
 * CANTO_ETIMEDOUT (the last failure was a timeout), fd -1, and @p reason says
 * what failed last. Pointers are valid during the call. The callback may free
 * the race. */
typedef void (*canto__eyeballs_fn)(void *ud, int err, int fd, const struct sockaddr_storage *addr,
                                   const char *reason);

/* Start racing @p addrs (copied; port set to @p port). 0 ms delay/timeout
 * mean 250 / 10000. @return 0, CANTO_EINVAL (no addresses), CANTO_ENOMEM. */
int canto__eyeballs_new(canto_loop *loop, const canto__log *log,
                        const struct sockaddr_storage *addrs, size_t n, uint16_t port,
                        unsigned delay_ms, unsigned timeout_ms, canto__eyeballs_fn cb, void *ud,
                        canto__eyeballs **out);
/* After a success: race the addresses not tried yet (the ones closed when the
 * winner completed count as not tried). @return 0 (a callback will come),
 * CANTO_ENOTFOUND (none left; no callback), CANTO_ESTATE (still running). */
int canto__eyeballs_resume(canto__eyeballs *e);
/* Close pending attempts and free; no callback afterwards. NULL allowed. */
void canto__eyeballs_free(canto__eyeballs *e);

/* ------------------------------------------------------------------------ */
/* The plan */

typedef struct canto__connect_plan canto__connect_plan;

typedef struct canto__connect_config {
    /* Explicit server: skip SRV and connect to host:port (port 0: 5222, or
     * 5223 with direct_tls). host may be an IP literal. NULL: use SRV. */
    const char *host;
    uint16_t port;
    int direct_tls;
    unsigned attempt_delay_ms;   /* 0: 250 (RFC 8305 "Connection Attempt Delay") */
    unsigned attempt_timeout_ms; /* 0: 10000, per connect() */
    unsigned plan_timeout_ms;    /* 0: 30000, from start or from each _next() */
    canto__rand_fn rnd;          /* SRV weights; NULL: canto__rand_gnutls */
    void *rnd_ud;
    const canto__log *log; /* copied; NULL: the resolver's log */
} canto__connect_config;

#define CANTO__CONNECT_CONFIG_INIT                                                                 \
    {                                                                                              \
        NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL                                                      \
    }

typedef struct canto__connect_result {
    int fd;           /* connected socket; the callee owns it from now on */
    const char *host; /* target host name (SRV target or explicit host) */
    uint16_t port;
    int direct_tls;               /* start TLS at once (xmpps) instead of STARTTLS */
    struct sockaddr_storage addr; /* the peer address, port included */
} canto__connect_result;

/* @p err 0: @p res is set (its strings valid until the next call into the
 * plan, or until it is freed). Otherwise the plan is over: CANTO_EDNS (no
 * target could be resolved), CANTO_ECONNECT (no service, or every address
 * refused / failed), CANTO_ETIMEDOUT (plan timeout, or the last attempt timed
 * out), CANTO_ENOMEM; @p reason is a sentence about the last failure, valid
 * during the call. The callback may call canto__connect_plan_next() or free
 * the plan. */
typedef void (*canto__connect_fn)(void *ud, int err, const canto__connect_result *res,
                                  const char *reason);

/* Start connecting to @p domain's XMPP client service through @p r (which must
 * outlive the plan). cfg NULL: defaults; strings are copied.
 * @return 0, CANTO_EINVAL (bad domain or config), CANTO_ENOMEM. Free with
 * canto__connect_plan_free(). */
int canto__connect_plan_new(canto__resolver *r, const char *domain,
                            const canto__connect_config *cfg, canto__connect_fn cb, void *ud,
                            canto__connect_plan **out);
/* After a successful callback, try further: the untried addresses of the
 * same target first unless @p skip_target, then the following targets. The
 * plan timeout starts again. A callback follows.
 * @return 0, CANTO_ESTATE (not after a success, or the plan is over). */
int canto__connect_plan_next(canto__connect_plan *p, int skip_target);
/* Cancel everything (pending sockets are closed; a handed-over fd is not
 * touched); no callback afterwards. NULL allowed; allowed inside the callback. */
void canto__connect_plan_free(canto__connect_plan *p);

/* The ordered targets once the SRV step is over (borrowed; 0 before). */
size_t canto__connect_plan_targets(const canto__connect_plan *p, const canto__connect_target **out);

#endif
