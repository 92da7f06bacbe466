"""Tests of ecgtut.precision: the bfloat16 guard, on a simulated broken layer (seconds, CPU).

The real fault (a bfloat16 kernel that computes wrong numbers on some CPUs)
cannot be produced on demand, so a layer that is wrong only under autocast
stands in for it. bfloat16 autocast runs everywhere (emulated where the CPU
has no native support), so the healthy-model tests run on every machine.
"""

import json
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import ecgtut
from ecgtut import precision
from ecgtut.beats import DEFAULT_WINDOW
from ecgtut.cli import build_parser, main
from ecgtut.experiment import format_reproduce_report, reproduce
from ecgtut.model import MultiScaleCNN
from ecgtut.precision import (
    DEFAULT_TOL,
    PRECISIONS,
    PrecisionWarning,
    check_bf16,
    cpu_has_bf16,
    format_precision,
    resolve_precision,
    runtime_info,
)
from ecgtut.train import RECIPES, fit, predict, recipe_settings, set_seed

pytestmark = pytest.mark.usefixtures("one_torch_thread")

BROKEN = "branches.1.3"  # Conv1d(8, 16, kernel_size=8): the layer torch 2.13 gets wrong on AMX
INFO_KEYS = {"requested", "train", "evaluate", "native_bf16", "guard", "fell_back", "reason",
             "torch", "device", "cpu_capability", "threads"}


class BrokenConv(nn.Conv1d):
    """A Conv1d that is right in float32 and wrong (sign flipped) under CPU autocast.

    It always computes in float32 (even where the CPU's own bfloat16 kernel is
    the broken one), so the error it shows is exactly 2 on every machine.
    """

    def forward(self, x):
        autocast = torch.is_autocast_enabled("cpu")
        with torch.autocast("cpu", enabled=False):
            out = super().forward(x.float())
        return -out if autocast else out


class _FlipGradient(torch.autograd.Function):
    """The identity forward; the gradient's sign flipped backward."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return -grad


class BackwardBrokenConv(nn.Conv1d):
    """A Conv1d whose forward is right everywhere but whose backward is wrong under autocast."""

    def forward(self, x):
        autocast = torch.is_autocast_enabled("cpu")
        with torch.autocast("cpu", enabled=False):
            out = super().forward(x.float())
        return _FlipGradient.apply(out) if autocast else out

def beats(n=64, seed=0):
    """Two classes of noisy bumps, (n, 251) float32 in mV, and their labels."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    t = np.linspace(0, 1, 251)
    X = 2 * np.exp(-(((t - 0.4 - 0.1 * y[:, None]) / 0.05) ** 2)) + rng.normal(0, 0.3, (n, 251))
    return X.astype(np.float32), y


def healthy_net(seed=0, n_classes=2):
    set_seed(seed)
    return MultiScaleCNN(n_classes=n_classes)


