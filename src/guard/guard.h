/* SPDX-License-Identifier: BSD-2-Clause */
/* ebee guard's pieces shared by its commands (guard.c: check, run.c: run). */
#ifndef EBEE_GUARD_GUARD_H
#define EBEE_GUARD_GUARD_H

#include "core/cmd.h"
#include "core/collector.h"
#include "core/event.h"
#include "guard/rules.h"

/* An alert as an event (EV_ALERT) of the guard collector: made in user space from the
 * record that fired it (whose header it keeps: time, process, cgroup), fixed size, rendered
 * already (the output line and the output fields as a JSON object), since the process table
 * moves on. Rendered as Falco's JSON by the collector's event_json. */
struct guard_alert {
	struct ebee_event_hdr hdr;  /* the firing record's, type EV_ALERT */
	uint64_t real_ns;           /* wall time of the event, ns since the epoch */
	uint32_t rule;              /* index in the rule set; UINT32_MAX: guard's own (drops) */
	uint32_t prio;              /* enum rule_prio */
	char rule_name[128];
	char priority[16];
	char output[2048];          /* Falco's text line: "HH:MM:SS.nnnnnnnnn: Priority ..." */
	char fields[4096];          /* output_fields: a JSON object */
};

extern const struct collector_desc guard_collector;
extern const char guard_default_name[];
extern const struct ebee_cmd guard_run_cmd;

/* The files given with -r, or ebee's default rules; NULL after printing the error.
 * module_attempts: --module-attempts (events/evtypes.h ev_mod_optin). */
struct guard_ruleset *guard_load(const struct opt_list *files, bool quiet_default,
				 bool module_attempts);
/* Whether the events collector is asked for Falco event type i (gevent.h): its source, 0
 * when ebee does not capture it or not here (rs->modules_off). */
int guard_rs_source(const struct guard_ruleset *rs, int i);
/* What the kernel decides for a rule, as text (empty when nothing). */
size_t guard_kparts_text(const struct guard_ruleset *rs, const struct guard_rule *r, char *buf,
			 size_t len);

#endif
