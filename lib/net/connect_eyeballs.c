/* Happy Eyeballs v2 connection racing (RFC 8305 §§4-5) over one target's
 * addresses. Each address has one attempt slot; a delay timer paces new
 * attempts while earlier ones are pending, each attempt has its own timeout,
 * and the first connect to complete wins. Every step runs from a loop
 * callback (starting only arms a zero-delay timer), so the owner never sees
 * its callback from inside one of its own calls. */
#include "net/connect_plan.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <canto/error.h>
#include "loop/loop.h"

#define AREA "connect"
#define DEFAULT_DELAY_MS 250
#define DEFAULT_TIMEOUT_MS 10000

typedef enum slot_state { UNTRIED, PENDING, FAILED, WON } slot_state;

typedef struct slot {
    canto__eyeballs *e;
    size_t index;
    slot_state state;
    int fd;
    canto__watch *watch;
    canto__timer timer;
} slot;

struct canto__eyeballs {
    canto_loop *loop;
    canto__alloc alloc;
    canto__log log;
    struct sockaddr_storage *addrs; /* interleaved, port set */
    slot *slots;
    size_t n;
    unsigned delay_ms, timeout_ms;
    canto__timer pace; /* next attempt (also the zero-delay kick) */
    int running;
    int last_err;
    char reason[300];
    canto__eyeballs_fn cb;
    void *ud;
};

static void start_more(canto__eyeballs *e);

size_t canto__addrs_interleave(const struct sockaddr_storage *in, size_t n,
                               struct sockaddr_storage *out)
{
    size_t i6 = 0, i4 = 0, k = 0;
    int want6 = 1;
    while (k < n) {
        /* Next address of the wanted family, or of the other one when the
         * wanted family has run out. */
        while (i6 < n && in[i6].ss_family != AF_INET6)
            i6++;
        while (i4 < n && in[i4].ss_family == AF_INET6)
            i4++;
        if ((want6 && i6 < n) || i4 >= n)
            out[k++] = in[i6++];
        else
            out[k++] = in[i4++];
        want6 = !want6;
    }
    return n;
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static void close_slot(slot *s, slot_state state)
{
    canto__watch_remove(s->watch);
    s->watch = NULL;
    canto__timer_stop(&s->timer);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->state = state;
}

static size_t pending_count(const canto__eyeballs *e)
{
    size_t k = 0;
    for (size_t i = 0; i < e->n; i++)
        k += e->slots[i].state == PENDING;
    return k;
}

static int untried_left(const canto__eyeballs *e)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->slots[i].state == UNTRIED)
            return 1;
    return 0;
}

static void note_failure(canto__eyeballs *e, slot *s, int err, const char *what)
{
    char addr[80];
    canto__sockaddr_format(&e->addrs[s->index], addr, sizeof(addr));
    snprintf(e->reason, sizeof(e->reason), "connect to %s: %s", addr, what);
    e->last_err = err;
    canto__logf(&e->log, CANTO_LOG_DEBUG, AREA, "%s", e->reason);
}

/* Nothing pending and nothing left: report the last failure. Must be the
 * last thing the caller does (the callback may free @p e). */
static void maybe_give_up(canto__eyeballs *e)
{
    if (pending_count(e) || untried_left(e))
        return;
    e->running = 0;
    canto__timer_stop(&e->pace);
    e->cb(e->ud, e->last_err, -1, NULL, e->reason);
}

static void attempt_failed(slot *s, int err, const char *what)
{
    canto__eyeballs *e = s->e;
    note_failure(e, s, err, what);
    close_slot(s, FAILED);
    /* RFC 8305 §5: a failure starts the next attempt without waiting out the
     * delay. */
    start_more(e);
    maybe_give_up(e);
}

static void win(slot *s)
{
    canto__eyeballs *e = s->e;
    int fd = s->fd;
    s->fd = -1;
    close_slot(s, WON);
    /* The losers were never judged: they may be tried again on resume. */
    for (size_t i = 0; i < e->n; i++)
        if (e->slots[i].state == PENDING)
            close_slot(&e->slots[i], UNTRIED);
    canto__timer_stop(&e->pace);
    e->running = 0;
    char addr[80];
    canto__sockaddr_format(&e->addrs[s->index], addr, sizeof(addr));
    canto__logf(&e->log, CANTO_LOG_DEBUG, AREA, "connected to %s", addr);
    e->cb(e->ud, 0, fd, &e->addrs[s->index], NULL);
}

static void on_attempt_io(void *ud, int fd, unsigned events)
{
    slot *s = ud;
    (void)fd;
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        soerr = errno;
    if (soerr) {
        attempt_failed(s, CANTO_ECONNECT, strerror(soerr));
        return;
    }
    if (events & CANTO_IO_OUT)
        win(s);
}

