/* mDNS message codec: hand-written packets as they appear on the wire,
 * builder round trips, and every way a hostile packet can be malformed. */
#include "check.h"

#include <stdint.h>
#include <string.h>

#include <canto/error.h>

#include "mdns/msg.h"

/* Parsed messages are large (64 records); one each is plenty. */
static canto__mdns_msg msg;

/* A DNS-SD answer for XEP-0174: the PTR in the answer section and the
 * instance's SRV, TXT and the host's A and AAAA as additional records, names
 * compressed the way dn_comp() does it. Offsets in the comments. */
static const uint8_t presence_response[] = {
    /* 0: id 0, flags 0x8400 (response, authoritative), 0 QD, 1 AN, 0 NS, 4 AR */
    0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04,
    /* 12: _presence._tcp.local ("local" label at 27) */
    0x09, '_', 'p', 'r', 'e', 's', 'e', 'n', 'c', 'e', 0x04, '_', 't', 'c', 'p', 0x05, 'l', 'o',
    'c', 'a', 'l', 0x00,
    /* 34: PTR IN, TTL 4500, rdlength 16 */
    0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x11, 0x94, 0x00, 0x10,
    /* 44: juliet@pronto + pointer to 12 */
    0x0d, 'j', 'u', 'l', 'i', 'e', 't', '@', 'p', 'r', 'o', 'n', 't', 'o', 0xc0, 0x0c,
    /* 60: pointer to 44; SRV, cache-flush IN, TTL 120, rdlength 15 */
    0xc0, 0x2c, 0x00, 0x21, 0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x0f,
    /* 72: priority 0, weight 0, port 5222, target pronto (at 78) + pointer to 27 */
    0x00, 0x00, 0x00, 0x00, 0x14, 0x66, 0x06, 'p', 'r', 'o', 'n', 't', 'o', 0xc0, 0x1b,
    /* 87: pointer to 44; TXT, cache-flush IN, TTL 4500, rdlength 62 */
    0xc0, 0x2c, 0x00, 0x10, 0x80, 0x01, 0x00, 0x00, 0x11, 0x94, 0x00, 0x3e,
    /* 99: the TXT strings */
    0x09, 't', 'x', 't', 'v', 'e', 'r', 's', '=', '1', 0x0a, '1', 's', 't', '=', 'J', 'u', 'l', 'i',
    'e', 't', 0x0c, 'l', 'a', 's', 't', '=', 'C', 'a', 'p', 'u', 'l', 'e', 't', 0x0e, 'p', 'o', 'r',
    't', '.', 'p', '2', 'p', 'j', '=', '5', '2', '2', '2', 0x0c, 's', 't', 'a', 't', 'u', 's', '=',
    'a', 'v', 'a', 'i', 'l',
    /* 161: pointer to 78 (pronto.local); A, cache-flush IN, TTL 120, 192.168.1.5 */
    0xc0, 0x4e, 0x00, 0x01, 0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x04, 0xc0, 0xa8, 0x01, 0x05,
    /* 177: pointer to 78; AAAA, cache-flush IN, TTL 120, fe80::1 */
    0xc0, 0x4e, 0x00, 0x1c, 0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x10, 0xfe, 0x80, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    /* 205: end */
};

/* A browse query asking for a unicast reply (QU) and listing one answer the
 * querier already knows (RFC 6762 §5.4, §7.1). */
static const uint8_t qu_query[] = {
    /* 0: id 0, flags 0, 1 QD, 1 AN */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    /* 12: _presence._tcp.local PTR, class IN with the QU bit */
    0x09, '_', 'p', 'r', 'e', 's', 'e', 'n', 'c', 'e', 0x04, '_', 't', 'c', 'p', 0x05, 'l', 'o',
    'c', 'a', 'l', 0x00, 0x00, 0x0c, 0x80, 0x01,
    /* 38: known answer: pointer to 12, PTR IN, TTL 4500, rdlength 17 */
    0xc0, 0x0c, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x11, 0x94, 0x00, 0x11,
    /* 50: romeo@montague + pointer to 12 */
    0x0e, 'r', 'o', 'm', 'e', 'o', '@', 'm', 'o', 'n', 't', 'a', 'g', 'u', 'e', 0xc0, 0x0c,
    /* 67: end */
};

/* A probe for the host name (RFC 6762 §8.1): an ANY question with QU, the
 * proposed records in the authority section, no cache-flush bit. */
static const uint8_t probe[] = {
    /* 0: id 0, flags 0, 1 QD, 0 AN, 2 NS, 0 AR */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
    /* 12: pronto.local ANY, QU */
    0x06, 'p', 'r', 'o', 'n', 't', 'o', 0x05, 'l', 'o', 'c', 'a', 'l', 0x00, 0x00, 0xff, 0x80, 0x01,
    /* 30: pointer to 12; A IN, TTL 120, 192.168.1.5 */
    0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x04, 0xc0, 0xa8, 0x01, 0x05,
    /* 46: pointer to 12; AAAA IN, TTL 120, fe80::1 */
    0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x10, 0xfe, 0x80, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    /* 74: end */
};

static const uint8_t fe80_1[16] = {0xfe, 0x80, [15] = 1};

static int txt_has(const canto__mdns_rr *rr, const char *key, const char *want)
{
    const uint8_t *v = NULL;
    size_t vlen = 0;
    if (!canto__mdns_txt_get(rr->u.txt.data, rr->u.txt.len, key, &v, &vlen))
        return 0;
    if (!want)
        return v == NULL;
    return v && vlen == strlen(want) && memcmp(v, want, vlen) == 0;
}

