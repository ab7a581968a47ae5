#include "xml/tree.h"

#include <string.h>

#include <canto/error.h>

canto_stanza *canto__elem_new(canto__doc *doc, canto_stanza *parent, const char *name,
                              const char *ns)
{
    canto_stanza *e = canto__arena_alloc(doc, sizeof(*e));
    if (!e)
        return NULL;
    memset(e, 0, sizeof(*e));
    e->doc = doc;
    e->kind = CANTO_NODE_ELEMENT;
    e->name = name;
    e->ns = ns;
    if (parent)
        canto__node_link(parent, e, NULL);
    return e;
}

int canto__elem_reserve_attrs(canto_stanza *elem, uint32_t n)
{
    if (elem->attr_cap - elem->nattrs >= n)
        return 0;
    uint32_t cap = elem->nattrs + n;
    if (cap < n || cap > UINT32_MAX / 2)
        return CANTO_ENOMEM;
    if (cap < 4)
        cap = 4;
    canto__attr *a = canto__arena_alloc(elem->doc, cap * sizeof(*a));
    if (!a)
        return CANTO_ENOMEM;
    if (elem->nattrs)
        memcpy(a, elem->attrs, elem->nattrs * sizeof(*a));
    elem->attrs = a;
    elem->attr_cap = cap;
    return 0;
}

int canto__elem_push_attr(canto_stanza *elem, const char *ns, const char *name, const char *value,
                          size_t value_len)
{
    if (elem->nattrs == elem->attr_cap) {
        int rc = canto__elem_reserve_attrs(elem, elem->attr_cap ? elem->attr_cap : 4);
        if (rc)
            return rc;
    }
    elem->attrs[elem->nattrs++] = (canto__attr){ns, name, value, value_len};
    return 0;
}

canto_stanza *canto__text_new(canto_stanza *parent, const char *text, size_t len)
{
    canto__doc *doc = parent->doc;
    canto_stanza *t = canto__arena_alloc(doc, sizeof(*t));
    if (!t)
        return NULL;
    memset(t, 0, sizeof(*t));
    t->doc = doc;
    t->kind = CANTO_NODE_TEXT;
    t->text = canto__arena_strndup(doc, text, len);
    if (!t->text)
        return NULL;
    t->text_len = len;
    canto__node_link(parent, t, NULL);
    return t;
}

void canto__node_unlink(canto_stanza *node)
{
    canto_stanza *p = node->parent;
    if (!p)
        return;
    if (node->prev)
        node->prev->next = node->next;
    else
        p->first = node->next;
    if (node->next)
        node->next->prev = node->prev;
    else
        p->last = node->prev;
    p->nchildren--;
    p->text = NULL; /* joined-text cache */
    node->parent = node->prev = node->next = NULL;
}

void canto__node_link(canto_stanza *parent, canto_stanza *node, canto_stanza *before)
{
    node->parent = parent;
    node->next = before;
    node->prev = before ? before->prev : parent->last;
    if (node->prev)
        node->prev->next = node;
    else
        parent->first = node;
    if (before)
        before->prev = node;
    else
        parent->last = node;
    parent->nchildren++;
    parent->text = NULL;
}

/* Strings of a node in another document must be copied unless they are interned
 * (static) ones; within the same document they can be shared. */
static const char *carry(canto__doc *doc, const canto_stanza *src, const char *s)
{
    if (!s || src->doc == doc)
        return s;
    return canto__arena_name(doc, s, strlen(s));
}

static canto_stanza *copy_one(canto__doc *doc, canto_stanza *parent, const canto_stanza *src)
{
    if (src->kind == CANTO_NODE_TEXT)
        return canto__text_new(parent, src->text, src->text_len);
    const char *name = carry(doc, src, src->name);
    const char *ns = carry(doc, src, src->ns);
    if (!name || (src->ns && !ns))
        return NULL;
    canto_stanza *e = canto__elem_new(doc, parent, name, ns);
    if (!e)
        return NULL;
    if (canto__elem_reserve_attrs(e, src->nattrs))
        goto fail;
    for (uint32_t i = 0; i < src->nattrs; i++) {
        const canto__attr *a = &src->attrs[i];
        const char *ans = carry(doc, src, a->ns);
        const char *aname = carry(doc, src, a->name);
        const char *val =
            src->doc == doc ? a->value : canto__arena_strndup(doc, a->value, a->value_len);
        if ((a->ns && !ans) || !aname || !val)
            goto fail;
        e->attrs[e->nattrs++] = (canto__attr){ans, aname, val, a->value_len};
    }
    return e;
fail:
    canto__node_unlink(e);
    return NULL;
}

canto_stanza *canto__node_copy(canto__doc *doc, canto_stanza *parent, const canto_stanza *src)
{
    /* Iterative walk: trees from the network can be deep, the C stack is not. */
    canto_stanza *top = copy_one(doc, parent, src);
    if (!top || src->kind == CANTO_NODE_TEXT)
        return top;

    const canto_stanza *s = src->first;
    canto_stanza *dst_parent = top;
    while (s) {
        canto_stanza *c = copy_one(doc, dst_parent, s);
        if (!c) {
            /* Leave the destination as it was; the arena memory is reclaimed
             * with the document. */
            canto__node_unlink(top);
            return NULL;
        }
        if (s->first) {
            dst_parent = c;
            s = s->first;
            continue;
        }
        while (s != src && !s->next) {
            s = s->parent;
            dst_parent = dst_parent->parent;
        }
        if (s == src)
            break;
        s = s->next;
    }
    return top;
}
