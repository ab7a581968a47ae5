/**
 * @file canto/loop.h
 * @brief Event loops: Canto's built-in loop, or hooks into the application's loop.
 *
 * Every Canto object that does I/O (clients, resolvers, link-local services) is
 * attached to a canto_loop and never blocks. A loop works in one of two modes:
 *
 * - **Built-in** (canto_loop_new()): Canto waits with epoll (poll where epoll is
 *   missing). Call canto_loop_run() or canto_loop_run_once() from your thread.
 * - **External** (canto_loop_new_external()): the application's own loop (GLib,
 *   libuv, libevent, epoll...) waits. Canto tells it, through canto_loop_hooks,
 *   which file descriptors to watch for what and when to call back (one timer),
 *   in the style of libcurl's multi_socket interface; the application reports
 *   readiness with canto_loop_fd_ready() and expiry with canto_loop_timer_expired().
 *   Header-only adapters for GLib and libuv are in canto/adapters/.
 *
 * Threads: a loop and every object attached to it are used by one thread at a
 * time — the thread that runs the loop. Different loops are independent and may
 * run on different threads.
 *
 * Ownership: canto_loop_free() must only be called after every object attached
 * to the loop has been freed.
 *
 * Callbacks: whatever a callback does to the objects of its loop (close a
 * connection, free a client, start or cancel timers) takes effect at once; an
 * event collected for something removed earlier in the same round is dropped.
 * Timers fire in deadline order (equal deadlines in no particular order); a
 * timer that expires while callbacks run waits for the next round, so timers
 * re-armed for "now" cannot starve fd events.
 */
#ifndef CANTO_LOOP_H
#define CANTO_LOOP_H

#include <stdint.h>
#include <canto/export.h>
#include <canto/memory.h>
#include <canto/log.h>

CANTO_BEGIN_DECLS

/** An event loop. Opaque. */
typedef struct canto_loop canto_loop;

/** Interest in / readiness of a file descriptor; values combine with |. */
enum canto_io_events {
    CANTO_IO_IN = 1u << 0,  /**< readable (or a listening socket has a connection) */
    CANTO_IO_OUT = 1u << 1, /**< writable (or a connect finished) */
    /** Error or hang-up (reported, never requested). It comes together with the
     *  watched IN/OUT bits, so the next read or write reports what happened. */
    CANTO_IO_ERR = 1u << 2,
    CANTO_IO_REMOVE = 1u << 3, /**< in a watch_fd hook: stop watching this fd */
};

/**
 * How Canto drives an application's loop. All hooks are called on the loop's
 * thread from inside Canto calls; they must not call back into Canto (the
 * loop refuses canto_loop_fd_ready() and canto_loop_timer_expired() from inside
 * a hook with CANTO_ESTATE). Canto calls a hook only when something changes:
 * watch_fd when an fd's interest changes, set_timer when the earliest deadline
 * changes.
 */
typedef struct canto_loop_hooks {
    unsigned version; /**< CANTO_LOOP_HOOKS_VERSION */
    /**
     * Start, change or stop watching @p fd. @p events is a combination of
     * CANTO_IO_IN and CANTO_IO_OUT (possibly 0: keep the fd registered but watch
     * nothing, not even hang-ups), or CANTO_IO_REMOVE. Return 0, or a negative
     * value if the fd cannot be watched (the operation that needed it then fails
     * with CANTO_EIO). The watch stays level-triggered: report an fd again as
     * long as it is ready.
     */
    int (*watch_fd)(void *user_data, int fd, unsigned events);
    /**
     * (Re)arm the single, one-shot timer to fire after @p timeout_ms
     * milliseconds, or cancel it when @p timeout_ms is -1. 0 means as soon as
     * possible: schedule it on the application's loop (an idle callback, a
     * zero timeout); never call canto_loop_timer_expired() from inside this
     * hook. When the timer fires, call canto_loop_timer_expired(); Canto re-arms
     * it if something is still pending. Firing early is harmless (Canto re-arms
     * for the rest). A negative return is logged and the timer is told again at
     * the next change.
     */
    int (*set_timer)(void *user_data, long timeout_ms);
    void *user_data; /**< passed to both hooks */
} canto_loop_hooks;

