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
	sparse demo check check-quick check-debug vm bench model clean \
	install uninstall deb package-test

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

# Installing without Debian packages (docs/install.md): headers, libchan
# (static and shared), libchan.pc, chanctl (linked against libchan.so.1),
# the man pages that man/ has, and the module's source for DKMS under
# $(SRCDIR)/chan-$(VERSION).  Needs only the compiler: no scripts/deps.sh.
VERSION := $(shell cat $(CURDIR)/VERSION)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SRCDIR ?= $(PREFIX)/src
# INSTALL_MAN=no leaves the man pages to the caller (debian/rules).
INSTALL_MAN ?= yes
DKMS_SRC = $(SRCDIR)/chan-$(VERSION)
MANPAGES = $(wildcard man/*.[3478])
KMOD_SRCS = $(wildcard kmod/*.[ch])

install:
	$(MAKE) -C userlib installed
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR)/chan/linux \
		$(DESTDIR)$(DKMS_SRC)/kmod $(DESTDIR)$(DKMS_SRC)/uapi/linux
	install -m 0755 $(BUILD)/userlib/installed/chanctl $(DESTDIR)$(BINDIR)/
	install -m 0644 $(BUILD)/userlib/libchan.a $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(BUILD)/userlib/libchan.so.1 $(DESTDIR)$(LIBDIR)/
	ln -sf libchan.so.1 $(DESTDIR)$(LIBDIR)/libchan.so
	install -m 0644 userlib/include/libchan.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 uapi/linux/chan.h $(DESTDIR)$(INCLUDEDIR)/chan/linux/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		userlib/libchan.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/libchan.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/libchan.pc
	install -m 0644 Kbuild VERSION $(DESTDIR)$(DKMS_SRC)/
	install -m 0644 $(KMOD_SRCS) $(DESTDIR)$(DKMS_SRC)/kmod/
	install -m 0644 uapi/linux/chan.h $(DESTDIR)$(DKMS_SRC)/uapi/linux/
	sed 's|#MODULE_VERSION#|$(VERSION)|' dkms.conf >$(DESTDIR)$(DKMS_SRC)/dkms.conf
	chmod 0644 $(DESTDIR)$(DKMS_SRC)/dkms.conf
ifeq ($(INSTALL_MAN),yes)
	@set -e; for f in $(MANPAGES); do \
		s=$${f##*.}; \
		install -d $(DESTDIR)$(MANDIR)/man$$s; \
		echo "install -m 0644 $$f $(DESTDIR)$(MANDIR)/man$$s/"; \
		install -m 0644 $$f $(DESTDIR)$(MANDIR)/man$$s/; \
	done
endif
	@echo "installed chan $(VERSION) under $(DESTDIR)$(PREFIX); for the module: dkms install chan/$(VERSION) (docs/install.md)"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/chanctl $(DESTDIR)$(LIBDIR)/libchan.a \
		$(DESTDIR)$(LIBDIR)/libchan.so.1 $(DESTDIR)$(LIBDIR)/libchan.so \
		$(DESTDIR)$(PKGCONFIGDIR)/libchan.pc \
		$(DESTDIR)$(INCLUDEDIR)/libchan.h \
		$(DESTDIR)$(INCLUDEDIR)/chan/linux/chan.h
	-rmdir $(DESTDIR)$(INCLUDEDIR)/chan/linux $(DESTDIR)$(INCLUDEDIR)/chan
	rm -rf $(DESTDIR)$(DKMS_SRC)
	@set -e; for f in $(notdir $(MANPAGES)); do \
		rm -f $(DESTDIR)$(MANDIR)/man$${f##*.}/$$f; \
	done

# Debian packages (chan-dkms, libchan1, libchan-dev, chan-tools) built with
# dpkg-buildpackage in a copy of the tree, collected in $(BUILD)/deb/ and
# checked with lintian (docs/install.md).
deb:
	@scripts/deb.sh

# Install those packages in a Debian 12 VM (systemd, both kernels) the way a
# user would, and remove them again (scripts/package-test.sh).
package-test: deb
	@scripts/package-test.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf $(BUILD)
