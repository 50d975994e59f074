// SPDX-License-Identifier: BSD-2-Clause
/* ebee uprobe: arguments, return values and latency of functions in running C and Go programs.
 * This file is the command: probe specs, target resolution, attaching, output. The binaries are
 * read by elfsym.c/gobin.c/disasm.c, ARGSPECs parsed by argspec.c. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
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

#include "core/cmd.h"
#include "core/load.h"
#include "core/loop.h"
#include "core/out.h"
#include "uprobe/argspec.h"
#include "uprobe/binary.h"
#include "uprobe/uprobe.skel.h"

struct uprobe_cfg {
	long long pid;
	const char *ret;
	bool count;
	bool hist;
	bool list;
	double duration;
	struct opt_list deny;
	unsigned long long max_probes;
};

static const struct uprobe_cfg defaults = { .max_probes = 256 };

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

struct probe {
	const char *target;       /* as given; NULL = the -p process's executable */
	const char *func;
	const char *spec;         /* ARGSPEC text or NULL */
	struct up_spec args;
	struct up_bin *bin;
	const struct up_func *f;
	struct up_sites sites;    /* Go */
	struct up_layout layout;
	int abi;
};

struct ubin {                     /* binaries by resolved path, opened once */
	char path[PATH_MAX];      /* what uprobes attach to (may be /proc/PID/exe) */
	char shown[PATH_MAX];     /* what messages show */
	struct up_bin b;
	bool open;
};

#define MAX_BINS 8

struct run {
	const struct uprobe_cfg *cfg;
	long long pid;            /* -p, as its thread group id; 0 = none */
	struct ebee_ctx *ctx;
	struct probe probes[UP_MAX_FUNCS];
	int nprobes;
	struct ubin *bins[MAX_BINS];
	int nbins;
	struct up_spec_arg ret;
	struct uprobe_bpf *skel;
	struct bpf_link **links;
	int nlinks;
	struct ring_buffer *rb;
	struct ebee_loop *loop;
	struct out o;
	bool any_go;
	bool any_ret;             /* some probe shows a return value */
	bool exited;
	int pidfd;
};

/* ---- output ---- */

enum { C_TIME, C_PID, C_TID, C_GOID, C_FUNC, C_LATNS, C_LATUS, C_RETJ, C_RETT, C_ARGSJ, C_ARGST };
static const struct out_col ev_cols[] = {
	[C_TIME]  = { "time", "TIME", OUT_STR, -15, 0 },
	[C_PID]   = { "pid", "PID", OUT_U64, 7, 0 },
	[C_TID]   = { "tid", "TID", OUT_U64, 7, 0 },
	[C_GOID]  = { "goid", "GOID", OUT_U64, 6, 0 },
	[C_FUNC]  = { "func", "FUNCTION", OUT_STR, -18, 0 },
	[C_LATNS] = { "lat_ns", "LAT_NS", OUT_U64, 0, 0 },
	[C_LATUS] = { "lat_us", "LAT(us)", OUT_F64, 9, 1 },
	[C_RETJ]  = { "ret", "RET", OUT_RAW, 0, 0 },
	[C_RETT]  = { "ret_text", "RET", OUT_STR, -10, 0 },
	[C_ARGSJ] = { "args", "ARGS", OUT_RAW, 0, 0 },
	[C_ARGST] = { "args_text", "ARGS", OUT_STR, -1, 0 },
};

enum { S_FUNC, S_BIN, S_CALLS, S_RETS, S_UNM, S_GROWN, S_AVG, S_LOST };
static const struct out_col sum_cols[] = {
	[S_FUNC]  = { "func", "FUNCTION", OUT_STR, -24, 0 },
	[S_BIN]   = { "binary", "BINARY", OUT_STR, 0, 0 },
	[S_CALLS] = { "calls", "CALLS", OUT_U64, 10, 0 },
	[S_RETS]  = { "returns", "RETURNS", OUT_U64, 10, 0 },
	[S_UNM]   = { "unmatched", "UNMATCHED", OUT_U64, 10, 0 },
	[S_GROWN] = { "stack_grown", "STACKGROW", OUT_U64, 0, 0 },
	[S_AVG]   = { "avg_us", "AVG(us)", OUT_F64, 10, 1 },
	[S_LOST]  = { "lost", "LOST", OUT_U64, 8, 0 },
};

