/**
 * @file canto/adapters/libuv.h
 * @brief Drive a Canto loop from a libuv loop (header-only).
 *
 * @code
 * canto_uv_loop *u;
 * if (canto_uv_loop_new(uv_default_loop(), NULL, &u) == 0) {
 *     canto_loop *loop = canto_uv_loop_get(u);   // attach clients etc. to it
 *     uv_run(uv_default_loop(), UV_RUN_DEFAULT);
 *     // free everything attached to loop, then:
 *     canto_uv_loop_free(u);
 *     uv_run(uv_default_loop(), UV_RUN_NOWAIT);  // runs the close callbacks
 * }
 * @endcode
 *
 * Each fd Canto watches gets its own uv_poll_t (libuv allows one poll handle
 * per fd; Canto never asks for two). Canto's single timer is a uv_timer_t, or
 * for set_timer(0) a uv_idle_t: libuv (before 1.45) runs a zero timer started
 * from a timer callback again in the same pass, which would let a Canto timer
 * that keeps re-arming itself starve fd events; an idle callback runs once per
 * iteration, and never from inside the hook. A poll handle with no interest is
 * stopped, as are the timer and the idle handle when Canto waits for nothing,
 * so the adapter then does not keep uv_run(UV_RUN_DEFAULT) going.
 *
 * libuv handles are closed asynchronously: after canto_uv_loop_free() the
 * adapter's memory is released by the close callbacks, in the next iteration
 * of the uv loop. Run the loop (UV_RUN_NOWAIT is enough) before uv_loop_close(),
 * which otherwise fails with UV_EBUSY.
 *
 * Note that uv_poll_init() puts a watched fd in non-blocking mode (Canto's own
 * fds already are).
 *
 * Uses only Canto's public API; link with libuv (>= 1.0) and Canto. Like
 * <uv.h> itself, it needs the POSIX declarations (-std=gnu11, or
 * _POSIX_C_SOURCE >= 200809L, _GNU_SOURCE...).
 *
 * Threads: use the adapter, and the canto_loop it owns, only on the thread
 * that runs the uv loop.
 *
 * Memory: the adapter's own state is allocated with malloc(); @p opts->alloc
 * applies to the canto_loop.
 */
#ifndef CANTO_ADAPTERS_LIBUV_H
#define CANTO_ADAPTERS_LIBUV_H

#include <stdlib.h>
#include <uv.h>

#include <canto/error.h>
#include <canto/loop.h>

CANTO_BEGIN_DECLS

/** The adapter: the uv handles and the canto_loop they drive. */
typedef struct canto_uv_loop canto_uv_loop;

/** @cond INTERNAL */
typedef struct canto_uv_impl_poll {
    uv_poll_t handle; /* handle.data: the adapter */
    int fd;
    unsigned events; /* CANTO_IO_IN | CANTO_IO_OUT, possibly 0 (then stopped) */
} canto_uv_impl_poll;

struct canto_uv_loop {
    uv_loop_t *uv;
    canto_loop *loop;
    uv_timer_t timer;
    uv_idle_t asap;             /* set_timer(0), see the file comment */
    canto_uv_impl_poll **polls; /* handles are malloc'ed one by one: libuv keeps
                                   pointers to them, so they must not move */
    size_t npolls, cap;
    size_t closing; /* handles whose close callback has not run yet */
    int freed;      /* canto_uv_loop_free() ran: hooks do nothing any more */
};

static inline void canto_uv_impl_release(canto_uv_loop *u)
{
    if (u->freed && u->closing == 0) {
        free(u->polls);
        free(u);
    }
}

static inline void canto_uv_impl_poll_closed(uv_handle_t *h)
{
    canto_uv_impl_poll *p = (canto_uv_impl_poll *)h;
    canto_uv_loop *u = (canto_uv_loop *)h->data;
    free(p);
    u->closing--;
    canto_uv_impl_release(u);
}

