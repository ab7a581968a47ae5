/* DNS messages: queries built by libresolv, answers checked and parsed with
 * libresolv's ns_* parser. Answers come from the network, so every field is
 * distrusted: anything that is not exactly the reply to our question is
 * reported as CANTO__DNS_IGNORE and the caller keeps waiting, which makes
 * spoofed or stray datagrams harmless. */
#include "net/resolver.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>

#include <canto/error.h>

/* More records than this in one answer are dropped: nobody needs them to
 * connect, and it bounds what a hostile answer can make us allocate. */
#define MAX_RECORDS 64
/* CNAME hops followed before giving up (a loop, or a silly chain). */
#define MAX_CNAME_HOPS 8

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int canto__dns_name_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    /* "example.org." and "example.org" are the same name; "." stays the root. */
    if (la > 1 && a[la - 1] == '.')
        la--;
    if (lb > 1 && b[lb - 1] == '.')
        lb--;
    if (la != lb)
        return 0;
    for (size_t i = 0; i < la; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return 0;
    return 1;
}

int canto__dns_build_query(const char *name, uint16_t type, uint16_t id, unsigned char *buf,
                           size_t cap)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len >= CANTO__DNS_NAME_MAX || cap < NS_HFIXEDSZ || cap > 65535)
        return CANTO_EINVAL;
    /* A zeroed private state: res_nmkquery only looks at its options, so this
     * never triggers res_ninit's read of /etc/resolv.conf. The id it draws is
     * replaced by ours, which comes from GnuTLS. */
    struct __res_state st;
    memset(&st, 0, sizeof(st));
    st.options = RES_RECURSE;
    int n = res_nmkquery(&st, ns_o_query, name, ns_c_in, type, NULL, 0, NULL, buf, (int)cap);
    if (n < NS_HFIXEDSZ)
        return CANTO_EINVAL;
    ns_put16(id, buf);
    return n;
}

void canto__dns_answer_clear(const canto__alloc *a, canto__dns_answer *ans)
{
    if (!ans)
        return;
    canto__dealloc(a, ans->srv);
    canto__dealloc(a, ans->addrs);
    memset(ans, 0, sizeof(*ans));
}

/* Checks the header and the question; @return 1 if @p msg answers our query. */
static int matches_question(const unsigned char *msg, size_t len, const char *name, uint16_t type,
                            uint16_t id)
{
    if (len < NS_HFIXEDSZ || len > 65535)
        return 0;
    unsigned flags = ns_get16(msg + 2);
    if (ns_get16(msg) != id || !(flags & 0x8000u) || ((flags >> 11) & 0xfu) != ns_o_query)
        return 0;
    if (ns_get16(msg + 4) != 1)
        return 0;
    char qname[NS_MAXDNAME];
    int n = dn_expand(msg, msg + len, msg + NS_HFIXEDSZ, qname, sizeof(qname));
    if (n < 0 || (size_t)n + NS_HFIXEDSZ + 4 > len)
        return 0;
    const unsigned char *p = msg + NS_HFIXEDSZ + n;
    return ns_get16(p) == type && ns_get16(p + 2) == ns_c_in && canto__dns_name_eq(qname, name);
}

/* Follows the CNAME chain starting at @p name inside the answer section and
 * leaves the final owner name in @p cur. @return 0, or -1 if malformed. */
static int chase_cnames(ns_msg *h, const char *name, char *cur, size_t cap)
{
    snprintf(cur, cap, "%s", name);
    int count = ns_msg_count(*h, ns_s_an);
    for (int hop = 0; hop < MAX_CNAME_HOPS; hop++) {
        int moved = 0;
        for (int i = 0; i < count && !moved; i++) {
            ns_rr rr;
            if (ns_parserr(h, ns_s_an, i, &rr) < 0)
                return -1;
            if (ns_rr_type(rr) != ns_t_cname || ns_rr_class(rr) != ns_c_in ||
                !canto__dns_name_eq(ns_rr_name(rr), cur))
                continue;
            char target[NS_MAXDNAME];
            int n =
                dn_expand(ns_msg_base(*h), ns_msg_end(*h), ns_rr_rdata(rr), target, sizeof(target));
            if (n < 0 || n != ns_rr_rdlen(rr) || strlen(target) >= cap)
                return -1;
            memcpy(cur, target, strlen(target) + 1);
            moved = 1;
        }
        if (!moved)
            return 0;
    }
    return 0; /* a chain this long ends where we stopped; its records won't match */
}

