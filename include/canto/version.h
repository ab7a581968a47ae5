/**
 * @file canto/version.h
 * @brief Compile-time and run-time library version.
 */
#ifndef CANTO_VERSION_H
#define CANTO_VERSION_H

#include <canto/export.h>

CANTO_BEGIN_DECLS

#define CANTO_VERSION_MAJOR 0 /**< Major version of these headers. */
#define CANTO_VERSION_MINOR 1 /**< Minor version of these headers. */
#define CANTO_VERSION_PATCH 0 /**< Patch version of these headers. */
/** Version of these headers as one number: 0xMMmmpp. */
#define CANTO_VERSION_NUMBER                                                                       \
    ((CANTO_VERSION_MAJOR << 16) | (CANTO_VERSION_MINOR << 8) | CANTO_VERSION_PATCH)

/**
 * Version of the library actually linked, as "MAJOR.MINOR.PATCH".
 * @return a static string, never NULL.
 */
CANTO_EXPORT const char *canto_version(void);

/** Version of the library actually linked, as CANTO_VERSION_NUMBER would spell it. */
CANTO_EXPORT unsigned canto_version_number(void);

CANTO_END_DECLS

#endif
