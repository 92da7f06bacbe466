"""Chapter 08's tools: ``detect`` (score a QRS detector), ``train`` and ``classify``.

Example
-------
>>> from ecgtut.cli import build_parser
>>> args = build_parser().parse_args(["classify", "100", "--write-ann", "ecg"])
>>> args.record, args.write_ann
('100', 'ecg')
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ecgtut.cli._common import (
    add_data_option,
    int_at_least,
    json_path,
    record_list,
    report,
    save_results,
)
from ecgtut.database import DataError


def _cmd_detect(args):
    from ecgtut.detect_scoring import format_detector_table, score_detector

    result = score_detector(args.data, args.records, detector=args.detector,
                            progress=not args.quiet)
    problem = save_results(args, result)
    print(format_detector_table({args.detector: result}))
    worst = sorted(result["per_record"].items(), key=lambda kv: kv[1]["fn"] + kv[1]["fp"])[-3:]
    print("most errors: " + ", ".join(f"{r} (FN {v['fn']}, FP {v['fp']})" for r, v in worst[::-1]))
    return report(args, problem)


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
    problem = save_results(args, out)
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
    return report(args, problem)




# ----------------------------------------------------------------------------- parser


def add_parsers(sub):
    """Add detect, train and classify to the sub-parsers ``sub``."""
    p = sub.add_parser("detect", help="score the QRS detector over the database (chapter 08)")
    add_data_option(p)
    p.add_argument("--records", type=record_list, default=None,
                   help="records, e.g. '100,207' (default: all 48)")
    p.add_argument("--detector", default="ecgtut",
                   choices=("ecgtut", "xqrs", "neurokit", "neurokit-pantompkins"),
                   help="ecgtut's Pan & Tompkins (default), wfdb's XQRS, or neurokit2's "
                   "(pip install neurokit2)")
    p.add_argument("--json", metavar="FILE", type=json_path, help="write the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_detect)

    p = sub.add_parser("train", help="train and save a model to deploy (chapter 08)")
    add_data_option(p)
    p.add_argument("--split", choices=("ds1", "all"), default="ds1",
                   help="train on the 22 DS1 records (default) or all 44")
    p.add_argument("--features", choices=("beat", "beat+rr"), default="beat+rr",
                   help="network inputs (default beat+rr)")
    p.add_argument("--weighted", action=argparse.BooleanOptionalAction, default=False,
                   help="class-weighted loss (default: unweighted, chosen on DS1 in chapter 07)")
    p.add_argument("--epochs", type=int_at_least(1), default=6, help="epochs (default 6)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="random seed (default 0)")
    p.add_argument("--fast", action="store_true", help="smoke run: 3000 beats, 2 epochs")
    p.add_argument("--save", metavar="FILE", required=True, help="model file to write (.pt)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("classify", help="detect and classify the beats of any WFDB record "
                       "(chapter 08)")
    p.add_argument("record", help="record path stem (e.g. data/rec1 for rec1.hea) or an "
                   "MIT-BIH record name")
    add_data_option(p)
    p.add_argument("--model", metavar="FILE", help="model from 'ecgtut train' (default: "
                   "one trained on DS1, cached on first use)")
    p.add_argument("--lead", metavar="NAME|INDEX", help="lead (default: MLII, else the first)")
    p.add_argument("--json", metavar="FILE", type=json_path,
                   help="write {fs, beats: [{sample, time_s, label, prob}]}")
    p.add_argument("--plot", metavar="FILE.png", help="draw the labelled beats")
    p.add_argument("--write-ann", metavar="EXT", help="write a WFDB annotation file "
                   "<record>.<EXT>")
    p.add_argument("--ann-dir", metavar="DIR", help="folder of --write-ann (default: here)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_classify)
