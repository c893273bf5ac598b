"""Stacked and bidirectional recurrent networks: taggers, classifiers, their data and shape helpers.

Introduced in notebook 05_deep_and_bidirectional:

- shapes and parameter counts of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (formula vs the real module),
  the last layer's forward and backward final states, packing of variable-length batches;
- :class:`RNNTagger` (many-to-many: one label per input token) and :class:`RNNClassifier`
  (many-to-one: one label per sequence), uni- or bidirectional, over any cell type;
- the data for two tasks: word boundaries in text with the spaces removed (right context matters)
  and a name's gender from its letters;
- :func:`input_influence`: which input positions an output depends on (why a bidirectional network
  cannot generate text).

Shapes use the course's letters: ``B`` batch, ``T`` time, ``I`` input, ``H`` hidden, ``V`` vocabulary,
``C`` classes, ``L`` layers, ``D`` directions (1 or 2).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # weight blocks stacked in weight_ih / weight_hh
GENDERS = ("f", "m")  # class 0 = female, class 1 = male
WORD_RE = re.compile(r"[а-яё]+")


def _check_cell(cell: str) -> str:
    cell = str(cell).lower()
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}: expected one of {sorted(CELLS)}")
    return cell


def make_rnn(cell: str, input_size: int, hidden_size: int, **kwargs) -> nn.RNNBase:
    """``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` by name (``cell`` = ``"rnn"|"lstm"|"gru"``)."""
    return CELLS[_check_cell(cell)](input_size, hidden_size, **kwargs)


# ---------------------------------------------------------------------------------------------
# Parameters and shapes of torch's recurrent modules
# ---------------------------------------------------------------------------------------------


def count_params(module: nn.Module) -> int:
    """Number of trainable scalars in ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def expected_rnn_params(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bias: bool = True,
    bidirectional: bool = False,
    proj_size: int = 0,
) -> dict[str, tuple[int, ...]]:
    """Parameter names and shapes that ``nn.RNN/LSTM/GRU`` with these arguments has, by formula.

    With ``g`` weight blocks per cell (RNN 1, GRU 3 for r, z, n; LSTM 4 for i, f, g, o), layer ``l``
    and direction suffix ``''`` or ``'_reverse'``:
    ``weight_ih_l{l}`` (g·H, I_l), ``weight_hh_l{l}`` (g·H, H_out), biases ``b_ih``, ``b_hh`` (g·H,),
    and for an LSTM with ``proj_size = P > 0`` also ``weight_hr_l{l}`` (P, H); ``H_out = P or H``.
    Layer 0 reads ``I_0 = input_size``; a deeper layer reads ``D·H_out`` (both directions concatenated).
    """
    cell = _check_cell(cell)
    if proj_size and cell != "lstm":
        raise ValueError("proj_size is supported only by LSTM")
    if proj_size < 0 or (proj_size and proj_size >= hidden_size):
        raise ValueError(f"proj_size must be in [0, hidden_size), got {proj_size}")
    g = GATES[cell]
    out = proj_size or hidden_size
    dirs = 2 if bidirectional else 1
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in range(num_layers):
        layer_in = input_size if layer == 0 else dirs * out
        for suffix in ("", "_reverse")[:dirs]:
            shapes[f"weight_ih_l{layer}{suffix}"] = (g * hidden_size, layer_in)
            shapes[f"weight_hh_l{layer}{suffix}"] = (g * hidden_size, out)
            if bias:
                shapes[f"bias_ih_l{layer}{suffix}"] = (g * hidden_size,)
                shapes[f"bias_hh_l{layer}{suffix}"] = (g * hidden_size,)
            if proj_size:
                shapes[f"weight_hr_l{layer}{suffix}"] = (proj_size, hidden_size)
    return shapes


def rnn_param_count(cell: str, input_size: int, hidden_size: int, **kwargs) -> int:
    """Total parameter count of an ``nn.RNN/LSTM/GRU`` by formula (see :func:`expected_rnn_params`).

    For one layer, one direction, no projection: ``g·H·(I + H + 2)`` with biases, ``g·H·(I + H)``
    without.
    """
    shapes = expected_rnn_params(cell, input_size, hidden_size, **kwargs)
    return sum(math.prod(s) for s in shapes.values())


def rnn_param_table(rnn: nn.RNNBase) -> list[tuple[str, tuple[int, ...], int]]:
    """``(name, shape, count)`` for every parameter of a torch recurrent module, in order."""
    return [(name, tuple(p.shape), p.numel()) for name, p in rnn.named_parameters()]


def expected_output_shapes(
    cell: str,
    batch: int,
    seq_len: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
    proj_size: int = 0,
) -> dict[str, tuple[int, ...]]:
    """Shapes of ``output``, ``h_n`` (and ``c_n`` for an LSTM) by the documentation's rules.

    ``output``: (T, B, D·H_out), or (B, T, D·H_out) with ``batch_first`` (only the input and output
    move: ``h_n`` never does); ``h_n``: (L·D, B, H_out); ``c_n``: (L·D, B, H), where
    ``H_out = proj_size or hidden_size``.
    """
    cell = _check_cell(cell)
    dirs = 2 if bidirectional else 1
    out = proj_size or hidden_size
    output = (batch, seq_len, dirs * out) if batch_first else (seq_len, batch, dirs * out)
    shapes = {"output": output, "h_n": (num_layers * dirs, batch, out)}
    if cell == "lstm":
        shapes["c_n"] = (num_layers * dirs, batch, hidden_size)
    return shapes


def run_shapes(rnn: nn.RNNBase, batch: int, seq_len: int) -> dict[str, tuple[int, ...]]:
    """Run ``rnn`` on random input and return the actual shapes of ``output``, ``h_n`` (, ``c_n``)."""
    shape = (
        (batch, seq_len, rnn.input_size) if rnn.batch_first else (seq_len, batch, rnn.input_size)
    )
    with torch.no_grad():
        output, state = rnn(torch.randn(*shape))
    shapes = {"output": tuple(output.shape)}
    if isinstance(state, tuple):
        shapes["h_n"], shapes["c_n"] = tuple(state[0].shape), tuple(state[1].shape)
    else:
        shapes["h_n"] = tuple(state.shape)
    return shapes


def last_layer_states(
    h_n: torch.Tensor, num_layers: int, bidirectional: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Final hidden states of the LAST layer: ``(forward (B, H), backward (B, H) or None)``.

    ``h_n`` (L·D, B, H) is ordered layer by layer, forward before backward, so viewing it as
    (L, D, B, H) and taking ``[-1]`` gives the last layer. Note ``h_n[-1]`` alone is the *backward*
    state of a bidirectional network, which has read the sequence from its end back to position 0.
    """
    dirs = 2 if bidirectional else 1
    if h_n.dim() != 3 or h_n.shape[0] != num_layers * dirs:
        raise ValueError(
            f"h_n must have shape (num_layers*num_directions, B, H) = ({num_layers * dirs}, B, H), "
            f"got {tuple(h_n.shape)}"
        )
    last = h_n.view(num_layers, dirs, h_n.shape[1], h_n.shape[2])[-1]
    return last[0], (last[1] if bidirectional else None)


def packed_vs_separate(rnn: nn.RNNBase, seqs: list[torch.Tensor]) -> dict[str, float]:
    """Largest differences between a packed batch run and running every sequence on its own.

    ``seqs``: a list of (T_i, I) float tensors of different lengths. The packed run pads them,
    packs with :func:`pack_padded_sequence` (``enforce_sorted=False``), unpacks the output and compares
    each sequence's first T_i outputs and its final state with the run on that sequence alone.
    Returns ``{"output": max |diff|, "h_n": max |diff|, "padded_output_zero": max |padding|}``.
    """
    if not seqs:
        raise ValueError("packed_vs_separate needs at least one sequence")
    lengths = torch.tensor([len(s) for s in seqs])
    if (lengths == 0).any():
        raise ValueError("every sequence must have at least one step")
    padded = nn.utils.rnn.pad_sequence(seqs, batch_first=True)  # (B, T_max, I)
    was_training = rnn.training
    rnn.eval()
    try:
        with torch.no_grad():
            if not rnn.batch_first:
                padded = padded.transpose(0, 1)
            packed = pack_padded_sequence(
                padded, lengths, batch_first=rnn.batch_first, enforce_sorted=False
            )
            out_packed, state = rnn(packed)
            out, _ = pad_packed_sequence(out_packed, batch_first=True)  # (B, T_max, D·H)
            h_n = state[0] if isinstance(state, tuple) else state  # (L·D, B, H)
            diff_out, diff_h, pad_max = 0.0, 0.0, 0.0
            for b, seq in enumerate(seqs):
                x = seq.unsqueeze(0) if rnn.batch_first else seq.unsqueeze(1)
                o, s = rnn(x)
                o = o[0] if rnn.batch_first else o[:, 0]
                h = (s[0] if isinstance(s, tuple) else s)[:, 0]
                n = len(seq)
                diff_out = max(diff_out, (out[b, :n] - o).abs().max().item())
                diff_h = max(diff_h, (h_n[:, b] - h).abs().max().item())
                if n < out.shape[1]:
                    pad_max = max(pad_max, out[b, n:].abs().max().item())
    finally:
        rnn.train(was_training)
    return {"output": diff_out, "h_n": diff_h, "padded_output_zero": pad_max}


def layerwise_states(rnn: nn.RNNBase, x: torch.Tensor) -> list[torch.Tensor]:
    """Outputs of every layer of a stacked unidirectional ``nn.RNN/GRU/LSTM`` (no projection).

    ``x``: (B, T, I) if ``rnn.batch_first`` else (T, B, I). The module only returns its last layer,
    so each layer ``l`` is re-run as a one-layer copy with the weights ``*_l{l}`` on the previous
    layer's output (dropout between layers is not applied: use in evaluation). Returns a list of
    ``num_layers`` tensors shaped like the module's output.
    """
    if rnn.bidirectional or getattr(rnn, "proj_size", 0):
        raise ValueError("layerwise_states supports unidirectional modules without projection")
    cell = {nn.RNN: "rnn", nn.LSTM: "lstm", nn.GRU: "gru"}[type(rnn)]
    kwargs = {"bias": rnn.bias, "batch_first": rnn.batch_first}
    if cell == "rnn":
        kwargs["nonlinearity"] = rnn.nonlinearity
    states = []
    with torch.no_grad():
        for layer in range(rnn.num_layers):
            single = make_rnn(cell, x.shape[-1], rnn.hidden_size, **kwargs)
            single.load_state_dict(
                {
                    name.replace(f"_l{layer}", "_l0"): p
                    for name, p in rnn.state_dict().items()
                    if name.endswith(f"_l{layer}")
                }
            )
            x, _ = single(x)
            states.append(x)
    return states


def change_rate(states: torch.Tensor) -> float:
    """How fast a hidden state moves: mean ‖h_t − h_{t−1}‖ / mean ‖h_t‖ over time and batch.

    ``states``: (B, T, H). A small value means a slowly changing state (a longer time scale).
    """
    if states.dim() != 3 or states.shape[1] < 2:
        raise ValueError(f"states must be (B, T, H) with T >= 2, got {tuple(states.shape)}")
    step = (states[:, 1:] - states[:, :-1]).norm(dim=-1).mean()
    return (step / states.norm(dim=-1).mean().clamp_min(1e-12)).item()


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


@dataclass
class TaggerConfig:
    """Settings of a :class:`RNNTagger` or :class:`RNNClassifier`."""

    vocab_size: int  # V: number of input token ids (id 0 is padding when lengths are given)
    num_classes: int  # C: number of labels per position (tagger) or per sequence (classifier)
    embed_size: int = 16  # E: size of the learned token embedding
    hidden_size: int = 64  # H: hidden size of EACH direction
    num_layers: int = 1  # L: stacked recurrent layers
    cell: str = "gru"  # "rnn" | "lstm" | "gru"
    bidirectional: bool = False  # D = 2 when True: a second RNN reads right to left
    dropout: float = 0.0  # dropout between stacked layers (torch ignores it when L = 1)


class _Recurrent(nn.Module):
    """Embedding + recurrent module shared by the tagger and the classifier."""

    def __init__(self, config: TaggerConfig):
        super().__init__()
        _check_cell(config.cell)
        if config.num_layers < 1:
            raise ValueError("num_layers must be at least 1")
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embed_size)
        self.rnn = make_rnn(
            config.cell,
            config.embed_size,
            config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.directions = 2 if config.bidirectional else 1
        self.head = nn.Linear(self.directions * config.hidden_size, config.num_classes)

    def _check_input(self, x: torch.Tensor, lengths: torch.Tensor | None) -> None:
        if x.dim() != 2 or x.dtype != torch.long:
            raise ValueError(
                f"x must be a (B, T) tensor of token ids (long), got {x.dtype} {tuple(x.shape)}"
            )
        if lengths is not None:
            lengths = torch.as_tensor(lengths)
            if lengths.shape != (x.shape[0],):
                raise ValueError(
                    f"lengths must have shape (B,) = ({x.shape[0]},), got {tuple(lengths.shape)}"
                )
            if (lengths < 1).any() or (lengths > x.shape[1]).any():
                raise ValueError("every length must be between 1 and T")

    def run(self, emb: torch.Tensor, lengths: torch.Tensor | None):
        """Recurrent part on embedded input (B, T, E): returns ``(output (B, T, D·H), h_n (L·D, B, H))``."""
        if lengths is None:
            output, state = self.rnn(emb)
        else:
            packed = pack_padded_sequence(
                emb, torch.as_tensor(lengths).cpu(), batch_first=True, enforce_sorted=False
            )
            output, state = self.rnn(packed)
            output, _ = pad_packed_sequence(output, batch_first=True, total_length=emb.shape[1])
        h_n = state[0] if isinstance(state, tuple) else state
        return output, h_n


class RNNTagger(_Recurrent):
    """Many-to-many tagger: one label per input position (e.g. «does a word end after this letter?»).

    ``forward(x (B, T) long, lengths (B,) or None) -> logits (B, T, C)``. With ``lengths`` the batch is
    packed, so padding never enters the recurrence (the backward direction starts at each sequence's
    real end). The head sees ``D·H`` features: forward and backward states at the same position.
    """

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        self._check_input(x, lengths)
        return self.forward_embedded(self.embed(x), lengths)

    def forward_embedded(self, emb: torch.Tensor, lengths=None) -> torch.Tensor:
        """Same as ``forward`` from embeddings (B, T, E), so gradients w.r.t. inputs can be taken."""
        output, _ = self.run(emb, lengths)
        return self.head(output)


class RNNClassifier(_Recurrent):
    """Many-to-one classifier: one label per sequence (e.g. a name's gender from its letters).

    ``forward(x (B, T) long, lengths (B,) or None) -> logits (B, C)``. The head reads the last layer's
    final states: the forward one after each sequence's last real token (packing makes that exact)
    concatenated, when bidirectional, with the backward one after it has read back to the first token.
    """

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        self._check_input(x, lengths)
        _, h_n = self.run(self.embed(x), lengths)
        fwd, bwd = last_layer_states(h_n, self.config.num_layers, self.config.bidirectional)
        features = fwd if bwd is None else torch.cat([fwd, bwd], dim=-1)  # (B, D·H)
        return self.head(features)


def build_model(kind: str, config: TaggerConfig) -> nn.Module:
    """``kind="tagger"`` -> :class:`RNNTagger`, ``"classifier"`` -> :class:`RNNClassifier`."""
    if kind == "tagger":
        return RNNTagger(config)
    if kind == "classifier":
        return RNNClassifier(config)
    raise ValueError(f"unknown model kind {kind!r}: expected 'tagger' or 'classifier'")


def hidden_for_budget(
    config: TaggerConfig, budget: int, kind: str = "tagger", max_hidden: int = 1024
) -> int:
    """Hidden size (per direction) whose model has the parameter count closest to ``budget``.

    Used to compare a unidirectional and a bidirectional network at an equal parameter budget.
    """
    if budget < 1:
        raise ValueError("budget must be positive")
    best, best_gap = 1, None
    for hidden in range(1, max_hidden + 1):
        probe = TaggerConfig(**{**config.__dict__, "hidden_size": hidden})
        n = count_params(build_model(kind, probe))
        gap = abs(n - budget)
        if best_gap is None or gap < best_gap:
            best, best_gap = hidden, gap
        if n > budget:
            break
    return best


# ---------------------------------------------------------------------------------------------
# Data: word boundaries in de-spaced text (tagging) and a name's gender (classification)
# ---------------------------------------------------------------------------------------------


def despace(text: str) -> tuple[str, list[int]]:
    """Lowercase ``text``, keep only Russian letters and drop everything else (spaces, punctuation).

    Returns ``(letters, labels)`` with ``labels[i] = 1`` when a word ends after ``letters[i]``.
    Example: ``despace("Все счастливые семьи")`` -> ``("всесчастливыесемьи", [0,0,1, 0,...,1, ...])``.
    """
    words = WORD_RE.findall(text.lower())
    if not words:
        raise ValueError("the text has no Russian letters")
    labels: list[int] = []
    for word in words:
        labels += [0] * (len(word) - 1) + [1]
    return "".join(words), labels


def respace(letters: str, labels) -> str:
    """Inverse of :func:`despace` for display: insert a space after every letter labelled 1."""
    if len(letters) != len(labels):
        raise ValueError("letters and labels must have the same length")
    return "".join(
        ch + (" " if int(lab) else "") for ch, lab in zip(letters, labels, strict=True)
    ).strip()


@dataclass
class TaggingData:
    """Fixed-length windows for a tagging task; tensors are (N, T)."""

    x_train: torch.Tensor  # (N_train, T) long: letter ids
    y_train: torch.Tensor  # (N_train, T) long: labels 0/1
    x_val: torch.Tensor  # (N_val, T) long
    y_val: torch.Tensor  # (N_val, T) long
    vocab: object  # lecture_utils.data.Vocab over the letters
    info: dict = field(default_factory=dict)  # sizes, for printing


def _windows(ids: list[int], seq_len: int, limit: int) -> torch.Tensor:
    n = min(len(ids) // seq_len, limit)
    if n < 1:
        raise ValueError(f"text too short for one window of {seq_len} letters")
    return torch.tensor(ids[: n * seq_len], dtype=torch.long).view(n, seq_len)


def make_boundary_data(
    text: str, seq_len: int = 64, n_train: int = 2000, n_val: int = 500, val_fraction: float = 0.1
) -> TaggingData:
    """Word-boundary restoration data from a text: windows of ``seq_len`` de-spaced letters.

    The text is split contiguously: windows for training come from the beginning of the first
    ``1 - val_fraction`` of the text, validation windows from the beginning of the rest, so no
    sentence is shared. ``y = 1`` where a word ends after the letter (see :func:`despace`).
    """
    from lecture_utils.data import Vocab

    if not 0 < val_fraction < 1:
        raise ValueError("val_fraction must be between 0 and 1")
    letters, labels = despace(text)
    vocab = Vocab.from_text(letters, level="char")
    ids = vocab.encode(letters)
    cut = int(len(ids) * (1 - val_fraction))
    x_train = _windows(ids[:cut], seq_len, n_train)
    y_train = _windows(labels[:cut], seq_len, n_train)
    x_val = _windows(ids[cut:], seq_len, n_val)
    y_val = _windows(labels[cut:], seq_len, n_val)
    info = {
        "letters": len(letters),
        "alphabet": len(vocab),
        "train_windows": len(x_train),
        "val_windows": len(x_val),
        "boundary_share": round(float(y_train.float().mean()), 3),
    }
    return TaggingData(x_train, y_train, x_val, y_val, vocab, info)


@dataclass
class ClassificationData:
    """Variable-length sequences for a many-to-one task, padded with id 0."""

    x_train: torch.Tensor  # (N_train, T_max) long, padded with vocab.pad (= 0)
    len_train: torch.Tensor  # (N_train,) real lengths
    y_train: torch.Tensor  # (N_train,) class ids
    x_val: torch.Tensor  # (N_val, T_max) long
    len_val: torch.Tensor  # (N_val,)
    y_val: torch.Tensor  # (N_val,)
    vocab: object  # lecture_utils.data.Vocab with "<pad>" at id 0
    items_val: list = field(default_factory=list)  # the validation strings, for display


def make_gender_data(
    pairs: list[tuple[str, str]], val_fraction: float = 0.2, seed: int = 0, reverse: bool = False
) -> ClassificationData:
    """Name -> gender data from ``(name, "f"|"m")`` pairs (``data.load_names_with_gender()``).

    Names are split at random (seeded) into train and validation, encoded letter by letter with a
    vocabulary whose id 0 is ``<pad>``, and padded; the real lengths are kept for packing.
    Class 0 is female, class 1 male (see ``GENDERS``). ``reverse=True`` spells every name backwards
    (a unidirectional network then reads it from its last letter to its first; same split).
    """
    from lecture_utils.data import Vocab, pad_sequences, train_val_split

    if not pairs:
        raise ValueError("no names given")
    bad = sorted({g for _, g in pairs} - set(GENDERS))
    if bad:
        raise ValueError(f"unknown gender labels {bad}: expected 'f' or 'm'")
    vocab = Vocab.from_text([n for n, _ in pairs], level="char", specials=("<pad>",))
    train, val = train_val_split(list(pairs), val_fraction=val_fraction, seed=seed)

    def encode(items):
        x, lengths = pad_sequences(
            [vocab.encode(n[::-1] if reverse else n) for n, _ in items], vocab.pad
        )
        y = torch.tensor([GENDERS.index(g) for _, g in items], dtype=torch.long)
        return x, torch.as_tensor(lengths), y

    x_tr, l_tr, y_tr = encode(train)
    x_va, l_va, y_va = encode(val)
    return ClassificationData(x_tr, l_tr, y_tr, x_va, l_va, y_va, vocab, [n for n, _ in val])


# ---------------------------------------------------------------------------------------------
# Training and evaluation of taggers / classifiers
# ---------------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """What :func:`train_model` measured."""

    train_loss: list[float]  # mean training loss per epoch (cross-entropy, nats)
    val_loss: list[float]  # validation loss after each epoch (nats per scored position)
    val_accuracy: list[float]  # validation accuracy after each epoch
    seconds: float  # wall-clock training time (inflated when other programs share the CPU)
    params: int  # trainable parameters of the model
    cpu_seconds: float = 0.0  # CPU time of this process: steadier on a busy machine


def _logits_and_targets(model, x, y, lengths):
    logits = model(x, lengths)
    if logits.dim() == 3:  # tagger: (B, T, C); ignore padded positions
        if lengths is not None:
            mask = torch.arange(x.shape[1])[None, :] < torch.as_tensor(lengths)[:, None]
            return logits[mask], y[mask]
        return logits.reshape(-1, logits.shape[-1]), y.reshape(-1)
    return logits, y


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, lengths=None, batch_size: int = 512) -> torch.Tensor:
    """Predicted class ids: (B, T) for a tagger, (B,) for a classifier (in evaluation mode)."""
    was_training = model.training
    model.eval()
    parts = []
    for i in range(0, len(x), batch_size):
        lens = None if lengths is None else lengths[i : i + batch_size]
        parts.append(model(x[i : i + batch_size], lens).argmax(-1))
    model.train(was_training)
    return torch.cat(parts)


def scores(pred: torch.Tensor, y: torch.Tensor, positive: int = 1) -> dict[str, float]:
    """Accuracy, and precision / recall / F1 of class ``positive`` (e.g. «a word ends here»)."""
    if pred.shape != y.shape:
        raise ValueError(f"pred and y shapes differ: {tuple(pred.shape)} vs {tuple(y.shape)}")
    tp = ((pred == positive) & (y == positive)).sum().item()
    fp = ((pred == positive) & (y != positive)).sum().item()
    fn = ((pred != positive) & (y == positive)).sum().item()
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": (pred == y).float().mean().item(),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def train_model(
    model: nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    len_train: torch.Tensor | None = None,
    len_val: torch.Tensor | None = None,
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    clip: float = 1.0,
) -> TrainResult:
    """Train a tagger or classifier with Adam and cross-entropy; seeded shuffling.

    Shapes: ``x_*`` (N, T) long; ``y_*`` (N, T) for a tagger or (N,) for a classifier;
    ``len_*`` (N,) real lengths when the sequences are padded (then they are packed).
    Returns the per-epoch training loss, validation loss and accuracy, the time and the parameter
    count. The time includes the validation passes.
    """
    if epochs < 1:
        raise ValueError("epochs must be at least 1")
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    losses, val_losses, accs = [], [], []
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=gen)
        total, count = 0.0, 0
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            lens = None if len_train is None else len_train[idx]
            logits, target = _logits_and_targets(model, x_train[idx], y_train[idx], lens)
            loss = loss_fn(logits, target)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            total += loss.item() * len(idx)
            count += len(idx)
        losses.append(total / count)
        val_losses.append(evaluate_loss(model, x_val, y_val, len_val))
        accs.append(evaluate_model(model, x_val, y_val, len_val)["accuracy"])
    return TrainResult(
        losses,
        val_losses,
        accs,
        time.perf_counter() - start,
        count_params(model),
        time.process_time() - cpu_start,
    )


@torch.no_grad()
def evaluate_loss(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, lengths=None, batch_size: int = 512
) -> float:
    """Mean cross-entropy (nats) per scored position (tagger) or per sequence (classifier)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(x), batch_size):
        lens = None if lengths is None else lengths[i : i + batch_size]
        logits, target = _logits_and_targets(
            model, x[i : i + batch_size], y[i : i + batch_size], lens
        )
        total += nn.functional.cross_entropy(logits, target, reduction="sum").item()
        count += len(target)
    model.train(was_training)
    return total / count


def evaluate_model(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, lengths=None
) -> dict[str, float]:
    """:func:`scores` of the model's predictions; padded positions (beyond ``lengths``) are ignored."""
    pred = predict(model, x, lengths)
    if pred.dim() == 2 and lengths is not None:
        mask = torch.arange(x.shape[1])[None, :] < torch.as_tensor(lengths)[:, None]
        return scores(pred[mask], y[mask])
    return scores(pred, y)


# ---------------------------------------------------------------------------------------------
# Why a bidirectional network cannot generate text
# ---------------------------------------------------------------------------------------------


def input_influence(model: RNNTagger, x: torch.Tensor, position: int) -> torch.Tensor:
    """How strongly the output at ``position`` depends on each input: ‖∂ logits_t / ∂ emb_s‖ for all s.

    ``x``: (T,) or (1, T) token ids. Returns a (T,) tensor of gradient norms. For a unidirectional
    tagger the entries after ``position`` are exactly 0 (it has not read them yet); a bidirectional
    one depends on the whole sequence, including the token it would have to predict when generating.
    """
    if x.dim() == 1:
        x = x.unsqueeze(0)
    if x.shape[0] != 1:
        raise ValueError("input_influence takes one sequence: (T,) or (1, T)")
    if not 0 <= position < x.shape[1]:
        raise ValueError(f"position must be in [0, {x.shape[1]}), got {position}")
    was_training = model.training
    model.eval()
    emb = model.embed(x).detach().requires_grad_(True)  # (1, T, E)
    logits = model.forward_embedded(emb)  # (1, T, C)
    logits[0, position].norm().backward()
    model.train(was_training)
    return emb.grad[0].norm(dim=-1)  # (T,)


def next_token_windows(
    ids: list[int], seq_len: int, limit: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Language-model windows: ``x`` (N, T) and ``y`` (N, T) = ``x`` shifted left by one token."""
    n = min((len(ids) - 1) // seq_len, limit)
    if n < 1:
        raise ValueError(f"need more than {seq_len} tokens")
    data = torch.tensor(ids[: n * seq_len + 1], dtype=torch.long)
    return data[:-1].view(n, seq_len), data[1:].view(n, seq_len)


def continue_text(
    model: RNNTagger, vocab, prefix: str, n_chars: int = 40, temperature: float = 0.0, seed: int = 0
) -> str:
    """Generate with a tagger trained as a next-character model (uni- or bidirectional).

    Each step re-reads the whole text so far and takes the prediction at its LAST position (a
    bidirectional model cannot carry its state forward: its backward half would have to be
    recomputed from the new end anyway). ``temperature=0`` is greedy; otherwise sample from
    softmax(logits / temperature) with a seeded generator. Returns ``prefix`` + continuation.
    """
    if n_chars < 0:
        raise ValueError("n_chars must be >= 0")
    gen = torch.Generator().manual_seed(seed)
    ids = vocab.encode(prefix)
    if not ids:
        raise ValueError("the prefix must hold at least one character")
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for _ in range(n_chars):
            logits = model(torch.tensor([ids]))[0, -1]  # (V,) prediction after the last character
            if temperature <= 0:
                ids.append(int(logits.argmax()))
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                ids.append(int(torch.multinomial(probs, 1, generator=gen)))
    model.train(was_training)
    return vocab.decode(ids)
