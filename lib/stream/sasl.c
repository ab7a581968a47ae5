/* SASL engine life cycle, secrets, and the libgsasl callback that answers
 * libgsasl's questions (identity, password, channel binding) from the engine. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include <canto/error.h>
#include "stream/sasl_impl.h"

void canto__sasl_set_error(canto__sasl *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
}

/* gnutls_memset rather than memset: the compiler may not drop it as a dead
 * store just before free. */
void canto__sasl_wipe_free(const canto__alloc *alloc, void *p, size_t len)
{
    if (!p)
        return;
    gnutls_memset(p, 0, len);
    canto__dealloc(alloc, p);
}

void canto__sasl_payload_free(char *payload)
{
    if (!payload)
        return;
    gnutls_memset(payload, 0, strlen(payload));
    canto_free(payload);
}

void canto__sasl_free_list(const canto__alloc *alloc, char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        canto__dealloc(alloc, *p);
    canto__dealloc(alloc, list);
}

/* Copy @p n strings (n == SIZE_MAX: up to a NULL entry) into a NULL-terminated
 * array. NULL input gives NULL output. */
int canto__sasl_copy_list(const canto__alloc *alloc, const char *const *in, size_t n, char ***out)
{
    *out = NULL;
    if (!in)
        return 0;
    if (n == SIZE_MAX)
        for (n = 0; in[n]; n++)
            ;
    char **list = canto__calloc(alloc, n + 1, sizeof(*list));
    if (!list)
        return CANTO_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!in[i] || !(list[i] = canto__strndup(alloc, in[i], strlen(in[i])))) {
            canto__sasl_free_list(alloc, list);
            return in[i] ? CANTO_ENOMEM : CANTO_EINVAL;
        }
    }
    *out = list;
    return 0;
}

static char *dup_opt(canto__sasl *s, const char *str, int *failed)
{
    if (!str)
        return NULL;
    char *p = canto__strndup(&s->alloc, str, strlen(str));
    if (!p)
        *failed = 1;
    return p;
}

static void drop_password(canto__sasl *s)
{
    if (s->password) {
        canto__sasl_wipe_free(&s->alloc, s->password, strlen(s->password));
        s->password = NULL;
    }
}

/* libgsasl keeps what we give it in session properties and frees them
 * without clearing them. Clear the ones that let anyone log in as the user
 * (the password, and SCRAM's salted password, which libgsasl stores after
 * computing it) as soon as a step has used them. The cast is deliberate:
 * the buffer is libgsasl's private heap copy, freed right after. */
static void scrub(Gsasl_session *sess, Gsasl_property prop)
{
    char *p = (char *)gsasl_property_fast(sess, prop);
    if (p) {
        gnutls_memset(p, 0, strlen(p));
        gsasl_property_free(sess, prop);
    }
}

void canto__sasl_scrub_session(canto__sasl *s)
{
    if (s->session) {
        scrub(s->session, GSASL_PASSWORD);
        scrub(s->session, GSASL_SCRAM_SALTED_PASSWORD);
    }
}

/* Hand libgsasl the password: ours (then wiped: libgsasl has its copy, and a
 * second exchange would need a new engine), or the application's answer. */
static int give_password(canto__sasl *s, Gsasl_session *sess)
{
    int rc = GSASL_NO_PASSWORD;
    if (s->password) {
        rc = gsasl_property_set(sess, GSASL_PASSWORD, s->password);
        drop_password(s);
    } else if (s->password_fn) {
        char *buf = canto__calloc(&s->alloc, 1, CANTO__SASL_PASSWORD_MAX);
        if (!buf) {
            s->oom = 1;
            return GSASL_MALLOC_ERROR;
        }
        if (s->password_fn(s->password_ud, buf, CANTO__SASL_PASSWORD_MAX) == 0 &&
            memchr(buf, '\0', CANTO__SASL_PASSWORD_MAX))
            rc = gsasl_property_set(sess, GSASL_PASSWORD, buf);
        else
            canto__logf(&s->log, CANTO_LOG_WARN, "sasl", "the password callback gave no password");
        canto__sasl_wipe_free(&s->alloc, buf, CANTO__SASL_PASSWORD_MAX);
    }
    return rc;
}

/* libgsasl wants channel-binding data base64-encoded in a property. Answer
 * only while hand_cb is set and only for our type: libgsasl asks for
 * tls-exporter first and then tls-unique, and picks the GS2 header from the
 * first answer (see sasl_exchange.c for why hand_cb is often off). */
