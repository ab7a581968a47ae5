/* Streams with peers (XEP-0174 §6-8): one canto_client per stream, made for
 * a send to a peer with no stream yet or for a stream a peer opened; stanzas
 * wait while a stream comes up, and whatever cannot be delivered is reported.
 * Sessions end with their stream and are freed from a timer, never from
 * inside their own callbacks. */
#include "linklocal/linklocal_impl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include <canto/error.h>
#include "client/client_peer.h"
#include "mdns/msg.h"

static void report_undelivered(canto_linklocal *ll, canto__ll_session *s, int error)
{
    while (s->waiting) {
        canto__ll_waiting *w = s->waiting;
        s->waiting = w->next;
        if (ll->opts.undelivered)
            ll->opts.undelivered(ll->opts.user_data, ll, w->stanza, error);
        canto_stanza_free(w->stanza);
        canto__dealloc(&ll->alloc, w);
    }
    s->waiting_tail = &s->waiting;
    s->nwaiting = 0;
}

static void reap(void *ud)
{
    canto_linklocal *ll = ud;
    canto__ll_session **pp = &ll->sessions;
    while (*pp) {
        canto__ll_session *s = *pp;
        if (!s->dead) {
            pp = &s->next;
            continue;
        }
        *pp = s->next;
        canto_client_free(s->client);
        canto__dealloc(&ll->alloc, s);
    }
}

/* Mark @p s for the reaper, which frees it in the next loop round. */
static void bury(canto_linklocal *ll, canto__ll_session *s)
{
    s->dead = 1;
    if (!ll->freed)
        canto__timer_start(ll->loop, &ll->reaper, canto_loop_now(ll->loop), reap, ll);
}

static void flush_waiting(canto_linklocal *ll, canto__ll_session *s)
{
    while (s->waiting && !s->dead && !ll->freed) {
        canto__ll_waiting *w = s->waiting;
        s->waiting = w->next;
        if (!s->waiting)
            s->waiting_tail = &s->waiting;
        s->nwaiting--;
        int rc = canto_client_send(s->client, w->stanza);
        if (rc && ll->opts.undelivered)
            ll->opts.undelivered(ll->opts.user_data, ll, w->stanza, rc);
        canto_stanza_free(w->stanza);
        canto__dealloc(&ll->alloc, w);
    }
}

/* A stream someone opened to us must come from an address its claimed name
 * announced: otherwise anyone on the network could speak as anyone. */
static int incoming_ok(canto_linklocal *ll, canto__ll_session *s, const char *peer)
{
    if (!peer) {
        canto__logf(&ll->log, CANTO_LOG_WARN, "linklocal",
                    "refusing a stream from a peer that gave no name");
        return 0;
    }
    if (!canto__ll_find_peer(ll, peer)) {
        /* Its announcement may still be on the way; the stream itself names
         * the peer, and stanzas on it are stamped with that name. */
        canto__logf(&ll->log, CANTO_LOG_INFO, "linklocal",
                    "stream from %s, which has not been seen on mDNS yet", peer);
        return 1;
    }
    if (!canto__ll_peer_has_addr(ll, peer, &s->remote)) {
        canto__logf(&ll->log, CANTO_LOG_WARN, "linklocal",
                    "refusing a stream claiming to be %s from an address it did not announce",
                    peer);
        return 0;
    }
    return 1;
}

static void on_state(void *ud, canto_client *client, canto_client_state st,
                     const canto_disconnect_info *info)
{
    canto__ll_session *s = ud;
    canto_linklocal *ll = s->ll;
    if (s->dead || ll->freed)
        return;
    const char *peer = canto__client_peer_name(client);
    if (st == CANTO_CLIENT_CONNECTED && !s->opened) {
        if (s->incoming && !incoming_ok(ll, s, peer)) {
            canto_client_disconnect(client);
            return;
        }
        s->opened = 1;
        canto__ll_enter(ll);
        if (ll->opts.session)
            ll->opts.session(ll->opts.user_data, ll, client, CANTO_LL_SESSION_OPENED, peer,
                             s->incoming, 0);
        if (!ll->freed)
            flush_waiting(ll, s);
        canto__ll_leave(ll);
        return;
    }
    if (st != CANTO_CLIENT_DISCONNECTED)
        return;
    int error = info ? info->error : 0;
    canto__ll_enter(ll);
    bury(ll, s);
    report_undelivered(ll, s, error ? error : CANTO_ENOTCONN);
    /* An incoming stream that never came up was never the application's. */
    if ((s->opened || !s->incoming) && ll->opts.session && !ll->freed)
        ll->opts.session(ll->opts.user_data, ll, client, CANTO_LL_SESSION_CLOSED, peer ? peer : "",
                         s->incoming, error);
    canto__ll_leave(ll);
}

