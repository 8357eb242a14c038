"""A command imports what it needs when it needs it: `import planner`, `planner --help` and a
plain estimate (a deadline at most, one accelerator, no chart) load no solver (OR-Tools, which
brings pandas), no graph library, no plotting and no cluster scheduler; a plan under limits
loads the solver. Each case runs in a fresh interpreter, so earlier tests cannot mask it."""

import subprocess
import sys

import pytest

HEAVY = ("ortools", "networkx", "pandas", "matplotlib", "dask", "distributed")


def loaded_after(code: str) -> set[str]:
    probe = (f"import sys\n{code}\n"
             f"print('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules), "
             "file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stderr.splitlines() if x.startswith("LOADED:"))
    return set(filter(None, line[len("LOADED:"):].split(",")))


@pytest.mark.parametrize("code", [
    "import planner",
    "import cli",
    "import planner; planner.estimate(params='1T', tokens='15T')",
    "import planner; planner.estimate(params='70B', tokens='2T', deadline='60d')",
    "import planner; planner.estimate(params='8B', tokens='1T', gpus=256)",
    "import planner; from planner import report; "
    "report.plan_table(planner.estimate(params='8B', tokens='1T').to_dict())",
    "import cli\ntry:\n    cli.main(['estimate', '--params', '1T', '--tokens', '15T'])\n"
    "except SystemExit:\n    pass",
    "import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass",
])
def test_plain_paths_load_no_heavy_library(code):
    assert loaded_after(code) == set()


def test_a_plan_under_limits_loads_the_solver():
    code = "import planner; planner.estimate(params='8B', tokens='1T', power_cap='5MW')"
    assert "ortools" in loaded_after(code)
