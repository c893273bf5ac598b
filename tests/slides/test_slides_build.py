"""slides/build.py without a browser: settings, slide counts, offline assets, clear errors."""

from __future__ import annotations

import json

import nbformat
import pytest
from deckcheck import ROOT, expected_slides, slides_build
from nbconvert.exporters.slides import _RevealMetadataPreprocessor
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def _nb(types, rise=None):
    cells = []
    for i, t in enumerate(types):
        cell = (
            new_markdown_cell(f"# cell {i}")
            if i % 2 == 0
            else new_code_cell("1", execution_count=i)
        )
        cell.metadata["slideshow"] = {"slide_type": t}
        cells.append(cell)
    nb = new_notebook(cells=cells)
    if rise is not None:
        nb.metadata["rise"] = rise
    return nb


def _nbconvert_leaf_slides(nb) -> int:
    """How many slides nbconvert's own preprocessor opens (subslide_start marks)."""
    out, _ = _RevealMetadataPreprocessor().preprocess(nb, {})
    return sum(bool(c.metadata.get("subslide_start")) for c in out.cells)


@pytest.mark.parametrize(
    "types, slides",
    [
        (["slide", "-", "fragment", "subslide", "notes", "slide"], 3),
        (["skip", "notes", "-", "subslide", "skip", "slide", "fragment"], 3),
        (["-", "-", "-"], 1),
        (["slide", "skip", "skip", "slide", "subslide", "subslide"], 4),
    ],
)
def test_slide_count_matches_nbconvert(types, slides):
    nb = _nb(types)
    assert slides_build.slide_count(nb) == slides
    assert expected_slides(json.loads(nbformat.writes(nb))) == slides
    assert _nbconvert_leaf_slides(nb) == slides


def test_deck_settings_follow_rise_metadata():
    rise = {
        "theme": "serif",
        "transition": "fade",
        "slideNumber": "c",
        "scroll": False,
        "header": "<b>H</b>",
        "footer": "F",
    }
    settings = slides_build.deck_settings(_nb(["slide"], rise), "a{}", "b{}")
    assert (settings.theme, settings.transition, settings.slide_number) == ("serif", "fade", "c")
    assert (settings.scroll, settings.header, settings.footer) == (False, "<b>H</b>", "F")
    assert (settings.width, settings.height) == (1280, 720)
    assert settings.title == "cell 0"
    defaults = slides_build.deck_settings(_nb(["slide"]), "", "")
    assert (defaults.theme, defaults.scroll) == ("simple", True)


def test_bad_theme_name_is_refused():
    with pytest.raises(slides_build.SlidesBuildError, match="theme"):
        slides_build.deck_settings(_nb(["slide"], {"theme": "../../x"}), "", "")


def test_unexecuted_shown_code_cells_are_reported():
    nb = _nb(["slide", "-", "-", "skip"])
    nb.cells[1].execution_count = None  # shown, never run
    nb.cells[3] = new_code_cell("2")  # skipped: does not matter
    nb.cells[3].metadata["slideshow"] = {"slide_type": "skip"}
    assert slides_build.unexecuted_cells(nb) == [1]


def test_notebook_paths_take_only_numbered_notebooks(tmp_path):
    for name in ("01_b.ipynb", "00_a.ipynb", "scratch.ipynb", "1_x.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in slides_build.notebook_paths(tmp_path)] == ["00_a.ipynb", "01_b.ipynb"]


def test_remote_font_imports_are_stripped_from_themes(tmp_path):
    src = tmp_path / "theme.css"
    src.write_text(
        "@import url(https://fonts.example/css?family=Lato);\n"
        "@import url(./fonts/local.css);\n.reveal{color:red}\n"
    )
    dst = tmp_path / "out.css"
    slides_build._copy_theme_css(src, dst)
    assert dst.read_text() == "@import url(./fonts/local.css);\n.reveal{color:red}\n"


def test_stylesheet_that_loads_from_the_network_is_refused(tmp_path):
    css = tmp_path / "course.css"
    css.write_text("@import url('https://fonts.example/x.css');\nbody{}")
    with pytest.raises(slides_build.SlidesBuildError, match="must not load"):
        slides_build.build([], out_dir=tmp_path / "out", course_css_path=css)


def test_missing_stylesheet_is_a_clear_error(tmp_path):
    with pytest.raises(slides_build.SlidesBuildError, match="not found"):
        slides_build.build([], out_dir=tmp_path, course_css_path=tmp_path / "nope.css")


def test_npm_pins_are_exact_and_installed_assets_are_offline():
    for package, version in slides_build.NPM_PACKAGES.items():
        assert version.count(".") == 2 and version.replace(".", "").isdigit(), package
    lib = ROOT / "build" / "slides" / "lib"
    if not lib.is_dir():
        pytest.fail("build/slides/lib missing: run make slides first")
    node_modules = ROOT / "build" / "slides-deps" / "node_modules"
    for package, version in slides_build.NPM_PACKAGES.items():
        assert slides_build.installed_version(node_modules, package) == version
    for css in lib.rglob("*.css"):
        assert not slides_build.REMOTE_URL_RE.search(css.read_text("utf-8")), css
    assert (lib / "mathjax" / "tex-chtml-full.js").is_file()
    assert (lib / "reveal.js" / "dist" / "theme" / "simple.css").is_file()
    assert list((lib / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))


def test_links_to_other_notebooks_point_at_their_decks():
    page = '<a href="01_rnn_by_hand.ipynb">a</a> <a href="02_bptt.ipynb#bptt">b</a> <a href="x.ipynb">c</a>'
    assert slides_build.link_decks(page) == (
        '<a href="01_rnn_by_hand.slides.html">a</a> '
        '<a href="02_bptt.slides.html#bptt">b</a> <a href="x.ipynb">c</a>'
    )


def test_index_lists_every_deck_in_the_folder(tmp_path):
    (tmp_path / "01_b.slides.html").write_text("<title>Лекция 6 · 01. Б &amp; В</title>")
    (tmp_path / "00_a.slides.html").write_text("<title>Лекция 6 · 00. А</title>")
    page = slides_build.write_index(tmp_path).read_text(encoding="utf-8")
    assert page.index("00_a.slides.html") < page.index("01_b.slides.html")
    assert "Лекция 6 · 01. Б &amp; В</a>" in page


def test_full_build_removes_decks_of_deleted_notebooks(tmp_path):
    for name in ("09_gone.slides.html", "09_gone.title.png", "09_gone.pdf", "09_gone_not.txt"):
        (tmp_path / name).write_text("x")
    assert slides_build.build([], out_dir=tmp_path, prune=True) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["09_gone_not.txt", "index.html", "lib"]
