// SPDX-License-Identifier: BSD-2-Clause
/* The policy collector: resolves workloads on this host (a netns's addresses and host-side
 * veths, a cgroup's directory), loads the compiled tables into the kernel, attaches (TCX or
 * clsact on veths, cgroup_skb on cgroups: fd-based links only) and decodes verdict events. */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/ebee.h"
#include "core/load.h"
#include "core/loop.h"
#include "policy/enforce.h"
#include "policy/policy.skel.h"

/* Host-side peers of the veths in the current netns (called inside the workload's netns):
 * links with IFLA_LINK_NETNSID have their peer's ifindex in IFLA_LINK. */
static int veth_peers(int *idx, int max)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = { .nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			  .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 } };
	char buf[16384];
	int fd, n = 0;
	bool done = false;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0) {
		close(fd);
		return -errno;
	}
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);

		if (len <= 0)
			break;
		for (struct nlmsghdr *nh = (void *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			struct ifinfomsg *ifi = NLMSG_DATA(nh);
			int alen = IFLA_PAYLOAD(nh), link = 0;
			bool other_ns = false;

			if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
				if (a->rta_type == IFLA_LINK)
					link = *(int *)RTA_DATA(a);
				else if (a->rta_type == IFLA_LINK_NETNSID)
					other_ns = true;
			}
			if (other_ns && link > 0 && n < max)
				idx[n++] = link;
		}
	}
	close(fd);
	return n;
}

static void addrs_here(struct pol_workload *w)
{
	struct ifaddrs *ifa = NULL;

	if (getifaddrs(&ifa))
		return;
	for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
		struct pol_addr a = { 0 };

		if (!p->ifa_addr || (p->ifa_flags & IFF_LOOPBACK) || w->naddrs == POL_WL_ADDRS_MAX)
			continue;
		if (p->ifa_addr->sa_family == AF_INET) {
			a.family = 4;
			memcpy(a.addr, &((struct sockaddr_in *)p->ifa_addr)->sin_addr, 4);
		} else if (p->ifa_addr->sa_family == AF_INET6) {
			a.family = 6;
			memcpy(a.addr, &((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr, 16);
			if (a.addr[0] == 0xfe && (a.addr[1] & 0xc0) == 0x80)
				continue;   /* link-local: not what peers connect to */
		} else {
			continue;
		}
		w->addrs[w->naddrs++] = a;
	}
	freeifaddrs(ifa);
}

/* Addresses (unless given) and host-side veths of a netns workload. */
static int resolve_netns(struct pol_workload *w, struct pol_wlrt *rt)
{
	char path[128], name[IF_NAMESIZE];
	int self, ns, err = 0, idx[POL_IFACES_MAX], n;

	snprintf(path, sizeof(path), "/run/netns/%s", w->netns);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		ebee_err("network namespace '%s' of workload '%s/%s' not found: %s (see 'ip netns')",
			 w->netns, w->ns, w->name, strerror(errno));
		return -EINVAL;
	}
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(ns, CLONE_NEWNET)) {
		err = -errno;
		ebee_err("cannot enter network namespace '%s': %s", w->netns, strerror(errno));
		goto out;
	}
	if (!w->naddrs)
		addrs_here(w);
	n = veth_peers(idx, POL_IFACES_MAX);
	if (setns(self, CLONE_NEWNET)) {
		/* Staying in the workload's netns would attach to the wrong interfaces. */
		err = -errno;
		ebee_err("cannot return to ebee's network namespace: %s", strerror(errno));
		goto out;
	}
	if (n < 0) {
		err = n;
		ebee_err("cannot list the interfaces of netns '%s': %s", w->netns, strerror(-n));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (!if_indextoname(idx[i], name))
			continue;   /* the peer is in yet another namespace */
		for (int d = 0; d < 2; d++) {
			struct nw_iface *it = &rt->ifs[rt->nifs * 2 + d];

			memset(it, 0, sizeof(*it));
			snprintf(it->name, sizeof(it->name), "%s", name);
			it->ifindex = idx[i];
			it->link_fd = -1;
			it->egress = d;
		}
		rt->nifs++;
	}
	if (!rt->nifs) {
		ebee_err("workload '%s/%s': no veth of netns '%s' has its peer in ebee's network namespace",
			 w->ns, w->name, w->netns);
		err = -EINVAL;
	} else if (!w->naddrs) {
		ebee_err("workload '%s/%s': netns '%s' has no address", w->ns, w->name, w->netns);
		err = -EINVAL;
	}
