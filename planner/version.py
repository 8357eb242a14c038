"""The version of planner, in one place (pyproject reads it; manifests and sweeps record it)."""

__version__ = "0.1.0"


def code_fingerprint() -> str:
    """A digest of the planner package's source (every .py under planner/, by relative path):
    what a resumed sweep or a Dask worker must share with the run that began it, since model
    code and default assumptions change answers while the version string stays (a sweep
    resumed on edited code had mixed two models' rows without a word)."""
    global _CODE_FINGERPRINT
    if _CODE_FINGERPRINT is None:
        import hashlib
        from pathlib import Path

        root = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for path in sorted(root.rglob("*.py")):
            h.update(path.relative_to(root).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
        _CODE_FINGERPRINT = h.hexdigest()[:16]
    return _CODE_FINGERPRINT


_CODE_FINGERPRINT: str | None = None
