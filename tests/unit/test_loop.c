/* The loop: timers on a fake clock, fd watches on real pipes and socketpairs in
 * both built-in backends, run/stop/run_once, re-entrancy, and the external
 * mode driven by hand-written hooks that record what Canto asks for. */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <canto/canto.h>
#include "loop/backend.h"
#include "loop/loop.h"

static const canto__backend_kind builtin_kinds[] = {CANTO__BACKEND_EPOLL, CANTO__BACKEND_POLL};
#define NKINDS (sizeof(builtin_kinds) / sizeof(builtin_kinds[0]))

static uint64_t fake_clock(void *ud)
{
    return *(const uint64_t *)ud;
}

static uint64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static canto_loop *fake_loop(canto__backend_kind kind, uint64_t *now)
{
    canto_loop_options o = CANTO_LOOP_OPTIONS_INIT;
    o.now_ms = fake_clock;
    o.clock_user_data = now;
    canto_loop *loop = NULL;
    if (canto__loop_new_backend(&o, kind, &loop) != 0)
        return NULL;
    return loop;
}

static int make_pair(int sv[2])
{
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
}

static void close_pair(int sv[2])
{
    close(sv[0]);
    close(sv[1]);
}

static int put_byte(int fd)
{
    return write(fd, "x", 1) == 1 ? 0 : -1;
}

static void drain(int fd)
{
    char buf[256];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

/* ------------------------------------------------------------------------ */
/* Timers                                                                   */

struct fired {
    int order[2048];
    int n;
};

struct tag {
    struct fired *log;
    int id;
};

static void record_tag(void *ud)
{
    struct tag *t = ud;
    if (t->log->n < (int)(sizeof(t->log->order) / sizeof(t->log->order[0])))
        t->log->order[t->log->n] = t->id;
    t->log->n++;
}

static int test_timer_order(void)
{
    uint64_t now = 1000;
    canto_loop *loop = fake_loop(CANTO__BACKEND_AUTO, &now);
    REQUIRE(loop);
    CHECK_INT(canto_loop_now(loop), 1000);
    struct fired log = {.n = 0};
    canto__timer t[4] = {{0}};
    struct tag tags[4];
    const uint64_t at[4] = {1030, 1010, 1020, 1040};
    for (int i = 0; i < 4; i++) {
        tags[i] = (struct tag){&log, i};
        CHECK(!canto__timer_armed(&t[i])); /* zero-initialized: valid, unarmed */
        CHECK_INT(canto__timer_start(loop, &t[i], at[i], record_tag, &tags[i]), 0);
        CHECK(canto__timer_armed(&t[i]));
    }
    CHECK_INT(canto_loop_run_once(loop, 0), 0); /* nothing due at 1000 */
    CHECK_INT(log.n, 0);
    now = 1025;
    CHECK_INT(canto_loop_run_once(loop, 0), 2);
    CHECK_INT(log.n, 2);
    CHECK_INT(log.order[0], 1);
    CHECK_INT(log.order[1], 2);
    CHECK(!canto__timer_armed(&t[1]));
    CHECK(canto__timer_armed(&t[0]));
    now = 5000;
    CHECK_INT(canto_loop_run_once(loop, 0), 2);
    CHECK_INT(log.n, 4);
    CHECK_INT(log.order[2], 0);
    CHECK_INT(log.order[3], 3);
    CHECK_INT(canto_loop_run_once(loop, 0), 0); /* fired timers are one-shot */
    CHECK_INT(canto_loop_run(loop), 0);         /* nothing left: returns at once */
    canto_loop_free(loop);
    return 0;
}

static int test_timer_rearm_stop(void)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(CANTO__BACKEND_AUTO, &now);
    REQUIRE(loop);
    struct fired log = {.n = 0};
    struct tag a = {&log, 1};
    canto__timer t = {0};
    canto__timer_stop(&t); /* stopping an unarmed timer is a no-op */
    canto__timer_stop(NULL);
    CHECK_INT(canto__timer_start(loop, &t, 10, record_tag, &a), 0);
    CHECK_INT(canto__timer_start(loop, &t, 50, record_tag, &a), 0); /* re-arm later */
    now = 20;
    CHECK_INT(canto_loop_run_once(loop, 0), 0);
    CHECK_INT(log.n, 0);
    CHECK(canto__timer_armed(&t));
    CHECK_INT(canto__timer_start(loop, &t, 30, record_tag, &a), 0); /* re-arm earlier */
    now = 30;
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(log.n, 1);
    now = 60;
    CHECK_INT(canto_loop_run_once(loop, 0), 0); /* re-arming did not leave a copy */
    CHECK_INT(log.n, 1);

    CHECK_INT(canto__timer_start(loop, &t, 70, record_tag, &a), 0);
    canto__timer_stop(&t);
    CHECK(!canto__timer_armed(&t));
    canto__timer_stop(&t);
    now = 100;
    CHECK_INT(canto_loop_run_once(loop, 0), 0);
    CHECK_INT(log.n, 1);
    canto_loop_free(loop);
    return 0;
}

struct stopper {
    canto__timer self, other;
    int self_calls, other_calls;
};

static void stopper_self(void *ud)
{
    struct stopper *s = ud;
    s->self_calls++;
    canto__timer_stop(&s->self); /* already disarmed: must be harmless */
    canto__timer_stop(&s->other);
}

static void stopper_other(void *ud)
{
    ((struct stopper *)ud)->other_calls++;
}

static int test_timer_stop_in_callback(void)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(CANTO__BACKEND_AUTO, &now);
    REQUIRE(loop);
    struct stopper s = {{0}, {0}, 0, 0};
    CHECK_INT(canto__timer_start(loop, &s.self, 10, stopper_self, &s), 0);
    CHECK_INT(canto__timer_start(loop, &s.other, 20, stopper_other, &s), 0);
    now = 30; /* both due in the same round; the first stops the second */
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(s.self_calls, 1);
    CHECK_INT(s.other_calls, 0);
    CHECK(!canto__timer_armed(&s.other));
    now = 100;
    CHECK_INT(canto_loop_run_once(loop, 0), 0);
    CHECK_INT(s.other_calls, 0);
    canto_loop_free(loop);
    return 0;
}

/* An owner with two timers whose first callback tears it down completely. */
struct timer_owner {
    canto__timer a, b;
    int *calls;
};

static void owner_a(void *ud)
{
    struct timer_owner *o = ud;
    (*o->calls)++;
    canto__timer_stop(&o->b);
    free(o);
}

static void owner_b(void *ud)
{
    struct timer_owner *o = ud;
    (*o->calls) += 100;
}

static int test_timer_free_owner(void)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(CANTO__BACKEND_AUTO, &now);
    REQUIRE(loop);
    int calls = 0;
    struct timer_owner *o = calloc(1, sizeof(*o));
    REQUIRE(o);
    o->calls = &calls;
    CHECK_INT(canto__timer_start(loop, &o->a, 5, owner_a, o), 0);
    CHECK_INT(canto__timer_start(loop, &o->b, 6, owner_b, o), 0);
    now = 10;
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(calls, 1);
    canto_loop_free(loop);
    return 0;
}

