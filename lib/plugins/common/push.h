/* Shared by plugins that keep a copy of account data the server pushes as iq
 * sets (roster, blocking list): who may push, and the empty answer. Public
 * API only. */
#ifndef CANTO_PLUGINS_COMMON_PUSH_H
#define CANTO_PLUGINS_COMMON_PUSH_H

#include <canto/client.h>

/* Nonzero if a push with this `from` comes from the account itself: no `from`
 * (the server speaking for the account, RFC 6120) or our own bare JID
 * (RFC 6121 §2.1.6). Anyone else could forge changes to the copy. */
int canto__push_from_account(canto_client *client, const char *from);

/* Acknowledges push @p id with an empty result to @p to (NULL: no `to`).
 * Out of memory sends nothing: the server times the push out, which is the
 * same as the push having been lost. */
void canto__push_answer(canto_client *client, const char *to, const char *id);

#endif
