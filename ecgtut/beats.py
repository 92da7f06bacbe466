"""Chapter 03 -- from recordings to heartbeats: R-peak-centred windows.

Each annotated beat becomes one fixed-length example: the window from
``before`` seconds before its R peak to ``after`` seconds after it (0.4 s and
0.5 s: 144 + 180 = 324 samples at 360 Hz), resampled to 251 samples with
scipy's FFT resampler, the input length of the paper's network. The window is
one object, :class:`BeatWindow`, carried by every beat set and every model, so
that segmentation, the network, augmentation and the figures agree on it.
Beats whose window crosses a record end are dropped and counted.

The whole database's beat set, built once and cached on disk, is
:func:`ecgtut.load_beats` (module :mod:`ecgtut.cache`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ecgtut.data import AAMI_CLASSES, DEFAULT_LEAD, read_annotations, read_record
from ecgtut.database import FS_MITDB
from ecgtut.denoise import denoise_signal, interpolate_invalid

__all__ = ["BeatWindow", "DEFAULT_WINDOW", "BeatSet", "beats_from_record", "delineate_beat",
           "segment_beats"]


@dataclass(frozen=True)
class BeatWindow:
    """The stretch of signal a beat is cut from, and the length it is resampled to.

    Attributes
    ----------
    before, after : float
        Extent of the window before and after the R peak, in seconds.
    n_samples : int
        Length of each beat after resampling, in samples (251 in the paper).

    Example
    -------
    >>> w = BeatWindow()                       # the paper's: 0.4 s + 0.5 s -> 251 samples
    >>> w.samples_at(360), round(w.fs, 1), round(w.r_peak_sample, 1)
    ((144, 180), 278.9, 111.6)
    """

    before: float = 0.4
    after: float = 0.5
    n_samples: int = 251

    def __post_init__(self):
        if not (self.before >= 0 and self.after > 0 and int(self.n_samples) >= 2):
            raise ValueError(f"a beat window needs before >= 0 s, after > 0 s and at least "
                             f"2 samples, got {self}")
        object.__setattr__(self, "n_samples", int(self.n_samples))

    @property
    def duration(self) -> float:
        """Length of the window, in seconds."""
        return self.before + self.after

    @property
    def fs(self) -> float:
        """Sampling frequency of a resampled beat, in Hz (251 / 0.9 s = 278.9 Hz)."""
        return self.n_samples / self.duration

    @property
    def r_peak_sample(self) -> float:
        """Where the R peak sits in a resampled beat, in (fractional) samples."""
        return self.before * self.fs

    def samples_at(self, fs) -> tuple[int, int]:
        """Samples before and after the R peak in a signal sampled at ``fs`` Hz."""
        return round(self.before * fs), round(self.after * fs)

    def times(self, n_samples: int | None = None) -> np.ndarray:
        """Time of each sample from the R peak, in seconds, shape (n_samples,).

        ``n_samples`` defaults to the window's; give another to draw a beat cut
        with this window but kept at another length (e.g. 324 samples at 360 Hz).
        """
        n = self.n_samples if n_samples is None else n_samples
        return np.linspace(-self.before, self.after, n, endpoint=False)

    def as_dict(self) -> dict:
        """Plain values (for JSON and checkpoints)."""
        return asdict(self)


DEFAULT_WINDOW = BeatWindow()
"""The paper's window: 0.4 s before and 0.5 s after the R peak, resampled to 251 samples."""


