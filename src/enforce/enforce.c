// SPDX-License-Identifier: BSD-2-Clause
/* Enforcement at run time: which mechanisms this host really has (probed; BPF LSM only after
 * the canary proves its hooks run), the kernel tables built from the accepted rules, the
 * programs of the chosen (mechanism, kind) pairs attached by fd-based links only (they vanish
 * with the process, SIGKILL included), and every decision rendered as a Falco-shaped alert with
 * "action" and "mechanism". */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/cmd.h"
#include "core/ebee.h"
#include "core/json.h"
#include "core/load.h"
#include "core/loop.h"
#include "core/out.h"
#include "enforce/enforcer.h"
#include "enforce/enforce.skel.h"
#include "guard/rules.h"

/* ---- probing ------------------------------------------------------------------------------ */

static void read_lsm_list(char *buf, size_t len)
{
	const char *p = "/sys/kernel/security/lsm";
	bool mounted = false;
	int fd;
	ssize_t n;

	if (access(p, R_OK) && !mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL))
		mounted = true;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, len - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (mounted)
		umount("/sys/kernel/security");
}

static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

/* Denies one harmless action of ebee's own (opening /dev/null) with an LSM program and checks
 * that the kernel refused it: an LSM program attaches "successfully" on a kernel whose active
 * LSM list lacks bpf, and then silently does nothing. */
static int lsm_canary(char *why, size_t len)
{
	struct enforce_bpf *skel = enforce_bpf__open();
	struct bpf_program *p;
	struct bpf_link *link = NULL;
	int err, fd;

	if (!skel) {
		snprintf(why, len, "cannot open the enforcement programs: %s", strerror(errno));
		return -errno;
	}
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == skel->progs.enf_lsm_canary);
	err = enforce_bpf__load(skel);
	if (err) {
		snprintf(why, len, "the canary does not load: %s", strerror(-err));
		goto out;
	}
	link = bpf_program__attach(skel->progs.enf_lsm_canary);
	if (!link) {
		err = -errno;
		snprintf(why, len, "the canary does not attach: %s", strerror(-err));
		goto out;
	}
	skel->bss->canary_tgid = getpid();
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	skel->bss->canary_tgid = 0;
	if (fd >= 0) {
		close(fd);
		err = -ENOTSUP;
		snprintf(why, len, "the canary was not refused: LSM programs attach but do not run (%s)",
			 skel->bss->canary_hits ? "hook ran, verdict ignored" : "hook never ran");
	} else if (errno != EPERM) {
		err = -errno;
		snprintf(why, len, "the canary failed oddly: %s", strerror(errno));
	}
out:
	bpf_link__destroy(link);
	enforce_bpf__destroy(skel);
	return err;
}

void enf_probe(struct enf_caps *caps)
{
	const char *off = getenv("EBEE_ENFORCE_DISABLE");
	char lsm[256];

	memset(caps, 0, sizeof(*caps));
	caps->have[MECH_AUDIT] = true;
	caps->have[MECH_SIGNAL] = ebee_have(KIND_TRACEPOINT);
	if (!caps->have[MECH_SIGNAL])
		snprintf(caps->why[MECH_SIGNAL], sizeof(caps->why[0]), "syscall tracepoints: %s",
			 ebee_probe_kind(KIND_TRACEPOINT)->detail);
	caps->have[MECH_CGROUP] = ebee_cgroup2_path() && ebee_have(KIND_CGROUP_SOCK_ADDR);
	if (!caps->have[MECH_CGROUP])
		snprintf(caps->why[MECH_CGROUP], sizeof(caps->why[0]), "cgroup sock_addr hooks: %s",
			 ebee_cgroup2_path() ? ebee_probe_kind(KIND_CGROUP_SOCK_ADDR)->detail : "cgroup2 not mounted");
	/* no loadable modules (CONFIG_MODULES off): no module syscalls, hooks or tracepoints */
	if (access("/proc/modules", F_OK))
		snprintf(caps->absent[ENF_MODULE], sizeof(caps->absent[0]),
			 "this kernel cannot load modules (no /proc/modules)");
	read_lsm_list(lsm, sizeof(lsm));
	/* tests only: skip the list so the canary alone must catch the silent no-op */
	if (!list_has(lsm, "bpf") && !getenv("EBEE_ENFORCE_IGNORE_LSM_LIST"))
		snprintf(caps->why[MECH_LSM], sizeof(caps->why[0]),
			 "BPF LSM not active: the kernel's LSM list '%s' lacks bpf (boot with lsm=...,bpf)",
			 lsm[0] ? lsm : "(unreadable)");
	else if (!ebee_have(KIND_LSM))
		snprintf(caps->why[MECH_LSM], sizeof(caps->why[0]), "BPF LSM programs: %s",
			 ebee_probe_kind(KIND_LSM)->detail);
	else if (!lsm_canary(caps->why[MECH_LSM], sizeof(caps->why[0])))
		caps->have[MECH_LSM] = true;
	for (int m = 0; off && m < MECH_AUDIT; m++)
		if (caps->have[m] && list_has(off, enf_mech_names[m])) {
			caps->have[m] = false;
			snprintf(caps->why[m], sizeof(caps->why[0]), "%s disabled by EBEE_ENFORCE_DISABLE", enf_mech_names[m]);
		}
}

