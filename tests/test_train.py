"""Tests of ecgtut.train, datasets and checkpoint on small synthetic beats (seconds, CPU)."""

import platform
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
import torch
from conftest import synthetic_beats

import ecgtut as et
from ecgtut.beats import DEFAULT_WINDOW, BeatWindow
from ecgtut.checkpoint import load_checkpoint, save_checkpoint
from ecgtut.datasets import BeatDataset, augment_beats, stratified_split
from ecgtut.model import MultiScaleCNN
from ecgtut.runtime import set_seed
from ecgtut.train import RECIPES, fit, predict, recipe_settings

matplotlib.use("Agg")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def hard_beats():
    """Overlapping classes: after 3 epochs on 400 beats, clearly above chance but not 100 %.

    On the easy task some CPUs reach a validation loss of exactly 0 in the
    first epoch, and a loss that cannot fall any more tells nothing.
    """
    return synthetic_beats(spacing=0.02, jitter=0.03, noise=1.0)


def small_run(dropout=0.0, data=None, **kw):
    X, y = synthetic_beats() if data is None else data
    set_seed(0)
    net = MultiScaleCNN(n_classes=3, dropout=dropout)
    return fit(net, (X[:400], y[:400]), (X[400:500], y[400:500]), epochs=3, batch_size=32,
               progress=False, seed=0, **kw)


def test_beat_dataset_items_and_batches():
    X, y = synthetic_beats(20)
    ds = BeatDataset(X, y, features=np.ones((20, 2)))
    x, f, label = ds[3]
    assert x.shape == (1, 251) and f.shape == (2,) and label == y[3]
    xb, fb, yb = ds[[0, 1, 2]]
    assert xb.shape == (3, 1, 251) and fb.shape == (3, 2) and yb.dtype == torch.long
    torch.testing.assert_close(xb[:, 0], torch.as_tensor(X[:3], dtype=torch.float32))  # as cut
    assert len(BeatDataset(X)) == 20 and int(BeatDataset(X)[0][1]) == -1


def test_beat_dataset_says_what_is_wrong_with_its_input():
    X, y = synthetic_beats(20)
    with pytest.raises(ValueError, match=r"got \(251,\); for one beat x, pass x\[None\]"):
        BeatDataset(X[0])
    with pytest.raises(ValueError, match=r"got \(20, 1, 251\)"):
        BeatDataset(X[:, None])
    with pytest.raises(ValueError, match="20 beats but 19 rows of y"):
        BeatDataset(X, y[:19])
    with pytest.raises(ValueError, match="20 beats but 3 rows of features"):
        BeatDataset(X, y, features=np.ones((3, 2)))
    with pytest.raises(ValueError, match="for one beat"):  # predict goes through it
        predict(MultiScaleCNN(4), X[0])


def test_fit_says_when_labels_or_weights_do_not_fit_the_model():
    X, y = synthetic_beats(40, n_classes=2)
    net = MultiScaleCNN(n_classes=2)
    y3 = y.copy()
    y3[5] = 2
    with pytest.raises(ValueError, match="the train labels hold class 2, but the model has 2 out"):
        fit(net, (X[:30], y3[:30]), (X[30:], y[30:]), epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"the val labels hold class -1"):
        fit(net, (X[:30], y[:30]), (X[30:], -np.ones(10, int)), epochs=1, progress=False)
    with pytest.raises(ValueError, match="3 class weights for a model of 2 classes"):
        fit(net, (X[:30], y[:30]), (X[30:], y[30:]), class_weights=[1, 2, 3], epochs=1,
            progress=False)
    with pytest.raises(ValueError, match="needs training beats of every class; there are none "
                       "of class 1"):
        fit(net, (X[:30][y[:30] == 0], y[:30][y[:30] == 0]), (X[30:], y[30:]),
            class_weights="balanced", epochs=1, progress=False)
    with pytest.raises(ValueError, match="the val beats are empty"):
        fit(net, (X[:30], y[:30]), (X[:0], y[:0]), epochs=1, progress=False)


def test_set_seed_repeats():
    set_seed(3)
    a = (torch.rand(3), np.random.rand())
    set_seed(3)
    b = (torch.rand(3), np.random.rand())
    assert torch.equal(a[0], b[0]) and a[1] == b[1]


