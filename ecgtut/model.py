"""The multi-scale ("multi-head") 1-D CNN of Wang et al. (2020) -- chapter 05.

Three parallel convolutional branches look at the same 251-sample beat with
kernels of different lengths (short, medium, long), so that one branch sees
the sharp QRS complex and another the slower P and T waves. Their outputs are
flattened, concatenated and classified by three fully connected layers
(SPEC section 5). Each beat is first normalised on its own (standardised to
mean 0, std 1 by default, see :func:`normalize_beats`)::

    beat -+- conv(8, k=4) relu pool2 conv(16, k=6)  relu pool2 -+
          +- conv(8, k=6) relu pool2 conv(16, k=8)  relu pool2 -+- concat
          +- conv(8, k=8) relu pool2 conv(16, k=10) relu pool2 -+    |
                         [optional per-beat features, e.g. RR] -----+
                                                                     |
                                    FC 256 relu -> FC 32 relu -> FC n_classes

Example
-------
>>> import torch
>>> net = MultiScaleCNN(n_classes=4)
>>> net(torch.zeros(2, 251)).shape
torch.Size([2, 4])
"""

from __future__ import annotations

import torch
from torch import nn

from ecgtut.beats import DEFAULT_WINDOW, BeatWindow

__all__ = ["BRANCH_KERNELS", "NORMALIZATIONS", "normalize_beats", "MultiScaleCNN", "walk_layers",
           "model_summary", "receptive_fields"]

#: (k1, k2) kernel lengths, in samples, of the first and second convolution of each branch.
BRANCH_KERNELS = ((4, 6), (6, 8), (8, 10))


#: Ways :func:`normalize_beats` can put a beat on a common scale (``None``: as it is).
NORMALIZATIONS = ("zscore", "center", None)


def normalize_beats(x, how: str | None = "zscore", eps: float = 1e-6):
    """Put every beat on a common scale, each beat on its own.

    ``"zscore"``
        Subtract the beat's mean and divide by its standard deviation: every
        beat gets mean 0 and std 1, only its shape is left, whatever the gain
        of the recorder.
    ``"center"``
        Subtract the beat's median, so that its baseline sits at 0; the
        amplitude stays in mV. Tall and small beats stay tall and small (a
        ventricular beat is often much bigger than the patient's normal beats).
    ``None``
        Leave the beat as it is.

    No statistic is shared between beats, so nothing leaks from test beats
    into training. :class:`MultiScaleCNN` calls this on its input, so beats
    are given to the model (and to ``fit``/``predict``) as cut, in mV.

    Parameters
    ----------
    x : array or tensor, shape (..., n_samples)
        Beats, one per row.
    how : "zscore", "center" or None
    eps : float
        Floor on the std (``"zscore"``) so that a flat beat gives zeros, not NaN.

    Returns
    -------
    Same type as ``x`` (a NumPy array comes back as float32), same shape.

    Example
    -------
    >>> import numpy as np
    >>> normalize_beats(np.array([[1.0, 2.0, 6.0]]), "center")
    array([[-1.,  0.,  4.]], dtype=float32)
    >>> np.round(normalize_beats(np.array([[1.0, 2.0, 3.0]]), "zscore"), 3)
    array([[-1.225,  0.   ,  1.225]], dtype=float32)
    """
    if how not in NORMALIZATIONS:
        raise ValueError(f"unknown normalisation {how!r}; choose one of {NORMALIZATIONS}")
    if not isinstance(x, torch.Tensor):
        return normalize_beats(torch.as_tensor(x, dtype=torch.float32), how, eps).numpy()
    if how == "center":  # torch.median: the lower middle value for an even length
        return x - x.median(dim=-1, keepdim=True).values
    if how == "zscore":
        mean, std = x.mean(dim=-1, keepdim=True), x.std(dim=-1, correction=0, keepdim=True)
        return (x - mean) / std.clamp_min(eps)
    return x


