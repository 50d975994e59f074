// SPDX-License-Identifier: BSD-2-Clause
/* The process table (see proc.h for the contract and the bounds).
 *
 * Layout, all allocated in proctab_new: an array of entries with a free list; a pid -> entry
 * open-addressing hash (linear probing, backward-shift deletion, so no tombstones pile up under
 * churn); two age lists threading the entries (live in creation order, exited in exit order)
 * that give eviction and reaping their victims in O(1). fds are records in a pool, chained in
 * a (pid, fd) hash, and threaded on two more lists: per process (its per-process bound and its
 * cleanup) and global (the global bound). Texts (exe, cmdline, cwd, cgroup, fd paths) are
 * references into one text store (strs.h): an entry or record holds one reference per text,
 * dropped when the field changes or the entry/record is freed. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ebee.h"
#include "proc/proc.h"
#include "proc/strs.h"

#define NIL (-1)
#define NEG_SLOTS 64
#define NEG_TTL_NS 1000000000ull

struct list { int32_t head, tail; };

struct pentry {
	struct proc p;
	int32_t prev, next;         /* live or dead list; next = free list when unused */
	struct list fds;            /* this process's fd records, oldest first */
	bool used;
};

struct fdrec {
	uint32_t pid;
	int fd;
	int32_t owner;              /* entry index */
	int32_t hnext;              /* hash chain; free list when unused */
	int32_t pprev, pnext;       /* owner's list */
	int32_t gprev, gnext;       /* global age list */
	const char *path;           /* in the text store */
};

struct proctab {
	size_t max;
	struct pentry *e;
	int32_t efree;              /* freed entries; never used ones are from ehw on */
	size_t ehw;
	uint32_t *slot;             /* entry index + 1, 0 = empty */
	uint32_t smask;
	struct list live, dead;
	size_t n, nexited;

	struct fdrec *f;
	size_t fmax, nf;
	int32_t ffree;              /* freed records; never used ones are from fhw on */
	size_t fhw;
	int32_t *fbucket;
	uint32_t fmask;
	struct list fage;

	uint32_t gen;
	struct cgroup_names cg;
	struct { uint32_t pid; uint64_t t; } neg[NEG_SLOTS];
	struct proctab_stats st;
	struct strs txt;
	struct proc_text rd;        /* procfs_read's texts, until e_fill stores them */
	char tmp[PROC_CMDLINE_LEN]; /* a cut fd path, a cmdline given its last NUL */
};

/* the sizes proc.h's BOUNDS are made of (x86-64) */
_Static_assert(sizeof(void *) != 8 || (sizeof(struct pentry) == 176 && sizeof(struct fdrec) == 40),
	       "BOUNDS figures");
_Static_assert(PROC_CMDLINE_LEN >= PROC_FD_PATH_LEN, "tmp");
_Static_assert(PROC_CMDLINE_LEN <= STRS_MAX_LEN && PROC_EXE_LEN <= STRS_MAX_LEN &&
	       PROC_CWD_LEN <= STRS_MAX_LEN && PROC_CGROUP_LEN <= STRS_MAX_LEN, "texts fit");

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return x;
}

static size_t pow2_at_least(size_t n)
{
	size_t v = 16;

	while (v < n)
		v <<= 1;
	return v;
}

/* ---- entry lists ------------------------------------------------------------------------- */

static void e_unlink(struct proctab *pt, struct list *l, int32_t i)
{
	struct pentry *x = &pt->e[i];

	if (x->prev != NIL)
		pt->e[x->prev].next = x->next;
	else
		l->head = x->next;
	if (x->next != NIL)
		pt->e[x->next].prev = x->prev;
	else
		l->tail = x->prev;
	x->prev = x->next = NIL;
}

static void e_append(struct proctab *pt, struct list *l, int32_t i)
{
	struct pentry *x = &pt->e[i];

	x->prev = l->tail;
	x->next = NIL;
	if (l->tail != NIL)
		pt->e[l->tail].next = i;
	else
		l->head = i;
	l->tail = i;
}

/* ---- pid hash ---------------------------------------------------------------------------- */

static int32_t e_find(const struct proctab *pt, uint32_t pid)
{
	for (uint32_t s = hash32(pid) & pt->smask;; s = (s + 1) & pt->smask) {
		uint32_t v = pt->slot[s];

		if (!v)
			return NIL;
		if (pt->e[v - 1].p.pid == pid)
			return (int32_t)(v - 1);
	}
}

