"""Golden tests: predictions against published runs (the [[reference]] rows of workloads/*.toml
and the public sources of workloads/measurements/*.toml).

Throughput is checked two ways (issue #13, docs/validation.md): in-sample, with the shipped
constants (fitted on every row), and leave-one-source-out, each row predicted with the constants
fitted without its source. The limits are planner/validate.py's.
The whole runs are predicted with planning-time inputs and scored by leave-one-out, since the
realisation residual is fitted on them (planner/model/realisation.py); their limits are
validate.WHOLE_RUN_*.
"""

import math

import pytest

import planner
from planner import calibrate, validate
from tests.test_readme import checkout_dir, runs_as_pasted, validate_lines  # noqa: F401

RESULT = None


def result():
    global RESULT
    if RESULT is None:
        RESULT = validate.run(planner.catalog())
    return RESULT


def rows(kind):
    return {r["row_id"]: r for r in result()["rows"] if r["kind"] == kind}


def throughput():
    return result()["summary"]["throughput"]


@pytest.mark.parametrize("line", validate_lines())
def test_readme_validate_line_runs(line, checkout_dir, monkeypatch, capsys):  # noqa: F811
    # README's own line, here beside the tests that compute the validation (pyproject's
    # addopts: --dist loadfile), so one worker computes it once
    result()
    runs_as_pasted(line, checkout_dir, monkeypatch, capsys)


def test_no_published_row_is_refused_by_the_layout_checks():
    # every throughput row is predicted (none refused by the layout checks of
    # planner/model/layouts.py; a TPU slice of tp=12 on a 4096-device domain still plans)
    got = result()["rows"]
    assert got and not [r for r in got if "cannot lay out" in (r.get("note") or "")]


def test_throughput_rows_cover_sources_families_and_stacks():
    s = throughput()
    assert s["rows"] >= validate.THROUGHPUT_MIN_ROWS
    assert not s["unpredicted"] and not s["loso_unpredicted"]
    assert s["families"] >= validate.FAMILIES_MIN  # architecture generations, >= 3 rows each
    # by vendor product line too (TPU generations as one): at least six
    lines = {f if f.startswith(("NVIDIA", "AMD")) else " ".join(f.split()[:2])
             for f, v in result()["families"].items() if v["rows"] >= validate.FAMILY_MIN_ROWS}
    assert len(lines) >= 6, lines
    assert len(s["stacks"]) >= 4 and s["sources"] >= 10


def test_leave_one_source_out_mape_within_limit_and_beats_baseline():
    s = throughput()
    assert s["loso_mape_pct"] <= validate.LOSO_MAPE_LIMIT
    assert s["loso_mape_pct"] < s["baseline_mape_pct"] / 2
    assert s["worst_source_loso_pct"] <= validate.SOURCE_MAPE_LIMIT
    for key, group in result()["groups"].items():
        if key.startswith("throughput:"):
            assert group["loso_mape_pct"] <= validate.SOURCE_MAPE_LIMIT, key


def test_leave_one_family_out_mape_within_limit():
    # each accelerator family predicted with the constants fitted on the other families: what a
    # plan on hardware no published row measures can expect (docs/validation.md)
    s = throughput()
    assert s["lofo_mape_pct"] <= validate.LOFO_MAPE_LIMIT
    assert s["worst_family_lofo_pct"] <= validate.SOURCE_MAPE_LIMIT
    families = result()["families"]
    assert all(v["lofo_mape_pct"] is not None for v in families.values())
    # a family's fold never sees its rows: a family alone in its vendor's line (Trainium1,
    # Gaudi 2) reads its held-out error, not its in-sample one
    rows = [r for r in result()["rows"] if r["kind"] == "throughput" and not r["unscored"]]
    gaudi = [r for r in rows if r["family"] == "Intel Gaudi 2"]
    assert gaudi and all(r["lofo"] != r["predicted"] for r in gaudi)


