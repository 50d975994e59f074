// SPDX-License-Identifier: BSD-2-Clause
/* One epoll loop: signals, timers, ring buffers and plain fds. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <bpf/libbpf.h>
#include "ebee.h"
#include "loop.h"

#define DEFAULT_POLL_MS 20

/* SRC_DEAD: removed during the current epoll batch (an event of it may still be in the batch,
 * so the slot is not reused before the batch ends); SRC_FREE: reusable. */
enum src_kind { SRC_FREE, SRC_DEAD, SRC_SIGNAL, SRC_TIMER, SRC_DRAIN, SRC_END, SRC_RB, SRC_FD };

struct src {
	enum src_kind kind;
	int fd;
	uint32_t events;
	loop_fd_cb cb;
	loop_tick_cb tick;
	void *arg;
	struct ring_buffer *rb;
};

/* Sources are allocated one by one and referenced by pointer from epoll, so the table of them
 * can grow without moving a source; a timer's id is its index in the table. */
struct ebee_loop {
	int epfd;
	sigset_t old_mask;
	struct src sig, drain, end;
	struct src **srcs;
	int nsrcs;
	int nrb;
	int tick_id;          /* loop_set_tick's timer, -1 before */
	int drain_ms;
	bool in_batch, have_dead;
	bool stop, hup;
	loop_tick_cb hup_cb;
	void *hup_arg;
	int signo;
	int err;
	pthread_mutex_t *mu;
};

/* The signals the loop takes through its signalfd. One that ebee inherited as ignored (a
 * background job of a non-interactive shell gets SIGINT and SIGQUIT ignored; nohup ignores
 * SIGHUP) stays ignored and is left out: a blocked signal is queued even when ignored, so
 * taking it into the signalfd would obey a SIGINT sent after loop_new() but not one sent
 * before, when the kernel discards it. Honouring the inherited disposition makes every moment
 * the same, and is what a shell's user asked for. */
static sigset_t loop_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	sigset_t s;

	sigemptyset(&s);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		if (sigaction(sigs[i], NULL, &sa) || sa.sa_handler != SIG_IGN)
			sigaddset(&s, sigs[i]);
	return s;
}

void loop_child_reset(void)
{
	sigset_t s = loop_signals();

	sigprocmask(SIG_UNBLOCK, &s, NULL);
}

static int ep_add(struct ebee_loop *l, struct src *s, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	s->fd = fd;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

struct ebee_loop *loop_new(void)
{
	struct ebee_loop *l = calloc(1, sizeof(*l));
	sigset_t s = loop_signals();
	int fd;

	if (!l)
		return NULL;
	l->sig.fd = l->drain.fd = l->end.fd = -1;
	l->tick_id = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto err;
	/* Writes to a closed pipe (ebee ... | head) must fail with EPIPE, not kill us mid-cleanup. */
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &s, &l->old_mask))
		goto err;
	fd = signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		goto err;
	l->sig.kind = SRC_SIGNAL;
	if (ep_add(l, &l->sig, fd, EPOLLIN))
		goto err;
	return l;
err:
	ebee_err("cannot set up the event loop: %s", strerror(errno));
	loop_free(l);
	return NULL;
}

void loop_free(struct ebee_loop *l)
{
	if (!l)
		return;
	if (l->sig.fd >= 0) {
		close(l->sig.fd);
		sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
	}
	for (int i = 0; i < l->nsrcs; i++) {
		if (l->srcs[i]->kind == SRC_TIMER)
			close(l->srcs[i]->fd);   /* timerfds are the loop's; other fds are the caller's */
		free(l->srcs[i]);
	}
	free(l->srcs);
	if (l->drain.fd >= 0)
		close(l->drain.fd);
	if (l->end.fd >= 0)
		close(l->end.fd);
	if (l->epfd >= 0)
		close(l->epfd);
	free(l);
}

static int timer_src(struct ebee_loop *l, struct src *s, enum src_kind kind, double first_s,
		     double every_s)
{
	struct itimerspec its = { 0 };
	int fd, err;

	if (s->fd < 0) {
		fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (fd < 0)
			return -errno;
		s->kind = kind;
		err = ep_add(l, s, fd, EPOLLIN);
		if (err) {
			close(fd);
			s->fd = -1;
			return err;
		}
	}
	/* A zero it_value would disarm the timer: round up to 1 ns. */
	its.it_value.tv_sec = (time_t)first_s;
	its.it_value.tv_nsec = (long)((first_s - floor(first_s)) * 1e9);
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	its.it_interval.tv_sec = (time_t)every_s;
	its.it_interval.tv_nsec = (long)((every_s - floor(every_s)) * 1e9);
	return timerfd_settime(s->fd, 0, &its, NULL) ? -errno : 0;
}

