// SPDX-License-Identifier: BSD-2-Clause
/* Counters of every program in one read() of a bpf_prog iterator (progiter.bpf.c) instead of
 * bpf_prog_get_next_id + bpf_prog_get_fd_by_id + BPF_OBJ_GET_INFO_BY_FD + close per program:
 * what keeps `ebee top` cheap with hundreds of programs. Static fields (name, tag, maps, sizes)
 * come from the previous sample, or from BPF_OBJ_GET_INFO_BY_FD for a program not seen yet. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/ebee.h"
#include "core/load.h"
#include "prog/progiter.h"
#include "prog/progstat.h"
#include "prog/progiter.skel.h"

struct ps_iter {
	struct progiter_bpf *skel;
	struct bpf_link *link;         /* bpf_prog iterator */
	struct bpf_link *owner_link;   /* task_file iterator, NULL if it did not attach */
	char *buf;
	size_t cap;
};

void ps_iter_close(struct ps_iter *it)
{
	if (!it)
		return;
	bpf_link__destroy(it->owner_link);
	bpf_link__destroy(it->link);
	progiter_bpf__destroy(it->skel);
	free(it->buf);
	free(it);
}

int ps_iter_open(struct ps_iter **out)
{
	struct ps_iter *it = calloc(1, sizeof(*it));
	bool q;
	int err = 0;

	*out = NULL;
	if (!it)
		return -ENOMEM;
	q = ebee_log_libbpf_quiet(true);   /* a failure here means: use the syscall path */
	/* Both iterators, else the bpf_prog one alone (owners then come from the /proc scan). */
	for (int with_owners = 1; with_owners >= 0; with_owners--) {
		progiter_bpf__destroy(it->skel);
		it->skel = progiter_bpf__open();
		if (!it->skel) {
			err = -errno;
			goto out;
		}
		it->skel->rodata->nr_cpus = ebee_ncpus();
		bpf_program__set_autoload(it->skel->progs.ebee_prog_owner, with_owners);
		if (!(err = progiter_bpf__load(it->skel)))
			break;
	}
	if (err)
		goto out;
	it->link = bpf_program__attach_iter(it->skel->progs.ebee_prog_iter, NULL);
	if (!it->link) {
		err = -errno;
		goto out;
	}
	if (bpf_program__fd(it->skel->progs.ebee_prog_owner) >= 0)
		it->owner_link = bpf_program__attach_iter(it->skel->progs.ebee_prog_owner, NULL);
out:
	ebee_log_libbpf_quiet(q);
	if (err) {
		ps_iter_close(it);
		return err;
	}
	*out = it;
	return 0;
}

static int cmp_prog(const void *a, const void *b)
{
	const struct ps_prog *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Reads one pass of an iterator into it->buf; returns the length or -errno. */
static ssize_t read_iter(struct ps_iter *it, struct bpf_link *link)
{
	size_t len = 0;
	int fd = bpf_iter_create(bpf_link__fd(link));

	if (fd < 0)
		return -errno;
	for (;;) {
		if (it->cap - len < 4096) {
			size_t cap = it->cap ? it->cap * 2 : 65536;
			char *b = realloc(it->buf, cap);
			if (!b) {
				close(fd);
				return -ENOMEM;
			}
			it->buf = b;
			it->cap = cap;
		}
		ssize_t r = read(fd, it->buf + len, it->cap - len);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			int err = -errno;
			close(fd);
			return err;
		}
		if (r == 0)
			break;
		len += r;
	}
	close(fd);
	return (ssize_t)len;
}

bool ps_iter_has_owners(const struct ps_iter *it)
{
	return it && it->owner_link;
}

int ps_iter_owners(struct ps_iter *it, struct ps_set *s)
{
	ssize_t len;

	if (!it->owner_link)
		return -EOPNOTSUPP;
	if ((len = read_iter(it, it->owner_link)) < 0)
		return (int)len;
	for (int i = 0; i < s->n; i++) {
		s->v[i].owner_pid = 0;
		s->v[i].owner_comm[0] = s->v[i].owners[0] = '\0';
	}
	for (size_t i = 0; i < (size_t)len / sizeof(struct progiter_owner); i++) {
		struct progiter_owner o;
		struct ps_prog *p;

		memcpy(&o, it->buf + i * sizeof(o), sizeof(o));
		o.comm[sizeof(o.comm) - 1] = '\0';
		if (o.is_link == PROGITER_PERF)
			ps_perf_attach(s, (int)o.pid, (int)o.fd);
		else if ((p = ps_find(s, o.prog_id)))
			ps_add_owner(p, (int)o.pid, o.comm);
	}
	return 0;
}

int ps_iter_collect(struct ps_iter *it, struct ps_set *s, const struct ps_set *prev)
{
	ssize_t len = read_iter(it, it->link);
	size_t n;
	bool sorted = true;

	if (len < 0)
		return (int)len;
	n = (size_t)len / sizeof(struct progiter_rec);
	if ((size_t)s->cap < n) {
		struct ps_prog *v = realloc(s->v, sizeof(*v) * n);
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = (int)n;
	}
	s->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct progiter_rec r;
		struct ps_prog *p = &s->v[s->n];
		const struct ps_prog *o;

		memcpy(&r, it->buf + i * sizeof(r), sizeof(r));
		o = prev ? ps_find(prev, r.id) : NULL;
		if (o && o->load_time == r.load_time)
			*p = *o;
		else if (ps_read_id(r.id, p, 0))
			continue;   /* unloaded since the iterator saw it */
		p->run_cnt = r.run_cnt;
		p->run_time_ns = r.run_time_ns;
		p->recursion_misses = r.misses;
		if (s->n && s->v[s->n - 1].id > p->id)
			sorted = false;
		s->n++;
	}
	if (!sorted)
		qsort(s->v, s->n, sizeof(*s->v), cmp_prog);
	s->taken_ns = ebee_now_ns();
	return s->n;
}
