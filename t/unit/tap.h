/*
 * A tiny TAP producer for C unit tests: ok(), is_int(), is_str(), diag(), skip() and
 * done_testing(), which prints the plan and gives main() its exit status.
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failures;

static void tap_vdiag(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void
tap_vdiag(const char *fmt, va_list ap)
{
	char buf[4096];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		printf("# %s\n", line);
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void
diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vdiag(fmt, ap);
	va_end(ap);
}

static int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), unused));
static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", pass ? "" : "not ", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failures++;
		printf("#   failed at %s line %d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                                     \
	do {                                                                                       \
		long long got_ = (long long)(got), want_ = (long long)(want);                      \
		if (!tap_ok(got_ == want_, __FILE__, __LINE__, __VA_ARGS__))                       \
			diag("     got: %lld\n    want: %lld", got_, want_);                       \
	} while (0)

#define is_str(got, want, ...)                                                                     \
	do {                                                                                       \
		const char *got_ = (got), *want_ = (want);                                         \
		int same_ = got_ && want_ ? strcmp(got_, want_) == 0 : got_ == want_;              \
		if (!tap_ok(same_, __FILE__, __LINE__, __VA_ARGS__))                               \
			diag("     got: \"%s\"\n    want: \"%s\"", got_ ? got_ : "(null)",         \
			     want_ ? want_ : "(null)");                                            \
	} while (0)

/* Whether haystack contains needle, with a diagnostic when not. */
#define like(haystack, needle, ...)                                                                \
	do {                                                                                       \
		const char *h_ = (haystack), *n_ = (needle);                                       \
		if (!tap_ok(h_ && strstr(h_, n_) != NULL, __FILE__, __LINE__, __VA_ARGS__))        \
			diag("    text: \"%s\"\n    lacks: \"%s\"", h_ ? h_ : "(null)", n_);       \
	} while (0)

static void skip(const char *why) __attribute__((unused));
static void
skip(const char *why)
{
	printf("ok %d # SKIP %s\n", ++tap_count, why);
}

static int done_testing(void) __attribute__((unused));
static int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failures ? 1 : 0;
}

#endif
