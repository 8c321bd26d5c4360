"""A function run in a forked child process, its result pickled back.

Parsing a 10,000-event file leaves the parser's garbage behind as heap
fragments that a long-lived worker keeps for good (about twice the size of
the calendar itself). Loaded in a child, the worker only holds the compact
objects it unpickles, and the child's work runs on another core, so the
worker's requests are not slowed while a new version is being loaded.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import tempfile
import time
from collections.abc import Callable, Hashable, Mapping
from typing import IO, Any

AVAILABLE = hasattr(os, "fork")


class ForkFailed(Exception):
    """The child died, or did not finish in time: do the work here instead."""


class _Pickler(pickle.Pickler):
    def __init__(self, file: IO[bytes], shared: Mapping[Hashable, object]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._keys = {id(value): key for key, value in shared.items()}

    def persistent_id(self, obj: object) -> Hashable | None:
        return self._keys.get(id(obj))


class Forked:
    """``work()`` running in a child; ``result()`` waits for what it returned.

    ``shared`` names objects both processes hold from before the fork (the
    events of the version in service): the result refers to them by key
    instead of copying them, so the parent gets its own objects back.
    """

    def __init__(self, work: Callable[[], Any], shared: Mapping[Hashable, object] | None = None):
        self._file = tempfile.TemporaryFile()
        self._status: int | None = None
        self._shared = shared or {}
        try:
            self.pid = os.fork()
        except OSError:
            self._file.close()
            raise
        if self.pid == 0:  # the child: work, write, and leave without cleanup
            code = 1
            gc.disable()  # a collection would touch, and so copy, every page of the parent's heap
            try:
                _Pickler(self._file, self._shared).dump(work())
                self._file.flush()
                code = 0
            finally:
                os._exit(code)

    def done(self) -> bool:
        """Whether the child has ended (without waiting for it)."""
        if self._status is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped by someone else: its result is unknown
                pid, status = self.pid, -1
            if pid:
                self._status = status
        return self._status is not None

    def result(self, timeout: float) -> Any:
        """What ``work()`` returned; ForkFailed if the child failed or ran
        past ``timeout`` seconds (it is killed then)."""
        deadline = time.monotonic() + timeout
        while not self.done():
            if time.monotonic() > deadline:
                self.cancel()
                raise ForkFailed(f"the loading process did not finish within {timeout:g} s")
            time.sleep(0.005)
        try:
            if self._status != 0:
                code = "unknown" if self._status < 0 else os.waitstatus_to_exitcode(self._status)
                raise ForkFailed(f"the loading process ended with exit status {code}")
            self._file.seek(0)
            unpickler = pickle.Unpickler(self._file)
            unpickler.persistent_load = self._shared.__getitem__
            try:
                return unpickler.load()
            except Exception as error:
                raise ForkFailed(f"cannot read what the loading process wrote: {error!r}") from error
        finally:
            self._file.close()

    def cancel(self) -> None:
        """Stop the child (its work is no longer wanted) and reap it."""
        if not self.done():
            os.kill(self.pid, signal.SIGKILL)
            self._status = os.waitpid(self.pid, 0)[1]
        self._file.close()
