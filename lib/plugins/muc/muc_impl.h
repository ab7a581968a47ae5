/* What the files of the MUC plugin share: the objects behind the opaque
 * public types and the functions one file offers the others. Nothing here is
 * exported (hidden visibility); the plugin uses the public API only. */
#ifndef CANTO_MUC_IMPL_H
#define CANTO_MUC_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <canto/jid.h>
#include <canto/muc.h>

#define CANTO__MUC_NS_DELAY "urn:xmpp:delay"
#define CANTO__MUC_NS_DELAY_LEGACY "jabber:x:delay"
#define CANTO__MUC_NS_PING "urn:xmpp:ping"
/* More status codes in one stanza than any server sends; the rest are dropped. */
#define CANTO__MUC_MAX_CODES 32

enum room_state { ROOM_JOINING, ROOM_JOINED, ROOM_LEAVING };

typedef struct occ {
    canto_muc_occupant pub; /* its strings point into the fields below */
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

/* An iq in flight; its answer goes to fn (REQ_PING: to the self-ping code). */
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
    /* Callbacks may free the plugin or forget rooms: depth counts the
     * handlers running, and freeing waits until it is back to 0. */
    int depth, freed;
};

/* muc.c: the plugin object, reentrancy, events and small helpers. */
char *canto__muc_dup_or_null(const char *s);
int canto__muc_set_str(char **dst, const char *s);
canto_muc_role canto__muc_parse_role(const char *s);
canto_muc_affiliation canto__muc_parse_affil(const char *s);
void canto__muc_enter(canto_muc *m);
void canto__muc_leave(canto_muc *m);
char *canto__muc_norm_bare(const char *s);
int canto__muc_room_arg(canto_muc *m, const char *room_jid, char **out);
int canto__muc_add_text_child(canto_stanza *parent, const char *name, const char *ns,
                              const char *text);
int canto__muc_send_and_free(canto_muc *m, canto_stanza *st, int rc);
void canto__muc_emit(canto_muc *m, canto_muc_event *ev);
void canto__muc_init_event(canto_muc_event *ev, canto_muc_event_type type, canto_muc_room *r,
                           const canto_stanza *st);

/* room.c: rooms, their occupants, joining and leaving. */
void canto__muc_room_clear(canto_muc_room *r);
void canto__muc_room_free(canto_muc_room *r);
canto_muc_room *canto__muc_find_room(const canto_muc *m, const char *bare);
occ *canto__muc_find_occ(const canto_muc_room *r, const char *nick, size_t *index);
occ *canto__muc_add_occ(canto_muc_room *r, const char *nick);
void canto__muc_remove_occ(canto_muc_room *r, occ *o);
void canto__muc_occ_sync(occ *o);
int canto__muc_send_join(canto_muc *m, canto_muc_room *r, int no_history);
void canto__muc_join_done(canto_muc *m, canto_muc_room *r, canto_muc_join_status status,
                          const canto_stanza_error *err);

/* presence.c: occupant presence (handler) and status codes. */
int canto__muc_on_presence(void *ud, canto_client *client, canto_stanza *st);
size_t canto__muc_parse_codes(const canto_stanza *x, unsigned *codes);
int canto__muc_has_code(const unsigned *codes, size_t n, unsigned code);

/* message.c: room and private messages (handler). */
int canto__muc_on_message(void *ud, canto_client *client, canto_stanza *st);
int canto__muc_has_delay(const canto_stanza *st);

/* invite.c: receiving invitations; 1 if @p st was one. */
int canto__muc_invitation(canto_muc *m, canto_stanza *st, const canto_jid *from);

/* admin.c: iq requests to rooms. */
int canto__muc_send_request(canto_muc *m, const char *room, canto_stanza *iq, req_kind kind,
                            canto_muc_reply_fn fn, void *ud, uint32_t timeout_ms);
int canto__muc_send_owner_iq(canto_muc *m, const char *room, const char *type, req_kind kind,
                             const canto_form *form, int instant, const char *alt,
                             const char *reason, int destroy_room, canto_muc_reply_fn fn, void *ud);
void canto__muc_req_free(req *q);

/* selfping.c: rejoining after a new session or a failed self-ping. */
void canto__muc_on_state(void *ud, canto_client *client, canto_client_state state,
                         const canto_disconnect_info *info);
void canto__muc_rejoin_room(canto_muc *m, canto_muc_room *r);
void canto__muc_on_ping_answer(canto_muc *m, req *q, const canto_iq_response *resp);

#endif
