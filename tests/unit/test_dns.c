/* DNS: query building, answer parsing (captured dnsmasq answers and hand-built
 * ones, hostile ones included), resolv.conf and hosts parsing, RFC 2782
 * ordering, and the asynchronous resolver against fake nameservers living in
 * this process on 127.0.0.1 (silent, lying, truncating, refusing). */
#include "check.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <canto/canto.h>
#include "loop/loop.h"
#include "net/resolver.h"

static canto__alloc A;

/* ------------------------------------------------------------------------ */
/* Hand-built messages */

typedef struct pkt {
    unsigned char b[2048];
    size_t len;
} pkt;

static void put8(pkt *p, unsigned v)
{
    p->b[p->len++] = (unsigned char)v;
}

static void put16(pkt *p, unsigned v)
{
    put8(p, v >> 8);
    put8(p, v & 0xff);
}

static void put32(pkt *p, unsigned long v)
{
    put16(p, (unsigned)(v >> 16));
    put16(p, (unsigned)(v & 0xffff));
}

/* Uncompressed labels of @p name, ending with the root. */
static void put_name(pkt *p, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        put8(p, (unsigned)l);
        memcpy(p->b + p->len, name, l);
        p->len += l;
        name += l + (dot ? 1 : 0);
    }
    put8(p, 0);
}

/* Labels of @p prefix, then a compression pointer to @p offset. */
static void put_name_ptr(pkt *p, const char *prefix, unsigned offset)
{
    if (*prefix) {
        put_name(p, prefix);
        p->len--; /* drop the root: the pointer ends the name */
    }
    put16(p, 0xc000 | offset);
}

static void header(pkt *p, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                   unsigned ar)
{
    p->len = 0;
    put16(p, id);
    put16(p, flags);
    put16(p, qd);
    put16(p, an);
    put16(p, ns);
    put16(p, ar);
}

#define RESP 0x8180u /* QR, RD, RA, NOERROR */

static void question(pkt *p, const char *name, unsigned type)
{
    put_name(p, name);
    put16(p, type);
    put16(p, ns_c_in);
}

/* Owner = pointer to the question name (offset 12). */
static void srv_rr(pkt *p, unsigned prio, unsigned weight, unsigned port, const char *target)
{
    put16(p, 0xc00c);
    put16(p, ns_t_srv);
    put16(p, ns_c_in);
    put32(p, 300);
    size_t rdlen_at = p->len;
    put16(p, 0);
    put16(p, prio);
    put16(p, weight);
    put16(p, port);
    put_name(p, target);
    size_t rdlen = p->len - rdlen_at - 2;
    p->b[rdlen_at] = (unsigned char)(rdlen >> 8);
    p->b[rdlen_at + 1] = (unsigned char)rdlen;
}

static void a_rr(pkt *p, unsigned owner_ptr, const char *ip)
{
    put16(p, 0xc000 | owner_ptr);
    put16(p, ns_t_a);
    put16(p, ns_c_in);
    put32(p, 60);
    put16(p, 4);
    inet_pton(AF_INET, ip, p->b + p->len);
    p->len += 4;
}

static int read_data(const char *file, pkt *p)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/dns/%s", CANTO_TEST_DATA, file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    p->len = fread(p->b, 1, sizeof(p->b), f);
    fclose(f);
    return 0;
}

static const char *addr_str(const struct sockaddr_storage *ss)
{
    static char buf[80];
    canto__sockaddr_format(ss, buf, sizeof(buf));
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Pure functions */

static int test_build_query(void)
{
    unsigned char buf[512];
    int n = canto__dns_build_query("_xmpp-client._tcp.Example.org.", ns_t_srv, 0xabcd, buf,
                                   sizeof(buf));
    REQUIRE(n > 12);
    CHECK_INT(ns_get16(buf), 0xabcd);
    CHECK_INT(ns_get16(buf + 2), 0x0100); /* RD only */
    CHECK_INT(ns_get16(buf + 4), 1);
    CHECK_INT(ns_get16(buf + 6), 0);
    static const unsigned char qname[] = "\014_xmpp-client\004_tcp\007Example\003org";
    CHECK(memcmp(buf + 12, qname, sizeof(qname)) == 0); /* sizeof counts the root byte */
    CHECK_INT(ns_get16(buf + 12 + sizeof(qname)), ns_t_srv);
    CHECK_INT(ns_get16(buf + 14 + sizeof(qname)), ns_c_in);
    CHECK_INT(n, 12 + (int)sizeof(qname) + 4);

    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK_INT(canto__dns_build_query(longname, ns_t_a, 1, buf, sizeof(buf)), CANTO_EINVAL);
    CHECK_INT(canto__dns_build_query("", ns_t_a, 1, buf, sizeof(buf)), CANTO_EINVAL);
    CHECK_INT(canto__dns_build_query("a.b", ns_t_a, 1, buf, 8), CANTO_EINVAL);
    /* A label over 63 bytes cannot be encoded. */
    char biglabel[80];
    memset(biglabel, 'x', 70);
    strcpy(biglabel + 70, ".org");
    CHECK_INT(canto__dns_build_query(biglabel, ns_t_a, 1, buf, sizeof(buf)), CANTO_EINVAL);
    return 0;
}

static int test_parse_captured_srv(void)
{
    pkt p;
    REQUIRE(read_data("srv_xmpp_client.bin", &p) == 0);
    canto__dns_answer ans;
    const char *name = "_xmpp-client._tcp.example.test";
    uint16_t id = (uint16_t)ns_get16(p.b);
    REQUIRE(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, id, &ans) == CANTO__DNS_ANSWER);
    REQUIRE(ans.count == 2);
    CHECK_INT(ans.srv[0].priority, 10);
    CHECK_INT(ans.srv[0].weight, 40);
    CHECK_INT(ans.srv[0].port, 5222);
    CHECK_STR(ans.srv[0].target, "xmpp2.example.test");
    CHECK_INT(ans.srv[1].weight, 60);
    CHECK_STR(ans.srv[1].target, "xmpp1.example.test");
    canto__dns_answer_clear(&A, &ans);
    CHECK(ans.srv == NULL && ans.count == 0);

    /* The same bytes for another question, type or id are not ours. */
    CHECK_INT(
        canto__dns_parse(&A, p.b, p.len, "_xmpps-client._tcp.example.test", ns_t_srv, id, &ans),
        CANTO__DNS_IGNORE);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_a, id, &ans), CANTO__DNS_IGNORE);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, (uint16_t)(id + 1), &ans),
              CANTO__DNS_IGNORE);
    /* Names compare case-insensitively, with or without the final dot. */
    CHECK_INT(
        canto__dns_parse(&A, p.b, p.len, "_XMPP-client._tcp.EXAMPLE.test.", ns_t_srv, id, &ans),
        CANTO__DNS_ANSWER);
    canto__dns_answer_clear(&A, &ans);

    /* Cut anywhere inside the records: ignored, never read past the end. */
    for (size_t cut = 12; cut < p.len; cut++) {
        canto__dns_status st = canto__dns_parse(&A, p.b, cut, name, ns_t_srv, id, &ans);
        CHECK_INT(st, CANTO__DNS_IGNORE);
        canto__dns_answer_clear(&A, &ans);
    }
    return 0;
}

