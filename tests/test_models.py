"""Tests for lecture_utils.models (CharRNN, detach_state)."""

import pytest
import torch
from torch import nn

from lecture_utils.models import CharRNN, CharRNNConfig, count_parameters, detach_state

V, H = 7, 5


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("embed_size", [None, 4])
def test_forward_shapes_and_state(cell, embed_size):
    torch.manual_seed(0)
    model = CharRNN(V, H, num_layers=2, cell=cell, embed_size=embed_size)
    x = torch.randint(0, V, (3, 6))
    logits, state = model(x)
    assert logits.shape == (3, 6, V)
    if cell == "lstm":
        h, c = state
        assert h.shape == c.shape == (2, 3, H)
    else:
        assert state.shape == (2, 3, H)
    # init_state is the zero state torch uses by default
    logits0, _ = model(x, model.init_state(3))
    torch.testing.assert_close(logits0, logits)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_state_carrying_equals_one_long_call(cell):
    """Feeding a sequence in two chunks with the state carried equals one call on the whole."""
    torch.manual_seed(1)
    model = CharRNN(V, H, cell=cell, embed_size=3)
    x = torch.randint(0, V, (2, 9))
    full, _ = model(x)
    first, state = model(x[:, :4])
    second, _ = model(x[:, 4:], state)
    torch.testing.assert_close(torch.cat([first, second], dim=1), full)


def test_one_hot_input_matches_manual_rnn():
    """embed_size=None is the lecture's one-hot input: check one step against the formula."""
    torch.manual_seed(2)
    model = CharRNN(V, H)
    x = torch.tensor([[3]])
    logits, h = model(x)
    rnn = model.rnn
    h_manual = torch.tanh(rnn.weight_ih_l0[:, 3] + rnn.bias_ih_l0 + rnn.bias_hh_l0)
    torch.testing.assert_close(h[0, 0], h_manual)
    torch.testing.assert_close(logits[0, 0], model.head(h_manual))


def test_config_rebuilds_same_architecture():
    model = CharRNN(V, H, num_layers=2, cell="gru", embed_size=4, dropout=0.1)
    assert model.config == CharRNNConfig(V, H, 2, "gru", 4, 0.1)
    clone = CharRNN.from_config(model.config)
    clone.load_state_dict(model.state_dict())  # same parameter names and shapes
    assert count_parameters(clone) == count_parameters(model)


def test_parameter_count_rnn_one_hot():
    model = CharRNN(V, H)
    # rnn: W_ih (H,V) + W_hh (H,H) + 2 biases; head: (V,H) + V
    assert count_parameters(model) == H * V + H * H + 2 * H + V * H + V


def test_dropout_single_layer_gives_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CharRNN(V, H, num_layers=1, dropout=0.2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cell": "transformer"}, "unknown cell"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"embed_size": 0}, "embed_size"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_bad_config(kwargs, match):
    args = {"vocab_size": V, "hidden_size": H, **kwargs}
    with pytest.raises(ValueError, match=match):
        CharRNN(**args)


def test_bad_inputs():
    model = CharRNN(V, H)
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        model(torch.zeros(5, dtype=torch.long))
    with pytest.raises(TypeError, match="integer"):
        model(torch.zeros(1, 5))
    with pytest.raises(ValueError, match=r"\[0, 7\)"):
        model(torch.tensor([[0, 7]]))


def test_detach_state_tensor_and_tuple():
    w = torch.ones(2, requires_grad=True)
    h = (w * 2).reshape(1, 1, 2)
    c = (w * 3).reshape(1, 1, 2)
    assert detach_state(None) is None
    d = detach_state(h)
    assert not d.requires_grad and d.grad_fn is None
    torch.testing.assert_close(d, h.detach())
    dh, dc = detach_state((h, c))
    assert dh.grad_fn is None and dc.grad_fn is None
    torch.testing.assert_close(dc, c.detach())
    with pytest.raises(TypeError):
        detach_state("state")


def test_is_module_and_trains():
    """A few Adam steps on a fixed sequence lower the loss (the model can learn)."""
    torch.manual_seed(0)
    model = CharRNN(V, 16, cell="gru", embed_size=8)
    assert isinstance(model, nn.Module)
    x = torch.tensor([[0, 1, 2, 3, 4, 5]])
    y = torch.tensor([[1, 2, 3, 4, 5, 6]])
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        logits, _ = model(x)
        loss = nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
