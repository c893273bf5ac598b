"""LSTM variants and the forget-gate bias on the delayed-recall task (notebook 06), several seeds.

Run:  python benchmarks/lstm_variants.py [--seeds 3] [--steps 400] [--delay 20] [--only timing]
Prints Markdown tables for benchmarks/RESULTS.md. Training runs one after another, so their seconds
move with the machine's load; the timing table interleaves the models round by round (same
conditions) and reports the median time of one training step, as a ratio to the plain LSTM.
All in one process, one thread (tiny matrices: more threads only add contention).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from lecture_utils.cells import (
    LSTM_VARIANTS,
    CellSequenceClassifier,
    GRUCellScratch,
    LSTMCellScratch,
    RNNCellScratch,
    make_lstm_variant,
    memory_experiment,
    set_forget_bias,
)

HIDDEN = 32


def variant_factory(name: str, forget_bias: float | None):
    def make(n_in: int):
        if name == "GRU":
            return GRUCellScratch(n_in, HIDDEN)
        if name == "RNN":
            return RNNCellScratch(n_in, HIDDEN)
        cell = make_lstm_variant(name, n_in, HIDDEN)
        if forget_bias is not None and cell.forget_gate:
            set_forget_bias(cell, forget_bias)
        return cell

    return make


def summarise(runs, base_seconds=None):
    acc = [r.accuracy for r in runs]
    solved = [r.solved_at for r in runs if r.solved_at is not None]
    sec = statistics.mean(r.seconds for r in runs)
    ratio = f"{sec / base_seconds:.2f}" if base_seconds else "1.00"
    solved_txt = f"{len(solved)}/{len(runs)}"
    if solved:
        solved_txt += f", median step {int(statistics.median(solved))}"
    return (
        f"{runs[0].n_params} | {statistics.mean(acc):.3f} (min {min(acc):.3f}) | "
        f"{solved_txt} | {sec:.1f} | {ratio}"
    )


def step_timing(delay: int, rounds: int = 7, reps: int = 5) -> None:
    """Median seconds of one training step (forward + backward + Adam), models interleaved."""
    from lecture_utils.tasks import SequenceClassifier, delayed_recall, recall_vocab_size

    n_in = recall_vocab_size(8)
    x, y = delayed_recall(64, delay, 8, seed=0)  # one batch of 64 sequences, T = delay + 2
    models = {
        name: CellSequenceClassifier(variant_factory(name, 1.0)(n_in), 8)
        for name in [*LSTM_VARIANTS, "GRU", "RNN"]
    }
    models["nn.LSTM (torch, fused)"] = SequenceClassifier(n_in, HIDDEN, 8, cell="lstm")
    opts = {k: torch.optim.Adam(m.parameters(), lr=1e-3) for k, m in models.items()}
    times = {k: [] for k in models}
    for _ in range(rounds):
        for name, model in models.items():
            start = time.perf_counter()
            for _ in range(reps):
                loss = F.cross_entropy(model(x), y)
                opts[name].zero_grad()
                loss.backward()
                opts[name].step()
            times[name].append((time.perf_counter() - start) / reps)
    base = statistics.median(times["LSTM"])
    print(f"### One training step, B=64, T={delay + 2}, H={HIDDEN} (median of {rounds} rounds)\n")
    print("| model | ms / step | time vs scratch LSTM |\n|---|---|---|")
    for name, t in times.items():
        print(f"| {name} | {1000 * statistics.median(t):.1f} | {statistics.median(t) / base:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--delay", type=int, default=20)
    parser.add_argument("--only", choices=["timing"], default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    step_timing(args.delay)
    if args.only == "timing":
        return
    print()
    seeds = range(args.seeds)
    common = dict(delay=args.delay, steps=args.steps)
    head = (
        "| model | parameters | held-out accuracy, mean (min) | solved (loss < 0.1) | "
        "seconds / run | time vs LSTM |\n|---|---|---|---|---|---|"
    )

    print(f"### Variants, b_f = 1 where there is a forget gate (delay {args.delay}, H={HIDDEN})\n")
    print(head)
    base = None
    for name in [*LSTM_VARIANTS, "GRU", "RNN"]:
        runs = [
            memory_experiment(variant_factory(name, 1.0), name, seed=s, **common) for s in seeds
        ]
        if base is None:
            base = statistics.mean(r.seconds for r in runs)
        print(f"| {name} | {summarise(runs, base)} |", flush=True)

    print(f"\n### Forget-gate bias, standard LSTM (delay {args.delay})\n")
    print(head.replace("| model |", "| b_f |"))
    base = None
    for bf in (0.0, 1.0, 2.0):
        runs = [
            memory_experiment(
                lambda n, bf=bf: set_forget_bias(LSTMCellScratch(n, HIDDEN), bf),
                f"b_f={bf}",
                seed=s,
                **common,
            )
            for s in seeds
        ]
        if base is None:
            base = statistics.mean(r.seconds for r in runs)
        print(f"| {bf:g} | {summarise(runs, base)} |", flush=True)


if __name__ == "__main__":
    main()
