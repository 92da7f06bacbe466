"""Chapter 05 -- training: the recipes, the training loop and prediction.

The whole loop is :func:`fit`; everything else is a small helper it calls.
Two training recipes are kept side by side in :data:`RECIPES`:

``"fast"`` (default)
    AdamW, batch 512, a one-cycle learning-rate schedule peaking at 6e-3,
    15 epochs, each training beat randomly shifted by up to 3 samples and
    time-stretched by up to 5 % about its R peak in every epoch
    (:func:`augment_beats`), bfloat16 autocast where the CPU computes it
    natively and it agrees with float32 on the model (``"precision": "auto"``,
    see :mod:`ecgtut.precision`). Passes the write-up's accuracy in a few
    epochs; the whole 5-fold experiment takes about 22 minutes on 2 cores of
    an AVX2 CPU in float32 (about 6.5 minutes where bfloat16 is native).
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
>>> net, history = fit(net, (X[:48], y[:48]), (X[48:], y[48:]), epochs=2, progress=False)
>>> len(history["val_acc"])
2
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler
from tqdm import tqdm

from ecgtut.beats import DEFAULT_WINDOW
from ecgtut.datasets import BeatDataset, as_dataset, augment_beats
from ecgtut.precision import PRECISIONS, resolve_precision
from ecgtut.runtime import default_device, keep_freed_memory, set_seed

__all__ = ["RECIPES", "SELECT", "recipe_settings", "fit", "predict", "lr_schedule"]

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

def _loader(dataset, batch_size, shuffle=False, seed=0):
    """Batches of a :class:`BeatDataset`, fetched a whole batch at a time.

    Every pass over a DataLoader draws a seed for its workers from the
    loader's generator, by default PyTorch's global one, which also drives
    dropout: each loader gets a generator of its own, so that evaluating
    (say, the test beats of chapter 06) cannot change how a model trains.
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


class _RunningMetrics:
    """Mean loss and accuracy over the batches seen so far, weighted by batch size;
    also the hits and beats of each class, for the balanced accuracy."""

    def __init__(self):
        self.loss, self.correct, self.n = 0.0, 0, 0
        self.hits = self.totals = 0

    def add(self, loss, y_hat, y):
        right = y_hat.argmax(1) == y
        self.loss += loss.item() * len(y)
        self.correct += right.sum().item()
        self.n += len(y)
        k = y_hat.shape[1]
        self.hits = self.hits + torch.bincount(y[right], minlength=k)
        self.totals = self.totals + torch.bincount(y, minlength=k)

    def means(self):
        return self.loss / self.n, self.correct / self.n

    def balanced_accuracy(self):
        """Mean over the classes present of the share of their beats found (mean Se)."""
        present = self.totals > 0
        return (self.hits[present] / self.totals[present]).mean().item()


@torch.no_grad()
def _evaluate(net, loader, loss_fn, device):
    """Mean loss and accuracy of ``net`` over a loader, in eval mode and float32."""
    net.eval()
    running = _RunningMetrics()
    for batch in loader:
        y_hat, y = _forward(net, batch, device)
        running.add(loss_fn(y_hat, y), y_hat, y)
    return (*running.means(), running.balanced_accuracy())


def _check_labels(n_classes, **labels):
    """A clear error when labels are not class indices 0 .. n_classes - 1 of the model."""
    if n_classes is None:
        return
    for name, y in labels.items():
        y = np.asarray([] if y is None else y)
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            bad = int(y.max()) if y.max() >= n_classes else int(y.min())
            raise ValueError(f"the {name} labels hold class {bad}, but the model has "
                             f"{n_classes} outputs (classes 0 to {n_classes - 1})")


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
    running = _RunningMetrics()
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
        running.add(loss, y_hat, y)
    return running.means()


#: The ``bf16`` key of older recipes (True, False or "auto") as a ``precision``.
_BF16_TO_PRECISION = {True: "bfloat16", False: "float32", "auto": "auto"}


