// SPDX-License-Identifier: BSD-2-Clause
/* The prefilter's maps (events.bpf.c: ev_kf, ev_kf_comm, ev_kf_path) filled from clauses, and
 * the kernel's counters read for consumers (events/kfilter.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/ebee.h"
#include "core/load.h"
#include "events/events.h"
#include "events/evtypes.h"
#include "events/kfilter.h"

static int map_fd(struct collector *c, const char *name)
{
	struct bpf_object *obj = ev_bpf_object(c);
	struct bpf_map *m = obj ? bpf_object__find_map_by_name(obj, name) : NULL;

	return m ? bpf_map__fd(m) : -1;
}

struct kpath {
	struct ev_kf_path_key key;
	size_t len;
	uint32_t bits;
};

/* The gate before sc's trie lookup (events.bpf.c kf_gate): the first components of its
 * prefixes, each with its '/' as kfscan.h's kf_first reads it (at most 8 bytes: "etc/"). Only
 * when every prefix has one complete (a prefix "/etc" also matches "/etcx", "/" everything)
 * and there are at most EV_KF_GATE of them; else ngate stays 0 and every path takes the trie.
 * Returns 0, or why not for -v: 1 + the index of a prefix without one, -1 too many. */
static int set_gate(struct ev_kf_sc *k, const struct kpath *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = p[i].key.path;
		const char *e = p[i].len > 1 ? memchr(s + 1, '/', p[i].len - 1) : NULL;
		size_t l = e ? (size_t)(e - s) : 0;   /* the component and its '/' */
		uint64_t w = 0, mask;
		uint32_t j;

		if (s[0] != '/' || l < 2 || l > 8) {
			k->ngate = 0;
			return 1 + (int)i;
		}
		memcpy(&w, s + 1, l);   /* little-endian, as the kernel's load (kfscan.h) */
		mask = l == 8 ? ~0ULL : (1ULL << (8 * l)) - 1;
		for (j = 0; j < k->ngate && (k->gword[j] != w || k->gmask[j] != mask); j++)
			;
		if (j < k->ngate)
			continue;
		if (k->ngate == EV_KF_GATE) {
			k->ngate = 0;
			return -1;
		}
		k->gword[k->ngate] = w;
		k->gmask[k->ngate++] = mask;
	}
	return 0;
}

static int add_comm(int fd, int sc, const char *name, uint32_t bit)
{
	struct ev_kf_comm_key k = { .sc = (uint32_t)sc };
	uint32_t v = 0;

	/* the kernel keeps 15 bytes: a longer name is compared by those (a superset) */
	strncpy(k.comm, name, sizeof(k.comm) - 1);
	bpf_map_lookup_elem(fd, &k, &v);
	v |= bit;
	return bpf_map_update_elem(fd, &k, &v, BPF_ANY) ? -errno : 0;
}

