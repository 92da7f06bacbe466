"""Chapter 07 -- RR-interval features: what one beat window cannot see.

An S beat is *premature*: it comes earlier than the patient's rhythm says it
should, and is often followed by a longer pause. Its shape may be almost
normal, and the 0.9 s window around it does not tell how long ago the previous
beat came. The intervals between R peaks do. For each beat:

``pre_rr``
    time since the previous R peak;
``post_rr``
    time to the next R peak;
``local_rr``
    mean of the ``pre_rr`` of the last ``local_beats`` beats (this one
    included): the patient's recent rhythm;
``pre_ratio``
    ``pre_rr / local_rr``: below 1 for a premature beat, whatever the
    patient's heart rate;
``post_ratio``
    ``post_rr / pre_rr``: above 1 after a premature beat (the compensatory pause).

With ``normalize="record"`` the three intervals are divided by the record's
mean RR, so that a fast and a slow heart give comparable numbers (the ratios
need no normalising). The intervals come from :func:`wfdb.processing.calc_rr`.

Example
-------
>>> r = np.array([0, 360, 720, 900, 1440, 1800])   # a premature beat at 900 (2.5 s)
>>> F = rr_features(r, fs=360, normalize=None)
>>> np.round(F[3], 2)   # pre 0.5 s, post 1.5 s, recent rhythm, ratios
array([0.5 , 1.5 , 0.88, 0.57, 3.  ], dtype=float32)
"""

from __future__ import annotations

import numpy as np

__all__ = ["RR_FEATURES", "rr_intervals", "rr_features", "beat_rr_features", "per_record"]

RR_FEATURES = ("pre_rr", "post_rr", "local_rr", "pre_ratio", "post_ratio")
"""Names of the columns of :func:`rr_features`, in order."""


def rr_intervals(r_peaks, fs):
    """Intervals between consecutive R peaks, in seconds (wfdb's ``calc_rr``).

    Parameters
    ----------
    r_peaks : array of int, shape (n_beats,)
        R-peak sample indices of one record, in increasing order.
    fs : float
        Sampling frequency in Hz.

    Returns
    -------
    np.ndarray of float, shape (n_beats - 1,)

    Example
    -------
    >>> rr_intervals(np.array([0, 360, 900]), fs=360)
    array([1. , 1.5])
    """
    from wfdb.processing import calc_rr

    r_peaks = np.asarray(r_peaks, dtype=np.int64)
    if len(r_peaks) < 2:
        return np.zeros(0)
    if np.any(np.diff(r_peaks) <= 0):
        raise ValueError("R peaks must be in increasing order, one record at a time")
    return calc_rr(r_peaks, fs=fs, rr_units="seconds").astype(float)


def rr_features(r_peaks, fs, *, local_beats=10, normalize="record"):
    """RR-interval features of every beat of one record (see the module's text).

    The first beat has no previous R peak and the last no next one: their
    missing interval is the record's median RR (a normal-looking value, not a
    made-up extreme).

    Parameters
    ----------
    r_peaks : array of int, shape (n_beats,)
        R-peak sample indices of one record, in increasing order (all its beats).
    fs : float
        Sampling frequency in Hz.
    local_beats : int
        Beats averaged into ``local_rr`` (this one and the ones before it).
    normalize : "record" or None
        ``"record"``: the three intervals divided by the record's mean RR;
        None: in seconds.

    Returns
    -------
    np.ndarray of float32, shape (n_beats, 5)
        Columns :data:`RR_FEATURES`.

    Raises
    ------
    ValueError
        Fewer than 2 beats (no interval at all), or peaks out of order.
    """
    if normalize not in ("record", None):
        raise ValueError(f"normalize must be 'record' or None, got {normalize!r}")
    rr = rr_intervals(r_peaks, fs)
    if not len(rr):
        raise ValueError("RR intervals need at least 2 beats in the record")
    fill = float(np.median(rr))
    pre, post = np.r_[fill, rr], np.r_[rr, fill]
    window = np.ones(local_beats)
    sums = np.convolve(pre, window)[: len(pre)]  # sum of the last local_beats pre_rr
    counts = np.convolve(np.ones(len(pre)), window)[: len(pre)]
    local = sums / counts
    features = np.stack([pre, post, local, pre / local, post / pre], axis=1)
    if normalize == "record":
        features[:, :3] /= rr.mean()
    return features.astype(np.float32)


def beat_rr_features(beats, **kwargs):
    """RR features of every row of a :class:`ecgtut.BeatSet`, record by record.

    The intervals are those between the beats of the set (the beats dropped at
    a record's ends or refused over invalid samples are not in it, which only
    changes the intervals next to them).

    Parameters
    ----------
    beats : BeatSet
    **kwargs
        ``local_beats``, ``normalize``: as in :func:`rr_features`.

    Returns
    -------
    np.ndarray of float32, shape (len(beats), 5)
        Row ``i`` belongs to ``beats.X[i]``.
    """
    return per_record(beats, lambda rows: rr_features(beats.r_peak[rows], beats.fs, **kwargs),
                      len(RR_FEATURES))


def per_record(beats, features_of, n_columns):
    """Features computed record by record, put back in the rows of a :class:`ecgtut.BeatSet`.

    Parameters
    ----------
    beats : BeatSet
    features_of : callable
        ``features_of(rows)`` -> array (len(rows), n_columns) for the row indices
        of one record (in order).
    n_columns : int

    Returns
    -------
    np.ndarray of float32, shape (len(beats), n_columns)
    """
    out = np.zeros((len(beats), n_columns), dtype=np.float32)
    for record in dict.fromkeys(beats.record.tolist()):
        rows = np.flatnonzero(beats.record == record)
        out[rows] = features_of(rows)
    return out
