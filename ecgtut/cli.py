"""The ``ecgtut`` command: the data, the experiments of chapters 06-07, and chapter 08's tools.

Run ``ecgtut --help`` (or ``python -m ecgtut --help``) for the list, and
``ecgtut COMMAND --help`` for each command. Problems with the data are reported
as one line on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import tempfile
import time
import warnings
from pathlib import Path

from ecgtut.data import AAMI_NAMES
from ecgtut.database import RECORDS, DataError, DataWarning

EXIT_DATA_ERROR = 2
EXIT_VERIFY_FAILED = 1
# ecgtut.precision.PRECISIONS, written out: the data commands must not import torch
PRECISIONS = ("auto", "float32", "bfloat16")


def _add_data_option(parser, help="database folder (default: $ECGTUT_DATA, else the "
                     "download folder)"):
    parser.add_argument("--data", metavar="DIR", help=help)


def _int_at_least(minimum):
    """An argparse type: a whole number no smaller than ``minimum``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def _float_in(low, high, name):
    """An argparse type: a number in (low, high] (``high`` None: no upper bound)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (value > low and (high is None or value <= high)):
            raise argparse.ArgumentTypeError(f"must be {name}, got {value}")
        return value
    return parse


_fraction = _float_in(0.0, 1.0, "above 0 and at most 1")
_positive_float = _float_in(0.0, None, "above 0")


def _json_path(text):
    """An argparse type: the file name given to ``--json`` (``~`` expanded)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("--json needs a file name, e.g. --json results.json")
    if text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{text!r} ends with '/': give a file name, "
                                         f"e.g. {text}results.json")
    return str(Path(text).expanduser())  # '~' is not expanded by the shell in --json=~/x.json


def _record_list(text):
    """An argparse type: records separated by commas or spaces, at least one."""
    records = text.replace(",", " ").split()
    if not records:
        raise argparse.ArgumentTypeError(f"--records names no record ({text!r}); give e.g. "
                                         "'100,101', or leave it out for all 44")
    return records


def _json_target_problem(path):
    """Why ``path`` cannot be written (checked before a long run starts), or None."""
    target = Path(path)
    folder = target.resolve().parent
    if not folder.is_dir():
        return f"cannot write --json {path}: folder {folder} does not exist"
    if target.is_dir():
        return f"cannot write --json {path}: it is a folder"
    if target.exists() and not os.access(target, os.W_OK):
        return f"cannot write --json {path}: the file is not writable"
    if not target.exists() and not os.access(folder, os.W_OK):
        return f"cannot write --json {path}: folder {folder} is not writable"
    return None


def _write_json(path, obj):
    """Write ``obj`` as JSON: whole or not at all for a file, straight through for a device."""
    text = json.dumps(obj, indent=2) + "\n"
    target = Path(path)
    if target.exists() and not stat.S_ISREG(target.stat().st_mode):  # /dev/stdout, a fifo...
        with open(target, "w") as f:
            f.write(text)
        return
    from ecgtut.cache import write_atomic

    write_atomic(target, lambda f: f.write(text.encode()), prefix=f".{target.name}.",
                 suffix=".tmp")


def _save_results(args, obj):
    """Write ``--json``; if that fails now, keep the results elsewhere and say where.

    Returns None when all went well, else the error line to print (the run's
    status becomes 2, but nothing it computed is lost).
    """
    if not args.json:
        return None
    try:
        _write_json(args.json, obj)
        return None
    except OSError as exc:
        from ecgtut.database import cache_dir

        fallback = cache_dir() / "results" / f"{args.command}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        try:
            fallback.parent.mkdir(parents=True, exist_ok=True)
            _write_json(fallback, obj)
        except OSError:
            fallback = Path(tempfile.mkdtemp(prefix="ecgtut-")) / fallback.name
            _write_json(fallback, obj)
        return (f"cannot write --json {args.json} ({exc.strerror or exc}); "
                f"the results are in {fallback}")


