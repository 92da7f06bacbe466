"""The ``ecgtut`` command: the data, the experiments of chapters 06-07, and chapter 08's tools.

Run ``ecgtut --help`` (or ``python -m ecgtut --help``) for the list, and
``ecgtut COMMAND --help`` for each command. Problems with the data are reported
as one line on stderr with exit status 2, never as a traceback.

One module per group of commands: :mod:`ecgtut.cli.data` (download, verify,
prepare), :mod:`ecgtut.cli.experiments` (reproduce, interpatient),
:mod:`ecgtut.cli.deploy` (detect, train), :mod:`ecgtut.cli.classify`
(classify); what they share is in
:mod:`ecgtut.cli._common`. Each module imports its heavy libraries inside the
command that needs them, so that ``ecgtut --help`` imports none.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from ecgtut.cli import classify, data, deploy, experiments
from ecgtut.cli._common import EXIT_DATA_ERROR, PRECISIONS, json_target_problem
from ecgtut.database import DataError, DataWarning


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
    for group in (data, experiments, deploy, classify):
        group.add_parsers(sub)
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
    problem = getattr(args, "json", None) and json_target_problem(args.json)
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


__all__ = ["EXIT_DATA_ERROR", "PRECISIONS", "build_parser", "main"]