/* ---- the kernel tables ---------------------------------------------------------------------- */

struct enforcer {
	struct enf_file *file;
	struct enf_caps caps;
	bool enforce;
	struct enforce_bpf *skel;
	struct bpf_link *links[32];
	int8_t link_mech[32], link_kind[32];
	int nlinks;
	int cgfd;
	struct ring_buffer *rb;
	struct enf_rule *by_index[ENF_MAX_RULES];
	int nrules;
	FILE *out;
	bool json;
	char hostname[256];
	uint64_t done[ENF_ACTION__N];
	uint64_t decisions[ENF_MAX_RULES][ENF_ACTION__N][MECH__N];   /* /metrics */
};

/* Program of each (mechanism, kind) pair; several where one kind has several syscalls. */
struct hookdef { int mech, kind; struct bpf_program *(*prog)(struct enforce_bpf *); };
#define P(name) static struct bpf_program *p_##name(struct enforce_bpf *s) { return s->progs.name; }
P(enf_tp_execve) P(enf_tp_execveat) P(enf_tp_openat) P(enf_tp_openat2) P(enf_tp_open)
P(enf_tp_creat) P(enf_tp_connect) P(enf_tp_bind) P(enf_tp_ptrace)
P(enf_tp_init_module) P(enf_tp_finit_module)
P(enf_cg_connect4) P(enf_cg_connect6) P(enf_cg_bind4) P(enf_cg_bind6) P(enf_cg_sendmsg4) P(enf_cg_sendmsg6)
P(enf_lsm_exec) P(enf_lsm_connect) P(enf_lsm_bind) P(enf_lsm_ptrace) P(enf_lsm_open)
P(enf_lsm_module_file) P(enf_lsm_module_data)
#undef P
static const struct hookdef hookdefs[] = {
	{ MECH_SIGNAL, ENF_EXEC, p_enf_tp_execve }, { MECH_SIGNAL, ENF_EXEC, p_enf_tp_execveat },
	{ MECH_SIGNAL, ENF_OPEN, p_enf_tp_openat }, { MECH_SIGNAL, ENF_OPEN, p_enf_tp_openat2 },
	{ MECH_SIGNAL, ENF_OPEN, p_enf_tp_open }, { MECH_SIGNAL, ENF_OPEN, p_enf_tp_creat },
	{ MECH_SIGNAL, ENF_MODULE, p_enf_tp_init_module }, { MECH_SIGNAL, ENF_MODULE, p_enf_tp_finit_module },
	{ MECH_SIGNAL, ENF_CONNECT, p_enf_tp_connect }, { MECH_SIGNAL, ENF_BIND, p_enf_tp_bind },
	{ MECH_SIGNAL, ENF_PTRACE, p_enf_tp_ptrace },
	{ MECH_CGROUP, ENF_CONNECT, p_enf_cg_connect4 }, { MECH_CGROUP, ENF_CONNECT, p_enf_cg_connect6 },
	{ MECH_CGROUP, ENF_BIND, p_enf_cg_bind4 }, { MECH_CGROUP, ENF_BIND, p_enf_cg_bind6 },
	{ MECH_CGROUP, ENF_SENDMSG, p_enf_cg_sendmsg4 }, { MECH_CGROUP, ENF_SENDMSG, p_enf_cg_sendmsg6 },
	{ MECH_LSM, ENF_EXEC, p_enf_lsm_exec }, { MECH_LSM, ENF_CONNECT, p_enf_lsm_connect },
	{ MECH_LSM, ENF_BIND, p_enf_lsm_bind }, { MECH_LSM, ENF_PTRACE, p_enf_lsm_ptrace },
	{ MECH_LSM, ENF_OPEN, p_enf_lsm_open }, { MECH_LSM, ENF_MODULE, p_enf_lsm_module_file },
	{ MECH_LSM, ENF_MODULE, p_enf_lsm_module_data },
};

