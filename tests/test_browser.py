"""The pages in a real headless Chromium: Debian's ``chromium`` package driven
by Playwright's Python package (pinned in pyproject.toml; ``scripts/test``
installs the browser with apt).

- A smoke test launches the browser and reads its version: when the pinned
  Playwright and the Chromium Debian ships drift apart, it fails first and
  says which versions disagree.
- ``/`` lists the upcoming events; the filter form narrows the list and the
  URL; the event page shows the date as written in Italian; "Scarica
  l'evento (.ics)" downloads a file that icalendar reads back.
- A partner site on a second loopback port embeds ``/embed`` in an iframe
  and fetch()es ``/events.json`` from script (cross-origin, so CORS).

calfeed runs under gunicorn on a copy of the sample with today pinned to
25 November 2021 (``CALFEED_TODAY``), a week before the webinar. Only
127.0.0.1: any other request from the browser is aborted. Every wait is
bounded; servers and browser are stopped by fixture finalizers. Each test
leaves a screenshot in ``test-artifacts/browser/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from importlib.metadata import version as package_version
from pathlib import Path

import icalendar
import pytest
from playwright import sync_api

from servers import free_port, gunicorn_options, html_pages, stop, wait_answering

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "events.toml"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; `playwright install` is not used
# Playwright adds --headless (headless=True) and a fresh temporary profile.
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TODAY = "2021-11-25"
TIMEOUT_MS = 10_000  # every Playwright action and wait

WEBINAR = "GENERARE PROSSIMITÀ. Quali (possibili) connessioni tra Case del Quartiere e Patti di collaborazione?"
SPORTELLO = "Sportello Patti di collaborazione"


def versions() -> str:
    """Which Playwright, which Chromium it was built for, which Chromium is installed."""
    try:
        bundled = json.loads(
            (Path(sync_api.__file__).parent.parent / "driver" / "package" / "browsers.json").read_text()
        )
        built_for = next(b["browserVersion"] for b in bundled["browsers"] if b["name"] == "chromium")
    except (OSError, ValueError, StopIteration, KeyError):
        built_for = "unknown"
    try:
        installed = subprocess.run(
            [CHROMIUM, "--version"], capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL
        ).stdout.strip() or "no output"
    except (OSError, subprocess.TimeoutExpired) as error:
        installed = f"not runnable ({error})"
    return f"Playwright {package_version('playwright')} (built for Chromium {built_for}); {CHROMIUM}: {installed}"


# --------------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def calfeed_url(tmp_path_factory):
    """calfeed under gunicorn on a free 127.0.0.1 port, on a copy of the sample."""
    work = tmp_path_factory.mktemp("browser-server")
    events = work / "events.toml"
    shutil.copyfile(SAMPLE, events)
    port = free_port()
    env = {**os.environ, "CALFEED_EVENTS": str(events), "CALFEED_TODAY": TODAY}
    env.pop("CALFEED_BASE_URL", None)
    log_path = work / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", *gunicorn_options(), "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_answering(process, port, "/healthz", log_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


PARTNER_PAGE = """\
<!doctype html>
<html lang="it">
<head><meta charset="utf-8"><title>Associazione partner</title></head>
<body>
<h1>Associazione partner</h1>
<iframe id="calfeed" src="{calfeed}/embed" title="Prossimi eventi" width="100%" height="360" style="border:1px solid #ccc"></iframe>
<h2>Il 1° dicembre</h2>
<ul id="fetched"></ul>
<p id="status">in attesa</p>
<script>
fetch("{calfeed}/events.json?from=2021-12-01&to=2021-12-01")
  .then(function (reply) {{
    if (!reply.ok) {{ throw new Error("HTTP " + reply.status); }}
    return reply.json();
  }})
  .then(function (data) {{
    data.events.forEach(function (event) {{
      var item = document.createElement("li");
      item.textContent = event.title;
      document.getElementById("fetched").appendChild(item);
    }});
    document.getElementById("status").textContent = "caricati: " + data.events.length;
  }})
  .catch(function (error) {{
    document.getElementById("status").textContent = "errore: " + error;
  }});
</script>
</body>
</html>
"""


@pytest.fixture(scope="module")
def partner_url(calfeed_url):
    """A partner's site on another 127.0.0.1 port (so another origin)."""
    body = PARTNER_PAGE.format(calfeed=calfeed_url).encode("utf-8")
    with html_pages({"/": body, "/index.html": body}) as origin:
        yield origin + "/"


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, launched by Playwright. Fails (never skips) when it
    cannot start, naming the versions involved."""
    manager = sync_api.sync_playwright().start()
    try:
        try:
            launched = manager.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000
            )
        except sync_api.Error as error:
            pytest.fail(
                f"Playwright could not drive Chromium: {versions()}.\n"
                f"Install Debian's `chromium` (scripts/test does) or pin a Playwright release that drives it.\n{error}"
            )
        yield launched
        launched.close()
    finally:
        manager.stop()


@pytest.fixture
def page(browser, request):
    """A fresh context and page; a screenshot of the page when the test ends."""
    context = browser.new_context(accept_downloads=True, locale="it-IT", viewport={"width": 1000, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    blocked: list[str] = []

    def block(route):
        blocked.append(route.request.url)
        route.abort()

    # Nothing leaves 127.0.0.1.
    context.route(lambda url: not url.startswith("http://127.0.0.1:"), block)
    tab = context.new_page()
    tab.blocked = blocked
    try:
        yield tab
    finally:
        try:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, timeout=TIMEOUT_MS)
        finally:
            context.close()


# --------------------------------------------------------------------------- tests


def test_playwright_drives_debian_chromium(browser):
    """Smoke test: fails loudly when Playwright and Debian's Chromium drift."""
    described = versions()
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", browser.version), f"unreadable browser version: {described}"
    assert browser.version in described, f"Playwright launched another browser ({browser.version}): {described}"
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        tab.set_content(f"<h1>Chromium {browser.version}</h1>")
        assert tab.evaluate("navigator.userAgent").find(browser.version.split(".")[0]) >= 0, described
        assert tab.inner_text("h1") == f"Chromium {browser.version}", described
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "test_playwright_drives_debian_chromium.png"))
    finally:
        context.close()


