/* idle_bench: memory held by idle, logged-in TLS connections.
 *
 * Opens N client connections (default 1000) on one built-in loop to a local
 * Prosody, waits until every one is CONNECTED and the loop is quiet, and
 * prints what each connection costs:
 *
 *   total   growth of the resident set (VmRSS) / N
 *   canto   heap held through the canto_allocator given to the clients / N
 *   other   growth of the malloc heap (mallinfo2) minus Canto's share / N:
 *           GnuTLS, libgsasl, libc, and libxml2 (also shown on its own,
 *           counted through xmlMemSetup)
 *
 * Heap figures are chunk footprints (usable size + malloc's 8-byte header),
 * so the parts add up to the heap growth. The baseline is taken after one
 * warm-up connection has come and gone, so one-time initialization (libxml2,
 * GnuTLS, the interned-name table) is not counted.
 *
 * Usage: idle_bench [N] [-c CONCURRENT] [-i IDLE_MS] [--system-trust] [--strict]
 *   N             connections (default 1000)
 *   -c            at most this many connections negotiating at once (50)
 *   -i            how long to stay idle before measuring (1000 ms)
 *   --system-trust  also load the system trust store for each handshake
 *                 (default: trust only the test CA, as a bot with a pinned
 *                 CA would)
 *   --strict      exit 3 if the total is above the target (40 KB)
 *
 * Prosody is started with tests/servers/prosody.sh in a temporary directory
 * (with CANTO_PROSODY_EXTRA_USERS=N: accounts bench0..), unless
 * CANTO_BENCH_PROSODY_ENV names the env file of an instance already started
 * that way with at least N extra users.
 *
 * Exit: 0 all connected (figures printed), 1 a connection failed or timed
 * out, 2 usage or set-up error, 3 over target with --strict, 77 Prosody is
 * not installed. */
#include <errno.h>
#include <malloc.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlmemory.h>

#include <canto/canto.h>

#ifndef CANTO_SERVERS_DIR
#error "CANTO_SERVERS_DIR must name tests/servers"
#endif

#define TARGET_KB 40.0
#define CONNECT_TIMEOUT_MS 120000

extern char **environ;

/* ------------------------------------------------------------------------ */
/* Counting allocators: Canto's (through canto_allocator) and libxml2's */

typedef struct counter {
    size_t live; /* chunk footprint of the blocks currently allocated */
    size_t peak;
} counter;

static counter canto_mem, xml_mem;

/* What a block really occupies in glibc's heap. */
static size_t footprint(void *p)
{
    return p ? malloc_usable_size(p) + sizeof(size_t) : 0;
}

static void count_add(counter *c, void *p)
{
    c->live += footprint(p);
    if (c->live > c->peak)
        c->peak = c->live;
}

static void count_sub(counter *c, void *p)
{
    size_t n = footprint(p);
    c->live = n > c->live ? 0 : c->live - n;
}

static void *canto_count_alloc(void *ud, size_t size)
{
    void *p = malloc(size);
    count_add(ud, p);
    return p;
}

static void *canto_count_realloc(void *ud, void *ptr, size_t size)
{
    size_t old = footprint(ptr);
    void *p = realloc(ptr, size);
    if (p) {
        counter *c = ud;
        c->live -= old;
        count_add(c, p);
    }
    return p;
}

static void canto_count_free(void *ud, void *ptr)
{
    count_sub(ud, ptr);
    free(ptr);
}

/* libxml2 allocates before and outside Canto's objects; a block allocated
 * before xmlMemSetup and freed afterwards only makes the count a little low. */
static void *xml_count_malloc(size_t size)
{
    void *p = malloc(size);
    count_add(&xml_mem, p);
    return p;
}

static void *xml_count_realloc(void *ptr, size_t size)
{
    size_t old = footprint(ptr);
    void *p = realloc(ptr, size);
    if (p) {
        xml_mem.live = old > xml_mem.live ? 0 : xml_mem.live - old;
        count_add(&xml_mem, p);
    }
    return p;
}

static void xml_count_free(void *ptr)
{
    count_sub(&xml_mem, ptr);
    free(ptr);
}

static char *xml_count_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xml_count_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* ------------------------------------------------------------------------ */
/* Measurements */

typedef struct sample {
    long rss_kb;
    size_t heap;  /* malloc: bytes in use, arenas + mmapped blocks */
    size_t canto; /* through the canto_allocator */
    size_t xml;   /* through libxml2's allocator */
} sample;

