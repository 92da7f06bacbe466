"""Figures of chapters 05-06 about scores (:mod:`ecgtut.metrics`): confusion, errors, confidence.

:mod:`ecgtut.metrics` (scikit-learn) is imported when a figure needs it.
"""

from __future__ import annotations

import numpy as np

from ecgtut.beats import DEFAULT_WINDOW
from ecgtut.plots._common import CLASS_COLORS, _ax, _axes, _suptitle, _title

__all__ = ["plot_confusion", "plot_misclassified", "plot_confidence"]


def plot_confusion(cm, classes, *, normalize=False, ax=None, title=None):
    """Confusion matrix as a heatmap: rows = true class, columns = predicted.

    Parameters
    ----------
    cm : array of int, shape (k, k)
        Counts, e.g. ``metrics["confusion"]``.
    classes : sequence of str
        Class names in label order.
    normalize : bool
        Write each row divided by its total (the diagonal is then each
        class's Se) instead of the counts. Colours always show the row shares,
        so the rare classes stay visible next to the 90 000 N beats.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "Confusion matrix (beats)" or "Confusion matrix
        (row-normalised)").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_confusion(np.array([[8, 2], [1, 9]]), ["N", "V"])
    >>> [t.get_text() for t in ax.texts], ax.get_title()
    (['8', '2', '1', '9'], 'Confusion matrix (beats)')
    """
    import seaborn as sns

    counts = np.asarray(cm, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = counts / counts.sum(axis=1, keepdims=True)  # colour: share of the true class
    ax = _ax(ax, figsize=(4.5, 4))
    sns.heatmap(rates, annot=rates if normalize else counts, fmt=".3f" if normalize else ".0f",
                cmap="Blues", vmin=0, vmax=1, cbar=False, square=True, ax=ax,
                xticklabels=list(classes), yticklabels=list(classes))
    ax.set(xlabel="predicted class", ylabel="true class")
    default = "Confusion matrix (row-normalised)" if normalize else "Confusion matrix (beats)"
    return _title(ax, title, default)


def plot_misclassified(X, y_true, y_pred, classes, *, n=8, picks=None, window=DEFAULT_WINDOW,
                       axes=None, title=None):
    """Draw misclassified beats, one per panel, varying the kind of error.

    The beats are ``picks`` if given, else those of
    :func:`ecgtut.pick_misclassified` (up to ``n``, taken in turn from each
    (true, predicted) pair, most frequent errors first).

    Parameters
    ----------
    X : array, shape (n_beats, n_samples)
        Beats, in mV.
    y_true, y_pred : arrays of int, shape (n_beats,)
        True and predicted class indices into ``classes``.
    classes : sequence of str
        Class names in label order.
    n : int
        Number of beats to pick when ``picks`` is None.
    picks : array of int, optional
        Indices into ``X`` of the beats to draw, in panel order.
    window : ecgtut.BeatWindow
        The window the beats were cut with (for the time axis).
    axes : Axes or array of Axes, optional
        At least one panel per beat (default: a new figure, 4 panels a row);
        panels left over are switched off.
    title : str, optional
        Figure title (default: none; each panel gives the true and predicted class).

    Returns
    -------
    np.ndarray of matplotlib.axes.Axes, shape (n_panels,)
        Every panel, the drawn ones first.

    Examples
    --------
    >>> X = np.zeros((4, 251))
    >>> axes = plot_misclassified(X, [0, 0, 1, 1], [0, 1, 0, 1], ["N", "V"], n=2)
    >>> [ax.get_title() for ax in axes], axes[0].get_ylabel()
    (['true N → predicted V', 'true V → predicted N'], 'mV')
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if picks is None:
        from ecgtut.metrics import pick_misclassified

        picks = pick_misclassified(y_true, y_pred, n)
        panels = max(n, len(picks), 1)  # a new figure has n panels, even with fewer errors
    else:
        picks = np.asarray(picks, dtype=int).ravel()
        panels = max(len(picks), 1)
    cols = min(4, panels)
    rows = -(-panels // cols)
    axes = _axes(axes, max(len(picks), 1), nrows=rows, ncols=cols,
                 figsize=(2.6 * cols, 2.2 * rows), sharex=True)
    t = window.times(np.shape(X)[1])
    for ax, i in zip(axes, picks):
        true, pred = classes[y_true[i]], classes[y_pred[i]]
        ax.plot(t, X[i], color=CLASS_COLORS.get(true, "k"), lw=1)
        ax.set_title(f"true {true} \u2192 predicted {pred}", fontsize=9)
        ax.axvline(0, color="0.7", lw=0.8, ls=":")
        ax.set(xlabel="time from R peak (s)", ylabel="mV")
    for ax in axes[len(picks):]:
        ax.axis("off")
    if not len(picks):
        axes[0].text(0.5, 0.5, "no misclassified beat", ha="center", transform=axes[0].transAxes)
    return _suptitle(axes, title)


def plot_confidence(proba, y_true, *, bins=20, ax=None, title=None):
    """Histogram of the probability of the predicted class, for right and wrong predictions.

    The probabilities and the right/wrong split come from
    :func:`ecgtut.prediction_confidence`.

    Parameters
    ----------
    proba : array, shape (n_beats, n_classes)
        Class probabilities (rows sum to 1), from :func:`ecgtut.predict`.
    y_true : array of int, shape (n_beats,)
        True class indices.
    bins : int
        Bins between ``1 / n_classes`` (the least sure a prediction can be) and 1.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "How sure is the model?").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    >>> ax = plot_confidence(p, np.array([0, 1, 1]))
    >>> ax.get_legend_handles_labels()[1]
    ['right (2 beats)', 'wrong (1 beats)']
    """
    from ecgtut.metrics import prediction_confidence

    ax = _ax(ax, figsize=(7, 3))
    confidence, right = prediction_confidence(proba, y_true)
    edges = np.linspace(1 / np.shape(proba)[1], 1, bins + 1)
    for mask, label, color in ((right, "right", "tab:blue"), (~right, "wrong", "tab:red")):
        ax.hist(confidence[mask], bins=edges, color=color, alpha=0.6,
                label=f"{label} ({int(mask.sum())} beats)")
    ax.set_yscale("log")
    ax.set(xlabel="probability of the predicted class", ylabel="beats")
    ax.legend(fontsize=8, loc="upper left")
    return _title(ax, title, "How sure is the model?")
