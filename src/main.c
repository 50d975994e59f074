/* SPDX-License-Identifier: BSD-2-Clause */
/* ebee: zero-instrumentation eBPF observability. main() is the table of subcommands; the
 * dispatcher in core/cmd.c does the rest. */
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
	return cmd_dispatch(commands, argc - 1, argv + 1, "ebee");
}
