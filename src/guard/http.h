/* SPDX-License-Identifier: BSD-2-Clause */
/* Alerts posted to an HTTP endpoint as Falco's http_output does (one JSON alert per POST,
 * Content-Type application/json; Falcosidekick accepts it). The evaluation thread only copies
 * the alert into a bounded queue; a thread of its own posts, retries with backoff, and counts
 * what it had to give up, so a dead or slow endpoint never slows the evaluation down. */
#ifndef EBEE_GUARD_HTTP_H
#define EBEE_GUARD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_QUEUE 1024        /* alerts waiting; one more is dropped and counted */
#define HTTP_TRIES 3           /* attempts per alert: 0.1 s, then 0.2 s between them */
#define HTTP_TIMEOUT_MS 2000   /* connect + send + reply, per attempt */

struct http_out;
struct http_out_stats {
	uint64_t sent;         /* answered 2xx */
	uint64_t lost;         /* given up after HTTP_TRIES, or dropped: queue full */
	uint64_t dropped;      /* of which: queue full */
	uint64_t retries;
};

/* url: http://HOST[:PORT][/PATH] (HOST a name or an address). NULL with why. */
struct http_out *http_out_new(const char *url, char *why, size_t whylen);
/* Never blocks: queues a copy, or counts a drop. */
void http_out_post(struct http_out *h, const char *json, size_t len);
/* Waits up to secs for the queue to empty (at exit). */
void http_out_drain(struct http_out *h, double secs);
void http_out_stats(struct http_out *h, struct http_out_stats *st);
void http_out_free(struct http_out *h);

#endif
