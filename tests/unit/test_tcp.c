// SPDX-License-Identifier: BSD-2-Clause
/* ebee tcp's parsers and formatters: state names, ports, CIDRs, addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "core/opts.h"
#include "tcp/parse.h"

static void test_states(void **state)
{
	assert_int_equal(tcp_state_parse("ESTABLISHED"), 1);
	assert_int_equal(tcp_state_parse("syn-sent"), 2);
	assert_int_equal(tcp_state_parse("Fin_Wait1"), 4);
	assert_int_equal(tcp_state_parse("CLOSE"), 7);
	assert_int_equal(tcp_state_parse("CLOSE_WAIT"), 8);
	assert_int_equal(tcp_state_parse("LISTEN"), 10);
	assert_int_equal(tcp_state_parse("CLOSED"), -1);
	assert_int_equal(tcp_state_parse(""), -1);
	assert_int_equal(tcp_state_parse("SYN_SENT,LISTEN"), -1);
	assert_string_equal(tcp_state_name(3), "SYN_RECV");
	assert_null(tcp_state_name(0));
	assert_null(tcp_state_name(TCP_NSTATES));
	assert_null(tcp_state_name(-1));
	/* every name round-trips, and the list names them all */
	for (int i = 1; i < TCP_NSTATES; i++) {
		assert_int_equal(tcp_state_parse(tcp_state_name(i)), i);
		assert_non_null(strstr(tcp_state_names(), tcp_state_name(i)));
	}
}

/* CIDRs parsed by the typed option, then masked as the kernel side matches them. */
static int cidr(const char *text, struct tcp_cidr *c)
{
	struct opt_cidrs l = { 0 };
	const char *why;

	if (opts_parse_cidrs(text, &l, &why) || l.n != 1)
		return -EINVAL;
	tcp_cidr_from(&l.v[0], c);
	return 0;
}

static void test_cidrs(void **state)
{
	struct tcp_cidr c;
	static const uint8_t m8[16] = { 0xff };
	static const uint8_t m20[16] = { 0xff, 0xff, 0xf0 };

	assert_int_equal(cidr("10.0.0.0/8", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_memory_equal(c.addr, "\x0a\0\0\0", 4);
	assert_memory_equal(c.mask, m8, 16);
	assert_int_equal(cidr("10.1.2.3/8", &c), -EINVAL);   /* host bits: a typo, said so */
	assert_int_equal(cidr("172.16.240.0/20", &c), 0);
	assert_memory_equal(c.addr, "\xac\x10\xf0\x00", 4);
	assert_memory_equal(c.mask, m20, 16);
	assert_int_equal(cidr("127.0.0.1", &c), 0);   /* a host: /32 */
	assert_memory_equal(c.addr, "\x7f\0\0\x01", 4);
	assert_memory_equal(c.mask, "\xff\xff\xff\xff\0\0\0\0", 8);
	assert_int_equal(cidr("0.0.0.0/0", &c), 0);
	assert_memory_equal(c.mask, "\0\0\0\0", 4);
	assert_int_equal(cidr("::1", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.addr[15], 1);
	assert_int_equal(c.mask[15], 0xff);
	assert_int_equal(cidr("2001:db8::/33", &c), 0);
	assert_memory_equal(c.mask, "\xff\xff\xff\xff\x80\0", 6);
	assert_int_equal(c.addr[15], 0);

	assert_int_equal(cidr("10.0.0.0/33", &c), -EINVAL);
	assert_int_equal(cidr("::/129", &c), -EINVAL);
	assert_int_equal(cidr("10.0.0.0/", &c), -EINVAL);
	assert_int_equal(cidr("10.0.0/8", &c), -EINVAL);
	assert_int_equal(cidr("example.com", &c), -EINVAL);
}

static void test_format(void **state)
{
	uint8_t a[16] = { 127, 0, 0, 1 };
	uint8_t b[16] = { 0 };
	char buf[64];

	b[15] = 1;
	assert_string_equal(tcp_addr_fmt(AF_INET, a, buf, sizeof(buf)), "127.0.0.1");
	assert_string_equal(tcp_addr_fmt(AF_INET6, b, buf, sizeof(buf)), "::1");
	assert_string_equal(tcp_first_name(TCP_FIRST_LOCAL), "local");
	assert_string_equal(tcp_first_name(TCP_FIRST_REMOTE), "remote");
	assert_string_equal(tcp_first_name(TCP_FIRST_NONE), "-");
	assert_string_equal(tcp_first_name(99), "-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_cidrs),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests_name("tcp", tests, NULL, NULL);
}
