/**
 * @file canto/linklocal.h
 * @brief Serverless messaging on the local network (XEP-0174), with Canto's
 *        own mDNS/DNS-SD responder and browser (RFC 6762, RFC 6763).
 *
 * A canto_linklocal announces the user as a `_presence._tcp` service named
 * "user@machine" with the TXT keys of XEP-0174 §3, watches the network for
 * other such services (peers), accepts XML streams from peers on a TCP port of
 * its own and opens streams to them when something is sent. No server takes
 * part anywhere.
 *
 * Each stream with a peer is a *session*: a canto_client in link-local mode,
 * so stanzas are received through canto_client_add_handler() and sent with
 * canto_client_send() / canto_client_send_iq() exactly as on a server
 * connection. The `session` callback hands every session over once its stream
 * is up, before any stanza from the peer is dispatched: add handlers there.
 * Stanzas from a session always carry the peer's name as `from` (whatever the
 * peer wrote), and stanzas sent through it get our name as `from`.
 * canto_linklocal_send() is the simple way to send: it picks the session for
 * the stanza's `to`, opening a stream to the peer first when there is none.
 *
 * Not on a session: stream management, reconnection, SASL and resource
 * binding (XEP-0174 streams have none of them). canto_client_send_tracked()
 * works: the peer's answer to a ping sent right after the stanza confirms it.
 * canto_linklocal_connect() opens a session ahead of time, for iq requests. Streams are plaintext
 * unless
 * @ref canto_linklocal_options::tls asks for TLS (see canto_ll_tls for what
 * it does and does not protect against).
 *
 * Threads: a canto_linklocal and its sessions are used only from the thread
 * that runs their loop; callbacks run on that thread.
 *
 * Ownership: canto_linklocal_new() gives the caller the object; free it with
 * canto_linklocal_free() before the loop. Options' strings are copied.
 * Sessions belong to the canto_linklocal: never free one with
 * canto_client_free(); canto_client_disconnect() closes it politely. A session
 * pointer is valid until the CANTO_LL_SESSION_CLOSED event for it returns.
 * Everything handed to a callback is borrowed for the duration of the call.
 * Callbacks may call any function of this API, canto_linklocal_free()
 * included.
 */
#ifndef CANTO_LINKLOCAL_H
#define CANTO_LINKLOCAL_H

#include <stddef.h>

#include <canto/client.h>
#include <canto/export.h>
#include <canto/log.h>
#include <canto/loop.h>
#include <canto/memory.h>
#include <canto/stanza.h>
#include <canto/tls.h>

CANTO_BEGIN_DECLS

/** Opaque link-local messaging object. */
typedef struct canto_linklocal canto_linklocal;

/** Availability announced in the `status` TXT key (XEP-0174 §3.3). */
typedef enum canto_ll_status {
    CANTO_LL_AVAIL = 0, /**< "avail" */
    CANTO_LL_AWAY = 1,  /**< "away" */
    CANTO_LL_DND = 2,   /**< "dnd" */
} canto_ll_status;

/** @return "avail", "away" or "dnd" ("?" for other values). */
CANTO_EXPORT const char *canto_ll_status_name(canto_ll_status status);

/** What happened to a peer. */
typedef enum canto_ll_peer_event {
    CANTO_LL_PEER_APPEARED = 0, /**< first seen (service resolved: port, TXT, address) */
    CANTO_LL_PEER_CHANGED = 1,  /**< TXT (status, nick, ...), port or addresses changed */
    CANTO_LL_PEER_GONE = 2,     /**< said goodbye, or its records expired */
} canto_ll_peer_event;

/**
 * A peer as announced. Every string is borrowed for the duration of the
 * callback (or until the next call into the object, for
 * canto_linklocal_peer()); TXT keys the peer did not send are NULL.
 */
typedef struct canto_ll_peer {
    const char *name;   /**< service instance name, "user@machine": the peer's address */
    const char *nick;   /**< `nick` */
    const char *first;  /**< `1st` */
    const char *last;   /**< `last` */
    const char *email;  /**< `email` */
    const char *jid;    /**< `jid`: the user's server account, if they gave one */
    const char *status; /**< `status` as sent ("avail", "away", "dnd"); "avail" if absent */
    const char *msg;    /**< `msg`: free-text status message */
    const char *hash;   /**< caps `hash` (XEP-0115) */
    const char *node;   /**< caps `node` */
    const char *ver;    /**< caps `ver` */
    const char *host;   /**< SRV target host name ("machine.local") */
    unsigned port;      /**< TCP port its streams are accepted on */
    /** Addresses as text: "169.254.1.2", "fe80::1%eth0" (zone = interface). */
    const char *const *addresses;
    size_t naddresses;
} canto_ll_peer;

/** Peer callback. @p peer is borrowed for the duration of the call. */
typedef void (*canto_ll_peer_fn)(void *user_data, canto_linklocal *ll, canto_ll_peer_event event,
                                 const canto_ll_peer *peer);

