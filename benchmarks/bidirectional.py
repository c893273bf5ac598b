"""Unidirectional vs bidirectional RNN at an equal parameter budget (notebook 05).

Two tasks from the course's data, several seeds, side by side in one process:

- word boundaries in de-spaced «Анна Каренина» (many-to-many, the right context matters):
  a GRU tagger with H = 64 vs a bidirectional GRU tagger with H chosen for the same parameter count;
- a name's gender from its letters (many-to-one): the same comparison for a GRU classifier, plus
  a unidirectional one that reads the name backwards.

Run:  python benchmarks/bidirectional.py            (about 3–6 minutes on 2 loaded cores)
      python benchmarks/bidirectional.py --seeds 1  (a quicker look)
Prints mean ± std accuracy and F1 per model, the bidirectional margin, and the CPU-time ratio
(process time, one thread: steadier than wall time when other programs share the machine).
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace

import torch

from lecture_utils import taggers as tg
from lecture_utils.config import set_seed
from lecture_utils.data import load_names_with_gender, load_text


def mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def boundaries(seeds: list[int], epochs: int, n_train: int) -> None:
    data = tg.make_boundary_data(load_text("anna_karenina"), seq_len=64, n_train=n_train, n_val=400)
    base = tg.TaggerConfig(
        vocab_size=len(data.vocab), num_classes=2, embed_size=16, hidden_size=64, cell="gru"
    )
    budget = tg.count_params(tg.RNNTagger(base))
    bi = replace(base, bidirectional=True)
    bi = replace(bi, hidden_size=tg.hidden_for_budget(bi, budget))
    majority = 1 - data.y_val.float().mean().item()
    print(f"\n## Word boundaries: {data.info}; majority baseline accuracy {majority:.3f}")
    rows: dict[str, dict[str, list[float]]] = {}
    for seed in seeds:
        for label, cfg in [(f"uni H={base.hidden_size}", base), (f"bi  H={bi.hidden_size}", bi)]:
            set_seed(seed)
            model = tg.RNNTagger(cfg)
            r = tg.train_model(
                model, data.x_train, data.y_train, data.x_val, data.y_val,
                epochs=epochs, batch_size=64, lr=5e-3, seed=seed,
            )  # fmt: skip
            s = tg.evaluate_model(model, data.x_val, data.y_val)
            row = rows.setdefault(label, {"acc": [], "f1": [], "sec": [], "params": []})
            row["acc"].append(s["accuracy"])
            row["f1"].append(s["f1"])
            row["sec"].append(r.cpu_seconds)
            row["params"].append(r.params)
            print(
                f"  seed {seed} {label}: acc {s['accuracy']:.3f} F1 {s['f1']:.3f} "
                f"{r.cpu_seconds:.1f} s CPU ({r.seconds:.1f} s wall)"
            )
    for label, row in rows.items():
        print(
            f"{label}: params {row['params'][0]}, accuracy {mean_std(row['acc'])}, "
            f"F1 {mean_std(row['f1'])}, CPU time {statistics.mean(row['sec']):.1f} s"
        )
    uni, bid = rows.values()
    acc_margin = [b - u for u, b in zip(uni["acc"], bid["acc"], strict=True)]
    f1_margin = [b - u for u, b in zip(uni["f1"], bid["f1"], strict=True)]
    ratio = statistics.mean(bid["sec"]) / statistics.mean(uni["sec"])
    print(
        f"margin bi - uni: accuracy {mean_std(acc_margin)}, F1 {mean_std(f1_margin)}; "
        f"CPU time ratio bi/uni {ratio:.2f}"
    )


def genders(seeds: list[int], epochs: int) -> None:
    pairs = load_names_with_gender()
    print(
        f"\n## Gender of a name: {len(pairs)} names, 25% held out per seed (a different split each)"
    )
    variants = {
        "uni ->": dict(bidirectional=False, reverse=False),
        "uni <-": dict(bidirectional=False, reverse=True),
        "bi <->": dict(bidirectional=True, reverse=False),
    }
    accs: dict[str, list[float]] = {k: [] for k in variants}
    for seed in seeds:
        for label, v in variants.items():
            d = tg.make_gender_data(pairs, val_fraction=0.25, seed=seed, reverse=v["reverse"])
            cfg = tg.TaggerConfig(
                vocab_size=len(d.vocab), num_classes=2, embed_size=16, hidden_size=32
            )
            budget = tg.count_params(tg.RNNClassifier(cfg))
            cfg = replace(cfg, bidirectional=v["bidirectional"])
            cfg = replace(cfg, hidden_size=tg.hidden_for_budget(cfg, budget, kind="classifier"))
            set_seed(seed)
            clf = tg.RNNClassifier(cfg)
            tg.train_model(
                clf, d.x_train, d.y_train, d.x_val, d.y_val, d.len_train, d.len_val,
                epochs=epochs, batch_size=32, lr=5e-3, seed=seed,
            )  # fmt: skip
            accs[label].append(tg.evaluate_model(clf, d.x_val, d.y_val, d.len_val)["accuracy"])
    for label, values in accs.items():
        print(f"{label}: accuracy {mean_std(values)}  {[round(a, 3) for a in values]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    parser.add_argument("--epochs", type=int, default=6, help="epochs for the boundary task")
    parser.add_argument("--n-train", type=int, default=1500, help="training windows of 64 letters")
    parser.add_argument("--gender-epochs", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny recurrent models: one thread is fastest and fair to both
    seeds = list(range(args.seeds))
    print(f"torch {torch.__version__}, 1 thread, seeds {seeds}")
    boundaries(seeds, args.epochs, args.n_train)
    genders(seeds, args.gender_epochs)


if __name__ == "__main__":
    main()
