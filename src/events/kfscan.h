/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* The prefilter's path scan (events.bpf.c, kf_*), shared with its unit test
 * (tests/unit/test_kfscan.c) so that both run the same code. One pass a word (8 bytes) at a
 * time finds "../" (Falco's `fd.nameraw contains ../`, so "a../b" too) and the "/." and "//"
 * that make a path one lexical normalisation could change, with exact SWAR byte masks: no
 * string kfunc (6.17+) and no byte loop for the verifier to walk in each of ~50 programs. */
#ifndef EBEE_EVENTS_KFSCAN_H
#define EBEE_EVENTS_KFSCAN_H

#ifdef __bpf__
/* map values may be read unaligned where the architecture allows it (x86, arm64: the verifier
 * is strict only without CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS) */
#define KF_LD64(p) (*(const __u64 *)(p))
#else
#include <string.h>
#include <linux/types.h>
static inline __u64 kf_ld64(const void *p)
{
	__u64 w;

	memcpy(&w, p, sizeof(w));
	return w;
}
#define KF_LD64(p) kf_ld64(p)
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kfscan.h: the word masks assume little-endian byte order"
#endif

#define KF_SCAN_WORDS 32            /* words read at most: 256 bytes, the scratch's path and pad */
#define KF_DOTDOT     1u            /* "../" */
#define KF_ODD        2u            /* "/." or "//" */

#define KF_ONES  0x0101010101010101ULL
#define KF_LOW7  0x7f7f7f7f7f7f7f7fULL

/* 0x80 in each byte of w equal to c, 0 elsewhere. Exact: the addition never carries out of a
 * byte (the classic haszero trick flags a byte after a borrow; this one does not). */
static __always_inline __u64 kf_eq(__u64 w, unsigned char c)
{
	__u64 t = w ^ (KF_ONES * c);

	return ~(((t & KF_LOW7) + KF_LOW7) | t | KF_LOW7);
}

/* w's first `left` bytes (the ones in memory order), the rest zeroed: the scratch a path is
 * read into still holds the previous path's tail past its NUL. */
static __always_inline __u64 kf_keep(__u64 w, long left)
{
	return left >= 8 ? w : left <= 0 ? 0 : w & ((1ULL << (8 * left)) - 1);
}

struct kf_scan_st {
	__u64 ps, pd;               /* the previous word's '/' and '.' bytes */
	__u64 odd, dd;              /* where "/." or "//", and "../", end */
};

/* One word of the path. Each test looks back: a pattern ending in this word may start in the
 * previous one. No branch: fewer states for the verifier to walk. */
static __always_inline void kf_step(struct kf_scan_st *st, __u64 w)
{
	__u64 s = kf_eq(w, '/'), d = kf_eq(w, '.');
	__u64 s1 = (s << 8) | (st->ps >> 56);    /* the byte before is a '/' */
	__u64 d1 = (d << 8) | (st->pd >> 56);    /* the byte before is a '.' */
	__u64 d2 = (d << 16) | (st->pd >> 48);   /* the byte two before is a '.' */

	st->odd |= (d | s) & s1;
	st->dd |= s & d1 & d2;
	st->ps = s;
	st->pd = d;
}

/* KF_DOTDOT | KF_ODD for the len bytes at p (no NUL counted). p must have 8 * KF_SCAN_WORDS
 * readable bytes; the bytes past len are ignored (len is at most 8 * KF_SCAN_WORDS). The
 * whole words in a loop without masks, then the last part word masked. */
static __always_inline unsigned int kf_scan(const char *p, long len)
{
	struct kf_scan_st st = { 0 };
	long full = len >> 3;

	for (int i = 0; i < KF_SCAN_WORDS; i++) {
		if (i >= full)
			break;
		kf_step(&st, KF_LD64(p + 8 * i));
	}
	if ((len & 7) && full >= 0 && full < KF_SCAN_WORDS)
		kf_step(&st, kf_keep(KF_LD64(p + 8 * full), len & 7));
	return (st.dd ? KF_DOTDOT : 0) | (st.odd ? KF_ODD : 0);
}

/* The gate before the prefix lookup: the path's first component and its '/' (p + 1, at most
 * 8 bytes, of the len) against each prefix's (word, mask). When every prefix of the set has a
 * complete first component, a path none of them starts with misses the trie anyway. */
static __always_inline __u64 kf_first(const char *p, long len)
{
	return kf_keep(KF_LD64(p + 1), len - 1);
}

#endif