static int test_parse_captured_other(void)
{
    pkt p;
    canto__dns_answer ans;
    REQUIRE(read_data("srv_dot.bin", &p) == 0);
    REQUIRE(canto__dns_parse(&A, p.b, p.len, "_xmpp-client._tcp.dot.test", ns_t_srv,
                             (uint16_t)ns_get16(p.b), &ans) == CANTO__DNS_ANSWER);
    REQUIRE(ans.count == 1);
    CHECK_STR(ans.srv[0].target, ".");
    canto__dns_answer_clear(&A, &ans);

    REQUIRE(read_data("a_xmpp1.bin", &p) == 0);
    REQUIRE(canto__dns_parse(&A, p.b, p.len, "xmpp1.example.test", ns_t_a, 0xbeef, &ans) ==
            CANTO__DNS_ANSWER);
    REQUIRE(ans.count == 1);
    CHECK_STR(addr_str(&ans.addrs[0]), "127.0.0.1");
    canto__dns_answer_clear(&A, &ans);

    REQUIRE(read_data("aaaa_xmpp1.bin", &p) == 0);
    REQUIRE(canto__dns_parse(&A, p.b, p.len, "xmpp1.example.test", ns_t_aaaa, 0x7001, &ans) ==
            CANTO__DNS_ANSWER);
    REQUIRE(ans.count == 1);
    CHECK_STR(addr_str(&ans.addrs[0]), "::1");
    canto__dns_answer_clear(&A, &ans);

    REQUIRE(read_data("nxdomain.bin", &p) == 0);
    CHECK_INT(
        canto__dns_parse(&A, p.b, p.len, "_xmpps-client._tcp.nosuch.test", ns_t_srv, 0x1111, &ans),
        CANTO__DNS_NOTFOUND);
    CHECK_INT(ans.rcode, ns_r_nxdomain);

    REQUIRE(read_data("nodata_aaaa.bin", &p) == 0);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, "xmpp2.example.test", ns_t_aaaa, 0x2222, &ans),
              CANTO__DNS_NOTFOUND);
    return 0;
}

static int test_parse_compressed_srv(void)
{
    /* Targets compressed against the question name and against each other. */
    pkt p;
    canto__dns_answer ans;
    const char *name = "_xmpps-client._tcp.example.org";
    header(&p, 0x1234, RESP, 1, 3, 0, 0);
    question(&p, name, ns_t_srv);
    /* "example.org" starts after "\x0d_xmpps-client\x04_tcp" = 14 + 5 bytes. */
    unsigned example_at = 12 + 14 + 5;
    unsigned first_target_at;
    {
        put16(&p, 0xc00c);
        put16(&p, ns_t_srv);
        put16(&p, ns_c_in);
        put32(&p, 300);
        put16(&p, 6 + 6 + 2); /* "\x05xmpp1" + pointer */
        put16(&p, 5);
        put16(&p, 70);
        put16(&p, 5223);
        first_target_at = (unsigned)p.len;
        put_name_ptr(&p, "xmpp1", example_at);
    }
    {
        put16(&p, 0xc00c);
        put16(&p, ns_t_srv);
        put16(&p, ns_c_in);
        put32(&p, 300);
        put16(&p, 6 + 2); /* only a pointer to the first target */
        put16(&p, 5);
        put16(&p, 30);
        put16(&p, 443);
        put_name_ptr(&p, "", first_target_at);
    }
    srv_rr(&p, 10, 0, 5223, "backup.example.net");
    REQUIRE(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 0x1234, &ans) == CANTO__DNS_ANSWER);
    REQUIRE(ans.count == 3);
    CHECK_STR(ans.srv[0].target, "xmpp1.example.org");
    CHECK_INT(ans.srv[0].weight, 70);
    CHECK_STR(ans.srv[1].target, "xmpp1.example.org");
    CHECK_INT(ans.srv[1].port, 443);
    CHECK_STR(ans.srv[2].target, "backup.example.net");
    CHECK_INT(ans.srv[2].priority, 10);
    canto__dns_answer_clear(&A, &ans);
    return 0;
}

static int test_parse_status(void)
{
    pkt p;
    canto__dns_answer ans;
    const char *name = "_xmpp-client._tcp.example.org";

    /* TC: reported as truncated even though the records are missing. */
    header(&p, 7, RESP | 0x0200, 1, 2, 0, 0);
    question(&p, name, ns_t_srv);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 7, &ans), CANTO__DNS_TRUNCATED);
    /* ... but only when it answers our question. */
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 8, &ans), CANTO__DNS_IGNORE);

    header(&p, 7, RESP | ns_r_nxdomain, 1, 0, 0, 0);
    question(&p, name, ns_t_srv);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 7, &ans), CANTO__DNS_NOTFOUND);

    header(&p, 7, RESP | ns_r_servfail, 1, 0, 0, 0);
    question(&p, name, ns_t_srv);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 7, &ans), CANTO__DNS_SERVER_FAIL);
    CHECK_INT(ans.rcode, ns_r_servfail);
    header(&p, 7, RESP | ns_r_refused, 1, 0, 0, 0);
    question(&p, name, ns_t_srv);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 7, &ans), CANTO__DNS_SERVER_FAIL);

    /* NOERROR without answers, and with answers of another type only. */
    header(&p, 7, RESP, 1, 0, 0, 0);
    question(&p, name, ns_t_srv);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 7, &ans), CANTO__DNS_NOTFOUND);
    header(&p, 7, RESP, 1, 1, 0, 0);
    question(&p, name, ns_t_srv);
    a_rr(&p, 12, "127.0.0.1");
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 7, &ans), CANTO__DNS_NOTFOUND);

    /* Not a response, not a query, two questions, no question. */
    header(&p, 7, 0x0100, 1, 0, 0, 0);
    question(&p, name, ns_t_srv);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 7, &ans), CANTO__DNS_IGNORE);
    header(&p, 7, RESP | (2u << 11), 1, 0, 0, 0);
    question(&p, name, ns_t_srv);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 7, &ans), CANTO__DNS_IGNORE);
    header(&p, 7, RESP, 2, 0, 0, 0);
    question(&p, name, ns_t_srv);
    question(&p, name, ns_t_srv);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 7, &ans), CANTO__DNS_IGNORE);
    header(&p, 7, RESP, 0, 0, 0, 0);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 7, &ans), CANTO__DNS_IGNORE);
    CHECK_INT(canto__dns_parse(&A, p.b, 5, name, ns_t_srv, 7, &ans), CANTO__DNS_IGNORE);
    return 0;
}

