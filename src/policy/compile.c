// SPDX-License-Identifier: BSD-2-Clause
/* Kubernetes NetworkPolicy semantics, and their compilation into the kernel's tables.
 *
 *  - a policy selects the workloads of its own namespace its podSelector matches ({} = all);
 *  - a workload is isolated in a direction when a policy with that policyType selects it;
 *    otherwise everything passes in that direction;
 *  - rules of every selecting policy of that type add up (no deny rules); a rule allows a
 *    packet when a peer matches (none = every peer) and a port matches (none = every port);
 *  - peers: podSelector alone = the policy's namespace; namespaceSelector alone = every pod of
 *    the matching namespaces; both in one peer = AND; ipBlock = addresses in cidr, not in
 *    except;
 *  - ports: protocol (TCP by default), numeric port with optional endPort, or a named port —
 *    resolved on the destination: the selected workload for ingress, the peer for egress.
 * pol_eval() reads the policies directly; pol_compile() builds the tables and pol_table_eval()
 * reads them as the kernel does, so the unit tests can hold one against the other. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "core/ebee.h"
#include "policy/model.h"

static const char *label_get(const struct pol_labels *l, const char *k)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->k[i], k))
			return l->v[i];
	return NULL;
}

bool pol_selector_match(const struct pol_selector *sel, const struct pol_labels *l)
{
	for (int i = 0; i < sel->match.n; i++) {
		const char *v = label_get(l, sel->match.k[i]);

		if (!v || strcmp(v, sel->match.v[i]))
			return false;
	}
	for (int i = 0; i < sel->nexpr; i++) {
		const struct pol_expr *e = &sel->expr[i];
		const char *v = label_get(l, e->key);
		bool in = false;

		for (int j = 0; v && j < e->nvals; j++)
			in |= !strcmp(v, e->vals[j]);
		switch (e->op) {
		case POL_OP_IN: if (!in) return false; break;
		case POL_OP_NOTIN: if (in) return false; break;   /* a missing key is "not in" */
		case POL_OP_EXISTS: if (!v) return false; break;
		case POL_OP_NOTEXISTS: if (v) return false; break;
		}
	}
	return true;
}

const struct pol_namespace *pol_ns_find(const struct pol_set *s, const char *name)
{
	for (int i = 0; i < s->nns; i++)
		if (!strcmp(s->ns[i].name, name))
			return &s->ns[i];
	return NULL;
}

bool pol_selects(const struct pol_set *s, const struct pol_policy *p, const struct pol_workload *w)
{
	return !strcmp(p->ns, w->ns) && pol_selector_match(&p->sel, &w->labels);
}

bool pol_peer_has_workload(const struct pol_set *s, const struct pol_policy *p,
			   const struct pol_peer *peer, const struct pol_workload *w)
{
	const struct pol_namespace *ns;

	if (peer->has_ip)
		return false;   /* ipBlock matches addresses, see pol_peer_has_addr */
	if (peer->has_ns) {
		ns = pol_ns_find(s, w->ns);
		if (!ns || !pol_selector_match(&peer->ns, &ns->labels))
			return false;
	} else if (strcmp(w->ns, p->ns)) {
		return false;
	}
	return !peer->has_pod || pol_selector_match(&peer->pod, &w->labels);
}

static bool peer_has_addr(const struct pol_peer *peer, const struct pol_addr *a)
{
	if (!peer->has_ip || !a || !opt_cidr_match(&peer->cidr, a->family, a->addr))
		return false;
	for (int i = 0; i < peer->nexcept; i++)
		if (opt_cidr_match(&peer->except[i], a->family, a->addr))
			return false;
	return true;
}

bool pol_isolated(const struct pol_set *s, int wl, int dir)
{
	for (int i = 0; i < s->npol; i++)
		if (s->pol[i].type[dir] && pol_selects(s, &s->pol[i], &s->wl[wl]))
			return true;
	return false;
}

int pol_wl_port(const struct pol_workload *w, const char *name, uint8_t proto)
{
	for (int i = 0; i < w->nports; i++)
		if (!strcmp(w->ports[i].name, name) && w->ports[i].proto == proto)
			return w->ports[i].port;
	return -1;
}

const char *pol_proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "TCP" : proto == IPPROTO_UDP ? "UDP" :
	       proto == IPPROTO_SCTP ? "SCTP" : proto == IPPROTO_ICMP ? "ICMP" :
	       proto == IPPROTO_ICMPV6 ? "ICMPv6" : "other";
}

