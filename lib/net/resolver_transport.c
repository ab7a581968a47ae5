/* One DNS question, asked over the network: a fresh non-blocking UDP socket per
 * try (so the kernel picks a new random source port each time), a fresh random
 * id, a per-try timer, and the nameservers taken in turn for the configured
 * number of rounds. A truncated UDP answer repeats the try over TCP with the
 * 2-byte length framing of RFC 1035 §4.2.2. Answers that do not match our
 * question are ignored, so only the real server's reply ends a try early. */
#include "net/resolver_impl.h"

#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <canto/error.h>

#define AREA "dns"
/* No EDNS is sent, so a real answer over UDP fits in 512 bytes; the buffer is
 * larger only to read and drop oversized junk in one piece. */
#define UDP_BUF 4096
/* Datagrams read per wake-up, so a flood cannot hold the loop. */
#define UDP_BURST 16

static void next_try(canto__dns_lookup *l);
static void on_io(void *ud, int fd, unsigned events);

static canto__resolver *res(const canto__dns_lookup *l)
{
    return l->q->r;
}

static const char *type_name(uint16_t type)
{
    return type == ns_t_srv ? "SRV" : type == ns_t_a ? "A" : "AAAA";
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static int same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static void close_conn(canto__dns_lookup *l)
{
    canto__watch_remove(l->watch);
    l->watch = NULL;
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    canto__timer_stop(&l->timer);
    canto__dealloc(&res(l)->alloc, l->in);
    l->in = NULL;
    l->in_len = l->in_have = 0;
    l->conn = CANTO__DNS_IDLE;
}

static void finish(canto__dns_lookup *l, int err)
{
    close_conn(l);
    l->done = 1;
    l->err = err;
    canto__dns_query_lookup_done(l->q);
}

static void on_timeout(void *ud)
{
    canto__dns_lookup *l = ud;
    char ns[64];
    canto__sockaddr_format(&res(l)->ns[l->ns], ns, sizeof(ns));
    canto__logf(&res(l)->log, CANTO_LOG_DEBUG, AREA, "%s %s: no answer from %s in %u ms",
                type_name(l->type), l->q->name, ns, res(l)->timeout_ms);
    next_try(l);
}

/* A try failed for a reason other than silence. */
static void try_failed(canto__dns_lookup *l, const char *why)
{
    char ns[64];
    canto__sockaddr_format(&res(l)->ns[l->ns], ns, sizeof(ns));
    canto__logf(&res(l)->log, CANTO_LOG_DEBUG, AREA, "%s %s: %s: %s", type_name(l->type),
                l->q->name, ns, why);
    l->errors++;
    next_try(l);
}

static int arm(canto__dns_lookup *l, unsigned events)
{
    canto__resolver *r = res(l);
    int rc = canto__watch_add(r->loop, l->fd, events, on_io, l, &l->watch);
    if (rc == 0)
        rc = canto__timer_start(r->loop, &l->timer, canto_loop_now(r->loop) + r->timeout_ms,
                                on_timeout, l);
    return rc;
}

static int start_udp(canto__dns_lookup *l)
{
    const struct sockaddr_storage *ns = &res(l)->ns[l->ns];
    l->fd = socket(ns->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0)
        return -errno;
    /* connect() makes the kernel drop datagrams from any other address/port
     * and report ICMP errors to us; the source is still checked on receipt. */
    if (connect(l->fd, (const struct sockaddr *)ns, addr_len(ns)) < 0)
        return -errno;
    if (send(l->fd, l->out + 2, l->out_len - 2, MSG_NOSIGNAL) < 0)
        return -errno;
    l->conn = CANTO__DNS_UDP;
    return arm(l, CANTO_IO_IN) == 0 ? 0 : -ENOMEM;
}

static void next_try(canto__dns_lookup *l)
{
    canto__resolver *r = res(l);
    close_conn(l);
    while (l->tries < r->rounds * r->nns) {
        l->ns = l->tries % r->nns;
        l->tries++;
        uint16_t id = (uint16_t)canto__rand_gnutls(NULL);
        int n = canto__dns_build_query(l->q->name, l->type, id, l->out + 2, CANTO__DNS_QUERY_MAX);
        if (n < 0) {
            finish(l, CANTO_EDNS); /* cannot happen: the name was checked up front */
            return;
        }
        l->id = id;
        l->out[0] = (unsigned char)(n >> 8);
        l->out[1] = (unsigned char)n;
        l->out_len = (size_t)n + 2;
        int rc = start_udp(l);
        if (rc == 0)
            return;
        close_conn(l);
        char ns[64];
        canto__sockaddr_format(&r->ns[l->ns], ns, sizeof(ns));
        canto__logf(&r->log, CANTO_LOG_DEBUG, AREA, "%s %s: cannot ask %s: %s", type_name(l->type),
                    l->q->name, ns, strerror(-rc));
        l->errors++;
    }
    /* Only silence everywhere is a timeout; any error reply or socket failure
     * makes it a DNS failure. */
    int err = l->errors ? CANTO_EDNS : CANTO_ETIMEDOUT;
    canto__logf(&r->log, CANTO_LOG_WARN, AREA, "%s %s: %s after %u tries", type_name(l->type),
                l->q->name, err == CANTO_EDNS ? "failed" : "timed out", l->tries);
    finish(l, err);
}

static void start_tcp(canto__dns_lookup *l)
{
    const struct sockaddr_storage *ns = &res(l)->ns[l->ns];
    close_conn(l);
    canto__logf(&res(l)->log, CANTO_LOG_DEBUG, AREA, "%s %s: answer truncated, asking over TCP",
                type_name(l->type), l->q->name);
    l->fd = socket(ns->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0) {
        try_failed(l, strerror(errno));
        return;
    }
    if (connect(l->fd, (const struct sockaddr *)ns, addr_len(ns)) < 0 && errno != EINPROGRESS) {
        try_failed(l, strerror(errno));
        return;
    }
    l->conn = CANTO__DNS_TCP_CONNECT;
    l->out_sent = 0;
    if (arm(l, CANTO_IO_OUT) != 0)
        try_failed(l, "cannot watch the socket");
}

/* Acts on a parsed answer. @return 1 if the lookup moved on (stop reading). */
static int handle_answer(canto__dns_lookup *l, const unsigned char *msg, size_t len, int tcp)
{
    canto__dns_answer ans;
    canto__dns_status st =
        canto__dns_parse(&res(l)->alloc, msg, len, l->q->name, l->type, l->id, &ans);
    switch (st) {
    case CANTO__DNS_IGNORE:
        canto__logf(&res(l)->log, CANTO_LOG_DEBUG, AREA,
                    "%s %s: ignoring a reply that does not answer our query", type_name(l->type),
                    l->q->name);
        if (tcp) /* nothing else will come on this connection */
            try_failed(l, "unusable reply over TCP");
        return tcp;
    case CANTO__DNS_TRUNCATED:
        if (tcp)
            try_failed(l, "truncated reply over TCP");
        else
            start_tcp(l);
        return 1;
    case CANTO__DNS_SERVER_FAIL: {
        char why[40];
        snprintf(why, sizeof(why), "server error (rcode %d)", ans.rcode);
        try_failed(l, why);
        return 1;
    }
    case CANTO__DNS_NOTFOUND:
        canto__logf(&res(l)->log, CANTO_LOG_DEBUG, AREA, "%s %s: no such records",
                    type_name(l->type), l->q->name);
        finish(l, CANTO_ENOTFOUND);
        return 1;
    case CANTO__DNS_NOMEM:
        finish(l, CANTO_ENOMEM);
        return 1;
    case CANTO__DNS_ANSWER:
        canto__logf(&res(l)->log, CANTO_LOG_DEBUG, AREA, "%s %s: %zu record(s)", type_name(l->type),
                    l->q->name, ans.count);
        l->ans = ans;
        finish(l, 0);
        return 1;
    }
    return 1;
}

static void udp_readable(canto__dns_lookup *l)
{
    unsigned char buf[UDP_BUF];
    for (int i = 0; i < UDP_BURST; i++) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        ssize_t n =
            recvfrom(l->fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            /* ECONNREFUSED and friends: the ICMP error of a closed port. */
            try_failed(l, strerror(errno));
            return;
        }
        if (!same_endpoint(&from, &res(l)->ns[l->ns]) || (size_t)n > sizeof(buf))
            continue;
        if (handle_answer(l, buf, (size_t)n, 0))
            return;
    }
}

