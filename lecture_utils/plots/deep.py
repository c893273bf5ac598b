"""Figures for stacked and bidirectional RNNs (05_deep_and_bidirectional).

Every function returns the matplotlib ``Figure``. Colours follow ``plots.diagrams``: inputs red,
hidden states green, outputs blue; the backward direction of a bidirectional network is purple.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, Rectangle

from lecture_utils.plots.diagrams import INPUT_COLOR, OUTPUT_COLOR, STATE_COLOR

BACKWARD_COLOR = "#8e7cc3"
UNI_COLOR = "#5b8dd6"
BI_COLOR = "#e69138"


def _box(ax, x, y, color, label="", w=0.7, h=0.5, fontsize=9):
    ax.add_patch(Rectangle((x - w / 2, y - h / 2), w, h, facecolor=color, edgecolor="black", lw=1))
    if label:
        ax.text(x, y, label, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, color="black", rad=0.0):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=10,
            lw=1.1,
            color=color,
            connectionstyle=f"arc3,rad={rad}",
        )
    )


def architectures(steps: int = 4, layers: int = 3, figsize=(11, 4.5)):
    """Two unrolled networks side by side: a stack of ``layers`` RNNs and a bidirectional RNN.

    Left: layer ``l`` at step ``t`` reads layer ``l-1`` at the same step and its own state at
    ``t-1``. Right: one RNN reads left to right (green), an independent one right to left (purple);
    the output at step ``t`` sees both states, i.e. the whole sequence.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=figsize)
    dx, dy = 1.3, 1.0
    for t in range(steps):
        x = t * dx
        _box(ax1, x, 0, INPUT_COLOR, f"$x_{t + 1}$")
        for layer in range(1, layers + 1):
            _box(ax1, x, layer * dy, STATE_COLOR, f"$h^{{({layer})}}_{t + 1}$")
            _arrow(ax1, (x, (layer - 1) * dy + 0.25), (x, layer * dy - 0.25))
            if t:
                _arrow(ax1, (x - dx + 0.35, layer * dy), (x - 0.35, layer * dy))
        _box(ax1, x, (layers + 1) * dy, OUTPUT_COLOR, f"$y_{t + 1}$")
        _arrow(ax1, (x, layers * dy + 0.25), (x, (layers + 1) * dy - 0.25))
    for layer in range(1, layers + 1):
        ax1.text(-0.75, layer * dy, f"слой {layer}", ha="right", va="center", fontsize=9)
    ax1.set_title(f"Многослойная RNN ({layers} слоя):\nвыход слоя — вход следующего", fontsize=11)

    w = 0.5  # narrower boxes: the two directions stand side by side, staggered in height
    for t in range(steps):
        x = t * dx
        _box(ax2, x, 0, INPUT_COLOR, f"$x_{t + 1}$", w=w)
        _box(ax2, x - 0.3, 1.0, STATE_COLOR, f"$\\overrightarrow{{h}}_{t + 1}$", w=w)
        _box(ax2, x + 0.3, 2.0, BACKWARD_COLOR, f"$\\overleftarrow{{h}}_{t + 1}$", w=w)
        _box(ax2, x, 3.0, OUTPUT_COLOR, f"$y_{t + 1}$", w=w)
        _arrow(ax2, (x - 0.1, 0.25), (x - 0.3, 0.75))
        _arrow(ax2, (x + 0.1, 0.25), (x + 0.3, 1.75))
        _arrow(ax2, (x - 0.3, 1.25), (x - 0.1, 2.75))
        _arrow(ax2, (x + 0.3, 2.25), (x + 0.1, 2.75))
        if t:
            _arrow(ax2, (x - dx - 0.05, 1.0), (x - 0.55, 1.0), color=STATE_COLOR)
            _arrow(ax2, (x + 0.05, 2.0), (x - dx + 0.55, 2.0), color=BACKWARD_COLOR)
    ax2.text(-0.75, 1.0, "вперёд →", ha="right", va="center", fontsize=9, color="darkgreen")
    ax2.text(-0.75, 2.0, "← назад", ha="right", va="center", fontsize=9, color="indigo")
    ax2.set_title("Двунаправленная RNN:\nдве независимые RNN, их состояния склеены", fontsize=11)
    for ax in (ax1, ax2):
        ax.set_xlim(-1.9, (steps - 1) * dx + 0.6)
        ax.set_ylim(-0.5, max(layers + 1, 3.2) + 0.5)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.tight_layout()
    return fig


