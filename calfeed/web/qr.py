"""QR codes (SVG) for noticeboards: a feed's subscribe address, or an
event's page.

zxing-cpp (zint inside) encodes in C++, where segno's pure Python took 5 ms a
code, which counted in a build with one code per event; the SVG is written
here, smaller than either library's own. zint spends 85% of a code choosing
its mask (it scores all eight module by module, 0.3 ms): calfeed asks it for
the code under mask 0 and scores the eight here, a row or column of modules
as the bits of one integer (``_Masks``), with zint's own rules, so the code
is the one zint would choose, in less than half the time.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache

import zxingcpp
from flask import Blueprint, Response

from calfeed.model import Calendar, Event
from calfeed.published import Body, FeedFilter, Published
from calfeed.web.http import checked, current_calendar, event_or_404, feed_response, refuse, selection
from calfeed.web.links import page_url, subscribe_links

bp = Blueprint("qr", __name__)
SVG_TYPE = "image/svg+xml"
# Pixels a module, and the quiet zone of white modules around the code (ISO/IEC 18004 asks for 4).
SCALE, QUIET = 4, 4
# Cut before each run of dark modules that follows a light one, and after
# each row's end: the pieces are a dark run with the light run after it (and
# the end of its row), or a run of light modules that starts a row.
_CUT = b"\x01"


@cache
def _pieces(size: int) -> dict[bytes, str]:
    """The path piece of each run in a code of ``size`` modules a side: every
    move is relative, so the path is made by lookups alone, with no arithmetic
    a run (a code has hundreds of runs, and a build thousands of codes); a
    dark run and the light one after it are one lookup."""
    light = {b"": "", b"\n": f"m-{size} 1"}
    for length in range(1, size + 1):
        light[b"\xff" * length] = f"m{length} 0"
        light[b"\xff" * length + b"\n"] = f"m{length - size} 1"
    pieces = dict(light)
    for length in range(1, size + 1):
        dark = b"\x00" * length
        for after, piece in light.items():
            if len(after.rstrip(b"\n")) <= size - length:
                pieces[dark + after] = f"h{length}{piece}"
    return pieces


# One byte a module (0 dark, 255 light) as a digit of a binary number, 1 dark.
_BITS = bytes.maketrans(b"\x00\xff", b"10")


def _modules(text: str, mask: int) -> bytes:
    """The code of ``text`` at level M under ``mask``: one byte a module, row
    after row, 0 dark and 255 light (ValueError if too long for any code)."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M", data_mask=mask)
    return bytes(code.to_image(scale=1, add_quiet_zones=False))


def _bits(modules: bytes) -> int:
    """The modules as an integer whose bit ``i`` is module ``i`` (1 dark)."""
    return int(modules.translate(_BITS)[::-1], 2)


@dataclass(frozen=True)
class _Masks:
    """What scoring the eight masks of a code of one size needs. A code is
    scored as one integer: bit ``y * size + x`` is module (x, y) of the rows,
    and ``size * size`` bits higher the same for the columns (the transposed
    code), 1 dark; a pattern may start only where it fits in its line."""

    size: int
    flips: tuple[int, ...]  # what each mask flips against mask 0, in the modules' bytes
    line_flips: tuple[int, ...]  # the same in the integer of rows and columns
    full: int
    rows: int  # the rows' half
    block: int  # starts of a 2×2 block: in the rows, not the last row or column
    run: int  # starts of 5 modules within the line
    finder: int  # starts of 7 modules within the line
    edge_before: tuple[int, ...]  # modules with fewer than i before them in the line, i = 1..4
    edge_after: tuple[int, ...]  # modules with fewer than 6 + i after them, i = 1..4

    @classmethod
    def of(cls, text: str) -> _Masks:
        """The masks of codes of ``text``'s size, learnt from ``text`` itself:
        what a mask flips is the same for every code of one size."""
        codes = [_modules(text, mask) for mask in range(8)]
        size = round(len(codes[0]) ** 0.5)
        area = size * size

        def starts(test, both: bool = True) -> int:
            half = sum(1 << (y * size + x) for y in range(size) for x in range(size) if test(x, y))
            return half | half << area if both else half

        return cls(
            size=size,
            flips=tuple(int.from_bytes(code, "big") ^ int.from_bytes(codes[0], "big") for code in codes),
            line_flips=tuple(_lines(code, size) ^ _lines(codes[0], size) for code in codes),
            full=(1 << 2 * area) - 1,
            rows=(1 << area) - 1,
            block=starts(lambda x, y: x < size - 1 and y < size - 1, both=False),
            run=starts(lambda x, y: x <= size - 5),
            finder=starts(lambda x, y: x <= size - 7),
            edge_before=tuple(starts(lambda x, y, i=i: x < i) for i in range(1, 5)),
            edge_after=tuple(starts(lambda x, y, i=i: x + 6 + i >= size) for i in range(1, 5)),
        )

    def penalty(self, dark: int) -> int:
        """A code's penalty score (ISO/IEC 18004's four), as zint counts it:
        a run of 5 or more modules of one colour in a line scores its length
        less 2; each 2×2 block of one colour 3; a 1:1:3:1:1 dark-light pattern
        40 if 4 light modules (or the symbol's edge) precede or follow it; 10
        for each 5% of dark modules away from half."""
        size, light = self.size, dark ^ self.full
        score = 0
        for same in (dark, light):
            runs = same & same >> 1 & same >> 2 & same >> 3 & same >> 4 & self.run
            score += runs.bit_count() + 2 * (runs & ~(runs << 1)).bit_count()
            score += 3 * (same & same >> 1 & same >> size & same >> (size + 1) & self.block).bit_count()
        found = dark & light >> 1 & dark >> 2 & dark >> 3 & dark >> 4 & light >> 5 & dark >> 6 & self.finder
        if found:
            e1, e2, e3, e4 = self.edge_before
            f1, f2, f3, f4 = self.edge_after
            before = (light << 1 | e1) & (light << 2 | e2) & (light << 3 | e3) & (light << 4 | e4)
            after = (light >> 7 | f1) & (light >> 8 | f2) & (light >> 9 | f3) & (light >> 10 | f4)
            score += 40 * (found & (before | after)).bit_count()
        share = 100.0 * (dark & self.rows).bit_count() / (size * size)
        return score + 10 * int(abs(share - 50.0) / 5.0)


