/* Private layout of canto_client, shared by client.c (object, options, state),
 * client_connect.c (connection plan, stream set-up, redirects), client_io.c
 * (socket, watch, timer) and dispatch.c (handlers). */
#ifndef CANTO_CLIENT_CLIENT_IMPL_H
#define CANTO_CLIENT_CLIENT_IMPL_H

#include <canto/client.h>
#include "base/alloc.h"
#include "base/log.h"
#include "loop/loop.h"
#include "net/connect_plan.h"
#include "net/tls.h"
#include "stream/sasl.h"
#include "stream/stream.h"

typedef struct canto__iq canto__iq;

/* Listeners and send filters: arrays walked in order; removal marks, and
 * compaction waits until no walk is under way. */
typedef struct canto__hook {
    unsigned id;
    void (*fn)(void);
    void *ud;
    int removed;
} canto__hook;

typedef struct canto__hooks {
    canto__hook *items;
    size_t n, cap;
    int walking, dirty;
} canto__hooks;

typedef struct canto__handler {
    unsigned id;
    int priority;
    unsigned generation; /* dispatches started before it was added skip it */
    int removed;
    char *name, *type, *ns, *from, *id_attr;
    int from_bare; /* `from` has no resource: match any resource */
    canto_handler_fn fn;
    void *ud;
} canto__handler;

struct canto_client {
    canto__alloc alloc;
    canto__log log;
    canto_loop *loop;
    canto_jid *jid;   /* as configured */
    canto_jid *bound; /* after binding */

    /* Copied options. */
    char *password; /* wiped before it is freed */
    int (*password_fn)(void *ud, char *buf, size_t cap);
    void *password_ud;
    char *resource;
    char **mechanisms; /* NULL-terminated, or NULL */
    char *host;
    unsigned port;
    canto_tls_policy tls;
    char *ca_file;
    int no_system_trust;
    char *cert_file, *key_file;
    char *resolver_addr;
    int preauth;
    uint32_t connect_timeout_ms, keepalive_ms;
    uint32_t ping_after_ms, dead_after_ms; /* 0: the stream's defaults */
    size_t max_stanza_bytes;
    canto_xml_trace_fn trace;
    void *trace_ud;

    canto_client_state state;
    canto_client_state_fn state_fn;
    void *state_ud;
    char last_error[512];

    canto__resolver *resolver;
    canto__connect_plan *plan;
    int fd;
    canto__watch *watch;
    unsigned watched; /* events currently requested */
    canto__timer timer;
    canto__stream *stream;
    canto__tls_ctx *tls_ctx; /* trust store and priorities shared by every connection */
    canto__tls_config tls_config;
    canto__sasl_config sasl_config;
    char *redirect_host; /* see-other-host target, if any */
    unsigned redirect_port;
    unsigned redirects;
    int established_once;
    int user_closing; /* canto_client_disconnect() was called */

    /* The stream ended inside one of its own calls; handled once it returns. */
    int stream_done;
    int retrying; /* the plan moved on after a stream failure kept in `end` */
    canto__stream_end end;
    char end_text[256], end_detail[512], end_sasl[64], end_host[300];

    canto__handler *handlers;
    size_t nhandlers, handler_cap;
    unsigned next_handler_id;
    unsigned generation;
    int dispatching;

    canto__hooks listeners, filters;
    unsigned next_hook_id;
    char **features;        /* sorted, owned */
    unsigned *feature_refs; /* how many times each was added */
    size_t nfeatures, feature_cap;
    char *identity[3]; /* category, type, name; NULL: defaults */

    /* Reliability (reliability.c). */
    canto__sm *sm; /* NULL: stream management disabled */
    canto_reconnect_mode reconnect_mode;
    uint32_t backoff_min, backoff_max;
    unsigned attempt;
    canto__timer reconnect_timer;
    int waiting_reconnect;
    canto_resend_policy resend;
    size_t max_q_stanzas, max_q_bytes;
    int want_drain;
    canto_delivery_fn delivery_fn;
    void *delivery_ud;
    canto_drain_fn drain_fn;
    void *drain_ud;
    int session_new;
    int csi;           /* -1: never set; else the last active flag */
    long long lost_at; /* wall clock (s) when the last session was lost */

