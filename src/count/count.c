// SPDX-License-Identifier: BSD-2-Clause
/* ebee count: the command line of the count collector (collect.c). */
#include "core/cmd.h"
#include "core/out.h"
#include "count/collect.h"

static int count_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	const struct count_cfg *cfg = cfgp;
	struct out o;

	(void)argc, (void)argv;
	out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, NULL, 0);
	return collector_run_cli(&count_collector, cfg, NULL, cfg->interval, cfg->duration, ctx, &o);
}

const struct opt count_opts[] = {
	{ "by", 'b', OPT_LIST, offsetof(struct count_cfg, by), "KEYS",
	  "count per uid, pid, comm, cgroup and/or syscall, comma-separated", "uid" },
	{ "syscall", 's', OPT_LIST, offsetof(struct count_cfg, syscalls), "NAMES",
	  "syscalls to count, as the kernel names them", "clone,clone3,fork,vfork" },
	{ "all", 'a', OPT_FLAG, offsetof(struct count_cfg, all), NULL, "count every syscall" },
	EBEE_FILTER_OPTS(struct count_cfg, filter),
	{ "interval", 'i', OPT_SECONDS, offsetof(struct count_cfg, interval), "SECONDS",
	  "print a table every SECONDS (counts of that interval); 0 prints once at the end", "0", 0, 86400 },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct count_cfg, duration), "SECONDS",
	  "stop after SECONDS; 0 runs until Ctrl-C", "0", 0, 31536000 },
	{ "top", 't', OPT_UINT, offsetof(struct count_cfg, top), "N", "rows per table, 0 for all", "20", 0, 1000000 },
	{ "max-entries", 0, OPT_UINT, offsetof(struct count_cfg, max_entries), "N",
	  "distinct keys the kernel map holds; more are counted as drops", "16384", 16, 4194304 },
	OPT_END
};

static const struct opt_doc count_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"Counts syscalls in the kernel, per key, without sending an event per syscall to user\n"
		"space: a per-CPU hash map on raw_syscalls:sys_enter (tp_btf, raw_tp or tracepoint,\n"
		"whichever this kernel allows). Filters are applied in the kernel before anything\n"
		"is counted. Counts are exact: nothing is deleted from the map while running.\n"
		"Syscall names are the kernel's (those syscount prints). A call is counted when it\n"
		"enters, so a fork is counted once, not once per returning task.",
	.examples =
		"  ebee count                          who calls clone/fork, per uid, until Ctrl-C\n"
		"  ebee count --by uid,syscall -i 1    every second, per uid and syscall\n"
		"  ebee count --all --by syscall -d 5  every syscall for 5 seconds\n"
		"  ebee count --all --by comm --cgroup /sys/fs/cgroup/unified/system.slice\n"
		"  ebee count -s openat,read --pid 1234 --json",
};

const struct ebee_cmd count_cmd = {
	.name = "count",
	.summary = "count syscalls per uid, pid, comm, cgroup or syscall, in the kernel",
	.req = REQ_BPF | REQ_BTF,
	.run = count_run,
	.opts = count_opts,
	.cfg_size = sizeof(struct count_cfg),
	.cfg_default = &count_cfg_default,
	.doc = &count_doc,
	.min_pos = 0,
	.max_pos = 0,
};
