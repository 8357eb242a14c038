"""docs/interface.md describes the whole interface: its table of answer columns is generated
from plan/fields.py and must be current (regenerate: `uv run python tests/test_interface_doc.py`),
and every flag, JSON key, budget column, fleet key and exit status the code has is named in it."""

import re
from pathlib import Path

import click
import pytest

import cli
import planner
from planner import inverse
from planner.fleet import spec as fleet_spec
from planner.many.scenarios import context

DOC = Path(__file__).resolve().parent.parent / "docs" / "interface.md"
START = "<!-- columns:start (generated from planner/plan/fields.py: uv run python " \
        "tests/test_interface_doc.py) -->"
END = "<!-- columns:end -->"
KINDS = {"f8": "float", "i8": "int", "str": "text", "bool": "bool"}


def columns() -> list[tuple[str, str, str]]:
    return context(None, None).fields


def render() -> str:
    rows = ["| column | type | unit |", "|---|---|---|"]
    rows += [f"| `{name}` | {KINDS[kind]} | {unit} |" for name, kind, unit in columns()]
    return "\n".join([START, *rows, END])


def current(text: str) -> str:
    return re.sub(re.escape(START) + ".*?" + re.escape(END), lambda m: render(), text,
                  flags=re.S)


def test_the_columns_table_is_current():
    text = DOC.read_text()
    assert START in text and END in text
    assert text == current(text), \
        "docs/interface.md is stale: run python tests/test_interface_doc.py"


def test_every_estimate_and_budget_flag_is_documented():
    text = DOC.read_text()
    for name in ("estimate", "budget"):
        for p in cli.app.commands[name].params:
            if isinstance(p, click.Option):
                for opt in p.opts:
                    if opt.startswith("--"):
                        assert f"`{opt}" in text or f" {opt}" in text, (name, opt)


def test_every_json_key_is_documented():
    text = DOC.read_text()
    plan = planner.estimate(params="8B", tokens="1T", power_cap="2MW").to_dict()
    keys = set(plan) | set(plan["workload"]) | set(plan["cluster"]) | set(plan["layout"])
    keys |= set(plan["time_breakdown_s"]) | set(plan["memory_breakdown_gb"])
    keys |= set(plan["cost_usd"]) | set(plan["reliability"]) | set(plan["sizing"])
    keys |= set(plan["sizing"]["limits"]) | set(plan["sizing"]["options"])
    for key in sorted(keys):
        assert f"`{key}`" in text, key


@pytest.mark.parametrize("name", [c[0] for c in inverse.BUDGET_FIELDS])
def test_every_budget_column_is_documented(name):
    assert f"`{name}`" in DOC.read_text()


def test_fleet_keys_exit_statuses_and_config_are_documented():
    text = DOC.read_text()
    keys = set(fleet_spec.SCHEMA.keys)
    for table in (fleet_spec.SITE, fleet_spec.RUN, fleet_spec.SOLVER):
        keys |= set(table.keys)
    for key in keys:
        assert f"`{key}`" in text, key
    for status in ("| 0 |", "| 1 |", "| 2 |"):
        assert status in text
    for word in ("PLANNER_CONFIG", "planner.toml", "XDG_CONFIG_HOME", "[assumptions]",
                 "_PLANNER_COMPLETE", "config.json", '"exit_status"'):
        assert word in text, word


if __name__ == "__main__":
    DOC.write_text(current(DOC.read_text()))
    print(f"wrote {DOC}")
