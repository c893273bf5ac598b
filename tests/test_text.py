"""Tests for lecture_utils.text and lecture_utils.plots.text (notebook 07)."""

from __future__ import annotations

import math
from collections import Counter

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from lecture_utils import text as tx
from lecture_utils.data import DataUnavailableError, Vocab, load_text
from lecture_utils.models import CharRNN, count_parameters
from lecture_utils.plots import text as ptx

SAMPLE = (
    "Все счастливые семьи похожи друг на друга, каждая несчастливая семья несчастлива "
    "по-своему.\n\nВсё смешалось в доме Облонских. Жена узнала, что муж был в связи с "
    "бывшею в их доме француженкою-гувернанткой, и объявила мужу, что не может жить с ним "
    "в одном доме. «Анна, – сказал он, – не надо!»\n"
)


# ---------------------------------------------------------------------------- tokenisation


def test_whitespace_tokens_is_the_lectures_split():
    assert tx.whitespace_tokens("Анна  не\nпришла,") == ["Анна", "не", "пришла,"]
    with pytest.raises(TypeError):
        tx.whitespace_tokens(["Анна"])


def test_course_tokens_split_punctuation_and_mark_capitals():
    toks = tx.course_tokens("«Анна, что-то не так!»\n\nВронский")
    assert toks == [
        "«", "<cap>", "анна", ",", "что-то", "не", "так", "!", "»", "<nl>", "<cap>", "вронский",
    ]  # fmt: skip
    # a single newline (a wrapped line) is not a paragraph break
    assert "<nl>" not in tx.course_tokens("один\nдва")


def test_detokenize_inverts_course_tokens_on_ordinary_prose():
    text = "«Все счастливые семьи похожи друг на друга, каждая по-своему.»\nАнна – дома."
    assert tx.detokenize(tx.course_tokens(text.replace("\n", "\n\n"))) == text


def test_word_vocab_is_ordered_by_frequency_and_capped_with_unk():
    toks = "b a b c b a".split()
    full = tx.word_vocab(toks)
    assert full.itos == ["b", "a", "c"] and full.unk is None and full.level == "word"
    capped = tx.word_vocab(toks, max_size=1, extra=["<nl>"])
    assert capped.itos == ["<unk>", "b", "<nl>"]
    assert capped.encode(["b", "c", "a"]) == [1, 0, 0]
    with pytest.raises(ValueError, match="empty"):
        tx.word_vocab([])
    with pytest.raises(ValueError, match="max_size"):
        tx.word_vocab(toks, max_size=0)


def test_corpus_stats_counts():
    toks = "a a a b b c".split()
    st = tx.corpus_stats("a a a b b c", toks, tops=(1, 2, 10))
    assert (st.n_tokens, st.n_types, st.hapax, st.n_chars) == (6, 3, 1, 11)
    assert st.coverage == {1: 0.5, 2: pytest.approx(5 / 6), 10: 1.0}
    with pytest.raises(ValueError):
        tx.corpus_stats("", [])


def test_split_text_cuts_at_line_breaks_and_keeps_everything():
    text = "".join(f"строка номер {i}\n" for i in range(200))
    parts = tx.split_text(text, (0.9, 0.05, 0.05))
    assert "".join(parts) == text
    assert all(p.endswith("\n") for p in parts)
    assert abs(len(parts[0]) / len(text) - 0.9) < 0.02
    with pytest.raises(ValueError, match="empty"):
        tx.split_text("")
    with pytest.raises(ValueError, match="too short"):
        tx.split_text("одна строка\n", (0.5, 0.5))


def test_bits_per_char():
    # ln 2 nats per token, one token per character -> exactly one bit per character
    assert tx.bits_per_char(math.log(2), 10, 10) == pytest.approx(1.0)
    assert tx.bits_per_char(math.log(2), 10, 20) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        tx.bits_per_char(1.0, 0, 5)


# ---------------------------------------------------------------------------- models


