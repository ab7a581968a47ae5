/* mDNS engine core: life cycle, interfaces, packet output and dispatch of
 * input and timers to the responder (responder.c) and browser (browser.c). */
#include "mdns/engine_impl.h"

#include <string.h>
#include <sys/socket.h>

#include <canto/error.h>

#include "base/id.h"

/* xorshift64*: delays only need to differ between hosts, not be secret. */
uint32_t mdns_rand(canto__mdns *m, uint32_t lo, uint32_t hi)
{
    m->rng ^= m->rng >> 12;
    m->rng ^= m->rng << 25;
    m->rng ^= m->rng >> 27;
    uint64_t r = m->rng * 0x2545F4914F6CDD1DULL;
    if (hi <= lo)
        return lo;
    return lo + (uint32_t)((r >> 32) % ((uint64_t)hi - lo + 1));
}

int mdns_iface_pos(const canto__mdns *m, unsigned ifindex)
{
    for (size_t i = 0; i < m->nifs; i++)
        if (m->ifs[i].ifindex == ifindex)
            return (int)i;
    return -1;
}

unsigned mdns_hash(const char *name)
{
    /* FNV-1a over the lower-cased name: DNS names compare case-insensitively */
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        unsigned char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        h = (h ^ c) * 16777619u;
    }
    return h;
}

/* The spelling msg.h gives received names: our own names must be written the
 * same way so that hashing the text finds them. */
int mdns_escape_label(const char *label, char *out, size_t cap)
{
    size_t n = 0, raw = 0;
    for (const unsigned char *p = (const unsigned char *)label; *p; p++, raw++) {
        unsigned char c = *p;
        char tmp[5];
        size_t k;
        if (c == '.' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            k = 2;
        } else if (c < 0x20 || c == 0x7f) {
            tmp[0] = '\\';
            tmp[1] = (char)('0' + c / 100);
            tmp[2] = (char)('0' + c / 10 % 10);
            tmp[3] = (char)('0' + c % 10);
            k = 4;
        } else {
            tmp[0] = (char)c;
            k = 1;
        }
        if (n + k + 1 > cap)
            return CANTO_EINVAL;
        memcpy(out + n, tmp, k);
        n += k;
    }
    if (raw == 0 || raw > 63)
        return CANTO_EINVAL;
    out[n] = '\0';
    return 0;
}

