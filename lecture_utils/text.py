"""The text generator on «Анна Каренина» (notebook 07_text_generator).

What lives here (the notebook shows the pieces with ``show_source``):

- **tokenisation**: the lecture's whitespace split (:func:`whitespace_tokens`) and the course's
  word tokens that keep punctuation and case (:func:`course_tokens` / :func:`detokenize`);
  :func:`word_vocab` builds a frequency-ordered ``data.Vocab`` (optionally capped, with ``<unk>``);
  :func:`corpus_stats` summarises a text.
- **models**: the lecture's word model (:class:`LectureWordLSTM`: embedding 64 -> LSTM 64 ->
  Linear to the vocabulary) and the course's faster word model (:class:`AdaptiveWordLM`, whose
  output layer is ``nn.AdaptiveLogSoftmaxWithLoss``), both with the course interface
  ``forward(x (B, T), state=None) -> (scores (B, T, V), state)``.
- **training by steps and wall time**: :class:`TimedRun` trains with truncated BPTT in small
  chunks and records validation loss against training wall time, so two set-ups can be run
  alternately in one process (``benchmarks/text_generator.py``, the notebook's curves).
  :func:`race` runs several of them for the same training time; :func:`layer_costs` shows where
  a word model's step time goes.
- **generation**: :func:`generate_words` wraps ``sampling.generate`` for word models (course
  tokenisation, ``<unk>`` never sampled, clear errors for empty prompts and unknown words).
- **comparisons across tokenisations**: :func:`bits_per_char`, :func:`unk_spelling_bits`.
- **what the network learnt**: :func:`hidden_activations`, :func:`unit_for_feature` and
  :func:`activation_html` (text coloured by one hidden unit); :func:`gradient_connectivity` /
  :func:`mean_connectivity` (how strongly each earlier character influences the next prediction).

Shapes: ``B`` streams (batch), ``T`` time, ``E`` embedding, ``H`` hidden, ``V`` vocabulary.
"""

from __future__ import annotations

import html
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import Vocab, batchify, bptt_batches, split_contiguous
from .models import CharRNN, detach_state
from .train import evaluate, lm_loss

# --------------------------------------------------------------------------------------------
# Tokenisation and corpus statistics
# --------------------------------------------------------------------------------------------

CAP = "<cap>"  # marks that the next word starts with a capital letter
NEWLINE = "<nl>"  # a paragraph break
MARKERS = (CAP, NEWLINE)

# a word (letters, inner hyphens: «что-то»), a number, a paragraph break, or one punctuation mark
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*|\d+|\n+|[^\w\s]", re.UNICODE)
_NO_SPACE_BEFORE = set(".,;:!?)»…%")
_NO_SPACE_AFTER = set("(«")


def whitespace_tokens(text: str) -> list[str]:
    """The lecture's tokenisation: ``text.split()``. «Анна,» and «Анна» are different words."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return text.split()


def course_tokens(text: str) -> list[str]:
    """The course's word tokens: words, numbers and punctuation marks are separate tokens.

    Words are lower-cased; a word that started with a capital letter is preceded by ``<cap>``,
    so «Анна» and «анна» share one embedding and the model still learns where capitals go.
    Paragraph breaks become ``<nl>``. :func:`detokenize` turns the tokens back into text.

    >>> course_tokens("Анна, не надо!")
    ['<cap>', 'анна', ',', 'не', 'надо', '!']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    tokens: list[str] = []
    for match in _TOKEN_RE.finditer(text):
        tok = match.group()
        if tok[0] == "\n":
            if len(tok) > 1 and tokens and tokens[-1] != NEWLINE:  # a blank line ends a paragraph
                tokens.append(NEWLINE)
            continue
        if tok[0].isupper():
            tokens.append(CAP)
            tok = tok.lower()
        tokens.append(tok)
    return tokens


def detokenize(tokens: Sequence[str]) -> str:
    """Text from :func:`course_tokens` output: capitals restored, no space before punctuation."""
    out: list[str] = []
    capital = False
    glue = True  # no space before the next token (start of text, after «, after a newline)
    for tok in tokens:
        if tok == CAP:
            capital = True
            continue
        if tok == NEWLINE:
            out.append("\n")
            glue = True
            continue
        if capital:
            tok = tok[:1].upper() + tok[1:]
            capital = False
        if not glue and not (len(tok) == 1 and tok in _NO_SPACE_BEFORE):
            out.append(" ")
        out.append(tok)
        glue = len(tok) == 1 and tok in _NO_SPACE_AFTER
    return "".join(out)


