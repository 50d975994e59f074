/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Event emission shared by every kernel program. Waking the reader from a BPF program costs
 * 3-14 us on this class of machine (irq_work per event) against ~0.35 us without, so events are
 * submitted with BPF_RB_NO_WAKEUP and the reader drains on a short timer (core/loop.c); a
 * wakeup is forced only once the backlog passes EBEE_WAKEUP_BYTES, so a burst never overflows
 * the buffer while the reader sleeps. Drops are counted per CPU in `NAME_drops`, never silent.
 * An object that defines EBEE_COUNT_SUBMITTED also counts the records it submitted (slot 1):
 * user space, having read everything after detaching, then knows that nothing it was sent went
 * unread (core/load.h ebee_ring_settle). */
#ifndef EBEE_EMIT_BPF_H
#define EBEE_EMIT_BPF_H

#include "core/event.h"   /* EBEE_SLOT_* */

#ifndef EBEE_WAKEUP_BYTES
#define EBEE_WAKEUP_BYTES (256 * 1024)
#endif

/* Every object that emits declares its ring buffer with this (size set from user space with
 * bpf_map__set_max_entries when needed) and the drop counter. */
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
	} name##_drops SEC(".maps")

static __always_inline __u64 ebee_wakeup_flag(void *rb)
{
	return bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >= EBEE_WAKEUP_BYTES ?
		       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
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

/* Reserve a fixed-size event; on failure the drop is counted and NULL returned. */
#define ebee_reserve(rb, size) ({                                     \
	void *__e = bpf_ringbuf_reserve(&rb, size, 0);                \
	if (!__e)                                                     \
		ebee_count_drop(&rb##_drops);                         \
	__e; })
#define ebee_submit(rb, e) ({                                          \
	ebee_count_submitted(rb);                                     \
	bpf_ringbuf_submit(e, ebee_wakeup_flag(&rb)); })
/* Copy-out form for events built on the stack. */
#define ebee_output(rb, e, size) ({                                   \
	long __r = bpf_ringbuf_output(&rb, e, size, ebee_wakeup_flag(&rb)); \
	if (__r)                                                      \
		ebee_count_drop(&rb##_drops);                         \
	else                                                          \
		ebee_count_submitted(rb);                             \
	__r; })

#endif
