"""Generating text from a trained language model (introduced in 04_names_generator, used in 07).

The model reads the prefix once, then feeds back one token at a time while carrying its hidden
state, so generating ``n`` tokens costs ``n`` steps (the lecture's ``sample`` re-ran the whole
prefix for every new character: ``n²/2`` steps).

How the next token is chosen from the logits ``o`` (:func:`next_token_probs`):

- ``temperature=0``: greedy, always the most likely token (one fixed answer per prefix);
- ``temperature=τ > 0``: sample from ``softmax(o / τ)``; τ < 1 sharpens, τ > 1 flattens;
- ``top_k=k``: keep only the ``k`` most likely tokens, then renormalise;
- ``top_p=p``: keep the smallest set of most likely tokens whose probability reaches ``p``
  (nucleus sampling), then renormalise.

Randomness comes from a ``torch.Generator`` seeded with ``seed``: the global RNG is untouched
and the same seed gives the same text.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _check_options(temperature, top_k, top_p) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TypeError(f"temperature must be a number, got {temperature!r}")
    if not math.isfinite(temperature) or temperature < 0:
        raise ValueError(
            f"temperature must be >= 0 (0 means greedy, 1 the model's own distribution), got {temperature!r}"
        )
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be None or a positive int, got {top_k!r}")
    if top_p is not None and (
        isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0.0 < top_p <= 1.0
    ):
        raise ValueError(f"top_p must be None or in (0, 1], got {top_p!r}")


def next_token_probs(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    """Probabilities of the next token from ``logits`` (V,) or (B, V) -> same shape, rows sum to 1.

    ``temperature=0`` gives a one-hot vector on the argmax (greedy). Filters apply in the order
    temperature, top-k, top-p; the most likely token always survives them.
    """
    _check_options(temperature, top_k, top_p)
    logits = logits.float()
    if temperature == 0:
        return torch.nn.functional.one_hot(logits.argmax(-1), logits.size(-1)).float()
    logits = logits / temperature
    if top_k is not None and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]  # k-th largest value
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if top_p is not None and top_p < 1.0:
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
        before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs  # mass of the more likely ones
        drop_sorted = before >= top_p  # this token is not needed to reach top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        probs = probs.masked_fill(drop, 0.0)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


def _sample(probs: torch.Tensor, generator: torch.Generator) -> int:
    return int(torch.multinomial(probs.cpu(), 1, generator=generator))


def _level(vocab) -> str:
    return getattr(vocab, "level", "char")


def encode_prefix(vocab, prefix: str) -> list[int]:
    """Ids of ``prefix`` (without ``<bos>``); an unknown token raises ``ValueError`` naming it."""
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, got {type(prefix).__name__}")
    if not prefix:
        return []
    try:
        return list(vocab.encode(prefix))
    except KeyError as exc:  # a vocabulary without a clear message of its own
        raise ValueError(
            f"prefix {prefix!r}: token {exc.args[0]!r} is not in the vocabulary"
        ) from None
    except ValueError as exc:
        raise ValueError(f"prefix {prefix!r}: {exc}") from None


@torch.no_grad()
def generate(
    model: nn.Module,
    vocab,
    prefix: str = "",
    max_len: int = 100,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
) -> str:
    """Continue ``prefix`` with tokens sampled from ``model``; returns prefix + continuation.

    - Starts from ``<bos>`` when the vocabulary has it, then feeds the whole prefix in one call
      and carries the hidden state: each new token is one recurrent step.
    - Stops at ``<eos>`` (not included) or after ``max_len`` new tokens. ``<pad>`` and ``<bos>``
      are never produced.
    - ``temperature=0`` is greedy decoding; ``temperature < 0`` raises ``ValueError``;
      ``top_k`` / ``top_p`` filter the distribution (see :func:`next_token_probs`).
    - ``seed``: the same seed gives the same text (a private ``torch.Generator``; the global RNG
      is not touched). ``None`` draws a fresh random seed.
    - Word-level vocabularies (``vocab.level == "word"``) join tokens with spaces.
    - A prefix token missing from the vocabulary raises ``ValueError`` naming it.
    """
    _check_options(temperature, top_k, top_p)
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 0:
        raise ValueError(f"max_len must be a non-negative int (new tokens), got {max_len!r}")
    ids = ([vocab.bos] if getattr(vocab, "bos", None) is not None else []) + encode_prefix(
        vocab, prefix
    )
    if not ids:
        raise ValueError(
            "the vocabulary has no <bos> token, so generation needs a non-empty prefix"
        )

    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(int(seed))

    banned = [
        t for t in (getattr(vocab, "pad", None), getattr(vocab, "bos", None)) if t is not None
    ]
    eos = getattr(vocab, "eos", None)
    device = next(model.parameters()).device
    ban = None  # (V,) 0 for allowed tokens, -inf for <pad> and <bos>; built at the first step
    was_training = model.training
    model.eval()
    new_ids: list[int] = []
    try:
        logits, state = model(torch.tensor([ids], device=device))  # the prefix, once
        last = logits[0, -1]  # (V,)
        while len(new_ids) < max_len:
            if banned:
                if ban is None:
                    ban = torch.zeros_like(last)
                    ban[banned] = float("-inf")
                last = last + ban
            token = _sample(next_token_probs(last, temperature, top_k, top_p), generator)
            if token == eos:
                break
            new_ids.append(token)
            if len(new_ids) == max_len:
                break
            logits, state = model(torch.tensor([[token]], device=device), state)  # one step
            last = logits[0, -1]
    finally:
        model.train(was_training)
    continuation = vocab.decode(new_ids) if new_ids else ""
    if _level(vocab) == "word" and prefix and continuation:
        return prefix + " " + continuation
    return prefix + continuation
