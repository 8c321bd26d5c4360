"""Editors' accounts: the editors file holds Argon2id hashes only, mode 0600;
logins are checked the same way for wrong names and wrong passwords; failed
logins are counted across processes and locks lift by themselves."""

from __future__ import annotations

import os
import pty
import select
import stat
import subprocess
import sys
import time
import tomllib
import unicodedata
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from click.testing import CliRunner

from calfeed import accounts
from calfeed.accounts import AccountError, Editors, LoginThrottle, editors_path, throttle_path
from calfeed.cli import cli

ROOT = Path(__file__).resolve().parent.parent
GOOD = "correct horse battery"
OTHER = "another long secret"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "editors.toml"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


# The editors file


def test_the_file_holds_argon2id_hashes_only_with_mode_0600(path):
    editors = Editors.load(path)
    editors.add("mario", GOOD)
    editors.add("anna.b", OTHER)
    raw = path.read_bytes()
    assert GOOD.encode() not in raw and OTHER.encode() not in raw
    tables = tomllib.loads(raw.decode())["editors"]
    assert sorted(tables) == ["anna.b", "mario"]
    for name, password in (("mario", GOOD), ("anna.b", OTHER)):
        encoded = tables[name]["hash"]
        assert extract_parameters(encoded).type is Type.ID
        assert PasswordHasher().verify(encoded, password)  # argon2's own check, not calfeed's
    assert mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_mode_is_0600_again_after_passwd_and_whatever_the_umask(path):
    old = os.umask(0)
    try:
        Editors.load(path).add("mario", GOOD)
        assert mode(path) == 0o600
        path.chmod(0o644)
        Editors.load(path).set_password("mario", OTHER)
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert OTHER.encode() not in path.read_bytes()


def test_verify_accepts_only_the_right_password_of_a_known_editor(path):
    editors = Editors.load(path)
    editors.add("mario", GOOD)
    editors.add("anna", OTHER)
    again = Editors.load(path)
    assert again.verify("mario", GOOD)
    assert not again.verify("mario", GOOD + "x")
    assert not again.verify("mario", OTHER)  # anna's password
    assert not again.verify("luigi", GOOD)  # unknown name
    assert not again.verify("Mario", GOOD)
    assert not again.verify("mario", "x" * 5000)
    again.set_password("mario", "a brand new password")
    fresh = Editors.load(path)
    assert not fresh.verify("mario", GOOD) and fresh.verify("mario", "a brand new password")
    fresh.remove("mario")
    assert not Editors.load(path).verify("mario", "a brand new password")
    assert Editors.load(path).names() == ["anna"]


def test_a_wrong_name_takes_the_same_path_as_a_wrong_password(path, monkeypatch):
    Editors.load(path).add("mario", GOOD)
    editors = Editors.load(path)
    checked = []

    class Spy:
        def verify(self, encoded, password):
            checked.append(encoded)
            return accounts.PasswordHasher().verify(encoded, password)

    monkeypatch.setattr(accounts, "HASHER", Spy())
    assert not editors.verify("mario", "wrong password!")
    assert not editors.verify("nobody", "wrong password!")
    real, dummy = checked
    assert real != dummy
    # The same Argon2id cost for both: same memory, passes and lanes.
    assert extract_parameters(dummy) == extract_parameters(real)


@pytest.mark.parametrize(("password", "message"), [
    ("x" * 11, "at least 12"),
    ("", "at least 12"),
    ("twelve chars\n", "control character"),
    ("tab\tinside password", "control character"),
    ("x" * 1025, "at most 1024"),
])
def test_bad_passwords_are_refused_and_nothing_is_written(path, password, message):
    with pytest.raises(AccountError, match=message):
        Editors.load(path).add("mario", password)
    assert not path.exists()


def test_twelve_characters_are_enough_and_accents_match_however_typed(path):
    Editors.load(path).add("mario", "x" * 12)
    composed = "perché così è"
    Editors.load(path).add("anna", composed)
    editors = Editors.load(path)
    assert editors.verify("mario", "x" * 12)
    assert editors.verify("anna", unicodedata.normalize("NFD", composed))


