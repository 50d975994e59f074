// SPDX-License-Identifier: BSD-2-Clause
/* ebee exec / open / events: one collector over events.bpf.c. Records feed the process table
 * (src/proc) first, then are rendered from their field tables (core/field.h) with the process
 * context, then handed to subscribers. Relative paths are resolved here, against the
 * process table's cwd or the dirfd's path (tracepoints cannot call bpf_d_path, and walking the
 * dentry chain in BPF would cost more than the whole open). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/cmd.h"
#include <linux/capability.h>
#include "core/collector.h"
#include "core/priv.h"
#include "core/ebee.h"
#include "core/syscalls.h"
#include "core/json.h"
#include "core/load.h"
#include "core/loop.h"
#include "core/out.h"
#include "events/evtypes.h"
#include "proc/proc.h"
#include "events/events.skel.h"

#define AT_FDCWD_ (-100)
#define EV_MAX_LINKS 160
#define EV_CWDS 256
#define EV_RING_CLI (2u << 20)   /* exec/open's ring; the object's 4 MB for the others */

struct ev_user {
	uint32_t uid;
	char name[32];
};

struct ev_state {
	struct events_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[EV_MAX_LINKS];
	int nlinks;
	struct filter filt;
	bool filt_done;
	bool want[EV__MAX];
	struct proctab *pt;
	struct out *out;           /* the CLI's rows (exec/open tables, JSON lines); NULL: print nothing */
	bool json;
	int timer;                 /* the reaping tick's id, -1 = none */
	char lost_why[256];        /* "ring buffer full ...; open=3 exec=1" */
	char prefix[EV_PATH_LEN];
	struct ev_user users[64];
	int ancestry;              /* --ancestry N */
	/* cwds set by chdir/fchdir during the run, direct-mapped by pid (the process table
	 * has no chdir feed); a collision falls back to the table's cwd */
	struct ev_cwd {
		uint32_t pid;
		char cwd[PROC_CWD_LEN];
	} cwds[EV_CWDS];
};

/* ---- options ---- */

#define OFF(m) offsetof(struct ev_opts, m)
#define EV_COMMON_OPTS(ring)                                                                 \
	{ "success", 0, OPT_FLAG, OFF(success), NULL, "only successful calls" },               \
	{ "ring-size", 0, OPT_SIZE, OFF(ring_size), "SIZE",                                      \
	  "ring buffer size (power of two, >= 4K)", ring },                                     \
	{ "duration", 'd', OPT_SECONDS, OFF(duration), "SECONDS", "stop after this long", NULL, \
	  0, 1e9 },                                                                              \
	EBEE_FILTER_OPTS(struct ev_opts, filter)

static const struct opt exec_opts[] = {
	{ "failed", 0, OPT_FLAG, OFF(failed), NULL, "only failed execs" },
	{ "fail", 0, OPT_FLAG, OFF(failed), NULL, "the same as --failed" },
	{ "ancestry", 'a', OPT_UINT, OFF(ancestry), "N", "show N ancestors of each process",
	  NULL, 0, 16 },
	EV_COMMON_OPTS("2M"),
	OPT_END,
};

static const struct opt open_opts[] = {
	{ "failed", 0, OPT_FLAG, OFF(failed), NULL, "only failed opens" },
	{ "path-prefix", 'P', OPT_STR, OFF(path_prefix), "PATH",
	  "only paths starting with PATH (checked in the kernel for absolute paths)" },
	EV_COMMON_OPTS("2M"),
	OPT_END,
};

static const struct opt events_opts[] = {
	{ "type", 't', OPT_LIST, OFF(types), "TYPE,...", "event types, comma-separated (listed above)" },
	{ "all", 0, OPT_FLAG, OFF(all), NULL, "every event type" },
	{ "failed", 0, OPT_FLAG, OFF(failed), NULL, "only failed syscalls" },
	{ "path-prefix", 'P', OPT_STR, OFF(path_prefix), "PATH", "file events: only these paths" },
	{ "ancestry", 'a', OPT_UINT, OFF(ancestry), "N", "add N ancestors to each event",
	  NULL, 0, 16 },
	EV_MODULE_OPT(struct ev_opts, module_attempts),
	EV_COMMON_OPTS("4M"),
	OPT_END,
};

/* ---- resolving options ---- */

/* Module loads where watching them needs the opt-in (evtypes.h): --all leaves them out,
 * named types (`--type module`, a daemon config's type list) are the choice itself, as
 * bpftool and Falco load what they are told; the info line says the cost either way. */
static void ev_mod_gate(struct ev_state *s, const struct ev_opts *o)
{
	if (!s->want[EV_MODULE] || o->module_attempts || !ev_mod_optin())
		return;
	if (!o->types.n) {
		s->want[EV_MODULE] = false;
		ebee_info("module: left out of --all, " EV_MOD_WHY " (--module-attempts adds it)");
	} else {
		ebee_info("module: watched as asked, on " EV_MOD_WHY);
	}
}

static int ev_types(struct ev_state *s, const struct ev_opts *o)
{
	static const char *names[EV__MAX];

	for (int i = 0; i < ev_ndescs; i++)
		names[i] = ev_descs[i].name;
	if (o->mode == EVM_EXEC) {
		s->want[EV_EXEC] = true;
		return 0;
	}
	if (o->mode == EVM_OPEN) {
		s->want[EV_OPEN] = true;
		return 0;
	}
	if (o->all && !o->types.n) {   /* the daemon's default is all; its config may name types */
		for (int i = 0; i < ev_ndescs; i++)
			s->want[ev_descs[i].type] = true;
		ev_mod_gate(s, o);
		return 0;
	}
	if (!o->types.n) {
		ebee_err("no event type given: use --type TYPE,... or --all");
		return -EINVAL;
	}
	for (int i = 0; i < o->types.n; i++) {
		const struct ebee_event_desc *d = event_desc_by_name(o->types.v[i]);
		const char *hint;

		if (d) {
			s->want[d->type] = true;
			continue;
		}
		hint = opts_suggest(o->types.v[i], names);
		if (hint)
			ebee_err("unknown event type '%s' (did you mean '%s'?)", o->types.v[i], hint);
		else
			ebee_err("unknown event type '%s' (see ebee events --help)", o->types.v[i]);
		return -EINVAL;
	}
	ev_mod_gate(s, o);
	return 0;
}

