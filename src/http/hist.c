// SPDX-License-Identifier: BSD-2-Clause
/* Log-linear histogram of ebee http. */
#include "http/hist.h"

/* OpenTelemetry's default explicit bucket boundaries for http.server.request.duration */
const double hist_prom_le[HIST_PROM_N] = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5,
					   0.75, 1, 2.5, 5, 7.5, 10 };

int hist_bucket(uint64_t v)
{
	int e;

	if (v < 2 * HIST_SUB)
		return (int)v;            /* the first 16 values each have their own bucket */
	e = 63 - __builtin_clzll(v);  /* v in [2^e, 2^(e+1)), e >= 4 */
	/* groups of HIST_SUB buckets per power of two; the group of 2^4 follows the 16 exact */
	return (e - HIST_SUB_BITS + 1) * HIST_SUB + (int)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

void hist_range(int b, uint64_t *lo, uint64_t *hi)
{
	int e, sub;

	if (b < 2 * HIST_SUB) {
		*lo = *hi = (uint64_t)b;
		return;
	}
	e = b / HIST_SUB + HIST_SUB_BITS - 1;
	sub = b % HIST_SUB;
	*lo = (1ull << e) + ((uint64_t)sub << (e - HIST_SUB_BITS));
	*hi = *lo + (1ull << (e - HIST_SUB_BITS)) - 1;
}

void hist_add(struct hist *h, uint64_t ns)
{
	int b = hist_bucket(ns);

	h->b[b < HIST_NB ? b : HIST_NB - 1]++;
	h->n++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0, lo, hi;

	if (!h->n)
		return 0;
	if (q <= 0)
		q = 0;
	rank = (uint64_t)(q * (double)h->n + 0.999999);   /* ceil, at least 1 */
	if (rank < 1)
		rank = 1;
	if (rank >= h->n)
		return h->max_ns;   /* the largest sample is known exactly */
	for (int b = 0; b < HIST_NB; b++) {
		seen += h->b[b];
		if (seen >= rank) {
			hist_range(b, &lo, &hi);
			hi = lo + (hi - lo) / 2;
			return hi > h->max_ns ? h->max_ns : hi;
		}
	}
	return h->max_ns;
}

int hist_prom_bucket(double s)
{
	for (int i = 0; i < HIST_PROM_N; i++)
		if (s <= hist_prom_le[i])
			return i;
	return HIST_PROM_N;
}
