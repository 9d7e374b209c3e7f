"""Download a remote image with a size limit and a deadline for the whole download.

A socket timeout bounds each read, not the download: a server that sends one
byte every half second would keep a per-read timeout waiting for hours. Here
a timer shuts the connection down when the deadline passes, wherever the
download is (connecting, reading headers or the body), and the body is read
in pieces, each with only the time that is left.
"""

from __future__ import annotations

import functools
import http.client
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any


class DownloadTimeout(TimeoutError):
    """The download did not finish before its deadline."""


class _Deadline:
    """Shuts down every connection made for one download when time is up."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0 or self.expired:
            raise self.error()
        return left

    def passed(self) -> bool:
        return self.expired or time.monotonic() >= self.end

    def error(self) -> DownloadTimeout:
        return DownloadTimeout(f"download not finished within the {self.seconds:g} s limit")

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if not self.expired:
                return
        _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked in another thread
    except OSError:
        pass


def _watched(connection: type[http.client.HTTPConnection]) -> Callable[..., http.client.HTTPConnection]:
    """`connection` that hands its socket to a deadline as soon as it is connected."""

    class Watched(connection):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, deadline: _Deadline, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._deadline = deadline

        def connect(self) -> None:
            super().connect()
            self._deadline.watch(self.sock)

    return Watched


_WATCHED_HTTP = _watched(http.client.HTTPConnection)
_WATCHED_HTTPS = _watched(http.client.HTTPSConnection)


class _Handler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """http and https through connections that the deadline can shut."""

    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_WATCHED_HTTP, deadline=self._deadline), req)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_WATCHED_HTTPS, deadline=self._deadline), req)


def fetch(url: str, max_bytes: int, timeout: float, user_agent: str) -> bytes:
    """The body of `url`: at most `max_bytes`, all of it within `timeout` seconds, else an error
    (ValueError for the size, DownloadTimeout, or the OSError of the connection)."""
    deadline = _Deadline(timeout)
    opener = urllib.request.build_opener(_Handler(deadline))
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    deadline.start()
    try:
        with opener.open(request, timeout=deadline.left()) as response:
            return _read_body(response, max_bytes, deadline)
    except (OSError, http.client.HTTPException) as error:
        # The timer shut the connection, or a read given only the time left timed out.
        if deadline.passed():
            raise deadline.error() from None
        if isinstance(error, http.client.HTTPException):
            raise OSError(f"bad HTTP response ({type(error).__name__}: {error})") from None
        raise
    finally:
        deadline.cancel()


def _read_body(response: Any, max_bytes: int, deadline: _Deadline) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ValueError(f"{declared} bytes is over the {max_bytes} byte limit")
    chunks, size = [], 0
    while True:
        _limit_read(response, deadline.left())
        chunk = response.read1(64 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise ValueError(f"over the {max_bytes} byte limit")
        chunks.append(chunk)
    if deadline.passed():  # the timer shut the connection: what came is not the whole body
        raise deadline.error()
    return b"".join(chunks)


def _limit_read(response: Any, seconds: float) -> None:
    """Give the next read only the time left (where the response exposes its socket)."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if isinstance(sock, socket.socket):
        sock.settimeout(seconds)
