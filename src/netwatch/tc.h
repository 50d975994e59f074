/* SPDX-License-Identifier: BSD-2-Clause */
/* Attaching netwatch's TC program to interfaces: a TCX link (fd-based, gone with the process
 * whatever kills it) or a clsact direct-action filter (ebee's own filter at priority
 * EBEE_TC_PRIO, removed on exit; a clsact qdisc ebee created is removed with it when empty, one
 * that was there before is kept). `ebee cleanup` finds what a killed run left behind. */
#ifndef EBEE_NETWATCH_TC_H
#define EBEE_NETWATCH_TC_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#define EBEE_TC_PRIO 0xebe            /* tc filter priority of every ebee filter */
#define EBEE_TC_STATE_DIR "/run/ebee/clsact"

enum nw_attach_mode { NW_ATTACH_AUTO, NW_ATTACH_TCX, NW_ATTACH_TC };

struct nw_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	bool l3;                  /* no link-layer header (tun, wireguard, ...) */
	bool egress;              /* attach to the egress side (default ingress) */
	bool attached;
	bool gone;                /* disappeared while attached */
	enum nw_attach_mode how;  /* TCX or TC once attached */
	int link_fd;              /* TCX */
	uint32_t tc_handle;       /* TC */
	bool created_qdisc;
};

#define NW_MAX_IFACES 64

/* Fills ifs from names (NULL/0 = every interface that is up). Returns the count or -errno
 * having printed the error (unknown interface: -ENODEV). */
int nw_ifaces_resolve(struct nw_iface *ifs, int max, const char *const *names, int nnames);
/* mode AUTO tries TCX and falls back to TC. */
int nw_iface_attach(struct nw_iface *it, int prog_fd, enum nw_attach_mode mode);
void nw_iface_detach(struct nw_iface *it);
/* True while the interface still exists under its name and index. */
bool nw_iface_present(const struct nw_iface *it);
const char *nw_attach_name(enum nw_attach_mode m);

/* One tc filter as the kernel lists it. */
struct nw_tc_filter {
	uint32_t handle, prio, prog_id;
	char kind[16];
};
typedef int (*nw_tc_filter_cb)(const struct nw_tc_filter *f, void *arg);
/* Lists the filters of a clsact direction; -ENOENT/-EINVAL when there is no clsact. */
int nw_tc_filters(int ifindex, bool ingress, nw_tc_filter_cb cb, void *arg);
/* Count of filters on both directions of ifindex's clsact (0 when none or no clsact). */
int nw_tc_filter_count(int ifindex);

uint64_t nw_netns_ino(void);
/* pid of a live process holding prog_id through an fd, or 0. */
int nw_prog_holder(uint32_t prog_id);

#endif
