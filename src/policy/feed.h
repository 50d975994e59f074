/* SPDX-License-Identifier: BSD-2-Clause */
/* The verdict stream shared with `ebee policy flows`: a running apply listens on a unix socket
 * under /run/ebee/policy/ (named by its pid, gone with it) and writes every verdict's JSON
 * line to the readers connected. A reader too slow to keep up loses lines, counted and told
 * at the end; the enforcing process never blocks on it. */
#ifndef EBEE_POLICY_FEED_H
#define EBEE_POLICY_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POL_FEED_DIR "/run/ebee/policy"
#define POL_FEED_MAX 8

struct ebee_loop;

struct pol_feed {
	int lfd;
	int cfd[POL_FEED_MAX];
	char path[108];
	uint64_t dropped;
};

/* Starts listening (a failure is only a warning: enforcement does not depend on it). */
void pol_feed_open(struct pol_feed *f, struct ebee_loop *l);
void pol_feed_line(struct pol_feed *f, const char *line, size_t len);
void pol_feed_close(struct pol_feed *f);
/* True when some reader is connected (lines are worth rendering). */
bool pol_feed_active(const struct pol_feed *f);
/* flows: connects to the apply with this pid (0 = the newest live one); fd or -errno. */
int pol_feed_connect(int pid);

#endif