def test_leave_one_maker_out_is_reported_and_held_to_its_limit():
    # every family of a maker held out: the figure for a maker no row measures (AMD had none
    # until MLPerf's MI355X row, whose global batch its log prints)
    s = throughput()
    assert s["lovo_mape_pct"] <= validate.LOVO_MAPE_LIMIT
    assert set(s["vendors"]) == {"AMD", "AWS", "Google", "Intel", "NVIDIA"}
    assert s["lovo_mape_pct"] > s["lofo_mape_pct"]  # a new maker is harder than a generation
    rows = [r for r in result()["rows"] if r["kind"] == "throughput" and not r["unscored"]]
    assert all(r["lovo_error_pct"] is not None for r in rows)


def test_the_whole_run_spreadsheet_gets_the_planners_nested_machinery_too():
    # 6ND's multiplier fitted by the same nested rule (grouping by team chosen in each fold):
    # the fair comparison, reported beside the planner's figures (docs/validation.md)
    w = result()["summary"]["whole_run"]
    nested = w["baseline_nested"]
    assert set(nested) == {"mape_pct", "worst_pct", "inside_p10_p90_pct", "median_p90_p10"}
    assert nested["mape_pct"] < w["baseline_fitted_mape_pct"] + 1.0
    assert w["median_p90_p10"] < nested["median_p90_p10"]  # the planner's ranges are narrower


def test_in_sample_mape_within_limit():
    s = throughput()
    assert s["mape_pct"] <= validate.THROUGHPUT_MAPE_LIMIT
    assert s["mape_pct"] < s["baseline_mape_pct"] / 2


@pytest.mark.xfail(strict=True, reason="issue #13 asks <= 6% in-sample; the shipped fit reaches "
                   "THROUGHPUT_MAPE_LIMIT (docs/validation.md, what is left): when this passes, "
                   "lower the limit")
def test_in_sample_mape_meets_the_issue_target():
    assert throughput()["mape_pct"] <= 6.0


def test_shipped_constants_are_the_fit_on_every_row():
    # the constants in planner/assumptions.py are the in-sample fit (no coordinate of the grid
    # improves the MAPE), and the fit scores exactly as planner.estimate plans
    assert result()["fitted"]["all"] == calibrate.shipped()
    assert throughput()["grid_vs_estimate_pct"] < 0.1
    held_out = [v for k, v in result()["fitted"].items() if k != "all"]
    assert any(v != calibrate.shipped() for v in held_out)  # fits without a source differ


@pytest.mark.parametrize("row_id, published, tol", [
    # Narayanan et al. 2021 (SC21) Table 1, TFLOP/s per A100 counting recompute (eq. 3)
    ("megatron21-t1-1.7B", 137, 0.06),
    # -7.5% since sequence parallelism is modelled: Megatron-LM 2021 ran the norms and
    # dropout whole on each of its 8 tensor-parallel ranks, which weighs most at small hidden
    # sizes (docs/validation.md, what moved the throughput rows)
    ("megatron21-t1-18.4B", 135, 0.08),
    ("megatron21-t1-145.6B", 148, 0.08),
    ("megatron21-t1-1008B", 163, 0.06),
    # Korthikanti et al. 2022, Megatron-LM README: MFU x 312 TFLOP/s
    ("korthikanti22-175B", 160.4, 0.06),
    ("korthikanti22-1000B", 175.7, 0.15),
    # Llama 3 report Table 4: BF16 MFU x 989 TFLOP/s
    ("llama3-405B-t4-stage1-8K", 430, 0.06),
    ("llama3-405B-t4-stage2-16K", 400, 0.06),
    # llm-foundry H100 benchmarks (MPT), README table: model TFLOP/s per GPU
    ("llmfoundry-h100-7b-s2048-g8", 459.5, 0.08),
    ("llmfoundry-h100-70b-s2048-g64", 421.3, 0.08),
    # NeMo 24.07 performance summary (DGX-H100, FP8): tokens/s per GPU
    ("nemo2407-gpt3-175b-h100-fp8-512g", 782, 0.08),
    ("nemo2407-llama3.1-70b-h100-fp8-64g", 1533, 0.08),
    # Megatron-LM README weak scaling (H100, 2024): TFLOP/s per GPU
    ("mcore24-weak-462b-6144g", 459.9, 0.10),
    # MaxText README (TPU v4, 2023): TFLOP/s per chip, 6N convention
    ("maxtext-v4-22b-1x", 156, 0.10),
    # AWS Neuron Trn1 table: 47.95 seq/s x 8192 / 512 chips
    ("trn1-llama31-8b-32n", 767.2, 0.15),
])
def test_golden_throughput_rows(row_id, published, tol):
    r = rows("throughput")[row_id]
    assert r["published"] == pytest.approx(published, rel=0.002)
    assert r["predicted"] == pytest.approx(published, rel=tol)