@pytest.mark.parametrize("name", ["Mario", "-mario", ".x", "a" * 41, "mario rossi", "mario\n", "", "màrio", 'a"b'])
def test_names_outside_the_rule_are_refused(path, name):
    with pytest.raises(AccountError, match="lower-case letters"):
        Editors.load(path).add(name, GOOD)
    assert not path.exists()


def test_names_within_the_rule_are_kept_as_written(path):
    names = ["a", "mario.rossi_2-x", "9" + "z" * 39]
    for name in names:
        Editors.load(path).add(name, GOOD)
    assert Editors.load(path).names() == sorted(names)


def test_add_refuses_an_existing_name_and_remove_or_passwd_an_unknown_one(path):
    Editors.load(path).add("mario", GOOD)
    before = path.read_bytes()
    editors = Editors.load(path)
    with pytest.raises(AccountError, match='"mario" exists already.*passwd'):
        editors.add("mario", OTHER)
    with pytest.raises(AccountError, match='no editor "luigi".*mario'):
        editors.remove("luigi")
    with pytest.raises(AccountError, match='no editor "luigi"'):
        editors.set_password("luigi", OTHER)
    assert path.read_bytes() == before


def test_a_missing_file_means_no_editors(path):
    assert Editors.load(path).names() == []
    assert not path.exists()


@pytest.mark.parametrize(("text", "message"), [
    ("[editors.mario\n", "cannot read"),
    ('[editors.mario]\nhash = "correct horse battery"\n', "not an Argon2id hash"),
    ('[editors.mario]\nhash = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"\n', "not an Argon2id"),
    ('[editors.mario]\nhash = "$argon2i$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"\n',
     "not an Argon2id"),
    ('[editors.mario]\npassword = "correct horse battery"\n', "exactly one key"),
    ('[editors.Mario]\nhash = "x"\n', "name not allowed"),
    ('password = "x"\n', "unknown key 'password'"),
])
def test_a_bad_file_is_refused_with_its_path(path, text, message):
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AccountError, match=message) as error:
        Editors.load(path)
    assert str(path) in str(error.value)


def test_the_file_is_beside_events_toml_unless_configured(tmp_path):
    assert editors_path(tmp_path / "site" / "events.toml", None) == tmp_path / "site" / "editors.toml"
    assert editors_path(tmp_path / "events.toml", str(tmp_path / "etc" / "ed.toml")) == tmp_path / "etc" / "ed.toml"


ADD = """
import sys
from pathlib import Path
from calfeed.accounts import Editors
path, prefix = Path(sys.argv[1]), sys.argv[2]
for n in range(3):
    Editors.load(path).add(f"{prefix}{n}", "correct horse battery")
"""


def test_two_processes_adding_at_once_lose_no_editor(path):
    runs = [python(ADD, str(path), prefix) for prefix in ("a", "b")]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read()
    assert Editors.load(path).names() == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert mode(path) == 0o600


def python(code: str, *args: str) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=environment, stderr=subprocess.PIPE, text=True)


# Failed logins


def test_five_failures_lock_an_account_for_fifteen_minutes_then_it_unlocks(path):
    clock = Clock()
    throttle = LoginThrottle(path, clock=clock)
    for n in range(4):  # from different addresses: the account counts
        throttle.failed(f"192.0.2.{n}", "mario")
        clock.now += 60
    assert throttle.blocked("198.51.100.1", "mario") == 0.0
    throttle.failed("192.0.2.9", "mario")
    assert throttle.blocked("198.51.100.1", "mario") == 15 * 60
    assert throttle.blocked("198.51.100.1", "anna") == 0.0
    clock.now += 15 * 60 - 1
    assert throttle.blocked("198.51.100.1", "mario") == 1.0
    clock.now += 1
    assert throttle.blocked("198.51.100.1", "mario") == 0.0
    throttle.failed("192.0.2.9", "mario")  # a fresh count after the lock
    assert throttle.blocked("198.51.100.1", "mario") == 0.0


