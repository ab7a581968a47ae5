/* A GnuTLS session over two memory queues. GnuTLS's push and pull callbacks
 * never see a socket: pull reads what the caller fed (EAGAIN when empty),
 * push appends to the output queue the caller drains. Because push always
 * takes everything, writes never block half-way; the only way it fails is
 * running out of memory. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <canto/error.h>
#include "net/tls_impl.h"

#define AREA "tls"

/* Non-fatal GnuTLS results (warning alerts, refused renegotiations) handled
 * in a row before we call the peer abusive. */
#define MAX_NONFATAL_IN_A_ROW 32

/* ------------------------------------------------------------------------ */
/* Transport callbacks */

static ssize_t push_cb(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
    canto__tls *tls = ptr;
    if (canto__tls_bytes_push(&tls->alloc, &tls->out, data, len) != 0) {
        tls->push_nomem = 1;
        gnutls_transport_set_errno(tls->session, ENOMEM);
        return -1;
    }
    return (ssize_t)len;
}

static ssize_t pull_cb(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
    canto__tls *tls = ptr;
    if (tls->in.len == 0) {
        if (tls->eof)
            return 0;
        gnutls_transport_set_errno(tls->session, EAGAIN);
        return -1;
    }
    return (ssize_t)canto__tls_bytes_pull(&tls->alloc, &tls->in, data, len);
}

/* GnuTLS asks for this whenever a custom pull function is set; with
 * GNUTLS_NONBLOCK it does not call it for TLS, but if it ever does, answer
 * without waiting: waiting is the caller's loop's job. */