/** Version of canto_loop_hooks understood by this header. */
#define CANTO_LOOP_HOOKS_VERSION 1u
/** Initializer for canto_loop_hooks. */
#define CANTO_LOOP_HOOKS_INIT                                                                      \
    {                                                                                              \
        CANTO_LOOP_HOOKS_VERSION, NULL, NULL, NULL                                                 \
    }

/** Options for creating a loop. */
typedef struct canto_loop_options {
    unsigned version;             /**< CANTO_LOOP_OPTIONS_VERSION */
    const canto_allocator *alloc; /**< NULL: malloc; copied */
    canto_log_fn log;             /**< NULL: silent */
    void *log_user_data;          /**< passed to @ref log */
    canto_log_level log_level;    /**< lowest level passed to @ref log */
    /**
     * Clock in milliseconds, monotonic (NULL: CLOCK_MONOTONIC). Tests use it to
     * run timers on simulated time.
     */
    uint64_t (*now_ms)(void *user_data);
    void *clock_user_data; /**< passed to @ref now_ms */
} canto_loop_options;

/** Version of canto_loop_options understood by this header. */
#define CANTO_LOOP_OPTIONS_VERSION 1u
/** Initializer for canto_loop_options. */
#define CANTO_LOOP_OPTIONS_INIT                                                                    \
    {                                                                                              \
        CANTO_LOOP_OPTIONS_VERSION, NULL, NULL, NULL, CANTO_LOG_INFO, NULL, NULL                   \
    }

/**
 * Create a built-in loop.
 * @param opts options or NULL for defaults.
 * @param out receives the loop; free with canto_loop_free().
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM, CANTO_EIO (epoll/poll set-up failed).
 */
CANTO_EXPORT int canto_loop_new(const canto_loop_options *opts, canto_loop **out);

/**
 * Create a loop driven by the application's loop through @p hooks (copied).
 * @return 0, CANTO_EINVAL (missing hook or bad version), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_loop_new_external(const canto_loop_hooks *hooks,
                                         const canto_loop_options *opts, canto_loop **out);

/**
 * Free a loop. Every object attached to it must have been freed first; the
 * external hooks then receive nothing but, if the timer is still set,
 * set_timer(-1). (Watches or timers left behind by mistake are removed, with a
 * warning logged and CANTO_IO_REMOVE told to the hooks.) May be called from
 * inside a callback of this loop: the loop is then freed when the callback
 * returns, and the run or dispatch call returns at once. NULL is allowed.
 */
CANTO_EXPORT void canto_loop_free(canto_loop *loop);

/**
 * Built-in loop: wait for and dispatch events until canto_loop_stop() is called
 * or nothing is left to wait for (no fd watched for IN or OUT, no timer).
 * @return 0, CANTO_EINVAL (NULL), CANTO_ESTATE (an external loop, or called from
 *         inside a callback of this loop), CANTO_EIO (the wait failed for a
 *         reason other than EINTR, which is retried).
 */
CANTO_EXPORT int canto_loop_run(canto_loop *loop);

/**
 * Built-in loop: wait at most @p timeout_ms (-1 or any negative: no limit, 0:
 * don't wait) for events and dispatch what is ready, once. Without a limit and
 * with nothing to wait for, returns 0 at once instead of blocking forever.
 * @return the number of callbacks dispatched (>= 0), or as canto_loop_run().
 */
CANTO_EXPORT int canto_loop_run_once(canto_loop *loop, int timeout_ms);

/**
 * Make a running canto_loop_run() return after the current dispatch. A stop
 * requested while canto_loop_run() is not running is forgotten when it starts.
 * @return 0, CANTO_EINVAL (NULL).
 */
CANTO_EXPORT int canto_loop_stop(canto_loop *loop);

/**
 * External loop: @p fd (one Canto asked to watch) became ready with @p events
 * (CANTO_IO_IN | CANTO_IO_OUT | CANTO_IO_ERR; anything else is ignored, and so
 * is readiness Canto no longer watches for). Report a hang-up as CANTO_IO_ERR.
 * @return 0, CANTO_EINVAL (NULL loop, or an unknown fd, e.g. one removed after
 *         the application collected its events: ignored safely), CANTO_ESTATE
 *         (built-in loop, or called from inside a callback or hook of this loop).
 */
CANTO_EXPORT int canto_loop_fd_ready(canto_loop *loop, int fd, unsigned events);

