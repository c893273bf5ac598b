"""Drawings of the lecture's pictures that are not data plots (00_introduction).

Colours follow the usual convention for sequence diagrams: inputs red, hidden state green,
outputs blue; arrows are learnt functions (matrix products followed by a nonlinearity).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, Rectangle

INPUT_COLOR = "#e06666"
STATE_COLOR = "#6aa84f"
OUTPUT_COLOR = "#5b8dd6"

# Each pattern: (title, torch-style example, columns). A column is (has_input, has_output):
# the state row always exists; "many" patterns have several columns linked by the recurrence.
TASK_PATTERNS: list[tuple[str, str, list[tuple[bool, bool]]]] = [
    ("один → один", "классификация\nизображения", [(True, True)]),
    ("один → много", "подпись\nк картинке", [(True, True), (False, True), (False, True)]),
    ("много → один", "тональность\nотзыва", [(True, False), (True, False), (True, True)]),
    (
        "много → много",
        "машинный\nперевод",
        [(True, False), (True, False), (True, False), (False, True), (False, True)],
    ),
    (
        "синхронно\nмного → много",
        "разметка\nкаждого кадра",
        [(True, True), (True, True), (True, True)],
    ),
]


def _box(ax, x, y, color, size=0.6):
    ax.add_patch(
        Rectangle(
            (x - size / 2, y - size / 2), size, size, facecolor=color, edgecolor="black", lw=1
        )
    )


def _arrow(ax, start, end):
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, lw=1.2, color="black")
    )


def draw_pattern(ax, columns: list[tuple[bool, bool]], title: str = "", subtitle: str = "") -> None:
    """Draw one input/output pattern on ``ax``: a column per time step, state linked left to right."""
    gap = 1.2
    for t, (has_in, has_out) in enumerate(columns):
        x = t * gap
        _box(ax, x, 1.0, STATE_COLOR)
        if has_in:
            _box(ax, x, 0.0, INPUT_COLOR)
            _arrow(ax, (x, 0.3), (x, 0.7))
        if has_out:
            _box(ax, x, 2.0, OUTPUT_COLOR)
            _arrow(ax, (x, 1.3), (x, 1.7))
        if t > 0:
            _arrow(ax, (x - gap + 0.3, 1.0), (x - 0.3, 1.0))
    ax.set_xlim(-0.8, 5 * gap - 0.4)
    ax.set_ylim(-0.8, 3.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=11)
    if subtitle:
        ax.text(0.0, -0.75, subtitle, fontsize=9, va="top", ha="left", color="#444444")


def task_patterns(figsize=(13, 3.6)):
    """The five input/output patterns of sequence tasks side by side; returns the Figure."""
    fig, axes = plt.subplots(1, len(TASK_PATTERNS), figsize=figsize)
    for ax, (title, example, columns) in zip(axes, TASK_PATTERNS, strict=True):
        draw_pattern(ax, columns, title, example)
    handles = [
        Rectangle((0, 0), 1, 1, facecolor=c, edgecolor="black")
        for c in (INPUT_COLOR, STATE_COLOR, OUTPUT_COLOR)
    ]
    fig.legend(
        handles,
        ["вход x_t", "состояние s_t", "выход y_t"],
        loc="lower center",
        ncol=3,
        frameon=False,
    )
    fig.suptitle("Пять схем «вход → выход» для последовательностей", fontsize=13)
    fig.subplots_adjust(bottom=0.18, top=0.8, wspace=0.05)
    return fig
