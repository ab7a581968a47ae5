/* The mDNS socket driver (socket.h): the engine's packets on real sockets.
 *
 * One socket per family serves every interface: it joins the group on each,
 * learns the arrival interface of a packet from IP_PKTINFO / IPV6_PKTINFO and
 * picks the outgoing interface per packet with the same control message in
 * sendmsg(), so no per-send setsockopt() is needed. Sends never wait: a
 * datagram the kernel cannot take at once is dropped, as mDNS tolerates loss.
 *
 * Multicast loopback is on so that other responders and browsers on this
 * host see us; our own packets therefore come back too and are handed to the
 * engine like any other (it recognises its own records).
 *
 * The engine calls back into us (send, and events passed on to the user)
 * from inside canto__mdns_* calls. The user may free the driver from one of
 * those events; the free then waits until the engine call has returned. */
#include "mdns/socket.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <canto/error.h>
#include "loop/loop.h"
#include "mdns/ifaces.h"
#include "mdns/msg.h"

#define AREA "mdns"
/* Datagrams read per wake-up and socket, so a flood cannot hold the loop. */
#define RECV_BURST 32
#define HOST_MAX 63

struct canto__mdns_io {
    canto_loop *loop;
    canto__alloc alloc;
    const canto__log *log;
    canto__mdns *engine;
    canto__mdns_events user_ev;
    void *user_ud;
    char **ifnames; /* copy of the configuration's list, for refresh; NULL: all */
    int no_ipv4, no_ipv6;
    int fd4, fd6;
    canto__watch *w4, *w6;
    canto__timer timer;
    canto__mdns_ifinfo *ifs;
    size_t nifs;
    uint8_t *buf; /* CANTO__MDNS_MAX_PACKET bytes */
    int depth;    /* engine calls in progress (nested through callbacks) */
    int doomed;   /* freed by the user inside a callback; finish on the way out */
};

static void destroy(canto__mdns_io *io);

/* ---- engine callbacks --------------------------------------------------- */

static void fill_dest(const canto__mdns_dest *dest, unsigned ifindex, struct sockaddr_storage *ss,
                      socklen_t *sslen)
{
    memset(ss, 0, sizeof(*ss));
    if (dest->family == AF_INET) {
        struct sockaddr_in *sin = (void *)ss;
        sin->sin_family = AF_INET;
        if (dest->unicast) {
            memcpy(&sin->sin_addr, dest->unicast->addr, 4);
            sin->sin_port = htons(dest->unicast->port);
        } else {
            sin->sin_addr.s_addr = htonl(0xe00000fbu); /* 224.0.0.251 */
            sin->sin_port = htons(CANTO__MDNS_PORT);
        }
        *sslen = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (void *)ss;
        sin6->sin6_family = AF_INET6;
        if (dest->unicast) {
            memcpy(&sin6->sin6_addr, dest->unicast->addr, 16);
            sin6->sin6_port = htons(dest->unicast->port);
        } else {
            static const uint8_t group[16] = {0xff, 0x02, [15] = 0xfb}; /* ff02::fb */
            memcpy(&sin6->sin6_addr, group, 16);
            sin6->sin6_port = htons(CANTO__MDNS_PORT);
        }
        /* Link-local and multicast destinations mean nothing without it. */
        sin6->sin6_scope_id = ifindex;
        *sslen = sizeof(*sin6);
    }
}