int mdns_first_label(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    const char *p = name;
    while (*p && *p != '.') {
        unsigned char c;
        if (*p == '\\') {
            if (p[1] >= '0' && p[1] <= '9') {
                if (!(p[2] >= '0' && p[2] <= '9' && p[3] >= '0' && p[3] <= '9'))
                    return -1;
                unsigned v = (unsigned)(p[1] - '0') * 100 + (unsigned)(p[2] - '0') * 10 +
                             (unsigned)(p[3] - '0');
                if (v > 255)
                    return -1;
                c = (unsigned char)v;
                p += 4;
            } else if (p[1]) {
                c = (unsigned char)p[1];
                p += 2;
            } else {
                return -1;
            }
        } else {
            c = (unsigned char)*p++;
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return (int)(p - name);
}

char *mdns_strdup(canto__mdns *m, const char *s)
{
    return canto__strndup(&m->alloc, s, strlen(s));
}

char *mdns_concat(canto__mdns *m, const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = canto__malloc(&m->alloc, la + lb + lc + 1);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

/* ---- output ---- */

static void out_init(canto__mdns *m, size_t cap)
{
    mdns_out *o = &m->out;
    canto__mdns_build_init(&o->b, o->buf, cap, o->id, o->flags);
    o->nrec = 0;
}

void mdns_out_begin(canto__mdns *m, int ii, const canto__mdns_addr *unicast, uint16_t id,
                    uint16_t flags, int is_query)
{
    mdns_out *o = &m->out;
    o->m = m;
    o->ii = ii;
    o->unicast = unicast;
    o->id = id;
    o->flags = flags;
    o->is_query = is_query;
    o->failed = 0;
    out_init(m, unicast ? CANTO__MDNS_MAX_PACKET : MDNS_MTU_PAYLOAD);
}

static void loop_queue(canto__mdns *m, int ii, const uint8_t *pkt, size_t len)
{
    mdns_loop *l = canto__malloc(&m->alloc, sizeof(*l) + len);
    if (!l)
        return;
    l->next = NULL;
    l->ii = ii;
    l->len = len;
    memcpy(l->pkt, pkt, len);
    if (m->loop_tail)
        m->loop_tail->next = l;
    else
        m->loop_head = l;
    m->loop_tail = l;
}

static void out_flush(canto__mdns *m, int more)
{
    mdns_out *o = &m->out;
    if (o->nrec == 0)
        return;
    size_t len = canto__mdns_build_finish(&o->b);
    if (more && o->is_query)
        o->buf[2] |= (uint8_t)(MDNS_TC_FLAG >> 8);
    if (o->unicast) {
        canto__mdns_dest d = {o->unicast->ifindex, o->unicast->family, o->unicast};
        if (m->ev.send)
            m->ev.send(m->ud, o->buf, len, &d);
    } else if (o->ii >= 0 && (size_t)o->ii < m->nifs) {
        const canto__mdns_iface *f = &m->ifs[o->ii];
        canto__mdns_dest d = {f->ifindex, AF_INET, NULL};
        if (f->has_v4 && m->ev.send)
            m->ev.send(m->ud, o->buf, len, &d);
        d.family = AF_INET6;
        if (f->has_v6 && m->ev.send)
            m->ev.send(m->ud, o->buf, len, &d);
        /* We hear our own multicast, as a host on the link would: own
         * services get browsed and own probes recognised. */
        if (m->loopback)
            loop_queue(m, o->ii, o->buf, len);
    }
    out_init(m, o->unicast ? CANTO__MDNS_MAX_PACKET : MDNS_MTU_PAYLOAD);
}

int mdns_out_add(canto__mdns *m, const canto__mdns_rr *rr)
{
    mdns_out *o = &m->out;
    int rc = canto__mdns_build_add(&o->b, rr);
    if (rc == CANTO_ETOOBIG && o->nrec > 0) {
        out_flush(m, 1);
        /* a continuation packet holds no questions; its records go in order */
        rc = canto__mdns_build_add(&o->b, rr);
    }
    if (rc == CANTO_ETOOBIG && o->b.cap < CANTO__MDNS_MAX_PACKET) {
        out_init(m, CANTO__MDNS_MAX_PACKET);
        rc = canto__mdns_build_add(&o->b, rr);
        if (rc == 0) {
            o->nrec++;
            out_flush(m, 1);
            return 0;
        }
    }
    if (rc != 0) {
        o->failed = 1;
        canto__logf(&m->log, CANTO_LOG_WARN, MDNS_AREA, "cannot write record %s type %u: %s",
                    rr->name, rr->type, canto_strerror(rc));
        return rc;
    }
    o->nrec++;
    return 0;
}

void mdns_out_end(canto__mdns *m)
{
    out_flush(m, 0);
}

/* ---- calls in and out ---- */

void mdns_enter(canto__mdns *m, uint64_t now)
{
    m->depth++;
    if (now > m->now)
        m->now = now;
}

static void process(canto__mdns *m, int ii, const canto__mdns_addr *src)
{
    if (m->msg.flags & 0x8000u) {
        /* §11: responses not from port 5353 are not mDNS responses */
        if (src->port != CANTO__MDNS_PORT)
            return;
        mdns_resp_response(m, ii);
        mdns_browse_response(m, ii);
    } else {
        mdns_resp_query(m, ii, src);
    }
}

static void drain_loopback(canto__mdns *m)
{
    while (m->loop_head) {
        mdns_loop *l = m->loop_head;
        m->loop_head = l->next;
        if (!m->loop_head)
            m->loop_tail = NULL;
        if (l->ii >= 0 && (size_t)l->ii < m->nifs &&
            canto__mdns_parse(l->pkt, l->len, &m->msg) == 0) {
            const canto__mdns_iface *f = &m->ifs[l->ii];
            canto__mdns_addr src;
            memset(&src, 0, sizeof(src));
            if (f->naddrs > 0)
                src = f->addrs[0];
            src.ifindex = f->ifindex;
            src.port = CANTO__MDNS_PORT;
            process(m, l->ii, &src);
        }
        canto__dealloc(&m->alloc, l);
    }
}

void mdns_leave(canto__mdns *m)
{
    if (m->depth > 1) {
        m->depth--;
        return;
    }
    /* Outermost call: callbacks run from here, and whatever they change is
     * handled before returning, so no list is modified while being walked. */
    for (int rounds = 0; rounds < 16; rounds++) {
        drain_loopback(m);
        if (!mdns_browse_pending(m) && !m->loop_head)
            break;
        mdns_browse_evaluate(m);
    }
    mdns_resp_gc(m);
    m->depth--;
}

int canto__mdns_new(const canto__alloc *alloc, const canto__log *log, const char *host,
                    const canto__mdns_events *ev, void *ud, canto__mdns **out)
{
    if (!alloc || !host || !ev || !out)
        return CANTO_EINVAL;
    *out = NULL;
    char esc[CANTO__MDNS_NAME_MAX];
    if (mdns_escape_label(host, esc, sizeof(esc)) != 0)
        return CANTO_EINVAL;
    canto__mdns *m = canto__calloc(alloc, 1, sizeof(*m));
    if (!m)
        return CANTO_ENOMEM;
    m->alloc = *alloc;
    if (log)
        m->log = *log;
    m->ev = *ev;
    m->ud = ud;
    m->loopback = 1;
    m->host_ttl = 120;
    m->other_ttl = 4500;
    m->next_handle = 1;
    m->host.next = MDNS_NEVER;
    char seed[21];
    canto__random_id(seed, sizeof(seed));
    m->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)m;
    for (const char *p = seed; *p; p++)
        m->rng = (m->rng ^ (unsigned char)*p) * 0x100000001B3ULL;
    if (!m->rng)
        m->rng = 1;
    m->host_base = mdns_strdup(m, host);
    m->host_label = mdns_strdup(m, host);
    m->host_full = mdns_concat(m, esc, ".local", "");
    if (!m->host_base || !m->host_label || !m->host_full) {
        canto__mdns_free(m, 0);
        return CANTO_ENOMEM;
    }
    *out = m;
    return 0;
}

void canto__mdns_free(canto__mdns *m, uint64_t now)
{
    if (!m)
        return;
    m->depth = 1;
    m->now = now > m->now ? now : m->now;
    mdns_resp_goodbye_all(m);
    mdns_resp_free(m);
    mdns_browse_free(m);
    mdns_cache_free(m);
    while (m->loop_head) {
        mdns_loop *l = m->loop_head;
        m->loop_head = l->next;
        canto__dealloc(&m->alloc, l);
    }
    canto__dealloc(&m->alloc, m->host_base);
    canto__dealloc(&m->alloc, m->host_label);
    canto__dealloc(&m->alloc, m->host_full);
    canto__alloc a = m->alloc;
    canto__dealloc(&a, m);
}

static int same_ifaces(const canto__mdns *m, const canto__mdns_iface *ifs, size_t n)
{
    if (n != m->nifs)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const canto__mdns_iface *a = &m->ifs[i], *b = &ifs[i];
        if (a->ifindex != b->ifindex || !a->has_v4 != !b->has_v4 || !a->has_v6 != !b->has_v6 ||
            a->naddrs != b->naddrs)
            return 0;
        for (size_t j = 0; j < a->naddrs; j++)
            if (a->addrs[j].family != b->addrs[j].family ||
                memcmp(a->addrs[j].addr, b->addrs[j].addr, 16) != 0)
                return 0;
    }
    return 1;
}

int canto__mdns_set_ifaces(canto__mdns *m, const canto__mdns_iface *ifs, size_t n, uint64_t now)
{
    if (!m || (n && !ifs))
        return CANTO_EINVAL;
    if (n > MDNS_MAX_IFACES)
        return CANTO_ETOOBIG;
    for (size_t i = 0; i < n; i++)
        if (ifs[i].naddrs > 8)
            return CANTO_EINVAL;
    mdns_enter(m, now);
    if (same_ifaces(m, ifs, n)) {
        /* a refresh that found nothing new must not restart probing */
        mdns_leave(m);
        return 0;
    }
    /* Interfaces that went away take their cache with them. */
    for (size_t i = 0; i < m->nifs; i++) {
        int kept = 0;
        for (size_t j = 0; j < n; j++)
            kept |= ifs[j].ifindex == m->ifs[i].ifindex;
        if (!kept)
            mdns_cache_forget_iface(m, m->ifs[i].ifindex);
    }
    /* Per-interface state is indexed by position: move it along with the
     * interfaces. */
    int map[MDNS_MAX_IFACES];
    for (size_t j = 0; j < n; j++) {
        map[j] = -1;
        for (size_t i = 0; i < m->nifs; i++)
            if (m->ifs[i].ifindex == ifs[j].ifindex)
                map[j] = (int)i;
    }
    mdns_rstate tmp;
    for (int k = 0; k < 2; k++) {
        tmp = m->host_r[k];
        memset(&m->host_r[k], 0, sizeof(m->host_r[k]));
        for (size_t j = 0; j < n; j++)
            if (map[j] >= 0)
                m->host_r[k].last_mc[j] = tmp.last_mc[map[j]];
    }
    for (mdns_svc *s = m->svcs; s; s = s->next)
        for (int k = 0; k < K_COUNT; k++) {
            tmp = s->r[k];
            memset(&s->r[k], 0, sizeof(s->r[k]));
            for (size_t j = 0; j < n; j++)
                if (map[j] >= 0)
                    s->r[k].last_mc[j] = tmp.last_mc[map[j]];
        }
    /* Loopback packets refer to interfaces by position too. */
    for (mdns_loop *l = m->loop_head; l; l = l->next) {
        int np = -1;
        for (size_t j = 0; j < n; j++)
            if (map[j] == l->ii)
                np = (int)j;
        l->ii = np;
    }
    if (n)
        memcpy(m->ifs, ifs, n * sizeof(*ifs));
    m->nifs = n;
    mdns_resp_ifaces_changed(m);
    mdns_browse_ifaces_changed(m);
    mdns_leave(m);
    return 0;
}

int canto__mdns_input(canto__mdns *m, const void *pkt, size_t len, const canto__mdns_addr *src,
                      uint64_t now)
{
    if (!m || !pkt || !src)
        return CANTO_EINVAL;
    mdns_enter(m, now);
    int rc = canto__mdns_parse(pkt, len, &m->msg);
    if (rc != 0) {
        canto__logf(&m->log, CANTO_LOG_DEBUG, MDNS_AREA,
                    "ignoring malformed packet (%zu bytes): %s", len, canto_strerror(rc));
    } else {
        int ii = mdns_iface_pos(m, src->ifindex);
        if (ii >= 0)
            process(m, ii, src);
    }
    mdns_leave(m);
    return rc;
}

uint64_t canto__mdns_deadline(const canto__mdns *m)
{
    if (!m)
        return MDNS_NEVER;
    uint64_t a = mdns_resp_deadline(m), b = mdns_browse_deadline(m), c = mdns_cache_deadline(m);
    uint64_t d = a < b ? a : b;
    return d < c ? d : c;
}

void canto__mdns_timeout(canto__mdns *m, uint64_t now)
{
    if (!m)
        return;
    mdns_enter(m, now);
    mdns_cache_timeout(m);
    mdns_resp_timeout(m);
    mdns_browse_timeout(m);
    mdns_leave(m);
}

int canto__mdns_set_ttls(canto__mdns *m, uint32_t host_ttl, uint32_t other_ttl)
{
    if (!m)
        return CANTO_EINVAL;
    if (host_ttl)
        m->host_ttl = host_ttl;
    if (other_ttl)
        m->other_ttl = other_ttl;
    return 0;
}

void canto__mdns_set_loopback(canto__mdns *m, int on)
{
    if (m)
        m->loopback = on != 0;
}

size_t canto__mdns_cache_size(const canto__mdns *m)
{
    return m ? m->ncache : 0;
}