/* Stores one record of the wanted type. @return 1 stored, 0 skipped, -1 malformed. */
static int take_record(ns_msg *h, const ns_rr *rr, uint16_t type, canto__dns_answer *out)
{
    const unsigned char *rd = ns_rr_rdata(*rr);
    size_t rdlen = ns_rr_rdlen(*rr);
    if (type == ns_t_srv) {
        if (rdlen < 7)
            return -1;
        char target[NS_MAXDNAME];
        int n = dn_expand(ns_msg_base(*h), ns_msg_end(*h), rd + 6, target, sizeof(target));
        if (n < 0 || (size_t)n + 6 != rdlen)
            return -1;
        if (strlen(target) >= CANTO__DNS_NAME_MAX)
            return 0;   /* cannot be a host name we could connect to */
        if (!target[0]) /* dn_expand writes the root as "" */
            memcpy(target, ".", 2);
        canto__srv_record *s = &out->srv[out->count];
        s->priority = (uint16_t)ns_get16(rd);
        s->weight = (uint16_t)ns_get16(rd + 2);
        s->port = (uint16_t)ns_get16(rd + 4);
        memcpy(s->target, target, strlen(target) + 1);
        return 1;
    }
    struct sockaddr_storage *ss = &out->addrs[out->count];
    memset(ss, 0, sizeof(*ss));
    if (type == ns_t_a) {
        if (rdlen != 4)
            return -1;
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, rd, 4);
        return 1;
    }
    if (rdlen != 16)
        return -1;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    memcpy(&sin6->sin6_addr, rd, 16);
    return 1;
}

canto__dns_status canto__dns_parse(const canto__alloc *a, const unsigned char *msg, size_t len,
                                   const char *name, uint16_t type, uint16_t id,
                                   canto__dns_answer *out)
{
    memset(out, 0, sizeof(*out));
    if (type != ns_t_srv && type != ns_t_a && type != ns_t_aaaa)
        return CANTO__DNS_IGNORE;
    if (!matches_question(msg, len, name, type, id))
        return CANTO__DNS_IGNORE;
    unsigned flags = ns_get16(msg + 2);
    out->rcode = (int)(flags & 0xfu);
    /* A truncated answer may be cut anywhere, so it is not parsed further. */
    if (flags & 0x0200u)
        return CANTO__DNS_TRUNCATED;
    if (out->rcode == ns_r_nxdomain)
        return CANTO__DNS_NOTFOUND;
    if (out->rcode != ns_r_noerror)
        return CANTO__DNS_SERVER_FAIL;

    /* ns_initparse walks every section, so a record cut short anywhere, or a
     * count larger than the message, rejects the whole answer. */
    ns_msg h;
    if (ns_initparse(msg, (int)len, &h) < 0)
        return CANTO__DNS_IGNORE;
    int count = ns_msg_count(h, ns_s_an);
    if (count == 0)
        return CANTO__DNS_NOTFOUND;

    char owner[NS_MAXDNAME];
    if (chase_cnames(&h, name, owner, sizeof(owner)) < 0)
        return CANTO__DNS_IGNORE;

    size_t cap = count < MAX_RECORDS ? (size_t)count : MAX_RECORDS;
    if (type == ns_t_srv)
        out->srv = canto__calloc(a, cap, sizeof(*out->srv));
    else
        out->addrs = canto__calloc(a, cap, sizeof(*out->addrs));
    if (!out->srv && !out->addrs)
        return CANTO__DNS_NOMEM;

    for (int i = 0; i < count && out->count < cap; i++) {
        ns_rr rr;
        /* ns_parserr expands the owner name: compression loops fail here. */
        if (ns_parserr(&h, ns_s_an, i, &rr) < 0)
            goto malformed;
        if (ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in ||
            !canto__dns_name_eq(ns_rr_name(rr), owner))
            continue;
        int rc = take_record(&h, &rr, type, out);
        if (rc < 0)
            goto malformed;
        out->count += (size_t)rc;
    }
    if (out->count == 0) {
        canto__dns_answer_clear(a, out);
        return CANTO__DNS_NOTFOUND;
    }
    return CANTO__DNS_ANSWER;

malformed:
    canto__dns_answer_clear(a, out);
    return CANTO__DNS_IGNORE;
}
