/* SPDX-License-Identifier: BSD-2-Clause */
/* ebee tcp: owners of the listening sockets that predate ebee, found in /proc. */
#ifndef EBEE_TCP_OWNERS_H
#define EBEE_TCP_OWNERS_H

/* Fills the BPF `listeners` map (struct tcp_listener_key -> struct tcp_owner) for this network
 * namespace's TCP listeners. Returns how many were found, or -errno. Best effort: processes
 * that vanish meanwhile are skipped. */
int tcp_seed_listeners(int map_fd);

#endif