static int test_parse_malformed(void)
{
    pkt p;
    canto__dns_answer ans;
    const char *name = "_xmpp-client._tcp.example.org";

    /* Owner name pointing at itself. */
    header(&p, 9, RESP, 1, 1, 0, 0);
    question(&p, name, ns_t_srv);
    size_t at = p.len;
    put16(&p, 0xc000 | (unsigned)at);
    put16(&p, ns_t_srv);
    put16(&p, ns_c_in);
    put32(&p, 1);
    put16(&p, 7);
    put16(&p, 0);
    put16(&p, 0);
    put16(&p, 1);
    put8(&p, 0);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 9, &ans), CANTO__DNS_IGNORE);

    /* SRV target in a two-pointer loop. */
    header(&p, 9, RESP, 1, 1, 0, 0);
    question(&p, name, ns_t_srv);
    put16(&p, 0xc00c);
    put16(&p, ns_t_srv);
    put16(&p, ns_c_in);
    put32(&p, 1);
    put16(&p, 6 + 4);
    put16(&p, 0);
    put16(&p, 0);
    put16(&p, 1);
    at = p.len;
    put16(&p, 0xc000 | (unsigned)(at + 2));
    put16(&p, 0xc000 | (unsigned)at);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 9, &ans), CANTO__DNS_IGNORE);

    /* Pointer forward past the end. */
    header(&p, 9, RESP, 1, 1, 0, 0);
    question(&p, name, ns_t_srv);
    put16(&p, 0xc00c);
    put16(&p, ns_t_srv);
    put16(&p, ns_c_in);
    put32(&p, 1);
    put16(&p, 8);
    put16(&p, 0);
    put16(&p, 0);
    put16(&p, 1);
    put16(&p, 0xc000 | 0x3fff);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 9, &ans), CANTO__DNS_IGNORE);

    /* RDLENGTH disagreeing with the target name. */
    header(&p, 9, RESP, 1, 1, 0, 0);
    question(&p, name, ns_t_srv);
    put16(&p, 0xc00c);
    put16(&p, ns_t_srv);
    put16(&p, ns_c_in);
    put32(&p, 1);
    put16(&p, 9);
    put16(&p, 0);
    put16(&p, 0);
    put16(&p, 1);
    put8(&p, 0);
    put16(&p, 0); /* two stray bytes inside the record */
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, name, ns_t_srv, 9, &ans), CANTO__DNS_IGNORE);

    /* A record with 5 bytes of address. */
    header(&p, 9, RESP, 1, 1, 0, 0);
    question(&p, "host.example.org", ns_t_a);
    put16(&p, 0xc00c);
    put16(&p, ns_t_a);
    put16(&p, ns_c_in);
    put32(&p, 1);
    put16(&p, 5);
    put32(&p, 0x7f000001);
    put8(&p, 0);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, "host.example.org", ns_t_a, 9, &ans),
              CANTO__DNS_IGNORE);

    /* More answers announced than present; trailing garbage. */
    header(&p, 9, RESP, 1, 2, 0, 0);
    question(&p, "host.example.org", ns_t_a);
    a_rr(&p, 12, "10.0.0.1");
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, "host.example.org", ns_t_a, 9, &ans),
              CANTO__DNS_IGNORE);
    header(&p, 9, RESP, 1, 1, 0, 0);
    question(&p, "host.example.org", ns_t_a);
    a_rr(&p, 12, "10.0.0.1");
    put16(&p, 0xdead);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, "host.example.org", ns_t_a, 9, &ans),
              CANTO__DNS_IGNORE);
    /* Question name in a pointer loop. */
    header(&p, 9, RESP, 1, 0, 0, 0);
    put16(&p, 0xc00c);
    put16(&p, ns_t_a);
    put16(&p, ns_c_in);
    CHECK_INT(canto__dns_parse(&A, p.b, p.len, "host.example.org", ns_t_a, 9, &ans),
              CANTO__DNS_IGNORE);
    return 0;
}

static int test_parse_addresses(void)
{
    pkt p;
    canto__dns_answer ans;
    /* CNAME chain www -> host, two A records for host, one for an unrelated
     * owner (not ours to take). */
    header(&p, 0x55, RESP, 1, 4, 0, 0);
    question(&p, "www.example.org", ns_t_a);
    put16(&p, 0xc00c);
    put16(&p, ns_t_cname);
    put16(&p, ns_c_in);
    put32(&p, 60);
    put16(&p, 5 + 2);
    unsigned host_at = (unsigned)p.len;
    put_name_ptr(&p, "host", 12 + 4); /* "host" + "example.org" of the question */
    a_rr(&p, host_at, "127.0.0.1");
    a_rr(&p, 12, "192.0.2.99"); /* owner www: beside a CNAME it cannot count */
    a_rr(&p, host_at, "127.0.0.2");
    REQUIRE(canto__dns_parse(&A, p.b, p.len, "www.example.org", ns_t_a, 0x55, &ans) ==
            CANTO__DNS_ANSWER);
    REQUIRE(ans.count == 2);
    CHECK_STR(addr_str(&ans.addrs[0]), "127.0.0.1");
    CHECK_STR(addr_str(&ans.addrs[1]), "127.0.0.2");
    CHECK_INT(ans.addrs[0].ss_family, AF_INET);
    canto__dns_answer_clear(&A, &ans);

    /* AAAA. */
    header(&p, 0x56, RESP, 1, 1, 0, 0);
    question(&p, "host.example.org", ns_t_aaaa);
    put16(&p, 0xc00c);
    put16(&p, ns_t_aaaa);
    put16(&p, ns_c_in);
    put32(&p, 60);
    put16(&p, 16);
    inet_pton(AF_INET6, "2001:db8::5", p.b + p.len);
    p.len += 16;
    REQUIRE(canto__dns_parse(&A, p.b, p.len, "host.example.org", ns_t_aaaa, 0x56, &ans) ==
            CANTO__DNS_ANSWER);
    REQUIRE(ans.count == 1);
    CHECK_STR(addr_str(&ans.addrs[0]), "2001:db8::5");
    canto__dns_answer_clear(&A, &ans);
    return 0;
}

