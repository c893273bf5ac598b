"""Tests for lecture_utils.sampling: next_token_probs and generate."""

import pytest
import torch
from torch import nn

from lecture_utils.data import Vocab
from lecture_utils.models import CharRNN
from lecture_utils.sampling import generate, next_token_probs

SPECIALS = ("<pad>", "<bos>", "<eos>")


@pytest.fixture
def vocab():
    return Vocab.from_text(["анна", "мария", "ия", "ольга"], specials=SPECIALS)


@pytest.fixture
def model(vocab):
    torch.manual_seed(0)
    m = CharRNN(len(vocab), 16, cell="gru", embed_size=8)
    with torch.no_grad():
        m.head.bias[vocab.eos] = -5.0  # long outputs, so that max_len is what stops them
    return m


class Spy(nn.Module):
    """Wraps a model and records the shape of every input it is given."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls = []

    def forward(self, x, state=None):
        self.calls.append((tuple(x.shape), x[0, 0].item(), state is None))
        return self.inner(x, state)


# ----------------------------------------------------------------------------- next_token_probs


def test_probs_temperature_and_greedy():
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    torch.testing.assert_close(next_token_probs(logits), torch.softmax(logits, -1))
    torch.testing.assert_close(next_token_probs(logits, 0.5), torch.softmax(logits / 0.5, -1))
    torch.testing.assert_close(next_token_probs(logits, 0), torch.tensor([1.0, 0.0, 0.0, 0.0]))
    flat = next_token_probs(logits, 100.0)
    assert flat.max() - flat.min() < 0.05  # high temperature: nearly uniform


def test_probs_top_k_and_top_p():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    torch.testing.assert_close(
        next_token_probs(logits, top_k=2), torch.tensor([0.625, 0.375, 0.0, 0.0])
    )
    # top_p=0.75: 0.5 alone is not enough, 0.5 + 0.3 reaches it -> keep two tokens
    torch.testing.assert_close(
        next_token_probs(logits, top_p=0.75), torch.tensor([0.625, 0.375, 0.0, 0.0])
    )
    # top_p=0.5 is reached by the first token alone
    torch.testing.assert_close(
        next_token_probs(logits, top_p=0.5), torch.tensor([1.0, 0.0, 0.0, 0.0])
    )
    torch.testing.assert_close(
        next_token_probs(logits, top_p=1.0), torch.tensor([0.5, 0.3, 0.15, 0.05])
    )
    # batched rows, unsorted order
    batch = torch.log(torch.tensor([[0.1, 0.6, 0.3], [0.3, 0.3, 0.4]]))
    probs = next_token_probs(batch, top_k=1)
    torch.testing.assert_close(probs, torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"temperature": -0.5}, "temperature must be >= 0"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
    ],
)
def test_probs_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        next_token_probs(torch.zeros(3), **kwargs)


# ----------------------------------------------------------------------------- generate


def test_same_seed_same_text_and_global_rng_untouched(model, vocab):
    rng = torch.get_rng_state()
    a = generate(model, vocab, "ан", max_len=15, seed=3)
    b = generate(model, vocab, "ан", max_len=15, seed=3)
    assert a == b
    assert torch.equal(rng, torch.get_rng_state())
    texts = {generate(model, vocab, "ан", max_len=15, temperature=1.5, seed=s) for s in range(6)}
    assert len(texts) > 1  # different seeds, different samples
    assert all(t.startswith("ан") for t in texts)


def test_greedy_ignores_seed(model, vocab):
    outs = {generate(model, vocab, "м", max_len=10, temperature=0, seed=s) for s in range(4)}
    assert len(outs) == 1


def test_prefix_fed_once_then_one_step_per_token(model, vocab):
    spy = Spy(model)
    out = generate(spy, vocab, "мари", max_len=6, seed=0)
    assert len(out) == 4 + 6
    # first call: <bos> + the 4 prefix characters, without a state
    assert spy.calls[0] == ((1, 5), vocab.bos, True)
    # then one single-token call per new character (the last one is not fed back)
    assert [c[0] for c in spy.calls[1:]] == [(1, 1)] * 5
    assert all(not c[2] for c in spy.calls[1:])


def test_empty_prefix_starts_from_bos(model, vocab):
    spy = Spy(model)
    out = generate(spy, vocab, "", max_len=4, seed=1)
    assert spy.calls[0][:2] == ((1, 1), vocab.bos)
    assert len(out) == 4 and set(out) <= set("анмриояльг")


def test_max_len_bounds_output(model, vocab):
    assert generate(model, vocab, "ия", max_len=0) == "ия"
    for n in (1, 3, 7):
        assert len(generate(model, vocab, "ия", max_len=n, seed=0)) == 2 + n


def test_stops_at_eos_and_never_emits_pad_or_bos(vocab):
    model = CharRNN(len(vocab), 4)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(0.0)
        model.head.bias[vocab.pad] = 50.0  # the most likely, but banned
        model.head.bias[vocab.bos] = 40.0  # banned too
        model.head.bias[vocab.stoi["я"]] = 30.0
    assert generate(model, vocab, "и", max_len=5, temperature=0) == "ияяяяя"
    with torch.no_grad():
        model.head.bias[vocab.eos] = 35.0
    assert generate(model, vocab, "и", max_len=5, temperature=0) == "и"


def test_unknown_prefix_character_is_named(model, vocab):
    with pytest.raises(ValueError, match="'Z'"):
        generate(model, vocab, "анZа")
    with pytest.raises(ValueError, match="'ю'"):
        generate(model, vocab, "юля")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"temperature": -1.0}, "temperature must be >= 0"),
        ({"max_len": -1}, "max_len"),
        ({"top_k": 0}, "top_k"),
        ({"top_p": 2.0}, "top_p"),
    ],
)
def test_generate_bad_options(model, vocab, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate(model, vocab, "ан", **kwargs)


def test_no_bos_needs_prefix():
    vocab = Vocab.from_text(["анна ", "ия "])  # the lecture's style: no specials
    model = CharRNN(len(vocab), 4)
    with pytest.raises(ValueError, match="non-empty prefix"):
        generate(model, vocab, "")
    assert len(generate(model, vocab, "ан", max_len=3, seed=0)) == 5


def test_word_level_joins_with_spaces():
    vocab = Vocab.from_text(
        "мама мыла раму а рама мыла маму", level="word", specials=("<bos>", "<eos>")
    )
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 8, embed_size=4)
    with torch.no_grad():
        model.head.bias[vocab.eos] = -10.0
    out = generate(model, vocab, "мама мыла", max_len=3, seed=0)
    words = out.split(" ")
    assert words[:2] == ["мама", "мыла"] and len(words) == 5
    assert all(w in vocab.stoi for w in words)
    with pytest.raises(ValueError, match="'папа'"):
        generate(model, vocab, "папа")


def test_restores_training_mode(model, vocab):
    model.train()
    generate(model, vocab, "а", max_len=2, seed=0)
    assert model.training
