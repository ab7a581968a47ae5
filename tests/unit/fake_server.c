/* A scripted plaintext XMPP server in the test's own thread (see fake_server.h). */
#include "fake_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum phase {
    PH_HEADER1, /* waiting for the first stream header */
    PH_AUTH,    /* features with ANONYMOUS sent, waiting for <auth/> */
    PH_HEADER2, /* <success/> sent, waiting for the restarted stream */
    PH_BIND,    /* features with <bind/> sent */
    PH_READY,   /* session established: record everything */
};

struct fake_server {
    int lfd;
    int fd;
    unsigned port;
    char *jid;
    char *domain;
    char *features;
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_cap;
    enum phase phase;
    unsigned streams;
    unsigned sessions;
    unsigned resumptions;
    int sm;            /* offer stream management */
    int refuse_resume; /* answer <resume/> with <failed/> */
    int sm_active;     /* enabled on the current (or last) session */
    unsigned sm_id;
    unsigned sm_in; /* stanzas received since <enable/> */
    unsigned syncs;
    int client_closed;
    canto_stanza **queue;
    size_t qhead, qlen, qcap;
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    char *b = realloc(*buf, n);
    if (!b)
        return -1;
    *buf = b;
    *cap = n;
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int fake_server_new(const char *bound_jid, fake_server **out)
{
    canto_jid *j;
    if (!bound_jid || canto_jid_parse(NULL, bound_jid, &j) != 0)
        return -1;
    fake_server *fs = calloc(1, sizeof(*fs));
    if (!fs) {
        canto_jid_free(j);
        return -1;
    }
    fs->fd = -1;
    fs->jid = dup_str(canto_jid_str(j));
    fs->domain = dup_str(canto_jid_domain(j));
    canto_jid_free(j);
    fs->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sin);
    if (!fs->jid || !fs->domain || fs->lfd < 0 ||
        bind(fs->lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fs->lfd, 4) < 0 ||
        getsockname(fs->lfd, (struct sockaddr *)&sin, &sl) < 0) {
        fake_server_free(fs);
        return -1;
    }
    set_nonblock(fs->lfd);
    fs->port = ntohs(sin.sin_port);
    *out = fs;
    return 0;
}

static void close_conn(fake_server *fs)
{
    if (fs->fd >= 0)
        close(fs->fd);
    fs->fd = -1;
    fs->in_len = fs->out_len = 0;
    fs->phase = PH_HEADER1;
}

void fake_server_free(fake_server *fs)
{
    if (!fs)
        return;
    close_conn(fs);
    if (fs->lfd >= 0)
        close(fs->lfd);
    fake_server_discard(fs);
    free(fs->queue);
    free(fs->in);
    free(fs->out);
    free(fs->jid);
    free(fs->domain);
    free(fs->features);
    free(fs);
}

int fake_server_set_features(fake_server *fs, const char *xml)
{
    char *f = xml ? dup_str(xml) : NULL;
    if (xml && !f)
        return -1;
    free(fs->features);
    fs->features = f;
    return 0;
}

unsigned fake_server_port(const fake_server *fs)
{
    return fs->port;
}

void fake_server_client_options(fake_server *fs, canto_client_options *opts)
{
    opts->host = "127.0.0.1";
    opts->port = fs->port;
    opts->tls = CANTO_TLS_INSECURE_PLAINTEXT;
}

/* --- output --------------------------------------------------------------- */

static void flush_out(fake_server *fs)
{
    while (fs->fd >= 0 && fs->out_len > 0) {
        ssize_t n = send(fs->fd, fs->out, fs->out_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            close_conn(fs);
            return;
        }
        memmove(fs->out, fs->out + n, fs->out_len - (size_t)n);
        fs->out_len -= (size_t)n;
    }
}

static int vqueue(fake_server *fs, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || grow(&fs->out, &fs->out_cap, fs->out_len + (size_t)n + 1) != 0)
        return -1;
    vsnprintf(fs->out + fs->out_len, (size_t)n + 1, fmt, ap);
    fs->out_len += (size_t)n;
    return 0;
}

static int queue_out(fake_server *fs, const char *fmt, ...) CANTO_PRINTF(2, 3);
static int queue_out(fake_server *fs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vqueue(fs, fmt, ap);
    va_end(ap);
    return rc;
}

int fake_server_send(fake_server *fs, const char *fmt, ...)
{
    if (fs->fd < 0 || fs->phase != PH_READY)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = vqueue(fs, fmt, ap);
    va_end(ap);
    flush_out(fs);
    return rc;
}

