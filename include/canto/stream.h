/**
 * @file canto/stream.h
 * @brief Stream-level errors (RFC 6120 §4.9) as the application sees them.
 *
 * A stream error ends the stream. When the peer sends one, or Canto sends one
 * because the peer broke the protocol, the client's state callback receives it
 * as a canto_stream_error (see client.h). These are XMPP conditions, distinct
 * from the CANTO_E* API error codes.
 */
#ifndef CANTO_STREAM_H
#define CANTO_STREAM_H

#include <canto/export.h>

CANTO_BEGIN_DECLS

/** Stream error conditions (RFC 6120 §4.9.3). */
typedef enum canto_stream_condition {
    CANTO_STREAM_COND_NONE = 0, /**< No stream error. */
    CANTO_STREAM_COND_BAD_FORMAT,
    CANTO_STREAM_COND_BAD_NAMESPACE_PREFIX,
    CANTO_STREAM_COND_CONFLICT,
    CANTO_STREAM_COND_CONNECTION_TIMEOUT,
    CANTO_STREAM_COND_HOST_GONE,
    CANTO_STREAM_COND_HOST_UNKNOWN,
    CANTO_STREAM_COND_IMPROPER_ADDRESSING,
    CANTO_STREAM_COND_INTERNAL_SERVER_ERROR,
    CANTO_STREAM_COND_INVALID_FROM,
    CANTO_STREAM_COND_INVALID_NAMESPACE,
    CANTO_STREAM_COND_INVALID_XML,
    CANTO_STREAM_COND_NOT_AUTHORIZED,
    CANTO_STREAM_COND_NOT_WELL_FORMED,
    CANTO_STREAM_COND_POLICY_VIOLATION,
    CANTO_STREAM_COND_REMOTE_CONNECTION_FAILED,
    CANTO_STREAM_COND_RESET,
    CANTO_STREAM_COND_RESOURCE_CONSTRAINT,
    CANTO_STREAM_COND_RESTRICTED_XML,
    CANTO_STREAM_COND_SEE_OTHER_HOST,
    CANTO_STREAM_COND_SYSTEM_SHUTDOWN,
    CANTO_STREAM_COND_UNDEFINED_CONDITION,
    CANTO_STREAM_COND_UNSUPPORTED_ENCODING,
    CANTO_STREAM_COND_UNSUPPORTED_FEATURE,
    CANTO_STREAM_COND_UNSUPPORTED_STANZA_TYPE,
    CANTO_STREAM_COND_UNSUPPORTED_VERSION,
    CANTO_STREAM_COND_OTHER, /**< A condition RFC 6120 does not define. */
} canto_stream_condition;

/**
 * @return the element name of a condition ("host-unknown", ...), or NULL for
 * CANTO_STREAM_COND_NONE, CANTO_STREAM_COND_OTHER and values outside the enum.
 */
CANTO_EXPORT const char *canto_stream_condition_name(canto_stream_condition cond);

/** @return the condition named @p name; CANTO_STREAM_COND_OTHER if unknown. */
CANTO_EXPORT canto_stream_condition canto_stream_condition_from_name(const char *name);

CANTO_END_DECLS

#endif