static int test_addresses_text(void)
{
    struct sockaddr_storage ss;
    CHECK(canto__dns_ip_literal("127.0.0.1", &ss) && ss.ss_family == AF_INET);
    CHECK(canto__dns_ip_literal("::1", &ss) && ss.ss_family == AF_INET6);
    CHECK(canto__dns_ip_literal("[::1]", &ss) && ss.ss_family == AF_INET6);
    CHECK(canto__dns_ip_literal("fe80::1%7", &ss) &&
          ((struct sockaddr_in6 *)&ss)->sin6_scope_id == 7);
    CHECK(canto__dns_ip_literal("fe80::1%lo", &ss)); /* lo always exists */
    CHECK(!canto__dns_ip_literal("fe80::1%nosuchif0", &ss));
    CHECK(!canto__dns_ip_literal("127.1", &ss));
    CHECK(!canto__dns_ip_literal("example.org", &ss));
    CHECK(!canto__dns_ip_literal("1.2.3.4.5", &ss));
    CHECK(!canto__dns_ip_literal("", &ss));

    CHECK_INT(canto__dns_parse_nameserver("127.0.0.1", 9, &ss), 0);
    CHECK_STR(addr_str(&ss), "127.0.0.1:53");
    CHECK_INT(canto__dns_parse_nameserver("127.0.0.1:5353", 14, &ss), 0);
    CHECK_STR(addr_str(&ss), "127.0.0.1:5353");
    CHECK_INT(canto__dns_parse_nameserver("::1", 3, &ss), 0);
    CHECK_STR(addr_str(&ss), "[::1]:53");
    CHECK_INT(canto__dns_parse_nameserver("[::1]:5300", 10, &ss), 0);
    CHECK_STR(addr_str(&ss), "[::1]:5300");
    CHECK_INT(canto__dns_parse_nameserver("[::1]", 5, &ss), 0);
    CHECK_STR(addr_str(&ss), "[::1]:53");
    /* Only the given length counts. */
    CHECK_INT(canto__dns_parse_nameserver("127.0.0.1 junk", 9, &ss), 0);
    CHECK_INT(canto__dns_parse_nameserver("127.0.0.1:0", 11, &ss), CANTO_EINVAL);
    CHECK_INT(canto__dns_parse_nameserver("127.0.0.1:65536", 15, &ss), CANTO_EINVAL);
    CHECK_INT(canto__dns_parse_nameserver("127.0.0.1:x", 11, &ss), CANTO_EINVAL);
    CHECK_INT(canto__dns_parse_nameserver("[::1]5300", 9, &ss), CANTO_EINVAL);
    CHECK_INT(canto__dns_parse_nameserver("[::1", 4, &ss), CANTO_EINVAL);
    CHECK_INT(canto__dns_parse_nameserver("localhost", 9, &ss), CANTO_EINVAL);
    CHECK_INT(canto__dns_parse_nameserver("", 0, &ss), CANTO_EINVAL);

    CHECK(canto__dns_name_eq("Example.ORG.", "example.org"));
    CHECK(canto__dns_name_eq(".", "."));
    CHECK(!canto__dns_name_eq("example.org", "example.org.uk"));
    CHECK(!canto__dns_name_eq("a", ""));
    return 0;
}

static int test_resolv_conf(void)
{
    static const char text[] = "# generated\n"
                               "search example.org\n"
                               "nameserver 127.0.0.1\n"
                               "  nameserver\t::1   # local v6\n"
                               "nameserver not-an-address\n"
                               "nameservers 127.0.0.9\n"
                               "; nameserver 127.0.0.8\n"
                               "options ndots:2 timeout:1\n"
                               "nameserver 127.0.0.2:5353\n"
                               "nameserver\n"
                               "nameserver 127.0.0.3";
    struct sockaddr_storage ns[8];
    size_t n = canto__resolv_conf_parse(text, strlen(text), ns, 8);
    REQUIRE(n == 4);
    CHECK_STR(addr_str(&ns[0]), "127.0.0.1:53");
    CHECK_STR(addr_str(&ns[1]), "[::1]:53");
    CHECK_STR(addr_str(&ns[2]), "127.0.0.2:5353");
    CHECK_STR(addr_str(&ns[3]), "127.0.0.3:53");
    CHECK_INT(canto__resolv_conf_parse(text, strlen(text), ns, 2), 2);
    CHECK_INT(canto__resolv_conf_parse("", 0, ns, 8), 0);
    CHECK_INT(canto__resolv_conf_parse("nameserver 127.0.0.1", 15, ns, 8), 0); /* cut */
    return 0;
}

static int test_hosts(void)
{
    static const char text[] = "127.0.0.1\tlocalhost\n"
                               "::1     localhost ip6-localhost ip6-loopback\n"
                               "# 10.0.0.9 xmpp.example.org\n"
                               "127.0.1.1 xmpp.example.org xmpp   # comment\n"
                               "fe80::1%lo XMPP.Example.Org\n"
                               "127.0.1.1 xmpp.example.org\n"
                               "garbage xmpp.example.org\n"
                               "127.0.1.2\n"
                               "  127.0.1.3 other xmpp.example.org.";
    struct sockaddr_storage out[8];
    size_t n = canto__hosts_lookup(text, strlen(text), "xmpp.example.org", 1, 1, out, 8);
    REQUIRE(n == 3);
    CHECK_STR(addr_str(&out[0]), "127.0.1.1");
    CHECK_STR(addr_str(&out[1]), "fe80::1%1");
    CHECK_STR(addr_str(&out[2]), "127.0.1.3");
    CHECK_INT(canto__hosts_lookup(text, strlen(text), "xmpp.example.org", 0, 1, out, 8), 1);
    CHECK_INT(canto__hosts_lookup(text, strlen(text), "xmpp.example.org", 1, 0, out, 8), 2);
    CHECK_INT(canto__hosts_lookup(text, strlen(text), "xmpp.example.org", 1, 1, out, 1), 1);
    n = canto__hosts_lookup(text, strlen(text), "localhost", 1, 1, out, 8);
    REQUIRE(n == 2);
    CHECK_STR(addr_str(&out[0]), "127.0.0.1");
    CHECK_STR(addr_str(&out[1]), "::1");
    CHECK_INT(canto__hosts_lookup(text, strlen(text), "xmpp", 1, 1, out, 8), 1);
    CHECK_INT(canto__hosts_lookup(text, strlen(text), "example.org", 1, 1, out, 8), 0);
    CHECK_INT(canto__hosts_lookup(text, strlen(text), "127.0.1.2", 1, 1, out, 8), 0);
    CHECK_INT(canto__hosts_lookup(text, strlen(text), "comment", 1, 1, out, 8), 0);
    return 0;
}

static int test_read_file(void)
{
    char *text;
    size_t len;
    CHECK_INT(canto__dns_read_file(&A, "/nonexistent/hosts", 100, &text, &len), CANTO_ENOTFOUND);
    CHECK_INT(canto__dns_read_file(&A, CANTO_TEST_DATA, 100, &text, &len), CANTO_EIO);
    CHECK_INT(canto__dns_read_file(&A, "/dev/zero", 100, &text, &len), CANTO_EIO);
    char path[512];
    snprintf(path, sizeof(path), "%s/dns/nxdomain.bin", CANTO_TEST_DATA);
    CHECK_INT(canto__dns_read_file(&A, path, 10, &text, &len), CANTO_ETOOBIG);
    REQUIRE(canto__dns_read_file(&A, path, 100, &text, &len) == 0);
    CHECK_INT(len, 48);
    CHECK_INT(text[len], 0);
    canto__dealloc(&A, text);
    return 0;
}

/* A scripted random source: returns the values in turn, counting calls. */
typedef struct script {
    const uint32_t *v;
    size_t n, at;
} script;

static uint32_t scripted(void *ud)
{
    script *s = ud;
    return s->at < s->n ? s->v[s->at++] : (s->at++, 0);
}

static void set_rec(canto__srv_record *r, unsigned prio, unsigned weight, const char *target)
{
    r->priority = (uint16_t)prio;
    r->weight = (uint16_t)weight;
    r->port = 5222;
    snprintf(r->target, sizeof(r->target), "%s", target);
}

