/* faultproxy: a TCP proxy on 127.0.0.1 that injects network faults, for the
 * reliability tests.
 *
 *   faultproxy --target PORT [--listen PORT] [--seed N] [-v]
 *
 * Listens on 127.0.0.1 (port 0 or absent: any free port), prints
 * "listening PORT" on stdout once it accepts connections, and forwards every
 * connection it accepts to 127.0.0.1:TARGET. It forwards raw bytes, so it
 * knows nothing about TLS or XMPP: a cut at a byte offset lands wherever that
 * offset happens to be (inside a TLS record, in the middle of a stanza, during
 * negotiation).
 *
 * It is driven by lines on stdin; every command is answered with one line on
 * stdout that starts with "ok" (or "error ..."), so the caller knows it took
 * effect. End of stdin ends the proxy (and with it every connection), so a
 * test that dies leaves nothing running.
 *
 *   random EARLY_PCT EARLY_MAX MIN MAX
 *       From now on every connection gets a cut offset (those open now too,
 *       counted from what they forwarded so far): with EARLY_PCT percent
 *       probability uniform in [1, EARLY_MAX] (for a new connection, inside
 *       the negotiation), else uniform in [MIN, MAX]. Offsets count the bytes
 *       forwarded in both directions together; once a connection has
 *       forwarded exactly that many, both of its sides are closed. "random
 *       off" stops drawing offsets (connections keep the ones they have).
 *   stalls PCT MIN_MS MAX_MS
 *       Every connection (open ones too), with PCT percent probability,
 *       stalls once: at a random offset (before its cut offset, or within the
 *       next 64 KiB) one direction, chosen at random, stops for a random time
 *       in [MIN_MS, MAX_MS]. "stalls off" stops this.
 *   stall DIR MS
 *       Stop forwarding in direction DIR (c2s: client to server, s2c, both)
 *       on every connection, present and future, for MS milliseconds (0:
 *       until "unstall"). A stalled direction is not read at all, so the
 *       sender's socket buffers fill up as they would with a server that
 *       stops reading.
 *   unstall
 *       End every stall (global and per connection).
 *   cut
 *       Close every open connection now (both sides).
 *   refuse on|off
 *       While on, close new connections at once, without contacting the
 *       target (a server that is down, as seen from the client).
 *   stats
 *       Answer "ok conns=A cuts=B early=C cmdcuts=D stalls=E open=F
 *       refused=G peerclosed=H c2s=I s2c=J".
 *   quit
 *       Close everything and exit.
 *
 * When a peer closes its side (or fails), what it sent before is still
 * forwarded, then both sides are closed; data held back by a stall in that
 * direction is dropped instead (it was "in the network" when the path broke).
 *
 * The same seed gives the same sequence of offsets and stalls, connection by
 * connection in accept order.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define BUF_SIZE 16384

enum { C2S = 0, S2C = 1 };

typedef struct pending {
    char data[BUF_SIZE];
    size_t len, off;
} pending;

typedef struct conn {
    int used;
    unsigned id;
    int fd[2];      /* [0]: client side, [1]: server side */
    int connecting; /* the server side's connect is in progress */
    /* pend[C2S] holds bytes read from the client for the server, pend[S2C]
     * the other way. */
    pending pend[2];
    int eof[2];      /* side i closed (or failed) */
    uint64_t total;  /* bytes read from either side */
    uint64_t cut_at; /* 0: never */
    int early;       /* cut_at was drawn from the early range */
    /* One random stall: at offset stall_at, direction stall_dir, for
     * stall_ms; stall_until is its end once it began. */
    uint64_t stall_at;
    int stall_dir;
    uint32_t stall_ms;
    uint64_t stall_until;
    uint64_t bytes[2];
} conn;

static conn conns[MAX_CONNS];
static unsigned next_id = 1;
static int verbose;
static uint16_t target_port;

/* Settings. */
static int random_on;
static unsigned early_pct;
static uint64_t early_max, cut_min, cut_max;
static int stalls_on;
static unsigned stall_pct;
static uint32_t stall_min_ms, stall_max_ms;
static int refusing;
/* Global stalls: 0 none, UINT64_MAX until unstall, else the end time. */
static uint64_t global_stall[2];

