"""Tests for lecture_utils.gradients and lecture_utils.plots.gradients (notebook 03)."""

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from lecture_utils import gradients as G
from lecture_utils.plots import gradients as P

# --- matrices ---------------------------------------------------------------------------------


@pytest.mark.parametrize("orthogonal", [False, True])
def test_scaled_matrix_sigma_and_radius(orthogonal):
    W = G.scaled_matrix(16, 1.7, orthogonal=orthogonal, seed=1)
    assert W.shape == (16, 16) and W.dtype == torch.float64
    assert G.sigma_max(W) == pytest.approx(1.7, rel=1e-10)
    R = G.scaled_matrix(16, 0.9, by="spectral_radius", orthogonal=orthogonal, seed=1)
    assert G.spectral_radius(R) == pytest.approx(0.9, rel=1e-8)
    assert G.spectral_radius(W) <= G.sigma_max(W) + 1e-12
    if orthogonal:  # all singular values equal
        sv = torch.linalg.svdvals(W)
        assert torch.allclose(sv, torch.full_like(sv, 1.7))
    else:  # a Gaussian matrix is not normal: its spectral radius is clearly below σ_max
        assert G.spectral_radius(W) < 0.8 * G.sigma_max(W)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hidden_size": 0, "value": 1.0},
        {"hidden_size": 4, "value": -1.0},
        {"hidden_size": 4, "value": math.inf},
        {"hidden_size": 4, "value": 1.0, "by": "norm"},
    ],
)
def test_scaled_matrix_bad_input(kwargs):
    with pytest.raises(ValueError):
        G.scaled_matrix(**kwargs)


def test_unknown_nonlinearity():
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        G.get_nonlinearity("gelu")


# --- Jacobian products against autograd --------------------------------------------------------


@pytest.mark.parametrize("nl", ["tanh", "relu", "identity", "sigmoid"])
def test_jacobian_products_equal_autograd(nl):
    H, T = 6, 9
    W = G.scaled_matrix(H, 1.3, seed=2, orthogonal=False)
    u = G.random_drive(T, H, 0.8, seed=2)
    s0 = 0.3 * torch.ones(H, dtype=torch.float64)
    pre, states = G.run_rnn(W, u, s0, nl)
    assert pre.shape == (T, H) and states.shape == (T + 1, H)
    J = G.jacobian_products(W, pre, nl)
    J_auto = G.autograd_jacobians(W, u, s0, nl)
    assert J.shape == J_auto.shape == (T + 1, H, H)
    assert torch.allclose(J, J_auto, atol=1e-12)
    assert torch.equal(J[T], torch.eye(H, dtype=torch.float64))
    # and the norms of ∂L/∂s_t (what BPTT computes) agree too
    v = torch.linspace(-1, 1, H, dtype=torch.float64)
    explicit, by_autograd = G.loss_grad_norms(W, u, s0, v, nl)
    assert torch.allclose(explicit, by_autograd, atol=1e-12)
    assert by_autograd[-1] == pytest.approx(float(v.norm()))


@pytest.mark.parametrize("nl", ["tanh", "relu", "identity", "sigmoid"])
@pytest.mark.parametrize("scale", [0.7, 1.0, 1.5])
@pytest.mark.parametrize("orthogonal", [False, True])
def test_bound_holds(nl, scale, orthogonal):
    r = G.gradient_flow(
        steps=40,
        hidden_size=16,
        scale=scale,
        nonlinearity=nl,
        orthogonal=orthogonal,
        input_scale=1.0,
    )
    assert r.norms.shape == r.bound.shape == (41,)
    assert np.all(r.norms <= r.bound * (1 + 1e-9) + 1e-300)
    assert r.norms[0] == pytest.approx(1.0)


@pytest.mark.parametrize("scale", [0.8, 1.0, 1.2])
def test_bound_is_exact_for_identity_with_orthogonal_w(scale):
    r = G.gradient_flow(steps=30, scale=scale, nonlinearity="identity", orthogonal=True)
    np.testing.assert_allclose(r.norms, scale ** np.arange(31), rtol=1e-8)
    assert G.decay_rate(r) == pytest.approx(scale, rel=1e-6)


def test_tanh_regimes_vanish_and_explode():
    below = G.gradient_flow(scale=0.8, steps=60)
    above = G.gradient_flow(scale=3.0, steps=60)
    assert below.norms[60] < 1e-6 and G.decay_rate(below) < 0.8
    assert above.norms[60] > 1e3 and G.decay_rate(above) > 1.1
    # saturation: with a larger input drive f' is smaller on average
    weak = G.gradient_flow(scale=1.0, input_scale=0.1)
    strong = G.gradient_flow(scale=1.0, input_scale=2.0)
    assert strong.derivs.mean() < 0.6 < 0.9 < weak.derivs.mean()
    assert strong.norms[30] < weak.norms[30]


