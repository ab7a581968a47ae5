/* Staying in rooms: rejoin every room after a reconnect that started a new
 * session, and XEP-0410 self-pings that notice when a room forgot us. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>

#include "muc_impl.h"

/* Join again (new session, or self-ping found us gone): occupants are
 * forgotten, since the room sends them all again (XEP-0045 asks it to for a
 * join presence even from an occupant it still has); a join that fails now
 * is reported and the room forgotten. */
void canto__muc_rejoin_room(canto_muc *m, canto_muc_room *r)
{
    canto__muc_room_clear(r);
    r->state = ROOM_JOINING;
    if (!r->fn)
        r->rejoining = 1;
    /* A send failure leaves the room joining: the next new session retries. */
    (void)canto__muc_send_join(m, r, r->was_joined);
}

/* XEP-0410 §3.2: what an answer to a self-ping says about us. */
static int ping_says_gone(const canto_iq_response *resp)
{
    if (resp->outcome == CANTO_IQ_TIMEOUT)
        return 1;
    if (resp->outcome != CANTO_IQ_ERROR)
        return 0;
    switch (resp->error.condition) {
    case CANTO_COND_SERVICE_UNAVAILABLE:
    case CANTO_COND_FEATURE_NOT_IMPLEMENTED:
        /* The room passed the ping on to our client, which does not answer
         * pings: we are there. */
        return 0;
    case CANTO_COND_REMOTE_SERVER_NOT_FOUND:
    case CANTO_COND_REMOTE_SERVER_TIMEOUT:
        /* The room's server is out of reach: joining again would not get
         * through either; the next ping asks again. */
        return 0;
    default:
        return 1;
    }
}

void canto__muc_on_ping_answer(canto_muc *m, req *q, const canto_iq_response *resp)
{
    canto_muc_room *r = canto__muc_find_room(m, q->room);
    if (!r)
        return;
    r->ping_inflight = 0;
    /* A nick change or a rejoin while the ping was out makes its answer
     * stale; CANCELED means the connection ended, which on_state handles. */
    if (r->state != ROOM_JOINED || resp->outcome == CANTO_IQ_CANCELED)
        return;
    if (ping_says_gone(resp))
        canto__muc_rejoin_room(m, r);
}

/* --- sessions and self-ping ----------------------------------------------- */

void canto__muc_on_state(void *ud, canto_client *client, canto_client_state state,
                         const canto_disconnect_info *info)
{
    canto_muc *m = ud;
    (void)info;
    if (state != CANTO_CLIENT_CONNECTED || !canto_client_session_is_new(client))
        return;
    canto__muc_enter(m);
    for (canto_muc_room *r = m->rooms; r && !m->freed; r = r->next) {
        if (r->dead)
            continue;
        if (r->state == ROOM_LEAVING) {
            r->dead = 1;
            continue;
        }
        if (m->auto_rejoin) {
            r->ping_inflight = 0;
            canto__muc_rejoin_room(m, r);
        } else if (r->state == ROOM_JOINING) {
            canto__muc_join_done(m, r, CANTO_MUC_JOIN_CANCELED, NULL);
        } else {
            canto_muc_event ev;
            canto__muc_init_event(&ev, CANTO_MUC_EV_LEFT_ROOM, r, NULL);
            ev.self = 1;
            r->dead = 1;
            canto__muc_emit(m, &ev);
        }
    }
    canto__muc_leave(m);
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
        rc = canto_stanza_add_child(iq, "ping", CANTO__MUC_NS_PING, &c);
    if (rc == 0 && canto__muc_send_request(m, r->jid, iq, REQ_PING, NULL, NULL,
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
