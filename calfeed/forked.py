"""A function run in a forked child process, its result pickled back.

Two uses: a server worker loads a changed events.toml in a child (parsing a
10,000-event file leaves heap fragments that a long-lived worker keeps for
good, and the child works on another core while the worker serves), and
``calfeed build`` writes its files from one child per core.
"""

from __future__ import annotations

import gc
import os
import pickle
import select
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Hashable, Mapping
from typing import IO, Any

from calfeed import libc

_PR_SET_PDEATHSIG = 1
# Handlers a server (gunicorn) installs in its workers; a child is not a worker.
_RESET_SIGNALS = [getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2") if hasattr(signal, name)]


def available() -> bool:
    """Whether a child can be made and waited for here: not without fork, nor
    where SIGCHLD is ignored (children are then reaped unseen)."""
    return hasattr(os, "fork") and signal.getsignal(signal.SIGCHLD) != signal.SIG_IGN


def second_core() -> bool:
    """Whether a child could work beside this process now: a second core,
    and children can be made here."""
    return available_cores() >= 2 and available()


def available_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class ForkFailed(Exception):
    """The child failed (the message ends with its traceback), died, or did
    not finish in time."""


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
        parent = os.getpid()
        # The death signal follows the thread that forks: only the main thread
        # lives as long as its process (a thread-per-request server ends others).
        from_main_thread = threading.current_thread() is threading.main_thread()
        try:
            self.pid = os.fork()
        except OSError:
            self._file.close()
            raise
        if self.pid == 0:
            self._child(work, parent, from_main_thread)

    def _child(self, work: Callable[[], Any], parent: int, from_main_thread: bool) -> None:
        """Work, write the result (or the traceback), and leave without cleanup."""
        code = 1
        try:
            if libc.prctl is not None and from_main_thread:  # never outlive a killed build or worker
                libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:  # it died before prctl
                os._exit(2)
            for number in _RESET_SIGNALS:
                signal.signal(number, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            # What the parent made is never garbage here: collections skip it,
            # and so do not touch (and copy) every page of the parent's heap.
            gc.freeze()
            gc.enable()  # for the child's own garbage, even where the parent paused collections
            result = work()
            _Pickler(self._file, self._shared).dump(result)
            code = 0
        except BaseException:
            self._file.seek(0)
            self._file.truncate()
            self._file.write(traceback.format_exc()[-4000:].encode("utf-8", "replace"))
        finally:
            self._file.flush()
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

    def result(self, timeout: float | None = None) -> Any:
        """What ``work()`` returned; ForkFailed if the child failed or ran
        past ``timeout`` seconds (it is killed then)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pidfd = _pidfd(self.pid) if not self.done() else None
        try:
            if pidfd is not None:  # readable once the child has ended
                ends = select.poll()
                ends.register(pidfd, select.POLLIN)
            while not self.done():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left < 0:
                    self.cancel()
                    raise ForkFailed(f"the process did not finish within {timeout:g} s")
                if pidfd is not None:
                    ends.poll(None if left is None else left * 1000 + 1)
                else:
                    time.sleep(0.005)
        finally:
            if pidfd is not None:
                os.close(pidfd)
        try:
            self._file.seek(0)
            if self._status != 0:
                code = "unknown" if self._status < 0 else os.waitstatus_to_exitcode(self._status)
                # Exit status 1 is the child's own: the file then holds its traceback.
                told = self._file.read(4000).decode("utf-8", "replace") if code == 1 else ""
                raise ForkFailed(f"the process ended with exit status {code}" + (f":\n{told}" if told else ""))
            unpickler = pickle.Unpickler(self._file)
            unpickler.persistent_load = self._shared.__getitem__
            try:
                return unpickler.load()
            except Exception as error:
                raise ForkFailed(f"cannot read what the process wrote: {error!r}") from error
        finally:
            self._file.close()

    def cancel(self) -> None:
        """Stop the child (its work is no longer wanted) and reap it."""
        if not self.done():
            try:
                os.kill(self.pid, signal.SIGKILL)
                self._status = os.waitpid(self.pid, 0)[1]
            except (ProcessLookupError, ChildProcessError):  # already gone
                self._status = -1
        self._file.close()


def _pidfd(pid: int) -> int | None:
    """A file descriptor of child ``pid`` that turns readable as it ends
    (Linux 5.3 on), so that ``result`` wakes at once; None where there is
    none, and ``result`` looks every 5 ms. The child is not reaped yet, so
    its pid is still its own."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def both(
    here: Callable[[], Any], there: Callable[[], Any],
    shared: Mapping[Hashable, object] | None = None, timeout: float | None = None,
) -> tuple[Any, Any]:
    """``here()`` in this process while a child runs ``there()``, where a
    second core is free; both here, one after the other, where none is, no
    child can be made, or the child fails (or has not answered within
    ``timeout`` seconds). ``there`` must give the same either way."""
    if not second_core():
        return here(), there()
    try:
        child = Forked(there, shared=shared)
    except OSError:  # no process to spare
        return here(), there()
    mine = here()
    try:
        return mine, child.result(timeout=timeout)
    except ForkFailed:
        return mine, there()
