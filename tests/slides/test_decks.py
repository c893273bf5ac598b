"""Every deck in a real headless Chromium, served from 127.0.0.1 (``make test-slides``).

For each ``notebooks/NN_*.ipynb`` the deck ``build/slides/NN_*.slides.html`` must: request
nothing outside the machine, log no JavaScript error, start reveal.js with the expected number
of slides, have its LaTeX rendered by MathJax (no raw ``$...$`` left, no TeX errors), carry the
course stylesheet (and have it change the look), and keep every slide inside the 1280x720
canvas (a tall slide scrolls). Screenshots of the title slide and a formula slide are saved as
``build/slides/NN_*.title.png`` / ``.formula.png``; ``build/slides/report.json`` lists the slides
that need scrolling. A synthetic deck checks the same machinery when no notebook exists yet,
and a deliberately broken deck checks that the checks do catch problems.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import nbformat
import pytest
from deckcheck import (
    ROOT,
    expected_slides,
    inspect_deck,
    math_in_notebook,
    slides_build,
    write_report,
)
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

DECKS_DIR = ROOT / "build" / "slides"
NOTEBOOKS = slides_build.notebook_paths()
COURSE_CSS = slides_build.COURSE_CSS


def assert_deck_ok(report, nb: dict, course_css: str) -> None:
    """The checks every deck must pass (messages say which slide or URL is wrong)."""
    s = report.summary
    assert not report.external_requests(), (
        f"requests left the machine: {report.external_requests()}"
    )
    assert not report.failed, f"failed requests: {report.failed}"
    assert not report.console_errors, f"JavaScript console errors: {report.console_errors}"

    assert s["revealReady"], "reveal.js did not initialise"
    assert s["totalSlides"] == expected_slides(nb), (
        f"reveal.js has {s['totalSlides']} slides, the notebook's slide types give "
        f"{expected_slides(nb)}"
    )

    math = math_in_notebook(nb)
    assert s["mathJaxVersion"], "MathJax did not load"
    assert not s["rawMath"], f"LaTeX left unrendered: {s['rawMath']}"
    assert not s["mathErrors"], f"MathJax could not typeset: {s['mathErrors']}"
    assert s["mathRendered"] >= len(math), (
        f"{len(math)} formulas in the notebook, {s['mathRendered']} rendered by MathJax"
    )
    if math:
        formula = report.formula_slide()
        assert formula is not None, "no slide with rendered math although the notebook has LaTeX"

    assert s["courseCssText"] is not None, "the course stylesheet is not in the deck"
    assert s["courseCssText"].strip() == course_css.strip(), (
        "the deck carries an old styles/course.css: run make slides"
    )
    assert s["courseRules"] > 0 and s["styledElements"] > 0, (
        "styles/course.css is in the deck but changes nothing"
    )
    if "--course-style" in course_css:
        assert s["courseMarker"] == "applied", "course stylesheet marker --course-style not applied"
    assert "PT Sans" in s["fontsLoaded"], f"the local slide font did not load: {s['fontsLoaded']}"

    assert not s["brokenLinks"], f"links to missing anchors: {s['brokenLinks']}"

    width, height = report.canvas
    assert (width, height) == (1280, 720), f"canvas is {width}x{height}, expected 1280x720"
    not_scrolling = [
        f"{t['h']}.{t['v']} {t['title']}" for t in report.tall_slides() if not t["scrolls"]
    ]
    assert not not_scrolling, f"slides taller than 720 px that do not scroll: {not_scrolling}"
    wide = [f"{t['h']}.{t['v']} {t['title']}" for t in report.wide_slides()]
    assert not wide, f"slides wider than the 1280 px canvas (cut off on the right): {wide}"


# --------------------------------------------------------------------------- the course decks


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_course_deck(nb_path: Path, chromium, serve):
    deck = DECKS_DIR / f"{nb_path.stem}.slides.html"
    assert deck.is_file(), f"{deck} missing: run make slides"
    assert deck.stat().st_mtime >= nb_path.stat().st_mtime, f"{deck.name} is stale: run make slides"
    server = serve(DECKS_DIR)
    report = inspect_deck(chromium, server.url + deck.name, nb_path.stem, DECKS_DIR)
    write_report(DECKS_DIR / "report.json", report)
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    assert_deck_ok(report, nb, COURSE_CSS.read_text(encoding="utf-8"))
    assert Path(report.screenshots["title"]).stat().st_size > 10_000
    if math_in_notebook(nb):
        assert Path(report.screenshots["formula"]).stat().st_size > 10_000


# --------------------------------------------------------------------------- synthetic decks


def _cell(cell, slide_type: str):
    cell.metadata["slideshow"] = {"slide_type": slide_type}
    return cell


def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot([0, 1, 2, 3], [0, 1, 0, 1], label="пример")
    ax.set_xlabel("шаг t")
    ax.set_ylabel("значение")
    ax.set_title("Синтетический график")
    ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def synthetic_notebook(extra_cells=()) -> nbformat.NotebookNode:
    """A small executed notebook with every feature a course deck uses (no kernel needed)."""
    run = new_code_cell("for i in range(60):\n    print('строка', i)", execution_count=2)
    run.outputs = [
        new_output("stream", name="stdout", text="".join(f"строка {i}\n" for i in range(60)))
    ]
    fig = new_code_cell("fig = plot()", execution_count=3)
    fig.outputs = [new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"})]
    widget_view = {"model_id": "0", "version_major": 2, "version_minor": 0}
    demo = new_code_cell("demo()", execution_count=5)
    demo.outputs = [
        new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": widget_view,
                "text/plain": "GRU:   0%|          | 0/25 [00:00<?, ?it/s]",
            },
        ),
        new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": widget_view,
                "text/plain": "VBox(children=(FloatSlider(value=1.0),))",
            },
        ),
    ]
    shape = new_code_cell("x.shape", execution_count=4)
    shape.outputs = [
        new_output("execute_result", data={"text/plain": "(4, 7, 16)"}, execution_count=4)
    ]
    cells = [
        _cell(
            new_markdown_cell(
                "# Лекция 6 · 98. Проверка слайдов\n\nСостояние $s_t$ хранит память."
            ),
            "slide",
        ),
        _cell(
            new_markdown_cell('<a id="toc"></a>\n## Оглавление\n\n1. [Формулы](#формулы)'), "slide"
        ),
        _cell(new_code_cell("import numpy as np", execution_count=1), "skip"),
        _cell(
            new_markdown_cell(
                '<a id="формулы"></a>\n## Формулы\n\n[к оглавлению](#toc)\n\n'
                "$$a_t = b + W s_{t-1} + U x_t,\\qquad s_t = \\tanh(a_t)$$\n\n"
                "где $W \\in \\mathbb{R}^{H \\times H}$, а `$не формула$` в коде."
            ),
            "slide",
        ),
        _cell(
            new_markdown_cell("- градиент $\\frac{\\partial L}{\\partial W}$ суммируется по шагам"),
            "fragment",
        ),
        _cell(new_markdown_cell("Заметка для докладчика: $T$ шагов."), "notes"),
        _cell(run, "subslide"),
        _cell(fig, "subslide"),
        _cell(shape, "-"),
        _cell(demo, "-"),
        _cell(
            new_markdown_cell(
                "## Длинный список\n\n" + "\n".join(f"- пункт {i}" for i in range(30))
            ),
            "subslide",
        ),
        _cell(new_markdown_cell("| B | T | H |\n|---|---|---|\n| 4 | 7 | 16 |"), "slide"),
        *extra_cells,
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["rise"] = {
        "theme": "simple",
        "scroll": True,
        "enable_chalkboard": False,
        "header": "<b>Рекуррентные нейронные сети</b> · Лекция 6",
        "footer": "Финансовый университет · курс по мотивам лекции С. В. Макрушина (2021)",
    }
    return nb


def _build_one(tmp_path: Path, nb, stem: str) -> Path:
    nb_path = tmp_path / f"{stem}.ipynb"
    nbformat.write(nb, nb_path)
    out = tmp_path / "decks"
    (deck,) = slides_build.build([nb_path], out_dir=out)
    return deck


@pytest.fixture(scope="module")
def synthetic_deck(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("synthetic")
    nb = synthetic_notebook()
    return _build_one(tmp, nb, "98_synthetic"), nb


def test_synthetic_deck_passes_every_check(synthetic_deck, chromium, serve):
    deck, nb = synthetic_deck
    server = serve(deck.parent)
    report = inspect_deck(chromium, server.url + deck.name, "98_synthetic", deck.parent)
    assert_deck_ok(report, json.loads(nbformat.writes(nb)), COURSE_CSS.read_text(encoding="utf-8"))
    assert report.summary["totalSlides"] == 7
    assert len(math_in_notebook(nb)) == 5  # the code span is not a formula
    assert report.summary["mathRendered"] >= 5
    # the 30-item list is taller than 720 px: it must scroll, not be cut
    tall = report.tall_slides()
    assert [s["title"] for s in tall] == ["Длинный список"] and tall[0]["scrolls"]
    assert report.formula_slide()["displayMath"] == 1
    assert set(report.screenshots) == {"title", "formula"}
    # a widget (not a progress bar) leaves a note: it only works with a kernel
    assert (
        deck.read_text(encoding="utf-8").count('class="jp-OutputArea-output course-widget-note"')
        == 1
    )
    # every local asset came from the deck's own lib/ folder
    assert any(u.endswith("/lib/mathjax/tex-chtml-full.js") for u in report.requests)
    assert any(u.endswith("/lib/reveal.js/dist/reveal.js") for u in report.requests)
    assert any(
        re.search(r"/lib/fonts/pt-sans/files/.*cyrillic.*\.woff2$", u) for u in report.requests
    )


def test_checks_catch_a_broken_deck(tmp_path, chromium, serve):
    """A deck that calls out to the network, logs an error and has bad LaTeX must fail."""
    bad = [
        _cell(
            new_markdown_cell('<img src="http://course-slides.invalid/logo.png" alt="x">'), "slide"
        ),
        _cell(
            new_markdown_cell("<script>console.error('deliberate error')</script>\n\nТекст"), "-"
        ),
        _cell(new_markdown_cell("Опечатка в формуле: $\\fracc{1}{2}$"), "-"),
    ]
    nb = synthetic_notebook(bad)
    deck = _build_one(tmp_path, nb, "97_broken")
    server = serve(deck.parent)
    report = inspect_deck(chromium, server.url + deck.name, "97_broken", None)
    assert report.external_requests() == ["http://course-slides.invalid/logo.png"]
    assert any("course-slides.invalid" in f for f in report.failed), "the request was not blocked"
    assert any("deliberate error" in e for e in report.console_errors)
    assert report.summary["mathErrors"], "a TeX error must be reported"
    with pytest.raises(AssertionError, match="requests left the machine"):
        assert_deck_ok(report, json.loads(nbformat.writes(nb)), COURSE_CSS.read_text("utf-8"))


def test_deck_prints_to_pdf(synthetic_deck):
    """``slides/build.py --pdf``: the ?print-pdf view printed by Chromium, a page per slide."""
    deck, nb = synthetic_deck
    ((pdf, pages),) = slides_build.print_pdfs([deck])
    assert pdf == deck.parent / "98_synthetic.pdf"
    # reveal.js lays the deck out as one .pdf-page per slide (more when a slide is tall)
    assert pages >= expected_slides(json.loads(nbformat.writes(nb)))
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 50_000


CLICK_JS = """Array.from(document.querySelectorAll('.present a[href^="#"]'))
  .find(a => decodeURIComponent(a.getAttribute("href")) === "%s").click(); true"""


def test_table_of_contents_links_jump_to_their_slide(synthetic_deck, chromium, serve):
    """A click on a TOC entry shows the section's slide; «к оглавлению» comes back."""
    deck, _ = synthetic_deck
    server = serve(deck.parent)
    page = chromium.new_page()
    try:
        page.call("Page.navigate", url=server.url + deck.name)
        page.wait_for("document.documentElement.getAttribute('data-course-deck') === 'ready'")
        page.evaluate("Reveal.configure({transition: 'none'}); Reveal.slide(1, 0); true")
        page.evaluate(CLICK_JS % "#формулы")
        assert page.evaluate("Reveal.getIndices().h") == 2
        assert page.evaluate("Reveal.getCurrentSlide().textContent.includes('Формулы')")
        page.evaluate(CLICK_JS % "#toc")
        assert page.evaluate("Reveal.getIndices().h") == 1
        page.pump(0.2)
        errors = [e for e in page.events if e["method"] == "Runtime.exceptionThrown"]
        assert not errors
    finally:
        chromium.close_page(page)