int pol_wl_find_addr(const struct pol_set *s, const struct pol_addr *a)
{
	for (int i = 0; i < s->nwl; i++)
		for (int j = 0; j < s->wl[i].naddrs; j++)
			if (s->wl[i].addrs[j].family == a->family &&
			    !memcmp(s->wl[i].addrs[j].addr, a->addr, a->family == 4 ? 4 : 16))
				return i;
	return -1;
}

static bool port_match(const struct pol_portspec *ps, const struct pol_workload *dst,
		       uint8_t proto, uint16_t port)
{
	int named;

	if (ps->proto != proto)
		return false;
	if (!ps->has_port)
		return true;
	if (!ps->name[0])
		return port >= ps->port && port <= ps->end;
	named = dst ? pol_wl_port(dst, ps->name, proto) : -1;
	return named >= 0 && named == port;
}

int pol_eval(const struct pol_set *s, int wl, int dir, int peer_wl, const struct pol_addr *peer,
	     uint8_t proto, uint16_t port, int *pol, int *rule)
{
	const struct pol_workload *dst = dir == POL_INGRESS ? &s->wl[wl] :
					 peer_wl >= 0 ? &s->wl[peer_wl] : NULL;

	if (!pol_isolated(s, wl, dir))
		return POL_WHY_NOT_ISOLATED;
	for (int i = 0; i < s->npol; i++) {
		const struct pol_policy *p = &s->pol[i];

		if (!p->type[dir] || !pol_selects(s, p, &s->wl[wl]))
			continue;
		for (int r = 0; r < p->nrules[dir]; r++) {
			const struct pol_rule *ru = &p->rules[dir][r];
			bool peer_ok = !ru->npeers, port_ok = !ru->nports;

			for (int j = 0; j < ru->npeers && !peer_ok; j++)
				peer_ok = (peer_wl >= 0 && pol_peer_has_workload(s, p, &ru->peers[j], &s->wl[peer_wl])) ||
					  peer_has_addr(&ru->peers[j], peer);
			for (int j = 0; j < ru->nports && !port_ok; j++)
				port_ok = port_match(&ru->ports[j], dst, proto, port);
			if (peer_ok && port_ok) {
				*pol = i;
				*rule = r;
				return POL_WHY_RULE;
			}
		}
	}
	return POL_WHY_NO_RULE;
}

int pol_check(const struct pol_set *s)
{
	for (int i = 0; i < s->npol; i++) {
		const struct pol_policy *p = &s->pol[i];

		for (int r = 0; r < p->nrules[POL_INGRESS]; r++) {
			const struct pol_rule *ru = &p->rules[POL_INGRESS][r];

			for (int j = 0; j < ru->nports; j++) {
				const struct pol_portspec *ps = &ru->ports[j];

				if (!ps->name[0])
					continue;
				for (int w = 0; w < s->nwl; w++)
					if (pol_selects(s, p, &s->wl[w]) &&
					    pol_wl_port(&s->wl[w], ps->name, ps->proto) < 0) {
						ebee_err("%s:%d:%d: named port '%s/%s' unknown for workload '%s/%s' selected by '%s'",
							 ps->loc.file, ps->loc.line, ps->loc.col, ps->name,
							 pol_proto_name(ps->proto), s->wl[w].ns, s->wl[w].name, p->name);
						return -EINVAL;
					}
			}
		}
		for (int r = 0; r < p->nrules[POL_EGRESS]; r++) {
			const struct pol_rule *ru = &p->rules[POL_EGRESS][r];

			for (int j = 0; j < ru->nports; j++) {
				const struct pol_portspec *ps = &ru->ports[j];
				bool any = false;

				if (!ps->name[0])
					continue;
				for (int w = 0; w < s->nwl; w++)
					any |= pol_wl_port(&s->wl[w], ps->name, ps->proto) >= 0;
				if (!any) {
					ebee_err("%s:%d:%d: named port '%s/%s' unknown: no workload defines it",
						 ps->loc.file, ps->loc.line, ps->loc.col, ps->name,
						 pol_proto_name(ps->proto));
					return -EINVAL;
				}
			}
		}
	}
	return 0;
}

/* ---- compilation ---- */

static void *grow(void *p, int n, size_t sz)
{
	if (n & (n - 1))
		return p;
	p = realloc(p, (n ? 2 * (size_t)n : 16) * sz);
	if (!p)
		abort();   /* compiling the configuration: nothing to fall back to */
	return p;
}

