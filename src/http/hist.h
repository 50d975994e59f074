/* SPDX-License-Identifier: BSD-2-Clause */
/* A log-linear latency histogram (HdrHistogram's idea, fixed size): 8 linear sub-buckets per
 * power of two, so a quantile read from it is within 12.5% of the true value at any scale,
 * from nanoseconds to hours, in 4 KiB and O(1) per record. Also the fixed buckets of the
 * Prometheus histogram (OpenTelemetry's default boundaries, seconds). */
#ifndef EBEE_HTTP_HIST_H
#define EBEE_HTTP_HIST_H

#include <linux/stddef.h>
#include <linux/types.h>
#include <stdint.h>

#include "http/hist_k.h"

#define HIST_NB (62 * HIST_SUB)   /* 16 exact values, then 2^4 .. 2^63 */

struct hist {
	uint64_t n, sum_ns, max_ns;
	uint64_t b[HIST_NB];
};

void hist_add(struct hist *h, uint64_t ns);
/* Adds counts of the kernel's buckets (HIST_KNB of them, the first HIST_KNB of ours): n
 * values summing to sum_ns, the largest at most max_ns. */
void hist_add_counts(struct hist *h, const __u64 *b, uint64_t n, uint64_t sum_ns,
		     uint64_t max_ns);
/* The value at quantile q (0..1): the midpoint of the bucket holding that rank (exact below
 * 16 ns; the largest is the max seen); 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);
/* Bucket index of a value and the [lo, hi] range of a bucket (for tests). */
int hist_bucket(uint64_t ns);
void hist_range(int bucket, uint64_t *lo, uint64_t *hi);

/* Prometheus bucket upper bounds in ns (le), ascending (hist_k.h); +Inf is the count. */
extern const uint64_t hist_prom_le_ns[HIST_PROM_N];
/* Index of the first boundary >= ns, HIST_PROM_N when above them all. */
int hist_prom_bucket_ns(uint64_t ns);
static inline int hist_prom_bucket(double seconds)
{
	return hist_prom_bucket_ns(seconds <= 0 ? 0 : (uint64_t)(seconds * 1e9 + 0.5));
}

#endif
