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


def test_the_scheduling_docs_quote_is_the_tools_answer():
    # docs/scheduling.md quotes an infeasible plan's reason: it had gone stale (140.9 days)
    import re

    import planner

    plan = planner.estimate(params="1T", tokens="15T", gpu="b200", power_cap="30MW",
                            deadline="60d")
    quoted = (DOC.parent / "scheduling.md").read_text().split("status  INFEASIBLE: ", 1)[1]
    quoted = re.sub(r"\s+", " ", quoted.split("\n\n", 1)[0]).strip()
    assert quoted == plan.reason


def test_the_interface_docs_fleet_example_is_a_fleet_spec_as_written():
    # was: keys joined by ";", which TOML does not allow
    import tomllib

    from planner.fleet.spec import load

    text = (DOC.parent / "interface.md").read_text().split("## Fleet spec", 1)[1]
    block = "\n".join(line[4:] for line in text.split("\n\n")[2].splitlines())
    spec = load(tomllib.loads(block))
    assert [r.name for r in spec.runs] == ["frontier"] and spec.sites[0].name == "texas"


if __name__ == "__main__":
    DOC.write_text(render())
    print(f"wrote {DOC}")
