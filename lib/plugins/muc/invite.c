/* Invitations: mediated ones through the room (XEP-0045 §7.8.2) with their
 * declines, and direct ones (XEP-0249), received and sent. */
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>

#include "muc_impl.h"

int canto__muc_invitation(canto_muc *m, canto_stanza *st, const canto_jid *from)
{
    canto_muc_event ev;
    canto_stanza *x = canto_stanza_child(st, "x", CANTO_NS_MUC_USER);
    canto_stanza *inv = x ? canto_stanza_child(x, "invite", CANTO_NS_MUC_USER) : NULL;
    canto_stanza *dec = x ? canto_stanza_child(x, "decline", CANTO_NS_MUC_USER) : NULL;
    if (inv || dec) {
        canto_stanza *e = inv ? inv : dec;
        canto__muc_init_event(&ev, inv ? CANTO_MUC_EV_INVITE : CANTO_MUC_EV_DECLINE, NULL, st);
        ev.room_jid = canto_jid_bare_str(from);
        ev.from = canto_stanza_attr(e, "from");
        ev.reason = canto_stanza_child_text(e, "reason", CANTO_NS_MUC_USER);
        ev.password = canto_stanza_child_text(x, "password", CANTO_NS_MUC_USER);
        ev.room = canto__muc_find_room(m, ev.room_jid);
        if (!ev.from || !canto_jid_local(from))
            return 0;
        canto__muc_emit(m, &ev);
        return 1;
    }
    x = canto_stanza_child(st, "x", CANTO_NS_CONFERENCE);
    if (x && canto_stanza_attr(x, "jid")) {
        char *room = canto__muc_norm_bare(canto_stanza_attr(x, "jid"));
        if (!room)
            return 0;
        canto__muc_init_event(&ev, CANTO_MUC_EV_INVITE, NULL, st);
        ev.room_jid = room;
        ev.room = canto__muc_find_room(m, room);
        ev.from = canto_jid_str(from);
        ev.reason = canto_stanza_attr(x, "reason");
        ev.password = canto_stanza_attr(x, "password");
        ev.direct = 1;
        canto__muc_emit(m, &ev);
        free(room);
        return 1;
    }
    return 0;
}

static int mediated(canto_muc *muc, const char *room_jid, const char *el, const char *jid,
                    const char *reason)
{
    char *room;
    if (!jid)
        return CANTO_EINVAL;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    canto_stanza *st = NULL, *x, *i;
    rc = canto_stanza_new_message(NULL, NULL, room, NULL, NULL, &st);
    if (rc == 0)
        rc = canto_stanza_add_child(st, "x", CANTO_NS_MUC_USER, &x);
    if (rc == 0)
        rc = canto_stanza_add_child(x, el, CANTO_NS_MUC_USER, &i);
    if (rc == 0)
        rc = canto_stanza_set_attr(i, "to", jid);
    if (rc == 0 && reason)
        rc = canto__muc_add_text_child(i, "reason", CANTO_NS_MUC_USER, reason);
    free(room);
    return canto__muc_send_and_free(muc, st, rc);
}

int canto_muc_invite(canto_muc *muc, const char *room_jid, const char *jid, const char *reason)
{
    return mediated(muc, room_jid, "invite", jid, reason);
}

int canto_muc_decline(canto_muc *muc, const char *room_jid, const char *inviter, const char *reason)
{
    return mediated(muc, room_jid, "decline", inviter, reason);
}

int canto_muc_invite_direct(canto_muc *muc, const char *room_jid, const char *jid,
                            const char *reason, const char *password)
{
    char *room;
    if (!jid)
        return CANTO_EINVAL;
    int rc = canto__muc_room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    canto_stanza *st = NULL, *x;
    rc = canto_stanza_new_message(NULL, NULL, jid, NULL, NULL, &st);
    if (rc == 0)
        rc = canto_stanza_add_child(st, "x", CANTO_NS_CONFERENCE, &x);
    if (rc == 0)
        rc = canto_stanza_set_attr(x, "jid", room);
    if (rc == 0 && reason)
        rc = canto_stanza_set_attr(x, "reason", reason);
    if (rc == 0 && password)
        rc = canto_stanza_set_attr(x, "password", password);
    free(room);
    return canto__muc_send_and_free(muc, st, rc);
}
