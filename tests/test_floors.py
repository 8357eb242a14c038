"""The house stands in floors (docs/architecture.md): each module imports only from its own
floor or the floors below, never up; no module imports another's ``_private`` name; no import
cycle; the library never imports click. An ``ast`` walk of every module, so a new import that
breaks a rule fails here."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "planner"

# Lowest first. A module's floor is the first pattern its dotted name matches.
FLOORS = [
    ("ground", ("planner.units", "planner.errors", "planner.specs", "planner.schema",
                "planner.assumptions", "planner.frameworks", "planner.catalog_schema",
                "planner.catalog_files", "planner.catalog", "planner.config",
                "planner.version", "planner.progress", "planner.tuning", "planner.workers")),
    ("model", ("planner.model", "planner.report", "planner.report_html", "planner.catalog_view",
               "planner.charts")),
    ("plan", ("planner.plan",)),
    ("uses of a plan", ("planner.inverse", "planner.largest_run", "planner.sensitivity",
                        "planner.validate",
                        "planner.calibrate", "planner.references", "planner.whole_runs",
                        "planner.fleet")),
    ("many", ("planner.many",)),
    ("api", ("planner",)),
    ("cli", ("cli",)),
]


def floor_of(module: str) -> int:
    for level, (_, prefixes) in enumerate(FLOORS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return level
    raise AssertionError(f"{module} is on no floor: add it to FLOORS and docs/architecture.md")


def modules() -> dict[str, Path]:
    found = {"cli": ROOT / "cli.py"}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = modules()


def imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import, at any depth."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [a.name for a in node.names]
            # "from . import x" imports the module x when x is a module
            subs = [n for n in names if f"{target}.{n}" in MODULES]
            if subs:
                out += [(f"{target}.{n}", [], node.lineno) for n in subs]
                names = [n for n in names if n not in subs]
            if names or not subs:
                out.append((target, names, node.lineno))
    return out


def internal(target: str) -> str | None:
    """The planner module an import names (or None for third-party and stdlib)."""
    while target:
        if target in MODULES:
            return target
        target = target.rpartition(".")[0]
    return None


EDGES = {name: [(internal(t), names, line) for t, names, line in imports(name, path)]
         for name, path in MODULES.items()}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_go_down_or_across_never_up(name):
    mine = floor_of(name)
    for target, _, line in EDGES[name]:
        if target is None or target == name:
            continue
        assert floor_of(target) <= mine, (
            f"{name} (floor {FLOORS[mine][0]}) imports {target} (floor "
            f"{FLOORS[floor_of(target)][0]}) at line {line}: a lower floor never imports a "
            "higher one")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_private_names_across_modules(name):
    for target, names, line in EDGES[name]:
        if target is None or target == name:
            continue
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{name} imports {private} from {target} at line {line}"


def test_no_import_cycles():
    graph = {n: {t for t, _, _ in EDGES[n] if t and t != n} for n in MODULES}
    # a package's __init__ is imported by its submodules implicitly; only its own imports count
    state: dict[str, int] = {}

    def visit(n, path):
        state[n] = 1
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                cycle = path[path.index(m):] + [m]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if m not in state:
                visit(m, path + [m])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])


def test_the_library_never_imports_click():
    for name in EDGES:
        if name == "cli":
            continue
        assert not any(t == "click" or t.startswith("click.") for t, _, _ in imports(
            name, MODULES[name])), f"{name} imports click: the CLI alone parses"


def test_the_floors_test_sees_a_violation(tmp_path):
    # An upward import and a private name, written into a model module, are both caught.
    path = tmp_path / "fake.py"
    path.write_text("from ..plan.estimate import estimate\nfrom .step import _group_links\n")
    (up, _, _), (across, names, _) = imports("planner.model.fake", path)
    assert internal(up) == "planner.plan.estimate"
    assert floor_of(internal(up)) > floor_of("planner.model.fake")
    assert internal(across) == "planner.model.step" and names == ["_group_links"]