static int test_presence_response(void)
{
    REQUIRE(sizeof presence_response == 205);
    REQUIRE(canto__mdns_parse(presence_response, sizeof presence_response, &msg) == 0);
    CHECK_INT(msg.id, 0);
    CHECK_INT(msg.flags, 0x8400);
    REQUIRE(msg.nrr == 5);

    const canto__mdns_rr *r = &msg.rr[0];
    CHECK_INT(r->section, CANTO__MDNS_AN);
    CHECK_STR(r->name, "_presence._tcp.local");
    CHECK_INT(r->type, CANTO__MDNS_T_PTR);
    CHECK_INT(r->rclass, CANTO__MDNS_CLASS_IN);
    CHECK_INT(r->cache_flush, 0);
    CHECK_INT(r->ttl, 4500);
    CHECK_STR(r->u.target, "juliet@pronto._presence._tcp.local");

    r = &msg.rr[1];
    CHECK_INT(r->section, CANTO__MDNS_AR);
    CHECK_STR(r->name, "juliet@pronto._presence._tcp.local");
    CHECK_INT(r->type, CANTO__MDNS_T_SRV);
    CHECK_INT(r->rclass, CANTO__MDNS_CLASS_IN);
    CHECK_INT(r->cache_flush, 1);
    CHECK_INT(r->ttl, 120);
    CHECK_INT(r->u.srv.priority, 0);
    CHECK_INT(r->u.srv.weight, 0);
    CHECK_INT(r->u.srv.port, 5222);
    CHECK_STR(r->u.srv.target, "pronto.local");

    r = &msg.rr[2];
    CHECK_INT(r->type, CANTO__MDNS_T_TXT);
    CHECK_STR(r->name, "juliet@pronto._presence._tcp.local");
    CHECK_INT(r->u.txt.len, 62);
    CHECK(txt_has(r, "txtvers", "1"));
    CHECK(txt_has(r, "1st", "Juliet"));
    CHECK(txt_has(r, "port.p2pj", "5222"));
    CHECK(txt_has(r, "STATUS", "avail"));
    CHECK(!txt_has(r, "msg", NULL));

    r = &msg.rr[3];
    CHECK_INT(r->type, CANTO__MDNS_T_A);
    CHECK_STR(r->name, "pronto.local");
    CHECK(memcmp(r->u.a, "\xc0\xa8\x01\x05", 4) == 0);

    r = &msg.rr[4];
    CHECK_INT(r->type, CANTO__MDNS_T_AAAA);
    CHECK_STR(r->name, "pronto.local");
    CHECK(memcmp(r->u.aaaa, fe80_1, 16) == 0);
    return 0;
}

static int test_qu_query(void)
{
    REQUIRE(sizeof qu_query == 67);
    REQUIRE(canto__mdns_parse(qu_query, sizeof qu_query, &msg) == 0);
    CHECK_INT(msg.flags, 0);
    REQUIRE(msg.nrr == 2);
    CHECK_INT(msg.rr[0].section, CANTO__MDNS_QD);
    CHECK_STR(msg.rr[0].name, "_presence._tcp.local");
    CHECK_INT(msg.rr[0].type, CANTO__MDNS_T_PTR);
    CHECK_INT(msg.rr[0].rclass, CANTO__MDNS_CLASS_IN);
    CHECK_INT(msg.rr[0].unicast, 1);
    CHECK_INT(msg.rr[1].section, CANTO__MDNS_AN);
    CHECK_INT(msg.rr[1].ttl, 4500);
    CHECK_STR(msg.rr[1].u.target, "romeo@montague._presence._tcp.local");
    return 0;
}

static int test_probe(void)
{
    REQUIRE(sizeof probe == 74);
    REQUIRE(canto__mdns_parse(probe, sizeof probe, &msg) == 0);
    REQUIRE(msg.nrr == 3);
    CHECK_INT(msg.rr[0].section, CANTO__MDNS_QD);
    CHECK_INT(msg.rr[0].type, CANTO__MDNS_T_ANY);
    CHECK_INT(msg.rr[0].unicast, 1);
    CHECK_STR(msg.rr[0].name, "pronto.local");
    CHECK_INT(msg.rr[1].section, CANTO__MDNS_NS);
    CHECK_INT(msg.rr[1].type, CANTO__MDNS_T_A);
    CHECK_INT(msg.rr[1].cache_flush, 0);
    CHECK_INT(msg.rr[2].section, CANTO__MDNS_NS);
    CHECK_INT(msg.rr[2].type, CANTO__MDNS_T_AAAA);
    CHECK(memcmp(msg.rr[2].u.aaaa, fe80_1, 16) == 0);
    return 0;
}

/* Every proper prefix of a valid packet is malformed, never a crash. */
static void all_truncations(const uint8_t *pkt, size_t len)
{
    for (size_t n = 0; n < len; n++) {
        int rc = canto__mdns_parse(pkt, n, &msg);
        CHECK_INT(rc, CANTO_EPROTO);
        CHECK_INT(msg.nrr, 0);
    }
}

static int test_truncations(void)
{
    all_truncations(presence_response, sizeof presence_response);
    all_truncations(qu_query, sizeof qu_query);
    all_truncations(probe, sizeof probe);
    return 0;
}

/* Bytes after the last record are not part of any section. */
static int test_trailing_garbage(void)
{
    uint8_t pkt[sizeof probe + 1];
    memcpy(pkt, probe, sizeof probe);
    pkt[sizeof probe] = 0;
    CHECK_INT(canto__mdns_parse(pkt, sizeof pkt, &msg), CANTO_EPROTO);
    return 0;
}

static canto__mdns_rr make_rr(canto__mdns_section sect, const char *name, uint16_t type,
                              uint32_t ttl, int flag)
{
    canto__mdns_rr rr;
    memset(&rr, 0, sizeof rr);
    rr.section = sect;
    strcpy(rr.name, name);
    rr.type = type;
    rr.rclass = CANTO__MDNS_CLASS_IN;
    rr.ttl = ttl;
    if (sect == CANTO__MDNS_QD)
        rr.unicast = flag;
    else
        rr.cache_flush = flag;
    return rr;
}

/* The builder writes exactly the transcript above: same record order, same
 * compression. */
