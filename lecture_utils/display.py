"""Notebook presentation helpers: the course stylesheet, readable source, table of contents.

Introduced in 00_introduction; every notebook calls ``load_style()`` in its first code cell.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

STYLE_DIR = Path(__file__).resolve().parent.parent / "styles"
BACK_TO_TOC = "[к оглавлению](#toc)"


def style_path(name: str = "course.css") -> Path:
    """Path of a stylesheet in the course's ``styles/`` folder."""
    path = STYLE_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"stylesheet {path} not found; is the repository checked out whole?"
        )
    return path


def load_style(name: str = "course.css"):
    """Apply the course stylesheet to the notebook: returns an ``IPython.display.HTML`` to display.

    Use as the last line of the first code cell (``load_style()``), so Jupyter shows it.
    """
    from IPython.display import HTML

    css = style_path(name).read_text(encoding="utf-8")
    return HTML(f"<style>\n{css}\n</style>")


def source_of(obj) -> str:
    """Source code of a function, class or module, dedented."""
    try:
        return inspect.getsource(obj)
    except (TypeError, OSError) as exc:
        raise TypeError(f"cannot show the source of {obj!r}: {exc}") from None


def show_source(obj):
    """Syntax-highlighted source of a helper, for students to read (returns a displayable object).

    Falls back to plain Markdown code when Pygments is missing.
    """
    from IPython.display import HTML, Markdown

    code = source_of(obj)
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # pragma: no cover - pygments comes with jupyter
        return Markdown(f"```python\n{code}\n```")
    formatter = HtmlFormatter(nowrap=False, cssclass="course-source")
    styles = formatter.get_style_defs(".course-source")
    return HTML(f"<style>{styles}</style>{highlight(code, PythonLexer(), formatter)}")


def slugify(title: str) -> str:
    """Anchor id for a heading, the way the course writes them: lower case, words joined by '-'."""
    slug = re.sub(r"[^\w\s-]", "", title.strip().lower(), flags=re.UNICODE)
    return re.sub(r"[\s_]+", "-", slug).strip("-")


def toc_markdown(headings: list[str]) -> str:
    """Markdown table of contents linking to ``<a id=...>`` anchors made by :func:`section_anchor`."""
    if not headings:
        raise ValueError("toc_markdown needs at least one heading")
    lines = ['<a id="toc"></a>', "## Оглавление", ""]
    lines += [f"{i}. [{h}](#{slugify(h)})" for i, h in enumerate(headings, start=1)]
    return "\n".join(lines)


def section_anchor(title: str) -> str:
    """Markdown for a section heading with its anchor and the «к оглавлению» link."""
    return f'<a id="{slugify(title)}"></a>\n## {title}\n\n{BACK_TO_TOC}'


def notebook_toc_problems(nb: dict) -> list[str]:
    """Check a notebook (parsed JSON) for the course's structure; returns a list of problems.

    Checks: a ``toc`` anchor, every ``## `` section after it linked from the TOC and carrying a
    «к оглавлению» link, and ``slideshow.slide_type`` metadata on every cell.
    """
    problems = []
    md = ["".join(c.get("source", [])) for c in nb.get("cells", []) if c["cell_type"] == "markdown"]
    text = "\n".join(md)
    if '<a id="toc"></a>' not in text:
        problems.append('no table of contents anchor <a id="toc"></a>')
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', text))
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    for cell_src in md:
        if re.search(r"^## ", cell_src, flags=re.M) and "Оглавление" not in cell_src:
            if BACK_TO_TOC not in cell_src:
                problems.append(
                    f"section without «к оглавлению» link: {cell_src.splitlines()[0][:60]}"
                )
    for link in links:
        if link not in anchors:
            problems.append(f"link to a missing anchor #{link}")
    for i, cell in enumerate(nb.get("cells", [])):
        if "slide_type" not in cell.get("metadata", {}).get("slideshow", {}):
            problems.append(f"cell {i} has no slideshow.slide_type")
    return problems
