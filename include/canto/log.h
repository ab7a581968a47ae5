/**
 * @file canto/log.h
 * @brief Log levels and the log callback type that Canto objects accept.
 *
 * Logging is per object and silent by default. Passwords, SASL payloads and
 * tokens are never passed to a log callback.
 */
#ifndef CANTO_LOG_H
#define CANTO_LOG_H

#include <canto/export.h>

CANTO_BEGIN_DECLS

/** Severity of a log message; a callback sees only messages at or above its threshold. */
typedef enum canto_log_level {
    CANTO_LOG_DEBUG = 0, /**< Protocol steps, useful when tracing a problem. */
    CANTO_LOG_INFO = 1,  /**< Notable events: connected, authenticated, resumed. */
    CANTO_LOG_WARN = 2,  /**< Something unexpected that Canto recovered from. */
    CANTO_LOG_ERROR = 3, /**< A failure that ends an operation or a connection. */
} canto_log_level;

/**
 * Receives one log message.
 *
 * @param user_data the pointer given together with the callback.
 * @param level the message's severity.
 * @param area a short static name of the component, e.g. "xml", "tls", "sasl".
 * @param message the text, without a trailing newline; valid only during the call.
 *
 * Called on the thread that is using the object; it must not free that object.
 */
typedef void (*canto_log_fn)(void *user_data, canto_log_level level, const char *area,
                             const char *message);

/**
 * Name of a level ("debug", "info", "warn", "error").
 * @return a static string; "unknown" for a value outside the enum.
 */
CANTO_EXPORT const char *canto_log_level_name(canto_log_level level);

CANTO_END_DECLS

#endif
