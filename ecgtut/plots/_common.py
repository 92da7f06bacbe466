"""What every figure module shares: the class colours and the small helpers.

The helpers keep the conventions of :mod:`ecgtut.plots` in one place: a new
figure when no axes are given, single-panel plotters returning one Axes and
multi-panel plotters a 1-D array of Axes, and ``title`` as the figure's title
for the multi-panel ones.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["CLASS_COLORS"]

CLASS_COLORS = {"N": "tab:blue", "S": "tab:orange", "V": "tab:red", "F": "tab:purple",
                "Q": "tab:gray"}
"""One colour per AAMI class, used by every figure of the course."""


def _ax(ax, figsize=(10, 3)):
    """``ax``, or the axes of a new figure of ``figsize`` inches when it is None."""
    return ax if ax is not None else plt.subplots(figsize=figsize, layout="constrained")[1]


def _axes(axes, n, *, figsize, nrows=1, ncols=None, **kwargs):
    """At least ``n`` panels as a 1-D array of Axes.

    ``axes`` may be one Axes, a list or an array of any shape (it is flattened
    row by row); when None, a new figure of ``nrows`` x ``ncols`` panels
    (default: ``n`` in one row) is made, with ``kwargs`` passed to ``plt.subplots``.
    """
    if axes is None:
        ncols = n if ncols is None else ncols
        axes = plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False,
                            **kwargs)[1]
    axes = np.asarray(axes, dtype=object).ravel()
    if len(axes) < n:
        raise ValueError(f"this figure needs {n} panels, got {len(axes)} axes")
    return axes


def _suptitle(axes, title):
    """Write ``title`` (if not None) as the title of the figure holding ``axes``."""
    if title is not None:
        axes[0].figure.suptitle(title)
    return axes


def _title(ax, title, default=""):
    """Set the axes title: ``title``, or ``default`` when it is None."""
    ax.set_title(default if title is None else title)
    return ax


def _window(fs, n, start, duration):
    """Sample slice for ``duration`` seconds from ``start`` seconds, inside ``n`` samples."""
    i0 = int(round(start * fs))
    return slice(i0, min(n, i0 + int(round(duration * fs))))
