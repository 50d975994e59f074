# ebee — one binary, BPF objects embedded as libbpf skeletons.
#   make            build build/ebee            make V=1     show commands
#   make asan       ASan+UBSan build in build/asan/ebee
#   make unit       build and run the cmocka unit tests
#   make test       the whole suite (scripts/test.sh), what CI runs
# Features are folders under src/: every src/*/*.bpf.c becomes a skeleton header
# build/<b>/skel/NAME.skel.h, every other src/*/*.c is linked into ebee. A feature that needs
# more (generated assets, libraries) adds a src/FEATURE/rules.mk, included below.

BUILD    ?= build
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)
msg       = $(if $(filter 1,$(V)),,@printf '  %-8s %s\n' '$(1)' '$(2)';)

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH:= $(shell $(CC) -print-multiarch 2>/dev/null)

# Libraries come from pkg-config; a feature's rules.mk appends to PKGS.
PKGS     := libbpf libelf zlib
CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	    -Wno-format-truncation \
	    -std=gnu11 -D_GNU_SOURCE -fno-omit-frame-pointer
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
ifeq ($(SAN),1)
CFLAGS   += $(SANFLAGS)
LDFLAGS  += $(SANFLAGS)
endif
CPPFLAGS += -Isrc -I$(BUILD)/gen -I$(BUILD)/skel

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
	      -Isrc -Isrc/core/bpf -I$(BUILD)/gen $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))

BPF_SRCS  := $(wildcard src/*/*.bpf.c)
USER_SRCS := $(filter-out %.bpf.c,$(wildcard src/*.c src/*/*.c))
SKELS     := $(patsubst src/%.bpf.c,$(BUILD)/skel/%.skel.h,$(BPF_SRCS))
USER_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(BUILD)/obj/main.o,$(USER_OBJS))
GEN       := $(BUILD)/gen/vmlinux.h $(BUILD)/gen/syscalls.h.gen

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all asan unit unit-bins test clean deps run man fuzz-bins

all: $(BUILD)/ebee

-include $(wildcard src/*/rules.mk)

LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -lelf -lz)
CPPFLAGS += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

$(BUILD)/ebee: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# vmlinux.h is generated from the build host's BTF rather than committed: CO-RE relocates
# field offsets at load time, so the binary still runs on other BTF kernels, and the repo does
# not carry a 3 MB header that goes stale.
$(BUILD)/gen/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)test -r /sys/kernel/btf/vmlinux || { echo "ebee build: /sys/kernel/btf/vmlinux missing: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF)" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

# Syscall names as the kernel knows them, from the UAPI header of this architecture.
$(BUILD)/gen/syscalls.h.gen: scripts/gen-syscalls.sh
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)scripts/gen-syscalls.sh $(CC) > $@

$(BUILD)/bpf/%.bpf.o: src/%.bpf.c $(BUILD)/gen/vmlinux.h $(wildcard src/core/bpf/*.h) $(wildcard src/*/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Isrc/$(dir $*) -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name $(notdir $*)_bpf > $@

$(BUILD)/obj/%.o: src/%.c $(GEN) $(SKELS) $(wildcard src/*/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS) -lcmocka

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	$(Q)rc=0; for t in $(UNIT_BINS); do $$t || rc=1; done; exit $$rc

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all unit-bins

# Fuzz targets (libFuzzer, clang, ASan+UBSan), one per parser of untrusted input: each links
# its parser's sources alone (tests/fuzz/fuzz_log.c stands in for core/log.c). scripts/fuzz.sh
# runs them for a bounded time; make test calls it.
FUZZ_CC     ?= clang
FUZZ_FLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	       -std=gnu11 -D_GNU_SOURCE $(shell pkg-config --cflags capstone 2>/dev/null)
FUZZ_argspec := src/uprobe/argspec.c
FUZZ_opts    := src/core/opts.c
FUZZ_labels  := src/geoip/geoip.c
FUZZ_elf     := src/uprobe/elfsym.c src/uprobe/gobin.c src/uprobe/disasm.c
FUZZ_policy  := src/policy/parse.c src/policy/compile.c src/core/opts.c
FUZZ_graph   := src/graph/store.c src/graph/file.c src/graph/query.c src/core/out.c src/core/json.c
FUZZ_guard   := src/guard/cond_parse.c src/guard/cond.c src/guard/rules.c src/guard/fields.c
FUZZ_serve   := src/serve/route.c src/serve/config.c src/core/opts.c
FUZZ_enforce := src/enforce/efile.c $(FUZZ_guard)
FUZZ_LIBS    := -lelf -lz -lmaxminddb -ldl -lyaml
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(filter-out tests/fuzz/fuzz_log.c,$(wildcard tests/fuzz/fuzz_*.c)))

.SECONDEXPANSION:
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_log.c $$(FUZZ_$$*) $(GEN) $(wildcard src/*/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -Isrc -I$(BUILD)/gen -o $@ $< tests/fuzz/fuzz_log.c $(FUZZ_$*) $(FUZZ_LIBS)

fuzz-bins: $(FUZZ_BINS)

# README's first command: install what is missing, build, run the main job.
run:
	$(Q)scripts/deps.sh build
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/main-job.sh

test:
	$(Q)scripts/test.sh

deps:
	$(Q)scripts/deps.sh all

# One man page per command and subcommand, generated from the option tables (ebee help --man).
man: $(BUILD)/ebee
	$(Q)mkdir -p $(BUILD)/man
	$(Q)scripts/gen-man.sh $(BUILD)/ebee $(BUILD)/man

clean:
	$(call msg,CLEAN,build)
	$(Q)rm -rf build
