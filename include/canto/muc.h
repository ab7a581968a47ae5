/**
 * @file canto/muc.h
 * @brief Multi-User Chat (XEP-0045) and direct invitations (XEP-0249).
 *
 * A canto_muc is attached to one canto_client and keeps the state of every
 * room joined through it: occupants (nick, role, affiliation, real JID when
 * the room shows it, show and status), our own occupant, the subject. It
 * reports what happens through one event callback (occupants joining,
 * leaving, changing, nick changes, kicks and bans, subject changes, room
 * messages, private messages, invitations) and offers the moderator and
 * owner operations (kick, ban, voice, affiliations, lists, configuration,
 * destruction).
 *
 * Only stanzas from rooms joined through this object are handled: their bare
 * JID must equal the room's normalized bare JID, so a stanza from the same
 * room name at another service or domain is ignored and passed on. Handled
 * room presence and messages are consumed (the presence plugin does not see
 * them). Invitations are the exception: they come from rooms not joined yet.
 *
 * After a reconnect that started a new session (canto_client_session_is_new())
 * every room is joined again, asking for no history (maxstanzas 0: what was
 * said before the reconnect was already delivered), and the outcome reported
 * as CANTO_MUC_EV_REJOINED. With canto_muc_set_self_ping(), XEP-0410
 * self-pings to our own occupant JID detect that the room forgot us and join
 * again the same way (see canto_muc_set_self_ping() for which answers mean
 * that).
 *
 * Threads: a canto_muc is used only from the thread that runs its client's
 * loop; callbacks are called on that thread, from inside the loop's dispatch.
 *
 * Ownership: canto_muc_new() gives the caller the object; free it with
 * canto_muc_free() before the client and the loop. Strings passed in are
 * copied. canto_muc_room and canto_muc_occupant pointers are borrowed: a
 * room lives until the event reporting that we left it (or the failed join
 * result) returns, an occupant until the event reporting that it left
 * returns. Everything handed to a callback is valid until it returns.
 * Callbacks may call any function of this API, including canto_muc_free().
 */
#ifndef CANTO_MUC_H
#define CANTO_MUC_H

#include <stddef.h>
#include <stdint.h>
#include <canto/export.h>
#include <canto/client.h>
#include <canto/forms.h>
#include <canto/loop.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** XEP-0045 base namespace (join presence). */
#define CANTO_NS_MUC "http://jabber.org/protocol/muc"
/** XEP-0045 user namespace (occupant items, status codes, invitations). */
#define CANTO_NS_MUC_USER "http://jabber.org/protocol/muc#user"
/** XEP-0045 admin namespace (roles and affiliations). */
#define CANTO_NS_MUC_ADMIN "http://jabber.org/protocol/muc#admin"
/** XEP-0045 owner namespace (configuration, destruction). */
#define CANTO_NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"
/** XEP-0249 direct invitations. */
#define CANTO_NS_CONFERENCE "jabber:x:conference"

/** Multi-user chat for one client. Opaque. */
typedef struct canto_muc canto_muc;
/** A room joined (or being joined). Opaque, borrowed. */
typedef struct canto_muc_room canto_muc_room;

/** An occupant's role in a room. */
typedef enum canto_muc_role {
    CANTO_MUC_ROLE_NONE = 0,    /**< "none" (not present), or missing */
    CANTO_MUC_ROLE_VISITOR,     /**< "visitor": present, no voice */
    CANTO_MUC_ROLE_PARTICIPANT, /**< "participant" */
    CANTO_MUC_ROLE_MODERATOR,   /**< "moderator" */
} canto_muc_role;

/** An occupant's (or a JID's) long-lived affiliation with a room. */
typedef enum canto_muc_affiliation {
    CANTO_MUC_AFFIL_NONE = 0, /**< "none", or missing */
    CANTO_MUC_AFFIL_OUTCAST,  /**< "outcast": banned */
    CANTO_MUC_AFFIL_MEMBER,   /**< "member" */
    CANTO_MUC_AFFIL_ADMIN,    /**< "admin" */
    CANTO_MUC_AFFIL_OWNER,    /**< "owner" */
} canto_muc_affiliation;

/** @return the XML name of a role ("moderator"...), or NULL if out of range. */
CANTO_EXPORT const char *canto_muc_role_name(canto_muc_role role);
/** @return the XML name of an affiliation ("owner"...), or NULL if out of range. */
CANTO_EXPORT const char *canto_muc_affiliation_name(canto_muc_affiliation affiliation);

