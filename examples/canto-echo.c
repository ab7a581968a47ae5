/* canto-echo: log in, announce presence, print each chat or normal message as
 * FROM<TAB>BODY and send the body back to its sender. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <canto/canto.h>

#include "cli.h"

static const char usage[] = "usage: canto-echo [options]\n"
                            "Prints FROM<TAB>BODY for each message and echoes it back.\n"
                            "Exits 0 on SIGINT/SIGTERM after closing the stream.\n"
                            "Options:\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct run {
    int connected_once;
    int done;
    int exit_code;
} run;

static int on_message(void *ud, canto_client *c, canto_stanza *st)
{
    (void)ud;
    return cli_echo_message("canto-echo", c, st);
}

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    run *r = ud;
    if (st == CANTO_CLIENT_CONNECTED) {
        r->connected_once = 1;
        cli_announce("canto-echo", c);
    } else if (st == CANTO_CLIENT_DISCONNECTED) {
        r->done = cli_disconnected("canto-echo", stop_requested, info, &r->exit_code);
    }
}

int main(int argc, char **argv)
{
    cli_conn conn;
    int first = cli_parse(argc, argv, &conn);
    if (first < 0 || first != argc) {
        fprintf(stderr, "%s%s", usage, cli_conn_usage);
        return CLI_USAGE;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    run r = {0, 0, CLI_OK};
    canto_client_options opts;
    cli_client_options(&conn, &opts);
    canto_loop *loop = NULL;
    canto_client *client = NULL;
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "message";
    int rc = canto_loop_new(NULL, &loop);
    if (rc == 0)
        rc = canto_client_new(loop, conn.jid, &opts, &client);
    if (rc == 0)
        rc = canto_client_set_state_callback(client, on_state, &r);
    if (rc == 0)
        rc = canto_client_add_handler(client, &m, on_message, &r, NULL);
    if (rc == 0)
        rc = canto_client_connect(client);
    if (rc) {
        fprintf(stderr, "canto-echo: %s\n", canto_strerror(rc));
        r.exit_code = CLI_USAGE;
        r.done = 1;
    }
    int closing = 0;
    /* A short wait lets the signal flag be seen promptly without a signal fd. */
    while (!r.done) {
        if (stop_requested && !closing) {
            closing = 1;
            if (canto_client_disconnect(client) != 0)
                break;
        }
        canto_loop_run_once(loop, 200);
    }
    canto_client_free(client);
    canto_loop_free(loop);
    memset(conn.password, 0, sizeof(conn.password));
    return r.exit_code;
}
