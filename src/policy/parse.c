// SPDX-License-Identifier: BSD-2-Clause
/* NetworkPolicy and workloads YAML through libyaml's document API: every node keeps its
 * position, so every error names FILE:LINE:COL. Unknown fields are errors (with a "did you
 * mean"), as a typo in a policy silently allowing or denying traffic is the worst outcome. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <yaml.h>

#include "core/ebee.h"
#include "policy/model.h"

struct px {
	struct pol_set *s;
	const char *file;
	yaml_document_t *doc;
};

static void perr(const struct px *x, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void perr(const struct px *x, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ebee_err("%s:%zu:%zu: %s", x->file, n ? n->start_mark.line + 1 : 1,
		 n ? n->start_mark.column + 1 : 1, msg);
}

static struct pol_loc loc_of(const struct px *x, const yaml_node_t *n)
{
	return (struct pol_loc){ x->file, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1 };
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(const struct px *x, int id)
{
	return yaml_document_get_node(x->doc, id);
}

static const char *kind_name(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a list" :
	       "a scalar";
}

static int want(const struct px *x, const yaml_node_t *n, yaml_node_type_t t, const char *what)
{
	if (n->type == t)
		return 0;
	perr(x, n, "'%s' must be %s, not %s", what,
	     t == YAML_MAPPING_NODE ? "a mapping" : t == YAML_SEQUENCE_NODE ? "a list" : "a scalar",
	     kind_name(n));
	return -EINVAL;
}

/* Checks a mapping's keys against `known` (NULL-terminated); duplicates are errors too. */
static int check_keys(const struct px *x, const yaml_node_t *m, const char *what,
		      const char *const *known)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(x, p->key);
		const char *ks = scalar(k);
		bool ok = false;

		if (!ks) {
			perr(x, k, "keys of '%s' must be scalars", what);
			return -EINVAL;
		}
		for (int i = 0; known[i]; i++)
			ok |= !strcmp(ks, known[i]);
		if (!ok) {
			const char *hint = opts_suggest(ks, known);

			if (hint)
				perr(x, k, "unknown field '%s' in %s (did you mean '%s'?)", ks, what, hint);
			else
				perr(x, k, "unknown field '%s' in %s", ks, what);
			return -EINVAL;
		}
		for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++)
			if (!strcmp(scalar(node(x, q->key)) ?: "", ks)) {
				perr(x, k, "duplicate field '%s' in %s", ks, what);
				return -EINVAL;
			}
	}
	return 0;
}

static yaml_node_t *get(const struct px *x, const yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(x, p->key));

		if (k && !strcmp(k, key))
			return node(x, p->value);
	}
	return NULL;
}

static bool is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null"));
}

static int get_str(const struct px *x, const yaml_node_t *n, const char *what, char *dst, size_t cap)
{
	const char *s = scalar(n);

	if (!s) {
		perr(x, n, "'%s' must be a string, not %s", what, kind_name(n));
		return -EINVAL;
	}
	if (strlen(s) >= cap || !*s) {
		perr(x, n, "'%s' must be 1 to %zu characters", what, cap - 1);
		return -EINVAL;
	}
	snprintf(dst, cap, "%s", s);
	return 0;
}

static int get_uint(const struct px *x, const yaml_node_t *n, const char *what, unsigned long lo,
		    unsigned long hi, unsigned long *out)
{
	const char *s = scalar(n);
	char *end;

	if (!s || !*s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		perr(x, n, "'%s' must be a number from %lu to %lu", what, lo, hi);
		return -EINVAL;
	}
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (*end || errno || *s == '-' || *out < lo || *out > hi) {
		perr(x, n, "'%s' must be a number from %lu to %lu, not '%s'", what, lo, hi, s);
		return -EINVAL;
	}
	return 0;
}

static void vec_grow(void **arr, int n, size_t sz)
{
	/* Capacity doubles at powers of two: no separate capacity field needed. */
	if (n && (n & (n - 1)))
		return;
	void *p = realloc(*arr, (n ? 2 * (size_t)n : 4) * sz);

	if (!p)
		abort();   /* out of memory while parsing configuration: nothing sensible to do */
	*arr = p;
}
#define VEC_PUSH(arr, n) (vec_grow((void **)&(arr), (n), sizeof(*(arr))), \
			  memset(&(arr)[(n)], 0, sizeof(*(arr))), &(arr)[(n)++])

/* Kubernetes label keys: [prefix/]name, name up to 63 of [A-Za-z0-9._-], alphanumeric ends;
 * values the same or empty. */
