"""Export every course notebook to an offline reveal.js deck: ``python slides/build.py``.

``make slides`` runs this. For each committed, executed ``notebooks/NN_name.ipynb`` it writes
``build/slides/NN_name.slides.html`` with nbconvert's ``SlidesExporter`` and the course template
``slides/templates/course_reveal`` (course stylesheet ``styles/course.css`` + ``styles/slides.css``).

reveal.js, MathJax and the fonts are pinned npm packages (``NPM_PACKAGES``), installed once into
``build/slides-deps`` and copied to ``build/slides/lib``: a deck opens from disk or from a local
server with no network. The notebooks are NOT executed here: the committed outputs are shown.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = ROOT / "slides" / "templates"
TEMPLATE_NAME = "course_reveal"
DEFAULT_OUT = ROOT / "build" / "slides"
DEFAULT_DEPS = ROOT / "build" / "slides-deps"
COURSE_CSS = ROOT / "styles" / "course.css"
SLIDES_CSS = ROOT / "styles" / "slides.css"
NOTEBOOK_RE = re.compile(r"^\d\d_[\w-]+\.ipynb$")

# Exact pins; none of these packages has runtime dependencies, so the pins are the whole tree.
NPM_PACKAGES = {
    "reveal.js": "5.2.1",
    "mathjax": "3.2.2",
    "@fontsource/pt-sans": "5.3.0",
    "@fontsource/pt-mono": "5.3.0",
}
# MathJax's other combined bundles are not used by the template (saves ~14 MB per build).
MATHJAX_SKIP = {
    "latest.js",
    "node-main.js",
    "mml-chtml.js",
    "mml-svg.js",
    "tex-chtml.js",
    "tex-chtml-full-speech.js",
    "tex-mml-chtml.js",
    "tex-mml-svg.js",
    "tex-svg-full.js",
    "tex-svg.js",
}
# A remote @import (reveal.js themes pull their fonts from a web font service).
REMOTE_IMPORT_RE = re.compile(r"@import\s+url\(\s*['\"]?(?:https?:)?//[^)]*\)\s*;?\s*")
REMOTE_URL_RE = re.compile(r"url\(\s*['\"]?(?:https?:)?//", re.IGNORECASE)


class SlidesBuildError(RuntimeError):
    """The decks cannot be built (missing npm, stylesheet, notebook problem)."""


@dataclass
class DeckSettings:
    """What the template needs besides the notebook (resources["course_deck"])."""

    title: str  # <title> of the page: the notebook's first heading
    theme: str = "simple"  # reveal.js theme name (RISE metadata "theme")
    transition: str = "slide"  # reveal.js transition (RISE metadata "transition")
    slide_number: str | bool = "c/t"  # reveal.js slideNumber (RISE metadata "slideNumber")
    scroll: bool = True  # tall slides scroll (RISE metadata "scroll")
    header: str = ""  # HTML shown on top of every slide (RISE metadata "header")
    footer: str = ""  # HTML shown at the bottom of every slide (RISE metadata "footer")
    width: int = 1280  # canvas size in CSS pixels; reveal.js scales it to the screen
    height: int = 720
    language: str = "ru"  # <html lang>
    lib: str = "lib"  # where the local reveal.js / MathJax / fonts live, relative to the deck
    course_css: str = ""  # text of styles/course.css, inlined
    slides_css: str = ""  # text of styles/slides.css, inlined after it
    versions: dict = field(default_factory=lambda: dict(NPM_PACKAGES))


# --------------------------------------------------------------------------- local JS / fonts


def installed_version(node_modules: Path, package: str) -> str | None:
    """Version of an npm package under ``node_modules``, or None when it is not there."""
    manifest = node_modules / package / "package.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text(encoding="utf-8")).get("version")


def ensure_npm_packages(deps_dir: Path = DEFAULT_DEPS, packages: dict | None = None) -> Path:
    """Install the pinned npm packages into ``deps_dir`` unless they are already there.

    Returns the ``node_modules`` folder. A second build needs no network.
    """
    packages = dict(NPM_PACKAGES if packages is None else packages)
    node_modules = deps_dir / "node_modules"
    missing = [f"{p}@{v}" for p, v in packages.items() if installed_version(node_modules, p) != v]
    if not missing:
        return node_modules
    npm = shutil.which("npm")
    if npm is None:
        raise SlidesBuildError(
            "npm is needed once to fetch reveal.js and MathJax for the decks "
            f"({', '.join(missing)}); install Node.js/npm (Debian: apt-get install -y npm) and rerun"
        )
    deps_dir.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "install", "--prefix", str(deps_dir), "--no-save", "--no-audit", "--no-fund"]
    cmd += ["--ignore-scripts", "--no-package-lock", *missing]
    print("slides: " + " ".join(cmd[1:]), flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SlidesBuildError(f"npm install failed ({done.returncode}):\n{done.stderr[-2000:]}")
    wrong = [p for p, v in packages.items() if installed_version(node_modules, p) != v]
    if wrong:
        raise SlidesBuildError(f"npm did not install the pinned versions of {wrong}")
    return node_modules


def _copy_theme_css(src: Path, dst: Path) -> None:
    """Copy a reveal.js theme without its remote web-font @imports (the deck ships PT Sans)."""
    text = REMOTE_IMPORT_RE.sub("", src.read_text(encoding="utf-8"))
    dst.write_text(text, encoding="utf-8")


def copy_assets(node_modules: Path, out_dir: Path) -> Path:
    """Copy reveal.js, MathJax and the fonts from ``node_modules`` to ``out_dir/lib``."""
    lib = out_dir / "lib"
    if lib.exists():
        shutil.rmtree(lib)
    reveal_src, reveal_dst = node_modules / "reveal.js", lib / "reveal.js"
    (reveal_dst / "dist" / "theme").mkdir(parents=True)
    for name in ("reveal.js", "reveal.css"):
        shutil.copy2(reveal_src / "dist" / name, reveal_dst / "dist" / name)
    for theme in sorted((reveal_src / "dist" / "theme").glob("*.css")):
        _copy_theme_css(theme, reveal_dst / "dist" / "theme" / theme.name)
    shutil.copytree(
        reveal_src / "dist" / "theme" / "fonts", reveal_dst / "dist" / "theme" / "fonts"
    )
    shutil.copytree(reveal_src / "plugin" / "notes", reveal_dst / "plugin" / "notes")
    shutil.copy2(reveal_src / "LICENSE", reveal_dst / "LICENSE")

    mathjax_src = node_modules / "mathjax"
    shutil.copytree(
        mathjax_src / "es5",
        lib / "mathjax",
        ignore=lambda d, names: [
            n for n in names if Path(d) == mathjax_src / "es5" and n in MATHJAX_SKIP
        ],
    )
    shutil.copy2(mathjax_src / "LICENSE", lib / "mathjax" / "LICENSE")

    for font in ("pt-sans", "pt-mono"):
        src = node_modules / "@fontsource" / font
        dst = lib / "fonts" / font
        shutil.copytree(src / "files", dst / "files", ignore=shutil.ignore_patterns("*.woff"))
        for css in src.glob("*.css"):
            # keep only the woff2 sources (every current browser reads woff2)
            text = re.sub(r",\s*url\([^)]*\.woff\)\s*format\('woff'\)", "", css.read_text("utf-8"))
            (dst / css.name).write_text(text, encoding="utf-8")
        shutil.copy2(src / "LICENSE", dst / "LICENSE")

    remote = [
        str(p.relative_to(out_dir))
        for p in lib.rglob("*.css")
        if REMOTE_URL_RE.search(p.read_text(encoding="utf-8", errors="replace"))
    ]
    if remote:
        raise SlidesBuildError(f"stylesheets still load from the network: {remote}")
    return lib


# --------------------------------------------------------------------------- notebooks


def notebook_paths(notebooks_dir: Path = ROOT / "notebooks") -> list[Path]:
    """The course notebooks ``NN_name.ipynb``, in order."""
    return sorted(p for p in notebooks_dir.glob("*.ipynb") if NOTEBOOK_RE.match(p.name))


def deck_title(nb) -> str:
    """The deck's title: notebook metadata ``title``, else the first ``# `` heading."""
    if nb.metadata.get("title"):
        return str(nb.metadata["title"])
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return re.sub(r"[*_`]", "", line[2:]).strip()
    return "Рекуррентные нейронные сети"


