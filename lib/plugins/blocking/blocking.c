/* Blocking Command (XEP-0191): fetch, block, unblock, pushes from the
 * account only, and a copy of the list. Public API only. */
#include <stdlib.h>
#include <string.h>

#include <canto/blocking.h>
#include <canto/error.h>
#include <canto/jid.h>

#include "plugins/common/push.h"

enum kind { GET, BLOCK, UNBLOCK };

typedef struct pending {
    struct pending *next;
    canto_blocking *b;
    unsigned handle;
    enum kind kind;
    char **jids; /* BLOCK/UNBLOCK: what was sent (normalized) */
    size_t n;
    canto_blocking_result_fn fn;
    void *ud;
} pending;

struct canto_blocking {
    canto_client *client;
    unsigned handler_id;
    char **items;
    size_t nitems, cap;
    pending *requests;
    canto_blocking_change_fn change_fn;
    void *change_ud;
    int depth, freed;
};

/* --- string lists --------------------------------------------------------- */

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Normalize @p jid into a new string. */
static int normalize(const char *jid, char **out)
{
    canto_jid *j;
    int rc = canto_jid_parse(NULL, jid, &j);
    if (rc)
        return rc;
    *out = strdup(canto_jid_str(j));
    canto_jid_free(j);
    return *out ? 0 : CANTO_ENOMEM;
}

static int normalize_all(const char *const *jids, size_t n, char ***out)
{
    *out = NULL;
    if (n == 0)
        return 0;
    char **v = calloc(n, sizeof(*v));
    if (!v)
        return CANTO_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = jids[i] ? normalize(jids[i], &v[i]) : CANTO_EINVAL;
        if (rc) {
            strv_free(v, i);
            return rc;
        }
    }
    *out = v;
    return 0;
}

static size_t find(const canto_blocking *b, const char *jid)
{
    for (size_t i = 0; i < b->nitems; i++)
        if (strcmp(b->items[i], jid) == 0)
            return i;
    return (size_t)-1;
}

static int copy_add(canto_blocking *b, const char *jid)
{
    if (find(b, jid) != (size_t)-1)
        return 0;
    if (b->nitems == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        char **n = realloc(b->items, cap * sizeof(*n));
        if (!n)
            return CANTO_ENOMEM;
        b->items = n;
        b->cap = cap;
    }
    char *d = strdup(jid);
    if (!d)
        return CANTO_ENOMEM;
    b->items[b->nitems++] = d;
    return 0;
}

static void copy_remove(canto_blocking *b, const char *jid)
{
    size_t i = find(b, jid);
    if (i == (size_t)-1)
        return;
    free(b->items[i]);
    memmove(&b->items[i], &b->items[i + 1], (b->nitems - i - 1) * sizeof(char *));
    b->nitems--;
}

static void copy_clear(canto_blocking *b)
{
    for (size_t i = 0; i < b->nitems; i++)
        free(b->items[i]);
    b->nitems = 0;
}

static void apply(canto_blocking *b, int blocked, char *const *jids, size_t n)
{
    if (!blocked && n == 0) {
        copy_clear(b);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (blocked)
            copy_add(b, jids[i]); /* out of memory: the copy misses one; a fetch repairs it */
        else
            copy_remove(b, jids[i]);
    }
}

/* The valid `jid`s of the <item/> children of @p el, normalized. */
static int read_items(const canto_stanza *el, char ***out, size_t *nout)
{
    size_t n = 0, cap = 0;
    char **v = NULL;
    for (const canto_stanza *it = canto_stanza_child(el, "item", CANTO_NS_BLOCKING); it;
         it = canto_stanza_next_match(it, "item", CANTO_NS_BLOCKING)) {
        const char *jid = canto_stanza_attr(it, "jid");
        char *norm;
        if (!jid || normalize(jid, &norm) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            char **nv = realloc(v, cap * sizeof(*nv));
            if (!nv) {
                free(norm);
                strv_free(v, n);
                return CANTO_ENOMEM;
            }
            v = nv;
        }
        v[n++] = norm;
    }
    *out = v;
    *nout = n;
    return 0;
}

/* --- life cycle helpers --------------------------------------------------- */

static void destroy(canto_blocking *b)
{
    strv_free(b->items, b->nitems);
    free(b);
}

static void enter(canto_blocking *b)
{
    b->depth++;
}

static void leave(canto_blocking *b)
{
    if (--b->depth == 0 && b->freed)
        destroy(b);
}

/* --- pushes --------------------------------------------------------------- */

static int on_push(void *ud, canto_client *client, canto_stanza *st)
{
    canto_blocking *b = ud;
    const char *from = canto_stanza_attr(st, "from");
    const char *id = canto_stanza_attr(st, "id");
    if (!canto__push_from_account(client, from) || !id)
        return 0;
    const canto_stanza *el = canto_stanza_first_element(st);
    int blocked;
    if (canto_stanza_is(el, "block", CANTO_NS_BLOCKING))
        blocked = 1;
    else if (canto_stanza_is(el, "unblock", CANTO_NS_BLOCKING))
        blocked = 0;
    else
        return 0;
    char **jids;
    size_t n;
    if (read_items(el, &jids, &n) != 0)
        return 0; /* out of memory: the default error answer goes out */
    canto__push_answer(client, from, id);
    /* A block naming nobody valid changes nothing (and an unblock of nobody
     * valid is not an unblock-all unless it named nobody at all). */
    int all = !blocked && !canto_stanza_child(el, "item", CANTO_NS_BLOCKING);
    if (n > 0 || all) {
        apply(b, blocked, jids, n);
        if (b->change_fn) {
            enter(b);
            b->change_fn(b->change_ud, b, blocked, (const char *const *)jids, n);
            leave(b);
        }
    }
    strv_free(jids, n);
    return 1;
}

