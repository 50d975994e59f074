/* SPDX-License-Identifier: BSD-2-Clause */
/* What guard's rules see of one event: the platform's header, the syscall it came from (as
 * Falco names it), its arguments and result, and the process context through the process
 * table (src/proc). The live source fills it from the events collector's records through
 * their field tables (core/field.h); tests and the replay benchmark fill it directly. Fixed
 * size, filled on the loop's thread, no allocation. */
#ifndef EBEE_GUARD_GEVENT_H
#define EBEE_GUARD_GEVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "core/event.h"
#include "proc/proc.h"

/* Process context: the process table (proc_ancestor) or a test double. n = 0 the process. */
struct guard_procs {
	const struct proc *(*ancestor)(void *arg, uint32_t pid, int n);
	const char *(*fd)(void *arg, uint32_t pid, int fd);   /* fd_lookup; may be NULL */
	void *arg;
};

struct gevent {
	const struct ebee_event_hdr *hdr;
	int sc;                    /* Falco event type index (guard_evtype_name) */
	uint64_t num;              /* evt.num: 1, 2, ... */
	int64_t res;               /* >= 0 value, < 0 -errno */
	/* files */
	const char *path;          /* fd.name: the normalised absolute path (open), or the
				    * syscall's path argument */
	const char *path_raw;      /* fd.nameraw: as the process passed it */
	const char *path2;         /* target (symlink), newpath (link, rename) */
	uint32_t flags, mode;      /* open flags (O_*), mode */
	int32_t fd;                /* the fd the event is about (dup: oldfd; connect: sockfd) */
	char typechar;             /* fd.typechar: 'f' 'd' '4' '6' 'u' 'p' ... 0 = unknown */
	/* sockets: local and remote ends */
	uint8_t family;            /* 4, 6, 1 (unix) or 0 */
	uint8_t l4proto;           /* IPPROTO_TCP/UDP/... or 0 */
	uint8_t lip[16], rip[16];
	uint16_t lport, rport;
	/* other arguments by Falco's names: socket domain/type/protocol, ptrace request/pid,
	 * kill pid/sig, setuid uid, module flags ... (see guard_args in fields.c) */
	int64_t arg[4];
	const struct guard_procs *procs;
	/* caches filled on first use during one evaluation (reset by the caller per event) */
	bool extra_done;
	struct {
		int64_t sid, pgid, gid;
		uint64_t cap_eff, cap_prm, cap_inh;
		bool ok;
	} extra;
};

/* Falco event type names guard knows, and which ebee event type provides each (0: none). */
int guard_evtype_index(const char *name);
const char *guard_evtype_name(int i);
int guard_evtype_source(int i);      /* enum ebee_event_type */
int guard_evtype_count(void);

#endif