static int test_srv_order(void)
{
    canto__srv_record r[6];
    size_t order[6];
    set_rec(&r[0], 20, 0, "p20");
    set_rec(&r[1], 10, 60, "a60");
    set_rec(&r[2], 10, 0, "z0");
    set_rec(&r[3], 10, 40, "b40");
    set_rec(&r[4], 5, 1, "p5");
    set_rec(&r[5], 30, 10, "p30");

    /* Priority 10 list is [z0 (0), a60 (60), b40 (100)]; draws are taken
     * modulo total+1 = 101, then 41 (after a60 left: [z0, b40], total 40). */
    {
        uint32_t v[] = {60, 40};
        script s = {v, 2, 0};
        canto__srv_order(r, 6, scripted, &s, order);
        size_t want[] = {4, 1, 3, 2, 0, 5};
        CHECK(memcmp(order, want, sizeof(want)) == 0);
        CHECK_INT(s.at, 2); /* one draw per choice among two or more */
    }
    {
        /* 0 picks the weight-0 record first; then 61 of [a60, b40] falls on
         * b40; a60, left alone, needs no draw. */
        uint32_t v[] = {0, 61};
        script s = {v, 2, 0};
        canto__srv_order(r, 6, scripted, &s, order);
        size_t want[] = {4, 2, 3, 1, 0, 5};
        CHECK(memcmp(order, want, sizeof(want)) == 0);
        CHECK_INT(s.at, 2);
    }
    {
        /* Draws are reduced modulo the 101 possible values: 101 is 0 twice,
         * so z0 and then a60 (60 >= 0). */
        uint32_t v[] = {101, 101};
        script s = {v, 2, 0};
        canto__srv_order(r, 6, scripted, &s, order);
        size_t want[] = {4, 2, 1, 3, 0, 5};
        CHECK(memcmp(order, want, sizeof(want)) == 0);
    }
    {
        /* Weight sum boundary: a draw equal to the total takes the last. */
        uint32_t v[] = {100, 1};
        script s = {v, 2, 0};
        canto__srv_order(r, 6, scripted, &s, order);
        size_t want[] = {4, 3, 1, 2, 0, 5};
        CHECK(memcmp(order, want, sizeof(want)) == 0);
    }
    /* All weights 0: no draws, the order stands. */
    canto__srv_record z[3];
    set_rec(&z[0], 1, 0, "x");
    set_rec(&z[1], 1, 0, "y");
    set_rec(&z[2], 0, 0, "w");
    script s = {NULL, 0, 0};
    canto__srv_order(z, 3, scripted, &s, order);
    CHECK_INT(order[0], 2);
    CHECK_INT(order[1], 0);
    CHECK_INT(order[2], 1);
    CHECK_INT(s.at, 0);
    canto__srv_order(z, 0, scripted, &s, order);
    return 0;
}

/* xorshift64*: a seeded PRNG, so the statistics are reproducible. */
static uint32_t xorshift(void *ud)
{
    uint64_t *x = ud;
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return (uint32_t)((*x * 2685821657736338717ull) >> 32);
}

