// SPDX-License-Identifier: BSD-2-Clause
/* Log-linear histogram of ebee http. */
#include "http/hist.h"

const uint64_t hist_prom_le_ns[HIST_PROM_N] = HIST_PROM_LE_NS;

int hist_bucket(uint64_t v)
{
	return hist_kbucket(v);   /* the kernel's function: the same bucket on both sides */
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

void hist_add_counts(struct hist *h, const __u64 *b, uint64_t n, uint64_t sum_ns,
		     uint64_t max_ns)
{
	for (int i = 0; i < HIST_KNB && i < HIST_NB; i++)
		h->b[i] += b[i];
	h->n += n;
	h->sum_ns += sum_ns;
	if (max_ns > h->max_ns)
		h->max_ns = max_ns;
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

int hist_prom_bucket_ns(uint64_t ns)
{
	for (int i = 0; i < HIST_PROM_N; i++)
		if (ns <= hist_prom_le_ns[i])
			return i;
	return HIST_PROM_N;
}
