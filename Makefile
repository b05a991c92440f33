# SPDX-License-Identifier: GPL-2.0-only
# iodma: top-level wrapper. The module itself is described in Kbuild.
#
#   make [modules]   build iodma.ko and iodma_kunit.ko against KDIR
#   make check       all tests: KUnit in QEMU on the debug test kernel, in
#                    each of CONFIGS, then a summary (its exit status)
#   make demo        boot the test kernel with iodma.ko and show its version
#   make sparse      run sparse over the module (test kernel)
#   make clean
#
# Variables: KDIR (kernel build dir for 'make modules'), CONFIGS (subset of
# "direct swiotlb iommu"), TIMEOUT (seconds per guest), GUEST_JOBS (guests
# run at once by 'make check'), RESULTS (output directory).

ifneq ($(KERNELRELEASE),)
# Read by kbuild only when Kbuild is missing; Kbuild is the real description.
include $(src)/Kbuild
else

SHELL := /bin/bash
SCRIPTS := $(CURDIR)/scripts
RESULTS ?= $(CURDIR)/results
CONFIGS ?= direct swiotlb iommu
TIMEOUT ?= 300
GUEST_JOBS ?= 3
MODULES := iodma.ko iodma_kunit.ko

# The test kernel's build directory (not built by this lookup; empty before
# scripts/install-deps.sh has installed linux-source-6.12).
TEST_KDIR := $(shell $(SCRIPTS)/build-test-kernel.sh --print-dir --no-build 2>/dev/null)
HOST_KDIR := /lib/modules/$(shell uname -r)/build
ifeq ($(origin KDIR),undefined)
KDIR := $(if $(wildcard $(HOST_KDIR)/Makefile),$(HOST_KDIR),$(TEST_KDIR))
endif

.PHONY: all modules check demo clean deps test-kernel check-modules check-build guests sparse

all: modules

modules:
ifeq ($(KDIR),$(TEST_KDIR))
	@kdir=$$($(SCRIPTS)/build-test-kernel.sh --print-dir) && \
		$(MAKE) -C $$kdir M=$(CURDIR) modules
else
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
endif

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

check-build: check-modules
	@$(SCRIPTS)/mkinitramfs.sh -o $(RESULTS)/initramfs.cpio.gz $(MODULES)

guests:
	@rm -rf $(addprefix $(RESULTS)/,direct swiotlb iommu)
	@printf '%s\n' $(CONFIGS) | xargs -P $(GUEST_JOBS) -I{} \
		$(SCRIPTS)/run-guest.sh -t $(TIMEOUT) -i $(RESULTS)/initramfs.cpio.gz {} $(RESULTS) \
		|| true

# A build failure still ends with the closing line, as a failure.
check:
	@start=$$(date +%s); \
	if ! $(MAKE) --no-print-directory check-build; then \
		echo "check: the build failed, no test ran"; \
		echo "0 passed, 1 failed, 0 skipped"; exit 1; \
	fi; \
	$(MAKE) --no-print-directory guests; \
	echo "check: built and ran in $$(( $$(date +%s) - start )) s"; \
	$(SCRIPTS)/ktap-summary.py $(addprefix $(RESULTS)/,$(CONFIGS))

demo: check-modules
	@$(SCRIPTS)/mkinitramfs.sh -o $(RESULTS)/demo/initramfs.cpio.gz iodma.ko
	@$(SCRIPTS)/run-guest.sh -t $(TIMEOUT) -i $(RESULTS)/demo/initramfs.cpio.gz \
		direct $(RESULTS)/demo || true
	@echo "== iodma demo (console: $(RESULTS)/demo/direct/console.log) =="
	@grep -h -e 'iodma .* loaded' -e 'IODMA-INSMOD-FAIL' $(RESULTS)/demo/direct/console.log \
		|| echo "no 'iodma <version> loaded' line in the console log"
	@v=$$(sed -n 's/^IODMA-MODVERSION iodma //p' $(RESULTS)/demo/direct/results.txt | tr -d '\r'); \
		if [ -n "$$v" ]; then echo "/sys/module/iodma/version: $$v"; \
		else echo "iodma did not load or has no MODULE_VERSION"; exit 1; fi

clean:
	-[ -n "$(TEST_KDIR)" ] && [ -d $(TEST_KDIR)/scripts ] && $(MAKE) -C $(TEST_KDIR) M=$(CURDIR) clean
	rm -rf $(RESULTS)
	find $(CURDIR) \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.mod.o' \) -not -path '*/.git/*' -delete
	rm -f $(CURDIR)/Module.symvers $(CURDIR)/modules.order

endif
