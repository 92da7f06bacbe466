"""Make this machine compute like another CPU, and say which kernels really run.

A stored notebook output that nbval compares strictly must be identical on every
x86-64 CPU. CI has one machine, so it runs the notebooks a second time with every
numerical library told to take an older code path, as a laptop without the newer
instructions would:

- OpenBLAS (numpy's, scipy's and so scikit-learn's BLAS): ``OPENBLAS_CORETYPE``,
  an older core than the machine's (Sandybridge: AVX, no FMA);
- numpy's own SIMD loops (exp, log, sums, ...): ``NPY_DISABLE_CPU_FEATURES``, the
  newest dispatch targets switched off;
- PyTorch's ATen kernels: ``ATEN_CPU_CAPABILITY``, one level below the machine's
  (AVX2 on an AVX-512 machine, as most laptops; ``default``, no vector kernels, on an
  AVX2 one: the vector-free kernels make fast mode's training several times slower);
- oneDNN (PyTorch's convolutions): ``ONEDNN_MAX_CPU_ISA``, one level below the machine's.

Never a newer core than the machine has: that would crash, not test anything.

Usage (from .ci/run)::

    eval "$(python .ci/other_cpu.py --env)"   # export the switches
    python .ci/other_cpu.py --report           # print the kernels that actually run
"""

import argparse
import os
import re
import shlex
import subprocess
import sys

# numpy's dispatch targets above AVX2 (x86-64-v3), and the one that is AVX2 itself
_NPY_ABOVE_AVX2 = ("X86_V4", "AVX512_ICL", "AVX512_SPR")
_ONEDNN_PROBE = (
    "import torch\n"
    "torch.nn.functional.conv1d(torch.ones(2, 8, 64), torch.ones(16, 8, 8))\n"
)


def _numpy_dispatch():
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return [t for t in __cpu_dispatch__ if __cpu_features__.get(t, False)]


def switches():
    """The environment variables that send each library down an older code path.

    Returns
    -------
    dict of str to str
        Variable name to value, chosen for this machine: numpy's targets above
        the newest one it keeps, ATen and oneDNN one instruction set below their own.
    """
    targets = _numpy_dispatch()
    if any(t in targets for t in _NPY_ABOVE_AVX2):
        npy_off, onednn, aten = [t for t in _NPY_ABOVE_AVX2 if t in targets], "AVX2", "avx2"
    else:  # an AVX2 machine: drop AVX2 itself
        npy_off, onednn, aten = [t for t in targets if t == "X86_V3"], "SSE41", "default"
    env = {"OPENBLAS_CORETYPE": "Sandybridge", "ATEN_CPU_CAPABILITY": aten,
           "ONEDNN_MAX_CPU_ISA": onednn}
    if npy_off:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(npy_off)
    return env


def kernels():
    """What each library runs in this process's environment.

    Returns
    -------
    dict of str to str
        ``openblas`` (the core of each loaded OpenBLAS, from threadpoolctl),
        ``numpy exp`` (the dispatch target of float64 exp), ``aten`` (PyTorch's
        CPU capability) and ``onednn`` (the instruction set oneDNN reports).
    """
    import numpy as np
    import scipy.linalg  # noqa: F401 (loads scipy's OpenBLAS)
    import torch
    from numpy.lib.introspect import opt_func_info
    from threadpoolctl import threadpool_info

    blas = sorted({f"{i['prefix']} {i['version']}: {i.get('architecture')}"
                   for i in threadpool_info() if i["internal_api"] == "openblas"})
    exp = opt_func_info(func_name="exp$", signature="float64")["exp"]["dd"]["current"]
    probe = subprocess.run([sys.executable, "-c", _ONEDNN_PROBE], capture_output=True,
                           text=True, env={**os.environ, "ONEDNN_VERBOSE": "1"})
    isa = re.search(r"isa:([^\n]*)", probe.stdout + probe.stderr)
    return {"openblas": "; ".join(blas), "numpy exp": exp,
            "aten": torch.backends.cpu.get_cpu_capability(),
            "onednn": isa.group(1).strip() if isa else "not reported",
            "numpy": np.__version__, "torch": torch.__version__}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", action="store_true", help="print export lines")
    parser.add_argument("--report", action="store_true", help="print the kernels in use")
    args = parser.parse_args(argv)
    if args.env:
        for name, value in switches().items():
            print(f"export {name}={shlex.quote(value)}")
    if args.report:
        for name, value in kernels().items():
            print(f"  {name:10} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
