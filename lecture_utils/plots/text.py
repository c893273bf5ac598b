"""Figures for the text generator (notebook 07_text_generator); every function returns the Figure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def plot_word_frequencies(
    counts: Mapping[str, Counter], marks: Sequence[int] = (), figsize=(9, 4.5)
) -> Figure:
    """Rank-frequency (Zipf) plot and the share of tokens covered by the top-k types.

    ``counts``: tokenisation name -> ``Counter`` of its tokens. ``marks``: ranks to draw as
    vertical lines on the coverage panel (e.g. a vocabulary cap, adaptive-softmax cutoffs).
    """
    if not counts:
        raise ValueError("counts is empty: pass {name: Counter(tokens)}")
    fig, (ax_zipf, ax_cov) = plt.subplots(1, 2, figsize=figsize)
    for name, counter in counts.items():
        freqs = np.array(sorted(counter.values(), reverse=True), dtype=float)
        ranks = np.arange(1, len(freqs) + 1)
        ax_zipf.loglog(ranks, freqs, label=f"{name} ({len(freqs):,} типов)".replace(",", " "))
        ax_cov.semilogx(ranks, np.cumsum(freqs) / freqs.sum(), label=name)
    for rank in marks:
        ax_cov.axvline(rank, color="grey", linestyle=":", linewidth=1)
    if marks:
        ax_cov.plot([], [], color="grey", linestyle=":", label="границы словаря/кластеров")
    ax_zipf.set(xlabel="ранг слова", ylabel="частота", title="Закон Ципфа")
    ax_cov.set(
        xlabel="размер словаря (самые частые типы)",
        ylabel="доля покрытых токенов",
        title="Покрытие текста словарём",
        ylim=(0, 1.02),
    )
    for ax in (ax_zipf, ax_cov):
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_loss_curves(
    curves: Mapping[str, Sequence],
    x: str = "time",
    target: float | None = None,
    ylabel: str = "валидационная потеря, нат/токен",
    title: str = "Валидационная потеря против времени обучения",
    scale: float = 1.0,
    target_label: str = "цель",
    figsize=(9, 4.5),
) -> Figure:
    """Validation loss curves: ``curves`` maps a name to a list of ``text.CurvePoint``.

    ``x="time"`` (training seconds) or ``"tokens"`` (training tokens); ``target`` draws a
    horizontal line (e.g. the lecture's loss after one epoch); ``scale`` multiplies the losses
    (e.g. 1/ln 2 to show bits); ``target_label`` names the target line.
    """
    if x not in ("time", "tokens"):
        raise ValueError(f"x must be 'time' or 'tokens', got {x!r}")
    if not curves:
        raise ValueError("no curves to plot")
    fig, ax = plt.subplots(figsize=figsize)
    for name, points in curves.items():
        if not points:
            raise ValueError(f"curve {name!r} has no points: validate the run at least once")
        xs = [p.train_time if x == "time" else p.tokens for p in points]
        ax.plot(xs, [p.val_loss * scale for p in points], marker="o", markersize=3, label=name)
    if target is not None:
        ax.axhline(target, color="grey", linestyle="--", label=f"{target_label}: {target:.2f}")
    ax.set(
        xlabel="время обучения, с" if x == "time" else "обработано токенов обучения",
        ylabel=ylabel,
        title=title,
    )
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_connectivity(
    influences: Mapping[str, np.ndarray], max_distance: int | None = None, figsize=(9, 4.5)
) -> Figure:
    """How strongly each earlier character influences the next prediction, per model.

    ``influences``: model name -> array (T,) from ``text.gradient_connectivity`` (last entry =
    the character just read). Plotted against the distance back in time, on a log scale.
    """
    if not influences:
        raise ValueError("no models to plot")
    fig, ax = plt.subplots(figsize=figsize)
    for name, norms in influences.items():
        norms = np.asarray(norms, dtype=float)[::-1]  # distance 0 first
        if max_distance is not None:
            norms = norms[: max_distance + 1]
        ax.semilogy(np.arange(len(norms)), np.maximum(norms, 1e-8), label=name)
    ax.set(
        xlabel="сколько символов назад",
        ylabel="влияние на прогноз (норма градиента, max = 1)",
        title="Как далеко в прошлое «смотрит» сеть",
        ylim=(1e-6, 2),
    )
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
