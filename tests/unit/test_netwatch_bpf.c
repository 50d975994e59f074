// SPDX-License-Identifier: BSD-2-Clause
/* netwatch's TC program on crafted packets through BPF_PROG_TEST_RUN: VLAN and QinQ tags, IPv6
 * extension headers, fragments, truncated headers, non-IP frames, the --port filter, and that
 * every verdict is TC_ACT_UNSPEC (never drop). Skips when BPF programs cannot be loaded. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "netwatch/netwatch.h"
#include "netwatch/netwatch.skel.h"

struct pkt {
	unsigned char b[256];
	size_t n;
};

static void put(struct pkt *p, const void *d, size_t n)
{
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

static void put16(struct pkt *p, uint16_t v)
{
	v = htons(v);
	put(p, &v, 2);
}

static void eth(struct pkt *p, int vlans, uint16_t type)
{
	static const unsigned char macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	p->n = 0;
	put(p, macs, 12);
	if (vlans == 2) {
		put16(p, 0x88a8);
		put16(p, 100);
	}
	if (vlans >= 1) {
		put16(p, 0x8100);
		put16(p, 200);
	}
	put16(p, type);
}

static void ipv4_udp(struct pkt *p, const char *src, uint16_t dport, uint16_t frag, int payload)
{
	unsigned char ip[20] = { 0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17 };
	struct in_addr a;

	ip[2] = (20 + 8 + payload) >> 8, ip[3] = (20 + 8 + payload) & 0xff;
	ip[6] = frag >> 8, ip[7] = frag & 0xff;
	inet_pton(AF_INET, src, &a);
	memcpy(ip + 12, &a, 4);
	inet_pton(AF_INET, "192.0.2.1", &a);
	memcpy(ip + 16, &a, 4);
	put(p, ip, 20);
	put16(p, 40000);
	put16(p, dport);
	put16(p, 8 + payload);
	put16(p, 0);
	for (int i = 0; i < payload; i++)
		put(p, "x", 1);
}

/* IPv6 with a hop-by-hop header and a fragment header (first fragment) before TCP. */
static void ipv6_ext_tcp(struct pkt *p, const char *src, uint16_t dport)
{
	unsigned char ip[40] = { 0x60 }, hbh[8] = { 44, 0 }, frag[8] = { 6, 0, 0, 0 }, tcp[20] = { 0 };

	ip[4] = 0, ip[5] = 8 + 8 + 20, ip[6] = 0 /* hop-by-hop */, ip[7] = 64;
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, "2001:db8::1", ip + 24);
	put(p, ip, 40);
	put(p, hbh, 8);
	put(p, frag, 8);
	tcp[2] = dport >> 8, tcp[3] = dport & 0xff, tcp[12] = 5 << 4;
	put(p, tcp, 20);
}

static struct netwatch_bpf *skel;
static struct netwatch_bpf *skel_port;

static int run(struct netwatch_bpf *s, struct pkt *p)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->n, .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(s->progs.ebee_nw_ingress), &o);

	assert_int_equal(err, 0);
	return (int)o.retval;
}

static int lookup(struct netwatch_bpf *s, const char *addr, struct nw_val *v)
{
	struct nw_key k = {};

	if (strchr(addr, ':')) {
		k.family = NW_INET6;
		inet_pton(AF_INET6, addr, k.addr);
	} else {
		k.family = NW_INET;
		inet_pton(AF_INET, addr, k.addr);
	}
	return bpf_map_lookup_elem(bpf_map__fd(s->maps.nw_sources), &k, v) ? -errno : 0;
}

static uint64_t stat(struct netwatch_bpf *s, int idx)
{
	int ncpu = libbpf_num_possible_cpus();
	struct nw_counters vals[ncpu];
	uint64_t sum = 0;
	__u32 k = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(s->maps.nw_stats), &k, vals))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += vals[i].c[idx];
	return sum;
}

static int setup(void **state)
{
	skel = netwatch_bpf__open_and_load();
	skel_port = netwatch_bpf__open();
	if (skel_port) {
		skel_port->rodata->port_filter = 1;
		skel_port->rodata->port_set[443 >> 6] |= 1ULL << (443 & 63);
		if (netwatch_bpf__load(skel_port)) {
			netwatch_bpf__destroy(skel_port);
			skel_port = NULL;
		}
	}
	return 0;
}

