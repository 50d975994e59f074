// SPDX-License-Identifier: BSD-2-Clause
/* The process table's text store (see strs.h). Slots are carved a page at a time per class
 * from the mapping's end, so only pages holding texts become resident; freed slots are reused
 * last-in first-out (the pages already touched). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proc/strs.h"

#define UNIT 16u                  /* slot alignment and the coding of offsets */
#define CHUNK 4096u               /* what a class takes from the mapping at a time */

struct srec {
	uint32_t refs;
	uint32_t next;                /* hash chain, or the free list (coded) */
	uint32_t hash;
	uint16_t len;
	uint8_t cls;
	uint8_t pad;
	char s[];
};
_Static_assert(sizeof(struct srec) == UNIT, "srec");

/* slot sizes, header included: the texts the table keeps are short paths (most), cmdlines up
 * to PROC_CMDLINE_LEN (544 = 16 + 512 + NUL) and paths up to 256 (288) */
static const uint16_t class_size[STRS_CLASSES] = { 32, 48, 64, 96, 128, 192, 288, 400, 544 };
_Static_assert(STRS_MAX_LEN == 544 - UNIT - 1, "largest class");

static struct srec *rec(const struct strs *s, uint32_t code)
{
	return (struct srec *)(s->a + (size_t)(code - 1) * UNIT);
}

static uint32_t code_of(const struct strs *s, const struct srec *r)
{
	return (uint32_t)(((const char *)r - s->a) / UNIT) + 1;
}

static int in_store(const struct strs *s, const char *t)
{
	uintptr_t x = (uintptr_t)t, a = (uintptr_t)s->a;

	return t && s->a && x >= a && x < a + s->cap;
}

/* 8 bytes at a time (a cmdline is hashed on every exec); any decent mix does, the chains are
 * checked by length and bytes */
static uint32_t text_hash(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0x94d049bb133111ebull;
	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32));
}

int strs_init(struct strs *s, size_t cap, size_t nbuckets)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), nb = 16;

	memset(s, 0, sizeof(*s));
	cap = (cap + CHUNK - 1) / CHUNK * CHUNK;
	if (cap < CHUNK * STRS_CLASSES)
		cap = CHUNK * STRS_CLASSES;
	if (cap / UNIT >= UINT32_MAX || CHUNK % pg)
		return -EINVAL;
	while (nb < nbuckets && nb < (1u << 30))
		nb <<= 1;
	s->a = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	if (s->a == MAP_FAILED) {
		s->a = NULL;
		return -ENOMEM;
	}
	s->bucket = calloc(nb, sizeof(*s->bucket));
	if (!s->bucket) {
		strs_fini(s);
		return -ENOMEM;
	}
	s->cap = cap;
	s->bmask = (uint32_t)nb - 1;
	return 0;
}

void strs_fini(struct strs *s)
{
	if (s->a)
		munmap(s->a, s->cap);
	free(s->bucket);
	memset(s, 0, sizeof(*s));
}

/* A slot of class c: its free list, its chunk, a new chunk. 0 when none. */
static uint32_t take(struct strs *s, int c)
{
	uint32_t code = s->freel[c];

	if (code) {
		s->freel[c] = rec(s, code)->next;
		return code;
	}
	if (s->next[c] == s->lim[c]) {
		if (s->cap - s->end < CHUNK)
			return 0;
		s->next[c] = (uint32_t)(s->end / UNIT);
		s->lim[c] = s->next[c] + CHUNK / class_size[c] * (class_size[c] / UNIT);
		s->end += CHUNK;
	}
	code = s->next[c] + 1;
	s->next[c] += class_size[c] / UNIT;
	return code;
}

const char *strs_get(struct strs *s, const void *t, size_t len)
{
	uint32_t h, code, *head;
	struct srec *r;
	int c;

	if (!len)
		return "";
	if (len > STRS_MAX_LEN)
		return NULL;
	h = text_hash(t, len);
	head = &s->bucket[h & s->bmask];
	for (code = *head; code; code = r->next) {
		r = rec(s, code);
		if (r->hash == h && r->len == len && !memcmp(r->s, t, len)) {
			r->refs++;
			return r->s;
		}
	}
	for (c = 0; class_size[c] < UNIT + len + 1; c++)
		;
	/* a bigger class's slot rather than nothing, once the mapping is all given out */
	for (code = 0; c < STRS_CLASSES && !(code = take(s, c)); c++)
		;
	if (!code) {
		s->full++;
		return NULL;
	}
	r = rec(s, code);
	/* t may be a freed slot's text (a stale pointer), this very slot even */
	memmove(r->s, t, len);
	r->s[len] = '\0';
	r->refs = 1;
	r->hash = h;
	r->len = (uint16_t)len;
	r->cls = (uint8_t)c;
	r->next = *head;
	*head = code;
	s->n++;
	s->bytes += class_size[c];
	return r->s;
}

const char *strs_ref(struct strs *s, const char *t)
{
	if (in_store(s, t))
		((struct srec *)(t - UNIT))->refs++;
	return t;
}

void strs_put(struct strs *s, const char *t)
{
	struct srec *r;
	uint32_t code, *pp;

	if (!in_store(s, t))
		return;
	r = (struct srec *)(t - UNIT);
	if (--r->refs)
		return;
	code = code_of(s, r);
	for (pp = &s->bucket[r->hash & s->bmask]; *pp != code; pp = &rec(s, *pp)->next)
		;
	*pp = r->next;
	/* the text stays until the slot is reused: a stale pointer still reads a string */
	r->next = s->freel[r->cls];
	s->freel[r->cls] = code;
	s->n--;
	s->bytes -= class_size[r->cls];
}

/* A freed slot's text (a stale pointer: no reference left, on its class's free list) is copied
 * like any text: taking a reference on it would revive a slot the free list still holds. */
const char *strs_dup(struct strs *s, const char *t, size_t len)
{
	return in_store(s, t) && ((const struct srec *)(t - UNIT))->refs ? strs_ref(s, t) :
									     strs_get(s, t, len);
}
