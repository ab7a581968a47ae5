/* Handlers: matching incoming stanzas to application callbacks, and the
 * automatic service-unavailable answer to iq requests nobody handled. */
#include "client/client_impl.h"

#include <string.h>

#include <canto/error.h>

static char *dup_or_null(canto_client *c, const char *s, int *failed)
{
    if (!s)
        return NULL;
    char *d = canto__strndup(&c->alloc, s, strlen(s));
    if (!d)
        *failed = 1;
    return d;
}

static void handler_clear(canto_client *c, canto__handler *h)
{
    canto__dealloc(&c->alloc, h->name);
    canto__dealloc(&c->alloc, h->type);
    canto__dealloc(&c->alloc, h->ns);
    canto__dealloc(&c->alloc, h->from);
    canto__dealloc(&c->alloc, h->id_attr);
}

int canto_client_add_handler(canto_client *c, const canto_handler_match *m, canto_handler_fn fn,
                             void *ud, unsigned *id)
{
    if (!c || !fn || (m && m->version != CANTO_HANDLER_MATCH_VERSION))
        return CANTO_EINVAL;
    canto_handler_match any = CANTO_HANDLER_MATCH_INIT;
    if (!m)
        m = &any;
    canto_jid *from = NULL;
    if (m->from) {
        int rc = canto_jid_parse(NULL, m->from, &from);
        if (rc)
            return rc;
    }
    if (c->nhandlers == c->handler_cap) {
        size_t cap = c->handler_cap ? c->handler_cap * 2 : 8;
        canto__handler *n = canto__realloc(&c->alloc, c->handlers, cap * sizeof(*n));
        if (!n) {
            canto_jid_free(from);
            return CANTO_ENOMEM;
        }
        c->handlers = n;
        c->handler_cap = cap;
    }
    canto__handler h = {0};
    int failed = 0;
    h.id = c->next_handler_id++;
    h.priority = m->priority;
    h.generation = c->generation + 1;
    h.name = dup_or_null(c, m->name, &failed);
    h.type = dup_or_null(c, m->type, &failed);
    h.ns = dup_or_null(c, m->ns, &failed);
    h.from = from ? dup_or_null(c, canto_jid_str(from), &failed) : NULL;
    h.from_bare = from && canto_jid_is_bare(from);
    h.id_attr = dup_or_null(c, m->id, &failed);
    h.fn = fn;
    h.ud = ud;
    canto_jid_free(from);
    if (failed) {
        handler_clear(c, &h);
        return CANTO_ENOMEM;
    }
    /* Keep the array sorted by priority (stable): dispatch is then one pass. */
    size_t pos = c->nhandlers;
    while (pos > 0 && c->handlers[pos - 1].priority < h.priority)
        pos--;
    memmove(&c->handlers[pos + 1], &c->handlers[pos], (c->nhandlers - pos) * sizeof(h));
    c->handlers[pos] = h;
    c->nhandlers++;
    if (id)
        *id = h.id;
    return 0;
}

static void compact(canto_client *c)
{
    size_t j = 0;
    for (size_t i = 0; i < c->nhandlers; i++) {
        if (c->handlers[i].removed)
            handler_clear(c, &c->handlers[i]);
        else
            c->handlers[j++] = c->handlers[i];
    }
    c->nhandlers = j;
}

int canto_client_remove_handler(canto_client *c, unsigned id)
{
    if (!c)
        return CANTO_EINVAL;
    for (size_t i = 0; i < c->nhandlers; i++) {
        if (c->handlers[i].id == id && !c->handlers[i].removed) {
            c->handlers[i].removed = 1;
            if (!c->dispatching)
                compact(c);
            return 0;
        }
    }
    return CANTO_ENOTFOUND;
}

void canto__client_handlers_free(canto_client *c)
{
    for (size_t i = 0; i < c->nhandlers; i++)
        handler_clear(c, &c->handlers[i]);
    canto__dealloc(&c->alloc, c->handlers);
    c->handlers = NULL;
    c->nhandlers = c->handler_cap = 0;
}

static int attr_is(const canto_stanza *st, const char *attr, const char *want)
{
    const char *v = canto_stanza_attr(st, attr);
    return v && strcmp(v, want) == 0;
}

static int from_matches(const canto__handler *h, const canto_stanza *st)
{
    const char *from = canto_stanza_attr(st, "from");
    if (!from)
        return 0;
    canto_jid *j;
    if (canto_jid_parse(NULL, from, &j) != 0)
        return 0;
    int ok = strcmp(h->from_bare ? canto_jid_bare_str(j) : canto_jid_str(j), h->from) == 0;
    canto_jid_free(j);
    return ok;
}

static int matches(const canto__handler *h, const canto_stanza *st)
{
    if (h->name && strcmp(canto_stanza_name(st), h->name) != 0)
        return 0;
    if (h->type && !attr_is(st, "type", h->type))
        return 0;
    if (h->id_attr && !attr_is(st, "id", h->id_attr))
        return 0;
    if (h->ns) {
        const char *ns = canto_stanza_ns(canto_stanza_first_element(st));
        if (!ns || strcmp(ns, h->ns) != 0)
            return 0;
    }
    return !h->from || from_matches(h, st);
}

/* RFC 6120 §8.4: an iq get/set must be answered; errors are never answered. */
static void answer_unhandled(canto_client *c, const canto_stanza *st)
{
    if (strcmp(canto_stanza_name(st), "iq") != 0)
        return;
    const char *type = canto_stanza_attr(st, "type");
    if (!type || (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
        return;
    canto_stanza *reply;
    if (canto_stanza_new_error_reply(st, CANTO_ERROR_CANCEL, CANTO_COND_SERVICE_UNAVAILABLE, NULL,
                                     &reply) != 0)
        return;
    canto_stanza_set_attr(reply, "from", NULL); /* the server stamps our address */
    canto_client_send(c, reply);
    canto_stanza_free(reply);
}

void canto__client_dispatch(canto_client *c, canto_stanza *st)
{
    if (canto__client_iq_answer(c, st))
        return;
    unsigned gen = ++c->generation;
    int outer = !c->dispatching;
    c->dispatching = 1;
    int consumed = 0;
    /* Index-based: handlers added meanwhile may move entries, but only later
     * generations are skipped and removals are deferred, so no entry is run
     * twice or after its removal. */
    for (size_t i = 0; i < c->nhandlers && !consumed && !c->freed; i++) {
        canto__handler *h = &c->handlers[i];
        if (h->removed || h->generation > gen || !matches(h, st))
            continue;
        unsigned id = h->id;
        canto_handler_fn fn = h->fn;
        void *ud = h->ud;
        consumed = fn(ud, c, st);
        /* An insertion before i during the callback shifts our entry. */
        while (i < c->nhandlers && c->handlers[i].id != id)
            i++;
    }
    if (outer) {
        c->dispatching = 0;
        if (!c->freed)
            compact(c);
    }
    if (!consumed && !c->freed)
        answer_unhandled(c, st);
}