static int test_build_presence(void)
{
    uint8_t buf[1500];
    canto__mdns_builder b;
    canto__mdns_build_init(&b, buf, sizeof buf, 0, 0x8400);

    canto__mdns_rr rr = make_rr(CANTO__MDNS_AN, "_presence._tcp.local", CANTO__MDNS_T_PTR, 4500, 0);
    strcpy(rr.u.target, "juliet@pronto._presence._tcp.local");
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);

    const char *inst = "juliet@pronto._presence._tcp.local";
    rr = make_rr(CANTO__MDNS_AR, inst, CANTO__MDNS_T_SRV, 120, 1);
    rr.u.srv.port = 5222;
    strcpy(rr.u.srv.target, "pronto.local");
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);

    rr = make_rr(CANTO__MDNS_AR, inst, CANTO__MDNS_T_TXT, 4500, 1);
    CHECK_INT(canto__mdns_txt_add(rr.u.txt.data, &rr.u.txt.len, "txtvers", "1"), 0);
    CHECK_INT(canto__mdns_txt_add(rr.u.txt.data, &rr.u.txt.len, "1st", "Juliet"), 0);
    CHECK_INT(canto__mdns_txt_add(rr.u.txt.data, &rr.u.txt.len, "last", "Capulet"), 0);
    CHECK_INT(canto__mdns_txt_add(rr.u.txt.data, &rr.u.txt.len, "port.p2pj", "5222"), 0);
    CHECK_INT(canto__mdns_txt_add(rr.u.txt.data, &rr.u.txt.len, "status", "avail"), 0);
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);

    rr = make_rr(CANTO__MDNS_AR, "pronto.local", CANTO__MDNS_T_A, 120, 1);
    memcpy(rr.u.a, "\xc0\xa8\x01\x05", 4);
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);
    rr = make_rr(CANTO__MDNS_AR, "pronto.local", CANTO__MDNS_T_AAAA, 120, 1);
    memcpy(rr.u.aaaa, fe80_1, 16);
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);

    size_t len = canto__mdns_build_finish(&b);
    CHECK_INT(len, sizeof presence_response);
    CHECK(len == sizeof presence_response && memcmp(buf, presence_response, len) == 0);
    return 0;
}

static int test_build_query_and_probe(void)
{
    uint8_t buf[512];
    canto__mdns_builder b;
    canto__mdns_build_init(&b, buf, sizeof buf, 0, 0);
    canto__mdns_rr rr = make_rr(CANTO__MDNS_QD, "_presence._tcp.local", CANTO__MDNS_T_PTR, 0, 1);
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);
    rr = make_rr(CANTO__MDNS_AN, "_presence._tcp.local", CANTO__MDNS_T_PTR, 4500, 0);
    strcpy(rr.u.target, "romeo@montague._presence._tcp.local");
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);
    size_t len = canto__mdns_build_finish(&b);
    CHECK(len == sizeof qu_query && memcmp(buf, qu_query, len) == 0);

    canto__mdns_build_init(&b, buf, sizeof buf, 0, 0);
    rr = make_rr(CANTO__MDNS_QD, "pronto.local", CANTO__MDNS_T_ANY, 0, 1);
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);
    rr = make_rr(CANTO__MDNS_NS, "pronto.local", CANTO__MDNS_T_A, 120, 0);
    memcpy(rr.u.a, "\xc0\xa8\x01\x05", 4);
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);
    rr = make_rr(CANTO__MDNS_NS, "pronto.local", CANTO__MDNS_T_AAAA, 120, 0);
    memcpy(rr.u.aaaa, fe80_1, 16);
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);
    len = canto__mdns_build_finish(&b);
    CHECK(len == sizeof probe && memcmp(buf, probe, len) == 0);
    return 0;
}

/* Whatever the builder writes, the parser reads back the same records. */
static int test_round_trip(void)
{
    uint8_t buf[CANTO__MDNS_MAX_PACKET];
    canto__mdns_builder b;
    canto__mdns_build_init(&b, buf, sizeof buf, 0x1234, 0x8400);

    canto__mdns_rr in[6];
    in[0] = make_rr(CANTO__MDNS_AN, "My Printer\\.2 \xc3\xbc._ipp._tcp.local", CANTO__MDNS_T_TXT,
                    4500, 1); /* a dot inside a label, a space, UTF-8 */
    in[1] = make_rr(CANTO__MDNS_AN, "Host.Local", CANTO__MDNS_T_SRV, 120, 1);
    in[1].u.srv.priority = 1;
    in[1].u.srv.weight = 2;
    in[1].u.srv.port = 65535;
    strcpy(in[1].u.srv.target, "a\\\\b\\009.local"); /* a backslash and a tab */
    in[2] = make_rr(CANTO__MDNS_NS, "x.local", CANTO__MDNS_T_NSEC, 120, 1);
    memcpy(in[2].u.txt.data, "\xc0\x0c\x00\x04\x40\x00\x00\x08", 8);
    in[2].u.txt.len = 8;
    in[3] = make_rr(CANTO__MDNS_AR, "host.local", CANTO__MDNS_T_PTR, 0, 0);
    strcpy(in[3].u.target, "");
    in[4] = make_rr(CANTO__MDNS_AR, "host.local", CANTO__MDNS_T_A, 0xffffffffu, 0);
    in[5] = make_rr(CANTO__MDNS_AR, "1.0.0.127.in-addr.arpa", CANTO__MDNS_T_PTR, 10, 1);
    strcpy(in[5].u.target, "HOST.local");
    /* in[0] keeps zero strings: it goes out as one empty string. */
    for (int i = 0; i < 6; i++)
        CHECK_INT(canto__mdns_build_add(&b, &in[i]), 0);
    size_t len = canto__mdns_build_finish(&b);
    REQUIRE(canto__mdns_parse(buf, len, &msg) == 0);
    CHECK_INT(msg.id, 0x1234);
    CHECK_INT(msg.flags, 0x8400);
    REQUIRE(msg.nrr == 6);
    CHECK_STR(msg.rr[0].name, "My Printer\\.2 \xc3\xbc._ipp._tcp.local");
    CHECK_INT(msg.rr[0].u.txt.len, 1);
    CHECK_INT(msg.rr[0].u.txt.data[0], 0);
    CHECK_STR(msg.rr[1].u.srv.target, "a\\\\b\\009.local");
    CHECK_INT(msg.rr[1].u.srv.port, 65535);
    CHECK_INT(msg.rr[2].u.txt.len, 8);
    CHECK_STR(msg.rr[3].u.target, "");
    CHECK_INT(msg.rr[4].ttl, 0xffffffffu);
    for (int i = 0; i < 6; i++) {
        CHECK_INT(msg.rr[i].section, in[i].section);
        CHECK(canto__mdns_name_eq(msg.rr[i].name, in[i].name));
        CHECK_INT(msg.rr[i].type, in[i].type);
        CHECK_INT(msg.rr[i].cache_flush, in[i].cache_flush);
        CHECK_INT(msg.rr[i].ttl, in[i].ttl);
        CHECK(canto__mdns_rdata_eq(&msg.rr[i], &in[i]));
    }
    return 0;
}