static int test_srv_weights_statistics(void)
{
    canto__srv_record r[2];
    set_rec(&r[0], 0, 90, "ninety");
    set_rec(&r[1], 0, 10, "ten");
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    size_t order[2];
    int first90 = 0;
    for (int i = 0; i < 10000; i++) {
        canto__srv_order(r, 2, xorshift, &seed, order);
        first90 += order[0] == 0;
    }
    /* Expected 91/101 = 90.1% (draws 0..90 of 0..100). */
    fprintf(stderr, "  90/10 weights: %d of 10000 first picks\n", first90);
    CHECK(first90 > 8850 && first90 < 9170);

    /* Weight 0 beside weight 100: picked first only on a draw of 0 (1/101). */
    set_rec(&r[0], 0, 100, "hundred");
    set_rec(&r[1], 0, 0, "zero");
    int zero_first = 0;
    for (int i = 0; i < 10000; i++) {
        canto__srv_order(r, 2, xorshift, &seed, order);
        zero_first += order[0] == 1;
    }
    fprintf(stderr, "  100/0 weights: %d of 10000 zero-weight first\n", zero_first);
    CHECK(zero_first > 40 && zero_first < 180);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The resolver on a real loop, against fake nameservers in this process */

typedef enum fake_mode {
    FAKE_SILENT,   /* never answers */
    FAKE_ANSWER,   /* answers correctly */
    FAKE_LIES,     /* wrong id, wrong question, wrong type, then the answer */
    FAKE_TRUNCATE, /* TC over UDP; the TCP listener answers */
    FAKE_SERVFAIL,
    FAKE_NXDOMAIN,
} fake_mode;

typedef struct fake_ns {
    canto_loop *loop;
    fake_mode mode;
    int udp, tcp_listen, tcp_conn;
    canto__watch *wu, *wl, *wc;
    uint16_t port;
    int queries, tcp_queries;
    uint16_t ids[16];
    uint16_t sports[16];
    unsigned char tcp_in[600];
    size_t tcp_have;
} fake_ns;

/* Answer for the query in @p q: SRV -> two records, A -> 127.0.0.1,
 * AAAA -> NODATA. Returns the length. */
static size_t make_answer(const unsigned char *q, size_t qlen, unsigned flags_extra,
                          unsigned char *out)
{
    pkt p;
    memcpy(p.b, q, qlen);
    p.len = qlen;
    unsigned qtype = ns_get16(q + qlen - 4);
    unsigned an = qtype == ns_t_srv ? 2 : qtype == ns_t_a ? 1 : 0;
    unsigned rcode = flags_extra & 0xf;
    if (rcode || (flags_extra & 0x0200))
        an = 0;
    p.b[2] = (unsigned char)((RESP | flags_extra) >> 8);
    p.b[3] = (unsigned char)(RESP | flags_extra);
    p.b[6] = 0;
    p.b[7] = (unsigned char)an;
    if (an && qtype == ns_t_srv) {
        srv_rr(&p, 5, 10, 5269, "one.example.test");
        srv_rr(&p, 7, 0, 5270, "two.example.test");
    } else if (an) {
        a_rr(&p, 12, "127.0.0.1");
    }
    memcpy(out, p.b, p.len);
    return p.len;
}

static void fake_udp(void *ud, int fd, unsigned events)
{
    fake_ns *f = ud;
    unsigned char q[512], out[2048];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
    if (n < 12)
        return;
    if (f->queries < 16) {
        f->ids[f->queries] = (uint16_t)ns_get16(q);
        f->sports[f->queries] = ntohs(from.sin_port);
    }
    f->queries++;
    size_t len;
    switch (f->mode) {
    case FAKE_SILENT:
        return;
    case FAKE_LIES: {
        len = make_answer(q, (size_t)n, 0, out);
        out[1] ^= 1; /* wrong id */
        sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
        out[1] ^= 1;
        out[14] = 'Z'; /* another question name */
        sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
        len = make_answer(q, (size_t)n, 0, out);
        out[(size_t)n - 3] ^= 0x40; /* another type */
        sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
        sendto(fd, "\x01\x02", 2, 0, (struct sockaddr *)&from, fl);
        len = make_answer(q, (size_t)n, 0, out);
        break;
    }
    case FAKE_TRUNCATE:
        len = make_answer(q, (size_t)n, 0x0200, out);
        break;
    case FAKE_SERVFAIL:
        len = make_answer(q, (size_t)n, ns_r_servfail, out);
        break;
    case FAKE_NXDOMAIN:
        len = make_answer(q, (size_t)n, ns_r_nxdomain, out);
        break;
    default:
        len = make_answer(q, (size_t)n, 0, out);
        break;
    }
    sendto(fd, out, len, 0, (struct sockaddr *)&from, fl);
}

static void fake_tcp_conn(void *ud, int fd, unsigned events)
{
    fake_ns *f = ud;
    ssize_t n = recv(fd, f->tcp_in + f->tcp_have, sizeof(f->tcp_in) - f->tcp_have, 0);
    if (n <= 0) {
        canto__watch_remove(f->wc);
        f->wc = NULL;
        close(fd);
        f->tcp_conn = -1;
        return;
    }
    f->tcp_have += (size_t)n;
    if (f->tcp_have < 2)
        return;
    size_t qlen = ns_get16(f->tcp_in);
    if (f->tcp_have < 2 + qlen)
        return;
    f->tcp_queries++;
    unsigned char out[2050];
    size_t len = make_answer(f->tcp_in + 2, qlen, 0, out + 2);
    out[0] = (unsigned char)(len >> 8);
    out[1] = (unsigned char)len;
    /* In three pieces, so the reader has to reassemble. */
    send(fd, out, 1, MSG_NOSIGNAL);
    usleep(2000);
    send(fd, out + 1, 10, MSG_NOSIGNAL);
    usleep(2000);
    send(fd, out + 11, len + 2 - 11, MSG_NOSIGNAL);
    f->tcp_have = 0;
}

static void fake_tcp_accept(void *ud, int fd, unsigned events)
{
    fake_ns *f = ud;
    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
        return;
    if (f->tcp_conn >= 0) {
        close(c);
        return;
    }
    f->tcp_conn = c;
    f->tcp_have = 0;
    canto__watch_add(f->loop, c, CANTO_IO_IN, fake_tcp_conn, f, &f->wc);
}

static int fake_start(fake_ns *f, canto_loop *loop, fake_mode mode)
{
    memset(f, 0, sizeof(*f));
    f->loop = loop;
    f->mode = mode;
    f->tcp_conn = -1;
    f->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {0};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(f->udp, (struct sockaddr *)&sin, sizeof(sin)) < 0)
        return -1;
    socklen_t sl = sizeof(sin);
    getsockname(f->udp, (struct sockaddr *)&sin, &sl);
    f->port = ntohs(sin.sin_port);
    /* TCP on the same port number, as a real nameserver has. */
    f->tcp_listen = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (bind(f->tcp_listen, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        listen(f->tcp_listen, 4) < 0)
        return -1;
    if (canto__watch_add(loop, f->udp, CANTO_IO_IN, fake_udp, f, &f->wu) != 0 ||
        canto__watch_add(loop, f->tcp_listen, CANTO_IO_IN, fake_tcp_accept, f, &f->wl) != 0)
        return -1;
    return 0;
}

static void fake_stop(fake_ns *f)
{
    canto__watch_remove(f->wu);
    canto__watch_remove(f->wl);
    canto__watch_remove(f->wc);
    close(f->udp);
    close(f->tcp_listen);
    if (f->tcp_conn >= 0)
        close(f->tcp_conn);
}

typedef struct result {
    int calls, err;
    size_t n;
    canto__srv_record srv[4];
    struct sockaddr_storage addrs[4];
    /* optional actions from inside the callback */
    canto__dns_query *cancel_other;
    canto__resolver *free_resolver;
    canto__dns_query *self;
} result;

static void on_srv(void *ud, int err, const canto__srv_record *recs, size_t n)
{
    result *r = ud;
    r->calls++;
    r->err = err;
    r->n = n;
    for (size_t i = 0; i < n && i < 4; i++)
        r->srv[i] = recs[i];
    canto__dns_query_cancel(r->self); /* a no-op from inside its own callback */
    canto__dns_query_cancel(r->cancel_other);
    if (r->free_resolver)
        canto__resolver_free(r->free_resolver);
}

static void on_addrs(void *ud, int err, const struct sockaddr_storage *addrs, size_t n)
{
    result *r = ud;
    r->calls++;
    r->err = err;
    r->n = n;
    for (size_t i = 0; i < n && i < 4; i++)
        r->addrs[i] = addrs[i];
    canto__dns_query_cancel(r->self);
    canto__dns_query_cancel(r->cancel_other);
    if (r->free_resolver)
        canto__resolver_free(r->free_resolver);
}

/* Run the loop until @p *done is non-zero or @p ms of loop time passed. */
static void run_until(canto_loop *loop, const int *done, unsigned ms)
{
    uint64_t end = canto_loop_now(loop) + ms;
    while (!*done && canto_loop_now(loop) < end)
        canto_loop_run_once(loop, 20);
}

static canto__resolver *make_resolver(canto_loop *loop, const char *nameservers,
                                      unsigned timeout_ms, const char *hosts)
{
    canto__resolver_config cfg = CANTO__RESOLVER_CONFIG_INIT;
    cfg.nameservers = nameservers;
    cfg.timeout_ms = timeout_ms;
    cfg.hosts = hosts ? hosts : "";
    canto__resolver *r = NULL;
    if (canto__resolver_new(loop, &cfg, &r) != 0)
        return NULL;
    return r;
}

static int test_resolver_answer(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    fake_ns f;
    REQUIRE(fake_start(&f, loop, FAKE_ANSWER) == 0);
    char ns[64];
    snprintf(ns, sizeof(ns), "127.0.0.1:%u", (unsigned)f.port);
    canto__resolver *r = make_resolver(loop, ns, 1000, NULL);
    REQUIRE(r != NULL);

    result srv = {0}, addrs = {0};
    canto__dns_query *q = NULL;
    REQUIRE(canto__resolver_srv(r, "_xmpp-client._tcp.example.test", on_srv, &srv, &q) == 0);
    CHECK(q != NULL);
    CHECK_INT(srv.calls, 0); /* never from inside the call */
    REQUIRE(canto__resolver_addrs(r, "one.example.test", 1, 1, on_addrs, &addrs, NULL) == 0);
    run_until(loop, &addrs.calls, 3000);
    run_until(loop, &srv.calls, 3000);
    CHECK_INT(srv.calls, 1);
    CHECK_INT(srv.err, 0);
    REQUIRE(srv.n == 2);
    CHECK_STR(srv.srv[0].target, "one.example.test");
    CHECK_INT(srv.srv[0].port, 5269);
    CHECK_STR(srv.srv[1].target, "two.example.test");
    /* A and AAAA in parallel: AAAA had no data, A one address. */
    CHECK_INT(addrs.calls, 1);
    CHECK_INT(addrs.err, 0);
    REQUIRE(addrs.n == 1);
    CHECK_STR(addr_str(&addrs.addrs[0]), "127.0.0.1");
    CHECK_INT(f.queries, 3);
    /* Fresh random ids and a fresh source port per query. */
    CHECK(f.sports[0] != f.sports[1] && f.sports[1] != f.sports[2]);
    CHECK(f.ids[0] != f.ids[1] || f.ids[1] != f.ids[2]);

    /* NXDOMAIN. */
    f.mode = FAKE_NXDOMAIN;
    result nx = {0};
    REQUIRE(canto__resolver_srv(r, "_xmpp-client._tcp.nope.test", on_srv, &nx, NULL) == 0);
    run_until(loop, &nx.calls, 3000);
    CHECK_INT(nx.err, CANTO_ENOTFOUND);
    CHECK_INT(nx.n, 0);

    /* Bad names never leave the process. */
    CHECK_INT(canto__resolver_srv(r, "", on_srv, &nx, NULL), CANTO_EINVAL);
    CHECK_INT(canto__resolver_srv(r, "a..b", on_srv, &nx, NULL), CANTO_EINVAL);
    CHECK_INT(canto__resolver_addrs(r, "x.test", 0, 0, on_addrs, &nx, NULL), CANTO_EINVAL);

    canto__resolver_free(r);
    fake_stop(&f);
    canto_loop_free(loop);
    return 0;
}

static int test_resolver_timeouts(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    fake_ns a, b;
    REQUIRE(fake_start(&a, loop, FAKE_SILENT) == 0);
    REQUIRE(fake_start(&b, loop, FAKE_SILENT) == 0);
    char ns[80];
    snprintf(ns, sizeof(ns), "127.0.0.1:%u, 127.0.0.1:%u", (unsigned)a.port, (unsigned)b.port);
    canto__resolver *r = make_resolver(loop, ns, 100, NULL);
    REQUIRE(r != NULL);
    result res = {0};
    uint64_t t0 = canto_loop_now(loop);
    REQUIRE(canto__resolver_srv(r, "_xmpp-client._tcp.example.test", on_srv, &res, NULL) == 0);
    run_until(loop, &res.calls, 3000);
    uint64_t took = canto_loop_now(loop) - t0;
    CHECK_INT(res.calls, 1);
    CHECK_INT(res.err, CANTO_ETIMEDOUT);
    /* Two rounds over both servers, 100 ms each. */
    CHECK_INT(a.queries, 2);
    CHECK_INT(b.queries, 2);
    CHECK(took >= 380 && took < 3000); /* generous: valgrind and loaded CI */

    /* A server that answers SERVFAIL is skipped for the next one... */
    a.mode = FAKE_SERVFAIL;
    b.mode = FAKE_ANSWER;
    a.queries = b.queries = 0;
    result ok = {0};
    REQUIRE(canto__resolver_srv(r, "_xmpp-client._tcp.example.test", on_srv, &ok, NULL) == 0);
    run_until(loop, &ok.calls, 3000);
    CHECK_INT(ok.err, 0);
    CHECK_INT(ok.n, 2);
    CHECK_INT(a.queries, 1);
    CHECK_INT(b.queries, 1);
    /* ... and errors everywhere are a DNS failure, not a timeout. */
    b.mode = FAKE_SERVFAIL;
    result bad = {0};
    REQUIRE(canto__resolver_srv(r, "_xmpp-client._tcp.example.test", on_srv, &bad, NULL) == 0);
    run_until(loop, &bad.calls, 3000);
    CHECK_INT(bad.err, CANTO_EDNS);
    canto__resolver_free(r);

    /* A closed port (ICMP refused) moves on at once, without the timeout. */
    int closed = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = {0};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sin);
    bind(closed, (struct sockaddr *)&sin, sizeof(sin));
    getsockname(closed, (struct sockaddr *)&sin, &sl);
    close(closed);
    b.mode = FAKE_ANSWER;
    snprintf(ns, sizeof(ns), "127.0.0.1:%u 127.0.0.1:%u", (unsigned)ntohs(sin.sin_port),
             (unsigned)b.port);
    r = make_resolver(loop, ns, 5000, NULL);
    REQUIRE(r != NULL);
    result fast = {0};
    t0 = canto_loop_now(loop);
    REQUIRE(canto__resolver_srv(r, "_xmpp-client._tcp.example.test", on_srv, &fast, NULL) == 0);
    run_until(loop, &fast.calls, 3000);
    CHECK_INT(fast.err, 0);
    CHECK(canto_loop_now(loop) - t0 < 2500); /* the timeout is 5000 */
    canto__resolver_free(r);

    fake_stop(&a);
    fake_stop(&b);
    canto_loop_free(loop);
    return 0;
}