def word_vocab(
    tokens: Sequence[str], max_size: int | None = None, extra: Sequence[str] = ()
) -> Vocab:
    """A word-level ``Vocab`` ordered by frequency (most frequent first, as the lecture orders it).

    ``max_size=None`` keeps every token (the lecture's full vocabulary, no ``<unk>``); an int keeps
    the ``max_size`` most frequent tokens and maps the rest to ``<unk>`` (id 0). ``extra`` tokens
    (e.g. the course markers) are always kept. Frequency order is what
    ``nn.AdaptiveLogSoftmaxWithLoss`` needs: its clusters are ranges of ids.
    """
    if max_size is not None and (not isinstance(max_size, int) or max_size < 1):
        raise ValueError(f"max_size must be None or a positive int, got {max_size!r}")
    counts = Counter(tokens)
    if not counts:
        raise ValueError("cannot build a vocabulary from an empty token list")
    ordered = [tok for tok, _ in counts.most_common()]  # ties keep first appearance
    if max_size is None:
        return Vocab(ordered, level="word")
    kept = ordered[:max_size]
    kept += [t for t in extra if t not in kept]
    return Vocab(["<unk>"] + kept, level="word")


@dataclass
class CorpusStats:
    """Counts that describe a text (printed in notebook 07)."""

    n_chars: int  # characters
    n_char_types: int  # distinct characters
    n_tokens: int  # tokens (words or punctuation, depending on the tokenisation)
    n_types: int  # distinct tokens
    hapax: int  # tokens that occur exactly once
    coverage: dict[int, float]  # top-k most frequent types -> share of all tokens they cover


def corpus_stats(
    text: str, tokens: Sequence[str], tops: Sequence[int] = (100, 1000, 10000)
) -> CorpusStats:
    """Counts for ``text`` and its ``tokens``: sizes, hapax legomena, coverage of the top-k types."""
    counts = Counter(tokens)
    if not counts:
        raise ValueError("no tokens: is the text empty?")
    freqs = sorted(counts.values(), reverse=True)
    cum = np.cumsum(freqs)
    total = int(cum[-1])
    coverage = {k: float(cum[min(k, len(cum)) - 1] / total) for k in tops}
    return CorpusStats(
        n_chars=len(text),
        n_char_types=len(set(text)),
        n_tokens=total,
        n_types=len(counts),
        hapax=sum(1 for c in freqs if c == 1),
        coverage=coverage,
    )


def encode_corpus(vocab: Vocab, tokens: Sequence[str]) -> torch.Tensor:
    """Ids of a token list as a 1-D LongTensor (T,); unknown tokens follow ``vocab.encode``."""
    return torch.tensor(vocab.encode(list(tokens)), dtype=torch.long)


def split_text(text: str, fractions: Sequence[float] = (0.9, 0.05, 0.05)) -> tuple[str, ...]:
    """Cut ``text`` into contiguous parts (train, val, test: the end of the novel is held out).

    Like ``data.split_contiguous`` on characters, but every cut is moved forward to the next line
    break, so no word is split and every tokenisation of a part sees the same characters.
    """
    if not text:
        raise ValueError("text is empty: nothing to split (did load_text return the novel?)")
    rough = split_contiguous(text, fractions)
    cuts, pos = [0], 0
    for part in rough[:-1]:
        pos += len(part)
        nl = text.find("\n", max(pos, cuts[-1]))
        cuts.append(len(text) if nl < 0 else nl + 1)
    cuts.append(len(text))
    parts = tuple(text[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True))
    if any(not p.strip() for p in parts):
        raise ValueError(f"text of {len(text)} characters is too short for {len(fractions)} parts")
    return parts


