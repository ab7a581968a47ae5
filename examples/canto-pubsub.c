/* canto-pubsub: publish to, read from, and follow a publish-subscribe node
 * (XEP-0060), or the account's own PEP node (XEP-0163) with SERVICE "-". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/canto.h>
#include <canto/pubsub.h>

#include "cli.h"

static const char usage[] =
    "usage: canto-pubsub [options] publish SERVICE NODE ITEM-ID TEXT\n"
    "       canto-pubsub [options] items SERVICE NODE\n"
    "       canto-pubsub [options] subscribe SERVICE NODE\n"
    "SERVICE is a pubsub service JID (e.g. pubsub.example.org), or - for the\n"
    "account's own PEP service.\n"
    "  publish    publishes <entry xmlns='urn:canto:example'>TEXT</entry> as\n"
    "             item ITEM-ID and prints the item id the service kept.\n"
    "  items      prints every item of NODE: ITEM-ID<TAB>PAYLOAD-XML per line.\n"
    "  subscribe  subscribes and prints each event until SIGINT, one per line:\n"
    "             item<TAB>ITEM-ID<TAB>PAYLOAD-XML, retract<TAB>ITEM-ID, purge,\n"
    "             delete, configuration; then unsubscribes.\n"
    "Exit: 0 done, 1 usage, 2 DNS/connection, 3 TLS verification,\n"
    "      4 authentication, 5 other XMPP error (e.g. the request was refused).\n"
    "Options:\n";

#define PROG "canto-pubsub"
#define NS_EXAMPLE "urn:canto:example"

enum command { PUBLISH, ITEMS, SUBSCRIBE };

typedef struct run {
    enum command cmd;
    const char *service; /* NULL: own PEP service */
    const char *node, *item_id, *text;
    canto_client *client;
    canto_pubsub *ps;
    int subscribed;
    int finished; /* the work is over: disconnect */
    int done;     /* disconnected for good */
    int exit_code;
} run;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Print @p el as XML on the current line (nothing for NULL). */
static void print_xml(const canto_stanza *el)
{
    char *xml = NULL;
    size_t len = 0;
    if (el && canto_stanza_to_string(el, &xml, &len) == 0)
        fwrite(xml, 1, len, stdout);
    canto_free(xml);
}

/* 1 if @p r is a result; else a message on stderr and the XMPP exit code. */
static int succeeded(run *rn, const char *what, const canto_pubsub_result *r)
{
    const canto_iq_response *resp = r->response;
    if (resp->outcome == CANTO_IQ_RESULT)
        return 1;
    const char *why = resp->outcome == CANTO_IQ_ERROR
                          ? canto_error_condition_name(resp->error.condition)
                      : resp->outcome == CANTO_IQ_TIMEOUT ? "timed out"
                                                          : "cancelled";
    fprintf(stderr, PROG ": %s failed: %s%s%s\n", what, why ? why : "unknown error",
            resp->error.text ? ": " : "", resp->error.text ? resp->error.text : "");
    if (rn->exit_code == CLI_OK)
        rn->exit_code = CLI_XMPP;
    return 0;
}

static void on_published(void *ud, canto_pubsub *ps, const canto_pubsub_result *r)
{
    run *rn = ud;
    (void)ps;
    if (succeeded(rn, "publish", r))
        printf("%s\n", r->n_items && r->items[0].id ? r->items[0].id : "");
    rn->finished = 1;
}

static void on_items(void *ud, canto_pubsub *ps, const canto_pubsub_result *r)
{
    run *rn = ud;
    (void)ps;
    if (succeeded(rn, "retrieving items", r)) {
        for (size_t i = 0; i < r->n_items; i++) {
            printf("%s\t", r->items[i].id ? r->items[i].id : "");
            print_xml(r->items[i].payload);
            putchar('\n');
        }
    }
    rn->finished = 1;
}

static void on_subscribed(void *ud, canto_pubsub *ps, const canto_pubsub_result *r)
{
    run *rn = ud;
    (void)ps;
    if (succeeded(rn, "subscribe", r)) {
        rn->subscribed = 1;
        fprintf(stderr, PROG ": subscribed to %s on %s (%s)\n", rn->node,
                rn->service ? rn->service : "own PEP service",
                r->n_subscriptions && r->subscriptions[0].state ? r->subscriptions[0].state
                                                                : "subscribed");
    } else {
        rn->finished = 1;
    }
}

static void on_unsubscribed(void *ud, canto_pubsub *ps, const canto_pubsub_result *r)
{
    run *rn = ud;
    (void)ps;
    succeeded(rn, "unsubscribe", r);
    rn->finished = 1;
}

static void on_event(void *ud, canto_pubsub *ps, const canto_pubsub_event *ev)
{
    (void)ud;
    (void)ps;
    switch (ev->type) {
    case CANTO_PUBSUB_EVENT_ITEMS:
        for (size_t i = 0; i < ev->n_items; i++) {
            printf("item\t%s\t", ev->items[i].id ? ev->items[i].id : "");
            print_xml(ev->items[i].payload);
            putchar('\n');
        }
        break;
    case CANTO_PUBSUB_EVENT_RETRACT:
        for (size_t i = 0; i < ev->n_items; i++)
            printf("retract\t%s\n", ev->items[i].id);
        break;
    case CANTO_PUBSUB_EVENT_PURGE:
        printf("purge\n");
        break;
    case CANTO_PUBSUB_EVENT_DELETE:
        printf("delete\n");
        break;
    case CANTO_PUBSUB_EVENT_CONFIGURATION:
        printf("configuration\n");
        break;
    }
    fflush(stdout);
}