def test_rows_the_planner_cannot_model_as_run_are_shown_not_scored():
    r = rows("throughput")
    for row_id, words in [("maxtext-v6e-mixtral-8x7b-256", "token-dropping"),
                          ("mbridge-2602-llama3.1-70b-gb200-nvfp4-64g-gbs256", "NVFP4")]:
        assert words in r[row_id]["unscored"] and r[row_id]["loso"] is None
    assert "shown, not scored: " in validate.render(result())


def test_validation_reports_whole_runs_and_baseline():
    whole = rows("whole_run")
    assert "llama31-405B-e2e" in whole and "bloom-176B" in whole
    for r in whole.values():
        assert r["baseline"] > 0 and r["p10"] <= r["predicted"] <= r["p90"]
        assert r["ideal"] < r["predicted"] or r["team"] == "frontier lab"
    assert "whole_run" in result()["summary"]


def test_whole_run_leave_one_out_within_limits_and_beats_baseline():
    # Issue #12, planning-time inputs only, each run predicted by the residual fitted on the
    # others: tests fail when these degrade (validate.WHOLE_RUN_* and docs/validation.md).
    s = result()["summary"]["whole_run"]
    assert s["method"] == "leave-one-out"
    assert s["rows"] >= validate.WHOLE_RUN_MIN_RUNS
    assert s["mape_pct"] <= validate.WHOLE_RUN_MAPE_LIMIT
    assert s["worst_pct"] <= validate.WHOLE_RUN_ROW_LIMIT
    low, high = validate.WHOLE_RUN_INSIDE_RANGE
    assert low <= s["inside_p10_p90_pct"] <= high
    assert s["median_p90_p10"] <= validate.WHOLE_RUN_P90_P10_GUARD
    assert s["mape_pct"] < s["baseline_mape_pct"]  # beats 6ND at 35% MFU
    assert s["mape_pct"] < s["ideal_mape_pct"] / 1.5  # and the ideal run alone, by far


@pytest.mark.xfail(strict=True, reason="issue #12 asks a median P90/P10 <= 2.0; with the two "
                   "Llemma runs (45 runs) the ranges read 2.05 (docs/validation.md): when this "
                   "passes, lower WHOLE_RUN_P90_P10_GUARD to the target")
def test_whole_run_ranges_meet_the_issue_width():
    s = result()["summary"]["whole_run"]
    assert s["median_p90_p10"] <= validate.WHOLE_RUN_P90_P10_LIMIT


def test_shipped_realisation_constants_equal_a_fresh_fit():
    # planner/model/realisation_fit.py is regenerated by `planner validate --refit`; after any
    # change to the whole runs or the ideal run (the step model), refit and commit it.
    from planner.model.realisation_fit import FIT, GROUPING

    grouping, fresh = validate.fit_realisation(planner.catalog())
    assert GROUPING == grouping
    assert set(FIT) == set(fresh)
    for group, f in fresh.items():
        assert FIT[group]["runs"] == f["runs"], group
        for k in ("log_centre", "log_q10", "log_q90"):
            assert FIT[group][k] == pytest.approx(f[k], abs=1e-9), (group, k)
    assert validate.render_fit(grouping, fresh).startswith('"""The realisation residual')


def test_whole_runs_carry_their_provenance():
    # every scored whole run names its team, and the runs added for issue #12 their public
    # source address, the figure read and how sure the reading is
    cat = planner.catalog()
    added = 0
    for _w, ref, _ in validate.reference_rows(cat, kinds=("whole_run",)):
        assert ref.source and ref.team, ref.row_id
        if ref.quote:
            added += 1
            assert ref.source_url and ref.confidence in ("P", "S", "D"), ref.row_id
    assert added >= 30


