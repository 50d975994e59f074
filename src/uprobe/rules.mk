# ebee uprobe disassembles Go functions to find RET instructions and the stack-check prologue.
# capstone's headers at build time; the library itself is dlopen'ed by disasm.c when needed.
CPPFLAGS += $(shell pkg-config --cflags capstone 2>/dev/null)
LDLIBS += -ldl