/* Figures for "stats". */
static unsigned long n_conns, n_cuts, n_early, n_cmdcuts, n_stalls, n_refused, n_peerclosed;
static unsigned long long n_bytes[2];

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
    /* xorshift64*: small, fast, and the same everywhere for a given seed. */
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [lo, hi] (hi >= lo). */
static uint64_t rng_range(uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + rng_next() % (hi - lo + 1);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void logf_(const char *fmt, ...)
{
    if (!verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "faultproxy: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void reply(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void close_conn(conn *c, const char *why)
{
    logf_("conn %u closed (%s) after %" PRIu64 " bytes (c2s %" PRIu64 ", s2c %" PRIu64 ")", c->id,
          why, c->total, c->bytes[C2S], c->bytes[S2C]);
    /* What is still pending here is lost, as on a broken path. */
    for (int i = 0; i < 2; i++) {
        if (c->fd[i] >= 0)
            close(c->fd[i]);
        c->fd[i] = -1;
    }
    c->used = 0;
}

/* Is direction d of c stalled at time t? */
static int stalled(const conn *c, int d, uint64_t t)
{
    if (global_stall[d] && (global_stall[d] == UINT64_MAX || t < global_stall[d]))
        return 1;
    return c->stall_until && c->stall_dir == d && t < c->stall_until;
}

/* Give a connection its cut offset and stall, counted from the bytes it has
 * forwarded so far, unless it has them already. Draws happen in a fixed
 * order, so one seed gives one schedule. */
static void draw_faults(conn *c)
{
    if (random_on && !c->cut_at) {
        uint64_t pick = rng_range(1, 100);
        if (pick <= early_pct) {
            c->cut_at = c->total + rng_range(1, early_max);
            c->early = 1;
        } else {
            c->cut_at = c->total + rng_range(cut_min, cut_max);
        }
    }
    if (stalls_on && !c->stall_ms && rng_range(1, 100) <= stall_pct) {
        uint64_t span = c->cut_at ? c->cut_at - c->total : 65536;
        c->stall_at = c->total + rng_range(1, span > 1 ? span - 1 : 1);
        c->stall_dir = (int)(rng_next() & 1);
        c->stall_ms = (uint32_t)rng_range(stall_min_ms, stall_max_ms);
    }
}

/* New settings apply to the open connections too. */
static void draw_faults_all(void)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].used && !conns[i].connecting)
            draw_faults(&conns[i]);
}

static void new_conn(int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    n_conns++;
    if (refusing) {
        n_refused++;
        logf_("refused a connection");
        close(fd);
        return;
    }
    conn *c = NULL;
    for (int i = 0; i < MAX_CONNS; i++) {
        if (!conns[i].used) {
            c = &conns[i];
            break;
        }
    }
    if (!c) {
        close(fd);
        return;
    }
    memset(c, 0, sizeof(*c));
    c->used = 1;
    c->id = next_id++;
    c->fd[0] = fd;
    c->fd[1] = -1;
    draw_faults(c);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sfd < 0) {
        close_conn(c, "no socket");
        return;
    }
    setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(target_port);
    c->fd[1] = sfd;
    if (connect(sfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (errno != EINPROGRESS) {
            close_conn(c, "target refused");
            return;
        }
        c->connecting = 1;
    }
    logf_("conn %u accepted; cut at %" PRIu64 "%s; stall %s at %" PRIu64 " for %u ms", c->id,
          c->cut_at, c->early ? " (early)" : "", c->stall_ms ? (c->stall_dir ? "s2c" : "c2s") : "-",
          c->stall_at, c->stall_ms);
}