static bool syscall_tp_exists(const char *name)
{
	const char *tfs = ebee_tracefs_path();
	char p[256];

	if (!tfs)
		return false;
	snprintf(p, sizeof(p), "%s/events/syscalls/sys_enter_%s", tfs, name);
	return access(p, F_OK) == 0;
}

static void set_autoload(struct bpf_object *obj, const char *prefix, const char *name, bool on)
{
	char pn[64];
	struct bpf_program *p;

	snprintf(pn, sizeof(pn), "%s%s", prefix, name);
	p = bpf_object__find_program_by_name(obj, pn);
	if (p)
		bpf_program__set_autoload(p, on);
}

/* The sched hooks, each with its variants in order of preference (the graph's too); where
 * the per-syscall tracepoint programs find the arguments: at sys_exit from the saved user
 * registers, or stashed per thread by sys_enter programs (events.bpf.c args_stash); and the
 * syscalls' hook: a tracepoint program per syscall (ev_ex_X, "" here: which ones depends on
 * the asked types), which costs only the traced calls, before the one tp_btf program on the
 * raw sys_exit dispatching on the number, which costs every syscall of the machine
 * (bench/README.md, events: the hooks). ev_sys_raw puts the dispatcher first for the runs
 * that load a raw sys_exit program anyway. */
const struct ebee_hook ev_hooks[EV_NHOOKS] = {
	{ "sched_process_exec", { { "ev_exec_btf", KIND_TP_BTF }, { "ev_exec_tp", KIND_TRACEPOINT } } },
	{ "sched_process_fork", { { "ev_fork_btf", KIND_TP_BTF }, { "ev_fork_tp", KIND_TRACEPOINT } } },
	{ "sched_process_exit", { { "ev_exit_btf", KIND_TP_BTF }, { "ev_exit_tp", KIND_TRACEPOINT } } },
	[EV_HOOK_ARGS] = { "syscall_args", { { "", KIND_TASK_PT_REGS }, { "", KIND_TRACEPOINT } } },
	[EV_HOOK_SYS] = { "sys_exit", { { "", KIND_TRACEPOINT }, { "ev_sys_exit", KIND_TP_BTF } } },
};
static const struct ebee_hook ev_sys_raw =
	{ "sys_exit", { { "ev_sys_exit", KIND_TP_BTF }, { "", KIND_TRACEPOINT } } };

/* Module loads without their own tracepoints come from a raw sys_exit program: then all the
 * syscalls are taken there (ev_sys_raw), as that program's cost is paid anyway. */
static bool ev_mod_raw(void)
{
	return !syscall_tp_exists("init_module") || !syscall_tp_exists("finit_module");
}

/* Both signs of a kernel without module support, so that a kernel with modules but without
 * their tracepoints (no CONFIG_FTRACE_SYSCALLS) keeps them; and only where the syscalls'
 * hook would be the per-syscall tracepoints (the dispatcher takes module loads for free). */
bool ev_mod_optin(void)
{
	return access("/proc/modules", F_OK) != 0 && ev_mod_raw() &&
	       ebee_first_usable(&ev_hooks[EV_HOOK_SYS]) == 0;
}

/* Module loads on the tracepoint fallback where their own tracepoints are missing: every
 * syscall exit, number first. */
static const struct ebee_hook ev_mod_hook[] = {
	{ "raw_syscalls:sys_exit", { { "ev_raw_exit_tp", KIND_TRACEPOINT } } },
};

