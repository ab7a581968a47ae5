/* MUC rooms: occupant lists, the public room accessors, joining (with
 * history limits), leaving and nick changes, and reporting how a join ended. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>

#include "muc_impl.h"

/* --- lifetime ------------------------------------------------------------- */

static void occ_free(occ *o)
{
    if (!o)
        return;
    free(o->nick);
    free(o->jid);
    free(o->show);
    free(o->status);
    free(o);
}

void canto__muc_room_clear(canto_muc_room *r)
{
    for (size_t i = 0; i < r->nocc; i++)
        occ_free(r->occs[i]);
    r->nocc = 0;
    r->self = NULL;
}

void canto__muc_room_free(canto_muc_room *r)
{
    canto__muc_room_clear(r);
    free(r->occs);
    free(r->jid);
    free(r->nick);
    free(r->subject);
    free(r->password);
    free(r->since);
    free(r);
}

/* --- occupants ------------------------------------------------------------ */

occ *canto__muc_find_occ(const canto_muc_room *r, const char *nick, size_t *index)
{
    for (size_t i = 0; i < r->nocc; i++) {
        if (strcmp(r->occs[i]->nick, nick) == 0) {
            if (index)
                *index = i;
            return r->occs[i];
        }
    }
    return NULL;
}

void canto__muc_remove_occ(canto_muc_room *r, occ *o)
{
    for (size_t i = 0; i < r->nocc; i++) {
        if (r->occs[i] == o) {
            memmove(&r->occs[i], &r->occs[i + 1], (r->nocc - i - 1) * sizeof(*r->occs));
            r->nocc--;
            break;
        }
    }
    if (r->self == o)
        r->self = NULL;
    occ_free(o);
}

occ *canto__muc_add_occ(canto_muc_room *r, const char *nick)
{
    if (r->nocc == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        occ **n = realloc(r->occs, cap * sizeof(*n));
        if (!n)
            return NULL;
        r->occs = n;
        r->cap = cap;
    }
    occ *o = calloc(1, sizeof(*o));
    if (!o || !(o->nick = strdup(nick))) {
        free(o);
        return NULL;
    }
    o->pub.version = CANTO_MUC_OCCUPANT_VERSION;
    o->pub.nick = o->nick;
    r->occs[r->nocc++] = o;
    return o;
}

void canto__muc_occ_sync(occ *o)
{
    o->pub.nick = o->nick;
    o->pub.jid = o->jid;
    o->pub.show = o->show;
    o->pub.status = o->status;
}

canto_muc_room *canto__muc_find_room(const canto_muc *m, const char *bare)
{
    for (canto_muc_room *r = m->rooms; r; r = r->next)
        if (!r->dead && strcmp(r->jid, bare) == 0)
            return r;
    return NULL;
}

canto_muc_room *canto_muc_find_room(const canto_muc *muc, const char *room_jid)
{
    if (!muc || !room_jid)
        return NULL;
    char *b = canto__muc_norm_bare(room_jid);
    canto_muc_room *r = b ? canto__muc_find_room(muc, b) : NULL;
    free(b);
    return r;
}

canto_muc_room *canto_muc_room_at(const canto_muc *muc, size_t index)
{
    if (!muc)
        return NULL;
    for (canto_muc_room *r = muc->rooms; r; r = r->next)
        if (!r->dead && index-- == 0)
            return r;
    return NULL;
}

const char *canto_muc_room_jid(const canto_muc_room *room)
{
    return room ? room->jid : NULL;
}

const char *canto_muc_room_nick(const canto_muc_room *room)
{
    return room ? room->nick : NULL;
}

const char *canto_muc_room_subject(const canto_muc_room *room)
{
    return room ? room->subject : NULL;
}

int canto_muc_room_joined(const canto_muc_room *room)
{
    return room && room->state == ROOM_JOINED;
}

size_t canto_muc_room_occupant_count(const canto_muc_room *room)
{
    return room ? room->nocc : 0;
}