def _branch(k1: int, k2: int) -> nn.Sequential:
    """One branch: conv(1->8, k1) ReLU maxpool2 conv(8->16, k2) ReLU maxpool2, no padding."""
    return nn.Sequential(
        nn.Conv1d(1, 8, kernel_size=k1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(8, 16, kernel_size=k2), nn.ReLU(), nn.MaxPool1d(2),
    )


def _branch_length(n_samples: int, k1: int, k2: int) -> int:
    """Length (samples) of a branch's output for an input of ``n_samples`` samples."""
    n = (n_samples - k1 + 1) // 2
    return (n - k2 + 1) // 2


class MultiScaleCNN(nn.Module):
    """Three-branch 1-D CNN for heartbeat classification (SPEC section 5).

    Parameters
    ----------
    n_classes : int
        Number of output classes (4 for N, S, V, F; 5 with Q).
    window : BeatWindow
        The window the beats are cut with (:data:`ecgtut.DEFAULT_WINDOW`: 0.4 s
        + 0.5 s resampled to 251 samples, the paper's). It fixes the input
        length (``window.n_samples``) and tells training where the R peak sits.
    n_features : int
        Length of an optional vector of per-beat features (for instance RR
        intervals, chapter 07) appended to the flattened convolution output
        before the fully connected layers. 0 (default): the beat alone.
    dropout : float
        Dropout probability before each of the first two fully connected
        layers. 0 by default (the paper and the write-up use none); the
        ``fast`` training recipe does not need it either, because selecting
        the epoch on a validation split already guards against over-fitting.
    normalize : "zscore", "center" or None
        How each input beat is put on a common scale before the first
        convolution (see :func:`normalize_beats`; no parameters). Default
        ``"zscore"``: mean 0, std 1, whatever the recorder's gain.
        ``"center"`` (baseline to 0, amplitude kept in mV) scored the same in
        the intra-patient cross-validation (chapter 05).

    Shapes
    ------
    ``forward(x)`` or ``forward(x, features)``: ``x`` is (batch, 251) or
    (batch, 1, 251); ``features`` is (batch, n_features); the output is
    (batch, n_classes) of logits (apply ``softmax`` for probabilities).

    Example
    -------
    >>> net = MultiScaleCNN(n_classes=5, n_features=2)
    >>> net(torch.zeros(3, 1, 251), torch.zeros(3, 2)).shape
    torch.Size([3, 5])
    """

    def __init__(self, n_classes: int = 4, window: BeatWindow = DEFAULT_WINDOW,
                 n_features: int = 0, dropout: float = 0.0, normalize: str | None = "zscore"):
        super().__init__()
        if normalize not in NORMALIZATIONS:
            raise ValueError(f"unknown normalisation {normalize!r}; choose one of {NORMALIZATIONS}")
        if not isinstance(window, BeatWindow):
            raise TypeError(f"window must be a BeatWindow, got {window!r}")
        self.n_classes, self.window, self.n_features = n_classes, window, n_features
        n_samples = window.n_samples
        self.normalize, self.dropout = normalize, dropout
        self.branches = nn.ModuleList(_branch(k1, k2) for k1, k2 in BRANCH_KERNELS)
        n_conv = sum(16 * _branch_length(n_samples, k1, k2) for k1, k2 in BRANCH_KERNELS)
        self.n_flat = n_conv  # 2768 for 251-sample beats
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(n_conv + n_features, 256), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(256, 32), nn.ReLU(),
            nn.Linear(32, n_classes),
        )

    @property
    def n_samples(self) -> int:
        """Input length in samples (``window.n_samples``)."""
        return self.window.n_samples

    def forward(self, x: torch.Tensor, features: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() == 2:  # (batch, samples) -> (batch, 1 channel, samples)
            x = x.unsqueeze(1)
        if x.dim() != 3 or x.shape[1] != 1 or x.shape[2] != self.n_samples:
            raise ValueError(f"expected beats of shape (batch, {self.n_samples}) or "
                             f"(batch, 1, {self.n_samples}), got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError("beats with non-finite values (NaN or inf): a model cannot "
                             "classify them; leave them out or fill them first")
        x = normalize_beats(x, self.normalize)
        h = torch.cat([branch(x).flatten(1) for branch in self.branches], dim=1)
        if self.n_features:
            if features is None or features.shape != (x.shape[0], self.n_features):
                got = None if features is None else tuple(features.shape)
                raise ValueError(f"this model needs features of shape (batch, {self.n_features}),"
                                 f" got {got}")
            h = torch.cat([h, features.to(h.dtype)], dim=1)
        elif features is not None:
            raise ValueError("this model was built with n_features=0: call net(x) without features")
        return self.classifier(h)


def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def walk_layers(model: MultiScaleCNN) -> list[dict]:
    """Every step of the model, in the order a beat goes through it, with its output shape.

    A zero beat is passed through the layers one by one (no gradients), so the
    shapes are always those of the model at hand. :func:`model_summary`,
    :func:`receptive_fields` and :func:`ecgtut.plot_model_diagram` all read
    the model through this walk.

    Parameters
    ----------
    model : MultiScaleCNN

    Returns
    -------
    list of dict
        One per step: ``part`` (``"input"``, ``"branch 1"`` .. ``"branch 3"``,
        ``"trunk"``), ``name`` (the layer's class name, or what the step does),
        ``module`` (the ``nn.Module``, None for steps without one), ``kernels``
        (the branch's (k1, k2), None outside branches), ``shape`` (output for
        one beat, without the batch dimension) and ``params`` (number of
        trainable values).

    Example
    -------
    >>> steps = walk_layers(MultiScaleCNN())
    >>> [(s["name"], s["shape"]) for s in steps if s["part"] == "branch 1"][:2]
    [('Conv1d', (8, 248)), ('ReLU', (8, 248))]
    """
    n = model.n_samples

    def step(part, name, shape, module=None, kernels=None):
        return {"part": part, "name": name, "module": module, "kernels": kernels,
                "shape": tuple(shape), "params": 0 if module is None else _n_params(module)}

    steps = [step("input", "input", (1, n))]
    if model.normalize:
        steps.append(step("input", f"normalize_beats ({model.normalize})", (1, n)))
    x = torch.zeros(1, 1, n)
    with torch.no_grad():
        flat = []
        for b, (branch, kernels) in enumerate(zip(model.branches, BRANCH_KERNELS, strict=True)):
            h = x
            for layer in branch:
                h = layer(h)
                steps.append(step(f"branch {b + 1}", type(layer).__name__, h.shape[1:], layer,
                                  kernels))
            flat.append(h.flatten(1))
        h = torch.cat(flat, dim=1)
        steps.append(step("trunk", "concat + flatten", h.shape[1:]))
        if model.n_features:
            h = torch.cat([h, torch.zeros(1, model.n_features)], dim=1)
            steps.append(step("trunk", f"+ {model.n_features} features", h.shape[1:]))
        for layer in model.classifier:
            h = h if isinstance(layer, nn.Dropout) else layer(h)  # same shape, no randomness
            steps.append(step("trunk", type(layer).__name__, h.shape[1:], layer))
    return steps


def model_summary(model: MultiScaleCNN) -> str:
    """A readable table of the layers: output shape and number of parameters.

    Shapes are for one beat (batch size 1); ``-1`` stands for the batch. ReLUs
    (no parameters, same shape) and dropouts of probability 0 are left out.

    Parameters
    ----------
    model : MultiScaleCNN

    Returns
    -------
    str
        One line per layer (name, output shape, parameters), then the total.

    Example
    -------
    >>> print(model_summary(MultiScaleCNN()).splitlines()[-1])
    Total parameters: 720,508
    """
    rows = []
    for s in walk_layers(model):
        module = s["module"]
        if isinstance(module, nn.ReLU) or (isinstance(module, nn.Dropout) and module.p == 0):
            continue
        name = s["name"]
        if s["kernels"]:
            k1, k2 = s["kernels"]
            name = f"branch{s['part'][-1]} (k={k1},{k2}) {name}"
        rows.append((name, (-1, *s["shape"]), s["params"]))
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'layer':<{width}}{'output shape':<16}{'params':>10}", "-" * (width + 26)]
    lines += [f"{name:<{width}}{str(shape):<16}{n:>10,}" for name, shape, n in rows]
    lines += ["-" * (width + 26), f"Total parameters: {_n_params(model):,}"]
    return "\n".join(lines)


