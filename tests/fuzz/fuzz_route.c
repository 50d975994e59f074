// SPDX-License-Identifier: BSD-2-Clause
/* ebee http's route normaliser and guard on paths clients send (any bytes, any length, as
 * URL.Path arrives cut to HTTP_PATH_MAX or whole), and the histogram on durations taken from
 * the same input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http/hist.h"
#include "http/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hist h;
	struct route_set s;
	char out[ROUTE_MAX];
	size_t n;

	for (int collapse = 0; collapse < 2; collapse++) {
		n = route_normalise((const char *)data, size, collapse, out);
		if (n >= ROUTE_MAX || strlen(out) != n || out[0] != '/')
			abort();
	}
	if (route_set_init(&s, 4))
		return 0;
	for (size_t i = 0; i + 1 < size && i < 64; i++) {
		route_normalise((const char *)data + i, size - i, 1, out);
		if (route_intern(&s, out) > 4)
			abort();
	}
	route_set_free(&s);
	for (size_t i = 0; i + 8 <= size && i < 256; i += 8) {
		uint64_t v;

		memcpy(&v, data + i, 8);
		hist_add(&h, v);
	}
	if (h.n && hist_quantile(&h, 0.99) > h.max_ns)
		abort();
	return 0;
}
