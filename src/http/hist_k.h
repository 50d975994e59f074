/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* The bucket functions of ebee http's histograms, shared by the kernel side (which aggregates
 * --summary and the daemon's metrics per cell, http.bpf.c) and user space (hist.c), so that a
 * duration lands in the same bucket on both sides. No builtins: BPF has no count-leading-zeros. */
#ifndef EBEE_HTTP_HIST_K_H
#define EBEE_HTTP_HIST_K_H

#define HIST_SUB_BITS 3
#define HIST_SUB (1 << HIST_SUB_BITS)
/* the kernel's cells stop at 2^42 ns (73 minutes): longer requests share the last bucket (the
 * max stays exact) */
#define HIST_KNB ((42 - HIST_SUB_BITS + 1) * HIST_SUB)

/* Log-linear: the first 16 values exact, then 8 linear sub-buckets per power of two. */
static __always_inline int hist_kbucket(__u64 v)
{
	__u64 x = v;
	int e = 0;

	if (v < 2 * HIST_SUB)
		return (int)v;
	if (x >> 32) { e += 32; x >>= 32; }
	if (x >> 16) { e += 16; x >>= 16; }
	if (x >> 8) { e += 8; x >>= 8; }
	if (x >> 4) { e += 4; x >>= 4; }
	if (x >> 2) { e += 2; x >>= 2; }
	if (x >> 1) { e += 1; }
	/* v in [2^e, 2^(e+1)), e >= 4: groups of HIST_SUB per power, after the 16 exact ones */
	return (e - HIST_SUB_BITS + 1) * HIST_SUB + (int)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* Prometheus bucket upper bounds (OpenTelemetry's defaults for http.server.request.duration:
 * 5 ms .. 10 s), in ns; +Inf is the count. */
#define HIST_PROM_N 14
#define HIST_PROM_LE_NS { 5000000ull, 10000000ull, 25000000ull, 50000000ull, 75000000ull, \
			  100000000ull, 250000000ull, 500000000ull, 750000000ull, 1000000000ull, \
			  2500000000ull, 5000000000ull, 7500000000ull, 10000000000ull }

/* One cell of the kernel's aggregation: the requests of one (side, method, route, status
 * class), per CPU; user space folds the deltas into its series (red.c). */
struct http_cell {
	__u64 n, sum_ns, max_ns;
	__u64 le[HIST_PROM_N];        /* not cumulative: [i] counts (le[i-1], le[i]] */
	__u64 b[HIST_KNB];
};

#endif
