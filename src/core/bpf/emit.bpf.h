/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Event emission shared by every kernel program. Waking the reader from a BPF program costs
 * 3-14 us on this class of machine (irq_work and a self-IPI per event, a VM exit under a
 * hypervisor) against ~0.35 us without, so events are submitted with BPF_RB_NO_WAKEUP and the
 * reader drains on a short timer (core/loop.c); a wakeup is forced only once the backlog passes
 * EBEE_WAKEUP_BYTES, so a burst never overflows the buffer while the reader sleeps, and then
 * once per EBEE_WAKEUP_BYTES produced (not on every record past the mark: a storm faster than
 * the reader would pay the IPI on each one). Drops are counted per CPU in `NAME_drops`, never
 * silent. An object that defines EBEE_COUNT_SUBMITTED also counts the records it submitted
 * (slot 1): user space, having read everything after detaching, then knows that nothing it
 * was sent went unread (core/load.h ebee_ring_settle). */
#ifndef EBEE_EMIT_BPF_H
#define EBEE_EMIT_BPF_H

#include "core/event.h"   /* EBEE_SLOT_* */

#ifndef EBEE_WAKEUP_BYTES
#define EBEE_WAKEUP_BYTES (256 * 1024)
#endif

/* Every object that emits declares its ring buffer with this (size set from user space with
 * bpf_map__set_max_entries when needed), the drop counter and the producer position of the
 * last forced wakeup. */
#define EBEE_RINGBUF(name, bytes)                                   \
	struct {                                                     \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                  \
		__uint(max_entries, bytes);                          \
	} name SEC(".maps");                                         \
	struct {                                                     \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);             \
		__uint(max_entries, 2);                              \
		__type(key, __u32);                                  \
		__type(value, __u64);                                \
	} name##_drops SEC(".maps");                                 \
	__u64 name##_woke = 0

/* Past the backlog mark, one wakeup per EBEE_WAKEUP_BYTES produced. Once woken the reader
 * drains until the ring is empty (its epoll is level-triggered), so a backlog that reaches the
 * mark again has grown by the mark since the last wakeup: it is always woken. Racing CPUs may
 * both wake (harmless); the drain timer stays the backstop. */
static __always_inline __u64 ebee_wakeup_flag(void *rb, __u64 *woke)
{
	__u64 prod;

	if (bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) < EBEE_WAKEUP_BYTES)
		return BPF_RB_NO_WAKEUP;
	prod = bpf_ringbuf_query(rb, BPF_RB_PROD_POS);
	if (prod - *woke < EBEE_WAKEUP_BYTES)
		return BPF_RB_NO_WAKEUP;
	*woke = prod;
	return BPF_RB_FORCE_WAKEUP;
}

static __always_inline void ebee_count_slot(void *drops, __u32 slot)
{
	__u64 *d = bpf_map_lookup_elem(drops, &slot);

	if (d)
		*d += 1;   /* per-CPU slot: no atomic needed */
}
#define ebee_count_drop(drops) ebee_count_slot(drops, EBEE_SLOT_DROPS)
#ifdef EBEE_COUNT_SUBMITTED
#define ebee_count_submitted(rb) ebee_count_slot(&rb##_drops, EBEE_SLOT_SUBMITTED)
#else
#define ebee_count_submitted(rb) ((void)0)
#endif

/* Reserve a fixed-size record: NULL when the ring is full. Test the result once and count the
 * drop in that branch (`if (!e) { ebee_drop(rb); return 0; }`): a helper that tested it too
 * would make the compiler test the pointer twice where the paths merge, and verifiers before
 * 6.4 (Debian 12's 6.1) do not know that a reserved record is non-NULL: they walk the
 * impossible NULL branch with the record held and refuse the program ("Unreleased
 * reference"). */
#define ebee_reserve(rb, size) bpf_ringbuf_reserve(&rb, size, 0)
#define ebee_drop(rb) ebee_count_drop(&rb##_drops)
#define ebee_submit(rb, e) ({                                          \
	ebee_count_submitted(rb);                                     \
	bpf_ringbuf_submit(e, ebee_wakeup_flag(&rb, &rb##_woke)); })
/* Copy-out form for events built on the stack. */
#define ebee_output(rb, e, size) ({                                   \
	long __r = bpf_ringbuf_output(&rb, e, size, ebee_wakeup_flag(&rb, &rb##_woke)); \
	if (__r)                                                      \
		ebee_count_drop(&rb##_drops);                         \
	else                                                          \
		ebee_count_submitted(rb);                             \
	__r; })

#endif
