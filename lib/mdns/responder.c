/* mDNS responder (RFC 6762 §6-§10) and DNS-SD service publishing (RFC 6763):
 * probing, tie-breaking, renaming, announcing, answering and goodbyes. */
#include "mdns/engine_impl.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <canto/error.h>

enum { EM_NORMAL, EM_PROBE, EM_GOODBYE, EM_LEGACY };

static int live_state(mdns_ostate s)
{
    return s == OS_ANNOUNCING || s == OS_ESTABLISHED;
}

static int host_live(const canto__mdns *m)
{
    return live_state(m->host.state);
}

static int svc_live(const mdns_svc *s)
{
    return !s->dead && live_state(s->o.state);
}

static mdns_rstate *rstate_of(canto__mdns *m, mdns_svc *s, int kind)
{
    return s ? &s->r[kind] : &m->host_r[kind];
}

static uint32_t ttl_of(const canto__mdns *m, int kind)
{
    return kind == K_A || kind == K_AAAA || kind == K_SRV ? m->host_ttl : m->other_ttl;
}

static void rr_init(canto__mdns_rr *rr, const char *name, uint16_t type, uint32_t ttl, int unique)
{
    memset(rr, 0, sizeof(*rr));
    rr->section = CANTO__MDNS_AN;
    snprintf(rr->name, sizeof(rr->name), "%s", name);
    rr->type = type;
    rr->rclass = CANTO__MDNS_CLASS_IN;
    rr->cache_flush = unique;
    rr->ttl = ttl;
}

/* The records of one set as sent on interface @p ii, into @p out. */
static int set_rrs(canto__mdns *m, mdns_svc *s, int kind, int ii, canto__mdns_rr *out, int max)
{
    uint32_t ttl = ttl_of(m, kind);
    int n = 0;
    if (kind == K_A || kind == K_AAAA) {
        const canto__mdns_iface *f = &m->ifs[ii];
        int fam = kind == K_A ? AF_INET : AF_INET6;
        for (size_t i = 0; i < f->naddrs && n < max; i++) {
            if (f->addrs[i].family != fam)
                continue;
            canto__mdns_rr *rr = &out[n++];
            rr_init(rr, m->host_full, kind == K_A ? CANTO__MDNS_T_A : CANTO__MDNS_T_AAAA, ttl, 1);
            memcpy(rr->u.aaaa, f->addrs[i].addr, kind == K_A ? 4 : 16);
        }
        return n;
    }
    if (max < 1)
        return 0;
    canto__mdns_rr *rr = out;
    switch (kind) {
    case K_PTR:
        rr_init(rr, s->ptrname, CANTO__MDNS_T_PTR, ttl, 0);
        snprintf(rr->u.target, sizeof(rr->u.target), "%s", s->fullname);
        break;
    case K_SRV:
        rr_init(rr, s->fullname, CANTO__MDNS_T_SRV, ttl, 1);
        rr->u.srv.port = s->port;
        snprintf(rr->u.srv.target, sizeof(rr->u.srv.target), "%s", m->host_full);
        break;
    default:
        rr_init(rr, s->fullname, CANTO__MDNS_T_TXT, ttl, 1);
        rr->u.txt.len = s->txt_len;
        if (s->txt_len)
            memcpy(rr->u.txt.data, s->txt, s->txt_len);
        break;
    }
    return 1;
}

static void emit_set(canto__mdns *m, mdns_svc *s, int kind, int ii, canto__mdns_section sec,
                     int mode)
{
    int n = set_rrs(m, s, kind, ii, m->ours, 8);
    for (int i = 0; i < n; i++) {
        canto__mdns_rr *rr = &m->ours[i];
        rr->section = sec;
        if (mode != EM_NORMAL)
            rr->cache_flush = 0; /* §10.2: only in responses, never to legacy */
        if (mode == EM_GOODBYE)
            rr->ttl = 0;
        if (mode == EM_LEGACY && rr->ttl > MDNS_LEGACY_TTL)
            rr->ttl = MDNS_LEGACY_TTL;
        mdns_out_add(m, rr);
    }
}

/* ---- responses built from marked sets ---- */

static void clear_marks(canto__mdns *m)
{
    m->host_r[K_A].mark = m->host_r[K_AAAA].mark = 0;
    for (mdns_svc *s = m->svcs; s; s = s->next)
        for (int k = 0; k < K_COUNT; k++)
            s->r[k].mark = 0;
}

/* RFC 6763 §12: a PTR answer brings its SRV, TXT and addresses along, an SRV
 * its addresses; RFC 6762 §6.2: an address answer the other family. */
