// SPDX-License-Identifier: BSD-2-Clause
/* `ebee top` full-screen view (ncurses). Driven by the core loop: the tick samples and
 * redraws, stdin readiness handles keys. endwin() runs on every exit path (signals arrive
 * through the loop's signalfd, so they take the same path). */
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/loop.h"
#include "top/top.h"

#define MIN_COLS 60
#define MIN_LINES 10
#define GRAPH_LINES 14

struct view {
	struct ebee_ctx *ctx;
	struct top_cfg *cfg;
	struct top_model *m;
	struct ebee_loop *l;
	enum top_sort key;
	bool asc, paused, graph, editing;
	struct top_filter f;
	char edit[64];
	int *idx, idx_cap, nshown;
	uint32_t sel_id;      /* selected program, 0 = none (first row) */
	int sel, top;         /* selected row index and first visible row */
	int err;
	const char *bar;      /* "█" on UTF-8 terminals, "#" elsewhere */
};

static const char *const heads[SORT__N] = {
	[SORT_ID] = "ID", [SORT_TYPE] = "TYPE", [SORT_NAME] = "NAME", [SORT_OWNER] = "OWNER",
	[SORT_ATTACH] = "ATTACH", [SORT_RUNS] = "RUNS/s", [SORT_NS] = "NS/RUN",
	[SORT_NS_TOTAL] = "NS/RUN*", [SORT_CPU] = "CPU%",
};

/* Column layout: width (negative = left aligned) per sort key, in display order. */
static const struct { enum top_sort key; int w; } layout[] = {
	{ SORT_ID, 6 }, { SORT_TYPE, -13 }, { SORT_NAME, -16 }, { SORT_OWNER, -16 },
	{ SORT_RUNS, 9 }, { SORT_NS, 8 }, { SORT_NS_TOTAL, 8 }, { SORT_CPU, 6 }, { SORT__N, 7 } /* CPU%ALL */,
	{ SORT_ATTACH, -40 },
};

static int reorder(struct view *v)
{
	if (v->idx_cap < v->m->n) {
		int *p = realloc(v->idx, sizeof(*p) * (v->m->n + 1));
		if (!p)
			return -ENOMEM;
		v->idx = p;
		v->idx_cap = v->m->n;
	}
	v->nshown = top_order(v->m, &v->f, v->key, v->asc, v->idx);
	/* keep the selection on the same program when rows move */
	v->sel = v->nshown ? (v->sel < v->nshown ? v->sel : v->nshown - 1) : 0;
	for (int i = 0; v->sel_id && i < v->nshown; i++)
		if (v->m->rows[v->idx[i]].p.id == v->sel_id) {
			v->sel = i;
			break;
		}
	if (v->nshown)
		v->sel_id = v->m->rows[v->idx[v->sel]].p.id;
	return 0;
}

static void cell(int y, int *x, int w, const char *s, int maxx)
{
	int aw = w < 0 ? -w : w;
	if (*x >= maxx)
		return;
	if (aw > maxx - *x)
		aw = maxx - *x;
	mvprintw(y, *x, w < 0 ? "%-*.*s" : "%*.*s", aw, aw, s);
	*x += aw + 1;
}

static void fmt_row(const struct top_row *r, enum top_sort k, bool all_cpu, char *b, size_t len)
{
	char t[40];

	if (all_cpu) {
		if (r->have_rate)
			snprintf(b, len, "%.3f", r->cpu_all);
		else
			snprintf(b, len, "-");
		return;
	}
	switch (k) {
	case SORT_ID: snprintf(b, len, "%u", r->p.id); break;
	case SORT_TYPE: snprintf(b, len, "%s", ps_type_name(r->p.type, t, sizeof(t))); break;
	case SORT_NAME: snprintf(b, len, "%s", r->p.name[0] ? r->p.name : "(unnamed)"); break;
	case SORT_OWNER:
		if (r->p.owner_pid)
			snprintf(b, len, "%u/%s", r->p.owner_pid, r->p.owner_comm);
		else
			snprintf(b, len, "-");
		break;
	case SORT_ATTACH: snprintf(b, len, "%s", r->p.attach[0] ? r->p.attach : "-"); break;
	case SORT_RUNS:
		if (r->have_rate)
			snprintf(b, len, "%.0f", r->runs_s);
		else
			snprintf(b, len, "-");
		break;
	case SORT_NS:
		if (r->have_rate && r->d_runs)
			snprintf(b, len, "%.0f", r->ns_run);
		else
			snprintf(b, len, "-");
		break;
	case SORT_NS_TOTAL:
		if (r->p.run_cnt)
			snprintf(b, len, "%.0f", r->ns_total);
		else
			snprintf(b, len, "-");
		break;
	case SORT_CPU:
		if (r->have_rate)
			snprintf(b, len, "%.2f", r->cpu);
		else
			snprintf(b, len, "-");
		break;
	default: b[0] = '\0';
	}
}

