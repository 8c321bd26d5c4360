"""Every public page and the editor's pages as a person with a phone, a
laptop, a screen reader or a printer meets them, in Debian's Chromium.

- axe-core (Deque's engine, pinned in tests/interop/package-lock.json and
  injected by Playwright) finds no violation on any page: WCAG 2.1 A and AA
  and its best-practice rules alike. A failure lists each rule and element.
- At 360 px wide no page scrolls sideways.
- Printed (``@media print``), the pages show no buttons, filters or
  navigation, in black on white.
- Screenshots of the main pages on a phone (390x844) and a laptop
  (1366x900) are left in ``test-artifacts/pages/``, to look at.

One gunicorn (one worker) serves a copy of the sample with editing and
proposals on, today pinned, on 127.0.0.1; the browser may load nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from editing import PASSWORD, editing_site
from servers import Server
from test_browser import TIMEOUT_MS, browser  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "tests" / "interop" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "pages"
EDITOR = "redazione"
EVENT = "/events/generare-prossimita"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
NARROWEST = 360
# Past and upcoming events both, a weekly series in between.
TODAY = "2022-03-20"

PUBLIC = {
    "home": "/",
    "home-filtered": "/?category=webinar",
    "event": EVENT,
    "series": "/events/sportello-patti-latina",
    "print": EVENT + "/print",
    "month": "/month/2022-03",
    "past": "/past",
    "embed": "/embed?propose=1",
    "propose": "/propose",
    "not-found": "/events/nessuno",
}
EDITOR_PAGES = {
    "edit-list": "/edit/",
    "edit-new": "/edit/events/new",
    "edit-event": "/edit" + EVENT,
    "edit-history": "/edit/history",
    "edit-places": "/edit/places",
    "edit-proposals": "/edit/proposals",
}
# name: (path, as printed)
SHOTS = {
    "home": ("/", False), "event": (EVENT, False), "month": ("/month/2022-03", False), "embed": ("/embed?propose=1", False),
    "print": (EVENT + "/print", False), "home-printed": ("/", True), "event-printed": (EVENT, True),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """calfeed with editing on, serving the sample at its own loopback address."""
    folder = tmp_path_factory.mktemp("accessibility")
    events = editing_site(folder, [EDITOR])
    server = Server(
        events, folder, workers=1, own_base_url=True,
        env={"CALFEED_SECRET_KEY": "a-test-secret-for-the-pages-" + "q" * 20, "CALFEED_TODAY": TODAY},
    )
    try:
        server.wait_answering()
        yield server.url
    finally:
        server.stop()


def _context(browser, viewport):  # noqa: F811 - the fixture
    context = browser.new_context(locale="it-IT", viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    context.route(lambda url: not url.startswith("http://127.0.0.1:"), lambda route: route.abort())
    return context


@pytest.fixture(scope="module")
def visitor(browser):  # noqa: F811 - the fixture
    context = _context(browser, PHONE)
    yield context
    context.close()


@pytest.fixture(scope="module")
def editor(browser, site):  # noqa: F811 - the fixture
    """A browser context signed in as an editor, through the login form."""
    context = _context(browser, LAPTOP)
    tab = context.new_page()
    tab.goto(site + "/edit/login")
    tab.get_by_label("Nome utente").fill(EDITOR)
    tab.get_by_label("Password").fill(PASSWORD)
    with tab.expect_navigation():
        tab.get_by_role("button", name="Accedi").click()
    assert "/edit/login" not in tab.url, tab.locator("body").inner_text()[:500]
    tab.close()
    yield context
    context.close()


def violations(tab) -> list[str]:
    """axe-core's violations on the page shown, one line each: the rule, its
    impact and the elements it found."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in tests/interop (scripts/test does)")
    # Through the DevTools protocol, which the pages' CSP (script-src 'self') does not cover.
    tab.evaluate(AXE.read_text() + "\n;0")
    result = tab.evaluate(
        "() => axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']}: " + ", ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in result["violations"]
    ]


def _open(context, url: str, status: int = 200):
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    reply = tab.goto(url)
    assert reply is not None and reply.status == status, (url, reply and reply.status)
    return tab, errors


@pytest.mark.parametrize("name", PUBLIC)
def test_public_page_has_no_axe_violations(visitor, site, name):
    status = 404 if name == "not-found" else 200
    tab, errors = _open(visitor, site + PUBLIC[name], status)
    try:
        found = violations(tab)
        assert found == [], f"{PUBLIC[name]}:\n" + "\n".join(found)
        # A 404 logs its own status in Chromium's console; nothing else may.
        assert [e for e in errors if status == 200 or "404" not in e] == [], errors
    finally:
        tab.close()


def test_login_page_has_no_axe_violations(visitor, site):
    tab, _ = _open(visitor, site + "/edit/login")
    try:
        found = violations(tab)
        assert found == [], "\n".join(found)
    finally:
        tab.close()


@pytest.mark.parametrize("name", EDITOR_PAGES)
def test_editor_page_has_no_axe_violations(editor, site, name):
    tab, _ = _open(editor, site + EDITOR_PAGES[name])
    try:
        found = violations(tab)
        assert found == [], f"{EDITOR_PAGES[name]}:\n" + "\n".join(found)
    finally:
        tab.close()


@pytest.mark.parametrize("name", PUBLIC)
def test_public_page_fits_a_narrow_phone(browser, site, name):  # noqa: F811 - the fixture
    context = _context(browser, {"width": NARROWEST, "height": 740})
    try:
        tab, _ = _open(context, site + PUBLIC[name], 404 if name == "not-found" else 200)
        width = tab.evaluate("document.scrollingElement.scrollWidth")
        assert width <= NARROWEST, f"{PUBLIC[name]} is {width} px wide on a {NARROWEST} px screen"
    finally:
        context.close()


@pytest.mark.parametrize("name", ["home", "event", "month", "past"])
def test_printed_page_has_no_controls_and_is_black_on_white(visitor, site, name):
    tab, _ = _open(visitor, site + PUBLIC[name])
    try:
        tab.emulate_media(media="print")
        shown = tab.evaluate(
            """() => [...document.querySelectorAll('button, select, input, textarea, nav, form, .buttons')]
                 .filter(e => e.getClientRects().length > 0).map(e => e.outerHTML.slice(0, 80))"""
        )
        assert shown == [], shown
        colours = tab.evaluate(
            """() => [...new Set([...document.querySelectorAll('body, body *')]
                 .filter(e => e.getClientRects().length > 0 && e.textContent.trim())
                 .map(e => getComputedStyle(e).color))]"""
        )
        assert colours == ["rgb(0, 0, 0)"], colours
        background = tab.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), background
    finally:
        tab.close()


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_screenshots_of_the_main_pages(browser, site, size):  # noqa: F811 - the fixture
    """Pictures for people to judge (not compared with anything): the home
    page, an event, the month, the embed and the print page, and the home
    and event pages as the print stylesheet shows them."""
    context = _context(browser, PHONE if size == "phone" else LAPTOP)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        for name, (path, printed) in SHOTS.items():
            tab, _ = _open(context, site + path)
            if printed:
                tab.emulate_media(media="print")
            target = ARTIFACTS / f"{re.sub(r'[^a-z-]', '', name)}-{size}.png"
            tab.screenshot(path=str(target), full_page=True, timeout=TIMEOUT_MS)
            assert target.stat().st_size > 0
            tab.close()
    finally:
        context.close()
