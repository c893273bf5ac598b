"""RNN, LSTM and GRU cells written from scratch in torch, equal to PyTorch's (notebook 06).

Each ``*CellScratch`` is an ``nn.Module`` whose parameters have the names, shapes and gate order of
``torch.nn.RNNCell`` / ``LSTMCell`` (gates i, f, g, o) / ``GRUCell`` (gates r, z, n), so
``scratch.load_state_dict(torch_cell.state_dict())`` works and both give the same numbers.
The step is written out line by line so that students can read it next to the equations.

Shapes: ``B`` batch, ``T`` time, ``I`` input size, ``H`` hidden size. As with torch's cells, the
input may be batched ``(B, I)`` or a single vector ``(I,)``.

Notation of the lecture (notebook 06) and of torch:

    c'_t = g_t = tanh(W_xc x_t + W_hc h_{t-1} + b_c)     candidate memory
    i_t = σ(W_xi x_t + W_hi h_{t-1} + b_i)              input gate
    f_t = σ(W_xf x_t + W_hf h_{t-1} + b_f)              forget gate
    o_t = σ(W_xo x_t + W_ho h_{t-1} + b_o)              output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ c'_t
    h_t = o_t ⊙ tanh(c_t)

torch stores the four input matrices stacked as ``weight_ih`` (4H, I) in the order i, f, g, o and
the four recurrent ones as ``weight_hh`` (4H, H); it has two bias vectors ``bias_ih`` and
``bias_hh`` whose sum is the lecture's b.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "RNNCellScratch",
    "LSTMCellScratch",
    "GRUCellScratch",
    "unroll",
    "set_forget_bias",
    "cell_from_layer",
    "count_parameters",
    "expected_parameter_count",
    "LSTM_VARIANTS",
    "make_lstm_variant",
    "CellSequenceClassifier",
    "MemoryRun",
    "memory_experiment",
    "gradient_by_distance",
]


# ----------------------------------------------------------------------------- shared plumbing
def _check_sizes(input_size: int, hidden_size: int) -> None:
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


class _CellBase(nn.Module):
    """Parameters ``weight_ih (n*H, I)``, ``weight_hh (n*H, H)``, ``bias_ih``, ``bias_hh (n*H,)``."""

    def __init__(self, input_size: int, hidden_size: int, n_blocks: int, bias: bool) -> None:
        super().__init__()
        _check_sizes(input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bool(bias)
        rows = n_blocks * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        if self.bias:
            self.bias_ih = nn.Parameter(torch.empty(rows))
            self.bias_hh = nn.Parameter(torch.empty(rows))
        else:  # same as torch: the names exist but hold None, so state_dict has no biases
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def reset_parameters(self) -> None:
        """Uniform(-1/√H, 1/√H) for every parameter, as torch initialises its cells."""
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)

    def _prepare(self, x: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """Return x as (B, I) and whether it came unbatched (I,)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() not in (1, 2):
            raise ValueError(f"x must have shape (B, I) or (I,), got {tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"x has {x.shape[-1]} features but the cell expects input_size={self.input_size}"
            )
        return (x.unsqueeze(0), True) if x.dim() == 1 else (x, False)

    def _state_tensor(self, s, x: torch.Tensor, unbatched: bool, what: str) -> torch.Tensor:
        """A zero state when ``s`` is None, else ``s`` checked and made (B, H)."""
        batch = x.shape[0]
        if s is None:
            return x.new_zeros(batch, self.hidden_size)
        if not isinstance(s, torch.Tensor):
            raise TypeError(f"{what} must be a tensor, got {type(s).__name__}")
        s2 = s.unsqueeze(0) if unbatched and s.dim() == 1 else s
        if tuple(s2.shape) != (batch, self.hidden_size):
            want = (self.hidden_size,) if unbatched else (batch, self.hidden_size)
            raise ValueError(f"{what} must have shape {want}, got {tuple(s.shape)}")
        return s2

    def _linear_parts(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(W_ih x + b_ih, W_hh h + b_hh), each (B, n*H)."""
        gi = x @ self.weight_ih.T
        gh = h @ self.weight_hh.T
        if self.bias:
            gi = gi + self.bias_ih
            gh = gh + self.bias_hh
        return gi, gh

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"


def _squeeze(t: torch.Tensor, unbatched: bool) -> torch.Tensor:
    return t.squeeze(0) if unbatched else t


# ----------------------------------------------------------------------------- RNN
class RNNCellScratch(_CellBase):
    """Elman RNN cell, like ``torch.nn.RNNCell``: h_t = f(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).

    In the lecture's letters (notebook 01): ``weight_ih`` = U, ``weight_hh`` = W, b = b_ih + b_hh.
    ``forward(x (B, I), h (B, H) or None) -> h_new (B, H)``.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        super().__init__(input_size, hidden_size, 1, bias)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.reset_parameters()

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None) -> torch.Tensor:
        x, unbatched = self._prepare(x)
        h = self._state_tensor(state, x, unbatched, "state h")
        gi, gh = self._linear_parts(x, h)
        a = gi + gh  # pre-activation a_t (B, H)
        h_new = torch.tanh(a) if self.nonlinearity == "tanh" else torch.relu(a)
        return _squeeze(h_new, unbatched)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"