static int ev_open(struct collector *c)
{
	const struct ev_opts *o = c->cfg;
	struct ev_state *s = c->priv;
	struct ebee_hook hooks[3];
	bool need[3], stash, dispatch;
	int nh = 0, err, nsys = 0, args, sysk;
	bool files = false;
	struct bpf_object *obj;

	s->timer = -1;
	s->out = c->ctx ? c->out : NULL;   /* the daemon and subscribers print nothing */
	s->json = c->ctx && c->ctx->json;
	ev_register_all();
	if ((err = ev_types(s, o)))
		return err;
	if (o->failed && o->success) {
		ebee_err("'--failed' and '--success' exclude each other");
		return -EINVAL;
	}
	if (o->path_prefix && (o->path_prefix[0] != '/' ||
			       strlen(o->path_prefix) >= sizeof(s->prefix))) {
		ebee_err("invalid path prefix '%s' (an absolute path of at most %d bytes)",
			 o->path_prefix, EV_PATH_LEN - 1);
		return -EINVAL;
	}
	if (o->ring_size && (o->ring_size < 4096 || (o->ring_size & (o->ring_size - 1)) ||
			     o->ring_size > (1ull << 30))) {
		ebee_err("invalid ring size '%llu' (a power of two from 4K to 1G)", o->ring_size);
		return -EINVAL;
	}
	err = filter_resolve(&s->filt, &o->filter);
	if (err)
		return err;
	s->filt_done = true;
	if (o->path_prefix)
		snprintf(s->prefix, sizeof(s->prefix), "%s", o->path_prefix);

	/* Seeded before loading so that attach follows load at once: what the table misses
	 * between seed and attach is read from /proc lazily on the first lookup. */
	s->pt = proctab_new(0);
	if (!s->pt)
		return -errno;
	proctab_seed(s->pt);

	s->skel = events_bpf__open();
	if (!s->skel)
		return ebee_load_err("events", -errno);
	ebee_skel_drop_elf(s->skel->skeleton);
	obj = s->skel->obj;
	s->skel->rodata->ebee_filter = s->filt.k;
	s->skel->rodata->ev_cfg.failed_only = o->failed;
	s->skel->rodata->ev_cfg.success_only = o->success;
	s->skel->rodata->ev_cfg.prefix_len = strlen(s->prefix);
	s->skel->rodata->ev_cfg.dgram_sends = o->dgram_sends;
	memcpy((char *)s->skel->rodata->ev_cfg.prefix, s->prefix, sizeof(s->prefix));
	s->skel->rodata->want_exec = s->want[EV_EXEC];
	s->skel->rodata->want_fork = s->want[EV_FORK];
	s->skel->rodata->want_exit = s->want[EV_EXIT];
	if (o->ring_size)
		bpf_map__set_max_entries(s->skel->maps.events, o->ring_size);
	else if (o->mode != EVM_EVENTS)
		/* exec/open: 2 MB is 4 MB of RSS (the data pages are mapped twice), under the 13 MB
		 * of bench/memory where 4 MB took 14.4; it lost nothing in bench/events' storm of
		 * 110 000 opens/s, but ~20 ms of a 244 000/s one when the reader stalled: then
		 * --ring-size, as the lost-events warning says */
		bpf_map__set_max_entries(s->skel->maps.events, EV_RING_CLI);

	/* Fork/exit keep the process table (and --children's follow map) exact: loaded for the
	 * generic stream and --children; exec and open do without and read /proc lazily. */
	need[0] = s->want[EV_EXEC];
	need[1] = s->want[EV_FORK] || o->filter.children || o->mode == EVM_EVENTS;
	need[2] = s->want[EV_EXIT] || o->filter.children || o->mode == EVM_EVENTS;
	for (int i = 0; i < 3; i++) {
		for (int v = 0; ev_hooks[i].v[v].prog; v++)
			set_autoload(obj, "", ev_hooks[i].v[v].prog, false);
		if (need[i])
			hooks[nh++] = ev_hooks[i];
	}
	for (int t = EV_OPEN; t <= EV_TRUNCATE; t++)
		files |= s->want[t];
	/* the syscalls' hook: a tracepoint per syscall, or the sys_exit dispatcher (tp_btf)
	 * where a raw sys_exit program is loaded anyway (module loads), or no tracepoints */
	bool mod_raw = s->want[EV_MODULE] && ev_mod_raw();
	const struct ebee_hook *sysh = mod_raw ? &ev_sys_raw : &ev_hooks[EV_HOOK_SYS];

	if ((err = ebee_choose(obj, sysh, 1, &sysk)))
		return err;
	dispatch = sysh->v[sysk].kind == KIND_TP_BTF;
	if (dispatch)
		ebee_info("syscalls: every asked syscall from one tp_btf program on sys_exit%s",
			  mod_raw ? " (module loads have no tracepoints here and need it anyway)" : "");
	else
		ebee_info("syscalls: a tracepoint program per asked syscall%s", mod_raw ? "" :
			  " (the raw sys_exit would cost every syscall of the machine)");
	/* module loads: from raw_syscalls when either per-syscall tracepoint is missing (the
	 * dispatcher takes them by number like every other syscall) */
	bool raw_mod = !dispatch && mod_raw;

	/* where the syscall programs find the arguments (the fast way, or the sys_enter stash);
	 * the dispatcher has the registers as its argument, but the probe also says whether the
	 * header may be read through BTF pointers (args_stash) */
	if ((err = ebee_choose(obj, &ev_hooks[EV_HOOK_ARGS], 1, &args)))
		return err;
	stash = args > 0;
	s->skel->rodata->args_stash = stash;
	if (stash && !dispatch)
		ebee_info("syscall arguments: stashed per thread at sys_enter (no bpf_task_pt_regs "
			  "here): an enter program per traced syscall");
	else
		bpf_map__set_max_entries(s->skel->maps.stash, 1);
	for (int sc = 1; sc < SC__MAX; sc++) {
		uint16_t t = ev_syscalls[sc].type;
		/* chdir/fchdir keep relative paths right for every file type */
		bool on = s->want[t] || (t == EV_CHDIR && files);

		if (on && dispatch) {
			int nr = syscall_nr(ev_syscalls[sc].name);

			set_autoload(obj, "ev_ex_", ev_syscalls[sc].name, false);
			set_autoload(obj, "ev_en_", ev_syscalls[sc].name, false);
			if (nr < 0 || nr >= (int)sizeof(s->skel->rodata->ev_nr_sc)) {
				ebee_info("no syscall '%s' on this architecture: not traced",
					  ev_syscalls[sc].name);
				continue;
			}
			s->skel->rodata->ev_nr_sc[nr] = sc;
			s->skel->rodata->ev_sc_on |= 1ull << sc;
			nsys++;
			continue;
		}
		if (on && raw_mod && t == EV_MODULE) {
			on = false;   /* from raw_syscalls below */
		} else if (on && !syscall_tp_exists(ev_syscalls[sc].name)) {
			ebee_info("no tracepoint for syscall '%s' on this kernel: not traced",
				  ev_syscalls[sc].name);
			on = false;
		}
		set_autoload(obj, "ev_ex_", ev_syscalls[sc].name, on);
		set_autoload(obj, "ev_en_", ev_syscalls[sc].name, on && stash);
		nsys += on;
	}
	set_autoload(obj, "", "ev_sys_exit", dispatch && nsys);
	set_autoload(obj, "", "ev_raw_exit_tp", raw_mod);
	set_autoload(obj, "", "ev_raw_enter_tp", false);
	if (raw_mod) {
		int ch[1];

		if ((err = ebee_choose(obj, ev_mod_hook, 1, ch)))
			return err;
		set_autoload(obj, "", "ev_raw_enter_tp", stash);
		ebee_info("no tracepoints for init_module/finit_module here: module loads are taken "
			  "from the raw sys_exit tracepoint");
		nsys++;
	}
	if (nh) {
		/* ebee_choose turns autoload on for the chosen variant only */
		for (int i = 0; i < nh; i++)
			for (int v = 0; hooks[i].v[v].prog; v++)
				set_autoload(obj, "", hooks[i].v[v].prog, true);
		int chosen[ARRAY_SIZE(ev_hooks)];

		if ((err = ebee_choose(obj, hooks, nh, chosen)))
			return err;
	}
	if (!nh && !nsys) {
		ebee_err("nothing to trace: no hook of the asked types exists on this kernel");
		return -EOPNOTSUPP;
	}
	err = events_bpf__load(s->skel);
	if (err)
		return ebee_load_err("events", err);
	return filter_load_maps(&s->filt, s->skel->maps.ebee_cgroups, s->skel->maps.ebee_follow);
}

/* ---- per event ---- */

static const char *user_name(struct ev_state *s, uint32_t uid)
{
	struct ev_user *u = &s->users[uid % ARRAY_SIZE(s->users)];
	struct passwd *pw;

	/* a direct-mapped cache: getpwuid reads NSS files, far too slow per event */
	if (u->name[0] && u->uid == uid)
		return u->name;
	pw = getpwuid(uid);
	u->uid = uid;
	if (pw)
		snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	else
		snprintf(u->name, sizeof(u->name), "%u", uid);
	return u->name;
}

