/*
 * log.h - leveled logging for every Cairn binary.
 *
 * One line per message: timestamp, daemon name and pid, level, text.  Lines
 * go to stderr (written with a single write(2), so lines from several threads
 * never interleave) or to syslog.  Thread-safe; log_setup() is called once at
 * start-up before other threads exist.
 */
#ifndef CAIRN_COMMON_LOG_H
#define CAIRN_COMMON_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Name shown in each line (e.g. "cairn-mds"), threshold, and destination. */
void log_setup(const char *daemon, enum log_level level, bool to_syslog);
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

/* Parses "error", "warn", "info" or "debug".  Returns 0 or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

void log_write(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_write(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_LVL_DEBUG))                                                    \
			log_write(LOG_LVL_DEBUG, __VA_ARGS__);                                     \
	} while (0)

#endif
