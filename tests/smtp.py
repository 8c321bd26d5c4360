"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd): it keeps
every message it accepts, may answer the first attempts with given codes,
and may hold each message until the test lets it go."""

from __future__ import annotations

import asyncio
import email
import queue
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from servers import free_port

WAIT = 30.0  # seconds a test waits at most for a mail


class Inbox:
    """The server's handler: ``answers`` are given to the first DATA
    commands (e.g. "451 busy"), then each message is kept."""

    def __init__(self, answers: list[str] = (), hold: bool = False):
        self.answers = list(answers)
        self.attempts: queue.Queue = queue.Queue()
        self.messages: queue.Queue = queue.Queue()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.port = self.controller.port
        self.url = f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.attempts.put(1)
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, WAIT)
        if self.answers:
            return self.answers.pop(0)
        parsed = email.message_from_bytes(envelope.original_content, policy=default)
        self.messages.put((envelope.mail_from, sorted(envelope.rcpt_tos), parsed))
        return "250 OK"

    def next(self) -> tuple[str, list[str], EmailMessage]:
        """The next message kept: (envelope sender, recipients, message)."""
        return self.messages.get(timeout=WAIT)

    def close(self) -> None:
        self.release.set()
        if self.controller._thread is not None:  # noqa: SLF001  (stopping twice fails)
            self.controller.stop()


@pytest.fixture
def inbox() -> Iterator:
    """A maker of SMTP servers on 127.0.0.1, each closed after the test."""
    made: list[Inbox] = []

    def make(answers: list[str] = (), hold: bool = False) -> Inbox:
        made.append(Inbox(list(answers), hold))
        return made[-1]

    yield make
    for server in made:
        server.close()
