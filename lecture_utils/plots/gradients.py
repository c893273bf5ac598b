"""Figures for 03_vanishing_exploding: gradient norms against distance, saturation, eigenvalues,
training curves with and without clipping, RNN vs LSTM memory. Every function returns the Figure.

Figures are built with ``matplotlib.figure.Figure`` (not pyplot), so making one changes no global
state; Jupyter displays a returned Figure as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lecture_utils.gradients import CellFlow, FlowResult, GradStats

FIGSIZE = (9, 4.5)


def _new_axes(ax: Axes | None, ncols: int = 1, figsize=FIGSIZE):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


def _floor(values: np.ndarray, floor: float = 1e-30) -> np.ndarray:
    """Zeros cannot be drawn on a log axis: show them at ``floor`` (far below anything visible)."""
    v = np.asarray(values, dtype=float)
    return np.where(v > floor, v, floor)


def plot_gradient_flow(
    results: Sequence[FlowResult],
    labels: Sequence[str] | None = None,
    *,
    show_bound: bool = True,
    ax: Axes | None = None,
    title: str = "Норма ∂s_T/∂s_t в зависимости от расстояния T − t",
    ylim: tuple[float, float] | None = (1e-12, 1e12),
) -> Figure:
    """Log-scale ``‖∂s_T/∂s_t‖`` against ``T−t`` for each result, its bound ``(γσ_max)^(T−t)`` dashed."""
    if not results:
        raise ValueError("plot_gradient_flow needs at least one FlowResult")
    labels = list(labels) if labels is not None else [r.label for r in results]
    if len(labels) != len(results):
        raise ValueError(f"got {len(labels)} labels for {len(results)} results")
    fig, ax = _new_axes(ax)
    for r, label in zip(results, labels, strict=True):
        # measured: a wide translucent band; bound: thin dashes on top, so both stay visible
        # even where they coincide (f = id with an orthogonal W)
        (line,) = ax.semilogy(r.distance, _floor(r.norms), lw=4, alpha=0.55, label=label)
        if show_bound:
            ax.semilogy(
                r.distance,
                _floor(r.bound),
                ls="--",
                lw=1.3,
                color=line.get_color(),
                zorder=3,
                label=f"граница (γσ_max)^(T−t) = {r.gamma * r.sigma_max:.2f}^(T−t)",
            )
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("расстояние назад во времени T − t (шагов)")
    ax.set_ylabel("‖∂s_T / ∂s_t‖₂ (лог. шкала)")
    ax.set_title(title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig


def plot_derivative_hist(
    derivs: Mapping[str, np.ndarray], *, ax: Axes | None = None, bins: int = 40
) -> Figure:
    """Histograms of f'(a_t) met on real hidden states, one per label (e.g. per input scale)."""
    if not derivs:
        raise ValueError("plot_derivative_hist needs at least one array")
    fig, ax = _new_axes(ax)
    edges = np.linspace(0, 1, bins + 1)
    for label, d in derivs.items():
        d = np.asarray(d).ravel()
        ax.hist(
            d, bins=edges, alpha=0.55, density=True, label=f"{label}: среднее f′ = {d.mean():.2f}"
        )
    ax.axvline(1.0, color="black", lw=1, ls="--", label="γ = max f′ = 1")
    ax.set_xlabel("f′(a_t) = 1 − tanh²(a_t)")
    ax.set_ylabel("плотность")
    ax.set_title("Насыщение tanh: распределение производной на реальных состояниях")
    ax.legend(fontsize=8)
    return fig


def plot_eigenvalues(matrices_eigs: Mapping[str, np.ndarray], *, ax: Axes | None = None) -> Figure:
    """Eigenvalues of recurrent matrices in the complex plane, with the unit circle."""
    if not matrices_eigs:
        raise ValueError("plot_eigenvalues needs at least one set of eigenvalues")
    fig = Figure(figsize=(6.5, 5.5), layout="constrained") if ax is None else ax.figure
    if ax is None:
        ax = fig.subplots()
    theta = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(theta), np.sin(theta), color="black", lw=1, ls="--", label="|λ| = 1")
    markers = "o^sDv"
    for k, (label, eig) in enumerate(matrices_eigs.items()):
        eig = np.asarray(eig)
        ax.scatter(
            eig.real,
            eig.imag,
            s=18,
            marker=markers[k % len(markers)],
            alpha=0.75,
            label=f"{label}: max|λ| = {np.abs(eig).max():.2f}",
        )
    ax.set_aspect("equal")
    ax.set_xlabel("Re λ")
    ax.set_ylabel("Im λ")
    ax.set_title("Собственные значения W на комплексной плоскости")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig


