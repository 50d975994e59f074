// SPDX-License-Identifier: BSD-2-Clause
/* policy.bpf.c on crafted packets through BPF_PROG_TEST_RUN (no network): the compiled tables
 * loaded as `apply` loads them, then TCP/UDP packets through the veth programs. Checks the
 * verdicts, that a reply of an allowed connection passes an isolated direction, that a dropped
 * flow stays dropped without new events, and the events' aggregation. Skips when BPF programs
 * cannot be loaded. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "policy/enforce.h"
#include "policy/policy.skel.h"

#define PASS (-1)
#define DROP 2

static const char WORKLOADS[] =
	"workloads:\n"
	"  - {name: web, labels: {app: web}, netns: a, addresses: [10.9.0.1]}\n"
	"  - {name: db, labels: {app: db}, netns: b, addresses: [10.9.0.2]}\n"
	"  - {name: cli, labels: {app: cli}, netns: c, addresses: [10.9.0.3]}\n";
static const char POLICY[] =
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web}\n"
	"spec:\n  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress, Egress]\n"
	"  ingress: [{from: [{podSelector: {matchLabels: {app: db}}}], ports: [{port: 80}]}]\n";

static struct policy_bpf *skel;
static struct pol_set set;
static struct pol_compiled comp;
static int nevents;
static struct pol_event last;

static int on_event(void *ctx, void *data, size_t len)
{
	nevents++;
	memcpy(&last, data, sizeof(last));
	return 0;
}

/* Ethernet + IPv4 + TCP (flags) or UDP. */
static int run(struct bpf_program *prog, const char *src, const char *dst, int proto,
	       uint16_t sport, uint16_t dport, uint8_t flags)
{
	unsigned char b[14 + 20 + 20] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00 };
	unsigned char *ip = b + 14, *l4 = ip + 20;
	size_t n = 14 + 20 + (proto == 6 ? 20 : 8);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b, .data_size_in = n, .repeat = 1);

	ip[0] = 0x45, ip[3] = n - 14, ip[8] = 64, ip[9] = proto;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	l4[0] = sport >> 8, l4[1] = sport & 0xff, l4[2] = dport >> 8, l4[3] = dport & 0xff;
	if (proto == 6)
		l4[12] = 5 << 4, l4[13] = flags;
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog), &o), 0);
	return (int)o.retval;
}

static int setup(void **state)
{
	if (pol_parse_workloads(&set, "w", (const unsigned char *)WORKLOADS, sizeof(WORKLOADS) - 1) ||
	    pol_parse_policies(&set, "p", (const unsigned char *)POLICY, sizeof(POLICY) - 1) ||
	    pol_compile(&set, &comp))
		return -1;
	skel = policy_bpf__open_and_load();
	if (skel && pol_fill_maps(skel, &set, &comp, NULL)) {
		policy_bpf__destroy(skel);
		skel = NULL;
	}
	return 0;
}

static int teardown(void **state)
{
	policy_bpf__destroy(skel);
	pol_compiled_free(&comp);
	pol_set_free(&set);
	return 0;
}

static int drain(void)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.pol_events), on_event, NULL, NULL);

	nevents = 0;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return nevents;
}

