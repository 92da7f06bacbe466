"""Time to reach a validation accuracy: our "fast" recipe vs the write-up's recipe.

On one fold of the 4-class intra-patient 5-fold split (the same training,
validation and test beats for both), train the multi-scale CNN with each
recipe of :data:`ecgtut.train.RECIPES` and report the wall time until the
validation accuracy first reaches ``--threshold`` (default 0.99, the 4-class
accuracy the write-up reports after 100 epochs), and the ratio of the two.

The write-up's recipe (RMSprop 1e-3, batch 64, L2 1e-4 on the convolution
kernels, 100 epochs) would take far too long on a laptop CPU, so it is
stopped as soon as it reaches the threshold or after ``--writeup-minutes``
(default 12). If it has not reached the threshold by then, the ratio printed
is a lower bound (marked ">=").

Before that (``--part steps``, the default ``--part all`` runs both), it times
training epochs of the "fast" recipe in each arithmetic, each in a fresh
process, alternated ``--repeats`` times (medians; ratios within one run, since
absolute times vary from day to day):

- ``float32, default allocator``: the float32 training step as it was before
  :func:`ecgtut.train.keep_freed_memory` (glibc returns every freed block of a
  few MB to the kernel, and the next step page-faults it back);
- ``float32``: what :func:`ecgtut.train.fit` does now;
- ``bfloat16 (guarded)``: the ``"auto"`` path where the CPU computes bfloat16
  natively: the guard runs first and its verdict is printed. Without native
  bfloat16 this is emulated (slow) and labelled so.

Run from the repository root (needs the MIT-BIH data, ``$ECGTUT_DATA``)::

    python tests/benchmarks/bench_train.py [--part all|steps|recipes] [--threshold 0.99]
        [--writeup-minutes 12] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings

import numpy as np

from ecgtut.cache import load_beats
from ecgtut.crossval import kfold_splits
from ecgtut.model import MultiScaleCNN
from ecgtut.train import RECIPES, fit, predict, set_seed

#: The arithmetic variants timed by ``--part steps``: name -> (precision, tune the allocator)
STEP_VARIANTS = {
    "float32, default allocator": ("float32", False),
    "float32": ("float32", True),
    "bfloat16 (guarded)": ("bfloat16", True),
}


def time_epoch(variant, fold, n_beats, data_dir):
    """Seconds of one training epoch (the second of two) on ``n_beats`` training beats."""
    import ecgtut.train

    precision, tune = STEP_VARIANTS[variant]
    if not tune:  # the allocator as PyTorch leaves it: what fit did before
        ecgtut.train.keep_freed_memory = lambda: False
    X, y = load_beats(data_dir, progress=False).xy(("N", "S", "V", "F"))
    tr, va, _ = list(kfold_splits(y, folds=5, seed=0))[fold]
    n_full = len(tr)
    tr = tr[:n_beats]
    set_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, history = fit(MultiScaleCNN(n_classes=4), (X[tr], y[tr]), (X[va[:2048]], y[va[:2048]]),
                         epochs=2, seed=0, precision=precision, progress=False)
    seconds = history["seconds"][1] - history["seconds"][0]
    info = history["precision"]
    return {"variant": variant, "seconds_per_epoch": seconds * n_full / len(tr),
            "trained_in": info["train"], "native_bf16": info["native_bf16"],
            "guard": info["guard"] and {k: info["guard"][k] for k in ("ok", "layer", "error")},
            "warnings": [str(w.message) for w in caught], "cpu": info["cpu_capability"],
            "threads": info["threads"], "torch": info["torch"]}


def bench_steps(args):
    """Median seconds per epoch of every variant, each in a fresh process, alternated."""
    runs = {v: [] for v in STEP_VARIANTS}
    for _ in range(args.repeats):
        for variant in STEP_VARIANTS:
            cmd = [sys.executable, __file__, "--worker", variant, "--fold", str(args.fold),
                   "--step-beats", str(args.step_beats)] + (["--data", args.data] if args.data
                                                             else [])
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode:
                sys.exit(f"{variant} failed:\n{proc.stderr}")
            runs[variant].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    base = np.median([r["seconds_per_epoch"] for r in runs["float32, default allocator"]])
    first = runs["float32"][0]
    print(f"seconds per training epoch of fold {args.fold + 1} (scaled from "
          f"{args.step_beats} beats; median of {args.repeats}, each in a fresh process); "
          f"torch {first['torch']}, {first['cpu']}, {first['threads']} threads, native "
          f"bfloat16: {first['native_bf16']}")
    summary = {}
    for variant, rs in runs.items():
        sec = float(np.median([r["seconds_per_epoch"] for r in rs]))
        note = f"trained in {rs[0]['trained_in']}"
        if rs[0]["guard"]:
            g = rs[0]["guard"]
            note += f"; guard {'passed' if g['ok'] else 'FAILED'} (worst layer {g['layer']}: " \
                    f"relative error {g['error']:.2g})"
        if variant.startswith("bfloat16") and not rs[0]["native_bf16"]:
            note += "; emulated: this CPU has no native bfloat16"
        print(f"  {variant:<28}{sec:7.1f} s   {base / sec:5.2f}x the float32 step before"
              f"   ({note})")
        for w in rs[0]["warnings"]:
            print(f"      warning: {w}")
        summary[variant] = {"seconds_per_epoch": sec, "speedup": float(base / sec),
                            "runs": rs}
    return summary


def time_to(history, threshold):
    """Seconds until val_acc first reaches threshold (None if never), and that epoch."""
    for epoch, acc, seconds in zip(history["epoch"], history["val_acc"], history["seconds"],
                                   strict=True):
        if acc >= threshold:
            return seconds, epoch
    return None, None


def run(recipe, data, threshold, max_seconds, stop_at_threshold):
    X_tr, y_tr, X_va, y_va, X_te, y_te = data

    def callback(history):
        reached = history["val_acc"][-1] >= threshold
        return history["seconds"][-1] > max_seconds or (stop_at_threshold and reached)

    set_seed(0)
    net = MultiScaleCNN(n_classes=4)
    net, history = fit(net, (X_tr, y_tr), (X_va, y_va), recipe=recipe, seed=0, callback=callback,
                       desc=recipe)
    seconds, epoch = time_to(history, threshold)
    test_acc = float(np.mean(predict(net, X_te)[0] == y_te))
    return {"recipe": recipe, "settings": RECIPES[recipe], "seconds_to_threshold": seconds,
            "epoch_reached": epoch, "epochs_run": len(history["epoch"]),
            "seconds_run": history["seconds"][-1], "best_val_acc": max(history["val_acc"]),
            "test_acc_val_selected": test_acc, "history": history}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.99, help="validation accuracy 0-1")
    parser.add_argument("--writeup-minutes", type=float, default=12.0,
                        help="time cap of the write-up's recipe (default 12)")
    parser.add_argument("--fold", type=int, default=0, help="which of the 5 folds (default 0)")
    parser.add_argument("--data", help="MIT-BIH folder (default $ECGTUT_DATA)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--part", choices=("all", "steps", "recipes"), default="all",
                        help="epochs per arithmetic, time to threshold per recipe, or both")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each step variant")
    parser.add_argument("--step-beats", type=int, default=20480,
                        help="training beats of a timed epoch (scaled to the fold's)")
    parser.add_argument("--worker", choices=tuple(STEP_VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:  # one timed variant, in its own process (the allocator is per process)
        print(json.dumps(time_epoch(args.worker, args.fold, args.step_beats, args.data)))
        return
    results = {}
    if args.part in ("all", "steps"):
        results["steps"] = bench_steps(args)
    if args.part in ("all", "recipes"):
        results["recipes"] = bench_recipes(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def bench_recipes(args):
    """Time to reach the threshold: the "fast" recipe against the write-up's."""
    X, y = load_beats(args.data, progress=False).xy(("N", "S", "V", "F"))
    tr, va, test_idx = list(kfold_splits(y, folds=5, seed=0))[args.fold]  # as `reproduce`
    data = (X[tr], y[tr], X[va], y[va], X[test_idx], y[test_idx])
    print(f"fold {args.fold + 1}/5: {len(tr)} training, {len(va)} validation, "
          f"{len(test_idx)} test beats; threshold val_acc >= {args.threshold:.4f}")

    start = time.perf_counter()
    ours = run("fast", data, args.threshold, max_seconds=np.inf, stop_at_threshold=False)
    theirs = run("writeup", data, args.threshold, 60 * args.writeup_minutes,
                 stop_at_threshold=True)
    for r in (ours, theirs):
        reached = (f"{r['seconds_to_threshold']:.1f} s (epoch {r['epoch_reached']})"
                   if r["seconds_to_threshold"] is not None else "not reached")
        print(f"{r['recipe']:>8}: {reached}; ran {r['epochs_run']} epochs in "
              f"{r['seconds_run']:.0f} s, best val_acc {r['best_val_acc']:.4f}, "
              f"test acc {r['test_acc_val_selected']:.4f}")
    if ours["seconds_to_threshold"] is None:
        ratio, text = None, "our recipe did not reach the threshold: no ratio"
    elif theirs["seconds_to_threshold"] is None:
        ratio = theirs["seconds_run"] / ours["seconds_to_threshold"]
        text = (f"speed-up >= {ratio:.1f}x (the write-up recipe, capped at "
                f"{args.writeup_minutes:g} min / {theirs['epochs_run']} of its 100 epochs, "
                f"never reached {args.threshold:.4f})")
    else:
        ratio = theirs["seconds_to_threshold"] / ours["seconds_to_threshold"]
        text = f"speed-up {ratio:.1f}x (goal >= 10x)"
    print(text)
    print(f"total {time.perf_counter() - start:.0f} s; timings on a shared machine are noisy")
    return {"threshold": args.threshold, "fold": args.fold, "ratio": ratio,
            "lower_bound": theirs["seconds_to_threshold"] is None, "fast": ours,
            "writeup": theirs}


if __name__ == "__main__":
    main()
