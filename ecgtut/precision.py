"""bfloat16 or float32: which precision to train in, checked on the actual model.

bfloat16 ("brain float") keeps float32's range but only 8 bits of mantissa:
each number is rounded to about 3 significant digits. Training under
``torch.autocast(..., dtype=torch.bfloat16)`` is much faster on processors
that compute it natively (CPUs with AVX512-BF16 or AMX, recent GPUs), and
for this network gives the same accuracy as float32.

A fast path is only worth taking when it computes the right numbers. Some
PyTorch builds get particular bfloat16 kernels wrong on particular CPUs (for
instance a ``Conv1d(8, 16, kernel_size=8)`` under autocast on Intel CPUs with
AMX, in torch 2.13): the network then trains through a wrong layer while
validation and test run in float32, and the accuracy collapses without any
error. So before training in bfloat16, :func:`resolve_precision` runs
:func:`check_bf16`, a numeric guard: every layer of the actual model, run in
bfloat16 on the input it gets in float32, must agree with float32 up to
bfloat16's rounding. If one does not, training falls back to float32 and
says so once (:class:`PrecisionWarning`), naming the layer.

Example
-------
>>> from torch import nn
>>> net = nn.Sequential(nn.Linear(251, 16), nn.ReLU(), nn.Linear(16, 2))
>>> use_bf16, info = resolve_precision("float32", net, torch.zeros(4, 251))
>>> use_bf16, info["train"], info["guard"]
(False, 'float32', None)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

__all__ = ["PRECISIONS", "DEFAULT_TOL", "PrecisionWarning", "cpu_has_bf16", "runtime_info",
           "check_bf16", "resolve_precision", "format_precision"]

#: What ``fit(..., precision=...)`` accepts: ``"auto"`` (bfloat16 where the
#: device computes it natively and it passes :func:`check_bf16`, else
#: float32), ``"float32"``, or ``"bfloat16"`` (checked, even where it is only
#: emulated: slow).
PRECISIONS = ("auto", "float32", "bfloat16")

#: Largest relative error (``||float32 - bfloat16|| / ||float32||``) a layer
#: or the model's output may show in bfloat16 before :func:`check_bf16` calls
#: it wrong: 3 times the worst that bfloat16's rounding gave (0.002 to 0.01
#: forward, up to 0.034 in a weight gradient), 10 times below what a wrong
#: kernel gives (about 1).
DEFAULT_TOL = 0.1

# (device, architecture) pairs whose failed guard was already reported in this process
_WARNED: set = set()


class PrecisionWarning(UserWarning):
    """bfloat16 gave wrong numbers on this machine: training runs in float32 instead."""


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX512-BF16 or AMX; Linux only).

    The "fast" recipe's ``precision="auto"`` trains in bfloat16 only on such
    CPUs, where it is much faster (and only if :func:`check_bf16` passes);
    elsewhere in float32.

    Parameters
    ----------
    cpuinfo : str, optional
        The text of ``/proc/cpuinfo`` (default: read it; none, as on macOS
        or Windows: False). The CPU flags ``avx512_bf16`` or ``amx_bf16`` mean yes.

    Example
    -------
    >>> cpu_has_bf16("flags : fpu sse2 avx2 avx512f avx512_bf16"), cpu_has_bf16("flags : avx2")
    (True, False)
    """
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as f:
                cpuinfo = f.read()
        except OSError:
            return False
    return bool({"avx512_bf16", "amx_bf16"} & set(cpuinfo.split()))


def _native_bf16(device) -> bool:
    """Whether ``device`` computes bfloat16 natively (CPU: :func:`cpu_has_bf16`)."""
    device = torch.device(device)
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    return device.type == "cpu" and cpu_has_bf16()


def _device_word(device) -> str:
    """"CPU", "GPU" or the device type, for messages ("on this CPU")."""
    kind = torch.device(device).type
    return {"cpu": "CPU", "cuda": "GPU"}.get(kind, kind)


