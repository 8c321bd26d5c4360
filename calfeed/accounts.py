"""Editors' accounts: the editors file with their Argon2id password hashes,
and the count of failed logins that every worker shares.

The editors file (``editors.toml`` beside ``events.toml`` unless
``CALFEED_EDITORS`` names another) is TOML::

    [editors."mario"]
    hash = "$argon2id$v=19$m=65536,t=3,p=4$..."

It holds hashes only, never a password, and is written mode 0600 in one
atomic step. Failed logins are counted in a small SQLite database beside it
(``editors.toml.logins.sqlite``), so that every worker and process sees the
same count without a server.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import re
import secrets
import sqlite3
import time
import tomllib
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

from calfeed import counters, tomlfile

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # hashing is cheap per character, but a login form is no place for a book
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
NAME_RULE = "1 to 40 characters: lower-case letters a-z, digits, '.', '_' or '-', starting with a letter or digit"
FILE_MODE = 0o600

# Argon2id with argon2-cffi's defaults (RFC 9106's low-memory choice: 3 passes, 64 MiB, 4 lanes).
HASHER = PasswordHasher()

ACCOUNT_LIMIT = 5  # failures of one account ...
ADDRESS_LIMIT = 20  # ... or from one address ...
WINDOW = 15 * 60.0  # ... within these seconds ...
LOCKOUT = 15 * 60.0  # ... lock it for these seconds.


class AccountError(ValueError):
    """A wrong name, password or editors file; the message says what is allowed."""


def editors_path(events_path: str | Path, configured: str | None) -> Path:
    """The editors file: the configured one (``CALFEED_EDITORS``), else
    ``editors.toml`` beside events.toml.

    >>> editors_path("site/events.toml", None).as_posix(), editors_path("events.toml", "/etc/calfeed.toml").as_posix()
    ('site/editors.toml', '/etc/calfeed.toml')
    """
    if configured:
        return Path(configured)
    return Path(events_path).parent / "editors.toml"


def check_name(name: str) -> str:
    """The name, if it is a valid editor name.

    >>> check_name("mario.rossi")
    'mario.rossi'
    """
    if not NAME_PATTERN.fullmatch(name):
        raise AccountError(f"editor name {name!r} is not allowed: use {NAME_RULE}")
    return name


def check_password(password: str) -> str:
    """The password as hashed: Unicode NFC, so that "è" typed on any keyboard is
    the same password; refused when too short, too long or holding control characters."""
    password = unicodedata.normalize("NFC", password)
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password has {len(password)} characters: it needs at least {MIN_PASSWORD}")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password has {len(password)} characters: at most {MAX_PASSWORD} are allowed")
    if any(unicodedata.category(char) == "Cc" for char in password):
        raise AccountError("the password holds a control character (a tab, a line break, ...): use only printable characters")
    return password


@cache
def _dummy_hash() -> str:
    """A hash of a password nobody knows, made with the same parameters as real
    ones: an unknown name costs the same verification as a known one."""
    return HASHER.hash(secrets.token_urlsafe(32))


class Editors:
    """The editors of one editors file and their password hashes."""

    def __init__(self, path: Path, hashes: dict[str, str]) -> None:
        self.path = Path(path)
        self._hashes = dict(hashes)

    @classmethod
    def load(cls, path: Path) -> Editors:
        """The editors in ``path``: none when the file does not exist."""
        return cls(path, _read(Path(path)))

    def names(self) -> list[str]:
        return sorted(self._hashes)

    def verify(self, name: str, password: str) -> bool:
        """Whether ``password`` is ``name``'s. A wrong name takes the same path
        and time as a wrong password: it is checked against a dummy hash."""
        known = self._hashes.get(name)
        encoded = known or _dummy_hash()
        candidate = unicodedata.normalize("NFC", password)
        if len(candidate) > MAX_PASSWORD:
            candidate, known = "", None  # still one verification, and never a match
        try:
            HASHER.verify(encoded, candidate)
        except (VerificationError, InvalidHashError):
            return False
        return known is not None

    def add(self, name: str, password: str) -> None:
        """Add an editor; refuses a name that exists already."""
        self.require_new(name)
        encoded = HASHER.hash(check_password(password))
        with self._changing() as hashes:
            _new(hashes, name)
            hashes[name] = encoded

    def remove(self, name: str) -> None:
        """Remove an editor; refuses an unknown name."""
        with self._changing() as hashes:
            _known(hashes, name)
            del hashes[name]

    def set_password(self, name: str, password: str) -> None:
        """Replace an editor's password (hashed with today's parameters)."""
        encoded = HASHER.hash(check_password(password))
        with self._changing() as hashes:
            _known(hashes, name)
            hashes[name] = encoded

    def require_new(self, name: str) -> None:
        """Refuse a name that is not allowed or exists already (before asking for a password)."""
        _new(self._hashes, name)

    def require(self, name: str) -> None:
        """Refuse an unknown name."""
        _known(self._hashes, name)

    @contextmanager
    def _changing(self) -> Iterator[dict[str, str]]:
        """The file's current editors, to change and write back: under a lock,
        re-read first, so two commands at once lose neither change."""
        target = Path(os.path.realpath(self.path))
        try:
            lock = os.open(target.with_name(f".{target.name}.lock"), os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as error:
            raise AccountError(f"{self.path}: cannot write the editors file: {error.strerror}") from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            hashes = _read(target)
            yield hashes
            _write(target, hashes)
            self._hashes = hashes
        finally:
            os.close(lock)  # closing releases the lock


def _new(hashes: dict[str, str], name: str) -> None:
    check_name(name)
    if name in hashes:
        raise AccountError(f'editor "{name}" exists already: use `calfeed editors passwd {name}` to change the password')


def _known(hashes: dict[str, str], name: str) -> None:
    if name not in hashes:
        known = ", ".join(sorted(hashes)) or "none"
        raise AccountError(f'no editor "{name}" (editors: {known})')


def _read(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AccountError(f"{path}: cannot read the editors file: {error}") from None
    unknown = set(data) - {"editors"}
    if unknown:
        raise AccountError(f"{path}: unknown key {sorted(unknown)[0]!r}; the file holds only [editors.NAME] tables")
    editors = data.get("editors", {})
    if not isinstance(editors, dict):
        raise AccountError(f"{path}: 'editors' must be tables [editors.NAME]")
    hashes = {}
    for name, table in editors.items():
        where = f"{path}: editor {name!r}"
        if not NAME_PATTERN.fullmatch(name):
            raise AccountError(f"{where}: name not allowed: use {NAME_RULE}")
        if not isinstance(table, dict) or set(table) != {"hash"} or not isinstance(table["hash"], str):
            raise AccountError(f'{where}: needs exactly one key, hash = "$argon2id$..."')
        try:
            kind = extract_parameters(table["hash"]).type
        except InvalidHashError:
            kind = None
        if kind is not Type.ID:
            raise AccountError(f"{where}: the hash is not an Argon2id hash; set the password with `calfeed editors passwd {name}`")
        hashes[name] = table["hash"]
    return hashes


def _write(target: Path, hashes: dict[str, str]) -> None:
    """Replace the editors file in one step, mode 0600 from its first byte."""
    lines = ["# calfeed editors: Argon2id password hashes, written by `calfeed editors`.", ""]
    for name in sorted(hashes):
        lines += [f"[editors.{json.dumps(name)}]", f"hash = {json.dumps(hashes[name])}", ""]
    tomlfile.write_atomically(target, "\n".join(lines), mode=FILE_MODE)


def throttle_path(editors: Path) -> Path:
    """The database of failed logins beside the editors file.

    >>> throttle_path(Path("site/editors.toml")).as_posix()
    'site/editors.toml.logins.sqlite'
    """
    return Path(editors).with_name(Path(editors).name + ".logins.sqlite")


def address_key(address: str) -> str:
    """What one address counts as: an IPv4 address, or the /64 network of an
    IPv6 one (a single machine is usually given a whole /64).

    >>> address_key("2001:db8::1"), address_key("::ffff:192.0.2.7"), address_key("192.0.2.7")
    ('2001:db8::/64', '192.0.2.7', '192.0.2.7')
    """
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class LoginThrottle:
    """Failed logins counted per address and per account across workers and
    processes, in a SQLite database (``throttle_path(editors)``, mode 0600) that
    each call opens for one short transaction.

    ``account_limit`` failures of one account name (known or not, so the answer
    does not tell which names exist), or ``address_limit`` failures from one
    address, within ``window`` seconds block it for ``lockout`` seconds; then it
    unlocks by itself with a fresh count.
    """

    def __init__(
        self,
        path: Path,
        *,
        account_limit: int = ACCOUNT_LIMIT,
        address_limit: int = ADDRESS_LIMIT,
        window: float = WINDOW,
        lockout: float = LOCKOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``path`` is the editors file; the database is made beside it."""
        self.database = throttle_path(path)
        self.limits = {"account": account_limit, "address": address_limit}
        self.window = window
        self.lockout = lockout
        self.clock = clock

    def blocked(self, address: str, name: str) -> float:
        """Seconds until this address may try this account again; 0.0 when it may."""
        now = self.clock()
        with self._transaction() as db:
            (until,) = db.execute(
                "SELECT max(until) FROM locks WHERE key IN (?, ?) AND until > ?", (*self._keys(address, name), now)
            ).fetchone()
        # A clock set back never makes a lock last longer than the lockout.
        return min(until - now, self.lockout) if until is not None else 0.0

    def failed(self, address: str, name: str) -> None:
        """Count a failed login; lock what reached its limit."""
        now = self.clock()
        with self._transaction() as db:
            db.execute("DELETE FROM failures WHERE at <= ?", (now - self.window,))
            db.execute("DELETE FROM locks WHERE until <= ?", (now,))
            for kind, key in zip(("address", "account"), self._keys(address, name)):
                db.execute("INSERT INTO failures (key, at) VALUES (?, ?)", (key, now))
                (count,) = db.execute("SELECT count(*) FROM failures WHERE key = ?", (key,)).fetchone()
                if count >= self.limits[kind]:
                    db.execute("INSERT OR REPLACE INTO locks (key, until) VALUES (?, ?)", (key, now + self.lockout))
                    db.execute("DELETE FROM failures WHERE key = ?", (key,))

    def succeeded(self, address: str, name: str) -> None:
        """Forget the account's failures. The address's stay until they expire:
        one good login must not open the door to guessing other accounts."""
        with self._transaction() as db:
            db.execute("DELETE FROM failures WHERE key = ?", (self._keys(address, name)[1],))

    def unlock(self, name: str) -> None:
        """Lift an account's lock and forget its failures (``calfeed editors unlock``)."""
        key = self._keys("", name)[1]
        with self._transaction() as db:
            db.execute("DELETE FROM failures WHERE key = ?", (key,))
            db.execute("DELETE FROM locks WHERE key = ?", (key,))

    @staticmethod
    def _keys(address: str, name: str) -> tuple[str, str]:
        return f"address:{address_key(address)}", f"account:{name.strip().casefold()[:100]}"

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return counters.transaction(self.database, (
            "CREATE TABLE IF NOT EXISTS failures (key TEXT NOT NULL, at REAL NOT NULL)",
            "CREATE INDEX IF NOT EXISTS failures_key ON failures (key)",
            "CREATE TABLE IF NOT EXISTS locks (key TEXT PRIMARY KEY, until REAL NOT NULL)",
        ))
