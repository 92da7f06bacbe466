"""Tests of ecgtut.model: shapes, parameter count, summary and receptive fields."""

import numpy as np
import pytest
import torch

from ecgtut.beats import BeatWindow
from ecgtut.model import (
    BRANCH_KERNELS,
    MultiScaleCNN,
    model_summary,
    normalize_beats,
    receptive_fields,
    walk_layers,
)

# Parameter count by hand, for 251-sample beats and 4 classes.
# Branch lengths (no padding, pool 2 floors):
#   k=(4,6):  251-4+1=248 -> 124 -> 124-6+1=119  -> 59
#   k=(6,8):  251-6+1=246 -> 123 -> 123-8+1=116  -> 58
#   k=(8,10): 251-8+1=244 -> 122 -> 122-10+1=113 -> 56
#   flattened: 16 * (59 + 58 + 56) = 2768
# Convolutions (weights + biases):
#   conv1 1->8:  8*k1 + 8     -> 40, 56, 72         = 168
#   conv2 8->16: 128*k2 + 16  -> 784, 1040, 1296    = 3120
# Fully connected:
#   2768*256 + 256 = 708 864;  256*32 + 32 = 8 224;  32*4 + 4 = 132
# Total: 168 + 3120 + 708 864 + 8 224 + 132 = 720 508
N_PARAMS_4 = 720_508
# 5 classes and 2 extra features: FC1 gains 2*256 = 512, the last layer 32 + 1 = 33:
N_PARAMS_5_F2 = N_PARAMS_4 + 512 + 33  # 721 053


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def n_params(net):
    return sum(p.numel() for p in net.parameters())


def test_parameter_count_by_hand():
    assert n_params(MultiScaleCNN()) == N_PARAMS_4
    assert n_params(MultiScaleCNN(n_classes=5, n_features=2)) == N_PARAMS_5_F2
    assert MultiScaleCNN().n_flat == 2768


@pytest.mark.parametrize("shape", [(7, 251), (7, 1, 251)])
def test_output_shape_without_features(shape):
    net = MultiScaleCNN(n_classes=4)
    assert net(torch.randn(shape)).shape == (7, 4)


def test_output_shape_with_features():
    net = MultiScaleCNN(n_classes=5, n_features=3)
    out = net(torch.randn(6, 251), torch.randn(6, 3))
    assert out.shape == (6, 5)
    # the features reach the output
    a = net(torch.zeros(1, 251), torch.zeros(1, 3))
    b = net(torch.zeros(1, 251), torch.ones(1, 3))
    assert not torch.equal(a, b)


def test_wrong_inputs_raise():
    with pytest.raises(ValueError, match="251"):
        MultiScaleCNN()(torch.zeros(2, 250))
    with pytest.raises(ValueError, match="features"):
        MultiScaleCNN(n_features=2)(torch.zeros(2, 251))
    with pytest.raises(ValueError, match="n_features=0"):
        MultiScaleCNN()(torch.zeros(2, 251), torch.zeros(2, 2))


def test_other_windows_and_dropout():
    window = BeatWindow(before=0.4, after=0.6, n_samples=300)
    net = MultiScaleCNN(n_classes=3, window=window, dropout=0.5)
    assert net.window is window and net.n_samples == 300
    x = torch.randn(4, 300)
    assert net(x).shape == (4, 3)
    assert [m.p for m in net.classifier if isinstance(m, torch.nn.Dropout)] == [0.5, 0.5]
    torch.manual_seed(0)
    assert not torch.equal(net.train()(x), net(x))  # training: dropout draws a new mask each time
    torch.testing.assert_close(net.eval()(x), net(x), rtol=0, atol=0)  # eval: no dropout
    with pytest.raises(TypeError, match="BeatWindow"):
        MultiScaleCNN(window=300)


