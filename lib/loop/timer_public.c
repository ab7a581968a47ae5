/* Public one-shot timers (canto_loop_add_timer): each is a small record
 * holding an internal canto__timer, owned by the loop from the moment it is
 * added until it fires or is cancelled. Records sit in a doubly linked list so
 * firing unlinks in O(1); cancelling finds the id by walking the list. */
#include "loop/loop_impl.h"

#include <canto/error.h>

struct canto__ptimer {
    canto__timer timer; /* armed for the whole life of the record */
    canto__ptimer *next;
    canto__ptimer **pprev; /* the pointer that points at this record */
    canto_loop *loop;
    unsigned id;
    canto_loop_timer_fn fn;
    void *ud;
};

static void unlink_ptimer(canto__ptimer *p)
{
    *p->pprev = p->next;
    if (p->next)
        p->next->pprev = p->pprev;
    p->next = NULL;
    p->pprev = NULL;
}

static canto__ptimer *find(const canto_loop *loop, unsigned id)
{
    for (canto__ptimer *p = loop->ptimers; p; p = p->next)
        if (p->id == id)
            return p;
    return NULL;
}

static void on_fire(void *ud)
{
    canto__ptimer *p = ud;
    canto_loop *loop = p->loop;
    canto_loop_timer_fn fn = p->fn;
    void *fn_ud = p->ud;
    unsigned id = p->id;
    /* Gone before the callback runs: it may free whatever owns fn_ud, add
     * timers (which may then reuse nothing of this one) or free the loop. */
    unlink_ptimer(p);
    canto__dealloc(&loop->alloc, p);
    fn(fn_ud, loop, id);
}

/* The next id: never 0, and never one still pending after the counter wraps. */
static unsigned next_id(canto_loop *loop)
{
    for (;;) {
        unsigned id = ++loop->next_ptimer_id;
        if (id != 0 && !find(loop, id))
            return id;
    }
}

int canto_loop_add_timer(canto_loop *loop, uint32_t delay_ms, canto_loop_timer_fn fn,
                         void *user_data, unsigned *id)
{
    if (!loop || !fn)
        return CANTO_EINVAL;
    canto__ptimer *p = canto__calloc(&loop->alloc, 1, sizeof(*p));
    if (!p)
        return CANTO_ENOMEM;
    p->loop = loop;
    p->fn = fn;
    p->ud = user_data;
    int rc = canto__timer_start(loop, &p->timer, canto__loop_clock(loop) + delay_ms, on_fire, p);
    if (rc < 0) {
        canto__dealloc(&loop->alloc, p);
        return rc;
    }
    p->id = next_id(loop);
    p->next = loop->ptimers;
    if (p->next)
        p->next->pprev = &p->next;
    p->pprev = &loop->ptimers;
    loop->ptimers = p;
    if (id)
        *id = p->id;
    return 0;
}

int canto_loop_cancel_timer(canto_loop *loop, unsigned id)
{
    if (!loop)
        return CANTO_EINVAL;
    canto__ptimer *p = id ? find(loop, id) : NULL;
    if (!p)
        return CANTO_ENOTFOUND;
    canto__timer_stop(&p->timer);
    unlink_ptimer(p);
    canto__dealloc(&loop->alloc, p);
    return 0;
}

void canto__loop_ptimers_clear(canto_loop *loop)
{
    /* Already disarmed by canto__loop_timers_clear(): stopping them here would
     * tell an external loop's set_timer about each one. */
    while (loop->ptimers) {
        canto__ptimer *p = loop->ptimers;
        unlink_ptimer(p);
        canto__dealloc(&loop->alloc, p);
    }
}
