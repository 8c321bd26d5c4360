"""QR codes (SVG) for noticeboards: a feed's subscribe address, or an
event's page.

zxing-cpp (zint inside) encodes in C++, where segno's pure Python took 5 ms a
code, which counted in a build with one code per event; the SVG is written
here, smaller than either library's own. zint spends 85% of a code choosing
its mask (it scores all eight module by module, 0.3 ms): calfeed asks it for
the code under mask 0 and scores the eight here, the code's rows and columns
as the bits of one integer (``_Masks``), with zint's own rules, so the code
is the one zint would choose, in a sixth of the time (0.05 ms). Of a
code's 0.15 ms, zint's encoding is a third.
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
# the end of its row), or a run of light modules that starts a row. ``qr_svg``
# cuts fewer pieces, each one or more of these (see ``_Path``).
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


# Pieces of a path cut only before a dark run after this many light modules:
# under a third as many pieces as runs (most light runs are short); 10,000
# event codes hold about 10,000 different pieces, 1% of the pieces they cut.
# ``_Path`` learns at most ``_PATH_LIMIT`` pieces a size (about 3 MB).
_LONG_LIGHT, _PATH_LIMIT = b"\xff" * 3, 1 << 14


class _Path(dict[bytes, str]):
    """The path of each piece of codes of one size (cut before a dark run
    after ``_LONG_LIGHT``), made on first sight from its runs' ``_pieces``
    and looked up after: a piece is the same runs wherever it is cut from, so
    the path is the same as the runs' path, in fewer lookups."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.runs = _pieces(size)

    def __missing__(self, piece: bytes) -> str:
        path = "".join(map(self.runs.__getitem__, piece.replace(b"\xff\x00", b"\xff\x01\x00").split(_CUT)))
        if len(self) < _PATH_LIMIT:
            self[piece] = path
        return path


_paths = cache(_Path)


# One byte a module (0 dark, 255 light) as a digit of a binary number, 1 dark.
_BITS = bytes.maketrans(b"\x00\xff", b"10")


def _modules(text: str, mask: int) -> bytes:
    """The code of ``text`` at level M under ``mask``: one byte a module, row
    after row, 0 dark and 255 light (ValueError if too long for any code)."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M", data_mask=mask)
    return bytes(code.to_image(scale=1, add_quiet_zones=False))


# Light modules around each line of ``_lines``: as many as the penalties look
# past a line's end (4, for the light on either side of a 1:1:3:1:1 pattern),
# so that the symbol's edge counts as light and no pattern spans two lines.
_GAP = b"\xff" * 4
# Between the rows of a code as ``qr_svg`` cuts it: a row's end, then a cut.
_ROW_END = b"\n" + _CUT


def _rows(modules: bytes) -> list[bytes]:
    """A code's rows, each one module a byte."""
    size = round(len(modules) ** 0.5)
    return [modules[start : start + size] for start in range(0, size * size, size)]


def _lines(modules: bytes, rows: list[bytes]) -> int:
    """A code's rows and then its columns as one integer (see ``_Masks``)."""
    columns = [modules[x :: len(rows)] for x in range(len(rows))]
    return int(_GAP.join([b"", *rows, *columns, b""]).translate(_BITS)[::-1], 2)


