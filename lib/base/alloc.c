#include "base/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>

static void *libc_alloc(void *ud, size_t size)
{
    (void)ud;
    return malloc(size);
}

static void *libc_realloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    return realloc(ptr, size);
}

static void libc_free(void *ud, void *ptr)
{
    (void)ud;
    free(ptr);
}

int canto__alloc_init(canto__alloc *out, const canto_allocator *in)
{
    if (!out)
        return CANTO_EINVAL;
    if (!in) {
        *out = (canto__alloc){libc_alloc, libc_realloc, libc_free, NULL};
        return 0;
    }
    if (in->version != CANTO_ALLOCATOR_VERSION || !in->alloc || !in->realloc || !in->free)
        return CANTO_EINVAL;
    *out = (canto__alloc){in->alloc, in->realloc, in->free, in->user_data};
    return 0;
}

void *canto__malloc(const canto__alloc *a, size_t size)
{
    return a->alloc(a->ud, size ? size : 1);
}

void *canto__calloc(const canto__alloc *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = canto__malloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *canto__realloc(const canto__alloc *a, void *ptr, size_t size)
{
    return a->realloc(a->ud, ptr, size ? size : 1);
}

void canto__dealloc(const canto__alloc *a, void *ptr)
{
    if (ptr)
        a->free(a->ud, ptr);
}

char *canto__strndup(const canto__alloc *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = canto__malloc(a, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* The header is padded to max_align_t so the returned pointer keeps malloc's
 * alignment guarantee. */
typedef union owned_header {
    canto__alloc alloc;
    max_align_t align;
} owned_header;

void *canto__owned_alloc(const canto__alloc *a, size_t size)
{
    if (size > SIZE_MAX - sizeof(owned_header))
        return NULL;
    owned_header *h = canto__malloc(a, sizeof(*h) + size);
    if (!h)
        return NULL;
    h->alloc = *a;
    return h + 1;
}

void *canto__owned_realloc(void *ptr, size_t size)
{
    if (!ptr || size > SIZE_MAX - sizeof(owned_header))
        return NULL;
    owned_header *h = (owned_header *)ptr - 1;
    canto__alloc a = h->alloc;
    owned_header *n = canto__realloc(&a, h, sizeof(*h) + size);
    return n ? n + 1 : NULL;
}

char *canto__owned_strndup(const canto__alloc *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = canto__owned_alloc(a, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

void canto_free(void *ptr)
{
    if (!ptr)
        return;
    owned_header *h = (owned_header *)ptr - 1;
    canto__alloc a = h->alloc;
    a.free(a.ud, h);
}
