/* Driving libgsasl through one exchange: the initial response, challenges,
 * and the additional data of <success/>. */
#include <string.h>

#include <gnutls/gnutls.h>

#include <canto/error.h>
#include "stream/sasl_impl.h"

static int fail(canto__sasl *s, int code, const char *what, int grc)
{
    s->state = SASL_FAILED;
    /* libgsasl's own allocations, or ours inside the callback, failed. */
    if (grc == GSASL_MALLOC_ERROR || s->oom)
        code = CANTO_ENOMEM;
    if (grc != GSASL_OK)
        canto__sasl_set_error(s, "%s %s: %s", s->mech ? s->mech->name : "SASL", what,
                              gsasl_strerror(grc));
    else
        canto__sasl_set_error(s, "%s %s", s->mech ? s->mech->name : "SASL", what);
    canto__logf(&s->log, CANTO_LOG_ERROR, "sasl", "%s", s->error);
    return code;
}

/* libgsasl's output may hold the password (PLAIN): clear it before freeing. */
static void drop_raw(char *raw, size_t len)
{
    if (raw) {
        gnutls_memset(raw, 0, len);
        gsasl_free(raw);
    }
}

/* Encode a libgsasl output for the stream. An empty initial response is "="
 * (RFC 6120 §6.4.2); an empty <response/> is just "". */
static int encode(canto__sasl *s, const char *raw, size_t len, int initial, char **out)
{
    if (len == 0) {
        *out = canto__owned_strndup(&s->alloc, initial ? "=" : "", initial ? 1 : 0);
        return *out ? 0 : CANTO_ENOMEM;
    }
    return canto__sasl_b64_encode(&s->alloc, raw, len, out);
}

/* A fresh libgsasl session and its first step (every mechanism we select
 * sends an initial response). Returns libgsasl's code. */
static int first_step(canto__sasl *s, char **raw, size_t *len)
{
    *raw = NULL;
    *len = 0;
    if (s->session) {
        canto__sasl_scrub_session(s);
        gsasl_finish(s->session);
        s->session = NULL;
    }
    int grc = gsasl_client_start(s->ctx, s->mech->name, &s->session);
    if (grc != GSASL_OK) {
        s->session = NULL;
        return grc;
    }
    grc = gsasl_step(s->session, NULL, 0, raw, len);
    canto__sasl_scrub_session(s);
    return grc;
}

/* The GS2 header libgsasl wrote must be the one we meant: 'p=<our type>' for
 * -PLUS, 'y' only when we asked for it, otherwise 'n'. A defence against a
 * libgsasl that decides differently from the version this was written for;
 * a wrong flag would fail authentication or silently drop the binding. */
static int gs2_as_intended(const canto__sasl *s, const char *raw, size_t len)
{
    if (len < 2)
        return 0;
    if (s->mech->plus) {
        size_t tl = strlen(s->cb_type);
        return len > tl + 2 && memcmp(raw, "p=", 2) == 0 && memcmp(raw + 2, s->cb_type, tl) == 0 &&
               raw[tl + 2] == ',';
    }
    return raw[1] == ',' && raw[0] == (s->hand_cb ? 'y' : 'n');
}

/* SCRAM without -PLUS where 'y' is wanted. Handing libgsasl binding data
 * for a non-PLUS mechanism is how one asks it for 'y', but 2.2.0 then fails
 * the first step with GSASL_AUTHENTICATION_ERROR instead (test_sasl probes
 * this). So try with the data, keep the result only if it really is a 'y'
 * message, and otherwise start again without the data ('n'). Nothing has
 * been sent yet, so the retry costs nothing, and a libgsasl that gets this
 * right is used as it is. */
static int first_step_try_y(canto__sasl *s, char **raw, size_t *len)
{
    s->hand_cb = 1;
    int grc = first_step(s, raw, len);
    if (grc == GSASL_NEEDS_MORE && gs2_as_intended(s, *raw, *len))
        return grc;
    drop_raw(*raw, *len);
    *raw = NULL;
    *len = 0;
    if (s->oom) /* not a libgsasl limitation: do not fall back to 'n' for this */
        return GSASL_MALLOC_ERROR;
    s->hand_cb = 0;
    canto__logf(&s->log, CANTO_LOG_DEBUG, "sasl",
                "libgsasl cannot send the GS2 'y' flag; sending 'n' instead");
    return first_step(s, raw, len);
}

int canto__sasl_start(canto__sasl *s, char **initial_b64)
{
    if (initial_b64)
        *initial_b64 = NULL;
    if (!s || !initial_b64)
        return CANTO_EINVAL;
    if (s->state != SASL_SELECTED)
        return CANTO_ESTATE;
    s->oom = 0;

    char *raw;
    size_t len;
    int grc = s->try_y ? first_step_try_y(s, &raw, &len) : first_step(s, &raw, &len);
    int scram = s->mech->kind == SASL_KIND_SCRAM;
    if (grc != (scram ? GSASL_NEEDS_MORE : GSASL_OK)) {
        drop_raw(raw, len);
        /* GSASL_OK and NEEDS_MORE the wrong way round have no useful text. */
        int odd = grc == GSASL_OK || grc == GSASL_NEEDS_MORE;
        return fail(s, CANTO_EAUTH,
                    odd ? "could not start (unexpected libgsasl result)" : "could not start",
                    odd ? GSASL_OK : grc);
    }
    if (scram && !gs2_as_intended(s, raw, len)) {
        drop_raw(raw, len);
        return fail(s, CANTO_EAUTH, "client-first message has an unexpected GS2 header", GSASL_OK);
    }
    s->gs2_flag = scram ? raw[0] : 0;
    int rc = encode(s, raw, len, 1, initial_b64);
    drop_raw(raw, len);
    if (rc != 0)
        return fail(s, rc, "out of memory", GSASL_OK);
    /* Mechanisms other than SCRAM are complete once they have spoken. */
    s->state = scram ? SASL_AWAIT_FIRST : SASL_DONE;
    canto__logf(&s->log, CANTO_LOG_DEBUG, "sasl", "started %s (GS2 flag %c)", s->mech->name,
                s->gs2_flag ? s->gs2_flag : '-');
    return 0;
}

