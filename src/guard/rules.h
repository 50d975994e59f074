/* SPDX-License-Identifier: BSD-2-Clause */
/* Falco rule files: the YAML loader (libyaml, every error as FILE:LINE:COL: message) and the
 * rule set it builds: items rule / macro / list / required_engine_version /
 * required_plugin_versions, append and override, enabled overrides, exceptions compiled into
 * "and not" tuples as Falco does, conditions compiled against a field provider, outputs
 * parsed into their %fields, and each rule's status on this host. */
#ifndef EBEE_GUARD_RULES_H
#define EBEE_GUARD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guard/cond.h"

enum rule_status { RS_EVALUABLE, RS_DEGRADED, RS_NOT_EVALUABLE, RS_DISABLED };
extern const char *const rule_status_names[];

/* Falco's priorities, most severe first. */
enum rule_prio { PRIO_EMERGENCY, PRIO_ALERT, PRIO_CRITICAL, PRIO_ERROR, PRIO_WARNING,
		 PRIO_NOTICE, PRIO_INFORMATIONAL, PRIO_DEBUG };
extern const char *const rule_prio_names[];   /* "Emergency" ... as Falco prints them */

/* An output template: literal text and %fields in turn. */
struct out_part {
	char *lit;                 /* literal text before the field (may be "") */
	int field;                 /* index into the rule's ofields, or -1 (trailing text) */
};

struct guard_rule {
	char *name, *desc, *output, *source;
	enum rule_prio prio;
	char **tags;
	int ntags;
	bool enabled;
	char *file;                /* where it was defined */
	int line;
	/* compiled */
	struct cond *cond;         /* NULL when not compiled (disabled, other source, ...) */
	enum rule_status status;
	char reason[512];
	struct cond_kparts kp;
	struct out_part *parts;
	int nparts;
	struct cond_field *ofields;   /* every %field of the output, resolved */
	int nofields;
	int index;                 /* position in the set */
};

struct guard_plugin_req {
	char *name, *version;
};

struct guard_ruleset {
	struct guard_rule **rules;
	int nrules;
	int nmacros, nlists;
	char *engine_version;      /* highest required_engine_version seen, or NULL */
	struct guard_plugin_req *plugins;
	int nplugins;
	void *priv;                /* loader state: lists and macros (cond_env) */
	/* the checks the rules' conditions have in common (cond_eval_memo with a cond_memo
	 * made from it evaluates each once per event) */
	struct cond_share *share;
	/* module-load event types are not watched here (guard_load: a kernel without module
	 * support and no --module-attempts); the rules on them alone are not_evaluable */
	bool modules_off;
	int modules_gated;             /* rules made not_evaluable by it */
};

/* Loads files and compiles every rule against the
 * provider. Returns NULL on any syntax or reference error, with "FILE:LINE:COL: message" in
 * err. */
struct guard_ruleset *guard_rules_load(const char *const *files, int nfiles,
				       const struct cond_provider *p, char *err, size_t errlen);
/* The same from memory (fuzzing, tests): name is used in messages. */
struct guard_ruleset *guard_rules_load_mem(const char *name, const char *text, size_t len,
					   const struct cond_provider *p, char *err, size_t errlen);
void guard_rules_free(struct guard_ruleset *rs);

/* The set's macros and lists as a cond_env (for conditions written elsewhere, e.g. the
 * enforcement file of issue 11). Valid while rs lives. */
void guard_rules_env(struct guard_ruleset *rs, struct cond_env *env);

#endif