def test_lecture_model_shapes_and_parameter_count():
    torch.manual_seed(0)
    m = tx.LectureWordLSTM(100)
    logits, (h, c) = m(torch.randint(0, 100, (3, 7)))
    assert logits.shape == (3, 7, 100) and h.shape == c.shape == (1, 3, 64)
    # embedding 100*64 + LSTM 4*64*(64+64+2) + Linear 64*100+100
    assert count_parameters(m) == 100 * 64 + 4 * 64 * 130 + 64 * 100 + 100
    with pytest.raises(ValueError, match="token ids"):
        m(torch.tensor([[100]]))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_adaptive_model_gives_a_normalised_distribution_matching_its_loss(cell):
    torch.manual_seed(0)
    cfg = tx.AdaptiveConfig(
        vocab_size=50, embed_size=8, hidden_size=16, cell=cell, cutoffs=(10, 30)
    )
    m = tx.AdaptiveWordLM(cfg).eval()
    x = torch.randint(0, 50, (2, 5))
    y = torch.randint(0, 50, (2, 5))
    logp, _ = m(x)
    assert logp.shape == (2, 5, 50)
    assert torch.allclose(logp.exp().sum(-1), torch.ones(2, 5), atol=1e-5)
    loss, _ = m.loss(x, y)
    expected = -logp.gather(-1, y[..., None]).mean()
    assert float(loss.detach()) == pytest.approx(float(expected.detach()), rel=1e-5)


def test_adaptive_model_small_vocab_and_bad_config():
    small = tx.AdaptiveWordLM(tx.AdaptiveConfig(vocab_size=5, embed_size=4, hidden_size=4))
    assert small.out is None  # cutoffs beyond the vocabulary: a plain softmax
    logp, _ = small(torch.tensor([[1, 2]]))
    assert torch.allclose(logp.exp().sum(-1), torch.ones(1, 2), atol=1e-5)
    with pytest.raises(ValueError, match="increasing"):
        tx.AdaptiveWordLM(tx.AdaptiveConfig(vocab_size=50, cutoffs=(30, 10)))
    with pytest.raises(ValueError, match="cell"):
        tx.AdaptiveWordLM(tx.AdaptiveConfig(vocab_size=50, cell="transformer"))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_hidden_for_budget_hits_the_budget(cell):
    h = tx.hidden_for_budget(cell, 200_000, input_size=100, output_size=100)
    n = count_parameters(CharRNN(100, h, cell=cell))
    assert abs(n - 200_000) / 200_000 < 0.01
    with pytest.raises(ValueError, match="too small"):
        tx.hidden_for_budget(cell, 50, input_size=100, output_size=100)


# ---------------------------------------------------------------------------- training


def _tiny_corpus():
    toks = tx.whitespace_tokens(SAMPLE * 8)
    vocab = tx.word_vocab(toks)
    ids = tx.encode_corpus(vocab, toks)
    return vocab, ids[:-100], ids[-100:]


def test_timed_run_learns_and_records_a_curve():
    torch.manual_seed(0)
    vocab, train_ids, val_ids = _tiny_corpus()
    cfg = tx.AdaptiveConfig(len(vocab), embed_size=16, hidden_size=32, cutoffs=(10,))
    run = tx.TimedRun(
        tx.AdaptiveWordLM(cfg),
        train_ids,
        val_ids,
        tx.RunConfig(n_streams=4, seq_len=8, lr=0.03, eval_streams=2, eval_seq_len=16),
    )
    first = run.validate()
    run.train(run.steps_per_epoch * 3)  # crosses epoch boundaries
    last = run.validate()
    assert run.epoch >= 3 and run.steps == run.steps_per_epoch * 3
    assert 0 < run.tokens <= run.steps * 4 * 8  # an epoch's last window can be shorter
    assert last < first - 0.5  # it learnt the repeated text
    assert run.time_to_reach(last) == run.curve[-1].train_time
    assert run.time_to_reach(-1.0) is None
    assert run.tokens_per_second > 0


def test_timed_run_lecture_model_and_cosine_schedule():
    torch.manual_seed(0)
    vocab, train_ids, val_ids = _tiny_corpus()
    cfg = tx.RunConfig(n_streams=4, seq_len=8, schedule="cosine", total_steps=10, lr_min=0.001)
    run = tx.TimedRun(tx.LectureWordLSTM(len(vocab), 8, 8), train_ids, val_ids, cfg)
    run.train(10)
    assert run.optimizer.param_groups[0]["lr"] == pytest.approx(0.001)
    with pytest.raises(ValueError, match="total_steps"):
        tx.TimedRun(run.model, train_ids, val_ids, tx.RunConfig(schedule="cosine"))
    with pytest.raises(ValueError, match="schedule"):
        tx.TimedRun(run.model, train_ids, val_ids, tx.RunConfig(schedule="step"))