static inline void canto_uv_impl_handle_closed(uv_handle_t *h)
{
    canto_uv_loop *u = (canto_uv_loop *)h->data;
    u->closing--;
    canto_uv_impl_release(u);
}

static inline int canto_uv_impl_find(const canto_uv_loop *u, int fd)
{
    for (size_t i = 0; i < u->npolls; i++)
        if (u->polls[i]->fd == fd)
            return (int)i;
    return -1;
}

static inline void canto_uv_impl_on_poll(uv_poll_t *h, int status, int events)
{
    canto_uv_impl_poll *p = (canto_uv_impl_poll *)h;
    canto_uv_loop *u = (canto_uv_loop *)h->data;
    unsigned ev = ((events & UV_READABLE) ? (unsigned)CANTO_IO_IN : 0u) |
                  ((events & UV_WRITABLE) ? (unsigned)CANTO_IO_OUT : 0u) |
                  (status < 0 ? (unsigned)CANTO_IO_ERR : 0u);
    /* p stays valid even if the callback removes it: it is freed by the close
     * callback, later. */
    if (u->loop && ev)
        canto_loop_fd_ready(u->loop, p->fd, ev);
}

static inline void canto_uv_impl_on_timer(uv_timer_t *t)
{
    canto_uv_loop *u = (canto_uv_loop *)t->data;
    if (u->loop)
        canto_loop_timer_expired(u->loop);
}

static inline void canto_uv_impl_on_asap(uv_idle_t *h)
{
    canto_uv_loop *u = (canto_uv_loop *)h->data;
    uv_idle_stop(h); /* one-shot, like the timer */
    if (u->loop)
        canto_loop_timer_expired(u->loop);
}

static inline void canto_uv_impl_close_poll(canto_uv_loop *u, canto_uv_impl_poll *p)
{
    u->closing++;
    uv_close((uv_handle_t *)&p->handle, canto_uv_impl_poll_closed);
}

static inline int canto_uv_impl_start(canto_uv_impl_poll *p, unsigned events)
{
    if (!events)
        return uv_poll_stop(&p->handle);
    int uv_events =
        ((events & CANTO_IO_IN) ? UV_READABLE : 0) | ((events & CANTO_IO_OUT) ? UV_WRITABLE : 0);
    return uv_poll_start(&p->handle, uv_events, canto_uv_impl_on_poll);
}

static inline int canto_uv_impl_watch_fd(void *ud, int fd, unsigned events)
{
    canto_uv_loop *u = (canto_uv_loop *)ud;
    if (u->freed)
        return 0;
    int i = canto_uv_impl_find(u, fd);
    if (events & CANTO_IO_REMOVE) {
        if (i >= 0) {
            canto_uv_impl_close_poll(u, u->polls[i]);
            u->polls[i] = u->polls[--u->npolls];
        }
        return 0;
    }
    if (i >= 0) {
        if (canto_uv_impl_start(u->polls[i], events) < 0)
            return -1;
        u->polls[i]->events = events;
        return 0;
    }
    if (u->npolls == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 8;
        canto_uv_impl_poll **polls = (canto_uv_impl_poll **)realloc(u->polls, cap * sizeof(*polls));
        if (!polls)
            return -1;
        u->polls = polls;
        u->cap = cap;
    }
    canto_uv_impl_poll *p = (canto_uv_impl_poll *)malloc(sizeof(*p));
    if (!p)
        return -1;
    /* On failure uv_poll_init leaves the handle unregistered: plain free. */
    if (uv_poll_init(u->uv, &p->handle, fd) < 0) {
        free(p);
        return -1;
    }
    p->handle.data = u;
    p->fd = fd;
    p->events = events;
    if (canto_uv_impl_start(p, events) < 0) {
        canto_uv_impl_close_poll(u, p);
        return -1;
    }
    u->polls[u->npolls++] = p;
    return 0;
}

