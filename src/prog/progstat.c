// SPDX-License-Identifier: BSD-2-Clause
/* Reading loaded programs and what they cost: see progstat.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "core/ebee.h"
#include "core/load.h"
#include "core/out.h"
#include "prog/progstat.h"
#include "proc/proc.h"

static uint64_t ptr_u64(const void *p) { return (uint64_t)(unsigned long)p; }

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ps_boottime_ns(void) { return clock_ns(CLOCK_BOOTTIME); }

uint64_t ps_boot_to_real(uint64_t boot_ns)
{
	uint64_t real = clock_ns(CLOCK_REALTIME), boot = clock_ns(CLOCK_BOOTTIME);
	return real - boot + boot_ns;
}

const char *ps_type_name(uint32_t type, char *buf, size_t len)
{
	const char *s = libbpf_bpf_prog_type_str(type);
	if (s)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "type_%u", type);
	return buf;
}

/* ---- one program ---------------------------------------------------------------------- */

static int read_info(int fd, struct ps_prog *p)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	uint32_t maps[PS_MAX_MAPS];

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = PS_MAX_MAPS;
	info.map_ids = ptr_u64(maps);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	memset(p, 0, sizeof(*p));
	p->id = info.id;
	p->type = info.type;
	memcpy(p->name, info.name, sizeof(p->name) - 1);
	for (int i = 0; i < 8; i++)
		snprintf(p->tag + 2 * i, 3, "%02x", info.tag[i]);
	p->uid = info.created_by_uid;
	p->load_time = info.load_time;
	p->run_cnt = info.run_cnt;
	p->run_time_ns = info.run_time_ns;
	p->recursion_misses = info.recursion_misses;
	p->verified_insns = info.verified_insns;
	p->xlated_len = info.xlated_prog_len;
	p->jited_len = info.jited_prog_len;
	p->nr_map_ids = info.nr_map_ids;
	memcpy(p->map_ids, maps, sizeof(uint32_t) * (info.nr_map_ids < PS_MAX_MAPS ? info.nr_map_ids : PS_MAX_MAPS));
	return 0;
}

int ps_read_id(uint32_t id, struct ps_prog *p, unsigned flags)
{
	int fd = bpf_prog_get_fd_by_id(id), err;

	if (fd < 0)
		return -errno;
	err = read_info(fd, p);
	close(fd);
	if (err)
		return err;
	if (flags) {
		struct ps_set one = { .v = p, .n = 1, .cap = 1 };
		if (flags & PS_LINKS)
			ps_fill_attach(&one);
		if (flags & PS_OWNERS)
			ps_fill_owners(&one);
	}
	return 0;
}

/* ---- the set -------------------------------------------------------------------------- */

int ps_collect(struct ps_set *s, unsigned flags)
{
	uint32_t id = 0;

	s->n = 0;
	while (bpf_prog_get_next_id(id, &id) == 0) {
		int fd = bpf_prog_get_fd_by_id(id), err;

		if (fd < 0) {
			if (errno == ENOENT)    /* unloaded between the two calls */
				continue;
			err = -errno;
			ebee_err("cannot open BPF program %u: %s", id, strerror(errno));
			return err;
		}
		if (s->n == s->cap) {
			int cap = s->cap ? s->cap * 2 : 64;
			struct ps_prog *v = realloc(s->v, sizeof(*v) * cap);
			if (!v) {
				close(fd);
				return -ENOMEM;
			}
			s->v = v;
			s->cap = cap;
		}
		err = read_info(fd, &s->v[s->n]);
		close(fd);
		if (err == 0)
			s->n++;
	}
	if (errno != ENOENT) {
		int err = -errno;
		ebee_err("cannot list BPF programs: %s", strerror(errno));
		return err;
	}
	s->taken_ns = ebee_now_ns();
	if (flags & PS_LINKS)
		ps_fill_attach(s);
	if (flags & PS_OWNERS)
		ps_fill_owners(s);
	return s->n;
}