/** One occupant of a room; borrowed (see the file comment). */
typedef struct canto_muc_occupant {
    unsigned version;                  /**< CANTO_MUC_OCCUPANT_VERSION */
    const char *nick;                  /**< the occupant's nick (resource of its occupant JID) */
    canto_muc_role role;               /**< its role */
    canto_muc_affiliation affiliation; /**< its affiliation */
    const char *jid;                   /**< real full JID when the room shows it to us, else NULL */
    const char *show;                  /**< "away", "chat", "dnd", "xa", or NULL (available) */
    const char *status;                /**< status text, or NULL */
    int self;                          /**< 1 for our own occupant */
} canto_muc_occupant;

/** Version of canto_muc_occupant filled in by this library. */
#define CANTO_MUC_OCCUPANT_VERSION 1u

/** How a join ended. */
typedef enum canto_muc_join_status {
    CANTO_MUC_JOIN_OK = 0,            /**< We are in the room. */
    CANTO_MUC_JOIN_NICK_CONFLICT,     /**< 409 conflict: the nick is taken. */
    CANTO_MUC_JOIN_MEMBERS_ONLY,      /**< 407 registration-required: members only. */
    CANTO_MUC_JOIN_BANNED,            /**< 403 forbidden: we are banned. */
    CANTO_MUC_JOIN_PASSWORD_REQUIRED, /**< 401 not-authorized: wrong or missing password. */
    CANTO_MUC_JOIN_NOT_FOUND,         /**< 404 item-not-found: locked or no such room. */
    CANTO_MUC_JOIN_ERROR,             /**< Any other error (see the error field). */
    CANTO_MUC_JOIN_CANCELED,          /**< Disconnected, left or freed first. */
} canto_muc_join_status;

/** @return a static English name for a join status ("nick-conflict"...). */
CANTO_EXPORT const char *canto_muc_join_status_name(canto_muc_join_status status);

/** Outcome of a join; valid during the callback only. */
typedef struct canto_muc_join_result {
    unsigned version;             /**< CANTO_MUC_JOIN_RESULT_VERSION */
    canto_muc_join_status status; /**< how it ended */
    const char *room_jid;         /**< bare room JID */
    const char *nick;             /**< our nick (as the room assigned it on success) */
    /** The room on success (borrowed); NULL otherwise: a failed room is
     *  forgotten when the callback returns. */
    canto_muc_room *room;
    int created;                     /**< 1 if the join created the room (status 201) */
    const canto_stanza_error *error; /**< the error presence's error, else NULL */
} canto_muc_join_result;

/** Version of canto_muc_join_result filled in by this library. */
#define CANTO_MUC_JOIN_RESULT_VERSION 1u

/**
 * Receives the outcome of canto_muc_join(), exactly once unless the plugin is
 * freed first. May call any function of this API.
 */
typedef void (*canto_muc_join_fn)(void *user_data, canto_muc *muc,
                                  const canto_muc_join_result *result);

/** Options of a join. Initialize with CANTO_MUC_JOIN_OPTIONS_INIT. */
typedef struct canto_muc_join_options {
    unsigned version;          /**< CANTO_MUC_JOIN_OPTIONS_VERSION */
    const char *password;      /**< room password, or NULL */
    long history_maxstanzas;   /**< history: at most this many messages; -1: server default */
    long history_maxchars;     /**< history: at most this many characters; -1: server default */
    long history_seconds;      /**< history: only this many seconds back; -1: server default */
    const char *history_since; /**< history: only since this XEP-0082 datetime; NULL: any */
    /** 1: when the join creates the room (201), accept the default
     *  configuration at once (an instant room, XEP-0045 §10.1.2). */
    int create_instant;
} canto_muc_join_options;

/** Version of canto_muc_join_options understood by this header. */
#define CANTO_MUC_JOIN_OPTIONS_VERSION 1u
/** Initializer for canto_muc_join_options. */
#define CANTO_MUC_JOIN_OPTIONS_INIT                                                                \
    {                                                                                              \
        CANTO_MUC_JOIN_OPTIONS_VERSION, NULL, -1, -1, -1, NULL, 0                                  \
    }

