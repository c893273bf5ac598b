import random

import numpy as np
import pytest
import torch

from lecture_utils import config


def draw():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_set_seed_makes_python_numpy_and_torch_repeat():
    config.set_seed(123)
    first = draw()
    config.set_seed(123)
    assert draw() == first
    config.set_seed(124)
    assert draw() != first


def test_set_seed_rejects_non_int():
    with pytest.raises(TypeError, match="seed must be an int"):
        config.set_seed("42")


def test_get_device_auto_and_cpu():
    assert config.get_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else None
    auto = config.get_device("auto")
    if expected:
        assert auto.type == "cuda"
    else:
        assert auto.type in ("mps", "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_get_device_unavailable_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CUDA was requested"):
        config.get_device("cuda")


def test_get_device_unknown_name():
    with pytest.raises(ValueError, match="unknown device"):
        config.get_device("tpu")


@pytest.mark.parametrize(
    "value, expected",
    [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("no", False)],
)
def test_quick_mode_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("LECTURE_QUICK", value)
    assert config.quick_mode() is expected
    assert config.pick(100, 5) == (5 if expected else 100)


def test_quick_mode_off_when_unset(monkeypatch):
    monkeypatch.delenv("LECTURE_QUICK", raising=False)
    assert config.quick_mode() is False
