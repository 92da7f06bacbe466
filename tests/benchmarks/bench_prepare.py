"""Benchmark of ``ecgtut prepare``: how much does building the beat set cost over
just reading the data with wfdb, and how fast is the cached reload?

Usage::

    python tests/benchmarks/bench_prepare.py [--data DIR] [--rounds 3] [--reloads 5] [--profile]

Measures, on the 44 records (``ecgtut.RECORDS``):

1. wfdb alone: ``wfdb.rdrecord`` of MLII + ``wfdb.rdann(..., "atr")`` per record;
2. ``ecgtut.load_beats(cache=False)``: read + denoise + segment, i.e. ``prepare``
   without the cache;
3. their ratio -- goal <= 2x;
4. the cached reload ``load_beats()`` -- goal <= 0.1 s (median of ``--reloads``
   reloads after one warm-up).

Each of 1 and 2 is timed ``--rounds`` times after an untimed warm-up read (so the
files are in the page cache for both) and the median is reported, in wall-clock
time (the goal) and in CPU time of the process (steadier on a shared machine). The cache goes
to a temporary folder, never the user's. Exit status 1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time

RATIO_GOAL = 2.0
RELOAD_GOAL_S = 0.1


def _timed(fn):
    """(wall seconds, CPU seconds of this process) of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def read_with_wfdb(folder, records):
    """What any pipeline must do at least: the MLII signal and the annotations.

    ``bench_startup.py`` runs the same read as a process of its own.
    """
    import wfdb

    for r in records:
        wfdb.rdrecord(str(folder / r), channel_names=["MLII"])
        wfdb.rdann(str(folder / r), "atr")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", metavar="DIR", help="database folder (default: $ECGTUT_DATA)")
    parser.add_argument("--rounds", type=int, default=3, help="timed builds (default 3)")
    parser.add_argument("--reloads", type=int, default=5, help="timed cached reloads (default 5)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one uncached build (cProfile, top 20, cumulative)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ecgtut-bench-cache-") as cache:
        os.environ["ECGTUT_CACHE"] = cache
        import ecgtut

        folder = ecgtut.find_data_dir(args.data)
        records = ecgtut.RECORDS
        print(f"data: {folder} ({len(records)} records); cache: {cache}; "
              f"{os.cpu_count()} CPU(s); Python {sys.version.split()[0]}")

        read_with_wfdb(folder, records)  # warm-up: imports and page cache
        t_wfdb = [_timed(lambda: read_with_wfdb(folder, records)) for _ in range(args.rounds)]
        t_build = [
            _timed(lambda: ecgtut.load_beats(folder, cache=False, progress=False))
            for _ in range(args.rounds)
        ]
        wfdb_s, build_s = (statistics.median(w for w, _ in t) for t in (t_wfdb, t_build))
        wfdb_cpu, build_cpu = (statistics.median(c for _, c in t) for t in (t_wfdb, t_build))
        ratio = build_s / wfdb_s

        beats = ecgtut.load_beats(folder, progress=False)  # builds and writes the cache
        assert beats.params["cached"] is False
        ecgtut.load_beats(folder, progress=False)  # warm-up reload
        t_reload = []
        for _ in range(args.reloads):
            start = time.perf_counter()
            again = ecgtut.load_beats(folder, progress=False)
            t_reload.append(time.perf_counter() - start)
            assert again.params["cached"] is True
        reload_s = statistics.median(t_reload)
        size_mb = sum(p.stat().st_size for p in ecgtut.cache_dir().glob("*.npz")) / 1e6

        def fmt(ts):
            return ", ".join(f"{t:.3f}" for t in ts)

        def fmt2(ts):
            return fmt(w for w, _ in ts) + "; CPU " + fmt(c for _, c in ts)

        ok_ratio, ok_reload = ratio <= RATIO_GOAL, reload_s <= RELOAD_GOAL_S
        print(f"beats: {len(beats)} {beats.counts()}")
        print(f"wfdb read (rdrecord MLII + rdann), 44 records: {wfdb_s:7.3f} s  [{fmt2(t_wfdb)}]")
        print(f"load_beats(cache=False) (= prepare, no cache): {build_s:7.3f} s  [{fmt2(t_build)}]")
        print(f"ratio build / wfdb read: {ratio:5.2f}x  (goal <= {RATIO_GOAL:g}x: "
              f"{'ok' if ok_ratio else 'MISSED'}); in CPU time {build_cpu / wfdb_cpu:5.2f}x")
        print(f"cached reload, median of {args.reloads}: {reload_s:7.3f} s  [{fmt(t_reload)}]  "
              f"(goal <= {RELOAD_GOAL_S:g} s: {'ok' if ok_reload else 'MISSED'}; "
              f"cache file {size_mb:.0f} MB)")

        if args.profile or not (ok_ratio and ok_reload):
            profile = cProfile.Profile()
            profile.runcall(ecgtut.load_beats, folder, cache=False, progress=False)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(20)
    return 0 if ok_ratio and ok_reload else 1


if __name__ == "__main__":
    sys.exit(main())