static void test_verdicts_replies_aggregation(void **state)
{
	struct bpf_program *to, *from;

	if (!skel)
		skip();
	/* "to" = a packet entering the workload whose address is the destination */
	to = skel->progs.ebee_pol_to;
	from = skel->progs.ebee_pol_from;
	drain();
	/* db -> web:80 TCP allowed; cli -> web:80 and db -> web:81 not; UDP 80 not */
	assert_int_equal(run(to, "10.9.0.2", "10.9.0.1", 6, 40000, 80, 0x02), PASS);
	assert_int_equal(drain(), 1);
	assert_int_equal(last.verdict, POL_FORWARDED);
	assert_int_equal(last.why, POL_WHY_RULE);
	assert_int_equal(last.rules, 1);
	assert_int_equal(last.report, POL_REP_NEW);
	assert_int_equal(last.peer_wl, 1);
	assert_int_equal(run(to, "10.9.0.3", "10.9.0.1", 6, 40001, 80, 0x02), DROP);
	assert_int_equal(run(to, "10.9.0.2", "10.9.0.1", 6, 40002, 81, 0x02), DROP);
	assert_int_equal(run(to, "10.9.0.2", "10.9.0.1", 17, 40003, 80, 0), DROP);
	assert_int_equal(drain(), 3);
	assert_int_equal(last.verdict, POL_DROPPED);
	assert_int_equal(last.why, POL_WHY_NO_RULE);
	/* the reply web -> db leaves web (egress isolated, no egress rule): passes */
	assert_int_equal(run(from, "10.9.0.1", "10.9.0.2", 6, 80, 40000, 0x12), PASS);
	/* ...but web opening a connection to db does not */
	assert_int_equal(run(from, "10.9.0.1", "10.9.0.2", 6, 40010, 80, 0x02), DROP);
	assert_int_equal(drain(), 1);   /* the reply is not a new flow and SYN was seen */
	/* a dropped flow's retransmissions: dropped, no new event */
	assert_int_equal(run(to, "10.9.0.3", "10.9.0.1", 6, 40001, 80, 0x02), DROP);
	/* 100 packets of the allowed flow: no event until FIN */
	for (int i = 0; i < 100; i++)
		assert_int_equal(run(to, "10.9.0.2", "10.9.0.1", 6, 40000, 80, 0x10), PASS);
	assert_int_equal(drain(), 0);
	assert_int_equal(run(to, "10.9.0.2", "10.9.0.1", 6, 40000, 80, 0x11), PASS);
	assert_int_equal(drain(), 1);
	assert_int_equal(last.report, POL_REP_FLAGS);
	/* since the flow's previous event: the reply, 100 packets and the FIN (both directions
	 * of a connection share the workload's entry) */
	assert_int_equal(last.pkts, 102);
	/* not a workload's address: not policed, no event */
	assert_int_equal(run(to, "10.9.0.2", "10.9.9.9", 6, 40000, 80, 0x02), PASS);
	assert_int_equal(drain(), 0);
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Connection ageing with short timeouts: closed (FIN both ways, RST) and idle flows leave the
 * table, in the kernel's view at once and by the user-space sweep; a SYN on a closed entry is
 * a new flow. Waits are generous multiples of the timeouts: the kernel decides by its own
 * clock, so a slow machine only makes them longer, never the checks wrong. */
static void test_conntrack_ageing(void **state)
{
	struct policy_bpf *saved = skel, *s;
	struct pol_run r = { .to = { .tcp_ns = 3600ULL * 1000000000ULL, .other_ns = 300000000ULL,
				     .close_ns = 100000000ULL } };
	struct bpf_program *to, *from;

	if (!saved)
		skip();
	s = policy_bpf__open();
	assert_non_null(s);
	s->rodata->timeouts = r.to;
	assert_int_equal(policy_bpf__load(s), 0);
	assert_int_equal(pol_fill_maps(s, &set, &comp, NULL), 0);
	skel = s;   /* drain() and run() read the global */
	r.skel = s;
	to = s->progs.ebee_pol_to;
	from = s->progs.ebee_pol_from;
	drain();

	/* db -> web:80, FIN both ways: the last ACK still passes, then the entry closes */
	assert_int_equal(run(to, "10.9.0.2", "10.9.0.1", 6, 41000, 80, 0x02), PASS);
	assert_int_equal(run(from, "10.9.0.1", "10.9.0.2", 6, 80, 41000, 0x12), PASS);
	assert_int_equal(run(to, "10.9.0.2", "10.9.0.1", 6, 41000, 80, 0x11), PASS);
	assert_int_equal(run(from, "10.9.0.1", "10.9.0.2", 6, 80, 41000, 0x11), PASS);
	assert_int_equal(run(to, "10.9.0.2", "10.9.0.1", 6, 41000, 80, 0x10), PASS);
	pol_ct_sweep(&r);
	assert_int_equal(r.ct_entries, 1);
	msleep(300);
	/* past the close timeout web's late reply is a new question: web may not send */
	assert_int_equal(run(from, "10.9.0.1", "10.9.0.2", 6, 80, 41000, 0x10), DROP);
	assert_int_equal(drain(), 3);   /* new, FIN (once for the flow), the new drop */
	assert_int_equal(last.report, POL_REP_NEW);
	assert_int_equal(last.verdict, POL_DROPPED);

	/* RST alone closes; a new SYN on the closed 5-tuple is a new flow (event "new") */
	assert_int_equal(run(to, "10.9.0.2", "10.9.0.1", 6, 41001, 80, 0x02), PASS);
	assert_int_equal(run(from, "10.9.0.1", "10.9.0.2", 6, 80, 41001, 0x14), PASS);
	drain();
	assert_int_equal(run(to, "10.9.0.2", "10.9.0.1", 6, 41001, 80, 0x02), PASS);
	assert_int_equal(drain(), 1);
	assert_int_equal(last.report, POL_REP_NEW);
	/* a retransmitted SYN on an open entry is not */
	assert_int_equal(run(to, "10.9.0.2", "10.9.0.1", 6, 41001, 80, 0x02), PASS);
	assert_int_equal(drain(), 0);

	/* a refused flow is forgotten after the idle timeout: its next SYN is reported again */
	assert_int_equal(run(to, "10.9.0.3", "10.9.0.1", 6, 41002, 80, 0x02), DROP);
	assert_int_equal(run(to, "10.9.0.3", "10.9.0.1", 6, 41002, 80, 0x02), DROP);
	assert_int_equal(drain(), 1);
	msleep(700);
	assert_int_equal(run(to, "10.9.0.3", "10.9.0.1", 6, 41002, 80, 0x02), DROP);
	assert_int_equal(drain(), 1);
	assert_int_equal(last.report, POL_REP_NEW);

	/* the sweep deletes what expired: the closed and refused flows; the open one stays */
	r.ct_expired = 0;
	pol_ct_sweep(&r);
	assert_true(r.ct_entries >= 2);
	msleep(700);
	pol_ct_sweep(&r);
	assert_int_equal(r.ct_entries, 1);   /* 41001, open (TCP timeout one hour) */
	assert_true(r.ct_expired >= 2);

	skel = saved;
	policy_bpf__destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts_replies_aggregation),
		cmocka_unit_test(test_conntrack_ageing),
	};

	return cmocka_run_group_tests_name("policy_bpf", tests, setup, teardown);
}
