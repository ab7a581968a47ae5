/* Per-part checks and normalization for JIDs (RFC 7622), shared by the parser
 * and the constructors in jid.c. Each function looks at one part only and
 * reports the error code of that part. */
#ifndef CANTO_JID_PREP_H
#define CANTO_JID_PREP_H

#include <stddef.h>

#include <canto/jid.h>

/* Check the localpart in[0..len) and write its normalized form (ASCII letters
 * lowercased; the length does not change) to out[0..len). No NUL is written.
 * Returns 0, CANTO_EJID_LOCAL or CANTO_EUTF8. */
int canto__jid_prep_local(const char *in, size_t len, char *out);

/* Check the resourcepart in[0..len); it is used as given.
 * Returns 0, CANTO_EJID_RESOURCE or CANTO_EUTF8. */
int canto__jid_check_resource(const char *in, size_t len);

/* A normalized domainpart in its two forms, each NUL-terminated. */
typedef struct canto__jid_domain {
    char uform[CANTO_JID_PART_MAX + 1]; /* for display and comparison (U-labels) */
    size_t ulen;
    char aform[CANTO_JID_PART_MAX + 1]; /* for DNS and TLS (A-labels) */
    size_t alen;
} canto__jid_domain;

/* Check and normalize the domainpart in[0..len) into @p out.
 * Returns 0, CANTO_EJID_DOMAIN or CANTO_EUTF8. */
int canto__jid_prep_domain(const char *in, size_t len, canto__jid_domain *out);

#endif
