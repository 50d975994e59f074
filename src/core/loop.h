/* SPDX-License-Identifier: BSD-2-Clause */
/* One event loop for every command: ring buffers, the interval timer, SIGINT/SIGTERM (via
 * signalfd, so Ctrl-C at any moment ends the loop cleanly), and any other fd (the HTTP
 * server). Single-threaded, epoll based. */
#ifndef EBEE_LOOP_H
#define EBEE_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct ring_buffer;
struct ebee_loop;

typedef int (*loop_fd_cb)(struct ebee_loop *l, int fd, uint32_t events, void *arg);
typedef int (*loop_tick_cb)(struct ebee_loop *l, void *arg);

/* Blocks SIGINT/SIGTERM/SIGHUP (delivered through a signalfd) — call before loading BPF so a
 * Ctrl-C during load still takes the cleanup path. The mask is inherited by children: a
 * command that spawns one resets it there (posix_spawnattr_setsigmask, or loop_child_reset()
 * after fork). */
struct ebee_loop *loop_new(void);
void loop_free(struct ebee_loop *l);   /* accepts NULL; restores the signal mask */

/* Ring buffer fed by programs that submit with ebee_submit() (bpf/emit.bpf.h): the kernel side
 * wakes us only past a backlog, so the loop also drains every poll_ms (default 20 ms when 0).
 * The ring_buffer is owned by the caller. */
int loop_add_ringbuf(struct ebee_loop *l, struct ring_buffer *rb, int poll_ms);
int loop_add_fd(struct ebee_loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg);
int loop_del_fd(struct ebee_loop *l, int fd);
/* Periodic callback every interval_s seconds (first after one interval). Any number per loop
 * (each collector its own); ring buffers are drained before each fires, so events up to the
 * tick belong to the interval it closes. Returns a timer id (>= 0) or -errno. */
int loop_add_timer(struct ebee_loop *l, double interval_s, loop_tick_cb cb, void *arg);
int loop_del_timer(struct ebee_loop *l, int id);
/* The same for the command's one interval timer (kept for the CLI commands). */
int loop_set_tick(struct ebee_loop *l, double interval_s, loop_tick_cb cb, void *arg);
/* Removes a ring buffer added with loop_add_ringbuf (before the caller frees it); its slot is
 * reused. Any number of ring buffers and fds may be added. */
int loop_del_ringbuf(struct ebee_loop *l, struct ring_buffer *rb);
/* The loop ends after duration_s seconds (0 = until a signal or loop_stop). */
int loop_set_duration(struct ebee_loop *l, double duration_s);

/* Runs until a signal, the duration, loop_stop, or a callback returning < 0 (that value is
 * returned). Ring buffers are drained once more before it returns. Returns 0 on a normal end.
 * It may be called again unless a signal ended it. Sources and timers may be added and removed
 * from callbacks; a removed one is not called again, even later in the same batch. */
int loop_run(struct ebee_loop *l);
void loop_stop(struct ebee_loop *l);
/* Reads every ring buffer of the loop now (after a detach: what the programs wrote last). */
int loop_drain(struct ebee_loop *l);
/* SIGHUP calls cb (on the loop's thread, like a tick) instead of ending the loop: a daemon's
 * reload. A negative return ends the loop with that value. */
int loop_on_sighup(struct ebee_loop *l, loop_tick_cb cb, void *arg);
/* The signal that ended the loop (SIGINT, ...) or 0. */
int loop_signal(const struct ebee_loop *l);
/* True once a stop was requested: long operations outside the loop (loads) may check it. */
bool loop_stopping(struct ebee_loop *l);

/* A mutex the loop holds while it runs callbacks (and drains), released while it waits: a
 * thread that reads what the callbacks write (serve's HTTP thread) takes it too. NULL = none. */
void loop_set_mutex(struct ebee_loop *l, pthread_mutex_t *m);

/* In a forked child: unblock the signals the loop blocked. */
void loop_child_reset(void);

#endif
