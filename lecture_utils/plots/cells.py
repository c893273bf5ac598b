"""Figures of notebook 06: LSTM and GRU structure diagrams, gate heatmaps, variant comparisons.

Every function returns a ``matplotlib.figure.Figure`` and changes no global style.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

GATE_COLORS = {
    "sigma": "#f2c14e",  # gates (sigmoid)
    "tanh": "#7fb3d5",  # candidate / squashing
    "op": "#ffffff",  # pointwise operations
}
GATE_TITLES = {
    "i": "i_t: входной гейт",
    "f": "f_t: забывающий гейт",
    "g": "c′_t: кандидат",
    "o": "o_t: выходной гейт",
    "c": "c_t: память",
    "r": "r_t: гейт сброса",
    "z": "z_t: гейт обновления",
    "n": "n_t: кандидат",
    "h": "h_t: скрытое состояние",
}


# ----------------------------------------------------------------------------- drawing primitives
def _box(ax, x, y, text, color, w=0.9, h=0.6, label=None):
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.1",
            fc=color,
            ec="#333333",
            lw=1.2,
            zorder=3,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=13, zorder=4)
    if label:  # the gate's name, top left of the block
        ax.text(x - w / 2 - 0.05, y + h / 2, label, ha="right", va="bottom", fontsize=12)


def _op(ax, x, y, text, r=0.25):
    ax.add_patch(Circle((x, y), r, fc=GATE_COLORS["op"], ec="#333333", lw=1.2, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=12, zorder=4)


def _path(ax, points, arrow=True, color="#333333", lw=1.5):
    """A polyline through ``points``; the last segment ends with an arrow head."""
    pts = np.asarray(points, dtype=float)
    if len(pts) > 2:
        ax.plot(pts[:-1, 0], pts[:-1, 1], color=color, lw=lw, zorder=1, solid_capstyle="round")
    style = "-|>" if arrow else "-"
    ax.add_patch(
        FancyArrowPatch(
            tuple(pts[-2]), tuple(pts[-1]), arrowstyle=style, mutation_scale=12, color=color, lw=lw
        )
    )


def _canvas(title: str, figsize=(9, 4.5)):
    fig, ax = plt.subplots(figsize=figsize)
    ax.set_xlim(-0.6, 10.6)
    ax.set_ylim(-0.6, 5.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=13)
    ax.add_patch(
        FancyBboxPatch(
            (0.6, 0.35),
            8.8,
            4.1,
            boxstyle="round,pad=0.05,rounding_size=0.3",
            fc="#f5f5f5",
            ec="#999999",
            lw=1,
            zorder=0,
        )
    )
    return fig, ax


# ----------------------------------------------------------------------------- structure diagrams
def lstm_diagram():
    """The LSTM cell: the memory line c on top, four gate blocks below, pointwise × and +.

    Yellow blocks are sigmoids (gates in [0, 1]), blue ones tanh. Read the top line: the old memory
    is scaled by f_t, the candidate c′_t scaled by i_t is added, nothing else touches c.
    """
    fig, ax = _canvas("Ячейка LSTM: память $c_t$ идёт по верхней линии")
    yc, yg, yh = 4.0, 2.0, 0.8  # heights of the memory line, the gates and the h line
    xf, xi, xg, xo = 2.2, 3.6, 4.9, 6.4
    # inputs: h_{t-1} along the bottom, x_t joins it; the bus feeds every gate
    ax.text(0.1, yh + 0.1, "$h_{t-1}$", ha="right", va="bottom", fontsize=13)
    ax.text(1.5, -0.45, "$x_t$", ha="center", va="center", fontsize=13)
    _path(ax, [(-0.3, yh), (1.5, yh)], arrow=False)
    _path(ax, [(1.5, -0.25), (1.5, yh)], arrow=False)
    ax.plot([1.5, xo], [yh, yh], color="#333333", lw=1.5, zorder=1)
    ax.text(2.4, yh - 0.3, "$[h_{t-1}, x_t]$", fontsize=9, color="#444444")
    for x in (xf, xi, xg, xo):
        _path(ax, [(x, yh), (x, yg - 0.3)])
    _box(ax, xf, yg, "σ", GATE_COLORS["sigma"], label="$f_t$")
    _box(ax, xi, yg, "σ", GATE_COLORS["sigma"], label="$i_t$")
    _box(ax, xg, yg, "tanh", GATE_COLORS["tanh"], label="$c'_t$")
    _box(ax, xo, yg, "σ", GATE_COLORS["sigma"], label="$o_t$")
    # memory line: c_{t-1} -> × f -> + (i × c') -> c_t
    ax.text(0.1, yc + 0.1, "$c_{t-1}$", ha="right", va="bottom", fontsize=13)
    _path(ax, [(-0.3, yc), (xf - 0.25, yc)])
    _op(ax, xf, yc, "×")
    _path(ax, [(xf, yg + 0.3), (xf, yc - 0.25)])
    x_plus = 4.25
    _path(ax, [(xf + 0.25, yc), (x_plus - 0.25, yc)])
    _op(ax, x_plus, yc, "+")
    _op(ax, x_plus, 3.0, "×")
    _path(ax, [(xi, yg + 0.3), (xi, 3.0), (x_plus - 0.25, 3.0)])
    _path(ax, [(xg, yg + 0.3), (xg, 3.0), (x_plus + 0.25, 3.0)])
    _path(ax, [(x_plus, 3.25), (x_plus, yc - 0.25)])
    _path(ax, [(x_plus + 0.25, yc), (10.0, yc)])
    ax.text(10.05, yc + 0.1, "$c_t$", ha="left", va="bottom", fontsize=13)
    # output: h_t = o_t × tanh(c_t)
    x_out = 7.7
    _box(ax, x_out, 3.2, "tanh", GATE_COLORS["tanh"], w=0.8, h=0.45)
    _path(ax, [(x_out, yc), (x_out, 3.2 + 0.23)])
    _op(ax, x_out, yg, "×")
    _path(ax, [(x_out, 3.2 - 0.23), (x_out, yg + 0.25)])
    _path(ax, [(xo + 0.45, yg), (x_out - 0.25, yg)])
    _path(ax, [(x_out + 0.25, yg), (8.6, yg), (8.6, yh), (10.0, yh)])
    ax.text(10.05, yh + 0.1, "$h_t$", ha="left", va="bottom", fontsize=13)
    ax.text(
        5.0,
        4.75,
        r"$c_t = f_t \odot c_{t-1} + i_t \odot c'_t,\quad h_t = o_t \odot \tanh(c_t)$",
        ha="center",
        fontsize=12,
    )
    return fig


def gru_diagram():
    """The GRU cell: one state h; z_t mixes the old h and the candidate n_t, r_t resets.

    As in torch, r_t multiplies the recurrent part (W_hn h_{t−1} + b_hn) inside the candidate.
    """
    fig, ax = _canvas("Ячейка GRU: $h_t$ одновременно и память, и выход")
    ytop, yg, ybus = 4.0, 2.0, 0.8
    xz, xr, xmul, xn = 2.3, 3.9, 5.2, 6.5
    ax.text(0.1, ytop + 0.1, "$h_{t-1}$", ha="right", va="bottom", fontsize=13)
    ax.text(1.4, -0.45, "$x_t$", ha="center", va="center", fontsize=13)
    # h_{t-1} runs along the top and down into the bus that feeds the gates
    _path(ax, [(-0.3, ytop), (1.0, ytop), (1.0, ybus)], arrow=False)
    _path(ax, [(1.4, -0.25), (1.4, ybus)], arrow=False)
    ax.plot([1.0, xn + 0.2], [ybus, ybus], color="#333333", lw=1.5, zorder=1)
    for x in (xz, xr):
        _path(ax, [(x, ybus), (x, yg - 0.3)])
    _box(ax, xz, yg, "σ", GATE_COLORS["sigma"], label="$z_t$")
    _box(ax, xr, yg, "σ", GATE_COLORS["sigma"], label="$r_t$")
    # candidate n_t = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)): r scales the recurrent part
    _op(ax, xmul, yg, "×")
    _path(ax, [(xr + 0.45, yg), (xmul - 0.25, yg)])
    _path(ax, [(xmul, ybus), (xmul, yg - 0.25)])
    ax.text(xmul - 0.1, 1.25, "$W_{hn}h+b_{hn}$", fontsize=8, color="#444444", ha="right")
    _path(ax, [(xmul + 0.25, yg), (xn - 0.5, yg)])
    _path(ax, [(xn + 0.2, ybus), (xn + 0.2, yg - 0.3)])
    ax.text(xn + 0.3, 1.25, "$W_{in}x+b_{in}$", fontsize=8, color="#444444")
    _box(ax, xn, yg, "tanh", GATE_COLORS["tanh"], w=1.0, label="$n_t$")
    # top line: z ⊙ h_{t-1} + (1 - z) ⊙ n_t
    _path(ax, [(1.0, ytop), (xz - 0.25, ytop)])
    _op(ax, xz, ytop, "×")
    _path(ax, [(xz, yg + 0.3), (xz, ytop - 0.25)])
    x_one = 4.6
    _op(ax, x_one, 3.0, "1−")
    _path(ax, [(xz, 3.0), (x_one - 0.25, 3.0)])
    _op(ax, xn, 3.0, "×")
    _path(ax, [(x_one + 0.25, 3.0), (xn - 0.25, 3.0)])
    _path(ax, [(xn, yg + 0.3), (xn, 3.0 - 0.25)])
    x_plus = 7.8
    _path(ax, [(xz + 0.25, ytop), (x_plus - 0.25, ytop)])
    _op(ax, x_plus, ytop, "+")
    _path(ax, [(xn + 0.25, 3.0), (x_plus, 3.0), (x_plus, ytop - 0.25)])
    _path(ax, [(x_plus + 0.25, ytop), (10.0, ytop)])
    ax.text(10.05, ytop + 0.1, "$h_t$", ha="left", va="bottom", fontsize=13)
    ax.text(
        5.0,
        4.75,
        r"$h_t = z_t \odot h_{t-1} + (1 - z_t) \odot n_t$",
        ha="center",
        fontsize=12,
    )
    return fig


# ----------------------------------------------------------------------------- gates
def gate_heatmaps(
    gates: Mapping[str, np.ndarray],
    tokens: Sequence[str],
    names: Sequence[str] = ("i", "f", "o", "c"),
    units: Sequence[int] | None = None,
    title: str = "Активации гейтов по шагам",
    figsize=(11, 4.5),
):
    """Heatmaps (units × time steps) of gate activations for one sequence.

    ``gates[name]`` is an array or tensor ``(T, H)`` (one sequence, e.g. ``unroll(..., True)[2]``
    with the batch axis removed); ``tokens`` labels the T steps; ``units`` picks and orders rows.
    Gates in [0, 1] use one colour scale; ``c``, ``g``, ``n``, ``h`` use a diverging one.
    """
    if not names:
        raise ValueError("names must list at least one gate")
    missing = [n for n in names if n not in gates]
    if missing:
        raise KeyError(f"no activations for {missing}; available: {sorted(gates)}")
    arrays = {n: np.asarray(_to_numpy(gates[n]), dtype=float) for n in names}
    T = arrays[names[0]].shape[0]
    if len(tokens) != T:
        raise ValueError(f"{len(tokens)} tokens for {T} time steps")
    rows = list(range(arrays[names[0]].shape[1])) if units is None else list(units)
    fig, axes = plt.subplots(1, len(names), figsize=figsize, sharey=True, squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        data = arrays[name][:, rows].T  # (units, T)
        if name in ("i", "f", "o", "r", "z"):
            im = ax.imshow(data, aspect="auto", cmap="viridis", vmin=0, vmax=1)
        else:
            lim = max(float(np.abs(data).max()), 1e-6)
            im = ax.imshow(data, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_xticks(range(T))
        ax.set_xticklabels(tokens, fontsize=10)
        ax.set_title(GATE_TITLES.get(name, name), fontsize=10)
        ax.set_xlabel("символ на входе")
        fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
    axes[0][0].set_ylabel("нейрон (номер)")
    axes[0][0].set_yticks(range(len(rows)))
    axes[0][0].set_yticklabels([str(r) for r in rows], fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _to_numpy(x):
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


# ----------------------------------------------------------------------------- experiments
def _smooth(values: Sequence[float], window: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if window <= 1 or len(v) < window:
        return v
    return np.convolve(v, np.ones(window) / window, mode="valid")


def gradient_distance_plot(curves: Mapping[str, np.ndarray], title: str | None = None):
    """‖∂(Σh_T)/∂x_t‖ against the distance T−1−t, log scale, one line per label."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for label, curve in curves.items():
        g = np.asarray(_to_numpy(curve), dtype=float)[::-1]  # index = distance to the end
        ax.semilogy(np.arange(len(g)), np.maximum(g, 1e-30), label=label, lw=2)
    ax.set_xlabel("расстояние до последнего шага, T − 1 − t")
    ax.set_ylabel("‖∂(Σ h_T) / ∂x_t‖ (лог. шкала)")
    ax.set_title(title or "Сколько сигнала от шага t доходит до конца (до обучения)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def loss_curves(runs: Sequence, title: str, window: int = 20, chance: float | None = None):
    """Training loss (moving mean over ``window`` steps) of several ``cells.MemoryRun``s."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for run in runs:
        y = _smooth(run.loss, window)
        x = np.arange(len(y)) + (window - 1 if len(run.loss) >= window else 0)
        ax.plot(x, y, lw=2, label=f"{run.name} (точность {run.accuracy:.0%})")
    if chance is not None:
        ax.axhline(chance, color="gray", ls="--", lw=1, label=f"угадывание: ln 8 ≈ {chance:.2f}")
    ax.set_yscale("log")
    ax.set_xlabel("шаг обучения")
    ax.set_ylabel(f"кросс-энтропия (среднее за {window} шагов)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def variant_bars(runs: Sequence, title: str = "Варианты: точность, время и число параметров"):
    """Three horizontal bar panels: held-out accuracy, training seconds, parameters per run."""
    names = [r.name for r in runs]
    y = np.arange(len(runs))
    fig, axes = plt.subplots(1, 3, figsize=(11, 4.5), sharey=True)
    panels = [
        ([r.accuracy for r in runs], "точность на отложенных", "{:.0%}"),
        ([r.seconds for r in runs], "время обучения, с", "{:.1f}"),
        ([r.n_params for r in runs], "параметров (ячейка + выходной слой)", "{:d}"),
    ]
    for ax, (values, label, fmt) in zip(axes, panels, strict=True):
        ax.barh(y, values, color="#7fb3d5", edgecolor="#333333")
        for yi, v in zip(y, values, strict=True):
            ax.text(v, yi, " " + fmt.format(v), va="center", fontsize=9)
        ax.set_xlabel(label)
        ax.set_xlim(0, max(values) * 1.35 if max(values) > 0 else 1)
        ax.grid(True, axis="x", alpha=0.3)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(names)
    axes[0].invert_yaxis()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def unit_traces(
    panels: Sequence[tuple[str, Mapping[str, Sequence[float]]]],
    ylabel: str = "значение",
    colors: Mapping[str, str] | None = None,
    title: str | None = None,
):
    """Side-by-side panels of one neuron's value over the steps of several sequences.

    ``panels`` is a list of ``(panel title, {sequence label: values (T,)})``; the x axis is the step
    (0 is the first input). ``colors`` maps a label to a colour (default: matplotlib's cycle).
    """
    if not panels:
        raise ValueError("unit_traces needs at least one panel")
    fig, axes = plt.subplots(1, len(panels), figsize=(11, 4.5), squeeze=False)
    for ax, (panel_title, series) in zip(axes[0], panels, strict=True):
        for label, values in series.items():
            v = np.asarray(_to_numpy(values), dtype=float)
            color = colors.get(label) if colors else None
            ax.plot(np.arange(len(v)), v, marker="o", ms=3, lw=1.5, label=label, color=color)
        ax.set_title(panel_title, fontsize=11)
        ax.set_xlabel("шаг (номер символа)")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
