/* canto-linklocal: chat with people on the same network, no server needed
 * (XEP-0174 over Canto's own mDNS/DNS-SD).
 *
 *   canto-linklocal --name NAME [--nick NICK] [options]
 *
 * Standard output, one line each:
 *   + NAME NICK STATUS   a peer appeared or changed (status avail/away/dnd)
 *   - NAME               a peer went away
 *   FROM<TAB>BODY        a chat message arrived
 * Standard input, one line each:
 *   PEER: TEXT           send TEXT to PEER ("bob@machine")
 *   /status STATUS [MSG] change our status (avail, away, dnd)
 *   /quit                leave (as does end of input, SIGINT or SIGTERM)
 * Diagnostics go to standard error. Leaving says goodbye on the network, so
 * peers see us go at once.
 *
 * Exit codes: 0 done, 1 usage, 2 could not start (no interface, sockets). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <canto/canto.h>
#include <canto/linklocal.h>

#define PROG "canto-linklocal"
#define MAX_IFACES 8

typedef struct app {
    canto_loop *loop;
    canto_linklocal *ll;
    char line[4096];
    size_t len;
    unsigned stdin_watch;
    int verbose;
} app;

static int signal_pipe[2] = {-1, -1};

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " --name NAME [--nick NICK] [--status avail|away|dnd] [--msg TEXT]\n"
               "                       [--interface IF]... [--port N] [--ttl SECONDS]\n"
               "                       [--tls off|optional|required --cert PEM --key PEM] [-v]\n"
               "  --name NAME     user name; published as NAME@HOST unless it has an '@'\n"
               "  --nick NICK     nickname shown to peers\n"
               "  --interface IF  use only this interface (repeatable; default: all)\n"
               "  --port N        TCP port for incoming streams (default: any free port)\n"
               "  --ttl SECONDS   lifetime of our records when we vanish without goodbye\n"
               "  --tls MODE      encrypt streams with peers: off (default), optional, required;\n"
               "                  needs --cert and --key (a self-signed certificate will do)\n"
               "  -v              log protocol steps to standard error\n"
               "Then type 'PEER: TEXT' lines to send; '/status away [msg]'; '/quit'.\n");
}

static int parse_status(const char *s, canto_ll_status *out)
{
    for (int i = CANTO_LL_AVAIL; i <= CANTO_LL_DND; i++)
        if (strcmp(s, canto_ll_status_name((canto_ll_status)i)) == 0) {
            *out = (canto_ll_status)i;
            return 0;
        }
    return -1;
}

static void on_log(void *ud, canto_log_level level, const char *area, const char *msg)
{
    (void)ud;
    (void)level;
    fprintf(stderr, PROG ": [%s] %s\n", area, msg);
}

static void on_peer(void *ud, canto_linklocal *ll, canto_ll_peer_event ev, const canto_ll_peer *p)
{
    (void)ud;
    (void)ll;
    if (ev == CANTO_LL_PEER_GONE) {
        printf("- %s\n", p->name);
        return;
    }
    printf("+ %s %s %s\n", p->name, p->nick && p->nick[0] ? p->nick : "-", p->status);
}

static int on_message(void *ud, canto_client *session, canto_stanza *st)
{
    (void)ud;
    (void)session;
    const char *from = canto_stanza_attr(st, "from");
    const char *body = canto_stanza_child_text(st, "body", NULL);
    if (!body)
        return 0;
    /* One message, one line: control characters would break it up. */
    fputs(from ? from : "?", stdout);
    fputc('\t', stdout);
    for (const char *c = body; *c; c++)
        fputc(*c == '\n' || *c == '\r' || *c == '\t' ? ' ' : *c, stdout);
    fputc('\n', stdout);
    return 1;
}

static void on_session(void *ud, canto_linklocal *ll, canto_client *session,
                       canto_ll_session_event ev, const char *peer, int incoming, int error)
{
    app *a = ud;
    (void)ll;
    if (ev == CANTO_LL_SESSION_OPENED) {
        canto_handler_match m = CANTO_HANDLER_MATCH_INIT;
        m.name = "message";
        canto_client_add_handler(session, &m, on_message, a, NULL);
        if (a->verbose)
            fprintf(stderr, PROG ": %s stream with %s open\n", incoming ? "incoming" : "outgoing",
                    peer);
    } else if (error && a->verbose) {
        fprintf(stderr, PROG ": stream with %s ended: %s\n", peer, canto_strerror(error));
    }
}

