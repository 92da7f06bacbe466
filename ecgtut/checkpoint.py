"""Chapter 05 -- saving a trained model and loading it back.

A checkpoint holds the weights, everything needed to rebuild the network
(classes, beat window, features, normalisation) and a ``meta`` dict of your
own; :func:`load_checkpoint` reads it with ``weights_only=True``.
"""

from __future__ import annotations

import os
import re

import numpy as np
import torch

from ecgtut.beats import BeatWindow
from ecgtut.database import DataError
from ecgtut.model import MultiScaleCNN
from ecgtut.train import default_device

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(path, model, meta: dict | None = None) -> None:
    """Save a network's weights, its shape, window and normalisation, and ``meta``.

    The network is a :class:`MultiScaleCNN` (chapter 05) or an
    :class:`ecgtut.AdaptiveEnsemble` (chapter 07).

    ``meta`` must hold plain values (numbers, strings, booleans, None, and
    lists, tuples and dicts of them with string keys), so that
    :func:`load_checkpoint` can read it back with ``weights_only=True``.
    NumPy scalars become Python numbers and paths strings; anything else is
    refused before the file is written.

    Parameters
    ----------
    path : str or path-like
        File to write (``.pt`` by convention).
    model : MultiScaleCNN
    meta : dict, optional
        What you want to remember with the weights: classes, recipe, seed, scores...

    Raises
    ------
    TypeError
        For a value of ``meta`` that could not be loaded back, naming where it is.

    Example
    -------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.pt"
    >>> save_checkpoint(path, MultiScaleCNN(n_classes=4), meta={"classes": ["N", "S", "V", "F"]})
    >>> net, meta = load_checkpoint(path)
    >>> net.n_classes, meta
    (4, {'classes': ['N', 'S', 'V', 'F']})
    """
    meta = _plain(dict(meta or {}), "meta")  # refused here, not when someone loads it
    keys = _CONFIG_KEYS[type(model).__name__] if type(model).__name__ in _CONFIG_KEYS else None
    if keys is None:
        raise TypeError(f"cannot save a {type(model).__name__}: a checkpoint holds one of "
                        f"{', '.join(_CONFIG_KEYS)}")
    config = {k: getattr(model, k) for k in keys}
    config["window"] = model.window.as_dict()  # plain values: loadable with weights_only
    if type(model).__name__ != "MultiScaleCNN":
        config["architecture"] = type(model).__name__
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"config": config, "state_dict": state, "meta": meta}, path)


#: What rebuilds each kind of network a checkpoint can hold.
_CONFIG_KEYS = {"MultiScaleCNN": ("n_classes", "n_features", "normalize", "dropout"),
                "AdaptiveEnsemble": ("n_classes", "n_nets", "n_bins", "width", "dropout",
                                     "signed_bins")}


def _architecture(name):
    """The class of a saved network, by name (chapter 05's, or chapter 07's ensemble)."""
    if name == "MultiScaleCNN":
        return MultiScaleCNN
    if name == "AdaptiveEnsemble":
        from ecgtut.ensemble import AdaptiveEnsemble

        return AdaptiveEnsemble
    raise ValueError(f"unknown architecture {name!r}")


def _plain(value, where):
    """``value`` as the plain types ``torch.load(weights_only=True)`` reads, or TypeError."""
    if isinstance(value, np.generic):  # np.float64(0.99) -> 0.99 (np.float64 is a float too)
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, list | tuple):
        items = [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                raise TypeError(f"{where}: key {k!r} is not a string; a checkpoint's meta "
                                "takes string keys only")
        return {k: _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise TypeError(f"{where}: {type(value).__name__} cannot be stored in a checkpoint's meta "
                    "(plain numbers, strings, lists and dicts only)")


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
        Rebuilt with the saved shape, window and normalisation, in eval mode.
    meta : dict

    Raises
    ------
    DataError
        For a file that is empty, truncated or not a checkpoint, in one line
        naming it (the CLI prints it and exits with status 2).

    Example
    -------
    See :func:`save_checkpoint`.
    """
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        config = dict(ckpt["config"])
        config["window"] = BeatWindow(**config["window"])
        model = _architecture(config.pop("architecture", "MultiScaleCNN"))(**config)
        model.load_state_dict(ckpt["state_dict"])
        meta = ckpt["meta"]
    except FileNotFoundError:
        raise
    except Exception as exc:  # empty, truncated, not a checkpoint, or another kind of file
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()  # torch colours its messages
        reason = text.splitlines()[0].strip() if text else type(exc).__name__
        raise DataError(f"checkpoint {path}: cannot be read as an ecgtut checkpoint "
                        f"({reason})") from exc
    return model.to(default_device(device)).eval(), meta