static long vm_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static sample take_sample(void)
{
    struct mallinfo2 mi = mallinfo2();
    sample s = {vm_rss_kb(), mi.uordblks + mi.hblkhd, canto_mem.live, xml_mem.live};
    return s;
}

static double per_conn_kb(double bytes, unsigned n)
{
    return bytes / 1024.0 / (double)n;
}

/* ------------------------------------------------------------------------ */
/* The server */

static char dir[64];
static int own_server; /* started here, so stopped here */
static char env_text[8192];

static int run_script(const char *verb)
{
    char *argv[] = {"bash", CANTO_SERVERS_DIR "/prosody.sh", (char *)verb, dir, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "bash", NULL, NULL, argv, environ) != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *env_get(const char *key, char *value, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *line = env_text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > klen && memcmp(line, key, klen) == 0 && line[klen] == '=') {
            snprintf(value, cap, "%.*s", (int)(len - klen - 1), line + klen + 1);
            return value;
        }
        line += len + (end ? 1 : 0);
    }
    return NULL;
}

static int load_env(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(env_text, 1, sizeof(env_text) - 1, f);
    env_text[n] = '\0';
    fclose(f);
    return 0;
}

static void remove_dir(void)
{
    char *argv[] = {"rm", "-rf", dir, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) == 0)
        waitpid(pid, NULL, 0);
}

/* 0, 77 (not installed), or -1. */
static int start_server(unsigned n, const char *given_env)
{
    char path[128];
    if (given_env) {
        snprintf(path, sizeof(path), "%s", given_env);
    } else {
        snprintf(dir, sizeof(dir), "/tmp/canto-idle-bench.XXXXXX");
        if (!mkdtemp(dir))
            return -1;
        char count[16];
        snprintf(count, sizeof(count), "%u", n);
        setenv("CANTO_PROSODY_EXTRA_USERS", count, 1);
        int rc = run_script("start");
        unsetenv("CANTO_PROSODY_EXTRA_USERS");
        if (rc == 77) {
            rmdir(dir);
            return 77;
        }
        own_server = 1;
        if (rc != 0) {
            fprintf(stderr, "idle_bench: prosody.sh start failed (%d); see %s\n", rc, dir);
            return -1;
        }
        snprintf(path, sizeof(path), "%s/env", dir);
    }
    if (load_env(path) != 0) {
        fprintf(stderr, "idle_bench: cannot read %s\n", path);
        return -1;
    }
    char v[32];
    unsigned have = env_get("CANTO_PROSODY_EXTRA_USERS", v, sizeof(v)) ? (unsigned)atoi(v) : 0;
    if (have < n) {
        fprintf(stderr,
                "idle_bench: %s has %u bench users, %u needed (start prosody.sh with "
                "CANTO_PROSODY_EXTRA_USERS=%u)\n",
                path, have, n, n);
        return -1;
    }
    return 0;
}

static void stop_server(int keep_files)
{
    if (!own_server)
        return;
    run_script("stop");
    if (!keep_files)
        remove_dir();
}

/* ------------------------------------------------------------------------ */
/* Connections */

typedef struct conn {
    canto_client *client;
    canto_client_state state;
    int started, failed, disconnected;
} conn;

typedef struct bench {
    canto_loop *loop;
    conn *conns;
    unsigned n;
    unsigned connected, failed, disconnected;
    unsigned in_progress;
} bench;

