/**
 * @file canto/sasl.h
 * @brief SASL failure conditions (RFC 6120 §6.5) as the application sees them.
 *
 * When the server rejects authentication it sends a `<failure/>` element with
 * one of these conditions. Canto reports it with the end of the connection
 * (the `sasl_condition` name in client.h); these functions translate between
 * that name and an enum. Like stream errors, these are XMPP conditions,
 * distinct from the CANTO_E* API error codes (authentication failures end the
 * connection with CANTO_EAUTH).
 */
#ifndef CANTO_SASL_H
#define CANTO_SASL_H

#include <canto/export.h>

CANTO_BEGIN_DECLS

/** SASL failure conditions (RFC 6120 §6.5). */
typedef enum canto_sasl_condition {
    CANTO_SASL_COND_NONE = 0,               /**< No SASL failure. */
    CANTO_SASL_COND_ABORTED,                /**< The client aborted the exchange. */
    CANTO_SASL_COND_ACCOUNT_DISABLED,       /**< The account is (temporarily) disabled. */
    CANTO_SASL_COND_CREDENTIALS_EXPIRED,    /**< The password or certificate has expired. */
    CANTO_SASL_COND_ENCRYPTION_REQUIRED,    /**< The mechanism needs an encrypted stream. */
    CANTO_SASL_COND_INCORRECT_ENCODING,     /**< The client's base64 was invalid. */
    CANTO_SASL_COND_INVALID_AUTHZID,        /**< The authorization identity was refused. */
    CANTO_SASL_COND_INVALID_MECHANISM,      /**< The server does not support the mechanism. */
    CANTO_SASL_COND_MALFORMED_REQUEST,      /**< The request was malformed. */
    CANTO_SASL_COND_MECHANISM_TOO_WEAK,     /**< The mechanism is weaker than policy allows. */
    CANTO_SASL_COND_NOT_AUTHORIZED,         /**< Wrong credentials (the usual failure). */
    CANTO_SASL_COND_TEMPORARY_AUTH_FAILURE, /**< A server-side problem; try again later. */
    CANTO_SASL_COND_OTHER, /**< A condition RFC 6120 does not define, or none given. */
} canto_sasl_condition;

/**
 * @return the element name of a condition ("not-authorized", ...), or NULL for
 * CANTO_SASL_COND_NONE, CANTO_SASL_COND_OTHER and values outside the enum. The
 * string is static.
 */
CANTO_EXPORT const char *canto_sasl_condition_name(canto_sasl_condition cond);

/**
 * @return the condition named @p name; CANTO_SASL_COND_OTHER if @p name is
 * NULL or not an RFC 6120 condition.
 */
CANTO_EXPORT canto_sasl_condition canto_sasl_condition_from_name(const char *name);

CANTO_END_DECLS

#endif
