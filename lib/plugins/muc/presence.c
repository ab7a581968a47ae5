/* Presence from rooms: join results, occupants entering, changing and
 * leaving, nick changes, kicks, bans, destruction, and the status codes that
 * come with them. */
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>

#include "muc_impl.h"

static canto_muc_join_status join_status_of(const canto_stanza_error *e)
{
    switch (e->condition) {
    case CANTO_COND_CONFLICT:
        return CANTO_MUC_JOIN_NICK_CONFLICT;
    case CANTO_COND_REGISTRATION_REQUIRED:
        return CANTO_MUC_JOIN_MEMBERS_ONLY;
    case CANTO_COND_FORBIDDEN:
        return CANTO_MUC_JOIN_BANNED;
    case CANTO_COND_NOT_AUTHORIZED:
        return CANTO_MUC_JOIN_PASSWORD_REQUIRED;
    case CANTO_COND_ITEM_NOT_FOUND:
        return CANTO_MUC_JOIN_NOT_FOUND;
    default:
        return CANTO_MUC_JOIN_ERROR;
    }
}

size_t canto__muc_parse_codes(const canto_stanza *x, unsigned *codes)
{
    size_t n = 0;
    for (canto_stanza *s = x ? canto_stanza_child(x, "status", CANTO_NS_MUC_USER) : NULL;
         s && n < CANTO__MUC_MAX_CODES;
         s = canto_stanza_next_match(s, "status", CANTO_NS_MUC_USER)) {
        const char *c = canto_stanza_attr(s, "code");
        char *end;
        unsigned long v = c ? strtoul(c, &end, 10) : 0;
        if (c && *c >= '0' && *c <= '9' && *end == '\0' && v >= 100 && v <= 999)
            codes[n++] = (unsigned)v;
    }
    return n;
}

int canto__muc_has_code(const unsigned *codes, size_t n, unsigned code)
{
    for (size_t i = 0; i < n; i++)
        if (codes[i] == code)
            return 1;
    return 0;
}

