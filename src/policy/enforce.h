/* SPDX-License-Identifier: BSD-2-Clause */
/* Enforcement: workloads resolved on this host, the programs attached, verdict events read. */
#ifndef EBEE_POLICY_ENFORCE_H
#define EBEE_POLICY_ENFORCE_H

#include "core/opts.h"
#include "netwatch/tc.h"
#include "policy/feed.h"
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
	struct pol_timeouts to;
	void (*on_event)(void *arg, const struct pol_event *e);
	void (*on_tick)(void *arg);                /* after each second's sweep */
	void *arg;
	/* state */
	struct policy_bpf *skel;
	struct ring_buffer *rb;
	struct ebee_loop *loop;
	int timer;
	uint64_t events;
	uint64_t ct_entries, ct_expired;          /* at the last sweep; deleted by sweeps */
};

/* The command line's options, also the collector's config. */
struct policy_cfg {
	struct opt_list files;
	const char *workloads;
	bool audit;
	double duration, interval;
	double tcp_timeout, idle_timeout, close_timeout;   /* connection table; 0 = default */
	const char *flows;
	long long pid;
	/* The daemon: policies are every *.yaml of this directory but workloads.yaml, which
	 * holds the workloads ($EBEE_POLICY_DIR overrides it). */
	const char *dir;
};

/* `ebee policy apply`'s options, also what a daemon config may set for the collector (without
 * file/workloads there, it reads the policy directory). */
extern const struct opt policy_apply_opts[];

#define POL_RECENT 256

/* The collector's state (priv): policies, tables, the run, and what it has seen. */
struct pol_coll {
	struct pol_set s;
	struct pol_compiled c;
	struct pol_run r;
	struct pol_feed feed;
	struct policy_cfg dcfg;                    /* a daemon's cfg, files from its dir */
	char (*paths)[512];
	uint64_t *flows;                           /* [(npol + 1) * 2 * 4]: new flows by policy
						    * (npol = none), direction, verdict */
	uint64_t by_verdict[4];
	struct pol_stat stats[POL_NSTATS];         /* kernel's, at the last refresh */
	uint64_t lost_told;                        /* lost events already reported in the stream */
	struct pol_event recent[POL_RECENT];       /* the newest events, for /api/policy */
	uint64_t nrecent;
	char line[8192];                           /* one event's JSON line */
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
/* Deletes expired connection entries; r->ct_entries = what remains. */
void pol_ct_sweep(struct pol_run *r);
/* The kernel's packet/byte counters, summed over CPUs. */
void pol_read_stats(const struct pol_run *r, struct pol_stat *st);
void pol_stop(struct pol_run *r);
void pol_close(struct pol_run *r);

#endif
