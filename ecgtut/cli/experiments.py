"""The experiments of chapters 06 and 07: ``reproduce`` and ``interpatient``.

Example
-------
>>> from ecgtut.cli import build_parser
>>> args = build_parser().parse_args(["interpatient", "--model", "cnn", "--features", "beat+rr"])
>>> args.model, args.features, args.weighted, args.fast
('cnn', 'beat+rr', None, False)
"""

from __future__ import annotations

import argparse

from ecgtut.cli._common import (
    PRECISIONS,
    add_data_option,
    fraction,
    int_at_least,
    json_path,
    positive_float,
    report,
    save_results,
)


def _cmd_reproduce(args):
    from ecgtut.experiment import format_reproduce_report, reproduce

    result = reproduce(
        args.data, classes=args.classes, folds=args.folds, epochs=args.epochs,
        seed=args.seed, fast=args.fast, progress=not args.quiet, precision=args.precision,
    )
    problem = save_results(args, result)  # before printing: a closed pipe cannot lose it
    print(format_reproduce_report(result))
    return report(args, problem)


# ----------------------------------------------------------------------------- interpatient


#: Options of chapter 05's network only (``--model cnn``), and their defaults there.
_CNN_OPTIONS = {"features": "beat", "weighted": True, "select": "accuracy", "epochs": None,
                "s_threshold": None, "n_ratio": None, "augment": True, "precision": "auto"}


def _cmd_interpatient(args):
    given = [k for k in _CNN_OPTIONS if getattr(args, k) is not None]
    if args.model == "adaptive":
        if given:
            args.usage_error(f"--{given[0].replace('_', '-')} is an option of --model cnn "
                             "(chapter 05's network); the default recipe fixes its own")
        from ecgtut.recipe import adaptive_interpatient, format_adaptive_report

        result = adaptive_interpatient(
            args.data, recipe={"seeds": tuple(range(args.seed, args.seed + args.ensemble))},
            fast=args.fast, progress=not args.quiet)
        report_text = format_adaptive_report(result)
    else:
        from ecgtut.patients import format_interpatient_report
        from ecgtut.tuning import interpatient

        o = {k: _CNN_OPTIONS[k] if getattr(args, k) is None else getattr(args, k)
             for k in _CNN_OPTIONS}
        result = interpatient(
            args.data, features=o["features"], weighted=o["weighted"], seed=args.seed,
            select=o["select"], fast=args.fast, progress=not args.quiet,
            precision=o["precision"], epochs=o["epochs"], n_ratio=o["n_ratio"],
            augment=o["augment"], seeds=range(args.seed, args.seed + args.ensemble),
            s_threshold=o["s_threshold"])
        report_text = format_interpatient_report(result)
    problem = save_results(args, result)  # before printing: a closed pipe cannot lose it
    print(report_text)
    return report(args, problem)


# ----------------------------------------------------------------------------- parser


def add_parsers(sub):
    """Add reproduce and interpatient to the sub-parsers ``sub``."""
    p = sub.add_parser("reproduce", help="cross-validate the multi-scale CNN (paper's Exp. 3)")
    add_data_option(p)
    p.add_argument("--classes", type=int, choices=(4, 5), default=4,
                   help="4 (N, S, V, F) or 5 (with Q) classes (default 4)")
    p.add_argument("--folds", type=int_at_least(2),
                   help="number of folds, 2 or more (default 5; 2 with --fast)")
    p.add_argument("--epochs", type=int_at_least(1),
                   help="maximum epochs per fold (default: the recipe's)")
    p.add_argument("--seed", type=int_at_least(0), default=0,
                   help="random seed, 0 or more (default 0); fold k of seed s uses seed "
                   "s * folds + k")
    p.add_argument("--fast", action="store_true",
                   help="smoke run: a few thousand beats, 2 folds, 2 epochs")
    p.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="training arithmetic (default auto: bfloat16 where the CPU computes it "
                   "natively and it agrees with float32 layer by layer, else float32)")
    p.add_argument("--json", metavar="FILE", type=json_path, help="write the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_reproduce, usage_error=p.error)

    p = sub.add_parser("interpatient", help="train on DS1, score on DS2: patients never seen "
                       "in training (chapter 07)")
    add_data_option(p)
    p.add_argument("--model", choices=("adaptive", "cnn"), default="adaptive",
                   help="adaptive (default): chapter 07's recipe, chosen on DS1 (a linear "
                   "model and a FusionCNN on the rhythm and the beat relative to its "
                   "recording); cnn: chapter 05's network, with the options below")
    cnn = p.add_argument_group("chapter 05's network (--model cnn only)")
    cnn.add_argument("--features", choices=("beat", "beat+rr"), default=None,
                     help="the beat alone, or with its RR-interval features (default beat)")
    cnn.add_argument("--weighted", action=argparse.BooleanOptionalAction, default=None,
                     help="class-weighted loss (default: weighted)")
    cnn.add_argument("--select", choices=("accuracy", "balanced_accuracy", "last"),
                     default=None,
                     help="what the epoch is chosen on, on held-out DS1 patients (default "
                     "accuracy; balanced_accuracy: the mean of the per-class sensitivities; "
                     "last: all of DS1 trains for --epochs epochs)")
    cnn.add_argument("--epochs", type=int_at_least(1), default=None,
                     help="training epochs (default: the recipe's 15)")
    cnn.add_argument("--s-threshold", type=fraction, default=None,
                     help="call a beat S from this S probability on (choose it on DS1)")
    cnn.add_argument("--n-ratio", type=positive_float, default=None,
                     help="keep at most this many N training beats per beat of the other "
                     "classes (default: all)")
    cnn.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                     help="random shifts and stretches of the training beats (default: on)")
    cnn.add_argument("--precision", choices=PRECISIONS, default=None,
                     help="training arithmetic (default auto, as for reproduce)")
    p.add_argument("--ensemble", type=int_at_least(1), default=1,
                   help="networks trained with seeds SEED, SEED+1, ..., probabilities "
                   "averaged (default 1)")
    p.add_argument("--seed", type=int_at_least(0), default=0,
                   help="random seed, 0 or more (default 0)")
    p.add_argument("--fast", action="store_true",
                   help="smoke run: a few thousand beats, 1 or 2 epochs")
    p.add_argument("--json", metavar="FILE", type=json_path, help="write the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_interpatient, usage_error=p.error)
