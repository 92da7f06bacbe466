"""Chapter 07 -- why chapter 05's network fails on new patients: an ablation, the scale of inputs.

Two questions about a network trained on the beat and its five RR numbers
(:func:`ecgtut.interpatient` with ``features="beat+rr"``):

- Does it use the RR numbers at all? :func:`shuffle_within_records` gives each
  beat the RR numbers of another beat of the *same* recording (same patient,
  same distribution, wrong beat). A network that relies on prematurity loses
  its S beats; one that ignores the rhythm does not notice.
- How loud is each input where they meet? :func:`fc1_input_scale` splits the
  first fully connected layer's input into the convolution part and the RR
  part and measures how much each moves that layer's units from beat to beat.

Example
-------
>>> F = np.arange(6.0)[:, None]
>>> records = np.array(["a", "a", "a", "b", "b", "b"])
>>> G = shuffle_within_records(F, records, seed=0)
>>> sorted(G[:3, 0].tolist()), sorted(G[3:, 0].tolist())   # rows stay in their record
([0.0, 1.0, 2.0], [3.0, 4.0, 5.0])
"""

from __future__ import annotations

import numpy as np

__all__ = ["shuffle_within_records", "fc1_input_scale", "train_network"]


def shuffle_within_records(F, records, seed=0):
    """Each row's features replaced by those of another beat of the same recording.

    Parameters
    ----------
    F : array, shape (n_beats, n_features)
    records : array of str, shape (n_beats,)
    seed : int

    Returns
    -------
    np.ndarray, same shape and dtype as ``F``
    """
    F = np.asarray(F)
    records = np.asarray(records).astype(str)
    rng = np.random.default_rng(seed)
    out = F.copy()
    for name in dict.fromkeys(records.tolist()):
        rows = np.flatnonzero(records == name)
        out[rows] = F[rng.permutation(rows)]
    return out


def fc1_input_scale(net, X, F):
    """How much the convolution part and the RR part move the first FC layer, beat to beat.

    For a :class:`ecgtut.MultiScaleCNN` built with ``n_features > 0``, the first
    fully connected layer computes ``W_conv h + W_rr f + b``. Over the beats
    given, the standard deviation of each part is taken unit by unit, and the
    median over the 256 units is returned.

    Parameters
    ----------
    net : MultiScaleCNN
    X : array, shape (n_beats, n_samples)
        Beats in mV.
    F : array, shape (n_beats, n_features)
        The features the network was trained with.

    Returns
    -------
    dict
        ``conv`` and ``rr``: median standard deviation of each part (the units
        of FC1's input); ``ratio``: ``conv / rr``; ``rr_weight_share``: the
        fraction of FC1's weights that read the RR numbers; ``n_conv``, ``n_rr``.
    """
    import torch

    from ecgtut.model import normalize_beats

    net = net.eval().cpu()
    fc1 = next(m for m in net.classifier if isinstance(m, torch.nn.Linear))
    n_rr = net.n_features
    with torch.no_grad():
        x = normalize_beats(torch.as_tensor(np.asarray(X, dtype=np.float32)).unsqueeze(1),
                            net.normalize)
        h = torch.cat([b(x).flatten(1) for b in net.branches], dim=1)
        f = torch.as_tensor(np.asarray(F, dtype=np.float32))
        W = fc1.weight
        conv = (h @ W[:, : h.shape[1]].T).std(0).median().item()
        rr = (f @ W[:, h.shape[1]:].T).std(0).median().item()
    return {"conv": conv, "rr": rr, "ratio": conv / rr if rr else float("inf"),
            "rr_weight_share": n_rr / W.shape[1], "n_conv": int(h.shape[1]), "n_rr": n_rr}


def train_network(beats, rows, *, features="beat+rr", weighted=True, epochs=6, seed=0,
                  fast=False, progress=False):
    """Chapter 05's network trained on some DS1 rows, with its features (for the diagnosis).

    Parameters
    ----------
    beats : BeatSet
    rows : array of int
        Training rows (the DS2 guard refuses a test patient).
    features : "beat" or "beat+rr"
    weighted, epochs, seed
        As in :func:`ecgtut.interpatient` (``select="last"``).
    fast : bool
        Smoke run: 1 epoch, batches of 32.

    Returns
    -------
    net : MultiScaleCNN
    F : np.ndarray, shape (len(beats), 5), or None
        The RR features of every beat of the set (:func:`ecgtut.beat_rr_features`).
    """
    from ecgtut.features import beat_rr_features
    from ecgtut.patients import class_indices
    from ecgtut.tuning import fit_networks

    F = beat_rr_features(beats) if features == "beat+rr" else None
    nets, _ = fit_networks(beats, class_indices(beats.aami), F, rows, None, seeds=(seed,),
                           weighted=weighted, select="last", dropout=0.0, n_ratio=None,
                           progress=progress, desc="DS1", epochs=1 if fast else epochs,
                           batch_size=32 if fast else None, precision="float32")
    return nets[0], F