static int test_timer_many(void)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(CANTO__BACKEND_AUTO, &now);
    REQUIRE(loop);
    enum { N = 1000 };
    static canto__timer t[N];
    static struct tag tags[N];
    static uint64_t at[N];
    struct fired log = {.n = 0};
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        at[i] = 1 + (seed >> 8) % 5000;
        tags[i] = (struct tag){&log, i};
        t[i] = (canto__timer){0};
        CHECK_INT(canto__timer_start(loop, &t[i], at[i], record_tag, &tags[i]), 0);
    }
    int expected = N;
    for (int i = 0; i < N; i += 3) { /* removals from all over the heap */
        canto__timer_stop(&t[i]);
        expected--;
    }
    for (int i = 1; i < N; i += 7) { /* and some re-arms */
        seed = seed * 1103515245u + 12345u;
        at[i] = 1 + (seed >> 8) % 5000;
        if (!canto__timer_armed(&t[i]))
            expected++;
        CHECK_INT(canto__timer_start(loop, &t[i], at[i], record_tag, &tags[i]), 0);
    }
    now = 2500;
    int first = canto_loop_run_once(loop, 0);
    CHECK(first > 0 && first < expected);
    now = 10000;
    int second = canto_loop_run_once(loop, 0);
    CHECK_INT(first + second, expected);
    CHECK_INT(log.n, expected);
    int sorted = 1;
    for (int i = 1; i < log.n; i++)
        if (at[log.order[i - 1]] > at[log.order[i]])
            sorted = 0;
    CHECK(sorted);
    for (int i = 0; i < first; i++)
        CHECK(at[log.order[i]] <= 2500);
    canto_loop_free(loop);
    return 0;
}

/* A timer re-armed for "now" from its own callback runs once per round and
 * leaves room for fd events. */
struct starver {
    canto_loop *loop;
    canto__timer t;
    int timer_calls, fd_calls;
};

static void starver_timer(void *ud)
{
    struct starver *s = ud;
    s->timer_calls++;
    canto__timer_start(s->loop, &s->t, canto_loop_now(s->loop), starver_timer, s);
}

static void starver_fd(void *ud, int fd, unsigned events)
{
    struct starver *s = ud;
    s->fd_calls++;
    (void)fd;
    (void)events;
}

static int test_timer_no_starvation(void)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(CANTO__BACKEND_AUTO, &now);
    REQUIRE(loop);
    int sv[2];
    REQUIRE(make_pair(sv) == 0);
    struct starver s = {loop, {0}, 0, 0};
    canto__watch *w = NULL;
    CHECK_INT(canto__watch_add(loop, sv[0], CANTO_IO_IN, starver_fd, &s, &w), 0);
    CHECK_INT(canto__timer_start(loop, &s.t, 0, starver_timer, &s), 0);
    CHECK_INT(put_byte(sv[1]), 0);
    CHECK_INT(canto_loop_run_once(loop, 0), 2);
    CHECK_INT(s.timer_calls, 1);
    CHECK_INT(s.fd_calls, 1);
    CHECK_INT(canto_loop_run_once(loop, 0), 2);
    CHECK_INT(s.timer_calls, 2);
    CHECK_INT(s.fd_calls, 2);
    canto__timer_stop(&s.t);
    canto__watch_remove(w);
    canto_loop_free(loop);
    close_pair(sv);
    return 0;
}

static void timer_count(void *ud)
{
    (*(int *)ud)++;
}

/* ------------------------------------------------------------------------ */
/* fd watches, in each built-in backend                                      */

struct io_rec {
    int calls;
    int fd;
    unsigned events;
    canto__watch *w;
    int remove_self;
    int drain;
};

static void io_record(void *ud, int fd, unsigned events)
{
    struct io_rec *r = ud;
    r->calls++;
    r->fd = fd;
    r->events = events;
    if (r->drain)
        drain(fd);
    if (r->remove_self) {
        canto__watch_remove(r->w);
        r->w = NULL;
    }
}

static int test_watch_in_out(canto__backend_kind kind)
{
    canto_loop *loop = NULL;
    REQUIRE(canto__loop_new_backend(NULL, kind, &loop) == 0);
    CHECK_STR(canto__loop_backend_name(loop), kind == CANTO__BACKEND_POLL ? "poll" : "epoll");
    int sv[2];
    REQUIRE(make_pair(sv) == 0);
    struct io_rec r = {0};
    r.drain = 1;
    CHECK_INT(canto__watch_add(loop, sv[0], CANTO_IO_IN, io_record, &r, &r.w), 0);
    REQUIRE(r.w);
    CHECK_INT(canto_loop_run_once(loop, 0), 0);
    CHECK_INT(r.calls, 0);
    CHECK_INT(put_byte(sv[1]), 0);
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(r.calls, 1);
    CHECK_INT(r.fd, sv[0]);
    CHECK_INT(r.events, CANTO_IO_IN);
    CHECK_INT(canto_loop_run_once(loop, 0), 0); /* drained: level-triggered, quiet */

    /* Interest changes: OUT (always writable), then IN|OUT, then nothing. */
    CHECK_INT(canto__watch_set(r.w, CANTO_IO_OUT), 0);
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(r.events, CANTO_IO_OUT);
    CHECK_INT(put_byte(sv[1]), 0);
    CHECK_INT(canto__watch_set(r.w, CANTO_IO_IN | CANTO_IO_OUT), 0);
    r.drain = 0;
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(r.events, CANTO_IO_IN | CANTO_IO_OUT);
    CHECK_INT(canto__watch_set(r.w, 0), 0);
    int before = r.calls;
    CHECK_INT(canto_loop_run_once(loop, 0), 0); /* readable and writable, but unwatched */
    CHECK_INT(r.calls, before);
    CHECK_INT(canto_loop_run(loop), 0); /* an idle watch does not keep run() going */
    CHECK_INT(canto__watch_set(r.w, CANTO_IO_IN), 0);
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(r.events, CANTO_IO_IN);
    CHECK_INT(canto__watch_set(r.w, CANTO_IO_IN), 0); /* unchanged */
    CHECK_INT(canto__watch_set(r.w, CANTO_IO_REMOVE), CANTO_EINVAL);
    CHECK_INT(canto__watch_set(NULL, CANTO_IO_IN), CANTO_EINVAL);

    /* One watch per fd. */
    canto__watch *dup = (canto__watch *)&r;
    CHECK_INT(canto__watch_add(loop, sv[0], CANTO_IO_IN, io_record, &r, &dup), CANTO_EINVAL);
    CHECK(dup == NULL);

    /* Hang-up: reported as ERR together with the watched direction. */
    drain(sv[0]);
    close(sv[1]);
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(r.events, CANTO_IO_IN | CANTO_IO_ERR);
    canto__watch_remove(r.w);
    canto__watch_remove(NULL);
    CHECK_INT(canto_loop_run_once(loop, 0), 0);
    close(sv[0]);
    canto_loop_free(loop);
    return 0;
}

static int test_watch_hangup_pipe(canto__backend_kind kind)
{
    canto_loop *loop = NULL;
    REQUIRE(canto__loop_new_backend(NULL, kind, &loop) == 0);
    int p[2];
    REQUIRE(pipe(p) == 0);
    struct io_rec r = {0};
    CHECK_INT(canto__watch_add(loop, p[0], CANTO_IO_IN, io_record, &r, &r.w), 0);
    close(p[1]); /* a pipe reports POLLHUP alone, no POLLIN */
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(r.events, CANTO_IO_IN | CANTO_IO_ERR);
    canto__watch_remove(r.w);
    close(p[0]);
    canto_loop_free(loop);
    return 0;
}

static int test_watch_remove_self(canto__backend_kind kind)
{
    canto_loop *loop = NULL;
    REQUIRE(canto__loop_new_backend(NULL, kind, &loop) == 0);
    int sv[2];
    REQUIRE(make_pair(sv) == 0);
    struct io_rec r = {0};
    r.remove_self = 1;
    CHECK_INT(canto__watch_add(loop, sv[0], CANTO_IO_IN, io_record, &r, &r.w), 0);
    CHECK_INT(put_byte(sv[1]), 0);
    /* run() returns once the callback removed the only watch. */
    CHECK_INT(canto_loop_run(loop), 0);
    CHECK_INT(r.calls, 1);
    CHECK(r.w == NULL);
    CHECK_INT(canto_loop_run_once(loop, 0), 0);
    CHECK_INT(r.calls, 1);
    /* The fd can be watched again afterwards. */
    r.remove_self = 0;
    CHECK_INT(canto__watch_add(loop, sv[0], CANTO_IO_IN, io_record, &r, &r.w), 0);
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(r.calls, 2);
    canto__watch_remove(r.w);
    close_pair(sv);
    canto_loop_free(loop);
    return 0;
}

/* Two watches ready in the same round; whichever runs first removes the
 * other (and, in the second variant, watches its fd again at once). */
struct pair_ctx {
    canto_loop *loop;
    int fd[2];
    canto__watch *w[2];
    int calls[2];
    int readd;
    int readd_calls;
    canto__watch *readded;
};

static void readd_cb(void *ud, int fd, unsigned events)
{
    ((struct pair_ctx *)ud)->readd_calls++;
    (void)fd;
    (void)events;
}

static void pair_cb(void *ud, int fd, unsigned events)
{
    struct pair_ctx *c = ud;
    int me = fd == c->fd[0] ? 0 : 1, other = 1 - me;
    c->calls[me]++;
    (void)events;
    if (c->w[other]) {
        canto__watch_remove(c->w[other]);
        c->w[other] = NULL;
        if (c->readd)
            canto__watch_add(c->loop, c->fd[other], CANTO_IO_IN, readd_cb, c, &c->readded);
    }
}

static int test_watch_remove_other(canto__backend_kind kind, int readd)
{
    canto_loop *loop = NULL;
    REQUIRE(canto__loop_new_backend(NULL, kind, &loop) == 0);
    int a[2], b[2];
    REQUIRE(make_pair(a) == 0 && make_pair(b) == 0);
    struct pair_ctx c = {loop, {a[0], b[0]}, {NULL, NULL}, {0, 0}, readd, 0, NULL};
    CHECK_INT(canto__watch_add(loop, a[0], CANTO_IO_IN, pair_cb, &c, &c.w[0]), 0);
    CHECK_INT(canto__watch_add(loop, b[0], CANTO_IO_IN, pair_cb, &c, &c.w[1]), 0);
    CHECK_INT(put_byte(a[1]), 0);
    CHECK_INT(put_byte(b[1]), 0);
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(c.calls[0] + c.calls[1], 1);
    /* The replacement watch did not inherit the stale event of this round... */
    CHECK_INT(c.readd_calls, 0);
    if (readd) {
        REQUIRE(c.readded);
        /* ...but sees the data, still unread, in the next one. */
        CHECK_INT(canto_loop_run_once(loop, 0), 2);
        CHECK_INT(c.readd_calls, 1);
        canto__watch_remove(c.readded);
    }
    canto__watch_remove(c.w[0]);
    canto__watch_remove(c.w[1]);
    close_pair(a);
    close_pair(b);
    canto_loop_free(loop);
    return 0;
}

struct io_owner {
    canto__watch *w;
    canto__timer t;
    int *calls;
};

static void io_owner_cb(void *ud, int fd, unsigned events)
{
    struct io_owner *o = ud;
    (*o->calls)++;
    (void)fd;
    (void)events;
    canto__watch_remove(o->w);
    canto__timer_stop(&o->t);
    free(o);
}

static void io_owner_timer(void *ud)
{
    struct io_owner *o = ud;
    (*o->calls) += 100;
}

static int test_watch_free_owner(canto__backend_kind kind)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(kind, &now);
    REQUIRE(loop);
    int sv[2];
    REQUIRE(make_pair(sv) == 0);
    int calls = 0;
    struct io_owner *o = calloc(1, sizeof(*o));
    REQUIRE(o);
    o->calls = &calls;
    CHECK_INT(canto__watch_add(loop, sv[0], CANTO_IO_OUT, io_owner_cb, o, &o->w), 0);
    CHECK_INT(canto__timer_start(loop, &o->t, 0, io_owner_timer, o), 0);
    /* Both the fd and the timer are ready in this round; fds run first and
     * free the owner, so its due timer must be dropped. */
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(calls, 1);
    CHECK_INT(canto_loop_run(loop), 0);
    close_pair(sv);
    canto_loop_free(loop);
    return 0;
}

/* Many watches, removed out of order: the survivors keep working (the poll
 * backend moves entries around its array on removal). */
static int test_watch_many(canto__backend_kind kind)
{
    canto_loop *loop = NULL;
    REQUIRE(canto__loop_new_backend(NULL, kind, &loop) == 0);
    enum { N = 40 };
    int sv[N][2];
    struct io_rec r[N];
    for (int i = 0; i < N; i++) {
        REQUIRE(make_pair(sv[i]) == 0);
        r[i] = (struct io_rec){0};
        CHECK_INT(canto__watch_add(loop, sv[i][0], CANTO_IO_IN, io_record, &r[i], &r[i].w), 0);
    }
    for (int i = 0; i < N; i += 2) { /* every other one, from the front */
        canto__watch_remove(r[i].w);
        r[i].w = NULL;
    }
    for (int i = 1; i < N; i += 2)
        CHECK_INT(canto__watch_set(r[i].w, i % 4 == 1 ? CANTO_IO_OUT : CANTO_IO_IN), 0);
    for (int i = 0; i < N; i++)
        CHECK_INT(put_byte(sv[i][1]), 0);
    CHECK_INT(canto_loop_run_once(loop, 0), N / 2);
    for (int i = 0; i < N; i++) {
        CHECK_INT(r[i].calls, i % 2);
        if (i % 2)
            CHECK_INT(r[i].events, i % 4 == 1 ? CANTO_IO_OUT : CANTO_IO_IN);
    }
    for (int i = 0; i < N; i++) {
        canto__watch_remove(r[i].w);
        close_pair(sv[i]);
    }
    CHECK_INT(canto_loop_run(loop), 0);
    canto_loop_free(loop);
    return 0;
}

