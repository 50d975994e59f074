/* SPDX-License-Identifier: BSD-2-Clause */
/* Enforcement: workloads resolved on this host, the programs attached, verdict events read. */
#ifndef EBEE_POLICY_ENFORCE_H
#define EBEE_POLICY_ENFORCE_H

#include "core/opts.h"
#include "netwatch/tc.h"
#include "policy/model.h"

#define POL_IFACES_MAX 4

struct bpf_link;
struct ring_buffer;
struct policy_bpf;
struct ebee_loop;
struct collector_desc;

/* A workload as found on this host. */
struct pol_wlrt {
	int nifs;                                  /* host-side veths (netns workloads) */
	struct nw_iface ifs[POL_IFACES_MAX * 2];   /* [2i] its egress hook, [2i+1] ingress */
	int cgfd;                                  /* cgroup workloads, else -1 */
	uint64_t cgid;
	char cgpath[300];
	struct bpf_link *cglink[2];
	bool gone;
};

struct pol_run {
	/* inputs */
	struct pol_set *s;
	struct pol_compiled *c;
	struct pol_wlrt *rt;
	bool audit;
	double interval;
	void (*on_event)(void *arg, const struct pol_event *e);
	void *arg;
	/* state */
	struct policy_bpf *skel;
	struct ring_buffer *rb;
	uint64_t events;
};

/* The command line's options, also the collector's config. */
struct policy_cfg {
	struct opt_list files;
	const char *workloads;
	bool audit;
	double duration, interval;
	const char *flows;
	long long pid;
};

/* The collector's state (priv): policies, tables, the run. */
struct pol_coll {
	struct pol_set s;
	struct pol_compiled c;
	struct pol_run r;
};
extern const struct collector_desc policy_collector;
/* Policies and workloads files read and checked; -EINVAL having printed the error. */
int pol_load_cfg(const struct policy_cfg *cfg, struct pol_set *s);

/* Fills rt (one per workload) from the set; netns addresses are read here when not given. */
int pol_resolve(struct pol_set *s, struct pol_wlrt *rt);
int pol_start(struct pol_run *r, struct ebee_loop *l);
/* The compiled tables and workload addresses into a loaded skeleton's maps (rt may be NULL:
 * no cgroups), as pol_start does; for tests on crafted packets too. */
int pol_fill_maps(struct policy_bpf *skel, const struct pol_set *s, const struct pol_compiled *c,
		  const struct pol_wlrt *rt);
uint64_t pol_lost(const struct pol_run *r);
void pol_stop(struct pol_run *r);
void pol_close(struct pol_run *r);

#endif
