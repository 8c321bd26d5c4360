"""calfeed.staging: a folder replaced whole, and the leftovers of dead builds
removed while a live build's folders are kept (CONTRACT.md, "Command line":
``calfeed build``)."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest

from calfeed import staging
from calfeed.staging import Staging, remove_leftovers


def put(out: Path, text: str) -> None:
    with Staging(out) as staged:
        (staged.path / "index.html").write_text(text)
        staged.put_in_place()


def held(folder: Path) -> int:
    """A lock on ``folder`` as its live build holds it (its own open file)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "rename-aside"])
def test_each_put_replaces_the_folder_and_leaves_nothing_beside_it(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(staging.libc, "renameat2", None)
    out = tmp_path / "site"
    for text in ["first", "second", "third"]:
        put(out, text)
        assert (out / "index.html").read_text() == text
        assert sorted(path.name for path in tmp_path.iterdir()) == ["site"]


def test_leftovers_of_dead_builds_go_and_a_live_builds_stay(tmp_path):
    out = tmp_path / "site"
    put(out, "the site")
    dead = [tmp_path / ".site.new-dead1", tmp_path / ".site.old-4242"]  # nobody holds their locks
    live = [tmp_path / ".site.new-live1", tmp_path / ".site.old-live1"]
    for folder in dead + live:
        (folder / "events").mkdir(parents=True)
        (folder / "events" / "x.ics").write_text("staged")
    other = tmp_path / ".other.new-dead"  # another output's: not ours to judge
    other.mkdir()
    locks = [held(folder) for folder in live]
    try:
        assert sorted(remove_leftovers(out)) == sorted(dead)
        put(out, "the next site")
        assert sorted(path.name for path in tmp_path.iterdir()) == sorted([".other.new-dead", ".site.new-live1", ".site.old-live1", "site"])
        assert all((folder / "events" / "x.ics").read_text() == "staged" for folder in live)
    finally:
        for fd in locks:
            os.close(fd)
    put(out, "once they died")
    assert sorted(path.name for path in tmp_path.iterdir()) == [".other.new-dead", "site"]
    assert (out / "index.html").read_text() == "once they died"


def test_where_folders_cannot_be_locked_builds_go_on_and_keep_every_leftover(tmp_path, monkeypatch):
    """NFS may refuse a lock on a folder: nothing then proves a build dead."""

    def refused(fd, operation):
        raise OSError(errno.EBADF, "Bad file descriptor")

    monkeypatch.setattr(staging.fcntl, "flock", refused)
    out = tmp_path / "site"
    (tmp_path / ".site.new-unknown").mkdir()
    for text in ["first", "second"]:
        put(out, text)
        assert (out / "index.html").read_text() == text
    assert sorted(path.name for path in tmp_path.iterdir()) == [".site.new-unknown", "site"]