static int add_port(struct pol_table *t, uint8_t proto, uint16_t lo, uint16_t hi, uint16_t peer,
		    uint64_t bit)
{
	for (int i = 0; i < t->nports; i++) {
		struct pol_port *p = &t->ports[i];

		if (p->proto == proto && p->lo == lo && p->hi == hi && p->peer_wl == peer) {
			p->mask |= bit;
			return 0;
		}
	}
	if (t->nports == POL_MAX_PORTS)
		return -E2BIG;
	t->ports[t->nports++] = (struct pol_port){ .proto = proto, .peer_wl = peer, .lo = lo,
						   .hi = hi, .mask = bit };
	return 0;
}

struct blk {                     /* one ipBlock of one rule */
	const struct pol_peer *peer;
	uint64_t bit;
};

static bool pfx_inside(const uint8_t *a, int alen, const struct opt_cidr *c)
{
	return alen >= c->prefix && opt_cidr_match(c, c->family, a);
}

/* LPM entries for one (workload, direction): for every prefix P among the cidrs and excepts,
 * the rules whose block contains P and no except of which contains P — the answer for every
 * address whose longest match is P. */
static void lpm_build(struct pol_compiled *c, uint32_t wd, const struct blk *b, int nb)
{
	for (int i = 0; i < nb; i++)
		for (int e = -1; e < b[i].peer->nexcept; e++) {
			const struct opt_cidr *p = e < 0 ? &b[i].peer->cidr : &b[i].peer->except[e];
			struct pol_lpm_ent *ent;
			uint64_t mask = 0;
			bool dup = false;

			for (int k = 0; k < c->nlpm && !dup; k++)
				dup = c->lpm[k].wd == wd && c->lpm[k].family == p->family &&
				      c->lpm[k].prefix == p->prefix && !memcmp(c->lpm[k].addr, p->addr, 16);
			if (dup)
				continue;
			for (int j = 0; j < nb; j++) {
				const struct pol_peer *q = b[j].peer;
				bool out = false;

				if (q->cidr.family != p->family || !pfx_inside(p->addr, p->prefix, &q->cidr))
					continue;
				for (int x = 0; x < q->nexcept && !out; x++)
					out = pfx_inside(p->addr, p->prefix, &q->except[x]);
				if (!out)
					mask |= b[j].bit;
			}
			c->lpm = grow(c->lpm, c->nlpm, sizeof(*c->lpm));
			ent = &c->lpm[c->nlpm++];
			memset(ent, 0, sizeof(*ent));
			ent->wd = wd;
			ent->family = p->family;
			ent->prefix = p->prefix;
			memcpy(ent->addr, p->addr, 16);
			ent->mask = mask;
		}
}