void ps_set_free(struct ps_set *s)
{
	if (!s)
		return;
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

struct ps_prog *ps_find(const struct ps_set *s, uint32_t id)
{
	int lo = 0, hi = s->n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (s->v[mid].id == id)
			return &s->v[mid];
		if (s->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* ---- resolving user input ------------------------------------------------------------- */

int ps_resolve(const char *what, uint32_t *ids, int max)
{
	struct ps_prog p;
	char *end;
	int n = 0;

	if (!what || !*what) {
		ebee_err("empty program id or name");
		return -EINVAL;
	}
	if (what[0] == '/') {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		int fd = bpf_obj_get(what), err = 0;

		if (fd < 0) {
			err = -errno;
			ebee_err("cannot open pinned program '%s': %s", what, strerror(errno));
			return err;
		}
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			err = -errno;
			ebee_err("'%s' is not a BPF program: %s", what, strerror(errno));
		} else {
			ids[0] = info.id;
		}
		close(fd);
		return err ? err : 1;
	}
	errno = 0;
	unsigned long v = strtoul(what, &end, 10);
	if (isdigit((unsigned char)what[0]) && *end == '\0') {
		if (errno || v == 0 || v > UINT32_MAX) {
			ebee_err("invalid program id '%s'", what);
			return -EINVAL;
		}
		if (ps_read_id((uint32_t)v, &p, 0)) {
			ebee_err("BPF program %lu not found (see 'ebee prog list')", v);
			return -ENOENT;
		}
		ids[0] = (uint32_t)v;
		return 1;
	}
	/* A name: the kernel keeps 15 characters, so a longer name matches on those. */
	size_t wl = strlen(what);
	uint32_t id = 0;
	while (bpf_prog_get_next_id(id, &id) == 0) {
		if (ps_read_id(id, &p, 0))
			continue;
		bool match = wl < PS_NAME_LEN ? strcmp(p.name, what) == 0
					      : strncmp(p.name, what, PS_NAME_LEN - 1) == 0;
		if (match && n < max)
			ids[n++] = id;
	}
	if (n == 0) {
		ebee_err("no BPF program named '%s' (see 'ebee prog list')", what);
		return -ENOENT;
	}
	return n;
}

/* ---- fdinfo --------------------------------------------------------------------------- */

int ps_parse_fdinfo(const char *text, struct ps_fdinfo *fi)
{
	int found = 0;
	const char *l = text;

	while (l && *l) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		char key[32], val[64];
		const char *colon = memchr(l, ':', n);

		if (colon && (size_t)(colon - l) < sizeof(key)) {
			size_t kl = colon - l, vl;
			const char *v = colon + 1;
			memcpy(key, l, kl);
			key[kl] = '\0';
			while (v < l + n && (*v == ' ' || *v == '\t'))
				v++;
			vl = (size_t)(l + n - v);
			if (vl >= sizeof(val))
				vl = sizeof(val) - 1;
			memcpy(val, v, vl);
			val[vl] = '\0';
			unsigned long long u = strtoull(val, NULL, 10);
			if (!strcmp(key, "prog_id")) fi->prog_id = u, found++;
			else if (!strcmp(key, "prog_type")) fi->prog_type = u, found++;
			else if (!strcmp(key, "run_time_ns")) fi->run_time_ns = u, found++;
			else if (!strcmp(key, "run_cnt")) fi->run_cnt = u, found++;
			else if (!strcmp(key, "recursion_misses")) fi->recursion_misses = u, found++;
			else if (!strcmp(key, "verified_insns")) fi->verified_insns = u, found++;
			else if (!strcmp(key, "memlock")) fi->memlock = u, found++;
			else if (!strcmp(key, "prog_jited")) fi->jited = (int)u, found++;
			else if (!strcmp(key, "prog_tag")) {
				snprintf(fi->tag, sizeof(fi->tag), "%.16s", val);
				found++;
			}
		}
		l = nl ? nl + 1 : NULL;
	}
	return found;
}

static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

int ps_read_fdinfo(int pid, int fd, struct ps_fdinfo *fi)
{
	char path[64], buf[1024];
	ssize_t n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	else
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	memset(fi, 0, sizeof(*fi));
	return ps_parse_fdinfo(buf, fi) > 0 ? 0 : -ENODATA;
}

/* ---- owners --------------------------------------------------------------------------- */

void ps_add_owner(struct ps_prog *p, int pid, const char *comm)
{
	char item[40], needle[16];
	size_t have = strlen(p->owners);

	snprintf(needle, sizeof(needle), "%d/", pid);
	/* already listed (a process often holds the program and its link) */
	for (const char *s = p->owners; (s = strstr(s, needle)); s++)
		if (s == p->owners || s[-1] == ',')
			return;
	if (!p->owner_pid) {
		p->owner_pid = pid;
		snprintf(p->owner_comm, sizeof(p->owner_comm), "%s", comm);
	}
	snprintf(item, sizeof(item), "%s%d/%s", have ? "," : "", pid, comm);
	if (have + strlen(item) < sizeof(p->owners))
		strcat(p->owners, item);
}

/* Walks /proc/PID/fd of every process; calls cb for each fd on a BPF program or link, with
 * its parsed fdinfo. comm is read lazily (only for processes that hold one). */
typedef void (*scan_cb)(int pid, int fd, bool is_prog, const struct ps_fdinfo *fi,
			const char *comm, void *arg);
/* ... and perf_cb (when not NULL) for each perf_event fd. */
typedef void (*perf_cb)(int pid, int fd, void *arg);

struct scan { scan_cb cb; perf_cb pcb; void *arg; };

static int scan_fd(struct procfs_fd *f, void *arg)
{
	struct scan *sc = arg;
	struct ps_fdinfo fi;
	bool is_prog = !strcmp(f->link, "anon_inode:bpf-prog");

	if (sc->pcb && !strcmp(f->link, "anon_inode:[perf_event]")) {
		sc->pcb((int)f->pid, f->fd, sc->arg);
		return 0;
	}
	if (!is_prog && strcmp(f->link, "anon_inode:bpf_link"))
		return 0;
	/* the fd table of paths (src/proc) cannot answer this: the program id is in fdinfo */
	if (ps_read_fdinfo((int)f->pid, f->fd, &fi) || !fi.prog_id)
		return 0;
	sc->cb((int)f->pid, f->fd, is_prog, &fi, procfs_walk_comm(f), sc->arg);
	return 0;
}

/* Our own fds are skipped: the only ones on programs are the temporary ones we read through. */
static void scan_proc(scan_cb cb, perf_cb pcb, void *arg)
{
	struct scan sc = { cb, pcb, arg };

	procfs_walk_fds(true, scan_fd, &sc);
}

static void owner_cb(int pid, int fd, bool is_prog, const struct ps_fdinfo *fi, const char *comm,
		     void *arg)
{
	struct ps_prog *p = ps_find(arg, fi->prog_id);
	if (p)
		ps_add_owner(p, pid, comm);
}

static void append_attach(struct ps_prog *p, const char *desc)
{
	size_t have = strlen(p->attach);

	if (!desc[0] || strstr(p->attach, desc))   /* each perf event of a multi-CPU attach */
		return;
	if (have + strlen(desc) + 2 < sizeof(p->attach))
		snprintf(p->attach + have, sizeof(p->attach) - have, "%s%s", have ? "," : "", desc);
}

void ps_perf_attach(struct ps_set *s, int pid, int fd)
{
	char name[128] = "", desc[PS_ATTACH_LEN];
	__u32 len = sizeof(name), prog_id = 0, type = 0;
	__u64 off = 0, addr = 0;
	struct ps_prog *p;

	if (bpf_task_fd_query(pid, fd, 0, name, &len, &prog_id, &type, &off, &addr) ||
	    !(p = ps_find(s, prog_id)))
		return;
	name[sizeof(name) - 1] = '\0';
	switch (type) {
	case BPF_FD_TYPE_RAW_TRACEPOINT:
		snprintf(desc, sizeof(desc), "raw_tp/%s", name);
		break;
	case BPF_FD_TYPE_TRACEPOINT:
		snprintf(desc, sizeof(desc), "tracepoint/%s", name);
		break;
	case BPF_FD_TYPE_KPROBE:
	case BPF_FD_TYPE_KRETPROBE:
		if (name[0])
			snprintf(desc, sizeof(desc), "%s/%s+%llu", type == BPF_FD_TYPE_KPROBE ? "kprobe" : "kretprobe",
				 name, (unsigned long long)off);
		else
			snprintf(desc, sizeof(desc), "%s 0x%llx", type == BPF_FD_TYPE_KPROBE ? "kprobe" : "kretprobe",
				 (unsigned long long)addr);
		break;
	case BPF_FD_TYPE_UPROBE:
	case BPF_FD_TYPE_URETPROBE:
		snprintf(desc, sizeof(desc), "%s %s:0x%llx", type == BPF_FD_TYPE_UPROBE ? "uprobe" : "uretprobe",
			 name, (unsigned long long)off);
		break;
	default:
		snprintf(desc, sizeof(desc), "perf_event");
	}
	append_attach(p, desc);
}

static void perf_attach_cb(int pid, int fd, void *arg)
{
	ps_perf_attach(arg, pid, fd);
}

void ps_fill_owners(struct ps_set *s)
{
	for (int i = 0; i < s->n; i++) {
		s->v[i].owner_pid = 0;
		s->v[i].owner_comm[0] = s->v[i].owners[0] = '\0';
	}
	scan_proc(owner_cb, perf_attach_cb, s);
}

struct fds_arg { uint32_t id; struct ps_owner_fd *out; int n, max; };

static void fds_cb(int pid, int fd, bool is_prog, const struct ps_fdinfo *fi, const char *comm,
		   void *arg)
{
	struct fds_arg *a = arg;
	if (!is_prog || fi->prog_id != a->id || a->n >= a->max)
		return;
	a->out[a->n].pid = pid;
	a->out[a->n].fd = fd;
	snprintf(a->out[a->n].comm, sizeof(a->out[a->n].comm), "%s", comm);
	a->n++;
}

int ps_owner_fds(uint32_t id, struct ps_owner_fd *out, int max)
{
	struct fds_arg a = { .id = id, .out = out, .max = max };
	scan_proc(fds_cb, NULL, &a);
	return a.n;
}

/* "123/foo,456/bar" -> [{"pid":123,"comm":"foo"},...] */
void ps_owners_json(const char *owners, char *buf, size_t len)
{
	size_t n = 0;
	char tmp[PS_OWNERS_LEN], *save = NULL;

	snprintf(tmp, sizeof(tmp), "%s", owners);
	n += snprintf(buf + n, len - n, "[");
	for (char *it = strtok_r(tmp, ",", &save); it && n < len; it = strtok_r(NULL, ",", &save)) {
		char *slash = strchr(it, '/'), comm[64];
		if (!slash)
			continue;
		*slash = '\0';
		out_json_escape(comm, sizeof(comm), slash + 1);
		n += snprintf(buf + n, len - n, "%s{\"pid\":%s,\"comm\":\"%s\"}", n > 1 ? "," : "", it, comm);
	}
	if (n < len)
		snprintf(buf + n, len - n, "]");
}

/* ---- attach points from links ---------------------------------------------------------- */

/* struct bpf_link_info as of Linux 6.6+ for the union members the 6.1 UAPI headers we build
 * with do not have (perf_event, tcx, netfilter, uprobe_multi, netkit). Layout from
 * include/uapi/linux/bpf.h; the kernel accepts a shorter struct as long as the rest is 0. */
struct ps_link_info {
	uint32_t type, id, prog_id;
	uint32_t pad_;
	union {
		struct { uint64_t tp_name; uint32_t tp_name_len; } raw_tracepoint;
		struct { uint32_t attach_type, target_obj_id, target_btf_id; } tracing;
		struct { uint64_t cgroup_id; uint32_t attach_type; } cgroup;
		struct { uint32_t netns_ino, attach_type; } netns;
		struct { uint32_t ifindex; } xdp;
		struct { uint32_t pf, hooknum; int32_t priority; uint32_t flags; } netfilter;
		struct { uint64_t addrs; uint32_t count, flags; } kprobe_multi;
		struct { uint64_t path, offsets, ref_ctr_offsets, cookies;
			 uint32_t path_size, count, flags, pid; } uprobe_multi;
		struct {
			uint32_t type, pad_;
			union {
				struct { uint64_t file_name; uint32_t name_len, offset; } uprobe;
				struct { uint64_t func_name; uint32_t name_len, offset; uint64_t addr; } kprobe;
				struct { uint64_t tp_name; uint32_t name_len; } tracepoint;
				struct { uint64_t config; uint32_t type; } event;
			};
		} perf_event;
		struct { uint32_t ifindex, attach_type; } tcx;
		uint8_t raw[64];
	};
};
_Static_assert(__builtin_offsetof(struct ps_link_info, raw) == 16, "bpf_link_info layout");

enum { LT_RAW_TP = 1, LT_TRACING = 2, LT_CGROUP = 3, LT_ITER = 4, LT_NETNS = 5, LT_XDP = 6,
       LT_PERF = 7, LT_KPROBE_MULTI = 8, LT_STRUCT_OPS = 9, LT_NETFILTER = 10, LT_TCX = 11,
       LT_UPROBE_MULTI = 12, LT_NETKIT = 13 };
enum { PE_UPROBE = 1, PE_URETPROBE, PE_KPROBE, PE_KRETPROBE, PE_TRACEPOINT, PE_EVENT };

static struct btf *vmlinux_btf;
static bool vmlinux_btf_tried;

static const char *btf_name(uint32_t obj_id, uint32_t type_id)
{
	const struct btf_type *t;

	if (obj_id && obj_id != 1)   /* module BTF: not resolved, the id is shown instead */
		return NULL;
	if (!vmlinux_btf_tried) {
		vmlinux_btf_tried = true;
		vmlinux_btf = btf__load_vmlinux_btf();
		if (!vmlinux_btf)
			vmlinux_btf = NULL;
	}
	if (!vmlinux_btf || !(t = btf__type_by_id(vmlinux_btf, type_id)))
		return NULL;
	return btf__name_by_offset(vmlinux_btf, t->name_off);
}

void ps_cleanup(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	vmlinux_btf_tried = false;
}

static const char *attach_name(uint32_t at, char *buf, size_t len)
{
	const char *s = libbpf_bpf_attach_type_str(at);
	if (s)
		return s;
	switch (at) {
	case 46: return "tcx_ingress";
	case 47: return "tcx_egress";
	case 50: return "netkit_primary";
	case 51: return "netkit_peer";
	}
	snprintf(buf, len, "attach_%u", at);
	return buf;
}

static void describe_link(int fd, char *out, size_t len)
{
	struct ps_link_info li;
	uint32_t ilen = sizeof(li);
	char name[128] = "", ifn[IF_NAMESIZE] = "", tmp[32];
	const char *s;

	memset(&li, 0, sizeof(li));
	/* A name buffer for the link types that report one; the kernel looks only at the member
	 * of the union this link's type uses, so we must know the type first. */
	if (bpf_obj_get_info_by_fd(fd, &li, &ilen))
		return;
	uint32_t type = li.type;
	memset(&li, 0, sizeof(li));
	ilen = sizeof(li);
	if (type == LT_RAW_TP) {
		li.raw_tracepoint.tp_name = ptr_u64(name);
		li.raw_tracepoint.tp_name_len = sizeof(name);
	} else if (type == LT_PERF) {
		/* all variants put the name pointer and length first */
		li.perf_event.uprobe.file_name = ptr_u64(name);
		li.perf_event.uprobe.name_len = sizeof(name);
	} else if (type == LT_UPROBE_MULTI) {
		li.uprobe_multi.path = ptr_u64(name);
		li.uprobe_multi.path_size = sizeof(name);
	}
	if (bpf_obj_get_info_by_fd(fd, &li, &ilen))
		return;
	name[sizeof(name) - 1] = '\0';
	switch (type) {
	case LT_RAW_TP:
		snprintf(out, len, "raw_tp/%s", name);
		break;
	case LT_TRACING:
		s = btf_name(li.tracing.target_obj_id, li.tracing.target_btf_id);
		if (s)
			snprintf(out, len, "%s/%s", attach_name(li.tracing.attach_type, tmp, sizeof(tmp)), s);
		else
			snprintf(out, len, "%s btf_id %u", attach_name(li.tracing.attach_type, tmp, sizeof(tmp)),
				 li.tracing.target_btf_id);
		break;
	case LT_CGROUP:
		snprintf(out, len, "%s cgroup %llu", attach_name(li.cgroup.attach_type, tmp, sizeof(tmp)),
			 (unsigned long long)li.cgroup.cgroup_id);
		break;
	case LT_NETNS:
		snprintf(out, len, "%s netns %u", attach_name(li.netns.attach_type, tmp, sizeof(tmp)),
			 li.netns.netns_ino);
		break;
	case LT_XDP:
		snprintf(out, len, "xdp %s", if_indextoname(li.xdp.ifindex, ifn) ? ifn : "?");
		break;
	case LT_TCX:
	case LT_NETKIT:
		snprintf(out, len, "%s %s", attach_name(li.tcx.attach_type, tmp, sizeof(tmp)),
			 if_indextoname(li.tcx.ifindex, ifn) ? ifn : "?");
		break;
	case LT_NETFILTER:
		snprintf(out, len, "netfilter pf %u hook %u prio %d", li.netfilter.pf,
			 li.netfilter.hooknum, li.netfilter.priority);
		break;
	case LT_KPROBE_MULTI:
		snprintf(out, len, "kprobe_multi %u funcs", li.kprobe_multi.count);
		break;
	case LT_UPROBE_MULTI:
		snprintf(out, len, "uprobe_multi %s (%u)", name, li.uprobe_multi.count);
		break;
	case LT_PERF:
		switch (li.perf_event.type) {
		case PE_TRACEPOINT:
			snprintf(out, len, "tracepoint/%s", name);
			break;
		case PE_KPROBE:
		case PE_KRETPROBE:
			snprintf(out, len, "%s/%s+%u", li.perf_event.type == PE_KPROBE ? "kprobe" : "kretprobe",
				 name, li.perf_event.kprobe.offset);
			break;
		case PE_UPROBE:
		case PE_URETPROBE:
			snprintf(out, len, "%s %s:0x%x", li.perf_event.type == PE_UPROBE ? "uprobe" : "uretprobe",
				 name, li.perf_event.uprobe.offset);
			break;
		case PE_EVENT:
			snprintf(out, len, "perf_event %u:%llu", li.perf_event.event.type,
				 (unsigned long long)li.perf_event.event.config);
			break;
		default:
			snprintf(out, len, "perf_event");
		}
		break;
	default:
		s = libbpf_bpf_link_type_str(type);
		snprintf(out, len, "%s", s ? s : "link");
	}
}

void ps_fill_attach(struct ps_set *s)
{
	uint32_t id = 0;

	for (int i = 0; i < s->n; i++)
		s->v[i].attach[0] = '\0';
	while (bpf_link_get_next_id(id, &id) == 0) {
		struct bpf_link_info li;
		uint32_t len = sizeof(li.type) + sizeof(li.id) + sizeof(li.prog_id);
		char desc[PS_ATTACH_LEN] = "";
		struct ps_prog *p;
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&li, 0, sizeof(li));
		if (bpf_obj_get_info_by_fd(fd, &li, &len) == 0 && (p = ps_find(s, li.prog_id))) {
			describe_link(fd, desc, sizeof(desc));
			append_attach(p, desc);
		}
		close(fd);
	}
}