def receptive_fields(model: MultiScaleCNN | None = None, fs: float | None = None) -> list[dict]:
    """Receptive field of each branch: how much of the beat one output unit sees.

    For a stack of layers with kernel sizes ``k_i`` and strides ``s_i`` the
    receptive field is ``1 + sum_i (k_i - 1) * prod_{j<i} s_j`` samples; for a
    branch here that is ``k1 + 2 * k2 + 1`` (17, 23 and 29 samples).

    Parameters
    ----------
    model : MultiScaleCNN, optional
        Model to inspect (default: a fresh ``MultiScaleCNN()``).
    fs : float, optional
        Sampling rate of the beat in Hz. Default: the model's window
        (``model.window.fs``, 251 / 0.9 s = 278.9 Hz for the paper's). Use 360
        for the raw record.

    Returns
    -------
    list of dict
        One per branch: ``kernels`` (k1, k2), ``samples`` and ``ms``.

    Example
    -------
    >>> [rf["samples"] for rf in receptive_fields()]
    [17, 23, 29]
    """
    model = MultiScaleCNN() if model is None else model
    fs = model.window.fs if fs is None else fs
    fields = {}  # part -> [kernels, receptive field, distance between adjacent units]
    for s in walk_layers(model):
        layer = s["module"]
        if s["kernels"] is None or not isinstance(layer, nn.Conv1d | nn.MaxPool1d):
            continue
        rf = fields.setdefault(s["part"], [s["kernels"], 1, 1])
        k = layer.kernel_size[0] if isinstance(layer, nn.Conv1d) else layer.kernel_size
        stride = layer.stride[0] if isinstance(layer, nn.Conv1d) else layer.stride
        rf[1] += (k - 1) * rf[2]
        rf[2] *= stride
    return [{"kernels": kernels, "samples": size, "ms": 1000 * size / fs}
            for kernels, size, _ in fields.values()]
