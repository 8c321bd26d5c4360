"""Where an import's bytes come from: a local file or an http(s) URL, read
within one size and one time bound, then parsed as iCalendar.

A URL is fetched only from public addresses unless the editor allows private
ones: ``calfeed import`` may run on a server next to cloud metadata endpoints
and intranet services, and a feed's address (or its redirects) must not reach
them. The host is resolved once, its addresses checked, and the connection
goes to a checked address, so a second DNS answer cannot slip in between.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import re
import socket
import ssl
import stat
import threading
import time
from urllib.parse import urljoin, urlsplit

import icalendar

from calfeed.importing.report import ImportFailed

MAX_BYTES = 20 * 1024 * 1024
TIMEOUT_SECONDS = 20  # the whole download: DNS, connections, redirects and body
MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # DNS64 networks map public IPv4 here
_PRIVATE = "use --allow-private for a feed on your own network"


def fetch(source: str, allow_private: bool = False) -> bytes:
    """The bytes of a local .ics file or of an http(s) URL (bounded in size and time)."""
    if source.lower().startswith(("http://", "https://")):
        data = _download(source, allow_private)
    elif source.lower().startswith("webcal://"):
        https = f"https://{source[9:]}"
        raise ImportFailed(f"{source}: a subscription link; import its https:// address: {https}", "webcal", https=https)
    elif re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://", source):
        raise ImportFailed(f"{source}: only http and https addresses (or a file) can be imported", "bad-scheme")
    else:
        data = _read(source)
    if len(data) > MAX_BYTES:
        raise _too_large(source)
    return data


def _too_large(source: str) -> ImportFailed:
    megabytes = MAX_BYTES // (1024 * 1024)
    return ImportFailed(f"{source}: larger than {megabytes} MB; is it really a calendar?", "too-large", limit_mb=megabytes)


def _read(source: str) -> bytes:
    """A regular file's first MAX_BYTES + 1 bytes. Opened without blocking, so
    that a FIFO nobody writes to is refused rather than waited for."""
    try:
        handle = os.open(source, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise ImportFailed(f"{source}: cannot read it ({error.strerror})") from None
    try:
        mode = os.fstat(handle).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
            raise ImportFailed(f"{source}: is {kind}, not a file; save the calendar to a file and import that")
        os.set_blocking(handle, True)
        with os.fdopen(handle, "rb", closefd=False) as file:
            return file.read(MAX_BYTES + 1)
    except OSError as error:
        raise ImportFailed(f"{source}: cannot read it ({error.strerror})") from None
    finally:
        os.close(handle)


def private_kind(address: str) -> str | None:
    """What makes an IP address non-public ("loopback", "private", ...), or
    None for a public one. An IPv6 address carrying an IPv4 one (mapped,
    6to4, NAT64) is judged by that.

    >>> private_kind("127.0.0.1"), private_kind("::ffff:169.254.169.254"), private_kind("fd00::1")
    ('loopback', 'link-local', 'private')
    >>> private_kind("93.184.215.14"), private_kind("2606:4700::1111"), private_kind("64:ff9b::5db8:d70e")
    (None, None, None)
    """
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        ip = ip.ipv4_mapped or ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else ip)
    kinds = {
        "loopback": ip.is_loopback, "link-local": ip.is_link_local, "multicast": ip.is_multicast,
        "unspecified": ip.is_unspecified, "reserved": ip.is_reserved,
        "private": ip.is_private or not ip.is_global or getattr(ip, "is_site_local", False),
    }
    return next((kind for kind, found in kinds.items() if found), None)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


def _resolve(host: str, port: int, deadline: float) -> list[str]:
    """The host's addresses. getaddrinfo has no timeout of its own: it runs in
    a daemon thread, abandoned (still blocked, harmless) when the deadline passes."""
    answer: dict = {}

    def lookup() -> None:
        try:
            answer["addresses"] = [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
        except (OSError, UnicodeError) as error:
            answer["error"] = error

    worker = threading.Thread(target=lookup, name="calfeed-import-dns", daemon=True)
    worker.start()
    worker.join(_remaining(deadline))
    if worker.is_alive():
        raise TimeoutError(f"timed out looking up {host}")
    if "error" in answer:
        error = answer["error"]
        raise ImportFailed(f"cannot find {host} ({getattr(error, 'strerror', None) or error})", "unknown-host", host=host)
    return list(dict.fromkeys(answer["addresses"]))


class _Pinned(http.client.HTTPConnection):
    """An HTTP(S) connection to addresses already resolved and checked; the
    Host header, SNI and certificate still name the host. Each socket opened
    goes into ``opened``, for the watchdog of the deadline."""

    def __init__(self, host: str, port: int, addresses: list[str], tls: ssl.SSLContext | None, deadline: float, opened: list):
        super().__init__(host, port, timeout=_remaining(deadline))
        self.addresses, self.tls, self.deadline, self.opened = addresses, tls, deadline, opened
        self.default_port = 443 if tls else 80  # no ":443" in the Host header

    def connect(self) -> None:
        failure: OSError = OSError(f"no address for {self.host}")
        for address in self.addresses:
            try:
                sock = socket.create_connection((address, self.port), _remaining(self.deadline))
                break
            except OSError as error:
                failure = error
        else:
            raise failure
        if self.tls:  # wrapping detaches ``sock``: the watchdog needs the wrapper, before the handshake
            sock = self.tls.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
        self.opened.append(sock)
        self.sock = sock
        if self.tls:
            sock.do_handshake()


def _connect(url: str, deadline: float, allow_private: bool, opened: list) -> tuple[_Pinned, http.client.HTTPResponse]:
    """The response to GET ``url``, from a checked address."""
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or (443 if parts.scheme.lower() == "https" else 80)
    if not host:
        raise ImportFailed("no host in the address")
    addresses = _resolve(host, port, deadline)
    for address in addresses if not allow_private else ():
        if kind := private_kind(address):
            named = f"{host} is" if host == address else f"{host} is at {address},"
            raise ImportFailed(
                f"{named} a {kind} address; calfeed import reads only public addresses ({_PRIVATE})",
                "private-address", host=host, address=address, kind=kind,
            )
    tls = ssl.create_default_context() if parts.scheme.lower() == "https" else None
    connection = _Pinned(host, port, addresses, tls, deadline, opened)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target, headers={"User-Agent": "calfeed-import", "Accept": "text/calendar, */*"})
        return connection, connection.getresponse()
    except BaseException:
        connection.close()
        raise


def _body(response: http.client.HTTPResponse, deadline: float) -> bytes:
    chunks, size = [], 0
    while size <= MAX_BYTES:
        chunk = response.read1(65536)  # what has arrived: the deadline is checked often
        _remaining(deadline)  # the watchdog may have cut the connection: that is no end of file
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _cut(opened: list) -> None:
    """At the deadline: end every read still blocked (a server may send a
    byte at a time, each within the socket's timeout)."""
    for sock in opened:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the TCP socket, also under TLS
        except OSError:
            pass


def _download(source: str, allow_private: bool) -> bytes:
    """GET ``source``, following at most MAX_REDIRECTS http(s) redirects, all
    within TIMEOUT_SECONDS."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    opened: list[socket.socket] = []
    watchdog = threading.Timer(TIMEOUT_SECONDS, _cut, (opened,))
    watchdog.daemon = True
    watchdog.start()
    url = source
    try:
        for _ in range(MAX_REDIRECTS + 1):
            where = source if url == source else f"{source} (redirected to {url})"
            try:
                connection, response = _connect(url, deadline, allow_private, opened)
            except ImportFailed as failure:
                raise ImportFailed(f"{where}: {failure}", failure.code, **failure.data) from None
            try:
                if response.status in _REDIRECTS and response.getheader("Location"):
                    url = urljoin(url, response.getheader("Location").strip())
                    if urlsplit(url).scheme.lower() not in ("http", "https"):
                        raise ImportFailed(f"{where}: redirected to {url[:200]}; only http and https addresses are followed")
                    continue
                if not 200 <= response.status < 300:
                    raise ImportFailed(f"{where}: the server answered {response.status} {response.reason}", "http-status", status=response.status)
                length = response.getheader("Content-Length", "")
                if length.isdigit() and int(length) > MAX_BYTES:
                    raise _too_large(source)
                return _body(response, deadline)
            finally:
                response.close()
                connection.close()
        raise ImportFailed(f"{source}: more than {MAX_REDIRECTS} redirects; import the address they end at")
    except (OSError, http.client.HTTPException, ValueError) as error:
        if isinstance(error, TimeoutError) or time.monotonic() >= deadline:
            detail = f"; {error}" if str(error) not in ("timed out", "") else ""
            raise ImportFailed(
                f"{source}: the download took longer than {TIMEOUT_SECONDS} s (timed out{detail}); "
                "try again, or save the file and import it", "timeout", seconds=TIMEOUT_SECONDS,
            ) from None
        raise ImportFailed(f"{source}: cannot download it ({str(error) or type(error).__name__})", "download-failed") from None
    finally:
        watchdog.cancel()


def parse(data: bytes, source: str) -> icalendar.Calendar:
    """The source as a calendar, or one clear error."""
    head = data.lstrip()[:200].lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<")):
        raise ImportFailed(f"{source}: this is a web page, not a calendar (an error page, or the wrong URL?)", "not-icalendar")
    if not data.lstrip(b"\xef\xbb\xbf \r\n\t").upper().startswith(b"BEGIN:VCALENDAR"):
        raise ImportFailed(f"{source}: not an iCalendar file (it should start with BEGIN:VCALENDAR)", "not-icalendar")
    if b"END:VCALENDAR" not in data.upper():
        raise ImportFailed(f"{source}: the file is cut short (no END:VCALENDAR)", "cut-short")
    try:
        return icalendar.Calendar.from_ical(data)
    except Exception as error:
        raise ImportFailed(f"{source}: not valid iCalendar ({error})", "not-icalendar") from None
