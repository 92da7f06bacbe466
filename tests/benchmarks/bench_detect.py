"""Chapter 08's detector table: ecgtut's Pan & Tompkins, wfdb's XQRS and neurokit2's detectors
over the 48 MIT-BIH records (150 ms matching window, channel 0), in one run.

neurokit2 is optional (``pip install -e ".[bench]"``); without it its rows are left out.
Writes ``notebooks/results/detectors.json`` (read by chapter 08) and prints the table.
Run alone on the machine: the seconds are compared within the run.

    python tests/benchmarks/bench_detect.py [--records 100 207 ...] [--out FILE]
"""

import argparse
import importlib.util
import json
import platform
import sys
from pathlib import Path

import torch

from ecgtut.cache import write_atomic
from ecgtut.detect_scoring import format_detector_table, score_detector


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", nargs="*", default=None)
    parser.add_argument("--out", default="notebooks/results/detectors.json")
    args = parser.parse_args(argv)
    names = ["ecgtut", "xqrs"]
    if importlib.util.find_spec("neurokit2"):
        names += ["neurokit", "neurokit-pantompkins"]
    results = {name: score_detector(records=args.records, detector=name, progress=False)
               for name in names}
    if "neurokit" in names:
        import neurokit2

        versions = f"neurokit2 {neurokit2.__version__}"
    else:
        versions = "neurokit2 not installed"
    import wfdb

    table = {"machine": f"{platform.processor() or platform.machine()}, torch "
                        f"{torch.__version__} threads {torch.get_num_threads()}",
             "versions": f"wfdb {wfdb.__version__}, {versions}", "detectors": results}
    write_atomic(Path(args.out), lambda f: f.write(json.dumps(table, indent=1).encode()),
                 prefix=".tmp-")
    print(format_detector_table(results))


if __name__ == "__main__":
    sys.exit(main())
