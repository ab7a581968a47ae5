/* Publish-subscribe (XEP-0060) and PEP (XEP-0163): request builders, answer
 * parsers and event dispatch to per-node watches. Public API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>
#include <canto/jid.h>
#include <canto/pubsub.h>

#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

enum kind {
    PLAIN,
    DISCO,
    CREATE,
    CONFIG_GET,
    OPTIONS_GET,
    PUBLISH,
    ITEMS,
    SUBSCRIBE,
    SUBSCRIPTIONS
};

typedef struct pending {
    struct pending *next;
    canto_pubsub *ps;
    unsigned handle;
    enum kind kind;
    char *service, *node, *item_id;
    canto_pubsub_result_fn fn;
    void *ud;
} pending;

typedef struct watch {
    struct watch *next;
    unsigned id;
    int pep, dead;
    char *service; /* normalized; NULL for PEP */
    char *node;    /* NULL: any node (plain watches only) */
    char *feature; /* PEP: NODE+notify, announced while the watch lives */
    canto_pubsub_event_fn fn;
    void *ud;
} watch;

struct canto_pubsub {
    canto_client *client;
    unsigned handler_id;
    pending *requests;
    watch *watches;
    unsigned next_watch_id;
    int depth, freed, dirty;
};

/* --- life cycle helpers --------------------------------------------------- */

/* A live PEP watch of @p node other than @p except, or NULL. */
static watch *pep_watch(const canto_pubsub *ps, const char *node, const watch *except)
{
    for (watch *o = ps->watches; o; o = o->next)
        if (o != except && o->pep && !o->dead && strcmp(o->node, node) == 0)
            return o;
    return NULL;
}

/* NODE+notify is announced once per node, by the oldest of its PEP watches
 * (the client counts additions too, but this object does not rely on it):
 * when that watch goes, another one of the same node takes the feature over. */
static void watch_free(canto_pubsub *ps, watch *w)
{
    if (w->feature) {
        watch *heir = pep_watch(ps, w->node, w);
        if (heir && !heir->feature) {
            heir->feature = w->feature;
            w->feature = NULL;
        } else {
            canto_client_remove_feature(ps->client, w->feature);
        }
    }
    free(w->service);
    free(w->node);
    free(w->feature);
    free(w);
}

static void sweep(canto_pubsub *ps)
{
    watch **pp = &ps->watches;
    while (*pp) {
        watch *w = *pp;
        if (w->dead) {
            *pp = w->next;
            watch_free(ps, w);
        } else {
            pp = &w->next;
        }
    }
    ps->dirty = 0;
}

static void destroy(canto_pubsub *ps)
{
    for (watch *w = ps->watches; w; w = w->next)
        w->dead = 1; /* no feature is handed over */
    while (ps->watches) {
        watch *w = ps->watches;
        ps->watches = w->next;
        watch_free(ps, w);
    }
    free(ps);
}

static void enter(canto_pubsub *ps)
{
    ps->depth++;
}

static void leave(canto_pubsub *ps)
{
    if (--ps->depth > 0)
        return;
    if (ps->freed)
        destroy(ps);
    else if (ps->dirty)
        sweep(ps);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* --- growing arrays of borrowed entries ----------------------------------- */

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, c * size);
    if (!p)
        return CANTO_ENOMEM;
    *arr = p;
    *cap = c;
    return 0;
}

/* The <item/> children of @p el (items of a result or an event). With
 * @p retract, the <retract/> children instead (ids only). */
static int read_items(const canto_stanza *el, const char *ns, int retract, canto_pubsub_item **out,
                      size_t *nout)
{
    const char *name = retract ? "retract" : "item";
    canto_pubsub_item *v = NULL;
    size_t n = 0, cap = 0;
    for (const canto_stanza *it = canto_stanza_child(el, name, ns);
         it && n < CANTO_PUBSUB_MAX_ENTRIES; it = canto_stanza_next_match(it, name, ns)) {
        if (retract && !canto_stanza_attr(it, "id"))
            continue;
        if (grow((void **)&v, &cap, n, sizeof(*v)) != 0) {
            free(v);
            return CANTO_ENOMEM;
        }
        v[n].id = canto_stanza_attr(it, "id");
        v[n].publisher = canto_stanza_attr(it, "publisher");
        v[n].payload = retract ? NULL : canto_stanza_first_element(it);
        n++;
    }
    *out = v;
    *nout = n;
    return 0;
}