def test_gradient_flow_overrides_and_errors():
    r = G.gradient_flow(G.FlowConfig(steps=10), nonlinearity="relu")
    assert r.config.steps == 10 and r.config.nonlinearity == "relu"
    assert r.eigenvalues.shape == (32,) and np.iscomplexobj(r.eigenvalues)
    assert "relu" in r.label
    with pytest.raises(TypeError, match="unknown FlowConfig fields"):
        G.gradient_flow(sigma=2.0)
    with pytest.raises(ValueError, match="steps"):
        G.gradient_flow(steps=0)


def test_bound_function():
    np.testing.assert_allclose(G.bound(0.25, 2.0, [0, 1, 3]), [1.0, 0.5, 0.125])


# --- clipping ---------------------------------------------------------------------------------


def _model_with_grads(seed=0, scale=1.0):
    torch.manual_seed(seed)
    m = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    (scale * m(torch.randn(4, 5)).pow(2).sum()).backward()
    return m


@pytest.mark.parametrize("max_norm", [1e-3, 0.5, 1e6])
def test_clip_by_hand_equals_torch(max_norm):
    a, b = _model_with_grads(scale=10.0), _model_with_grads(scale=10.0)
    n_hand = G.clip_grad_norm_by_hand(a.parameters(), max_norm)
    n_torch = torch.nn.utils.clip_grad_norm_(b.parameters(), max_norm)
    assert float(n_hand) == pytest.approx(float(n_torch), rel=1e-6)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.allclose(pa.grad, pb.grad, rtol=1e-6, atol=1e-9)
    after = torch.sqrt(sum((p.grad**2).sum() for p in a.parameters()))
    assert float(after) <= max_norm * (1 + 1e-5) or float(n_hand) <= max_norm


def test_clip_by_hand_keeps_direction_and_errors():
    m = _model_with_grads(scale=10.0)
    before = torch.cat([p.grad.flatten() for p in m.parameters()]).clone()
    G.clip_grad_norm_by_hand(m.parameters(), 0.1)
    after = torch.cat([p.grad.flatten() for p in m.parameters()])
    cos = torch.dot(before, after) / (before.norm() * after.norm())
    assert float(cos) == pytest.approx(1.0, abs=1e-6)
    assert float(after.norm()) == pytest.approx(0.1, rel=1e-4)
    with pytest.raises(ValueError, match="max_norm"):
        G.clip_grad_norm_by_hand(m.parameters(), 0.0)
    assert float(G.clip_grad_norm_by_hand(torch.nn.Linear(2, 2).parameters(), 1.0)) == 0.0


def test_training_explodes_without_clipping_and_not_with():
    cfg = G.ExplosionConfig(steps=150)
    assert G.sigma_max(G.make_exploding_rnn(cfg).rnn.weight_hh_l0.detach()) == pytest.approx(
        3.0, rel=1e-5
    )
    wild = G.train_with_grad_stats(cfg, clip=None)
    assert wild.diverged_at is not None and wild.diverged_at < 150
    assert not math.isfinite(wild.loss[-1]) or not math.isfinite(wild.grad_norm[-1])
    tamed = G.train_with_grad_stats(cfg, clip=1.0)
    assert tamed.diverged_at is None and len(tamed.loss) == 150
    assert all(math.isfinite(v) for v in tamed.loss)
    assert np.mean(tamed.loss[-30:]) < 0.5 * tamed.loss[0]
    by_hand = G.train_with_grad_stats(cfg, clip=1.0, clip_fn=G.clip_grad_norm_by_hand)
    # the same run; float32 sums in a different order drift apart a little over many steps
    np.testing.assert_allclose(by_hand.loss[:50], tamed.loss[:50], rtol=1e-4)
    np.testing.assert_allclose(by_hand.loss, tamed.loss, rtol=2e-2)
    by_value = G.train_with_grad_stats(cfg, clip=0.01, clip_fn=torch.nn.utils.clip_grad_value_)
    assert by_value.diverged_at is None and by_value.grad_norm[0] == tamed.grad_norm[0]
    s = tamed.summary()
    assert s["median"] <= s["p90"] <= s["max"] and s["final_loss"] == tamed.loss[-1]


# --- LSTM cell state and the forget bias ------------------------------------------------------


def test_lstm_flow_matches_torch_cell_and_forget_product():
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(3, 5)
    xs = G.random_sequences(7, 2, 3, seed=1)
    flow = G.lstm_cell_flow(cell, xs)
    assert flow.rel_grad.shape == flow.forget_product.shape == (8,)
    assert flow.rel_grad[0] == pytest.approx(1.0) and flow.forget_product[0] == 1.0
    assert 0 < flow.forget_mean < 1
    # our unrolled gates reproduce torch's cell
    h = c = torch.zeros(2, 5)
    for x in xs:
        h, c = cell(x, (h, c))
    c2 = torch.zeros(2, 5)
    h2 = torch.zeros(2, 5)
    for x in xs:
        gates = x @ cell.weight_ih.T + cell.bias_ih + h2 @ cell.weight_hh.T + cell.bias_hh
        i, f, g, o = gates.chunk(4, 1)
        c2 = torch.sigmoid(f) * c2 + torch.sigmoid(i) * torch.tanh(g)
        h2 = torch.sigmoid(o) * torch.tanh(c2)
    assert torch.allclose(c, c2, atol=1e-6)