static void mark_additionals(canto__mdns *m)
{
    int want_a = m->host_r[K_AAAA].mark == 1, want_aaaa = m->host_r[K_A].mark == 1;
    for (mdns_svc *s = m->svcs; s; s = s->next) {
        if (!svc_live(s))
            continue;
        if (s->r[K_PTR].mark == 1) {
            if (!s->r[K_SRV].mark)
                s->r[K_SRV].mark = 2;
            if (!s->r[K_TXT].mark)
                s->r[K_TXT].mark = 2;
        }
        if (s->r[K_SRV].mark)
            want_a = want_aaaa = 1;
    }
    if (host_live(m)) {
        if (want_a && !m->host_r[K_A].mark)
            m->host_r[K_A].mark = 2;
        if (want_aaaa && !m->host_r[K_AAAA].mark)
            m->host_r[K_AAAA].mark = 2;
    }
}

static void send_marked(canto__mdns *m, int ii, const canto__mdns_addr *unicast, uint16_t id,
                        int legacy)
{
    int any = m->host_r[K_A].mark == 1 || m->host_r[K_AAAA].mark == 1;
    for (mdns_svc *s = m->svcs; s; s = s->next)
        for (int k = K_PTR; k < K_COUNT; k++)
            any |= s->r[k].mark == 1;
    if (!any) {
        clear_marks(m);
        return;
    }
    mark_additionals(m);
    mdns_out_begin(m, ii, unicast, id, MDNS_RESP_FLAGS, 0);
    if (legacy) {
        /* §6.7: a legacy resolver wants its question back */
        for (size_t i = 0; i < m->msg.nrr; i++) {
            if (m->msg.rr[i].section != CANTO__MDNS_QD)
                continue;
            m->rr = m->msg.rr[i];
            m->rr.unicast = 0;
            mdns_out_add(m, &m->rr);
        }
    }
    int mode = legacy ? EM_LEGACY : EM_NORMAL;
    for (int pass = 1; pass <= 2; pass++) {
        canto__mdns_section sec = pass == 1 ? CANTO__MDNS_AN : CANTO__MDNS_AR;
        for (int k = K_A; k <= K_AAAA; k++)
            if (m->host_r[k].mark == pass) {
                emit_set(m, NULL, k, ii, sec, mode);
                if (!unicast)
                    m->host_r[k].last_mc[ii] = m->now;
            }
        for (mdns_svc *s = m->svcs; s; s = s->next)
            for (int k = K_PTR; k < K_COUNT; k++)
                if (s->r[k].mark == pass) {
                    emit_set(m, s, k, ii, sec, mode);
                    if (!unicast)
                        s->r[k].last_mc[ii] = m->now;
                }
    }
    mdns_out_end(m);
    clear_marks(m);
}

/* ---- names ---- */

static char *suffixed(canto__mdns *m, const char *base, unsigned n)
{
    char suffix[16];
    snprintf(suffix, sizeof(suffix), "-%u", n);
    size_t bl = strlen(base), sl = strlen(suffix);
    if (bl + sl > 63) {
        /* keep the label within 63 bytes without splitting a UTF-8 character */
        bl = 63 - sl;
        while (bl > 0 && ((unsigned char)base[bl] & 0xC0) == 0x80)
            bl--;
    }
    char *s = canto__malloc(&m->alloc, bl + sl + 1);
    if (!s)
        return NULL;
    memcpy(s, base, bl);
    memcpy(s + bl, suffix, sl + 1);
    return s;
}

static int svc_set_name(canto__mdns *m, mdns_svc *s, char *label)
{
    char esc[CANTO__MDNS_NAME_MAX];
    uint8_t wire[256];
    if (mdns_escape_label(label, esc, sizeof(esc)) != 0)
        return CANTO_EINVAL;
    char *full = mdns_concat(m, esc, ".", s->ptrname);
    if (!full)
        return CANTO_ENOMEM;
    if (strlen(full) >= CANTO__MDNS_NAME_MAX ||
        canto__mdns_name_to_wire(full, wire, sizeof(wire)) < 0) {
        canto__dealloc(&m->alloc, full);
        return CANTO_EINVAL;
    }
    canto__dealloc(&m->alloc, s->instance);
    canto__dealloc(&m->alloc, s->fullname);
    s->instance = label;
    s->fullname = full;
    return 0;
}

static int host_set_name(canto__mdns *m, char *label)
{
    char esc[CANTO__MDNS_NAME_MAX];
    if (mdns_escape_label(label, esc, sizeof(esc)) != 0)
        return CANTO_EINVAL;
    char *full = mdns_concat(m, esc, ".local", "");
    if (!full)
        return CANTO_ENOMEM;
    canto__dealloc(&m->alloc, m->host_label);
    canto__dealloc(&m->alloc, m->host_full);
    m->host_label = label;
    m->host_full = full;
    return 0;
}

/* ---- probing ---- */

