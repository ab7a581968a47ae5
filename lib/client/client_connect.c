/* Getting a client connected: connection plan, stream set-up, moving on to the
 * next server when one fails, see-other-host, and reporting the outcome. */
#include "client/client_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <canto/error.h>
#include "stream/sm.h"

#define MAX_REDIRECTS 5

static void copy_str(char *dst, size_t cap, const char *src)
{
    if (!src) {
        dst[0] = '\0';
        return;
    }
    snprintf(dst, cap, "%s", src);
}

/* --- stream events -------------------------------------------------------- */

/* The stream's own callbacks count as one more level of nesting: whatever
 * they do (resend leftovers, report CONNECTED, dispatch to handlers that
 * send) runs with the stream on the call stack, so a failed write must not
 * free it there (see canto__client_stream_over()). */
static void on_established(void *ud, const char *jid)
{
    canto_client *c = ud;
    c->depth++;
    canto_jid *bound = NULL;
    if (c->peer) {
        /* Link-local: @p jid is the peer's name; ours stays as configured. */
        canto__client_peer_established(c, jid);
    } else if (jid && canto_jid_parse(NULL, jid, &bound) == 0) {
        canto_jid_free(c->bound);
        c->bound = bound;
    }
    c->established_once = 1;
    /* Redirects are not forgotten here: a server that sends every new session
     * elsewhere must still run into the limit. */
    c->attempt = 0;
    canto__connect_plan_free(c->plan);
    c->plan = NULL;
    /* Connected: the resolver is not needed until the next connection. */
    canto__resolver_free(c->resolver);
    c->resolver = NULL;
    c->session_new = !canto__stream_resumed(c->stream);
    if (c->session_new)
        canto__client_iq_cancel_all(c); /* kept for a resumption that did not happen */
    /* Leftovers of a lost session go out before the application hears of
     * the new one, so they are never confused with what it sends then. */
    c->state = CANTO_CLIENT_CONNECTED;
    if (c->session_new)
        canto__client_new_session(c);
    if (!c->freed && c->state == CANTO_CLIENT_CONNECTED)
        canto__client_notify_state(c, CANTO_CLIENT_CONNECTED, NULL);
    c->depth--;
}

static void on_stanza(void *ud, canto_stanza *st)
{
    canto_client *c = ud;
    c->depth++;
    if (c->peer && canto__client_peer_stamp_in(c, st) != 0) {
        canto_stanza_free(st); /* out of memory: better dropped than misattributed */
        c->depth--;
        return;
    }
    canto__client_dispatch(c, st);
    canto_stanza_free(st);
    c->depth--;
}

static void on_closed(void *ud, const canto__stream_end *end)
{
    canto_client *c = ud;
    /* Strings in @p end die with the stream's call stack; keep copies. */
    c->end = *end;
    copy_str(c->end_text, sizeof(c->end_text), end->text);
    copy_str(c->end_detail, sizeof(c->end_detail), end->detail);
    copy_str(c->end_sasl, sizeof(c->end_sasl), end->sasl_condition);
    copy_str(c->end_host, sizeof(c->end_host), end->see_other_host);
    c->end.text = end->text ? c->end_text : NULL;
    c->end.detail = c->end_detail;
    c->end.sasl_condition = end->sasl_condition ? c->end_sasl : NULL;
    c->end.see_other_host = end->see_other_host ? c->end_host : NULL;
    c->stream_done = 1;
}

static void on_trace(void *ud, int outgoing, const char *data, size_t len)
{
    canto_client *c = ud;
    if (c->trace)
        c->trace(c->trace_ud, outgoing, data, len);
}

/* --- connecting ---------------------------------------------------------- */

static void on_plan(void *ud, int err, const canto__connect_result *res, const char *reason);
static void client_stream_config(canto_client *c, int direct_tls, canto__stream_config *cfg);

