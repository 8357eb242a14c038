"""Golden tests: predictions against published runs (the [[reference]] rows of workloads/*.toml
and the public sources of workloads/measurements/*.toml).

Throughput is checked two ways (issue #13, docs/validation.md): in-sample, with the shipped
constants (fitted on every row), and leave-one-source-out, each row predicted with the constants
fitted without its source. The limits are planner/validate.py's.
"""

import pytest

import planner
from planner import calibrate, validate

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
    ("megatron21-t1-18.4B", 135, 0.06),
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
        assert r["baseline"] > 0
    assert "whole_run" in result()["summary"]


def test_whole_run_mape_within_limit_and_beats_baseline():
    # Issue #5: whole-run device-hours at most 12% MAPE, no scored run off by more than 30%.
    s = result()["summary"]["whole_run"]
    assert s["rows"] >= 14
    assert s["mape_pct"] <= validate.WHOLE_RUN_MAPE_LIMIT
    assert s["worst_pct"] <= validate.WHOLE_RUN_ROW_LIMIT
    assert s["mape_pct"] < s["baseline_mape_pct"] / 2
    assert s["unpredicted"] == ["palm-540B"]  # no sourced TPU v4 data-centre bandwidth


def test_circular_row_is_shown_but_not_scored():
    r = rows("whole_run")["gpt3-175B"]
    assert r["predicted"] is not None and "assumed 10,000 V100" in r["unscored"]
    scored = [x for x in result()["rows"] if x["kind"] == "whole_run" and not x["unscored"]]
    assert "gpt3-175B" not in {x["row_id"] for x in scored}
    assert "whole_run:gpt3" not in result()["groups"]
    assert "shown, not scored: gpt3-175B" in validate.render(result())


@pytest.mark.parametrize("row_id, published, tol", [
    # Pythia Table 5 (GPU-hours from logged iteration time), GPT-NeoX profile not fitted to them
    ("pythia-1.4B", 7120, 0.10),
    ("pythia-2.8B", 14240, 0.10),
    # BLOOM: 1,082,990 A100-hours (Luccioni et al. 2022), published tr11 layout (mb 2, full
    # recompute); the batch ramp and CUDA_LAUNCH_BLOCKING are not modelled, so it reads low
    ("bloom-176B", 1082990, 0.15),
    # DeepSeek-V3 pre-training 2.664M H800-hours: MLA, 20 of 132 SMs held by the all-to-all
    ("deepseek-v3-pretrain", 2664000, 0.10),
    ("llama31-405B-e2e", 30840000, 0.05),
])
def test_golden_whole_runs(row_id, published, tol):
    r = rows("whole_run")[row_id]
    assert r["published"] == pytest.approx(published)
    assert r["predicted"] == pytest.approx(published, rel=tol)


def test_validate_cli_renders_both_tables():
    from click.testing import CliRunner

    import cli

    out = CliRunner().invoke(cli.app, ["validate"])
    assert out.exit_code == 0, out.output
    assert "planner MAPE" in out.output and "baseline MAPE" in out.output
    assert "held-out MAPE" in out.output and "accelerator family" in out.output
    assert "megatron21-t1-1008B" in out.output
