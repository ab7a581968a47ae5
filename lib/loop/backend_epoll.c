/* Built-in backend on Linux epoll (level-triggered). A watch with no interest
 * is kept out of the epoll set: epoll would still report hang-ups and errors
 * for it, and a level-triggered hang-up nobody reads would spin the loop. */
#include "loop/loop_impl.h"

#include <canto/error.h>

#if defined(__linux__)

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

/* epoll hands back ready fds round-robin, so a bounded batch per wait is fair
 * and keeps the buffer out of the per-watch allocations. */
#define EPOLL_BATCH 64

typedef struct epoll_state {
    int epfd;
    struct epoll_event ev[EPOLL_BATCH];
} epoll_state;

/* be_slot: 1 while the fd is in the epoll set. */
#define IN_SET 1u

static uint32_t to_epoll(unsigned events)
{
    return ((events & CANTO_IO_IN) ? (uint32_t)EPOLLIN : 0) |
           ((events & CANTO_IO_OUT) ? (uint32_t)EPOLLOUT : 0);
}

static unsigned from_epoll(uint32_t ev)
{
    return ((ev & EPOLLIN) ? CANTO_IO_IN : 0u) | ((ev & EPOLLOUT) ? CANTO_IO_OUT : 0u) |
           ((ev & (EPOLLERR | EPOLLHUP)) ? CANTO_IO_ERR : 0u);
}

static int ctl(canto_loop *loop, int op, int fd, unsigned events)
{
    epoll_state *s = loop->be_state;
    struct epoll_event ev = {0};
    ev.events = to_epoll(events);
    ev.data.fd = fd;
    if (epoll_ctl(s->epfd, op, fd, &ev) == 0)
        return 0;
    canto__logf(&loop->log, CANTO_LOG_DEBUG, CANTO__LOOP_AREA, "epoll_ctl(%d, fd %d): errno %d", op,
                fd, errno);
    return CANTO_EIO;
}

static int ep_init(canto_loop *loop)
{
    epoll_state *s = canto__calloc(&loop->alloc, 1, sizeof(*s));
    if (!s)
        return CANTO_ENOMEM;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        int err = errno;
        canto__dealloc(&loop->alloc, s);
        /* Kernels or sandboxes without epoll: the caller falls back to poll(). */
        if (err == ENOSYS || err == EINVAL)
            return CANTO_EUNSUPPORTED;
        return err == ENOMEM ? CANTO_ENOMEM : CANTO_EIO;
    }
    loop->be_state = s;
    return 0;
}

static void ep_fini(canto_loop *loop)
{
    epoll_state *s = loop->be_state;
    close(s->epfd);
    canto__dealloc(&loop->alloc, s);
    loop->be_state = NULL;
}

static int ep_add(canto_loop *loop, canto__watch *w)
{
    int rc = ctl(loop, EPOLL_CTL_ADD, w->fd, w->events);
    if (rc < 0)
        return rc;
    if (w->events) {
        w->be_slot = IN_SET;
        return 0;
    }
    /* Added and taken out again: this still tells us now, not at the first
     * real interest, that epoll refuses the fd (a regular file, a closed fd). */
    epoll_state *s = loop->be_state;
    struct epoll_event ev = {0};
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, w->fd, &ev);
    w->be_slot = 0;
    return 0;
}

static int ep_mod(canto_loop *loop, canto__watch *w, unsigned events)
{
    if (!events) {
        /* A failed delete (fd closed already) leaves nothing behind to stop. */
        if (w->be_slot == IN_SET)
            (void)ctl(loop, EPOLL_CTL_DEL, w->fd, 0);
        w->be_slot = 0;
        return 0;
    }
    int rc = ctl(loop, w->be_slot == IN_SET ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, w->fd, events);
    if (rc == 0)
        w->be_slot = IN_SET;
    return rc;
}

static void ep_del(canto_loop *loop, canto__watch *w)
{
    if (w->be_slot == IN_SET)
        (void)ctl(loop, EPOLL_CTL_DEL, w->fd, 0);
    w->be_slot = 0;
}

static int ep_wait(canto_loop *loop, int timeout_ms)
{
    epoll_state *s = loop->be_state;
    int max = loop->ready_cap < EPOLL_BATCH ? (int)loop->ready_cap : EPOLL_BATCH;
    /* No watch was ever added (ready_cap 0), yet the wait still serves as the
     * sleep until the next timer; epoll_wait refuses maxevents 0. */
    if (max == 0)
        max = 1;
    struct epoll_event *ev = s->ev;
    int n = epoll_wait(s->epfd, ev, max, timeout_ms);
    if (n < 0)
        return errno == EINTR ? CANTO__WAIT_EINTR : CANTO_EIO;
    int count = 0;
    for (int i = 0; i < n && (size_t)count < loop->ready_cap; i++) {
        canto__watch *w = canto__loop_watch_find(loop, ev[i].data.fd);
        if (!w)
            continue;
        loop->ready[count++] = (canto__ready){w->fd, from_epoll(ev[i].events), w->id};
    }
    return count;
}

const canto__backend canto__backend_epoll = {
    "epoll", ep_init, ep_fini, ep_add, ep_mod, ep_del, ep_wait, NULL,
};

#else /* no epoll on this system */

static int ep_init(canto_loop *loop)
{
    (void)loop;
    return CANTO_EUNSUPPORTED;
}

const canto__backend canto__backend_epoll = {
    "epoll", ep_init, NULL, NULL, NULL, NULL, NULL, NULL,
};

#endif