def test_circular_and_duplicate_rows_are_shown_but_not_scored():
    r = rows("whole_run")["gpt3-175B"]
    assert r["predicted"] is not None and "assumed 10,000 V100" in r["unscored"]
    assert "same run" in rows("whole_run")["deepseek-v3-total"]["unscored"]
    text = validate.render(result())
    assert "shown, not scored: deepseek-v3-total" in text and "gpt3-175B (" in text
    skipped = {x["row_id"]: x["why"] for x in result()["skipped"]}
    assert skipped["llama2-70B"] == "device count unpublished"


def test_validate_cli_renders_both_tables():
    from click.testing import CliRunner

    import cli

    out = CliRunner().invoke(cli.app, ["validate"])
    assert out.exit_code == 0, out.output
    assert "planner MAPE" in out.output and "baseline MAPE" in out.output
    assert "held-out MAPE" in out.output and "accelerator family" in out.output
    assert "megatron21-t1-1008B" in out.output


def test_validate_refit_writes_the_shipped_module(tmp_path):
    from pathlib import Path

    from click.testing import CliRunner

    import cli
    from planner.model import realisation_fit

    out = CliRunner().invoke(cli.app, ["validate", "--refit", "-"])
    assert out.exit_code == 0, out.output
    shipped = Path(realisation_fit.__file__).read_text()
    assert out.output == shipped
    target = tmp_path / "fit.py"
    out = CliRunner().invoke(cli.app, ["validate", "--refit", str(target)])
    assert out.exit_code == 0 and target.read_text() == shipped


def test_the_kept_grouping_is_the_one_with_the_lowest_leave_one_out_error():
    # issue #12: keep a covariate only if it lowers the leave-one-out error. The shipped
    # grouping of the runs by kind of team (realisation_fit.GROUPING) is the candidate with the
    # lowest MAPE, a near tie (within COVARIATE_TIE_PCT) going to one whose ranges hold (70-90%
    # inside P10-P90, median P90/P10 <= 2), then to the narrowest ranges among those holding
    # 70-90% of the runs, then to the lowest worst-run error
    from planner.model import realisation
    from planner.model.realisation_fit import GROUPING

    rows = {c["covariate"]: c for c in result()["covariates"]}
    name = "none (all runs)" if GROUPING == "none" else f"team: {GROUPING}"
    kept = rows[name]
    # the whole-run figure chooses the grouping inside each fold (nested), so it is at least
    # the kept grouping's own leave-one-out figure, chosen once on all runs, less the tie room
    whole = result()["summary"]["whole_run"]
    assert whole["mape_pct"] >= kept["mape_pct"] - validate.COVARIATE_TIE_PCT
    assert sum(whole["groupings"].values()) == whole["rows"]
    assert GROUPING in whole["groupings"]
    groupings = {("none (all runs)" if g == "none" else f"team: {g}")
                 for g in realisation.GROUPINGS}
    best = min(rows[g]["mape_pct"] for g in groupings)
    assert kept["mape_pct"] <= best + validate.COVARIATE_TIE_PCT
    near = [rows[g] for g in groupings - {name}
            if rows[g]["mape_pct"] <= best + validate.COVARIATE_TIE_PCT]
    assert validate.ranges_hold(kept) or not any(validate.ranges_hold(c) for c in near)
    low, high = validate.WHOLE_RUN_INSIDE_RANGE

    def width(c):  # the ranges' median width, where they hold 70-90% of the runs
        return c["median_p90_p10"] if low <= c["inside_p10_p90_pct"] <= high else math.inf

    alike = [c for c in near if validate.ranges_hold(c) == validate.ranges_hold(kept)]
    assert all(width(kept) <= width(c) for c in alike)
    assert all(kept["worst_pct"] <= c["worst_pct"] for c in alike if width(c) == width(kept))
    assert GROUPING == validate.kept_grouping(result()["covariates"])