static int pull_timeout_cb(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    canto__tls *tls = ptr;
    (void)ms;
    return tls->in.len > 0 || tls->eof ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Errors */

void canto__tls_fail_text(canto__tls *tls, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char *copy = canto__strndup(&tls->alloc, buf, strlen(buf));
    if (copy) { /* on ENOMEM the previous text stays: better than none */
        canto__dealloc(&tls->alloc, tls->error);
        tls->error = copy;
    }
    canto__logf(&tls->log, CANTO_LOG_ERROR, AREA, "%s", buf);
}

const char *canto__tls_error_text(const canto__tls *tls)
{
    return tls && tls->error ? tls->error : "";
}

/* Enter the failed state; every later call returns @p code. */
static int fail(canto__tls *tls, int code)
{
    if (tls->push_nomem)
        code = CANTO_ENOMEM;
    tls->state = CANTO__TLS_FAILED;
    tls->failure = code;
    return code;
}

/* The text for a GnuTLS error, naming the alert when the peer sent one. */
static int fail_gnutls(canto__tls *tls, int code, const char *what, int gerr)
{
    if (gerr == GNUTLS_E_FATAL_ALERT_RECEIVED)
        canto__tls_fail_text(tls, "%s: the peer sent the alert \"%s\"", what,
                             gnutls_alert_get_name(gnutls_alert_get(tls->session)));
    else if (gerr == GNUTLS_E_PREMATURE_TERMINATION)
        canto__tls_fail_text(tls, "%s: the peer closed the connection without close_notify", what);
    else
        canto__tls_fail_text(tls, "%s: %s", what, gnutls_strerror(gerr));
    return fail(tls, code);
}

/* ------------------------------------------------------------------------ */
/* Creation */

int canto__tls_cred_new(gnutls_certificate_credentials_t *out)
{
    int rc = gnutls_certificate_allocate_credentials(out);
    if (rc < 0)
        return rc;
    gnutls_x509_trust_list_t small;
    if (gnutls_x509_trust_list_init(&small, 1) >= 0) /* else keep the big one */
        gnutls_certificate_set_trust_list(*out, small, 0);
    return 0;
}

/* Printable ASCII without spaces: an A-label domain or an IP literal. */
static int valid_reference(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

/* RFC 6066: SNI carries host names only, never address literals. */
static int is_ip_literal(const char *s)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1 || s[0] == '[';
}

static int check_config(const canto__tls_config *cfg)
{
    if (cfg->role != CANTO__TLS_CLIENT && cfg->role != CANTO__TLS_SERVER)
        return CANTO_EINVAL;
    if (cfg->role == CANTO__TLS_CLIENT && !cfg->insecure_skip_verify && !cfg->link_local &&
        (!cfg->domain || !valid_reference(cfg->domain)))
        return CANTO_EINVAL;
    if (cfg->domain && !valid_reference(cfg->domain))
        return CANTO_EINVAL;
    if (cfg->role == CANTO__TLS_SERVER && !cfg->cert_file)
        return CANTO_EINVAL;
    if (!cfg->cert_file != !cfg->key_file)
        return CANTO_EINVAL;
    if (cfg->n_pins && !cfg->pins)
        return CANTO_EINVAL;
    if (cfg->alpn && (!*cfg->alpn || strlen(cfg->alpn) > 255))
        return CANTO_EINVAL;
    if (cfg->no_system_trust && !cfg->ca_file && !(cfg->ctx && cfg->ctx->trust) && !cfg->n_pins &&
        !cfg->insecure_skip_verify && !cfg->link_local && cfg->role == CANTO__TLS_CLIENT)
        return CANTO_EINVAL; /* nothing could ever be trusted */
    return 0;
}

static int copy_config(canto__tls *tls, const canto__tls_config *cfg)
{
    const canto__alloc *a = &tls->alloc;
    if (cfg->domain && !(tls->domain = canto__strndup(a, cfg->domain, strlen(cfg->domain))))
        return CANTO_ENOMEM;
    if (cfg->ca_file && !(tls->ca_file = canto__strndup(a, cfg->ca_file, strlen(cfg->ca_file))))
        return CANTO_ENOMEM;
    if (cfg->n_pins) {
        tls->pins = canto__calloc(a, cfg->n_pins, sizeof(*tls->pins));
        if (!tls->pins)
            return CANTO_ENOMEM;
        memcpy(tls->pins, cfg->pins, cfg->n_pins * sizeof(*tls->pins));
        tls->n_pins = cfg->n_pins;
    }
    tls->no_system_trust = cfg->no_system_trust;
    tls->ctx = cfg->ctx;
    tls->verify_fn = cfg->verify_fn;
    tls->verify_ud = cfg->verify_ud;
    tls->insecure = cfg->insecure_skip_verify;
    tls->link_local = cfg->link_local;
    return 0;
}

static int set_priority(canto__tls *tls, const canto__tls_config *cfg)
{
    const char *err_pos = NULL;
    int rc;
    if (cfg->priority_override)
        rc = gnutls_priority_set_direct(tls->session, cfg->priority_override, &err_pos);
    else if (cfg->ctx)
        rc = gnutls_priority_set(tls->session, cfg->ctx->prio);
    else
        rc = gnutls_priority_set_direct(tls->session, CANTO__TLS_PRIORITY, &err_pos);
    if (rc < 0) {
        canto__tls_fail_text(tls, "TLS priority string refused at \"%s\": %s",
                             err_pos ? err_pos : "", gnutls_strerror(rc));
        return CANTO_ETLS;
    }
    return 0;
}

static int set_credentials(canto__tls *tls, const canto__tls_config *cfg)
{
    gnutls_certificate_credentials_t cred;
    if (cfg->cert_file) {
        if (access(cfg->cert_file, R_OK) != 0 || access(cfg->key_file, R_OK) != 0) {
            canto__tls_fail_text(tls, "cannot read %s or %s", cfg->cert_file, cfg->key_file);
            return CANTO_ENOTFOUND;
        }
        int rc = canto__tls_cred_new(&tls->cred);
        if (rc < 0)
            return CANTO_ENOMEM;
        rc = gnutls_certificate_set_x509_key_file(tls->cred, cfg->cert_file, cfg->key_file,
                                                  GNUTLS_X509_FMT_PEM);
        if (rc < 0) {
            canto__tls_fail_text(tls, "cannot use certificate %s with key %s: %s", cfg->cert_file,
                                 cfg->key_file, gnutls_strerror(rc));
            return CANTO_ETLS;
        }
        cred = tls->cred;
    } else if (cfg->ctx) {
        cred = cfg->ctx->client_cred;
    } else {
        if (canto__tls_cred_new(&tls->cred) < 0)
            return CANTO_ENOMEM;
        cred = tls->cred;
    }
    return gnutls_credentials_set(tls->session, GNUTLS_CRD_CERTIFICATE, cred) < 0 ? CANTO_ETLS : 0;
}

static int set_names(canto__tls *tls, const canto__tls_config *cfg)
{
    if (cfg->role == CANTO__TLS_CLIENT && cfg->domain && !is_ip_literal(cfg->domain) &&
        gnutls_server_name_set(tls->session, GNUTLS_NAME_DNS, cfg->domain, strlen(cfg->domain)) < 0)
        return CANTO_ETLS;
    if (cfg->alpn) {
        gnutls_datum_t proto = {(unsigned char *)cfg->alpn, (unsigned)strlen(cfg->alpn)};
        if (gnutls_alpn_set_protocols(tls->session, &proto, 1, 0) < 0)
            return CANTO_ETLS;
    }
    return 0;
}

static int setup(canto__tls *tls, const canto__tls_config *cfg)
{
    int rc = copy_config(tls, cfg);
    if (rc)
        return rc;
    if (tls->ca_file && !(cfg->ctx && cfg->ctx->trust) && access(tls->ca_file, R_OK) != 0) {
        canto__tls_fail_text(tls, "cannot read CA file %s", tls->ca_file);
        return CANTO_ENOTFOUND;
    }
    /* No tickets: we do not resume sessions, so a stored ticket would be
     * memory spent for nothing. */
    unsigned flags = GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL | GNUTLS_NO_TICKETS |
                     (cfg->role == CANTO__TLS_CLIENT ? GNUTLS_CLIENT : GNUTLS_SERVER);
    rc = gnutls_init(&tls->session, flags);
    if (rc < 0) {
        tls->session = NULL;
        return rc == GNUTLS_E_MEMORY_ERROR ? CANTO_ENOMEM : CANTO_ETLS;
    }
    gnutls_session_set_ptr(tls->session, tls);
    gnutls_transport_set_ptr(tls->session, tls);
    gnutls_transport_set_push_function(tls->session, push_cb);
    gnutls_transport_set_pull_function(tls->session, pull_cb);
    gnutls_transport_set_pull_timeout_function(tls->session, pull_timeout_cb);
    if ((rc = set_priority(tls, cfg)) || (rc = set_credentials(tls, cfg)) ||
        (rc = set_names(tls, cfg)))
        return rc;
    if (cfg->role == CANTO__TLS_CLIENT)
        gnutls_session_set_verify_function(tls->session, canto__tls_verify_peer);
    else
        gnutls_certificate_server_set_request(tls->session, GNUTLS_CERT_IGNORE);
    return 0;
}

int canto__tls_new(const canto__alloc *a, const canto__log *log, const canto__tls_config *cfg,
                   canto__tls **out)
{
    if (!a || !cfg || !out)
        return CANTO_EINVAL;
    *out = NULL;
    int rc = check_config(cfg);
    if (rc)
        return rc;
    canto__tls *tls = canto__calloc(a, 1, sizeof(*tls));
    if (!tls)
        return CANTO_ENOMEM;
    tls->alloc = *a;
    if (log)
        tls->log = *log;
    tls->role = cfg->role;
    rc = setup(tls, cfg);
    if (rc) {
        canto__tls_free(tls);
        return rc;
    }
    if (tls->insecure)
        canto__logf(&tls->log, CANTO_LOG_WARN, AREA,
                    "certificate verification is OFF (insecure_skip_verify): tests only");
    *out = tls;
    return 0;
}

/* After the handshake the verification inputs are dead weight. */
static void drop_verify_data(canto__tls *tls)
{
    canto__dealloc(&tls->alloc, tls->domain);
    canto__dealloc(&tls->alloc, tls->ca_file);
    canto__dealloc(&tls->alloc, tls->pins);
    tls->domain = tls->ca_file = NULL;
    tls->pins = NULL;
    tls->n_pins = 0;
}

void canto__tls_free(canto__tls *tls)
{
    if (!tls)
        return;
    if (tls->session)
        gnutls_deinit(tls->session);
    if (tls->cred)
        gnutls_certificate_free_credentials(tls->cred);
    canto__tls_bytes_clear(&tls->alloc, &tls->in);
    canto__tls_bytes_clear(&tls->alloc, &tls->out);
    drop_verify_data(tls);
    canto__dealloc(&tls->alloc, tls->error);
    canto__alloc a = tls->alloc;
    canto__dealloc(&a, tls);
}

/* ------------------------------------------------------------------------ */
/* Byte movement */

int canto__tls_feed(canto__tls *tls, const void *cipher, size_t len)
{
    if (!tls || (len && !cipher))
        return CANTO_EINVAL;
    if (tls->eof)
        return CANTO_ESTATE;
    if (len == 0) {
        tls->eof = 1;
        return 0;
    }
    return canto__tls_bytes_push(&tls->alloc, &tls->in, cipher, len);
}

void canto__tls_out(const canto__tls *tls, const void **ptr, size_t *len)
{
    *ptr = tls->out.len ? tls->out.data + tls->out.off : NULL;
    *len = tls->out.len;
}

void canto__tls_out_consume(canto__tls *tls, size_t n)
{
    canto__tls_bytes_drop(&tls->alloc, &tls->out, n);
}

/* ------------------------------------------------------------------------ */
/* Handshake */

/* GnuTLS answers EAGAIN after handling one post-handshake message (a TLS 1.3
 * NewSessionTicket, a KeyUpdate) even when more records were fed: trying
 * again is right as long as the last try consumed input. Otherwise bytes
 * would sit in our queue while the caller waits for the socket. @p left
 * carries the queue length seen at the previous EAGAIN. */
static int more_input(const canto__tls *tls, size_t *left)
{
    int progress = tls->in.len > 0 && tls->in.len < *left;
    *left = tls->in.len;
    return progress;
}

static void log_established(canto__tls *tls)
{
    if (!canto__log_enabled(&tls->log, CANTO_LOG_DEBUG))
        return;
    char *desc = gnutls_session_get_desc(tls->session);
    size_t alpn_len = 0;
    const unsigned char *alpn = canto__tls_alpn(tls, &alpn_len);
    canto__logf(&tls->log, CANTO_LOG_DEBUG, AREA, "TLS established: %s, EMS %s, ALPN %.*s",
                desc ? desc : "?", canto__tls_ems(tls) ? "yes" : "no", alpn ? (int)alpn_len : 4,
                alpn ? (const char *)alpn : "none");
    gnutls_free(desc);
}

int canto__tls_handshake(canto__tls *tls)
{
    if (!tls)
        return CANTO_EINVAL;
    if (tls->state == CANTO__TLS_OPEN)
        return 0;
    if (tls->state == CANTO__TLS_FAILED)
        return tls->failure;
    size_t left = SIZE_MAX;
    for (int nonfatal = 0; nonfatal < MAX_NONFATAL_IN_A_ROW;) {
        int r = gnutls_handshake(tls->session);
        if (r == GNUTLS_E_SUCCESS) {
            tls->state = CANTO__TLS_OPEN;
            log_established(tls);
            drop_verify_data(tls);
            return 0;
        }
        if ((r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) && !tls->push_nomem) {
            if (!more_input(tls, &left))
                return CANTO__TLS_AGAIN;
            continue;
        }
        if (gnutls_error_is_fatal(r) && !tls->push_nomem) {
            /* Tell the peer why (it lands in the output queue). */
            gnutls_alert_send_appropriate(tls->session, r);
            if (tls->cert_refused)
                return fail(tls, CANTO_ECERT); /* the verify step logged why */
            return fail_gnutls(tls, CANTO_ETLS, "TLS handshake failed", r);
        }
        if (tls->push_nomem)
            return fail_gnutls(tls, CANTO_ENOMEM, "TLS handshake failed", r);
        canto__logf(&tls->log, CANTO_LOG_DEBUG, AREA, "handshake: %s", gnutls_strerror(r));
        nonfatal++;
    }
    canto__tls_fail_text(tls, "TLS handshake failed: too many warnings from the peer");
    return fail(tls, CANTO_ETLS);
}

int canto__tls_handshake_done(const canto__tls *tls)
{
    return tls && tls->state == CANTO__TLS_OPEN;
}

/* ------------------------------------------------------------------------ */
/* Records */

/* A state error for calls that need an open session. */
static int not_open(const canto__tls *tls)
{
    return tls->state == CANTO__TLS_FAILED ? tls->failure : CANTO_ESTATE;
}

int canto__tls_read(canto__tls *tls, void *buf, size_t cap, size_t *n)
{
    if (n)
        *n = 0;
    if (!tls || !buf || !cap || !n)
        return CANTO_EINVAL;
    if (tls->state != CANTO__TLS_OPEN)
        return not_open(tls);
    size_t left = SIZE_MAX;
    for (int nonfatal = 0; nonfatal < MAX_NONFATAL_IN_A_ROW;) {
        ssize_t r = gnutls_record_recv(tls->session, buf, cap);
        if (r > 0) {
            *n = (size_t)r;
            return 0;
        }
        if (r == 0)
            return CANTO_ECLOSED; /* close_notify: a clean end */
        if (tls->push_nomem)
            return fail_gnutls(tls, CANTO_ENOMEM, "TLS read failed", (int)r);
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
            if (!more_input(tls, &left))
                return CANTO__TLS_AGAIN;
            continue;
        }
        if (r == GNUTLS_E_REHANDSHAKE) {
            /* Renegotiation would invalidate tls-exporter channel bindings
             * (RFC 9266) and reopens old attacks; XMPP never needs it. */
            canto__logf(&tls->log, CANTO_LOG_WARN, AREA, "peer asked to renegotiate: refused");
            gnutls_alert_send(tls->session, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
            nonfatal++;
            continue;
        }
        if (gnutls_error_is_fatal((int)r))
            return fail_gnutls(tls, CANTO_ETLS, "TLS read failed", (int)r);
        canto__logf(&tls->log, CANTO_LOG_DEBUG, AREA, "read: %s", gnutls_strerror((int)r));
        nonfatal++;
    }
    canto__tls_fail_text(tls, "TLS read failed: too many warnings from the peer");
    return fail(tls, CANTO_ETLS);
}

size_t canto__tls_pending(const canto__tls *tls)
{
    return tls && tls->state == CANTO__TLS_OPEN ? gnutls_record_check_pending(tls->session) : 0;
}

int canto__tls_write(canto__tls *tls, const void *plain, size_t len)
{
    if (!tls || (len && !plain))
        return CANTO_EINVAL;
    if (tls->state != CANTO__TLS_OPEN || tls->sent_bye)
        return not_open(tls);
    const unsigned char *p = plain;
    while (len) {
        ssize_t r = gnutls_record_send(tls->session, p, len);
        if (r > 0) {
            p += r;
            len -= (size_t)r;
            continue;
        }
        /* Push never refuses for lack of room, so AGAIN cannot happen; any
         * failure leaves a half-written record: the session is lost. */
        return fail_gnutls(tls, CANTO_ETLS, "TLS write failed", (int)r);
    }
    return 0;
}

int canto__tls_bye(canto__tls *tls)
{
    if (!tls)
        return CANTO_EINVAL;
    if (tls->state != CANTO__TLS_OPEN)
        return not_open(tls);
    if (tls->sent_bye)
        return 0;
    int r = gnutls_bye(tls->session, GNUTLS_SHUT_WR);
    if (r < 0 && r != GNUTLS_E_AGAIN)
        return fail_gnutls(tls, CANTO_ETLS, "TLS close failed", r);
    tls->sent_bye = 1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Session facts */

int canto__tls_version(const canto__tls *tls)
{
    if (!tls || tls->state != CANTO__TLS_OPEN)
        return 0;
    switch (gnutls_protocol_get_version(tls->session)) {
    case GNUTLS_TLS1_3:
        return 13;
    case GNUTLS_TLS1_2:
        return 12;
    default:
        return 0;
    }
}

int canto__tls_ems(const canto__tls *tls)
{
    int v = canto__tls_version(tls);
    if (v == 13)
        return 1;
    return v == 12 && gnutls_session_ext_master_secret_status(tls->session) != 0;
}

const unsigned char *canto__tls_alpn(const canto__tls *tls, size_t *len)
{
    gnutls_datum_t proto;
    *len = 0;
    if (!tls || tls->state != CANTO__TLS_OPEN ||
        gnutls_alpn_get_selected_protocol(tls->session, &proto) < 0 || !proto.size)
        return NULL;
    *len = proto.size;
    return proto.data;
}
