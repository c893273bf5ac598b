"""Self-checks for the exercises of notebook 04: temperature, top-k, training pairs with <bos>/<eos>.

Each check calls the student's function on seeded inputs, compares it with the reference
(``lecture_utils.sampling.next_token_probs``, ``lecture_utils.names.encode_names``), prints a Russian
verdict and returns ``True``; a wrong answer raises ``AssertionError`` with a hint. A function that
still raises ``NotImplementedError`` (the exercise template) prints a reminder and returns
``False``, so that a notebook with unsolved exercises still runs top to bottom.
"""

from __future__ import annotations

import torch

from ..sampling import next_token_probs
from .common import call_student

TOL = 1e-6


def _probs(value, size: int) -> torch.Tensor:
    if value is None:
        raise AssertionError("функция вернула None — не забыли `return`?")
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"нужен тензор torch, а получен {type(value).__name__}")
    if tuple(value.shape) != (size,):
        raise AssertionError(
            f"вероятности должны иметь форму (V,) = ({size},), а не {tuple(value.shape)}"
        )
    value = value.detach().double()
    if (value < -TOL).any():
        raise AssertionError("есть отрицательные «вероятности»: вы вернули логиты, а не softmax?")
    if abs(float(value.sum()) - 1) > 1e-5:
        raise AssertionError(
            f"вероятности в сумме дают {float(value.sum()):.4f}, а не 1: не забыли softmax или перенормировку?"
        )
    return value


def _logits(seed: int, size: int = 10) -> torch.Tensor:
    return torch.randn(size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool((a - b.double()).abs().max() <= TOL)


def check_temperature(apply_temperature, seed: int = 0) -> bool:
    """Check ``apply_temperature(logits (V,), temperature > 0) -> probs (V,)`` = softmax(logits / T)."""
    for trial, temperature in enumerate((0.5, 1.0, 2.0, 5.0)):
        logits = _logits(seed + trial)
        ok, out = call_student(apply_temperature, logits.clone(), temperature)
        if not ok:
            return False
        got = _probs(out, logits.numel())
        ref = next_token_probs(logits, temperature).double()
        if _close(got, ref):
            continue
        if _close(got, torch.softmax(logits * temperature, -1)):
            raise AssertionError(
                "логиты умножены на температуру, а нужно делить: softmax(logits / T)"
            )
        if _close(got, torch.softmax(logits, -1)):
            raise AssertionError(
                f"при T = {temperature} получился обычный softmax: температура не учтена"
            )
        raise AssertionError(
            f"при T = {temperature} вероятности не совпадают с softmax(logits / T) "
            f"(макс. расхождение {float((got - ref).abs().max()):.3g})"
        )
    print("✅ Верно: температура делит логиты перед softmax (проверено при T = 0.5, 1, 2, 5)")
    return True


def check_top_k(top_k_probs, seed: int = 0) -> bool:
    """Check ``top_k_probs(logits (V,), k) -> probs (V,)``: the k most likely tokens, renormalised."""
    for trial, k in enumerate((1, 3, 5, 10)):
        logits = _logits(seed + 10 + trial)
        ok, out = call_student(top_k_probs, logits.clone(), k)
        if not ok:
            return False
        got = _probs(out, logits.numel())
        ref = next_token_probs(logits, top_k=k).double()
        if _close(got, ref):
            continue
        kept = int((got > TOL).sum())
        if kept != k:
            raise AssertionError(
                f"при k = {k} ненулевых вероятностей {kept}, а должно быть ровно {k}"
            )
        if not bool(((got > TOL) == (ref > 0)).all()):
            raise AssertionError(
                f"при k = {k} оставлены не самые вероятные символы: возьмите torch.topk"
            )
        raise AssertionError(
            f"при k = {k} выбраны верные символы, но вероятности другие: после отбора "
            "пересчитайте softmax только по оставшимся (или разделите на их сумму)"
        )
    print("✅ Верно: top-k оставляет k самых вероятных символов и перенормирует (k = 1, 3, 5, 10)")
    return True


def check_make_pair(make_pair, vocab, names=("анна", "ия", "ольга")) -> bool:
    """Check ``make_pair(name, vocab) -> (x_ids, y_ids)``: x = <bos> + name, y = name + <eos>."""
    if vocab.bos is None or vocab.eos is None:
        raise ValueError("check_make_pair needs a vocabulary with <bos> and <eos>")
    for name in names:
        ok, out = call_student(make_pair, name, vocab)
        if not ok:
            return False
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise AssertionError("make_pair должна вернуть пару (x_ids, y_ids)")
        x, y = (list(map(int, v)) for v in out)
        ids = vocab.encode(name)
        x_ref, y_ref = [vocab.bos, *ids], [*ids, vocab.eos]
        if (x, y) == (x_ref, y_ref):
            continue
        if (x, y) == (y_ref, x_ref):
            raise AssertionError(
                "вход и цель перепутаны местами: вход начинается с <bos>, цель кончается <eos>"
            )
        if len(x) != len(y):
            raise AssertionError(
                f"для {name!r}: длины входа ({len(x)}) и цели ({len(y)}) должны совпадать — "
                "на каждом шаге модель предсказывает следующий символ"
            )
        if x[:1] != [vocab.bos]:
            raise AssertionError(f"для {name!r}: вход должен начинаться с <bos> (id {vocab.bos})")
        if y[-1:] != [vocab.eos]:
            raise AssertionError(f"для {name!r}: цель должна кончаться <eos> (id {vocab.eos})")
        raise AssertionError(
            f"для {name!r}: ожидалось x = {x_ref}, y = {y_ref}, получено x = {x}, y = {y}"
        )
    print(f"✅ Верно: пары (вход, цель) с <bos> и <eos> для {len(names)} имён")
    return True