/* --- input ---------------------------------------------------------------- */

/* Index of the '>' closing the tag that starts at @p pos, outside quotes;
 * (size_t)-1 if the buffer ends first. */
static size_t tag_end(const char *s, size_t pos, size_t len)
{
    char quote = 0;
    for (size_t i = pos + 1; i < len; i++) {
        if (quote) {
            if (s[i] == quote)
                quote = 0;
        } else if (s[i] == '\'' || s[i] == '"') {
            quote = s[i];
        } else if (s[i] == '>') {
            return i;
        }
    }
    return (size_t)-1;
}

static size_t find_str(const char *s, size_t pos, size_t len, const char *what)
{
    size_t wl = strlen(what);
    for (size_t i = pos; i + wl <= len; i++)
        if (memcmp(s + i, what, wl) == 0)
            return i;
    return (size_t)-1;
}

/* End (one past) of the element starting at @p pos, or (size_t)-1. */
static size_t element_end(const char *s, size_t pos, size_t len)
{
    int depth = 0;
    size_t i = pos;
    while (i < len) {
        if (s[i] != '<') {
            i++;
            continue;
        }
        if (i + 1 >= len)
            return (size_t)-1;
        if (s[i + 1] == '?') {
            size_t e = find_str(s, i, len, "?>");
            if (e == (size_t)-1)
                return e;
            i = e + 2;
            continue;
        }
        size_t e = tag_end(s, i, len);
        if (e == (size_t)-1)
            return e;
        if (s[i + 1] == '/') {
            if (--depth == 0)
                return e + 1;
        } else if (s[e - 1] != '/') {
            depth++;
        } else if (depth == 0) {
            return e + 1;
        }
        i = e + 1;
    }
    return (size_t)-1;
}

static void send_header(fake_server *fs)
{
    fs->streams++;
    queue_out(fs,
              "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams' id='fake-%u' from='%s' "
              "version='1.0' xml:lang='en'>",
              fs->streams, fs->domain);
}

static void enqueue(fake_server *fs, canto_stanza *st)
{
    if (fs->qhead + fs->qlen == fs->qcap) {
        if (fs->qhead > 0) {
            memmove(fs->queue, fs->queue + fs->qhead, fs->qlen * sizeof(*fs->queue));
            fs->qhead = 0;
        } else {
            size_t cap = fs->qcap ? fs->qcap * 2 : 16;
            canto_stanza **q = realloc(fs->queue, cap * sizeof(*q));
            if (!q) {
                canto_stanza_free(st);
                return;
            }
            fs->queue = q;
            fs->qcap = cap;
        }
    }
    fs->queue[fs->qhead + fs->qlen++] = st;
}

#define NS_SM "urn:xmpp:sm:3"

