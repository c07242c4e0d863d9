"""API Foundations in Python: the package the notebooks call (start at notebooks/00_index.ipynb).

Lesson modules sit at the top, one concept each; ``course/`` holds the tutorial machinery (exercise checks,
notebook setup, navigation, re-execution), ``ops/`` the services, ``workshop/`` a room's JupyterHub, and the
layers between them are in docs/architecture.md, "Layers".

Which chapter each module teaches: docs/architecture.md, "Chapter map" (the one table of chapters).
"""

from foundations.errors import FoundationsError

__all__ = ["FoundationsError"]
