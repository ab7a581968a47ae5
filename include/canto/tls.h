/**
 * @file canto/tls.h
 * @brief Server certificate checks the application can take part in: the failure
 *        details handed to a verify callback, and public-key pins.
 *
 * Canto verifies the server certificate itself (see client.h): the chain must
 * lead to a trusted CA and the certificate must name the account's domain as a
 * DNS-ID (subjectAltName dNSName), an SRV-ID (`_xmpp-client.` or
 * `_xmpps-client.` + domain) or an XmppAddr; the subject common name is never
 * used. When that fails, an application may look at the details and accept the
 * certificate anyway (for example after asking its user, or because it
 * remembered the key from an earlier session).
 *
 * Pins name a server key by the SHA-256 hash of its DER SubjectPublicKeyInfo,
 * the value `certtool -i` prints as `pin-sha256:` (base64) and the value in
 * canto_cert_failure::spki_sha256. When pins are configured they replace CA
 * validation: the certificate is trusted if and only if its key matches one of
 * them (CA store, issuer and validity dates are not consulted), but the name
 * check above still applies.
 */
#ifndef CANTO_TLS_H
#define CANTO_TLS_H

#include <stddef.h>
#include <canto/export.h>

CANTO_BEGIN_DECLS

/** Length of a SHA-256 hash in bytes. */
#define CANTO_SHA256_LEN 32

/** Why a certificate was not accepted; bits of canto_cert_failure::status. */
typedef enum canto_cert_status {
    CANTO_CERT_UNTRUSTED = 1u << 0,     /**< no chain to a trusted CA, or a bad signature */
    CANTO_CERT_EXPIRED = 1u << 1,       /**< a certificate in the chain has expired */
    CANTO_CERT_NOT_YET_VALID = 1u << 2, /**< a certificate in the chain is not valid yet */
    CANTO_CERT_REVOKED = 1u << 3,       /**< a certificate in the chain was revoked */
    CANTO_CERT_INSECURE = 1u << 4,      /**< weak algorithm or key */
    CANTO_CERT_NAME_MISMATCH = 1u << 5, /**< the certificate does not name the domain */
    CANTO_CERT_PIN_MISMATCH = 1u << 6,  /**< pins are configured and none matches */
    CANTO_CERT_OTHER = 1u << 7,         /**< any other problem (key usage, constraints, ...) */
} canto_cert_status;

/**
 * What is wrong with the server certificate. Every pointer is borrowed and
 * valid only during the callback that receives the struct.
 */
typedef struct canto_cert_failure {
    unsigned version;         /**< CANTO_CERT_FAILURE_VERSION */
    unsigned status;          /**< canto_cert_status bits, never 0 */
    const char *reason;       /**< one English sentence naming every problem found */
    const char *domain;       /**< the domain the certificate was checked against */
    const char *subject;      /**< the certificate's subject DN (RFC 4514), or "" */
    const char *issuer;       /**< the certificate's issuer DN (RFC 4514), or "" */
    const unsigned char *der; /**< the server's own certificate, DER */
    size_t der_len;           /**< bytes at @ref der */
    /** SHA-256 of the certificate's DER SubjectPublicKeyInfo: the pin value. */
    unsigned char spki_sha256[CANTO_SHA256_LEN];
} canto_cert_failure;

/** Version of canto_cert_failure filled in by this library. */
#define CANTO_CERT_FAILURE_VERSION 1u

/**
 * Decides about a certificate that failed verification. Called during the TLS
 * handshake, on the thread that drives the connection; it must not block, and
 * must not free the client.
 *
 * @param user_data the pointer given together with the callback.
 * @param failure what is wrong; valid only during the call.
 * @return nonzero to accept the certificate and go on, 0 to refuse it (the
 *         connection then fails with CANTO_ECERT).
 */
typedef int (*canto_cert_verify_fn)(void *user_data, const canto_cert_failure *failure);

/** A trusted server key: SHA-256 of its DER SubjectPublicKeyInfo. */
typedef struct canto_spki_pin {
    unsigned char sha256[CANTO_SHA256_LEN]; /**< the hash, raw bytes */
} canto_spki_pin;

CANTO_END_DECLS

#endif
