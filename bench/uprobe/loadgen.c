// SPDX-License-Identifier: BSD-2-Clause
/* Bounded HTTP load generator for the uprobe and http benchmarks: CONNS keep-alive connections
 * to 127.0.0.1:PORT, NREQ requests in all (GET PATH?in=PREFIX<i>, PATH "/" unless given),
 * closed loop or paced at RATE requests/s. Prints one JSON line with the request rate and
 * latency percentiles (send to whole response). Only ever connects to 127.0.0.1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, nreq, conns;
static double rate;
static const char *prefix, *path = "/";
static double *lat;   /* seconds, per request */
static long errors;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int one(int fd, int i)
{
	char req[256], buf[4096];
	int n = snprintf(req, sizeof(req), "GET %s?in=%s%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
			 path, prefix, i);
	int got = 0, need = -1;

	if (send(fd, req, n, MSG_NOSIGNAL) != n)
		return -1;
	for (;;) {
		char *hdr_end, *cl;
		ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);

		if (r <= 0)
			return -1;
		got += r;
		buf[got] = 0;
		hdr_end = strstr(buf, "\r\n\r\n");
		if (!hdr_end)
			continue;
		if (need < 0) {
			if (strncmp(buf, "HTTP/1.1 200", 12))
				return -1;
			cl = strcasestr(buf, "Content-Length:");
			need = (int)(hdr_end + 4 - buf) + (cl ? atoi(cl + 15) : 0);
		}
		if (got >= need)
			return 0;
	}
}

static void *worker(void *arg)
{
	long id = (long)arg;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one_ = 1;
	double start = now(), per = rate > 0 ? conns / rate : 0;
	int k = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one_, sizeof(one_));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		__atomic_add_fetch(&errors, nreq / conns, __ATOMIC_RELAXED);
		close(fd);
		return NULL;
	}
	for (int i = (int)id; i < nreq; i += conns, k++) {
		if (per > 0) {
			double due = start + k * per, t = now();

			if (due > t)
				usleep((useconds_t)((due - t) * 1e6));
		}
		lat[i] = now();
		if (one(fd, i))
			__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
		lat[i] = now() - lat[i];
	}
	close(fd);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	pthread_t th[256];
	double t0, dt;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: loadgen PORT NREQ CONNS RATE PREFIX [PATH]\n");
		return 2;
	}
	port = atoi(argv[1]);
	nreq = atoi(argv[2]);
	conns = atoi(argv[3]);
	rate = atof(argv[4]);
	prefix = argv[5];
	if (argc == 7)
		path = argv[6];
	if (conns < 1 || conns > 256 || nreq < 1 || nreq > 10000000)
		return 2;
	lat = calloc(nreq, sizeof(*lat));
	if (!lat)
		return 1;
	t0 = now();
	for (long i = 0; i < conns; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	dt = now() - t0;
	qsort(lat, nreq, sizeof(*lat), cmp);
	printf("{\"n\":%d,\"secs\":%.4f,\"rps\":%.1f,\"errors\":%ld,\"p50_us\":%.1f,"
	       "\"p99_us\":%.1f}\n", nreq, dt, nreq / dt, errors, lat[nreq / 2] * 1e6,
	       lat[(int)(nreq * 0.99)] * 1e6);
	return errors ? 1 : 0;
}
