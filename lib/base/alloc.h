/* Internal allocation helpers: every allocation in lib/ goes through these so the
 * application's canto_allocator is honoured. */
#ifndef CANTO_BASE_ALLOC_H
#define CANTO_BASE_ALLOC_H

#include <stddef.h>
#include <canto/memory.h>

/* A validated copy of an application allocator (or the libc one). Objects embed
 * it by value so the application's struct need not outlive the constructor. */
typedef struct canto__alloc {
    void *(*alloc)(void *ud, size_t size);
    void *(*realloc)(void *ud, void *ptr, size_t size);
    void (*free)(void *ud, void *ptr);
    void *ud;
} canto__alloc;

/* Fill @p out from @p in (NULL: libc). CANTO_EINVAL for an unknown version or a
 * missing function. */
int canto__alloc_init(canto__alloc *out, const canto_allocator *in);

void *canto__malloc(const canto__alloc *a, size_t size);
void *canto__calloc(const canto__alloc *a, size_t n, size_t size);
void *canto__realloc(const canto__alloc *a, void *ptr, size_t size);
void canto__dealloc(const canto__alloc *a, void *ptr);
char *canto__strndup(const canto__alloc *a, const char *s, size_t len);

/* Buffers handed to the application to be freed with canto_free(): they carry a
 * copy of their allocator in a header in front of the returned pointer. */
void *canto__owned_alloc(const canto__alloc *a, size_t size);
void *canto__owned_realloc(void *ptr, size_t size);
char *canto__owned_strndup(const canto__alloc *a, const char *s, size_t len);

#endif