static int test_build_limits(void)
{
    uint8_t buf[64];
    canto__mdns_builder b;
    canto__mdns_build_init(&b, buf, sizeof buf, 0, 0);
    canto__mdns_rr rr = make_rr(CANTO__MDNS_AN, "pronto.local", CANTO__MDNS_T_A, 120, 1);
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0); /* 12 + 14 + 14 = 40 */
    size_t before = b.len;
    /* Does not fit: nothing changes, and the name it wrote is forgotten. */
    canto__mdns_rr big =
        make_rr(CANTO__MDNS_AN, "averyveryverylongname.local", CANTO__MDNS_T_A, 120, 1);
    CHECK_INT(canto__mdns_build_add(&b, &big), CANTO_ETOOBIG);
    CHECK_INT(b.len, before);
    CHECK_INT(b.counts[1], 1);
    CHECK(b.dnptrs[2] == NULL);
    /* A record that fits still compresses against the first one. */
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);
    CHECK_INT(b.len, before + 2 + 10 + 4);
    size_t len = canto__mdns_build_finish(&b);
    REQUIRE(canto__mdns_parse(buf, len, &msg) == 0);
    CHECK_INT(msg.nrr, 2);

    /* Section order. */
    canto__mdns_build_init(&b, buf, sizeof buf, 0, 0);
    rr.section = CANTO__MDNS_AR;
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);
    rr.section = CANTO__MDNS_AN;
    CHECK_INT(canto__mdns_build_add(&b, &rr), CANTO_EINVAL);
    rr.section = (canto__mdns_section)4;
    CHECK_INT(canto__mdns_build_add(&b, &rr), CANTO_EINVAL);

    /* Bad names and rdata. */
    uint8_t big_buf[CANTO__MDNS_MAX_PACKET];
    canto__mdns_build_init(&b, big_buf, sizeof big_buf, 0, 0);
    rr = make_rr(CANTO__MDNS_AN, "a..local", CANTO__MDNS_T_A, 120, 0);
    CHECK_INT(canto__mdns_build_add(&b, &rr), CANTO_EINVAL);
    rr = make_rr(CANTO__MDNS_AN, "a\\", CANTO__MDNS_T_A, 120, 0);
    CHECK_INT(canto__mdns_build_add(&b, &rr), CANTO_EINVAL);
    rr = make_rr(CANTO__MDNS_AN, "ok.local", CANTO__MDNS_T_SRV, 120, 0);
    strcpy(rr.u.srv.target, "bad..target");
    CHECK_INT(canto__mdns_build_add(&b, &rr), CANTO_EINVAL);
    rr = make_rr(CANTO__MDNS_AN, "ok.local", CANTO__MDNS_T_TXT, 120, 0);
    rr.u.txt.len = 3;
    memcpy(rr.u.txt.data,
           "\x05"
           "ab",
           3); /* string runs past the end */
    CHECK_INT(canto__mdns_build_add(&b, &rr), CANTO_EINVAL);
    rr.u.txt.len = CANTO__MDNS_TXT_MAX + 1;
    CHECK_INT(canto__mdns_build_add(&b, &rr), CANTO_EINVAL);
    CHECK_INT(b.len, 12);

    /* At most CANTO__MDNS_MAX_RECORDS, so our own parser takes it. */
    rr = make_rr(CANTO__MDNS_AN, "pronto.local", CANTO__MDNS_T_A, 120, 1);
    for (int i = 0; i < CANTO__MDNS_MAX_RECORDS; i++)
        CHECK_INT(canto__mdns_build_add(&b, &rr), 0);
    CHECK_INT(canto__mdns_build_add(&b, &rr), CANTO_ETOOBIG);
    len = canto__mdns_build_finish(&b);
    REQUIRE(canto__mdns_parse(big_buf, len, &msg) == 0);
    CHECK_INT(msg.nrr, CANTO__MDNS_MAX_RECORDS);

    /* No room for a header at all. */
    canto__mdns_build_init(&b, buf, 11, 0, 0);
    CHECK_INT(canto__mdns_build_add(&b, &rr), CANTO_ETOOBIG);
    CHECK_INT(canto__mdns_build_finish(&b), 0);
    return 0;
}

/* A question whose name starts at offset 12, made of @p name (wire bytes). */
static size_t question(uint8_t *pkt, const uint8_t *name, size_t nlen)
{
    memset(pkt, 0, 12);
    pkt[5] = 1; /* QDCOUNT 1 */
    memcpy(pkt + 12, name, nlen);
    memcpy(pkt + 12 + nlen, "\x00\x01\x00\x01", 4);
    return 12 + nlen + 4;
}

static int test_pointer_loops(void)
{
    uint8_t pkt[64];
    /* A pointer to itself. */
    size_t len = question(pkt, (const uint8_t *)"\xc0\x0c", 2);
    CHECK_INT(canto__mdns_parse(pkt, len, &msg), CANTO_EPROTO);

    /* Two pointers pointing at each other: the name at 12 points at 14,
     * where the question's type field (0xc00c) points back at 12. */
    len = question(pkt, (const uint8_t *)"\xc0\x0e", 2);
    pkt[14] = 0xc0;
    pkt[15] = 0x0c;
    CHECK_INT(canto__mdns_parse(pkt, len, &msg), CANTO_EPROTO);

    /* A label, then a pointer back to that label. */
    len = question(pkt, (const uint8_t *)"\x01x\xc0\x0c", 4);
    CHECK_INT(canto__mdns_parse(pkt, len, &msg), CANTO_EPROTO);

    /* A loop inside a PTR's rdata (rdata at 28 points at itself). */
    static const uint8_t ptr_loop[] = {0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
                                       0x00, 0x00, 0x00, 0x01, 'a',  0x00, 0x00, 0x0c, 0x00,
                                       0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x02, 0xc0, 0x19};
    CHECK_INT(canto__mdns_parse(ptr_loop, sizeof ptr_loop, &msg), CANTO_EPROTO);

    /* A pointer past the end of the message. */
    len = question(pkt, (const uint8_t *)"\xc0\x3f", 2);
    CHECK_INT(canto__mdns_parse(pkt, len, &msg), CANTO_EPROTO);
    return 0;
}

