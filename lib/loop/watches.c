/* fd watches: a table indexed by fd (fds are small, dense integers, so an
 * array beats a hash and any fd number works), and delivery of collected
 * events with the staleness check that makes dispatch safe. */
#include "loop/loop_impl.h"

#include <string.h>

#include <canto/error.h>

#define IO_INTEREST (CANTO_IO_IN | CANTO_IO_OUT)

static int table_reserve(canto_loop *loop, int fd)
{
    size_t need = (size_t)fd + 1;
    if (need <= loop->watches_cap)
        return 0;
    size_t cap = loop->watches_cap ? loop->watches_cap : 64;
    while (cap < need)
        cap *= 2;
    if (cap > SIZE_MAX / sizeof(canto__watch *))
        return CANTO_ENOMEM;
    canto__watch **t = canto__realloc(&loop->alloc, loop->watches, cap * sizeof(*t));
    if (!t)
        return CANTO_ENOMEM;
    memset(t + loop->watches_cap, 0, (cap - loop->watches_cap) * sizeof(*t));
    loop->watches = t;
    loop->watches_cap = cap;
    return 0;
}

/* Built-in backends collect at most one event per watch per wait; keeping the
 * ready array that large here means a wait never has to allocate. */
static int ready_reserve(canto_loop *loop, size_t n)
{
    if (!loop->be->wait || n <= loop->ready_cap)
        return 0;
    size_t cap = loop->ready_cap ? loop->ready_cap * 2 : 16;
    while (cap < n)
        cap *= 2;
    if (cap > SIZE_MAX / sizeof(canto__ready))
        return CANTO_ENOMEM;
    canto__ready *r = canto__realloc(&loop->alloc, loop->ready, cap * sizeof(*r));
    if (!r)
        return CANTO_ENOMEM;
    loop->ready = r;
    loop->ready_cap = cap;
    return 0;
}

canto__watch *canto__loop_watch_find(const canto_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->watches_cap)
        return NULL;
    return loop->watches[fd];
}

int canto__watch_add(canto_loop *loop, int fd, unsigned events, canto__io_fn fn, void *ud,
                     canto__watch **out)
{
    if (out)
        *out = NULL;
    if (!loop || fd < 0 || !fn || !out || (events & ~IO_INTEREST))
        return CANTO_EINVAL;
    if (canto__loop_watch_find(loop, fd))
        return CANTO_EINVAL;
    int rc = table_reserve(loop, fd);
    if (rc == 0)
        rc = ready_reserve(loop, loop->nwatches + 1);
    if (rc < 0)
        return rc;
    canto__watch *w = canto__calloc(&loop->alloc, 1, sizeof(*w));
    if (!w)
        return CANTO_ENOMEM;
    *w = (canto__watch){loop, fd, events, fn, ud, ++loop->next_watch_id, 0};
    rc = loop->be->add(loop, w);
    if (rc < 0) {
        canto__logf(&loop->log, CANTO_LOG_WARN, CANTO__LOOP_AREA, "cannot watch fd %d", fd);
        canto__dealloc(&loop->alloc, w);
        return rc;
    }
    loop->watches[fd] = w;
    loop->nwatches++;
    if (events)
        loop->nactive++;
    *out = w;
    return 0;
}

int canto__watch_set(canto__watch *w, unsigned events)
{
    if (!w || (events & ~IO_INTEREST))
        return CANTO_EINVAL;
    if (events == w->events)
        return 0; /* coalesced: the backend (or the application) hears nothing */
    canto_loop *loop = w->loop;
    int rc = loop->be->mod(loop, w, events);
    if (rc < 0) {
        canto__logf(&loop->log, CANTO_LOG_WARN, CANTO__LOOP_AREA, "cannot change watch of fd %d",
                    w->fd);
        return rc;
    }
    if (!w->events)
        loop->nactive++;
    else if (!events)
        loop->nactive--;
    w->events = events;
    return 0;
}

void canto__watch_remove(canto__watch *w)
{
    if (!w)
        return;
    canto_loop *loop = w->loop;
    loop->be->del(loop, w);
    loop->watches[w->fd] = NULL;
    loop->nwatches--;
    if (w->events)
        loop->nactive--;
    /* Freed at once: events already collected for this fd carry w's id and are
     * dropped by canto__loop_watch_deliver() without touching w. */
    canto__dealloc(&loop->alloc, w);
}

int canto__loop_watch_deliver(canto_loop *loop, int fd, uint64_t id, unsigned events)
{
    canto__watch *w = canto__loop_watch_find(loop, fd);
    if (!w || w->id != id || !w->events)
        return 0;
    /* An error or hang-up comes with every direction the owner waits for, so
     * its next read or write runs and reports what actually happened. */
    if (events & CANTO_IO_ERR)
        events |= w->events;
    /* Drop readiness the owner stopped asking for earlier in this round. */
    events &= w->events | CANTO_IO_ERR;
    if (!events)
        return 0;
    w->fn(w->ud, fd, events);
    return 1;
}

void canto__loop_watches_clear(canto_loop *loop)
{
    size_t left = 0;
    for (size_t fd = 0; fd < loop->watches_cap && loop->nwatches > 0; fd++) {
        if (loop->watches[fd]) {
            canto__watch_remove(loop->watches[fd]);
            left++;
        }
    }
    if (left)
        canto__logf(&loop->log, CANTO_LOG_WARN, CANTO__LOOP_AREA,
                    "loop freed with %zu fd watch(es) left", left);
}
