/* SASL client engine (RFC 6120 §6, RFC 4422) on top of libgsasl, sans I/O.
 *
 * The stream machine drives it, passing base64 text in and out:
 *
 *   canto__sasl_new()                  one engine per authentication attempt
 *   canto__sasl_set_server_cb_types()  only if the features had <sasl-channel-binding/>
 *   canto__sasl_select()               the <mechanisms/> list, TLS facts, binding data
 *   canto__sasl_start()                text of <auth mechanism='...'>
 *   canto__sasl_step()                 each <challenge/> in, the <response/> text out
 *   canto__sasl_success()              <success/>: 0 only when the exchange is complete
 *                                      and, for SCRAM, the server signature verified
 *   canto__sasl_free()
 *
 * On <failure/>, canto__sasl_failure_read() names the condition. A CANTO_EAUTH
 * or CANTO_EPROTO from step/success means "stop": send <abort/> while the
 * exchange runs, close the stream after a <success/> that did not verify. The
 * engine is then in a failed state and refuses further steps (CANTO_ESTATE).
 *
 * Mechanisms, strongest first: SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS,
 * SCRAM-SHA-256, SCRAM-SHA-1, PLAIN (only with TLS active), EXTERNAL (only with a
 * client certificate and TLS), ANONYMOUS (only when asked for, or when there are
 * no credentials at all).
 *
 * Secrets: the password (copied at creation, or fetched from the callback when
 * libgsasl asks for it) is wiped right after libgsasl has consumed it and again
 * on free; libgsasl's own copies of the password and salted password are wiped
 * after every step. Payloads are never logged; only mechanism names and
 * outcomes are. Strings handed out by this API are owned by the caller; free
 * them with canto__sasl_payload_free(), which wipes them (a PLAIN payload
 * carries the password), or with canto_free().
 */
#ifndef CANTO_STREAM_SASL_H
#define CANTO_STREAM_SASL_H

#include <stddef.h>

#include <canto/sasl.h>
#include <canto/stanza.h>
#include "base/alloc.h"
#include "base/log.h"

typedef struct canto__sasl canto__sasl;
typedef struct canto__sasl_config canto__sasl_config;

/* Largest password a callback can return, including its NUL. */
#define CANTO__SASL_PASSWORD_MAX 1024

struct canto__sasl_config {
    const char *authcid; /* authentication identity: the JID localpart; NULL if none */
    const char *authzid; /* authorization identity, or NULL (the usual case) */
    /* The password, copied by canto__sasl_new(); or NULL to use password_fn. */
    const char *password;
    /* Called when libgsasl needs the password: write it NUL-terminated into
     * @p buf (at most @p cap bytes) and return 0, or a negative value to give
     * up (the exchange then fails with CANTO_EAUTH). */
    int (*password_fn)(void *ud, char *buf, size_t cap);
    void *password_ud;
    /* NULL-terminated allow-list of mechanism names (ASCII case-insensitive),
     * or NULL to allow all. */
    const char *const *mechanisms;
    int client_cert;            /* 1: TLS presents a client certificate (EXTERNAL) */
    int anonymous;              /* 1: ANONYMOUS is wanted even with credentials */
    const char *anonymous_mail; /* ANONYMOUS trace (RFC 4505), or NULL for none */
};

/* Channel-binding data the TLS layer can provide for SCRAM-*-PLUS. */
typedef struct canto__sasl_cb {
    const char *type;          /* "tls-exporter" or "tls-unique" (others are ignored) */
    const unsigned char *data; /* the binding value, copied by canto__sasl_select() */
    size_t len;
} canto__sasl_cb;

/* Create an engine. @p alloc is copied; @p log is copied (NULL: silent);
 * every string of @p config is copied. The caller frees *out with
 * canto__sasl_free(). CANTO_EINVAL (NULL argument), CANTO_ENOMEM (also when
 * libgsasl cannot initialize). A password given as a string is used for one
 * exchange: it is wiped once libgsasl has it, so choosing again after a
 * failure needs password_fn or a new engine. */
int canto__sasl_new(const canto__alloc *alloc, const canto__log *log,
                    const canto__sasl_config *config, canto__sasl **out);
void canto__sasl_free(canto__sasl *s);