static void h_insert(struct proctab *pt, int32_t i)
{
	uint32_t s = hash32(pt->e[i].p.pid) & pt->smask;

	while (pt->slot[s])
		s = (s + 1) & pt->smask;
	pt->slot[s] = (uint32_t)i + 1;
}

/* Backward-shift deletion: later members of the probe run move into the hole when their home
 * slot allows it, so lookups never need tombstones. */
static void h_remove(struct proctab *pt, uint32_t pid)
{
	uint32_t s = hash32(pid) & pt->smask, j;

	while (pt->slot[s] && pt->e[pt->slot[s] - 1].p.pid != pid)
		s = (s + 1) & pt->smask;
	if (!pt->slot[s])
		return;
	for (j = (s + 1) & pt->smask; pt->slot[j]; j = (j + 1) & pt->smask) {
		uint32_t home = hash32(pt->e[pt->slot[j] - 1].p.pid) & pt->smask;

		/* move j to s unless home lies cyclically in (s, j] */
		if (((j - home) & pt->smask) >= ((j - s) & pt->smask)) {
			pt->slot[s] = pt->slot[j];
			s = j;
		}
	}
	pt->slot[s] = 0;
}

/* ---- texts ------------------------------------------------------------------------------- */

/* *field := len bytes of t (cut to cap - 1 bytes: the trunc bit) from the store, the old text
 * dropped. false when the store is full: then "" and the bit. Only sets bits (callers whose
 * value replaces a known one clear theirs first). */
static bool set_text(struct proctab *pt, const char **field, const char *t, size_t len,
		     size_t cap, uint8_t *trunc, uint8_t bit)
{
	const char *v;

	if (len >= cap) {
		len = cap - 1;   /* never a stored text: those fit already */
		*trunc |= bit;
	}
	v = strs_dup(&pt->txt, t, len);
	strs_put(&pt->txt, *field);
	*field = v ? v : "";
	if (!v)
		*trunc |= bit;
	return v != NULL;
}

/* Drops p's texts (NULL ones too: an entry never used). */
static void texts_put(struct proctab *pt, struct proc *p)
{
	strs_put(&pt->txt, p->exe);
	strs_put(&pt->txt, p->cmdline);
	strs_put(&pt->txt, p->cwd);
	strs_put(&pt->txt, p->cgroup);
	p->exe = p->cmdline = p->cwd = p->cgroup = "";
}

static void texts_ref(struct proctab *pt, const struct proc *p)
{
	strs_ref(&pt->txt, p->exe);
	strs_ref(&pt->txt, p->cmdline);
	strs_ref(&pt->txt, p->cwd);
	strs_ref(&pt->txt, p->cgroup);
}

/* ---- fd records -------------------------------------------------------------------------- */

static uint32_t fd_hash(const struct proctab *pt, uint32_t pid, int fd)
{
	return hash32(pid * 0x9e3779b1u ^ (uint32_t)fd) & pt->fmask;
}

static int32_t f_find(const struct proctab *pt, uint32_t pid, int fd)
{
	int32_t i = pt->fbucket[fd_hash(pt, pid, fd)];

	while (i != NIL && (pt->f[i].pid != pid || pt->f[i].fd != fd))
		i = pt->f[i].hnext;
	return i;
}

static void f_free(struct proctab *pt, int32_t i)
{
	struct fdrec *r = &pt->f[i];
	struct pentry *o = &pt->e[r->owner];
	int32_t *pp = &pt->fbucket[fd_hash(pt, r->pid, r->fd)];

	while (*pp != i)
		pp = &pt->f[*pp].hnext;
	*pp = r->hnext;
	if (r->pprev != NIL) pt->f[r->pprev].pnext = r->pnext; else o->fds.head = r->pnext;
	if (r->pnext != NIL) pt->f[r->pnext].pprev = r->pprev; else o->fds.tail = r->pprev;
	if (r->gprev != NIL) pt->f[r->gprev].gnext = r->gnext; else pt->fage.head = r->gnext;
	if (r->gnext != NIL) pt->f[r->gnext].gprev = r->gprev; else pt->fage.tail = r->gprev;
	o->p.nfds--;
	strs_put(&pt->txt, r->path);
	r->path = NULL;
	r->hnext = pt->ffree;
	pt->ffree = i;
	pt->nf--;
}

