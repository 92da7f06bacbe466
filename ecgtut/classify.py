"""Chapter 08 -- from a raw recording to labelled beats, with no annotation at all.

Everything before this chapter started from the cardiologists' R peaks. A new
recording has none: :func:`classify_signal` finds them itself and labels them,
in the steps of the course, at whatever sampling frequency the recorder used::

    signal (fs Hz) -> resample to the model's 360 Hz -> fill invalid samples
      -> detect R peaks (Pan & Tompkins, on the raw lead)
      -> db6 wavelet denoising -> each 10 s stretch judged: no heartbeat there
         (flat, noise, a slow wave), its detections are refused, not labelled
      -> beats of 251 samples around each kept peak
      -> RR features -> the network -> label and probability of each beat
      -> sample indices back at fs Hz

Long recordings are detected, judged (:mod:`ecgtut.quality`) and denoised in
chunks of ``chunk_s`` seconds, each with ``margin_s`` seconds of signal on both
sides, so that the wavelet's edges are far away too when the chunk's own
stretch begins. Sampling frequencies outside :data:`FS_RANGE` and recordings
too short for the model's wavelet transform are refused, with the reason.

The model comes from :mod:`ecgtut.deploy` (:func:`ecgtut.train_model`,
:func:`ecgtut.load_model`, :func:`ecgtut.default_model`).

Example
-------
>>> net, meta = train_model(fast=True, progress=False)          # doctest: +SKIP
>>> result = classify_record("100", net=net, meta=meta)         # doctest: +SKIP
>>> result["counts"]                                            # doctest: +SKIP
{'N': 2237, 'S': 31, 'V': 1, 'F': 0}
>>> FS_RANGE                              # Hz: a recording at another rate is refused
(100.0, 10000.0)
"""

from __future__ import annotations

import numpy as np

from ecgtut.database import DataError
from ecgtut.deploy import _DENOISER, MODEL_FS
from ecgtut.quality import (
    BLOCK_S,
    _chunks,
    detect_and_judge,
    detect_in_chunks,  # noqa: F401 (ecgtut.classify.detect_in_chunks, as before)
    heart_rate,
    judge_blocks,
    no_beat_stretches,
)

__all__ = ["ANNOTATION_SYMBOLS", "FS_RANGE", "classify_signal",
           "classify_record", "agreement", "annotation_free_scores", "write_annotations",
           "format_classification"]

ANNOTATION_SYMBOLS = {"N": "N", "S": "A", "V": "V", "F": "F", "Q": "Q"}
"""The WFDB beat symbol written for each AAMI class (S as ``A``, an atrial premature beat)."""

FS_RANGE = (100.0, 10_000.0)
"""Sampling frequencies (Hz) a recording may have. The detector's 5-20 Hz band needs more
than 40 Hz; on MIT-BIH records 100, 203 and 232 (10 min each) brought down to 80, 100 or
128 Hz and back, it finds exactly the same beats as at 360 Hz. Above 10 kHz, resampling a
long recording would need more memory than it is worth."""

def _denoise_in_chunks(signal, fs, chunk_s, margin_s, meta):
    from ecgtut.denoise import denoise_wavelet

    d = meta.get("denoise", _DENOISER)
    out = np.empty(len(signal), dtype=np.float32)
    for lo, start, end, hi in _chunks(len(signal), fs, chunk_s, margin_s):
        piece = denoise_wavelet(signal[lo:hi], wavelet=d["wavelet"], level=d["level"])
        out[start:end] = piece[start - lo: end - lo]
    return out


def _fill_invalid(signal):
    """float32, without a copy when every sample is valid; else invalid samples filled."""
    invalid = ~np.isfinite(signal)
    if not invalid.any():
        return signal.astype(np.float32, copy=False), invalid
    from ecgtut.denoise import interpolate_invalid

    return interpolate_invalid(signal)[0].astype(np.float32), invalid


