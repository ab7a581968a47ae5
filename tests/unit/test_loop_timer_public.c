/* Public one-shot timers (canto_loop_add_timer / canto_loop_cancel_timer) on
 * a fake clock, through the public API only: deadlines, order, cancelling
 * (also from callbacks), ids, teardown with timers pending, and an external
 * loop's set_timer hook. */
#include "check.h"

#include <stdint.h>

#include <canto/canto.h>

static uint64_t fake_clock(void *ud)
{
    return *(const uint64_t *)ud;
}

static canto_loop *fake_loop(uint64_t *now)
{
    canto_loop_options o = CANTO_LOOP_OPTIONS_INIT;
    o.now_ms = fake_clock;
    o.clock_user_data = now;
    canto_loop *loop = NULL;
    return canto_loop_new(&o, &loop) == 0 ? loop : NULL;
}

/* What fired, in order. */
struct rec {
    canto_loop *loop;
    unsigned ids[16];
    int tags[16];
    int n;
    unsigned cancel_id;   /* cancel this timer from the next callback */
    int cancel_rc;        /* what that cancel returned */
    int add_delay;        /* >= 0: add a timer with this delay from the next callback */
    unsigned added_id;    /* the id it got */
    int free_loop;        /* free the loop from the next callback */
    unsigned self_cancel; /* cancelling the firing timer itself from its callback */
};

struct tagged {
    struct rec *r;
    int tag;
};

static void on_timer(void *ud, canto_loop *loop, unsigned id)
{
    struct tagged *t = ud;
    struct rec *r = t->r;
    if (r->n < 16) {
        r->ids[r->n] = id;
        r->tags[r->n] = t->tag;
    }
    r->n++;
    CHECK(loop == r->loop);
    r->self_cancel = (unsigned)-canto_loop_cancel_timer(loop, id);
    if (r->cancel_id) {
        r->cancel_rc = canto_loop_cancel_timer(loop, r->cancel_id);
        r->cancel_id = 0;
    }
    if (r->add_delay >= 0) {
        static struct tagged added;
        added.r = r;
        added.tag = 99;
        CHECK_INT(
            canto_loop_add_timer(loop, (uint32_t)r->add_delay, on_timer, &added, &r->added_id), 0);
        r->add_delay = -1;
    }
    if (r->free_loop) {
        r->free_loop = 0;
        canto_loop_free(loop);
    }
}

static int test_fires_at_deadline(void)
{
    uint64_t now = 1000;
    canto_loop *loop = fake_loop(&now);
    REQUIRE(loop);
    struct rec r = {.loop = loop, .add_delay = -1};
    struct tagged t = {&r, 1};
    unsigned id = 0;
    CHECK_INT(canto_loop_add_timer(loop, 100, on_timer, &t, &id), 0);
    CHECK(id != 0);
    now = 1099;
    CHECK_INT(canto_loop_run_once(loop, 0), 0);
    CHECK_INT(r.n, 0);
    now = 1100;
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(r.n, 1);
    CHECK_INT(r.ids[0], id);
    /* Gone before its callback ran: cancelling itself found nothing. */
    CHECK_INT(r.self_cancel, (unsigned)-CANTO_ENOTFOUND);
    /* One-shot. */
    now = 5000;
    CHECK_INT(canto_loop_run_once(loop, 0), 0);
    CHECK_INT(r.n, 1);
    CHECK_INT(canto_loop_cancel_timer(loop, id), CANTO_ENOTFOUND);
    canto_loop_free(loop);
    return 0;
}

static int test_order_and_ids(void)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(&now);
    REQUIRE(loop);
    struct rec r = {.loop = loop, .add_delay = -1};
    struct tagged t[3] = {{&r, 0}, {&r, 1}, {&r, 2}};
    unsigned id[3];
    CHECK_INT(canto_loop_add_timer(loop, 30, on_timer, &t[0], &id[0]), 0);
    CHECK_INT(canto_loop_add_timer(loop, 10, on_timer, &t[1], &id[1]), 0);
    CHECK_INT(canto_loop_add_timer(loop, 20, on_timer, &t[2], NULL), 0);
    CHECK(id[0] != id[1] && id[0] != 0 && id[1] != 0);
    now = 100;
    CHECK_INT(canto_loop_run_once(loop, 0), 3);
    CHECK_INT(r.n, 3);
    CHECK_INT(r.tags[0], 1);
    CHECK_INT(r.tags[1], 2);
    CHECK_INT(r.tags[2], 0);
    CHECK_INT(r.ids[0], id[1]);
    CHECK_INT(r.ids[2], id[0]);
    canto_loop_free(loop);
    return 0;
}

static int test_cancel(void)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(&now);
    REQUIRE(loop);
    struct rec r = {.loop = loop, .add_delay = -1};
    struct tagged a = {&r, 1}, b = {&r, 2};
    unsigned ia, ib;
    CHECK_INT(canto_loop_add_timer(loop, 10, on_timer, &a, &ia), 0);
    CHECK_INT(canto_loop_add_timer(loop, 10, on_timer, &b, &ib), 0);
    CHECK_INT(canto_loop_cancel_timer(loop, ia), 0);
    CHECK_INT(canto_loop_cancel_timer(loop, ia), CANTO_ENOTFOUND);
    CHECK_INT(canto_loop_cancel_timer(loop, 0), CANTO_ENOTFOUND);
    CHECK_INT(canto_loop_cancel_timer(loop, ib + 1000), CANTO_ENOTFOUND);
    now = 10;
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(r.n, 1);
    CHECK_INT(r.tags[0], 2);
    /* Nothing left: run_once without a limit returns at once. */
    CHECK_INT(canto_loop_run_once(loop, -1), 0);
    canto_loop_free(loop);
    return 0;
}

