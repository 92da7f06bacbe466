"""Datasets, the training loop, prediction and checkpoints -- chapter 04.

The whole loop is :func:`fit`; everything else is a small helper it calls.
Two training recipes are kept side by side in :data:`RECIPES`:

``"fast"`` (default)
    AdamW, batch 512, a one-cycle learning-rate schedule peaking at 6e-3,
    15 epochs, each training beat randomly shifted by up to 3 samples and
    time-stretched by up to 5 % about its R peak in every epoch
    (:func:`augment_beats`), bfloat16 autocast where the CPU computes it
    natively and it agrees with float32 on the model (``"precision": "auto"``,
    see :mod:`ecgtut.precision`). Passes the write-up's accuracy in a few
    epochs and runs the whole 5-fold experiment in about 6.5 minutes on 2 CPU cores.
``"writeup"``
    What the Keras write-up did: RMSprop (lr 1e-3), batch 64, an L2 penalty
    of 1e-4 on the convolution kernels, 100 epochs at a constant rate.

In both, the epoch that is kept is chosen on a **validation split** carved out
of the training data, never on the test fold (SPEC section 6).

Example
-------
>>> import numpy as np
>>> from ecgtut.model import MultiScaleCNN
>>> rng = np.random.default_rng(0)
>>> X, y = rng.normal(size=(64, 251)).astype("float32"), rng.integers(0, 2, 64)
>>> net = MultiScaleCNN(n_classes=2)
>>> net, history = fit(net, X[:48], y[:48], X[48:], y[48:], epochs=2, progress=False)
>>> len(history["val_acc"])
2
"""

from __future__ import annotations

import copy
import os
import random
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler
from tqdm import tqdm

from ecgtut.model import BEAT_FS, MultiScaleCNN
from ecgtut.precision import PRECISIONS, cpu_has_bf16, resolve_precision  # noqa: F401 (moved)

__all__ = [
    "RECIPES", "R_PEAK_SAMPLE", "BeatDataset", "augment_beats", "set_seed", "keep_freed_memory",
    "default_device", "stratified_split", "fit", "predict", "save_checkpoint", "load_checkpoint",
]

#: Training recipes: ``fit(..., recipe="fast")`` or ``recipe="writeup"``.
#: ``conv_l2`` is the Keras-style ``l2`` penalty (``conv_l2 * sum(w ** 2)``) on
#: the convolution kernels; ``weight_decay`` is AdamW's decoupled decay;
#: ``shift`` (samples) and ``stretch`` (fraction) set the random augmentation
#: of the training beats (:func:`augment_beats`; 0 and 0: none); ``precision``
#: is ``"auto"``, ``"float32"`` or ``"bfloat16"`` (:func:`ecgtut.precision.resolve_precision`).
RECIPES = {
    "fast": {"optimizer": "adamw", "lr": 6e-3, "batch_size": 512, "epochs": 15,
             "schedule": "onecycle", "weight_decay": 1e-4, "conv_l2": 0.0, "patience": None,
             "shift": 3, "stretch": 0.05, "precision": "auto"},
    "writeup": {"optimizer": "rmsprop", "lr": 1e-3, "batch_size": 64, "epochs": 100,
                "schedule": "constant", "weight_decay": 0.0, "conv_l2": 1e-4, "patience": None,
                "shift": 0, "stretch": 0.0, "precision": "float32"},
}

#: Where the R peak sits in a beat, in samples: 0.4 s into the 0.9 s window
#: resampled to 251 samples (0.4 s x 278.9 Hz = 111.6).
R_PEAK_SAMPLE = 0.4 * BEAT_FS


def augment_beats(x, shift: int = 3, stretch: float = 0.05, r_peak: float = R_PEAK_SAMPLE,
                  generator: torch.Generator | None = None):
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
    r_peak : float
        Position of the R peak in a beat, in samples (:data:`R_PEAK_SAMPLE`).
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
    once, which is how :func:`fit` reads it (much faster than beat by beat).

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


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch, and ask PyTorch for deterministic kernels.

    Called before building a model and before :func:`fit`, it makes a run
    repeat to the last digit on the same machine with the same number of
    threads (other hardware may round differently).

    Parameters
    ----------
    seed : int
        Any whole number from 0 to 2**32 - 1.

    Example
    -------
    >>> set_seed(0); a = torch.rand(1)
    >>> set_seed(0); bool(torch.rand(1) == a)
    True
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)
    # Deterministic mode also fills every new tensor with NaN before use, which makes
    # CPU training about 3x slower and changes no result: switch that part off.
    torch.utils.deterministic.fill_uninitialized_memory = False