static int read_nodes(const canto_stanza *query, canto_pubsub_node **out, size_t *nout)
{
    canto_pubsub_node *v = NULL;
    size_t n = 0, cap = 0;
    for (const canto_stanza *it = canto_stanza_child(query, "item", NS_DISCO_ITEMS);
         it && n < CANTO_PUBSUB_MAX_ENTRIES;
         it = canto_stanza_next_match(it, "item", NS_DISCO_ITEMS)) {
        const char *jid = canto_stanza_attr(it, "jid");
        if (!jid)
            continue;
        if (grow((void **)&v, &cap, n, sizeof(*v)) != 0) {
            free(v);
            return CANTO_ENOMEM;
        }
        v[n].jid = jid;
        v[n].node = canto_stanza_attr(it, "node");
        v[n].name = canto_stanza_attr(it, "name");
        n++;
    }
    *out = v;
    *nout = n;
    return 0;
}

static int read_subscriptions(const canto_stanza *parent, const char *default_node,
                              canto_pubsub_subscription **out, size_t *nout)
{
    canto_pubsub_subscription *v = NULL;
    size_t n = 0, cap = 0;
    for (const canto_stanza *it = canto_stanza_child(parent, "subscription", CANTO_NS_PUBSUB);
         it && n < CANTO_PUBSUB_MAX_ENTRIES;
         it = canto_stanza_next_match(it, "subscription", CANTO_NS_PUBSUB)) {
        const char *jid = canto_stanza_attr(it, "jid");
        if (!jid)
            continue;
        if (grow((void **)&v, &cap, n, sizeof(*v)) != 0) {
            free(v);
            return CANTO_ENOMEM;
        }
        const char *node = canto_stanza_attr(it, "node");
        v[n].node = node ? node : default_node;
        v[n].jid = jid;
        v[n].subid = canto_stanza_attr(it, "subid");
        v[n].state = canto_stanza_attr(it, "subscription");
        n++;
    }
    *out = v;
    *nout = n;
    return 0;
}

/* The jabber:x:data form under @p el, parsed; NULL if none or malformed. */
static canto_form *read_form(const canto_stanza *el)
{
    const canto_stanza *x = canto_stanza_child(el, "x", CANTO_NS_DATA_FORMS);
    canto_form *form = NULL;
    if (x && canto_form_parse(NULL, x, &form, NULL) != 0)
        form = NULL;
    return form;
}

/* --- answers -------------------------------------------------------------- */

static void unlink_request(canto_pubsub *ps, pending *q)
{
    for (pending **pp = &ps->requests; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            return;
        }
    }
}

static void request_free(pending *q)
{
    free(q->service);
    free(q->node);
    free(q->item_id);
    free(q);
}

