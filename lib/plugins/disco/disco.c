/* The disco plugin: answers disco#info/items for the client, sends requests,
 * adds caps to outgoing presence and verifies the caps of others. Public API
 * only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>
#include <canto/jid.h>

#include "disco_impl.h"

#define CAPS_MAX_TRIES 5    /* entities asked about one ver (XEP-0115 §8.3: <= 5) */
#define CAPS_MAX_VERIFY 32  /* verifications in flight */
#define CAPS_MAX_PEERS 4096 /* entities whose caps we remember */
#define CAPS_MAX_FAILED 64  /* (ver, bare JID) pairs that failed, not asked again */
#define CAPS_CACHE_DEFAULT 256
#define PRESENCE_PRIORITY 1000 /* see presence before handlers that consume it */

typedef enum req_kind { REQ_INFO, REQ_ITEMS, REQ_CAPS } req_kind;

typedef struct pending {
    struct pending *next;
    canto_disco *disco;
    unsigned id; /* the client's request handle */
    req_kind kind;
    canto_disco_fn fn;
    void *ud;
    char *jid;
    char *node;
    /* REQ_CAPS */
    char ver[CANTO_DISCO_VER_SIZE];
    char *tried[CAPS_MAX_TRIES]; /* bare JIDs asked so far, this one last */
    size_t ntried;
} pending;

typedef struct cache_entry {
    char ver[CANTO_DISCO_VER_SIZE];
    canto_disco_info *info;
    uint64_t used;
} cache_entry;

typedef struct peer {
    char *jid;
    char *bare;
    char *node;
    char ver[CANTO_DISCO_VER_SIZE];
    int notified;
    uint64_t seen;
} peer;

typedef struct failed_entry {
    char ver[CANTO_DISCO_VER_SIZE];
    char *bare;
} failed_entry;

static const char *const own_features[] = {CANTO_NS_DISCO_INFO, CANTO_NS_DISCO_ITEMS,
                                           CANTO_NS_CAPS};
#define NOWN (sizeof(own_features) / sizeof(own_features[0]))

struct canto_disco {
    canto_client *client;
    char *node;
    int caps_disabled;
    size_t cache_max;
    uint32_t timeout_ms;
    unsigned h_info, h_items, h_presence, filter, listener;
    int have_h_info, have_h_items, have_h_presence, have_filter, have_listener;
    int added[NOWN];

    canto_form **ext;
    size_t next, capext;

    pending *pending;

    cache_entry *cache;
    size_t ncache;
    peer *peers;
    size_t npeers, cappeers;
    failed_entry failed[CAPS_MAX_FAILED];
    size_t failed_pos;
    uint64_t tick;

    canto_disco_caps_fn caps_fn;
    void *caps_ud;

    char ver[CANTO_DISCO_VER_SIZE];
    int depth; /* application callbacks running */
    int dead;  /* canto_disco_free() was called inside one */
};

static char *dup_str(const char *s)
{
    size_t len = strlen(s);
    char *d = malloc(len + 1);
    if (d)
        memcpy(d, s, len + 1);
    return d;
}

/* "a#b" in a new string. */
static char *join_node(const char *node, const char *ver)
{
    size_t len = strlen(node) + 1 + strlen(ver) + 1;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s#%s", node, ver);
    return s;
}

/* --- our own info ----------------------------------------------------------------- */

/* The client's identity and features with our extension forms. With
 * @p borrow_forms the info points at our forms: call release_borrowed() on it
 * instead of canto_disco_info_free(). */
static int own_info(canto_disco *d, int borrow_forms, canto_disco_info **out)
{
    canto_disco_info *info;
    int rc = canto__disco_info_new(&info);
    if (rc)
        return rc;
    const char *cat, *type, *name;
    rc = canto_client_get_identity(d->client, &cat, &type, &name);
    if (rc == 0)
        rc = canto__disco_info_add_identity(info, cat, type, name, NULL);
    const char *f;
    for (size_t i = 0; rc == 0 && (f = canto_client_feature(d->client, i)) != NULL; i++)
        rc = canto__disco_info_add_feature(info, f);
    if (borrow_forms) {
        info->forms = d->ext;
        info->nforms = d->next;
    } else {
        for (size_t i = 0; rc == 0 && i < d->next; i++)
            rc = canto__disco_info_add_form(info, d->ext[i]);
    }
    if (rc) {
        if (borrow_forms)
            info->forms = NULL, info->nforms = 0;
        canto_disco_info_free(info);
        return rc;
    }
    *out = info;
    return 0;
}

