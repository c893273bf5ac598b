"""Synthetic sequence tasks that need long memory, and a small model to train on them.

Introduced in 03_vanishing_exploding (a plain RNN forgets, an LSTM remembers) and reused in
06_lstm_gru. Two classic tasks:

- :func:`delayed_recall` — a symbol shown at the first step must be reported after ``delay``
  distractor steps (classification, ``n_symbols`` classes);
- :func:`adding_problem` — add the two numbers marked in a long sequence (regression,
  Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015).

Shapes: ``N`` examples, ``T`` time steps, ``I`` input size, ``H`` hidden size, ``C`` classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------


def recall_vocab_size(n_symbols: int = 8) -> int:
    """Number of token ids used by :func:`delayed_recall`: the symbols, one blank, one query."""
    return n_symbols + 2


def _check_positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def delayed_recall(
    n: int,
    delay: int,
    n_symbols: int = 8,
    seed: int = 0,
    *,
    distractor: str = "random",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Delayed-recall data: remember the first symbol across ``delay`` distractor steps.

    Token ids (``recall_vocab_size(n_symbols)`` of them, use it as the input size):

    - ``0 .. n_symbols-1`` — the symbols;
    - ``n_symbols`` — BLANK;
    - ``n_symbols + 1`` — QUERY ("report the symbol now").

    Every sequence has length ``T = delay + 2``:

    - step ``0``: the symbol to remember, ``y = x[:, 0]``;
    - steps ``1 .. delay``: distractors — random symbols (``distractor="random"``, the default,
      so the model must keep the *first* one and ignore later ones) or BLANK
      (``distractor="blank"``);
    - step ``T-1 = delay + 1``: QUERY; the model answers from its state at this last step.

    So the answer is ``delay + 1`` steps away from the input that determines it. Chance accuracy
    is ``1 / n_symbols``.

    Returns ``x`` LongTensor ``(N, T)`` and ``y`` LongTensor ``(N,)`` with values in
    ``[0, n_symbols)``. The same ``seed`` gives the same data.
    """
    _check_positive_int("n", n)
    _check_positive_int("delay", delay, minimum=0)
    _check_positive_int("n_symbols", n_symbols, minimum=2)
    if distractor not in ("random", "blank"):
        raise ValueError(f"distractor must be 'random' or 'blank', got {distractor!r}")
    gen = torch.Generator().manual_seed(seed)
    T = delay + 2
    y = torch.randint(0, n_symbols, (n,), generator=gen)
    if distractor == "random":
        x = torch.randint(0, n_symbols, (n, T), generator=gen)
    else:
        x = torch.full((n, T), n_symbols, dtype=torch.long)
    x[:, 0] = y
    x[:, -1] = n_symbols + 1  # QUERY
    return x, y