static void report_lost(canto_client *c, int error, const canto__stream_end *end,
                        const char *detail, int will_reconnect)
{
    canto_disconnect_info info = {CANTO_DISCONNECT_INFO_VERSION,
                                  error,
                                  CANTO_STREAM_COND_NONE,
                                  0,
                                  NULL,
                                  NULL,
                                  detail,
                                  will_reconnect};
    if (end) {
        info.condition = end->condition;
        info.by_peer = end->received;
        info.sasl_condition = end->sasl_condition;
        info.text = end->text;
    }
    if (error)
        canto__client_set_error(c, "%s", detail);
    c->state = CANTO_CLIENT_DISCONNECTED; /* requests sent from callbacks now fail */
    int resumable = will_reconnect && c->sm && canto__sm_id(c->sm);
    if (!resumable) {
        /* Requests survive only for a session that may come back. */
        canto__client_iq_cancel_all(c);
    }
    if (!will_reconnect && c->sm) {
        /* Nothing will resend these: say so instead of losing them. */
        canto__sm_fail_all(c->sm, error ? error : CANTO_ECLOSED);
        canto__sm_forget_session(c->sm);
    }
    canto__client_set_state(c, CANTO_CLIENT_DISCONNECTED, &info);
}

static void report_disconnected(canto_client *c, int error, const canto__stream_end *end,
                                const char *detail)
{
    report_lost(c, error, end, detail, 0);
}

static int split_host_port(const char *text, char *host, size_t cap, unsigned *port);

static int make_plan(canto_client *c)
{
    char loc_host[300];
    unsigned loc_port;
    if (!c->resolver) {
        canto__resolver_config rc = CANTO__RESOLVER_CONFIG_INIT;
        rc.nameservers = c->resolver_addr;
        rc.log = &c->log;
        int err = canto__resolver_new(c->loop, &rc, &c->resolver);
        if (err)
            return err;
    }
    canto__connect_config cc = CANTO__CONNECT_CONFIG_INIT;
    cc.log = &c->log;
    cc.plan_timeout_ms = c->connect_timeout_ms;
    if (c->redirect_host) {
        cc.host = c->redirect_host;
        cc.port = (uint16_t)c->redirect_port;
    } else if (c->sm && canto__sm_id(c->sm) && canto__sm_location(c->sm) &&
               split_host_port(canto__sm_location(c->sm), loc_host, sizeof(loc_host), &loc_port) ==
                   0) {
        /* XEP-0198 §5: resume where the server asked; the certificate is
         * still checked against the account's domain. */
        cc.host = loc_host;
        cc.port = (uint16_t)loc_port;
        cc.direct_tls = c->tls == CANTO_TLS_DIRECT;
    } else if (c->host) {
        cc.host = c->host;
        cc.port = (uint16_t)c->port;
        cc.direct_tls = c->tls == CANTO_TLS_DIRECT;
    }
    return canto__connect_plan_new(c->resolver, canto_jid_domain_ascii(c->jid), &cc, on_plan, c,
                                   &c->plan);
}

int canto__client_start(canto_client *c)
{
    c->retrying = 0;
    canto__client_set_state(c, CANTO_CLIENT_CONNECTING, NULL);
    int rc = c->peer ? canto__client_peer_start(c) : make_plan(c);
    if (rc) {
        canto__client_set_error(c, "could not start connecting: %s", canto_strerror(rc));
        c->state = CANTO_CLIENT_DISCONNECTED;
        return rc;
    }
    return 0;
}

int canto__client_open_stream(canto_client *c, int fd, int direct_tls)
{
    canto__stream_events ev = {on_established, on_stanza, on_closed, c->trace ? on_trace : NULL};
    canto__stream_config cfg = {0};
    if (c->peer) {
        canto__client_peer_stream_config(c, &cfg);
    } else {
        client_stream_config(c, direct_tls, &cfg);
    }
    c->stream_done = 0;
    int rc = canto__stream_new(&c->alloc, &c->log, &cfg, &ev, c, &c->stream);
    if (rc)
        return rc;
    rc = canto__client_io_attach(c, fd);
    if (rc)
        return rc;
    canto__client_set_state(c, CANTO_CLIENT_NEGOTIATING, NULL);
    rc = canto__stream_start(c->stream, canto_loop_now(c->loop));
    if (!c->freed)
        canto__client_io_sync(c);
    return 0;
}

