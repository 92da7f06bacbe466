"""Chapter 08 -- a long recording's heartbeats: detected in chunks, judged stretch by stretch.

A QRS detector always finds *something*: its thresholds adapt to whatever it
is given, so a flat line between two electrodes, noise, or a slow wave give
"beats" too. Before a beat is labelled, :func:`ecgtut.classify_signal` judges
the recording in stretches of :data:`BLOCK_S` seconds, from what the detector
computed anyway (:func:`ecgtut.pan_tompkins_stages`):

* a stretch with no detection holds no heartbeat (a flat line, an electrode off);
* its detections must stand out of the stretch's level in the integrated
  signal (:data:`MIN_PROMINENCE`), else they are noise;
* enough of its amplitude must lie in the QRS band, 5-20 Hz
  (:data:`MIN_BAND_SHARE`), else it is a slow wave, not a heartbeat.

A refused stretch is reported, never labelled, and the heart rate is measured
only over RR intervals that cross no refused stretch and no invalid sample.

Long recordings (a 24-hour Holter record is 31 million samples at 360 Hz) are
detected in chunks of ``chunk_s`` seconds, each with ``margin_s`` seconds of
signal on both sides (:func:`detect_in_chunks`), so that the detector's
thresholds have settled when the chunk's own stretch begins: a beat near a
seam is found exactly as in the unsplit signal (a test checks it).

Example
-------
>>> import numpy as np
>>> peaks = np.arange(0, 7200, 288)              # a beat every 0.8 s at 360 Hz
>>> bpm, n_rr = heart_rate(peaks, 360)
>>> round(bpm), n_rr
(75, 24)
>>> reasons = np.array(["", "noise: no QRS stands out"], dtype=object)  # 2 blocks of 10 s
>>> round(heart_rate(peaks, 360, reasons=reasons, block=3600)[0])        # within block 0 only
75
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLOCK_S", "MIN_PROMINENCE", "MIN_BAND_SHARE", "detect_in_chunks", "detect_and_judge",
           "judge_blocks", "no_beat_stretches", "heart_rate"]

BLOCK_S = 10.0
"""Length (s) of the stretches judged for a heartbeat: each is kept or refused whole."""

MIN_PROMINENCE = 4.0
"""A stretch's QRS humps (the median height of its detections in the integrated signal)
must stand this many times above the stretch's median level. Measured over 10 s stretches:
on the first 10 min of the 22 DS2 records and of 108 and 203 never below 6.5; on white,
brown or sine-plus-white noise 1.1 to 1.8 (no detection stands out: it is noise)."""

MIN_BAND_SHARE = 0.1
"""The 5-20 Hz (QRS) band's share of a stretch's peak-to-peak amplitude (denoised signal):
0.38 to 0.75 on those MIT-BIH stretches, 0.23 in 207's ventricular flutter, 0.02 or less
for a slow 0.5 mV sine (a wave, not a heartbeat)."""


def _detect_stretch(signal, fs):
    """R peaks of one stretch and its Pan & Tompkins stages (None for a flat stretch)."""
    from ecgtut.detect import detect_qrs

    if np.ptp(signal) == 0:
        return np.zeros(0, dtype=np.int64), None
    return detect_qrs(signal, fs, return_stages=True)


def _chunks(n, fs, chunk_s, margin_s):
    """``(lo, start, end, hi)`` of each chunk: its own samples ``start:end``, read as ``lo:hi``."""
    chunk, margin = int(round(chunk_s * fs)), int(round(margin_s * fs))
    for start in range(0, n, chunk):
        yield max(0, start - margin), start, min(n, start + chunk), min(n, start + chunk + margin)


def _block_stats(peaks, stages, lo, start, end, hi, block):
    """``(n_beats, prominence, QRS-band peak-to-peak)`` of the blocks starting in ``start:end``.

    Parameters
    ----------
    peaks : np.ndarray of int, shape (n_beats,)
        Detections, as sample indices of the whole recording.
    stages : PanTompkinsStages or None
        The detector's stages of samples ``lo:hi`` (None: a flat stretch).
    lo, start, end, hi : int
        The stretch read (``lo:hi``) and its own samples (``start:end``).
    block : int
        Block length in samples, blocks counted from the recording's start.

    Returns
    -------
    list of (int, float, float)
        Per block: detections, the median detection's height over the
        block's median level of the integrated signal, and the peak-to-peak
        of the band-passed (5-20 Hz) signal in the input's unit.
    """
    rows = []
    for b0 in range(-(-start // block) * block, end, block):
        b1 = min(b0 + block, hi)
        inside = peaks[(peaks >= b0) & (peaks < b1)]
        if stages is None or not len(inside):
            rows.append((len(inside), 0.0, 0.0))
            continue
        level = np.median(stages.integrated[b0 - lo: b1 - lo])
        humps = np.median(stages.integrated[inside - lo])
        rows.append((len(inside), humps / level if level > 0 else np.inf,
                     np.ptp(stages.filtered[b0 - lo: b1 - lo])))
    return rows


def detect_and_judge(signal, fs, chunk_s, margin_s, block):
    """R peaks of a long signal and statistics of each block, for :func:`judge_blocks`.

    ``signal`` (shape (n_samples,)), ``fs`` (Hz), ``chunk_s`` and ``margin_s``
    (s) as in :func:`detect_in_chunks`; ``block``: block length in samples.

    Returns
    -------
    peaks : np.ndarray of int64, shape (n_beats,)
    stats : np.ndarray, shape (n_blocks, 3)
        Per block: detections, their prominence, the QRS band's peak-to-peak.
    """
    if len(signal) <= (chunk_s + 2 * margin_s) * fs:
        parts = [(0, 0, len(signal), len(signal))]
    else:
        parts = list(_chunks(len(signal), fs, chunk_s, margin_s))
    peaks, stats = [], []
    for lo, start, end, hi in parts:
        found, stages = _detect_stretch(signal[lo:hi], fs)
        found = found + lo
        peaks.append(found[(found >= start) & (found < end)])
        stats += _block_stats(found, stages, lo, start, end, hi, block)
    return np.unique(np.concatenate(peaks)), np.array(stats, dtype=float).reshape(-1, 3)


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
    return detect_and_judge(signal, fs, chunk_s, margin_s, int(round(BLOCK_S * fs)))[0]


def judge_blocks(stats, clean, block, fs):
    """The reason each block is refused (``""``: kept), shape (n_blocks,).

    ``stats`` are :func:`block_stats`' rows, shape (n_blocks, 3); ``clean``
    the denoised signal, shape (n_samples,), whose peak-to-peak the QRS band
    is compared with; ``block`` in samples, ``fs`` in Hz.

    A block with no detection, with detections that do not stand out of the
    noise (:data:`MIN_PROMINENCE`), or with too little of its amplitude in
    the QRS band (:data:`MIN_BAND_SHARE`) holds no heartbeat this model can label.
    """
    reasons = np.full(len(stats), "", dtype=object)
    for k, (n_beats, prominence, band_ptp) in enumerate(stats):
        piece = clean[k * block: (k + 1) * block]
        if not n_beats:
            if len(piece) >= 3 * fs:  # a last block of a second or two: nothing to say
                reasons[k] = "no beat detected"
        elif prominence < MIN_PROMINENCE:
            reasons[k] = "noise: no QRS stands out"
        elif band_ptp < MIN_BAND_SHARE * np.ptp(piece):
            reasons[k] = "no QRS: a slow wave, not a heartbeat"
    return reasons


def no_beat_stretches(reasons, block, fs, n):
    """Runs of refused blocks as ``(start_s, end_s, reason)``, one per run of the same reason.

    ``reasons`` from :func:`judge_blocks`, ``block`` in samples, ``fs`` in Hz,
    ``n`` the recording's length in samples (the last block may be shorter).
    """
    out = []
    for k, why in enumerate(reasons):
        if not why:
            continue
        start, end = k * block / fs, min(n, (k + 1) * block) / fs
        if out and out[-1][2] == why and out[-1][1] == start:
            out[-1][1] = end
        else:
            out.append([start, end, why])
    return [(round(a, 3), round(b, 3), why) for a, b, why in out]


def heart_rate(peaks, fs, *, reasons=None, block=None, invalid=None):
    """Mean heart rate (bpm) over the RR intervals that span no gap, and their number.

    An interval counts only between two consecutive detections with no
    refused block (``reasons[k] != ""``) and no invalid sample between them:
    never across a gap.

    Parameters
    ----------
    peaks : np.ndarray of int, shape (n_beats,)
        R peaks (sample indices, increasing) of the kept blocks.
    fs : float
        Sampling frequency in Hz.
    reasons : np.ndarray, shape (n_blocks,), optional
        :func:`judge_blocks`' verdicts, with ``block`` (samples).
    invalid : np.ndarray of bool, shape (n_samples,), optional
        Samples that were not measured.

    Returns
    -------
    bpm : float or None
        None when no interval is left.
    n_rr : int
        Intervals averaged.
    """
    peaks = np.asarray(peaks, dtype=np.int64)
    if len(peaks) < 2:
        return None, 0
    valid = np.ones(len(peaks) - 1, dtype=bool)
    if reasons is not None:
        run = np.cumsum(reasons != "")[peaks // block]  # refused blocks up to each peak's block
        valid &= run[1:] == run[:-1]
    if invalid is not None:
        count = np.r_[0, np.cumsum(invalid, dtype=np.int64)]
        valid &= count[peaks[1:] + 1] - count[peaks[:-1]] == 0
    rr = np.diff(peaks)[valid] / fs
    return (float(60 / rr.mean()), int(valid.sum())) if len(rr) else (None, 0)