const canto_muc_occupant *canto_muc_room_occupant_at(const canto_muc_room *room, size_t index)
{
    return room && index < room->nocc ? &room->occs[index]->pub : NULL;
}

const canto_muc_occupant *canto_muc_room_occupant(const canto_muc_room *room, const char *nick)
{
    occ *o = room && nick ? canto__muc_find_occ(room, nick, NULL) : NULL;
    return o ? &o->pub : NULL;
}

const canto_muc_occupant *canto_muc_room_self(const canto_muc_room *room)
{
    return room && room->self ? &room->self->pub : NULL;
}

int canto__muc_send_join(canto_muc *m, canto_muc_room *r, int no_history)
{
    size_t len = strlen(r->jid) + strlen(r->nick) + 2;
    char *to = malloc(len);
    if (!to)
        return CANTO_ENOMEM;
    snprintf(to, len, "%s/%s", r->jid, r->nick);
    canto_stanza *p = NULL, *x, *h;
    int rc = canto_stanza_new_presence(NULL, NULL, to, &p);
    free(to);
    if (rc == 0)
        rc = canto_stanza_add_child(p, "x", CANTO_NS_MUC, &x);
    if (rc == 0 && r->password)
        rc = canto__muc_add_text_child(x, "password", CANTO_NS_MUC, r->password);
    int want_h =
        no_history || r->maxstanzas >= 0 || r->maxchars >= 0 || r->seconds >= 0 || r->since;
    if (rc == 0 && want_h) {
        char num[32];
        rc = canto_stanza_add_child(x, "history", CANTO_NS_MUC, &h);
        if (rc == 0 && no_history)
            rc = canto_stanza_set_attr(h, "maxstanzas", "0");
        if (!no_history) {
            if (rc == 0 && r->maxstanzas >= 0) {
                snprintf(num, sizeof(num), "%ld", r->maxstanzas);
                rc = canto_stanza_set_attr(h, "maxstanzas", num);
            }
            if (rc == 0 && r->maxchars >= 0) {
                snprintf(num, sizeof(num), "%ld", r->maxchars);
                rc = canto_stanza_set_attr(h, "maxchars", num);
            }
            if (rc == 0 && r->seconds >= 0) {
                snprintf(num, sizeof(num), "%ld", r->seconds);
                rc = canto_stanza_set_attr(h, "seconds", num);
            }
            if (rc == 0 && r->since)
                rc = canto_stanza_set_attr(h, "since", r->since);
        }
    }
    return canto__muc_send_and_free(m, p, rc);
}

void canto__muc_join_done(canto_muc *m, canto_muc_room *r, canto_muc_join_status status,
                          const canto_stanza_error *err)
{
    canto_muc_join_result res = {
        CANTO_MUC_JOIN_RESULT_VERSION,          status,     r->jid, r->nick,
        status == CANTO_MUC_JOIN_OK ? r : NULL, r->created, err};
    if (status != CANTO_MUC_JOIN_OK)
        r->dead = 1;
    else
        r->was_joined = 1;
    canto_muc_join_fn fn = r->fn;
    void *ud = r->ud;
    r->fn = NULL;
    int rejoin = r->rejoining;
    r->rejoining = 0;
    if (fn) {
        if (!m->freed)
            fn(ud, m, &res);
    } else if (rejoin) {
        canto_muc_event ev;
        canto__muc_init_event(&ev, CANTO_MUC_EV_REJOINED, r, NULL);
        if (status != CANTO_MUC_JOIN_OK)
            ev.room = NULL;
        ev.join = &res;
        canto__muc_emit(m, &ev);
    }
}

/* --- joining and leaving -------------------------------------------------- */