static int map_or(int fd, const void *key, uint64_t bit)
{
	uint64_t v = 0;

	bpf_map_lookup_elem(fd, key, &v);
	v |= bit;
	return bpf_map_update_elem(fd, key, &v, BPF_ANY) ? -errno : 0;
}

static bool path_covers(const struct enf_path *p, const struct enf_path *e)
{
	return p->prefix && !strncmp(e->s, p->s, strlen(p->s));
}

static bool cidr_covers(const struct enf_cidr *p, const struct enf_cidr *e)
{
	if (p->family != e->family || p->bits > e->bits)
		return false;
	for (int b = 0; b < p->bits; b++)
		if ((p->addr[b / 8] ^ e->addr[b / 8]) & (0x80 >> (b % 8)))
			return false;
	return true;
}

/* Per-dimension maps. LPM tries answer only the longest match, so each entry carries the
 * rules of every shorter entry that covers it. */
static int fill_maps(struct enforcer *E)
{
	struct enforce_bpf *s = E->skel;
	int err = 0;

	for (int i = 0; i < E->nrules && !err; i++) {
		const struct enf_rule *r = E->by_index[i];
		uint64_t bit = 1ull << i;
		const struct enf_set *d = r->dim;
		for (int j = 0; j < d[DIM_COMM].n && !err; j++) {
			struct enf_comm_key k = { 0 };
			memcpy(k.comm, d[DIM_COMM].comm[j], 16);
			err = map_or(bpf_map__fd(s->maps.enf_comm), &k, bit);
		}
		for (int j = 0; j < d[DIM_UID].n && !err; j++)
			err = map_or(bpf_map__fd(s->maps.enf_uid), &d[DIM_UID].uid[j], bit);
		for (int j = 0; j < d[DIM_CGROUP].n && !err; j++)
			err = map_or(bpf_map__fd(s->maps.enf_cgroup), &d[DIM_CGROUP].cgroup[j], bit);
		for (int j = 0; j < d[DIM_PORT].n && !err; j++)
			err = map_or(bpf_map__fd(s->maps.enf_port), &d[DIM_PORT].port[j], bit);
		for (int j = 0; j < d[DIM_PATH].n && !err; j++) {
			const struct enf_path *e = &d[DIM_PATH].path[j];
			struct enf_path_key k = { 0 };
			uint64_t m = bit;
			for (int i2 = 0; i2 < E->nrules; i2++)
				for (int j2 = 0; j2 < E->by_index[i2]->dim[DIM_PATH].n; j2++)
					if (path_covers(&E->by_index[i2]->dim[DIM_PATH].path[j2], e))
						m |= 1ull << i2;
			memcpy(k.path, e->s, strlen(e->s));
			k.prefixlen = (strlen(e->s) + !e->prefix) * 8;
			err = map_or(bpf_map__fd(s->maps.enf_path), &k, m);
		}
		for (int j = 0; j < d[DIM_ADDR].n && !err; j++) {
			const struct enf_cidr *e = &d[DIM_ADDR].cidr[j];
			struct enf_addr_key k = { 0 };
			uint64_t m = bit;
			for (int i2 = 0; i2 < E->nrules; i2++)
				for (int j2 = 0; j2 < E->by_index[i2]->dim[DIM_ADDR].n; j2++)
					if (cidr_covers(&E->by_index[i2]->dim[DIM_ADDR].cidr[j2], e))
						m |= 1ull << i2;
			k.family = e->family;
			memcpy(k.addr, e->addr, 16);
			k.prefixlen = 8 + e->bits;
			err = map_or(bpf_map__fd(s->maps.enf_addr), &k, m);
		}
	}
	return err;
}