def plot_training_runs(runs: Mapping[str, GradStats], *, clip: float | None = None) -> Figure:
    """Two panels: the loss and the gradient norm per step (log scale) of each training run.

    A run that diverged is marked with a cross at its last step; ``clip`` draws the threshold.
    """
    if not runs:
        raise ValueError("plot_training_runs needs at least one run")
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax_loss, ax_norm = fig.subplots(1, 2)
    top = 1e4  # the loss axis stops here: a diverging run leaves the plot upwards
    for label, st in runs.items():
        steps = np.arange(1, len(st.loss) + 1)  # from 1: the step axis is logarithmic
        loss = np.asarray(st.loss, dtype=float)
        norm = np.asarray(st.grad_norm, dtype=float)
        finite = np.isfinite(loss)
        (line,) = ax_loss.loglog(steps[finite], loss[finite], lw=1, label=label)
        ok = np.isfinite(norm)
        ax_norm.loglog(steps[ok], norm[ok], lw=1, color=line.get_color(), label=label)
        if st.diverged_at is not None:
            ax_loss.plot(
                st.diverged_at + 1,
                top / 3,
                "x",
                ms=12,
                mew=3,
                color=line.get_color(),
                label=f"{label}: inf/NaN на шаге {st.diverged_at}",
            )
    ax_loss.set_ylim(None, top)
    ax_loss.axhline(1 / 6, color="grey", ls=":", label="ответ «всегда 1» (MSE ≈ 1/6)")
    if clip is not None:
        ax_norm.axhline(clip, color="black", ls="--", lw=1, label=f"порог отсечения = {clip:g}")
    ax_loss.set_xlabel("шаг обучения (лог. шкала)")
    ax_loss.set_ylabel("MSE на батче (лог. шкала)")
    ax_loss.set_title("Функция потерь")
    ax_norm.set_xlabel("шаг обучения (лог. шкала)")
    ax_norm.set_ylabel("‖∇L‖ до отсечения (лог. шкала)")
    ax_norm.set_title("Норма градиента")
    for a in (ax_loss, ax_norm):
        a.grid(True, alpha=0.3)
        a.legend(fontsize=8)
    return fig


def plot_memory_task(
    lengths: Sequence[int],
    scores: Mapping[str, Sequence[float]],
    *,
    baseline: float | None = 1 / 6,
    ylabel: str = "MSE на тесте (лог. шкала)",
    title: str = "Задача сложения: RNN против LSTM при росте длины T",
    log: bool = True,
) -> Figure:
    """Test score of each model (e.g. "RNN", "LSTM") against the sequence length or delay."""
    if not scores:
        raise ValueError("plot_memory_task needs at least one model's scores")
    fig, ax = _new_axes(None)
    for label, vals in scores.items():
        if len(vals) != len(lengths):
            raise ValueError(f"{label}: {len(vals)} scores for {len(lengths)} lengths")
        ax.plot(lengths, vals, "o-", lw=2, label=label)
    if baseline is not None:
        ax.axhline(baseline, color="grey", ls="--", label=f"без памяти (всегда 1): {baseline:.3f}")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("длина последовательности T (шагов)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9)
    return fig


def plot_cell_flows(
    flows: Mapping[str, CellFlow],
    *,
    show_forget_product: bool = False,
    title: str = "Как далеко назад доходит градиент",
    ax: Axes | None = None,
) -> Figure:
    """Relative gradient ``‖∂L/∂c_t‖ / ‖∂L/∂c_T‖`` (or the RNN's ``s_t``) against ``T−t``, log scale.

    ``show_forget_product`` adds the direct-path product ∏ f_k (dotted) for LSTM flows.
    """
    if not flows:
        raise ValueError("plot_cell_flows needs at least one flow")
    fig, ax = _new_axes(ax)
    for label, fl in flows.items():
        (line,) = ax.semilogy(fl.distance, _floor(fl.rel_grad), lw=2, label=label)
        if show_forget_product and fl.forget_product is not None:
            ax.semilogy(
                fl.distance,
                _floor(fl.forget_product),
                ls=":",
                lw=1.5,
                color=line.get_color(),
                label=f"{label}: среднее ∏ f_k",
            )
    ax.axhline(0.01, color="grey", ls="--", lw=1, label="1 % от исходного градиента")
    ax.set_ylim(1e-8, 3)
    ax.set_xlabel("расстояние назад во времени T − t (шагов)")
    ax.set_ylabel("‖∂L/∂c_t‖ / ‖∂L/∂c_T‖ (у RNN: s_t), лог. шкала")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig
