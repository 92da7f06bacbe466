"""Chapter 07's recipe for new patients: adaptive inputs, FusionCNN, the ensemble, DS1 choices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ecgtut as et
from ecgtut.adaptive import bin_matrix
from ecgtut.ensemble import AdaptiveEnsemble, fit_linear, linear_proba
from ecgtut.fusion import FusionCNN, recording_features


def test_rhythm_features_of_a_steady_rhythm_and_of_a_premature_beat():
    steady = et.rhythm_features(np.arange(0, 3600 * 10, 300), fs=360)
    assert np.allclose(steady, 0, atol=1e-6)  # every interval the median: logs 0, no spread
    r = np.arange(40) * 360
    r[20] -= 180  # beat 20 comes 0.5 s early, the next on time
    Z = et.rhythm_features(r, fs=360)
    col = {name: i for i, name in enumerate(et.RHYTHM_FEATURES)}
    assert Z[20, col["log_pre"]] == pytest.approx(np.log(0.5), abs=1e-6)
    assert Z[20, col["log_pre_local"]] < -0.4 and Z[20, col["log_post_pre"]] > 1.0
    assert Z[20, col["irregularity"]] > 0.1 and Z[0, col["irregularity"]] == 0


def test_rhythm_features_clip_a_gap_in_the_recording():
    r = np.r_[np.arange(0, 3600, 360), 3600 + 360 * 120 + np.arange(0, 3600, 360)]  # 2-min gap
    Z = et.rhythm_features(r, fs=360)
    assert np.abs(Z).max() == pytest.approx(2.5) and np.isfinite(Z).all()


def test_relative_beats_are_zero_for_the_usual_beat_and_in_qrs_units():
    window = et.DEFAULT_WINDOW
    X = np.zeros((5, 251), dtype=np.float32)
    X[:, 112] = 2.0  # a 2 mV spike at the R peak: the usual beat
    X[4, 150] = 1.0  # one beat with a 1 mV bump after it
    rel = et.relative_beats(X, ["a"] * 5, window)
    assert np.abs(rel[:4]).max() == 0
    assert rel[4, 150] == pytest.approx(0.5)  # 1 mV / a 2 mV QRS
    templates, amplitudes = et.record_templates(X, ["a"] * 5, window)
    assert amplitudes["a"] == pytest.approx(2.0) and templates["a"].shape == (251,)


def test_bin_means_match_the_matrix_and_the_ensemble_computes_the_same_inputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 251)).astype(np.float32)
    edges = np.linspace(0, 251, 21).round().astype(int)
    by_hand = np.stack([X[:, a:b].mean(1) for a, b in zip(edges[:-1], edges[1:])], axis=1)
    assert np.allclose(et.bin_means(X, 20), by_hand, atol=1e-6)
    assert bin_matrix(251, 20).sum(axis=0) == pytest.approx(np.ones(20))
    peaks = np.arange(6) * 300 + 200
    F = recording_features(X, peaks, 360, et.DEFAULT_WINDOW)
    net = AdaptiveEnsemble(n_nets=0, n_bins=20, signed_bins=True)
    Z = net.linear_inputs(torch.as_tensor(X), torch.as_tensor(F))
    rel = et.relative_beats(X, ["r"] * 6, et.DEFAULT_WINDOW)
    assert np.allclose(Z[:, 7:27].numpy(), et.bin_means(np.abs(rel), 20), atol=1e-5)
    assert np.allclose(Z[:, 27:].numpy(), et.bin_means(rel, 20), atol=1e-5)
    assert np.allclose(Z[:, :7].numpy(), et.rhythm_features(peaks, 360))


def test_the_linear_model_in_the_ensemble_gives_sklearns_probabilities():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    Z = rng.normal(size=(400, 17))
    y = (Z[:, 0] > 0.5).astype(int) + 2 * (Z[:, 1] > 1.0)
    y[y == 3] = 1
    y[:10] = 3  # a few F
    lin = fit_linear(Z, y, C=0.5)
    ref = LogisticRegression(C=0.5, class_weight="balanced", max_iter=2000).fit(
        (Z - Z.mean(0)) / Z.std(0), y)
    assert np.allclose(linear_proba(lin, Z), ref.predict_proba((Z - Z.mean(0)) / Z.std(0)),
                       atol=1e-6)
    net = AdaptiveEnsemble(n_nets=0).set_linear(lin)
    z = torch.as_tensor(((Z - lin["mean"]) / lin["std"]), dtype=torch.float32)
    p = torch.softmax(net.linear(z), dim=1).detach().numpy()
    assert np.allclose(p, linear_proba(lin, Z), atol=1e-4)


def test_fit_linear_never_predicts_a_class_it_never_saw():
    Z = np.random.default_rng(2).normal(size=(60, 3))
    y = np.repeat([0, 1, 2], 20)  # no F
    p = linear_proba(fit_linear(Z, y), Z)
    assert p.shape == (60, 4) and p[:, 3].max() < 1e-9


def test_blend_and_s_scale_of_the_ensemble():
    net = AdaptiveEnsemble(n_nets=1)
    x, F = torch.zeros(2, 251), torch.ones(2, net.n_features)
    p_lin, p_cnn = net.parts(x, F)
    net.set_decision(0.25, 1.0)
    p = torch.softmax(net(x, F), dim=1)
    assert torch.allclose(p, 0.75 * p_lin + 0.25 * p_cnn, atol=1e-6)
    net.set_decision(0.25, 3.0)
    q = (0.75 * p_lin + 0.25 * p_cnn) * torch.tensor([1.0, 3.0, 1.0, 1.0])
    assert torch.allclose(torch.softmax(net(x, F), dim=1), q / q.sum(1, keepdim=True), atol=1e-6)
    with pytest.raises(ValueError, match="blend"):
        AdaptiveEnsemble(n_nets=0).set_decision(0.5, 1.0)
    with pytest.raises(ValueError, match="features of shape"):
        net(x, torch.ones(2, 5))


def test_decide_scaled_can_lower_and_raise_the_bar_for_s():
    p = np.array([[0.6, 0.4, 0, 0], [0.45, 0.55, 0, 0]])
    assert et.decide_scaled(p).tolist() == [0, 1]
    assert et.decide_scaled(p, 2.0).tolist() == [1, 1]
    assert et.decide_scaled(p, 0.5).tolist() == [0, 0]


def test_choose_decision_blends_what_each_model_does_best():
    y = np.array([1] * 10 + [2] * 10 + [0] * 80)
    p_lin = np.tile([0.7, 0.3, 0.0, 0.0], (100, 1))
    p_lin[:10] = [0.2, 0.8, 0, 0]  # the linear model finds every S, no V
    p_cnn = np.tile([0.9, 0.0, 0.1, 0.0], (100, 1))
    p_cnn[10:20] = [0.1, 0, 0.9, 0]  # the network finds every V, no S
    d = et.choose_decision(y, p_lin, p_cnn)
    assert d["score"] == pytest.approx(1.0) and 0 < d["blend"] < 1
    assert et.choose_decision(y, p_lin)["blend"] == 0.0  # without networks: the linear model


def test_fusion_cnn_standardises_the_rhythm_with_training_statistics():
    net = FusionCNN()
    F = np.random.default_rng(3).normal(2.0, 3.0, size=(500, net.n_features)).astype(np.float32)
    F[:, -1] = 1.0
    net.set_rhythm_scale(F)
    assert np.allclose(net.rhythm_mean.numpy(), F[:, :7].mean(0), atol=1e-5)
    assert set(net.state_dict()) >= {"rhythm_mean", "rhythm_std"}
    assert net(torch.as_tensor(F[:3, 7:258]), torch.as_tensor(F[:3])).shape == (3, 4)


def test_ensemble_checkpoint_round_trip(tmp_path):
    net = AdaptiveEnsemble(n_nets=2, n_bins=10).set_decision(0.75, 2.0)
    net.nets[1].rhythm_mean.fill_(0.3)
    path = tmp_path / "m.pt"
    et.save_checkpoint(path, net, {"classes": list("NSVF")})
    back, meta = et.load_checkpoint(path, device="cpu")
    assert type(back).__name__ == "AdaptiveEnsemble" and (back.n_nets, back.n_bins) == (2, 10)
    x, F = torch.randn(4, 251), torch.rand(4, net.n_features) + 0.5
    assert torch.allclose(back(x, F), net.eval()(x, F)) and float(back.s_scale) == 2.0


def test_bootstrap_over_records_brackets_the_score_and_shows_one_record_deciding():
    y = np.array([1] * 90 + [1] * 10 + [0] * 100)
    pred = np.array([0] * 90 + [1] * 10 + [0] * 100)  # one record's 90 S beats all missed
    rec = np.array(["big"] * 90 + ["r1"] * 10 + [f"n{i}" for i in range(100)])
    b = et.bootstrap_records(y, pred, rec, n_boot=500, seed=0)
    low, high = b["S"]["se"]
    assert low <= 0.1 <= high and high == pytest.approx(1.0)  # without 'big', all found
    assert et.bootstrap_records(y, pred, rec, n_boot=500, seed=0) == b  # repeatable
    assert b["V"]["se"] is None


def test_ds1_folds_hold_out_whole_patients():
    rec = np.repeat([f"r{i}" for i in range(22)], 30)
    y = np.tile(np.r_[np.zeros(27, int), [1, 2, 3]], 22)
    folds = et.ds1_folds(rec, y, n_folds=11)
    assert len(folds) == 11
    for tr, va in folds:
        assert not set(rec[tr]) & set(rec[va]) and len(set(rec[va])) == 2


def test_training_the_recipe_on_a_test_patient_is_refused(beats):
    rows = np.flatnonzero(beats.record == "100")[:50]
    with pytest.raises(et.PatientLeakError):
        et.train_adaptive(beats, rows)


@pytest.mark.slow
def test_adaptive_interpatient_fast_run(beats):
    r = et.adaptive_interpatient(beats=beats, fast=True, progress=False, n_boot=50)
    assert set(r["per_record"]) <= set(et.DS2) and r["settings"]["model"] == "adaptive"
    assert set(r["parts"]) == {"linear", "cnn"} and not set(r["training_records"]) & set(et.DS2)
    assert np.sum(r["confusion"]) == sum(p["n_beats"] for p in r["per_record"].values())
    assert {"S", "V", "n_boot"} <= set(r["bootstrap"])


def test_chapter_07_figures_of_the_recipe():
    import matplotlib.pyplot as plt

    ax = et.plot_decision_grid([[0.0, 1.0, 0.4], [0.5, 1.0, 0.6], [0.0, 2.0, 0.5],
                                [0.5, 2.0, 0.55]], chosen=(0.5, 1.0))
    assert len(ax.patches) == 1 and len(ax.texts) == 4
    r = {"per_class": {c: {"se": 0.8, "ppv": 0.5} for c in "SV"},
         "bootstrap": {c: {"se": (0.6, 0.9), "ppv": (0.3, 0.7)} for c in "SV"}}
    axes = et.plot_bootstrap({"seed 0": r, "seed 1": r})
    assert [a.get_xlabel() for a in axes] == ["S, % of DS2 beats", "V, % of DS2 beats"]
    X = np.random.default_rng(0).normal(size=(8, 251))
    axes = et.plot_relative_beats(X, X - X.mean(0), np.array(list("NNNNSSVV")),
                                  times=et.DEFAULT_WINDOW.times())
    assert axes[1].get_ylabel() == "QRS amplitudes" and len(axes[0].lines) == 8
    plt.close("all")


def test_the_recipe_is_what_the_ds1_study_chose():
    import json
    from pathlib import Path

    table = json.loads((Path(__file__).parents[1] / "notebooks/results/ds1_study.json")
                       .read_text())
    d, rows = table["decision"], table["settings"]
    assert d["linear"] == max((n for n in rows if not rows[n]["networks"]),
                              key=lambda n: rows[n]["score"])
    assert d["networks"] == max((n for n in rows if rows[n]["networks"]),
                                key=lambda n: rows[n]["score"])
    recipe = {**rows[d["linear"]]["recipe"], **rows[d["networks"]]["recipe"]}
    for key, value in recipe.items():
        assert et.ADAPTIVE_RECIPE[key] == value, key
    assert (et.ADAPTIVE_RECIPE["blend"], et.ADAPTIVE_RECIPE["s_scale"]) == (d["blend"],
                                                                            d["s_scale"])
    assert all(r["folds"] == 11 for r in rows.values())  # chosen on 11 DS1 folds, never DS2
