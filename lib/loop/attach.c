/* Per-loop shared objects: state that every client on a loop can share
 * instead of each holding a copy (idle connections must stay small). */
#include "loop/loop_impl.h"

#include <canto/error.h>

struct canto__attachment {
    struct canto__attachment *next;
    const void *key;
    void *obj;
    void (*free_fn)(void *obj);
};

int canto__loop_attach(canto_loop *loop, const void *key, void *obj, void (*free_fn)(void *obj))
{
    if (!loop || !key || canto__loop_attached(loop, key))
        return CANTO_EINVAL;
    struct canto__attachment *a = canto__malloc(&loop->alloc, sizeof(*a));
    if (!a)
        return CANTO_ENOMEM;
    *a = (struct canto__attachment){loop->attachments, key, obj, free_fn};
    loop->attachments = a;
    return 0;
}

void *canto__loop_attached(const canto_loop *loop, const void *key)
{
    for (const struct canto__attachment *a = loop ? loop->attachments : NULL; a; a = a->next)
        if (a->key == key)
            return a->obj;
    return NULL;
}

void canto__loop_attachments_clear(canto_loop *loop)
{
    while (loop->attachments) {
        struct canto__attachment *a = loop->attachments;
        loop->attachments = a->next;
        if (a->free_fn)
            a->free_fn(a->obj);
        canto__dealloc(&loop->alloc, a);
    }
}