static void fill_tables(struct enforcer *E, struct enf_tables *t)
{
	memset(t, 0, sizeof(*t));
	t->self_tgid = getpid();
	for (int i = 0; i < E->nrules; i++) {
		const struct enf_rule *r = E->by_index[i];
		uint64_t bit = 1ull << i;
		for (int k = 0; k < ENF_KIND__N; k++)
			if (r->mech[k] >= 0)
				t->mask[r->mech[k]][k] |= bit;
		for (int d = 0; d < DIM__N; d++) {
			if (!r->dim[d].set)
				t->any[d] |= bit;
			else if (r->dim[d].neg)
				t->neg[d] |= bit;
		}
		if (r->open_mode & ENF_OPEN_READ)
			t->open_read |= bit;
		if (r->open_mode & ENF_OPEN_WRITE)
			t->open_write |= bit;
		t->action[i] = E->enforce ? r->action : ENF_AUDIT;
	}
}

/* ---- alerts ----------------------------------------------------------------------------------- */

static void addr_text(const struct enf_event *e, char *buf, size_t len)
{
	if (!inet_ntop(e->family == 6 ? AF_INET6 : AF_INET, e->addr, buf, len))
		snprintf(buf, len, "?");
}

static int on_event(void *arg, void *data, size_t size)
{
	struct enforcer *E = arg;
	const struct enf_event *e = data;
	char text[1024], addr[64] = "", tbuf[64], when[64];
	size_t o = 0;

	if (size < sizeof(*e) || e->rule >= E->nrules || e->action >= ENF_ACTION__N ||
	    e->kind >= ENF_KIND__N || e->mech >= MECH__N)
		return 0;
	const struct enf_rule *r = E->by_index[e->rule];
	int mech = e->action == ENF_AUDIT ? MECH_AUDIT : e->mech;
	bool net = e->kind == ENF_CONNECT || e->kind == ENF_BIND || e->kind == ENF_SENDMSG;
	const char *ipf = e->kind == ENF_BIND ? "fd.lip" : "fd.rip";
	const char *portf = e->kind == ENF_BIND ? "fd.lport" : "fd.rport";
	const char *prio = e->action == ENF_AUDIT ? "Warning" : "Critical";
	uint64_t real = ebee_ktime_to_real(e->hdr.time_ns);
	time_t sec = real / 1000000000ull;
	struct tm tm;

	E->done[e->action]++;
	E->decisions[e->rule][e->action][mech]++;
	if (!E->out)
		return 0;
	if (net)
		addr_text(e, addr, sizeof(addr));
	localtime_r(&sec, &tm);
	o += strftime(text, sizeof(text), "%H:%M:%S", &tm);
	o += snprintf(text + o, sizeof(text) - o, ".%09llu: %s %s %s (enforce=%s mechanism=%s%s%s proc.name=%s proc.pid=%u user.uid=%u",
		      (unsigned long long)(real % 1000000000ull), prio, enf_kind_names[e->kind],
		      enf_done_names[e->action], r->name, enf_mech_names[mech],
		      e->action == ENF_AUDIT ? " would=" : "",
		      e->action == ENF_AUDIT ? enf_action_names[r->action] : "", e->hdr.comm,
		      e->hdr.pid, e->hdr.uid);
	if (e->path[0])
		o += snprintf(text + o, sizeof(text) - o, " fd.name=%.*s", ENF_PATH_LEN, e->path);
	if (net)
		o += snprintf(text + o, sizeof(text) - o, " %s=%s %s=%u", ipf, addr, portf, e->port);
	if (e->kind == ENF_PTRACE)
		o += snprintf(text + o, sizeof(text) - o, " evt.arg.pid=%d", e->target);
	snprintf(text + o, sizeof(text) - o, ")");
	if (!E->json) {
		fprintf(E->out, "%s\n", text);
		fflush(E->out);
		return 0;
	}
	char js[4096];
	struct jw w;
	jw_init_buf(&w, js, sizeof(js));
	jw_obj_begin(&w);
	jw_kstr(&w, "hostname", E->hostname);
	jw_kstr(&w, "output", text);
	jw_key(&w, "output_fields");
	jw_obj_begin(&w);
	jw_kstr(&w, "evt.type", enf_kind_names[e->kind]);
	jw_kstr(&w, "proc.name", e->hdr.comm);
	jw_ku64(&w, "proc.pid", e->hdr.pid);
	jw_ku64(&w, "thread.tid", e->hdr.tid);
	jw_ku64(&w, "user.uid", e->hdr.uid);
	jw_ku64(&w, "proc.cgroupid", e->hdr.cgroup_id);
	if (e->path[0]) {
		char p[ENF_PATH_LEN + 1];
		snprintf(p, sizeof(p), "%.*s", ENF_PATH_LEN, e->path);
		jw_kstr(&w, "fd.name", p);
	}
	if (net) {
		jw_kstr(&w, ipf, addr);
		jw_ku64(&w, portf, e->port);
	}
	if (e->kind == ENF_PTRACE)
		jw_ki64(&w, "evt.arg.pid", e->target);
	if (e->kind == ENF_OPEN) {
		jw_kbool(&w, "evt.is_open_read", e->mode & ENF_OPEN_READ);
		jw_kbool(&w, "evt.is_open_write", e->mode & ENF_OPEN_WRITE);
	}
	jw_obj_end(&w);
	jw_kstr(&w, "priority", prio);
	jw_kstr(&w, "rule", r->name);
	jw_kstr(&w, "source", "syscall");
	jw_key(&w, "tags");
	jw_arr_begin(&w);
	jw_str(&w, "enforce");
	jw_arr_end(&w);
	gmtime_r(&sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, sizeof(when), "%s.%09lluZ", tbuf, (unsigned long long)(real % 1000000000ull));
	jw_kstr(&w, "time", when);
	jw_kstr(&w, "action", enf_done_names[e->action]);
	jw_kstr(&w, "mechanism", enf_mech_names[mech]);
	if (e->action == ENF_AUDIT) {
		jw_kstr(&w, "would", enf_action_names[r->action]);
		jw_kstr(&w, "enforced_by", enf_mech_names[e->mech]);
	}
	jw_obj_end(&w);
	jw_finish(&w);
	fprintf(E->out, "%s\n", js);
	fflush(E->out);
	return 0;
}

