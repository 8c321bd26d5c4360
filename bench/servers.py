"""Servers the benchmark runs on 127.0.0.1: gunicorn (calfeed or the floor
app) and nginx, plus one-request HTTP and /proc helpers.

Every wait is bounded in time and count; every server is stopped by the
caller (``with`` blocks), its whole process group if need be.
"""

from __future__ import annotations

import http.client
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0
ID_HEADER = "X-Bench-Id"
_ids = itertools.count(1)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    request_id: str
    received: float  # time.monotonic() when the whole body had arrived


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> Reply:
    """One GET over a fresh connection (so any worker may answer)."""
    request_id = f"b{next(_ids)}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers={ID_HEADER: request_id, **(headers or {})})
        response = connection.getresponse()
        body = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body, request_id, time.monotonic())
    finally:
        connection.close()


def wait_until_answering(port: int, path: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if fetch(port, path).status < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not answer {path} within {START_TIMEOUT} s")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL of the process group (the server and its workers)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=15)


def _gunicorn_extra_options() -> list[str]:
    """gunicorn 24+ opens a control socket in ~/.gunicorn shared by every server of the user."""
    from gunicorn.config import KNOWN_SETTINGS

    return ["--no-control-socket"] if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []


class Server:
    """A server process on 127.0.0.1 (``port``, ``process``, ``log``), in a
    ``with`` block: answering ``probe`` when it starts, stopped at its end."""

    port: int
    process: subprocess.Popen
    log: Path
    probe = "/calendar.ics"

    def __enter__(self) -> Self:
        try:
            wait_until_answering(self.port, self.probe, self.process, self.log)
        except BaseException:
            stop(self.process)
            raise
        return self

    def __exit__(self, *exc) -> None:
        stop(self.process)

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return fetch(self.port, path, headers)


class Gunicorn(Server):
    """``gunicorn -w 2 APP`` from the project root. With ``access_log`` the
    worker that answered each request can be told (by its pid)."""

    def __init__(self, app: str, env: dict[str, str], logs: Path, name: str, workers: int = 2, access_log: bool = False):
        self.port = free_port()
        self.name = name
        self.log = logs / f"{name}-{self.port}.log"
        self.access_log = logs / f"{name}-{self.port}-access.log" if access_log else None
        self._pids: dict[str, int] = {}
        self._offset = 0
        options = ["--workers", str(workers), "--bind", f"127.0.0.1:{self.port}", *_gunicorn_extra_options()]
        if os.path.isdir("/dev/shm"):
            # gunicorn's advice on VMs and containers: the workers' heartbeat
            # file (touched on every request) in memory, not on the disk.
            options += ["--worker-tmp-dir", "/dev/shm"]
        if self.access_log:
            options += ["--access-logfile", str(self.access_log), "--access-logformat", f"%({{{ID_HEADER.lower()}}}i)s %(p)s"]
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", *options, app],
                cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )

    def pid_of(self, reply: Reply) -> int:
        """The worker that answered ``reply`` (from the access log; bounded wait)."""
        assert self.access_log is not None
        deadline = time.monotonic() + 5
        while reply.request_id not in self._pids:
            with open(self.access_log, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self._offset += len(complete)
            for line in complete.decode().splitlines():
                request_id, _, pid = line.partition(" ")
                pid = pid.strip().strip("<>")  # gunicorn 27 writes %(p)s as <pid>
                if pid.isdigit():
                    self._pids[request_id] = int(pid)
            if reply.request_id in self._pids:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"request {reply.request_id} is not in {self.access_log}")
            time.sleep(0.01)
        return self._pids.pop(reply.request_id)

    def every_worker_serves(self, path: str, wanted, timeout: float = 30.0, max_requests: int = 3000) -> None:
        """Request over fresh connections until every worker has answered
        with a reply for which ``wanted(reply)`` holds (bounded)."""
        workers = set(self.workers())
        done: set[int] = set()
        deadline = time.monotonic() + timeout
        for _ in range(max_requests):
            reply = self.get(path)
            if reply.status == 200 and wanted(reply):
                done.add(self.pid_of(reply))
            if done >= workers:
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        raise RuntimeError(f"{self.name}: workers {sorted(workers - done)} did not serve the expected {path}")


class Nginx(Server):
    """Debian's nginx with a configuration of our own, in the foreground."""

    def __init__(self, binary: str, config: str, workdir: Path, port: int, probe: str = "/"):
        self.workdir, self.port, self.probe = workdir, port, probe
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "nginx.conf"
        self.config.write_text(config)
        self.log = workdir / "error.log"
        self.process = subprocess.Popen(
            [binary, "-p", str(workdir), "-e", str(self.log), "-c", str(self.config), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )



def main_config(server_blocks: str, workdir: Path, workers: int = 2) -> str:
    """A whole nginx.conf around ``server_blocks``: pid, logs and temporary
    folders in ``workdir`` so that nothing of the system's nginx is touched."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read files the runner wrote
    temp = "\n".join(
        f"    {kind}_temp_path {workdir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes {workers};
pid {workdir / 'nginx.pid'};
error_log {workdir / 'error.log'} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
{temp}
{server_blocks}
}}
"""


def children(pid: int) -> list[int]:
    """The direct children of ``pid``, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def pss_kib(pid: int) -> int:
    """Proportional set size of one process, from /proc/PID/smaps_rollup."""
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise RuntimeError(f"no Pss in /proc/{pid}/smaps_rollup")
