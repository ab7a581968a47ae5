/**
 * @file canto/memory.h
 * @brief Optional custom allocator and the one function that frees strings Canto returns.
 *
 * Every constructor takes an optional `const canto_allocator *`; NULL means the C
 * library's malloc/realloc/free. The struct is copied, so it need not outlive the
 * call. Memory that libxml2, GnuTLS and libgsasl allocate for their own use does
 * not go through it.
 */
#ifndef CANTO_MEMORY_H
#define CANTO_MEMORY_H

#include <stddef.h>
#include <canto/export.h>

CANTO_BEGIN_DECLS

/** Version of canto_allocator understood by this header. */
#define CANTO_ALLOCATOR_VERSION 1u

/**
 * A custom allocator. All three functions must be set. They may be called from
 * whatever thread is using the object they were given to.
 */
typedef struct canto_allocator {
    unsigned version;                                          /**< CANTO_ALLOCATOR_VERSION */
    void *(*alloc)(void *user_data, size_t size);              /**< like malloc(size) */
    void *(*realloc)(void *user_data, void *ptr, size_t size); /**< like realloc() */
    void (*free)(void *user_data, void *ptr);                  /**< like free(); ptr may be NULL */
    void *user_data;                                           /**< passed to each function */
} canto_allocator;

/** Initializer for a canto_allocator: fill in the function pointers after it. */
#define CANTO_ALLOCATOR_INIT                                                                       \
    {                                                                                              \
        CANTO_ALLOCATOR_VERSION, NULL, NULL, NULL, NULL                                            \
    }

/**
 * Free a buffer that a Canto function returned through a `char **` or `void **`
 * out-parameter (serialized XML, escaped strings, ...). Such buffers remember the
 * allocator that made them, so this is right whatever allocator was in use.
 *
 * @param ptr the buffer, or NULL (then nothing happens).
 */
CANTO_EXPORT void canto_free(void *ptr);

CANTO_END_DECLS

#endif