static int compile_one(const struct pol_set *s, struct pol_compiled *c, int wl, int dir)
{
	uint32_t wd = POL_WD(wl, dir);
	struct pol_table *t = &c->tab[wd];
	struct pol_rule_ref *ref = &c->ref[wd * POL_MAX_RULES];
	uint64_t *peer_mask = calloc(s->nwl, sizeof(*peer_mask));
	struct blk *blks = NULL;
	int nbit = 0, nblk = 0, err = 0;

	if (!peer_mask)
		return -ENOMEM;
	t->isolated = pol_isolated(s, wl, dir);
	for (int i = 0; i < s->npol && !err; i++) {
		const struct pol_policy *p = &s->pol[i];

		if (!p->type[dir] || !pol_selects(s, p, &s->wl[wl]))
			continue;
		for (int r = 0; r < p->nrules[dir] && !err; r++) {
			const struct pol_rule *ru = &p->rules[dir][r];
			uint64_t bit;

			if (nbit == POL_MAX_RULES) {
				ebee_err("%s:%d:%d: too many rules for workload '%s/%s' %s (at most %d)",
					 ru->loc.file, ru->loc.line, ru->loc.col, s->wl[wl].ns,
					 s->wl[wl].name, dir ? "egress" : "ingress", POL_MAX_RULES);
				err = -EINVAL;
				break;
			}
			ref[nbit] = (struct pol_rule_ref){ i, r };
			bit = 1ULL << nbit++;
			if (!ru->npeers)
				t->any_peer |= bit;
			for (int j = 0; j < ru->npeers; j++) {
				if (ru->peers[j].has_ip) {
					blks = grow(blks, nblk, sizeof(*blks));
					blks[nblk++] = (struct blk){ &ru->peers[j], bit };
					continue;
				}
				for (int w = 0; w < s->nwl; w++)
					if (pol_peer_has_workload(s, p, &ru->peers[j], &s->wl[w]))
						peer_mask[w] |= bit;
			}
			if (!ru->nports)
				t->any_port |= bit;
			for (int j = 0; j < ru->nports && !err; j++) {
				const struct pol_portspec *ps = &ru->ports[j];
				uint16_t lo = ps->has_port ? ps->port : 0, hi = ps->has_port ? ps->end : 65535;

				if (!ps->name[0]) {
					err = add_port(t, ps->proto, lo, hi, POL_NO_WL, bit);
				} else if (dir == POL_INGRESS) {
					int port = pol_wl_port(&s->wl[wl], ps->name, ps->proto);

					if (port >= 0)
						err = add_port(t, ps->proto, port, port, POL_NO_WL, bit);
				} else {
					for (int w = 0; w < s->nwl && !err; w++) {
						int port = pol_wl_port(&s->wl[w], ps->name, ps->proto);

						if (port >= 0)
							err = add_port(t, ps->proto, port, port, w, bit);
					}
				}
				if (err == -E2BIG) {
					ebee_err("%s:%d:%d: too many port entries for workload '%s/%s' %s (at most %d)",
						 ps->loc.file, ps->loc.line, ps->loc.col, s->wl[wl].ns,
						 s->wl[wl].name, dir ? "egress" : "ingress", POL_MAX_PORTS);
					err = -EINVAL;
				}
			}
		}
	}
	for (int w = 0; w < s->nwl && !err; w++) {
		if (!peer_mask[w])
			continue;
		c->peer = grow(c->peer, c->npeer, sizeof(*c->peer));
		c->peer[c->npeer++] = (struct pol_peer_ent){ POL_PEER_KEY(wd, w), peer_mask[w] };
	}
	if (!err)
		lpm_build(c, wd, blks, nblk);
	free(blks);
	free(peer_mask);
	return err;
}

int pol_compile(const struct pol_set *s, struct pol_compiled *c)
{
	int err = 0;

	memset(c, 0, sizeof(*c));
	c->nwl = s->nwl;
	c->tab = calloc((size_t)s->nwl * 2 + 1, sizeof(*c->tab));
	c->ref = calloc((size_t)s->nwl * 2 * POL_MAX_RULES + 1, sizeof(*c->ref));
	if (!c->tab || !c->ref)
		err = -ENOMEM;
	for (int w = 0; w < s->nwl && !err; w++)
		for (int d = 0; d < 2 && !err; d++)
			err = compile_one(s, c, w, d);
	if (err)
		pol_compiled_free(c);
	return err;
}

void pol_compiled_free(struct pol_compiled *c)
{
	free(c->tab);
	free(c->ref);
	free(c->peer);
	free(c->lpm);
	memset(c, 0, sizeof(*c));
}

uint64_t pol_table_eval(const struct pol_compiled *c, int wl, int dir, int peer_wl,
			const struct pol_addr *peer, uint8_t proto, uint16_t port, bool *isolated)
{
	uint32_t wd = POL_WD(wl, dir);
	const struct pol_table *t = &c->tab[wd];
	uint64_t peers = t->any_peer, ports = t->any_port;
	int best = -1;

	*isolated = t->isolated;
	if (!t->isolated)
		return 0;
	for (int i = 0; i < c->npeer && peer_wl >= 0; i++)
		if (c->peer[i].key == POL_PEER_KEY(wd, peer_wl))
			peers |= c->peer[i].mask;
	for (int i = 0; i < c->nlpm && peer; i++) {
		struct opt_cidr p = { .prefix = c->lpm[i].prefix, .family = c->lpm[i].family };

		memcpy(p.addr, c->lpm[i].addr, 16);
		if (c->lpm[i].wd == wd && opt_cidr_match(&p, peer->family, peer->addr) &&
		    (best < 0 || c->lpm[i].prefix > c->lpm[best].prefix))
			best = i;
	}
	if (best >= 0)
		peers |= c->lpm[best].mask;
	for (int i = 0; i < t->nports; i++) {
		const struct pol_port *p = &t->ports[i];

		if (p->proto == proto && port >= p->lo && port <= p->hi &&
		    (p->peer_wl == POL_NO_WL || (peer_wl >= 0 && p->peer_wl == peer_wl)))
			ports |= p->mask;
	}
	return peers & ports;
}