static void f_link_tail(struct proctab *pt, int32_t i)
{
	struct fdrec *r = &pt->f[i];
	struct pentry *o = &pt->e[r->owner];

	r->pprev = o->fds.tail;
	r->pnext = NIL;
	if (o->fds.tail != NIL) pt->f[o->fds.tail].pnext = i; else o->fds.head = i;
	o->fds.tail = i;
	r->gprev = pt->fage.tail;
	r->gnext = NIL;
	if (pt->fage.tail != NIL) pt->f[pt->fage.tail].gnext = i; else pt->fage.head = i;
	pt->fage.tail = i;
}

/* Records fd of entry ei; NULL when the text store is full (then fd is not known). path may
 * be another record's: its reference is taken before any record is freed. */
static const char *f_set(struct proctab *pt, int32_t ei, int fd, const char *path)
{
	uint32_t pid = pt->e[ei].p.pid;
	int32_t i = f_find(pt, pid, fd);
	size_t len = strlen(path);
	const char *t;
	uint32_t b;

	if (len >= PROC_FD_PATH_LEN) {
		memcpy(pt->tmp, path, PROC_FD_PATH_LEN - 4);
		memcpy(pt->tmp + PROC_FD_PATH_LEN - 4, "...", 4);
		path = pt->tmp;
		len = PROC_FD_PATH_LEN - 1;
	}
	t = strs_dup(&pt->txt, path, len);
	if (i != NIL)
		f_free(pt, i);   /* re-linked fresh: a reused fd number is a new fd */
	if (!t)
		return NULL;     /* counted by the store (text_full); what fd held is gone */
	if (pt->e[ei].p.nfds >= PROC_FDS_PER_PROC) {
		f_free(pt, pt->e[ei].fds.head);
		pt->st.fds_evicted++;
	}
	if (pt->ffree == NIL && pt->fhw < pt->fmax) {
		pt->f[pt->fhw].hnext = NIL;
		pt->ffree = (int32_t)pt->fhw++;
	}
	if (pt->ffree == NIL) {
		f_free(pt, pt->fage.head);
		pt->st.fds_evicted++;
	}
	i = pt->ffree;
	pt->ffree = pt->f[i].hnext;
	pt->f[i].pid = pid;
	pt->f[i].fd = fd;
	pt->f[i].owner = ei;
	pt->f[i].path = t;
	b = fd_hash(pt, pid, fd);
	pt->f[i].hnext = pt->fbucket[b];
	pt->fbucket[b] = i;
	f_link_tail(pt, i);
	pt->e[ei].p.nfds++;
	pt->nf++;
	return pt->f[i].path;
}

static void f_drop_all(struct proctab *pt, int32_t ei)
{
	while (pt->e[ei].fds.head != NIL)
		f_free(pt, pt->e[ei].fds.head);
}

/* ---- entries ----------------------------------------------------------------------------- */

static void e_release(struct proctab *pt, int32_t i)
{
	struct pentry *x = &pt->e[i];

	f_drop_all(pt, i);
	texts_put(pt, &x->p);
	h_remove(pt, x->p.pid);
	if (x->p.exited) {
		e_unlink(pt, &pt->dead, i);
		pt->nexited--;
	} else {
		e_unlink(pt, &pt->live, i);
	}
	x->used = false;
	x->next = pt->efree;
	pt->efree = i;
	pt->n--;
}

/* (Re)initialises entry i for pid as a fresh live process: a new identity (gen). */
static void e_reset(struct proctab *pt, int32_t i, uint32_t pid, uint64_t ts, uint8_t origin)
{
	struct pentry *x = &pt->e[i];

	f_drop_all(pt, i);
	texts_put(pt, &x->p);
	memset(&x->p, 0, sizeof(x->p));
	x->p.exe = x->p.cmdline = x->p.cwd = x->p.cgroup = "";
	x->p.pid = pid;
	x->p.loginuid = (uint32_t)-1;
	x->p.gen = ++pt->gen;
	x->p.created_ts = ts;
	x->p.origin = origin;
}

