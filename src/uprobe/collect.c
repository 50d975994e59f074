// SPDX-License-Identifier: BSD-2-Clause
/* The uprobe collector: arguments, return values and latency of functions in running C and Go
 * programs. This file: probe specs, deny list, probe sites, attaching, the collector. Binaries
 * are read by elfsym.c/gobin.c/disasm.c, ARGSPECs parsed by argspec.c, targets resolved by
 * target.c, output written by output.c. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/collector.h"
#include "core/load.h"
#include "core/loop.h"
#include "core/out.h"
#include "uprobe/session.h"
#include "uprobe/uprobe.skel.h"

/* Never probed: code that runs on the system or signal stack, switches stacks, or does not
 * return to its caller (R14 is not the goroutine there, a RET is not a return); the dynamic
 * loader. --deny adds patterns: with a '/' they match binaries, else functions. */
static const char *const deny_funcs[] = {
	"runtime.morestack*", "runtime.rt0_go*", "runtime.gogo*", "runtime.mcall",
	"runtime.systemstack*", "runtime.sigtramp*", "runtime.sigreturn*", "runtime.asmcgocall*",
	"runtime.cgocallback*", "runtime.goexit*", "runtime.gcWriteBarrier*", "runtime.mstart*",
	"runtime.asminit", "runtime.abort", "_start", "_dl_*", "__restore_rt",
};
static const char *const deny_bins[] = { "*/ld-linux*.so*", "*/ld-*.so" };

static void spec_error(const char *what, const char *text, const struct up_spec_err *e, bool json)
{
	ebee_err("bad %s at character %d: %s", what, e->pos + 1, e->msg);
	if (!json)
		fprintf(stderr, "  %s\n  %*s^\n", text, e->pos, "");
}

static int parse_probes(struct run *r, int argc, char **argv)
{
	struct up_spec_err perr;

	for (int i = 0; i < argc; i++) {
		struct probe *p;
		char *arg = argv[i], *colon;

		if (r->nprobes && !up_looks_like_probe(arg, r->pid)) {
			p = &r->probes[r->nprobes - 1];
			if (p->spec) {
				ebee_err("'%s' is neither TARGET:FUNC nor ARGSPEC (probe '%s' already has "
					 "ARGSPEC '%s')", arg, p->func, p->spec);
				return -EINVAL;
			}
			p->spec = arg;
			if (up_spec_parse(arg, &p->args, &perr)) {
				spec_error("ARGSPEC", arg, &perr, r->json);
				return -EINVAL;
			}
			continue;
		}
		if (r->nprobes == UP_MAX_FUNCS) {
			ebee_err("too many functions (at most %d per run)", UP_MAX_FUNCS);
			return -EINVAL;
		}
		p = &r->probes[r->nprobes++];
		colon = strchr(arg, ':');
		if (!colon) {
			if (r->pid <= 0) {
				ebee_err("'%s' is not TARGET:FUNC (or give -p PID to probe FUNC in that "
					 "process)", arg);
				return -EINVAL;
			}
			p->target = NULL;
			p->func = arg;
		} else {
			*colon = 0;
			p->target = arg;
			p->func = colon + 1;
		}
		if (!*p->func) {
			ebee_err("'%s' names no function after ':'", arg);
			return -EINVAL;
		}
		for (int k = 0; k < r->nprobes - 1; k++)
			if (!strcmp(r->probes[k].func, p->func) &&
			    !strcmp(r->probes[k].target ? r->probes[k].target : "",
				    p->target ? p->target : "")) {
				ebee_err("function '%s' is probed twice", p->func);
				return -EINVAL;
			}
	}
	if (!r->nprobes) {
		ebee_err("no TARGET:FUNC given");
		return -EINVAL;
	}
	return 0;
}

