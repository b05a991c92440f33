# SPDX-License-Identifier: GPL-2.0-only
# iodma: top-level wrapper. The module itself is described in Kbuild.
#
#   make [all]       modules and the demo's user tool
#   make modules     build iodma.ko, iodma_kunit.ko and iodma_edu.ko against KDIR
#   make tool        the demo's user tool, src/edu/iodma_edu_tool (static)
#   make check       all tests: KUnit in QEMU on the debug test kernel, in
#                    each of CONFIGS, and the iodma_edu end-to-end test in
#                    EDU_CONFIGS; then a summary (its exit status)
#   make kunit       the edit-compile-test loop: the KUnit suites in each of
#                    CONFIGS and their summary only (no end-to-end guest,
#                    gates or DKMS; under a minute on a warm tree)
#   make demo        the iodma_edu demo: copies through QEMU's edu device in
#                    DEMO_CONFIGS, on the test kernel and (DEMO_STOCK=1, the
#                    default) Debian's stock 6.12 kernel, unpacked in the
#                    cache, not installed
#   make bench       the benchmark (iodma_bench.ko) in each of CONFIGS, one
#                    guest at a time, with -icount shift=0; report in
#                    RESULTS/bench/bench.{md,csv,png} (BENCH_TIMEOUT per guest);
#                    BENCH_KERNEL=stock: on Debian's stock 6.12 kernel, in
#                    RESULTS/bench-stock/
#   make sparse      run sparse over the module (test kernel)
#   make gates       checkpatch, kernel-doc, W=1, sparse, the Sphinx
#                    documentation, and nothing installed under /boot
#                    (scripts/gates.sh; part of make check)
#   make dkms-test   DKMS builds for Debian's stock 6.12 and 6.1 kernels and
#                    the demo booted on each (part of make check with DKMS=1)
#   make fuzz        the differential fuzzer of segment generation against
#                    its reference model (kunit/segfuzz/): FUZZ_CASES cases
#                    (default 10 million) from FUZZ_SEED; make check runs
#                    CHECK_FUZZ_CASES (100000) of them
#   make clean
#
# Variables: KDIR (kernel build dir for 'make modules'), CONFIGS (subset of
# "direct swiotlb iommu"), EDU_CONFIGS (end-to-end runs; default: direct and
# iommu if in CONFIGS), DEMO_CONFIGS, DEMO_STOCK, DEMO_JOBS, TIMEOUT (seconds
# per guest), GUEST_JOBS (guests run at once by 'make check'), RESULTS (output
# directory).

ifneq ($(KERNELRELEASE),)
# Read by kbuild only when Kbuild is missing; Kbuild is the real description.
include $(src)/Kbuild
else

SHELL := /bin/bash
SCRIPTS := $(CURDIR)/scripts
RESULTS ?= $(CURDIR)/results
CONFIGS ?= direct swiotlb iommu
TIMEOUT ?= 300
GUEST_JOBS ?= 2
MODULES := iodma.ko iodma_kunit.ko
EDU_MODULES := iodma.ko iodma_edu.ko
EDU_CONFIGS ?= $(filter direct iommu,$(CONFIGS))
DEMO_CONFIGS ?= direct iommu
DEMO_STOCK ?= 1
DEMO_JOBS ?= 2
TOOL := src/edu/iodma_edu_tool
BENCH_TIMEOUT ?= 900
# test: the debug test kernel; stock: Debian's 6.12 (production costs)
BENCH_KERNEL ?= test
DKMS ?= 1
# make kunit runs its three guests at once on what may be two host cores:
# one host thread per guest wastes less than multi-threaded TCG there.
KUNIT_TCG_THREAD ?= single
# The stock kernels' boots with the demo copy on each (DKMS_BOOT= leaves them
# out).  A stock guest that dies before iodma.ko is loaded is booted once
# more: one 6.12 guest under TCG died of a double fault in early boot.
DKMS_BOOT ?= -b

