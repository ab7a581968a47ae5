/* Choosing a SASL mechanism from the server's list (RFC 6120 §6.3.3: the
 * strongest one both sides support, within the application's allow-list). */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>

#include <canto/error.h>
#include "stream/sasl_impl.h"

/* Preference order, strongest first. */
static const canto__sasl_mech mechs[] = {
    {"SCRAM-SHA-256-PLUS", SASL_KIND_SCRAM, 1, 1},
    {"SCRAM-SHA-1-PLUS", SASL_KIND_SCRAM, 1, 0},
    {"SCRAM-SHA-256", SASL_KIND_SCRAM, 0, 1},
    {"SCRAM-SHA-1", SASL_KIND_SCRAM, 0, 0},
    {"PLAIN", SASL_KIND_PLAIN, 0, 0},
    {"EXTERNAL", SASL_KIND_EXTERNAL, 0, 0},
    {"ANONYMOUS", SASL_KIND_ANONYMOUS, 0, 0},
};

#define N_MECHS (sizeof(mechs) / sizeof(mechs[0]))

/* Why mechanisms the server offered were passed over; reported when none is
 * left, so "PLAIN refused without TLS" is not mistaken for wrong credentials. */
enum {
    WHY_UNKNOWN = 1,   /* nothing offered that we implement */
    WHY_ALLOW = 2,     /* excluded by the allow-list */
    WHY_NO_TLS = 4,    /* PLAIN or EXTERNAL without TLS */
    WHY_NO_CB = 8,     /* -PLUS without usable channel binding */
    WHY_NO_CREDS = 16, /* no password, certificate, or consent to ANONYMOUS */
};

const canto__sasl_mech *canto__sasl_mech_find(const char *name)
{
    for (size_t i = 0; i < N_MECHS; i++)
        if (strcmp(mechs[i].name, name) == 0)
            return &mechs[i];
    return NULL;
}

int canto__sasl_set_server_cb_types(canto__sasl *s, const char *const *types, size_t n)
{
    if (!s || (n && !types))
        return CANTO_EINVAL;
    if (s->state != SASL_IDLE && s->state != SASL_SELECTED && s->state != SASL_FAILED)
        return CANTO_ESTATE;
    /* A non-NULL empty list still means "the server used XEP-0440". */
    static const char *const none[] = {NULL};
    char **copy;
    int rc = canto__sasl_copy_list(&s->alloc, types ? types : none, n, &copy);
    if (rc != 0)
        return rc;
    canto__sasl_free_list(&s->alloc, s->server_cb);
    s->server_cb = copy;
    s->n_server_cb = n;
    return 0;
}

static int offered_has(const char *const *offered, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(offered[i], name) == 0)
            return 1;
    return 0;
}

static int allowed(const canto__sasl *s, const char *name)
{
    if (!s->allowed)
        return 1;
    for (char **p = s->allowed; *p; p++)
        if (strcasecmp(*p, name) == 0)
            return 1;
    return 0;
}

/* Any -PLUS name counts, even one we do not implement: it tells us the server
 * supports channel binding, which decides between the GS2 flags 'n' and 'y'. */
static int any_plus(const char *const *offered, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(offered[i]);
        if (len > 5 && strcmp(offered[i] + len - 5, "-PLUS") == 0)
            return 1;
    }
    return 0;
}

/* Keep binding data only when it can be used: TLS is up, the type is one
 * libgsasl knows, the value fits. */
static void take_cb(canto__sasl *s, int tls_active, const canto__sasl_cb *cb)
{
    gnutls_memset(s->cb_data, 0, sizeof(s->cb_data));
    s->cb_available = 0;
    s->cb_type = NULL;
    s->cb_len = 0;
    if (!tls_active || !cb || !cb->type || !cb->data || cb->len == 0 ||
        cb->len > sizeof(s->cb_data))
        return;
    if (strcmp(cb->type, "tls-exporter") == 0)
        s->cb_type = "tls-exporter";
    else if (strcmp(cb->type, "tls-unique") == 0)
        s->cb_type = "tls-unique";
    else
        return;
    memcpy(s->cb_data, cb->data, cb->len);
    s->cb_len = cb->len;
    s->cb_available = 1;
}

/* XEP-0440: when the server lists its binding types, ours must be among them. */
static int server_accepts_cb(const canto__sasl *s)
{
    if (!s->server_cb)
        return 1;
    for (size_t i = 0; i < s->n_server_cb; i++)
        if (strcmp(s->server_cb[i], s->cb_type) == 0)
            return 1;
    return 0;
}