/* A new entry for pid (not in the table), evicting when full. */
static int32_t e_new(struct proctab *pt, uint32_t pid, uint64_t ts, uint8_t origin)
{
	int32_t i;

	if (pt->efree == NIL && pt->ehw < pt->max) {
		pt->e[pt->ehw].next = NIL;
		pt->efree = (int32_t)pt->ehw++;
	}
	if (pt->efree == NIL) {
		e_release(pt, pt->dead.head != NIL ? pt->dead.head : pt->live.head);
		pt->st.evicted++;
	}
	i = pt->efree;
	pt->efree = pt->e[i].next;
	pt->e[i].used = true;
	pt->e[i].fds.head = pt->e[i].fds.tail = NIL;
	e_reset(pt, i, pid, ts, origin);
	h_insert(pt, i);
	e_append(pt, &pt->live, i);
	pt->n++;
	return i;
}

/* An entry whose pid now names another process: same slot, new identity, live again. */
static void e_replace(struct proctab *pt, int32_t i, uint64_t ts, uint8_t origin)
{
	if (pt->e[i].p.exited) {
		e_unlink(pt, &pt->dead, i);
		pt->nexited--;
	} else {
		e_unlink(pt, &pt->live, i);
	}
	e_append(pt, &pt->live, i);
	e_reset(pt, i, pt->e[i].p.pid, ts, origin);
	pt->st.replaced++;
}

/* Copies what /proc said (or the parent's entry: texts the caller holds a reference to) into
 * entry i, keeping the table's own fields; the texts go to the store. */
static void e_fill(struct proctab *pt, int32_t i, const struct proc *src)
{
	struct proc *p = &pt->e[i].p;
	uint32_t gen = p->gen, nfds = p->nfds;
	uint64_t created = p->created_ts;
	uint8_t origin = p->origin;

	texts_put(pt, p);
	*p = *src;
	p->exe = p->cmdline = p->cwd = p->cgroup = "";
	p->gen = gen;
	p->nfds = (uint16_t)nfds;
	p->created_ts = created;
	p->origin = origin;
	p->exited = false;
	set_text(pt, &p->exe, src->exe, strlen(src->exe), PROC_EXE_LEN, &p->trunc, PROC_TRUNC_EXE);
	if (!set_text(pt, &p->cmdline, src->cmdline, src->cmdline_len, PROC_CMDLINE_LEN + 1,
		      &p->trunc, PROC_TRUNC_CMDLINE))
		p->cmdline_len = 0;
	set_text(pt, &p->cwd, src->cwd, strlen(src->cwd), PROC_CWD_LEN, &p->trunc, PROC_TRUNC_CWD);
	set_text(pt, &p->cgroup, src->cgroup, strlen(src->cgroup), PROC_CGROUP_LEN, &p->trunc,
		 PROC_TRUNC_CGROUP);
}

static bool neg_hit(struct proctab *pt, uint32_t pid, uint64_t now)
{
	unsigned s = pid % NEG_SLOTS;

	return pt->neg[s].pid == pid && now - pt->neg[s].t < NEG_TTL_NS;
}

static void neg_add(struct proctab *pt, uint32_t pid, uint64_t now)
{
	pt->neg[pid % NEG_SLOTS].pid = pid;
	pt->neg[pid % NEG_SLOTS].t = now;
}

/* Reads pid from /proc into a new entry; NIL when /proc has no such process. */
static int32_t e_lazy(struct proctab *pt, uint32_t pid)
{
	struct proc tmp;
	uint64_t now = ebee_now_ns();
	int32_t i;

	if (!pid || neg_hit(pt, pid, now))
		return NIL;
	if (!procfs_read(pid, &tmp, &pt->rd)) {
		neg_add(pt, pid, now);
		pt->st.lazy_misses++;
		return NIL;
	}
	i = e_new(pt, pid, now, PROC_FROM_LAZY);
	e_fill(pt, i, &tmp);
	pt->st.lazy_seeded++;
	return i;
}

static int32_t e_get(struct proctab *pt, uint32_t pid)
{
	int32_t i = e_find(pt, pid);

	return i != NIL ? i : e_lazy(pt, pid);
}

/* ---- API --------------------------------------------------------------------------------- */

struct proctab *proctab_new(size_t max_procs)
{
	struct proctab *pt = calloc(1, sizeof(*pt));
	size_t nslots, nb;

