"""Chapter 08 -- a model to deploy: trained once, saved with how to use it, loaded safely.

A deployable model is a :func:`ecgtut.save_checkpoint` file whose ``meta`` says
everything :func:`ecgtut.classify_signal` needs: the classes, the sampling
frequency it expects, the denoiser, the features (beat alone or with RR
intervals, and their options), the records it was trained on and the settings.
It is read back with ``torch.load(weights_only=True)``: tensors and plain values only.

Example
-------
``net, meta = train_model()`` trains on DS1 (a few minutes); any network with a
``meta`` that says how to use it can be saved and loaded back:

>>> import tempfile, pathlib
>>> from ecgtut.model import MultiScaleCNN
>>> path = pathlib.Path(tempfile.mkdtemp()) / "model.pt"
>>> save_model(path, MultiScaleCNN(n_classes=4), {"classes": list("NSVF"), "fs": 360,
...                                               "features": "beat"})
>>> net, meta = load_model(path)
>>> meta["fs"], net.n_classes
(360, 4)
"""

from __future__ import annotations

import numpy as np

from ecgtut.database import DataError

__all__ = ["MODEL_FS", "train_model", "save_model", "load_model", "default_model_path",
           "default_model"]

MODEL_FS = 360
"""Sampling frequency (Hz) the course's models are trained at (MIT-BIH's)."""

_DENOISER = {"name": "denoise_wavelet", "wavelet": "db6", "level": 9}


def train_model(data_dir=None, *, beats=None, split="ds1", features="adaptive", weighted=False,
                epochs=6, seed=0, fast=False, progress=True, precision=None):
    """Train a network to deploy, with everything :func:`classify_signal` needs in ``meta``.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Database folder (see :func:`ecgtut.find_data_dir`).
    beats : BeatSet, optional
        A beat set already loaded.
    split : "ds1" or "all"
        Train on the 22 DS1 records (then DS2 stays a fair test, chapter 07) or
        on all 44 records.
    features : "adaptive", "beat" or "beat+rr"
        ``"adaptive"`` (default): chapter 07's recipe for new patients
        (:data:`ecgtut.ADAPTIVE_RECIPE`: a linear model and a FusionCNN on the
        rhythm and the beat relative to its recording, blended; ``weighted``,
        ``epochs`` and ``precision`` are the recipe's). ``"beat"``, ``"beat+rr"``:
        chapter 05's network alone (:func:`ecgtut.interpatient` with ``model="cnn"``).
    weighted : bool
        Class-weighted loss of chapter 05's network.
    epochs : int
        Epochs of chapter 05's network on all the training beats.
    seed : int
    fast : bool
        Smoke run: 3000 beats, 2 epochs.
    progress : bool
    precision : str, optional
        As in :func:`ecgtut.fit`.

    Returns
    -------
    net : MultiScaleCNN
    meta : dict
        ``classes``, ``fs``, ``denoise``, ``features``, ``rr`` (the options of
        :func:`ecgtut.rr_features`), ``records`` (trained on), ``settings``.
    """
    from ecgtut.database import DS1, DS2
    from ecgtut.features import beat_rr_features
    from ecgtut.patients import CLASSES, class_indices
    from ecgtut.tuning import fit_networks

    if split not in ("ds1", "all"):
        raise ValueError(f"split must be 'ds1' or 'all', got {split!r}")
    if features not in ("adaptive", "beat", "beat+rr"):
        raise ValueError(f"features must be 'adaptive', 'beat' or 'beat+rr', got {features!r}")
    if beats is None:
        from ecgtut.cache import load_beats

        beats = load_beats(data_dir, progress=progress)
    records = list(DS1) if split == "ds1" else list(DS1) + list(DS2)
    rows = np.flatnonzero(np.isin(beats.record, records) & np.isin(beats.aami, CLASSES))
    y = class_indices(beats.aami)
    batch_size = None
    if fast:
        from ecgtut.datasets import stratified_subsample

        rows, epochs, batch_size = rows[stratified_subsample(y[rows], 3000, seed)], 2, 32
    if features == "adaptive":
        return _train_adaptive(beats, rows, split, seed, fast, progress)
    F = beat_rr_features(beats) if features == "beat+rr" else None
    nets, histories = fit_networks(beats, y, F, rows, None, seeds=(seed,), weighted=weighted,
                                select="last", dropout=0.0, n_ratio=None, progress=progress,
                                desc="train", guard=split == "ds1", epochs=epochs,
                                batch_size=batch_size, precision=precision)
    net, history = nets[0], histories[0]
    meta = {"classes": list(CLASSES), "fs": MODEL_FS, "denoise": dict(_DENOISER),
            "features": features, "rr": {"local_beats": 10, "normalize": "record"},
            "records": sorted(set(beats.record[rows].tolist())),
            "settings": {"split": split, "weighted": weighted, "epochs": epochs, "seed": seed,
                         "fast": fast, "precision": history["precision"]["train"]}}
    return net, meta


#: Version of the default model's recipe: a cached default of another version is replaced.
DEFAULT_RECIPE_VERSION = 2


def _train_adaptive(beats, rows, split, seed, fast, progress):
    """Chapter 07's recipe on the training rows, with its deployable ``meta``."""
    from ecgtut.patients import CLASSES
    from ecgtut.recipe import ADAPTIVE_RECIPE, train_adaptive

    recipe = {**ADAPTIVE_RECIPE, "seeds": (seed,)}
    if fast:
        from ecgtut.datasets import stratified_subsample
        from ecgtut.patients import class_indices

        rows = rows[stratified_subsample(class_indices(beats.aami[rows]), 3000, seed)]
        recipe.update(epochs=1, batch_size=64)
    net = train_adaptive(beats, rows, recipe=recipe, guard=split == "ds1", progress=progress)
    meta = {"classes": list(CLASSES), "fs": MODEL_FS, "denoise": dict(_DENOISER),
            "features": "adaptive", "records": sorted(set(beats.record[rows].tolist())),
            "recipe_version": DEFAULT_RECIPE_VERSION,
            "settings": {"split": split, "seed": seed, "fast": fast, "precision": "float32",
                         **{k: list(v) if isinstance(v, tuple) else v
                            for k, v in recipe.items()}}}
    return net, meta