#: Blocks smaller than this many bytes come from the heap, not from a fresh ``mmap``
#: (see :func:`keep_freed_memory`): 32 MiB, the largest value glibc accepts on
#: 64-bit systems, well above any tensor of a training step (a few MB).
_MMAP_THRESHOLD = 32 * 2**20


def keep_freed_memory() -> bool:
    """Let the C allocator reuse freed memory instead of handing it back to the system.

    A training step allocates and frees tensors of a few MB (a batch of 512
    beats through a branch is 4 MB). glibc's ``malloc`` gives blocks that
    large back to the kernel on every ``free`` and maps fresh ones on the next
    step, and every page of a fresh block costs a page fault: 5-15 % of an
    epoch on 2 CPU cores (measured: 18.0 s instead of 19.2 s per epoch in
    ``tests/benchmarks/bench_train.py``, 16.7 s instead of 19.3 s in another
    run; same numbers).
    This asks glibc (``mallopt``) to serve such blocks from its heap and keep
    them there. It changes where memory comes from, never a result; it does
    nothing where the C library is not glibc (macOS, Windows, musl).
    :func:`fit` and :func:`predict` call it.

    Returns
    -------
    bool
        Whether the allocator's settings were changed (False: not glibc).

    Example
    -------
    >>> tuned = keep_freed_memory()   # True on Linux (glibc), False elsewhere
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED is None:
        _ALLOCATOR_TUNED = False
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's <malloc.h>
            mmap_ok = libc.mallopt(m_mmap_threshold, _MMAP_THRESHOLD)
            trim_ok = libc.mallopt(m_trim_threshold, 2 * _MMAP_THRESHOLD)
            _ALLOCATOR_TUNED = bool(mmap_ok or trim_ok)
        except (OSError, AttributeError):  # not glibc: leave the allocator alone
            pass
    return _ALLOCATOR_TUNED


_ALLOCATOR_TUNED = None  # not tried yet


def default_device(device=None) -> torch.device:
    """``device`` if given, else CUDA when available, else the CPU.

    Parameters
    ----------
    device : str or torch.device, optional
        For instance ``"cpu"``, ``"cuda"`` or ``"cuda:1"``.

    Returns
    -------
    torch.device

    Example
    -------
    >>> default_device("cpu")
    device(type='cpu')
    """
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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


def _loader(dataset, batch_size, shuffle=False, seed=0):
    """Batches of a :class:`BeatDataset`, fetched a whole batch at a time.

    Every pass over a DataLoader draws a seed for its workers from the
    loader's generator, by default PyTorch's global one, which also drives
    dropout: each loader gets a generator of its own, so that evaluating
    (say, the test beats of chapter 05) cannot change how a model trains.
    """
    if shuffle:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    else:
        sampler = SequentialSampler(dataset)
    batches = BatchSampler(sampler, batch_size, drop_last=False)
    return DataLoader(dataset, sampler=batches, batch_size=None,
                      generator=torch.Generator().manual_seed(seed))


def _forward(net, batch, device, bf16=False):
    """Move a batch to ``device``; return (logits, y), in bfloat16 where ``bf16``."""
    batch = [t.to(device) for t in batch]
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        return net(*batch[:-1]).float(), batch[-1]


def _make_optimizer(net, name, lr, weight_decay):
    if name == "adamw":
        return torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":  # Keras defaults: rho 0.9, epsilon 1e-7
        return torch.optim.RMSprop(net.parameters(), lr=lr, alpha=0.9, eps=1e-7,
                                   weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose 'adamw', 'adam' or 'rmsprop'")


def _make_schedule(optimizer, name, lr, epochs, steps_per_epoch):
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch)
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    raise ValueError(f"unknown schedule {name!r}; choose 'onecycle' or 'constant'")


def _conv_l2(net):
    """Sum of squared convolution kernels (biases excluded), as Keras' ``l2``."""
    return sum((m.weight ** 2).sum() for m in net.modules() if isinstance(m, nn.Conv1d))