/* 0 if @p m can be used now, else a WHY_* bit. */
static int usable(const canto__sasl *s, const canto__sasl_mech *m, int tls_active)
{
    if (!allowed(s, m->name))
        return WHY_ALLOW;
    switch (m->kind) {
    case SASL_KIND_SCRAM:
        if (!s->authcid || !s->have_password_source)
            return WHY_NO_CREDS;
        if (m->plus && (!s->cb_available || !server_accepts_cb(s)))
            return WHY_NO_CB;
        return 0;
    case SASL_KIND_PLAIN:
        if (!s->authcid || !s->have_password_source)
            return WHY_NO_CREDS;
        /* Never without TLS, whatever the allow-list says (RFC 6120 §13.8.3). */
        return tls_active ? 0 : WHY_NO_TLS;
    case SASL_KIND_EXTERNAL:
        if (!s->client_cert)
            return WHY_NO_CREDS;
        return tls_active ? 0 : WHY_NO_TLS;
    case SASL_KIND_ANONYMOUS:
        /* Only on request, or for an account with no credentials at all:
         * a forgotten password must not silently become an anonymous login. */
        if (s->anonymous || (!s->authcid && !s->have_password_source && !s->client_cert))
            return 0;
        return WHY_NO_CREDS;
    }
    return WHY_UNKNOWN;
}

static void explain(canto__sasl *s, const char *const *offered, size_t n, int why)
{
    char list[120] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof(list); i++) {
        int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? " " : "", offered[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    canto__sasl_set_error(s, "no acceptable SASL mechanism (offered: %s)%s%s%s%s%s",
                          n ? list : "none", why & WHY_NO_TLS ? "; PLAIN/EXTERNAL need TLS" : "",
                          why & WHY_NO_CB ? "; -PLUS needs channel binding" : "",
                          why & WHY_ALLOW ? "; excluded by the allow-list" : "",
                          why & WHY_NO_CREDS ? "; missing credentials" : "",
                          why & WHY_UNKNOWN ? "; none supported" : "");
}

int canto__sasl_select(canto__sasl *s, const char *const *offered, size_t n, int tls_active,
                       const canto__sasl_cb *cb, const char **chosen)
{
    if (chosen)
        *chosen = NULL;
    if (!s || !chosen || (n && !offered))
        return CANTO_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!offered[i])
            return CANTO_EINVAL;
    if (s->state != SASL_IDLE && s->state != SASL_SELECTED && s->state != SASL_FAILED)
        return CANTO_ESTATE;
    if (s->session) { /* left over from a failed attempt */
        canto__sasl_scrub_session(s);
        gsasl_finish(s->session);
        s->session = NULL;
    }
    s->mech = NULL;
    s->state = SASL_IDLE;
    s->error[0] = '\0';

    char **copy;
    int rc = canto__sasl_copy_list(&s->alloc, n ? offered : (const char *const[]){NULL}, n, &copy);
    if (rc != 0)
        return rc;
    canto__sasl_free_list(&s->alloc, s->offered);
    s->offered = copy;
    s->n_offered = n;
    take_cb(s, tls_active, cb);

    int why = 0;
    for (size_t i = 0; i < N_MECHS; i++) {
        if (!offered_has(offered, n, mechs[i].name))
            continue;
        int w = usable(s, &mechs[i], tls_active);
        if (w) {
            why |= w;
            continue;
        }
        s->mech = &mechs[i];
        break;
    }
    if (!s->mech) {
        explain(s, offered, n, why ? why : WHY_UNKNOWN);
        canto__logf(&s->log, CANTO_LOG_ERROR, "sasl", "%s", s->error);
        return CANTO_EAUTH;
    }

    /* The GS2 channel-binding flag (RFC 5802 §6) follows from the choice:
     * -PLUS: hand libgsasl the binding ('p'). Non-PLUS while the server
     * offered some -PLUS: hand it nothing, so it says 'n' ("no binding");
     * 'y' would tell a server that supports binding that we were downgraded,
     * and it would rightly fail us. Non-PLUS with no -PLUS offered but binding
     * data at hand: 'y' is the honest answer and lets a server that does
     * support binding detect the -PLUS names being stripped. */
    s->hand_cb = s->mech->plus;
    s->try_y = !s->mech->plus && s->mech->kind == SASL_KIND_SCRAM && s->cb_available &&
               !any_plus(offered, n);
    s->state = SASL_SELECTED;
    *chosen = s->mech->name;
    canto__logf(&s->log, CANTO_LOG_DEBUG, "sasl", "selected %s%s%s", s->mech->name,
                s->mech->plus ? " with " : "", s->mech->plus ? s->cb_type : "");
    return 0;
}