def _lines(modules: bytes, size: int) -> int:
    """A code's rows and columns as one integer (see ``_Masks``)."""
    return _bits(modules) | _bits(b"".join(modules[x::size] for x in range(size))) << size * size


_known: dict[int, _Masks] = {}


def qr_modules(text: str) -> tuple[bytes, int]:
    """The code zint makes of ``text`` at level M, best of the eight masks by
    its own scores (the first of the lowest), and its size; one byte a
    module, 0 dark and 255 light.

    >>> text = "https://e.example.org/events/festa"
    >>> modules, size = qr_modules(text)
    >>> zints = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    >>> size, modules == bytes(zints.to_image(scale=1, add_quiet_zones=False))
    (29, True)
    """
    first = _modules(text, 0)
    size = round(len(first) ** 0.5)
    masks = _known.get(size) or _known.setdefault(size, _Masks.of(text))
    lines = _lines(first, size)
    scores = [masks.penalty(lines ^ flips) for flips in masks.line_flips]
    best = scores.index(min(scores))
    if not best:
        return first, size
    return (int.from_bytes(first, "big") ^ masks.flips[best]).to_bytes(len(first), "big"), size


def qr_svg(text: str, title: str) -> bytes:
    """A QR code of ``text`` (error correction level M), as a small standalone
    SVG: a white square, and one path drawing each row's runs of dark modules.

    >>> svg = qr_svg("https://e.example.org/events/festa", "Festa").decode()
    >>> print(svg.replace("><", ">\\n<")[:187])
    <svg xmlns="http://www.w3.org/2000/svg" width="148" height="148" viewBox="0 0 37 37">
    <title>Festa</title>
    <rect width="37" height="37" fill="#fff"/>
    <path stroke="#000" d="M4 4.5h7m2 0h1
    """
    pixels, size = qr_modules(text)
    rows = b"\n\x01".join(pixels[start : start + size] for start in range(0, size * size, size))
    runs = rows.rstrip(b"\xff").replace(b"\xff\x00", b"\xff\x01\x00").split(_CUT)
    path = "".join(map(_pieces(size).__getitem__, runs))
    side = size + 2 * QUIET
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side * SCALE}" height="{side * SCALE}" '
        f'viewBox="0 0 {side} {side}"><title>{html.escape(title)}</title>'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path stroke="#000" d="M{QUIET} {QUIET}.5{path}"/></svg>'
    ).encode()


def qr_path(chosen: FeedFilter) -> str:
    """Where the QR code of a feed is served: its path under /qr, as .svg.

    >>> qr_path(FeedFilter(frozenset({"webinar"})))
    '/qr/categories/webinar.svg'
    """
    path, _, query = chosen.path().partition("?")
    return "/qr" + path.removesuffix(".ics") + ".svg" + (f"?{query}" if query else "")


def _feed_qr(published: Published, chosen: FeedFilter) -> Response:
    links = subscribe_links(published.calendar, chosen.path(), published.calendar.name)
    try:
        svg = qr_svg(links["webcal"], published.calendar.name)
    except ValueError:  # zxing-cpp's answer to a text too long for a code (2,331 bytes at level M)
        refuse(published, 400, "qr_too_long")
    return feed_response(Body(svg), published, SVG_TYPE)


@bp.get("/qr/calendar.svg")
def calendar_qr() -> Response:
    published = current_calendar()
    return _feed_qr(published, selection(published))


@bp.get("/qr/categories/<slug>.svg")
def category_qr(slug: str) -> Response:
    published = current_calendar()
    return _feed_qr(published, checked(FeedFilter(categories=frozenset({slug})), published))


@bp.get("/qr/places/<slug>.svg")
def place_qr(slug: str) -> Response:
    published = current_calendar()
    return _feed_qr(published, checked(FeedFilter(places=frozenset({slug})), published))


@bp.get("/events/<event_id>/qr.svg")
def event_qr(event_id: str) -> Response:
    published = current_calendar()
    event = event_or_404(published, event_id)
    return feed_response(Body(event_qr_svg(published.calendar, event)), published, SVG_TYPE)


def event_qr_svg(calendar: Calendar, event: Event) -> bytes:
    """The QR code of an event's page, titled with the event."""
    return qr_svg(page_url(calendar, event.id), event.title)