static void release_borrowed(canto_disco_info *info)
{
    info->forms = NULL;
    info->nforms = 0;
    canto_disco_info_free(info);
}

const char *canto_disco_caps_ver(canto_disco *d)
{
    if (!d)
        return NULL;
    canto_disco_info *info;
    if (own_info(d, 1, &info) != 0)
        return NULL;
    int rc = canto_disco_caps_hash(info, "sha-1", d->ver, sizeof(d->ver));
    release_borrowed(info);
    return rc == 0 ? d->ver : NULL;
}

const char *canto_disco_caps_node(const canto_disco *d)
{
    return d ? d->node : NULL;
}

/* Append identities, features and forms of @p info to a <query/>. */
static int add_info_children(canto_stanza *q, const canto_disco_info *info)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < info->nids; i++) {
        const disco_identity *id = &info->ids[i];
        canto_stanza *el;
        rc = canto_stanza_add_child(q, "identity", CANTO_NS_DISCO_INFO, &el);
        if (rc == 0)
            rc = canto_stanza_set_attr(el, "category", id->category);
        if (rc == 0)
            rc = canto_stanza_set_attr(el, "type", id->type);
        if (rc == 0 && id->name)
            rc = canto_stanza_set_attr(el, "name", id->name);
        if (rc == 0 && id->lang)
            rc = canto_stanza_set_attr(el, "xml:lang", id->lang);
    }
    for (size_t i = 0; rc == 0 && i < info->nfeatures; i++) {
        canto_stanza *el;
        rc = canto_stanza_add_child(q, "feature", CANTO_NS_DISCO_INFO, &el);
        if (rc == 0)
            rc = canto_stanza_set_attr(el, "var", info->features[i]);
    }
    for (size_t i = 0; rc == 0 && i < info->nforms; i++)
        rc = canto_form_to_stanza(info->forms[i], q, NULL);
    return rc;
}

/* --- extension forms ----------------------------------------------------------------- */

static size_t ext_find(const canto_disco *d, const char *form_type)
{
    for (size_t i = 0; i < d->next; i++)
        if (strcmp(canto_form_type(d->ext[i]), form_type) == 0)
            return i;
    return SIZE_MAX;
}

int canto_disco_add_extension(canto_disco *d, const canto_form *form)
{
    if (!d || !form || canto_form_get_kind(form) != CANTO_FORM_RESULT)
        return CANTO_EINVAL;
    const char *ft = canto_form_type(form);
    const canto_form_field *fd = canto_form_get_field(form, "FORM_TYPE");
    if (!ft || canto_form_field_get_type(fd) != CANTO_FORM_FIELD_HIDDEN)
        return CANTO_EINVAL;
    canto_form *copy;
    int rc = canto_form_copy(form, &copy);
    if (rc)
        return rc;
    size_t at = ext_find(d, ft);
    if (at != SIZE_MAX) {
        canto_form_free(d->ext[at]);
        d->ext[at] = copy;
        return 0;
    }
    if (d->next >= CANTO_DISCO_MAX_EXTENSIONS) {
        canto_form_free(copy);
        return CANTO_ETOOBIG;
    }
    if (d->next == d->capext) {
        size_t cap = d->capext ? d->capext * 2 : 4;
        canto_form **n = realloc(d->ext, cap * sizeof(*n));
        if (!n) {
            canto_form_free(copy);
            return CANTO_ENOMEM;
        }
        d->ext = n;
        d->capext = cap;
    }
    d->ext[d->next++] = copy;
    return 0;
}

int canto_disco_remove_extension(canto_disco *d, const char *form_type)
{
    if (!d || !form_type)
        return CANTO_EINVAL;
    size_t at = ext_find(d, form_type);
    if (at == SIZE_MAX)
        return CANTO_ENOTFOUND;
    canto_form_free(d->ext[at]);
    memmove(&d->ext[at], &d->ext[at + 1], (d->next - at - 1) * sizeof(*d->ext));
    d->next--;
    return 0;
}

/* --- answering requests -------------------------------------------------------------- */

static void reply_error(canto_disco *d, const canto_stanza *req, canto_error_condition cond)
{
    canto_stanza *reply;
    if (canto_stanza_new_error_reply(req, CANTO_ERROR_CANCEL, cond, NULL, &reply) != 0)
        return;
    canto_stanza_set_attr(reply, "from", NULL); /* the server stamps our address */
    canto_client_send(d->client, reply);
    canto_stanza_free(reply);
}

