/* UTF-8 and XML character checks shared by the stanza tree, the JID code and the
 * serializer. */
#ifndef CANTO_BASE_UTF8_H
#define CANTO_BASE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode one scalar value at s[0..len). Returns the number of bytes used (1-4) and
 * stores the code point, or 0 for an invalid, overlong, surrogate or truncated
 * sequence. */
size_t canto__utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* 0 if s[0..len) is valid UTF-8 whose every character XML 1.0 allows (RFC 6120
 * §11.6 forbids the rest), CANTO_EUTF8 for bad UTF-8, CANTO_EINVAL for a
 * character XML cannot carry (NUL, most C0 controls, U+FFFE/U+FFFF). */
int canto__xml_text_check(const char *s, size_t len);

/* 0 if s[0..len) is an acceptable XML Name without a colon (element and attribute
 * local names); CANTO_EINVAL or CANTO_EUTF8 otherwise. */
int canto__xml_name_check(const char *s, size_t len);

#endif
