/* libFuzzer target for the mDNS engine as a whole: the responder and the
 * browser of one engine (publishing a _presence._tcp service and browsing
 * for others) take the input as a sequence of packets from link-local
 * neighbours, with time moving on between them, so hostile answers, probes,
 * goodbyes and floods reach the cache, conflict handling and resolution, not
 * just the parser. Input: chunks of [2-byte length][1-byte source][packet].
 * The cache must stay within its bound; nothing may crash or leak. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>

#include "mdns/engine.h"
#include "mdns/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ev_send(void *ud, const void *pkt, size_t len, const canto__mdns_dest *dest)
{
    (void)ud;
    (void)dest;
    /* What we send must be something we can read back. */
    canto__mdns_msg *m = malloc(sizeof(*m));
    if (!m || canto__mdns_parse(pkt, len, m) != 0)
        abort();
    free(m);
}

static void ev_service(void *ud, canto__mdns_svc_event ev, const canto__mdns_service *svc)
{
    (void)ud;
    (void)ev;
    if (!svc->instance || (svc->naddrs && !svc->addrs))
        abort();
}

static void ev_published(void *ud, unsigned handle, const char *instance)
{
    (void)ud;
    (void)handle;
    if (!instance)
        abort();
}

static void ev_renamed(void *ud, unsigned handle, int host, const char *name)
{
    (void)ud;
    (void)handle;
    (void)host;
    if (!name)
        abort();
}

static const canto__mdns_events events = {ev_send, ev_service, ev_published, ev_renamed};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    canto__alloc alloc;
    canto__alloc_init(&alloc, NULL);
    canto__mdns *m;
    if (canto__mdns_new(&alloc, NULL, "fuzzhost", &events, NULL, &m) != 0)
        return 0;
    uint64_t now = 1000;
    canto__mdns_iface ifc;
    memset(&ifc, 0, sizeof(ifc));
    ifc.ifindex = 2;
    ifc.has_v4 = ifc.has_v6 = 1;
    ifc.addrs[0].family = AF_INET;
    memcpy(ifc.addrs[0].addr, "\xa9\xfe\x01\x01", 4);
    ifc.addrs[0].ifindex = 2;
    ifc.naddrs = 1;
    canto__mdns_set_ifaces(m, &ifc, 1, now);
    canto__mdns_set_ttls(m, 5, 10);
    uint8_t txt[64];
    uint16_t tl = 0;
    canto__mdns_txt_add(txt, &tl, "txtvers", "1");
    unsigned handle;
    canto__mdns_publish(m, "me@fuzzhost", "_presence._tcp", 5298, txt, tl, now, &handle);
    canto__mdns_browse(m, "_presence._tcp", now);

    while (size >= 3) {
        size_t len = (size_t)data[0] << 8 | data[1];
        uint8_t src = data[2];
        data += 3;
        size -= 3;
        if (len > size)
            len = size;
        canto__mdns_addr from;
        memset(&from, 0, sizeof(from));
        from.ifindex = 2;
        /* Low bits pick the neighbour and family; one bit says legacy port. */
        from.port = (src & 0x80) ? 40000 : 5353;
        if (src & 0x40) {
            from.family = AF_INET6;
            from.addr[0] = 0xfe;
            from.addr[1] = 0x80;
            from.addr[15] = (uint8_t)(src & 0x3f);
        } else {
            from.family = AF_INET;
            memcpy(from.addr, "\xa9\xfe\x02", 3);
            from.addr[3] = (uint8_t)(src & 0x3f);
        }
        canto__mdns_input(m, data, len, &from, now);
        data += len;
        size -= len;
        /* Let timers run between packets: probes, announcements, expiry. */
        now += 10 + (uint64_t)(src & 0x0f) * 300;
        uint64_t d = canto__mdns_deadline(m);
        for (int i = 0; i < 64 && d <= now; i++) {
            canto__mdns_timeout(m, d);
            d = canto__mdns_deadline(m);
        }
        if (canto__mdns_cache_size(m) > CANTO__MDNS_MAX_CACHE)
            abort();
    }
    canto__mdns_withdraw(m, handle, now);
    canto__mdns_free(m, now);
    return 0;
}