/* Write what is pending in direction d. 0, or -1 when the destination failed. */
static int flush_dir(conn *c, int d, uint64_t t)
{
    pending *p = &c->pend[d];
    int dst = c->fd[d ^ 1];
    while (p->off < p->len && !stalled(c, d, t)) {
        ssize_t w = send(dst, p->data + p->off, p->len - p->off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        p->off += (size_t)w;
        c->bytes[d] += (uint64_t)w;
        n_bytes[d] += (unsigned long long)w;
    }
    if (p->off >= p->len)
        p->off = p->len = 0;
    return 0;
}

/* Read from side d into pend[d], never past the cut offset. 0, or -1 when
 * the side is closed or failed. */
static int read_side(conn *c, int d)
{
    pending *p = &c->pend[d];
    if (p->len)
        return 0; /* forward what we have first */
    size_t room = sizeof(p->data);
    if (c->cut_at) {
        uint64_t left = c->cut_at - c->total;
        if (left < room)
            room = (size_t)left;
    }
    if (c->stall_ms && !c->stall_until && c->stall_at > c->total && c->stall_at - c->total < room)
        room = (size_t)(c->stall_at - c->total);
    if (room == 0)
        return 0;
    ssize_t r = recv(c->fd[d], p->data, room, 0);
    if (r < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    if (r == 0)
        return -1;
    p->len = (size_t)r;
    p->off = 0;
    c->total += (uint64_t)r;
    return 0;
}

static void cut_all(void)
{
    for (int i = 0; i < MAX_CONNS; i++) {
        if (conns[i].used) {
            n_cmdcuts++;
            close_conn(&conns[i], "cut by command");
        }
    }
}

static unsigned open_count(void)
{
    unsigned n = 0;
    for (int i = 0; i < MAX_CONNS; i++)
        n += conns[i].used ? 1u : 0u;
    return n;
}

static int parse_dir(const char *s)
{
    if (strcmp(s, "c2s") == 0)
        return 1;
    if (strcmp(s, "s2c") == 0)
        return 2;
    if (strcmp(s, "both") == 0)
        return 3;
    return 0;
}

/* One command line. Returns 1 to quit. */
static int command(char *line)
{
    char *argv[8];
    int argc = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok && argc < 8; tok = strtok(NULL, " \t\r\n"))
        argv[argc++] = tok;
    if (argc == 0)
        return 0;
    uint64_t t = now_ms();
    if (strcmp(argv[0], "random") == 0 && argc == 2 && strcmp(argv[1], "off") == 0) {
        random_on = 0;
        reply("ok");
    } else if (strcmp(argv[0], "random") == 0 && argc == 5) {
        early_pct = (unsigned)strtoul(argv[1], NULL, 10);
        early_max = strtoull(argv[2], NULL, 10);
        cut_min = strtoull(argv[3], NULL, 10);
        cut_max = strtoull(argv[4], NULL, 10);
        if (early_max < 1)
            early_max = 1;
        if (cut_min < 1)
            cut_min = 1;
        random_on = 1;
        draw_faults_all();
        reply("ok");
    } else if (strcmp(argv[0], "stalls") == 0 && argc == 2 && strcmp(argv[1], "off") == 0) {
        stalls_on = 0;
        reply("ok");
    } else if (strcmp(argv[0], "stalls") == 0 && argc == 4) {
        stall_pct = (unsigned)strtoul(argv[1], NULL, 10);
        stall_min_ms = (uint32_t)strtoul(argv[2], NULL, 10);
        stall_max_ms = (uint32_t)strtoul(argv[3], NULL, 10);
        stalls_on = 1;
        draw_faults_all();
        reply("ok");
    } else if (strcmp(argv[0], "stall") == 0 && argc == 3 && parse_dir(argv[1])) {
        int dirs = parse_dir(argv[1]);
        unsigned long ms = strtoul(argv[2], NULL, 10);
        for (int d = 0; d < 2; d++)
            if (dirs & (1 << d))
                global_stall[d] = ms ? t + ms : UINT64_MAX;
        logf_("stall %s for %lu ms", argv[1], ms);
        reply("ok");
    } else if (strcmp(argv[0], "unstall") == 0) {
        global_stall[0] = global_stall[1] = 0;
        for (int i = 0; i < MAX_CONNS; i++)
            if (conns[i].used && conns[i].stall_until > t)
                conns[i].stall_until = t;
        logf_("unstall");
        reply("ok");
    } else if (strcmp(argv[0], "cut") == 0) {
        unsigned n = open_count();
        cut_all();
        reply("ok cut %u", n);
    } else if (strcmp(argv[0], "refuse") == 0 && argc == 2) {
        refusing = strcmp(argv[1], "on") == 0;
        reply("ok");
    } else if (strcmp(argv[0], "stats") == 0) {
        reply("ok conns=%lu cuts=%lu early=%lu cmdcuts=%lu stalls=%lu open=%u refused=%lu "
              "peerclosed=%lu c2s=%llu s2c=%llu",
              n_conns, n_cuts, n_early, n_cmdcuts, n_stalls, open_count(), n_refused, n_peerclosed,
              n_bytes[C2S], n_bytes[S2C]);
    } else if (strcmp(argv[0], "quit") == 0) {
        reply("ok");
        return 1;
    } else {
        reply("error unknown command");
    }
    return 0;
}

/* Read stdin; run complete lines. Returns 1 to quit (quit, or end of input). */
static int read_commands(void)
{
    static char buf[4096];
    static size_t len;
    ssize_t r = read(STDIN_FILENO, buf + len, sizeof(buf) - 1 - len);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : 1;
    if (r == 0)
        return 1;
    len += (size_t)r;
    for (;;) {
        char *nl = memchr(buf, '\n', len);
        if (!nl) {
            if (len == sizeof(buf) - 1)
                len = 0; /* an absurd line: drop it */
            return 0;
        }
        *nl = '\0';
        int quit = command(buf);
        size_t used = (size_t)(nl + 1 - buf);
        memmove(buf, nl + 1, len - used);
        len -= used;
        if (quit)
            return 1;
    }
}

/* Start the connection's own stall once its offset is reached. */
static void maybe_begin_stall(conn *c, uint64_t t)
{
    if (c->stall_ms && !c->stall_until && c->total >= c->stall_at) {
        c->stall_until = t + c->stall_ms;
        n_stalls++;
        logf_("conn %u: stall %s for %u ms at %" PRIu64, c->id, c->stall_dir ? "s2c" : "c2s",
              c->stall_ms, c->total);
    }
}

/* After I/O: the cut offset reached and everything up to it written? */
static int cut_due(conn *c)
{
    if (!c->cut_at || c->total < c->cut_at)
        return 0;
    for (int d = 0; d < 2; d++)
        if (c->pend[d].len > c->pend[d].off)
            return 0;
    return 1;
}

static void service(conn *c, const struct pollfd *pf, uint64_t t)
{
    if (c->connecting) {
        if (pf[0].revents & (POLLHUP | POLLERR)) {
            n_peerclosed++;
            close_conn(c, "client gone while connecting");
            return;
        }
        if (!pf[1].revents)
            return;
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            close_conn(c, "target refused");
            return;
        }
        c->connecting = 0;
        logf_("conn %u: target connected", c->id);
    }
    for (int side = 0; side < 2 && c->used; side++) {
        short re = pf[side].revents;
        if (!re)
            continue;
        if (re & POLLOUT) {
            if (flush_dir(c, side ^ 1, t) < 0) {
                n_peerclosed++;
                close_conn(c, side ? "server write failed" : "client write failed");
                return;
            }
        }
        if (re & (POLLIN | POLLHUP | POLLERR | POLLRDHUP)) {
            if (stalled(c, side, t)) {
                /* Not reading; only notice that the peer went away. What
                 * the stall holds back is lost with the path. */
                if (re & (POLLHUP | POLLERR | POLLRDHUP)) {
                    n_peerclosed++;
                    close_conn(c, side ? "server gone while stalled" : "client gone while stalled");
                    return;
                }
                continue;
            }
            if (read_side(c, side) < 0)
                c->eof[side] = 1;
            maybe_begin_stall(c, t);
            if (flush_dir(c, side, t) < 0) {
                n_peerclosed++;
                close_conn(c, "write failed");
                return;
            }
        }
    }
    if (!c->used)
        return;
    maybe_begin_stall(c, t);
    if (cut_due(c)) {
        n_cuts++;
        if (c->early)
            n_early++;
        close_conn(c, "cut");
        return;
    }
    for (int side = 0; side < 2; side++) {
        pending *p = &c->pend[side];
        if (c->eof[side] && (p->len == p->off || stalled(c, side, t))) {
            n_peerclosed++;
            close_conn(c, side ? "server closed" : "client closed");
            return;
        }
    }
}

