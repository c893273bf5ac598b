"""Tests for lecture_utils.names: the lecture's baseline, bigram, batches, scoring, statistics."""

import math

import pytest
import torch
import torch.nn.functional as F

from lecture_utils import names as N
from lecture_utils.models import CharRNN
from lecture_utils.sampling import generate
from lecture_utils.train import IGNORE_INDEX

NAMES = ["анна", "ия", "мария", "ольга", "нина"]


# ----------------------------------------------------------------------------- lecture baseline


def test_lecture_data_pads_with_spaces():
    d = N.lecture_data(NAMES)
    assert d.maxlen == 5
    assert " " in d.chars and d.chars == sorted(d.chars)
    assert d.inputs.shape == (5, 4, d.dict_size)
    assert torch.equal(d.inputs.sum(-1), torch.ones(5, 4))  # one-hot
    space = d.char2int[" "]
    # "ия" -> "ия   ": input "ия  ", target "я   " (the padding is a target to learn)
    assert d.targets[1].tolist() == [d.char2int["я"], space, space, space]
    assert d.inputs[1, 1].argmax().item() == d.char2int["я"]
    assert d.inputs[1, 2].argmax().item() == space


def test_lecture_alphabet_and_unknown_characters():
    d = N.lecture_data(["анна"], alphabet="ёж")
    assert {"ё", "ж"} <= set(d.chars)
    with pytest.raises(ValueError, match="'z'"):
        d.one_hot(["zz"])


def test_lecture_model_trains_and_samples_greedily():
    torch.manual_seed(0)
    d = N.lecture_data(NAMES)
    model = N.LectureRNN(d.dict_size, d.dict_size, hidden_dim=12)
    logits, hidden = model(d.inputs)
    assert logits.shape == (5 * 4, d.dict_size) and hidden.shape == (1, 5, 12)
    curves = N.train_lecture(model, d, epochs=60, lr=0.01, eval_fn=lambda m: 1.0)
    assert len(curves["train"]) == 60 and curves["val"] == [1.0] * 60
    assert curves["train"][-1] < 0.6 * curves["train"][0]
    out = N.lecture_sample(model, d, 12, "АН")
    assert len(out) == 12 and out.startswith("ан")
    assert out == N.lecture_sample(model, d, 12, "ан")  # greedy: one answer per prefix


def test_lecture_sample_reruns_the_prefix(monkeypatch):
    """Each new character costs a forward pass over the whole string: quadratic total work."""
    d = N.lecture_data(NAMES)
    model = N.LectureRNN(d.dict_size, d.dict_size)
    lengths = []
    original = model.forward

    def spy(x):
        lengths.append(x.shape[1])
        return original(x)

    monkeypatch.setattr(model, "forward", spy)
    N.lecture_sample(model, d, 10, "ан")
    assert lengths == list(range(2, 10))


def test_lecture_name_loss_matches_manual():
    torch.manual_seed(1)
    d = N.lecture_data(NAMES)
    model = N.LectureRNN(d.dict_size, d.dict_size)
    logits, _ = model(d.one_hot(["ия"]))  # (2, V)
    target = torch.tensor([d.char2int["я"], d.char2int[" "]])
    manual = F.cross_entropy(logits, target).item()
    assert math.isclose(N.lecture_name_loss(model, d, ["ия"]), manual, rel_tol=1e-5)
    # several names: a mean over all 3 + 4 scored predictions, padding not scored
    logits2, _ = model(d.one_hot(["нина"]))
    t2 = torch.tensor([d.char2int[c] for c in "ина "])
    expected = (manual * 2 + F.cross_entropy(logits2, t2).item() * 4) / 6
    assert math.isclose(N.lecture_name_loss(model, d, ["ия", "нина"]), expected, rel_tol=1e-5)


# ----------------------------------------------------------------------------- bigram


def test_bigram_probabilities_and_loss():
    b = N.BigramModel.fit(["аб", "аб"], alpha=1.0)
    lp = b.log_probs()
    torch.testing.assert_close(lp.exp().sum(1), torch.ones(3))
    # row "а": counts б=2 -> smoothed (а:1, б:3, $:1)/5
    assert math.isclose(b.name_loss(["аб"]), -(math.log(3 / 5) + math.log(3 / 5)) / 2, rel_tol=1e-6)
    sharp = N.BigramModel.fit(["аб"], alpha=1e-6)
    assert sharp.name_loss(["аб"]) < 1e-4
    with pytest.raises(ValueError, match="'в'"):
        b.name_loss(["ав"])


def test_bigram_sample_is_seeded():
    b = N.BigramModel.fit(NAMES, alpha=0.1)
    s1 = b.sample(20, seed=3)
    assert s1 == b.sample(20, seed=3) and len(s1) == 20
    assert all(set(s) <= set("".join(NAMES)) and len(s) <= 20 for s in s1)


