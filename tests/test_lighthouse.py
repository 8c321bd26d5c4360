"""Lighthouse on every page a visitor can open, in Debian's Chromium against
the real app (gunicorn on 127.0.0.1): 100 in performance, accessibility,
best practices and SEO, on Lighthouse's default profile (a phone, a slow 4G
network and a four times slower CPU, simulated).

Lighthouse 12.2.3 is pinned in ``tests/lighthouse/package-lock.json`` and
installed by ``scripts/test`` (``npm ci``). Each page is audited once; a page
that misses 100 anywhere is audited four times more and judged by the median
of the five runs, as Lighthouse's own guidance on variability asks (its
docs/variability.md): a busy machine stretches one run's main-thread tasks,
and with them the simulated blocking time, but a page that really misses
stays below 100 in three runs of five. The scores, the audits that missed and the
screenshot Lighthouse took of each page are kept in
``test-artifacts/lighthouse/``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path

import pytest

from calfeed.accounts import Editors
from servers import Server
from test_browser import CHROMIUM, CHROMIUM_ARGS, SAMPLE, TODAY

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "tests" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
ARTIFACTS = ROOT / "test-artifacts" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
RUN_TIMEOUT = 180  # seconds for one Lighthouse run; a quiet machine needs about 20
RUNS_WHEN_MISSED = 5

# Every page a visitor reaches without logging in, and the editor's door.
# The event is the sample's webinar, a week after the pinned today.
PAGES = {
    "index": "/",
    "event": "/events/generare-prossimita",
    "print": "/events/generare-prossimita/print",
    "month": "/month",
    "past": "/past",
    "embed": "/embed",
    "propose": "/propose",
    "login": "/edit/login",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> str:
    """The sample calendar with proposals and the editor on, today pinned."""
    folder = tmp_path_factory.mktemp("lighthouse")
    events = folder / "events.toml"
    shutil.copyfile(SAMPLE, events)
    Editors.load(folder / "editors.toml").add("anna", "una password lunga")
    server = Server(
        events,
        folder,
        env={"CALFEED_TODAY": TODAY, "CALFEED_SECRET_KEY": "lighthouse-secret-" + "k" * 32},
        own_base_url=True,
    )
    try:
        server.wait_answering()
        yield server.url
    finally:
        server.stop()


def audit(url: str, report: Path) -> dict:
    """One Lighthouse run; its JSON report (``lhr``)."""
    flags = " ".join(["--headless=new", *CHROMIUM_ARGS])
    result = subprocess.run(
        [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}", f"--chrome-flags={flags}"],
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert result.returncode == 0 and report.exists(), f"Lighthouse failed on {url}:\n{result.stderr[-3000:]}"
    lhr = json.loads(report.read_text())
    assert not lhr.get("runtimeError"), f"Lighthouse could not audit {url}: {lhr['runtimeError']}"
    return lhr


def scores(lhr: dict) -> dict[str, float]:
    return {name: lhr["categories"][name]["score"] for name in CATEGORIES}


def missed(lhr: dict) -> list[str]:
    """The weighted audits below full marks, as "category: audit (value)"."""
    found = []
    for name in CATEGORIES:
        for ref in lhr["categories"][name]["auditRefs"]:
            result = lhr["audits"][ref["id"]]
            if ref["weight"] and result["score"] is not None and result["score"] < 1:
                detail = result.get("displayValue") or result.get("explanation") or result["title"]
                found.append(f"{name}: {ref['id']} ({detail})")
    return found


def keep(name: str, path: str, runs: list[dict], median: dict[str, float]) -> None:
    """The scores, what missed, and the screenshot of the last run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    summary = {
        "page": path,
        "lighthouse": runs[-1]["lighthouseVersion"],
        "browser": runs[-1]["environment"]["hostUserAgent"],
        "form_factor": runs[-1]["configSettings"]["formFactor"],
        "scores": {k: round(v * 100) for k, v in median.items()},
        "runs": [{k: round(v * 100) for k, v in scores(run).items()} for run in runs],
        "missed": missed(runs[-1]),
    }
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    shot = runs[-1]["audits"].get("final-screenshot", {}).get("details", {}).get("data", "")
    if shot.startswith("data:image/jpeg;base64,"):
        (ARTIFACTS / f"{name}.jpg").write_bytes(base64.b64decode(shot.split(",", 1)[1]))


@pytest.mark.parametrize("name", PAGES)
def test_page_scores_100_in_every_lighthouse_category(site, tmp_path, name):
    path = PAGES[name]
    runs = [audit(site + path, tmp_path / "run-1.json")]
    if min(scores(runs[0]).values()) < 1:
        for number in range(2, RUNS_WHEN_MISSED + 1):
            runs.append(audit(site + path, tmp_path / f"run-{number}.json"))
    median = {k: statistics.median(scores(run)[k] for run in runs) for k in CATEGORIES}
    keep(name, path, runs, median)
    below = {k: round(v * 100) for k, v in median.items() if v < 1}
    assert not below, f"{path} scores {below}; missed in the last run:\n" + "\n".join(missed(runs[-1]))
