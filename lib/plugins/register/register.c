/* In-Band Registration (XEP-0077): account creation over a preauth client,
 * form filling (plain fields, and data forms when the forms plugin is
 * built), password change and account removal. Public API only. */
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>
#include <canto/jid.h>
#include <canto/register.h>

#include "plugins/register/register_config.h"
#if CANTO_REGISTER_USE_FORMS
#include <canto/forms.h>
#endif

#define NS_DATA "jabber:x:data"
#define DEFAULT_TIMEOUT_MS 30000u

int canto_register_uses_forms(void)
{
    return CANTO_REGISTER_USE_FORMS;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* --- the submission ------------------------------------------------------- */

static int add_text_child(canto_stanza *parent, const char *name, const char *text)
{
    canto_stanza *c;
    int rc = canto_stanza_add_child(parent, name, NULL, &c);
    if (rc == 0 && text)
        rc = canto_stanza_set_text(c, text);
    return rc;
}

/* <iq type='set'><query xmlns='jabber:iq:register'/></iq> */
static int new_set(canto_stanza **iq, canto_stanza **query)
{
    int rc = canto_stanza_new(NULL, "iq", CANTO_NS_CLIENT, iq);
    if (rc)
        return rc;
    rc = canto_stanza_set_attr(*iq, "type", "set");
    if (rc == 0)
        rc = canto_stanza_add_child(*iq, "query", CANTO_NS_REGISTER, query);
    if (rc) {
        canto_stanza_free(*iq);
        *iq = NULL;
    }
    return rc;
}

/* Plain fields (XEP-0077, "Entity Registers with a Host"): each element the server lists is one it
 * wants; `<key/>` (a legacy token) is echoed back. */
static int submit_plain(const canto_stanza *query, const char *username, const char *password,
                        const char *email, canto_stanza **out, const char **detail)
{
    int want_user = 0, want_pass = 0, want_email = 0;
    const char *key = NULL;
    for (const canto_stanza *el = canto_stanza_first_element(query); el;
         el = canto_stanza_next_element(el)) {
        const char *name = canto_stanza_name(el);
        const char *ns = canto_stanza_ns(el);
        if (!ns || strcmp(ns, CANTO_NS_REGISTER) != 0)
            continue; /* a data form, or an extension */
        if (strcmp(name, "username") == 0) {
            want_user = 1;
        } else if (strcmp(name, "password") == 0) {
            want_pass = 1;
        } else if (strcmp(name, "email") == 0) {
            want_email = 1;
        } else if (strcmp(name, "key") == 0) {
            key = canto_stanza_text(el);
        } else if (strcmp(name, "instructions") != 0) {
            *detail = "the server's registration form asks for more than a username, a password "
                      "and an e-mail address";
            return CANTO_EUNSUPPORTED;
        }
    }
    if (!want_user || !want_pass) {
        *detail = canto_stanza_child(query, "x", NS_DATA)
                      ? "the server offers only a data form, and this build has no forms plugin"
                      : "the server's registration form asks for no username and password";
        return CANTO_EUNSUPPORTED;
    }
    if (want_email && !email) {
        *detail = "the server asks for an e-mail address and none was given";
        return CANTO_EUNSUPPORTED;
    }
    canto_stanza *iq, *q;
    int rc = new_set(&iq, &q);
    if (rc == 0)
        rc = add_text_child(q, "username", username);
    if (rc == 0)
        rc = add_text_child(q, "password", password);
    if (rc == 0 && want_email)
        rc = add_text_child(q, "email", email);
    if (rc == 0 && key)
        rc = add_text_child(q, "key", key);
    if (rc) {
        canto_stanza_free(iq);
        return rc;
    }
    *out = iq;
    return 0;
}

#if CANTO_REGISTER_USE_FORMS
/* A data form (XEP-0077, "Extensibility"): fill in username, password and email; every
 * other required field without a value is one we cannot answer. */
static int submit_form(const canto_stanza *x, const char *username, const char *password,
                       const char *email, canto_stanza **out, const char **detail)
{
    canto_form *form = NULL, *sub = NULL;
    int rc = canto_form_parse(NULL, x, &form, NULL);
    if (rc == CANTO_EPROTO || rc == CANTO_ETOOBIG) {
        *detail = "the server's registration data form is malformed";
        return CANTO_EUNSUPPORTED;
    }
    if (rc == 0)
        rc = canto_form_make_submit(form, &sub);
    int have_user = 0, have_pass = 0;
    for (size_t i = 0; rc == 0 && i < canto_form_field_count(form); i++) {
        const canto_form_field *f = canto_form_field_at(form, i);
        const char *var = canto_form_field_var(f);
        canto_form_field_type type = canto_form_field_get_type(f);
        if (!var || type == CANTO_FORM_FIELD_FIXED || type == CANTO_FORM_FIELD_HIDDEN)
            continue;
        const char *value = NULL;
        if (strcmp(var, "username") == 0) {
            value = username;
            have_user = 1;
        } else if (strcmp(var, "password") == 0) {
            value = password;
            have_pass = 1;
        } else if (strcmp(var, "email") == 0) {
            value = email;
        }
        if (value)
            rc = canto_form_field_set_value(canto_form_get_field(sub, var), value);
        else if (canto_form_field_required(f) && canto_form_field_value_count(f) == 0) {
            *detail = strcmp(var, "email") == 0
                          ? "the server asks for an e-mail address and none was given"
                          : "the server's registration form requires a field this API cannot "
                            "fill in";
            rc = CANTO_EUNSUPPORTED;
        }
    }
    if (rc == 0 && (!have_user || !have_pass)) {
        *detail = "the server's registration form asks for no username and password";
        rc = CANTO_EUNSUPPORTED;
    }
    canto_stanza *iq = NULL, *q;
    if (rc == 0)
        rc = new_set(&iq, &q);
    if (rc == 0)
        rc = canto_form_to_stanza(sub, q, NULL);
    canto_form_free(form);
    canto_form_free(sub);
    if (rc) {
        canto_stanza_free(iq);
        return rc;
    }
    *out = iq;
    return 0;
}
#endif

static const canto_stanza *find_query(const canto_stanza *form)
{
    if (canto_stanza_is(form, "query", CANTO_NS_REGISTER))
        return form;
    return canto_stanza_child(form, "query", CANTO_NS_REGISTER);
}

int canto_register_make_submission(const canto_stanza *form, const char *username,
                                   const char *password, const char *email, canto_stanza **iq,
                                   const char **detail)
{
    const char *scratch;
    if (!detail)
        detail = &scratch;
    *detail = NULL;
    if (!iq)
        return CANTO_EINVAL;
    *iq = NULL;
    const canto_stanza *query = form ? find_query(form) : NULL;
    if (!query || !username || !*username || !password || !*password)
        return CANTO_EINVAL;
    if (canto_stanza_child(query, "registered", CANTO_NS_REGISTER)) {
        *detail = "the connection is already registered (logged in)";
        return CANTO_EUNSUPPORTED;
    }
#if CANTO_REGISTER_USE_FORMS
    const canto_stanza *x = canto_stanza_child(query, "x", NS_DATA);
    if (x)
        return submit_form(x, username, password, email, iq, detail);
#endif
    return submit_plain(query, username, password, email, iq, detail);
}

/* --- creating an account -------------------------------------------------- */

struct canto_register {
    canto_client *client;
    char *username, *password, *email;
    uint32_t timeout_ms;
    canto_register_fn fn;
    void *ud;
    int decided; /* the outcome below is known */
    canto_register_outcome outcome;
    int error;
    const char *detail;   /* static, or borrowed during the final state callback */
    canto_stanza *answer; /* the error answer (a ref), for stanza_error */
    canto_stanza *form;   /* the form (a ref), for instructions */
    int reporting;
};

static void reg_free(canto_register *r)
{
    canto_stanza_free(r->answer);
    canto_stanza_free(r->form);
    free(r->username);
    wipe_free(r->password);
    free(r->email);
    free(r);
}

/* Remember the outcome and close the connection; the report follows at
 * CANTO_CLIENT_DISCONNECTED. */
static void decide(canto_register *r, canto_register_outcome outcome, int error, const char *detail,
                   canto_stanza *answer)
{
    if (r->decided)
        return;
    r->decided = 1;
    r->outcome = outcome;
    r->error = error;
    r->detail = detail;
    if (answer)
        r->answer = canto_stanza_ref(answer);
    /* Nothing else is sent on this connection: forget the password now. */
    wipe_free(r->password);
    r->password = NULL;
    canto_client_disconnect(r->client);
}

static void on_submitted(void *ud, canto_client *client, const canto_iq_response *resp)
{
    canto_register *r = ud;
    (void)client;
    switch (resp->outcome) {
    case CANTO_IQ_RESULT:
        decide(r, CANTO_REGISTER_OK, 0, "the account was registered", NULL);
        break;
    case CANTO_IQ_ERROR:
        decide(r, CANTO_REGISTER_REFUSED, 0, "the server refused the registration", resp->stanza);
        break;
    case CANTO_IQ_TIMEOUT:
        decide(r, CANTO_REGISTER_FAILED, CANTO_ETIMEDOUT,
               "the server did not answer the registration in time", NULL);
        break;
    case CANTO_IQ_CANCELED:
        break; /* the connection ended: reported at DISCONNECTED */
    }
}

static void on_form(void *ud, canto_client *client, const canto_iq_response *resp)
{
    canto_register *r = ud;
    if (resp->outcome == CANTO_IQ_CANCELED)
        return;
    if (resp->outcome == CANTO_IQ_TIMEOUT) {
        decide(r, CANTO_REGISTER_FAILED, CANTO_ETIMEDOUT,
               "the server did not send its registration form in time", NULL);
        return;
    }
    if (resp->outcome == CANTO_IQ_ERROR) {
        decide(r, CANTO_REGISTER_UNSUPPORTED, CANTO_EUNSUPPORTED,
               "the server does not offer in-band registration", resp->stanza);
        return;
    }
    r->form = canto_stanza_ref(resp->stanza);
    canto_stanza *iq;
    const char *detail = NULL;
    int rc = canto_register_make_submission(resp->stanza, r->username, r->password, r->email, &iq,
                                            &detail);
    if (rc == CANTO_EINVAL) {
        decide(r, CANTO_REGISTER_UNSUPPORTED, CANTO_EUNSUPPORTED,
               "the server answered without a registration form", NULL);
        return;
    }
    if (rc == CANTO_EUNSUPPORTED) {
        decide(r, CANTO_REGISTER_UNSUPPORTED, rc, detail, NULL);
        return;
    }
    if (rc == 0) {
        rc = canto_client_send_iq(client, iq, r->timeout_ms, on_submitted, r, NULL);
        canto_stanza_free(iq);
    }
    if (rc)
        decide(r, CANTO_REGISTER_FAILED, rc, "the registration could not be sent", NULL);
}

static void report(canto_register *r)
{
    canto_stanza_error err = CANTO_STANZA_ERROR_INIT;
    canto_register_result res = {CANTO_REGISTER_RESULT_VERSION,
                                 r->outcome,
                                 r->error,
                                 NULL,
                                 NULL,
                                 r->detail ? r->detail : "the registration failed"};
    if (r->answer && canto_stanza_get_error(r->answer, &err) == 0)
        res.stanza_error = &err;
    if (r->form) {
        const canto_stanza *q = find_query(r->form);
        res.instructions = canto_stanza_child_text(q, "instructions", CANTO_NS_REGISTER);
    }
    r->reporting = 1;
    r->fn(r->ud, r, &res);
}

static void on_state(void *ud, canto_client *client, canto_client_state state,
                     const canto_disconnect_info *info)
{
    canto_register *r = ud;
    if (state == CANTO_CLIENT_CONNECTED && !r->decided) {
        canto_stanza *iq;
        int rc = canto_stanza_new(NULL, "iq", CANTO_NS_CLIENT, &iq);
        if (rc == 0) {
            rc = canto_stanza_set_attr(iq, "type", "get");
            if (rc == 0)
                rc = canto_stanza_add_child(iq, "query", CANTO_NS_REGISTER, NULL);
            if (rc == 0)
                rc = canto_client_send_iq(client, iq, r->timeout_ms, on_form, r, NULL);
            canto_stanza_free(iq);
        }
        if (rc)
            decide(r, CANTO_REGISTER_FAILED, rc, "the form request could not be sent", NULL);
        return;
    }
    if (state != CANTO_CLIENT_DISCONNECTED)
        return;
    if (!r->decided) {
        r->decided = 1;
        r->outcome = CANTO_REGISTER_FAILED;
        r->error = info && info->error ? info->error : CANTO_ECLOSED;
        r->detail = info && info->detail ? info->detail : "the connection closed";
    }
    report(r);
    canto_client_free(client); /* allowed from its own callback */
    reg_free(r);
}

static int dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (s && !(*out = strdup(s)))
        return CANTO_ENOMEM;
    return 0;
}