def test_stratified_split_keeps_ratios():
    y = np.array([0] * 900 + [1] * 80 + [2] * 20 + [3])  # class 3: a single beat
    tr, va = stratified_split(y, 0.1, seed=0)
    assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == len(y)
    assert np.bincount(y[va], minlength=4).tolist() == [90, 8, 2, 0]
    assert 1000 in tr  # the lone beat stays in training
    tr2, va2 = stratified_split(y, 0.1, seed=0)
    np.testing.assert_array_equal(va, va2)
    with pytest.raises(ValueError, match="cannot split 12 beats of 3 classes into training "
                       "and a stratified 0.1 validation part"):
        stratified_split(np.arange(12) % 3, 0.1)


def test_fit_lowers_loss_and_repeats_exactly():
    X, y = data = hard_beats()
    net1, h1 = small_run(data=data)
    net2, h2 = small_run(data=data)
    set_seed(0)  # the same network before training: what a run with lr=0 would keep
    _, proba = predict(MultiScaleCNN(n_classes=3), X[400:500])
    untrained_loss = -np.mean(np.log(proba[np.arange(100), y[400:500]]))
    chance = np.mean(y[400:500] == np.bincount(y[:400]).argmax())  # always the commonest class
    assert h1["val_acc"][h1["best_epoch"] - 1] > chance + 0.1
    assert min(h1["val_loss"]) < 0.7 * untrained_loss  # a clear margin, not 0.0 < 0.0
    assert h1["train_loss"][-1] < 0.7 * h1["train_loss"][0]
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert h1[key] == h2[key], key  # identical numbers, not just close
    for p1, p2 in zip(net1.parameters(), net2.parameters(), strict=True):
        assert torch.equal(p1, p2)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_fit_in_each_precision(precision):
    """bfloat16 runs everywhere: emulated where the CPU has no native support (slower)."""
    X, y = synthetic_beats(120)
    set_seed(0)
    net, h = fit(MultiScaleCNN(n_classes=3), (X[:96], y[:96]), (X[96:], y[96:]), epochs=1,
                 batch_size=32, progress=False, precision=precision)
    info = h["precision"]
    if precision == "bfloat16" and info["fell_back"] and info["native_bf16"]:
        pytest.skip(f"bfloat16 is wrong on this CPU: {info['reason']}")  # the guard's job
    assert info["requested"] == info["train"] == precision and info["evaluate"] == "float32"
    assert (info["guard"] is None) == (precision == "float32")
    assert np.isfinite(h["train_loss"][0]) and np.isfinite(h["val_loss"][0])
    acc = np.mean(predict(net, X[96:])[0] == y[96:])  # evaluation: float32, as in fit
    assert acc == pytest.approx(h["val_acc"][0])


def test_history_and_best_epoch_restored():
    X, y = synthetic_beats()
    net, h = small_run(monitor={"test": (X[500:], y[500:])})
    assert set(h) == {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr",
                      "seconds", "test_loss", "test_acc", "best_epoch", "precision"}
    assert h["epoch"] == [1, 2, 3] and len(h["test_acc"]) == len(h["test_loss"]) == 3
    best = h["best_epoch"] - 1
    assert h["val_acc"][best] == max(h["val_acc"])
    y_pred, _ = predict(net, X[400:500])
    assert np.mean(y_pred == y[400:500]) == pytest.approx(h["val_acc"][best])
    assert h["test_acc"][best] == pytest.approx(np.mean(predict(net, X[500:])[0] == y[500:]))
    assert "test_acc" not in small_run()[1]
    with pytest.raises(ValueError, match="the test labels hold class 3"):
        small_run(monitor={"test": (X[500:], np.full(100, 3))})


@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_test_fold_never_changes_training(dropout):
    """Not even through the random numbers: dropout draws from PyTorch's global generator."""
    X, y = synthetic_beats()
    _, with_test = small_run(dropout, monitor={"test": (X[500:], y[500:])})
    _, without = small_run(dropout)
    assert with_test["val_loss"] == without["val_loss"]
    assert with_test["best_epoch"] == without["best_epoch"]


