"""Python's garbage collector around work that only builds lasting objects.

Loading a calendar (and listing a site's files) allocates tens of thousands
of objects that live on and hold no cycles; every collection that runs
meanwhile would scan them all again, and find nothing to free.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collections_paused() -> Iterator[None]:
    """No garbage collection inside (nested uses leave it as they found it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