/* RFC 1035 pointers go to earlier names, but glibc's dn_expand() follows a
 * pointer forward too, and so do we: the first question's name is the
 * second's. */
static int test_forward_pointer(void)
{
    static const uint8_t pkt[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0xc0, 0x12, 0x00, 0x01, 0x00, 0x01, 0x05, 'l',
                                  'o',  'c',  'a',  'l',  0x00, 0x00, 0x1c, 0x00, 0x01};
    REQUIRE(canto__mdns_parse(pkt, sizeof pkt, &msg) == 0);
    REQUIRE(msg.nrr == 2);
    CHECK_STR(msg.rr[0].name, "local");
    CHECK_STR(msg.rr[1].name, "local");
    return 0;
}

/* A name of @p labels labels of @p each bytes, then one of @p last bytes. */
static size_t long_name(uint8_t *out, int labels, int each, int last)
{
    size_t o = 0;
    for (int i = 0; i < labels; i++) {
        out[o++] = (uint8_t)each;
        memset(out + o, 'a' + i, (size_t)each);
        o += (size_t)each;
    }
    if (last > 0) {
        out[o++] = (uint8_t)last;
        memset(out + o, 'z', (size_t)last);
        o += (size_t)last;
    }
    out[o++] = 0;
    return o;
}

static int test_name_limits(void)
{
    uint8_t name[300], pkt[400];
    /* 3 labels of 63 and one of 61: 3*64 + 62 + 1 = 255 bytes, the most. */
    size_t n = long_name(name, 3, 63, 61);
    REQUIRE(n == 255);
    size_t len = question(pkt, name, n);
    REQUIRE(canto__mdns_parse(pkt, len, &msg) == 0);
    CHECK_INT(strlen(msg.rr[0].name), 253);

    /* The same name back through the builder; one byte more is refused. */
    uint8_t buf[600];
    canto__mdns_builder b;
    canto__mdns_build_init(&b, buf, sizeof buf, 0, 0);
    canto__mdns_rr rr = msg.rr[0];
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);
    size_t l = strlen(rr.name);
    rr.name[l] = 'z';
    rr.name[l + 1] = '\0';
    CHECK_INT(canto__mdns_build_add(&b, &rr), CANTO_EINVAL);

    /* 256 bytes. */
    n = long_name(name, 3, 63, 62);
    REQUIRE(n == 256);
    len = question(pkt, name, n);
    CHECK_INT(canto__mdns_parse(pkt, len, &msg), CANTO_EPROTO);

    /* 256 bytes reached only through a pointer: a 200-byte name, then one
     * whose 55-byte label is followed by a pointer to it. */
    static uint8_t two[600];
    memset(two, 0, 12);
    two[5] = 2;
    size_t o = 12;
    o += long_name(two + o, 3, 63, 7); /* 3*64 + 8 + 1 = 201 bytes */
    memcpy(two + o, "\x00\x01\x00\x01", 4);
    o += 4;
    two[o++] = 54;
    memset(two + o, 'q', 54);
    o += 54;
    two[o++] = 0xc0;
    two[o++] = 12;
    memcpy(two + o, "\x00\x01\x00\x01", 4);
    o += 4;
    /* 55 + 201 = 256. */
    CHECK_INT(canto__mdns_parse(two, o, &msg), CANTO_EPROTO);
    /* One byte shorter label: 255, accepted. */
    two[12 + 201 + 4] = 53;
    memmove(two + 12 + 201 + 4 + 1 + 53, two + 12 + 201 + 4 + 1 + 54, 6);
    CHECK_INT(canto__mdns_parse(two, o - 1, &msg), 0);

    /* Labels of 63 and 64 bytes. */
    n = long_name(name, 1, 63, 0);
    len = question(pkt, name, n);
    REQUIRE(canto__mdns_parse(pkt, len, &msg) == 0);
    CHECK_INT(strlen(msg.rr[0].name), 63);
    name[0] = 64; /* 0x40: an extended label type, not a length */
    memset(name + 1, 'a', 64);
    name[65] = 0;
    len = question(pkt, name, 66);
    CHECK_INT(canto__mdns_parse(pkt, len, &msg), CANTO_EPROTO);

    /* The builder says the same about labels. */
    char text[80];
    memset(text, 'a', 63);
    strcpy(text + 63, ".local");
    rr = make_rr(CANTO__MDNS_AN, text, CANTO__MDNS_T_A, 1, 0);
    canto__mdns_build_init(&b, buf, sizeof buf, 0, 0);
    CHECK_INT(canto__mdns_build_add(&b, &rr), 0);
    memset(text, 'a', 64);
    strcpy(text + 64, ".local");
    rr = make_rr(CANTO__MDNS_AN, text, CANTO__MDNS_T_A, 1, 0);
    CHECK_INT(canto__mdns_build_add(&b, &rr), CANTO_EINVAL);

    /* A valid 255-byte name whose presentation form is too long for
     * CANTO__MDNS_NAME_MAX (control bytes take four characters). */
    n = long_name(name, 3, 63, 61);
    memset(name + 1, 0x01, 63);
    len = question(pkt, name, n);
    CHECK_INT(canto__mdns_parse(pkt, len, &msg), CANTO_EPROTO);
    return 0;
}

