/* canto_client: object life cycle, copied options, state reporting. */
#include "client/client_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include <canto/error.h>
#include "base/id.h"
#include "stream/sm.h"

const char *canto_client_state_name(canto_client_state state)
{
    switch (state) {
    case CANTO_CLIENT_DISCONNECTED:
        return "disconnected";
    case CANTO_CLIENT_CONNECTING:
        return "connecting";
    case CANTO_CLIENT_NEGOTIATING:
        return "negotiating";
    case CANTO_CLIENT_CONNECTED:
        return "connected";
    case CANTO_CLIENT_DISCONNECTING:
        return "disconnecting";
    }
    return "unknown";
}

static char *dup_str(canto_client *c, const char *s, int *failed)
{
    if (!s)
        return NULL;
    char *d = canto__strndup(&c->alloc, s, strlen(s));
    if (!d)
        *failed = 1;
    return d;
}

static char **dup_list(canto_client *c, const char *const *list, int *failed)
{
    if (!list)
        return NULL;
    size_t n = 0;
    while (list[n])
        n++;
    char **out = canto__calloc(&c->alloc, n + 1, sizeof(*out));
    if (!out) {
        *failed = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = dup_str(c, list[i], failed);
    return out;
}

static void free_list(canto_client *c, char **list)
{
    if (!list)
        return;
    for (size_t i = 0; list[i]; i++)
        canto__dealloc(&c->alloc, list[i]);
    canto__dealloc(&c->alloc, list);
}

static void wipe_password(canto_client *c)
{
    if (c->password) {
        gnutls_memset(c->password, 0, strlen(c->password));
        canto__dealloc(&c->alloc, c->password);
        c->password = NULL;
    }
}

static const char tls_ctx_key = 0;

static void free_tls_ctx(void *ctx)
{
    canto__tls_ctx_free(ctx);
}

/* All clients on a loop share one TLS context (priority cache and
 * credentials, ~9 KB): it lives as long as the loop. The trust store is not in
 * it: loaded per handshake and released, it costs milliseconds, kept it would
 * cost megabytes. */
static int shared_tls_ctx(canto_loop *loop, canto__tls_ctx **out)
{
    canto__tls_ctx *ctx = canto__loop_attached(loop, &tls_ctx_key);
    if (!ctx) {
        int rc = canto__tls_ctx_new(canto__loop_alloc(loop), &ctx);
        if (rc)
            return rc;
        rc = canto__loop_attach(loop, &tls_ctx_key, ctx, free_tls_ctx);
        if (rc) {
            canto__tls_ctx_free(ctx);
            return rc;
        }
    }
    *out = ctx;
    return 0;
}

int canto_client_new(canto_loop *loop, const char *jid, const canto_client_options *opts,
                     canto_client **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    /* Older callers pass a shorter struct: accept every version up to ours,
     * and read a field only if its version has it. */
    if (!loop || !jid ||
        (opts && (opts->version < 1 || opts->version > CANTO_CLIENT_OPTIONS_VERSION)))
        return CANTO_EINVAL;
    canto_client_options defaults = CANTO_CLIENT_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if ((unsigned)opts->tls > CANTO_TLS_INSECURE_PLAINTEXT)
        return CANTO_EINVAL;
    canto__alloc a;
    int rc = canto__alloc_init(&a, opts->alloc);
    if (rc)
        return rc;
    canto_client *c = canto__calloc(&a, 1, sizeof(*c));
    if (!c)
        return CANTO_ENOMEM;
    c->alloc = a;
    c->loop = loop;
    c->fd = -1;
    c->log = (canto__log){opts->log, opts->log_user_data, opts->log_level};
    rc = canto_jid_parse(opts->alloc, jid, &c->jid);
    if (rc) {
        canto__dealloc(&a, c);
        return rc;
    }
    int failed = 0;
    c->password = dup_str(c, opts->password, &failed);
    c->password_fn = opts->password_fn;
    c->password_ud = opts->password_user_data;
    c->resource = dup_str(c, opts->resource ? opts->resource : canto_jid_resource(c->jid), &failed);
    c->mechanisms = dup_list(c, opts->sasl_mechanisms, &failed);
    c->host = dup_str(c, opts->host, &failed);
    c->port = opts->port;
    c->tls = opts->tls;
    c->ca_file = dup_str(c, opts->ca_file, &failed);
    c->no_system_trust = opts->no_system_trust;
    c->cert_file = dup_str(c, opts->client_cert_file, &failed);
    c->key_file = dup_str(c, opts->client_key_file, &failed);
    c->resolver_addr = dup_str(c, opts->resolver, &failed);
    c->preauth = opts->preauth;
    c->connect_timeout_ms = opts->connect_timeout_ms;
    c->keepalive_ms = opts->keepalive_ms;
    if (opts->version >= 2) {
        c->ping_after_ms = opts->ping_after_ms;
        c->dead_after_ms = opts->dead_after_ms;
    }
    c->max_stanza_bytes = opts->max_stanza_bytes;
    c->trace = opts->xml_trace;
    c->trace_ud = opts->xml_trace_user_data;
    c->next_handler_id = 1;
    c->next_iq_handle = 1;
    c->next_hook_id = 1;
    snprintf(c->last_error, sizeof(c->last_error), "no error");
    if (failed || canto__client_reliability_init(c, opts) != 0) {
        canto_client_free(c);
        return CANTO_ENOMEM;
    }
    if (c->tls != CANTO_TLS_INSECURE_PLAINTEXT) {
        rc = shared_tls_ctx(loop, &c->tls_ctx);
        if (rc) {
            canto_client_free(c);
            return rc;
        }
    }
    *out = c;
    return 0;
}

static void destroy(canto_client *c)
{
    /* Requests still get their one callback; nothing they do can reach the
     * network any more. */
    c->state = CANTO_CLIENT_DISCONNECTED;
    c->state_fn = NULL;
    c->depth++;
    c->freed = 1;
    canto__client_iq_cancel_all(c);
    c->depth--;
    canto__client_teardown(c);
    canto__client_peer_free(c);
    canto__client_reliability_free(c);
    canto__resolver_free(c->resolver);
    canto__client_handlers_free(c);
    canto__hooks_free(c, &c->listeners);
    canto__hooks_free(c, &c->filters);
    canto__client_features_free(c);
    wipe_password(c);
    canto_jid_free(c->jid);
    canto_jid_free(c->bound);
    canto__dealloc(&c->alloc, c->resource);
    free_list(c, c->mechanisms);
    canto__dealloc(&c->alloc, c->host);
    canto__dealloc(&c->alloc, c->ca_file);
    canto__dealloc(&c->alloc, c->cert_file);
    canto__dealloc(&c->alloc, c->key_file);
    canto__dealloc(&c->alloc, c->resolver_addr);
    canto__dealloc(&c->alloc, c->redirect_host);
    canto__alloc a = c->alloc;
    canto__dealloc(&a, c);
}

void canto_client_free(canto_client *c)
{
    if (!c)
        return;
    if (c->depth > 0) {
        /* Inside one of our callbacks: the stack above still uses c. */
        c->freed = 1;
        c->state_fn = NULL;
        return;
    }
    destroy(c);
}

void canto__client_enter(canto_client *c)
{
    c->depth++;
}

int canto__client_leave(canto_client *c)
{
    if (--c->depth == 0 && c->freed) {
        c->freed = 0; /* destroy() sets it again around its own callbacks */
        destroy(c);
        return 1;
    }
    return 0;
}

int canto_client_set_state_callback(canto_client *c, canto_client_state_fn fn, void *ud)
{
    if (!c)
        return CANTO_EINVAL;
    c->state_fn = fn;
    c->state_ud = ud;
    return 0;
}

void canto__client_set_state(canto_client *c, canto_client_state st,
                             const canto_disconnect_info *info)
{
    if (c->state == st && st != CANTO_CLIENT_DISCONNECTED)
        return;
    c->state = st;
    canto__client_notify_state(c, st, info);
}

void canto__client_notify_state(canto_client *c, canto_client_state st,
                                const canto_disconnect_info *info)
{
    canto__logf(&c->log, CANTO_LOG_DEBUG, "client", "state: %s", canto_client_state_name(st));
    if (c->state_fn && !c->freed)
        c->state_fn(c->state_ud, c, st, info);
    if (!c->freed)
        canto__client_notify_listeners(c, st, info);
}

void canto__client_set_error(canto_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
    va_end(ap);
}

int canto_client_connect(canto_client *c)
{
    if (!c)
        return CANTO_EINVAL;
    if (c->state != CANTO_CLIENT_DISCONNECTED || c->freed)
        return CANTO_ESTATE;
    /* Connecting now replaces a pending automatic attempt. */
    canto__timer_stop(&c->reconnect_timer);
    c->waiting_reconnect = 0;
    c->redirects = 0;
    c->user_closing = 0;
    canto__dealloc(&c->alloc, c->redirect_host);
    c->redirect_host = NULL;
    return canto__client_start(c);
}

int canto_client_disconnect(canto_client *c)
{
    if (!c)
        return CANTO_EINVAL;
    if (c->state == CANTO_CLIENT_DISCONNECTED && c->waiting_reconnect) {
        /* Only a backoff timer is running: stopping it is the whole job. */
        canto__timer_stop(&c->reconnect_timer);
        c->waiting_reconnect = 0;
        c->user_closing = 1;
        if (c->sm) {
            canto__sm_fail_all(c->sm, CANTO_ECLOSED);
            canto__sm_forget_session(c->sm);
        }
        canto__client_iq_cancel_all(c);
        return 0;
    }
    if (c->state == CANTO_CLIENT_DISCONNECTED)
        return CANTO_ESTATE;
    c->user_closing = 1;
    canto__timer_stop(&c->reconnect_timer);
    c->waiting_reconnect = 0;
    if (c->stream && canto__stream_established(c->stream)) {
        canto__client_enter(c);
        canto__stream_close(c->stream, canto_loop_now(c->loop));
        canto__client_set_state(c, CANTO_CLIENT_DISCONNECTING, NULL);
        if (!c->freed)
            canto__client_io_sync(c);
        canto__client_leave(c);
        return 0;
    }
    /* Nothing worth closing politely yet: stop where we are. */
    canto__client_teardown(c);
    canto_disconnect_info info = {
        CANTO_DISCONNECT_INFO_VERSION,     0, CANTO_STREAM_COND_NONE, 0, NULL, NULL,
        "disconnected by the application", 0};
    canto__client_enter(c);
    c->state = CANTO_CLIENT_DISCONNECTED;
    canto__client_iq_cancel_all(c);
    canto__client_set_state(c, CANTO_CLIENT_DISCONNECTED, &info);
    canto__client_leave(c);
    return 0;
}

canto_client_state canto_client_get_state(const canto_client *c)
{
    return c ? c->state : CANTO_CLIENT_DISCONNECTED;
}

const canto_jid *canto_client_jid(const canto_client *c)
{
    if (!c)
        return NULL;
    return c->bound ? c->bound : c->jid;
}

const char *canto_client_last_error(const canto_client *c)
{
    return c ? c->last_error : "no client";
}

#define NS_SID "urn:xmpp:sid:0"

/* XEP-0359: every message we send carries an origin-id, so the sender and any
 * archive can recognize it (and de-duplicate resends) whatever the server does
 * with its own ids. */
static int needs_origin_id(const canto_stanza *st)
{
    return canto_stanza_is(st, "message", CANTO_NS_CLIENT) &&
           !canto_stanza_child(st, "origin-id", NS_SID);
}

static int add_origin_id(canto_stanza *msg)
{
    char id[24];
    canto_stanza *o;
    int rc = canto__random_id(id, sizeof(id));
    if (rc == 0)
        rc = canto_stanza_add_child(msg, "origin-id", NS_SID, &o);
    if (rc == 0)
        rc = canto_stanza_set_attr(o, "id", id);
    return rc;
}

/* Copy, stamp and filter a stanza for sending; *out is @p stanza itself when
 * nothing needs changing, else a copy the caller frees. */
static int prepare(canto_client *c, const canto_stanza *stanza, canto_stanza **copy)
{
    *copy = NULL;
    if (c->filters.n == 0 && !needs_origin_id(stanza) && !c->peer)
        return 0;
    /* The caller keeps its stanza untouched; filters work on a copy. */
    int rc = canto_stanza_copy(stanza, copy);
    if (rc == 0 && c->peer)
        rc = canto__client_peer_stamp_out(c, *copy);
    if (rc == 0 && needs_origin_id(*copy))
        rc = add_origin_id(*copy);
    if (rc == 0)
        rc = canto__client_run_filters(c, *copy);
    return rc;
}

int canto__client_send_token(canto_client *c, const canto_stanza *stanza, uint64_t token)
{
    if (!c || !stanza || canto_stanza_kind(stanza) != CANTO_NODE_ELEMENT)
        return CANTO_EINVAL;
    int connected = c->state == CANTO_CLIENT_CONNECTED && c->stream;
    if (!connected && !canto__client_can_queue_offline(c))
        return CANTO_ENOTCONN;
    int rc = canto__client_queue_check(c);
    if (rc)
        return rc;
    canto__client_enter(c);
    canto_stanza *copy = NULL;
    rc = prepare(c, stanza, &copy);
    const canto_stanza *out = copy ? copy : stanza;
    if (rc == 0 && c->freed)
        rc = CANTO_ENOTCONN;
    if (rc == 0 && !connected) {
        rc = canto__client_queue_offline(c, out, token);
    } else if (rc == 0) {
        rc = canto__stream_send_counted(c->stream, out, token, canto_loop_now(c->loop));
        if (rc == CANTO_ESTATE)
            rc = CANTO_ENOTCONN;
        if (rc == 0 && token && !canto__stream_sm_active(c->stream))
            rc = canto__client_confirm_by_ping(c, token);
        else if (rc == 0 && token)
            canto__stream_sm_want_ack(c->stream, canto_loop_now(c->loop));
        if (!c->freed && c->stream)
            canto__client_io_sync(c);
    }
    canto_stanza_free(copy);
    canto__client_leave(c);
    return rc;
}

int canto_client_send(canto_client *c, const canto_stanza *stanza)
{
    return canto__client_send_token(c, stanza, 0);
}

int canto_client_send_tracked(canto_client *c, const canto_stanza *stanza, uint64_t token)
{
    if (token == 0)
        return CANTO_EINVAL;
    return canto__client_send_token(c, stanza, token);
}