def bits_per_char(nats_per_token: float, n_tokens: int, n_chars: int) -> float:
    """Convert a loss in nats per token into bits per character of the same text.

    Total information = nats_per_token * n_tokens; divide by ln 2 and by the number of characters.
    Models with different tokenisations become comparable this way.
    """
    if n_tokens < 1 or n_chars < 1:
        raise ValueError("n_tokens and n_chars must be positive")
    return nats_per_token * n_tokens / n_chars / math.log(2)


def unk_spelling_bits(train_words: Sequence[str], words: Sequence[str]) -> float:
    """Bits needed to spell ``words`` letter by letter (the words a capped vocabulary calls <unk>).

    A character unigram model with an end-of-word symbol is fitted on ``train_words`` (add-one
    smoothing, one extra slot for unseen characters). Adding these bits to a word model's loss
    charges it for the rare words it only predicts as ``<unk>``, so its bits per character become
    comparable with a character model's (notebook 07).
    """
    counts = Counter("".join(train_words))
    n_end = len(train_words)  # one end-of-word symbol per word
    total = sum(counts.values()) + n_end + len(counts) + 2  # add-one: every char, end, unseen
    bits = 0.0
    for word in words:
        for ch in word:
            bits -= math.log2((counts.get(ch, 0) + 1) / total)
        bits -= math.log2((n_end + 1) / total)
    return bits


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


@dataclass
class LectureConfig:
    """The lecture's word model and training set-up (its Flags)."""

    embed_size: int = 64  # E: word embedding size
    hidden_size: int = 64  # H: LSTM state size
    seq_len: int = 32  # T: truncated-BPTT window (words)
    n_streams: int = 16  # B: parallel streams (the lecture's batch size)
    lr: float = 0.01  # Adam learning rate
    clip: float = 5.0  # max global gradient norm
    prompt: str = "Анна не"  # the lecture's initial words
    top_k: int = 5  # the lecture samples among the 5 most likely words


class LectureWordLSTM(nn.Module):
    """The lecture's model: embedding (E=64) -> one LSTM layer (H=64) -> Linear(H, V).

    ``forward(x (B, T), state=None) -> (logits (B, T, V), (h, c))``; the full softmax over all
    V words is computed for every position, which dominates the cost when V ~ 50,000.
    """

    def __init__(self, vocab_size: int, embed_size: int = 64, hidden_size: int = 64) -> None:
        super().__init__()
        _check_positive(vocab_size=vocab_size, embed_size=embed_size, hidden_size=hidden_size)
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size, batch_first=True)
        self.dense = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: torch.Tensor, state=None):
        _check_ids(x, self.vocab_size)
        out, state = self.lstm(self.embedding(x), state)  # (B, T, H)
        return self.dense(out), state  # (B, T, V)


@dataclass
class AdaptiveConfig:
    """The course's word model: what changes against :class:`LectureWordLSTM`."""

    vocab_size: int  # V: ids must be ordered by frequency (see word_vocab)
    embed_size: int = 64  # E
    hidden_size: int = 128  # H
    cell: str = "lstm"  # "rnn", "lstm" or "gru"
    cutoffs: tuple[int, ...] = (2000, 10000)  # id ranges: head [0, 2000), then tail clusters
    div_value: float = 4.0  # each tail cluster gets a projection 4x smaller than the previous
    dropout: float = 0.0  # dropout on embeddings and LSTM outputs (only while training)


