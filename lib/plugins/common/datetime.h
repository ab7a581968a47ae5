/* XEP-0082 date-times for the plugins that read and write them (delay, time):
 * proleptic Gregorian calendar arithmetic, parsing and formatting, with no
 * dependence on the C library's time zone handling. Public API only. */
#ifndef CANTO_PLUGINS_COMMON_DATETIME_H
#define CANTO_PLUGINS_COMMON_DATETIME_H

#include <stddef.h>
#include <stdint.h>

/* Beyond this (about 31700 years either way) no 4-digit year can come out,
 * and adding an offset cannot overflow. */
#define CANTO__DT_MS_LIMIT 1000000000000000LL

/* DateTime "CCYY-MM-DDThh:mm:ss[.sss]TZD" to UTC milliseconds and the
 * offset in minutes (either out pointer may be NULL). 0 or -1. */
int canto__dt_parse(const char *text, int64_t *utc_ms, int *tzo);
/* A whole text that is a TZD: "Z" or "+hh:mm" / "-hh:mm". 0 or -1. */
int canto__dt_parse_tzd(const char *text, int *tzo);
/* XEP-0091's "CCYYMMDDThh:mm:ss", always UTC. 0 or -1. */
int canto__dt_parse_legacy(const char *text, int64_t *utc_ms);

/* @p utc_ms as local time at offset @p tzo: "CCYY-MM-DDThh:mm:ss", then
 * ".sss" if @p with_ms and the milliseconds are not 0, then "Z" (offset 0) or
 * "+hh:mm". 0, CANTO_EINVAL (out of range: offset of a day or more, a year
 * outside 0..9999), CANTO_ETOOBIG (buffer; it is left empty). */
int canto__dt_format(int64_t utc_ms, int tzo, int with_ms, char *buf, size_t cap);
/* "+hh:mm" / "-hh:mm", also for 0 (XEP-0202's <tzo/>). */
void canto__dt_format_tzd(int tzo, char *buf, size_t cap);

#endif
