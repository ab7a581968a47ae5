/* canto/adapters/libuv.h: a real libuv loop drives a Canto external loop.
 * Watches and timers are created through the internal interface, as the
 * resolver, TLS and client layers do. */
#include "check.h"

#include <sys/socket.h>
#include <unistd.h>

#include <canto/adapters/libuv.h>
#include "loop/loop.h"

struct ctx {
    canto_loop *loop;
    canto_uv_loop *u;
    canto__watch *w;
    canto__timer t;
    int io_calls, timer_calls;
    unsigned events;
    char got[16];
    int remove_in_cb;
    int rearm_left;
    int free_adapter_in_cb;
};

static void on_guard(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

/* Run @p uv until *flag becomes non-zero or @p limit_ms pass. */
static int run_until(uv_loop_t *uv, uv_timer_t *guard, const int *flag, unsigned limit_ms)
{
    int timed_out = 0;
    guard->data = &timed_out;
    uv_timer_start(guard, on_guard, limit_ms, 0);
    while (!*flag && !timed_out)
        uv_run(uv, UV_RUN_ONCE);
    uv_timer_stop(guard);
    return *flag != 0;
}

static void on_io(void *ud, int fd, unsigned events)
{
    struct ctx *c = ud;
    c->io_calls++;
    c->events = events;
    if (events & CANTO_IO_IN) {
        ssize_t n = read(fd, c->got, sizeof(c->got) - 1);
        c->got[n > 0 ? n : 0] = '\0';
    }
    if (c->remove_in_cb) {
        canto__watch_remove(c->w);
        c->w = NULL;
    }
    if (c->free_adapter_in_cb) {
        canto__watch_remove(c->w);
        c->w = NULL;
        canto__timer_stop(&c->t);
        canto_uv_loop_free(c->u);
        c->u = NULL;
    }
}

static void on_timer(void *ud)
{
    struct ctx *c = ud;
    c->timer_calls++;
    if (c->rearm_left > 0) {
        c->rearm_left--;
        canto__timer_start(c->loop, &c->t, canto_loop_now(c->loop), on_timer, c);
    }
}

static int test_uv_drives_canto(void)
{
    uv_loop_t uv;
    REQUIRE(uv_loop_init(&uv) == 0);
    uv_timer_t guard;
    REQUIRE(uv_timer_init(&uv, &guard) == 0);
    struct ctx c;
    memset(&c, 0, sizeof(c));
    canto_uv_loop *bad = (canto_uv_loop *)&c;
    CHECK_INT(canto_uv_loop_new(&uv, NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_uv_loop_new(NULL, NULL, &bad), CANTO_EINVAL);
    CHECK(bad == NULL);
    canto_loop_options bad_opts = CANTO_LOOP_OPTIONS_INIT;
    bad_opts.version = 42;
    CHECK_INT(canto_uv_loop_new(&uv, &bad_opts, &bad), CANTO_EINVAL);
    CHECK(canto_uv_loop_get(NULL) == NULL);
    canto_uv_loop_free(NULL);

    REQUIRE(canto_uv_loop_new(&uv, NULL, &c.u) == 0);
    c.loop = canto_uv_loop_get(c.u);
    REQUIRE(c.loop != NULL);
    CHECK_INT(canto_loop_run(c.loop), CANTO_ESTATE); /* libuv waits, not Canto */
    /* Canto waits for nothing: the adapter keeps no handle active. */
    CHECK_INT(uv_run(&uv, UV_RUN_NOWAIT), 0);

    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);

    /* A watch receives data. */
    CHECK_INT(canto__watch_add(c.loop, sv[0], CANTO_IO_IN, on_io, &c, &c.w), 0);
    CHECK_INT(c.u->npolls, 1);
    CHECK(uv_run(&uv, UV_RUN_NOWAIT) != 0); /* the poll handle is active */
    CHECK_INT(c.io_calls, 0);
    CHECK_INT(write(sv[1], "hello", 5), 5);
    CHECK(run_until(&uv, &guard, &c.io_calls, 2000));
    CHECK_INT(c.io_calls, 1);
    CHECK_INT(c.events, CANTO_IO_IN);
    CHECK_STR(c.got, "hello");

    /* Interest changes reach libuv. */
    CHECK_INT(canto__watch_set(c.w, CANTO_IO_OUT), 0);
    c.io_calls = 0;
    CHECK(run_until(&uv, &guard, &c.io_calls, 2000));
    CHECK_INT(c.events, CANTO_IO_OUT);

    /* No interest: the poll handle stops, even with a hung-up peer. */
    CHECK_INT(canto__watch_set(c.w, 0), 0);
    close(sv[1]);
    c.io_calls = 0;
    CHECK_INT(uv_run(&uv, UV_RUN_NOWAIT), 0);
    CHECK_INT(c.io_calls, 0);

    /* Hang-up with interest in IN: readable (libuv reports it so). */
    CHECK_INT(canto__watch_set(c.w, CANTO_IO_IN), 0);
    CHECK(run_until(&uv, &guard, &c.io_calls, 2000));
    CHECK(c.events & CANTO_IO_IN);

    /* Removal from inside the callback closes the poll handle. */
    c.io_calls = 0;
    c.remove_in_cb = 1;
    CHECK(run_until(&uv, &guard, &c.io_calls, 2000));
    CHECK(c.w == NULL);
    CHECK_INT(c.u->npolls, 0);
    CHECK_INT(uv_run(&uv, UV_RUN_NOWAIT), 0); /* runs the close callback; idle */
    CHECK_INT(c.u->closing, 0);
    CHECK_INT(c.io_calls, 1);
    close(sv[0]);

    /* A timer fires after its delay. */
    uint64_t start = uv_hrtime();
    CHECK_INT(canto__timer_start(c.loop, &c.t, canto_loop_now(c.loop) + 30, on_timer, &c), 0);
    CHECK(run_until(&uv, &guard, &c.timer_calls, 2000));
    CHECK(uv_hrtime() - start >= 29000000u);
    CHECK(!uv_is_active((uv_handle_t *)&c.u->timer)); /* nothing armed any more */
    CHECK(!uv_is_active((uv_handle_t *)&c.u->asap));

    /* A timer re-armed for "now" from its callback runs once per iteration,
     * scheduled by libuv (never re-entered from inside the hook), and leaves
     * room for fd events: an always-writable watch is served every time too. */
    int sw[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sw) == 0);
    c.remove_in_cb = 0;
    c.io_calls = 0;
    CHECK_INT(canto__watch_add(c.loop, sw[0], CANTO_IO_OUT, on_io, &c, &c.w), 0);
    c.timer_calls = 0;
    c.rearm_left = 3;
    CHECK_INT(canto__timer_start(c.loop, &c.t, canto_loop_now(c.loop), on_timer, &c), 0);
    for (int i = 1; i <= 4; i++) {
        uv_run(&uv, UV_RUN_NOWAIT);
        CHECK_INT(c.timer_calls, i);
        CHECK_INT(c.io_calls, i);
    }
    canto__watch_remove(c.w);
    c.w = NULL;
    close(sw[0]);
    close(sw[1]);
    CHECK_INT(uv_run(&uv, UV_RUN_NOWAIT), 0); /* closes the poll handle; idle */
    CHECK_INT(c.timer_calls, 4);

    /* A stopped timer does not fire. */
    CHECK_INT(canto__timer_start(c.loop, &c.t, canto_loop_now(c.loop) + 10, on_timer, &c), 0);
    canto__timer_stop(&c.t);
    int never = 0;
    CHECK(!run_until(&uv, &guard, &never, 50));
    CHECK_INT(c.timer_calls, 4);

    canto_uv_loop_free(c.u);
    uv_close((uv_handle_t *)&guard, NULL);
    CHECK_INT(uv_run(&uv, UV_RUN_DEFAULT), 0);
    CHECK_INT(uv_loop_close(&uv), 0); /* every handle was closed */
    return 0;
}