def test_twenty_failures_from_one_address_block_it_for_every_name(path):
    clock = Clock()
    throttle = LoginThrottle(path, clock=clock)
    for n in range(19):
        throttle.failed("203.0.113.5", f"name{n}")
    assert throttle.blocked("203.0.113.5", "mario") == 0.0
    throttle.failed("203.0.113.5", "name19")
    assert throttle.blocked("203.0.113.5", "mario") == 15 * 60
    assert throttle.blocked("203.0.113.6", "mario") == 0.0
    clock.now += 15 * 60
    assert throttle.blocked("203.0.113.5", "mario") == 0.0


def test_failures_older_than_fifteen_minutes_do_not_count(path):
    clock = Clock()
    throttle = LoginThrottle(path, clock=clock)
    for _ in range(4):
        throttle.failed("192.0.2.1", "mario")
    clock.now += 15 * 60
    throttle.failed("192.0.2.1", "mario")
    assert throttle.blocked("192.0.2.1", "mario") == 0.0


def test_a_success_forgets_the_accounts_failures_not_the_addresss(path):
    throttle = LoginThrottle(path, account_limit=3, address_limit=4, clock=Clock())
    throttle.failed("192.0.2.1", "mario")
    throttle.failed("192.0.2.1", "mario")
    throttle.succeeded("192.0.2.1", "mario")
    throttle.failed("192.0.2.1", "mario")
    throttle.failed("192.0.2.1", "mario")
    assert throttle.blocked("192.0.2.2", "mario") == 0.0  # 2 since the success, limit 3
    assert throttle.blocked("192.0.2.1", "anna") == 15 * 60  # 4 from the address, limit 4


def test_unknown_names_are_locked_like_known_ones(path):
    Editors.load(path).add("mario", GOOD)
    throttle = LoginThrottle(path, clock=Clock())
    for name in ("mario", "nobody"):
        for _ in range(5):
            throttle.failed("192.0.2.1" if name == "mario" else "192.0.2.2", name)
    assert throttle.blocked("198.51.100.1", "mario") == throttle.blocked("198.51.100.1", "nobody") == 15 * 60


def test_an_ipv6_address_counts_with_its_slash_64(path):
    throttle = LoginThrottle(path, address_limit=3, clock=Clock())
    for n in range(1, 4):
        throttle.failed(f"2001:db8:1:2::{n:x}", f"name{n}")
    assert throttle.blocked("2001:db8:1:2:ffff::1", "mario") == 15 * 60
    assert throttle.blocked("2001:db8:1:3::1", "mario") == 0.0


def test_a_clock_set_back_never_lengthens_a_lock(path):
    clock = Clock()
    throttle = LoginThrottle(path, account_limit=1, clock=clock)
    throttle.failed("192.0.2.1", "mario")
    clock.now -= 3600
    assert throttle.blocked("192.0.2.1", "mario") == 15 * 60


def test_the_database_is_beside_the_editors_file_with_mode_0600(path):
    old = os.umask(0)
    try:
        LoginThrottle(path).failed("192.0.2.1", "mario")
    finally:
        os.umask(old)
    database = throttle_path(path)
    assert database.parent == path.parent
    assert mode(database) == 0o600


FAIL = """
import sys
from pathlib import Path
from calfeed.accounts import LoginThrottle
path, address, name, count = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
throttle = LoginThrottle(path)
for n in range(count):
    throttle.failed(address, name if name != "-" else f"guess{address}{n}")
"""


def failures_in_processes(path: Path, *jobs: tuple[str, str, int]) -> None:
    runs = [python(FAIL, str(path), address, name, str(count)) for address, name, count in jobs]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read()


def test_an_account_locks_on_failures_made_by_two_processes(path):
    failures_in_processes(path, ("192.0.2.1", "mario", 3), ("192.0.2.2", "mario", 1))
    assert LoginThrottle(path).blocked("198.51.100.1", "mario") == 0.0  # 4 of 5
    failures_in_processes(path, ("192.0.2.3", "mario", 1))
    assert LoginThrottle(path).blocked("198.51.100.1", "mario") > 14 * 60


@pytest.mark.parametrize(("second", "locked"), [(9, False), (10, True)])
def test_two_processes_at_once_lose_no_failure(path, second, locked):
    failures_in_processes(path, ("203.0.113.7", "-", 10), ("203.0.113.7", "-", second))
    assert (LoginThrottle(path).blocked("203.0.113.7", "mario") > 0) is locked


