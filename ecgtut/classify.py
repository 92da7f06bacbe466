"""Chapter 08 -- from a raw recording to labelled beats, with no annotation at all.

Everything before this chapter started from the cardiologists' R peaks. A new
recording has none: :func:`classify_signal` finds them itself and labels them,
in the steps of the course, at whatever sampling frequency the recorder used::

    signal (fs Hz) -> resample to the model's 360 Hz -> fill invalid samples
      -> detect R peaks (Pan & Tompkins, on the raw lead)
      -> db6 wavelet denoising -> beats of 251 samples around each peak
      -> RR features -> the network -> label and probability of each beat
      -> sample indices back at fs Hz

Long recordings (a 24-hour Holter record is 31 million samples at 360 Hz) are
processed in chunks of ``chunk_s`` seconds, each with ``margin_s`` seconds of
signal on both sides, so that the detector's thresholds have settled and the
wavelet's edges are far away when the chunk's own stretch begins: a beat near a
seam is found exactly as in the unsplit signal (a test checks it).

The model comes from :mod:`ecgtut.deploy` (:func:`ecgtut.train_model`,
:func:`ecgtut.load_model`, :func:`ecgtut.default_model`).

Example
-------
>>> net, meta = train_model(fast=True, progress=False)          # doctest: +SKIP
>>> result = classify_record("100", net=net, meta=meta)         # doctest: +SKIP
>>> result["counts"]                                            # doctest: +SKIP
{'N': 2237, 'S': 31, 'V': 1, 'F': 0}
"""

from __future__ import annotations

import numpy as np

from ecgtut.database import DataError
from ecgtut.deploy import _DENOISER, MODEL_FS

__all__ = ["ANNOTATION_SYMBOLS", "detect_in_chunks", "classify_signal",
           "classify_record", "agreement", "annotation_free_scores", "write_annotations",
           "format_classification"]

ANNOTATION_SYMBOLS = {"N": "N", "S": "A", "V": "V", "F": "F", "Q": "Q"}
"""The WFDB beat symbol written for each AAMI class (S as ``A``, an atrial premature beat)."""


def _detect_stretch(signal, fs):
    from ecgtut.detect import detect_qrs

    if np.ptp(signal) == 0:
        return np.zeros(0, dtype=np.int64)
    return detect_qrs(signal, fs)


def _chunks(n, fs, chunk_s, margin_s):
    """``(lo, start, end, hi)`` of each chunk: its own samples ``start:end``, read as ``lo:hi``."""
    chunk, margin = int(round(chunk_s * fs)), int(round(margin_s * fs))
    for start in range(0, n, chunk):
        yield max(0, start - margin), start, min(n, start + chunk), min(n, start + chunk + margin)


def detect_in_chunks(signal, fs, *, chunk_s=600.0, margin_s=30.0):
    """R peaks of a long signal, detected chunk by chunk with overlapping margins.

    Each chunk of ``chunk_s`` seconds is detected with ``margin_s`` seconds of
    the signal on both sides; only the peaks inside the chunk itself are kept.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
    fs : float
        Sampling frequency in Hz.
    chunk_s, margin_s : float
        Chunk and margin lengths in seconds.

    Returns
    -------
    np.ndarray of int64, shape (n_beats,)
        Increasing sample indices.

    Example
    -------
    >>> fs = 250
    >>> x = np.zeros(60 * fs)
    >>> x[fs // 2 :: fs] = 1.0
    >>> len(detect_in_chunks(x, fs, chunk_s=20, margin_s=5))
    60
    """
    if len(signal) <= (chunk_s + 2 * margin_s) * fs:
        return _detect_stretch(signal, fs)
    peaks = []
    for lo, start, end, hi in _chunks(len(signal), fs, chunk_s, margin_s):
        found = _detect_stretch(signal[lo:hi], fs) + lo
        peaks.append(found[(found >= start) & (found < end)])
    return np.unique(np.concatenate(peaks))


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


def _check_input(signal, fs):
    signal = np.asarray(signal)
    if signal.dtype != np.float32:
        signal = signal.astype(float)
    if signal.ndim != 1:
        raise DataError(f"expected one lead, shape (n_samples,), got shape {signal.shape}")
    if not np.isfinite(signal).any():
        raise DataError("the signal has no valid sample (all NaN): nothing to classify")
    return signal


