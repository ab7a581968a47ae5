/* canto-send: log in, send one chat message, and exit 0 only once the server
 * has confirmed it holds the message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <canto/canto.h>

#include "cli.h"

static const char usage[] = "usage: canto-send [options] RECIPIENT [TEXT...]\n"
                            "Sends TEXT (or standard input) to RECIPIENT as a chat message.\n"
                            "Exit: 0 sent, 1 usage, 2 DNS/connection, 3 TLS verification,\n"
                            "      4 authentication, 5 other XMPP error.\n"
                            "Options:\n";

typedef struct run {
    canto_loop *loop;
    const char *to;
    const char *body;
    int confirmed;
    int exit_code;
} run;

/* The server confirmed it holds the message: an XEP-0198 ack, or (without
 * stream management) its answer to a ping sent right after the message. */
static void on_delivery(void *ud, canto_client *c, uint64_t token, int status)
{
    run *r = ud;
    (void)token;
    if (status == 0) {
        r->confirmed = 1;
    } else {
        fprintf(stderr, "canto-send: the message was not confirmed: %s\n", canto_strerror(status));
        r->exit_code = CLI_XMPP;
    }
    canto_client_disconnect(c);
}

static void send_message(run *r, canto_client *c)
{
    canto_stanza *msg = NULL;
    int rc = canto_stanza_new_message(NULL, "chat", r->to, NULL, r->body, &msg);
    if (rc == 0)
        rc = canto_client_set_delivery_callback(c, on_delivery, r);
    if (rc == 0)
        rc = canto_client_send_tracked(c, msg, 1);
    if (rc) {
        fprintf(stderr, "canto-send: could not send: %s\n", canto_strerror(rc));
        r->exit_code = rc == CANTO_EINVAL || rc == CANTO_EUTF8 ? CLI_USAGE : CLI_XMPP;
        canto_client_disconnect(c);
    }
    canto_stanza_free(msg);
}

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    run *r = ud;
    if (st == CANTO_CLIENT_CONNECTED) {
        send_message(r, c);
    } else if (st == CANTO_CLIENT_DISCONNECTED) {
        if (r->confirmed)
            r->exit_code = CLI_OK;
        else if (r->exit_code == CLI_OK)
            r->exit_code = info && info->error ? cli_report("canto-send", info) : CLI_XMPP;
        canto_loop_stop(r->loop);
    }
}

static char *read_all(FILE *f)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *b = realloc(buf, cap *= 2);
            if (!b)
                free(buf);
            buf = b;
        }
    }
    if (buf) {
        buf[len] = '\0';
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
    }
    return buf;
}

static char *join(int n, char **words)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(words[i]) + 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, words[i]);
    }
    return s;
}

int main(int argc, char **argv)
{
    cli_conn conn;
    int first = cli_parse(argc, argv, &conn);
    if (first < 0 || first >= argc) {
        fprintf(stderr, "%s%s", usage, cli_conn_usage);
        return CLI_USAGE;
    }
    run r = {0};
    r.to = argv[first];
    char *text = first + 1 < argc ? join(argc - first - 1, argv + first + 1) : read_all(stdin);
    if (!text) {
        fprintf(stderr, "canto-send: out of memory\n");
        return CLI_XMPP;
    }
    r.body = text;
    canto_jid *to;
    if (canto_jid_parse(NULL, r.to, &to) != 0) {
        fprintf(stderr, "canto-send: not a valid JID: %s\n", r.to);
        free(text);
        return CLI_USAGE;
    }
    canto_jid_free(to);

    canto_client_options opts;
    cli_client_options(&conn, &opts);
    opts.reconnect = CANTO_RECONNECT_MANUAL; /* one attempt: report, don't wait around */
    canto_client *client = NULL;
    int rc = canto_loop_new(NULL, &r.loop);
    if (rc == 0)
        rc = canto_client_new(r.loop, conn.jid, &opts, &client);
    if (rc == 0)
        rc = canto_client_set_state_callback(client, on_state, &r);
    if (rc == 0)
        rc = canto_client_connect(client);
    if (rc) {
        fprintf(stderr, "canto-send: %s\n", canto_strerror(rc));
        r.exit_code = rc == CANTO_EJID_LOCAL || rc == CANTO_EJID_DOMAIN || rc == CANTO_EJID_RESOURCE
                          ? CLI_USAGE
                          : CLI_CONNECT;
    } else {
        canto_loop_run(r.loop);
    }
    canto_client_free(client);
    canto_loop_free(r.loop);
    memset(conn.password, 0, sizeof(conn.password));
    free(text);
    return r.exit_code;
}