static void start_probe(canto__mdns *m, mdns_owned *o, uint64_t delay)
{
    if (m->nifs == 0) {
        o->state = OS_IDLE;
        o->next = MDNS_NEVER;
        return;
    }
    o->state = OS_PROBING;
    o->probes = 0;
    o->next = m->now + delay;
}

/* §8.1: more than 15 conflicts in ten seconds means waiting 5 s before the
 * next probe, so that two misconfigured hosts do not flood the link. */
static uint64_t conflict_delay(canto__mdns *m, mdns_owned *o)
{
    if (m->now >= o->conflict_window + 10000) {
        o->conflict_window = m->now;
        o->conflicts = 0;
    }
    return ++o->conflicts >= 15 ? 5000 : mdns_rand(m, 0, 250);
}

static void reset_rstate(mdns_rstate *r, int n)
{
    memset(r, 0, (size_t)n * sizeof(*r));
}

static void svc_rename(canto__mdns *m, mdns_svc *s)
{
    unsigned n = s->suffix ? s->suffix + 1 : 2;
    for (;; n++) {
        char *label = suffixed(m, s->base, n);
        if (!label)
            return;
        /* skip names our own other services use */
        char esc[CANTO__MDNS_NAME_MAX];
        int taken = 0;
        if (mdns_escape_label(label, esc, sizeof(esc)) == 0) {
            char *full = mdns_concat(m, esc, ".", s->ptrname);
            for (mdns_svc *o = m->svcs; o && full; o = o->next)
                taken |= o != s && !o->dead && canto__mdns_name_eq(o->fullname, full);
            canto__dealloc(&m->alloc, full);
        }
        if (taken) {
            canto__dealloc(&m->alloc, label);
            continue;
        }
        if (svc_set_name(m, s, label) != 0) {
            canto__dealloc(&m->alloc, label);
            return;
        }
        break;
    }
    s->suffix = n;
    reset_rstate(s->r, K_COUNT);
    s->o.announced = 0;
    s->txt_announces = 0;
    start_probe(m, &s->o, conflict_delay(m, &s->o));
    canto__logf(&m->log, CANTO_LOG_INFO, MDNS_AREA, "service name taken, now probing %s",
                s->fullname);
    if (m->ev.renamed)
        m->ev.renamed(m->ud, s->handle, 0, s->instance);
}

static void host_rename(canto__mdns *m)
{
    unsigned n = m->host_suffix ? m->host_suffix + 1 : 2;
    char *label = suffixed(m, m->host_base, n);
    if (!label || host_set_name(m, label) != 0) {
        canto__dealloc(&m->alloc, label);
        return;
    }
    m->host_suffix = n;
    reset_rstate(m->host_r, 2);
    m->host.announced = 0;
    start_probe(m, &m->host, conflict_delay(m, &m->host));
    /* SRV records name the host: announced services go out again once the
     * new host name is ours. */
    for (mdns_svc *s = m->svcs; s; s = s->next)
        if (!s->dead && live_state(s->o.state)) {
            s->o.state = OS_WAIT_HOST;
            s->o.next = MDNS_NEVER;
        }
    canto__logf(&m->log, CANTO_LOG_INFO, MDNS_AREA, "host name taken, now probing %s",
                m->host_full);
    if (m->ev.renamed)
        m->ev.renamed(m->ud, 0, 1, m->host_full);
}

/* A unique name of ours is claimed by someone else. */
static void conflict(canto__mdns *m, mdns_svc *s)
{
    mdns_owned *o = s ? &s->o : &m->host;
    if (live_state(o->state)) {
        /* §9: we had it; probe again under the same name, and let the
         * probe decide who keeps it */
        canto__logf(&m->log, CANTO_LOG_DEBUG, MDNS_AREA, "conflict on %s, probing again",
                    s ? s->fullname : m->host_full);
        start_probe(m, o, conflict_delay(m, o));
        if (!s)
            for (mdns_svc *x = m->svcs; x; x = x->next)
                if (!x->dead && live_state(x->o.state)) {
                    x->o.state = OS_WAIT_HOST;
                    x->o.next = MDNS_NEVER;
                }
        return;
    }
    if (s)
        svc_rename(m, s);
    else
        host_rename(m);
}

