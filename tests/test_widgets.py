"""Tests for lecture_utils.widgets: the gradient-flow demo, driven without a Jupyter kernel."""

import base64

import numpy as np
import pytest
from matplotlib.figure import Figure

from lecture_utils import widgets as Wd


def _measured_line(demo):
    return demo.figure.axes[0].get_lines()[0]


def test_draw_flow_redraws_the_figure():
    fig = Figure()
    r = Wd.draw_flow(fig, sigma=1.5, steps=20, nonlinearity="identity")
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() and ax.get_legend()
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), 1.5 ** np.arange(21), rtol=1e-8)
    Wd.draw_flow(fig, sigma=0.5, steps=10)
    assert len(fig.axes) == 1  # cleared, not stacked
    assert len(fig.axes[0].get_lines()[0].get_xdata()) == 11
    assert r.sigma_max == pytest.approx(1.5)


def test_slider_changes_update_plot_and_summary():
    demo = Wd.GradientFlowDemo(sigma=1.0, steps=30, nonlinearity="identity")
    assert demo.n_updates == 1
    np.testing.assert_allclose(_measured_line(demo).get_ydata(), 1.0, rtol=1e-8)
    demo.sigma.value = 1.2  # an observer fires, as it would in the browser
    assert demo.n_updates == 2
    assert demo.result.sigma_max == pytest.approx(1.2)
    np.testing.assert_allclose(_measured_line(demo).get_ydata(), 1.2 ** np.arange(31), rtol=1e-8)
    assert "растёт" in demo.summary.value and "1.20" in demo.summary.value
    demo.steps.value = 60
    assert len(_measured_line(demo).get_xdata()) == 61
    demo.nonlinearity.value = "tanh"
    demo.sigma.value = 0.7
    assert demo.result.config.nonlinearity == "tanh"
    assert "затухает" in demo.summary.value
    before = demo.result.derivs.mean()
    demo.input_scale.value = 2.5
    assert demo.result.derivs.mean() < before  # stronger input saturates tanh
    assert demo.n_updates == 6
    (out,) = demo.output.outputs  # the widget shows exactly the current picture
    assert out["output_type"] == "display_data"
    assert base64.b64decode(out["data"]["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"


def test_widget_tree_and_errors():
    demo = Wd.GradientFlowDemo(steps=10)
    box = demo.widget
    assert demo.output in box.children and demo.summary in box.children
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        Wd.GradientFlowDemo(nonlinearity="softplus")