static void draw_graph(struct view *v, const struct top_row *r, int y0, int h, bool ns)
{
	int w = COLS - 12, n = r->h_n < w ? r->h_n : w;
	const float *h_v = ns ? r->h_ns : r->h_cpu;
	float max = 0;

	for (int i = 0; i < n; i++) {
		float x = h_v[(r->h_pos - 1 - i + 2 * TOP_HIST) % TOP_HIST];
		if (x > max)
			max = x;
	}
	if (max <= 0) {
		mvprintw(y0, 0, "%s of %u %s: no runs in the last %d samples", ns ? "ns/run" : "CPU%",
			 r->p.id, r->p.name, n);
		return;
	}
	mvprintw(y0, 0, "%s of %u %s (max %.*f over the last %d samples)", ns ? "ns/run" : "CPU%",
		 r->p.id, r->p.name, ns ? 0 : 3, max, n);
	for (int row = 0; row < h; row++) {
		float lvl = max * (h - row) / h;
		mvprintw(y0 + 1 + row, 0, "%9.*f |", ns ? 0 : 3, lvl);
	}
	/* newest sample on the right */
	for (int i = 0; i < n; i++) {
		float x = h_v[(r->h_pos - 1 - i + 2 * TOP_HIST) % TOP_HIST];
		int bars = (int)(x / max * h + 0.5f);
		int col = 11 + w - 1 - i;
		for (int k = 0; k < bars && k < h; k++)
			mvaddstr(y0 + h - k, col, v->bar);
	}
}

static void draw(struct view *v)
{
	struct top_model *m = v->m;
	char st[160], b[PS_ATTACH_LEN + 8];
	int y = 0, x, list_h, graph_h = 0;

	erase();
	if (COLS < MIN_COLS || LINES < MIN_LINES) {
		mvprintw(0, 0, "terminal too small (%dx%d, need %dx%d); q quits", COLS, LINES, MIN_COLS, MIN_LINES);
		refresh();
		return;
	}
	mvprintw(y++, 0, "ebee top - %d programs (%d shown, +%d -%d) - every %.3gs - %s%s", m->n,
		 v->nshown, m->appeared, m->vanished, v->cfg->interval, ps_stats_describe(&m->stats, st, sizeof(st)),
		 v->paused ? " - PAUSED" : "");
	mvprintw(y++, 0, "sort %s %s%s%s - NS/RUN* since load; stats bookkeeping adds a little to each run",
		 top_sort_name(v->key), v->asc ? "asc" : "desc", v->f.text[0] ? " - filter " : "", v->f.text);
	if (v->editing)
		mvprintw(y - 1, 0, "filter (type:X name:X owner:X or text, Enter/Esc): %s_%*s", v->edit, COLS, "");
	x = 0;
	attron(A_REVERSE);
	mvprintw(y, 0, "%*s", COLS, "");
	for (size_t i = 0; i < ARRAY_SIZE(layout); i++) {
		const char *h = layout[i].key == SORT__N ? "CPU%ALL" : heads[layout[i].key];
		if (layout[i].key == v->key)
			attron(A_BOLD | A_UNDERLINE);
		cell(y, &x, layout[i].w, h, COLS);
		if (layout[i].key == v->key)
			attroff(A_BOLD | A_UNDERLINE);
	}
	attroff(A_REVERSE);
	y++;
	if (v->graph && v->nshown)
		graph_h = GRAPH_LINES < LINES - y - 4 ? GRAPH_LINES : 0;
	list_h = LINES - y - 1 - graph_h;
	if (v->sel < v->top)
		v->top = v->sel;
	if (v->sel >= v->top + list_h)
		v->top = v->sel - list_h + 1;
	for (int i = v->top; i < v->nshown && y < LINES - 1 - graph_h; i++, y++) {
		const struct top_row *r = &m->rows[v->idx[i]];
		x = 0;
		if (i == v->sel)
			attron(A_REVERSE);
		for (size_t c = 0; c < ARRAY_SIZE(layout); c++) {
			fmt_row(r, layout[c].key, layout[c].key == SORT__N, b, sizeof(b));
			int w = layout[c].w;
			if (layout[c].key == SORT_ATTACH)   /* the last column takes what is left */
				w = -(COLS - x > 1 ? COLS - x : 1);
			cell(y, &x, w, b, COLS);
		}
		if (i == v->sel)
			attroff(A_REVERSE);
	}
	if (!v->nshown)
		mvprintw(y, 0, m->n ? "no program matches the filter" : "no BPF programs loaded");
	if (graph_h) {
		const struct top_row *r = &m->rows[v->idx[v->sel]];
		int gh = (graph_h - 2) / 2;
		draw_graph(v, r, LINES - 1 - graph_h, gh, false);
		draw_graph(v, r, LINES - 1 - graph_h + gh + 1, gh, true);
	}
	attron(A_REVERSE);
	mvprintw(LINES - 1, 0, "%-*.*s", COLS, COLS,
		 " q quit  < > sort  r reverse  / filter  p pause  up/down select  Enter graph  Esc back");
	attroff(A_REVERSE);
	refresh();
}