out:
	if (self >= 0)
		close(self);
	close(ns);
	return err;
}

static int resolve_cgroup(struct pol_workload *w, struct pol_wlrt *rt)
{
	struct stat st;
	char path[300];
	const char *root = ebee_cgroup2_path();

	/* A relative path is under the cgroup2 mount. */
	if (w->cgroup[0] == '/' || !root)
		snprintf(path, sizeof(path), "%s", w->cgroup);
	else
		snprintf(path, sizeof(path), "%s/%s", root, w->cgroup);
	snprintf(rt->cgpath, sizeof(rt->cgpath), "%s", path);
	rt->cgfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rt->cgfd < 0 || fstat(rt->cgfd, &st)) {
		ebee_err("cgroup '%s' of workload '%s/%s' not found: %s", path, w->ns, w->name,
			 strerror(errno));
		return -EINVAL;
	}
	rt->cgid = st.st_ino;
	return 0;
}

int pol_resolve(struct pol_set *s, struct pol_wlrt *rt)
{
	/* all first: a failure midway leaves nothing that looks like an fd to close */
	for (int i = 0; i < s->nwl; i++)
		rt[i].cgfd = -1;
	for (int i = 0; i < s->nwl; i++) {
		int err;

		err = s->wl[i].netns[0] ? resolve_netns(&s->wl[i], &rt[i]) :
					   resolve_cgroup(&s->wl[i], &rt[i]);
		if (err)
			return err;
	}
	return 0;
}

int pol_fill_maps(struct policy_bpf *skel, const struct pol_set *s, const struct pol_compiled *c,
		  const struct pol_wlrt *rt)
{
	int err = 0;

	for (int w = 0; w < s->nwl && !err; w++) {
		__u32 v = w;

		for (int a = 0; a < s->wl[w].naddrs && !err; a++) {
			struct pol_addr_key k = { .family = s->wl[w].addrs[a].family };

			memcpy(k.addr, s->wl[w].addrs[a].addr, 16);
			err = bpf_map__update_elem(skel->maps.pol_addrs, &k, sizeof(k), &v, sizeof(v), BPF_ANY);
		}
		if (!err && rt && rt[w].cgfd >= 0)
			err = bpf_map__update_elem(skel->maps.pol_cgroups, &rt[w].cgid, 8, &v, sizeof(v), BPF_ANY);
		for (int d = 0; d < 2 && !err; d++) {
			__u32 wd = POL_WD(w, d);

			err = bpf_map__update_elem(skel->maps.pol_tables, &wd, 4, &c->tab[wd],
						   sizeof(c->tab[wd]), BPF_ANY);
		}
	}
	for (int i = 0; i < c->npeer && !err; i++)
		err = bpf_map__update_elem(skel->maps.pol_peers, &c->peer[i].key, 4, &c->peer[i].mask, 8, BPF_ANY);
	for (int i = 0; i < c->nlpm && !err; i++) {
		const struct pol_lpm_ent *e = &c->lpm[i];

		if (e->family == 4) {
			struct pol_lpm4 k = { .prefixlen = 32 + e->prefix, .wd = e->wd };

			memcpy(k.addr, e->addr, 4);
			err = bpf_map__update_elem(skel->maps.pol_lpm4, &k, sizeof(k), &e->mask, 8, BPF_ANY);
		} else {
			struct pol_lpm6 k = { .prefixlen = 32 + e->prefix, .wd = e->wd };

			memcpy(k.addr, e->addr, 16);
			err = bpf_map__update_elem(skel->maps.pol_lpm6, &k, sizeof(k), &e->mask, 8, BPF_ANY);
		}
	}
	if (err)
		ebee_err("cannot fill the policy maps: %s", strerror(-err));
	return err;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct pol_run *r = ctx;

	if (len < sizeof(struct pol_event))
		return 0;
	r->events++;
	if (r->on_event)
		r->on_event(r->arg, data);
	return 0;
}