static void on_send(void *ud, const void *pkt, size_t len, const canto__mdns_dest *dest)
{
    canto__mdns_io *io = ud;
    unsigned ifindex = dest->ifindex;
    if (ifindex == 0 && dest->unicast)
        ifindex = dest->unicast->ifindex;
    const canto__mdns_ifinfo *ifi = canto__mdns_ifaces_find(io->ifs, io->nifs, ifindex);
    int v4 = dest->family == AF_INET;
    int fd = v4 ? io->fd4 : io->fd6;
    if (!ifi || fd < 0 || !(v4 ? ifi->iface.has_v4 : ifi->iface.has_v6)) {
        canto__logf(io->log, CANTO_LOG_DEBUG, AREA,
                    "not sending %zu bytes: no IPv%d socket on interface %u", len, v4 ? 4 : 6,
                    ifindex);
        return;
    }
    struct sockaddr_storage ss;
    socklen_t sslen;
    fill_dest(dest, ifindex, &ss, &sslen);

    /* The control message picks the outgoing interface for this packet only
     * (for multicast it overrides IP_MULTICAST_IF); the source address is left
     * to the kernel, which takes one of that interface's. */
    union {
        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct iovec iov = {.iov_base = (void *)pkt, .iov_len = len};
    struct msghdr msg = {.msg_name = &ss,
                         .msg_namelen = sslen,
                         .msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = ctl.buf};
    struct cmsghdr *c;
    if (v4) {
        struct in_pktinfo pi = {.ipi_ifindex = (int)ifindex};
        msg.msg_controllen = CMSG_SPACE(sizeof(pi));
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    } else {
        struct in6_pktinfo pi = {.ipi6_ifindex = ifindex};
        msg.msg_controllen = CMSG_SPACE(sizeof(pi));
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    }
    ssize_t n;
    do
        n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        canto__logf(io->log, CANTO_LOG_DEBUG, AREA, "sending %zu bytes on %s (IPv%d): %s", len,
                    ifi->name, v4 ? 4 : 6, strerror(errno));
}

static void on_service(void *ud, canto__mdns_svc_event ev, const canto__mdns_service *svc)
{
    canto__mdns_io *io = ud;
    if (!io->doomed && io->user_ev.service)
        io->user_ev.service(io->user_ud, ev, svc);
}

static void on_published(void *ud, unsigned handle, const char *instance)
{
    canto__mdns_io *io = ud;
    if (!io->doomed && io->user_ev.published)
        io->user_ev.published(io->user_ud, handle, instance);
}

static void on_renamed(void *ud, unsigned handle, int host, const char *new_name)
{
    canto__mdns_io *io = ud;
    if (!io->doomed && io->user_ev.renamed)
        io->user_ev.renamed(io->user_ud, handle, host, new_name);
}

static const canto__mdns_events engine_events = {
    .send = on_send,
    .service = on_service,
    .published = on_published,
    .renamed = on_renamed,
};

/* ---- timer -------------------------------------------------------------- */

static void on_timer(void *ud);

static void sync_timer(canto__mdns_io *io)
{
    uint64_t d = canto__mdns_deadline(io->engine);
    if (d == UINT64_MAX)
        canto__timer_stop(&io->timer);
    else if (!canto__timer_armed(&io->timer) || io->timer.deadline != d)
        canto__timer_start(io->loop, &io->timer, d, on_timer, io);
}

/* After an engine call made from a loop callback: a free requested inside it
 * happens now; otherwise the deadline may have moved. */
static void leave(canto__mdns_io *io)
{
    if (--io->depth > 0)
        return;
    if (io->doomed)
        destroy(io);
    else
        sync_timer(io);
}

static void on_timer(void *ud)
{
    canto__mdns_io *io = ud;
    io->depth++;
    canto__mdns_timeout(io->engine, canto_loop_now(io->loop));
    leave(io);
}

/* ---- receiving ---------------------------------------------------------- */

/* Reads one datagram. 1: *src and *len are set; 0: nothing (more) to read;
 * -1: a datagram was read and dropped, or a transient error (keep going). */
static int recv_one(canto__mdns_io *io, int fd, canto__mdns_addr *src, size_t *len)
{
    struct sockaddr_storage ss;
    union {
        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo)) +
                 64];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = io->buf, .iov_len = CANTO__MDNS_MAX_PACKET};
    struct msghdr msg = {.msg_name = &ss,
                         .msg_namelen = sizeof(ss),
                         .msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = ctl.buf,
                         .msg_controllen = sizeof(ctl.buf)};
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (errno == EINTR)
            return -1;
        /* ICMP errors after a unicast reply surface here; they concern a
         * datagram already gone and say nothing about the socket. */
        canto__logf(io->log, CANTO_LOG_DEBUG, AREA, "recvmsg: %s", strerror(errno));
        return errno == ENOMEM || errno == ENOBUFS || errno == ECONNREFUSED ||
                       errno == EHOSTUNREACH || errno == ENETUNREACH
                   ? -1
                   : 0;
    }
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        canto__logf(io->log, CANTO_LOG_DEBUG, AREA, "dropping an oversized datagram");
        return -1;
    }
    memset(src, 0, sizeof(*src));
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            src->ifindex = (unsigned)pi.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            src->ifindex = pi.ipi6_ifindex;
        }
    }
    if (ss.ss_family == AF_INET && msg.msg_namelen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *sin = (const void *)&ss;
        src->family = AF_INET;
        memcpy(src->addr, &sin->sin_addr, 4);
        src->port = ntohs(sin->sin_port);
    } else if (ss.ss_family == AF_INET6 && msg.msg_namelen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *sin6 = (const void *)&ss;
        src->family = AF_INET6;
        memcpy(src->addr, &sin6->sin6_addr, 16);
        src->port = ntohs(sin6->sin6_port);
    } else {
        return -1;
    }
    const canto__mdns_ifinfo *ifi = canto__mdns_ifaces_find(io->ifs, io->nifs, src->ifindex);
    int v4 = src->family == AF_INET;
    if (!ifi || !(v4 ? ifi->iface.has_v4 : ifi->iface.has_v6))
        return -1; /* an interface we do not use (another socket joined there) */
    if (!canto__mdns_ifaces_on_link(ifi, src)) {
        canto__logf(io->log, CANTO_LOG_DEBUG, AREA,
                    "dropping a packet on %s from an off-link source", ifi->name);
        return -1;
    }
    *len = (size_t)n;
    return 1;
}

