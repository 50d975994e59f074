// SPDX-License-Identifier: BSD-2-Clause
/* ebee policy's semantics: selectors, policyTypes, peers, ports, and the compiled tables held
 * against the direct reading of the policies for every flow of a grid. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include "core/field.h"
#include "core/json.h"
#include "policy/model.h"
#include "policy/render.h"

static const char WORKLOADS[] =
	"namespaces:\n"
	"  - {name: prod, labels: {team: a}}\n"
	"  - {name: dev, labels: {team: b}}\n"
	"workloads:\n"
	"  - {name: web, namespace: prod, labels: {app: web}, cgroup: x, addresses: [10.0.1.1, 'fd00::1'],\n"
	"     ports: {http: 8080, dns: {port: 53, protocol: UDP}}}\n"
	"  - {name: db, namespace: prod, labels: {app: db, tier: back}, cgroup: y, addresses: [10.0.2.1]}\n"
	"  - {name: cli, namespace: dev, labels: {app: cli, tier: front}, cgroup: z, addresses: [10.1.0.5],\n"
	"     ports: {http: 9090}}\n"
	"  - {name: ext, namespace: other, labels: {}, cgroup: w, addresses: [192.168.7.7]}\n";

static const char POLICIES[] =
	"apiVersion: networking.k8s.io/v1\n"
	"kind: NetworkPolicy\n"
	"metadata: {name: web, namespace: prod}\n"
	"spec:\n"
	"  podSelector: {matchLabels: {app: web}}\n"
	"  ingress:\n"
	"  - from:\n"
	"    - namespaceSelector: {matchLabels: {team: b}}\n"
	"      podSelector: {matchExpressions: [{key: tier, operator: In, values: [front]}]}\n"
	"    - ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/16, 10.1.0.0/24]}\n"
	"    ports: [{port: http}, {port: dns, protocol: UDP}]\n"
	"  - from:\n"
	"    - ipBlock: {cidr: 10.1.0.0/24}\n"
	"    ports: [{port: 7000, endPort: 7010}]\n"
	"  - from:\n"
	"    - ipBlock: {cidr: 'fd00::/16', except: ['fd00::/120']}\n"
	"  egress:\n"
	"  - to: [{podSelector: {}}]\n"
	"    ports: [{port: http}]\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\n"
	"kind: NetworkPolicy\n"
	"metadata: {name: db-deny, namespace: prod}\n"
	"spec:\n"
	"  podSelector: {matchExpressions: [{key: tier, operator: Exists}, {key: app, operator: NotIn, values: [web]}]}\n"
	"  policyTypes: [Ingress, Egress]\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\n"
	"kind: NetworkPolicy\n"
	"metadata: {name: db-in, namespace: prod}\n"
	"spec:\n"
	"  podSelector: {matchLabels: {app: db}}\n"
	"  ingress:\n"
	"  - from: [{namespaceSelector: {}}]\n"
	"    ports: [{protocol: UDP}]\n"
	"  - from: [{ipBlock: {cidr: 192.168.0.0/16}}]\n";

static void load(struct pol_set *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(pol_parse_workloads(s, "w.yaml", (const unsigned char *)WORKLOADS,
					     strlen(WORKLOADS)), 0);
	assert_int_equal(pol_parse_policies(s, "p.yaml", (const unsigned char *)POLICIES,
					    strlen(POLICIES)), 0);
	assert_int_equal(pol_check(s), 0);
}

static void test_selectors_and_types(void **state)
{
	struct pol_set s;

	load(&s);
	assert_int_equal(s.npol, 3);
	assert_int_equal(s.nwl, 4);
	/* web: Ingress and Egress (egress rules present); db-deny: both given; db-in: Ingress. */
	assert_true(s.pol[0].type[POL_INGRESS] && s.pol[0].type[POL_EGRESS]);
	assert_true(s.pol[1].type[POL_INGRESS] && s.pol[1].type[POL_EGRESS]);
	assert_true(s.pol[2].type[POL_INGRESS] && !s.pol[2].type[POL_EGRESS]);
	assert_true(pol_selects(&s, &s.pol[0], &s.wl[0]));
	assert_false(pol_selects(&s, &s.pol[0], &s.wl[1]));
	/* Exists tier AND app NotIn [web]: db only (cli has them but lives in dev). */
	assert_true(pol_selects(&s, &s.pol[1], &s.wl[1]));
	assert_false(pol_selects(&s, &s.pol[1], &s.wl[2]));
	assert_true(pol_isolated(&s, 1, POL_EGRESS));
	assert_false(pol_isolated(&s, 2, POL_INGRESS));
	/* Namespaces only named by a workload exist with their name label. */
	assert_non_null(pol_ns_find(&s, "other"));
	pol_set_free(&s);
}

