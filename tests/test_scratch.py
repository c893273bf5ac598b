"""Tests for lecture_utils.scratch: the hand-written RNN and its BPTT, verified three ways.

1. against central differences (``numerical_grads``): relative error <= 1e-7;
2. against torch autograd in float64 on the same parameters: loss and gradients to 1e-10;
3. against ``torch.nn.RNN`` with U = weight_ih, W = weight_hh, b = bias_ih + bias_hh.
"""

import numpy as np
import pytest
import torch

from lecture_utils import scratch

NAMES = scratch.PARAM_NAMES


def make_problem(I, H, O, T, seed, h0=True, float_inputs=False):
    """Seeded random parameters, inputs, targets and (optionally) a non-zero initial state."""
    params = scratch.init_params(I, H, O, seed=seed)
    rng = np.random.default_rng(1000 + seed)
    if float_inputs:
        inputs = rng.normal(size=(T, I))
    else:
        inputs = rng.integers(0, I, size=T)
    targets = rng.integers(0, O, size=T)
    state = rng.normal(scale=0.5, size=H) if h0 else None
    return params, inputs, targets, state


def torch_loss(params, inputs, targets, h0=None, window=None):
    """The same network written with torch ops in float64; autograd gives the gradients.

    ``window``: detach the state every ``window`` steps (truncated BPTT, as in a torch training loop).
    """
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    x = np.asarray(inputs)
    if x.dtype.kind in "iu":
        xs = torch.nn.functional.one_hot(torch.as_tensor(x), p["U"].shape[1]).double()
    else:
        xs = torch.as_tensor(x, dtype=torch.float64)
    s = torch.zeros(p["W"].shape[0], dtype=torch.float64) if h0 is None else torch.as_tensor(h0)
    total = torch.zeros((), dtype=torch.float64)
    for t in range(len(xs)):
        if window is not None and t % window == 0:
            s = s.detach()
        s = torch.tanh(p["b"] + p["W"] @ s + p["U"] @ xs[t])
        o = p["c"] + p["V"] @ s
        total = total - torch.log_softmax(o, dim=0)[int(targets[t])]
    total.backward()
    return total.item(), {k: v.grad.numpy() for k, v in p.items()}, s.detach().numpy()


# ----------------------------------------------------------------------------- init_params


def test_init_params_shapes_dtype_and_seed():
    p = scratch.init_params(5, 7, 3, seed=4)
    assert set(p) == set(NAMES)
    assert p["U"].shape == (7, 5) and p["W"].shape == (7, 7) and p["V"].shape == (3, 7)
    assert p["b"].shape == (7,) and p["c"].shape == (3,)
    assert all(v.dtype == np.float64 for v in p.values())
    bound = 1 / np.sqrt(7)
    assert all(np.abs(v).max() <= bound for v in p.values())
    again = scratch.init_params(5, 7, 3, seed=4)
    other = scratch.init_params(5, 7, 3, seed=5)
    assert all(np.array_equal(p[k], again[k]) for k in NAMES)
    assert not np.array_equal(p["W"], other["W"])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_init_params_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="positive int"):
        scratch.init_params(bad, 3, 3)


# ----------------------------------------------------------------------------- forward


def test_forward_follows_the_lecture_equations():
    params, inputs, _, h0 = make_problem(4, 3, 5, 6, seed=0)
    logits, hs, cache = scratch.forward(params, inputs, h0)
    assert logits.shape == (6, 5) and hs.shape == (6, 3)
    s = h0
    for t in range(6):
        x = np.eye(4)[inputs[t]]
        s = np.tanh(params["b"] + params["W"] @ s + params["U"] @ x)
        np.testing.assert_allclose(hs[t], s, rtol=0, atol=1e-15)
        np.testing.assert_allclose(logits[t], params["c"] + params["V"] @ s, rtol=0, atol=1e-15)
    assert np.array_equal(cache["h0"], h0)


