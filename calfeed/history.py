"""A git commit for each save of events.toml made in the browser.

When the file lies in a git work tree, every save becomes one commit of that
file only, authored by the editor, so ``git log -p events.toml`` says who
changed what and any save can be reverted. git is run as a program (no
shell) with a time limit; a commit that fails is logged and the save stands.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from pathlib import Path

log = logging.getLogger("calfeed")

GIT_TIMEOUT = 20.0
EMAIL_DOMAIN = "calfeed.invalid"

_MESSAGES = {
    "it": {"added": "Aggiunto", "changed": "Modificato", "deleted": "Eliminato"},
    "en": {"added": "Added", "changed": "Changed", "deleted": "Deleted"},
}
_IDENTITY = re.compile(r"^[^<>\n]+ <[^<>\s]+>$")
_UNSAFE = re.compile(r"[^\w.+-]+")


def message(action: str, title: str, language: str) -> str:
    """The commit message of a save, in the calendar's language.

    >>> message("changed", "Festa di quartiere", "it"), message("added", "Fair", "en")
    ('Modificato: Festa di quartiere', 'Added: Fair')
    """
    words = _MESSAGES.get(language, _MESSAGES["en"])
    return f"{words[action]}: {' '.join(str(title).split())}"


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
