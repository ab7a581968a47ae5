#include "base/id.h"

#include <gnutls/crypto.h>

#include <canto/error.h>

int canto__random_id(char *buf, size_t cap)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[20];
    if (cap == 0)
        return CANTO_EINVAL;
    size_t n = cap - 1 < sizeof(rnd) ? cap - 1 : sizeof(rnd);
    if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, n) != 0) {
        buf[0] = '\0';
        return CANTO_EIO;
    }
    /* 36 does not divide 256: the slight bias costs well under a bit of the
     * ~100 bits a 20-character id carries. */
    for (size_t i = 0; i < n; i++)
        buf[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
    buf[n] = '\0';
    return 0;
}
