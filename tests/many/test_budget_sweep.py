"""Budget sweeps (mode = "budget"): one row per scenario, each the answer planner.budget gives
for its inputs, monotone across budgets and years, with a forward sweep's guarantees (parts and
manifest, resume, worker processes, Dask, units, bad rows reported per row)."""

import json
import math
import os

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import cli
import planner
from planner import inverse
from planner.many import sweep as sweeping
from planner.plan.options import shared_searches
from planner.report import flatten

# Sized clusters (the planner chooses the device count): 2 budgets x 2 years.
SIZED = {"mode": "budget", "fixed": {"gpu": "h100-sxm", "tolerance": 0.1},
         "axes": {"usd": ["20M", "40M"], "year": [2026, 2027]}}
# A fixed fleet of 1,024 devices (no sizing, so each row takes ~0.2 s): 3 budgets x 4 years.
FLEET = {"mode": "budget", "fixed": {"gpu": "h100-sxm", "gpus": 1024, "tolerance": 0.1},
         "axes": {"usd": ["2M", "5M", "10M"], "year": [2025, 2026, 2027, 2028]}}
VOLATILE = ("sizing_",)  # the solver's wall time is not an answer


def _inputs(spec: dict, row: dict) -> dict:
    return {**spec["fixed"], **{k: row[k] for k in spec["axes"]}}


@pytest.fixture(scope="module")
def sized(tmp_path_factory):
    out = tmp_path_factory.mktemp("budget") / "sweep"
    result = sweeping.sweep(SIZED, out)
    return out, result, sweeping.read(out).to_pylist()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    out = tmp_path_factory.mktemp("fleet") / "sweep"
    result = sweeping.sweep(FLEET, out, chunk_rows=3)
    return out, result, sweeping.read(out)


def test_one_row_per_scenario_with_units_and_manifest(sized):
    out, result, rows = sized
    assert result.scenarios == 4 and result.written == result.parts
    assert [r["scenario"] for r in rows] == [0, 1, 2, 3]
    assert [(r["usd"], r["year"]) for r in rows] == [(20e6, 2026), (20e6, 2027),
                                                     (40e6, 2026), (40e6, 2027)]
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["complete"] and manifest["spec"]["mode"] == "budget"
    schema = pq.read_schema(out / "part-00000.parquet")
    units = {n: schema.field(n).metadata[b"unit"].decode() for n in schema.names}
    assert units["usd"] == "USD" and units["year"] == "year"
    assert units["inverse_params"] == "parameters" and units["inverse_model_flops"] == "FLOP"
    assert units["cost_usd_total"] == "USD" and units["training_days"] == "days"
    assert all(r["error"] is None and r["feasible"] for r in rows)


def _same_as_direct(row: dict, direct) -> None:
    """Every column of the row that ``planner budget --format json`` has, equal to it."""
    flat = flatten(direct.to_dict())
    compared = 0
    for key, value in flat.items():
        if key not in row or key.startswith(VOLATILE):
            continue
        compared += 1
        if isinstance(value, float):
            assert row[key] == pytest.approx(value, rel=1e-12), key
        else:
            assert row[key] == value, key
    assert compared > 80
    # every key of the JSON but the option tables (and the unset P10-P90) is a column
    missing = [k for k, v in flat.items() if k not in row and v is not None and not
               k.startswith(("assumptions_", "alternatives", "sizing_"))]
    assert not missing


def test_rows_are_planner_budgets_answers(sized, fleet):
    # sized clusters: the last scenario, called directly, with searches of its own
    row = sized[2][-1]
    with shared_searches({}):
        _same_as_direct(row, planner.budget(**_inputs(SIZED, row)))
    # a fixed fleet (quick): every scenario, each call on its own, so every row is checked
    for row in fleet[2].to_pylist():
        _same_as_direct(row, planner.budget(**_inputs(FLEET, row)))