/* §8.2: compare the sorted proposed records; 1 we win, -1 we lose, 0 same. */
static int tie_break(canto__mdns *m, mdns_svc *s, int ii, const char *name)
{
    const canto__mdns_rr *theirs[CANTO__MDNS_MAX_RECORDS];
    const canto__mdns_rr *ours[18];
    int nt = 0, no = 0;
    for (size_t i = 0; i < m->msg.nrr; i++) {
        const canto__mdns_rr *rr = &m->msg.rr[i];
        if (rr->section == CANTO__MDNS_NS && canto__mdns_name_eq(rr->name, name))
            theirs[nt++] = rr;
    }
    if (nt == 0)
        return 1;
    if (s) {
        no += set_rrs(m, s, K_SRV, ii, &m->ours[no], 1);
        no += set_rrs(m, s, K_TXT, ii, &m->ours[no], 1);
    } else {
        no += set_rrs(m, NULL, K_A, ii, &m->ours[no], 8);
        no += set_rrs(m, NULL, K_AAAA, ii, &m->ours[no], 8 - no);
    }
    for (int i = 0; i < no; i++)
        ours[i] = &m->ours[i];
    /* insertion sorts: at most a few records each */
    for (int i = 1; i < nt; i++)
        for (int j = i; j > 0 && canto__mdns_rdata_cmp(theirs[j - 1], theirs[j]) > 0; j--) {
            const canto__mdns_rr *t = theirs[j];
            theirs[j] = theirs[j - 1];
            theirs[j - 1] = t;
        }
    for (int i = 1; i < no; i++)
        for (int j = i; j > 0 && canto__mdns_rdata_cmp(ours[j - 1], ours[j]) > 0; j--) {
            const canto__mdns_rr *t = ours[j];
            ours[j] = ours[j - 1];
            ours[j - 1] = t;
        }
    for (int i = 0; i < no && i < nt; i++) {
        int c = canto__mdns_rdata_cmp(ours[i], theirs[i]);
        if (c != 0)
            return c > 0 ? 1 : -1;
    }
    return no == nt ? 0 : no > nt ? 1 : -1;
}

static void probe_lost(canto__mdns *m, mdns_owned *o, const char *name)
{
    canto__logf(&m->log, CANTO_LOG_DEBUG, MDNS_AREA,
                "simultaneous probe for %s lost, probing again in 1 s", name);
    /* §8.2: the winner gets a second to announce; our next probe then meets
     * its answer and we rename */
    o->state = OS_PROBING;
    o->probes = 0;
    o->next = m->now + 1000;
}

static int probing(const mdns_owned *o)
{
    return o->state == OS_PROBING || o->state == OS_WAIT_HOST;
}

/* ---- received queries ---- */

static int known_answer(canto__mdns *m, mdns_svc *s, int kind, int ii)
{
    int n = set_rrs(m, s, kind, ii, m->ours, 8);
    if (n == 0)
        return 1;
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (size_t j = 0; j < m->msg.nrr && !found; j++) {
            const canto__mdns_rr *ka = &m->msg.rr[j];
            /* §7.1: known with at least half our TTL left */
            found = ka->section == CANTO__MDNS_AN && ka->type == m->ours[i].type &&
                    (uint64_t)ka->ttl * 2 >= m->ours[i].ttl &&
                    canto__mdns_name_eq(ka->name, m->ours[i].name) &&
                    canto__mdns_rdata_eq(ka, &m->ours[i]);
        }
        if (!found)
            return 0;
    }
    return 1;
}

static void consider(canto__mdns *m, mdns_svc *s, int kind, int ii, const canto__mdns_rr *q,
                     int legacy, int probe)
{
    mdns_rstate *r = rstate_of(m, s, kind);
    if (r->mark == 1 || known_answer(m, s, kind, ii))
        return;
    uint64_t now = m->now;
    uint64_t ttl_ms = (uint64_t)ttl_of(m, kind) * 1000;
    uint64_t last = r->last_mc[ii];
    int recent = last && now - last < ttl_ms / 4;
    if (legacy || (q->unicast && recent)) {
        /* §5.4: the asker alone hears it, since the others heard it lately */
        r->mark = 1;
        return;
    }
    /* §6.2: not again within a second, a quarter second for probe defence */
    if (last && now - last < (probe ? 250u : 1000u))
        return;
    /* §6: a unique answer at once, a shared one after 20-120 ms so that
     * answers from several responders do not collide */
    uint64_t due = now + (kind == K_PTR ? mdns_rand(m, 20, 120) : 0);
    if (r->due[ii] == 0 || r->due[ii] > due)
        r->due[ii] = due;
}

static int qmatch(const canto__mdns_rr *q, const char *name, uint16_t type)
{
    return (q->type == type || q->type == CANTO__MDNS_T_ANY) &&
           (q->rclass == CANTO__MDNS_CLASS_IN || q->rclass == 255) &&
           canto__mdns_name_eq(q->name, name);
}

