/* What each top-level element means in each phase of the stream. */
#include <stdio.h>
#include <string.h>

#include <canto/error.h>
#include "stream/stream_error.h"
#include "stream/stream_impl.h"
#include "xml/tree.h"

static void fail(canto__stream *s, int error, canto_stream_condition cond, const char *detail)
{
    canto__stream_end end = {error, cond, 0, NULL, NULL, NULL, detail};
    canto__stream_fail(s, error, cond, &end);
}

/* Keep only the names of the features (an idle connection should not hold a
 * whole element tree): "ns\x1fname\x1e" per child. */
static void condense_features(canto__stream *s)
{
    canto__buf b;
    canto__buf_init(&b, &s->alloc);
    for (const canto_stanza *c = canto_stanza_first_element(s->features); c;
         c = canto_stanza_next_element(c)) {
        const char *ns = canto_stanza_ns(c);
        canto__buf_puts(&b, ns ? ns : "");
        canto__buf_append(&b, "\x1f", 1);
        canto__buf_puts(&b, canto_stanza_name(c));
        canto__buf_append(&b, "\x1e", 1);
    }
    canto_free(s->feature_names);
    s->feature_names = NULL;
    if (canto__buf_take(&b, &s->feature_names, NULL) != 0)
        s->feature_names = NULL;
    canto_stanza_free(s->features);
    s->features = NULL;
}

void canto__stream_established_now(canto__stream *s)
{
    if (s->features)
        condense_features(s);
    s->ph = PH_ESTABLISHED;
    s->step_deadline = UINT64_MAX;
    canto__logf(s->log, CANTO_LOG_INFO, "stream", "session established as %s",
                s->bound_jid ? s->bound_jid : "(link-local)");
    if (s->ev.established)
        s->ev.established(s->ud, s->bound_jid);
}

/* Requests sent during negotiation are short and fixed; building them from a
 * template avoids a tree per request. */
static void send_iq(canto__stream *s, const char *payload)
{
    canto__stream_make_id(s, s->iq_id, sizeof(s->iq_id));
    canto__buf b;
    canto__buf_init(&b, &s->alloc);
    canto__buf_puts(&b, "<iq type='set' id='");
    canto__buf_puts(&b, s->iq_id);
    canto__buf_puts(&b, "'>");
    canto__buf_puts(&b, payload);
    canto__buf_puts(&b, "</iq>");
    if (b.failed)
        s->out.failed = 1;
    else
        canto__stream_write(s, b.data, b.len);
    canto__buf_free(&b);
    canto__stream_step_timer(s);
}

void canto__stream_send_bind(canto__stream *s)
{
    canto__buf b;
    canto__buf_init(&b, &s->alloc);
    canto__buf_puts(&b, "<bind xmlns='" CANTO__NS_BIND "'>");
    if (s->resource) {
        canto__buf_puts(&b, "<resource>");
        canto__xml_escape_into(&b, s->resource, strlen(s->resource), 0);
        canto__buf_puts(&b, "</resource>");
    }
    canto__buf_puts(&b, "</bind>");
    if (b.failed) {
        canto__buf_free(&b);
        fail(s, CANTO_ENOMEM, CANTO_STREAM_COND_NONE, "out of memory");
        return;
    }
    s->ph = PH_BIND;
    send_iq(s, b.data);
    canto__buf_free(&b);
}

/* RFC 6121 made <session/> obsolete; servers that still list it without
 * <optional/> get the request, everyone else is spared the round trip. */
static int session_required(const canto_stanza *features)
{
    const canto_stanza *sess = canto_stanza_child(features, "session", CANTO__NS_SESSION);
    return sess && !canto_stanza_child(sess, "optional", CANTO__NS_SESSION);
}

static void send_starttls(canto__stream *s)
{
    static const char starttls[] = "<starttls xmlns='" CANTO__NS_TLS "'/>";
    canto__stream_write(s, starttls, sizeof(starttls) - 1);
    s->ph = PH_STARTTLS;
    canto__stream_step_timer(s);
}

