/* canto-roster: log in, fetch the roster, announce presence, collect the
 * contacts' presence for a moment, print the roster with who is online, and
 * log out. */
#include <stdio.h>
#include <string.h>

#include <canto/canto.h>
#include <canto/presence.h>
#include <canto/roster.h>

#include "cli.h"

static const char usage[] =
    "usage: canto-roster [options]\n"
    "Prints the account's roster, one contact per line:\n"
    "  JID<TAB>NAME<TAB>SUBSCRIPTION[<TAB>ask]\n"
    "followed by one line per online resource of that contact:\n"
    "  <TAB>FULL-JID<TAB>SHOW<TAB>PRIORITY<TAB>STATUS\n"
    "(SHOW is available, chat, away, xa or dnd). Presence is collected until\n"
    "it has been quiet for half a second, for at most 2 seconds.\n"
    "Exit: 0 printed, 1 usage, 2 DNS/connection, 3 TLS verification,\n"
    "      4 authentication, 5 other XMPP error.\n"
    "Options:\n";

#define QUIET_MS 500u
#define MAX_WAIT_MS 2000u

typedef struct run {
    canto_loop *loop;
    canto_roster *roster;
    canto_presence *presence;
    int fetched;
    uint64_t fetched_at;
    uint64_t last_change;
    int printed;
    int done;
    int exit_code;
} run;

static void on_fetched(void *ud, canto_roster *roster, const canto_iq_response *resp)
{
    run *r = ud;
    (void)roster;
    if (resp->outcome != CANTO_IQ_RESULT) {
        const char *why = resp->outcome == CANTO_IQ_ERROR
                              ? canto_error_condition_name(resp->error.condition)
                          : resp->outcome == CANTO_IQ_TIMEOUT ? "timed out"
                                                              : "cancelled";
        fprintf(stderr, "canto-roster: the roster request failed: %s\n",
                why ? why : "unknown error");
        if (r->exit_code == CLI_OK)
            r->exit_code = CLI_XMPP;
        return;
    }
    r->fetched = 1;
    r->fetched_at = r->last_change = canto_loop_now(r->loop);
}

static void on_presence(void *ud, canto_presence *p, const canto_presence_change *ch)
{
    run *r = ud;
    (void)p;
    (void)ch;
    r->last_change = canto_loop_now(r->loop);
}

static void on_state(void *ud, canto_client *c, canto_client_state st,
                     const canto_disconnect_info *info)
{
    run *r = ud;
    if (st == CANTO_CLIENT_CONNECTED) {
        /* Roster first, then presence (RFC 6121 §2.2): the presence plugin
         * sends the availability set before connecting after this returns. */
        int rc = canto_roster_fetch(r->roster, on_fetched, r);
        if (rc) {
            fprintf(stderr, "canto-roster: cannot request the roster: %s\n", canto_strerror(rc));
            r->exit_code = CLI_XMPP;
            canto_client_disconnect(c);
        }
    } else if (st == CANTO_CLIENT_DISCONNECTED) {
        r->done = 1;
        if (info && info->error && !r->printed)
            r->exit_code = cli_report("canto-roster", info);
        else if (!r->printed && r->exit_code == CLI_OK)
            r->exit_code = CLI_XMPP;
    }
}

static void print_resources(const canto_presence_contact *contact)
{
    for (size_t i = 0; i < canto_presence_contact_resource_count(contact); i++) {
        const canto_presence_resource *res = canto_presence_contact_resource_at(contact, i);
        const char *show = canto_presence_show_name(canto_presence_resource_show(res));
        const char *status = canto_presence_resource_status(res);
        printf("\t%s\t%s\t%d\t%s\n", canto_jid_str(canto_presence_resource_jid(res)),
               show ? show : "available", canto_presence_resource_priority(res),
               status ? status : "");
    }
}

static void print_roster(run *r)
{
    for (size_t i = 0; i < canto_roster_count(r->roster); i++) {
        const canto_roster_item *item = canto_roster_item_at(r->roster, i);
        const char *jid = canto_jid_str(canto_roster_item_jid(item));
        const char *name = canto_roster_item_name(item);
        printf("%s\t%s\t%s%s\n", jid, name ? name : "",
               canto_roster_subscription_name(canto_roster_item_subscription(item)),
               canto_roster_item_ask(item) ? "\task" : "");
        print_resources(canto_presence_find(r->presence, jid));
    }
    fflush(stdout);
    r->printed = 1;
}

/* Presence has settled: quiet for a while, or the time is up. */
static int settled(const run *r)
{
    uint64_t now = canto_loop_now(r->loop);
    return now - r->fetched_at >= MAX_WAIT_MS || now - r->last_change >= QUIET_MS;
}

int main(int argc, char **argv)
{
    cli_conn conn;
    int first = cli_parse(argc, argv, &conn);
    if (first < 0 || first != argc) {
        fprintf(stderr, "%s%s", usage, cli_conn_usage);
        return CLI_USAGE;
    }
    run r = {0};
    canto_client_options opts;
    cli_client_options(&conn, &opts);
    canto_client *client = NULL;
    canto_presence_availability avail = CANTO_PRESENCE_AVAILABILITY_INIT;
    int rc = canto_loop_new(NULL, &r.loop);
    if (rc == 0)
        rc = canto_client_new(r.loop, conn.jid, &opts, &client);
    if (rc == 0)
        rc = canto_client_set_state_callback(client, on_state, &r);
    if (rc == 0)
        rc = canto_roster_new(client, &r.roster);
    if (rc == 0)
        rc = canto_presence_new(client, &r.presence);
    if (rc == 0)
        rc = canto_presence_set_changed_callback(r.presence, on_presence, &r);
    if (rc == 0)
        rc = canto_presence_set_available(r.presence, &avail);
    if (rc == 0)
        rc = canto_client_connect(client);
    if (rc) {
        fprintf(stderr, "canto-roster: %s\n", canto_strerror(rc));
        r.exit_code = rc == CANTO_EJID_LOCAL || rc == CANTO_EJID_DOMAIN || rc == CANTO_EJID_RESOURCE
                          ? CLI_USAGE
                          : CLI_CONNECT;
        r.done = 1;
    }
    int closing = 0;
    while (!r.done) {
        if (!closing && (r.exit_code != CLI_OK || (r.fetched && settled(&r)))) {
            closing = 1;
            if (r.exit_code == CLI_OK)
                print_roster(&r);
            if (canto_client_disconnect(client) != 0)
                break;
        }
        canto_loop_run_once(r.loop, 100);
    }
    canto_presence_free(r.presence);
    canto_roster_free(r.roster);
    canto_client_free(client);
    canto_loop_free(r.loop);
    memset(conn.password, 0, sizeof(conn.password));
    return r.exit_code;
}