void pol_ct_sweep(struct pol_run *r)
{
	enum { CHUNK = 1024 };
	static struct pol_ct_key keys[CHUNK];
	static struct pol_ct vals[CHUNK];
	int fd = bpf_map__fd(r->skel->maps.pol_ct);
	__u32 batch = 0, count;
	uint64_t now = ebee_now_ns(), n = 0;
	bool first = true, done = false;
	LIBBPF_OPTS(bpf_map_batch_opts, o);

	/* The same rule as the kernel's (pol_ct_expired), on CLOCK_MONOTONIC as bpf_ktime. An
	 * entry refreshed between the read and the delete is read again first. */
	while (!done) {
		int err;

		count = CHUNK;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &count, &o);
		if (err && errno != ENOENT)
			return;   /* keep the last count */
		done = err != 0;
		first = false;
		for (__u32 i = 0; i < count; i++) {
			struct pol_ct v;

			if (!pol_ct_expired(&vals[i], keys[i].proto, now, &r->to)) {
				n++;
				continue;
			}
			if (bpf_map_lookup_elem(fd, &keys[i], &v))
				continue;   /* gone meanwhile */
			if (!pol_ct_expired(&v, keys[i].proto, ebee_now_ns(), &r->to)) {
				n++;
				continue;
			}
			if (!bpf_map_delete_elem(fd, &keys[i]))
				r->ct_expired++;
		}
	}
	r->ct_entries = n;
}

void pol_read_stats(const struct pol_run *r, struct pol_stat *st)
{
	int ncpu = libbpf_num_possible_cpus();
	struct pol_stat v[ncpu > 0 ? ncpu : 1];

	memset(st, 0, sizeof(*st) * POL_NSTATS);
	for (__u32 k = 0; r->skel && ncpu > 0 && k < POL_NSTATS; k++) {
		if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.pol_stats), &k, v))
			continue;
		for (int c = 0; c < ncpu; c++) {
			st[k].pkts += v[c].pkts;
			st[k].bytes += v[c].bytes;
		}
	}
}

static int on_tick(struct ebee_loop *l, void *arg)
{
	struct pol_run *r = arg;
	struct stat st;

	/* A vanished workload is a warning: the others keep being enforced. */
	for (int w = 0; w < r->s->nwl; w++) {
		struct pol_wlrt *rt = &r->rt[w];
		bool gone = false;

		if (rt->gone)
			continue;
		if (rt->cgfd >= 0)
			gone = stat(rt->cgpath, &st) || (uint64_t)st.st_ino != rt->cgid;
		for (int i = 0; i < rt->nifs * 2; i++)
			gone |= rt->ifs[i].attached && !nw_iface_present(&rt->ifs[i]);
		if (gone) {
			rt->gone = true;
			ebee_warn("workload '%s/%s' disappeared (%s); the others stay enforced",
				  r->s->wl[w].ns, r->s->wl[w].name,
				  rt->cgfd >= 0 ? rt->cgpath : r->s->wl[w].netns);
		}
	}
	pol_ct_sweep(r);
	if (r->on_tick)
		r->on_tick(r->arg);
	return 0;
}

