"""README's commands run as pasted: every line of its ```sh blocks and its `$ ` examples
(continuations joined, comments dropped), from a working directory laid out like the checkout,
exits 0; its Python block runs; the shell-completion line installs a completion in bash."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# Lines that are not planner's to run: installing uv, and the test suite itself.
NOT_OURS = ("pip install", "uv run pytest")


def shell_lines() -> list[str]:
    text = README.read_text()
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.strip().startswith("#"):
                lines.append(line.strip())
    lines += re.findall(r"^    \$ (.*)$", text, flags=re.M)
    return lines


def planner_lines() -> list[str]:
    return [x for x in shell_lines() if not x.startswith(NOT_OURS) and not x.startswith("eval")]


def parse(line: str) -> tuple[dict, list[str]]:
    """(environment, planner's arguments) of a README command line."""
    words = shlex.split(line, comments=True)
    assert "|" not in words and ";" not in words, f"a shell pipe or list in README: {line}"
    env = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    if words[:2] == ["uv", "run"]:
        words = words[2:]
    assert words and words[0] == "planner", f"not a planner command: {line}"
    return env, words[1:]


def test_readme_has_the_commands():
    lines = planner_lines()
    assert len(lines) >= 15
    assert "uv run planner estimate --params 1T --tokens 15T" in shell_lines()
    for command in ("estimate", "budget", "schedule", "sweep", "validate", "hardware list",
                    "hardware show", "workloads list", "workloads show", "config show"):
        assert any(" ".join(parse(x)[1]).startswith(command) for x in lines), command


def validate_lines() -> list[str]:
    """README's `planner validate` lines: run by tests/test_validation.py, on the pytest-xdist
    worker that computes the validation once for its own tests (validate.run's answer is kept
    per process)."""
    return [x for x in planner_lines() if parse(x)[1][:1] == ["validate"]]


@pytest.fixture
def checkout_dir(tmp_path, monkeypatch):
    """A working directory with the checkout's examples/ and workloads/ (outputs land here)."""
    for name in ("examples", "workloads"):
        shutil.copytree(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def other_lines() -> list[str]:
    """README's planner lines but its `planner validate` ones (validate_lines)."""
    validating = set(validate_lines())
    return [x for x in planner_lines() if x not in validating]


@pytest.mark.parametrize("line", other_lines(), ids=lambda x: x[:70])
def test_readme_command_runs(line, checkout_dir, monkeypatch, capsys):
    runs_as_pasted(line, checkout_dir, monkeypatch, capsys)


def runs_as_pasted(line, checkout_dir, monkeypatch, capsys):
    """The README line exits 0, prints, and writes the files it names."""
    env, args = parse(line)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    out = capsys.readouterr()
    assert exc.value.code == 0, f"{line}\n{out.err}"
    assert out.out.strip(), line
    for i, a in enumerate(args):   # the files a command was asked to write are there
        if a in ("--plot", "--gantt", "-o"):
            assert (checkout_dir / args[i + 1]).exists(), line


def test_readme_python_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})


def test_readme_completion_line_installs_a_completion():
    line = next(x for x in shell_lines() if x.startswith("eval"))
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "planner").exists() or not shutil.which("bash"):
        pytest.skip("the planner script or bash is not installed here")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = subprocess.run(["bash", "-c", f"{line.split('#')[0]}\ncomplete -p planner"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "planner" in out.stdout and "-F" in out.stdout


def test_readme_plan_block_is_the_tools_answer():
    # README quotes `planner estimate --params 1T --tokens 15T` (its long lines cut at
    # " ..."): held to the tool's answer, as docs/scheduling.md's quote is (its days had read
    # "119 d expected" after the table took one decimal)
    from click.testing import CliRunner

    block = README.read_text().split("    $ uv run planner estimate --params 1T --tokens 15T\n",
                                     1)[1].split("\n\n", 1)[0]
    quoted = [line[4:] for line in block.splitlines()]
    r = CliRunner().invoke(cli.app, ["estimate", "--params", "1T", "--tokens", "15T", "-q"])
    assert r.exit_code == 0, r.output
    shown = [line for line in r.stdout.splitlines() if line][:len(quoted)]
    assert len(quoted) > 15 and len(shown) == len(quoted)
    for q, line in zip(quoted, shown):
        assert line.startswith(q[:-4]) if q.endswith(" ...") else line == q, (q, line)
