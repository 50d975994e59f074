// SPDX-License-Identifier: BSD-2-Clause
/* The HTTP output's thread: a ring of HTTP_QUEUE alert copies under a mutex, one worker
 * posting them in order with HTTP/1.1 "Connection: close" requests (no keep-alive state to
 * get wrong), each attempt bounded by HTTP_TIMEOUT_MS, HTTP_TRIES attempts with doubling
 * backoff, then the alert is counted lost. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/priv.h"
#include "core/ebee.h"
#include "guard/http.h"

static void *worker(void *arg);

struct http_out {
	char host[256], port[8], path[512];
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv, idle;
	char *q[HTTP_QUEUE];
	size_t qlen[HTTP_QUEUE];
	unsigned head, n;
	bool busy, stop;
	struct http_out_stats st;
};

struct http_out *http_out_new(const char *url, char *why, size_t whylen)
{
	if (strncmp(url, "http://", 7)) {
		snprintf(why, whylen, "only http:// URLs are supported");
		return NULL;
	}
	const char *h = url + 7, *slash = strchr(h, '/');
	size_t hl = slash ? (size_t)(slash - h) : strlen(h);
	struct http_out *o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	snprintf(o->path, sizeof(o->path), "%s", slash ? slash : "/");
	char hp[300];
	snprintf(hp, sizeof(hp), "%.*s", (int)hl, h);
	char *colon = strrchr(hp, ':');
	if (hp[0] == '[') {   /* [v6]:port */
		char *rb = strchr(hp, ']');
		colon = rb && rb[1] == ':' ? rb + 1 : NULL;
		if (rb)
			*rb = 0;
		memmove(hp, hp + 1, strlen(hp));
		if (colon)
			colon--;
	}
	snprintf(o->port, sizeof(o->port), "%s", colon ? colon + 1 : "80");
	if (colon)
		*colon = 0;
	snprintf(o->host, sizeof(o->host), "%s", hp);
	char *end;
	long port = strtol(o->port, &end, 10);
	if (!o->host[0] || *end || port < 1 || port > 65535) {
		snprintf(why, whylen, "bad host or port in '%s'", url);
		free(o);
		return NULL;
	}
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	pthread_cond_init(&o->idle, NULL);
	/* the worker takes no signal: Ctrl-C stays with the loop's signalfd */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&o->th, NULL, worker, o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(why, whylen, "cannot start its thread: %s", strerror(rc));
		free(o);
		return NULL;
	}
	return o;
}

static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

static bool wait_fd(int fd, short ev, const struct timespec *deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int ms = ms_left(deadline);
	return ms > 0 && poll(&p, 1, ms) == 1 && (p.revents & ev);
}

/* One POST; true on a 2xx answer. */
static bool post_once(struct http_out *o, const char *body, size_t len)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += HTTP_TIMEOUT_MS / 1000;
	dl.tv_nsec += (HTTP_TIMEOUT_MS % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	if (getaddrinfo(o->host, o->port, &hints, &ai) || !ai)
		return false;
	bool ok = false;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
		goto out;
	if (!wait_fd(fd, POLLOUT, &dl))
		goto out;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr)
		goto out;
	char head[1024];
	int hl = snprintf(head, sizeof(head),
			  "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: ebee/" EBEE_VERSION "\r\n"
			  "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			  "Connection: close\r\n\r\n", o->path, o->host, o->port, len);
	const char *parts[2] = { head, body };
	size_t lens[2] = { (size_t)hl, len };
	for (int i = 0; i < 2; i++) {
		size_t off = 0;
		while (off < lens[i]) {
			if (!wait_fd(fd, POLLOUT, &dl))
				goto out;
			ssize_t n = send(fd, parts[i] + off, lens[i] - off, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				goto out;
			if (n > 0)
				off += n;
		}
	}
	char resp[64];
	size_t got = 0;
	while (got < 12) {
		if (!wait_fd(fd, POLLIN, &dl))
			goto out;
		ssize_t n = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
		if (n <= 0)
			goto out;
		got += n;
	}
	resp[got] = 0;
	ok = !strncmp(resp, "HTTP/1.", 7) && resp[9] == '2';
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ok;
}

static void *worker(void *arg)
{
	struct http_out *o = arg;
	ebee_thread_drop_caps();   /* it only talks HTTP out: no capability (core/priv.h) */
	pthread_mutex_lock(&o->mu);
	for (;;) {
		while (!o->n && !o->stop)
			pthread_cond_wait(&o->cv, &o->mu);
		if (!o->n && o->stop)
			break;
		char *body = o->q[o->head];
		size_t len = o->qlen[o->head];
		o->q[o->head] = NULL;
		o->head = (o->head + 1) % HTTP_QUEUE;
		o->n--;
		o->busy = true;
		bool stop = o->stop;
		pthread_mutex_unlock(&o->mu);
		bool ok = false;
		int tries = 0;
		for (long wait_ms = 100; tries < HTTP_TRIES && !ok; tries++, wait_ms *= 2) {
			if (tries) {
				if (stop)
					break;   /* exiting: no backoff sleeps */
				struct timespec ts = { 0, wait_ms * 1000000L };
				nanosleep(&ts, NULL);
			}
			ok = post_once(o, body, len);
		}
		free(body);
		pthread_mutex_lock(&o->mu);
		o->busy = false;
		o->st.retries += tries > 1 ? tries - 1 : 0;
		if (ok)
			o->st.sent++;
		else
			o->st.lost++;
		if (!o->n)
			pthread_cond_broadcast(&o->idle);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

void http_out_post(struct http_out *h, const char *json, size_t len)
{
	char *copy = malloc(len + 1);
	pthread_mutex_lock(&h->mu);
	if (!copy || h->n == HTTP_QUEUE) {
		h->st.dropped++;
		h->st.lost++;
		pthread_mutex_unlock(&h->mu);
		free(copy);
		return;
	}
	memcpy(copy, json, len);
	copy[len] = 0;
	unsigned slot = (h->head + h->n) % HTTP_QUEUE;
	h->q[slot] = copy;
	h->qlen[slot] = len;
	h->n++;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

void http_out_drain(struct http_out *h, double secs)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += (time_t)secs;
	pthread_mutex_lock(&h->mu);
	while ((h->n || h->busy) &&
	       pthread_cond_timedwait(&h->idle, &h->mu, &dl) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&h->mu);
}

void http_out_stats(struct http_out *h, struct http_out_stats *st)
{
	pthread_mutex_lock(&h->mu);
	*st = h->st;
	st->lost += h->n;   /* still queued: not delivered */
	pthread_mutex_unlock(&h->mu);
}

void http_out_free(struct http_out *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	/* what is still queued is given up (counted in stats before free) */
	while (h->n) {
		free(h->q[h->head]);
		h->head = (h->head + 1) % HTTP_QUEUE;
		h->n--;
	}
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->th, NULL);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	pthread_cond_destroy(&h->idle);
	free(h);
}
