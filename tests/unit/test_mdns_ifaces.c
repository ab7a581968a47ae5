/* The mDNS driver's on-link rule (RFC 6762 §11): which packet sources count
 * as being on the link of an interface, and the interface scan's answers for
 * names that do not exist. */
#include "check.h"

#include <arpa/inet.h>
#include <string.h>

#include <canto/error.h>
#include "mdns/ifaces.h"

static canto__mdns_addr addr(int family, const char *text)
{
    canto__mdns_addr a;
    memset(&a, 0, sizeof(a));
    a.family = family;
    inet_pton(family, text, a.addr);
    return a;
}

static void add_net(canto__mdns_ifinfo *ifi, int family, const char *text, unsigned prefix)
{
    canto__mdns_net *n = &ifi->nets[ifi->nnets++];
    n->family = family;
    memset(n->addr, 0, sizeof(n->addr));
    inet_pton(family, text, n->addr);
    n->prefix = prefix;
}

static int test_on_link(void)
{
    canto__mdns_ifinfo ifi;
    memset(&ifi, 0, sizeof(ifi));
    add_net(&ifi, AF_INET, "192.168.7.10", 24);
    add_net(&ifi, AF_INET6, "2001:db8:1:2::10", 64);
    add_net(&ifi, AF_INET, "10.9.9.9", 32);

    canto__mdns_addr a = addr(AF_INET, "192.168.7.200");
    CHECK_INT(canto__mdns_ifaces_on_link(&ifi, &a), 1);
    a = addr(AF_INET, "192.168.8.1"); /* next subnet over: routed, not on-link */
    CHECK_INT(canto__mdns_ifaces_on_link(&ifi, &a), 0);
    a = addr(AF_INET, "169.254.3.4"); /* IPv4 link-local is on every link */
    CHECK_INT(canto__mdns_ifaces_on_link(&ifi, &a), 1);
    a = addr(AF_INET, "10.9.9.9"); /* a /32 makes only itself on-link */
    CHECK_INT(canto__mdns_ifaces_on_link(&ifi, &a), 1);
    a = addr(AF_INET, "10.9.9.8");
    CHECK_INT(canto__mdns_ifaces_on_link(&ifi, &a), 0);
    a = addr(AF_INET6, "fe80::1234");
    CHECK_INT(canto__mdns_ifaces_on_link(&ifi, &a), 1);
    a = addr(AF_INET6, "2001:db8:1:2:aaaa::1");
    CHECK_INT(canto__mdns_ifaces_on_link(&ifi, &a), 1);
    a = addr(AF_INET6, "2001:db8:1:3::1");
    CHECK_INT(canto__mdns_ifaces_on_link(&ifi, &a), 0);
    a = addr(AF_INET6, "::ffff:192.168.7.1"); /* mapped IPv4 is not an IPv6 neighbour */
    CHECK_INT(canto__mdns_ifaces_on_link(&ifi, &a), 0);
    a.family = 12345;
    CHECK_INT(canto__mdns_ifaces_on_link(&ifi, &a), 0);

    /* An interface with no addresses still accepts link-local sources only. */
    canto__mdns_ifinfo empty;
    memset(&empty, 0, sizeof(empty));
    a = addr(AF_INET, "192.168.7.200");
    CHECK_INT(canto__mdns_ifaces_on_link(&empty, &a), 0);
    a = addr(AF_INET, "169.254.0.1");
    CHECK_INT(canto__mdns_ifaces_on_link(&empty, &a), 1);
    return 0;
}

static int test_scan_named(void)
{
    canto__alloc al;
    CHECK_INT(canto__alloc_init(&al, NULL), 0);
    const char *none[] = {"canto-no-such-if0", NULL};
    canto__mdns_ifinfo *ifs = NULL;
    size_t n = 99;
    CHECK_INT(canto__mdns_ifaces_scan(&al, NULL, none, &ifs, &n), 0);
    CHECK_INT((int)n, 0);
    canto__dealloc(&al, ifs);
    CHECK(canto__mdns_ifaces_find(NULL, 0, 1) == NULL);
    return 0;
}

int main(void)
{
    RUN(test_on_link);
    RUN(test_scan_named);
    return CHECK_DONE();
}