static void on_io(void *ud, int fd, unsigned events)
{
    canto__mdns_io *io = ud;
    (void)events;
    io->depth++;
    for (int i = 0; i < RECV_BURST && !io->doomed; i++) {
        canto__mdns_addr src;
        size_t len;
        int r = recv_one(io, fd, &src, &len);
        if (r == 0)
            break;
        if (r > 0)
            canto__mdns_input(io->engine, io->buf, len, &src, canto_loop_now(io->loop));
    }
    leave(io);
}

/* ---- sockets ------------------------------------------------------------ */

static int set_int(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof(value));
}

static int open_socket(canto__mdns_io *io, int family)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) {
        canto__logf(io->log, CANTO_LOG_DEBUG, AREA, "IPv%d socket: %s", family == AF_INET ? 4 : 6,
                    strerror(errno));
        return -1;
    }
    const char *what = NULL;
    /* Sharing port 5353 with avahi, other Canto processes or any other
     * responder on the host needs both options set by every party. */
    if (set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0)
        what = "SO_REUSEADDR";
#ifdef SO_REUSEPORT
    else if (set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0)
        what = "SO_REUSEPORT";
#endif
    if (!what && family == AF_INET) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(CANTO__MDNS_PORT)};
        if (set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) < 0)
            what = "IP_PKTINFO";
        else if (set_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, 255) < 0)
            what = "IP_MULTICAST_TTL";
        else if (set_int(fd, IPPROTO_IP, IP_TTL, 255) < 0)
            what = "IP_TTL";
        else if (set_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 1) < 0)
            what = "IP_MULTICAST_LOOP";
        else if (bind(fd, (const struct sockaddr *)&sin, sizeof(sin)) < 0)
            what = "bind to port 5353";
#ifdef IP_MULTICAST_ALL
        /* Only the groups this socket joined, not those of every socket on
         * the port (best effort: older kernels lack it). */
        if (!what)
            (void)set_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0);
#endif
    } else if (!what) {
        struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(CANTO__MDNS_PORT)};
        if (set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0)
            what = "IPV6_V6ONLY";
        else if (set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) < 0)
            what = "IPV6_RECVPKTINFO";
        else if (set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255) < 0)
            what = "IPV6_MULTICAST_HOPS";
        else if (set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255) < 0)
            what = "IPV6_UNICAST_HOPS";
        else if (set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 1) < 0)
            what = "IPV6_MULTICAST_LOOP";
        else if (bind(fd, (const struct sockaddr *)&sin6, sizeof(sin6)) < 0)
            what = "bind to port 5353";
#ifdef IPV6_MULTICAST_ALL
        if (!what)
            (void)set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0);
