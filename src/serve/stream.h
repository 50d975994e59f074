/* SPDX-License-Identifier: BSD-2-Clause */
/* The daemon's event stream: every running collector's events (collector_emit), each rendered
 * once with an id into a bounded ring of bytes (records of their own length: at most `events`
 * of them and STREAM_EVENT_BYTES bytes per event), and the Server-Sent Events clients of
 * /api/events reading from it at their own pace. A client that falls further behind than the
 * ring is told how many events it missed and continues with the oldest kept: a slow or stuck
 * client never holds a collector back, and nothing is allocated per event. */
#ifndef EBEE_SERVE_STREAM_H
#define EBEE_SERVE_STREAM_H

#include <stdbool.h>
#include <stdint.h>

struct collector;
struct ebee_event_hdr;
struct MHD_Connection;
struct MHD_Response;
struct route;

#define STREAM_SLOT 4096          /* bytes of one rendered event (longer ones are cut, valid JSON) */
#define STREAM_DEFAULT_EVENTS 1024
/* the ring's bytes per event kept: events are a few hundred bytes, the longest 4 KiB, so a
 * ring of long events keeps fewer of them */
#define STREAM_EVENT_BYTES 1024
#define STREAM_DEFAULT_CLIENTS 64
#define STREAM_KEEPALIVE_S 15

struct stream;

struct stream *stream_new(unsigned events, unsigned max_clients);
void stream_free(struct stream *st);
/* Ends every stream (the daemon stops): resumes the waiting ones so that they can end. */
void stream_close_all(struct stream *st);
/* collector_subscribe() callback: arg is a struct stream_src {stream, collector}. */
struct stream_src {
	struct stream *st;
	struct collector *c;
};
void stream_on_event(void *arg, const struct ebee_event_hdr *ev);
/* A response for /api/events for this route (filters checked), or NULL with *code and *why
 * set (400 unknown type, 503 too many clients). */
struct MHD_Response *stream_open(struct stream *st, struct MHD_Connection *conn, const struct route *r,
				 unsigned *code, const char **why);
/* Resumes the clients waiting for events (after new ones, or for their keepalive). */
void stream_wake(struct stream *st, bool keepalive);
/* fn(arg) after stream_wake resumed a client: the thread that runs libmicrohttpd must run it
 * then (its own inter-thread channel does not wake an external-epoll caller). */
void stream_on_resume(struct stream *st, void (*fn)(void *), void *arg);
/* A collector goes away (reload/stop): its events stay, rendered, in the ring. */
uint64_t stream_last_id(const struct stream *st);
unsigned stream_clients(const struct stream *st);
uint64_t stream_refused(const struct stream *st);
uint64_t stream_truncated(const struct stream *st);

#endif
