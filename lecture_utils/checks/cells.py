"""Self-checks for the exercises of notebook 06: write one LSTM step, write one GRU step.

The student's function gets torch tensors in torch's layout (gates stacked in ``weight_ih`` /
``weight_hh`` in the order i, f, g, o for the LSTM and r, z, n for the GRU) and must return what
``nn.LSTMCell`` / ``nn.GRUCell`` return. The check compares it with torch on random sizes in float64
and prints a Russian verdict and returns ``True``; a wrong answer raises ``AssertionError`` with a
hint. A function that still raises ``NotImplementedError`` (the exercise template) prints a
reminder and returns ``False``, so that a notebook with unsolved exercises still runs top to bottom.
"""

from __future__ import annotations

import itertools
import random

import torch
from torch import nn

from .common import call_student

TOL = 1e-8


def lstm_step_reference(x, h, c, W_ih, W_hh, b_ih, b_hh, order="ifgo"):
    """One LSTM step (torch's equations); ``order`` names the stacked blocks (used for hints)."""
    blocks = dict(zip(order, (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1), strict=True))
    i, f, o = (torch.sigmoid(blocks[k]) for k in "ifo")
    g = torch.tanh(blocks["g"])
    c_new = f * c + i * g
    return o * torch.tanh(c_new), c_new


def gru_step_reference(x, h, W_ih, W_hh, b_ih, b_hh, reset_after=True):
    """One GRU step; ``reset_after=False`` is the original paper's variant (used for hints)."""
    H = h.shape[1]
    i_r, i_z, i_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)
    h_r, h_z, _ = (h @ W_hh.T + b_hh).chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    if reset_after:  # torch: r scales (W_hn h + b_hn)
        n = torch.tanh(i_n + r * (h @ W_hh[2 * H :].T + b_hh[2 * H :]))
    else:  # Cho et al. 2014: r scales h before the product
        n = torch.tanh(i_n + (r * h) @ W_hh[2 * H :].T + b_hh[2 * H :])
    return (1 - z) * n + z * h


def _cases(n_trials: int, seed: int):
    rng = random.Random(seed)
    for trial in range(n_trials):
        I, H, B = rng.randint(2, 7), rng.randint(2, 7), rng.randint(1, 4)
        gen = torch.Generator().manual_seed(seed * 100 + trial)
        yield I, H, B, gen


def _randn(gen, *shape):
    return torch.randn(*shape, dtype=torch.float64, generator=gen)


def _call(fn, *args):
    """The student's function gets copies, so it cannot change our reference tensors."""
    return call_student(fn, *[a.clone() for a in args])


def _as_tensor(value, what: str) -> torch.Tensor:
    if value is None:
        raise AssertionError(f"{what}: функция вернула None — не забыли `return`?")
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{what} должен быть тензором torch, а получен {type(value).__name__}")
    return value


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool((a - b).abs().max() <= TOL)


