"""Self-checks for the exercises of 01_rnn_by_hand and 02_bptt (the hand-made RNN and BPTT).

Each ``check_*`` calls the student's function on a few seeded random problems and compares the
result with the reference in :mod:`lecture_utils.scratch`. A correct answer prints a Russian
verdict and returns ``True``. A wrong one raises ``AssertionError`` whose Russian message says what
is wrong: the type, the shape, or which value / which gradient, with a hint for common mistakes.
A function that still raises ``NotImplementedError`` (the exercise template) prints a reminder and
returns ``False``, so that a notebook with unsolved exercises still runs top to bottom.
"""

from __future__ import annotations

import numpy as np

from lecture_utils import scratch

from .common import call_student

BACKWARD_KEYS = ("da", "dW", "dU", "db", "ds_prev")
ATOL = 1e-9


def _problem(seed: int, I: int = 5, H: int = 4, O: int = 5):
    rng = np.random.default_rng(seed)
    params = scratch.init_params(I, H, O, seed=seed)
    x_t = np.eye(I)[rng.integers(0, I)] if seed % 2 == 0 else rng.normal(size=I)
    s_prev = rng.normal(scale=0.5, size=H)
    return params, x_t, s_prev, rng


def _as_array(value, what: str, shape: tuple) -> np.ndarray:
    if value is None:
        raise AssertionError(f"{what}: функция вернула None — не забыли `return`?")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{what}: ожидался массив NumPy формы {shape}, получено {type(value).__name__}"
        ) from None
    if arr.shape != shape:
        hint = ""
        if arr.shape == shape[::-1] and len(shape) == 2:
            hint = " Похоже, матрица транспонирована: проверьте порядок множителей во внешнем произведении."
        elif arr.ndim == 0:
            hint = " Получилось число: возможно, вместо матричного умножения `@` сработала сумма."
        raise AssertionError(f"{what}: форма {arr.shape}, а должна быть {shape}.{hint}")
    if not np.all(np.isfinite(arr)):
        raise AssertionError(f"{what}: в ответе есть nan или inf")
    return arr


def _max_diff(a, b) -> float:
    return float(np.max(np.abs(a - b)))


def check_rnn_step(fn) -> bool:
    """Exercise of 01: ``fn(params, x_t (I,), s_prev (H,)) -> s_t (H,)``, one step of the RNN.

    ``s_t = tanh(b + W s_prev + U x_t)``. Checked on three seeded problems (one-hot and dense x_t).
    """
    for seed in range(3):
        params, x_t, s_prev, _ = _problem(seed)
        ok, got = call_student(fn, params, x_t, s_prev)
        if not ok:
            return False
        H = params["W"].shape[0]
        got = _as_array(got, "s_t", (H,))
        a_t = params["b"] + params["W"] @ s_prev + params["U"] @ x_t
        want = np.tanh(a_t)
        if _max_diff(got, want) <= ATOL:
            continue
        hint = ""
        if _max_diff(got, a_t) <= ATOL:
            hint = " Это значение a_t до нелинейности: не забыли применить tanh?"
        elif _max_diff(got, np.tanh(a_t - params["b"])) <= ATOL:
            hint = " Не хватает смещения b."
        elif _max_diff(got, np.tanh(params["b"] + params["U"] @ x_t)) <= ATOL:
            hint = " Не учтено предыдущее состояние: слагаемое W s_{t-1}."
        elif (
            _max_diff(got, np.tanh(params["b"] + params["W"].T @ s_prev + params["U"] @ x_t))
            <= ATOL
        ):
            hint = " W стоит транспонированной: нужно W @ s_prev."
        elif np.all((got > 0) & (got < 1)):
            hint = " Все значения в (0, 1): возможно, вместо tanh взята сигмоида."
        raise AssertionError(
            f"s_t: неверное значение (тест {seed + 1} из 3), максимальное отличие "
            f"{_max_diff(got, want):.3g}.{hint}"
        )
    print("✅ Верно: шаг RNN s_t = tanh(b + W s_{t-1} + U x_t) совпадает с эталоном на 3 тестах.")
    return True


