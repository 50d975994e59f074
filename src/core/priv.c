// SPDX-License-Identifier: BSD-2-Clause
/* Capabilities given up after loading (priv.h). capset(2) through syscall(): glibc has no
 * wrapper, and libcap would be one more library for forty lines. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "core/ebee.h"
#include "core/priv.h"

static const char *const cap_names[] = {
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
	"setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin",
	"net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace",
	"sys_pacct", "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time",
	"sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
	"mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read",
	"perfmon", "bpf", "checkpoint_restore",
};

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &n) != 1 || n < 0 || n > 63)
			n = CAP_LAST_CAP;
		fclose(f);
	}
	return n;
}

const char *ebee_caps_fmt(uint64_t caps, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int c = 0; c < 64 && n < len; c++) {
		if (!(caps & EBEE_CAP(c)))
			continue;
		if (c < (int)ARRAY_SIZE(cap_names))
			n += snprintf(buf + n, len - n, "%scap_%s", n ? "," : "", cap_names[c]);
		else
			n += snprintf(buf + n, len - n, "%scap_%d", n ? "," : "", c);
	}
	if (!buf[0])
		snprintf(buf, len, "none");
	return buf;
}

static int caps_set(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};

	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static int caps_get(uint64_t *eff, uint64_t *prm)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d))
		return -errno;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	return 0;
}

int ebee_drop_privileges(uint64_t keep, const char *who)
{
	uint64_t eff = 0, prm = 0;
	int last = last_cap(), err, nbnd = 0;
	char buf[512];

	if ((err = caps_get(&eff, &prm)))
		goto fail;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		goto fail;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* The bounding set first: dropping from it takes CAP_SETPCAP, itself dropped below. */
	for (int c = 0; c <= last; c++) {
		if (keep & EBEE_CAP(c))
			continue;
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0))
			nbnd++;   /* no CAP_SETPCAP (not root): the bounding set stays, said below */
	}
	if ((err = caps_set(eff & keep, prm & keep, 0)))
		goto fail;
	ebee_info("%s: capabilities kept after attaching: %s%s", who,
		  ebee_caps_fmt(prm & keep, buf, sizeof(buf)),
		  nbnd ? " (the bounding set could not be reduced)" : "");
	return 0;
fail:
	ebee_warn("%s: cannot drop capabilities: %s", who, strerror(-err));
	return err;
}

int ebee_thread_drop_caps(void)
{
	int last = last_cap();

	/* Nothing to exec back: uid 0 regains every capability in execve() unless the root
	 * securebits are set and the bounding set is empty (all per thread, like the sets). Both
	 * take CAP_SETPCAP, so before the capset; a thread without it only loses its sets. */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
		  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED, 0, 0, 0);
	return caps_set(0, 0, 0);
}

static int hex_line(const char *s, const char *key, uint64_t *v)
{
	size_t n = strlen(key);
	unsigned long long x;

	if (strncmp(s, key, n) || sscanf(s + n, "%llx", &x) != 1)
		return 0;
	*v = x;
	return 1;
}

int ebee_caps_read(uint64_t *eff, uint64_t *prm, uint64_t *bnd)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int got = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		got += hex_line(line, "CapEff:", eff) + hex_line(line, "CapPrm:", prm) +
		       hex_line(line, "CapBnd:", bnd);
	fclose(f);
	return got == 3 ? 0 : -EIO;
}
