"""The names generator of notebook 04: the lecture's version, the improved data pipeline, a bigram
baseline, one scoring rule for all three, and statistics of generated names.

Scoring rule (the same predictions for every model, so the numbers compare): for a name
``w`` of ``n`` letters, the model is scored on ``w[1], ..., w[n-1]`` and on the end of the name
(the lecture's first padding space, the improved model's ``<eos>``, the bigram's end mark); the
first letter is given, and padding after the end is not scored. The result is the mean negative
log-likelihood in nats per prediction.

Shapes: ``B`` names in a batch, ``T`` time steps, ``V`` vocabulary size, ``H`` hidden size.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .data import Vocab, pad_sequences
from .sampling import encode_prefix, generate, next_token_probs
from .train import IGNORE_INDEX

PAD_CHAR = " "  # the lecture pads names with spaces, so the space becomes a character to learn
SPECIALS = ("<pad>", "<bos>", "<eos>")  # the improved model's special tokens
GENDER_MARKS = {"f": "♀", "m": "♂"}  # first character of a name when one model learns both genders


# =============================================================================================
# The lecture's version (baseline): space padding, one-hot, nn.RNN(12), greedy re-run sampling
# =============================================================================================


@dataclass
class LectureData:
    """The lecture's data treatment: every name padded with spaces to the longest one."""

    chars: list[str]  # id -> character, the padding space included (sorted, for reproducibility)
    char2int: dict[str, int]  # character -> id
    maxlen: int  # length of the longest training name
    inputs: torch.Tensor  # (B, T, V) one-hot float, name[:-1] of each padded name, T = maxlen - 1
    targets: torch.Tensor  # (B, T) long, name[1:] of each padded name (padding spaces included)

    @property
    def dict_size(self) -> int:
        return len(self.chars)

    def one_hot(self, strings: Sequence[str]) -> torch.Tensor:
        """One-hot (B, T, V) for strings of equal length; unknown characters raise ``ValueError``."""
        ids = []
        for s in strings:
            for ch in s:
                if ch not in self.char2int:
                    raise ValueError(f"character {ch!r} is not in the lecture model's alphabet")
            ids.append([self.char2int[ch] for ch in s])
        return F.one_hot(torch.tensor(ids, dtype=torch.long), self.dict_size).float()


def lecture_data(names: Sequence[str], alphabet: str = "") -> LectureData:
    """Encode ``names`` the lecture's way: pad with spaces, input = name[:-1], target = name[1:].

    The alphabet is the names' characters, the padding space and ``alphabet`` (pass the letters of
    the held-out names too, so that they can be scored; the lecture used all names for both).
    """
    if not names:
        raise ValueError("lecture_data needs at least one name")
    chars = sorted(set("".join(names)) | set(alphabet) | {PAD_CHAR})
    char2int = {ch: i for i, ch in enumerate(chars)}
    maxlen = max(len(n) for n in names)
    padded = [n.ljust(maxlen, PAD_CHAR) for n in names]
    data = LectureData(chars, char2int, maxlen, torch.empty(0), torch.empty(0))
    data.inputs = data.one_hot([p[:-1] for p in padded])
    data.targets = torch.tensor([[char2int[c] for c in p[1:]] for p in padded], dtype=torch.long)
    return data


class LectureRNN(nn.Module):
    """The lecture's model: ``nn.RNN`` (one-hot in, ``hidden_dim`` tanh units) + a linear layer.

    ``forward(x (B, T, V) float) -> (logits (B*T, V), hidden (n_layers, B, H))``: the logits are
    flattened over batch and time, as the lecture did before its cross-entropy. Every call starts
    from a zero hidden state.
    """

    def __init__(self, input_size: int, output_size: int, hidden_dim: int = 12, n_layers: int = 1):
        super().__init__()
        self.hidden_dim, self.n_layers = hidden_dim, n_layers
        self.rnn = nn.RNN(input_size, hidden_dim, n_layers, batch_first=True)
        self.fc = nn.Linear(hidden_dim, output_size)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = torch.zeros(self.n_layers, x.size(0), self.hidden_dim, device=x.device)
        out, hidden = self.rnn(x, hidden)  # (B, T, H)
        return self.fc(out.reshape(-1, self.hidden_dim)), hidden  # (B*T, V)