/* A path as the process meant it: relative ones joined to the cwd or the dirfd's path in out,
 * absolute ones as they are (not copied: one per event). *ok is false (and the path is as
 * given) when the base is unknown. */
static const char *resolve(struct ev_state *s, uint32_t pid, int dirfd, const char *path,
			   char *out, size_t len, bool *ok)
{
	const char *base;

	*ok = true;
	if (path[0] == '/' || !path[0])
		return path;
	if (dirfd == AT_FDCWD_) {
		const struct ev_cwd *c = &s->cwds[pid % EV_CWDS];

		/* a chdir seen during the run is the truth at this point of the stream; the
		 * table's cwd (read from /proc at seed, fork or first lookup) otherwise */
		base = c->pid == pid && c->cwd[0] ? c->cwd : proc_cwd(s->pt, pid);
	} else {
		base = fd_lookup(s->pt, pid, dirfd);
	}
	if (!base || base[0] != '/' || strstr(base, " (deleted)")) {
		/* unknown, or a deleted cwd/directory: no full path to give, say so */
		*ok = false;
		return path;
	}
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (!strcmp(path, "."))
		path = "";
	snprintf(out, len, "%s%s%s", base, base[1] && path[0] ? "/" : "", path);
	return out;
}

static const char *const ev_errno_key = "evt.errno";

/* A failed exec's args are read 128 bytes at a time (events.bpf.c): one of 127 bytes may
 * have been cut there. */
static bool failed_arg_cut(const struct ev_exec *e)
{
	uint32_t n = e->args_len < sizeof(e->args) ? e->args_len : sizeof(e->args);

	for (uint32_t i = 0; i < n;) {
		size_t l = strnlen(e->args + i, n - i);

		if (l == 127)
			return true;
		i += l + 1;
	}
	return false;
}

static void json_args(struct jw *w, const struct ev_exec *e)
{
	uint32_t n = e->args_len < sizeof(e->args) ? e->args_len : sizeof(e->args);
	uint32_t i = 0;

	jw_key(w, "proc.args");
	jw_arr_begin(w);
	while (i < n) {
		size_t l = strnlen(e->args + i, n - i);

		jw_strn(w, e->args + i, l);
		i += l + 1;
	}
	jw_arr_end(w);
}

