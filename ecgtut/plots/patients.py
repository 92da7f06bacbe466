"""Figures of chapter 07 about the inter-patient protocol (:mod:`ecgtut.patients`).

They draw the results of :func:`ecgtut.ds1_cross_validate`,
:func:`ecgtut.interpatient` and :func:`ecgtut.intra_patient_baseline`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ecgtut.plots._common import CLASS_COLORS, _ax, _axes, _suptitle, _title

__all__ = ["plot_ds1_settings", "plot_s_threshold", "plot_intra_vs_inter", "plot_per_record",
           "plot_anchor_comparison", "plot_decision_grid", "plot_bootstrap", "plot_relative_beats"]


def plot_ds1_settings(table, *, ax=None, title=None):
    """S and V F1 of each setting on DS1 (patient-grouped cross-validation), best on top.

    Parameters
    ----------
    table : dict
        Setting name -> a :func:`ecgtut.ds1_cross_validate` result (``score``,
        ``per_class``).
    ax : matplotlib Axes, optional
    title : str, optional
        Default: "Settings scored on DS1 patients only".

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> row = {"score": 0.5, "per_class": {"S": {"f1": 0.3}, "V": {"f1": 0.7}}}
    >>> ax = plot_ds1_settings({"a": row})
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['a']
    """
    names = sorted(table, key=lambda n: table[n]["score"])
    ax = _ax(ax, figsize=(8, 0.35 * len(names) + 1.2))
    pos = np.arange(len(names))
    for k, c in enumerate(("S", "V")):
        f1 = [table[n]["per_class"][c]["f1"] or 0.0 for n in names]
        ax.barh(pos + (k - 0.5) * 0.38, f1, height=0.38, color=CLASS_COLORS[c], label=f"{c} F1")
    ax.scatter([table[n]["score"] for n in names], pos, color="k", marker="|", s=120,
               zorder=3, label="score (mean)")
    ax.set(yticks=pos, yticklabels=names, xlim=(0, 1), xlabel="F1 on pooled DS1 folds")
    ax.legend(fontsize=8, loc="lower right")
    return _title(ax, title, "Settings scored on DS1 patients only")


def plot_s_threshold(f1_by_threshold, chosen=None, *, ax=None, title=None):
    """S F1 against the S threshold of :func:`ecgtut.decide`, on DS1 predictions.

    Parameters
    ----------
    f1_by_threshold : dict
        Threshold -> S F1 (``s_f1_by_threshold`` of :func:`ecgtut.ds1_cross_validate`).
    chosen : float, optional
        The threshold kept, marked.
    ax : matplotlib Axes, optional
    title : str, optional
        Default: "Choosing the S threshold on DS1".

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> ax = plot_s_threshold({0.1: 0.2, 0.5: 0.4}, chosen=0.5)
    >>> ax.get_xlabel()
    'S threshold (probability)'
    """
    ax = _ax(ax, figsize=(5, 3.2))
    t = np.array([float(k) for k in f1_by_threshold])
    f1 = np.array(list(f1_by_threshold.values()), dtype=float)
    order = np.argsort(t)
    ax.plot(t[order], f1[order], marker="o", color=CLASS_COLORS["S"])
    if chosen is not None:
        ax.axvline(float(chosen), color="k", ls="--", lw=1, label=f"chosen: {float(chosen):g}")
        ax.legend(fontsize=8)
    ax.set(xlabel="S threshold (probability)", ylabel="S F1 (DS1)", ylim=(0, None))
    return _title(ax, title, "Choosing the S threshold on DS1")


def _se_ppv(result, c):
    pc = result["per_class"][c]
    return [100 * (pc["se"] or 0.0), 100 * (pc["ppv"] or 0.0)]


def plot_intra_vs_inter(intra, inter, *, ax=None, title=None):
    """The same network, beats split (intra-patient) against patients split (DS1 -> DS2).

    Parameters
    ----------
    intra, inter : dict
        :func:`ecgtut.intra_patient_baseline` and :func:`ecgtut.interpatient` results.
    ax : matplotlib Axes, optional
    title : str, optional
        Default: "From seen to unseen patients".

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> r = {"accuracy": 0.9, "per_class": {c: {"se": 0.5, "ppv": 0.5} for c in "SV"}}
    >>> ax = plot_intra_vs_inter(r, r)
    >>> ax.get_ylabel()
    '%'
    """
    ax = _ax(ax, figsize=(7, 3.5))
    names = ["S Se", "S +P", "V Se", "V +P", "accuracy"]
    pos = np.arange(len(names))
    for k, (label, r, color) in enumerate((("intra-patient (beats split)", intra, "0.6"),
                                          ("inter-patient (DS1 -> DS2)", inter, "tab:green"))):
        values = _se_ppv(r, "S") + _se_ppv(r, "V") + [100 * r["accuracy"]]
        bars = ax.bar(pos + (k - 0.5) * 0.4, values, width=0.4, color=color, label=label)
        ax.bar_label(bars, fmt="%.0f", fontsize=8)
    ax.set(xticks=pos, xticklabels=names, ylabel="%", ylim=(0, 110))
    ax.legend(fontsize=8, loc="lower left")
    return _title(ax, title, "From seen to unseen patients")


def plot_per_record(per_record, *, classes=("S", "V"), axes=None, title=None):
    """Se of each DS2 record for each class, with the number of its beats of that class.

    Parameters
    ----------
    per_record : dict
        Record -> ``per_class`` scores (``per_record`` of :func:`ecgtut.interpatient`).
    classes : sequence of str
        One panel per class; records without a beat of the class are left out.
    axes : array of Axes, optional
    title : str, optional
        Figure title (default: none).

    Returns
    -------
    np.ndarray of Axes, shape (len(classes),)

    Example
    -------
    >>> pr = {"100": {"per_class": {c: {"se": 0.5, "support": 2} for c in "SV"}}}
    >>> axes = plot_per_record(pr)
    >>> len(axes)
    2
    """
    axes = _axes(axes, len(classes), figsize=(11, 2.8 * len(classes)), nrows=len(classes),
                 ncols=1)
    for ax, c in zip(axes, classes):
        recs = [r for r in per_record if per_record[r]["per_class"][c]["support"]]
        se = [100 * (per_record[r]["per_class"][c]["se"] or 0.0) for r in recs]
        bars = ax.bar(recs, se, color=CLASS_COLORS[c])
        ax.bar_label(bars, labels=[f"n={per_record[r]['per_class'][c]['support']}" for r in recs],
                     fontsize=7)
        ax.set(ylabel=f"{c} Se (%)", ylim=(0, 115), xlabel="DS2 record")
        ax.set_title(f"{c} beats found, record by record", fontsize=10)
    return _suptitle(axes, title)


def plot_anchor_comparison(ours, anchors, *, targets=None, axes=None, title=None):
    """Se against +P of S and of V: our settings beside the published inter-patient results.

    Parameters
    ----------
    ours : dict
        Name -> an :func:`ecgtut.interpatient` result.
    anchors : dict
        Name -> ``{"S": (Se, +P), "V": (Se, +P)}`` in % (:data:`ecgtut.ANCHORS`).
    targets : dict, optional
        ``{"S": (Se, +P), "V": (Se, +P)}`` in %: drawn as the corner to reach.
    axes : array of 2 Axes, optional
    title : str, optional
        Figure title.

    Returns
    -------
    np.ndarray of 2 Axes

    Example
    -------
    >>> r = {"per_class": {c: {"se": 0.5, "ppv": 0.5} for c in "SV"}}
    >>> axes = plot_anchor_comparison({"a": r}, {"x": {"S": (70, 40), "V": (80, 80)}})
    >>> [ax.get_xlabel() for ax in axes]
    ['S Se (%)', 'V Se (%)']
    """
    axes = _axes(axes, 2, figsize=(10, 4.2))
    markers = "osD^vP*X"
    for ax, c in zip(axes, ("S", "V")):
        for k, (name, a) in enumerate(anchors.items()):
            ax.scatter(*a[c], color="0.55", marker=markers[k % len(markers)], s=40, label=name)
        for k, (name, r) in enumerate(ours.items()):
            se, ppv = _se_ppv(r, c)
            ax.scatter(se, ppv, color=plt.cm.tab10(k), s=70, edgecolor="k", zorder=3, label=name)
            ax.annotate(name.split(" ")[0], (se, ppv), xytext=(4, 4), textcoords="offset points",
                        fontsize=8)
        if targets is not None:
            se, ppv = targets[c]
            ax.fill_between([se, 100], ppv, 100, color="tab:green", alpha=0.12, label="target")
        ax.set(xlim=(0, 100), ylim=(0, 100), xlabel=f"{c} Se (%)", ylabel=f"{c} +P (%)")
        ax.set_title(f"{c} beats on DS2", fontsize=10)
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return _suptitle(axes, title)


def plot_decision_grid(table, chosen=None, *, ax=None, title=None):
    """The DS1 score of every blend weight and S scale (:func:`ecgtut.choose_decision`).

    Parameters
    ----------
    table : dict
        ``{(blend, s_scale): score}``, or a list of ``[blend, s_scale, score]`` rows.
    chosen : (blend, s_scale), optional
        Framed.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> ax = plot_decision_grid({(0.0, 1.0): 0.5, (1.0, 1.0): 0.6}, chosen=(1.0, 1.0))
    >>> ax.get_xlabel()
    'S scale (S probability multiplied by)'
    """
    rows = table.items() if isinstance(table, dict) else (((w, s), v) for w, s, v in table)
    scores = {(float(w), float(s)): v for (w, s), v in rows}
    blends = sorted({w for w, _ in scores})
    scales = sorted({s for _, s in scores})
    grid = np.array([[scores.get((w, s), np.nan) for s in scales] for w in blends])
    ax = _ax(ax, figsize=(6, 3.6))
    image = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
    for i in range(len(blends)):
        for j in range(len(scales)):
            ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center", fontsize=8,
                    color="w" if grid[i, j] < np.nanmean(grid) else "k")
    if chosen is not None:
        i, j = blends.index(float(chosen[0])), scales.index(float(chosen[1]))
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="r", lw=2))
    ax.set(xticks=range(len(scales)), xticklabels=[f"{s:g}" for s in scales],
           yticks=range(len(blends)), yticklabels=[f"{w:g}" for w in blends],
           xlabel="S scale (S probability multiplied by)",
           ylabel="blend: weight of the networks")
    ax.figure.colorbar(image, ax=ax, label="DS1 score (mean of S and V F1)")
    return _title(ax, title, "Blend and S bar, chosen on pooled DS1 folds")


def plot_bootstrap(results, *, axes=None, title=None):
    """S and V Se and +P of each run, with their bootstrap interval over DS2 records.

    Parameters
    ----------
    results : dict
        Name -> a result with ``per_class`` and ``bootstrap``
        (:func:`ecgtut.adaptive_interpatient`).
    axes : array of 2 Axes, optional
    title : str, optional

    Returns
    -------
    np.ndarray of 2 Axes (S, V)
    """
    axes = _axes(axes, 2, figsize=(10, 0.45 * len(results) + 1.8))
    names = list(results)
    pos = np.arange(len(names))
    for ax, c in zip(axes, ("S", "V")):
        for k, (key, label, marker) in enumerate((("se", "Se", "o"), ("ppv", "+P", "s"))):
            for i, name in enumerate(names):
                r = results[name]
                value = r["per_class"][c][key]
                low_high = r["bootstrap"][c][key]
                if value is None or low_high is None:
                    continue
                y = pos[i] + (k - 0.5) * 0.3
                ax.errorbar(100 * value, y, xerr=[[100 * (value - low_high[0])],
                                                  [100 * (low_high[1] - value)]],
                            fmt=marker, color=CLASS_COLORS[c] if k == 0 else "0.3", capsize=3,
                            label=f"{label} (95 % interval)" if i == 0 else None)
        ax.set(xlim=(0, 100), xlabel=f"{c}, % of DS2 beats", yticks=pos, yticklabels=names)
        ax.legend(fontsize=8, loc="lower left")
    axes[1].set_yticklabels([])
    return _suptitle(axes, title)


def plot_relative_beats(X, relative, aami, *, times=None, axes=None, title=None):
    """One recording's beats as cut and relative to its usual beat, by class.

    Parameters
    ----------
    X, relative : arrays, shape (n_beats, n_samples)
        The beats in mV and :func:`ecgtut.relative_beats` of them.
    aami : array of str, shape (n_beats,)
    times : array, shape (n_samples,), optional
        Time of each sample from the R peak, s (default: sample index).
    axes : array of 2 Axes, optional
    title : str, optional

    Returns
    -------
    np.ndarray of 2 Axes
    """
    axes = _axes(axes, 2, figsize=(10, 3.4))
    t = np.arange(X.shape[1]) if times is None else np.asarray(times)
    for ax, A, label in ((axes[0], X, "mV"), (axes[1], relative, "QRS amplitudes")):
        for c in ("N", "S", "V", "F"):
            rows = np.flatnonzero(np.asarray(aami) == c)[:30]
            for j, i in enumerate(rows):
                ax.plot(t, A[i], color=CLASS_COLORS[c], lw=0.6, alpha=0.5,
                        label=f"{c} ({np.sum(np.asarray(aami) == c)} beats)" if j == 0 else None)
        ax.set(xlabel="time from the R peak (s)" if times is not None else "sample",
               ylabel=label)
    axes[0].set_title("as cut", fontsize=10)
    axes[1].set_title("minus the recording's usual beat, / its QRS amplitude", fontsize=10)
    axes[0].legend(fontsize=8, loc="upper right")
    return _suptitle(axes, title)
