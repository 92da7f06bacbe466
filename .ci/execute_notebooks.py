"""Execute the course notebooks in place, with stable metadata, to commit their outputs.

Usage (from the repository root, with ECGTUT_DATA set)::

    python .ci/execute_notebooks.py                    # all notebooks, full mode
    python .ci/execute_notebooks.py notebooks/01_*.ipynb
    ECGTUT_FAST=1 python .ci/execute_notebooks.py ...  # fast mode (what CI checks)

Each notebook runs top to bottom on a fresh ``python3`` kernel with the
notebooks folder as working directory; per-cell timing metadata is not
recorded, so diffs show only real changes. Prints each notebook's run time.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def execute(path):
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = KERNEL
    start = time.perf_counter()
    NotebookClient(nb, timeout=3600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return time.perf_counter() - start


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or sorted(Path("notebooks").glob("*.ipynb"))
    for p in paths:
        print(f"{p}: {execute(p):.0f} s", flush=True)
