// SPDX-License-Identifier: BSD-2-Clause
/* The event ring and the SSE clients of /api/events (stream.h). Runs on the loop's thread, as all
 * of serve does. A client with nothing to read is suspended (libmicrohttpd's suspend/resume), so
 * idle streams cost nothing; new events and the keepalive timer resume them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "core/collector.h"
#include "core/ebee.h"
#include <linux/types.h>
#include "core/event.h"
#include "core/field.h"
#include "core/json.h"
#include "serve/route.h"
#include "serve/stream.h"

/* An event as kept: this header, its rule (NUL-terminated, rule_len bytes with the NUL), then
 * its JSON (len bytes), padded to 8. */
struct rec {
	uint64_t id;
	uint32_t len;
	uint16_t type;
	int8_t prio;
	uint8_t rule_len;
};

#define RULE_MAX 128

struct client {
	struct stream *st;
	struct MHD_Connection *conn;
	struct client *next_c, **pprev;
	uint64_t next;                 /* id of the next event to consider */
	bool started, suspended;
	uint64_t last_write_ns;
	struct route f;                /* the filters */
	bool types[EV__MAX];
	size_t off, len;
	char buf[STREAM_SLOT + 256];
};

/* The ring: records one after the other in buf, none wrapping (one that does not fit before
 * the end goes to the start, the tail left unused); the oldest are dropped as the new ones
 * need their bytes, or past cap events. off[id % cap] is where event id is. */
struct stream {
	uint32_t *off;
	char *buf;
	size_t size, head;             /* buf's bytes (the bound); where the next record goes */
	unsigned cap, max_clients, nclients;
	uint64_t first_id;             /* the oldest event kept */
	uint64_t next_id;              /* the id the next event gets (ids start at 1) */
	uint64_t refused, truncated;
	struct client *clients;
	bool closing;
	void (*on_resume)(void *);     /* tells the HTTP thread (stream_on_resume) */
	void *on_resume_arg;
	char json[STREAM_SLOT];        /* an event rendered, before it is copied in */
};

struct stream *stream_new(unsigned events, unsigned max_clients)
{
	struct stream *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->cap = events ? events : STREAM_DEFAULT_EVENTS;
	st->max_clients = max_clients ? max_clients : STREAM_DEFAULT_CLIENTS;
	st->next_id = st->first_id = 1;
	/* room for a few of the longest records whatever the count */
	st->size = (size_t)st->cap * STREAM_EVENT_BYTES;
	if (st->size < 4 * (STREAM_SLOT + sizeof(struct rec) + RULE_MAX))
		st->size = 4 * (STREAM_SLOT + sizeof(struct rec) + RULE_MAX);
	st->off = calloc(st->cap, sizeof(*st->off));
	st->buf = malloc(st->size);
	if (!st->off || !st->buf) {
		stream_free(st);
		return NULL;
	}
	return st;
}

void stream_close_all(struct stream *st)
{
	st->closing = true;
	for (struct client *c = st->clients; c; c = c->next_c)
		if (c->suspended) {
			c->suspended = false;
			MHD_resume_connection(c->conn);
		}
}

void stream_free(struct stream *st)
{
	if (!st)
		return;
	/* Clients are freed by their responses' free callbacks (MHD_stop_daemon, first). */
	for (struct client *c = st->clients; c; c = c->next_c)
		c->st = NULL;
	free(st->off);
	free(st->buf);
	free(st);
}

static uint64_t oldest(const struct stream *st)
{
	return st->first_id;
}

static struct rec *rec_of(const struct stream *st, uint64_t id)
{
	return (struct rec *)(st->buf + st->off[id % st->cap]);
}

/* Room for a record of need bytes: drops the oldest events whose bytes it takes (or whose
 * slot of off, past cap events). Records at or after head are the older lap's. */
static struct rec *reserve(struct stream *st, size_t need)
{
	size_t pos = st->head;