static void json_ancestors(struct ev_state *s, struct jw *w, uint32_t pid, int n)
{
	jw_key(w, "proc.ancestors");
	jw_arr_begin(w);
	for (int i = 1; i <= n; i++) {
		const struct proc *a = proc_ancestor(s->pt, pid, i);

		if (!a)
			break;
		jw_obj_begin(w);
		jw_ku64(w, "pid", a->pid);
		jw_kstr(w, "comm", a->comm);
		jw_kstr(w, "exe", a->exe);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void cmdline_text(const struct proc *p, char *buf, size_t len)
{
	size_t n = p->cmdline_len < PROC_CMDLINE_LEN ? p->cmdline_len : PROC_CMDLINE_LEN;

	/* NUL-separated args joined by spaces (the exec event keeps them apart) */
	if (n >= len)
		n = len - 1;
	memcpy(buf, p->cmdline, n);
	while (n && !buf[n - 1])
		n--;
	buf[n] = 0;
	for (size_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
}

static bool is_path_field(const struct ebee_field *f)
{
	return f->off == offsetof(struct ev_sys, path) && f->kind == FK_STR;
}

/* The event as members of the open object w: the header, the process table's context, the
 * type's fields (path: the resolved path, NULL = the record's). */
static void ev_members(struct ev_state *s, struct jw *w, const struct ebee_event_desc *d,
		       const struct ebee_event_hdr *h, const struct proc *p, const char *path,
		       bool resolved)
{
	char buf[PROC_CMDLINE_LEN + 8];
	jw_kstr(w, "evt.type", d->name);
	jw_kstr(w, "evt.time", ebee_fmt_time(ebee_ktime_to_real(h->time_ns), buf, sizeof(buf)));
	jw_ku64(w, "proc.pid", h->pid);
	jw_ku64(w, "thread.tid", h->tid);
	jw_ku64(w, "user.uid", h->uid);
	jw_kstr(w, "user.name", user_name(s, h->uid));
	jw_key(w, "proc.comm");
	jw_strn(w, h->comm, sizeof(h->comm));
	jw_ku64(w, "proc.cgroup_id", h->cgroup_id);
	if (p) {
		/* exec/fork/exit records carry the parent the kernel saw: theirs, not the table's,
		 * and a JSON object names a key once (looked up once per type, not per event) */
		static uint8_t own_ppid[EV__MAX];   /* 0 = not looked up, 1 = no, 2 = yes */

		if (d->type < EV__MAX && !own_ppid[d->type])
			own_ppid[d->type] = event_field(d, "proc.ppid") ? 2 : 1;
		if (d->type >= EV__MAX ? !event_field(d, "proc.ppid") : own_ppid[d->type] == 1)
			jw_ku64(w, "proc.ppid", p->ppid);
		jw_ku64(w, "user.euid", p->euid);
		jw_ki64(w, "user.loginuid", p->loginuid == (uint32_t)-1 ? -1 : (int64_t)p->loginuid);
		jw_kstr(w, "proc.exe", p->exe);
		cmdline_text(p, buf, sizeof(buf));
		jw_kstr(w, "proc.cmdline", buf);
		jw_kstr(w, "proc.cwd", p->cwd);
		jw_kstr(w, "proc.tty", p->tty);
		jw_kstr(w, "container.id", p->container_id[0] ? p->container_id : "host");
		if (p->exited)
			jw_kbool(w, "proc.exited", true);
	} else {
		/* gone before we could look: the header's context is all there is */
		jw_kbool(w, "proc.unknown", true);
	}
	for (int i = 0; i < d->nfields; i++) {
		const struct ebee_field *f = &d->fields[i];

		/* every field under its table name; the path resolved */
		if (field_unset(f, h) && !(path && is_path_field(f)))
			continue;
		jw_key(w, f->name);
		if (path && is_path_field(f))
			jw_str(w, path);
		else
			field_json(w, f, h);
		if (f->kind == FK_RET && field_i64(f, h) < 0)
			jw_kstr(w, ev_errno_key, field_text(f, h, buf, sizeof(buf)));
	}
	if (path && !resolved)
		jw_kbool(w, "evt.path_unresolved", true);
	if (h->type == EV_EXEC) {
		const struct ev_exec *e = (const void *)h;

		json_args(w, e);
		if (e->ret < 0)
			jw_kstr(w, ev_errno_key, strerrorname_np(-e->ret) ?: "?");
		if (e->flags & EVF_ARGS_TRUNC || (e->ret < 0 && failed_arg_cut(e)))
			jw_kbool(w, "proc.args_truncated", true);
	} else if (d->size >= EV_SYS_SIZE1 && h->type >= EV_OPEN) {
		const struct ev_sys *e = (const void *)h;

		if (h->type == EV_KILL)
			jw_kstr(w, "evt.signal", ev_kill_signal(e, buf, sizeof(buf)));

		if (e->flags & (EVF_PATH_TRUNC | EVF_PATH2_TRUNC))
			jw_kbool(w, "evt.path_truncated", true);
	}
	if (s->ancestry)
		json_ancestors(s, w, h->pid, s->ancestry);
}

static void ev_json(struct ev_state *s, const struct ebee_event_desc *d,
		    const struct ebee_event_hdr *h, const struct proc *p, const char *path,
		    bool resolved)
{
	struct jw w;

	jw_init_file(&w, s->out->f);
	jw_obj_begin(&w);
	ev_members(s, &w, d, h, p, path, resolved);
	jw_obj_end(&w);
	jw_finish(&w);
	fputc('\n', s->out->f);
}

/* desc->event_json: a record handed to subscribers, for the daemon's stream. */
static void ev_event_json(struct collector *c, struct jw *w, const struct ebee_event_hdr *h)
{
	struct ev_state *s = c->priv;
	const struct ebee_event_desc *d = event_desc(h->type);

	if (d)
		ev_members(s, w, d, h, proc_lookup(s->pt, h->pid), NULL, true);
	else
		event_json(w, h);
}

enum { EC_TIME, EC_PID, EC_PPID, EC_USER, EC_COMM, EC_RET, EC_CONT, EC_EXE, EC_ARGS, EC_ANC };
static const struct out_col exec_cols[] = {
	[EC_TIME] = { "time", "TIME", OUT_STR, -15 },
	[EC_PID] = { "pid", "PID", OUT_U64, 7 },
	[EC_PPID] = { "ppid", "PPID", OUT_U64, 7 },
	[EC_USER] = { "user", "USER", OUT_STR, -8 },
	[EC_COMM] = { "comm", "COMM", OUT_STR, -16 },
	[EC_RET] = { "ret", "RET", OUT_STR, -6 },
	[EC_CONT] = { "container", "CONTAINER", OUT_STR, -12 },
	[EC_EXE] = { "exe", "EXE", OUT_STR, -24 },
	[EC_ARGS] = { "args", "ARGS", OUT_STR, -1 },
	[EC_ANC] = { "ancestry", "ANCESTRY", OUT_STR, -1 },
};
enum { OC_TIME, OC_PID, OC_COMM, OC_FD, OC_FLAGS, OC_MODE, OC_PATH };
static const struct out_col open_cols[] = {
	[OC_TIME] = { "time", "TIME", OUT_STR, -15 },
	[OC_PID] = { "pid", "PID", OUT_U64, 7 },
	[OC_COMM] = { "comm", "COMM", OUT_STR, -16 },
	[OC_FD] = { "fd", "FD/ERR", OUT_STR, 7 },
	[OC_FLAGS] = { "flags", "FLAGS", OUT_STR, -24 },
	[OC_MODE] = { "mode", "MODE", OUT_STR, -6 },
	[OC_PATH] = { "path", "PATH", OUT_STR, -1 },
};

static const char *short_time(uint64_t ktime, char *buf, size_t len)
{
	char full[48];
	size_t n = strlen(ebee_fmt_time(ebee_ktime_to_real(ktime), full, sizeof(full)));

	/* "2026-11-30T20:02:42.123456Z" -> "20:02:42.123456" (a copy: one line per event) */
	if (n >= 26 && len >= 16) {
		memcpy(buf, full + 11, 15);
		buf[15] = 0;
	} else if (len) {
		buf[0] = 0;
	}
	return buf;
}

static void exec_row(struct ev_state *s, const struct ev_exec *e)
{
	const struct proc *p = proc_lookup(s->pt, e->hdr.pid);
	/* a failed exec's program is what it asked for; a successful one's, the table's */
	const char *exe = e->ret ? e->filename : p ? p->exe : "";
	struct out *o = s->out;
	char buf[OUT_CELL], args[OUT_CELL];
	uint32_t n = e->args_len < sizeof(e->args) ? e->args_len : sizeof(e->args);
	size_t k = 0;

	out_str(o, EC_TIME, short_time(e->hdr.time_ns, buf, sizeof(buf)));
	out_u64(o, EC_PID, e->hdr.pid);
	out_u64(o, EC_PPID, e->ppid);
	out_str(o, EC_USER, user_name(s, e->hdr.uid));
	out_strn(o, EC_COMM, e->hdr.comm, sizeof(e->hdr.comm));
	out_str(o, EC_RET, e->ret ? strerrorname_np(-e->ret) ?: "?" : "0");
	out_str(o, EC_CONT, p && p->container_id[0] ? p->container_id : "host");
	out_str(o, EC_EXE, exe);
	/* args on one line: NULs as spaces, control bytes as '?' (the JSON keeps them exactly) */
	for (uint32_t i = 0; i < n && k + 4 < sizeof(args); i++) {
		unsigned char ch = e->args[i];

		args[k++] = !ch ? ' ' : ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	while (k && args[k - 1] == ' ')
		k--;
	if (e->flags & EVF_ARGS_TRUNC && k + 4 < sizeof(args)) {
		memcpy(args + k, " ...", 4);
		k += 4;
	}
	args[k] = 0;
	out_str(o, EC_ARGS, args);
	if (s->ancestry) {
		size_t used = 0;

		buf[0] = 0;
		for (int i = 1; i <= s->ancestry && used < sizeof(buf); i++) {
			const struct proc *a = proc_ancestor(s->pt, e->hdr.pid, i);

			if (!a)
				break;
			used += snprintf(buf + used, sizeof(buf) - used, "%s%s(%u)", i > 1 ? "<" : "",
					 a->comm, a->pid);
		}
		out_str(o, EC_ANC, buf);
	}
	out_row(o);
}

static void open_row(struct ev_state *s, const struct ev_sys *e, const char *path)
{
	struct out *o = s->out;
	char buf[OUT_CELL];

	out_str(o, OC_TIME, short_time(e->hdr.time_ns, buf, sizeof(buf)));
	out_u64(o, OC_PID, e->hdr.pid);
	out_strn(o, OC_COMM, e->hdr.comm, sizeof(e->hdr.comm));
	if (e->ret < 0)
		out_str(o, OC_FD, strerrorname_np((int)-e->ret) ?: "?");
	else
		out_u64(o, OC_FD, (uint64_t)e->ret);
	out_str(o, OC_FLAGS, ev_open_flags(e->a[0], buf, sizeof(buf)));
	if ((e->a[0] & O_CREAT) || (e->a[0] & O_TMPFILE) == O_TMPFILE)
		out_str(o, OC_MODE, ev_octal(e->a[1], buf, sizeof(buf)));
	out_str(o, OC_PATH, path);
	out_row(o);
}

static void feed_fds(struct ev_state *s, const struct ev_sys *e, const char *path)
{
	char buf[PROC_FD_PATH_LEN], a[64];

	if (e->ret < 0)
		return;
	switch (e->hdr.type) {
	case EV_OPEN:
		fd_on_open(s->pt, e->hdr.pid, (int)e->ret, path);
		break;
	case EV_CLOSE:
		fd_on_close(s->pt, e->hdr.pid, (int)e->a[0]);
		break;
	case EV_DUP:
		fd_on_dup(s->pt, e->hdr.pid, (int)e->a[0], (int)e->ret);
		break;
	case EV_SOCKET:
		snprintf(buf, sizeof(buf), "socket:family=%llu", (unsigned long long)e->a[0]);
		fd_on_open(s->pt, e->hdr.pid, (int)e->ret, buf);
		break;
	case EV_ACCEPT:
		field_text(&(struct ebee_field)FIELD("", FK_ADDR, struct ev_sys, addr,
						      .aux = offsetof(struct ev_sys, family)),
			   e, a, sizeof(a));
		snprintf(buf, sizeof(buf), "socket:peer %s:%u", a, e->port);
		fd_on_open(s->pt, e->hdr.pid, (int)e->ret, buf);
		break;
	case EV_MEMFD:
		snprintf(buf, sizeof(buf), "/memfd:%.200s", e->path);
		fd_on_open(s->pt, e->hdr.pid, (int)e->ret, buf);
		break;
	}
}

static int on_record(void *arg, void *data, size_t sz)
{
	struct collector *c = arg;
	struct ev_state *s = c->priv;
	const struct ev_opts *o = c->cfg;
	const struct ebee_event_hdr *h = data;
	const struct ebee_event_desc *d;
	char path[PROC_CWD_LEN + EV_PATH_LEN + 2];
	const char *pathp = NULL;
	bool resolved = true;

	if (sz < sizeof(*h) || h->size > sz || !(d = event_desc(h->type)))
		return 0;
	c->cnt.events++;
	switch (h->type) {
	case EV_FORK: {
		const struct ev_task *t = data;
		struct ev_cwd *pc = &s->cwds[t->ppid % EV_CWDS], *cc = &s->cwds[t->child % EV_CWDS];

		proc_on_fork(s->pt, t->ppid, t->child, t->child_start_ns, h->time_ns);
		if (pc->pid == t->ppid && pc != cc) {
			cc->pid = t->child;   /* the child starts where its parent is */
			memcpy(cc->cwd, pc->cwd, sizeof(cc->cwd));
		} else if (cc->pid == t->child) {
			cc->pid = 0;          /* a stale entry of a reused pid */
		}
		break;
	}
	case EV_EXEC: {
		const struct ev_exec *e = data;

		if (!e->ret) {
			/* the record's ppid is exact even when the fork was not traced (exec alone)
			 * or the process is already gone from /proc */
			proc_on_fork(s->pt, e->ppid, h->pid, h->start_ns, h->time_ns);
			proc_on_exec(s->pt, h->pid, h->start_ns,
				     resolve(s, h->pid, AT_FDCWD_, e->filename, path, sizeof(path),
					     &resolved), e->args,
				     e->args_len < sizeof(e->args) ? e->args_len : sizeof(e->args),
				     h->uid, h->cgroup_id, h->time_ns);
		}
		break;
	}
	case EV_CHDIR: {
		const struct ev_sys *e = data;
		struct ev_cwd *cc = &s->cwds[h->pid % EV_CWDS];
		const char *fdp;

		if (e->ret < 0)
			break;
		if (e->sc == SC_FCHDIR) {
			fdp = fd_lookup(s->pt, h->pid, (int)e->a[0]);
			snprintf(path, sizeof(path), "%s", fdp ? fdp : "");
			pathp = path;
		} else {
			pathp = resolve(s, h->pid, AT_FDCWD_, e->path, path, sizeof(path), &resolved);
		}
		cc->pid = pathp[0] == '/' ? h->pid : 0;
		snprintf(cc->cwd, sizeof(cc->cwd), "%s", pathp);
		break;
	}
	default:
		if (h->type >= EV_OPEN && sz >= EV_SYS_SIZE1) {
			const struct ev_sys *e = data;

			if (e->family == 1 /* AF_UNIX */ || h->type == EV_MEMFD ||
			    h->type == EV_MODULE || !e->path[0])
				break;
			pathp = resolve(s, h->pid, e->dirfd, e->path, path, sizeof(path), &resolved);
			/* relative paths passed the kernel's prefix check: check them resolved */
			if (s->prefix[0] && strncmp(pathp, s->prefix, strlen(s->prefix))) {
				c->cnt.events--;
				return 0;
			}
		}
	}
	/* A collector with subscribers (guard, graph, the daemon) feeds them and prints nothing:
	 * formatting JSON nobody reads cost them CPU per event. */
	if (s->want[h->type] && (c->nsubs || !s->out)) {
		/* counted, fed below */
	} else if (s->want[h->type]) {
		/* the open table shows the record alone: no process lookup per line */
		if (o->mode == EVM_EVENTS || s->json)
			ev_json(s, d, h, proc_lookup(s->pt, h->pid), pathp, resolved);
		else if (h->type == EV_EXEC)
			exec_row(s, data);
		else if (h->type == EV_OPEN)
			open_row(s, data, pathp ? pathp : ((const struct ev_sys *)data)->path);
	} else {
		c->cnt.events--;   /* loaded for the table only (fork/exit) */
	}
	if (h->type == EV_EXIT)
		proc_on_exit(s->pt, h->pid, h->time_ns);
	else if (h->type >= EV_OPEN && sz >= EV_SYS_SIZE1)
		feed_fds(s, data, pathp ? pathp : ((const struct ev_sys *)data)->path);
	collector_emit(c, h);
	return 0;
}

static int ev_tick(struct ebee_loop *l, void *arg)
{
	struct ev_state *s = arg;

	proc_reap(s->pt, ebee_now_ns());
	if (s->out)
		fflush(s->out->f);
	return 0;
}

static int ev_start(struct collector *c, struct ebee_loop *l)
{
	struct ev_state *s = c->priv;
	const struct ev_opts *o = c->cfg;
	struct bpf_program *prog;
	int err;

	bpf_object__for_each_program(prog, s->skel->obj) {
		struct bpf_link *link;

		if (!bpf_program__autoload(prog))
			continue;
		if (s->nlinks >= EV_MAX_LINKS)
			return -E2BIG;
		link = bpf_program__attach(prog);
		if (!link) {
			err = -errno;
			ebee_err("cannot attach '%s': %s", bpf_program__name(prog), strerror(-err));
			return err;
		}
		s->links[s->nlinks++] = link;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_record, c, NULL);
	if (!s->rb)
		return -errno;
	if ((err = loop_add_ringbuf(l, s->rb, 0)))
		return err;
	s->ancestry = (int)o->ancestry;
	if (s->out && !s->json && o->mode != EVM_EVENTS) {
		out_header(s->out);   /* at once: the header says "attached" */
		fflush(s->out->f);
	}
	s->timer = loop_add_timer(l, 1.0, ev_tick, s);
	return s->timer < 0 ? s->timer : 0;
}

static void ev_stop(struct collector *c)
{
	struct ev_state *s = c->priv;

	if (s->skel && s->skel->bss)
		s->skel->bss->ev_off = 1;
	for (int i = 0; i < s->nlinks; i++)
		bpf_link__destroy(s->links[i]);
	s->nlinks = 0;
}

static void ev_close(struct collector *c)
{
	struct ev_state *s = c->priv;

	ev_stop(c);
	/* the daemon's loop outlives a collector stopped by a reload */
	if (c->loop && s->timer >= 0)
		loop_del_timer(c->loop, s->timer);
	if (c->loop && s->rb)
		loop_del_ringbuf(c->loop, s->rb);
	ring_buffer__free(s->rb);
	events_bpf__destroy(s->skel);
	proctab_free(s->pt);
	if (s->filt_done)
		filter_free(&s->filt);
}

/* Reads what the ring still holds (after stop: the last records, so the counts are final),
 * then the counters: drops per type, recursion misses of every loaded program. */
static int ev_refresh(struct collector *c)
{
	struct ev_state *s = c->priv;
	int dfd = bpf_map__fd(s->skel->maps.ev_drops);
	struct bpf_program *prog;
	size_t used;

	if (s->rb)
		ring_buffer__consume(s->rb);
	c->cnt.lost = ebee_percpu_sum(bpf_map__fd(s->skel->maps.events_drops), 0);
	c->cnt.missed = 0;
	bpf_object__for_each_program(prog, s->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_program__fd(prog) >= 0 &&
		    !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			c->cnt.missed += info.recursion_misses;
	}
	used = snprintf(s->lost_why, sizeof(s->lost_why), "ring buffer full; try --ring-size;");
	for (int t = 0; t < EV__MAX && c->cnt.lost; t++) {
		uint64_t n = ebee_percpu_sum(dfd, t);

		if (n && event_desc(t) && used < sizeof(s->lost_why))
			used += snprintf(s->lost_why + used, sizeof(s->lost_why) - used, " %s=%llu",
					 event_desc(t)->name, (unsigned long long)n);
	}
	c->lost_why = s->lost_why;
	return 0;
}

/* The summary's own keys: which command, losses per type, the process table's use. */
static void ev_summary(struct collector *c, struct jw *w)
{
	static const char *const modes[] = { "exec", "open", "events" };
	struct ev_state *s = c->priv;
	const struct ev_opts *o = c->cfg;
	int dfd = bpf_map__fd(s->skel->maps.ev_drops);
	struct proctab_stats st;

	proctab_stats(s->pt, &st);
	jw_kstr(w, "mode", modes[o->mode]);
	jw_key(w, "lost_by_type");
	jw_obj_begin(w);
	for (int t = 0; t < EV__MAX; t++) {
		uint64_t n = ebee_percpu_sum(dfd, t);

		if (n && event_desc(t))
			jw_ku64(w, event_desc(t)->name, n);
	}
	jw_obj_end(w);
	jw_ku64(w, "proctab_entries", st.entries);
	jw_ku64(w, "proctab_max", st.max);
	jw_ku64(w, "proctab_text_full", st.text_full);   /* texts the table's store had no room for */
}

struct proctab *ev_proctab(struct collector *c)
{
	return ((struct ev_state *)c->priv)->pt;
}

struct bpf_object *ev_bpf_object(struct collector *c)
{
	struct ev_state *s = c->priv;

	return s->skel ? s->skel->obj : NULL;
}

uint64_t ev_lost(struct collector *c)
{
	struct ev_state *s = c->priv;

	return s->skel ? ebee_percpu_sum(bpf_map__fd(s->skel->maps.events_drops), 0) : 0;
}

/* Doctor: the syscall tracepoints this kernel has, of those events.bpf.c traces. */
bool ev_doctor(char *buf, size_t len)
{
	int have = 0, all = 0;
	size_t n;

	for (int sc = 1; sc < SC__MAX; sc++, all++)
		have += syscall_tp_exists(ev_syscalls[sc].name);
	n = snprintf(buf, len, "syscall tracepoints: %d of %d", have, all);
	for (int sc = 1, first = 1; sc < SC__MAX && n < len; sc++)
		if (!syscall_tp_exists(ev_syscalls[sc].name)) {
			n += snprintf(buf + n, len - n, "%s%s", first ? " (none for " : ", ",
				      ev_syscalls[sc].name);
			first = 0;
		}
	if (have < all && n < len)
		n += snprintf(buf + n, len - n, ")");
	if (n < len && ev_mod_optin())
		/* short: doctor's cell holds 512 bytes of which the hooks take 300 */
		snprintf(buf + n, len - n, "; no module support: module-load attempts watched "
			 "only with --module-attempts (a program on every syscall)");
	else if (n < len && ev_mod_raw() && ebee_first_usable(&ev_sys_raw) == 0)
		snprintf(buf + n, len - n, "; with module events: sys_exit via tp_btf for all");
	else if (n < len && ev_mod_raw())
		snprintf(buf + n, len - n, "; module loads from raw_syscalls:sys_exit");
	return have > 0;
}

/* The daemon runs the generic stream of every type (its subscribers filter), through a 2 MB
 * ring (the CLI keeps 4M): every type is the graph's rate, which 1 MB held (graph_default) */
static const struct ev_opts ev_default = { .all = true, .mode = EVM_EVENTS, .ring_size = 2 << 20 };

const struct collector_desc events_collector = {
	.name = "events",
	.what = "process, file and network events and the process table",
	/* Doctor and `prog` read the hooks here: the sched ones and the syscalls' (the
	 * per-syscall tracepoints ev_ex_X, loaded only for the asked types, which doctor checks
	 * as the "syscall tracepoints" requirement, or the sys_exit dispatcher: ev_doctor says
	 * when module events choose it). */
	.hooks = ev_hooks,
	.nhooks = EV_NHOOKS,
	.prog_prefix = "ev_",
	/* the process table reads /proc/PID/{exe,cwd,fd} of every process */
	.caps_run = COLLECTOR_CAPS(EBEE_CAP(CAP_SYS_PTRACE) | EBEE_CAP(CAP_DAC_READ_SEARCH)),
	.priv_size = sizeof(struct ev_state),
	.cfg_size = sizeof(struct ev_opts),
	.cfg_default = &ev_default,
	.open = ev_open,
	.start = ev_start,
	.refresh = ev_refresh,
	.summary = ev_summary,
	.stop = ev_stop,
	.close = ev_close,
	.opts = events_opts,   /* `ebee events`' options: the daemon's config (type: [exec]) */
	.event_json = ev_event_json,
	.doctor = ev_doctor,
};

static int ev_run(struct ebee_ctx *ctx, struct ev_opts *o, enum ev_mode mode)
{
	struct out out;

	o->mode = mode;
	if (mode == EVM_EVENTS)
		ctx->json = true;   /* the generic stream is NDJSON, its summary too */
	/* A line per event: 64 KB writes (stdio's 4 KB to a file or pipe was a write(2) per ~35
	 * lines of a storm). A terminal keeps its lines unless the stream is JSON; the 1 s tick
	 * flushes the rest. */
	if (ctx->json || !isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (ctx->json) {
		out_init(&out, stdout, OUT_JSON, NULL, 0);
	} else if (mode == EVM_EXEC) {
		out_init(&out, stdout, OUT_TABLE, exec_cols, ARRAY_SIZE(exec_cols));
		out_hide(&out, EC_ANC, !o->ancestry);
	} else {
		out_init(&out, stdout, OUT_TABLE, open_cols, ARRAY_SIZE(open_cols));
	}
	return collector_run_cli(&events_collector, o, NULL, 0, o->duration, ctx, &out);
}

static int exec_run(struct ebee_ctx *ctx, void *cfg, int argc, char **argv)
{
	return ev_run(ctx, cfg, EVM_EXEC);
}

static int open_run(struct ebee_ctx *ctx, void *cfg, int argc, char **argv)
{
	return ev_run(ctx, cfg, EVM_OPEN);
}

static int events_run(struct ebee_ctx *ctx, void *cfg, int argc, char **argv)
{
	return ev_run(ctx, cfg, EVM_EVENTS);
}

#define REQS (REQ_BPF | REQ_BTF | REQ_TRACEFS)

static const struct opt_doc exec_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"One line per exec, successful or failed: time, pid, parent, user, result,\n"
		"container, the program and its full argv (up to 1024 bytes; a cut argv ends in\n"
		"\"...\" and has \"proc.args_truncated\" in JSON; failed execs: up to 32 args of\n"
		"128 bytes). --json gives the same NDJSON as `ebee events` with argv as an array,\n"
		"byte-exact (bytes >= 0x80 as \\u00XX).",
	.examples = "  ebee exec\n  ebee exec --failed --ancestry 3\n  ebee exec --json --container 3f2a",
};
static const struct opt_doc open_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"One line per open/openat/openat2/creat: pid, comm, fd or errno, decoded flags,\n"
		"mode on create, and the full path (relative paths resolved against the process's\n"
		"cwd or the dirfd's path; \"evt.path_unresolved\" when neither is known).",
	.examples = "  ebee open\n  ebee open --failed --path-prefix /etc",
};
static const struct opt_doc events_doc = {
	.synopsis = "--type TYPE,... | --all [OPTIONS]",
	.description =
		"The generic event stream, NDJSON, one object per event with the process context\n"
		"(proc.*, user.*, container.id) and the type's own fields. Types: exec exit fork\n"
		"open unlink rename chmod chown symlink link mkdir truncate chdir close dup memfd\n"
		"mount socket connect accept bind listen ptrace kill setuid setgid module.",
	.examples = "  ebee events --type exec,connect\n  ebee events --all --comm nginx",
};

const struct ebee_cmd exec_cmd = {
	.name = "exec", .summary = "trace program executions (execsnoop with context)",
	.req = REQS, .run = exec_run, .opts = exec_opts, .cfg_size = sizeof(struct ev_opts),
	.doc = &exec_doc, .max_pos = 0,
};
const struct ebee_cmd open_cmd = {
	.name = "open", .summary = "trace file opens with full paths (opensnoop)",
	.req = REQS, .run = open_run, .opts = open_opts, .cfg_size = sizeof(struct ev_opts),
	.doc = &open_doc, .max_pos = 0,
};
const struct ebee_cmd events_cmd = {
	.name = "events", .summary = "process, file and network events as NDJSON",
	.req = REQS, .run = events_run, .opts = events_opts, .cfg_size = sizeof(struct ev_opts),
	.doc = &events_doc, .max_pos = 0,
};
