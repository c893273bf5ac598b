"""The exercise checks of 01–02 accept a correct answer and reject wrong ones with a useful message."""

import numpy as np
import pytest

from lecture_utils import scratch
from lecture_utils.checks import bptt as checks

# ----------------------------------------------------------------------------- answers


def step_ok(params, x_t, s_prev):
    return np.tanh(params["b"] + params["W"] @ s_prev + params["U"] @ x_t)


def step_no_tanh(params, x_t, s_prev):
    return params["b"] + params["W"] @ s_prev + params["U"] @ x_t


def step_no_bias(params, x_t, s_prev):
    return np.tanh(params["W"] @ s_prev + params["U"] @ x_t)


def step_no_state(params, x_t, s_prev):
    return np.tanh(params["b"] + params["U"] @ x_t)


def step_transposed_w(params, x_t, s_prev):
    return np.tanh(params["b"] + params["W"].T @ s_prev + params["U"] @ x_t)


def step_sigmoid(params, x_t, s_prev):
    return 1 / (1 + np.exp(-(params["b"] + params["W"] @ s_prev + params["U"] @ x_t)))


def step_wrong_shape(params, x_t, s_prev):
    return step_ok(params, x_t, s_prev)[None, :]


def step_returns_nothing(params, x_t, s_prev):
    np.tanh(params["b"])


def step_todo(params, x_t, s_prev):
    raise NotImplementedError


def step_crashes(params, x_t, s_prev):
    return params["U"] @ s_prev  # (H, I) @ (H,) does not fit


def output_ok(params, s_t):
    return scratch.softmax(params["c"] + params["V"] @ s_t)


def output_logits(params, s_t):
    return params["c"] + params["V"] @ s_t


def output_no_bias(params, s_t):
    return scratch.softmax(params["V"] @ s_t)


def backward_ok(params, ds_t, s_t, s_prev, x_t):
    return checks.reference_backward_step(params, ds_t, s_t, s_prev, x_t)


def backward_with(**changes):
    def fn(params, ds_t, s_t, s_prev, x_t):
        out = checks.reference_backward_step(params, ds_t, s_t, s_prev, x_t)
        for key, make in changes.items():
            out[key] = make(params, ds_t, s_t, s_prev, x_t, out)
        return out

    return fn


def grads_ok(params, inputs, targets, h0=None):
    return scratch.loss_and_grads(params, inputs, targets, h0)


def grads_without_carry(params, inputs, targets, h0=None):
    """Typical mistake: dL/ds_t only from the output, nothing from step t+1."""
    loss, grads, h_last = scratch.loss_and_grads(params, inputs, targets, h0)
    grads = dict(grads)
    grads["W"] = grads["W"] * 0.5
    grads["U"] = grads["U"] + 1e-3
    return loss, grads, h_last


def grads_mean_loss(params, inputs, targets, h0=None):
    loss, grads, h_last = scratch.loss_and_grads(params, inputs, targets, h0)
    return loss / len(inputs), grads, h_last


# ----------------------------------------------------------------------------- tests


def test_rnn_step_accepts_correct(capsys):
    assert checks.check_rnn_step(step_ok) is True
    assert "Верно" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn, message",
    [
        (step_no_tanh, "tanh"),
        (step_no_bias, "смещения b"),
        (step_no_state, "W s_{t-1}"),
        (step_transposed_w, "транспонированной"),
        (step_sigmoid, "сигмоида"),
        (step_wrong_shape, r"форма \(1, 4\), а должна быть \(4,\)"),
        (step_returns_nothing, "return"),
        (step_crashes, "упала с ошибкой ValueError"),
    ],
)
def test_rnn_step_rejects_wrong(fn, message):
    with pytest.raises(AssertionError, match=message):
        checks.check_rnn_step(fn)


def test_unsolved_exercise_returns_false(capsys):
    assert checks.check_rnn_step(step_todo) is False
    assert "NotImplementedError" in capsys.readouterr().out


