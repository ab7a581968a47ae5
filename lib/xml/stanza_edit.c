/* Changing stanza trees through the public API. Every string is validated here,
 * so the serializer can trust what it writes. */
#include "xml/tree.h"

#include <string.h>

#include <canto/error.h>
#include "base/utf8.h"

static int check_name(const char *name)
{
    if (!name)
        return CANTO_EINVAL;
    return canto__xml_name_check(name, strlen(name));
}

/* Attribute names may carry the reserved "xml:" prefix (xml:lang, xml:space);
 * other prefixes are expressed with a namespace instead. */
static int check_attr_name(const char *name)
{
    if (name && strncmp(name, "xml:", 4) == 0)
        return canto__xml_name_check(name + 4, strlen(name + 4));
    return check_name(name);
}

static int check_ns(const char *ns)
{
    if (!ns)
        return 0;
    return canto__xml_text_check(ns, strlen(ns));
}

static int is_element(const canto_stanza *node)
{
    return node && node->kind == CANTO_NODE_ELEMENT;
}

int canto_stanza_new(const canto_allocator *alloc, const char *name, const char *ns,
                     canto_stanza **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    canto__alloc a;
    int rc = canto__alloc_init(&a, alloc);
    if (rc == 0)
        rc = check_name(name);
    if (rc == 0)
        rc = check_ns(ns);
    if (rc)
        return rc;
    canto__doc *doc = canto__doc_new(&a, 1024);
    if (!doc)
        return CANTO_ENOMEM;
    const char *n = canto__arena_name(doc, name, strlen(name));
    const char *s = ns ? canto__arena_name(doc, ns, strlen(ns)) : NULL;
    canto_stanza *e = n && (!ns || s) ? canto__elem_new(doc, NULL, n, s) : NULL;
    if (!e) {
        canto__doc_unref(doc);
        return CANTO_ENOMEM;
    }
    *out = e;
    return 0;
}

int canto_stanza_set_name(canto_stanza *node, const char *name)
{
    if (!is_element(node))
        return CANTO_EINVAL;
    int rc = check_name(name);
    if (rc)
        return rc;
    const char *n = canto__arena_name(node->doc, name, strlen(name));
    if (!n)
        return CANTO_ENOMEM;
    node->name = n;
    return 0;
}

int canto_stanza_set_ns(canto_stanza *node, const char *ns)
{
    if (!is_element(node))
        return CANTO_EINVAL;
    int rc = check_ns(ns);
    if (rc)
        return rc;
    const char *s = ns ? canto__arena_name(node->doc, ns, strlen(ns)) : NULL;
    if (ns && !s)
        return CANTO_ENOMEM;
    node->ns = s;
    return 0;
}

static int attr_index(const canto_stanza *node, const char *ns, const char *name)
{
    for (uint32_t i = 0; i < node->nattrs; i++) {
        const canto__attr *a = &node->attrs[i];
        if (strcmp(a->name, name) == 0 && (a->ns == ns || (a->ns && ns && strcmp(a->ns, ns) == 0)))
            return (int)i;
    }
    return -1;
}

int canto_stanza_set_attr_ns(canto_stanza *node, const char *ns, const char *name,
                             const char *value)
{
    if (!is_element(node))
        return CANTO_EINVAL;
    int rc = check_attr_name(name);
    if (rc == 0)
        rc = check_ns(ns);
    if (rc)
        return rc;
    if (ns && *ns == '\0')
        ns = NULL;
    char prefixed[64];
    if (ns && strcmp(ns, CANTO__NS_XML) == 0) {
        if (strlen(name) >= sizeof(prefixed) - 4)
            return CANTO_EINVAL;
        memcpy(prefixed, "xml:", 4);
        strcpy(prefixed + 4, name);
        name = prefixed;
        ns = NULL;
    }
    int idx = attr_index(node, ns, name);
    if (!value) {
        if (idx >= 0) {
            memmove(&node->attrs[idx], &node->attrs[idx + 1],
                    (node->nattrs - (uint32_t)idx - 1) * sizeof(canto__attr));
            node->nattrs--;
        }
        return 0;
    }
    size_t vlen = strlen(value);
    rc = canto__xml_text_check(value, vlen);
    if (rc)
        return rc;
    const char *v = canto__arena_strndup(node->doc, value, vlen);
    if (!v)
        return CANTO_ENOMEM;
    if (idx >= 0) {
        node->attrs[idx].value = v;
        node->attrs[idx].value_len = vlen;
        return 0;
    }
    const char *n = canto__arena_name(node->doc, name, strlen(name));
    const char *s = ns ? canto__arena_name(node->doc, ns, strlen(ns)) : NULL;
    if (!n || (ns && !s))
        return CANTO_ENOMEM;
    return canto__elem_push_attr(node, s, n, v, vlen);
}