/* A result iq to @p req with an empty <query/> in @p ns (node copied). */
static int new_result(const canto_stanza *req, const char *ns, const char *node, canto_stanza **iq,
                      canto_stanza **q)
{
    int rc = canto_stanza_new(NULL, "iq", CANTO_NS_CLIENT, iq);
    if (rc)
        return rc;
    const char *from = canto_stanza_attr(req, "from");
    rc = canto_stanza_set_attr(*iq, "type", "result");
    if (rc == 0)
        rc = canto_stanza_set_attr(*iq, "id", canto_stanza_attr(req, "id"));
    if (rc == 0 && from)
        rc = canto_stanza_set_attr(*iq, "to", from);
    if (rc == 0)
        rc = canto_stanza_add_child(*iq, "query", ns, q);
    if (rc == 0 && node)
        rc = canto_stanza_set_attr(*q, "node", node);
    if (rc) {
        canto_stanza_free(*iq);
        *iq = NULL;
    }
    return rc;
}

/* Is @p node our caps node "NODE#VER" with our current ver? */
static int is_own_caps_node(canto_disco *d, const char *node)
{
    if (d->caps_disabled)
        return 0;
    const char *ver = canto_disco_caps_ver(d);
    size_t n = strlen(d->node);
    return ver && strncmp(node, d->node, n) == 0 && node[n] == '#' &&
           strcmp(node + n + 1, ver) == 0;
}

static int on_info_request(void *ud, canto_client *c, canto_stanza *st)
{
    canto_disco *d = ud;
    (void)c;
    const canto_stanza *q = canto_stanza_first_element(st);
    const char *node = canto_stanza_attr(q, "node");
    if (node && !is_own_caps_node(d, node)) {
        reply_error(d, st, CANTO_COND_ITEM_NOT_FOUND);
        return 1;
    }
    canto_stanza *iq, *rq;
    canto_disco_info *info;
    if (own_info(d, 1, &info) != 0) {
        reply_error(d, st, CANTO_COND_INTERNAL_SERVER_ERROR);
        return 1;
    }
    int rc = new_result(st, CANTO_NS_DISCO_INFO, node, &iq, &rq);
    if (rc == 0) {
        rc = add_info_children(rq, info);
        if (rc == 0)
            rc = canto_client_send(d->client, iq);
        canto_stanza_free(iq);
    }
    release_borrowed(info);
    if (rc == CANTO_ENOMEM)
        reply_error(d, st, CANTO_COND_INTERNAL_SERVER_ERROR);
    return 1;
}

static int on_items_request(void *ud, canto_client *c, canto_stanza *st)
{
    canto_disco *d = ud;
    (void)c;
    const canto_stanza *q = canto_stanza_first_element(st);
    const char *node = canto_stanza_attr(q, "node");
    if (node) {
        reply_error(d, st, CANTO_COND_ITEM_NOT_FOUND);
        return 1;
    }
    canto_stanza *iq, *rq;
    int rc = new_result(st, CANTO_NS_DISCO_ITEMS, NULL, &iq, &rq);
    if (rc == 0) {
        canto_client_send(d->client, iq);
        canto_stanza_free(iq);
    } else {
        reply_error(d, st, CANTO_COND_INTERNAL_SERVER_ERROR);
    }
    return 1;
}

/* --- caps on our presence ----------------------------------------------------------- */

static int caps_filter(void *ud, canto_client *c, canto_stanza *st)
{
    canto_disco *d = ud;
    (void)c;
    if (d->caps_disabled || !canto_stanza_is(st, "presence", NULL) ||
        canto_stanza_attr(st, "type") || canto_stanza_child(st, "c", CANTO_NS_CAPS))
        return 0;
    const char *ver = canto_disco_caps_ver(d);
    if (!ver)
        return 0; /* cannot hash (e.g. a feature with '<'): send without caps */
    canto_stanza *el;
    if (canto_stanza_add_child(st, "c", CANTO_NS_CAPS, &el) == 0 &&
        (canto_stanza_set_attr(el, "hash", "sha-1") != 0 ||
         canto_stanza_set_attr(el, "node", d->node) != 0 ||
         canto_stanza_set_attr(el, "ver", ver) != 0))
        canto_stanza_remove(el);
    return 0;
}

/* --- teardown --------------------------------------------------------------------------- */

static void pending_free(pending *p)
{
    if (!p)
        return;
    free(p->jid);
    free(p->node);
    for (size_t i = 0; i < p->ntried; i++)
        free(p->tried[i]);
    free(p);
}

static void unlink_pending(canto_disco *d, pending *p)
{
    for (pending **pp = &d->pending; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            p->next = NULL;
            return;
        }
    }
}

static void peers_clear(canto_disco *d)
{
    for (size_t i = 0; i < d->npeers; i++) {
        free(d->peers[i].jid);
        free(d->peers[i].bare);
        free(d->peers[i].node);
    }
    d->npeers = 0;
}

