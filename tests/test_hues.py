"""Category colours: the same for a category on every page and in every
process, and readable (WCAG AA) in every pair of the palette."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from lxml import html

from calfeed.web.hues import PALETTE
from conftest import ROOT

SLUGS = ["webinar", "patti-di-collaborazione", "assemblea", "corsi", "citta-aperta", "feste", "cultura", "sport"]


def luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of a #rrggbb colour."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_colour_pair_reads_at_aa():
    for text, background in PALETTE:
        assert contrast(text, background) >= 4.5, (text, background)
        assert contrast(text, "#ffffff") >= 4.5, text  # the month view's bars and the embed's borders
    assert len(set(PALETTE)) == len(PALETTE) >= 6


def _hues_in_a_new_process(seed: str) -> str:
    code = "from calfeed.web.hues import hue; print(' '.join(hue(s) for s in %r))" % (SLUGS,)
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60).stdout


def test_a_category_keeps_its_colour_across_processes():
    """Workers, restarts and static builds all pick the same colour (Python's
    own str hash differs from process to process)."""
    first, second = _hues_in_a_new_process("1"), _hues_in_a_new_process("2")
    assert first == second
    assert len(set(first.split())) > 1  # the slugs do not all share one colour


def _colours(markup: bytes) -> dict[str, set[str]]:
    """Each category name shown as a coloured chip or bar, with its colour classes."""
    found: dict[str, set[str]] = {}
    for chip in html.fromstring(markup).xpath("//*[contains(concat(' ', @class, ' '), ' chip ')]"):
        hues = {c for c in chip.get("class").split() if re.fullmatch(r"hue-\d+", c)}
        found.setdefault(chip.text_content().strip(), set()).update(hues)
    return found


def test_a_category_has_one_colour_on_every_page(client):
    pages = [client.get(path).data for path in ("/", "/embed", "/events/generare-prossimita", "/events/laboratorio-patti-latina")]
    seen: dict[str, set[str]] = {}
    for markup in pages:
        for name, hues in _colours(markup).items():
            seen.setdefault(name, set()).update(hues)
    assert {"Webinar", "Patti di collaborazione", "Corsi", "Feste"} <= set(seen), seen
    assert all(len(hues) == 1 for hues in seen.values()), seen
    # Each colour class used is defined in the page's own style.
    style = "".join(html.fromstring(pages[0]).xpath("//style/text()"))
    for (hue,) in seen.values():
        assert re.search(rf"\.{hue} \{{ --hue: #[0-9a-f]{{6}}; --hue-bg: #[0-9a-f]{{6}}; \}}", style), hue
