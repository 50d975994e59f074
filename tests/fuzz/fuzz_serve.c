// SPDX-License-Identifier: BSD-2-Clause
/* ebee serve's inputs from the network and from its config file: the router, the query and
 * Last-Event-ID parsers and the bearer check (route.c) on any method/path/arguments, and the
 * YAML config parser (config.c) on any text, against a registry of two collectors with every
 * option type (the real registry would link every feature). The input's first byte picks
 * which; the rest is split at NUL bytes into method, path, key=value pairs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/collector.h"
#include "core/ebee.h"
#include "core/opts.h"
#include "serve/config.h"
#include "serve/route.h"

struct fcfg {
	bool flag;
	const char *str;
	unsigned long long u;
	double secs;
	struct opt_list list;
	struct opt_ports ports;
	struct opt_cidrs cidrs;
};

static const struct opt fopts[] = {
	{ "flag", 'f', OPT_FLAG, offsetof(struct fcfg, flag), NULL, "a flag" },
	{ "str", 's', OPT_STR, offsetof(struct fcfg, str), "S", "a string" },
	{ "uint", 'u', OPT_UINT, offsetof(struct fcfg, u), "N", "a uint", NULL, 1, 100 },
	{ "interval", 0, OPT_SECONDS, offsetof(struct fcfg, secs), "T", "seconds", NULL, 0.05, 10 },
	{ "list", 'l', OPT_LIST, offsetof(struct fcfg, list), "L", "a list" },
	{ "port", 'p', OPT_PORTS, offsetof(struct fcfg, ports), "P", "ports" },
	{ "addr", 'a', OPT_CIDRS, offsetof(struct fcfg, cidrs), "A", "cidrs" },
	OPT_END,
};

static int nop_open(struct collector *c) { (void)c; return 0; }
static int nop_start(struct collector *c, struct ebee_loop *l) { (void)c; (void)l; return 0; }
static const struct fcfg fdef = { .u = 5 };
static const struct collector_desc tcp_d = { .name = "tcp", .cfg_size = sizeof(struct fcfg),
	.cfg_default = &fdef, .open = nop_open, .start = nop_start, .opts = fopts };
static const struct collector_desc prog_d = { .name = "prog", .open = nop_open, .start = nop_start };
const struct collector_desc *const ebee_collectors[] = { &tcp_d, &prog_d, NULL };

const struct collector_desc *collector_find(const char *name)
{
	for (const struct collector_desc *const *d = ebee_collectors; *d; d++)
		if (!strcmp((*d)->name, name))
			return *d;
	return NULL;
}

static void fuzz_route(const char *s, size_t n)
{
	const char *parts[16];
	int np = 0;
	struct route r;

	for (size_t i = 0; i < n && np < 16; i += strlen(s + i) + 1)
		parts[np++] = s + i;
	route_path(&r, np > 0 ? parts[0] : NULL, np > 1 ? parts[1] : NULL);
	for (int i = 2; i < np; i++) {
		char kv[256];
		char *eq;

		snprintf(kv, sizeof(kv), "%s", parts[i]);
		eq = strchr(kv, '=');
		if (eq)
			*eq++ = 0;
		if (route_arg(&r, kv, eq) && !r.err)
			abort();
	}
	if (r.kind == R_API && (!r.name[0] || strlen(r.name) >= ROUTE_NAME))
		abort();
	if (r.ntypes > ROUTE_MAX_TYPES || r.top < -1 || r.top > 1000000)
		abort();
	if (np > 2)
		route_last_id(&r, parts[2]);
	if (route_auth(np > 1 ? parts[1] : NULL, "0123456789abcdef") &&
	    strcmp(parts[1] + strspn(parts[1] + 7, " ") + 7, "0123456789abcdef"))
		abort();
	(void)route_prio_name(route_prio(np > 0 ? parts[0] : NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	struct serve_conf c;

	if (size < 1 || size > 65536)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	if (data[0] & 1) {
		fuzz_route(s, size - 1);
	} else {
		serve_conf_parse("fuzz.yaml", s, size - 1, &c);
		for (int i = 0; i < c.ncols; i++)
			if (!c.cols[i].d || c.cols[i].nargs > SERVE_MAX_ARGS)
				abort();
		serve_conf_free(&c);
		opts_free();
	}
	free(s);
	return 0;
}