static bool label_name_ok(const char *s, bool empty_ok)
{
	size_t n = strlen(s);

	if (!n)
		return empty_ok;
	if (n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && ((i == 0 || i == n - 1) || !strchr("-_.", c)))
			return false;
	}
	return true;
}

static bool label_key_ok(const char *k)
{
	const char *slash = strchr(k, '/');

	if (!slash)
		return label_name_ok(k, false);
	if (slash == k || slash - k > 253 || strchr(slash + 1, '/'))
		return false;
	for (const char *p = k; p < slash; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-.", *p))
			return false;
	return label_name_ok(slash + 1, false);
}

static int labels_parse(const struct px *x, const yaml_node_t *n, const char *what,
			struct pol_labels *l)
{
	if (is_null(n))
		return 0;
	if (want(x, n, YAML_MAPPING_NODE, what))
		return -EINVAL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(x, p->key), *v = node(x, p->value);
		const char *ks = scalar(k), *vs = scalar(v);

		if (!ks || !label_key_ok(ks)) {
			perr(x, k, "invalid label key '%s' in '%s'", ks ?: "?", what);
			return -EINVAL;
		}
		if (!vs || !label_name_ok(vs, true)) {
			perr(x, v, "invalid value of label '%s' in '%s' (at most 63 of A-Z a-z 0-9 . _ -)",
			     ks, what);
			return -EINVAL;
		}
		for (int i = 0; i < l->n; i++)
			if (!strcmp(l->k[i], ks)) {
				perr(x, k, "duplicate label '%s' in '%s'", ks, what);
				return -EINVAL;
			}
		if (l->n == POL_LABELS_MAX) {
			perr(x, k, "too many labels in '%s' (at most %d)", what, POL_LABELS_MAX);
			return -EINVAL;
		}
		l->k[l->n] = strdup(ks);
		l->v[l->n++] = strdup(vs);
	}
	return 0;
}

static int selector_parse(const struct px *x, const yaml_node_t *n, const char *what,
			  struct pol_selector *sel)
{
	static const char *const keys[] = { "matchLabels", "matchExpressions", NULL };
	static const char *const ekeys[] = { "key", "operator", "values", NULL };
	static const char *const ops[] = { "In", "NotIn", "Exists", "DoesNotExist", NULL };
	yaml_node_t *e;

	if (is_null(n))
		return 0;
	if (want(x, n, YAML_MAPPING_NODE, what) || check_keys(x, n, what, keys))
		return -EINVAL;
	if (get(x, n, "matchLabels") && labels_parse(x, get(x, n, "matchLabels"), "matchLabels",
						      &sel->match))
		return -EINVAL;
	e = get(x, n, "matchExpressions");
	if (!e || is_null(e))
		return 0;
	if (want(x, e, YAML_SEQUENCE_NODE, "matchExpressions"))
		return -EINVAL;
	for (yaml_node_item_t *it = e->data.sequence.items.start; it < e->data.sequence.items.top; it++) {
		yaml_node_t *m = node(x, *it), *k, *op, *vals;
		struct pol_expr *ex;
		const char *ks, *os;
		int o = -1;

		if (want(x, m, YAML_MAPPING_NODE, "matchExpressions item") ||
		    check_keys(x, m, "matchExpressions item", ekeys))
			return -EINVAL;
		k = get(x, m, "key");
		op = get(x, m, "operator");
		vals = get(x, m, "values");
		if (!k || !(ks = scalar(k)) || !label_key_ok(ks)) {
			perr(x, k ?: m, "matchExpressions item needs a valid 'key'");
			return -EINVAL;
		}
		os = scalar(op);
		for (int i = 0; os && ops[i]; i++)
			if (!strcmp(os, ops[i]))
				o = i;
		if (o < 0) {
			const char *hint = os ? opts_suggest(os, ops) : NULL;

			perr(x, op ?: m, "unknown operator '%s' (%s%s%s)", os ?: "", hint ? "did you mean '" : "use In, NotIn, Exists or DoesNotExist",
			     hint ?: "", hint ? "'?" : "");
			return -EINVAL;
		}
		if (sel->nexpr == POL_EXPR_MAX) {
			perr(x, m, "too many matchExpressions (at most %d)", POL_EXPR_MAX);
			return -EINVAL;
		}
		ex = &sel->expr[sel->nexpr++];
		ex->key = strdup(ks);
		ex->op = o;
		if (o == POL_OP_EXISTS || o == POL_OP_NOTEXISTS) {
			if (vals && !is_null(vals) && (vals->type != YAML_SEQUENCE_NODE ||
				     vals->data.sequence.items.top != vals->data.sequence.items.start)) {
				perr(x, vals, "operator '%s' takes no values", os);
				return -EINVAL;
			}
			continue;
		}
		if (!vals || vals->type != YAML_SEQUENCE_NODE ||
		    vals->data.sequence.items.top == vals->data.sequence.items.start) {
			perr(x, vals ?: m, "operator '%s' needs a non-empty list of 'values'", os);
			return -EINVAL;
		}
		for (yaml_node_item_t *v = vals->data.sequence.items.start; v < vals->data.sequence.items.top; v++) {
			const char *vs = scalar(node(x, *v));

			if (!vs || !label_name_ok(vs, true)) {
				perr(x, node(x, *v), "invalid label value in 'values'");
				return -EINVAL;
			}
			if (ex->nvals == POL_VALUES_MAX) {
				perr(x, node(x, *v), "too many values (at most %d)", POL_VALUES_MAX);
				return -EINVAL;
			}
			ex->vals[ex->nvals++] = strdup(vs);
		}
	}
	return 0;
}

