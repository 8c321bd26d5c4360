"""The few C library calls calfeed makes on Linux; each is None elsewhere, or
where the C library lacks it (musl has no ``malloc_trim``), and callers then
do without."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

_LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if sys.platform == "linux" else None


def _function(name: str) -> Any:
    return getattr(_LIBC, name, None)


# Swap two paths in one step: a build replaces the old site whole.
renameat2 = _function("renameat2")
# A forked process's death signal: children never outlive a killed parent.
prctl = _function("prctl")
# Hand freed heap memory back to the system after a reload.
malloc_trim = _function("malloc_trim")