def deck_settings(nb, course_css: str, slides_css: str) -> DeckSettings:
    """Deck settings from the notebook's RISE metadata (``metadata.rise``)."""
    rise = dict(nb.metadata.get("rise", {}))
    settings = DeckSettings(title=deck_title(nb), course_css=course_css, slides_css=slides_css)
    settings.theme = str(rise.get("theme", settings.theme))
    settings.transition = str(rise.get("transition", settings.transition))
    settings.slide_number = rise.get("slideNumber", settings.slide_number)
    settings.scroll = bool(rise.get("scroll", settings.scroll))
    settings.header = str(rise.get("header", ""))
    settings.footer = str(rise.get("footer", ""))
    if not re.fullmatch(r"[a-z-]+", settings.theme):
        raise SlidesBuildError(f"bad RISE theme name {settings.theme!r}")
    return settings


def slide_count(nb) -> int:
    """Number of reveal.js slides (horizontal + vertical) nbconvert makes of ``nb``."""
    types = [c.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") for c in nb.cells]
    visible = [i for i, t in enumerate(types) if t not in ("notes", "skip")]
    if not visible:
        return 0
    return 1 + sum(t in ("slide", "subslide") for t in types[visible[0] + 1 :])


def unexecuted_cells(nb) -> list[int]:
    """Indices of shown code cells that were never run (the deck would show no output)."""
    return [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        and c.source.strip()
        and c.get("execution_count") is None
        and c.get("metadata", {}).get("slideshow", {}).get("slide_type") not in ("skip", "notes")
    ]


_NOTEBOOK_LINK_RE = re.compile(r'href="(\d\d_[\w-]+)\.ipynb(#[^"]*)?"')


def link_decks(page: str) -> str:
    """Point links to other course notebooks (``NN_name.ipynb``) at their decks."""
    return _NOTEBOOK_LINK_RE.sub(lambda m: f'href="{m[1]}.slides.html{m[2] or ""}"', page)


def export_notebook(nb_path: Path, out_dir: Path, course_css: str, slides_css: str) -> Path:
    """Write ``out_dir/<name>.slides.html`` for one notebook and return its path."""
    import nbformat
    from nbconvert import SlidesExporter

    nb = nbformat.read(nb_path, as_version=4)
    settings = deck_settings(nb, course_css, slides_css)
    exporter = SlidesExporter(
        extra_template_basedirs=[str(TEMPLATE_DIR)], template_name=TEMPLATE_NAME
    )
    resources = {"metadata": {"name": nb_path.stem}, "course_deck": vars(settings)}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    body = link_decks(body)
    out = out_dir / f"{nb_path.stem}.slides.html"
    out.write_text(body, encoding="utf-8")
    return out


def write_index(out_dir: Path) -> Path:
    """A plain ``index.html`` linking every deck in ``out_dir`` (handy on a classroom machine)."""
    decks = []
    for deck in sorted(out_dir.glob("*.slides.html")):
        found = re.search(r"<title>(.*?)</title>", deck.read_text(encoding="utf-8"), re.S)
        decks.append((deck, html.unescape(found[1].strip()) if found else deck.stem))
    items = "\n".join(
        f'<li><a href="{html.escape(p.name)}">{html.escape(title)}</a></li>' for p, title in decks
    )
    page = (
        '<!DOCTYPE html>\n<html lang="ru">\n<head><meta charset="utf-8" />'
        "<title>Рекуррентные нейронные сети · слайды</title>"
        '<link rel="stylesheet" href="lib/fonts/pt-sans/index.css" />'
        "<style>body{font-family:'PT Sans',sans-serif;max-width:50em;margin:3em auto;"
        "font-size:20px;line-height:1.5}</style></head>\n<body>\n"
        "<h1>Рекуррентные нейронные сети · слайды</h1>\n"
        "<p>Стрелки — переход, <kbd>S</kbd> — заметки докладчика, <kbd>F</kbd> — полный экран, "
        "<kbd>Esc</kbd> — обзор. PDF: добавьте <code>?print-pdf</code> к адресу и напечатайте.</p>\n"
        f"<ol>\n{items}\n</ol>\n</body>\n</html>\n"
    )
    out = out_dir / "index.html"
    out.write_text(page, encoding="utf-8")
    return out


def build(
    notebooks: list[Path],
    out_dir: Path = DEFAULT_OUT,
    deps_dir: Path = DEFAULT_DEPS,
    course_css_path: Path = COURSE_CSS,
    slides_css_path: Path = SLIDES_CSS,
    prune: bool = False,
) -> list[Path]:
    """Build the decks for ``notebooks`` into ``out_dir`` (with ``lib/`` and ``index.html``).

    ``prune`` removes decks (and their PDFs and screenshots) of notebooks not in the list.
    """
    import nbformat

    for path in (course_css_path, slides_css_path):
        if not path.is_file():
            raise SlidesBuildError(f"stylesheet {path} not found")
    course_css = course_css_path.read_text(encoding="utf-8")
    slides_css = slides_css_path.read_text(encoding="utf-8")
    for path, text in ((course_css_path, course_css), (slides_css_path, slides_css)):
        if REMOTE_URL_RE.search(text) or "@import" in text:
            raise SlidesBuildError(f"{path} must not load anything (@import or remote url())")

    out_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(ensure_npm_packages(deps_dir), out_dir)
    decks = []
    for nb_path in notebooks:
        nb = nbformat.read(nb_path, as_version=4)
        never_run = unexecuted_cells(nb)
        if never_run:
            print(
                f"slides: warning: {nb_path.name}: code cells {never_run} have no outputs "
                "(commit the notebook executed)",
                file=sys.stderr,
            )
        deck = export_notebook(nb_path, out_dir, course_css, slides_css)
        decks.append(deck)
        shown = deck.relative_to(ROOT) if ROOT in deck.parents else deck
        print(f"slides: {shown} ({slide_count(nb)} slides)", flush=True)
    if prune:
        keep = {p.stem for p in notebooks}
        for old in out_dir.glob("*.slides.html"):
            stem = old.name.removesuffix(".slides.html")
            if stem not in keep:
                for stale in out_dir.glob(f"{stem}.*"):
                    stale.unlink()
    write_index(out_dir)
    return decks


# --------------------------------------------------------------------------- PDF


def _browser_module():
    """slides/browser.py (a headless-Chromium driver), loaded by path: slides/ is no package."""
    import importlib.util

    if "slides_browser" in sys.modules:
        return sys.modules["slides_browser"]
    spec = importlib.util.spec_from_file_location("slides_browser", ROOT / "slides" / "browser.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["slides_browser"] = module
    spec.loader.exec_module(module)
    return module


def print_pdfs(decks: list[Path], timeout: float = 180.0) -> list[tuple[Path, int]]:
    """Print each deck to ``<deck>.pdf`` beside it with headless Chromium (``?print-pdf`` view).

    The decks are served from 127.0.0.1; returns ``(pdf path, pages laid out by reveal.js)``.
    """
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    browser = _browser_module()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    results = []
    for folder in sorted({d.parent for d in decks}):
        handler = functools.partial(Quiet, directory=str(folder))
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            with browser.Chromium() as chromium:
                for deck in [d for d in decks if d.parent == folder]:
                    page = chromium.new_page()
                    try:
                        url = f"http://127.0.0.1:{httpd.server_port}/{deck.name}?print-pdf"
                        page.call("Page.navigate", url=url)
                        page.wait_for(
                            "document.documentElement.getAttribute('data-course-deck') === 'ready'",
                            timeout=timeout,
                        )
                        page.evaluate("document.fonts.ready.then(() => true)", await_promise=True)
                        pages = page.evaluate(
                            "document.querySelectorAll('.reveal .pdf-page').length"
                        )
                        pdf = deck.with_name(deck.name.replace(".slides.html", ".pdf"))
                        page.print_pdf(pdf, 1280 / 96, 720 / 96)
                    finally:
                        chromium.close_page(page)
                    print(f"slides: {pdf.name} ({pages} pages)", flush=True)
                    results.append((pdf, pages))
        finally:
            httpd.shutdown()
            httpd.server_close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="notebooks to export (default: every notebooks/NN_*.ipynb)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--deps", type=Path, default=DEFAULT_DEPS, help="npm install prefix")
    parser.add_argument("--course-css", type=Path, default=COURSE_CSS, help="course stylesheet")
    parser.add_argument(
        "--pdf", action="store_true", help="also print every deck to NN_name.pdf (needs chromium)"
    )
    args = parser.parse_args(argv)
    notebooks = args.notebooks or notebook_paths()
    if not notebooks:
        print("slides: no notebooks/NN_*.ipynb found, nothing to export", file=sys.stderr)
    try:
        decks = build(
            notebooks,
            args.out,
            args.deps,
            course_css_path=args.course_css,
            prune=not args.notebooks,
        )
        if args.pdf:
            print_pdfs(decks)
    except SlidesBuildError as exc:
        print(f"slides: error: {exc}", file=sys.stderr)
        return 1
    print(f"slides: {len(decks)} deck(s) in {args.out}; open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
