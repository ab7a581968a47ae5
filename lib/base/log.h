/* Per-object logging: each object embeds a canto__log and reports through it. */
#ifndef CANTO_BASE_LOG_H
#define CANTO_BASE_LOG_H

#include <canto/log.h>

typedef struct canto__log {
    canto_log_fn fn;
    void *ud;
    canto_log_level min;
} canto__log;

/* Formats only when a callback would receive the message, so disabled logging
 * costs one branch. Messages longer than 1 KiB are cut. */
void canto__logf(const canto__log *log, canto_log_level level, const char *area, const char *fmt,
                 ...) CANTO_PRINTF(4, 5);

#define canto__log_enabled(log, level) ((log) && (log)->fn && (level) >= (log)->min)

#endif