def _check_fs(fs):
    """ValueError unless ``fs`` is a sampling frequency in :data:`FS_RANGE` (Hz)."""
    low, high = FS_RANGE
    try:
        usable = low <= float(fs) <= high
    except (TypeError, ValueError):
        usable = False
    if not usable:
        raise ValueError(f"fs must be a sampling frequency from {low:g} to {high:g} Hz (the QRS "
                         f"detector and the beat window need at least {low:g} Hz), got {fs!r}")


def _check_input(signal, fs):
    _check_fs(fs)  # before anything is allocated at that rate
    signal = np.asarray(signal)
    if signal.dtype != np.float32:
        signal = signal.astype(float)
    if signal.ndim != 1:
        raise DataError(f"expected one lead, shape (n_samples,), got shape {signal.shape}")
    if not np.isfinite(signal).any():
        raise DataError("the signal has no valid sample (all NaN): nothing to classify")
    return signal


def _check_length(duration, window, meta):
    """DataError if ``duration`` (s) cannot hold a beat window or the model's wavelet transform."""
    from ecgtut.denoise import _min_samples

    if duration < window.before + window.after:
        raise DataError(f"the recording lasts {duration:.2f} s, shorter than one beat window "
                        f"({window.before + window.after:.1f} s)")
    d = meta.get("denoise", _DENOISER)
    need = _min_samples(d["wavelet"], d["level"]) / meta.get("fs", MODEL_FS)
    if duration < need:
        raise DataError(f"the recording lasts {duration:.1f} s: the model's denoising "
                        f"({d['wavelet']} wavelet, {d['level']} levels) needs at least "
                        f"{np.ceil(need * 10) / 10:.1f} s")


def _at_model_fs(signal, fs, model_fs):
    """The signal filled and resampled to ``model_fs`` Hz, and where it was invalid there."""
    x, invalid = _fill_invalid(signal)
    if fs != model_fs:
        from scipy.signal import resample_poly

        up, down = _ratio(model_fs, fs)
        nearest = np.round(np.arange(int(np.ceil(len(x) * up / down))) * fs / model_fs)
        x = resample_poly(x, up, down).astype(np.float32)
        invalid = invalid[np.clip(nearest.astype(np.int64), 0, len(invalid) - 1)][: len(x)]
    return x, invalid


def _beats_to_label(clean, peaks, invalid, fs, window, meta):
    """Beats, RR features and R peaks of the detections that can be labelled, and why not.

    Returns ``(X (n, 251), features (n, 5 or 259) or None, peaks (n,), refused {reason: n})``.
    """
    from ecgtut.beats import segment_beats
    from ecgtut.features import rr_features
    from ecgtut.fusion import recording_features

    refused = {}
    rr = meta.get("features") in ("beat+rr", "adaptive")
    if rr and len(peaks) < 2:
        refused["fewer than 2 beats: no RR interval"] = len(peaks)
        peaks = peaks[:0]
    # 20 000 beats at a time: the FFT resampling of all windows at once needs ~5 KB a beat
    parts = [segment_beats(clean, peaks[i: i + 20_000], fs, window)
             for i in range(0, max(len(peaks), 1), 20_000)]
    X = np.concatenate([p[0] for p in parts])
    kept = np.concatenate([p[1] for p in parts])
    refused["window crosses the recording's start or end"] = int(np.sum(~kept))
    n_before, n_after = window.samples_at(fs)
    touched = np.zeros(int(kept.sum()), dtype=bool)  # the beat's window holds an invalid sample
    if invalid.any():
        count = np.r_[0, np.cumsum(invalid, dtype=np.int64)]  # invalid samples before each
        lo = np.clip(peaks[kept] - n_before, 0, len(invalid))
        hi = np.clip(peaks[kept] + n_after, 0, len(invalid))
        touched = count[hi] - count[lo] > 0
    refused["invalid samples in the window"] = int(touched.sum())
    features = None
    if meta.get("features") == "beat+rr":
        features = (rr_features(peaks, fs, **meta.get("rr", {}))[kept][~touched] if len(peaks)
                    else np.zeros((0, 5), np.float32))
    elif meta.get("features") == "adaptive":  # chapter 07: rhythm and usual beat, unlabelled
        features = recording_features(X, peaks, fs, window, kept=kept)[~touched]
    return X[~touched], features, peaks[kept][~touched], {k: n for k, n in refused.items() if n}


