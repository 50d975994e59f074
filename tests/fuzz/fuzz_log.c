// SPDX-License-Identifier: BSD-2-Clause
/* The fuzz targets link the parsers alone, without core/log.c: errors are kept (the last one
 * is formatted, so format bugs still show under the sanitizers) but never printed, so that
 * libFuzzer's and the sanitizers' reports are all that reaches stderr. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/ebee.h"

static char last[512];

void ebee_log(enum ebee_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last, sizeof(last), fmt, ap);
	va_end(ap);
}

const char *ebee_last_error(void) { return last; }
int ebee_verbosity(void) { return 0; }
bool ebee_log_libbpf_quiet(bool quiet) { return quiet; }
void ebee_log_init(const struct ebee_ctx *ctx) { (void)ctx; }
void ebee_log_prefix(const char *prefix) { (void)prefix; }

/* core/log.c's clock helpers, weak: a target that wants its own clock defines them */
__attribute__((weak)) uint64_t ebee_ktime_to_real(uint64_t ktime_ns) { return ktime_ns; }
__attribute__((weak)) const char *ebee_fmt_time(uint64_t real_ns, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", (unsigned long long)real_ns);
	return buf;
}
