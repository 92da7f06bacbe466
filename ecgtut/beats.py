"""Chapter 03 -- from recordings to heartbeats: R-peak-centred windows and the beat set.

Each annotated beat becomes one fixed-length example: the window from
``before`` seconds before its R peak to ``after`` seconds after it (0.4 s and
0.5 s: 144 + 180 = 324 samples at 360 Hz), resampled to 251 samples with
scipy's FFT resampler, the input length of the paper's network. Beats whose
window crosses a record end are dropped and counted.

:func:`load_beats` builds the whole database once and caches the arrays on
disk (outside the data folder), keyed by every parameter that shapes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ecgtut.data import (
    AAMI_CLASSES,
    FS_MITDB,
    RECORDS,
    DataError,
    _record_path,
    cache_dir,
    find_data_dir,
    read_annotations,
    read_record,
)
from ecgtut.denoise import denoise_signal

__all__ = ["BeatSet", "beats_from_record", "delineate_beat", "load_beats", "segment_beats"]

_CACHE_FORMAT = 3  # bump when the arrays or their meaning change


def segment_beats(signal, r_peaks, fs, before=0.4, after=0.5, n_samples=251):
    """Cut a window around each R peak and resample it to a fixed length.

    Parameters
    ----------
    signal : np.ndarray, shape (n_signal,)
        One ECG lead.
    r_peaks : np.ndarray of int, shape (n_beats,)
        Sample index of each R peak.
    fs : float
        Sampling frequency in Hz.
    before, after : float
        Window extent around the R peak, in seconds (0.4 s and 0.5 s:
        144 and 180 samples at 360 Hz).
    n_samples : int
        Length of each output beat, in samples (251 in the paper).

    Returns
    -------
    X : np.ndarray, shape (n_kept, n_samples), float32
        The resampled windows.
    kept : np.ndarray of bool, shape (n_beats,)
        False for the beats whose window would cross either end of ``signal``.

    Examples
    --------
    >>> x = np.arange(1000.0)
    >>> X, kept = segment_beats(x, np.array([100, 500, 950]), fs=360)
    >>> X.shape, kept
    ((1, 251), array([False,  True, False]))
    """
    n_before, n_after = round(before * fs), round(after * fs)
    r_peaks = np.asarray(r_peaks, dtype=np.int64)
    kept = (r_peaks - n_before >= 0) & (r_peaks + n_after <= len(signal))
    if not kept.any():  # also when the signal is shorter than one window
        return np.zeros((0, n_samples), dtype=np.float32), kept
    signal = np.asarray(signal, dtype=np.float32)  # float32: half the FFT work
    # one row per beat, copied from a strided view: (n_kept, 324) at 360 Hz
    windows = sliding_window_view(signal, n_before + n_after)[r_peaks[kept] - n_before]
    if windows.shape[1] != n_samples:
        from scipy import signal as sps  # imported here: most of a command's start-up otherwise

        windows = sps.resample(windows, n_samples, axis=1)
    return windows.astype(np.float32, copy=False), kept


@dataclass
class BeatSet:
    """Heartbeats of one or more records, ready for a classifier.

    Attributes
    ----------
    X : np.ndarray, shape (n, n_samples), float32
        Denoised beat windows (not standardised).
    aami : np.ndarray of str, shape (n,)
        AAMI class of each beat, one of ``"NSVFQ"``.
    symbol : np.ndarray of str, shape (n,)
        MIT-BIH annotation symbol of each beat.
    record : np.ndarray of str, shape (n,)
        Record (patient) of each beat -- what an inter-patient split groups by.
    r_peak : np.ndarray of int, shape (n,)
        R-peak sample index in its record, at ``fs``.
    fs : float
        Sampling frequency of the signals the beats were cut from, in Hz.
    dropped : dict
        ``{record: beats dropped because their window crossed a record end}``.
    skipped : dict
        ``{record: non-beat annotations skipped}`` (rhythm, noise, ...).
    params : dict
        The parameters that built the set.
    """

    X: np.ndarray
    aami: np.ndarray
    symbol: np.ndarray
    record: np.ndarray
    r_peak: np.ndarray
    fs: float
    dropped: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.X)

    def __repr__(self):
        counts = ", ".join(f"{c} {n}" for c, n in self.counts().items())
        return f"BeatSet({len(self)} beats of {len(set(self.record))} records: {counts})"

    def counts(self, classes=AAMI_CLASSES):
        """Number of beats per class, ``{"N": ..., "S": ..., ...}``."""
        return {c: int(np.sum(self.aami == c)) for c in classes}

    def xy(self, classes=("N", "S", "V", "F")):
        """Inputs and integer labels for a classifier over ``classes``.

        Parameters
        ----------
        classes : sequence of str
            Classes to keep, in label order; beats of other classes are left out
            (the default is the 4-class problem, without Q).

        Returns
        -------
        X : np.ndarray, shape (n_kept, n_samples), float32
        y : np.ndarray of int64, shape (n_kept,)
            Index of each beat's class in ``classes``.

        Raises
        ------
        ValueError
            If a class is not one of the AAMI classes or is named twice.
        """
        if not set(classes) <= set(AAMI_CLASSES) or len(set(classes)) != len(classes):
            raise ValueError(f"classes must be distinct AAMI classes ({', '.join(AAMI_CLASSES)}), "
                             f"got {tuple(classes)}")
        keep = np.isin(self.aami, list(classes))
        y = np.zeros(int(keep.sum()), dtype=np.int64)
        for i, c in enumerate(classes):
            y[self.aami[keep] == c] = i
        return self.X[keep], y

    @classmethod
    def concat(cls, parts, params=None):
        """Join beat sets of several records into one."""
        return cls(
            X=np.concatenate([p.X for p in parts]),
            aami=np.concatenate([p.aami for p in parts]),
            symbol=np.concatenate([p.symbol for p in parts]),
            record=np.concatenate([p.record for p in parts]),
            r_peak=np.concatenate([p.r_peak for p in parts]),
            fs=parts[0].fs,
            dropped={k: v for p in parts for k, v in p.dropped.items()},
            skipped={k: v for p in parts for k, v in p.skipped.items()},
            params=dict(params or parts[0].params),
        )


def beats_from_record(
    record,
    data_dir=None,
    lead="MLII",
    before=0.4,
    after=0.5,
    n_samples=251,
    denoise_method="wavelet",
    fs=FS_MITDB,
):
    """All heartbeats of one record: read, denoise the whole lead, cut the windows.

    Parameters
    ----------
    record : str
        Record name or path stem (see :func:`ecgtut.read_record`).
    data_dir : str or path-like, optional
        Database folder.
    lead : int or str
        Lead name or channel index. The course uses MLII, which is channel 0
        in every record it uses but 114 (V5 on channel 0, MLII on channel 1).
    before, after : float
        Window around each R peak, in seconds.
    n_samples : int
        Samples per beat after resampling.
    denoise_method : str
        ``"wavelet"`` (db6, the paper's), ``"bandpass"`` or ``"none"``.
    fs : float or None
        Work at this sampling frequency in Hz (records at another one are
        resampled first); None keeps each record's own.

    Returns
    -------
    BeatSet

    Examples
    --------
    >>> bs = beats_from_record("100")
    >>> bs.X.shape, bs.dropped        # the first and the last beat are too close to the ends
    ((2271, 251), {'100': 2})
    """
    rec = read_record(record, data_dir, lead=lead, fs=fs)
    ann = read_annotations(record, data_dir, fs=rec.fs)
    beats = ann.beats()
    clean = denoise_signal(rec.signal, rec.fs, method=denoise_method)
    X, kept = segment_beats(clean, beats.sample, rec.fs, before, after, n_samples)
    return BeatSet(
        X=X,
        aami=beats.aami[kept],
        symbol=beats.symbol[kept],
        record=np.full(int(kept.sum()), rec.name),
        r_peak=beats.sample[kept],
        fs=rec.fs,
        dropped={rec.name: int((~kept).sum())},
        skipped={rec.name: int(len(ann.sample) - len(beats.sample))},
    )


def _cache_key(folder, records, params):
    """Hash of everything that shapes a beat set: parameters, records and the files' identity."""
    files = []
    for r in records:
        stem = _record_path(r, folder)  # where the record is really read from
        for ext in ("hea", "dat", "atr"):
            p = stem.with_name(f"{stem.name}.{ext}").resolve()
            st = p.stat() if p.exists() else None
            files.append([str(p), st and st.st_size, st and st.st_mtime_ns])
    blob = json.dumps(
        [_CACHE_FORMAT, str(folder.resolve()), list(records), params, files], sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _save_atomic(path, beatset):
    """Write the arrays to a temporary file beside ``path``, then rename it into place."""
    records = list(beatset.dropped)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    except OSError as exc:
        raise DataError(f"cannot write the beat cache in {path.parent} ({exc}); "
                        "set ECGTUT_CACHE to a writable folder") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(
                f,
                X=beatset.X,
                aami=beatset.aami,
                symbol=beatset.symbol,
                record=beatset.record,
                r_peak=beatset.r_peak,
                fs=beatset.fs,
                records=np.array(records),
                dropped=np.array([beatset.dropped[r] for r in records]),
                skipped=np.array([beatset.skipped[r] for r in records]),
                params=json.dumps(beatset.params),
            )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(path):
    with np.load(path) as z:
        records = z["records"].tolist()
        return BeatSet(
            X=z["X"],
            aami=z["aami"],
            symbol=z["symbol"],
            record=z["record"],
            r_peak=z["r_peak"],
            fs=z["fs"].item(),  # 360 stays an int, as when built
            dropped=dict(zip(records, z["dropped"].tolist())),
            skipped=dict(zip(records, z["skipped"].tolist())),
            params=json.loads(str(z["params"])),
        )


def _progress_bar(records, progress):
    """A tqdm bar over ``records``, or the bare list (tqdm not even imported) without one."""
    if not progress:
        return contextlib.nullcontext(records)
    from tqdm import tqdm

    return tqdm(records, desc="segmenting beats", unit="record")


def load_beats(
    data_dir=None,
    records=None,
    lead="MLII",
    before=0.4,
    after=0.5,
    n_samples=251,
    denoise_method="wavelet",
    fs=FS_MITDB,
    cache=True,
    progress=True,
):
    """The beat set of many records (default: the 44 non-paced MIT-BIH records), cached.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Database folder (see :func:`ecgtut.find_data_dir`).
    records : list of str, optional
        Records to use; default :data:`ecgtut.RECORDS` (44 records). A record
        named twice is used once.
    lead, before, after, n_samples, denoise_method, fs
        As in :func:`beats_from_record`.
    cache : bool
        Reuse (and write) ``beats-<key>.npz`` in :func:`ecgtut.cache_dir`; the key
        hashes every parameter above plus the size and time of the record
        files, so changing any of them builds a new set.
    progress : bool
        Show a progress bar while building.

    Returns
    -------
    BeatSet
        ``params["cached"]`` tells whether it came from the cache.

    Examples
    --------
    >>> bs = load_beats(progress=False)
    >>> bs.counts()
    {'N': 90081, 'S': 2781, 'V': 7008, 'F': 802, 'Q': 15}
    """
    folder = find_data_dir(data_dir)
    records = list(dict.fromkeys(str(r) for r in (records or RECORDS)))  # each record once
    params = dict(
        lead=lead, before=before, after=after, n_samples=n_samples,
        denoise_method=denoise_method, fs=fs,
    )
    path = cache_dir() / f"beats-{_cache_key(folder, records, params)}.npz"
    if cache and path.is_file():
        beatset = _load(path)
        beatset.params["cached"] = True
        return beatset

    start = time.perf_counter()
    # closed before an error is reported, so the message gets its own line
    with _progress_bar(records, progress) as bar:
        parts = [
            beats_from_record(r, folder, lead, before, after, n_samples, denoise_method, fs)
            for r in bar
        ]
    beatset = BeatSet.concat(parts, params={**params, "records": records})
    beatset.params["build_seconds"] = round(time.perf_counter() - start, 3)
    if cache:
        _save_atomic(path, beatset)
    beatset.params["cached"] = False
    return beatset


def delineate_beat(signal, r_peak, fs, r_next=None):
    """Rough P, Q, R, S, T points of one clean normal beat, for teaching figures.

    Peaks are searched in fixed windows around the R peak (Q and S: the lowest
    point 60 ms before/after R; P: the highest 120-300 ms before R; T: the
    highest 150-450 ms after R); onsets and ends are placed 40 ms before P and
    100 ms after T. Good enough to *draw* the intervals on a normal beat;
    not a clinical delineator.

    Parameters
    ----------
    signal : np.ndarray, shape (n_samples,)
        A denoised lead.
    r_peak : int
        Sample index of the beat's R peak.
    fs : float
        Sampling frequency in Hz.
    r_next : int, optional
        Next R peak (for the RR interval); default ``r_peak + 0.8 s``.

    Returns
    -------
    dict
        Sample indices ``{"P_on", "P", "Q", "R", "S", "T", "T_off", "R_next"}``.

    Raises
    ------
    ValueError
        If the signal does not reach 0.34 s before the R peak and 0.55 s
        after it (the span the points are searched in).

    Examples
    --------
    >>> x = np.zeros(1000); x[400] = 1.0
    >>> delineate_beat(x, 400, fs=360)["R"]
    400
    """
    def ms(v):
        return int(round(v * fs / 1000))

    before, after = r_peak - ms(340), len(signal) - 1 - (r_peak + ms(550))
    if before < 0 or after < 0:
        raise ValueError(f"delineate_beat needs 0.34 s of signal before the R peak and 0.55 s "
                         f"after it; r_peak={r_peak} in {len(signal)} samples at {fs:g} Hz "
                         f"leaves {r_peak / fs:.2f} s before and "
                         f"{(len(signal) - 1 - r_peak) / fs:.2f} s after")

    def arg(fn, lo, hi):
        return lo + int(fn(signal[lo:hi]))

    p = arg(np.argmax, r_peak - ms(300), r_peak - ms(120))
    t = arg(np.argmax, r_peak + ms(150), r_peak + ms(450))
    return {
        "P_on": p - ms(40), "P": p, "Q": arg(np.argmin, r_peak - ms(60), r_peak), "R": int(r_peak),
        "S": arg(np.argmin, r_peak + 1, r_peak + ms(60)), "T": t, "T_off": t + ms(100),
        "R_next": int(r_next if r_next is not None else r_peak + ms(800)),
    }
