"""Notebook 04 measured: the lecture's names generator vs a bigram vs the improved models.

    python benchmarks/names.py            # full run (a few minutes on 2 cores)
    python benchmarks/names.py --quick    # smoke run: fewer epochs and seeds

Everything is seeded and uses the same training names and the same held-out names (female names,
``train_val_split(val_fraction=0.2, seed=0)``). Every model is scored on the same predictions
(``lecture_utils.names`` docstring): the letters after the first one plus the end of the name.
Prints Markdown tables for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from lecture_utils import names as N
from lecture_utils.config import set_seed
from lecture_utils.data import load_names, train_val_split
from lecture_utils.models import CharRNN
from lecture_utils.train import evaluate, fit

VAL_FRACTION = 0.2  # 64 of the 320 female names are held out
IMPROVED = dict(hidden_size=128, cell="gru", embed_size=32, dropout=0.3)  # the notebook's model
LR, BATCH = 3e-3, 32


def train_improved(train, vocab, val_batch, epochs, seed, unscored_prefix_names=None):
    set_seed(seed)
    model = CharRNN(len(vocab), **IMPROVED)
    batches = N.NameBatches(unscored_prefix_names or train, vocab, BATCH, seed=seed)
    history = fit(model, batches, [val_batch], epochs=epochs, lr=LR, progress=False)
    return model, history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and seeds (smoke run)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest here)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = [0, 1] if args.quick else [0, 1, 2]
    lecture_epochs, epochs, n_ensemble = (20, 5, 2) if args.quick else (100, 25, 5)

    names = load_names(gender="f")
    train, val = train_val_split(names, val_fraction=VAL_FRACTION, seed=0)
    print(f"female names: {len(names)}, train {len(train)}, held out {len(val)}")
    scored = sum(len(n) for n in val)
    print(f"scored predictions on the held-out names: {scored}\n")
    rows = []

    # (a) bigram counts; alpha chosen on the held-out names (an advantage for the bigram)
    alphas = [0.01, 0.03, 0.1, 0.3, 1.0]
    alphabet = sorted(set("".join(names)))
    bigram = {a: N.BigramModel.fit(train, a, chars=alphabet).name_loss(val) for a in alphas}
    best_alpha = min(bigram, key=bigram.get)
    rows.append(
        (f"bigram counts, alpha={best_alpha:g} (best on val)", bigram[best_alpha], None, 0.0)
    )

    # (b) the lecture's configuration: space padding, hidden 12, Adam 0.01, full batch, 100 epochs
    lecture_final, lecture_best, lecture_time = [], [], []
    for seed in seeds:
        set_seed(seed)
        data = N.lecture_data(train, alphabet="".join(names))
        model = N.LectureRNN(data.dict_size, data.dict_size, hidden_dim=12)
        start = time.perf_counter()
        curves = N.train_lecture(
            model,
            data,
            lecture_epochs,
            0.01,
            eval_fn=lambda m, d=data: N.lecture_name_loss(m, d, val),
        )
        lecture_time.append(time.perf_counter() - start)
        lecture_final.append(curves["val"][-1])
        lecture_best.append(min(curves["val"]))
    lecture = statistics.mean(lecture_final)
    rows.append(
        (
            f"lecture config, epoch {lecture_epochs} (as in the lecture)",
            lecture,
            lecture_final,
            statistics.mean(lecture_time),
        )
    )
    rows.append(
        (
            "lecture config, its best epoch (for reference)",
            statistics.mean(lecture_best),
            lecture_best,
            None,
        )
    )

    # (c) the improved model: <bos>/<eos>, padding ignored, mini-batches, GRU + embedding, clipping
    vocab = N.names_vocab(names)
    val_batch = N.encode_names(val, vocab, unscored=1)
    singles, times, best_epochs, models = [], [], [], []
    for seed in range(max(n_ensemble, len(seeds))):
        start = time.perf_counter()
        model, history = train_improved(train, vocab, val_batch, epochs, seed)
        times.append(time.perf_counter() - start)
        models.append(model)
        if seed in seeds:
            singles.append(history.best_val_loss)
            best_epochs.append(history.best_epoch)
    rows.append(
        (
            "GRU 128, embedding 32 (best epoch)",
            statistics.mean(singles),
            singles,
            statistics.mean(times),
        )
    )
    ensemble = evaluate(N.AveragedLM(models[:n_ensemble]), [val_batch])
    rows.append(
        (
            f"average of {n_ensemble} such GRUs (seeds 0..{n_ensemble - 1})",
            ensemble,
            None,
            sum(times[:n_ensemble]),
        )
    )

    # (c') one model for both genders, a gender mark first; scored on the same female names
    male = load_names(gender="m")
    male_train, _ = train_val_split(male, val_fraction=VAL_FRACTION, seed=0)
    marked_train = N.mark_gender([(n, "f") for n in train] + [(n, "m") for n in male_train])
    marked_val = N.mark_gender([(n, "f") for n in val])
    gvocab = N.names_vocab(marked_train + marked_val + N.mark_gender([(n, "m") for n in male]))
    gval_batch = N.encode_names(marked_val, gvocab, unscored=2)
    gender, gtimes, gmodels = [], [], []
    for seed in range(max(n_ensemble, len(seeds))):
        start = time.perf_counter()
        gmodel, history = train_improved(marked_train, gvocab, gval_batch, epochs, seed)
        gtimes.append(time.perf_counter() - start)
        gmodels.append(gmodel)
        if seed in seeds:
            gender.append(history.best_val_loss)
    rows.append(
        (
            "GRU, female + male names with a gender mark",
            statistics.mean(gender),
            gender,
            statistics.mean(gtimes),
        )
    )
    gensemble = evaluate(N.AveragedLM(gmodels[:n_ensemble]), [gval_batch])
    rows.append(
        (
            f"average of {n_ensemble} such gender-marked GRUs",
            gensemble,
            None,
            sum(gtimes[:n_ensemble]),
        )
    )

    print("| model | val NLL, nats/prediction | / lecture config | per seed | train time, s |")
    print("|---|---|---|---|---|")
    for label, value, per_seed, seconds in rows:
        seeds_txt = ", ".join(f"{v:.3f}" for v in per_seed) if per_seed else "—"
        time_txt = f"{seconds:.1f}" if seconds else "—"
        print(f"| {label} | {value:.3f} | {value / lecture:.3f} | {seeds_txt} | {time_txt} |")
    print(
        f"\ngoal: <= 0.85 x lecture = {0.85 * lecture:.3f}; best epochs of the GRU: {best_epochs}\n"
    )

    # samples: new / duplicate shares and lengths (1000 names from the seed-0 GRU)
    n_samples = 200 if args.quick else 1000
    real_mean = statistics.mean(map(len, names))
    print(f"real female names: mean length {real_mean:.2f}")
    print("| sampler | new | duplicates | mean length |")
    print("|---|---|---|---|")
    for label, kwargs in [
        ("GRU, T=1.0", {}),
        ("GRU, T=0.7", {"temperature": 0.7}),
        ("GRU, top-p 0.9", {"top_p": 0.9}),
        ("GRU, greedy (T=0)", {"temperature": 0}),
    ]:
        samples = N.sample_names(models[0], vocab, n_samples, seed=0, **kwargs)
        s = N.sample_stats(samples, train)
        print(f"| {label} | {s.new_share:.1%} | {s.duplicate_share:.1%} | {s.mean_length:.2f} |")
    b = N.sample_stats(
        N.BigramModel.fit(train, best_alpha, chars=alphabet).sample(n_samples, seed=0), train
    )
    print(f"| bigram | {b.new_share:.1%} | {b.duplicate_share:.1%} | {b.mean_length:.2f} |")

    # speed: 100 names of up to 20 characters, stateful vs re-running the prefix (same names)
    n_names, max_len = 100, 20
    model = models[0]
    speed = N.compare_generation_speed(model, vocab, n_names, max_len, rounds=5)
    assert speed["same"], "the two generators must produce the same names"
    timings = {"stateful": speed["stateful"], "re-run": speed["rerun"]}
    chars = speed["chars"]
    print(
        f"\nspeed, {n_names} names up to {max_len} chars (T=1.0, {chars} chars in all, identical "
        f"outputs): stateful {timings['stateful']:.3f} s, re-run {timings['re-run']:.3f} s, "
        f"ratio {timings['re-run'] / timings['stateful']:.2f}x"
    )
    print("\n| characters | stateful, ms | re-run, ms | ratio |")
    print("|---|---|---|---|")
    for n in (10, 20, 40, 80):
        pairs = [  # alternate the two, so that other work on the machine disturbs both alike
            (
                N.generation_cost(model, n, rerun=False, repeats=1),
                N.generation_cost(model, n, rerun=True, repeats=1),
            )
            for _ in range(5)
        ]
        fast, slow = min(p[0] for p in pairs), min(p[1] for p in pairs)
        print(f"| {n} | {fast * 1000:.1f} | {slow * 1000:.1f} | {slow / fast:.1f} |")


if __name__ == "__main__":
    main()
