"""Tests for lecture_utils.taggers (notebook 05: stacked and bidirectional RNNs)."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from lecture_utils import taggers as tg


# ---- parameter counts and shapes ---------------------------------------------------------------
@pytest.mark.parametrize(
    "cell, num_layers, bidirectional, bias, proj_size",
    [
        (c, L, bi, b, 0)
        for c, L, bi, b in itertools.product(
            ["rnn", "lstm", "gru"], [1, 3], [False, True], [True, False]
        )
    ]
    + [("lstm", 2, True, True, 5), ("lstm", 1, False, False, 3)],
)
def test_param_formula_matches_torch(cell, num_layers, bidirectional, bias, proj_size):
    kwargs = dict(num_layers=num_layers, bidirectional=bidirectional, bias=bias)
    if proj_size:
        kwargs["proj_size"] = proj_size
    rnn = tg.make_rnn(cell, 7, 11, **kwargs)
    expected = tg.expected_rnn_params(cell, 7, 11, **kwargs)
    actual = {name: shape for name, shape, _ in tg.rnn_param_table(rnn)}
    assert actual == expected
    assert tg.rnn_param_count(cell, 7, 11, **kwargs) == tg.count_params(rnn)


def test_param_formula_single_layer_closed_form():
    # g·H·(I + H + 2): RNN g=1, GRU g=3, LSTM g=4
    assert tg.rnn_param_count("rnn", 10, 20) == 1 * 20 * (10 + 20 + 2)
    assert tg.rnn_param_count("gru", 10, 20) == 3 * 20 * (10 + 20 + 2)
    assert tg.rnn_param_count("lstm", 10, 20, bias=False) == 4 * 20 * (10 + 20)


def test_param_formula_rejects_bad_arguments():
    with pytest.raises(ValueError, match="only by LSTM"):
        tg.expected_rnn_params("gru", 3, 8, proj_size=2)
    with pytest.raises(ValueError, match="proj_size"):
        tg.expected_rnn_params("lstm", 3, 8, proj_size=8)
    with pytest.raises(ValueError, match="unknown cell"):
        tg.make_rnn("transformer", 3, 8)


@pytest.mark.parametrize(
    "cell, num_layers, bidirectional, batch_first, proj_size",
    [
        ("rnn", 1, False, False, 0),
        ("gru", 2, True, True, 0),
        ("lstm", 3, True, False, 0),
        ("lstm", 2, True, True, 4),
    ],
)
def test_output_shapes(cell, num_layers, bidirectional, batch_first, proj_size):
    kwargs = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    if proj_size:
        kwargs["proj_size"] = proj_size
    rnn = tg.make_rnn(cell, 5, 9, **kwargs)
    expected = tg.expected_output_shapes(cell, batch=3, seq_len=6, hidden_size=9, **kwargs)
    assert tg.run_shapes(rnn, batch=3, seq_len=6) == expected


def test_last_layer_states_are_the_ends_of_the_output():
    torch.manual_seed(0)
    rnn = nn.GRU(4, 6, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(3, 5, 4)
    out, h_n = rnn(x)  # out (B, T, 2H)
    fwd, bwd = tg.last_layer_states(h_n, num_layers=2, bidirectional=True)
    # forward direction ends at the last step, backward direction ends at step 0
    torch.testing.assert_close(fwd, out[:, -1, :6])
    torch.testing.assert_close(bwd, out[:, 0, 6:])
    fwd1, none = tg.last_layer_states(h_n[:1], num_layers=1, bidirectional=False)
    assert none is None and fwd1.shape == (3, 6)
    with pytest.raises(ValueError, match="num_layers"):
        tg.last_layer_states(h_n, num_layers=3, bidirectional=True)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("batch_first", [True, False])
def test_packed_equals_per_sequence(cell, batch_first):
    torch.manual_seed(1)
    rnn = tg.make_rnn(cell, 3, 5, num_layers=2, bidirectional=True, batch_first=batch_first)
    seqs = [torch.randn(n, 3) for n in (7, 2, 5, 1)]
    diff = tg.packed_vs_separate(rnn, seqs)
    assert diff["output"] < 1e-5
    assert diff["h_n"] < 1e-5
    assert diff["padded_output_zero"] == 0.0


def test_padding_without_packing_changes_results():
    """The reason packing exists: run on a padded batch, the backward direction reads the pads first."""
    torch.manual_seed(2)
    rnn = nn.GRU(3, 5, bidirectional=True, batch_first=True)
    seq = torch.randn(4, 3)
    padded = torch.cat([seq, torch.zeros(3, 3)]).unsqueeze(0)  # 3 padding steps
    with torch.no_grad():
        alone, _ = rnn(seq.unsqueeze(0))
        unpacked, _ = rnn(padded)
    # forward half agrees (pads come after), backward half does not
    torch.testing.assert_close(unpacked[0, :4, :5], alone[0, :, :5])
    assert (unpacked[0, :4, 5:] - alone[0, :, 5:]).abs().max() > 1e-3


def test_layerwise_states_reproduce_stacked_output():
    torch.manual_seed(3)
    for cell in ("rnn", "lstm", "gru"):
        rnn = tg.make_rnn(cell, 4, 6, num_layers=3, batch_first=True)
        x = torch.randn(2, 7, 4)
        states = tg.layerwise_states(rnn, x)
        assert len(states) == 3 and all(s.shape == (2, 7, 6) for s in states)
        with torch.no_grad():
            out, _ = rnn(x)
        torch.testing.assert_close(states[-1], out)
    with pytest.raises(ValueError, match="unidirectional"):
        tg.layerwise_states(nn.GRU(4, 6, bidirectional=True), torch.randn(5, 1, 4))


def test_change_rate():
    slow = torch.ones(1, 10, 4)
    assert tg.change_rate(slow) == 0.0
    flip = torch.ones(1, 10, 4)
    flip[:, ::2] = -1
    assert tg.change_rate(flip) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        tg.change_rate(torch.ones(10, 4))


# ---- models --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_model_shapes(cell, bidirectional):
    cfg = tg.TaggerConfig(
        vocab_size=10,
        num_classes=3,
        hidden_size=8,
        num_layers=2,
        cell=cell,
        bidirectional=bidirectional,
    )
    x = torch.randint(1, 10, (4, 6))
    lengths = torch.tensor([6, 3, 1, 5])
    tagger, clf = tg.build_model("tagger", cfg), tg.build_model("classifier", cfg)
    assert tagger(x).shape == (4, 6, 3)
    assert tagger(x, lengths).shape == (4, 6, 3)
    assert clf(x, lengths).shape == (4, 3)


def test_classifier_ignores_padding_when_lengths_given():
    torch.manual_seed(4)
    cfg = tg.TaggerConfig(vocab_size=10, num_classes=2, hidden_size=8, bidirectional=True)
    clf = tg.RNNClassifier(cfg).eval()
    x = torch.tensor([[3, 4, 5, 0, 0]])
    x_other_pad = torch.tensor([[3, 4, 5, 7, 9]])
    lengths = torch.tensor([3])
    with torch.no_grad():
        torch.testing.assert_close(clf(x, lengths), clf(x_other_pad, lengths))
        torch.testing.assert_close(clf(x, lengths), clf(x[:, :3]))


def test_model_input_errors():
    clf = tg.RNNClassifier(tg.TaggerConfig(vocab_size=10, num_classes=2))
    with pytest.raises(ValueError, match="token ids"):
        clf(torch.randn(2, 3))
    with pytest.raises(ValueError, match="lengths"):
        clf(torch.ones(2, 3, dtype=torch.long), torch.tensor([3]))
    with pytest.raises(ValueError, match="between 1 and T"):
        clf(torch.ones(2, 3, dtype=torch.long), torch.tensor([3, 4]))
    with pytest.raises(ValueError, match="unknown model kind"):
        tg.build_model("generator", tg.TaggerConfig(vocab_size=3, num_classes=2))


def test_hidden_for_budget_matches_parameter_counts():
    uni = tg.TaggerConfig(vocab_size=33, num_classes=2, embed_size=16, hidden_size=64, cell="gru")
    budget = tg.count_params(tg.RNNTagger(uni))
    bi = tg.TaggerConfig(**{**uni.__dict__, "bidirectional": True})
    h = tg.hidden_for_budget(bi, budget)
    n_bi = tg.count_params(tg.RNNTagger(tg.TaggerConfig(**{**bi.__dict__, "hidden_size": h})))
    assert h < 64
    assert abs(n_bi - budget) / budget < 0.02
    assert tg.hidden_for_budget(uni, budget) == 64


# ---- data ----------------------------------------------------------------------------------------
def test_despace_and_respace():
    letters, labels = tg.despace("Все счастливые семьи, похожи!")
    assert letters == "всесчастливыесемьипохожи"
    assert labels == [0, 0, 1] + [0] * 9 + [1] + [0] * 4 + [1] + [0] * 5 + [1]
    assert tg.respace(letters, labels) == "все счастливые семьи похожи"
    with pytest.raises(ValueError, match="no Russian letters"):
        tg.despace("Hello, 123")


def test_make_boundary_data():
    text = "Все счастливые семьи похожи друг на друга. " * 60
    d = tg.make_boundary_data(text, seq_len=16, n_train=10, n_val=4, val_fraction=0.25)
    assert d.x_train.shape == (10, 16) and d.y_train.shape == (10, 16)
    assert d.x_val.shape == (4, 16)
    assert set(d.y_train.unique().tolist()) == {0, 1}
    first = d.vocab.decode(d.x_train[0].tolist())
    assert tg.respace(first, d.y_train[0].tolist()).startswith("все счастливые")


def test_make_gender_data():
    pairs = [("анна", "f"), ("иван", "m"), ("мария", "f"), ("пётр", "m"), ("ольга", "f")] * 4
    d = tg.make_gender_data(pairs, val_fraction=0.25, seed=0)
    assert d.vocab.pad == 0
    assert len(d.x_train) == 15 and len(d.x_val) == 5 == len(d.items_val)
    assert d.x_train.shape[1] == int(d.len_train.max())
    name = d.vocab.decode(d.x_val[0, : d.len_val[0]].tolist())
    assert name == d.items_val[0]
    back = tg.make_gender_data(pairs, val_fraction=0.25, seed=0, reverse=True)
    assert back.vocab.decode(back.x_val[0, : back.len_val[0]].tolist()) == d.items_val[0][::-1]
    assert torch.equal(back.y_val, d.y_val)
    with pytest.raises(ValueError, match="unknown gender"):
        tg.make_gender_data([("анна", "x"), ("иван", "m")])


# ---- learning ------------------------------------------------------------------------------------
def test_tiny_bidirectional_tagger_learns_right_context_task():
    """Label = the NEXT token is 0: impossible from the left alone, easy with the right context."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 4, (600, 12), generator=gen)
    y = torch.zeros_like(x)
    y[:, :-1] = (x[:, 1:] == 0).long()
    torch.manual_seed(0)
    results = {}
    for bi in (False, True):
        cfg = tg.TaggerConfig(
            vocab_size=4, num_classes=2, embed_size=8, hidden_size=16, bidirectional=bi
        )
        model = tg.RNNTagger(cfg)
        tg.train_model(model, x[:500], y[:500], x[500:], y[500:], epochs=6, batch_size=50, lr=1e-2)
        results[bi] = tg.evaluate_model(model, x[500:], y[500:])["accuracy"]
    chance = 1 - y[500:].float().mean().item()  # always predicting "no"
    assert results[True] > 0.97
    assert results[False] < chance + 0.03  # the left context carries no information
    assert results[True] > results[False] + 0.15