/** What an event reports. */
typedef enum canto_muc_event_type {
    /** occupant: someone entered (also ourselves). While we join, the
     *  occupants already there are reported too, before our own presence;
     *  canto_muc_room_joined() is 0 for those. */
    CANTO_MUC_EV_OCCUPANT_JOINED = 1,
    /** occupant: left (codes may say 321, 322, 332); its status is the
     *  text of the unavailable presence, if any. */
    CANTO_MUC_EV_OCCUPANT_LEFT,
    CANTO_MUC_EV_OCCUPANT_CHANGED, /**< occupant: role, affiliation, show or status changed */
    CANTO_MUC_EV_NICK_CHANGED,     /**< occupant (old nick), new_nick: status 303 */
    CANTO_MUC_EV_KICKED,           /**< occupant: kicked (307); actor, reason */
    CANTO_MUC_EV_BANNED,           /**< occupant: banned (301); actor, reason */
    CANTO_MUC_EV_SUBJECT,          /**< nick (may be NULL), body: the new subject */
    CANTO_MUC_EV_MESSAGE,          /**< nick (NULL: the room), body, delayed */
    CANTO_MUC_EV_PRIVATE,          /**< nick, body: private message from an occupant */
    CANTO_MUC_EV_INVITE,           /**< room_jid, from, reason, password, direct */
    CANTO_MUC_EV_DECLINE,          /**< room_jid, from, reason: our invitation declined */
    CANTO_MUC_EV_LEFT_ROOM,        /**< we are out of the room (left, kicked, destroyed...) */
    CANTO_MUC_EV_DESTROYED,        /**< the room was destroyed; reason, alt_room */
    CANTO_MUC_EV_REJOINED,         /**< automatic rejoin finished; join */
    /** codes: a message from the room itself with status codes and no body,
     *  e.g. 104 (configuration changed), 170/171 (logging on/off), 172/173
     *  (non-anonymous/semi-anonymous), 174 (fully anonymous). */
    CANTO_MUC_EV_ROOM_STATUS,
} canto_muc_event_type;

/** One event; everything is borrowed and valid during the callback only. */
typedef struct canto_muc_event {
    unsigned version;                   /**< CANTO_MUC_EVENT_VERSION */
    canto_muc_event_type type;          /**< what happened */
    canto_muc_room *room;               /**< the room, or NULL (invitations) */
    const char *room_jid;               /**< bare room JID */
    const canto_muc_occupant *occupant; /**< occupant events: the occupant */
    const char *nick;                   /**< sender's nick (messages, subject), or NULL */
    const char *body;                   /**< message body or subject text, or NULL */
    const char *new_nick;               /**< NICK_CHANGED: the new nick */
    const char *actor;                  /**< KICKED/BANNED: who did it (nick or JID), or NULL */
    const char *reason;    /**< reason of a kick, ban, invitation, decline or destruction */
    const char *from;      /**< INVITE/DECLINE: the inviter's or decliner's JID */
    const char *password;  /**< INVITE: room password, or NULL */
    const char *alt_room;  /**< DESTROYED: the alternative room, or NULL */
    int direct;            /**< INVITE: 1 for XEP-0249, 0 mediated */
    int delayed;           /**< MESSAGE/SUBJECT: 1 if it carries `<delay/>` (history) */
    int self;              /**< 1 when the event concerns our own occupant */
    const unsigned *codes; /**< status codes of the stanza (unknown ones kept) */
    size_t ncodes;         /**< how many codes */
    /** REJOINED: the outcome (status, error); NULL otherwise. */
    const canto_muc_join_result *join;
    const canto_stanza *stanza; /**< the stanza that caused it, or NULL */
} canto_muc_event;

/** Version of canto_muc_event filled in by this library. */
#define CANTO_MUC_EVENT_VERSION 1u

/** Receives events; may call any function of this API, including canto_muc_free(). */
typedef void (*canto_muc_event_fn)(void *user_data, canto_muc *muc, const canto_muc_event *event);

/** Outcome of an admin or owner request; valid during the callback only. */
typedef struct canto_muc_reply {
    unsigned version;                /**< CANTO_MUC_REPLY_VERSION */
    canto_iq_outcome outcome;        /**< RESULT, ERROR, TIMEOUT, CANCELED */
    const canto_stanza_error *error; /**< ERROR: the error, else NULL */
    const char *room_jid;            /**< the room asked */
    /** canto_muc_get_config(): the room's form (borrowed; copy it to keep), else NULL. */
    const canto_form *form;
    /** canto_muc_get_list(): the items (borrowed), else NULL. */
    const canto_muc_occupant *items;
    size_t nitems; /**< number of items (nick, jid, role, affiliation; status: reason) */
} canto_muc_reply;

/** Version of canto_muc_reply filled in by this library. */
#define CANTO_MUC_REPLY_VERSION 1u

/** Receives a request's outcome exactly once unless the plugin is freed first. */
typedef void (*canto_muc_reply_fn)(void *user_data, canto_muc *muc, const canto_muc_reply *reply);

