/* What plugins build on: state listeners, send filters, and the feature and
 * identity registry that disco and caps publish. */
#include "client/client_impl.h"

#include <string.h>

#include <canto/error.h>

static int add_hook(canto_client *c, canto__hooks *h, void (*fn)(void), void *ud, unsigned *id)
{
    if (!c || !fn)
        return CANTO_EINVAL;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 4;
        canto__hook *n = canto__realloc(&c->alloc, h->items, cap * sizeof(*n));
        if (!n)
            return CANTO_ENOMEM;
        h->items = n;
        h->cap = cap;
    }
    canto__hook k = {c->next_hook_id++, fn, ud, 0};
    h->items[h->n++] = k;
    if (id)
        *id = k.id;
    return 0;
}

static int remove_hook(canto_client *c, canto__hooks *h, unsigned id)
{
    if (!c)
        return CANTO_EINVAL;
    for (size_t i = 0; i < h->n; i++) {
        if (h->items[i].id == id && !h->items[i].removed) {
            /* Removal only marks: the array may be walked right now. */
            h->items[i].removed = 1;
            h->dirty = 1;
            return 0;
        }
    }
    return CANTO_ENOTFOUND;
}

void canto__hooks_compact(canto__hooks *h)
{
    if (!h->dirty || h->walking)
        return;
    size_t j = 0;
    for (size_t i = 0; i < h->n; i++)
        if (!h->items[i].removed)
            h->items[j++] = h->items[i];
    h->n = j;
    h->dirty = 0;
}

void canto__hooks_free(canto_client *c, canto__hooks *h)
{
    canto__dealloc(&c->alloc, h->items);
    memset(h, 0, sizeof(*h));
}

int canto_client_add_listener(canto_client *c, canto_client_state_fn fn, void *ud, unsigned *id)
{
    return add_hook(c, c ? &c->listeners : NULL, (void (*)(void))fn, ud, id);
}

int canto_client_remove_listener(canto_client *c, unsigned id)
{
    return remove_hook(c, c ? &c->listeners : NULL, id);
}

int canto_client_add_send_filter(canto_client *c, canto_send_filter_fn fn, void *ud, unsigned *id)
{
    return add_hook(c, c ? &c->filters : NULL, (void (*)(void))fn, ud, id);
}

int canto_client_remove_send_filter(canto_client *c, unsigned id)
{
    return remove_hook(c, c ? &c->filters : NULL, id);
}

void canto__client_notify_listeners(canto_client *c, canto_client_state st,
                                    const canto_disconnect_info *info)
{
    canto__hooks *h = &c->listeners;
    int outer = !h->walking;
    h->walking = 1;
    /* Count fixed up front: listeners added now first hear the next change. */
    size_t n = h->n;
    for (size_t i = 0; i < n && !c->freed; i++) {
        canto__hook k = h->items[i];
        if (!k.removed)
            ((canto_client_state_fn)k.fn)(k.ud, c, st, info);
    }
    if (outer) {
        h->walking = 0;
        canto__hooks_compact(h);
    }
}

int canto__client_run_filters(canto_client *c, canto_stanza *st)
{
    canto__hooks *h = &c->filters;
    int outer = !h->walking;
    h->walking = 1;
    int rc = 0;
    size_t n = h->n;
    for (size_t i = 0; i < n && rc == 0 && !c->freed; i++) {
        canto__hook k = h->items[i];
        if (!k.removed)
            rc = ((canto_send_filter_fn)k.fn)(k.ud, c, st);
    }
    if (outer) {
        h->walking = 0;
        canto__hooks_compact(h);
    }
    return rc;
}

/* --- features and identity ------------------------------------------------ */