def test_tiny_classifier_learns_above_chance():
    pairs = [(w, "f") for w in ("анна", "мария", "ольга", "ирина", "вера", "нина")] + [
        (w, "m") for w in ("иван", "пётр", "олег", "борис", "глеб", "денис")
    ]
    d = tg.make_gender_data(pairs * 10, val_fraction=0.2, seed=0)
    torch.manual_seed(0)
    model = tg.RNNClassifier(
        tg.TaggerConfig(vocab_size=len(d.vocab), num_classes=2, hidden_size=16)
    )
    result = tg.train_model(
        model,
        d.x_train,
        d.y_train,
        d.x_val,
        d.y_val,
        d.len_train,
        d.len_val,
        epochs=5,
        batch_size=16,
        lr=1e-2,
    )
    assert result.val_accuracy[-1] > 0.9
    assert result.train_loss[-1] < result.train_loss[0]


def test_scores():
    pred = torch.tensor([1, 1, 0, 0])
    y = torch.tensor([1, 0, 1, 0])
    s = tg.scores(pred, y)
    assert s == {"accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5}
    with pytest.raises(ValueError):
        tg.scores(pred, y[:3])


def test_input_influence_uni_is_causal_bi_is_not():
    torch.manual_seed(5)
    x = torch.randint(0, 6, (10,))
    for bi in (False, True):
        cfg = tg.TaggerConfig(vocab_size=6, num_classes=6, hidden_size=8, bidirectional=bi)
        infl = tg.input_influence(tg.RNNTagger(cfg), x, position=4)
        assert infl.shape == (10,)
        assert (infl[:5] > 0).all()
        if bi:
            assert (infl[5:] > 0).all()
        else:
            assert (infl[5:] == 0).all()
    with pytest.raises(ValueError, match="position"):
        tg.input_influence(tg.RNNTagger(cfg), x, position=10)


def test_next_token_windows():
    x, y = tg.next_token_windows(list(range(20)), seq_len=4, limit=3)
    assert x.shape == y.shape == (3, 4)
    assert torch.equal(y, x + 1)


def test_evaluate_loss_and_continue_text():
    from lecture_utils.data import Vocab

    vocab = Vocab.from_text("абв ")
    torch.manual_seed(6)
    model = tg.RNNTagger(
        tg.TaggerConfig(vocab_size=len(vocab), num_classes=len(vocab), hidden_size=8)
    )
    x = torch.randint(0, len(vocab), (5, 7))
    loss = tg.evaluate_loss(model, x, x)
    # an untrained model is close to uniform: loss near log(V)
    assert abs(loss - torch.log(torch.tensor(float(len(vocab)))).item()) < 0.5
    greedy = tg.continue_text(model, vocab, "аб", n_chars=6)
    assert greedy.startswith("аб") and len(greedy) == 8
    assert greedy == tg.continue_text(model, vocab, "аб", n_chars=6)
    sampled = tg.continue_text(model, vocab, "аб", n_chars=6, temperature=1.0, seed=3)
    assert sampled == tg.continue_text(model, vocab, "аб", n_chars=6, temperature=1.0, seed=3)
    with pytest.raises(ValueError, match="prefix"):
        tg.continue_text(model, vocab, "", n_chars=3)


def test_plots_return_figures():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lecture_utils.plots import deep

    result = tg.TrainResult([1.0, 0.5], [1.1, 0.9], [0.6, 0.7], seconds=1.5, params=10)
    figs = [
        deep.architectures(steps=3, layers=2),
        deep.curves_and_time({"a": result, "b": result}),
        deep.layer_states([torch.zeros(5, 3), torch.ones(5, 3)], "абвгд", rates=[0.1, 0.2]),
        deep.accuracy_bars({"→": [0.9, 0.92], "↔ двунаправленная": [0.95]}, chance=0.5),
        deep.boundary_probabilities("абв", [0, 0, 1], {"→": [0.1, 0.2, 0.6]}),
        deep.influence("абвг", 1, {"→": [1.0, 0.5, 0.0, 0.0], "↔": [0.2, 0.5, 1.0, 0.1]}),
    ]
    for fig in figs:
        assert isinstance(fig, matplotlib.figure.Figure)
        assert all(ax.get_title() or not ax.axison for ax in fig.axes[:1])
        plt.close(fig)