/* A cgroup link can be detached from outside (BPF_LINK_DETACH, `bpftool link detach`): its
 * cgroup id then reads 0. Enforcement that silently stopped is worse than none, so the run
 * ends with an error naming what is no longer enforced. (Tracepoint and LSM links cannot be
 * detached while ebee holds them.) */
static int check_links(struct ebee_loop *l, void *arg)
{
	struct enforcer *E = arg;

	for (int i = 0; i < E->nlinks; i++) {
		struct bpf_link_info info = { 0 };
		__u32 len = sizeof(info);
		if (E->link_mech[i] != MECH_CGROUP)
			continue;
		if (bpf_obj_get_info_by_fd(bpf_link__fd(E->links[i]), &info, &len) ||
		    !info.cgroup.cgroup_id) {
			ebee_err("enforcement of %s by cgroup stopped: its link was detached from outside "
				 "(nothing is enforced any more; exiting)", enf_kind_names[E->link_kind[i]]);
			return -ENOLINK;
		}
	}
	return 0;
}

/* ---- life cycle --------------------------------------------------------------------------------- */

static void print_refusals(const struct enf_file *f)
{
	for (int i = 0; i < f->n; i++) {
		const struct enf_rule *r = &f->rules[i];
		if (r->enabled && !r->accepted)
			ebee_err("%s:%d:%d: enforcement rule '%s' refused: %s", r->file, r->line, r->col,
				 r->name, r->reason);
	}
}

