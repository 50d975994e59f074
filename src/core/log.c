// SPDX-License-Identifier: BSD-2-Clause
/* Logging: one place decides what reaches stderr, libbpf's callback included. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "ebee.h"

static int verbosity;             /* 0 warnings+errors, 1 info, 2 debug */
static bool quiet;
static bool libbpf_quiet;         /* expected-to-fail probes */
static __thread char last_error[512];
static __thread char prefix[160];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf warns about every failed load; the caller reports failures in its own words and
	 * -v shows libbpf's detail (including the verifier log at -vv). */
	if (libbpf_quiet)
		return 0;
	if (level == LIBBPF_DEBUG && verbosity < 2)
		return 0;
	if (level != LIBBPF_DEBUG && verbosity < 1)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void ebee_log_init(const struct ebee_ctx *ctx)
{
	verbosity = ctx->verbose;
	quiet = ctx->quiet;
	libbpf_set_print(libbpf_print);
}

bool ebee_log_libbpf_quiet(bool q)
{
	bool old = libbpf_quiet;

	libbpf_quiet = q;
	return old;
}

void ebee_log(enum ebee_level lvl, const char *fmt, ...)
{
	static const char *const tag[] = { "", "warning: ", "", "debug: " };
	int saved = errno;
	va_list ap;

	if (lvl == EBEE_ERROR) {
		int n = snprintf(last_error, sizeof(last_error), "%s%s", prefix, prefix[0] ? ": " : "");

		va_start(ap, fmt);
		vsnprintf(last_error + n, sizeof(last_error) - n, fmt, ap);
		va_end(ap);
	}
	if ((lvl == EBEE_WARN && quiet) || (lvl == EBEE_INFO && verbosity < 1) ||
	    (lvl == EBEE_DEBUG && verbosity < 2)) {
		errno = saved;
		return;
	}
	fprintf(stderr, "ebee: %s%s%s", prefix, prefix[0] ? ": " : "", tag[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	errno = saved;
}

int ebee_verbosity(void)
{
	return verbosity;
}

void ebee_log_prefix(const char *p)
{
	snprintf(prefix, sizeof(prefix), "%s", p ? p : "");
}

const char *ebee_last_error(void)
{
	return last_error[0] ? last_error : NULL;
}

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t ebee_now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
uint64_t ebee_realtime_ns(void) { return clock_ns(CLOCK_REALTIME); }

uint64_t ebee_ktime_to_real(uint64_t ktime_ns)
{
	static int64_t offset;   /* realtime - monotonic, taken once: no per-event syscalls */

	if (!offset)
		offset = (int64_t)(ebee_realtime_ns() - ebee_now_ns());
	return ktime_ns + offset;
}

const char *ebee_fmt_time(uint64_t real_ns, char *buf, size_t len)
{
	/* Event streams format a time per event (gmtime_r + strftime + snprintf were ~0.4 us of
	 * `ebee open`'s ~2 us per line): the seconds' text is kept per thread and changes once a
	 * second, the microseconds are written digit by digit. */
	static __thread time_t last_s = -1;
	static __thread char secs[32];
	static __thread size_t secs_len;
	time_t s = real_ns / 1000000000ull;
	unsigned us = (unsigned)(real_ns % 1000000000ull / 1000);
	struct tm tm;

	if (s != last_s) {
		gmtime_r(&s, &tm);
		secs_len = strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
		last_s = s;
	}
	if (len < secs_len + 9) {   /* ".123456Z" and the NUL */
		if (len)
			snprintf(buf, len, "%s", secs);
		return buf;
	}
	memcpy(buf, secs, secs_len);
	buf += secs_len;
	buf[0] = '.';
	for (int i = 6; i > 0; i--, us /= 10)
		buf[i] = (char)('0' + us % 10);
	buf[7] = 'Z';
	buf[8] = 0;
	return buf - secs_len;
}