/* --hist in JSON: one row per non-empty bucket [lo_ns, hi_ns). */
enum { H_FUNC, H_LO, H_HI, H_COUNT };
static const struct out_col hist_cols[] = {
	[H_FUNC]  = { "func", "FUNCTION", OUT_STR, -24, 0 },
	[H_LO]    = { "hist_lo_ns", "LO_NS", OUT_U64, 12, 0 },
	[H_HI]    = { "hist_hi_ns", "HI_NS", OUT_U64, 12, 0 },
	[H_COUNT] = { "count", "COUNT", OUT_U64, 10, 0 },
};

/* Quoted and escaped (valid JSON, readable in a table). */
static size_t quote(char *dst, size_t cap, const uint8_t *s, size_t n)
{
	size_t w = 0;

	if (cap < 8)
		return 0;
	dst[w++] = '"';
	for (size_t i = 0; i < n && w + 8 < cap; i++) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\') {
			dst[w++] = '\\';
			dst[w++] = (char)c;
		} else if (c == '\n') {
			dst[w++] = '\\';
			dst[w++] = 'n';
		} else if (c < 0x20 || c >= 0x7f) {
			w += snprintf(dst + w, cap - w, "\\u%04x", c);
		} else {
			dst[w++] = (char)c;
		}
	}
	dst[w++] = '"';
	dst[w] = 0;
	return w;
}

/* One value (slot i) as JSON (json=true) or as table text. */
static void fmt_value(const struct up_spec_arg *sa, const struct up_arg *la, const struct up_event *e,
		      int i, bool json, char *buf, size_t len)
{
	uint64_t v = e->val[i];
	int w = la->width ? la->width : 8;

	switch (sa->type) {
	case UP_T_INT:
		if (w < 8) {
			int sh = 64 - 8 * w;

			snprintf(buf, len, "%lld", (long long)((int64_t)(v << sh) >> sh));
		} else {
			snprintf(buf, len, "%lld", (long long)v);
		}
		return;
	case UP_T_UINT:
		if (w < 8)
			v &= (1ULL << (8 * w)) - 1;
		snprintf(buf, len, "%llu", (unsigned long long)v);
		return;
	case UP_T_BOOL:
		snprintf(buf, len, "%s", (v & 0xff) ? "true" : "false");
		return;
	case UP_T_PTR:
		snprintf(buf, len, json ? "\"0x%llx\"" : "0x%llx", (unsigned long long)v);
		return;
	case UP_T_STR:
	case UP_T_BYTES: {
		unsigned got = e->got[i];
		const uint8_t *d = e->data + (la->off & (UP_DATA_MAX - 1));
		size_t w2;

		if (!v && la->reg2 == UP_REG_NONE) {
			snprintf(buf, len, json ? "null" : "NULL");
			return;
		}
		if (got == UP_GOT_FAULT || (!v && e->len[i])) {
			snprintf(buf, len, json ? "null" : "(fault 0x%llx)", (unsigned long long)v);
			return;
		}
		if (got > la->size)
			got = la->size;
		if (sa->type == UP_T_STR) {
			w2 = quote(buf, len, d, got);
		} else {
			w2 = 0;
			buf[w2++] = '"';
			for (unsigned k = 0; k < got && w2 + 4 < len; k++)
				w2 += snprintf(buf + w2, len - w2, "%02x", d[k]);
			buf[w2++] = '"';
			buf[w2] = 0;
		}
		if (!json && la->reg2 != UP_REG_NONE && e->len[i] > got)
			snprintf(buf + w2, len - w2, "...(len %llu)", (unsigned long long)e->len[i]);
		return;
	}
	}
	snprintf(buf, len, json ? "null" : "-");
}

