"""The version of planner, in one place (pyproject reads it; manifests and sweeps record it)."""

__version__ = "0.1.0"