/* A link-local initiator's features: only TLS can be on offer. */
static void ll_after_features(canto__stream *s)
{
    const canto_stanza *offer = canto_stanza_child(s->features, "starttls", CANTO__NS_TLS);
    if (!s->tls_up && offer) {
        if (s->ll_tls != CANTO__LL_TLS_OFF) {
            send_starttls(s);
            return;
        }
        if (canto_stanza_child(offer, "required", CANTO__NS_TLS)) {
            /* Going on would only get our first stanza refused. */
            fail(s, CANTO_ETLS, CANTO_STREAM_COND_NONE,
                 "the link-local peer requires TLS, which is off for this stream");
            return;
        }
    }
    if (!s->tls_up && s->ll_tls == CANTO__LL_TLS_REQUIRE) {
        fail(s, CANTO_ETLS, CANTO_STREAM_COND_NONE,
             "the link-local peer does not offer TLS, which this stream requires");
        return;
    }
    canto__stream_established_now(s);
}

void canto__stream_ll_features(canto__stream *s)
{
    /* After TLS, RFC 6120 §5.4.3.3 forbids offering it again; with nothing
     * else to negotiate (no SASL, no bind), the stream is up once the
     * features are out. */
    if (s->tls_up || s->ll_tls == CANTO__LL_TLS_OFF) {
        canto__stream_write(s, "<stream:features/>", 18);
        canto__stream_established_now(s);
        return;
    }
    static const char offer[] =
        "<stream:features><starttls xmlns='" CANTO__NS_TLS "'/></stream:features>";
    static const char required[] = "<stream:features><starttls xmlns='" CANTO__NS_TLS
                                   "'><required/></starttls></stream:features>";
    if (s->ll_tls == CANTO__LL_TLS_REQUIRE)
        canto__stream_write(s, required, sizeof(required) - 1);
    else
        canto__stream_write(s, offer, sizeof(offer) - 1);
    s->ph = PH_LL_OFFERED;
    canto__stream_step_timer(s);
}

void canto__stream_after_features(canto__stream *s)
{
    const canto_stanza *f = s->features;
    if (s->link_local) {
        ll_after_features(s);
        return;
    }
    if (!s->tls_up && s->tls_mode != CANTO__TLS_NONE) {
        if (!canto_stanza_child(f, "starttls", CANTO__NS_TLS)) {
            fail(s, CANTO_ETLS, CANTO_STREAM_COND_NONE,
                 "the server does not offer STARTTLS, and encryption is required");
            return;
        }
        send_starttls(s);
        return;
    }
    if (s->preauth) {
        /* In-band registration happens on this unauthenticated stream. */
        canto__stream_established_now(s);
        return;
    }
    if (!s->authenticated) {
        const canto_stanza *mechs = canto_stanza_child(f, "mechanisms", CANTO__NS_SASL);
        if (!mechs) {
            fail(s, CANTO_EAUTH, CANTO_STREAM_COND_NONE, "the server offers no SASL mechanisms");
            return;
        }
        s->ph = PH_SASL;
        canto__stream_step_timer(s);
        canto__stream_sasl_begin(s, mechs);
        return;
    }
    if (canto__stream_sm_try_resume(s))
        return;
    if (!canto_stanza_child(f, "bind", CANTO__NS_BIND)) {
        fail(s, CANTO_EPROTO, CANTO_STREAM_COND_NONE,
             "the server offers no resource binding after authentication");
        return;
    }
    canto__stream_send_bind(s);
}

void canto__stream_tls_done(canto__stream *s)
{
    /* RFC 6120 §5.4.3.3: everything learned before TLS is forgotten. */
    canto_stanza_free(s->features);
    s->features = NULL;
    if (s->role == CANTO__STREAM_RECEIVER) {
        /* The initiator restarts; we answer its new header. */
        s->ph = PH_AWAIT_HEADER;
        canto__stream_step_timer(s);
        return;
    }
    canto__stream_send_header(s);
}

/* A link-local receiver was asked for TLS it offered (RFC 6120 §5.4.2.3). */
static void ll_proceed(canto__stream *s)
{
    static const char proceed[] = "<proceed xmlns='" CANTO__NS_TLS "'/>";
    canto__stream_write(s, proceed, sizeof(proceed) - 1);
    /* The old parser must not see a byte of the TLS stream. */
    canto__reader_reset(s->reader);
    s->ph = PH_TLS_HANDSHAKE;
    canto__stream_step_timer(s);
    canto__stream_tls_begin(s);
}