# ----------------------------------------------------------------------------- LSTM
class LSTMCellScratch(_CellBase):
    """LSTM cell, like ``torch.nn.LSTMCell``, plus switches for the lecture's variants.

    ``forward(x (B, I), state=(h, c) or None) -> (h_new, c_new)``, each (B, H).
    With ``return_gates=True`` it returns ``((h_new, c_new), gates)`` where ``gates`` is a dict of
    (B, H) tensors ``i, f, g, o`` (g = c'_t, the candidate) and ``c`` (the new memory). A gate that a
    variant removes is reported with the constant value it takes (1, or 1 - i when coupled).

    Variants (defaults give the standard torch LSTM, which loads torch's ``state_dict``):

    - ``input_gate=False``  — i_t = 1: the candidate is always written in full;
    - ``forget_gate=False`` — f_t = 1: the memory is never erased (the 1997 LSTM);
    - ``output_gate=False`` — o_t = 1: h_t = tanh(c_t);
    - ``coupled=True``      — f_t = 1 - i_t (one gate decides both what to write and what to keep);
    - ``peephole=True``     — the gates also look at the memory through diagonal weights:
      i_t and f_t at c_{t-1}, o_t at c_t (parameters ``weight_ci``, ``weight_cf``, ``weight_co``, (H,)).

    A removed gate has no rows in ``weight_ih`` / ``weight_hh``: the blocks that remain keep torch's
    order, listed in ``gate_names`` (e.g. ``("f", "g", "o")`` without the input gate), so
    ``count_parameters`` tells the true price of each variant.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        input_gate: bool = True,
        forget_gate: bool = True,
        output_gate: bool = True,
        coupled: bool = False,
        peephole: bool = False,
    ) -> None:
        if coupled and not input_gate:
            raise ValueError("coupled=True sets f = 1 - i, so it needs the input gate")
        if coupled and not forget_gate:
            raise ValueError(
                "coupled=True replaces the forget gate by 1 - i; drop forget_gate=False"
            )
        names = []
        if input_gate:
            names.append("i")
        if forget_gate and not coupled:
            names.append("f")
        names.append("g")
        if output_gate:
            names.append("o")
        super().__init__(input_size, hidden_size, len(names), bias)
        self.gate_names = tuple(names)
        self.input_gate = input_gate
        self.forget_gate = forget_gate
        self.output_gate = output_gate
        self.coupled = coupled
        self.peephole = peephole
        if peephole:
            for gate in ("i", "f", "o"):
                if gate in self.gate_names:
                    setattr(self, f"weight_c{gate}", nn.Parameter(torch.empty(hidden_size)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's initialisation; peephole weights start at 0, so the variant starts as a plain LSTM."""
        super().reset_parameters()
        for gate in ("i", "f", "o"):
            peep = getattr(self, f"weight_c{gate}", None)
            if peep is not None:
                nn.init.zeros_(peep)

    @property
    def is_standard(self) -> bool:
        """True for the plain torch LSTM (no variant switch)."""
        return self.gate_names == ("i", "f", "g", "o") and not self.peephole

    def forward(self, x: torch.Tensor, state=None, return_gates: bool = False):
        x, unbatched = self._prepare(x)
        if state is None:
            h_prev = c_prev = None
        elif isinstance(state, (tuple, list)) and len(state) == 2:
            h_prev, c_prev = state
        else:
            raise TypeError("LSTM state must be a tuple (h, c) or None")
        h_prev = self._state_tensor(h_prev, x, unbatched, "state h")
        c_prev = self._state_tensor(c_prev, x, unbatched, "state c")

        gi, gh = self._linear_parts(x, h_prev)
        pre = dict(zip(self.gate_names, (gi + gh).chunk(len(self.gate_names), dim=1), strict=True))
        if self.peephole:  # input and forget gates look at the old memory
            for gate in ("i", "f"):
                if gate in pre:
                    pre[gate] = pre[gate] + getattr(self, f"weight_c{gate}") * c_prev
        one = torch.ones_like(c_prev)

        i = torch.sigmoid(pre["i"]) if "i" in pre else one  # how much of the candidate to write
        if self.coupled:
            f = 1.0 - i  # keep exactly what is not overwritten
        else:
            f = torch.sigmoid(pre["f"]) if "f" in pre else one  # how much old memory to keep
        g = torch.tanh(pre["g"])  # candidate memory c'_t
        c = f * c_prev + i * g  # the additive update: ∂c_t/∂c_{t-1} = f_t
        if "o" in pre:
            if self.peephole:  # the output gate looks at the new memory
                pre["o"] = pre["o"] + self.weight_co * c
            o = torch.sigmoid(pre["o"])
        else:
            o = one
        h = o * torch.tanh(c)

        out = (_squeeze(h, unbatched), _squeeze(c, unbatched))
        if not return_gates:
            return out
        gates = {k: _squeeze(v, unbatched) for k, v in dict(i=i, f=f, g=g, o=o, c=c).items()}
        return out, gates

    def extra_repr(self) -> str:
        extra = [f"gates={''.join(self.gate_names)}"]
        if self.coupled:
            extra.append("coupled=True")
        if self.peephole:
            extra.append("peephole=True")
        return super().extra_repr() + ", " + ", ".join(extra)


