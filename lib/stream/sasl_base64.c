/* Base64 for SASL payloads (RFC 4648 §4, RFC 6120 §6.4.2).
 *
 * Our own rather than libgsasl's or GnuTLS's so the buffers come from the
 * application's allocator (and can be wiped before they are freed), and so
 * decoding is strict: a server that sends non-canonical base64 is broken or
 * tampered with, and SCRAM hashes the decoded bytes, so there must be exactly
 * one reading of every payload. */
#include <stdint.h>
#include <string.h>

#include <canto/error.h>
#include "stream/sasl_impl.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int canto__sasl_b64_encode(const canto__alloc *alloc, const void *data, size_t len, char **out)
{
    *out = NULL;
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return CANTO_ENOMEM;
    char *o = canto__owned_alloc(alloc, (len + 2) / 3 * 4 + 1);
    if (!o)
        return CANTO_ENOMEM;
    const unsigned char *in = data;
    size_t j = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        o[j++] = alphabet[(v >> 18) & 63];
        o[j++] = alphabet[(v >> 12) & 63];
        o[j++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        o[j++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    o[j] = '\0';
    *out = o;
    return 0;
}

static int value_of(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Whitespace is what an XML serializer may put around or inside element
 * text; everything else outside the alphabet is an error. */
static int is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int canto__sasl_b64_decode(const canto__alloc *alloc, const char *text, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    size_t sig = 0, pad = 0;
    for (const char *p = text; *p; p++) {
        if (is_xml_space(*p))
            continue;
        if (*p == '=') {
            pad++;
        } else if (pad || value_of(*p) < 0) {
            return CANTO_EPROTO; /* a data character after padding, or a stray byte */
        }
        sig++;
    }
    /* "=" is RFC 6120's spelling of "present but empty". */
    int empty = sig == 0 || (sig == 1 && pad == 1);
    if (!empty && (sig % 4 != 0 || pad > 2))
        return CANTO_EPROTO;

    char *o = canto__owned_alloc(alloc, empty ? 1 : sig / 4 * 3 + 1);
    if (!o)
        return CANTO_ENOMEM;
    size_t j = 0;
    if (!empty) {
        uint32_t acc = 0;
        size_t k = 0;
        for (const char *p = text; *p; p++) {
            if (is_xml_space(*p) || *p == '=')
                continue;
            acc = acc << 6 | (uint32_t)value_of(*p);
            if (++k % 4 == 0) {
                o[j++] = (char)(acc >> 16);
                o[j++] = (char)(acc >> 8);
                o[j++] = (char)acc;
                acc = 0;
            }
        }
        /* The last group: 2 or 3 characters with 2 or 1 padding characters
         * (sig % 4 == 0 and pad <= 2 already make these counts agree). Their
         * unused low bits must be zero, or two texts would decode alike. */
        size_t rest = k % 4;
        if (rest == 2) {
            if (acc & 0xF)
                goto bad;
            o[j++] = (char)(acc >> 4);
        } else if (rest == 3) {
            if (acc & 0x3)
                goto bad;
            o[j++] = (char)(acc >> 10);
            o[j++] = (char)(acc >> 2);
        } else if (rest != 0 || pad != 0) {
            goto bad;
        }
    }
    o[j] = '\0';
    *out = o;
    *len = j;
    return 0;
bad:
    canto_free(o);
    return CANTO_EPROTO;
}
