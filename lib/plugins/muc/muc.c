/* Multi-user chat (XEP-0045) and direct invitations (XEP-0249): the plugin
 * object, its reentrancy guard, event delivery and the helpers the other
 * files share. The plugin uses the public API only; its files:
 *   room.c      rooms, occupants, join and leave
 *   presence.c  occupant presence and status codes
 *   message.c   room messages, subjects, private messages
 *   invite.c    mediated and direct invitations, declines
 *   admin.c     muc#admin and muc#owner requests
 *   selfping.c  rejoin after a new session, XEP-0410 self-ping */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>

#include "muc_impl.h"

char *canto__muc_dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int canto__muc_set_str(char **dst, const char *s)
{
    char *n = NULL;
    if (s && !(n = strdup(s)))
        return CANTO_ENOMEM;
    free(*dst);
    *dst = n;
    return 0;
}

/* --- names ---------------------------------------------------------------- */

static const char *const role_names[] = {"none", "visitor", "participant", "moderator"};
static const char *const affil_names[] = {"none", "outcast", "member", "admin", "owner"};

const char *canto_muc_role_name(canto_muc_role role)
{
    return (unsigned)role < 4 ? role_names[role] : NULL;
}

const char *canto_muc_affiliation_name(canto_muc_affiliation affiliation)
{
    return (unsigned)affiliation < 5 ? affil_names[affiliation] : NULL;
}

const char *canto_muc_join_status_name(canto_muc_join_status status)
{
    static const char *const names[] = {"ok",     "nick-conflict",     "members-only",
                                        "banned", "password-required", "not-found",
                                        "error",  "canceled"};
    return (unsigned)status < 8 ? names[status] : "unknown";
}

canto_muc_role canto__muc_parse_role(const char *s)
{
    for (unsigned i = 0; s && i < 4; i++)
        if (strcmp(s, role_names[i]) == 0)
            return (canto_muc_role)i;
    return CANTO_MUC_ROLE_NONE;
}

canto_muc_affiliation canto__muc_parse_affil(const char *s)
{
    for (unsigned i = 0; s && i < 5; i++)
        if (strcmp(s, affil_names[i]) == 0)
            return (canto_muc_affiliation)i;
    return CANTO_MUC_AFFIL_NONE;
}

static void destroy(canto_muc *m)
{
    while (m->rooms) {
        canto_muc_room *r = m->rooms;
        m->rooms = r->next;
        canto__muc_room_free(r);
    }
    free(m);
}

static void sweep(canto_muc *m)
{
    for (canto_muc_room **pp = &m->rooms; *pp;) {
        canto_muc_room *r = *pp;
        if (r->dead) {
            *pp = r->next;
            canto__muc_room_free(r);
        } else {
            pp = &r->next;
        }
    }
}

void canto__muc_enter(canto_muc *m)
{
    m->depth++;
}

void canto__muc_leave(canto_muc *m)
{
    if (--m->depth > 0)
        return;
    if (m->freed)
        destroy(m);
    else
        sweep(m);
}

char *canto__muc_norm_bare(const char *s)
{
    canto_jid *j;
    if (!s || canto_jid_parse(NULL, s, &j) != 0)
        return NULL;
    char *out = canto_jid_is_bare(j) && canto_jid_local(j) ? strdup(canto_jid_str(j)) : NULL;
    canto_jid_free(j);
    return out;
}

/* --- sending helpers ------------------------------------------------------ */

int canto__muc_add_text_child(canto_stanza *parent, const char *name, const char *ns,
                              const char *text)
{
    canto_stanza *c;
    int rc = canto_stanza_add_child(parent, name, ns, &c);
    if (rc == 0 && text)
        rc = canto_stanza_set_text(c, text);
    return rc;
}

int canto__muc_send_and_free(canto_muc *m, canto_stanza *st, int rc)
{
    if (rc == 0)
        rc = canto_client_send(m->client, st);
    canto_stanza_free(st);
    return rc;
}