def check_output_step(fn) -> bool:
    """Exercise of 01: ``fn(params, s_t (H,)) -> y_t (O,)``, probabilities ``softmax(c + V s_t)``."""
    for seed in range(3):
        params, _, s_t, _ = _problem(seed)
        ok, got = call_student(fn, params, s_t)
        if not ok:
            return False
        O = params["V"].shape[0]
        got = _as_array(got, "y_t", (O,))
        o_t = params["c"] + params["V"] @ s_t
        want = scratch.softmax(o_t)
        if _max_diff(got, want) <= ATOL:
            continue
        hint = ""
        if _max_diff(got, o_t) <= ATOL:
            hint = " Это логиты o_t: примените softmax, чтобы получить вероятности."
        elif abs(got.sum() - 1) > 1e-6:
            hint = f" Сумма вероятностей {got.sum():.4f}, а должна быть 1."
        elif _max_diff(got, scratch.softmax(params["V"] @ s_t)) <= ATOL:
            hint = " Не хватает смещения c."
        raise AssertionError(
            f"y_t: неверное значение (тест {seed + 1} из 3), максимальное отличие "
            f"{_max_diff(got, want):.3g}.{hint}"
        )
    print("✅ Верно: y_t = softmax(c + V s_t) совпадает с эталоном на 3 тестах.")
    return True


def reference_backward_step(params, ds_t, s_t, s_prev, x_t) -> dict:
    """One step of BPTT (what ``scratch.loss_and_grads`` does inside its loop).

    ``ds_t`` (H,) is the whole dL/ds_t (from the output and from step t+1). Returns
    ``{"da": dL/da_t, "dW": this step's term of dL/dW, "dU": ..., "db": ..., "ds_prev": dL/ds_{t-1}
    through W}``. Introduced in 02_bptt.
    """
    da = ds_t * (1.0 - s_t**2)
    return {
        "da": da,
        "dW": np.outer(da, s_prev),
        "dU": np.outer(da, x_t),
        "db": da,
        "ds_prev": params["W"].T @ da,
    }


def check_backward_step(fn) -> bool:
    """Exercise of 02: ``fn(params, ds_t, s_t, s_prev, x_t) -> dict`` with keys ``da, dW, dU, db,
    ds_prev``: one step of backpropagation through time (see :func:`reference_backward_step`)."""
    for seed in range(3):
        params, x_t, s_prev, rng = _problem(seed)
        H = params["W"].shape[0]
        s_t = np.tanh(params["b"] + params["W"] @ s_prev + params["U"] @ x_t)
        ds_t = rng.normal(size=H)
        ok, got = call_student(fn, params, ds_t, s_t, s_prev, x_t)
        if not ok:
            return False
        if not isinstance(got, dict):
            raise AssertionError(
                f"функция должна вернуть словарь с ключами {list(BACKWARD_KEYS)}, "
                f"а вернула {type(got).__name__}"
            )
        missing = [k for k in BACKWARD_KEYS if k not in got]
        if missing:
            raise AssertionError(f"в словаре нет ключей {missing}; нужны {list(BACKWARD_KEYS)}")
        want = reference_backward_step(params, ds_t, s_t, s_prev, x_t)
        for key in BACKWARD_KEYS:  # "da" first: when it is right, the others are judged alone
            arr = _as_array(got[key], key, want[key].shape)
            if _max_diff(arr, want[key]) <= ATOL:
                continue
            hint = ""
            if key == "da":
                if _max_diff(arr, ds_t * (1 - np.tanh(s_t) ** 2)) <= ATOL:
                    hint = " Производная tanh выражается через s_t: 1 - s_t², а не 1 - tanh(s_t)²."
                elif _max_diff(arr, ds_t) <= ATOL:
                    hint = " Забыт множитель производной tanh: (1 - s_t²)."
            elif key == "dW" and _max_diff(arr, np.outer(want["da"], s_t)) <= ATOL:
                hint = " В dW нужен s_{t-1} (вход W на этом шаге), а не s_t."
            elif key == "dW" and _max_diff(arr, want["dW"].T) <= ATOL:
                hint = " dW транспонирован: np.outer(da, s_prev)."
            elif key == "ds_prev" and _max_diff(arr, params["W"] @ want["da"]) <= ATOL:
                hint = " Градиент идёт назад через транспонированную матрицу: W.T @ da."
            raise AssertionError(
                f"{key}: неверное значение (тест {seed + 1} из 3), максимальное отличие "
                f"{_max_diff(arr, want[key]):.3g}.{hint}"
            )
    print("✅ Верно: шаг обратного прохода (da, dW, dU, db, ds_prev) совпадает с эталоном.")
    return True


