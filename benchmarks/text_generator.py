"""Benchmark for notebook 07: the lecture's word LSTM vs the course's training set-up.

Both train on the same tokens (the lecture's whitespace split, full frequency-ordered
vocabulary, no <unk>) and are validated on the same held-out end of the novel (last 10 %), with
the same validation routine (16 streams, windows of 64, state carried). The two runs are advanced
ALTERNATELY in one process, a few steps at a time, so that the load from other programs on the
machine hits both equally; only training steps are timed (validation is excluded for both).

Measured:
- target = the lecture set-up's validation loss after one full epoch (its training wall time);
- the course set-up's training wall time until its validation loss first reaches the target
  (checked every ``--course-eval-every`` steps, so slightly pessimistic for the course);
- the ratio of the two (goal: >= 5), and training throughput (tokens/s) of both.

Run from the repository root:

    python benchmarks/text_generator.py                 # full run (10-30 min on a loaded 2-core box)
    python benchmarks/text_generator.py --quick         # smoke test on a small slice (~1 min)
    python benchmarks/text_generator.py --ablation      # words/s of each change alone (~5 min)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

from lecture_utils.config import set_seed
from lecture_utils.data import load_text, split_contiguous
from lecture_utils.models import count_parameters
from lecture_utils.text import (
    AdaptiveConfig,
    AdaptiveWordLM,
    LectureConfig,
    LectureWordLSTM,
    RunConfig,
    TimedRun,
    encode_corpus,
    whitespace_tokens,
    word_vocab,
)


def course_setup(vocab_size: int, steps_per_epoch_hint: int) -> tuple[AdaptiveConfig, RunConfig]:
    """The course's training set-up on the lecture's tokens (what notebook 07 argues for)."""
    model = AdaptiveConfig(
        vocab_size=vocab_size,
        embed_size=64,  # as the lecture
        hidden_size=128,  # a wider LSTM is cheap next to the output layer
        cutoffs=(1000, 5000, 20000),  # head: 1,000 most frequent words + 3 clusters of rarer ones
        div_value=4.0,
    )
    run = RunConfig(
        n_streams=128,  # 8x the lecture's 16 streams: more tokens per optimiser step
        seq_len=32,  # as the lecture
        lr=0.02,  # bigger batches tolerate a bigger step
        clip=5.0,  # as the lecture
        schedule="cosine",  # warm up, then decay over two epochs
        total_steps=2 * steps_per_epoch_hint,
        warmup_steps=5,
        lr_min=0.002,
    )
    return model, run


def throughput_ablation(train_ids, val_ids, vocab_size: int, rounds: int, steps: int) -> None:
    """Words/s of the lecture set-up and of the course's changes added one at a time.

    The variants are advanced alternately (``steps`` steps each, ``rounds`` times) after one
    warm-up turn that is not counted; prints one line per variant with its ratio to the lecture.
    """
    lecture = LectureConfig()
    variants = {
        "lecture: Linear+softmax, B=16, H=64": (
            LectureWordLSTM(vocab_size, lecture.embed_size, lecture.hidden_size),
            RunConfig(),
        ),
        "+ adaptive softmax (B=16, H=64)": (
            AdaptiveWordLM(AdaptiveConfig(vocab_size, 64, 64, cutoffs=(1000, 5000, 20000))),
            RunConfig(),
        ),
        "+ 128 streams (H=64)": (
            AdaptiveWordLM(AdaptiveConfig(vocab_size, 64, 64, cutoffs=(1000, 5000, 20000))),
            RunConfig(n_streams=128),
        ),
        "+ LSTM 128 = course set-up": (
            AdaptiveWordLM(AdaptiveConfig(vocab_size, 64, 128, cutoffs=(1000, 5000, 20000))),
            RunConfig(n_streams=128),
        ),
    }
    runs = [TimedRun(m, train_ids, val_ids, c, name) for name, (m, c) in variants.items()]
    for run in runs:
        run.train(1)  # warm-up, then reset the counters
        run.train_time, run.tokens = 0.0, 0
    for _ in range(rounds):
        for run in runs:
            run.train(steps)
    base = runs[0].tokens_per_second
    for run in runs:
        print(
            f"{run.name:40s} {run.tokens_per_second:8,.0f} words/s  "
            f"{run.tokens_per_second / base:5.1f}x  ({run.steps - 1} steps)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (both runs)")
    parser.add_argument("--quick", action="store_true", help="small slice, smoke test only")
    parser.add_argument("--base-chunk", type=int, default=4, help="lecture steps per turn")
    parser.add_argument("--course-chunk", type=int, default=1, help="course steps per turn")
    parser.add_argument("--course-eval-every", type=int, default=5, help="course steps per check")
    parser.add_argument("--base-eval-every", type=int, default=100, help="lecture steps per check")
    parser.add_argument("--course-max-epochs", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument(
        "--ablation", action="store_true", help="only words/s of each change, added one by one"
    )
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    set_seed(args.seed)
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())

    text = load_text("anna_karenina")
    if args.quick:
        text = text[:300_000]
    tokens = whitespace_tokens(text)
    vocab = word_vocab(tokens)  # the lecture's: every word, most frequent first
    ids = encode_corpus(vocab, tokens)
    train_ids, val_ids = split_contiguous(ids, (0.9, 0.1))
    print(
        f"corpus: {len(tokens):,} words, vocabulary {len(vocab):,}, "
        f"train {len(train_ids):,} / val {len(val_ids):,} (last 10 %)"
    )

    if args.ablation:
        load = os.getloadavg()[0]
        throughput_ablation(train_ids, val_ids, len(vocab), rounds=3 if args.quick else 6, steps=5)
        print(f"threads {args.threads}, load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
        return

    lecture = LectureConfig()
    base = TimedRun(
        LectureWordLSTM(len(vocab), lecture.embed_size, lecture.hidden_size),
        train_ids,
        val_ids,
        RunConfig(n_streams=lecture.n_streams, seq_len=lecture.seq_len, lr=lecture.lr),
        name="lecture",
    )
    probe = RunConfig(n_streams=128)
    steps_hint = -(-(len(train_ids) // probe.n_streams - 1) // probe.seq_len)
    course_model, course_run = course_setup(len(vocab), steps_hint)
    course = TimedRun(AdaptiveWordLM(course_model), train_ids, val_ids, course_run, name="course")
    course_max_steps = int(args.course_max_epochs * course.steps_per_epoch)
    for run in (base, course):
        print(
            f"{run.name:8s} params {count_parameters(run.model):>10,}  "
            f"B={run.config.n_streams:<4d} T={run.config.seq_len}  "
            f"steps/epoch {run.steps_per_epoch}"
        )

    base.validate()
    course.validate()
    while base.steps < base.steps_per_epoch:
        base.train(min(args.base_chunk, base.steps_per_epoch - base.steps))
        if base.steps % args.base_eval_every == 0 and base.steps < base.steps_per_epoch:
            base.validate()
            print(
                f"  lecture step {base.steps:4d}  {base.train_time:7.1f} s  val {base.curve[-1].val_loss:.3f}"
            )
        if course.steps < course_max_steps:
            course.train(args.course_chunk)
            if course.steps % args.course_eval_every == 0:
                course.validate()
                print(
                    f"  course  step {course.steps:4d}  {course.train_time:7.1f} s  val {course.curve[-1].val_loss:.3f}"
                )
    target = base.validate()
    print(f"lecture: one epoch in {base.train_time:.1f} s of training, val loss {target:.3f}")
    while course.time_to_reach(target) is None and course.steps < course_max_steps:
        course.train(args.course_eval_every)  # the lecture run is over: finish the course alone
        course.validate()
        print(
            f"  course  step {course.steps:4d}  {course.train_time:7.1f} s  val {course.curve[-1].val_loss:.3f}"
        )

    reach = course.time_to_reach(target)
    reach_point = next(
        (p for p in course.curve if reach is not None and p.train_time == reach), None
    )
    results = {
        "started": started,
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "threads": args.threads,
        "load_avg_1_5_15_before": [round(x, 2) for x in load_before],
        "load_avg_1_5_15_after": [round(x, 2) for x in os.getloadavg()],
        "quick": args.quick,
        "vocab": len(vocab),
        "train_tokens": len(train_ids),
        "val_tokens": len(val_ids),
        "target_val_loss": round(target, 4),
        "lecture_epoch_train_s": round(base.train_time, 1),
        "lecture_tokens_per_s": round(base.tokens_per_second),
        "course_time_to_target_s": None if reach is None else round(reach, 1),
        "course_steps_to_target": None if reach_point is None else reach_point.steps,
        "course_tokens_to_target": None if reach_point is None else reach_point.tokens,
        "course_tokens_per_s": round(course.tokens_per_second),
        "course_best_val_loss": round(min(p.val_loss for p in course.curve), 4),
        "speedup_time_to_target": None if reach is None else round(base.train_time / reach, 1),
        "throughput_ratio": round(course.tokens_per_second / base.tokens_per_second, 1),
        "lecture_curve": [vars(p) for p in base.curve],
        "course_curve": [vars(p) for p in course.curve],
    }
    print(json.dumps({k: v for k, v in results.items() if not k.endswith("curve")}, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