/* The XEP-0440 channel-binding types the server advertised (copied). Call
 * before canto__sasl_select() only if the features contained
 * <sasl-channel-binding/>; @p n may then be 0. They restrict -PLUS to a type
 * the server supports and enter the XEP-0474 downgrade hash. CANTO_EINVAL,
 * CANTO_ENOMEM, CANTO_ESTATE after start. */
int canto__sasl_set_server_cb_types(canto__sasl *s, const char *const *types, size_t n);

/* Choose a mechanism among the @p n names the server @p offered.
 * @p tls_active: the stream is encrypted. @p cb: binding data, or NULL when
 * the TLS layer has none (its bytes are copied). *chosen receives a static
 * mechanism name. Can be called again (before start, or after a failure) to
 * choose anew. CANTO_EAUTH when nothing is acceptable (the reason is in
 * canto__sasl_error()), CANTO_EINVAL, CANTO_ENOMEM. */
int canto__sasl_select(canto__sasl *s, const char *const *offered, size_t n, int tls_active,
                       const canto__sasl_cb *cb, const char **chosen);

/* Begin the exchange with the selected mechanism. *initial_b64 receives the
 * text for <auth/>: base64 of the initial response, "=" for an empty one
 * (RFC 6120 §6.4.2), or NULL when the mechanism has none (not the case for
 * any mechanism selected today). CANTO_ESTATE (nothing selected),
 * CANTO_EAUTH (libgsasl refused; see canto__sasl_error()), CANTO_ENOMEM. */
int canto__sasl_start(canto__sasl *s, char **initial_b64);

/* A <challenge/> arrived with text @p challenge_b64 (NULL or "" for none).
 * *response_b64 receives the <response/> text; "" means an empty <response/>.
 * For SCRAM, the server-first message is first checked for an XEP-0474
 * downgrade hash; a mismatch fails with CANTO_EAUTH before libgsasl sees it.
 * CANTO_EPROTO (invalid base64, or a challenge the mechanism does not expect),
 * CANTO_EAUTH, CANTO_ESTATE, CANTO_ENOMEM. */
int canto__sasl_step(canto__sasl *s, const char *challenge_b64, char **response_b64);

/* <success/> arrived with additional data @p additional_b64 (NULL or "" for
 * none). 0 only when the mechanism has finished: for SCRAM that means
 * libgsasl verified the server signature, either from this additional data
 * or from an earlier challenge; a <success/> alone is never enough.
 * CANTO_EAUTH (missing or wrong server signature), CANTO_EPROTO, CANTO_ESTATE. */
int canto__sasl_success(canto__sasl *s, const char *additional_b64);

/* The selected mechanism (static), or NULL. */
const char *canto__sasl_mechanism(const canto__sasl *s);
/* One sentence about the last failure ("" if none); borrowed, valid until the
 * next call on @p s. Never contains secrets or payloads. */
const char *canto__sasl_error(const canto__sasl *s);

/* Wipe and free a string returned by start/step (NULL-safe). */
void canto__sasl_payload_free(char *payload);

/* ------------------------------------------------------------------------ */
/* <failure/> (sasl_failure.c) */

typedef struct canto__sasl_failure_info {
    canto_sasl_condition condition; /* OTHER when missing or unknown, never NONE */
    const char *name;               /* the condition element's name (borrowed), or NULL */
    const char *text;               /* the <text/> content (borrowed), or NULL */
} canto__sasl_failure_info;

/* Read the children of a received <failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>. */
void canto__sasl_failure_read(const canto_stanza *failure, canto__sasl_failure_info *info);

/* ------------------------------------------------------------------------ */
/* XEP-0474 (sasl_downgrade.c), exposed for tests */

typedef enum canto__sasl_ssdp_version {
    CANTO__SSDP_D = 0, /* XEP-0474 0.3: attribute d, delimiters ',' and '|' */
    CANTO__SSDP_H = 1, /* XEP-0474 0.4+: attribute h, delimiters 0x1E and 0x1F */
} canto__sasl_ssdp_version;

/* Base64 of the downgrade-protection hash over the server's mechanisms and
 * (when @p cb_types is non-NULL) channel-binding types, each list sorted by
 * octet. @p sha256: SHA-256, else SHA-1. *out is owned (canto_free).
 * CANTO_ENOMEM, CANTO_EINVAL. */
int canto__sasl_ssdp_hash(const canto__alloc *alloc, canto__sasl_ssdp_version version, int sha256,
                          const char *const *mechs, size_t n_mechs, const char *const *cb_types,
                          size_t n_cb_types, char **out);

#endif