static bench B;

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    conn *k = ud;
    canto_client_state was = k->state;
    k->state = st;
    if (st == CANTO_CLIENT_CONNECTED && was != CANTO_CLIENT_CONNECTED) {
        B.connected++;
        B.in_progress--;
    } else if (st == CANTO_CLIENT_DISCONNECTED) {
        if (was == CANTO_CLIENT_CONNECTED || was == CANTO_CLIENT_DISCONNECTING)
            B.connected--;
        else
            B.in_progress--;
        B.disconnected++;
        k->disconnected = 1;
        if (info && info->error && !k->failed) {
            k->failed = 1;
            B.failed++;
            if (B.failed <= 5)
                fprintf(stderr, "idle_bench: %s: %s\n", canto_jid_str(canto_client_jid(c)),
                        info->detail ? info->detail : canto_strerror(info->error));
        }
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef struct setup {
    const canto_allocator *alloc;
    const char *ca;
    unsigned port;
    int system_trust;
} setup;

static int new_client(const setup *su, const char *user, conn *k)
{
    char jid[64], password[64];
    snprintf(jid, sizeof(jid), "%s@localhost", user);
    snprintf(password, sizeof(password), "%s-secret", user);
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    o.alloc = su->alloc;
    o.password = password;
    o.host = "127.0.0.1";
    o.port = su->port;
    o.ca_file = su->ca;
    o.no_system_trust = !su->system_trust;
    o.connect_timeout_ms = CONNECT_TIMEOUT_MS;
    memset(k, 0, sizeof(*k));
    int rc = canto_client_new(B.loop, jid, &o, &k->client);
    if (rc == 0)
        rc = canto_client_set_state_callback(k->client, on_state, k);
    if (rc) {
        fprintf(stderr, "idle_bench: client %s: %s\n", jid, canto_strerror(rc));
        return rc;
    }
    return 0;
}

static int start_conn(conn *k)
{
    k->started = 1;
    B.in_progress++;
    int rc = canto_client_connect(k->client);
    if (rc) {
        B.in_progress--;
        k->failed = 1;
        B.failed++;
        fprintf(stderr, "idle_bench: connect: %s\n", canto_strerror(rc));
    }
    return rc;
}

/* One connection as alice, then gone: what the first connection initializes
 * once for the whole process stays out of the figures. */
static int warm_up(const setup *su)
{
    conn k;
    if (new_client(su, "alice", &k) != 0)
        return -1;
    unsigned saved_connected = B.connected, saved_failed = B.failed;
    B.in_progress = 0;
    int ok = start_conn(&k) == 0;
    uint64_t deadline = now_ms() + 30000;
    while (ok && k.state != CANTO_CLIENT_CONNECTED && !k.disconnected && now_ms() < deadline)
        canto_loop_run_once(B.loop, 100);
    ok = ok && k.state == CANTO_CLIENT_CONNECTED;
    if (ok && canto_client_disconnect(k.client) == 0)
        while (!k.disconnected && now_ms() < deadline)
            canto_loop_run_once(B.loop, 100);
    canto_client_free(k.client);
    B.connected = saved_connected;
    B.failed = saved_failed;
    B.in_progress = 0;
    B.disconnected = 0;
    return ok ? 0 : -1;
}

static void raise_fd_limit(unsigned n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)n + 64;
    if (rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want)
        fprintf(stderr, "idle_bench: only %lu file descriptors allowed; expect failures\n",
                (unsigned long)rl.rlim_cur);
}

static int usage(void)
{
    fprintf(stderr, "usage: idle_bench [N] [-c CONCURRENT] [-i IDLE_MS] [--system-trust] "
                    "[--strict]\n");
    return 2;
}

