"""Chapter 07 -- patient-adaptive inputs: each beat and its rhythm relative to its recording.

A network trained on 22 patients learns what *their* beats look like; on a
new patient, a normal beat of an unusual shape (a bundle-branch block, an odd
electrode position) looks foreign, and an S beat, whose shape is normal, looks
like nothing special. What tells an ectopic beat is how it differs from the
same patient's usual beat and rhythm. A Holter recording gives the whole
recording, so both can be measured from the recording alone, without a label:

- :func:`record_templates`: the recording's median beat (its usual beat) and
  its QRS amplitude;
- :func:`relative_beats`: every beat minus the usual beat, in units of the
  usual QRS amplitude (0 everywhere: a beat exactly like the patient's usual one);
- :func:`rhythm_features`: the RR intervals on a log scale, relative to the
  recording's median RR and to the beats around, and how irregular the rhythm
  is around each beat (atrial fibrillation makes every interval irregular, an
  isolated S beat makes one short).

All of this uses the unlabelled signal of the recording being classified, the
same way in training (DS1), in testing (DS2) and in ``ecgtut classify``: no
test label is used (SPEC section 7). A real-time monitor, which has only the
past, would build the usual beat from the minutes already seen and use
windows that end at the current beat.

Example
-------
>>> r = np.array([0, 360, 720, 900, 1440, 1800, 2160])   # a premature beat at 900
>>> Z = rhythm_features(r, fs=360)
>>> Z.shape, RHYTHM_FEATURES[3], round(float(Z[3, 3]), 2)   # log(pre / local) < 0: early
((7, 7), 'log_pre_local', -0.67)
"""

from __future__ import annotations

import numpy as np

__all__ = ["RHYTHM_FEATURES", "rhythm_features", "beat_rhythm_features", "record_templates",
           "relative_beats", "bin_matrix", "bin_means", "adaptive_inputs"]

RHYTHM_FEATURES = ("log_pre", "log_post", "log_local", "log_pre_local", "log_post_pre",
                   "log_post_local", "irregularity")
"""Columns of :func:`rhythm_features`: natural logs of interval ratios, and the
spread of ``log pre_rr`` around the beat."""

#: Logs are clipped to +-2.5 (a ratio of 1/12 to 12): a 6-s pause is as telling as a 30-s one.
LOG_CLIP = 2.5


def rhythm_features(r_peaks, fs, *, local_beats=10):
    """Rhythm of every beat of one recording, on a log scale, relative to the recording.

    ``pre`` and ``post`` are the intervals to the previous and the next R
    peak, ``local`` the mean ``pre`` of the ``local_beats`` beats centred on
    this one, ``median`` the recording's median RR:

    ``log_pre``, ``log_post``, ``log_local``
        ``log(pre / median)``, ``log(post / median)``, ``log(local / median)``;
    ``log_pre_local``
        ``log(pre / local)``: below 0 for a premature beat;
    ``log_post_pre``
        ``log(post / pre)``: above 0 when a pause follows a short interval;
    ``log_post_local``
        ``log(post / local)``: a compensatory pause (typical of V beats) is above 0;
    ``irregularity``
        standard deviation of ``log pre`` over the ``local_beats`` beats centred
        on this one: about 0 in a steady rhythm, large in atrial fibrillation.

    The first beat has no previous interval and the last no next one: the
    median stands in. Logs are clipped to +-2.5, so a pause of a minute (a gap
    in the recording) does not dominate a standardised input.

    Parameters
    ----------
    r_peaks : array of int, shape (n_beats,)
        R-peak sample indices of one recording, in increasing order.
    fs : float
        Sampling frequency in Hz.
    local_beats : int
        Beats in the centred windows of ``local`` and ``irregularity``.

    Returns
    -------
    np.ndarray of float32, shape (n_beats, 7)
        Columns :data:`RHYTHM_FEATURES`.

    Raises
    ------
    ValueError
        Fewer than 2 beats, or peaks out of order.
    """
    from ecgtut.features import rr_intervals

    rr = rr_intervals(r_peaks, fs)
    if not len(rr):
        raise ValueError("rhythm features need at least 2 beats in the recording")
    median = float(np.median(rr))
    pre, post = np.r_[median, rr], np.r_[rr, median]
    log_pre = np.log(pre / median)
    half = local_beats // 2
    padded = np.pad(log_pre, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)[: len(pre)]
    local = np.exp(windows.mean(axis=1)) * median  # geometric mean of the intervals around
    Z = np.stack([log_pre, np.log(post / median), np.log(local / median), np.log(pre / local),
                  np.log(post / pre), np.log(post / local), windows.std(axis=1)], axis=1)
    return np.clip(Z, -LOG_CLIP, LOG_CLIP).astype(np.float32)


