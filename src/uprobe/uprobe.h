/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Types shared by uprobe.bpf.c and the user side. One BPF program is attached at every probe
 * site; its bpf_cookie says which function (index into the `layouts` map) and which kind of
 * site (entry, C return, Go RET instruction) fired. */
#ifndef EBEE_UPROBE_H
#define EBEE_UPROBE_H

#define UP_MAX_FUNCS   64      /* functions per run (layouts map size) */
#define UP_NARGS       6       /* named arguments per function */
#define UP_NSLOTS      (UP_NARGS + 1)  /* + the return value, slot UP_RET */
#define UP_RET         UP_NARGS
#define UP_SLOT_MAX    256     /* bytes captured for one str/bytes value */
#define UP_DATA_MAX    512     /* bytes captured for all str/bytes values of one call */
#define UP_HIST_SLOTS  40      /* log2(ns) latency buckets */
#define UP_GOT_FAULT   0xffff  /* got[i]: the user memory could not be read */

/* Cookie layout: function index in the low 16 bits, site kind above. */
#define UP_COOKIE(fn, site) ((unsigned long long)(fn) | ((unsigned long long)(site) << 16))
#define UP_COOKIE_FN(c)     ((c) & 0xffff)
#define UP_COOKIE_SITE(c)   (((c) >> 16) & 0xff)

enum up_site {
	UP_SITE_ENTRY = 0,    /* function entry (Go: the stack check's jump, see skip_flags) */
	UP_SITE_CRET = 1,     /* C return: uretprobe */
	UP_SITE_GORET = 2,    /* Go return: a uprobe on one RET instruction */
};

enum up_abi { UP_ABI_C = 0, UP_ABI_GO = 1 };

/* How a value is read. Integer widths are applied in user space from the raw register. */
enum up_type {
	UP_T_NONE = 0,
	UP_T_INT,       /* signed; width in up_arg.width (bytes) */
	UP_T_UINT,
	UP_T_PTR,       /* printed as hex */
	UP_T_BOOL,
	UP_T_STR,       /* C: NUL-terminated char *; Go: string (ptr,len) */
	UP_T_BYTES,     /* C: pointer, `size` bytes; Go: []byte (ptr,len,cap) */
};

/* Go register ABI integer registers, in assignment order (amd64, Go 1.17+). */
enum up_goreg { UP_GO_RAX, UP_GO_RBX, UP_GO_RCX, UP_GO_RDI, UP_GO_RSI,
		UP_GO_R8, UP_GO_R9, UP_GO_R10, UP_GO_R11, UP_GO_NREGS };
#define UP_REG_NONE 0xff

struct up_arg {
	__u8 type;       /* enum up_type; UP_T_NONE = slot unused */
	__u8 reg;        /* C: argument index 0..5 (PT_REGS_PARMn); Go: enum up_goreg */
	__u8 reg2;       /* Go str/bytes: register holding the length; else UP_REG_NONE */
	__u8 width;      /* integer width in bytes (1, 2, 4, 8) */
	__u16 size;      /* str/bytes: most bytes captured (<= UP_SLOT_MAX) */
	__u16 off;       /* str/bytes: offset in up_event.data (off + size <= UP_DATA_MAX) */
};

struct up_layout {
	__u8 abi;        /* enum up_abi */
	__u8 has_ret;    /* return sites are attached: entries wait for their return */
	__u16 goid_off;  /* Go: offset of runtime.g.goid for this Go version, 0 = unknown */
	__u16 skip_flags;/* Go: the entry probe sits on the stack check's conditional jump; when
			  * these EFLAGS bits are set the jump goes to runtime.morestack (and the
			  * function starts again): that pass is not counted */
	__u16 data_len;  /* bytes of up_event.data this layout uses: events are sent that short */
	struct up_arg a[UP_NSLOTS];   /* a[UP_RET] = the return value */
};

/* Pairs an entry with its return. C: (pid_tgid, sp at entry); Go: (g, stack.hi - sp), which
 * survives a stack copy and tells recursive calls apart. */
struct up_key {
	__u64 ctx;
	__u64 depth;
	__u32 fn;
	__u32 pad;
};

#define UP_EV_RET    1   /* a return was seen: lat_ns and slot UP_RET are valid */

struct up_event {
	__u64 ts;                 /* entry, bpf_ktime_get_ns */
	__u64 lat_ns;
	__u64 goid;               /* Go: goroutine id (or g address when the offset is unknown) */
	__u32 pid, tid;           /* tid at entry */
	__u32 fn;
	__u16 flags;
	__u16 pad;
	__u64 val[UP_NSLOTS];     /* raw register: integer or pointer */
	__u64 len[UP_NSLOTS];     /* Go str/bytes: length register */
	__u16 got[UP_NSLOTS];     /* bytes captured in data, or UP_GOT_FAULT */
	__u16 pad2;
	__u8 data[UP_DATA_MAX + UP_SLOT_MAX];  /* slack so the verifier sees off+size in bounds */
};

/* Per-function counters (per-CPU array, index fn * UP_NSTAT + stat). */
enum up_stat {
	UP_ST_ENTRY, UP_ST_RETURN, UP_ST_UNMATCHED,
	UP_ST_LATSUM,     /* ns, --count */
	UP_ST_GROWN,      /* Go: entry passes that went to runtime.morestack first (not counted) */
	UP_NSTAT
};

#endif
