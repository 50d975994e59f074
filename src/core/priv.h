/* SPDX-License-Identifier: BSD-2-Clause */
/* Shedding privileges: a long-running command (serve, netwatch, guard run) calls
 * ebee_drop_privileges() once its programs are loaded and attached, keeping only the
 * capabilities its running collectors still use (collector_desc.caps_run); a thread that
 * handles untrusted input and needs none calls ebee_thread_drop_caps() first thing.
 * Capabilities are per thread on Linux: threads started after the drop inherit the reduced
 * sets, threads started before keep theirs until they drop them themselves. */
#ifndef EBEE_PRIV_H
#define EBEE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#define EBEE_CAP(c) (1ULL << (c))

/* Bounding set, ambient set and inheritable set emptied of everything but `keep` (the
 * inheritable set entirely), permitted and effective reduced to `keep`, no_new_privs set, so
 * that neither this process nor anything it execs can regain the rest. `who` names the command
 * in the one info line that says what remains. Returns 0 or -errno (the caller goes on: a
 * process that cannot drop is no worse off than before, and says so). */
int ebee_drop_privileges(uint64_t keep, const char *who);
/* The calling thread only: every capability gone from its effective, permitted,
 * inheritable, ambient and (with CAP_SETPCAP) bounding sets, no_new_privs and the root
 * securebits set so that an execve() as uid 0 cannot bring them back. Threads share memory:
 * this limits what a bug in the thread can do through system calls, it is not a process
 * boundary. */
int ebee_thread_drop_caps(void);
/* A capability set as names, "cap_net_admin,cap_bpf" ("none" when empty). */
const char *ebee_caps_fmt(uint64_t caps, char *buf, size_t len);
/* The sets of this process (its main thread, from /proc/self/status): effective, permitted,
 * bounding. Returns 0 or -errno. */
int ebee_caps_read(uint64_t *eff, uint64_t *prm, uint64_t *bnd);

#endif
