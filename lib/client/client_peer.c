/* Link-local sessions (XEP-0174) as canto_client objects: what differs from a
 * server connection is how the socket comes about (a race over the addresses
 * mDNS found, or an accepted socket), the stream set-up (no TLS, SASL or
 * bind) and the names on stanzas. */
#include "client/client_peer.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <canto/error.h>
#include "client/client_impl.h"

#define PEER_CONNECT_TIMEOUT_MS 10000

struct canto__peer_link {
    char *name; /* the peer's name; NULL until a receiver learns it */
    int incoming;
    int fd; /* receiver: accepted socket not yet given to the stream */
    struct sockaddr_storage *addrs;
    size_t naddrs;
    uint16_t port;
    canto__eyeballs *race;
    canto__stream_ll_tls tls;
    char *cert_file, *key_file;
    canto_spki_pin *pins;
    size_t npins;
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int canto__client_new_peer(canto_loop *loop, const canto__peer_options *o, canto_client **out)
{
    int fd = o ? o->fd : -1;
    if (!out || !o || !o->local || (fd < 0 && (!o->peer || !o->addrs || !o->naddrs))) {
        if (fd >= 0)
            close(fd);
        return CANTO_EINVAL;
    }
    canto_client_options co = CANTO_CLIENT_OPTIONS_INIT;
    co.alloc = o->alloc;
    co.tls = CANTO_TLS_INSECURE_PLAINTEXT; /* nothing to verify a peer's name against */
    co.no_stream_management = 1;
    co.reconnect = CANTO_RECONNECT_MANUAL;
    co.log = o->log;
    co.log_user_data = o->log_ud;
    co.log_level = o->log_level;
    co.xml_trace = o->trace;
    co.xml_trace_user_data = o->trace_ud;
    canto_client *c;
    int rc = canto_client_new(loop, o->local, &co, &c);
    if (rc) {
        if (fd >= 0)
            close(fd);
        return rc;
    }
    struct canto__peer_link *p = canto__calloc(&c->alloc, 1, sizeof(*p));
    if (!p) {
        canto_client_free(c);
        if (fd >= 0)
            close(fd);
        return CANTO_ENOMEM;
    }
    c->peer = p;
    p->fd = fd;
    p->incoming = fd >= 0;
    p->port = o->port;
    if (o->peer) {
        p->name = canto__strndup(&c->alloc, o->peer, strlen(o->peer));
        if (!p->name)
            rc = CANTO_ENOMEM;
    }
    p->tls = o->tls;
    if (rc == 0 && o->cert_file && o->key_file) {
        p->cert_file = canto__strndup(&c->alloc, o->cert_file, strlen(o->cert_file));
        p->key_file = canto__strndup(&c->alloc, o->key_file, strlen(o->key_file));
        if (!p->cert_file || !p->key_file)
            rc = CANTO_ENOMEM;
    }
    if (rc == 0 && o->npins) {
        p->pins = canto__calloc(&c->alloc, o->npins, sizeof(*p->pins));
        if (p->pins) {
            memcpy(p->pins, o->pins, o->npins * sizeof(*p->pins));
            p->npins = o->npins;
        } else {
            rc = CANTO_ENOMEM;
        }
    }
    if (rc == 0 && !p->incoming) {
        p->addrs = canto__calloc(&c->alloc, o->naddrs, sizeof(*p->addrs));
        if (p->addrs) {
            memcpy(p->addrs, o->addrs, o->naddrs * sizeof(*p->addrs));
            p->naddrs = o->naddrs;
        } else {
            rc = CANTO_ENOMEM;
        }
    }
    if (rc) {
        canto_client_free(c); /* closes p->fd */
        return rc;
    }
    *out = c;
    return 0;
}

const char *canto__client_peer_name(const canto_client *c)
{
    return c && c->peer ? c->peer->name : NULL;
}

int canto__client_peer_incoming(const canto_client *c)
{
    return c && c->peer ? c->peer->incoming : 0;
}

static void on_race(void *ud, int err, int fd, const struct sockaddr_storage *addr,
                    const char *reason)
{
    (void)addr;
    canto_client *c = ud;
    canto__client_enter(c);
    canto__eyeballs_free(c->peer->race);
    c->peer->race = NULL;
    if (err) {
        char detail[400];
        snprintf(detail, sizeof(detail), "could not connect to %s: %s", c->peer->name,
                 reason ? reason : canto_strerror(err));
        canto__client_attempt_failed(c, err, detail);
    } else {
        canto__logf(&c->log, CANTO_LOG_INFO, "linklocal", "connected to %s", c->peer->name);
        int rc = canto__client_open_stream(c, fd, 0);
        if (rc && !c->freed) {
            if (c->fd < 0)
                close(fd);
            canto__client_teardown(c);
            canto__client_attempt_failed(c, rc, "could not set up the stream");
        }
    }
    canto__client_leave(c);
}

int canto__client_peer_start(canto_client *c)
{
    struct canto__peer_link *p = c->peer;
    if (p->incoming) {
        if (p->fd < 0)
            return CANTO_ESTATE; /* an accepted stream cannot be opened again */
        int fd = p->fd;
        p->fd = -1;
        int rc = canto__client_open_stream(c, fd, 0);
        if (rc && c->fd < 0)
            close(fd);
        return rc;
    }
    return canto__eyeballs_new(c->loop, &c->log, p->addrs, p->naddrs, p->port, 0,
                               PEER_CONNECT_TIMEOUT_MS, on_race, c, &p->race);
}

void canto__client_peer_stream_config(canto_client *c, canto__stream_config *cfg)
{
    struct canto__peer_link *p = c->peer;
    cfg->role = p->incoming ? CANTO__STREAM_RECEIVER : CANTO__STREAM_INITIATOR;
    cfg->link_local = 1;
    cfg->domain = p->incoming ? NULL : p->name; /* XEP-0174 §6: `to` is the peer's name */
    cfg->from = canto_jid_bare_str(c->jid);
    cfg->tls = CANTO__TLS_NONE; /* link-local TLS is configured by the ll_ fields */
    cfg->ll_tls = p->tls;
    cfg->ll_cert_file = p->cert_file;
    cfg->ll_key_file = p->key_file;
    cfg->ll_pins = p->pins;
    cfg->ll_n_pins = p->npins;
    cfg->max_stanza_bytes = c->max_stanza_bytes;
}

void canto__client_peer_established(canto_client *c, const char *peer)
{
    struct canto__peer_link *p = c->peer;
    /* We connected to a name; what the peer then calls itself does not
     * change whom we are talking to. A receiver has only the header. */
    if (p->name || !peer)
        return;
    p->name = canto__strndup(&c->alloc, peer, strlen(peer));
}

int canto__client_peer_stamp_in(canto_client *c, canto_stanza *st)
{
    /* The stream is the proof of origin: a peer cannot speak for another. */
    if (!c->peer->name)
        return 0;
    return canto_stanza_set_attr(st, "from", c->peer->name);
}

int canto__client_peer_stamp_out(canto_client *c, canto_stanza *st)
{
    int rc = canto_stanza_set_attr(st, "from", canto_jid_bare_str(c->jid));
    if (rc == 0 && !canto_stanza_attr(st, "to") && c->peer->name)
        rc = canto_stanza_set_attr(st, "to", c->peer->name);
    return rc;
}

void canto__client_peer_teardown(canto_client *c)
{
    canto__eyeballs_free(c->peer->race);
    c->peer->race = NULL;
}

void canto__client_peer_free(canto_client *c)
{
    struct canto__peer_link *p = c->peer;
    if (!p)
        return;
    canto__eyeballs_free(p->race);
    close_fd(&p->fd);
    canto__dealloc(&c->alloc, p->name);
    canto__dealloc(&c->alloc, p->addrs);
    canto__dealloc(&c->alloc, p->cert_file);
    canto__dealloc(&c->alloc, p->key_file);
    canto__dealloc(&c->alloc, p->pins);
    canto__dealloc(&c->alloc, p);
    c->peer = NULL;
}
