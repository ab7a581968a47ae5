/* How a loop reaches the thing that waits: epoll, poll(), or the application's
 * loop through its hooks. watches.c and timers.c are written against this table
 * only, which is why watches and timers behave the same in every mode. */
#ifndef CANTO_LOOP_BACKEND_H
#define CANTO_LOOP_BACKEND_H

#include <canto/loop.h>

typedef struct canto__watch canto__watch;

/* Returned by wait() when a signal interrupted it; the caller retries with a
 * recomputed timeout. Not a CANTO_E* code: it never leaves lib/loop/. */
#define CANTO__WAIT_EINTR (-1000)

typedef struct canto__backend {
    const char *name;
    /* Set up / tear down loop->be_state. init returns 0, CANTO_ENOMEM, CANTO_EIO. */
    int (*init)(canto_loop *loop);
    void (*fini)(canto_loop *loop);
    /* Start watching w->fd for w->events (possibly 0). 0 or CANTO_EIO. */
    int (*add)(canto_loop *loop, canto__watch *w);
    /* Change the interest from w->events to @p events (only called when they
     * differ; w->events is updated by the caller on success). 0 or CANTO_EIO. */
    int (*mod)(canto_loop *loop, canto__watch *w, unsigned events);
    /* Stop watching w->fd. Cannot fail (errors are logged). */
    void (*del)(canto_loop *loop, canto__watch *w);
    /* Built-in backends: wait at most @p timeout_ms (-1: forever) and append
     * what is ready to loop->ready (at most loop->ready_cap entries). Returns
     * the number appended, CANTO__WAIT_EINTR or CANTO_EIO. NULL: external. */
    int (*wait)(canto_loop *loop, int timeout_ms);
    /* The earliest timer deadline may have changed. NULL: nothing to do
     * (built-in backends compute their timeout at each wait). */
    void (*timers_changed)(canto_loop *loop);
} canto__backend;

extern const canto__backend canto__backend_epoll; /* init fails with CANTO_EUNSUPPORTED
                                                    where epoll does not exist */
extern const canto__backend canto__backend_poll;
extern const canto__backend canto__backend_external;

/* Which built-in backend canto__loop_new_backend() uses. */
typedef enum canto__backend_kind {
    CANTO__BACKEND_AUTO,  /* epoll, else poll: what canto_loop_new() does */
    CANTO__BACKEND_EPOLL, /* epoll or fail */
    CANTO__BACKEND_POLL,  /* poll() even where epoll exists (tests) */
} canto__backend_kind;

/* canto_loop_new() with a chosen backend; lets the tests run every backend
 * without a global switch or an environment variable. */
int canto__loop_new_backend(const canto_loop_options *opts, canto__backend_kind kind,
                            canto_loop **out);
/* Name of the backend in use ("epoll", "poll", "external"). */
const char *canto__loop_backend_name(const canto_loop *loop);

#endif
