"""Interactive demos (ipywidgets) built from plain functions that work without a Jupyter kernel.

Introduced in 03_vanishing_exploding: sliders for σ_max, T, the nonlinearity and the input scale
redraw the gradient-norm plot live. Every piece is a normal function or method, so pytest can
drive the demo by setting slider values (observers run without a kernel) and inspect the figure.
"""

from __future__ import annotations

import base64
import io

import ipywidgets as widgets
from matplotlib.figure import Figure

from lecture_utils.gradients import (
    NONLINEARITIES,
    FlowConfig,
    FlowResult,
    decay_rate,
    gradient_flow,
)
from lecture_utils.plots.gradients import FIGSIZE, plot_gradient_flow


def flow_summary(result: FlowResult) -> str:
    """One line (HTML) with the numbers behind the plot: γ·σ_max, the measured factor per step,
    and the norm after all T steps."""
    c = result.config
    factor = decay_rate(result, skip=min(5, c.steps - 1))
    verdict = "затухает" if factor < 0.98 else ("растёт" if factor > 1.02 else "сохраняется")
    return (
        f"γ·σ_max = {result.gamma:.2f}·{result.sigma_max:.2f} = "
        f"<b>{result.gamma * result.sigma_max:.2f}</b>; "
        f"измеренный множитель за шаг ≈ <b>{factor:.3f}</b> (градиент {verdict}); "
        f"‖∂s_T/∂s_0‖ = {result.norms[-1]:.2e} при T = {c.steps}"
    )


def figure_output(figure: Figure, dpi: int = 80) -> dict:
    """The figure as one Jupyter ``display_data`` output (PNG), to put into an ``Output`` widget.

    Setting ``Output.outputs`` directly (instead of ``with output: display(...)``) keeps the demo
    independent of the running kernel, so it also works in tests and under ``nbconvert --execute``.
    """
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=dpi)
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    return {
        "output_type": "display_data",
        "data": {
            "image/png": png,
            "text/plain": f"<Figure {figure.bbox.width:.0f}x{figure.bbox.height:.0f}>",
        },
        "metadata": {},
    }


def draw_flow(
    figure: Figure,
    sigma: float = 1.0,
    steps: int = 50,
    nonlinearity: str = "tanh",
    input_scale: float = 0.5,
    *,
    hidden_size: int = 32,
    seed: int = 0,
) -> FlowResult:
    """Measure one RNN (see :func:`~lecture_utils.gradients.gradient_flow`) and redraw ``figure``.

    The y-axis range is fixed, so consecutive slider positions can be compared by eye.
    """
    cfg = FlowConfig(
        hidden_size=hidden_size,
        steps=int(steps),
        scale=float(sigma),
        nonlinearity=nonlinearity,
        input_scale=float(input_scale),
        seed=seed,
    )
    result = gradient_flow(cfg)
    figure.clear()
    ax = figure.subplots()
    plot_gradient_flow(
        [result],
        [f"{nonlinearity}, σ_max = {result.sigma_max:.2f}, T = {cfg.steps}"],
        ax=ax,
        title="Градиент через T шагов: измерение и граница Паскану",
    )
    return result


class GradientFlowDemo:
    """Sliders for σ_max, T, the nonlinearity and the input scale; the plot follows them.

    In a notebook: ``GradientFlowDemo().widget`` (the last line of a cell). In tests: set e.g.
    ``demo.sigma.value = 1.5`` and read ``demo.result`` / ``demo.figure``.
    """

    def __init__(
        self,
        sigma: float = 1.0,
        steps: int = 50,
        nonlinearity: str = "tanh",
        input_scale: float = 0.5,
        *,
        hidden_size: int = 32,
        seed: int = 0,
    ):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(
                f"unknown nonlinearity {nonlinearity!r}; choose one of {sorted(NONLINEARITIES)}"
            )
        self.hidden_size = hidden_size
        self.seed = seed
        style = {"description_width": "initial"}
        self.sigma = widgets.FloatSlider(
            value=sigma, min=0.5, max=20.0, step=0.05, description="σ_max(W)", style=style
        )
        self.steps = widgets.IntSlider(
            value=steps, min=5, max=200, step=5, description="T (шагов)", style=style
        )
        self.nonlinearity = widgets.ToggleButtons(
            options=list(NONLINEARITIES), value=nonlinearity, description="f:", style=style
        )
        self.input_scale = widgets.FloatSlider(
            value=input_scale, min=0.0, max=3.0, step=0.1, description="масштаб входа", style=style
        )
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        self.figure = Figure(figsize=FIGSIZE, layout="constrained")
        self.result: FlowResult | None = None
        self.n_updates = 0  # how many times the plot was redrawn (tests read it)
        for control in (self.sigma, self.steps, self.nonlinearity, self.input_scale):
            control.observe(self._on_change, names="value")
        self.update()

    def _on_change(self, change) -> None:
        self.update()

    def update(self) -> FlowResult:
        """Recompute with the current control values, redraw the figure and the summary."""
        self.result = draw_flow(
            self.figure,
            self.sigma.value,
            self.steps.value,
            self.nonlinearity.value,
            self.input_scale.value,
            hidden_size=self.hidden_size,
            seed=self.seed,
        )
        self.summary.value = flow_summary(self.result)
        self.n_updates += 1
        self.output.outputs = (figure_output(self.figure),)
        return self.result

    @property
    def widget(self) -> widgets.VBox:
        """The whole demo as one widget to display."""
        controls = widgets.VBox(
            [
                widgets.HBox([self.sigma, self.steps]),
                widgets.HBox([self.nonlinearity, self.input_scale]),
            ]
        )
        return widgets.VBox([controls, self.summary, self.output])
