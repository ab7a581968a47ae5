/* The loop object itself, shared by the files of lib/loop/ only. Layers above
 * see canto_loop as opaque and use lib/loop/loop.h. */
#ifndef CANTO_LOOP_LOOP_IMPL_H
#define CANTO_LOOP_LOOP_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "loop/backend.h"
#include "loop/loop.h"

/* The subsystem name passed to canto__logf. */
#define CANTO__LOOP_AREA "loop"

struct canto__watch {
    canto_loop *loop;
    int fd;
    unsigned events; /* current interest: CANTO_IO_IN | CANTO_IO_OUT, possibly 0 */
    canto__io_fn fn;
    void *ud;
    /* Unique over the loop's lifetime, so an event collected for a watch that is
     * removed and replaced (same fd) during one dispatch round is recognised as
     * stale and dropped instead of reaching the new watch. */
    uint64_t id;
    size_t be_slot; /* backend bookkeeping (poll: index in its pollfd array) */
};

/* One fd event collected before dispatching, see canto__watch.id. */
typedef struct canto__ready {
    int fd;
    unsigned events;
    uint64_t id;
} canto__ready;

/* A timer in the "due" list rather than the heap has this bit set in heap_pos
 * (the rest is its index in the due array). It still counts as armed, so
 * canto__timer_stop() and canto__timer_start() find and unlink it. */
#define CANTO__TIMER_DUE ((size_t)1 << (sizeof(size_t) * 8 - 1))

/* A public timer (canto_loop_add_timer), see timer_public.c. */
typedef struct canto__ptimer canto__ptimer;
typedef struct canto__pwatch canto__pwatch;

struct canto_loop {
    canto__alloc alloc;
    canto__log log;
    uint64_t (*now_ms)(void *ud);
    void *clock_ud;

    const canto__backend *be;
    void *be_state;
    canto_loop_hooks hooks; /* external mode only */

    /* fd -> watch, a plain array indexed by fd (NULL: not watched). */
    canto__watch **watches;
    size_t watches_cap;
    size_t nwatches; /* watches in the table */
    size_t nactive;  /* of those, with a non-zero interest */
    uint64_t next_watch_id;

    /* Built-in mode: events collected by one wait; capacity is kept at least
     * the number of watches so a poll() result always fits. */
    canto__ready *ready;
    size_t ready_cap;

    /* Timers: binary min-heap in heap[0..heap_len), timer->heap_pos = index + 1.
     * due[0..due_len) holds the timers collected for the running round, in
     * deadline order; a stopped one leaves a NULL hole. due_cap >= heap_cap so
     * collecting never allocates. */
    canto__timer **heap;
    size_t heap_len, heap_cap;
    canto__timer **due;
    size_t due_len, due_cap;

    /* External mode: the deadline last passed to set_timer (told_state 1), none
     * (0), or unknown after a failed hook (-1, so the next sync tells again). */
    uint64_t told_deadline;
    int told_state;
    int timer_dirty; /* a timer changed while dispatching: sync afterwards */

    /* Objects the layers above share per loop (attach.c). */
    struct canto__attachment *attachments;

    /* Public one-shot timers (timer_public.c), most recent first. */
    canto__ptimer *ptimers;
    unsigned next_ptimer_id;

    /* Public fd watches (watch_public.c), most recent first. */
    canto__pwatch *pwatches;
    unsigned next_pwatch_id;

    int depth;        /* > 0 while callbacks are being dispatched */
    int in_hook;      /* > 0 while an external hook runs */
    int stop;         /* canto_loop_stop() was called during canto_loop_run() */
    int free_pending; /* canto_loop_free() was called from a callback */
};

/* Clock in ms, from the options or CLOCK_MONOTONIC. */
uint64_t canto__loop_clock(const canto_loop *loop);

/* Create a loop with backend @p be (built-in or external); opts as in the API. */
int canto__loop_create(const canto__backend *be, const canto_loop_hooks *hooks,
                       const canto_loop_options *opts, canto_loop **out);
/* Free for real: the caller knows no dispatch is running. */
void canto__loop_destroy(canto_loop *loop);

/* Dispatch bracketing: begin refuses re-entry (CANTO_ESTATE); end returns 1 if
 * the loop was freed by a callback and must not be touched any more. */
int canto__loop_dispatch_begin(canto_loop *loop);
int canto__loop_dispatch_end(canto_loop *loop);

/* watches.c */
canto__watch *canto__loop_watch_find(const canto_loop *loop, int fd);
/* Deliver @p events to the watch of @p fd if it is still the one with @p id.
 * Returns 1 if a callback ran. */
int canto__loop_watch_deliver(canto_loop *loop, int fd, uint64_t id, unsigned events);
/* Drop all watches at loop teardown (telling the backend). */
void canto__loop_watches_clear(canto_loop *loop);

/* timers.c */
/* Earliest deadline: 1 and *deadline if a timer is armed, else 0. */
int canto__loop_timers_next(const canto_loop *loop, uint64_t *deadline);
/* Move every timer due at @p now into the due list, in deadline order. */
void canto__loop_timers_collect(canto_loop *loop, uint64_t now);
/* Fire the due list; returns the number of callbacks run. Stops early when a
 * callback freed the loop (free_pending). */
int canto__loop_timers_fire(canto_loop *loop);
/* Disarm every timer and free the heap at loop teardown. */
void canto__loop_timers_clear(canto_loop *loop);

/* timer_public.c: free the records of public timers still pending at loop
 * teardown; call after canto__loop_timers_clear() (which disarmed them
 * without telling the hooks, and counted them in its warning). */
void canto__loop_ptimers_clear(canto_loop *loop);
void canto__loop_attachments_clear(canto_loop *loop);
/* watch_public.c: free the records of public watches left at loop teardown,
 * before canto__loop_watches_clear() (which would warn about each). */
void canto__loop_pwatches_clear(canto_loop *loop);

#endif