static void fmt_time(uint64_t ktime, bool json, char *buf, size_t len)
{
	char tmp[64];
	const char *t = ebee_fmt_time(ebee_ktime_to_real(ktime), tmp, sizeof(tmp));
	const char *c = strchr(t, 'T');

	if (json || !c) {
		snprintf(buf, len, "%s", t);
		return;
	}
	snprintf(buf, len, "%.15s", c + 1);   /* HH:MM:SS.uuuuuu */
}

static int on_event(void *arg, void *data, size_t size)
{
	struct run *r = arg;
	struct up_event ev, *e = &ev;
	const struct probe *p;
	bool json = r->ctx->json;
	char val[4 * UP_SLOT_MAX + 64], args[2 * (4 * UP_SLOT_MAX + 64)], tbuf[64];
	size_t w = 0;

	/* events come without the unused tail of data */
	if (size < offsetof(struct up_event, data))
		return 0;
	memcpy(&ev, data, size < sizeof(ev) ? size : sizeof(ev));
	if (e->fn >= (uint32_t)r->nprobes)
		return 0;
	p = &r->probes[e->fn];
	fmt_time(e->ts, json, tbuf, sizeof(tbuf));
	out_str(&r->o, C_TIME, tbuf);
	out_u64(&r->o, C_PID, e->pid);
	out_u64(&r->o, C_TID, e->tid);
	if (p->abi == UP_ABI_GO)
		out_u64(&r->o, C_GOID, e->goid);
	out_str(&r->o, C_FUNC, p->func);
	if (e->flags & UP_EV_RET) {
		out_u64(&r->o, C_LATNS, e->lat_ns);
		out_f64(&r->o, C_LATUS, e->lat_ns / 1000.0);
		if (p->args.ret.type != UP_T_NONE) {
			fmt_value(&p->args.ret, &p->layout.a[UP_RET], e, UP_RET, json, val, sizeof(val));
			if (json)
				out_raw(&r->o, C_RETJ, val);
			else
				out_str(&r->o, C_RETT, val);
		}
	}
	args[0] = 0;
	if (json)
		w += snprintf(args + w, sizeof(args) - w, "{");
	for (int i = 0; i < p->args.n && w < sizeof(args) - 1; i++) {
		const struct up_spec_arg *sa = &p->args.a[i];

		if (!strcmp(sa->name, "_"))
			continue;
		fmt_value(sa, &p->layout.a[i], e, i, json, val, sizeof(val));
		if (json)
			w += snprintf(args + w, sizeof(args) - w, "%s\"%s\":%s", w > 1 ? "," : "",
				      sa->name, val);
		else
			w += snprintf(args + w, sizeof(args) - w, "%s%s=%s", w ? " " : "", sa->name, val);
	}
	if (json) {
		if (w < sizeof(args) - 1)
			snprintf(args + w, sizeof(args) - w, "}");
		else
			snprintf(args, sizeof(args), "{}");
		out_raw(&r->o, C_ARGSJ, args);
	} else {
		out_str(&r->o, C_ARGST, args);
	}
	out_row(&r->o);
	return 0;
}

/* ---- probe specs and targets ---- */

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* libc.so in a lib folder is a linker script: only ELF files count as libraries. */
static bool is_elf(const char *path)
{
	char m[4] = { 0 };
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	if (fread(m, 1, 4, f) != 4)
		m[0] = 0;
	fclose(f);
	return !memcmp(m, "\x7f" "ELF", 4);
}

