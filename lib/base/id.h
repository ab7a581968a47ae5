/* Identifiers that must be unique and hard to guess: stanza ids, iq ids,
 * stream ids. Guessable ids let an attacker answer requests it never saw. */
#ifndef CANTO_BASE_ID_H
#define CANTO_BASE_ID_H

#include <stddef.h>

/* Write a NUL-terminated random id of min(cap - 1, 20) characters from
 * [a-z0-9] into @p buf. Returns 0, or CANTO_EIO if the system's random source
 * failed (buf then holds an empty string). */
int canto__random_id(char *buf, size_t cap);

#endif
