"""``calfeed build``: the static site is the same bytes the server sends."""

from __future__ import annotations

import json
import os
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from calfeed import create_app
from calfeed.build import MARKER, BuildFailed, Writer, build_site, fill_in_parallel
from calfeed.cli import cli
from calfeed.validation import load_calendar
from calfeed.web import qr
from calfeed.web.site import Site
from conftest import SAMPLE, parse_both


def test_build_writes_every_feed_as_the_server_serves_it(tmp_path, client):
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.ics"))
    assert "calendar.ics" in files
    assert "categories/patti-di-collaborazione.ics" in files
    assert "places/bagni-pubblici.ics" in files
    assert "events/generare-prossimita.ics" in files
    assert len(files) == 1 + 7 + 3 + 8
    for name in files:
        served = client.get("/" + name).data
        assert (out / name).read_bytes() == served, name
        parse_both(served)


def test_rebuild_replaces_the_old_site_whole(tmp_path, write_events):
    out = tmp_path / "site"
    first = write_events('[[events]]\nid = "vecchio"\ntitle = "Vecchio"\nstart = 2022-01-01\n', name="a.toml")
    second = write_events('[[events]]\nid = "nuovo"\ntitle = "Nuovo"\nstart = 2022-01-02\n', name="b.toml")
    runner = CliRunner()
    assert runner.invoke(cli, ["build", str(first), "--out", str(out)]).exit_code == 0
    assert (out / "events/vecchio.ics").exists()
    assert runner.invoke(cli, ["build", str(second), "--out", str(out)]).exit_code == 0
    assert (out / "events/nuovo.ics").exists()
    assert not (out / "events/vecchio.ics").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.toml", "b.toml", "site"]  # no temp folders left


def test_bad_file_builds_nothing(tmp_path, write_events):
    out = tmp_path / "site"
    good = write_events('[[events]]\nid = "x"\ntitle = "X"\nstart = 2022-01-01\n', name="good.toml")
    bad = write_events('[[events]]\nid = "x"\nstart = 2022-01-01\n', name="bad.toml")
    runner = CliRunner()
    runner.invoke(cli, ["build", str(good), "--out", str(out)])
    before = (out / "calendar.ics").read_bytes()
    result = runner.invoke(cli, ["build", str(bad), "--out", str(out)])
    assert result.exit_code == 1
    assert "title: missing" in result.output
    assert (out / "calendar.ics").read_bytes() == before


def test_check_prints_a_summary(tmp_path):
    result = CliRunner().invoke(cli, ["check", str(SAMPLE)])
    assert result.exit_code == 0
    assert result.output.strip().endswith(
        "OK: 8 events (1 all-day, 1 cancelled), 3 places, 7 categories"
    )
    assert result.output.count("\n") == 1


def test_build_never_replaces_a_folder_it_did_not_write(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["build", str(SAMPLE), "--out", str(project)])
    assert result.exit_code == 1
    assert "was not written by calfeed build" in result.output
    assert sorted(p.name for p in project.iterdir()) == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert CliRunner().invoke(cli, ["build", str(SAMPLE), "--out", str(empty)]).exit_code == 0
    assert (empty / "calendar.ics").exists()


def test_the_built_site_has_every_page_and_its_links_resolve(tmp_path, monkeypatch):
    from urllib.parse import urlsplit

    from calfeed import create_app
    from calfeed.build import static_file
    from conftest import Page

    monkeypatch.setenv("CALFEED_TODAY", "2021-11-25")
    out = tmp_path / "site"
    assert CliRunner().invoke(cli, ["build", str(SAMPLE), "--out", str(out)]).exit_code == 0
    server = create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"}).test_client()
    for path in ["/", "/past", "/embed", "/events.json", "/month/2021-12", "/events/generare-prossimita",
                 "/events/generare-prossimita/print", "/events/generare-prossimita/qr.svg", "/qr/categories/webinar.svg"]:
        assert (out / static_file(path)).read_bytes() == server.get(path).data, path
    assert "Mercoledì 1 dicembre 2021, 18:00–19:30" in Page((out / "events/generare-prossimita.html").read_bytes()).text
    broken = set()
    for html in out.rglob("*.html"):
        page = Page(html.read_bytes())
        targets = [href for _, href in page.links] + [i["src"] for i in page.all("img")]
        for target in targets:
            if target.startswith("/"):
                path = urlsplit(target).path
                if not (out / static_file(path)).exists():
                    broken.add((html.relative_to(out).as_posix(), target))
    assert not broken, sorted(broken)[:10]