def save_model(path, net, meta):
    """Write a deployable model (a checkpoint with its ``meta``), atomically."""
    from pathlib import Path

    from ecgtut.cache import write_atomic
    from ecgtut.checkpoint import save_checkpoint

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda f: save_checkpoint(f, net, meta), prefix=f".{path.name}.",
                 suffix=".tmp")


def load_model(path):
    """Read a model written by :func:`save_model` (``torch.load(weights_only=True)``).

    Its ``meta`` is checked against the network it holds: as many classes as
    outputs, the features the network takes (``"beat"``: none, ``"beat+rr"``:
    the 5 RR features), a sampling frequency, and the beat window if ``meta``
    names one.

    Raises
    ------
    DataError
        Missing file, not a checkpoint, a checkpoint without a deployable
        ``meta``, or a ``meta`` that disagrees with the network (one line).
    """
    from pathlib import Path

    from ecgtut.checkpoint import load_checkpoint

    if Path(path).is_dir():
        raise DataError(f"model {path}: is a folder, not a model file")
    if not Path(path).is_file():
        raise DataError(f"model {path}: no such file")
    net, meta = load_checkpoint(path, device="cpu")
    missing = {"classes", "fs", "features"} - set(meta)
    if missing:
        raise DataError(f"model {path}: a checkpoint, but not a deployable model (its meta "
                        f"lacks {', '.join(sorted(missing))}; save it with 'ecgtut train')")
    problem = _meta_problem(net, meta)
    if problem:
        raise DataError(f"model {path}: its meta does not match its network: {problem}")
    return net, meta


#: Inputs beside the beat that each ``meta["features"]`` stands for (ecgtut.rr_features: 5;
#: "adaptive": ecgtut.fusion_features, 7 rhythm numbers, the usual beat and its amplitude)
_N_FEATURES = {"beat": lambda net: 0, "beat+rr": lambda net: 5,
               "adaptive": lambda net: 7 + net.window.n_samples + 1}


def _meta_problem(net, meta):
    """Why ``meta`` cannot describe ``net`` (a few words), or None."""
    classes = meta["classes"]
    if not isinstance(classes, list | tuple) or len(classes) != net.n_classes:
        return (f"{len(classes) if isinstance(classes, list | tuple) else '?'} classes "
                f"({classes!r}) for a network with {net.n_classes} outputs")
    if meta["features"] not in _N_FEATURES:
        return f"features {meta['features']!r} (known: {', '.join(_N_FEATURES)})"
    if _N_FEATURES[meta["features"]](net) != net.n_features:
        return (f"features {meta['features']!r} need {_N_FEATURES[meta['features']](net)} "
                f"inputs beside the beat, the network takes {net.n_features}")
    fs = meta["fs"]
    if isinstance(fs, bool) or not isinstance(fs, int | float) or not 0 < fs < float("inf"):
        return f"fs {fs!r} is not a sampling frequency in Hz"
    window = meta.get("window")
    if window is not None and window != net.window.as_dict():
        return f"window {window!r}, the network's is {net.window.as_dict()!r}"
    return None


def default_model_path():
    """Where the default model (chapter 07's recipe on DS1, seed 0) is cached."""
    from ecgtut.database import cache_dir

    return cache_dir() / "models" / "ds1-default.pt"


def default_model(data_dir=None, *, progress=True, say=print):
    """The default model: loaded from the cache, or trained on DS1 on first use (a few minutes).

    One default model per cache: a run that finds another one training it
    (the lock file ``<model>.lock`` beside it is held) says so, waits, and
    loads what that run saved.

    Returns
    -------
    net, meta, path

    Raises
    ------
    DataError
        The model's path is a folder (said before any training).
    """
    path = default_model_path()
    old = path.with_name("ds1-beat+rr-seed0.pt")  # the default before chapter 07's recipe
    if path.is_dir():
        raise DataError(f"the cached default model {path} is a folder, not a file: remove it "
                        f"or point ECGTUT_CACHE elsewhere")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock(path.with_suffix(".lock"), lambda: say(
            f"another ecgtut run is training the default model ({path}): waiting for it")):
        if path.is_file():
            try:
                net, meta = load_model(path)
                if meta.get("recipe_version") == DEFAULT_RECIPE_VERSION:
                    return net, meta, path
                say(f"the cached default model {path} is an older recipe; training the new one")
            except DataError as exc:
                say(f"{exc}; training it again")
        say(f"no model given and none cached: training the default model on the 22 DS1 "
            f"records (chapter 07's recipe: a linear model and a FusionCNN; a few minutes on "
            f"2 cores, once) -> {path}")
        net, meta = train_model(data_dir, progress=progress)
        save_model(path, net, meta)
        if old.is_file():
            old.unlink()
    return net, meta, path


class _lock:
    """An exclusive ``fcntl.flock`` on ``path`` (created) while inside; ``waiting()`` is
    called once if another process (or thread) holds it. Without fcntl: no lock."""

    def __init__(self, path, waiting):
        self.path, self.waiting, self.file = path, waiting, None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # not POSIX: concurrent first runs may both train
            return self
        self.file = open(self.path, "a")  # noqa: SIM115 (held until __exit__)
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.waiting()
            fcntl.flock(self.file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.close()  # releases the lock
        return False