def broken_net(seed=0, n_classes=2):
    """A MultiScaleCNN whose branches.1.3 is a BrokenConv with the same weights."""
    net = healthy_net(seed, n_classes)
    good = net.branches[1][3]
    bad = BrokenConv(good.in_channels, good.out_channels, good.kernel_size[0])
    bad.load_state_dict(good.state_dict())
    net.branches[1][3] = bad
    return net


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Each test starts as a new process would: no failed guard reported yet."""
    monkeypatch.setattr(precision, "_WARNED", set())


def skip_if_bf16_wrong_here(net, x):
    """On a CPU that computes bfloat16 natively and gets it wrong, the healthy path cannot run.

    Never skips where bfloat16 is emulated (most machines, CI): there the guard must pass.
    """
    check = check_bf16(net, x)
    if not check["ok"] and cpu_has_bf16():
        pytest.skip(f"bfloat16 autocast is wrong on this CPU ({check['layer']} "
                    f"{check['module']}: relative error {check['error']:.2f})")


def precision_warnings(record):
    return [w for w in record if issubclass(w.category, PrecisionWarning)]


# ----------------------------------------------------------------------------- check_bf16


def test_check_bf16_names_the_broken_layer():
    X, _ = beats()
    net = broken_net()
    check = check_bf16(net, X)
    assert not check["ok"]
    assert check["layer"] == BROKEN and check["error"] > check["tol"] == DEFAULT_TOL
    assert check["module"].startswith("BrokenConv(8, 16, kernel_size=(8,)")
    assert check["error"] == pytest.approx(2.0, rel=1e-2)  # -out against out
    others = {k: v for k, v in check["errors"].items() if k != BROKEN}
    assert len(others) == 24
    if check_bf16(healthy_net(), X)["ok"]:  # else this CPU's own bfloat16 kernels are wrong
        assert max(others.values()) < DEFAULT_TOL  # no error compounding
    assert check["n_probe"] == 64 and check["device"] == "cpu"
    assert json.loads(json.dumps(check)) == check


def test_check_bf16_compares_the_backward_pass_too():
    """A layer right forward but wrong backward would train through wrong gradients."""
    X, _ = beats()
    net = healthy_net()
    good = net.branches[1][3]
    bad = BackwardBrokenConv(good.in_channels, good.out_channels, good.kernel_size[0])
    bad.load_state_dict(good.state_dict())
    net.branches[1][3] = bad
    check = check_bf16(net, X)
    assert not check["ok"] and check["layer"] == BROKEN
    assert check["error"] == pytest.approx(2.0, rel=1e-2)
    assert check["output_error"] < DEFAULT_TOL or not check_bf16(healthy_net(), X)["ok"]


def test_check_bf16_passes_a_healthy_model_and_leaves_it_as_it_was():
    X, _ = beats()
    net = healthy_net()
    skip_if_bf16_wrong_here(net, X)
    net.train()
    net.classifier[0].eval()  # a mixed mode, to see that every module gets its own back
    before = {k: v.clone() for k, v in net.state_dict().items()}
    check = check_bf16(net, X)
    assert check["ok"] and check["error"] < DEFAULT_TOL and check["output_error"] < DEFAULT_TOL
    assert max(check["errors"].values()) == check["error"] > 0  # bfloat16 does round
    for name, module in net.named_modules():
        if isinstance(module, nn.ReLU | nn.MaxPool1d | nn.Dropout):
            assert check["errors"][name] == 0.0, name  # no bfloat16 arithmetic there
    assert net.training and not net.classifier[0].training and net.classifier[1].training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert check_bf16(net, torch.as_tensor(X)) == check  # deterministic; arrays or tensors
    assert torch.is_grad_enabled()  # check_bf16's no_grad did not leak


# ----------------------------------------------------------------------------- resolve_precision


@pytest.mark.parametrize("requested", ["auto", "bfloat16"])
def test_failed_guard_falls_back_to_float32_and_says_so_once(monkeypatch, requested):
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)  # "auto" wants bfloat16 here
    X, _ = beats()
    net = broken_net()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        use_bf16, info = resolve_precision(requested, net, X)
    assert use_bf16 is False
    (w,) = precision_warnings(record)
    message = str(w.message)
    assert message.startswith("bfloat16 disagrees with float32 on this CPU in layer "
                              "branches.1.3 BrokenConv(8, 16, kernel_size=(8,)")
    assert "(relative error 2.00 > 0.1)" in message
    assert message.endswith(": training and evaluating in float32 instead")
    assert set(info) == INFO_KEYS
    assert info["requested"] == requested and info["train"] == info["evaluate"] == "float32"
    assert info["fell_back"] is True and info["native_bf16"] is True
    assert info["reason"] == "bfloat16 failed the guard in branches.1.3: relative error 2.00"
    assert info["guard"]["layer"] == BROKEN and not info["guard"]["ok"]
    assert json.loads(json.dumps(info)) == info
    with warnings.catch_warnings(record=True) as record:  # the same model again: no new line
        warnings.simplefilter("always")
        use_bf16, again = resolve_precision(requested, broken_net(seed=1), X)
    assert use_bf16 is False and again["fell_back"] and precision_warnings(record) == []
    with pytest.warns(PrecisionWarning, match="branches.1.3"):  # another architecture: one more
        resolve_precision(requested, broken_net(n_classes=3), X)


def test_resolve_precision_choices(monkeypatch):
    X, _ = beats()
    net = healthy_net()
    skip_if_bf16_wrong_here(net, X)

    def no_check(*args, **kwargs):
        raise AssertionError("the guard ran although nothing wanted bfloat16")

    with monkeypatch.context() as m:
        m.setattr(precision, "check_bf16", no_check)
        m.setattr(precision, "cpu_has_bf16", lambda: False)
        assert resolve_precision("float32", broken_net(), X) == (False, {
            **runtime_info("cpu"), "requested": "float32", "train": "float32",
            "evaluate": "float32", "guard": None, "fell_back": False, "reason": None})
        use_bf16, info = resolve_precision("auto", net, X)  # no native bfloat16: float32
        assert not use_bf16 and info["reason"] == "no native bfloat16 on this CPU"
        assert info["guard"] is None and not info["fell_back"] and not info["native_bf16"]
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    use_bf16, info = resolve_precision("bfloat16", net, X)  # emulated: slow but allowed
    assert use_bf16 and info["train"] == "bfloat16" and info["guard"]["ok"]
    assert info["reason"] is None and not info["native_bf16"]
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    use_bf16, info = resolve_precision("auto", net, X)
    assert use_bf16 and info["train"] == "bfloat16" and info["native_bf16"]
    assert info["evaluate"] == "float32"
    with pytest.raises(ValueError, match=r"unknown precision 'fp16'; choose one of "
                       r"\('auto', 'float32', 'bfloat16'\)"):
        resolve_precision("fp16", net, X)


def test_cpu_has_bf16_reads_the_cpu_flags():
    assert cpu_has_bf16("processor : 0\nflags : fpu avx2 avx512f amx_bf16 amx_tile\n")
    assert cpu_has_bf16("flags\t: fpu avx512f avx512_bf16\n")
    assert not cpu_has_bf16("flags : fpu sse2 avx2 avx512f\n")
    assert not cpu_has_bf16("flags : fpu no_avx512_bf16_here\n")  # whole flags only
    try:
        with open("/proc/cpuinfo") as f:
            here = f.read()
    except OSError:
        here = None
    assert cpu_has_bf16() == (here is not None and cpu_has_bf16(here))


def test_the_precision_names_are_reexported_flat():
    assert ecgtut.cpu_has_bf16 is cpu_has_bf16 and ecgtut.format_precision is format_precision
    assert ecgtut.check_bf16 is check_bf16 and ecgtut.PRECISIONS == PRECISIONS
    assert runtime_info()["torch"] == torch.__version__


# ----------------------------------------------------------------------------- fit


def tiny_fit(net, **kw):
    X, y = beats(64)
    return fit(net, (X[:48], y[:48]), (X[48:], y[48:]), epochs=1, batch_size=16, progress=False,
               **kw)


def test_fit_trains_a_broken_model_in_float32():
    with pytest.warns(PrecisionWarning, match="branches.1.3"):
        net, h = tiny_fit(broken_net(), precision="bfloat16")
    assert h["precision"]["train"] == "float32" and h["precision"]["fell_back"] is True
    # exactly what float32 training gives: the guard changed nothing else
    net32, h32 = tiny_fit(broken_net(), precision="float32")
    assert h["train_loss"] == h32["train_loss"] and h["val_acc"] == h32["val_acc"]
    X, _ = beats(64)
    np.testing.assert_array_equal(predict(net, X)[1], predict(net32, X)[1])


def test_fit_precision_setting_is_recorded():
    X, _ = beats(64)
    skip_if_bf16_wrong_here(healthy_net(), X[:48])
    _, h = tiny_fit(healthy_net(), precision="bfloat16")
    assert h["precision"]["train"] == "bfloat16" and h["precision"]["guard"]["ok"]
    assert h["precision"]["requested"] == "bfloat16" and not h["precision"]["fell_back"]
    assert h["precision"]["guard"]["n_probe"] == 16  # one training batch, as trained
    _, h = tiny_fit(healthy_net(), precision="float32")
    assert h["precision"]["train"] == "float32" and h["precision"]["guard"] is None
    json.dumps(h)
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        tiny_fit(healthy_net(), precision="fp16")


def test_old_recipe_dicts_with_a_bf16_key_still_work():
    assert RECIPES["fast"]["precision"] == "auto" and RECIPES["writeup"]["precision"] == "float32"
    assert "bf16" not in RECIPES["fast"]
    _, h = tiny_fit(healthy_net(), recipe={**RECIPES["fast"], "bf16": False})
    assert h["precision"]["requested"] == "float32" and h["precision"]["train"] == "float32"
    assert recipe_settings({**RECIPES["fast"], "bf16": True})["precision"] == "bfloat16"
    assert recipe_settings({**RECIPES["writeup"], "bf16": "auto"})["precision"] == "auto"
    assert "bf16" not in recipe_settings({**RECIPES["fast"], "bf16": True})
    no_key = {k: v for k, v in RECIPES["fast"].items() if k != "precision"}
    assert recipe_settings(no_key)["precision"] == "float32"  # as before: no bf16 key, no bfloat16
    old = {**RECIPES["fast"], "bf16": False}
    assert recipe_settings(old, precision="auto")["precision"] == "auto"
    with pytest.raises(ValueError, match="unknown bf16 setting 'yes'"):
        recipe_settings({**RECIPES["fast"], "bf16": "yes"})


# ----------------------------------------------------------------------------- reproduce, CLI


class TinyBeatSet:
    """Just enough of ecgtut.BeatSet for reproduce(): xy(classes) and window, 4 classes."""

    window = DEFAULT_WINDOW

    def xy(self, classes):
        rng = np.random.default_rng(0)
        y = np.arange(160) % 4
        t = np.linspace(0, 1, 251)
        X = 3 * np.exp(-(((t - 0.3 - 0.1 * y[:, None]) / 0.03) ** 2))
        return (X + rng.normal(0, 0.3, X.shape)).astype(np.float32), y


def test_reproduce_records_the_precision(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    result = reproduce(beats=TinyBeatSet(), fast=True, epochs=1, progress=False)
    block = result["precision"]
    assert INFO_KEYS <= set(block) and block["train_per_fold"] == ["float32", "float32"]
    assert block["requested"] == "auto" and result["settings"]["precision"] == "auto"
    assert [f["precision"] for f in result["folds"]] == ["float32", "float32"]
    json.loads(json.dumps(result))
    line = format_reproduce_report(result).splitlines()[1]
    threads = torch.get_num_threads()
    assert line == (f"precision: float32 (requested auto; no native bfloat16 on this CPU); "
                    f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}, "
                    f"{threads} thread{'s' if threads != 1 else ''}")


def test_format_precision_says_why():
    base = {"torch": "2.13.0+cpu", "cpu_capability": "AVX512", "threads": 2}
    fell_back = {**base, "requested": "auto", "train": "float32", "fell_back": True,
                 "reason": "bfloat16 failed the guard in branches.1.3: relative error 0.98",
                 "guard": {"ok": False, "error": 0.98}, "train_per_fold": ["float32"] * 5}
    assert format_precision(fell_back) == (
        "precision: float32 (requested auto; bfloat16 failed the guard in branches.1.3: "
        "relative error 0.98); torch 2.13.0+cpu, AVX512, 2 threads")
    passed = {**base, "requested": "bfloat16", "train": "bfloat16", "fell_back": False,
              "reason": None, "guard": {"ok": True, "error": 0.0031}, "threads": 1,
              "train_per_fold": ["bfloat16", "float32"]}
    assert format_precision(passed) == (
        "precision: bfloat16 (requested bfloat16; passed the guard: largest layer error 0.0031)"
        " [folds: bfloat16, float32]; torch 2.13.0+cpu, AVX512, 1 thread")


def test_cli_precision_option(monkeypatch, capsys):
    assert build_parser().parse_args(["reproduce", "--precision", "float32"]).precision == "float32"
    assert build_parser().parse_args(["reproduce"]).precision == "auto"
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["reproduce", "--precision", "fp16"])
    assert info.value.code == 2 and "invalid choice: 'fp16'" in capsys.readouterr().err
    import ecgtut.cli
    import ecgtut.experiment

    assert ecgtut.cli.PRECISIONS == PRECISIONS  # written out there, so as not to import torch
    seen = {}
    monkeypatch.setattr(ecgtut.experiment, "reproduce", lambda *a, **kw: seen.update(kw) or {})
    monkeypatch.setattr(ecgtut.experiment, "format_reproduce_report", lambda result: "report")
    assert main(["reproduce", "--fast", "--precision", "bfloat16"]) == 0
    assert seen["precision"] == "bfloat16"
