/* Byte queues between GnuTLS and the network. They hold memory only while
 * bytes are pending: an idle connection then costs no buffer at all, and a
 * burst grows one contiguous block that is released as soon as it drains. */
#include <stdint.h>
#include <string.h>

#include <canto/error.h>
#include "net/tls_impl.h"

/* Small first block: most traffic is short stanzas and handshake messages. */
#define QUEUE_MIN_CAP 1024

int canto__tls_bytes_push(const canto__alloc *a, canto__tls_bytes *q, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (n > SIZE_MAX - q->len)
        return CANTO_ENOMEM;
    size_t need = q->len + n;
    if (q->off + need > q->cap && need <= q->cap) {
        /* Enough room once the consumed head is reclaimed. */
        memmove(q->data, q->data + q->off, q->len);
        q->off = 0;
    } else if (need > q->cap) {
        size_t cap = q->cap ? q->cap : QUEUE_MIN_CAP;
        while (cap < need) {
            if (cap > SIZE_MAX / 2)
                return CANTO_ENOMEM;
            cap *= 2;
        }
        unsigned char *d = canto__malloc(a, cap);
        if (!d)
            return CANTO_ENOMEM;
        if (q->len)
            memcpy(d, q->data + q->off, q->len);
        canto__dealloc(a, q->data);
        q->data = d;
        q->off = 0;
        q->cap = cap;
    }
    memcpy(q->data + q->off + q->len, p, n);
    q->len += n;
    return 0;
}

size_t canto__tls_bytes_pull(const canto__alloc *a, canto__tls_bytes *q, void *p, size_t n)
{
    if (n > q->len)
        n = q->len;
    if (n)
        memcpy(p, q->data + q->off, n);
    canto__tls_bytes_drop(a, q, n);
    return n;
}

void canto__tls_bytes_drop(const canto__alloc *a, canto__tls_bytes *q, size_t n)
{
    if (n > q->len)
        n = q->len;
    q->off += n;
    q->len -= n;
    if (q->len == 0)
        canto__tls_bytes_clear(a, q);
}

void canto__tls_bytes_clear(const canto__alloc *a, canto__tls_bytes *q)
{
    canto__dealloc(a, q->data);
    *q = (canto__tls_bytes){NULL, 0, 0, 0};
}
