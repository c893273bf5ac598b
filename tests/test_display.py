import pytest

from lecture_utils import display


def test_load_style_returns_html_with_the_course_stylesheet():
    html = display.load_style()
    assert html.data.startswith("<style>")
    assert "--course-accent" in html.data
    assert "course-style-applied" in html.data


def test_missing_stylesheet_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="stylesheet"):
        display.load_style("no_such.css")


def test_show_source_highlights_a_helper():
    html = display.show_source(display.slugify)
    assert "course-source" in html.data
    assert "slugify" in html.data


def test_show_source_of_a_builtin_is_a_clear_error():
    with pytest.raises(TypeError, match="cannot show the source"):
        display.show_source(len)


def test_slugify_keeps_cyrillic_and_drops_punctuation():
    assert display.slugify("Обратное распространение: BPTT!") == "обратное-распространение-bptt"
    assert display.slugify("  Итоги ") == "итоги"


def test_toc_and_section_anchor_agree():
    toc = display.toc_markdown(["Что такое RNN", "Итоги"])
    assert '<a id="toc"></a>' in toc
    assert "1. [Что такое RNN](#что-такое-rnn)" in toc
    section = display.section_anchor("Что такое RNN")
    assert '<a id="что-такое-rnn"></a>' in section
    assert display.BACK_TO_TOC in section


def test_toc_needs_headings():
    with pytest.raises(ValueError):
        display.toc_markdown([])


def _nb(cells):
    return {"cells": cells}


def _md(src, slide="slide"):
    return {
        "cell_type": "markdown",
        "source": src,
        "metadata": {"slideshow": {"slide_type": slide}},
    }


def test_notebook_structure_check_accepts_a_good_notebook():
    nb = _nb(
        [
            _md("# Title"),
            _md(display.toc_markdown(["Раздел"])),
            _md(display.section_anchor("Раздел")),
        ]
    )
    assert display.notebook_toc_problems(nb) == []


def test_notebook_structure_check_finds_problems():
    nb = _nb(
        [
            _md("# Title"),
            _md("## Раздел без ссылки\n[куда-то](#nowhere)"),
            {"cell_type": "code", "source": "1", "metadata": {}},
        ]
    )
    problems = "\n".join(display.notebook_toc_problems(nb))
    assert "no table of contents" in problems
    assert "without «к оглавлению»" in problems
    assert "#nowhere" in problems
    assert "cell 2 has no slideshow.slide_type" in problems
