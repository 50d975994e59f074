// SPDX-License-Identifier: BSD-2-Clause
/* The typed options: ports with ranges, CIDRs, enums with "did you mean", sizes; good values
 * land in the config, bad ones give -EINVAL and one error line naming the value. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "core/ebee.h"
#include "core/opts.h"

struct tcfg {
	struct opt_ports ports;
	struct opt_cidrs cidrs;
	int mode;
	unsigned long long size, bsize;
};

static const char *const modes[] = { "auto", "tcx", "tc", NULL };
static const struct opt tab[] = {
	{ "port", 'p', OPT_PORTS, offsetof(struct tcfg, ports), "PORTS", "ports" },
	{ "cidr", 0, OPT_CIDRS, offsetof(struct tcfg, cidrs), "CIDRS", "networks" },
	{ "mode", 0, OPT_ENUM, offsetof(struct tcfg, mode), "MODE", "mode", "auto", .names = modes },
	{ "size", 0, OPT_SIZE, offsetof(struct tcfg, size), "BYTES", "size" },
	{ "bsize", 0, OPT_SIZE, offsetof(struct tcfg, bsize), "BYTES", "bounded", NULL, 4096, 1 << 20 },
	OPT_END
};

static int run(struct tcfg *c, const char *a, const char *b)
{
	char *argv[] = { "t", (char *)a, (char *)b, NULL };
	struct ebee_ctx ctx = { .cmd_path = "t", .quiet = true };
	bool help = false;
	int npos;

	memset(c, 0, sizeof(*c));
	return opts_parse(tab, c, b ? 3 : 2, argv, &npos, &ctx, &help);
}

static void bad(const char *a, const char *b, const char *msg)
{
	struct tcfg c;

	assert_int_equal(run(&c, a, b), -EINVAL);
	if (!ebee_last_error() || !strstr(ebee_last_error(), msg))
		fail_msg("%s %s: error %s, wanted %s", a, b ? b : "", ebee_last_error(), msg);
}

static void test_ports(void **state)
{
	struct tcfg c;

	assert_int_equal(run(&c, "--port=80,443,8000-8100", NULL), 0);
	assert_int_equal(c.ports.n, 3);
	assert_true(opt_ports_has(&c.ports, 80) && opt_ports_has(&c.ports, 8050) &&
		    opt_ports_has(&c.ports, 8100));
	assert_false(opt_ports_has(&c.ports, 81) || opt_ports_has(&c.ports, 8101));
	assert_int_equal(run(&c, "-p", "1-65535"), 0);
	assert_true(opt_ports_has(&c.ports, 65535));
	bad("--port=0", NULL, "bad value '0' for '--port'");
	bad("--port=65536", NULL, "expected ports");
	bad("--port=90-80", NULL, "first port is above its last");
	bad("--port=80,", NULL, "'80,'");
	bad("--port=http", NULL, "'http'");
	bad("--port=1-2-3", NULL, "'1-2-3'");
	bad("--port=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", NULL, "too many port ranges");
}

static void test_cidrs(void **state)
{
	static const uint8_t a4[4] = { 10, 1, 2, 3 }, b4[4] = { 11, 0, 0, 1 };
	uint8_t a6[16] = { 0xfd, 0, 0xeb, 0xee };
	struct tcfg c;

	assert_int_equal(run(&c, "--cidr=10.0.0.0/8,fd00:ebee::/32,192.0.2.7", NULL), 0);
	assert_int_equal(c.cidrs.n, 3);
	assert_true(opt_cidr_match(&c.cidrs.v[0], 4, a4));
	assert_false(opt_cidr_match(&c.cidrs.v[0], 4, b4));
	assert_false(opt_cidr_match(&c.cidrs.v[0], 6, a6));
	assert_true(opt_cidr_match(&c.cidrs.v[1], 6, a6));
	assert_int_equal(c.cidrs.v[2].prefix, 32);
	bad("--cidr=10.0.0.1/8", NULL, "host bits set");
	bad("--cidr=10.0.0.0/33", NULL, "bad prefix length");
	bad("--cidr=::/129", NULL, "bad prefix length");
	bad("--cidr=10.0.0.0/", NULL, "bad prefix length");
	bad("--cidr=example.com", NULL, "not an IPv4 or IPv6 address");
	bad("--cidr=10.0.0.0/8,", NULL, "empty element");
}

static void test_enum(void **state)
{
	struct tcfg c;

	assert_int_equal(run(&c, "--mode", "tc"), 0);
	assert_int_equal(c.mode, 2);
	assert_int_equal(run(&c, "--mode=tcx", NULL), 0);
	assert_int_equal(c.mode, 1);
	bad("--mode=tcc", NULL, "did you mean 'tc");
	bad("--mode=zzzzzz", NULL, "use one of auto, tcx, tc");
	bad("--mode=", NULL, "for '--mode'");
}

static void test_size(void **state)
{
	struct tcfg c;

	assert_int_equal(run(&c, "--size=4096", NULL), 0);
	assert_int_equal(c.size, 4096);
	assert_int_equal(run(&c, "--size=64K", NULL), 0);
	assert_int_equal(c.size, 65536);
	assert_int_equal(run(&c, "--size=16MiB", NULL), 0);
	assert_int_equal(c.size, 16ull << 20);
	assert_int_equal(run(&c, "--size=1G", NULL), 0);
	assert_int_equal(c.size, 1ull << 30);
	bad("--size=-1", NULL, "bad size '-1'");
	bad("--size=12X", NULL, "bad size '12X'");
	bad("--size=K", NULL, "bad size 'K'");
	bad("--size=99999999999999999999", NULL, "bad size");
	bad("--size=17179869184G", NULL, "bad size");   /* overflows 64 bits */
	bad("--bsize=1M1", NULL, "bad size");
	bad("--bsize=2M", NULL, "within the allowed range");
	assert_int_equal(run(&c, "--bsize=1M", NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_cidrs),
		cmocka_unit_test(test_enum),
		cmocka_unit_test(test_size),
	};
	struct ebee_ctx quiet = { .quiet = true };

	ebee_log_init(&quiet);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
