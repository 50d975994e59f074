// SPDX-License-Identifier: BSD-2-Clause
/* The policy collector (core/collector.h): what `ebee policy apply` runs, and what the daemon
 * will run from the registry. open reads, checks and compiles the policies and finds the
 * workloads on this host; start loads the tables and attaches; stop detaches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/collector.h"
#include "core/ebee.h"
#include "policy/enforce.h"

int pol_load_cfg(const struct policy_cfg *cfg, struct pol_set *s)
{
	int err;

	if (!cfg->files.n) {
		ebee_err("no policy file given (use -f FILE)");
		return -EINVAL;
	}
	if (!cfg->workloads) {
		ebee_err("no workloads file given (use --workloads FILE)");
		return -EINVAL;
	}
	err = pol_load_file(s, cfg->workloads, true);
	for (int i = 0; i < cfg->files.n && !err; i++)
		err = pol_load_file(s, cfg->files.v[i], false);
	if (!err)
		err = pol_check(s);
	return err ? -EINVAL : 0;
}

static int pcoll_open(struct collector *c)
{
	const struct policy_cfg *cfg = c->cfg;
	struct pol_coll *pc = c->priv;
	int err;

	err = pol_load_cfg(cfg, &pc->s);
	if (!err)
		err = pol_compile(&pc->s, &pc->c) ? -EINVAL : 0;
	if (err)
		return err;
	pc->r.s = &pc->s;
	pc->r.c = &pc->c;
	pc->r.audit = cfg->audit;
	pc->r.interval = cfg->interval > 0 ? cfg->interval : 5.0;
	pc->r.rt = calloc(pc->s.nwl ? pc->s.nwl : 1, sizeof(*pc->r.rt));
	if (!pc->r.rt)
		return -ENOMEM;
	return pol_resolve(&pc->s, pc->r.rt);
}

static int pcoll_start(struct collector *c, struct ebee_loop *l)
{
	struct pol_coll *pc = c->priv;

	return pol_start(&pc->r, l);
}

static void pcoll_stop(struct collector *c)
{
	struct pol_coll *pc = c->priv;

	pol_stop(&pc->r);
	c->cnt.events = pc->r.events;
	c->cnt.lost = pol_lost(&pc->r);
}

static void pcoll_close(struct collector *c)
{
	struct pol_coll *pc = c->priv;

	pol_close(&pc->r);
	free(pc->r.rt);
	pc->r.rt = NULL;
	pol_compiled_free(&pc->c);
	pol_set_free(&pc->s);
}

/* TCX where the kernel has it, else a clsact filter (netwatch/tc.c decides per interface);
 * cgroup_skb for cgroup workloads. */
static const struct ebee_hook policy_hooks[] = {
	{ "veth", { { "ebee_pol_from", KIND_TCX }, { "ebee_pol_from", KIND_TC } } },
	{ "veth_egress", { { "ebee_pol_to", KIND_TCX }, { "ebee_pol_to", KIND_TC } } },
	{ "cgroup_egress", { { "ebee_pol_cg_eg", KIND_CGROUP_SKB } } },
	{ "cgroup_ingress", { { "ebee_pol_cg_in", KIND_CGROUP_SKB } } },
};

const struct collector_desc policy_collector = {
	.name = "policy",
	.what = "Kubernetes NetworkPolicy enforcement and verdicts",
	.hooks = policy_hooks,
	.nhooks = sizeof(policy_hooks) / sizeof(policy_hooks[0]),
	.prog_prefix = "ebee_pol_",
	.priv_size = sizeof(struct pol_coll),
	.cfg_size = sizeof(struct policy_cfg),
	.open = pcoll_open,
	.start = pcoll_start,
	.stop = pcoll_stop,
	.close = pcoll_close,
};