static void key(struct view *v, int ch)
{
	if (v->editing) {
		size_t n = strlen(v->edit);
		if (ch == '\n' || ch == KEY_ENTER || ch == 27) {
			if (ch != 27)
				snprintf(v->f.text, sizeof(v->f.text), "%s", v->edit);
			v->editing = false;
		} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
			if (n)
				v->edit[n - 1] = '\0';
		} else if (ch >= 32 && ch < 127 && n + 1 < sizeof(v->edit)) {
			v->edit[n] = (char)ch;
			v->edit[n + 1] = '\0';
		}
		return;
	}
	switch (ch) {
	case 'q': case 'Q':
		loop_stop(v->l);
		break;
	case '>': case '.':
		v->key = (v->key + 1) % SORT__N;
		break;
	case '<': case ',':
		v->key = (v->key + SORT__N - 1) % SORT__N;
		break;
	case 'r':
		v->asc = !v->asc;
		break;
	case 'p': case ' ':
		v->paused = !v->paused;
		break;
	case '/':
		v->editing = true;
		snprintf(v->edit, sizeof(v->edit), "%s", v->f.text);
		break;
	case KEY_UP: case 'k':
		if (v->sel > 0)
			v->sel--;
		break;
	case KEY_DOWN: case 'j':
		if (v->sel + 1 < v->nshown)
			v->sel++;
		break;
	case KEY_PPAGE:
		v->sel = v->sel > LINES / 2 ? v->sel - LINES / 2 : 0;
		break;
	case KEY_NPAGE:
		v->sel = v->sel + LINES / 2 < v->nshown ? v->sel + LINES / 2 : (v->nshown ? v->nshown - 1 : 0);
		break;
	case '\n': case KEY_ENTER: case 'g':
		v->graph = !v->graph;
		break;
	case 27:
		v->graph = false;
		v->f.text[0] = '\0';
		break;
	default:
		return;
	}
	if (v->sel < v->nshown)
		v->sel_id = v->m->rows[v->idx[v->sel]].p.id;
}

static void handle_keys(struct view *v)
{
	int ch;
	bool any = false;

	while ((ch = getch()) != ERR) {
		if (ch != KEY_RESIZE) {
			key(v, ch);
			v->sel_id = 0;
			if (v->sel < v->nshown && v->nshown)
				v->sel_id = v->m->rows[v->idx[v->sel]].p.id;
		}
		any = true;
	}
	if (any) {
		v->err = reorder(v);
		draw(v);
	}
}

static int on_stdin(struct ebee_loop *l, int fd, uint32_t events, void *arg)
{
	struct view *v = arg;
	if (events & (EPOLLHUP | EPOLLERR)) {
		loop_stop(l);   /* the terminal went away */
		return 0;
	}
	handle_keys(v);
	return v->err;
}

static int on_tick(struct ebee_loop *l, void *arg)
{
	struct view *v = arg;
	int err;

	if (!v->paused) {
		if ((err = top_sample(v->m)))
			return err;
		if ((err = reorder(v)))
			return err;
	}
	draw(v);
	handle_keys(v);   /* also picks up KEY_RESIZE after SIGWINCH */
	return v->err;
}

int top_view_run(struct ebee_ctx *ctx, struct top_cfg *cfg, struct top_model *m, struct ebee_loop *l,
		 enum top_sort key)
{
	struct view v = { .ctx = ctx, .cfg = cfg, .m = m, .l = l, .key = key, .asc = cfg->asc };
	int err;

	v.f.type = cfg->type;
	v.f.name = cfg->name;
	v.f.owner = cfg->owner;
	setlocale(LC_ALL, "");
	v.bar = strcmp(nl_langinfo(CODESET), "UTF-8") ? "#" : "\u2588";
	if (!initscr()) {
		ebee_err("cannot start the full-screen view (TERM=%s); try --batch", getenv("TERM") ?: "");
		return -ENOTTY;
	}
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	if ((err = reorder(&v)))
		goto out;
	draw(&v);
	if ((err = loop_add_fd(l, STDIN_FILENO, EPOLLIN, on_stdin, &v)))
		goto out;
	if ((err = loop_set_tick(l, cfg->interval, on_tick, &v)))
		goto out;
	err = loop_run(l);
	loop_del_fd(l, STDIN_FILENO);
out:
	endwin();
	free(v.idx);
	return err;
}
