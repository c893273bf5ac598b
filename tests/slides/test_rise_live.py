"""Live slides: each notebook opened with RISE (jupyterlab-rise) in a local JupyterLab + Chromium.

What the instructor gets from ``make lab`` and «Open as Reveal Slideshow»: the RISE deck starts
with the notebook's slides, puts the header and footer from the notebook metadata in the page
(that they are painted is not checked: headless screenshots do not show them), renders the
LaTeX, applies the course stylesheet (``load_style()`` output of the first code cell; JupyterLab
only shows it for a trusted notebook, so the notebooks are trusted first, as ``make lab``
should do), and asks nothing from outside the machine.

JupyterLab runs on a copy of the notebooks (RISE may save them) with private Jupyter config
and data folders, on 127.0.0.1 with a random token.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from deckcheck import (
    RAW_MATH_JS,
    ROOT,
    DeckReport,
    collect_events,
    expected_slides,
    math_in_notebook,
    slides_browser,
    slides_build,
)

NOTEBOOKS = slides_build.notebook_paths()
VENV_BIN = Path(sys.executable).parent

MARKER_JS = "getComputedStyle(document.body).getPropertyValue('--course-style').trim()"
RISE_SUMMARY_JS = (
    "(() => {"
    + RAW_MATH_JS
    + r"""
  const leaves = Array.from(document.querySelectorAll(".reveal .slides section"))
    .filter(s => !s.querySelector("section"));
  const text = sel => { const e = document.querySelector(sel); return e ? e.textContent.trim() : null; };
  return {
    slides: leaves.length,
    header: text("#rise-header"),
    footer: text("#rise-footer"),
    courseMarker: getComputedStyle(document.body).getPropertyValue("--course-style").trim(),
    math: document.querySelectorAll(".reveal mjx-container").length,
    rawMath: rawMath(".reveal .jp-RenderedMarkdown")
  };
})()
"""
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter_lab(tmp_path_factory):
    """A JupyterLab server on a trusted copy of the notebooks; yields (base_url, token)."""
    tmp = tmp_path_factory.mktemp("rise")
    root = tmp / "notebooks"
    root.mkdir()
    for nb in NOTEBOOKS:
        shutil.copy2(nb, root / nb.name)
    env = dict(os.environ)
    env.update(JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_DATA_DIR=str(tmp / "data"))
    env.update(JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), PYTHONPATH=str(ROOT))
    if NOTEBOOKS:
        subprocess.run(
            [str(VENV_BIN / "jupyter"), "trust", *map(str, sorted(root.glob("*.ipynb")))],
            env=env,
            check=True,
            capture_output=True,
        )
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp / "jupyter.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [
            str(VENV_BIN / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=None",
            "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited: {(tmp / 'jupyter.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("jupyter lab did not start in 120 s")
                time.sleep(0.3)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def _plain(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markup)).split())


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_presents_live_with_rise(nb_path: Path, jupyter_lab, chromium):
    base, token = jupyter_lab
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    rise = nb["metadata"].get("rise", {})
    n_math = len(math_in_notebook(nb))
    report = DeckReport(name=nb_path.stem, url=f"{base}/rise/{nb_path.name}")
    page = chromium.new_page()
    try:
        page.call("Page.navigate", url=f"{report.url}?token={token}")
        page.wait_for("document.querySelector('.reveal .slides section') !== null", timeout=120)
        # RISE adds the header/footer, JupyterLab typesets the math and renders the outputs of a
        # trusted notebook asynchronously: wait for all of it, then let the assertions explain
        done = [f"document.querySelectorAll('.reveal mjx-container').length >= {n_math}"]
        done.append(f"{MARKER_JS} === 'applied'")
        done += [
            f"document.querySelector('#rise-{k}') !== null"
            for k in ("header", "footer")
            if rise.get(k)
        ]
        try:
            page.wait_for(" && ".join(done), timeout=180)
        except slides_browser.BrowserError:
            pass
        summary = page.evaluate(RISE_SUMMARY_JS)
        page.evaluate("document.fonts.ready.then(() => true)", await_promise=True)
        shots = ROOT / "build" / "slides"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(shots / f"{nb_path.stem}.rise.png")
    finally:
        events = list(page.events)
        chromium.close_page(page)
    collect_events(report, events)
    outside = [
        u for u in report.requests if not u.startswith((base, "data:", "blob:", "about:", "ws:"))
    ]
    assert not outside, (
        f"RISE asked the network for {outside}; the reveal.js themes beige, blood, league, moon, "
        'night, simple, sky and solarized import web fonts: use "theme": "white" in metadata.rise'
    )
    assert summary["slides"] == expected_slides(nb), f"RISE shows {summary['slides']} slides"
    assert summary["header"] == _plain(rise.get("header", "")) or not rise.get("header")
    assert summary["footer"] == _plain(rise.get("footer", "")) or not rise.get("footer")
    assert summary["courseMarker"] == "applied", "the course stylesheet does not apply in RISE"
    assert summary["math"] >= n_math and not summary["rawMath"], summary["rawMath"]
