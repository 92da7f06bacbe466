"""ecgtut: heartbeat classification from ECG, one module per stage of the course.

The package follows the order the course teaches it; the code behind a
notebook cell is in the module of its chapter, and the figure it draws in the
module of the same name under ``plots``::

    chapter 01  database         MIT-BIH: record lists, data folder, download, verify
                data             read records and annotations; AAMI classes
    chapter 02  denoise          db6 wavelet and band-pass denoisers, spectra
                denoise_scoring  judging a denoiser: frequency response, SNR tests
    chapter 03  beats            BeatWindow, R-peak-centred beats, BeatSet
                cache            load_beats: the whole database's beats, cached
    chapter 05  model            the three-branch multi-scale 1-D CNN
                datasets         BeatDataset, stratified splits, augmentation
                precision        float32 or bfloat16, checked layer by layer
                runtime          seeds, device, memory allocator
                train            recipes, the training loop, prediction
                checkpoint       save and load a trained model
                metrics          Se, +P, F1, confusion matrices, tables
    chapter 06  crossval         stratified k-fold cross-validation
                pitfalls         what choosing on the test fold and same-patient
                                 beats do to a score
                experiment       the ``ecgtut reproduce`` run and its report
    chapter 07  patients         DS1 -> DS2: the split, the guard, per-record scores,
                                 the bootstrap over records, the anchors
                features         RR-interval features (prematurity)
                tuning           chapter 05's network on DS1 -> DS2; settings chosen on
                                 DS1 patients only; the S threshold
                diagnosis        why chapter 05's network fails there: an ablation of the
                                 RR inputs, the scale of each input at FC1
                adaptive         patient-adaptive inputs: rhythm on a log scale, the beat
                                 relative to its recording's usual beat
                fusion           FusionCNN: morphology and rhythm branches, fused late
                ensemble         AdaptiveEnsemble: linear model + FusionCNNs, blended
                recipe           the recipe for new patients, chosen on DS1 (11 folds)
    chapter 08  detect           the Pan & Tompkins QRS detector, stage by stage
                detect_scoring   a detector against the reference beats (150 ms)
                deploy           a model to deploy: train, save, load, the default one
                quality          a long recording in chunks: stretches without a
                                 heartbeat refused, the heart rate across no gap
                classify         any WFDB or EDF record: detect, denoise, classify, annotate
    all         plots.<stage>    one function per figure, one module per stage above:
                                 plots.data, plots.denoise, plots.beats, plots.model,
                                 plots.train, plots.metrics, plots.crossval, plots.pitfalls,
                                 plots.patients, plots.features, plots.detect,
                                 plots.classify
                cli              the ``ecgtut`` command

Everything is re-exported flat, so a notebook can write ``import ecgtut as et``
and call ``et.read_record``, ``et.denoise_wavelet``, ``et.load_beats``...
The modules that import torch or matplotlib are imported on first use, so
``import ecgtut`` and the data commands of the CLI start fast.
"""

from importlib import import_module

from ecgtut.adaptive import *  # noqa: F401,F403
from ecgtut.adaptive import __all__ as _adaptive_all
from ecgtut.beats import *  # noqa: F401,F403
from ecgtut.beats import __all__ as _beats_all
from ecgtut.cache import *  # noqa: F401,F403
from ecgtut.cache import __all__ as _cache_all
from ecgtut.classify import *  # noqa: F401,F403
from ecgtut.classify import __all__ as _classify_all
from ecgtut.data import *  # noqa: F401,F403
from ecgtut.data import __all__ as _data_all
from ecgtut.database import *  # noqa: F401,F403
from ecgtut.database import __all__ as _database_all
from ecgtut.denoise import *  # noqa: F401,F403
from ecgtut.denoise import __all__ as _denoise_all
from ecgtut.denoise_scoring import *  # noqa: F401,F403
from ecgtut.denoise_scoring import __all__ as _denoise_scoring_all
from ecgtut.deploy import *  # noqa: F401,F403
from ecgtut.deploy import __all__ as _deploy_all
from ecgtut.detect import *  # noqa: F401,F403
from ecgtut.detect import __all__ as _detect_all
from ecgtut.detect_scoring import *  # noqa: F401,F403
from ecgtut.detect_scoring import __all__ as _detect_scoring_all
from ecgtut.diagnosis import *  # noqa: F401,F403
from ecgtut.diagnosis import __all__ as _diagnosis_all
from ecgtut.features import *  # noqa: F401,F403
from ecgtut.features import __all__ as _features_all
from ecgtut.patients import *  # noqa: F401,F403
from ecgtut.patients import __all__ as _patients_all
from ecgtut.quality import *  # noqa: F401,F403
from ecgtut.quality import __all__ as _quality_all
from ecgtut.recipe import *  # noqa: F401,F403
from ecgtut.recipe import __all__ as _recipe_all
from ecgtut.tuning import *  # noqa: F401,F403
from ecgtut.tuning import __all__ as _tuning_all

__version__ = "0.1.0"

# Modules that import torch, scikit-learn or matplotlib load on first use, searched in this order.
_LAZY_MODULES = ("plots", "model", "fusion", "ensemble", "datasets", "precision", "runtime",
                 "train", "checkpoint", "metrics", "crossval", "pitfalls", "experiment")


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


__all__ = [*_database_all, *_data_all, *_denoise_all, *_denoise_scoring_all, *_beats_all,
           *_cache_all, *_patients_all, *_features_all, *_tuning_all, *_adaptive_all,
           *_recipe_all, *_diagnosis_all, *_detect_all,
           *_detect_scoring_all, *_deploy_all, *_quality_all, *_classify_all]