def runtime_info(device="cpu") -> dict:
    """What the numbers of a run depend on besides the code: PyTorch, CPU, threads.

    Parameters
    ----------
    device : str or torch.device
        The device that trains (``"cpu"``, ``"cuda"``, ...).

    Returns
    -------
    dict (JSON-serialisable)
        ``torch`` (version), ``device``, ``cpu_capability`` (the vector
        instructions PyTorch's CPU kernels use: ``"AVX2"``, ``"AVX512"``...),
        ``threads`` (PyTorch's CPU threads), ``native_bf16`` (whether
        ``device`` computes bfloat16 natively); ``gpu`` (its name) on CUDA.

    Example
    -------
    >>> sorted(runtime_info())
    ['cpu_capability', 'device', 'native_bf16', 'threads', 'torch']
    """
    device = torch.device(device)
    info = {"torch": torch.__version__, "device": str(device),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads(), "native_bf16": _native_bf16(device)}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _model_device(model) -> torch.device:
    """Where the model's parameters (or buffers) are; the CPU if it has none."""
    for t in (*model.parameters(), *model.buffers()):
        return t.device
    return torch.device("cpu")


def _tensors(obj):
    """The tensors in ``obj`` (a tensor, or tuples, lists and dicts of them), in order."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, tuple | list):
        for o in obj:
            yield from _tensors(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors(o)


def _clone(obj):
    """A copy of ``obj`` with every tensor cloned (so that in-place layers cannot change it)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, tuple | list):
        return type(obj)(_clone(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _clone(v) for k, v in obj.items()}
    return obj


def _relative_error(ref, got) -> float:
    """``||ref - got|| / ||ref||`` over all floating-point tensors of two outputs.

    Values that are not finite in float32 are left out (bfloat16 is not to
    blame for them); a non-finite value in ``got`` alone gives ``inf``.
    """
    num = den = 0.0
    for r, g in zip(_tensors(ref), _tensors(got), strict=False):
        if not r.is_floating_point():
            continue
        r, g = r.float(), g.float()
        n_diff = float(torch.linalg.vector_norm(r - g))
        n_ref = float(torch.linalg.vector_norm(r))
        if not (math.isfinite(n_diff) and math.isfinite(n_ref)):  # rare: the slow way
            keep = torch.isfinite(r)
            r, g = r[keep].double(), g[keep].double()
            if not bool(torch.isfinite(g).all()):
                return math.inf
            n_diff = float(torch.linalg.vector_norm(r - g))
            n_ref = float(torch.linalg.vector_norm(r))
        num += n_diff ** 2
        den += n_ref ** 2
    if num == 0.0:
        return 0.0
    return math.sqrt(num / den) if den > 0 else math.inf


def _one_line(module) -> str:
    """A module's repr on one line, e.g. ``Conv1d(8, 16, kernel_size=(8,), stride=(1,))``."""
    return " ".join(repr(module).split())


@torch.no_grad()
def check_bf16(model, x, features=None, tol: float = DEFAULT_TOL) -> dict:
    """Does bfloat16 autocast compute what float32 computes, layer by layer, on this machine?

    The model runs once in float32 on the probe batch ``x``, recording the
    input and output of every leaf module (``Conv1d``, ``ReLU``,
    ``MaxPool1d``, ``Linear``...). Then each leaf runs again on **its own**
    float32 input under ``torch.autocast(device, dtype=torch.bfloat16)``, and
    its output is compared with the float32 one by the relative error
    ``||float32 - bfloat16|| / ||float32||``; so are the gradients of its
    input and weights for one fixed random upstream gradient, since training
    runs the backward kernels too. Since every layer gets the exact float32
    input, errors do not add up from layer to layer and a wrong layer is
    named as such. Last, the whole model's output in bfloat16
    autocast is compared with float32's the same way.

    Why ``tol = 0.1``: bfloat16 rounds each number to 8 significant bits
    (a relative error of at most 2**-9, 0.002), which in a convolution or a
    fully connected layer gives a relative error of 0.002 to 0.01 forward,
    and up to 0.034 in the weight gradient of the first convolution (a sum
    over 512 beats x 244 samples in which terms cancel: measured on MIT-BIH
    beats); a layer without arithmetic in bfloat16 (ReLU, pooling) gives 0.
    A wrong kernel gives about 1 (its output has nothing to do with the right
    one). 0.1 is 3 times above the first and 10 times below the second.

    The model runs in eval mode during the check (no dropout: the check is
    deterministic); its mode (train or eval, module by module) and its
    weights are left as they were.

    Parameters
    ----------
    model : torch.nn.Module
        The model to check, on the device it will train on.
    x : array or tensor, shape (batch, n_samples) or (batch, 1, n_samples)
        A probe batch of beats (mV), e.g. the first 256 training beats.
        Moved to the model's device.
    features : array or tensor, shape (batch, n_features), optional
        The model's second input, if it takes one.
    tol : float
        Largest relative error accepted, for every layer and for the output.

    Returns
    -------
    dict (JSON-serialisable)
        ``ok`` (bool: every layer and the output within ``tol``); ``layer``
        (name of the leaf with the largest error, e.g. ``"branches.1.3"``;
        None for a model without leaves), ``module`` (that leaf, e.g.
        ``"Conv1d(8, 16, kernel_size=(8,), stride=(1,))"``) and ``error``
        (its relative error); ``output_error`` (the whole model's); ``tol``;
        ``errors`` (``{layer name: relative error}`` for every leaf);
        ``device``; ``n_probe`` (beats in the probe batch). A non-finite
        bfloat16 value where float32's is finite is an infinite error, given
        as ``None`` (JSON has no infinity) and never ``ok``.

    Example
    -------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(251, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> check = check_bf16(net, torch.randn(8, 251, generator=torch.Generator().manual_seed(0)))
    >>> check["ok"], sorted(check["errors"]), check["errors"]["1"]   # ReLU: no bfloat16 arithmetic
    (True, ['0', '1', '2'], 0.0)
    """
    device = _model_device(model)

    def tensor(a):
        t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a, dtype=np.float32))
        return t.to(device=device, dtype=torch.float32)

    inputs = (tensor(x),) if features is None else (tensor(x), tensor(features))
    leaves = [(name or type(m).__name__, m) for name, m in model.named_modules()
              if next(m.children(), None) is None]
    calls = {name: [] for name, _ in leaves}  # name -> [[args, kwargs, output], ...]

    def before(name):
        def hook(module, args, kwargs):
            calls[name].append([_clone(args), _clone(kwargs), None])
        return hook

    def after(name):
        def hook(module, args, kwargs, output):
            calls[name][-1][2] = _clone(output)
        return hook

    modes = {m: m.training for m in model.modules()}
    handles = []
    model.eval()
    try:
        for name, m in leaves:
            handles.append(m.register_forward_pre_hook(before(name), with_kwargs=True))
            handles.append(m.register_forward_hook(after(name), with_kwargs=True))
        with torch.autocast(device.type, enabled=False):  # float32, even inside an autocast
            ref = model(*inputs)
        for h in handles:
            h.remove()
        handles = []
        with torch.autocast(device.type, dtype=torch.bfloat16):
            output_error = _relative_error(ref, model(*inputs))
        errors = {name: max((_layer_error(m, args, kwargs, out, device.type)
                             for args, kwargs, out in calls[name]), default=0.0)
                  for name, m in leaves}
    finally:
        for h in handles:
            h.remove()
        for m, training in modes.items():
            m.training = training
    worst = max(errors, key=errors.get, default=None)
    error = errors[worst] if worst is not None else 0.0
    return {
        "ok": bool(error <= tol and output_error <= tol), "layer": worst,
        "module": _one_line(dict(leaves)[worst]) if worst is not None else None,
        "error": _json_number(error), "output_error": _json_number(output_error),
        "tol": float(tol), "errors": {k: _json_number(v) for k, v in errors.items()},
        "device": str(device), "n_probe": int(inputs[0].shape[0]),
    }


