/* External mode: the application's loop waits. Watch changes go straight to
 * the watch_fd hook (watches.c already drops changes that change nothing);
 * the single timer is kept pointing at the earliest deadline through
 * set_timer, told only when that deadline actually changes. */
#include "loop/loop_impl.h"

#include <limits.h>

#include <canto/error.h>

static int call_watch_fd(canto_loop *loop, int fd, unsigned events)
{
    loop->in_hook++;
    int rc = loop->hooks.watch_fd(loop->hooks.user_data, fd, events);
    loop->in_hook--;
    return rc;
}

static int ex_init(canto_loop *loop)
{
    (void)loop;
    return 0;
}

static void ex_fini(canto_loop *loop)
{
    (void)loop;
}

static int ex_add(canto_loop *loop, canto__watch *w)
{
    return call_watch_fd(loop, w->fd, w->events) < 0 ? CANTO_EIO : 0;
}

static int ex_mod(canto_loop *loop, canto__watch *w, unsigned events)
{
    return call_watch_fd(loop, w->fd, events) < 0 ? CANTO_EIO : 0;
}

static void ex_del(canto_loop *loop, canto__watch *w)
{
    if (call_watch_fd(loop, w->fd, CANTO_IO_REMOVE) < 0)
        canto__logf(&loop->log, CANTO_LOG_WARN, CANTO__LOOP_AREA,
                    "watch_fd hook failed to remove fd %d", w->fd);
}

static void sync_timer(canto_loop *loop)
{
    uint64_t next = 0;
    int have = canto__loop_timers_next(loop, &next);
    if (loop->told_state == have && (!have || loop->told_deadline == next))
        return;
    long ms = -1;
    if (have) {
        uint64_t now = canto__loop_clock(loop);
        uint64_t d = next > now ? next - now : 0;
        ms = d > LONG_MAX ? LONG_MAX : (long)d;
    }
    loop->in_hook++;
    int rc = loop->hooks.set_timer(loop->hooks.user_data, ms);
    loop->in_hook--;
    if (rc < 0) {
        canto__logf(&loop->log, CANTO_LOG_ERROR, CANTO__LOOP_AREA, "set_timer hook failed (%ld ms)",
                    ms);
        loop->told_state = -1; /* unknown: tell again at the next change */
        return;
    }
    loop->told_state = have;
    loop->told_deadline = next;
}

static void ex_timers_changed(canto_loop *loop)
{
    /* While callbacks run, many changes usually come together (a timer firing
     * re-arms itself, a connection swaps timeouts): tell the net result once,
     * when the dispatch is over. */
    if (loop->depth > 0) {
        loop->timer_dirty = 1;
        return;
    }
    sync_timer(loop);
}

const canto__backend canto__backend_external = {
    "external", ex_init, ex_fini, ex_add, ex_mod, ex_del, NULL, ex_timers_changed,
};

int canto_loop_new_external(const canto_loop_hooks *hooks, const canto_loop_options *opts,
                            canto_loop **out)
{
    if (out)
        *out = NULL;
    if (!hooks || hooks->version != CANTO_LOOP_HOOKS_VERSION || !hooks->watch_fd ||
        !hooks->set_timer)
        return CANTO_EINVAL;
    return canto__loop_create(&canto__backend_external, hooks, opts, out);
}

int canto_loop_fd_ready(canto_loop *loop, int fd, unsigned events)
{
    if (!loop)
        return CANTO_EINVAL;
    if (loop->be->wait)
        return CANTO_ESTATE;
    if (loop->depth > 0 || loop->in_hook > 0)
        return CANTO_ESTATE;
    /* An fd we stopped watching can still be reported by an application that
     * had collected its events before our REMOVE: harmless, say so. */
    canto__watch *w = canto__loop_watch_find(loop, fd);
    if (!w)
        return CANTO_EINVAL;
    int rc = canto__loop_dispatch_begin(loop);
    if (rc < 0)
        return rc;
    canto__loop_watch_deliver(loop, fd, w->id,
                              events & (CANTO_IO_IN | CANTO_IO_OUT | CANTO_IO_ERR));
    canto__loop_dispatch_end(loop);
    return 0;
}

int canto_loop_timer_expired(canto_loop *loop)
{
    if (!loop)
        return CANTO_EINVAL;
    if (loop->be->wait)
        return CANTO_ESTATE;
    int rc = canto__loop_dispatch_begin(loop);
    if (rc < 0)
        return rc;
    /* The application's timer is one-shot and has just fired: whatever is
     * armed after this round must be told again, even the same deadline. */
    loop->told_state = 0;
    loop->timer_dirty = 1;
    canto__loop_timers_collect(loop, canto__loop_clock(loop));
    canto__loop_timers_fire(loop);
    canto__loop_dispatch_end(loop);
    return 0;
}
