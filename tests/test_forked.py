"""Work done in a forked child comes back whole, or fails loudly."""

from __future__ import annotations

import os
import threading
import time

import pytest

from calfeed.forked import Forked, ForkFailed


def test_the_result_comes_back_with_shared_objects_as_the_parents():
    mine = {"a": ["a list the parent holds"], "b": object()}
    child = Forked(lambda: {"pid": os.getpid(), "kept": mine["a"], "new": ["made in the child"]}, shared=mine)
    result = child.result(timeout=30)
    assert result["pid"] != os.getpid()
    assert result["kept"] is mine["a"]
    assert result["new"] == ["made in the child"]


def test_a_child_that_dies_is_a_failure_not_a_result():
    child = Forked(lambda: os._exit(3))
    with pytest.raises(ForkFailed, match="exit status 3"):
        child.result(timeout=30)


def test_a_child_that_raises_is_a_failure_with_its_traceback():
    def broken():
        raise ValueError("a bug in the child")

    with pytest.raises(ForkFailed, match="(?s)exit status 1.*ValueError: a bug in the child"):
        Forked(broken).result(timeout=30)


def test_a_child_dies_with_its_parent(tmp_path):
    """A killed parent (a build, a worker) leaves no child working behind it."""
    import subprocess
    import sys

    script = (
        "import os, sys, time\n"
        "from calfeed.forked import Forked\n"
        "child = Forked(lambda: time.sleep(60))\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{child}/stat") as stat:
            if stat.read().split(") ", 1)[1].startswith("Z"):
                return  # dead, waiting for init to reap it
        time.sleep(0.05)
    pytest.fail("the child outlived its killed parent")


def test_a_slow_child_is_stopped_at_the_timeout():
    child = Forked(lambda: time.sleep(60))
    started = time.monotonic()
    with pytest.raises(ForkFailed, match="did not finish"):
        child.result(timeout=0.5)
    assert time.monotonic() - started < 30
    with pytest.raises(ChildProcessError):  # killed and reaped: no zombie left
        os.waitpid(child.pid, os.WNOHANG)


def test_a_cancelled_child_is_reaped():
    child = Forked(lambda: time.sleep(60))
    child.cancel()
    assert child.done()
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)


def test_a_child_forked_by_a_passing_thread_outlives_the_thread():
    """A thread-per-request server ends the request's thread; the loading
    process it started must go on (Linux ties the death signal to a thread)."""
    import threading

    started: list[Forked] = []
    thread = threading.Thread(target=lambda: started.append(Forked(lambda: (time.sleep(0.5), "done")[1])))
    thread.start()
    thread.join()
    assert started[0].result(timeout=30) == "done"


def test_no_child_where_sigchld_is_ignored():
    """Children would be reaped unseen: the work is then done in the process."""
    import signal

    from calfeed.forked import available

    assert available()
    before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        assert not available()
    finally:
        signal.signal(signal.SIGCHLD, before)


def test_a_child_starts_without_the_cached_rules_and_their_locks():
    """dateutil rules are cached with a lock each; a lock held by another
    thread at the fork would stay held in the child for good."""
    from datetime import datetime

    from calfeed import occurrences

    occurrences._dateutil_rule("FREQ=WEEKLY", datetime(2030, 1, 1, 18), None)
    assert occurrences._dateutil_rule.cache_info().currsize > 0
    assert Forked(lambda: occurrences._dateutil_rule.cache_info().currsize).result(timeout=30) == 0


def test_the_parent_sleeps_until_the_child_ends_instead_of_looking(monkeypatch):
    from calfeed import forked

    open_files = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(forked.time, "sleep", lambda seconds: pytest.fail("looked again after a sleep"))
    child = Forked(lambda: threading.Event().wait(0.2) or "done")
    assert child.result(timeout=30) == "done"
    assert len(os.listdir("/proc/self/fd")) == open_files  # its file and the pidfd closed


def test_without_a_pidfd_the_parent_looks_every_few_milliseconds(monkeypatch):
    monkeypatch.setattr(os, "pidfd_open", lambda pid: (_ for _ in ()).throw(OSError(38, "Function not implemented")))
    assert Forked(lambda: time.sleep(0.05) or "done").result(timeout=30) == "done"