static void destroy(canto_disco *d)
{
    peers_clear(d);
    free(d->peers);
    for (size_t i = 0; i < d->ncache; i++)
        canto_disco_info_free(d->cache[i].info);
    free(d->cache);
    for (size_t i = 0; i < CAPS_MAX_FAILED; i++)
        free(d->failed[i].bare);
    for (size_t i = 0; i < d->next; i++)
        canto_form_free(d->ext[i]);
    free(d->ext);
    free(d->node);
    free(d);
}

/* After an application callback: finish a free requested inside it. */
static void finish(canto_disco *d)
{
    if (d->dead && d->depth == 0)
        destroy(d);
}

void canto_disco_free(canto_disco *d)
{
    if (!d || d->dead)
        return;
    canto_client *c = d->client;
    if (d->have_h_info)
        canto_client_remove_handler(c, d->h_info);
    if (d->have_h_items)
        canto_client_remove_handler(c, d->h_items);
    if (d->have_h_presence)
        canto_client_remove_handler(c, d->h_presence);
    if (d->have_filter)
        canto_client_remove_send_filter(c, d->filter);
    if (d->have_listener)
        canto_client_remove_listener(c, d->listener);
    for (size_t i = 0; i < NOWN; i++)
        if (d->added[i])
            canto_client_remove_feature(c, own_features[i]);
    while (d->pending) {
        pending *p = d->pending;
        d->pending = p->next;
        canto_client_cancel_iq(c, p->id);
        pending_free(p);
    }
    d->dead = 1;
    finish(d);
}

/* --- the caps cache and the peers --------------------------------------------------- */

static cache_entry *cache_find(canto_disco *d, const char *ver)
{
    for (size_t i = 0; i < d->ncache; i++)
        if (strcmp(d->cache[i].ver, ver) == 0)
            return &d->cache[i];
    return NULL;
}

/* Keep a reference to @p info as the answer for @p ver, evicting the least
 * recently used entry when full. */
static int cache_put(canto_disco *d, const char *ver, canto_disco_info *info)
{
    cache_entry *e = cache_find(d, ver);
    if (e) {
        e->used = ++d->tick;
        return 0;
    }
    if (!d->cache && !(d->cache = calloc(d->cache_max, sizeof(*d->cache))))
        return CANTO_ENOMEM;
    if (d->ncache < d->cache_max) {
        e = &d->cache[d->ncache++];
    } else {
        e = &d->cache[0];
        for (size_t i = 1; i < d->ncache; i++)
            if (d->cache[i].used < e->used)
                e = &d->cache[i];
        canto_disco_info_free(e->info);
    }
    snprintf(e->ver, sizeof(e->ver), "%s", ver);
    e->info = canto_disco_info_ref(info);
    e->used = ++d->tick;
    return 0;
}

static peer *peer_find(canto_disco *d, const char *jid)
{
    for (size_t i = 0; i < d->npeers; i++)
        if (strcmp(d->peers[i].jid, jid) == 0)
            return &d->peers[i];
    return NULL;
}

static void peer_drop(canto_disco *d, peer *p)
{
    free(p->jid);
    free(p->bare);
    free(p->node);
    *p = d->peers[--d->npeers];
}

static void peer_remove(canto_disco *d, const char *jid)
{
    peer *p = peer_find(d, jid);
    if (p)
        peer_drop(d, p);
}

/* The entry for @p j, created (evicting the oldest when full) if needed. */
static peer *peer_get(canto_disco *d, const canto_jid *j)
{
    peer *p = peer_find(d, canto_jid_str(j));
    if (p)
        return p;
    if (d->npeers >= CAPS_MAX_PEERS) {
        peer *old = &d->peers[0];
        for (size_t i = 1; i < d->npeers; i++)
            if (d->peers[i].seen < old->seen)
                old = &d->peers[i];
        peer_drop(d, old);
    }
    if (d->npeers == d->cappeers) {
        size_t cap = d->cappeers ? d->cappeers * 2 : 16;
        peer *n = realloc(d->peers, cap * sizeof(*n));
        if (!n)
            return NULL;
        d->peers = n;
        d->cappeers = cap;
    }
    p = &d->peers[d->npeers];
    memset(p, 0, sizeof(*p));
    if (!(p->jid = dup_str(canto_jid_str(j))) || !(p->bare = dup_str(canto_jid_bare_str(j)))) {
        free(p->jid);
        free(p->bare);
        return NULL;
    }
    d->npeers++;
    return p;
}

