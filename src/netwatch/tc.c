// SPDX-License-Identifier: BSD-2-Clause
/* TCX links and clsact filters for netwatch; see tc.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <net/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/ebee.h"
#include "core/load.h"
#include "netwatch/tc.h"

/* libbpf 1.1 has no TCX helpers; bpf_link_create passes any attach type through. */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif

const char *nw_attach_name(enum nw_attach_mode m)
{
	return m == NW_ATTACH_TCX ? "tcx" : m == NW_ATTACH_TC ? "tc" : "auto";
}

static bool iface_l3(const char *name)
{
	char path[96], buf[16] = "";
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/type", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return atoi(buf) == ARPHRD_NONE || atoi(buf) == ARPHRD_IPGRE || atoi(buf) == ARPHRD_TUNNEL ||
	       atoi(buf) == ARPHRD_TUNNEL6 || atoi(buf) == ARPHRD_SIT;
}

static int iface_fill(struct nw_iface *it, const char *name)
{
	memset(it, 0, sizeof(*it));
	it->link_fd = -1;
	if (strlen(name) >= IF_NAMESIZE || !(it->ifindex = if_nametoindex(name))) {
		ebee_err("interface '%s' not found (see 'ip link')", name);
		return -ENODEV;
	}
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->l3 = iface_l3(name);
	return 0;
}

int nw_ifaces_resolve(struct nw_iface *ifs, int max, const char *const *names, int nnames)
{
	struct ifaddrs *ifa = NULL, *p;
	int n = 0, i, err;

	if (nnames) {
		for (i = 0; i < nnames; i++) {
			bool dup = false;

			if (n == max) {
				ebee_err("too many interfaces (at most %d)", max);
				return -EINVAL;
			}
			if ((err = iface_fill(&ifs[n], names[i])))
				return err;
			for (int j = 0; j < n; j++)
				dup |= ifs[j].ifindex == ifs[n].ifindex;
			if (!dup)
				n++;
		}
		return n;
	}
	/* Every interface that is up: AF_PACKET entries list each link once. */
	if (getifaddrs(&ifa)) {
		err = -errno;
		ebee_err("cannot list interfaces: %s", strerror(errno));
		return err;
	}
	for (p = ifa; p && n < max; p = p->ifa_next) {
		if (!p->ifa_addr || p->ifa_addr->sa_family != AF_PACKET || !(p->ifa_flags & IFF_UP))
			continue;
		if (iface_fill(&ifs[n], p->ifa_name) == 0)
			n++;
	}
	freeifaddrs(ifa);
	if (!n) {
		ebee_err("no interface is up (name one with -i)");
		return -ENODEV;
	}
	return n;
}

bool nw_iface_present(const struct nw_iface *it)
{
	char name[IF_NAMESIZE];

	return if_indextoname(it->ifindex, name) && !strcmp(name, it->name);
}

uint64_t nw_netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint64_t)st.st_ino;
}

static void state_path(char *buf, size_t len, int ifindex)
{
	snprintf(buf, len, EBEE_TC_STATE_DIR "/%llu-%d", (unsigned long long)nw_netns_ino(), ifindex);
}

/* Remembers that ebee created this clsact, so that whoever removes the last ebee filter (this
 * run, or `ebee cleanup` after a kill) may remove the qdisc, and nobody removes one that was
 * there before. */
static void state_mark(const struct nw_iface *it)
{
	char path[128];
	FILE *f;

	mkdir("/run/ebee", 0755);
	mkdir(EBEE_TC_STATE_DIR, 0755);
	state_path(path, sizeof(path), it->ifindex);
	f = fopen(path, "we");
	if (!f) {
		ebee_warn("cannot record clsact of '%s' in '%s': %s", it->name, path, strerror(errno));
		return;
	}
	fprintf(f, "%s\n", it->name);
	fclose(f);
}

/* A record for this index whose name matches: an interface deleted and another created
 * with the same index later is not taken for the one whose clsact ebee made. */