static struct pol_addr v4(const char *a)
{
	struct pol_addr r = { .family = 4 };

	inet_pton(AF_INET, a, r.addr);
	return r;
}

static void test_eval_cases(void **state)
{
	struct pol_set s;
	struct pol_addr a;
	int pol, rule;

	load(&s);
	/* cli (dev, tier=front) -> web http: the AND peer */
	a = v4("10.1.0.5");
	assert_int_equal(pol_eval(&s, 0, POL_INGRESS, 2, &a, IPPROTO_TCP, 8080, &pol, &rule), POL_WHY_RULE);
	assert_int_equal(pol_eval(&s, 0, POL_INGRESS, 2, &a, IPPROTO_TCP, 80, &pol, &rule), POL_WHY_NO_RULE);
	/* 10.1.0.5 is in the second rule's block, ports 7000-7010 */
	assert_int_equal(pol_eval(&s, 0, POL_INGRESS, -1, &a, IPPROTO_TCP, 7010, &pol, &rule), POL_WHY_RULE);
	assert_int_equal(rule, 1);
	assert_int_equal(pol_eval(&s, 0, POL_INGRESS, -1, &a, IPPROTO_TCP, 7011, &pol, &rule), POL_WHY_NO_RULE);
	/* 10.2.0.1: in 10/8 and not excepted: named ports of web (http TCP 8080, dns UDP 53) */
	a = v4("10.2.0.1");
	assert_int_equal(pol_eval(&s, 0, POL_INGRESS, -1, &a, IPPROTO_UDP, 53, &pol, &rule), POL_WHY_RULE);
	assert_int_equal(pol_eval(&s, 0, POL_INGRESS, -1, &a, IPPROTO_TCP, 53, &pol, &rule), POL_WHY_NO_RULE);
	/* 10.0.2.1 (db) excepted */
	a = v4("10.0.2.1");
	assert_int_equal(pol_eval(&s, 0, POL_INGRESS, 1, &a, IPPROTO_TCP, 8080, &pol, &rule), POL_WHY_NO_RULE);
	/* egress named port resolves on the destination: cli's http is 9090, but cli is in dev
	 * and the peer is podSelector {} (prod only); db has no http */
	assert_int_equal(pol_eval(&s, 0, POL_EGRESS, 2, NULL, IPPROTO_TCP, 9090, &pol, &rule), POL_WHY_NO_RULE);
	assert_int_equal(pol_eval(&s, 0, POL_EGRESS, 1, NULL, IPPROTO_TCP, 8080, &pol, &rule), POL_WHY_NO_RULE);
	/* not isolated */
	assert_int_equal(pol_eval(&s, 2, POL_EGRESS, 0, NULL, IPPROTO_TCP, 1, &pol, &rule), POL_WHY_NOT_ISOLATED);
	pol_set_free(&s);
}