def beat_rhythm_features(beats, **kwargs):
    """:func:`rhythm_features` of every row of a :class:`ecgtut.BeatSet`, recording by recording.

    Returns
    -------
    np.ndarray of float32, shape (len(beats), 7)
        Row ``i`` belongs to ``beats.X[i]``.
    """
    from ecgtut.features import per_record

    return per_record(beats, lambda rows: rhythm_features(beats.r_peak[rows], beats.fs, **kwargs),
                      len(RHYTHM_FEATURES))


def record_templates(X, records, window, *, qrs_s=0.06, min_amplitude=0.05):
    """The usual beat of each recording (its median beat) and its QRS amplitude.

    Parameters
    ----------
    X : array, shape (n_beats, n_samples)
        Beats in mV, as cut (e.g. ``BeatSet.X``).
    records : array of str, shape (n_beats,)
        Recording of each beat.
    window : BeatWindow
        The window the beats were cut with (where the R peak sits).
    qrs_s : float
        Half-width, in seconds, of the stretch around the R peak whose
        peak-to-peak amplitude is the QRS amplitude.
    min_amplitude : float
        Floor on the amplitude, in mV (a flat template must not divide by 0).

    Returns
    -------
    templates : dict of str to np.ndarray, shape (n_samples,)
        Median beat of each recording, mV.
    amplitudes : dict of str to float
        Peak-to-peak amplitude of the template within ``qrs_s`` of the R peak, mV.
    """
    X = np.asarray(X, dtype=np.float32)
    records = np.asarray(records).astype(str)
    r = window.r_peak_sample
    half = max(1, int(round(qrs_s * window.fs)))
    qrs = slice(max(0, int(round(r)) - half), int(round(r)) + half + 1)
    templates, amplitudes = {}, {}
    for name in dict.fromkeys(records.tolist()):
        t = np.median(X[records == name], axis=0)
        templates[name] = t.astype(np.float32)
        amplitudes[name] = max(float(np.ptp(t[qrs])), min_amplitude)
    return templates, amplitudes


def relative_beats(X, records, window, **kwargs):
    """Every beat minus its recording's usual beat, in units of the usual QRS amplitude.

    Parameters
    ----------
    X, records, window
        As in :func:`record_templates`.
    **kwargs
        ``qrs_s``, ``min_amplitude`` of :func:`record_templates`.

    Returns
    -------
    np.ndarray of float32, shape (n_beats, n_samples)
        Dimensionless: 0 where the beat matches the template, 1 = one QRS amplitude.

    Example
    -------
    >>> from ecgtut.beats import DEFAULT_WINDOW
    >>> X = np.ones((3, 251), dtype="float32"); X[:, 112] = 2.0
    >>> float(np.abs(relative_beats(X, ["a", "a", "a"], DEFAULT_WINDOW)).max())
    0.0
    """
    templates, amplitudes = record_templates(X, records, window, **kwargs)
    X = np.asarray(X, dtype=np.float32)
    records = np.asarray(records).astype(str)
    out = np.empty_like(X)
    for name, t in templates.items():
        rows = records == name
        out[rows] = (X[rows] - t) / amplitudes[name]
    return out


def bin_matrix(n_samples, n_bins=20):
    """The matrix that averages a beat over ``n_bins`` equal stretches: ``beat @ M``.

    Returns
    -------
    np.ndarray of float32, shape (n_samples, n_bins)
        Column ``b`` holds ``1 / length`` over the samples of stretch ``b``.
    """
    edges = np.linspace(0, n_samples, n_bins + 1).round().astype(int)
    M = np.zeros((n_samples, n_bins), dtype=np.float32)
    for b, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        M[lo:hi, b] = 1.0 / (hi - lo)
    return M


def bin_means(X, n_bins=20):
    """Each row averaged over ``n_bins`` equal stretches: a short summary a linear model can use.

    Parameters
    ----------
    X : array, shape (n_beats, n_samples)
    n_bins : int

    Returns
    -------
    np.ndarray of float32, shape (n_beats, n_bins)

    Example
    -------
    >>> bin_means(np.arange(8.0)[None], 4)
    array([[0.5, 2.5, 4.5, 6.5]], dtype=float32)
    """
    X = np.asarray(X, dtype=np.float32)
    return X @ bin_matrix(X.shape[1], n_bins)


def adaptive_inputs(beats, *, n_bins=10):
    """Everything chapter 07's linear model reads of each beat, from its recording alone.

    How far a beat is from its recording's usual beat, whatever the sign: an
    ectopic beat can be higher or lower than the usual one, and a linear model
    cannot say "far in either direction" from a signed difference.

    Parameters
    ----------
    beats : BeatSet
    n_bins : int
        Bins of the relative beat (:func:`bin_means`).

    Returns
    -------
    np.ndarray of float32, shape (len(beats), 7 + n_bins)
        The :data:`RHYTHM_FEATURES`, then the binned ``|relative_beats|``.
    """
    rel = relative_beats(beats.X, beats.record, beats.window)
    return np.column_stack([beat_rhythm_features(beats), bin_means(np.abs(rel), n_bins)])