static int test_resolver_lies_and_truncation(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    fake_ns f;
    REQUIRE(fake_start(&f, loop, FAKE_LIES) == 0);
    char ns[64];
    snprintf(ns, sizeof(ns), "127.0.0.1:%u", (unsigned)f.port);
    canto__resolver *r = make_resolver(loop, ns, 1000, NULL);
    REQUIRE(r != NULL);

    result res = {0};
    REQUIRE(canto__resolver_srv(r, "_xmpp-client._tcp.example.test", on_srv, &res, NULL) == 0);
    run_until(loop, &res.calls, 3000);
    CHECK_INT(res.err, 0);
    CHECK_INT(res.n, 2);
    CHECK_INT(f.queries, 1); /* the junk did not end the try */

    f.mode = FAKE_TRUNCATE;
    f.queries = 0;
    result tc = {0};
    REQUIRE(canto__resolver_srv(r, "_xmpp-client._tcp.example.test", on_srv, &tc, NULL) == 0);
    run_until(loop, &tc.calls, 3000);
    CHECK_INT(tc.err, 0);
    REQUIRE(tc.n == 2);
    CHECK_STR(tc.srv[1].target, "two.example.test");
    CHECK_INT(f.queries, 1);
    CHECK_INT(f.tcp_queries, 1);

    canto__resolver_free(r);
    fake_stop(&f);
    canto_loop_free(loop);
    return 0;
}

