"""``ecgtut classify``: the beats of the recordings people have, labelled, or refused with a reason.

Inputs: WFDB records (``rec1``, ``./rec1``, ``rec1.hea``), EDF files
(``holter.edf``), MIT-BIH names, several at once or a folder of them. Every
output (``--json``, ``--summary``, ``--plot``, ``--write-ann``) is checked
before any work; an existing annotation file is replaced only with
``--force``, and reference annotations (``.atr``) never.

Example
-------
>>> from ecgtut.cli import build_parser
>>> args = build_parser().parse_args(["classify", "100", "rec.edf", "--write-ann", "ecg"])
>>> args.records, args.write_ann, args.force
(['100', 'rec.edf'], 'ecg', False)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ecgtut.cli._common import (
    add_data_option,
    file_path,
    json_path,
    report,
    save_results,
    target_problem,
)
from ecgtut.database import DataError

#: Extensions ``--write-ann`` never writes, and what files of that name are
RESERVED_EXTENSIONS = {
    "atr": "the reference annotations (classify scores itself against them)",
    "hea": "a WFDB header", "dat": "a WFDB signal file", "edf": "an EDF recording",
}


# ----------------------------------------------------------------------------- inputs


def _expand(records):
    """The records named: a folder stands for its WFDB records and EDF files, sorted by name."""
    out = []
    for text in records:
        folder = Path(text).expanduser()
        if not folder.is_dir():
            out.append(text)
            continue
        found = [str(p.with_suffix("")) for p in folder.glob("*.hea")]
        found += [str(p) for p in folder.glob("*.edf")]
        if not found:
            raise DataError(f"folder {text} holds no record (no .hea or .edf file)")
        out += sorted(found, key=lambda p: Path(p).name)
    return out


def _resolve(records, data_dir):
    """``[(path, name)]`` of every record, each found now (a one-line DataError if not)."""
    from ecgtut.data import _is_edf, _record_path

    paths = [_record_path(r, data_dir) for r in _expand(records)]
    return [(p, p.stem if _is_edf(p) else p.name) for p in paths]


# ----------------------------------------------------------------------------- outputs


def _check_outputs(args, names):
    """DataError for the first output that cannot be written, before any work."""
    problem = args.summary and target_problem("--summary", args.summary)
    if not problem and args.summary and Path(args.summary).suffix.lower() not in (".csv",
                                                                                 ".json"):
        problem = f"cannot write --summary {args.summary}: give a .csv or a .json file"
    if problem:
        raise DataError(problem)
    if args.plot:
        _check_plot(args.plot, names)
    if args.write_ann:
        _check_annotations(args.write_ann, args.ann_dir or ".", names, args.force)


def _check_plot(path, names):
    from matplotlib.backend_bases import FigureCanvasBase

    if len(names) > 1:
        raise DataError(f"--plot draws one record, {len(names)} are given: classify one "
                        "record with --plot, or leave --plot out")
    formats = FigureCanvasBase.get_supported_filetypes()
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in formats:
        known = ", ".join(f for f in ("png", "pdf", "svg", "jpg") if f in formats)
        raise DataError(f"cannot write --plot {path}: unknown image format '.{ext}' "
                        f"(use {known}, ...)")
    problem = target_problem("--plot", path)
    if problem:
        raise DataError(problem)


def _check_annotations(ext, folder, names, force):
    """``--write-ann EXT --ann-dir FOLDER`` for these records: a DataError if refused."""
    if not re.fullmatch(r"[A-Za-z]+", ext):  # wfdb.wrann's rule
        raise DataError(f"--write-ann {ext!r}: an annotation extension has letters only, "
                        "e.g. --write-ann ecg")
    if ext.lower() in RESERVED_EXTENSIONS:
        raise DataError(f"--write-ann {ext} is refused: <record>.{ext} is the name of "
                        f"{RESERVED_EXTENSIONS[ext.lower()]}; choose another, e.g. --write-ann ecg")
    where = Path(folder)
    if not where.is_dir():
        raise DataError(f"cannot write --ann-dir {folder}: the folder does not exist")
    if not _writable(where):
        raise DataError(f"cannot write --ann-dir {folder}: the folder is not writable")
    for name in names:
        if re.search(r"[^-\w]", name):
            raise DataError(f"cannot write annotations for record {name!r}: WFDB record names "
                            "have letters, digits, '-' and '_' only (rename the file)")
        target = where / f"{name}.{ext}"
        if target.exists() and not force:
            raise DataError(f"cannot write --write-ann {target}: the file exists (add --force "
                            "to replace it)")
    if len(set(names)) < len(names):
        raise DataError("two records of the same name would write the same annotation file")


def _writable(folder):
    import os

    return os.access(folder, os.W_OK)


def _write_plot(path, record, result, ref):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ecgtut.cache import write_atomic
    from ecgtut.data import read_record
    from ecgtut.plots.classify import plot_classified

    rec = read_record(record, lead=result["lead"])
    ax = plot_classified(rec.signal, rec.fs, result["sample"], result["label"], reference=ref)
    target = Path(path)
    write_atomic(target, lambda f: ax.figure.savefig(f, dpi=110, format=target.suffix[1:]),
                 prefix=f".{target.name}.", suffix=".tmp")
    plt.close(ax.figure)


def _write_summary(path, rows):
    """The summary table as CSV or JSON (by the extension), whole or not at all."""
    import csv
    import io
    import json

    from ecgtut.cache import write_atomic

    if path.lower().endswith(".json"):
        text = json.dumps({"records": rows}, indent=2) + "\n"
    else:
        buffer = io.StringIO()
        ordered = sorted(rows, key=lambda row: bool(row["error"]))  # a full row sets the order
        columns = list(dict.fromkeys(k for row in ordered for k in row))
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    target = Path(path)
    write_atomic(target, lambda f: f.write(text.encode()), prefix=f".{target.name}.",
                 suffix=".tmp")


# ----------------------------------------------------------------------------- one record


def _beats_json(result):
    """What ``--json`` holds for one record."""
    return {"fs": result["fs"], "record": result["record"], "lead": result["lead"],
            "heart_rate_bpm": result["heart_rate_bpm"], "refused": result["refused"],
            "no_beat_stretches": [list(s) for s in result["no_beat_stretches"]],
            "beats": [{"sample": int(s), "time_s": round(float(t), 4), "label": str(lab),
                       "prob": round(float(p), 4)} for s, t, lab, p in
                      zip(result["sample"], result["time_s"], result["label"], result["prob"])]}


def _summary_row(result, classes):
    counts = {c: int((result["label"] == c).sum()) for c in classes}
    bpm = result["heart_rate_bpm"]
    return {"record": result["record"], "lead": result["lead"], "fs": result["fs"],
            "duration_s": round(result["duration_s"], 3), "detected": result["n_detected"],
            "classified": len(result["label"]), **counts,
            "refused": sum(result["refused"].values()),
            "no_beat_s": round(sum(e - s for s, e, _ in result["no_beat_stretches"]), 3),
            "heart_rate_bpm": None if bpm is None else round(bpm, 1), "error": ""}


def _agreement_lines(result, ref):
    from ecgtut.classify import agreement

    a = agreement(result, ref)
    lines = [f"against the reference annotations: detection Se {100 * (a['se'] or 0):.2f} %, "
             f"+P {100 * (a['ppv'] or 0):.2f} % ({a['fn']} missed, {a['fp']} extra)",
             "labels of the matched beats (rows: reference, columns: given):",
             "      " + "".join(f"{c:>7}" for c in a["classes"])]
    lines += [f"{c:<6}" + "".join(f"{v:>7}" for v in row)
              for c, row in zip(a["classes"], a["confusion"])]
    return lines


def _reference(path, fs):
    from ecgtut.data import read_annotations

    try:
        return read_annotations(path, fs=fs)
    except DataError:
        return None


def _annotate(args, result, name):
    """Write ``--write-ann`` for one record; the line that says what was done."""
    from ecgtut.classify import write_annotations

    folder = Path(args.ann_dir or ".")
    if not len(result["label"]):
        return f"0 beats classified in {name}: no annotation file written"
    write_annotations(result, name, args.write_ann, write_dir=folder)
    return f"annotations written to {folder / name}.{args.write_ann}"


def _one(args, path, name, net, meta, lead):
    """Classify one record and write its per-record outputs; ``(result, lines)``."""
    from ecgtut.classify import classify_record, format_classification

    result = classify_record(path, lead=lead, net=net, meta=meta)
    ref = _reference(path, result["fs"])
    lines = [format_classification(result)]
    if ref is not None:
        lines += _agreement_lines(result, ref)
    if args.write_ann:
        lines.append(_annotate(args, result, name))
    if args.plot:
        _write_plot(args.plot, path, result, ref)
        lines.append(f"figure written to {args.plot}")
    return result, lines


# ----------------------------------------------------------------------------- the command


def _model(args):
    from ecgtut.deploy import default_model, load_model

    if args.model is not None:
        return load_model(args.model)
    net, meta, _ = default_model(args.data, progress=not args.quiet,
                                 say=lambda m: print(m, file=sys.stderr))
    return net, meta


def _table(rows, classes):
    """The summary table printed after several records."""
    head = f"{'record':<12}{'min':>7}{'beats':>8}" + "".join(f"{c:>7}" for c in classes)
    lines = [head + f"{'refused':>9}{'no-beat s':>11}{'bpm':>6}"]
    for r in rows:
        if r["error"]:
            lines.append(f"{r['record']:<12}  error: {r['error']}")
            continue
        bpm = "-" if r["heart_rate_bpm"] is None else f"{r['heart_rate_bpm']:.0f}"
        lines.append(f"{r['record']:<12}{r['duration_s'] / 60:>7.1f}{r['classified']:>8}"
                     + "".join(f"{r[c]:>7}" for c in classes)
                     + f"{r['refused']:>9}{r['no_beat_s']:>11.0f}{bpm:>6}")
    return "\n".join(lines)


def _cmd_classify(args):
    from tqdm import tqdm

    records = _resolve(args.records, args.data)  # every record found before any work
    _check_outputs(args, [name for _, name in records])
    net, meta = _model(args)
    classes = meta["classes"]
    lead = int(args.lead) if args.lead is not None and args.lead.isdigit() else args.lead
    several = len(records) > 1
    outs, rows, failed = [], [], 0
    for path, name in tqdm(records, desc="classify", unit="record", file=sys.stderr,
                           disable=args.quiet or not several):
        try:
            result, lines = _one(args, path, name, net, meta, lead)
        except DataError as exc:
            if not several:
                raise
            tqdm.write(f"ecgtut classify: error: {exc}", file=sys.stderr)
            rows.append({"record": name, "error": str(exc)})
            failed += 1
            continue
        outs.append(_beats_json(result))
        rows.append(_summary_row(result, classes))
        if several:
            tqdm.write("\n".join(lines))  # above the progress bar, not through it
    problem = save_results(args, {"records": outs} if several else outs[0])  # before printing:
    if not several:  # a closed pipe cannot lose it
        print("\n".join(lines))
    if args.summary:
        _write_summary(args.summary, rows)
    if several:
        print(_table(rows, classes))
    if failed and not problem:
        return 2
    return report(args, problem)


# ----------------------------------------------------------------------------- parser


def add_parsers(sub):
    """Add classify to the sub-parsers ``sub``."""
    p = sub.add_parser("classify", help="detect and classify the beats of WFDB or EDF "
                       "recordings (chapter 08)")
    p.add_argument("records", nargs="+", metavar="RECORD",
                   help="a WFDB record (path stem, e.g. data/rec1, or rec1.hea), an EDF file "
                   "(rec1.edf), a folder of them, or an MIT-BIH record name (used when no "
                   "local file matches); several may be given")
    add_data_option(p)
    p.add_argument("--model", metavar="FILE", type=file_path("--model", "model.pt"),
                   help="model from 'ecgtut train' (default: one trained on DS1, cached on "
                   "first use)")
    p.add_argument("--lead", metavar="NAME|INDEX", help="lead (default: MLII, else the first)")
    p.add_argument("--json", metavar="FILE", type=json_path,
                   help="write {fs, heart_rate_bpm, refused, no_beat_stretches, beats: [{sample, "
                   "time_s, label, prob}]} ({records: [...]} for several records)")
    p.add_argument("--summary", metavar="FILE.csv|FILE.json",
                   type=file_path("--summary", "summary.csv"),
                   help="write one row per record: beats per class, refused, heart rate")
    p.add_argument("--plot", metavar="FILE.png", type=file_path("--plot", "beats.png"),
                   help="draw the labelled beats (one record; png, pdf, svg...)")
    p.add_argument("--write-ann", metavar="EXT", help="write a WFDB annotation file "
                   "<record>.<EXT> per record (letters only; never atr)")
    p.add_argument("--ann-dir", metavar="DIR", help="folder of --write-ann (default: here; "
                   "it must exist)")
    p.add_argument("--force", action="store_true",
                   help="replace existing --write-ann files (reference annotations never)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_classify)
