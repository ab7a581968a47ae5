/* See push.h. Public API only. */
#include "plugins/common/push.h"

#include <canto/jid.h>
#include <canto/stanza.h>

int canto__push_from_account(canto_client *client, const char *from)
{
    if (!from)
        return 1;
    canto_jid *f;
    if (canto_jid_parse(NULL, from, &f) != 0)
        return 0;
    int ok = canto_jid_is_bare(f) && canto_jid_bare_equal(f, canto_client_jid(client));
    canto_jid_free(f);
    return ok;
}

void canto__push_answer(canto_client *client, const char *to, const char *id)
{
    canto_stanza *reply;
    if (canto_stanza_new_iq(NULL, "result", to, id, &reply) == 0) {
        canto_client_send(client, reply);
        canto_stanza_free(reply);
    }
}
