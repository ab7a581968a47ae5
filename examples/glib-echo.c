/* glib-echo: canto-echo driven by a GLib main loop through the header-only
 * adapter <canto/adapters/glib.h>. Logs in, announces presence, prints each
 * chat or normal message as FROM<TAB>BODY and sends the body back to its
 * sender. SIGINT or SIGTERM (g_unix_signal_add) closes the stream and exits 0;
 * a second signal exits at once. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>
#include <glib.h>

#include <canto/adapters/glib.h>
#include <canto/canto.h>

#include "cli.h"

static const char usage[] = "usage: glib-echo [options]\n"
                            "Prints FROM<TAB>BODY for each message and echoes it back,\n"
                            "running on a GLib main loop.\n"
                            "Exits 0 on SIGINT/SIGTERM after closing the stream.\n"
                            "Options:\n";

typedef struct app {
    GMainLoop *main_loop;
    canto_client *client;
    int stopping; /* a signal asked to close */
    int exit_code;
} app;

static int on_message(void *ud, canto_client *c, canto_stanza *st)
{
    (void)ud;
    return cli_echo_message("glib-echo", c, st);
}

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    app *a = ud;
    if (st == CANTO_CLIENT_CONNECTED) {
        cli_announce("glib-echo", c);
    } else if (st == CANTO_CLIENT_DISCONNECTED &&
               cli_disconnected("glib-echo", a->stopping, info, &a->exit_code)) {
        /* The client is freed after g_main_loop_run() returns, not here. */
        g_main_loop_quit(a->main_loop);
    }
}

static gboolean on_signal(gpointer ud)
{
    app *a = ud;
    if (a->stopping) {
        /* Second signal: do not wait for the server any longer. */
        g_main_loop_quit(a->main_loop);
        return G_SOURCE_CONTINUE;
    }
    a->stopping = 1;
    a->exit_code = CLI_OK;
    /* CANTO_ESTATE: already disconnected, nothing to close. */
    if (canto_client_disconnect(a->client) != 0)
        g_main_loop_quit(a->main_loop);
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    cli_conn conn;
    int first = cli_parse(argc, argv, &conn);
    if (first < 0 || first != argc) {
        fprintf(stderr, "%s%s", usage, cli_conn_usage);
        return CLI_USAGE;
    }

    app a = {NULL, NULL, 0, CLI_OK};
    canto_client_options opts;
    cli_client_options(&conn, &opts);
    canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
    m.name = "message";

    /* The adapter attaches to the default main context, like the loop. */
    a.main_loop = g_main_loop_new(NULL, FALSE);
    canto_glib_loop *g = NULL;
    int rc = canto_glib_loop_new(NULL, NULL, &g);
    if (rc == 0)
        rc = canto_client_new(canto_glib_loop_get(g), conn.jid, &opts, &a.client);
    if (rc == 0)
        rc = canto_client_set_state_callback(a.client, on_state, &a);
    if (rc == 0)
        rc = canto_client_add_handler(a.client, &m, on_message, &a, NULL);
    if (rc == 0)
        rc = canto_client_connect(a.client);
    if (rc) {
        fprintf(stderr, "glib-echo: %s\n", canto_strerror(rc));
        a.exit_code = CLI_USAGE;
    } else {
        guint sigint = g_unix_signal_add(SIGINT, on_signal, &a);
        guint sigterm = g_unix_signal_add(SIGTERM, on_signal, &a);
        g_main_loop_run(a.main_loop);
        g_source_remove(sigint);
        g_source_remove(sigterm);
    }

    /* Everything attached to the Canto loop goes before the adapter. */
    canto_client_free(a.client);
    canto_glib_loop_free(g);
    g_main_loop_unref(a.main_loop);
    memset(conn.password, 0, sizeof(conn.password));
    return a.exit_code;
}
