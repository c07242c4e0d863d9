"""Re-execute notebooks in place, top to bottom on a fresh kernel, so their stored outputs are what nbval
will compare against (``make refresh-outputs``). Never hand-edit outputs. The services are the same kind
the test run uses (``services.temporary()``: fresh, on free ports).

    $ python -m foundations.course.refresh notebooks/01_environment.ipynb
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from foundations.course import hygiene
from foundations.ops import services
from foundations.ops.doctor import KERNEL_NAME


def refresh(path: Path, timeout: int = 600) -> float:
    """Execute ``path`` with the project's kernel in its own folder and write it back; returns seconds."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME, record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    hygiene.clean(nb)
    nbformat.write(nb, path)
    return time.perf_counter() - start


if __name__ == "__main__":
    with services.temporary():
        for arg in sys.argv[1:]:
            print(f"{arg}: {refresh(Path(arg)):.1f} s", flush=True)
