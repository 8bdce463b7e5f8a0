# zpoline-go — build and test. `make` builds everything into build/; `make test` runs
# every test; `make demo` shows the default hook tracing `ls`.
GO      ?= go
CC      ?= gcc
BUILD   := build
ABS     := $(abspath $(BUILD))
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror
PREFIX  ?= /usr/local

LOADER  := $(BUILD)/libzpoline.so
IMPL    := $(BUILD)/libzpoline_hook_impl.so
TRACE   := $(BUILD)/libzpoline_trace.so
SAMPLES := $(BUILD)/zpoline_samples
GOEXAMPLES := $(BUILD)/libzpoline_go_getppid.so $(BUILD)/libzpoline_go_pass.so $(BUILD)/libzpoline_go_deny_unlink.so
# Example hook libraries on the C ABI: examples/c-hook (C), examples/rust-hook (Rust, rustc only).
CABI_EXAMPLES := $(BUILD)/examples/libzpoline_c_hook.so $(BUILD)/examples/libzpoline_rust_hook.so \
	$(BUILD)/examples/libzpoline_go_hooklib.so
RUSTC   ?= $(shell command -v rustc || echo /root/.cargo/bin/rustc)
CLI     := $(BUILD)/zpoline
GEN     := $(BUILD)/gen

# A Go c-shared library carries ~18,500 relative relocations: 440 KB of .rela.dyn that
# ld.so reads at every start and that stays resident. Packed as DT_RELR they take 5 KB.
# Used when the linker and glibc (2.36 or later) support it.
RELR    := $(shell printf 'int main(void){return 0;}' | $(CC) -x c - -o /dev/null -Wl,-z,pack-relative-relocs 2>/dev/null && echo -Wl,-z,pack-relative-relocs)
GOSHARED := $(GO) build -buildmode=c-shared $(if $(RELR),-ldflags=-extldflags=$(RELR))

.PHONY: all loader test demo bench install clean FORCE

all: loader $(IMPL) $(TRACE) $(SAMPLES) $(GOEXAMPLES) $(CABI_EXAMPLES) $(CLI) test-artifacts

include tests/Makefile.inc

# The Go toolchain tracks the loader's inputs itself (Go, C, asm, headers). Shared
# objects are built beside and renamed into place: `go build -o` rewrites the file in
# place, under programs that are running with it mapped.
loader: $(LOADER)
$(LOADER): FORCE
	$(GOSHARED) -o $@.new ./cmd/libzpoline
	mv $@.new $@
	rm -f $@.h $(BUILD)/libzpoline.h

# The command: pure Go and static, so it runs anywhere and is never hooked itself.
$(CLI): FORCE
	CGO_ENABLED=0 $(GO) build -o $@ ./cmd/zpoline

# Loader variants with Go hooks: examples/go-NAME -> build/libzpoline_go_NAME.so
$(BUILD)/libzpoline_go_%.so: FORCE
	$(GOSHARED) -o $@.new ./examples/go-$(subst _,-,$*)
	mv $@.new $@
	rm -f $(@:.so=.h) $@.h

# No libc, no vector registers: declared VECTOR_FREE|CLONE_SAFE (tests/examples_test.go checks).
$(BUILD)/examples/libzpoline_c_hook.so: examples/c-hook/c_hook.c include/zpoline.h
	@mkdir -p $(@D)
	$(CC) -O2 -fPIC -shared $(WARN) -mgeneral-regs-only -ffreestanding -fno-stack-protector \
		-fvisibility=hidden -nostdlib -Wl,-z,defs -Iinclude -o $@ $<

$(BUILD)/examples/libzpoline_rust_hook.so: examples/rust-hook/lib.rs
	@mkdir -p $(@D)
	$(RUSTC) --edition 2021 --crate-type cdylib -O -C panic=abort -C no-vectorize-loops \
		-C no-vectorize-slp -C link-arg=-nostartfiles -C link-arg=-Wl,-z,defs -o $@ $<

# A Go hook as a hook library of its own (its own Go runtime, loaded with ZPOLINE_HOOK).
$(BUILD)/examples/libzpoline_go_hooklib.so: FORCE
	@mkdir -p $(@D)
	$(GOSHARED) -o $@.new ./examples/go-hooklib
	mv $@.new $@
	rm -f $(@:.so=.h) $@.h

$(SAMPLES): examples/samples/zpoline_samples.c include/zpoline.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) $(WARN) -Iinclude -o $@ $< -ldl

# The one table of system-call and errno names, as a C header for the C hook library.
SYSTAB_SRC := $(filter-out %_test.go,$(wildcard internal/systab/*.go internal/systab/cmd/gen-systab-h/*.go)) \
	internal/systab/syscalls.tsv internal/systab/errnos.tsv
$(GEN)/zp_systab.h: $(SYSTAB_SRC)
	@mkdir -p $(@D)
	$(GO) run ./internal/systab/cmd/gen-systab-h -o $@

# The default hook library: no libc at all (-nostdlib, -z defs), no vector registers.
IMPL_CFLAGS := -O2 -fPIC -shared $(WARN) -mgeneral-regs-only -fvisibility=hidden -nostdlib \
	-Wl,-z,defs -Wframe-larger-than=1024 -Iinclude -I$(GEN)
$(IMPL): hooks/impl/src/zp_hook_impl.c include/zpoline.h $(GEN)/zp_systab.h
	@mkdir -p $(@D)
	$(CC) $(IMPL_CFLAGS) -o $@ hooks/impl/src/zp_hook_impl.c

# The recorder of `zpoline trace`: the same rules as the default hook library (no libc, no
# vector registers), a larger frame (one record with its memory copies is built on the
# stack), and the capture rules generated from the decode package.
TRACE_CFLAGS := $(filter-out -Wframe-larger-than=1024,$(IMPL_CFLAGS)) -Wframe-larger-than=40000 \
	-fno-stack-protector -Ihooks/trace/src
CAPTURE_SRC := $(filter-out %_test.go,$(wildcard decode/*.go hooks/trace/cmd/gen-capture-h/*.go))
$(GEN)/zp_capture.h: $(CAPTURE_SRC) $(SYSTAB_SRC)
	@mkdir -p $(@D)
	$(GO) run ./hooks/trace/cmd/gen-capture-h -o $@
$(TRACE): hooks/trace/src/zp_trace.c hooks/trace/src/zp_trace_ring.h include/zpoline.h \
		$(GEN)/zp_systab.h $(GEN)/zp_capture.h
	@mkdir -p $(@D)
	$(CC) $(TRACE_CFLAGS) -o $@.new hooks/trace/src/zp_trace.c
	mv $@.new $@

test: all
	ZPOLINE_BUILD=$(ABS) $(GO) test -count=1 -timeout 40m ./...

demo: all
	LD_PRELOAD=$(ABS)/libzpoline.so ls -la /usr
	LD_PRELOAD=$(ABS)/libzpoline.so $(SAMPLES)

# Medians over repeated trials, as ratios to native measured in the same run (bench/README.md).
bench: all
	$(GO) run ./bench/cmd/zpbench $(BENCHFLAGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(LOADER) $(IMPL) $(TRACE) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 include/zpoline.h $(DESTDIR)$(PREFIX)/include/
	install -m 0755 $(CLI) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(BUILD)