static void client_stream_config(canto_client *c, int direct_tls, canto__stream_config *cfg_out)
{
    canto__tls_config tc = CANTO__TLS_CONFIG_INIT;
    tc.domain = canto_jid_domain_ascii(c->jid); /* never the SRV target or redirect host */
    tc.ca_file = c->ca_file;
    tc.no_system_trust = c->no_system_trust;
    tc.ctx = c->tls_ctx;
    tc.cert_file = c->cert_file;
    tc.key_file = c->key_file;
    tc.alpn = direct_tls ? "xmpp-client" : NULL;
    c->tls_config = tc;

    canto__sasl_config sc = {0};
    sc.authcid = canto_jid_local(c->jid);
    sc.password = c->password;
    sc.password_fn = c->password_fn;
    sc.password_ud = c->password_ud;
    sc.mechanisms = (const char *const *)c->mechanisms;
    sc.client_cert = c->cert_file != NULL;
    c->sasl_config = sc;

    canto__stream_config cfg = {0};
    cfg.role = CANTO__STREAM_INITIATOR;
    cfg.domain = canto_jid_domain(c->jid);
    cfg.from = canto_jid_bare_str(c->jid);
    cfg.resource = c->resource;
    cfg.preauth = c->preauth;
    cfg.sm = c->preauth ? NULL : c->sm;
    cfg.tls = c->tls == CANTO_TLS_INSECURE_PLAINTEXT ? CANTO__TLS_NONE
              : direct_tls                           ? CANTO__TLS_DIRECT
                                                     : CANTO__TLS_STARTTLS;
    cfg.tls_config = &c->tls_config;
    cfg.sasl_config = &c->sasl_config;
    cfg.max_stanza_bytes = c->max_stanza_bytes;
    cfg.keepalive_ms = c->keepalive_ms;
    cfg.ping_after_ms = c->ping_after_ms;
    cfg.dead_after_ms = c->dead_after_ms;
    *cfg_out = cfg;
}

/* An attempt failed before a stream began. A reconnection keeps trying with
 * backoff (the server may be restarting, the network coming back), as after
 * a lost stream; a first connection reports the failure. */
void canto__client_attempt_failed(canto_client *c, int err, const char *detail)
{
    canto__stream_end end = {err, CANTO_STREAM_COND_NONE, 0, NULL, NULL, NULL, detail};
    if (canto__client_should_reconnect(c, &end)) {
        report_lost(c, err, NULL, detail, 1);
        if (!c->freed && c->state == CANTO_CLIENT_DISCONNECTED && !c->user_closing)
            canto__client_schedule_reconnect(c);
        return;
    }
    report_disconnected(c, err, NULL, detail);
}

static void on_plan(void *ud, int err, const canto__connect_result *res, const char *reason)
{
    canto_client *c = ud;
    canto__client_enter(c);
    if (err && c->retrying) {
        /* The servers after the first failed too; the first failure (a
         * certificate problem, say) is the one worth reporting. */
        canto__connect_plan_free(c->plan);
        c->plan = NULL;
        report_disconnected(c, c->end.error, &c->end, c->end_detail);
        canto__client_leave(c);
        return;
    }
    if (err) {
        char detail[400];
        snprintf(detail, sizeof(detail), "could not connect to %s: %s", canto_jid_domain(c->jid),
                 reason ? reason : canto_strerror(err));
        canto__connect_plan_free(c->plan);
        c->plan = NULL;
        canto__client_attempt_failed(c, err, detail);
        canto__client_leave(c);
        return;
    }
    canto__logf(&c->log, CANTO_LOG_INFO, "client", "connected to %s port %u%s", res->host,
                (unsigned)res->port, res->direct_tls ? " (Direct TLS)" : "");
    int rc = canto__client_open_stream(c, res->fd, res->direct_tls);
    if (rc && !c->freed) {
        if (c->fd < 0) {
            /* The fd was never attached: it is still ours to close. */
            canto__client_io_attach(c, res->fd);
        }
        canto__client_teardown(c);
        canto__client_attempt_failed(c, rc, "could not set up the stream");
    }
    canto__client_leave(c);
}

/* --- after the stream ---------------------------------------------------- */

void canto__client_teardown(canto_client *c)
{
    canto__client_io_detach(c);
    canto__stream_free(c->stream);
    c->stream = NULL;
    c->stream_done = 0;
    canto__connect_plan_free(c->plan);
    c->plan = NULL;
    if (c->peer)
        canto__client_peer_teardown(c);
}

/* Failures that belong to one server (another may do better) as opposed to the
 * account or the user's choice. */
static int worth_next_server(const canto__stream_end *end)
{
    switch (end->error) {
    case CANTO_ETLS:
    case CANTO_ECERT:
    case CANTO_EIO:
    case CANTO_ECLOSED:
    case CANTO_ETIMEDOUT:
        return end->condition == CANTO_STREAM_COND_NONE;
    default:
        return 0;
    }
}