# The test kernel's build directory (not built by this lookup; empty before
# scripts/install-deps.sh has installed linux-source-6.12).
TEST_KDIR := $(shell $(SCRIPTS)/build-test-kernel.sh --print-dir --no-build 2>/dev/null)
HOST_KDIR := /lib/modules/$(shell uname -r)/build
ifeq ($(origin KDIR),undefined)
KDIR := $(if $(wildcard $(HOST_KDIR)/Makefile),$(HOST_KDIR),$(TEST_KDIR))
endif

.PHONY: all modules tool check kunit demo clean deps test-kernel check-modules check-build \
	kunit-build guests sparse bench gates dkms-test

all: modules tool

modules:
ifeq ($(KDIR),$(TEST_KDIR))
	@kdir=$$($(SCRIPTS)/build-test-kernel.sh --print-dir) && \
		$(MAKE) -C $$kdir M=$(CURDIR) modules
else
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
endif

# Static, so that it runs in the guest's busybox initramfs.
tool: $(TOOL)
$(TOOL): src/edu/iodma_edu_tool.c include/uapi/linux/iodma_edu.h
	$(CC) -static -O2 -Wall -Wextra -I$(CURDIR)/include/uapi -o $@ $<

deps:
	@$(SCRIPTS)/install-deps.sh

test-kernel: deps
	@$(SCRIPTS)/build-test-kernel.sh

# The tests always run on the test kernel, whatever KDIR says.
check-modules: deps
	@kdir=$$($(SCRIPTS)/build-test-kernel.sh --print-dir) && \
		$(MAKE) -C $$kdir M=$(CURDIR) modules

# sparse over the module, against the test kernel.
sparse: deps
	@kdir=$$($(SCRIPTS)/build-test-kernel.sh --print-dir) && \
		$(MAKE) -C $$kdir M=$(CURDIR) C=2 modules

kunit-build: check-modules
	@$(SCRIPTS)/mkinitramfs.sh -o $(RESULTS)/initramfs.cpio $(MODULES)

check-build: kunit-build $(TOOL)
	@$(SCRIPTS)/mkinitramfs.sh -o $(RESULTS)/initramfs-edu.cpio \
		-x $(SCRIPTS)/demo-guest.sh -b $(TOOL) $(EDU_MODULES)

# The end-to-end guests (the longest) first; each line is run-guest.sh's arguments.
guests:
	@rm -rf $(addprefix $(RESULTS)/,direct swiotlb iommu edu-direct edu-swiotlb edu-iommu)
	@{ for c in $(EDU_CONFIGS); do \
		echo "-e -i $(RESULTS)/initramfs-edu.cpio $$c $(RESULTS)"; done; \
	   for c in $(CONFIGS); do \
		echo "-i $(RESULTS)/initramfs.cpio $$c $(RESULTS)"; done; } | \
		xargs -P $(GUEST_JOBS) -L 1 $(SCRIPTS)/run-guest.sh -t $(TIMEOUT) || true

# $(call build_or_fail,TARGET,NAME): make TARGET, or end with the closing
# line, as a failure.
build_or_fail = if ! $(MAKE) --no-print-directory $(1); then \
	echo "$(2): the build failed, no test ran"; echo "0 passed, 1 failed, 0 skipped"; exit 1; fi

# A build failure still ends with the closing line, as a failure. The gates
# and the DKMS test run beside the guests (GUEST_JOBS of them at once), so
# that the host's cores stay busy while a guest waits.
check:
	@start=$$(date +%s); \
	$(call build_or_fail,check-build,check); \
	mkdir -p $(RESULTS)/gates $(RESULTS)/dkms; \
	$(SCRIPTS)/gates.sh -o $(RESULTS)/gates >$(RESULTS)/gates/gates.out 2>&1 & gates=$$!; \
	mkdir -p $(RESULTS)/segfuzz; $(SCRIPTS)/segfuzz.sh -o $(RESULTS)/segfuzz -n $(CHECK_FUZZ_CASES) \
		>$(RESULTS)/segfuzz/segfuzz.out 2>&1 & segfuzz=$$!; \
	if [ "$(DKMS)" = 1 ]; then \
		$(SCRIPTS)/dkms-test.sh $(DKMS_BOOT) -t $(TIMEOUT) -o $(RESULTS)/dkms \
			>$(RESULTS)/dkms/dkms.out 2>&1 & fi; dkms=$$!; \
	$(MAKE) --no-print-directory guests; \
	wait $$gates; cat $(RESULTS)/gates/gates.out; \
	wait $$segfuzz; tail -n 4 $(RESULTS)/segfuzz/segfuzz.out; \
	if [ "$(DKMS)" = 1 ]; then wait $$dkms; cat $(RESULTS)/dkms/dkms.out; fi; \
	echo "check: built and ran in $$(( $$(date +%s) - start )) s"; \
	$(SCRIPTS)/ktap-summary.py $(addprefix $(RESULTS)/,$(CONFIGS) $(addprefix edu-,$(EDU_CONFIGS)) \
		gates segfuzz $(if $(filter 1,$(DKMS)),dkms))