class AdaptiveWordLM(nn.Module):
    """Word language model with an adaptive softmax output (Grave et al., 2017).

    Frequent words (ids below ``cutoffs[0]``) are scored by a small "head" softmax that also has
    one entry per cluster of rare words; a rare word's probability is P(cluster) * P(word |
    cluster), and the cluster softmax is computed only for the positions whose target lies in it.
    The probabilities still sum to one over all V words, so the loss is comparable with the
    lecture's full softmax.

    - ``forward(x (B, T), state=None) -> (log_probs (B, T, V), state)``: full log-probabilities
      (used for sampling and by ``sampling.generate``); costly for long inputs.
    - ``loss(x, y, state=None) -> (mean NLL, state)``: the cheap training path.
    """

    def __init__(self, config: AdaptiveConfig) -> None:
        super().__init__()
        _check_positive(
            vocab_size=config.vocab_size,
            embed_size=config.embed_size,
            hidden_size=config.hidden_size,
        )
        if config.cell not in ("rnn", "lstm", "gru"):
            raise ValueError(f"unknown cell {config.cell!r}: expected 'rnn', 'lstm' or 'gru'")
        cutoffs = list(config.cutoffs)
        if any(c < 1 for c in cutoffs) or cutoffs != sorted(set(cutoffs)):
            raise ValueError(f"cutoffs must be positive and increasing, got {config.cutoffs}")
        cutoffs = [c for c in cutoffs if c < config.vocab_size]  # a small vocabulary needs fewer
        self.config = config
        self.vocab_size = config.vocab_size
        self.embedding = nn.Embedding(config.vocab_size, config.embed_size)
        rnn_cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[config.cell]
        self.rnn = rnn_cls(config.embed_size, config.hidden_size, batch_first=True)
        self.drop = nn.Dropout(config.dropout)
        if cutoffs:
            self.out = nn.AdaptiveLogSoftmaxWithLoss(
                config.hidden_size, config.vocab_size, cutoffs, div_value=config.div_value
            )
        else:  # a vocabulary too small to split: an ordinary softmax
            self.out = None
            self.dense = nn.Linear(config.hidden_size, config.vocab_size)

    def features(self, x: torch.Tensor, state=None):
        """Hidden outputs (B, T, H) after dropout, and the recurrent state."""
        _check_ids(x, self.vocab_size)
        out, state = self.rnn(self.drop(self.embedding(x)), state)
        return self.drop(out), state

    def loss(self, x: torch.Tensor, y: torch.Tensor, state=None):
        """Mean negative log-likelihood (nats per token) of targets ``y`` (B, T), and the state."""
        h, state = self.features(x, state)
        h = h.reshape(-1, h.size(-1))  # (B*T, H)
        if self.out is None:
            return F.cross_entropy(self.dense(h), y.reshape(-1)), state
        return self.out(h, y.reshape(-1)).loss, state

    def forward(self, x: torch.Tensor, state=None):
        h, state = self.features(x, state)
        flat = h.reshape(-1, h.size(-1))
        if self.out is None:
            logp = F.log_softmax(self.dense(flat), dim=-1)
        else:
            logp = self.out.log_prob(flat)
        return logp.view(*h.shape[:2], -1), state


def adaptive_loss(model: AdaptiveWordLM, batch, state=None):
    """``train.fit``/``train.evaluate`` loss function for :class:`AdaptiveWordLM`."""
    x, y = batch
    loss, state = model.loss(x, y, state)
    return loss, y.numel(), state


def loss_fn_for(model: nn.Module) -> Callable:
    """The loss function that ``train.fit``/``evaluate`` need for ``model``."""
    return adaptive_loss if isinstance(model, AdaptiveWordLM) else lm_loss


def hidden_for_budget(cell: str, n_params: int, input_size: int, output_size: int) -> int:
    """Hidden size H that gives a one-layer ``cell`` model about ``n_params`` parameters.

    Counts the recurrent layer (g gates: 1 RNN, 4 LSTM, 3 GRU; two bias vectors as torch has)
    and a Linear(H, output_size) head; the input side (one-hot or embedding) is ``input_size``
    wide and its own parameters are not counted. Used for RNN vs LSTM vs GRU at equal budgets.
    """
    gates = {"rnn": 1, "lstm": 4, "gru": 3}
    if cell not in gates:
        raise ValueError(f"unknown cell {cell!r}: expected one of {sorted(gates)}")
    g = gates[cell]
    # params(H) = g*H*(I + H + 2) + H*O + O  ->  g*H^2 + (g*(I+2) + O)*H + O - n_params = 0
    a, b, c = g, g * (input_size + 2) + output_size, output_size - n_params
    disc = b * b - 4 * a * c
    if c >= 0 or disc < 0:
        raise ValueError(f"a budget of {n_params} parameters is too small for this model")
    return max(1, round((-b + math.sqrt(disc)) / (2 * a)))


def _check_positive(**sizes) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def _check_ids(x: torch.Tensor, vocab_size: int) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.dtype not in (torch.int64, torch.int32):
        raise ValueError("x must be a LongTensor of token ids with shape (B, T)")
    if x.numel() and (int(x.min()) < 0 or int(x.max()) >= vocab_size):
        raise ValueError(
            f"token ids must be in [0, {vocab_size}); got [{int(x.min())}, {int(x.max())}]"
        )