static void fill_result(const pending *q, const canto_stanza *st, canto_pubsub_result *r,
                        canto_pubsub_item *one, canto_form **form)
{
    const canto_stanza *pubsub = canto_stanza_child(st, "pubsub", CANTO_NS_PUBSUB);
    const canto_stanza *owner = canto_stanza_child(st, "pubsub", CANTO_NS_PUBSUB_OWNER);
    switch (q->kind) {
    case DISCO: {
        canto_pubsub_node *nodes;
        const canto_stanza *query = canto_stanza_child(st, "query", NS_DISCO_ITEMS);
        if (query && read_nodes(query, &nodes, &r->n_nodes) == 0)
            r->nodes = nodes;
        break;
    }
    case CREATE: {
        const canto_stanza *c = canto_stanza_child(pubsub, "create", CANTO_NS_PUBSUB);
        const char *node = canto_stanza_attr(c, "node");
        if (node)
            r->node = node;
        break;
    }
    case CONFIG_GET:
        *form = read_form(canto_stanza_child(owner, "configure", CANTO_NS_PUBSUB_OWNER));
        r->form = *form;
        break;
    case OPTIONS_GET:
        *form = read_form(canto_stanza_child(pubsub, "options", CANTO_NS_PUBSUB));
        r->form = *form;
        break;
    case PUBLISH: {
        const canto_stanza *p = canto_stanza_child(pubsub, "publish", CANTO_NS_PUBSUB);
        const char *id = canto_stanza_attr(canto_stanza_child(p, "item", CANTO_NS_PUBSUB), "id");
        one->id = id ? id : q->item_id;
        if (one->id) {
            r->items = one;
            r->n_items = 1;
        }
        break;
    }
    case ITEMS: {
        const canto_stanza *items = canto_stanza_child(pubsub, "items", CANTO_NS_PUBSUB);
        canto_pubsub_item *v;
        if (items && read_items(items, CANTO_NS_PUBSUB, 0, &v, &r->n_items) == 0)
            r->items = v;
        break;
    }
    case SUBSCRIBE:
    case SUBSCRIPTIONS: {
        const canto_stanza *parent =
            q->kind == SUBSCRIBE ? pubsub
                                 : canto_stanza_child(pubsub, "subscriptions", CANTO_NS_PUBSUB);
        canto_pubsub_subscription *v;
        const char *node = canto_stanza_attr(parent, "node");
        if (parent &&
            read_subscriptions(parent, node ? node : (q->kind == SUBSCRIBE ? q->node : NULL), &v,
                               &r->n_subscriptions) == 0)
            r->subscriptions = v;
        break;
    }
    case PLAIN:
        break;
    }
}

static void on_answer(void *ud, canto_client *client, const canto_iq_response *resp)
{
    pending *q = ud;
    canto_pubsub *ps = q->ps;
    (void)client;
    unlink_request(ps, q);
    enter(ps);
    if (q->fn && !ps->freed) {
        canto_pubsub_result r;
        memset(&r, 0, sizeof(r));
        r.version = CANTO_PUBSUB_RESULT_VERSION;
        r.response = resp;
        r.service = q->service;
        r.node = q->node;
        canto_pubsub_item one = {NULL, NULL, NULL};
        canto_form *form = NULL;
        if (resp->outcome == CANTO_IQ_RESULT && resp->stanza)
            fill_result(q, resp->stanza, &r, &one, &form);
        q->fn(q->ud, ps, &r);
        if (r.items != &one)
            free((void *)r.items);
        free((void *)r.nodes);
        free((void *)r.subscriptions);
        canto_form_free(form);
    }
    request_free(q);
    leave(ps);
}

/* --- requests ------------------------------------------------------------- */

/* <iq type=TYPE [to=SERVICE]><ROOT xmlns=NS/></iq> */
static int new_request(const char *service, const char *type, const char *root, const char *ns,
                       canto_stanza **iq, canto_stanza **el)
{
    int rc = canto_stanza_new(NULL, "iq", CANTO_NS_CLIENT, iq);
    if (rc)
        return rc;
    rc = canto_stanza_set_attr(*iq, "type", type);
    if (rc == 0 && service)
        rc = canto_stanza_set_attr(*iq, "to", service);
    if (rc == 0)
        rc = canto_stanza_add_child(*iq, root, ns, el);
    if (rc) {
        canto_stanza_free(*iq);
        *iq = NULL;
    }
    return rc;
}

/* Add <NAME node=NODE/> under @p parent (same namespace). */
static int add_node_child(canto_stanza *parent, const char *name, const char *node,
                          canto_stanza **child)
{
    int rc = canto_stanza_add_child(parent, name, NULL, child);
    if (rc == 0 && node)
        rc = canto_stanza_set_attr(*child, "node", node);
    return rc;
}