def generated_calendar(count: int = 48) -> str:
    """A calendar with more of what pages show: series with exdates and
    overrides, all-day spans, online and free-text events, a cancelled one,
    places and categories, text that needs escaping and quoting."""
    text = textwrap.dedent('''\
        [calendar]
        name = "Quartiere <Prova> & \\"amici\\""
        base_url = "https://eventi.example.org"
        timezone = "Europe/Rome"
        past_days = 400

        [places.sala]
        name = "Sala grande"
        address = "Via Roma 1, 10100 Torino"
        geo = [45.07, 7.68]
        url = "https://sala.example.org"

        [places.parco]
        name = "Parco d'Oro"
        ''')
    categories = ["Città aperta", "Laboratori", "Patti & beni comuni", "Musica"]
    for n in range(count):
        day = date(2029, 10, 1) + timedelta(days=11 * n)
        text += f'\n[[events]]\nid = "evento-{n:03d}"\ntitle = "Evento n. {n} — l\'«incontro» <{n % 3}>"\n'
        if n % 6 == 0:
            text += f"start = {day}\nend = {day + timedelta(days=n % 3)}\n"
        elif n % 6 == 1:  # a weekly series, one date left out, one cancelled, one moved
            text += (
                f"start = {day}T17:00:00\nend = {day}T19:00:00\n"
                f'rrule = "FREQ=WEEKLY;COUNT=8"\nexdates = [{day + timedelta(days=14)}T17:00:00]\n'
            )
        else:
            text += f'start = {day}T{9 + n % 10:02d}:30:00\nduration = "PT{1 + n % 3}H"\n'
        text += f"categories = {json.dumps(categories[n % 4 : n % 4 + 1 + n % 2], ensure_ascii=False)}\n"
        if n % 4 == 0:
            text += 'place = "sala"\n'
        elif n % 4 == 1:
            text += 'place = "parco"\n'
        elif n % 4 == 2:
            text += 'online = ["https://www.youtube.com/@prova", "https://meet.example.org/x?a=1&b=2"]\n'
        else:
            text += 'location = "Piazza Vittorio, lato Po"\n'
        text += f'description = """Riga con un link https://example.org/p?q={n}&r=è.\n\nSecondo paragrafo: 100% «gratis» & <libero>."""\n'
        text += f"updated = 2029-09-{1 + n % 28:02d}T10:00:00\n"
        if n == 5:
            text += 'status = "cancelled"\n'
        if n % 6 == 1:
            text += (
                f'\n[[events.overrides]]\nrecurrence_id = {day + timedelta(days=7)}T17:00:00\nstatus = "cancelled"\n'
                f"\n[[events.overrides]]\nrecurrence_id = {day + timedelta(days=21)}T17:00:00\n"
                f'start = {day + timedelta(days=20)}T18:00:00\ntitle = "Spostato"\n'
            )
    return text


def served_path(name: str) -> str:
    """The URL path the server answers for a built file (``static_file`` reversed)."""
    if name == "index.html":
        return "/"
    return "/" + (name.removesuffix(".html") if name.endswith(".html") else name)


def assert_same_as_served(out: Path, written: list[str], events: Path, today: str) -> None:
    server = create_app({"EVENTS": str(events), "TODAY": today}).test_client()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(written)
    for name in written:
        if name == MARKER:
            continue
        response = server.get("/404-page-for-static-hosts" if name == "404.html" else served_path(name))
        assert response.status_code == (404 if name == "404.html" else 200), name
        assert (out / name).read_bytes() == response.data, name


@pytest.mark.parametrize("today", ["2021-11-25", "2022-06-01"])
def test_every_file_of_the_sample_build_is_what_the_server_sends(tmp_path, monkeypatch, today):
    monkeypatch.setenv("CALFEED_TODAY", today)
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(SAMPLE), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert_same_as_served(out, written, SAMPLE, today)


@pytest.mark.parametrize("workers", [1, 3])
def test_every_file_of_a_larger_build_is_what_the_server_sends(tmp_path, write_events, workers):
    events = write_events(generated_calendar(), header=False)
    today = "2030-02-10"
    out = tmp_path / "site"
    written = build_site(Site(create_app({"EVENTS": str(events), "TODAY": today})), out, workers=workers)
    calendar = load_calendar(events)
    assert len(calendar.places) == 2 and len(calendar.categories) == 4
    assert sum(name.startswith("events/") for name in written) == 4 * len(calendar.events)
    assert sum(name.startswith("month/") for name in written) > 12
    assert_same_as_served(out, written, events, today)


def test_each_file_is_claimed_once_and_filled_by_one_process(tmp_path):
    """Claims refuse a second write; the forked processes fill every claimed
    file, and a file filled twice would fail (it is created exclusively)."""
    writer = Writer(tmp_path)
    with pytest.raises(ValueError, match="written twice"):
        for name in ["a.html", "b/c.html", "a.html"]:
            writer.claim(name)
    made: list[str] = []
    groups = [[(writer.claim(f"g{n}/f{k}"), lambda n=n, k=k: f"{n}.{k}".encode()) for k in range(3)] for n in range(7)]
    fill_in_parallel([groups[:2], groups[2:3], groups[3:]], 3)
    for n in range(7):
        for k in range(3):
            made.append((tmp_path / f"g{n}/f{k}").read_text())
    assert made == [f"{n}.{k}" for n in range(7) for k in range(3)]


def test_a_slow_bundle_does_not_hold_up_the_others(tmp_path):
    """Each process takes the next bundle free: while the first bundle waits
    for every other one to be made, the other processes make them all (a
    share fixed in advance would leave some to the waiting process)."""
    writer = Writer(tmp_path)
    others = [[(writer.claim(f"b{n}/f"), lambda: str(os.getpid()).encode())] for n in range(1, 12)]

    def first() -> bytes:
        deadline = time.monotonic() + 30
        while not all((tmp_path / f"b{n}/f").exists() for n in range(1, 12)):
            assert time.monotonic() < deadline, "the other bundles were not made while the first one waited"
            time.sleep(0.01)
        return str(os.getpid()).encode()

    bundles = [[[(writer.claim("b0/f"), first)]], *([group] for group in others)]
    fill_in_parallel(bundles, 2)
    waiting = (tmp_path / "b0/f").read_text()
    assert all((tmp_path / f"b{n}/f").read_text() != waiting for n in range(1, 12))


def test_a_failing_build_process_fails_the_build_and_keeps_the_old_site(tmp_path, monkeypatch):
    out = tmp_path / "site"
    site = Site(create_app({"EVENTS": str(SAMPLE), "TODAY": "2021-11-25"}))
    build_site(site, out, workers=2)
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))

    def broken(text, title):
        raise RuntimeError(f"QR encoder exploded in process {os.getpid()}")

    # The feeds' codes: the events' own are taken over from the first build.
    monkeypatch.setattr(qr, "qr_svg", broken)
    with pytest.raises(BuildFailed, match="QR encoder exploded"):
        build_site(site, out, workers=2)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # the staged folder is gone


def test_a_build_removes_what_dead_builds_left_beside_the_site(tmp_path):
    """A build killed midway leaves its staging folder, or (where the system
    cannot swap two folders in one step) the old site moved aside."""
    out = tmp_path / "site"
    assert CliRunner().invoke(cli, ["build", str(SAMPLE), "--out", str(out)]).exit_code == 0
    for leftover in [".site.new-k1ll3d", ".site.old-12345"]:
        (tmp_path / leftover / "events").mkdir(parents=True)
        (tmp_path / leftover / "events" / "festa.ics").write_bytes(b"BEGIN:VCALENDAR\r\n")
    assert CliRunner().invoke(cli, ["build", str(SAMPLE), "--out", str(out)]).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_calendar_at_the_length_limits_builds_with_every_qr_code(tmp_path, write_events):
    """The longest base URL and category name events.toml accepts still make
    a file name and a QR code (longer ones are refused by `calfeed check`)."""
    base = "https://eventi.example.org/" + "p" * 173  # 200 characters
    category = "Categoria " + "x" * 90  # 100 characters
    path = write_events(
        f'[[events]]\nid = "{"e" * 80}"\ntitle = "Lungo"\nstart = 2022-01-01\ncategories = ["{category}"]\n',
        header=False,
    )
    path.write_text(f'[calendar]\nname = "Prova"\nbase_url = "{base}"\n\n' + path.read_text())
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    slug = "categoria-" + "x" * 90
    assert (out / "categories" / f"{slug}.ics").exists()
    assert (out / "qr" / "categories" / f"{slug}.svg").read_bytes().startswith(b"<svg")
    assert (out / "events" / ("e" * 80) / "qr.svg").read_bytes().startswith(b"<svg")
