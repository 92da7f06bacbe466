"""Chapter 05 -- the machine a run happens on: seeds, device and memory.

:func:`set_seed` makes a run repeat to the last digit on the same machine;
:func:`default_device` picks CUDA when there is one, else the CPU;
:func:`keep_freed_memory` spares every training step the page faults of
glibc's allocator. What arithmetic a run uses is :mod:`ecgtut.precision`'s job.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["set_seed", "default_device", "keep_freed_memory"]


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch, and ask PyTorch for deterministic kernels.

    Called before building a model and before :func:`ecgtut.fit`, it makes a run
    repeat to the last digit on the same machine with the same number of
    threads (other hardware may round differently).

    Parameters
    ----------
    seed : int
        Any whole number from 0 to 2**32 - 1.

    Example
    -------
    >>> set_seed(0); a = torch.rand(1)
    >>> set_seed(0); bool(torch.rand(1) == a)
    True
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)
    # Deterministic mode also fills every new tensor with NaN before use, which makes
    # CPU training about 3x slower and changes no result: switch that part off.
    torch.utils.deterministic.fill_uninitialized_memory = False


#: Blocks smaller than this many bytes come from the heap, not from a fresh ``mmap``
#: (see :func:`keep_freed_memory`): 32 MiB, the largest value glibc accepts on
#: 64-bit systems, well above any tensor of a training step (a few MB).
_MMAP_THRESHOLD = 32 * 2**20


def keep_freed_memory() -> bool:
    """Let the C allocator reuse freed memory instead of handing it back to the system.

    A training step allocates and frees tensors of a few MB (a batch of 512
    beats through a branch is 4 MB). glibc's ``malloc`` gives blocks that
    large back to the kernel on every ``free`` and maps fresh ones on the next
    step, and every page of a fresh block costs a page fault: 5-15 % of an
    epoch on 2 CPU cores (measured: 18.0 s instead of 19.2 s per epoch in
    ``tests/benchmarks/bench_train.py``, 16.7 s instead of 19.3 s in another
    run; same numbers).
    This asks glibc (``mallopt``) to serve such blocks from its heap and keep
    them there. It changes where memory comes from, never a result; it does
    nothing where the C library is not glibc (macOS, Windows, musl).
    :func:`ecgtut.fit` and :func:`ecgtut.predict` call it.

    Returns
    -------
    bool
        Whether the allocator's settings were changed (False: not glibc).

    Example
    -------
    >>> tuned = keep_freed_memory()   # True on Linux (glibc), False elsewhere
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED is None:
        _ALLOCATOR_TUNED = False
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's <malloc.h>
            mmap_ok = libc.mallopt(m_mmap_threshold, _MMAP_THRESHOLD)
            trim_ok = libc.mallopt(m_trim_threshold, 2 * _MMAP_THRESHOLD)
            _ALLOCATOR_TUNED = bool(mmap_ok or trim_ok)
        except (OSError, AttributeError):  # not glibc: leave the allocator alone
            pass
    return _ALLOCATOR_TUNED


_ALLOCATOR_TUNED = None  # not tried yet


def default_device(device=None) -> torch.device:
    """``device`` if given, else CUDA when available, else the CPU.

    Parameters
    ----------
    device : str or torch.device, optional
        For instance ``"cpu"``, ``"cuda"`` or ``"cuda:1"``.

    Returns
    -------
    torch.device

    Example
    -------
    >>> default_device("cpu")
    device(type='cpu')
    """
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
