"""Training loop, evaluation and checkpoints for the language models (introduced in 04_names_generator).

``fit`` works for two kinds of batches through one small interface, the *loss function*::

    loss_fn(model, batch, state) -> (loss, n_tokens, state)

``loss`` is the mean loss per scored token (a scalar tensor), ``n_tokens`` how many tokens it
averages over (for exact per-token epoch averages), ``state`` the recurrent state after the batch.

- Names (notebook 04): independent padded sequences, ``batch = (x (B, T), y (B, T))`` with the
  positions not to score set to ``IGNORE_INDEX`` (-100) in ``y``; ``fit(..., stateful=False)``
  starts every batch from a zero state. The default :func:`lm_loss` does exactly this.
- A long text cut into contiguous streams (notebook 07, truncated BPTT): ``data.bptt_batches``
  yields ``(x, y)`` that continue each other; ``fit(..., stateful=True)`` carries the state from
  one batch to the next, detached (so gradients stop at the batch boundary), and resets it to
  zeros at the start of every epoch and of every evaluation.
"""

from __future__ import annotations

import copy
import math
import os
import pickle
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .models import CharRNN, detach_state

IGNORE_INDEX = -100  # target value that the loss skips (torch's default ignore_index)
CHECKPOINT_FORMAT = "lecture_utils.checkpoint/1"
MODEL_CLASSES = {"CharRNN": CharRNN}


# ----------------------------------------------------------------------------- loss and batches


def lm_loss(model: nn.Module, batch, state=None):
    """Next-token cross-entropy (nats per scored token) for ``batch = (x (B, T), y (B, T))``.

    Targets equal to ``IGNORE_INDEX`` (-100) are not scored (padding after the end of a name).
    Returns ``(loss, n_tokens, state)`` as ``fit`` expects.
    """
    x, y = batch
    logits, state = model(x, state)  # (B, T, V)
    if logits.shape[:2] != y.shape:
        raise ValueError(f"targets {tuple(y.shape)} do not match inputs {tuple(logits.shape[:2])}")
    n_tokens = int((y != IGNORE_INDEX).sum())
    if n_tokens == 0:
        raise ValueError("the batch has no scored targets (every target is IGNORE_INDEX)")
    loss = F.cross_entropy(
        logits.reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=IGNORE_INDEX
    )
    return loss, n_tokens, state


def _to_device(batch, device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, (tuple, list)):
        return type(batch)(_to_device(b, device) for b in batch)
    return batch


def _epoch_batches(data):
    """Batches for one epoch: ``data`` is re-iterable (a list, a DataLoader) or a function."""
    if callable(data):
        return iter(data())
    if iter(data) is data:
        raise TypeError(
            "batches must be re-iterable (a list or a DataLoader) or a function returning a fresh "
            "iterator for each epoch (e.g. lambda: bptt_batches(streams, 35)); a generator would "
            "be used up after the first epoch"
        )
    return iter(data)