/* A free slot (reusing one whose source was removed), or NULL. */
static struct src *src_new(struct ebee_loop *l, enum src_kind kind, int *id)
{
	struct src *s = NULL, **grown;
	int i;

	for (i = 0; i < l->nsrcs; i++)
		if (l->srcs[i]->kind == SRC_FREE)
			break;
	if (i == l->nsrcs) {
		grown = realloc(l->srcs, (l->nsrcs + 1) * sizeof(*grown));
		if (!grown)
			return NULL;
		l->srcs = grown;
		if (!(l->srcs[i] = calloc(1, sizeof(*s))))
			return NULL;
		l->nsrcs++;
	}
	s = l->srcs[i];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->fd = -1;
	if (id)
		*id = i;
	return s;
}

/* Removes a source from epoll; its slot is reused once no event of the current batch can
 * still point at it. */
static void src_del(struct ebee_loop *l, struct src *s)
{
	if (s->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	if (s->kind == SRC_TIMER && s->fd >= 0)
		close(s->fd);
	if (s->kind == SRC_RB)
		l->nrb--;
	s->fd = -1;
	s->cb = NULL;
	s->tick = NULL;
	s->rb = NULL;
	if (l->in_batch) {
		s->kind = SRC_DEAD;
		l->have_dead = true;
	} else {
		s->kind = SRC_FREE;
	}
}

int loop_add_ringbuf(struct ebee_loop *l, struct ring_buffer *rb, int poll_ms)
{
	struct src *s;
	int err;

	if (poll_ms <= 0)
		poll_ms = DEFAULT_POLL_MS;
	if (!(s = src_new(l, SRC_RB, NULL)))
		return -ENOMEM;
	s->rb = rb;
	/* The epoll fd fires only on the forced wakeups (backlog past a threshold); the drain timer
	 * does the regular reading. */
	err = ep_add(l, s, ring_buffer__epoll_fd(rb), EPOLLIN);
	if (err) {
		s->fd = -1;
		s->kind = SRC_FREE;
		return err;
	}
	l->nrb++;
	if (!l->drain_ms || poll_ms < l->drain_ms) {
		l->drain_ms = poll_ms;
		return timer_src(l, &l->drain, SRC_DRAIN, poll_ms / 1000.0, poll_ms / 1000.0);
	}
	return 0;
}

int loop_del_ringbuf(struct ebee_loop *l, struct ring_buffer *rb)
{
	for (int i = 0; i < l->nsrcs; i++) {
		struct src *s = l->srcs[i];

		if (s->kind != SRC_RB || s->rb != rb)
			continue;
		/* What is already in it belongs to the interval: read it before letting go. */
		ring_buffer__consume(rb);
		src_del(l, s);
		return 0;
	}
	return -ENOENT;
}

int loop_add_fd(struct ebee_loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg)
{
	struct src *s = src_new(l, SRC_FD, NULL);
	int err;

	if (!s)
		return -ENOMEM;
	s->cb = cb;
	s->arg = arg;
	s->events = events;
	err = ep_add(l, s, fd, events);
	if (err) {
		s->fd = -1;
		s->kind = SRC_FREE;
	}
	return err;
}

int loop_del_fd(struct ebee_loop *l, int fd)
{
	for (int i = 0; i < l->nsrcs; i++) {
		if (l->srcs[i]->kind == SRC_FD && l->srcs[i]->fd == fd) {
			src_del(l, l->srcs[i]);
			return 0;
		}
	}
	return -ENOENT;
}

int loop_add_timer(struct ebee_loop *l, double interval_s, loop_tick_cb cb, void *arg)
{
	struct src *s;
	int id, err;

	if (!(interval_s > 0) || !cb)
		return -EINVAL;
	if (!(s = src_new(l, SRC_TIMER, &id)))
		return -ENOMEM;
	s->kind = SRC_FREE;   /* timer_src creates the fd when the kind says there is none yet */
	err = timer_src(l, s, SRC_TIMER, interval_s, interval_s);
	if (err) {
		if (s->fd >= 0) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
			close(s->fd);
		}
		s->fd = -1;
		s->kind = SRC_FREE;
		return err;
	}
	s->tick = cb;
	s->arg = arg;
	return id;
}

