"""The reload's yardstick: the time to parse the file, measured in the same
run as the edits, and the issue's target (edit → first response carrying it
≤ 2× that time) met or missed.

Parsing is what no reload can skip: reading events.toml and turning it into
TOML values with tomli, in one process (the benchmark's own), once after each
edit, so that a busy moment weighs on both figures. It is the issue's
yardstick as measured when the issue was written: calfeed itself now parses
a large file in two processes where a second core is free
(``calfeed.loading.parse``), which an edit's figure shows and this one must not.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import tomli

TARGET = 2.0  # edit → first response carrying it, in parse times


def parse_seconds(path: Path) -> float:
    """Read and parse ``path`` once, in this process alone; wall seconds."""
    started = time.perf_counter()
    tomli.loads(path.read_bytes().decode("utf-8"))
    return time.perf_counter() - started


def summary(parse_times: list[float], edit_median: float) -> dict:
    parse = statistics.median(parse_times)
    return {"parse_seconds": parse_times, "parse_median": parse, "edit_in_parses": edit_median / parse}


def targets(results: dict) -> list[tuple[str, str, bool]]:
    """The issue's target, at 10,000 events: the edit's median against twice
    the parse's (the 1,000-event ratio is in the table, fixed costs weigh
    more there: a fork, handing the result back)."""
    x = results.get("10000", {})
    if "parse_median" not in x:
        return []
    return [(f"reload: 10k edit → served ≤ {TARGET:g}× parsing the file",
             f"{x['edit_median']:.3f} s = {x['edit_in_parses']:.2f}× {x['parse_median']:.3f} s", x["edit_in_parses"] <= TARGET)]
