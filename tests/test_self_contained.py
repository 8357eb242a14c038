"""The repository stands alone: no source, comment or document cites a file a user does not
have (the team's working notes), and every catalog figure names its public original."""

import re
from pathlib import Path

from planner.catalog import KINDS
from planner.catalog_files import read_toml

ROOT = Path(__file__).resolve().parent.parent
# Files of the team's notes that never ship, and the team's contract page.
NOT_SHIPPED = re.compile(r"runs\.csv|accelerators\.csv|networks\.csv|power_cost\.md|"
                         r"reliability\.md|efficiency\.md|realisation\.md|shared/|CONTRACT")
WHERE = ["hardware", "workloads", "planner", "docs", "examples", "README.md", "cli.py"]


def shipped_text_files():
    for name in WHERE:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            if f.suffix in (".py", ".md", ".toml", ".json", ".ipynb", ".txt", ".sh"):
                yield f


def test_nothing_cites_a_file_that_does_not_ship():
    hits = [f"{f.relative_to(ROOT)}:{n}: {line.strip()[:80]}"
            for f in shipped_text_files()
            for n, line in enumerate(f.read_text().splitlines(), 1) if NOT_SHIPPED.search(line)]
    assert not hits, "\n".join(hits)


def _sources(data, where=""):
    if isinstance(data, dict):
        if "value" in data or ("source" in data and "as_of" in data):
            yield where, data.get("source")
        for k, v in data.items():
            if isinstance(v, (dict, list)):
                yield from _sources(v, f"{where}.{k}" if where else k)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _sources(v, f"{where}[{i}]")


def test_every_catalog_figure_names_a_source():
    checked = 0
    for folder in KINDS.values():
        for path in sorted((ROOT / folder).glob("*.toml")):
            for where, source in _sources(read_toml(path)):
                assert source and len(str(source).strip()) >= 8, f"{path.name}: {where}"
                checked += 1
    assert checked > 500


def test_every_example_is_exercised():
    """Each file in examples/ is run by a test: named in README.md (whose commands
    tests/test_readme.py runs) or in a test module."""
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("*.py"))
    readme = (ROOT / "README.md").read_text()
    examples = [p for p in (ROOT / "examples").rglob("*") if p.is_file()
                and ".ipynb_checkpoints" not in p.parts and "what-if-sweep" not in p.parts]
    assert len(examples) >= 4
    for path in examples:
        rel = path.relative_to(ROOT).as_posix()
        named = rel in readme or path.name in tests or rel in tests
        assert named, f"{rel} is exercised by no test"