/* The initiator's first element after our offer is its choice. @return 1 if
 * @p el was consumed, 0 if it is a stanza for the application. */
static int ll_choice(canto__stream *s, canto_stanza *el)
{
    if (canto_stanza_is(el, "starttls", CANTO__NS_TLS)) {
        ll_proceed(s);
        return 1;
    }
    if (s->ll_tls == CANTO__LL_TLS_REQUIRE) {
        fail(s, CANTO_ETLS, CANTO_STREAM_COND_POLICY_VIOLATION,
             "the peer sent a stanza before starting TLS, which this stream requires");
        return 1;
    }
    canto__stream_established_now(s);
    return s->ended != 0;
}

/* RFC 6120 §5.4.2.2: <starttls/> where it was not offered gets a <failure/>
 * and the end of the stream. */
static void starttls_not_offered(canto__stream *s)
{
    static const char failure[] = "<failure xmlns='" CANTO__NS_TLS "'/>";
    canto__stream_write(s, failure, sizeof(failure) - 1);
    fail(s, CANTO_ETLS, CANTO_STREAM_COND_NONE,
         "the peer asked for TLS, which this stream does not offer");
}

static void on_starttls_answer(canto__stream *s, canto_stanza *el)
{
    if (canto_stanza_is(el, "proceed", CANTO__NS_TLS)) {
        /* The old parser must not see a byte of the TLS stream. */
        canto__reader_reset(s->reader);
        s->ph = PH_TLS_HANDSHAKE;
        canto__stream_step_timer(s);
        canto__stream_tls_begin(s);
        return;
    }
    if (canto_stanza_is(el, "failure", CANTO__NS_TLS)) {
        fail(s, CANTO_ETLS, CANTO_STREAM_COND_NONE,
             s->link_local ? "the link-local peer refused STARTTLS"
                           : "the server refused STARTTLS");
        return;
    }
    fail(s, CANTO_EPROTO, CANTO_STREAM_COND_UNSUPPORTED_STANZA_TYPE,
         "unexpected element in answer to <starttls/>");
}

static int is_our_iq_answer(canto__stream *s, const canto_stanza *el, const char *id)
{
    if (!canto_stanza_is(el, "iq", CANTO_NS_CLIENT))
        return 0;
    const char *eid = canto_stanza_attr(el, "id");
    const char *type = canto_stanza_attr(el, "type");
    return eid && type && strcmp(eid, id) == 0 &&
           (strcmp(type, "result") == 0 || strcmp(type, "error") == 0);
}

static void on_bind_answer(canto__stream *s, canto_stanza *el)
{
    if (!is_our_iq_answer(s, el, s->iq_id)) {
        fail(s, CANTO_EPROTO, CANTO_STREAM_COND_NONE, "unexpected stanza while binding");
        return;
    }
    if (strcmp(canto_stanza_attr(el, "type"), "error") == 0) {
        canto_stanza_error e = CANTO_STANZA_ERROR_INIT;
        canto_stanza_get_error(el, &e);
        char detail[200];
        snprintf(detail, sizeof(detail), "the server refused to bind a resource (%s)",
                 e.condition_name ? e.condition_name : "no condition");
        canto__stream_end end = {CANTO_EPROTO, CANTO_STREAM_COND_NONE, 0, e.text, NULL, NULL,
                                 detail};
        canto__stream_fail(s, CANTO_EPROTO, CANTO_STREAM_COND_NONE, &end);
        return;
    }
    const char *jid = canto_stanza_text(canto_stanza_find(el, "{" CANTO__NS_BIND "}bind/jid"));
    if (!jid || !*jid) {
        fail(s, CANTO_EPROTO, CANTO_STREAM_COND_NONE, "the bind result carries no JID");
        return;
    }
    canto__dealloc(&s->alloc, s->bound_jid);
    s->bound_jid = canto__strndup(&s->alloc, jid, strlen(jid));
    if (!s->bound_jid) {
        fail(s, CANTO_ENOMEM, CANTO_STREAM_COND_NONE, "out of memory");
        return;
    }
    if (session_required(s->features)) {
        s->ph = PH_SESSION;
        send_iq(s, "<session xmlns='" CANTO__NS_SESSION "'/>");
        return;
    }
    if (!canto__stream_sm_try_enable(s))
        canto__stream_established_now(s);
}

