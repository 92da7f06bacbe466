"""Figures of chapter 08 about QRS detection (:mod:`ecgtut.detect`)."""

from __future__ import annotations

import numpy as np

from ecgtut.plots._common import _ax, _axes, _suptitle, _title, _window

__all__ = ["plot_detector_stages", "plot_detection_errors"]


def plot_detector_stages(signal, stages, peaks, *, reference=None, start=0.0, duration=5.0,
                         axes=None, title=None):
    """The ECG and the four Pan & Tompkins stages, one panel each, with the beats found.

    Parameters
    ----------
    signal : array, shape (n_samples,)
        The lead given to the detector, in mV.
    stages : PanTompkinsStages
        From :func:`ecgtut.pan_tompkins_stages` or ``detect_qrs(..., return_stages=True)``.
    peaks : array of int
        Detected R peaks (samples).
    reference : array of int, optional
        Reference beats (samples), drawn as ticks on the ECG panel.
    start, duration : float
        The stretch shown, in seconds.
    axes : array of 5 Axes, optional
    title : str, optional
        Figure title.

    Returns
    -------
    np.ndarray of 5 Axes

    Example
    -------
    >>> from ecgtut.detect import pan_tompkins_stages
    >>> x = np.zeros(3600); x[360::360] = 1.0
    >>> axes = plot_detector_stages(x, pan_tompkins_stages(x, 360), np.arange(360, 3600, 360))
    >>> [ax.get_ylabel() for ax in axes][:2]
    ['ECG (mV)', 'band-pass (mV)']
    """
    fs = stages.fs
    axes = _axes(axes, 5, figsize=(11, 8), nrows=5, ncols=1, sharex=True)
    span = _window(fs, len(signal), start, duration)
    t = np.arange(span.start, span.stop) / fs
    peaks = np.asarray(peaks)
    shown = peaks[(peaks >= span.start) & (peaks < span.stop)]
    rows = [("ECG (mV)", np.asarray(signal)), ("band-pass (mV)", stages.filtered),
            ("derivative (mV/s)", stages.derivative), ("squared", stages.squared),
            ("integrated", stages.integrated)]
    for ax, (label, y) in zip(axes, rows):
        ax.plot(t, y[span], lw=0.8, color="tab:blue")
        ax.plot(shown / fs, y[shown], "v", color="tab:red", ms=6)
        ax.set_ylabel(label)
    if reference is not None:
        ref = np.asarray(reference)
        ref = ref[(ref >= span.start) & (ref < span.stop)]
        y0 = np.nanmin(np.asarray(signal)[span])
        axes[0].plot(ref / fs, np.full(len(ref), y0), "|", color="k", ms=12, label="reference")
        axes[0].legend(fontsize=8, loc="upper right")
    axes[-1].set_xlabel("time (s)")
    return _suptitle(axes, title)


def plot_detection_errors(per_record, *, top=15, ax=None, title=None):
    """Missed (FN) and extra (FP) beats of the records with the most errors.

    Parameters
    ----------
    per_record : dict
        Record -> ``{"fn": int, "fp": int, ...}`` (``per_record`` of
        :func:`ecgtut.score_detector`).
    top : int
        Records shown (those with the most FN + FP).
    ax : matplotlib Axes, optional
    title : str, optional
        Default: "Detection errors, worst records".

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> ax = plot_detection_errors({"100": {"fn": 0, "fp": 1}, "203": {"fn": 50, "fp": 9}})
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['203', '100']
    """
    ax = _ax(ax, figsize=(10, 3.2))
    worst = sorted(per_record, key=lambda r: -(per_record[r]["fn"] + per_record[r]["fp"]))[:top]
    pos = np.arange(len(worst))
    fn = [per_record[r]["fn"] for r in worst]
    fp = [per_record[r]["fp"] for r in worst]
    ax.bar(pos, fn, color="tab:red", label="missed (FN)")
    ax.bar(pos, fp, bottom=fn, color="tab:orange", label="extra (FP)")
    ax.set(xticks=pos, xticklabels=worst, xlabel="record", ylabel="beats")
    ax.legend(fontsize=8)
    return _title(ax, title, "Detection errors, worst records")
