"""Open one deck in Chromium and collect what the slide tests assert on (see test_decks.py)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SLIDES_DIR = ROOT / "slides"


def _load(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


slides_build = _load("slides_build", SLIDES_DIR / "build.py")
slides_browser = _load("slides_browser", SLIDES_DIR / "browser.py")


READY_JS = "document.documentElement.getAttribute('data-course-deck') === 'ready'"

# LaTeX that MathJax left as text: $...$ / $$...$$ in rendered Markdown, outside code, pre and
# rendered math. Shared by the deck check and the live RISE check (a JS function declaration).
RAW_MATH_JS = r"""
function rawMath(selector) {
  const raw = [];
  for (const el of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {
      acceptNode: n => n.parentElement.closest("code, pre, mjx-container, script, style")
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT
    });
    let text = "";
    while (walker.nextNode()) text += walker.currentNode.nodeValue;
    const found = text.match(/\$\$[\s\S]+?\$\$|\$[^$\s][^$]*?\$/g);
    if (found) raw.push(...found.map(s => s.slice(0, 80)));
  }
  return raw;
}
"""

# Everything measured in the page, in one evaluation.
SUMMARY_JS = (
    "(() => {"
    + RAW_MATH_JS
    + r"""
  const out = {};
  out.revealReady = typeof Reveal !== "undefined" && Reveal.isReady();
  out.totalSlides = out.revealReady ? Reveal.getTotalSlides() : -1;
  out.mathJaxVersion = window.MathJax && MathJax.version ? MathJax.version : null;
  out.mathRendered = document.querySelectorAll(".reveal .slides mjx-container").length;
  out.mathErrors = Array.from(document.querySelectorAll(".reveal .slides mjx-merror"))
    .map(e => e.textContent.slice(0, 80)).slice(0, 5);
  // LaTeX left as text: $...$ / $$...$$ outside code, pre and rendered math
  out.rawMath = rawMath(".reveal .slides .jp-RenderedMarkdown");
  // the course stylesheet: present, current, and changing how the deck looks
  const style = document.getElementById("course-css");
  out.courseCssText = style ? style.textContent : null;
  out.courseMarker = getComputedStyle(document.body).getPropertyValue("--course-style").trim();
  out.courseRules = style && style.sheet ? style.sheet.cssRules.length : 0;
  out.styledElements = 0;
  if (style && style.sheet) {
    const els = Array.from(document.querySelectorAll("body, .reveal .slides *")).slice(0, 4000);
    const props = ["color", "background-color", "font-size", "font-weight", "line-height",
      "border-bottom-width", "border-bottom-color", "border-left-width", "padding-bottom",
      "display", "text-decoration-line"];
    const snap = () => els.map(e => {
      const cs = getComputedStyle(e);
      return props.map(p => cs.getPropertyValue(p)).join(";");
    });
    const withCss = snap();
    style.sheet.disabled = true;
    const withoutCss = snap();
    style.sheet.disabled = false;
    out.styledElements = withCss.filter((v, i) => v !== withoutCss[i]).length;
  }
  // in-deck links (table of contents, «к оглавлению») whose target is missing
  out.brokenLinks = Array.from(document.querySelectorAll('.reveal .slides a[href^="#"]'))
    .map(a => a.getAttribute("href").slice(1))  // nbconvert keeps heading ids %-encoded
    .filter(id => id && !document.getElementById(id)
      && !document.getElementById(decodeURIComponent(id)))
    .map(id => decodeURIComponent(id));
  out.bodyFont = getComputedStyle(document.querySelector(".reveal")).fontFamily;
  out.fontsLoaded = Array.from(document.fonts).filter(f => f.status === "loaded")
    .map(f => f.family.replace(/"/g, ""));
  return out;
})()
"""
)

# Visit every slide (all fragments shown) and measure it against the canvas.
AUDIT_JS = r"""
(() => {
  Reveal.configure({ transition: "none", backgroundTransition: "none" });
  const { width: W, height: H } = Reveal.getConfig();
  const slides = [];
  for (const s of Reveal.getSlides()) {
    const idx = Reveal.getIndices(s);
    const nfrag = s.querySelectorAll(".fragment").length;
    Reveal.slide(idx.h, idx.v, nfrag ? nfrag - 1 : undefined);
    const heading = s.querySelector("h1, h2, h3");
    const first = heading || s.querySelector(".jp-RenderedMarkdown, .jp-InputArea-editor") || s;
    const label = first.textContent.replace(/¶/g, "").replace(/\s+/g, " ").trim();
    slides.push({
      h: idx.h, v: idx.v, title: label.slice(0, 70), fragments: nfrag,
      contentHeight: s.scrollHeight, contentWidth: s.scrollWidth, width: s.clientWidth,
      scrolls: s.classList.contains("course-scroll") && getComputedStyle(s).overflowY === "auto",
      math: s.querySelectorAll(".jp-RenderedMarkdown mjx-container").length,
      displayMath: s.querySelectorAll('.jp-RenderedMarkdown mjx-container[display="true"]').length,
      notes: s.querySelectorAll("aside.notes").length
    });
  }
  Reveal.slide(0, 0);
  return { width: W, height: H, slides };
})()
"""


@dataclass
class DeckReport:
    """What a deck did in the browser."""

    name: str
    url: str
    summary: dict = field(default_factory=dict)
    canvas: tuple = (0, 0)
    slides: list = field(default_factory=list)
    requests: list = field(default_factory=list)  # every URL the page asked for
    failed: list = field(default_factory=list)  # requests that failed or got HTTP >= 400
    console_errors: list = field(default_factory=list)  # console.error, exceptions, log errors
    screenshots: dict = field(default_factory=dict)

    def external_requests(self) -> list[str]:
        local = ("data:", "blob:", "about:", self.url.rsplit("/", 1)[0] + "/")
        return [u for u in self.requests if not u.startswith(local)]

    def tall_slides(self) -> list[dict]:
        return [s for s in self.slides if s["contentHeight"] > self.canvas[1] + 2]

    def wide_slides(self) -> list[dict]:
        return [s for s in self.slides if s["contentWidth"] > s["width"] + 2]

    def formula_slide(self) -> dict | None:
        """The first slide (not the title) with display math, else with any math."""
        for key in ("displayMath", "math"):
            for s in self.slides:
                if s[key] and (s["h"], s["v"]) != (0, 0):
                    return s
        return next((s for s in self.slides if s["math"]), None)


def _console_text(params: dict) -> str:
    parts = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
    return " ".join(parts)[:300]


def collect_events(report: DeckReport, events: list[dict]) -> None:
    """Fill requests, failures and console errors from the DevTools events of the page."""
    urls = {}
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
            report.requests.append(params["request"]["url"])
        elif method == "Network.loadingFailed":
            url = urls.get(params["requestId"], "?")
            report.failed.append(f"{url}: {params.get('errorText')}")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            report.failed.append(
                f"{params['response']['url']}: HTTP {params['response']['status']}"
            )
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            report.console_errors.append(f"console.{params['type']}: {_console_text(params)}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            report.console_errors.append(f"exception: {str(text)[:300]}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            report.console_errors.append(f"log: {entry.get('text')} {entry.get('url', '')}"[:300])


def inspect_deck(chromium, url: str, name: str, shots_dir: Path | None) -> DeckReport:
    """Load a deck, measure it, and (when ``shots_dir``) save the title and formula screenshots."""
    report = DeckReport(name=name, url=url)
    page = chromium.new_page()
    try:
        page.call("Page.navigate", url=url)
        page.wait_for(READY_JS, timeout=120)
        page.evaluate("document.fonts.ready.then(() => true)", await_promise=True)
        report.summary = page.evaluate(SUMMARY_JS, timeout=120)
        audit = page.evaluate(AUDIT_JS, timeout=120)
        report.canvas = (audit["width"], audit["height"])
        report.slides = audit["slides"]
        if shots_dir is not None:
            targets = {"title": report.slides[0] if report.slides else None}
            targets["formula"] = report.formula_slide()
            for kind, slide in targets.items():
                if slide is None:
                    continue
                frag = slide["fragments"] - 1 if slide["fragments"] else "undefined"
                page.evaluate(f"Reveal.slide({slide['h']}, {slide['v']}, {frag})")
                page.evaluate(
                    "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
                    ".then(() => document.fonts.ready).then(() => true)",
                    await_promise=True,
                )
                page.pump(0.3)
                path = shots_dir / f"{name}.{kind}.png"
                page.screenshot(path)
                report.screenshots[kind] = str(path)
        page.pump(0.3)
    finally:
        events = list(page.events)
        chromium.close_page(page)
    collect_events(report, events)
    return report


# --------------------------------------------------------------------------- notebook side

_FENCE_RE = re.compile(r"```.*?```|~~~.*?~~~", re.S)
_CODE_SPAN_RE = re.compile(r"`[^`\n]*`")
_MATH_RE = re.compile(r"\$\$.+?\$\$|(?<![\\$])\$(?!\$)(?:[^$\\\n]|\\.)+?\$", re.S)


def expected_slides(nb: dict) -> int:
    """Slides (horizontal + vertical) the deck must have, counted from the cells' slide types.

    The first shown cell opens a slide whatever its type; after it, every "slide" or "subslide"
    cell opens one; "skip" and "notes" cells never do.
    """
    types = [c.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") for c in nb["cells"]]
    shown = [i for i, t in enumerate(types) if t not in ("skip", "notes")]
    if not shown:
        return 0
    return 1 + sum(1 for t in types[shown[0] + 1 :] if t in ("slide", "subslide"))


def math_in_notebook(nb: dict) -> list[str]:
    """LaTeX snippets ($...$, $$...$$) in the markdown cells that the deck shows."""
    found = []
    for cell in nb["cells"]:
        slide_type = cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")
        if cell["cell_type"] != "markdown" or slide_type == "skip":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        src = _CODE_SPAN_RE.sub("", _FENCE_RE.sub("", src))
        found += _MATH_RE.findall(src)
    return found


def write_report(path: Path, report: DeckReport) -> None:
    """Merge one deck's measurements into ``report.json`` (slides to split, screenshots)."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    entry = asdict(report)
    entry.pop("summary")
    entry["requests"] = len(report.requests)
    entry["tall_slides"] = [f"{s['h']}.{s['v']} {s['title']}" for s in report.tall_slides()]
    entry["wide_slides"] = [f"{s['h']}.{s['v']} {s['title']}" for s in report.wide_slides()]
    entry["slides"] = len(report.slides)
    data[report.name] = entry
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
