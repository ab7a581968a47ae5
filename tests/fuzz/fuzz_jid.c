/* libFuzzer target for the JID parser and XEP-0106 escaping. Any input must be
 * handled without a crash; for inputs that parse, normalization must be
 * idempotent and the derived forms consistent; escaping must round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <canto/jid.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_str(const char *a, const char *b)
{
    if (!a || !b ? a != b : strcmp(a, b) != 0)
        abort();
}

static void check_parsed(const canto_jid *j)
{
    const char *full = canto_jid_str(j);
    if (!full || !canto_jid_domain(j) || !canto_jid_domain_ascii(j) || !canto_jid_bare_str(j))
        abort();

    /* Normalizing the normalized string gives the same string and JID. */
    canto_jid *k = NULL;
    if (canto_jid_parse(NULL, full, &k) != 0)
        abort();
    same_str(canto_jid_str(k), full);
    same_str(canto_jid_domain_ascii(k), canto_jid_domain_ascii(j));
    if (!canto_jid_equal(j, k) || !canto_jid_bare_equal(j, k))
        abort();
    canto_jid_free(k);

    char *n = NULL;
    if (canto_jid_normalize(full, &n) != 0)
        abort();
    same_str(n, full);
    canto_free(n);

    /* Building from the parts gives the same JID. */
    k = NULL;
    if (canto_jid_new(NULL, canto_jid_local(j), canto_jid_domain(j), canto_jid_resource(j), &k) !=
        0)
        abort();
    same_str(canto_jid_str(k), full);
    canto_jid_free(k);

    /* The A-label form is a domain of its own that normalizes to the same. */
    k = NULL;
    if (canto_jid_parse(NULL, canto_jid_domain_ascii(j), &k) != 0)
        abort();
    same_str(canto_jid_domain(k), canto_jid_domain(j));
    canto_jid_free(k);

    /* The bare JID. */
    k = NULL;
    if (canto_jid_to_bare(j, &k) != 0)
        abort();
    same_str(canto_jid_str(k), canto_jid_bare_str(j));
    if (!canto_jid_is_bare(k) || !canto_jid_bare_equal(j, k))
        abort();
    if (canto_jid_equal(j, k) != canto_jid_is_bare(j))
        abort();
    canto_jid_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    canto_jid *j = NULL;
    if (canto_jid_parse(NULL, s, &j) == 0) {
        check_parsed(j);
        canto_jid_free(j);
    } else if (j != NULL) {
        abort();
    }

    char *e = NULL;
    if (canto_jid_escape_local(s, &e) == 0) {
        char *u = NULL;
        if (canto_jid_unescape_local(e, &u) != 0)
            abort();
        same_str(u, s);
        canto_free(u);
        canto_free(e);
    }

    char *u = NULL;
    if (canto_jid_unescape_local(s, &u) == 0)
        canto_free(u);

    free(s);
    return 0;
}