def train_lecture(
    model: LectureRNN,
    data: LectureData,
    epochs: int = 100,
    lr: float = 0.01,
    eval_fn=None,
) -> dict[str, list[float]]:
    """The lecture's training: Adam, full batch (all names at once), cross-entropy over every
    position, padding included; no clipping, no validation-based stopping.

    ``eval_fn(model) -> float`` (optional) is called after each epoch, e.g. a validation loss.
    Returns ``{"train": [...], "val": [...]}`` (per epoch).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    curves: dict[str, list[float]] = {"train": [], "val": []}
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        logits, _ = model(data.inputs)  # (B*T, V)
        loss = criterion(logits, data.targets.reshape(-1))
        loss.backward()
        optimizer.step()
        curves["train"].append(loss.item())
        if eval_fn is not None:
            curves["val"].append(float(eval_fn(model)))
    model.eval()
    return curves


@torch.no_grad()
def lecture_predict(model: LectureRNN, data: LectureData, chars: Sequence[str]) -> str:
    """The most likely next character after ``chars``: the WHOLE string is run again (greedy)."""
    logits, _ = model(data.one_hot(["".join(chars)]))  # (T, V) for one string
    return data.chars[int(logits[-1].argmax())]


def lecture_sample(model: LectureRNN, data: LectureData, out_len: int, start: str) -> str:
    """The lecture's ``sample``: extend ``start`` to ``out_len`` characters, one greedy argmax at a
    time, re-running the whole prefix for each new character (cost grows like ``out_len²``).
    Nothing stops it at the end of a name: the padding spaces are generated too."""
    model.eval()
    chars = list(start.lower())
    for _ in range(out_len - len(chars)):
        chars.append(lecture_predict(model, data, chars))
    return "".join(chars)


@torch.no_grad()
def lecture_name_loss(model: LectureRNN, data: LectureData, names: Sequence[str]) -> float:
    """Mean NLL (nats per prediction) of the lecture model on ``names`` by the module's scoring
    rule: letters after the first, plus the first padding space as the end of the name."""
    lengths = [len(n) for n in names]
    T = max(lengths)
    x = data.one_hot([n.ljust(T, PAD_CHAR) for n in names])  # causal: padding after does not matter
    y = torch.full((len(names), T), IGNORE_INDEX, dtype=torch.long)
    for i, n in enumerate(names):
        y[i, : len(n)] = torch.tensor([data.char2int[c] for c in n[1:] + PAD_CHAR])
    model.eval()
    logits, _ = model(x)
    return F.cross_entropy(logits, y.reshape(-1), ignore_index=IGNORE_INDEX).item()


# =============================================================================================
# A bigram count model: the baseline any sequence model should beat
# =============================================================================================

START, END = "^", "$"


@dataclass
class BigramModel:
    """P(next | previous character) from counts, with add-``alpha`` smoothing."""

    chars: list[str]  # letters the model knows
    counts: torch.Tensor  # (V + 1, V + 1): rows START + letters, columns letters + END
    alpha: float  # pseudo-count added to every cell

    @classmethod
    def fit(cls, names: Sequence[str], alpha: float = 0.1, chars: Sequence[str] | None = None):
        chars = sorted(set("".join(names))) if chars is None else list(chars)
        rows = {c: i for i, c in enumerate([START, *chars])}
        cols = {c: i for i, c in enumerate([*chars, END])}
        counts = torch.zeros(len(rows), len(cols))
        for n in names:
            for a, b in zip(START + n, n + END, strict=True):
                counts[rows[a], cols[b]] += 1
        return cls(chars, counts, alpha)

    def log_probs(self) -> torch.Tensor:
        """log P(column | row), (V + 1, V + 1)."""
        smoothed = self.counts + self.alpha
        return torch.log(smoothed / smoothed.sum(1, keepdim=True))

    def name_loss(self, names: Sequence[str]) -> float:
        """Mean NLL (nats per prediction) by the module's scoring rule (first letter given)."""
        rows = {c: i for i, c in enumerate([START, *self.chars])}
        cols = {c: i for i, c in enumerate([*self.chars, END])}
        lp = self.log_probs()
        total, count = 0.0, 0
        for n in names:
            for a, b in zip(n, n[1:] + END, strict=True):
                if a not in rows or b not in cols:
                    raise ValueError(
                        f"character {a if a not in rows else b!r} is unknown to the bigram model"
                    )
                total -= lp[rows[a], cols[b]].item()
                count += 1
        return total / count

    def sample(self, n: int, seed: int = 0, max_len: int = 20) -> list[str]:
        """``n`` names drawn letter by letter from the bigram probabilities."""
        g = torch.Generator().manual_seed(seed)
        probs = self.log_probs().exp()
        out = []
        for _ in range(n):
            row, name = 0, ""
            while len(name) < max_len:
                col = int(torch.multinomial(probs[row], 1, generator=g))
                if col == len(self.chars):
                    break
                name += self.chars[col]
                row = col + 1
            out.append(name)
        return out


