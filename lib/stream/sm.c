#include "stream/sm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>
#include "base/buf.h"

typedef struct entry {
    char *xml; /* owned (canto__owned_*), so pop can hand it over */
    size_t len;
    uint64_t token;
} entry;

struct canto__sm {
    canto__alloc alloc;
    canto__sm_done_fn done;
    void *ud;
    int enabled;
    char *id, *location;
    uint32_t max;
    uint32_t sent, acked, received; /* mod 2^32; queue holds acked+1 .. sent */
    entry *q;                       /* ring buffer */
    size_t head, count, cap;
    size_t bytes;
};

int canto__sm_new(const canto__alloc *alloc, canto__sm_done_fn done, void *ud, canto__sm **out)
{
    canto__sm *sm = canto__calloc(alloc, 1, sizeof(*sm));
    if (!sm)
        return CANTO_ENOMEM;
    sm->alloc = *alloc;
    sm->done = done;
    sm->ud = ud;
    *out = sm;
    return 0;
}

static entry *at(const canto__sm *sm, size_t i)
{
    return &sm->q[(sm->head + i) % sm->cap];
}

static void drop_front(canto__sm *sm, int report, int status)
{
    entry e = *at(sm, 0);
    sm->head = (sm->head + 1) % sm->cap;
    sm->count--;
    sm->bytes -= e.len;
    canto_free(e.xml);
    if (report && sm->done)
        sm->done(sm->ud, e.token, status);
}

void canto__sm_free(canto__sm *sm)
{
    if (!sm)
        return;
    while (sm->count)
        drop_front(sm, 0, 0);
    canto__dealloc(&sm->alloc, sm->q);
    canto__dealloc(&sm->alloc, sm->id);
    canto__dealloc(&sm->alloc, sm->location);
    canto__dealloc(&sm->alloc, sm);
}

void canto__sm_reset_counters(canto__sm *sm)
{
    /* Entries still queued belong to the old session. They are numbered just
     * below the new session's first stanza (acked = -count), so the queue
     * still holds acked+1 .. sent: popping or failing them (each advances
     * acked) brings acked to 0, and the new session's acks then cover only
     * stanzas sent on it. Zeroing acked here would let the old entries take
     * the new session's first numbers. */
    sm->sent = sm->received = 0;
    sm->acked = (uint32_t)0 - (uint32_t)sm->count;
    sm->enabled = 0;
}

static int set_str(canto__sm *sm, char **dst, const char *src)
{
    char *copy = src ? canto__strndup(&sm->alloc, src, strlen(src)) : NULL;
    if (src && !copy)
        return CANTO_ENOMEM;
    canto__dealloc(&sm->alloc, *dst);
    *dst = copy;
    return 0;
}

int canto__sm_enabled(canto__sm *sm, const char *id, const char *location, uint32_t max)
{
    int rc = set_str(sm, &sm->id, id);
    if (rc == 0)
        rc = set_str(sm, &sm->location, location);
    if (rc)
        return rc;
    sm->max = max;
    sm->enabled = 1;
    sm->received = 0;
    return 0;
}

int canto__sm_is_enabled(const canto__sm *sm)
{
    return sm->enabled;
}

void canto__sm_forget_session(canto__sm *sm)
{
    set_str(sm, &sm->id, NULL);
    set_str(sm, &sm->location, NULL);
    sm->enabled = 0;
}

const char *canto__sm_id(const canto__sm *sm)
{
    return sm->id;
}

const char *canto__sm_location(const canto__sm *sm)
{
    return sm->location;
}

