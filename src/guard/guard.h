/* SPDX-License-Identifier: BSD-2-Clause */
/* ebee guard's pieces shared by its commands (guard.c: check, run.c: run). */
#ifndef EBEE_GUARD_GUARD_H
#define EBEE_GUARD_GUARD_H

#include "core/cmd.h"
#include "guard/rules.h"

extern const char guard_default_name[];
extern const struct ebee_cmd guard_run_cmd;

/* The files given with -r, or ebee's default rules; NULL after printing the error. */
struct guard_ruleset *guard_load(const struct opt_list *files, bool quiet_default);
/* What the kernel decides for a rule, as text (empty when nothing). */
size_t guard_kparts_text(const struct guard_rule *r, char *buf, size_t len);

#endif