def test_fit_can_choose_the_epoch_on_balanced_accuracy():
    X, y = data = synthetic_beats(n_classes=3, spacing=0.02, jitter=0.03, noise=1.0,
                                  p=[0.9, 0.05, 0.05])
    _, h = small_run(data=data, select="balanced_accuracy")
    bal = h["val_balanced_acc"]
    # the best balanced accuracy; a tie (which epochs tie depends on the CPU's arithmetic)
    # goes to the lower validation loss, as fit's docstring says
    tied = [i for i, b in enumerate(bal) if b == max(bal)]
    assert len(bal) == 3 and h["best_epoch"] == min(tied, key=lambda i: h["val_loss"][i]) + 1
    net, _ = small_run(data=data, select="balanced_accuracy")
    y_pred = predict(net, X[400:500])[0]
    se = [np.mean(y_pred[y[400:500] == c] == c) for c in range(3) if np.any(y[400:500] == c)]
    assert np.mean(se) == pytest.approx(max(bal))  # the model kept is the epoch chosen
    assert "val_balanced_acc" not in small_run(data=data)[1]  # accuracy: as before
    with pytest.raises(ValueError, match="select must be one of"):
        small_run(select="f1")


def test_early_stopping_on_validation():
    X, y = synthetic_beats(200)
    net = MultiScaleCNN(n_classes=3)
    # lr 0: nothing improves after epoch 1, so patience 2 stops after epoch 3
    _, h = fit(net, (X[:150], y[:150]), (X[150:], y[150:]), epochs=10, lr=0.0, patience=2,
               progress=False)
    assert h["epoch"] == [1, 2, 3] and h["best_epoch"] == 1


def test_augment_beats_identity_and_types():
    X, _ = synthetic_beats(5)
    assert np.array_equal(augment_beats(X, shift=0, stretch=0), X)
    t = torch.as_tensor(X).unsqueeze(1)  # (batch, 1, 251), as fit's batches
    out = augment_beats(t, generator=torch.Generator().manual_seed(0))
    assert isinstance(out, torch.Tensor) and out.shape == t.shape
    assert not torch.equal(out, t)
    # 0.4 s of 0.9 s, 360 Hz -> 251 samples: the R peak at sample 144 * 251 / 324
    assert DEFAULT_WINDOW.r_peak_sample == pytest.approx(144 * 251 / 324)


def test_augment_beats_shift_and_stretch_about_the_r_peak():
    # On a ramp x[t] = t, linear interpolation is exact: copy[t] = r + (t - r - s) / a,
    # so each copy's slope gives 1/a and its value at the R peak gives s.
    n, r = 251, 100
    window = BeatWindow(before=1.0, after=1.51, n_samples=n)  # 100 samples/s: R peak at 100
    assert window.r_peak_sample == pytest.approx(r)
    ramp = np.tile(np.arange(n, dtype=np.float32), (200, 1))
    out = augment_beats(ramp, shift=3, stretch=0.1, window=window,
                        generator=torch.Generator().manual_seed(0))
    slope = (out[:, 150] - out[:, 50]) / 100
    a = 1 / slope
    s = (r - out[:, r]) * a
    assert np.all((a > 0.9 - 1e-4) & (a < 1.1 + 1e-4))
    assert a.min() < 0.93 and a.max() > 1.07  # the whole range is used
    assert np.allclose(s, np.round(s), atol=1e-3)  # whole samples
    assert set(np.round(s).astype(int)) == set(range(-3, 4))
    # a pure stretch leaves the R peak where it is
    still = augment_beats(ramp, shift=0, stretch=0.1, window=window)
    assert np.allclose(still[:, r], r)
    # repeatable with a seeded generator
    again = augment_beats(ramp, 3, 0.1, window=window, generator=torch.Generator().manual_seed(0))
    assert np.array_equal(out, again)