int canto__sm_push(canto__sm *sm, const char *xml, size_t len, uint64_t token)
{
    if (sm->count == sm->cap) {
        size_t cap = sm->cap ? sm->cap * 2 : 16;
        entry *n = canto__malloc(&sm->alloc, cap * sizeof(*n));
        if (!n)
            return CANTO_ENOMEM;
        for (size_t i = 0; i < sm->count; i++)
            n[i] = *at(sm, i);
        canto__dealloc(&sm->alloc, sm->q);
        sm->q = n;
        sm->head = 0;
        sm->cap = cap;
    }
    char *copy = canto__owned_strndup(&sm->alloc, xml, len);
    if (!copy)
        return CANTO_ENOMEM;
    *at(sm, sm->count) = (entry){copy, len, token};
    sm->count++;
    sm->bytes += len;
    sm->sent++;
    return 0;
}

int canto__sm_ack(canto__sm *sm, uint32_t h)
{
    uint32_t delta = h - sm->acked; /* wraps correctly mod 2^32 */
    if (delta > sm->count)
        return CANTO_EPROTO;
    for (uint32_t i = 0; i < delta; i++)
        drop_front(sm, 1, 0);
    sm->acked = h;
    return 0;
}

size_t canto__sm_unacked(const canto__sm *sm)
{
    return sm->count;
}

size_t canto__sm_unacked_bytes(const canto__sm *sm)
{
    return sm->bytes;
}

const char *canto__sm_entry(const canto__sm *sm, size_t i, size_t *len, uint64_t *token)
{
    if (i >= sm->count)
        return NULL;
    const entry *e = at(sm, i);
    if (len)
        *len = e->len;
    if (token)
        *token = e->token;
    return e->xml;
}

uint32_t canto__sm_sent(const canto__sm *sm)
{
    return sm->sent;
}

void canto__sm_fail_all(canto__sm *sm, int status)
{
    /* Callbacks may push new stanzas; only what was queued now is failed. */
    size_t n = sm->count;
    for (size_t i = 0; i < n && sm->count; i++) {
        drop_front(sm, 1, status);
        sm->acked++;
    }
}

int canto__sm_pop(canto__sm *sm, char **xml, size_t *len, uint64_t *token)
{
    if (!sm->count)
        return CANTO_ENOTFOUND;
    entry e = *at(sm, 0);
    sm->head = (sm->head + 1) % sm->cap;
    sm->count--;
    sm->bytes -= e.len;
    sm->acked++;
    *xml = e.xml;
    if (len)
        *len = e.len;
    if (token)
        *token = e.token;
    return 0;
}

void canto__sm_handled(canto__sm *sm)
{
    sm->received++;
}

uint32_t canto__sm_received(const canto__sm *sm)
{
    return sm->received;
}

/* --- persistence ------------------------------------------------------------
 * Text header, then each entry as "token length\n" followed by its bytes and a
 * newline. Lengths make the stanzas' own content irrelevant to the framing. */

#define MAGIC "canto-sm 1\n"

int canto__sm_export(const canto__sm *sm, char **out, size_t *len)
{
    canto__buf b;
    canto__buf_init(&b, &sm->alloc);
    char line[128];
    canto__buf_puts(&b, MAGIC);
    snprintf(line, sizeof(line), "%d %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %zu\n",
             sm->enabled, sm->sent, sm->acked, sm->received, sm->max, sm->count);
    canto__buf_puts(&b, line);
    const char *strs[2] = {sm->id, sm->location};
    for (int i = 0; i < 2; i++) {
        snprintf(line, sizeof(line), "%zu\n", strs[i] ? strlen(strs[i]) + 1 : (size_t)0);
        canto__buf_puts(&b, line);
        if (strs[i]) {
            canto__buf_puts(&b, strs[i]);
            canto__buf_puts(&b, "\n");
        }
    }
    for (size_t i = 0; i < sm->count; i++) {
        const entry *e = at(sm, i);
        snprintf(line, sizeof(line), "%" PRIu64 " %zu\n", e->token, e->len);
        canto__buf_puts(&b, line);
        canto__buf_append(&b, e->xml, e->len);
        canto__buf_puts(&b, "\n");
    }
    return canto__buf_take(&b, out, len);
}

typedef struct reader {
    const char *p, *end;
} reader;