/* Send @p iq (always freed) and keep a pending entry for its answer. */
static int submit(canto_pubsub *ps, canto_stanza *iq, int rc, enum kind kind, const char *service,
                  const char *node, const char *item_id, canto_pubsub_result_fn fn, void *ud)
{
    pending *q = NULL;
    if (rc == 0) {
        q = calloc(1, sizeof(*q));
        if (!q)
            rc = CANTO_ENOMEM;
    }
    if (rc == 0) {
        q->ps = ps;
        q->kind = kind;
        q->fn = fn;
        q->ud = ud;
        q->service = dup_or_null(service);
        q->node = dup_or_null(node);
        q->item_id = dup_or_null(item_id);
        if ((service && !q->service) || (node && !q->node) || (item_id && !q->item_id))
            rc = CANTO_ENOMEM;
    }
    if (rc == 0)
        rc = canto_client_send_iq(ps->client, iq, 0, on_answer, q, &q->handle);
    canto_stanza_free(iq);
    if (rc) {
        if (q)
            request_free(q);
        return rc;
    }
    q->next = ps->requests;
    ps->requests = q;
    return 0;
}

static int usable(const canto_pubsub *ps)
{
    return ps && !ps->freed;
}

/* The account's bare JID, for subscription requests. */
static const char *own_bare(const canto_pubsub *ps)
{
    return canto_jid_bare_str(canto_client_jid(ps->client));
}

static int disco(canto_pubsub *ps, const char *service, const char *node, canto_pubsub_result_fn fn,
                 void *ud)
{
    canto_stanza *iq, *q;
    int rc = new_request(service, "get", "query", NS_DISCO_ITEMS, &iq, &q);
    if (rc)
        return rc;
    if (node)
        rc = canto_stanza_set_attr(q, "node", node);
    return submit(ps, iq, rc, DISCO, service, node, NULL, fn, ud);
}

int canto_pubsub_discover_nodes(canto_pubsub *ps, const char *service, const char *node,
                                canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps))
        return CANTO_EINVAL;
    return disco(ps, service, node, fn, ud);
}

int canto_pubsub_discover_items(canto_pubsub *ps, const char *service, const char *node,
                                canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps) || !node)
        return CANTO_EINVAL;
    return disco(ps, service, node, fn, ud);
}

int canto_pubsub_create(canto_pubsub *ps, const char *service, const char *node,
                        const canto_form *config, canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps))
        return CANTO_EINVAL;
    canto_stanza *iq, *p, *c;
    int rc = new_request(service, "set", "pubsub", CANTO_NS_PUBSUB, &iq, &p);
    if (rc)
        return rc;
    rc = add_node_child(p, "create", node, &c);
    if (rc == 0 && config) {
        canto_stanza *conf;
        rc = canto_stanza_add_child(p, "configure", NULL, &conf);
        if (rc == 0)
            rc = canto_form_to_stanza(config, conf, NULL);
    }
    return submit(ps, iq, rc, CREATE, service, node, NULL, fn, ud);
}

/* An owner request: <pubsub xmlns=#owner><NAME node=NODE/></pubsub>. */
static int owner_request(canto_pubsub *ps, const char *service, const char *type, const char *name,
                         const char *node, canto_stanza **iq, canto_stanza **child)
{
    canto_stanza *p;
    int rc = new_request(service, type, "pubsub", CANTO_NS_PUBSUB_OWNER, iq, &p);
    if (rc)
        return rc;
    (void)ps;
    rc = add_node_child(p, name, node, child);
    if (rc) {
        canto_stanza_free(*iq);
        *iq = NULL;
    }
    return rc;
}

int canto_pubsub_get_config(canto_pubsub *ps, const char *service, const char *node,
                            canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps) || !node)
        return CANTO_EINVAL;
    canto_stanza *iq, *c;
    int rc = owner_request(ps, service, "get", "configure", node, &iq, &c);
    if (rc)
        return rc;
    return submit(ps, iq, 0, CONFIG_GET, service, node, NULL, fn, ud);
}

int canto_pubsub_configure(canto_pubsub *ps, const char *service, const char *node,
                           const canto_form *config, canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps) || !node || !config)
        return CANTO_EINVAL;
    canto_stanza *iq, *c;
    int rc = owner_request(ps, service, "set", "configure", node, &iq, &c);
    if (rc)
        return rc;
    rc = canto_form_to_stanza(config, c, NULL);
    return submit(ps, iq, rc, PLAIN, service, node, NULL, fn, ud);
}

