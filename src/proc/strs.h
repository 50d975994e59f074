/* SPDX-License-Identifier: BSD-2-Clause */
/* The process table's text store: each distinct text (exe, cmdline, cwd, cgroup, fd path) held
 * once, reference counted, interned by a hash of its bytes. Single-threaded, like the table.
 *
 * Texts are pointer-stable: a text lives in a slot of a size class (a 16-byte header and the
 * bytes, NUL added) carved from one mapping of `cap` bytes (the bound, resident as touched);
 * a slot whose last reference goes is put on its class's free list and reused by the next
 * text of that class, and the mapping is unmapped only at strs_fini. So a `const char *` a
 * consumer holds (p->exe) always points at a NUL-terminated text within the mapping, even
 * after its process is gone (it may then read another process's text: compare pid and gen).
 *
 * Why not the graph's store (src/graph/store.c)? That one compacts: it slides live texts down
 * and rewrites every 32-bit offset the graph holds, which keeps its bound at 64 bytes a node
 * with 8-byte headers. The table's consumers (guard, events, graph, policy...) hold plain
 * pointers across calls, which compaction would move under them; and size classes would
 * cost the graph its bound (class rounding, bigger headers). Two stores, each fit to its
 * holders.
 *
 * Full (no free slot of a fitting class and no room left to carve): strs_get returns NULL,
 * counted in `full`; the caller keeps "" and says so (the table: a trunc bit, proctab_stats). */
#ifndef EBEE_PROC_STRS_H
#define EBEE_PROC_STRS_H

#include <stddef.h>
#include <stdint.h>

#define STRS_CLASSES 9
#define STRS_MAX_LEN 527          /* bytes of the longest text (the largest class, less the
				   * header and the NUL) */

struct strs {
	char *a;                    /* the mapping */
	size_t cap;                 /* its bytes: the bound */
	size_t end;                 /* the first byte not yet given to a class */
	uint32_t *bucket;           /* hash -> first slot of its chain (offset / 16 + 1), 0 = none */
	uint32_t bmask;
	uint32_t freel[STRS_CLASSES];   /* free slots per class, same coding */
	uint32_t next[STRS_CLASSES];    /* the class's chunk: next never used slot ... */
	uint32_t lim[STRS_CLASSES];     /* ... up to here (offsets / 16) */
	uint64_t n;                 /* distinct texts held */
	uint64_t bytes;             /* bytes of the slots holding them */
	uint64_t full;              /* texts refused: no room */
};

/* cap bytes of texts (rounded up to pages) and a hash of nbuckets chains (a power of two is
 * taken). 0 or -errno. */
int strs_init(struct strs *s, size_t cap, size_t nbuckets);
void strs_fini(struct strs *s);   /* a zeroed or finished store is fine */

/* A reference to the len bytes at t (stored with a NUL after them): the text already held, or a
 * new slot. "" (not counted) for len 0; NULL when len > STRS_MAX_LEN or the store is full.
 * t may point into the store itself. */
const char *strs_get(struct strs *s, const void *t, size_t len);
/* One more reference to a text strs_get returned (or ""), for a copy: no hashing. */
const char *strs_ref(struct strs *s, const char *t);
/* strs_ref for a live text of the store (all of it: len is its length), strs_get otherwise
 * (a freed slot's text, read through a stale pointer, is copied). */
const char *strs_dup(struct strs *s, const char *t, size_t len);
/* Drops one reference; the last frees the slot. NULL and "" are fine. */
void strs_put(struct strs *s, const char *t);

#endif