# --------------------------------------------------------------------------------------------
# Training in chunks, measured in wall time
# --------------------------------------------------------------------------------------------


@dataclass
class RunConfig:
    """How a :class:`TimedRun` trains (defaults: the lecture's settings)."""

    n_streams: int = 16  # B: contiguous streams trained in parallel
    seq_len: int = 32  # T: truncated-BPTT window
    lr: float = 0.01  # peak Adam learning rate
    clip: float | None = 5.0  # max global gradient norm (None: no clipping)
    schedule: str = "constant"  # "constant" or "cosine" (decays to lr_min over total_steps)
    total_steps: int | None = None  # the planned length, needed by "cosine"
    warmup_steps: int = 0  # linear warm-up steps at the start of "cosine"
    lr_min: float = 0.0  # final learning rate of "cosine"
    eval_streams: int = 16  # streams used for the validation loss (same for every run)
    eval_seq_len: int = 64  # window used for the validation loss


@dataclass
class CurvePoint:
    """One validation measurement of a :class:`TimedRun`."""

    train_time: float  # seconds spent in training steps so far (evaluation excluded)
    steps: int  # optimiser steps so far
    tokens: int  # training tokens processed so far
    val_loss: float  # nats per token on the validation ids


class TimedRun:
    """Truncated-BPTT training that can be advanced a few steps at a time and timed.

    ``run.train(n)`` does ``n`` optimiser steps (cycling through epochs of contiguous streams,
    carrying the detached state, resetting it at each epoch start as the lecture does);
    ``run.validate()`` appends a :class:`CurvePoint`. Only the training steps are timed, so two
    runs advanced alternately see the same machine load (benchmarks/text_generator.py).
    """

    def __init__(
        self,
        model: nn.Module,
        train_ids: torch.Tensor,
        val_ids: torch.Tensor,
        config: RunConfig,
        name: str = "",
    ) -> None:
        self.model = model
        self.config = config
        self.name = name
        self.loss_fn = loss_fn_for(model)
        self.streams = batchify(train_ids, config.n_streams)  # (B, L)
        self.val_ids = val_ids
        self.steps_per_epoch = math.ceil((self.streams.size(1) - 1) / config.seq_len)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        self.scheduler = _make_schedule(self.optimizer, config)
        self.train_time = 0.0
        self.steps = 0
        self.tokens = 0
        self.epoch = 0
        self.last_loss = float("nan")
        self.curve: list[CurvePoint] = []
        self._batches = None
        self._state = None

    def _next_batch(self):
        if self._batches is not None:
            batch = next(self._batches, None)
            if batch is not None:
                return batch
        self.epoch += 1
        self._state = None  # a new pass over the text starts from a zero state
        self._batches = bptt_batches(self.streams, self.config.seq_len)
        return next(self._batches)

    def train(self, n_steps: int) -> float:
        """Do ``n_steps`` optimiser steps; returns the mean training loss over them."""
        self.model.train()
        total = 0.0
        start = time.perf_counter()
        for _ in range(n_steps):
            batch = self._next_batch()
            loss, n, state = self.loss_fn(self.model, batch, detach_state(self._state))
            self._state = state
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.config.clip is not None:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
            self.optimizer.step()
            if self.scheduler is not None:
                self.scheduler.step()
            total += float(loss.detach())
            self.tokens += n
            self.steps += 1
        self.train_time += time.perf_counter() - start
        self.last_loss = total / max(n_steps, 1)
        if not math.isfinite(self.last_loss):
            raise FloatingPointError(f"{self.name}: the training loss became {self.last_loss}")
        return self.last_loss

    def validate(self) -> float:
        """Validation loss (nats per token, state carried along the streams); recorded."""
        val = validation_loss(
            self.model, self.val_ids, self.config.eval_streams, self.config.eval_seq_len
        )
        self.curve.append(CurvePoint(self.train_time, self.steps, self.tokens, val))
        return val

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.train_time if self.train_time > 0 else float("nan")

    def time_to_reach(self, target: float) -> float | None:
        """Training seconds at the first validation point with loss <= ``target`` (None: never)."""
        for point in self.curve:
            if point.val_loss <= target:
                return point.train_time
        return None


