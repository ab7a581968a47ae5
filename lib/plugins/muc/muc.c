/* Multi-user chat (XEP-0045) and direct invitations (XEP-0249): room state
 * from presence, room and private messages, invitations, admin and owner
 * requests, rejoin after a new session and XEP-0410 self-ping. Public API
 * only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>
#include <canto/jid.h>
#include <canto/muc.h>

#define NS_DELAY "urn:xmpp:delay"
#define NS_DELAY_LEGACY "jabber:x:delay"
#define NS_PING "urn:xmpp:ping"
#define MAX_CODES 32

enum room_state { ROOM_JOINING, ROOM_JOINED, ROOM_LEAVING };

typedef struct occ {
    canto_muc_occupant pub;
    char *nick, *jid, *show, *status;
} occ;

struct canto_muc_room {
    canto_muc *muc;
    canto_muc_room *next;
    char *jid, *nick, *subject, *password;
    enum room_state state;
    int dead;      /* forgotten; freed when no callback runs */
    int rejoining; /* an automatic rejoin: report as CANTO_MUC_EV_REJOINED */
    int was_joined;
    int created, create_instant;
    long maxstanzas, maxchars, seconds;
    char *since;
    canto_muc_join_fn fn;
    void *ud;
    occ **occs;
    size_t nocc, cap;
    occ *self;
    int ping_inflight;
};

typedef enum req_kind { REQ_PLAIN, REQ_CONFIG, REQ_LIST, REQ_PING } req_kind;

typedef struct req {
    struct req *next;
    canto_muc *muc;
    unsigned handle;
    req_kind kind;
    char *room;
    canto_muc_reply_fn fn;
    void *ud;
} req;

struct canto_muc {
    canto_client *client;
    canto_loop *loop;
    unsigned pres_h, msg_h, listener;
    canto_muc_event_fn fn;
    void *ud;
    canto_muc_room *rooms;
    req *reqs;
    uint32_t ping_interval;
    unsigned ping_timer;
    int auto_rejoin;
    int depth, freed;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int set_str(char **dst, const char *s)
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

static canto_muc_role parse_role(const char *s)
{
    for (unsigned i = 0; s && i < 4; i++)
        if (strcmp(s, role_names[i]) == 0)
            return (canto_muc_role)i;
    return CANTO_MUC_ROLE_NONE;
}

static canto_muc_affiliation parse_affil(const char *s)
{
    for (unsigned i = 0; s && i < 5; i++)
        if (strcmp(s, affil_names[i]) == 0)
            return (canto_muc_affiliation)i;
    return CANTO_MUC_AFFIL_NONE;
}

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

static void room_clear(canto_muc_room *r)
{
    for (size_t i = 0; i < r->nocc; i++)
        occ_free(r->occs[i]);
    r->nocc = 0;
    r->self = NULL;
}

static void room_free(canto_muc_room *r)
{
    room_clear(r);
    free(r->occs);
    free(r->jid);
    free(r->nick);
    free(r->subject);
    free(r->password);
    free(r->since);
    free(r);
}

static void req_free(req *q)
{
    free(q->room);
    free(q);
}

static void destroy(canto_muc *m)
{
    while (m->rooms) {
        canto_muc_room *r = m->rooms;
        m->rooms = r->next;
        room_free(r);
    }
    free(m);
}

static void sweep(canto_muc *m)
{
    for (canto_muc_room **pp = &m->rooms; *pp;) {
        canto_muc_room *r = *pp;
        if (r->dead) {
            *pp = r->next;
            room_free(r);
        } else {
            pp = &r->next;
        }
    }
}

static void enter(canto_muc *m)
{
    m->depth++;
}

static void leave(canto_muc *m)
{
    if (--m->depth > 0)
        return;
    if (m->freed)
        destroy(m);
    else
        sweep(m);
}

/* --- occupants ------------------------------------------------------------ */

static occ *find_occ(const canto_muc_room *r, const char *nick, size_t *index)
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

static void remove_occ(canto_muc_room *r, occ *o)
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

static occ *add_occ(canto_muc_room *r, const char *nick)
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

static void occ_sync(occ *o)
{
    o->pub.nick = o->nick;
    o->pub.jid = o->jid;
    o->pub.show = o->show;
    o->pub.status = o->status;
}

/* --- rooms ---------------------------------------------------------------- */

/* Normalize a bare JID; NULL when invalid or not bare. Caller frees. */
static char *norm_bare(const char *s)
{
    canto_jid *j;
    if (!s || canto_jid_parse(NULL, s, &j) != 0)
        return NULL;
    char *out = canto_jid_is_bare(j) && canto_jid_local(j) ? strdup(canto_jid_str(j)) : NULL;
    canto_jid_free(j);
    return out;
}

static canto_muc_room *find_room(const canto_muc *m, const char *bare)
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
    char *b = norm_bare(room_jid);
    canto_muc_room *r = b ? find_room(muc, b) : NULL;
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
    occ *o = room && nick ? find_occ(room, nick, NULL) : NULL;
    return o ? &o->pub : NULL;
}

