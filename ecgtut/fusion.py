"""Chapter 07 -- a network for new patients: morphology and rhythm, each with a branch of its own.

Chapter 05's network appends five raw RR numbers to 2 768 convolution
activations: 0.2 % of the first layer's inputs, on another scale, behind
dropout. On 22 training patients it learns their beat shapes and all but
ignores the rhythm. :class:`FusionCNN` gives each kind of evidence its own
path and an equal say at the end::

    beat, as cut --+-- z-scored (its shape) -----------+
                   +-- minus the recording's usual     +- 2 channels -> the 3 multi-scale
                       beat, / its QRS amplitude ------+   branches of chapter 05 -> FC 32
                                                                                     |
    rhythm (7 log-ratios, standardised with DS1's   -> FC 16 relu -> FC 16 relu -----+- concat
    statistics, kept in the model)                                                   |
                                                                  FC 32 relu -> FC n_classes

The morphology bottleneck (32 units) and the rhythm branch (16 units) meet
with comparable widths; there is no dropout on the rhythm. The recording's
usual beat and QRS amplitude (:func:`ecgtut.record_templates`) travel with
each beat in its feature vector, so the relative channel is computed from the
beat as the network sees it (a shifted beat gives a shifted difference).

Example
-------
>>> import torch
>>> net = FusionCNN(n_classes=4)
>>> net(torch.zeros(2, 251), torch.zeros(2, net.n_features)).shape
torch.Size([2, 4])
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ecgtut.adaptive import RHYTHM_FEATURES, record_templates, rhythm_features
from ecgtut.beats import DEFAULT_WINDOW, BeatWindow
from ecgtut.model import BRANCH_KERNELS, normalize_beats

__all__ = ["FusionCNN", "recording_features", "fusion_features"]


def _branch2(k1: int, k2: int) -> nn.Sequential:
    """A chapter-05 branch over 2 channels: conv(2->8, k1) relu pool conv(8->16, k2) relu pool."""
    return nn.Sequential(
        nn.Conv1d(2, 8, kernel_size=k1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(8, 16, kernel_size=k2), nn.ReLU(), nn.MaxPool1d(2),
    )


def recording_features(X, r_peaks, fs, window, kept=None):
    """The second input of :class:`FusionCNN` for the beats of one recording.

    Parameters
    ----------
    X : array, shape (n_beats, n_samples)
        The recording's beats in mV, as cut.
    r_peaks : array of int, shape (n_peaks,)
        R peaks (sample indices at ``fs``), in increasing order: those of the
        beats, or all detections with ``kept`` saying which are beats of ``X``.
    fs : float
        Sampling frequency in Hz.
    window : BeatWindow
    kept : array of bool, shape (n_peaks,), optional
        Which R peaks have a beat in ``X`` (default: all). The rhythm is
        measured over every R peak, so a beat next to one without a window
        keeps its true intervals.

    Returns
    -------
    np.ndarray of float32, shape (n_beats, 7 + n_samples + 1)
        :data:`ecgtut.RHYTHM_FEATURES` (not yet standardised: the model does it),
        the recording's median beat (mV) and its QRS amplitude (mV), the same on
        every row. No beat: shape (0, 7 + n_samples + 1).
    """
    X = np.asarray(X, dtype=np.float32)
    n = len(X)
    if not n:
        return np.zeros((0, len(RHYTHM_FEATURES) + X.shape[1] + 1), dtype=np.float32)
    rhythm = rhythm_features(r_peaks, fs)
    rhythm = rhythm if kept is None else rhythm[np.asarray(kept, dtype=bool)]
    templates, amplitudes = record_templates(X, np.zeros(n, dtype="<U1"), window)
    return np.column_stack([rhythm, np.tile(templates[""], (n, 1)),
                            np.full((n, 1), amplitudes[""], dtype=np.float32)]).astype(np.float32)


def fusion_features(beats):
    """:func:`recording_features` of every row of a :class:`ecgtut.BeatSet`, recording by recording.

    Computed from each recording's unlabelled beats alone.

    Returns
    -------
    np.ndarray of float32, shape (len(beats), 7 + n_samples + 1)
        Row ``i`` belongs to ``beats.X[i]``.
    """
    from ecgtut.features import per_record

    return per_record(beats, lambda rows: recording_features(
        beats.X[rows], beats.r_peak[rows], beats.fs, beats.window),
        len(RHYTHM_FEATURES) + beats.X.shape[1] + 1)


class FusionCNN(nn.Module):
    """Morphology (shape and difference from the recording's usual beat) and rhythm, fused late.

    Parameters
    ----------
    n_classes : int
        Output classes (4: N, S, V, F).
    window : BeatWindow
        The beats' window; fixes the input length.
    n_rhythm : int
        Rhythm features at the start of the feature vector (7, :data:`RHYTHM_FEATURES`).
    width : int
        Units of the morphology bottleneck (the rhythm branch has half as many).
    dropout : float
        Dropout on the flattened convolution output only (never on the rhythm).

    Shapes
    ------
    ``forward(x, features)``: ``x`` (batch, n_samples) or (batch, 1, n_samples)
    in mV; ``features`` (batch, n_rhythm + n_samples + 1) from
    :func:`fusion_features`; out: (batch, n_classes) logits.

    Notes
    -----
    ``rhythm_mean`` and ``rhythm_std`` (buffers, saved with the weights) hold
    the statistics the rhythm is standardised with; :meth:`set_rhythm_scale`
    sets them from the training beats (DS1), before training.
    """

    def __init__(self, n_classes: int = 4, window: BeatWindow = DEFAULT_WINDOW,
                 n_rhythm: int = len(RHYTHM_FEATURES), width: int = 32, dropout: float = 0.0):
        super().__init__()
        if not isinstance(window, BeatWindow):
            raise TypeError(f"window must be a BeatWindow, got {window!r}")
        self.n_classes, self.window, self.n_rhythm, self.dropout = (n_classes, window, n_rhythm,
                                                                    dropout)
        n = window.n_samples
        self.n_features = n_rhythm + n + 1
        self.normalize = "zscore"  # for the model summary and checkpoint meta
        self.branches = nn.ModuleList(_branch2(k1, k2) for k1, k2 in BRANCH_KERNELS)
        n_flat = sum(16 * (((n - k1 + 1) // 2 - k2 + 1) // 2) for k1, k2 in BRANCH_KERNELS)
        self.morphology = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_flat, width), nn.ReLU())
        self.rhythm = nn.Sequential(nn.Linear(n_rhythm, width // 2), nn.ReLU(),
                                    nn.Linear(width // 2, width // 2), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(width + width // 2, 32), nn.ReLU(),
                                  nn.Linear(32, n_classes))
        self.register_buffer("rhythm_mean", torch.zeros(n_rhythm))
        self.register_buffer("rhythm_std", torch.ones(n_rhythm))

    @property
    def n_samples(self) -> int:
        """Input length in samples (``window.n_samples``)."""
        return self.window.n_samples

    def set_rhythm_scale(self, features):
        """Standardise the rhythm with these (training) beats' mean and std, kept in the model."""
        R = torch.as_tensor(np.asarray(features, dtype=np.float32)[:, : self.n_rhythm])
        self.rhythm_mean.copy_(R.mean(0))
        self.rhythm_std.copy_(R.std(0).clamp_min(1e-3))
        return self

    def forward(self, x: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x[:, 0]
        if x.dim() != 2 or x.shape[1] != self.n_samples:
            raise ValueError(f"expected beats of shape (batch, {self.n_samples}), got "
                             f"{tuple(x.shape)}")
        if features is None or features.shape != (x.shape[0], self.n_features):
            got = None if features is None else tuple(features.shape)
            raise ValueError(f"this model needs features of shape (batch, {self.n_features}) "
                             f"(ecgtut.fusion_features), got {got}")
        if not (torch.isfinite(x).all() and torch.isfinite(features).all()):
            raise ValueError("beats or features with non-finite values (NaN or inf)")
        features = features.to(x.dtype)
        rhythm = (features[:, : self.n_rhythm] - self.rhythm_mean) / self.rhythm_std
        template = features[:, self.n_rhythm: self.n_rhythm + self.n_samples]
        amplitude = features[:, -1:].clamp_min(1e-3)  # mV; a zero would divide by 0
        shape = normalize_beats(x, "zscore")
        relative = (x - template) / amplitude
        h = torch.stack([shape, relative], dim=1)
        h = torch.cat([branch(h).flatten(1) for branch in self.branches], dim=1)
        return self.head(torch.cat([self.morphology(h), self.rhythm(rhythm)], dim=1))