int canto_stanza_set_attr(canto_stanza *node, const char *name, const char *value)
{
    return canto_stanza_set_attr_ns(node, NULL, name, value);
}

int canto_stanza_add_text(canto_stanza *node, const char *text, size_t len)
{
    if (!is_element(node) || (!text && len))
        return CANTO_EINVAL;
    int rc = canto__xml_text_check(text, len);
    if (rc)
        return rc;
    if (len == 0)
        return 0;
    return canto__text_new(node, text, len) ? 0 : CANTO_ENOMEM;
}

int canto_stanza_set_text(canto_stanza *node, const char *text)
{
    if (!node)
        return CANTO_EINVAL;
    size_t len = text ? strlen(text) : 0;
    int rc = canto__xml_text_check(text, len);
    if (rc)
        return rc;
    if (node->kind == CANTO_NODE_TEXT) {
        char *t = canto__arena_strndup(node->doc, text ? text : "", len);
        if (!t)
            return CANTO_ENOMEM;
        node->text = t;
        node->text_len = len;
        if (node->parent)
            node->parent->text = NULL;
        return 0;
    }
    /* Copy first so a failure leaves the element as it was. */
    char *t = len ? canto__arena_strndup(node->doc, text, len) : NULL;
    if (len && !t)
        return CANTO_ENOMEM;
    canto_stanza *c = node->first;
    while (c) {
        canto_stanza *next = c->next;
        if (c->kind == CANTO_NODE_TEXT)
            canto__node_unlink(c);
        c = next;
    }
    node->text = NULL;
    if (!len)
        return 0;
    canto_stanza *tn = canto__text_new(node, "", 0);
    if (!tn)
        return CANTO_ENOMEM;
    tn->text = t;
    tn->text_len = len;
    return 0;
}

int canto_stanza_add_child(canto_stanza *parent, const char *name, const char *ns,
                           canto_stanza **child)
{
    if (child)
        *child = NULL;
    if (!is_element(parent))
        return CANTO_EINVAL;
    int rc = check_name(name);
    if (rc == 0)
        rc = check_ns(ns);
    if (rc)
        return rc;
    const char *n = canto__arena_name(parent->doc, name, strlen(name));
    const char *s = ns ? canto__arena_name(parent->doc, ns, strlen(ns)) : parent->ns;
    if (!n || (ns && !s))
        return CANTO_ENOMEM;
    canto_stanza *c = canto__elem_new(parent->doc, parent, n, s);
    if (!c)
        return CANTO_ENOMEM;
    if (child)
        *child = c;
    return 0;
}

static int is_ancestor_or_self(const canto_stanza *maybe, const canto_stanza *node)
{
    for (; node; node = node->parent)
        if (node == maybe)
            return 1;
    return 0;
}

int canto_stanza_append_copy(canto_stanza *parent, const canto_stanza *tree, canto_stanza **copy)
{
    if (copy)
        *copy = NULL;
    if (!is_element(parent) || !tree || is_ancestor_or_self(tree, parent))
        return CANTO_EINVAL;
    canto_stanza *c = canto__node_copy(parent->doc, parent, tree);
    if (!c)
        return CANTO_ENOMEM;
    if (copy)
        *copy = c;
    return 0;
}

int canto_stanza_remove(canto_stanza *node)
{
    if (!node || !node->parent)
        return CANTO_EINVAL;
    canto__node_unlink(node);
    return 0;
}

int canto_stanza_replace(canto_stanza *old, const canto_stanza *with, canto_stanza **copy)
{
    if (copy)
        *copy = NULL;
    if (!old || !old->parent || !with || is_ancestor_or_self(with, old->parent))
        return CANTO_EINVAL;
    canto_stanza *parent = old->parent;
    canto_stanza *c = canto__node_copy(parent->doc, parent, with);
    if (!c)
        return CANTO_ENOMEM;
    /* The copy went to the end; move it into old's place. */
    canto__node_unlink(c);
    canto__node_link(parent, c, old);
    canto__node_unlink(old);
    if (copy)
        *copy = c;
    return 0;
}
