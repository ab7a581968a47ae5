/* Shared by the command-line examples: connection options, the password,
 * and the exit codes documented in their usage texts. */
#ifndef CANTO_EXAMPLES_CLI_H
#define CANTO_EXAMPLES_CLI_H

#include <canto/canto.h>

enum cli_exit {
    CLI_OK = 0,
    CLI_USAGE = 1,
    CLI_CONNECT = 2, /* DNS or connection failure */
    CLI_TLS = 3,     /* TLS or certificate verification failure */
    CLI_AUTH = 4,    /* authentication failure */
    CLI_XMPP = 5,    /* any other XMPP error */
};

typedef struct cli_conn {
    const char *jid;
    char password[1024];
    char server_host[256];
    unsigned server_port;
    int direct_tls;
    const char *ca_file;
    const char *resolver;
    int verbose;
} cli_conn;

/* Text for the options cli_parse() understands, for usage messages. */
extern const char cli_conn_usage[];

/* Parse the shared options out of argv. Returns the index of the first
 * argument that is not one of them (after an optional "--"), or -1 after
 * printing a message for a bad option. Unknown options starting with '-' are
 * left for the caller when @p extra lists them (e.g. "-n"), else refused. */
int cli_parse(int argc, char **argv, cli_conn *conn);

/* Fill @p opts from @p conn (pointers into conn, which must outlive opts). */
void cli_client_options(cli_conn *conn, canto_client_options *opts);

/* One line on stderr for a disconnect, and the exit code it maps to. */
int cli_report(const char *prog, const canto_disconnect_info *info);

/* The echo tools' message handler: print FROM<TAB>BODY for chat and normal
 * messages with a body and send the body back. Returns 1 if it handled it. */
int cli_echo_message(const char *prog, canto_client *c, canto_stanza *st);

/* On CONNECTED: send initial presence and say who we are on stderr. */
void cli_announce(const char *prog, canto_client *c);

/* On DISCONNECTED: 1 if this is final (then *exit_code is set), 0 if the
 * client reconnects by itself. @p stopping: a signal asked us to stop. */
int cli_disconnected(const char *prog, int stopping, const canto_disconnect_info *info,
                     int *exit_code);

#endif
