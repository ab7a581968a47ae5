/* Built-in mode: wait with the backend, then dispatch one round. A round
 * collects everything first (ready fds, due timers) and only then runs
 * callbacks, so what a callback changes can only take effect, never corrupt
 * the iteration. */
#include "loop/loop_impl.h"

#include <limits.h>

#include <canto/error.h>

static int nothing_left(const canto_loop *loop)
{
    return loop->nactive == 0 && loop->heap_len == 0;
}

/* Milliseconds to wait: the caller's limit (-1: none) shortened to the next
 * timer, clamped to what the backends accept. */
static int wait_ms(const canto_loop *loop, int has_limit, uint64_t limit, uint64_t now)
{
    uint64_t ms = UINT64_MAX;
    if (has_limit)
        ms = limit > now ? limit - now : 0;
    uint64_t next;
    if (canto__loop_timers_next(loop, &next)) {
        uint64_t t = next > now ? next - now : 0;
        if (t < ms)
            ms = t;
    }
    if (ms == UINT64_MAX)
        return -1;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* One wait and one dispatch. Returns the number of callbacks run or CANTO_EIO;
 * sets *freed when a callback freed the loop. */
static int round_once(canto_loop *loop, int timeout_ms, int *freed)
{
    int rc = canto__loop_dispatch_begin(loop);
    if (rc < 0)
        return rc;
    uint64_t now = canto__loop_clock(loop);
    int has_limit = timeout_ms >= 0;
    uint64_t limit = has_limit ? now + (uint64_t)timeout_ms : 0;
    int n;
    for (;;) {
        n = loop->be->wait(loop, wait_ms(loop, has_limit, limit, now));
        if (n != CANTO__WAIT_EINTR)
            break;
        /* A signal is no event: wait again for what is left of the time. */
        now = canto__loop_clock(loop);
    }
    if (n < 0) {
        canto__logf(&loop->log, CANTO_LOG_ERROR, CANTO__LOOP_AREA, "%s wait failed",
                    loop->be->name);
        *freed = canto__loop_dispatch_end(loop);
        return CANTO_EIO;
    }
    canto__loop_timers_collect(loop, canto__loop_clock(loop));
    int count = 0;
    /* loop->ready is indexed afresh each time: a callback adding a watch may
     * move the array. */
    for (int i = 0; i < n && !loop->free_pending; i++) {
        canto__ready r = loop->ready[i];
        count += canto__loop_watch_deliver(loop, r.fd, r.id, r.events);
    }
    if (!loop->free_pending)
        count += canto__loop_timers_fire(loop);
    *freed = canto__loop_dispatch_end(loop);
    return count;
}

int canto_loop_run_once(canto_loop *loop, int timeout_ms)
{
    if (!loop)
        return CANTO_EINVAL;
    if (!loop->be->wait)
        return CANTO_ESTATE;
    /* Waiting without a limit for nothing would never return. */
    if (timeout_ms < 0 && nothing_left(loop))
        return loop->depth > 0 || loop->in_hook > 0 ? CANTO_ESTATE : 0;
    int freed = 0;
    return round_once(loop, timeout_ms, &freed);
}

int canto_loop_run(canto_loop *loop)
{
    if (!loop)
        return CANTO_EINVAL;
    if (!loop->be->wait || loop->depth > 0 || loop->in_hook > 0)
        return CANTO_ESTATE;
    /* A stop() from before this run() is not carried over. */
    loop->stop = 0;
    while (!loop->stop && !nothing_left(loop)) {
        int freed = 0;
        int rc = round_once(loop, -1, &freed);
        if (freed)
            return 0;
        if (rc < 0)
            return rc;
    }
    loop->stop = 0;
    return 0;
}

int canto_loop_stop(canto_loop *loop)
{
    if (!loop)
        return CANTO_EINVAL;
    loop->stop = 1;
    return 0;
}
