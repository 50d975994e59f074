/* SPDX-License-Identifier: BSD-2-Clause */
/* The core every feature uses: context, logging, errors, requirements. */
#ifndef EBEE_CORE_H
#define EBEE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EBEE_VERSION "0.1.0"

/* Log levels; libbpf's own messages are folded into these (log.c). */
enum ebee_level { EBEE_ERROR, EBEE_WARN, EBEE_INFO, EBEE_DEBUG };

/* Global options every command accepts (parsed by the dispatcher, not by features). */
struct ebee_ctx {
	int verbose;            /* -v: 1 info, 2 debug (libbpf debug, verifier logs) */
	bool json;              /* -j/--json: JSON lines on stdout, errors as JSON objects */
	bool quiet;             /* -q: warnings off */
	const char *cmd_path;   /* "count", "prog list", ... for messages */
};

/* Logging goes to stderr. ebee_err also keeps the message so that the dispatcher can print it
 * as {"error": ...} in JSON mode. Messages: lowercase, problem first, subject quoted, cause
 * last, no trailing period or newline. */
void ebee_log_init(const struct ebee_ctx *ctx);
void ebee_log(enum ebee_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ebee_err(...)   ebee_log(EBEE_ERROR, __VA_ARGS__)
#define ebee_warn(...)  ebee_log(EBEE_WARN, __VA_ARGS__)
#define ebee_info(...)  ebee_log(EBEE_INFO, __VA_ARGS__)
#define ebee_dbg(...)   ebee_log(EBEE_DEBUG, __VA_ARGS__)
const char *ebee_last_error(void);
/* Text put before every message of this thread until reset with NULL ("ebee.yaml:12"): where
 * in a config file the problem is, for errors its parsers print in their usual words. */
void ebee_log_prefix(const char *prefix);
int ebee_verbosity(void);
/* Silence libbpf while probing things that are expected to fail; returns the previous state. */
bool ebee_log_libbpf_quiet(bool quiet);

/* Requirements a command declares; the dispatcher checks them once (and mounts what it can). */
enum ebee_req {
	REQ_BPF     = 1 << 0,   /* CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN, memlock raised */
	REQ_BTF     = 1 << 1,   /* /sys/kernel/btf/vmlinux */
	REQ_TRACEFS = 1 << 2,   /* tracefs mounted (mounted by ebee when missing) */
	REQ_BPFFS   = 1 << 3,   /* bpffs at /sys/fs/bpf (mounted by ebee when missing) */
	REQ_NETADM  = 1 << 4,   /* CAP_NET_ADMIN */
};
int ebee_require(unsigned req);   /* 0 or -errno, having printed one error line */

/* Exit codes: 0 ok, 1 runtime failure, 2 usage error (bad option or argument). */
enum { EBEE_EXIT_OK = 0, EBEE_EXIT_FAIL = 1, EBEE_EXIT_USAGE = 2 };
/* Handlers return 0 or a negative errno; -EINVAL from a parser is a usage error. */

/* Time helpers. */
uint64_t ebee_now_ns(void);         /* CLOCK_MONOTONIC, the clock bpf_ktime_get_ns uses */
uint64_t ebee_realtime_ns(void);    /* CLOCK_REALTIME */
/* Converts a bpf_ktime_get_ns() stamp into wall-clock ns. */
uint64_t ebee_ktime_to_real(uint64_t ktime_ns);
/* Formats wall-clock ns as ISO-8601 UTC with microseconds into buf (>= 32 bytes). */
const char *ebee_fmt_time(uint64_t real_ns, char *buf, size_t len);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