static int is_failed(const canto_disco *d, const char *ver, const char *bare)
{
    for (size_t i = 0; i < CAPS_MAX_FAILED; i++)
        if (d->failed[i].bare && strcmp(d->failed[i].bare, bare) == 0 &&
            strcmp(d->failed[i].ver, ver) == 0)
            return 1;
    return 0;
}

static void remember_failed(canto_disco *d, const char *ver, const char *bare)
{
    failed_entry *f = &d->failed[d->failed_pos];
    d->failed_pos = (d->failed_pos + 1) % CAPS_MAX_FAILED;
    free(f->bare);
    f->bare = dup_str(bare);
    snprintf(f->ver, sizeof(f->ver), "%s", ver);
}

/* Report every peer announcing @p ver that has not been reported yet. */
static void notify_peers(canto_disco *d, const char *ver, canto_disco_info *info)
{
    canto_disco_info_ref(info);
    for (size_t i = 0; i < d->npeers && !d->dead; i++) {
        peer *p = &d->peers[i];
        if (p->notified || strcmp(p->ver, ver) != 0)
            continue;
        p->notified = 1;
        if (d->caps_fn) {
            d->depth++;
            d->caps_fn(d->caps_ud, d, p->jid, p->node, p->ver, info);
            d->depth--;
        }
    }
    canto_disco_info_free(info);
}

/* --- requests ------------------------------------------------------------------------ */

static void on_iq(void *ud, canto_client *c, const canto_iq_response *resp);

static int send_query(canto_disco *d, req_kind kind, const char *jid, const char *node,
                      canto_disco_fn fn, void *ud, pending **out)
{
    canto_jid *j;
    int rc = canto_jid_parse(NULL, jid, &j);
    if (rc)
        return rc;
    pending *p = calloc(1, sizeof(*p));
    canto_stanza *iq = NULL, *q;
    if (!p || !(p->jid = dup_str(canto_jid_str(j))) || (node && !(p->node = dup_str(node)))) {
        rc = CANTO_ENOMEM;
        goto out;
    }
    p->disco = d;
    p->kind = kind;
    p->fn = fn;
    p->ud = ud;
    rc = canto_stanza_new(NULL, "iq", CANTO_NS_CLIENT, &iq);
    if (rc == 0)
        rc = canto_stanza_set_attr(iq, "type", "get");
    if (rc == 0)
        rc = canto_stanza_set_attr(iq, "to", p->jid);
    if (rc == 0)
        rc = canto_stanza_add_child(
            iq, "query", kind == REQ_ITEMS ? CANTO_NS_DISCO_ITEMS : CANTO_NS_DISCO_INFO, &q);
    if (rc == 0 && node)
        rc = canto_stanza_set_attr(q, "node", node);
    if (rc == 0)
        rc = canto_client_send_iq(d->client, iq, d->timeout_ms, on_iq, p, &p->id);
    if (rc == 0) {
        p->next = d->pending;
        d->pending = p;
        *out = p;
        p = NULL;
    }
out:
    canto_stanza_free(iq);
    pending_free(p);
    canto_jid_free(j);
    return rc;
}

static int query(canto_disco *d, req_kind kind, const char *jid, const char *node,
                 canto_disco_fn fn, void *ud, unsigned *request)
{
    if (!d || !jid || !fn || d->dead)
        return CANTO_EINVAL;
    pending *p;
    int rc = send_query(d, kind, jid, node, fn, ud, &p);
    if (rc == 0 && request)
        *request = p->id;
    return rc;
}

int canto_disco_query_info(canto_disco *d, const char *jid, const char *node, canto_disco_fn fn,
                           void *ud, unsigned *request)
{
    return query(d, REQ_INFO, jid, node, fn, ud, request);
}

int canto_disco_query_items(canto_disco *d, const char *jid, const char *node, canto_disco_fn fn,
                            void *ud, unsigned *request)
{
    return query(d, REQ_ITEMS, jid, node, fn, ud, request);
}

int canto_disco_cancel(canto_disco *d, unsigned request)
{
    if (!d)
        return CANTO_EINVAL;
    for (pending *p = d->pending; p; p = p->next) {
        if (p->id == request && p->kind != REQ_CAPS) {
            unlink_pending(d, p);
            canto_client_cancel_iq(d->client, p->id);
            pending_free(p);
            return 0;
        }
    }
    return CANTO_ENOTFOUND;
}

static size_t verifications(const canto_disco *d)
{
    size_t n = 0;
    for (const pending *p = d->pending; p; p = p->next)
        n += p->kind == REQ_CAPS;
    return n;
}

