/* mDNS / DNS-SD message codec (RFC 1035 wire format with the RFC 6762
 * extensions: the cache-flush bit on records, the unicast-response bit on
 * questions). Built on libresolv's ns_initparse()/ns_parserr() to walk a
 * received message and dn_comp()/dn_expand() for names, so compression
 * pointers are followed (and loops refused) by the same code the resolver
 * trusts.
 *
 * Parsing never trusts the packet: truncated sections, pointer loops, names
 * over 255 bytes, records longer than their message and more than
 * CANTO__MDNS_MAX_RECORDS records are all CANTO_EPROTO, and nothing is
 * allocated on the heap: a parsed message lives in the caller's
 * canto__mdns_msg. */
#ifndef CANTO_MDNS_MSG_H
#define CANTO_MDNS_MSG_H

#include <stddef.h>
#include <stdint.h>

#define CANTO__MDNS_PORT 5353
#define CANTO__MDNS_MAX_PACKET 9000 /* RFC 6762 §17: what we accept and build at most */
#define CANTO__MDNS_MAX_RECORDS 64  /* per message, questions + all record sections */
#define CANTO__MDNS_NAME_MAX 256    /* presentation form incl. NUL (dotted, no final dot) */
#define CANTO__MDNS_TXT_MAX 1300    /* rdata bytes of one TXT record */

enum {
    CANTO__MDNS_T_A = 1,
    CANTO__MDNS_T_PTR = 12,
    CANTO__MDNS_T_TXT = 16,
    CANTO__MDNS_T_AAAA = 28,
    CANTO__MDNS_T_SRV = 33,
    CANTO__MDNS_T_NSEC = 47,
    CANTO__MDNS_T_ANY = 255,
};
#define CANTO__MDNS_CLASS_IN 1
#define CANTO__MDNS_CACHE_FLUSH 0x8000u  /* top bit of a record's class */
#define CANTO__MDNS_UNICAST_RESP 0x8000u /* top bit of a question's class */

typedef enum canto__mdns_section {
    CANTO__MDNS_QD = 0, /* questions */
    CANTO__MDNS_AN = 1, /* answers */
    CANTO__MDNS_NS = 2, /* authority (probes carry their proposed records here) */
    CANTO__MDNS_AR = 3, /* additional */
} canto__mdns_section;

/* One question or resource record, names in presentation form ("a.b.local",
 * no trailing dot, "" for the root). Inside a label, '.' is written "\\." and
 * '\\' "\\\\", control bytes (below 0x20, 0x7f) "\\DDD"; every other byte,
 * spaces and UTF-8 included, is itself (RFC 6763 §4.3 instance names are UTF-8
 * text). The builder reads names with ns_name_pton(), which also accepts the
 * other escapes dn_expand() writes. A received name whose presentation form
 * does not fit in CANTO__MDNS_NAME_MAX makes the message CANTO_EPROTO.
 * For a question only section, name, type, rclass and unicast are set. */
typedef struct canto__mdns_rr {
    canto__mdns_section section;
    char name[CANTO__MDNS_NAME_MAX];
    uint16_t type;
    uint16_t rclass; /* without the top bit */
    int cache_flush; /* record: top class bit */
    int unicast;     /* question: QU bit */
    uint32_t ttl;
    union {
        char target[CANTO__MDNS_NAME_MAX]; /* PTR */
        struct {
            uint16_t priority, weight, port;
            char target[CANTO__MDNS_NAME_MAX];
        } srv;
        struct {
            uint16_t len;
            uint8_t data[CANTO__MDNS_TXT_MAX];
        } txt; /* TXT: raw rdata, length-prefixed strings; other types
                  (NSEC ...): the raw rdata, uninterpreted */
        uint8_t a[4];
        uint8_t aaaa[16];
    } u;
} canto__mdns_rr;

typedef struct canto__mdns_msg {
    uint16_t id;
    uint16_t flags; /* 0x8000: response; opcode and rcode bits as received */
    size_t nrr;
    canto__mdns_rr rr[CANTO__MDNS_MAX_RECORDS];
} canto__mdns_msg;

