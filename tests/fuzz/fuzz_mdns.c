/* libFuzzer target for the mDNS message codec. Any input must be refused or
 * parsed without a crash; whatever parses must survive being built again:
 * the builder takes every record back, the rebuilt message parses to the
 * same records, and building those once more gives the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>

#include "mdns/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static canto__mdns_msg first, second;
static uint8_t buf1[CANTO__MDNS_MAX_PACKET], buf2[CANTO__MDNS_MAX_PACKET];

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static void check_record(const canto__mdns_msg *m, size_t i)
{
    const canto__mdns_rr *rr = &m->rr[i];
    uint8_t wire[255];
    if ((unsigned)rr->section > CANTO__MDNS_AR)
        abort();
    if (i > 0 && rr->section < m->rr[i - 1].section)
        abort();
    if (memchr(rr->name, '\0', sizeof rr->name) == NULL)
        abort();
    if (canto__mdns_name_to_wire(rr->name, wire, sizeof wire) < 0)
        abort();
    if (!canto__mdns_name_eq(rr->name, rr->name))
        abort();
    if (rr->rclass & 0x8000u)
        abort();
    if (rr->section == CANTO__MDNS_QD)
        return;
    if (canto__mdns_rdata_cmp(rr, rr) != 0 || !canto__mdns_rdata_eq(rr, rr))
        abort();
    if (rr->type == CANTO__MDNS_T_TXT) {
        if (rr->u.txt.len == 0 || !canto__mdns_txt_valid(rr->u.txt.data, rr->u.txt.len))
            abort();
        /* The first string's key, if it has one, is found, and its value
         * lies inside the record. */
        size_t n = rr->u.txt.data[0], k = 0;
        while (k < n && rr->u.txt.data[1 + k] != '=')
            k++;
        if (k > 0) {
            char key[256];
            memcpy(key, rr->u.txt.data + 1, k);
            key[k] = '\0';
            const uint8_t *v = NULL;
            size_t vlen = 0;
            /* A key with a NUL in it is cut short and may match nothing. */
            if (canto__mdns_txt_get(rr->u.txt.data, rr->u.txt.len, key, &v, &vlen) == 1 && v &&
                (v < rr->u.txt.data || v + vlen > rr->u.txt.data + rr->u.txt.len))
                abort();
            if (memchr(key, '\0', k) == NULL &&
                canto__mdns_txt_get(rr->u.txt.data, rr->u.txt.len, key, NULL, NULL) != 1)
                abort();
        }
    }
    if (i > 0 && m->rr[i - 1].section != CANTO__MDNS_QD) {
        const canto__mdns_rr *prev = &m->rr[i - 1];
        if (sign(canto__mdns_rdata_cmp(prev, rr)) != -sign(canto__mdns_rdata_cmp(rr, prev)))
            abort();
        if (canto__mdns_rdata_eq(prev, rr) != canto__mdns_rdata_eq(rr, prev))
            abort();
    }
}

/* Builds every record of @p m into @p buf; 0 when one did not fit. */
static size_t rebuild(const canto__mdns_msg *m, uint8_t *buf)
{
    canto__mdns_builder b;
    canto__mdns_build_init(&b, buf, CANTO__MDNS_MAX_PACKET, m->id, m->flags);
    for (size_t i = 0; i < m->nrr; i++) {
        int rc = canto__mdns_build_add(&b, &m->rr[i]);
        /* Compression can come out longer than the sender's (it may have
         * pointed into places dn_comp() does not remember). */
        if (rc == CANTO_ETOOBIG)
            return 0;
        if (rc != 0)
            abort();
    }
    size_t len = canto__mdns_build_finish(&b);
    if (len < 12 || len > CANTO__MDNS_MAX_PACKET)
        abort();
    return len;
}

static void same_records(const canto__mdns_rr *a, const canto__mdns_rr *b)
{
    if (a->section != b->section || a->type != b->type || a->rclass != b->rclass)
        abort();
    if (!canto__mdns_name_eq(a->name, b->name))
        abort();
    if (a->section == CANTO__MDNS_QD) {
        if (a->unicast != b->unicast)
            abort();
        return;
    }
    if (a->cache_flush != b->cache_flush || a->ttl != b->ttl || !canto__mdns_rdata_eq(a, b))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int rc = canto__mdns_parse(data, size, &first);
    if (rc != 0) {
        if ((rc != CANTO_EPROTO && rc != CANTO_ETOOBIG) || first.nrr != 0)
            abort();
        return 0;
    }
    if (first.nrr > CANTO__MDNS_MAX_RECORDS)
        abort();
    if (first.flags & 0x780fu)
        abort();
    for (size_t i = 0; i < first.nrr; i++)
        check_record(&first, i);

    size_t len1 = rebuild(&first, buf1);
    if (len1 == 0)
        return 0;
    if (canto__mdns_parse(buf1, len1, &second) != 0)
        abort();
    if (second.nrr != first.nrr || second.id != first.id || second.flags != first.flags)
        abort();
    for (size_t i = 0; i < first.nrr; i++)
        same_records(&first.rr[i], &second.rr[i]);

    size_t len2 = rebuild(&second, buf2);
    if (len2 != len1 || memcmp(buf1, buf2, len1) != 0)
        abort();
    return 0;
}