/* One answer record with the given type and rdata, owner "a". */
static size_t one_record(uint8_t *pkt, uint16_t type, const uint8_t *rdata, size_t rdlen)
{
    static const uint8_t head[] = {0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x01,
                                   0x00, 0x00, 0x00, 0x00, 0x01, 'a',  0x00};
    memcpy(pkt, head, sizeof head);
    size_t o = sizeof head;
    pkt[o++] = (uint8_t)(type >> 8);
    pkt[o++] = (uint8_t)type;
    memcpy(pkt + o, "\x00\x01\x00\x00\x00\x78", 6);
    o += 6;
    pkt[o++] = (uint8_t)(rdlen >> 8);
    pkt[o++] = (uint8_t)rdlen;
    memcpy(pkt + o, rdata, rdlen);
    return o + rdlen;
}

static int test_rdlength(void)
{
    static uint8_t pkt[CANTO__MDNS_MAX_PACKET], rd[CANTO__MDNS_TXT_MAX + 10];
    memset(rd, 0, sizeof rd);
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_A, rd, 4), &msg), 0);
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_A, rd, 5), &msg), CANTO_EPROTO);
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_A, rd, 3), &msg), CANTO_EPROTO);
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_AAAA, rd, 16), &msg), 0);
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_AAAA, rd, 4), &msg),
              CANTO_EPROTO);
    /* SRV: 6 fixed bytes and at least the root name. */
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_SRV, rd, 7), &msg), 0);
    CHECK_STR(msg.rr[0].u.srv.target, "");
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_SRV, rd, 6), &msg),
              CANTO_EPROTO);
    /* Name ends before the rdata does. */
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_SRV, rd, 8), &msg),
              CANTO_EPROTO);
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_PTR, rd, 1), &msg), 0);
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_PTR, rd, 2), &msg),
              CANTO_EPROTO);
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_PTR, rd, 0), &msg),
              CANTO_EPROTO);
    /* A PTR name running past its rdlength: the 0x00 ending "\x01a" is the
     * next record's owner name (the root). With rdlength 3 it is fine. */
    static uint8_t two[] = {0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
                            0x00, 0x01, 'a',  0x00, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x00,
                            0x78, 0x00, 0x02, 0x01, 'a',  0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
                            0x00, 0x00, 0x78, 0x00, 0x04, 0x0a, 0x00, 0x00, 0x01};
    CHECK_INT(canto__mdns_parse(two, sizeof two, &msg), CANTO_EPROTO);
    static const uint8_t fixed[] = {
        0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 'a',  0x00,
        0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x03, 0x01, 'a',  0x00, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x04, 0x0a, 0x00, 0x00, 0x01};
    REQUIRE(canto__mdns_parse(fixed, sizeof fixed, &msg) == 0);
    CHECK_STR(msg.rr[0].u.target, "a");
    CHECK_STR(msg.rr[1].name, "");
    size_t len;
    /* rdlength past the end of the message. */
    len = one_record(pkt, CANTO__MDNS_T_A, rd, 4);
    pkt[len - 5] = 5;
    CHECK_INT(canto__mdns_parse(pkt, len, &msg), CANTO_EPROTO);
    pkt[len - 6] = 0xff;
    CHECK_INT(canto__mdns_parse(pkt, len, &msg), CANTO_EPROTO);

    /* TXT: strings must end exactly at rdlength; zero strings is one empty. */
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_TXT, rd, 0), &msg), 0);
    CHECK_INT(msg.rr[0].u.txt.len, 1);
    CHECK_INT(msg.rr[0].u.txt.data[0], 0);
    CHECK_INT(canto__mdns_parse(pkt,
                                one_record(pkt, CANTO__MDNS_T_TXT,
                                           (const uint8_t *)"\x02"
                                                            "ab\x01",
                                           4),
                                &msg),
              CANTO_EPROTO);
    CHECK_INT(canto__mdns_parse(pkt,
                                one_record(pkt, CANTO__MDNS_T_TXT,
                                           (const uint8_t *)"\x02"
                                                            "ab\x00",
                                           4),
                                &msg),
              0);
    /* TXT size limit. */
    memset(rd, 0, sizeof rd);
    CHECK_INT(
        canto__mdns_parse(pkt, one_record(pkt, CANTO__MDNS_T_TXT, rd, CANTO__MDNS_TXT_MAX), &msg),
        0);
    CHECK_INT(msg.rr[0].u.txt.len, CANTO__MDNS_TXT_MAX);
    CHECK_INT(canto__mdns_parse(
                  pkt, one_record(pkt, CANTO__MDNS_T_TXT, rd, CANTO__MDNS_TXT_MAX + 1), &msg),
              CANTO_EPROTO);
    /* Unknown types: kept raw, or skipped when too big to keep. */
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, 99, rd, 3), &msg), 0);
    CHECK_INT(msg.nrr, 1);
    CHECK_INT(msg.rr[0].u.txt.len, 3);
    CHECK_INT(canto__mdns_parse(pkt, one_record(pkt, 99, rd, CANTO__MDNS_TXT_MAX + 1), &msg), 0);
    CHECK_INT(msg.nrr, 0);
    return 0;
}

