/**
 * @file canto/register.h
 * @brief In-Band Registration (XEP-0077): create an account, change its password, delete it.
 *
 * - canto_register_account() creates an account on a server that allows
 *   in-band registration. It opens its own connection with the client option
 *   `preauth` (TLS as configured, no authentication), asks for the
 *   registration form, fills in the username and password (and an e-mail
 *   address if the form asks for one and the options give one), submits it,
 *   closes the connection and reports once. Then log in with a normal client.
 * - canto_register_change_password() and canto_register_remove_account() act
 *   on the account of an authenticated, connected client.
 *
 * Forms: servers describe the registration form either with plain elements
 * (`<username/>`, `<password/>`, `<email/>`...) or with a data form (XEP-0004)
 * or both. When this library is built with the `forms` plugin, a data form is
 * filled in and submitted when the server sends one; otherwise, or when the
 * server sends none, the plain fields are used. A server that offers only a
 * data form to a build without the forms plugin, or that insists on fields
 * this API cannot fill in (CAPTCHAs, XEP-0158, among them), gets
 * CANTO_REGISTER_UNSUPPORTED. canto_register_uses_forms() tells which build
 * this is.
 *
 * Passwords are copied and the copies wiped after use. They are sent inside
 * the stanza, so an XML trace callback on the client used for
 * canto_register_change_password() sees the new one.
 *
 * Threads: everything runs on the thread that runs the loop (or the client's
 * loop); callbacks are called on that thread, from inside the loop's
 * dispatch. canto_register_make_submission() touches only its arguments.
 */
#ifndef CANTO_REGISTER_H
#define CANTO_REGISTER_H

#include <stdint.h>
#include <canto/export.h>
#include <canto/client.h>
#include <canto/log.h>
#include <canto/loop.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace of In-Band Registration. */
#define CANTO_NS_REGISTER "jabber:iq:register"

/** @return 1 if this build fills in data forms (the forms plugin is built), else 0. */
CANTO_EXPORT int canto_register_uses_forms(void);

/**
 * Options for canto_register_account(): how to reach the server (as in
 * canto_client_options) and what else to tell it. Initialize with
 * CANTO_REGISTER_OPTIONS_INIT; strings are copied.
 */
typedef struct canto_register_options {
    unsigned version;          /**< CANTO_REGISTER_OPTIONS_VERSION */
    const char *host;          /**< connect here instead of looking up SRV records */
    unsigned port;             /**< with @ref host; 0: the default port */
    canto_tls_policy tls;      /**< default CANTO_TLS_REQUIRED */
    const char *ca_file;       /**< extra trusted CAs (PEM) */
    int no_system_trust;       /**< 1: trust only @ref ca_file */
    const char *resolver;      /**< DNS server "IP" or "IP:PORT", or NULL */
    const char *email;         /**< given if the form asks for "email"; NULL: none */
    uint32_t timeout_ms;       /**< connecting, and each request; 0: 30 s */
    canto_log_fn log;          /**< the connection's log; NULL: silent */
    void *log_user_data;       /**< passed to @ref log */
    canto_log_level log_level; /**< lowest level passed to @ref log */
} canto_register_options;

/** Version of canto_register_options understood by this header. */
#define CANTO_REGISTER_OPTIONS_VERSION 1u
/** Initializer for canto_register_options. */
#define CANTO_REGISTER_OPTIONS_INIT                                                                \
    {                                                                                              \
        CANTO_REGISTER_OPTIONS_VERSION, NULL, 0, CANTO_TLS_REQUIRED, NULL, 0, NULL, NULL, 0, NULL, \
            NULL, CANTO_LOG_INFO                                                                   \
    }

/** How a registration ended. */
typedef enum canto_register_outcome {
    CANTO_REGISTER_OK = 0, /**< The account exists now. */
    /** The server refused the submission: see `stanza_error` (conflict: the
     *  username is taken; not-acceptable: a field is missing or invalid;
     *  not-allowed, policy-violation, resource-constraint...). */
    CANTO_REGISTER_REFUSED = 1,
    /** The server does not offer registration (it answered the form request
     *  with an error, see `stanza_error`), or its form cannot be filled in
     *  (`error` is CANTO_EUNSUPPORTED, `detail` says why). */
    CANTO_REGISTER_UNSUPPORTED = 2,
    /** No answer: the connection failed or closed, or a request timed out
     *  (`error` says which: CANTO_EDNS, CANTO_ECONNECT, CANTO_ETLS,
     *  CANTO_ECERT, CANTO_ETIMEDOUT, CANTO_ECLOSED...). */
    CANTO_REGISTER_FAILED = 3,
} canto_register_outcome;