static int open_bin(struct run *r, const char *target, struct ubin **out)
{
	char path[PATH_MAX], shown[PATH_MAX];
	struct ubin *u;
	int err;

	err = up_resolve_target(target, r->pid, path, shown, sizeof(path));
	if (err)
		return err;
	for (int i = 0; i < r->nbins; i++)
		if (!strcmp(r->bins[i]->path, path)) {
			*out = r->bins[i];
			return 0;
		}
	if (r->nbins == MAX_BINS) {
		ebee_err("too many binaries (at most %d per run)", MAX_BINS);
		return -EINVAL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	r->bins[r->nbins++] = u;
	snprintf(u->path, sizeof(u->path), "%s", path);
	snprintf(u->shown, sizeof(u->shown), "%s", shown);
	err = up_bin_open(path, &u->b);
	/* messages should name what the user gave, not /proc/PID/exe */
	snprintf(u->b.path, sizeof(u->b.path), "%s", shown);
	if (err)
		return err;
	*out = u;
	return 0;
}

static const char *denied(const struct run *r, const char *func, const char *bin_path)
{
	const struct opt_list *d = &r->cfg->deny;
	char real[PATH_MAX];

	if (!realpath(bin_path, real))
		snprintf(real, sizeof(real), "%s", bin_path);
	for (size_t i = 0; i < ARRAY_SIZE(deny_funcs); i++)
		if (!fnmatch(deny_funcs[i], func, 0))
			return deny_funcs[i];
	for (size_t i = 0; i < ARRAY_SIZE(deny_bins); i++)
		if (!fnmatch(deny_bins[i], real, 0))
			return deny_bins[i];
	for (int i = 0; i < d->n; i++)
		if (!fnmatch(d->v[i], strchr(d->v[i], '/') ? real : func, 0))
			return d->v[i];
	return NULL;
}

static bool is_self(const char *path)
{
	struct stat a, b;

	return !stat(path, &a) && !stat("/proc/self/exe", &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static int prepare(struct run *r, int *nsites)
{
	char msg[256];
	int err;

	*nsites = 0;
	for (int i = 0; i < r->nprobes; i++) {
		struct probe *p = &r->probes[i];
		struct ubin *u;
		const char *why;

		err = open_bin(r, p->target, &u);
		if (err)
			return err;
		p->bin = &u->b;
		if (is_self(u->path)) {
			ebee_err("not probing ebee itself ('%s')", u->shown);
			return -EINVAL;
		}
		if ((why = denied(r, p->func, u->path))) {
			ebee_err("'%s' in '%s' is on the deny list (pattern '%s')", p->func, u->shown, why);
			return -EPERM;
		}
		p->f = up_bin_find(&u->b, p->func);
		if (!p->f) {
			up_bin_suggest(&u->b, p->func, msg, sizeof(msg));
			if (msg[0])
				ebee_err("function '%s' not found in '%s' (did you mean %s?)", p->func,
					 u->shown, msg);
			else
				ebee_err("function '%s' not found in '%s' (see 'ebee uprobe --list %s')",
					 p->func, u->shown, u->shown);
			return -ENOENT;
		}
		for (int k = 0; k < i; k++)
			if (r->probes[k].f == p->f) {
				ebee_err("function '%s' in '%s' is probed twice", p->func, u->shown);
				return -EINVAL;
			}
		if (p->f->ifunc) {
			ebee_err("'%s' in '%s' is an IFUNC: the symbol is the resolver that picks an "
				 "implementation at load time, not the function that runs", p->func, u->shown);
			return -EINVAL;
		}
		p->abi = u->b.is_go ? UP_ABI_GO : UP_ABI_C;
		if (p->abi == UP_ABI_GO) {
			const char *prob = up_go_abi_problem(&u->b);

			if (prob) {
				ebee_err("%s", prob);
				return -EOPNOTSUPP;
			}
			err = up_sites_go(&u->b, p->f, &p->sites);
			if (err)
				return err;
			r->any_go = true;
		}
		if (p->args.ret.type == UP_T_NONE)
			p->args.ret = r->ret;   /* --ret, unless the ARGSPEC says '-> TYPE' */
		else
			r->any_ret = true;
		err = up_layout_build(&p->args, &p->args.ret, p->abi, &p->layout, msg, sizeof(msg));
		if (err) {
			ebee_err("function '%s': %s", p->func, msg);
			return -EINVAL;
		}
		if (p->abi == UP_ABI_GO) {
			p->layout.has_ret = p->sites.nret > 0;
			p->layout.goid_off = (uint16_t)up_go_goid_offset(&u->b);
			if (p->sites.jcc_flags) {
				/* x86 uprobes emulate a conditional jump; the instruction after it
				 * is single-stepped out of line, one more trap per call (measured
				 * here: ~15 us per call, 30% of the server's throughput) */
				p->layout.skip_flags = p->sites.jcc_flags;
				p->sites.entry = p->sites.jcc;
			}
			*nsites += 1 + p->sites.nret;
			if (!p->sites.nret)
				ebee_warn("'%s' has no RET instruction: entries only, no return or latency",
					  p->func);
			ebee_info("'%s' (%s) at 0x%llx: entry 0x%llx%s, %d RET", p->func,
				  u->b.go_version, (unsigned long long)p->f->addr,
				  (unsigned long long)p->sites.entry,
				  p->layout.skip_flags ? " (the stack check's jump)" :
				  p->sites.prologue ? " (after the stack check)" : "", p->sites.nret);
		} else {
			p->layout.has_ret = 1;
			*nsites += 2;
		}
	}
	if ((unsigned long long)*nsites > r->cfg->max_probes) {
		ebee_err("%d probe sites needed, more than --max-probes %llu", *nsites,
			 r->cfg->max_probes);
		return -E2BIG;
	}
	return 0;
}

static int attach_one(struct run *r, const struct probe *p, int fn, int site, uint64_t vaddr)
{
	const struct ubin *u = NULL;
	uint64_t off;
	struct bpf_link *link;
	int err;

	for (int i = 0; i < r->nbins; i++)
		if (&r->bins[i]->b == p->bin)
			u = r->bins[i];
	if (up_bin_offset(p->bin, vaddr, &off)) {
		ebee_err("'%s': address 0x%llx is outside the file's segments", p->func,
			 (unsigned long long)vaddr);
		return -ERANGE;
	}
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = UP_COOKIE(fn, site),
		    .retprobe = site == UP_SITE_CRET);
	link = bpf_program__attach_uprobe_opts(r->skel->progs.ebee_uprobe,
					       r->pid > 0 ? (pid_t)r->pid : -1, u->path,
					       off, &uo);
	if (!link) {
		err = -errno;
		ebee_err("cannot attach %s to '%s' in '%s' at offset 0x%llx: %s",
			 site == UP_SITE_CRET ? "uretprobe" : "uprobe", p->func, u->shown,
			 (unsigned long long)off, strerror(-err));
		return err;
	}
	r->links[r->nlinks++] = link;
	return 0;
}

static int on_exit_pid(struct ebee_loop *l, int fd, uint32_t events, void *arg)
{
	struct run *r = arg;

	r->exited = true;
	ebee_warn("traced process %lld exited: stopping", r->pid);
	loop_stop(l);
	return 0;
}

/* ---- --list ---- */

enum { L_FUNC, L_ADDR, L_SIZE, L_SRC };
static const struct out_col list_cols[] = {
	[L_FUNC] = { "func", "FUNCTION", OUT_STR, -48, 0 },
	[L_ADDR] = { "addr", "ADDRESS", OUT_STR, 18, 0 },
	[L_SIZE] = { "size", "SIZE", OUT_U64, 8, 0 },
	[L_SRC]  = { "source", "SOURCE", OUT_STR, -8, 0 },
};

static int list_funcs(struct run *r, int argc, char **argv, bool json)
{
	static const char *const src[] = { "symtab", "dynsym", "pclntab" };
	const char *target = argc > 0 ? argv[0] : NULL, *pat = argc > 1 ? argv[1] : NULL;
	char tmp[PATH_MAX];
	bool glob;
	struct ubin *u;
	struct out o;
	int err;

	if (argc > 2 || (!argc && r->pid <= 0)) {
		ebee_err("--list takes TARGET [PATTERN] (or -p PID [PATTERN])");
		return -EINVAL;
	}
	/* -p PID PATTERN: the one argument is a pattern unless it names a binary */
	if (r->pid > 0 && argc == 1 && !strchr(target, '/') && up_find_lib(target, r->pid, tmp, sizeof(tmp))) {
		pat = target;
		target = NULL;
	}
	glob = pat && strpbrk(pat, "*?[");
	err = open_bin(r, target, &u);
	if (err)
		return err;
	if (u->b.is_go)
		ebee_info("'%s' is Go (%s)", u->shown, u->b.go_version[0] ? u->b.go_version : "?");
	out_init(&o, stdout, json ? OUT_JSON : OUT_TABLE, list_cols, ARRAY_SIZE(list_cols));
	out_header(&o);
	for (size_t i = 0; i < u->b.nfuncs; i++) {
		const struct up_func *f = &u->b.funcs[i];

		if (pat && (glob ? fnmatch(pat, f->name, 0) : !strstr(f->name, pat)))
			continue;
		out_str(&o, L_FUNC, f->name);
		out_fmt(&o, L_ADDR, "0x%llx", (unsigned long long)f->addr);
		out_u64(&o, L_SIZE, f->size);
		out_str(&o, L_SRC, f->ifunc ? "ifunc" : src[f->src]);
		out_row(&o);
	}
	return 0;
}

/* ---- the command ---- */

/* -p may name any thread: events are filtered by thread group. */
static int thread_group(long long pid, long long *tgid)
{
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lld/status", pid);
	f = fopen(path, "re");
	if (!f) {
		ebee_err("process %lld not found", pid);
		return -ESRCH;
	}
	*tgid = pid;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %lld", tgid) == 1)
			break;
	fclose(f);
	if (*tgid != pid)
		ebee_info("%lld is a thread of process %lld: tracing the process", pid, *tgid);
	return 0;
}

static void run_free(struct run *r)
{
	for (int i = r->nlinks - 1; i >= 0; i--)
		bpf_link__destroy(r->links[i]);
	free(r->links);
	ring_buffer__free(r->rb);
	uprobe_bpf__destroy(r->skel);
	if (r->pidfd >= 0)
		close(r->pidfd);
	for (int i = 0; i < r->nbins; i++) {
		up_bin_close(&r->bins[i]->b);
		free(r->bins[i]);
	}
}

static const struct ebee_hook uprobe_hooks[] = {
	{ "uprobe", { { "ebee_uprobe", KIND_UPROBE } } },
};

int up_list(const struct uprobe_cfg *cfg, const struct ebee_ctx *ctx)
{
	struct run *r = calloc(1, sizeof(*r));
	int err = 0;

	if (!r)
		return -ENOMEM;
	r->cfg = cfg;
	r->pidfd = -1;
	if (cfg->pid > 0)
		err = thread_group(cfg->pid, &r->pid);
	if (!err)
		err = list_funcs(r, cfg->argc, cfg->argv, ctx->json);
	fflush(stdout);
	run_free(r);
	free(r);
	return err;
}

/* Resolves the probes (binaries, functions, sites, layouts) and loads the object; attaching
 * waits for start. */
static int up_open(struct collector *c)
{
	const struct uprobe_cfg *cfg = c->cfg;
	struct run *r = c->priv;
	struct up_spec_err perr;
	int err, nsites;

	r->cfg = cfg;
	r->pidfd = -1;
	r->o = c->out;
	r->json = c->out ? c->out->fmt == OUT_JSON : true;
	if (cfg->pid > 0) {
		err = thread_group(cfg->pid, &r->pid);
		if (err)
			return err;
	}
	if (cfg->ret && up_type_parse(cfg->ret, &r->ret, &perr)) {
		spec_error("--ret type", cfg->ret, &perr, r->json);
		return -EINVAL;
	}
	err = parse_probes(r, cfg->argc, cfg->argv);
	if (err)
		return err;
	err = prepare(r, &nsites);
	if (err)
		return err;
	r->links = calloc(nsites, sizeof(*r->links));
	if (!r->links)
		return -ENOMEM;

	r->skel = uprobe_bpf__open();
	if (!r->skel) {
		err = -errno;
		ebee_err("cannot open the uprobe BPF object: %s", strerror(errno));
		return err;
	}
	/* one hook, one variant: the probe says clearly when this kernel has no uprobes */
	err = collector_choose(c, r->skel->obj);
	if (err)
		return err;
	r->skel->rodata->targ_tgid = (uint32_t)r->pid;
	r->skel->rodata->aggregate = cfg->count || cfg->hist;
	err = uprobe_bpf__load(r->skel);
	if (err)
		return ebee_load_err("uprobe", err);
	for (int i = 0; i < r->nprobes; i++) {
		uint32_t k = i;

		if (bpf_map_update_elem(bpf_map__fd(r->skel->maps.layouts), &k, &r->probes[i].layout,
					BPF_ANY)) {
			err = -errno;
			ebee_err("cannot fill the layouts map: %s", strerror(errno));
			return err;
		}
	}
	return 0;
}

static int up_start(struct collector *c, struct ebee_loop *l)
{
	const struct uprobe_cfg *cfg = c->cfg;
	struct run *r = c->priv;
	int err = 0;

	r->loop = l;
	if (!(cfg->count || cfg->hist)) {
		r->rb = ring_buffer__new(bpf_map__fd(r->skel->maps.events), up_on_event, r, NULL);
		if (!r->rb) {
			err = -errno;
			ebee_err("cannot create the ring buffer: %s", strerror(errno));
			return err;
		}
		err = loop_add_ringbuf(l, r->rb, 0);
		if (err)
			return err;
	}
	if (r->o)
		up_events_init(r);

	/* Returns first: an entry whose return probe is not there yet would wait forever. */
	for (int i = 0; i < r->nprobes && !err; i++) {
		const struct probe *p = &r->probes[i];

		if (p->abi == UP_ABI_GO) {
			for (int k = 0; k < p->sites.nret && !err; k++)
				err = attach_one(r, p, i, UP_SITE_GORET, p->sites.ret[k]);
		} else {
			err = attach_one(r, p, i, UP_SITE_CRET, p->f->addr);
		}
		if (!err)
			err = attach_one(r, p, i, UP_SITE_ENTRY,
					 p->abi == UP_ABI_GO ? p->sites.entry : p->f->addr);
	}
	if (err)
		return err;
	if (r->pid > 0) {
		r->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)r->pid, 0);
		if (r->pidfd >= 0 && loop_add_fd(l, r->pidfd, EPOLLIN, on_exit_pid, r)) {
			close(r->pidfd);
			r->pidfd = -1;
		}
	}
	ebee_info("%d probe sites attached to %d function%s", r->nlinks, r->nprobes,
		  r->nprobes == 1 ? "" : "s");
	if (r->o && !r->json && !(cfg->count || cfg->hist))
		out_header(r->o);
	if (r->o)
		fflush(r->o->f);
	return 0;
}

