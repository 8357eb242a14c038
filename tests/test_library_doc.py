"""docs/library.md runs: every ```python block, in order, in one namespace (the worked finance
example's assertions included)."""

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "library.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_library_doc_runs(tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)  # the sweep example writes its directory here
    code = blocks()
    assert len(code) >= 6
    namespace: dict = {"__name__": "library_doc"}
    for i, block in enumerate(code):
        try:
            exec(compile(block, f"{DOC.name} block {i + 1}", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - say which block failed
            raise AssertionError(f"docs/library.md python block {i + 1} fails: "
                                 f"{type(exc).__name__}: {exc}\n{block}") from exc
    assert (tmp_path / "what-if" / "_manifest.json").exists()