def classify_signal(signal, fs, net, meta, *, chunk_s=600.0, margin_s=30.0, batch_size=4096):
    """Detect and label every beat of one ECG lead, refusing what holds no heartbeat.

    The recording is judged in stretches of :data:`BLOCK_S` seconds: one with
    no detection, with detections that do not stand out of the noise or with
    no QRS-band content (a flat line, noise, a slow wave) holds no heartbeat,
    and its detections are refused, not labelled. The heart rate comes from
    the R peaks detected, over intervals that cross no refused stretch and no
    invalid sample.

    Parameters
    ----------
    signal : array, shape (n_samples,)
        One lead in mV, any length and sampling frequency; NaN samples
        (invalid) are filled before processing, and beats touching them dropped.
    fs : float
        Its sampling frequency in Hz, within :data:`FS_RANGE`.
    net, meta
        A model and its meta (:func:`load_model`, :func:`default_model`).
    chunk_s, margin_s : float
        Chunking of long recordings (see the module's text).
    batch_size : int
        Beats per forward pass.

    Returns
    -------
    dict
        ``fs`` (the signal's), ``sample`` (int64, R peaks at ``fs``),
        ``time_s``, ``label`` (str), ``prob`` (probability of the label),
        ``proba`` (n_beats, n_classes), ``classes``; ``n_detected`` (every
        detection: the labelled ones plus the refused ones), ``refused``
        (``{reason: count}``), ``no_beat_stretches`` (``[(start_s, end_s,
        reason)]``), ``heart_rate_bpm`` (None without an RR interval) and
        ``n_rr`` (the RR intervals it averages).

    Raises
    ------
    ValueError
        A sampling frequency outside :data:`FS_RANGE` (0, 1e-3, 20 Hz...).
    DataError
        Not one lead, no valid sample, a flat signal, or one too short to hold a
        beat window or the model's wavelet transform (the message gives the minimum).
    """
    from collections import Counter

    from ecgtut.train import predict

    signal = _check_input(signal, fs)  # float32 stays float32: half the memory of float64
    model_fs = meta.get("fs", MODEL_FS)
    _check_length(len(signal) / fs, net.window, meta)
    x, invalid = _at_model_fs(signal, fs, model_fs)
    if np.ptp(x) < 1e-6:
        raise DataError("the signal is flat: no heartbeat to find")
    block = int(round(BLOCK_S * model_fs))
    peaks, stats = detect_and_judge(x, model_fs, chunk_s, margin_s, block)
    clean = _denoise_in_chunks(x, model_fs, chunk_s, margin_s, meta)
    reasons = judge_blocks(stats, clean, block, model_fs)
    why = reasons[peaks // block]
    refused = {k: int(n) for k, n in Counter(why[why != ""].tolist()).items()}
    ok = peaks[why == ""]
    X, features, labelled, more = _beats_to_label(clean, ok, invalid, model_fs, net.window, meta)
    classes = meta["classes"]
    if len(X):
        pred, proba = predict(net, X, batch_size=batch_size, features=features, device="cpu")
    else:
        pred, proba = np.zeros(0, dtype=np.int64), np.zeros((0, len(classes)), np.float32)
    sample = np.round(labelled * (fs / model_fs)).astype(np.int64)
    bpm, n_rr = heart_rate(ok, model_fs, reasons=reasons, block=block,
                           invalid=invalid if invalid.any() else None)
    return {"fs": float(fs), "sample": sample, "time_s": sample / fs,
            "label": np.array(classes)[pred] if len(pred) else np.zeros(0, "<U1"),
            "prob": proba[np.arange(len(pred)), pred], "proba": proba,
            "n_detected": len(peaks), "classes": list(classes), "refused": {**refused, **more},
            "no_beat_stretches": no_beat_stretches(reasons, block, model_fs, len(x)),
            "heart_rate_bpm": bpm, "n_rr": n_rr}


def _ratio(to_fs, from_fs):
    from fractions import Fraction

    f = Fraction(str(to_fs)) / Fraction(str(from_fs))
    f = f.limit_denominator(1000)
    return f.numerator, f.denominator


def classify_record(record, *, data_dir=None, lead=None, net, meta, **kwargs):
    """Read one lead of a WFDB record or an EDF file and :func:`classify_signal` it.

    A WFDB lead is read an hour at a time into float32 (a day of recording at
    360 Hz is 125 MB so, where wfdb's float64 of the whole would be 250 MB
    plus its working copies); an EDF file is read whole by wfdb's EDF reader.

    Parameters
    ----------
    record : str
        A path (``"./rec1"``, ``"/data/rec1"``, ``"rec1.hea"``, ``"holter.edf"``)
        or an MIT-BIH record name (looked up in ``data_dir`` when no local
        file matches, see :func:`ecgtut.read_record`).
    lead : str or int, optional
        Lead name or channel index (default: ``"MLII"`` if the record has it,
        else the first channel).

    Returns
    -------
    dict
        :func:`classify_signal`'s, plus ``record``, ``lead``, ``duration_s``.

    Raises
    ------
    DataError
        Missing or unreadable files, an unknown lead, a sampling frequency
        outside :data:`FS_RANGE` (said before any resampling), or what
        :func:`classify_signal` refuses.
    """
    from ecgtut.data import _is_edf, _record_path, read_record

    path = _record_path(record, data_dir)
    if lead is None:
        lead = _default_lead(path)
    edf = _is_edf(path)
    rec = read_record(path, lead=lead, sampto=None if edf else 1)  # checks files and lead
    try:
        _check_fs(rec.fs)
    except ValueError:
        raise DataError(f"record {rec.name}: sampling frequency {rec.fs:g} Hz is outside what "
                        f"the detector can use ({FS_RANGE[0]:g} to {FS_RANGE[1]:g} Hz)") from None
    signal = rec.signal.astype(np.float32) if edf else _read_float32(path, rec)
    try:
        result = classify_signal(signal, rec.fs, net, meta, **kwargs)
    except DataError as exc:  # say which record, as every other error does
        raise DataError(f"record {rec.name}: {exc}") from exc
    return {**result, "record": rec.name, "lead": rec.lead, "duration_s": len(signal) / rec.fs}


def _read_float32(stem, rec, piece_s=3600):
    """The whole lead of ``rec`` (WFDB record ``stem``) as float32, ``piece_s`` s at a time."""
    import wfdb

    header = wfdb.rdheader(str(stem))
    channel = header.sig_name.index(rec.lead)
    n, step = header.sig_len, int(piece_s * rec.fs)
    out = np.empty(n, dtype=np.float32)
    try:
        for start in range(0, n, step):
            stop = min(n, start + step)
            part = wfdb.rdrecord(str(stem), channels=[channel], sampfrom=start, sampto=stop)
            out[start:stop] = part.p_signal[:, 0]
    except Exception as exc:  # a truncated or damaged signal file
        from ecgtut.data import _diagnose

        _diagnose(stem, rec.lead)
        raise DataError(f"record {stem.name}: cannot be read ({exc})") from exc
    return out


def _default_lead(path):
    from ecgtut.data import _lead_names

    return "MLII" if "MLII" in _lead_names(path) else 0


def agreement(result, annotations):
    """How the detected, labelled beats agree with reference annotations.

    Parameters
    ----------
    result : dict
        :func:`classify_signal`'s.
    annotations : Annotations
        The reference (:func:`ecgtut.read_annotations`), at the result's ``fs``.

    Returns
    -------
    dict
        ``se``, ``ppv``, ``tp``, ``fp``, ``fn`` of detection (150 ms), and
        ``confusion``: rows the reference class, columns the label given, over
        the matched beats (classes of ``result``).
    """
    from ecgtut.detect_scoring import match_detections

    ref = annotations.beats()
    detection, matched_ref, matched_test = match_detections(ref.sample, result["sample"],
                                                            result["fs"])
    classes = result["classes"]
    index = {k: i for i, k in enumerate(classes)}
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for true, given in zip(ref.aami[matched_ref], result["label"][matched_test]):
        if true in index:
            confusion[index[true], index[given]] += 1
    return {**detection, "confusion": confusion.tolist(), "classes": classes}


def _scores_from_counts(found, labelled, reference, classes):
    """Se and +P per class from counts of right labels, labels given and reference beats."""
    out = {}
    for c in classes:
        out[c] = {"se": found[c] / reference[c] if reference[c] else None,
                  "ppv": found[c] / labelled[c] if labelled[c] else None,
                  "support": int(reference[c]), "predicted": int(labelled[c])}
    return out


def annotation_free_scores(net, meta, data_dir=None, records=None, *, beats=None,
                           progress=True):
    """The DS2 records classified twice: from detected beats, and from the annotated ones.

    Detected: :func:`classify_record` on each record, no annotation used.
    A reference beat counts as found for its class only if a detection
    matches it (150 ms) *and* carries its label; every detection labelled
    ``c`` counts in the +P of ``c`` (a false detection labelled S lowers S +P).
    Annotated: the same network on the beats of chapter 03 (reference R peaks).

    Returns
    -------
    dict
        ``detected`` and ``annotated``: ``per_class`` Se/+P (4 classes) over
        the records; ``detection``: Se/+P of the detector on them; ``seconds``.
    """
    import time

    from ecgtut.data import read_annotations
    from ecgtut.database import DS2
    from ecgtut.features import beat_rr_features
    from ecgtut.patients import CLASSES
    from ecgtut.train import predict

    records = list(records or DS2)
    classes = meta["classes"]
    found, labelled, reference = ({c: 0 for c in classes} for _ in range(3))
    tp = fp = fn = 0
    start = time.perf_counter()
    from tqdm import tqdm

    for record in tqdm(records, desc="classify", disable=not progress, unit="record"):
        result = classify_record(record, data_dir=data_dir, net=net, meta=meta)
        ref = read_annotations(record, data_dir, fs=result["fs"])
        a = agreement(result, ref)
        tp, fp, fn = tp + a["tp"], fp + a["fp"], fn + a["fn"]
        for i, c in enumerate(classes):
            found[c] += a["confusion"][i][i]
            labelled[c] += int(np.sum(result["label"] == c))
            reference[c] += int(np.sum(ref.beats().aami == c))
    seconds = time.perf_counter() - start
    detected = _scores_from_counts(found, labelled, reference, classes)
    if beats is None:
        from ecgtut.cache import load_beats

        beats = load_beats(data_dir, progress=progress)
    rows = np.flatnonzero(np.isin(beats.record, records) & np.isin(beats.aami, CLASSES))
    F = None
    if meta["features"] == "beat+rr":
        F = beat_rr_features(beats, **meta.get("rr", {}))[rows]
    elif meta["features"] == "adaptive":
        from ecgtut.fusion import fusion_features

        F = fusion_features(beats)[rows]
    pred = np.array(classes)[predict(net, beats.X[rows], features=F, device="cpu")[0]]
    truth = beats.aami[rows]
    annotated = _scores_from_counts(
        {c: int(np.sum((pred == c) & (truth == c))) for c in classes},
        {c: int(np.sum(pred == c)) for c in classes},
        {c: int(np.sum(truth == c)) for c in classes}, classes)
    return {"detected": {"per_class": detected}, "annotated": {"per_class": annotated},
            "detection": {"tp": tp, "fp": fp, "fn": fn, "se": tp / (tp + fn),
                          "ppv": tp / (tp + fp)},
            "records": records, "seconds": seconds}


def write_annotations(result, record_name, extension, write_dir="."):
    """Write the labelled beats as a WFDB annotation file ``<record_name>.<extension>``.

    Symbols: :data:`ANNOTATION_SYMBOLS`; the file's sampling frequency is the
    record's. The file is written whole or not at all (beside it first, then
    renamed), and replaces a file of that name: check before calling.

    Raises
    ------
    ValueError
        No beat to write (WFDB cannot store an empty annotation file this way).
    """
    import os
    import shutil
    import tempfile
    from pathlib import Path

    import wfdb

    if not len(result["label"]):
        raise ValueError("no labelled beat to write")
    symbols = [ANNOTATION_SYMBOLS[c] for c in result["label"].tolist()]
    scratch = Path(tempfile.mkdtemp(prefix=".ecgtut-ann-", dir=write_dir))
    try:
        wfdb.wrann(record_name, extension, np.asarray(result["sample"], dtype=np.int64),
                   symbols, fs=result["fs"], write_dir=str(scratch))
        name = f"{record_name}.{extension}"
        os.replace(scratch / name, Path(write_dir) / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _stretch_lines(stretches, duration_s, most=4):
    """``no heartbeat found ...`` lines for :func:`format_classification`."""
    if not stretches:
        return []
    total = sum(end - start for start, end, _ in stretches)
    if total >= duration_s - BLOCK_S / 2:
        reasons = sorted({why for _, _, why in stretches})
        return [f"no heartbeat found in the whole recording ({'; '.join(reasons)})"]
    shown = ", ".join(f"{start:.0f}-{end:.0f} s ({why})" for start, end, why in stretches[:most])
    more = f" and {len(stretches) - most} more" if len(stretches) > most else ""
    return [f"no heartbeat found in {total:.0f} s: {shown}{more}; not labelled"]


def format_classification(result, *, strip=5):
    """The summary :command:`ecgtut classify` prints: beats per class, refusals, heart rate.

    Parameters
    ----------
    result : dict
        :func:`classify_record`'s.
    strip : int
        Abnormal (not N) beats listed.
    """
    labels, t = result["label"], result["time_s"]
    n = len(labels)
    lines = [f"record {result.get('record', '?')}, lead {result.get('lead', '?')}, "
             f"{result['fs']:g} Hz, {result.get('duration_s', 0) / 60:.1f} min: {n} beats "
             f"classified ({result['n_detected']} detected)"]
    counts = {c: int(np.sum(labels == c)) for c in result["classes"]}
    lines.append("beats per class: " + ", ".join(
        f"{c} {k} ({100 * k / n:.1f} %)" if n else f"{c} 0" for c, k in counts.items()))
    refused = result.get("refused") or {}
    if refused:
        lines.append(f"refused: {sum(refused.values())} detections ("
                     + ", ".join(f"{why}: {k}" for why, k in refused.items()) + ")")
    lines += _stretch_lines(result.get("no_beat_stretches") or [],
                            result.get("duration_s") or np.inf)
    if result.get("heart_rate_bpm") is not None:
        lines.append(f"heart rate: mean {result['heart_rate_bpm']:.0f} bpm over "
                     f"{result['n_rr']} RR intervals (none across a gap)")
    abnormal = np.flatnonzero(labels != "N")[:strip]
    if len(abnormal):
        lines.append("first abnormal beats: " + ", ".join(
            f"{labels[i]} at {t[i]:.1f} s (p={result['prob'][i]:.2f})" for i in abnormal))
    elif n:
        lines.append("no abnormal beat")
    return "\n".join(lines)
