"""Figures of notebook 04 (names generator): loss curves, model comparison, name lengths,
next-character distributions and the cost of generation.

Every function returns a ``matplotlib.figure.Figure`` and changes no global style.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

UNIT = "NLL, нат на предсказание"


def plot_loss_curves(
    curves: Mapping[str, Sequence[float]],
    title: str = "Кривые обучения",
    references: Mapping[str, float] | None = None,
    mark_best: Sequence[str] = (),
    figsize=(9, 4.5),
):
    """Loss per epoch for each named curve; ``references``: horizontal lines (e.g. the bigram);
    ``mark_best``: names of curves whose minimum is marked with a dot."""
    if not curves:
        raise ValueError("plot_loss_curves needs at least one curve")
    fig, ax = plt.subplots(figsize=figsize)
    for label, values in curves.items():
        epochs = np.arange(1, len(values) + 1)
        (line,) = ax.plot(epochs, values, label=label, lw=2)
        if label in mark_best and len(values):
            i = int(np.argmin(values))
            ax.plot(epochs[i], values[i], "o", color=line.get_color(), ms=8)
            ax.annotate(
                f"лучшая эпоха {i + 1}: {values[i]:.3f}",
                (epochs[i], values[i]),
                textcoords="offset points",
                xytext=(0, -18),
                ha="center",
                fontsize=10,
                color=line.get_color(),
            )
    for i, (label, value) in enumerate((references or {}).items()):
        ax.axhline(value, ls=("--", ":", "-.")[i % 3], lw=1.2, color="gray", label=label)
    ax.set_xlabel("эпоха")
    ax.set_ylabel(UNIT)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_model_comparison(
    losses: Mapping[str, float],
    goal: float | None = None,
    title: str = "Валидационная ошибка на одних и тех же предсказаниях",
    figsize=(9, 4.5),
):
    """Horizontal bars of validation losses (lower is better); ``goal``: a vertical dashed line."""
    if not losses:
        raise ValueError("plot_model_comparison needs at least one value")
    names, values = list(losses), [float(v) for v in losses.values()]
    fig, ax = plt.subplots(figsize=figsize)
    y = np.arange(len(names))
    bars = ax.barh(y, values, color=plt.cm.tab10(np.arange(len(names)) % 10))
    for bar, v in zip(bars, values, strict=True):
        ax.text(v, bar.get_y() + bar.get_height() / 2, f" {v:.3f}", va="center", fontsize=11)
    if goal is not None:
        ax.axvline(goal, ls="--", color="black", lw=1.2, label=f"цель: {goal:.3f}")
    ax.set_yticks(y, names)
    ax.set_ylabel("модель")
    ax.invert_yaxis()
    ax.set_xlabel(UNIT)
    ax.set_xlim(0, max(values + ([goal] if goal else [])) * 1.4)  # room for the labels and legend
    ax.set_title(title)
    if goal is not None:
        ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_length_distribution(
    real: Sequence[str],
    generated: Mapping[str, Sequence[str]],
    title: str = "Длина имён: настоящие и сгенерированные",
    figsize=(9, 4.5),
):
    """Share of names of each length: real names as bars, each generated set as a line."""
    if not real:
        raise ValueError("plot_length_distribution needs real names")
    sets = {"настоящие имена": real, **generated}
    max_len = max(max((len(s) for s in v), default=0) for v in sets.values())
    lengths = np.arange(0, max_len + 1)
    fig, ax = plt.subplots(figsize=figsize)
    counts = Counter(map(len, real))
    ax.bar(
        lengths,
        [counts[n] / len(real) for n in lengths],
        color="lightgray",
        label="настоящие имена",
    )
    for label, names in generated.items():
        if not names:
            continue
        c = Counter(map(len, names))
        ax.plot(lengths, [c[n] / len(names) for n in lengths], "o-", lw=2, label=label)
    ax.set_xlabel("длина имени, символов")
    ax.set_ylabel("доля имён")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_next_char_distribution(
    probs: Mapping[str, Sequence[float]],
    tokens: Sequence[str],
    top: int = 12,
    title: str = "Распределение следующего символа",
    figsize=(9, 4.5),
):
    """Grouped bars: the probability of the ``top`` most likely tokens (by the first distribution)
    under each named setting (e.g. temperatures)."""
    if not probs:
        raise ValueError("plot_next_char_distribution needs at least one distribution")
    arrays = {k: np.asarray(v, dtype=float) for k, v in probs.items()}
    first = next(iter(arrays.values()))
    order = np.argsort(-first)[:top]
    fig, ax = plt.subplots(figsize=figsize)
    width = 0.8 / len(arrays)
    x = np.arange(len(order))
    for i, (label, p) in enumerate(arrays.items()):
        ax.bar(x + (i - (len(arrays) - 1) / 2) * width, p[order], width, label=label)
    ax.set_xticks(x, [repr(tokens[j])[1:-1] if len(tokens[j]) == 1 else tokens[j] for j in order])
    ax.set_xlabel("следующий символ")
    ax.set_ylabel("вероятность")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_generation_cost(
    lengths: Sequence[int],
    seconds: Mapping[str, Sequence[float]],
    title: str = "Время генерации: состояние переносится или префикс пересчитывается",
    figsize=(9, 4.5),
):
    """Time to generate ``n`` characters (x) for each method (one line each)."""
    if not seconds:
        raise ValueError("plot_generation_cost needs at least one method")
    fig, ax = plt.subplots(figsize=figsize)
    for label, values in seconds.items():
        ax.plot(lengths, np.asarray(values) * 1000, "o-", lw=2, label=label)
    ax.set_xlabel("сгенерировано символов")
    ax.set_ylabel("время, мс")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
