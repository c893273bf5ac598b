"""Fixtures for the slide tests: slides/build.py and slides/browser.py, a local server, Chromium.

Run with ``make test-slides`` (builds the decks first). Chromium is Debian's ``chromium``;
the tests fail (not skip) when it is missing, so CI cannot pass without the browser check.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from deckcheck import slides_browser


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


class LocalServer:
    """Serves one folder on 127.0.0.1 (random free port) in a background thread."""

    def __init__(self, directory: Path):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def serve():
    """``serve(folder) -> LocalServer``; every server is closed at the end of the session."""
    servers = []

    def _serve(directory: Path) -> LocalServer:
        server = LocalServer(directory)
        servers.append(server)
        return server

    yield _serve
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium (fresh profile) for the whole session."""
    if slides_browser.find_chromium() is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (then rerun)")
    with slides_browser.Chromium() as browser:
        yield browser