# ----------------------------------------------------------------------------- GRU
class GRUCellScratch(_CellBase):
    """GRU cell, like ``torch.nn.GRUCell`` (gates r, z, n stacked in this order).

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)            reset gate
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)            update gate
        n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))  candidate
        h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    Note where torch applies the reset gate: to ``W_hn h + b_hn`` (bias included), after the matrix
    product, not to h before it as in the original paper. ``z`` plays both LSTM roles: keep (z) and
    write (1 - z), and h is also the memory. ``forward(x, h=None) -> h_new``; with
    ``return_gates=True`` -> ``(h_new, {"r", "z", "n"})``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size, 3, bias)
        self.gate_names = ("r", "z", "n")
        self.reset_parameters()

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None, return_gates=False):
        x, unbatched = self._prepare(x)
        h_prev = self._state_tensor(state, x, unbatched, "state h")
        gi, gh = self._linear_parts(x, h_prev)
        i_r, i_z, i_n = gi.chunk(3, dim=1)
        h_r, h_z, h_n = gh.chunk(3, dim=1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)  # reset gate scales the recurrent part only
        h = (1.0 - z) * n + z * h_prev
        h_out = _squeeze(h, unbatched)
        if not return_gates:
            return h_out
        return h_out, {k: _squeeze(v, unbatched) for k, v in dict(r=r, z=z, n=n).items()}


# ----------------------------------------------------------------------------- unrolling
def unroll(cell: nn.Module, xs: torch.Tensor, state=None, return_gates: bool = False):
    """Run ``cell`` over a sequence, step by step: ``xs (T, B, I) -> (outputs (T, B, H), state)``.

    ``state`` is the initial state (``h`` or ``(h, c)``; None means zeros) and the returned state is
    the last one, as ``nn.RNN``/``nn.LSTM``/``nn.GRU`` return it but without the layer axis.
    Works with the scratch cells and with torch's own cells. An unbatched sequence ``(T, I)`` gives
    outputs ``(T, H)``. With ``return_gates=True`` (scratch LSTM/GRU only) a third value is returned:
    a dict of gate activations stacked over time, each ``(T, B, H)``.
    """
    if not isinstance(xs, torch.Tensor) or xs.dim() not in (2, 3):
        shape = tuple(xs.shape) if isinstance(xs, torch.Tensor) else type(xs).__name__
        raise ValueError(f"xs must be a tensor of shape (T, B, I) or (T, I), got {shape}")
    if xs.shape[0] == 0:
        raise ValueError("xs is empty: the sequence needs at least one time step")
    if return_gates and not isinstance(cell, (LSTMCellScratch, GRUCellScratch)):
        raise TypeError("return_gates=True needs an LSTMCellScratch or a GRUCellScratch")
    outputs, history = [], []
    for x in xs:  # x (B, I)
        if return_gates:
            state, gates = cell(x, state, return_gates=True)
            history.append(gates)
        else:
            state = cell(x, state)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    outputs = torch.stack(outputs)  # (T, B, H)
    if not return_gates:
        return outputs, state
    stacked = {k: torch.stack([g[k] for g in history]) for k in history[0]}
    return outputs, state, stacked


# ----------------------------------------------------------------------------- helpers
def set_forget_bias(module: nn.Module, value: float) -> nn.Module:
    """Make the forget gate's total bias (b_ih + b_hh) equal ``value``, so f_t ≈ σ(value) at start.

    Works for ``LSTMCellScratch``, ``nn.LSTMCell`` and every layer of ``nn.LSTM``; returns the module.
    For the coupled variant (f = 1 - i) it sets the input gate's bias to ``-value`` instead.
    A large positive value gives f_t close to 1: memory and gradients are kept (notebook 06).
    """
    if isinstance(module, LSTMCellScratch):
        if module.coupled:  # f = 1 - σ(b_i): b_i = -value gives the same f at the start
            block, value = module.gate_names.index("i"), -float(value)
        elif "f" in module.gate_names:
            block = module.gate_names.index("f")
        else:
            raise ValueError("this LSTM variant has no forget gate to set a bias on")
        pairs = [(module.bias_ih, module.bias_hh)]
    elif isinstance(module, nn.LSTMCell):
        block, pairs = 1, [(module.bias_ih, module.bias_hh)]
    elif isinstance(module, nn.LSTM):
        block = 1
        pairs = [
            (getattr(module, n), getattr(module, n.replace("bias_ih", "bias_hh")))
            for n, _ in module.named_parameters()
            if n.startswith("bias_ih")
        ]
    else:
        raise TypeError(f"set_forget_bias needs an LSTM cell or layer, got {type(module).__name__}")
    if not module.bias:
        raise ValueError("this LSTM has bias=False: there is no forget bias to set")
    H = module.hidden_size
    with torch.no_grad():
        for b_ih, b_hh in pairs:
            b_ih[block * H : (block + 1) * H] = float(value)
            b_hh[block * H : (block + 1) * H] = 0.0
    return module


def cell_from_layer(rnn: nn.RNNBase, layer: int = 0, reverse: bool = False) -> nn.Module:
    """A scratch cell holding the weights of one layer of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``.

    Lets a model trained with torch's fast layer be inspected gate by gate (notebook 06).
    """
    kinds = {"RNN_TANH": "tanh", "RNN_RELU": "relu", "LSTM": None, "GRU": None}
    if not isinstance(rnn, nn.RNNBase) or rnn.mode not in kinds:
        raise TypeError(
            f"cell_from_layer needs nn.RNN, nn.LSTM or nn.GRU, got {type(rnn).__name__}"
        )
    if not 0 <= layer < rnn.num_layers:
        raise ValueError(f"layer must be in 0..{rnn.num_layers - 1}, got {layer}")
    if reverse and not rnn.bidirectional:
        raise ValueError("reverse=True needs a bidirectional layer")
    if getattr(rnn, "proj_size", 0):
        raise ValueError("LSTM with proj_size has no single-cell equivalent here")
    in_size = rnn.input_size if layer == 0 else rnn.hidden_size * (2 if rnn.bidirectional else 1)
    if rnn.mode == "LSTM":
        cell = LSTMCellScratch(in_size, rnn.hidden_size, bias=rnn.bias)
    elif rnn.mode == "GRU":
        cell = GRUCellScratch(in_size, rnn.hidden_size, bias=rnn.bias)
    else:
        cell = RNNCellScratch(in_size, rnn.hidden_size, rnn.bias, nonlinearity=kinds[rnn.mode])
    suffix = f"_l{layer}" + ("_reverse" if reverse else "")
    state = {
        name: getattr(rnn, name + suffix).detach().clone() for name, _ in cell.named_parameters()
    }
    cell.load_state_dict(state)
    param = next(rnn.parameters())
    return cell.to(device=param.device, dtype=param.dtype)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable numbers in ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def expected_parameter_count(
    kind: str, input_size: int, hidden_size: int, bias: bool = True, proj_size: int = 0
) -> int:
    """Parameters of a one-layer ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` by formula (notebook 06).

    Each gate block has an input matrix (H×I), a recurrent matrix (H×H') and two bias vectors (2H);
    RNN has 1 block, GRU 3, LSTM 4. With ``proj_size`` P > 0 (LSTM only) the recurrent input is the
    projected h of size P (H' = P) and a projection matrix P×H is added.
    """
    blocks = {"rnn": 1, "gru": 3, "lstm": 4}
    if kind not in blocks:
        raise ValueError(f"kind must be one of {sorted(blocks)}, got {kind!r}")
    _check_sizes(input_size, hidden_size)
    if proj_size and kind != "lstm":
        raise ValueError("proj_size exists only for the LSTM")
    if proj_size < 0 or (proj_size > 0 and proj_size >= hidden_size):
        raise ValueError(f"proj_size must be in 0..hidden_size-1, got {proj_size}")
    rec = proj_size or hidden_size
    per_block = hidden_size * input_size + hidden_size * rec + (2 * hidden_size if bias else 0)
    return blocks[kind] * per_block + proj_size * hidden_size


# ----------------------------------------------------------------------------- variants
#: The LSTM variants compared in notebook 06: name -> keyword arguments of ``LSTMCellScratch``.
LSTM_VARIANTS: dict[str, dict[str, bool]] = {
    "LSTM": {},
    "без входного гейта": {"input_gate": False},
    "без забывающего гейта": {"forget_gate": False},
    "без выходного гейта": {"output_gate": False},
    "связанные i и f": {"coupled": True},
    "с замочными скважинами": {"peephole": True},
}


def make_lstm_variant(name: str, input_size: int, hidden_size: int) -> LSTMCellScratch:
    """The ``LSTMCellScratch`` for one of ``LSTM_VARIANTS`` (its Russian name is the key)."""
    if name not in LSTM_VARIANTS:
        raise ValueError(f"unknown LSTM variant {name!r}; known: {list(LSTM_VARIANTS)}")
    return LSTMCellScratch(input_size, hidden_size, **LSTM_VARIANTS[name])


class CellSequenceClassifier(nn.Module):
    """Any cell (scratch or torch) unrolled over a sequence, predicting from the last h (notebook 06).

    The same interface as ``tasks.SequenceClassifier`` so ``tasks.train_sequence_model`` trains it:
    ``x`` LongTensor ``(B, T)`` of token ids (one-hot to the cell's input size) or FloatTensor
    ``(B, T, I)`` -> logits ``(B, C)``. Slower than torch's fused layers, but every LSTM variant fits.
    """

    def __init__(self, cell: nn.Module, output_size: int) -> None:
        super().__init__()
        self.cell = cell
        self.head = nn.Linear(cell.hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n_in = self.cell.input_size
        if x.dtype == torch.long:
            if x.dim() != 2:
                raise ValueError(f"token input must be (B, T), got shape {tuple(x.shape)}")
            if int(x.min()) < 0 or int(x.max()) >= n_in:
                raise ValueError(f"token ids must lie in [0, {n_in}), the cell's input_size")
            x = F.one_hot(x, n_in).to(self.head.weight.dtype)  # (B, T, I)
        elif x.dim() != 3 or x.shape[-1] != n_in:
            raise ValueError(f"float input must be (B, T, {n_in}), got shape {tuple(x.shape)}")
        outputs, _ = unroll(self.cell, x.transpose(0, 1))  # (T, B, H)
        return self.head(outputs[-1])  # (B, C)


# ----------------------------------------------------------------------------- experiments
@dataclass
class MemoryRun:
    """One training run on the delayed-recall task (notebook 06)."""

    name: str  # label of the model (a variant name, "GRU", ...)
    n_params: int  # trainable parameters of the cell and its read-out
    loss: list[float] = field(default_factory=list)  # training loss at every step
    accuracy: float = 0.0  # share of held-out sequences answered right (chance = 1/n_symbols)
    seconds: float = 0.0  # wall time of the training
    solved_at: int | None = None  # first step where the loss (mean of 20 steps) fell below 0.1

    @property
    def solved_text(self) -> str:
        """«решена на шаге N» or «не решена», for the notebook's tables."""
        return "не решена" if self.solved_at is None else f"решена на шаге {self.solved_at}"


def memory_experiment(
    make_cell: Callable[[int], nn.Module],
    name: str,
    *,
    delay: int = 20,
    n_symbols: int = 8,
    steps: int = 400,
    batch_size: int = 64,
    lr: float = 1e-2,
    seed: int = 0,
    n_train: int = 2048,
    n_val: int = 512,
) -> MemoryRun:
    """Train ``make_cell(input_size)`` + a linear read-out on ``tasks.delayed_recall``.

    The symbol at step 0 must be reported after ``delay`` random distractor symbols. The data are
    the same for every run (train seed 0, held-out seed 1); ``seed`` sets the weights and batches.
    """
    from .tasks import delayed_recall, evaluate_accuracy, recall_vocab_size, train_sequence_model

    x, y = delayed_recall(n_train, delay, n_symbols, seed=0)
    x_val, y_val = delayed_recall(n_val, delay, n_symbols, seed=1)
    torch.manual_seed(seed)
    model = CellSequenceClassifier(make_cell(recall_vocab_size(n_symbols)), n_symbols)
    start = time.perf_counter()
    log = train_sequence_model(model, x, y, steps=steps, batch_size=batch_size, lr=lr, seed=seed)
    seconds = time.perf_counter() - start
    smooth = torch.tensor(log.loss).unfold(0, 20, 1).mean(1) if len(log.loss) >= 20 else None
    solved = None
    if smooth is not None and bool((smooth < 0.1).any()):
        solved = int((smooth < 0.1).nonzero()[0, 0]) + 19  # the step that completes the window
    return MemoryRun(
        name=name,
        n_params=count_parameters(model),
        loss=log.loss,
        accuracy=evaluate_accuracy(model, x_val, y_val),
        seconds=seconds,
        solved_at=solved,
    )


def gradient_by_distance(cell: nn.Module, xs: torch.Tensor, state=None) -> torch.Tensor:
    """‖∂(Σ h_T)/∂x_t‖ for every step t of ``xs (T, B, I)``: how much the last output feels step t.

    Returns a tensor ``(T,)`` (index t, so the distance to the end is T - 1 - t). Notebook 06 uses it
    to show the forget gate's bias at work before any training.
    """
    xs = xs.detach().clone().requires_grad_(True)
    outputs, _ = unroll(cell, xs, state)
    (grad,) = torch.autograd.grad(outputs[-1].sum(), xs)
    return grad.flatten(1).norm(dim=1)
