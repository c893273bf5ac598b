"""Hand-written BPTT (NumPy) vs torch autograd on the CPU: seconds per forward + backward.

Run from the repository root:

    python benchmarks/bptt_speed.py            # the full grid (a few minutes on 2 cores)
    python benchmarks/bptt_speed.py --quick    # a small grid, for a smoke test

For every hidden size H, length T, batch B and dtype, three implementations compute the same
summed cross-entropy and all gradients of a character-level RNN (vocabulary 64, one-hot input):

- ``numpy``  ``lecture_utils.scratch.loss_and_grads_batch`` (BPTT written by hand);
- ``torch``  the same equations as torch ops in a Python loop, gradients by autograd;
- ``nn.RNN`` ``torch.nn.RNN`` + a linear layer (torch's own recurrent kernel), autograd.

They run interleaved (A, B, C, A, B, C, ...) in one process with one thread each, and the median
of the repeats is reported, so that load from other processes hits all three alike. The ratio
``numpy / torch`` < 1 means the hand-written version is faster.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

# One BLAS/OpenMP thread for everybody, set before numpy and torch are imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lecture_utils import scratch  # noqa: E402

VOCAB = 64


def make_case(H: int, T: int, B: int, dtype, seed: int = 0):
    params = scratch.init_params(VOCAB, H, VOCAB, seed=seed)
    params = {k: v.astype(dtype) for k, v in params.items()}
    rng = np.random.default_rng(seed)
    inputs = rng.integers(0, VOCAB, size=(B, T))
    targets = rng.integers(0, VOCAB, size=(B, T))
    return params, inputs, targets


def numpy_step(params, inputs, targets):
    return lambda: scratch.loss_and_grads_batch(params, inputs, targets)


def torch_loop_step(params, inputs, targets):
    tdtype = torch.float32 if params["W"].dtype == np.float32 else torch.float64
    p = {k: torch.tensor(v, dtype=tdtype, requires_grad=True) for k, v in params.items()}
    x = torch.as_tensor(inputs)
    y = torch.as_tensor(targets)
    B, T = x.shape

    def step():
        for v in p.values():
            v.grad = None
        s = torch.zeros(B, p["W"].shape[0], dtype=tdtype)
        ux = p["U"].t()[x.t()]  # (T, B, H): U @ onehot(x) is a column of U
        states = []
        for t in range(T):
            s = torch.tanh(ux[t] + p["b"] + s @ p["W"].t())
            states.append(s)
        logits = torch.stack(states) @ p["V"].t() + p["c"]  # (T, B, O)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, VOCAB), y.t().reshape(-1), reduction="sum"
        )
        loss.backward()
        return loss.item()

    return step


def torch_rnn_step(params, inputs, targets):
    tdtype = torch.float32 if params["W"].dtype == np.float32 else torch.float64
    H = params["W"].shape[0]
    rnn = torch.nn.RNN(VOCAB, H, dtype=tdtype)
    fc = torch.nn.Linear(H, VOCAB, dtype=tdtype)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.as_tensor(params["U"]))
        rnn.weight_hh_l0.copy_(torch.as_tensor(params["W"]))
        rnn.bias_ih_l0.copy_(torch.as_tensor(params["b"]))
        rnn.bias_hh_l0.zero_()
        fc.weight.copy_(torch.as_tensor(params["V"]))
        fc.bias.copy_(torch.as_tensor(params["c"]))
    x = torch.nn.functional.one_hot(torch.as_tensor(inputs).t(), VOCAB).to(tdtype)  # (T, B, I)
    y = torch.as_tensor(targets).t().reshape(-1)

    def step():
        rnn.zero_grad(set_to_none=True)
        fc.zero_grad(set_to_none=True)
        out, _ = rnn(x)
        loss = torch.nn.functional.cross_entropy(fc(out).reshape(-1, VOCAB), y, reduction="sum")
        loss.backward()
        return loss.item()

    return step


def check_same_loss(steps, dtype) -> None:
    """All three must compute the same loss, otherwise the timing compares different work."""
    losses = [r[0] if isinstance(r, tuple) else r for r in (s() for s in steps)]
    tol = 1e-3 if dtype == np.float32 else 1e-9
    if max(losses) - min(losses) > tol * max(abs(v) for v in losses):
        raise AssertionError(f"implementations disagree on the loss: {losses}")


def time_interleaved(steps: dict, repeats: int, budget_s: float) -> dict:
    """Median seconds per call of each step, calls interleaved; fewer repeats when slow."""
    for fn in steps.values():  # warm-up
        fn()
    times = {name: [] for name in steps}
    start = time.perf_counter()
    for i in range(repeats):
        for name, fn in steps.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
        if i >= 2 and time.perf_counter() - start > budget_s:
            break
    return {name: statistics.median(v) for name, v in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small grid for a smoke test")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--budget", type=float, default=6.0, help="seconds per case, at most")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    hiddens, lengths, batches = ([16, 64, 256], [25, 100], [1, 32])
    if args.quick:
        hiddens, lengths, batches = ([16, 256], [25], [1, 32])
    print(
        f"numpy {np.__version__}, torch {torch.__version__}, Python {sys.version.split()[0]}, "
        f"1 thread, vocabulary {VOCAB}, median of up to {args.repeats} interleaved repeats"
    )
    header = "| dtype | H | T | B | numpy ms | torch loop ms | nn.RNN ms | numpy / torch | numpy / nn.RNN |"
    print(header)
    print("|" + "---|" * 9)
    for dtype in (np.float32, np.float64):
        for H in hiddens:
            for T in lengths:
                for B in batches:
                    case = make_case(H, T, B, dtype)
                    steps = {
                        "numpy": numpy_step(*case),
                        "torch": torch_loop_step(*case),
                        "rnn": torch_rnn_step(*case),
                    }
                    check_same_loss(list(steps.values()), dtype)
                    med = time_interleaved(steps, args.repeats, args.budget)
                    print(
                        f"| {np.dtype(dtype).name} | {H} | {T} | {B} | {med['numpy'] * 1e3:.2f} | "
                        f"{med['torch'] * 1e3:.2f} | {med['rnn'] * 1e3:.2f} | "
                        f"{med['numpy'] / med['torch']:.2f} | {med['numpy'] / med['rnn']:.2f} |",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
