/**
 * @file canto/client.h
 * @brief The XMPP client: connect, log in, send and receive stanzas.
 *
 * A canto_client is one account's connection to its server. It is attached to a
 * canto_loop (built-in or the application's) and never blocks: connect() starts
 * DNS, TCP, TLS, SASL and resource binding in the background and the state
 * callback reports progress.
 *
 * Threads: a client is used only from the thread that runs its loop; every
 * callback is called on that thread, from inside the loop's dispatch.
 *
 * Ownership: strings in option structs are copied by canto_client_new(); stanzas
 * passed to send functions are not kept (the caller still owns them); stanzas
 * handed to callbacks are valid until the callback returns (canto_stanza_ref()
 * keeps one). A client may be freed from inside one of its own callbacks.
 */
#ifndef CANTO_CLIENT_H
#define CANTO_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <canto/export.h>
#include <canto/memory.h>
#include <canto/log.h>
#include <canto/loop.h>
#include <canto/stanza.h>
#include <canto/stream.h>
#include <canto/jid.h>

CANTO_BEGIN_DECLS

/** A client connection. Opaque. */
typedef struct canto_client canto_client;

/** Where a client is in its life. */
typedef enum canto_client_state {
    CANTO_CLIENT_DISCONNECTED = 0, /**< Not connected (initial and final state). */
    CANTO_CLIENT_CONNECTING,       /**< Resolving and opening TCP. */
    CANTO_CLIENT_NEGOTIATING,      /**< TLS, authentication, resource binding. */
    CANTO_CLIENT_CONNECTED,        /**< Logged in: stanzas flow. */
    CANTO_CLIENT_DISCONNECTING,    /**< Closing the stream gracefully. */
} canto_client_state;

/** @return a static name for a state ("connected", ...). */
CANTO_EXPORT const char *canto_client_state_name(canto_client_state state);

/**
 * Why a client reached CANTO_CLIENT_DISCONNECTED. Pointers are borrowed and
 * valid during the state callback only.
 */
typedef struct canto_disconnect_info {
    unsigned version;                 /**< CANTO_DISCONNECT_INFO_VERSION */
    int error;                        /**< 0 after canto_client_disconnect(), else CANTO_E* */
    canto_stream_condition condition; /**< stream error, or CANTO_STREAM_COND_NONE */
    int by_peer;                      /**< 1 if the server sent the stream error */
    const char *sasl_condition;       /**< SASL failure condition ("not-authorized"...), or NULL */
    const char *text;                 /**< the server's explanation, or NULL */
    const char *detail;               /**< one English sentence describing what happened */
    /** 1 if the client will reconnect by itself (CANTO_RECONNECT_AUTO): the
     *  next state is CONNECTING; 0 if it stays disconnected. */
    int will_reconnect;
} canto_disconnect_info;

/** Version of canto_disconnect_info filled in by this library. */
#define CANTO_DISCONNECT_INFO_VERSION 1u

/**
 * State changes. @p info is non-NULL only for CANTO_CLIENT_DISCONNECTED.
 * The client may be freed from inside this callback.
 */
typedef void (*canto_client_state_fn)(void *user_data, canto_client *client,
                                      canto_client_state state, const canto_disconnect_info *info);

/**
 * Raw XML as it is sent (@p outgoing = 1) and received, after TLS, for
 * debugging. Authentication payloads are replaced by "[redacted]".
 */
typedef void (*canto_xml_trace_fn)(void *user_data, int outgoing, const char *xml, size_t len);

/** What the client does when an established connection is lost. */
typedef enum canto_reconnect_mode {
    /** Reconnect by itself with exponential backoff and jitter, resuming the
     *  session (XEP-0198) when the server allows. Never after an
     *  authentication failure, a resource conflict, not-authorized or a
     *  policy violation, nor after canto_client_disconnect(). */
    CANTO_RECONNECT_AUTO = 0,
    /** Stay disconnected; the application calls canto_client_connect(). */
    CANTO_RECONNECT_MANUAL = 1,
} canto_reconnect_mode;

/** What happens to unacknowledged stanzas when a session could not be resumed. */
typedef enum canto_resend_policy {
    /** Send them again on the new session, messages marked with a XEP-0203
     *  `<delay/>` of when they were first sent; iq requests are never resent
     *  (their callers got CANTO_IQ_CANCELED). */
    CANTO_RESEND_WITH_DELAY = 0,
    /** Report them failed through the delivery callback. */
    CANTO_RESEND_NEVER = 1,
} canto_resend_policy;

