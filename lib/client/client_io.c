/* The client's socket: reading into the stream, writing what it produces,
 * and keeping the loop's watch and timer in step with both. */
#include "client/client_impl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <canto/error.h>

/* Reads per wakeup are bounded so one busy connection cannot starve the other
 * clients on the same loop. */
#define READ_CHUNK 16384
#define READS_PER_WAKEUP 8

static void on_timer(void *ud);

/* 0, or the errno-derived CANTO_E* when the socket failed. */
static int flush(canto_client *c)
{
    for (;;) {
        const char *data;
        size_t n = canto__stream_out(c->stream, &data);
        if (n == 0)
            return 0;
        ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            canto__client_set_error(c, "writing to the server failed: %s", strerror(errno));
            return CANTO_EIO;
        }
        canto__stream_consume(c->stream, (size_t)w, canto_loop_now(c->loop));
    }
}

static void rearm(canto_client *c)
{
    if (!c->stream)
        return;
    const char *data;
    unsigned want = CANTO_IO_IN | (canto__stream_out(c->stream, &data) ? CANTO_IO_OUT : 0);
    if (c->watch && want != c->watched && canto__watch_set(c->watch, want) == 0)
        c->watched = want;
    uint64_t d = canto__stream_deadline(c->stream);
    if (d == UINT64_MAX)
        canto__timer_stop(&c->timer);
    else if (!canto__timer_armed(&c->timer) || c->timer.deadline != d)
        canto__timer_start(c->loop, &c->timer, d, on_timer, c);
}

void canto__client_io_sync(canto_client *c)
{
    if (!c->stream)
        return;
    if (c->fd >= 0) {
        int rc = flush(c);
        if (rc && !c->stream_done)
            canto__stream_eof(c->stream, rc);
    }
    if (c->stream_done) {
        canto__client_stream_over(c);
        return;
    }
    rearm(c);
    /* Without stream management the output buffer is the whole queue: once
     * it has gone out, a sender refused with CANTO_EQUEUEFULL may go on. */
    if (c->want_drain && c->stream && !canto__stream_sm_active(c->stream)) {
        const char *d;
        if (canto__stream_out(c->stream, &d) == 0)
            canto__client_output_drained(c);
    }
}

static void on_io(void *ud, int fd, unsigned events)
{
    canto_client *c = ud;
    (void)fd;
    canto__client_enter(c);
    if ((events & (CANTO_IO_IN | CANTO_IO_ERR)) && c->stream) {
        char buf[READ_CHUNK];
        for (int i = 0; i < READS_PER_WAKEUP && !c->stream_done && !c->freed; i++) {
            ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
            if (r > 0) {
                canto__stream_feed(c->stream, buf, (size_t)r, canto_loop_now(c->loop));
                continue;
            }
            if (r == 0) {
                canto__stream_eof(c->stream, 0);
                break;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                canto__client_set_error(c, "reading from the server failed: %s", strerror(errno));
                canto__stream_eof(c->stream, CANTO_EIO);
            }
            break;
        }
    }
    if (!c->freed)
        canto__client_io_sync(c);
    canto__client_leave(c);
}

static void on_timer(void *ud)
{
    canto_client *c = ud;
    canto__client_enter(c);
    if (c->stream)
        canto__stream_timeout(c->stream, canto_loop_now(c->loop));
    if (!c->freed)
        canto__client_io_sync(c);
    canto__client_leave(c);
}

int canto__client_io_attach(canto_client *c, int fd)
{
    c->fd = fd;
    c->watched = CANTO_IO_IN | CANTO_IO_OUT;
    int rc = canto__watch_add(c->loop, fd, c->watched, on_io, c, &c->watch);
    if (rc) {
        c->watch = NULL;
        return rc;
    }
    return 0;
}

void canto__client_io_detach(canto_client *c)
{
    canto__timer_stop(&c->timer);
    canto__watch_remove(c->watch);
    c->watch = NULL;
    if (c->fd >= 0) {
        if (c->stream)
            flush(c); /* a last error or close tag, if the socket takes it */
        close(c->fd);
        c->fd = -1;
    }
}
