"""Speed and memory of ``classify``: a 30-minute record and a 24-hour "Holter day".

The day is built by joining channel 0 of the 48 MIT-BIH records end to end
(24.05 h at 360 Hz, about 110 000 reference beats), written as a WFDB record in
a temporary folder. Each measurement runs in a fresh process (peak memory is
that process's own high-water mark, VmHWM). The chunked detections of the day are
then compared with one unsplit detection of the whole day: a seam must lose no beat.

Writes ``notebooks/results/classify_bench.json`` and prints a summary.
Needs a model: ``--model FILE`` (default: the default model, trained on first use).

    python tests/benchmarks/bench_classify.py [--model FILE]
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = r"""
def peak_mb():
    # VmHWM: this process's own peak resident memory (getrusage's maxrss would carry the
    # parent's over fork and exec, on Linux)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
import json, sys, time
t0 = time.perf_counter()
from ecgtut.classify import classify_record
from ecgtut.deploy import load_model
net, meta = load_model(sys.argv[2])
t1 = time.perf_counter()
r = classify_record(sys.argv[1], net=net, meta=meta)
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t1, "seconds_with_start": t2 - t0, "beats": len(r["sample"]),
                  "duration_s": r["duration_s"],
                  "peak_mb": peak_mb()}))
"""


def child(record, model):
    out = subprocess.run([sys.executable, "-c", CHILD, record, str(model)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    import wfdb

    import ecgtut as et
    from ecgtut.cache import write_atomic
    from ecgtut.classify import detect_in_chunks
    from ecgtut.deploy import default_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", default="notebooks/results/classify_bench.json")
    args = parser.parse_args(argv)
    model = args.model
    tmp = Path(tempfile.mkdtemp(prefix="ecgtut-bench-"))
    if model is None:
        net, meta, model = default_model()
    data = et.find_data_dir()
    result = {"record_100": child(str(data / "100"), model)}
    print(f"30-min record 100: {result['record_100']['seconds']:.2f} s "
          f"({result['record_100']['peak_mb']:.0f} MB peak)", flush=True)
    parts, refs, offset = [], [], 0
    for r in et.RECORDS_ALL:
        rec = et.read_record(r, data, lead=0)
        parts.append(np.nan_to_num(rec.signal))
        refs.append(et.read_annotations(r, data).beats().sample + offset)
        offset += len(rec.signal)
    reference = np.concatenate(refs)
    n_ref = len(reference)
    day = np.concatenate(parts)
    del parts
    wfdb.wrsamp("holter", fs=360, units=["mV"], sig_name=["MLII"], p_signal=day[:, None],
                fmt=["16"], adc_gain=[200.0], baseline=[0], write_dir=str(tmp))
    result["holter"] = {**child(str(tmp / "holter"), model), "n_reference_beats": n_ref}
    h = result["holter"]
    print(f"24-h day ({h['duration_s'] / 3600:.2f} h, {n_ref} reference beats): "
          f"{h['seconds']:.1f} s, {h['beats']} beats, {h['peak_mb']:.0f} MB peak", flush=True)
    chunked = detect_in_chunks(day, 360)
    whole = detect_in_chunks(day, 360, chunk_s=1e12)
    differ = np.setxor1d(chunked, whole)  # found by one way and not the other
    seams = np.arange(600 * 360, len(day), 600 * 360)
    distance = np.abs(differ[:, None] - seams[None, :]).min(axis=1) / 360 if len(differ) else []
    result["seams"] = {"chunked": len(chunked), "unsplit": len(whole),
                       "identical": bool(np.array_equal(chunked, whole)),
                       "only_chunked": int(len(np.setdiff1d(chunked, whole))),
                       "only_unsplit": int(len(np.setdiff1d(whole, chunked))),
                       "seams": len(seams),
                       "differences_within_30_s_of_a_seam": int(np.sum(np.asarray(distance)
                                                                        < 30))}
    for name, found in (("chunked", chunked), ("unsplit", whole)):
        score = et.score_detections(reference, found, 360)
        result["seams"][f"{name}_se_ppv"] = [score["se"], score["ppv"]]
    print("seams:", result["seams"])
    write_atomic(Path(args.out), lambda f: f.write(json.dumps(result, indent=1).encode()),
                 prefix=".tmp-")
    shutil.rmtree(tmp)



if __name__ == "__main__":
    sys.exit(main())