static bool state_has(const struct nw_iface *it)
{
	char path[128], name[IF_NAMESIZE + 2] = "";
	FILE *f;

	state_path(path, sizeof(path), it->ifindex);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(name, sizeof(name), f))
		name[0] = 0;
	fclose(f);
	name[strcspn(name, "\n")] = 0;
	return !strcmp(name, it->name);
}

static void state_clear(int ifindex)
{
	char path[128];

	state_path(path, sizeof(path), ifindex);
	unlink(path);
}

static int attach_tcx(struct nw_iface *it, int prog_fd)
{
	int fd = bpf_link_create(prog_fd, it->ifindex,
				  it->egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, NULL);

	if (fd < 0)
		return -errno;
	it->link_fd = fd;
	it->how = NW_ATTACH_TCX;
	return 0;
}

static int attach_tc(struct nw_iface *it, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = it->ifindex,
		    .attach_point = it->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .priority = EBEE_TC_PRIO);
	bool quiet;
	int err;

	quiet = ebee_log_libbpf_quiet(true);
	err = bpf_tc_hook_create(&hook);
	ebee_log_libbpf_quiet(quiet);
	if (err && err != -EEXIST)
		return err;
	it->created_qdisc = !err;
	if (it->created_qdisc)
		state_mark(it);
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		if (it->created_qdisc && nw_tc_filter_count(it->ifindex) == 0) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
			state_clear(it->ifindex);
		}
		return err;
	}
	it->tc_handle = opts.handle;
	it->how = NW_ATTACH_TC;
	return 0;
}

int nw_iface_attach(struct nw_iface *it, int prog_fd, enum nw_attach_mode mode)
{
	int err = -EOPNOTSUPP;
	bool quiet;

	/* Probe, then choose: without TCX (or with EBEE_DISABLE=tcx) auto means a clsact filter. */
	if (mode == NW_ATTACH_AUTO && !ebee_have(KIND_TCX)) {
		ebee_info("TCX not available (%s): using a clsact filter on '%s'",
			  ebee_probe_kind(KIND_TCX)->detail, it->name);
		mode = NW_ATTACH_TC;
	}
	if (mode != NW_ATTACH_TC) {
		quiet = ebee_log_libbpf_quiet(true);
		err = attach_tcx(it, prog_fd);
		ebee_log_libbpf_quiet(quiet);
		if (err && mode == NW_ATTACH_TCX) {
			ebee_err("cannot attach TCX %s program to '%s': %s",
				 it->egress ? "egress" : "ingress", it->name, strerror(-err));
			return err;
		}
		if (err)
			ebee_info("TCX not available on '%s' (%s): using a clsact filter", it->name,
				  strerror(-err));
	}
	if (err)
		err = attach_tc(it, prog_fd);
	if (err) {
		ebee_err("cannot attach tc %s filter to '%s': %s", it->egress ? "egress" : "ingress",
			 it->name, strerror(-err));
		return err;
	}
	it->attached = true;
	ebee_info("attached to '%s' with %s%s", it->name, nw_attach_name(it->how),
		  it->how == NW_ATTACH_TC && it->created_qdisc ? " (created clsact)" : "");
	return 0;
}

void nw_iface_detach(struct nw_iface *it)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = it->ifindex,
		    .attach_point = it->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = it->tc_handle, .priority = EBEE_TC_PRIO);
	bool present, quiet;
	int err;

	if (!it->attached)
		return;
	it->attached = false;
	if (it->how == NW_ATTACH_TCX) {
		close(it->link_fd);
		it->link_fd = -1;
		return;
	}
	present = nw_iface_present(it);
	if (!present) {
		state_clear(it->ifindex);
		return;
	}
	quiet = ebee_log_libbpf_quiet(true);
	err = bpf_tc_detach(&hook, &opts);
	ebee_log_libbpf_quiet(quiet);
	if (err && err != -ENOENT)
		ebee_warn("cannot remove tc filter from '%s': %s (try 'ebee cleanup')", it->name,
			  strerror(-err));
	/* Remove the clsact only if an ebee created it and no filter is left on it. */
	if ((it->created_qdisc || state_has(it)) && nw_tc_filter_count(it->ifindex) == 0) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		err = bpf_tc_hook_destroy(&hook);
		if (err && err != -ENOENT && err != -EINVAL)
			ebee_warn("cannot remove clsact qdisc of '%s': %s", it->name, strerror(-err));
		state_clear(it->ifindex);
	}
}