# ----------------------------------------------------------------------------- download


def _cmd_download(args):
    from ecgtut.database import download_mitdb

    folder = download_mitdb(args.data, progress=not args.quiet)
    print(f"MIT-BIH downloaded and verified in {folder}")
    print(f"use it with: export ECGTUT_DATA={folder}")
    return 0


# ----------------------------------------------------------------------------- verify


def _cmd_verify(args):
    from ecgtut.database import find_data_dir, verify_mitdb

    folder = find_data_dir(args.data)
    problems = verify_mitdb(folder)
    for name, why in problems.items():
        print(f"{why}: {folder / name}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} file(s) do not match PhysioNet's checksums", file=sys.stderr)
        return EXIT_VERIFY_FAILED
    print(f"all 144 files of the 48 records match PhysioNet's checksums ({folder})")
    return 0


# ----------------------------------------------------------------------------- prepare


def _counts_table(counts):
    total = sum(counts.values())
    lines = [f"{'class':<6}{'beats':>8}{'share':>9}  meaning"]
    for c, n in counts.items():
        share = 100 * n / total if total else 0.0  # a record may hold no beats at all
        lines.append(f"{c:<6}{n:>8}{share:>8.2f}%  {AAMI_NAMES[c]}")
    lines.append(f"{'total':<6}{total:>8}")
    return "\n".join(lines)


def _cmd_prepare(args):
    from ecgtut.cache import load_beats

    start = time.perf_counter()
    records = args.records or RECORDS
    beats = load_beats(args.data, records=records, cache=not args.no_cache, progress=not args.quiet)
    seconds = time.perf_counter() - start
    counts = beats.counts()
    dropped, skipped = sum(beats.dropped.values()), sum(beats.skipped.values())
    invalid, refused = sum(beats.invalid_samples.values()), sum(beats.refused.values())
    problem = _save_results(args, {
        "counts": counts, "records": len(beats.dropped), "beats": len(beats),
        "dropped": dropped, "skipped": skipped, "invalid_samples": invalid, "refused": refused,
        "seconds": round(seconds, 3),
    })  # written before anything is printed: a closed pipe cannot lose it
    source = "cache" if beats.params.get("cached") else "records"
    print(f"{len(beats)} beats from {len(beats.dropped)} records ({source}, {seconds:.2f} s)")
    print(f"dropped at record ends: {dropped}; non-beat annotations skipped: {skipped}")
    if invalid:
        n_records = sum(1 for n in beats.invalid_samples.values() if n)
        print(f"invalid samples: {invalid} in {n_records} record(s), filled for the denoiser; "
              f"beats refused because their window held some: {refused}")
    print(_counts_table(counts))
    return _report(args, problem)


def _report(args, problem):
    """0, or 2 after printing why the results went elsewhere."""
    if problem is None:
        return 0
    print(f"ecgtut {args.command}: error: {problem}", file=sys.stderr)
    return EXIT_DATA_ERROR


# ----------------------------------------------------------------------------- reproduce


def _cmd_reproduce(args):
    from ecgtut.experiment import format_reproduce_report, reproduce

    result = reproduce(
        args.data, classes=args.classes, folds=args.folds, epochs=args.epochs,
        seed=args.seed, fast=args.fast, progress=not args.quiet, precision=args.precision,
    )
    problem = _save_results(args, result)  # before printing: a closed pipe cannot lose it
    print(format_reproduce_report(result))
    return _report(args, problem)


# ----------------------------------------------------------------------------- interpatient


def _cmd_interpatient(args):
    from ecgtut.patients import format_interpatient_report
    from ecgtut.tuning import interpatient

    result = interpatient(
        args.data, features=args.features, weighted=args.weighted, seed=args.seed,
        select=args.select, fast=args.fast, progress=not args.quiet, precision=args.precision,
        epochs=args.epochs, n_ratio=args.n_ratio, augment=args.augment,
        seeds=range(args.seed, args.seed + args.ensemble), s_threshold=args.s_threshold,
    )
    problem = _save_results(args, result)  # before printing: a closed pipe cannot lose it
    print(format_interpatient_report(result))
    return _report(args, problem)