def curves_and_time(
    results: Mapping[str, object],
    metric: str = "val_loss",
    ylabel: str = "потери на валидации, нат",
    title: str = "",
    time_attr: str = "cpu_seconds",
    figsize=(10, 4.5),
):
    """Left: ``metric`` per epoch for each run; right: each run's training time (bars).

    ``results`` maps a label to an object with the list attribute ``metric`` and the time
    attribute ``time_attr`` (a ``taggers.TrainResult``: ``"cpu_seconds"``, the default, is steadier
    than the wall-clock ``"seconds"`` when other programs share the processor).
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1.6, 1]})
    labels = list(results)
    colors = plt.cm.viridis(np.linspace(0.05, 0.85, len(labels)))
    for label, color in zip(labels, colors, strict=True):
        values = getattr(results[label], metric)
        ax1.plot(range(1, len(values) + 1), values, marker="o", color=color, label=label)
    ax1.set_xlabel("эпоха")
    ax1.set_ylabel(ylabel)
    ax1.set_title(title or "Качество по эпохам")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=9)
    seconds = [getattr(results[label], time_attr) for label in labels]
    ax2.barh(range(len(labels)), seconds, color=colors)
    ax2.set_yticks(range(len(labels)), labels, fontsize=9)
    ax2.invert_yaxis()
    ax2.set_xlabel("процессорное время, с" if time_attr == "cpu_seconds" else "время обучения, с")
    ax2.set_title("Время обучения")
    ax2.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def layer_states(
    states: Sequence, chars: str, rates: Sequence[float] | None = None, figsize=(11, 5.5)
):
    """Heat maps of every layer's hidden state along a text: one panel per layer.

    ``states``: a list of (T, H) arrays/tensors (one per layer); ``chars``: the T characters
    (shown on the x axis); ``rates``: optional change rate per layer (``taggers.change_rate``).
    """
    n = len(states)
    fig, axes = plt.subplots(n, 1, figsize=figsize, sharex=True, squeeze=False)
    for i, (ax, s) in enumerate(zip(axes[:, 0], states, strict=True)):
        s = np.asarray(s)
        im = ax.imshow(s.T, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        label = f"слой {i + 1}"
        if rates is not None:
            label += f"\nскорость {rates[i]:.2f}"
        ax.set_ylabel(label, fontsize=9)
        ax.set_yticks([])
    axes[-1, 0].set_xticks(range(len(chars)), list(chars), fontsize=8)
    axes[-1, 0].set_xlabel("буква входа (время →)")
    axes[0, 0].set_title("Скрытые состояния каждого слоя (строка — нейрон, цвет — значение)")
    fig.colorbar(im, ax=axes[:, 0], shrink=0.8, label="значение нейрона")
    return fig


def accuracy_bars(
    table: Mapping[str, Sequence[float]],
    chance: float | None = None,
    title: str = "",
    ylabel: str = "доля верных ответов на валидации",
    figsize=(8, 4.5),
):
    """Bar per model (mean over runs) with each run as a dot; optional dashed chance level.

    ``table`` maps a label to the accuracies of its runs (seeds).
    """
    fig, ax = plt.subplots(figsize=figsize)
    labels = list(table)
    means = [float(np.mean(table[k])) for k in labels]
    colors = [
        BI_COLOR if "двунаправ" in k.lower() or "bi" in k.lower() else UNI_COLOR for k in labels
    ]
    ax.bar(range(len(labels)), means, color=colors, alpha=0.8, label="среднее по запускам")
    for i, k in enumerate(labels):
        vals = np.asarray(table[k], dtype=float)
        ax.scatter(
            np.full(len(vals), i),
            vals,
            color="black",
            s=18,
            zorder=3,
            label="отдельный запуск" if i == 0 else None,
        )
        ax.text(i + 0.3, means[i], f"{means[i]:.3f}", ha="left", va="center", fontsize=10)
    if chance is not None:
        ax.axhline(chance, color="gray", ls="--", label=f"всегда самый частый ответ: {chance:.3f}")
    lowest = [min(map(min, table.values()))] + ([chance] if chance is not None else [])
    low = min(lowest)
    ax.set_ylim(max(0.0, low - 0.05), 1.01)
    ax.set_xlim(-0.6, len(labels) - 0.1)
    ax.set_xticks(range(len(labels)), labels, fontsize=9)
    ax.set_ylabel(ylabel)
    ax.set_title(title or "Точность на отложенных данных")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
    fig.tight_layout()
    return fig


def boundary_probabilities(
    letters: str, truth: Sequence[int], probs: Mapping[str, Sequence[float]], figsize=(11, 4.2)
):
    """Probability «a word ends after this letter» along a text, per model, with the true ends.

    ``letters``: T characters; ``truth``: T labels 0/1; ``probs``: label -> T probabilities.
    """
    fig, ax = plt.subplots(figsize=figsize)
    t = np.arange(len(letters))
    for x in t[np.asarray(truth) == 1]:
        ax.axvspan(x - 0.5, x + 0.5, color="#d9ead3", zorder=0)
    for (label, p), color in zip(probs.items(), [UNI_COLOR, BI_COLOR, "gray"], strict=False):
        ax.plot(t, p, marker="o", ms=3, color=color, label=label)
    ax.axhline(0.5, color="gray", lw=0.8, ls=":")
    ax.set_xticks(t, list(letters), fontsize=9)
    ax.set_xlim(-0.5, len(letters) - 0.5)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("буква (зелёным — настоящий конец слова)")
    ax.set_ylabel("P(после буквы конец слова)")
    ax.set_title("Где кончаются слова: предсказания двух сетей")
    ax.legend(fontsize=9, loc="upper right")
    fig.tight_layout()
    return fig


def influence(chars: str, position: int, values: Mapping[str, Sequence[float]], figsize=(10, 4.5)):
    """Bars of ‖∂ output_t / ∂ input_s‖ over input positions s for each model (``taggers.input_influence``).

    The output at ``position`` predicts the NEXT character, ``chars[position + 1]``, outlined red.
    """
    n = len(values)
    fig, axes = plt.subplots(n, 1, figsize=figsize, sharex=True, squeeze=False)
    t = np.arange(len(chars))
    for ax, (label, v), color in zip(
        axes[:, 0], values.items(), [UNI_COLOR, BI_COLOR], strict=False
    ):
        v = np.asarray(v, dtype=float)
        bars = ax.bar(t, v / max(v.max(), 1e-12), color=color, label=label)
        if position + 1 < len(chars):
            bars[position + 1].set_edgecolor("red")
            bars[position + 1].set_linewidth(2.5)
        ax.axvline(position + 0.5, color="black", ls="--", lw=1)
        ax.set_ylabel("влияние\n(доля от max)", fontsize=9)
        ax.legend(fontsize=9, loc="upper left")
        ax.grid(alpha=0.3, axis="y")
    axes[-1, 0].set_xticks(t, list(chars), fontsize=10)
    axes[-1, 0].set_xlabel(
        "входная буква s (пунктир — текущая позиция t, красная рамка — буква, которую надо угадать)"
    )
    axes[0, 0].set_title(f"От каких входов зависит предсказание на шаге t = {position}")
    fig.tight_layout()
    return fig
