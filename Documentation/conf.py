# SPDX-License-Identifier: GPL-2.0-only
# Sphinx configuration of iodma's documentation (scripts/gates.sh builds it
# with -W). The kernel-doc directive is the kernel's own Sphinx extension,
# Documentation/sphinx/kerneldoc.py, taken with scripts/kernel-doc from a
# Linux source tree: $IODMA_KERNEL_SRC, else the test kernel's sources that
# scripts/build-test-kernel.sh extracts under ~/.cache/iodma. Offline.

import os
import sys

srctree = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
cache = os.environ.get("IODMA_CACHE") or os.path.expanduser("~/.cache/iodma")
ksrc = os.environ.get("IODMA_KERNEL_SRC") or os.path.join(cache, "linux-source-6.12")
if not os.path.exists(os.path.join(ksrc, "Documentation", "sphinx", "kerneldoc.py")):
    sys.exit(f"conf.py: no kernel source tree at {ksrc} (run scripts/build-test-kernel.sh "
             "or set IODMA_KERNEL_SRC)")
sys.path.insert(0, os.path.join(ksrc, "Documentation", "sphinx"))

project = "iodma"
copyright = "iodma authors, GPL-2.0-only"
author = "iodma authors"

extensions = ["kerneldoc"]
kerneldoc_bin = os.path.join(ksrc, "scripts", "kernel-doc")
kerneldoc_srctree = srctree
kerneldoc_verbosity = 0

primary_domain = "c"
highlight_language = "none"
master_doc = "index"
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
