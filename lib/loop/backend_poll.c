/* Built-in backend on poll(), for systems (or sandboxes) without epoll. poll
 * has no FD_SETSIZE ceiling, unlike an fd_set, so any fd number works. The pollfd array
 * is kept compact (swap-remove); w->be_slot is a watch's index in it. */
#include "loop/loop_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include <canto/error.h>

typedef struct poll_state {
    struct pollfd *fds;
    canto__watch **owner; /* owner[i] watches fds[i], to fix be_slot on a move */
    size_t n, cap;
} poll_state;

static short to_poll(unsigned events)
{
    return (short)(((events & CANTO_IO_IN) ? POLLIN : 0) | ((events & CANTO_IO_OUT) ? POLLOUT : 0));
}

static unsigned from_poll(short ev)
{
    return ((ev & POLLIN) ? CANTO_IO_IN : 0u) | ((ev & POLLOUT) ? CANTO_IO_OUT : 0u) |
           ((ev & (POLLERR | POLLHUP | POLLNVAL)) ? CANTO_IO_ERR : 0u);
}

/* poll() skips negative fds: a watch with no interest is parked as ~fd, so it
 * keeps its slot but reports nothing, not even a hang-up (which would spin a
 * level-triggered loop nobody is reading from). ~fd keeps fd 0 negative too. */
static void set_slot(struct pollfd *p, int fd, unsigned events)
{
    p->fd = events ? fd : ~fd;
    p->events = to_poll(events);
    p->revents = 0;
}

static int po_init(canto_loop *loop)
{
    poll_state *s = canto__calloc(&loop->alloc, 1, sizeof(*s));
    if (!s)
        return CANTO_ENOMEM;
    loop->be_state = s;
    return 0;
}

static void po_fini(canto_loop *loop)
{
    poll_state *s = loop->be_state;
    canto__dealloc(&loop->alloc, s->fds);
    canto__dealloc(&loop->alloc, s->owner);
    canto__dealloc(&loop->alloc, s);
    loop->be_state = NULL;
}

static int reserve(canto_loop *loop, poll_state *s)
{
    if (s->n < s->cap)
        return 0;
    size_t cap = s->cap ? s->cap * 2 : 16;
    if (cap > SIZE_MAX / sizeof(struct pollfd))
        return CANTO_ENOMEM;
    struct pollfd *fds = canto__realloc(&loop->alloc, s->fds, cap * sizeof(*fds));
    if (!fds)
        return CANTO_ENOMEM;
    s->fds = fds;
    canto__watch **owner = canto__realloc(&loop->alloc, s->owner, cap * sizeof(*owner));
    if (!owner)
        return CANTO_ENOMEM; /* fds grew alone: harmless, cap stays the smaller */
    s->owner = owner;
    s->cap = cap;
    return 0;
}

static int po_add(canto_loop *loop, canto__watch *w)
{
    /* poll() only complains about a bad fd when waiting (POLLNVAL); check now
     * so a bad fd fails here, as it does with epoll. */
    if (fcntl(w->fd, F_GETFD) < 0)
        return CANTO_EIO;
    poll_state *s = loop->be_state;
    int rc = reserve(loop, s);
    if (rc < 0)
        return rc;
    set_slot(&s->fds[s->n], w->fd, w->events);
    s->owner[s->n] = w;
    w->be_slot = s->n++;
    return 0;
}

static int po_mod(canto_loop *loop, canto__watch *w, unsigned events)
{
    poll_state *s = loop->be_state;
    set_slot(&s->fds[w->be_slot], w->fd, events);
    return 0;
}

static void po_del(canto_loop *loop, canto__watch *w)
{
    poll_state *s = loop->be_state;
    size_t i = w->be_slot, last = --s->n;
    if (i != last) {
        s->fds[i] = s->fds[last];
        s->owner[i] = s->owner[last];
        s->owner[i]->be_slot = i;
    }
}

static int po_wait(canto_loop *loop, int timeout_ms)
{
    poll_state *s = loop->be_state;
    int n = poll(s->fds, (nfds_t)s->n, timeout_ms);
    if (n < 0)
        return errno == EINTR ? CANTO__WAIT_EINTR : CANTO_EIO;
    int count = 0;
    for (size_t i = 0; i < s->n && count < n && (size_t)count < loop->ready_cap; i++) {
        if (s->fds[i].fd < 0 || !s->fds[i].revents)
            continue;
        canto__watch *w = s->owner[i];
        loop->ready[count++] = (canto__ready){w->fd, from_poll(s->fds[i].revents), w->id};
    }
    return count;
}

const canto__backend canto__backend_poll = {
    "poll", po_init, po_fini, po_add, po_mod, po_del, po_wait, NULL,
};
