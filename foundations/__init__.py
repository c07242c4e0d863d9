"""API Foundations in Python: the package the notebooks call (see notebooks/00_index.ipynb)."""

from foundations.errors import FoundationsError

__all__ = ["FoundationsError"]
