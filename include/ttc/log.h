/*
 * Structured logging: one line per message with time, level, module, message and
 * key=value pairs, as logfmt or JSON lines. Values are escaped; secrets are redacted.
 */
#ifndef TTC_LOG_H
#define TTC_LOG_H

#include <stdarg.h>

#define LOG_LEVELS(X) X(DEBUG, "debug") X(INFO, "info") X(WARN, "warn") X(ERROR, "error")

enum log_level {
#define X(e, s) LOG_##e,
	LOG_LEVELS(X)
#undef X
};

#define LOG_FORMATS(X) X(LOGFMT, "logfmt") X(JSON, "json")

enum log_format {
#define X(e, s) LOG_FMT_##e,
	LOG_FORMATS(X)
#undef X
};

extern const char *const log_level_names[];  /* NULL-terminated, indexed by enum log_level */
extern const char *const log_format_names[]; /* NULL-terminated, indexed by enum log_format */

/* Where lines go (a file descriptor, stderr by default), which level and format. */
void log_setup(int fd, enum log_level level, enum log_format format);
void log_set_level(enum log_level level);
void log_set_format(enum log_format format);
enum log_level log_get_level(void);

/*
 * Logs msg for module with key/value string pairs ending in NULL:
 *	log_info("httpd", "listening", "addr", addr, NULL);
 * A value whose key names a secret (password, pwd, token, secret,
 * authorization, credential, private key)
 * is written as "[redacted]". A NULL value is written as an empty string.
 */
void log_msg(enum log_level level, const char *module, const char *msg, ...)
    __attribute__((sentinel));
void log_vmsg(enum log_level level, const char *module, const char *msg, va_list ap);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Number-to-string for log values: LOG_I(n) lives until the end of the enclosing block. */
const char *log_fmt_int(char *buf, long long n);
const char *log_fmt_double(char *buf, double d);
#define LOG_I(n) log_fmt_int((char[24]){0}, (long long)(n))
#define LOG_D(d) log_fmt_double((char[32]){0}, (double)(d))

/* Whether a value logged under this key is withheld. */
int log_is_secret_key(const char *key);

#endif
