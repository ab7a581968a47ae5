/* Reading a received mDNS message. libresolv does the walking: ns_initparse()
 * checks that every section fits the packet exactly, ns_parserr() and
 * dn_expand() follow compression pointers with their loop and 255-byte
 * limits. What is left here is what libresolv does not know about mDNS: the
 * record limit, the per-type rdata shapes and our presentation form. */
#include "mdns/msg.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>

#include <canto/error.h>

#define HEADER_LEN 12
#define OPCODE_BITS 0x7800u
#define RCODE_BITS 0x000fu
#define TOP_BIT 0x8000u

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Wire name (trusted: it came out of ns_name_pton) to the form msg.h
 * documents. Only bytes that would change how the name splits into labels,
 * or that cannot sit in a C string, are escaped, so UTF-8 instance names
 * come out readable. */
static int wire_to_text(const uint8_t *wire, char *out, size_t cap)
{
    size_t o = 0;
    const uint8_t *p = wire;
    while (*p != 0) {
        unsigned n = *p++;
        if (n > 63)
            return -1;
        if (o > 0) {
            if (o + 1 >= cap)
                return -1;
            out[o++] = '.';
        }
        for (unsigned i = 0; i < n; i++) {
            unsigned c = p[i];
            if (c == '.' || c == '\\') {
                if (o + 2 >= cap)
                    return -1;
                out[o++] = '\\';
                out[o++] = (char)c;
            } else if (c < 0x20 || c == 0x7f) {
                if (o + 4 >= cap)
                    return -1;
                out[o++] = '\\';
                out[o++] = (char)('0' + c / 100);
                out[o++] = (char)('0' + c / 10 % 10);
                out[o++] = (char)('0' + c % 10);
            } else {
                if (o + 1 >= cap)
                    return -1;
                out[o++] = (char)c;
            }
        }
        p += n;
    }
    out[o] = '\0';
    return 0;
}

/* dn_expand()'s text escapes more than ours (every byte >= 0x80, spaces,
 * '@' ...); going back through the wire form gives one canonical spelling
 * whatever escapes the expansion chose. */
static int from_expanded(const char *expanded, char *out)
{
    uint8_t wire[NS_MAXCDNAME];
    if (ns_name_pton(expanded, wire, sizeof wire) < 0)
        return -1;
    return wire_to_text(wire, out, CANTO__MDNS_NAME_MAX);
}

/* A name inside rdata: relative to the whole message, because compression
 * pointers may lead anywhere before (or after) it. Returns the bytes the name
 * takes at @p src. */
static int expand_at(const ns_msg *h, const uint8_t *src, char *out)
{
    char expanded[NS_MAXDNAME];
    int n = dn_expand(ns_msg_base(*h), ns_msg_end(*h), src, expanded, sizeof expanded);
    if (n < 0 || from_expanded(expanded, out) < 0)
        return -1;
    return n;
}

/* 1: record filled, 0: record of an unknown type too big to keep (skipped),
 * or CANTO_EPROTO. */
