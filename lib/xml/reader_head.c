/* The first bytes of a stream: byte order marks, NUL bytes and the encoding
 * named in an XML declaration. XMPP is UTF-8 only (RFC 6120 §11.6); libxml2 is
 * told to ignore these hints, so they are checked here before it sees them. */
#include "xml/reader_impl.h"

#include <string.h>

#include <canto/error.h>

static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int equals_nocase(const unsigned char *s, size_t len, const char *want)
{
    size_t n = strlen(want);
    if (len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(s[i]) != ascii_lower((unsigned char)want[i]))
            return 0;
    return 1;
}

/* Check the encoding pseudo-attribute of the declaration in s[0..len), which
 * starts after "<?xml" and ends before "?>". Anything malformed is left to
 * libxml2, which rejects it as not well-formed. */
static int check_decl(const unsigned char *s, size_t len, const char **why)
{
    size_t i = 0;
    for (;;) {
        while (i < len && is_blank(s[i]))
            i++;
        size_t name = i;
        while (i < len && s[i] >= 'a' && s[i] <= 'z')
            i++;
        size_t name_len = i - name;
        while (i < len && is_blank(s[i]))
            i++;
        if (name_len == 0 || i >= len || s[i] != '=')
            return 0;
        i++;
        while (i < len && is_blank(s[i]))
            i++;
        if (i >= len || (s[i] != '\'' && s[i] != '"'))
            return 0;
        unsigned char quote = s[i++];
        size_t value = i;
        while (i < len && s[i] != quote)
            i++;
        if (i >= len)
            return 0;
        if (name_len == 8 && memcmp(s + name, "encoding", 8) == 0) {
            if (equals_nocase(s + value, i - value, "UTF-8") ||
                equals_nocase(s + value, i - value, "UTF8"))
                return 0;
            *why = "declared encoding is not UTF-8";
            return CANTO_EENCODING;
        }
        i++;
    }
}

/* Decide on h->buf[0..h->len): CANTO__HEAD_MORE, 0 or an error. Bytes are
 * looked at in order and only up to the point where the answer is known, so
 * the answer does not depend on how the input was cut. */
static int decide(canto__head *h, const char **why)
{
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    static const char decl[5] = {'<', '?', 'x', 'm', 'l'};
    const unsigned char *p = h->buf;
    size_t n = h->len;

    if (n == 0)
        return CANTO__HEAD_MORE;
    /* FE and FF never occur in UTF-8: a UTF-16 byte order mark. A NUL this
     * early is UTF-16 or UTF-32 without one. */
    if (p[0] == 0xFE || p[0] == 0xFF) {
        *why = "UTF-16 byte order mark";
        return CANTO_EENCODING;
    }

    /* The parser is forced to UTF-8 and would not skip a UTF-8 BOM itself. */
    size_t i = 0;
    while (i < 3 && i < n && p[i] == bom[i])
        i++;
    if (i < 3 && i == n)
        return CANTO__HEAD_MORE;
    size_t off = i == 3 ? 3 : 0;
    h->skip = off;

    for (i = off; i < off + 6; i++) {
        if (i == n)
            return CANTO__HEAD_MORE;
        if (p[i] == 0) {
            *why = "NUL byte: input is not UTF-8";
            return CANTO_EENCODING;
        }
        if (i < off + 5 ? p[i] != (unsigned char)decl[i - off] : !is_blank(p[i]))
            return 0; /* no declaration; "<?xml-stylesheet" is refused later */
    }
    for (; i + 1 < n; i++) {
        if (p[i] == 0) {
            *why = "NUL byte: input is not UTF-8";
            return CANTO_EENCODING;
        }
        if (p[i] == '?' && p[i + 1] == '>')
            return check_decl(p + off + 5, i - off - 5, why);
    }
    if (n == CANTO__HEAD_MAX) {
        *why = "XML declaration too long";
        return CANTO_EXML;
    }
    return CANTO__HEAD_MORE;
}

int canto__head_push(canto__head *h, const char *data, size_t len, size_t *taken, const char **why)
{
    size_t room = CANTO__HEAD_MAX - h->len;
    size_t n = len < room ? len : room;
    memcpy(h->buf + h->len, data, n);
    h->len += n;
    *taken = n;
    int rc = decide(h, why);
    if (rc == 0)
        h->done = 1;
    return rc;
}
