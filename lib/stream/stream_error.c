/* Stream error conditions: names, and reading a <stream:error/> element. */
#include <string.h>

#include <canto/stream.h>
#include "stream/stream_error.h"

static const char *const names[] = {
    [CANTO_STREAM_COND_BAD_FORMAT] = "bad-format",
    [CANTO_STREAM_COND_BAD_NAMESPACE_PREFIX] = "bad-namespace-prefix",
    [CANTO_STREAM_COND_CONFLICT] = "conflict",
    [CANTO_STREAM_COND_CONNECTION_TIMEOUT] = "connection-timeout",
    [CANTO_STREAM_COND_HOST_GONE] = "host-gone",
    [CANTO_STREAM_COND_HOST_UNKNOWN] = "host-unknown",
    [CANTO_STREAM_COND_IMPROPER_ADDRESSING] = "improper-addressing",
    [CANTO_STREAM_COND_INTERNAL_SERVER_ERROR] = "internal-server-error",
    [CANTO_STREAM_COND_INVALID_FROM] = "invalid-from",
    [CANTO_STREAM_COND_INVALID_NAMESPACE] = "invalid-namespace",
    [CANTO_STREAM_COND_INVALID_XML] = "invalid-xml",
    [CANTO_STREAM_COND_NOT_AUTHORIZED] = "not-authorized",
    [CANTO_STREAM_COND_NOT_WELL_FORMED] = "not-well-formed",
    [CANTO_STREAM_COND_POLICY_VIOLATION] = "policy-violation",
    [CANTO_STREAM_COND_REMOTE_CONNECTION_FAILED] = "remote-connection-failed",
    [CANTO_STREAM_COND_RESET] = "reset",
    [CANTO_STREAM_COND_RESOURCE_CONSTRAINT] = "resource-constraint",
    [CANTO_STREAM_COND_RESTRICTED_XML] = "restricted-xml",
    [CANTO_STREAM_COND_SEE_OTHER_HOST] = "see-other-host",
    [CANTO_STREAM_COND_SYSTEM_SHUTDOWN] = "system-shutdown",
    [CANTO_STREAM_COND_UNDEFINED_CONDITION] = "undefined-condition",
    [CANTO_STREAM_COND_UNSUPPORTED_ENCODING] = "unsupported-encoding",
    [CANTO_STREAM_COND_UNSUPPORTED_FEATURE] = "unsupported-feature",
    [CANTO_STREAM_COND_UNSUPPORTED_STANZA_TYPE] = "unsupported-stanza-type",
    [CANTO_STREAM_COND_UNSUPPORTED_VERSION] = "unsupported-version",
};

#define COUNT (sizeof(names) / sizeof(names[0]))

const char *canto_stream_condition_name(canto_stream_condition cond)
{
    return (unsigned)cond < COUNT ? names[cond] : NULL;
}

canto_stream_condition canto_stream_condition_from_name(const char *name)
{
    if (name)
        for (unsigned i = 1; i < COUNT; i++)
            if (strcmp(names[i], name) == 0)
                return (canto_stream_condition)i;
    return CANTO_STREAM_COND_OTHER;
}

void canto__stream_error_read(const canto_stanza *err, canto__stream_error_info *info)
{
    *info = (canto__stream_error_info){CANTO_STREAM_COND_UNDEFINED_CONDITION, NULL, NULL};
    int have_cond = 0;
    for (const canto_stanza *c = canto_stanza_first_element(err); c;
         c = canto_stanza_next_element(c)) {
        if (!canto_stanza_is(c, NULL, CANTO__NS_STREAM_ERRORS))
            continue;
        const char *n = canto_stanza_name(c);
        if (strcmp(n, "text") == 0) {
            if (!info->text)
                info->text = canto_stanza_text(c);
        } else if (!have_cond) {
            have_cond = 1;
            info->condition = canto_stream_condition_from_name(n);
            if (info->condition == CANTO_STREAM_COND_SEE_OTHER_HOST) {
                const char *t = canto_stanza_text(c);
                info->see_other_host = t && *t ? t : NULL;
            }
        }
    }
}
