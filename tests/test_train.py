"""Tests for lecture_utils.train: lm_loss, fit, evaluate, History, checkpoints."""

import math

import pytest
import torch
import torch.nn.functional as F

from lecture_utils.data import Vocab
from lecture_utils.models import CharRNN
from lecture_utils.train import (
    IGNORE_INDEX,
    History,
    evaluate,
    fit,
    lm_loss,
    load_checkpoint,
    save_checkpoint,
)

SPECIALS = ("<pad>", "<bos>", "<eos>")


@pytest.fixture
def vocab():
    return Vocab.from_text(["анна", "мария", "ия"], specials=SPECIALS)


def toy_batches(vocab, n_batches=3, batch=4, seed=0):
    """Random (x, y) batches with some IGNORE_INDEX targets at the end."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n_batches):
        x = torch.randint(0, len(vocab), (batch, 6), generator=g)
        y = torch.randint(0, len(vocab), (batch, 6), generator=g)
        y[:, -2:] = IGNORE_INDEX
        out.append((x, y))
    return out


def test_lm_loss_skips_ignored_targets(vocab):
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 8)
    x, y = toy_batches(vocab, 1)[0]
    loss, n, state = lm_loss(model, (x, y), None)
    logits, _ = model(x)
    manual = F.cross_entropy(logits[:, :4].reshape(-1, len(vocab)), y[:, :4].reshape(-1))
    assert n == 4 * 4
    torch.testing.assert_close(loss, manual)
    assert state.shape == (1, 4, 8)


def test_lm_loss_rejects_all_ignored(vocab):
    model = CharRNN(len(vocab), 4)
    x = torch.zeros(2, 3, dtype=torch.long)
    with pytest.raises(ValueError, match="no scored targets"):
        lm_loss(model, (x, torch.full((2, 3), IGNORE_INDEX)), None)


def test_fit_learns_and_records_history(vocab):
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 16, cell="gru", embed_size=8)
    train = toy_batches(vocab, 2, seed=1)
    val = toy_batches(vocab, 1, seed=2)
    h = fit(model, train, val, epochs=15, lr=0.02, progress=False)
    assert isinstance(h, History)
    assert h.epochs == 15 and len(h.val_loss) == 15 and len(h.epoch_time) == 15
    assert all(t > 0 for t in h.epoch_time)
    assert h.train_loss[-1] < 0.5 * h.train_loss[0]  # random targets can be memorised
    # keep_best: the model is left at the epoch with the lowest validation loss
    assert h.best_val_loss == min(h.val_loss)
    assert h.best_epoch == h.val_loss.index(min(h.val_loss)) + 1
    assert h.restored_best
    assert math.isclose(evaluate(model, val), h.best_val_loss, rel_tol=1e-5)
    assert not model.training


def test_fit_without_keep_best_keeps_last_weights(vocab):
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 16, cell="gru", embed_size=8)
    val = toy_batches(vocab, 1, seed=2)
    h = fit(
        model,
        toy_batches(vocab, 2, seed=1),
        val,
        epochs=12,
        lr=0.02,
        keep_best=False,
        progress=False,
    )
    assert not h.restored_best
    assert math.isclose(evaluate(model, val), h.val_loss[-1], rel_tol=1e-5)


def test_fit_stops_on_nan(vocab):
    model = CharRNN(len(vocab), 4)
    with torch.no_grad():
        model.head.bias[0] = float("nan")
    with pytest.raises(FloatingPointError, match="loss became nan at epoch 1, batch 1"):
        fit(model, toy_batches(vocab), epochs=2, progress=False)


def test_fit_clips_gradients(vocab):
    """With clip=c the update of plain SGD (lr=1) has norm at most c."""
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 8)
    before = torch.cat([p.detach().clone().flatten() for p in model.parameters()])
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    fit(model, toy_batches(vocab, 1), epochs=1, optimizer=opt, clip=1e-3, progress=False)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert (after - before).norm() <= 1e-3 * 1.0001


def test_stateful_fit_carries_detached_state(vocab):
    """stateful=True: batch 1 gets None, later batches the previous state, detached; reset each epoch."""
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 6, cell="lstm")
    seen = []

    def spy_loss(model, batch, state):
        seen.append(state)
        return lm_loss(model, batch, state)

    batches = toy_batches(vocab, 3)
    fit(model, batches, epochs=2, loss_fn=spy_loss, stateful=True, progress=False)
    assert len(seen) == 6
    assert seen[0] is None and seen[3] is None  # reset at each epoch
    for state in (seen[1], seen[2], seen[4], seen[5]):
        h, c = state
        assert h.shape == (1, 4, 6) and h.grad_fn is None and c.grad_fn is None
    seen.clear()
    fit(model, batches, epochs=1, loss_fn=spy_loss, stateful=False, progress=False)
    assert seen == [None, None, None]


def test_fit_accepts_function_but_not_generator(vocab):
    model = CharRNN(len(vocab), 4)
    batches = toy_batches(vocab, 2)
    calls = []

    def epoch_batches():
        calls.append(1)
        return iter(batches)

    h = fit(model, epoch_batches, epochs=3, progress=False)
    assert h.epochs == 3 and len(calls) == 3
    with pytest.raises(TypeError, match="re-iterable"):
        fit(model, (b for b in batches), epochs=2, progress=False)


def test_evaluate_restores_mode_and_is_stateless_by_default(vocab):
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 4)
    model.train()
    batches = toy_batches(vocab, 2)
    value = evaluate(model, batches)
    assert model.training
    expected = sum(lm_loss(model, b, None)[0].item() * 16 for b in batches) / 32
    assert math.isclose(value, expected, rel_tol=1e-5)


def test_fit_bad_arguments(vocab):
    model = CharRNN(len(vocab), 4)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, toy_batches(vocab), epochs=0, progress=False)
    with pytest.raises(ValueError, match="clip"):
        fit(model, toy_batches(vocab), epochs=1, clip=0, progress=False)


# ----------------------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip(tmp_path, vocab):
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 8, num_layers=2, cell="lstm", embed_size=5)
    path = save_checkpoint(
        tmp_path / "m.pt", model, vocab, epochs=3, note="тест", losses=[1.5, 1.2]
    )
    # readable by the safe loader directly
    raw = torch.load(path, weights_only=True)
    assert raw["config"]["cell"] == "lstm"
    loaded, loaded_vocab, meta = load_checkpoint(path, vocab=vocab)
    assert meta == {"epochs": 3, "note": "тест", "losses": [1.5, 1.2]}
    assert loaded.config == model.config
    assert list(loaded_vocab.itos) == list(vocab.itos)
    x = torch.randint(0, len(vocab), (2, 5))
    model.eval()
    torch.testing.assert_close(loaded(x)[0], model(x)[0])


def test_checkpoint_with_other_vocab_fails(tmp_path, vocab):
    model = CharRNN(len(vocab), 4)
    path = save_checkpoint(tmp_path / "m.pt", model, vocab)
    other = Vocab.from_text(["олег", "иван"], specials=SPECIALS)
    with pytest.raises(ValueError, match="different vocabulary"):
        load_checkpoint(path, vocab=other)


class _Payload:
    """Unpickling this would create a file: proof that loading executes code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_checkpoint_with_pickled_object_is_refused(tmp_path):
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pt"
    torch.save({"format": "lecture_utils.checkpoint/1", "payload": _Payload(marker)}, path)
    with pytest.raises(ValueError, match="pickled Python objects"):
        load_checkpoint(path)
    assert not marker.exists()