	if (st->next_id - st->first_id >= st->cap)
		st->first_id = st->next_id - st->cap + 1;
	if (pos + need > st->size) {
		while (st->first_id < st->next_id && st->off[st->first_id % st->cap] >= pos)
			st->first_id++;
		pos = 0;
	}
	while (st->first_id < st->next_id && st->off[st->first_id % st->cap] >= pos &&
	       st->off[st->first_id % st->cap] < pos + need)
		st->first_id++;
	st->head = pos + need;
	st->off[st->next_id % st->cap] = (uint32_t)pos;
	return (struct rec *)(st->buf + pos);
}

/* A text field of the event by one of its usual names (guard's alerts carry rule/priority). */
static void field_of(const struct ebee_event_hdr *ev, const struct ebee_event_desc *d,
		     const char *const *names, char *buf, size_t len)
{
	buf[0] = 0;
	for (; d && *names; names++) {
		const struct ebee_field *f = event_field(d, *names);

		if (f) {
			field_text(f, ev, buf, len);
			return;
		}
	}
}

void stream_on_event(void *arg, const struct ebee_event_hdr *ev)
{
	static const char *const rule_names[] = { "rule", "alert.rule", NULL };
	static const char *const prio_names[] = { "priority", "alert.priority", "evt.priority", NULL };
	struct stream_src *src = arg;
	struct stream *st = src->st;
	const struct ebee_event_desc *d = event_desc(ev->type);
	uint64_t id = st->next_id;
	char prio[32], rule[RULE_MAX];
	size_t len, rlen;
	struct rec *r;
	int p;
	struct jw w;

	field_of(ev, d, rule_names, rule, sizeof(rule));
	field_of(ev, d, prio_names, prio, sizeof(prio));
	p = route_prio(prio);
	jw_init_buf(&w, st->json, sizeof(st->json));
	jw_obj_begin(&w);
	jw_ku64(&w, "id", id);
	jw_kstr(&w, "collector", src->c->desc->name);
	collector_event_json(src->c, &w, ev);
	jw_obj_end(&w);
	len = jw_finish(&w);
	if (w.truncated)
		st->truncated++;
	rlen = strlen(rule) + 1;
	r = reserve(st, (sizeof(*r) + rlen + len + 7) & ~(size_t)7);
	*r = (struct rec){ .id = id, .len = (uint32_t)len, .type = ev->type,
			   .prio = (int8_t)(p < 0 ? P_NONE : p), .rule_len = (uint8_t)rlen };
	memcpy(r + 1, rule, rlen);
	memcpy((char *)(r + 1) + rlen, st->json, len);
	st->next_id++;
	stream_wake(st, false);
}

static bool wanted(const struct client *c, const struct rec *e)
{
	if (c->f.ntypes && (e->type >= EV__MAX || !c->types[e->type]))
		return false;
	if (c->f.rule[0] && strcmp(c->f.rule, (const char *)(e + 1)))
		return false;
	if (c->f.prio != P_NONE && e->prio > c->f.prio)
		return false;
	return true;
}

static void put(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct client *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->buf + c->len, sizeof(c->buf) - c->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->len += (size_t)n < sizeof(c->buf) - c->len ? (size_t)n : sizeof(c->buf) - c->len - 1;
}