const canto_muc_occupant *canto_muc_room_self(const canto_muc_room *room)
{
    return room && room->self ? &room->self->pub : NULL;
}

/* --- sending helpers ------------------------------------------------------ */

static int add_text_child(canto_stanza *parent, const char *name, const char *ns, const char *text)
{
    canto_stanza *c;
    int rc = canto_stanza_add_child(parent, name, ns, &c);
    if (rc == 0 && text)
        rc = canto_stanza_set_text(c, text);
    return rc;
}

static int send_and_free(canto_muc *m, canto_stanza *st, int rc)
{
    if (rc == 0)
        rc = canto_client_send(m->client, st);
    canto_stanza_free(st);
    return rc;
}

static int send_join(canto_muc *m, canto_muc_room *r, int no_history)
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
        rc = add_text_child(x, "password", CANTO_NS_MUC, r->password);
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
    return send_and_free(m, p, rc);
}

/* --- events --------------------------------------------------------------- */

static void emit(canto_muc *m, canto_muc_event *ev)
{
    if (m->fn && !m->freed)
        m->fn(m->ud, m, ev);
}

static void init_event(canto_muc_event *ev, canto_muc_event_type type, canto_muc_room *r,
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
static void join_done(canto_muc *m, canto_muc_room *r, canto_muc_join_status status,
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
        init_event(&ev, CANTO_MUC_EV_REJOINED, r, NULL);
        if (status != CANTO_MUC_JOIN_OK)
            ev.room = NULL;
        ev.join = &res;
        emit(m, &ev);
    }
}

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

static size_t parse_codes(const canto_stanza *x, unsigned *codes)
{
    size_t n = 0;
    for (canto_stanza *s = x ? canto_stanza_child(x, "status", CANTO_NS_MUC_USER) : NULL;
         s && n < MAX_CODES; s = canto_stanza_next_match(s, "status", CANTO_NS_MUC_USER)) {
        const char *c = canto_stanza_attr(s, "code");
        char *end;
        unsigned long v = c ? strtoul(c, &end, 10) : 0;
        if (c && *c >= '0' && *c <= '9' && *end == '\0' && v >= 100 && v <= 999)
            codes[n++] = (unsigned)v;
    }
    return n;
}

static int has_code(const unsigned *codes, size_t n, unsigned code)
{
    for (size_t i = 0; i < n; i++)
        if (codes[i] == code)
            return 1;
    return 0;
}

static int send_owner_iq(canto_muc *m, const char *room, const char *type, req_kind kind,
                         const canto_form *form, int instant, const char *alt, const char *reason,
                         int destroy_room, canto_muc_reply_fn fn, void *ud);

