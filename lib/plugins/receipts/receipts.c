/* Message Delivery Receipts (XEP-0184): automatic answers, automatic
 * requests through a send filter, and a callback for receipts. Public API
 * only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <canto/error.h>
#include <canto/receipts.h>

/* Observes messages without consuming them; runs before ordinary handlers so
 * that one of those consuming a message does not hide its request. */
#define HANDLER_PRIORITY 100

struct canto_receipts {
    canto_client *client;
    unsigned handler_id, filter_id;
    int auto_request, auto_answer;
    canto_receipts_fn fn;
    void *ud;
    canto_receipts_allow_fn allow_fn;
    void *allow_ud;
};

static int type_is(const canto_stanza *st, const char *type)
{
    const char *t = canto_stanza_attr(st, "type");
    return t && strcmp(t, type) == 0;
}

static int is_receipt(const canto_stanza *msg)
{
    return canto_stanza_child(msg, "received", CANTO_NS_RECEIPTS) != NULL;
}

/* --- stanza helpers ------------------------------------------------------- */

int canto_receipts_add_request(canto_stanza *message)
{
    if (!canto_stanza_is(message, "message", NULL) || !canto_stanza_attr(message, "id") ||
        type_is(message, "error") || is_receipt(message))
        return CANTO_EINVAL;
    if (canto_stanza_child(message, "request", CANTO_NS_RECEIPTS))
        return 0;
    return canto_stanza_add_child(message, "request", CANTO_NS_RECEIPTS, NULL);
}

static void random_id(char *buf, size_t cap)
{
    unsigned char b[9];
    if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
        /* Nothing depends on these ids being unpredictable; the clock will do. */
        struct timespec ts = {0, 0};
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(buf, cap, "r%llx%lx", (unsigned long long)ts.tv_sec, (unsigned long)ts.tv_nsec);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (size_t i = 0; i < sizeof(b) && n + 2 < cap; i++) {
        buf[n++] = hex[b[i] >> 4];
        buf[n++] = hex[b[i] & 15];
    }
    buf[n] = '\0';
}

int canto_receipts_make_receipt(const canto_stanza *message, canto_stanza **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!canto_stanza_is(message, "message", NULL))
        return CANTO_EINVAL;
    if (!canto_stanza_child(message, "request", CANTO_NS_RECEIPTS))
        return CANTO_ENOTFOUND;
    const char *from = canto_stanza_attr(message, "from");
    if (!from || type_is(message, "error") || type_is(message, "groupchat") || is_receipt(message))
        return CANTO_EINVAL;
    const char *id = canto_stanza_attr(message, "id");
    if (!id || !*id)
        return CANTO_ENOTFOUND;
    char own_id[24];
    random_id(own_id, sizeof(own_id));
    canto_stanza *reply, *received;
    int rc = canto_stanza_new_message(NULL, type_is(message, "chat") ? "chat" : NULL, from, own_id,
                                      NULL, &reply);
    if (rc)
        return rc;
    rc = canto_stanza_add_child(reply, "received", CANTO_NS_RECEIPTS, &received);
    if (rc == 0)
        rc = canto_stanza_set_attr(received, "id", id);
    if (rc) {
        canto_stanza_free(reply);
        return rc;
    }
    *out = reply;
    return 0;
}

int canto_receipts_get_received(const canto_stanza *message, const char **id)
{
    if (!message || !id)
        return CANTO_EINVAL;
    *id = NULL;
    const canto_stanza *r = canto_stanza_child(message, "received", CANTO_NS_RECEIPTS);
    if (!r || type_is(message, "error"))
        return CANTO_ENOTFOUND;
    const char *v = canto_stanza_attr(r, "id");
    if (!v || !*v)
        return CANTO_ENOTFOUND;
    *id = v;
    return 0;
}

/* --- the client side ------------------------------------------------------ */

static int on_message(void *ud, canto_client *client, canto_stanza *st)
{
    canto_receipts *r = ud;
    canto_stanza *reply = NULL;
    if (r->auto_answer && canto_receipts_make_receipt(st, &reply) == 0) {
        if (r->allow_fn && !r->allow_fn(r->allow_ud, r, st)) {
            canto_stanza_free(reply);
            reply = NULL;
        }
    }
    if (reply) {
        canto_client_send(client, reply);
        canto_stanza_free(reply);
    }
    const char *id;
    if (r->fn && canto_receipts_get_received(st, &id) == 0)
        r->fn(r->ud, r, canto_stanza_attr(st, "from"), id, st); /* r may be gone now */
    return 0;
}

static int on_send(void *ud, canto_client *client, canto_stanza *st)
{
    canto_receipts *r = ud;
    (void)client;
    if (r->auto_request && canto_stanza_is(st, "message", NULL) &&
        canto_stanza_child(st, "body", NULL) && !type_is(st, "groupchat") &&
        !canto_stanza_child(st, "request", CANTO_NS_RECEIPTS))
        canto_receipts_add_request(st); /* refuses errors, receipts and id-less messages */
    return 0;
}

int canto_receipts_new(canto_client *client, canto_receipts **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!client)
        return CANTO_EINVAL;
    canto_receipts *r = calloc(1, sizeof(*r));
    if (!r)
        return CANTO_ENOMEM;
    r->client = client;
    r->auto_answer = 1;
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "message";
    m.priority = HANDLER_PRIORITY;
    int rc = canto_client_add_handler(client, &m, on_message, r, &r->handler_id);
    if (rc == 0) {
        rc = canto_client_add_send_filter(client, on_send, r, &r->filter_id);
        if (rc)
            canto_client_remove_handler(client, r->handler_id);
    }
    if (rc == 0) {
        rc = canto_client_add_feature(client, CANTO_NS_RECEIPTS);
        if (rc) {
            canto_client_remove_handler(client, r->handler_id);
            canto_client_remove_send_filter(client, r->filter_id);
        }
    }
    if (rc) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void canto_receipts_free(canto_receipts *r)
{
    if (!r)
        return;
    canto_client_remove_handler(r->client, r->handler_id);
    canto_client_remove_send_filter(r->client, r->filter_id);
    canto_client_remove_feature(r->client, CANTO_NS_RECEIPTS);
    free(r);
}

int canto_receipts_set_callback(canto_receipts *r, canto_receipts_fn fn, void *ud)
{
    if (!r)
        return CANTO_EINVAL;
    r->fn = fn;
    r->ud = ud;
    return 0;
}

int canto_receipts_set_answer_filter(canto_receipts *r, canto_receipts_allow_fn fn, void *ud)
{
    if (!r)
        return CANTO_EINVAL;
    r->allow_fn = fn;
    r->allow_ud = ud;
    return 0;
}

int canto_receipts_set_auto_request(canto_receipts *r, int on)
{
    if (!r)
        return CANTO_EINVAL;
    r->auto_request = on != 0;
    return 0;
}

int canto_receipts_set_auto_answer(canto_receipts *r, int on)
{
    if (!r)
        return CANTO_EINVAL;
    r->auto_answer = on != 0;
    return 0;
}
