/* The stream's TLS glue: ciphertext in and out, the handshake as a phase. */
#include <stdio.h>

#include <canto/error.h>
#include "net/tls.h"
#include "stream/stream_impl.h"

static void tls_fail(canto__stream *s, int rc)
{
    char detail[300];
    const char *why = canto__tls_error_text(s->tls);
    snprintf(detail, sizeof(detail), "%s%s%s",
             rc != CANTO_ECERT ? "TLS failed"
             : s->link_local   ? "the link-local peer's certificate was refused"
                               : "the server certificate was refused",
             why && *why ? ": " : "", why ? why : "");
    canto__stream_end end = {rc, CANTO_STREAM_COND_NONE, 0, NULL, NULL, NULL, detail};
    canto__stream_fail(s, rc, CANTO_STREAM_COND_NONE, &end);
}

/* Step the handshake; on completion the stream (re)starts inside TLS. */
static int drive_handshake(canto__stream *s)
{
    int rc = canto__tls_handshake(s->tls);
    if (rc == CANTO__TLS_AGAIN)
        return 0;
    if (rc) {
        tls_fail(s, rc);
        return rc;
    }
    s->tls_up = 1;
    canto__logf(s->log, CANTO_LOG_INFO, "tls", "TLS 1.%d established%s",
                canto__tls_version(s->tls) - 10,
                canto__tls_ems(s->tls) ? "" : " (no extended master secret)");
    canto__stream_tls_done(s);
    return 0;
}

int canto__stream_tls_begin(canto__stream *s)
{
    int rc = canto__tls_new(&s->alloc, s->log, s->tls_config, &s->tls);
    if (rc) {
        canto__stream_end end = {rc,
                                 CANTO_STREAM_COND_NONE,
                                 0,
                                 NULL,
                                 NULL,
                                 NULL,
                                 "TLS could not be set up (certificate or CA file?)"};
        canto__stream_fail(s, rc, CANTO_STREAM_COND_NONE, &end);
        return rc;
    }
    return drive_handshake(s);
}

int canto__stream_tls_input(canto__stream *s, const char *data, size_t len)
{
    int rc = canto__tls_feed(s->tls, data, len);
    if (rc) {
        tls_fail(s, rc);
        return rc;
    }
    if (!s->tls_up) {
        rc = drive_handshake(s);
        if (rc || !s->tls_up)
            return rc;
    }
    char buf[4096];
    for (;;) {
        size_t n = 0;
        rc = canto__tls_read(s->tls, buf, sizeof(buf), &n);
        if (rc == CANTO__TLS_AGAIN)
            return 0;
        if (rc == CANTO_ECLOSED) {
            canto__stream_eof(s, 0);
            return CANTO_ECLOSED;
        }
        if (rc) {
            tls_fail(s, rc);
            return rc;
        }
        if (s->ev.trace)
            s->ev.trace(s->ud, 0, buf, n);
        rc = canto__stream_parse(s, buf, n);
        if (rc || s->ended)
            return rc;
    }
}

void canto__stream_tls_write(canto__stream *s, const char *data, size_t len)
{
    if (canto__tls_write(s->tls, data, len) != 0)
        s->out.failed = 1;
}

size_t canto__stream_tls_out(canto__stream *s, const char **data)
{
    const void *p;
    size_t n;
    canto__tls_out(s->tls, &p, &n);
    *data = p;
    return n;
}

void canto__stream_tls_consume(canto__stream *s, size_t n)
{
    canto__tls_out_consume(s->tls, n);
}

void canto__stream_tls_free(canto__stream *s)
{
    canto__tls_free(s->tls);
    s->tls = NULL;
}