static int decode(canto__sasl *s, const char *b64, char **data, size_t *len)
{
    int rc = canto__sasl_b64_decode(&s->alloc, b64 ? b64 : "", data, len);
    if (rc == CANTO_EPROTO)
        return fail(s, rc, "received invalid base64", GSASL_OK);
    if (rc != 0)
        return fail(s, rc, "out of memory", GSASL_OK);
    return 0;
}

static void drop_decoded(char *data, size_t len)
{
    if (data) {
        gnutls_memset(data, 0, len);
        canto_free(data);
    }
}

int canto__sasl_step(canto__sasl *s, const char *challenge_b64, char **response_b64)
{
    if (response_b64)
        *response_b64 = NULL;
    if (!s || !response_b64)
        return CANTO_EINVAL;
    if (s->state == SASL_DONE)
        return fail(s, CANTO_EPROTO, "received a challenge after it had finished", GSASL_OK);
    if (s->state != SASL_AWAIT_FIRST && s->state != SASL_AWAIT_FINAL)
        return CANTO_ESTATE;
    s->oom = 0;

    char *data;
    size_t len;
    int rc = decode(s, challenge_b64, &data, &len);
    if (rc != 0)
        return rc;
    /* XEP-0474: the hash must be checked before libgsasl answers, since the
     * answer commits to the (possibly forged) mechanism list. */
    if (s->state == SASL_AWAIT_FIRST && (rc = canto__sasl_ssdp_check(s, data, len)) != 0) {
        drop_decoded(data, len);
        return rc == CANTO_EAUTH
                   ? fail(s, rc, "downgrade detected (XEP-0474 hash mismatch)", GSASL_OK)
                   : fail(s, rc, "out of memory", GSASL_OK);
    }

    char *raw = NULL;
    size_t raw_len = 0;
    int grc = gsasl_step(s->session, data, len, &raw, &raw_len);
    canto__sasl_scrub_session(s);
    drop_decoded(data, len);

    if (s->state == SASL_AWAIT_FIRST) {
        if (grc != GSASL_NEEDS_MORE) {
            drop_raw(raw, raw_len);
            return fail(s, CANTO_EAUTH, "rejected the server-first message", grc);
        }
        rc = encode(s, raw, raw_len, 0, response_b64);
        drop_raw(raw, raw_len);
        if (rc != 0)
            return fail(s, rc, "out of memory", GSASL_OK);
        s->state = SASL_AWAIT_FINAL;
        return 0;
    }

    /* Some servers send the server-final message as a challenge and expect an
     * empty response before <success/>. */
    drop_raw(raw, raw_len);
    if (grc != GSASL_OK || raw_len != 0)
        return fail(s, CANTO_EAUTH, "server signature did not verify", grc);
    if (!(*response_b64 = canto__owned_strndup(&s->alloc, "", 0)))
        return fail(s, CANTO_ENOMEM, "out of memory", GSASL_OK);
    s->state = SASL_DONE;
    canto__logf(&s->log, CANTO_LOG_DEBUG, "sasl", "%s server signature verified", s->mech->name);
    return 0;
}

int canto__sasl_success(canto__sasl *s, const char *additional_b64)
{
    if (!s)
        return CANTO_EINVAL;
    if (s->state != SASL_DONE && s->state != SASL_AWAIT_FIRST && s->state != SASL_AWAIT_FINAL)
        return CANTO_ESTATE;
    s->oom = 0;
    char *data;
    size_t len;
    int rc = decode(s, additional_b64, &data, &len);
    if (rc != 0)
        return rc;
    int scram = s->mech->kind == SASL_KIND_SCRAM;
    if (s->state == SASL_DONE) {
        drop_decoded(data, len);
        if (len && scram) /* the server-final came as a challenge already */
            return fail(s, CANTO_EPROTO, "received additional data after it had finished",
                        GSASL_OK);
        if (len) /* other mechanisms define none; ignoring it weakens nothing */
            canto__logf(&s->log, CANTO_LOG_WARN, "sasl", "ignoring additional data in <success/>");
        canto__logf(&s->log, CANTO_LOG_DEBUG, "sasl", "%s succeeded", s->mech->name);
        return 0;
    }
    /* Never trust <success/> alone for SCRAM: the server must prove that it
     * knows the password too (RFC 5802 "v="), and only libgsasl's last step
     * checks that proof. */
    if (s->state == SASL_AWAIT_FIRST || len == 0) {
        drop_decoded(data, len);
        return fail(s, CANTO_EAUTH,
                    s->state == SASL_AWAIT_FIRST ? "got <success/> before the exchange was complete"
                                                 : "got <success/> without the server signature",
                    GSASL_OK);
    }
    char *raw = NULL;
    size_t raw_len = 0;
    int grc = gsasl_step(s->session, data, len, &raw, &raw_len);
    canto__sasl_scrub_session(s);
    drop_decoded(data, len);
    drop_raw(raw, raw_len);
    if (grc != GSASL_OK || raw_len != 0)
        return fail(s, CANTO_EAUTH, "server signature did not verify", grc);
    s->state = SASL_DONE;
    canto__logf(&s->log, CANTO_LOG_DEBUG, "sasl", "%s succeeded, server signature verified",
                s->mech->name);
    return 0;
}
