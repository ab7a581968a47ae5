/* The TCP listener peers open their streams to (XEP-0174 §6): one dual-stack
 * IPv6 socket, or IPv4 alone where the host has no IPv6. */
#include "linklocal/linklocal_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include <canto/error.h>

static void on_accept(void *ud, int fd, unsigned events)
{
    canto_linklocal *ll = ud;
    (void)events;
    canto__ll_enter(ll);
    /* A bounded batch: a flood of connections must not starve the loop. */
    for (int i = 0; i < 16 && !ll->freed; i++) {
        struct sockaddr_storage remote;
        socklen_t len = sizeof(remote);
        int c = accept4(fd, (struct sockaddr *)&remote, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                canto__logf(&ll->log, CANTO_LOG_WARN, "linklocal", "accept failed: %s",
                            strerror(errno));
            break;
        }
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        canto__ll_session_accepted(ll, c, &remote);
    }
    canto__ll_leave(ll);
}

static int open_one(canto_linklocal *ll, int family, uint16_t port, int *out)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return CANTO_EIO;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    if (family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_any;
        s6->sin6_port = htons(port);
        len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_ANY);
        s4->sin_port = htons(port);
        len = sizeof(*s4);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0) {
        canto__ll_set_error(ll, "could not listen on port %u: %s", (unsigned)port, strerror(errno));
        close(fd);
        return CANTO_EIO;
    }
    len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        close(fd);
        return CANTO_EIO;
    }
    ll->port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                        : ((struct sockaddr_in *)&ss)->sin_port);
    *out = fd;
    return 0;
}

int canto__ll_listen(canto_linklocal *ll)
{
    uint16_t port = (uint16_t)ll->opts.port;
    int rc = open_one(ll, AF_INET6, port, &ll->listen_fd[0]);
    if (rc)
        rc = open_one(ll, AF_INET, port, &ll->listen_fd[1]);
    for (int i = 0; rc == 0 && i < 2; i++)
        if (ll->listen_fd[i] >= 0)
            rc = canto__watch_add(ll->loop, ll->listen_fd[i], CANTO_IO_IN, on_accept, ll,
                                  &ll->listen_watch[i]);
    if (rc)
        canto__ll_listen_close(ll);
    return rc;
}

void canto__ll_listen_close(canto_linklocal *ll)
{
    for (int i = 0; i < 2; i++) {
        canto__watch_remove(ll->listen_watch[i]);
        ll->listen_watch[i] = NULL;
        if (ll->listen_fd[i] >= 0)
            close(ll->listen_fd[i]);
        ll->listen_fd[i] = -1;
    }
}
