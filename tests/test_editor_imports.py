"""Importing from the browser (/edit/import): a preview first, nothing
written before the confirmation, then the same file `calfeed import --merge`
makes; the command line's safety rules (public addresses only, size limit).

Oracles: the file `calfeed import --merge` writes from the same source into
a copy of the same events.toml; the feed read back with icalendar; git's log.
"""

from __future__ import annotations

import io
import re
import shutil
import socket
import subprocess
import tomllib
from pathlib import Path

import icalendar
import pytest

from calfeed.importing import MAX_BYTES, import_calendar
from conftest import Page
from test_editor import PASSWORD, editor, events, app, login, make_app, token  # noqa: F401 (fixtures)

GOOGLE = Path(__file__).parent / "data" / "import" / "google.ics"
NEW_TITLES = ["Assemblea dei soci", "Festa di via Morgari", "Riunione online del comitato"]


def preview_upload(client, data: bytes, name: str = "google.ics", **fields: str):
    page = client.get("/edit/import")
    assert page.status_code == 200
    form = {"csrf_token": token(page.text), "url": "", "file": (io.BytesIO(data), name), **fields}
    return client.post("/edit/import", data=form, content_type="multipart/form-data")


def preview_url(client, url: str):
    page = client.get("/edit/import")
    return client.post("/edit/import", data={"csrf_token": token(page.text), "url": url})


def confirm_form(markup: str) -> dict[str, str]:
    inputs = Page(markup).all("input")
    return {i["name"]: i["value"] for i in inputs if i.get("name") in ("csrf_token", "token", "version")}


def cli_import(events: Path, tmp_path: Path) -> tuple[bytes, str]:
    """What `calfeed import --merge` makes of a copy of the file."""
    copy = tmp_path / "cli" / "events.toml"
    copy.parent.mkdir()
    shutil.copyfile(events, copy)
    report = import_calendar(str(GOOGLE), copy, merge=True)
    return copy.read_bytes(), report.summary()


def feed_titles(client) -> list[str]:
    feed = icalendar.Calendar.from_ical(client.get("/calendar.ics").data)
    return [str(e["SUMMARY"]) for e in feed.walk("VEVENT")]


def test_an_upload_is_previewed_then_written_on_confirmation_as_the_cli_would(editor, events, tmp_path):
    before = events.read_bytes()
    expected_file, expected_report = cli_import(events, tmp_path)
    response = preview_upload(editor, GOOGLE.read_bytes())
    assert response.status_code == 200
    markup = response.get_data(as_text=True)
    page = Page(markup).text
    for title in NEW_TITLES:
        assert title in page
    assert " ".join(expected_report.split()) in page  # the same report as the command line's
    assert events.read_bytes() == before  # nothing written by the preview
    assert not any(title in feed_titles(editor) for title in NEW_TITLES)

    done = editor.post("/edit/import/confirm", data=confirm_form(markup))
    assert done.status_code == 303
    assert events.read_bytes() == expected_file
    titles = [e.get("title") for e in tomllib.loads(events.read_text(encoding="utf-8"))["events"]]
    assert all(title in titles for title in NEW_TITLES)
    assert all(title in feed_titles(editor) for title in NEW_TITLES)
    count = len(titles) - len(tomllib.loads(before.decode())["events"])
    assert f"Importati {count} eventi da google.ics" in Page(editor.get("/edit/").get_data(as_text=True)).text
    # The same preview cannot be confirmed twice.
    again = editor.post("/edit/import/confirm", data=confirm_form(markup))
    assert again.status_code == 409
    assert events.read_bytes() == expected_file


def test_in_git_the_import_is_one_commit_by_the_editor(events, monkeypatch):
    def git(*arguments: str) -> str:
        return subprocess.run(["git", "-C", str(events.parent), *arguments], check=True, capture_output=True, text=True).stdout

    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(events.parent / "no-gitconfig"))
    git("init", "-q")
    git("add", "events.toml")
    git("-c", "user.name=setup", "-c", "user.email=setup@example.org", "commit", "-qm", "start")
    client = make_app(events).test_client()
    assert login(client).status_code == 303
    markup = preview_upload(client, GOOGLE.read_bytes()).get_data(as_text=True)
    assert client.post("/edit/import/confirm", data=confirm_form(markup)).status_code == 303
    count = len(re.findall(r"^\[\[events\]\]", events.read_text(encoding="utf-8"), re.M)) - len(
        re.findall(r"^\[\[events\]\]", git("show", "HEAD~1:events.toml"), re.M))
    assert git("log", "-1", "--format=%an|%s") == f"anna|Importati {count} eventi da google.ics\n"
    assert git("status", "--porcelain", "--", "events.toml") == ""


