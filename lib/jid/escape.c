/* XEP-0106 JID escaping of localparts. */
#include <canto/jid.h>

#include <stdint.h>
#include <string.h>

#include <canto/error.h>

#include "base/alloc.h"
#include "base/utf8.h"

/* The ten characters XEP-0106 escapes and their lower-case hex codes. */
static const struct {
    char c;
    char hex[3];
} escapes[] = {
    {' ', "20"}, {'"', "22"}, {'&', "26"}, {'\'', "27"}, {'/', "2f"},
    {':', "3a"}, {'<', "3c"}, {'>', "3e"}, {'@', "40"},  {'\\', "5c"},
};

#define ESCAPE_COUNT (sizeof(escapes) / sizeof(escapes[0]))

static char lower_hex(char c)
{
    return (char)(c >= 'A' && c <= 'F' ? c + ('a' - 'A') : c);
}

/* If s[0..len) starts with one of the ten escape sequences (backslash and two
 * hex digits, either case), return its index in escapes[], else -1. */
static int sequence_at(const char *s, size_t len)
{
    if (len < 3 || s[0] != '\\')
        return -1;
    char h0 = lower_hex(s[1]), h1 = lower_hex(s[2]);
    for (size_t i = 0; i < ESCAPE_COUNT; i++) {
        if (escapes[i].hex[0] == h0 && escapes[i].hex[1] == h1)
            return (int)i;
    }
    return -1;
}

/* Index in escapes[] of a character that is always escaped, or -1. The
 * backslash is not in this set: it is escaped only before a sequence. */
static int plain_escape(char c)
{
    for (size_t i = 0; i + 1 < ESCAPE_COUNT; i++) {
        if (escapes[i].c == c)
            return (int)i;
    }
    return -1;
}

static int check_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = p[i] < 0x80 ? 1 : canto__utf8_decode(p + i, len - i, &cp);
        if (n == 0)
            return CANTO_EUTF8;
        i += n;
    }
    return 0;
}

/* XEP-0106 §4.2: a backslash is escaped only when it begins something that
 * would otherwise be read as an escape sequence, so "foo\bar" is kept as it is
 * while "c:\5commas" becomes "c\3a\5c5commas". Unescaping the result always
 * gives the input back. */
int canto_jid_escape_local(const char *local, char **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!local)
        return CANTO_EINVAL;
    size_t len = strlen(local);
    if (len == 0 || local[0] == ' ' || local[len - 1] == ' ')
        return CANTO_EINVAL;
    int rc = check_utf8(local, len);
    if (rc != 0)
        return rc;

    size_t out_len = 0;
    for (size_t i = 0; i < len; i++) {
        int esc = local[i] == '\\' ? (sequence_at(local + i, len - i) >= 0 ? 1 : 0)
                                   : plain_escape(local[i]) >= 0;
        out_len += esc ? 3 : 1;
    }
    canto__alloc a;
    canto__alloc_init(&a, NULL);
    char *buf = canto__owned_alloc(&a, out_len + 1);
    if (!buf)
        return CANTO_ENOMEM;
    char *w = buf;
    for (size_t i = 0; i < len; i++) {
        char c = local[i];
        int idx = c == '\\' ? (sequence_at(local + i, len - i) >= 0 ? (int)ESCAPE_COUNT - 1 : -1)
                            : plain_escape(c);
        if (idx < 0) {
            *w++ = c;
        } else {
            *w++ = '\\';
            *w++ = escapes[idx].hex[0];
            *w++ = escapes[idx].hex[1];
        }
    }
    *w = '\0';
    *out = buf;
    return 0;
}

int canto_jid_unescape_local(const char *local, char **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!local)
        return CANTO_EINVAL;
    size_t len = strlen(local);
    int rc = check_utf8(local, len);
    if (rc != 0)
        return rc;
    canto__alloc a;
    canto__alloc_init(&a, NULL);
    char *buf = canto__owned_alloc(&a, len + 1);
    if (!buf)
        return CANTO_ENOMEM;
    char *w = buf;
    for (size_t i = 0; i < len;) {
        int idx = local[i] == '\\' ? sequence_at(local + i, len - i) : -1;
        if (idx >= 0) {
            *w++ = escapes[idx].c;
            i += 3;
        } else {
            *w++ = local[i++];
        }
    }
    *w = '\0';
    *out = buf;
    return 0;
}
