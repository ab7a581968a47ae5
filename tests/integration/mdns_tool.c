/* mdns_tool: Canto's mDNS driver and engine (internal API) from the command
 * line, for tests/integration/test_mdns_netns.sh.
 *
 *   mdns_tool [OPTIONS] publish NAME PORT [key=value | key]...
 *   mdns_tool [OPTIONS] browse [TYPE]
 *
 * Options: --host LABEL (host name without .local), --type TYPE (publish;
 * default _presence._tcp), --ttl SECONDS (host and other record TTLs, via
 * canto__mdns_set_ttls), --iface NAME (repeatable), --no-ipv4, --no-ipv6,
 * -v (engine and driver logs on stderr).
 *
 * One line per event on stdout, flushed at once:
 *   published NAME          the service is announced under NAME
 *   renamed NAME            its instance name was taken; now probing NAME
 *   renamed-host NAME       the host name was taken; now probing NAME
 *   + NAME key=value ...    a browsed service appeared (TXT strings in order)
 *   = NAME key=value ...    it changed
 *   - NAME                  it went (goodbye or TTL expiry)
 *   stopped                 SIGTERM/SIGINT: goodbyes sent, about to exit
 * Exit status 0 after a signal, 1 on errors, 2 on usage errors. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <canto/canto.h>
#include "loop/loop.h"
#include "mdns/msg.h"
#include "mdns/socket.h"

#define MAX_IFACES 8

static int verbose;

static void usage(void)
{
    fprintf(stderr, "usage: mdns_tool [--host LABEL] [--type TYPE] [--ttl S] [--iface NAME]...\n"
                    "                 [--no-ipv4] [--no-ipv6] [-v]\n"
                    "                 publish NAME PORT [key=value]... | browse [TYPE]\n");
    exit(2);
}

static void print_txt(const uint8_t *txt, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = txt[i++];
        if (n > len - i)
            n = len - i; /* the engine checked it; never read past anyway */
        if (n)
            printf(" %.*s", (int)n, (const char *)txt + i);
        i += n;
    }
}

static void on_service(void *ud, canto__mdns_svc_event ev, const canto__mdns_service *svc)
{
    (void)ud;
    char sign = ev == CANTO__MDNS_SVC_APPEARED ? '+' : ev == CANTO__MDNS_SVC_CHANGED ? '=' : '-';
    printf("%c %s", sign, svc->instance);
    if (ev != CANTO__MDNS_SVC_GONE)
        print_txt(svc->txt, svc->txt_len);
    printf("\n");
    if (verbose && ev != CANTO__MDNS_SVC_GONE)
        fprintf(stderr, "mdns_tool: %s: %s port %u, %zu address(es)\n", svc->instance,
                svc->host ? svc->host : "?", svc->port, svc->naddrs);
}

static void on_published(void *ud, unsigned handle, const char *instance)
{
    (void)ud;
    (void)handle;
    printf("published %s\n", instance);
}

static void on_renamed(void *ud, unsigned handle, int host, const char *new_name)
{
    (void)ud;
    (void)handle;
    printf("renamed%s %s\n", host ? "-host" : "", new_name);
}

static void on_log(void *ud, canto_log_level level, const char *area, const char *message)
{
    (void)ud;
    fprintf(stderr, "[%d %s] %s\n", (int)level, area, message);
}

static void on_signal(void *ud, int fd, unsigned events)
{
    (void)events;
    struct signalfd_siginfo si;
    if (read(fd, &si, sizeof(si)) > 0)
        canto_loop_stop(ud);
}

