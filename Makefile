# SPDX-License-Identifier: GPL-2.0
#
# The human entry point. `make demo` and `make check` do everything on a
# fresh Debian 12 machine; see README.md.

KVER ?= $(shell scripts/kver.sh)
KDIR ?= /lib/modules/$(KVER)/build
BUILD ?= $(CURDIR)/build
export BUILD KVER KDIR

.PHONY: all deps module module-debug module-rt module-6.12 userlib selftests \
	host-tests style \
	sparse demo check check-quick check-debug vm bench model clean

all: module userlib selftests

deps:
	@scripts/deps.sh

module: deps
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 \
		KCFLAGS="-Werror -ffile-prefix-map=$(CURDIR)/=" modules
	@scripts/kapi-build.sh $(KDIR) $(CURDIR)/Module.symvers $(BUILD)/kapi

# The module for the debug kernel (KASAN, kmemleak, lockdep...), which is
# built from Debian's linux-source-6.1 on first use and cached outside the
# repository (scripts/debug-kernel.sh).
module-debug: deps
	@scripts/debug-module.sh >/dev/null

# The module for Debian's PREEMPT_RT kernel (linux-image-rt-amd64).
module-rt: deps
	@scripts/module-build.sh /lib/modules/$(shell scripts/kver.sh rt)/build \
		$(BUILD)/rt-module

# The module for Debian 12's 6.12 kernel (installed by scripts/deps.sh).
module-6.12: deps
	@scripts/module-build.sh \
		/lib/modules/$$(scripts/kver.sh 6.12)/build \
		$(BUILD)/6.12-module

userlib: deps
	$(MAKE) -C userlib

selftests: deps userlib
	$(MAKE) -C selftests

host-tests: deps userlib
	$(MAKE) -C selftests host-tests

style: deps
	@scripts/style.sh

sparse: deps
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 modules

demo: all
	scripts/vm-run.sh --timeout 600 -- chan-demo

vm: all
	scripts/vm-run.sh --interactive

# The checks that need no VM (build on both series, sparse, checkpatch,
# host tests), in about a minute.
check-quick: deps userlib
	@scripts/check-quick.sh

# check-quick first, so that what needs no VM fails fast.
check: check-quick all module-debug module-rt module-6.12
	+@scripts/check.sh

check-debug: module-debug userlib selftests
	+@scripts/check.sh --no-host --kernels debug

# Benchmarks (bench/README.md): installs its peers, runs, writes
# bench/results/ and prints the table.
bench: module userlib
	@scripts/bench.sh

# The protocol models (models/README.md), checked with spin: a few
# minutes, results under $(BUILD)/model.
model:
	@scripts/model.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf $(BUILD)
