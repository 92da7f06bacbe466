"""Chapter 07 -- the recipe for new patients: everything chosen on DS1 patients, scored once on DS2.

The recipe (:data:`ADAPTIVE_RECIPE`) is a linear model and FusionCNNs on
patient-adaptive inputs (:mod:`ecgtut.adaptive`), blended, with an S bar
(:class:`ecgtut.AdaptiveEnsemble`). Its settings come from
:func:`ds1_study`: a patient-grouped k-fold over the 22 DS1 records (11 folds,
two records held out at a time), whose pooled out-of-fold probabilities are
scored by a score fixed beforehand, the mean of the S and V F1
(:func:`choose_decision`). :func:`adaptive_interpatient` then trains on all of
DS1 and scores DS2 once; ``ecgtut interpatient``, ``ecgtut train`` and the
default model of ``ecgtut classify`` all go through :func:`train_adaptive`.

Example
-------
>>> decide_scaled(np.array([[0.6, 0.4, 0, 0], [0.9, 0.1, 0, 0]]), s_scale=2.0)
array([1, 0])
"""

from __future__ import annotations

import time

import numpy as np

from ecgtut import patients
from ecgtut.database import DS1
from ecgtut.patients import CLASSES, check_training_records, class_indices

__all__ = ["ADAPTIVE_RECIPE", "BLENDS", "S_SCALES", "decide_scaled", "ds1_folds",
           "fit_fusion", "ds1_study", "choose_decision", "train_adaptive",
           "adaptive_interpatient", "adaptive_inputs_for", "format_adaptive_report"]

#: Chapter 07's recipe, chosen on DS1 patients only (``notebooks/results/ds1_study.json``):
#: the linear model's penalty ``C`` and bins, each FusionCNN's training, the blend
#: weight of the networks and the S bar.
ADAPTIVE_RECIPE = {"C": 0.1, "n_bins": 5, "signed_bins": False, "epochs": 8, "lr": 3e-3,
                   "batch_size": 256, "width": 32, "dropout": 0.0, "shift": 3, "stretch": 0.05,
                   "weighted": False, "seeds": (0,), "blend": 0.25, "s_scale": 0.5}

#: Blend weights (of the networks) and S scales :func:`choose_decision` tries.
BLENDS = (0.0, 0.25, 0.5, 0.75, 1.0)
S_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)


def decide_scaled(proba, s_scale=1.0):
    """Class of each beat: the arg-max after the S probability is multiplied by ``s_scale``.

    Above 1 calls more beats S, below 1 fewer (a threshold alone could only add S labels).

    Parameters
    ----------
    proba : array, shape (n_beats, 4)
    s_scale : float

    Returns
    -------
    np.ndarray of int, shape (n_beats,)
    """
    p = np.array(proba, dtype=float)
    p[:, 1] *= s_scale
    return p.argmax(1)


