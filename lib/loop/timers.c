/* Timers: a binary min-heap of canto__timer ordered by deadline, plus the "due"
 * list of one dispatch round. Timers are embedded in their owners, so the loop
 * never allocates per timer and never touches a timer after it was stopped or
 * after its callback started (the owner may free it then). */
#include "loop/loop_impl.h"

#include <canto/error.h>

static void heap_put(canto_loop *loop, size_t i, canto__timer *t)
{
    loop->heap[i] = t;
    t->heap_pos = i + 1;
}

static void sift_up(canto_loop *loop, size_t i)
{
    canto__timer *t = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (loop->heap[parent]->deadline <= t->deadline)
            break;
        heap_put(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_put(loop, i, t);
}

static void sift_down(canto_loop *loop, size_t i)
{
    canto__timer *t = loop->heap[i];
    size_t n = loop->heap_len;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && loop->heap[child + 1]->deadline < loop->heap[child]->deadline)
            child++;
        if (t->deadline <= loop->heap[child]->deadline)
            break;
        heap_put(loop, i, loop->heap[child]);
        i = child;
    }
    heap_put(loop, i, t);
}

static void heap_remove_at(canto_loop *loop, size_t i)
{
    canto__timer *last = loop->heap[--loop->heap_len];
    if (i == loop->heap_len)
        return;
    heap_put(loop, i, last);
    if (i > 0 && last->deadline < loop->heap[(i - 1) / 2]->deadline)
        sift_up(loop, i);
    else
        sift_down(loop, i);
}

/* Room for @p n timers in the heap, and as many in the due list so collecting
 * a round can never fail. */
static int reserve(canto_loop *loop, size_t n)
{
    if (n <= loop->heap_cap)
        return 0;
    size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
    if (cap < n || cap > SIZE_MAX / sizeof(canto__timer *))
        return CANTO_ENOMEM;
    canto__timer **due = canto__realloc(&loop->alloc, loop->due, cap * sizeof(*due));
    if (!due)
        return CANTO_ENOMEM;
    loop->due = due;
    loop->due_cap = cap;
    canto__timer **heap = canto__realloc(&loop->alloc, loop->heap, cap * sizeof(*heap));
    if (!heap)
        return CANTO_ENOMEM;
    loop->heap = heap;
    loop->heap_cap = cap;
    return 0;
}

/* Take an armed timer out of wherever it is (heap or due list). */
static void unlink_timer(canto__timer *t)
{
    canto_loop *loop = t->loop;
    if (t->heap_pos & CANTO__TIMER_DUE)
        loop->due[t->heap_pos & ~CANTO__TIMER_DUE] = NULL; /* the round skips holes */
    else
        heap_remove_at(loop, t->heap_pos - 1);
    t->heap_pos = 0;
}

static void notify(canto_loop *loop)
{
    if (loop->be->timers_changed)
        loop->be->timers_changed(loop);
}

int canto__timer_start(canto_loop *loop, canto__timer *t, uint64_t deadline_ms, canto__timer_fn fn,
                       void *ud)
{
    if (!loop || !t || !fn)
        return CANTO_EINVAL;
    /* Reserve before unlinking so a failure leaves an armed timer armed. */
    int rc = reserve(loop, loop->heap_len + 1);
    if (rc < 0)
        return rc;
    canto_loop *old = t->heap_pos ? t->loop : NULL;
    if (old) {
        unlink_timer(t);
        if (old != loop)
            notify(old);
    }
    t->loop = loop;
    t->deadline = deadline_ms;
    t->fn = fn;
    t->ud = ud;
    loop->heap[loop->heap_len] = t;
    loop->heap_len++;
    sift_up(loop, loop->heap_len - 1);
    notify(loop);
    return 0;
}

void canto__timer_stop(canto__timer *t)
{
    if (!t || !t->heap_pos)
        return;
    canto_loop *loop = t->loop;
    unlink_timer(t);
    notify(loop);
}

int canto__timer_armed(const canto__timer *t)
{
    return t && t->heap_pos != 0;
}

int canto__loop_timers_next(const canto_loop *loop, uint64_t *deadline)
{
    if (loop->heap_len == 0)
        return 0;
    *deadline = loop->heap[0]->deadline;
    return 1;
}

void canto__loop_timers_collect(canto_loop *loop, uint64_t now)
{
    /* Only what is due now: a callback that re-arms a timer for "now" puts it
     * back in the heap, where it waits for the next round instead of running
     * again in this one and starving fd events. */
    while (loop->heap_len > 0 && loop->heap[0]->deadline <= now) {
        canto__timer *t = loop->heap[0];
        heap_remove_at(loop, 0);
        loop->due[loop->due_len] = t;
        t->heap_pos = CANTO__TIMER_DUE | loop->due_len;
        loop->due_len++;
    }
}

int canto__loop_timers_fire(canto_loop *loop)
{
    int fired = 0;
    for (size_t i = 0; i < loop->due_len; i++) {
        canto__timer *t = loop->due[i];
        if (!t)
            continue;
        loop->due[i] = NULL;
        t->heap_pos = 0;
        /* Copied out: the callback may free or re-arm t. */
        canto__timer_fn fn = t->fn;
        void *ud = t->ud;
        fn(ud);
        fired++;
        if (loop->free_pending)
            return fired; /* the rest is disarmed by the teardown */
    }
    loop->due_len = 0;
    return fired;
}

void canto__loop_timers_clear(canto_loop *loop)
{
    size_t left = loop->heap_len;
    for (size_t i = 0; i < loop->heap_len; i++)
        loop->heap[i]->heap_pos = 0;
    for (size_t i = 0; i < loop->due_len; i++) {
        if (loop->due[i]) {
            loop->due[i]->heap_pos = 0;
            left++;
        }
    }
    if (left)
        canto__logf(&loop->log, CANTO_LOG_WARN, CANTO__LOOP_AREA,
                    "loop freed with %zu timer(s) still armed", left);
    loop->heap_len = loop->due_len = 0;
    canto__dealloc(&loop->alloc, loop->heap);
    canto__dealloc(&loop->alloc, loop->due);
    loop->heap = loop->due = NULL;
    loop->heap_cap = loop->due_cap = 0;
}