static int test_uv_free_in_callback(void)
{
    uv_loop_t uv;
    REQUIRE(uv_loop_init(&uv) == 0);
    uv_timer_t guard;
    REQUIRE(uv_timer_init(&uv, &guard) == 0);
    struct ctx c;
    memset(&c, 0, sizeof(c));
    REQUIRE(canto_uv_loop_new(&uv, NULL, &c.u) == 0);
    c.loop = canto_uv_loop_get(c.u);
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    CHECK_INT(canto__watch_add(c.loop, sv[0], CANTO_IO_OUT, on_io, &c, &c.w), 0);
    CHECK_INT(canto__timer_start(c.loop, &c.t, canto_loop_now(c.loop) + 200, on_timer, &c), 0);
    c.free_adapter_in_cb = 1;
    CHECK(run_until(&uv, &guard, &c.io_calls, 2000));
    CHECK_INT(c.io_calls, 1);
    CHECK(c.u == NULL);
    uv_close((uv_handle_t *)&guard, NULL);
    CHECK_INT(uv_run(&uv, UV_RUN_DEFAULT), 0);
    CHECK_INT(c.timer_calls, 0);
    CHECK_INT(uv_loop_close(&uv), 0);
    close(sv[0]);
    close(sv[1]);
    return 0;
}

int main(void)
{
    RUN(test_uv_drives_canto);
    RUN(test_uv_free_in_callback);
    return CHECK_DONE();
}
