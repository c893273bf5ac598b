"""Figures for the hand-made RNN (01_rnn_by_hand) and backpropagation through time (02_bptt).

Every function returns the matplotlib ``Figure``. Colours follow ``plots.diagrams``: inputs red,
hidden state green, outputs blue; the loss and the backward signal are drawn in dark orange.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from lecture_utils.plots.diagrams import INPUT_COLOR, OUTPUT_COLOR, STATE_COLOR

LOSS_COLOR = "#f6b26b"
BACKWARD_COLOR = "#cc4125"


def _node(ax, x, y, text, color, w=0.9, h=0.55):
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=color,
            edgecolor="black",
            lw=1,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=12)


def _arrow(ax, start, end, label=None, color="black", style="-|>", ls="-", rad=0.0, offset=(0, 0)):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle=style,
            mutation_scale=12,
            lw=1.3,
            color=color,
            linestyle=ls,
            connectionstyle=f"arc3,rad={rad}",
        )
    )
    if label:
        mx, my = (start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1]
        ax.text(mx, my, label, ha="center", va="center", fontsize=11, color=color)


def unrolled_rnn(steps: int = 4, backward: bool = False, folded: bool = True, figsize=(9, 4.5)):
    """The RNN folded (a cell with a loop through W) and unrolled over ``steps`` time steps.

    Each column is one step: ``x_t`` → (U) → ``s_t`` → (V) → ``o_t`` → ``L_t``; the state flows
    left to right through the same ``W``. With ``backward=True`` the losses are summed into L and
    dashed arrows show the gradient ``dL/ds_t`` travelling right to left (02_bptt).
    Introduced in 01_rnn_by_hand.
    """
    if not isinstance(steps, int) or not 1 <= steps <= 8:
        raise ValueError(f"steps must be an int between 1 and 8, got {steps!r}")
    fig, ax = plt.subplots(figsize=figsize)
    gap = 1.6
    x0 = 0.0
    top = 3.0 if backward else 2.0
    if folded:
        _node(ax, 0, 0, "$x_t$", INPUT_COLOR)
        _node(ax, 0, 1, "$s_t$", STATE_COLOR)
        _node(ax, 0, 2, "$o_t$", OUTPUT_COLOR)
        _arrow(ax, (0, 0.28), (0, 0.72), "U", offset=(0.2, 0))
        _arrow(ax, (0, 1.28), (0, 1.72), "V", offset=(0.2, 0))
        # the loop s_t -> s_t through W (a delay of one step)
        ax.annotate(
            "",
            xy=(0.45, 0.9),
            xytext=(0.45, 1.1),
            arrowprops=dict(
                arrowstyle="-|>",
                lw=1.3,
                color="black",
                connectionstyle="arc,angleA=0,armA=28,angleB=0,armB=28,rad=8",
            ),
        )
        ax.text(1.0, 1.3, "W", ha="center", va="center", fontsize=11)
        ax.text(1.55, 1.0, "=", ha="center", va="center", fontsize=22)
        x0 = 3.8
    for t in range(steps):
        x = x0 + t * gap
        name = f"{t + 1}"
        if steps >= 4 and t == steps - 2:
            name = "t"  # a generic step stands for the middle of a long sequence
        elif steps >= 4 and t == steps - 1:
            name = "T"
        sub = "{" + name + "}"
        _node(ax, x, 0, f"$x_{sub}$", INPUT_COLOR)
        _node(ax, x, 1, f"$s_{sub}$", STATE_COLOR)
        _node(ax, x, 2, f"$o_{sub}$", OUTPUT_COLOR)
        _arrow(ax, (x, 0.28), (x, 0.72), "U", offset=(0.2, 0))
        _arrow(ax, (x, 1.28), (x, 1.72), "V", offset=(0.2, 0))
        if backward:
            _node(ax, x, 3, f"$L_{sub}$", LOSS_COLOR, w=0.8)
            _arrow(ax, (x, 2.28), (x, 2.72))
        prev = (x - gap + 0.45, 1.0)
        if t == 0:
            _node(ax, x - gap, 1, "$s_0$", "#dddddd", w=0.7)
            prev = (x - gap + 0.35, 1.0)
        _arrow(ax, prev, (x - 0.45, 1.0), "W", offset=(0, 0.18))
        if backward:
            _arrow(
                ax,
                (x - 0.45, 0.8),
                (prev[0], 0.8),
                color=BACKWARD_COLOR,
                ls="--",
                label=r"$\partial L/\partial s$" if t == steps - 1 else None,
                offset=(0, -0.2),
            )
    right = x0 + (steps - 1) * gap
    if backward:
        ax.text(
            right + 0.8,
            3.0,
            r"$L=\sum_t L_t$",
            ha="left",
            va="center",
            fontsize=12,
            color=BACKWARD_COLOR,
        )
    ax.set_xlim(-0.7 if folded else x0 - gap - 0.6, right + (2.2 if backward else 0.8))
    ax.set_ylim(-0.6, top + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    title = "Развёртка RNN во времени: одни и те же U, W, V на каждом шаге"
    if backward:
        title = "Обратный проход по развёрнутой сети: градиент идёт справа налево через W"
    ax.set_title(title, fontsize=12)
    fig.tight_layout()
    return fig


def loss_curves(
    curves: Mapping[str, Sequence[float]],
    xlabel="эпоха",
    ylabel="потери",
    title="Кривая обучения",
    logy=False,
    figsize=(9, 4.5),
):
    """One line per named curve (e.g. ``{"обучение": [...], "валидация": [...]}``)."""
    if not curves:
        raise ValueError("curves is empty: pass at least one named sequence of values")
    fig, ax = plt.subplots(figsize=figsize)
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"curve {label!r} must be a non-empty 1-D sequence")
        ax.plot(
            np.arange(1, values.size + 1),
            values,
            marker="o" if values.size <= 30 else None,
            ms=3,
            label=label,
        )
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def step_contributions(
    norms: Mapping[str, Sequence[float]], title=None, distance: bool = False, figsize=(9, 4.5)
):
    """Norm of each time step's term of dL/dW, one line per named case, log scale.

    ``norms[label][t]`` is ``||da_t s_{t-1}^T||`` (from ``scratch.step_contributions``), t = 1..T.
    With ``distance=True`` the x axis is the distance ``T - t`` from the last step instead of t.
    Introduced in 02_bptt.
    """
    if not norms:
        raise ValueError("norms is empty: pass at least one named sequence of values")
    fig, ax = plt.subplots(figsize=figsize)
    for label, values in norms.items():
        values = np.asarray(values, dtype=float)
        steps = np.arange(1, values.size + 1)
        x = values.size - steps if distance else steps
        # an exact zero (e.g. the first step when s_0 = 0) has no place on a log axis: leave a gap
        ax.semilogy(x, np.where(values > 0, values, np.nan), marker="o", ms=3, label=label)
    ax.set_xlabel("расстояние от последнего шага, T − t" if distance else "шаг времени t")
    ax.set_ylabel(r"$\|\partial L/\partial a_t\; s_{t-1}^\top\|$")
    ax.set_title(title or "Сколько каждый шаг времени добавляет к градиенту по W")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig


def gradient_check_vs_eps(
    eps: Sequence[float],
    errors: Mapping[str, Sequence[float]],
    bound: float = 1e-7,
    figsize=(9, 4.5),
):
    """Relative error of numerical gradients against the step ``eps`` (log-log), with the bound."""
    fig, ax = plt.subplots(figsize=figsize)
    for label, values in errors.items():
        ax.loglog(eps, values, marker="o", label=label)
    ax.axhline(bound, color="grey", ls="--", label=f"порог {bound:g}")
    ax.set_xlabel("шаг eps")
    ax.set_ylabel("максимальная относительная ошибка")
    ax.set_title("Проверка градиента: слишком малый eps — шум округления, большой — ошибка формулы")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig


def truncation_error(
    windows: Sequence[int], errors: Mapping[str, Sequence[float]], figsize=(9, 4.5)
):
    """How far the truncated-BPTT gradient is from the full one, against the window length k."""
    fig, ax = plt.subplots(figsize=figsize)
    for label, values in errors.items():
        values = np.asarray(values, dtype=float)
        # no truncation (k >= T) gives exactly zero, which a log axis cannot show: leave it out
        ax.semilogy(windows, np.where(values > 0, values, np.nan), marker="o", label=label)
    ax.set_xlabel("длина окна k (шагов назад, через которые идёт градиент)")
    ax.set_ylabel(r"$\|g_k - g\| / \|g\|$")
    ax.set_title("Усечённый BPTT: отличие от полного градиента")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig
