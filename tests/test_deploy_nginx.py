"""The nginx configurations in deploy/ (README, "Performance and deployment"),
run with Debian's nginx on 127.0.0.1.

- deploy/nginx-static.conf serves a fresh `calfeed build` of the sample with
  the headers calfeed's own server sends: content types, ETag and 304,
  Cache-Control, CORS on feeds and JSON, gzip, the pages' security headers,
  pretty URLs (`try_files $uri $uri.html =404`) and the build's 404 page.
- deploy/nginx-proxy.conf in front of `gunicorn wsgi:app` passes calfeed's
  bytes, ETags, 304s and gzip through unchanged; in front of two instances
  (as on two machines) every answer is the same, whichever instance gives it.

These tests fail, rather than skip, when nginx is missing: `scripts/test`
installs it (`apt-get install nginx`). Every server is stopped by a fixture
finalizer; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from calfeed import create_app
from calfeed.build import build_site
from calfeed.web import component
from calfeed.web.site import Site
from servers import fetch, free_port, gunicorn_options, stop, wait_answering

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "events.toml"
DEPLOY = ROOT / "deploy"
TODAY = "2022-01-10"
EVENT = "generare-prossimita"
SERIES = "sportello-patti-latina"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
    )
    if found is None:
        pytest.fail(
            "nginx is not installed: tests/test_deploy_nginx.py runs Debian's nginx against deploy/*.conf; "
            "install it with `apt-get install -y nginx` (as scripts/test does)"
        )
    return found


def render(template: Path, **values: str) -> str:
    """A deploy/*.conf with its ${CALFEED_...} placeholders filled in, as envsubst would."""
    text = template.read_text()
    for name, value in values.items():
        assert "${" + name + "}" in text, f"{template.name} has no ${{{name}}}"
        text = text.replace("${" + name + "}", value)
    assert "${CALFEED_" not in text, "a placeholder is left"
    return text


def start_nginx(server_block: str, work: Path, port: int, probe: str = "/") -> subprocess.Popen:
    """Debian's nginx in the foreground with ``server_block`` inside ``http {}``
    (where deploy/*.conf go), everything it writes kept in ``work``."""
    binary = nginx_binary()
    work.mkdir(parents=True, exist_ok=True)
    # As root, workers would run as "nobody", who cannot read pytest's 0700 folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(f"    {kind}_temp_path {work / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    config = work / "nginx.conf"
    config.write_text(
        f"{user}worker_processes 1;\npid {work / 'nginx.pid'};\nerror_log {work / 'error.log'} warn;\n"
        f"events {{ worker_connections 256; }}\nhttp {{\n    access_log off;\n{temp}\n{server_block}\n}}\n"
    )
    log = work / "error.log"
    check = subprocess.run([binary, "-t", "-p", str(work), "-e", str(log), "-c", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, f"nginx -t refuses the configuration:\n{check.stderr}"
    process = subprocess.Popen(
        [binary, "-p", str(work), "-e", str(log), "-c", str(config), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_answering(process, port, probe, log)
    except BaseException:
        stop(process)
        raise
    return process


def test_nginx_is_installed():
    """Fails (not skips) with the command to run when Debian's nginx is missing."""
    version = subprocess.run([nginx_binary(), "-v"], capture_output=True, text=True)
    assert version.returncode == 0 and "nginx/" in version.stderr


# --------------------------------------------------------------------------- static site


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nginx-static") / "site"
    build_site(Site(create_app({"EVENTS": str(SAMPLE), "TODAY": TODAY})), out)
    return out


@pytest.fixture(scope="module")
def static(site, tmp_path_factory):
    """nginx with deploy/nginx-static.conf serving ``site``; yields its port."""
    port = free_port()
    block = render(DEPLOY / "nginx-static.conf", CALFEED_LISTEN=f"127.0.0.1:{port}", CALFEED_ROOT=str(site))
    process = start_nginx(block, tmp_path_factory.mktemp("nginx-static-run"), port)
    yield port
    stop(process)


@pytest.fixture(scope="module")
def calfeed():
    """calfeed's own server (in process), for the headers nginx must match."""
    return create_app({"EVENTS": str(SAMPLE), "TODAY": TODAY}).test_client()


def test_feed_has_calfeeds_bytes_and_headers(static, site):
    reply = fetch(static, "/calendar.ics")
    assert reply.status == 200
    assert reply.body == (site / "calendar.ics").read_bytes()
    assert reply.body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert reply.headers["content-type"] == "text/calendar; charset=utf-8"
    assert reply.headers["access-control-allow-origin"] == "*"
    assert reply.headers["cache-control"] == "public, max-age=21600"
    assert reply.headers["etag"].strip('W/"')
    assert "last-modified" in reply.headers
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_etag_and_if_modified_since_give_304(static):
    first = fetch(static, "/calendar.ics")
    again = fetch(static, "/calendar.ics", {"If-None-Match": first.headers["etag"]})
    assert again.status == 304 and again.body == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["access-control-allow-origin"] == "*"
    assert fetch(static, "/calendar.ics", {"If-None-Match": '"another"'}).status == 200
    dated = fetch(static, "/calendar.ics", {"If-Modified-Since": first.headers["last-modified"]})
    assert dated.status == 304
    head = fetch(static, "/calendar.ics", method="HEAD")
    assert head.status == 200 and head.body == b""
    assert int(head.headers["content-length"]) == len(first.body)


def test_gzip_when_asked(static, site):
    plain = (site / "calendar.ics").read_bytes()
    reply = fetch(static, "/calendar.ics", {"Accept-Encoding": "gzip"})
    assert reply.status == 200
    assert reply.headers.get("content-encoding") == "gzip"
    assert gzip.decompress(reply.body) == plain
    assert "accept-encoding" in reply.headers.get("vary", "").lower()
    assert reply.headers["content-type"] == "text/calendar; charset=utf-8"
    # A gzip answer keeps a (weak) ETag that gets its 304.
    assert reply.headers.get("etag")
    again = fetch(static, "/calendar.ics", {"Accept-Encoding": "gzip", "If-None-Match": reply.headers["etag"]})
    assert again.status == 304
    events = fetch(static, "/events.json", {"Accept-Encoding": "gzip"})
    assert events.headers.get("content-encoding") == "gzip"
    assert json.loads(gzip.decompress(events.body))["events"]


@pytest.mark.parametrize(
    "path",
    [
        "/calendar.ics",
        "/categories/patti-di-collaborazione.ics",
        "/places/casa-quartiere-latina.ics",
        f"/events/{EVENT}.ics",
        "/events.json",
        "/qr/calendar.svg",
        f"/events/{EVENT}/qr.svg",
        "/static/calfeed.js",
        component.PATH,
        "/",
        "/past",
        "/month",
        "/month/2022-01",
        "/embed",
        f"/events/{EVENT}",
        f"/events/{SERIES}",
        f"/events/{EVENT}/print",
        "/sitemap.xml",
        "/sitemap-pages.xml",
        "/sitemap-events-1.xml",
        "/robots.txt",
        "/feed.rss",
        "/feed.atom",
    ],
)
def test_every_url_answers_as_calfeed_does(static, calfeed, path):
    """Pretty URLs reach the build's files, with calfeed's own headers."""
    reply = fetch(static, path)
    own = calfeed.get(path)
    assert reply.status == 200 == own.status_code, path
    assert reply.body == own.data, f"{path}: nginx serves other bytes than calfeed"
    for name in (
        "Content-Type", "Access-Control-Allow-Origin", "Content-Disposition",
        "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
    ):
        assert reply.headers.get(name.lower()) == own.headers.get(name), f"{path}: {name}"
    if own.headers.get("Cache-Control"):
        assert reply.headers["cache-control"] == own.headers["Cache-Control"], path
    else:  # pages: calfeed's server sends none; the static host lets them be cached briefly
        assert reply.headers["cache-control"] == "public, max-age=300", path
    assert reply.headers.get("etag"), path


def test_content_types(static):
    expected = {
        "/calendar.ics": "text/calendar; charset=utf-8",
        "/events.json": "application/json",
        "/qr/calendar.svg": "image/svg+xml",
        "/": "text/html; charset=utf-8",
        f"/events/{EVENT}": "text/html; charset=utf-8",
    }
    for path, content_type in expected.items():
        assert fetch(static, path).headers["content-type"] == content_type, path


def test_json_and_event_download(static):
    events = fetch(static, "/events.json")
    assert events.headers["access-control-allow-origin"] == "*"
    assert json.loads(events.body)["events"]
    download = fetch(static, f"/events/{EVENT}.ics")
    assert download.headers["content-disposition"] == f'attachment; filename="{EVENT}.ics"'
    assert "content-disposition" not in fetch(static, "/calendar.ics").headers


def test_unknown_paths_get_the_builds_404_page(static, site):
    page = (site / "404.html").read_bytes()
    for path in ("/nowhere", "/events/no-such-event", "/events/no-such-event.ics", "/categories/nope.ics", "/404"):
        reply = fetch(static, path)
        assert reply.status == 404, path
        assert reply.body == page, path
        assert reply.headers["content-type"] == "text/html; charset=utf-8"
        assert reply.headers["x-frame-options"] == "DENY"


def test_nothing_outside_the_site_and_no_dotfiles(static):
    for path in ("/.calfeed-build", "/../events.toml", "/%2e%2e/events.toml", "/404.html"):
        assert fetch(static, path).status in (400, 404), path


def test_filters_the_static_site_cannot_apply_are_404_not_the_whole_calendar(static):
    assert fetch(static, "/calendar.ics?category=webinar").status == 404
    assert fetch(static, "/calendar.ics?place=bagni-pubblici").status == 404
    assert fetch(static, "/events.json?category=webinar").status == 404
    assert fetch(static, "/calendar.ics?utm_source=newsletter").status == 200


# --------------------------------------------------------------------------- gunicorn behind nginx


@contextlib.contextmanager
def gunicorn(events: Path, port: int, log: Path):
    """``gunicorn wsgi:app`` with two workers on ``events``, answering on 127.0.0.1:``port``."""
    env = {**os.environ, "CALFEED_EVENTS": str(events)}
    env.pop("CALFEED_BASE_URL", None)
    with open(log, "wb") as out:
        app = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
             *gunicorn_options(), "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        wait_answering(app, port, "/healthz", log)
        yield app
    finally:
        stop(app)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """gunicorn wsgi:app (two workers) with nginx and deploy/nginx-proxy.conf
    in front; yields (nginx port, gunicorn port)."""
    work = tmp_path_factory.mktemp("nginx-proxy")
    events = work / "events.toml"
    shutil.copyfile(SAMPLE, events)
    app_port, proxy_port = free_port(), free_port()
    with gunicorn(events, app_port, work / "gunicorn.log"):
        block = render(DEPLOY / "nginx-proxy.conf", CALFEED_LISTEN=f"127.0.0.1:{proxy_port}", CALFEED_UPSTREAM=f"127.0.0.1:{app_port}")
        proxy = start_nginx(block, work / "nginx", proxy_port, "/healthz")
        try:
            yield proxy_port, app_port
        finally:
            stop(proxy)


@pytest.mark.parametrize("path", ["/calendar.ics", "/calendar.ics?category=webinar", "/events.json", f"/events/{EVENT}.ics", "/", f"/events/{EVENT}"])
def test_proxy_passes_calfeeds_answers_through(proxied, path):
    proxy, app = proxied
    through, direct = fetch(proxy, path), fetch(app, path)
    assert through.status == direct.status == 200, path
    assert through.body == direct.body, path
    for name in ("content-type", "etag", "last-modified", "cache-control", "access-control-allow-origin",
                 "content-security-policy", "x-frame-options", "content-disposition", "vary"):
        assert through.headers.get(name) == direct.headers.get(name), f"{path}: {name}"


def test_proxy_keeps_304_and_gzip(proxied):
    proxy, app = proxied
    plain = fetch(proxy, "/calendar.ics")
    assert fetch(proxy, "/calendar.ics", {"If-None-Match": plain.headers["etag"]}).status == 304
    assert fetch(proxy, "/calendar.ics", {"If-Modified-Since": plain.headers["last-modified"]}).status == 304
    zipped, direct = (fetch(port, "/calendar.ics", {"Accept-Encoding": "gzip"}) for port in (proxy, app))
    assert zipped.headers.get("content-encoding") == "gzip"
    assert zipped.body == direct.body  # calfeed's own gzip bytes (mtime 0), not nginx's
    assert gzip.decompress(zipped.body) == plain.body
    assert fetch(proxy, "/calendar.ics", {"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]}).status == 304
    health = json.loads(fetch(proxy, "/healthz").body)
    assert health["status"] == "ok"
    assert fetch(proxy, "/no-such-page").status == 404


# --------------------------------------------------------------------------- several instances behind a balancer


@pytest.fixture(scope="module")
def balanced(tmp_path_factory):
    """Two calfeed instances, as on two machines (each with its own copy of
    events.toml, written at its own time), behind nginx-proxy.conf with a
    second ``server`` line in its upstream, as the README says; yields
    (nginx port, [instance ports])."""
    work = tmp_path_factory.mktemp("nginx-balancer")
    ports = [free_port(), free_port()]
    with contextlib.ExitStack() as instances:
        for number, port in enumerate(ports):
            machine = work / f"machine-{number}"
            machine.mkdir()
            shutil.copyfile(SAMPLE, machine / "events.toml")
            os.utime(machine / "events.toml", (time.time() - 3600 * number, time.time() - 3600 * number))
            instances.enter_context(gunicorn(machine / "events.toml", port, machine / "gunicorn.log"))
        proxy_port = free_port()
        block = render(DEPLOY / "nginx-proxy.conf", CALFEED_LISTEN=f"127.0.0.1:{proxy_port}", CALFEED_UPSTREAM=f"127.0.0.1:{ports[0]}")
        block = block.replace(f"server 127.0.0.1:{ports[0]};", f"server 127.0.0.1:{ports[0]};\n    server 127.0.0.1:{ports[1]};")
        proxy = start_nginx(block, work / "nginx", proxy_port, "/healthz")
        try:
            yield proxy_port, ports
        finally:
            stop(proxy)


@pytest.mark.parametrize("path", ["/calendar.ics", "/categories/webinar.ics", "/events.json", f"/events/{EVENT}.ics"])
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_instances_behind_a_balancer_answer_alike(balanced, path, encoding):
    """Whichever instance a request reaches, the same bytes and validators,
    so a client's If-None-Match is answered 304 by every instance."""
    proxy, instances = balanced
    asked = {"Accept-Encoding": encoding}
    direct = [fetch(port, path, asked) for port in instances]
    assert direct[0].body == direct[1].body
    for name in ("etag", "last-modified", "content-type", "content-encoding", "cache-control"):
        assert direct[0].headers.get(name) == direct[1].headers.get(name), name
    etag = direct[0].headers["etag"]
    for _ in range(6):  # round robin: each instance answers several of these
        through = fetch(proxy, path, asked)
        assert (through.status, through.body, through.headers["etag"]) == (200, direct[0].body, etag)
        assert fetch(proxy, path, {**asked, "If-None-Match": etag}).status == 304