def test_an_english_calendar_gets_an_english_commit_message(events):
    events.write_text(events.read_text(encoding="utf-8").replace('language = "it"', 'language = "en"'), encoding="utf-8")
    client = make_app(events).test_client()
    assert login(client).status_code == 303
    markup = preview_upload(client, GOOGLE.read_bytes()).get_data(as_text=True)
    assert client.post("/edit/import/confirm", data=confirm_form(markup)).status_code == 303
    assert re.search(r"Imported \d+ events from google\.ics", Page(client.get("/edit/").get_data(as_text=True)).text)


def test_a_file_changed_between_preview_and_confirmation_is_not_overwritten(editor, events):
    markup = preview_upload(editor, GOOGLE.read_bytes()).get_data(as_text=True)
    edited = events.read_text(encoding="utf-8") + "\n# a hand edit meanwhile\n"
    events.write_text(edited, encoding="utf-8")
    response = editor.post("/edit/import/confirm", data=confirm_form(markup))
    assert response.status_code == 409
    assert "è cambiato dopo l'anteprima" in Page(response.get_data(as_text=True)).text
    assert events.read_text(encoding="utf-8") == edited


def test_a_url_to_this_machine_is_refused_without_any_request(editor, events):
    before = events.read_bytes()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        for url in (f"http://127.0.0.1:{port}/cal.ics", f"http://localhost:{port}/cal.ics"):
            response = preview_url(editor, url)
            assert response.status_code == 422
            text = Page(response.get_data(as_text=True)).text
            assert "da qui si importa solo da indirizzi pubblici" in text
            assert "allow-private" not in text
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    assert events.read_bytes() == before


@pytest.mark.parametrize("url", ["/etc/hostname", "tests/data/import/google.ics", "file:///etc/hostname", "ftp://example.org/x.ics"])
def test_a_url_field_never_reads_the_servers_files(editor, events, url):
    before = events.read_bytes()
    response = preview_url(editor, url)
    assert response.status_code == 422
    assert "Solo indirizzi che iniziano con http:// o https://" in Page(response.get_data(as_text=True)).text
    assert events.read_bytes() == before


def test_an_upload_that_is_not_icalendar_gets_a_clear_error(editor, events):
    before = events.read_bytes()
    response = preview_upload(editor, b"<html><body>Not found</body></html>", name="calendar.ics")
    assert response.status_code == 422
    assert "Non è un calendario iCalendar (.ics)" in Page(response.get_data(as_text=True)).text
    assert events.read_bytes() == before


def test_an_oversized_upload_is_refused_and_nothing_written(editor, events):
    before = events.read_bytes()
    body = GOOGLE.read_bytes()
    big = body.replace(b"END:VCALENDAR", b"X-PADDING:" + b"x" * (MAX_BYTES + 10) + b"\r\nEND:VCALENDAR")
    response = preview_upload(editor, big)
    assert response.status_code == 413
    assert "supera 20 MB" in Page(response.get_data(as_text=True)).text
    assert events.read_bytes() == before


def test_both_posts_need_the_csrf_token(editor, events):
    before = events.read_bytes()
    no_token = editor.post("/edit/import", data={"url": "", "file": (io.BytesIO(GOOGLE.read_bytes()), "google.ics")},
                           content_type="multipart/form-data")
    assert no_token.status_code == 400
    markup = preview_upload(editor, GOOGLE.read_bytes()).get_data(as_text=True)
    form = confirm_form(markup)
    del form["csrf_token"]
    assert editor.post("/edit/import/confirm", data=form).status_code == 400
    assert events.read_bytes() == before


def test_another_editor_cannot_confirm_someone_elses_preview(app, editor, events):
    before = events.read_bytes()
    markup = preview_upload(editor, GOOGLE.read_bytes()).get_data(as_text=True)
    other = app.test_client()
    assert login(other, "bruno", PASSWORD + " 2").status_code == 303
    form = confirm_form(markup)
    form["csrf_token"] = token(other.get("/edit/import").text)
    assert other.post("/edit/import/confirm", data=form).status_code == 409
    assert events.read_bytes() == before
