#include "base/buf.h"

#include <stdint.h>
#include <string.h>

#include <canto/error.h>

void canto__buf_init(canto__buf *b, const canto__alloc *alloc)
{
    *b = (canto__buf){NULL, 0, 0, alloc, 0};
}

static int grow(canto__buf *b, size_t need)
{
    if (need <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return 0;
        cap *= 2;
    }
    char *d = b->data ? canto__owned_realloc(b->data, cap) : canto__owned_alloc(b->alloc, cap);
    if (!d)
        return 0;
    b->data = d;
    b->cap = cap;
    return 1;
}

void canto__buf_append(canto__buf *b, const char *s, size_t len)
{
    if (b->failed)
        return;
    if (len >= SIZE_MAX - b->len || !grow(b, b->len + len + 1)) {
        b->failed = 1;
        return;
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void canto__buf_puts(canto__buf *b, const char *s)
{
    canto__buf_append(b, s, strlen(s));
}

int canto__buf_take(canto__buf *b, char **out, size_t *len)
{
    if (!b->failed && !b->data)
        canto__buf_append(b, "", 0);
    if (b->failed) {
        canto__buf_free(b);
        return CANTO_ENOMEM;
    }
    *out = b->data;
    if (len)
        *len = b->len;
    canto__buf_init(b, b->alloc);
    return 0;
}

void canto__buf_free(canto__buf *b)
{
    canto_free(b->data);
    canto__buf_init(b, b->alloc);
}