def test_fit_augments_training_beats_only():
    X, y = synthetic_beats()
    _, plain = small_run(shift=0, stretch=0)
    _, augmented = small_run()
    assert RECIPES["fast"]["shift"] > 0 and RECIPES["writeup"]["shift"] == 0
    assert plain["train_loss"] != augmented["train_loss"]
    # validation beats are never augmented: a model's validation accuracy is the accuracy
    # of its predictions on the beats as they are
    net, h = small_run()
    acc = np.mean(predict(net, X[400:500])[0] == y[400:500])
    assert acc == pytest.approx(h["val_acc"][h["best_epoch"] - 1])


def test_recipes_and_options():
    assert RECIPES["writeup"]["optimizer"] == "rmsprop"
    assert RECIPES["writeup"]["lr"] == 1e-3 and RECIPES["writeup"]["batch_size"] == 64
    assert RECIPES["writeup"]["conv_l2"] == 1e-4 and RECIPES["writeup"]["epochs"] == 100
    X, y = synthetic_beats(120)
    net = MultiScaleCNN(n_classes=3)
    _, h = fit(net, (X[:100], y[:100]), (X[100:], y[100:]), recipe="writeup", epochs=1,
               class_weights="balanced", progress=False)
    assert len(h["epoch"]) == 1 and h["lr"] == [1e-3]
    with pytest.raises(ValueError, match="recipe"):
        fit(net, (X, y), (X, y), recipe="nope", progress=False)


def test_recipe_settings_checks_every_setting():
    assert recipe_settings("fast", epochs=2)["epochs"] == 2
    assert recipe_settings("fast", lr=None)["lr"] == RECIPES["fast"]["lr"]  # None: the recipe's
    with pytest.raises(ValueError, match="unknown recipe setting"):
        recipe_settings("fast", epoch=2)  # a typo is an error, not silently ignored
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        recipe_settings("fast", epochs=0)
    X, y = synthetic_beats(40)
    with pytest.raises(ValueError, match="unknown recipe setting.*learning_rate"):
        fit(MultiScaleCNN(n_classes=3), (X, y), (X, y), learning_rate=0.1, progress=False)


def test_fit_stretches_about_the_r_peak_of_the_models_window(monkeypatch):
    import ecgtut.train

    seen = []
    real = ecgtut.train.augment_beats

    def spy(x, shift, stretch, *, window, generator):
        seen.append(window)
        return real(x, shift, stretch, window=window, generator=generator)

    monkeypatch.setattr(ecgtut.train, "augment_beats", spy)
    X, y = synthetic_beats(40)
    window = BeatWindow(before=0.2, after=0.7, n_samples=251)
    net = MultiScaleCNN(n_classes=3, window=window)
    fit(net, (X[:30], y[:30]), (X[30:], y[30:]), epochs=1, progress=False)
    assert seen and all(w is window for w in seen)
    assert window.r_peak_sample == pytest.approx(0.2 / 0.9 * 251)  # not the default's 111.6


def test_fit_with_features():
    X, y = synthetic_beats(200)
    feats = np.c_[y, -y].astype(np.float32)  # features that give the answer away
    net = MultiScaleCNN(n_classes=3, n_features=2)
    net, h = fit(net, (X[:150], y[:150], feats[:150]), (X[150:], y[150:], feats[150:]),
                 epochs=3, batch_size=16, progress=False)
    y_pred, proba = predict(net, X[150:], features=feats[150:])
    assert proba.shape == (50, 3) and max(h["val_acc"]) > 0.9


def test_predict_and_checkpoint_roundtrip(tmp_path):
    X, _ = synthetic_beats(50)
    set_seed(1)
    net = MultiScaleCNN(n_classes=3)
    y_pred, proba = predict(net, X, batch_size=7)
    assert y_pred.shape == (50,) and y_pred.dtype == np.int64 and proba.shape == (50, 3)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(predict(net, X, batch_size=50)[0], y_pred)
    path = tmp_path / "net.pt"
    save_checkpoint(path, net, {"classes": ["N", "S", "V"], "fold": 1, "acc": 0.99})
    net2, meta = load_checkpoint(path)
    assert meta == {"classes": ["N", "S", "V"], "fold": 1, "acc": 0.99}
    np.testing.assert_array_equal(predict(net2, X, batch_size=7)[1], proba)
    window = BeatWindow(before=0.25, after=0.45, n_samples=200)
    save_checkpoint(path, MultiScaleCNN(n_classes=3, window=window, dropout=0.3,
                                        normalize="center"))
    net3, _ = load_checkpoint(path)
    assert (net3.dropout, net3.normalize, net3.classifier[0].p) == (0.3, "center", 0.3)
    assert net3.window == window and net3.n_samples == 200


