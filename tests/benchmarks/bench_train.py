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

Run from the repository root (needs the MIT-BIH data, ``$ECGTUT_DATA``)::

    python tests/benchmarks/bench_train.py [--threshold 0.99] [--writeup-minutes 12]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from ecgtut.beats import load_beats
from ecgtut.evaluate import kfold_splits
from ecgtut.model import MultiScaleCNN
from ecgtut.train import RECIPES, fit, predict, set_seed


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
    net, history = fit(net, X_tr, y_tr, X_va, y_va, recipe=recipe, seed=0, callback=callback,
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
    args = parser.parse_args(argv)

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
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threshold": args.threshold, "fold": args.fold, "ratio": ratio,
                       "lower_bound": theirs["seconds_to_threshold"] is None,
                       "fast": ours, "writeup": theirs}, f, indent=1)


if __name__ == "__main__":
    main()
