/**
 * @file canto/error.h
 * @brief Error codes returned by every Canto function that can fail.
 *
 * Functions return 0 on success or one of the negative CANTO_E* codes below.
 * canto_strerror() turns a code into a fixed English sentence. Codes are part of
 * the ABI: values never change once released, new ones are only appended.
 *
 * XMPP-level errors (stream errors, SASL failures, stanza errors) are not API
 * error codes; they are typed values handed to callbacks (see stanza.h).
 */
#ifndef CANTO_ERROR_H
#define CANTO_ERROR_H

#include <canto/export.h>

CANTO_BEGIN_DECLS

/** API error codes. All are negative; success is 0 (CANTO_OK). */
enum canto_error_code {
    CANTO_OK = 0,           /**< Success. */
    CANTO_EINVAL = -1,      /**< An argument is invalid (NULL where not allowed, bad value). */
    CANTO_ENOMEM = -2,      /**< A memory allocation failed. */
    CANTO_EXML = -3,        /**< Input is not well-formed XML. */
    CANTO_ERESTRICTED = -4, /**< Input uses XML that XMPP forbids (RFC 6120 §11). */
    CANTO_ETOOBIG = -5,     /**< Input exceeds a size limit. */
    CANTO_ETOODEEP = -6,    /**< Input exceeds the element nesting limit. */
    CANTO_EUTF8 = -7,       /**< A string is not valid UTF-8. */
    CANTO_EJID_LOCAL =
        -8, /**< A JID's localpart is empty, too long or has a forbidden character. */
    CANTO_EJID_DOMAIN = -9,    /**< A JID's domainpart is missing, too long or invalid. */
    CANTO_EJID_RESOURCE = -10, /**< A JID's resourcepart is empty, too long or invalid. */
    CANTO_ENOTFOUND = -11,     /**< The requested item does not exist. */
    CANTO_ESTATE = -12,        /**< The object is not in a state that allows this call. */
    CANTO_EUNSUPPORTED =
        -13,                /**< The request needs something this build or peer does not support. */
    CANTO_EENCODING = -14,  /**< The input declares an encoding other than UTF-8. */
    CANTO_ETIMEDOUT = -15,  /**< An operation did not complete before its deadline. */
    CANTO_ECANCELED = -16,  /**< An operation was cancelled (for example by a disconnect). */
    CANTO_ENOTCONN = -17,   /**< The client is not connected. */
    CANTO_EQUEUEFULL = -18, /**< The send queue is full; wait for the drain notification. */
    CANTO_EDNS = -19,       /**< A DNS lookup failed. */
    CANTO_ECONNECT = -20,   /**< No connection could be established. */
    CANTO_ETLS = -21,       /**< The TLS layer failed. */
    CANTO_ECERT = -22,      /**< The server certificate could not be verified. */
    CANTO_EAUTH = -23,      /**< Authentication failed. */
    CANTO_ESTREAM = -24,    /**< The peer ended the stream with a stream error. */
    CANTO_EIO = -25,        /**< A system call on a socket or file failed. */
    CANTO_EPROTO = -26,     /**< The peer violated the protocol. */
    CANTO_ECLOSED = -27,    /**< The stream was closed. */
};

/**
 * Describe an error code.
 *
 * @param code a value returned by a Canto function (0 or a CANTO_E* code).
 * @return a static, NUL-terminated English sentence; never NULL. Unknown codes
 *         give "unknown error". The string is never freed by the caller.
 * Thread-safe.
 */
CANTO_EXPORT const char *canto_strerror(int code);

CANTO_END_DECLS

#endif
