/* The loop object: creation from options, teardown, the clock, and the
 * bracketing that makes dispatch re-entrancy-safe in every mode. */
#include "loop/loop_impl.h"

#include <time.h>

#include <canto/error.h>

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail on the systems we run on; a zero origin is
     * still a monotonic (if useless) clock should it ever do so. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t canto__loop_clock(const canto_loop *loop)
{
    return loop->now_ms ? loop->now_ms(loop->clock_ud) : monotonic_ms();
}

uint64_t canto_loop_now(const canto_loop *loop)
{
    return loop ? canto__loop_clock(loop) : 0;
}

const canto__alloc *canto__loop_alloc(const canto_loop *loop)
{
    return &loop->alloc;
}

const canto__log *canto__loop_log(const canto_loop *loop)
{
    return &loop->log;
}

const char *canto__loop_backend_name(const canto_loop *loop)
{
    return loop->be->name;
}

int canto__loop_create(const canto__backend *be, const canto_loop_hooks *hooks,
                       const canto_loop_options *opts, canto_loop **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (opts && opts->version != CANTO_LOOP_OPTIONS_VERSION)
        return CANTO_EINVAL;
    canto__alloc alloc;
    int rc = canto__alloc_init(&alloc, opts ? opts->alloc : NULL);
    if (rc < 0)
        return rc;
    canto_loop *loop = canto__calloc(&alloc, 1, sizeof(*loop));
    if (!loop)
        return CANTO_ENOMEM;
    loop->alloc = alloc;
    if (opts) {
        loop->log = (canto__log){opts->log, opts->log_user_data, opts->log_level};
        loop->now_ms = opts->now_ms;
        loop->clock_ud = opts->clock_user_data;
    }
    if (hooks)
        loop->hooks = *hooks;
    loop->be = be;
    rc = be->init(loop);
    if (rc < 0) {
        canto__dealloc(&alloc, loop);
        return rc;
    }
    canto__logf(&loop->log, CANTO_LOG_DEBUG, CANTO__LOOP_AREA, "new loop, backend %s", be->name);
    *out = loop;
    return 0;
}

int canto__loop_new_backend(const canto_loop_options *opts, canto__backend_kind kind,
                            canto_loop **out)
{
    switch (kind) {
    case CANTO__BACKEND_EPOLL:
        return canto__loop_create(&canto__backend_epoll, NULL, opts, out);
    case CANTO__BACKEND_POLL:
        return canto__loop_create(&canto__backend_poll, NULL, opts, out);
    case CANTO__BACKEND_AUTO:
        break;
    }
    int rc = canto__loop_create(&canto__backend_epoll, NULL, opts, out);
    /* Only a missing epoll (compiled out, or ENOSYS/EINVAL at run time) falls
     * back; bad options or ENOMEM would fail the same way with poll(). */
    if (rc == CANTO_EUNSUPPORTED)
        rc = canto__loop_create(&canto__backend_poll, NULL, opts, out);
    return rc;
}

int canto_loop_new(const canto_loop_options *opts, canto_loop **out)
{
    return canto__loop_new_backend(opts, CANTO__BACKEND_AUTO, out);
}

void canto__loop_destroy(canto_loop *loop)
{
    canto__loop_pwatches_clear(loop);
    canto__loop_watches_clear(loop);
    canto__loop_timers_clear(loop);
    canto__loop_ptimers_clear(loop);
    canto__loop_attachments_clear(loop);
    /* External mode: cancels the application's timer if one is still set. */
    if (loop->be->timers_changed)
        loop->be->timers_changed(loop);
    loop->be->fini(loop);
    canto__alloc alloc = loop->alloc;
    canto__dealloc(&alloc, loop->watches);
    canto__dealloc(&alloc, loop->ready);
    canto__dealloc(&alloc, loop);
}

void canto_loop_free(canto_loop *loop)
{
    if (!loop)
        return;
    /* Called from one of our callbacks: the dispatcher still holds the loop,
     * so the real teardown waits until the callback returns. */
    if (loop->depth > 0) {
        loop->free_pending = 1;
        return;
    }
    canto__loop_destroy(loop);
}

int canto__loop_dispatch_begin(canto_loop *loop)
{
    if (loop->depth > 0 || loop->in_hook > 0)
        return CANTO_ESTATE;
    loop->depth++;
    return 0;
}

int canto__loop_dispatch_end(canto_loop *loop)
{
    loop->depth--;
    if (loop->free_pending) {
        canto__loop_destroy(loop);
        return 1;
    }
    if (loop->timer_dirty) {
        loop->timer_dirty = 0;
        if (loop->be->timers_changed)
            loop->be->timers_changed(loop);
    }
    return 0;
}