static void room_presence(canto_muc *m, canto_muc_room *r, const char *nick, canto_stanza *st)
{
    const char *type = canto_stanza_attr(st, "type");
    if (type && strcmp(type, "error") == 0) {
        if (r->state == ROOM_JOINING) {
            canto_stanza_error e = CANTO_STANZA_ERROR_INIT;
            canto_stanza_get_error(st, &e);
            canto__muc_join_done(m, r, join_status_of(&e), &e);
        }
        return;
    }
    if (!nick)
        return;
    canto_stanza *x = canto_stanza_child(st, "x", CANTO_NS_MUC_USER);
    canto_stanza *item = x ? canto_stanza_child(x, "item", CANTO_NS_MUC_USER) : NULL;
    unsigned codes[CANTO__MUC_MAX_CODES];
    size_t ncodes = canto__muc_parse_codes(x, codes);
    int self = canto__muc_has_code(codes, ncodes, 110) || strcmp(nick, r->nick) == 0;
    occ *o = canto__muc_find_occ(r, nick, NULL);
    canto_muc_event ev;

    if (type && strcmp(type, "unavailable") == 0) {
        const char *new_nick = item ? canto_stanza_attr(item, "nick") : NULL;
        if (canto__muc_has_code(codes, ncodes, 303) && new_nick && *new_nick) {
            if (!o)
                return;
            canto__muc_init_event(&ev, CANTO_MUC_EV_NICK_CHANGED, r, st);
            ev.occupant = &o->pub;
            ev.new_nick = new_nick;
            ev.self = o->pub.self;
            ev.codes = codes;
            ev.ncodes = ncodes;
            canto__muc_emit(m, &ev);
            if (m->freed || r->dead)
                return;
            if (o->pub.self)
                canto__muc_set_str(&r->nick, new_nick);
            canto__muc_set_str(&o->nick, new_nick);
            canto__muc_occ_sync(o);
            return;
        }
        canto_stanza *d = x ? canto_stanza_child(x, "destroy", CANTO_NS_MUC_USER) : NULL;
        canto_stanza *actor = item ? canto_stanza_child(item, "actor", CANTO_NS_MUC_USER) : NULL;
        const char *reason =
            item ? canto_stanza_child_text(item, "reason", CANTO_NS_MUC_USER) : NULL;
        if (o) {
            /* The parting words ride on the unavailable presence: show them
             * as the occupant's last status. */
            canto__muc_set_str(&o->status, canto_stanza_child_text(st, "status", NULL));
            canto__muc_occ_sync(o);
            canto_muc_event_type t = canto__muc_has_code(codes, ncodes, 301) ? CANTO_MUC_EV_BANNED
                                     : canto__muc_has_code(codes, ncodes, 307)
                                         ? CANTO_MUC_EV_KICKED
                                         : CANTO_MUC_EV_OCCUPANT_LEFT;
            canto__muc_init_event(&ev, t, r, st);
            ev.occupant = &o->pub;
            ev.self = o->pub.self;
            ev.codes = codes;
            ev.ncodes = ncodes;
            ev.reason = reason;
            if (actor)
                ev.actor = canto_stanza_attr(actor, "nick") ? canto_stanza_attr(actor, "nick")
                                                            : canto_stanza_attr(actor, "jid");
            canto__muc_emit(m, &ev);
            if (m->freed || r->dead)
                return;
            canto__muc_remove_occ(r, o);
        }
        if (!self)
            return;
        if (r->state == ROOM_JOINING) {
            canto__muc_join_done(m, r, CANTO_MUC_JOIN_ERROR, NULL);
            return;
        }
        if (d) {
            canto__muc_init_event(&ev, CANTO_MUC_EV_DESTROYED, r, st);
            ev.reason = canto_stanza_child_text(d, "reason", CANTO_NS_MUC_USER);
            ev.alt_room = canto_stanza_attr(d, "jid");
            ev.self = 1;
            canto__muc_emit(m, &ev);
            if (m->freed || r->dead)
                return;
        }
        canto__muc_init_event(&ev, CANTO_MUC_EV_LEFT_ROOM, r, st);
        ev.self = 1;
        ev.codes = codes;
        ev.ncodes = ncodes;
        ev.reason = reason;
        r->dead = 1;
        canto__muc_emit(m, &ev);
        return;
    }
    if (type)
        return; /* subscription requests and the like are not occupant presence */

    int is_new = o == NULL;
    if (!o && !(o = canto__muc_add_occ(r, nick)))
        return;
    if (item) {
        o->pub.role = canto__muc_parse_role(canto_stanza_attr(item, "role"));
        o->pub.affiliation = canto__muc_parse_affil(canto_stanza_attr(item, "affiliation"));
        char *real = NULL;
        const char *j = canto_stanza_attr(item, "jid");
        canto_jid *pj;
        if (j && canto_jid_parse(NULL, j, &pj) == 0) {
            real = strdup(canto_jid_str(pj));
            canto_jid_free(pj);
        }
        free(o->jid);
        o->jid = real;
    }
    canto__muc_set_str(&o->show, canto_stanza_child_text(st, "show", NULL));
    canto__muc_set_str(&o->status, canto_stanza_child_text(st, "status", NULL));
    canto__muc_occ_sync(o);
    if (self) {
        o->pub.self = 1;
        r->self = o;
        if (canto__muc_has_code(codes, ncodes, 201))
            r->created = 1;
        if (strcmp(r->nick, nick) != 0)
            canto__muc_set_str(&r->nick, nick);
    }
    canto__muc_init_event(
        &ev, is_new ? CANTO_MUC_EV_OCCUPANT_JOINED : CANTO_MUC_EV_OCCUPANT_CHANGED, r, st);
    ev.occupant = &o->pub;
    ev.self = o->pub.self;
    ev.codes = codes;
    ev.ncodes = ncodes;
    canto__muc_emit(m, &ev);
    if (m->freed || r->dead)
        return;
    if (self && r->state == ROOM_JOINING) {
        r->state = ROOM_JOINED;
        if (r->created && r->create_instant)
            canto__muc_send_owner_iq(m, r->jid, "set", REQ_PLAIN, NULL, 1, NULL, NULL, 0, NULL,
                                     NULL);
        canto__muc_join_done(m, r, CANTO_MUC_JOIN_OK, NULL);
    }
}

int canto__muc_on_presence(void *ud, canto_client *client, canto_stanza *st)
{
    canto_muc *m = ud;
    (void)client;
    canto_jid *from;
    if (!canto_stanza_attr(st, "from") ||
        canto_jid_parse(NULL, canto_stanza_attr(st, "from"), &from) != 0)
        return 0;
    canto_muc_room *r = canto__muc_find_room(m, canto_jid_bare_str(from));
    if (!r) {
        canto_jid_free(from);
        return 0;
    }
    canto__muc_enter(m);
    room_presence(m, r, canto_jid_resource(from), st);
    canto_jid_free(from);
    canto__muc_leave(m);
    return 1;
}