def validation_loss(model: nn.Module, ids: torch.Tensor, n_streams: int = 16, seq_len: int = 64):
    """Mean loss per token over ``ids`` cut into ``n_streams`` streams, state carried."""
    streams = batchify(ids, n_streams)
    return evaluate(
        model, lambda: bptt_batches(streams, seq_len), loss_fn=loss_fn_for(model), stateful=True
    )


def _make_schedule(optimizer, config: RunConfig):
    if config.schedule == "constant":
        return None
    if config.schedule != "cosine":
        raise ValueError(f"unknown schedule {config.schedule!r}: expected 'constant' or 'cosine'")
    if not config.total_steps or config.total_steps < 1:
        raise ValueError("the 'cosine' schedule needs total_steps (the planned number of steps)")
    floor = config.lr_min / config.lr
    warm, total = config.warmup_steps, config.total_steps

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        progress = min(1.0, (step - warm) / max(1, total - warm))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


# --------------------------------------------------------------------------------------------
# What the network learnt
# --------------------------------------------------------------------------------------------


def _char_inputs(model: CharRNN, ids: torch.Tensor) -> torch.Tensor:
    """The inputs CharRNN feeds its recurrent layer: embeddings or one-hot vectors (1, T, E)."""
    if model.embedding is not None:
        return model.embedding(ids)
    return F.one_hot(ids, model.config.vocab_size).float()


@torch.no_grad()
def hidden_activations(model: CharRNN, vocab: Vocab, text: str) -> np.ndarray:
    """Hidden outputs of the last layer while ``model`` reads ``text``: array (T, H), T = len.

    For an LSTM this is h_t = o_t * tanh(c_t), in (-1, 1) like RNN/GRU states.
    """
    if not text:
        raise ValueError("text is empty: give the model something to read")
    ids = torch.tensor([vocab.encode(text)])
    was_training = model.training
    model.eval()
    try:
        out, _ = model.rnn(_char_inputs(model, ids))  # (1, T, H)
    finally:
        model.train(was_training)
    return out[0].numpy()


def unit_for_feature(acts: np.ndarray, feature: Sequence[float]) -> tuple[int, float]:
    """The hidden unit whose activation correlates most with ``feature`` (T,): (unit, r).

    E.g. feature = 1 inside «quotes» and 0 outside finds a "quote detector" if there is one.
    """
    f = np.asarray(feature, dtype=float)
    if acts.ndim != 2 or acts.shape[0] != f.shape[0]:
        raise ValueError(f"acts (T, H) and feature (T,) disagree: {acts.shape} vs {f.shape}")
    a = acts - acts.mean(0)
    fc = f - f.mean()
    denom = np.sqrt((a**2).sum(0) * (fc**2).sum()) + 1e-12
    r = (a * fc[:, None]).sum(0) / denom
    unit = int(np.argmax(np.abs(r)))
    return unit, float(r[unit])


def inside_feature(text: str, open_mark: str = "«", close_mark: str = "»") -> np.ndarray:
    """1.0 for characters between ``open_mark`` and ``close_mark`` (the marks included), else 0."""
    out = np.zeros(len(text))
    depth = 0
    for i, ch in enumerate(text):
        if ch == open_mark:
            depth += 1
        out[i] = 1.0 if depth > 0 else 0.0
        if ch == close_mark and depth > 0:
            depth -= 1
    return out


def mean_connectivity(
    model: CharRNN, vocab: Vocab, text: str, window: int = 200, n_windows: int = 8
) -> np.ndarray:
    """:func:`gradient_connectivity` averaged over ``n_windows`` evenly spaced windows of ``text``.

    One window is noisy (it depends on which character comes next); the average shows the
    typical decay with distance. Returns (window,), index -1 = the character just read.
    """
    if len(text) < window or window < 2:
        raise ValueError(f"text ({len(text)} characters) is shorter than the window ({window})")
    if n_windows < 1:
        raise ValueError(f"n_windows must be positive, got {n_windows}")
    starts = np.linspace(0, len(text) - window, n_windows).astype(int)
    return np.mean([gradient_connectivity(model, vocab, text[s : s + window]) for s in starts], 0)


