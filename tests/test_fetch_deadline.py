"""--fetch-remote's timeout is a deadline for the whole download, tested against a real
localhost server that trickles its bytes."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from alttext.fix.fetch import DownloadTimeout
from alttext.fix.resolve import Resolver, fetch

BODY = b"\x89PNG\r\n\x1a\n" + b"x" * 56


class _Trickle(http.server.BaseHTTPRequestHandler):
    """/body: headers at once, then a byte every 0.3 s; /headers: the headers themselves trickle;
    /fast: everything at once."""

    def do_GET(self) -> None:
        try:
            self._send()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def _send(self) -> None:
        if self.path == "/headers":
            for byte in b"HTTP/1.0 200 OK\r\nContent-Type: image/png\r\nX-Slow: " + b"y" * 60:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.3)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        for offset in range(len(BODY)):
            self.wfile.write(BODY[offset : offset + 1] if self.path == "/body" else BODY[offset:])
            self.wfile.flush()
            if self.path != "/body":
                return
            time.sleep(0.3)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("path", ["/body", "/headers"])
def test_a_trickling_server_is_cut_off_at_the_deadline(server: str, path: str) -> None:
    # Each byte comes well within any per-read timeout; all of them would take about 20 s.
    started = time.monotonic()
    with pytest.raises(DownloadTimeout, match=r"not finished within the 1\.5 s limit"):
        fetch(server + path, timeout=1.5)
    assert time.monotonic() - started < 1.5 + 1.0


def test_a_fast_download_within_the_deadline(server: str) -> None:
    assert fetch(server + "/fast", timeout=5) == BODY


def test_too_large_is_refused(server: str) -> None:
    with pytest.raises(ValueError, match="over the 10 byte limit"):
        fetch(server + "/fast", max_bytes=10, timeout=5)


def test_the_resolver_reports_the_timeout_for_the_image(server: str, tmp_path: pytest.TempPathFactory) -> None:
    resolver = Resolver(project_root=str(tmp_path), fetch_remote=True, timeout=1.0)
    image = resolver.resolve(server + "/body", str(tmp_path) + "/page.md")
    assert image.is_error and image.problem == "cannot fetch remote image: download not finished within the 1 s limit"