static int cidr_parse(const struct px *x, const yaml_node_t *n, const char *what, struct opt_cidr *c)
{
	struct opt_cidrs one = { 0 };
	const char *s = scalar(n), *why = "expected a string";

	if (!s || !strchr(s, '/') || strchr(s, ',') || opts_parse_cidrs(s, &one, &why)) {
		if (s && !strchr(s, '/'))
			why = "a prefix length is required (e.g. 10.0.0.0/8)";
		perr(x, n, "invalid %s '%s': %s", what, s ?: "", why);
		return -EINVAL;
	}
	*c = one.v[0];
	return 0;
}

static bool cidr_inside(const struct opt_cidr *in, const struct opt_cidr *out)
{
	return in->family == out->family && in->prefix > out->prefix &&
	       opt_cidr_match(out, in->family, in->addr);
}

static int peer_parse(const struct px *x, const yaml_node_t *n, struct pol_peer *p)
{
	static const char *const keys[] = { "podSelector", "namespaceSelector", "ipBlock", NULL };
	static const char *const ikeys[] = { "cidr", "except", NULL };
	yaml_node_t *ps, *ns, *ib, *c, *ex;

	if (want(x, n, YAML_MAPPING_NODE, "peer") || check_keys(x, n, "a peer", keys))
		return -EINVAL;
	ps = get(x, n, "podSelector");
	ns = get(x, n, "namespaceSelector");
	ib = get(x, n, "ipBlock");
	if (!ps && !ns && !ib) {
		perr(x, n, "empty peer: give podSelector, namespaceSelector or ipBlock");
		return -EINVAL;
	}
	if (ib && (ps || ns)) {
		perr(x, ib, "ipBlock cannot be combined with podSelector or namespaceSelector in one peer");
		return -EINVAL;
	}
	p->has_pod = ps != NULL;
	p->has_ns = ns != NULL;
	if ((ps && selector_parse(x, ps, "podSelector", &p->pod)) ||
	    (ns && selector_parse(x, ns, "namespaceSelector", &p->ns)))
		return -EINVAL;
	if (!ib)
		return 0;
	p->has_ip = true;
	if (want(x, ib, YAML_MAPPING_NODE, "ipBlock") || check_keys(x, ib, "ipBlock", ikeys))
		return -EINVAL;
	if (!(c = get(x, ib, "cidr"))) {
		perr(x, ib, "ipBlock needs a 'cidr'");
		return -EINVAL;
	}
	if (cidr_parse(x, c, "cidr", &p->cidr))
		return -EINVAL;
	ex = get(x, ib, "except");
	if (!ex || is_null(ex))
		return 0;
	if (want(x, ex, YAML_SEQUENCE_NODE, "except"))
		return -EINVAL;
	for (yaml_node_item_t *it = ex->data.sequence.items.start; it < ex->data.sequence.items.top; it++) {
		struct opt_cidr *e;

		if (p->nexcept == POL_EXCEPT_MAX) {
			perr(x, node(x, *it), "too many except entries (at most %d)", POL_EXCEPT_MAX);
			return -EINVAL;
		}
		e = &p->except[p->nexcept];
		if (cidr_parse(x, node(x, *it), "except", e))
			return -EINVAL;
		if (!cidr_inside(e, &p->cidr)) {
			perr(x, node(x, *it), "except '%s' is not inside cidr '%s'",
			     scalar(node(x, *it)), scalar(c));
			return -EINVAL;
		}
		p->nexcept++;
	}
	return 0;
}