/* ------------------------------------------------------------------------- */
/** @name The plugin */
/**@{*/

/**
 * Attach multi-user chat to @p client: handle room presence and messages and
 * invitations; announce CANTO_NS_MUC and CANTO_NS_CONFERENCE as features.
 * @param loop the loop of @p client (self-ping timer).
 * @param out receives the plugin; free with canto_muc_free().
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_muc_new(canto_client *client, canto_loop *loop, canto_muc **out);

/**
 * Detach and free, without leaving rooms (canto_muc_leave() first to do that).
 * Pending join and request callbacks are not called. NULL is allowed. May be
 * called from inside this plugin's callbacks.
 */
CANTO_EXPORT void canto_muc_free(canto_muc *muc);

/** Set (or clear with NULL) the event callback. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_muc_set_callback(canto_muc *muc, canto_muc_event_fn fn, void *user_data);

/**
 * Self-ping (XEP-0410) every joined room every @p interval_ms (0: off,
 * the default). A result, or the errors service-unavailable and
 * feature-not-implemented (our own client answered without knowing pings),
 * mean we are still in the room; remote-server-not-found and
 * remote-server-timeout say nothing (the room's server is unreachable; the
 * next ping tries again); no answer within @p interval_ms, or any other
 * error (not-acceptable, item-not-found...), means the room forgot us: the
 * room is joined again without history, reported as CANTO_MUC_EV_REJOINED.
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_muc_set_self_ping(canto_muc *muc, uint32_t interval_ms);

/** Rejoin rooms after a new session (1, the default) or not (0). @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_muc_set_auto_rejoin(canto_muc *muc, int on);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Rooms */
/**@{*/

/**
 * Join @p room_jid (bare) as @p nick. The result comes through @p fn.
 * @param opts NULL for defaults.
 * @param room receives the room object (borrowed; may be NULL).
 * @return 0, CANTO_EINVAL (bad JID or nick, not bare), CANTO_ESTATE (already
 *         joined or joining), CANTO_ENOTCONN, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_muc_join(canto_muc *muc, const char *room_jid, const char *nick,
                                const canto_muc_join_options *opts, canto_muc_join_fn fn,
                                void *user_data, canto_muc_room **room);

/**
 * Leave a room with an optional @p status text. The room stays until the
 * room confirms (CANTO_MUC_EV_LEFT_ROOM); when not connected it is forgotten
 * at once. @return 0, CANTO_ENOTFOUND, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_muc_leave(canto_muc *muc, const char *room_jid, const char *status);

/** Change our nick in a room. @return 0, CANTO_ENOTFOUND, CANTO_EINVAL, CANTO_ENOTCONN. */
CANTO_EXPORT int canto_muc_change_nick(canto_muc *muc, const char *room_jid, const char *nick);

/** @return the room joined (or being joined) with this bare JID, or NULL. Borrowed. */
CANTO_EXPORT canto_muc_room *canto_muc_find_room(const canto_muc *muc, const char *room_jid);
/** @return the room number @p index, or NULL past the end. Borrowed. */
CANTO_EXPORT canto_muc_room *canto_muc_room_at(const canto_muc *muc, size_t index);

/** @return the room's bare JID (borrowed). */
CANTO_EXPORT const char *canto_muc_room_jid(const canto_muc_room *room);
/** @return our nick in the room (borrowed). */
CANTO_EXPORT const char *canto_muc_room_nick(const canto_muc_room *room);
/** @return the subject (borrowed), or NULL if none was received. */
CANTO_EXPORT const char *canto_muc_room_subject(const canto_muc_room *room);
/** @return 1 if we are in the room, 0 while joining or leaving. */
CANTO_EXPORT int canto_muc_room_joined(const canto_muc_room *room);
/** @return the number of occupants (ourselves included). */
CANTO_EXPORT size_t canto_muc_room_occupant_count(const canto_muc_room *room);
/** @return occupant @p index (borrowed), or NULL past the end. */
CANTO_EXPORT const canto_muc_occupant *canto_muc_room_occupant_at(const canto_muc_room *room,
                                                                  size_t index);
/** @return the occupant with @p nick (borrowed), or NULL. */
CANTO_EXPORT const canto_muc_occupant *canto_muc_room_occupant(const canto_muc_room *room,
                                                               const char *nick);
/** @return our own occupant (borrowed), or NULL before the join succeeded. */
CANTO_EXPORT const canto_muc_occupant *canto_muc_room_self(const canto_muc_room *room);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Messages and invitations */
/**@{*/