/* Every flow of a grid: the tables (as the kernel reads them) agree with the policies. */
static void test_tables_agree(void **state)
{
	static const char *const peers[] = { "10.0.1.1", "10.0.2.1", "10.1.0.5", "10.1.1.1", "10.0.0.9",
		"10.255.0.1", "192.168.7.7", "192.168.200.1", "172.16.0.1", "fd00::1", "fd00::100",
		"fd00:1::5", "fe80::1" };
	static const uint16_t ports[] = { 1, 53, 80, 6999, 7000, 7005, 7010, 7011, 8080, 9090 };
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP };
	struct pol_compiled c;
	struct pol_set s;
	int n = 0;

	load(&s);
	assert_int_equal(pol_compile(&s, &c), 0);
	for (int w = 0; w < s.nwl; w++)
		for (int d = 0; d < 2; d++)
			for (size_t p = 0; p < sizeof(peers) / sizeof(*peers); p++) {
				struct pol_addr a = { .family = strchr(peers[p], ':') ? 6 : 4 };
				int pw;

				inet_pton(a.family == 4 ? AF_INET : AF_INET6, peers[p], a.addr);
				pw = pol_wl_find_addr(&s, &a);
				for (size_t q = 0; q < sizeof(protos); q++)
					for (size_t k = 0; k < sizeof(ports) / sizeof(*ports); k++) {
						int pol = -1, rule = -1, why;
						bool iso;
						uint64_t m;

						why = pol_eval(&s, w, d, pw, &a, protos[q], ports[k], &pol, &rule);
						m = pol_table_eval(&c, w, d, pw, &a, protos[q], ports[k], &iso);
						assert_int_equal(iso, why != POL_WHY_NOT_ISOLATED);
						assert_int_equal(m != 0, why == POL_WHY_RULE);
						if (m) {
							/* the first allowing bit is the first allowing rule */
							int b = __builtin_ctzll(m);

							assert_int_equal(c.ref[POL_WD(w, d) * POL_MAX_RULES + b].pol, pol);
							assert_int_equal(c.ref[POL_WD(w, d) * POL_MAX_RULES + b].rule, rule);
							n++;
						}
					}
			}
	assert_true(n > 20);   /* the grid does exercise allowed flows */
	pol_compiled_free(&c);
	pol_set_free(&s);
}

static int parse_err(const char *text)
{
	struct pol_set s = { 0 };
	int err = pol_parse_workloads(&s, "w.yaml", (const unsigned char *)WORKLOADS, strlen(WORKLOADS));

	if (!err)
		err = pol_parse_policies(&s, "p.yaml", (const unsigned char *)text, strlen(text));
	if (!err)
		err = pol_check(&s);
	pol_set_free(&s);
	return err;
}

#define HEAD "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec:\n"

static void test_errors(void **state)
{
	assert_int_equal(parse_err(HEAD "  podSelector: {}\n"), 0);
	assert_int_equal(parse_err(HEAD "  podSelector: {}\n  ingress: [{from: [{}]}]\n"), -EINVAL);
	assert_int_equal(parse_err(HEAD "  podSelector: {matchLabels: {'a b': c}}\n"), -EINVAL);
	assert_int_equal(parse_err(HEAD "  podSelector: {matchExpressions: [{key: a, operator: In}]}\n"), -EINVAL);
	assert_int_equal(parse_err(HEAD "  podSelector: {matchExpressions: [{key: a, operator: Exists, values: [x]}]}\n"), -EINVAL);
	assert_int_equal(parse_err(HEAD "  podSelector: {}\n  policyTypes: [Ingres]\n"), -EINVAL);
	assert_int_equal(parse_err(HEAD "  podSelector: {}\n  egress: [{ports: [{port: 0}]}]\n"), -EINVAL);
	assert_int_equal(parse_err(HEAD "  podSelector: {}\n  egress: [{ports: [{port: http, endPort: 90}]}]\n"), -EINVAL);
	assert_int_equal(parse_err(HEAD "  podSelector: {}\n  egress: [{ports: [{port: 80, protocol: ICMP}]}]\n"), -EINVAL);
	assert_int_equal(parse_err(HEAD "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.1/8}}]}]\n"), -EINVAL);
	assert_int_equal(parse_err(HEAD "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: ['fd00::/64']}}]}]\n"), -EINVAL);
	assert_int_equal(parse_err(HEAD "  podSelector: {}\n---\n" HEAD "  podSelector: {}\n"), -EINVAL);  /* duplicate */
	assert_int_equal(parse_err("[1, 2"), -EINVAL);
	assert_int_equal(parse_err(""), -EINVAL);
}

