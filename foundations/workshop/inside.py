"""What a participant's container runs (``containers``): their services on the container's loopback, as
``make lab`` starts them, their notebooks trusted, then the single-user server in its place.

    $ python -m foundations.workshop.inside [jupyterhub-singleuser's arguments]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from foundations.ops import lab
from foundations.workshop.participant import START


def main(argv: list[str]) -> None:
    # The hub's FOUNDATIONS_* variables (the participant's database, the state file in their home) are
    # in our environment, so every notebook finds what this starts.
    subprocess.run([sys.executable, *START], check=True)
    subprocess.run(lab.trust_command(Path(os.environ["PYTHONPATH"]) / "notebooks"), check=False)
    os.execvp("jupyterhub-singleuser", ["jupyterhub-singleuser", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