static int test_resolver_local_answers(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    fake_ns f;
    REQUIRE(fake_start(&f, loop, FAKE_SILENT) == 0);
    char ns[64], hosts[] = "/tmp/canto-test-hosts-XXXXXX";
    snprintf(ns, sizeof(ns), "127.0.0.1:%u", (unsigned)f.port);
    int fd = mkstemp(hosts);
    REQUIRE(fd >= 0);
    static const char text[] = "127.0.0.2 myhost.test\n::1 myhost.test\n";
    REQUIRE(write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
    close(fd);
    canto__resolver *r = make_resolver(loop, ns, 100, hosts);
    REQUIRE(r != NULL);

    result h = {0}, h4 = {0}, lit4 = {0}, lit6 = {0}, litx = {0}, lh = {0};
    REQUIRE(canto__resolver_addrs(r, "MyHost.test.", 1, 1, on_addrs, &h, NULL) == 0);
    REQUIRE(canto__resolver_addrs(r, "myhost.test", 1, 0, on_addrs, &h4, NULL) == 0);
    REQUIRE(canto__resolver_addrs(r, "127.0.0.1", 1, 1, on_addrs, &lit4, NULL) == 0);
    REQUIRE(canto__resolver_addrs(r, "[::1]", 1, 1, on_addrs, &lit6, NULL) == 0);
    REQUIRE(canto__resolver_addrs(r, "::1", 1, 0, on_addrs, &litx, NULL) == 0);
    REQUIRE(canto__resolver_addrs(r, "localhost", 1, 1, on_addrs, &lh, NULL) == 0);
    CHECK_INT(h.calls + lit4.calls + lh.calls, 0);
    run_until(loop, &lh.calls, 1000);
    CHECK_INT(h.err, 0);
    REQUIRE(h.n == 2);
    CHECK_STR(addr_str(&h.addrs[0]), "::1"); /* IPv6 first */
    CHECK_STR(addr_str(&h.addrs[1]), "127.0.0.2");
    CHECK_INT(h4.n, 1);
    CHECK_INT(lit4.err, 0);
    CHECK_INT(lit4.n, 1);
    CHECK_STR(addr_str(&lit4.addrs[0]), "127.0.0.1");
    CHECK_INT(lit6.n, 1);
    CHECK_STR(addr_str(&lit6.addrs[0]), "::1");
    CHECK_INT(litx.err, CANTO_ENOTFOUND); /* a v6 literal when only v4 is wanted */
    CHECK_INT(lh.err, 0);
    REQUIRE(lh.n == 2);
    CHECK_STR(addr_str(&lh.addrs[0]), "::1");
    CHECK_STR(addr_str(&lh.addrs[1]), "127.0.0.1");
    CHECK_INT(f.queries, 0); /* none of these asked DNS */

    /* Not in the hosts file: DNS is asked (and is silent here). */
    result dns = {0};
    REQUIRE(canto__resolver_addrs(r, "other.test", 1, 1, on_addrs, &dns, NULL) == 0);
    run_until(loop, &dns.calls, 3000);
    CHECK_INT(dns.err, CANTO_ETIMEDOUT);
    CHECK_INT(f.queries, 4); /* AAAA and A, two tries each */

    canto__resolver_free(r);
    unlink(hosts);
    fake_stop(&f);
    canto_loop_free(loop);
    return 0;
}

static int test_resolver_cancel(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    fake_ns f;
    REQUIRE(fake_start(&f, loop, FAKE_ANSWER) == 0);
    char ns[64];
    snprintf(ns, sizeof(ns), "127.0.0.1:%u", (unsigned)f.port);
    canto__resolver *r = make_resolver(loop, ns, 500, NULL);
    REQUIRE(r != NULL);

    /* Cancelled at once: no callback, nothing leaks. */
    result a = {0};
    canto__dns_query *qa;
    REQUIRE(canto__resolver_srv(r, "_xmpp-client._tcp.example.test", on_srv, &a, &qa) == 0);
    canto__dns_query_cancel(qa);
    canto__dns_query_cancel(NULL);

    /* The first callback cancels the other query and (no-op) itself. */
    result first = {0}, second = {0};
    canto__dns_query *q1, *q2;
    REQUIRE(canto__resolver_addrs(r, "127.0.0.1", 1, 1, on_addrs, &first, &q1) == 0);
    REQUIRE(canto__resolver_srv(r, "_xmpp-client._tcp.example.test", on_srv, &second, &q2) == 0);
    first.self = q1;
    first.cancel_other = q2;
    run_until(loop, &first.calls, 1000);
    int idle = 0;
    run_until(loop, &idle, 300);
    CHECK_INT(a.calls, 0);
    CHECK_INT(first.calls, 1);
    CHECK_INT(second.calls, 0);

    /* A callback frees the resolver with queries still pending. */
    result x = {0}, y = {0}, z = {0};
    REQUIRE(canto__resolver_addrs(r, "::1", 1, 1, on_addrs, &x, NULL) == 0);
    REQUIRE(canto__resolver_srv(r, "_xmpp-client._tcp.example.test", on_srv, &y, NULL) == 0);
    REQUIRE(canto__resolver_addrs(r, "127.0.0.1", 1, 1, on_addrs, &z, NULL) == 0);
    x.free_resolver = r;
    z.free_resolver = r;
    run_until(loop, &x.calls, 1000);
    idle = 0;
    run_until(loop, &idle, 300);
    CHECK_INT(x.calls, 1);
    CHECK_INT(y.calls + z.calls, 0);

    /* Freed from outside with work in flight. */
    f.mode = FAKE_SILENT;
    r = make_resolver(loop, ns, 500, NULL);
    REQUIRE(r != NULL);
    result w = {0};
    REQUIRE(canto__resolver_addrs(r, "w.test", 1, 1, on_addrs, &w, NULL) == 0);
    canto_loop_run_once(loop, 50);
    canto__resolver_free(r);
    idle = 0;
    run_until(loop, &idle, 200);
    CHECK_INT(w.calls, 0);
    canto__resolver_free(NULL);

    fake_stop(&f);
    canto_loop_free(loop);
    return 0;
}

static int test_resolver_config(void)
{
    canto_loop *loop;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    canto__resolver *r;
    canto__resolver_config cfg = CANTO__RESOLVER_CONFIG_INIT;
    cfg.nameservers = "127.0.0.1:99999";
    CHECK_INT(canto__resolver_new(loop, &cfg, &r), CANTO_EINVAL);
    cfg.nameservers = "1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4 5.5.5.5 6.6.6.6 7.7.7.7 8.8.8.8 9.9.9.9";
    CHECK_INT(canto__resolver_new(loop, &cfg, &r), CANTO_EINVAL); /* more than 8 */
    CHECK_INT(canto__resolver_new(NULL, &cfg, &r), CANTO_EINVAL);
    /* A resolv.conf of our own; the real one is never read by the tests. */
    char path[512];
    snprintf(path, sizeof(path), "%s/dns/README.md", CANTO_TEST_DATA); /* no nameserver lines */
    cfg.nameservers = NULL;
    cfg.resolv_conf = path;
    REQUIRE(canto__resolver_new(loop, &cfg, &r) == 0);
    canto__resolver_free(r);
    cfg.resolv_conf = "/nonexistent/resolv.conf";
    REQUIRE(canto__resolver_new(loop, &cfg, &r) == 0);
    canto__resolver_free(r);
    canto_loop_free(loop);
    return 0;
}

int main(void)
{
    canto__alloc_init(&A, NULL);
    RUN(test_build_query);
    RUN(test_parse_captured_srv);
    RUN(test_parse_captured_other);
    RUN(test_parse_compressed_srv);
    RUN(test_parse_status);
    RUN(test_parse_malformed);
    RUN(test_parse_addresses);
    RUN(test_addresses_text);
    RUN(test_resolv_conf);
    RUN(test_hosts);
    RUN(test_read_file);
    RUN(test_srv_order);
    RUN(test_srv_weights_statistics);
    RUN(test_resolver_config);
    RUN(test_resolver_answer);
    RUN(test_resolver_timeouts);
    RUN(test_resolver_lies_and_truncation);
    RUN(test_resolver_local_answers);
    RUN(test_resolver_cancel);
    return CHECK_DONE();
}