static int add_session(canto_linklocal *ll, const canto__peer_options *po, int incoming,
                       canto__ll_session **out)
{
    canto__ll_session *s = canto__calloc(&ll->alloc, 1, sizeof(*s));
    if (!s) {
        if (po->fd >= 0)
            close(po->fd);
        return CANTO_ENOMEM;
    }
    s->ll = ll;
    s->incoming = incoming;
    s->waiting_tail = &s->waiting;
    int rc = canto__client_new_peer(ll->loop, po, &s->client);
    if (rc == 0)
        rc = canto_client_add_listener(s->client, on_state, s, &s->listener_id);
    if (rc) {
        canto_client_free(s->client);
        canto__dealloc(&ll->alloc, s);
        return rc;
    }
    s->next = ll->sessions;
    ll->sessions = s;
    *out = s;
    return 0;
}

static void peer_options(canto_linklocal *ll, canto__peer_options *po)
{
    memset(po, 0, sizeof(*po));
    po->alloc = ll->opts.alloc;
    po->log = ll->opts.log;
    po->log_ud = ll->opts.log_user_data;
    po->log_level = ll->opts.log_level;
    po->trace = ll->opts.xml_trace;
    po->trace_ud = ll->opts.xml_trace_user_data;
    po->local = canto_linklocal_name(ll);
    po->fd = -1;
    po->tls = ll->opts.tls == CANTO_LL_TLS_REQUIRED   ? CANTO__LL_TLS_REQUIRE
              : ll->opts.tls == CANTO_LL_TLS_OPTIONAL ? CANTO__LL_TLS_OPTIONAL
                                                      : CANTO__LL_TLS_OFF;
    po->cert_file = ll->cert_file;
    po->key_file = ll->key_file;
    po->pins = ll->pins;
    po->npins = ll->npins;
}

void canto__ll_session_accepted(canto_linklocal *ll, int fd, const struct sockaddr_storage *remote)
{
    canto__peer_options po;
    peer_options(ll, &po);
    po.fd = fd;
    canto__ll_session *s;
    if (add_session(ll, &po, 1, &s) != 0) {
        canto__logf(&ll->log, CANTO_LOG_WARN, "linklocal", "dropped an incoming stream");
        return;
    }
    s->remote = *remote;
    if (canto_client_connect(s->client) != 0)
        bury(ll, s);
}

static canto__ll_session *find_session(canto_linklocal *ll, const char *peer)
{
    canto__ll_session *connecting = NULL;
    for (canto__ll_session *s = ll->sessions; s; s = s->next) {
        const char *name = canto__client_peer_name(s->client);
        if (s->dead || !name || !canto__mdns_name_eq(name, peer))
            continue;
        if (s->opened)
            return s;
        if (!s->incoming)
            connecting = s;
    }
    return connecting;
}

/* Addresses to connect to, the peer's port in each; IPv6 link-local ones
 * need their interface as scope. */
static size_t peer_sockaddrs(const canto__ll_peer *p, struct sockaddr_storage *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < p->naddrs && n < cap; i++) {
        const canto__mdns_addr *a = &p->addrs[i];
        memset(&out[n], 0, sizeof(out[n]));
        if (a->family == AF_INET) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&out[n];
            s4->sin_family = AF_INET;
            memcpy(&s4->sin_addr, a->addr, 4);
            s4->sin_port = htons(p->port);
        } else if (a->family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out[n];
            s6->sin6_family = AF_INET6;
            memcpy(&s6->sin6_addr, a->addr, 16);
            s6->sin6_port = htons(p->port);
            if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
                s6->sin6_scope_id = a->ifindex;
        } else {
            continue;
        }
        n++;
    }
    return n;
}

