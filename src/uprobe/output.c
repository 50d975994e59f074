// SPDX-License-Identifier: BSD-2-Clause
/* ebee uprobe output: one row per call (table or JSON lines through core/out.h) and the
 * per-function summary read from the kernel's counters at exit. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <string.h>

#include "core/load.h"
#include "uprobe/session.h"
#include "uprobe/uprobe.skel.h"

enum { C_TIME, C_PID, C_TID, C_GOID, C_FUNC, C_LATNS, C_LATUS, C_RETJ, C_RETT, C_ARGSJ, C_ARGST };
static const struct out_col ev_cols[] = {
	[C_TIME]  = { "time", "TIME", OUT_STR, -15, 0 },
	[C_PID]   = { "pid", "PID", OUT_U64, 7, 0 },
	[C_TID]   = { "tid", "TID", OUT_U64, 7, 0 },
	[C_GOID]  = { "goid", "GOID", OUT_U64, 6, 0 },
	[C_FUNC]  = { "func", "FUNCTION", OUT_STR, -18, 0 },
	[C_LATNS] = { "lat_ns", "LAT_NS", OUT_U64, 0, 0 },
	[C_LATUS] = { "lat_us", "LAT(us)", OUT_F64, 9, 1 },
	[C_RETJ]  = { "ret", "RET", OUT_RAW, 0, 0 },
	[C_RETT]  = { "ret_text", "RET", OUT_STR, -10, 0 },
	[C_ARGSJ] = { "args", "ARGS", OUT_RAW, 0, 0 },
	[C_ARGST] = { "args_text", "ARGS", OUT_STR, -1, 0 },
};

/* Per function; what was lost (ring buffer full) is the run's, in the closing summary. */
enum { S_FUNC, S_BIN, S_CALLS, S_RETS, S_UNM, S_GROWN, S_AVG };
static const struct out_col sum_cols[] = {
	[S_FUNC]  = { "func", "FUNCTION", OUT_STR, -24, 0 },
	[S_BIN]   = { "binary", "BINARY", OUT_STR, 0, 0 },
	[S_CALLS] = { "calls", "CALLS", OUT_U64, 10, 0 },
	[S_RETS]  = { "returns", "RETURNS", OUT_U64, 10, 0 },
	[S_UNM]   = { "unmatched", "UNMATCHED", OUT_U64, 10, 0 },
	[S_GROWN] = { "stack_grown", "STACKGROW", OUT_U64, 0, 0 },
	[S_AVG]   = { "avg_us", "AVG(us)", OUT_F64, 10, 1 },
};

/* --hist in JSON: one row per non-empty bucket [lo_ns, hi_ns). */
enum { H_FUNC, H_LO, H_HI, H_COUNT };
static const struct out_col hist_cols[] = {
	[H_FUNC]  = { "func", "FUNCTION", OUT_STR, -24, 0 },
	[H_LO]    = { "hist_lo_ns", "LO_NS", OUT_U64, 12, 0 },
	[H_HI]    = { "hist_hi_ns", "HI_NS", OUT_U64, 12, 0 },
	[H_COUNT] = { "count", "COUNT", OUT_U64, 10, 0 },
};

/* Quoted and escaped (valid JSON, readable in a table). */
static size_t quote(char *dst, size_t cap, const uint8_t *s, size_t n)
{
	size_t w = 0;

	if (cap < 8)
		return 0;
	dst[w++] = '"';
	for (size_t i = 0; i < n && w + 8 < cap; i++) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\') {
			dst[w++] = '\\';
			dst[w++] = (char)c;
		} else if (c == '\n') {
			dst[w++] = '\\';
			dst[w++] = 'n';
		} else if (c < 0x20 || c >= 0x7f) {
			w += snprintf(dst + w, cap - w, "\\u%04x", c);
		} else {
			dst[w++] = (char)c;
		}
	}
	dst[w++] = '"';
	dst[w] = 0;
	return w;
}