static inline int canto_uv_impl_set_timer(void *ud, long timeout_ms)
{
    canto_uv_loop *u = (canto_uv_loop *)ud;
    if (u->freed)
        return 0;
    uv_timer_stop(&u->timer);
    uv_idle_stop(&u->asap);
    if (timeout_ms < 0)
        return 0;
    if (timeout_ms == 0)
        return uv_idle_start(&u->asap, canto_uv_impl_on_asap) < 0 ? -1 : 0;
    /* libuv counts from the time cached at the start of the iteration; after
     * long callbacks that would make the timer fire early. */
    uv_update_time(u->uv);
    return uv_timer_start(&u->timer, canto_uv_impl_on_timer, (uint64_t)timeout_ms, 0) < 0 ? -1 : 0;
}
/** @endcond */

/**
 * Create a canto_loop driven by libuv loop @p uv.
 * @param uv the libuv loop; it must outlive the adapter (including its close
 *        callbacks, see the file comment).
 * @param opts options for the canto_loop, or NULL.
 * @param out receives the adapter; free with canto_uv_loop_free().
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM, CANTO_EIO (a uv handle failed to initialize).
 */
static inline int canto_uv_loop_new(uv_loop_t *uv, const canto_loop_options *opts,
                                    canto_uv_loop **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!uv)
        return CANTO_EINVAL;
    canto_uv_loop *u = (canto_uv_loop *)calloc(1, sizeof(*u));
    if (!u)
        return CANTO_ENOMEM;
    u->uv = uv;
    canto_loop_hooks hooks = CANTO_LOOP_HOOKS_INIT;
    hooks.watch_fd = canto_uv_impl_watch_fd;
    hooks.set_timer = canto_uv_impl_set_timer;
    hooks.user_data = u;
    int rc = canto_loop_new_external(&hooks, opts, &u->loop);
    if (rc < 0) {
        free(u);
        return rc;
    }
    if (uv_timer_init(uv, &u->timer) < 0) {
        canto_loop_free(u->loop);
        free(u);
        return CANTO_EIO;
    }
    u->timer.data = u;
    if (uv_idle_init(uv, &u->asap) < 0) {
        /* The timer is registered with the loop already: it must be closed,
         * and the adapter freed by its close callback. */
        canto_loop_free(u->loop);
        u->loop = NULL;
        u->freed = 1;
        u->closing = 1;
        uv_close((uv_handle_t *)&u->timer, canto_uv_impl_handle_closed);
        return CANTO_EIO;
    }
    u->asap.data = u;
    *out = u;
    return 0;
}

/**
 * The canto_loop to attach Canto objects to.
 * @return a borrowed pointer, valid until canto_uv_loop_free(); NULL for NULL.
 */
static inline canto_loop *canto_uv_loop_get(const canto_uv_loop *u)
{
    return u ? u->loop : NULL;
}

/**
 * Free the canto_loop and close the adapter's handles; their memory is
 * released by libuv close callbacks in the next iteration of the uv loop.
 * Every Canto object attached to the loop must have been freed first. May be
 * called from inside a Canto callback run by this adapter. NULL is allowed.
 */
static inline void canto_uv_loop_free(canto_uv_loop *u)
{
    if (!u)
        return;
    canto_loop *loop = u->loop;
    u->loop = NULL;
    /* First, while the hooks still work: it stops the timer and removes any fd
     * left (or, from inside a callback, does so when the callback returns). */
    canto_loop_free(loop);
    u->freed = 1;
    for (size_t i = 0; i < u->npolls; i++)
        canto_uv_impl_close_poll(u, u->polls[i]);
    u->npolls = 0;
    u->closing += 2;
    uv_close((uv_handle_t *)&u->timer, canto_uv_impl_handle_closed);
    uv_close((uv_handle_t *)&u->asap, canto_uv_impl_handle_closed);
}

CANTO_END_DECLS

#endif
