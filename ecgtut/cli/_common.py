"""What every command shares: argparse types, the output checks made before a run, ``--json``.

Nothing here imports more than the standard library at start-up, so that
``ecgtut --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import stat
import sys
import tempfile
import time
from pathlib import Path

EXIT_DATA_ERROR = 2
EXIT_VERIFY_FAILED = 1
# ecgtut.precision.PRECISIONS, written out: the data commands must not import torch
PRECISIONS = ("auto", "float32", "bfloat16")


def add_data_option(parser, help="database folder (default: $ECGTUT_DATA, else the "
                     "download folder)"):
    parser.add_argument("--data", metavar="DIR", help=help)


def int_at_least(minimum):
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


def float_in(low, high, name):
    """An argparse type: a number in (low, high] (``high`` None: no upper bound)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        if not (value > low and (high is None or value <= high)):
            raise argparse.ArgumentTypeError(f"must be {name}, got {value}")
        return value
    return parse


fraction = float_in(0.0, 1.0, "above 0 and at most 1")
positive_float = float_in(0.0, None, "above 0")


def file_path(option, example):
    """An argparse type: the file name given to ``option`` (``~`` expanded), never empty."""
    def parse(text):
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{option} needs a file name, e.g. {option} "
                                             f"{example}")
        if text.endswith(("/", os.sep)):
            raise argparse.ArgumentTypeError(f"{text!r} ends with '/': give a file name, "
                                             f"e.g. {text}{example}")
        return str(Path(text).expanduser())  # the shell leaves '~' alone in --json=~/x.json
    return parse


json_path = file_path("--json", "results.json")


def record_list(text):
    """An argparse type: records separated by commas or spaces, at least one."""
    records = text.replace(",", " ").split()
    if not records:
        raise argparse.ArgumentTypeError(f"--records names no record ({text!r}); give e.g. "
                                         "'100,101', or leave it out for all 44")
    return records


def target_problem(option, path, *, create_folders=False):
    """Why ``option``'s file ``path`` cannot be written (checked before a run starts), or None.

    With ``create_folders``, missing folders are fine if they can be created.
    """
    target = Path(path)
    folder = target.resolve().parent
    if target.is_dir():
        return f"cannot write {option} {path}: it is a folder"
    if target.exists() and not os.access(target, os.W_OK):
        return f"cannot write {option} {path}: the file is not writable"
    existing = folder
    while create_folders and not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.exists():
        return f"cannot write {option} {path}: folder {folder} does not exist"
    if not existing.is_dir():
        return f"cannot write {option} {path}: {existing} is a file, not a folder"
    if not target.exists() and not os.access(existing, os.W_OK):
        return f"cannot write {option} {path}: folder {existing} is not writable"
    return None


def json_target_problem(path):
    """Why ``--json`` cannot write ``path``, or None."""
    return target_problem("--json", path)


def write_json(path, obj):
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


def save_results(args, obj):
    """Write ``--json``; if that fails now, keep the results elsewhere and say where.

    Returns None when all went well, else the error line to print (the run's
    status becomes 2, but nothing it computed is lost).
    """
    if not args.json:
        return None
    try:
        write_json(args.json, obj)
        return None
    except OSError as exc:
        from ecgtut.database import cache_dir

        fallback = cache_dir() / "results" / f"{args.command}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        try:
            fallback.parent.mkdir(parents=True, exist_ok=True)
            write_json(fallback, obj)
        except OSError:
            fallback = Path(tempfile.mkdtemp(prefix="ecgtut-")) / fallback.name
            write_json(fallback, obj)
        return (f"cannot write --json {args.json} ({exc.strerror or exc}); "
                f"the results are in {fallback}")



def report(args, problem):
    """0, or 2 after printing why the results went elsewhere."""
    if problem is None:
        return 0
    print(f"ecgtut {args.command}: error: {problem}", file=sys.stderr)
    return EXIT_DATA_ERROR