	if (!pt)
		return NULL;
	if (!max_procs)
		max_procs = PROCTAB_DEFAULT;
	if (max_procs > (1u << 24)) {
		free(pt);
		errno = EINVAL;
		return NULL;
	}
	pt->max = max_procs;
	nslots = pow2_at_least(2 * max_procs);
	pt->fmax = max_procs * PROC_FDS_AVG;
	nb = pow2_at_least(pt->fmax);
	pt->e = calloc(max_procs, sizeof(*pt->e));
	pt->slot = calloc(nslots, sizeof(*pt->slot));
	pt->f = calloc(pt->fmax, sizeof(*pt->f));
	pt->fbucket = malloc(nb * sizeof(*pt->fbucket));
	if (!pt->e || !pt->slot || !pt->f || !pt->fbucket) {
		proctab_free(pt);
		errno = ENOMEM;
		return NULL;
	}
	pt->smask = (uint32_t)nslots - 1;
	pt->fmask = (uint32_t)nb - 1;
	/* Entries and fd records are taken in order the first time (ehw, fhw) and only then from
	 * the free lists: the pools are calloc'ed and stay untouched, so not resident, until used
	 * (4096 entries and 32768 fd records are 15 MB; a CLI run uses a few hundred). */
	for (size_t i = 0; i < nb; i++)
		pt->fbucket[i] = NIL;
	if (strs_init(&pt->txt, max_procs * PROC_TEXT_PER_PROC, max_procs * 8)) {
		proctab_free(pt);
		errno = ENOMEM;
		return NULL;
	}
	pt->efree = NIL;
	pt->ffree = NIL;
	pt->live.head = pt->live.tail = pt->dead.head = pt->dead.tail = NIL;
	pt->fage.head = pt->fage.tail = NIL;
	cgroup_names_init(&pt->cg);
	return pt;
}

void proctab_free(struct proctab *pt)
{
	if (!pt)
		return;
	cgroup_names_free(&pt->cg);
	strs_fini(&pt->txt);
	free(pt->e);
	free(pt->slot);
	free(pt->f);
	free(pt->fbucket);
	free(pt);
}

int proctab_seed(struct proctab *pt)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	uint64_t now = ebee_now_ns();
	int added = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct proc tmp;
		uint32_t pid;
		int32_t i;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = (uint32_t)strtoul(de->d_name, NULL, 10);
		if (!procfs_read(pid, &tmp, &pt->rd))
			continue;   /* gone meanwhile */
		i = e_find(pt, pid);
		if (i != NIL && proc_same_start(pt->e[i].p.start_ns, tmp.start_ns))
			continue;   /* known from an event (newer than /proc), or an exited zombie */
		if (i != NIL)
			e_replace(pt, i, now, PROC_FROM_SEED);
		else
			i = e_new(pt, pid, now, PROC_FROM_SEED);
		e_fill(pt, i, &tmp);
		added++;
	}
	closedir(d);
	return added;
}

void proc_on_fork(struct proctab *pt, uint32_t ppid, uint32_t pid, uint64_t start_ns, uint64_t ts)
{
	struct proc parent;
	bool have_parent;
	int32_t pi, i;
	uint32_t pgen;

	if (!pid || pid == ppid)
		return;
	i = e_find(pt, pid);
	if (i != NIL && proc_same_start(pt->e[i].p.start_ns, start_ns)) {
		/* already read from /proc (a lookup won the race with this event) */
		pt->e[i].p.ppid = ppid;
		if (!pt->e[i].p.start_ns)
			pt->e[i].p.start_ns = start_ns;
		return;
	}
	pi = e_get(pt, ppid);
	have_parent = pi != NIL;
	if (have_parent) {
		/* a copy, its texts held: making the child may evict the parent */
		parent = pt->e[pi].p;
		texts_ref(pt, &parent);
		pgen = parent.gen;
	}
	if (i != NIL)
		e_replace(pt, i, ts, PROC_FROM_FORK);
	else
		i = e_new(pt, pid, ts, PROC_FROM_FORK);
	if (have_parent) {
		e_fill(pt, i, &parent);
		texts_put(pt, &parent);
	} else {
		struct proc tmp;

		if (procfs_read(pid, &tmp, &pt->rd)) {
			e_fill(pt, i, &tmp);
			pt->e[i].p.origin = PROC_FROM_LAZY;
			pt->st.lazy_seeded++;
		}
	}
	pt->e[i].p.pid = pid;
	pt->e[i].p.ppid = ppid;
	pt->e[i].p.start_ns = start_ns;
	pt->e[i].p.exit_ts = 0;
	/* fork copies the fd table: the fds the parent is known to hold. Their numbers first,
	 * since each f_set may recycle the oldest record, possibly one of the parent's. */
	pi = have_parent ? e_find(pt, ppid) : NIL;
	if (pi != NIL && pt->e[pi].p.gen == pgen) {
		int fds[PROC_FDS_PER_PROC], nfds = 0;

		for (int32_t r = pt->e[pi].fds.head; r != NIL && nfds < PROC_FDS_PER_PROC; r = pt->f[r].pnext)
			fds[nfds++] = pt->f[r].fd;
		for (int k = 0; k < nfds; k++) {
			int32_t r = f_find(pt, ppid, fds[k]);

			if (r != NIL)
				f_set(pt, i, fds[k], pt->f[r].path);   /* one more reference */
		}
	}
}

