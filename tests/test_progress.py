"""Progress of long calls (planner/progress.py): a bar on a terminal, nothing when output is
piped or --quiet is given, and a callback for the library."""

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import textwrap

import pytest

import planner
from planner.progress import Progress

SPEC = textwrap.dedent("""
    [fixed]
    tokens = "1T"
    gpu = "h100-sxm"
    layout = "tp=8,pp=1,cp=1,ep=1,mb=1,vp=1,recompute=selective,zero=1"
    [axes]
    params = ["7B", "13B"]
    gpus = [64, 128, 256]
""")
BAR = "scenarios:"  # the bar's description, then its count, rate and time left


def _planner(args: list[str], tty: bool, env: dict) -> str:
    cmd = [sys.executable, "-c", "import cli; cli.main()", *args]
    if not tty:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout + out.stderr
    master, slave = pty.openpty()
    # a terminal has a size (a new pseudo-terminal's is 0 x 0, which leaves a bar no room)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    assert proc.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


@pytest.fixture()
def spec(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    return path


@pytest.fixture()
def env():
    return {**os.environ, "PLANNER_PROGRESS_DELAY_S": "0", "COLUMNS": "100"}


def test_a_bar_on_a_terminal(spec, tmp_path, env):
    out = _planner(["sweep", str(spec), "-o", str(tmp_path / "out")], tty=True, env=env)
    assert BAR in out and "6/6" in out  # scenarios done of the total
    assert "6 scenarios" in out  # and the summary line


def test_no_bar_when_piped_or_quiet(spec, tmp_path, env):
    piped = _planner(["sweep", str(spec), "-o", str(tmp_path / "a")], tty=False, env=env)
    assert BAR not in piped and "6 scenarios" in piped
    quiet = _planner(["sweep", str(spec), "-o", str(tmp_path / "b"), "--quiet"], tty=True,
                     env=env)
    assert BAR not in quiet and "6 scenarios" in quiet


def test_the_library_takes_a_callback_or_false(spec, tmp_path, capsys):
    seen = []
    planner.sweep(str(spec), tmp_path / "out", progress=lambda done, total: seen.append(
        (done, total)))
    assert seen[-1] == (6, 6) and all(t == 6 for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)  # never goes back
    import pyarrow as pa

    rows = []
    table = pa.table({"params": ["7B"] * 3, "tokens": ["1T"] * 3, "gpus": [64, 128, 256]})
    planner.estimate_many(table, progress=lambda d, t: rows.append((d, t)))
    assert rows[-1] == (3, 3)
    planner.estimate_many(table, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_counts_and_stays_silent_off_a_terminal(capsys):
    seen = []
    with Progress(lambda d, t: seen.append((d, t)), 10, "x") as bar:
        bar.update(4)
        bar.total = 12
        bar.update(8)
    assert seen == [(4, 10), (12, 12)]
    with Progress(None, 3, "x") as bar:  # stderr is not a terminal under pytest
        bar.update(3)
    assert bar.bar is None and capsys.readouterr().err == ""


def test_a_progress_that_is_no_switch_or_callable_is_refused():
    # an auditor: estimate_many(..., progress="yes") was taken (as a bar), as it was by every
    # long call; each names it now, with the values it takes
    rows = {"params": ["7B"], "tokens": ["1T"], "gpus": [64]}
    calls = (lambda p: planner.estimate_many(rows, progress=p),
             lambda p: planner.estimate(params="7B", tokens="1T", gpus=64, progress=p),
             lambda p: planner.sweep({"fixed": {k: v[0] for k, v in rows.items()}},
                                     progress=p),
             lambda p: planner.budget(usd="1M", gpu="h100-sxm", progress=p))
    for call in calls:
        for bad in ("yes", 1, "false"):
            with pytest.raises(planner.InputError, match="progress: .* a callable"):
                call(bad)
    seen = []
    planner.estimate_many(rows, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 1)]
    with Progress(False) as off, Progress(None) as quiet:  # stderr is no terminal here
        assert off.bar is None and quiet.bar is None