static int teardown(void **state)
{
	netwatch_bpf__destroy(skel);
	netwatch_bpf__destroy(skel_port);
	return 0;
}

static void test_vlan_and_fragments(void **state)
{
	struct nw_val v;
	struct pkt p;

	if (!skel)
		skip();
	for (int vlans = 0; vlans <= 2; vlans++) {
		eth(&p, vlans, 0x0800);
		ipv4_udp(&p, "198.51.100.7", 53, 0, 10);
		assert_int_equal(run(skel, &p), -1);     /* TC_ACT_UNSPEC: never a drop */
	}
	assert_int_equal(lookup(skel, "198.51.100.7", &v), 0);
	assert_int_equal(v.packets, 3);
	assert_int_equal(v.bytes, (14 + 28 + 10) * 3 + 4 + 8);
	assert_int_equal(v.ports[0].port, 53);
	assert_int_equal(v.ports[0].proto, 17);
	assert_int_equal(v.ports[0].packets, 3);
	assert_true(v.first_ns > 0 && v.last_ns >= v.first_ns);

	/* A non-first fragment is counted for its source but has no port. */
	eth(&p, 0, 0x0800);
	ipv4_udp(&p, "198.51.100.8", 9999, 185, 0);
	run(skel, &p);
	assert_int_equal(lookup(skel, "198.51.100.8", &v), 0);
	assert_int_equal(v.packets, 1);
	assert_int_equal(v.ports[0].port, 0);
}

static void test_ipv6_extension_headers(void **state)
{
	struct nw_val v;
	struct pkt p;

	if (!skel)
		skip();
	eth(&p, 1, 0x86dd);
	ipv6_ext_tcp(&p, "2001:db8:5::9", 8443);
	assert_int_equal(run(skel, &p), -1);
	assert_int_equal(lookup(skel, "2001:db8:5::9", &v), 0);
	assert_int_equal(v.packets, 1);
	assert_int_equal(v.ports[0].port, 8443);
	assert_int_equal(v.ports[0].proto, 6);
}

static void send_port(const char *src, int port, int times)
{
	struct pkt p;

	while (times--) {
		eth(&p, 0, 0x0800);
		ipv4_udp(&p, src, port, 0, 0);
		run(skel, &p);
	}
}

static void test_top_ports(void **state)
{
	struct nw_val v;

	if (!skel)
		skip();
	/* Seven ports once each: the last three take over the slots of count-1 ports. */
	for (int port = 1; port <= NW_PORT_SLOTS + 3; port++)
		send_port("198.51.100.9", port, 1);
	assert_int_equal(lookup(skel, "198.51.100.9", &v), 0);
	assert_int_equal(v.port_takeovers, 3);
	assert_int_equal(v.packets, 7);
	/* A scan of four ports first, then the port that matters: it still gets a slot, and
	 * its count is exact but for what it inherited (1). */
	for (int port = 1; port <= NW_PORT_SLOTS; port++)
		send_port("198.51.100.11", port, 1);
	send_port("198.51.100.11", 443, 50);
	send_port("198.51.100.11", 2, 3);
	assert_int_equal(lookup(skel, "198.51.100.11", &v), 0);
	for (int i = 0; i < NW_PORT_SLOTS; i++) {
		if (v.ports[i].port == 443)
			assert_int_equal(v.ports[i].packets, 51);
		if (v.ports[i].port == 2)
			assert_int_equal(v.ports[i].packets, 4);
	}
	assert_true(v.ports[0].port == 443 || v.ports[1].port == 443 || v.ports[2].port == 443 ||
		    v.ports[3].port == 443);
}

static void test_not_ip_and_truncated(void **state)
{
	uint64_t notip, trunc;
	struct pkt p;

	if (!skel)
		skip();
	notip = stat(skel, NW_NOT_IP);
	trunc = stat(skel, NW_TRUNCATED);
	eth(&p, 0, 0x0806);                          /* ARP */
	put(&p, "\0\1\10\0\6\4\0\1", 8);
	while (p.n < 60)
		put(&p, "", 1);
	assert_int_equal(run(skel, &p), -1);
	assert_int_equal(stat(skel, NW_NOT_IP), notip + 1);

	eth(&p, 0, 0x0800);                          /* UDP header cut short */
	ipv4_udp(&p, "198.51.100.10", 53, 0, 0);
	p.n -= 4;
	assert_int_equal(run(skel, &p), -1);
	assert_int_equal(stat(skel, NW_TRUNCATED), trunc + 1);
}

