"""ecgtut: heartbeat classification from ECG, one course chapter per module.

The package follows the order the course teaches it::

    data      -> read, download and verify MIT-BIH; AAMI classes   (chapter 01)
    denoise   -> db6 wavelet denoising, band-pass alternative       (chapter 02)
    beats     -> R-peak-centred beat windows, the cached beat set   (chapter 03)
    model     -> the three-branch multi-scale 1-D CNN               (chapter 04)
    train     -> datasets, the training loop, checkpoints           (chapter 04)
    evaluate  -> Se, +P, F1, confusion matrices, cross-validation   (chapter 05)
    plots     -> one plotting function per figure of the course

Everything is re-exported flat, so a notebook can write ``import ecgtut as et``
and call ``et.read_record``, ``et.denoise_wavelet``, ``et.load_beats``...
The PyTorch-based modules (model, train, evaluate) are imported lazily on first
use, so ``import ecgtut`` and the data commands of the CLI start fast.
"""

from importlib import import_module

from ecgtut.beats import *  # noqa: F401,F403
from ecgtut.beats import __all__ as _beats_all
from ecgtut.data import *  # noqa: F401,F403
from ecgtut.data import __all__ as _data_all
from ecgtut.denoise import *  # noqa: F401,F403
from ecgtut.denoise import __all__ as _denoise_all

__version__ = "0.1.0"

# Modules that import torch (or are only needed for figures) load on first use.
_LAZY_MODULES = ("model", "train", "evaluate", "plots")


def _lazy_names():
    names = {}
    for mod in _LAZY_MODULES:
        for name in import_module(f"ecgtut.{mod}").__all__:
            names[name] = mod
    return names


def __getattr__(name):
    if name in _LAZY_MODULES:
        return import_module(f"ecgtut.{name}")
    mod = _lazy_names().get(name)
    if mod is None:
        raise AttributeError(f"module 'ecgtut' has no attribute {name!r}")
    return getattr(import_module(f"ecgtut.{mod}"), name)


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(_lazy_names()))


__all__ = [*_data_all, *_denoise_all, *_beats_all]