/** Send a groupchat message. @return 0, CANTO_EINVAL, and canto_client_send()'s codes. */
CANTO_EXPORT int canto_muc_send_message(canto_muc *muc, const char *room_jid, const char *body);
/** Send a private message to occupant @p nick. @return as canto_muc_send_message(). */
CANTO_EXPORT int canto_muc_send_private(canto_muc *muc, const char *room_jid, const char *nick,
                                        const char *body);
/** Change the subject (needs the right to). @return as canto_muc_send_message(). */
CANTO_EXPORT int canto_muc_set_subject(canto_muc *muc, const char *room_jid, const char *subject);
/** Mediated invitation of @p jid through the room. @return as canto_muc_send_message(). */
CANTO_EXPORT int canto_muc_invite(canto_muc *muc, const char *room_jid, const char *jid,
                                  const char *reason);
/** Direct invitation (XEP-0249) sent to @p jid. @return as canto_muc_send_message(). */
CANTO_EXPORT int canto_muc_invite_direct(canto_muc *muc, const char *room_jid, const char *jid,
                                         const char *reason, const char *password);
/** Decline a mediated invitation from @p inviter. @return as canto_muc_send_message(). */
CANTO_EXPORT int canto_muc_decline(canto_muc *muc, const char *room_jid, const char *inviter,
                                   const char *reason);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Moderation and administration (muc#admin, muc#owner)
 * Each returns 0 and later calls @p fn once (which may be NULL), or returns
 * CANTO_EINVAL, CANTO_ENOTCONN or CANTO_ENOMEM and calls nothing. */
/**@{*/

/** Set the role of occupant @p nick (NONE kicks; VISITOR revokes voice). */
CANTO_EXPORT int canto_muc_set_role(canto_muc *muc, const char *room_jid, const char *nick,
                                    canto_muc_role role, const char *reason, canto_muc_reply_fn fn,
                                    void *user_data);
/** Kick occupant @p nick: canto_muc_set_role() with CANTO_MUC_ROLE_NONE. */
CANTO_EXPORT int canto_muc_kick(canto_muc *muc, const char *room_jid, const char *nick,
                                const char *reason, canto_muc_reply_fn fn, void *user_data);
/** Set the affiliation of bare @p jid (OUTCAST bans; NONE removes membership). */
CANTO_EXPORT int canto_muc_set_affiliation(canto_muc *muc, const char *room_jid, const char *jid,
                                           canto_muc_affiliation affiliation, const char *reason,
                                           canto_muc_reply_fn fn, void *user_data);
/** Ban bare @p jid: canto_muc_set_affiliation() with CANTO_MUC_AFFIL_OUTCAST. */
CANTO_EXPORT int canto_muc_ban(canto_muc *muc, const char *room_jid, const char *jid,
                               const char *reason, canto_muc_reply_fn fn, void *user_data);
/** Get the list of JIDs with @p affiliation (members, outcasts...): reply items. */
CANTO_EXPORT int canto_muc_get_list(canto_muc *muc, const char *room_jid,
                                    canto_muc_affiliation affiliation, canto_muc_reply_fn fn,
                                    void *user_data);
/**
 * Get the occupants with @p role (moderators, participants, visitors), as a
 * moderator may (XEP-0045 §8.5, §8.8): reply items with nick, role and, when
 * the room shows it, jid. CANTO_MUC_ROLE_NONE is refused (CANTO_EINVAL):
 * occupants without a role are not in the room.
 */
CANTO_EXPORT int canto_muc_get_role_list(canto_muc *muc, const char *room_jid, canto_muc_role role,
                                         canto_muc_reply_fn fn, void *user_data);
/** Accept the default configuration of a room we created (empty submit form). */
CANTO_EXPORT int canto_muc_create_instant(canto_muc *muc, const char *room_jid,
                                          canto_muc_reply_fn fn, void *user_data);
/** Get the configuration form: reply form. */
CANTO_EXPORT int canto_muc_get_config(canto_muc *muc, const char *room_jid, canto_muc_reply_fn fn,
                                      void *user_data);
/** Submit a configuration form (kind submit, e.g. from canto_form_make_submit()); not kept. */
CANTO_EXPORT int canto_muc_submit_config(canto_muc *muc, const char *room_jid,
                                         const canto_form *form, canto_muc_reply_fn fn,
                                         void *user_data);
/** Destroy the room, optionally naming an alternative room and a reason. */
CANTO_EXPORT int canto_muc_destroy(canto_muc *muc, const char *room_jid, const char *alt_room,
                                   const char *reason, canto_muc_reply_fn fn, void *user_data);

/**@}*/

CANTO_END_DECLS

#endif
