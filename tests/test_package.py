"""The package as a whole: imports have no side effects; every public function is documented."""

import importlib
import inspect
import pkgutil
import subprocess
import sys
import textwrap

import pytest

import lecture_utils


def _module_names():
    names = []
    for info in pkgutil.walk_packages(lecture_utils.__path__, prefix="lecture_utils."):
        names.append(info.name)
    return sorted(names)


MODULES = _module_names()


def test_importing_every_module_has_no_side_effects(tmp_path):
    """Random states, matplotlib settings and the data cache are untouched by imports."""
    script = textwrap.dedent(
        f"""
        import os, random
        import numpy as np, torch, matplotlib
        os.environ["LECTURE_DATA_DIR"] = {str(tmp_path)!r}
        random.seed(1); np.random.seed(1); torch.manual_seed(1)
        before = (random.getstate(), np.random.get_state()[1].tolist(),
                  torch.get_rng_state().tolist(), dict(matplotlib.rcParams))
        import importlib
        for name in {MODULES!r}:
            importlib.import_module(name)
        after = (random.getstate(), np.random.get_state()[1].tolist(),
                 torch.get_rng_state().tolist(), dict(matplotlib.rcParams))
        for label, b, a in zip(("random", "numpy", "torch", "rcParams"), before, after):
            assert b == a, label + " changed on import"
        assert os.listdir({str(tmp_path)!r}) == [], "import wrote into the data cache"
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


@pytest.mark.parametrize("name", MODULES)
def test_public_functions_and_classes_have_docstrings(name):
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no module docstring"
    missing = []
    for attr, obj in vars(module).items():
        if attr.startswith("_") or getattr(obj, "__module__", None) != name:
            continue
        if inspect.isfunction(obj) or inspect.isclass(obj):
            if not inspect.getdoc(obj):
                missing.append(attr)
    assert not missing, f"{name}: no docstring on {missing}"