int canto_muc_join(canto_muc *muc, const char *room_jid, const char *nick,
                   const canto_muc_join_options *opts, canto_muc_join_fn fn, void *user_data,
                   canto_muc_room **room)
{
    canto_muc_join_options def = CANTO_MUC_JOIN_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    if (!muc || !nick || !*nick || opts->version != CANTO_MUC_JOIN_OPTIONS_VERSION)
        return CANTO_EINVAL;
    char *bare = canto__muc_norm_bare(room_jid);
    if (!bare)
        return CANTO_EINVAL;
    canto_jid *full;
    int rc = canto_jid_new(NULL, NULL, "x.invalid", nick, &full);
    canto_jid_free(full);
    if (rc != 0) {
        free(bare);
        return CANTO_EINVAL;
    }
    if (canto__muc_find_room(muc, bare)) {
        free(bare);
        return CANTO_ESTATE;
    }
    if (canto_client_get_state(muc->client) != CANTO_CLIENT_CONNECTED) {
        free(bare);
        return CANTO_ENOTCONN;
    }
    canto_muc_room *r = calloc(1, sizeof(*r));
    if (!r) {
        free(bare);
        return CANTO_ENOMEM;
    }
    r->muc = muc;
    r->jid = bare;
    r->nick = strdup(nick);
    r->password = canto__muc_dup_or_null(opts->password);
    r->since = canto__muc_dup_or_null(opts->history_since);
    r->maxstanzas = opts->history_maxstanzas;
    r->maxchars = opts->history_maxchars;
    r->seconds = opts->history_seconds;
    r->create_instant = opts->create_instant;
    r->fn = fn;
    r->ud = user_data;
    if (!r->nick || (opts->password && !r->password) || (opts->history_since && !r->since)) {
        canto__muc_room_free(r);
        return CANTO_ENOMEM;
    }
    rc = canto__muc_send_join(muc, r, 0);
    if (rc != 0) {
        canto__muc_room_free(r);
        return rc;
    }
    r->next = muc->rooms;
    muc->rooms = r;
    if (room)
        *room = r;
    return 0;
}

static int send_unavailable(canto_muc *m, canto_muc_room *r, const char *status)
{
    size_t len = strlen(r->jid) + strlen(r->nick) + 2;
    char *to = malloc(len);
    if (!to)
        return CANTO_ENOMEM;
    snprintf(to, len, "%s/%s", r->jid, r->nick);
    canto_stanza *p = NULL;
    int rc = canto_stanza_new_presence(NULL, "unavailable", to, &p);
    free(to);
    if (rc == 0 && status)
        rc = canto__muc_add_text_child(p, "status", NULL, status);
    return canto__muc_send_and_free(m, p, rc);
}

int canto_muc_leave(canto_muc *muc, const char *room_jid, const char *status)
{
    if (!muc || !room_jid)
        return CANTO_EINVAL;
    canto_muc_room *r = canto_muc_find_room(muc, room_jid);
    if (!r)
        return CANTO_ENOTFOUND;
    canto__muc_enter(muc);
    int connected = canto_client_get_state(muc->client) == CANTO_CLIENT_CONNECTED;
    int rc = connected ? send_unavailable(muc, r, status) : 0;
    if (rc == CANTO_ENOMEM) {
        canto__muc_leave(muc);
        return rc;
    }
    if (r->fn)
        canto__muc_join_done(muc, r, CANTO_MUC_JOIN_CANCELED, NULL);
    if (connected && rc == 0 && r->state != ROOM_JOINING)
        r->state = ROOM_LEAVING;
    else
        r->dead = 1;
    canto__muc_leave(muc);
    return 0;
}

int canto_muc_change_nick(canto_muc *muc, const char *room_jid, const char *nick)
{
    if (!muc || !room_jid || !nick || !*nick)
        return CANTO_EINVAL;
    canto_muc_room *r = canto_muc_find_room(muc, room_jid);
    if (!r)
        return CANTO_ENOTFOUND;
    size_t len = strlen(r->jid) + strlen(nick) + 2;
    char *to = malloc(len);
    if (!to)
        return CANTO_ENOMEM;
    snprintf(to, len, "%s/%s", r->jid, nick);
    canto_stanza *p = NULL;
    int rc = canto_stanza_new_presence(NULL, NULL, to, &p);
    free(to);
    return canto__muc_send_and_free(muc, p, rc);
}
