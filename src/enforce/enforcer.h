/* SPDX-License-Identifier: BSD-2-Clause */
/* Enforcement rules (issue 11): a YAML file of
 *   - enforce: NAME
 *     condition: COND        (guard's condition language; -r files' macros and lists)
 *     action: deny|kill|audit
 *     desc: ...
 *     enabled: true
 * compiled into kernel tables (enforce.h) when the kernel can decide the condition, and
 * enforced by the strongest mechanism this host really has (lsm > cgroup > signal > audit).
 *   efile.c    the file, the condition walk into per-dimension sets, mechanism choice
 *   enforce.c  probing (with the LSM canary), loading, alerts, check and doctor output */
#ifndef EBEE_ENFORCE_ENFORCER_H
#define EBEE_ENFORCE_ENFORCER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/opts.h"
#include <linux/types.h>
#include "enforce/enforce.h"
#include "guard/cond.h"

struct guard_ruleset;
struct ebee_loop;
struct ebee_ctx;

extern const char *const enf_kind_names[ENF_KIND__N];   /* "exec", "open", ... */
extern const char *const enf_action_names[ENF_ACTION__N];   /* "audit", "deny", "kill" */
extern const char *const enf_done_names[ENF_ACTION__N];     /* "audited", "denied", "killed" */
extern const char *const enf_mech_names[MECH__N];       /* "lsm", "cgroup", "signal", "audit" */

struct enf_path { char s[ENF_PATH_LEN]; bool prefix; };
struct enf_cidr { uint8_t family, bits; uint8_t addr[16]; };

/* One value set of a dimension. */
struct enf_set {
	bool set, neg;
	int n;
	union {
		char (*comm)[16];
		struct enf_path *path;
		uint32_t *uid;
		uint64_t *cgroup;
		uint16_t *port;
		struct enf_cidr *cidr;
		void *v;
	};
};

struct enf_rule {
	char *name, *desc, *cond_text;
	char file[256];
	int line, col;
	int action;                 /* as written (enum enf_action) */
	bool enabled;
	uint32_t kinds;             /* 1 << enf_kind */
	uint8_t open_mode;          /* evt.is_open_read/write = true: ENF_OPEN_READ|WRITE */
	struct enf_set dim[DIM__N];
	/* the decision */
	bool accepted;
	char reason[256];
	int8_t mech[ENF_KIND__N];   /* per kind of the rule: enum enf_mech, -1 none */
	int index;                  /* bit in the kernel tables, -1 when not loaded */
};

/* What this host offers, per mechanism (probed, then narrowed by EBEE_ENFORCE_DISABLE). */
struct enf_caps {
	bool have[MECH__N];
	char why[MECH__N][200];     /* why a mechanism is unavailable */
	char absent[ENF_KIND__N][100];   /* why a kind cannot happen on this kernel at all */
};

struct enf_file {
	struct enf_rule *rules;
	int n;
};

/* Loads the files; on a syntax/reference error prints "FILE:LINE:COL: message" and returns
 * NULL. Conditions are compiled against guard's fields with rs's macros and lists. */
struct enf_file *enf_file_load(const struct opt_list *files, struct guard_ruleset *rs);
void enf_file_free(struct enf_file *f);
/* Decides, per rule, whether the kernel can enforce it here and by which mechanism. Returns
 * the number of refused (enabled) rules. */
int enf_file_decide(struct enf_file *f, const struct enf_caps *caps);
/* The live level of a kind for an action on this host: a mechanism, or -1. */
int enf_mech_for(const struct enf_caps *caps, int kind, int action);

/* Probes every mechanism for real (LSM: the lsm list, load, attach and the canary). */
void enf_probe(struct enf_caps *caps);

/* guard run -e: load, attach, alert. */
struct enforcer;
struct enforcer *enforcer_new(const struct opt_list *files, struct guard_ruleset *rs, bool enforce);
/* out NULL (the daemon): decisions are counted, not printed */
int enforcer_start(struct enforcer *e, struct ebee_loop *l, FILE *out, bool json);
struct jw;
/* Its counters as members of the guard summary: "enforced":{"audited","denied","killed","lost"} */
void enforcer_summary_fields(struct enforcer *e, struct jw *w);
void enforcer_drain(struct enforcer *e);  /* reads the decisions still queued */
struct prom;
/* /metrics: ebee_enforce_decisions_total{rule,action,mechanism}, ebee_enforce_lost_total */
void enforcer_metrics(struct enforcer *e, struct prom *p);
void enforcer_free(struct enforcer *e);   /* detaches everything; accepts NULL */

/* guard check -e: a row per rule and the level per kind; -EINVAL when a rule is refused. */
int enforce_check(const struct opt_list *files, struct guard_ruleset *rs, struct ebee_ctx *ctx);
/* doctor: a row per action kind with its live level. */
void enforce_doctor_levels(void (*row)(void *arg, const char *kind, const char *level,
				       const char *detail), void *arg);

#endif
