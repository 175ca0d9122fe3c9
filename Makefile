# sabot — see README.md. `make V=1` shows the commands.
.DELETE_ON_ERROR:
.SUFFIXES:
# Keep the objects and skeletons of the BPF chain.
.SECONDARY:
.DEFAULT_GOAL := all

# The version is debian/changelog's (packaging/debian/changelog); `make deb`
# passes the package's own, snapshot suffix included.
VERSION ?= $(shell head -n 1 packaging/debian/changelog | cut -d' ' -f2 | tr -d '()')
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/sabot
# What the man pages add to the documents they name (.gz where the
# package compresses them).
MAN_DOC_SUFFIX ?=
DESTDIR ?=
FUZZ_SECONDS ?= 60

B := build
MAN_PAGES := $(B)/man/sabot.8 $(B)/man/sabot-scenario.5 $(B)/man/sabot-policy.5
CC := gcc
CLANG ?= clang
# Resolved when first used, after the dependencies are installed.
BPFTOOL = $(shell packaging/build-deps.sh --bpftool)
PKGS := libbpf libnl-3.0 libnl-route-3.0 libseccomp inih libcurl json-c libsystemd
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
# libcurl and libsystemd are loaded at run time (agent/curl_lib.c,
# agent/systemd_lib.c), not linked: they and what they pull in would slow
# every start of sabot, the kill switch's included.
PKG_LIBS = $(shell pkg-config --libs $(filter-out libcurl libsystemd,$(PKGS))) -lm
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS = $(shell pkg-config --libs check)

ifeq ($(V),1)
Q :=
msg := @true
else
Q := @
msg = @printf '  %-8s %s\n'
endif

# CFLAGS, CPPFLAGS and LDFLAGS from the environment are honoured
# (dpkg-buildflags' under dpkg-buildpackage: fortify, stack protector,
# PIE, bindnow). Without them the build is hardened all the same; the
# sanitizer build leaves fortify out (ASan intercepts those functions).
HARDEN_CFLAGS ?= -fstack-protector-strong -fPIE
HARDEN_CPPFLAGS ?= -D_FORTIFY_SOURCE=2
HARDEN_LDFLAGS ?= -pie -Wl,-z,relro -Wl,-z,now
WARN := -Wall -Wextra -Werror -Wformat=2 -Wno-format-nonliteral -Wstrict-prototypes -Wmissing-prototypes
OPT ?= -O2 -g
LIBDIR ?= $(PREFIX)/lib/sabot
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -DSABOT_VERSION='"$(VERSION)"' -DSABOT_LIBDIR='"$(LIBDIR)"' $(WARN) $(OPT) $(HARDEN_CFLAGS) -I$(B) $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
# The tests' build also fills every automatic variable with a pattern
# (0xfe bytes: an int reads negative, a pointer faults): a variable read
# before it is set fails the same way each run, which neither sanitizer
# sees (net_apply's r once passed every test by luck).
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -U_FORTIFY_SOURCE \
	-ftrivial-auto-var-init=pattern