/* --- events --------------------------------------------------------------- */

void canto__muc_emit(canto_muc *m, canto_muc_event *ev)
{
    if (m->fn && !m->freed)
        m->fn(m->ud, m, ev);
}

void canto__muc_init_event(canto_muc_event *ev, canto_muc_event_type type, canto_muc_room *r,
                           const canto_stanza *st)
{
    memset(ev, 0, sizeof(*ev));
    ev->version = CANTO_MUC_EVENT_VERSION;
    ev->type = type;
    ev->room = r;
    ev->room_jid = r ? r->jid : NULL;
    ev->stanza = st;
}

/* Report the end of a join (initial or automatic); a failed room is marked
 * dead and freed later. */
int canto__muc_room_arg(canto_muc *m, const char *room_jid, char **out)
{
    *out = NULL;
    if (!m || !room_jid)
        return CANTO_EINVAL;
    *out = canto__muc_norm_bare(room_jid);
    return *out ? 0 : CANTO_EINVAL;
}

int canto_muc_set_auto_rejoin(canto_muc *muc, int on)
{
    if (!muc)
        return CANTO_EINVAL;
    muc->auto_rejoin = on != 0;
    return 0;
}

/* --- the plugin ----------------------------------------------------------- */

int canto_muc_new(canto_client *client, canto_loop *loop, canto_muc **out)
{
    if (!client || !loop || !out)
        return CANTO_EINVAL;
    canto_muc *m = calloc(1, sizeof(*m));
    if (!m)
        return CANTO_ENOMEM;
    m->client = client;
    m->loop = loop;
    m->auto_rejoin = 1;
    canto_handler_match pm = CANTO_HANDLER_MATCH_INIT;
    pm.name = "presence";
    pm.priority = 10;
    canto_handler_match mm = CANTO_HANDLER_MATCH_INIT;
    mm.name = "message";
    mm.priority = 10;
    int rc = canto_client_add_handler(client, &pm, canto__muc_on_presence, m, &m->pres_h);
    if (rc == 0)
        rc = canto_client_add_handler(client, &mm, canto__muc_on_message, m, &m->msg_h);
    if (rc == 0)
        rc = canto_client_add_listener(client, canto__muc_on_state, m, &m->listener);
    if (rc == 0)
        rc = canto_client_add_feature(client, CANTO_NS_MUC);
    if (rc == 0 && (rc = canto_client_add_feature(client, CANTO_NS_CONFERENCE)) != 0)
        canto_client_remove_feature(client, CANTO_NS_MUC);
    if (rc != 0) {
        if (m->pres_h)
            canto_client_remove_handler(client, m->pres_h);
        if (m->msg_h)
            canto_client_remove_handler(client, m->msg_h);
        if (m->listener)
            canto_client_remove_listener(client, m->listener);
        free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int canto_muc_set_callback(canto_muc *muc, canto_muc_event_fn fn, void *user_data)
{
    if (!muc)
        return CANTO_EINVAL;
    muc->fn = fn;
    muc->ud = user_data;
    return 0;
}

void canto_muc_free(canto_muc *muc)
{
    if (!muc || muc->freed)
        return;
    canto_client_remove_handler(muc->client, muc->pres_h);
    canto_client_remove_handler(muc->client, muc->msg_h);
    canto_client_remove_listener(muc->client, muc->listener);
    canto_client_remove_feature(muc->client, CANTO_NS_MUC);
    canto_client_remove_feature(muc->client, CANTO_NS_CONFERENCE);
    if (muc->ping_timer)
        canto_loop_cancel_timer(muc->loop, muc->ping_timer);
    muc->ping_timer = 0;
    while (muc->reqs) {
        req *q = muc->reqs;
        muc->reqs = q->next;
        canto_client_cancel_iq(muc->client, q->handle);
        canto__muc_req_free(q);
    }
    muc->freed = 1;
    if (muc->depth == 0)
        destroy(muc);
}
