/* uv-echo: canto-echo driven by a libuv loop through the header-only adapter
 * <canto/adapters/libuv.h>. Logs in, announces presence, prints each chat or
 * normal message as FROM<TAB>BODY and sends the body back to its sender.
 * SIGINT or SIGTERM (uv_signal_t) closes the stream and exits 0; a second
 * signal exits at once. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include <canto/adapters/libuv.h>
#include <canto/canto.h>

#include "cli.h"

static const char usage[] = "usage: uv-echo [options]\n"
                            "Prints FROM<TAB>BODY for each message and echoes it back,\n"
                            "running on a libuv loop.\n"
                            "Exits 0 on SIGINT/SIGTERM after closing the stream.\n"
                            "Options:\n";

typedef struct app {
    uv_loop_t *uv;
    canto_client *client;
    uv_signal_t sigint, sigterm; /* data: the app */
    int stopping;                /* a signal asked to close */
    int exit_code;
} app;

static int on_message(void *ud, canto_client *c, canto_stanza *st)
{
    (void)ud;
    return cli_echo_message("uv-echo", c, st);
}

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    app *a = ud;
    if (st == CANTO_CLIENT_CONNECTED) {
        cli_announce("uv-echo", c);
    } else if (st == CANTO_CLIENT_DISCONNECTED &&
               cli_disconnected("uv-echo", a->stopping, info, &a->exit_code)) {
        /* The client is freed after uv_run() returns, not here. */
        uv_stop(a->uv);
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    app *a = h->data;
    if (a->stopping) {
        /* Second signal: do not wait for the server any longer. */
        uv_stop(a->uv);
        return;
    }
    a->stopping = 1;
    a->exit_code = CLI_OK;
    /* CANTO_ESTATE: already disconnected, nothing to close. */
    if (canto_client_disconnect(a->client) != 0)
        uv_stop(a->uv);
}

int main(int argc, char **argv)
{
    cli_conn conn;
    int first = cli_parse(argc, argv, &conn);
    if (first < 0 || first != argc) {
        fprintf(stderr, "%s%s", usage, cli_conn_usage);
        return CLI_USAGE;
    }

    uv_loop_t uv;
    if (uv_loop_init(&uv) != 0) {
        fprintf(stderr, "uv-echo: cannot create the libuv loop\n");
        return CLI_USAGE;
    }
    app a;
    memset(&a, 0, sizeof(a));
    a.uv = &uv;
    a.exit_code = CLI_OK;
    canto_client_options opts;
    cli_client_options(&conn, &opts);
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "message";

    canto_uv_loop *u = NULL;
    int rc = canto_uv_loop_new(&uv, NULL, &u);
    if (rc == 0)
        rc = canto_client_new(canto_uv_loop_get(u), conn.jid, &opts, &a.client);
    if (rc == 0)
        rc = canto_client_set_state_callback(a.client, on_state, &a);
    if (rc == 0)
        rc = canto_client_add_handler(a.client, &m, on_message, &a, NULL);
    if (rc == 0)
        rc = canto_client_connect(a.client);
    uv_signal_init(&uv, &a.sigint);
    uv_signal_init(&uv, &a.sigterm);
    a.sigint.data = a.sigterm.data = &a;
    if (rc) {
        fprintf(stderr, "uv-echo: %s\n", canto_strerror(rc));
        a.exit_code = CLI_USAGE;
    } else {
        uv_signal_start(&a.sigint, on_signal, SIGINT);
        uv_signal_start(&a.sigterm, on_signal, SIGTERM);
        uv_run(&uv, UV_RUN_DEFAULT);
    }

    /* Everything attached to the Canto loop goes before the adapter; the
     * adapter's handles and ours are released by close callbacks, which the
     * last uv_run() runs. */
    canto_client_free(a.client);
    canto_uv_loop_free(u);
    uv_close((uv_handle_t *)&a.sigint, NULL);
    uv_close((uv_handle_t *)&a.sigterm, NULL);
    uv_run(&uv, UV_RUN_DEFAULT);
    rc = uv_loop_close(&uv);
    if (rc != 0)
        fprintf(stderr, "uv-echo: libuv loop not closed cleanly: %s\n", uv_strerror(rc));
    memset(conn.password, 0, sizeof(conn.password));
    return a.exit_code;
}