static int proto_parse(const struct px *x, const yaml_node_t *n, uint8_t *proto)
{
		const char *s = scalar(n);

	if (!n) {
		*proto = IPPROTO_TCP;
		return 0;
	}
	if (s && !strcmp(s, "TCP"))
		*proto = IPPROTO_TCP;
	else if (s && !strcmp(s, "UDP"))
		*proto = IPPROTO_UDP;
	else if (s && !strcmp(s, "SCTP"))
		*proto = IPPROTO_SCTP;
	else {
		/* no "did you mean": ICMP is two edits from TCP, and suggesting it would mislead */
		perr(x, n, "unknown protocol '%s' (use TCP, UDP or SCTP)", s ?: "");
		return -EINVAL;
	}
	return 0;
}

/* IANA_SVC_NAME: at most 15 of a-z 0-9 -, a letter in it, no leading/trailing/double dash. */
static bool port_name_ok(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;

	if (!n || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
	}
	return letter;
}

static int port_parse(const struct px *x, const yaml_node_t *n, struct pol_portspec *ps)
{
	static const char *const keys[] = { "protocol", "port", "endPort", NULL };
	yaml_node_t *port, *end;
	unsigned long v;

	if (want(x, n, YAML_MAPPING_NODE, "ports item") || check_keys(x, n, "a ports item", keys) ||
	    proto_parse(x, get(x, n, "protocol"), &ps->proto))
		return -EINVAL;
	ps->loc = loc_of(x, n);
	port = get(x, n, "port");
	end = get(x, n, "endPort");
	if (port && !is_null(port)) {
		const char *s = scalar(port);

		ps->has_port = true;
		if (s && port->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && *s >= '0' && *s <= '9') {
			if (get_uint(x, port, "port", 1, 65535, &v))
				return -EINVAL;
			ps->port = ps->end = v;
		} else if (s && port_name_ok(s)) {
			snprintf(ps->name, sizeof(ps->name), "%s", s);
		} else {
			perr(x, port, "invalid port '%s': a number from 1 to 65535 or a port name", s ?: "");
			return -EINVAL;
		}
	}
	if (end) {
		if (!ps->has_port || ps->name[0]) {
			perr(x, end, "endPort needs a numeric 'port'");
			return -EINVAL;
		}
		if (get_uint(x, end, "endPort", 1, 65535, &v))
			return -EINVAL;
		if (v < ps->port) {
			perr(x, end, "endPort %lu is below port %u", v, ps->port);
			return -EINVAL;
		}
		ps->end = v;
	}
	return 0;
}

static int rule_parse(const struct px *x, const yaml_node_t *n, int dir, struct pol_rule *r)
{
	static const char *const ikeys[] = { "from", "ports", NULL };
	static const char *const ekeys[] = { "to", "ports", NULL };
	const char *pk = dir == POL_INGRESS ? "from" : "to";
	yaml_node_t *peers, *ports;

	r->loc = loc_of(x, n);
	if (is_null(n))
		return 0;   /* "- {}" and "-" alike: every peer, every port */
	if (want(x, n, YAML_MAPPING_NODE, dir == POL_INGRESS ? "ingress rule" : "egress rule") ||
	    check_keys(x, n, dir == POL_INGRESS ? "an ingress rule" : "an egress rule",
		       dir == POL_INGRESS ? ikeys : ekeys))
		return -EINVAL;
	peers = get(x, n, pk);
	ports = get(x, n, "ports");
	if (peers && !is_null(peers)) {
		if (want(x, peers, YAML_SEQUENCE_NODE, pk))
			return -EINVAL;
		for (yaml_node_item_t *it = peers->data.sequence.items.start;
		     it < peers->data.sequence.items.top; it++)
			if (peer_parse(x, node(x, *it), VEC_PUSH(r->peers, r->npeers)))
				return -EINVAL;
	}
	if (ports && !is_null(ports)) {
		if (want(x, ports, YAML_SEQUENCE_NODE, "ports"))
			return -EINVAL;
		for (yaml_node_item_t *it = ports->data.sequence.items.start;
		     it < ports->data.sequence.items.top; it++)
			if (port_parse(x, node(x, *it), VEC_PUSH(r->ports, r->nports)))
				return -EINVAL;
	}
	return 0;
}