/* Stream management (XEP-0198) elements: enable, resume, ack requests. */
static int on_sm_element(fake_server *fs, const canto_stanza *el)
{
    if (!fs->sm || !canto_stanza_is(el, NULL, NS_SM))
        return 0;
    const char *name = canto_stanza_name(el);
    if (strcmp(name, "enable") == 0 && fs->phase == PH_READY) {
        fs->sm_id++;
        fs->sm_in = 0;
        fs->sm_active = 1;
        queue_out(fs, "<enabled xmlns='" NS_SM "' id='fake-sm-%u' resume='true'/>", fs->sm_id);
    } else if (strcmp(name, "resume") == 0 && fs->phase == PH_BIND) {
        char want[32];
        snprintf(want, sizeof(want), "fake-sm-%u", fs->sm_id);
        const char *previd = canto_stanza_attr(el, "previd");
        if (fs->sm_active && previd && strcmp(previd, want) == 0 && !fs->refuse_resume) {
            queue_out(fs, "<resumed xmlns='" NS_SM "' previd='%s' h='%u'/>", want, fs->sm_in);
            fs->phase = PH_READY;
            fs->resumptions++;
        } else {
            queue_out(fs, "<failed xmlns='" NS_SM "'><item-not-found "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
        }
    } else if (strcmp(name, "r") == 0 && fs->phase == PH_READY) {
        queue_out(fs, "<a xmlns='" NS_SM "' h='%u'/>", fs->sm_in);
    }
    return 1; /* <a/> and anything else of the namespace: nothing to do */
}

static void on_element(fake_server *fs, canto_stanza *el)
{
    if (on_sm_element(fs, el)) {
        canto_stanza_free(el);
        return;
    }
    switch (fs->phase) {
    case PH_AUTH:
        if (canto_stanza_is(el, "auth", "urn:ietf:params:xml:ns:xmpp-sasl")) {
            queue_out(fs, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
            fs->phase = PH_HEADER2;
        }
        break;
    case PH_BIND:
        if (canto_stanza_is(el, "iq", NULL) && canto_stanza_child(el, "bind", NULL)) {
            queue_out(fs,
                      "<iq type='result' id='%s'><bind "
                      "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>%s</jid></bind></iq>",
                      canto_stanza_attr(el, "id") ? canto_stanza_attr(el, "id") : "", fs->jid);
            fs->phase = PH_READY;
            fs->sessions++;
            fs->sm_active = 0; /* a new session forgets the old one */
        }
        break;
    case PH_READY:
        if (fs->sm_active)
            fs->sm_in++; /* only stanzas reach here: message, presence, iq */
        enqueue(fs, canto_stanza_ref(el));
        break;
    default:
        break;
    }
    canto_stanza_free(el);
}

static void on_header(fake_server *fs)
{
    if (fs->phase == PH_HEADER1) {
        send_header(fs);
        queue_out(fs, "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                      "<mechanism>ANONYMOUS</mechanism></mechanisms></stream:features>");
        fs->phase = PH_AUTH;
    } else if (fs->phase == PH_HEADER2) {
        send_header(fs);
        queue_out(fs,
                  "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>%s%s"
                  "</stream:features>",
                  fs->sm ? "<sm xmlns='" NS_SM "'/>" : "", fs->features ? fs->features : "");
        fs->phase = PH_BIND;
    }
}

static void process_input(fake_server *fs)
{
    const char *s = fs->in;
    size_t len = fs->in_len, pos = 0;
    int closed = 0;
    while (pos < len && !closed) {
        if (s[pos] != '<') {
            pos++; /* whitespace keepalives and stray text */
            continue;
        }
        if (pos + 1 >= len)
            break;
        if (s[pos + 1] == '?') {
            size_t e = find_str(s, pos, len, "?>");
            if (e == (size_t)-1)
                break;
            pos = e + 2;
            continue;
        }
        size_t te = tag_end(s, pos, len);
        if (te == (size_t)-1)
            break;
        if (s[pos + 1] == '/') {
            /* </stream:stream>: answer in kind and hang up. */
            fs->client_closed = 1;
            queue_out(fs, "</stream:stream>");
            flush_out(fs);
            closed = 1;
            pos = te + 1;
            break;
        }
        if (strncmp(s + pos, "<stream:stream", 14) == 0) {
            on_header(fs);
            pos = te + 1;
            continue;
        }
        size_t ee = element_end(s, pos, len);
        if (ee == (size_t)-1)
            break;
        canto_stanza *el;
        if (canto_stanza_parse(NULL, s + pos, ee - pos, &el) == 0)
            on_element(fs, el);
        else
            fprintf(stderr, "fake_server: cannot parse %.*s\n", (int)(ee - pos), s + pos);
        pos = ee;
    }
    if (closed) {
        close_conn(fs);
        return;
    }
    memmove(fs->in, fs->in + pos, len - pos);
    fs->in_len = len - pos;
}

static void poll_server(fake_server *fs, int timeout_ms)
{
    if (fs->fd < 0) {
        int fd = accept(fs->lfd, NULL, NULL);
        if (fd >= 0) {
            /* Canned stanzas must arrive at once, not after a delayed ACK. */
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            set_nonblock(fd);
            fs->fd = fd;
            fs->phase = PH_HEADER1;
            fs->in_len = fs->out_len = 0;
            fs->client_closed = 0;
        }
    }
    struct pollfd pfd = {fs->fd >= 0 ? fs->fd : fs->lfd, POLLIN, 0};
    if (fs->fd >= 0 && fs->out_len)
        pfd.events |= POLLOUT;
    if (poll(&pfd, 1, timeout_ms) <= 0 || fs->fd < 0)
        return;
    for (;;) {
        if (grow(&fs->in, &fs->in_cap, fs->in_len + 4096) != 0)
            return;
        ssize_t n = recv(fs->fd, fs->in + fs->in_len, 4096, 0);
        if (n > 0) {
            fs->in_len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        /* EOF or error: the client is gone. */
        process_input(fs);
        close_conn(fs);
        return;
    }
    process_input(fs);
    flush_out(fs);
}

/* --- driving -------------------------------------------------------------- */

static void step(fake_server *fs, canto_loop *loop)
{
    canto_loop_run_once(loop, 1);
    poll_server(fs, 1);
}

void fake_server_run(fake_server *fs, canto_loop *loop, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    do
        step(fs, loop);
    while (now_ms() < end);
}

int fake_server_wait(fake_server *fs, canto_loop *loop, int (*cond)(void *ud), void *ud,
                     int timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    while (!cond(ud)) {
        if (now_ms() >= end)
            return 0;
        step(fs, loop);
    }
    return 1;
}

static int connect_done(void *ud)
{
    canto_client_state st = canto_client_get_state(ud);
    return st == CANTO_CLIENT_CONNECTED || st == CANTO_CLIENT_DISCONNECTED;
}

int fake_server_connect(fake_server *fs, canto_loop *loop, canto_client *client, int timeout_ms)
{
    if (canto_client_connect(client) != 0)
        return -1;
    fake_server_wait(fs, loop, connect_done, client, timeout_ms);
    return canto_client_get_state(client) == CANTO_CLIENT_CONNECTED ? 0 : -1;
}

typedef struct sync_wait {
    fake_server *fs;
    char id[32];
} sync_wait;

static int sync_answered(void *ud)
{
    sync_wait *w = ud;
    fake_server *fs = w->fs;
    for (size_t i = 0; i < fs->qlen; i++) {
        canto_stanza *st = fs->queue[fs->qhead + i];
        const char *id = canto_stanza_attr(st, "id");
        if (canto_stanza_is(st, "iq", NULL) && id && strcmp(id, w->id) == 0) {
            canto_stanza_free(st);
            memmove(&fs->queue[fs->qhead + i], &fs->queue[fs->qhead + i + 1],
                    (fs->qlen - i - 1) * sizeof(*fs->queue));
            fs->qlen--;
            return 1;
        }
    }
    return 0;
}

int fake_server_sync(fake_server *fs, canto_loop *loop, int timeout_ms)
{
    sync_wait w = {fs, ""};
    snprintf(w.id, sizeof(w.id), "fake-sync-%u", ++fs->syncs);
    if (fake_server_send(fs, "<iq type='get' id='%s'><sync xmlns='urn:canto:test:sync'/></iq>",
                         w.id) != 0)
        return -1;
    return fake_server_wait(fs, loop, sync_answered, &w, timeout_ms) ? 0 : -1;
}

static int have_stanza(void *ud)
{
    return ((fake_server *)ud)->qlen > 0;
}

canto_stanza *fake_server_next(fake_server *fs, canto_loop *loop, int timeout_ms)
{
    if (!fake_server_wait(fs, loop, have_stanza, fs, timeout_ms))
        return NULL;
    canto_stanza *st = fs->queue[fs->qhead++];
    if (--fs->qlen == 0)
        fs->qhead = 0;
    return st;
}

canto_stanza *fake_server_next_named(fake_server *fs, canto_loop *loop, const char *name,
                                     const char *type, int timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = now_ms();
        int left = now >= end ? 0 : (int)(end - now);
        canto_stanza *st = fake_server_next(fs, loop, left);
        if (!st)
            return NULL;
        const char *t = canto_stanza_attr(st, "type");
        if (canto_stanza_is(st, name, NULL) && (type ? t && strcmp(t, type) == 0 : !t))
            return st;
        canto_stanza_free(st);
    }
}

size_t fake_server_pending(const fake_server *fs)
{
    return fs->qlen;
}

void fake_server_discard(fake_server *fs)
{
    for (size_t i = 0; i < fs->qlen; i++)
        canto_stanza_free(fs->queue[fs->qhead + i]);
    fs->qhead = fs->qlen = 0;
}

void fake_server_drop(fake_server *fs)
{
    close_conn(fs);
}

int fake_server_connected(const fake_server *fs)
{
    return fs->fd >= 0;
}

void fake_server_set_sm(fake_server *fs, int offer, int refuse_resume)
{
    fs->sm = offer;
    fs->refuse_resume = refuse_resume;
}

unsigned fake_server_resumptions(const fake_server *fs)
{
    return fs->resumptions;
}

unsigned fake_server_sessions(const fake_server *fs)
{
    return fs->sessions;
}

int fake_server_client_closed(const fake_server *fs)
{
    return fs->client_closed;
}
