/* Localpart and resourcepart checks. Without a PRECIS library only the ASCII
 * part of the case mapping is done; see canto/jid.h. */
#include "jid/jid_prep.h"

#include <stdint.h>
#include <string.h>

#include <canto/error.h>

#include "base/utf8.h"

/* C1 controls U+0080..U+009F (C0 and DEL are handled on the ASCII path). */
static int is_c1(uint32_t cp)
{
    return cp >= 0x80 && cp <= 0x9F;
}

/* Noncharacters: U+FDD0..U+FDEF and the last two code points of every plane.
 * PRECIS refuses them in every class, and XML cannot carry U+FFFE/U+FFFF. */
static int is_nonchar(uint32_t cp)
{
    return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

/* Non-ASCII space separators (Unicode category Zs), which the PRECIS
 * IdentifierClass refuses in a localpart. */
static int is_wide_space(uint32_t cp)
{
    return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

/* The fullwidth forms of the eight characters RFC 7622 forbids in a localpart.
 * PRECIS width mapping would turn them into the forbidden characters, so they
 * are refused rather than let through unmapped. */
static int is_wide_forbidden(uint32_t cp)
{
    switch (cp) {
    case 0xFF02: /* " */
    case 0xFF06: /* & */
    case 0xFF07: /* ' */
    case 0xFF0F: /* / */
    case 0xFF1A: /* : */
    case 0xFF1C: /* < */
    case 0xFF1E: /* > */
    case 0xFF20: /* @ */
        return 1;
    default:
        return 0;
    }
}

static int local_ascii_ok(unsigned char c)
{
    if (c <= 0x20 || c == 0x7F)
        return 0;
    switch (c) {
    case '"':
    case '&':
    case '\'':
    case '/':
    case ':':
    case '<':
    case '>':
    case '@':
        return 0;
    default:
        return 1;
    }
}

int canto__jid_prep_local(const char *in, size_t len, char *out)
{
    if (len == 0 || len > CANTO_JID_PART_MAX)
        return CANTO_EJID_LOCAL;
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            if (!local_ascii_ok(c))
                return CANTO_EJID_LOCAL;
            out[i++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
            continue;
        }
        uint32_t cp;
        size_t n = canto__utf8_decode(p + i, len - i, &cp);
        if (n == 0)
            return CANTO_EUTF8;
        if (is_c1(cp) || is_nonchar(cp) || is_wide_space(cp) || is_wide_forbidden(cp))
            return CANTO_EJID_LOCAL;
        memcpy(out + i, p + i, n);
        i += n;
    }
    return 0;
}

int canto__jid_check_resource(const char *in, size_t len)
{
    if (len == 0 || len > CANTO_JID_PART_MAX)
        return CANTO_EJID_RESOURCE;
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F)
                return CANTO_EJID_RESOURCE;
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = canto__utf8_decode(p + i, len - i, &cp);
        if (n == 0)
            return CANTO_EUTF8;
        if (is_c1(cp) || is_nonchar(cp))
            return CANTO_EJID_RESOURCE;
        i += n;
    }
    return 0;
}
