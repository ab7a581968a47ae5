/* Private layout of the SASL engine, shared by sasl.c (life cycle, secrets,
 * libgsasl callback), sasl_select.c (choosing a mechanism), sasl_exchange.c
 * (driving libgsasl), sasl_downgrade.c (XEP-0474) and sasl_base64.c. */
#ifndef CANTO_STREAM_SASL_IMPL_H
#define CANTO_STREAM_SASL_IMPL_H

#include <gsasl.h>

#include "stream/sasl.h"

/* Room for any channel-binding value (tls-unique: 12 bytes, tls-exporter: 32). */
#define CANTO__SASL_CB_MAX 64

typedef enum canto__sasl_kind {
    SASL_KIND_SCRAM,
    SASL_KIND_PLAIN,
    SASL_KIND_EXTERNAL,
    SASL_KIND_ANONYMOUS,
} canto__sasl_kind;

typedef struct canto__sasl_mech {
    const char *name;
    canto__sasl_kind kind;
    int plus;   /* SCRAM with channel binding */
    int sha256; /* SCRAM hash: SHA-256, else SHA-1 */
} canto__sasl_mech;

typedef enum canto__sasl_state {
    SASL_IDLE,        /* nothing selected */
    SASL_SELECTED,    /* a mechanism chosen, not started */
    SASL_AWAIT_FIRST, /* SCRAM client-first sent, awaiting server-first */
    SASL_AWAIT_FINAL, /* SCRAM client-final sent, awaiting the server signature */
    SASL_DONE,        /* the mechanism finished (SCRAM: signature verified) */
    SASL_FAILED,
} canto__sasl_state;

struct canto__sasl {
    canto__alloc alloc;
    canto__log log;
    Gsasl *ctx;
    Gsasl_session *session;

    /* configuration copies */
    char *authcid, *authzid, *anonymous_mail;
    char **allowed; /* NULL-terminated, or NULL for all */
    int client_cert, anonymous;
    int (*password_fn)(void *ud, char *buf, size_t cap);
    void *password_ud;
    char *password; /* wiped and freed once libgsasl has it */
    int have_password_source;

    /* what the server offered; kept for the XEP-0474 hash */
    char **offered;
    size_t n_offered;
    char **server_cb; /* XEP-0440 types, or NULL if not advertised */
    size_t n_server_cb;

    /* the choice */
    const canto__sasl_mech *mech;
    canto__sasl_state state;
    int cb_available;
    const char *cb_type; /* static "tls-exporter" / "tls-unique" */
    unsigned char cb_data[CANTO__SASL_CB_MAX];
    size_t cb_len;
    int hand_cb;  /* answer libgsasl's channel-binding questions */
    int try_y;    /* non-PLUS SCRAM, server has no -PLUS, we have binding data */
    int gs2_flag; /* 'n', 'y' or 'p': what the client-first message said */
    /* An allocation failed inside the libgsasl callback. libgsasl ignores the
     * callback's return value and reports a missing property instead, so
     * this is how an out-of-memory becomes CANTO_ENOMEM. */
    int oom;

    char error[200];
};

/* sasl.c */
void canto__sasl_set_error(canto__sasl *s, const char *fmt, ...) CANTO_PRINTF(2, 3);
/* Wipe libgsasl's copies of the password and salted password. */
void canto__sasl_scrub_session(canto__sasl *s);
void canto__sasl_wipe_free(const canto__alloc *alloc, void *p, size_t len);
void canto__sasl_free_list(const canto__alloc *alloc, char **list);
int canto__sasl_copy_list(const canto__alloc *alloc, const char *const *in, size_t n, char ***out);

/* sasl_select.c */
const canto__sasl_mech *canto__sasl_mech_find(const char *name);

/* sasl_downgrade.c: check a decoded server-first message. 0 when it carries
 * no hash or a matching one; CANTO_EAUTH on a mismatch; CANTO_ENOMEM. */
int canto__sasl_ssdp_check(canto__sasl *s, const char *server_first, size_t len);

/* sasl_base64.c: RFC 4648 with padding, into owned (canto_free) strings.
 * Decoding skips XML whitespace and rejects anything else that is not
 * canonical base64; "=" alone decodes to nothing (RFC 6120 §6.4.2). The
 * decoded buffer gets a NUL after its @p len bytes. */
int canto__sasl_b64_encode(const canto__alloc *alloc, const void *data, size_t len, char **out);
int canto__sasl_b64_decode(const canto__alloc *alloc, const char *text, char **out, size_t *len);

#endif
