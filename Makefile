# SPDX-License-Identifier: GPL-2.0
#
# The human entry point. `make demo` and `make check` do everything on a
# fresh Debian 12 machine; see README.md.

KVER ?= $(shell scripts/kver.sh)
KDIR ?= /lib/modules/$(KVER)/build
BUILD ?= $(CURDIR)/build
export BUILD KVER KDIR

.PHONY: all deps module userlib selftests host-tests style sparse \
	demo check vm clean

all: module userlib selftests

deps:
	@scripts/deps.sh

module: deps
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 KCFLAGS=-Werror modules

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

check: all
	@scripts/check.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf $(BUILD)
