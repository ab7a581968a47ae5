/* Convenience constructors for the three stanza kinds. */
#include <stddef.h>
#include <string.h>

#include <canto/error.h>
#include <canto/stanza.h>

static int one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* Creates @p name in jabber:client with optional type/to/id attributes. */
static int new_stanza(const canto_allocator *alloc, const char *name, const char *type,
                      const char *to, const char *id, canto_stanza **out)
{
    canto_stanza *s;
    int rc = canto_stanza_new(alloc, name, CANTO_NS_CLIENT, &s);
    if (rc)
        return rc;
    if ((type && (rc = canto_stanza_set_attr(s, "type", type))) ||
        (to && (rc = canto_stanza_set_attr(s, "to", to))) ||
        (id && (rc = canto_stanza_set_attr(s, "id", id)))) {
        canto_stanza_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int canto_stanza_new_message(const canto_allocator *alloc, const char *type, const char *to,
                             const char *id, const char *body, canto_stanza **out)
{
    static const char *const types[] = {"chat", "normal", "groupchat", "headline", "error", NULL};
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (type && !one_of(type, types))
        return CANTO_EINVAL;
    canto_stanza *m, *b;
    int rc = new_stanza(alloc, "message", type, to, id, &m);
    if (rc || !body)
        return rc ? rc : (*out = m, 0);
    if ((rc = canto_stanza_add_child(m, "body", NULL, &b)) ||
        (rc = canto_stanza_set_text(b, body))) {
        canto_stanza_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int canto_stanza_new_presence(const canto_allocator *alloc, const char *type, const char *to,
                              canto_stanza **out)
{
    static const char *const types[] = {"unavailable",  "subscribe", "subscribed", "unsubscribe",
                                        "unsubscribed", "probe",     "error",      NULL};
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (type && !one_of(type, types))
        return CANTO_EINVAL;
    return new_stanza(alloc, "presence", type, to, NULL, out);
}

int canto_stanza_new_iq(const canto_allocator *alloc, const char *type, const char *to,
                        const char *id, canto_stanza **out)
{
    static const char *const types[] = {"get", "set", "result", "error", NULL};
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!type || !one_of(type, types) || !id || !*id)
        return CANTO_EINVAL;
    return new_stanza(alloc, "iq", type, to, id, out);
}
