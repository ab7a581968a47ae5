/**
 * @file canto/adapters/glib.h
 * @brief Drive a Canto loop from a GLib main context (header-only).
 *
 * @code
 * canto_glib_loop *g;
 * if (canto_glib_loop_new(NULL, NULL, &g) == 0) {  // NULL: the default context
 *     canto_loop *loop = canto_glib_loop_get(g);   // attach clients etc. to it
 *     g_main_loop_run(main_loop);
 *     // free everything attached to loop, then:
 *     canto_glib_loop_free(g);
 * }
 * @endcode
 *
 * The adapter is one GSource attached to the context: every fd Canto watches is
 * added to it with g_source_add_unix_fd(), and Canto's single timer is the
 * source's ready time, so set_timer(0) is answered by the next iteration of the
 * context, never from inside the hook. The source has G_PRIORITY_DEFAULT.
 *
 * Uses only Canto's public API; link with glib-2.0 (>= 2.36) and Canto.
 *
 * Threads: use the adapter, and the canto_loop it owns, only on the thread
 * that iterates @p ctx (its owner), like every GSource callback.
 *
 * Memory: the adapter's own state is allocated by GLib (g_malloc aborts when
 * memory runs out); @p opts->alloc applies to the canto_loop.
 */
#ifndef CANTO_ADAPTERS_GLIB_H
#define CANTO_ADAPTERS_GLIB_H

#include <glib.h>

#include <canto/error.h>
#include <canto/loop.h>

CANTO_BEGIN_DECLS

/** The adapter: a GSource subclass plus the canto_loop it drives. */
typedef struct canto_glib_loop canto_glib_loop;

/** @cond INTERNAL */
typedef struct canto_glib_impl_fd {
    int fd;
    unsigned events; /* CANTO_IO_IN | CANTO_IO_OUT, possibly 0 */
    gpointer tag;    /* from g_source_add_unix_fd; NULL while events is 0 */
} canto_glib_impl_fd;

typedef struct canto_glib_impl_ready {
    int fd;
    unsigned events;
} canto_glib_impl_ready;

struct canto_glib_loop {
    GSource base; /* first: the GSource and the adapter are one allocation */
    canto_loop *loop;
    canto_glib_impl_fd *fds;
    canto_glib_impl_ready *ready; /* scratch for one dispatch, as large as fds */
    size_t nfds, cap;
    int closed; /* canto_glib_loop_free() ran: hooks do nothing any more */
};

static inline int canto_glib_impl_find(const canto_glib_loop *g, int fd)
{
    for (size_t i = 0; i < g->nfds; i++)
        if (g->fds[i].fd == fd)
            return (int)i;
    return -1;
}

static inline GIOCondition canto_glib_impl_cond(unsigned events)
{
    return (GIOCondition)(((events & CANTO_IO_IN) ? G_IO_IN : 0) |
                          ((events & CANTO_IO_OUT) ? G_IO_OUT : 0));
}

static inline int canto_glib_impl_watch_fd(void *ud, int fd, unsigned events)
{
    canto_glib_loop *g = (canto_glib_loop *)ud;
    if (g->closed)
        return 0;
    int i = canto_glib_impl_find(g, fd);
    if (events & CANTO_IO_REMOVE) {
        if (i < 0)
            return 0;
        if (g->fds[i].tag)
            g_source_remove_unix_fd(&g->base, g->fds[i].tag);
        g->fds[i] = g->fds[--g->nfds];
        return 0;
    }
    if (i < 0) {
        if (g->nfds == g->cap) {
            g->cap = g->cap ? g->cap * 2 : 8;
            g->fds = g_renew(canto_glib_impl_fd, g->fds, g->cap);
            g->ready = g_renew(canto_glib_impl_ready, g->ready, g->cap);
        }
        i = (int)g->nfds++;
        g->fds[i].fd = fd;
        g->fds[i].events = 0;
        g->fds[i].tag = NULL;
    }
    canto_glib_impl_fd *e = &g->fds[i];
    /* An fd with no interest leaves the poll set: poll() reports hang-ups even
     * for events 0, and a level-triggered hang-up would spin the context. */
    if (!events) {
        if (e->tag)
            g_source_remove_unix_fd(&g->base, e->tag);
        e->tag = NULL;
    } else if (e->tag) {
        g_source_modify_unix_fd(&g->base, e->tag, canto_glib_impl_cond(events));
    } else {
        e->tag = g_source_add_unix_fd(&g->base, fd, canto_glib_impl_cond(events));
    }
    e->events = events;
    return 0;
}

static inline int canto_glib_impl_set_timer(void *ud, long timeout_ms)
{
    canto_glib_loop *g = (canto_glib_loop *)ud;
    if (g->closed)
        return 0;
    if (timeout_ms < 0)
        g_source_set_ready_time(&g->base, -1);
    else
        g_source_set_ready_time(&g->base, g_get_monotonic_time() + (gint64)timeout_ms * 1000);
    return 0;
}