# ----------------------------------------------------------------------------- improved pipeline


def test_encode_names_bos_eos_and_ignored_padding():
    vocab = N.names_vocab(NAMES)
    assert (vocab.pad, vocab.bos, vocab.eos) == (0, 1, 2)
    x, y = N.encode_names(["ия", "анна"], vocab)
    assert x.shape == y.shape == (2, 5)
    assert x[0].tolist() == [vocab.bos, *vocab.encode("ия"), vocab.pad, vocab.pad]
    assert y[0].tolist() == [*vocab.encode("ия"), vocab.eos, IGNORE_INDEX, IGNORE_INDEX]
    assert y[1].tolist() == [*vocab.encode("анна"), vocab.eos]
    _, y1 = N.encode_names(["ия", "анна"], vocab, unscored=1)
    assert (y1[:, 0] == IGNORE_INDEX).all() and torch.equal(y1[:, 1:], y[:, 1:])
    # scored predictions = letters after the first + the end: 2 + 4
    assert int((y1 != IGNORE_INDEX).sum()) == 6


def test_name_batches_reshuffle_and_cover_everything():
    vocab = N.names_vocab(NAMES)
    batches = N.NameBatches(NAMES, vocab, batch_size=2, seed=0)
    assert len(batches) == 3
    seen_orders = []
    for _ in range(4):
        firsts = []
        for x, _ in batches:
            assert x.shape[0] <= 2
            firsts += [vocab.decode(row[1:]).replace("<pad>", "") for row in x]
        assert sorted(firsts) == sorted(NAMES)
        seen_orders.append(tuple(firsts))
    assert len(set(seen_orders)) > 1  # reshuffled between passes
    again = N.NameBatches(NAMES, vocab, batch_size=2, seed=0)
    first_again = [vocab.decode(row[1:]).replace("<pad>", "") for x, _ in again for row in x]
    assert tuple(first_again) == seen_orders[0]  # seeded
    with pytest.raises(ValueError):
        N.NameBatches(NAMES, vocab, batch_size=0)


def test_mark_gender():
    assert N.mark_gender([("анна", "f"), ("иван", "m")]) == ["♀анна", "♂иван"]


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_generate_rerun_gives_the_same_names(cell):
    vocab = N.names_vocab(NAMES)
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 16, cell=cell, embed_size=4)
    for seed in range(10):
        assert N.generate_rerun(model, vocab, "а", 12, seed=seed) == generate(
            model, vocab, "а", 12, seed=seed
        )


def test_sample_names_and_stats():
    vocab = N.names_vocab(["♀анна", "♂иван"])
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 8)
    out = N.sample_names(model, vocab, 5, prefix="♀", seed=2, strip="♀", max_len=6)
    assert len(out) == 5 and all(not s.startswith("♀") and len(s) <= 6 for s in out)
    assert out == N.sample_names(model, vocab, 5, prefix="♀", seed=2, strip="♀", max_len=6)
    stats = N.sample_stats(["анна", "ия", "анна", "зоя"], train_names=["анна", "ия"])
    assert stats.n == 4
    assert stats.new_share == 0.25
    assert stats.duplicate_share == 0.25
    assert stats.mean_length == 3.25
    assert stats.length_counts == {2: 1, 3: 1, 4: 2}
    with pytest.raises(ValueError):
        N.sample_stats([], ["анна"])


def test_averaged_lm_averages_probabilities():
    vocab = N.names_vocab(NAMES)
    torch.manual_seed(0)
    members = [CharRNN(len(vocab), 8, cell=c, embed_size=4) for c in ("gru", "lstm")]
    avg = N.AveragedLM(members)
    x, y = N.encode_names(NAMES, vocab, unscored=1)
    log_p, state = avg(x)
    expected = (torch.softmax(members[0](x)[0], -1) + torch.softmax(members[1](x)[0], -1)) / 2
    torch.testing.assert_close(log_p.exp(), expected)
    assert len(state) == 2 and isinstance(state[1], tuple)  # the LSTM member keeps (h, c)
    # works with the shared machinery: evaluate and the stateful generate
    from lecture_utils.train import evaluate

    assert evaluate(avg, [(x, y)]) > 0
    assert N.generate_rerun(avg, vocab, "а", 8, seed=1) == generate(avg, vocab, "а", 8, seed=1)
    with pytest.raises(ValueError):
        N.AveragedLM([])


def test_compare_generation_speed_and_cost():
    vocab = N.names_vocab(NAMES)
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 8)
    result = N.compare_generation_speed(model, vocab, n_names=3, max_len=5, rounds=2)
    assert result["same"] and result["stateful"] > 0 and result["rerun"] > 0
    assert 0 < result["chars"] <= 15
    assert N.generation_cost(model, 4, rerun=True, repeats=1) > 0
    assert N.generation_cost(model, 4, rerun=False, repeats=1) > 0
