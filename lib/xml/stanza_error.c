/* Stanza errors (RFC 6120 §8.3): building error replies and reading them back. */
#include "xml/tree.h"

#include <string.h>

#include <canto/error.h>

static const char *const type_names[] = {
    [CANTO_ERROR_AUTH] = "auth",         [CANTO_ERROR_CANCEL] = "cancel",
    [CANTO_ERROR_CONTINUE] = "continue", [CANTO_ERROR_MODIFY] = "modify",
    [CANTO_ERROR_WAIT] = "wait",
};

static const char *const cond_names[] = {
    [CANTO_COND_BAD_REQUEST] = "bad-request",
    [CANTO_COND_CONFLICT] = "conflict",
    [CANTO_COND_FEATURE_NOT_IMPLEMENTED] = "feature-not-implemented",
    [CANTO_COND_FORBIDDEN] = "forbidden",
    [CANTO_COND_GONE] = "gone",
    [CANTO_COND_INTERNAL_SERVER_ERROR] = "internal-server-error",
    [CANTO_COND_ITEM_NOT_FOUND] = "item-not-found",
    [CANTO_COND_JID_MALFORMED] = "jid-malformed",
    [CANTO_COND_NOT_ACCEPTABLE] = "not-acceptable",
    [CANTO_COND_NOT_ALLOWED] = "not-allowed",
    [CANTO_COND_NOT_AUTHORIZED] = "not-authorized",
    [CANTO_COND_POLICY_VIOLATION] = "policy-violation",
    [CANTO_COND_RECIPIENT_UNAVAILABLE] = "recipient-unavailable",
    [CANTO_COND_REDIRECT] = "redirect",
    [CANTO_COND_REGISTRATION_REQUIRED] = "registration-required",
    [CANTO_COND_REMOTE_SERVER_NOT_FOUND] = "remote-server-not-found",
    [CANTO_COND_REMOTE_SERVER_TIMEOUT] = "remote-server-timeout",
    [CANTO_COND_RESOURCE_CONSTRAINT] = "resource-constraint",
    [CANTO_COND_SERVICE_UNAVAILABLE] = "service-unavailable",
    [CANTO_COND_SUBSCRIPTION_REQUIRED] = "subscription-required",
    [CANTO_COND_UNDEFINED_CONDITION] = "undefined-condition",
    [CANTO_COND_UNEXPECTED_REQUEST] = "unexpected-request",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *canto_error_type_name(canto_error_type type)
{
    return (unsigned)type < COUNT(type_names) ? type_names[type] : NULL;
}

const char *canto_error_condition_name(canto_error_condition cond)
{
    return (unsigned)cond < COUNT(cond_names) ? cond_names[cond] : NULL;
}

canto_error_condition canto_error_condition_from_name(const char *name)
{
    if (name)
        for (unsigned i = 1; i < COUNT(cond_names); i++)
            if (strcmp(cond_names[i], name) == 0)
                return (canto_error_condition)i;
    return CANTO_COND_UNKNOWN;
}

static canto_error_type type_from_name(const char *name)
{
    if (name)
        for (unsigned i = 1; i < COUNT(type_names); i++)
            if (strcmp(type_names[i], name) == 0)
                return (canto_error_type)i;
    return CANTO_ERROR_TYPE_UNKNOWN;
}

static int is_stanza(const canto_stanza *s)
{
    return canto_stanza_is(s, "message", CANTO_NS_CLIENT) ||
           canto_stanza_is(s, "presence", CANTO_NS_CLIENT) ||
           canto_stanza_is(s, "iq", CANTO_NS_CLIENT);
}

static int copy_attr(canto_stanza *dst, const char *dname, const canto_stanza *src,
                     const char *sname)
{
    const char *v = canto_stanza_attr(src, sname);
    return v ? canto_stanza_set_attr(dst, dname, v) : 0;
}

static int fill_reply(canto_stanza *reply, const canto_stanza *request, canto_error_type type,
                      canto_error_condition cond, const char *text)
{
    int rc;
    if ((rc = copy_attr(reply, "id", request, "id")) ||
        (rc = copy_attr(reply, "to", request, "from")) ||
        (rc = copy_attr(reply, "from", request, "to")) ||
        (rc = canto_stanza_set_attr(reply, "type", "error")))
        return rc;
    /* An iq error reply must not echo the request payload the way a message or
     * presence may: the requester matches it by id, and the payload could be
     * large. */
    if (strcmp(request->name, "iq") != 0) {
        for (const canto_stanza *c = request->first; c; c = c->next)
            if (c->kind == CANTO_NODE_ELEMENT && (rc = canto_stanza_append_copy(reply, c, NULL)))
                return rc;
    }
    canto_stanza *err, *cnd, *txt;
    if ((rc = canto_stanza_add_child(reply, "error", NULL, &err)) ||
        (rc = canto_stanza_set_attr(err, "type", type_names[type])) ||
        (rc = canto_stanza_add_child(err, cond_names[cond], CANTO_NS_STANZAS, &cnd)))
        return rc;
    if (text && ((rc = canto_stanza_add_child(err, "text", CANTO_NS_STANZAS, &txt)) ||
                 (rc = canto_stanza_set_text(txt, text))))
        return rc;
    return 0;
}

int canto_stanza_new_error_reply(const canto_stanza *request, canto_error_type type,
                                 canto_error_condition cond, const char *text, canto_stanza **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!is_stanza(request) || !canto_error_type_name(type) || !canto_error_condition_name(cond))
        return CANTO_EINVAL;
    const char *rtype = canto_stanza_attr(request, "type");
    if (rtype && strcmp(rtype, "error") == 0)
        return CANTO_EINVAL; /* never answer an error with an error */
    canto_allocator alloc = {CANTO_ALLOCATOR_VERSION, request->doc->alloc.alloc,
                             request->doc->alloc.realloc, request->doc->alloc.free,
                             request->doc->alloc.ud};
    canto_stanza *reply;
    int rc = canto_stanza_new(&alloc, request->name, CANTO_NS_CLIENT, &reply);
    if (rc)
        return rc;
    rc = fill_reply(reply, request, type, cond, text);
    if (rc) {
        canto_stanza_free(reply);
        return rc;
    }
    *out = reply;
    return 0;
}