def _model_device(model: nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


# ----------------------------------------------------------------------------- evaluate and fit


@torch.no_grad()
def evaluate(
    model: nn.Module,
    batches,
    loss_fn: Callable = lm_loss,
    stateful: bool = False,
    device: torch.device | str | None = None,
) -> float:
    """Mean loss per scored token (nats) over ``batches``, in eval mode and without gradients.

    ``stateful=True`` carries the state across batches (contiguous streams, notebook 07).
    The model's train/eval mode is restored afterwards.
    """
    device = torch.device(device) if device is not None else _model_device(model)
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        for batch in _epoch_batches(batches):
            loss, n, state = loss_fn(model, _to_device(batch, device), state if stateful else None)
            total += float(loss) * n
            count += n
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("evaluate got no batches")
    return total / count


@dataclass
class History:
    """What ``fit`` measured: per-epoch losses (nats per scored token) and timings (seconds)."""

    train_loss: list[float] = field(default_factory=list)  # mean over the epoch's training batches
    val_loss: list[float] = field(default_factory=list)  # after each epoch (empty without val data)
    epoch_time: list[float] = field(default_factory=list)  # wall time of each epoch, training + val
    best_epoch: int | None = None  # 1-based epoch with the lowest val loss (None without val data)
    best_val_loss: float | None = None  # that lowest val loss
    restored_best: bool = False  # True when the model was set back to the best epoch's weights

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    @property
    def total_time(self) -> float:
        return float(sum(self.epoch_time))

    def to_dict(self) -> dict:
        """Plain dict (e.g. for ``save_checkpoint(..., history=h.to_dict())``)."""
        return asdict(self)


def fit(
    model: nn.Module,
    train_batches,
    val_batches=None,
    *,
    epochs: int = 10,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    loss_fn: Callable = lm_loss,
    clip: float | None = 1.0,
    stateful: bool = False,
    keep_best: bool = True,
    device: torch.device | str | None = None,
    progress: bool = True,
    desc: str = "training",
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_batches``; returns a :class:`History`.

    - ``train_batches`` / ``val_batches``: a list (or DataLoader) of batches, or a function that
      returns a fresh iterator of batches for each epoch (to reshuffle, or for a generator such
      as ``data.bptt_batches``). ``val_batches=None`` skips validation.
    - ``loss_fn(model, batch, state) -> (loss, n_tokens, state)``; the default :func:`lm_loss`
      takes ``(x, y)`` with ``IGNORE_INDEX`` on unscored targets.
    - ``optimizer``: any torch optimizer over ``model.parameters()``; default Adam with ``lr``.
    - ``clip``: max global gradient norm (``None`` disables clipping; notebook 03 explains why).
    - ``stateful``: carry the (detached) state from batch to batch (truncated BPTT, notebook 07).
    - ``keep_best``: with validation data, set the model back to the epoch with the lowest
      validation loss at the end (small data sets overfit; see notebook 04).
    - Raises ``FloatingPointError`` as soon as the loss becomes NaN or infinite.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be a positive max norm or None, got {clip!r}")
    if device is not None:
        model.to(device)
    device = _model_device(model)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    from tqdm.auto import tqdm  # imported here: importing the module stays cheap

    history = History()
    best_state = None
    # TQDM_DISABLE=1 (set by `make notebooks`) hides the bar: tqdm's notebook widget ignores it,
    # and a widget saved in a committed notebook would show a frozen "0%"
    hide = not progress or os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true")
    bar = tqdm(range(1, epochs + 1), desc=desc, leave=True, disable=hide)
    for epoch in bar:
        start = time.perf_counter()
        model.train()
        total, count, state = 0.0, 0, None
        for step, batch in enumerate(_epoch_batches(train_batches), start=1):
            batch = _to_device(batch, device)
            loss, n, state = loss_fn(model, batch, detach_state(state) if stateful else None)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"the training loss became {float(loss.detach())} at epoch {epoch}, batch {step}; "
                    "lower the learning rate or clip the gradients (clip=1.0)"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            total += float(loss.detach()) * n
            count += n
        if count == 0:
            raise ValueError("train_batches produced no batches")
        history.train_loss.append(total / count)
        postfix = {"train": f"{history.train_loss[-1]:.3f}"}
        if val_batches is not None:
            val = evaluate(model, val_batches, loss_fn=loss_fn, stateful=stateful, device=device)
            if not math.isfinite(val):
                raise FloatingPointError(f"the validation loss became {val} at epoch {epoch}")
            history.val_loss.append(val)
            postfix["val"] = f"{val:.3f}"
            if history.best_val_loss is None or val < history.best_val_loss:
                history.best_val_loss, history.best_epoch = val, epoch
                if keep_best:
                    best_state = copy.deepcopy(model.state_dict())
        history.epoch_time.append(time.perf_counter() - start)
        bar.set_postfix(postfix)
    if keep_best and best_state is not None:
        model.load_state_dict(best_state)
        history.restored_best = True
    model.eval()
    return history


# ----------------------------------------------------------------------------- checkpoints

_PLAIN = (str, int, float, bool, type(None))


def _check_plain(value, where: str) -> None:
    """Only plain values go into a checkpoint, so ``torch.load(weights_only=True)`` can read it."""
    if isinstance(value, _PLAIN) or isinstance(value, torch.Tensor):
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f"checkpoint {where}: keys must be str or int, got {k!r}")
            _check_plain(v, f"{where}[{k!r}]")
        return
    raise TypeError(
        f"checkpoint {where} holds a {type(value).__name__}; only str/int/float/bool/None, "
        "tensors, lists and dicts can be saved (e.g. pass history.to_dict())"
    )


def save_checkpoint(path, model: nn.Module, vocab, **meta) -> Path:
    """Save ``model`` (state_dict + config), ``vocab`` (``vocab.to_dict()``) and plain ``meta``.

    The file can be read back with ``torch.load(weights_only=True)``: it holds no pickled Python
    objects. Returns the path written.
    """
    config = getattr(model, "config", None)
    name = type(model).__name__
    if config is None or name not in MODEL_CLASSES:
        raise TypeError(
            f"save_checkpoint supports {sorted(MODEL_CLASSES)} (with a .config), got {name}"
        )
    payload = {
        "format": CHECKPOINT_FORMAT,
        "model_class": name,
        "config": asdict(config),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "vocab": vocab.to_dict(),
        "meta": meta,
    }
    _check_plain(payload["vocab"], "vocab")
    _check_plain(meta, "meta")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)
    return path


