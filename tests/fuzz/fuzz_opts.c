// SPDX-License-Identifier: BSD-2-Clause
/* The option parser, as every command uses it: the input is split into argv at NUL bytes and
 * parsed against a table with every option type; the typed parsers also get it whole. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/ebee.h"
#include "core/opts.h"

struct cfg {
	bool flag;
	const char *str;
	long long i;
	unsigned long long u, size;
	double d, secs;
	struct opt_list list;
	struct opt_ports ports;
	struct opt_cidrs cidrs;
	int mode;
};

static const char *const modes[] = { "auto", "tcx", "tc", NULL };

static const struct opt tab[] = {
	{ "flag", 'f', OPT_FLAG, offsetof(struct cfg, flag), NULL, "a flag" },
	{ "str", 's', OPT_STR, offsetof(struct cfg, str), "S", "a string" },
	{ "int", 'i', OPT_INT, offsetof(struct cfg, i), "N", "an int", NULL, -5, 5 },
	{ "uint", 'u', OPT_UINT, offsetof(struct cfg, u), "N", "a uint" },
	{ "double", 'd', OPT_DOUBLE, offsetof(struct cfg, d), "X", "a double", NULL, 0, 1 },
	{ "seconds", 'S', OPT_SECONDS, offsetof(struct cfg, secs), "T", "seconds" },
	{ "list", 'l', OPT_LIST, offsetof(struct cfg, list), "A,B", "a list" },
	{ "port", 'p', OPT_PORTS, offsetof(struct cfg, ports), "P", "ports" },
	{ "cidr", 'c', OPT_CIDRS, offsetof(struct cfg, cidrs), "C", "cidrs" },
	{ "mode", 'm', OPT_ENUM, offsetof(struct cfg, mode), "M", "a mode", .names = modes },
	{ "size", 'z', OPT_SIZE, offsetof(struct cfg, size), "B", "bytes" },
	OPT_END
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[66];
	struct ebee_ctx ctx = { .cmd_path = "fuzz" };
	struct cfg cfg = { 0 };
	struct opt_ports ports = { 0 };
	struct opt_cidrs cidrs = { 0 };
	unsigned long long sz;
	const char *why;
	int argc = 1, npos = 0;
	bool help = false;
	size_t i = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	opts_parse_ports(buf, &ports, &why);
	opts_parse_cidrs(buf, &cidrs, &why);
	opts_parse_size(buf, &sz);
	argv[0] = "fuzz";
	while (i <= size && argc < 65) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;
	opts_parse(tab, &cfg, argc, argv, &npos, &ctx, &help);
	for (int k = 0; k < cfg.ports.n; k++)
		opt_ports_has(&cfg.ports, 80);
	opts_free();
	free(buf);
	return 0;
}