static size_t feature_pos(const canto_client *c, const char *var, int *found)
{
    size_t lo = 0, hi = c->nfeatures;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(c->features[mid], var);
        if (cmp == 0) {
            *found = 1;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

int canto_client_add_feature(canto_client *c, const char *var)
{
    if (!c || !var || !*var)
        return CANTO_EINVAL;
    int found;
    size_t pos = feature_pos(c, var, &found);
    if (found) {
        /* Counted: two plugins may announce the same feature, and it stays
         * until both have withdrawn it. */
        c->feature_refs[pos]++;
        return 0;
    }
    if (c->nfeatures == c->feature_cap) {
        size_t cap = c->feature_cap ? c->feature_cap * 2 : 8;
        char **n = canto__realloc(&c->alloc, c->features, cap * sizeof(*n));
        if (!n)
            return CANTO_ENOMEM;
        c->features = n;
        unsigned *r = canto__realloc(&c->alloc, c->feature_refs, cap * sizeof(*r));
        if (!r)
            return CANTO_ENOMEM;
        c->feature_refs = r;
        c->feature_cap = cap;
    }
    char *copy = canto__strndup(&c->alloc, var, strlen(var));
    if (!copy)
        return CANTO_ENOMEM;
    memmove(&c->features[pos + 1], &c->features[pos], (c->nfeatures - pos) * sizeof(char *));
    memmove(&c->feature_refs[pos + 1], &c->feature_refs[pos],
            (c->nfeatures - pos) * sizeof(unsigned));
    c->features[pos] = copy;
    c->feature_refs[pos] = 1;
    c->nfeatures++;
    return 0;
}

int canto_client_remove_feature(canto_client *c, const char *var)
{
    if (!c || !var)
        return CANTO_EINVAL;
    int found;
    size_t pos = feature_pos(c, var, &found);
    if (!found)
        return CANTO_ENOTFOUND;
    if (--c->feature_refs[pos] > 0)
        return 0;
    canto__dealloc(&c->alloc, c->features[pos]);
    memmove(&c->features[pos], &c->features[pos + 1], (c->nfeatures - pos - 1) * sizeof(char *));
    memmove(&c->feature_refs[pos], &c->feature_refs[pos + 1],
            (c->nfeatures - pos - 1) * sizeof(unsigned));
    c->nfeatures--;
    return 0;
}

const char *canto_client_feature(const canto_client *c, size_t index)
{
    return c && index < c->nfeatures ? c->features[index] : NULL;
}

void canto__client_features_free(canto_client *c)
{
    for (size_t i = 0; i < c->nfeatures; i++)
        canto__dealloc(&c->alloc, c->features[i]);
    canto__dealloc(&c->alloc, c->features);
    canto__dealloc(&c->alloc, c->feature_refs);
    c->features = NULL;
    c->feature_refs = NULL;
    c->nfeatures = c->feature_cap = 0;
    for (int i = 0; i < 3; i++) {
        canto__dealloc(&c->alloc, c->identity[i]);
        c->identity[i] = NULL;
    }
}

int canto_client_set_identity(canto_client *c, const char *category, const char *type,
                              const char *name)
{
    if (!c || !category || !*category || !type || !*type)
        return CANTO_EINVAL;
    const char *in[3] = {category, type, name};
    char *copy[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++) {
        if (in[i] && !(copy[i] = canto__strndup(&c->alloc, in[i], strlen(in[i])))) {
            for (int j = 0; j < i; j++)
                canto__dealloc(&c->alloc, copy[j]);
            return CANTO_ENOMEM;
        }
    }
    for (int i = 0; i < 3; i++) {
        canto__dealloc(&c->alloc, c->identity[i]);
        c->identity[i] = copy[i];
    }
    return 0;
}

int canto_client_get_identity(const canto_client *c, const char **category, const char **type,
                              const char **name)
{
    if (!c)
        return CANTO_EINVAL;
    if (category)
        *category = c->identity[0] ? c->identity[0] : "client";
    if (type)
        *type = c->identity[1] ? c->identity[1] : "pc";
    if (name)
        *name = c->identity[0] ? c->identity[2] : NULL;
    return 0;
}

int canto_client_has_stream_feature(const canto_client *c, const char *name, const char *ns)
{
    return c && c->stream && canto__stream_has_feature(c->stream, name, ns);
}
