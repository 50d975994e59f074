// SPDX-License-Identifier: BSD-2-Clause
/* ebee tcp: state names, ports, CIDRs. No logging here: callers word the errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/opts.h"
#include "tcp/parse.h"

/* include/net/tcp_states.h */
static const char *const state_names[TCP_NSTATES] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV", [4] = "FIN_WAIT1",
	[5] = "FIN_WAIT2", [6] = "TIME_WAIT", [7] = "CLOSE", [8] = "CLOSE_WAIT",
	[9] = "LAST_ACK", [10] = "LISTEN", [11] = "CLOSING", [12] = "NEW_SYN_RECV",
	[13] = "BOUND_INACTIVE",
};

const char *tcp_state_name(int state)
{
	if (state <= 0 || state >= TCP_NSTATES)
		return NULL;
	return state_names[state];
}

int tcp_state_parse(const char *s)
{
	char buf[32];
	size_t i, n = strlen(s);

	if (!n || n >= sizeof(buf))
		return -1;
	for (i = 0; i < n; i++)
		buf[i] = s[i] == '-' ? '_' : s[i];
	buf[n] = 0;
	for (i = 1; i < TCP_NSTATES; i++)
		if (!strcasecmp(buf, state_names[i]))
			return (int)i;
	return -1;
}

const char *tcp_state_names(void)
{
	static char all[256];
	size_t off = 0;
	int i;

	if (all[0])
		return all;
	for (i = 1; i < TCP_NSTATES; i++)
		off += snprintf(all + off, sizeof(all) - off, "%s%s", i > 1 ? "," : "", state_names[i]);
	return all;
}

void tcp_cidr_from(const struct opt_cidr *o, struct tcp_cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->family = o->family == 4 ? AF_INET : AF_INET6;
	for (int i = 0; i < 16; i++) {
		int bits = (int)o->prefix - 8 * i;

		c->mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
		c->addr[i] = o->addr[i] & c->mask[i];
	}
}

const char *tcp_addr_fmt(int family, const uint8_t *addr, char *buf, size_t len)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *tcp_first_name(int first)
{
	switch (first) {
	case TCP_FIRST_LOCAL:  return "local";
	case TCP_FIRST_REMOTE: return "remote";
	case TCP_FIRST_RESET:  return "reset";
	case TCP_FIRST_ABORT:  return "abort";
	default:               return "-";
	}
}