static void on_attempt_timeout(void *ud)
{
    slot *s = ud;
    char what[64];
    snprintf(what, sizeof(what), "no answer within %u ms", s->e->timeout_ms);
    attempt_failed(s, CANTO_ETIMEDOUT, what);
}

/* @return 0 when the attempt is pending, or a positive errno. */
static int start_attempt(canto__eyeballs *e, slot *s)
{
    const struct sockaddr_storage *sa = &e->addrs[s->index];
    s->fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return errno;
    /* XMPP is small interactive writes; Nagle would only add latency. */
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(s->fd, (const struct sockaddr *)sa, addr_len(sa)) < 0 && errno != EINPROGRESS)
        return errno;
    s->state = PENDING;
    /* A connect that completed at once is reported writable all the same. */
    if (canto__watch_add(e->loop, s->fd, CANTO_IO_OUT, on_attempt_io, s, &s->watch) != 0 ||
        canto__timer_start(e->loop, &s->timer, canto_loop_now(e->loop) + e->timeout_ms,
                           on_attempt_timeout, s) != 0)
        return ENOMEM;
    char addr[80];
    canto__sockaddr_format(sa, addr, sizeof(addr));
    canto__logf(&e->log, CANTO_LOG_DEBUG, AREA, "trying %s", addr);
    return 0;
}

static void on_pace(void *ud);

/* Start the next untried address (more than one if they fail at once), then
 * pace the one after it. */
static void start_more(canto__eyeballs *e)
{
    canto__timer_stop(&e->pace);
    for (size_t i = 0; i < e->n; i++) {
        slot *s = &e->slots[i];
        if (s->state != UNTRIED)
            continue;
        int rc = start_attempt(e, s);
        if (rc == 0)
            break;
        note_failure(e, s, CANTO_ECONNECT, strerror(rc));
        close_slot(s, FAILED);
    }
    if (untried_left(e) && pending_count(e))
        canto__timer_start(e->loop, &e->pace, canto_loop_now(e->loop) + e->delay_ms, on_pace, e);
}

static void on_pace(void *ud)
{
    canto__eyeballs *e = ud;
    start_more(e);
    maybe_give_up(e);
}

static int kick(canto__eyeballs *e)
{
    e->running = 1;
    return canto__timer_start(e->loop, &e->pace, canto_loop_now(e->loop), on_pace, e);
}

int canto__eyeballs_new(canto_loop *loop, const canto__log *log,
                        const struct sockaddr_storage *addrs, size_t n, uint16_t port,
                        unsigned delay_ms, unsigned timeout_ms, canto__eyeballs_fn cb, void *ud,
                        canto__eyeballs **out)
{
    *out = NULL;
    if (!loop || !addrs || n == 0 || !cb)
        return CANTO_EINVAL;
    const canto__alloc *a = canto__loop_alloc(loop);
    canto__eyeballs *e = canto__calloc(a, 1, sizeof(*e));
    if (!e)
        return CANTO_ENOMEM;
    e->alloc = *a;
    e->addrs = canto__calloc(a, n, sizeof(*e->addrs));
    e->slots = canto__calloc(a, n, sizeof(*e->slots));
    if (!e->addrs || !e->slots) {
        canto__eyeballs_free(e);
        return CANTO_ENOMEM;
    }
    e->loop = loop;
    if (log)
        e->log = *log;
    e->n = n;
    e->delay_ms = delay_ms ? delay_ms : DEFAULT_DELAY_MS;
    e->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
    e->cb = cb;
    e->ud = ud;
    e->last_err = CANTO_ECONNECT;
    canto__addrs_interleave(addrs, n, e->addrs);
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_storage *sa = &e->addrs[i];
        if (sa->ss_family == AF_INET)
            ((struct sockaddr_in *)sa)->sin_port = htons(port);
        else
            ((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
        e->slots[i] = (slot){.e = e, .index = i, .state = UNTRIED, .fd = -1};
    }
    if (kick(e) != 0) {
        canto__eyeballs_free(e);
        return CANTO_ENOMEM;
    }
    *out = e;
    return 0;
}

int canto__eyeballs_resume(canto__eyeballs *e)
{
    if (!e || e->running)
        return CANTO_ESTATE;
    if (!untried_left(e))
        return CANTO_ENOTFOUND;
    return kick(e) == 0 ? 0 : CANTO_ENOMEM;
}

void canto__eyeballs_free(canto__eyeballs *e)
{
    if (!e)
        return;
    canto__alloc a = e->alloc;
    for (size_t i = 0; e->slots && i < e->n; i++)
        close_slot(&e->slots[i], FAILED);
    canto__timer_stop(&e->pace);
    canto__dealloc(&a, e->slots);
    canto__dealloc(&a, e->addrs);
    canto__dealloc(&a, e);
}