static void on_undelivered(void *ud, canto_linklocal *ll, const canto_stanza *st, int error)
{
    (void)ud;
    (void)ll;
    const char *to = canto_stanza_attr(st, "to");
    fprintf(stderr, PROG ": message to %s not delivered: %s\n", to ? to : "?",
            canto_strerror(error));
}

static void on_renamed(void *ud, canto_linklocal *ll, const char *name)
{
    (void)ud;
    (void)ll;
    fprintf(stderr, PROG ": name taken; now known as %s\n", name);
}

static void quit(app *a)
{
    if (a->stdin_watch) {
        canto_loop_remove_fd(a->loop, a->stdin_watch);
        a->stdin_watch = 0;
    }
    canto_loop_stop(a->loop);
}

static void command(app *a, char *line)
{
    if (strcmp(line, "/quit") == 0) {
        quit(a);
        return;
    }
    if (strncmp(line, "/status ", 8) == 0) {
        char *word = line + 8;
        char *msg = strchr(word, ' ');
        if (msg)
            *msg++ = '\0';
        canto_ll_status st;
        if (parse_status(word, &st) != 0) {
            fprintf(stderr, PROG ": unknown status '%s' (avail, away, dnd)\n", word);
            return;
        }
        int rc = canto_linklocal_set_status(a->ll, st, msg);
        if (rc)
            fprintf(stderr, PROG ": could not change status: %s\n", canto_strerror(rc));
        return;
    }
    char *sep = strstr(line, ": ");
    if (!sep || sep == line) {
        fprintf(stderr, PROG ": type 'PEER: TEXT', '/status STATUS [MSG]' or '/quit'\n");
        return;
    }
    *sep = '\0';
    int rc = canto_linklocal_send_message(a->ll, line, sep + 2);
    if (rc)
        fprintf(stderr, PROG ": could not send to %s: %s%s%s\n", line, canto_strerror(rc),
                rc == CANTO_ENOTFOUND ? ": " : "",
                rc == CANTO_ENOTFOUND ? canto_linklocal_last_error(a->ll) : "");
}

/* Read what is there and run each complete line; returns read()'s result. */
static ssize_t read_input(app *a, int fd)
{
    ssize_t n = read(fd, a->line + a->len, sizeof(a->line) - 1 - a->len);
    if (n <= 0)
        return n;
    a->len += (size_t)n;
    char *start = a->line, *nl;
    while ((nl = memchr(start, '\n', a->len - (size_t)(start - a->line)))) {
        *nl = '\0';
        if (nl > start && nl[-1] == '\r')
            nl[-1] = '\0';
        if (*start)
            command(a, start);
        start = nl + 1;
    }
    a->len -= (size_t)(start - a->line);
    memmove(a->line, start, a->len);
    if (a->len == sizeof(a->line) - 1) {
        fprintf(stderr, PROG ": input line too long; dropped\n");
        a->len = 0;
    }
    return n;
}

static void on_stdin(void *ud, canto_loop *loop, int fd, unsigned events)
{
    app *a = ud;
    (void)loop;
    (void)events;
    ssize_t n = read_input(a, fd);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        quit(a);
}

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    if (write(signal_pipe[1], "x", 1) < 0) {
        /* Nothing to do: the pipe already holds a wake-up. */
    }
    errno = saved;
}

static void on_signal_pipe(void *ud, canto_loop *loop, int fd, unsigned events)
{
    (void)loop;
    (void)events;
    char buf[16];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    quit(ud);
}

