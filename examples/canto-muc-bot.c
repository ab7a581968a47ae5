/* canto-muc-bot: join a room (creating it as an instant room if needed),
 * print each live room message as ROOM<TAB>NICK<TAB>BODY, answer "!ping"
 * with "pong" and greet everyone who joins after us. The MUC plugin joins
 * the room again after a reconnect that started a new session. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <canto/canto.h>
#include <canto/muc.h>

#include "cli.h"

static const char usage[] = "usage: canto-muc-bot [options] ROOM@SERVICE NICK\n"
                            "Prints ROOM<TAB>NICK<TAB>BODY for each room message, answers\n"
                            "!ping with pong and greets joiners. Exits 0 on SIGINT/SIGTERM\n"
                            "after leaving the room, 5 if the room cannot be joined.\n"
                            "Options:\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct run {
    const char *room;
    const char *nick;
    canto_muc *muc;
    int joined_once;
    int done;
    int exit_code;
} run;

static void on_join(void *ud, canto_muc *muc, const canto_muc_join_result *res)
{
    run *r = ud;
    (void)muc;
    if (res->status == CANTO_MUC_JOIN_OK) {
        fprintf(stderr, "canto-muc-bot: joined %s as %s%s\n", res->room_jid, res->nick,
                res->created ? " (created)" : "");
        return;
    }
    fprintf(stderr, "canto-muc-bot: cannot join %s: %s%s%s\n", res->room_jid,
            canto_muc_join_status_name(res->status), res->error && res->error->text ? ": " : "",
            res->error && res->error->text ? res->error->text : "");
    r->exit_code = CLI_XMPP;
    stop_requested = 1;
}

static void on_event(void *ud, canto_muc *muc, const canto_muc_event *ev)
{
    run *r = ud;
    switch (ev->type) {
    case CANTO_MUC_EV_MESSAGE:
        if (ev->delayed || !ev->body)
            break;
        printf("%s\t%s\t%s\n", ev->room_jid, ev->nick ? ev->nick : "", ev->body);
        fflush(stdout);
        if (!ev->self && strcmp(ev->body, "!ping") == 0)
            canto_muc_send_message(muc, ev->room_jid, "pong");
        break;
    case CANTO_MUC_EV_OCCUPANT_JOINED:
        /* occupants reported while we join were there before us */
        if (!ev->self && canto_muc_room_joined(ev->room)) {
            char greeting[256];
            snprintf(greeting, sizeof(greeting), "Hello %s", ev->occupant->nick);
            canto_muc_send_message(muc, ev->room_jid, greeting);
        }
        break;
    case CANTO_MUC_EV_LEFT_ROOM:
        fprintf(stderr, "canto-muc-bot: out of %s\n", ev->room_jid);
        if (!stop_requested)
            r->exit_code = CLI_XMPP;
        stop_requested = 1;
        break;
    case CANTO_MUC_EV_REJOINED:
        fprintf(stderr, "canto-muc-bot: rejoined %s: %s\n", ev->room_jid,
                canto_muc_join_status_name(ev->join->status));
        if (ev->join->status != CANTO_MUC_JOIN_OK) {
            r->exit_code = CLI_XMPP;
            stop_requested = 1;
        }
        break;
    default:
        break;
    }
}

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    run *r = ud;
    if (st == CANTO_CLIENT_CONNECTED) {
        cli_announce("canto-muc-bot", c);
        if (!r->joined_once) {
            r->joined_once = 1;
            canto_muc_join_options o = CANTO_MUC_JOIN_OPTIONS_INIT;
            o.history_maxstanzas = 0;
            o.create_instant = 1;
            int rc = canto_muc_join(r->muc, r->room, r->nick, &o, on_join, r, NULL);
            if (rc != 0) {
                fprintf(stderr, "canto-muc-bot: join: %s\n", canto_strerror(rc));
                r->exit_code = CLI_USAGE;
                stop_requested = 1;
            }
        }
    } else if (st == CANTO_CLIENT_DISCONNECTED) {
        int code = CLI_OK;
        r->done = cli_disconnected("canto-muc-bot", stop_requested, info, &code);
        if (r->done && r->exit_code == CLI_OK)
            r->exit_code = code;
    }
}

int main(int argc, char **argv)
{
    cli_conn conn;
    int first = cli_parse(argc, argv, &conn);
    if (first < 0 || argc - first != 2) {
        fprintf(stderr, "%s%s", usage, cli_conn_usage);
        return CLI_USAGE;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    run r = {argv[first], argv[first + 1], NULL, 0, 0, CLI_OK};
    canto_client_options opts;
    cli_client_options(&conn, &opts);
    canto_loop *loop = NULL;
    canto_client *client = NULL;
    int rc = canto_loop_new(NULL, &loop);
    if (rc == 0)
        rc = canto_client_new(loop, conn.jid, &opts, &client);
    if (rc == 0)
        rc = canto_muc_new(client, loop, &r.muc);
    if (rc == 0)
        rc = canto_muc_set_callback(r.muc, on_event, &r);
    if (rc == 0)
        rc = canto_muc_set_self_ping(r.muc, 300000);
    if (rc == 0)
        rc = canto_client_set_state_callback(client, on_state, &r);
    if (rc == 0)
        rc = canto_client_connect(client);
    if (rc) {
        fprintf(stderr, "canto-muc-bot: %s\n", canto_strerror(rc));
        r.exit_code = CLI_USAGE;
        r.done = 1;
    }
    int closing = 0;
    while (!r.done) {
        if (stop_requested && !closing) {
            closing = 1;
            canto_muc_leave(r.muc, r.room, NULL);
            if (canto_client_disconnect(client) != 0)
                break;
        }
        canto_loop_run_once(loop, 200);
    }
    canto_muc_free(r.muc);
    canto_client_free(client);
    canto_loop_free(loop);
    memset(conn.password, 0, sizeof(conn.password));
    return r.exit_code;
}