static const pending *verification_of(const canto_disco *d, const char *ver)
{
    for (const pending *p = d->pending; p; p = p->next)
        if (p->kind == REQ_CAPS && strcmp(p->ver, ver) == 0)
            return p;
    return NULL;
}

/* Ask @p pe for NODE#VER; @p prev is the failed attempt before, or NULL. */
static void start_verify(canto_disco *d, const peer *pe, const pending *prev)
{
    if (verifications(d) >= CAPS_MAX_VERIFY)
        return;
    char *node = join_node(pe->node, pe->ver);
    if (!node)
        return;
    pending *p;
    int rc = send_query(d, REQ_CAPS, pe->jid, node, NULL, NULL, &p);
    free(node);
    if (rc)
        return;
    snprintf(p->ver, sizeof(p->ver), "%s", pe->ver);
    for (size_t i = 0; prev && i < prev->ntried; i++)
        if ((p->tried[p->ntried] = dup_str(prev->tried[i])) != NULL)
            p->ntried++;
    if (p->ntried < CAPS_MAX_TRIES && (p->tried[p->ntried] = dup_str(pe->bare)) != NULL)
        p->ntried++;
}

static int tried(const pending *p, const char *bare)
{
    for (size_t i = 0; i < p->ntried; i++)
        if (strcmp(p->tried[i], bare) == 0)
            return 1;
    return 0;
}

/* A verification ended: cache and report, or try another entity. */
static void caps_done(canto_disco *d, const pending *p, canto_disco_status status,
                      canto_disco_info *info)
{
    if (status == CANTO_DISCO_OK && canto_disco_caps_verify(info, "sha-1", p->ver) == 1) {
        if (cache_put(d, p->ver, info) == 0)
            notify_peers(d, p->ver, info);
        return;
    }
    if (status == CANTO_DISCO_CANCELED)
        return;
    if (p->ntried > 0)
        remember_failed(d, p->ver, p->tried[p->ntried - 1]);
    if (p->ntried >= CAPS_MAX_TRIES)
        return;
    for (size_t i = 0; i < d->npeers; i++) {
        const peer *pe = &d->peers[i];
        if (strcmp(pe->ver, p->ver) == 0 && !tried(p, pe->bare) &&
            !is_failed(d, pe->ver, pe->bare)) {
            start_verify(d, pe, p);
            return;
        }
    }
}

static void on_iq(void *ud, canto_client *c, const canto_iq_response *resp)
{
    pending *p = ud;
    canto_disco *d = p->disco;
    (void)c;
    unlink_pending(d, p);
    canto_disco_response r;
    memset(&r, 0, sizeof(r));
    r.version = CANTO_DISCO_RESPONSE_VERSION;
    r.request = p->id;
    r.jid = p->jid;
    r.node = p->node;
    canto_disco_info *info = NULL;
    canto_disco_items *items = NULL;
    switch (resp->outcome) {
    case CANTO_IQ_RESULT: {
        const char *ns = p->kind == REQ_ITEMS ? CANTO_NS_DISCO_ITEMS : CANTO_NS_DISCO_INFO;
        const canto_stanza *q = canto_stanza_child(resp->stanza, "query", ns);
        const char *detail = NULL;
        int rc;
        if (!q)
            rc = CANTO_EPROTO, detail = "the answer has no <query/>";
        else if (p->kind == REQ_ITEMS)
            rc = canto_disco_items_parse(q, &items, &detail);
        else
            rc = canto_disco_info_parse(q, &info, &detail);
        if (rc) {
            r.status = CANTO_DISCO_MALFORMED;
            r.detail = detail ? detail : canto_strerror(rc);
        } else {
            r.status = CANTO_DISCO_OK;
            r.info = info;
            r.items = items;
        }
        break;
    }
    case CANTO_IQ_ERROR:
        r.status = CANTO_DISCO_ERROR;
        r.error = &resp->error;
        break;
    case CANTO_IQ_TIMEOUT:
        r.status = CANTO_DISCO_TIMEOUT;
        break;
    default:
        r.status = CANTO_DISCO_CANCELED;
        break;
    }
    if (p->kind == REQ_CAPS) {
        caps_done(d, p, r.status, info);
    } else {
        d->depth++;
        p->fn(p->ud, d, &r);
        d->depth--;
    }
    canto_disco_info_free(info);
    canto_disco_items_free(items);
    pending_free(p);
    finish(d);
}

/* --- others' caps ------------------------------------------------------------------- */