LIB_SRCS := $(filter-out agent/main.c,$(wildcard agent/*.c)) $(wildcard faults/*.c)
BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(B)/%.skel.h,$(BPF_SRCS))
OBJS := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS))
ASAN_OBJS := $(patsubst %.c,$(B)/asan/%.o,$(LIB_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(wildcard tests/unit/check_*.c))
INT_TESTS := $(patsubst tests/integration/%.c,$(B)/tests/integration/%,$(wildcard tests/integration/check_*.c))
HELPERS := $(patsubst tests/helpers/%.c,$(B)/tests/helpers/%,$(wildcard tests/helpers/*.c))
VM_TESTS := $(patsubst tests/vm/%.c,$(B)/tests/vm/%,$(wildcard tests/vm/check_*.c))
# The fuzzer calls the parsers only and must not touch the host; it links
# the library whole, since the kinds (faults/) check their own sections.
FUZZ_SRCS := $(LIB_SRCS)

.PHONY: all deps test-deps check check-unit check-integration check-hostile check-vm bench fuzz demo install deb clean man

# The clock kind's preload (faults/preload/clock_fix.c), beside each
# binary: the sabot that finds it there uses it (the build tree's tests).
PRELOAD := $(B)/libsabot-clock.so $(B)/asan/libsabot-clock.so

all: $(B)/sabot $(PRELOAD) $(MAN_PAGES)

# Dependencies are installed by the build itself (apt-get, as root).
$(B)/.deps: packaging/build-deps.sh
	$(Q)mkdir -p $(@D)
	$(Q)sh packaging/build-deps.sh
	$(Q)touch $@
$(B)/.test-deps: packaging/build-deps.sh | $(B)/.deps
	$(Q)sh packaging/build-deps.sh --test
	$(Q)touch $@
deps: $(B)/.deps
test-deps: $(B)/.test-deps

# eBPF: bpf/X.bpf.c -> build/bpf/X.bpf.o -> build/X.skel.h -> the loader in faults/.
CLANG_BPF_SYS_INCLUDES = $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

$(B)/bpf/%.bpf.o: bpf/%.bpf.c bpf/%.h | $(B)/.deps
	$(msg) BPF $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -Ibpf $(CLANG_BPF_SYS_INCLUDES) -c $< -o $@

$(B)/%.skel.h: $(B)/bpf/%.bpf.o
	$(msg) GEN-SKEL $@
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(B)/obj/%.o: %.c | $(B)/.deps $(SKELS)
	$(msg) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HARDEN_CPPFLAGS) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(B)/asan/%.o: %.c | $(B)/.deps $(SKELS)
	$(msg) CC-SAN $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -c $< -o $@

$(B)/sabot: $(B)/obj/agent/main.o $(OBJS)
	$(msg) LD $@
	$(Q)$(CC) $(OPT) $(HARDEN_CFLAGS) $(HARDEN_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(B)/asan/sabot: $(B)/asan/agent/main.o $(ASAN_OBJS)
	$(msg) LD-SAN $@
	$(Q)$(CC) $(OPT) $(SAN) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

# Loaded into the targets: never sanitized; hardened as the binary is.
$(B)/libsabot-clock.so: faults/preload/clock_fix.c | $(B)/.deps
	$(msg) CC-SO $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(WARN) $(OPT) -fPIC -shared -fstack-protector-strong $(HARDEN_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) \
		-Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -o $@ $< $(LDFLAGS)
$(B)/asan/libsabot-clock.so: $(B)/libsabot-clock.so
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@

# Processes the tests launch as targets: plain, static-free, no sanitizer.
$(B)/tests/helpers/%: tests/helpers/%.c | $(B)/.deps
	$(msg) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $<

$(B)/tests/%: tests/%.c $(ASAN_OBJS) | $(B)/.test-deps
	$(msg) CC-TEST $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) $(CHECK_CFLAGS) -DSRCDIR='"$(CURDIR)"' -Wno-missing-prototypes -o $@ $< $(ASAN_OBJS) $(PKG_LIBS) $(CHECK_LIBS)

# Unit tests, then the root integration tests, the hostile-host tier and
# the VM tier, all under ASan and UBSan; each tier runs only when the one
# before passed.
check:
	$(Q)$(MAKE) --no-print-directory check-unit
	$(Q)$(MAKE) --no-print-directory check-integration
	$(Q)$(MAKE) --no-print-directory check-hostile
	$(Q)$(MAKE) --no-print-directory check-vm

check-unit: $(UNIT_TESTS)
	$(Q)sh tests/run-unit.sh $(UNIT_TESTS)

check-integration: $(B)/asan/sabot $(B)/sabot $(PRELOAD) $(B)/sabot-demo $(B)/gen-man $(MAN_PAGES) $(INT_TESTS) $(HELPERS) | $(B)/.test-deps
	$(Q)SABOT=$(CURDIR)/$(B)/asan/sabot BUILD=$(CURDIR)/$(B) sh tests/integration/run.sh

# Every promise tried as an attacker or an unlucky host would (tests/hostile/).
check-hostile: $(B)/asan/sabot $(B)/sabot $(PRELOAD) $(HELPERS) | $(B)/.test-deps
	$(Q)SABOT=$(CURDIR)/$(B)/asan/sabot BUILD=$(CURDIR)/$(B) TESTDIR=$(CURDIR)/tests/hostile \
		CHECKDIR=$(CURDIR)/$(B)/tests/hostile TIER=hostile sh tests/integration/run.sh

# The VM tier: Debian's stock kernels under qemu, one after another, for
# what this machine's kernel lacks (netem, fq, tracing and LSM BPF); each
# name is resolved through apt to today's versioned kernel package.
VM_KERNELS ?= linux-image-amd64 linux-image-cloud-amd64 linux-image-6.12-amd64
check-vm: $(B)/sabot $(B)/asan/sabot $(PRELOAD) $(B)/sabot-demo $(VM_TESTS) $(B)/bench/net_apply $(HELPERS) | $(B)/.test-deps
	$(Q)sh packaging/build-deps.sh --vm
	$(Q)rc=0; BUILD=$(CURDIR)/$(B) VM_KERNELS="$(VM_KERNELS)" bash tests/vm/run-vm.sh || rc=1; \
	BUILD=$(CURDIR)/$(B) bash tests/vm/run-systemd.sh || rc=1; exit $$rc

# Benchmarks: they print their figures. Optimized build, no sanitizers.
BENCH_TRIALS ?= 25
# bench/slo_probe: SLO_BEFORE, another sabot binary to compare with (paired).
SLO_BEFORE ?=
SLO_TRIALS ?= 5
SLO_LONG_S ?= 200
# The kill switch and breach figures: each p99 over at least 100 trials.
LATENCY_TRIALS ?= 100
# A p99 needs 100 trials or more.
KILL_TRIALS ?= 100
$(B)/bench/%: bench/%.c | $(B)/.deps
	$(msg) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $<

$(B)/bench/net_apply: bench/net_apply.c $(OBJS) | $(B)/.deps
	$(msg) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(OBJS) $(PKG_LIBS)

$(B)/bench/kill_scale: bench/kill_scale.c $(OBJS) | $(B)/.deps
	$(msg) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(OBJS) $(PKG_LIBS)

$(B)/bench/classifier_cost: bench/classifier_cost.c $(OBJS) | $(B)/.deps
	$(msg) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(OBJS) $(PKG_LIBS)

$(B)/bench/ebpf_cost: bench/ebpf_cost.c $(OBJS) | $(B)/.deps
	$(msg) CC $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(OBJS) $(PKG_LIBS)

# The seccomp figure: 100 paired rounds (a p99 needs them); BASE=an older
# sabot binary adds its before/after.
BENCH_SYSCALL_ROUNDS ?= 100
# The netem kinds' apply+revert figures need netem, which not every kernel
# has (net_apply says so where it is missing): BENCH_VM=1 also boots the
# VM tier's network bench (Debian's stock kernel under qemu) and prints
# its figures; BENCH_VM_TIMEOUT bounds the guest (seconds).
BENCH_VM ?=
BENCH_VM_TIMEOUT ?= 2400
bench: $(B)/sabot $(B)/bench/abort_latency $(B)/bench/net_apply $(B)/bench/notify_floor $(B)/bench/slo_probe $(B)/bench/kill_scale $(B)/bench/classifier_cost $(B)/bench/ebpf_cost $(B)/bpf/net_filter.bpf.o $(B)/tests/helpers/writer
	$(Q)sh packaging/build-deps.sh --bench
	$(Q)sh bench/syscall_cost.sh $(CURDIR)/$(B)/sabot $(CURDIR)/$(B)/tests/helpers/writer $(CURDIR)/$(B)/bench/notify_floor $(BENCH_SYSCALL_ROUNDS)
	$(Q)$(B)/bench/abort_latency $(CURDIR)/$(B)/sabot $(LATENCY_TRIALS)
	$(Q)$(B)/bench/net_apply $(B)/bpf/net_filter.bpf.o $(BENCH_TRIALS)
	$(Q)if [ -n "$(BENCH_VM)" ]; then $(MAKE) --no-print-directory check-vm VM_ONLY=test_bench_net.sh \
		VM_KERNELS=linux-image-amd64 VM_TIMEOUT=$(BENCH_VM_TIMEOUT); fi
	$(Q)$(B)/bench/classifier_cost
	$(Q)$(B)/bench/ebpf_cost
	$(Q)sh bench/throughput.sh $(CURDIR)/$(B)/sabot
	$(Q)ABORT_LATENCY=$(CURDIR)/$(B)/bench/abort_latency sh bench/breach_latency.sh $(CURDIR)/$(B)/sabot $(LATENCY_TRIALS)
	$(Q)$(B)/bench/slo_probe $(CURDIR)/$(B)/sabot "$(SLO_BEFORE)" $(SLO_TRIALS) $(SLO_LONG_S)
	$(Q)bash bench/scale.sh $(CURDIR)/$(B)/sabot $(BENCH_TRIALS)
	$(Q)$(B)/bench/kill_scale $(KILL_TRIALS) 1000

# libFuzzer over the scenario and policy parsers, seeded from scenarios/.
$(B)/fuzz/fuzz_conf: tests/fuzz/fuzz_conf.c $(FUZZ_SRCS) | $(B)/.test-deps $(SKELS)
	$(msg) FUZZ $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -std=gnu11 -D_GNU_SOURCE -DSABOT_VERSION='"$(VERSION)"' -I$(B) $(PKG_CFLAGS) -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $^ $(PKG_LIBS)

fuzz: $(B)/fuzz/fuzz_conf
	$(Q)mkdir -p $(B)/fuzz/corpus
	$(Q)cp scenarios/*.ini packaging/policy.ini tests/fuzz/seeds/* $(B)/fuzz/corpus/
	$(B)/fuzz/fuzz_conf -max_total_time=$(FUZZ_SECONDS) -timeout=5 -dict=tests/fuzz/conf.dict \
		-artifact_prefix=$(B)/fuzz/ $(B)/fuzz/corpus

# Man pages: hand-written templates (packaging/man/*.in) whose tables
# gen-man fills from the code's own key, kind and option tables. The .TH
# date is SOURCE_DATE_EPOCH's, else debian/changelog's latest entry's, so
# that a build is reproducible.
MAN_DATE = $(shell date -u -d "@$${SOURCE_DATE_EPOCH:-$$(date -d "$$(sed -n 's/^ -- .*>  *//p' \
	packaging/debian/changelog | head -n 1)" +%s)}" +%Y-%m-%d)

$(B)/gen-man: packaging/man/gen-man.c agent/main.c $(OBJS)
	$(msg) CC $@
	$(Q)$(CC) $(HARDEN_CPPFLAGS) $(CPPFLAGS) $(ALL_CFLAGS) $(HARDEN_LDFLAGS) -o $@ $< $(OBJS) $(PKG_LIBS) $(LDFLAGS)

# What the pages are made with, rewritten only when it changes (a make
# install with another PREFIX remakes them).
MAN_VARS = $(VERSION) $(MAN_DATE) $(DATADIR) $(DOCDIR) $(MAN_DOC_SUFFIX)
$(B)/man/.vars: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)echo '$(MAN_VARS)' | cmp -s - $@ || echo '$(MAN_VARS)' > $@
.PHONY: FORCE

$(B)/man/%: packaging/man/%.in $(B)/gen-man $(B)/man/.vars
	$(msg) GEN $@
	$(Q)mkdir -p $(@D)
	$(Q)$(B)/gen-man $< > $@.tmp
	$(Q)sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@DATE@|$(MAN_DATE)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
		-e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@GZ@|$(MAN_DOC_SUFFIX)|g' $@.tmp > $@
	$(Q)rm -f $@.tmp

man: $(MAN_PAGES)

# The README's first command: sabot's main job on the built-in demo target,
# in a throwaway sandbox of network namespaces (scenarios/demo/demo.sh).
$(B)/sabot-demo: scenarios/demo/sabot-demo.c | $(B)/.deps
	$(msg) CC $@
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $<

$(B)/.demo-deps: packaging/build-deps.sh | $(B)/.deps
	$(Q)sh packaging/build-deps.sh --demo
	$(Q)touch $@

demo: $(B)/sabot $(B)/sabot-demo | $(B)/.demo-deps
	$(Q)sh scenarios/demo/demo.sh

UNITDIR ?= $(PREFIX)/lib/systemd/system
# journald's message catalog (systemd's package trigger runs journalctl --update-catalog).
CATALOGDIR ?= $(PREFIX)/lib/systemd/catalog

install: $(B)/sabot $(B)/libsabot-clock.so $(MAN_PAGES)
	install -D -m 0755 $(B)/sabot $(DESTDIR)$(SBINDIR)/sabot
	install -D -m 0644 $(B)/libsabot-clock.so $(DESTDIR)$(LIBDIR)/libsabot-clock.so
	install -D -m 0644 $(B)/man/sabot.8 $(DESTDIR)$(MANDIR)/man8/sabot.8
	install -D -m 0644 $(B)/man/sabot-scenario.5 $(DESTDIR)$(MANDIR)/man5/sabot-scenario.5
	install -D -m 0644 $(B)/man/sabot-policy.5 $(DESTDIR)$(MANDIR)/man5/sabot-policy.5
	install -d $(DESTDIR)$(UNITDIR)
	for u in packaging/systemd/*.service packaging/systemd/*.timer; do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
	done
	install -d $(DESTDIR)$(DATADIR)/sabot/scenarios
	install -m 0644 scenarios/*.ini $(DESTDIR)$(DATADIR)/sabot/scenarios/
	install -D -m 0644 scenarios/README.md $(DESTDIR)$(DATADIR)/doc/sabot/scenarios/README.md
	install -D -m 0644 packaging/policy.ini $(DESTDIR)$(DATADIR)/sabot/policy.ini.example
	install -d $(DESTDIR)$(DATADIR)/sabot/schema
	install -m 0644 agent/schema/*.schema.json $(DESTDIR)$(DATADIR)/sabot/schema/
	install -D -m 0644 agent/schema/README.md $(DESTDIR)$(DATADIR)/doc/sabot/schema/README.md
	install -D -m 0644 packaging/sabot.catalog $(DESTDIR)$(CATALOGDIR)/sabot.catalog
	install -D -m 0644 packaging/bash-completion/sabot $(DESTDIR)$(BASHCOMPDIR)/sabot

# The Debian package with dpkg-buildpackage -b -us -uc, from packaging/debian
# (packaging/deb/build-deb.sh): build/deb/sabot_VERSION_ARCH.deb and its
# -dbgsym; prints the .deb's path.
deb: | $(B)/.deps
	$(Q)sh packaging/build-deps.sh --deb
	$(Q)sh packaging/deb/build-deb.sh $(CURDIR)/$(B)

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
