/* Tree -> XML text. Namespaces are written as default-namespace declarations
 * wherever an element's namespace differs from the one in scope, and attribute
 * namespaces get generated prefixes. The walk is iterative so a deep tree can
 * not exhaust the C stack. */
#include "xml/tree.h"

#include <stdio.h>
#include <string.h>

#include <canto/error.h>
#include "base/buf.h"

/* Escape for both text and attribute values (single or double quoted). CR, LF
 * and TAB inside attributes would be normalized away by a reader, and CR in text
 * would be turned into LF, so they are written as character references. */
void canto__xml_escape_into(canto__buf *b, const char *s, size_t len, int attr)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = attr ? "&quot;" : NULL;
            break;
        case '\'':
            rep = attr ? "&apos;" : NULL;
            break;
        case '\r':
            rep = "&#13;";
            break;
        case '\n':
            rep = attr ? "&#10;" : NULL;
            break;
        case '\t':
            rep = attr ? "&#9;" : NULL;
            break;
        default:
            rep = NULL;
            break;
        }
        if (!rep)
            continue;
        canto__buf_append(b, s + start, i - start);
        canto__buf_puts(b, rep);
        start = i + 1;
    }
    canto__buf_append(b, s + start, len - start);
}

static int str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void put_attr(canto__buf *b, const char *prefix, const char *name, const char *value,
                     size_t len)
{
    canto__buf_append(b, " ", 1);
    if (prefix) {
        canto__buf_puts(b, prefix);
        canto__buf_append(b, ":", 1);
    }
    canto__buf_puts(b, name);
    canto__buf_append(b, "='", 2);
    canto__xml_escape_into(b, value, len, 1);
    canto__buf_append(b, "'", 1);
}

/* The XML namespace can only be reached through its reserved "xml" prefix: it
 * must never be declared as a default namespace. Children compare against it
 * as their parent's namespace, so they always declare their own. */
static int in_xml_ns(const canto_stanza *e)
{
    return e->ns && strcmp(e->ns, CANTO__NS_XML) == 0;
}

static void open_tag(canto__buf *b, const canto_stanza *e, const char *scope_ns)
{
    int xml_ns = in_xml_ns(e);
    canto__buf_append(b, xml_ns ? "<xml:" : "<", xml_ns ? 5 : 1);
    canto__buf_puts(b, e->name);
    if (!xml_ns && !str_eq(e->ns, scope_ns))
        put_attr(b, NULL, "xmlns", e->ns ? e->ns : "", e->ns ? strlen(e->ns) : 0);
    for (uint32_t i = 0; i < e->nattrs; i++) {
        const canto__attr *a = &e->attrs[i];
        if (!a->ns) {
            put_attr(b, NULL, a->name, a->value, a->value_len);
            continue;
        }
        /* One prefix per namespaced attribute keeps this stateless; such
         * attributes are rare in XMPP. */
        char prefix[24];
        snprintf(prefix, sizeof(prefix), "ns%u", (unsigned)i);
        put_attr(b, "xmlns", prefix, a->ns, strlen(a->ns));
        put_attr(b, prefix, a->name, a->value, a->value_len);
    }
    canto__buf_append(b, e->first ? ">" : "/>", e->first ? 1 : 2);
}

static void close_tag(canto__buf *b, const canto_stanza *e)
{
    int xml_ns = in_xml_ns(e);
    canto__buf_append(b, xml_ns ? "</xml:" : "</", xml_ns ? 6 : 2);
    canto__buf_puts(b, e->name);
    canto__buf_append(b, ">", 1);
}

static void write_tree(canto__buf *b, const canto_stanza *top, const char *parent_ns)
{
    const canto_stanza *n = top;
    for (;;) {
        if (n->kind == CANTO_NODE_TEXT) {
            canto__xml_escape_into(b, n->text, n->text_len, 0);
        } else {
            open_tag(b, n, n == top ? parent_ns : n->parent->ns);
            if (n->first) {
                n = n->first;
                continue;
            }
        }
        /* Leaf done: close finished ancestors until one has a next sibling. */
        while (n != top && !n->next) {
            n = n->parent;
            close_tag(b, n);
        }
        if (n == top)
            return;
        n = n->next;
    }
}

void canto__serialize_into(canto__buf *b, const canto_stanza *node, const char *parent_ns)
{
    write_tree(b, node, parent_ns);
}

int canto__serialize(const canto_stanza *node, const char *parent_ns, char **out, size_t *len)
{
    canto__buf b;
    canto__buf_init(&b, &node->doc->alloc);
    write_tree(&b, node, parent_ns);
    return canto__buf_take(&b, out, len);
}

int canto_stanza_to_string(const canto_stanza *node, char **out, size_t *len)
{
    if (out)
        *out = NULL;
    if (!node || !out)
        return CANTO_EINVAL;
    return canto__serialize(node, NULL, out, len);
}