def position_in_word_feature(text: str) -> np.ndarray:
    """For each character: how many letters of the current word have been read (0 outside words).

    «Анна не» -> [1, 2, 3, 4, 0, 1, 2]. A unit that follows it counts letters (notebook 07).
    """
    out = np.zeros(len(text))
    run = 0
    for i, ch in enumerate(text):
        run = run + 1 if ch.isalpha() else 0
        out[i] = run
    return out


def activation_html(text: str, values: Sequence[float]) -> str:
    """HTML of ``text`` with each character's background coloured by ``values`` in [-1, 1].

    Red for positive, blue for negative, white near zero (display with ``IPython.display.HTML``).
    """
    values = np.clip(np.asarray(values, dtype=float), -1, 1)
    if len(values) != len(text):
        raise ValueError(f"{len(values)} values for {len(text)} characters")
    spans = []
    for ch, v in zip(text, values, strict=True):
        level = int(255 * (1 - abs(v)))
        colour = f"255,{level},{level}" if v > 0 else f"{level},{level},255"
        shown = "<br>" if ch == "\n" else html.escape(ch)
        spans.append(f'<span style="background:rgb({colour})">{shown}</span>')
    return '<div style="font-family:monospace;line-height:1.6">' + "".join(spans) + "</div>"


def gradient_connectivity(model: CharRNN, vocab: Vocab, text: str) -> np.ndarray:
    """How much each character of ``text`` influences the prediction after its last character.

    Returns (T,) norms of d log p(top prediction at the end) / d input_t, scaled so the largest is 1.
    Index T-1 is the last character (distance 0); an RNN's norms fade within a few steps, LSTM/GRU
    keep longer-range influence (notebook 07, after notebook 03's gradient experiments).
    """
    if len(text) < 2:
        raise ValueError("text needs at least two characters")
    ids = torch.tensor([vocab.encode(text)])
    was_training = model.training
    model.eval()
    try:
        inputs = _char_inputs(model, ids).detach().requires_grad_(True)  # (1, T, E)
        out, _ = model.rnn(inputs)
        logp = F.log_softmax(model.head(out[0, -1]), dim=-1)  # (V,)
        logp.max().backward()
    finally:
        model.train(was_training)
    norms = inputs.grad[0].norm(dim=-1).numpy()  # (T,)
    return norms / (norms.max() + 1e-12)


# --------------------------------------------------------------------------------------------
# Racing set-ups against the clock; generating from word models
# --------------------------------------------------------------------------------------------


def race(
    runs: Sequence[TimedRun],
    budget_s: float,
    chunk_steps: int | Sequence[int] = 5,
    eval_every_s: float = 15.0,
    progress: Callable[[TimedRun], None] | None = None,
) -> None:
    """Train ``runs`` alternately, a chunk of steps each, until each used ``budget_s`` seconds.

    Alternating keeps the machine's load the same for all runs (other programs, CPU heat), so
    their curves are comparable. Each run is validated whenever another ``eval_every_s`` seconds
    of its training time have passed, and once at the end. ``chunk_steps`` may differ per run
    (a slow set-up gets fewer steps per turn). ``progress(run)`` is called after each validation.
    """
    if budget_s <= 0:
        raise ValueError(f"budget_s must be positive, got {budget_s}")
    chunks = [chunk_steps] * len(runs) if isinstance(chunk_steps, int) else list(chunk_steps)
    if len(chunks) != len(runs) or any(c < 1 for c in chunks):
        raise ValueError("chunk_steps: one positive int, or one per run")
    next_eval = [r.train_time + eval_every_s for r in runs]
    active = [r.train_time < budget_s for r in runs]
    while any(active):
        for i, run in enumerate(runs):
            if not active[i]:
                continue
            run.train(chunks[i])
            done = run.train_time >= budget_s
            if done or run.train_time >= next_eval[i]:
                run.validate()
                next_eval[i] = run.train_time + eval_every_s
                if progress is not None:
                    progress(run)
            active[i] = not done


class _BanTokens(nn.Module):
    """Wraps a model so that some tokens (e.g. ``<unk>``) are never sampled."""

    def __init__(self, model: nn.Module, banned: Sequence[int]) -> None:
        super().__init__()
        self.model = model
        self.banned = list(banned)

    def forward(self, x, state=None):
        scores, state = self.model(x, state)
        if self.banned:
            scores = scores.clone()
            scores[..., self.banned] = float("-inf")
        return scores, state