/* Presence from an occupant JID of a room we are in. */
static void room_presence(canto_muc *m, canto_muc_room *r, const char *nick, canto_stanza *st)
{
    const char *type = canto_stanza_attr(st, "type");
    if (type && strcmp(type, "error") == 0) {
        if (r->state == ROOM_JOINING) {
            canto_stanza_error e = CANTO_STANZA_ERROR_INIT;
            canto_stanza_get_error(st, &e);
            join_done(m, r, join_status_of(&e), &e);
        }
        return;
    }
    if (!nick)
        return;
    canto_stanza *x = canto_stanza_child(st, "x", CANTO_NS_MUC_USER);
    canto_stanza *item = x ? canto_stanza_child(x, "item", CANTO_NS_MUC_USER) : NULL;
    unsigned codes[MAX_CODES];
    size_t ncodes = parse_codes(x, codes);
    int self = has_code(codes, ncodes, 110) || strcmp(nick, r->nick) == 0;
    occ *o = find_occ(r, nick, NULL);
    canto_muc_event ev;

    if (type && strcmp(type, "unavailable") == 0) {
        const char *new_nick = item ? canto_stanza_attr(item, "nick") : NULL;
        if (has_code(codes, ncodes, 303) && new_nick && *new_nick) {
            if (!o)
                return;
            init_event(&ev, CANTO_MUC_EV_NICK_CHANGED, r, st);
            ev.occupant = &o->pub;
            ev.new_nick = new_nick;
            ev.self = o->pub.self;
            ev.codes = codes;
            ev.ncodes = ncodes;
            emit(m, &ev);
            if (m->freed || r->dead)
                return;
            if (o->pub.self)
                set_str(&r->nick, new_nick);
            set_str(&o->nick, new_nick);
            occ_sync(o);
            return;
        }
        canto_stanza *d = x ? canto_stanza_child(x, "destroy", CANTO_NS_MUC_USER) : NULL;
        canto_stanza *actor = item ? canto_stanza_child(item, "actor", CANTO_NS_MUC_USER) : NULL;
        const char *reason =
            item ? canto_stanza_child_text(item, "reason", CANTO_NS_MUC_USER) : NULL;
        if (o) {
            canto_muc_event_type t = has_code(codes, ncodes, 301)   ? CANTO_MUC_EV_BANNED
                                     : has_code(codes, ncodes, 307) ? CANTO_MUC_EV_KICKED
                                                                    : CANTO_MUC_EV_OCCUPANT_LEFT;
            init_event(&ev, t, r, st);
            ev.occupant = &o->pub;
            ev.self = o->pub.self;
            ev.codes = codes;
            ev.ncodes = ncodes;
            ev.reason = reason;
            if (actor)
                ev.actor = canto_stanza_attr(actor, "nick") ? canto_stanza_attr(actor, "nick")
                                                            : canto_stanza_attr(actor, "jid");
            emit(m, &ev);
            if (m->freed || r->dead)
                return;
            remove_occ(r, o);
        }
        if (!self)
            return;
        if (r->state == ROOM_JOINING) {
            join_done(m, r, CANTO_MUC_JOIN_ERROR, NULL);
            return;
        }
        if (d) {
            init_event(&ev, CANTO_MUC_EV_DESTROYED, r, st);
            ev.reason = canto_stanza_child_text(d, "reason", CANTO_NS_MUC_USER);
            ev.alt_room = canto_stanza_attr(d, "jid");
            ev.self = 1;
            emit(m, &ev);
            if (m->freed || r->dead)
                return;
        }
        init_event(&ev, CANTO_MUC_EV_LEFT_ROOM, r, st);
        ev.self = 1;
        ev.codes = codes;
        ev.ncodes = ncodes;
        ev.reason = reason;
        r->dead = 1;
        emit(m, &ev);
        return;
    }
    if (type)
        return; /* subscription requests and the like are not occupant presence */

    int is_new = o == NULL;
    if (!o && !(o = add_occ(r, nick)))
        return;
    if (item) {
        o->pub.role = parse_role(canto_stanza_attr(item, "role"));
        o->pub.affiliation = parse_affil(canto_stanza_attr(item, "affiliation"));
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
    set_str(&o->show, canto_stanza_child_text(st, "show", NULL));
    set_str(&o->status, canto_stanza_child_text(st, "status", NULL));
    occ_sync(o);
    if (self) {
        o->pub.self = 1;
        r->self = o;
        if (has_code(codes, ncodes, 201))
            r->created = 1;
        if (strcmp(r->nick, nick) != 0)
            set_str(&r->nick, nick);
    }
    init_event(&ev, is_new ? CANTO_MUC_EV_OCCUPANT_JOINED : CANTO_MUC_EV_OCCUPANT_CHANGED, r, st);
    ev.occupant = &o->pub;
    ev.self = o->pub.self;
    ev.codes = codes;
    ev.ncodes = ncodes;
    emit(m, &ev);
    if (m->freed || r->dead)
        return;
    if (self && r->state == ROOM_JOINING) {
        r->state = ROOM_JOINED;
        if (r->created && r->create_instant)
            send_owner_iq(m, r->jid, "set", REQ_PLAIN, NULL, 1, NULL, NULL, 0, NULL, NULL);
        join_done(m, r, CANTO_MUC_JOIN_OK, NULL);
    }
}

static int on_presence(void *ud, canto_client *client, canto_stanza *st)
{
    canto_muc *m = ud;
    (void)client;
    canto_jid *from;
    if (!canto_stanza_attr(st, "from") ||
        canto_jid_parse(NULL, canto_stanza_attr(st, "from"), &from) != 0)
        return 0;
    canto_muc_room *r = find_room(m, canto_jid_bare_str(from));
    if (!r) {
        canto_jid_free(from);
        return 0;
    }
    enter(m);
    room_presence(m, r, canto_jid_resource(from), st);
    canto_jid_free(from);
    leave(m);
    return 1;
}

static int has_delay(const canto_stanza *st)
{
    return canto_stanza_child(st, "delay", NS_DELAY) ||
           canto_stanza_child(st, "x", NS_DELAY_LEGACY);
}

/* Invitations; returns 1 if @p st was one. */
static int invitation(canto_muc *m, canto_stanza *st, const canto_jid *from)
{
    canto_muc_event ev;
    canto_stanza *x = canto_stanza_child(st, "x", CANTO_NS_MUC_USER);
    canto_stanza *inv = x ? canto_stanza_child(x, "invite", CANTO_NS_MUC_USER) : NULL;
    canto_stanza *dec = x ? canto_stanza_child(x, "decline", CANTO_NS_MUC_USER) : NULL;
    if (inv || dec) {
        canto_stanza *e = inv ? inv : dec;
        init_event(&ev, inv ? CANTO_MUC_EV_INVITE : CANTO_MUC_EV_DECLINE, NULL, st);
        ev.room_jid = canto_jid_bare_str(from);
        ev.from = canto_stanza_attr(e, "from");
        ev.reason = canto_stanza_child_text(e, "reason", CANTO_NS_MUC_USER);
        ev.password = canto_stanza_child_text(x, "password", CANTO_NS_MUC_USER);
        ev.room = find_room(m, ev.room_jid);
        if (!ev.from || !canto_jid_local(from))
            return 0;
        emit(m, &ev);
        return 1;
    }
    x = canto_stanza_child(st, "x", CANTO_NS_CONFERENCE);
    if (x && canto_stanza_attr(x, "jid")) {
        char *room = norm_bare(canto_stanza_attr(x, "jid"));
        if (!room)
            return 0;
        init_event(&ev, CANTO_MUC_EV_INVITE, NULL, st);
        ev.room_jid = room;
        ev.room = find_room(m, room);
        ev.from = canto_jid_str(from);
        ev.reason = canto_stanza_attr(x, "reason");
        ev.password = canto_stanza_attr(x, "password");
        ev.direct = 1;
        emit(m, &ev);
        free(room);
        return 1;
    }
    return 0;
}

static int on_message(void *ud, canto_client *client, canto_stanza *st)
{
    canto_muc *m = ud;
    (void)client;
    canto_jid *from;
    if (!canto_stanza_attr(st, "from") ||
        canto_jid_parse(NULL, canto_stanza_attr(st, "from"), &from) != 0)
        return 0;
    const char *type = canto_stanza_attr(st, "type");
    int handled = 0;
    enter(m);
    if (type && strcmp(type, "error") == 0)
        goto out;
    if (invitation(m, st, from)) {
        handled = 1;
        goto out;
    }
    canto_muc_room *r = find_room(m, canto_jid_bare_str(from));
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
            set_str(&r->subject, text && *text ? text : NULL);
            init_event(&ev, CANTO_MUC_EV_SUBJECT, r, st);
            ev.nick = nick;
            ev.body = r->subject;
            ev.delayed = has_delay(st);
            emit(m, &ev);
        } else if (body) {
            init_event(&ev, CANTO_MUC_EV_MESSAGE, r, st);
            ev.nick = nick;
            ev.body = body;
            ev.delayed = has_delay(st);
            occ *o = nick ? find_occ(r, nick, NULL) : NULL;
            ev.occupant = o ? &o->pub : NULL;
            ev.self = o && o->pub.self;
            emit(m, &ev);
        }
    } else if (nick && body &&
               (!type || strcmp(type, "chat") == 0 || strcmp(type, "normal") == 0)) {
        handled = 1;
        init_event(&ev, CANTO_MUC_EV_PRIVATE, r, st);
        ev.nick = nick;
        ev.body = body;
        ev.delayed = has_delay(st);
        emit(m, &ev);
    }
