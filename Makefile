# Sluice build. `make` builds everything; `make test`, `make demo` and
# `make bench` first install the Debian packages the project needs.
#   bpf/*.bpf.c -> build/*.bpf.o -> build/*.skel.h (bpftool gen skeleton)
#   src/lib/*.c -> build/libsluice.a ; src/cli/*.c -> build/sluice

CLANG ?= clang
CC ?= gcc
BPFTOOL ?= bpftool
BUILD := build
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -Wall -Werror -I$(ARCH_INC) -Iinclude -Ibpf
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -Iinclude -Isrc/lib -I$(BUILD)
# One binary: the BPF objects are embedded as skeletons; libbpf, libelf,
# zlib and libyaml (config files) are linked statically so the binary runs
# wherever the kernel does; libpcap (sluice dump) and libmicrohttpd (the
# daemon's metrics) dynamically, from Debian's packages (scripts/deps.sh).
# `make NEXT_LAYOUT=1 BUILD=build/next` builds a "next release" for the
# upgrade tests: one more reason, action and pinned map (abi.h).
ifeq ($(NEXT_LAYOUT),1)
BPF_CFLAGS += -DSL_NEXT_LAYOUT
CFLAGS += -DSL_NEXT_LAYOUT
endif
LDLIBS := -Wl,-Bstatic -lbpf -lelf -lz -lyaml -Wl,-Bdynamic -lpcap -lmicrohttpd