/** The outcome of canto_register_account(); valid during the callback only. */
typedef struct canto_register_result {
    unsigned version;                       /**< CANTO_REGISTER_RESULT_VERSION */
    canto_register_outcome outcome;         /**< see canto_register_outcome */
    int error;                              /**< 0 for OK and REFUSED, else a CANTO_E* code */
    const canto_stanza_error *stanza_error; /**< the server's error, or NULL */
    const char *instructions;               /**< the form's instructions, or NULL */
    const char *detail;                     /**< one English sentence; never NULL */
} canto_register_result;

/** Version of canto_register_result filled in by this library. */
#define CANTO_REGISTER_RESULT_VERSION 1u

/** One registration in progress. Opaque. */
typedef struct canto_register canto_register;

/**
 * Receives the outcome, once, after the registration connection is closed.
 * @p reg identifies the registration and is freed when the callback returns.
 * The callback may free the loop (canto_loop_free() then takes effect when
 * the dispatch returns), start a client that logs in, or start another
 * registration.
 */
typedef void (*canto_register_fn)(void *user_data, canto_register *reg,
                                  const canto_register_result *result);

/**
 * Register @p username on @p domain with @p password.
 * @param loop the loop that drives the registration connection.
 * @param domain the server's domain (the JID domainpart).
 * @param username the localpart wanted (the server may normalize it).
 * @param opts options or NULL for defaults.
 * @param fn called exactly once if this returns 0, unless
 *        canto_register_cancel() comes first (required).
 * @param out receives the registration for canto_register_cancel() (may be NULL).
 * @return 0, CANTO_EINVAL (NULL or empty argument, bad option version),
 *         CANTO_EJID_DOMAIN, CANTO_EJID_LOCAL (@p username is no valid
 *         localpart), CANTO_ENOMEM, and the codes of canto_client_new() and
 *         canto_client_connect(). On error no callback follows.
 */
CANTO_EXPORT int canto_register_account(canto_loop *loop, const char *domain, const char *username,
                                        const char *password, const canto_register_options *opts,
                                        canto_register_fn fn, void *user_data,
                                        canto_register **out);

/**
 * Abandon a registration: close its connection at once and free it; the
 * callback is not called. Whether the server created the account if the
 * submission was already sent is unknown. Not to be called from the
 * registration's own callback or after it. NULL is allowed.
 */
CANTO_EXPORT void canto_register_cancel(canto_register *reg);

/**
 * Build the submission for a registration form.
 * @param form the server's answer to `<iq type='get'><query
 *        xmlns='jabber:iq:register'/></iq>` (the iq result, or the query).
 * @param username, password required; @param email NULL for none.
 * @param iq receives `<iq type='set'><query xmlns='jabber:iq:register'>...`
 *        without id or `to`, ready for canto_client_send_iq() (caller frees
 *        with canto_stanza_free()).
 * @param detail receives a static English sentence on CANTO_EUNSUPPORTED
 *        (may be NULL).
 * @return 0; CANTO_EINVAL (NULL argument, no jabber:iq:register query in
 *         @p form); CANTO_EUNSUPPORTED (the form asks for something other
 *         than the username, password and e-mail, or offers only a data form
 *         to a build without the forms plugin, or holds `<registered/>`: the
 *         connection is already registered); CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_register_make_submission(const canto_stanza *form, const char *username,
                                                const char *password, const char *email,
                                                canto_stanza **iq, const char **detail);

/**
 * Change the password of @p client's account (XEP-0077, "User Changes Password"): an iq set to
 * the account's server with the account's username and @p new_password. The
 * server answers with a result, or an error (not-authorized, not-allowed,
 * bad-request...). The client's session stays logged in; use the new
 * password for the next login.
 * @param timeout_ms 0: 60 seconds.
 * @param fn receives the answer (required); @param request receives a handle
 *        for canto_client_cancel_iq() (may be NULL).
 * @return 0, CANTO_EINVAL (NULL or empty argument, a client without a
 *         localpart), CANTO_EUTF8, CANTO_ENOMEM, and the codes of
 *         canto_client_send_iq() (CANTO_ENOTCONN when not connected).
 */
CANTO_EXPORT int canto_register_change_password(canto_client *client, const char *new_password,
                                                uint32_t timeout_ms, canto_iq_fn fn,
                                                void *user_data, unsigned *request);

/**
 * Delete @p client's account (XEP-0077, "Entity Cancels an Existing Registration": `<remove/>`). On
 * success the server answers with a result and then closes the stream, so the client reports
 * CANTO_CLIENT_DISCONNECTED next (possibly with a stream error).
 * @return as canto_register_change_password().
 */
CANTO_EXPORT int canto_register_remove_account(canto_client *client, uint32_t timeout_ms,
                                               canto_iq_fn fn, void *user_data, unsigned *request);

CANTO_END_DECLS

#endif
