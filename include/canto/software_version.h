/**
 * @file canto/software_version.h
 * @brief Software Version (XEP-0092): tell others which program this is, and ask them.
 *
 * (Named "software_version" because canto/version.h is the library's own
 * version; the plugin is built with the meson option `plugin_version`.)
 *
 * A canto_software_version is attached to one canto_client:
 * - it answers `<iq type='get'><query xmlns='jabber:iq:version'/></iq>` with
 *   the configured name and version, and the operating system only if one was
 *   configured (off by default: XEP-0092's security considerations note that revealing it helps
 *   attackers), and announces "jabber:iq:version" with
 *   canto_client_add_feature() (withdrawn by canto_software_version_free());
 * - canto_software_version_query() asks another entity.
 *
 * Threads: used only from the thread that runs its client's loop; callbacks
 * are called on that thread, from inside the loop's dispatch. The parse and
 * build helpers touch only their arguments and may be used from any thread.
 *
 * Ownership: canto_software_version_new() gives the caller the object, freed
 * with canto_software_version_free() before the client is freed. Strings
 * passed in are copied; values handed to callbacks are valid until they
 * return; strings read by canto_software_version_parse() are borrowed from the
 * stanza.
 */
#ifndef CANTO_SOFTWARE_VERSION_H
#define CANTO_SOFTWARE_VERSION_H

#include <stdint.h>
#include <canto/export.h>
#include <canto/client.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace (and disco feature) of Software Version. */
#define CANTO_NS_SOFTWARE_VERSION "jabber:iq:version"

/** Software Version for one client. Opaque. */
typedef struct canto_software_version canto_software_version;

/** What an entity said about itself. Strings are borrowed. */
typedef struct canto_software_version_info {
    unsigned version; /**< CANTO_SOFTWARE_VERSION_INFO_VERSION */
    const char *name; /**< the program's name, or NULL if absent */
    const char *ver;  /**< its version, or NULL if absent */
    const char *os;   /**< its operating system, or NULL if not told */
} canto_software_version_info;

/** Version of canto_software_version_info understood by this header. */
#define CANTO_SOFTWARE_VERSION_INFO_VERSION 1u
/** Initializer for canto_software_version_info. */
#define CANTO_SOFTWARE_VERSION_INFO_INIT                                                           \
    {                                                                                              \
        CANTO_SOFTWARE_VERSION_INFO_VERSION, NULL, NULL, NULL                                      \
    }

/**
 * Attach to @p client: answer version queries (by default with name "Canto"
 * and the library's version, no operating system) and announce the feature.
 * @param out receives the object; free with canto_software_version_free().
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_software_version_new(canto_client *client, canto_software_version **out);

/**
 * Stop answering, withdraw the feature and free the object. Queries still
 * pending get their callback first, with outcome CANTO_IQ_CANCELED. Must be
 * called before the client is freed. May be called from inside one of its own
 * callbacks. NULL is allowed.
 */
CANTO_EXPORT void canto_software_version_free(canto_software_version *sv);

/**
 * Set what the answers say. All strings are copied.
 * @param name the program's name; NULL: "Canto".
 * @param ver its version; NULL: the library's version (canto_version()).
 * @param os the operating system to reveal, or NULL to leave it out.
 * @return 0, CANTO_EINVAL (NULL @p sv, an empty string), CANTO_EUTF8, CANTO_ENOMEM
 *         (the old settings are kept on error).
 */
CANTO_EXPORT int canto_software_version_set(canto_software_version *sv, const char *name,
                                            const char *ver, const char *os);

/**
 * Build the answer this object sends to @p request (an iq get carrying a
 * jabber:iq:version query): an iq result to the request's sender with the
 * same id and the configured name, version and (if set) os. Used by the
 * handler; public so that the answer can be checked without a connection.
 * @param out receives the answer (caller frees with canto_stanza_free()).
 * @return 0, CANTO_EINVAL (NULL argument, not an iq get with an id and that
 *         query), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_software_version_make_reply(const canto_software_version *sv,
                                                   const canto_stanza *request, canto_stanza **out);

/**
 * Read the answer to a version query.
 * @param result the iq result (or any element holding the query as a child).
 * @param info a struct whose version is set (CANTO_SOFTWARE_VERSION_INFO_INIT);
 *        filled in with strings borrowed from @p result.
 * @return 0, CANTO_EINVAL (NULL argument, bad info version), CANTO_ENOTFOUND
 *         (no jabber:iq:version query), CANTO_EPROTO (the query lacks the
 *         `<name/>` or `<version/>` that XEP-0092 requires; @p info is still
 *         filled in with what is there).
 */
CANTO_EXPORT int canto_software_version_parse(const canto_stanza *result,
                                              canto_software_version_info *info);

/** How a version query ended; valid during the callback only. */
typedef struct canto_software_version_result {
    unsigned version;                 /**< CANTO_SOFTWARE_VERSION_RESULT_VERSION */
    canto_iq_outcome outcome;         /**< see canto_iq_outcome */
    const canto_stanza_error *error;  /**< the error answered (ERROR), else NULL */
    canto_software_version_info info; /**< what the entity said (RESULT), else all NULL */
    /** 0, or for a RESULT that canto_software_version_parse() refused, its code. */
    int parse_error;
    const char *jid;            /**< the entity asked (normalized) */
    const canto_stanza *stanza; /**< the answer (RESULT, ERROR), else NULL */
} canto_software_version_result;

/** Version of canto_software_version_result filled in by this library. */
#define CANTO_SOFTWARE_VERSION_RESULT_VERSION 1u

/**
 * Receives the outcome of one query. May call any function of this object,
 * including canto_software_version_free().
 */
typedef void (*canto_software_version_fn)(void *user_data, canto_software_version *sv,
                                          const canto_software_version_result *result);

/**
 * Ask @p jid which software it runs. For a contact that is usually a full JID
 * (a bare JID is answered by its server on the contact's behalf).
 * @param timeout_ms 0: 60 seconds.
 * @param fn called exactly once if this returns 0 (required).
 * @param request receives a handle for canto_software_version_cancel() (may be NULL).
 * @return 0, CANTO_EINVAL (NULL argument), CANTO_EJID_* (invalid @p jid),
 *         CANTO_ENOMEM, and the codes of canto_client_send_iq().
 */
CANTO_EXPORT int canto_software_version_query(canto_software_version *sv, const char *jid,
                                              uint32_t timeout_ms, canto_software_version_fn fn,
                                              void *user_data, unsigned *request);

/**
 * Forget a pending query: its callback will not be called.
 * @return 0, CANTO_EINVAL (NULL @p sv), CANTO_ENOTFOUND.
 */
CANTO_EXPORT int canto_software_version_cancel(canto_software_version *sv, unsigned request);

CANTO_END_DECLS

#endif