def _json_number(x: float):
    """``x`` as a float, or None where it is not finite (JSON has no infinity)."""
    return float(x) if math.isfinite(x) else None


def _pass(module, args, kwargs, upstream, device_type, bf16):
    """One forward and backward pass of ``module``: its output and its gradients.

    The gradients are those of ``sum(output * upstream)`` with respect to the
    module's floating-point inputs and its parameters (``torch.autograd.grad``:
    nothing is accumulated in ``.grad``), in bfloat16 autocast if ``bf16``.
    """
    args, kwargs = _clone(args), _clone(kwargs)
    wrt = [t.requires_grad_() for t in _tensors((args, kwargs)) if t.is_floating_point()]
    wrt += [p for p in module.parameters() if p.requires_grad]
    with torch.enable_grad(), torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
        out = module(*args, **kwargs)
        outs = [o for o in _tensors(out) if o.is_floating_point()]
        total = sum((o.float() * u).sum() for o, u in zip(outs, upstream, strict=True))
    if not wrt or not isinstance(total, torch.Tensor) or not total.requires_grad:
        return out, []
    grads = torch.autograd.grad(total, wrt, allow_unused=True)
    return out, [torch.zeros_like(t) if g is None else g for g, t in zip(grads, wrt, strict=True)]


def _layer_error(module, args, kwargs, out, device_type) -> float:
    """Relative error of one leaf in bfloat16 against float32: forward and backward.

    ``out`` is the leaf's float32 output recorded on ``args``; the backward
    pass compares the gradients (of inputs and weights) for the same fixed
    random upstream gradient, because training runs the backward kernels too.
    """
    gen = torch.Generator().manual_seed(0)
    upstream = [torch.randn(o.shape, generator=gen).to(o.device)
                for o in _tensors(out) if o.is_floating_point()]
    _, grads32 = _pass(module, args, kwargs, upstream, device_type, bf16=False)
    out16, grads16 = _pass(module, args, kwargs, upstream, device_type, bf16=True)
    return max(_relative_error(out, out16), _relative_error(grads32, grads16))


