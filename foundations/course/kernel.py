"""The course's Jupyter kernel: IPython's, except that it does not report the interpreter's patch version.

JupyterLab copies the kernel's ``language_info`` into a notebook as it opens it; with ``version: 3.11.7``
in it, every shipped notebook (which the nb-clean hook keeps free of that version, Debian's 3.11.2 and
pyenv's 3.11.7 differing) opened "modified" and autosave rewrote it. Without it, the kernel's
``language_info`` is the stored one and an untouched notebook stays unmodified.

    $ python -m foundations course install-kernel    # `make install`: registers it in this environment

Jupyter starts it as ``python -m foundations.course.kernel -f CONNECTION_FILE`` (the kernelspec's argv).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from ipykernel.ipkernel import IPythonKernel
from ipykernel.kernelapp import IPKernelApp

from foundations.ops.doctor import KERNEL_NAME

DISPLAY_NAME = "Python (API Foundations)"


class Kernel(IPythonKernel):
    language_info = {k: v for k, v in IPythonKernel.language_info.items() if k != "version"}


def install(prefix: str = sys.prefix) -> Path:
    """Register the kernel under ``prefix`` (the venv, or the image's Python); returns its folder."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = {
        "argv": [
            sys.executable,
            "-Xfrozen_modules=off",
            "-m",
            "foundations.course.kernel",
            "-f",
            "{connection_file}",
        ],
        "display_name": DISPLAY_NAME,
        "language": "python",
        "metadata": {"debugger": True},
    }
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)  # copied with its mode: an image's other users must read it
        (Path(folder) / "kernel.json").write_text(json.dumps(spec, indent=1))
        return Path(KernelSpecManager().install_kernel_spec(folder, KERNEL_NAME, prefix=prefix))


if __name__ == "__main__":
    IPKernelApp.launch_instance(kernel_class=Kernel)