static int policy_parse(const struct px *x, const yaml_node_t *root)
{
	static const char *const keys[] = { "apiVersion", "kind", "metadata", "spec", "status", NULL };
	static const char *const mkeys[] = { "name", "namespace", "labels", "annotations", "uid",
		"resourceVersion", "generation", "creationTimestamp", NULL };
	static const char *const skeys[] = { "podSelector", "policyTypes", "ingress", "egress", NULL };
	struct pol_policy *p;
	yaml_node_t *av, *k, *md, *spec, *types, *n;
	struct pol_labels scratch = { 0 };
	int err;

	if (want(x, root, YAML_MAPPING_NODE, "document") || check_keys(x, root, "a NetworkPolicy", keys))
		return -EINVAL;
	av = get(x, root, "apiVersion");
	k = get(x, root, "kind");
	if (!scalar(av) || strcmp(scalar(av), "networking.k8s.io/v1")) {
		perr(x, av ?: root, "unknown apiVersion '%s' (expected networking.k8s.io/v1)", scalar(av) ?: "");
		return -EINVAL;
	}
	if (!scalar(k) || strcmp(scalar(k), "NetworkPolicy")) {
		perr(x, k ?: root, "unknown kind '%s' (expected NetworkPolicy)", scalar(k) ?: "");
		return -EINVAL;
	}
	p = VEC_PUSH(x->s->pol, x->s->npol);
	p->loc = loc_of(x, root);
	md = get(x, root, "metadata");
	if (!md || want(x, md, YAML_MAPPING_NODE, "metadata") || check_keys(x, md, "metadata", mkeys)) {
		if (!md)
			perr(x, root, "missing 'metadata.name'");
		return -EINVAL;
	}
	if (!get(x, md, "name")) {
		perr(x, md, "missing 'metadata.name'");
		return -EINVAL;
	}
	if (get_str(x, get(x, md, "name"), "metadata.name", p->name, sizeof(p->name)))
		return -EINVAL;
	strcpy(p->ns, "default");
	if (get(x, md, "namespace") &&
	    get_str(x, get(x, md, "namespace"), "metadata.namespace", p->ns, sizeof(p->ns)))
		return -EINVAL;
	/* Policy labels are not used by the semantics, but are checked like Kubernetes does. */
	n = get(x, md, "labels");
	err = n ? labels_parse(x, n, "metadata.labels", &scratch) : 0;
	for (int i = 0; i < scratch.n; i++) {
		free(scratch.k[i]);
		free(scratch.v[i]);
	}
	if (err)
		return err;
	for (int i = 0; i < x->s->npol - 1; i++)
		if (!strcmp(x->s->pol[i].name, p->name) && !strcmp(x->s->pol[i].ns, p->ns)) {
			perr(x, md, "duplicate NetworkPolicy '%s/%s' (first at %s:%d)", p->ns, p->name,
			     x->s->pol[i].loc.file, x->s->pol[i].loc.line);
			return -EINVAL;
		}
	spec = get(x, root, "spec");
	if (!spec) {
		perr(x, root, "missing 'spec'");
		return -EINVAL;
	}
	if (want(x, spec, YAML_MAPPING_NODE, "spec") || check_keys(x, spec, "spec", skeys))
		return -EINVAL;
	if (!(n = get(x, spec, "podSelector"))) {
		perr(x, spec, "missing 'spec.podSelector' (use {} to select every pod of the namespace)");
		return -EINVAL;
	}
	if (selector_parse(x, n, "podSelector", &p->sel))
		return -EINVAL;
	for (int dir = 0; dir < 2; dir++) {
		yaml_node_t *rules = get(x, spec, dir == POL_INGRESS ? "ingress" : "egress");

		if (!rules || is_null(rules))
			continue;
		if (want(x, rules, YAML_SEQUENCE_NODE, dir == POL_INGRESS ? "ingress" : "egress"))
			return -EINVAL;
		for (yaml_node_item_t *it = rules->data.sequence.items.start;
		     it < rules->data.sequence.items.top; it++)
			if (rule_parse(x, node(x, *it), dir, VEC_PUSH(p->rules[dir], p->nrules[dir])))
				return -EINVAL;
	}
	/* policyTypes: Ingress always, Egress when there are egress rules, unless given. */
	types = get(x, spec, "policyTypes");
	if (!types || is_null(types)) {
		p->type[POL_INGRESS] = true;
		p->type[POL_EGRESS] = p->nrules[POL_EGRESS] > 0;
		return 0;
	}
	if (want(x, types, YAML_SEQUENCE_NODE, "policyTypes"))
		return -EINVAL;
	for (yaml_node_item_t *it = types->data.sequence.items.start; it < types->data.sequence.items.top; it++) {
		static const char *const tn[] = { "Ingress", "Egress", NULL };
		const char *s = scalar(node(x, *it));

		if (s && !strcmp(s, "Ingress"))
			p->type[POL_INGRESS] = true;
		else if (s && !strcmp(s, "Egress"))
			p->type[POL_EGRESS] = true;
		else {
			const char *hint = s ? opts_suggest(s, tn) : NULL;

			perr(x, node(x, *it), "unknown policyType '%s' (%s%s%s)", s ?: "",
			     hint ? "did you mean '" : "use Ingress or Egress", hint ?: "", hint ? "'?" : "");
			return -EINVAL;
		}
	}
	return 0;
}

