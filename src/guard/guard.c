// SPDX-License-Identifier: BSD-2-Clause
/* ebee guard: Falco rule files, unchanged. `check` loads them and says, rule by rule, what
 * this host can evaluate; `run` (guard/run.c) evaluates them on live events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/out.h"
#include "enforce/enforcer.h"
#include "guard/fields.h"
#include "guard/gevent.h"
#include "guard/guard.h"

#include "events/evtypes.h"
#include "guard/default_rules.h"

const char guard_default_name[] = "<ebee default rules>";

int guard_rs_source(const struct guard_ruleset *rs, int i)
{
	int src = guard_evtype_source(i);

	return src == EV_MODULE && rs->modules_off ? 0 : src;
}

/* Module-load attempts not watched here (rs->modules_off): a rule on them alone is
 * not_evaluable, saying why and what turns them on; a rule on other types too keeps its
 * status and says what it misses. */
static void gate_modules(struct guard_ruleset *rs)
{
	for (int i = 0; i < rs->nrules; i++) {
		struct guard_rule *r = rs->rules[i];
		bool mod = false, other = r->kp.evtypes_any;
		size_t k = strlen(r->reason);

		if (r->status != RS_EVALUABLE && r->status != RS_DEGRADED)
			continue;
		for (int t = 0; t < guard_evtype_count(); t++) {
			if (!cond_kparts_has_evtype(&r->kp, t) || !guard_evtype_source(t))
				continue;
			if (guard_evtype_source(t) == EV_MODULE)
				mod = true;
			else
				other = true;
		}
		if (!mod)
			continue;
		if (!other) {
			r->status = RS_NOT_EVALUABLE;
			rs->modules_gated++;
			snprintf(r->reason, sizeof(r->reason), "module-load attempts not watched: "
				 EV_MOD_WHY " (--module-attempts watches them)");
		} else if (k < sizeof(r->reason)) {
			snprintf(r->reason + k, sizeof(r->reason) - k, "%smodule-load attempts not "
				 "watched (no module support here; --module-attempts)", k ? "; " : "");
		}
	}
}

struct guard_ruleset *guard_load(const struct opt_list *files, bool quiet_default,
				 bool module_attempts)
{
	char err[1024] = "";
	struct guard_ruleset *rs;
	if (files->n)
		rs = guard_rules_load(files->v, files->n, &guard_fields, err, sizeof(err));
	else
		rs = guard_rules_load_mem(guard_default_name, default_rules_yaml,
					  strlen(default_rules_yaml), &guard_fields, err, sizeof(err));
	if (!rs)
		ebee_err("%s", err);
	(void)quiet_default;
	if (rs && !module_attempts && ev_mod_optin()) {
		rs->modules_off = true;
		gate_modules(rs);
	}
	return rs;
}

/* "evt.type in (open, openat); proc.name in (sh); fd.name startswith (/etc/)" */
size_t guard_kparts_text(const struct guard_ruleset *rs, const struct guard_rule *r, char *buf,
			 size_t len)
{
	size_t o = 0;
	buf[0] = 0;
#define PUT(...) (o += snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__))
	bool live = false;
	for (int i = 0; i < guard_evtype_count() && !live; i++)
		live = cond_kparts_live_evtype(&r->kp, i) && guard_rs_source(rs, i);
	if (!live) {
		/* every branch compares a field never available here (<NA>): nothing is captured
		 * for it, nothing evaluated */
		PUT("never (needs fields never available here)");
		return o;
	}
	if (!r->kp.evtypes_any) {
		PUT("evt.type in (");
		int n = 0;
		for (int i = 0; i < guard_evtype_count(); i++)
			if (cond_kparts_live_evtype(&r->kp, i) && guard_rs_source(rs, i))
				PUT("%s%s", n++ ? ", " : "", guard_evtype_name(i));
		PUT(")");
	}
	if (!r->kp.comm_any) {
		PUT("%sproc.name in (", o ? "; " : "");
		for (int i = 0; i < r->kp.ncomm; i++)
			PUT("%s%s", i ? ", " : "", r->kp.comm[i]);
		PUT(")");
	}
	if (!r->kp.path_any) {
		PUT("%sfd.name prefix (", o ? "; " : "");
		for (int i = 0; i < r->kp.npath; i++)
			PUT("%s%s", i ? ", " : "", r->kp.path[i]);
		PUT(")");
	}
	if (r->kp.need_write)
		PUT("%sopen for writing", o ? "; " : "");
	if (r->kp.need_dotdot)
		PUT("%sfd.nameraw contains ../", o ? "; " : "");
#undef PUT
	return o;
}

/* ---- check ------------------------------------------------------------------------------ */

struct check_cfg {
	struct opt_list rules;
	struct opt_list efiles;
	bool module_attempts;
};