# =============================================================================================
# The improved pipeline: <bos>/<eos>, padding ignored by the loss, shuffled mini-batches
# =============================================================================================


def names_vocab(names: Sequence[str]) -> Vocab:
    """Character vocabulary with ``<pad>``, ``<bos>``, ``<eos>`` (ids 0, 1, 2)."""
    return Vocab.from_text(list(names), level="char", specials=SPECIALS)


def encode_names(
    names: Sequence[str], vocab: Vocab, unscored: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch: x = ``<bos>`` + name, y = name + ``<eos>``, padded -> (x (B, T), y (B, T)).

    Padding is ``<pad>`` in x and ``IGNORE_INDEX`` in y, so it is never scored. ``unscored``
    leading targets of every name are also set to ``IGNORE_INDEX``: 1 gives the module's scoring
    rule (the first letter is given), 2 with a gender mark in front of the name.
    """
    if not names:
        raise ValueError("encode_names needs at least one name")
    ids = [vocab.encode(n) for n in names]
    x, _ = pad_sequences([[vocab.bos, *seq] for seq in ids], vocab.pad)
    y, _ = pad_sequences([[*seq, vocab.eos] for seq in ids], IGNORE_INDEX)
    if unscored:
        y[:, :unscored] = IGNORE_INDEX
    return x, y


class NameBatches:
    """Re-iterable mini-batches of names for ``train.fit``, reshuffled (seeded) at every pass."""

    def __init__(
        self,
        names: Sequence[str],
        vocab: Vocab,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        unscored: int = 0,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.names, self.vocab, self.batch_size = list(names), vocab, batch_size
        self.shuffle, self.unscored = shuffle, unscored
        self._rng = random.Random(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.names) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = list(self.names)
        if self.shuffle:
            self._rng.shuffle(order)
        for i in range(0, len(order), self.batch_size):
            yield encode_names(order[i : i + self.batch_size], self.vocab, self.unscored)


class AveragedLM(nn.Module):
    """Several trained language models used as one: the next-token probabilities are averaged.

    ``forward(x (B, T), state=None) -> (log_probs (B, T, V), state)`` where ``state`` is the tuple
    of the members' states. Log-probabilities are valid logits, so ``train.evaluate``,
    ``train.lm_loss`` and ``sampling.generate`` work unchanged (the loss is the NLL of the average).
    """

    def __init__(self, models: Sequence[nn.Module]):
        super().__init__()
        if not models:
            raise ValueError("AveragedLM needs at least one model")
        self.members = nn.ModuleList(models)

    def forward(self, x: torch.Tensor, state=None):
        states = state if state is not None else (None,) * len(self.members)
        log_probs, new_states = [], []
        for model, s in zip(self.members, states, strict=True):
            logits, s = model(x, s)
            log_probs.append(torch.log_softmax(logits, dim=-1))
            new_states.append(s)
        stacked = torch.stack(log_probs)  # (M, B, T, V)
        return torch.logsumexp(stacked, dim=0) - math.log(len(self.members)), tuple(new_states)


def mark_gender(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """``[("анна", "f")]`` -> ``["♀анна"]``: the mark is the first character the model reads."""
    return [GENDER_MARKS[g] + n for n, g in pairs]


# =============================================================================================
# Generation helpers and statistics
# =============================================================================================


def sample_names(
    model, vocab: Vocab, n: int, prefix: str = "", seed: int = 0, strip: str = "", **kwargs
) -> list[str]:
    """``n`` names from ``sampling.generate`` (seeds ``seed``, ``seed + 1``, ...).

    ``strip``: leading characters to remove from the results (e.g. a gender mark)."""
    kwargs.setdefault("max_len", 20)
    return [generate(model, vocab, prefix, seed=seed + i, **kwargs).lstrip(strip) for i in range(n)]


@torch.no_grad()
def generate_rerun(
    model,
    vocab: Vocab,
    prefix: str = "",
    max_len: int = 20,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
) -> str:
    """Like ``sampling.generate`` (same choices, same seed -> same text) but re-running the whole
    sequence from the start for every new token, as the lecture's ``sample`` does: quadratic cost.
    Only here to measure that cost."""
    ids = [vocab.bos, *encode_prefix(vocab, prefix)]
    generator = torch.Generator()
    generator.manual_seed(int(seed)) if seed is not None else generator.seed()
    banned = [t for t in (vocab.pad, vocab.bos) if t is not None]
    model.eval()
    new: list[int] = []
    while len(new) < max_len:
        logits, _ = model(torch.tensor([ids + new]))  # the whole sequence, every time
        last = logits[0, -1].clone()
        last[banned] = float("-inf")
        token = int(
            torch.multinomial(
                next_token_probs(last, temperature, top_k, top_p), 1, generator=generator
            )
        )
        if token == vocab.eos:
            break
        new.append(token)
    return prefix + vocab.decode(new)


@torch.no_grad()
def generation_cost(model, n_tokens: int, rerun: bool, repeats: int = 3) -> float:
    """Seconds (best of ``repeats``) to run ``n_tokens`` generation steps with a fixed input token:
    one step with the carried state each time (``rerun=False``), or the whole sequence so far
    each time (``rerun=True``, the lecture's way). Sampling is left out: only the model's cost."""
    import time

    model.eval()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        if rerun:
            for t in range(1, n_tokens + 1):
                model(torch.zeros(1, t, dtype=torch.long))
        else:
            state = None
            for _ in range(n_tokens):
                _, state = model(torch.zeros(1, 1, dtype=torch.long), state)
        best = min(best, time.perf_counter() - start)
    return best


def compare_generation_speed(
    model, vocab: Vocab, n_names: int = 100, max_len: int = 20, rounds: int = 5
):
    """Time ``n_names`` names (seeds 0..n-1) from ``sampling.generate`` (state carried) and from
    :func:`generate_rerun` (prefix re-run), alternating the two ``rounds`` times so that other work
    on the machine disturbs both alike. Returns ``{"stateful": s, "rerun": s, "same": bool,
    "chars": int}`` with the best time of each (seconds) and whether the names were identical."""
    import time

    from .sampling import generate

    best = {"stateful": float("inf"), "rerun": float("inf")}
    names = {}
    for _ in range(rounds):
        for key, fn in (("stateful", generate), ("rerun", generate_rerun)):
            start = time.perf_counter()
            names[key] = [fn(model, vocab, "", max_len, seed=i) for i in range(n_names)]
            best[key] = min(best[key], time.perf_counter() - start)
    return {
        **best,
        "same": names["stateful"] == names["rerun"],
        "chars": sum(map(len, names["stateful"])),
    }


@dataclass
class SampleStats:
    """How generated names compare with the training names."""

    n: int  # names generated
    new_share: float  # share of generated names that are not in the training set
    duplicate_share: float  # share of generated names that repeat an earlier generated one
    mean_length: float  # mean length of the generated names
    length_counts: dict[int, int]  # length -> how many generated names have it


def sample_stats(samples: Sequence[str], train_names: Sequence[str]) -> SampleStats:
    """Share of new and of repeated names among ``samples`` and their lengths (04_names_generator)."""
    if not samples:
        raise ValueError("sample_stats needs at least one sample")
    known = set(train_names)
    n = len(samples)
    return SampleStats(
        n=n,
        new_share=sum(s not in known for s in samples) / n,
        duplicate_share=1 - len(set(samples)) / n,
        mean_length=sum(map(len, samples)) / n,
        length_counts=dict(sorted(Counter(map(len, samples)).items())),
    )
