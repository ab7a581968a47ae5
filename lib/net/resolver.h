/* Asynchronous DNS for the transport layer: SRV, A and AAAA lookups over
 * non-blocking UDP (TCP when an answer is truncated), driven by a canto_loop.
 *
 * Nothing here blocks and nothing goes through the C library's name service
 * (no getaddrinfo, no res_query, no nsswitch): queries are built with libresolv's
 * res_nmkquery and answers parsed with ns_initparse / ns_parserr / dn_expand.
 * The only local files read are resolv.conf (for nameserver lines) and hosts,
 * both with plain reads, both overridable so tests never touch the real ones.
 *
 * The lower half of this header is pure functions (packet building and parsing,
 * file parsers, RFC 2782 ordering) that the unit tests reach directly. */
#ifndef CANTO_NET_RESOLVER_H
#define CANTO_NET_RESOLVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <canto/loop.h>
#include "base/alloc.h"
#include "base/log.h"

/* ------------------------------------------------------------------------ */
/* Records */

/* Longest presentation-form name kept (253 characters + slack for a final dot
 * and the NUL). Longer names cannot be host names and are dropped. */
#define CANTO__DNS_NAME_MAX 256
/* Most nameservers used (resolv.conf's limit is 3; config strings may give more). */
#define CANTO__DNS_MAX_NS 8

typedef struct canto__srv_record {
    uint16_t priority, weight, port;
    /* Host name without a trailing dot; "." for the root ("service not offered"). */
    char target[CANTO__DNS_NAME_MAX];
} canto__srv_record;

/* ------------------------------------------------------------------------ */
/* The resolver object */

typedef struct canto__resolver canto__resolver;
typedef struct canto__dns_query canto__dns_query;

typedef struct canto__resolver_config {
    /* Nameservers separated by spaces or commas: "127.0.0.1", "127.0.0.1:5353",
     * "::1", "[::1]:5353". NULL or "": read them from @ref resolv_conf. */
    const char *nameservers;
    /* NULL: "/etc/resolv.conf". A missing file or one without nameserver lines
     * means 127.0.0.1:53, as in the C library. */
    const char *resolv_conf;
    /* NULL: "/etc/hosts"; "": do not consult a hosts file. Read on every
     * address lookup so edits are seen without a restart. */
    const char *hosts;
    unsigned timeout_ms;   /* per try; 0: 2000 */
    unsigned rounds;       /* passes over the nameserver list; 0: 2 */
    const canto__log *log; /* copied; NULL: the loop's log */
} canto__resolver_config;

#define CANTO__RESOLVER_CONFIG_INIT                                                                \
    {                                                                                              \
        NULL, NULL, NULL, 0, 0, NULL                                                               \
    }

/* Results are borrowed: valid only during the callback, copy what you keep.
 * @p err is 0 (then n >= 1), CANTO_ENOTFOUND (NXDOMAIN or no records of the
 * type), CANTO_ETIMEDOUT (no nameserver answered), CANTO_EDNS (nameservers
 * answered with errors or garbage, or sockets failed) or CANTO_ENOMEM.
 * Callbacks never run inside the call that started the query; they may cancel
 * other queries, start new ones and free the resolver. */
typedef void (*canto__srv_fn)(void *ud, int err, const canto__srv_record *recs, size_t n);
/* Addresses have port 0; IPv6 ones come first. */
typedef void (*canto__addrs_fn)(void *ud, int err, const struct sockaddr_storage *addrs, size_t n);

/* Create a resolver on @p loop (config NULL: defaults; strings are copied).
 * Reads resolv.conf now unless nameservers are given.
 * @return 0, CANTO_EINVAL (bad nameserver string or config), CANTO_ENOMEM.
 * Free with canto__resolver_free() before the loop. */
int canto__resolver_new(canto_loop *loop, const canto__resolver_config *cfg, canto__resolver **out);
/* Cancel every pending query (no callback runs afterwards) and free. NULL is
 * allowed; so is calling it from inside a callback of this resolver. */
void canto__resolver_free(canto__resolver *r);

canto_loop *canto__resolver_loop(const canto__resolver *r);
const canto__log *canto__resolver_log(const canto__resolver *r);

/* Look up SRV records of @p name (e.g. "_xmpp-client._tcp.example.org").
 * @p out (may be NULL) receives a handle that stays valid until the callback
 * returns or the query is cancelled; the resolver owns it.
 * @return 0, CANTO_EINVAL (bad name), CANTO_ENOMEM. */
int canto__resolver_srv(canto__resolver *r, const char *name, canto__srv_fn cb, void *ud,
                        canto__dns_query **out);
/* Addresses of @p host: an IPv4 or IPv6 literal is returned as is, then the
 * hosts file is consulted, "localhost" names fall back to the loopback
 * addresses, and only then A and/or AAAA queries go out, in parallel. The
 * result succeeds if either family produced an address. Handle as above.
 * @return 0, CANTO_EINVAL (bad name, or neither family wanted), CANTO_ENOMEM. */
