#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>

const char *canto_log_level_name(canto_log_level level)
{
    switch (level) {
    case CANTO_LOG_DEBUG:
        return "debug";
    case CANTO_LOG_INFO:
        return "info";
    case CANTO_LOG_WARN:
        return "warn";
    case CANTO_LOG_ERROR:
        return "error";
    }
    return "unknown";
}

void canto__logf(const canto__log *log, canto_log_level level, const char *area, const char *fmt,
                 ...)
{
    if (!canto__log_enabled(log, level))
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log->fn(log->ud, level, area, buf);
}