/* "host", "host:port", "[v6]" or "[v6]:port" (RFC 6120 §4.9.3.19, XEP-0198
 * location). 0 or CANTO_EPROTO. */
static int split_host_port(const char *text, char *host, size_t cap, unsigned *port)
{
    const char *colon = NULL;
    *port = 5222;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close)
            return CANTO_EPROTO;
        snprintf(host, cap, "%.*s", (int)(close - text - 1), text + 1);
        if (close[1] == ':')
            colon = close + 1;
        else if (close[1])
            return CANTO_EPROTO;
    } else {
        colon = strrchr(text, ':');
        snprintf(host, cap, "%.*s", colon ? (int)(colon - text) : (int)strlen(text), text);
    }
    if (colon) {
        char *endp;
        unsigned long p = strtoul(colon + 1, &endp, 10);
        if (*endp || p == 0 || p > 65535)
            return CANTO_EPROTO;
        *port = (unsigned)p;
    }
    return host[0] ? 0 : CANTO_EPROTO;
}

static int parse_host_port(canto_client *c, const char *text)
{
    char host[300];
    unsigned port;
    if (split_host_port(text, host, sizeof(host), &port) != 0)
        return CANTO_EPROTO;
    canto__dealloc(&c->alloc, c->redirect_host);
    c->redirect_host = canto__strndup(&c->alloc, host, strlen(host));
    c->redirect_port = port;
    return c->redirect_host ? 0 : CANTO_ENOMEM;
}

static void on_deferred_over(void *ud)
{
    canto_client *c = ud;
    canto__client_enter(c);
    if (c->stream && c->stream_done)
        canto__client_stream_over(c);
    canto__client_leave(c);
}

void canto__client_stream_over(canto_client *c)
{
    if (c->depth > 1) {
        /* Nested: a send from inside a stream callback (or from a callback
         * of ours) failed to write and ended the stream, which may still be
         * on the call stack. Finish in the next round; the outer
         * canto__client_io_sync() may do it first (detaching stops this). */
        canto__timer_start(c->loop, &c->timer, canto_loop_now(c->loop), on_deferred_over, c);
        return;
    }
    canto__stream_end *end = &c->end;
    canto__client_io_detach(c);
    canto__stream_free(c->stream);
    c->stream = NULL;
    c->stream_done = 0;

    if (end->condition == CANTO_STREAM_COND_SEE_OTHER_HOST && end->see_other_host &&
        !c->user_closing) {
        if (c->redirects >= MAX_REDIRECTS) {
            report_disconnected(c, CANTO_ESTREAM, end, "too many see-other-host redirects");
            return;
        }
        c->redirects++;
        canto__connect_plan_free(c->plan);
        c->plan = NULL;
        if (parse_host_port(c, end->see_other_host) == 0 && make_plan(c) == 0) {
            canto__logf(&c->log, CANTO_LOG_INFO, "client", "redirected to %s", end->see_other_host);
            canto__client_set_state(c, CANTO_CLIENT_CONNECTING, NULL);
            return;
        }
        report_disconnected(c, CANTO_EPROTO, end,
                            "a see-other-host redirect could not be followed");
        return;
    }
    if (c->plan && !c->established_once && !c->user_closing && worth_next_server(end)) {
        canto__logf(&c->log, CANTO_LOG_WARN, "client", "%s; trying the next server", end->detail);
        canto__client_set_error(c, "%s", end->detail);
        if (canto__connect_plan_next(c->plan, end->error == CANTO_ECERT) == 0) {
            c->retrying = 1;
            canto__client_set_state(c, CANTO_CLIENT_CONNECTING, NULL);
            return;
        }
    }
    canto__connect_plan_free(c->plan);
    c->plan = NULL;
    if (canto__client_should_reconnect(c, end)) {
        c->lost_at = (long long)time(NULL);
        report_lost(c, end->error ? end->error : CANTO_ECLOSED, end, end->detail, 1);
        if (!c->freed && c->state == CANTO_CLIENT_DISCONNECTED && !c->user_closing)
            canto__client_schedule_reconnect(c);
        return;
    }
    int error =
        c->user_closing && (end->error == 0 || end->error == CANTO_ECLOSED) ? 0 : end->error;
    report_disconnected(c, error, end, error ? end->detail : "disconnected");
}