@torch.no_grad()
def _evaluate(net, loader, loss_fn, device):
    """Mean loss and accuracy of ``net`` over a loader, in eval mode."""
    net.eval()
    total_loss, correct, n = 0.0, 0, 0
    for batch in loader:
        y_hat, y = _forward(net, batch, device)
        total_loss += loss_fn(y_hat, y).item() * len(y)
        correct += (y_hat.argmax(1) == y).sum().item()
        n += len(y)
    return total_loss / n, correct / n


def _check_labels(n_classes, **labels):
    """A clear error when labels are not class indices 0 .. n_classes - 1 of the model."""
    if n_classes is None:
        return
    for name, y in labels.items():
        y = np.asarray([] if y is None else y)
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            bad = int(y.max()) if y.max() >= n_classes else int(y.min())
            raise ValueError(f"{name} holds class {bad}, but the model has {n_classes} outputs "
                             f"(classes 0 to {n_classes - 1})")


def _loss_fn(class_weights, y_train, n_classes, device):
    """Cross-entropy, weighted per class if asked ("balanced": n / (k * count of the class))."""
    if isinstance(class_weights, str):
        classes = np.arange(n_classes) if n_classes else np.unique(y_train)
        absent = np.setdiff1d(classes, y_train)
        if absent.size:  # "balanced" would divide by a count of 0
            raise ValueError(f"class_weights={class_weights!r} needs training beats of every "
                             f"class; there are none of class {', '.join(map(str, absent))} "
                             f"(give weights of your own, e.g. 0 for an absent class)")
        class_weights = compute_class_weight(class_weights, classes=classes, y=np.asarray(y_train))
    if class_weights is not None:
        if n_classes is not None and len(class_weights) != n_classes:
            raise ValueError(
                f"{len(class_weights)} class weights for a model of {n_classes} classes")
        class_weights = torch.as_tensor(class_weights, dtype=torch.float32, device=device)
    return nn.CrossEntropyLoss(weight=class_weights)


def _train_epoch(net, loader, loss_fn, optimizer, schedule, conv_l2, device, bf16, progress,
                 augment=None):
    """One pass over the training batches; returns the running mean loss and accuracy.

    ``augment``: None, or keyword arguments of :func:`augment_beats` (with a
    seeded ``generator``) applied to the beats of every batch.
    """
    net.train()
    total_loss, correct, n = 0.0, 0, 0
    for batch in tqdm(loader, leave=False, disable=not progress, unit="batch"):
        if augment:  # a new random copy of every beat, each epoch
            batch = (augment_beats(batch[0], **augment), *batch[1:])
        y_hat, y = _forward(net, batch, device, bf16)
        loss = loss_fn(y_hat, y)
        if conv_l2:  # the write-up's Keras-style L2 penalty on the convolution kernels
            loss = loss + conv_l2 * _conv_l2(net)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()  # the learning rate changes after every batch
        total_loss += loss.item() * len(y)
        correct += (y_hat.argmax(1) == y).sum().item()
        n += len(y)
    return total_loss / n, correct / n


#: The ``bf16`` key of older recipes (True, False or "auto") as a ``precision``.
_BF16_TO_PRECISION = {True: "bfloat16", False: "float32", "auto": "auto"}


def _recipe(recipe, **overrides):
    """The recipe's settings, with every override that is not None applied.

    An older recipe's ``bf16`` key (True, False or "auto") stands for
    ``precision`` ("bfloat16", "float32", "auto"); without either, float32.
    """
    if isinstance(recipe, str):
        if recipe not in RECIPES:
            raise ValueError(f"unknown recipe {recipe!r}; choose one of {sorted(RECIPES)}")
        recipe = RECIPES[recipe]
    recipe = {"precision": "float32", **recipe}
    if "bf16" in recipe:  # e.g. {**RECIPES["fast"], "bf16": False}: the bf16 key decides
        bf16 = recipe.pop("bf16")
        if not isinstance(bf16, str):  # as before: any true value meant bfloat16
            bf16 = bool(bf16)
        if bf16 not in _BF16_TO_PRECISION:
            raise ValueError(f"unknown bf16 setting {bf16!r}; choose True, False or 'auto' "
                             f"(or give precision: one of {PRECISIONS})")
        recipe["precision"] = _BF16_TO_PRECISION[bf16]
    cfg = {**recipe, **{k: v for k, v in overrides.items() if v is not None}}
    if cfg["precision"] not in PRECISIONS:
        raise ValueError(f"unknown precision {cfg['precision']!r}; choose one of {PRECISIONS}")
    if cfg["epochs"] < 1:
        raise ValueError(f"epochs must be at least 1, got {cfg['epochs']}")
    return cfg


def fit(model, X_train, y_train, X_val, y_val, *, recipe="fast", epochs=None, batch_size=None,
        lr=None, shift=None, stretch=None, class_weights=None, patience=None, seed=0,
        device=None, progress=True,
        X_test=None, y_test=None, features_train=None, features_val=None, features_test=None,
        callback=None, desc="fit", precision=None):
    """Train ``model`` and keep the epoch with the best **validation** accuracy.

    Parameters
    ----------
    model : torch.nn.Module
        For instance ``MultiScaleCNN(n_classes)``; trained in place.
    X_train, X_val : arrays, shape (n, 251)
        Beats in mV (the model normalises each beat, see :func:`~ecgtut.model.normalize_beats`).
    y_train, y_val : arrays of int, shape (n,)
        Class indices.
    recipe : str or dict
        ``"fast"`` or ``"writeup"`` (see :data:`RECIPES`), or a dict of the same keys.
    epochs, batch_size, lr, shift, stretch, patience : optional
        Override the recipe. ``lr`` is the peak rate of the one-cycle schedule
        (``"fast"``) or the constant rate (``"writeup"``).
        ``shift`` (samples) and ``stretch`` (fraction) set the random
        augmentation of the training beats (see :func:`augment_beats`;
        ``shift=0, stretch=0`` trains on the beats as they are).
        ``patience``: stop after that many epochs without a better validation
        accuracy (``None``: run all epochs).
    class_weights : None, "balanced" or array of shape (n_classes,)
        Weights of the cross-entropy loss, for imbalanced classes.
    seed : int
        Seeds the shuffling of the batches, the augmentation and, through
        :func:`set_seed`, Python's, NumPy's and PyTorch's global generators
        (PyTorch's deterministic mode stays on afterwards).
    device : str, optional
        Default: CUDA when available, else the CPU.
    progress : bool
        Show a tqdm progress bar (one line per call, a bar per epoch).
    X_test, y_test : arrays, optional
        Only to *show* what goes wrong when the epoch is chosen on the test
        fold (chapter 05): their accuracy is recorded in ``history["test_acc"]``
        after each epoch and is **never** used to choose anything.
    features_train, features_val, features_test : arrays (n, n_features), optional
        Second input of a model built with ``n_features > 0``.
    callback : callable, optional
        Called as ``callback(history)`` after every epoch (to draw live
        curves, log, ...); training stops when it returns True.
    desc : str
        Label of the progress bar.
    precision : "auto", "float32" or "bfloat16", optional
        Arithmetic of the training passes (default: the recipe's, ``"auto"``
        for ``"fast"``). Before bfloat16 is used, the first batch of training
        beats goes through :func:`ecgtut.precision.check_bf16` (every layer,
        forward and backward): if any layer disagrees with float32, training
        runs in float32 and a
        :class:`~ecgtut.precision.PrecisionWarning` says so (see
        :func:`~ecgtut.precision.resolve_precision`). Validation and test
        beats are always evaluated in float32.

    Returns
    -------
    model : the same module, with the weights of the best validation epoch.
    history : dict of lists, one value per epoch
        ``epoch`` (1, 2, ...), ``train_loss``, ``train_acc`` (running means
        over the epoch's batches), ``val_loss``, ``val_acc``, ``lr`` (at the
        end of the epoch), ``seconds`` (elapsed since the start), and
        ``test_acc`` when ``X_test`` is given; plus ``best_epoch`` (int) and
        ``precision`` (a dict, what :func:`~ecgtut.precision.resolve_precision`
        decided and why: ``history["precision"]["train"]`` is ``"float32"`` or
        ``"bfloat16"``).

    Example
    -------
    Two epochs on 48 random "beats" of two classes (about a second):

    >>> X = np.random.default_rng(0).normal(size=(64, 251)).astype("float32")
    >>> y = np.arange(64) % 2
    >>> net, history = fit(MultiScaleCNN(n_classes=2), X[:48], y[:48], X[48:], y[48:],
    ...                    epochs=2, batch_size=16, progress=False)
    >>> history["epoch"], history["best_epoch"] in (1, 2)
    ([1, 2], True)
    """
    cfg = _recipe(recipe, epochs=epochs, batch_size=batch_size, lr=lr, shift=shift,
                  stretch=stretch, patience=patience, precision=precision)
    _check_labels(getattr(model, "n_classes", None), y_train=y_train, y_val=y_val, y_test=y_test)
    for name, X in (("X_train", X_train), ("X_val", X_val)):
        if len(X) == 0:  # the epoch is chosen on the validation beats: they are needed
            raise ValueError(f"{name} holds no beats")
    set_seed(seed)
    keep_freed_memory()
    device = default_device(device)
    net = model.to(device)
    train_iter = _loader(BeatDataset(X_train, y_train, features_train), cfg["batch_size"],
                         shuffle=True, seed=seed)
    val_iter = _loader(BeatDataset(X_val, y_val, features_val), 1024)
    test_iter = None  # only to record the test accuracy per epoch (chapter 05)
    if X_test is not None:
        test_iter = _loader(BeatDataset(X_test, y_test, features_test), 1024)
    # bfloat16 only where it agrees with float32 on a batch of training beats, as trained
    probe, n_probe = train_iter.dataset, cfg["batch_size"]
    bf16, precision_info = resolve_precision(
        cfg["precision"], net, probe.X[:n_probe], device=device,
        features=None if probe.features is None else probe.features[:n_probe])
    augment = None
    if cfg.get("shift") or cfg.get("stretch"):  # validation and test beats stay as they are
        augment = {"shift": cfg.get("shift", 0), "stretch": cfg.get("stretch", 0.0),
                   "generator": torch.Generator().manual_seed(seed)}
    loss_fn = _loss_fn(class_weights, y_train, getattr(net, "n_classes", None), device)
    optimizer = _make_optimizer(net, cfg["optimizer"], cfg["lr"], cfg["weight_decay"])
    schedule = _make_schedule(optimizer, cfg["schedule"], cfg["lr"], cfg["epochs"], len(train_iter))
    history, best, start = {"precision": precision_info}, (-1.0, 0.0), time.perf_counter()
    bar = tqdm(range(1, cfg["epochs"] + 1), desc=desc, disable=not progress, unit="epoch")
    for epoch in bar:
        train_loss, train_acc = _train_epoch(net, train_iter, loss_fn, optimizer, schedule,
                                             cfg["conv_l2"], device, bf16, progress, augment)
        val_loss, val_acc = _evaluate(net, val_iter, loss_fn, device)
        row = dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc, val_loss=val_loss,
                   val_acc=val_acc, lr=optimizer.param_groups[0]["lr"],
                   seconds=time.perf_counter() - start)
        if test_iter is not None:  # recorded for the lesson, never used for selection
            row["test_acc"] = _evaluate(net, test_iter, loss_fn, device)[1]
        for k, v in row.items():
            history.setdefault(k, []).append(v)
        bar.set_postfix(loss=f"{train_loss:.4f}", val_acc=f"{val_acc:.4f}")
        if (val_acc, -val_loss) > best:  # best accuracy, ties broken by the lower loss
            best, best_state = (val_acc, -val_loss), copy.deepcopy(net.state_dict())
            history["best_epoch"] = epoch
        elif cfg["patience"] and epoch - history["best_epoch"] >= cfg["patience"]:
            break  # early stopping, on the validation split only
        if callback is not None and callback(history):
            break
    net.load_state_dict(best_state)
    return net, history