/* Runs fn on every document of a YAML stream. */
static int each_doc(struct pol_set *s, const char *name, const unsigned char *text, size_t len,
		    int (*fn)(const struct px *, const yaml_node_t *))
{
	yaml_parser_t parser;
	int err = 0, ndocs = 0;
	char **files;

	files = realloc(s->files, (s->nfiles + 1) * sizeof(*s->files));
	if (!files)
		return -ENOMEM;
	s->files = files;
	s->files[s->nfiles++] = strdup(name);
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, text, len);
	for (;;) {
		struct px x = { s, s->files[s->nfiles - 1], NULL };
		yaml_document_t doc;
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, &doc)) {
			ebee_err("%s:%zu:%zu: invalid YAML: %s%s%s", name, parser.problem_mark.line + 1,
				 parser.problem_mark.column + 1, parser.problem ?: "syntax error",
				 parser.context ? " " : "", parser.context ?: "");
			err = -EINVAL;
			break;
		}
		x.doc = &doc;
		root = yaml_document_get_root_node(&doc);
		if (!root) {
			yaml_document_delete(&doc);
			break;
		}
		if (!is_null(root)) {   /* "---" followed by nothing is an empty document */
			ndocs++;
			err = fn(&x, root);
		}
		yaml_document_delete(&doc);
		if (err)
			break;
	}
	yaml_parser_delete(&parser);
	if (!err && !ndocs) {
		ebee_err("%s:1:1: no document in the file", name);
		err = -EINVAL;
	}
	return err;
}

/* A List (kubectl get -o yaml) holds policies in items. */
static int policy_or_list(const struct px *x, const yaml_node_t *root)
{
	yaml_node_t *items;

	if (root->type == YAML_MAPPING_NODE && scalar(get(x, root, "kind")) &&
	    !strcmp(scalar(get(x, root, "kind")), "List")) {
		items = get(x, root, "items");
		if (!items || want(x, items, YAML_SEQUENCE_NODE, "items"))
			return -EINVAL;
		for (yaml_node_item_t *it = items->data.sequence.items.start; it < items->data.sequence.items.top; it++)
			if (policy_parse(x, node(x, *it)))
				return -EINVAL;
		return 0;
	}
	return policy_parse(x, root);
}

int pol_parse_policies(struct pol_set *s, const char *name, const unsigned char *text, size_t len)
{
	return each_doc(s, name, text, len, policy_or_list);
}

static void ns_add(struct pol_set *s, const char *name)
{
	struct pol_namespace *ns = VEC_PUSH(s->ns, s->nns);

	snprintf(ns->name, sizeof(ns->name), "%s", name);
	ns->labels.k[0] = strdup("kubernetes.io/metadata.name");
	ns->labels.v[0] = strdup(name);
	ns->labels.n = 1;
}

static int addr_parse(const struct px *x, const yaml_node_t *n, struct pol_addr *a)
{
	struct opt_cidrs one = { 0 };
	const char *s = scalar(n), *why = "expected a string";

	if (!s || strchr(s, '/') || strchr(s, ',') || opts_parse_cidrs(s, &one, &why)) {
		perr(x, n, "invalid address '%s': %s", s ?: "", s && strchr(s, '/') ? "an address, not a CIDR" : why);
		return -EINVAL;
	}
	a->family = one.v[0].family;
	memcpy(a->addr, one.v[0].addr, 16);
	return 0;
}