void mdns_resp_query(canto__mdns *m, int ii, const canto__mdns_addr *src)
{
    const canto__mdns_msg *msg = &m->msg;
    int probe = 0;
    for (size_t i = 0; i < msg->nrr; i++)
        probe |= msg->rr[i].section == CANTO__MDNS_NS;
    if (probe) {
        if (probing(&m->host) && tie_break(m, NULL, ii, m->host_full) < 0)
            probe_lost(m, &m->host, m->host_full);
        for (mdns_svc *s = m->svcs; s; s = s->next)
            if (!s->dead && probing(&s->o) && tie_break(m, s, ii, s->fullname) < 0)
                probe_lost(m, &s->o, s->fullname);
    }
    int legacy = src->port != CANTO__MDNS_PORT;
    for (size_t i = 0; i < msg->nrr; i++) {
        const canto__mdns_rr *q = &msg->rr[i];
        if (q->section != CANTO__MDNS_QD)
            continue;
        if (host_live(m)) {
            if (qmatch(q, m->host_full, CANTO__MDNS_T_A))
                consider(m, NULL, K_A, ii, q, legacy, probe);
            if (qmatch(q, m->host_full, CANTO__MDNS_T_AAAA))
                consider(m, NULL, K_AAAA, ii, q, legacy, probe);
        }
        for (mdns_svc *s = m->svcs; s; s = s->next) {
            if (!svc_live(s))
                continue;
            if (qmatch(q, s->ptrname, CANTO__MDNS_T_PTR))
                consider(m, s, K_PTR, ii, q, legacy, probe);
            if (qmatch(q, s->fullname, CANTO__MDNS_T_SRV))
                consider(m, s, K_SRV, ii, q, legacy, probe);
            if (qmatch(q, s->fullname, CANTO__MDNS_T_TXT))
                consider(m, s, K_TXT, ii, q, legacy, probe);
        }
    }
    /* Unicast answers go at once, to the port they came from (§6.7 legacy,
     * §5.4 QU). */
    send_marked(m, ii, src, legacy ? msg->id : 0, legacy);
}

/* ---- received responses ---- */

static int our_address(const canto__mdns *m, const canto__mdns_rr *rr)
{
    int fam = rr->type == CANTO__MDNS_T_A ? AF_INET : AF_INET6;
    size_t len = fam == AF_INET ? 4 : 16;
    for (size_t i = 0; i < m->nifs; i++)
        for (size_t j = 0; j < m->ifs[i].naddrs; j++)
            if (m->ifs[i].addrs[j].family == fam &&
                memcmp(m->ifs[i].addrs[j].addr, rr->u.aaaa, len) == 0)
                return 1;
    return 0;
}

void mdns_resp_response(canto__mdns *m, int ii)
{
    (void)ii;
    const canto__mdns_msg *msg = &m->msg;
    int host_hit = 0;
    for (size_t i = 0; i < msg->nrr; i++) {
        const canto__mdns_rr *rr = &msg->rr[i];
        /* a goodbye claims nothing */
        if (rr->section == CANTO__MDNS_QD || rr->section == CANTO__MDNS_NS || rr->ttl == 0 ||
            rr->rclass != CANTO__MDNS_CLASS_IN)
            continue;
        if (!host_hit && m->host.state != OS_IDLE &&
            (rr->type == CANTO__MDNS_T_A || rr->type == CANTO__MDNS_T_AAAA) &&
            canto__mdns_name_eq(rr->name, m->host_full) && !our_address(m, rr))
            host_hit = 1;
    }
    if (host_hit)
        conflict(m, NULL);
    for (mdns_svc *s = m->svcs; s; s = s->next) {
        if (s->dead || s->o.state == OS_IDLE)
            continue;
        for (size_t i = 0; i < msg->nrr; i++) {
            const canto__mdns_rr *rr = &msg->rr[i];
            if (rr->section == CANTO__MDNS_QD || rr->section == CANTO__MDNS_NS || rr->ttl == 0 ||
                rr->rclass != CANTO__MDNS_CLASS_IN ||
                (rr->type != CANTO__MDNS_T_SRV && rr->type != CANTO__MDNS_T_TXT) ||
                !canto__mdns_name_eq(rr->name, s->fullname))
                continue;
            set_rrs(m, s, rr->type == CANTO__MDNS_T_SRV ? K_SRV : K_TXT, 0, m->ours, 1);
            if (!canto__mdns_rdata_eq(rr, &m->ours[0])) {
                conflict(m, s);
                break;
            }
        }
    }
}

/* ---- timers ---- */

static void announce_svc(canto__mdns *m, mdns_svc *s)
{
    for (size_t ii = 0; ii < m->nifs; ii++) {
        s->r[K_PTR].mark = s->r[K_SRV].mark = s->r[K_TXT].mark = 1;
        send_marked(m, (int)ii, NULL, 0, 0);
    }
    s->o.announced = 1;
}