def adding_problem(n: int, length: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The adding problem: sum the two numbers marked in a sequence of ``T = length`` steps.

    ``x[:, :, 0]`` are uniform random numbers in ``[0, 1)``; ``x[:, :, 1]`` is a marker that is 1
    at exactly two steps — one in the first half, one in the second half — and 0 elsewhere.
    The target is the sum of the two marked numbers, ``y`` in ``[0, 2)``. Always predicting 1
    gives a mean squared error of about 1/6 ≈ 0.167 (the baseline to beat).

    Returns ``x`` FloatTensor ``(N, T, 2)`` and ``y`` FloatTensor ``(N,)``.
    """
    _check_positive_int("n", n)
    _check_positive_int("length", length, minimum=2)
    gen = torch.Generator().manual_seed(seed)
    T = length
    half = T // 2
    values = torch.rand(n, T, generator=gen)
    first = torch.randint(0, half, (n,), generator=gen)
    second = torch.randint(half, T, (n,), generator=gen)
    marker = torch.zeros(n, T)
    rows = torch.arange(n)
    marker[rows, first] = 1.0
    marker[rows, second] = 1.0
    x = torch.stack([values, marker], dim=-1)
    y = values[rows, first] + values[rows, second]
    return x, y


# ---------------------------------------------------------------------------------------------
# A small model for these tasks
# ---------------------------------------------------------------------------------------------

_RNN_TYPES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class SequenceClassifier(nn.Module):
    """Read a whole sequence with a recurrent layer, predict from the last hidden state.

    ``cell`` is ``"rnn"`` (tanh), ``"lstm"`` or ``"gru"`` (torch's layers). Input ``x`` is either
    LongTensor ``(B, T)`` of token ids (one-hot encoded to ``input_size``) or FloatTensor
    ``(B, T, I)``. Output: ``(B, C)`` logits with ``C = output_size`` (use ``output_size=1`` and
    ``.squeeze(-1)`` for regression, as in the adding problem).

    ``forget_bias`` (LSTM only) sets the forget-gate bias b_f at initialisation
    (see 03_vanishing_exploding: b_f > 0 keeps f_t near 1, memory and gradient flow).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        cell: str = "rnn",
        forget_bias: float | None = None,
    ):
        super().__init__()
        if cell not in _RNN_TYPES:
            raise ValueError(f"cell must be one of {sorted(_RNN_TYPES)}, got {cell!r}")
        if forget_bias is not None and cell != "lstm":
            raise ValueError("forget_bias only applies to cell='lstm'")
        self.input_size = input_size
        self.cell = cell
        self.rnn = _RNN_TYPES[cell](input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, output_size)
        if forget_bias is not None:
            set_lstm_forget_bias(self.rnn, forget_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.long:
            if x.dim() != 2:
                raise ValueError(f"token input must be (B, T), got shape {tuple(x.shape)}")
            if int(x.max()) >= self.input_size or int(x.min()) < 0:
                raise ValueError(
                    f"token ids must lie in [0, {self.input_size}), got "
                    f"[{int(x.min())}, {int(x.max())}]; is input_size = recall_vocab_size(...)?"
                )
            x = F.one_hot(x, self.input_size).float()  # (B, T, I)
        elif x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"float input must be (B, T, {self.input_size}), got shape {tuple(x.shape)}"
            )
        out, _ = self.rnn(x)  # (B, T, H)
        return self.head(out[:, -1])  # (B, C)


def set_lstm_forget_bias(lstm: nn.Module, value: float) -> None:
    """Set the forget-gate bias b_f of a torch ``nn.LSTM`` / ``nn.LSTMCell`` to ``value``.

    torch keeps two bias vectors (``bias_ih`` and ``bias_hh``) with gates in the order
    (i, f, g, o); their sum is b_f, so we put ``value`` in ``bias_ih`` and 0 in ``bias_hh``.
    """
    found = False
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_"):
                H = param.shape[0] // 4
                param[H : 2 * H] = value if name.startswith("bias_ih") else 0.0
                found = True
    if not found:
        raise ValueError("this LSTM has no bias parameters (bias=False); cannot set b_f")


@dataclass
class TrainLog:
    """What :func:`train_sequence_model` records, one entry per optimisation step."""

    loss: list[float] = field(default_factory=list)  # training loss on the batch
    grad_norm: list[float] = field(default_factory=list)  # total gradient norm before clipping


def train_sequence_model(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int = 300,
    batch_size: int = 64,
    lr: float = 1e-2,
    clip: float | None = 1.0,
    seed: int = 0,
) -> TrainLog:
    """Train ``model`` with Adam on random mini-batches of ``(x, y)``; returns a :class:`TrainLog`.

    Long ``y`` means classification (cross-entropy on ``(B, C)`` logits); float ``y`` means
    regression (mean squared error on ``model(x).squeeze(-1)``). ``clip`` is the max gradient
    norm for ``clip_grad_norm_`` (``None``: no clipping). Stops early if the loss becomes inf/NaN.
    """
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    _check_positive_int("steps", steps)
    _check_positive_int("batch_size", batch_size)
    classify = y.dtype == torch.long
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    log = TrainLog()
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (min(batch_size, len(x)),), generator=gen)
        out = model(x[idx])
        if classify:
            loss = F.cross_entropy(out, y[idx])
        else:
            loss = F.mse_loss(out.squeeze(-1), y[idx])
        opt.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(
            model.parameters(), clip if clip is not None else float("inf")
        )
        log.loss.append(loss.item())
        log.grad_norm.append(float(norm))
        if not torch.isfinite(loss):
            break
        opt.step()
    model.eval()
    return log


@torch.no_grad()
def evaluate_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of examples whose arg-max prediction equals ``y`` (classification tasks)."""
    model.eval()
    return float((model(x).argmax(-1) == y).float().mean())


@torch.no_grad()
def evaluate_mse(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean squared error of ``model(x).squeeze(-1)`` against ``y`` (regression tasks)."""
    model.eval()
    return float(F.mse_loss(model(x).squeeze(-1), y))
