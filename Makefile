# SPDX-License-Identifier: GPL-2.0-only
# iodma: top-level wrapper. The module itself is described in Kbuild.
#
#   make [all]       modules and the demo's user tool
#   make modules     build iodma.ko, iodma_kunit.ko and iodma_edu.ko against KDIR
#   make tool        the demo's user tool, src/edu/iodma_edu_tool (static)
#   make check       all tests: KUnit in QEMU on the debug test kernel, in
#                    each of CONFIGS, the iodma_edu end-to-end test in
#                    EDU_CONFIGS, the iodma_nvme one in NVME_CHECK_RUNS,
#                    the gates, the fuzzer and DKMS, with a
#                    progress line as each starts and finishes; then a
#                    summary (its exit status; scripts/check.sh)
#   make kunit       the edit-compile-test loop: the KUnit suites in each of
#                    CONFIGS and their summary only (no end-to-end guest,
#                    gates or DKMS; under a minute on a warm tree)
#   make demo        the iodma_edu demo: copies through QEMU's edu device in
#                    DEMO_CONFIGS, on the test kernel and (DEMO_STOCK=1, the
#                    default) Debian's stock 6.12 kernel, unpacked in the
#                    cache, not installed
#   make bench       the benchmark (iodma_bench.ko) in each of CONFIGS, one
#                    guest at a time, with -icount shift=0, on Debian's stock
#                    6.12 kernel (unpacked in the cache, not installed); report
#                    with the targets' table in RESULTS/bench/bench.{md,csv,png}
#                    (BENCH_TIMEOUT per guest); BENCH_KERNEL=test: on the debug
#                    test kernel, in RESULTS/bench-test/
#   make nvme        the iodma_nvme end-to-end test (scripts/nvme.sh): QEMU's
#                    NVMe controller driven by iodma_nvme.ko in NVME_RUNS
#                    (CONFIG:MODE, default every config of direct swiotlb
#                    iommu direct32 in prp and sgl), one guest at a time, each
#                    backing image checked byte for byte on the host; results
#                    in RESULTS/nvme/
#   make nvme-bench  Linux's nvme driver against iodma_nvme (not a test): two
#                    NVMe controllers with identical images in one guest
#                    under -icount shift=0, guest instructions per O_DIRECT
#                    I/O, on each of NVME_BENCH_KERNELS (default "test
#                    stock"); report in RESULTS/nvme-bench/nvme-bench.md
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
#   make help        this text
#
# Variables: KDIR (kernel build dir for 'make modules'), CONFIGS (subset of
# "direct swiotlb iommu"), EDU_CONFIGS (end-to-end runs; default: direct and
# iommu if in CONFIGS), NVME_RUNS (make nvme), NVME_CHECK_RUNS (make check's
# NVMe runs; empty: none), NVME_BENCH_KERNELS, DEMO_CONFIGS, DEMO_STOCK, DEMO_JOBS, TIMEOUT (seconds
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
NVME_TOOL := src/nvme/iodma_nvme_tool
NVME_MODULES := iodma.ko iodma_nvme.ko
NVME_RUNS ?=
# make check's NVMe runs: every configuration and both modes once
NVME_CHECK_RUNS ?= direct:prp:intx swiotlb:sgl iommu:prp direct32:sgl
BENCH_TIMEOUT ?= 900
# stock: Debian's 6.12 (production costs); test: the debug test kernel
BENCH_KERNEL ?= stock
NVME_BENCH_KERNELS ?= test stock
DKMS ?= 1
# make kunit runs its three guests at once on what may be two host cores:
# one host thread per guest wastes less than multi-threaded TCG there.
KUNIT_TCG_THREAD ?= single
# The stock kernels' boots with the demo copy on each (DKMS_BOOT= leaves them
# out).  A stock guest that dies before iodma.ko is loaded is booted once
# more: one 6.12 guest under TCG died of a double fault in early boot.
DKMS_BOOT ?= -b

# KDIR defaults to the running kernel's build directory, else (empty here)
# the test kernel's, looked up by the recipes that need it: a make that does
# not build the module does not ask for the test kernel.
HOST_KDIR := /lib/modules/$(shell uname -r)/build
KDIR ?= $(if $(wildcard $(HOST_KDIR)/Makefile),$(HOST_KDIR))

# $(call test_kmake,ARGS): make ARGS of the module against the test kernel
# (built first if it is not in the cache).
test_kmake = kdir=$$($(SCRIPTS)/build-test-kernel.sh --print-dir) && \
	$(MAKE) -C $$kdir M=$(CURDIR) $(1)

.PHONY: all modules tool nvme nvme-bench check kunit demo clean deps test-kernel check-modules check-build \
	kunit-build sparse bench gates dkms-test help