/** How the connection is protected. */
typedef enum canto_tls_policy {
    CANTO_TLS_REQUIRED = 0, /**< STARTTLS or Direct TLS (per DNS); fail if unavailable. */
    CANTO_TLS_DIRECT = 1,   /**< Direct TLS only (XEP-0368), e.g. to a port 5223. */
    /** No TLS at all. Passwords then cross the network in a form an observer
     *  can attack; for tests against a local server only. */
    CANTO_TLS_INSECURE_PLAINTEXT = 2,
} canto_tls_policy;

/**
 * Options for canto_client_new(). Initialize with CANTO_CLIENT_OPTIONS_INIT and
 * set what you need; every string is copied.
 */
typedef struct canto_client_options {
    unsigned version;             /**< CANTO_CLIENT_OPTIONS_VERSION */
    const canto_allocator *alloc; /**< NULL: malloc */

    const char *password; /**< copied, and wiped from Canto's memory after use */
    /**
     * Alternative to @ref password: called when the password is needed; write
     * it NUL-terminated into @p buf (at most @p cap bytes) and return 0, or a
     * negative value to abort authentication.
     */
    int (*password_fn)(void *user_data, char *buf, size_t cap);
    void *password_user_data; /**< passed to @ref password_fn */
    const char *resource;     /**< requested resource; NULL lets the server choose */
    /** NULL-terminated allow-list of SASL mechanisms; NULL allows all. */
    const char *const *sasl_mechanisms;

    const char *host; /**< connect here instead of looking up SRV records */
    unsigned port;    /**< with @ref host; 0: 5222 (5223 with CANTO_TLS_DIRECT) */
    canto_tls_policy tls;
    const char *ca_file;          /**< extra trusted CAs (PEM) */
    int no_system_trust;          /**< 1: trust only @ref ca_file */
    const char *client_cert_file; /**< PEM client certificate for SASL EXTERNAL */
    const char *client_key_file;  /**< its PEM key */
    const char *resolver; /**< "IP" or "IP:PORT" of a DNS server to use instead of resolv.conf */

    /**
     * 1: stop after TLS, before authentication: CONNECTED then means the
     * client can exchange stanzas with its server only, to register an account
     * in-band (XEP-0077). No resource is bound; canto_client_jid() stays the
     * configured JID.
     */
    int preauth;

    uint32_t connect_timeout_ms; /**< DNS+TCP+negotiation; 0: 30 s */
    uint32_t keepalive_ms;       /**< whitespace keepalive after idle output; 0: 60 s */
    size_t max_stanza_bytes;     /**< largest accepted incoming stanza; 0: 1 MiB */

    canto_log_fn log;             /**< NULL: silent */
    void *log_user_data;          /**< passed to @ref log */
    canto_log_level log_level;    /**< lowest level passed to @ref log */
    canto_xml_trace_fn xml_trace; /**< NULL: none */
    void *xml_trace_user_data;    /**< passed to @ref xml_trace */

    int no_stream_management;       /**< 1: do not use XEP-0198 even if offered */
    canto_reconnect_mode reconnect; /**< default CANTO_RECONNECT_AUTO */
    uint32_t reconnect_min_ms;      /**< first backoff delay; 0: 1 s */
    uint32_t reconnect_max_ms;      /**< backoff cap; 0: 60 s */
    canto_resend_policy resend;     /**< default CANTO_RESEND_WITH_DELAY */
    /** Most stanzas sent but not yet acknowledged (or waiting for a
     *  reconnect) before send returns CANTO_EQUEUEFULL; 0: 1000. */
    size_t max_queue_stanzas;
    /** The same limit in bytes, counting unsent output too; 0: 4 MiB. */
    size_t max_queue_bytes;

    /* Version 2. */

    /**
     * Liveness: after this much silence from the server the client pings it
     * (XEP-0199, or an XEP-0198 ack request under stream management); 0: 120 s.
     * Lower it where NATs or mobile networks drop idle connections silently.
     */
    uint32_t ping_after_ms;
    /**
     * How long that ping may go unanswered before the connection counts as
     * dead: it is then closed and reported (or reconnected) like any lost
     * connection; 0: 30 s. A dead connection is thus noticed at the latest
     * @ref ping_after_ms + @ref dead_after_ms after the server fell silent.
     */
    uint32_t dead_after_ms;
} canto_client_options;

/**
 * Version of canto_client_options understood by this header. canto_client_new()
 * also accepts version 1 (the struct without the fields from @ref ping_after_ms
 * on), which then get their defaults.
 */