def ds1_folds(records, y, n_folds=11, seed=0):
    """Patient-grouped, class-stratified folds over DS1 beats (``StratifiedGroupKFold``).

    Parameters
    ----------
    records : array of str, shape (n,)
        Record of each DS1 beat.
    y : array of int, shape (n,)
    n_folds : int
        11 holds two of the 22 records out at a time.

    Returns
    -------
    list of (train, held) index arrays into the n beats; no record on both sides.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, records))


def adaptive_inputs_for(beats, n_bins, signed_bins=False):
    """The linear model's inputs and the FusionCNN's features of every beat of a set.

    Returns
    -------
    Z : np.ndarray of float32, shape (len(beats), 7 + n_bins), or 7 + 2 n_bins with
        ``signed_bins`` (:meth:`ecgtut.AdaptiveEnsemble.linear_inputs`)
    F : np.ndarray of float32, shape (len(beats), 7 + n_samples + 1)
    """
    import torch

    from ecgtut.ensemble import AdaptiveEnsemble
    from ecgtut.fusion import fusion_features

    F = fusion_features(beats)
    lin = AdaptiveEnsemble(window=beats.window, n_nets=0, n_bins=n_bins, signed_bins=signed_bins)
    with torch.no_grad():
        Z = lin.linear_inputs(torch.as_tensor(beats.X), torch.as_tensor(F)).numpy()
    return Z, F


def fit_fusion(X, y, F, *, seed, window=None, recipe=None, progress=True, desc="fusion"):
    """Train one :class:`ecgtut.FusionCNN` for a fixed number of epochs (no choice on the side).

    Parameters
    ----------
    X : array, shape (n, n_samples); y : array of int, shape (n,);
    F : array, shape (n, n_features)
        Training beats, labels and :func:`ecgtut.fusion_features`.
    seed : int
    window : BeatWindow, optional
        The beats' window (default :data:`ecgtut.DEFAULT_WINDOW`).
    recipe : dict, optional
        Keys of :data:`ADAPTIVE_RECIPE` (``epochs``, ``lr``, ``batch_size``,
        ``width``, ``dropout``, ``shift``, ``stretch``, ``weighted``).

    Returns
    -------
    FusionCNN, its rhythm standardised with these beats' statistics.
    """
    from ecgtut.beats import DEFAULT_WINDOW
    from ecgtut.fusion import FusionCNN
    from ecgtut.runtime import set_seed
    from ecgtut.train import fit
    from ecgtut.tuning import balanced_weights

    r = {**ADAPTIVE_RECIPE, **(recipe or {})}
    set_seed(seed)
    net = FusionCNN(len(CLASSES), window or DEFAULT_WINDOW, width=r["width"],
                    dropout=r["dropout"]).set_rhythm_scale(F)
    net, _ = fit(net, (X, y, F), None, select="last", seed=seed, progress=progress, desc=desc,
                 class_weights=balanced_weights(y) if r["weighted"] else None, recipe="fast",
                 epochs=r["epochs"], lr=r["lr"], batch_size=r["batch_size"], shift=r["shift"],
                 stretch=r["stretch"], precision="float32")
    return net


def _fast_rows(y, rows, seed, n=3000):
    from ecgtut.datasets import stratified_subsample

    return rows[stratified_subsample(y[rows], n, seed)]


def ds1_study(data_dir=None, *, beats=None, n_folds=11, seed=0, recipe=None, cnn=True,
              fast=False, progress=True) -> dict:
    """Out-of-fold probabilities of the linear model and the FusionCNN on DS1 patients.

    For each of ``n_folds`` patient-grouped folds (:func:`ds1_folds`), both
    models train on the other folds' patients and predict the held-out ones;
    DS2 is never read.

    Parameters
    ----------
    recipe : dict, optional
        Overrides of :data:`ADAPTIVE_RECIPE` (``C``, ``n_bins``, the network's training).
    cnn : bool
        Also the networks (False: the linear model alone, seconds).
    fast : bool
        Smoke run: 3000 DS1 beats, 3 folds, 1 epoch.

    Returns
    -------
    dict
        ``y``, ``records`` (DS1 beats), ``p_linear`` and ``p_cnn`` (None
        without ``cnn``), arrays (n, 4); ``seconds``; ``recipe``; ``folds``.
    """
    from ecgtut.ensemble import fit_linear, linear_proba

    start = time.perf_counter()
    r = {**ADAPTIVE_RECIPE, **(recipe or {})}
    if beats is None:
        from ecgtut.cache import load_beats

        beats = load_beats(data_dir, progress=progress)
    y_all = class_indices(beats.aami)
    ds1, _ = patients.split_patients(beats, CLASSES)
    if fast:
        ds1, n_folds, r["epochs"], r["batch_size"] = _fast_rows(y_all, ds1, seed), 3, 1, 64
    Z, F = adaptive_inputs_for(beats, r["n_bins"], r["signed_bins"])
    y, rec = y_all[ds1], beats.record[ds1]
    p_lin = np.zeros((len(ds1), len(CLASSES)))
    p_cnn = np.zeros_like(p_lin) if cnn else None
    from tqdm import tqdm

    folds = ds1_folds(rec, y, n_folds, seed)
    for tr, va in tqdm(folds, desc="DS1 folds", disable=not progress):
        check_training_records(rec[tr])
        p_lin[va] = linear_proba(fit_linear(Z[ds1[tr]], y[tr], C=r["C"]), Z[ds1[va]])
        if cnn:
            from ecgtut.train import predict

            probas = [predict(fit_fusion(beats.X[ds1[tr]], y[tr], F[ds1[tr]], seed=s, recipe=r,
                                         window=beats.window, progress=False), beats.X[ds1[va]],
                              features=F[ds1[va]], device="cpu")[1] for s in r["seeds"]]
            p_cnn[va] = np.mean(probas, axis=0)
    return {"y": y, "records": rec, "p_linear": p_lin, "p_cnn": p_cnn,
            "seconds": time.perf_counter() - start, "folds": n_folds,
            "recipe": {k: list(v) if isinstance(v, tuple) else v for k, v in r.items()}}


def _s_v_score(y, pred):
    from sklearn.metrics import f1_score

    f1 = f1_score(y, pred, labels=[1, 2], average=None, zero_division=0)
    return float(f1.mean())


def choose_decision(y, p_linear, p_cnn=None, blends=BLENDS, s_scales=S_SCALES):
    """The blend weight and S scale with the best mean of S and V F1 on (DS1) predictions.

    Parameters
    ----------
    y : array of int, shape (n,)
    p_linear, p_cnn : arrays, shape (n, 4)
        Out-of-fold probabilities (:func:`ds1_study`); without ``p_cnn`` only
        blend 0 (the linear model alone) is tried.

    Returns
    -------
    dict
        ``blend``, ``s_scale``, ``score``; ``table``: ``{(blend, s_scale): score}``.
    """
    blends = blends if p_cnn is not None else (0.0,)
    table = {}
    for w in blends:
        p = (1 - w) * p_linear + (w * p_cnn if p_cnn is not None else 0)
        for s in s_scales:
            table[(float(w), float(s))] = _s_v_score(y, decide_scaled(p, s))
    best = max(table, key=lambda k: (round(table[k], 6), k[1] == 1.0, -abs(k[0] - 0.5)))
    return {"blend": best[0], "s_scale": best[1], "score": table[best], "table": table}


def train_adaptive(beats, rows, *, recipe=None, guard=True, progress=True, desc="train",
                   inputs=None):
    """Train the whole recipe on some beats: the linear model, then one FusionCNN per seed.

    Parameters
    ----------
    beats : BeatSet
    rows : array of int
        Training rows (DS1; all 44 records only for a model deployed on purpose,
        ``guard=False``).
    recipe : dict, optional
        Overrides of :data:`ADAPTIVE_RECIPE` (its ``blend`` and ``s_scale`` are set in the model).
    inputs : (Z, F), optional
        :func:`adaptive_inputs_for` of ``beats`` with the recipe's bins, if already computed.

    Returns
    -------
    AdaptiveEnsemble (eval mode), with the recipe it was trained with as ``net.recipe``.
    """
    from ecgtut.ensemble import AdaptiveEnsemble, fit_linear

    r = {**ADAPTIVE_RECIPE, **(recipe or {})}
    if guard:
        check_training_records(beats.record[rows])
    y = class_indices(beats.aami[rows])
    Z, F = inputs or adaptive_inputs_for(beats, r["n_bins"], r["signed_bins"])
    n_nets = len(r["seeds"]) if r["blend"] > 0 else 0
    net = AdaptiveEnsemble(len(CLASSES), beats.window, n_nets=n_nets, n_bins=r["n_bins"],
                           width=r["width"], dropout=r["dropout"], signed_bins=r["signed_bins"])
    net.set_linear(fit_linear(Z[rows], y, C=r["C"]))
    for i, seed in enumerate(r["seeds"][:n_nets]):
        trained = fit_fusion(beats.X[rows], y, F[rows], seed=seed, window=beats.window, recipe=r,
                             progress=progress, desc=f"{desc} seed {seed}")
        net.nets[i].load_state_dict(trained.state_dict())
    net.set_decision(r["blend"] if n_nets else 0.0, r["s_scale"])
    net.recipe = r
    return net.eval()


def adaptive_interpatient(data_dir=None, *, beats=None, recipe=None, seed=None, fast=False,
                          progress=True, n_boot=1000) -> dict:
    """Chapter 07's recipe: train on all of DS1, score DS2 once; plain JSON.

    Parameters
    ----------
    recipe : dict, optional
        Overrides of :data:`ADAPTIVE_RECIPE`.
    seed : int, optional
        Shorthand for ``recipe={"seeds": (seed,)}``.
    fast : bool
        Smoke run: 3000 DS1 and 3000 DS2 beats, 1 epoch.
    n_boot : int
        Bootstrap resamples of the DS2 records (:func:`ecgtut.bootstrap_records`).

    Returns
    -------
    dict
        As :func:`ecgtut.interpatient`: ``accuracy``, ``macro_f1``,
        ``per_class``, ``confusion``, ``per_record``, ``settings``,
        ``seconds``, ``n_beats``; plus ``bootstrap`` (S and V Se/+P intervals
        over DS2 records) and ``parts``: the linear model alone and the networks
        alone on DS2 (shown, never chosen on).
    """
    import torch

    from ecgtut.metrics import classification_metrics
    from ecgtut.train import predict

    start = time.perf_counter()
    r = {**ADAPTIVE_RECIPE, **(recipe or {})}
    if seed is not None:
        r["seeds"] = (seed,)
    if beats is None:
        from ecgtut.cache import load_beats

        beats = load_beats(data_dir, progress=progress)
    y_all = class_indices(beats.aami)
    ds1, ds2 = patients.split_patients(beats, CLASSES)
    if fast:
        ds1, ds2 = _fast_rows(y_all, ds1, r["seeds"][0]), _fast_rows(y_all, ds2, r["seeds"][0])
        r["epochs"], r["batch_size"] = 1, 64
    inputs = adaptive_inputs_for(beats, r["n_bins"], r["signed_bins"])
    net = train_adaptive(beats, ds1, recipe=r, progress=progress, desc="DS1", inputs=inputs)
    F = inputs[1]
    proba = predict(net, beats.X[ds2], features=F[ds2], device="cpu")[1]
    y_pred = proba.argmax(1)
    with torch.no_grad():
        p_lin, p_cnn = (p.numpy() for p in net.parts(torch.as_tensor(beats.X[ds2]),
                                                     torch.as_tensor(F[ds2])))
    y2 = y_all[ds2]
    m = classification_metrics(y2, y_pred, CLASSES)
    parts = {"linear": classification_metrics(y2, decide_scaled(p_lin, r["s_scale"]), CLASSES)}
    if net.n_nets:
        parts["cnn"] = classification_metrics(y2, decide_scaled(p_cnn, r["s_scale"]), CLASSES)
    result = patients.interpatient_result(beats, ds1, ds2, y2, y_pred, m)
    result.update({
        "seconds": time.perf_counter() - start,
        "settings": {"protocol": "inter-patient DS1 -> DS2", "model": "adaptive",
                     "fast": fast, "features": "adaptive",
                     **{k: list(v) if isinstance(v, tuple) else v for k, v in r.items()}},
        "bootstrap": patients.bootstrap_records(y2, y_pred, beats.record[ds2], n_boot=n_boot),
        "parts": {k: {c: {q: v["per_class"][c][q] for q in ("se", "ppv", "f1")}
                      for c in CLASSES} for k, v in parts.items()},
        "precision": {"train": "float32"},
        "training_records": sorted(set(beats.record[ds1].tolist()) & set(DS1)),
    })
    return result


def format_adaptive_report(result: dict) -> str:
    """The DS2 scores of :func:`adaptive_interpatient` beside the published anchors, as text."""
    from ecgtut.patients import ANCHORS

    s = result["settings"]
    lines = [f"inter-patient DS1 -> DS2, chapter 07's recipe (linear model + "
             f"{len(s['seeds'])} FusionCNN(s), seeds {', '.join(map(str, s['seeds']))}, blend "
             f"{s['blend']}, S factor {s['s_scale']}){', fast smoke run' if s['fast'] else ''};"
             f" {result['n_beats']} beats, {result['seconds']:.0f} s, float32",
             "", f"{'DS2, Se / +P (%)':<34}{'S Se':>7}{'S +P':>7}{'V Se':>7}{'V +P':>7}"]

    def pct(x):
        return "—" if x is None else f"{100 * x:.1f}"

    def row(name, pc):
        return (f"{name:<34}{pct(pc['S']['se']):>7}{pct(pc['S']['ppv']):>7}"
                f"{pct(pc['V']['se']):>7}{pct(pc['V']['ppv']):>7}")

    lines.append(row("ours", result["per_class"]))
    b = result["bootstrap"]
    lines.append(f"{'  95 % over DS2 records':<34}" + "".join(
        f"{'—' if b[c][k] is None else f'{100 * b[c][k][0]:.0f}-{100 * b[c][k][1]:.0f}':>7}"
        for c in ("S", "V") for k in ("se", "ppv")))
    for name, pc in result["parts"].items():
        lines.append(row(f"  {name} part alone", pc))
    for name, a in ANCHORS.items():
        lines.append(f"{name:<34}{a['S'][0]:>7.1f}{a['S'][1]:>7.1f}{a['V'][0]:>7.1f}"
                     f"{a['V'][1]:>7.1f}")
    return "\n".join(lines)
