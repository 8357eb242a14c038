"""Whole-process speed of the command line, beside its floor (issue 15).

    uv run python benchmarks/bench_cli.py

Each command runs as a fresh process, once to warm the disk cache, then REPEAT times; the
median CPU time (user + system, of the process and its children) or wall time is compared:

- `planner estimate --params 1T --tokens 15T` against `python -c "import numpy, pyarrow,
  click, tabulate"` (CPU; target <= 1.5x);
- `planner --help` against `python -c "import click, cli"` (click plus cli.py's own modules;
  CPU; target <= 1.2x);
- `planner budget --usd 1B --deadline 150d --year 2027` against one `planner estimate
  --params 1T --tokens 15T` (wall; target <= 3x).

Python's bytecode is compiled first (compileall), so every command reads cached bytecode, as
an installed package does.
"""

from __future__ import annotations

import compileall
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PLANNER = [PY, "-c", "import cli; cli.main()"]
REPEAT = 7


def measure(cmd: list[str]) -> tuple[float, float]:
    """(median CPU seconds, median wall seconds) of ``cmd`` as a fresh process."""
    subprocess.run(cmd, capture_output=True, cwd=ROOT, check=True)
    cpu, wall = [], []
    for _ in range(REPEAT):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, cwd=ROOT, check=True)
        wall.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return statistics.median(cpu), statistics.median(wall)


def line(name: str, got: float, floor: float, target: float, what: str) -> None:
    ratio = got / floor
    print(f"{name}: {got:.3f} s {what}, floor {floor:.3f} s, {ratio:.2f}x (target <= "
          f"{target:g}x: {'met' if ratio <= target else 'NOT met'})")


def main() -> None:
    compileall.compile_dir(str(ROOT / "planner"), quiet=1)
    compileall.compile_file(str(ROOT / "cli.py"), quiet=1)
    for path in sys.path:
        if path.endswith("site-packages"):
            compileall.compile_dir(path, quiet=1, workers=0)
    floor, _ = measure([PY, "-c", "import numpy, pyarrow, click, tabulate"])
    est_cpu, est_wall = measure([*PLANNER, "estimate", "--params", "1T", "--tokens", "15T"])
    line("planner estimate --params 1T --tokens 15T", est_cpu, floor, 1.5, "CPU")
    click_floor, _ = measure([PY, "-c", "import click, cli"])
    help_cpu, _ = measure([*PLANNER, "--help"])
    line("planner --help", help_cpu, click_floor, 1.2, "CPU")
    _, budget_wall = measure([*PLANNER, "budget", "--usd", "1B", "--deadline", "150d",
                              "--year", "2027"])
    line("planner budget --usd 1B --deadline 150d --year 2027", budget_wall, est_wall, 3.0,
         "wall (floor: one estimate)")


if __name__ == "__main__":
    main()
