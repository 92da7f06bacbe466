"""Figures of chapter 05 about the network (:mod:`ecgtut.model`, :mod:`ecgtut.datasets`).

The model diagram needs torch, imported when it is drawn: ``import ecgtut.plots``
stays free of it.
"""

from __future__ import annotations

import numpy as np

from ecgtut.beats import DEFAULT_WINDOW
from ecgtut.plots._common import _ax, _axes, _suptitle, _title

__all__ = ["plot_model_diagram", "plot_receptive_fields", "plot_normalized_beats",
           "plot_augmented_beats"]

_BRANCH_COLORS = ("tab:green", "tab:cyan", "tab:pink")


def _box(ax, x, y, text, color, w=0.9, h=0.6):
    """A rounded box centred on (x, y) with ``text`` inside (for :func:`plot_model_diagram`)."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                facecolor=color, edgecolor="0.3", lw=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, start, end):
    ax.annotate("", end, start, arrowprops=dict(arrowstyle="->", color="0.3", lw=0.8,
                                                shrinkA=0, shrinkB=0))


def _shape(shape):
    """``(16, 59)`` as ``"16 × 59"``."""
    return " × ".join(str(n) for n in shape)


def plot_model_diagram(model=None, *, ax=None, title=None):
    """Schematic of the three-branch CNN: one box per layer, with its output shape.

    The layers and their shapes, (channels x samples) for one beat, are read
    from :func:`ecgtut.walk_layers`, so the drawing always matches the model.
    A ReLU shares the box of the convolution or fully connected layer before
    it; normalisation and dropout (no shape change) get no box.

    Parameters
    ----------
    model : ecgtut.MultiScaleCNN, optional
        Default: a fresh ``MultiScaleCNN()`` (4 classes, 251 samples).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "The multi-scale CNN: three branches, <n> parameters").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_model_diagram()
    >>> len(ax.patches)   # input, 3 branches x 4 layers, concat, 3 FC layers
    17
    >>> ax.get_title()
    'The multi-scale CNN: three branches, 720,508 parameters'
    """
    from ecgtut.model import MultiScaleCNN, walk_layers

    model = MultiScaleCNN() if model is None else model
    steps = walk_layers(model)
    ax = _ax(ax, figsize=(12, 4.2))
    w, h, dx = 1.0, 0.8, 1.2  # box size and distance between columns
    rows, mid = (2.6, 1.3, 0.0), 1.3  # y of each branch (top: short kernels), of the trunk
    _box(ax, 0, mid, f"input beat\n{_shape(steps[0]['shape'])}", "0.9", w, h)
    branches = [p for p in dict.fromkeys(s["part"] for s in steps) if p.startswith("branch")]
    col = 1
    for part, y, color in zip(branches, rows, _BRANCH_COLORS):
        layers = [s for s in steps if s["part"] == part and s["name"] in ("Conv1d", "MaxPool1d")]
        k1, k2 = layers[0]["kernels"]
        ax.text(dx - w / 2, y + h / 2 + 0.06, f"branch k = {k1}, {k2}", fontsize=9,
                color=color, fontweight="bold", va="bottom")
        _arrow(ax, (w / 2, mid), (dx - w / 2, y))
        for col, s in enumerate(layers, start=1):
            module = s["module"]
            if s["name"] == "Conv1d":
                name, fill = f"conv k={module.kernel_size[0]}\n+ ReLU", "#cfe2f3"
            else:
                name, fill = f"max-pool {module.kernel_size}", "#d9ead3"
            _box(ax, col * dx, y, f"{name}\n{_shape(s['shape'])}", fill, w, h)
            if col > 1:
                _arrow(ax, ((col - 1) * dx + w / 2, y), (col * dx - w / 2, y))
        col += 1
        _arrow(ax, ((col - 1) * dx + w / 2, y), (col * dx - w / 2, mid))
    trunk = [s for s in steps if s["part"] == "trunk"]
    text = f"concat +\nflatten\n{_shape(trunk[0]['shape'])}"
    if model.n_features:
        text += f"\n+ {model.n_features}\nfeatures"
    _box(ax, col * dx, mid, text, "#fff2cc", w, 1.2)
    linears = [s for s in trunk if s["name"] == "Linear"]
    for i, s in enumerate(linears, start=1):
        last = i == len(linears)
        text = f"FC {_shape(s['shape'])}\n" + ("(logits)" if last else "+ ReLU")
        _box(ax, (col + i) * dx, mid, text, "#f4cccc" if last else "#fce5cd", w, h)
        _arrow(ax, ((col + i - 1) * dx + w / 2, mid), ((col + i) * dx - w / 2, mid))
    n_params = sum(s["params"] for s in steps)
    ax.set(xlim=(-w / 2 - 0.1, (col + len(linears)) * dx + w / 2 + 0.1), ylim=(-0.5, 3.4))
    ax.axis("off")
    return _title(ax, title, f"The multi-scale CNN: three branches, {n_params:,} parameters")


def plot_receptive_fields(beat, fields, *, window=DEFAULT_WINDOW, ylabel="mV", ax=None,
                          title=None):
    """A beat with the receptive field of each branch drawn as a bar centred on the R peak.

    Parameters
    ----------
    beat : np.ndarray, shape (n_samples,)
        One beat, in ``ylabel`` units.
    fields : list of dict
        From :func:`ecgtut.receptive_fields`: ``kernels``, ``samples``, ``ms``.
    window : ecgtut.BeatWindow
        The window the beat was cut with (its time axis is ``window.times(len(beat))``).
    ylabel : str
        Label of the y axis (the beat's units).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: none).

    Returns
    -------
    matplotlib.axes.Axes
        The x axis is in milliseconds from the R peak.

    Examples
    --------
    >>> rf = [{"kernels": (4, 6), "samples": 17, "ms": 61.0}]
    >>> ax = plot_receptive_fields(np.zeros(251), rf)
    >>> ax.lines[1].get_xdata().tolist()
    [-30.5, 30.5]
    """
    ax = _ax(ax, figsize=(8, 3.5))
    t = 1000 * window.times(len(beat))
    ax.plot(t, beat, color="k", lw=1)
    low, high = float(np.min(beat)), float(np.max(beat))
    span = high - low or 1.0
    for i, rf in enumerate(fields):  # the branches' colours, then matplotlib's for any more
        color = _BRANCH_COLORS[i] if i < len(_BRANCH_COLORS) else f"C{i}"
        y = high + (0.15 + 0.15 * i) * span
        half = rf["ms"] / 2
        ax.plot([-half, half], [y, y], color=color, lw=5, solid_capstyle="butt")
        k1, k2 = rf["kernels"]
        ax.text(half + 8, y, f"k = {k1}, {k2}: {rf['samples']} samples = {rf['ms']:.0f} ms",
                va="center", fontsize=8, color=color)
    ax.axvline(0, color="0.5", ls=":", lw=1)
    ax.set_ylim(low - 0.05 * span, high + (0.3 + 0.15 * len(fields)) * span)
    ax.set(xlabel="time from R peak (ms)", ylabel=ylabel)
    return _title(ax, title)


def plot_normalized_beats(X, normalized, labels=None, *, window=DEFAULT_WINDOW, axes=None,
                          title=None):
    """A few beats as cut (mV) beside the same beats normalised, one panel per way.

    Parameters
    ----------
    X : np.ndarray, shape (n_beats, n_samples)
        Beats in mV.
    normalized : dict of str to np.ndarray (n_beats, n_samples)
        The same beats normalised, e.g. ``{"center": normalize_beats(X, "center"),
        "zscore": normalize_beats(X, "zscore")}`` (see :func:`ecgtut.normalize_beats`).
    labels : list of str, optional
        Legend entry of each beat (default: "beat 0", "beat 1"...).
    window : ecgtut.BeatWindow
        The window the beats were cut with (for the time axis).
    axes : Axes or array of Axes, optional
        One per panel, ``1 + len(normalized)`` (default: a new figure, one row).
    title : str, optional
        Figure title (default: none; each panel names its normalisation).

    Returns
    -------
    np.ndarray of matplotlib.axes.Axes, shape (1 + len(normalized),)

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(3, 251))
    >>> axes = plot_normalized_beats(X, {"zscore": X / X.std(1, keepdims=True)}, ["a", "b", "c"])
    >>> len(axes), axes[0].get_legend_handles_labels()[1]
    (2, ['a', 'b', 'c'])
    """
    panels = {"as cut": X, **normalized}
    axes = _axes(axes, len(panels), figsize=(5.5 * len(panels), 3.5), sharex=True)
    t = window.times(np.shape(X)[1])
    labels = labels if labels is not None else [f"beat {i}" for i in range(len(X))]
    titles = {"as cut": ("As cut", "mV"),
              "center": ("Centred: median to 0, amplitude kept", "mV"),
              "zscore": ("Standardised: mean 0, std 1", "standard deviations")}
    for ax, (name, Z) in zip(axes, panels.items()):
        for i, label in enumerate(labels):
            ax.plot(t, Z[i], color=f"C{i % 10}", lw=1, label=label)
        panel_title, ylabel = titles.get(name, (name, ""))
        ax.set(xlabel="time from R peak (s)", ylabel=ylabel, title=panel_title)
        ax.axhline(0, color="0.8", lw=0.8)
    axes[0].legend(fontsize=8)
    return _suptitle(axes, title)


def plot_augmented_beats(x, augmented, *, window=DEFAULT_WINDOW, zoom=0.1, axes=None,
                         title=None):
    """One beat as cut beside random augmented copies of it, whole and around the R peak.

    Parameters
    ----------
    x : np.ndarray, shape (n_samples,)
        The beat, in mV.
    augmented : np.ndarray, shape (n_copies, n_samples)
        Copies of it from :func:`ecgtut.augment_beats`, in mV.
    window : ecgtut.BeatWindow
        The window the beat was cut with (for the time axis).
    zoom : float
        Half-width of the right panel around the R peak, in seconds.
    axes : two Axes, optional
        The whole beat, then the zoom (default: a new figure).
    title : str, optional
        Figure title (default: none; each panel has its own).

    Returns
    -------
    np.ndarray of matplotlib.axes.Axes, shape (2,)

    Examples
    --------
    >>> x = np.exp(-np.linspace(-20, 30, 251) ** 2)
    >>> axes = plot_augmented_beats(x, np.stack([np.roll(x, 2), np.roll(x, -3)]))
    >>> len(axes), len(axes[0].lines)
    (2, 4)
    """
    axes = _axes(axes, 2, figsize=(12, 3.5), gridspec_kw={"width_ratios": [2, 1]})
    t = window.times(len(x))
    for ax in axes[:2]:
        for i, beat in enumerate(augmented):
            ax.plot(t, beat, lw=1, alpha=0.8, color=f"C{i % 10}",
                    label="augmented copies" if i == 0 else None)
        ax.plot(t, x, color="black", lw=2, label="as cut")
        ax.axvline(0, color="0.5", ls=":", lw=1)
        ax.set(xlabel="time from R peak (s)", ylabel="mV")
    axes[0].set_title(f"One beat and {len(augmented)} random copies")
    axes[0].legend(fontsize=8)
    axes[1].set_xlim(-zoom, zoom)
    axes[1].set_xticks(np.linspace(-zoom, zoom, 5))
    axes[1].set_title("Around the R peak")
    return _suptitle(axes, title)