/* One value (slot i) as JSON (json=true) or as table text. */
static void fmt_value(const struct up_spec_arg *sa, const struct up_arg *la, const struct up_event *e,
		      int i, bool json, char *buf, size_t len)
{
	uint64_t v = e->val[i];
	int w = la->width ? la->width : 8;

	switch (sa->type) {
	case UP_T_INT:
		if (w < 8) {
			int sh = 64 - 8 * w;

			snprintf(buf, len, "%lld", (long long)((int64_t)(v << sh) >> sh));
		} else {
			snprintf(buf, len, "%lld", (long long)v);
		}
		return;
	case UP_T_UINT:
		if (w < 8)
			v &= (1ULL << (8 * w)) - 1;
		snprintf(buf, len, "%llu", (unsigned long long)v);
		return;
	case UP_T_BOOL:
		snprintf(buf, len, "%s", (v & 0xff) ? "true" : "false");
		return;
	case UP_T_PTR:
		snprintf(buf, len, json ? "\"0x%llx\"" : "0x%llx", (unsigned long long)v);
		return;
	case UP_T_STR:
	case UP_T_BYTES: {
		unsigned got = e->got[i];
		const uint8_t *d = e->data + (la->off & (UP_DATA_MAX - 1));
		size_t w2;

		if (!v && la->reg2 == UP_REG_NONE) {
			snprintf(buf, len, json ? "null" : "NULL");
			return;
		}
		if (got == UP_GOT_FAULT || (!v && e->len[i])) {
			snprintf(buf, len, json ? "null" : "(fault 0x%llx)", (unsigned long long)v);
			return;
		}
		if (got > la->size)
			got = la->size;
		if (sa->type == UP_T_STR) {
			w2 = quote(buf, len, d, got);
		} else {
			w2 = 0;
			buf[w2++] = '"';
			for (unsigned k = 0; k < got && w2 + 4 < len; k++)
				w2 += snprintf(buf + w2, len - w2, "%02x", d[k]);
			buf[w2++] = '"';
			buf[w2] = 0;
		}
		if (!json && la->reg2 != UP_REG_NONE && e->len[i] > got)
			snprintf(buf + w2, len - w2, "...(len %llu)", (unsigned long long)e->len[i]);
		return;
	}
	}
	snprintf(buf, len, json ? "null" : "-");
}

static void fmt_time(uint64_t ktime, bool json, char *buf, size_t len)
{
	char tmp[64];
	const char *t = ebee_fmt_time(ebee_ktime_to_real(ktime), tmp, sizeof(tmp));
	const char *c = strchr(t, 'T');

	if (json || !c) {
		snprintf(buf, len, "%s", t);
		return;
	}
	snprintf(buf, len, "%.15s", c + 1);   /* HH:MM:SS.uuuuuu */
}

int up_on_event(void *arg, void *data, size_t size)
{
	struct run *r = arg;
	struct up_event ev, *e = &ev;
	const struct probe *p;
	bool json = r->json;
	char val[4 * UP_SLOT_MAX + 64], args[2 * (4 * UP_SLOT_MAX + 64)], tbuf[64];
	size_t w = 0;

	/* events come without the unused tail of data */
	if (size < offsetof(struct up_event, data))
		return 0;
	memcpy(&ev, data, size < sizeof(ev) ? size : sizeof(ev));
	if (e->fn >= (uint32_t)r->nprobes)
		return 0;
	r->events++;
	if (!r->o)
		return 0;
	p = &r->probes[e->fn];
	fmt_time(e->ts, json, tbuf, sizeof(tbuf));
	out_str(r->o, C_TIME, tbuf);
	out_u64(r->o, C_PID, e->pid);
	out_u64(r->o, C_TID, e->tid);
	if (p->abi == UP_ABI_GO)
		out_u64(r->o, C_GOID, e->goid);
	out_str(r->o, C_FUNC, p->func);
	if (e->flags & UP_EV_RET) {
		out_u64(r->o, C_LATNS, e->lat_ns);
		out_f64(r->o, C_LATUS, e->lat_ns / 1000.0);
		if (p->args.ret.type != UP_T_NONE) {
			fmt_value(&p->args.ret, &p->layout.a[UP_RET], e, UP_RET, json, val, sizeof(val));
			if (json)
				out_raw(r->o, C_RETJ, val);
			else
				out_str(r->o, C_RETT, val);
		}
	}
	args[0] = 0;
	if (json)
		w += snprintf(args + w, sizeof(args) - w, "{");
	for (int i = 0; i < p->args.n && w < sizeof(args) - 1; i++) {
		const struct up_spec_arg *sa = &p->args.a[i];

		if (!strcmp(sa->name, "_"))
			continue;
		fmt_value(sa, &p->layout.a[i], e, i, json, val, sizeof(val));
		if (json)
			w += snprintf(args + w, sizeof(args) - w, "%s\"%s\":%s", w > 1 ? "," : "",
				      sa->name, val);
		else
			w += snprintf(args + w, sizeof(args) - w, "%s%s=%s", w ? " " : "", sa->name, val);
	}
	if (json) {
		if (w < sizeof(args) - 1)
			snprintf(args + w, sizeof(args) - w, "}");
		else
			snprintf(args, sizeof(args), "{}");
		out_raw(r->o, C_ARGSJ, args);
	} else {
		out_str(r->o, C_ARGST, args);
	}
	out_row(r->o);
	return 0;
}

