/* SPDX-License-Identifier: BSD-2-Clause */
/* A verdict event as users read it: table rows, Hubble-like JSON, and its field table
 * (core/field.h) for the daemon's event stream and filters. */
#ifndef EBEE_POLICY_RENDER_H
#define EBEE_POLICY_RENDER_H

#include <stddef.h>
#include "core/out.h"
#include "policy/model.h"

struct jw;

enum { V_TIME, V_VERDICT, V_DIR, V_PROTO, V_SRC, V_DST, V_FLAGS, V_PKTS, V_BYTES, V_WHY, V__N };
extern const struct out_col pol_verdict_cols[V__N];
extern const char *const pol_verdict_names[4];

/* Registers EV_POLICY_VERDICT's field table (once; later calls do nothing). */
void pol_register_event(void);
/* The Hubble-like flow as members of the open object w. */
void pol_event_hubble(struct jw *w, const struct pol_set *s, const struct pol_compiled *c,
		      const struct pol_event *e);
/* The same as one JSON line (with its newline) in buf; returns its length. */
size_t pol_event_line(char *buf, size_t cap, const struct pol_set *s, const struct pol_compiled *c,
		      const struct pol_event *e);
/* One row of pol_verdict_cols. */
void pol_event_row(struct out *o, const struct pol_set *s, const struct pol_compiled *c,
		   const struct pol_event *e);
/* The policy a flow's verdict is counted under: the first allowing rule's, else the first
 * isolating one's; -1 when the workload is not isolated. */
int pol_event_policy(const struct pol_set *s, const struct pol_compiled *c, const struct pol_event *e);

#endif
