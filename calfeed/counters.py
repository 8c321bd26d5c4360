"""Counts that every worker and process shares: a small SQLite database,
one short transaction per question (the login limits and the proposals'
limits keep theirs this way; neither needs a server)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path


@contextmanager
def transaction(database: Path, schema: tuple[str, ...]) -> Iterator[sqlite3.Connection]:
    """One write transaction on ``database``, made 0600 before SQLite opens
    it (it names accounts and addresses) with the tables of ``schema``;
    other processes wait for it up to ten seconds."""
    database.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(database, os.O_RDWR | os.O_CREAT, 0o600))
    with closing(sqlite3.connect(database, timeout=10.0, isolation_level=None)) as db:
        db.execute("BEGIN IMMEDIATE")  # one writer at a time
        try:
            for statement in schema:
                db.execute(statement)
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
