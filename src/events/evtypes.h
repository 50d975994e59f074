/* SPDX-License-Identifier: BSD-2-Clause */
/* User side of the process, file and network events: the syscalls behind each event type,
 * the field tables (fields.c) and the collector (events.c).
 *
 * API for the features that consume events (guard, graph, policy, daemon):
 *   struct collector *c = ...events_collector with a struct ev_opts config...;
 *   collector_subscribe(c, fn, arg)   fn gets every record (struct ebee_event_hdr first; the
 *                                     type's layout in events/events.h, its fields by name
 *                                     through core/field.h) after the process table saw it;
 *   ev_proctab(c)                     the process table the events keep (src/proc/proc.h:
 *                                     proc_lookup, proc_ancestor, fd_lookup, proc_cwd);
 *   ev_lost(c)                        the drop counter, readable inside a callback. */
#ifndef EBEE_EVTYPES_H
#define EBEE_EVTYPES_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "events/events.h"
#include "core/field.h"
#include "core/filter.h"
#include "core/load.h"

struct ev_syscall {
	const char *name;          /* "openat": programs ev_en_openat / ev_ex_openat */
	uint16_t type;             /* enum ebee_event_type */
};
extern const struct ev_syscall ev_syscalls[SC__MAX];
extern const struct ebee_event_desc ev_descs[];
extern const int ev_ndescs;
void ev_register_all(void);

const char *ev_open_flags(uint64_t v, char *buf, size_t len);
const char *ev_octal(uint64_t v, char *buf, size_t len);
const char *ev_kill_signal(const struct ev_sys *e, char *buf, size_t len);

/* The config of the three commands (one option table each, one struct). */
struct ev_opts {
	struct filter_opts filter;
	struct opt_list types;         /* --type */
	bool all;                      /* --all */
	bool failed, success;
	const char *path_prefix;
	unsigned long long ring_size;  /* --ring-size, bytes (power of two >= 4K) */
	unsigned long long ancestry;   /* --ancestry N */
	double duration;
	int mode;                      /* enum ev_mode, set by the command */
	bool dgram_sends;              /* sendto: datagram/raw sockets only (no CLI option: the
					* graph's, which counts packets) */
	bool module_attempts;          /* --module-attempts (ev_mod_optin) */
};

/* Module-load attempts on a kernel without module support (no CONFIG_MODULES: no
 * /proc/modules, no init_module/finit_module tracepoints, both calls fail with ENOSYS) are
 * seen only by a raw sys_exit program, which runs on every syscall of the machine: there
 * they are watched only when asked (--module-attempts; `events --type module` asks too).
 * ev_mod_optin() says whether this kernel is such a one and the per-syscall tracepoints
 * would be used otherwise (with the dispatcher chosen anyway they cost nothing extra and
 * stay on; a kernel with modules but without their tracepoints keeps them too). EV_MOD_WHY
 * is the reason every command and doctor give; EV_MODULE_OPT the option of each. */
bool ev_mod_optin(void);
#define EV_MOD_WHY                                                                          \
	"a kernel without module support: the calls can only fail; watching them runs a "  \
	"program on every syscall of the machine (~100 ns each)"
#define EV_MODULE_OPT(T, m)                                                                 \
	{ "module-attempts", 0, OPT_FLAG, offsetof(T, m), NULL,                              \
	  "watch module-load attempts on a kernel without module support (they can only "   \
	  "fail; a program then runs on every syscall, ~100 ns each)" }

enum ev_mode { EVM_EXEC, EVM_OPEN, EVM_EVENTS };

struct collector;
struct proctab;
extern const struct collector_desc events_collector;
/* Its sched hooks (exec, fork, exit), where the syscall programs read the arguments and the
 * syscalls' hook (the sys_exit dispatcher or per-syscall tracepoints): the hook table of the
 * collectors built on it. */
#define EV_NHOOKS 5
#define EV_HOOK_ARGS 3
#define EV_HOOK_SYS 4
extern const struct ebee_hook ev_hooks[EV_NHOOKS];
struct proctab *ev_proctab(struct collector *c);
/* For collectors built on this one (guard, graph): the syscall tracepoints' doctor check, the
 * loaded object (events/kfilter.c fills and reads its maps). */
bool ev_doctor(char *buf, size_t len);
struct bpf_object;
struct bpf_object *ev_bpf_object(struct collector *c);
/* Records the kernel could not queue so far (read from the drop map now, without draining the
 * ring as refresh does: a subscriber may call it from inside its callback). */
uint64_t ev_lost(struct collector *c);

#endif
