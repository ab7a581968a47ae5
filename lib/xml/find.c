/* canto_stanza_find(): short child paths like "{jabber:iq:roster}query/item". */
#include "xml/tree.h"

#include <string.h>

typedef struct step {
    const char *ns, *name; /* pointers into the path; NULL: any */
    size_t ns_len, name_len;
} step;

/* Parse the step at *p; advances *p past it and an optional '/'. 0 on a
 * malformed step. */
static int parse_step(const char **p, step *st)
{
    const char *s = *p;
    st->ns = NULL;
    st->ns_len = 0;
    if (*s == '{') {
        const char *close = strchr(s, '}');
        if (!close)
            return 0;
        st->ns = s + 1;
        st->ns_len = (size_t)(close - s - 1);
        s = close + 1;
    }
    size_t n = strcspn(s, "/");
    if (n == 0)
        return 0;
    st->name = (n == 1 && s[0] == '*') ? NULL : s;
    st->name_len = n;
    s += n;
    if (*s == '/') {
        s++;
        if (*s == '\0')
            return 0;
    }
    *p = s;
    return 1;
}

static int step_matches(const canto_stanza *c, const step *st)
{
    if (c->kind != CANTO_NODE_ELEMENT)
        return 0;
    if (st->name && (strncmp(c->name, st->name, st->name_len) != 0 || c->name[st->name_len]))
        return 0;
    if (st->ns) {
        const char *ns = c->ns ? c->ns : "";
        if (strncmp(ns, st->ns, st->ns_len) != 0 || ns[st->ns_len])
            return 0;
    }
    return 1;
}

/* Depth-first over the path: the first match in document order wins, and a
 * step that matches several siblings is backtracked over. Paths are short, so
 * recursion depth is bounded by the number of steps in the caller's string. */
static canto_stanza *find_from(const canto_stanza *node, const char *path)
{
    step st;
    const char *rest = path;
    if (!parse_step(&rest, &st))
        return NULL;
    for (canto_stanza *c = node->first; c; c = c->next) {
        if (!step_matches(c, &st))
            continue;
        if (*rest == '\0')
            return c;
        canto_stanza *found = find_from(c, rest);
        if (found)
            return found;
    }
    return NULL;
}

canto_stanza *canto_stanza_find(const canto_stanza *node, const char *path)
{
    if (!node || !path || !*path || node->kind != CANTO_NODE_ELEMENT)
        return NULL;
    return find_from(node, path);
}