int canto_pubsub_delete(canto_pubsub *ps, const char *service, const char *node,
                        const char *redirect, canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps) || !node)
        return CANTO_EINVAL;
    canto_stanza *iq, *c;
    int rc = owner_request(ps, service, "set", "delete", node, &iq, &c);
    if (rc)
        return rc;
    if (redirect) {
        canto_stanza *r;
        rc = canto_stanza_add_child(c, "redirect", NULL, &r);
        if (rc == 0)
            rc = canto_stanza_set_attr(r, "uri", redirect);
    }
    return submit(ps, iq, rc, PLAIN, service, node, NULL, fn, ud);
}

int canto_pubsub_purge(canto_pubsub *ps, const char *service, const char *node,
                       canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps) || !node)
        return CANTO_EINVAL;
    canto_stanza *iq, *c;
    int rc = owner_request(ps, service, "set", "purge", node, &iq, &c);
    if (rc)
        return rc;
    return submit(ps, iq, 0, PLAIN, service, node, NULL, fn, ud);
}

int canto_pubsub_publish(canto_pubsub *ps, const char *service, const char *node,
                         const char *item_id, const canto_stanza *payload,
                         const canto_form *options, canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps) || !node || (payload && canto_stanza_kind(payload) != CANTO_NODE_ELEMENT))
        return CANTO_EINVAL;
    canto_stanza *iq, *p, *pub, *item;
    int rc = new_request(service, "set", "pubsub", CANTO_NS_PUBSUB, &iq, &p);
    if (rc)
        return rc;
    rc = add_node_child(p, "publish", node, &pub);
    if (rc == 0)
        rc = canto_stanza_add_child(pub, "item", NULL, &item);
    if (rc == 0 && item_id)
        rc = canto_stanza_set_attr(item, "id", item_id);
    if (rc == 0 && payload)
        rc = canto_stanza_append_copy(item, payload, NULL);
    if (rc == 0 && options) {
        canto_stanza *po;
        rc = canto_stanza_add_child(p, "publish-options", NULL, &po);
        if (rc == 0)
            rc = canto_form_to_stanza(options, po, NULL);
    }
    return submit(ps, iq, rc, PUBLISH, service, node, item_id, fn, ud);
}

int canto_pubsub_retract(canto_pubsub *ps, const char *service, const char *node,
                         const char *item_id, int notify, canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps) || !node || !item_id)
        return CANTO_EINVAL;
    canto_stanza *iq, *p, *r, *item;
    int rc = new_request(service, "set", "pubsub", CANTO_NS_PUBSUB, &iq, &p);
    if (rc)
        return rc;
    rc = add_node_child(p, "retract", node, &r);
    if (rc == 0 && notify)
        rc = canto_stanza_set_attr(r, "notify", "true");
    if (rc == 0)
        rc = canto_stanza_add_child(r, "item", NULL, &item);
    if (rc == 0)
        rc = canto_stanza_set_attr(item, "id", item_id);
    return submit(ps, iq, rc, PLAIN, service, node, item_id, fn, ud);
}

int canto_pubsub_get_items(canto_pubsub *ps, const char *service, const char *node,
                           const char *const *ids, size_t n_ids, unsigned max_items,
                           canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps) || !node || (n_ids > 0 && !ids))
        return CANTO_EINVAL;
    canto_stanza *iq, *p, *items;
    int rc = new_request(service, "get", "pubsub", CANTO_NS_PUBSUB, &iq, &p);
    if (rc)
        return rc;
    rc = add_node_child(p, "items", node, &items);
    for (size_t i = 0; rc == 0 && i < n_ids; i++) {
        canto_stanza *item;
        rc = ids[i] ? canto_stanza_add_child(items, "item", NULL, &item) : CANTO_EINVAL;
        if (rc == 0)
            rc = canto_stanza_set_attr(item, "id", ids[i]);
    }
    if (rc == 0 && n_ids == 0 && max_items > 0) {
        char buf[16];
        snprintf(buf, sizeof(buf), "%u", max_items);
        rc = canto_stanza_set_attr(items, "max_items", buf);
    }
    return submit(ps, iq, rc, ITEMS, service, node, NULL, fn, ud);
}

