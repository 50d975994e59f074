// SPDX-License-Identifier: BSD-2-Clause
/* ebee uprobe: the command line of the uprobe collector (collect.c). */
#include "core/cmd.h"
#include "core/collector.h"
#include "core/out.h"
#include "uprobe/session.h"

extern const struct collector_desc uprobe_collector;

static const struct uprobe_cfg defaults = { .max_probes = 256 };

static int uprobe_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct uprobe_cfg cfg = *(const struct uprobe_cfg *)cfgp;
	struct out o;

	cfg.argc = argc;
	cfg.argv = argv;
	if (cfg.list)
		return up_list(&cfg, ctx);
	out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, NULL, 0);
	return collector_run_cli(&uprobe_collector, &cfg, NULL, 0, cfg.duration, ctx, &o);
}

static const struct opt uprobe_opts[] = {
	{ "pid", 'p', OPT_INT, offsetof(struct uprobe_cfg, pid), "PID",
	  "trace this process: FUNC alone names a function of its executable, TARGET may be a "
	  "library it maps; events are filtered to it", NULL, 1, 4194304 },
	{ "ret", 'r', OPT_STR, offsetof(struct uprobe_cfg, ret), "TYPE",
	  "show return values as TYPE (int, uint, ptr, str, ...) where the ARGSPEC has no "
	  "'-> TYPE'", NULL },
	{ "count", 'c', OPT_FLAG, offsetof(struct uprobe_cfg, count), NULL,
	  "count calls and total latency per function in the kernel, print at exit", NULL },
	{ "hist", 'H', OPT_FLAG, offsetof(struct uprobe_cfg, hist), NULL,
	  "like --count, with a log2 latency histogram per function", NULL },
	{ "list", 'l', OPT_FLAG, offsetof(struct uprobe_cfg, list), NULL,
	  "list the functions of TARGET that can be probed (optionally matching PATTERN)", NULL },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct uprobe_cfg, duration), "SECONDS",
	  "stop after this long", NULL, 0, 1e9 },
	{ "deny", 0, OPT_LIST, offsetof(struct uprobe_cfg, deny), "PATTERN",
	  "never probe functions (or, with a '/', binaries) matching PATTERN, besides the built-in "
	  "list (Go runtime stack switching, the dynamic loader)", NULL },
	{ "max-probes", 0, OPT_UINT, offsetof(struct uprobe_cfg, max_probes), "N",
	  "refuse runs needing more probe sites (each Go RET is one)", "256", 1, 4096 },
	OPT_END,
};

static const struct opt_doc uprobe_doc = {
	.synopsis = "[OPTIONS] TARGET:FUNC [ARGSPEC] [TARGET:FUNC [ARGSPEC]...]\n"
		    "       ebee uprobe -p PID FUNC [ARGSPEC]...\n"
		    "       ebee uprobe --list TARGET [PATTERN]\n"
		    "       ebee uprobe --list -p PID [PATTERN]",
	.description =
		"Shows the arguments, return value and latency of every call of FUNC in a running\n"
		"C or Go program, without changing or restarting it. TARGET is a binary path, a\n"
		"library name (libc), or empty with -p (the process's executable).\n"
		"\n"
		"ARGSPEC names and types the arguments in order, and the return value after '->':\n"
		"'input:str, n:int, buf:bytes[64], p:ptr -> int'. Types: int uint long ulong\n"
		"int8..int64 uint8..uint64 char bool ptr hex str str[N] bytes[N]; '_' skips an\n"
		"argument. C arguments come from the System V registers, returns from a\n"
		"uretprobe. Go (1.17+, detected from .go.buildinfo) uses the register ABI: a\n"
		"string takes two registers, a slice three; returns and latency come from probes\n"
		"on every RET instruction (never uretprobes, which crash Go programs when stacks\n"
		"move); the entry probe sits on the stack-check prologue's jump and ignores the\n"
		"pass that grows the stack; entries and returns are paired by goroutine. Stripped\n"
		"Go binaries are read from .gopclntab.",
	.examples =
		"  ebee uprobe ./server:main.process 'input:str -> int'\n"
		"  ebee uprobe -p 1234 main.process 'input:str' --hist\n"
		"  ebee uprobe -p 1234 libc:atoi 's:str' --ret int\n"
		"  ebee uprobe --list ./server 'main.*'",
};

const struct ebee_cmd uprobe_cmd = {
	.name = "uprobe",
	.summary = "arguments, returns and latency of functions in running C and Go programs",
	.req = REQ_BPF,
	.run = uprobe_run,
	.opts = uprobe_opts,
	.cfg_size = sizeof(struct uprobe_cfg),
	.cfg_default = &defaults,
	.doc = &uprobe_doc,
	.min_pos = 0,
	.max_pos = -1,
};
