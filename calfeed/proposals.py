"""Events proposed by anyone, waiting for an editor: one JSON file each in
the proposals folder, and the counts that keep a public form from flooding it.

The folder (``CALFEED_PROPOSALS``, else ``proposals/`` beside events.toml)
holds ``<id>.json`` for each pending proposal, ``approved/`` and
``rejected/`` for decided ones (moved there with the decision added), a
``.gitignore`` that keeps all of it out of the calendar's git history, and
``.limits.sqlite``: the proposals per address that every worker shares. A
proposal holds the form's text as typed (the editor's form reads it again at
approval), the contact e-mail, the time it arrived and a keyed hash of the
sender's address, never the address itself. No Flask here.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from calfeed import counters
from calfeed.accounts import address_key

FOLDER = "proposals"
PER_HOUR = 5  # proposals stored per address in an hour
TRIES_PER_HOUR = 30  # posts checked per address in an hour (each runs the whole checker)
MAX_PENDING = 200  # proposals waiting for an editor
WINDOW = 3600.0
# The form's fields a proposal may carry, and the most characters each may hold.
SIZES = {"title": 200, "start": 40, "end": 40, "place": 100, "location": 200, "description": 5000,
         "url": 500, "categories": 500, "email": 254}
MULTILINE = frozenset({"description"})  # every other field is one line
FIELDS = tuple(SIZES)
MAX_CATEGORIES = 5
MAX_REQUEST = 32 * 1024  # bytes of a whole /propose post

_ID = re.compile(r"[0-9a-f]{24}")
_EMAIL = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+")
_HTML = re.compile(r"<\s*[A-Za-z/!?]|&[#A-Za-z0-9]+;")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class ProposalsClosed(Exception):
    """The folder cannot be written (a read-only disk, no room): nothing was stored."""


class QueueFull(Exception):
    """MAX_PENDING proposals are waiting already: nothing was stored."""


@dataclass(frozen=True)
class Proposal:
    """One pending (or decided) proposal as its file holds it."""

    pid: str
    received: str  # ISO time in UTC
    typed: dict[str, Any]  # the form's fields as typed; "categories" a list, "all_day" a bool
    email: str

    @property
    def title(self) -> str:
        return str(self.typed.get("title") or "")


def proposals_path(events: str | Path, configured: str | None) -> Path:
    """The proposals folder of an events.toml (``CALFEED_PROPOSALS``, else beside it).

    >>> str(proposals_path("/srv/cal/events.toml", None)), str(proposals_path("/srv/cal/events.toml", "/var/p"))
    ('/srv/cal/proposals', '/var/p')
    """
    return Path(configured) if configured else Path(events).parent / FOLDER


def is_proposal_id(text: str) -> bool:
    """Whether ``text`` can name a proposal (24 hex digits), so no path can be made of it.

    >>> is_proposal_id("0123456789abcdef01234567"), is_proposal_id("../events.toml")
    (True, False)
    """
    return _ID.fullmatch(text) is not None


def text_problems(typed: Mapping[str, Any]) -> dict[str, str]:
    """What a public form may not carry, by field (keys of the i18n table):
    too long, control characters, HTML, a contact that is no e-mail address.
    The calendar's own checker runs after this, on what passes.

    >>> text_problems({"title": "<b>Festa</b>", "description": "x" * 5001, "email": "anna@example.org"})
    {'title': 'prop_html', 'description': 'prop_too_long'}
    >>> text_problems({"title": "Festa\\x1b[31m", "email": "anna"})
    {'title': 'prop_control', 'email': 'prop_bad_email'}
    >>> text_problems({"title": "Festa\\ncena", "location": "Via Roma\\n1", "email": "a@example.org"})
    {'title': 'prop_control', 'location': 'prop_control'}
    >>> text_problems({"title": "Festa & cena: 3 > 2", "description": "riga 1\\nriga 2", "email": "a.b@example.org"})
    {}
    """
    found: dict[str, str] = {}
    for name, limit in SIZES.items():
        value = typed.get(name)
        text = ", ".join(value) if isinstance(value, list) else str(value or "")
        if len(text) > limit:
            found[name] = "prop_too_long"
        elif _CONTROL.search(text) or (name not in MULTILINE and "\n" in text):
            # A line break is a control character in a one-line field (a
            # forged POST sends one; the calendar's checker refuses it later).
            found[name] = "prop_control"
        elif _HTML.search(text):
            found[name] = "prop_html"
    email = str(typed.get("email") or "").strip()
    if "email" not in found and _EMAIL.fullmatch(email) is None:
        found["email"] = "prop_bad_email"
    return found


def masked(email: str) -> str:
    """The contact as the history shows it: enough for an editor to
    recognise, not enough to harvest from a public git repository.

    >>> masked("anna.rossi@example.org"), masked("x")
    ('a…@example.org', '…')
    """
    local, at, domain = email.partition("@")
    return f"{local[:1]}…@{domain}" if at else "…"


def address_hash(address: str, key: bytes) -> str:
    """A keyed hash of the sender's address (IPv6: its /64): the same
    sender gives the same hash, and the hash does not give the address back
    (a plain hash of an IPv4 address is undone by trying all 2³² of them)."""
    return hashlib.blake2b(address_key(address).encode(), key=key[:64], digest_size=16).hexdigest()


class ProposalBox:
    """The proposals folder: write one, list the pending ones, decide one."""

    def __init__(self, folder: str | Path, max_pending: int = MAX_PENDING, clock: Callable[[], float] = time.time):
        self.folder = Path(folder)
        self.max_pending = max_pending
        self.clock = clock

    # Writing

    def store(self, typed: Mapping[str, Any], email: str, address: str) -> str:
        """Write one proposal atomically and return its id. Raises
        ``QueueFull`` when ``max_pending`` wait already, ``ProposalsClosed``
        when the folder cannot be written."""
        try:
            with self._locked():
                if self.count() >= self.max_pending:
                    raise QueueFull(f"{self.max_pending} proposals are waiting")
                pid = secrets.token_hex(12)
                received = datetime.fromtimestamp(self.clock(), timezone.utc).isoformat(timespec="seconds")
                record = {"id": pid, "received": received, "fields": dict(typed), "email": email, "address": address}
                _write_json(self.folder / f"{pid}.json", record)
                return pid
        except OSError as error:
            raise ProposalsClosed(f"{self.folder}: {error.strerror or error}") from None

    def writable(self) -> bool:
        """Whether proposals can be stored now (not so on a read-only disk)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        return os.access(self.folder, os.W_OK)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time across processes, so the cap holds."""
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore = self.folder / ".gitignore"
        if not ignore.exists():
            # Contacts must never reach a calendar's (maybe public) git repository.
            _write_text(ignore, "# calfeed: proposals hold contacts; keep them out of git\n*\n")
        handle = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)

    # Reading

    def _files(self) -> list[Path]:
        try:
            return [Path(entry.path) for entry in os.scandir(self.folder)
                    if entry.is_file() and entry.name.endswith(".json") and is_proposal_id(entry.name[:-5])]
        except OSError:
            return []

    def count(self) -> int:
        """How many proposals wait for an editor."""
        return len(self._files())

    def pending(self) -> list[Proposal]:
        """The waiting proposals, oldest first."""
        found = [proposal for proposal in map(_read, self._files()) if proposal is not None]
        return sorted(found, key=lambda p: (p.received, p.pid))

    def get(self, pid: str) -> Proposal | None:
        """The pending proposal ``pid``, or None."""
        return _read(self.folder / f"{pid}.json") if is_proposal_id(pid) else None

    def decided(self, limit: int) -> list[dict[str, Any]]:
        """The latest ``limit`` decisions, newest first: each proposal's
        record with its ``decision`` (approved or rejected, the editor, the
        time, and the event written or the reason)."""
        records = []
        for kind in ("approved", "rejected"):
            for path in (self.folder / kind).glob("*.json") if (self.folder / kind).is_dir() else ():
                try:
                    record = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                if isinstance(record, dict) and isinstance(record.get("decision"), dict):
                    records.append(record)
        records.sort(key=lambda r: (str(r["decision"].get("time", "")), str(r.get("id", ""))), reverse=True)
        return records[:limit]

    # Deciding

    def decide(self, pid: str, decision: str, editor: str, act: Callable[[Proposal], Mapping[str, Any]]) -> bool:
        """Decide a pending proposal: ``act(proposal)`` (writing the event,
        say) under the folder's lock, then the proposal moves to
        ``approved/`` or ``rejected/`` with the decision, the editor and what
        ``act`` returned. False when it was no longer pending (another editor
        decided it first); if ``act`` raises, the proposal stays pending."""
        if decision not in ("approved", "rejected") or not is_proposal_id(pid):
            raise ValueError(decision)
        source = self.folder / f"{pid}.json"
        with self._locked():
            proposal = _read(source)
            if proposal is None:
                return False
            details = dict(act(proposal))
            record = json.loads(source.read_text(encoding="utf-8"))
            record["decision"] = {"decision": decision, "editor": editor,
                                  "time": datetime.fromtimestamp(self.clock(), timezone.utc).isoformat(timespec="seconds"),
                                  **details}
            (self.folder / decision).mkdir(exist_ok=True)
            _write_json(self.folder / decision / f"{pid}.json", record)
            source.unlink()
            return True


class ProposalLimits:
    """Posts and stored proposals per address in the last hour, shared by
    every worker through a SQLite database in the proposals folder (the
    login throttle's approach, ``calfeed.accounts.LoginThrottle``)."""

    def __init__(self, folder: str | Path, per_hour: int = PER_HOUR, tries_per_hour: int = TRIES_PER_HOUR,
                 clock: Callable[[], float] = time.time):
        self.database = Path(folder) / ".limits.sqlite"
        self.limits = {"stored": per_hour, "tried": tries_per_hour}
        self.clock = clock

    def allow(self, address: str, kind: str) -> bool:
        """Count one ``kind`` ("tried" or "stored") for the address; False,
        and nothing counted, when the address reached its limit in the hour."""
        now = self.clock()
        key = f"{kind}:{address_key(address)}"
        with self._transaction() as db:
            db.execute("DELETE FROM hits WHERE at <= ?", (now - WINDOW,))
            (count,) = db.execute("SELECT count(*) FROM hits WHERE key = ?", (key,)).fetchone()
            if count >= self.limits[kind]:
                return False
            db.execute("INSERT INTO hits (key, at) VALUES (?, ?)", (key, now))
            return True

    def full(self, address: str, kind: str) -> bool:
        """Whether the address reached its limit of ``kind``, counting nothing."""
        now = self.clock()
        with self._transaction() as db:
            (count,) = db.execute("SELECT count(*) FROM hits WHERE key = ? AND at > ?",
                                  (f"{kind}:{address_key(address)}", now - WINDOW)).fetchone()
        return count >= self.limits[kind]

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return counters.transaction(self.database, (
            "CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, at REAL NOT NULL)",
            "CREATE INDEX IF NOT EXISTS hits_key ON hits (key)",
        ))


def _read(path: Path) -> Proposal | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return Proposal(str(record["id"]), str(record["received"]), dict(record["fields"]), str(record.get("email", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_json(path: Path, record: Mapping[str, Any]) -> None:
    _write_text(path, json.dumps(record, ensure_ascii=False, indent=1) + "\n")


def _write_text(path: Path, text: str) -> None:
    """Write through a temporary file and a rename: a reader sees the whole
    file or none (the temporary's name is no proposal's)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