/* --- requests ------------------------------------------------------------- */

static void unlink_request(canto_blocking *b, pending *q)
{
    for (pending **pp = &b->requests; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            return;
        }
    }
}

static void request_free(pending *q)
{
    strv_free(q->jids, q->n);
    free(q);
}

static void on_get_result(canto_blocking *b, const canto_stanza *st)
{
    const canto_stanza *list = canto_stanza_child(st, "blocklist", CANTO_NS_BLOCKING);
    char **jids;
    size_t n;
    if (!list || read_items(list, &jids, &n) != 0)
        return;
    strv_free(b->items, b->nitems);
    b->items = jids;
    b->nitems = b->cap = n;
}

static void on_answer(void *ud, canto_client *client, const canto_iq_response *resp)
{
    pending *q = ud;
    canto_blocking *b = q->b;
    (void)client;
    unlink_request(b, q);
    enter(b);
    if (resp->outcome == CANTO_IQ_RESULT && !b->freed) {
        if (q->kind == GET)
            on_get_result(b, resp->stanza);
        else
            apply(b, q->kind == BLOCK, q->jids, q->n);
    }
    if (q->fn && !b->freed)
        q->fn(q->ud, b, resp);
    request_free(q);
    leave(b);
}

static int send_request(canto_blocking *b, enum kind kind, const char *const *jids, size_t n,
                        canto_blocking_result_fn fn, void *ud)
{
    pending *q = calloc(1, sizeof(*q));
    if (!q)
        return CANTO_ENOMEM;
    q->b = b;
    q->kind = kind;
    q->fn = fn;
    q->ud = ud;
    int rc = normalize_all(jids, n, &q->jids);
    if (rc) {
        free(q);
        return rc;
    }
    q->n = n;
    static const char *const names[] = {"blocklist", "block", "unblock"};
    canto_stanza *iq = NULL, *el;
    rc = canto_stanza_new(NULL, "iq", CANTO_NS_CLIENT, &iq);
    if (rc == 0)
        rc = canto_stanza_set_attr(iq, "type", kind == GET ? "get" : "set");
    if (rc == 0)
        rc = canto_stanza_add_child(iq, names[kind], CANTO_NS_BLOCKING, &el);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        canto_stanza *item;
        rc = canto_stanza_add_child(el, "item", CANTO_NS_BLOCKING, &item);
        if (rc == 0)
            rc = canto_stanza_set_attr(item, "jid", q->jids[i]);
    }
    if (rc == 0)
        rc = canto_client_send_iq(b->client, iq, 0, on_answer, q, &q->handle);
    canto_stanza_free(iq);
    if (rc) {
        request_free(q);
        return rc;
    }
    q->next = b->requests;
    b->requests = q;
    return 0;
}

int canto_blocking_get(canto_blocking *b, canto_blocking_result_fn fn, void *ud)
{
    if (!b || b->freed)
        return CANTO_EINVAL;
    return send_request(b, GET, NULL, 0, fn, ud);
}

int canto_blocking_block(canto_blocking *b, const char *const *jids, size_t n,
                         canto_blocking_result_fn fn, void *ud)
{
    if (!b || b->freed || !jids || n == 0)
        return CANTO_EINVAL;
    return send_request(b, BLOCK, jids, n, fn, ud);
}

int canto_blocking_unblock(canto_blocking *b, const char *const *jids, size_t n,
                           canto_blocking_result_fn fn, void *ud)
{
    if (!b || b->freed || (n > 0 && !jids))
        return CANTO_EINVAL;
    return send_request(b, UNBLOCK, jids, n, fn, ud);
}

/* --- the copy ------------------------------------------------------------- */

size_t canto_blocking_count(const canto_blocking *b)
{
    return b ? b->nitems : 0;
}

const char *canto_blocking_item(const canto_blocking *b, size_t index)
{
    return b && index < b->nitems ? b->items[index] : NULL;
}

int canto_blocking_contains(const canto_blocking *b, const char *jid)
{
    char *norm;
    if (!b || !jid || normalize(jid, &norm) != 0)
        return 0;
    int found = find(b, norm) != (size_t)-1;
    free(norm);
    return found;
}

/* --- life cycle ----------------------------------------------------------- */

int canto_blocking_new(canto_client *client, canto_blocking **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!client)
        return CANTO_EINVAL;
    canto_blocking *b = calloc(1, sizeof(*b));
    if (!b)
        return CANTO_ENOMEM;
    b->client = client;
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "iq";
    m.type = "set";
    m.ns = CANTO_NS_BLOCKING;
    int rc = canto_client_add_handler(client, &m, on_push, b, &b->handler_id);
    if (rc) {
        free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void canto_blocking_free(canto_blocking *b)
{
    if (!b || b->freed)
        return;
    b->freed = 1;
    canto_client_remove_handler(b->client, b->handler_id);
    enter(b);
    pending *list = b->requests;
    b->requests = NULL;
    while (list) {
        pending *q = list;
        list = q->next;
        canto_client_cancel_iq(b->client, q->handle);
        if (q->fn) {
            canto_iq_response resp = {CANTO_IQ_RESPONSE_VERSION, CANTO_IQ_CANCELED, NULL,
                                      CANTO_STANZA_ERROR_INIT, ""};
            q->fn(q->ud, b, &resp);
        }
        request_free(q);
    }
    leave(b);
}

int canto_blocking_set_change_callback(canto_blocking *b, canto_blocking_change_fn fn, void *ud)
{
    if (!b)
        return CANTO_EINVAL;
    b->change_fn = fn;
    b->change_ud = ud;
    return 0;
}