void up_summary(struct run *r, struct out *o)
{
	struct out s, ho;
	int st_fd = bpf_map__fd(r->skel->maps.stats);
	int h_fd = bpf_map__fd(r->skel->maps.hist);
	bool agg = r->cfg->count || r->cfg->hist;

	out_init(&s, o->f, o->fmt, sum_cols, ARRAY_SIZE(sum_cols));
	if (!agg)
		out_hide(&s, S_AVG, true);
	out_init(&ho, o->f, OUT_JSON, hist_cols, ARRAY_SIZE(hist_cols));
	if (!r->json) {
		if (!agg)
			out_sep(&s, "--- summary ---");
		out_header(&s);
	}
	for (int i = 0; i < r->nprobes; i++) {
		const struct probe *p = &r->probes[i];
		uint64_t v[UP_NSTAT], h[UP_HIST_SLOTS];
		int top = -1;

		for (int k = 0; k < UP_NSTAT; k++)
			v[k] = ebee_percpu_sum(st_fd, i * UP_NSTAT + k);
		out_str(&s, S_FUNC, p->func);
		out_str(&s, S_BIN, p->bin->path);
		out_u64(&s, S_CALLS, v[UP_ST_ENTRY]);
		if (p->layout.has_ret) {
			out_u64(&s, S_RETS, v[UP_ST_RETURN]);
			out_u64(&s, S_UNM, v[UP_ST_UNMATCHED]);
			if (agg && v[UP_ST_RETURN] > v[UP_ST_UNMATCHED])
				out_f64(&s, S_AVG, v[UP_ST_LATSUM] / 1000.0 /
					(double)(v[UP_ST_RETURN] - v[UP_ST_UNMATCHED]));
		}
		if (p->abi == UP_ABI_GO)
			out_u64(&s, S_GROWN, v[UP_ST_GROWN]);
		if (r->cfg->hist) {
			for (int k = 0; k < UP_HIST_SLOTS; k++) {
				h[k] = ebee_percpu_sum(h_fd, i * UP_HIST_SLOTS + k);
				if (h[k])
					top = k;
			}
		}
		out_row(&s);
		/* slot k holds latencies in [2^k, 2^(k+1)) ns */
		for (int k = 0; r->cfg->hist && r->json && k <= top; k++) {
			if (!h[k])
				continue;
			out_str(&ho, H_FUNC, p->func);
			out_u64(&ho, H_LO, k ? 1ULL << k : 0);
			out_u64(&ho, H_HI, 1ULL << (k + 1));
			out_u64(&ho, H_COUNT, h[k]);
			out_row(&ho);
		}
		if (r->cfg->hist && !r->json && top >= 0) {
			uint64_t max = 1;
			int first = 0;

			while (!h[first])
				first++;
			for (int k = first; k <= top; k++)
				if (h[k] > max)
					max = h[k];
			/* buckets from the first to the last non-empty one, as bcc prints them */
			for (int k = first; k <= top; k++) {
				char bar[41];
				int n = (int)(h[k] * 40 / max);

				memset(bar, '*', n);
				bar[n] = 0;
				out_sep(&s, "  %12.3f -> %-12.3f us : %-8llu |%-40s|",
					k ? (double)(1ULL << k) / 1000.0 : 0.0,
					(double)(1ULL << (k + 1)) / 1000.0, (unsigned long long)h[k], bar);
			}
		}
	}
}

void up_events_init(struct run *r)
{
	bool json = r->json;

	out_init(r->o, r->o->f, r->o->fmt, ev_cols, ARRAY_SIZE(ev_cols));
	out_hide(r->o, json ? C_LATUS : C_LATNS, true);
	out_hide(r->o, json ? C_RETT : C_RETJ, true);
	out_hide(r->o, json ? C_ARGST : C_ARGSJ, true);
	if (!r->any_go)
		out_hide(r->o, C_GOID, true);
	if (r->ret.type == UP_T_NONE && !r->any_ret)
		out_hide(r->o, json ? C_RETJ : C_RETT, true);
}