BPF_SRCS := $(wildcard bpf/*.bpf.c) $(wildcard bench/*.bpf.c) \
	    $(wildcard tests/unit/*.bpf.c)
BPF_OBJS := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS := $(BPF_OBJS:.bpf.o=.skel.h)
BPF_HDRS := $(wildcard bpf/lib/*.h) include/sluice/abi.h
LIB_SRCS := $(wildcard src/lib/*.c)
LIB_OBJS := $(patsubst src/lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
LIB_HDRS := $(wildcard src/lib/*.h) include/sluice/abi.h
CLI_SRCS := $(wildcard src/cli/*.c)
CLI_OBJS := $(patsubst src/cli/%.c,$(BUILD)/cli/%.o,$(CLI_SRCS))
UNIT_SRCS := $(filter-out %.bpf.c,$(wildcard tests/unit/*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
# bench/rulegen.c is the rule generator shared by the tests and benches;
# bench/rulegen_main.c its CLI, build/rulegen.
RULEGEN_OBJ := $(BUILD)/bench/rulegen.o
BENCH_SRCS := $(filter-out %.bpf.c bench/rulegen.c bench/rulegen_main.c,\
	$(wildcard bench/*.c))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all deps test demo bench clean format docs check-docs install FORCE
.DELETE_ON_ERROR:
# Keep the BPF objects and skeletons: the tests and benches load them too.
.SECONDARY:

all: $(BUILD)/sluice $(BUILD)/sluice.8 $(UNIT_BINS) $(BENCH_BINS) \
	$(BUILD)/rulegen $(BUILD)/verifier_stats $(BUILD)/xdp_drop.bpf.o

deps:
	@scripts/deps.sh

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: bench/%.bpf.c $(BPF_HDRS) $(wildcard bench/*.h) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: tests/unit/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

$(BUILD)/lib/%.o: src/lib/%.c $(LIB_HDRS) $(SKELS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libsluice.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/cli/%.o: src/cli/%.c $(LIB_HDRS) $(wildcard src/cli/*.h) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc/cli -c $< -o $@

$(BUILD)/sluice: $(CLI_OBJS) $(BUILD)/libsluice.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsluice.a $(LIB_HDRS) $(wildcard tests/unit/*.h) bpf/lib/ct_tcp.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -Ibench $< $(filter %.o,$^) $(BUILD)/libsluice.a -o $@ $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libsluice.a $(LIB_HDRS) $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(filter %.o,$^) $(BUILD)/libsluice.a -o $@ $(LDLIBS)

$(RULEGEN_OBJ): bench/rulegen.c bench/rulegen.h $(LIB_HDRS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Users of the rule generator and of the classifier's test program.
$(BUILD)/tests/test_classify $(BUILD)/tests/test_apply $(BUILD)/bench/bench_cls \
    $(BUILD)/bench/bench_rules: \
    $(RULEGEN_OBJ) $(SKELS)

# The verifier's work per program (stack, insns, time): tests/static.sh.
$(BUILD)/verifier_stats: tests/verifier_stats.c $(BUILD)/libsluice.a $(LIB_HDRS) $(SKELS)
	$(CC) $(CFLAGS) $< $(BUILD)/libsluice.a -o $@ $(LDLIBS)

$(BUILD)/rulegen: bench/rulegen_main.c $(RULEGEN_OBJ) $(BUILD)/libsluice.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The generator's header is shared by its program and its CLI.
$(BUILD)/livegen.bpf.o $(BUILD)/bench/livegen: bench/livegen.h
# The variants' experiment records.
$(BUILD)/sluice_variants.bpf.o $(BUILD)/bench/bench_xdp: bench/variants.h
# The test-run benches' frames.
$(BUILD)/bench/bench_xdp $(BUILD)/bench/bench_lb: bench/frame.h
$(BUILD)/bench/bench_lb: tests/unit/lb_lab.h bench/lb_harness.h

$(BUILD):
	@mkdir -p $(BUILD)

# The version `sluice --version` and `status` print: git describe of the
# tree (rewritten only when it changes, so nothing rebuilds needlessly).
SLUICE_VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/version.h: FORCE | $(BUILD)
	@v='#define SLUICE_VERSION "$(SLUICE_VERSION)"'; \
	[ -f $@ ] && [ "$$(cat $@)" = "$$v" ] || echo "$$v" > $@
FORCE:
$(BUILD)/cli/main.o $(BUILD)/cli/cmd_attach.o $(BUILD)/cli/cmd_daemon.o: \
    $(BUILD)/version.h

test: deps
	@$(MAKE) --no-print-directory all
	@tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/run.sh

# Installs the CLI, its man page, the systemd units and the docs; an existing
# /etc/sluice/sluice.yaml is kept. `systemctl enable --now sluice` then
# restores that config at every boot.
PREFIX ?= /usr/local
install: $(BUILD)/sluice $(BUILD)/sluice.8
	install -D -m 0755 $(BUILD)/sluice $(DESTDIR)$(PREFIX)/sbin/sluice
	install -D -m 0644 $(BUILD)/sluice.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/sluice.8
	install -D -m 0644 dist/sluice.service $(DESTDIR)/etc/systemd/system/sluice.service
	install -D -m 0644 dist/sluice-daemon.service \
		$(DESTDIR)/etc/systemd/system/sluice-daemon.service
	install -D -m 0644 docs/config.md $(DESTDIR)$(PREFIX)/share/doc/sluice/config.md
	install -D -m 0644 docs/daemon.md $(DESTDIR)$(PREFIX)/share/doc/sluice/daemon.md
	install -d $(DESTDIR)/etc/sluice
	[ -e $(DESTDIR)/etc/sluice/sluice.yaml ] || \
		printf 'policy: pass\n' > $(DESTDIR)/etc/sluice/sluice.yaml

# The man page, sluice(8): generated from the same tables as --help and
# docs/cli.md (`sluice help --man`).
$(BUILD)/sluice.8: $(BUILD)/sluice
	$< help --man > $@

# docs/cli.md is generated from the same table as --help.
docs: $(BUILD)/sluice
	$(BUILD)/sluice help --markdown > docs/cli.md

format:
	clang-format -i $(wildcard include/sluice/*.h bpf/*.c bpf/lib/*.h src/*/*.c src/*/*.h tests/*.c tests/unit/*.c tests/unit/*.h bench/*.c bench/*.h)

clean:
	rm -rf $(BUILD)