/* A watch with no interest on a hung-up fd must not wake the loop: epoll and
 * poll report hang-ups even for fds nobody asked about. */
static int test_watch_idle_hangup(canto__backend_kind kind)
{
    canto_loop *loop = NULL;
    REQUIRE(canto__loop_new_backend(NULL, kind, &loop) == 0);
    int sv[2];
    REQUIRE(make_pair(sv) == 0);
    close(sv[1]);
    struct io_rec r = {0};
    CHECK_INT(canto__watch_add(loop, sv[0], 0, io_record, &r, &r.w), 0);
    int fired = 0;
    canto__timer t = {0};
    for (int round = 0; round < 2; round++) {
        /* Idle from the start, then idle again after having been active. */
        if (round == 1) {
            CHECK_INT(canto__watch_set(r.w, CANTO_IO_IN), 0);
            CHECK_INT(canto__watch_set(r.w, 0), 0);
        }
        uint64_t now = canto_loop_now(loop);
        CHECK_INT(canto__timer_start(loop, &t, now + 30, timer_count, &fired), 0);
        uint64_t start = real_ms();
        CHECK_INT(canto_loop_run_once(loop, -1), 1); /* woken by the timer, not the fd */
        CHECK(real_ms() - start >= 29);
        CHECK_INT(fired, round + 1);
        CHECK_INT(r.calls, 0);
    }
    canto__watch_remove(r.w);
    close(sv[0]);
    canto_loop_free(loop);
    return 0;
}

static int test_watch_bad_fd(canto__backend_kind kind)
{
    canto_loop *loop = NULL;
    REQUIRE(canto__loop_new_backend(NULL, kind, &loop) == 0);
    int p[2];
    REQUIRE(pipe(p) == 0);
    close(p[0]);
    close(p[1]);
    struct io_rec r = {0};
    canto__watch *w = (canto__watch *)&r;
    CHECK_INT(canto__watch_add(loop, p[0], CANTO_IO_IN, io_record, &r, &w), CANTO_EIO);
    CHECK(w == NULL);
    CHECK_INT(canto__watch_add(loop, p[0], 0, io_record, &r, &w), CANTO_EIO);
    CHECK_INT(canto__watch_add(loop, -1, CANTO_IO_IN, io_record, &r, &w), CANTO_EINVAL);
    CHECK_INT(canto__watch_add(NULL, 0, CANTO_IO_IN, io_record, &r, &w), CANTO_EINVAL);
    CHECK_INT(canto__watch_add(loop, 0, CANTO_IO_IN, NULL, &r, &w), CANTO_EINVAL);
    CHECK_INT(canto__watch_add(loop, 0, CANTO_IO_IN, io_record, &r, NULL), CANTO_EINVAL);
    CHECK_INT(canto__watch_add(loop, 0, CANTO_IO_ERR, io_record, &r, &w), CANTO_EINVAL);
    CHECK_INT(canto_loop_run(loop), 0); /* the failures left nothing behind */
    canto_loop_free(loop);
    return 0;
}

