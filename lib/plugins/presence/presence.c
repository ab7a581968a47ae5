/* Presence (RFC 6121 §3, §4): sending availability and subscription stanzas,
 * tracking contacts' resources from incoming presence. Public API only. */
#include <canto/presence.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>

struct canto_presence_resource {
    canto_jid *jid; /* full JID, or bare for a sender without a resource */
    canto_presence_show show;
    const char *status; /* borrowed from stanza */
    int priority;
    unsigned long long seq; /* order of arrival, for ties in "best" */
    canto_stanza *stanza;   /* one reference */
};

struct canto_presence_contact {
    canto_jid *jid; /* bare */
    canto_presence_resource **res;
    size_t nres, res_cap;
    canto_stanza *error; /* last error presence (one reference), or NULL */
};

struct canto_presence {
    canto_client *client;
    unsigned handler_id;
    unsigned listener_id;
    canto_presence_contact **contacts; /* sorted by bare JID string */
    size_t ncontacts, contacts_cap;
    canto_stanza *available; /* remembered broadcast presence, or NULL */
    int sent_since_connect;  /* broadcast presence went out since the last CONNECTED */
    int pending;             /* changed while not connected: the server must hear it */
    unsigned long long seq;
    canto_presence_changed_fn changed_fn;
    void *changed_ud;
    canto_presence_subscription_fn sub_fn;
    void *sub_ud;
    int depth; /* > 0 while a callback of ours runs */
    int freed; /* canto_presence_free() was called at depth > 0 */
};

/* --- small helpers -------------------------------------------------------- */

const char *canto_presence_show_name(canto_presence_show show)
{
    switch (show) {
    case CANTO_PRESENCE_SHOW_CHAT:
        return "chat";
    case CANTO_PRESENCE_SHOW_AWAY:
        return "away";
    case CANTO_PRESENCE_SHOW_XA:
        return "xa";
    case CANTO_PRESENCE_SHOW_DND:
        return "dnd";
    case CANTO_PRESENCE_SHOW_NONE:
        break;
    }
    return NULL;
}

static canto_presence_show show_from_text(const char *s)
{
    static const canto_presence_show all[] = {CANTO_PRESENCE_SHOW_CHAT, CANTO_PRESENCE_SHOW_AWAY,
                                              CANTO_PRESENCE_SHOW_XA, CANTO_PRESENCE_SHOW_DND};
    for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(s, canto_presence_show_name(all[i])) == 0)
            return all[i];
    return CANTO_PRESENCE_SHOW_NONE;
}

/* RFC 6121 §4.7.2.3: an integer from -128 to +127; anything else counts as
 * the default, 0. Surrounding whitespace is tolerated. */
static int parse_priority(const char *s)
{
    if (!s)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno)
        return 0;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    if (*end || v < -128 || v > 127)
        return 0;
    return (int)v;
}

static void enter(canto_presence *p)
{
    p->depth++;
}

static void destroy(canto_presence *p);

/* Leave a callback frame; frees @p p if it was freed meanwhile and this is
 * the outermost frame. Returns 1 if @p p is gone. */
static int leave(canto_presence *p)
{
    if (--p->depth == 0 && p->freed) {
        destroy(p);
        return 1;
    }
    return 0;
}

static void resource_free(canto_presence_resource *r)
{
    if (!r)
        return;
    canto_jid_free(r->jid);
    canto_stanza_free(r->stanza);
    free(r);
}

static void contact_free(canto_presence_contact *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nres; i++)
        resource_free(c->res[i]);
    free(c->res);
    canto_jid_free(c->jid);
    canto_stanza_free(c->error);
    free(c);
}

/* Binary search by string; returns the index of a match or of the place to
 * insert, and sets *found. */
