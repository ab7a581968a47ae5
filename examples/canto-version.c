/* canto-version: print the library version, then parse a stanza and print it
 * back as Canto serializes it.
 *
 *   canto-version ['<message to="a@b"><body>hi</body></message>']
 *
 * Exit status: 0 on success, 1 if the stanza could not be parsed or serialized.
 */
#include <stdio.h>

#include <canto/canto.h>

static const char default_stanza[] = "<message to='a@b'><body>hi &amp; bye</body></message>";

int main(int argc, char **argv)
{
    const char *xml = argc > 1 ? argv[1] : default_stanza;
    canto_stanza *stanza = NULL;
    char *out = NULL;
    size_t len = 0;
    int rc;

    printf("canto %s\n", canto_version());

    rc = canto_stanza_parse(NULL, xml, (size_t)-1, &stanza);
    if (rc != 0) {
        fprintf(stderr, "canto-version: cannot parse stanza: %s\n", canto_strerror(rc));
        return 1;
    }

    rc = canto_stanza_to_string(stanza, &out, &len);
    if (rc != 0) {
        fprintf(stderr, "canto-version: cannot serialize stanza: %s\n", canto_strerror(rc));
        canto_stanza_free(stanza);
        return 1;
    }

    fwrite(out, 1, len, stdout);
    putchar('\n');
    canto_free(out);
    canto_stanza_free(stanza);
    return 0;
}
