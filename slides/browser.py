"""A small headless-Chromium driver over the DevTools protocol (used by tests/slides).

Starts Debian's ``chromium`` with a fresh profile, the flags the course's browser test requires,
and a network that cannot leave the machine: every host name resolves to nothing except
127.0.0.1, and every non-loopback connection goes to a closed local proxy port. Pages are
driven through ``websocket-client``; every DevTools event a page sends is kept in
``Page.events`` so a test can inspect requests, console messages and exceptions.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket  # websocket-client

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
REQUIRED_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# Belt and braces: nothing can leave the machine even if a page asks for it.
ISOLATION_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",  # discard port: connections to the outside fail
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--mute-audio",
)


class BrowserError(RuntimeError):
    """Chromium could not be started or a DevTools call failed."""


def find_chromium() -> str | None:
    """Path of the chromium executable, or None when it is not installed."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Page:
    """One browser tab driven over its DevTools websocket."""

    def __init__(self, ws_url: str, timeout: float = 30.0):
        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self.events: list[dict] = []
        self._ids = itertools.count(1)

    def call(self, method: str, timeout: float = 30.0, **params) -> dict:
        """Send a DevTools command and return its result (events seen meanwhile are kept)."""
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                raise BrowserError(f"{method}: no answer in {timeout} s") from None
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise BrowserError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def pump(self, seconds: float = 0.05) -> None:
        """Collect the events that arrive within ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                return
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expression: str, await_promise: bool = False, timeout: float = 30.0):
        """Value of a JavaScript expression in the page (JSON-serialisable)."""
        result = self.call(
            "Runtime.evaluate",
            timeout=timeout,
            expression=expression,
            returnByValue=True,
            awaitPromise=await_promise,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"JavaScript error in {expression[:80]!r}: {text}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0, poll: float = 0.1):
        """Poll a JavaScript expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except BrowserError as exc:  # e.g. the document is being replaced by a navigation
                last_error, value = exc, None
            if value:
                return value
            self.pump(poll)
        raise BrowserError(f"timed out after {timeout} s waiting for {expression!r} ({last_error})")

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the viewport."""
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def print_pdf(self, path: Path, width_in: float, height_in: float) -> Path:
        """Print the page to PDF with a fixed paper size (used for ?print-pdf decks)."""
        data = self.call(
            "Page.printToPDF",
            timeout=120,
            paperWidth=width_in,
            paperHeight=height_in,
            marginTop=0,
            marginBottom=0,
            marginLeft=0,
            marginRight=0,
            printBackground=True,
            preferCSSPageSize=True,
        )["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self.ws.close()


class Chromium:
    """A headless Chromium with a fresh user-data-dir; use as a context manager."""

    def __init__(self, executable: str | None = None, width: int = 1280, height: int = 720):
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise BrowserError("chromium not found; install it with: apt-get install -y chromium")
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix="course-slides-chromium-")
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None

    def __enter__(self) -> Chromium:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def args(self) -> list[str]:
        return [
            self.executable,
            *REQUIRED_FLAGS,
            *ISOLATION_FLAGS,
            f"--user-data-dir={self.profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--window-size={self.width},{self.height}",
            "about:blank",
        ]

    def start(self, timeout: float = 60.0) -> None:
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")[-2000:]
                raise BrowserError(f"chromium exited with {self.proc.returncode}:\n{err}")
            if port_file.is_file():
                lines = port_file.read_text().split()
                if lines:
                    self.port = int(lines[0])
                    return
            time.sleep(0.1)
        self.stop()
        raise BrowserError(f"chromium did not open its DevTools port in {timeout} s")

    def _http(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read().decode()

    def new_page(self) -> Page:
        """Open a blank tab with network, console and page events enabled."""
        target = json.loads(self._http("/json/new?about:blank", method="PUT"))
        page = Page(target["webSocketDebuggerUrl"])
        page.target_id = target["id"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            page.call(f"{domain}.enable")
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        return page

    def close_page(self, page: Page) -> None:
        page.close()
        try:
            self._http(f"/json/close/{page.target_id}")
        except OSError:
            pass

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)
