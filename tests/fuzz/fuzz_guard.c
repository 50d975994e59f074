// SPDX-License-Identifier: BSD-2-Clause
/* Falco rule files as ebee guard loads them: YAML, items, conditions (tokenizer, parser,
 * macros, lists, exceptions), outputs; every rule that compiles is then evaluated on a
 * synthetic open event with a small process tree, so the evaluator is fuzzed too, alone and
 * with the checks rules share memoised (which must not change a result). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "guard/fields.h"
#include "guard/gevent.h"
#include "guard/rules.h"

/* core/log.c's clock helpers, which the fuzz build does not link */
uint64_t ebee_ktime_to_real(uint64_t ktime_ns) { return ktime_ns; }
const char *ebee_fmt_time(uint64_t real_ns, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", (unsigned long long)real_ns);
	return buf;
}

static struct proc tree[2];

static const struct proc *anc(void *arg, uint32_t pid, int n)
{
	return n >= 0 && n < 2 ? &tree[n] : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct guard_procs procs = { anc, NULL, NULL };
	char err[512];
	if (!tree[0].pid) {
		tree[0] = (struct proc){ .pid = 42, .ppid = 1, .cmdline_len = 10,
					 .cmdline = "bash\0-c\0x\0", .exe = "/usr/bin/bash",
					 .cwd = "", .cgroup = "" };
		strcpy(tree[0].comm, "bash");
		strcpy(tree[0].container_id, "host");
		tree[1] = (struct proc){ .pid = 1, .exe = "", .cmdline = "", .cwd = "", .cgroup = "" };
		strcpy(tree[1].comm, "systemd");
	}
	struct guard_ruleset *rs = guard_rules_load_mem("fuzz.yaml", (const char *)data, size,
							&guard_fields, err, sizeof(err));
	if (!rs)
		return 0;
	struct ebee_event_hdr h = { .pid = 0, .tid = 0, .type = EV_OPEN, .comm = "bash" };
	struct gevent ev = { .hdr = &h, .procs = &procs, .sc = guard_evtype_index("openat"),
			     .num = 1, .res = 3, .flags = O_WRONLY | O_TRUNC, .path = "/etc/shadow",
			     .path_raw = "shadow", .typechar = 'f', .extra_done = true };
	/* with the checks rules share evaluated once (cond_eval_memo): the same results */
	struct cond_memo m;
	cond_memo_init(&m, rs->share);
	cond_memo_next(&m);
	for (int i = 0; i < rs->nrules; i++)
		if (rs->rules[i]->cond &&
		    cond_eval(rs->rules[i]->cond, &ev) != cond_eval_memo(rs->rules[i]->cond, &ev, &m))
			__builtin_trap();
	cond_memo_fini(&m);
	guard_rules_free(rs);
	return 0;
}
