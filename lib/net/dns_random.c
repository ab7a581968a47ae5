/* Randomness for DNS ids and SRV weights. GnuTLS's nonce generator is fast,
 * unpredictable to an off-path attacker and needs no state of ours. */
#include "net/resolver.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

uint32_t canto__rand_gnutls(void *ud)
{
    (void)ud;
    uint32_t v = 0;
    if (gnutls_rnd(GNUTLS_RND_NONCE, &v, sizeof(v)) < 0)
        return 0;
    return v;
}