def test_checkpoint_bad_files(tmp_path, vocab):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")
    text = tmp_path / "text.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load_checkpoint(text)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(ValueError, match="not a checkpoint written by"):
        load_checkpoint(other)


def test_save_checkpoint_rejects_objects_in_meta(tmp_path, vocab):
    model = CharRNN(len(vocab), 4)
    with pytest.raises(TypeError, match="history.to_dict"):
        save_checkpoint(tmp_path / "m.pt", model, vocab, history=History())
    path = save_checkpoint(
        tmp_path / "m.pt", model, vocab, history=History(train_loss=[1.0]).to_dict()
    )
    assert load_checkpoint(path)[2]["history"]["train_loss"] == [1.0]


def test_stateful_fit_on_contiguous_streams_matches_one_long_pass():
    """Notebook 07's use: data.batchify + data.bptt_batches with the state carried across batches.
    Evaluating window by window with the carried state equals one pass over the whole streams."""
    from lecture_utils.data import batchify, bptt_batches

    torch.manual_seed(0)
    text = "мама мыла раму " * 20
    vocab = Vocab.from_text(text)
    streams = batchify(vocab.encode(text), 3)  # (3, L)
    model = CharRNN(len(vocab), 8, cell="lstm", embed_size=4)
    h = fit(
        model, lambda: bptt_batches(streams, 7), epochs=3, lr=0.02, stateful=True, progress=False
    )
    assert h.epochs == 3 and h.train_loss[-1] < h.train_loss[0]
    windowed = evaluate(model, lambda: bptt_batches(streams, 7), stateful=True)
    with torch.no_grad():
        logits, _ = model(streams[:, :-1])
        whole = F.cross_entropy(logits.reshape(-1, len(vocab)), streams[:, 1:].reshape(-1)).item()
    assert math.isclose(windowed, whole, rel_tol=1e-5)
    assert evaluate(model, lambda: bptt_batches(streams, 7), stateful=False) > whole  # cut context
