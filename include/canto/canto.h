/**
 * @file canto/canto.h
 * @brief Umbrella header: include this to get the whole public API.
 *
 * Canto is an embeddable XMPP client library. Every object is used by one thread
 * at a time; distinct objects are independent; no global initialization is needed.
 */
#ifndef CANTO_CANTO_H
#define CANTO_CANTO_H

#include <canto/export.h>
#include <canto/version.h>
#include <canto/error.h>
#include <canto/memory.h>
#include <canto/log.h>
#include <canto/stanza.h>
#include <canto/jid.h>
#include <canto/loop.h>
#include <canto/stream.h>
#include <canto/sasl.h>
#include <canto/tls.h>
#include <canto/client.h>

#endif