int canto_register_account(canto_loop *loop, const char *domain, const char *username,
                           const char *password, const canto_register_options *opts,
                           canto_register_fn fn, void *ud, canto_register **out)
{
    if (out)
        *out = NULL;
    if (!loop || !domain || !username || !*username || !password || !*password || !fn ||
        (opts && opts->version != CANTO_REGISTER_OPTIONS_VERSION))
        return CANTO_EINVAL;
    canto_register_options defaults = CANTO_REGISTER_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    /* The account's JID must be valid, and the connection is for its domain
     * only (no localpart: nobody to authenticate as). */
    canto_jid *account;
    int rc = canto_jid_new(NULL, username, domain, NULL, &account);
    if (rc)
        return rc;
    canto_register *r = calloc(1, sizeof(*r));
    if (!r) {
        canto_jid_free(account);
        return CANTO_ENOMEM;
    }
    r->fn = fn;
    r->ud = ud;
    r->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    rc = dup_opt(username, &r->username);
    if (rc == 0)
        rc = dup_opt(password, &r->password);
    if (rc == 0)
        rc = dup_opt(opts->email, &r->email);
    canto_client_options co = CANTO_CLIENT_OPTIONS_INIT;
    co.preauth = 1;
    co.host = opts->host;
    co.port = opts->port;
    co.tls = opts->tls;
    co.ca_file = opts->ca_file;
    co.no_system_trust = opts->no_system_trust;
    co.resolver = opts->resolver;
    co.connect_timeout_ms = r->timeout_ms;
    co.log = opts->log;
    co.log_user_data = opts->log_user_data;
    co.log_level = opts->log_level;
    if (rc == 0)
        rc = canto_client_new(loop, canto_jid_domain(account), &co, &r->client);
    canto_jid_free(account);
    if (rc == 0)
        rc = canto_client_set_state_callback(r->client, on_state, r);
    if (rc == 0)
        rc = canto_client_connect(r->client);
    if (rc) {
        canto_client_free(r->client);
        reg_free(r);
        return rc;
    }
    if (out)
        *out = r;
    return 0;
}

