"""The CLI reference in docs/cli.md is generated from the commands and must match them
(regenerate: `uv run python tests/test_docs.py`); README's commands run in tests/test_readme.py."""

from pathlib import Path

import click
from click.testing import CliRunner

import cli

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def _walk(cmd: click.Command, path: list[str]):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            yield from _walk(cmd.commands[name], path + [name])


def render() -> str:
    out = ["# Command-line reference", "",
           "Generated from the commands (`uv run python tests/test_docs.py`); "
           "a test checks it is current.", ""]
    runner = CliRunner()
    for path, _ in _walk(cli.app, []):
        r = runner.invoke(cli.app, path + ["--help"], terminal_width=100)
        out += [f"## planner {' '.join(path)}".rstrip(), "", "```",
                r.output.replace("Usage: app", "Usage: planner").rstrip(), "```", ""]
    return "\n".join(out)


def test_cli_reference_is_current():
    assert DOC.read_text() == render(), "docs/cli.md is stale: run python tests/test_docs.py"


if __name__ == "__main__":
    DOC.write_text(render())
    print(f"wrote {DOC}")