/* Parse @p len bytes. 0, or CANTO_EPROTO for anything malformed (the whole
 * packet is then ignored: mDNS has no way to answer a bad packet), or
 * CANTO_ETOOBIG when its header counts more than CANTO__MDNS_MAX_RECORDS
 * records (decided from the header alone) or it is longer than
 * CANTO__MDNS_MAX_PACKET. A message with a non-zero opcode or rcode is
 * CANTO_EPROTO (RFC 6762 §18.3, 18.11), and so are bytes after the last
 * record, an A/AAAA rdata that is not 4/16 bytes, an SRV/PTR rdata whose name
 * does not end exactly at the rdata's end and a TXT rdata over
 * CANTO__MDNS_TXT_MAX or with a string running past its end. An empty TXT
 * rdata is kept as the one empty string (len 1, data "\0", RFC 6763 §6.1).
 * Records of other types whose rdata is over CANTO__MDNS_TXT_MAX are skipped
 * (out->nrr then counts fewer records than the header). On error out->nrr is 0. */
int canto__mdns_parse(const void *pkt, size_t len, canto__mdns_msg *out);

/* Builder over a caller's buffer, compressing names against what it has
 * written (dn_comp). */
typedef struct canto__mdns_builder {
    uint8_t *buf;
    size_t cap, len;
    uint16_t counts[4];
    const unsigned char *dnptrs[64];
    const unsigned char **lastdnptr;
    int section; /* sections must be added in order QD, AN, NS, AR */
} canto__mdns_builder;

void canto__mdns_build_init(canto__mdns_builder *b, void *buf, size_t cap, uint16_t id,
                            uint16_t flags);
/* Append @p rr to its section (rr->section, never before an earlier one).
 * CANTO_ETOOBIG when it does not fit in min(cap, CANTO__MDNS_MAX_PACKET) or
 * the message already has CANTO__MDNS_MAX_RECORDS records (the builder is
 * unchanged: send what is there and start another packet), CANTO_EINVAL for
 * a bad name, a malformed or oversized TXT rdata or section order. A TXT with
 * len 0 goes out as the one empty string (RFC 6763 §6.1); other types write
 * u.txt as raw rdata. Names are compressed, SRV/PTR targets too (§18.14). */
int canto__mdns_build_add(canto__mdns_builder *b, const canto__mdns_rr *rr);
/* Write the header counts; returns the message length (0 when the buffer
 * given to build_init could not even hold the 12-byte header). */
size_t canto__mdns_build_finish(canto__mdns_builder *b);

/* DNS names compare case-insensitively (ASCII only), label by label, so
 * "a.local" == "A.LOCAL." and "\\065.local" == "a.local"; names that are not
 * valid presentation form are equal only when they are the same string. */
int canto__mdns_name_eq(const char *a, const char *b);
/* Uncompressed wire form of a presentation name into @p wire (@p cap bytes,
 * 255 is always enough): its length, or CANTO_EINVAL for a bad name (label
 * over 63 bytes, name over 255, stray backslash, empty label). */
int canto__mdns_name_to_wire(const char *name, uint8_t *wire, size_t cap);
/* Same record data (type, class and rdata; not TTL or flags)? Names inside
 * PTR and SRV rdata compare case-insensitively. */
int canto__mdns_rdata_eq(const canto__mdns_rr *a, const canto__mdns_rr *b);
/* RFC 6762 §8.2 lexicographic order of two records' class, type, rdata:
 * <0, 0, >0. Used to settle simultaneous probes. The rdata is compared as
 * raw uncompressed wire bytes, so names inside it are case-sensitive here. */
int canto__mdns_rdata_cmp(const canto__mdns_rr *a, const canto__mdns_rr *b);

/* TXT rdata as key=value strings (RFC 6763 §6). */
/* 1 when @p len bytes are a sequence of length-prefixed strings ending
 * exactly at @p len and len <= CANTO__MDNS_TXT_MAX (len 0 included), else 0. */
int canto__mdns_txt_valid(const uint8_t *txt, size_t len);
/* Append "key=value" (value NULL: just "key"); CANTO_ETOOBIG over 255 bytes or
 * past CANTO__MDNS_TXT_MAX, CANTO_EINVAL for an empty key or one with '=' or
 * a byte outside printable ASCII (§6.4). Start with *len = 0; a record that
 * is only the empty string (len 1, "\0") is replaced by the first entry. */
int canto__mdns_txt_add(uint8_t *txt, uint16_t *len, const char *key, const char *value);
/* Find @p key (case-insensitive; the first occurrence wins, §6.4). Returns 1
 * and points *value and *vlen at the value (vlen 0 and value non-NULL for
 * "key="; value NULL for a bare "key"), or 0 if absent. */
int canto__mdns_txt_get(const uint8_t *txt, uint16_t len, const char *key, const uint8_t **value,
                        size_t *vlen);

#endif