def classify_signal(signal, fs, net, meta, *, chunk_s=600.0, margin_s=30.0, batch_size=4096):
    """Detect and label every beat of one ECG lead.

    Parameters
    ----------
    signal : array, shape (n_samples,)
        One lead in mV, any length and sampling frequency; NaN samples
        (invalid) are filled before processing, and beats touching them dropped.
    fs : float
        Its sampling frequency in Hz.
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
        ``proba`` (n_beats, n_classes), ``n_detected`` (before beats too close
        to an end or to invalid samples were dropped), ``classes``.

    Raises
    ------
    DataError
        Not one lead, no valid sample, a flat signal, or one too short to hold a beat.
    """
    from ecgtut.beats import segment_beats
    from ecgtut.features import rr_features
    from ecgtut.train import predict

    signal = _check_input(signal, fs)  # float32 stays float32: half the memory of float64
    model_fs = meta.get("fs", MODEL_FS)
    duration = len(signal) / fs
    x, invalid = _fill_invalid(signal)
    if fs != model_fs:
        from scipy.signal import resample_poly

        up, down = _ratio(model_fs, fs)
        nearest = np.round(np.arange(int(np.ceil(len(x) * up / down))) * fs / model_fs)
        x = resample_poly(x, up, down).astype(np.float32)
        invalid = invalid[np.clip(nearest.astype(np.int64), 0, len(invalid) - 1)][: len(x)]
    if np.ptp(x) < 1e-6:
        raise DataError("the signal is flat: no heartbeat to find")
    window = net.window
    if duration < window.before + window.after:
        raise DataError(f"the recording lasts {duration:.2f} s, shorter than one beat window "
                        f"({window.before + window.after:.1f} s)")
    peaks = detect_in_chunks(x, model_fs, chunk_s=chunk_s, margin_s=margin_s)
    n_detected = len(peaks)
    clean = _denoise_in_chunks(x, model_fs, chunk_s, margin_s, meta)
    # 20 000 beats at a time: the FFT resampling of all windows at once needs ~5 KB a beat
    parts = [segment_beats(clean, peaks[i: i + 20_000], model_fs, window)
             for i in range(0, max(len(peaks), 1), 20_000)]
    X = np.concatenate([p[0] for p in parts])
    kept = np.concatenate([p[1] for p in parts])
    n_before, n_after = window.samples_at(model_fs)
    touched = np.zeros(int(kept.sum()), dtype=bool)  # the beat's window holds an invalid sample
    if invalid.any():
        count = np.r_[0, np.cumsum(invalid, dtype=np.int32)]  # invalid samples before each
        lo = np.clip(peaks[kept] - n_before, 0, len(invalid))
        hi = np.clip(peaks[kept] + n_after, 0, len(invalid))
        touched = count[hi] - count[lo] > 0
    features = None
    if meta.get("features") == "beat+rr":
        if len(peaks) < 2:
            raise DataError("fewer than 2 beats found: RR intervals cannot be measured")
        features = rr_features(peaks, model_fs, **meta.get("rr", {}))[kept]
    elif meta.get("features") == "adaptive":  # chapter 07: rhythm and the usual beat, unlabelled
        from ecgtut.fusion import recording_features

        if kept.sum() < 2:
            raise DataError("fewer than 2 beats found: RR intervals cannot be measured")
        features = recording_features(X, peaks[kept], model_fs, window)
    X, peaks = X[~touched], peaks[kept][~touched]
    features = None if features is None else features[~touched]
    classes = meta["classes"]
    if len(X):
        pred, proba = predict(net, X, batch_size=batch_size, features=features, device="cpu")
    else:
        pred, proba = np.zeros(0, dtype=np.int64), np.zeros((0, len(classes)), np.float32)
    sample = np.round(peaks * (fs / model_fs)).astype(np.int64)
    return {"fs": float(fs), "sample": sample, "time_s": sample / fs,
            "label": np.array(classes)[pred] if len(pred) else np.zeros(0, "<U1"),
            "prob": proba[np.arange(len(pred)), pred], "proba": proba,
            "n_detected": n_detected, "classes": list(classes)}


def _ratio(to_fs, from_fs):
    from fractions import Fraction

    f = Fraction(str(to_fs)) / Fraction(str(from_fs))
    f = f.limit_denominator(1000)
    return f.numerator, f.denominator


def classify_record(record, *, data_dir=None, lead=None, net, meta, **kwargs):
    """Read one lead of any WFDB record and :func:`classify_signal` it.

    The lead is read an hour at a time into float32 (a day of recording at
    360 Hz is 125 MB so, where wfdb's float64 of the whole would be 250 MB
    plus its working copies).

    Parameters
    ----------
    record : str
        A path stem (``"/data/rec1"``) or an MIT-BIH record name.
    lead : str or int, optional
        Lead name or channel index (default: ``"MLII"`` if the record has it,
        else the first channel).

    Returns
    -------
    dict
        :func:`classify_signal`'s, plus ``record``, ``lead``, ``duration_s``.
    """
    from ecgtut.data import read_record

    if lead is None:
        lead = _default_lead(record, data_dir)
    rec = read_record(record, data_dir, lead=lead, sampto=1)  # checks files and lead
    signal = _read_float32(record, data_dir, rec)
    result = classify_signal(signal, rec.fs, net, meta, **kwargs)
    return {**result, "record": rec.name, "lead": rec.lead, "duration_s": len(signal) / rec.fs}


def _read_float32(record, data_dir, rec, piece_s=3600):
    """The whole lead of ``rec`` as float32, read ``piece_s`` seconds at a time."""
    import wfdb

    from ecgtut.data import _record_path

    stem = _record_path(record, data_dir)
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


def _default_lead(record, data_dir):
    import wfdb

    from ecgtut.data import _record_path

    stem = _record_path(record, data_dir)
    try:
        names = wfdb.rdheader(str(stem)).sig_name or []
    except Exception as exc:
        raise DataError(f"record {stem.name}: header cannot be read ({exc})") from exc
    return "MLII" if "MLII" in names else 0


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

    Symbols: :data:`ANNOTATION_SYMBOLS`; the file's sampling frequency is the record's.
    """
    import wfdb

    symbols = [ANNOTATION_SYMBOLS[c] for c in result["label"].tolist()]
    wfdb.wrann(record_name, extension, np.asarray(result["sample"], dtype=np.int64), symbols,
               fs=result["fs"], write_dir=str(write_dir))


def format_classification(result, *, strip=5):
    """The summary :command:`ecgtut classify` prints: beats per class, heart rate, first abnormal.

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
    if n > 1:
        rr = np.diff(t)
        lines.append(f"heart rate: mean {60 / rr.mean():.0f} bpm (median RR {np.median(rr):.2f} s)")
    abnormal = np.flatnonzero(labels != "N")[:strip]
    if len(abnormal):
        lines.append("first abnormal beats: " + ", ".join(
            f"{labels[i]} at {t[i]:.1f} s (p={result['prob'][i]:.2f})" for i in abnormal))
    else:
        lines.append("no abnormal beat")
    return "\n".join(lines)
