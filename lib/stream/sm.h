/* Stream management state (XEP-0198) that outlives any one stream: the
 * session id and resumption location, both counters, and the queue of sent
 * stanzas the server has not acknowledged yet (kept as serialized bytes, ready
 * to be resent after a resumption).
 *
 * Counters are mod 2^32 (XEP-0198 §5): every comparison here is done on the
 * difference, so wrap-around is invisible to callers.
 *
 * Pure bookkeeping: no I/O, no clock. The stream engine feeds it; the client
 * owns it across reconnects and learns through the callback which stanzas are
 * safe at the server (acked) or lost (failed). */
#ifndef CANTO_STREAM_SM_H
#define CANTO_STREAM_SM_H

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"

typedef struct canto__sm canto__sm;

/* A stanza left the queue: @p status 0 = the server acknowledged it, else the
 * CANTO_E* reason it is given up. @p token is what canto__sm_push() was given. */
typedef void (*canto__sm_done_fn)(void *ud, uint64_t token, int status);

int canto__sm_new(const canto__alloc *alloc, canto__sm_done_fn done, void *ud, canto__sm **out);
/* Frees without reporting; call canto__sm_fail_all() first to report. */
void canto__sm_free(canto__sm *sm);

/* --- session ---------------------------------------------------------------- */

/* Start counting on a new session: the queue keeps what it has (the caller
 * decides whether to resend or fail it), counters restart at 0. Called when
 * <enable/> is sent (outbound count starts) — inbound starts at <enabled/>,
 * see canto__sm_enabled(). */
void canto__sm_reset_counters(canto__sm *sm);
/* <enabled/> arrived: remember id (may be NULL: not resumable), location (or
 * NULL) and max (seconds, 0 if absent). 0 or CANTO_ENOMEM. */
int canto__sm_enabled(canto__sm *sm, const char *id, const char *location, uint32_t max);
int canto__sm_is_enabled(const canto__sm *sm);
/* Forget the session (resumption failed or the session was closed). */
void canto__sm_forget_session(canto__sm *sm);
const char *canto__sm_id(const canto__sm *sm);       /* NULL if not resumable */
const char *canto__sm_location(const canto__sm *sm); /* NULL if none */

/* --- outbound -------------------------------------------------------------- */

/* Record one counted stanza (message, presence, iq) just sent on an SM stream,
 * with its serialized bytes for a possible resend. 0 or CANTO_ENOMEM. */
int canto__sm_push(canto__sm *sm, const char *xml, size_t len, uint64_t token);
/* <a h=.../> or the h of <resumed/> / <failed/>: report and drop everything
 * up to @p h. Returns 0, or CANTO_EPROTO when h acknowledges more than was
 * sent (XEP-0198 handled-count-too-high; nothing is changed). */
int canto__sm_ack(canto__sm *sm, uint32_t h);
/* Unacknowledged stanzas, oldest first: @p i from 0 to canto__sm_unacked()-1. */
size_t canto__sm_unacked(const canto__sm *sm);
size_t canto__sm_unacked_bytes(const canto__sm *sm);
const char *canto__sm_entry(const canto__sm *sm, size_t i, size_t *len, uint64_t *token);
/* The outbound counter (stanzas sent since <enable/>, mod 2^32). After a
 * resumption the queue is resent as it is: those stanzas keep their numbers,
 * so nothing is pushed again. */
uint32_t canto__sm_sent(const canto__sm *sm);
/* Report every queued stanza as failed with @p status and empty the queue. */
void canto__sm_fail_all(canto__sm *sm, int status);
/* Remove the oldest entry without reporting it (resumption failed: the caller
 * resends it on the new session, where it is pushed again, or fails it).
 * *xml is owned by the caller (free with canto_free). 0, or CANTO_ENOTFOUND
 * when the queue is empty. Works before or after canto__sm_reset_counters():
 * leftover entries are numbered just below the new session's first stanza. */
int canto__sm_pop(canto__sm *sm, char **xml, size_t *len, uint64_t *token);

/* --- inbound --------------------------------------------------------------- */

void canto__sm_handled(canto__sm *sm); /* one counted stanza received */
uint32_t canto__sm_received(const canto__sm *sm);

/* --- persistence ------------------------------------------------------------ */

/* Serialize id, location, counters and the queue (bytes and tokens) into an
 * owned buffer (canto_free). 0 or CANTO_ENOMEM. */
int canto__sm_export(const canto__sm *sm, char **out, size_t *len);
/* Replace the state with an exported one. 0, CANTO_EINVAL (not an export, or
 * damaged), CANTO_ENOMEM. Imported entries keep their tokens. */
int canto__sm_import(canto__sm *sm, const char *data, size_t len);

#endif