int canto__resolver_addrs(canto__resolver *r, const char *host, int want_v4, int want_v6,
                          canto__addrs_fn cb, void *ud, canto__dns_query **out);
/* Cancel a pending query: its callback will not run and @p q is freed. NULL,
 * and a query whose callback is running (a no-op), are allowed. */
void canto__dns_query_cancel(canto__dns_query *q);

/* ------------------------------------------------------------------------ */
/* Pure helpers (no I/O), exposed for the connection plan and the unit tests */

/* Build a recursive query for (@p name, @p type, class IN) with header id @p id
 * into @p buf. @return the length, or CANTO_EINVAL (bad or too long name,
 * buffer too small). */
int canto__dns_build_query(const char *name, uint16_t type, uint16_t id, unsigned char *buf,
                           size_t cap);

typedef enum canto__dns_status {
    CANTO__DNS_IGNORE = 0,  /* not the answer to our question, or malformed */
    CANTO__DNS_ANSWER,      /* records of the wanted type were found */
    CANTO__DNS_NOTFOUND,    /* NXDOMAIN, or NOERROR without such records */
    CANTO__DNS_TRUNCATED,   /* TC set: ask again over TCP */
    CANTO__DNS_SERVER_FAIL, /* SERVFAIL, REFUSED, ...: ask another nameserver */
    CANTO__DNS_NOMEM,
} canto__dns_status;

/* A parsed answer. Exactly one array is used, depending on the question type;
 * both are allocated with the allocator given to the parser. */
typedef struct canto__dns_answer {
    canto__srv_record *srv;
    struct sockaddr_storage *addrs; /* port 0 */
    size_t count;
    int rcode; /* the header's RCODE, for log messages */
} canto__dns_answer;

/* Check @p msg against the question (@p name, @p type, IN) sent with id @p id
 * and collect the answer records of @p type, following CNAMEs from @p name.
 * Everything that does not match — wrong id, not a response, another question,
 * records cut short, compression loops — gives CANTO__DNS_IGNORE. On
 * CANTO__DNS_ANSWER, release @p out with canto__dns_answer_clear(). */
canto__dns_status canto__dns_parse(const canto__alloc *a, const unsigned char *msg, size_t len,
                                   const char *name, uint16_t type, uint16_t id,
                                   canto__dns_answer *out);
void canto__dns_answer_clear(const canto__alloc *a, canto__dns_answer *ans);

/* Compare DNS names: ASCII case-insensitive, a final dot ignored. */
int canto__dns_name_eq(const char *a, const char *b);

/* Parse @p text as an IPv4 or IPv6 literal (IPv6 may be in brackets and carry
 * a numeric or named %scope). Fills @p out with port 0. @return 1 if it is one. */
int canto__dns_ip_literal(const char *text, struct sockaddr_storage *out);

/* Parse one nameserver "addr", "addr:port" (IPv4), "[addr]:port" or a bare IPv6
 * address into @p out (default port 53). @p len: characters of @p text to use.
 * @return 0 or CANTO_EINVAL. */
int canto__dns_parse_nameserver(const char *text, size_t len, struct sockaddr_storage *out);

/* "addr" or "[addr]" followed by ":port" when the port is not 0, into @p buf. */
void canto__sockaddr_format(const struct sockaddr_storage *sa, char *buf, size_t cap);

/* Nameservers from resolv.conf text (only "nameserver" lines are honoured;
 * comments with '#' or ';'). @return how many were stored in @p out (<= cap). */
size_t canto__resolv_conf_parse(const char *text, size_t len, struct sockaddr_storage *out,
                                size_t cap);

/* Addresses listed for @p name in hosts-file text, in file order, with the
 * families asked for. @return how many were stored in @p out (<= cap). */
size_t canto__hosts_lookup(const char *text, size_t len, const char *name, int want_v4, int want_v6,
                           struct sockaddr_storage *out, size_t cap);

/* Read a small local file into a NUL-terminated buffer (free with
 * canto__dealloc). @return 0, CANTO_ENOTFOUND (cannot open), CANTO_EIO,
 * CANTO_ETOOBIG (over @p max bytes), CANTO_ENOMEM. */
int canto__dns_read_file(const canto__alloc *a, const char *path, size_t max, char **out,
                         size_t *len);

/* A source of uniformly distributed 32-bit values. */
typedef uint32_t (*canto__rand_fn)(void *ud);
/* Unpredictable values from GnuTLS (ud unused); 0 if GnuTLS fails. */
uint32_t canto__rand_gnutls(void *ud);

/* RFC 2782 order of @p recs: priorities ascending; inside a priority, records
 * drawn one by one by weighted random selection (weight-0 records listed first,
 * so they win only on a draw of 0). Writes a permutation of 0..n-1 to @p order.
 * One value is drawn from @p rnd per choice among two or more records whose
 * weights are not all 0. */
void canto__srv_order(const canto__srv_record *recs, size_t n, canto__rand_fn rnd, void *rnd_ud,
                      size_t *order);

#endif