# The quick loop: build, the KUnit guests (EDU_CONFIGS emptied), the summary.
kunit:
	@start=$$(date +%s); \
	$(call build_or_fail,kunit-build,kunit); \
	TCG_THREAD=$(KUNIT_TCG_THREAD) $(MAKE) --no-print-directory guests EDU_CONFIGS= \
		GUEST_JOBS=$(words $(CONFIGS)); \
	echo "kunit: built and ran in $$(( $$(date +%s) - start )) s"; \
	$(SCRIPTS)/ktap-summary.py $(addprefix $(RESULTS)/,$(CONFIGS))

# The kernel-quality gates alone (checkpatch, kernel-doc, W=1, sparse, docs).
gates: check-modules
	@$(SCRIPTS)/gates.sh -o $(RESULTS)/gates

# DKMS for Debian's stock 6.12 and 6.1 kernels, and the demo booted on each.
dkms-test: $(TOOL)
	@$(SCRIPTS)/dkms-test.sh -b -t $(TIMEOUT) -o $(RESULTS)/dkms

demo: check-modules $(TOOL)
	@$(SCRIPTS)/mkinitramfs.sh -o $(RESULTS)/demo/initramfs.cpio.gz \
		-x $(SCRIPTS)/demo-guest.sh -b $(TOOL) $(EDU_MODULES)
	@rc=0; $(SCRIPTS)/demo.sh -t $(TIMEOUT) -j $(DEMO_JOBS) -i $(RESULTS)/demo/initramfs.cpio.gz \
		$(RESULTS)/demo $(DEMO_CONFIGS) || rc=1; \
	if [ "$(DEMO_STOCK)" = 1 ]; then echo; \
		$(SCRIPTS)/demo-stock.sh -t $(TIMEOUT) -j $(DEMO_JOBS) -b $(TOOL) $(RESULTS)/demo/stock \
			$(DEMO_CONFIGS) || rc=1; fi; \
	exit $$rc

# Not a test: numbers for issue 8. The modules are built for the test kernel.
bench: check-modules
	@$(SCRIPTS)/bench.sh -K $(BENCH_KERNEL) -t $(BENCH_TIMEOUT) \
		-o $(RESULTS)/bench$(if $(filter stock,$(BENCH_KERNEL)),-stock) $(CONFIGS)

# The segment fuzzer, on the host: no kernel needed.  make check runs
# CHECK_FUZZ_CASES of it beside the guests (a few seconds).
FUZZ_CASES ?= 10000000
CHECK_FUZZ_CASES ?= 100000
FUZZ_SEED ?= 1
.PHONY: fuzz
fuzz:
	@$(SCRIPTS)/segfuzz.sh -o $(RESULTS)/fuzz -n $(FUZZ_CASES) -s $(FUZZ_SEED)

clean:
	-[ -n "$(TEST_KDIR)" ] && [ -d $(TEST_KDIR)/scripts ] && $(MAKE) -C $(TEST_KDIR) M=$(CURDIR) clean
	rm -rf $(RESULTS)
	find $(CURDIR) \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.mod.o' \) -not -path '*/.git/*' -delete
	rm -f $(CURDIR)/Module.symvers $(CURDIR)/modules.order $(TOOL)

endif