# ----------------------------------------------------------------------------- chapter 08


def _cmd_detect(args):
    from ecgtut.detect_scoring import format_detector_table, score_detector

    result = score_detector(args.data, args.records, detector=args.detector,
                            progress=not args.quiet)
    problem = _save_results(args, result)
    print(format_detector_table({args.detector: result}))
    worst = sorted(result["per_record"].items(), key=lambda kv: kv[1]["fn"] + kv[1]["fp"])[-3:]
    print("most errors: " + ", ".join(f"{r} (FN {v['fn']}, FP {v['fp']})" for r, v in worst[::-1]))
    return _report(args, problem)


def _cmd_train(args):
    from ecgtut.deploy import save_model, train_model

    net, meta = train_model(args.data, split=args.split, features=args.features,
                            weighted=args.weighted, epochs=args.epochs, seed=args.seed,
                            fast=args.fast,
                            progress=not args.quiet)
    save_model(args.save, net, meta)
    print(f"model trained on {len(meta['records'])} records ({args.split}, {args.features}, "
          f"{meta['settings']['epochs']} epochs) -> {args.save}")
    return 0


def _cmd_classify(args):
    from ecgtut.classify import agreement, classify_record, format_classification, write_annotations
    from ecgtut.data import read_annotations
    from ecgtut.deploy import default_model, load_model

    if args.model:
        net, meta = load_model(args.model)
    else:
        net, meta, _ = default_model(args.data, progress=not args.quiet,
                                     say=lambda m: print(m, file=sys.stderr))
    lead = int(args.lead) if args.lead is not None and args.lead.isdigit() else args.lead
    result = classify_record(args.record, data_dir=args.data, lead=lead, net=net, meta=meta)
    out = {"fs": result["fs"], "record": result["record"], "lead": result["lead"],
           "beats": [{"sample": int(s), "time_s": round(float(t), 4), "label": str(lab),
                      "prob": round(float(p), 4)} for s, t, lab, p in
                     zip(result["sample"], result["time_s"], result["label"], result["prob"])]}
    problem = _save_results(args, out)
    print(format_classification(result))
    try:
        ref = read_annotations(args.record, args.data, fs=result["fs"])
    except DataError:
        ref = None
    if ref is not None:
        a = agreement(result, ref)
        print(f"against the reference annotations: detection Se {100 * (a['se'] or 0):.2f} %, "
              f"+P {100 * (a['ppv'] or 0):.2f} % ({a['fn']} missed, {a['fp']} extra)")
        print("labels of the matched beats (rows: reference, columns: given):")
        print("      " + "".join(f"{c:>7}" for c in a["classes"]))
        for c, row in zip(a["classes"], a["confusion"]):
            print(f"{c:<6}" + "".join(f"{v:>7}" for v in row))
    if args.write_ann:
        stem = Path(args.record)
        write_annotations(result, stem.name, args.write_ann, write_dir=args.ann_dir or ".")
        print(f"annotations written to {Path(args.ann_dir or '.') / stem.name}.{args.write_ann}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from ecgtut.data import read_record
        from ecgtut.plots.classify import plot_classified

        rec = read_record(args.record, args.data, lead=result["lead"])
        ax = plot_classified(rec.signal, rec.fs, result["sample"], result["label"],
                             reference=ref)
        ax.figure.savefig(args.plot, dpi=110)
        print(f"figure written to {args.plot}")
    return _report(args, problem)


# ----------------------------------------------------------------------------- parser


def build_parser():
    """The argument parser of the ``ecgtut`` command.

    Example
    -------
    >>> args = build_parser().parse_args(["reproduce", "--classes", "5", "--fast"])
    >>> args.command, args.classes, args.folds, args.fast, args.precision
    ('reproduce', 5, None, True, 'auto')
    """
    parser = argparse.ArgumentParser(
        prog="ecgtut",
        description="Heartbeat classification from ECG (MIT-BIH): data and experiments "
        "of the ecgtut course.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("download", help="download MIT-BIH from PhysioNet and verify it")
    _add_data_option(p, help="target folder (default: the user data folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_download)

    p = sub.add_parser("verify", help="check every file against PhysioNet's SHA-256 checksums")
    _add_data_option(p)
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("prepare", help="build (or load) the beat set and count beats per class")
    _add_data_option(p)
    p.add_argument("--records", metavar="LIST", type=_record_list,
                   help="records to use, e.g. '100,101' (default: the 44 non-paced records)")
    p.add_argument("--no-cache", action="store_true", help="rebuild, ignoring the cache")
    p.add_argument("--json", metavar="FILE", type=_json_path,
                   help="also write the counts as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_prepare)

    p = sub.add_parser("reproduce", help="cross-validate the multi-scale CNN (paper's Exp. 3)")
    _add_data_option(p)
    p.add_argument("--classes", type=int, choices=(4, 5), default=4,
                   help="4 (N, S, V, F) or 5 (with Q) classes (default 4)")
    p.add_argument("--folds", type=_int_at_least(2),
                   help="number of folds, 2 or more (default 5; 2 with --fast)")
    p.add_argument("--epochs", type=_int_at_least(1),
                   help="maximum epochs per fold (default: the recipe's)")
    p.add_argument("--seed", type=_int_at_least(0), default=0,
                   help="random seed, 0 or more (default 0); fold k of seed s uses seed "
                   "s * folds + k")
    p.add_argument("--fast", action="store_true",
                   help="smoke run: a few thousand beats, 2 folds, 2 epochs")
    p.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="training arithmetic (default auto: bfloat16 where the CPU computes it "
                   "natively and it agrees with float32 layer by layer, else float32)")
    p.add_argument("--json", metavar="FILE", type=_json_path, help="write the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_reproduce, usage_error=p.error)

    p = sub.add_parser("interpatient", help="train on DS1, score on DS2: patients never seen "
                       "in training (chapter 07)")
    _add_data_option(p)
    p.add_argument("--features", choices=("beat", "beat+rr"), default="beat",
                   help="the beat alone, or with its RR-interval features (default beat)")
    p.add_argument("--weighted", action=argparse.BooleanOptionalAction, default=True,
                   help="class-weighted loss (default: weighted)")
    p.add_argument("--select", choices=("accuracy", "balanced_accuracy", "last"),
                   default="accuracy",
                   help="what the epoch is chosen on, on held-out DS1 patients (default "
                   "accuracy; balanced_accuracy: the mean of the per-class sensitivities; "
                   "last: all of DS1 trains for --epochs epochs)")
    p.add_argument("--epochs", type=_int_at_least(1), default=None,
                   help="training epochs (default: the recipe's 15)")
    p.add_argument("--ensemble", type=_int_at_least(1), default=1,
                   help="networks trained with seeds SEED, SEED+1, ..., probabilities "
                   "averaged (default 1)")
    p.add_argument("--s-threshold", type=_fraction, default=None,
                   help="call a beat S from this S probability on (choose it on DS1)")
    p.add_argument("--n-ratio", type=_positive_float, default=None,
                   help="keep at most this many N training beats per beat of the other "
                   "classes (default: all)")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                   help="random shifts and stretches of the training beats (default: on)")
    p.add_argument("--seed", type=_int_at_least(0), default=0,
                   help="random seed, 0 or more (default 0)")
    p.add_argument("--fast", action="store_true",
                   help="smoke run: a few thousand beats, 2 epochs")
    p.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="training arithmetic (default auto, as for reproduce)")
    p.add_argument("--json", metavar="FILE", type=_json_path, help="write the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_interpatient)

    p = sub.add_parser("detect", help="score the QRS detector over the database (chapter 08)")
    _add_data_option(p)
    p.add_argument("--records", type=_record_list, default=None,
                   help="records, e.g. '100,207' (default: all 48)")
    p.add_argument("--detector", default="ecgtut",
                   choices=("ecgtut", "xqrs", "neurokit", "neurokit-pantompkins"),
                   help="ecgtut's Pan & Tompkins (default), wfdb's XQRS, or neurokit2's "
                   "(pip install neurokit2)")
    p.add_argument("--json", metavar="FILE", type=_json_path, help="write the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_detect)

    p = sub.add_parser("train", help="train and save a model to deploy (chapter 08)")
    _add_data_option(p)
    p.add_argument("--split", choices=("ds1", "all"), default="ds1",
                   help="train on the 22 DS1 records (default) or all 44")
    p.add_argument("--features", choices=("beat", "beat+rr"), default="beat+rr",
                   help="network inputs (default beat+rr)")
    p.add_argument("--weighted", action=argparse.BooleanOptionalAction, default=False,
                   help="class-weighted loss (default: unweighted, chosen on DS1 in chapter 07)")
    p.add_argument("--epochs", type=_int_at_least(1), default=6, help="epochs (default 6)")
    p.add_argument("--seed", type=_int_at_least(0), default=0, help="random seed (default 0)")
    p.add_argument("--fast", action="store_true", help="smoke run: 3000 beats, 2 epochs")
    p.add_argument("--save", metavar="FILE", required=True, help="model file to write (.pt)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("classify", help="detect and classify the beats of any WFDB record "
                       "(chapter 08)")
    p.add_argument("record", help="record path stem (e.g. data/rec1 for rec1.hea) or an "
                   "MIT-BIH record name")
    _add_data_option(p)
    p.add_argument("--model", metavar="FILE", help="model from 'ecgtut train' (default: "
                   "one trained on DS1, cached on first use)")
    p.add_argument("--lead", metavar="NAME|INDEX", help="lead (default: MLII, else the first)")
    p.add_argument("--json", metavar="FILE", type=_json_path,
                   help="write {fs, beats: [{sample, time_s, label, prob}]}")
    p.add_argument("--plot", metavar="FILE.png", help="draw the labelled beats")
    p.add_argument("--write-ann", metavar="EXT", help="write a WFDB annotation file "
                   "<record>.<EXT>")
    p.add_argument("--ann-dir", metavar="DIR", help="folder of --write-ann (default: here)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_classify)
    return parser


def main(argv=None):
    """Entry point of the ``ecgtut`` console script; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``ecgtut`` (default: the command line's).

    Returns
    -------
    int
        0 on success, 1 when ``verify`` finds bad files, 2 for a data error
        or a ``--json`` file that cannot be written (explained in one line on
        stderr), 130 when interrupted. A usage error (an unknown option, a
        bad value) exits through argparse: ``SystemExit(2)`` with the usage.

    Example
    -------
    >>> main(["verify", "--data", "/no/such/folder"])   # the reason goes to stderr
    2
    """
    args = build_parser().parse_args(argv)
    if args.command == "reproduce":
        from ecgtut.crossval import check_seed
        from ecgtut.experiment import default_folds

        try:
            check_seed(args.seed, default_folds(args.folds, args.fast))
        except ValueError as exc:
            args.usage_error(f"argument --seed: {str(exc).removeprefix('seed ')}")
    problem = getattr(args, "json", None) and _json_target_problem(args.json)
    if problem:  # say so now, not after a run of several minutes
        print(f"ecgtut {args.command}: error: {problem}", file=sys.stderr)
        return EXIT_DATA_ERROR

    def one_line(message, category, *rest, **kw):  # a DataWarning is one line, like an error
        print(f"ecgtut {args.command}: warning: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", DataWarning)
            warnings.showwarning = one_line
            return args.func(args)
    except DataError as exc:
        print(f"ecgtut {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_DATA_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `ecgtut prepare | head -1`: the files are written already
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that Python's exit flush fails no more
        return 0


__all__ = ["build_parser", "main"]