/* Reads "a b c...\n" decimal fields; 0 on malformed input. */
static int read_line_u64(reader *r, uint64_t *v, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t x = 0;
        int digits = 0;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
            if (x > (UINT64_MAX - 9) / 10)
                return 0;
            x = x * 10 + (uint64_t)(*r->p++ - '0');
            digits++;
        }
        if (!digits || r->p >= r->end || *r->p != (i == n - 1 ? '\n' : ' '))
            return 0;
        r->p++;
        v[i] = x;
    }
    return 1;
}

static int read_blob(reader *r, size_t len, const char **out)
{
    if ((size_t)(r->end - r->p) < len + 1 || r->p[len] != '\n')
        return 0;
    *out = r->p;
    r->p += len + 1;
    return 1;
}

int canto__sm_import(canto__sm *sm, const char *data, size_t len)
{
    if (!data || len < sizeof(MAGIC) - 1 || memcmp(data, MAGIC, sizeof(MAGIC) - 1) != 0)
        return CANTO_EINVAL;
    reader r = {data + sizeof(MAGIC) - 1, data + len};
    uint64_t h[6];
    if (!read_line_u64(&r, h, 6) || h[0] > 1 || h[1] > UINT32_MAX || h[2] > UINT32_MAX ||
        h[3] > UINT32_MAX || h[4] > UINT32_MAX || (uint32_t)(h[1] - h[2]) != h[5])
        return CANTO_EINVAL;
    const char *strs[2] = {NULL, NULL};
    size_t slen[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        uint64_t l;
        if (!read_line_u64(&r, &l, 1) || l > 4096)
            return CANTO_EINVAL;
        if (l && (!read_blob(&r, (size_t)l - 1, &strs[i]) || memchr(strs[i], 0, l - 1)))
            return CANTO_EINVAL;
        slen[i] = l ? (size_t)l - 1 : 0;
    }
    /* Validate every entry before changing anything. */
    reader check = r;
    for (uint64_t i = 0; i < h[5]; i++) {
        uint64_t te[2];
        const char *blob;
        if (!read_line_u64(&check, te, 2) || te[1] > (uint64_t)(check.end - check.p) ||
            !read_blob(&check, (size_t)te[1], &blob))
            return CANTO_EINVAL;
    }
    if (check.p != check.end)
        return CANTO_EINVAL;

    canto__sm fresh = {sm->alloc, sm->done, sm->ud, 0, NULL, NULL, 0, 0, 0, 0, NULL, 0, 0, 0, 0};
    canto__sm *n = &fresh;
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        if (strs[i]) {
            char *copy = canto__strndup(&sm->alloc, strs[i], slen[i]);
            if (!copy)
                rc = CANTO_ENOMEM;
            if (i == 0)
                n->id = copy;
            else
                n->location = copy;
        }
    }
    for (uint64_t i = 0; i < h[5] && rc == 0; i++) {
        uint64_t te[2] = {0, 0};
        const char *blob = NULL; /* validated above; set for the compiler */
        read_line_u64(&r, te, 2);
        read_blob(&r, (size_t)te[1], &blob);
        rc = canto__sm_push(n, blob, (size_t)te[1], te[0]);
    }
    if (rc) {
        while (n->count)
            drop_front(n, 0, 0);
        canto__dealloc(&sm->alloc, n->q);
        canto__dealloc(&sm->alloc, n->id);
        canto__dealloc(&sm->alloc, n->location);
        return rc;
    }
    n->enabled = (int)h[0];
    n->sent = (uint32_t)h[1];
    n->acked = (uint32_t)h[2];
    n->received = (uint32_t)h[3];
    n->max = (uint32_t)h[4];
    while (sm->count)
        drop_front(sm, 0, 0);
    canto__dealloc(&sm->alloc, sm->q);
    canto__dealloc(&sm->alloc, sm->id);
    canto__dealloc(&sm->alloc, sm->location);
    *sm = fresh;
    return 0;
}