def test_output_step_accepts_and_rejects():
    assert checks.check_output_step(output_ok) is True
    with pytest.raises(AssertionError, match="логиты"):
        checks.check_output_step(output_logits)
    with pytest.raises(AssertionError, match="смещения c"):
        checks.check_output_step(output_no_bias)


def test_backward_step_reference_matches_scratch_bptt():
    """The reference step, applied from T down to 1, gives the gradients of loss_and_grads."""
    params = scratch.init_params(5, 4, 5, seed=0)
    rng = np.random.default_rng(0)
    inputs, targets = rng.integers(0, 5, 6), rng.integers(0, 5, 6)
    logits, hs, cache = scratch.forward(params, inputs)
    probs = scratch.softmax(logits)
    dW = np.zeros_like(params["W"])
    ds_next = np.zeros(4)
    for t in reversed(range(6)):
        do = probs[t] - np.eye(5)[targets[t]]
        s_prev = hs[t - 1] if t else cache["h0"]
        step = checks.reference_backward_step(
            params, params["V"].T @ do + ds_next, hs[t], s_prev, cache["xs"][t]
        )
        dW += step["dW"]
        ds_next = step["ds_prev"]
    _, grads, _ = scratch.loss_and_grads(params, inputs, targets)
    np.testing.assert_allclose(dW, grads["W"], rtol=0, atol=1e-14)


def test_backward_step_accepts_correct(capsys):
    assert checks.check_backward_step(backward_ok) is True
    assert "Верно" in capsys.readouterr().out


@pytest.mark.parametrize(
    "fn, message",
    [
        (backward_with(da=lambda p, ds, s, sp, x, o: ds), r"da: .*производной tanh"),
        (
            backward_with(da=lambda p, ds, s, sp, x, o: ds * (1 - np.tanh(s) ** 2)),
            r"da: .*1 - s_t²",
        ),
        (backward_with(dW=lambda p, ds, s, sp, x, o: np.outer(o["da"], s)), r"dW: .*s_\{t-1\}"),
        (backward_with(dW=lambda p, ds, s, sp, x, o: o["dW"].T), r"dW: .*транспонирован"),
        (backward_with(dU=lambda p, ds, s, sp, x, o: np.outer(x, o["da"])), r"dU: форма"),
        (backward_with(db=lambda p, ds, s, sp, x, o: ds), r"db: неверное значение"),
        (backward_with(ds_prev=lambda p, ds, s, sp, x, o: p["W"] @ o["da"]), r"ds_prev: .*W\.T"),
        (lambda *a: (1, 2), "словарь"),
        (lambda *a: {"da": 0}, "нет ключей"),
    ],
)
def test_backward_step_rejects_wrong(fn, message):
    with pytest.raises(AssertionError, match=message):
        checks.check_backward_step(fn)


def test_loss_and_grads_accepts_correct_and_truncated(capsys):
    assert checks.check_loss_and_grads(grads_ok) is True
    assert checks.check_loss_and_grads(scratch.truncated_loss_and_grads, truncated_k=3) is True
    assert capsys.readouterr().out.count("Верно") == 2


def test_loss_and_grads_names_the_wrong_gradients():
    with pytest.raises(AssertionError) as info:
        checks.check_loss_and_grads(grads_without_carry)
    message = str(info.value)
    assert "dW" in message and "dU" in message and "dV" not in message.split("—")[1].split(".")[0]
    assert "рекуррентной части" in message


def test_loss_and_grads_rejects_full_bptt_for_truncated():
    with pytest.raises(AssertionError, match="dW"):
        checks.check_loss_and_grads(
            lambda p, i, t, k, h0: scratch.loss_and_grads(p, i, t, h0), truncated_k=2
        )


def test_loss_and_grads_rejects_mean_loss_and_bad_return():
    with pytest.raises(AssertionError, match="усреднены"):
        checks.check_loss_and_grads(grads_mean_loss)
    with pytest.raises(AssertionError, match=r"кортеж \(loss, grads, h_last\)"):
        checks.check_loss_and_grads(lambda *a: 1.0)
