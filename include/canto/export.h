/**
 * @file canto/export.h
 * @brief Symbol visibility and language-linkage macros shared by all public headers.
 *
 * Canto is built with hidden visibility; only declarations marked CANTO_EXPORT
 * (and listed by the linker version script) form the ABI.
 */
#ifndef CANTO_EXPORT_H
#define CANTO_EXPORT_H

#if defined(CANTO_BUILDING) && defined(__GNUC__)
#define CANTO_EXPORT __attribute__((visibility("default")))
#else
#define CANTO_EXPORT
#endif

#ifdef __cplusplus
#define CANTO_BEGIN_DECLS extern "C" {
#define CANTO_END_DECLS }
#else
#define CANTO_BEGIN_DECLS
#define CANTO_END_DECLS
#endif

#if defined(__GNUC__)
#define CANTO_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CANTO_PRINTF(fmt, args)
#endif

#endif