static int test_watch_high_fd(canto__backend_kind kind)
{
    enum { HIGH = 1500 };
    struct rlimit rl;
    REQUIRE(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    if (rl.rlim_cur <= HIGH) {
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max <= HIGH) {
            fprintf(stderr, "skipping high-fd test: RLIMIT_NOFILE hard limit %lu\n",
                    (unsigned long)rl.rlim_max);
            return 0;
        }
        rl.rlim_cur = HIGH + 1;
        REQUIRE(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
    canto_loop *loop = NULL;
    REQUIRE(canto__loop_new_backend(NULL, kind, &loop) == 0);
    int sv[2];
    REQUIRE(make_pair(sv) == 0);
    REQUIRE(dup2(sv[0], HIGH) == HIGH);
    struct io_rec r = {0};
    r.drain = 1;
    CHECK_INT(canto__watch_add(loop, HIGH, CANTO_IO_IN, io_record, &r, &r.w), 0);
    CHECK_INT(canto_loop_run_once(loop, 0), 0);
    CHECK_INT(put_byte(sv[1]), 0);
    CHECK_INT(canto_loop_run_once(loop, 100), 1);
    CHECK_INT(r.fd, HIGH);
    CHECK_INT(r.events, CANTO_IO_IN);
    canto__watch_remove(r.w);
    close(HIGH);
    close_pair(sv);
    canto_loop_free(loop);
    return 0;
}

static int test_watches_all_backends(void)
{
    for (size_t i = 0; i < NKINDS; i++) {
        canto__backend_kind k = builtin_kinds[i];
        fprintf(stderr, "  backend %s\n", k == CANTO__BACKEND_POLL ? "poll" : "epoll");
        CHECK_INT(test_watch_in_out(k), 0);
        CHECK_INT(test_watch_hangup_pipe(k), 0);
        CHECK_INT(test_watch_remove_self(k), 0);
        CHECK_INT(test_watch_remove_other(k, 0), 0);
        CHECK_INT(test_watch_remove_other(k, 1), 0);
        CHECK_INT(test_watch_free_owner(k), 0);
        CHECK_INT(test_watch_many(k), 0);
        CHECK_INT(test_watch_idle_hangup(k), 0);
        CHECK_INT(test_watch_bad_fd(k), 0);
        CHECK_INT(test_watch_high_fd(k), 0);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* run, stop, run_once, re-entrancy                                         */

struct runner {
    canto_loop *loop;
    canto__watch *w;
    canto__timer t;
    int calls;
    int stop_after;
    int rc_run, rc_once, rc_fd_ready, rc_expired;
    int free_loop;
};

static void runner_fd(void *ud, int fd, unsigned events)
{
    struct runner *r = ud;
    (void)fd;
    (void)events;
    r->calls++;
    r->rc_run = canto_loop_run(r->loop);
    r->rc_once = canto_loop_run_once(r->loop, 0);
    r->rc_fd_ready = canto_loop_fd_ready(r->loop, fd, events);
    r->rc_expired = canto_loop_timer_expired(r->loop);
    if (r->calls == r->stop_after)
        canto_loop_stop(r->loop);
    if (r->free_loop) {
        canto__watch_remove(r->w);
        canto_loop_free(r->loop);
    }
}

static int test_run_stop(canto__backend_kind kind)
{
    canto_loop *loop = NULL;
    REQUIRE(canto__loop_new_backend(NULL, kind, &loop) == 0);
    int sv[2];
    REQUIRE(make_pair(sv) == 0);
    struct runner r = {loop, NULL, {0}, 0, 3, 1, 1, 1, 1, 0};
    CHECK_INT(canto__watch_add(loop, sv[0], CANTO_IO_OUT, runner_fd, &r, &r.w), 0);
    CHECK_INT(canto_loop_stop(loop), 0); /* before run(): not carried over */
    CHECK_INT(canto_loop_run(loop), 0);  /* always writable: only stop() ends it */
    CHECK_INT(r.calls, 3);
    CHECK_INT(r.rc_run, CANTO_ESTATE);
    CHECK_INT(r.rc_once, CANTO_ESTATE);
    CHECK_INT(r.rc_fd_ready, CANTO_ESTATE); /* not an external loop */
    CHECK_INT(r.rc_expired, CANTO_ESTATE);
    r.stop_after = 5;
    CHECK_INT(canto_loop_run(loop), 0); /* a second run() works as well */
    CHECK_INT(r.calls, 5);
    canto__watch_remove(r.w);
    close_pair(sv);
    canto_loop_free(loop);
    return 0;
}

static int test_free_loop_in_callback(canto__backend_kind kind)
{
    canto_loop *loop = NULL;
    REQUIRE(canto__loop_new_backend(NULL, kind, &loop) == 0);
    int sv[2];
    REQUIRE(make_pair(sv) == 0);
    struct runner r = {loop, NULL, {0}, 0, 0, 0, 0, 0, 0, 1};
    CHECK_INT(canto__watch_add(loop, sv[0], CANTO_IO_OUT, runner_fd, &r, &r.w), 0);
    /* The loop is freed by the callback; run() must notice and not touch it. */
    CHECK_INT(canto_loop_run(loop), 0);
    CHECK_INT(r.calls, 1);
    close_pair(sv);
    return 0;
}

static int test_run_once_timeouts(canto__backend_kind kind)
{
    canto_loop *loop = NULL;
    REQUIRE(canto__loop_new_backend(NULL, kind, &loop) == 0);
    /* Nothing to wait for: no blocking, even without a limit. */
    CHECK_INT(canto_loop_run_once(loop, -1), 0);
    CHECK_INT(canto_loop_run(loop), 0);

    int sv[2];
    REQUIRE(make_pair(sv) == 0);
    struct io_rec r = {0};
    CHECK_INT(canto__watch_add(loop, sv[0], CANTO_IO_IN, io_record, &r, &r.w), 0);
    uint64_t start = real_ms();
    CHECK_INT(canto_loop_run_once(loop, 40), 0);
    uint64_t took = real_ms() - start;
    CHECK(took >= 39);
    CHECK(took < 1000);

    /* A timer shorter than the limit ends the wait early. */
    int fired = 0;
    canto__timer t = {0};
    CHECK_INT(canto__timer_start(loop, &t, canto_loop_now(loop) + 20, timer_count, &fired), 0);
    start = real_ms();
    int n = 0;
    while (!fired && real_ms() - start < 2000)
        n += canto_loop_run_once(loop, 5000);
    took = real_ms() - start;
    CHECK_INT(fired, 1);
    CHECK_INT(n, 1);
    CHECK(took >= 19);
    CHECK(took < 1000);

    /* run() with only a timer left returns once it has fired. */
    CHECK_INT(canto__timer_start(loop, &t, canto_loop_now(loop) + 10, timer_count, &fired), 0);
    canto__watch_remove(r.w);
    CHECK_INT(canto_loop_run(loop), 0);
    CHECK_INT(fired, 2);
    close_pair(sv);
    canto_loop_free(loop);
    return 0;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static int test_eintr(canto__backend_kind kind)
{
    canto_loop *loop = NULL;
    REQUIRE(canto__loop_new_backend(NULL, kind, &loop) == 0);
    int sv[2];
    REQUIRE(make_pair(sv) == 0);
    struct io_rec r = {0};
    CHECK_INT(canto__watch_add(loop, sv[0], CANTO_IO_IN, io_record, &r, &r.w), 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm; /* no SA_RESTART: the wait sees EINTR */
    sigemptyset(&sa.sa_mask);
    REQUIRE(sigaction(SIGALRM, &sa, &old) == 0);
    struct itimerval it = {{0, 10000}, {0, 10000}}; /* every 10 ms */
    alarms = 0;
    REQUIRE(setitimer(ITIMER_REAL, &it, NULL) == 0);
    uint64_t start = real_ms();
    int rc = canto_loop_run_once(loop, 80);
    uint64_t took = real_ms() - start;
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    CHECK_INT(rc, 0);
    CHECK(alarms >= 2);
    CHECK(took >= 79); /* the interrupted wait went on for the time left */
    canto__watch_remove(r.w);
    close_pair(sv);
    canto_loop_free(loop);
    return 0;
}

static int test_run_all_backends(void)
{
    for (size_t i = 0; i < NKINDS; i++) {
        canto__backend_kind k = builtin_kinds[i];
        fprintf(stderr, "  backend %s\n", k == CANTO__BACKEND_POLL ? "poll" : "epoll");
        CHECK_INT(test_run_stop(k), 0);
        CHECK_INT(test_free_loop_in_callback(k), 0);
        CHECK_INT(test_run_once_timeouts(k), 0);
        CHECK_INT(test_eintr(k), 0);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* External mode with recording hooks                                       */

struct hook_rec {
    int fds[64];
    unsigned evs[64];
    int nwatch;
    long timers[64];
    int ntimer;
    int fail_watch, fail_timer;
    canto_loop *loop;
    int reentry_rc;
};

static int rec_watch_fd(void *ud, int fd, unsigned events)
{
    struct hook_rec *h = ud;
    if (h->nwatch < 64) {
        h->fds[h->nwatch] = fd;
        h->evs[h->nwatch] = events;
    }
    h->nwatch++;
    if (h->loop)
        h->reentry_rc = canto_loop_fd_ready(h->loop, fd, CANTO_IO_IN);
    return h->fail_watch ? -1 : 0;
}

static int rec_set_timer(void *ud, long ms)
{
    struct hook_rec *h = ud;
    if (h->ntimer < 64)
        h->timers[h->ntimer] = ms;
    h->ntimer++;
    /* What a careless application might do for 0: answer at once. */
    if (h->loop)
        h->reentry_rc = canto_loop_timer_expired(h->loop);
    return h->fail_timer ? -1 : 0;
}

static canto_loop *external_loop(struct hook_rec *h, uint64_t *now)
{
    canto_loop_hooks hooks = CANTO_LOOP_HOOKS_INIT;
    hooks.watch_fd = rec_watch_fd;
    hooks.set_timer = rec_set_timer;
    hooks.user_data = h;
    canto_loop_options o = CANTO_LOOP_OPTIONS_INIT;
    o.now_ms = fake_clock;
    o.clock_user_data = now;
    canto_loop *loop = NULL;
    return canto_loop_new_external(&hooks, &o, &loop) == 0 ? loop : NULL;
}

static int test_external_watches(void)
{
    struct hook_rec h = {.nwatch = 0};
    uint64_t now = 0;
    canto_loop *loop = external_loop(&h, &now);
    REQUIRE(loop);
    CHECK_STR(canto__loop_backend_name(loop), "external");
    CHECK_INT(canto_loop_run(loop), CANTO_ESTATE);
    CHECK_INT(canto_loop_run_once(loop, 0), CANTO_ESTATE);

    struct io_rec r = {0};
    CHECK_INT(canto__watch_add(loop, 7, CANTO_IO_IN, io_record, &r, &r.w), 0);
    CHECK_INT(h.nwatch, 1);
    CHECK_INT(h.fds[0], 7);
    CHECK_INT(h.evs[0], CANTO_IO_IN);
    CHECK_INT(canto__watch_set(r.w, CANTO_IO_IN), 0); /* coalesced */
    CHECK_INT(h.nwatch, 1);
    CHECK_INT(canto__watch_set(r.w, CANTO_IO_IN | CANTO_IO_OUT), 0);
    CHECK_INT(h.nwatch, 2);
    CHECK_INT(h.evs[1], CANTO_IO_IN | CANTO_IO_OUT);
    CHECK_INT(canto__watch_set(r.w, 0), 0);
    CHECK_INT(h.nwatch, 3);
    CHECK_INT(h.evs[2], 0);
    CHECK_INT(canto__watch_set(r.w, 0), 0);
    CHECK_INT(h.nwatch, 3);

    /* Readiness: delivered only for what is watched; ERR brings the rest. */
    CHECK_INT(canto_loop_fd_ready(loop, 7, CANTO_IO_IN), 0);
    CHECK_INT(r.calls, 0);
    CHECK_INT(canto__watch_set(r.w, CANTO_IO_IN), 0);
    CHECK_INT(canto_loop_fd_ready(loop, 7, CANTO_IO_OUT), 0);
    CHECK_INT(r.calls, 0);
    CHECK_INT(canto_loop_fd_ready(loop, 7, CANTO_IO_IN | CANTO_IO_OUT | CANTO_IO_REMOVE), 0);
    CHECK_INT(r.calls, 1);
    CHECK_INT(r.fd, 7);
    CHECK_INT(r.events, CANTO_IO_IN);
    CHECK_INT(canto_loop_fd_ready(loop, 7, CANTO_IO_ERR), 0);
    CHECK_INT(r.events, CANTO_IO_IN | CANTO_IO_ERR);
    CHECK_INT(canto_loop_fd_ready(loop, 8, CANTO_IO_IN), CANTO_EINVAL);
    CHECK_INT(canto_loop_fd_ready(loop, -1, CANTO_IO_IN), CANTO_EINVAL);
    CHECK_INT(canto_loop_fd_ready(NULL, 7, CANTO_IO_IN), CANTO_EINVAL);

    /* Remove from inside the callback: REMOVE is told, the fd is unknown. */
    int n = h.nwatch;
    r.remove_self = 1;
    CHECK_INT(canto_loop_fd_ready(loop, 7, CANTO_IO_IN), 0);
    CHECK_INT(r.calls, 3);
    CHECK_INT(h.nwatch, n + 1);
    CHECK_INT(h.fds[n], 7);
    CHECK_INT(h.evs[n], CANTO_IO_REMOVE);
    CHECK_INT(canto_loop_fd_ready(loop, 7, CANTO_IO_IN), CANTO_EINVAL);
    CHECK_INT(r.calls, 3);

    /* A hook that refuses the fd makes the add fail and leaves nothing. */
    h.fail_watch = 1;
    canto__watch *w = NULL;
    CHECK_INT(canto__watch_add(loop, 9, CANTO_IO_IN, io_record, &r, &w), CANTO_EIO);
    CHECK(w == NULL);
    CHECK_INT(canto_loop_fd_ready(loop, 9, CANTO_IO_IN), CANTO_EINVAL);
    h.fail_watch = 0;
    CHECK_INT(canto__watch_add(loop, 9, CANTO_IO_IN, io_record, &r, &w), 0);
    h.fail_watch = 1;
    CHECK_INT(canto__watch_set(w, CANTO_IO_OUT), CANTO_EIO);
    h.fail_watch = 0;
    n = h.nwatch;
    CHECK_INT(canto__watch_set(w, CANTO_IO_IN), 0); /* the failed change did not stick */
    CHECK_INT(h.nwatch, n);

    /* Hooks must not call back in: such a call is refused. */
    h.loop = loop;
    h.reentry_rc = 1;
    canto__watch_remove(w);
    CHECK_INT(h.reentry_rc, CANTO_ESTATE);
    h.loop = NULL;
    CHECK_INT(h.ntimer, 0); /* no timer was ever involved */
    canto_loop_free(loop);
    return 0;
}

struct ext_timer_ctx {
    canto_loop *loop;
    struct hook_rec *h;
    canto__timer t[3];
    int calls;
    int ntimer_in_cb;
};

static void ext_rearm_cb(void *ud)
{
    struct ext_timer_ctx *c = ud;
    c->calls++;
    uint64_t now = canto_loop_now(c->loop);
    /* Several changes inside one callback: the hook hears only the result,
     * after the callback, never from inside it. */
    canto__timer_start(c->loop, &c->t[1], now + 5, ext_rearm_cb, c);
    canto__timer_start(c->loop, &c->t[2], now + 7, ext_rearm_cb, c);
    canto__timer_start(c->loop, &c->t[0], now, ext_rearm_cb, c);
    c->ntimer_in_cb = c->h->ntimer;
}

static int test_external_timers(void)
{
    struct hook_rec h = {.nwatch = 0};
    uint64_t now = 1000;
    canto_loop *loop = external_loop(&h, &now);
    REQUIRE(loop);
    struct fired log = {.n = 0};
    struct tag tags[3] = {{&log, 0}, {&log, 1}, {&log, 2}};
    canto__timer t[3] = {{0}, {0}, {0}};
    CHECK_INT(canto__timer_start(loop, &t[0], 1100, record_tag, &tags[0]), 0);
    CHECK_INT(h.ntimer, 1);
    CHECK_INT(h.timers[0], 100);
    CHECK_INT(canto__timer_start(loop, &t[1], 1200, record_tag, &tags[1]), 0);
    CHECK_INT(h.ntimer, 1); /* later than the earliest: nothing to tell */
    CHECK_INT(canto__timer_start(loop, &t[2], 1050, record_tag, &tags[2]), 0);
    CHECK_INT(h.ntimer, 2);
    CHECK_INT(h.timers[1], 50);
    canto__timer_stop(&t[2]);
    CHECK_INT(h.ntimer, 3);
    CHECK_INT(h.timers[2], 100);
    CHECK_INT(canto__timer_start(loop, &t[0], 1100, record_tag, &tags[0]), 0);
    CHECK_INT(h.ntimer, 3); /* same deadline */
    now = 1040;
    CHECK_INT(canto__timer_start(loop, &t[0], 1100, record_tag, &tags[0]), 0);
    CHECK_INT(h.ntimer, 3); /* same deadline, even though the clock moved */

    /* Early expiry (application timer less precise than ours): nothing due,
     * the timer is told again for what is left. */
    CHECK_INT(canto_loop_timer_expired(loop), 0);
    CHECK_INT(log.n, 0);
    CHECK_INT(h.ntimer, 4);
    CHECK_INT(h.timers[3], 60);

    now = 1100;
    CHECK_INT(canto_loop_timer_expired(loop), 0);
    CHECK_INT(log.n, 1);
    CHECK_INT(log.order[0], 0);
    CHECK_INT(h.ntimer, 5);
    CHECK_INT(h.timers[4], 100);
    now = 1300;
    CHECK_INT(canto_loop_timer_expired(loop), 0);
    CHECK_INT(log.n, 2);
    /* Nothing left, and the application's one-shot timer has fired: no
     * cancel is needed. */
    CHECK_INT(h.ntimer, 5);

    /* Cancel when the last armed timer is stopped. */
    CHECK_INT(canto__timer_start(loop, &t[0], 1400, record_tag, &tags[0]), 0);
    CHECK_INT(h.ntimer, 6);
    CHECK_INT(h.timers[5], 100);
    canto__timer_stop(&t[0]);
    CHECK_INT(h.ntimer, 7);
    CHECK_INT(h.timers[6], -1);
    canto__timer_stop(&t[0]);
    CHECK_INT(h.ntimer, 7);

    /* A deadline in the past is told as 0. */
    CHECK_INT(canto__timer_start(loop, &t[0], 10, record_tag, &tags[0]), 0);
    CHECK_INT(h.timers[7], 0);
    canto__timer_stop(&t[0]);
    CHECK_INT(h.timers[8], -1);

    /* Re-arms inside a callback: one set_timer afterwards, with the earliest
     * (a timer re-armed for now: 0), and it runs in the next round only. */
    struct ext_timer_ctx c = {loop, &h, {{0}, {0}, {0}}, 0, 0};
    CHECK_INT(canto__timer_start(loop, &c.t[0], 1310, ext_rearm_cb, &c), 0);
    int base = h.ntimer;
    CHECK_INT(h.timers[base - 1], 10);
    now = 1310;
    CHECK_INT(canto_loop_timer_expired(loop), 0);
    CHECK_INT(c.calls, 1);
    CHECK_INT(c.ntimer_in_cb, base);
    CHECK_INT(h.ntimer, base + 1);
    CHECK_INT(h.timers[base], 0);
    CHECK_INT(canto_loop_timer_expired(loop), 0);
    CHECK_INT(c.calls, 2);

    /* A hook answering set_timer(0) synchronously is refused. */
    h.loop = loop;
    h.reentry_rc = 1;
    for (int i = 0; i < 3; i++)
        canto__timer_stop(&c.t[i]);
    CHECK_INT(h.reentry_rc, CANTO_ESTATE);
    CHECK_INT(h.timers[h.ntimer - 1], -1);
    h.loop = NULL;

    /* A failing set_timer is retried at the next change, even to the same
     * value. */
    h.fail_timer = 1;
    CHECK_INT(canto__timer_start(loop, &t[1], 1500, record_tag, &tags[1]), 0);
    base = h.ntimer;
    h.fail_timer = 0;
    CHECK_INT(canto__timer_start(loop, &t[1], 1500, record_tag, &tags[1]), 0);
    CHECK_INT(h.ntimer, base + 1);
    CHECK_INT(h.timers[base], 190);

    /* Freeing the loop with a timer still told cancels it, and REMOVEs any
     * watch left behind. */
    struct io_rec r = {0};
    CHECK_INT(canto__watch_add(loop, 3, CANTO_IO_OUT, io_record, &r, &r.w), 0);
    int nw = h.nwatch;
    base = h.ntimer;
    canto_loop_free(loop);
    CHECK(!canto__timer_armed(&t[1]));
    CHECK_INT(h.ntimer, base + 1);
    CHECK_INT(h.timers[base], -1);
    CHECK_INT(h.nwatch, nw + 1);
    CHECK_INT(h.evs[nw], CANTO_IO_REMOVE);
    return 0;
}

static void free_loop_cb(void *ud, int fd, unsigned events)
{
    struct runner *r = ud;
    (void)fd;
    (void)events;
    r->calls++;
    r->rc_fd_ready = canto_loop_fd_ready(r->loop, fd, events);
    r->rc_expired = canto_loop_timer_expired(r->loop);
    canto__watch_remove(r->w);
    canto__timer_stop(&r->t);
    canto_loop_free(r->loop);
}

static void never_timer(void *ud)
{
    ((struct runner *)ud)->calls += 100;
}

static int test_external_free_in_callback(void)
{
    struct hook_rec h = {.nwatch = 0};
    uint64_t now = 0;
    canto_loop *loop = external_loop(&h, &now);
    REQUIRE(loop);
    struct runner r = {loop, NULL, {0}, 0, 0, 0, 0, 0, 0, 1};
    CHECK_INT(canto__watch_add(loop, 4, CANTO_IO_IN, free_loop_cb, &r, &r.w), 0);
    CHECK_INT(canto__timer_start(loop, &r.t, 5, never_timer, &r), 0);
    int ntimer = h.ntimer;
    CHECK_INT(canto_loop_fd_ready(loop, 4, CANTO_IO_IN), 0);
    CHECK_INT(r.calls, 1);
    CHECK_INT(r.rc_fd_ready, CANTO_ESTATE);
    CHECK_INT(r.rc_expired, CANTO_ESTATE);
    CHECK_INT(h.ntimer, ntimer + 1); /* the stop inside was told once, at the end */
    CHECK_INT(h.timers[ntimer], -1);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Arguments, options, allocation                                           */

static int nop_watch(void *ud, int fd, unsigned events)
{
    (void)ud;
    (void)fd;
    (void)events;
    return 0;
}

static int nop_timer(void *ud, long ms)
{
    (void)ud;
    (void)ms;
    return 0;
}

struct logged {
    int warnings;
};

static void count_log(void *ud, canto_log_level level, const char *area, const char *msg)
{
    (void)msg;
    if (level >= CANTO_LOG_WARN && strcmp(area, "loop") == 0)
        ((struct logged *)ud)->warnings++;
}

static int test_errors(void)
{
    canto_loop *loop = (canto_loop *)&loop;
    CHECK_INT(canto_loop_new(NULL, NULL), CANTO_EINVAL);
    canto_loop_options o = CANTO_LOOP_OPTIONS_INIT;
    o.version = 99;
    CHECK_INT(canto_loop_new(&o, &loop), CANTO_EINVAL);
    CHECK(loop == NULL);
    o.version = CANTO_LOOP_OPTIONS_VERSION;
    canto_allocator bad = CANTO_ALLOCATOR_INIT; /* functions missing */
    o.alloc = &bad;
    CHECK_INT(canto_loop_new(&o, &loop), CANTO_EINVAL);

    canto_loop_hooks hooks = CANTO_LOOP_HOOKS_INIT;
    loop = (canto_loop *)&loop;
    CHECK_INT(canto_loop_new_external(&hooks, NULL, &loop), CANTO_EINVAL); /* no hooks */
    CHECK(loop == NULL);
    hooks.watch_fd = nop_watch;
    CHECK_INT(canto_loop_new_external(&hooks, NULL, &loop), CANTO_EINVAL); /* no set_timer */
    hooks.set_timer = nop_timer;
    hooks.version = 2;
    CHECK_INT(canto_loop_new_external(&hooks, NULL, &loop), CANTO_EINVAL);
    hooks.version = CANTO_LOOP_HOOKS_VERSION;
    hooks.watch_fd = NULL;
    CHECK_INT(canto_loop_new_external(&hooks, NULL, &loop), CANTO_EINVAL);
    hooks.watch_fd = nop_watch;
    CHECK_INT(canto_loop_new_external(NULL, NULL, &loop), CANTO_EINVAL);
    CHECK_INT(canto_loop_new_external(&hooks, NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_loop_new_external(&hooks, &o, &loop), CANTO_EINVAL); /* bad allocator */
    CHECK_INT(canto_loop_new_external(&hooks, NULL, &loop), 0);
    CHECK_INT(canto_loop_stop(loop), 0);
    canto_loop_free(loop);

    CHECK_INT(canto_loop_run(NULL), CANTO_EINVAL);
    CHECK_INT(canto_loop_run_once(NULL, 0), CANTO_EINVAL);
    CHECK_INT(canto_loop_stop(NULL), CANTO_EINVAL);
    CHECK_INT(canto_loop_timer_expired(NULL), CANTO_EINVAL);
    CHECK_INT(canto_loop_now(NULL), 0);
    canto_loop_free(NULL);

    canto__timer t = {0};
    CHECK_INT(canto__timer_start(NULL, &t, 0, timer_count, NULL), CANTO_EINVAL);
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    CHECK_STR(canto__loop_backend_name(loop), "epoll"); /* the default on Linux */
    CHECK_INT(canto__timer_start(loop, NULL, 0, timer_count, NULL), CANTO_EINVAL);
    CHECK_INT(canto__timer_start(loop, &t, 0, NULL, NULL), CANTO_EINVAL);
    CHECK(!canto__timer_armed(&t));
    CHECK(!canto__timer_armed(NULL));
    CHECK(canto__loop_alloc(loop) != NULL);
    CHECK(canto__loop_log(loop) != NULL);
    /* The real clock is monotonic and in milliseconds. */
    uint64_t a = canto_loop_now(loop);
    usleep(20000);
    uint64_t b = canto_loop_now(loop);
    CHECK(b >= a + 19 && b < a + 1000);
    canto_loop_free(loop);

    /* Freeing a loop with things left: they are cleaned up and a warning logged. */
    struct logged lg = {0};
    o = (canto_loop_options)CANTO_LOOP_OPTIONS_INIT;
    o.log = count_log;
    o.log_user_data = &lg;
    REQUIRE(canto_loop_new(&o, &loop) == 0);
    int sv[2];
    REQUIRE(make_pair(sv) == 0);
    struct io_rec r = {0};
    CHECK_INT(canto__watch_add(loop, sv[0], CANTO_IO_IN, io_record, &r, &r.w), 0);
    CHECK_INT(canto__timer_start(loop, &t, 0, timer_count, NULL), 0);
    canto_loop_free(loop);
    CHECK_INT(lg.warnings, 2);
    CHECK(!canto__timer_armed(&t));
    close_pair(sv);
    return 0;
}

/* An allocator that fails from the Nth allocation on, and counts. */
struct failing {
    int live, allocs, fail_at;
};

static void *f_alloc(void *ud, size_t n)
{
    struct failing *f = ud;
    if (f->fail_at >= 0 && f->allocs >= f->fail_at)
        return NULL;
    f->allocs++;
    f->live++;
    return malloc(n);
}

static void *f_realloc(void *ud, void *p, size_t n)
{
    struct failing *f = ud;
    if (f->fail_at >= 0 && f->allocs >= f->fail_at)
        return NULL;
    f->allocs++;
    if (!p)
        f->live++;
    return realloc(p, n);
}

static void f_free(void *ud, void *p)
{
    if (p)
        ((struct failing *)ud)->live--;
    free(p);
}

/* Build a loop with watches and timers; every allocation failure must come
 * back as CANTO_ENOMEM with nothing leaked and the loop still usable. */
static int alloc_scenario(canto__backend_kind kind, struct failing *f, int *enomem)
{
    canto_allocator al = CANTO_ALLOCATOR_INIT;
    al.alloc = f_alloc;
    al.realloc = f_realloc;
    al.free = f_free;
    al.user_data = f;
    canto_loop_options o = CANTO_LOOP_OPTIONS_INIT;
    o.alloc = &al;
    canto_loop *loop = NULL;
    int rc = canto__loop_new_backend(&o, kind, &loop);
    if (rc != 0) {
        *enomem += rc == CANTO_ENOMEM;
        return rc == CANTO_ENOMEM ? 0 : 1;
    }
    enum { NT = 40, NW = 20 };
    canto__timer t[NT];
    int fired = 0;
    for (int i = 0; i < NT; i++) {
        t[i] = (canto__timer){0};
        rc = canto__timer_start(loop, &t[i], (uint64_t)(NT - i), timer_count, &fired);
        if (rc == CANTO_ENOMEM)
            (*enomem)++;
        else if (rc != 0)
            return 1;
    }
    int sv[NW][2];
    canto__watch *w[NW];
    struct io_rec r = {0};
    for (int i = 0; i < NW; i++) {
        if (make_pair(sv[i]) != 0)
            return 1;
        rc = canto__watch_add(loop, sv[i][0], CANTO_IO_OUT, io_record, &r, &w[i]);
        if (rc == CANTO_ENOMEM)
            (*enomem)++;
        else if (rc != 0)
            return 1;
    }
    rc = canto_loop_run_once(loop, 0);
    if (rc < 0)
        return 1;
    for (int i = 0; i < NW; i++) {
        canto__watch_remove(w[i]);
        close_pair(sv[i]);
    }
    for (int i = 0; i < NT; i++)
        canto__timer_stop(&t[i]);
    canto_loop_free(loop);
    return 0;
}

static int test_alloc_failures(void)
{
    for (size_t k = 0; k < NKINDS; k++) {
        struct failing f = {0, 0, -1};
        int enomem = 0;
        REQUIRE(alloc_scenario(builtin_kinds[k], &f, &enomem) == 0);
        CHECK_INT(enomem, 0);
        CHECK_INT(f.live, 0);
        int total = f.allocs;
        CHECK(total > 3);
        for (int i = 0; i < total; i++) {
            struct failing g = {0, 0, i};
            enomem = 0;
            CHECK_INT(alloc_scenario(builtin_kinds[k], &g, &enomem), 0);
            CHECK(enomem > 0);
            CHECK_INT(g.live, 0);
        }
    }
    return 0;
}

int main(void)
{
    /* A peer closing a socketpair must not kill the test with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    RUN(test_timer_order);
    RUN(test_timer_rearm_stop);
    RUN(test_timer_stop_in_callback);
    RUN(test_timer_free_owner);
    RUN(test_timer_many);
    RUN(test_timer_no_starvation);
    RUN(test_watches_all_backends);
    RUN(test_run_all_backends);
    RUN(test_external_watches);
    RUN(test_external_timers);
    RUN(test_external_free_in_callback);
    RUN(test_errors);
    RUN(test_alloc_failures);
    return CHECK_DONE();
}