static int open_session(canto_linklocal *ll, const canto__ll_peer *p, canto__ll_session **out)
{
    struct sockaddr_storage addrs[16];
    size_t n = peer_sockaddrs(p, addrs, sizeof(addrs) / sizeof(addrs[0]));
    if (n == 0) {
        canto__ll_set_error(ll, "%s announced no address to connect to", p->name);
        return CANTO_ENOTFOUND;
    }
    canto__peer_options po;
    peer_options(ll, &po);
    po.peer = p->name;
    po.addrs = addrs;
    po.naddrs = n;
    po.port = p->port;
    *out = NULL;
    int rc = add_session(ll, &po, 0, out);
    if (rc == 0)
        rc = canto_client_connect((*out)->client);
    if (rc) {
        canto__ll_set_error(ll, "could not open a stream to %s: %s", p->name, canto_strerror(rc));
        if (*out)
            bury(ll, *out);
    }
    return rc;
}

static int enqueue(canto_linklocal *ll, canto__ll_session *s, const canto_stanza *st)
{
    if (s->nwaiting >= CANTO__LL_MAX_WAITING)
        return CANTO_EQUEUEFULL;
    canto__ll_waiting *w = canto__calloc(&ll->alloc, 1, sizeof(*w));
    if (!w)
        return CANTO_ENOMEM;
    int rc = canto_stanza_copy(st, &w->stanza);
    if (rc) {
        canto__dealloc(&ll->alloc, w);
        return rc;
    }
    *s->waiting_tail = w;
    s->waiting_tail = &w->next;
    s->nwaiting++;
    return 0;
}

/* The session with the peer @p to names (a resource, if any, rides along:
 * peers are named by bare JIDs), opening one if there is none. */
static int session_for(canto_linklocal *ll, const char *to, canto__ll_session **out)
{
    if (!ll->started)
        return CANTO_ESTATE;
    char peer[CANTO__MDNS_NAME_MAX];
    size_t len = strcspn(to, "/");
    if (len >= sizeof(peer))
        return CANTO_ENOTFOUND;
    memcpy(peer, to, len);
    peer[len] = '\0';
    *out = find_session(ll, peer);
    if (*out)
        return 0;
    const canto__ll_peer *p = canto__ll_find_peer(ll, peer);
    if (!p) {
        canto__ll_set_error(ll, "no peer named %s is on the network", peer);
        return CANTO_ENOTFOUND;
    }
    return open_session(ll, p, out);
}

int canto_linklocal_send(canto_linklocal *ll, const canto_stanza *st)
{
    if (!ll || !st)
        return CANTO_EINVAL;
    const char *to = canto_stanza_attr(st, "to");
    if (!to || !to[0])
        return CANTO_EINVAL;
    canto__ll_session *s = NULL;
    int rc = session_for(ll, to, &s);
    if (rc)
        return rc;
    if (s->opened)
        return canto_client_send(s->client, st);
    return enqueue(ll, s, st);
}

int canto_linklocal_connect(canto_linklocal *ll, const char *peer)
{
    if (!ll || !peer || !peer[0])
        return CANTO_EINVAL;
    canto__ll_session *s = NULL;
    return session_for(ll, peer, &s);
}

int canto_linklocal_send_message(canto_linklocal *ll, const char *peer, const char *body)
{
    if (!ll || !peer || !body)
        return CANTO_EINVAL;
    canto_stanza *m;
    int rc = canto_stanza_new_message(ll->opts.alloc, "chat", peer, NULL, body, &m);
    if (rc)
        return rc;
    rc = canto_linklocal_send(ll, m);
    canto_stanza_free(m);
    return rc;
}

canto_client *canto_linklocal_session(canto_linklocal *ll, const char *peer)
{
    if (!ll || !peer)
        return NULL;
    canto__ll_session *s = find_session(ll, peer);
    return s && s->opened ? s->client : NULL;
}

void canto__ll_peer_gone(canto_linklocal *ll, const char *name)
{
    for (canto__ll_session *s = ll->sessions; s && !ll->freed; s = s->next) {
        const char *peer = canto__client_peer_name(s->client);
        if (!s->dead && peer && canto__mdns_name_eq(peer, name))
            canto_client_disconnect(s->client);
    }
}

void canto__ll_sessions_free(canto_linklocal *ll)
{
    while (ll->sessions) {
        canto__ll_session *s = ll->sessions;
        ll->sessions = s->next;
        s->dead = 1; /* no more events from it */
        report_undelivered(ll, s, CANTO_ECANCELED);
        canto_client_remove_listener(s->client, s->listener_id);
        /* XEP-0174 §8: the peer hears </stream:stream> rather than a reset;
         * freeing right after still flushes it to the socket. */
        if (s->opened)
            canto_client_disconnect(s->client);
        canto_client_free(s->client);
        canto__dealloc(&ll->alloc, s);
    }
}
