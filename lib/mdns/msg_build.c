/* Writing an mDNS message into the caller's buffer. dn_comp() packs and
 * compresses every name against the table of names already written, so
 * the builder only adds the mDNS class bits and the rdata layout. */
#include "mdns/msg.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>

#include <canto/error.h>

#define HEADER_LEN 12
#define TOP_BIT 0x8000u
#define NPTRS (sizeof(((canto__mdns_builder *)0)->dnptrs) / sizeof(const unsigned char *))

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffffu);
}

void canto__mdns_build_init(canto__mdns_builder *b, void *buf, size_t cap, uint16_t id,
                            uint16_t flags)
{
    memset(b, 0, sizeof *b);
    b->buf = buf;
    b->cap = cap > CANTO__MDNS_MAX_PACKET ? CANTO__MDNS_MAX_PACKET : cap;
    if (!buf || b->cap < HEADER_LEN) {
        /* Every add then says ETOOBIG and finish gives 0. */
        b->cap = 0;
        return;
    }
    memset(b->buf, 0, HEADER_LEN);
    put16(b->buf, id);
    put16(b->buf + 2, flags);
    b->len = HEADER_LEN;
    /* dn_comp() wants the message start first, then the names it may point
     * at, NULL-terminated. */
    b->dnptrs[0] = b->buf;
    b->dnptrs[1] = NULL;
    b->lastdnptr = b->dnptrs + NPTRS;
}

/* dn_comp() says -1 both for a bad name and for no room; names are checked
 * beforehand, so here it can only mean the packet is full. */
static int comp(canto__mdns_builder *b, const char *name, uint8_t **p)
{
    size_t room = b->cap - (size_t)(*p - b->buf);
    /* The table lives in the builder: re-anchor its end in case the caller
     * moved the struct. */
    b->lastdnptr = b->dnptrs + NPTRS;
    int n =
        dn_comp(name, *p, (int)room, (unsigned char **)b->dnptrs, (unsigned char **)b->lastdnptr);
    if (n < 0)
        return -1;
    *p += n;
    return 0;
}

static int valid_name(const char *name)
{
    uint8_t wire[NS_MAXCDNAME];
    return name && canto__mdns_name_to_wire(name, wire, sizeof wire) >= 0;
}

static int check_rdata(const canto__mdns_rr *rr)
{
    switch (rr->type) {
    case CANTO__MDNS_T_A:
    case CANTO__MDNS_T_AAAA:
        return 0;
    case CANTO__MDNS_T_PTR:
        return valid_name(rr->u.target) ? 0 : CANTO_EINVAL;
    case CANTO__MDNS_T_SRV:
        return valid_name(rr->u.srv.target) ? 0 : CANTO_EINVAL;
    case CANTO__MDNS_T_TXT:
        return canto__mdns_txt_valid(rr->u.txt.data, rr->u.txt.len) ? 0 : CANTO_EINVAL;
    default:
        return rr->u.txt.len <= CANTO__MDNS_TXT_MAX ? 0 : CANTO_EINVAL;
    }
}

/* Returns -1 when the packet is full. */
static int put_rdata(canto__mdns_builder *b, const canto__mdns_rr *rr, uint8_t **pp)
{
    uint8_t *p = *pp, *end = b->buf + b->cap;
    const uint8_t *raw = NULL;
    size_t rawlen = 0;
    static const uint8_t empty_txt = 0;

    switch (rr->type) {
    case CANTO__MDNS_T_A:
        raw = rr->u.a;
        rawlen = sizeof rr->u.a;
        break;
    case CANTO__MDNS_T_AAAA:
        raw = rr->u.aaaa;
        rawlen = sizeof rr->u.aaaa;
        break;
    case CANTO__MDNS_T_PTR:
        if (comp(b, rr->u.target, &p) < 0)
            return -1;
        break;
    case CANTO__MDNS_T_SRV:
        if (end - p < 6)
            return -1;
        put16(p, rr->u.srv.priority);
        put16(p + 2, rr->u.srv.weight);
        put16(p + 4, rr->u.srv.port);
        p += 6;
        if (comp(b, rr->u.srv.target, &p) < 0)
            return -1;
        break;
    case CANTO__MDNS_T_TXT:
        /* RFC 6763 §6.1: never zero strings on the wire. */
        raw = rr->u.txt.len ? rr->u.txt.data : &empty_txt;
        rawlen = rr->u.txt.len ? rr->u.txt.len : 1;
        break;
    default:
        raw = rr->u.txt.data;
        rawlen = rr->u.txt.len;
        break;
    }
    if (raw) {
        if ((size_t)(end - p) < rawlen)
            return -1;
        memcpy(p, raw, rawlen);
        p += rawlen;
    }
    *pp = p;
    return 0;
}

int canto__mdns_build_add(canto__mdns_builder *b, const canto__mdns_rr *rr)
{
    if (!b || !rr)
        return CANTO_EINVAL;
    if ((unsigned)rr->section > CANTO__MDNS_AR || (int)rr->section < b->section)
        return CANTO_EINVAL;
    if (!valid_name(rr->name))
        return CANTO_EINVAL;
    int qd = rr->section == CANTO__MDNS_QD;
    if (!qd) {
        int rc = check_rdata(rr);
        if (rc < 0)
            return rc;
    }
    if (b->cap == 0)
        return CANTO_ETOOBIG;
    /* More would be refused by our own parser, and by peers built alike. */
    if ((unsigned long)b->counts[0] + b->counts[1] + b->counts[2] + b->counts[3] >=
        CANTO__MDNS_MAX_RECORDS)
        return CANTO_ETOOBIG;

    /* Remember where the name table ends, so that the names of a record that
     * does not fit are forgotten along with it. */
    size_t nptr = 1;
    while (nptr < NPTRS && b->dnptrs[nptr])
        nptr++;

    uint8_t *p = b->buf + b->len, *end = b->buf + b->cap;
    if (comp(b, rr->name, &p) < 0)
        goto full;
    if (end - p < 4)
        goto full;
    put16(p, rr->type);
    unsigned cls = rr->rclass & ~TOP_BIT;
    if (qd ? rr->unicast : rr->cache_flush)
        cls |= TOP_BIT;
    put16(p + 2, cls);
    p += 4;
    if (!qd) {
        if (end - p < 6)
            goto full;
        put32(p, rr->ttl);
        uint8_t *rdlen = p + 4;
        p += 6;
        if (put_rdata(b, rr, &p) < 0)
            goto full;
        put16(rdlen, (unsigned)(p - rdlen - 2));
    }
    b->len = (size_t)(p - b->buf);
    b->counts[rr->section]++;
    b->section = (int)rr->section;
    return 0;

full:
    if (nptr < NPTRS)
        b->dnptrs[nptr] = NULL;
    return CANTO_ETOOBIG;
}

size_t canto__mdns_build_finish(canto__mdns_builder *b)
{
    if (!b || b->cap == 0)
        return 0;
    for (int i = 0; i < 4; i++)
        put16(b->buf + 4 + 2 * i, b->counts[i]);
    return b->len;
}
