/* Requests to a room: roles and affiliations (muc#admin), their lists (by
 * affiliation or by role), and the owner's configuration and destruction
 * (muc#owner). */
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>

#include "muc_impl.h"

void canto__muc_req_free(req *q)
{
    free(q->room);
    free(q);
}

/* --- requests ------------------------------------------------------------- */

static void unlink_req(canto_muc *m, req *q)
{
    for (req **pp = &m->reqs; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            return;
        }
    }
}

static void on_answer(void *ud, canto_client *client, const canto_iq_response *resp)
{
    req *q = ud;
    canto_muc *m = q->muc;
    (void)client;
    unlink_req(m, q);
    canto__muc_enter(m);
    if (q->kind == REQ_PING) {
        canto__muc_on_ping_answer(m, q, resp);
    } else if (q->fn && !m->freed) {
        canto_muc_reply rep = {
            CANTO_MUC_REPLY_VERSION, resp->outcome, NULL, q->room, NULL, NULL, 0};
        if (resp->outcome == CANTO_IQ_ERROR)
            rep.error = &resp->error;
        canto_form *form = NULL;
        canto_muc_occupant *items = NULL;
        canto_stanza *query = resp->outcome == CANTO_IQ_RESULT
                                  ? canto_stanza_child(resp->stanza, "query", NULL)
                                  : NULL;
        if (query && q->kind == REQ_CONFIG) {
            canto_stanza *x = canto_stanza_child(query, "x", CANTO_NS_DATA_FORMS);
            if (x && canto_form_parse(NULL, x, &form, NULL) == 0)
                rep.form = form;
        } else if (query && q->kind == REQ_LIST) {
            size_t n = 0;
            for (canto_stanza *it = canto_stanza_child(query, "item", NULL); it;
                 it = canto_stanza_next_match(it, "item", NULL))
                n++;
            items = n ? calloc(n, sizeof(*items)) : NULL;
            size_t i = 0;
            for (canto_stanza *it = items ? canto_stanza_child(query, "item", NULL) : NULL; it;
                 it = canto_stanza_next_match(it, "item", NULL), i++) {
                items[i].version = CANTO_MUC_OCCUPANT_VERSION;
                items[i].nick = canto_stanza_attr(it, "nick");
                items[i].jid = canto_stanza_attr(it, "jid");
                items[i].role = canto__muc_parse_role(canto_stanza_attr(it, "role"));
                items[i].affiliation = canto__muc_parse_affil(canto_stanza_attr(it, "affiliation"));
                items[i].status = canto_stanza_child_text(it, "reason", NULL);
            }
            rep.items = items;
            rep.nitems = items ? n : 0;
        }
        q->fn(q->ud, m, &rep);
        canto_form_free(form);
        free(items);
    }
    canto__muc_req_free(q);
    canto__muc_leave(m);
}

int canto__muc_send_request(canto_muc *m, const char *room, canto_stanza *iq, req_kind kind,
                            canto_muc_reply_fn fn, void *ud, uint32_t timeout_ms)
{
    req *q = calloc(1, sizeof(*q));
    if (!q || !(q->room = strdup(room))) {
        free(q);
        return CANTO_ENOMEM;
    }
    q->muc = m;
    q->kind = kind;
    q->fn = fn;
    q->ud = ud;
    int rc = canto_client_send_iq(m->client, iq, timeout_ms, on_answer, q, &q->handle);
    if (rc != 0) {
        canto__muc_req_free(q);
        return rc;
    }
    q->next = m->reqs;
    m->reqs = q;
    return 0;
}

/* An iq to a room with a <query xmlns=ns/>; *query receives the query. */
static int new_query(const char *room, const char *type, const char *ns, canto_stanza **iq,
                     canto_stanza **query)
{
    int rc = canto_stanza_new(NULL, "iq", CANTO_NS_CLIENT, iq);
    if (rc == 0)
        rc = canto_stanza_set_attr(*iq, "type", type);
    if (rc == 0)
        rc = canto_stanza_set_attr(*iq, "to", room);
    if (rc == 0)
        rc = canto_stanza_add_child(*iq, "query", ns, query);
    return rc;
}

int canto__muc_send_owner_iq(canto_muc *m, const char *room, const char *type, req_kind kind,
                             const canto_form *form, int instant, const char *alt,
                             const char *reason, int destroy_room, canto_muc_reply_fn fn, void *ud)
{
    canto_stanza *iq = NULL, *query, *c;
    int rc = new_query(room, type, CANTO_NS_MUC_OWNER, &iq, &query);
    if (rc == 0 && instant) {
        rc = canto_stanza_add_child(query, "x", CANTO_NS_DATA_FORMS, &c);
        if (rc == 0)
            rc = canto_stanza_set_attr(c, "type", "submit");
    }
    if (rc == 0 && form)
        rc = canto_form_to_stanza(form, query, NULL);
    if (rc == 0 && destroy_room) {
        rc = canto_stanza_add_child(query, "destroy", CANTO_NS_MUC_OWNER, &c);
        if (rc == 0 && alt)
            rc = canto_stanza_set_attr(c, "jid", alt);
        if (rc == 0 && reason)
            rc = canto__muc_add_text_child(c, "reason", CANTO_NS_MUC_OWNER, reason);
    }
    if (rc == 0)
        rc = canto__muc_send_request(m, room, iq, kind, fn, ud, 0);
    canto_stanza_free(iq);
    return rc;
}