static void test_port_filter(void **state)
{
	struct nw_val v;
	struct pkt p;

	if (!skel_port)
		skip();
	eth(&p, 0, 0x0800);
	ipv4_udp(&p, "203.0.113.5", 443, 0, 0);
	assert_int_equal(run(skel_port, &p), -1);
	eth(&p, 0, 0x0800);
	ipv4_udp(&p, "203.0.113.6", 80, 0, 0);
	assert_int_equal(run(skel_port, &p), -1);
	assert_int_equal(lookup(skel_port, "203.0.113.5", &v), 0);
	assert_int_equal(lookup(skel_port, "203.0.113.6", &v), -ENOENT);
	assert_int_equal(stat(skel_port, NW_FILTERED), 1);
}

struct drained {
	struct nw_key keys[256];
	int n;
};

static int on_key(void *ctx, void *data, size_t len)
{
	struct drained *d = ctx;

	assert_int_equal(len, sizeof(struct nw_key));
	if (d->n < 256)
		memcpy(&d->keys[d->n], data, sizeof(struct nw_key));
	d->n++;
	return 0;
}

/* The keys published on nw_dirty since the last drain. */
static int drain(struct ring_buffer *rb, struct drained *d)
{
	d->n = 0;
	assert_true(ring_buffer__consume(rb) >= 0);
	return d->n;
}

static void send_from(const char *src, int times)
{
	send_port(src, 53, times);
}

/* A known source publishes its key once per generation of nw_gen, a new one not at all (its
 * insert is counted in NW_NEW instead), and keys that do not fit in the ring are counted. */
static void test_dirty_once_per_generation(void **state)
{
	struct ring_buffer *rb;
	struct drained d;
	uint64_t lost;
	char a[32];
	int nsrc = 200;

	if (!skel)
		skip();
	rb = ring_buffer__new(bpf_map__fd(skel->maps.nw_dirty), on_key, &d, NULL);
	assert_non_null(rb);
	drain(rb, &d);
	skel->bss->nw_gen++;
	send_from("198.51.100.20", 3);           /* new: not published */
	assert_int_equal(drain(rb, &d), 0);
	skel->bss->nw_gen++;
	send_from("198.51.100.20", 3);           /* known, stale generation: published once */
	send_from("198.51.100.21", 1);           /* new */
	assert_int_equal(drain(rb, &d), 1);
	assert_int_equal(d.keys[0].family, NW_INET);
	assert_memory_equal(d.keys[0].addr, "\xc6\x33\x64\x14", 4);
	send_from("198.51.100.20", 2);           /* same generation: not again */
	assert_int_equal(drain(rb, &d), 0);
	skel->bss->nw_gen++;
	send_from("198.51.100.21", 1);
	send_from("198.51.100.20", 1);
	assert_int_equal(drain(rb, &d), 2);

	/* More changed sources than the ring holds (4096 bytes, 32 per record): each one is
	 * either published or counted as lost. */
	for (int i = 0; i < nsrc; i++) {
		snprintf(a, sizeof(a), "203.0.113.%d", i);
		send_from(a, 1);
	}
	drain(rb, &d);
	lost = stat(skel, NW_DIRTY_LOST);
	skel->bss->nw_gen++;
	for (int i = 0; i < nsrc; i++) {
		snprintf(a, sizeof(a), "203.0.113.%d", i);
		send_from(a, 1);
	}
	assert_true(drain(rb, &d) < nsrc);
	assert_int_equal(d.n + (stat(skel, NW_DIRTY_LOST) - lost), nsrc);
	ring_buffer__free(rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vlan_and_fragments),
		cmocka_unit_test(test_ipv6_extension_headers),
		cmocka_unit_test(test_top_ports),
		cmocka_unit_test(test_not_ip_and_truncated),
		cmocka_unit_test(test_port_filter),
		cmocka_unit_test(test_dirty_once_per_generation),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests(tests, setup, teardown);
}
