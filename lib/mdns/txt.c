/* DNS-SD TXT records (RFC 6763 §6): a run of length-prefixed strings, each
 * "key=value", "key=" or a bare "key". */
#include "mdns/msg.h"

#include <string.h>

#include <canto/error.h>

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int canto__mdns_txt_valid(const uint8_t *txt, size_t len)
{
    if (len > CANTO__MDNS_TXT_MAX || (!txt && len > 0))
        return 0;
    size_t i = 0;
    while (i < len)
        i += (size_t)txt[i] + 1;
    return i == len;
}

int canto__mdns_txt_add(uint8_t *txt, uint16_t *len, const char *key, const char *value)
{
    if (!txt || !len || !key || !key[0] || *len > CANTO__MDNS_TXT_MAX)
        return CANTO_EINVAL;
    size_t klen = strlen(key);
    for (size_t i = 0; i < klen; i++)
        if (key[i] == '=' || (unsigned char)key[i] < 0x20 || (unsigned char)key[i] > 0x7e)
            return CANTO_EINVAL;
    size_t vlen = value ? strlen(value) : 0;
    if (klen > 255 || vlen > 255)
        return CANTO_ETOOBIG;
    size_t slen = klen + (value ? 1 + vlen : 0);
    if (slen > 255)
        return CANTO_ETOOBIG;
    /* The lone empty string stands for "no keys" (§6.1); the first key takes
     * its place rather than following it. */
    size_t at = *len == 1 && txt[0] == 0 ? 0 : *len;
    if (at + 1 + slen > CANTO__MDNS_TXT_MAX)
        return CANTO_ETOOBIG;
    txt[at] = (uint8_t)slen;
    memcpy(txt + at + 1, key, klen);
    if (value) {
        txt[at + 1 + klen] = '=';
        memcpy(txt + at + 2 + klen, value, vlen);
    }
    *len = (uint16_t)(at + 1 + slen);
    return 0;
}

int canto__mdns_txt_get(const uint8_t *txt, uint16_t len, const char *key, const uint8_t **value,
                        size_t *vlen)
{
    if (!txt || !key || !key[0])
        return 0;
    size_t klen = strlen(key);
    size_t i = 0;
    while (i < len) {
        size_t n = txt[i];
        const uint8_t *s = txt + i + 1;
        i += n + 1;
        /* A string running past the end is not there. */
        if (i > len)
            break;
        size_t k = 0;
        while (k < n && s[k] != '=')
            k++;
        /* §6.4: a string with no key (empty, or starting with '=') is
         * silently ignored. */
        if (k == 0 || k != klen)
            continue;
        size_t j = 0;
        while (j < k && ascii_lower(s[j]) == ascii_lower((unsigned char)key[j]))
            j++;
        if (j != k)
            continue;
        if (value)
            *value = k < n ? s + k + 1 : NULL;
        if (vlen)
            *vlen = k < n ? n - k - 1 : 0;
        return 1;
    }
    return 0;
}