/* ---- stats ---------------------------------------------------------------------------- */

#define STATS_SYSCTL "/proc/sys/kernel/bpf_stats_enabled"

int ps_stats_sysctl(void)
{
	char buf[16];
	ssize_t n = read_small(STATS_SYSCTL, buf, sizeof(buf));
	return n < 0 ? (int)n : atoi(buf);
}

static int write_sysctl(int v)
{
	int fd = open(STATS_SYSCTL, O_WRONLY | O_CLOEXEC), err = 0;
	char c = v ? '1' : '0';

	if (fd < 0)
		return -errno;
	if (write(fd, &c, 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

int ps_stats_on(struct ps_stats *st, bool keep)
{
	int prior = ps_stats_sysctl(), err;

	st->fd = -1;
	st->sysctl_prev = -1;
	st->was_on = prior == 1;
	st->since_ns = 0;
	if (keep) {
		if (prior != 1 && (err = write_sysctl(1))) {
			ebee_err("cannot set kernel.bpf_stats_enabled: %s", strerror(-err));
			return err;
		}
		if (prior != 1)
			st->since_ns = ebee_now_ns();
		ebee_info("bpf stats: kernel.bpf_stats_enabled=1 %s (--keep-stats: left on at exit)",
			  prior == 1 ? "already" : "set by ebee");
		return 0;
	}
	if (prior == 1) {
		ebee_info("bpf stats: already on (kernel.bpf_stats_enabled=1); ebee changes nothing");
		return 0;
	}
	bool already = false;
	/* EBEE_STATS_VIA_SYSCTL=1 takes the old-kernel path on any kernel, for the tests */
	const char *force = getenv("EBEE_STATS_VIA_SYSCTL");
	int fd = force && *force == '1' ? -EINVAL : ebee_stats_enable(&already);
	if (fd >= 0) {
		st->fd = fd;
		st->since_ns = ebee_now_ns();
		ebee_info("bpf stats: enabled by ebee through a BPF_ENABLE_STATS fd (off again when ebee exits)");
		return 0;
	}
	/* Kernels before 5.8 have no BPF_ENABLE_STATS: the sysctl, restored at exit. */
	if (prior < 0) {
		ebee_err("BPF run-time stats not available: %s (no BPF_ENABLE_STATS, no %s)",
			 strerror(-fd), STATS_SYSCTL);
		return fd;
	}
	if ((err = write_sysctl(1))) {
		ebee_err("cannot enable BPF run-time stats: %s", strerror(-err));
		return err;
	}
	st->sysctl_prev = prior;
	st->since_ns = ebee_now_ns();
	ebee_info("bpf stats: kernel.bpf_stats_enabled set to 1 by ebee (restored to %d at exit)", prior);
	return 0;
}

void ps_stats_off(struct ps_stats *st)
{
	if (!st)
		return;
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	if (st->sysctl_prev >= 0) {
		int err = write_sysctl(st->sysctl_prev);
		if (err)
			ebee_warn("cannot restore kernel.bpf_stats_enabled=%d: %s", st->sysctl_prev, strerror(-err));
		st->sysctl_prev = -1;
	}
}

const char *ps_fmt_dur(double s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, len, "%dh%02dm", (int)s / 3600, ((int)s / 60) % 60);
	return buf;
}

const char *ps_stats_describe(const struct ps_stats *st, char *buf, size_t len)
{
	char d[32];

	if (st->since_ns)
		snprintf(buf, len, "stats on for %s (enabled by ebee%s)",
			 ps_fmt_dur((ebee_now_ns() - st->since_ns) / 1e9, d, sizeof(d)),
			 st->fd >= 0 ? ", off at exit" : st->sysctl_prev >= 0 ? ", restored at exit" : ", left on");
	else if (st->was_on)
		snprintf(buf, len, "stats on since before ebee started (kernel.bpf_stats_enabled=1)");
	else
		snprintf(buf, len, "stats off");
	return buf;
}

const char *ps_fmt_ns(double ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
	return buf;
}
