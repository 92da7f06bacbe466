"""Figures of chapter 05 about training (:mod:`ecgtut.datasets`, :mod:`ecgtut.train`)."""

from __future__ import annotations

import numpy as np

from ecgtut.plots._common import _ax, _axes, _suptitle, _title

__all__ = ["plot_split_counts", "plot_lr_schedule", "plot_learning_curves"]


def plot_split_counts(splits, classes, *, log=True, ax=None, title=None):
    """Beats per class in each split, with each class's share of its split above the bars.

    With a stratified split the shares are (nearly) the same in every split.

    Parameters
    ----------
    splits : dict
        ``{name: labels of that split}``, labels being int arrays of class indices.
    classes : sequence of str
        Class names in label order.
    log : bool
        Log scale on the counts (to see the rare classes).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "Beats per class in each split").

    Returns
    -------
    matplotlib.axes.Axes
        One group of bars per class, one bar per split (split ``j`` in colour ``C<j>``).

    Examples
    --------
    >>> ax = plot_split_counts({"train": np.array([0, 0, 0, 1]), "test": np.array([0, 1])}, "NS")
    >>> [t.get_text() for t in ax.texts]
    ['75.0 %', '25.0 %', '50.0 %', '50.0 %']
    """
    import pandas as pd
    import seaborn as sns

    ax = _ax(ax, figsize=(8, 3.5))
    classes = [str(c) for c in classes]
    rows = []
    for name, y in splits.items():
        counts = np.bincount(np.asarray(y, dtype=int), minlength=len(classes))
        for c, n in zip(classes, counts):
            rows.append({"class": c, "split": f"{name} ({len(y)} beats)", "beats": int(n),
                         "share": 100 * n / max(len(y), 1)})
    data = pd.DataFrame(rows, columns=["class", "split", "beats", "share"])
    hues = list(dict.fromkeys(data["split"]))
    sns.barplot(data, x="class", y="beats", hue="split", order=classes, hue_order=hues,
                palette=[f"C{j}" for j in range(len(hues))], saturation=1, errorbar=None,
                legend=False, ax=ax)
    for bars, hue in zip(ax.containers[-len(hues):], hues):  # one per split
        bars.set_label(hue)
        shares = data.loc[data["split"] == hue, "share"]
        ax.bar_label(bars, labels=[f"{s:.1f} %" for s in shares], fontsize=7)
    if log:
        ax.set_yscale("log")
    ax.set_ylim(top=ax.get_ylim()[1] * (3 if log else 1.1))
    ax.set(xlabel="class", ylabel="beats")
    ax.legend(fontsize=8)
    return _title(ax, title, "Beats per class in each split")


def plot_lr_schedule(lrs, steps_per_epoch, history=None, *, ax=None, title=None):
    """Learning rate against training progress, with the values recorded by ``fit``.

    Parameters
    ----------
    lrs : array, shape (n_steps,)
        Rate at each optimizer step, from :func:`ecgtut.lr_schedule`.
    steps_per_epoch : int
        Batches per epoch (sets the x axis, in epochs).
    history : dict, optional
        From :func:`ecgtut.fit`: ``history["lr"]`` (rate at the end of each
        epoch) is drawn as dots at ``history["epoch"]``.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Axes title (default: "Learning rate during training").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> history = {"epoch": [1, 2], "lr": [1.0, 0.1]}
    >>> ax = plot_lr_schedule(np.array([1.0, 2.0, 1.0, 0.5]), 2, history)
    >>> ax.lines[0].get_xdata().tolist()
    [0.0, 0.5, 1.0, 1.5]
    """
    ax = _ax(ax, figsize=(7, 3))
    lrs = np.asarray(lrs)
    ax.plot(np.arange(len(lrs)) / steps_per_epoch, lrs, color="tab:blue", lw=1.5,
            label="schedule (one value per batch)")
    if history is not None:
        ax.plot(history["epoch"], history["lr"], "o", color="tab:red", ms=5,
                label="history['lr'] (end of each epoch)")
    ax.set(xlabel="epoch", ylabel="learning rate")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _title(ax, title, "Learning rate during training")


def plot_learning_curves(history, *, axes=None, title=None):
    """Loss and accuracy per epoch, training vs validation (and test, if tracked).

    Parameters
    ----------
    history : dict
        From :func:`ecgtut.fit`: lists ``train_loss``, ``val_loss``,
        ``train_acc``, ``val_acc`` (optionally ``test_acc`` and ``epoch``) and
        ``best_epoch``.
    axes : two Axes, optional
        Loss and accuracy panels (default: a new figure).
    title : str, optional
        Figure title (default: none; the panels are titled "Loss" and "Accuracy").

    Returns
    -------
    np.ndarray of matplotlib.axes.Axes, shape (2,)

    Examples
    --------
    >>> history = {"train_loss": [0.5, 0.3, 0.2], "val_loss": [0.4, 0.3, 0.35],
    ...            "train_acc": [0.8, 0.9, 0.95], "val_acc": [0.85, 0.9, 0.88], "best_epoch": 2}
    >>> axes = plot_learning_curves(history)
    >>> [ax.get_title() for ax in axes], axes[1].get_legend_handles_labels()[1]
    (['Loss', 'Accuracy'], ['training', 'validation', 'epoch kept'])
    """
    axes = _axes(axes, 2, figsize=(10, 3.5))
    epochs = history.get("epoch") or list(range(1, len(history["train_loss"]) + 1))
    for ax, key, label in ((axes[0], "loss", "cross-entropy loss"), (axes[1], "acc", "accuracy")):
        ax.plot(epochs, history[f"train_{key}"], "o-", ms=3, label="training")
        ax.plot(epochs, history[f"val_{key}"], "o-", ms=3, label="validation")
        if f"test_{key}" in history:
            ax.plot(epochs, history[f"test_{key}"], "o--", ms=3, color="0.5",
                    label="test fold (not for selection)")
        if history.get("best_epoch"):
            ax.axvline(history["best_epoch"], color="k", ls=":", lw=1, label="epoch kept")
        ax.set(xlabel="epoch", ylabel=label)
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[1].legend(fontsize=8)
    axes[0].set_title("Loss")
    axes[1].set_title("Accuracy")
    return _suptitle(axes, title)