static void send_probes(canto__mdns *m)
{
    for (size_t ii = 0; ii < m->nifs; ii++) {
        mdns_out_begin(m, (int)ii, NULL, 0, 0, 1);
        /* §8.1: one packet asks for every name being probed (type ANY) and
         * proposes the records in the authority section. The QU bit §8.1
         * suggests is left off: port 5353 is shared (SO_REUSEPORT) by every
         * responder on the host, and the kernel hands a unicast reply to one
         * of them only, so a defender's answer could miss us (§15.1). */
        if (m->host.sel) {
            rr_init(&m->rr, m->host_full, CANTO__MDNS_T_ANY, 0, 0);
            m->rr.section = CANTO__MDNS_QD;
            mdns_out_add(m, &m->rr);
        }
        for (mdns_svc *s = m->svcs; s; s = s->next)
            if (s->o.sel) {
                rr_init(&m->rr, s->fullname, CANTO__MDNS_T_ANY, 0, 0);
                m->rr.section = CANTO__MDNS_QD;
                mdns_out_add(m, &m->rr);
            }
        if (m->host.sel) {
            emit_set(m, NULL, K_A, (int)ii, CANTO__MDNS_NS, EM_PROBE);
            emit_set(m, NULL, K_AAAA, (int)ii, CANTO__MDNS_NS, EM_PROBE);
        }
        for (mdns_svc *s = m->svcs; s; s = s->next)
            if (s->o.sel) {
                emit_set(m, s, K_SRV, (int)ii, CANTO__MDNS_NS, EM_PROBE);
                emit_set(m, s, K_TXT, (int)ii, CANTO__MDNS_NS, EM_PROBE);
            }
        mdns_out_end(m);
    }
    m->host.sel = 0;
    for (mdns_svc *s = m->svcs; s; s = s->next)
        s->o.sel = 0;
}

/* Probe step of one name: 1 when a probe goes out. */
static int probe_step(canto__mdns *m, mdns_owned *o, int is_host)
{
    if (o->state != OS_PROBING || o->next > m->now)
        return 0;
    if (o->probes < 3) {
        o->probes++;
        o->next = m->now + 250;
        o->sel = 1;
        return 1;
    }
    /* 250 ms after the third probe and nobody objected: the name is ours */
    if (is_host || host_live(m)) {
        o->state = OS_ANNOUNCING;
        o->announces = 2;
        o->next = m->now;
    } else {
        o->state = OS_WAIT_HOST;
        o->next = MDNS_NEVER;
    }
    return 0;
}

void mdns_resp_timeout(canto__mdns *m)
{
    uint64_t now = m->now;
    int any = probe_step(m, &m->host, 1);
    for (mdns_svc *s = m->svcs; s; s = s->next)
        if (!s->dead)
            any |= probe_step(m, &s->o, 0);
    if (any)
        send_probes(m);

    if (m->host.state == OS_ANNOUNCING && m->host.next <= now) {
        /* §8.3: unsolicited responses, cache-flush set on the unique records */
        for (size_t ii = 0; ii < m->nifs; ii++) {
            m->host_r[K_A].mark = m->host_r[K_AAAA].mark = 1;
            send_marked(m, (int)ii, NULL, 0, 0);
        }
        m->host.announced = 1;
        if (--m->host.announces > 0) {
            m->host.next = now + 1000;
        } else {
            m->host.state = OS_ESTABLISHED;
            m->host.next = MDNS_NEVER;
        }
    }
    if (host_live(m))
        for (mdns_svc *s = m->svcs; s; s = s->next)
            if (!s->dead && s->o.state == OS_WAIT_HOST && s->o.probes >= 3) {
                s->o.state = OS_ANNOUNCING;
                s->o.announces = 2;
                s->o.next = now;
            }
    for (mdns_svc *s = m->svcs; s; s = s->next) {
        if (s->dead)
            continue;
        if (s->o.state == OS_ANNOUNCING && s->o.next <= now) {
            int first = s->o.announces == 2;
            announce_svc(m, s);
            s->txt_announces = 0;
            if (--s->o.announces > 0) {
                s->o.next = now + 1000;
            } else {
                s->o.state = OS_ESTABLISHED;
                s->o.next = MDNS_NEVER;
            }
            if (first && (!s->published_as || strcmp(s->published_as, s->instance) != 0)) {
                char *p = mdns_strdup(m, s->instance);
                if (p) {
                    canto__dealloc(&m->alloc, s->published_as);
                    s->published_as = p;
                }
                if (m->ev.published)
                    m->ev.published(m->ud, s->handle, s->instance);
            }
        } else if (s->o.state == OS_ESTABLISHED && s->txt_announces && s->txt_next <= now) {
            for (size_t ii = 0; ii < m->nifs; ii++) {
                s->r[K_TXT].mark = 1;
                send_marked(m, (int)ii, NULL, 0, 0);
            }
            s->txt_next = --s->txt_announces ? now + 1000 : MDNS_NEVER;
        }
    }

    /* Multicast answers that have waited long enough; all of an interface's
     * go in one packet. */
    for (size_t ii = 0; ii < m->nifs; ii++) {
        int any_due = 0;
        for (int k = K_A; k <= K_AAAA; k++) {
            mdns_rstate *r = &m->host_r[k];
            if (r->due[ii] && r->due[ii] <= now) {
                r->due[ii] = 0;
                if (host_live(m)) {
                    r->mark = 1;
                    any_due = 1;
                }
            }
        }
        for (mdns_svc *s = m->svcs; s; s = s->next)
            for (int k = K_PTR; k < K_COUNT; k++) {
                mdns_rstate *r = &s->r[k];
                if (r->due[ii] && r->due[ii] <= now) {
                    r->due[ii] = 0;
                    if (svc_live(s)) {
                        r->mark = 1;
                        any_due = 1;
                    }
                }
            }
        if (any_due)
            send_marked(m, (int)ii, NULL, 0, 0);
    }
}

