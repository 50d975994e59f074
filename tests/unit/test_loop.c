// SPDX-License-Identifier: BSD-2-Clause
/* The event loop with many sources: 3 timers and 10 ring buffers fed by real BPF programs
 * (bpf_prog_test_run of a socket filter that calls bpf_ringbuf_output), removal from inside a
 * callback, and slot reuse after removal. Needs root (BPF maps); skipped otherwise. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/ebee.h"
#include "core/loop.h"

#define NRB 10

struct lt {
	int map[NRB], prog[NRB];
	struct ring_buffer *rb[NRB];
	uint64_t got[NRB], sent[NRB];
	int fires[4];
	int timer[4];
	bool skip_produce[NRB];
	struct ebee_loop *l;
};

static struct lt T;

static int on_event(void *ctx, void *data, size_t size)
{
	uint64_t *n = ctx;

	(*n)++;
	return 0;
}

/* r1 = 8 bytes at fp-8 (the map index), bpf_ringbuf_output(map, fp-8, 8, 0); return 0. */
static int load_prog(int map_fd, int i)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = -8, .imm = i },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd },
		{ 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_4, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_ringbuf_output },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "ebt_loop", "GPL", insns,
			     ARRAY_SIZE(insns), NULL);
}

static void produce(void)
{
	char pkt[64] = { 0 };

	for (int i = 0; i < NRB; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt));

		if (T.skip_produce[i] || T.rb[i] == NULL)
			continue;
		assert_int_equal(bpf_prog_test_run_opts(T.prog[i], &o), 0);
		T.sent[i]++;
	}
}

static int tick0(struct ebee_loop *l, void *arg) { T.fires[0]++; produce(); return 0; }
static int tick1(struct ebee_loop *l, void *arg) { T.fires[1]++; return 0; }

/* Removes timer 1 and then itself from inside the loop. */
static int tick2(struct ebee_loop *l, void *arg)
{
	if (++T.fires[2] == 2)
		assert_int_equal(loop_del_timer(l, T.timer[1]), 0);
	if (T.fires[2] == 3)
		assert_int_equal(loop_del_timer(l, T.timer[2]), 0);
	return 0;
}

static int tick3(struct ebee_loop *l, void *arg) { T.fires[3]++; return 0; }

static int setup(void **state)
{
	if (geteuid() != 0)
		return 0;
	for (int i = 0; i < NRB; i++) {
		T.map[i] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "ebt_loop", 0, 0, 4096, NULL);
		if (T.map[i] < 0)
			return 0;
		T.prog[i] = load_prog(T.map[i], i);
		if (T.prog[i] < 0)
			return 0;
		T.rb[i] = ring_buffer__new(T.map[i], on_event, &T.got[i], NULL);
		if (!T.rb[i])
			return 0;
	}
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < NRB; i++) {
		ring_buffer__free(T.rb[i]);
		if (T.prog[i] > 0)
			close(T.prog[i]);
		if (T.map[i] > 0)
			close(T.map[i]);
	}
	return 0;
}

static void test_many_sources(void **state)
{
	int id;

	if (!T.rb[NRB - 1])
		skip();   /* not root, or no ring buffers */
	T.l = loop_new();
	assert_non_null(T.l);
	for (int i = 0; i < NRB; i++)
		assert_int_equal(loop_add_ringbuf(T.l, T.rb[i], 5), 0);
	T.timer[0] = loop_add_timer(T.l, 0.01, tick0, NULL);
	T.timer[1] = loop_add_timer(T.l, 0.02, tick1, NULL);
	T.timer[2] = loop_add_timer(T.l, 0.03, tick2, NULL);
	for (int i = 0; i < 3; i++)
		assert_true(T.timer[i] >= 0);
	assert_true(T.timer[0] != T.timer[1] && T.timer[1] != T.timer[2]);
	assert_int_equal(loop_add_timer(T.l, 0, tick1, NULL), -EINVAL);

	assert_int_equal(loop_set_duration(T.l, 0.3), 0);
	assert_int_equal(loop_run(T.l), 0);
	/* Every event of every ring buffer was read (the loop drains them once more at the end). */
	for (int i = 0; i < NRB; i++) {
		assert_true(T.sent[i] > 0);
		assert_int_equal(T.got[i], T.sent[i]);
	}
	assert_true(T.fires[0] >= 5);
	assert_true(T.fires[1] >= 1 && T.fires[1] <= 3);   /* removed at timer 2's second fire */
	assert_int_equal(T.fires[2], 3);                    /* removed itself at its third */
	assert_int_equal(loop_del_timer(T.l, T.timer[1]), -ENOENT);

	/* Slots are reused: a new timer takes the first free slot (timer 1's). */
	id = loop_add_timer(T.l, 0.01, tick3, NULL);
	assert_int_equal(id, T.timer[1]);
	/* A removed ring buffer is no longer read; one added again is. */
	assert_int_equal(loop_del_ringbuf(T.l, T.rb[3]), 0);
	assert_int_equal(loop_del_ringbuf(T.l, T.rb[3]), -ENOENT);
	assert_int_equal(loop_del_ringbuf(T.l, T.rb[5]), 0);
	assert_int_equal(loop_add_ringbuf(T.l, T.rb[5], 0), 0);
	memset(T.fires, 0, sizeof(T.fires));
	assert_int_equal(loop_set_duration(T.l, 0.2), 0);
	assert_int_equal(loop_run(T.l), 0);
	assert_true(T.fires[3] >= 3 && T.fires[0] >= 3);
	assert_int_equal(T.fires[1] + T.fires[2], 0);
	for (int i = 0; i < NRB; i++) {
		if (i == 3)
			assert_true(T.got[i] < T.sent[i]);   /* left in the map: nobody reads it */
		else
			assert_int_equal(T.got[i], T.sent[i]);
	}
	/* Plain fds: added, removed once. */
	{
		int p[2];

		assert_int_equal(pipe(p), 0);
		assert_int_equal(loop_add_fd(T.l, p[0], 1, NULL, NULL), 0);
		assert_int_equal(loop_del_fd(T.l, p[0]), 0);
		assert_int_equal(loop_del_fd(T.l, p[0]), -ENOENT);
		close(p[0]);
		close(p[1]);
	}
	loop_free(T.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_sources),
	};
	struct ebee_ctx quiet = { .quiet = true };

	ebee_log_init(&quiet);
	return cmocka_run_group_tests(tests, setup, teardown);
}