/* Start the command once connected. @return 0 or a CANTO_E* code. */
static int start(run *rn)
{
    switch (rn->cmd) {
    case PUBLISH: {
        canto_stanza *entry;
        int rc = canto_stanza_new(NULL, "entry", NS_EXAMPLE, &entry);
        if (rc == 0)
            rc = canto_stanza_set_text(entry, rn->text);
        if (rc == 0)
            rc = canto_pubsub_publish(rn->ps, rn->service, rn->node, rn->item_id, entry, NULL,
                                      on_published, rn);
        canto_stanza_free(entry);
        return rc;
    }
    case ITEMS:
        return canto_pubsub_get_items(rn->ps, rn->service, rn->node, NULL, 0, 0, on_items, rn);
    case SUBSCRIBE:
        /* Notifications go to the bare JID, so to available resources. */
        cli_announce(PROG, rn->client);
        return canto_pubsub_subscribe(rn->ps, rn->service, rn->node, NULL, NULL, on_subscribed, rn);
    }
    return CANTO_EINVAL;
}

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    run *rn = ud;
    if (st == CANTO_CLIENT_CONNECTED) {
        int rc = start(rn);
        if (rc) {
            fprintf(stderr, PROG ": cannot send the request: %s\n", canto_strerror(rc));
            rn->exit_code = CLI_XMPP;
            rn->finished = 1;
        }
    } else if (st == CANTO_CLIENT_DISCONNECTED) {
        rn->done = 1;
        if (info && info->error && rn->exit_code == CLI_OK && !rn->finished)
            rn->exit_code = cli_report(PROG, info);
    }
    (void)c;
}

static int parse_command(run *rn, int argc, char **argv)
{
    if (argc < 3)
        return -1;
    const char *name = argv[0];
    rn->service = strcmp(argv[1], "-") == 0 ? NULL : argv[1];
    rn->node = argv[2];
    if (strcmp(name, "publish") == 0 && argc == 5) {
        rn->cmd = PUBLISH;
        rn->item_id = argv[3];
        rn->text = argv[4];
    } else if (strcmp(name, "items") == 0 && argc == 3) {
        rn->cmd = ITEMS;
    } else if (strcmp(name, "subscribe") == 0 && argc == 3) {
        rn->cmd = SUBSCRIBE;
    } else {
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli_conn conn;
    run rn = {0};
    int first = cli_parse(argc, argv, &conn);
    if (first < 0 || parse_command(&rn, argc - first, argv + first) != 0) {
        fprintf(stderr, "%s%s", usage, cli_conn_usage);
        return CLI_USAGE;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    canto_loop *loop = NULL;
    canto_client_options opts;
    cli_client_options(&conn, &opts);
    opts.reconnect = CANTO_RECONNECT_MANUAL;
    int rc = canto_loop_new(NULL, &loop);
    if (rc == 0)
        rc = canto_client_new(loop, conn.jid, &opts, &rn.client);
    if (rc == 0)
        rc = canto_client_set_state_callback(rn.client, on_state, &rn);
    if (rc == 0)
        rc = canto_pubsub_new(rn.client, &rn.ps);
    if (rc == 0 && rn.cmd == SUBSCRIBE) {
        rc = rn.service ? canto_pubsub_watch(rn.ps, rn.service, rn.node, on_event, &rn, NULL)
                        : canto_pubsub_watch_pep(rn.ps, rn.node, on_event, &rn, NULL);
    }
    if (rc == 0)
        rc = canto_client_connect(rn.client);
    if (rc) {
        fprintf(stderr, PROG ": %s\n", canto_strerror(rc));
        rn.exit_code = rc == CANTO_EJID_LOCAL || rc == CANTO_EJID_DOMAIN ||
                               rc == CANTO_EJID_RESOURCE || rc == CANTO_EINVAL
                           ? CLI_USAGE
                           : CLI_CONNECT;
        rn.done = 1;
    }
    int closing = 0, unsubscribing = 0;
    while (!rn.done) {
        if (stop_requested && !rn.finished && !unsubscribing) {
            unsubscribing = 1;
            if (!rn.subscribed || canto_pubsub_unsubscribe(rn.ps, rn.service, rn.node, NULL, NULL,
                                                           on_unsubscribed, &rn) != 0)
                rn.finished = 1;
        }
        if (rn.finished && !closing) {
            closing = 1;
            fflush(stdout);
            if (canto_client_disconnect(rn.client) != 0)
                break;
        }
        canto_loop_run_once(loop, 100);
    }
    canto_pubsub_free(rn.ps);
    canto_client_free(rn.client);
    canto_loop_free(loop);
    memset(conn.password, 0, sizeof(conn.password));
    return rn.exit_code;
}