enum { C_RULE, C_STATUS, C_PRIO, C_REASON, C_KERNEL, C__N };

static const struct out_col check_cols[C__N] = {
	[C_RULE]   = { "rule", "RULE", OUT_STR, -44 },
	[C_STATUS] = { "status", "STATUS", OUT_STR, -13 },
	[C_PRIO]   = { "priority", "PRIORITY", OUT_STR, -13 },
	[C_REASON] = { "reason", "REASON", OUT_STR, -1 },
	[C_KERNEL] = { "kernel", "KERNEL", OUT_STR, -1 },
};

static int check_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct check_cfg *cfg = vcfg;
	struct guard_ruleset *rs = guard_load(&cfg->rules, false, cfg->module_attempts);
	if (!rs)
		return -EINVAL;
	struct out o;
	out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, check_cols, C__N);
	if (!ctx->verbose)
		out_hide(&o, C_KERNEL, true);
	out_header(&o);
	int count[4] = { 0 };
	for (int i = 0; i < rs->nrules; i++) {
		const struct guard_rule *r = rs->rules[i];
		count[r->status]++;
		out_str(&o, C_RULE, r->name);
		out_str(&o, C_STATUS, rule_status_names[r->status]);
		out_str(&o, C_PRIO, rule_prio_names[r->prio]);
		out_str(&o, C_REASON, r->status == RS_DISABLED ? "enabled: false" : r->reason);
		/* a not_evaluable rule loads nothing: no kernel decision to show */
		if (r->cond && ctx->verbose && r->status != RS_NOT_EVALUABLE) {
			char k[OUT_CELL];
			if (guard_kparts_text(rs, r, k, sizeof(k)))
				out_str(&o, C_KERNEL, k);
			else
				out_str(&o, C_KERNEL, "nothing (every event goes to user space)");
		}
		out_row(&o);
	}
	if (!ctx->json) {
		printf("%d rules: %d evaluable, %d degraded, %d not_evaluable, %d disabled; %d macros, %d lists",
		       rs->nrules, count[RS_EVALUABLE], count[RS_DEGRADED], count[RS_NOT_EVALUABLE],
		       count[RS_DISABLED], rs->nmacros, rs->nlists);
		for (int i = 0; i < rs->nplugins; i++)
			printf("%s plugin %s %s", i ? "," : "; needs", rs->plugins[i].name, rs->plugins[i].version);
		printf("\n");
	}
	int err = cfg->efiles.n ? enforce_check(&cfg->efiles, rs, ctx) : 0;
	guard_rules_free(rs);
	return err;
}

#define RULES_OPT(T) \
	{ "rules", 'r', OPT_LIST, offsetof(T, rules), "FILE", \
	  "a Falco rules file (repeatable; later files append to and override earlier ones)", \
	  "ebee's built-in rules" }

static const struct opt check_opts[] = {
	RULES_OPT(struct check_cfg),
	{ "enforcement", 'e', OPT_LIST, offsetof(struct check_cfg, efiles), "FILE",
	  "enforcement rules: say per rule whether the kernel can enforce it here and how" },
	EV_MODULE_OPT(struct check_cfg, module_attempts),
	OPT_END,
};

static const struct opt_doc check_doc = {
	.synopsis = "[-r FILE]...",
	.description =
		"Loads Falco rule files as they are and prints every rule with its status here:\n"
		"evaluable; degraded (evaluable, but some fields are unknown on this host and compare\n"
		"as Falco's <NA>, named in the reason); not_evaluable (the event type, source or\n"
		"plugin this host cannot give, or module loads on a kernel without module support\n"
		"unless --module-attempts); disabled. -v adds what the kernel decides for each\n"
		"rule (event types, process names, path prefixes), so that events no rule can match\n"
		"never reach user space. A syntax or reference error is reported as FILE:LINE:COL\n"
		"and exits 2.",
	.examples = "  ebee guard check\n  ebee guard check -r /etc/falco/falco_rules.yaml -r my_rules.yaml -v\n"
		    "  ebee guard check -r rules.yaml --json | jq 'select(.status != \"evaluable\")'",
};

static const struct ebee_cmd guard_check_cmd = {
	.name = "check", .summary = "load Falco rule files and say which rules this host can evaluate",
	.run = check_run, .opts = check_opts, .cfg_size = sizeof(struct check_cfg),
	.doc = &check_doc, .min_pos = 0, .max_pos = 0,
};

static const struct ebee_cmd *const guard_subs[] = {
	&guard_check_cmd, &guard_run_cmd, NULL,
};

const struct ebee_cmd guard_cmd = {
	.name = "guard", .summary = "runtime security with Falco rule files, unchanged",
	.sub = guard_subs,
};