static uint64_t owned_deadline(const mdns_owned *o)
{
    return o->state == OS_PROBING || o->state == OS_ANNOUNCING ? o->next : MDNS_NEVER;
}

uint64_t mdns_resp_deadline(const canto__mdns *m)
{
    uint64_t d = owned_deadline(&m->host);
    for (size_t ii = 0; ii < m->nifs; ii++)
        for (int k = K_A; k <= K_AAAA; k++)
            if (m->host_r[k].due[ii] && m->host_r[k].due[ii] < d)
                d = m->host_r[k].due[ii];
    for (const mdns_svc *s = m->svcs; s; s = s->next) {
        if (s->dead)
            continue;
        uint64_t x = owned_deadline(&s->o);
        if (x < d)
            d = x;
        if (s->o.state == OS_ESTABLISHED && s->txt_announces && s->txt_next < d)
            d = s->txt_next;
        if (s->o.state == OS_WAIT_HOST && s->o.probes >= 3 && host_live(m))
            d = m->now < d ? m->now : d;
        for (size_t ii = 0; ii < m->nifs; ii++)
            for (int k = K_PTR; k < K_COUNT; k++)
                if (s->r[k].due[ii] && s->r[k].due[ii] < d)
                    d = s->r[k].due[ii];
    }
    return d;
}

/* ---- interfaces, goodbyes, life cycle ---- */

void mdns_resp_ifaces_changed(canto__mdns *m)
{
    /* New or changed interfaces: probe the host name again and announce
     * everything there (§8.3, §13); services probed before keep their name. */
    start_probe(m, &m->host, mdns_rand(m, 0, 250));
    for (mdns_svc *s = m->svcs; s; s = s->next) {
        if (s->dead)
            continue;
        if (m->nifs &&
            (live_state(s->o.state) || (s->o.state == OS_WAIT_HOST && s->o.probes >= 3))) {
            s->o.state = OS_WAIT_HOST;
            s->o.probes = 3;
            s->o.next = MDNS_NEVER;
        } else {
            start_probe(m, &s->o, mdns_rand(m, 0, 250));
        }
    }
}

static void goodbye_svc_on(canto__mdns *m, mdns_svc *s, int ii)
{
    emit_set(m, s, K_PTR, ii, CANTO__MDNS_AN, EM_GOODBYE);
    emit_set(m, s, K_SRV, ii, CANTO__MDNS_AN, EM_GOODBYE);
    emit_set(m, s, K_TXT, ii, CANTO__MDNS_AN, EM_GOODBYE);
}

void mdns_resp_goodbye_all(canto__mdns *m)
{
    for (size_t ii = 0; ii < m->nifs; ii++) {
        mdns_out_begin(m, (int)ii, NULL, 0, MDNS_RESP_FLAGS, 0);
        for (mdns_svc *s = m->svcs; s; s = s->next)
            if (!s->dead && s->o.announced)
                goodbye_svc_on(m, s, (int)ii);
        if (m->host.announced) {
            emit_set(m, NULL, K_A, (int)ii, CANTO__MDNS_AN, EM_GOODBYE);
            emit_set(m, NULL, K_AAAA, (int)ii, CANTO__MDNS_AN, EM_GOODBYE);
        }
        mdns_out_end(m);
    }
}

static void svc_free(canto__mdns *m, mdns_svc *s)
{
    canto__dealloc(&m->alloc, s->base);
    canto__dealloc(&m->alloc, s->instance);
    canto__dealloc(&m->alloc, s->fullname);
    canto__dealloc(&m->alloc, s->type);
    canto__dealloc(&m->alloc, s->ptrname);
    canto__dealloc(&m->alloc, s->txt);
    canto__dealloc(&m->alloc, s->published_as);
    canto__dealloc(&m->alloc, s);
}

void mdns_resp_gc(canto__mdns *m)
{
    for (mdns_svc **pp = &m->svcs; *pp;) {
        mdns_svc *s = *pp;
        if (s->dead) {
            *pp = s->next;
            svc_free(m, s);
        } else {
            pp = &s->next;
        }
    }
}

