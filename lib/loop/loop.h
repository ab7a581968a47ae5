/* What the loop offers the layers above it (resolver, connections, clients,
 * mDNS): fd watches and timers, both mode-independent. The built-in and external
 * modes differ only in who waits; everything here behaves the same in both. */
#ifndef CANTO_LOOP_LOOP_H
#define CANTO_LOOP_LOOP_H

#include <stdint.h>

#include <canto/loop.h>
#include "base/alloc.h"
#include "base/log.h"

/* Called with the ready events (CANTO_IO_IN / OUT / ERR). The callback may
 * change or remove any watch or timer, including its own, and may free the
 * object that owns them. */
typedef void (*canto__io_fn)(void *ud, int fd, unsigned events);
typedef void (*canto__timer_fn)(void *ud);

typedef struct canto__watch canto__watch;

/* A timer embedded in its owner (no allocation). Zero-initialize, then start. */
typedef struct canto__timer {
    canto_loop *loop;
    uint64_t deadline; /* loop clock, ms */
    canto__timer_fn fn;
    void *ud;
    size_t heap_pos; /* loop-private: 1-based heap position, or a slot in the list
                        of timers due this round; 0: not armed (canto__timer_armed) */
} canto__timer;

/* Watch @p fd for @p events (CANTO_IO_IN | CANTO_IO_OUT, possibly 0). One watch
 * per fd. Returns 0, CANTO_ENOMEM, CANTO_EIO (the loop refused the fd) or
 * CANTO_EINVAL (fd already watched). */
int canto__watch_add(canto_loop *loop, int fd, unsigned events, canto__io_fn fn, void *ud,
                     canto__watch **out);
int canto__watch_set(canto__watch *w, unsigned events);
/* Stop watching and free @p w (NULL allowed). The fd itself is not closed:
 * remove the watch before closing it (epoll follows the open file, not the fd
 * number). A callback already collected for this fd in the current dispatch is
 * dropped. A watch with interest 0 gets no callback at all, not even errors. */
void canto__watch_remove(canto__watch *w);

/* Arm (or re-arm) @p t to fire once at loop time @p deadline_ms. */
int canto__timer_start(canto_loop *loop, canto__timer *t, uint64_t deadline_ms, canto__timer_fn fn,
                       void *ud);
void canto__timer_stop(canto__timer *t);
int canto__timer_armed(const canto__timer *t);

/* One object per key shared by everything on a loop (e.g. the TLS priority
 * cache and credentials of all clients on it), freed with the loop by
 * @p free_fn. Attaching under a key that is taken returns CANTO_EINVAL. */
int canto__loop_attach(canto_loop *loop, const void *key, void *obj, void (*free_fn)(void *obj));
void *canto__loop_attached(const canto_loop *loop, const void *key);

const canto__alloc *canto__loop_alloc(const canto_loop *loop);
const canto__log *canto__loop_log(const canto_loop *loop);

#endif
