"""LSTM variants and the forget-gate bias on the delayed-recall task (notebook 06), several seeds.

Run:  python benchmarks/lstm_variants.py [--seeds 3] [--steps 400] [--delay 20]
Prints Markdown tables for benchmarks/RESULTS.md. Times are side by side in one process, one thread
(tiny matrices: more threads only add contention); compare them as ratios to the plain LSTM.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from lecture_utils.cells import (
    LSTM_VARIANTS,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--delay", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
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