# The command line


def run(args: list[str], path: Path, stdin: str | None = None):
    environment = {"CALFEED_EDITORS": str(path)}
    return CliRunner().invoke(cli, ["editors", *args], input=stdin, env=environment)


def test_cli_add_list_passwd_remove(path):
    result = run(["add", "mario", "--password-stdin"], path, GOOD + "\n")
    assert result.exit_code == 0, result.output
    assert "added mario" in result.output
    assert run(["add", "anna", "--password-stdin"], path, OTHER).exit_code == 0
    assert run(["list"], path).output.split() == ["anna", "mario"]
    assert Editors.load(path).verify("mario", GOOD)
    result = run(["passwd", "mario", "--password-stdin"], path, "a brand new password\n")
    assert result.exit_code == 0, result.output
    assert mode(path) == 0o600
    assert Editors.load(path).verify("mario", "a brand new password")
    assert run(["remove", "anna"], path).exit_code == 0
    assert Editors.load(path).names() == ["mario"]
    for password in (GOOD, OTHER, "a brand new password"):
        assert password.encode() not in path.read_bytes()


def test_cli_finds_the_file_beside_events_toml(tmp_path):
    events = tmp_path / "events.toml"
    result = CliRunner().invoke(cli, ["editors", "add", "mario", "--password-stdin", "--events", str(events)],
                                input=GOOD, env={"CALFEED_EDITORS": None})
    assert result.exit_code == 0, result.output
    assert Editors.load(tmp_path / "editors.toml").names() == ["mario"]


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["add", "mario", "--password-stdin"], "short\n", "at least 12"),
    (["add", "mario", "--password-stdin"], GOOD, "exists already"),
    (["add", "Mario", "--password-stdin"], GOOD, "lower-case letters"),
    (["remove", "luigi"], None, 'no editor "luigi"'),
    (["passwd", "luigi", "--password-stdin"], GOOD, 'no editor "luigi"'),
])
def test_cli_errors_say_what_is_wrong_and_exit_1(path, args, stdin, message):
    if "exists" in message:
        Editors.load(path).add("mario", OTHER)
    before = path.read_bytes() if path.exists() else None
    result = run(args, path, stdin)
    assert result.exit_code == 1
    assert message in result.output
    assert (path.read_bytes() if path.exists() else None) == before


def test_cli_asks_twice_and_refuses_two_different_passwords(path, monkeypatch):
    answers = iter([GOOD, GOOD + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    result = run(["add", "mario"], path)
    assert result.exit_code == 1
    assert "differ" in result.output
    assert not path.exists()


def test_cli_unlock_lifts_a_lock(path):
    throttle = LoginThrottle(path)
    for _ in range(5):
        throttle.failed("192.0.2.1", "mario")
    assert throttle.blocked("192.0.2.1", "mario") > 0
    assert run(["unlock", "mario"], path).exit_code == 0
    assert throttle.blocked("192.0.2.1", "mario") == 0.0


def terminal(args: list[str], path: Path, answers: list[str]) -> tuple[int, str]:
    """Run the calfeed command in a real pseudo-terminal, typing each answer
    after a prompt; the whole conversation is bounded in time."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(PYTHONPATH=str(ROOT), CALFEED_EDITORS=str(path))
        os.execv(sys.executable, [sys.executable, "-c", "from calfeed.cli import cli; cli()", *args])
    output, answered, deadline = b"", 0, time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if answers and output[answered:].endswith(b": "):  # a new prompt
                os.write(fd, answers.pop(0).encode() + b"\n")
                answered = len(output)
            ready, _, _ = select.select([fd], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_a_real_terminal_asks_twice_without_echo(path):
    code, output = terminal(["editors", "add", "mario"], path, [GOOD, GOOD])
    assert code == 0, output
    assert GOOD not in output  # typed without echo
    assert Editors.load(path).verify("mario", GOOD)
    code, output = terminal(["editors", "passwd", "mario"], path, [OTHER, OTHER + "?"])
    assert code == 1
    assert "differ" in output
    assert Editors.load(path).verify("mario", GOOD)