void mdns_resp_free(canto__mdns *m)
{
    for (mdns_svc *s = m->svcs, *next; s; s = next) {
        next = s->next;
        svc_free(m, s);
    }
    m->svcs = NULL;
}

static mdns_svc *svc_by_handle(const canto__mdns *m, unsigned handle)
{
    for (mdns_svc *s = m->svcs; s; s = s->next)
        if (s->handle == handle && !s->dead)
            return s;
    return NULL;
}

static int txt_ok(const uint8_t *txt, uint16_t len)
{
    return len == 0 || (txt && canto__mdns_txt_valid(txt, len));
}

int canto__mdns_publish(canto__mdns *m, const char *instance, const char *type, uint16_t port,
                        const uint8_t *txt, uint16_t txt_len, uint64_t now, unsigned *handle)
{
    if (!m || !instance || !handle || !mdns_type_valid(type) || !txt_ok(txt, txt_len))
        return CANTO_EINVAL;
    mdns_svc *s = canto__calloc(&m->alloc, 1, sizeof(*s));
    if (!s)
        return CANTO_ENOMEM;
    s->port = port;
    s->base = mdns_strdup(m, instance);
    s->type = mdns_strdup(m, type);
    s->ptrname = mdns_concat(m, type, ".local", "");
    char *label = mdns_strdup(m, instance);
    s->txt = canto__malloc(&m->alloc, txt_len ? txt_len : 1);
    int rc = !s->base || !s->type || !s->ptrname || !label || !s->txt ? CANTO_ENOMEM : 0;
    if (rc == 0)
        rc = svc_set_name(m, s, label);
    if (rc != 0) {
        canto__dealloc(&m->alloc, label);
        svc_free(m, s);
        return rc;
    }
    if (txt_len)
        memcpy(s->txt, txt, txt_len);
    s->txt_len = txt_len;
    mdns_enter(m, now);
    s->handle = m->next_handle++;
    if (m->next_handle == 0)
        m->next_handle = 1;
    s->o.next = MDNS_NEVER;
    s->txt_next = MDNS_NEVER;
    mdns_svc **pp = &m->svcs;
    while (*pp)
        pp = &(*pp)->next;
    *pp = s;
    *handle = s->handle;
    int taken = 0;
    for (mdns_svc *o = m->svcs; o; o = o->next)
        taken |= o != s && !o->dead && canto__mdns_name_eq(o->fullname, s->fullname);
    if (taken) {
        /* our own other service has the name: no need to ask the network */
        svc_rename(m, s);
    } else {
        start_probe(m, &s->o, mdns_rand(m, 0, 250));
    }
    mdns_leave(m);
    return 0;
}

int canto__mdns_update_txt(canto__mdns *m, unsigned handle, const uint8_t *txt, uint16_t txt_len,
                           uint64_t now)
{
    if (!m || !txt_ok(txt, txt_len))
        return CANTO_EINVAL;
    mdns_svc *s = svc_by_handle(m, handle);
    if (!s)
        return CANTO_ENOTFOUND;
    if (txt_len == s->txt_len && (txt_len == 0 || memcmp(txt, s->txt, txt_len) == 0))
        return 0;
    uint8_t *copy = canto__malloc(&m->alloc, txt_len ? txt_len : 1);
    if (!copy)
        return CANTO_ENOMEM;
    if (txt_len)
        memcpy(copy, txt, txt_len);
    mdns_enter(m, now);
    canto__dealloc(&m->alloc, s->txt);
    s->txt = copy;
    s->txt_len = txt_len;
    /* §8.4: the new data announced twice with the cache-flush bit, so that
     * caches drop the old TXT a second later */
    if (s->o.state == OS_ESTABLISHED) {
        s->txt_announces = 2;
        s->txt_next = m->now;
    }
    mdns_leave(m);
    return 0;
}

int canto__mdns_withdraw(canto__mdns *m, unsigned handle, uint64_t now)
{
    if (!m)
        return CANTO_EINVAL;
    mdns_svc *s = svc_by_handle(m, handle);
    if (!s)
        return CANTO_ENOTFOUND;
    mdns_enter(m, now);
    if (s->o.announced) {
        for (size_t ii = 0; ii < m->nifs; ii++) {
            mdns_out_begin(m, (int)ii, NULL, 0, MDNS_RESP_FLAGS, 0);
            goodbye_svc_on(m, s, (int)ii);
            mdns_out_end(m);
        }
    }
    s->dead = 1;
    mdns_leave(m);
    return 0;
}

const char *canto__mdns_instance(const canto__mdns *m, unsigned handle)
{
    const mdns_svc *s = m ? svc_by_handle(m, handle) : NULL;
    return s ? s->instance : NULL;
}

const char *canto__mdns_host(const canto__mdns *m)
{
    return m ? m->host_full : NULL;
}