out:
    canto_jid_free(from);
    leave(m);
    return handled;
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

/* Join again (new session, or self-ping found us gone): occupants are
 * forgotten; a join that fails now is reported and the room forgotten. */
static void rejoin_room(canto_muc *m, canto_muc_room *r)
{
    room_clear(r);
    r->state = ROOM_JOINING;
    if (!r->fn)
        r->rejoining = 1;
    /* A send failure leaves the room joining: the next new session retries. */
    (void)send_join(m, r, r->was_joined);
}

static void on_ping_answer(canto_muc *m, req *q, const canto_iq_response *resp)
{
    canto_muc_room *r = find_room(m, q->room);
    if (!r)
        return;
    r->ping_inflight = 0;
    if (resp->outcome != CANTO_IQ_ERROR || r->state != ROOM_JOINED)
        return;
    if (resp->error.condition == CANTO_COND_NOT_ACCEPTABLE ||
        resp->error.condition == CANTO_COND_ITEM_NOT_FOUND)
        rejoin_room(m, r);
}

static void on_answer(void *ud, canto_client *client, const canto_iq_response *resp)
{
    req *q = ud;
    canto_muc *m = q->muc;
    (void)client;
    unlink_req(m, q);
    enter(m);
    if (q->kind == REQ_PING) {
        on_ping_answer(m, q, resp);
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
                items[i].role = parse_role(canto_stanza_attr(it, "role"));
                items[i].affiliation = parse_affil(canto_stanza_attr(it, "affiliation"));
                items[i].status = canto_stanza_child_text(it, "reason", NULL);
            }
            rep.items = items;
            rep.nitems = items ? n : 0;
        }
        q->fn(q->ud, m, &rep);
        canto_form_free(form);
        free(items);
    }
    req_free(q);
    leave(m);
}

