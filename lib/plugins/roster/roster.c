/* Roster (RFC 6121 §2): fetch with versioning, pushes, add/update/remove,
 * an in-memory copy that can be exported and imported. Public API only. */
#include <canto/roster.h>

#include <stdlib.h>
#include <string.h>

#include <canto/error.h>
#include <canto/memory.h>

#include "plugins/common/push.h"

#define NS_ROSTERVER "urn:xmpp:features:rosterver"

struct canto_roster_item {
    canto_jid *jid;
    char *name;
    canto_roster_subscription sub;
    int ask;
    int approved;
    char **groups;
    size_t ngroups;
};

typedef struct request request;
struct request {
    request *next;
    canto_roster *roster;
    unsigned handle;
    int is_fetch;
    canto_roster_result_fn fn;
    void *ud;
};

struct canto_roster {
    canto_client *client;
    unsigned handler_id;
    canto_roster_item **items; /* sorted by JID string */
    size_t nitems;
    char *version;
    unsigned generation; /* bumped by every change of the copy */
    request *requests;
    canto_roster_changed_fn changed_fn;
    void *changed_ud;
    int depth;
    int freed;
};

/* --- items ---------------------------------------------------------------- */

const char *canto_roster_subscription_name(canto_roster_subscription sub)
{
    switch (sub) {
    case CANTO_ROSTER_SUB_NONE:
        return "none";
    case CANTO_ROSTER_SUB_TO:
        return "to";
    case CANTO_ROSTER_SUB_FROM:
        return "from";
    case CANTO_ROSTER_SUB_BOTH:
        return "both";
    case CANTO_ROSTER_SUB_REMOVE:
        return "remove";
    }
    return NULL;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void item_free(canto_roster_item *it)
{
    if (!it)
        return;
    canto_jid_free(it->jid);
    free(it->name);
    for (size_t i = 0; i < it->ngroups; i++)
        free(it->groups[i]);
    free(it->groups);
    free(it);
}

static void items_free(canto_roster_item **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        item_free(items[i]);
    free(items);
}

static int has_group(const canto_roster_item *it, const char *g)
{
    for (size_t i = 0; i < it->ngroups; i++)
        if (strcmp(it->groups[i], g) == 0)
            return 1;
    return 0;
}

/* Append @p g unless it is already there. */
static int add_group(canto_roster_item *it, const char *g)
{
    if (has_group(it, g))
        return 0;
    char **n = realloc(it->groups, (it->ngroups + 1) * sizeof(*n));
    if (!n)
        return CANTO_ENOMEM;
    it->groups = n;
    if (!(n[it->ngroups] = dup_str(g)))
        return CANTO_ENOMEM;
    it->ngroups++;
    return 0;
}

static int parse_subscription(const char *s, canto_roster_subscription *out)
{
    *out = CANTO_ROSTER_SUB_NONE;
    if (!s)
        return 0;
    for (int i = CANTO_ROSTER_SUB_NONE; i <= CANTO_ROSTER_SUB_REMOVE; i++) {
        if (strcmp(s, canto_roster_subscription_name((canto_roster_subscription)i)) == 0) {
            *out = (canto_roster_subscription)i;
            return 0;
        }
    }
    return 0; /* unknown values read as "none" */
}

/* Read an <item/>. Returns CANTO_EINVAL for an item to skip (no or invalid
 * jid, or "remove" where it is not allowed), CANTO_ENOMEM. */
static int parse_item(const canto_stanza *el, int allow_remove, canto_roster_item **out)
{
    const char *jid = canto_stanza_attr(el, "jid");
    if (!jid)
        return CANTO_EINVAL;
    canto_roster_item *it = calloc(1, sizeof(*it));
    if (!it)
        return CANTO_ENOMEM;
    int rc = canto_jid_parse(NULL, jid, &it->jid);
    if (rc) {
        free(it);
        return rc == CANTO_ENOMEM ? rc : CANTO_EINVAL;
    }
    parse_subscription(canto_stanza_attr(el, "subscription"), &it->sub);
    if (it->sub == CANTO_ROSTER_SUB_REMOVE && !allow_remove)
        rc = CANTO_EINVAL;
    const char *name = canto_stanza_attr(el, "name");
    if (rc == 0 && name && *name && !(it->name = dup_str(name)))
        rc = CANTO_ENOMEM;
    const char *ask = canto_stanza_attr(el, "ask");
    it->ask = ask && strcmp(ask, "subscribe") == 0;
    const char *approved = canto_stanza_attr(el, "approved");
    it->approved = approved && (strcmp(approved, "true") == 0 || strcmp(approved, "1") == 0);
    const char *ns = canto_stanza_ns(el);
    for (const canto_stanza *g = canto_stanza_child(el, "group", ns); rc == 0 && g;
         g = canto_stanza_next_match(g, "group", ns)) {
        const char *text = canto_stanza_text(g);
        if (!text)
            rc = CANTO_ENOMEM;
        else if (*text)
            rc = add_group(it, text);
    }
    if (rc) {
        item_free(it);
        return rc;
    }
    *out = it;
    return 0;
}

static int str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int item_equal(const canto_roster_item *a, const canto_roster_item *b)
{
    if (!str_eq(a->name, b->name) || a->sub != b->sub || a->ask != b->ask ||
        a->approved != b->approved || a->ngroups != b->ngroups)
        return 0;
    for (size_t i = 0; i < a->ngroups; i++)
        if (strcmp(a->groups[i], b->groups[i]) != 0)
            return 0;
    return 1;
}

static const char *item_key(const canto_roster_item *it)
{
    return canto_jid_str(it->jid);
}

static size_t search(canto_roster_item *const *items, size_t n, const char *key, int *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(item_key(items[mid]), key);
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

/* Items of a <query/> as a sorted array; malformed items and repeated JIDs
 * are skipped. */
static int parse_items(const canto_stanza *query, canto_roster_item ***out, size_t *nout)
{
    canto_roster_item **items = NULL;
    size_t n = 0, cap = 0;
    const char *ns = canto_stanza_ns(query);
    int rc = 0;
    for (const canto_stanza *el = canto_stanza_child(query, "item", ns); el;
         el = canto_stanza_next_match(el, "item", ns)) {
        canto_roster_item *it;
        rc = parse_item(el, 0, &it);
        if (rc == CANTO_EINVAL) {
            rc = 0;
            continue;
        }
        if (rc)
            break;
        int found;
        size_t pos = search(items, n, item_key(it), &found);
        if (found) {
            item_free(it);
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            canto_roster_item **m = realloc(items, ncap * sizeof(*m));
            if (!m) {
                item_free(it);
                rc = CANTO_ENOMEM;
                break;
            }
            items = m;
            cap = ncap;
        }
        memmove(&items[pos + 1], &items[pos], (n - pos) * sizeof(it));
        items[pos] = it;
        n++;
    }
    if (rc) {
        items_free(items, n);
        return rc;
    }
    *out = items;
    *nout = n;
    return 0;
}

/* --- callbacks and life cycle -------------------------------------------- */

static void destroy(canto_roster *r)
{
    items_free(r->items, r->nitems);
    free(r->version);
    free(r);
}

static void enter(canto_roster *r)
{
    r->depth++;
}

static void leave(canto_roster *r)
{
    if (--r->depth == 0 && r->freed)
        destroy(r);
}

/* Call the change callback. Returns 0 if more events may follow, -1 if the
 * roster was freed or changed meanwhile (pointers to its items are stale). */
static int emit(canto_roster *r, canto_roster_change change, const canto_roster_item *item,
                const canto_roster_item *old)
{
    if (r->freed)
        return -1;
    if (!r->changed_fn)
        return 0;
    unsigned gen = r->generation;
    enter(r);
    r->changed_fn(r->changed_ud, r, change, item, old);
    r->depth--;
    return r->freed || r->generation != gen ? -1 : 0;
}

static int set_version(canto_roster *r, const char *ver)
{
    char *v = NULL;
    if (ver && *ver && !(v = dup_str(ver)))
        return CANTO_ENOMEM;
    free(r->version);
    r->version = v;
    return 0;
}

/* Replace the copy with @p items and report the differences. */
static void replace_items(canto_roster *r, canto_roster_item **items, size_t n, int notify)
{
    canto_roster_item **old = r->items;
    size_t nold = r->nitems;
    r->items = items;
    r->nitems = n;
    r->generation++;
    if (notify && r->changed_fn) {
        /* Merge walk over both sorted arrays. Old items stay alive until the
         * end; the new ones may go if a callback changes the roster, and then
         * the walk stops. */
        unsigned gen = r->generation;
        size_t i = 0, j = 0;
        while (i < nold || j < n) {
            int cmp = i == nold ? 1 : j == n ? -1 : strcmp(item_key(old[i]), item_key(items[j]));
            int stop = 0;
            if (cmp < 0) {
                stop = emit(r, CANTO_ROSTER_REMOVED, old[i], NULL);
                i++;
            } else if (cmp > 0) {
                stop = emit(r, CANTO_ROSTER_ADDED, items[j], NULL);
                j++;
            } else {
                if (!item_equal(old[i], items[j]))
                    stop = emit(r, CANTO_ROSTER_UPDATED, items[j], old[i]);
                i++;
                j++;
            }
            if (stop || r->generation != gen)
                break;
        }
    }
    items_free(old, nold);
}

/* Apply one pushed item: add, update or remove. */
static void apply_push(canto_roster *r, canto_roster_item *it)
{
    int found;
    size_t pos = search(r->items, r->nitems, item_key(it), &found);
    if (it->sub == CANTO_ROSTER_SUB_REMOVE) {
        if (found) {
            canto_roster_item *old = r->items[pos];
            memmove(&r->items[pos], &r->items[pos + 1], (r->nitems - pos - 1) * sizeof(old));
            r->nitems--;
            r->generation++;
            emit(r, CANTO_ROSTER_REMOVED, old, NULL);
            item_free(old);
        }
        item_free(it);
        return;
    }
    if (found) {
        canto_roster_item *old = r->items[pos];
        r->items[pos] = it;
        r->generation++;
        if (!item_equal(old, it))
            emit(r, CANTO_ROSTER_UPDATED, it, old);
        item_free(old);
        return;
    }
    canto_roster_item **m = realloc(r->items, (r->nitems + 1) * sizeof(*m));
    if (!m) {
        item_free(it);
        return;
    }
    r->items = m;
    memmove(&r->items[pos + 1], &r->items[pos], (r->nitems - pos) * sizeof(it));
    r->items[pos] = it;
    r->nitems++;
    r->generation++;
    emit(r, CANTO_ROSTER_ADDED, it, NULL);
}

static void send_error(canto_client *client, const canto_stanza *st, canto_error_type type,
                       canto_error_condition cond)
{
    canto_stanza *reply;
    if (canto_stanza_new_error_reply(st, type, cond, NULL, &reply) != 0)
        return;
    canto_stanza_set_attr(reply, "from", NULL); /* the server stamps our address */
    canto_client_send(client, reply);
    canto_stanza_free(reply);
}

static int on_push(void *ud, canto_client *client, canto_stanza *st)
{
    canto_roster *r = ud;
    if (r->freed)
        return 0;
    if (!canto__push_from_account(client, canto_stanza_attr(st, "from"))) {
        send_error(client, st, CANTO_ERROR_CANCEL, CANTO_COND_SERVICE_UNAVAILABLE);
        return 1;
    }
    const canto_stanza *query = canto_stanza_first_element(st);
    const char *ns = canto_stanza_ns(query);
    const canto_stanza *el = canto_stanza_child(query, "item", ns);
    canto_roster_item *it = NULL;
    int rc = !el || canto_stanza_next_match(el, "item", ns) ? CANTO_EINVAL : parse_item(el, 1, &it);
    if (rc) {
        send_error(client, st, CANTO_ERROR_MODIFY, CANTO_COND_BAD_REQUEST);
        return 1;
    }
    /* A push without `ver` leaves the version alone (RFC 6121 §2.6.3). */
    const char *ver = canto_stanza_attr(query, "ver");
    if (ver && *ver)
        set_version(r, ver);
    /* Answer first: the change callback may free the client. */
    canto__push_answer(client, NULL, canto_stanza_attr(st, "id"));
    enter(r);
    apply_push(r, it);
    leave(r);
    return 1;
}

int canto_roster_new(canto_client *client, canto_roster **out)
{
    if (!client || !out)
        return CANTO_EINVAL;
    canto_roster *r = calloc(1, sizeof(*r));
    if (!r)
        return CANTO_ENOMEM;
    r->client = client;
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "iq";
    m.type = "set";
    m.ns = CANTO_NS_ROSTER;
    int rc = canto_client_add_handler(client, &m, on_push, r, &r->handler_id);
    if (rc) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void canto_roster_free(canto_roster *r)
{
    if (!r || r->freed)
        return;
    canto_client_remove_handler(r->client, r->handler_id);
    r->freed = 1;
    enter(r);
    /* Detach the list: callbacks may not start new requests (we are freed). */
    request *list = r->requests;
    r->requests = NULL;
    while (list) {
        request *q = list;
        list = q->next;
        canto_client_cancel_iq(r->client, q->handle);
        if (q->fn) {
            canto_iq_response resp = {CANTO_IQ_RESPONSE_VERSION, CANTO_IQ_CANCELED, NULL,
                                      CANTO_STANZA_ERROR_INIT, ""};
            q->fn(q->ud, r, &resp);
        }
        free(q);
    }
    leave(r);
}

int canto_roster_set_changed_callback(canto_roster *r, canto_roster_changed_fn fn, void *ud)
{
    if (!r)
        return CANTO_EINVAL;
    r->changed_fn = fn;
    r->changed_ud = ud;
    return 0;
}

/* --- requests ------------------------------------------------------------- */

static void unlink_request(canto_roster *r, request *q)
{
    for (request **pp = &r->requests; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            return;
        }
    }
}

static void on_fetch_result(canto_roster *r, const canto_stanza *st)
{
    const canto_stanza *query = canto_stanza_child(st, "query", CANTO_NS_ROSTER);
    if (!query)
        return; /* RFC 6121 §2.6.3: the cached copy is current */
    canto_roster_item **items;
    size_t n;
    if (parse_items(query, &items, &n) != 0)
        return;
    if (set_version(r, canto_stanza_attr(query, "ver")) != 0) {
        items_free(items, n);
        return;
    }
    replace_items(r, items, n, 1);
}

static void on_answer(void *ud, canto_client *client, const canto_iq_response *resp)
{
    request *q = ud;
    canto_roster *r = q->roster;
    (void)client;
    unlink_request(r, q);
    enter(r);
    if (q->is_fetch && resp->outcome == CANTO_IQ_RESULT && !r->freed)
        on_fetch_result(r, resp->stanza);
    if (q->fn && !r->freed)
        q->fn(q->ud, r, resp);
    free(q);
    leave(r);
}

/* Send @p iq (an iq set or get without an id) and track it. */
static int send_request(canto_roster *r, canto_stanza *iq, int is_fetch, canto_roster_result_fn fn,
                        void *ud)
{
    request *q = calloc(1, sizeof(*q));
    if (!q)
        return CANTO_ENOMEM;
    q->roster = r;
    q->is_fetch = is_fetch;
    q->fn = fn;
    q->ud = ud;
    int rc = canto_client_send_iq(r->client, iq, 0, on_answer, q, &q->handle);
    if (rc) {
        free(q);
        return rc;
    }
    q->next = r->requests;
    r->requests = q;
    return 0;
}

/* <iq type=TYPE><query xmlns='jabber:iq:roster'/></iq>, with no id: the
 * client picks an unpredictable one. */
static int new_query(const char *type, canto_stanza **iq, canto_stanza **query)
{
    int rc = canto_stanza_new_iq(NULL, type, NULL, "x", iq);
    if (rc)
        return rc;
    rc = canto_stanza_set_attr(*iq, "id", NULL);
    if (rc == 0)
        rc = canto_stanza_add_child(*iq, "query", CANTO_NS_ROSTER, query);
    if (rc) {
        canto_stanza_free(*iq);
        *iq = NULL;
    }
    return rc;
}

int canto_roster_fetch(canto_roster *r, canto_roster_result_fn fn, void *ud)
{
    if (!r)
        return CANTO_EINVAL;
    if (r->freed)
        return CANTO_ESTATE;
    canto_stanza *iq, *query;
    int rc = new_query("get", &iq, &query);
    /* RFC 6121 §2.6.2: `ver` only to a server that announced versioning;
     * then always, empty to bootstrap when there is no version yet. */
    if (rc == 0 && canto_client_has_stream_feature(r->client, "ver", NS_ROSTERVER))
        rc = canto_stanza_set_attr(query, "ver", r->version ? r->version : "");
    if (rc == 0)
        rc = send_request(r, iq, 1, fn, ud);
    canto_stanza_free(iq);
    return rc;
}

static int item_request(canto_roster *r, const char *jid, const char *name,
                        const char *const *groups, size_t n_groups, int remove,
                        canto_roster_result_fn fn, void *ud)
{
    if (!r || !jid || (n_groups && !groups))
        return CANTO_EINVAL;
    if (r->freed)
        return CANTO_ESTATE;
    for (size_t i = 0; i < n_groups; i++)
        if (!groups[i] || !groups[i][0])
            return CANTO_EINVAL;
    canto_jid *j;
    int rc = canto_jid_parse(NULL, jid, &j);
    if (rc)
        return rc;
    canto_stanza *iq, *query, *item, *g;
    rc = new_query("set", &iq, &query);
    if (rc) {
        canto_jid_free(j);
        return rc;
    }
    rc = canto_stanza_add_child(query, "item", NULL, &item);
    if (rc == 0)
        rc = canto_stanza_set_attr(item, "jid", canto_jid_str(j));
    if (rc == 0 && remove)
        rc = canto_stanza_set_attr(item, "subscription", "remove");
    if (rc == 0 && name)
        rc = canto_stanza_set_attr(item, "name", name);
    for (size_t i = 0; rc == 0 && i < n_groups; i++) {
        int dup = 0;
        for (size_t k = 0; k < i; k++)
            dup |= strcmp(groups[k], groups[i]) == 0;
        if (dup)
            continue;
        rc = canto_stanza_add_child(item, "group", NULL, &g);
        if (rc == 0)
            rc = canto_stanza_set_text(g, groups[i]);
    }
    if (rc == 0)
        rc = send_request(r, iq, 0, fn, ud);
    canto_stanza_free(iq);
    canto_jid_free(j);
    return rc;
}

int canto_roster_set_item(canto_roster *r, const char *jid, const char *name,
                          const char *const *groups, size_t n_groups, canto_roster_result_fn fn,
                          void *ud)
{
    return item_request(r, jid, name, groups, n_groups, 0, fn, ud);
}

int canto_roster_remove_item(canto_roster *r, const char *jid, canto_roster_result_fn fn, void *ud)
{
    return item_request(r, jid, NULL, NULL, 0, 1, fn, ud);
}

/* --- the copy ------------------------------------------------------------- */

size_t canto_roster_count(const canto_roster *r)
{
    return r ? r->nitems : 0;
}

const canto_roster_item *canto_roster_item_at(const canto_roster *r, size_t index)
{
    return r && index < r->nitems ? r->items[index] : NULL;
}

const canto_roster_item *canto_roster_find(const canto_roster *r, const char *jid)
{
    if (!r || !jid)
        return NULL;
    canto_jid *j;
    if (canto_jid_parse(NULL, jid, &j) != 0)
        return NULL;
    int found;
    size_t pos = search(r->items, r->nitems, canto_jid_str(j), &found);
    canto_jid_free(j);
    return found ? r->items[pos] : NULL;
}

const char *canto_roster_version(const canto_roster *r)
{
    return r ? r->version : NULL;
}

const canto_jid *canto_roster_item_jid(const canto_roster_item *it)
{
    return it ? it->jid : NULL;
}

const char *canto_roster_item_name(const canto_roster_item *it)
{
    return it ? it->name : NULL;
}

canto_roster_subscription canto_roster_item_subscription(const canto_roster_item *it)
{
    return it ? it->sub : CANTO_ROSTER_SUB_NONE;
}

int canto_roster_item_ask(const canto_roster_item *it)
{
    return it ? it->ask : 0;
}

int canto_roster_item_approved(const canto_roster_item *it)
{
    return it ? it->approved : 0;
}

size_t canto_roster_item_group_count(const canto_roster_item *it)
{
    return it ? it->ngroups : 0;
}

const char *canto_roster_item_group(const canto_roster_item *it, size_t index)
{
    return it && index < it->ngroups ? it->groups[index] : NULL;
}

static int export_item(canto_stanza *query, const canto_roster_item *it)
{
    canto_stanza *el, *g;
    int rc = canto_stanza_add_child(query, "item", NULL, &el);
    if (rc == 0)
        rc = canto_stanza_set_attr(el, "jid", canto_jid_str(it->jid));
    if (rc == 0 && it->name)
        rc = canto_stanza_set_attr(el, "name", it->name);
    if (rc == 0)
        rc = canto_stanza_set_attr(el, "subscription", canto_roster_subscription_name(it->sub));
    if (rc == 0 && it->ask)
        rc = canto_stanza_set_attr(el, "ask", "subscribe");
    if (rc == 0 && it->approved)
        rc = canto_stanza_set_attr(el, "approved", "true");
    for (size_t i = 0; rc == 0 && i < it->ngroups; i++) {
        rc = canto_stanza_add_child(el, "group", NULL, &g);
        if (rc == 0)
            rc = canto_stanza_set_text(g, it->groups[i]);
    }
    return rc;
}

int canto_roster_export(const canto_roster *r, char **out, size_t *len)
{
    if (!r || !out)
        return CANTO_EINVAL;
    canto_stanza *query;
    int rc = canto_stanza_new(NULL, "query", CANTO_NS_ROSTER, &query);
    if (rc)
        return rc;
    if (r->version)
        rc = canto_stanza_set_attr(query, "ver", r->version);
    for (size_t i = 0; rc == 0 && i < r->nitems; i++)
        rc = export_item(query, r->items[i]);
    if (rc == 0)
        rc = canto_stanza_to_string(query, out, len);
    canto_stanza_free(query);
    return rc;
}

int canto_roster_import(canto_roster *r, const char *data, size_t len)
{
    if (!r || !data)
        return CANTO_EINVAL;
    canto_stanza *query;
    int rc = canto_stanza_parse(NULL, data, len, &query);
    if (rc)
        return rc;
    canto_roster_item **items = NULL;
    size_t n = 0;
    if (!canto_stanza_is(query, "query", CANTO_NS_ROSTER))
        rc = CANTO_EINVAL;
    if (rc == 0)
        rc = parse_items(query, &items, &n);
    if (rc == 0) {
        rc = set_version(r, canto_stanza_attr(query, "ver"));
        if (rc)
            items_free(items, n);
    }
    if (rc == 0)
        replace_items(r, items, n, 0);
    canto_stanza_free(query);
    return rc;
}

int canto_roster_clear(canto_roster *r)
{
    if (!r)
        return CANTO_EINVAL;
    free(r->version);
    r->version = NULL;
    replace_items(r, NULL, 0, 0);
    return 0;
}