def test_forward_ids_equal_one_hot_floats():
    params, inputs, _, _ = make_problem(6, 4, 6, 9, seed=1, h0=False)
    one_hot = np.eye(6)[inputs]
    a, ha, _ = scratch.forward(params, inputs)
    b, hb, _ = scratch.forward(params, one_hot)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)
    np.testing.assert_allclose(ha, hb, rtol=0, atol=1e-14)


def test_forward_rejects_bad_input():
    params = scratch.init_params(4, 3, 4)
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 4\)"):
        scratch.forward(params, np.array([0, 4]))
    with pytest.raises(ValueError, match="input size 4"):
        scratch.forward(params, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="h0 has shape"):
        scratch.forward(params, np.array([0, 1]), h0=np.zeros(4))
    with pytest.raises(ValueError, match="empty"):
        scratch.forward(params, np.array([], dtype=int))
    with pytest.raises(TypeError, match="int token ids or floats"):
        scratch.forward(params, np.array(["a", "b"]))
    broken = dict(params, W=np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"params\['W'\] has shape"):
        scratch.forward(broken, np.array([0, 1]))
    with pytest.raises(KeyError, match="missing"):
        scratch.forward({"U": params["U"]}, np.array([0]))


def test_loss_and_grads_rejects_bad_targets():
    params = scratch.init_params(4, 3, 4)
    with pytest.raises(ValueError, match="targets have shape"):
        scratch.loss_and_grads(params, np.array([0, 1, 2]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 4\)"):
        scratch.loss_and_grads(params, np.array([0, 1]), np.array([0, 9]))
    with pytest.raises(TypeError, match="int class ids"):
        scratch.loss_and_grads(params, np.array([0, 1]), np.array([0.0, 1.0]))


# ----------------------------------------------------------------------------- 1. numerical gradients

SIZES = [  # (I, H, O, T): one step, short, square-ish, wide hidden, long, input size != output size
    (3, 2, 3, 1),
    (5, 4, 5, 7),
    (10, 8, 10, 20),
    (6, 16, 6, 12),
    (4, 5, 7, 30),
    (12, 20, 9, 40),
]


def assert_close_to_numerical(params, inputs, targets, h0, **kwargs):
    loss, grads, _ = scratch.loss_and_grads(params, inputs, targets, h0)
    numeric = scratch.numerical_grads(params, inputs, targets, h0, **kwargs)
    assert loss == pytest.approx(scratch.loss(params, inputs, targets, h0), rel=1e-14)
    for name in NAMES:
        assert grads[name].shape == params[name].shape
        err = scratch.relative_error(grads[name], numeric[name])
        assert err <= 1e-7, f"d{name}: relative error {err:.2e}"


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("I,H,O,T", SIZES)
def test_bptt_matches_numerical_gradients(I, H, O, T, seed):
    # Fourth-order central differences with eps = 1e-3: truncation error ~ eps**4 and round-off
    # ~ 1e-16 / eps both stay far below the 1e-7 bound, even for small entries of long sequences.
    params, inputs, targets, h0 = make_problem(I, H, O, T, seed)
    assert_close_to_numerical(params, inputs, targets, h0, eps=1e-3, order=4)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("I,H,O,T", SIZES[:3])
def test_bptt_matches_default_numerical_gradients(I, H, O, T, seed):
    # The contract's defaults (second order, eps = 1e-5). Their round-off (~1e-11 absolute) makes
    # entries below ~1e-4 approach the bound, so this runs on the small and short problems only.
    params, inputs, targets, h0 = make_problem(I, H, O, T, seed)
    assert_close_to_numerical(params, inputs, targets, h0)


def test_bptt_matches_numerical_gradients_float_inputs_zero_state():
    params, inputs, targets, _ = make_problem(3, 4, 5, 8, seed=3, h0=False, float_inputs=True)
    assert_close_to_numerical(params, inputs, targets, None, eps=1e-3, order=4)
    assert_close_to_numerical(params, inputs, targets, None)


def test_numerical_grads_rejects_bad_settings():
    params, inputs, targets, _ = make_problem(3, 2, 3, 4, seed=0)
    with pytest.raises(ValueError, match="order must be 2 or 4"):
        scratch.numerical_grads(params, inputs, targets, order=3)
    with pytest.raises(ValueError, match="eps must be positive"):
        scratch.numerical_grads(params, inputs, targets, eps=0)


def test_numerical_grads_leaves_params_untouched():
    params, inputs, targets, h0 = make_problem(3, 2, 3, 4, seed=0)
    before = {k: v.copy() for k, v in params.items()}
    scratch.numerical_grads(params, inputs, targets, h0)
    assert all(np.array_equal(before[k], params[k]) for k in NAMES)


def test_relative_error():
    assert scratch.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert scratch.relative_error([1.0], [3.0]) == pytest.approx(0.5)
    assert scratch.relative_error([0.0], [1e-12]) == pytest.approx(1e-4)  # the 1e-8 floor
    with pytest.raises(ValueError, match="shapes differ"):
        scratch.relative_error(np.zeros(2), np.zeros(3))


# ----------------------------------------------------------------------------- 2. torch autograd


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("I,H,O,T", [(5, 4, 5, 7), (12, 32, 9, 40), (3, 6, 3, 1)])
def test_bptt_matches_torch_autograd(I, H, O, T, seed):
    params, inputs, targets, h0 = make_problem(I, H, O, T, seed)
    loss, grads, h_last = scratch.loss_and_grads(params, inputs, targets, h0)
    t_loss, t_grads, t_h = torch_loss(params, inputs, targets, h0)
    assert abs(loss - t_loss) <= 1e-10
    np.testing.assert_allclose(h_last, t_h, rtol=0, atol=1e-12)
    for name in NAMES:
        np.testing.assert_allclose(grads[name], t_grads[name], rtol=0, atol=1e-10, err_msg=name)


def test_bptt_matches_torch_autograd_float_inputs():
    params, inputs, targets, h0 = make_problem(4, 6, 5, 15, seed=7, float_inputs=True)
    loss, grads, _ = scratch.loss_and_grads(params, inputs, targets, h0)
    t_loss, t_grads, _ = torch_loss(params, inputs, targets, h0)
    assert abs(loss - t_loss) <= 1e-10
    for name in NAMES:
        np.testing.assert_allclose(grads[name], t_grads[name], rtol=0, atol=1e-10, err_msg=name)


# ----------------------------------------------------------------------------- 3. torch.nn.RNN


@pytest.mark.parametrize("I,H,T", [(5, 4, 7), (10, 32, 25)])
def test_forward_matches_torch_nn_rnn(I, H, T):
    torch.manual_seed(0)
    rnn = torch.nn.RNN(I, H, nonlinearity="tanh", dtype=torch.float64)
    params = scratch.init_params(I, H, 3, seed=0)
    params["U"] = rnn.weight_ih_l0.detach().numpy().copy()
    params["W"] = rnn.weight_hh_l0.detach().numpy().copy()
    params["b"] = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy().copy()
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(T, I))
    h0 = rng.normal(size=H)
    _, hs, _ = scratch.forward(params, xs, h0)
    with torch.no_grad():
        out, h_n = rnn(torch.as_tensor(xs)[:, None, :], torch.as_tensor(h0)[None, None, :])
    np.testing.assert_allclose(hs, out[:, 0, :].numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(hs[-1], h_n[0, 0].numpy(), rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- truncated BPTT


@pytest.mark.parametrize("k", [1, 3, 5, 16])
def test_truncated_bptt_matches_torch_with_detach(k):
    params, inputs, targets, h0 = make_problem(5, 6, 5, 16, seed=2)
    loss, grads, h_last = scratch.truncated_loss_and_grads(params, inputs, targets, k, h0)
    t_loss, t_grads, t_h = torch_loss(params, inputs, targets, h0, window=k)
    assert abs(loss - t_loss) <= 1e-10
    np.testing.assert_allclose(h_last, t_h, rtol=0, atol=1e-12)
    for name in NAMES:
        np.testing.assert_allclose(grads[name], t_grads[name], rtol=0, atol=1e-10, err_msg=name)


def test_truncated_bptt_full_window_is_full_bptt_and_short_window_differs():
    params, inputs, targets, h0 = make_problem(5, 6, 5, 12, seed=1)
    full = scratch.loss_and_grads(params, inputs, targets, h0)
    same = scratch.truncated_loss_and_grads(params, inputs, targets, 12, h0)
    short = scratch.truncated_loss_and_grads(params, inputs, targets, 3, h0)
    assert same[0] == full[0] and short[0] == pytest.approx(full[0], rel=1e-14)
    assert all(np.array_equal(same[1][k], full[1][k]) for k in NAMES)
    # V and c only see the output at each step: truncation does not change them ...
    np.testing.assert_allclose(short[1]["V"], full[1]["V"], rtol=0, atol=1e-14)
    # ... but W loses the dependencies longer than the window.
    assert scratch.relative_error(short[1]["W"], full[1]["W"]) > 1e-3


@pytest.mark.parametrize("k", [0, -2, 1.5])
def test_truncated_bptt_rejects_bad_window(k):
    params, inputs, targets, _ = make_problem(3, 2, 3, 4, seed=0)
    with pytest.raises(ValueError, match="positive int"):
        scratch.truncated_loss_and_grads(params, inputs, targets, k)


# ----------------------------------------------------------------------------- per-step terms, sampling


def test_step_contributions_sum_to_dW():
    params, inputs, targets, h0 = make_problem(5, 6, 5, 10, seed=0)
    terms = scratch.step_contributions(params, inputs, targets, h0)
    _, grads, _ = scratch.loss_and_grads(params, inputs, targets, h0)
    assert terms.shape == (10, 6, 6)
    np.testing.assert_allclose(terms.sum(axis=0), grads["W"], rtol=0, atol=1e-14)


def test_step_contributions_last_only_is_gradient_of_last_loss():
    params, inputs, targets, h0 = make_problem(5, 6, 5, 10, seed=1)
    terms = scratch.step_contributions(params, inputs, targets, h0, last_only=True)
    # the gradient of L_T alone, by torch: loss of the last step only
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    s = torch.as_tensor(h0)
    for t in range(10):
        s = torch.tanh(p["b"] + p["W"] @ s + p["U"][:, int(inputs[t])])
    last = -torch.log_softmax(p["c"] + p["V"] @ s, dim=0)[int(targets[-1])]
    last.backward()
    np.testing.assert_allclose(terms.sum(axis=0), p["W"].grad.numpy(), rtol=0, atol=1e-12)


def test_sample_is_seeded_and_stops():
    params = scratch.init_params(6, 8, 6, seed=0)
    a = scratch.sample(params, [0], max_len=20, rng=3)
    b = scratch.sample(params, [0], max_len=20, rng=3)
    assert a == b and 1 <= len(a) <= 20 and all(0 <= i < 6 for i in a)
    stopped = scratch.sample(params, [0], max_len=200, rng=0, stop_id=a[0])
    assert stopped == [a[0]] or stopped[-1] == a[0] or len(stopped) == 200
    with pytest.raises(ValueError, match="at least one id"):
        scratch.sample(params, [], max_len=3)
    with pytest.raises(ValueError, match="temperature"):
        scratch.sample(params, [0], max_len=3, temperature=0)


def test_sample_stop_id_ends_the_sequence():
    params = scratch.init_params(4, 5, 4, seed=1)
    out = scratch.sample(params, [1, 2], max_len=500, rng=0, stop_id=3)
    assert 3 not in out[:-1]
    assert out[-1] == 3 or len(out) == 500


# ----------------------------------------------------------------------------- batches


@pytest.mark.parametrize("float_inputs", [False, True])
def test_batch_equals_sum_of_single_sequences(float_inputs):
    I, H, O, B, T = 5, 6, 4, 3, 9
    params = scratch.init_params(I, H, O, seed=0)
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(B, T, I)) if float_inputs else rng.integers(0, I, size=(B, T))
    targets = rng.integers(0, O, size=(B, T))
    h0 = rng.normal(size=(B, H))
    loss, grads, h_last = scratch.loss_and_grads_batch(params, inputs, targets, h0)
    logits, hs, _ = scratch.forward_batch(params, inputs, h0)
    assert logits.shape == (B, T, O) and hs.shape == (B, T, H) and h_last.shape == (B, H)
    total, acc = 0.0, {k: np.zeros_like(v) for k, v in params.items()}
    for i in range(B):
        l_i, g_i, h_i = scratch.loss_and_grads(params, inputs[i], targets[i], h0[i])
        total += l_i
        for k in NAMES:
            acc[k] += g_i[k]
        np.testing.assert_allclose(h_last[i], h_i, rtol=0, atol=1e-14)
        np.testing.assert_allclose(hs[i], scratch.forward(params, inputs[i], h0[i])[1], atol=1e-14)
    assert loss == pytest.approx(total, rel=1e-13)
    for k in NAMES:
        np.testing.assert_allclose(grads[k], acc[k], rtol=0, atol=1e-12, err_msg=k)


def test_batch_mask_equals_unpadded_sequences():
    params = scratch.init_params(5, 4, 5, seed=2)
    seqs = [np.array([1, 2, 3, 4]), np.array([2, 0]), np.array([4, 4, 1])]
    tgts = [np.array([2, 3, 4, 0]), np.array([0, 1]), np.array([4, 1, 2])]
    inputs = np.zeros((3, 4), dtype=int)
    targets = np.zeros((3, 4), dtype=int)
    mask = np.zeros((3, 4), dtype=bool)
    for i, (s, y) in enumerate(zip(seqs, tgts, strict=True)):
        inputs[i, : len(s)], targets[i, : len(y)], mask[i, : len(s)] = s, y, True
    loss, grads, _ = scratch.loss_and_grads_batch(params, inputs, targets, mask=mask)
    parts = [scratch.loss_and_grads(params, s, y) for s, y in zip(seqs, tgts, strict=True)]
    assert loss == pytest.approx(sum(p[0] for p in parts), rel=1e-13)
    for k in NAMES:
        np.testing.assert_allclose(grads[k], sum(p[1][k] for p in parts), atol=1e-13, err_msg=k)


def test_batch_float32_params_compute_in_float32():
    params = {k: v.astype(np.float32) for k, v in scratch.init_params(5, 8, 5, seed=0).items()}
    rng = np.random.default_rng(0)
    inputs, targets = rng.integers(0, 5, size=(2, 6)), rng.integers(0, 5, size=(2, 6))
    loss, grads, h = scratch.loss_and_grads_batch(params, inputs, targets)
    assert all(g.dtype == np.float32 for g in grads.values()) and h.dtype == np.float32
    ref = scratch.loss_and_grads_batch(
        {k: v.astype(np.float64) for k, v in params.items()}, inputs, targets
    )
    assert loss == pytest.approx(ref[0], rel=1e-5)
    for k in NAMES:
        np.testing.assert_allclose(grads[k], ref[1][k], rtol=1e-4, atol=1e-5)


def test_batch_rejects_bad_shapes():
    params = scratch.init_params(4, 3, 4)
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        scratch.forward_batch(params, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="mask has shape"):
        scratch.loss_and_grads_batch(
            params, np.zeros((2, 3), dtype=int), np.zeros((2, 3), dtype=int), mask=np.ones((3, 2))
        )
    with pytest.raises(ValueError, match=r"h0 has shape"):
        scratch.forward_batch(params, np.zeros((2, 3), dtype=int), h0=np.zeros(3))