static inline gboolean canto_glib_impl_dispatch(GSource *src, GSourceFunc cb, gpointer ud)
{
    canto_glib_loop *g = (canto_glib_loop *)src;
    (void)cb;
    (void)ud;
    gint64 ready_time = g_source_get_ready_time(src);
    int expired = ready_time >= 0 && ready_time <= g_source_get_time(src);
    if (expired)
        g_source_set_ready_time(src, -1); /* Canto's timer is one-shot */
    /* Collected first: callbacks add and remove fds, which reorders g->fds. */
    size_t n = 0;
    for (size_t i = 0; i < g->nfds; i++) {
        if (!g->fds[i].tag)
            continue;
        GIOCondition c = g_source_query_unix_fd(src, g->fds[i].tag);
        unsigned ev = ((c & (G_IO_IN | G_IO_PRI)) ? (unsigned)CANTO_IO_IN : 0u) |
                      ((c & G_IO_OUT) ? (unsigned)CANTO_IO_OUT : 0u) |
                      ((c & (G_IO_ERR | G_IO_HUP | G_IO_NVAL)) ? (unsigned)CANTO_IO_ERR : 0u);
        if (ev) {
            g->ready[n].fd = g->fds[i].fd;
            g->ready[n].events = ev;
            n++;
        }
    }
    /* g->loop turns NULL when a callback frees the adapter; the source itself
     * stays valid until this function returns (GLib holds a reference). An fd
     * removed by an earlier callback is refused by canto_loop_fd_ready(). */
    for (size_t i = 0; i < n && g->loop; i++)
        canto_loop_fd_ready(g->loop, g->ready[i].fd, g->ready[i].events);
    if (expired && g->loop)
        canto_loop_timer_expired(g->loop);
    return g->loop ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static inline void canto_glib_impl_finalize(GSource *src)
{
    canto_glib_loop *g = (canto_glib_loop *)src;
    g_free(g->fds);
    g_free(g->ready);
}

static inline GSourceFuncs *canto_glib_impl_funcs(void)
{
    /* prepare and check stay NULL: GLib then judges readiness from the unix
     * fds and the ready time alone (GLib >= 2.36). */
    static GSourceFuncs funcs = {NULL, NULL, canto_glib_impl_dispatch, canto_glib_impl_finalize,
                                 NULL, NULL};
    return &funcs;
}
/** @endcond */

/**
 * Create a canto_loop driven by GLib main context @p ctx.
 * @param ctx the context (NULL: the global default context). The adapter holds
 *        a reference to it until canto_glib_loop_free().
 * @param opts options for the canto_loop, or NULL.
 * @param out receives the adapter; free with canto_glib_loop_free().
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM (from canto_loop_new_external()).
 */
static inline int canto_glib_loop_new(GMainContext *ctx, const canto_loop_options *opts,
                                      canto_glib_loop **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    GSource *src = g_source_new(canto_glib_impl_funcs(), sizeof(canto_glib_loop));
    canto_glib_loop *g = (canto_glib_loop *)src;
    g->loop = NULL;
    g->fds = NULL;
    g->ready = NULL;
    g->nfds = g->cap = 0;
    g->closed = 0;
    g_source_set_name(src, "canto");
    canto_loop_hooks hooks = CANTO_LOOP_HOOKS_INIT;
    hooks.watch_fd = canto_glib_impl_watch_fd;
    hooks.set_timer = canto_glib_impl_set_timer;
    hooks.user_data = g;
    int rc = canto_loop_new_external(&hooks, opts, &g->loop);
    if (rc < 0) {
        g_source_unref(src);
        return rc;
    }
    g_source_attach(src, ctx);
    *out = g;
    return 0;
}

/**
 * The canto_loop to attach Canto objects to.
 * @return a borrowed pointer, valid until canto_glib_loop_free(); NULL for NULL.
 */
static inline canto_loop *canto_glib_loop_get(const canto_glib_loop *g)
{
    return g ? g->loop : NULL;
}

/**
 * Free the canto_loop and detach the adapter from its context. Every Canto
 * object attached to the loop must have been freed first. May be called from
 * inside a Canto callback run by this adapter. NULL is allowed.
 */
static inline void canto_glib_loop_free(canto_glib_loop *g)
{
    if (!g)
        return;
    canto_loop *loop = g->loop;
    g->loop = NULL;
    /* First, while the hooks still work: it cancels the timer and removes any
     * fd left (or, from inside a callback, does so when the callback returns). */
    canto_loop_free(loop);
    g->closed = 1;
    g_source_destroy(&g->base);
    g_source_unref(&g->base);
}

CANTO_END_DECLS

#endif
