// SPDX-License-Identifier: BSD-2-Clause
/* Probe sites of a Go function, found with a real disassembler (capstone), never by scanning
 * for a 0xC3 byte (which also occurs inside immediates and displacements):
 * - the stack-check prologue
 *     cmp rsp, [r14+0x10]   (or lea r12, [rsp-N]; cmp r12, [r14+0x10])
 *     jbe <morestack call>
 *   is found: on a stack growth the function runs runtime.morestack and starts again from its
 *   first instruction, so a probe on that instruction would fire twice for one call. The
 *   entry probe goes on the jump itself (uprobes emulate a conditional jump, while the
 *   instruction after it would be single-stepped: one trap more) and the BPF program ignores
 *   the pass where the jump's EFLAGS condition holds (the pass that grows the stack); when the
 *   jump is not a JBE/JB the probe goes after it. The prologue leaves the argument registers
 *   alone.
 * - the return probes go on every RET instruction. */
#include <capstone/capstone.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/ebee.h"
#include "uprobe/binary.h"

/* capstone is opened when a Go function is first disassembled, not linked: its relocated
 * tables cost every ebee process ~3 MB of resident memory, and only uprobe on Go needs it. */
static struct {
	void *lib;
	cs_err (*open)(cs_arch, cs_mode, csh *);
	cs_err (*option)(csh, cs_opt_type, size_t);
	cs_insn *(*alloc)(csh);
	bool (*disasm_iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
	void (*free)(cs_insn *, size_t);
	cs_err (*close)(csh *);
} cs_api;

static int capstone_load(void)
{
	static const char *const names[] = { "libcapstone.so.5", "libcapstone.so.4", "libcapstone.so" };

	for (size_t i = 0; !cs_api.lib && i < ARRAY_SIZE(names); i++)
		cs_api.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!cs_api.lib) {
		ebee_err("tracing Go functions needs the capstone disassembler library, not found (apt install libcapstone4)");
		return -ENOENT;
	}
	cs_api.open = dlsym(cs_api.lib, "cs_open");
	cs_api.option = dlsym(cs_api.lib, "cs_option");
	cs_api.alloc = dlsym(cs_api.lib, "cs_malloc");
	cs_api.disasm_iter = dlsym(cs_api.lib, "cs_disasm_iter");
	cs_api.free = dlsym(cs_api.lib, "cs_free");
	cs_api.close = dlsym(cs_api.lib, "cs_close");
	if (!cs_api.open || !cs_api.option || !cs_api.alloc || !cs_api.disasm_iter || !cs_api.free ||
	    !cs_api.close) {
		ebee_err("the capstone library found lacks cs_disasm_iter (capstone 3 or later needed)");
		dlclose(cs_api.lib);
		memset(&cs_api, 0, sizeof(cs_api));
		return -ENOENT;
	}
	return 0;
}

#define UP_FUNC_MAX (1 << 20)     /* bytes of one function we are willing to read */
#define PROLOGUE_INSNS 12

static bool is_stackguard_cmp(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	if (in->id != X86_INS_CMP)
		return false;
	for (int i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_R14 &&
		    (x->operands[i].mem.disp == 0x10 || x->operands[i].mem.disp == 0x18))
			return true;   /* g.stackguard0 (or stackguard1 on systemstack functions) */
	return false;
}

static bool is_cond_jump(unsigned id)
{
	return id == X86_INS_JBE || id == X86_INS_JB || id == X86_INS_JA || id == X86_INS_JAE ||
	       id == X86_INS_JLE || id == X86_INS_JL || id == X86_INS_JG || id == X86_INS_JGE;
}

int up_sites_go(const struct up_bin *b, const struct up_func *f, struct up_sites *s)
{
	uint8_t *code = NULL;
	const uint8_t *p;
	size_t left, n = 0;
	uint64_t addr;
	cs_insn *in = NULL;
	csh cs;
	bool cmp_seen = false;
	int err = 0;

	memset(s, 0, sizeof(*s));
	s->entry = f->addr;
	if (!f->size || f->size > UP_FUNC_MAX) {
		ebee_err("cannot disassemble '%s' in '%s': unknown or huge size (%llu bytes)", f->name,
			 b->path, (unsigned long long)f->size);
		return -ERANGE;
	}
	code = malloc(f->size);
	if (!code)
		return -ENOMEM;
	if (up_bin_read(b, f->addr, code, f->size)) {
		ebee_err("cannot read the code of '%s' in '%s'", f->name, b->path);
		free(code);
		return -EIO;
	}
	if (!cs_api.lib && (err = capstone_load())) {
		free(code);
		return err;
	}
	if (cs_api.open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		ebee_err("cannot start the capstone disassembler");
		free(code);
		return -ENOMEM;
	}
	cs_api.option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_api.alloc(cs);
	p = code;
	left = f->size;
	addr = f->addr;
	while (in && cs_api.disasm_iter(cs, &p, &left, &addr, in)) {
		if (n < PROLOGUE_INSNS && !s->prologue) {
			if (is_stackguard_cmp(in)) {
				cmp_seen = true;
			} else if (cmp_seen && is_cond_jump(in->id)) {
				s->entry = addr;   /* the instruction after the jump */
				s->prologue = true;
				s->jcc = in->address;
				s->jcc_flags = in->id == X86_INS_JBE ? 0x41 : in->id == X86_INS_JB ? 0x01 : 0;
			}
		}
		if (in->id == X86_INS_RET) {
			if (s->nret == UP_MAX_RETS) {
				ebee_err("'%s' has more than %d RET instructions: not probing it", f->name,
					 UP_MAX_RETS);
				err = -E2BIG;
				break;
			}
			s->ret[s->nret++] = in->address;
		}
		n++;
	}
	/* Go pads functions with INT3 (0xcc), which decodes; anything undecodable means we
	 * would not know where instructions start: refuse rather than guess. */
	if (!err && left) {
		ebee_err("cannot disassemble '%s' in '%s' at 0x%llx: not probing it", f->name, b->path,
			 (unsigned long long)addr);
		err = -EILSEQ;
	}
	if (in)
		cs_api.free(in, 1);
	cs_api.close(&cs);
	free(code);
	return err;
}
