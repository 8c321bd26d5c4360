"""The history of events.toml's saves: git commits, or a change log.

When the file lies in a git work tree, every save becomes one commit of that
file only, authored by the editor, so ``git log -p events.toml`` says who
changed what and any save can be reverted. git is run as a program (no
shell) with a time limit; a commit that fails is logged and the save stands.
Outside git, each save appends one JSON line to ``.<name>.history.jsonl``
beside the file. Either way a save is a ``Patch``: the lines it replaced,
with their context, so that undoing it is applying the patch backwards.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("calfeed")

GIT_TIMEOUT = 20.0
EMAIL_DOMAIN = "calfeed.invalid"

_MESSAGES = {
    "it": {"added": "Aggiunto", "changed": "Modificato", "deleted": "Eliminato", "undone": "Annullato",
           "added-place": "Aggiunto luogo", "changed-place": "Modificato luogo", "deleted-place": "Eliminato luogo",
           "changed-settings": "Modificate le impostazioni del calendario",
           "cancelled-date": "Annullata una data", "moved-date": "Spostata una data", "restored-date": "Ripristinata una data"},
    "en": {"added": "Added", "changed": "Changed", "deleted": "Deleted", "undone": "Undone",
           "added-place": "Added place", "changed-place": "Changed place", "deleted-place": "Deleted place",
           "changed-settings": "Changed the calendar settings",
           "cancelled-date": "Cancelled one date", "moved-date": "Moved one date", "restored-date": "Restored one date"},
}
ACTIONS = frozenset(_MESSAGES["en"])
_IDENTITY = re.compile(r"^[^<>\n]+ <[^<>\s]+>$")
_UNSAFE = re.compile(r"[^\w.+-]+")


def message(action: str, title: str, language: str) -> str:
    """The commit message of a save, in the calendar's language.

    >>> message("changed", "Festa di quartiere", "it"), message("added", "Fair", "en")
    ('Modificato: Festa di quartiere', 'Added: Fair')
    >>> message("changed-place", "Cascina", "it"), message("changed-settings", "", "en")
    ('Modificato luogo: Cascina', 'Changed the calendar settings')
    """
    words = _MESSAGES.get(language, _MESSAGES["en"])
    title = " ".join(str(title).split())
    return f"{words[action]}: {title}" if title else words[action]


def identity(author: str) -> str:
    """``NAME <NAME@calfeed.invalid>`` for an editor's name; a full
    ``Name <email>`` is used as it is.

    >>> identity("anna"), identity("Anna Rossi <anna@example.org>")
    ('anna <anna@calfeed.invalid>', 'Anna Rossi <anna@example.org>')
    """
    if _IDENTITY.match(author):
        return author
    name = _UNSAFE.sub("-", author).strip("-") or "editor"
    return f"{name} <{name}@{EMAIL_DOMAIN}>"


def _git(folder: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(folder), *arguments],
        capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False,
        stdin=subprocess.DEVNULL,
    )


def commit(path: str | Path, subject: str, author: str) -> bool:
    """Commit the file at ``path`` (through a symlink: the file it points
    to) if it is in a git work tree. True when a commit was made."""
    target = Path(os.path.realpath(path))
    folder = target.parent
    try:
        inside = _git(folder, "rev-parse", "--is-inside-work-tree")
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return False
        who = identity(author)
        name, email = who[: who.index(" <")], who[who.index(" <") + 2: -1]
        steps = (
            ("add", "--", target.name),
            # -c gives a committer where the server has none configured;
            # --author wins over GIT_AUTHOR_* in the environment.
            ("-c", f"user.name={name}", "-c", f"user.email={email}",
             "commit", "--quiet", f"--author={who}", "-m", subject, "--", target.name),
        )
        for step in steps:
            done = _git(folder, *step)
            if done.returncode != 0:
                log.error("calfeed: saved %s, but git %s failed: %s", target, step[0] if step[0] != "-c" else "commit",
                          (done.stderr or done.stdout).strip())
                return False
        return True
    except (OSError, subprocess.TimeoutExpired) as error:
        log.error("calfeed: saved %s, but could not commit it: %s", target, error)
        return False


def in_work_tree(path: str | Path) -> bool:
    """Whether the file (through a symlink: its target) lies in a git work tree."""
    try:
        inside = _git(Path(os.path.realpath(path)).parent, "rev-parse", "--is-inside-work-tree")
    except (OSError, subprocess.TimeoutExpired):
        return False
    return inside.returncode == 0 and inside.stdout.strip() == "true"


# --------------------------------------------------------------------------- patches

CONTEXT_LINES = 3


@dataclass(frozen=True)
class Patch:
    """One save as a change of whole lines: ``old`` became ``new`` between
    the context lines ``above`` and ``below`` (as ``diff -U3`` has it)."""

    old: str
    new: str
    above: str
    below: str

    def undo(self, text: str) -> str | None:
        r"""``text`` with this change taken back, or None when the lines the
        change wrote, with their context, are no longer found exactly once.

        >>> patch = Patch.between("a\nb\nc\n", "a\nB\nc\n")
        >>> patch.old, patch.new, patch.undo("a\nB\nc\n"), patch.undo("z\na\nB\nc\n"), patch.undo("a\nb\nc\n")
        ('b\n', 'B\n', 'a\nb\nc\n', 'z\na\nb\nc\n', None)
        """
        # Full context first; then one side of it, which the change of a
        # neighbouring event may have touched.
        for before, after in ((self.above, self.below), (self.above, ""), ("", self.below)):
            whole = before + self.new + after
            if not whole:
                continue
            at = text.find(whole)
            if at < 0 or text.find(whole, at + 1) >= 0:
                continue
            start = at + len(before)
            return text[:start] + self.old + text[start + len(self.new):]
        return None

    @classmethod
    def between(cls, old: str, new: str) -> Patch:
        """The lines that differ between two texts, with their context."""
        prefix = 0
        limit = min(len(old), len(new))
        while prefix < limit and old[prefix] == new[prefix]:
            prefix += 1
        suffix = 0
        while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
            suffix += 1
        prefix = old.rfind("\n", 0, prefix) + 1  # back to a line's start
        tail = len(old) - suffix
        if 0 < tail < len(old) and old[tail - 1] != "\n":  # on to the next line's start
            ahead = old.find("\n", tail)
            suffix = 0 if ahead < 0 else len(old) - ahead - 1
        above_start = prefix
        for _ in range(CONTEXT_LINES):
            if above_start == 0:
                break
            above_start = old.rfind("\n", 0, above_start - 1) + 1
        below_text = old[len(old) - suffix:] if suffix else ""
        below = "".join(below_text.splitlines(keepends=True)[:CONTEXT_LINES])
        return cls(old[prefix:len(old) - suffix], new[prefix:len(new) - suffix], old[above_start:prefix], below)


# --------------------------------------------------------------------------- the change log outside git


def log_path(path: str | Path) -> Path:
    """``.<name>.history.jsonl`` beside the file (beside its target, for a symlink)."""
    target = Path(os.path.realpath(path))
    return target.parent / f".{target.name}.history.jsonl"


def append(path: str | Path, entry: dict[str, Any]) -> None:
    """Add one save to the change log; called under the writer's lock."""
    line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
    handle = os.open(log_path(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.write(handle, line.encode("utf-8"))
        os.fsync(handle)
    finally:
        os.close(handle)


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """Every entry of the change log, oldest first (a line that is not JSON,
    as a save killed half-way may leave, is skipped)."""
    try:
        lines = log_path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for number, line in enumerate(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("patch"), dict):
            entries.append({**entry, "number": number})
    return entries


def patch_of(entry: dict[str, Any]) -> Patch:
    return Patch(**{key: str(entry["patch"].get(key, "")) for key in ("old", "new", "above", "below")})


def log_entry(action: str, event_id: str, title: str, author: str, time: str,
              before: str | None, after: str | None, patch: Patch) -> dict[str, Any]:
    """One line of the change log: the event's table as text before and after."""
    return {"action": action, "id": event_id, "title": title, "author": author, "time": time,
            "before": before, "after": after, "patch": asdict(patch)}


# --------------------------------------------------------------------------- git's history


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    date: str
    subject: str


def commits(path: str | Path, limit: int) -> list[Commit]:
    """The latest commits that changed the file, newest first."""
    target = Path(os.path.realpath(path))
    done = _git(target.parent, "log", f"-n{limit}", "--no-merges", "--format=%H%x1f%an%x1f%aI%x1f%s", "--", target.name)
    if done.returncode != 0:
        return []
    found = []
    for line in done.stdout.splitlines():
        parts = line.split("\x1f")
        if len(parts) == 4:
            found.append(Commit(*parts))
    return found


def diff(path: str | Path, sha: str) -> str:
    """The commit's change to the file, as ``git show`` prints it."""
    target = Path(os.path.realpath(path))
    done = _git(target.parent, "show", "--format=", "--no-color", "--no-ext-diff", sha, "--", target.name)
    return done.stdout if done.returncode == 0 else ""


def versions(path: str | Path, sha: str) -> tuple[str, str] | None:
    """The file's text before and after a commit that changed it (None when
    there is no such commit, or the commit created the file)."""
    if not re.fullmatch(r"[0-9a-f]{7,64}", sha):
        return None
    target = Path(os.path.realpath(path))
    found = []
    for revision in (f"{sha}^", sha):
        # Bytes, not text: a file with CRLF line ends must come back as it was.
        done = subprocess.run(
            ["git", "-C", str(target.parent), "show", f"{revision}:./{target.name}"],
            capture_output=True, timeout=GIT_TIMEOUT, check=False, stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            return None
        found.append(done.stdout.decode("utf-8", errors="replace").removeprefix("\ufeff"))
    return found[0], found[1]