def test_plot_learning_curves():
    import matplotlib.pyplot as plt

    from ecgtut.plots import plot_learning_curves

    X, y = synthetic_beats()
    _, h = small_run(monitor={"test": (X[500:], y[500:])})
    axes = plot_learning_curves(h)
    assert len(axes) == 2 and axes[1].get_title() == "Accuracy"
    assert len(axes[1].get_lines()) == 4  # training, validation, test, epoch kept
    plt.close("all")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc only")
def test_keep_freed_memory_tunes_glibc_once():
    # in a fresh process: the first call changes the settings, the second only reports it
    code = "from ecgtut.runtime import keep_freed_memory as k; print(k(), k())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "True"]


def test_fit_and_predict_keep_freed_memory(monkeypatch):
    import ecgtut.train

    calls = []
    monkeypatch.setattr(ecgtut.train, "keep_freed_memory", lambda: calls.append(1) or True)
    X, y = synthetic_beats(40)
    net, _ = fit(MultiScaleCNN(n_classes=3), (X[:30], y[:30]), (X[30:], y[30:]), epochs=1,
                 progress=False)
    assert len(calls) == 1
    predict(net, X[:5])
    assert len(calls) == 2


def test_lr_schedule_matches_what_fit_records():
    lrs = et.lr_schedule("fast", steps_per_epoch=10)
    assert lrs.shape == (10 * et.RECIPES["fast"]["epochs"],)  # every step of every epoch
    peak = et.RECIPES["fast"]["lr"]
    assert lrs.max() == pytest.approx(peak) and lrs[0] == pytest.approx(peak / 25)
    assert 0.25 < np.argmax(lrs) / len(lrs) < 0.35  # one-cycle: warm up over 30 % of the steps
    assert np.all(np.diff(lrs[np.argmax(lrs):]) <= 0) and lrs[-1] < 1e-6
    assert np.allclose(et.lr_schedule("writeup", steps_per_epoch=3, epochs=2), 1e-3)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(80, 251)).astype("float32"), np.arange(80) % 2
    net = et.MultiScaleCNN(n_classes=2)
    _, history = et.fit(net, (X[:64], y[:64]), (X[64:], y[64:]), epochs=2, batch_size=16,
                            progress=False)  # 4 steps per epoch
    lrs = et.lr_schedule("fast", steps_per_epoch=4, epochs=2)
    assert history["lr"][0] == pytest.approx(lrs[4])  # the rate after epoch 1 = that of step 4


def test_stratified_subsample_keeps_ratios_and_rare_classes():
    y = np.array([0] * 9000 + [1] * 900 + [2] * 90 + [3] * 10)
    assert np.array_equal(et.stratified_subsample(y), np.arange(len(y)))  # n=None: all
    keep = et.stratified_subsample(y, 1000, seed=1)
    assert np.all(np.diff(keep) > 0)  # sorted, no repeats
    assert np.bincount(y[keep]).tolist() == [900, 90, 20, 10]  # floor 20, or all of a class
    assert np.array_equal(keep, et.stratified_subsample(y, 1000, seed=1))


def test_fit_select_last_needs_no_validation_and_keeps_the_last_epoch():
    from ecgtut.model import MultiScaleCNN

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 251)).astype("float32"), np.arange(64) % 2
    set_seed(0)
    net, history = fit(MultiScaleCNN(n_classes=2), (X, y), None, select="last", epochs=2,
                       batch_size=16, progress=False)
    assert history["best_epoch"] == 2 and "val_acc" not in history
    set_seed(0)
    again, _ = fit(MultiScaleCNN(n_classes=2), (X, y), (X[:8], y[:8]), select="last", epochs=2,
                   batch_size=16, progress=False)  # validation scored, not used
    for a, b in zip(net.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="validation beats are needed"):
        fit(MultiScaleCNN(n_classes=2), (X, y), None, epochs=1, progress=False)