/* <pubsub><NAME node jid [subid]/></pubsub> */
static int subscriber_request(canto_pubsub *ps, const char *service, const char *type,
                              const char *name, const char *node, const char *jid,
                              const char *subid, canto_stanza **iq, canto_stanza **p,
                              canto_stanza **el)
{
    int rc = new_request(service, type, "pubsub", CANTO_NS_PUBSUB, iq, p);
    if (rc)
        return rc;
    rc = add_node_child(*p, name, node, el);
    if (rc == 0)
        rc = canto_stanza_set_attr(*el, "jid", jid ? jid : own_bare(ps));
    if (rc == 0 && subid)
        rc = canto_stanza_set_attr(*el, "subid", subid);
    if (rc) {
        canto_stanza_free(*iq);
        *iq = NULL;
    }
    return rc;
}

int canto_pubsub_subscribe(canto_pubsub *ps, const char *service, const char *node, const char *jid,
                           const canto_form *options, canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps) || !node)
        return CANTO_EINVAL;
    canto_stanza *iq, *p, *s;
    int rc = subscriber_request(ps, service, "set", "subscribe", node, jid, NULL, &iq, &p, &s);
    if (rc)
        return rc;
    if (options) {
        canto_stanza *o;
        rc = canto_stanza_add_child(p, "options", NULL, &o);
        if (rc == 0)
            rc = canto_form_to_stanza(options, o, NULL);
    }
    return submit(ps, iq, rc, SUBSCRIBE, service, node, NULL, fn, ud);
}

int canto_pubsub_unsubscribe(canto_pubsub *ps, const char *service, const char *node,
                             const char *jid, const char *subid, canto_pubsub_result_fn fn,
                             void *ud)
{
    if (!usable(ps) || !node)
        return CANTO_EINVAL;
    canto_stanza *iq, *p, *s;
    int rc = subscriber_request(ps, service, "set", "unsubscribe", node, jid, subid, &iq, &p, &s);
    if (rc)
        return rc;
    return submit(ps, iq, 0, PLAIN, service, node, NULL, fn, ud);
}

int canto_pubsub_subscriptions(canto_pubsub *ps, const char *service, const char *node,
                               canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps))
        return CANTO_EINVAL;
    canto_stanza *iq, *p, *s;
    int rc = new_request(service, "get", "pubsub", CANTO_NS_PUBSUB, &iq, &p);
    if (rc)
        return rc;
    rc = add_node_child(p, "subscriptions", node, &s);
    return submit(ps, iq, rc, SUBSCRIPTIONS, service, node, NULL, fn, ud);
}

int canto_pubsub_get_options(canto_pubsub *ps, const char *service, const char *node,
                             const char *jid, const char *subid, canto_pubsub_result_fn fn,
                             void *ud)
{
    if (!usable(ps) || !node)
        return CANTO_EINVAL;
    canto_stanza *iq, *p, *o;
    int rc = subscriber_request(ps, service, "get", "options", node, jid, subid, &iq, &p, &o);
    if (rc)
        return rc;
    return submit(ps, iq, 0, OPTIONS_GET, service, node, NULL, fn, ud);
}

int canto_pubsub_set_options(canto_pubsub *ps, const char *service, const char *node,
                             const char *jid, const char *subid, const canto_form *options,
                             canto_pubsub_result_fn fn, void *ud)
{
    if (!usable(ps) || !node || !options)
        return CANTO_EINVAL;
    canto_stanza *iq, *p, *o;
    int rc = subscriber_request(ps, service, "set", "options", node, jid, subid, &iq, &p, &o);
    if (rc)
        return rc;
    rc = canto_form_to_stanza(options, o, NULL);
    return submit(ps, iq, rc, PLAIN, service, node, NULL, fn, ud);
}

/* --- events --------------------------------------------------------------- */