void canto_register_cancel(canto_register *r)
{
    if (!r || r->reporting)
        return;
    /* Pending requests get CANCELED (ignored); no state callback follows. */
    canto_client_free(r->client);
    reg_free(r);
}

/* --- the logged-in account ------------------------------------------------ */

int canto_register_change_password(canto_client *client, const char *new_password,
                                   uint32_t timeout_ms, canto_iq_fn fn, void *ud, unsigned *request)
{
    if (!client || !new_password || !*new_password || !fn)
        return CANTO_EINVAL;
    const canto_jid *me = canto_client_jid(client);
    const char *local = canto_jid_local(me);
    if (!local)
        return CANTO_EINVAL;
    canto_stanza *iq, *q;
    int rc = new_set(&iq, &q);
    if (rc)
        return rc;
    rc = canto_stanza_set_attr(iq, "to", canto_jid_domain(me));
    if (rc == 0)
        rc = add_text_child(q, "username", local);
    if (rc == 0)
        rc = add_text_child(q, "password", new_password);
    if (rc == 0)
        rc = canto_client_send_iq(client, iq, timeout_ms, fn, ud, request);
    canto_stanza_free(iq);
    return rc;
}

int canto_register_remove_account(canto_client *client, uint32_t timeout_ms, canto_iq_fn fn,
                                  void *ud, unsigned *request)
{
    if (!client || !fn)
        return CANTO_EINVAL;
    if (!canto_jid_local(canto_client_jid(client)))
        return CANTO_EINVAL;
    canto_stanza *iq, *q;
    int rc = new_set(&iq, &q);
    if (rc)
        return rc;
    rc = canto_stanza_add_child(q, "remove", NULL, NULL);
    if (rc == 0)
        rc = canto_client_send_iq(client, iq, timeout_ms, fn, ud, request);
    canto_stanza_free(iq);
    return rc;
}