/* Detach before reading the counters so the summary is final; then the calls still queued. */
static void up_stop(struct collector *c)
{
	struct run *r = c->priv;

	for (int i = r->nlinks - 1; i >= 0; i--)
		bpf_link__destroy(r->links[i]);
	r->nlinks = 0;
	if (r->rb)
		ring_buffer__consume(r->rb);
}

static int up_refresh(struct collector *c)
{
	const struct uprobe_cfg *cfg = c->cfg;
	struct run *r = c->priv;
	int st_fd = bpf_map__fd(r->skel->maps.stats);

	c->cnt.events = r->events;
	if (cfg->count || cfg->hist) {   /* counted in the kernel: entries and returns */
		c->cnt.events = 0;
		for (int i = 0; i < r->nprobes; i++)
			c->cnt.events += ebee_percpu_sum(st_fd, i * UP_NSTAT + UP_ST_ENTRY) +
					 ebee_percpu_sum(st_fd, i * UP_NSTAT + UP_ST_RETURN);
	}
	c->cnt.lost = ebee_percpu_sum(bpf_map__fd(r->skel->maps.events_drops), 0);
	c->cnt.missed = collector_prog_misses(c, r->skel->obj);
	return 0;
}

static void up_rows(struct collector *c, struct out *o)
{
	up_summary(c->priv, o);
}

static void up_close(struct collector *c)
{
	struct run *r = c->priv;

	if (r->pidfd >= 0 && r->loop)
		loop_del_fd(r->loop, r->pidfd);
	if (r->rb && r->loop)
		loop_del_ringbuf(r->loop, r->rb);
	run_free(r);
}

const struct collector_desc uprobe_collector = {
	.name = "uprobe",
	.what = "user function tracing",
	.hooks = uprobe_hooks,
	.nhooks = ARRAY_SIZE(uprobe_hooks),
	.prog_prefix = "ebee_uprobe",
	.priv_size = sizeof(struct run),
	.cfg_size = sizeof(struct uprobe_cfg),
	.open = up_open,
	.start = up_start,
	.refresh = up_refresh,
	.rows = up_rows,
	.stop = up_stop,
	.close = up_close,
};