static void tcp_send(canto__dns_lookup *l)
{
    while (l->out_sent < l->out_len) {
        ssize_t n = send(l->fd, l->out + l->out_sent, l->out_len - l->out_sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n < 0) {
            try_failed(l, strerror(errno));
            return;
        }
        l->out_sent += (size_t)n;
    }
    l->conn = CANTO__DNS_TCP_RECV;
    l->in_have = 0;
    if (canto__watch_set(l->watch, CANTO_IO_IN) != 0)
        try_failed(l, "cannot watch the socket");
}

static void tcp_recv(canto__dns_lookup *l)
{
    for (;;) {
        unsigned char *dst;
        size_t want;
        if (!l->in) {
            dst = l->in_prefix + l->in_have;
            want = 2 - l->in_have;
        } else {
            dst = l->in + l->in_have;
            want = l->in_len - l->in_have;
        }
        ssize_t n = recv(l->fd, dst, want, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            try_failed(l, n == 0 ? "connection closed before the reply" : strerror(errno));
            return;
        }
        l->in_have += (size_t)n;
        if (!l->in && l->in_have == 2) {
            l->in_len = ((size_t)l->in_prefix[0] << 8) | l->in_prefix[1];
            if (l->in_len < NS_HFIXEDSZ) {
                try_failed(l, "reply too short");
                return;
            }
            l->in = canto__malloc(&res(l)->alloc, l->in_len);
            if (!l->in) {
                finish(l, CANTO_ENOMEM);
                return;
            }
            l->in_have = 0;
        } else if (l->in && l->in_have == l->in_len) {
            handle_answer(l, l->in, l->in_len, 1);
            return;
        }
    }
}

static void on_io(void *ud, int fd, unsigned events)
{
    canto__dns_lookup *l = ud;
    (void)fd;
    switch (l->conn) {
    case CANTO__DNS_UDP:
        udp_readable(l);
        return;
    case CANTO__DNS_TCP_CONNECT: {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        if (soerr) {
            try_failed(l, strerror(soerr));
            return;
        }
        if (!(events & CANTO_IO_OUT))
            return;
        l->conn = CANTO__DNS_TCP_SEND;
        tcp_send(l);
        return;
    }
    case CANTO__DNS_TCP_SEND:
        tcp_send(l);
        return;
    case CANTO__DNS_TCP_RECV:
        tcp_recv(l);
        return;
    case CANTO__DNS_IDLE:
        return;
    }
}

void canto__dns_lookup_start(canto__dns_lookup *l)
{
    l->fd = -1;
    l->tries = 0;
    l->errors = 0;
    l->done = 0;
    next_try(l);
}

void canto__dns_lookup_stop(canto__dns_lookup *l)
{
    close_conn(l);
    canto__dns_answer_clear(&res(l)->alloc, &l->ans);
}
