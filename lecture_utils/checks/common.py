"""What every exercise check shares: calling the student's function safely."""

from __future__ import annotations

from collections.abc import Callable


def call_student(fn: Callable, *args) -> tuple[bool, object]:
    """Run the student's ``fn(*args)``: ``(True, result)``, or ``(False, None)`` when not written yet.

    A function that still raises ``NotImplementedError`` prints a reminder (the notebook keeps
    running); any other exception becomes an ``AssertionError`` that says what failed, in Russian.
    """
    try:
        return True, fn(*args)
    except NotImplementedError:
        print("⏳ Функция ещё не написана: замените `raise NotImplementedError` своим кодом.")
        return False, None
    except Exception as exc:  # the student's code failed: say why, in the notebook's language
        raise AssertionError(f"Ваша функция упала с ошибкой {type(exc).__name__}: {exc}") from exc