static bool name_matches_lib(const char *base, const char *name)
{
	size_t n = strlen(name);
	char lib[NAME_MAX + 8];

	if (!strcmp(base, name))
		return true;
	if (!strncmp(base, name, n) && (!strncmp(base + n, ".so", 3) || base[n] == '-'))
		return true;
	snprintf(lib, sizeof(lib), "lib%s", name);
	n = strlen(lib);
	return strncmp(name, "lib", 3) && !strncmp(base, lib, n) &&
	       (!strncmp(base + n, ".so", 3) || base[n] == '-');
}

/* A library named by a short name ("libc", "c", "libssl.so.3"): in the process's mappings with
 * -p, else in the usual library folders. */
static int find_lib(const char *name, long long pid, char *out, size_t len)
{
	static const char *const dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					    "/lib64", "/usr/lib64", "/lib", "/usr/lib",
					    "/usr/local/lib" };
	char line[PATH_MAX + 256];
	int rc = -ENOENT;

	if (pid > 0) {
		char maps[64];
		FILE *f;

		snprintf(maps, sizeof(maps), "/proc/%lld/maps", pid);
		f = fopen(maps, "re");
		if (!f)
			return -errno;
		while (rc && fgets(line, sizeof(line), f)) {
			char *path = strchr(line, '/'), *base, *nl;

			if (!path)
				continue;
			if ((nl = strchr(path, '\n')))
				*nl = 0;
			base = strrchr(path, '/') + 1;
			if (name_matches_lib(base, name)) {
				snprintf(out, len, "%s", path);
				rc = 0;
			}
		}
		fclose(f);
		return rc;
	}
	for (size_t d = 0; d < ARRAY_SIZE(dirs) && rc; d++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dirs[d], name);
		if (is_elf(path)) {
			snprintf(out, len, "%s", path);
			return 0;
		}
		for (const char *pfx = ""; pfx; pfx = *pfx ? NULL : "lib") {
			for (const char *sfx = ".so"; sfx; sfx = !strcmp(sfx, ".so") ? ".so.6" : NULL) {
				snprintf(path, sizeof(path), "%s/%s%s%s", dirs[d], pfx, name, sfx);
				if (!strncmp(name, "lib", 3) && *pfx)
					continue;
				if (is_elf(path)) {
					snprintf(out, len, "%s", path);
					return 0;
				}
			}
		}
	}
	return rc;
}

/* TARGET -> the path to open and attach to, and the path to show. */
static int resolve_target(const char *target, long long pid, char *path, char *shown, size_t len)
{
	ssize_t n;

	if (!target || !*target) {
		char exe[64];

		snprintf(exe, sizeof(exe), "/proc/%lld/exe", pid);
		snprintf(path, len, "%s", exe);
		n = readlink(exe, shown, len - 1);
		if (n < 0) {
			int err = -errno;

			ebee_err("cannot read the executable of process %lld: %s", pid, strerror(errno));
			return err;
		}
		shown[n] = 0;
		return 0;
	}
	if (strchr(target, '/') || (exists(target) && !(pid > 0))) {
		snprintf(path, len, "%s", target);
	} else if (find_lib(target, pid, path, len)) {
		if (pid > 0) {
			/* the executable itself, by its name */
			char exe[64], real[PATH_MAX];
			const char *base;

			snprintf(exe, sizeof(exe), "/proc/%lld/exe", pid);
			n = readlink(exe, real, sizeof(real) - 1);
			if (n > 0) {
				real[n] = 0;
				base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
				if (!strncmp(base, target, strlen(target))) {
					snprintf(path, len, "%s", exe);
					snprintf(shown, len, "%s", real);
					return 0;
				}
			}
			ebee_err("binary '%s' not mapped by process %lld (see /proc/%lld/maps)", target,
				 pid, pid);
		} else {
			ebee_err("binary '%s' not found (give a path, or -p PID for a library it maps)",
				 target);
		}
		return -ENOENT;
	}
	snprintf(shown, len, "%s", path);
	return 0;
}

