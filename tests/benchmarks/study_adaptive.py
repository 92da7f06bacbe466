"""Chapter 07's recipe for new patients, chosen on DS1 alone (patient-grouped 11-fold study).

Every setting is scored by :func:`ecgtut.ds1_study`: 11 folds over the 22 DS1
records (two held out at a time), pooled out-of-fold probabilities, ranked by a
score fixed beforehand, the mean of the S and V F1 (arg-max, S scale 1). DS2 is
never read. Then the blend of the best linear model and the best network, and the
S scale, are chosen on the same pooled predictions (:func:`ecgtut.choose_decision`).

Writes ``notebooks/results/ds1_study.json`` (the table, after every setting, so
a stopped run keeps what it has) and ``ds1_study.npz`` (the out-of-fold
probabilities of every setting, for chapter 07's figures).

Run alone on the machine (one CPU-heavy job at a time):

    python tests/benchmarks/study_adaptive.py [--only NAME ...] [--fast]
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import ecgtut as et
from ecgtut.cache import write_atomic

#: name -> (overrides of et.ADAPTIVE_RECIPE, with networks?)
SETTINGS = {
    "linear, rhythm only": ({"n_bins": 0, "C": 0.1}, False),
    "linear, |relative beat| and signed, 20 bins": ({"n_bins": 20, "signed_bins": True}, False),
    "linear, |relative beat|, 20 bins": ({"n_bins": 20}, False),
    "linear, |relative beat|, 10 bins, C 1": ({"n_bins": 10, "C": 1.0}, False),
    "linear, |relative beat|, 10 bins, C 0.1": ({"n_bins": 10, "C": 0.1}, False),
    "linear, |relative beat|, 10 bins, C 0.01": ({"n_bins": 10, "C": 0.01}, False),
    "linear, |relative beat|, 5 bins": ({"n_bins": 5}, False),
    "FusionCNN, weighted, 8 epochs": ({"epochs": 8}, True),
    "FusionCNN, unweighted, 8 epochs": ({"epochs": 8, "weighted": False}, True),
}


def _scores(y, p):
    m = et.classification_metrics(y, p.argmax(1), et.CLASSES)
    pc = m["per_class"]
    return {"score": (pc["S"]["f1"] + pc["V"]["f1"]) / 2, "accuracy": m["accuracy"],
            "per_class": {c: {k: pc[c][k] for k in ("se", "ppv", "f1")} for c in et.CLASSES}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="names of the settings to run (default all)")
    parser.add_argument("--out", default="notebooks/results/ds1_study.json")
    parser.add_argument("--fast", action="store_true", help="smoke run")
    args = parser.parse_args(argv)
    out = Path(args.out)
    npz = out.with_suffix(".npz")
    table = json.loads(out.read_text()) if out.exists() else {"settings": {}}
    probas = dict(np.load(npz)) if npz.exists() else {}
    table["machine"] = (f"torch {torch.__version__}, {platform.machine()}, "
                        f"{torch.get_num_threads()} threads, float32")
    beats = et.load_beats(progress=False)

    def save():
        write_atomic(out, lambda f: f.write(json.dumps(table, indent=1).encode()),
                     prefix=".tmp-")
        write_atomic(npz, lambda f: np.savez_compressed(f, **probas), prefix=".tmp-")

    for name, (recipe, cnn) in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        r = et.ds1_study(beats=beats, recipe=recipe, cnn=cnn, fast=args.fast, progress=False)
        p = r["p_cnn"] if cnn else r["p_linear"]
        table["settings"][name] = {**_scores(r["y"], p), "seconds": r["seconds"],
                                   "recipe": recipe, "networks": cnn, "folds": r["folds"]}
        probas[name] = p.astype(np.float32)
        probas["y"], probas["records"] = r["y"], r["records"].astype(str)
        if cnn:  # the linear model of the recipe, in the same folds
            probas[name + " | linear"] = r["p_linear"].astype(np.float32)
        save()
        row = table["settings"][name]
        pc = row["per_class"]
        print(f"{name:36s} score {row['score']:.3f}  S {pc['S']['se']:.3f}/{pc['S']['ppv']:.3f}"
              f"  V {pc['V']['se']:.3f}/{pc['V']['ppv']:.3f}  {r['seconds']:.0f} s", flush=True)
    done = table["settings"]
    lin = [n for n in done if not done[n]["networks"]]
    nets = [n for n in done if done[n]["networks"]]
    if lin and nets:
        best_lin = max(lin, key=lambda n: done[n]["score"])
        best_net = max(nets, key=lambda n: done[n]["score"])
        start = time.perf_counter()
        # the chosen linear model refitted in the network's folds (same split, same seed)
        r = et.ds1_study(beats=beats, recipe=done[best_lin]["recipe"], cnn=False,
                         fast=args.fast, progress=False)
        d = et.choose_decision(probas["y"], r["p_linear"], probas[best_net])
        table["decision"] = {"linear": best_lin, "networks": best_net, "blend": d["blend"],
                             "s_scale": d["s_scale"], "score": d["score"],
                             "table": [[w, s, v] for (w, s), v in d["table"].items()],
                             "seconds": time.perf_counter() - start}
        save()
        print(f"decision: {best_lin} + {best_net}, blend {d['blend']}, S scale {d['s_scale']}"
              f" -> score {d['score']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