/** What happened to a session. */
typedef enum canto_ll_session_event {
    /** The stream is up; add handlers now. Stanzas queued by
     *  canto_linklocal_send() go out right after this callback returns. */
    CANTO_LL_SESSION_OPENED = 0,
    /** The stream is over (closed by either side, failed, or never came up:
     *  then @p error says why). The session is freed after this returns. */
    CANTO_LL_SESSION_CLOSED = 1,
} canto_ll_session_event;

/**
 * Session callback. @p peer is the peer's name, @p incoming 1 when the peer
 * opened the stream, @p error 0 or the CANTO_E* code a CLOSED session ended
 * with.
 */
typedef void (*canto_ll_session_fn)(void *user_data, canto_linklocal *ll, canto_client *session,
                                    canto_ll_session_event event, const char *peer, int incoming,
                                    int error);

/**
 * A stanza given to canto_linklocal_send() could not be delivered because the
 * stream to its peer did not come up or ended before the stanza went out.
 * @p stanza is borrowed for the duration of the call.
 */
typedef void (*canto_ll_undelivered_fn)(void *user_data, canto_linklocal *ll,
                                        const canto_stanza *stanza, int error);

/**
 * Encryption of streams with peers (STARTTLS inside the XEP-0174 stream).
 * No authority vouches for link-local names, so a peer's certificate is
 * taken as it comes unless @ref canto_linklocal_options::pins are set: that
 * stops passive eavesdroppers on the network, not an active attacker. Most
 * other XEP-0174 software speaks plaintext only.
 */
typedef enum canto_ll_tls {
    CANTO_LL_TLS_OFF = 0, /**< plaintext (the default, what peers commonly expect) */
    /** Offer TLS on streams peers open to us and use it on streams we open
     *  when the peer offers it; otherwise plaintext. */
    CANTO_LL_TLS_OPTIONAL = 1,
    /** TLS or no stream, both ways. */
    CANTO_LL_TLS_REQUIRED = 2,
} canto_ll_tls;

/** Our own name as published: renamed after a conflict ("alice@host-2"). */
typedef void (*canto_ll_name_fn)(void *user_data, canto_linklocal *ll, const char *name);

/**
 * Options for canto_linklocal_new(). Initialize with
 * CANTO_LINKLOCAL_OPTIONS_INIT; every string is copied.
 */
typedef struct canto_linklocal_options {
    unsigned version;             /**< CANTO_LINKLOCAL_OPTIONS_VERSION */
    const canto_allocator *alloc; /**< NULL: malloc */

    /** "user" or "user@machine" (required). Without "@machine" the host
     *  name is appended. Must be a valid bare JID (RFC 7622). */
    const char *name;
    const char *nick;  /**< `nick` TXT key, or NULL */
    const char *first; /**< `1st`, or NULL */
    const char *last;  /**< `last`, or NULL */
    const char *email; /**< `email`, or NULL */
    const char *jid;   /**< `jid`, or NULL */
    canto_ll_status status;
    const char *msg; /**< `msg`, or NULL */
    /** Entity capabilities (XEP-0115) to announce: all three or none. */
    const char *caps_hash, *caps_node, *caps_ver;

    /** Host label for our A/AAAA records ("machine"); NULL: gethostname(). */
    const char *host;
    /** NULL-terminated interface names to use; NULL: every interface that is
     *  up, multicast-capable and not loopback. */
    const char *const *interfaces;
    unsigned port; /**< TCP port to accept streams on; 0: any free port */
    /** TTL of our host and SRV records in seconds; 0: 120 (RFC 6762 §10).
     *  Peers forget us this long after we vanish without a goodbye. */
    unsigned ttl;
    canto_ll_tls tls; /**< default CANTO_LL_TLS_OFF */
    /** PEM certificate and key shown to peers (required unless tls is OFF);
     *  a self-signed one will do. Read when a stream starts TLS. */
    const char *cert_file, *key_file;
    /** Keys peers must present (SHA-256 of their SubjectPublicKeyInfo),
     *  copied; NULL/0: any key. Meaningful only with TLS. */
    const canto_spki_pin *pins;
    size_t npins;

    canto_ll_peer_fn peer;               /**< NULL: not told */
    canto_ll_session_fn session;         /**< NULL: not told */
    canto_ll_undelivered_fn undelivered; /**< NULL: not told */
    canto_ll_name_fn renamed;            /**< NULL: not told */
    void *user_data;                     /**< passed to the callbacks above */

    canto_log_fn log;             /**< NULL: silent */
    void *log_user_data;          /**< passed to @ref log */
    canto_log_level log_level;    /**< lowest level passed to @ref log */
    canto_xml_trace_fn xml_trace; /**< XML of every session; NULL: none */
    void *xml_trace_user_data;    /**< passed to @ref xml_trace */
} canto_linklocal_options;

/** Version of canto_linklocal_options understood by this header. */
#define CANTO_LINKLOCAL_OPTIONS_VERSION 1u
/** Initializer for canto_linklocal_options. */
#define CANTO_LINKLOCAL_OPTIONS_INIT                                                               \
    {                                                                                              \
        CANTO_LINKLOCAL_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, CANTO_LL_AVAIL, \
            NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, CANTO_LL_TLS_OFF, NULL, NULL, NULL, 0, NULL, \
            NULL, NULL, NULL, NULL, NULL, NULL, CANTO_LOG_INFO, NULL, NULL                         \
    }