static bool is_ident_prefix(const char *s, const char *end)
{
	if (s == end || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (; s < end; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

/* Is this positional a new TARGET:FUNC rather than the previous probe's ARGSPEC? An ARGSPEC
 * starts with NAME:TYPE; a probe with a path, a library or a binary in the current folder. */
static bool looks_like_probe(const char *s, long long pid)
{
	const char *colon = strchr(s, ':');
	char tgt[PATH_MAX], path[PATH_MAX], first[64];
	struct up_spec_arg a;
	size_t n;

	if (!colon)
		return pid > 0 && *s && !strpbrk(s, ", ") && strncmp(s, "->", 2);
	if (colon == s)
		return pid > 0;   /* ":main.f" = the -p executable */
	if (!is_ident_prefix(s, colon))
		return true;      /* "./srv:f", "/bin/x:f", "libc.so.6:f" */
	/* "c:str, n:int": what follows the first colon is a type, not a function name */
	n = strcspn(colon + 1, ",");
	snprintf(first, sizeof(first), "%.*s", (int)(n < sizeof(first) ? n : sizeof(first) - 1),
		 colon + 1);
	if (!up_type_parse(first, &a, NULL) || strpbrk(colon + 1, ", []"))
		return false;
	snprintf(tgt, sizeof(tgt), "%.*s", (int)(colon - s), s);
	if (exists(tgt))
		return true;
	return !find_lib(tgt, pid, path, sizeof(path));
}

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

		if (r->nprobes && !looks_like_probe(arg, r->pid)) {
			p = &r->probes[r->nprobes - 1];
			if (p->spec) {
				ebee_err("'%s' is neither TARGET:FUNC nor ARGSPEC (probe '%s' already has "
					 "ARGSPEC '%s')", arg, p->func, p->spec);
				return -EINVAL;
			}
			p->spec = arg;
			if (up_spec_parse(arg, &p->args, &perr)) {
				spec_error("ARGSPEC", arg, &perr, r->ctx->json);
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

	err = resolve_target(target, r->pid, path, shown, sizeof(path));
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
	u->open = true;
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

/* ---- summaries ---- */

static void summary(struct run *r)
{
	struct out s, ho;
	int st_fd = bpf_map__fd(r->skel->maps.stats);
	int h_fd = bpf_map__fd(r->skel->maps.hist);
	uint64_t lost = ebee_percpu_sum(bpf_map__fd(r->skel->maps.events_drops), 0);
	bool agg = r->cfg->count || r->cfg->hist;

	out_init(&s, stdout, r->ctx->json ? OUT_JSON : OUT_TABLE, sum_cols, ARRAY_SIZE(sum_cols));
	if (!agg)
		out_hide(&s, S_AVG, true);
	out_init(&ho, stdout, OUT_JSON, hist_cols, ARRAY_SIZE(hist_cols));
	if (agg)
		out_hide(&s, S_LOST, true);
	if (!r->ctx->json) {
		if (!agg)
			out_sep(&s, "--- summary ---");
		out_header(&s);
	}
	for (int i = 0; i < r->nprobes; i++) {
		const struct probe *p = &r->probes[i];
		uint64_t v[UP_NSTAT], h[UP_HIST_SLOTS];
		int top = -1;

		for (int k = 0; k < UP_NSTAT; k++)
			v[k] = ebee_percpu_sum(st_fd, i * UP_NSTAT + k);
		out_str(&s, S_FUNC, p->func);
		out_str(&s, S_BIN, p->bin->path);
		out_u64(&s, S_CALLS, v[UP_ST_ENTRY]);
		if (p->layout.has_ret) {
			out_u64(&s, S_RETS, v[UP_ST_RETURN]);
			out_u64(&s, S_UNM, v[UP_ST_UNMATCHED]);
			if (agg && v[UP_ST_RETURN] > v[UP_ST_UNMATCHED])
				out_f64(&s, S_AVG, v[UP_ST_LATSUM] / 1000.0 /
					(double)(v[UP_ST_RETURN] - v[UP_ST_UNMATCHED]));
		}
		if (p->abi == UP_ABI_GO)
			out_u64(&s, S_GROWN, v[UP_ST_GROWN]);
		if (!agg)
			out_u64(&s, S_LOST, lost);
		if (r->cfg->hist) {
			for (int k = 0; k < UP_HIST_SLOTS; k++) {
				h[k] = ebee_percpu_sum(h_fd, i * UP_HIST_SLOTS + k);
				if (h[k])
					top = k;
			}
		}
		out_row(&s);
		/* slot k holds latencies in [2^k, 2^(k+1)) ns */
		for (int k = 0; r->cfg->hist && r->ctx->json && k <= top; k++) {
			if (!h[k])
				continue;
			out_str(&ho, H_FUNC, p->func);
			out_u64(&ho, H_LO, k ? 1ULL << k : 0);
			out_u64(&ho, H_HI, 1ULL << (k + 1));
			out_u64(&ho, H_COUNT, h[k]);
			out_row(&ho);
		}
		if (r->cfg->hist && !r->ctx->json && top >= 0) {
			uint64_t max = 1;
			int first = 0;

			while (!h[first])
				first++;
			for (int k = first; k <= top; k++)
				if (h[k] > max)
					max = h[k];
			/* buckets from the first to the last non-empty one, as bcc prints them */
			for (int k = first; k <= top; k++) {
				char bar[41];
				int n = (int)(h[k] * 40 / max);

				memset(bar, '*', n);
				bar[n] = 0;
				out_sep(&s, "  %12.3f -> %-12.3f us : %-8llu |%-40s|",
					k ? (double)(1ULL << k) / 1000.0 : 0.0,
					(double)(1ULL << (k + 1)) / 1000.0, (unsigned long long)h[k], bar);
			}
		}
	}
	if (lost)
		ebee_warn("%llu events lost (ring buffer full)", (unsigned long long)lost);
}

/* ---- --list ---- */

enum { L_FUNC, L_ADDR, L_SIZE, L_SRC };
static const struct out_col list_cols[] = {
	[L_FUNC] = { "func", "FUNCTION", OUT_STR, -48, 0 },
	[L_ADDR] = { "addr", "ADDRESS", OUT_STR, 18, 0 },
	[L_SIZE] = { "size", "SIZE", OUT_U64, 8, 0 },
	[L_SRC]  = { "source", "SOURCE", OUT_STR, -8, 0 },
};

static int list_funcs(struct run *r, int argc, char **argv)
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
	if (r->pid > 0 && argc == 1 && !strchr(target, '/') && find_lib(target, r->pid, tmp, sizeof(tmp))) {
		pat = target;
		target = NULL;
	}
	glob = pat && strpbrk(pat, "*?[");
	err = open_bin(r, target, &u);
	if (err)
		return err;
	if (u->b.is_go)
		ebee_info("'%s' is Go (%s)", u->shown, u->b.go_version[0] ? u->b.go_version : "?");
	out_init(&o, stdout, r->ctx->json ? OUT_JSON : OUT_TABLE, list_cols, ARRAY_SIZE(list_cols));
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
	loop_free(r->loop);
}

static int uprobe_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct ebee_hook hooks[] = {
		{ "uprobe", { { "ebee_uprobe", KIND_UPROBE }, { NULL } }, -1 },
	};
	const struct uprobe_cfg *cfg = cfgp;
	struct run *r;
	struct up_spec_err perr;
	int err, nsites;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = cfg;
	r->ctx = ctx;
	r->pidfd = -1;
	if (cfg->pid > 0) {
		err = thread_group(cfg->pid, &r->pid);
		if (err)
			goto out;
	}
	if (cfg->list) {
		err = list_funcs(r, argc, argv);
		goto out;
	}
	if (cfg->ret && up_type_parse(cfg->ret, &r->ret, &perr)) {
		spec_error("--ret type", cfg->ret, &perr, ctx->json);
		err = -EINVAL;
		goto out;
	}
	err = parse_probes(r, argc, argv);
	if (err)
		goto out;

	r->loop = loop_new();
	if (!r->loop) {
		err = -errno ? -errno : -ENOMEM;
		ebee_err("cannot create the event loop: %s", strerror(-err));
		goto out;
	}
	err = prepare(r, &nsites);
	if (err)
		goto out;
	r->links = calloc(nsites, sizeof(*r->links));
	if (!r->links) {
		err = -ENOMEM;
		goto out;
	}

	r->skel = uprobe_bpf__open();
	if (!r->skel) {
		err = -errno;
		ebee_err("cannot open the uprobe BPF object: %s", strerror(errno));
		goto out;
	}
	/* one hook, one variant: the probe says clearly when this kernel has no uprobes */
	err = ebee_choose(r->skel->obj, hooks, ARRAY_SIZE(hooks));
	if (err)
		goto out;
	r->skel->rodata->targ_tgid = (uint32_t)r->pid;
	r->skel->rodata->aggregate = cfg->count || cfg->hist;
	err = uprobe_bpf__load(r->skel);
	if (err) {
		err = ebee_load_err("uprobe", err);
		goto out;
	}
	for (int i = 0; i < r->nprobes; i++) {
		uint32_t k = i;

		if (bpf_map_update_elem(bpf_map__fd(r->skel->maps.layouts), &k, &r->probes[i].layout,
					BPF_ANY)) {
			err = -errno;
			ebee_err("cannot fill the layouts map: %s", strerror(errno));
			goto out;
		}
	}
	if (!(cfg->count || cfg->hist)) {
		r->rb = ring_buffer__new(bpf_map__fd(r->skel->maps.events), on_event, r, NULL);
		if (!r->rb) {
			err = -errno;
			ebee_err("cannot create the ring buffer: %s", strerror(errno));
			goto out;
		}
		err = loop_add_ringbuf(r->loop, r->rb, 0);
		if (err)
			goto out;
	}
	out_init(&r->o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, ev_cols, ARRAY_SIZE(ev_cols));
	out_hide(&r->o, ctx->json ? C_LATUS : C_LATNS, true);
	out_hide(&r->o, ctx->json ? C_RETT : C_RETJ, true);
	out_hide(&r->o, ctx->json ? C_ARGST : C_ARGSJ, true);
	if (!r->any_go)
		out_hide(&r->o, C_GOID, true);
	if (r->ret.type == UP_T_NONE && !r->any_ret)
		out_hide(&r->o, ctx->json ? C_RETJ : C_RETT, true);

	/* Returns first: an entry whose return probe is not there yet would wait forever. */
	for (int i = 0; i < r->nprobes; i++) {
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
		if (err)
			goto out;
	}
	if (r->pid > 0) {
		r->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)r->pid, 0);
		if (r->pidfd >= 0)
			loop_add_fd(r->loop, r->pidfd, EPOLLIN, on_exit_pid, r);
	}
	if (cfg->duration > 0)
		loop_set_duration(r->loop, cfg->duration);
	ebee_info("%d probe sites attached to %d function%s", r->nlinks, r->nprobes,
		  r->nprobes == 1 ? "" : "s");
	if (!ctx->json && !(cfg->count || cfg->hist))
		out_header(&r->o);
	fflush(stdout);
	err = loop_run(r->loop);
	if (err > 0)
		err = 0;
	/* Detach before reading the counters so the summary is final. */
	for (int i = r->nlinks - 1; i >= 0; i--)
		bpf_link__destroy(r->links[i]);
	r->nlinks = 0;
	if (r->rb)
		ring_buffer__consume(r->rb);
	summary(r);
out:
	fflush(stdout);
	run_free(r);
	free(r);
	return err;
}

static const struct opt uprobe_opts[] = {
	{ "pid", 'p', OPT_INT, offsetof(struct uprobe_cfg, pid), "PID",
	  "trace this process: FUNC alone names a function of its executable, TARGET may be a "
	  "library it maps; events are filtered to it", NULL, 1, 4194304 },
	{ "ret", 'r', OPT_STR, offsetof(struct uprobe_cfg, ret), "TYPE",
	  "show return values as TYPE (int, uint, ptr, str, ...) where the ARGSPEC has no "
	  "'-> TYPE'", NULL },
	{ "count", 'c', OPT_FLAG, offsetof(struct uprobe_cfg, count), NULL,
	  "count calls and total latency per function in the kernel, print at exit", NULL },
	{ "hist", 'H', OPT_FLAG, offsetof(struct uprobe_cfg, hist), NULL,
	  "like --count, with a log2 latency histogram per function", NULL },
	{ "list", 'l', OPT_FLAG, offsetof(struct uprobe_cfg, list), NULL,
	  "list the functions of TARGET that can be probed (optionally matching PATTERN)", NULL },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct uprobe_cfg, duration), "SECONDS",
	  "stop after this long", NULL, 0, 1e9 },
	{ "deny", 0, OPT_LIST, offsetof(struct uprobe_cfg, deny), "PATTERN",
	  "never probe functions (or, with a '/', binaries) matching PATTERN, besides the built-in "
	  "list (Go runtime stack switching, the dynamic loader)", NULL },
	{ "max-probes", 0, OPT_UINT, offsetof(struct uprobe_cfg, max_probes), "N",
	  "refuse runs needing more probe sites (each Go RET is one)", "256", 1, 4096 },
	OPT_END,
};