static int test_header_checks(void)
{
    uint8_t pkt[sizeof presence_response];
    memcpy(pkt, presence_response, sizeof pkt);
    for (unsigned op = 1; op < 16; op++) {
        pkt[2] = (uint8_t)(0x84 | op << 3);
        CHECK_INT(canto__mdns_parse(pkt, sizeof pkt, &msg), CANTO_EPROTO);
    }
    pkt[2] = 0x84;
    for (unsigned rc = 1; rc < 16; rc++) {
        pkt[3] = (uint8_t)rc;
        CHECK_INT(canto__mdns_parse(pkt, sizeof pkt, &msg), CANTO_EPROTO);
    }
    pkt[3] = 0;
    /* TC and the other flag bits are not errors. */
    pkt[2] = 0x87;
    pkt[3] = 0xf0;
    CHECK_INT(canto__mdns_parse(pkt, sizeof pkt, &msg), 0);
    CHECK_INT(msg.flags, 0x87f0);

    /* A header alone claiming 10 000 records: refused on the counts, before
     * anything looks for them (they would be EPROTO: not there). */
    uint8_t hdr[12] = {0};
    hdr[4] = 10000 >> 8;
    hdr[5] = 10000 & 0xff;
    CHECK_INT(canto__mdns_parse(hdr, sizeof hdr, &msg), CANTO_ETOOBIG);
    memset(hdr + 4, 0xff, 8);
    CHECK_INT(canto__mdns_parse(hdr, sizeof hdr, &msg), CANTO_ETOOBIG);
    /* 16 in each section is the limit; 17 in one is over. */
    memset(hdr + 4, 0, 8);
    hdr[5] = hdr[7] = hdr[9] = hdr[11] = 16;
    CHECK_INT(canto__mdns_parse(hdr, sizeof hdr, &msg), CANTO_EPROTO);
    hdr[11] = 17;
    CHECK_INT(canto__mdns_parse(hdr, sizeof hdr, &msg), CANTO_ETOOBIG);

    /* An empty message is fine; an over-long one is not read. */
    memset(hdr, 0, sizeof hdr);
    CHECK_INT(canto__mdns_parse(hdr, sizeof hdr, &msg), 0);
    CHECK_INT(msg.nrr, 0);
    static uint8_t huge[CANTO__MDNS_MAX_PACKET + 1];
    CHECK_INT(canto__mdns_parse(huge, sizeof huge, &msg), CANTO_ETOOBIG);
    CHECK_INT(canto__mdns_parse(NULL, 0, &msg), CANTO_EPROTO);
    return 0;
}

static int test_names(void)
{
    CHECK(canto__mdns_name_eq("Pronto.LOCAL", "pronto.local"));
    CHECK(canto__mdns_name_eq("pronto.local.", "pronto.local"));
    CHECK(canto__mdns_name_eq("\\080ronto.local", "pronto.local"));
    CHECK(canto__mdns_name_eq("", "."));
    CHECK(!canto__mdns_name_eq("pronto.local", "pronto.locale"));
    CHECK(!canto__mdns_name_eq("a\\.b.local", "a.b.local"));
    /* Only ASCII folds: UTF-8 bytes compare as they are. */
    CHECK(!canto__mdns_name_eq("\xc3\xbc.local", "\xc3\x9c.local"));
    CHECK(canto__mdns_name_eq("a..b", "a..b"));
    CHECK(!canto__mdns_name_eq("a..b", "A..B"));
    CHECK(!canto__mdns_name_eq(NULL, "a"));

    uint8_t wire[255];
    CHECK_INT(canto__mdns_name_to_wire("a.local", wire, sizeof wire), 9);
    CHECK(memcmp(wire,
                 "\x01"
                 "a\x05"
                 "local",
                 9) == 0);
    CHECK_INT(canto__mdns_name_to_wire("a.local", wire, 8), CANTO_EINVAL);
    CHECK_INT(canto__mdns_name_to_wire("", wire, sizeof wire), 1);
    CHECK_INT(canto__mdns_name_to_wire(".a", wire, sizeof wire), CANTO_EINVAL);
    return 0;
}

static int test_rdata_compare(void)
{
    canto__mdns_rr a = make_rr(CANTO__MDNS_AN, "h.local", CANTO__MDNS_T_A, 120, 1);
    canto__mdns_rr b = a;
    /* RFC 6762 §8.2's own example: 169.254.200.50 is later. */
    memcpy(a.u.a, "\xa9\xfe\x63\xc8", 4);
    memcpy(b.u.a, "\xa9\xfe\xc8\x32", 4);
    CHECK(canto__mdns_rdata_cmp(&a, &b) < 0);
    CHECK(canto__mdns_rdata_cmp(&b, &a) > 0);
    CHECK(!canto__mdns_rdata_eq(&a, &b));
    /* TTL and cache-flush do not count. */
    b = a;
    b.ttl = 0;
    b.cache_flush = 0;
    CHECK_INT(canto__mdns_rdata_cmp(&a, &b), 0);
    CHECK(canto__mdns_rdata_eq(&a, &b));
    /* Class first, then type. */
    b.rclass = 2;
    CHECK(canto__mdns_rdata_cmp(&a, &b) < 0);
    canto__mdns_rr c = make_rr(CANTO__MDNS_AN, "h.local", CANTO__MDNS_T_AAAA, 120, 1);
    memset(c.u.aaaa, 0, 16);
    CHECK(canto__mdns_rdata_cmp(&a, &c) < 0);

    /* SRV: priority, weight, port, then the uncompressed target. */
    canto__mdns_rr s1 = make_rr(CANTO__MDNS_AN, "i._p._tcp.local", CANTO__MDNS_T_SRV, 120, 1);
    canto__mdns_rr s2 = s1;
    strcpy(s1.u.srv.target, "b.local");
    strcpy(s2.u.srv.target, "a.local");
    s1.u.srv.port = 5222;
    s2.u.srv.port = 5223;
    CHECK(canto__mdns_rdata_cmp(&s1, &s2) < 0);
    s2.u.srv.port = 5222;
    CHECK(canto__mdns_rdata_cmp(&s1, &s2) > 0);
    /* A longer first label is a bigger length byte. */
    strcpy(s2.u.srv.target, "aa.local");
    CHECK(canto__mdns_rdata_cmp(&s1, &s2) < 0);
    /* Same name, different case: equal records, distinct bytes. */
    strcpy(s2.u.srv.target, "B.LOCAL");
    CHECK(canto__mdns_rdata_eq(&s1, &s2));
    CHECK(canto__mdns_rdata_cmp(&s1, &s2) > 0);

    /* PTR, and a prefix sorting first. */
    canto__mdns_rr p1 = make_rr(CANTO__MDNS_AN, "_p._tcp.local", CANTO__MDNS_T_PTR, 120, 0);
    canto__mdns_rr p2 = p1;
    strcpy(p1.u.target, "x.local");
    strcpy(p2.u.target, "x.local.");
    CHECK_INT(canto__mdns_rdata_cmp(&p1, &p2), 0);
    canto__mdns_rr t1 = make_rr(CANTO__MDNS_AN, "i._p._tcp.local", CANTO__MDNS_T_TXT, 120, 1);
    canto__mdns_rr t2 = t1;
    canto__mdns_txt_add(t1.u.txt.data, &t1.u.txt.len, "a", "1");
    canto__mdns_txt_add(t2.u.txt.data, &t2.u.txt.len, "a", "1");
    CHECK_INT(canto__mdns_rdata_cmp(&t1, &t2), 0);
    canto__mdns_txt_add(t2.u.txt.data, &t2.u.txt.len, "b", NULL);
    CHECK(canto__mdns_rdata_cmp(&t1, &t2) < 0);
    CHECK(!canto__mdns_rdata_eq(&t1, &t2));
    /* An empty TXT is the lone empty string. */
    t1.u.txt.len = 0;
    t2.u.txt.len = 1;
    t2.u.txt.data[0] = 0;
    CHECK(canto__mdns_rdata_eq(&t1, &t2));
    return 0;
}

