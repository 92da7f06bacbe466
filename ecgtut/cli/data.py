"""The data commands: ``download``, ``verify`` and ``prepare``.

Example
-------
>>> from ecgtut.cli import build_parser
>>> build_parser().parse_args(["prepare", "--records", "100, 101"]).records
['100', '101']
"""

from __future__ import annotations

import sys
import time

from ecgtut.cli._common import (
    EXIT_VERIFY_FAILED,
    add_data_option,
    json_path,
    record_list,
    report,
    save_results,
)
from ecgtut.data import AAMI_NAMES
from ecgtut.database import RECORDS


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
    problem = save_results(args, {
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
    return report(args, problem)




# ----------------------------------------------------------------------------- parser


def add_parsers(sub):
    """Add download, verify and prepare to the sub-parsers ``sub``."""
    p = sub.add_parser("download", help="download MIT-BIH from PhysioNet and verify it")
    add_data_option(p, help="target folder (default: the user data folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_download)

    p = sub.add_parser("verify", help="check every file against PhysioNet's SHA-256 checksums")
    add_data_option(p)
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("prepare", help="build (or load) the beat set and count beats per class")
    add_data_option(p)
    p.add_argument("--records", metavar="LIST", type=record_list,
                   help="records to use, e.g. '100,101' (default: the 44 non-paced records)")
    p.add_argument("--no-cache", action="store_true", help="rebuild, ignoring the cache")
    p.add_argument("--json", metavar="FILE", type=json_path,
                   help="also write the counts as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_prepare)