int canto_stanza_get_error(const canto_stanza *stanza, canto_stanza_error *err)
{
    if (!stanza || !err || err->version != CANTO_STANZA_ERROR_VERSION)
        return CANTO_EINVAL;
    *err = (canto_stanza_error)CANTO_STANZA_ERROR_INIT;
    /* The error element is in the stanza's own namespace (jabber:client). */
    const canto_stanza *e = canto_stanza_child(stanza, "error", stanza->ns);
    if (!e)
        return CANTO_ENOTFOUND;
    err->type = type_from_name(canto_stanza_attr(e, "type"));
    err->by = canto_stanza_attr(e, "by");
    for (const canto_stanza *c = e->first; c; c = c->next) {
        if (c->kind != CANTO_NODE_ELEMENT)
            continue;
        if (c->ns && strcmp(c->ns, CANTO_NS_STANZAS) == 0) {
            if (strcmp(c->name, "text") == 0) {
                if (!err->text) {
                    err->text = canto_stanza_text(c);
                    err->lang = canto_stanza_attr(c, "xml:lang");
                }
            } else if (!err->condition_name) {
                err->condition_name = c->name;
                err->condition = canto_error_condition_from_name(c->name);
                if (err->condition == CANTO_COND_GONE || err->condition == CANTO_COND_REDIRECT) {
                    const char *t = canto_stanza_text(c);
                    err->redirect = t && *t ? t : NULL;
                }
            }
        } else if (!err->app) {
            err->app = c;
        }
    }
    return 0;
}