@torch.no_grad()
def predict(model, X, batch_size: int = 1024, features=None, device=None):
    """Class predictions and probabilities for beats.

    Parameters
    ----------
    model : torch.nn.Module
        A trained model.
    X : array, shape (n_beats, 251)
        Beats in mV, as cut (the model normalises them, as in training).
    batch_size : int
        Beats per forward pass (memory only; results do not depend on it).
    features : array, shape (n_beats, n_features), optional
        Second input of a model built with ``n_features > 0``.

    Returns
    -------
    y_pred : array of int64, shape (n_beats,)
    proba : array of float32, shape (n_beats, n_classes), rows sum to 1

    Example
    -------
    >>> y_pred, proba = predict(MultiScaleCNN(n_classes=4), np.zeros((3, 251)))
    >>> y_pred.shape, proba.shape
    ((3,), (3, 4))
    """
    keep_freed_memory()
    device = default_device(device)
    net = model.to(device).eval()
    probas = []
    for batch in _loader(BeatDataset(X, None, features), batch_size):
        y_hat, _ = _forward(net, batch, device)
        probas.append(torch.softmax(y_hat.float(), dim=1).cpu())
    proba = torch.cat(probas).numpy()
    return proba.argmax(1), proba


def save_checkpoint(path, model, meta: dict | None = None) -> None:
    """Save a :class:`MultiScaleCNN`'s weights, its shape and normalisation, and a ``meta`` dict.

    ``meta`` must hold plain values only (numbers, strings, lists, dicts), so
    that :func:`load_checkpoint` can read it back with ``weights_only=True``.

    Parameters
    ----------
    path : str or path-like
        File to write (``.pt`` by convention).
    model : MultiScaleCNN
    meta : dict, optional
        What you want to remember with the weights: classes, recipe, seed, scores...

    Example
    -------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.pt"
    >>> save_checkpoint(path, MultiScaleCNN(n_classes=4), meta={"classes": ["N", "S", "V", "F"]})
    >>> net, meta = load_checkpoint(path)
    >>> net.n_classes, meta
    (4, {'classes': ['N', 'S', 'V', 'F']})
    """
    config = {k: getattr(model, k)
              for k in ("n_classes", "n_samples", "n_features", "normalize", "dropout")}
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"config": config, "state_dict": state, "meta": dict(meta or {})}, path)


