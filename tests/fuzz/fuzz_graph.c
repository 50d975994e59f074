// SPDX-License-Identifier: BSD-2-Clause
/* The saved-graph loader (ebee graph query/export/show FILE): any bytes, with and without the
 * checksum check (without it the fuzzer reaches the record parser itself); a graph that loads
 * is then queried and exported, so that whatever the parser accepts is safe to walk. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/ebee.h"
#include "graph/graph.h"

/* log.c's clock helpers, which the fuzz build does not link: fixed values */
uint64_t ebee_now_ns(void) { return 1; }
uint64_t ebee_ktime_to_real(uint64_t k) { return k + 1700000000000000000ull; }
const char *ebee_fmt_time(uint64_t real_ns, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", (unsigned long long)real_ns);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const queries[] = {
		"lineage 1", "who-wrote /tmp/x", "fanout --min 1", "top-talkers --top 3",
		"path n0 n1", "neighbours n0", "exec-dropped",
	};
	char err[256];
	FILE *null = fopen("/dev/null", "w");

	for (int sum = 0; sum < 2; sum++) {
		struct graph *g = graph_load_buf(data, size, sum, err, sizeof(err));

		if (!g)
			continue;
		for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
			graph_query(g, queries[i], null, i & 1);
		for (int f = GF_JSON; f <= GF_GRAPHML; f++)
			graph_export(g, null, f);
		for (uint32_t i = 0; i < graph_nalerts(g); i++) {
			char id[16];

			snprintf(id, sizeof(id), "g%u", graph_alert_at(g, i)->id);
			graph_show_alert(g, id, null, i & 1);
		}
		graph_free(g);
	}
	fclose(null);
	return 0;
}