static int workload_parse(const struct px *x, const yaml_node_t *n)
{
	static const char *const keys[] = { "name", "namespace", "labels", "netns", "cgroup", "ports",
		"addresses", NULL };
	struct pol_workload *w = VEC_PUSH(x->s->wl, x->s->nwl);
	yaml_node_t *v;

	w->loc = loc_of(x, n);
	if (want(x, n, YAML_MAPPING_NODE, "workload") || check_keys(x, n, "a workload", keys))
		return -EINVAL;
	if (!get(x, n, "name")) {
		perr(x, n, "workload needs a 'name'");
		return -EINVAL;
	}
	if (get_str(x, get(x, n, "name"), "name", w->name, sizeof(w->name)))
		return -EINVAL;
	strcpy(w->ns, "default");
	if ((v = get(x, n, "namespace")) && get_str(x, v, "namespace", w->ns, sizeof(w->ns)))
		return -EINVAL;
	for (int i = 0; i < x->s->nwl - 1; i++)
		if (!strcmp(x->s->wl[i].name, w->name) && !strcmp(x->s->wl[i].ns, w->ns)) {
			perr(x, n, "duplicate workload '%s/%s'", w->ns, w->name);
			return -EINVAL;
		}
	if ((v = get(x, n, "labels")) && labels_parse(x, v, "labels", &w->labels))
		return -EINVAL;
	if ((v = get(x, n, "netns")) && get_str(x, v, "netns", w->netns, sizeof(w->netns)))
		return -EINVAL;
	if ((v = get(x, n, "cgroup")) && get_str(x, v, "cgroup", w->cgroup, sizeof(w->cgroup)))
		return -EINVAL;
	if (!w->netns[0] == !w->cgroup[0]) {
		perr(x, n, "workload '%s' needs exactly one of 'netns' or 'cgroup'", w->name);
		return -EINVAL;
	}
	if (w->netns[0] && strchr(w->netns, '/')) {
		perr(x, get(x, n, "netns"), "invalid netns '%s': a name under /run/netns", w->netns);
		return -EINVAL;
	}
	if ((v = get(x, n, "ports")) && !is_null(v)) {
		if (want(x, v, YAML_MAPPING_NODE, "ports"))
			return -EINVAL;
		/* name: 8080 (TCP) or name: {port: 53, protocol: UDP} */
		for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node(x, p->key), *pv = node(x, p->value);
			const char *ks = scalar(k);
			struct pol_wlport *wp;
			unsigned long port;

			if (!ks || !port_name_ok(ks)) {
				perr(x, k, "invalid port name '%s' (at most 15 of a-z 0-9 -, with a letter)", ks ?: "");
				return -EINVAL;
			}
			if (w->nports == POL_WL_PORTS_MAX) {
				perr(x, k, "too many named ports (at most %d)", POL_WL_PORTS_MAX);
				return -EINVAL;
			}
			wp = &w->ports[w->nports++];
			snprintf(wp->name, sizeof(wp->name), "%s", ks);
			wp->proto = IPPROTO_TCP;
			if (pv->type == YAML_MAPPING_NODE) {
				static const char *const pk[] = { "port", "protocol", NULL };

				if (check_keys(x, pv, "a named port", pk) ||
				    proto_parse(x, get(x, pv, "protocol"), &wp->proto))
					return -EINVAL;
				if (!get(x, pv, "port")) {
					perr(x, pv, "named port '%s' needs a 'port'", ks);
					return -EINVAL;
				}
				pv = get(x, pv, "port");
			}
			if (get_uint(x, pv, "port", 1, 65535, &port))
				return -EINVAL;
			wp->port = port;
			for (int i = 0; i < w->nports - 1; i++)
				if (!strcmp(w->ports[i].name, ks)) {
					perr(x, k, "duplicate named port '%s'", ks);
					return -EINVAL;
				}
		}
	}
	if ((v = get(x, n, "addresses")) && !is_null(v)) {
		if (want(x, v, YAML_SEQUENCE_NODE, "addresses"))
			return -EINVAL;
		for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
			if (w->naddrs == POL_WL_ADDRS_MAX) {
				perr(x, node(x, *it), "too many addresses (at most %d)", POL_WL_ADDRS_MAX);
				return -EINVAL;
			}
			if (addr_parse(x, node(x, *it), &w->addrs[w->naddrs++]))
				return -EINVAL;
		}
	}
	if (w->cgroup[0] && !w->naddrs) {
		perr(x, n, "cgroup workload '%s' needs 'addresses' (what its peers see it as)", w->name);
		return -EINVAL;
	}
	return 0;
}

