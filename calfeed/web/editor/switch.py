"""Whether editing in the browser is on, and why not: the contract turns it on
only when an editors file names at least one editor and a long enough secret
signs the sessions. No Flask here: ``calfeed serve`` says the same thing."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from calfeed.accounts import AccountError, Editors, editors_path

log = logging.getLogger("calfeed")

MIN_SECRET = 32


@dataclass(frozen=True)
class Switch:
    """Editing on or off, with the reason in words for the operator."""

    on: bool
    reason: str
    editors_file: Path


def secret_problem(secret: object) -> str | None:
    """What is wrong with CALFEED_SECRET_KEY, or None when it will do.

    >>> secret_problem(None), secret_problem("short"), secret_problem("x" * 32)
    ('CALFEED_SECRET_KEY is not set', 'CALFEED_SECRET_KEY has 5 characters; it needs at least 32', None)
    """
    if not secret:
        return "CALFEED_SECRET_KEY is not set"
    if not isinstance(secret, str) or len(secret) < MIN_SECRET:
        size = len(secret) if isinstance(secret, (str, bytes)) else 0
        return f"CALFEED_SECRET_KEY has {size} characters; it needs at least {MIN_SECRET}"
    return None


class EditorsFile:
    """The editors file, read again only when it changes on disk, so that
    ``calfeed editors add`` or ``remove`` takes effect on a running server."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = Lock()
        self._seen: tuple | None = None
        self._editors: Editors | None = None
        self._error: str | None = None

    def current(self) -> tuple[Editors | None, str | None]:
        """The editors as the file now says, or None and what is wrong."""
        try:
            stat = os.stat(self.path)
            signature: tuple | None = (stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_ctime_ns)
        except OSError:
            signature = None
        with self._lock:
            if signature != self._seen or self._editors is None and self._error is None:
                try:
                    self._editors, self._error = Editors.load(self.path), None
                except AccountError as error:
                    if str(error) != self._error:
                        log.error("calfeed: editing is off: %s", error)
                    self._editors, self._error = None, str(error)
                self._seen = signature
            return self._editors, self._error


def editing(editors: EditorsFile, secret: object) -> Switch:
    """On when the secret is long enough and the file names an editor;
    otherwise off, with every reason."""
    found, error = editors.current()
    problems = []
    if error is not None:
        problems.append(f"the editors file {editors.path} cannot be read: {error}")
    elif not found or not found.names():
        problems.append(f"no editors in {editors.path} (add one with `calfeed editors add NAME`)")
    secret = secret_problem(secret)
    if secret is not None:
        problems.append(secret)
    if problems:
        return Switch(False, "; ".join(problems), editors.path)
    count = len(found.names())
    return Switch(True, f"{count} editor{'s' if count != 1 else ''} in {editors.path}", editors.path)


def editors_file(events: str | Path, configured: str | None) -> EditorsFile:
    """The editors file of an events.toml (``CALFEED_EDITORS``, else beside it)."""
    return EditorsFile(editors_path(events, configured))