int ev_kfilter_set(struct collector *c, const struct ev_kclause *cl, int n)
{
	int kf = map_fd(c, "ev_kf"), kc = map_fd(c, "ev_kf_comm"), kp = map_fd(c, "ev_kf_path");
	struct kpath *paths = NULL;
	size_t npaths = 0, cap = 0;
	int err = 0;

	if (kf < 0 || kc < 0 || kp < 0) {
		ebee_err("internal: the events collector has no prefilter maps (not opened?)");
		return -EINVAL;
	}
	for (int sc = 1; sc < SC__MAX && !err; sc++) {
		struct ev_kf_sc k = { 0 };
		size_t first = npaths;
		int nb = 0, nogate;
		bool all = false;

		for (int i = 0; i < n; i++)
			if (cl[i].sc == sc) {
				nb++;
				all |= cl[i].ncomm < 0 && cl[i].npath < 0 && !cl[i].need_write &&
				       !cl[i].need_dotdot;
			}
		if (!nb || all || nb > EV_KF_CLAUSES)
			continue;   /* every record of sc crosses */
		nb = 0;
		for (int i = 0; i < n && !err; i++) {
			const struct ev_kclause *x = &cl[i];
			uint32_t bit;

			if (x->sc != sc)
				continue;
			bit = 1u << nb++;
			k.clauses |= bit;
			if (x->ncomm < 0)
				k.nocomm |= bit;
			if (x->npath < 0)
				k.nopath |= bit;
			if (x->need_write)
				k.needwrite |= bit;
			if (x->need_dotdot)
				k.needdotdot |= bit;
			for (int j = 0; j < x->ncomm && !err; j++)
				err = add_comm(kc, sc, x->comm[j], bit);
			for (int j = 0; j < x->npath; j++) {
				struct kpath *p;

				if (npaths == cap) {
					cap = cap ? 2 * cap : 64;
					p = realloc(paths, cap * sizeof(*paths));
					if (!p) {
						err = -ENOMEM;
						break;
					}
					paths = p;
				}
				p = &paths[npaths++];
				memset(p, 0, sizeof(*p));
				p->len = strnlen(x->path[j], EV_KF_PATH);
				p->key.prefixlen = 8 + 8 * p->len;
				p->key.sc = sc;
				memcpy(p->key.path, x->path[j], p->len);
				p->bits = bit;
			}
		}
		if (err)
			break;
		nogate = set_gate(&k, paths + first, npaths - first);
		if (npaths > first && nogate > 0) {
			const struct kpath *p = &paths[first + nogate - 1];

			ebee_info("prefilter: %s: no first-component gate, every path takes the prefix "
				  "lookup: '%.*s' has no complete first component of <= 7 bytes",
				  ev_syscalls[sc].name, (int)p->len, p->key.path);
		} else if (nogate < 0) {
			ebee_info("prefilter: %s: no first-component gate, every path takes the prefix "
				  "lookup: more than %d first components", ev_syscalls[sc].name, EV_KF_GATE);
		} else if (npaths > first)
			ebee_info("prefilter: %s: prefixes gated on %u first component(s)",
				  ev_syscalls[sc].name, k.ngate);
		if (bpf_map_update_elem(kf, &(uint32_t){ sc }, &k, BPF_ANY))
			err = -errno;
	}
	/* A lookup finds the longest prefix only: each entry also holds the clauses of the
	 * shorter prefixes of the same syscall that its path starts with. */
	for (size_t i = 0; i < npaths && !err; i++) {
		uint32_t v = 0;

		for (size_t j = 0; j < npaths; j++)
			if (paths[j].key.sc == paths[i].key.sc && paths[j].len <= paths[i].len &&
			    !memcmp(paths[j].key.path, paths[i].key.path, paths[j].len))
				v |= paths[j].bits;
		if (bpf_map_update_elem(kp, &paths[i].key, &v, BPF_ANY))
			err = -errno;
	}
	free(paths);
	if (err)
		ebee_err("cannot load the kernel prefilter: %s", strerror(-err));
	return err;
}

bool ev_kfilter_on(struct collector *c, int sc)
{
	struct ev_kf_sc k = { 0 };
	int fd = map_fd(c, "ev_kf");

	return fd >= 0 && !bpf_map_lookup_elem(fd, &(uint32_t){ (uint32_t)sc }, &k) && k.clauses;
}

void ev_kcounters(struct collector *c, struct ev_kcounters *k)
{
	int sk = map_fd(c, "ev_kf_skipped"), dr = map_fd(c, "events_drops"), bt = map_fd(c, "ev_drops");

	memset(k, 0, sizeof(*k));
	for (int sc = 0; sc < SC__MAX && sk >= 0; sc++)
		k->skipped += ebee_percpu_sum(sk, sc);
	if (dr >= 0)
		k->lost = ebee_percpu_sum(dr, 0);
	for (int t = 0; t < EV__MAX && bt >= 0 && k->lost; t++)
		k->lost_by_type[t] = ebee_percpu_sum(bt, t);
}
