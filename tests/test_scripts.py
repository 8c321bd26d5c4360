"""scripts/test, the test command: what it does when Debian packages are
missing, checked with a PATH of stand-ins (no package is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

APT = "apt-get install -y --no-install-recommends"


@pytest.fixture
def sandbox(tmp_path):
    """A copy of scripts/test and a bin folder holding bash, dirname, env and
    python3 but no chromium, sudo, node or npm; ``run(uid)`` runs the copy with
    ``id -u`` answering ``uid`` and a stand-in apt-get that logs its calls."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "test", tmp_path / "scripts" / "test")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name in ("bash", "dirname", "env", "python3"):
        (bin_ / name).symlink_to(shutil.which(name))
    log = tmp_path / "apt.log"
    (bin_ / "apt-get").write_text(f'#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> {log}\n')
    (bin_ / "apt-get").chmod(0o755)

    def run(uid: int) -> subprocess.CompletedProcess:
        (bin_ / "id").write_text(f"#!/bin/sh\necho {uid}\n")
        (bin_ / "id").chmod(0o755)
        return subprocess.run(
            [str(tmp_path / "scripts" / "test")],
            env={"PATH": str(bin_), "HOME": str(tmp_path)},
            capture_output=True, text=True, timeout=30,
        )

    run.log = log
    run.root = tmp_path
    return run


def test_without_root_it_prints_the_install_command_and_stops(sandbox):
    result = sandbox(uid=1000)
    assert result.returncode == 1
    assert "missing Debian packages: chromium" in result.stderr
    command = next(line.strip() for line in result.stderr.splitlines() if APT in line)
    assert command.startswith("apt-get update && DEBIAN_FRONTEND=noninteractive " + APT + " chromium")
    assert not sandbox.log.exists()  # nothing installed
    assert not (sandbox.root / ".venv").exists()  # and nothing else done


def test_as_root_it_installs_what_is_missing(sandbox):
    result = sandbox(uid=0)
    calls = sandbox.log.read_text().splitlines()
    assert calls[0] == "noninteractive update -qq"
    assert calls[1].startswith("noninteractive install -y -qq --no-install-recommends chromium")
    assert len(calls) == 2
    # It goes on to the next step, which stops here: the stand-in PATH has no Node.
    assert result.returncode == 1
    assert "Node 20 with npm is needed" in result.stderr
