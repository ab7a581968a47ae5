/* canto/adapters/glib.h: a real GLib main context drives a Canto external
 * loop. Watches and timers are created through the internal interface, as the
 * resolver, TLS and client layers do. */
#include "check.h"

#include <sys/socket.h>
#include <unistd.h>

#include <canto/adapters/glib.h>
#include "loop/loop.h"

struct ctx {
    canto_loop *loop;
    canto_glib_loop *g;
    canto__watch *w;
    canto__timer t;
    int fd;
    int io_calls, timer_calls;
    unsigned events;
    char got[16];
    int remove_in_cb;
    int rearm_left;
    int free_adapter_in_cb;
};

static gboolean on_guard(gpointer ud)
{
    *(int *)ud = 1;
    return G_SOURCE_REMOVE;
}

/* Iterate @p gctx until *flag becomes non-zero or @p limit_ms pass. */
static int run_until(GMainContext *gctx, const int *flag, unsigned limit_ms)
{
    int timed_out = 0;
    GSource *guard = g_timeout_source_new(limit_ms);
    g_source_set_callback(guard, on_guard, &timed_out, NULL);
    g_source_attach(guard, gctx);
    while (!*flag && !timed_out)
        g_main_context_iteration(gctx, TRUE);
    g_source_destroy(guard);
    g_source_unref(guard);
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
        canto_glib_loop_free(c->g);
        c->g = NULL;
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

static int test_glib_drives_canto(void)
{
    GMainContext *gctx = g_main_context_new();
    struct ctx c;
    memset(&c, 0, sizeof(c));
    canto_glib_loop *bad = (canto_glib_loop *)&c;
    CHECK_INT(canto_glib_loop_new(gctx, NULL, NULL), CANTO_EINVAL);
    canto_loop_options bad_opts = CANTO_LOOP_OPTIONS_INIT;
    bad_opts.version = 42;
    CHECK_INT(canto_glib_loop_new(gctx, &bad_opts, &bad), CANTO_EINVAL);
    CHECK(bad == NULL);
    CHECK(canto_glib_loop_get(NULL) == NULL);
    canto_glib_loop_free(NULL);

    REQUIRE(canto_glib_loop_new(gctx, NULL, &c.g) == 0);
    c.loop = canto_glib_loop_get(c.g);
    REQUIRE(c.loop != NULL);
    CHECK_INT(canto_loop_run(c.loop), CANTO_ESTATE); /* GLib waits, not Canto */

    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    c.fd = sv[0];

    /* A watch receives data. */
    CHECK_INT(canto__watch_add(c.loop, sv[0], CANTO_IO_IN, on_io, &c, &c.w), 0);
    CHECK_INT(c.g->nfds, 1);
    CHECK(!g_main_context_iteration(gctx, FALSE)); /* nothing to read yet */
    CHECK_INT(write(sv[1], "hello", 5), 5);
    CHECK(run_until(gctx, &c.io_calls, 2000));
    CHECK_INT(c.io_calls, 1);
    CHECK_INT(c.events, CANTO_IO_IN);
    CHECK_STR(c.got, "hello");

    /* Interest changes reach GLib. */
    CHECK_INT(canto__watch_set(c.w, CANTO_IO_OUT), 0);
    c.io_calls = 0;
    CHECK(run_until(gctx, &c.io_calls, 2000));
    CHECK_INT(c.events, CANTO_IO_OUT);

    /* No interest: even a hung-up peer does not wake the context. */
    CHECK_INT(canto__watch_set(c.w, 0), 0);
    int peer = sv[1];
    sv[1] = -1;
    close(peer);
    c.io_calls = 0;
    CHECK(!g_main_context_iteration(gctx, FALSE));
    CHECK_INT(c.io_calls, 0);

    /* Hang-up with interest in IN: reported as IN|ERR. */
    CHECK_INT(canto__watch_set(c.w, CANTO_IO_IN), 0);
    CHECK(run_until(gctx, &c.io_calls, 2000));
    CHECK_INT(c.events, CANTO_IO_IN | CANTO_IO_ERR);

    /* Removal from inside the callback: GLib stops polling the fd. */
    c.io_calls = 0;
    c.remove_in_cb = 1;
    CHECK(run_until(gctx, &c.io_calls, 2000));
    CHECK(c.w == NULL);
    CHECK_INT(c.g->nfds, 0);
    int never = 0;
    CHECK(!run_until(gctx, &never, 50));
    CHECK_INT(c.io_calls, 1);
    close(sv[0]);

    /* A timer fires after its delay. */
    gint64 start = g_get_monotonic_time();
    CHECK_INT(canto__timer_start(c.loop, &c.t, canto_loop_now(c.loop) + 30, on_timer, &c), 0);
    CHECK(run_until(gctx, &c.timer_calls, 2000));
    CHECK(g_get_monotonic_time() - start >= 29000);
    CHECK_INT(g_source_get_ready_time(&c.g->base), -1); /* nothing armed any more */

    /* A timer re-armed for "now" from its callback runs once per iteration,
     * scheduled by GLib (never re-entered from inside the hook), and leaves
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
        CHECK(g_main_context_iteration(gctx, FALSE));
        CHECK_INT(c.timer_calls, i);
        CHECK_INT(c.io_calls, i);
    }
    canto__watch_remove(c.w);
    c.w = NULL;
    close(sw[0]);
    close(sw[1]);
    CHECK(!g_main_context_iteration(gctx, FALSE));
    CHECK_INT(c.timer_calls, 4);

    /* A stopped timer does not fire. */
    CHECK_INT(canto__timer_start(c.loop, &c.t, canto_loop_now(c.loop) + 10, on_timer, &c), 0);
    canto__timer_stop(&c.t);
    CHECK(!run_until(gctx, &never, 50));
    CHECK_INT(c.timer_calls, 4);

    canto_glib_loop_free(c.g);
    g_main_context_unref(gctx);
    return 0;
}

static int test_glib_free_in_callback(void)
{
    GMainContext *gctx = g_main_context_new();
    struct ctx c;
    memset(&c, 0, sizeof(c));
    REQUIRE(canto_glib_loop_new(gctx, NULL, &c.g) == 0);
    c.loop = canto_glib_loop_get(c.g);
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    CHECK_INT(canto__watch_add(c.loop, sv[0], CANTO_IO_OUT, on_io, &c, &c.w), 0);
    CHECK_INT(canto__timer_start(c.loop, &c.t, canto_loop_now(c.loop), on_timer, &c), 0);
    c.free_adapter_in_cb = 1;
    CHECK(run_until(gctx, &c.io_calls, 2000));
    CHECK_INT(c.io_calls, 1);
    CHECK(c.g == NULL);
    /* The adapter's source is gone from the context: nothing runs any more. */
    CHECK(!g_main_context_iteration(gctx, FALSE));
    CHECK_INT(c.timer_calls, 0);
    g_main_context_unref(gctx);
    close(sv[0]);
    close(sv[1]);
    return 0;
}

int main(void)
{
    RUN(test_glib_drives_canto);
    RUN(test_glib_free_in_callback);
    return CHECK_DONE();
}
