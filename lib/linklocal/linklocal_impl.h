/* Private layout of canto_linklocal, shared by linklocal.c (object, options,
 * start, status), presence_txt.c (XEP-0174 TXT records both ways), peers.c
 * (what the browser found), listener.c (accepting streams) and sessions.c
 * (streams with peers, routing sends). */
#ifndef CANTO_LINKLOCAL_LINKLOCAL_IMPL_H
#define CANTO_LINKLOCAL_LINKLOCAL_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <canto/linklocal.h>
#include "base/alloc.h"
#include "base/log.h"
#include "loop/loop.h"
#include "mdns/socket.h"

#define CANTO__LL_SERVICE "_presence._tcp"
#define CANTO__LL_MAX_WAITING 256 /* stanzas waiting for one peer's stream */

/* One peer as last announced; strings point into `txt_copy`/own buffers. */
typedef struct canto__ll_peer {
    char *name;
    char *host;
    uint16_t port;
    uint8_t *txt;
    uint16_t txt_len;
    canto__mdns_addr *addrs;
    size_t naddrs;
} canto__ll_peer;

/* A stanza waiting for its peer's stream to come up. */
typedef struct canto__ll_waiting {
    struct canto__ll_waiting *next;
    canto_stanza *stanza;
} canto__ll_waiting;

typedef struct canto__ll_session {
    struct canto__ll_session *next;
    canto_linklocal *ll;
    canto_client *client;
    unsigned listener_id;
    int incoming;
    int opened;                     /* OPENED was reported */
    int dead;                       /* CLOSED was reported; freed by the reaper */
    struct sockaddr_storage remote; /* receiver: where the stream came from */
    canto__ll_waiting *waiting, **waiting_tail;
    size_t nwaiting;
} canto__ll_session;

struct canto_linklocal {
    canto__alloc alloc;
    canto__log log;
    canto_loop *loop;
    canto_linklocal_options opts; /* strings below are our copies */
    char *name;                   /* "user@machine" as requested */
    char *published;              /* as announced after renames, or NULL before */
    char *user;                   /* the part before '@' */
    char *nick, *first, *last, *email, *jid, *msg, *caps_hash, *caps_node, *caps_ver, *host;
    char *cert_file, *key_file;
    canto_spki_pin *pins;
    size_t npins;
    char **interfaces;
    canto_ll_status status;
    char last_error[256];

    canto__mdns_io *mdns;
    unsigned handle; /* our service in the engine */
    int started;

    int listen_fd[2]; /* IPv6 (dual-stack) and IPv4, -1 when not open */
    canto__watch *listen_watch[2];
    uint16_t port;

    canto__ll_peer *peers;
    size_t npeers, peer_cap;
    char **addr_text; /* scratch for canto_ll_peer.addresses */
    size_t addr_text_n;
    char *txt_scratch[11];

    canto__ll_session *sessions;
    canto__timer reaper;

    int depth; /* nesting of callbacks into the application */
    int freed;
};

/* linklocal.c */
void canto__ll_set_error(canto_linklocal *ll, const char *fmt, ...) CANTO_PRINTF(2, 3);
void canto__ll_enter(canto_linklocal *ll);
/* 1 if the object was freed from a callback and is gone now. */
int canto__ll_leave(canto_linklocal *ll);

/* presence_txt.c */
/* Our TXT rdata (XEP-0174 §3) into @p txt (CANTO__MDNS_TXT_MAX bytes). */
int canto__ll_build_txt(const canto_linklocal *ll, uint8_t *txt, uint16_t *len);
/* Fill @p out from @p p; strings live in ll's scratch until the next call. */
int canto__ll_describe(canto_linklocal *ll, const canto__ll_peer *p, canto_ll_peer *out);
void canto__ll_describe_free(canto_linklocal *ll);

/* peers.c */
void canto__ll_on_service(void *ud, canto__mdns_svc_event ev, const canto__mdns_service *svc);
canto__ll_peer *canto__ll_find_peer(canto_linklocal *ll, const char *name);
void canto__ll_peers_free(canto_linklocal *ll);
/* 1 if @p addr is one of the addresses @p name announced. */
int canto__ll_peer_has_addr(canto_linklocal *ll, const char *name,
                            const struct sockaddr_storage *addr);

/* listener.c */
int canto__ll_listen(canto_linklocal *ll);
void canto__ll_listen_close(canto_linklocal *ll);

/* sessions.c */
/* A stream accepted from @p remote (fd handed over). */
void canto__ll_session_accepted(canto_linklocal *ll, int fd, const struct sockaddr_storage *remote);
/* The peer went away: close its sessions. */
void canto__ll_peer_gone(canto_linklocal *ll, const char *name);
void canto__ll_sessions_free(canto_linklocal *ll);

#endif
