/* The stream's SASL glue: <auth/>, <challenge/>/<response/>, <success/> and
 * <failure/> around the SASL engine, with channel binding from the TLS layer. */
#include <stdio.h>
#include <string.h>

#include <canto/error.h>
#include "net/tls.h"
#include "stream/sasl.h"
#include "stream/stream_impl.h"

#define MAX_OFFERED 32

static void auth_fail(canto__stream *s, int error, const char *detail, const char *cond,
                      const char *text)
{
    canto__stream_end end = {error, CANTO_STREAM_COND_NONE, 0, text, cond, NULL, detail};
    canto__stream_fail(s, error, CANTO_STREAM_COND_NONE, &end);
}

/* Wraps a base64 payload in an element; the payload is never traced: it can
 * carry the password (PLAIN) or proofs of it. */
static void send_payload(canto__stream *s, const char *open, const char *payload, const char *close)
{
    canto__stream_events ev = s->ev;
    size_t olen = strlen(open), plen = payload ? strlen(payload) : 0, clen = strlen(close);
    if (ev.trace) {
        ev.trace(s->ud, 1, open, olen);
        if (plen)
            ev.trace(s->ud, 1, "[redacted]", 10);
        ev.trace(s->ud, 1, close, clen);
        s->ev.trace = NULL;
    }
    canto__stream_write(s, open, olen);
    if (plen)
        canto__stream_write(s, payload, plen);
    canto__stream_write(s, close, clen);
    s->ev.trace = ev.trace;
}

int canto__stream_sasl_begin(canto__stream *s, const canto_stanza *mechanisms)
{
    const char *offered[MAX_OFFERED];
    size_t n = 0;
    for (const canto_stanza *m = canto_stanza_child(mechanisms, "mechanism", CANTO__NS_SASL);
         m && n < MAX_OFFERED; m = canto_stanza_next_match(m, "mechanism", CANTO__NS_SASL))
        offered[n++] = canto_stanza_text(m);
    int rc = canto__sasl_new(&s->alloc, s->log, s->sasl_config, &s->sasl);
    if (rc) {
        auth_fail(s, rc, "SASL could not be set up", NULL, NULL);
        return rc;
    }
    /* XEP-0440: the binding types the server says it supports, if it says. */
    const canto_stanza *cbs =
        canto_stanza_child(s->features, "sasl-channel-binding", "urn:xmpp:sasl-cb:0");
    int server_lists_exporter = 0;
    if (cbs) {
        const char *types[8];
        size_t nt = 0;
        for (const canto_stanza *t = canto_stanza_child(cbs, "channel-binding", NULL); t && nt < 8;
             t = canto_stanza_next_match(t, "channel-binding", NULL)) {
            const char *ty = canto_stanza_attr(t, "type");
            if (ty) {
                types[nt++] = ty;
                server_lists_exporter |= strcmp(ty, "tls-exporter") == 0;
            }
        }
        canto__sasl_set_server_cb_types(s->sasl, types, nt);
    }
    unsigned char cbdata[CANTO__TLS_CB_MAX];
    canto__sasl_cb cb = {NULL, cbdata, 0};
    const canto__sasl_cb *cbp = NULL;
    if (s->tls_up) {
        canto__tls_cb_type type = canto__tls_cb_preferred(s->tls);
        /* On TLS 1.2, tls-exporter (even with EMS) is only for servers that
         * say they support it (XEP-0440); tls-unique is what TLS 1.2 servers
         * such as Prosody 0.12 implement. */
        if (type == CANTO__TLS_CB_TLS_EXPORTER && canto__tls_version(s->tls) < 13 &&
            !server_lists_exporter)
            type = CANTO__TLS_CB_TLS_UNIQUE;
        if (type != CANTO__TLS_CB_NONE &&
            canto__tls_channel_binding(s->tls, type, cbdata, sizeof(cbdata), &cb.len) == 0) {
            cb.type = canto__tls_cb_name(type);
            cbp = &cb;
        }
    }
    const char *chosen = NULL;
    rc = canto__sasl_select(s->sasl, offered, n, s->tls_up, cbp, &chosen);
    if (rc) {
        char detail[300];
        snprintf(detail, sizeof(detail), "no usable authentication mechanism: %s",
                 canto__sasl_error(s->sasl));
        auth_fail(s, CANTO_EAUTH, detail, NULL, NULL);
        return rc;
    }
    canto__logf(s->log, CANTO_LOG_INFO, "sasl", "authenticating with %s", chosen);
    char *initial = NULL;
    rc = canto__sasl_start(s->sasl, &initial);
    if (rc) {
        auth_fail(s, rc == CANTO_ENOMEM ? rc : CANTO_EAUTH, "authentication could not start", NULL,
                  NULL);
        return rc;
    }
    char open[96];
    snprintf(open, sizeof(open), "<auth xmlns='" CANTO__NS_SASL "' mechanism='%s'>", chosen);
    send_payload(s, open, initial, "</auth>");
    canto__sasl_payload_free(initial);
    return 0;
}

