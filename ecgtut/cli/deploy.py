"""Chapter 08's tools to build on: ``detect`` (score a QRS detector) and ``train`` (a model).

Example
-------
>>> from ecgtut.cli import build_parser
>>> args = build_parser().parse_args(["train", "--fast", "--save", "model.pt"])
>>> args.split, args.features, args.fast, args.save.endswith("model.pt")
('ds1', 'adaptive', True, True)
"""

from __future__ import annotations

import argparse

from ecgtut.cli._common import (
    add_data_option,
    file_path,
    int_at_least,
    json_path,
    record_list,
    report,
    save_results,
    target_problem,
)
from ecgtut.database import DataError

#: Detectors that need a package the course does not install, and that package
OPTIONAL_DETECTORS = {"neurokit": "neurokit2", "neurokit-pantompkins": "neurokit2"}


def _check_detector(name):
    """DataError now, before any record is read, if ``name`` needs a package not installed."""
    import importlib.util

    package = OPTIONAL_DETECTORS.get(name)
    if package and importlib.util.find_spec(package) is None:
        raise DataError(f"detector {name!r} needs {package}, which is not installed: "
                        f"pip install {package}")


def _cmd_detect(args):
    from ecgtut.detect_scoring import format_detector_table, score_detector

    _check_detector(args.detector)
    result = score_detector(args.data, args.records, detector=args.detector,
                            progress=not args.quiet)
    problem = save_results(args, result)
    print(format_detector_table({args.detector: result}))
    worst = sorted(result["per_record"].items(), key=lambda kv: kv[1]["fn"] + kv[1]["fp"])[-3:]
    print("most errors: " + ", ".join(f"{r} (FN {v['fn']}, FP {v['fp']})" for r, v in worst[::-1]))
    return report(args, problem)


def _cmd_train(args):
    from ecgtut.deploy import save_model, train_model

    problem = target_problem("--save", args.save, create_folders=True)
    if problem:  # now, not after minutes of training
        raise DataError(problem)
    net, meta = train_model(args.data, split=args.split, features=args.features,
                            weighted=args.weighted, epochs=args.epochs, seed=args.seed,
                            fast=args.fast,
                            progress=not args.quiet)
    save_model(args.save, net, meta)
    print(f"model trained on {len(meta['records'])} records ({args.split}, {args.features}, "
          f"{meta['settings']['epochs']} epochs) -> {args.save}")
    return 0


# ----------------------------------------------------------------------------- parser


def add_parsers(sub):
    """Add detect and train to the sub-parsers ``sub``."""
    p = sub.add_parser("detect", help="score the QRS detector over the database (chapter 08)")
    add_data_option(p)
    p.add_argument("--records", type=record_list, default=None,
                   help="records, e.g. '100,207' (default: all 48)")
    p.add_argument("--detector", default="ecgtut",
                   choices=("ecgtut", "xqrs", *OPTIONAL_DETECTORS),
                   help="ecgtut's Pan & Tompkins (default), wfdb's XQRS, or neurokit2's "
                   "(pip install neurokit2)")
    p.add_argument("--json", metavar="FILE", type=json_path, help="write the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_detect)

    p = sub.add_parser("train", help="train and save a model to deploy (chapter 08)")
    add_data_option(p)
    p.add_argument("--split", choices=("ds1", "all"), default="ds1",
                   help="train on the 22 DS1 records (default) or all 44")
    p.add_argument("--features", choices=("adaptive", "beat", "beat+rr"), default="adaptive",
                   help="adaptive (default): chapter 07's recipe (a linear model and a "
                   "FusionCNN, settings fixed by the recipe); beat or beat+rr: chapter 05's "
                   "network, with --weighted and --epochs")
    p.add_argument("--weighted", action=argparse.BooleanOptionalAction, default=False,
                   help="class-weighted loss of chapter 05's network (default: unweighted)")
    p.add_argument("--epochs", type=int_at_least(1), default=6,
                   help="epochs of chapter 05's network (default 6)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="random seed (default 0)")
    p.add_argument("--fast", action="store_true", help="smoke run: 3000 beats, 1 or 2 epochs")
    p.add_argument("--save", metavar="FILE", required=True, type=file_path("--save", "model.pt"),
                   help="model file to write (.pt); checked before training")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_train)