all: modules tool

modules:
ifeq ($(KDIR),)
	@$(call test_kmake,modules)
else
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
endif

# Static, so that it runs in the guest's busybox initramfs.
tool: $(TOOL) $(NVME_TOOL)
$(TOOL): src/edu/iodma_edu_tool.c include/uapi/linux/iodma_edu.h
	$(CC) -static -O2 -Wall -Wextra -I$(CURDIR)/include/uapi -o $@ $<

$(NVME_TOOL): src/nvme/iodma_nvme_tool.c
	$(CC) -static -O2 -Wall -Wextra -o $@ $<

deps:
	@$(SCRIPTS)/install-deps.sh

test-kernel: deps
	@$(SCRIPTS)/build-test-kernel.sh

# The tests always run on the test kernel, whatever KDIR says.
check-modules: deps
	@$(call test_kmake,modules)

# sparse over the module, against the test kernel.
sparse: deps
	@$(call test_kmake,C=2 modules)

kunit-build: check-modules
	@$(SCRIPTS)/mkinitramfs.sh -o $(RESULTS)/initramfs.cpio $(MODULES)

check-build: kunit-build $(TOOL) $(NVME_TOOL)
	@$(SCRIPTS)/mkinitramfs.sh -o $(RESULTS)/initramfs-edu.cpio \
		-x $(SCRIPTS)/demo-guest.sh -b $(TOOL) $(EDU_MODULES)
	@$(SCRIPTS)/mkinitramfs.sh -o $(RESULTS)/initramfs-nvme.cpio \
		-x $(SCRIPTS)/nvme-guest.sh -b $(NVME_TOOL) $(NVME_MODULES)

# scripts/check.sh builds (check-build, kunit-build), runs the guests, the
# gates, the fuzzer and DKMS, and ends with the summary's closing line.
CHECK_ARGS = -o $(RESULTS) -c "$(CONFIGS)" -t $(TIMEOUT) -n $(CHECK_FUZZ_CASES)
check:
	@$(SCRIPTS)/check.sh $(CHECK_ARGS) -e "$(EDU_CONFIGS)" -V "$(NVME_CHECK_RUNS)" \
		-j $(GUEST_JOBS) \
		-D $(if $(filter 1,$(DKMS)),$(if $(DKMS_BOOT),boot,build),off)

# The quick loop: build, the KUnit guests all at once, the summary.
kunit:
	@TCG_THREAD=$(KUNIT_TCG_THREAD) $(SCRIPTS)/check.sh -k $(CHECK_ARGS)

help:
	@sed -n '2,/^$$/s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

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

nvme: check-modules $(NVME_TOOL)
	@$(SCRIPTS)/mkinitramfs.sh -o $(RESULTS)/nvme/initramfs.cpio \
		-x $(SCRIPTS)/nvme-guest.sh -b $(NVME_TOOL) $(NVME_MODULES)
	@$(SCRIPTS)/nvme.sh -t $(TIMEOUT) -i $(RESULTS)/nvme/initramfs.cpio $(RESULTS)/nvme $(NVME_RUNS)

nvme-bench: check-modules $(NVME_TOOL)
	@$(SCRIPTS)/nvme-bench.sh -t $(BENCH_TIMEOUT) -K "$(NVME_BENCH_KERNELS)" \
		-o $(RESULTS)/nvme-bench

# Not a test: numbers, for the report. The modules are built for the test kernel.
bench: check-modules
	@$(SCRIPTS)/bench.sh -K $(BENCH_KERNEL) -t $(BENCH_TIMEOUT) \
		-o $(RESULTS)/bench$(if $(filter test,$(BENCH_KERNEL)),-test) $(CONFIGS)

# The segment fuzzer, on the host: no kernel needed.  make check runs
# CHECK_FUZZ_CASES of it beside the guests (a few seconds).
FUZZ_CASES ?= 10000000
CHECK_FUZZ_CASES ?= 100000
FUZZ_SEED ?= 1
.PHONY: fuzz
fuzz:
	@$(SCRIPTS)/segfuzz.sh -o $(RESULTS)/fuzz -n $(FUZZ_CASES) -s $(FUZZ_SEED)

clean:
	-kdir=$$($(SCRIPTS)/build-test-kernel.sh --print-dir --no-build 2>/dev/null) && \
		[ -d "$$kdir/scripts" ] && $(MAKE) -C $$kdir M=$(CURDIR) clean
	rm -rf $(RESULTS)
	find $(CURDIR) \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.mod.o' \) -not -path '*/.git/*' -delete
	rm -f $(CURDIR)/Module.symvers $(CURDIR)/modules.order $(TOOL) $(NVME_TOOL)

endif