#define CANTO_CLIENT_OPTIONS_VERSION 2u
/** Initializer for canto_client_options. */
#define CANTO_CLIENT_OPTIONS_INIT                                                                  \
    {                                                                                              \
        CANTO_CLIENT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,                 \
            CANTO_TLS_REQUIRED, NULL, 0, NULL, NULL, NULL, 0, 0, 0, 0, NULL, NULL, CANTO_LOG_INFO, \
            NULL, NULL, 0, CANTO_RECONNECT_AUTO, 0, 0, CANTO_RESEND_WITH_DELAY, 0, 0, 0, 0         \
    }

/**
 * Create a client for account @p jid (bare or with a resource).
 * @param loop the loop that drives it; must outlive the client.
 * @param out receives the client; free with canto_client_free().
 * @return 0, CANTO_EINVAL (NULL, bad option version), CANTO_EJID_LOCAL /
 *         CANTO_EJID_DOMAIN / CANTO_EJID_RESOURCE, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_client_new(canto_loop *loop, const char *jid,
                                  const canto_client_options *opts, canto_client **out);

/** Free a client, closing its connection abruptly. NULL is allowed. */
CANTO_EXPORT void canto_client_free(canto_client *client);

/** Set (or clear with NULL) the state callback. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_client_set_state_callback(canto_client *client, canto_client_state_fn fn,
                                                 void *user_data);

/**
 * Start connecting. Progress and the outcome come through the state callback.
 * @return 0, CANTO_ESTATE (not disconnected), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_client_connect(canto_client *client);

/**
 * Close gracefully: send `</stream:stream>`, wait briefly for the server's, then
 * close TCP and report CANTO_CLIENT_DISCONNECTED with error 0.
 * @return 0, CANTO_ESTATE (already disconnected).
 */
CANTO_EXPORT int canto_client_disconnect(canto_client *client);

/** @return the current state. */
CANTO_EXPORT canto_client_state canto_client_get_state(const canto_client *client);

/**
 * The full JID the server bound (when connected), else the configured one.
 * @return borrowed; valid until the next state change.
 */
CANTO_EXPORT const canto_jid *canto_client_jid(const canto_client *client);

/**
 * A sentence describing the last failure, for messages to users.
 * @return borrowed; valid until the next call into the client; never NULL.
 */
CANTO_EXPORT const char *canto_client_last_error(const canto_client *client);

/**
 * Queue a stanza for sending. The stanza is serialized at once; the caller keeps
 * ownership.
 * @return 0, CANTO_EINVAL, CANTO_ENOTCONN (not connected), CANTO_ETOOBIG
 *         (larger than the server accepts), CANTO_EQUEUEFULL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_client_send(canto_client *client, const canto_stanza *stanza);

/* ------------------------------------------------------------------------- */
/** @name Receiving stanzas */
/**@{*/

/** Which stanzas a handler wants; NULL fields match anything. */
typedef struct canto_handler_match {
    unsigned version; /**< CANTO_HANDLER_MATCH_VERSION */
    const char *name; /**< "message", "presence", "iq" */
    const char *type; /**< the `type` attribute ("chat", "get", ...) */
    const char *ns;   /**< namespace of the first child element */
    const char *from; /**< bare JID (matches any resource) or full JID */
    const char *id;   /**< the `id` attribute */
    int priority;     /**< higher runs first; equal priorities run in the order added */
} canto_handler_match;

/** Version of canto_handler_match understood by this header. */
#define CANTO_HANDLER_MATCH_VERSION 1u
/** Initializer for canto_handler_match. */
#define CANTO_HANDLER_MATCH_INIT                                                                   \
    {                                                                                              \
        CANTO_HANDLER_MATCH_VERSION, NULL, NULL, NULL, NULL, NULL, 0                               \
    }

/**
 * Handles one stanza; valid until return. Return 1 if the stanza was consumed
 * (no later handler sees it), 0 to pass it on.
 */
typedef int (*canto_handler_fn)(void *user_data, canto_client *client, canto_stanza *stanza);

/**
 * Add a handler. Matches are copied. Safe inside any callback: a handler added
 * during dispatch first sees the next stanza.
 * @param id receives an id for canto_client_remove_handler() (may be NULL).
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_client_add_handler(canto_client *client, const canto_handler_match *match,
                                          canto_handler_fn fn, void *user_data, unsigned *id);

/**
 * Remove a handler, also from inside any callback (a removed handler is not
 * called again, not even for the stanza being dispatched).
 * @return 0, CANTO_ENOTFOUND.
 */
CANTO_EXPORT int canto_client_remove_handler(canto_client *client, unsigned id);

/**@}*/

