"""Every assumption a plan reports (its JSON's ``assumptions``, by name) is a column of
estimate_many's rows and of a sweep's, ``assumptions_<name>_value``, holding the value
estimate reports for the same inputs: on the columnar path (a device count given) and on the
rows estimate answers itself (a sized cluster, several accelerators)."""

import math
from pathlib import Path

import pytest

import planner
from planner.many import sweep as sweeping
from planner.many.estimate_many import estimate_many

from .test_estimate_many import SCENARIOS, _table

HF = Path(__file__).resolve().parents[1] / "data" / "hf"
# Beside estimate_many's own scenarios: each accelerator's own stack (a TPU MaxText, an H100
# Megatron-Core), a team, a PUE and an energy price given, batches a layout moves or rounds,
# a cluster past the default site's cap, a workload file's defaults.
MORE = [
    dict(params="70B", tokens="2T", gpus=1024, gpu="tpu-v5p"),
    dict(params="70B", tokens="2T", gpus=1024, gpu="mi300x"),
    dict(params="70B", tokens="2T", gpus=1024, team="frontier lab"),
    dict(params="70B", tokens="2T", gpus=1024, pue=1.3, energy_usd_per_kwh=0.05),
    dict(params="70B", tokens="2T", gpus=1000),
    dict(params="70B", tokens="2T", gpus=2048, global_batch="10M"),
    dict(params="2T", tokens="30T", gpus=300000),
    dict(params="70B", tokens="2T", gpus=1024, ownership="owned", site="cheap-power"),
    dict(workload="llama3.1-8b", tokens="1T", gpus=64),
    dict(params="70B", tokens="2T", gpu="tpu-v5p"),  # sized, by estimate itself
    dict(params="1T", tokens="40T"),  # sized past the default site's cap
    dict(params="7B", tokens="1T", gpus=64, uncertainty="true", seed=3),  # estimate's own
    # a Hugging Face config's notes: its sliding window, its multi-token prediction module
    dict(workload=str(HF / "mistral-7b.json"), tokens="1T", gpus=256),
    dict(workload=str(HF / "deepseek-v3.json"), tokens="1T", gpus=2048),
]


def _kinds() -> dict:
    """Each assumption column's kind, by assumption name, as the answer table types it."""
    import pyarrow as pa

    schema = estimate_many(_table([dict(params="7B", tokens="1T", gpus=8)]),
                           progress=False).schema
    kinds = {}
    for field in schema:
        if field.name.startswith("assumptions_") and field.name.endswith("_value"):
            t = field.type
            kinds[field.name[len("assumptions_"):-len("_value")]] = (
                "f8" if pa.types.is_floating(t) else "i8" if pa.types.is_integer(t)
                else "bool" if pa.types.is_boolean(t) else "str")
    return kinds


KINDS = _kinds()


def _as_column(value, kind):
    """A reported value as its column holds it: a number its number, a text its text; a
    value the column's kind cannot hold ("unknown" for a bandwidth) null."""
    if value is None:
        return None
    if kind == "str":
        return str(value)
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if kind == "i8" else float(value)


def _check(row: dict, used: dict, what) -> None:
    for name, entry in used.items():
        assert name in KINDS, f"{name}: reported by estimate, no column ({what})"
        want = _as_column(entry["value"], KINDS[name])
        got = row[f"assumptions_{name}_value"]
        if name == "sizing":  # but the engine that ranked the sizes (the same answers:
            # tests/plan hold the engines to each other): a table's rows use numpy
            want, got = (v.removeprefix("CP-SAT ").removesuffix(", ranked with numpy")
                         for v in (want, got))
        if isinstance(want, float):
            assert got == pytest.approx(want, rel=1e-12), (name, what)
        else:
            assert got == want, (name, what)
    for name in KINDS:  # and nothing estimate leaves out
        if name not in used:
            assert row[f"assumptions_{name}_value"] is None, (name, what)


@pytest.mark.parametrize("scenarios", [SCENARIOS, MORE], ids=["estimate_many's", "more"])
def test_rows_carry_every_assumption_estimate_reports(scenarios):
    rows = estimate_many(_table(scenarios), progress=False).to_pylist()
    for scenario, row in zip(scenarios, rows):
        assert row["error"] is None, (scenario, row["error"])
        _check(row, planner.estimate(**scenario).assumptions, scenario)


def test_assumptions_given_to_the_call_are_columns_too():
    asm = {"gemm_efficiency": 0.8, "restart_s": 300.0, "uncertainty_samples": 1000}
    rows = [dict(params="70B", tokens="2T", gpus=1024), dict(params="70B", tokens="2T")]
    out = estimate_many(_table(rows), assumptions=asm, progress=False).to_pylist()
    for scenario, row in zip(rows, out):
        used = planner.estimate(**scenario, assumptions=asm).assumptions
        assert used["uncertainty_samples"]["value"] == 1000  # reported: given
        _check(row, used, scenario)


def test_a_sweep_over_accelerators_says_which_stack_each_row_ran():
    spec = {"fixed": {"params": "70B", "tokens": "2T"},
            "axes": {"gpu": ["h100-sxm", "tpu-v5p"], "gpus": [1024, 2048]}}
    rows = sweeping.sweep(spec, progress=False).read().to_pylist()
    assert [r["assumptions_framework_value"] for r in rows] == \
        ["megatron-core", "megatron-core", "maxtext", "maxtext"]
    for row in rows:
        _check(row, planner.estimate(params="70B", tokens="2T", gpu=row["gpu"],
                                     gpus=row["gpus"]).assumptions, row["scenario"])
    assert all(math.isfinite(r["assumptions_gemm_efficiency_value"]) for r in rows)


def test_every_name_the_planning_code_reports_has_a_column():
    # a name added to a plan's assumptions table (used["..."] = {...} anywhere in the
    # library) without a column would be left out of every row: declare it in
    # plan/fields.py REPORTED_BESIDE (an Assumptions field has its column already)
    import re
    from pathlib import Path

    root = Path(planner.__file__).parent
    said = re.compile(r'(?:used|mine)\["(\w+)"\]\s*=|used\.setdefault\("(\w+)"|'
                      r'"(\w+)": \{"value"')
    names = set()
    for path in root.rglob("*.py"):
        if path.name == "config.py":  # the command line's config files, not a plan's
            continue
        for found in said.finditer(path.read_text()):
            names.add(next(g for g in found.groups() if g))
    assert len(names) > 30
    assert sorted(names - set(KINDS)) == []


def test_a_value_is_held_as_its_column_holds_it_or_null():
    import numpy as np

    from planner.plan.fields import assumption_cell

    assert assumption_cell("unknown", "f8") is None  # a bandwidth the catalog lacks
    assert assumption_cell(np.float64(2.5), "f8") == 2.5
    assert assumption_cell(16777216.0, "i8") == 16777216
    assert assumption_cell(16777216.5, "i8") is None  # never truncated
    assert assumption_cell(True, "f8") is None and assumption_cell(1, "bool") is None
    assert assumption_cell(np.bool_(False), "bool") is False
    assert assumption_cell(8192, "str") == "8192" and assumption_cell(None, "str") is None