def check_lstm_step(lstm_step, n_trials: int = 3, seed: int = 0) -> bool:
    """Check ``lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh) -> (h_new, c_new)`` against ``nn.LSTMCell``.

    Shapes: x (B, I), h and c (B, H), W_ih (4H, I), W_hh (4H, H), b_ih and b_hh (4H,).
    """
    for I, H, B, gen in _cases(n_trials, seed):
        torch.manual_seed(seed)
        ref = nn.LSTMCell(I, H).double()
        x, h, c = _randn(gen, B, I), _randn(gen, B, H), _randn(gen, B, H)
        with torch.no_grad():
            h_ref, c_ref = ref(x, (h, c))
            args = (x, h, c, ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh)
            ok, out = _call(lstm_step, *args)
        if not ok:
            return False
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise AssertionError("lstm_step должна вернуть пару (h_new, c_new), как nn.LSTMCell")
        h_new = _as_tensor(out[0], "h_new")
        c_new = _as_tensor(out[1], "c_new")
        for name, got in (("h_new", h_new), ("c_new", c_new)):
            if tuple(got.shape) != (B, H):
                raise AssertionError(
                    f"{name} имеет форму {tuple(got.shape)}, а должна быть (B, H) = {(B, H)}"
                )
        if _close(h_new, c_ref) and _close(c_new, h_ref):
            raise AssertionError("h_new и c_new перепутаны местами: верните (h_new, c_new)")
        if not (_close(h_new, h_ref) and _close(c_new, c_ref)):
            for order in ("".join(p) for p in itertools.permutations("ifgo")):
                h_alt, c_alt = lstm_step_reference(*args, order=order)
                if order != "ifgo" and _close(h_new, h_alt) and _close(c_new, c_alt):
                    raise AssertionError(
                        f"Похоже, блоки гейтов взяты в порядке {order}; в torch порядок i, f, g, o "
                        "(строки 0..H-1 — входной гейт, H..2H-1 — забывающий, потом кандидат, "
                        "потом выходной)"
                    )
            which = "c_new" if not _close(c_new, c_ref) else "h_new"
            diff = float(
                (h_new - h_ref).abs().max() if which == "h_new" else (c_new - c_ref).abs().max()
            )
            raise AssertionError(
                f"{which} не совпадает с nn.LSTMCell (макс. расхождение {diff:.3g}) при I={I}, H={H}, "
                f"B={B}. Проверьте: c_t = f ⊙ c_(t-1) + i ⊙ tanh(...), h_t = o ⊙ tanh(c_t), "
                "оба смещения b_ih и b_hh прибавлены"
            )
    print(f"✅ Верно: шаг LSTM совпадает с nn.LSTMCell на {n_trials} случайных примерах")
    return True


def check_gru_step(gru_step, n_trials: int = 3, seed: int = 0) -> bool:
    """Check ``gru_step(x, h, W_ih, W_hh, b_ih, b_hh) -> h_new`` against ``nn.GRUCell``.

    Shapes: x (B, I), h (B, H), W_ih (3H, I), W_hh (3H, H), b_ih and b_hh (3H,).
    """
    for I, H, B, gen in _cases(n_trials, seed):
        torch.manual_seed(seed)
        ref = nn.GRUCell(I, H).double()
        x, h = _randn(gen, B, I), _randn(gen, B, H)
        with torch.no_grad():
            h_ref = ref(x, h)
            args = (x, h, ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh)
            ok, got = _call(gru_step, *args)
        if not ok:
            return False
        if isinstance(got, (tuple, list)):
            raise AssertionError("gru_step должна вернуть один тензор h_new, как nn.GRUCell")
        got = _as_tensor(got, "h_new")
        if tuple(got.shape) != (B, H):
            raise AssertionError(f"h_new имеет форму {tuple(got.shape)}, а должна быть {(B, H)}")
        if _close(got, h_ref):
            continue
        if _close(got, gru_step_reference(*args, reset_after=False)):
            raise AssertionError(
                "Это вариант GRU из статьи (r умножает h до умножения на матрицу). В torch гейт "
                "сброса умножает уже готовую сумму (W_hn h + b_hn): n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))"
            )
        r_z_swapped = gru_step_reference(
            x,
            h,
            *(torch.cat([w[H : 2 * H], w[:H], w[2 * H :]]) for w in args[2:]),
        )
        if _close(got, r_z_swapped):
            raise AssertionError("Похоже, перепутаны r и z: в torch порядок блоков r, z, n")
        with torch.no_grad():  # the other classic slip: z and 1 - z swapped
            i_r, i_z, i_n = (x @ args[2].T + args[4]).chunk(3, dim=1)
            h_r, h_z, h_n = (h @ args[3].T + args[5]).chunk(3, dim=1)
            r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
            h_swapped = z * torch.tanh(i_n + r * h_n) + (1 - z) * h
        if _close(got, h_swapped):
            raise AssertionError(
                "z и (1 − z) перепутаны: в torch h_t = (1 − z) ⊙ n + z ⊙ h_(t-1) "
                "(z близко к 1 — «оставить старое»)"
            )
        diff = float((got - h_ref).abs().max())
        raise AssertionError(
            f"h_new не совпадает с nn.GRUCell (макс. расхождение {diff:.3g}) при I={I}, H={H}, B={B}"
        )
    print(f"✅ Верно: шаг GRU совпадает с nn.GRUCell на {n_trials} случайных примерах")
    return True