static int on_presence(void *ud, canto_client *c, canto_stanza *st)
{
    canto_disco *d = ud;
    (void)c;
    const char *from = canto_stanza_attr(st, "from");
    const char *type = canto_stanza_attr(st, "type");
    canto_jid *j;
    if (d->caps_disabled || !from || canto_jid_parse(NULL, from, &j) != 0)
        return 0;
    if (type) {
        if (strcmp(type, "unavailable") == 0)
            peer_remove(d, canto_jid_str(j));
        canto_jid_free(j);
        return 0;
    }
    const canto_stanza *cel = canto_stanza_child(st, "c", CANTO_NS_CAPS);
    const char *hash = canto_stanza_attr(cel, "hash");
    const char *node = canto_stanza_attr(cel, "node");
    const char *ver = canto_stanza_attr(cel, "ver");
    /* No <c/> (the server may strip repeated ones): keep what we know. Legacy
     * caps (no hash) and other hash functions cannot be verified: ignored. */
    if (!cel || !hash || !node || !ver || strcmp(hash, "sha-1") != 0 || !*ver ||
        strlen(ver) >= CANTO_DISCO_VER_SIZE) {
        canto_jid_free(j);
        return 0;
    }
    peer *pe = peer_get(d, j);
    canto_jid_free(j);
    if (!pe)
        return 0;
    pe->seen = ++d->tick;
    if (strcmp(pe->ver, ver) == 0 && pe->node && strcmp(pe->node, node) == 0)
        return 0; /* nothing new */
    char *nnode = dup_str(node);
    if (!nnode) {
        peer_drop(d, pe);
        return 0;
    }
    free(pe->node);
    pe->node = nnode;
    snprintf(pe->ver, sizeof(pe->ver), "%s", ver);
    pe->notified = 0;

    cache_entry *e = cache_find(d, ver);
    if (!e) {
        const char *own = canto_disco_caps_ver(d);
        canto_disco_info *info;
        if (own && strcmp(own, ver) == 0 && own_info(d, 0, &info) == 0) {
            /* Same software as ours: our own answer, hashed by ourselves. */
            cache_put(d, ver, info);
            canto_disco_info_free(info);
            e = cache_find(d, ver);
        }
    }
    if (e) {
        e->used = ++d->tick;
        notify_peers(d, ver, e->info);
        finish(d);
        return 0;
    }
    if (!verification_of(d, ver) && !is_failed(d, ver, pe->bare))
        start_verify(d, pe, NULL);
    return 0;
}

static void on_state(void *ud, canto_client *c, canto_client_state state,
                     const canto_disconnect_info *info)
{
    canto_disco *d = ud;
    (void)c;
    (void)info;
    if (state == CANTO_CLIENT_DISCONNECTED)
        peers_clear(d); /* presence is per session; pending requests get CANCELED */
}

int canto_disco_set_caps_callback(canto_disco *d, canto_disco_caps_fn fn, void *ud)
{
    if (!d)
        return CANTO_EINVAL;
    d->caps_fn = fn;
    d->caps_ud = ud;
    return 0;
}

int canto_disco_caps_lookup(canto_disco *d, const char *ver, canto_disco_info **out)
{
    if (!d || !ver || !out)
        return CANTO_EINVAL;
    cache_entry *e = cache_find(d, ver);
    if (!e)
        return CANTO_ENOTFOUND;
    e->used = ++d->tick;
    *out = canto_disco_info_ref(e->info);
    return 0;
}

int canto_disco_caps_of(canto_disco *d, const char *jid, canto_disco_info **out)
{
    if (!d || !jid || !out)
        return CANTO_EINVAL;
    canto_jid *j;
    int rc = canto_jid_parse(NULL, jid, &j);
    if (rc)
        return rc;
    peer *pe = peer_find(d, canto_jid_str(j));
    canto_jid_free(j);
    if (!pe)
        return CANTO_ENOTFOUND;
    return canto_disco_caps_lookup(d, pe->ver, out);
}

size_t canto_disco_caps_count(const canto_disco *d)
{
    return d ? d->ncache : 0;
}

/* --- export and import ------------------------------------------------------------ */

/* One cache entry as a line of XML (caller frees with canto_free), or NULL. */
static char *entry_line(const cache_entry *e)
{
    canto_stanza *q;
    char *xml = NULL;
    if (canto_stanza_new(NULL, "query", CANTO_NS_DISCO_INFO, &q) != 0)
        return NULL;
    if (canto_stanza_set_attr(q, "node", e->ver) == 0 && add_info_children(q, e->info) == 0 &&
        canto_stanza_to_string(q, &xml, NULL) == 0 && (strchr(xml, '\n') || strchr(xml, '\r'))) {
        canto_free(xml);
        xml = NULL;
    }
    canto_stanza_free(q);
    return xml;
}