/* Fills c->buf with what the client gets next: the start, a gap notice, or one event. */
static void next_chunk(struct client *c)
{
	struct stream *st = c->st;

	c->off = c->len = 0;
	if (!c->started) {
		c->started = true;
		put(c, "retry: 1000\n: ebee event stream\n\n");
		return;
	}
	if (c->next > st->next_id)    /* an id from before a restart: send what is kept */
		c->next = oldest(st);
	if (c->next < oldest(st)) {
		char data[160];
		struct jw w;

		jw_init_buf(&w, data, sizeof(data));
		jw_obj_begin(&w);
		jw_ku64(&w, "missed", oldest(st) - c->next);
		jw_ku64(&w, "first_id", c->next);
		jw_ku64(&w, "next_id", oldest(st));
		jw_obj_end(&w);
		jw_finish(&w);
		put(c, "event: gap\ndata: %s\n\n", data);
		c->next = oldest(st);
		return;
	}
	for (; c->next < st->next_id; c->next++) {
		const struct rec *e = rec_of(st, c->next);
		const struct ebee_event_desc *d;

		if (!wanted(c, e))
			continue;
		d = event_desc(e->type);
		put(c, "id: %llu\nevent: %s\ndata: %.*s\n\n", (unsigned long long)e->id,
		    d ? d->name : "event", (int)e->len, (const char *)(e + 1) + e->rule_len);
		c->next++;
		return;
	}
	if (ebee_now_ns() - c->last_write_ns >= STREAM_KEEPALIVE_S * 1000000000ull)
		put(c, ": keepalive\n\n");
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct client *c = cls;
	size_t n;

	(void)pos;
	if (!c->st || c->st->closing)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (c->off == c->len)
		next_chunk(c);
	if (c->off == c->len) {
		/* Nothing to say: wait for an event or the keepalive, without polling. */
		c->suspended = true;
		MHD_suspend_connection(c->conn);
		return 0;
	}
	n = c->len - c->off < max ? c->len - c->off : max;
	memcpy(buf, c->buf + c->off, n);
	c->off += n;
	c->last_write_ns = ebee_now_ns();
	return (ssize_t)n;
}

static void client_free(void *cls)
{
	struct client *c = cls;

	if (c->st) {
		*c->pprev = c->next_c;
		if (c->next_c)
			c->next_c->pprev = c->pprev;
		c->st->nclients--;
	}
	free(c);
}

struct MHD_Response *stream_open(struct stream *st, struct MHD_Connection *conn, const struct route *r,
				 unsigned *code, const char **why)
{
	struct MHD_Response *resp;
	struct client *c;

	if (st->nclients >= st->max_clients) {
		st->refused++;
		*code = MHD_HTTP_SERVICE_UNAVAILABLE;
		*why = "too many event streams (max_streams)";
		return NULL;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		*code = MHD_HTTP_SERVICE_UNAVAILABLE;
		*why = "out of memory";
		return NULL;
	}
	c->f = *r;
	for (int i = 0; i < r->ntypes; i++) {
		const struct ebee_event_desc *d = event_desc_by_name(r->types[i]);

		if (!d || d->type >= EV__MAX) {
			free(c);
			*code = MHD_HTTP_BAD_REQUEST;
			*why = "unknown event type in type=";
			return NULL;
		}
		c->types[d->type] = true;
	}
	c->st = st;
	c->conn = conn;
	c->next = r->have_last ? r->last_id + 1 : st->next_id;
	c->last_write_ns = ebee_now_ns();
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, sizeof(c->buf), reader, c, client_free);
	if (!resp) {
		free(c);
		*code = MHD_HTTP_SERVICE_UNAVAILABLE;
		*why = "out of memory";
		return NULL;
	}
	c->next_c = st->clients;
	if (st->clients)
		st->clients->pprev = &c->next_c;
	c->pprev = &st->clients;
	st->clients = c;
	st->nclients++;
	/* A stream is idle by design: the keepalive, not the connection timeout, finds dead peers. */
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	return resp;
}

void stream_on_resume(struct stream *st, void (*fn)(void *), void *arg)
{
	st->on_resume = fn;
	st->on_resume_arg = arg;
}

void stream_wake(struct stream *st, bool keepalive)
{
	uint64_t now = ebee_now_ns();
	bool any = false;

	for (struct client *c = st->clients; c; c = c->next_c) {
		if (!c->suspended)
			continue;
		if (keepalive && now - c->last_write_ns < STREAM_KEEPALIVE_S * 1000000000ull)
			continue;
		c->suspended = false;
		MHD_resume_connection(c->conn);
		any = true;
	}
	if (any && st->on_resume)
		st->on_resume(st->on_resume_arg);
}

uint64_t stream_last_id(const struct stream *st) { return st->next_id - 1; }
unsigned stream_clients(const struct stream *st) { return st->nclients; }
uint64_t stream_refused(const struct stream *st) { return st->refused; }
uint64_t stream_truncated(const struct stream *st) { return st->truncated; }
