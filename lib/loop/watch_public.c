/* Public fd watches (canto_loop_add_fd): a record per watch wrapping an
 * internal canto__watch, kept in a list so ids can be looked up and the loop
 * can free what the application left behind. */
#include "loop/loop_impl.h"

#include <canto/error.h>

struct canto__pwatch {
    canto__pwatch *next;
    canto_loop *loop;
    canto__watch *watch;
    unsigned id;
    int fd;
    canto_loop_fd_fn fn;
    void *ud;
};

static canto__pwatch *find(const canto_loop *loop, unsigned id)
{
    for (canto__pwatch *p = loop->pwatches; p; p = p->next)
        if (p->id == id)
            return p;
    return NULL;
}

static void on_ready(void *ud, int fd, unsigned events)
{
    canto__pwatch *p = ud;
    p->fn(p->ud, p->loop, fd, events);
}

int canto_loop_add_fd(canto_loop *loop, int fd, unsigned events, canto_loop_fd_fn fn,
                      void *user_data, unsigned *id)
{
    if (!loop || fd < 0 || !fn || (events & ~(unsigned)(CANTO_IO_IN | CANTO_IO_OUT)))
        return CANTO_EINVAL;
    canto__pwatch *p = canto__calloc(&loop->alloc, 1, sizeof(*p));
    if (!p)
        return CANTO_ENOMEM;
    p->loop = loop;
    p->fd = fd;
    p->fn = fn;
    p->ud = user_data;
    int rc = canto__watch_add(loop, fd, events, on_ready, p, &p->watch);
    if (rc) {
        canto__dealloc(&loop->alloc, p);
        return rc;
    }
    do {
        p->id = ++loop->next_pwatch_id;
    } while (p->id == 0 || find(loop, p->id));
    p->next = loop->pwatches;
    loop->pwatches = p;
    if (id)
        *id = p->id;
    return 0;
}

int canto_loop_modify_fd(canto_loop *loop, unsigned id, unsigned events)
{
    if (!loop || (events & ~(unsigned)(CANTO_IO_IN | CANTO_IO_OUT)))
        return CANTO_EINVAL;
    canto__pwatch *p = find(loop, id);
    if (!p)
        return CANTO_ENOTFOUND;
    return canto__watch_set(p->watch, events);
}

int canto_loop_remove_fd(canto_loop *loop, unsigned id)
{
    if (!loop)
        return CANTO_EINVAL;
    for (canto__pwatch **pp = &loop->pwatches; *pp; pp = &(*pp)->next) {
        canto__pwatch *p = *pp;
        if (p->id != id)
            continue;
        *pp = p->next;
        canto__watch_remove(p->watch);
        canto__dealloc(&loop->alloc, p);
        return 0;
    }
    return CANTO_ENOTFOUND;
}

void canto__loop_pwatches_clear(canto_loop *loop)
{
    while (loop->pwatches) {
        canto__pwatch *p = loop->pwatches;
        loop->pwatches = p->next;
        canto__watch_remove(p->watch);
        canto__dealloc(&loop->alloc, p);
    }
}