    canto__iq *iqs; /* pending requests, newest first */
    unsigned next_iq_handle;

    /* Link-local session (XEP-0174, client_peer.c): set for the clients a
     * canto_linklocal makes; NULL/0 for server connections. */
    struct canto__peer_link *peer;

    int depth; /* nesting of entries from the loop */
    int freed; /* canto_client_free() was called while depth > 0 */
};

/* client.c */
void canto__client_set_state(canto_client *c, canto_client_state st,
                             const canto_disconnect_info *info);
/* Tell the callback and listeners about @p st without changing c->state. */
void canto__client_notify_state(canto_client *c, canto_client_state st,
                                const canto_disconnect_info *info);
void canto__client_set_error(canto_client *c, const char *fmt, ...) CANTO_PRINTF(2, 3);
/* Entry/exit around every callback from the loop, so that the client can be
 * freed from inside application callbacks. leave() returns 1 if the client is
 * gone. */
void canto__client_enter(canto_client *c);
int canto__client_leave(canto_client *c);

/* client_connect.c */
int canto__client_start(canto_client *c);
void canto__client_teardown(canto_client *c);
/* The stream ended (stream_done is set): reconnect elsewhere or report. */
void canto__client_stream_over(canto_client *c);

/* client_peer.c */
/* Start a link-local session's connection (initiator). */
int canto__client_peer_start(canto_client *c);
/* The stream set-up for a link-local session. */
void canto__client_peer_stream_config(canto_client *c, canto__stream_config *cfg);
/* The peer told its name in its stream header (receiver) or we knew it. */
void canto__client_peer_established(canto_client *c, const char *peer);
/* Stamp our name as `from` on outgoing stanzas, the peer's on incoming. */
int canto__client_peer_stamp_out(canto_client *c, canto_stanza *st);
int canto__client_peer_stamp_in(canto_client *c, canto_stanza *st);
void canto__client_peer_teardown(canto_client *c);
void canto__client_peer_free(canto_client *c);

/* client_connect.c */
/* Begin the XMPP stream on the connected socket @p fd (now the client's). */
int canto__client_open_stream(canto_client *c, int fd, int direct_tls);
/* No stream came about (connect failed, set-up failed): report or retry. */
void canto__client_attempt_failed(canto_client *c, int err, const char *detail);

/* client_io.c */
int canto__client_io_attach(canto_client *c, int fd);
void canto__client_io_detach(canto_client *c);
/* Write what the stream has for the socket and re-arm watch and timer. */
void canto__client_io_sync(canto_client *c);

/* extend.c */
void canto__client_notify_listeners(canto_client *c, canto_client_state st,
                                    const canto_disconnect_info *info);
/* 0, or the first filter's refusal. */
int canto__client_run_filters(canto_client *c, canto_stanza *st);
void canto__hooks_compact(canto__hooks *h);
void canto__hooks_free(canto_client *c, canto__hooks *h);
void canto__client_features_free(canto_client *c);

/* reliability.c */
int canto__client_reliability_init(canto_client *c, const canto_client_options *o);
void canto__client_reliability_free(canto_client *c);
int canto__client_queue_check(canto_client *c);
void canto__client_output_drained(canto_client *c);
int canto__client_can_queue_offline(const canto_client *c);
int canto__client_queue_offline(canto_client *c, const canto_stanza *st, uint64_t token);
int canto__client_confirm_by_ping(canto_client *c, uint64_t token);
void canto__client_session_lost_queue(canto_client *c);
int canto__client_should_reconnect(const canto_client *c, const canto__stream_end *end);
void canto__client_schedule_reconnect(canto_client *c);
void canto__client_new_session(canto_client *c);

/* client.c */
int canto__client_send_token(canto_client *c, const canto_stanza *stanza, uint64_t token);

/* iq.c */
/* 1 if @p st answered a pending request (then it is consumed). */
int canto__client_iq_answer(canto_client *c, canto_stanza *st);
/* Every pending request gets its CANCELED callback. */
void canto__client_iq_cancel_all(canto_client *c);

/* dispatch.c */
void canto__client_dispatch(canto_client *c, canto_stanza *st);
void canto__client_handlers_free(canto_client *c);

#endif