def test_more_money_and_later_years_never_buy_less(sized, fleet):
    for rows in (sized[2], fleet[2].to_pylist()):
        by = {(r["usd"], r["year"]): r for r in rows}
        budgets = sorted({u for u, _ in by})
        years = sorted({y for _, y in by})
        for y in years:  # more money never a smaller run, never over budget
            runs = [by[u, y]["inverse_model_flops"] for u in budgets]
            assert runs == sorted(runs)
            assert all(by[u, y]["cost_usd_total"] <= u for u in budgets)
        for u in budgets:  # a later year: the same run never costs more, so it buys more
            price = [by[u, y]["assumptions_price_per_gpu_hour_value"] for y in years]
            per_flop = [by[u, y]["cost_usd_total"] / by[u, y]["model_flops"] for y in years]
            runs = [by[u, y]["inverse_model_flops"] for y in years]
            assert price == sorted(price, reverse=True)
            assert all(b <= a * (1 + 1e-9) for a, b in zip(per_flop, per_flop[1:]))
            assert runs == sorted(runs)


def test_fleet_rows_hold_the_fleet_and_the_rule(fleet):
    table = fleet[2]
    assert table.num_rows == 12 and set(table.column("cluster_gpus").to_pylist()) == {1024}
    for r in table.to_pylist():
        assert r["inverse_tokens"] == pytest.approx(20 * r["inverse_params"])
        assert r["inverse_limits_gpus"] == 1024 and r["inverse_limits_usd"] == r["usd"]
        assert r["binding"] == "budget"
        considered = json.loads(r["inverse_considered"])
        assert [c["accelerator"] for c in considered] == ["h100-sxm"]


def test_resume_completes_a_damaged_budget_sweep(fleet, tmp_path):
    out = tmp_path / "resumed"
    sweeping.sweep(FLEET, out, chunk_rows=3)
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["chunk_rows"] == 3 and len(manifest["parts"]) == 4
    del manifest["parts"]["part-00002.parquet"]
    manifest["complete"] = False
    (out / "_manifest.json").write_text(json.dumps(manifest))
    (out / "part-00002.parquet").write_bytes(b"PAR1 torn")
    (out / "part-00001.parquet").unlink()
    with pytest.raises(sweeping.OutputError, match="--resume"):
        sweeping.sweep(FLEET, out, chunk_rows=3)
    result = sweeping.sweep(FLEET, out, chunk_rows=3, resume=True)
    assert (result.kept, result.written) == (2, 2)
    assert sorted(os.listdir(out)) == ["_manifest.json"] + [f"part-{k:05d}.parquet"
                                                            for k in range(4)]
    assert sweeping.read(out).equals(fleet[2])


def test_worker_processes_and_dask_give_the_same_rows(fleet, tmp_path):
    # two chunks each: the processes' start-up, not the rows, is what these runs cost
    result = sweeping.sweep(FLEET, tmp_path / "workers", chunk_rows=6, workers=2)
    assert result.written == 2
    assert sweeping.read(tmp_path / "workers").to_pylist() == fleet[2].to_pylist()
    pytest.importorskip("dask.distributed")
    result = sweeping.sweep(FLEET, tmp_path / "dask", chunk_rows=6, dask="local")
    assert result.written == 2
    assert sweeping.read(tmp_path / "dask").to_pylist() == fleet[2].to_pylist()


def test_bad_rows_are_reported_per_row():
    spec = {"mode": "budget", "fixed": {"gpus": 256, "tolerance": 0.2, "deadline": "30d"},
            "axes": {"gpu": ["b200", "h100-sxm"], "year": [2021, 2026]}}
    rows = sweeping.sweep(spec).table.to_pylist()
    assert len(rows) == 4
    bad = [r for r in rows if r["error"] is not None]
    assert [(r["gpu"], r["year"]) for r in bad] == [("b200", 2021), ("h100-sxm", 2021)]
    assert all("--year" in r["error"] and r["feasible"] is None and
               r["inverse_params"] is None for r in bad)
    good = [r for r in rows if r["error"] is None]
    assert all(r["feasible"] and r["cluster_gpus"] == 256 for r in good)
    # no limit at all: budget's own message, on every row
    rows = sweeping.sweep({"mode": "budget", "axes": {"gpu": ["h100-sxm"]}}).table.to_pylist()
    assert "at least one limit" in rows[0]["error"]