def load_checkpoint(path, device=None):
    """Load what :func:`save_checkpoint` saved: ``(model, meta)``, model in eval mode.

    Reads with ``torch.load(..., weights_only=True)``: tensors and plain
    values only, which makes opening a checkpoint from someone else much safer
    than plain unpickling (keep PyTorch up to date).

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_checkpoint`.
    device : str, optional
        Where to put the model (default: :func:`default_device`).

    Returns
    -------
    model : MultiScaleCNN
        Rebuilt with the saved shape and normalisation, in eval mode.
    meta : dict

    Example
    -------
    See :func:`save_checkpoint`.
    """
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = MultiScaleCNN(**ckpt["config"])
    model.load_state_dict(ckpt["state_dict"])
    return model.to(default_device(device)).eval(), ckpt["meta"]


# --- chapter 04 helpers ---


def lr_schedule(recipe="fast", steps_per_epoch: int = 1, epochs: int | None = None,
                lr: float | None = None) -> np.ndarray:
    """The learning rate that :func:`fit` uses at each optimizer step, without training.

    Builds the recipe's optimizer and schedule on a dummy parameter and steps
    through them, so the curve is exactly the one ``fit`` follows.

    Parameters
    ----------
    recipe : str or dict
        ``"fast"`` or ``"writeup"`` (see :data:`RECIPES`), or a dict of the same keys.
    steps_per_epoch : int
        Batches per epoch: ``ceil(n_train / batch_size)``.
    epochs, lr : optional
        Override the recipe, as in :func:`fit`.

    Returns
    -------
    array of float, shape (epochs * steps_per_epoch,)
        Learning rate of step 0, 1, ... (``history["lr"][e]`` of :func:`fit`
        is the rate *after* epoch ``e + 1``: that of the step that would come
        next, entry ``(e + 1) * steps_per_epoch`` for every epoch but the last).

    Example
    -------
    >>> lrs = lr_schedule("fast", steps_per_epoch=100, epochs=6)
    >>> lrs.shape, float(lrs.max()), round(float(lrs[0]), 5)   # one-cycle: starts at lr / 25
    ((600,), 0.006, 0.00024)
    """
    cfg = _recipe(recipe, epochs=epochs, lr=lr)
    optimizer = _make_optimizer(nn.Linear(1, 1), cfg["optimizer"], cfg["lr"], cfg["weight_decay"])
    schedule = _make_schedule(optimizer, cfg["schedule"], cfg["lr"], cfg["epochs"],
                              steps_per_epoch)
    lrs = []
    for _ in range(cfg["epochs"] * steps_per_epoch):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # no gradients: changes nothing, keeps the scheduler's order of calls
        schedule.step()
    return np.array(lrs)


__all__ += ["lr_schedule"]
