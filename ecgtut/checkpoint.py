"""Chapter 04 -- saving a trained model and loading it back.

A checkpoint holds the weights, everything needed to rebuild the network
(classes, beat window, features, normalisation) and a ``meta`` dict of your
own; :func:`load_checkpoint` reads it with ``weights_only=True``.
"""

from __future__ import annotations

import torch

from ecgtut.beats import BeatWindow
from ecgtut.model import MultiScaleCNN
from ecgtut.train import default_device

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(path, model, meta: dict | None = None) -> None:
    """Save a :class:`MultiScaleCNN`'s weights, its shape, window and normalisation, and ``meta``.

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
    config = {k: getattr(model, k) for k in ("n_classes", "n_features", "normalize", "dropout")}
    config["window"] = model.window.as_dict()  # plain values: loadable with weights_only
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
    config = dict(ckpt["config"])
    config["window"] = BeatWindow(**config["window"])
    model = MultiScaleCNN(**config)
    model.load_state_dict(ckpt["state_dict"])
    return model.to(default_device(device)).eval(), ckpt["meta"]
