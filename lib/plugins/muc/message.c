/* Room messages: groupchat messages (history marked as delayed), subject
 * changes, the room's status-code notices, private messages from occupants;
 * and sending them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>

#include "muc_impl.h"

int canto__muc_has_delay(const canto_stanza *st)
{
    return canto_stanza_child(st, "delay", CANTO__MUC_NS_DELAY) ||
           canto_stanza_child(st, "x", CANTO__MUC_NS_DELAY_LEGACY);
}

/* Invitations; returns 1 if @p st was one. */
int canto__muc_on_message(void *ud, canto_client *client, canto_stanza *st)
{
    canto_muc *m = ud;
    (void)client;
    canto_jid *from;
    if (!canto_stanza_attr(st, "from") ||
        canto_jid_parse(NULL, canto_stanza_attr(st, "from"), &from) != 0)
        return 0;
    const char *type = canto_stanza_attr(st, "type");
    int handled = 0;
    canto__muc_enter(m);
    if (type && strcmp(type, "error") == 0)
        goto out;
    if (canto__muc_invitation(m, st, from)) {
        handled = 1;
        goto out;
    }
    canto_muc_room *r = canto__muc_find_room(m, canto_jid_bare_str(from));
    if (!r)
        goto out;
    const char *nick = canto_jid_resource(from);
    const char *body = canto_stanza_child_text(st, "body", NULL);
    canto_muc_event ev;
    if (type && strcmp(type, "groupchat") == 0) {
        handled = 1;
        canto_stanza *subj = canto_stanza_child(st, "subject", NULL);
        if (subj && !body) {
            const char *text = canto_stanza_text(subj);
            canto__muc_set_str(&r->subject, text && *text ? text : NULL);
            canto__muc_init_event(&ev, CANTO_MUC_EV_SUBJECT, r, st);
            ev.nick = nick;
            ev.body = r->subject;
            ev.delayed = canto__muc_has_delay(st);
            canto__muc_emit(m, &ev);
        } else if (body) {
            canto__muc_init_event(&ev, CANTO_MUC_EV_MESSAGE, r, st);
            ev.nick = nick;
            ev.body = body;
            ev.delayed = canto__muc_has_delay(st);
            occ *o = nick ? canto__muc_find_occ(r, nick, NULL) : NULL;
            ev.occupant = o ? &o->pub : NULL;
            ev.self = o && o->pub.self;
            canto__muc_emit(m, &ev);
        } else if (!nick) {
            /* From the room itself, without a body: a notice of a
             * configuration change told by status codes only. */
            canto_stanza *x = canto_stanza_child(st, "x", CANTO_NS_MUC_USER);
            unsigned codes[CANTO__MUC_MAX_CODES];
            size_t ncodes = canto__muc_parse_codes(x, codes);
            if (ncodes) {
                canto__muc_init_event(&ev, CANTO_MUC_EV_ROOM_STATUS, r, st);
                ev.codes = codes;
                ev.ncodes = ncodes;
                canto__muc_emit(m, &ev);
            }
        }
    } else if (nick && body &&
               (!type || strcmp(type, "chat") == 0 || strcmp(type, "normal") == 0)) {
        handled = 1;
        canto__muc_init_event(&ev, CANTO_MUC_EV_PRIVATE, r, st);
        ev.nick = nick;
        ev.body = body;
        ev.delayed = canto__muc_has_delay(st);
        canto__muc_emit(m, &ev);
    }
out:
    canto_jid_free(from);
    canto__muc_leave(m);
    return handled;
}

/* --- messages ------------------------------------------------------------- */

int canto_muc_send_message(canto_muc *muc, const char *room_jid, const char *body)
{
    char *room;
    if (!body)
        return CANTO_EINVAL;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    canto_stanza *st = NULL;
    rc = canto_stanza_new_message(NULL, "groupchat", room, NULL, body, &st);
    free(room);
    return canto__muc_send_and_free(muc, st, rc);
}

int canto_muc_send_private(canto_muc *muc, const char *room_jid, const char *nick, const char *body)
{
    char *room;
    if (!body || !nick || !*nick)
        return CANTO_EINVAL;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    size_t len = strlen(room) + strlen(nick) + 2;
    char *to = malloc(len);
    canto_stanza *st = NULL, *x;
    if (!to) {
        free(room);
        return CANTO_ENOMEM;
    }
    snprintf(to, len, "%s/%s", room, nick);
    rc = canto_stanza_new_message(NULL, "chat", to, NULL, body, &st);
    if (rc == 0)
        rc = canto_stanza_add_child(st, "x", CANTO_NS_MUC_USER, &x);
    free(to);
    free(room);
    return canto__muc_send_and_free(muc, st, rc);
}

int canto_muc_set_subject(canto_muc *muc, const char *room_jid, const char *subject)
{
    char *room;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    canto_stanza *st = NULL;
    rc = canto_stanza_new_message(NULL, "groupchat", room, NULL, NULL, &st);
    if (rc == 0)
        rc = canto__muc_add_text_child(st, "subject", NULL, subject ? subject : "");
    free(room);
    return canto__muc_send_and_free(muc, st, rc);
}