def test_race_gives_every_run_its_budget():
    torch.manual_seed(0)
    vocab, train_ids, val_ids = _tiny_corpus()
    cfg = tx.RunConfig(n_streams=4, seq_len=8, eval_streams=2, eval_seq_len=16)
    runs = [
        tx.TimedRun(tx.LectureWordLSTM(len(vocab), 8, 8), train_ids, val_ids, cfg, "a"),
        tx.TimedRun(tx.LectureWordLSTM(len(vocab), 8, 16), train_ids, val_ids, cfg, "b"),
    ]
    tx.race(runs, budget_s=0.3, chunk_steps=[2, 1], eval_every_s=0.1)
    for run in runs:
        assert run.train_time >= 0.3 and run.curve and run.curve[-1].steps == run.steps
    with pytest.raises(ValueError):
        tx.race(runs, budget_s=0)


# ---------------------------------------------------------------------------- generation


def _word_model():
    toks = tx.course_tokens(SAMPLE)
    vocab = tx.word_vocab(toks, max_size=60, extra=tx.MARKERS)
    cfg = tx.AdaptiveConfig(len(vocab), embed_size=8, hidden_size=8, cutoffs=(10,))
    torch.manual_seed(0)
    return tx.AdaptiveWordLM(cfg), vocab


def test_generate_words_is_seeded_readable_and_never_unk():
    model, vocab = _word_model()
    a = tx.generate_words(model, vocab, "Анна не", max_len=30, seed=3)
    b = tx.generate_words(model, vocab, "Анна не", max_len=30, seed=3)
    assert a == b and a.startswith("Анна не")
    assert "<unk>" not in a and "<cap>" not in a
    greedy = tx.generate_words(model, vocab, "Анна", max_len=5, temperature=0)
    assert greedy == tx.generate_words(model, vocab, "Анна", max_len=5, temperature=0)


def test_generate_words_rejects_empty_prompt_and_unknown_words():
    model, vocab = _word_model()
    with pytest.raises(ValueError, match="empty"):
        tx.generate_words(model, vocab, "   ")
    with pytest.raises(ValueError, match="'левин'"):
        tx.generate_words(model, vocab, "Анна и Левин")
    with pytest.raises(ValueError, match="tokenizer"):
        tx.generate_words(model, vocab, "Анна", tokenizer="bpe")


def test_generate_words_with_the_lectures_whitespace_vocab():
    toks = tx.whitespace_tokens(SAMPLE)
    vocab = tx.word_vocab(toks)
    torch.manual_seed(0)
    model = tx.LectureWordLSTM(len(vocab), 8, 8)
    out = tx.generate_words(
        model, vocab, "Жена узнала,", tokenizer="whitespace", max_len=4, top_k=5
    )
    assert out.startswith("Жена узнала,") and len(out.split()) == 6
    with pytest.raises(ValueError, match="'Каренина'"):
        tx.generate_words(model, vocab, "Анна Каренина", tokenizer="whitespace")


def test_missing_corpus_gives_a_clear_message(tmp_path, monkeypatch):
    import lecture_utils.data as data

    def offline(*args, **kwargs):
        raise DataUnavailableError("no network")

    monkeypatch.setattr(data, "download", offline)
    with pytest.raises(DataUnavailableError, match="Download .* by hand"):
        load_text("anna_karenina", cache_dir=tmp_path)


# ---------------------------------------------------------------------------- what the network learnt


def _char_model(cell="lstm"):
    vocab = Vocab.from_text(SAMPLE, level="char")
    torch.manual_seed(0)
    return CharRNN(len(vocab), 12, cell=cell), vocab


def test_hidden_activations_and_unit_for_feature():
    model, vocab = _char_model()
    acts = tx.hidden_activations(model, vocab, SAMPLE[:50])
    assert acts.shape == (50, 12) and np.abs(acts).max() < 1
    feature = acts[:, 5] * 2 + 1  # unit 5 is a perfect (affine) detector of this feature
    assert tx.unit_for_feature(acts, feature) == (5, pytest.approx(1.0))
    with pytest.raises(ValueError, match="disagree"):
        tx.unit_for_feature(acts, feature[:-1])
    with pytest.raises(ValueError, match="empty"):
        tx.hidden_activations(model, vocab, "")
    with pytest.raises(ValueError, match="'Q'"):
        tx.hidden_activations(model, vocab, "Q")


