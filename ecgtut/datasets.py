"""Chapter 05 -- beats as training data: datasets, splits and augmentation.

A :class:`BeatDataset` holds beats, labels and (optionally) per-beat
features together, so they travel as one. :func:`stratified_split` and
:func:`stratified_subsample` choose beats with the class ratios kept;
:func:`augment_beats` makes the randomly shifted and stretched copies the
``"fast"`` recipe trains on.

Example
-------
>>> ds = as_dataset((np.zeros((4, 251)), np.array([0, 1, 0, 1])))
>>> len(ds), tuple(ds.X.shape)
(4, (4, 1, 251))
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch.utils.data import Dataset

from ecgtut.beats import DEFAULT_WINDOW, BeatWindow

__all__ = ["BeatDataset", "as_dataset", "augment_beats", "stratified_split",
           "stratified_subsample"]


def augment_beats(x, shift: int = 3, stretch: float = 0.05, *,
                  window: BeatWindow = DEFAULT_WINDOW, generator: torch.Generator | None = None):
    """Randomly shift and time-stretch beats: a new, slightly different copy of each.

    Two beats of the same kind are never cut exactly alike: the annotated
    R peak can sit a few milliseconds off, and the waves come closer together
    when the heart beats faster. Training on copies that vary in just these
    ways (a different copy of every beat in every epoch) teaches the network
    to ignore them. Each beat gets its own

    - shift: a whole number of samples drawn uniformly from ``-shift`` to
      ``+shift`` (3 samples are about 11 ms at the beat's 278.9 Hz);
    - stretch: a factor ``a`` drawn uniformly between ``1 - stretch`` and
      ``1 + stretch``, applied about the R peak: the sample ``t`` samples
      after the peak takes the value the beat had ``t / a`` samples after it.

    Values between samples are interpolated linearly; beyond either end of
    the window, the end value is repeated. ``shift=0, stretch=0`` returns the
    beats unchanged.

    Parameters
    ----------
    x : array or tensor, shape (..., n_samples)
        Beats, for instance (batch, 251) or (batch, 1, 251).
    shift : int
        Largest shift, in samples.
    stretch : float
        Largest relative stretch (0.05: from 95 % to 105 % of the length).
    window : BeatWindow
        The window the beats were cut with: the stretch is centred on its R
        peak (``window.r_peak_sample``, 111.6 for the paper's window).
    generator : torch.Generator, optional
        Source of the random draws (a seeded one makes them repeatable).

    Returns
    -------
    Same type (NumPy or torch) and shape as ``x``, float32.

    Example
    -------
    >>> x = np.sin(np.linspace(0, 6, 251, dtype="float32"))[None].repeat(4, axis=0)
    >>> g = torch.Generator().manual_seed(0)
    >>> augment_beats(x, generator=g).shape, np.array_equal(augment_beats(x, 0, 0), x)
    ((4, 251), True)
    """
    r_peak = window.r_peak_sample
    as_numpy = not isinstance(x, torch.Tensor)
    t = torch.as_tensor(np.asarray(x, dtype=np.float32) if as_numpy else x.float())
    n = t.shape[-1]
    flat = t.reshape(-1, n)
    s = torch.randint(-shift, shift + 1, (len(flat), 1), generator=generator).float()
    a = 1 + stretch * (2 * torch.rand(len(flat), 1, generator=generator) - 1)
    # where each output sample reads the input, in (fractional) samples
    pos = r_peak + (torch.arange(n) - r_peak - s) / a
    pos = pos.to(t.device).clamp(0, n - 1)
    lo = pos.floor().long().clamp(max=n - 2)
    w = pos - lo
    out = (flat.gather(1, lo) * (1 - w) + flat.gather(1, lo + 1) * w).reshape(t.shape)
    return out.numpy() if as_numpy else out


def _check_finite(A, what):
    """Raise ValueError naming how many rows hold NaN or inf, and the first of them."""
    bad = ~np.isfinite(A).reshape(len(A), -1).all(axis=1) if len(A) else np.zeros(0, bool)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} {what}(s) hold non-finite values (first: {what} "
                         f"{int(np.argmax(bad))}): a model cannot classify NaN or inf; "
                         f"leave them out or fill them first")


class BeatDataset(Dataset):
    """Beats as a PyTorch dataset.

    Beats are kept as cut (in mV, float32): the model normalises each beat
    itself (``MultiScaleCNN(normalize=...)``, see :func:`~ecgtut.model.normalize_beats`), so
    training, prediction and a saved model all see beats the same way.

    Parameters
    ----------
    X : array, shape (n_beats, n_samples)
        Beats, in mV.
    y : array of int, shape (n_beats,), optional
        Class indices; ``None`` for unlabelled beats (labels are then -1).
    features : array, shape (n_beats, n_features), optional
        Extra per-beat features (e.g. RR intervals), passed to the model as
        its second input. Used as given: scale them yourself.

    Items are ``(x, y)`` or ``(x, features, y)`` with ``x`` of shape
    (1, n_samples). Indexing with a list of indices returns a whole batch at
    once, which is how :func:`ecgtut.fit` reads it (much faster than beat by beat).

    Example
    -------
    >>> ds = BeatDataset(np.zeros((10, 251)), np.arange(10) % 2)
    >>> x, y = ds[0]
    >>> len(ds), tuple(x.shape), int(y)
    (10, (1, 251), 0)
    """

    def __init__(self, X, y=None, features=None):
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2:
            raise ValueError(f"expected beats of shape (n_beats, n_samples), got {X.shape}"
                             + ("; for one beat x, pass x[None]" if X.ndim == 1 else ""))
        for name, other in (("y", y), ("features", features)):
            if other is not None and len(other) != len(X):
                raise ValueError(f"{len(X)} beats but {len(other)} rows of {name}")
        _check_finite(X, "beat")
        if features is not None:
            _check_finite(np.asarray(features, dtype=np.float32), "feature row")
        self.X = torch.as_tensor(X).unsqueeze(1)
        y = np.full(len(X), -1) if y is None else np.asarray(y)
        self.y = torch.as_tensor(y, dtype=torch.long)
        self.features = None if features is None else torch.as_tensor(
            np.asarray(features, dtype=np.float32))

    def __len__(self):
        return len(self.y)

    def __getitem__(self, idx):
        if self.features is None:
            return self.X[idx], self.y[idx]
        return self.X[idx], self.features[idx], self.y[idx]


def as_dataset(data) -> BeatDataset:
    """A :class:`BeatDataset` from a dataset or from a tuple ``(X, y)`` or ``(X, y, features)``.

    This is how :func:`ecgtut.fit` accepts its training, validation and
    monitored beats.

    Parameters
    ----------
    data : BeatDataset or tuple
        ``(X, y)`` or ``(X, y, features)``, as in :class:`BeatDataset`.

    Returns
    -------
    BeatDataset
        ``data`` itself when it already is one.

    Example
    -------
    >>> as_dataset((np.zeros((3, 251)), [0, 1, 1], np.ones((3, 2)))).features.shape
    torch.Size([3, 2])
    """
    if isinstance(data, BeatDataset):
        return data
    if isinstance(data, tuple | list) and len(data) in (2, 3):
        return BeatDataset(*data)
    raise TypeError("expected a BeatDataset or a tuple (X, y) or (X, y, features), "
                    f"got {type(data).__name__}")


def stratified_split(y, val_fraction: float = 0.1, seed: int = 0):
    """Split indices into training and validation parts with the same class ratios.

    Parameters
    ----------
    y : array of int, shape (n,)
        Class labels.
    val_fraction : float
        Fraction of the beats (0-1) that go to the validation part.
    seed : int
        Seed of the shuffle.

    Returns
    -------
    train_idx, val_idx : arrays of int
        Sorted indices into ``y``. A class with a single beat stays in training.

    Example
    -------
    >>> tr, va = stratified_split(np.array([0] * 90 + [1] * 10), 0.1, seed=0)
    >>> len(tr), len(va), int(np.sum(np.array([0] * 90 + [1] * 10)[va]))
    (90, 10, 1)
    """
    y = np.asarray(y)
    labels, counts = np.unique(y, return_counts=True)
    single = np.isin(y, labels[counts < 2])  # sklearn cannot stratify a class of one
    idx = np.flatnonzero(~single)
    try:
        tr, va = train_test_split(idx, test_size=val_fraction, stratify=y[idx],
                                  random_state=seed)
    except ValueError as exc:  # too few beats to give every class a share of both parts
        raise ValueError(f"cannot split {len(idx)} beats of {len(labels)} classes into "
                         f"training and a stratified {val_fraction:g} validation part: "
                         f"{exc}") from exc
    return np.sort(np.concatenate([tr, np.flatnonzero(single)])), np.sort(va)


def stratified_subsample(y, n=None, seed=0, min_per_class=20):
    """Indices of about ``n`` beats that keep the class ratios (the fast-mode subsample).

    Each class keeps its share of ``n`` beats, but at least ``min_per_class``
    (or all its beats, if it has fewer), so a rare class never vanishes. The
    same rule :func:`ecgtut.reproduce` uses with ``fast=True``.

    Parameters
    ----------
    y : array of int, shape (n_beats,)
        Class labels.
    n : int, optional
        Number of beats wanted; ``None`` keeps every beat.
    seed : int
        Seed of the random choice.
    min_per_class : int
        Floor on the beats kept per class.

    Returns
    -------
    array of int, shape (about n,)
        Sorted indices into ``y``.

    Example
    -------
    >>> y = np.array([0] * 900 + [1] * 90 + [2] * 10)
    >>> np.bincount(y[stratified_subsample(y, 100)])
    array([90, 20, 10])
    """
    y = np.asarray(y)
    if n is None:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    labels, counts = np.unique(y, return_counts=True)
    take = np.maximum(np.round(counts * n / len(y)).astype(int), min_per_class)
    idx = [rng.choice(np.flatnonzero(y == c), min(t, m), replace=False)
           for c, t, m in zip(labels, take, counts, strict=True)]
    return np.sort(np.concatenate(idx))