/* --- listing filters over rtnetlink (libbpf's bpf_tc_query needs a handle to ask for) --- */

static int nl_dump(int ifindex, uint32_t parent, nw_tc_filter_cb cb, void *arg)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		.nh.nlmsg_type = RTM_GETTFILTER,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.nh.nlmsg_seq = 1,
		.tc.tcm_family = AF_UNSPEC,
		.tc.tcm_ifindex = ifindex,
		.tc.tcm_parent = parent,
	};
	static __thread char buf[32768];
	int fd, err = 0, done = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	while (!done && !err) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (len < 0) {
			err = -errno;
			break;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len); nh = NLMSG_NEXT(nh, len)) {
			struct tcmsg *t = NLMSG_DATA(nh);
			struct nw_tc_filter f = {};
			struct rtattr *a;
			int alen;

			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				break;
			}
			if (nh->nlmsg_type != RTM_NEWTFILTER)
				continue;
			f.handle = t->tcm_handle;
			f.prio = TC_H_MAJ(t->tcm_info) >> 16;
			alen = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*t));
			for (a = (struct rtattr *)((char *)t + NLMSG_ALIGN(sizeof(*t))); RTA_OK(a, alen);
			     a = RTA_NEXT(a, alen)) {
				if (a->rta_type == TCA_KIND)
					snprintf(f.kind, sizeof(f.kind), "%s", (char *)RTA_DATA(a));
				if (a->rta_type == TCA_OPTIONS) {
					struct rtattr *o = RTA_DATA(a);
					int olen = RTA_PAYLOAD(a);

					for (; RTA_OK(o, olen); o = RTA_NEXT(o, olen))
						if (o->rta_type == TCA_BPF_ID)
							f.prog_id = *(uint32_t *)RTA_DATA(o);
				}
			}
			/* The dump also lists one entry per chain/prio without a handle. */
			if (!f.handle)
				continue;
			if (cb && (err = cb(&f, arg)))
				break;
		}
	}
out:
	close(fd);
	return err;
}

int nw_tc_filters(int ifindex, bool ingress, nw_tc_filter_cb cb, void *arg)
{
	return nl_dump(ifindex, TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS),
		       cb, arg);
}

static int count_cb(const struct nw_tc_filter *f, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

int nw_tc_filter_count(int ifindex)
{
	int n = 0;

	nw_tc_filters(ifindex, true, count_cb, &n);
	nw_tc_filters(ifindex, false, count_cb, &n);
	return n;
}

int nw_prog_holder(uint32_t prog_id)
{
	char path[300], line[128];
	struct dirent *p, *q;
	DIR *proc, *fds;
	int holder = 0;

	proc = opendir("/proc");
	if (!proc)
		return 0;
	while (!holder && (p = readdir(proc))) {
		int pid = atoi(p->d_name);

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!holder && (q = readdir(fds))) {
			FILE *f;

			if (q->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, q->d_name);
			f = fopen(path, "re");
			if (!f)
				continue;
			while (fgets(line, sizeof(line), f))
				if (!strncmp(line, "prog_id:", 8) && (uint32_t)atoi(line + 8) == prog_id) {
					holder = pid;
					break;
				}
			fclose(f);
		}
		closedir(fds);
	}
	closedir(proc);
	return holder;
}