def load_checkpoint(path, vocab=None, map_location="cpu"):
    """Load a checkpoint written by :func:`save_checkpoint` -> ``(model, vocab, meta)``.

    Reads with ``torch.load(weights_only=True)``: a file that holds pickled Python objects is
    refused with ``ValueError`` instead of being executed. ``vocab``: the vocabulary the caller
    expects; a checkpoint trained with a different one raises ``ValueError``. The model is
    returned in eval mode.
    """
    from .data import Vocab  # the data module owns the vocabulary

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        message = str(exc)
        if "Unsupported global" in message:  # the file names a Python class or function
            match = re.search(r"GLOBAL (\S+)", message)
            found = f"it names {match.group(1)}" if match else "unsupported global"
            raise ValueError(
                f"refusing to load {path}: it contains pickled Python objects ({found}), which "
                "could run code; only files written by save_checkpoint can be loaded"
            ) from None
        raise ValueError(f"{path} is not a readable checkpoint (not a torch file)") from None
    except Exception as exc:  # not a torch file at all (truncated, text, ...)
        raise ValueError(f"{path} is not a readable checkpoint: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path} is not a checkpoint written by lecture_utils.train.save_checkpoint"
        )
    stored_vocab = Vocab.from_dict(payload["vocab"])
    if vocab is not None and (
        list(vocab.itos) != list(stored_vocab.itos) or vocab.level != stored_vocab.level
    ):
        expected, stored = list(vocab.itos), list(stored_vocab.itos)
        diff = [
            f"id {i}: expected {a!r}, checkpoint {b!r}"
            for i, (a, b) in enumerate(zip(expected, stored, strict=False))
            if a != b
        ]
        raise ValueError(
            f"checkpoint {path} was trained with a different vocabulary "
            f"({len(stored)} tokens, expected {len(expected)}); first differences: "
            f"{'; '.join(diff[:3]) or 'one is a prefix of the other'}"
        )
    model_class = MODEL_CLASSES.get(payload.get("model_class"))
    if model_class is None:
        raise ValueError(f"{path}: unknown model class {payload.get('model_class')!r}")
    model = model_class.from_config(payload["config"])
    if model.config.vocab_size != len(stored_vocab):
        raise ValueError(
            f"{path}: the model predicts {model.config.vocab_size} tokens but the stored "
            f"vocabulary has {len(stored_vocab)}"
        )
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, stored_vocab, payload["meta"]