static int give_cb(canto__sasl *s, Gsasl_session *sess, const char *type)
{
    if (!s->hand_cb || !s->cb_available || strcmp(s->cb_type, type) != 0)
        return GSASL_NO_CALLBACK;
    char *b64;
    if (canto__sasl_b64_encode(&s->alloc, s->cb_data, s->cb_len, &b64) != 0) {
        s->oom = 1;
        return GSASL_MALLOC_ERROR;
    }
    int rc = gsasl_property_set(
        sess, strcmp(type, "tls-exporter") == 0 ? GSASL_CB_TLS_EXPORTER : GSASL_CB_TLS_UNIQUE, b64);
    canto__sasl_payload_free(b64);
    return rc;
}

static int callback(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
    canto__sasl *s = gsasl_callback_hook_get(ctx);
    switch (prop) {
    case GSASL_AUTHID:
        return s->authcid ? gsasl_property_set(sess, prop, s->authcid) : GSASL_NO_AUTHID;
    case GSASL_AUTHZID:
        return s->authzid ? gsasl_property_set(sess, prop, s->authzid) : GSASL_NO_CALLBACK;
    case GSASL_PASSWORD:
        return give_password(s, sess);
    case GSASL_ANONYMOUS_TOKEN:
        return gsasl_property_set(sess, prop, s->anonymous_mail ? s->anonymous_mail : "");
    case GSASL_CB_TLS_EXPORTER:
        return give_cb(s, sess, "tls-exporter");
    case GSASL_CB_TLS_UNIQUE:
        return give_cb(s, sess, "tls-unique");
    default:
        /* Notably GSASL_SCRAM_SALTED_PASSWORD: we never cache one. */
        return GSASL_NO_CALLBACK;
    }
}

int canto__sasl_new(const canto__alloc *alloc, const canto__log *log,
                    const canto__sasl_config *config, canto__sasl **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!alloc || !config)
        return CANTO_EINVAL;
    canto__sasl *s = canto__calloc(alloc, 1, sizeof(*s));
    if (!s)
        return CANTO_ENOMEM;
    s->alloc = *alloc;
    if (log)
        s->log = *log;
    int failed = 0;
    s->authcid = dup_opt(s, config->authcid, &failed);
    s->authzid = dup_opt(s, config->authzid, &failed);
    s->anonymous_mail = dup_opt(s, config->anonymous_mail, &failed);
    s->password = dup_opt(s, config->password, &failed);
    s->password_fn = config->password_fn;
    s->password_ud = config->password_ud;
    s->have_password_source = config->password || config->password_fn;
    s->client_cert = config->client_cert;
    s->anonymous = config->anonymous;
    int rc = failed ? CANTO_ENOMEM
                    : canto__sasl_copy_list(&s->alloc, config->mechanisms, SIZE_MAX, &s->allowed);
    /* One libgsasl context per engine: no process-wide state to share. */
    if (rc == 0 && gsasl_init(&s->ctx) != GSASL_OK) {
        s->ctx = NULL;
        rc = CANTO_ENOMEM;
    }
    if (rc != 0) {
        canto__sasl_free(s);
        return rc;
    }
    gsasl_callback_hook_set(s->ctx, s);
    gsasl_callback_set(s->ctx, callback);
    *out = s;
    return 0;
}

void canto__sasl_free(canto__sasl *s)
{
    if (!s)
        return;
    if (s->session) {
        canto__sasl_scrub_session(s);
        gsasl_finish(s->session);
    }
    if (s->ctx)
        gsasl_done(s->ctx);
    drop_password(s);
    gnutls_memset(s->cb_data, 0, sizeof(s->cb_data));
    canto__dealloc(&s->alloc, s->authcid);
    canto__dealloc(&s->alloc, s->authzid);
    canto__dealloc(&s->alloc, s->anonymous_mail);
    canto__sasl_free_list(&s->alloc, s->allowed);
    canto__sasl_free_list(&s->alloc, s->offered);
    canto__sasl_free_list(&s->alloc, s->server_cb);
    canto__alloc a = s->alloc;
    canto__dealloc(&a, s);
}

const char *canto__sasl_mechanism(const canto__sasl *s)
{
    return s && s->mech ? s->mech->name : NULL;
}

const char *canto__sasl_error(const canto__sasl *s)
{
    return s ? s->error : "";
}