def recipe_settings(recipe="fast", **overrides) -> dict:
    """The settings :func:`fit` trains with: a recipe, with every override that is not None.

    Parameters
    ----------
    recipe : str or dict
        ``"fast"`` or ``"writeup"`` (see :data:`RECIPES`), or a dict of the same
        keys. An older recipe's ``bf16`` key (True, False or "auto") stands for
        ``precision`` ("bfloat16", "float32", "auto"); without either, float32.
    **overrides
        Any key of the recipe (``epochs=2``, ``lr=1e-3``, ``shift=0``...);
        ``None`` keeps the recipe's value.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        For an unknown recipe, setting, precision, or fewer than 1 epoch.

    Example
    -------
    >>> cfg = recipe_settings("fast", epochs=2, lr=None)
    >>> cfg["epochs"], cfg["lr"], cfg["batch_size"]
    (2, 0.006, 512)
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
    unknown = sorted(set(overrides) - set(RECIPES["fast"]))
    if unknown:
        raise ValueError(f"unknown recipe setting(s) {', '.join(unknown)}; the settings are "
                         f"{', '.join(RECIPES['fast'])}")
    cfg = {**recipe, **{k: v for k, v in overrides.items() if v is not None}}
    if cfg["precision"] not in PRECISIONS:
        raise ValueError(f"unknown precision {cfg['precision']!r}; choose one of {PRECISIONS}")
    if cfg["epochs"] < 1:
        raise ValueError(f"epochs must be at least 1, got {cfg['epochs']}")
    return cfg


SELECT = ("accuracy", "balanced_accuracy", "last")
"""What :func:`fit` may choose the epoch on, always on the validation beats."""


def fit(model, train, val, *, recipe="fast", class_weights=None, seed=0, device=None,
        progress=True, monitor=None, callback=None, desc="fit", select="accuracy", **overrides):
    """Train ``model`` and keep the epoch with the best **validation** accuracy.

    Parameters
    ----------
    model : torch.nn.Module
        For instance ``MultiScaleCNN(n_classes)``; trained in place.
    train, val : BeatDataset or tuple
        Training and validation beats: ``(X, y)``, ``(X, y, features)`` (see
        :func:`~ecgtut.datasets.as_dataset`) or a :class:`~ecgtut.BeatDataset`.
        ``X`` (n, 251) in mV, as cut (the model normalises each beat, see
        :func:`~ecgtut.model.normalize_beats`); ``y`` (n,) class indices;
        ``features`` (n, n_features), the second input of a model built with
        ``n_features > 0``.
    recipe : str or dict
        ``"fast"`` or ``"writeup"`` (see :data:`RECIPES`), or a dict of the same keys.
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
    monitor : dict, optional
        ``{name: beats}`` (same forms as ``train``) scored after every epoch
        into ``history[name + "_loss"]`` and ``history[name + "_acc"]``; **never**
        used to choose anything. Chapter 06 monitors the test fold this way, only
        to *show* what choosing the epoch on it would report.
    callback : callable, optional
        Called as ``callback(history)`` after every epoch (to draw live
        curves, log, ...); training stops when it returns True.
    desc : str
        Label of the progress bar.
    select : "accuracy", "balanced_accuracy" or "last"
        The validation score the epoch is chosen on (ties: the lower validation
        loss). ``"balanced_accuracy"``, the mean of the per-class sensitivities,
        gives a rare class as much say as N; it is recorded per epoch as
        ``history["val_balanced_acc"]``. ``"last"``: no choice, the weights of
        the last epoch (the number of epochs was chosen beforehand); then
        ``val`` may be None.
    **overrides
        Any setting of the recipe (:func:`recipe_settings`): ``epochs``,
        ``batch_size``, ``lr`` (peak of the one-cycle schedule, or the constant
        rate), ``shift`` and ``stretch`` (augmentation, see
        :func:`~ecgtut.augment_beats`; 0 and 0: the beats as they are),
        ``patience`` (stop after that many epochs without a better validation
        accuracy; None: run all epochs), ``precision``... ``precision``:
        ``"auto"``, ``"float32"`` or ``"bfloat16"``, the arithmetic of the
        training passes. Before bfloat16 is used, the first batch of training
        beats goes through :func:`ecgtut.precision.check_bf16` (every layer,
        forward and backward): if any layer disagrees with float32, training
        runs in float32 and a :class:`~ecgtut.precision.PrecisionWarning` says
        so. Validation and monitored beats are always evaluated in float32.

    Returns
    -------
    model : the same module, with the weights of the best validation epoch.
    history : dict of lists, one value per epoch
        ``epoch`` (1, 2, ...), ``train_loss``, ``train_acc`` (running means
        over the epoch's batches), ``val_loss``, ``val_acc``, ``lr`` (at the
        end of the epoch), ``seconds`` (elapsed since the start), and the
        ``<name>_loss``, ``<name>_acc`` of every monitored set; plus
        ``best_epoch`` (int) and ``precision`` (a dict, what
        :func:`~ecgtut.precision.resolve_precision` decided and why:
        ``history["precision"]["train"]`` is ``"float32"`` or ``"bfloat16"``).

    Example
    -------
    Two epochs on 48 random "beats" of two classes (about a second):

    >>> from ecgtut.model import MultiScaleCNN
    >>> X = np.random.default_rng(0).normal(size=(64, 251)).astype("float32")
    >>> y = np.arange(64) % 2
    >>> net, history = fit(MultiScaleCNN(n_classes=2), (X[:48], y[:48]), (X[48:], y[48:]),
    ...                    epochs=2, batch_size=16, progress=False)
    >>> history["epoch"], history["best_epoch"] in (1, 2)
    ([1, 2], True)
    """
    cfg = recipe_settings(recipe, **overrides)
    if select not in SELECT:
        raise ValueError(f"select must be one of {SELECT}, got {select!r}")
    if val is None and select != "last":
        raise ValueError("validation beats are needed to choose the epoch (or select='last')")
    train = as_dataset(train)
    val = None if val is None else as_dataset(val)
    monitor = {name: as_dataset(beats) for name, beats in (monitor or {}).items()}
    _check_labels(getattr(model, "n_classes", None), train=train.y,
                  **({} if val is None else {"val": val.y}),
                  **{name: ds.y for name, ds in monitor.items()})
    for name, ds in (("train", train), ("val", val)):
        if ds is not None and len(ds) == 0:  # the epoch is chosen on the validation beats
            raise ValueError(f"the {name} beats are empty")
    set_seed(seed)
    keep_freed_memory()
    device = default_device(device)
    net = model.to(device)
    train_iter = _loader(train, cfg["batch_size"], shuffle=True, seed=seed)
    val_iter = None if val is None else _loader(val, 1024)
    monitor_iters = {name: _loader(ds, 1024) for name, ds in monitor.items()}
    # bfloat16 only where it agrees with float32 on a batch of training beats, as trained
    n_probe = cfg["batch_size"]
    bf16, precision_info = resolve_precision(
        cfg["precision"], net, train.X[:n_probe], device=device,
        features=None if train.features is None else train.features[:n_probe])
    augment = None
    if cfg.get("shift") or cfg.get("stretch"):  # validation and monitored beats stay as they are
        augment = {"shift": cfg.get("shift", 0), "stretch": cfg.get("stretch", 0.0),
                   "window": getattr(net, "window", DEFAULT_WINDOW),  # where the R peak sits
                   "generator": torch.Generator().manual_seed(seed)}
    loss_fn = _loss_fn(class_weights, train.y.numpy(), getattr(net, "n_classes", None), device)
    optimizer = _make_optimizer(net, cfg["optimizer"], cfg["lr"], cfg["weight_decay"])
    schedule = _make_schedule(optimizer, cfg["schedule"], cfg["lr"], cfg["epochs"], len(train_iter))
    history, best, start = {"precision": precision_info}, (-1.0, 0.0), time.perf_counter()
    bar = tqdm(range(1, cfg["epochs"] + 1), desc=desc, disable=not progress, unit="epoch")
    for epoch in bar:
        train_loss, train_acc = _train_epoch(net, train_iter, loss_fn, optimizer, schedule,
                                             cfg["conv_l2"], device, bf16, progress, augment)
        row = dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc)
        if val_iter is not None:
            row["val_loss"], row["val_acc"], val_bal = _evaluate(net, val_iter, loss_fn, device)
        row.update(lr=optimizer.param_groups[0]["lr"], seconds=time.perf_counter() - start)
        if select == "balanced_accuracy":
            row["val_balanced_acc"] = val_bal
        for name, it in monitor_iters.items():  # recorded for the lesson, never used for selection
            row[f"{name}_loss"], row[f"{name}_acc"], _ = _evaluate(net, it, loss_fn, device)
        for k, v in row.items():
            history.setdefault(k, []).append(v)
        bar.set_postfix(loss=f"{train_loss:.4f}",
                        **({} if val_iter is None else {"val_acc": f"{row['val_acc']:.4f}"}))
        if select == "last":  # no choice: the epochs were fixed beforehand
            best_state, history["best_epoch"] = None, epoch
        else:
            score = row["val_acc"] if select == "accuracy" else val_bal
            if (score, -row["val_loss"]) > best:  # the best score, ties broken by the lower loss
                best, best_state = (score, -row["val_loss"]), copy.deepcopy(net.state_dict())
                history["best_epoch"] = epoch
            elif cfg["patience"] and epoch - history["best_epoch"] >= cfg["patience"]:
                break  # early stopping, on the validation split only
        if callback is not None and callback(history):
            break
    if best_state is not None:
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
    >>> from ecgtut.model import MultiScaleCNN
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
    cfg = recipe_settings(recipe, epochs=epochs, lr=lr)
    optimizer = _make_optimizer(nn.Linear(1, 1), cfg["optimizer"], cfg["lr"], cfg["weight_decay"])
    schedule = _make_schedule(optimizer, cfg["schedule"], cfg["lr"], cfg["epochs"],
                              steps_per_epoch)
    lrs = []
    for _ in range(cfg["epochs"] * steps_per_epoch):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # no gradients: changes nothing, keeps the scheduler's order of calls
        schedule.step()
    return np.array(lrs)