static size_t search_contacts(const canto_presence *p, const char *bare, int *found)
{
    size_t lo = 0, hi = p->ncontacts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(canto_jid_bare_str(p->contacts[mid]->jid), bare);
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

static size_t search_resources(const canto_presence_contact *c, const char *full, int *found)
{
    size_t lo = 0, hi = c->nres;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(canto_jid_str(c->res[mid]->jid), full);
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

static canto_presence_contact *find_contact(const canto_presence *p, const canto_jid *jid)
{
    int found;
    size_t i = search_contacts(p, canto_jid_bare_str(jid), &found);
    return found ? p->contacts[i] : NULL;
}

/* Find or create the contact for @p jid. */
static int get_contact(canto_presence *p, const canto_jid *jid, canto_presence_contact **out)
{
    int found;
    size_t pos = search_contacts(p, canto_jid_bare_str(jid), &found);
    if (found) {
        *out = p->contacts[pos];
        return 0;
    }
    if (p->ncontacts == p->contacts_cap) {
        size_t cap = p->contacts_cap ? p->contacts_cap * 2 : 16;
        canto_presence_contact **n = realloc(p->contacts, cap * sizeof(*n));
        if (!n)
            return CANTO_ENOMEM;
        p->contacts = n;
        p->contacts_cap = cap;
    }
    canto_presence_contact *c = calloc(1, sizeof(*c));
    if (!c)
        return CANTO_ENOMEM;
    int rc = canto_jid_to_bare(jid, &c->jid);
    if (rc) {
        free(c);
        return rc;
    }
    memmove(&p->contacts[pos + 1], &p->contacts[pos], (p->ncontacts - pos) * sizeof(c));
    p->contacts[pos] = c;
    p->ncontacts++;
    *out = c;
    return 0;
}

/* Take @p c out of the table (the caller frees it) if it has nothing left. */
static canto_presence_contact *drop_if_empty(canto_presence *p, canto_presence_contact *c)
{
    if (c->nres > 0 || c->error)
        return NULL;
    int found;
    size_t i = search_contacts(p, canto_jid_bare_str(c->jid), &found);
    if (!found || p->contacts[i] != c)
        return NULL;
    memmove(&p->contacts[i], &p->contacts[i + 1], (p->ncontacts - i - 1) * sizeof(c));
    p->ncontacts--;
    return c;
}

static void emit(canto_presence *p, const canto_jid *jid, const canto_presence_resource *old_state,
                 const canto_presence_resource *new_state, const canto_stanza *stanza, int error)
{
    if (!p->changed_fn || p->freed)
        return;
    canto_presence_change ch = {
        CANTO_PRESENCE_CHANGE_VERSION, jid, old_state, new_state, stanza, error};
    enter(p);
    p->changed_fn(p->changed_ud, p, &ch);
    /* The frame around every emit is an inner one: the caller holds its own. */
    p->depth--;
}

/* Forget everything tracked, telling the change callback about each resource.
 * The table is detached first, so the callback may do anything meanwhile. */
static void clear_all(canto_presence *p)
{
    canto_presence_contact **list = p->contacts;
    size_t n = p->ncontacts;
    p->contacts = NULL;
    p->ncontacts = p->contacts_cap = 0;
    for (size_t i = 0; i < n; i++) {
        canto_presence_contact *c = list[i];
        for (size_t j = 0; j < c->nres; j++)
            emit(p, c->res[j]->jid, c->res[j], NULL, NULL, 0);
        contact_free(c);
    }
    free(list);
}

/* --- building stanzas ----------------------------------------------------- */

static int add_text_child(canto_stanza *parent, const char *name, const char *text)
{
    canto_stanza *child;
    int rc = canto_stanza_add_child(parent, name, NULL, &child);
    if (rc == 0)
        rc = canto_stanza_set_text(child, text);
    return rc;
}

static int check_availability(const canto_presence_availability *a)
{
    if (a->version != CANTO_PRESENCE_AVAILABILITY_VERSION)
        return CANTO_EINVAL;
    if (a->priority < -128 || a->priority > 127)
        return CANTO_EINVAL;
    if ((unsigned)a->show > (unsigned)CANTO_PRESENCE_SHOW_DND)
        return CANTO_EINVAL;
    if (a->n_payload && !a->payload)
        return CANTO_EINVAL;
    for (size_t i = 0; i < a->n_payload; i++)
        if (canto_stanza_kind(a->payload[i]) != CANTO_NODE_ELEMENT)
            return CANTO_EINVAL;
    return 0;
}

/* <presence [to]> with show, status, priority and payload. */
static int build_available(const canto_presence_availability *a, const char *to, canto_stanza **out)
{
    int rc = check_availability(a);
    if (rc)
        return rc;
    canto_stanza *st;
    rc = canto_stanza_new_presence(NULL, NULL, to, &st);
    if (rc)
        return rc;
    const char *show = canto_presence_show_name(a->show);
    if (show)
        rc = add_text_child(st, "show", show);
    if (rc == 0 && a->status)
        rc = add_text_child(st, "status", a->status);
    if (rc == 0 && a->priority != 0) {
        char num[8];
        snprintf(num, sizeof(num), "%d", a->priority);
        rc = add_text_child(st, "priority", num);
    }
    for (size_t i = 0; rc == 0 && i < a->n_payload; i++)
        rc = canto_stanza_append_copy(st, a->payload[i], NULL);
    if (rc) {
        canto_stanza_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

static int build_typed(const char *type, const char *to, const char *status, canto_stanza **out)
{
    canto_stanza *st;
    int rc = canto_stanza_new_presence(NULL, type, to, &st);
    if (rc == 0 && status)
        rc = add_text_child(st, "status", status);
    if (rc) {
        canto_stanza_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

/* --- incoming presence ---------------------------------------------------- */

static void on_available(canto_presence *p, const canto_jid *from, canto_stanza *st)
{
    canto_presence_contact *c;
    if (get_contact(p, from, &c) != 0)
        return;
    canto_presence_resource *r = calloc(1, sizeof(*r));
    if (!r || canto_jid_copy(from, &r->jid) != 0) {
        free(r);
        contact_free(drop_if_empty(p, c));
        return;
    }
    const char *ns = canto_stanza_ns(st);
    r->stanza = canto_stanza_ref(st);
    r->show = show_from_text(canto_stanza_child_text(st, "show", ns));
    r->status = canto_stanza_child_text(st, "status", ns);
    r->priority = parse_priority(canto_stanza_child_text(st, "priority", ns));
    r->seq = ++p->seq;

    int found;
    size_t pos = search_resources(c, canto_jid_str(r->jid), &found);
    canto_presence_resource *old = NULL;
    if (found) {
        old = c->res[pos];
        c->res[pos] = r;
    } else {
        if (c->nres == c->res_cap) {
            size_t cap = c->res_cap ? c->res_cap * 2 : 4;
            canto_presence_resource **n = realloc(c->res, cap * sizeof(*n));
            if (!n) {
                resource_free(r);
                contact_free(drop_if_empty(p, c));
                return;
            }
            c->res = n;
            c->res_cap = cap;
        }
        memmove(&c->res[pos + 1], &c->res[pos], (c->nres - pos) * sizeof(r));
        c->res[pos] = r;
        c->nres++;
    }
    /* Available again: an earlier error no longer describes the contact. */
    canto_stanza_free(c->error);
    c->error = NULL;
    emit(p, r->jid, old, r, st, 0);
    resource_free(old);
}

static void on_unavailable(canto_presence *p, const canto_jid *from, canto_stanza *st)
{
    canto_presence_contact *c = find_contact(p, from);
    if (!c)
        return;
    int found;
    size_t pos = search_resources(c, canto_jid_str(from), &found);
    if (!found)
        return;
    canto_presence_resource *old = c->res[pos];
    memmove(&c->res[pos], &c->res[pos + 1], (c->nres - pos - 1) * sizeof(old));
    c->nres--;
    canto_presence_contact *gone = drop_if_empty(p, c);
    emit(p, old->jid, old, NULL, st, 0);
    resource_free(old);
    contact_free(gone);
}

static void on_error(canto_presence *p, const canto_jid *from, canto_stanza *st)
{
    canto_presence_contact *c;
    if (get_contact(p, from, &c) != 0)
        return;
    canto_stanza_free(c->error);
    c->error = canto_stanza_ref(st);
    /* Detach what goes away: from the bare JID, every resource. */
    canto_presence_resource **dropped = NULL;
    size_t ndropped = 0;
    if (canto_jid_is_bare(from)) {
        dropped = c->res;
        ndropped = c->nres;
        c->res = NULL;
        c->nres = c->res_cap = 0;
    } else {
        int found;
        size_t pos = search_resources(c, canto_jid_str(from), &found);
        if (found && (dropped = malloc(sizeof(*dropped))) != NULL) {
            dropped[0] = c->res[pos];
            ndropped = 1;
            memmove(&c->res[pos], &c->res[pos + 1], (c->nres - pos - 1) * sizeof(*dropped));
            c->nres--;
        }
    }
    if (ndropped == 0)
        emit(p, from, NULL, NULL, st, 1);
    for (size_t i = 0; i < ndropped; i++)
        emit(p, dropped[i]->jid, dropped[i], NULL, st, 1);
    for (size_t i = 0; i < ndropped; i++)
        resource_free(dropped[i]);
    free(dropped);
}

static int subscription_kind(const char *type)
{
    static const char *const names[] = {"subscribe", "subscribed", "unsubscribe", "unsubscribed"};
    static const canto_presence_subscription kinds[] = {
        CANTO_PRESENCE_SUBSCRIBE, CANTO_PRESENCE_SUBSCRIBED, CANTO_PRESENCE_UNSUBSCRIBE,
        CANTO_PRESENCE_UNSUBSCRIBED};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(type, names[i]) == 0)
            return (int)kinds[i];
    return 0;
}

static void on_subscription(canto_presence *p, canto_presence_subscription kind,
                            const canto_jid *from, canto_stanza *st)
{
    if (!p->sub_fn)
        return;
    canto_jid *bare;
    if (canto_jid_to_bare(from, &bare) != 0)
        return;
    const char *status = canto_stanza_child_text(st, "status", canto_stanza_ns(st));
    enter(p);
    p->sub_fn(p->sub_ud, p, kind, bare, status, st);
    p->depth--;
    canto_jid_free(bare);
}

static int on_presence(void *ud, canto_client *client, canto_stanza *st)
{
    canto_presence *p = ud;
    (void)client;
    if (p->freed)
        return 0;
    const char *from_str = canto_stanza_attr(st, "from");
    canto_jid *from = NULL;
    if (!from_str || canto_jid_parse(NULL, from_str, &from) != 0)
        return 0; /* RFC 6120 §8.1.2.1 would make it our own account; nothing to track */
    const char *type = canto_stanza_attr(st, "type");
    enter(p);
    if (!type) {
        on_available(p, from, st);
    } else if (strcmp(type, "unavailable") == 0) {
        on_unavailable(p, from, st);
    } else if (strcmp(type, "error") == 0) {
        on_error(p, from, st);
    } else {
        int kind = subscription_kind(type);
        if (kind)
            on_subscription(p, (canto_presence_subscription)kind, from, st);
        /* "probe" and unknown types: nothing for a client to do. */
    }
    canto_jid_free(from);
    leave(p);
    return 0; /* others (caps, MUC, the application) may want it too */
}

/* Send what the server should know of our availability: the remembered
 * presence, or unavailable if none. */
static void announce(canto_presence *p, canto_client *client)
{
    canto_stanza *st = NULL;
    const canto_stanza *out = p->available;
    if (!out) {
        if (build_typed("unavailable", NULL, NULL, &st) != 0)
            return;
        out = st;
    }
    if (canto_client_send(client, out) == 0) {
        p->sent_since_connect = 1;
        p->pending = 0;
    }
    canto_stanza_free(st);
}

static void on_state(void *ud, canto_client *client, canto_client_state state,
                     const canto_disconnect_info *info)
{
    canto_presence *p = ud;
    if (p->freed)
        return;
    enter(p);
    if (state == CANTO_CLIENT_CONNECTED) {
        if (canto_client_session_is_new(client)) {
            /* Whatever was tracked belongs to a session that is gone. The
             * remembered availability is initial presence, unless the
             * application already sent it from its own state callback. */
            clear_all(p);
            if (p->available && !p->sent_since_connect && !p->freed)
                announce(p, client);
            p->pending = 0;
        } else if (p->pending && !p->sent_since_connect) {
            /* Resumed (XEP-0198): the server kept our presence and theirs;
             * tell it only what changed while we were away. */
            announce(p, client);
        }
    } else {
        p->sent_since_connect = 0;
        /* A session the client will try to resume keeps its presence until
         * we know (CONNECTED says whether it is new). */
        if (state == CANTO_CLIENT_DISCONNECTED && !(info && info->will_reconnect))
            clear_all(p);
    }
    leave(p);
}

/* --- life cycle ----------------------------------------------------------- */

int canto_presence_new(canto_client *client, canto_presence **out)
{
    if (!client || !out)
        return CANTO_EINVAL;
    canto_presence *p = calloc(1, sizeof(*p));
    if (!p)
        return CANTO_ENOMEM;
    p->client = client;
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "presence";
    int rc = canto_client_add_handler(client, &m, on_presence, p, &p->handler_id);
    if (rc == 0) {
        rc = canto_client_add_listener(client, on_state, p, &p->listener_id);
        if (rc)
            canto_client_remove_handler(client, p->handler_id);
    }
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

static void destroy(canto_presence *p)
{
    for (size_t i = 0; i < p->ncontacts; i++)
        contact_free(p->contacts[i]);
    free(p->contacts);
    canto_stanza_free(p->available);
    free(p);
}

void canto_presence_free(canto_presence *p)
{
    if (!p || p->freed)
        return;
    canto_client_remove_handler(p->client, p->handler_id);
    canto_client_remove_listener(p->client, p->listener_id);
    p->freed = 1;
    if (p->depth == 0)
        destroy(p);
}

int canto_presence_set_changed_callback(canto_presence *p, canto_presence_changed_fn fn, void *ud)
{
    if (!p)
        return CANTO_EINVAL;
    p->changed_fn = fn;
    p->changed_ud = ud;
    return 0;
}

int canto_presence_set_subscription_callback(canto_presence *p, canto_presence_subscription_fn fn,
                                             void *ud)
{
    if (!p)
        return CANTO_EINVAL;
    p->sub_fn = fn;
    p->sub_ud = ud;
    return 0;
}

/* --- sending -------------------------------------------------------------- */

static int connected(const canto_presence *p)
{
    return canto_client_get_state(p->client) == CANTO_CLIENT_CONNECTED;
}

int canto_presence_set_available(canto_presence *p, const canto_presence_availability *a)
{
    if (!p || !a || p->freed)
        return CANTO_EINVAL;
    canto_stanza *st;
    int rc = build_available(a, NULL, &st);
    if (rc)
        return rc;
    int sent = 0;
    if (connected(p)) {
        rc = canto_client_send(p->client, st);
        if (rc == 0)
            sent = 1;
        else if (rc == CANTO_ENOTCONN)
            rc = 0;
        if (rc) {
            canto_stanza_free(st);
            return rc;
        }
    }
    canto_stanza_free(p->available);
    p->available = st;
    if (sent) {
        p->sent_since_connect = 1;
        p->pending = 0;
    } else {
        p->pending = 1;
    }
    return 0;
}

int canto_presence_set_unavailable(canto_presence *p, const char *status)
{
    if (!p || p->freed)
        return CANTO_EINVAL;
    canto_stanza *st;
    int rc = build_typed("unavailable", NULL, status, &st);
    if (rc)
        return rc;
    canto_stanza_free(p->available);
    p->available = NULL;
    p->pending = 1;
    if (connected(p)) {
        rc = canto_client_send(p->client, st);
        if (rc == 0)
            p->pending = 0;
        else if (rc == CANTO_ENOTCONN)
            rc = 0;
    }
    canto_stanza_free(st);
    enter(p);
    clear_all(p);
    leave(p);
    return rc;
}

int canto_presence_is_available(const canto_presence *p)
{
    return p && p->available ? 1 : 0;
}

int canto_presence_send_directed(canto_presence *p, const char *to,
                                 const canto_presence_availability *a)
{
    if (!p || !to || p->freed)
        return CANTO_EINVAL;
    canto_jid *jid;
    int rc = canto_jid_parse(NULL, to, &jid);
    if (rc)
        return rc;
    canto_stanza *st;
    if (a)
        rc = build_available(a, canto_jid_str(jid), &st);
    else
        rc = build_typed("unavailable", canto_jid_str(jid), NULL, &st);
    canto_jid_free(jid);
    if (rc)
        return rc;
    rc = canto_client_send(p->client, st);
    canto_stanza_free(st);
    return rc;
}

int canto_presence_send_subscription(canto_presence *p, canto_presence_subscription kind,
                                     const char *jid, const char *status)
{
    static const char *const types[] = {NULL, "subscribe", "subscribed", "unsubscribe",
                                        "unsubscribed"};
    if (!p || !jid || p->freed || (unsigned)kind < 1 || (unsigned)kind > 4)
        return CANTO_EINVAL;
    canto_jid *to;
    int rc = canto_jid_parse(NULL, jid, &to);
    if (rc)
        return rc;
    canto_stanza *st;
    rc = build_typed(types[kind], canto_jid_bare_str(to),
                     kind == CANTO_PRESENCE_SUBSCRIBE ? status : NULL, &st);
    canto_jid_free(to);
    if (rc)
        return rc;
    rc = canto_client_send(p->client, st);
    canto_stanza_free(st);
    return rc;
}

int canto_presence_subscribe(canto_presence *p, const char *jid, const char *status)
{
    return canto_presence_send_subscription(p, CANTO_PRESENCE_SUBSCRIBE, jid, status);
}

int canto_presence_approve(canto_presence *p, const char *jid)
{
    return canto_presence_send_subscription(p, CANTO_PRESENCE_SUBSCRIBED, jid, NULL);
}

int canto_presence_preapprove(canto_presence *p, const char *jid)
{
    if (!p || !jid || p->freed)
        return CANTO_EINVAL;
    if (canto_client_get_state(p->client) == CANTO_CLIENT_CONNECTED &&
        !canto_client_has_stream_feature(p->client, "sub", "urn:xmpp:features:pre-approval"))
        return CANTO_EUNSUPPORTED;
    return canto_presence_send_subscription(p, CANTO_PRESENCE_SUBSCRIBED, jid, NULL);
}

int canto_presence_deny(canto_presence *p, const char *jid)
{
    return canto_presence_send_subscription(p, CANTO_PRESENCE_UNSUBSCRIBED, jid, NULL);
}

int canto_presence_unsubscribe(canto_presence *p, const char *jid)
{
    return canto_presence_send_subscription(p, CANTO_PRESENCE_UNSUBSCRIBE, jid, NULL);
}

/* --- reading -------------------------------------------------------------- */

size_t canto_presence_contact_count(const canto_presence *p)
{
    return p ? p->ncontacts : 0;
}

const canto_presence_contact *canto_presence_contact_at(const canto_presence *p, size_t index)
{
    return p && index < p->ncontacts ? p->contacts[index] : NULL;
}

const canto_presence_contact *canto_presence_find(const canto_presence *p, const char *jid)
{
    if (!p || !jid)
        return NULL;
    canto_jid *j;
    if (canto_jid_parse(NULL, jid, &j) != 0)
        return NULL;
    const canto_presence_contact *c = find_contact(p, j);
    canto_jid_free(j);
    return c;
}

const canto_jid *canto_presence_contact_jid(const canto_presence_contact *c)
{
    return c ? c->jid : NULL;
}

size_t canto_presence_contact_resource_count(const canto_presence_contact *c)
{
    return c ? c->nres : 0;
}

const canto_presence_resource *canto_presence_contact_resource_at(const canto_presence_contact *c,
                                                                  size_t index)
{
    return c && index < c->nres ? c->res[index] : NULL;
}

/* Lower is more available. */
static int show_rank(canto_presence_show show)
{
    switch (show) {
    case CANTO_PRESENCE_SHOW_CHAT:
        return 0;
    case CANTO_PRESENCE_SHOW_NONE:
        return 1;
    case CANTO_PRESENCE_SHOW_AWAY:
        return 2;
    case CANTO_PRESENCE_SHOW_XA:
        return 3;
    case CANTO_PRESENCE_SHOW_DND:
        return 4;
    }
    return 5;
}

const canto_presence_resource *canto_presence_contact_best(const canto_presence_contact *c)
{
    const canto_presence_resource *best = NULL;
    for (size_t i = 0; c && i < c->nres; i++) {
        const canto_presence_resource *r = c->res[i];
        if (!best || r->priority > best->priority ||
            (r->priority == best->priority &&
             (show_rank(r->show) < show_rank(best->show) ||
              (show_rank(r->show) == show_rank(best->show) && r->seq > best->seq))))
            best = r;
    }
    return best;
}

const canto_stanza *canto_presence_contact_error(const canto_presence_contact *c)
{
    return c ? c->error : NULL;
}

const canto_jid *canto_presence_resource_jid(const canto_presence_resource *r)
{
    return r ? r->jid : NULL;
}

canto_presence_show canto_presence_resource_show(const canto_presence_resource *r)
{
    return r ? r->show : CANTO_PRESENCE_SHOW_NONE;
}

const char *canto_presence_resource_status(const canto_presence_resource *r)
{
    return r ? r->status : NULL;
}

int canto_presence_resource_priority(const canto_presence_resource *r)
{
    return r ? r->priority : 0;
}

const canto_stanza *canto_presence_resource_stanza(const canto_presence_resource *r)
{
    return r ? r->stanza : NULL;
}