def test_lstm_with_forget_gate_one_is_a_carousel():
    # b_f huge -> f = 1: ∂c_T/∂c_t = I through the direct path, the gradient does not decay
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(4, 6)
    with torch.no_grad():
        cell.weight_hh.zero_()  # no paths through h: only the cell-state path remains
    G.set_lstm_forget_bias(cell, 50.0)
    flow = G.lstm_cell_flow(cell, G.random_sequences(30, 3, 4))
    np.testing.assert_allclose(flow.rel_grad, 1.0, atol=1e-6)
    assert flow.forget_mean == pytest.approx(1.0, abs=1e-6)


def test_forget_bias_keeps_f_near_one_and_reaches_further():
    flows = {b: G.forget_bias_flow(b, steps=40, hidden_size=16, batch=16) for b in (0.0, 1.0, 2.0)}
    means = [flows[b].forget_mean for b in (0.0, 1.0, 2.0)]
    # larger b_f -> f_t closer to 1 (not to 0): σ(0)=0.5, σ(1)≈0.73, σ(2)≈0.88
    assert means[0] == pytest.approx(0.5, abs=0.05)
    assert means[1] == pytest.approx(0.73, abs=0.05)
    assert means[2] == pytest.approx(0.88, abs=0.05)
    reaches = [G.reach(flows[b].rel_grad) for b in (0.0, 1.0, 2.0)]
    assert reaches[0] < reaches[1] < reaches[2]
    assert flows[2.0].rel_grad[20] > 100 * flows[0.0].rel_grad[20]


def test_rnn_flow_and_reach():
    torch.manual_seed(0)
    flow = G.rnn_cell_flow(torch.nn.RNNCell(3, 8), G.random_sequences(20, 4, 3))
    assert flow.rel_grad.shape == (21,) and flow.forget_mean is None
    assert flow.rel_grad[0] == pytest.approx(1.0)
    assert G.reach(np.array([1.0, 0.5, 0.001])) == 2
    assert G.reach(np.array([1.0, 0.5])) == 2


# --- plots ------------------------------------------------------------------------------------


def _labelled(fig):
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
        assert ax.get_legend() is not None


def test_plots_are_labelled_figures():
    rs = [G.gradient_flow(scale=s, steps=20) for s in (0.8, 1.0, 2.0)]
    figs = [
        P.plot_gradient_flow(rs),
        P.plot_derivative_hist({"x": rs[0].derivs, "y": rs[2].derivs}),
        P.plot_eigenvalues({"a": rs[0].eigenvalues}),
        P.plot_memory_task([5, 10], {"RNN": [0.1, 0.2], "LSTM": [0.01, 0.01]}),
        P.plot_cell_flows(
            {"b_f=0": G.forget_bias_flow(0.0, steps=10, batch=4)}, show_forget_product=True
        ),
        P.plot_training_runs(
            {
                "a": G.GradStats([1.0, 0.5], [3.0, 2.0]),
                "b": G.GradStats([1.0, math.inf], [3.0, math.inf], 1),
            },
            clip=1.0,
        ),
    ]
    for fig in figs:
        assert isinstance(fig, Figure)
        _labelled(fig)
    # one measured line + one bound line per result
    assert len(figs[0].axes[0].get_lines()) == 2 * 3 + 1


def test_plot_errors():
    with pytest.raises(ValueError):
        P.plot_gradient_flow([])
    with pytest.raises(ValueError, match="labels"):
        P.plot_gradient_flow([G.gradient_flow(steps=5)], ["a", "b"])
    with pytest.raises(ValueError, match="scores"):
        P.plot_memory_task([1, 2, 3], {"RNN": [0.1]})


def test_compare_on_adding_runs_every_cell_and_length():
    cfg = G.MemoryConfig(hidden_size=8, steps=25, batch_size=32, n_train=200, n_test=100)
    scores = G.compare_on_adding([3, 5], cells=("rnn", "lstm"), cfg=cfg)
    assert set(scores) == {"rnn", "lstm"}
    for mse in scores.values():
        assert len(mse) == 2 and all(0 <= v < 1 for v in mse)
    assert scores["rnn"] != scores["lstm"]  # different models really were trained
    again = G.compare_on_adding([3], cells=("rnn",), cfg=cfg)
    assert again["rnn"][0] == pytest.approx(scores["rnn"][0])  # seeded: same result