static void on_session_answer(canto__stream *s, canto_stanza *el)
{
    if (!is_our_iq_answer(s, el, s->iq_id)) {
        fail(s, CANTO_EPROTO, CANTO_STREAM_COND_NONE, "unexpected stanza during session setup");
        return;
    }
    if (strcmp(canto_stanza_attr(el, "type"), "error") == 0) {
        fail(s, CANTO_EPROTO, CANTO_STREAM_COND_NONE, "the server refused to open a session");
        return;
    }
    if (!canto__stream_sm_try_enable(s))
        canto__stream_established_now(s);
}

static void on_stream_error(canto__stream *s, canto_stanza *el)
{
    canto__stream_error_info info;
    canto__stream_error_read(el, &info);
    char detail[200];
    const char *name = canto_stream_condition_name(info.condition);
    snprintf(detail, sizeof(detail), "the server ended the stream with %s%s%s",
             name ? name : "an unknown condition", info.text ? ": " : "",
             info.text ? info.text : "");
    canto__stream_end end = {CANTO_ESTREAM, info.condition,      1,     info.text,
                             NULL,          info.see_other_host, detail};
    canto__stream_fail(s, CANTO_ESTREAM, CANTO_STREAM_COND_NONE, &end);
}

/* Swallow the answer to our own liveness ping; anything else is the app's. */
static int is_ping_answer(canto__stream *s, const canto_stanza *el)
{
    if (!s->ping_id[0] || !is_our_iq_answer(s, el, s->ping_id))
        return 0;
    s->ping_id[0] = '\0';
    return 1;
}

void canto__stream_on_element(canto__stream *s, canto_stanza *el)
{
    if (canto_stanza_is(el, "error", CANTO_NS_STREAMS)) {
        on_stream_error(s, el);
        canto_stanza_free(el);
        return;
    }
    if (canto__stream_sm_element(s, el)) {
        canto_stanza_free(el);
        return;
    }
    switch (s->ph) {
    case PH_AWAIT_FEATURES:
        if (!canto_stanza_is(el, "features", CANTO_NS_STREAMS)) {
            fail(s, CANTO_EPROTO, CANTO_STREAM_COND_NOT_AUTHORIZED, "expected stream features");
            break;
        }
        canto_stanza_free(s->features);
        s->features = el;
        el = NULL;
        canto__stream_after_features(s);
        break;
    case PH_LL_OFFERED:
        if (ll_choice(s, el))
            break;
        if (s->ev.stanza) {
            s->ev.stanza(s->ud, el);
            el = NULL;
        }
        break;
    case PH_STARTTLS:
        on_starttls_answer(s, el);
        break;
    case PH_SASL:
        canto__stream_sasl_element(s, el);
        break;
    case PH_BIND:
        on_bind_answer(s, el);
        break;
    case PH_SESSION:
        on_session_answer(s, el);
        break;
    case PH_SM_ENABLE:
        /* A server may route stanzas right after bind, before <enabled/>:
         * they are the application's, and not yet counted. */
        if (s->ev.stanza) {
            s->ev.stanza(s->ud, el);
            el = NULL;
        }
        break;
    case PH_ESTABLISHED:
    case PH_CLOSING:
        if (s->link_local && s->role == CANTO__STREAM_RECEIVER &&
            canto_stanza_is(el, "starttls", CANTO__NS_TLS)) {
            starttls_not_offered(s);
            break;
        }
        if (s->sm_on)
            canto__stream_sm_received(s, el);
        if (is_ping_answer(s, el))
            break;
        if (s->ev.stanza) {
            s->ev.stanza(s->ud, el);
            el = NULL;
        }
        break;
    default:
        fail(s, CANTO_EPROTO, CANTO_STREAM_COND_UNSUPPORTED_STANZA_TYPE,
             "element received before the stream was ready for it");
        break;
    }
    canto_stanza_free(el);
}