static int send_request(canto_muc *m, const char *room, canto_stanza *iq, req_kind kind,
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
        req_free(q);
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

static int send_owner_iq(canto_muc *m, const char *room, const char *type, req_kind kind,
                         const canto_form *form, int instant, const char *alt, const char *reason,
                         int destroy_room, canto_muc_reply_fn fn, void *ud)
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
            rc = add_text_child(c, "reason", CANTO_NS_MUC_OWNER, reason);
    }
    if (rc == 0)
        rc = send_request(m, room, iq, kind, fn, ud, 0);
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
        rc = add_text_child(item, "reason", CANTO_NS_MUC_ADMIN, reason);
    if (rc == 0)
        rc = send_request(m, room, iq, kind, fn, ud, 0);
    canto_stanza_free(iq);
    return rc;
}

/* Normalize a room JID argument into *out (caller frees). */
static int room_arg(canto_muc *m, const char *room_jid, char **out)
{
    *out = NULL;
    if (!m || !room_jid)
        return CANTO_EINVAL;
    *out = norm_bare(room_jid);
    return *out ? 0 : CANTO_EINVAL;
}

int canto_muc_set_role(canto_muc *muc, const char *room_jid, const char *nick, canto_muc_role role,
                       const char *reason, canto_muc_reply_fn fn, void *user_data)
{
    char *room;
    int rc = room_arg(muc, room_jid, &room);
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
    int rc = room_arg(muc, room_jid, &room);
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
    int rc = room_arg(muc, room_jid, &room);
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

int canto_muc_create_instant(canto_muc *muc, const char *room_jid, canto_muc_reply_fn fn,
                             void *user_data)
{
    char *room;
    int rc = room_arg(muc, room_jid, &room);
    if (rc == 0)
        rc = send_owner_iq(muc, room, "set", REQ_PLAIN, NULL, 1, NULL, NULL, 0, fn, user_data);
    free(room);
    return rc;
}

int canto_muc_get_config(canto_muc *muc, const char *room_jid, canto_muc_reply_fn fn,
                         void *user_data)
{
    char *room;
    int rc = room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    rc = send_owner_iq(muc, room, "get", REQ_CONFIG, NULL, 0, NULL, NULL, 0, fn, user_data);
    free(room);
    return rc;
}

int canto_muc_submit_config(canto_muc *muc, const char *room_jid, const canto_form *form,
                            canto_muc_reply_fn fn, void *user_data)
{
    char *room;
    if (!form)
        return CANTO_EINVAL;
    int rc = room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    rc = send_owner_iq(muc, room, "set", REQ_PLAIN, form, 0, NULL, NULL, 0, fn, user_data);
    free(room);
    return rc;
}

int canto_muc_destroy(canto_muc *muc, const char *room_jid, const char *alt_room,
                      const char *reason, canto_muc_reply_fn fn, void *user_data)
{
    char *room;
    int rc = room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    rc = send_owner_iq(muc, room, "set", REQ_PLAIN, NULL, 0, alt_room, reason, 1, fn, user_data);
    free(room);
    return rc;
}

/* --- messages ------------------------------------------------------------- */

int canto_muc_send_message(canto_muc *muc, const char *room_jid, const char *body)
{
    char *room;
    if (!body)
        return CANTO_EINVAL;
    int rc = room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    canto_stanza *st = NULL;
    rc = canto_stanza_new_message(NULL, "groupchat", room, NULL, body, &st);
    free(room);
    return send_and_free(muc, st, rc);
}

int canto_muc_send_private(canto_muc *muc, const char *room_jid, const char *nick, const char *body)
{
    char *room;
    if (!body || !nick || !*nick)
        return CANTO_EINVAL;
    int rc = room_arg(muc, room_jid, &room);
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
    return send_and_free(muc, st, rc);
}

int canto_muc_set_subject(canto_muc *muc, const char *room_jid, const char *subject)
{
    char *room;
    int rc = room_arg(muc, room_jid, &room);
    if (rc != 0)
        return rc;
    canto_stanza *st = NULL;
    rc = canto_stanza_new_message(NULL, "groupchat", room, NULL, NULL, &st);
    if (rc == 0)
        rc = add_text_child(st, "subject", NULL, subject ? subject : "");
    free(room);
    return send_and_free(muc, st, rc);
}

static int mediated(canto_muc *muc, const char *room_jid, const char *el, const char *jid,
                    const char *reason)
{
    char *room;
    if (!jid)
        return CANTO_EINVAL;
    int rc = room_arg(muc, room_jid, &room);
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
        rc = add_text_child(i, "reason", CANTO_NS_MUC_USER, reason);
    free(room);
    return send_and_free(muc, st, rc);
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
    int rc = room_arg(muc, room_jid, &room);
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
    return send_and_free(muc, st, rc);
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
    char *bare = norm_bare(room_jid);
    if (!bare)
        return CANTO_EINVAL;
    canto_jid *full;
    int rc = canto_jid_new(NULL, NULL, "x.invalid", nick, &full);
    canto_jid_free(full);
    if (rc != 0) {
        free(bare);
        return CANTO_EINVAL;
    }
    if (find_room(muc, bare)) {
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
    r->password = dup_or_null(opts->password);
    r->since = dup_or_null(opts->history_since);
    r->maxstanzas = opts->history_maxstanzas;
    r->maxchars = opts->history_maxchars;
    r->seconds = opts->history_seconds;
    r->create_instant = opts->create_instant;
    r->fn = fn;
    r->ud = user_data;
    if (!r->nick || (opts->password && !r->password) || (opts->history_since && !r->since)) {
        room_free(r);
        return CANTO_ENOMEM;
    }
    rc = send_join(muc, r, 0);
    if (rc != 0) {
        room_free(r);
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
        rc = add_text_child(p, "status", NULL, status);
    return send_and_free(m, p, rc);
}

int canto_muc_leave(canto_muc *muc, const char *room_jid, const char *status)
{
    if (!muc || !room_jid)
        return CANTO_EINVAL;
    canto_muc_room *r = canto_muc_find_room(muc, room_jid);
    if (!r)
        return CANTO_ENOTFOUND;
    enter(muc);
    int connected = canto_client_get_state(muc->client) == CANTO_CLIENT_CONNECTED;
    int rc = connected ? send_unavailable(muc, r, status) : 0;
    if (rc == CANTO_ENOMEM) {
        leave(muc);
        return rc;
    }
    if (r->fn)
        join_done(muc, r, CANTO_MUC_JOIN_CANCELED, NULL);
    if (connected && rc == 0 && r->state != ROOM_JOINING)
        r->state = ROOM_LEAVING;
    else
        r->dead = 1;
    leave(muc);
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
    return send_and_free(muc, p, rc);
}

/* --- sessions and self-ping ----------------------------------------------- */

static void on_state(void *ud, canto_client *client, canto_client_state state,
                     const canto_disconnect_info *info)
{
    canto_muc *m = ud;
    (void)info;
    if (state != CANTO_CLIENT_CONNECTED || !canto_client_session_is_new(client))
        return;
    enter(m);
    for (canto_muc_room *r = m->rooms; r && !m->freed; r = r->next) {
        if (r->dead)
            continue;
        if (r->state == ROOM_LEAVING) {
            r->dead = 1;
            continue;
        }
        if (m->auto_rejoin) {
            r->ping_inflight = 0;
            rejoin_room(m, r);
        } else if (r->state == ROOM_JOINING) {
            join_done(m, r, CANTO_MUC_JOIN_CANCELED, NULL);
        } else {
            canto_muc_event ev;
            init_event(&ev, CANTO_MUC_EV_LEFT_ROOM, r, NULL);
            ev.self = 1;
            r->dead = 1;
            emit(m, &ev);
        }
    }
    leave(m);
}

static void schedule_ping(canto_muc *m);

static void send_self_ping(canto_muc *m, canto_muc_room *r)
{
    size_t len = strlen(r->jid) + strlen(r->nick) + 2;
    char *to = malloc(len);
    if (!to)
        return;
    snprintf(to, len, "%s/%s", r->jid, r->nick);
    canto_stanza *iq = NULL, *c;
    int rc = canto_stanza_new(NULL, "iq", CANTO_NS_CLIENT, &iq);
    if (rc == 0)
        rc = canto_stanza_set_attr(iq, "type", "get");
    if (rc == 0)
        rc = canto_stanza_set_attr(iq, "to", to);
    if (rc == 0)
        rc = canto_stanza_add_child(iq, "ping", NS_PING, &c);
    if (rc == 0 && send_request(m, r->jid, iq, REQ_PING, NULL, NULL,
                                m->ping_interval ? m->ping_interval : 1) == 0)
        r->ping_inflight = 1;
    canto_stanza_free(iq);
    free(to);
}

static void on_ping_timer(void *ud, canto_loop *loop, unsigned id)
{
    canto_muc *m = ud;
    (void)loop;
    (void)id;
    m->ping_timer = 0;
    if (canto_client_get_state(m->client) == CANTO_CLIENT_CONNECTED)
        for (canto_muc_room *r = m->rooms; r; r = r->next)
            if (!r->dead && r->state == ROOM_JOINED && !r->ping_inflight)
                send_self_ping(m, r);
    schedule_ping(m);
}

static void schedule_ping(canto_muc *m)
{
    if (m->ping_timer)
        canto_loop_cancel_timer(m->loop, m->ping_timer);
    m->ping_timer = 0;
    if (m->ping_interval)
        canto_loop_add_timer(m->loop, m->ping_interval, on_ping_timer, m, &m->ping_timer);
}

int canto_muc_set_self_ping(canto_muc *muc, uint32_t interval_ms)
{
    if (!muc)
        return CANTO_EINVAL;
    muc->ping_interval = interval_ms;
    schedule_ping(muc);
    return interval_ms && !muc->ping_timer ? CANTO_ENOMEM : 0;
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
    int rc = canto_client_add_handler(client, &pm, on_presence, m, &m->pres_h);
    if (rc == 0)
        rc = canto_client_add_handler(client, &mm, on_message, m, &m->msg_h);
    if (rc == 0)
        rc = canto_client_add_listener(client, on_state, m, &m->listener);
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
        req_free(q);
    }
    muc->freed = 1;
    if (muc->depth == 0)
        destroy(muc);
}