/**
 * External loop: the timer set through set_timer expired. Runs the timers that
 * are due, then re-arms the application's timer through set_timer if any is
 * left.
 * @return 0, CANTO_EINVAL (NULL), CANTO_ESTATE (built-in loop, or called from
 *         inside a callback or hook of this loop).
 */
CANTO_EXPORT int canto_loop_timer_expired(canto_loop *loop);

/** @return the loop's clock in milliseconds (monotonic, arbitrary origin); 0 for NULL. */
CANTO_EXPORT uint64_t canto_loop_now(const canto_loop *loop);

/**
 * A one-shot timer fired. Called on the loop's thread from inside its
 * dispatch; the timer is already gone (canto_loop_cancel_timer() on @p id
 * returns CANTO_ENOTFOUND). It may add and cancel timers, free the objects
 * that own them, and free the loop (see canto_loop_free()).
 */
typedef void (*canto_loop_timer_fn)(void *user_data, canto_loop *loop, unsigned id);

/**
 * Call @p fn once, @p delay_ms milliseconds from now on the loop's clock
 * (0: in the next dispatch round). Works the same for built-in and external
 * loops. Meant for a handful of timers per loop (plugins' periodic work,
 * application timeouts): cancelling looks the id up in a list.
 *
 * Threads: the loop's thread only. Safe inside any callback of the loop; a
 * timer added from a callback fires in a later round, never in the current one.
 * @param id receives the timer's id for canto_loop_cancel_timer() (may be
 *        NULL). Ids are never 0 and not reused while the timer is pending.
 * @return 0, CANTO_EINVAL (NULL @p loop or @p fn), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_loop_add_timer(canto_loop *loop, uint32_t delay_ms, canto_loop_timer_fn fn,
                                      void *user_data, unsigned *id);

/**
 * Cancel a pending timer: its callback will not be called. Safe inside any
 * callback of the loop, including another timer's due in the same round.
 * Timers still pending when the loop is freed are cancelled then (with a
 * warning logged, as for any object left attached).
 * @return 0, CANTO_EINVAL (NULL @p loop), CANTO_ENOTFOUND (fired, cancelled or
 *         never added).
 */
CANTO_EXPORT int canto_loop_cancel_timer(canto_loop *loop, unsigned id);

/**
 * A watched fd is ready. @p events is a mix of CANTO_IO_IN, CANTO_IO_OUT and
 * CANTO_IO_ERR. Called on the loop's thread from inside its dispatch; it may
 * change or remove any watch (its own included), add timers and free the
 * loop.
 */
typedef void (*canto_loop_fd_fn)(void *user_data, canto_loop *loop, int fd, unsigned events);

/**
 * Watch an fd of the application's (standard input, a pipe, another socket)
 * on the same loop that drives Canto's objects, so a program on the built-in
 * loop needs no loop of its own. Level-triggered: the callback comes again
 * while the condition holds. On an external loop the watch reaches the
 * application's hooks like Canto's own.
 *
 * Threads: the loop's thread only. Ownership: the fd stays the caller's;
 * remove the watch before closing it. Watches left when the loop is freed
 * are removed then.
 * @param events CANTO_IO_IN and/or CANTO_IO_OUT.
 * @param id receives the watch's id (never 0) for canto_loop_modify_fd()
 *        and canto_loop_remove_fd(); may be NULL.
 * @return 0, CANTO_EINVAL (NULL, negative fd, fd already watched by this
 *         loop, unknown event bits), CANTO_EIO (the loop refused the fd, e.g.
 *         a regular file under epoll), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_loop_add_fd(canto_loop *loop, int fd, unsigned events, canto_loop_fd_fn fn,
                                   void *user_data, unsigned *id);

/** Change what a watch waits for (0: nothing, keep it registered).
 *  @return 0, CANTO_EINVAL, CANTO_ENOTFOUND, CANTO_EIO. */
CANTO_EXPORT int canto_loop_modify_fd(canto_loop *loop, unsigned id, unsigned events);

/** Stop watching: no callback for it afterwards, also not one already due in
 *  the current round. @return 0, CANTO_EINVAL, CANTO_ENOTFOUND. */
CANTO_EXPORT int canto_loop_remove_fd(canto_loop *loop, unsigned id);

CANTO_END_DECLS

#endif