static int fill(const ns_msg *h, int sect, const ns_rr *r, canto__mdns_rr *rr)
{
    memset(rr, 0, sizeof *rr);
    rr->section = (canto__mdns_section)sect;
    rr->type = ns_rr_type(*r);
    rr->rclass = (uint16_t)(ns_rr_class(*r) & ~TOP_BIT);
    if (from_expanded(ns_rr_name(*r), rr->name) < 0)
        return CANTO_EPROTO;
    if (sect == CANTO__MDNS_QD) {
        rr->unicast = (ns_rr_class(*r) & TOP_BIT) != 0;
        return 1;
    }
    rr->cache_flush = (ns_rr_class(*r) & TOP_BIT) != 0;
    rr->ttl = ns_rr_ttl(*r);

    const uint8_t *rd = ns_rr_rdata(*r);
    size_t rdlen = ns_rr_rdlen(*r);
    int n;
    switch (rr->type) {
    case CANTO__MDNS_T_A:
        if (rdlen != sizeof rr->u.a)
            return CANTO_EPROTO;
        memcpy(rr->u.a, rd, sizeof rr->u.a);
        return 1;
    case CANTO__MDNS_T_AAAA:
        if (rdlen != sizeof rr->u.aaaa)
            return CANTO_EPROTO;
        memcpy(rr->u.aaaa, rd, sizeof rr->u.aaaa);
        return 1;
    case CANTO__MDNS_T_PTR:
        /* The name must not reach into the next record: rdlength is what
         * ns_initparse() used to find that record. */
        if (rdlen < 1)
            return CANTO_EPROTO;
        n = expand_at(h, rd, rr->u.target);
        if (n < 0 || (size_t)n != rdlen)
            return CANTO_EPROTO;
        return 1;
    case CANTO__MDNS_T_SRV:
        if (rdlen < 7)
            return CANTO_EPROTO;
        rr->u.srv.priority = get16(rd);
        rr->u.srv.weight = get16(rd + 2);
        rr->u.srv.port = get16(rd + 4);
        n = expand_at(h, rd + 6, rr->u.srv.target);
        if (n < 0 || (size_t)n + 6 != rdlen)
            return CANTO_EPROTO;
        return 1;
    case CANTO__MDNS_T_TXT:
        if (rdlen == 0) {
            /* Zero strings means one empty string (RFC 6763 §6.1); keeping
             * one spelling lets equal records compare equal. */
            rr->u.txt.len = 1;
            return 1;
        }
        if (!canto__mdns_txt_valid(rd, rdlen))
            return CANTO_EPROTO;
        memcpy(rr->u.txt.data, rd, rdlen);
        rr->u.txt.len = (uint16_t)rdlen;
        return 1;
    default:
        /* Nothing we publish or browse for can be this large; one stranger's
         * record must not cost us the rest of the packet. */
        if (rdlen > CANTO__MDNS_TXT_MAX)
            return 0;
        memcpy(rr->u.txt.data, rd, rdlen);
        rr->u.txt.len = (uint16_t)rdlen;
        return 1;
    }
}

int canto__mdns_parse(const void *pkt, size_t len, canto__mdns_msg *out)
{
    if (!out)
        return CANTO_EINVAL;
    out->nrr = 0;
    if (!pkt && len > 0)
        return CANTO_EINVAL;
    if (len > CANTO__MDNS_MAX_PACKET)
        return CANTO_ETOOBIG;
    if (len < HEADER_LEN)
        return CANTO_EPROTO;

    /* Decided from the header alone, before ns_initparse() walks sections
     * whose length is proportional to the counts. */
    const uint8_t *p = pkt;
    uint16_t flags = get16(p + 2);
    if (flags & (OPCODE_BITS | RCODE_BITS))
        return CANTO_EPROTO;
    unsigned long total = (unsigned long)get16(p + 4) + get16(p + 6) + get16(p + 8) + get16(p + 10);
    if (total > CANTO__MDNS_MAX_RECORDS)
        return CANTO_ETOOBIG;

    ns_msg h;
    if (ns_initparse(p, (int)len, &h) < 0)
        return CANTO_EPROTO;
    out->id = ns_msg_id(h);
    out->flags = flags;

    static const ns_sect sections[] = {ns_s_qd, ns_s_an, ns_s_ns, ns_s_ar};
    for (int s = 0; s < 4; s++) {
        int count = ns_msg_count(h, sections[s]);
        for (int i = 0; i < count; i++) {
            ns_rr r;
            if (ns_parserr(&h, sections[s], i, &r) < 0) {
                out->nrr = 0;
                return CANTO_EPROTO;
            }
            int rc = fill(&h, s, &r, &out->rr[out->nrr]);
            if (rc < 0) {
                out->nrr = 0;
                return rc;
            }
            out->nrr += (size_t)rc;
        }
    }
    return 0;
}