def check_prompt(vocab: Vocab, tokens: Sequence[str], prompt: str) -> None:
    """Raise a clear ``ValueError`` for an empty prompt or words missing from ``vocab``."""
    if not tokens:
        raise ValueError(
            f"the prompt {prompt!r} is empty: give the model at least one word to start from"
        )
    missing = [t for t in tokens if t not in vocab]
    if missing:
        shown = ", ".join(repr(t) for t in dict.fromkeys(missing))
        raise ValueError(
            f"the prompt {prompt!r} has words the model does not know: {shown} "
            f"(its vocabulary has {len(vocab)} words; use other words or a character-level model)"
        )


def generate_words(
    model: nn.Module,
    vocab: Vocab,
    prompt: str,
    max_len: int = 60,
    tokenizer: str = "course",
    **options,
) -> str:
    """Continue ``prompt`` with a word-level model; returns readable text.

    ``tokenizer="course"`` tokenises the prompt with :func:`course_tokens`, never samples
    ``<unk>`` and joins the result with :func:`detokenize`; ``"whitespace"`` is the lecture's
    split. ``options`` go to ``sampling.generate`` (``temperature``, ``top_k``, ``top_p``,
    ``seed``). An empty prompt or an unknown word raises ``ValueError`` naming the problem.
    """
    from .sampling import generate  # the shared sampler (notebook 04)

    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str, got {type(prompt).__name__}")
    if tokenizer == "course":
        tokens = course_tokens(prompt)
    elif tokenizer == "whitespace":
        tokens = whitespace_tokens(prompt)
    else:
        raise ValueError(f"tokenizer must be 'course' or 'whitespace', got {tokenizer!r}")
    check_prompt(vocab, tokens, prompt)
    banned = [vocab.unk] if vocab.unk is not None else []
    out = generate(_BanTokens(model, banned), vocab, " ".join(tokens), max_len=max_len, **options)
    words = out.split(" ")
    return detokenize(words) if tokenizer == "course" else " ".join(words)


def layer_costs(
    targets: torch.Tensor,
    vocab_size: int,
    embed_size: int = 64,
    hidden_size: int = 64,
    cutoffs: Sequence[int] = (1000, 5000, 20000),
    repeats: int = 5,
) -> dict[str, float]:
    """Milliseconds per forward+backward of each part of a word model on one batch (notebook 07).

    ``targets`` (B, T): real word ids (their frequencies decide how often the adaptive softmax
    must open its tail clusters). Measures the LSTM, the lecture's ``Linear(H, V)`` + softmax
    cross-entropy, and ``nn.AdaptiveLogSoftmaxWithLoss`` with ``cutoffs``; the parts are timed
    in turn, ``repeats`` times each, and the fastest time of each is returned (the run least
    disturbed by other programs on the machine).
    """
    if targets.dim() != 2:
        raise ValueError(f"targets must be (B, T), got shape {tuple(targets.shape)}")
    b, t = targets.shape
    lstm = nn.LSTM(embed_size, hidden_size, batch_first=True)
    dense = nn.Linear(hidden_size, vocab_size)
    adaptive = nn.AdaptiveLogSoftmaxWithLoss(hidden_size, vocab_size, list(cutoffs), div_value=4.0)
    x = torch.randn(b, t, embed_size)
    h = torch.randn(b * t, hidden_size, requires_grad=True)
    y = targets.reshape(-1)

    def run_lstm():
        lstm(x)[0].sum().backward()

    def run_full():
        F.cross_entropy(dense(h), y).backward()

    def run_adaptive():
        adaptive(h, y).loss.backward()

    parts = {
        f"LSTM ({b}×{t})": run_lstm,
        f"Linear + softmax на {vocab_size} слов": run_full,
        "адаптивный softmax": run_adaptive,
    }
    times: dict[str, list[float]] = {name: [] for name in parts}
    for _ in range(repeats + 1):  # the first round warms up and is dropped
        for name, fn in parts.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: 1000 * min(ts[1:]) for name, ts in times.items()}