#endif
    }
    if (what) {
        canto__logf(io->log, CANTO_LOG_WARN, AREA, "IPv%d socket: %s: %s",
                    family == AF_INET ? 4 : 6, what, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Join (@p join 1) or leave the group on @p ifi; 0 or -errno. */
static int membership(int fd, int family, const canto__mdns_ifinfo *ifi, int join)
{
    int rc;
    if (family == AF_INET) {
        struct ip_mreqn mr = {.imr_ifindex = (int)ifi->iface.ifindex};
        mr.imr_multiaddr.s_addr = htonl(0xe00000fbu);
        rc = setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mr,
                        sizeof(mr));
    } else {
        struct ipv6_mreq mr = {.ipv6mr_interface = ifi->iface.ifindex};
        static const uint8_t group[16] = {0xff, 0x02, [15] = 0xfb};
        memcpy(&mr.ipv6mr_multiaddr, group, 16);
        rc = setsockopt(fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &mr,
                        sizeof(mr));
    }
    /* Joined already: a refresh found the interface again. */
    if (rc < 0 && !(join && errno == EADDRINUSE))
        return -errno;
    return 0;
}

/* Joins each interface of @p ifs whose family flags are set, clearing the
 * flag where it cannot (no socket of the family, or the join failed). */
static void join_all(canto__mdns_io *io, canto__mdns_ifinfo *ifs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        canto__mdns_iface *f = &ifs[i].iface;
        if (f->has_v4) {
            int rc = io->fd4 < 0 ? -EAFNOSUPPORT : membership(io->fd4, AF_INET, &ifs[i], 1);
            if (rc < 0) {
                f->has_v4 = 0;
                if (io->fd4 >= 0)
                    canto__logf(io->log, CANTO_LOG_WARN, AREA, "joining 224.0.0.251 on %s: %s",
                                ifs[i].name, strerror(-rc));
            }
        }
        if (f->has_v6) {
            int rc = io->fd6 < 0 ? -EAFNOSUPPORT : membership(io->fd6, AF_INET6, &ifs[i], 1);
            if (rc < 0) {
                f->has_v6 = 0;
                if (io->fd6 >= 0)
                    canto__logf(io->log, CANTO_LOG_WARN, AREA, "joining ff02::fb on %s: %s",
                                ifs[i].name, strerror(-rc));
            }
        }
    }
}

/* Leaves the groups on the interfaces of the current set missing from the
 * new one (or present without that family any more). */
static void leave_dropped(canto__mdns_io *io, const canto__mdns_ifinfo *next, size_t nnext)
{
    for (size_t i = 0; i < io->nifs; i++) {
        const canto__mdns_ifinfo *old = &io->ifs[i];
        const canto__mdns_ifinfo *now = canto__mdns_ifaces_find(next, nnext, old->iface.ifindex);
        /* The interface may be gone already, taking its memberships along:
         * errors are expected and harmless. */
        if (old->iface.has_v4 && (!now || !now->iface.has_v4))
            (void)membership(io->fd4, AF_INET, old, 0);
        if (old->iface.has_v6 && (!now || !now->iface.has_v6))
            (void)membership(io->fd6, AF_INET6, old, 0);
    }
}

/* Rescans, joins, and tells the engine; on failure the old set stays. */
static int apply_ifaces(canto__mdns_io *io)
{
    canto__mdns_ifinfo *ifs;
    size_t n;
    int rc =
        canto__mdns_ifaces_scan(&io->alloc, io->log, (const char *const *)io->ifnames, &ifs, &n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (io->no_ipv4)
            ifs[i].iface.has_v4 = 0;
        if (io->no_ipv6)
            ifs[i].iface.has_v6 = 0;
    }
    join_all(io, ifs, n);
    /* The engine gets only the usable interfaces, contiguously. */
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        if (ifs[i].iface.has_v4 || ifs[i].iface.has_v6)
            ifs[used++] = ifs[i];
    canto__mdns_iface *list = canto__calloc(&io->alloc, used ? used : 1, sizeof(*list));
    if (!list) {
        canto__dealloc(&io->alloc, ifs);
        return CANTO_ENOMEM;
    }
    for (size_t i = 0; i < used; i++) {
        list[i] = ifs[i].iface;
        canto__logf(io->log, CANTO_LOG_DEBUG, AREA, "interface %s (%u):%s%s, %zu address(es)",
                    ifs[i].name, ifs[i].iface.ifindex, ifs[i].iface.has_v4 ? " IPv4" : "",
                    ifs[i].iface.has_v6 ? " IPv6" : "", ifs[i].iface.naddrs);
    }
    leave_dropped(io, ifs, used);
    canto__dealloc(&io->alloc, io->ifs);
    io->ifs = ifs;
    io->nifs = used;
    rc = canto__mdns_set_ifaces(io->engine, list, used, canto_loop_now(io->loop));
    canto__dealloc(&io->alloc, list);
    if (rc < 0)
        return rc;
    return used ? 0 : CANTO_ENOTFOUND;
}

static int copy_ifnames(canto__mdns_io *io, const char *const *names)
{
    if (!names)
        return 0;
    size_t n = 0;
    while (names[n])
        n++;
    io->ifnames = canto__calloc(&io->alloc, n + 1, sizeof(char *));
    if (!io->ifnames)
        return CANTO_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        io->ifnames[i] = canto__strndup(&io->alloc, names[i], strlen(names[i]));
        if (!io->ifnames[i])
            return CANTO_ENOMEM;
    }
    return 0;
}