int main(int argc, char **argv)
{
    unsigned listen_port = 0;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0 && i + 1 < argc)
            target_port = (uint16_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen_port = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else {
            fprintf(stderr, "usage: faultproxy --target PORT [--listen PORT] [--seed N] [-v]\n");
            return 2;
        }
    }
    if (!target_port) {
        fprintf(stderr, "faultproxy: --target is required\n");
        return 2;
    }
    /* A zero state would stay zero; mix the seed so small seeds differ. */
    rng_state ^= seed * 0xbf58476d1ce4e5b9ull;
    if (!rng_state)
        rng_state = 1;
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)listen_port);
    socklen_t salen = sizeof(sa);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
        perror("faultproxy: listen");
        return 1;
    }
    for (int i = 0; i < MAX_CONNS; i++)
        conns[i].fd[0] = conns[i].fd[1] = -1;
    reply("listening %u", (unsigned)ntohs(sa.sin_port));

    static struct pollfd pfds[2 + 2 * MAX_CONNS];
    static int owner[2 + 2 * MAX_CONNS];
    for (;;) {
        uint64_t t = now_ms();
        int n = 0;
        pfds[n++] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
        pfds[n++] = (struct pollfd){lfd, POLLIN, 0};
        int timeout = -1;
        for (int i = 0; i < 2; i++) {
            if (global_stall[i] && global_stall[i] != UINT64_MAX) {
                if (global_stall[i] <= t)
                    global_stall[i] = 0;
                else if (timeout < 0 || global_stall[i] - t < (uint64_t)timeout)
                    timeout = (int)(global_stall[i] - t);
            }
        }
        for (int i = 0; i < MAX_CONNS; i++) {
            conn *c = &conns[i];
            if (!c->used)
                continue;
            if (c->stall_until > t && (timeout < 0 || c->stall_until - t < (uint64_t)timeout))
                timeout = (int)(c->stall_until - t);
            for (int side = 0; side < 2; side++) {
                short ev = 0;
                if (c->connecting) {
                    ev = side == 1 ? POLLOUT : 0;
                } else {
                    /* Read side when its data can move on; write side when
                     * data for it waits. A stalled direction is not read,
                     * but a peer hang-up is still noticed. */
                    if (stalled(c, side, t))
                        ev |= POLLRDHUP;
                    else if (!c->eof[side] && c->pend[side].len == 0 &&
                             (!c->cut_at || c->total < c->cut_at))
                        ev |= POLLIN | POLLRDHUP;
                    pending *in = &c->pend[side ^ 1];
                    if (in->len > in->off && !stalled(c, side ^ 1, t))
                        ev |= POLLOUT;
                }
                owner[n] = i;
                pfds[n++] = (struct pollfd){c->fd[side], ev, 0};
            }
        }
        if (timeout >= 0)
            timeout += 1;
        int r = poll(pfds, (nfds_t)n, timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            perror("faultproxy: poll");
            return 1;
        }
        t = now_ms();
        if (pfds[0].revents && read_commands())
            break;
        for (int k = 2; k < n; k += 2) {
            conn *c = &conns[owner[k]];
            if (c->used)
                service(c, &pfds[k], t);
        }
        /* Stalls that ended: push out what they held back. */
        for (int i = 0; i < MAX_CONNS; i++) {
            conn *c = &conns[i];
            if (!c->used || c->connecting)
                continue;
            for (int d = 0; d < 2 && c->used; d++) {
                if (c->pend[d].len > c->pend[d].off && !stalled(c, d, t) && flush_dir(c, d, t) < 0)
                    close_conn(c, "write failed");
            }
            if (c->used && cut_due(c)) {
                n_cuts++;
                if (c->early)
                    n_early++;
                close_conn(c, "cut");
            }
        }
        if (pfds[1].revents & POLLIN)
            new_conn(lfd);
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].used)
            close_conn(&conns[i], "exit");
    close(lfd);
    return 0;
}
