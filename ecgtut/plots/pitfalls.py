"""Figures of chapter 06 about the pitfalls of evaluation (:mod:`ecgtut.pitfalls`)."""

from __future__ import annotations

import numpy as np

from ecgtut.plots._common import _ax, _title

__all__ = ["plot_selection_pitfall", "plot_selection_optimism", "plot_same_record_neighbours"]


def plot_selection_pitfall(pitfall, *, ax=None, title=None):
    """Per fold, test accuracy with the epoch chosen on validation vs on the test fold.

    Parameters
    ----------
    pitfall : dict
        From :func:`ecgtut.epoch_selection_pitfall` (lists ``val_selected``
        and ``test_selected``, fractions 0-1); drawn in %.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "Choosing the epoch on the test fold flatters the result").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_selection_pitfall({"val_selected": [0.98, 0.97], "test_selected": [0.99, 0.98]})
    >>> ax.get_legend_handles_labels()[1]
    ['chosen on validation (mean 97.50 %)', 'chosen on the test fold (mean 98.50 %)']
    """
    ax = _ax(ax, figsize=(6, 3.5))
    val = 100 * np.asarray(pitfall["val_selected"])
    test = 100 * np.asarray(pitfall["test_selected"])
    folds = np.arange(1, len(val) + 1)
    ax.bar(folds - 0.2, val, 0.4, label=f"chosen on validation (mean {val.mean():.2f} %)")
    ax.bar(folds + 0.2, test, 0.4, color="tab:red",
           label=f"chosen on the test fold (mean {test.mean():.2f} %)")
    low, high = min(val.min(), test.min()), max(val.max(), test.max())
    ax.set_ylim(low - max(0.1, (high - low)), high + max(0.1, (high - low)))
    ax.set(xticks=folds, xlabel="fold", ylabel="test accuracy (%)")
    ax.legend(fontsize=8, loc="lower right")
    return _title(ax, title, "Choosing the epoch on the test fold flatters the result")


def plot_selection_optimism(gains, *, ax=None, title=None):
    """Expected optimism of the best of m looks at a test set, against m.

    Parameters
    ----------
    gains : dict of {label: array, shape (n_checks,)}
        Curves from :func:`ecgtut.selection_optimism` (fractions); drawn in
        percentage points against m = 1 .. n_checks (log axis).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "Picking the best of m test scores inflates it").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_selection_optimism({"1000 test beats": np.array([0.0, 0.005, 0.01])})
    >>> ax.lines[0].get_ydata().tolist()  # percentage points
    [0.0, 0.5, 1.0]
    """
    ax = _ax(ax, figsize=(6, 3.5))
    for label, gain in gains.items():
        m = np.arange(1, len(gain) + 1)
        ax.plot(m, 100 * np.asarray(gain), lw=2, label=label)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set(xscale="log", xlabel="number of looks at the test fold (epochs, settings...)",
           ylabel="reported − true accuracy\n(percentage points)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _title(ax, title, "Picking the best of m test scores inflates it")


def plot_same_record_neighbours(same, chance, labels, *, classes=None, ax=None, title=None):
    """Per class: how often a test beat's nearest training beat is from its own patient.

    Parameters
    ----------
    same : array of bool, shape (n_test,)
        From :func:`ecgtut.same_record_neighbours`.
    chance : array of float, shape (n_test,)
        Idem: the share expected if the neighbour were any training beat.
    labels : array of str, shape (n_test,)
        Class name of each test beat.
    classes : sequence of str, optional
        Classes to show, in order (default: those in ``labels``, sorted).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "Is the most similar training beat from the same patient?").

    Returns
    -------
    matplotlib.axes.Axes
        Per class, in %: the observed share (green, labelled) beside chance (grey).

    Examples
    --------
    >>> same, chance = np.array([True, True, False, True]), np.full(4, 0.5)
    >>> ax = plot_same_record_neighbours(same, chance, np.array(["N", "N", "V", "V"]))
    >>> [t.get_text() for t in ax.texts]
    ['100 %', '50 %']
    """
    labels = np.asarray(labels)
    classes = list(classes) if classes is not None else sorted(set(labels.tolist()))
    obs = [100 * np.mean(np.asarray(same)[labels == c]) for c in classes]
    exp = [100 * np.mean(np.asarray(chance)[labels == c]) for c in classes]
    ax = _ax(ax, figsize=(6, 3.5))
    x = np.arange(len(classes))
    bars = ax.bar(x - 0.2, obs, 0.4, color="tab:green", label="the nearest training beat")
    ax.bar(x + 0.2, exp, 0.4, color="0.75", label="a training beat at random")
    ax.bar_label(bars, fmt="%.0f %%", fontsize=9)
    ax.set_xticks(x, classes)
    ax.set(ylim=(0, 125), xlabel="class of the test beat", ylabel="from the same patient (%)")
    ax.legend(fontsize=8, loc="upper center", ncol=2)
    return _title(ax, title, "Is the most similar training beat from the same patient?")
