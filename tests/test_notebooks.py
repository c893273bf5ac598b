"""Every committed notebook: executed in order, no errors, no widget state, the course structure.

(Executing the notebooks is nbval's job: ``make test`` passes them to pytest with --nbval-lax.)
"""

import json
from pathlib import Path

import pytest

from lecture_utils.display import notebook_toc_problems

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook(request):
    return request.param, _load(request.param)


def test_executed_in_order(notebook):
    path, nb = notebook
    counts = [c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: code cells must be executed in order 1..N (Restart & Run All, then save)"
    )


def test_no_error_outputs(notebook):
    path, nb = notebook
    for i, cell in enumerate(nb["cells"]):
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", (
                f"{path.name}: cell {i} saved an error: {out.get('ename')}: {out.get('evalue')}"
            )


def test_no_saved_widget_state(notebook):
    path, nb = notebook
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: widget state is saved"


def test_course_structure(notebook):
    path, nb = notebook
    problems = notebook_toc_problems(nb)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
    first = "".join(nb["cells"][0]["source"])
    assert first.startswith("# Лекция 6"), f"{path.name}: the first cell is the title"
    headings = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for section in ("## Итоги", "## Упражнения"):
        if not path.name.startswith("00_"):
            assert section in headings, f"{path.name}: no section {section!r}"


def test_slide_and_kernel_metadata(notebook):
    path, nb = notebook
    meta = nb.get("metadata", {})
    assert meta.get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernelspec"
    rise = meta.get("rise", {})
    assert rise.get("header") and rise.get("footer"), f"{path.name}: RISE header/footer"


def test_first_code_cell_loads_the_style(notebook):
    path, nb = notebook
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and "load_style()" in "".join(code[0]["source"]), (
        f"{path.name}: the first code cell should end with load_style()"
    )
