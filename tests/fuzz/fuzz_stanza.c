/* libFuzzer target for canto_stanza_parse: any input is refused or accepted
 * without a crash or leak, and what is accepted serializes to a string that
 * parses back to the same string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <canto/canto.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *reserialize(const char *xml, size_t len, int *root_has_ns)
{
    canto_stanza *s = NULL;
    if (canto_stanza_parse(NULL, xml, len, &s) != 0)
        abort(); /* our own output must always parse */
    char *out = NULL;
    if (canto_stanza_to_string(s, &out, NULL) != 0)
        abort();
    if (root_has_ns)
        *root_has_ns = canto_stanza_ns(s) != NULL;
    canto_stanza_free(s);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    canto_stanza *s = NULL;
    if (canto_stanza_parse(NULL, (const char *)data, size, &s) != 0) {
        if (s)
            abort();
        return 0;
    }
    char *s1 = NULL;
    size_t len1 = 0;
    if (canto_stanza_to_string(s, &s1, &len1) != 0)
        abort();
    int had_ns = canto_stanza_ns(s) != NULL;
    canto_stanza_free(s);

    int ns2 = 0;
    char *s2 = reserialize(s1, len1, &ns2);
    if (had_ns) {
        if (strcmp(s1, s2) != 0)
            abort();
    } else {
        /* A root in no namespace is written without a declaration, and an
         * element without one parses into jabber:client: one more round must
         * then be stable. */
        char *s3 = reserialize(s2, strlen(s2), NULL);
        if (strcmp(s2, s3) != 0)
            abort();
        canto_free(s3);
    }
    canto_free(s1);
    canto_free(s2);
    return 0;
}