def segment_beats(signal, r_peaks, fs, window=DEFAULT_WINDOW):
    """Cut a window around each R peak and resample it to a fixed length.

    Parameters
    ----------
    signal : np.ndarray, shape (n_signal,)
        One ECG lead.
    r_peaks : np.ndarray of int, shape (n_beats,)
        Sample index of each R peak.
    fs : float
        Sampling frequency in Hz.
    window : BeatWindow
        Extent around the R peak (default 0.4 s and 0.5 s: 144 and 180 samples
        at 360 Hz) and length of each output beat (251 samples).

    Returns
    -------
    X : np.ndarray, shape (n_kept, window.n_samples), float32
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
    n_before, n_after = window.samples_at(fs)
    n_samples = window.n_samples
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
    window : BeatWindow
        The window every beat was cut with (and resampled to).
    dropped : dict
        ``{record: beats dropped because their window crossed a record end}``.
    skipped : dict
        ``{record: non-beat annotations skipped}`` (rhythm, noise, ...).
    invalid_samples : dict
        ``{record: samples the file marks as invalid}`` (interpolated for the denoiser).
    refused : dict
        ``{record: beats refused because their window held invalid samples}``.
    params : dict
        The parameters that built the set.
    """

    X: np.ndarray
    aami: np.ndarray
    symbol: np.ndarray
    record: np.ndarray
    r_peak: np.ndarray
    fs: float
    window: BeatWindow = DEFAULT_WINDOW
    dropped: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    invalid_samples: dict = field(default_factory=dict)
    refused: dict = field(default_factory=dict)
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
            window=parts[0].window,
            dropped={k: v for p in parts for k, v in p.dropped.items()},
            skipped={k: v for p in parts for k, v in p.skipped.items()},
            invalid_samples={k: v for p in parts for k, v in p.invalid_samples.items()},
            refused={k: v for p in parts for k, v in p.refused.items()},
            params=dict(params or parts[0].params),
        )


def beats_from_record(record, data_dir=None, *, lead=DEFAULT_LEAD, window=DEFAULT_WINDOW,
                      denoise_method="wavelet", fs=FS_MITDB):
    """All heartbeats of one record: read, denoise the whole lead, cut the windows.

    Parameters
    ----------
    record : str
        Record name or path stem (see :func:`ecgtut.read_record`).
    data_dir : str or path-like, optional
        Database folder.
    lead : int or str
        Lead name or channel index (default ``"MLII"``, the course's lead:
        channel 0 in every record it uses but 114).
    window : BeatWindow
        Window around each R peak and samples per beat after resampling.
    denoise_method : str
        ``"wavelet"`` (db6, the paper's), ``"bandpass"`` or ``"none"``.
    fs : float or None
        Work at this sampling frequency in Hz (records at another one are
        resampled first); None keeps each record's own.

    Returns
    -------
    BeatSet
        Samples the file marks as invalid are filled by straight lines before
        denoising (:func:`ecgtut.interpolate_invalid`), and the beats whose
        window holds one of them are refused: counted in ``refused``, not cut.

    Examples
    --------
    >>> bs = beats_from_record("100")
    >>> bs.X.shape, bs.dropped        # the first and the last beat are too close to the ends
    ((2271, 251), {'100': 2})
    """
    rec = read_record(record, data_dir, lead=lead, fs=fs)
    ann = read_annotations(record, data_dir, fs=rec.fs)
    beats = ann.beats()
    signal, invalid = interpolate_invalid(rec.signal)  # the denoiser must never see a NaN
    clean = denoise_signal(signal, rec.fs, method=denoise_method)
    X, kept = segment_beats(clean, beats.sample, rec.fs, window)
    refused = np.zeros(len(kept), dtype=bool)
    if invalid.any():  # refuse the beats whose window held samples that were never measured
        n_before, n_after = window.samples_at(rec.fs)
        starts = np.r_[0, np.cumsum(invalid)]  # invalid samples before each index
        lo = np.clip(beats.sample - n_before, 0, len(invalid))
        hi = np.clip(beats.sample + n_after, 0, len(invalid))
        refused = kept & (starts[hi] > starts[lo])
        X = X[~refused[kept]]
    use = kept & ~refused
    return BeatSet(
        X=X,
        aami=beats.aami[use],
        symbol=beats.symbol[use],
        record=np.full(int(use.sum()), rec.name),
        r_peak=beats.sample[use],
        fs=rec.fs,
        window=window,
        dropped={rec.name: int((~kept).sum())},
        skipped={rec.name: int(len(ann.sample) - len(beats.sample))},
        invalid_samples={rec.name: int(invalid.sum())},
        refused={rec.name: int(refused.sum())},
    )


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