int loop_del_timer(struct ebee_loop *l, int id)
{
	if (id < 0 || id >= l->nsrcs || l->srcs[id]->kind != SRC_TIMER)
		return -ENOENT;
	src_del(l, l->srcs[id]);
	if (id == l->tick_id)
		l->tick_id = -1;
	return 0;
}

int loop_set_tick(struct ebee_loop *l, double interval_s, loop_tick_cb cb, void *arg)
{
	struct src *s;
	int id;

	if (l->tick_id < 0) {
		id = loop_add_timer(l, interval_s, cb, arg);
		if (id < 0)
			return id;
		l->tick_id = id;
		return 0;
	}
	/* Set again: the same timer re-armed with the new interval and callback. */
	s = l->srcs[l->tick_id];
	s->tick = cb;
	s->arg = arg;
	return timer_src(l, s, SRC_TIMER, interval_s, interval_s);
}

int loop_set_duration(struct ebee_loop *l, double duration_s)
{
	if (duration_s <= 0)
		return 0;
	return timer_src(l, &l->end, SRC_END, duration_s, 0);
}

void loop_stop(struct ebee_loop *l)
{
	l->stop = true;
}

int loop_signal(const struct ebee_loop *l)
{
	return l->signo;
}

static void read_signal(struct ebee_loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP && l->hup_cb) {
			l->hup = true;
			continue;
		}
		l->signo = si.ssi_signo;
		l->stop = true;
	}
}

int loop_on_sighup(struct ebee_loop *l, loop_tick_cb cb, void *arg)
{
	l->hup_cb = cb;
	l->hup_arg = arg;
	return 0;
}

bool loop_stopping(struct ebee_loop *l)
{
	if (!l->stop)
		read_signal(l);
	return l->stop;
}

int loop_drain(struct ebee_loop *l)
{
	for (int i = 0; i < l->nsrcs && l->nrb; i++) {
		int n;

		if (l->srcs[i]->kind != SRC_RB)
			continue;
		n = ring_buffer__consume(l->srcs[i]->rb);
		if (n < 0 && n != -EINTR)
			return n;
	}
	return 0;
}

/* After a batch: slots removed during it become reusable. */
static void reap(struct ebee_loop *l)
{
	l->in_batch = false;
	if (!l->have_dead)
		return;
	l->have_dead = false;
	for (int i = 0; i < l->nsrcs; i++)
		if (l->srcs[i]->kind == SRC_DEAD)
			l->srcs[i]->kind = SRC_FREE;
}

static void timer_ack(int fd)
{
	uint64_t n;

	while (read(fd, &n, sizeof(n)) == sizeof(n))
		;
}

void loop_set_mutex(struct ebee_loop *l, pthread_mutex_t *m)
{
	l->mu = m;
}

int loop_run(struct ebee_loop *l)
{
	struct epoll_event evs[16];
	int err = 0;

	/* A loop ended by its duration or loop_stop may run again (after a new loop_set_duration);
	 * one ended by a signal may not. */
	if (!l->signo)
		l->stop = false;
	while (!l->stop && !err) {
		int n = epoll_wait(l->epfd, evs, ARRAY_SIZE(evs), -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (l->mu)
			pthread_mutex_lock(l->mu);
		l->in_batch = true;
		for (int i = 0; i < n && !err; i++) {
			struct src *s = evs[i].data.ptr;

			switch (s->kind) {
			case SRC_FREE:
			case SRC_DEAD:
				break;
			case SRC_SIGNAL:
				read_signal(l);
				if (l->hup && !l->stop) {
					l->hup = false;
					err = l->hup_cb(l, l->hup_arg);
				}
				break;
			case SRC_END:
				timer_ack(s->fd);
				l->stop = true;
				break;
			case SRC_DRAIN:
				timer_ack(s->fd);
				err = loop_drain(l);
				break;
			case SRC_TIMER:
				timer_ack(s->fd);
				/* Events up to the tick belong to the interval being closed. */
				err = loop_drain(l);
				if (!err && s->tick)
					err = s->tick(l, s->arg);
				break;
			case SRC_RB: {
				int r = ring_buffer__consume(s->rb);

				if (r < 0 && r != -EINTR)
					err = r;
				break;
			}
			case SRC_FD:
				if (s->cb)
					err = s->cb(l, s->fd, evs[i].events, s->arg);
				break;
			}
		}
		reap(l);
		if (l->mu)
			pthread_mutex_unlock(l->mu);
	}
	if (l->mu)
		pthread_mutex_lock(l->mu);
	if (!err)
		err = loop_drain(l);
	if (l->mu)
		pthread_mutex_unlock(l->mu);
	return err < 0 ? err : 0;
}
