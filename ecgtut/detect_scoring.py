"""Chapter 08 -- scoring a QRS detector against the reference beats of MIT-BIH.

A detection is right when it lies within 150 ms of a reference beat (AAMI EC57;
wfdb's :func:`wfdb.processing.compare_annotations` does the matching). Over a
record, or the 48 records:

``se`` (sensitivity)
    the share of reference beats that were detected, TP / (TP + FN);
``ppv`` (positive predictivity, +P)
    the share of detections that are beats, TP / (TP + FP).

Record 207 holds six episodes of ventricular flutter (144 s, between the
annotations ``[`` and ``]``), in which the ECG is a fast sine-like wave and
there are no QRS complexes to find. EC57 leaves such episodes out of QRS
detection scores: so does ``flutter="exclude"`` (the default), which drops the
reference beats and the detections inside them. With ``"include"`` every
detection in an episode counts as a false one. :func:`score_detector` reports both.

Example
-------
>>> s = score_detections(np.array([100, 460, 820]), np.array([104, 830, 1000]), fs=360)
>>> s["tp"], s["fn"], s["fp"], round(s["se"], 3)
(2, 1, 1, 0.667)
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["DETECTORS", "flutter_episodes", "score_detections", "match_detections",
           "score_detector",
           "format_detector_table"]

MATCH_WINDOW_S = 0.150
"""Largest distance (seconds) between a detection and the reference beat it matches."""


def _pan_tompkins(signal, fs):
    from ecgtut.detect import detect_qrs

    return detect_qrs(signal, fs)


def _xqrs(signal, fs):
    from wfdb.processing import xqrs_detect

    return np.asarray(xqrs_detect(signal, fs=fs, verbose=False), dtype=np.int64)


def _neurokit(method):
    def detect(signal, fs):
        import neurokit2 as nk  # optional: pip install neurokit2 (a benchmark extra)

        _, info = nk.ecg_peaks(nk.ecg_clean(signal, sampling_rate=fs, method=method),
                               sampling_rate=fs, method=method)
        return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
    return detect


#: Detectors :func:`score_detector` knows by name: ``f(signal, fs) -> R-peak samples``.
DETECTORS = {
    "ecgtut": _pan_tompkins,
    "xqrs": _xqrs,
    "neurokit": _neurokit("neurokit"),
    "neurokit-pantompkins": _neurokit("pantompkins1985"),
}


def flutter_episodes(annotations):
    """Start and end samples of the ventricular flutter episodes (``[`` to ``]``).

    Parameters
    ----------
    annotations : Annotations
        All annotations of a record (:func:`ecgtut.read_annotations`).

    Returns
    -------
    np.ndarray of int, shape (n_episodes, 2)
        An episode left open at the end of the record ends at its last annotation.

    Example
    -------
    >>> from ecgtut.data import Annotations
    >>> a = Annotations(np.array([10, 50, 60, 90]), np.array(["N", "[", "!", "]"]), 360)
    >>> flutter_episodes(a).tolist()
    [[50, 90]]
    """
    episodes, start = [], None
    for sample, symbol in zip(annotations.sample.tolist(), annotations.symbol.tolist()):
        if symbol == "[":
            start = sample
        elif symbol == "]" and start is not None:
            episodes.append((start, sample))
            start = None
    if start is not None:
        episodes.append((start, int(annotations.sample[-1])))
    return np.array(episodes, dtype=np.int64).reshape(-1, 2)


def _outside(samples, episodes):
    """True for the samples that lie in none of the episodes."""
    keep = np.ones(len(samples), dtype=bool)
    for start, end in episodes:
        keep &= ~((samples >= start) & (samples <= end))
    return keep


def score_detections(reference, detections, fs, *, window_s=MATCH_WINDOW_S, exclude=None):
    """Match detections to reference beats (wfdb's ``compare_annotations``) and count.

    Parameters
    ----------
    reference, detections : array of int
        Sample indices of the reference beats and of the detections.
    fs : float
        Sampling frequency in Hz.
    window_s : float
        Largest distance in seconds for a match (150 ms).
    exclude : array of int, shape (k, 2), optional
        Sample intervals left out of the score (both lists lose what lies there).

    Returns
    -------
    dict
        ``tp``, ``fp``, ``fn`` (counts), ``se``, ``ppv`` (0-1, None when undefined).
    """
    reference = np.asarray(reference, dtype=np.int64)
    detections = np.asarray(detections, dtype=np.int64)
    if exclude is not None and len(exclude):
        reference = reference[_outside(reference, exclude)]
        detections = detections[_outside(detections, exclude)]
    return match_detections(reference, detections, fs, window_s=window_s)[0]


def match_detections(reference, detections, fs, *, window_s=MATCH_WINDOW_S):
    """Pair detections with reference beats (wfdb's ``compare_annotations``): counts and pairs.

    Returns
    -------
    counts : dict
        ``tp``, ``fp``, ``fn``, ``se``, ``ppv``, as :func:`score_detections`.
    matched_ref, matched_test : np.ndarray of int
        Indices into ``reference`` and ``detections`` of each matched pair.

    Example
    -------
    >>> counts, ref, test = match_detections([100, 460], [104, 900], fs=360)
    >>> counts["tp"], ref.tolist(), test.tolist()
    (1, [0], [0])
    """
    from wfdb.processing import compare_annotations

    reference = np.asarray(reference, dtype=np.int64)
    detections = np.asarray(detections, dtype=np.int64)
    matched_ref = matched_test = np.zeros(0, dtype=np.int64)
    if len(reference) and len(detections):
        c = compare_annotations(reference, detections, int(round(window_s * fs)))
        tp, fp, fn = int(c.tp), int(c.fp), int(c.fn)
        matched_ref = np.asarray(c.matched_ref_inds, dtype=np.int64)
        matched_test = np.asarray(c.matched_test_inds, dtype=np.int64)
    else:
        tp, fp, fn = 0, len(detections), len(reference)
    counts = {"tp": tp, "fp": fp, "fn": fn,
              "se": tp / (tp + fn) if tp + fn else None,
              "ppv": tp / (tp + fp) if tp + fp else None}
    return counts, matched_ref, matched_test


def _totals(rows):
    tp, fp, fn = (sum(r[k] for r in rows) for k in ("tp", "fp", "fn"))
    return {"tp": tp, "fp": fp, "fn": fn, "se": tp / (tp + fn) if tp + fn else None,
            "ppv": tp / (tp + fp) if tp + fp else None}


def score_detector(data_dir=None, records=None, *, detector="ecgtut", lead=0, progress=True):
    """Run a QRS detector over whole records and score it against the reference beats.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Database folder (see :func:`ecgtut.find_data_dir`).
    records : sequence of str, optional
        Default: all 48 records of MIT-BIH (paced ones included).
    detector : str or callable
        A name of :data:`DETECTORS` or ``f(signal, fs) -> sample indices``.
    lead : int or str
        The lead given to the detector (0: the first channel, MLII in 46 records).
    progress : bool
        Show a progress bar.

    Returns
    -------
    dict (JSON-serialisable)
        ``se``, ``ppv``, ``tp``, ``fp``, ``fn`` over all records with the flutter
        episodes left out; ``flutter_included``: the same with them in;
        ``records``; ``per_record``: each record's counts, ``se``, ``ppv``,
        ``flutter_included`` and ``seconds`` (detection time); ``seconds``
        (all detection time); ``detector``.
    """
    from tqdm import tqdm

    from ecgtut.data import read_annotations, read_record
    from ecgtut.database import RECORDS_ALL, find_data_dir

    detect = DETECTORS[detector] if isinstance(detector, str) else detector
    data_dir = find_data_dir(data_dir)
    records = list(records or RECORDS_ALL)
    per_record = {}
    for record in tqdm(records, desc=str(detector), disable=not progress, unit="record"):
        rec = read_record(record, data_dir, lead=lead)
        ann = read_annotations(record, data_dir)
        beats = ann.beats().sample
        start = time.perf_counter()
        found = detect(rec.signal, rec.fs)
        seconds = time.perf_counter() - start
        per_record[record] = {**score_detections(beats, found, rec.fs,
                                                 exclude=flutter_episodes(ann)),
                              "flutter_included": score_detections(beats, found, rec.fs),
                              "n_reference": len(beats), "seconds": seconds}
    rows = list(per_record.values())
    return {**_totals(rows), "flutter_included": _totals([r["flutter_included"] for r in rows]),
            "records": records, "per_record": per_record,
            "seconds": sum(r["seconds"] for r in rows),
            "detector": detector if isinstance(detector, str) else getattr(detector, "__name__",
                                                                            "custom")}


def _pct(x):
    return "—" if x is None else f"{100 * x:.2f}"


def format_detector_table(results):
    """One line per detector: Se and +P (flutter left out and in), beats missed and extra, time.

    Parameters
    ----------
    results : dict
        Name -> a :func:`score_detector` result.

    Returns
    -------
    str
    """
    head = (f"{'detector':<22}{'Se %':>8}{'+P %':>8}{'FN':>7}{'FP':>7}"
            f"{'Se % (VFL in)':>15}{'+P % (VFL in)':>15}{'seconds':>9}")
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        f = r["flutter_included"]
        lines.append(f"{name:<22}{_pct(r['se']):>8}{_pct(r['ppv']):>8}{r['fn']:>7}{r['fp']:>7}"
                     f"{_pct(f['se']):>15}{_pct(f['ppv']):>15}{r['seconds']:>9.1f}")
    return "\n".join(lines)