int main(int argc, char **argv)
{
    canto__mdns_io_config cfg = {0};
    const char *ifnames[MAX_IFACES + 1] = {0};
    size_t nif = 0;
    const char *type = "_presence._tcp";
    unsigned long ttl = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];
        if (strcmp(o, "-v") == 0)
            verbose = 1;
        else if (strcmp(o, "--no-ipv4") == 0)
            cfg.no_ipv4 = 1;
        else if (strcmp(o, "--no-ipv6") == 0)
            cfg.no_ipv6 = 1;
        else if (i + 1 >= argc)
            usage();
        else if (strcmp(o, "--host") == 0)
            cfg.host = argv[++i];
        else if (strcmp(o, "--type") == 0)
            type = argv[++i];
        else if (strcmp(o, "--ttl") == 0)
            ttl = strtoul(argv[++i], NULL, 10);
        else if (strcmp(o, "--iface") == 0 && nif < MAX_IFACES)
            ifnames[nif++] = argv[++i];
        else
            usage();
    }
    if (nif)
        cfg.ifnames = ifnames;
    if (i >= argc)
        usage();
    const char *mode = argv[i++];
    int publish = strcmp(mode, "publish") == 0;
    if (publish ? argc - i < 2 : strcmp(mode, "browse") != 0 || argc - i > 1)
        usage();

    uint8_t txt[CANTO__MDNS_TXT_MAX];
    uint16_t txt_len = 0;
    const char *name = NULL;
    unsigned long port = 0;
    if (publish) {
        name = argv[i++];
        port = strtoul(argv[i++], NULL, 10);
        if (port == 0 || port > 65535)
            usage();
        for (; i < argc; i++) {
            char *eq = strchr(argv[i], '=');
            if (eq)
                *eq = '\0';
            int rc = canto__mdns_txt_add(txt, &txt_len, argv[i], eq ? eq + 1 : NULL);
            if (rc < 0) {
                fprintf(stderr, "mdns_tool: TXT %s: %s\n", argv[i], canto_strerror(rc));
                return 2;
            }
        }
    } else if (i < argc) {
        type = argv[i];
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    int sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        perror("mdns_tool: signalfd");
        return 1;
    }

    canto_loop_options lo = CANTO_LOOP_OPTIONS_INIT;
    if (verbose) {
        lo.log = on_log;
        lo.log_level = CANTO_LOG_DEBUG;
    }
    canto_loop *loop;
    int rc = canto_loop_new(&lo, &loop);
    if (rc < 0) {
        fprintf(stderr, "mdns_tool: loop: %s\n", canto_strerror(rc));
        return 1;
    }
    canto__watch *sw = NULL;
    canto__mdns_io *io = NULL;
    const canto__mdns_events ev = {
        .service = on_service, .published = on_published, .renamed = on_renamed};
    rc = canto__watch_add(loop, sfd, CANTO_IO_IN, on_signal, loop, &sw);
    if (rc == 0)
        rc = canto__mdns_io_new(loop, &cfg, &ev, NULL, &io);
    if (rc < 0) {
        fprintf(stderr, "mdns_tool: start: %s\n", canto_strerror(rc));
    } else {
        canto__mdns *m = canto__mdns_io_engine(io);
        uint64_t now = canto__mdns_io_now(io);
        if (ttl)
            rc = canto__mdns_set_ttls(m, (uint32_t)ttl, (uint32_t)ttl);
        if (rc == 0 && publish) {
            unsigned handle;
            rc = canto__mdns_publish(m, name, type, (uint16_t)port, txt, txt_len, now, &handle);
        } else if (rc == 0) {
            rc = canto__mdns_browse(m, type, now);
        }
        canto__mdns_io_kick(io);
        if (rc < 0)
            fprintf(stderr, "mdns_tool: %s: %s\n", mode, canto_strerror(rc));
        else
            rc = canto_loop_run(loop);
        if (rc < 0)
            fprintf(stderr, "mdns_tool: loop: %s\n", canto_strerror(rc));
    }
    /* Goodbyes go out here, before the sockets close. */
    canto__mdns_io_free(io);
    canto__watch_remove(sw);
    close(sfd);
    canto_loop_free(loop);
    if (rc == 0)
        printf("stopped\n");
    return rc == 0 ? 0 : 1;
}
