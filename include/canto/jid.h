/**
 * @file canto/jid.h
 * @brief XMPP addresses (RFC 7622): parse, validate, normalize, compare, escape.
 *
 * A canto_jid is an immutable, normalized address `[local@]domain[/resource]`.
 * Parsing validates each part and normalizes it, so two JIDs that denote the
 * same entity compare equal with canto_jid_equal() and print the same.
 *
 * Normalization done (see README.md for the full list of PRECIS steps):
 * - domainpart: trailing dot removed; ASCII lowercased; internationalized labels
 *   mapped with IDNA2008 (via GnuTLS) and kept in Unicode (U-label) form, with
 *   canto_jid_domain_ascii() giving the A-label form for DNS and TLS; IPv4 and
 *   bracketed IPv6 literals accepted as such (IPv6 hex digits lowercased).
 *   ASCII labels must be letters, digits and hyphens (not at either end), 1 to
 *   63 bytes. A-labels in the input must be canonical and are shown as
 *   U-labels; an internationalized domain must fit DNS (at most 253 bytes as
 *   A-labels), and characters that IDNA mapping would silently drop (such as
 *   U+00A0 or a fullwidth '@') are refused.
 * - localpart: ASCII letters lowercased; the characters `" & ' / : < > @`,
 *   space, C0 and C1 controls, DEL, other Unicode spaces, the fullwidth forms of
 *   the forbidden characters and noncharacters refused. Without a PRECIS
 *   library, Unicode case mapping, width mapping and NFC are NOT applied to the
 *   localpart, so U+00C4 and U+00E4 make different localparts.
 * - resourcepart: kept as given (case preserved, no NFC); C0 and C1 controls,
 *   DEL and noncharacters refused.
 * Each part must be 1 to 1023 bytes (after normalization; a domain may be
 * followed by the one trailing dot that is removed).
 *
 * Ownership: functions with `canto_jid **out` give the caller a new JID, freed with
 * canto_jid_free(); returned strings are borrowed from the JID and live as long as
 * it. A JID is immutable, so it may be read by several threads at once.
 */
#ifndef CANTO_JID_H
#define CANTO_JID_H

#include <canto/export.h>
#include <canto/memory.h>

CANTO_BEGIN_DECLS

/** A parsed, normalized JID. Opaque and immutable. */
typedef struct canto_jid canto_jid;

/** Maximum length in bytes of each of the three parts (RFC 7622 §3.1). */
#define CANTO_JID_PART_MAX 1023

/**
 * Parse and normalize a JID string.
 * @param alloc allocator or NULL.
 * @param str NUL-terminated UTF-8.
 * @param out receives the JID (caller frees with canto_jid_free()).
 * @return 0; CANTO_EINVAL (NULL argument); CANTO_EUTF8 (not UTF-8);
 *         CANTO_EJID_LOCAL (empty localpart before '@', too long, forbidden
 *         character); CANTO_EJID_DOMAIN (empty, too long, bad label, bad IP
 *         literal, IDNA failure); CANTO_EJID_RESOURCE (empty after '/', too long,
 *         control character); CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_jid_parse(const canto_allocator *alloc, const char *str, canto_jid **out);

/**
 * Build a JID from its parts, validating and normalizing each.
 * @param local localpart or NULL; @param domain required; @param resource or NULL.
 * @return as canto_jid_parse().
 */
CANTO_EXPORT int canto_jid_new(const canto_allocator *alloc, const char *local, const char *domain,
                               const char *resource, canto_jid **out);

/** Free a JID. NULL is allowed. */
CANTO_EXPORT void canto_jid_free(canto_jid *jid);

/** Copy a JID. @return 0, CANTO_EINVAL, CANTO_ENOMEM. */
CANTO_EXPORT int canto_jid_copy(const canto_jid *jid, canto_jid **out);

/* The accessors below return NULL (canto_jid_is_bare() 0) when jid is NULL. */

/** @return the localpart (borrowed), or NULL if there is none. */
CANTO_EXPORT const char *canto_jid_local(const canto_jid *jid);
/** @return the normalized domainpart (borrowed); never NULL for a valid JID. */
CANTO_EXPORT const char *canto_jid_domain(const canto_jid *jid);
/** @return the domainpart in ASCII (A-label) form for DNS and TLS (borrowed). */
CANTO_EXPORT const char *canto_jid_domain_ascii(const canto_jid *jid);
/** @return the resourcepart (borrowed), or NULL if there is none. */
CANTO_EXPORT const char *canto_jid_resource(const canto_jid *jid);
/** @return the whole normalized JID as a string (borrowed). */
CANTO_EXPORT const char *canto_jid_str(const canto_jid *jid);
/** @return `local@domain` or `domain` (borrowed). */
CANTO_EXPORT const char *canto_jid_bare_str(const canto_jid *jid);
/** @return 1 if the JID has no resourcepart, else 0. */
CANTO_EXPORT int canto_jid_is_bare(const canto_jid *jid);

/** The bare JID of @p jid as a new JID. @return 0, CANTO_EINVAL, CANTO_ENOMEM. */
CANTO_EXPORT int canto_jid_to_bare(const canto_jid *jid, canto_jid **out);

/**
 * A new JID with the bare part of @p jid and resource @p resource (NULL: none).
 * @return 0, CANTO_EINVAL, CANTO_EJID_RESOURCE, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_jid_with_resource(const canto_jid *jid, const char *resource,
                                         canto_jid **out);

/** @return 1 if both JIDs are equal after normalization (all three parts), else 0
 *          (also 0 if either is NULL). */
CANTO_EXPORT int canto_jid_equal(const canto_jid *a, const canto_jid *b);
/** @return 1 if the bare parts are equal (resources ignored), else 0. */
CANTO_EXPORT int canto_jid_bare_equal(const canto_jid *a, const canto_jid *b);

/**
 * Compare two JID strings after normalizing both.
 * @return 1 equal, 0 different, or a negative CANTO_E* code if either is invalid.
 */
CANTO_EXPORT int canto_jid_str_equal(const char *a, const char *b);

/**
 * Normalize a JID string.
 * @param out receives the normalized string; free with canto_free().
 * @return as canto_jid_parse().
 */
CANTO_EXPORT int canto_jid_normalize(const char *str, char **out);

/**
 * XEP-0106: escape a would-be localpart (e.g. "d'artagnan@example" ->
 * "d\27artagnan\40example"). A leading or trailing space is refused. As the
 * XEP's rules say, a backslash is escaped (as `\5c`) only where it starts one of
 * the ten escape sequences, in either case: `a\b` stays `a\b` but `a\5c`
 * becomes `a\5c5c`. Unescaping the result always gives @p local back. The
 * result is not otherwise checked as a localpart.
 * @param out receives the escaped string; free with canto_free().
 * @return 0, CANTO_EINVAL (NULL, empty, leading/trailing space), CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_jid_escape_local(const char *local, char **out);

/**
 * XEP-0106: reverse canto_jid_escape_local(). Only the ten defined escapes are
 * decoded (hex digits in either case); other backslash sequences are kept as
 * they are. An empty string gives an empty string.
 * @param out receives the unescaped string; free with canto_free().
 * @return 0, CANTO_EINVAL, CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_jid_unescape_local(const char *local, char **out);

CANTO_END_DECLS

#endif
