/* Growable byte buffer whose storage can be handed to the application as an
 * owned (canto_free) string. A failed append sticks, so a long run of appends
 * needs one check at the end. */
#ifndef CANTO_BASE_BUF_H
#define CANTO_BASE_BUF_H

#include <stddef.h>

#include "base/alloc.h"

typedef struct canto__buf {
    char *data; /* owned storage (canto__owned_alloc), NUL-terminated when non-NULL */
    size_t len, cap;
    const canto__alloc *alloc;
    int failed;
} canto__buf;

void canto__buf_init(canto__buf *b, const canto__alloc *alloc);
void canto__buf_append(canto__buf *b, const char *s, size_t len);
void canto__buf_puts(canto__buf *b, const char *s);
/* Hand the storage to the caller (free with canto_free) and reset the buffer.
 * CANTO_ENOMEM if any append failed (the storage is then freed). */
int canto__buf_take(canto__buf *b, char **out, size_t *len);
void canto__buf_free(canto__buf *b);

#endif