void proc_on_exec(struct proctab *pt, uint32_t pid, uint64_t start_ns, const char *exe,
		  const char *args, size_t args_len, uint32_t uid, uint64_t cgroup_id, uint64_t ts)
{
	int32_t i = e_find(pt, pid);
	struct proc *p;
	const char *base, *cmd = args;
	size_t keep;

	if (!pid)
		return;
	if (i != NIL && !proc_same_start(pt->e[i].p.start_ns, start_ns))
		e_replace(pt, i, ts, PROC_FROM_EXEC);   /* missed exit + fork: the pid was reused */
	else if (i == NIL)
		i = e_new(pt, pid, ts, PROC_FROM_EXEC);
	p = &pt->e[i].p;
	if (p->origin == PROC_FROM_EXEC && !p->ppid) {
		/* unknown until now: /proc has what the event lacks (ppid, cwd, tty, loginuid) */
		struct proc tmp;

		if (procfs_read(pid, &tmp, &pt->rd) && proc_same_start(tmp.start_ns, start_ns)) {
			e_fill(pt, i, &tmp);
			p->origin = PROC_FROM_LAZY;
			pt->st.lazy_seeded++;
		}
	}
	if (start_ns)
		p->start_ns = start_ns;
	p->uid = p->euid = uid;
	exe = exe ? exe : "";
	p->trunc &= (uint8_t)~PROC_TRUNC_EXE;
	set_text(pt, &p->exe, exe, strlen(exe), PROC_EXE_LEN, &p->trunc, PROC_TRUNC_EXE);
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	snprintf(p->comm, sizeof(p->comm), "%s", base);   /* what the kernel sets: basename, 15 chars */

	p->argc = 0;
	for (size_t k = 0; k < args_len; k++)
		p->argc += args[k] == '\0';
	if (args_len && args[args_len - 1] != '\0')
		p->argc++;
	keep = args_len < PROC_CMDLINE_LEN ? args_len : PROC_CMDLINE_LEN;
	p->trunc &= (uint8_t)~PROC_TRUNC_CMDLINE;
	if (keep && args[keep - 1] != '\0') {
		/* the kept args end in a NUL: a copy that has it */
		memcpy(pt->tmp, args, keep);
		cmd = pt->tmp;
		if (keep < PROC_CMDLINE_LEN) {
			pt->tmp[keep++] = '\0';
		} else {
			pt->tmp[keep - 1] = '\0';
			p->trunc |= PROC_TRUNC_CMDLINE;
		}
	} else if (args_len > keep) {
		p->trunc |= PROC_TRUNC_CMDLINE;
	}
	p->cmdline_len = (uint32_t)keep;
	if (!set_text(pt, &p->cmdline, cmd, keep, PROC_CMDLINE_LEN + 1, &p->trunc,
		      PROC_TRUNC_CMDLINE))
		p->cmdline_len = 0;

	if (cgroup_id && cgroup_id != p->cgroup_id) {
		/* rare (exec into a container): the name walk may re-read the cgroup tree */
		const char *path = cgroup_name(&pt->cg, cgroup_id);

		p->cgroup_id = cgroup_id;
		p->trunc &= (uint8_t)~PROC_TRUNC_CGROUP;
		set_text(pt, &p->cgroup, path, strlen(path), PROC_CGROUP_LEN, &p->trunc,
			 PROC_TRUNC_CGROUP);
		container_id_of_cgroup(path, p->container_id);
	}
}

