/* Shared by plugins that answer one simple iq-get query and ask others the
 * same (Software Version, Entity Time): the answering handler with its disco
 * feature, the requests in flight, and freeing the plugin from inside one of
 * its own callbacks. Built from the public API only, so the plugins using it
 * stay public-API-only too. */
#ifndef CANTO_PLUGINS_COMMON_IQ_QUERY_H
#define CANTO_PLUGINS_COMMON_IQ_QUERY_H

#include <stdint.h>

#include <canto/client.h>
#include <canto/stanza.h>

/* A plugin's own typed result callback, stored untyped: only the plugin that
 * passed it in knows its real type and casts it back in its report function. */
typedef void (*canto__iq_query_cb)(void);

/* Hands one finished request to the application: @p resp is NULL when the
 * request was canceled because the plugin is being freed. @p jid is the
 * normalized address asked, borrowed for the call. */
typedef void (*canto__iq_query_report_fn)(void *owner, canto__iq_query_cb fn, void *user_data,
                                          const char *jid, const canto_iq_response *resp);

typedef struct canto__iq_query_req canto__iq_query_req;

/* Embedded in the plugin object (@p owner); all fields are private to
 * iq_query.c except `freed`, which the plugin reads to refuse new work. */
typedef struct canto__iq_query {
    canto_client *client;
    const char *name, *ns; /* the query element; static strings */
    void *owner;
    canto__iq_query_report_fn report;
    void (*destroy)(void *owner);
    unsigned handler_id;
    canto__iq_query_req *requests;
    int depth, freed;
} canto__iq_query;

/* Registers @p on_get (called with @p owner) for iq gets carrying <name xmlns=ns/>
 * and announces @p ns. On failure nothing stays registered and the plugin
 * frees @p owner itself. */
int canto__iq_query_init(canto__iq_query *q, canto_client *client, const char *name, const char *ns,
                         canto_handler_fn on_get, void *owner, canto__iq_query_report_fn report,
                         void (*destroy)(void *owner));

/* Unregisters, reports every request in flight as canceled, and destroys the
 * owner now or, inside one of its callbacks, when that returns. */
void canto__iq_query_free(canto__iq_query *q);

/* Sends <iq type='get' to=jid><name xmlns=ns/></iq>; the answer goes to the
 * report function with @p fn and @p user_data. */
int canto__iq_query_send(canto__iq_query *q, const char *jid, uint32_t timeout_ms,
                         canto__iq_query_cb fn, void *user_data, unsigned *handle);

/* Forgets the request: its callback is not called. CANTO_ENOTFOUND if unknown. */
int canto__iq_query_cancel(canto__iq_query *q, unsigned handle);

/* For a well-formed query @p req (an iq get with an id and <name xmlns=ns/>):
 * a result addressed to its sender, with an empty <name xmlns=ns/> in
 * *child for the plugin to fill. The caller owns *reply. CANTO_EINVAL for
 * anything else, so that the client's default error answer goes out. */
int canto__iq_query_new_reply(const canto_stanza *req, const char *name, const char *ns,
                              canto_stanza **reply, canto_stanza **child);

/* Appends <name>text</name> in the parent's namespace. */
int canto__iq_query_add_text(canto_stanza *parent, const char *name, const char *text);

#endif