int main(int argc, char **argv)
{
    canto_linklocal_options o = CANTO_LINKLOCAL_OPTIONS_INIT;
    const char *ifaces[MAX_IFACES + 1] = {0};
    size_t nifaces = 0;
    app a = {0};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(arg, "-v") == 0) {
            a.verbose = 1;
            takes = 0;
        } else if (!val) {
            fprintf(stderr, PROG ": %s needs a value\n", arg);
            usage(stderr);
            return 1;
        } else if (strcmp(arg, "--name") == 0) {
            o.name = val;
        } else if (strcmp(arg, "--nick") == 0) {
            o.nick = val;
        } else if (strcmp(arg, "--msg") == 0) {
            o.msg = val;
        } else if (strcmp(arg, "--status") == 0) {
            if (parse_status(val, &o.status) != 0) {
                fprintf(stderr, PROG ": unknown status '%s' (avail, away, dnd)\n", val);
                return 1;
            }
        } else if (strcmp(arg, "--cert") == 0) {
            o.cert_file = val;
        } else if (strcmp(arg, "--key") == 0) {
            o.key_file = val;
        } else if (strcmp(arg, "--tls") == 0) {
            if (strcmp(val, "off") == 0) {
                o.tls = CANTO_LL_TLS_OFF;
            } else if (strcmp(val, "optional") == 0) {
                o.tls = CANTO_LL_TLS_OPTIONAL;
            } else if (strcmp(val, "required") == 0) {
                o.tls = CANTO_LL_TLS_REQUIRED;
            } else {
                fprintf(stderr, PROG ": unknown TLS mode '%s' (off, optional, required)\n", val);
                return 1;
            }
        } else if (strcmp(arg, "--interface") == 0) {
            if (nifaces == MAX_IFACES) {
                fprintf(stderr, PROG ": at most %d interfaces\n", MAX_IFACES);
                return 1;
            }
            ifaces[nifaces++] = val;
        } else if (strcmp(arg, "--port") == 0 || strcmp(arg, "--ttl") == 0) {
            char *end;
            unsigned long v = strtoul(val, &end, 10);
            if (*end || !*val || v > (arg[2] == 'p' ? 65535ul : 86400ul)) {
                fprintf(stderr, PROG ": bad number for %s: '%s'\n", arg, val);
                return 1;
            }
            if (arg[2] == 'p')
                o.port = (unsigned)v;
            else
                o.ttl = (unsigned)v;
        } else {
            fprintf(stderr, PROG ": unknown option '%s'\n", arg);
            usage(stderr);
            return 1;
        }
        i += takes;
    }
    if (!o.name) {
        fprintf(stderr, PROG ": --name is required\n");
        usage(stderr);
        return 1;
    }
    if (o.tls != CANTO_LL_TLS_OFF && (!o.cert_file || !o.key_file)) {
        fprintf(stderr, PROG ": --tls %s needs --cert and --key\n",
                o.tls == CANTO_LL_TLS_REQUIRED ? "required" : "optional");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* a line is an event: tell it at once */
    signal(SIGPIPE, SIG_IGN);

    if (nifaces)
        o.interfaces = ifaces;
    o.peer = on_peer;
    o.session = on_session;
    o.undelivered = on_undelivered;
    o.renamed = on_renamed;
    o.user_data = &a;
    if (a.verbose) {
        o.log = on_log;
        o.log_level = CANTO_LOG_DEBUG;
    }
    int rc = canto_loop_new(NULL, &a.loop);
    if (rc) {
        fprintf(stderr, PROG ": %s\n", canto_strerror(rc));
        return 2;
    }
    rc = canto_linklocal_new(a.loop, &o, &a.ll);
    if (rc) {
        fprintf(stderr, PROG ": bad settings: %s\n", canto_strerror(rc));
        canto_loop_free(a.loop);
        return 1;
    }
    rc = canto_linklocal_start(a.ll);
    if (rc) {
        fprintf(stderr, PROG ": could not start: %s\n", canto_linklocal_last_error(a.ll));
        canto_linklocal_free(a.ll);
        canto_loop_free(a.loop);
        return 2;
    }
    fprintf(stderr, PROG ": %s listening on port %u\n", canto_linklocal_name(a.ll),
            canto_linklocal_port(a.ll));

    unsigned sig_watch = 0;
    if (pipe(signal_pipe) == 0) {
        fcntl(signal_pipe[0], F_SETFL, O_NONBLOCK);
        fcntl(signal_pipe[1], F_SETFL, O_NONBLOCK);
        canto_loop_add_fd(a.loop, signal_pipe[0], CANTO_IO_IN, on_signal_pipe, &a, &sig_watch);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    if (canto_loop_add_fd(a.loop, STDIN_FILENO, CANTO_IO_IN, on_stdin, &a, &a.stdin_watch) != 0) {
        /* Input that epoll cannot watch (a regular file): its commands run
         * now, and the program stays until a signal. */
        a.stdin_watch = 0;
        while (read_input(&a, STDIN_FILENO) > 0) {
        }
    }
    canto_loop_run(a.loop);

    canto_linklocal_free(a.ll); /* says goodbye */
    if (sig_watch)
        canto_loop_remove_fd(a.loop, sig_watch);
    canto_loop_free(a.loop);
    return 0;
}
