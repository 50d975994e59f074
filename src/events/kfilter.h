/* SPDX-License-Identifier: BSD-2-Clause */
/* The events collector's in-kernel prefilter and kernel counters, for consumers that know
 * which records they can use (guard compiles its rules into clauses here). A clause is a
 * conjunction the consumer's condition implies; per syscall, a record crosses to user space
 * when one of its clauses holds, and is counted as skipped otherwise. Set between
 * collector_open and collector_start of an events collector. */
#ifndef EBEE_EVENTS_KFILTER_H
#define EBEE_EVENTS_KFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/event.h"

struct collector;

struct ev_kclause {
	int sc;                        /* enum ev_sc */
	const char *const *comm;       /* process names (the exec'd comm, 15 bytes) ... */
	int ncomm;                     /* ... or -1: any name */
	const char *const *path;       /* path prefixes (absolute) ... */
	int npath;                     /* ... or -1: any path */
	bool need_write;               /* opens: O_WRONLY, O_RDWR, O_CREAT or O_TRUNC */
	bool need_dotdot;              /* the path as passed contains "../" */
};

/* Loads the clauses into the kernel. A syscall given more than EV_KF_CLAUSES clauses, or one
 * clause with neither constraint, is not filtered. Returns 0 or -errno having said why. */
int ev_kfilter_set(struct collector *c, const struct ev_kclause *cl, int n);
/* Whether syscall sc is filtered (after ev_kfilter_set). */
bool ev_kfilter_on(struct collector *c, int sc);

struct ev_kcounters {
	uint64_t skipped;              /* records the prefilter kept in the kernel */
	uint64_t lost;                 /* records the ring buffer had no room for */
	uint64_t lost_by_type[EV__MAX];
};
void ev_kcounters(struct collector *c, struct ev_kcounters *k);

#endif
