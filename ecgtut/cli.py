"""The ``ecgtut`` command: ``download``, ``verify``, ``prepare`` and ``reproduce``.

Run ``ecgtut --help`` (or ``python -m ecgtut --help``) for the list, and
``ecgtut COMMAND --help`` for each command. Problems with the data are reported
as one line on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from ecgtut.data import AAMI_NAMES
from ecgtut.database import RECORDS, DataError

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


def _json_target_problem(path):
    """Why ``path`` cannot be written (checked before a long run starts), or None."""
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        return f"cannot write --json {path}: folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"cannot write --json {path}: folder {folder} is not writable"
    if Path(path).is_dir():
        return f"cannot write --json {path}: it is a folder"
    return None


def _write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


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
    records = args.records.replace(",", " ").split() if args.records else RECORDS
    beats = load_beats(args.data, records=records, cache=not args.no_cache, progress=not args.quiet)
    seconds = time.perf_counter() - start
    counts = beats.counts()
    dropped, skipped = sum(beats.dropped.values()), sum(beats.skipped.values())
    source = "cache" if beats.params.get("cached") else "records"
    print(f"{len(beats)} beats from {len(beats.dropped)} records ({source}, {seconds:.2f} s)")
    print(f"dropped at record ends: {dropped}; non-beat annotations skipped: {skipped}")
    print(_counts_table(counts))
    if args.json:
        _write_json(args.json, {
            "counts": counts, "records": len(beats.dropped), "beats": len(beats),
            "dropped": dropped, "skipped": skipped, "seconds": round(seconds, 3),
        })
    return 0


# ----------------------------------------------------------------------------- reproduce


def _cmd_reproduce(args):
    from ecgtut.experiment import format_reproduce_report, reproduce

    result = reproduce(
        args.data, classes=args.classes, folds=args.folds, epochs=args.epochs,
        seed=args.seed, fast=args.fast, progress=not args.quiet, precision=args.precision,
    )
    print(format_reproduce_report(result))
    if args.json:
        _write_json(args.json, result)
    return 0


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
    p.add_argument("--records", metavar="LIST", help="records to use, e.g. '100,101' "
                   "(default: the 44 non-paced records)")
    p.add_argument("--no-cache", action="store_true", help="rebuild, ignoring the cache")
    p.add_argument("--json", metavar="FILE", help="also write the counts as JSON")
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
    p.add_argument("--json", metavar="FILE", help="write the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_reproduce, usage_error=p.error)
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
    if getattr(args, "json", None):  # '~' is not expanded by the shell in --json=~/x.json
        args.json = str(Path(args.json).expanduser())
    problem = getattr(args, "json", None) and _json_target_problem(args.json)
    if problem:  # say so now, not after a run of several minutes
        print(f"ecgtut {args.command}: error: {problem}", file=sys.stderr)
        return EXIT_DATA_ERROR
    try:
        return args.func(args)
    except DataError as exc:
        print(f"ecgtut {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_DATA_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


__all__ = ["build_parser", "main"]
