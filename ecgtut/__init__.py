"""ecgtut: heartbeat classification from ECG, one course chapter per module.

The package follows the order the course teaches it::

    data      -> read, download and verify MIT-BIH; AAMI classes   (chapter 01)
    denoise   -> db6 wavelet denoising, band-pass alternative       (chapter 02)
    beats     -> R-peak-centred beat windows, the cached beat set   (chapter 03)
    model     -> the three-branch multi-scale 1-D CNN               (chapter 04)
    precision -> bfloat16 or float32, checked layer by layer        (chapter 04)
    train     -> datasets, augmentation, training loop, checkpoints (chapter 04)
    evaluate  -> Se, +P, F1, confusion matrices, cross-validation   (chapter 05)
    plots     -> one plotting function per figure of the course

Everything is re-exported flat, so a notebook can write ``import ecgtut as et``
and call ``et.read_record``, ``et.denoise_wavelet``, ``et.load_beats``...
The PyTorch-based modules (model, precision, train, evaluate) are imported lazily on first
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

# Modules that import torch (or matplotlib) load on first use, searched in this order.
_LAZY_MODULES = ("plots", "model", "precision", "train", "evaluate")


def __getattr__(name):
    if name in _LAZY_MODULES:
        return import_module(f"ecgtut.{name}")
    for mod in _LAZY_MODULES:
        module = import_module(f"ecgtut.{mod}")
        if name in module.__all__:
            return getattr(module, name)
    raise AttributeError(f"module 'ecgtut' has no attribute {name!r}")


def __dir__():
    lazy = [n for m in _LAZY_MODULES for n in import_module(f"ecgtut.{m}").__all__]
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(lazy))


__all__ = [*_data_all, *_denoise_all, *_beats_all]