void proc_on_exit(struct proctab *pt, uint32_t pid, uint64_t ts)
{
	int32_t i = e_find(pt, pid);

	if (i == NIL || pt->e[i].p.exited)
		return;
	e_unlink(pt, &pt->live, i);
	e_append(pt, &pt->dead, i);
	pt->e[i].p.exited = true;
	pt->e[i].p.exit_ts = ts;
	pt->nexited++;
}

void proc_reap(struct proctab *pt, uint64_t now)
{
	while (pt->dead.head != NIL && pt->e[pt->dead.head].p.exit_ts + PROC_GRACE_NS <= now) {
		e_release(pt, pt->dead.head);
		pt->st.reaped++;
	}
}

void fd_on_open(struct proctab *pt, uint32_t pid, int fd, const char *path)
{
	int32_t i;

	if (fd < 0 || !path || (i = e_get(pt, pid)) == NIL)
		return;
	f_set(pt, i, fd, path);
}

void fd_on_dup(struct proctab *pt, uint32_t pid, int oldfd, int newfd)
{
	const char *path;
	int32_t i;

	if (newfd < 0 || oldfd == newfd)
		return;
	path = fd_lookup(pt, pid, oldfd);
	if (!path || (i = e_find(pt, pid)) == NIL)
		return;
	f_set(pt, i, newfd, path);   /* one more reference to oldfd's text */
}

void fd_on_close(struct proctab *pt, uint32_t pid, int fd)
{
	int32_t i = f_find(pt, pid, fd);

	if (i != NIL)
		f_free(pt, i);
}

const struct proc *proc_lookup(struct proctab *pt, uint32_t pid)
{
	int32_t i = e_get(pt, pid);

	return i != NIL ? &pt->e[i].p : NULL;
}

const struct proc *proc_ancestor(struct proctab *pt, uint32_t pid, int n)
{
	const struct proc *p = proc_lookup(pt, pid);

	for (int k = 0; p && k < n; k++) {
		uint64_t child_start = p->start_ns;
		uint32_t ppid = p->ppid;

		if (!ppid || ppid == p->pid)
			return NULL;
		p = proc_lookup(pt, ppid);
		/* a parent cannot start after its child: that pid now names someone else */
		if (p && p->start_ns && child_start && p->start_ns > child_start &&
		    !proc_same_start(p->start_ns, child_start))
			return NULL;
	}
	return p;
}

const char *fd_lookup(struct proctab *pt, uint32_t pid, int fd)
{
	char path[64], link[PROC_FD_PATH_LEN + 1];
	int32_t i, r;
	ssize_t n;

	if (fd < 0)
		return NULL;
	if ((r = f_find(pt, pid, fd)) != NIL)
		return pt->f[r].path;
	if ((i = e_get(pt, pid)) == NIL || pt->e[i].p.exited)
		return NULL;   /* an exited process's /proc entry may be someone else's by now */
	snprintf(path, sizeof(path), "/proc/%u/fd/%d", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return NULL;
	link[n] = '\0';
	pt->st.fds_lazy++;
	return f_set(pt, i, fd, link);
}

const char *proc_cwd(struct proctab *pt, uint32_t pid)
{
	const struct proc *p = proc_lookup(pt, pid);

	return p ? p->cwd : "";
}

size_t proctab_size(const struct proctab *pt)
{
	return pt->n;
}

void proctab_stats(const struct proctab *pt, struct proctab_stats *st)
{
	*st = pt->st;
	st->entries = pt->n;
	st->exited = pt->nexited;
	st->max = pt->max;
	st->fds = pt->nf;
	st->fds_max = pt->fmax;
	st->texts = pt->txt.n;
	st->text_bytes = pt->txt.bytes;
	st->text_max = pt->txt.cap;
	st->text_full = pt->txt.full;
}

void proctab_foreach(struct proctab *pt, int (*cb)(const struct proc *p, void *arg), void *arg)
{
	for (int32_t i = pt->live.head; i != NIL; i = pt->e[i].next)
		if (cb(&pt->e[i].p, arg))
			return;
	for (int32_t i = pt->dead.head; i != NIL; i = pt->e[i].next)
		if (cb(&pt->e[i].p, arg))
			return;
}
