// SPDX-License-Identifier: BSD-2-Clause
/* `ebee cleanup`: removes what a killed ebee left in the kernel. TCX links and BPF programs
 * held only by fds vanish with the process whatever kills it; clsact filters do not. This
 * finds ebee's tc filters (priority EBEE_TC_PRIO, program named ebee_*) in the current network
 * namespace whose program no live process holds, removes them, and removes the clsact qdiscs
 * that an ebee created (recorded in EBEE_TC_STATE_DIR) once they have no filter left. Filters
 * of other tools, and qdiscs that were there before ebee, are never touched. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/cmd.h"
#include "core/out.h"
#include "netwatch/tc.h"

struct cleanup_cfg {
	bool dry_run;
};

static const struct opt cleanup_opts[] = {
	{ "dry-run", 'n', OPT_FLAG, offsetof(struct cleanup_cfg, dry_run), NULL,
	  "only list what would be removed" },
	OPT_END,
};

enum { C_ACTION, C_WHAT, C_IFACE, C_DETAIL };
static const struct out_col cleanup_cols[] = {
	[C_ACTION] = { "action", "ACTION", OUT_STR, -10 },
	[C_WHAT]   = { "object", "OBJECT", OUT_STR, -10 },
	[C_IFACE]  = { "interface", "INTERFACE", OUT_STR, -16 },
	[C_DETAIL] = { "detail", "DETAIL", OUT_STR, -40 },
};

struct cl {
	struct cleanup_cfg *cfg;
	struct out o;
	const char *ifname;
	int ifindex;
	bool ingress;
	int found, failed;
};

static bool prog_name(uint32_t id, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool ok;

	if (fd < 0)
		return false;
	ok = !bpf_obj_get_info_by_fd(fd, &info, &ilen);
	close(fd);
	if (ok)
		snprintf(name, len, "%s", info.name);
	return ok;
}

static int filter_cb(const struct nw_tc_filter *f, void *arg)
{
	struct cl *c = arg;
	char name[32] = "", detail[OUT_CELL];
	int holder, err = 0;

	if (f->prio != EBEE_TC_PRIO || strcmp(f->kind, "bpf") || !f->prog_id ||
	    !prog_name(f->prog_id, name, sizeof(name)) || strncmp(name, "ebee_", 5))
		return 0;
	holder = nw_prog_holder(f->prog_id);
	snprintf(detail, sizeof(detail), "%s prio %u handle 0x%x prog %u %s", c->ingress ? "ingress" : "egress",
		 f->prio, f->handle, f->prog_id, name);
	if (holder) {
		ebee_info("tc filter on '%s' (%s) belongs to running ebee pid %d: left alone",
			  c->ifname, detail, holder);
		return 0;
	}
	c->found++;
	if (!c->cfg->dry_run) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = c->ifindex,
			    .attach_point = c->ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = f->handle, .priority = f->prio);

		err = bpf_tc_detach(&hook, &opts);
		if (err) {
			ebee_err("cannot remove tc filter from '%s' (%s): %s", c->ifname, detail, strerror(-err));
			c->failed++;
			return 0;
		}
	}
	out_str(&c->o, C_ACTION, c->cfg->dry_run ? "would" : "removed");
	out_str(&c->o, C_WHAT, "tc filter");
	out_str(&c->o, C_IFACE, c->ifname);
	out_str(&c->o, C_DETAIL, detail);
	out_row(&c->o);
	return 0;
}

static void clean_qdiscs(struct cl *c)
{
	char prefix[32], path[300], ifname[IF_NAMESIZE + 2], cur[IF_NAMESIZE];
	struct dirent *e;
	DIR *d;

	snprintf(prefix, sizeof(prefix), "%llu-", (unsigned long long)nw_netns_ino());
	d = opendir(EBEE_TC_STATE_DIR);
	if (!d)
		return;
	while ((e = readdir(d))) {
		int ifindex, n;
		FILE *f;

		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		ifindex = atoi(e->d_name + strlen(prefix));
		snprintf(path, sizeof(path), "%s/%s", EBEE_TC_STATE_DIR, e->d_name);
		f = fopen(path, "re");
		ifname[0] = 0;
		if (f) {
			if (!fgets(ifname, sizeof(ifname), f))
				ifname[0] = 0;
			fclose(f);
		}
		ifname[strcspn(ifname, "\n")] = 0;
		/* Interface gone (or its index reused by another): the record is stale. */
		if (!if_indextoname(ifindex, cur) || strcmp(cur, ifname)) {
			if (!c->cfg->dry_run)
				unlink(path);
			continue;
		}
		if ((n = nw_tc_filter_count(ifindex)) > 0) {
			ebee_info("clsact of '%s' still has %d filters: kept", ifname, n);
			continue;
		}
		c->found++;
		if (!c->cfg->dry_run) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
				    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
			int err = bpf_tc_hook_destroy(&hook);

			if (err && err != -ENOENT && err != -EINVAL) {
				ebee_err("cannot remove clsact qdisc of '%s': %s", ifname, strerror(-err));
				c->failed++;
				continue;
			}
			unlink(path);
		}
		out_str(&c->o, C_ACTION, c->cfg->dry_run ? "would" : "removed");
		out_str(&c->o, C_WHAT, "qdisc");
		out_str(&c->o, C_IFACE, ifname);
		out_str(&c->o, C_DETAIL, "clsact created by ebee");
		out_row(&c->o);
	}
	closedir(d);
}

static int cleanup_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct cl c = { .cfg = cfgp };
	struct if_nameindex *ifs, *p;

	out_init(&c.o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, cleanup_cols, ARRAY_SIZE(cleanup_cols));
	out_header(&c.o);
	ifs = if_nameindex();
	if (!ifs) {
		int err = -errno;

		ebee_err("cannot list interfaces: %s", strerror(errno));
		return err;
	}
	for (p = ifs; p->if_index; p++) {
		c.ifname = p->if_name;
		c.ifindex = p->if_index;
		c.ingress = true;
		nw_tc_filters(p->if_index, true, filter_cb, &c);
		c.ingress = false;
		nw_tc_filters(p->if_index, false, filter_cb, &c);
	}
	if_freenameindex(ifs);
	clean_qdiscs(&c);
	if (!c.found)
		out_sep(&c.o, "nothing left behind by ebee");
	fflush(stdout);
	return c.failed ? -EIO : 0;
}

static const struct opt_doc cleanup_doc = {
	.synopsis = "[OPTIONS]",
	.description =
	"Removes what an ebee that was killed (SIGKILL, crash) left in the kernel of the\n"
	"current network namespace: tc filters of ebee whose program no running process holds,\n"
	"and clsact qdiscs ebee created once no filter is left on them. TCX links, programs\n"
	"and maps held by file descriptors go away with the process by themselves. Filters of\n"
	"other tools, filters of an ebee still running and qdiscs that were there before are\n"
	"never touched. Each removal is printed.",
	.examples =
	"  ebee cleanup\n"
	"  ebee cleanup --dry-run --json\n"
	"  ip netns exec blue ebee cleanup\n",
};

const struct ebee_cmd cleanup_cmd = {
	.name = "cleanup",
	.summary = "remove tc filters and qdiscs a killed ebee left behind",
	.req = REQ_BPF | REQ_NETADM,
	.run = cleanup_run,
	.opts = cleanup_opts,
	.cfg_size = sizeof(struct cleanup_cfg),
	.doc = &cleanup_doc,
	.min_pos = 0,
	.max_pos = 0,
};
