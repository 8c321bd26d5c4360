"""Work done in a forked child comes back whole, or fails loudly."""

from __future__ import annotations

import os
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


def test_a_child_that_raises_is_a_failure():
    def broken():
        raise ValueError("bug")

    with pytest.raises(ForkFailed):
        Forked(broken).result(timeout=30)


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