/* A verdict event through its field table (what filters and the daemon's stream read) and
 * as Hubble-like JSON, with the names the tables resolve to. */
static void test_verdict_event_fields(void **state)
{
	struct pol_set s;
	struct pol_compiled c;
	struct pol_event e = { .hdr = { .type = EV_POLICY_VERDICT, .size = sizeof(e) } };
	const struct ebee_event_desc *d;
	char buf[4096], t[64];
	struct jw w;
	size_t n;

	load(&s);
	assert_int_equal(pol_compile(&s, &c), 0);
	pol_register_event();
	d = event_desc_by_name("policy_verdict");
	assert_non_null(d);
	assert_ptr_equal(event_desc(EV_POLICY_VERDICT), d);
	/* cli 10.1.0.5:40000 -> web 10.0.1.1:80 TCP SYN, refused at web's ingress */
	e.family = 4;
	e.af = AF_INET;
	inet_pton(AF_INET, "10.0.1.1", e.laddr);
	inet_pton(AF_INET, "10.1.0.5", e.paddr);
	e.lport = 80, e.pport = 40000, e.proto = 6, e.tcp_flags = 0x02;
	e.wl = 0, e.peer_wl = 2, e.dir = e.init_dir = POL_INGRESS;
	e.verdict = POL_DROPPED, e.why = POL_WHY_NO_RULE, e.report = POL_REP_NEW, e.pkts = 1;
	assert_string_equal(field_text(event_field(d, "policy.verdict"), &e, t, sizeof(t)), "DROPPED");
	assert_string_equal(field_text(event_field(d, "policy.reason"), &e, t, sizeof(t)), "denied");
	assert_string_equal(field_text(event_field(d, "fd.rip"), &e, t, sizeof(t)), "10.1.0.5");
	assert_string_equal(field_text(event_field(d, "fd.l4proto"), &e, t, sizeof(t)), "TCP");
	assert_string_equal(field_text(event_field(d, "policy.tcp_flags"), &e, t, sizeof(t)), "SYN");
	assert_int_equal(field_u64(event_field(d, "fd.rport"), &e), 40000);
	assert_null(event_field(d, "policy.nonesuch"));
	/* the isolating policy counts it: web (the first that selects web for ingress) */
	assert_int_equal(pol_event_policy(&s, &c, &e), 0);

	jw_init_buf(&w, buf, sizeof(buf));
	jw_obj_begin(&w);
	event_json(&w, &e.hdr);
	jw_obj_end(&w);
	n = jw_finish(&w);
	buf[n] = 0;
	assert_non_null(strstr(buf, "\"evt.type\":\"policy_verdict\""));
	assert_non_null(strstr(buf, "\"policy.verdict\":\"DROPPED\""));
	assert_non_null(strstr(buf, "\"fd.lip\":\"10.0.1.1\""));

	pol_event_line(buf, sizeof(buf), &s, &c, &e);
	assert_non_null(strstr(buf, "\"drop_reason_desc\":\"POLICY_DENIED\""));
	assert_non_null(strstr(buf, "\"source\":{\"namespace\":\"dev\",\"pod_name\":\"cli\""));
	assert_non_null(strstr(buf, "\"policies\":[{\"name\":\"web\",\"namespace\":\"prod\",\"match\":\"isolated\"}]"));
	assert_non_null(strstr(buf, "\"l4\":{\"TCP\":{\"source_port\":40000,\"destination_port\":80,\"flags\":{\"SYN\":true}}}"));
	assert_int_equal(buf[strlen(buf) - 1], '\n');
	pol_compiled_free(&c);
	pol_set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selectors_and_types),
		cmocka_unit_test(test_eval_cases),
		cmocka_unit_test(test_tables_agree),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_verdict_event_fields),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
