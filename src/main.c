/* SPDX-License-Identifier: BSD-2-Clause */
/* ebee: zero-instrumentation eBPF observability. main() is the table of subcommands; the
 * dispatcher in core/cmd.c does the rest. */
#include <malloc.h>

#include "commands.h"

static const struct ebee_cmd *const commands[] = {
	&count_cmd,
	&doctor_cmd,
	&tcp_cmd,
	&prog_cmd,
	&top_cmd,
	&bench_cmd,
	&netwatch_cmd,
	&policy_cmd,
	&cleanup_cmd,
	&geoip_cmd,
	&serve_cmd,
	&uprobe_cmd,
	&http_cmd,
	&exec_cmd,
	&open_cmd,
	&events_cmd,
	&graph_cmd,
	&guard_cmd,
	NULL,
};

int main(int argc, char **argv)
{
	/* glibc raises its mmap threshold to the size of any mmapped block that is freed, and
	 * loading a BPF object frees several (libbpf's copy and index of the kernel's BTF, MBs),
	 * so what libbpf allocates next goes on the heap and stays resident once freed: 5-6 MB of
	 * every CLI command's RSS, added to its ring's. A fixed threshold (glibc's default) gives
	 * blocks above 128 KB back at free. Nothing per event allocates that much (bench/memory). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	return cmd_dispatch(commands, argc - 1, argv + 1, "ebee");
}