int main(int argc, char **argv)
{
    unsigned n = 1000, concurrent = 50, idle_ms = 1000;
    int system_trust = 0, strict = 0;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            concurrent = (unsigned)strtoul(argv[++i], &end, 10);
            if (*end || concurrent == 0)
                return usage();
        } else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc) {
            idle_ms = (unsigned)strtoul(argv[++i], &end, 10);
            if (*end)
                return usage();
        } else if (strcmp(argv[i], "--system-trust") == 0) {
            system_trust = 1;
        } else if (strcmp(argv[i], "--strict") == 0) {
            strict = 1;
        } else if (argv[i][0] != '-') {
            n = (unsigned)strtoul(argv[i], &end, 10);
            if (*end || n == 0 || n > 100000)
                return usage();
        } else {
            return usage();
        }
    }
    /* Before libxml2 allocates anything. */
    xmlMemSetup(xml_count_free, xml_count_malloc, xml_count_realloc, xml_count_strdup);
    raise_fd_limit(n);

    int rc = start_server(n, getenv("CANTO_BENCH_PROSODY_ENV"));
    if (rc == 77) {
        fprintf(stderr, "idle_bench: prosody not installed: skipped\n");
        return 77;
    }
    if (rc != 0) {
        stop_server(1);
        return 2;
    }
    char ca[256], port[16];
    if (!env_get("CANTO_PROSODY_CA", ca, sizeof(ca)) ||
        !env_get("CANTO_PROSODY_STARTTLS_PORT", port, sizeof(port))) {
        fprintf(stderr, "idle_bench: incomplete env file\n");
        stop_server(1);
        return 2;
    }

    canto_allocator alloc = CANTO_ALLOCATOR_INIT;
    alloc.alloc = canto_count_alloc;
    alloc.realloc = canto_count_realloc;
    alloc.free = canto_count_free;
    alloc.user_data = &canto_mem;
    setup su = {&alloc, ca, (unsigned)atoi(port), system_trust};

    canto_loop_options lo = CANTO_LOOP_OPTIONS_INIT;
    lo.alloc = &alloc;
    B.n = n;
    B.conns = calloc(n, sizeof(*B.conns));
    if (!B.conns || canto_loop_new(&lo, &B.loop) != 0) {
        fprintf(stderr, "idle_bench: out of memory\n");
        stop_server(1);
        return 2;
    }
    if (warm_up(&su) != 0) {
        fprintf(stderr, "idle_bench: the warm-up connection failed\n");
        canto_loop_free(B.loop);
        stop_server(1);
        return 1;
    }

    /* The client objects exist before the baseline only as far as the
     * application's own bookkeeping goes: everything canto_client_new() and
     * the connection allocate is counted. */
    malloc_trim(0);
    sample before = take_sample();
    uint64_t t0 = now_ms();

    unsigned next = 0, created = 0;
    for (unsigned i = 0; i < n; i++) {
        char user[32];
        snprintf(user, sizeof(user), "bench%u", i);
        if (new_client(&su, user, &B.conns[i]) != 0)
            break;
        created++;
    }
    int result = created == n ? 0 : 1;
    uint64_t deadline = t0 + CONNECT_TIMEOUT_MS + 10000;
    while (result == 0 && B.connected + B.failed < n && now_ms() < deadline) {
        while (next < n && B.in_progress < concurrent)
            start_conn(&B.conns[next++]);
        canto_loop_run_once(B.loop, 100);
    }
    uint64_t t_connected = now_ms();
    if (B.connected != n) {
        fprintf(stderr, "idle_bench: %u of %u connected, %u failed%s\n", B.connected, n, B.failed,
                now_ms() >= deadline ? " (timed out)" : "");
        result = 1;
    }

    if (result == 0) {
        /* Idle: let late answers and acknowledgements arrive and settle. */
        uint64_t idle_end = now_ms() + idle_ms;
        while (now_ms() < idle_end)
            canto_loop_run_once(B.loop, (int)(idle_end - now_ms()));
        sample after = take_sample();
        if (B.connected != n || B.failed) {
            fprintf(stderr, "idle_bench: %u connections dropped while idle\n", n - B.connected);
            result = 1;
        }
        double total = per_conn_kb((double)(after.rss_kb - before.rss_kb) * 1024.0, n);
        double heap = per_conn_kb((double)after.heap - (double)before.heap, n);
        double canto = per_conn_kb((double)after.canto - (double)before.canto, n);
        double xml = per_conn_kb((double)after.xml - (double)before.xml, n);
        printf("idle_bench: %u TLS connections logged in in %.1f s (%u at a time), idle %u ms\n", n,
               (double)(t_connected - t0) / 1000.0, concurrent, idle_ms);
        printf("per connection: total %.1f KB, canto %.1f KB, gnutls+other %.1f KB "
               "(target <= %.0f KB)\n",
               total, canto, heap - canto, TARGET_KB);
        printf("  heap %.1f KB = canto %.1f + libxml2 %.1f + gnutls/gsasl/libc %.1f; "
               "RSS - heap %.1f KB\n",
               heap, canto, xml, heap - canto - xml, total - heap);
        printf("  process: RSS %ld -> %ld KB, heap %.1f -> %.1f MB; canto peak %.1f KB/conn\n",
               before.rss_kb, after.rss_kb, (double)before.heap / 1048576.0,
               (double)after.heap / 1048576.0, per_conn_kb((double)canto_mem.peak, n));
        if (total > TARGET_KB) {
            printf("  OVER TARGET by %.1f KB per connection\n", total - TARGET_KB);
            if (strict && result == 0)
                result = 3;
        }
        fflush(stdout);
    }

    /* Close politely, briefly; whatever is left is closed abruptly. */
    for (unsigned i = 0; i < created; i++)
        if (B.conns[i].state == CANTO_CLIENT_CONNECTED)
            canto_client_disconnect(B.conns[i].client);
    deadline = now_ms() + 5000;
    while (B.connected > 0 && now_ms() < deadline)
        canto_loop_run_once(B.loop, 100);
    for (unsigned i = 0; i < created; i++)
        canto_client_free(B.conns[i].client);
    canto_loop_free(B.loop);
    free(B.conns);
    stop_server(result == 1);
    return result;
}