struct enforcer *enforcer_new(const struct opt_list *files, struct guard_ruleset *rs, bool enforce)
{
	struct enforcer *E = calloc(1, sizeof(*E));

	if (!E)
		return NULL;
	E->cgfd = -1;
	E->enforce = enforce;
	gethostname(E->hostname, sizeof(E->hostname) - 1);
	E->file = enf_file_load(files, rs);
	if (!E->file)
		goto fail;
	enf_probe(&E->caps);
	if (enf_file_decide(E->file, &E->caps)) {
		print_refusals(E->file);
		goto fail;
	}
	for (int i = 0; i < E->file->n; i++) {
		struct enf_rule *r = &E->file->rules[i];
		if (!r->enabled)
			continue;
		if (E->nrules == ENF_MAX_RULES) {
			ebee_err("too many enforcement rules (at most %d)", ENF_MAX_RULES);
			goto fail;
		}
		r->index = E->nrules;
		E->by_index[E->nrules++] = r;
	}
	return E;
fail:
	enforcer_free(E);
	return NULL;
}

int enforcer_start(struct enforcer *E, struct ebee_loop *l, FILE *out, bool json)
{
	struct enf_tables t;
	int err;

	E->out = out;
	E->json = json;
	if (!E->nrules)
		return 0;
	fill_tables(E, &t);
	E->skel = enforce_bpf__open();
	if (!E->skel)
		return -errno;
	memcpy((void *)&E->skel->rodata->tables, &t, sizeof(t));
	struct bpf_program *p;
	bpf_object__for_each_program(p, E->skel->obj)
		bpf_program__set_autoload(p, false);
	for (size_t i = 0; i < ARRAY_SIZE(hookdefs); i++)
		if (t.mask[hookdefs[i].mech][hookdefs[i].kind])
			bpf_program__set_autoload(hookdefs[i].prog(E->skel), true);
	err = enforce_bpf__load(E->skel);
	if (err)
		return ebee_load_err("enforce", err);
	err = fill_maps(E);
	if (err) {
		ebee_err("cannot fill the enforcement maps: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < ARRAY_SIZE(hookdefs); i++) {
		const struct hookdef *h = &hookdefs[i];
		struct bpf_program *prog = h->prog(E->skel);
		struct bpf_link *link;
		if (!t.mask[h->mech][h->kind])
			continue;
		if (h->mech == MECH_CGROUP) {
			if (E->cgfd < 0)
				E->cgfd = open(ebee_cgroup2_path(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			link = E->cgfd >= 0 ? bpf_program__attach_cgroup(prog, E->cgfd) : NULL;
		} else {
			link = bpf_program__attach(prog);
		}
		if (!link) {
			err = -errno;
			/* never claim a level we do not have */
			ebee_err("cannot attach enforcement program '%s' (%s, %s): %s",
				 bpf_program__name(prog), enf_mech_names[h->mech], enf_kind_names[h->kind],
				 strerror(-err));
			return err;
		}
		E->link_mech[E->nlinks] = h->mech;
		E->link_kind[E->nlinks] = h->kind;
		E->links[E->nlinks++] = link;
	}
	E->rb = ring_buffer__new(bpf_map__fd(E->skel->maps.enf_events), on_event, E, NULL);
	if (!E->rb)
		return -errno;
	err = loop_add_ringbuf(l, E->rb, 0);
	if (!err)
		err = loop_add_timer(l, 1.0, check_links, E);
	if (err < 0)
		return err;
	err = 0;
	for (int i = 0; i < E->nrules; i++) {
		const struct enf_rule *r = E->by_index[i];
		char lv[128] = "";
		size_t o = 0;
		for (int k = 0; k < ENF_KIND__N; k++)
			if (r->mech[k] >= 0)
				o += snprintf(lv + o, sizeof(lv) - o, "%s%s: %s", o ? ", " : "",
					      enf_kind_names[k], enf_mech_names[r->mech[k]]);
		ebee_info("enforce '%s': %s %s", r->name, E->enforce ? enf_action_names[r->action] : "audit", lv);
	}
	if (!E->enforce)
		ebee_warn("enforcement rules in audit mode (alerts only): add --enforce to act");
	return 0;
}

static uint64_t enf_lost(struct enforcer *E)
{
	return E->skel ? ebee_percpu_sum(bpf_map__fd(E->skel->maps.enf_events_drops), 0) : 0;
}

/* The summary's enforcement counters, as members of guard's summary object. */
void enforcer_summary_fields(struct enforcer *E, struct jw *w)
{
	jw_key(w, "enforced");
	jw_obj_begin(w);
	for (int a = 0; a < ENF_ACTION__N; a++)
		jw_ku64(w, enf_done_names[a], E->done[a]);
	jw_ku64(w, "lost", enf_lost(E));
	jw_obj_end(w);
}

/* Every rule's live (action, mechanism) pairs are written even at 0, so a rate() has a
 * series from the start; other pairs appear once they happened. */
void enforcer_metrics(struct enforcer *E, struct prom *p)
{
	prom_family(p, "ebee_enforce_decisions_total", "counter",
		    "Enforcement decisions by rule, what was done (audited, denied, killed) and mechanism.");
	for (int i = 0; i < E->nrules; i++) {
		const struct enf_rule *r = E->by_index[i];
		bool live[ENF_ACTION__N][MECH__N] = { { false } };
		int act = E->enforce ? r->action : ENF_AUDIT;
		for (int k = 0; k < ENF_KIND__N; k++)
			if (r->mech[k] >= 0)
				live[act][act == ENF_AUDIT ? MECH_AUDIT : r->mech[k]] = true;
		for (int a = 0; a < ENF_ACTION__N; a++)
			for (int m = 0; m < MECH__N; m++) {
				if (!live[a][m] && !E->decisions[i][a][m])
					continue;
				struct prom_label l[3] = { { "rule", r->name }, { "action", enf_done_names[a] },
							   { "mechanism", enf_mech_names[m] } };
				prom_u64(p, "ebee_enforce_decisions_total", l, 3, E->decisions[i][a][m]);
			}
	}
	prom_family(p, "ebee_enforce_lost_total", "counter",
		    "Enforcement decisions taken in the kernel whose alert could not be queued.");
	prom_u64(p, "ebee_enforce_lost_total", NULL, 0, enf_lost(E));
}

void enforcer_drain(struct enforcer *E)
{
	if (E && E->rb)
		ring_buffer__consume(E->rb);
}

void enforcer_free(struct enforcer *E)
{
	if (!E)
		return;
	for (int i = 0; i < E->nlinks; i++)
		bpf_link__destroy(E->links[i]);
	ring_buffer__free(E->rb);
	enforce_bpf__destroy(E->skel);
	if (E->cgfd >= 0)
		close(E->cgfd);
	enf_file_free(E->file);
	free(E);
}

/* ---- check and doctor ----------------------------------------------------------------------------- */

enum { K_RULE, K_STATUS, K_ACTION, K_MECH, K_REASON, K__N };

static const struct out_col check_cols[K__N] = {
	[K_RULE]   = { "enforce", "ENFORCE", OUT_STR, -30 },
	[K_STATUS] = { "status", "STATUS", OUT_STR, -9 },
	[K_ACTION] = { "action", "ACTION", OUT_STR, -7 },
	[K_MECH]   = { "mechanism", "MECHANISM", OUT_STR, -24 },
	[K_REASON] = { "reason", "REASON", OUT_STR, -1 },
};

enum { L_KIND, L_DENY, L_KILL, L_AUDIT, L__N };

static const struct out_col level_cols[L__N] = {
	[L_KIND]  = { "kind", "KIND", OUT_STR, -8 },
	[L_DENY]  = { "deny", "DENY", OUT_STR, -7 },
	[L_KILL]  = { "kill", "KILL", OUT_STR, -7 },
	[L_AUDIT] = { "audit", "AUDIT", OUT_STR, -7 },
};

static const char *level_name(const struct enf_caps *caps, int kind, int action)
{
	int m = enf_mech_for(caps, kind, action);
	return m < 0 ? "-" : enf_mech_names[m];
}

static void print_levels(const struct enf_caps *caps, struct ebee_ctx *ctx)
{
	struct out o;
	out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, level_cols, L__N);
	if (!ctx->json)
		printf("\nlive level per action kind (strongest mechanism this host really has):\n");
	out_header(&o);
	for (int k = 0; k < ENF_KIND__N; k++) {
		out_str(&o, L_KIND, enf_kind_names[k]);
		out_str(&o, L_DENY, level_name(caps, k, ENF_DENY));
		out_str(&o, L_KILL, level_name(caps, k, ENF_KILL));
		out_str(&o, L_AUDIT, level_name(caps, k, ENF_AUDIT));
		out_row(&o);
	}
	if (!ctx->json)
		for (int m = 0; m < MECH_AUDIT; m++)
			if (!caps->have[m])
				printf("%s: unavailable: %s\n", enf_mech_names[m], caps->why[m]);
}

int enforce_check(const struct opt_list *files, struct guard_ruleset *rs, struct ebee_ctx *ctx)
{
	struct enf_caps caps;
	struct enf_file *f = enf_file_load(files, rs);
	struct out o;

	if (!f)
		return -EINVAL;
	enf_probe(&caps);
	int refused = enf_file_decide(f, &caps);
	if (!ctx->json)
		printf("\n");
	out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, check_cols, K__N);
	out_header(&o);
	for (int i = 0; i < f->n; i++) {
		const struct enf_rule *r = &f->rules[i];
		char mech[128] = "";
		size_t n = 0;
		for (int k = 0; k < ENF_KIND__N; k++)
			if (r->mech[k] >= 0)
				n += snprintf(mech + n, sizeof(mech) - n, "%s%s: %s", n ? ", " : "",
					      enf_kind_names[k], enf_mech_names[r->mech[k]]);
		out_str(&o, K_RULE, r->name);
		out_str(&o, K_STATUS, !r->enabled ? "disabled" : r->accepted ? "accepted" : "refused");
		out_str(&o, K_ACTION, enf_action_names[r->action]);
		out_str(&o, K_MECH, mech[0] ? mech : "-");
		out_str(&o, K_REASON, !r->enabled ? "enabled: false" : r->reason);
		out_row(&o);
	}
	print_levels(&caps, ctx);
	fflush(stdout);
	if (refused)
		print_refusals(f);
	enf_file_free(f);
	return refused ? -EINVAL : 0;
}

void enforce_doctor_levels(void (*row)(void *arg, const char *kind, const char *level,
				       const char *detail), void *arg)
{
	struct enf_caps caps;
	char detail[400];

	enf_probe(&caps);
	for (int k = 0; k < ENF_KIND__N; k++) {
		int deny = enf_mech_for(&caps, k, ENF_DENY), kill = enf_mech_for(&caps, k, ENF_KILL);
		int best = deny >= 0 ? deny : kill >= 0 ? kill : MECH_AUDIT;
		snprintf(detail, sizeof(detail), "deny: %s, kill: %s%s%s",
			 deny >= 0 ? enf_mech_names[deny] : "no", kill >= 0 ? enf_mech_names[kill] : "no",
			 best != MECH_LSM && !caps.have[MECH_LSM] ? "; lsm: " : "",
			 best != MECH_LSM && !caps.have[MECH_LSM] ? caps.why[MECH_LSM] : "");
		if (caps.absent[k][0])
			snprintf(detail, sizeof(detail), "%s", caps.absent[k]);
		row(arg, enf_kind_names[k], caps.absent[k][0] ? "none" : enf_mech_names[best], detail);
	}
}