def test_walk_layers_follows_the_model():
    steps = walk_layers(MultiScaleCNN(n_features=2))
    parts = [s["part"] for s in steps]
    assert parts[:2] == ["input", "input"] and parts.count("branch 2") == 6
    assert [s["name"] for s in steps if s["part"] == "trunk"][:2] == ["concat + flatten",
                                                                      "+ 2 features"]
    assert steps[-1]["shape"] == (4,) and steps[-1]["params"] == 32 * 4 + 4
    convs = [s for s in steps if s["name"] == "Conv1d"]
    assert [s["kernels"] for s in convs] == [k for k in BRANCH_KERNELS for _ in range(2)]
    assert sum(s["params"] for s in steps) == N_PARAMS_4 + 2 * 256  # the 2 features' weights
    net = MultiScaleCNN(dropout=0.5).train()
    walk_layers(net)
    assert net.training  # walking leaves the model as it was


def test_model_summary_table():
    text = model_summary(MultiScaleCNN())
    assert text.splitlines()[-1] == f"Total parameters: {N_PARAMS_4:,}"
    assert "(-1, 2768)" in text and "(-1, 16, 59)" in text and "708,864" in text
    assert "+ 2 features" in model_summary(MultiScaleCNN(n_features=2))


def test_receptive_fields():
    rfs = receptive_fields()
    # k1 + 2*k2 + 1 samples (conv k1, pool 2, conv k2 at stride 2, pool 2)
    assert [rf["samples"] for rf in rfs] == [k1 + 2 * k2 + 1 for k1, k2 in BRANCH_KERNELS]
    assert [rf["samples"] for rf in rfs] == [17, 23, 29]
    assert rfs[0]["ms"] == pytest.approx(17 / (251 / 0.9) * 1000)
    assert receptive_fields(fs=360)[2]["ms"] == pytest.approx(29 / 360 * 1000)
    # the default rate is the model's window's
    wide = MultiScaleCNN(window=BeatWindow(before=0.5, after=0.5, n_samples=251))
    assert receptive_fields(wide)[0]["ms"] == pytest.approx(17 / 251 * 1000)


def test_normalize_beats_center_and_zscore():
    X = np.array([[1.0, 2.0, 6.0], [4.0, 4.0, 4.0]])
    np.testing.assert_array_equal(normalize_beats(X, "center"), [[-1, 0, 4], [0, 0, 0]])
    Z = normalize_beats(X, "zscore")
    np.testing.assert_allclose(Z[0].std(), 1, atol=1e-6)
    np.testing.assert_array_equal(Z[1], 0)  # a flat beat: zeros, not NaN
    t = torch.as_tensor(X, dtype=torch.float32)
    torch.testing.assert_close(normalize_beats(t, "zscore"), torch.as_tensor(Z))
    assert normalize_beats(X, None).dtype == np.float32
    with pytest.raises(ValueError, match="normalisation"):
        normalize_beats(X, "minmax")


@pytest.mark.parametrize(("normalize", "change"), [("center", lambda x: x + 0.7),
                                                   ("zscore", lambda x: 3 * x - 1)])
def test_model_normalises_its_input(normalize, change):
    """A baseline offset does not change the output of a centring model; a gain
    and an offset do not change that of a z-scoring model; but a gain does
    change the output of a centring model (it keeps the amplitude)."""
    torch.manual_seed(0)
    net = MultiScaleCNN(n_classes=4, normalize=normalize).eval()
    x = torch.randn(5, 251)
    with torch.no_grad():
        torch.testing.assert_close(net(change(x)), net(x), atol=1e-4, rtol=1e-4)
        if normalize == "center":
            assert not torch.allclose(net(2 * x), net(x), atol=1e-3)
    with pytest.raises(ValueError, match="normalisation"):
        MultiScaleCNN(normalize="minmax")


def test_normalize_beats_zscore_numpy():
    X = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0]])
    Z = normalize_beats(X, "zscore")
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z[0].mean(), 0, atol=1e-6)
    np.testing.assert_allclose(Z[0].std(), 1, atol=1e-6)
    np.testing.assert_array_equal(Z[1], 0)  # a flat beat: zeros, not NaN