@dataclass(frozen=True)
class _Masks:
    """What scoring the eight masks of a code of one size needs. A code is
    scored as one integer (``_lines``): its rows, then its columns (the
    transposed code), each line ``len(_GAP)`` light modules after the one
    before, and bit ``i`` the ``i``-th module of that layout, 1 dark. A
    pattern may start only where it fits in its line."""

    stride: int  # bits from a line's start to the next one's
    flips: tuple[int, ...]  # what each mask flips against mask 0, in the rows joined by _ROW_END
    line_flips: tuple[tuple[int, int, int], ...]  # the same in ``dark``, ``same`` and ``below`` (see ``scores``)
    full: int
    block: int  # starts of a 2×2 block: in the rows, not the last row or column
    run: int  # starts of 5 modules within the line
    finder: int  # starts of 7 modules within the line
    balance: tuple[int, ...]  # the dark modules' penalty, by their count

    @classmethod
    def of(cls, text: str) -> _Masks:
        """The masks of codes of ``text``'s size, learnt from ``text`` itself:
        what a mask flips is the same for every code of one size."""
        codes = [_modules(text, mask) for mask in range(8)]
        rows = [_rows(code) for code in codes]
        size = len(rows[0])
        area, stride = size * size, size + len(_GAP)

        def starts(last: int, lines: int = 2 * size) -> int:
            return sum(1 << len(_GAP) + line * stride + x for line in range(lines) for x in range(last + 1))

        joined = [int.from_bytes(_ROW_END.join(code_rows), "big") for code_rows in rows]
        lines = [_lines(code, code_rows) for code, code_rows in zip(codes, rows)]
        line_flips = [code_lines ^ lines[0] for code_lines in lines]
        return cls(
            stride=stride,
            flips=tuple(code ^ joined[0] for code in joined),
            line_flips=tuple((flips, flips ^ flips >> 1, flips ^ flips >> stride) for flips in line_flips),
            full=(1 << len(_GAP) + 2 * size * stride) - 1,
            block=starts(size - 2, lines=size - 1),
            run=starts(size - 5),
            finder=starts(size - 7),
            balance=tuple(10 * int(abs(100.0 * dark / area - 50.0) / 5.0) for dark in range(area + 1)),
        )

    def scores(self, lines: int) -> list[int]:
        """The penalty scores of the eight masks of the code whose lines
        under mask 0 are ``lines`` (ISO/IEC 18004's four), as zint counts
        them: a run of 5 or more modules of one colour in a line scores its
        length less 2; each 2×2 block of one colour 3; a 1:1:3:1:1 dark-light
        pattern 40 if 4 light modules (or the symbol's edge) precede or
        follow it; 10 for each 5% of dark modules away from half.

        ``same`` has bit ``i`` set where module ``i`` has the colour of the
        next one, ``below`` where it has the colour of the one below it in
        the rows: runs of both colours are found at once. A mask's ``same``
        and ``below`` are mask 0's XOR what the mask flips in them (XOR
        commutes with the shifts): one operation each, not three."""
        full, stride, run, block, finder, balance = self.full, self.stride, self.run, self.block, self.finder, self.balance
        same_0, below_0 = lines ^ lines >> 1 ^ full, lines ^ lines >> stride ^ full
        scores = []
        for flips, same_flips, below_flips in self.line_flips:
            dark, same, below = lines ^ flips, same_0 ^ same_flips, below_0 ^ below_flips
            three = same & same >> 1  # 3 modules of one colour from here
            four = three & three >> 1
            five = four & same >> 3 & run
            # A run of n ≥ 5 has n - 4 starts, n - 5 of them followed by another: 3 (n - 4) - 2 (n - 5) = n - 2.
            score = 3 * five.bit_count() - 2 * (five & five >> 1).bit_count()
            score += 3 * (same & same >> stride & below & block).bit_count()
            differ = same ^ full
            turns = differ & differ >> 1  # a module of one colour between two of the other
            found = dark & turns & turns >> 4 & three >> 2 & finder
            light = four & ~dark  # 4 light modules from here
            score += 40 * (found & (light << 4 | light >> 7)).bit_count()
            scores.append(score + balance[dark.bit_count() >> 1])
        return scores


_known: dict[int, _Masks] = {}


def _chosen(text: str) -> tuple[bytes, int]:
    """The code zint makes of ``text`` at level M, best of the eight masks by
    its own scores (the first of the lowest), and its size; its rows joined
    by ``_ROW_END``, the form ``qr_svg`` cuts into runs, one byte a module, 0
    dark and 255 light. The chosen mask's modules are mask 0's XOR what it
    flips, in one operation on the whole code."""
    first = _modules(text, 0)
    rows = _rows(first)
    masks = _known.get(len(rows)) or _known.setdefault(len(rows), _Masks.of(text))
    scores = masks.scores(_lines(first, rows))
    best = scores.index(min(scores))
    joined = _ROW_END.join(rows)
    if best:
        joined = (int.from_bytes(joined, "big") ^ masks.flips[best]).to_bytes(len(joined), "big")
    return joined, len(rows)


def qr_modules(text: str) -> tuple[bytes, int]:
    """The code zint makes of ``text`` at level M, best of the eight masks by
    its own scores (the first of the lowest), and its size; one byte a
    module, row after row, 0 dark and 255 light.

    >>> text = "https://e.example.org/events/festa"
    >>> modules, size = qr_modules(text)
    >>> zints = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    >>> size, modules == bytes(zints.to_image(scale=1, add_quiet_zones=False))
    (29, True)
    """
    rows, size = _chosen(text)
    return rows.replace(_ROW_END, b""), size


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
    rows, size = _chosen(text)
    pieces = rows.rstrip(b"\xff").replace(_LONG_LIGHT + b"\x00", _LONG_LIGHT + _CUT + b"\x00").split(_CUT)
    path = "".join(map(_paths(size).__getitem__, pieces))
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
