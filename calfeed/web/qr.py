"""QR codes (SVG) for noticeboards: a feed's subscribe address, or an
event's page.

zxing-cpp (zint inside) encodes in C++, about 0.2 ms a code where segno's pure
Python took 5 ms, which counted in a build with one code per event; the SVG
is written here, smaller than either library's own.
"""

from __future__ import annotations

import html
import re
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
# A run of dark modules with the run of light ones after it (and the end of
# its row), a run of light modules that starts a row, or a row's end.
_RUN = re.compile(rb"\x00++\xff*+\n?|\xff++\n?|\n")


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
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = code.to_image(scale=1, add_quiet_zones=False)  # one byte a module: 0 dark, 255 light
    size = memoryview(image).shape[0]
    pixels = bytes(image)
    rows = b"\n".join(pixels[start : start + size] for start in range(0, size * size, size))
    path = "".join(map(_pieces(size).__getitem__, _RUN.findall(rows.rstrip(b"\xff"))))
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
