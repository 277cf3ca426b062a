"""The public OpenEnv (``openenv==0.10.0``), installed in its own virtual environment.

Its package is also named ``openenv``, so it can never share an interpreter with
ours: tests and benchmarks run it as a separate Python process.
"""

from .venv import REFERENCE_VERSION, reference_python

__all__ = ["REFERENCE_VERSION", "reference_python"]