def test_inside_feature_and_activation_html():
    assert tx.inside_feature("а «бв» г").tolist() == [0, 0, 1, 1, 1, 1, 0, 0]
    assert tx.position_in_word_feature("Анна не!").tolist() == [1, 2, 3, 4, 0, 1, 2, 0]
    page = tx.activation_html("a<\n", [1.0, -0.5, 0.0])
    assert "rgb(255,0,0)" in page and "&lt;" in page and "<br>" in page
    assert "rgb(127,127,255)" in page
    with pytest.raises(ValueError):
        tx.activation_html("ab", [0.1])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_gradient_connectivity_is_causal_and_normalised(cell):
    model, vocab = _char_model(cell)
    text = SAMPLE[:40]
    norms = tx.gradient_connectivity(model, vocab, text)
    assert norms.shape == (40,) and norms.max() == pytest.approx(1.0)
    assert (norms >= 0).all()
    assert norms[-1] > 0  # the character just read always matters
    # causality: the influence of the first 20 characters does not depend on what follows them
    # only through the final prediction, so a different last character changes the norms
    other = tx.gradient_connectivity(model, vocab, text[:-1] + "а")
    assert not np.allclose(norms, other)
    with pytest.raises(ValueError, match="two"):
        tx.gradient_connectivity(model, vocab, "a")


# ---------------------------------------------------------------------------- plots


def test_plots_return_figures_with_labels():
    import matplotlib.pyplot as plt

    fig = ptx.plot_word_frequencies(
        {"a": Counter("a a a b b c".split()), "b": Counter("x y".split())}, marks=(2,)
    )
    assert fig.axes[0].get_xlabel() and fig.axes[1].get_title()
    points = [tx.CurvePoint(1.0, 1, 10, 5.0), tx.CurvePoint(2.0, 2, 20, 4.0)]
    fig2 = ptx.plot_loss_curves({"run": points}, target=4.5)
    assert fig2.axes[0].get_legend() is not None
    fig3 = ptx.plot_loss_curves({"run": points}, x="tokens")
    assert "токенов" in fig3.axes[0].get_xlabel()
    fig4 = ptx.plot_connectivity({"rnn": np.array([0.01, 0.1, 1.0])}, max_distance=2)
    assert fig4.axes[0].get_ylabel()
    with pytest.raises(ValueError):
        ptx.plot_loss_curves({"run": []})
    with pytest.raises(ValueError):
        ptx.plot_word_frequencies({})
    plt.close("all")


def test_layer_costs_measures_three_parts():
    targets = torch.randint(0, 300, (2, 4))
    costs = tx.layer_costs(targets, vocab_size=300, cutoffs=(50, 100), repeats=2)
    assert len(costs) == 3 and all(v > 0 for v in costs.values())
    with pytest.raises(ValueError, match="targets"):
        tx.layer_costs(targets.flatten(), vocab_size=300)


def test_unk_spelling_bits():
    # two equally frequent letters + end: each costs log2(total / (count + 1))
    train = ["ab", "ab"]  # counts a=2, b=2, end=2; total = 4 + 2 + 2 + 2 = 10
    assert tx.unk_spelling_bits(train, ["ab"]) == pytest.approx(3 * math.log2(10 / 3))
    assert tx.unk_spelling_bits(train, ["z"]) == pytest.approx(math.log2(10) + math.log2(10 / 3))
    assert tx.unk_spelling_bits(train, []) == 0.0


def test_mean_connectivity_averages_windows():
    model, vocab = _char_model("gru")
    text = SAMPLE[:60]
    mean = tx.mean_connectivity(model, vocab, text, window=20, n_windows=3)
    parts = [tx.gradient_connectivity(model, vocab, text[s : s + 20]) for s in (0, 20, 40)]
    assert np.allclose(mean, np.mean(parts, 0))
    with pytest.raises(ValueError, match="shorter"):
        tx.mean_connectivity(model, vocab, text, window=100)