/* ------------------------------------------------------------------------- */
/** @name Requests (iq get/set with exactly one answer) */
/**@{*/

/** How a request ended. */
typedef enum canto_iq_outcome {
    CANTO_IQ_RESULT = 0,   /**< The entity answered with type "result". */
    CANTO_IQ_ERROR = 1,    /**< The entity answered with type "error". */
    CANTO_IQ_TIMEOUT = 2,  /**< No answer within the request's timeout. */
    CANTO_IQ_CANCELED = 3, /**< The connection ended, or the client was freed, first. */
} canto_iq_outcome;

/** What a request's callback receives; valid during the callback only. */
typedef struct canto_iq_response {
    unsigned version;         /**< CANTO_IQ_RESPONSE_VERSION */
    canto_iq_outcome outcome; /**< how it ended */
    canto_stanza *stanza;     /**< the answer (RESULT, ERROR), else NULL; ref it to keep */
    canto_stanza_error error; /**< filled in for ERROR */
    const char *id;           /**< the id the request was sent with */
} canto_iq_response;

/** Version of canto_iq_response filled in by this library. */
#define CANTO_IQ_RESPONSE_VERSION 1u

/**
 * Receives the one answer to a request. Called exactly once per request that
 * canto_client_send_iq() accepted, unless canto_client_cancel_iq() removed it
 * first. May send further requests, and may free the client.
 */
typedef void (*canto_iq_fn)(void *user_data, canto_client *client,
                            const canto_iq_response *response);

/**
 * Send an iq of type "get" or "set" and get exactly one callback.
 *
 * An answer counts only if its id matches and it comes from the entity the
 * request was sent to (its `to`; for a request without `to`, the account's own
 * server: no `from`, the account's bare or full JID). Answers from anyone else
 * are ignored, so they cannot fake a result.
 *
 * @param iq the request; not kept. If it has no `id`, a unique, unpredictable
 *        one is used (the caller's tree is not changed).
 * @param timeout_ms 0: 60 seconds.
 * @param request receives a handle for canto_client_cancel_iq() (may be NULL).
 * @return 0, CANTO_EINVAL (not an iq get/set, bad `to`), CANTO_ENOTCONN, and
 *         the codes of canto_client_send(). On error no callback follows.
 */
CANTO_EXPORT int canto_client_send_iq(canto_client *client, const canto_stanza *iq,
                                      uint32_t timeout_ms, canto_iq_fn fn, void *user_data,
                                      unsigned *request);

/**
 * Forget a pending request: its callback will not be called. Safe inside any
 * callback. @return 0, CANTO_ENOTFOUND (already answered or unknown).
 */
CANTO_EXPORT int canto_client_cancel_iq(canto_client *client, unsigned request);

/** @return how many requests are waiting for an answer. */
CANTO_EXPORT size_t canto_client_pending_iqs(const canto_client *client);

/**@}*/

/* ------------------------------------------------------------------------- */
/** @name Extending the client (used by plugins; public API only) */
/**@{*/

/**
 * Add a state listener besides the state callback (plugins use these to learn
 * about connects and disconnects). Listeners run after the state callback, in
 * the order added; they may remove themselves.
 * @param id receives an id for canto_client_remove_listener() (may be NULL).
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_client_add_listener(canto_client *client, canto_client_state_fn fn,
                                           void *user_data, unsigned *id);
/** Remove a listener. @return 0, CANTO_ENOTFOUND. */
CANTO_EXPORT int canto_client_remove_listener(canto_client *client, unsigned id);

/**
 * Called with a copy of every outgoing stanza before it is serialized; may
 * change it (add `<c/>` to presence, ids to messages...). Return 0 to send, or
 * a negative CANTO_E* code to refuse (canto_client_send() returns it).
 */
typedef int (*canto_send_filter_fn)(void *user_data, canto_client *client, canto_stanza *stanza);

/**
 * Add a send filter. Filters run in the order added. While no filter is
 * installed, sending copies nothing.
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_client_add_send_filter(canto_client *client, canto_send_filter_fn fn,
                                              void *user_data, unsigned *id);
/** Remove a send filter. @return 0, CANTO_ENOTFOUND. */
CANTO_EXPORT int canto_client_remove_send_filter(canto_client *client, unsigned id);

/**
 * Announce a feature (a disco#info `var`, e.g. "urn:xmpp:ping"). The string is
 * copied. Additions are counted: a feature added twice stays until removed twice. The disco plugin
 * answers with these and the caps plugin hashes them.
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_client_add_feature(canto_client *client, const char *var);
/** Withdraw a feature. @return 0, CANTO_ENOTFOUND. */
CANTO_EXPORT int canto_client_remove_feature(canto_client *client, const char *var);
/**
 * Iterate announced features in sorted (byte-wise) order.
 * @return the feature at @p index (borrowed until the feature list changes),
 * or NULL past the end.
 */
