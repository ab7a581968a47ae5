/* Public fd watches (canto_loop_add_fd / modify / remove) on the built-in
 * loop, through the public API only: readiness of a pipe, level triggering,
 * removal from inside the callback, bad arguments, and watches left behind
 * when the loop is freed. */
#include "check.h"

#include <unistd.h>

#include <canto/canto.h>

struct seen {
    canto_loop *loop;
    unsigned id;
    int calls;
    unsigned events;
    int remove_self;
    char buf[16];
    size_t got;
};

static void on_fd(void *ud, canto_loop *loop, int fd, unsigned events)
{
    struct seen *s = ud;
    s->calls++;
    s->events = events;
    if (events & CANTO_IO_IN) {
        ssize_t n = read(fd, s->buf + s->got, 1); /* one byte per call: level-triggered */
        if (n > 0)
            s->got += (size_t)n;
    }
    if (s->remove_self)
        canto_loop_remove_fd(loop, s->id);
}

static int test_pipe(void)
{
    canto_loop *loop;
    CHECK_INT(canto_loop_new(NULL, &loop), 0);
    int p[2];
    CHECK_INT(pipe(p), 0);
    struct seen s = {0};
    s.loop = loop;
    CHECK_INT(canto_loop_add_fd(loop, p[0], CANTO_IO_IN, on_fd, &s, &s.id), 0);
    CHECK(s.id != 0);
    CHECK_INT(canto_loop_add_fd(loop, p[0], CANTO_IO_IN, on_fd, &s, NULL), CANTO_EINVAL);
    CHECK_INT(canto_loop_run_once(loop, 0), 0); /* nothing written yet */
    CHECK_INT(s.calls, 0);
    CHECK_INT((int)write(p[1], "abc", 3), 3);
    for (int i = 0; i < 3; i++)
        CHECK_INT(canto_loop_run_once(loop, 1000), 1);
    CHECK_INT(s.calls, 3);
    CHECK_INT((int)s.got, 3);
    CHECK(memcmp(s.buf, "abc", 3) == 0);
    CHECK_INT((int)s.events, CANTO_IO_IN);

    /* Interest 0 keeps the fd registered but quiet. */
    CHECK_INT((int)write(p[1], "d", 1), 1);
    CHECK_INT(canto_loop_modify_fd(loop, s.id, 0), 0);
    CHECK_INT(canto_loop_run_once(loop, 0), 0);
    CHECK_INT(s.calls, 3);
    CHECK_INT(canto_loop_modify_fd(loop, s.id, CANTO_IO_IN), 0);
    s.remove_self = 1;
    CHECK_INT(canto_loop_run_once(loop, 1000), 1);
    CHECK_INT(s.calls, 4);
    CHECK_INT(canto_loop_remove_fd(loop, s.id), CANTO_ENOTFOUND); /* already gone */
    CHECK_INT((int)write(p[1], "e", 1), 1);
    CHECK_INT(canto_loop_run_once(loop, 0), 0);
    CHECK_INT(s.calls, 4);

    /* Left behind on purpose: freeing the loop removes it without leaking. */
    CHECK_INT(canto_loop_add_fd(loop, p[1], CANTO_IO_OUT, on_fd, &s, NULL), 0);
    canto_loop_free(loop);
    close(p[0]);
    close(p[1]);
    return 0;
}

static int test_invalid(void)
{
    canto_loop *loop;
    CHECK_INT(canto_loop_new(NULL, &loop), 0);
    struct seen s = {0};
    CHECK_INT(canto_loop_add_fd(NULL, 0, CANTO_IO_IN, on_fd, &s, NULL), CANTO_EINVAL);
    CHECK_INT(canto_loop_add_fd(loop, -1, CANTO_IO_IN, on_fd, &s, NULL), CANTO_EINVAL);
    CHECK_INT(canto_loop_add_fd(loop, 0, CANTO_IO_IN, NULL, &s, NULL), CANTO_EINVAL);
    CHECK_INT(canto_loop_add_fd(loop, 0, 0x80, on_fd, &s, NULL), CANTO_EINVAL);
    CHECK_INT(canto_loop_modify_fd(loop, 12345, CANTO_IO_IN), CANTO_ENOTFOUND);
    CHECK_INT(canto_loop_remove_fd(loop, 12345), CANTO_ENOTFOUND);
    CHECK_INT(canto_loop_remove_fd(NULL, 1), CANTO_EINVAL);
    canto_loop_free(loop);
    return 0;
}

int main(void)
{
    RUN(test_pipe);
    RUN(test_invalid);
    return CHECK_DONE();
}
