"""API Foundations in Python: the package the notebooks call (start at notebooks/00_index.ipynb).

Lesson modules sit at the top, one concept each; ``course/`` holds the tutorial machinery (exercise checks,
notebook setup, navigation, re-execution) and ``ops/`` the services and processes (docs/architecture.md).

====  ==========================  ==========================================================
 NN   chapter                     lesson modules
====  ==========================  ==========================================================
 01   Setting up your environment ``ops.services``, ``ops.probe``, ``ops.daemons``
 02   Data structures             (examples in the notebook)
 03   Organizing your code        ``timer``
 04   Encoding and decoding JSON  ``encoding``, ``pets``
 05   Serving HTTP requests       ``web``, ``routing``, ``server``
 06   Parallel fetching of data   ``fetch``, ``fullname``
 07   Redis                       ``redisdb``, ``redispool``
 08   MySQL                       ``mysqldb``
 09   Test-driven API development ``registry``, ``course.testing``
 10   Your first API              ``api``, ``apispec``, ``perthread``, ``bench``, ``profiling``
 11   Running in production       ``config``, ``metrics``, ``production``, ``build``
====  ==========================  ==========================================================
"""

from foundations.errors import FoundationsError

__all__ = ["FoundationsError"]
