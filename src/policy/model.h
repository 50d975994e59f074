/* SPDX-License-Identifier: BSD-2-Clause */
/* NetworkPolicy in user space: the objects parsed from YAML (parse.c), the Kubernetes semantics
 * (compile.c: which workloads a policy selects, isolation per direction, what a rule allows)
 * and the per-workload, per-direction rule tables the kernel evaluates (policy.h).
 *
 * Lifetime: everything hangs off one struct pol_set; pol_set_free() frees it all. Strings are
 * copies owned by the set. */
#ifndef EBEE_POLICY_MODEL_H
#define EBEE_POLICY_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "core/opts.h"
#include "policy/policy.h"

#define POL_NAME_MAX 64
#define POL_LABELS_MAX 16
#define POL_EXPR_MAX 8
#define POL_VALUES_MAX 16
#define POL_EXCEPT_MAX 32
#define POL_WL_PORTS_MAX 16
#define POL_WL_ADDRS_MAX 8

struct pol_loc {
	const char *file;          /* owned by the set */
	int line, col;             /* 1-based */
};

struct pol_labels {
	int n;
	char *k[POL_LABELS_MAX], *v[POL_LABELS_MAX];
};

enum pol_op { POL_OP_IN, POL_OP_NOTIN, POL_OP_EXISTS, POL_OP_NOTEXISTS };

struct pol_expr {
	char *key;
	enum pol_op op;
	int nvals;
	char *vals[POL_VALUES_MAX];
};

/* A label selector: matchLabels AND every matchExpression; empty = everything. */
struct pol_selector {
	struct pol_labels match;
	int nexpr;
	struct pol_expr expr[POL_EXPR_MAX];
};

struct pol_peer {
	bool has_pod, has_ns, has_ip;
	struct pol_selector pod, ns;
	struct opt_cidr cidr;
	int nexcept;
	struct opt_cidr except[POL_EXCEPT_MAX];
};

struct pol_portspec {
	uint8_t proto;             /* IPPROTO_TCP/UDP/SCTP */
	bool has_port;             /* no port: every port of the protocol */
	uint16_t port, end;        /* numeric: [port, end] (end = port without endPort) */
	char name[16];             /* named port ("" when numeric) */
	struct pol_loc loc;
};

/* One ingress or egress rule. No peers (from/to missing or empty) = every peer; no ports =
 * every port and protocol. */
struct pol_rule {
	int npeers;
	struct pol_peer *peers;
	int nports;
	struct pol_portspec *ports;
	struct pol_loc loc;
};

struct pol_policy {
	char name[POL_NAME_MAX], ns[POL_NAME_MAX];
	struct pol_selector sel;
	bool type[2];              /* [POL_INGRESS], [POL_EGRESS]: effective policyTypes */
	int nrules[2];
	struct pol_rule *rules[2];
	struct pol_loc loc;
};

struct pol_namespace {
	char name[POL_NAME_MAX];
	struct pol_labels labels;  /* kubernetes.io/metadata.name is always added */
};

struct pol_wlport {
	char name[16];
	uint16_t port;
	uint8_t proto;
};

struct pol_addr {
	uint8_t family;            /* 4 or 6 */
	uint8_t addr[16];
};

struct pol_workload {
	char name[POL_NAME_MAX], ns[POL_NAME_MAX];
	struct pol_labels labels;
	char netns[POL_NAME_MAX];  /* a network namespace (/run/netns/NAME), or */
	char cgroup[256];          /* a cgroup v2 directory */
	int nports;
	struct pol_wlport ports[POL_WL_PORTS_MAX];
	int naddrs;
	struct pol_addr addrs[POL_WL_ADDRS_MAX];
	struct pol_loc loc;
};

struct pol_set {
	int npol, nns, nwl;
	struct pol_policy *pol;
	struct pol_namespace *ns;
	struct pol_workload *wl;
	int nfiles;
	char **files;
};

/* parse.c: adds the documents of one policy file / the workloads file to set. Returns 0, or
 * -EINVAL having printed "FILE:LINE:COL: problem". `text` (len bytes) is the file's content,
 * `name` the name errors show. */
int pol_parse_policies(struct pol_set *s, const char *name, const unsigned char *text, size_t len);
int pol_parse_workloads(struct pol_set *s, const char *name, const unsigned char *text, size_t len);
/* Reads a file and calls the parser above. */
int pol_load_file(struct pol_set *s, const char *path, bool workloads);
void pol_set_free(struct pol_set *s);

/* compile.c: the semantics. */
bool pol_selector_match(const struct pol_selector *sel, const struct pol_labels *l);
const struct pol_namespace *pol_ns_find(const struct pol_set *s, const char *name);
bool pol_selects(const struct pol_set *s, const struct pol_policy *p, const struct pol_workload *w);
bool pol_peer_has_workload(const struct pol_set *s, const struct pol_policy *p,
			   const struct pol_peer *peer, const struct pol_workload *w);
bool pol_isolated(const struct pol_set *s, int wl, int dir);
int pol_wl_port(const struct pol_workload *w, const char *name, uint8_t proto);  /* -1: none */
/* Checks what only the whole set can tell (named ports unknown for a selected workload, ...);
 * -EINVAL having printed FILE:LINE:COL errors. */
int pol_check(const struct pol_set *s);

/* One flow as whatif and the unit tests ask it: the verdict the direct reading of the
 * policies gives (no tables). peer_wl = -1 for an address outside every workload. Returns
 * POL_WHY_NOT_ISOLATED, POL_WHY_RULE (allowing policy index in *pol, rule in *rule) or
 * POL_WHY_NO_RULE. */
int pol_eval(const struct pol_set *s, int wl, int dir, int peer_wl, const struct pol_addr *peer,
	     uint8_t proto, uint16_t port, int *pol, int *rule);

/* The kernel's tables for one (workload, direction). */
struct pol_lpm_ent {
	uint32_t wd;
	uint8_t family, prefix;
	uint8_t addr[16];
	uint64_t mask;
};
struct pol_peer_ent {
	uint32_t key;              /* POL_PEER_KEY(wd, peer) */
	uint64_t mask;
};
struct pol_rule_ref {
	int16_t pol, rule;         /* the policy and its rule behind a bit */
};
struct pol_compiled {
	int nwl;
	struct pol_table *tab;           /* nwl * 2, index POL_WD(wl, dir) */
	struct pol_rule_ref *ref;        /* nwl * 2 * POL_MAX_RULES */
	int npeer, nlpm;
	struct pol_peer_ent *peer;
	struct pol_lpm_ent *lpm;
};
int pol_compile(const struct pol_set *s, struct pol_compiled *c);
void pol_compiled_free(struct pol_compiled *c);
/* The tables' answer for a flow, as the kernel computes it (for unit tests and whatif's
 * cross-check): the mask of allowing rules, 0 = none; *isolated says whether it mattered. */
uint64_t pol_table_eval(const struct pol_compiled *c, int wl, int dir, int peer_wl,
			const struct pol_addr *peer, uint8_t proto, uint16_t port, bool *isolated);

const char *pol_proto_name(uint8_t proto);
int pol_wl_find_addr(const struct pol_set *s, const struct pol_addr *a);

#endif