static void on_failure(canto__stream *s, const canto_stanza *el)
{
    canto__sasl_failure_info info;
    canto__sasl_failure_read(el, &info);
    char detail[300];
    snprintf(detail, sizeof(detail), "authentication failed (%s)%s%s",
             info.name ? info.name : "no reason given", info.text ? ": " : "",
             info.text ? info.text : "");
    auth_fail(s, CANTO_EAUTH, detail, info.name ? info.name : "", info.text);
}

void canto__stream_sasl_element(canto__stream *s, canto_stanza *el)
{
    if (canto_stanza_is(el, "challenge", CANTO__NS_SASL)) {
        char *resp = NULL;
        int rc = canto__sasl_step(s->sasl, canto_stanza_text(el), &resp);
        if (rc) {
            /* RFC 6120 §6.4.4: abort, then the server answers <failure/>; we
             * do not wait for it: the exchange is already lost. */
            static const char abort_el[] = "<abort xmlns='" CANTO__NS_SASL "'/>";
            canto__stream_write(s, abort_el, sizeof(abort_el) - 1);
            auth_fail(s, CANTO_EAUTH, canto__sasl_error(s->sasl), NULL, NULL);
            return;
        }
        send_payload(s, "<response xmlns='" CANTO__NS_SASL "'>", resp, "</response>");
        canto__sasl_payload_free(resp);
        canto__stream_step_timer(s);
        return;
    }
    if (canto_stanza_is(el, "success", CANTO__NS_SASL)) {
        const char *add = canto_stanza_text(el);
        if (canto__sasl_success(s->sasl, add && *add ? add : NULL) != 0) {
            /* A server that cannot prove it knows the password is not ours. */
            char detail[300];
            snprintf(detail, sizeof(detail), "the server's authentication proof is invalid: %s",
                     canto__sasl_error(s->sasl));
            auth_fail(s, CANTO_EAUTH, detail, NULL, NULL);
            return;
        }
        canto__logf(s->log, CANTO_LOG_INFO, "sasl", "authenticated with %s",
                    canto__sasl_mechanism(s->sasl));
        s->authenticated = 1;
        canto__stream_sasl_free(s);
        canto_stanza_free(s->features);
        s->features = NULL;
        canto__reader_reset(s->reader);
        canto__stream_send_header(s);
        return;
    }
    if (canto_stanza_is(el, "failure", CANTO__NS_SASL)) {
        on_failure(s, el);
        return;
    }
    canto__stream_end end = {CANTO_EPROTO, CANTO_STREAM_COND_UNSUPPORTED_STANZA_TYPE, 0, NULL, NULL,
                             NULL,         "unexpected element during authentication"};
    canto__stream_fail(s, CANTO_EPROTO, end.condition, &end);
}

void canto__stream_sasl_free(canto__stream *s)
{
    canto__sasl_free(s->sasl);
    s->sasl = NULL;
}
