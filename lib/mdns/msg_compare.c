/* Name and record comparisons. Names are compared in wire form so that two
 * spellings of one name ("\065" and "A", with or without the final dot) are
 * the same name; record order follows RFC 6762 §8.2. */
#include "mdns/msg.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>

#include <canto/error.h>

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int canto__mdns_name_to_wire(const char *name, uint8_t *wire, size_t cap)
{
    uint8_t tmp[NS_MAXCDNAME];
    if (!name || !wire || ns_name_pton(name, tmp, sizeof tmp) < 0)
        return CANTO_EINVAL;
    /* ns_name_pton() only makes plain labels today; checking keeps a future
     * extended label type from being walked as a length. */
    size_t i = 0;
    while (tmp[i] != 0) {
        if (tmp[i] > 63)
            return CANTO_EINVAL;
        i += (size_t)tmp[i] + 1;
    }
    i++;
    if (i > cap)
        return CANTO_EINVAL;
    memcpy(wire, tmp, i);
    return (int)i;
}

int canto__mdns_name_eq(const char *a, const char *b)
{
    uint8_t wa[NS_MAXCDNAME], wb[NS_MAXCDNAME];
    int la = canto__mdns_name_to_wire(a, wa, sizeof wa);
    int lb = canto__mdns_name_to_wire(b, wb, sizeof wb);
    if (la < 0 || lb < 0)
        return a && b && strcmp(a, b) == 0;
    if (la != lb)
        return 0;
    /* Length bytes are at most 63, below 'A', so folding every byte leaves
     * them alone. */
    for (int i = 0; i < la; i++)
        if (ascii_lower(wa[i]) != ascii_lower(wb[i]))
            return 0;
    return 1;
}

/* Longest rdata we ever lay out: a TXT, or an SRV with a 255-byte target. */
#define RDATA_MAX (CANTO__MDNS_TXT_MAX > 6 + NS_MAXCDNAME ? CANTO__MDNS_TXT_MAX : 6 + NS_MAXCDNAME)

/* The record's rdata as it would be on the wire with no compression, or -1
 * when a target is not a valid name. */
static int rdata_wire(const canto__mdns_rr *r, uint8_t *out)
{
    int n;
    switch (r->type) {
    case CANTO__MDNS_T_A:
        memcpy(out, r->u.a, sizeof r->u.a);
        return (int)sizeof r->u.a;
    case CANTO__MDNS_T_AAAA:
        memcpy(out, r->u.aaaa, sizeof r->u.aaaa);
        return (int)sizeof r->u.aaaa;
    case CANTO__MDNS_T_PTR:
        n = canto__mdns_name_to_wire(r->u.target, out, NS_MAXCDNAME);
        return n < 0 ? -1 : n;
    case CANTO__MDNS_T_SRV:
        out[0] = (uint8_t)(r->u.srv.priority >> 8);
        out[1] = (uint8_t)r->u.srv.priority;
        out[2] = (uint8_t)(r->u.srv.weight >> 8);
        out[3] = (uint8_t)r->u.srv.weight;
        out[4] = (uint8_t)(r->u.srv.port >> 8);
        out[5] = (uint8_t)r->u.srv.port;
        n = canto__mdns_name_to_wire(r->u.srv.target, out + 6, NS_MAXCDNAME);
        return n < 0 ? -1 : n + 6;
    case CANTO__MDNS_T_TXT:
        /* What the builder would send for an empty TXT. */
        if (r->u.txt.len == 0) {
            out[0] = 0;
            return 1;
        }
        n = r->u.txt.len > CANTO__MDNS_TXT_MAX ? CANTO__MDNS_TXT_MAX : r->u.txt.len;
        memcpy(out, r->u.txt.data, (size_t)n);
        return n;
    default:
        n = r->u.txt.len > CANTO__MDNS_TXT_MAX ? CANTO__MDNS_TXT_MAX : r->u.txt.len;
        memcpy(out, r->u.txt.data, (size_t)n);
        return n;
    }
}

static int class_of(const canto__mdns_rr *r)
{
    return r->rclass & 0x7fff;
}

int canto__mdns_rdata_eq(const canto__mdns_rr *a, const canto__mdns_rr *b)
{
    if (class_of(a) != class_of(b) || a->type != b->type)
        return 0;
    switch (a->type) {
    case CANTO__MDNS_T_PTR:
        return canto__mdns_name_eq(a->u.target, b->u.target);
    case CANTO__MDNS_T_SRV:
        return a->u.srv.priority == b->u.srv.priority && a->u.srv.weight == b->u.srv.weight &&
               a->u.srv.port == b->u.srv.port &&
               canto__mdns_name_eq(a->u.srv.target, b->u.srv.target);
    default:
        return canto__mdns_rdata_cmp(a, b) == 0;
    }
}

int canto__mdns_rdata_cmp(const canto__mdns_rr *a, const canto__mdns_rr *b)
{
    if (class_of(a) != class_of(b))
        return class_of(a) < class_of(b) ? -1 : 1;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    uint8_t wa[RDATA_MAX], wb[RDATA_MAX];
    int la = rdata_wire(a, wa), lb = rdata_wire(b, wb);
    if (la < 0 || lb < 0) {
        /* Unencodable targets cannot be sent; order them by their text so
         * the answer is still a consistent order. */
        if (la >= 0 || lb >= 0)
            return la < 0 ? -1 : 1;
        const char *ta = a->type == CANTO__MDNS_T_PTR ? a->u.target : a->u.srv.target;
        const char *tb = b->type == CANTO__MDNS_T_PTR ? b->u.target : b->u.srv.target;
        int c = strncmp(ta, tb, CANTO__MDNS_NAME_MAX);
        return c < 0 ? -1 : c > 0;
    }
    int c = memcmp(wa, wb, (size_t)(la < lb ? la : lb));
    if (c != 0)
        return c < 0 ? -1 : 1;
    /* A prefix sorts first, as in the §8.2 comparison run past the shorter. */
    return la < lb ? -1 : la > lb;
}
