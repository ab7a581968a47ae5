#include "xml/tree.h"

#include <stdalign.h>
#include <string.h>

struct canto__chunk {
    canto__chunk *next;
    size_t size, used;
    alignas(max_align_t) unsigned char data[];
};

/* Chunks double up to this size; a stanza larger than that grows linearly so a
 * 1 MiB stanza does not reserve 2 MiB. */
#define CHUNK_MAX (64 * 1024)

canto__doc *canto__doc_new(const canto__alloc *alloc, size_t first_chunk)
{
    /* The doc header and the first chunk share one allocation. */
    size_t hdr = (sizeof(canto__doc) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    unsigned char *mem = canto__malloc(alloc, hdr + sizeof(canto__chunk) + first_chunk);
    if (!mem)
        return NULL;
    canto__doc *doc = (canto__doc *)mem;
    canto__chunk *c = (canto__chunk *)(mem + hdr);
    c->next = NULL;
    c->size = first_chunk;
    c->used = 0;
    doc->refs = 1;
    doc->alloc = *alloc;
    doc->chunks = c;
    doc->next_chunk = first_chunk < 512 ? 1024 : first_chunk * 2;
    return doc;
}

void canto__doc_unref(canto__doc *doc)
{
    if (!doc || --doc->refs > 0)
        return;
    canto__alloc a = doc->alloc;
    canto__chunk *c = doc->chunks;
    while (c->next) { /* the last chunk is the one inside the doc allocation */
        canto__chunk *next = c->next;
        canto__dealloc(&a, c);
        c = next;
    }
    canto__dealloc(&a, doc);
}

static void *chunk_take(canto__doc *doc, size_t size, size_t align)
{
    canto__chunk *c = doc->chunks;
    size_t off = (c->used + align - 1) & ~(align - 1);
    if (off <= c->size && size <= c->size - off) {
        c->used = off + size;
        return c->data + off;
    }
    size_t want = doc->next_chunk;
    if (want < size)
        want = size;
    canto__chunk *n = canto__malloc(&doc->alloc, sizeof(*n) + want);
    if (!n)
        return NULL;
    n->size = want;
    n->used = size;
    /* Keep the inline first chunk last in the list so unref can find it. */
    n->next = c;
    doc->chunks = n;
    if (doc->next_chunk < CHUNK_MAX)
        doc->next_chunk *= 2;
    return n->data;
}

void *canto__arena_alloc(canto__doc *doc, size_t size)
{
    if (size > SIZE_MAX / 2)
        return NULL;
    return chunk_take(doc, size, alignof(void *));
}

char *canto__arena_strndup(canto__doc *doc, const char *s, size_t len)
{
    if (len > SIZE_MAX / 2)
        return NULL;
    char *p = chunk_take(doc, len + 1, 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

const char *canto__arena_name(canto__doc *doc, const char *s, size_t len)
{
    const char *in = canto__intern(s, len);
    return in ? in : canto__arena_strndup(doc, s, len);
}
