"""Chapter 07 -- the model for new patients: a linear model and FusionCNNs, blended, in one module.

:class:`AdaptiveEnsemble` holds everything the chapter chooses on DS1:

- a **linear model** (a class-balanced logistic regression, fitted by
  scikit-learn and copied into a ``nn.Linear``) on the rhythm features and how
  far the beat is from its recording's usual beat, binned: the mean of
  ``|relative beat|`` over each bin (:func:`ecgtut.adaptive_inputs`; with
  ``signed_bins``, the signed relative beat as well);
- one or more :class:`ecgtut.FusionCNN` networks (seeds), their probabilities averaged;
- the **blend**: ``p = w p_cnn + (1 - w) p_linear``;
- the **S bar**: the S probability multiplied by ``s_scale`` before the
  arg-max (above 1 calls more beats S, below 1 fewer).

It takes the same two inputs as a FusionCNN (the beat, and
:func:`ecgtut.fusion_features`), returns log-probabilities (so ``softmax``
gives ``p``), and is saved and loaded like any other checkpoint: the
statistics it standardises with (DS1's) travel inside it.

Example
-------
>>> import torch
>>> net = AdaptiveEnsemble(n_nets=2)
>>> p = torch.softmax(net(torch.zeros(3, 251), torch.zeros(3, net.n_features)), dim=1)
>>> tuple(p.shape), bool(torch.allclose(p.sum(1), torch.ones(3)))
((3, 4), True)
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ecgtut.adaptive import RHYTHM_FEATURES, bin_matrix
from ecgtut.beats import DEFAULT_WINDOW, BeatWindow
from ecgtut.fusion import FusionCNN

__all__ = ["AdaptiveEnsemble", "fit_linear", "linear_proba"]


def fit_linear(Z, y, *, C=1.0, n_classes=4):
    """A class-balanced logistic regression on standardised inputs (scikit-learn).

    Parameters
    ----------
    Z : array, shape (n_beats, n_inputs)
        E.g. :func:`ecgtut.adaptive_inputs` of the training beats.
    y : array of int, shape (n_beats,)
        Class indices 0 .. n_classes - 1.
    C : float
        Inverse strength of the L2 penalty.

    Returns
    -------
    dict
        ``mean``, ``std`` (n_inputs,), ``coef`` (n_classes, n_inputs),
        ``intercept`` (n_classes,): ``softmax(coef @ ((z - mean) / std) + intercept)``
        is the probability of each class. A class with no training beat gets
        an intercept of -30 (never predicted).
    """
    from sklearn.linear_model import LogisticRegression

    Z = np.asarray(Z, dtype=np.float64)
    mean, std = Z.mean(0), np.maximum(Z.std(0), 1e-6)
    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
    lr.fit((Z - mean) / std, y)
    coef = np.zeros((n_classes, Z.shape[1]))
    intercept = np.full(n_classes, -30.0)
    coef[lr.classes_], intercept[lr.classes_] = lr.coef_, lr.intercept_
    return {"mean": mean, "std": std, "coef": coef, "intercept": intercept}


def linear_proba(model, Z):
    """Class probabilities of a :func:`fit_linear` model, shape (n_beats, n_classes)."""
    logits = ((np.asarray(Z, dtype=np.float64) - model["mean"]) / model["std"]) @ model["coef"].T
    logits += model["intercept"]
    logits -= logits.max(1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(1, keepdims=True)


class AdaptiveEnsemble(nn.Module):
    """Linear model + FusionCNNs, blended with weight ``w``, S bar ``s_scale`` (see the module).

    Parameters
    ----------
    n_classes : int
    window : BeatWindow
    n_nets : int
        FusionCNNs (one per seed); 0: the linear model alone.
    n_bins : int
        Bins of the relative beat the linear model reads.
    signed_bins : bool
        Also the signed relative beat's bins (the first try of chapter 07, worse on DS1).
    width, dropout
        Of each :class:`FusionCNN`.

    Shapes
    ------
    ``forward(x, features)``: ``x`` (batch, n_samples) in mV, ``features`` from
    :func:`ecgtut.fusion_features`; out: (batch, n_classes) log-probabilities.
    """

    def __init__(self, n_classes: int = 4, window: BeatWindow = DEFAULT_WINDOW, n_nets: int = 1,
                 n_bins: int = 10, width: int = 32, dropout: float = 0.0,
                 signed_bins: bool = False):
        super().__init__()
        self.n_classes, self.window, self.n_nets, self.n_bins = n_classes, window, n_nets, n_bins
        self.width, self.dropout, self.normalize = width, dropout, "zscore"
        self.signed_bins = signed_bins
        self.n_rhythm = len(RHYTHM_FEATURES)
        self.n_features = self.n_rhythm + window.n_samples + 1
        self.nets = nn.ModuleList(FusionCNN(n_classes, window, width=width, dropout=dropout)
                                  for _ in range(n_nets))
        n_lin = self.n_rhythm + n_bins * (2 if signed_bins else 1)
        self.linear = nn.Linear(n_lin, n_classes)
        self.register_buffer("bins", torch.as_tensor(bin_matrix(window.n_samples, n_bins)))
        self.register_buffer("lin_mean", torch.zeros(n_lin))
        self.register_buffer("lin_std", torch.ones(n_lin))
        self.register_buffer("blend", torch.tensor(0.5 if n_nets else 0.0))
        self.register_buffer("s_scale", torch.tensor(1.0))

    @property
    def n_samples(self) -> int:
        """Input length in samples (``window.n_samples``)."""
        return self.window.n_samples

    def set_linear(self, model):
        """Copy a :func:`fit_linear` model in."""
        self.lin_mean.copy_(torch.as_tensor(model["mean"], dtype=torch.float32))
        self.lin_std.copy_(torch.as_tensor(model["std"], dtype=torch.float32))
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(model["coef"], dtype=torch.float32))
            self.linear.bias.copy_(torch.as_tensor(model["intercept"], dtype=torch.float32))
        return self

    def set_decision(self, blend, s_scale):
        """Set the blend weight ``w`` of the networks and the S bar (chosen on DS1)."""
        if not 0 <= blend <= 1 or (blend > 0 and not self.n_nets):
            raise ValueError(f"blend must be in [0, 1] (0 without networks), got {blend}")
        if not s_scale > 0:
            raise ValueError(f"s_scale must be positive, got {s_scale}")
        self.blend.fill_(float(blend))
        self.s_scale.fill_(float(s_scale))
        return self

    def linear_inputs(self, x, features):
        """The linear model's inputs: rhythm, then ``|relative beat|`` binned (batch, 7 + n_bins).

        With ``signed_bins``, the signed relative beat's bins follow (batch, 7 + 2 n_bins).
        """
        template = features[:, self.n_rhythm: self.n_rhythm + self.n_samples]
        relative = (x - template) / features[:, -1:].clamp_min(1e-3)
        parts = [features[:, : self.n_rhythm], relative.abs() @ self.bins]
        if self.signed_bins:
            parts.append(relative @ self.bins)
        return torch.cat(parts, dim=1)

    def parts(self, x, features):
        """The linear model's and the networks' probabilities, before blending."""
        if x.dim() == 3:
            x = x[:, 0]
        features = features.to(x.dtype)
        z = (self.linear_inputs(x, features) - self.lin_mean) / self.lin_std
        p_lin = torch.softmax(self.linear(z), dim=1)
        p_cnn = (torch.stack([torch.softmax(net(x, features), dim=1) for net in self.nets]).mean(0)
                 if self.n_nets else torch.zeros_like(p_lin))
        return p_lin, p_cnn

    def forward(self, x: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        if features is None or features.shape[-1] != self.n_features:
            got = None if features is None else tuple(features.shape)
            raise ValueError(f"this model needs features of shape (batch, {self.n_features}) "
                             f"(ecgtut.fusion_features), got {got}")
        p_lin, p_cnn = self.parts(x, features)
        p = self.blend * p_cnn + (1 - self.blend) * p_lin
        scale = torch.ones(self.n_classes, dtype=p.dtype)
        scale[1] = self.s_scale
        p = p * scale
        return torch.log((p / p.sum(1, keepdim=True)).clamp_min(1e-12))