/**
 * Create the object: nothing goes on the network until canto_linklocal_start().
 * @param loop drives it; must outlive it.
 * @param out receives the object; free with canto_linklocal_free().
 * @return 0, CANTO_EINVAL (NULL, bad option version, missing name, bad
 *         status, caps given partly, a TXT value over 255 bytes, TLS
 *         without a certificate and key, pins without a count),
 *         CANTO_EJID_LOCAL / CANTO_EJID_DOMAIN (name not a bare JID),
 *         CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_linklocal_new(canto_loop *loop, const canto_linklocal_options *opts,
                                     canto_linklocal **out);

/**
 * Open the TCP listener and the mDNS sockets, probe for our name (renaming on
 * a conflict: see @ref canto_linklocal_options::renamed), announce it and
 * start browsing for peers.
 * @return 0, CANTO_ESTATE (already started), CANTO_EIO (a socket could not
 *         be opened or bound, or the certificate or key file cannot be read;
 *         canto_linklocal_last_error() says which),
 *         CANTO_ENOTFOUND (no usable interface), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_linklocal_start(canto_linklocal *ll);

/**
 * Say goodbye on the network (TTL 0 records), close every session abruptly,
 * and free. Undelivered stanzas are reported first. NULL is allowed.
 */
CANTO_EXPORT void canto_linklocal_free(canto_linklocal *ll);

/**
 * Change the announced availability and message (@p msg NULL: none). Peers
 * see a TXT record update.
 * @return 0, CANTO_EINVAL (bad status, @p msg over 255 bytes), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_linklocal_set_status(canto_linklocal *ll, canto_ll_status status,
                                            const char *msg);

/**
 * Tell the object that the network changed (an interface came up or went, an
 * address was added or removed, the laptop joined another network): it reads
 * the interfaces and addresses again, joins the multicast groups on new
 * interfaces, forgets what it learned on interfaces that went away, and
 * probes and announces again (so peers learn the new addresses, and a name
 * taken on the new network is noticed). When nothing changed, nothing
 * happens. Nothing watches for such changes by itself.
 * @return 0, CANTO_EINVAL, CANTO_ESTATE (not started), CANTO_EIO (the
 *         interfaces could not be read), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_linklocal_network_changed(canto_linklocal *ll);

/**
 * Our name as currently published (changes after a conflict).
 * @return borrowed; valid until the next call into the object.
 */
CANTO_EXPORT const char *canto_linklocal_name(const canto_linklocal *ll);

/** The TCP port streams are accepted on (after start), else 0. */
CANTO_EXPORT unsigned canto_linklocal_port(const canto_linklocal *ll);

/**
 * Look a peer up by name.
 * @param out filled with borrowed strings valid until the next call into @p ll.
 * @return 0, CANTO_EINVAL, CANTO_ENOTFOUND.
 */
CANTO_EXPORT int canto_linklocal_peer(canto_linklocal *ll, const char *name, canto_ll_peer *out);

/** @return how many peers are known (not counting ourselves). */
CANTO_EXPORT size_t canto_linklocal_peer_count(const canto_linklocal *ll);

/**
 * Send a stanza to the peer named by its `to` (bare: "user@machine"), over the
 * open session with it or a stream opened now (the stanza waits until it is
 * up; at most 256 stanzas wait per peer). The caller keeps @p stanza.
 * @return 0 (sent, or queued: failure is then reported through
 *         @ref canto_linklocal_options::undelivered), CANTO_EINVAL (no `to`),
 *         CANTO_ESTATE (not started), CANTO_ENOTFOUND (no such peer is
 *         known), CANTO_EQUEUEFULL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_linklocal_send(canto_linklocal *ll, const canto_stanza *stanza);

/**
 * Send a chat message with @p body to @p peer (canto_linklocal_send()).
 * @return as canto_linklocal_send(), CANTO_EUTF8 for a body that is not UTF-8.
 */
CANTO_EXPORT int canto_linklocal_send_message(canto_linklocal *ll, const char *peer,
                                              const char *body);

/**
 * Make sure a stream with @p peer is open or opening, e.g. to send it an iq
 * with canto_client_send_iq() once CANTO_LL_SESSION_OPENED reports it.
 * @return 0 (open already: canto_linklocal_session() returns it; or opening:
 *         OPENED or CLOSED will tell), CANTO_EINVAL, CANTO_ESTATE (not
 *         started), CANTO_ENOTFOUND (no such peer is known), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_linklocal_connect(canto_linklocal *ll, const char *peer);

/**
 * The open session with @p peer, if any.
 * @return borrowed (see the ownership rules above), or NULL.
 */
CANTO_EXPORT canto_client *canto_linklocal_session(canto_linklocal *ll, const char *peer);

/**
 * A sentence describing the last failure.
 * @return borrowed; valid until the next call into the object; never NULL.
 */
CANTO_EXPORT const char *canto_linklocal_last_error(const canto_linklocal *ll);

CANTO_END_DECLS

#endif
