"""Recurrent language models: ``CharRNN`` over any cell type (introduced in 04_names_generator).

One interface everywhere in the course: ``forward(x, state=None) -> (output, state)``. The same
class serves the names generator (notebook 04, characters) and the text generator (notebook 07,
characters or words): a "token" is whatever the vocabulary holds.

Shapes: ``B`` batch, ``T`` time, ``E`` input features (one-hot size ``V`` or the embedding size),
``H`` hidden, ``V`` vocabulary, ``L`` layers.

::

    x (B, T) token ids
      -> one-hot (B, T, V)  or  embedding (B, T, E)
      -> nn.RNN / nn.LSTM / nn.GRU, batch_first  -> outputs (B, T, H), state (L, B, H) [(h, c) for LSTM]
      -> dropout -> nn.Linear(H, V)              -> logits (B, T, V)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

# A recurrent state: a tensor (L, B, H) for RNN/GRU, a tuple (h, c) of such tensors for LSTM.
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


@dataclass
class CharRNNConfig:
    """Everything needed to rebuild a :class:`CharRNN` (stored in checkpoints)."""

    vocab_size: int  # V: number of tokens the model reads and predicts
    hidden_size: int  # H: size of the hidden state of each layer
    num_layers: int = 1  # L: stacked recurrent layers (notebook 05)
    cell: str = "rnn"  # "rnn" (tanh), "lstm" or "gru" (notebook 06)
    embed_size: int | None = None  # None: one-hot inputs as in the lecture; int: a learnt embedding
    dropout: float = 0.0  # dropout between stacked layers and before the output layer

    def __post_init__(self) -> None:
        for name in ("vocab_size", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.embed_size is not None and (
            not isinstance(self.embed_size, int)
            or isinstance(self.embed_size, bool)
            or self.embed_size < 1
        ):
            raise ValueError(f"embed_size must be None or a positive int, got {self.embed_size!r}")
        if self.cell not in CELLS:
            raise ValueError(f"unknown cell {self.cell!r}: expected one of {sorted(CELLS)}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")


class CharRNN(nn.Module):
    """A recurrent language model: predicts the next token at every position.

    ``CharRNN(vocab_size, hidden_size, num_layers=1, cell="rnn", embed_size=None, dropout=0.0)``;
    ``embed_size=None`` feeds one-hot vectors (the lecture's choice), an int adds ``nn.Embedding``.
    ``forward(x (B, T) long, state=None) -> (logits (B, T, V), state)``. ``model.config`` is a
    :class:`CharRNNConfig`, so a checkpoint can rebuild the model (``CharRNN.from_config``).
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        num_layers: int = 1,
        cell: str = "rnn",
        embed_size: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.config = CharRNNConfig(vocab_size, hidden_size, num_layers, cell, embed_size, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size) if embed_size is not None else None
        input_size = embed_size if embed_size is not None else vocab_size
        # torch applies ``dropout`` only between stacked layers (and warns when there is one layer)
        self.rnn = CELLS[cell](
            input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    @classmethod
    def from_config(cls, config: CharRNNConfig | dict) -> CharRNN:
        """Build an untrained model from a config (a :class:`CharRNNConfig` or its ``asdict``)."""
        if isinstance(config, CharRNNConfig):
            config = asdict(config)
        return cls(**config)

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    def init_state(self, batch_size: int, device: torch.device | str | None = None) -> State:
        """Zero state for ``batch_size`` sequences: (L, B, H), or a tuple (h, c) for LSTM."""
        if device is None:
            device = self.head.weight.device
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        h = torch.zeros(shape, device=device)
        if self.config.cell == "lstm":
            return (h, torch.zeros(shape, device=device))
        return h

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a LongTensor of token ids (B, T), got {type(x).__name__}")
        if x.dim() != 2:
            raise ValueError(
                f"x must have shape (B, T) (batch, time), got {tuple(x.shape)}; "
                "for one sequence use x[None]"
            )
        if x.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"x must hold integer token ids, got dtype {x.dtype}")
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.config.vocab_size):
            raise ValueError(
                f"token ids must be in [0, {self.config.vocab_size}), got values in "
                f"[{int(x.min())}, {int(x.max())}]; is the vocabulary the one the model was built for?"
            )

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Logits for the next token at each position and the final recurrent state.

        x (B, T) token ids; state as returned by a previous call or :meth:`init_state` (None: zeros).
        Returns logits (B, T, V) and the state after the last step (carry it on for generation or
        truncated BPTT; detach it with :func:`detach_state` between training batches).
        """
        self._check_input(x)
        if self.embedding is not None:
            inputs = self.embedding(x)  # (B, T, E)
        else:
            inputs = F.one_hot(x.long(), self.config.vocab_size).float()  # (B, T, V)
        outputs, state = self.rnn(inputs, state)  # (B, T, H)
        logits = self.head(self.drop(outputs))  # (B, T, V)
        return logits, state


def detach_state(state):
    """Cut the autograd history of a state (truncated BPTT, notebooks 02 and 07).

    Handles ``None``, a tensor, and (nested) tuples or lists of tensors such as LSTM's ``(h, c)``;
    the values are kept, only the graph behind them is dropped.
    """
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"cannot detach a state of type {type(state).__name__}")


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
