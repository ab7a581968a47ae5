#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cli_conn_usage[] =
    "  --jid JID              account (default: $CANTO_JID)\n"
    "  --password-file FILE   read the password from FILE (default: $CANTO_PASSWORD)\n"
    "  --server HOST[:PORT]   connect to HOST instead of looking up SRV records\n"
    "  --direct-tls           TLS from the first byte (XEP-0368), default port 5223\n"
    "  --ca-file PEM          also trust the CAs in PEM\n"
    "  --resolver IP[:PORT]   DNS server to use instead of /etc/resolv.conf\n"
    "  -v                     print the negotiation log on stderr\n";

static int read_password_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static int parse_server(const char *arg, cli_conn *conn)
{
    const char *colon = strrchr(arg, ':');
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close)
            return -1;
        snprintf(conn->server_host, sizeof(conn->server_host), "%.*s", (int)(close - arg - 1),
                 arg + 1);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        snprintf(conn->server_host, sizeof(conn->server_host), "%.*s",
                 colon ? (int)(colon - arg) : (int)strlen(arg), arg);
    }
    if (colon) {
        char *end;
        unsigned long p = strtoul(colon + 1, &end, 10);
        if (*end || p == 0 || p > 65535)
            return -1;
        conn->server_port = (unsigned)p;
    }
    return conn->server_host[0] ? 0 : -1;
}

int cli_parse(int argc, char **argv, cli_conn *conn)
{
    memset(conn, 0, sizeof(*conn));
    conn->jid = getenv("CANTO_JID");
    const char *pw = getenv("CANTO_PASSWORD");
    if (pw)
        snprintf(conn->password, sizeof(conn->password), "%s", pw);
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0)
            return i + 1;
        if (strcmp(a, "-v") == 0) {
            conn->verbose = 1;
        } else if (strcmp(a, "--direct-tls") == 0) {
            conn->direct_tls = 1;
        } else if (strcmp(a, "--jid") == 0 && next) {
            conn->jid = next, i++;
        } else if (strcmp(a, "--password-file") == 0 && next) {
            if (read_password_file(next, conn->password, sizeof(conn->password)) != 0) {
                fprintf(stderr, "%s: cannot read password file %s\n", argv[0], next);
                return -1;
            }
            i++;
        } else if (strcmp(a, "--server") == 0 && next) {
            if (parse_server(next, conn) != 0) {
                fprintf(stderr, "%s: bad --server value: %s\n", argv[0], next);
                return -1;
            }
            i++;
        } else if (strcmp(a, "--ca-file") == 0 && next) {
            conn->ca_file = next, i++;
        } else if (strcmp(a, "--resolver") == 0 && next) {
            conn->resolver = next, i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: unknown or incomplete option: %s\n", argv[0], a);
            return -1;
        } else {
            break;
        }
    }
    if (!conn->jid) {
        fprintf(stderr, "%s: no account: use --jid or set CANTO_JID\n", argv[0]);
        return -1;
    }
    return i;
}

static void log_stderr(void *ud, canto_log_level level, const char *area, const char *msg)
{
    fprintf(stderr, "[%s] %s: %s\n", canto_log_level_name(level), area, msg);
    (void)ud;
}

void cli_client_options(cli_conn *conn, canto_client_options *opts)
{
    canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
    o.password = conn->password[0] ? conn->password : NULL;
    o.host = conn->server_host[0] ? conn->server_host : NULL;
    o.port = conn->server_port;
    o.tls = conn->direct_tls ? CANTO_TLS_DIRECT : CANTO_TLS_REQUIRED;
    o.ca_file = conn->ca_file;
    o.resolver = conn->resolver;
    if (conn->verbose) {
        o.log = log_stderr;
        o.log_level = CANTO_LOG_DEBUG;
    }
    *opts = o;
}

int cli_report(const char *prog, const canto_disconnect_info *info)
{
    fprintf(stderr, "%s: %s\n", prog, info->detail ? info->detail : canto_strerror(info->error));
    switch (info->error) {
    case 0:
        return CLI_OK;
    case CANTO_EDNS:
    case CANTO_ECONNECT:
    case CANTO_ETIMEDOUT:
    case CANTO_EIO:
        return CLI_CONNECT;
    case CANTO_ECERT:
    case CANTO_ETLS:
        return CLI_TLS;
    case CANTO_EAUTH:
        return CLI_AUTH;
    default:
        return CLI_XMPP;
    }
}

int cli_echo_message(const char *prog, canto_client *c, canto_stanza *st)
{
    const char *type = canto_stanza_attr(st, "type");
    const char *from = canto_stanza_attr(st, "from");
    const char *body = canto_stanza_child_text(st, "body", NULL);
    if (!from || !body || (type && strcmp(type, "chat") != 0 && strcmp(type, "normal") != 0))
        return 0;
    printf("%s\t%s\n", from, body);
    fflush(stdout);
    canto_stanza *reply;
    int rc = canto_stanza_new_message(NULL, type ? type : "normal", from, NULL, body, &reply);
    if (rc == 0) {
        rc = canto_client_send(c, reply);
        canto_stanza_free(reply);
    }
    if (rc)
        fprintf(stderr, "%s: reply not sent: %s\n", prog, canto_strerror(rc));
    return 1;
}

void cli_announce(const char *prog, canto_client *c)
{
    canto_stanza *pres;
    if (canto_stanza_new_presence(NULL, NULL, NULL, &pres) == 0) {
        canto_client_send(c, pres);
        canto_stanza_free(pres);
    }
    fprintf(stderr, "%s: online as %s\n", prog, canto_jid_str(canto_client_jid(c)));
}

int cli_disconnected(const char *prog, int stopping, const canto_disconnect_info *info,
                     int *exit_code)
{
    if (info && info->will_reconnect && !stopping) {
        fprintf(stderr, "%s: %s; reconnecting\n", prog, info->detail);
        return 0;
    }
    if (stopping && (!info || info->error == 0 || info->will_reconnect))
        *exit_code = CLI_OK;
    else if (info && info->error)
        *exit_code = cli_report(prog, info);
    else
        *exit_code = CLI_XMPP;
    return 1;
}