static int workloads_doc(const struct px *x, const yaml_node_t *root)
{
	static const char *const keys[] = { "namespaces", "workloads", NULL };
	static const char *const nkeys[] = { "name", "labels", NULL };
	yaml_node_t *nss, *wls;

	if (want(x, root, YAML_MAPPING_NODE, "document") || check_keys(x, root, "a workloads file", keys))
		return -EINVAL;
	nss = get(x, root, "namespaces");
	if (nss && !is_null(nss)) {
		if (want(x, nss, YAML_SEQUENCE_NODE, "namespaces"))
			return -EINVAL;
		for (yaml_node_item_t *it = nss->data.sequence.items.start; it < nss->data.sequence.items.top; it++) {
			yaml_node_t *n = node(x, *it), *l;
			char name[POL_NAME_MAX];

			if (want(x, n, YAML_MAPPING_NODE, "namespace") ||
			    check_keys(x, n, "a namespace", nkeys))
				return -EINVAL;
			if (!get(x, n, "name")) {
				perr(x, n, "namespace needs a 'name'");
				return -EINVAL;
			}
			if (get_str(x, get(x, n, "name"), "name", name, sizeof(name)))
				return -EINVAL;
			if (pol_ns_find(x->s, name)) {
				perr(x, n, "duplicate namespace '%s'", name);
				return -EINVAL;
			}
			ns_add(x->s, name);
			if ((l = get(x, n, "labels")) &&
			    labels_parse(x, l, "labels", &x->s->ns[x->s->nns - 1].labels))
				return -EINVAL;
		}
	}
	wls = get(x, root, "workloads");
	if (!wls || is_null(wls)) {
		perr(x, root, "no 'workloads' in the workloads file");
		return -EINVAL;
	}
	if (want(x, wls, YAML_SEQUENCE_NODE, "workloads"))
		return -EINVAL;
	for (yaml_node_item_t *it = wls->data.sequence.items.start; it < wls->data.sequence.items.top; it++)
		if (workload_parse(x, node(x, *it)))
			return -EINVAL;
	/* A namespace only named by a workload exists with its name label only. */
	for (int i = 0; i < x->s->nwl; i++)
		if (!pol_ns_find(x->s, x->s->wl[i].ns))
			ns_add(x->s, x->s->wl[i].ns);
	if (x->s->nwl > POL_MAX_WL) {
		perr(x, wls, "too many workloads (at most %d)", POL_MAX_WL);
		return -EINVAL;
	}
	return 0;
}

int pol_parse_workloads(struct pol_set *s, const char *name, const unsigned char *text, size_t len)
{
	return each_doc(s, name, text, len, workloads_doc);
}

int pol_load_file(struct pol_set *s, const char *path, bool workloads)
{
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0) {
		ebee_err("cannot read '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	for (;;) {
		if (len == cap) {
			unsigned char *p = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!p) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = p;
		}
		n = read(fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += n;
	}
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err) {
		ebee_err("cannot read '%s': %s", path, strerror(-err));
		free(buf);
		return -EINVAL;
	}
	err = workloads ? pol_parse_workloads(s, path, buf, len) : pol_parse_policies(s, path, buf, len);
	free(buf);
	return err;
}

static void labels_free(struct pol_labels *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->k[i]);
		free(l->v[i]);
	}
}

static void selector_free(struct pol_selector *s)
{
	labels_free(&s->match);
	for (int i = 0; i < s->nexpr; i++) {
		free(s->expr[i].key);
		for (int j = 0; j < s->expr[i].nvals; j++)
			free(s->expr[i].vals[j]);
	}
}

void pol_set_free(struct pol_set *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->npol; i++) {
		struct pol_policy *p = &s->pol[i];

		selector_free(&p->sel);
		for (int d = 0; d < 2; d++) {
			for (int r = 0; r < p->nrules[d]; r++) {
				struct pol_rule *ru = &p->rules[d][r];

				for (int j = 0; j < ru->npeers; j++) {
					selector_free(&ru->peers[j].pod);
					selector_free(&ru->peers[j].ns);
				}
				free(ru->peers);
				free(ru->ports);
			}
			free(p->rules[d]);
		}
	}
	for (int i = 0; i < s->nns; i++)
		labels_free(&s->ns[i].labels);
	for (int i = 0; i < s->nwl; i++)
		labels_free(&s->wl[i].labels);
	for (int i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	free(s->pol);
	free(s->ns);
	free(s->wl);
	memset(s, 0, sizeof(*s));
}