static const struct opt_doc uprobe_doc = {
	.synopsis = "[OPTIONS] TARGET:FUNC [ARGSPEC] [TARGET:FUNC [ARGSPEC]...]\n"
		    "       ebee uprobe -p PID FUNC [ARGSPEC]...\n"
		    "       ebee uprobe --list TARGET [PATTERN]\n"
		    "       ebee uprobe --list -p PID [PATTERN]",
	.description =
		"Shows the arguments, return value and latency of every call of FUNC in a running\n"
		"C or Go program, without changing or restarting it. TARGET is a binary path, a\n"
		"library name (libc), or empty with -p (the process's executable).\n"
		"\n"
		"ARGSPEC names and types the arguments in order, and the return value after '->':\n"
		"'input:str, n:int, buf:bytes[64], p:ptr -> int'. Types: int uint long ulong\n"
		"int8..int64 uint8..uint64 char bool ptr hex str str[N] bytes[N]; '_' skips an\n"
		"argument. C arguments come from the System V registers, returns from a\n"
		"uretprobe. Go (1.17+, detected from .go.buildinfo) uses the register ABI: a\n"
		"string takes two registers, a slice three; returns and latency come from probes\n"
		"on every RET instruction (never uretprobes, which crash Go programs when stacks\n"
		"move); the entry probe sits on the stack-check prologue's jump and ignores the\n"
		"pass that grows the stack; entries and returns are paired by goroutine. Stripped\n"
		"Go binaries are read from .gopclntab.",
	.examples =
		"  ebee uprobe ./server:main.process 'input:str -> int'\n"
		"  ebee uprobe -p 1234 main.process 'input:str' --hist\n"
		"  ebee uprobe -p 1234 libc:atoi 's:str' --ret int\n"
		"  ebee uprobe --list ./server 'main.*'",
};

const struct ebee_cmd uprobe_cmd = {
	.name = "uprobe",
	.summary = "arguments, returns and latency of functions in running C and Go programs",
	.req = REQ_BPF,
	.run = uprobe_run,
	.opts = uprobe_opts,
	.cfg_size = sizeof(struct uprobe_cfg),
	.cfg_default = &defaults,
	.doc = &uprobe_doc,
	.min_pos = 0,
	.max_pos = -1,
};
