/* SASL failure conditions (RFC 6120 §6.5): names, and reading <failure/>. */
#include <string.h>

#include <canto/sasl.h>
#include "stream/sasl.h"

#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"

static const char *const names[] = {
    [CANTO_SASL_COND_ABORTED] = "aborted",
    [CANTO_SASL_COND_ACCOUNT_DISABLED] = "account-disabled",
    [CANTO_SASL_COND_CREDENTIALS_EXPIRED] = "credentials-expired",
    [CANTO_SASL_COND_ENCRYPTION_REQUIRED] = "encryption-required",
    [CANTO_SASL_COND_INCORRECT_ENCODING] = "incorrect-encoding",
    [CANTO_SASL_COND_INVALID_AUTHZID] = "invalid-authzid",
    [CANTO_SASL_COND_INVALID_MECHANISM] = "invalid-mechanism",
    [CANTO_SASL_COND_MALFORMED_REQUEST] = "malformed-request",
    [CANTO_SASL_COND_MECHANISM_TOO_WEAK] = "mechanism-too-weak",
    [CANTO_SASL_COND_NOT_AUTHORIZED] = "not-authorized",
    [CANTO_SASL_COND_TEMPORARY_AUTH_FAILURE] = "temporary-auth-failure",
};

#define COUNT (sizeof(names) / sizeof(names[0]))

const char *canto_sasl_condition_name(canto_sasl_condition cond)
{
    return (unsigned)cond < COUNT ? names[cond] : NULL;
}

canto_sasl_condition canto_sasl_condition_from_name(const char *name)
{
    if (name)
        for (unsigned i = 1; i < COUNT; i++)
            if (strcmp(names[i], name) == 0)
                return (canto_sasl_condition)i;
    return CANTO_SASL_COND_OTHER;
}

void canto__sasl_failure_read(const canto_stanza *failure, canto__sasl_failure_info *info)
{
    /* A missing or foreign condition reads as OTHER, never NONE, so a server
     * cannot make a failure look like "no failure". */
    *info = (canto__sasl_failure_info){CANTO_SASL_COND_OTHER, NULL, NULL};
    if (!failure)
        return;
    for (const canto_stanza *c = canto_stanza_first_element(failure); c;
         c = canto_stanza_next_element(c)) {
        if (!canto_stanza_is(c, NULL, NS_SASL))
            continue;
        const char *n = canto_stanza_name(c);
        if (strcmp(n, "text") == 0) {
            if (!info->text)
                info->text = canto_stanza_text(c);
        } else if (!info->name) {
            info->name = n;
            info->condition = canto_sasl_condition_from_name(n);
        }
    }
}