/* Does watch @p w accept an event about @p node from @p from? */
static int accepts(const watch *w, const canto_jid *from, const char *node)
{
    if (w->dead)
        return 0;
    if (w->node && strcmp(w->node, node) != 0)
        return 0;
    if (w->pep)
        return canto_jid_local(from) && canto_jid_is_bare(from);
    return strcmp(w->service, canto_jid_str(from)) == 0;
}

/* Call every watch that accepts @p ev; returns how many were called. */
static int dispatch(canto_pubsub *ps, const canto_jid *from, canto_pubsub_event *ev)
{
    int called = 0;
    for (watch *w = ps->watches; w && !ps->freed; w = w->next) {
        if (!accepts(w, from, ev->node))
            continue;
        called++;
        w->fn(w->ud, ps, ev);
    }
    return called;
}

static int handle_event_child(canto_pubsub *ps, const canto_jid *from, const canto_stanza *msg,
                              const canto_stanza *el)
{
    const char *node = canto_stanza_attr(el, "node");
    if (!node)
        return 0; /* XEP-0060 requires it; without it nobody can tell what changed */
    canto_pubsub_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.version = CANTO_PUBSUB_EVENT_VERSION;
    ev.service = canto_jid_str(from);
    ev.node = node;
    ev.message = msg;
    int called = 0;
    if (canto_stanza_is(el, "items", CANTO_NS_PUBSUB_EVENT)) {
        canto_pubsub_item *v;
        for (int retract = 0; retract <= 1 && !ps->freed; retract++) {
            if (read_items(el, CANTO_NS_PUBSUB_EVENT, retract, &v, &ev.n_items) != 0)
                continue;
            if (ev.n_items > 0) {
                ev.type = retract ? CANTO_PUBSUB_EVENT_RETRACT : CANTO_PUBSUB_EVENT_ITEMS;
                ev.items = v;
                called += dispatch(ps, from, &ev);
            }
            free(v);
        }
        ev.items = NULL;
        ev.n_items = 0;
    } else if (canto_stanza_is(el, "purge", CANTO_NS_PUBSUB_EVENT)) {
        ev.type = CANTO_PUBSUB_EVENT_PURGE;
        called = dispatch(ps, from, &ev);
    } else if (canto_stanza_is(el, "delete", CANTO_NS_PUBSUB_EVENT)) {
        ev.type = CANTO_PUBSUB_EVENT_DELETE;
        ev.redirect =
            canto_stanza_attr(canto_stanza_child(el, "redirect", CANTO_NS_PUBSUB_EVENT), "uri");
        called = dispatch(ps, from, &ev);
    } else if (canto_stanza_is(el, "configuration", CANTO_NS_PUBSUB_EVENT)) {
        canto_form *form = read_form(el);
        ev.type = CANTO_PUBSUB_EVENT_CONFIGURATION;
        ev.config = form;
        called = dispatch(ps, from, &ev);
        canto_form_free(form);
    }
    return called;
}

static int on_message(void *ud, canto_client *client, canto_stanza *st)
{
    canto_pubsub *ps = ud;
    (void)client;
    const char *type = canto_stanza_attr(st, "type");
    const canto_stanza *event = canto_stanza_child(st, "event", CANTO_NS_PUBSUB_EVENT);
    const char *from_str = canto_stanza_attr(st, "from");
    if (!event || !from_str || (type && strcmp(type, "error") == 0))
        return 0;
    canto_jid *from;
    if (canto_jid_parse(NULL, from_str, &from) != 0)
        return 0;
    int called = 0;
    enter(ps);
    for (const canto_stanza *el = canto_stanza_first_element(event); el && !ps->freed;
         el = canto_stanza_next_element(el))
        called += handle_event_child(ps, from, st, el);
    canto_jid_free(from);
    leave(ps);
    return called > 0;
}