int canto_disco_caps_export(const canto_disco *d, char *buf, size_t cap, size_t *len)
{
    if (!d || (!buf && cap))
        return CANTO_EINVAL;
    size_t total = 0;
    for (size_t i = 0; i < d->ncache; i++) {
        char *line = entry_line(&d->cache[i]);
        if (!line)
            continue;
        size_t n = strlen(line);
        if (buf && total + n + 1 < cap) {
            memcpy(buf + total, line, n);
            buf[total + n] = '\n';
        }
        total += n + 1;
        canto_free(line);
    }
    if (len)
        *len = total;
    if (total >= cap)
        return buf ? CANTO_ETOOBIG : 0;
    buf[total] = '\0';
    return 0;
}

int canto_disco_caps_import(canto_disco *d, const char *text, size_t len, size_t *imported)
{
    if (!d || !text)
        return CANTO_EINVAL;
    if (len == (size_t)-1)
        len = strlen(text);
    size_t count = 0;
    int rc = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        canto_stanza *q;
        if (n == 0 || canto_stanza_parse(NULL, line, n, &q) != 0)
            continue;
        canto_disco_info *info;
        if (canto_disco_info_parse(q, &info, NULL) == 0) {
            const char *ver = canto_disco_info_node(info);
            if (ver && strlen(ver) < CANTO_DISCO_VER_SIZE &&
                canto_disco_caps_verify(info, "sha-1", ver) == 1) {
                if ((rc = cache_put(d, ver, info)) == 0)
                    count++;
            }
            canto_disco_info_free(info);
        }
        canto_stanza_free(q);
    }
    if (imported)
        *imported = count;
    return rc;
}

/* --- creation ------------------------------------------------------------------------ */

static int has_feature(const canto_client *c, const char *var)
{
    const char *f;
    for (size_t i = 0; (f = canto_client_feature(c, i)) != NULL; i++)
        if (strcmp(f, var) == 0)
            return 1;
    return 0;
}

int canto_disco_new(canto_client *client, const canto_disco_options *opts, canto_disco **out)
{
    canto_disco_options defaults = CANTO_DISCO_OPTIONS_INIT;
    if (!client || !out || (opts && opts->version != CANTO_DISCO_OPTIONS_VERSION))
        return CANTO_EINVAL;
    if (!opts)
        opts = &defaults;
    canto_disco *d = calloc(1, sizeof(*d));
    if (!d)
        return CANTO_ENOMEM;
    d->client = client;
    d->caps_disabled = opts->caps_disabled ? 1 : 0;
    d->cache_max = opts->caps_cache_max ? opts->caps_cache_max : CAPS_CACHE_DEFAULT;
    d->timeout_ms = opts->timeout_ms;
    int rc = 0;
    if (!(d->node = dup_str(opts->caps_node ? opts->caps_node : CANTO_DISCO_DEFAULT_NODE)))
        rc = CANTO_ENOMEM;

    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "iq";
    m.type = "get";
    m.ns = CANTO_NS_DISCO_INFO;
    if (rc == 0 && (rc = canto_client_add_handler(client, &m, on_info_request, d, &d->h_info)) == 0)
        d->have_h_info = 1;
    m.ns = CANTO_NS_DISCO_ITEMS;
    if (rc == 0 &&
        (rc = canto_client_add_handler(client, &m, on_items_request, d, &d->h_items)) == 0)
        d->have_h_items = 1;
    if (!d->caps_disabled) {
        canto_handler_match pm = CANTO_HANDLER_MATCH_INIT;
        pm.name = "presence";
        pm.priority = PRESENCE_PRIORITY;
        if (rc == 0 &&
            (rc = canto_client_add_handler(client, &pm, on_presence, d, &d->h_presence)) == 0)
            d->have_h_presence = 1;
        if (rc == 0 && (rc = canto_client_add_send_filter(client, caps_filter, d, &d->filter)) == 0)
            d->have_filter = 1;
    }
    if (rc == 0 && (rc = canto_client_add_listener(client, on_state, d, &d->listener)) == 0)
        d->have_listener = 1;
    for (size_t i = 0; rc == 0 && i < NOWN; i++) {
        if (d->caps_disabled && strcmp(own_features[i], CANTO_NS_CAPS) == 0)
            continue;
        if (has_feature(client, own_features[i]))
            continue;
        if ((rc = canto_client_add_feature(client, own_features[i])) == 0)
            d->added[i] = 1;
    }
    if (rc) {
        canto_disco_free(d);
        return rc;
    }
    *out = d;
    return 0;
}
