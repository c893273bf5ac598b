"""Reproducibility and run settings: seeds, device choice, quick mode (introduced in 00_introduction)."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

QUICK_ENV = "LECTURE_QUICK"


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy and torch (CPU and every CUDA device) with ``seed``."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def get_device(prefer: str = "auto") -> torch.device:
    """Return the torch device to compute on.

    ``prefer="auto"`` picks CUDA, then Apple's MPS, then the CPU. An explicit ``"cuda"``, ``"mps"``
    or ``"cpu"`` is returned when available; an unavailable explicit choice raises ``RuntimeError``
    that says what to do instead.
    """
    prefer = str(prefer).lower()
    cuda_ok = torch.cuda.is_available()
    mps_ok = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if prefer == "auto":
        if cuda_ok:
            return torch.device("cuda")
        if mps_ok:
            return torch.device("mps")
        return torch.device("cpu")
    if prefer == "cpu":
        return torch.device("cpu")
    if prefer.startswith("cuda"):
        if not cuda_ok:
            raise RuntimeError(
                "CUDA was requested but torch sees no CUDA GPU on this machine; "
                "use get_device('auto') or get_device('cpu')."
            )
        return torch.device(prefer)
    if prefer == "mps":
        if not mps_ok:
            raise RuntimeError(
                "Apple MPS was requested but is not available here; "
                "use get_device('auto') or get_device('cpu')."
            )
        return torch.device("mps")
    raise ValueError(f"unknown device {prefer!r}: expected 'auto', 'cpu', 'cuda' or 'mps'")


def quick_mode() -> bool:
    """True when ``LECTURE_QUICK`` is set to a true value (``1``, ``true``, ``yes``, ``on``).

    Quick mode (set by ``make test``) only shortens training: fewer epochs, a smaller corpus slice.
    Every notebook cell still runs.
    """
    value = os.environ.get(QUICK_ENV, "").strip().lower()
    return value in {"1", "true", "yes", "on"}


def pick(full, quick):
    """Return ``quick`` in quick mode and ``full`` otherwise (e.g. ``epochs = pick(100, 5)``)."""
    return quick if quick_mode() else full