int pol_start(struct pol_run *r, struct ebee_loop *l)
{
	struct policy_bpf *skel;
	int err;

	r->skel = skel = policy_bpf__open();
	if (!skel) {
		err = -errno;
		ebee_err("cannot open the policy BPF object: %s", strerror(errno));
		return err;
	}
	skel->rodata->audit = r->audit;
	skel->rodata->interval_ns = (__u64)(r->interval * 1e9);
	skel->rodata->timeouts = r->to;
	if (getenv("EBEE_POLICY_RING_BYTES"))   /* tests shrink it to see drops counted */
		bpf_map__set_max_entries(skel->maps.pol_events,
					 strtoul(getenv("EBEE_POLICY_RING_BYTES"), NULL, 0));
	if (r->c->nlpm > 65536) {
		bpf_map__set_max_entries(skel->maps.pol_lpm4, r->c->nlpm);
		bpf_map__set_max_entries(skel->maps.pol_lpm6, r->c->nlpm);
	}
	err = policy_bpf__load(skel);
	if (err)
		return ebee_load_err("policy", err);
	err = pol_fill_maps(skel, r->s, r->c, r->rt);
	if (err)
		return err;
	for (int w = 0; w < r->s->nwl; w++) {
		struct pol_wlrt *rt = &r->rt[w];

		for (int i = 0; i < rt->nifs * 2; i++) {
			/* host veth ingress = what the workload sends = its egress */
			struct bpf_program *p = rt->ifs[i].egress ? skel->progs.ebee_pol_to :
								    skel->progs.ebee_pol_from;

			err = nw_iface_attach(&rt->ifs[i], bpf_program__fd(p), NW_ATTACH_AUTO);
			if (err)
				return err;
		}
		if (rt->cgfd >= 0) {
			rt->cglink[0] = bpf_program__attach_cgroup(skel->progs.ebee_pol_cg_in, rt->cgfd);
			rt->cglink[1] = rt->cglink[0] ?
				bpf_program__attach_cgroup(skel->progs.ebee_pol_cg_eg, rt->cgfd) : NULL;
			if (!rt->cglink[0] || !rt->cglink[1]) {
				err = -errno;
				ebee_err("cannot attach cgroup_skb programs to '%s': %s", rt->cgpath,
					 strerror(errno));
				return err;
			}
		}
	}
	r->rb = ring_buffer__new(bpf_map__fd(skel->maps.pol_events), on_event, r, NULL);
	if (!r->rb) {
		err = -errno;
		ebee_err("cannot open the policy ring buffer: %s", strerror(errno));
		return err;
	}
	err = loop_add_ringbuf(l, r->rb, 0);
	if (!err) {
		/* a timer of its own: the daemon's tick is the daemon's */
		r->timer = loop_add_timer(l, 1.0, on_tick, r);
		err = r->timer < 0 ? r->timer : 0;
		r->loop = err ? NULL : l;
	}
	if (err)
		ebee_err("cannot set up the event loop: %s", strerror(-err));
	return err;
}

uint64_t pol_lost(const struct pol_run *r)
{
	return r->skel ? ebee_percpu_sum(bpf_map__fd(r->skel->maps.pol_events_drops), 0) : 0;
}

void pol_stop(struct pol_run *r)
{
	for (int w = 0; r->rt && w < r->s->nwl; w++) {
		struct pol_wlrt *rt = &r->rt[w];

		for (int i = 0; i < rt->nifs * 2; i++)
			nw_iface_detach(&rt->ifs[i]);
		for (int d = 0; d < 2; d++) {
			bpf_link__destroy(rt->cglink[d]);
			rt->cglink[d] = NULL;
		}
	}
}

void pol_close(struct pol_run *r)
{
	pol_stop(r);
	if (r->loop) {
		loop_del_timer(r->loop, r->timer);
		if (r->rb)
			loop_del_ringbuf(r->loop, r->rb);
		r->loop = NULL;
	}
	ring_buffer__free(r->rb);
	r->rb = NULL;
	policy_bpf__destroy(r->skel);
	r->skel = NULL;
	for (int w = 0; r->rt && w < r->s->nwl; w++)
		if (r->rt[w].cgfd >= 0)
			close(r->rt[w].cgfd);
}