def test_budget_spec_errors_name_the_mode_and_input():
    cases = [({"mode": "inverse", "axes": {"usd": ["1M"]}}, r"mode.*\"budget\""),
             ({"axes": {"usd": ["1M"]}}, r"\[axes\] usd.*mode = \"budget\""),
             ({"mode": "budget", "axes": {"layout": ["tp=8"]}}, r"layout.*mode = \"estimate\""),
             ({"mode": "budget", "axes": {"usd": ["lots"]}}, r"\[axes\] usd.*'lots'"),
             ({"mode": "budget", "fixed": {"year": 2026.5}, "axes": {"usd": ["1M"]}},
              r"\[fixed\] year"),
             ({"mode": "budget", "fixed": {"tolerance": 2}, "axes": {"usd": ["1M"]}},
              r"\[fixed\] tolerance"),
             ({"mode": "budget", "axes": {"gpu": ["h100-sxn"]}}, r"\[axes\] gpu.*h100-sxm")]
    for spec, pattern in cases:
        with pytest.raises(sweeping.SpecError, match=pattern):
            sweeping.sweep(spec)


def test_estimate_specs_keep_their_hash():
    """A spec without mode is the estimate sweep it always was: same dict, same hash, so a
    sweep started before budget mode existed still resumes."""
    spec = sweeping.load_spec({"axes": {"params": ["7B"], "gpus": [64]}})
    assert spec.mode == "estimate" and "mode" not in spec.to_dict()
    same = sweeping.load_spec({"mode": "estimate", "axes": {"params": ["7B"], "gpus": [64]}})
    assert same.sha256 == spec.sha256


def _cli_sweep(tmp_path, text: str) -> tuple[str, list[dict]]:
    """`planner sweep` of a spec with ``text`` into tmp_path/out: its output and rows."""
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    r = CliRunner().invoke(cli.app, ["sweep", str(spec), "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    return r.output, sweeping.read(tmp_path / "out").to_pylist()


def test_cli_budget_sweep(tmp_path):
    output, rows = _cli_sweep(tmp_path, 'mode = "budget"\n[fixed]\ngpu = "h100-sxm"\n'
                              'gpus = 512\ntolerance = 0.2\n[axes]\ndeadline = ["20d", "40d"]\n')
    assert "2 scenarios" in output
    assert rows[0]["inverse_model_flops"] < rows[1]["inverse_model_flops"]
    assert all(r["training_days"] <= r["deadline"] / 86400 + 1e-9 for r in rows)
    spec = tmp_path / "reverse.toml"
    spec.write_text('mode = "reverse"\n[axes]\nusd = ["1M"]\n')
    bad = CliRunner().invoke(cli.app, ["sweep", str(spec), "-o", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "mode" in bad.output and "Traceback" not in bad.output


def test_inverse_fields_cover_the_inverse_block():
    """inverse.BUDGET_FIELDS names every key of BudgetAnswer.to_dict's inverse block, flattened."""
    answer = inverse.budget(gpus=64, gpu="h100-sxm", deadline="5d", params="1B", tolerance=0.5)
    keys = {k for k in flatten(answer.to_dict()) if k.startswith("inverse_")}
    assert keys == {name for name, _, _ in inverse.BUDGET_FIELDS}
    assert not math.isnan(answer.tokens)


def test_budget_sweep_of_mixtures_of_experts(tmp_path):
    # experts, top_k and shared_experts are budget inputs too (planner budget --experts): a
    # row per expert count, each the answer planner.budget gives for it
    _, rows = _cli_sweep(tmp_path, 'mode = "budget"\n[fixed]\ngpu = "h100-sxm"\nusd = "5M"\n'
                         'tokens = "5T"\ntop_k = 4\ntolerance = 0.2\n[axes]\n'
                         'experts = [16, 64]\n')
    assert [r["workload_experts"] for r in rows] == [16, 64]
    for row in rows:
        one = inverse.budget(usd="5M", tokens="5T", gpu="h100-sxm", experts=row["experts"],
                             top_k=4, tolerance=0.2)
        assert row["inverse_params"] == pytest.approx(one.params, rel=1e-9)
    assert rows[0]["inverse_params"] < rows[1]["inverse_params"]  # more experts, more total


def test_an_unknown_accelerator_in_a_list_is_the_one_named():
    # the whole list had been "not a known accelerator", not which of its keys
    with pytest.raises(sweeping.SpecError, match="names 'nope', not a known accelerator"):
        planner.sweep({"mode": "budget", "fixed": {"usd": "1M"},
                       "axes": {"gpu": [["b200", "nope"]]}})
