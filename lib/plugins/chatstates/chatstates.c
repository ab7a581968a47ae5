/* Chat State Notifications (XEP-0085): reading, attaching and sending
 * states, and a callback for incoming ones. Public API only. */
#include <stdlib.h>
#include <string.h>

#include <canto/chatstates.h>
#include <canto/error.h>

/* Observes messages without consuming them, before ordinary handlers. */
#define HANDLER_PRIORITY 100

static const char *const names[] = {NULL, "active", "composing", "paused", "inactive", "gone"};
#define NSTATES (sizeof(names) / sizeof(names[0]))

struct canto_chatstates {
    canto_client *client;
    unsigned handler_id;
    canto_chatstates_fn fn;
    void *ud;
};

const char *canto_chatstate_name(canto_chatstate state)
{
    return (unsigned)state < NSTATES ? names[state] : NULL;
}

static canto_chatstate from_name(const char *name)
{
    for (size_t i = 1; i < NSTATES; i++)
        if (strcmp(names[i], name) == 0)
            return (canto_chatstate)i;
    return CANTO_CHATSTATE_NONE;
}

canto_chatstate canto_chatstate_get(const canto_stanza *message)
{
    if (!canto_stanza_is(message, "message", NULL))
        return CANTO_CHATSTATE_NONE;
    const char *type = canto_stanza_attr(message, "type");
    if (type && strcmp(type, "error") == 0)
        return CANTO_CHATSTATE_NONE;
    const canto_stanza *el = canto_stanza_child(message, NULL, CANTO_NS_CHATSTATES);
    return el ? from_name(canto_stanza_name(el)) : CANTO_CHATSTATE_NONE;
}

int canto_chatstate_set(canto_stanza *message, canto_chatstate state)
{
    if (!canto_stanza_is(message, "message", NULL) || (unsigned)state >= NSTATES)
        return CANTO_EINVAL;
    canto_stanza *el;
    while ((el = canto_stanza_child(message, NULL, CANTO_NS_CHATSTATES)) != NULL)
        canto_stanza_remove(el);
    if (state == CANTO_CHATSTATE_NONE)
        return 0;
    return canto_stanza_add_child(message, names[state], CANTO_NS_CHATSTATES, NULL);
}

static int on_message(void *ud, canto_client *client, canto_stanza *st)
{
    canto_chatstates *cs = ud;
    (void)client;
    canto_chatstate state = canto_chatstate_get(st);
    if (cs->fn && state != CANTO_CHATSTATE_NONE)
        cs->fn(cs->ud, cs, canto_stanza_attr(st, "from"), state, st); /* cs may be gone now */
    return 0;
}

int canto_chatstates_send(canto_chatstates *cs, const char *to, const char *type,
                          canto_chatstate state)
{
    if (!cs || !to || state == CANTO_CHATSTATE_NONE || (unsigned)state >= NSTATES)
        return CANTO_EINVAL;
    if (!type)
        type = "chat";
    if (strcmp(type, "chat") != 0 && strcmp(type, "groupchat") != 0)
        return CANTO_EINVAL;
    canto_stanza *msg;
    int rc = canto_stanza_new_message(NULL, type, to, NULL, NULL, &msg);
    if (rc)
        return rc;
    rc = canto_chatstate_set(msg, state);
    if (rc == 0)
        rc = canto_client_send(cs->client, msg);
    canto_stanza_free(msg);
    return rc;
}

int canto_chatstates_new(canto_client *client, canto_chatstates **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!client)
        return CANTO_EINVAL;
    canto_chatstates *cs = calloc(1, sizeof(*cs));
    if (!cs)
        return CANTO_ENOMEM;
    cs->client = client;
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "message";
    m.priority = HANDLER_PRIORITY;
    int rc = canto_client_add_handler(client, &m, on_message, cs, &cs->handler_id);
    if (rc == 0) {
        rc = canto_client_add_feature(client, CANTO_NS_CHATSTATES);
        if (rc)
            canto_client_remove_handler(client, cs->handler_id);
    }
    if (rc) {
        free(cs);
        return rc;
    }
    *out = cs;
    return 0;
}

void canto_chatstates_free(canto_chatstates *cs)
{
    if (!cs)
        return;
    canto_client_remove_handler(cs->client, cs->handler_id);
    canto_client_remove_feature(cs->client, CANTO_NS_CHATSTATES);
    free(cs);
}

int canto_chatstates_set_callback(canto_chatstates *cs, canto_chatstates_fn fn, void *ud)
{
    if (!cs)
        return CANTO_EINVAL;
    cs->fn = fn;
    cs->ud = ud;
    return 0;
}