CANTO_EXPORT const char *canto_client_feature(const canto_client *client, size_t index);

/**
 * Set the client's disco identity (XEP-0030 category/type/name); default
 * "client", "pc", no name. Strings are copied.
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_client_set_identity(canto_client *client, const char *category,
                                           const char *type, const char *name);
/** Read the identity; pointers are borrowed. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_client_get_identity(const canto_client *client, const char **category,
                                           const char **type, const char **name);

/**@}*/

/* ------------------------------------------------------------------------- */
/** @name Delivery guarantees (XEP-0198) and session persistence */
/**@{*/

/**
 * Reports the fate of a stanza sent with canto_client_send_tracked():
 * @p status 0 means the server confirmed it holds it; otherwise the CANTO_E*
 * reason it is given up (CANTO_ECLOSED: the session ended and the resend
 * policy is CANTO_RESEND_NEVER, or the client was freed; CANTO_ETIMEDOUT...).
 * Called exactly once per tracked stanza, on the loop thread.
 */
typedef void (*canto_delivery_fn)(void *user_data, canto_client *client, uint64_t token,
                                  int status);

/** Set (or clear) the delivery callback. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_client_set_delivery_callback(canto_client *client, canto_delivery_fn fn,
                                                    void *user_data);

/**
 * Send a stanza and learn through the delivery callback whether the server got
 * it. With stream management the server's acks confirm it and, across
 * reconnects, the stanza is resent until confirmed or the session is lost;
 * without it, the answer to a ping sent right after it confirms it.
 * While the client waits to reconnect a resumable session, the stanza is
 * queued and sent on resumption.
 * @param token the application's non-zero number for this stanza; it is what
 *        the callback reports and what canto_client_export_session() keeps.
 * @return as canto_client_send(); CANTO_EINVAL for token 0.
 */
CANTO_EXPORT int canto_client_send_tracked(canto_client *client, const canto_stanza *stanza,
                                           uint64_t token);

/** Called when the queue has room again after CANTO_EQUEUEFULL. */
typedef void (*canto_drain_fn)(void *user_data, canto_client *client);
/** Set (or clear) the drain callback. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_client_set_drain_callback(canto_client *client, canto_drain_fn fn,
                                                 void *user_data);

/** @return stanzas sent but not yet acknowledged, plus those waiting for a reconnect. */
CANTO_EXPORT size_t canto_client_queued(const canto_client *client);

/**
 * The network came back (or changed): retry at once instead of waiting for the
 * backoff timer. @return 0, CANTO_ESTATE (not waiting to reconnect).
 */
CANTO_EXPORT int canto_client_network_changed(canto_client *client);

/**
 * @return 1 if the last CONNECTED started a new session (plugins set their
 * state up again: presence, carbons, rooms), 0 if it resumed the previous one.
 */
CANTO_EXPORT int canto_client_session_is_new(const canto_client *client);

/**
 * Save the resumable session (bound JID, XEP-0198 id and counters, and every
 * unacknowledged stanza with its token) so another process can resume it.
 * @param out receives the buffer; free with canto_free().
 * @return 0, CANTO_ENOTFOUND (no stream management session), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_client_export_session(const canto_client *client, char **out, size_t *len);

/**
 * Load a saved session before canto_client_connect(): the client then resumes
 * it, or if that fails, treats its queue by the resend policy.
 * @return 0, CANTO_ESTATE (not disconnected), CANTO_EINVAL (not a session
 *         export, or for another account), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_client_import_session(canto_client *client, const char *data, size_t len);

/**
 * Client State Indication (XEP-0352): tell the server whether the user is
 * looking (active) or not, so it can hold back unimportant traffic. Kept and
 * sent again on new sessions.
 * @return 0, CANTO_ENOTCONN, CANTO_EUNSUPPORTED (the server does not offer it).
 */
CANTO_EXPORT int canto_client_set_active(canto_client *client, int active);

/**
 * Whether the server announced a stream feature, e.g.
 * `canto_client_has_stream_feature(c, "ver", "urn:xmpp:features:rosterver")`.
 * @param ns namespace, or NULL for any.
 * @return 1 yes, 0 no (also when not connected).
 */
CANTO_EXPORT int canto_client_has_stream_feature(const canto_client *client, const char *name,
                                                 const char *ns);

/**@}*/

CANTO_END_DECLS

#endif
