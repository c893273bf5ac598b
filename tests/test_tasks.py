"""Tests for lecture_utils.tasks (synthetic long-memory tasks, notebooks 03 and 06)."""

import pytest
import torch

from lecture_utils import tasks


def test_delayed_recall_shapes_layout_and_seed():
    x, y = tasks.delayed_recall(50, delay=7, n_symbols=5, seed=3)
    assert x.shape == (50, 9) and x.dtype == torch.long  # T = delay + 2
    assert y.shape == (50,) and y.dtype == torch.long
    assert torch.equal(x[:, 0], y)
    assert (x[:, -1] == 5 + 1).all()  # QUERY token
    assert (x[:, 1:-1] < 5).all()  # random distractors are symbols
    assert int(x.max()) < tasks.recall_vocab_size(5)
    x2, y2 = tasks.delayed_recall(50, delay=7, n_symbols=5, seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, _ = tasks.delayed_recall(50, delay=7, n_symbols=5, seed=4)
    assert not torch.equal(x, x3)


def test_delayed_recall_blank_and_zero_delay():
    x, y = tasks.delayed_recall(10, delay=4, n_symbols=3, distractor="blank")
    assert (x[:, 1:5] == 3).all()
    x0, y0 = tasks.delayed_recall(10, delay=0)
    assert x0.shape == (10, 2) and torch.equal(x0[:, 0], y0)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"n": 0, "delay": 3}, ValueError),
        ({"n": 5, "delay": -1}, ValueError),
        ({"n": 5, "delay": 2.5}, TypeError),
        ({"n": 5, "delay": 3, "n_symbols": 1}, ValueError),
        ({"n": 5, "delay": 3, "distractor": "noise"}, ValueError),
    ],
)
def test_delayed_recall_bad_input(kwargs, error):
    with pytest.raises(error):
        tasks.delayed_recall(**kwargs)


def test_adding_problem():
    x, y = tasks.adding_problem(200, length=30, seed=1)
    assert x.shape == (200, 30, 2) and x.dtype == torch.float32 and y.shape == (200,)
    marker = x[:, :, 1]
    assert torch.equal(marker.sum(1), torch.full((200,), 2.0))
    assert (marker[:, :15].sum(1) == 1).all() and (marker[:, 15:].sum(1) == 1).all()
    assert torch.allclose((x[:, :, 0] * marker).sum(1), y)
    # always answering 1 gives MSE close to 1/6
    assert abs(float(((y - 1) ** 2).mean()) - 1 / 6) < 0.04
    with pytest.raises(ValueError):
        tasks.adding_problem(5, length=1)


def test_classifier_shapes_and_errors():
    m = tasks.SequenceClassifier(tasks.recall_vocab_size(4), 8, 4, cell="gru")
    x, _ = tasks.delayed_recall(6, delay=3, n_symbols=4)
    assert m(x).shape == (6, 4)
    with pytest.raises(ValueError, match="token ids"):
        m(torch.full((2, 3), 99))
    r = tasks.SequenceClassifier(2, 8, 1, cell="rnn")
    xa, _ = tasks.adding_problem(3, 10)
    assert r(xa).shape == (3, 1)
    with pytest.raises(ValueError, match="float input"):
        r(torch.zeros(3, 10, 5))
    with pytest.raises(ValueError, match="cell"):
        tasks.SequenceClassifier(2, 8, 1, cell="transformer")
    with pytest.raises(ValueError, match="forget_bias"):
        tasks.SequenceClassifier(2, 8, 1, cell="rnn", forget_bias=1.0)


def test_forget_bias_is_set():
    m = tasks.SequenceClassifier(3, 5, 2, cell="lstm", forget_bias=2.0)
    b = m.rnn.bias_ih_l0 + m.rnn.bias_hh_l0  # gates i, f, g, o
    assert torch.allclose(b[5:10], torch.full((5,), 2.0))
    cell = torch.nn.LSTMCell(3, 4)
    tasks.set_lstm_forget_bias(cell, -1.0)
    assert torch.allclose((cell.bias_ih + cell.bias_hh)[4:8], torch.full((4,), -1.0))
    with pytest.raises(ValueError, match="no bias"):
        tasks.set_lstm_forget_bias(torch.nn.LSTM(3, 4, bias=False), 1.0)


def test_training_learns_short_recall():
    torch.manual_seed(0)
    x, y = tasks.delayed_recall(600, delay=2, n_symbols=4, seed=0)
    xt, yt = tasks.delayed_recall(200, delay=2, n_symbols=4, seed=1)
    m = tasks.SequenceClassifier(tasks.recall_vocab_size(4), 16, 4, cell="lstm")
    before = tasks.evaluate_accuracy(m, xt, yt)
    log = tasks.train_sequence_model(m, x, y, steps=120, batch_size=32, lr=1e-2, seed=0)
    assert len(log.loss) == 120 and len(log.grad_norm) == 120
    assert tasks.evaluate_accuracy(m, xt, yt) > 0.95 > before


def test_training_regression_beats_baseline():
    torch.manual_seed(0)
    x, y = tasks.adding_problem(500, length=6, seed=0)
    m = tasks.SequenceClassifier(2, 16, 1, cell="lstm")
    tasks.train_sequence_model(m, x, y, steps=200, batch_size=32, lr=1e-2)
    xt, yt = tasks.adding_problem(200, length=6, seed=1)
    assert tasks.evaluate_mse(m, xt, yt) < 0.05  # baseline ~0.167


def test_training_rejects_mismatched_lengths():
    m = tasks.SequenceClassifier(2, 4, 1)
    with pytest.raises(ValueError, match="same length"):
        tasks.train_sequence_model(m, torch.zeros(3, 4, 2), torch.zeros(2), steps=1)