static int add_watch(canto_pubsub *ps, int pep, const char *service, const char *node,
                     canto_pubsub_event_fn fn, void *ud, unsigned *id)
{
    if (id)
        *id = 0;
    watch *w = calloc(1, sizeof(*w));
    if (!w)
        return CANTO_ENOMEM;
    w->pep = pep;
    w->fn = fn;
    w->ud = ud;
    int rc = 0;
    if (service) {
        char *norm; /* canto_free()d, while watches use free() */
        rc = canto_jid_normalize(service, &norm);
        if (rc == 0) {
            w->service = strdup(norm);
            canto_free(norm);
            if (!w->service)
                rc = CANTO_ENOMEM;
        }
    }
    if (rc == 0 && node && !(w->node = strdup(node)))
        rc = CANTO_ENOMEM;
    if (rc == 0 && pep && !pep_watch(ps, node, NULL)) {
        size_t len = strlen(node) + sizeof("+notify");
        w->feature = malloc(len);
        if (!w->feature)
            rc = CANTO_ENOMEM;
        else
            snprintf(w->feature, len, "%s+notify", node);
        if (rc == 0 && (rc = canto_client_add_feature(ps->client, w->feature)) != 0) {
            free(w->feature);
            w->feature = NULL;
        }
    }
    if (rc) {
        watch_free(ps, w);
        return rc == CANTO_ENOMEM ? rc : CANTO_EINVAL;
    }
    w->id = ++ps->next_watch_id;
    w->next = ps->watches; /* at the head: a watch added during dispatch sees the next event */
    ps->watches = w;
    if (id)
        *id = w->id;
    return 0;
}

int canto_pubsub_watch(canto_pubsub *ps, const char *service, const char *node,
                       canto_pubsub_event_fn fn, void *ud, unsigned *id)
{
    if (!usable(ps) || !service || !fn)
        return CANTO_EINVAL;
    return add_watch(ps, 0, service, node, fn, ud, id);
}

int canto_pubsub_watch_pep(canto_pubsub *ps, const char *node, canto_pubsub_event_fn fn, void *ud,
                           unsigned *id)
{
    if (!usable(ps) || !node || !*node || !fn)
        return CANTO_EINVAL;
    return add_watch(ps, 1, NULL, node, fn, ud, id);
}

int canto_pubsub_unwatch(canto_pubsub *ps, unsigned id)
{
    if (!ps)
        return CANTO_EINVAL;
    for (watch **pp = &ps->watches; *pp; pp = &(*pp)->next) {
        watch *w = *pp;
        if (w->id != id || w->dead)
            continue;
        if (ps->depth > 0) {
            w->dead = 1;
            ps->dirty = 1;
        } else {
            *pp = w->next;
            watch_free(ps, w);
        }
        return 0;
    }
    return CANTO_ENOTFOUND;
}

/* --- life cycle ----------------------------------------------------------- */

int canto_pubsub_new(canto_client *client, canto_pubsub **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!client)
        return CANTO_EINVAL;
    canto_pubsub *ps = calloc(1, sizeof(*ps));
    if (!ps)
        return CANTO_ENOMEM;
    ps->client = client;
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "message";
    int rc = canto_client_add_handler(client, &m, on_message, ps, &ps->handler_id);
    if (rc) {
        free(ps);
        return rc;
    }
    *out = ps;
    return 0;
}

void canto_pubsub_free(canto_pubsub *ps)
{
    if (!ps || ps->freed)
        return;
    ps->freed = 1;
    canto_client_remove_handler(ps->client, ps->handler_id);
    enter(ps);
    pending *list = ps->requests;
    ps->requests = NULL;
    while (list) {
        pending *q = list;
        list = q->next;
        canto_client_cancel_iq(ps->client, q->handle);
        if (q->fn) {
            canto_iq_response resp = {CANTO_IQ_RESPONSE_VERSION, CANTO_IQ_CANCELED, NULL,
                                      CANTO_STANZA_ERROR_INIT, ""};
            canto_pubsub_result r;
            memset(&r, 0, sizeof(r));
            r.version = CANTO_PUBSUB_RESULT_VERSION;
            r.response = &resp;
            r.service = q->service;
            r.node = q->node;
            q->fn(q->ud, ps, &r);
        }
        request_free(q);
    }
    leave(ps);
}

canto_client *canto_pubsub_client(const canto_pubsub *ps)
{
    return ps ? ps->client : NULL;
}