def _fmt_error(e) -> str:
    if e is None:  # not finite
        return "inf"
    return f"{e:.2f}" if e >= 0.1 else f"{e:.2g}"


def _failure(check: dict) -> tuple[str, str]:
    """Where the guard failed, at length (for the warning) and short (for ``reason``)."""
    if check["layer"] is not None and (check["error"] is None or check["error"] > check["tol"]):
        long = f"layer {check['layer']} {check['module']}"
        short, err = check["layer"], check["error"]
    else:
        long = short = "the model's output"
        err = check["output_error"]
    return (f"{long} (relative error {_fmt_error(err)} > {check['tol']:g})",
            f"{short}: relative error {_fmt_error(err)}")


def resolve_precision(precision, model, x_probe, device=None, features=None,
                      tol: float = DEFAULT_TOL) -> tuple[bool, dict]:
    """Decide whether to train in bfloat16 autocast, checking bfloat16 first.

    ``"float32"``
        float32; nothing is checked.
    ``"auto"``
        bfloat16 where ``device`` computes it natively (CPU:
        :func:`cpu_has_bf16`; CUDA: ``torch.cuda.is_bf16_supported()``) and
        :func:`check_bf16` passes on ``model`` and ``x_probe``; float32
        elsewhere.
    ``"bfloat16"``
        bfloat16 if :func:`check_bf16` passes, even where it is only
        emulated (slow, but allowed); else float32.

    When the check fails, training runs in float32 and a
    :class:`PrecisionWarning` says so, once per process for a given model
    architecture and device, e.g.::

        bfloat16 disagrees with float32 on this CPU in layer branches.1.3
        Conv1d(8, 16, kernel_size=(8,), stride=(1,)) (relative error 0.98 > 0.1):
        training and evaluating in float32 instead

    (on one line). Evaluation (validation, test, :func:`ecgtut.train.predict`)
    always runs in float32.

    Parameters
    ----------
    precision : "auto", "float32" or "bfloat16"
        See :data:`PRECISIONS`.
    model : torch.nn.Module
        The model that will train, already on its device.
    x_probe : array or tensor, shape (batch, n_samples) or (batch, 1, n_samples)
        A probe batch for :func:`check_bf16` (e.g. the first 256 training beats).
    device : str or torch.device, optional
        The training device (default: the model's).
    features : array, shape (batch, n_features), optional
        The model's second input for the probe batch, if it takes one.
    tol : float
        Passed to :func:`check_bf16`.

    Returns
    -------
    use_bf16 : bool
        Whether to train under bfloat16 autocast.
    info : dict (JSON-serialisable)
        ``requested``; ``train`` (``"float32"`` or ``"bfloat16"``);
        ``evaluate`` (``"float32"``); ``native_bf16``; ``guard`` (None if
        not run, else :func:`check_bf16`'s result); ``fell_back`` (True when
        bfloat16 was wanted but failed the guard); ``reason`` (why training
        runs in float32 although ``requested`` is not ``"float32"``, else
        None); and :func:`runtime_info`'s ``torch``, ``device``,
        ``cpu_capability``, ``threads``.

    Example
    -------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(251, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> use_bf16, info = resolve_precision("bfloat16", net, torch.ones(8, 251))  # emulated: ok
    >>> use_bf16, info["train"], info["guard"]["ok"], info["fell_back"]
    (True, 'bfloat16', True, False)
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {PRECISIONS}")
    device = _model_device(model) if device is None else torch.device(device)
    runtime = runtime_info(device)
    info = {"requested": precision, "train": "float32", "evaluate": "float32",
            "native_bf16": runtime["native_bf16"], "guard": None, "fell_back": False,
            "reason": None, **runtime}
    if precision == "float32":
        return False, info
    if precision == "auto" and not info["native_bf16"]:
        info["reason"] = f"no native bfloat16 on this {_device_word(device)}"
        return False, info
    check = check_bf16(model, x_probe, features, tol)
    info["guard"] = check
    if check["ok"]:
        info["train"] = "bfloat16"
        return True, info
    where, short = _failure(check)
    info["fell_back"] = True
    info["reason"] = f"bfloat16 failed the guard in {short}"
    key = (str(device), repr(model))
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(f"bfloat16 disagrees with float32 on this {_device_word(device)} in "
                      f"{where}: training and evaluating in float32 instead",
                      PrecisionWarning, stacklevel=2)
    return False, info


def format_precision(info: dict) -> str:
    """One line on the arithmetic of a run: what it trained in, why, and on what.

    Parameters
    ----------
    info : dict
        ``reproduce(...)["precision"]`` or a :func:`~ecgtut.fit` history's
        ``history["precision"]``.

    Returns
    -------
    str
        E.g. ``precision: float32 (requested auto; bfloat16 failed the guard in
        branches.1.3: relative error 0.98); torch 2.13.0+cpu, AVX512, 2 threads``.

    Example
    -------
    >>> info = {"requested": "auto", "train": "float32", "fell_back": False,
    ...         "reason": "no native bfloat16 on this CPU", "guard": None,
    ...         "torch": "2.13.0+cpu", "cpu_capability": "AVX2", "threads": 2}
    >>> print(format_precision(info))   # doctest: +NORMALIZE_WHITESPACE
    precision: float32 (requested auto; no native bfloat16 on this CPU);
    torch 2.13.0+cpu, AVX2, 2 threads
    """
    why = [f"requested {info['requested']}"]
    if info.get("reason"):
        why.append(info["reason"])
    elif info.get("guard"):
        why.append(f"passed the guard: largest layer error {info['guard']['error']:.2g}")
    line = f"precision: {info['train']} ({'; '.join(why)})"
    per_fold = info.get("train_per_fold") or []
    if len(set(per_fold)) > 1:  # the guard's probe differs by fold: say so if the verdict did
        line += " [folds: " + ", ".join(per_fold) + "]"
    return (f"{line}; torch {info['torch']}, {info['cpu_capability']}, "
            f"{info['threads']} thread{'s' if info['threads'] != 1 else ''}")