def _titles(tab) -> list[str]:
    return [title.strip() for title in tab.locator("ul.events a.title").all_inner_texts()]


def test_home_lists_the_upcoming_events(page, calfeed_url):
    reply = page.goto(calfeed_url + "/")
    assert reply is not None and reply.status == 200
    assert page.get_by_role("heading", name="Prossimi eventi").is_visible()
    assert page.get_by_role("link", name=WEBINAR).is_visible()
    titles = _titles(page)
    assert titles[0] == WEBINAR, titles[:5]
    assert SPORTELLO in titles
    assert page.locator(".day h3").first.inner_text() == "Mercoledì 1 dicembre 2021"
    assert page.blocked == []


def test_filter_by_category_changes_list_and_url(page, calfeed_url):
    page.goto(calfeed_url + "/")
    assert SPORTELLO in _titles(page)
    page.get_by_label("Categoria").select_option(label="Webinar")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Applica").click()
    reply = navigation.value
    assert reply is not None and reply.status == 200, (
        f"submitting the filter form ({page.url}) answered {reply and reply.status}: "
        f"{page.locator('body').inner_text()[:300]!r}"
    )
    assert "category=webinar" in page.url
    titles = _titles(page)
    assert WEBINAR in titles
    assert SPORTELLO not in titles, titles
    assert page.get_by_label("Categoria").input_value() == "webinar"


def test_event_page_shows_date_in_italian(page, calfeed_url):
    page.goto(calfeed_url + "/")
    page.get_by_role("link", name=WEBINAR).click()
    page.wait_for_url(calfeed_url + "/events/generare-prossimita")
    assert page.get_by_role("heading", level=1).inner_text() == WEBINAR
    when = page.locator("main time")
    assert when.inner_text() == "Mercoledì 1 dicembre 2021, 18:00–19:30"
    assert when.get_attribute("datetime") == "2021-12-01T18:00:00+01:00"
    assert page.blocked == []


def test_download_ics_from_event_page(page, calfeed_url):
    page.goto(calfeed_url + "/events/generare-prossimita")
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Scarica l'evento (.ics)").click()
    download = waiting.value
    assert download.failure() is None
    assert download.suggested_filename == "generare-prossimita.ics"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    saved = ARTIFACTS / "generare-prossimita.ics"
    download.save_as(saved)
    calendar = icalendar.Calendar.from_ical(saved.read_bytes())
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["SUMMARY"]) == WEBINAR
    start = event.decoded("DTSTART")
    assert start.astimezone(timezone.utc) == datetime(2021, 12, 1, 17, 0, tzinfo=timezone.utc)
    assert event.decoded("DTEND").astimezone(timezone.utc) == datetime(2021, 12, 1, 18, 30, tzinfo=timezone.utc)


def test_partner_site_embeds_and_fetches(page, calfeed_url, partner_url):
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(f"{request.url}: {request.failure}"))
    reply = page.goto(partner_url)
    assert reply is not None and reply.status == 200
    assert not page.url.startswith(calfeed_url), "the partner page must be another origin"

    # The iframe: calfeed's embed, rendered inside the partner's page.
    frame = page.frame_locator("iframe#calfeed")
    frame.get_by_role("heading", name="Prossimi eventi").wait_for()
    links = frame.locator("li a")
    links.first.wait_for()
    titles = [text.strip() for text in links.all_inner_texts()]
    assert titles[0] == WEBINAR, titles
    assert SPORTELLO in titles
    assert len(titles) == 8  # the sample's eight events, each once (a series at its next date)
    assert frame.locator("li .when").first.inner_text() == "Mercoledì 1 dicembre 2021, 18:00–19:30"
    assert links.first.get_attribute("target") == "_blank"
    embedded = next(f for f in page.frames if f.url.startswith(calfeed_url + "/embed"))
    assert "Prossimi eventi" in embedded.locator("body").inner_text()

    # The script: a cross-origin fetch() that CORS allows.
    status = page.locator("#status")
    page.wait_for_function("!document.getElementById('status').textContent.startsWith('in attesa')", timeout=TIMEOUT_MS)
    assert status.inner_text() == "caricati: 1", f"{status.inner_text()}; failed requests: {failed}"
    assert page.locator("#fetched li").all_inner_texts() == [WEBINAR]
    assert failed == []
    assert page.blocked == []