static void host_label(const canto__mdns_io_config *config, char *out, size_t cap)
{
    const char *src = config ? config->host : NULL;
    char name[256];
    if (!src) {
        if (gethostname(name, sizeof(name)) < 0 || name[0] == '\0')
            strcpy(name, "canto");
        name[sizeof(name) - 1] = '\0';
        src = name;
    }
    size_t len = strcspn(src, ".");
    if (len >= cap)
        len = cap - 1;
    memcpy(out, src, len);
    out[len] = '\0';
}

static void destroy(canto__mdns_io *io)
{
    io->doomed = 1; /* no user events from here on */
    if (io->engine)
        canto__mdns_free(io->engine, canto_loop_now(io->loop));
    canto__timer_stop(&io->timer);
    canto__watch_remove(io->w4);
    canto__watch_remove(io->w6);
    if (io->fd4 >= 0)
        close(io->fd4);
    if (io->fd6 >= 0)
        close(io->fd6);
    if (io->ifnames)
        for (char **p = io->ifnames; *p; p++)
            canto__dealloc(&io->alloc, *p);
    canto__dealloc(&io->alloc, io->ifnames);
    canto__dealloc(&io->alloc, io->ifs);
    canto__dealloc(&io->alloc, io->buf);
    canto__alloc a = io->alloc;
    canto__dealloc(&a, io);
}

int canto__mdns_io_new(canto_loop *loop, const canto__mdns_io_config *config,
                       const canto__mdns_events *ev, void *ud, canto__mdns_io **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!loop || !ev)
        return CANTO_EINVAL;
    const canto__alloc *a = canto__loop_alloc(loop);
    canto__mdns_io *io = canto__calloc(a, 1, sizeof(*io));
    if (!io)
        return CANTO_ENOMEM;
    io->loop = loop;
    io->alloc = *a;
    io->log = canto__loop_log(loop);
    io->user_ev = *ev;
    io->user_ud = ud;
    io->fd4 = io->fd6 = -1;
    io->no_ipv4 = config && config->no_ipv4;
    io->no_ipv6 = config && config->no_ipv6;
    int rc = copy_ifnames(io, config ? config->ifnames : NULL);
    if (rc == 0 && !(io->buf = canto__malloc(&io->alloc, CANTO__MDNS_MAX_PACKET)))
        rc = CANTO_ENOMEM;
    if (rc == 0) {
        char host[HOST_MAX + 1];
        host_label(config, host, sizeof(host));
        rc = canto__mdns_new(&io->alloc, io->log, host, &engine_events, io, &io->engine);
    }
    if (rc == 0) {
        if (!io->no_ipv4)
            io->fd4 = open_socket(io, AF_INET);
        if (!io->no_ipv6)
            io->fd6 = open_socket(io, AF_INET6);
        if (io->fd4 < 0 && io->fd6 < 0)
            rc = CANTO_EIO;
    }
    if (rc == 0 && io->fd4 >= 0)
        rc = canto__watch_add(loop, io->fd4, CANTO_IO_IN, on_io, io, &io->w4);
    if (rc == 0 && io->fd6 >= 0)
        rc = canto__watch_add(loop, io->fd6, CANTO_IO_IN, on_io, io, &io->w6);
    if (rc == 0)
        rc = apply_ifaces(io);
    if (rc < 0) {
        destroy(io);
        return rc;
    }
    sync_timer(io);
    *out = io;
    return 0;
}

void canto__mdns_io_free(canto__mdns_io *io)
{
    if (!io)
        return;
    if (io->depth > 0) {
        io->doomed = 1;
        return;
    }
    destroy(io);
}

canto__mdns *canto__mdns_io_engine(canto__mdns_io *io)
{
    return io ? io->engine : NULL;
}

void canto__mdns_io_kick(canto__mdns_io *io)
{
    if (io && !io->doomed)
        sync_timer(io);
}

uint64_t canto__mdns_io_now(const canto__mdns_io *io)
{
    return io ? canto_loop_now(io->loop) : 0;
}

int canto__mdns_io_refresh(canto__mdns_io *io)
{
    if (!io)
        return CANTO_EINVAL;
    if (io->doomed)
        return CANTO_ESTATE;
    int rc = apply_ifaces(io);
    if (io->depth == 0)
        sync_timer(io);
    return rc;
}