static int admin_item(canto_muc *m, const char *room, const char *type, const char *attr,
                      const char *value, const char *attr2, const char *value2, const char *reason,
                      req_kind kind, canto_muc_reply_fn fn, void *ud)
{
    canto_stanza *iq = NULL, *query, *item;
    int rc = new_query(room, type, CANTO_NS_MUC_ADMIN, &iq, &query);
    if (rc == 0)
        rc = canto_stanza_add_child(query, "item", CANTO_NS_MUC_ADMIN, &item);
    if (rc == 0 && attr)
        rc = canto_stanza_set_attr(item, attr, value);
    if (rc == 0)
        rc = canto_stanza_set_attr(item, attr2, value2);
    if (rc == 0 && reason)
        rc = canto__muc_add_text_child(item, "reason", CANTO_NS_MUC_ADMIN, reason);
    if (rc == 0)
        rc = canto__muc_send_request(m, room, iq, kind, fn, ud, 0);
    canto_stanza_free(iq);
    return rc;
}

/* Normalize a room JID argument into *out (caller frees). */
int canto_muc_set_role(canto_muc *muc, const char *room_jid, const char *nick, canto_muc_role role,
                       const char *reason, canto_muc_reply_fn fn, void *user_data)
{
    char *room;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc != 0 || !nick || !canto_muc_role_name(role)) {
        free(room);
        return CANTO_EINVAL;
    }
    rc = admin_item(muc, room, "set", "nick", nick, "role", canto_muc_role_name(role), reason,
                    REQ_PLAIN, fn, user_data);
    free(room);
    return rc;
}

int canto_muc_kick(canto_muc *muc, const char *room_jid, const char *nick, const char *reason,
                   canto_muc_reply_fn fn, void *user_data)
{
    return canto_muc_set_role(muc, room_jid, nick, CANTO_MUC_ROLE_NONE, reason, fn, user_data);
}

int canto_muc_set_affiliation(canto_muc *muc, const char *room_jid, const char *jid,
                              canto_muc_affiliation affiliation, const char *reason,
                              canto_muc_reply_fn fn, void *user_data)
{
    char *room, *who = NULL;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    canto_jid *j;
    if (jid && canto_jid_parse(NULL, jid, &j) == 0) {
        who = strdup(canto_jid_bare_str(j));
        canto_jid_free(j);
    }
    if (!who || !canto_muc_affiliation_name(affiliation))
        rc = CANTO_EINVAL;
    else
        rc = admin_item(muc, room, "set", "jid", who, "affiliation",
                        canto_muc_affiliation_name(affiliation), reason, REQ_PLAIN, fn, user_data);
    free(who);
    free(room);
    return rc;
}

int canto_muc_ban(canto_muc *muc, const char *room_jid, const char *jid, const char *reason,
                  canto_muc_reply_fn fn, void *user_data)
{
    return canto_muc_set_affiliation(muc, room_jid, jid, CANTO_MUC_AFFIL_OUTCAST, reason, fn,
                                     user_data);
}

int canto_muc_get_list(canto_muc *muc, const char *room_jid, canto_muc_affiliation affiliation,
                       canto_muc_reply_fn fn, void *user_data)
{
    char *room;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    if (!canto_muc_affiliation_name(affiliation))
        rc = CANTO_EINVAL;
    else
        rc = admin_item(muc, room, "get", NULL, NULL, "affiliation",
                        canto_muc_affiliation_name(affiliation), NULL, REQ_LIST, fn, user_data);
    free(room);
    return rc;
}

int canto_muc_get_role_list(canto_muc *muc, const char *room_jid, canto_muc_role role,
                            canto_muc_reply_fn fn, void *user_data)
{
    char *room;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    if (role == CANTO_MUC_ROLE_NONE || !canto_muc_role_name(role))
        rc = CANTO_EINVAL;
    else
        rc = admin_item(muc, room, "get", NULL, NULL, "role", canto_muc_role_name(role), NULL,
                        REQ_LIST, fn, user_data);
    free(room);
    return rc;
}

int canto_muc_create_instant(canto_muc *muc, const char *room_jid, canto_muc_reply_fn fn,
                             void *user_data)
{
    char *room;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc == 0)
        rc = canto__muc_send_owner_iq(muc, room, "set", REQ_PLAIN, NULL, 1, NULL, NULL, 0, fn,
                                      user_data);
    free(room);
    return rc;
}

int canto_muc_get_config(canto_muc *muc, const char *room_jid, canto_muc_reply_fn fn,
                         void *user_data)
{
    char *room;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    rc = canto__muc_send_owner_iq(muc, room, "get", REQ_CONFIG, NULL, 0, NULL, NULL, 0, fn,
                                  user_data);
    free(room);
    return rc;
}

int canto_muc_submit_config(canto_muc *muc, const char *room_jid, const canto_form *form,
                            canto_muc_reply_fn fn, void *user_data)
{
    char *room;
    if (!form)
        return CANTO_EINVAL;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    rc = canto__muc_send_owner_iq(muc, room, "set", REQ_PLAIN, form, 0, NULL, NULL, 0, fn,
                                  user_data);
    free(room);
    return rc;
}

int canto_muc_destroy(canto_muc *muc, const char *room_jid, const char *alt_room,
                      const char *reason, canto_muc_reply_fn fn, void *user_data)
{
    char *room;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    rc = canto__muc_send_owner_iq(muc, room, "set", REQ_PLAIN, NULL, 0, alt_room, reason, 1, fn,
                                  user_data);
    free(room);
    return rc;
}
