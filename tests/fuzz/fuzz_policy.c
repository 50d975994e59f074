// SPDX-License-Identifier: BSD-2-Clause
/* NetworkPolicy YAML as `ebee policy` reads it: parsed against a fixed workloads file (or, when
 * the input starts with "#workloads", parsed as the workloads file itself), then checked,
 * compiled into the kernel's tables and asked about a few flows both ways. */
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include "policy/model.h"

static const char WORKLOADS[] =
	"namespaces: [{name: prod, labels: {team: a}}, {name: dev}]\n"
	"workloads:\n"
	"  - {name: web, namespace: prod, labels: {app: web}, cgroup: x, addresses: [10.0.0.1, '::1'],"
	" ports: {http: 8080}}\n"
	"  - {name: db, namespace: dev, labels: {app: db}, netns: n, addresses: [10.1.0.1]}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol_set s = { 0 };
	struct pol_compiled c;
	bool own = size >= 10 && !memcmp(data, "#workloads", 10);
	int err;

	if (own)
		err = pol_parse_workloads(&s, "w", data, size);
	else
		err = pol_parse_workloads(&s, "w", (const unsigned char *)WORKLOADS, sizeof(WORKLOADS) - 1) ?:
		      pol_parse_policies(&s, "p", data, size);
	if (!err && !pol_check(&s) && !pol_compile(&s, &c)) {
		for (int w = 0; w < s.nwl; w++)
			for (int d = 0; d < 2; d++)
				for (int p = 0; p < s.nwl; p++) {
					const struct pol_addr *a = s.wl[p].naddrs ? &s.wl[p].addrs[0] : NULL;
					int pol, rule, why;
					bool iso;
					uint64_t m;

					why = pol_eval(&s, w, d, p, a, IPPROTO_TCP, 8080, &pol, &rule);
					m = pol_table_eval(&c, w, d, p, a, IPPROTO_TCP, 8080, &iso);
					/* the tables and the policies must agree on every input */
					if ((m != 0) != (why == POL_WHY_RULE))
						__builtin_trap();
				}
		pol_compiled_free(&c);
	}
	pol_set_free(&s);
	return 0;
}