static int test_txt(void)
{
    uint8_t txt[CANTO__MDNS_TXT_MAX];
    uint16_t len = 0;
    const uint8_t *v;
    size_t vlen;

    CHECK_INT(canto__mdns_txt_add(txt, &len, "Key", "one"), 0);
    CHECK_INT(canto__mdns_txt_add(txt, &len, "KEY", "two"), 0);
    CHECK_INT(canto__mdns_txt_add(txt, &len, "bare", NULL), 0);
    CHECK_INT(canto__mdns_txt_add(txt, &len, "empty", ""), 0);
    CHECK_INT(len, 8 + 8 + 5 + 7);
    CHECK(canto__mdns_txt_valid(txt, len));

    /* Case-insensitive keys, the first one wins. */
    v = NULL;
    CHECK_INT(canto__mdns_txt_get(txt, len, "key", &v, &vlen), 1);
    CHECK(v && vlen == 3 && memcmp(v, "one", 3) == 0);
    CHECK_INT(canto__mdns_txt_get(txt, len, "bare", &v, &vlen), 1);
    CHECK(v == NULL);
    CHECK_INT(vlen, 0);
    v = NULL;
    vlen = 9;
    CHECK_INT(canto__mdns_txt_get(txt, len, "EMPTY", &v, &vlen), 1);
    CHECK(v != NULL);
    CHECK_INT(vlen, 0);
    CHECK_INT(canto__mdns_txt_get(txt, len, "ke", &v, &vlen), 0);
    CHECK_INT(canto__mdns_txt_get(txt, len, "keys", &v, &vlen), 0);
    CHECK_INT(canto__mdns_txt_get(txt, len, "", &v, &vlen), 0);
    CHECK_INT(canto__mdns_txt_get(txt, len, "bare", NULL, NULL), 1);

    /* Empty record forms, and strings without a key. */
    CHECK_INT(canto__mdns_txt_get((const uint8_t *)"", 1, "a", &v, &vlen), 0);
    CHECK_INT(canto__mdns_txt_get(txt, 0, "key", &v, &vlen), 0);
    static const uint8_t odd[] = {0x00, 0x02, '=', 'x', 0x03, 'a', '=', 'b', 0x09, 'c'};
    CHECK_INT(canto__mdns_txt_get(odd, 8, "a", &v, &vlen), 1);
    CHECK(vlen == 1 && v[0] == 'b');
    /* The last string runs past the end: it is not there. */
    CHECK_INT(canto__mdns_txt_get(odd, sizeof odd, "c", &v, &vlen), 0);
    CHECK(!canto__mdns_txt_valid(odd, sizeof odd));
    CHECK(canto__mdns_txt_valid(odd, 8));
    CHECK(canto__mdns_txt_valid(NULL, 0));

    /* The lone empty string gives way to the first key. */
    txt[0] = 0;
    len = 1;
    CHECK_INT(canto__mdns_txt_add(txt, &len, "a", "b"), 0);
    CHECK_INT(len, 4);
    CHECK(memcmp(txt,
                 "\x03"
                 "a=b",
                 4) == 0);

    /* Refusals. */
    CHECK_INT(canto__mdns_txt_add(txt, &len, "", "x"), CANTO_EINVAL);
    CHECK_INT(canto__mdns_txt_add(txt, &len, "a=b", "x"), CANTO_EINVAL);
    CHECK_INT(canto__mdns_txt_add(txt, &len, "tab\there", "x"), CANTO_EINVAL);
    char big[300];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    big[253] = '\0'; /* "k=" + 253 = 255: the most */
    CHECK_INT(canto__mdns_txt_add(txt, &len, "k", big), 0);
    big[253] = 'v';
    big[254] = '\0';
    CHECK_INT(canto__mdns_txt_add(txt, &len, "k", big), CANTO_ETOOBIG);
    CHECK_INT(len, 4 + 256);

    /* Filling up to CANTO__MDNS_TXT_MAX exactly. */
    len = 0;
    big[253] = '\0';
    for (int i = 0; i < 5; i++)
        CHECK_INT(canto__mdns_txt_add(txt, &len, "k", big), 0);
    CHECK_INT(len, 1280);
    uint16_t before = len;
    big[16] = '\0'; /* "k=" + 16: 19 bytes with its length, 1299 in all */
    CHECK_INT(canto__mdns_txt_add(txt, &len, "k", big), 0);
    CHECK_INT(len, before + 19);
    CHECK_INT(canto__mdns_txt_add(txt, &len, "k", NULL), CANTO_ETOOBIG); /* 1301 */
    CHECK_INT(len, CANTO__MDNS_TXT_MAX - 1);
    CHECK_INT(canto__mdns_txt_add(txt, &len, "k", NULL), CANTO_ETOOBIG);
    return 0;
}

int main(void)
{
    RUN(test_presence_response);
    RUN(test_qu_query);
    RUN(test_probe);
    RUN(test_truncations);
    RUN(test_trailing_garbage);
    RUN(test_build_presence);
    RUN(test_build_query_and_probe);
    RUN(test_round_trip);
    RUN(test_build_limits);
    RUN(test_pointer_loops);
    RUN(test_forward_pointer);
    RUN(test_name_limits);
    RUN(test_rdlength);
    RUN(test_header_checks);
    RUN(test_names);
    RUN(test_rdata_compare);
    RUN(test_txt);
    return CHECK_DONE();
}
