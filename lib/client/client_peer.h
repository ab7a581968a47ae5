/* Clients for link-local sessions (XEP-0174): the canto_linklocal layer makes
 * one canto_client per stream with a peer, so that applications receive and
 * send on it with the ordinary client API. Such a client has no server, no
 * SASL, no binding, no stream management and never reconnects; it connects to
 * addresses the mDNS browser found (initiator) or runs on a socket the
 * listener accepted (receiver). */
#ifndef CANTO_CLIENT_CLIENT_PEER_H
#define CANTO_CLIENT_CLIENT_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <canto/client.h>
#include <canto/tls.h>
#include "stream/stream.h"

typedef struct canto__peer_options {
    const canto_allocator *alloc;
    canto_log_fn log;
    void *log_ud;
    canto_log_level log_level;
    canto_xml_trace_fn trace;
    void *trace_ud;
    const char *local; /* our name ("user@machine"): must be a bare JID */
    const char *peer;  /* initiator: the peer's name; receiver: NULL (learned from its header) */
    int fd;            /* receiver: the accepted socket, handed over; initiator: -1 */
    const struct sockaddr_storage *addrs; /* initiator: the peer's addresses (copied) */
    size_t naddrs;
    uint16_t port;
    /* TLS inside the stream; files and pins copied. */
    canto__stream_ll_tls tls;
    const char *cert_file, *key_file;
    const canto_spki_pin *pins;
    size_t npins;
} canto__peer_options;

/* The client starts with canto_client_connect() like any other. On failure
 * a receiver's fd is closed. */
int canto__client_new_peer(canto_loop *loop, const canto__peer_options *o, canto_client **out);
/* The peer's name: NULL for a receiver until its stream header arrived. */
const char *canto__client_peer_name(const canto_client *c);
int canto__client_peer_incoming(const canto_client *c);

#endif
