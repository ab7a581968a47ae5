/* Reading stanza trees: the public accessors and lookups. */
#include "xml/tree.h"

#include <string.h>

#include <canto/error.h>

static int str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

canto_stanza *canto_stanza_ref(canto_stanza *node)
{
    if (node)
        node->doc->refs++;
    return node;
}

void canto_stanza_free(canto_stanza *node)
{
    if (node)
        canto__doc_unref(node->doc);
}

int canto_stanza_copy(const canto_stanza *node, canto_stanza **out)
{
    if (!node || !out)
        return CANTO_EINVAL;
    *out = NULL;
    canto__doc *doc = canto__doc_new(&node->doc->alloc, 1024);
    if (!doc)
        return CANTO_ENOMEM;
    canto_stanza *copy = canto__node_copy(doc, NULL, node);
    if (!copy) {
        canto__doc_unref(doc);
        return CANTO_ENOMEM;
    }
    *out = copy;
    return 0;
}

canto_node_kind canto_stanza_kind(const canto_stanza *node)
{
    return node ? (canto_node_kind)node->kind : (canto_node_kind)0;
}

const char *canto_stanza_name(const canto_stanza *node)
{
    return node && node->kind == CANTO_NODE_ELEMENT ? node->name : NULL;
}

const char *canto_stanza_ns(const canto_stanza *node)
{
    return node && node->kind == CANTO_NODE_ELEMENT ? node->ns : NULL;
}

int canto_stanza_is(const canto_stanza *node, const char *name, const char *ns)
{
    if (!node || node->kind != CANTO_NODE_ELEMENT)
        return 0;
    return (!name || strcmp(node->name, name) == 0) && (!ns || str_eq(node->ns, ns));
}

const char *canto_stanza_attr_ns(const canto_stanza *node, const char *ns, const char *name)
{
    if (!node || !name || node->kind != CANTO_NODE_ELEMENT)
        return NULL;
    if (ns && strcmp(ns, CANTO__NS_XML) == 0) {
        for (uint32_t i = 0; i < node->nattrs; i++) {
            const canto__attr *a = &node->attrs[i];
            if (!a->ns && strncmp(a->name, "xml:", 4) == 0 && strcmp(a->name + 4, name) == 0)
                return a->value;
        }
        return NULL;
    }
    for (uint32_t i = 0; i < node->nattrs; i++) {
        const canto__attr *a = &node->attrs[i];
        if (strcmp(a->name, name) == 0 && str_eq(a->ns, ns))
            return a->value;
    }
    return NULL;
}

const char *canto_stanza_attr(const canto_stanza *node, const char *name)
{
    return canto_stanza_attr_ns(node, NULL, name);
}

size_t canto_stanza_attr_count(const canto_stanza *node)
{
    return node && node->kind == CANTO_NODE_ELEMENT ? node->nattrs : 0;
}

int canto_stanza_attr_at(const canto_stanza *node, size_t index, const char **ns, const char **name,
                         const char **value)
{
    if (!node || node->kind != CANTO_NODE_ELEMENT || index >= node->nattrs)
        return CANTO_EINVAL;
    const canto__attr *a = &node->attrs[index];
    if (ns)
        *ns = a->ns;
    if (name)
        *name = a->name;
    if (value)
        *value = a->value;
    return 0;
}

const char *canto_stanza_text(const canto_stanza *node)
{
    if (!node)
        return NULL;
    if (node->kind == CANTO_NODE_TEXT || node->text)
        return node->text;
    const canto_stanza *only = NULL;
    size_t total = 0, count = 0;
    for (const canto_stanza *c = node->first; c; c = c->next) {
        if (c->kind == CANTO_NODE_TEXT) {
            only = c;
            total += c->text_len;
            count++;
        }
    }
    if (count == 0)
        return "";
    if (count == 1)
        return only->text;
    /* Mixed content is rare: join once and cache until the children change. */
    char *joined = canto__arena_alloc(node->doc, total + 1);
    if (!joined)
        return NULL;
    size_t off = 0;
    for (const canto_stanza *c = node->first; c; c = c->next) {
        if (c->kind == CANTO_NODE_TEXT) {
            memcpy(joined + off, c->text, c->text_len);
            off += c->text_len;
        }
    }
    joined[off] = '\0';
    canto_stanza *mut = (canto_stanza *)node;
    mut->text = joined;
    mut->text_len = total;
    return joined;
}

const char *canto_stanza_child_text(const canto_stanza *node, const char *name, const char *ns)
{
    const canto_stanza *c = canto_stanza_child(node, name, ns);
    return c ? canto_stanza_text(c) : NULL;
}

canto_stanza *canto_stanza_parent(const canto_stanza *node)
{
    return node ? node->parent : NULL;
}

canto_stanza *canto_stanza_root(const canto_stanza *node)
{
    if (!node)
        return NULL;
    while (node->parent)
        node = node->parent;
    return (canto_stanza *)node;
}

canto_stanza *canto_stanza_first(const canto_stanza *node)
{
    return node ? node->first : NULL;
}

canto_stanza *canto_stanza_next(const canto_stanza *node)
{
    return node ? node->next : NULL;
}

canto_stanza *canto_stanza_first_element(const canto_stanza *node)
{
    if (!node)
        return NULL;
    canto_stanza *c = node->first;
    while (c && c->kind != CANTO_NODE_ELEMENT)
        c = c->next;
    return c;
}

canto_stanza *canto_stanza_next_element(const canto_stanza *node)
{
    if (!node)
        return NULL;
    canto_stanza *c = node->next;
    while (c && c->kind != CANTO_NODE_ELEMENT)
        c = c->next;
    return c;
}

size_t canto_stanza_child_count(const canto_stanza *node)
{
    return node ? node->nchildren : 0;
}

static canto_stanza *match_from(canto_stanza *c, const char *name, const char *ns)
{
    for (; c; c = c->next)
        if (canto_stanza_is(c, name, ns))
            return c;
    return NULL;
}

canto_stanza *canto_stanza_child(const canto_stanza *node, const char *name, const char *ns)
{
    return node ? match_from(node->first, name, ns) : NULL;
}

canto_stanza *canto_stanza_next_match(const canto_stanza *node, const char *name, const char *ns)
{
    return node ? match_from(node->next, name, ns) : NULL;
}