def check_loss_and_grads(fn, truncated_k: int | None = None) -> bool:
    """Exercise of 02: a whole ``fn(params, inputs, targets, h0) -> (loss, grads, h_last)``.

    Compared with ``scratch.loss_and_grads`` (or ``scratch.truncated_loss_and_grads`` with window
    ``truncated_k``, then ``fn`` is called as ``fn(params, inputs, targets, k, h0)``); the message
    names every gradient that differs.
    """
    I, H, O, T = 5, 4, 6, 9
    for seed in range(2):
        params = scratch.init_params(I, H, O, seed=seed)
        rng = np.random.default_rng(seed)
        inputs, targets = rng.integers(0, I, size=T), rng.integers(0, O, size=T)
        h0 = rng.normal(scale=0.5, size=H)
        if truncated_k is None:
            ok, got = call_student(fn, params, inputs, targets, h0)
            want = scratch.loss_and_grads(params, inputs, targets, h0)
        else:
            ok, got = call_student(fn, params, inputs, targets, truncated_k, h0)
            want = scratch.truncated_loss_and_grads(params, inputs, targets, truncated_k, h0)
        if not ok:
            return False
        if not isinstance(got, tuple) or len(got) != 3:
            raise AssertionError("функция должна вернуть кортеж (loss, grads, h_last)")
        loss, grads, h_last = got
        if not np.isscalar(loss) and np.ndim(loss) != 0:
            raise AssertionError(f"loss должен быть числом, а не массивом формы {np.shape(loss)}")
        if abs(float(loss) - want[0]) > 1e-8 * max(1.0, abs(want[0])):
            hint = ""
            if abs(float(loss) * T - want[0]) < 1e-8 * abs(want[0]):
                hint = " Похоже, потери усреднены по времени, а нужна сумма."
            raise AssertionError(f"loss = {float(loss):.6f}, а должно быть {want[0]:.6f}.{hint}")
        if not isinstance(grads, dict):
            raise AssertionError(f"grads должен быть словарём, а не {type(grads).__name__}")
        wrong = []
        for name in scratch.PARAM_NAMES:
            if name not in grads:
                wrong.append(f"d{name}: нет в словаре")
                continue
            arr = _as_array(grads[name], f"d{name}", params[name].shape)
            err = scratch.relative_error(arr, want[1][name])
            if err > 1e-7:
                wrong.append(f"d{name}: относительная ошибка {err:.2g}")
        if wrong:
            hint = ""
            if any(w.startswith(("dW", "dU", "db")) for w in wrong) and not any(
                w.startswith(("dV", "dc")) for w in wrong
            ):
                hint = (
                    " dV и dc верны, значит, выход посчитан правильно; ошибка в рекуррентной "
                    "части: проверьте, что dL/ds_t складывается из выхода и из шага t+1."
                )
            raise AssertionError("неверные градиенты — " + "; ".join(wrong) + "." + hint)
        _as_array(h_last, "h_last", (H,))
        if _max_diff(np.asarray(h_last, dtype=float), want[2]) > ATOL:
            raise AssertionError("h_last: неверное последнее состояние (нужно s_T)")
    print("✅ Верно: потери и все пять градиентов совпадают с эталоном (проверено на 2 задачах).")
    return True
