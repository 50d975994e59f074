// SPDX-License-Identifier: BSD-2-Clause
/* `ebee policy whatif`: replays recorded flows (the JSON lines of `ebee policy apply --json`)
 * against a set of policies, without touching the kernel, and says which would be dropped.
 * A recorded connection shows up several times (both ends, flags, intervals): each is judged
 * once, by its first request-direction event. Workloads are recognised by the recorded
 * namespace/pod_name, else by address. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <json-c/json.h>

#include "core/ebee.h"
#include "core/out.h"
#include "policy/whatif.h"

struct flow {
	struct pol_addr src, dst;
	uint16_t sport, dport;
	uint8_t proto;
};

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) : NULL;
}

static json_object *jobj(json_object *o, const char *k)
{
	json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static bool addr_parse(const char *s, struct pol_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (s && inet_pton(AF_INET, s, a->addr) == 1)
		a->family = 4;
	else if (s && inet_pton(AF_INET6, s, a->addr) == 1)
		a->family = 6;
	return a->family != 0;
}

static int wl_of(const struct pol_set *s, json_object *ep, const struct pol_addr *a)
{
	const char *ns = jstr(ep, "namespace"), *name = jstr(ep, "pod_name");

	for (int i = 0; ns && name && i < s->nwl; i++)
		if (!strcmp(s->wl[i].ns, ns) && !strcmp(s->wl[i].name, name))
			return i;
	return pol_wl_find_addr(s, a);
}

enum { W_SRC, W_DST, W_PROTO, W_PORT, W_WAS, W_VERDICT, W_WHY, W__N };
static const struct out_col whatif_cols[] = {
	[W_SRC] = { "src", "SOURCE", OUT_STR, -30 },
	[W_DST] = { "dst", "DESTINATION", OUT_STR, -30 },
	[W_PROTO] = { "proto", "PROTO", OUT_STR, -5 },
	[W_PORT] = { "port", "PORT", OUT_U64, 5 },
	[W_WAS] = { "recorded", "RECORDED", OUT_STR, -9 },
	[W_VERDICT] = { "verdict", "WOULD BE", OUT_STR, -9 },
	[W_WHY] = { "why", "WHY", OUT_STR, -50 },
};

static void endpoint(const struct pol_set *s, int wl, const struct pol_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, ip, sizeof(ip));
	if (wl >= 0)
		snprintf(buf, len, "%s/%s", s->wl[wl].ns, s->wl[wl].name);
	else
		snprintf(buf, len, "%s", ip);
}

/* One direction's answer as text; returns true when it allows. */
static bool judge(const struct pol_set *s, int wl, int dir, int peer, const struct pol_addr *pa,
		  uint8_t proto, uint16_t port, char *why, size_t len)
{
	int pol, rule, r;

	if (wl < 0)
		return true;   /* not a workload: nothing enforced at that end */
	r = pol_eval(s, wl, dir, peer, pa, proto, port, &pol, &rule);
	if (r == POL_WHY_RULE)
		snprintf(why + strlen(why), len - strlen(why), "%s%s by %s/%s %s[%d]", why[0] ? "; " : "",
			 dir ? "egress" : "ingress", s->pol[pol].ns, s->pol[pol].name,
			 dir ? "egress" : "ingress", rule);
	else if (r == POL_WHY_NO_RULE)
		snprintf(why + strlen(why), len - strlen(why), "%s%s of %s/%s: no policy allows it",
			 why[0] ? "; " : "", dir ? "egress" : "ingress", s->wl[wl].ns, s->wl[wl].name);
	return r != POL_WHY_NO_RULE;
}

int pol_whatif(const struct pol_set *s, const char *path, bool json, int *ndrop)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	struct flow *seen = NULL;
	size_t nseen = 0, cap = 0, lineno = 0;
	char *line = NULL;
	size_t lcap = 0;
	struct out o;
	int err = 0;

	if (!f) {
		ebee_err("cannot read flows '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	*ndrop = 0;
	out_init(&o, stdout, json ? OUT_JSON : OUT_TABLE, whatif_cols, W__N);
	out_header(&o);
	while (getline(&line, &lcap, f) > 0) {
		json_object *j, *ip, *l4, *t = NULL, *rep;
		struct flow fl = { 0 };
		char a[OUT_CELL], b[OUT_CELL], why[400] = "";
		int sw, dw;
		bool ok, dup = false;

		lineno++;
		if (line[strspn(line, " \t\r\n")] == 0)
			continue;
		j = json_tokener_parse(line);
		if (!j) {
			ebee_err("%s:%zu: not a JSON line", path, lineno);
			err = -EINVAL;
			break;
		}
		ip = jobj(j, "IP");
		l4 = jobj(j, "l4");
		rep = jobj(j, "is_reply");
		if (!ip || (rep && json_object_get_boolean(rep))) {
			json_object_put(j);   /* summaries, replies: not requests */
			continue;
		}
		if (!addr_parse(jstr(ip, "source"), &fl.src) || !addr_parse(jstr(ip, "destination"), &fl.dst)) {
			ebee_err("%s:%zu: flow without valid IP.source/IP.destination", path, lineno);
			json_object_put(j);
			err = -EINVAL;
			break;
		}
		if ((t = jobj(l4, "TCP")))
			fl.proto = IPPROTO_TCP;
		else if ((t = jobj(l4, "UDP")))
			fl.proto = IPPROTO_UDP;
		else if ((t = jobj(l4, "SCTP")))
			fl.proto = IPPROTO_SCTP;
		else
			fl.proto = jobj(l4, "ICMPv6") ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
		if (t) {
			fl.sport = json_object_get_int(jobj(t, "source_port"));
			fl.dport = json_object_get_int(jobj(t, "destination_port"));
		}
		for (size_t i = 0; i < nseen && !dup; i++)
			dup = !memcmp(&seen[i], &fl, sizeof(fl));
		if (dup) {
			json_object_put(j);
			continue;
		}
		if (nseen == cap) {
			struct flow *n = realloc(seen, (cap = cap ? cap * 2 : 64) * sizeof(*seen));

			if (!n) {
				json_object_put(j);
				err = -ENOMEM;
				break;
			}
			seen = n;
		}
		seen[nseen++] = fl;
		sw = wl_of(s, jobj(j, "source"), &fl.src);
		dw = wl_of(s, jobj(j, "destination"), &fl.dst);
		ok = judge(s, sw, POL_EGRESS, dw, &fl.dst, fl.proto, fl.dport, why, sizeof(why));
		ok &= judge(s, dw, POL_INGRESS, sw, &fl.src, fl.proto, fl.dport, why, sizeof(why));
		*ndrop += !ok;
		endpoint(s, sw, &fl.src, a, sizeof(a));
		endpoint(s, dw, &fl.dst, b, sizeof(b));
		out_str(&o, W_SRC, a);
		out_str(&o, W_DST, b);
		out_str(&o, W_PROTO, pol_proto_name(fl.proto));
		out_u64(&o, W_PORT, fl.dport);
		out_str(&o, W_WAS, jstr(j, "verdict") ?: "-");
		out_str(&o, W_VERDICT, ok ? "FORWARDED" : "DROPPED");
		out_str(&o, W_WHY, why[0] ? why : "not isolated");
		out_row(&o);
		json_object_put(j);
	}
	free(line);
	free(seen);
	if (f != stdin)
		fclose(f);
	return err;
}