/* Two timers due in the same round: the first cancels the second. */
static int test_cancel_from_callback(void)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(&now);
    REQUIRE(loop);
    struct rec r = {.loop = loop, .add_delay = -1};
    struct tagged a = {&r, 1}, b = {&r, 2};
    unsigned ib;
    CHECK_INT(canto_loop_add_timer(loop, 5, on_timer, &a, NULL), 0);
    CHECK_INT(canto_loop_add_timer(loop, 6, on_timer, &b, &ib), 0);
    r.cancel_id = ib;
    now = 50;
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(r.n, 1);
    CHECK_INT(r.tags[0], 1);
    CHECK_INT(r.cancel_rc, 0);
    CHECK_INT(canto_loop_run_once(loop, 0), 0);
    CHECK_INT(r.n, 1);
    canto_loop_free(loop);
    return 0;
}

/* A timer added from a callback with delay 0 waits for the next round. */
static int test_add_from_callback(void)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(&now);
    REQUIRE(loop);
    struct rec r = {.loop = loop, .add_delay = 0};
    struct tagged a = {&r, 1};
    CHECK_INT(canto_loop_add_timer(loop, 0, on_timer, &a, NULL), 0);
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(r.n, 1);
    CHECK(r.added_id != 0);
    CHECK_INT(canto_loop_run_once(loop, 0), 1);
    CHECK_INT(r.n, 2);
    CHECK_INT(r.tags[1], 99);
    CHECK_INT(r.ids[1], r.added_id);
    canto_loop_free(loop);
    return 0;
}

static int test_invalid(void)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(&now);
    REQUIRE(loop);
    unsigned id = 7;
    CHECK_INT(canto_loop_add_timer(NULL, 1, on_timer, NULL, &id), CANTO_EINVAL);
    CHECK_INT(canto_loop_add_timer(loop, 1, NULL, NULL, &id), CANTO_EINVAL);
    CHECK_INT(id, 7);
    CHECK_INT(canto_loop_cancel_timer(NULL, 1), CANTO_EINVAL);
    canto_loop_free(loop);
    return 0;
}

/* Freed with timers pending: no callback, nothing leaked (valgrind). */
static int test_free_with_pending(void)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(&now);
    REQUIRE(loop);
    struct rec r = {.loop = loop, .add_delay = -1};
    struct tagged a = {&r, 1};
    CHECK_INT(canto_loop_add_timer(loop, 10, on_timer, &a, NULL), 0);
    CHECK_INT(canto_loop_add_timer(loop, 20, on_timer, &a, NULL), 0);
    canto_loop_free(loop);
    CHECK_INT(r.n, 0);
    return 0;
}

/* The loop freed from a timer's callback, with another timer due. */
static int test_free_in_callback(void)
{
    uint64_t now = 0;
    canto_loop *loop = fake_loop(&now);
    REQUIRE(loop);
    struct rec r = {.loop = loop, .add_delay = -1, .free_loop = 1};
    struct tagged a = {&r, 1}, b = {&r, 2};
    CHECK_INT(canto_loop_add_timer(loop, 1, on_timer, &a, NULL), 0);
    CHECK_INT(canto_loop_add_timer(loop, 2, on_timer, &b, NULL), 0);
    now = 10;
    canto_loop_run_once(loop, 0); /* the loop is gone afterwards */
    CHECK_INT(r.n, 1);
    return 0;
}

/* External loop: the hook hears the timer's deadline, expiry fires it. */
struct hooks_rec {
    long last_timeout;
    int calls;
};

static int ext_watch(void *ud, int fd, unsigned events)
{
    (void)ud;
    (void)fd;
    (void)events;
    return 0;
}

static int ext_set_timer(void *ud, long timeout_ms)
{
    struct hooks_rec *h = ud;
    h->last_timeout = timeout_ms;
    h->calls++;
    return 0;
}

static int test_external(void)
{
    uint64_t now = 100;
    struct hooks_rec h = {-2, 0};
    canto_loop_hooks hooks = CANTO_LOOP_HOOKS_INIT;
    hooks.watch_fd = ext_watch;
    hooks.set_timer = ext_set_timer;
    hooks.user_data = &h;
    canto_loop_options o = CANTO_LOOP_OPTIONS_INIT;
    o.now_ms = fake_clock;
    o.clock_user_data = &now;
    canto_loop *loop = NULL;
    REQUIRE(canto_loop_new_external(&hooks, &o, &loop) == 0);
    struct rec r = {.loop = loop, .add_delay = -1};
    struct tagged a = {&r, 1};
    unsigned id;
    CHECK_INT(canto_loop_add_timer(loop, 250, on_timer, &a, &id), 0);
    CHECK_INT(h.last_timeout, 250);
    now = 350;
    CHECK_INT(canto_loop_timer_expired(loop), 0);
    CHECK_INT(r.n, 1);
    /* The hook's timer is one-shot and spent: nothing more to tell it. */
    CHECK_INT(h.calls, 1);
    /* Cancelling tells the hook too. */
    CHECK_INT(canto_loop_add_timer(loop, 40, on_timer, &a, &id), 0);
    CHECK_INT(h.last_timeout, 40);
    CHECK_INT(canto_loop_cancel_timer(loop, id), 0);
    CHECK_INT(h.last_timeout, -1);
    canto_loop_free(loop);
    return 0;
}

int main(void)
{
    RUN(test_fires_at_deadline);
    RUN(test_order_and_ids);
    RUN(test_cancel);
    RUN(test_cancel_from_callback);
    RUN(test_add_from_callback);
    RUN(test_invalid);
    RUN(test_free_with_pending);
    RUN(test_free_in_callback);
    RUN(test_external);
    return CHECK_DONE();
}
