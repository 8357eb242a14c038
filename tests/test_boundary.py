"""Issue #17, case by case: no impossible answer, no lost row. Every input is checked at the
boundary (CLI, library, sweep specs, fleet files, catalogs); a refused input is exit 2 naming
it and the accepted form, never exit 1 or an answer with impossible figures; what --resume
trusts is verified. Each test names the case of the issue it covers."""

import contextlib
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cli
import planner
from planner.errors import CatalogError, InputError
from planner.fleet import schedule as fleet
from planner.many import dataset as ds
from planner.many import sweep as sweeping
from planner.plan import result as result_module

ROOT = Path(__file__).resolve().parent.parent
H100 = (ROOT / "hardware/accelerators/h100-sxm.toml").read_text()
SITE = (ROOT / "hardware/sites/us-hyperscale.toml").read_text()


def planner_cli(*args) -> tuple[int, str]:
    """cli.main as the shell runs it: (exit status, stdout and stderr together)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            cli.main([str(a) for a in args])
        except SystemExit as exc:
            return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def refused(*args, says=()) -> str:
    """The command exits 2 with a message naming the input (each of ``says``), no traceback."""
    code, text = planner_cli(*args)
    assert code == 2, (args, code, text[-800:])
    assert "Traceback" not in text and "internal error" not in text, text
    for words in ([says] if isinstance(says, str) else says):
        assert words in text, (words, text[-800:])
    return text


def user_catalog(tmp_path: Path, kind: str, key: str, text: str) -> Path:
    folder = tmp_path / {"accelerators": "hardware/accelerators", "sites": "hardware/sites",
                         "networks": "hardware/networks"}[kind]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{key}.toml").write_text(text)
    return tmp_path


def h100_with(old: str, new: str) -> str:
    assert old in H100
    return H100.replace(old, new)


PLAN = ("estimate", "--params", "1T", "--tokens", "15T", "--gpus", "16384")


# --- exit 0 with impossible figures: catalogs -------------------------------------------------

@pytest.mark.parametrize("old, new, says", [
    ("scale_out_gb_per_s = { value = 50,", "scale_out_gb_per_s = { value = -50,",
     ["scale_out_gb_per_s.value: -50 is negative", "[0.3, 100,000]"]),
    ("peak_bf16_tflops = { value = 989.4,", "peak_bf16_tflops = { value = -989.4,",
     ["peak_bf16_tflops.value: -989.4 is negative"]),
    ("peak_bf16_tflops = { value = 989.4,", "peak_bf16_tflops = { value = inf,",
     ["peak_bf16_tflops.value: inf is not finite"]),
    ("matmul_bf16_fraction = { value = 0.802,", "matmul_bf16_fraction = { value = 5,",
     ["matmul_bf16_fraction.value: 5 is too large", "[0.01, 1]"]),
    ("devices_per_node = { value = 8,", "devices_per_node = { value = 7.5,",
     ["devices_per_node.value: 7.5 is not a whole number"]),
    ("scale_up_domain = { value = 8,", "scale_up_domain = { value = 0,",  # blamed --gpus
     ["scale_up_domain.value: 0 is too small"]),
], ids=["negative-bandwidth", "negative-peak", "infinite-peak", "fraction-5",
        "half-device", "zero-domain"])
def test_catalog_figures_are_range_checked(tmp_path, old, new, says):
    cat = user_catalog(tmp_path, "accelerators", "h100-sxm", h100_with(old, new))
    text = refused(*PLAN, "--catalog", cat, says=says)
    assert "h100-sxm.toml" in text  # the file named, not --gpus


def test_a_catalog_files_error_names_its_key_and_form_in_json(tmp_path):
    # was: "option": null, "accepted": null for every catalog file's error
    import json

    cat = user_catalog(tmp_path, "sites", "us-hyperscale",
                       SITE.replace("pue = { value = 1.10,", "pue = { value = -1.1,"))
    code, text = planner_cli(*PLAN, "--catalog", cat, "--format", "json")
    err = json.loads(text)["error"]
    assert code == 2 and err["option"].endswith("us-hyperscale.toml: pue.value")
    assert err["accepted"].startswith("a number in [1, 10]")


def test_a_site_pue_below_one_is_refused(tmp_path):
    cat = user_catalog(tmp_path, "sites", "us-hyperscale",
                       SITE.replace("pue = { value = 1.10,", "pue = { value = -1.1,"))
    refused(*PLAN, "--catalog", cat, says=["us-hyperscale.toml", "pue.value: -1.1",
                                           "a number in [1, 10]"])


def test_a_binary_catalog_file_is_bad_input(tmp_path):
    cat = user_catalog(tmp_path, "accelerators", "h100-sxm", "")
    (cat / "hardware/accelerators/h100-sxm.toml").write_bytes(bytes(range(256)) * 4)
    refused(*PLAN, "--catalog", cat, says=["h100-sxm.toml", "not valid TOML"])


def test_a_catalog_network_reference_is_the_files_error_not_network(tmp_path):
    cat = user_catalog(tmp_path, "accelerators", "h100-sxm", h100_with(
        'scale_out_network = "ib-ndr"', 'scale_out_network = "nope"'))
    text = refused(*PLAN, "--catalog", cat,
                   says=["h100-sxm.toml: scale_out_network 'nope' names no network"])
    assert "--network" not in text


def test_an_alias_two_files_claim_is_refused_naming_both(tmp_path):
    mine = (ROOT / "hardware/accelerators/h100-pcie.toml").read_text()
    mine = "\n".join('aliases = ["h100"]' if line.startswith("aliases") else line
                     for line in mine.splitlines())
    cat = user_catalog(tmp_path, "accelerators", "aa-mine", mine)
    refused("estimate", "--params", "7B", "--tokens", "1T", "--gpu", "h100", "--catalog", cat,
            says=["alias 'h100' is claimed by 2 accelerator files", "aa-mine.toml",
                  "h100-sxm.toml"])
    # the key itself still resolves: only the shared alias is ambiguous
    code, _ = planner_cli("estimate", "--params", "7B", "--tokens", "1T", "--gpu", "h100-sxm",
                          "--gpus", "64", "--catalog", cat)
    assert code == 0


# --- assumptions ------------------------------------------------------------------------------

@pytest.mark.parametrize("item, says", [
    ("gemm_efficiency=5", "--assume gemm_efficiency: 5.0 is too large; accepted: a number in "
                          "[0.01, 1]"),
    ("tp_comm_overlap=7", "--assume tp_comm_overlap: 7.0 is too large"),
    ("seq_len=0", "--assume seq_len: 0.0 is too small"),                  # was ZeroDivisionError
    ("global_batch_tokens=0", "--assume global_batch_tokens: 0.0 is too small"),  # blamed --gpus
    ("uncertainty_samples=1000000000", "--assume uncertainty_samples: 1000000000.0 is too large"),
    ("full_recompute_fraction=0", "--assume full_recompute_fraction: 0.0 is too small"),
    ("full_recompute_fraction=1.5", "--assume full_recompute_fraction: 1.5 is too large"),
])
def test_assumptions_are_range_checked(item, says):
    refused(*PLAN, "--assume", item, says=says)


def test_uncertainty_with_zero_samples_is_refused():  # was IndexError
    refused("estimate", "--params", "7B", "--tokens", "1T", "--uncertainty", "--assume",
            "uncertainty_samples=0", says="--assume uncertainty_samples: 0.0 is too small")


@pytest.mark.parametrize("assumptions, says", [
    ({"gemm_efficiency": -1}, "--assume gemm_efficiency: -1 is negative"),
    ({"gemm_efficiency": "abc"}, "--assume gemm_efficiency: 'abc' is not a number"),
    ({"no_such": 1}, "no_such: 1 is not an assumption"),
    # the library names the nearest, as --assume and a config file do
    ({"gemm_efficency": 0.9}, "gemm_efficency: 0.9 is not an assumption (did you mean "
                              "gemm_efficiency?)"),
    (["x"], "assumptions: ['x'] is not a dict of assumptions"),
])
def test_library_assumptions_are_input_errors(assumptions, says):
    with pytest.raises(InputError) as exc:
        planner.estimate(params="7B", tokens="1T", gpus=64, assumptions=assumptions)
    assert says in str(exc.value)


def test_an_assumptions_object_out_of_range_cannot_be_made():
    from planner.assumptions import DEFAULT, Assumptions

    with pytest.raises(InputError, match="gemm_efficiency"):
        Assumptions(gemm_efficiency=1.5)
    with pytest.raises(InputError, match="pue: 0.9 is too small"):
        DEFAULT.with_(pue=0.9)
    assert DEFAULT.with_(seq_len=4096.0).seq_len == 4096  # a whole float is the count


def test_a_sweep_spec_with_a_bad_assumption_is_refused():
    spec = {"fixed": {"tokens": "1T", "gpus": 64, "assumptions": {"gemm_efficiency": -1.0}},
            "axes": {"params": ["7B"]}}
    with pytest.raises(sweeping.SpecError, match=r"\[fixed\] assumptions.gemm_efficiency: "
                       r"-1.0 is negative"):
        sweeping.sweep(spec)


# --- layouts against the shape and the hardware -----------------------------------------------

@pytest.mark.parametrize("layout, says", [
    ("tp=3", "tp=3 does not divide the 128 attention heads"),
    ("tp=8,pp=1024", "pp=1024 is more pipeline stages than the 126 layers"),
    ("cp=16384", "cp=16384 does not split the sequence of 8192 tokens into 2 x 16384 equal"),
    ("cp=8192", "cp=8192 does not split the sequence of 8192 tokens into 2 x 8192 equal"),
    ("tp=16", "tp=16 does not divide the 8 KV heads (Megatron-Core splits the query groups"),
    ("tp=8,tp=4", "tp is given twice"),
    ("tp=8,pp=16,dp=64,cp=2", "tp*pp*dp*cp = 16,384"),  # == gpus: fine, see below
    ("ep=4", "ep=4 needs a mixture-of-experts model"),
])
def test_layouts_are_checked_against_shape_and_domain(layout, says):
    args = ("estimate", "--workload", "llama3.1-405b", "--gpus", "16384", "--layout", layout)
    if layout == "tp=8,pp=16,dp=64,cp=2":
        assert planner_cli(*args)[0] == 0
        refused(*args[:4], "8192", *args[5:], says="tp*pp*dp*cp = 16,384 is not the 8,192")
        return
    refused(*args, says=["--layout", says])


def test_tp_beyond_the_domain_when_allowed():
    # GPT-3 175B's 96 heads are all KV heads: tp=16 splits them, across two 8-GPU domains
    with pytest.raises(planner.InputError, match="larger than the scale-up domain of 8"):
        planner.estimate(workload="gpt3-175b", gpus=16384, layout="tp=16")
    plan = planner.estimate(workload="gpt3-175b", gpus=16384, layout="tp=16",
                            allow_tp_beyond_domain=True)
    assert plan.layout["tp"] == 16
    # MaxText replicates KV heads a tensor axis outnumbers: tp=16 of 8 on a TPU slice runs
    plan = planner.estimate(workload="llama3.1-405b", gpu="tpu-v5p", gpus=4096, layout="tp=16")
    assert plan.layout["tp"] == 16


def test_a_layout_in_a_sweep_row_is_checked_too():
    table = planner.estimate_many(pa.table({"workload": ["llama3.1-405b"] * 2,
                                            "gpus": [16384, 16384],
                                            "layout": ["tp=3", "tp=8,pp=16"]}))
    errors = table.column("error").to_pylist()
    assert "tp=3 does not divide the 128 attention heads" in errors[0] and errors[1] is None


# --- shapes and conflicting inputs ------------------------------------------------------------

SHAPE = ("--layers", "32", "--hidden", "4096", "--heads", "32", "--vocab", "32000",
         "--tokens", "1T", "--gpus", "64")


def _shape(**flags):
    out = dict(zip(SHAPE[::2], SHAPE[1::2]))
    out.update({f"--{k.replace('_', '-')}": str(v) for k, v in flags.items()})
    return ["estimate"] + [x for kv in out.items() for x in kv]


@pytest.mark.parametrize("flags, says", [
    (dict(layers=4, hidden=1024, heads=8, experts=8, top_k=2, expert_ffn=2048, dense_layers=10,
          ffn=4096), "--dense-layers: 10 leaves none of the 4 layers to the experts"),
    (dict(hidden=4097, ffn=11008), "--hidden: 4097 is not a multiple of the 32 heads"),
    (dict(kv_heads=64, ffn=11008), "--kv-heads: 64 does not divide the 32 heads"),
    (dict(kv_heads=5, ffn=11008), "--kv-heads: 5 does not divide the 32 heads"),
    (dict(experts=8, top_k=16, expert_ffn=2048), "--top-k: 16 is not between 1 and the 8"),
    (dict(experts=8, expert_ffn=2048), "--top-k: is missing"),
    (dict(ffn=11008, top_k=2), "--top-k: 2 is given without experts"),
], ids=["dense-layers", "hidden", "kv-above", "kv-divisor", "top-k", "no-top-k", "no-experts"])
def test_impossible_shapes_are_refused(flags, says):
    refused(*_shape(**flags), says=says)


def test_params_with_a_workload_or_a_shape_is_a_conflict_naming_both():
    refused("estimate", "--params", "1T", "--workload", "llama3.1-405b", "--gpus", "16384",
            says=["--params: '1T' conflicts with --workload"])
    refused(*_shape(ffn=11008, params="1T"), says=["--params: '1T' conflicts with --layers"])
    with pytest.raises(InputError, match="--ffn-type: 'moe' is not valid"):
        planner.estimate(params="7B", tokens="1T", ffn_type="moe")


@pytest.mark.parametrize("flags, says", [
    (["--experts", "64"], "--top-k: is missing beside --experts"),
    (["--top-k", "4"], "--experts: is missing beside --top-k"),
    (["--shared-experts", "1"], "--experts: is missing beside --shared-experts"),
    (["--experts", "64", "--top-k", "65"], "--top-k: 65 is not valid; accepted: 1 to --experts"),
    (["--experts", "64", "--top-k", "4", "--ffn-type", "plain"],
     "--ffn-type: 'plain' is not valid; accepted: gated with --experts"),
    (["--experts", "64", "--top-k", "4", "--expert-ffn", "2048"],
     "--params: '400B' conflicts with --expert-ffn"),
], ids=["no-top-k", "no-experts", "shared-alone", "top-k-above", "plain", "expert-ffn"])
def test_params_with_experts_refuses_an_incomplete_or_conflicting_moe(flags, says):
    refused("estimate", "--params", "400B", "--tokens", "1T", *flags, says=says)


def test_budget_with_experts_alone_asks_for_top_k_without_naming_estimate_s_flag():
    # budget shapes the MoE from the parameter count it grows: --params is not what is missing
    refused("budget", "--usd", "100M", "--tokens", "10T", "--experts", "64",
            says="--top-k: is missing beside --experts; accepted: --experts and --top-k "
                 "together (a mixture of experts shaped from its parameter count by the MoE "
                 "rule)")


def test_params_with_experts_below_the_rule_s_reach_names_the_count():
    refused("estimate", "--params", "100M", "--tokens", "10B", "--experts", "64", "--top-k",
            "4", says="--params: '100M' is below what the shape rule reaches with 64 experts")


def test_params_with_a_plain_ffn_uses_the_plain_shape_rule():
    plan = planner.estimate(params="7B", tokens="1T", ffn_type="plain", gpus=64)
    assert plan.workload["ffn_type"] == "plain"
    assert plan.workload["kv_heads"] == plan.workload["heads"]
    assert plan.workload["params"] == pytest.approx(7e9, rel=0.03)
    assert "GPT-3 layout" in plan.assumptions["architecture"]["source"]


def test_params_with_experts_uses_the_moe_shape_rule():
    # the library and estimate_many give the same MoE plan (docs/shape.md's MoE rule)
    plan = planner.estimate(params="1T", tokens="15T", experts=64, top_k=4, gpus=4096)
    w = plan.workload
    assert (w["experts"], w["top_k"], w["expert_ffn"], w["name"]) == (64, 4, 7744, "MoE 1T")
    assert w["params"] == pytest.approx(1e12, rel=0.03)
    assert w["active_params"] == pytest.approx(77e9, rel=0.01)  # the dense rule at 9,216 wide
    assert "mixture of experts" in plan.assumptions["architecture"]["source"]
    import pyarrow as pa
    row = planner.estimate_many(pa.table({"params": ["1T"], "tokens": ["15T"], "experts": [64],
                                          "top_k": [4], "gpus": [4096]})).to_pylist()[0]
    assert row["error"] is None
    assert row["gpu_hours"] == pytest.approx(plan.gpu_hours, rel=1e-9)


def test_a_catalog_workload_with_an_impossible_shape_is_refused(tmp_path):
    text = (ROOT / "workloads/llama3.1-8b.toml").read_text().replace("kv_heads = 8",
                                                                   "kv_heads = 5")
    path = tmp_path / "w.toml"
    path.write_text(text)
    with pytest.raises(CatalogError, match="architecture.kv_heads: 5 does not divide"):
        planner.estimate(workload=str(path), gpus=64)


# --- budget years -----------------------------------------------------------------------------

def test_a_year_beyond_the_price_trend_is_refused():
    refused("budget", "--usd", "1B", "--deadline", "150d", "--year", "2060",
            says=["--year: '2060' is 34 years from h100-sxm's price quote",
                  "within 15 years"])
    refused("budget", "--usd", "1B", "--year", "3000",  # no calendar year of a plan
            says="--year: '3000' is outside 1990-2100")


def test_a_year_beyond_the_price_trend_holds_a_given_or_an_owned_price():
    # was: --year 2045 beside --price-per-gpu-hour 2 or --ownership owned exit 2, "--year:
    # '2045' is 19 years from h100-sxm's price quote", though neither moves a price along the
    # trend: a given price holds every year, an owned cluster is costed at purchase prices
    kw = dict(usd="5M", gpu="h100-sxm", tolerance=0.2)
    given = planner.budget(year=2045, price_per_gpu_hour=2, **kw)
    assert given.feasible and given.plan.assumptions["price_per_gpu_hour"]["value"] == 2.0
    assert given.params == planner.budget(year=2030, price_per_gpu_hour=2, **kw).params
    owned = planner.budget(year=2045, ownership="owned", **kw)
    assert owned.feasible and owned.plan.cost_usd["total"] <= 5e6
    assert owned.params == planner.budget(year=2030, ownership="owned", **kw).params
    # the rental price it reports for context says how far it was moved
    assert "beyond the 15 years of data" in owned.considered[0]["price_basis"]


# --- limits too large: CP-SAT overflow, OverflowError -----------------------------------------

@pytest.mark.parametrize("args, says", [
    (("estimate", "--params", "1T", "--tokens", "15T", "--deadline", "1e30d"),
     "--deadline: '1e30d' is too large"),
    (("estimate", "--params", "1T", "--tokens", "15T", "--power-cap", "1e30MW"),
     "--power-cap: '1e30MW' is too large"),
    (("estimate", "--params", "1T", "--tokens", "15T", "--budget", "1e30"),
     "--budget: '1e30' is too large"),
    (("budget", "--usd", "1e30"), "--usd: '1e30' is too large"),
    (("budget", "--deadline", "1e30d"), "--deadline: '1e30d' is too large"),
    (("estimate", "--params", "1T", "--tokens", "15T", "--global-batch", "1e30"),
     "--global-batch: '1e30' is too large"),
    (("estimate", "--params", "1T", "--tokens", "15T", "--seed", "-1", "--uncertainty"),
     "--seed: '-1'"),
    (("estimate", "--params", "1T", "--tokens", "1e30"), "--tokens: '1e30' is too large"),
    (("estimate", "--params", "1T", "--tokens", "15T", "--price-per-gpu-hour", "1e30"),
     "--price-per-gpu-hour: '1e30' is too large"),
])
def test_limits_beyond_their_maxima_are_bad_input(args, says):
    refused(*args, says=says)


@pytest.mark.parametrize("gpus", ["1e30", "1e18", "1e15", "1e9", "2000000"])
def test_huge_device_counts_are_refused_at_once(gpus):
    t0 = time.perf_counter()
    text = refused("estimate", "--params", "1T", "--tokens", "15T", "--gpus", gpus,
                   says="--gpus")
    assert time.perf_counter() - t0 < 5
    if float(gpus) <= 1e12:
        assert "--assume max_gpus=N" in text  # says how to raise the limit


def test_max_gpus_raised_plans_two_million():
    plan = planner.estimate(params="1T", tokens="15T", gpus=2_000_000,
                            assumptions={"max_gpus": 4_000_000, "restart_s": 30.0})
    assert plan.cluster["gpus"] == 2_000_000


def test_a_sub_sequence_global_batch_names_the_flag():  # blamed --gpus
    refused("estimate", "--params", "1T", "--tokens", "15T", "--global-batch", "1K",
            "--gpus", "1024", says="--global-batch: '1K' leaves a global batch of 1,000 "
                                   "tokens, less than one 8,192-token sequence")


# --- output locations checked before any work --------------------------------------------------

def test_plot_into_a_missing_folder_is_refused_before_planning(tmp_path):
    refused("estimate", "--params", "8B", "--tokens", "1T", "--plot",
            tmp_path / "missing" / "x.png", says=["--plot", "folder that does not exist"])


def test_outputs_under_a_file_or_a_missing_folder_are_refused(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('[fixed]\ntokens = "1T"\ngpus = 64\n[axes]\nparams = ["7B"]\n')
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    refused("sweep", spec, "-o", blocker / "out", says=["-o/--out", "inside a file"])
    fleet_file = ROOT / "workloads/fleets/lab-3-sites.toml"
    refused("schedule", fleet_file, "-o", tmp_path / "missing" / "f.parquet",
            says=["-o/--output", "does not exist"])
    refused("schedule", fleet_file, "--gantt", blocker / "g.png", says=["--gantt", "inside"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_outputs_in_a_read_only_folder_are_refused(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('[fixed]\ntokens = "1T"\ngpus = 64\n[axes]\nparams = ["7B"]\n')
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        refused("sweep", spec, "-o", ro / "out", says=["-o/--out", "not writable"])
        refused("schedule", ROOT / "workloads/fleets/lab-3-sites.toml", "-o",
                ro / "f.parquet", says=["-o/--output", "not writable"])
    finally:
        ro.chmod(0o755)


# --- wrong blame and silent fallbacks ---------------------------------------------------------

def test_a_power_cap_below_a_megawatt_is_worded_in_its_unit():
    plan = planner.estimate(params="8B", tokens="1T", power_cap="5kW")
    assert not plan.feasible and "cap 5.00 kW" in plan.reason and "0.0 MW" not in plan.reason


@pytest.mark.parametrize("flag", ["--gpu", "--network", "--site", "--workload", "--catalog"])
def test_an_empty_key_is_refused_not_a_default(flag):
    args = ["estimate", "--params", "7B", "--tokens", "1T", flag, ""]
    if flag == "--workload":
        args = ["estimate", "--tokens", "1T", flag, ""]
    refused(*args, says=[flag, "'' is empty"])


def test_an_empty_output_directory_is_refused_not_the_current_one(tmp_path, monkeypatch):
    # was: -o "" (and planner.sweep(spec, "")) wrote the sweep into the current directory
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "s.toml"
    spec.write_text('[fixed]\nparams = "7B"\ntokens = "1T"\ngpus = 8\n')
    refused("sweep", str(spec), "-o", "", says=["-o/--out", "'' is empty"])
    with pytest.raises(InputError, match="out: '' is empty; accepted: a directory"):
        sweeping.sweep(str(spec), "")
    assert sorted(os.listdir(tmp_path)) == ["s.toml"]


def test_library_inputs_of_the_wrong_kind_are_input_errors():
    for kwargs, says in ((dict(seed="abc", uncertainty=True), "--seed: 'abc'"),
                         (dict(seed=-1), "--seed: -1"),
                         (dict(catalog=123), "--catalog: 123 is not a directory"),
                         (dict(uncertainty="yes"), "--uncertainty: 'yes'")):
        with pytest.raises(InputError) as exc:
            planner.estimate(params="7B", tokens="1T", gpus=64, **kwargs)
        assert says in str(exc.value)


def _small_fleet(**run):
    return {"start": "2027-01", "end": "2027-06", "step": "1w",
            "solver": {"time_limit_s": 10, "workers": 2, "seed": 0},
            "sites": [{"name": "lab", "pue": 1.2, "power_mw": {"2027-01": 5},
                       "deliveries": {"h100-sxm": {"2027-01": 512}}}],
            "runs": [{"name": "r1", "params": "1B", "tokens": "100B", "gpus": [64], **run}]}


def test_a_fleet_deadline_before_its_earliest_start_is_refused():  # was OPTIMAL, 238 days late
    with pytest.raises(InputError, match=r"runs\[0\].deadline: '2027-02' is not after its "
                       "earliest start"):
        fleet.schedule(_small_fleet(earliest="2027-04", deadline="2027-02"))


def test_an_unknown_fleet_says_how_long_it_searched(monkeypatch):
    from planner.fleet import model as fleet_model

    monkeypatch.setattr(fleet_model, "solve", lambda inst, settings, on_phase=None:
                        fleet_model.FleetSolution("UNKNOWN", solve_time_s=34.0,
                                                  phases=("UNKNOWN",)))
    result = fleet.schedule(_small_fleet())
    d = result.to_dict()
    # the status is one of the interface's three (it had read "UNKNOWN"): no schedule found in
    # time reads INFEASIBLE, binding time_limit, its reason saying it proves nothing
    assert d["status"] == "INFEASIBLE" and d["binding"] == "time_limit"
    assert d["phases"] == ["UNKNOWN"]  # CP-SAT's own word for the phase
    share = fleet_model.LATENESS_PHASE_SHARE  # of the whole call's time limit
    assert d["reason"] == (f"no schedule found in 34.0 s (the lateness phase's {10 * share:.0f} "
                           "s of the 10 s time limit): none was found in time, which is not a "
                           "proof of infeasibility; raise --time-limit or [solver] "
                           "time_limit_s")
    assert "status: INFEASIBLE (lateness phase: UNKNOWN; no cost phase)" in result.table()
    assert repr(result).startswith("FleetSchedule(INFEASIBLE,")


@pytest.mark.parametrize("change, says", [
    ({"sites": [{"name": "x", "power_mw": 5, "pue": 0.5}]}, "sites[0].pue: 0.5 is too small"),
    ({"solver": {"seed": -3}}, "solver.seed: -3 is negative"),
    ({"runs": [{"name": "r", "params": "1B", "tokens": "1T", "weight": 0}]},
     "runs[0].weight: 0 is too small"),
])
def test_fleet_files_are_checked_by_their_schema(change, says):
    with pytest.raises(InputError) as exc:
        fleet.load({**_small_fleet(), **change})
    assert says in str(exc.value)


# --- estimate_many: mixed tables ---------------------------------------------------------------

@pytest.mark.parametrize("kind", ["pandas", "arrow"])
@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_mixed_sized_and_fixed_rows_with_a_price_column(kind, order):
    rows = [dict(params="70B", tokens=2e12, gpus=1024, price_per_gpu_hour=2.0),
            dict(params="8B", tokens=1e12, gpus=None, price_per_gpu_hour=2.5)]
    rows = [rows[i] for i in order]
    cols = {k: [r[k] for r in rows] for k in rows[0]}
    if kind == "pandas":
        pd = pytest.importorskip("pandas")
        out = planner.estimate_many(pd.DataFrame(cols))
        days, errors = list(out["training_days"]), list(out["error"])
    else:
        out = planner.estimate_many(pa.table({**cols, "gpus": pa.array(cols["gpus"],
                                                                      pa.int64())}))
        days, errors = out.column("training_days").to_pylist(), out.column("error").to_pylist()
    assert all(e is None or (isinstance(e, float) and math.isnan(e)) for e in errors)
    for r, d in zip(rows, days):
        kwargs = {k: v for k, v in r.items() if v is not None}
        assert d == pytest.approx(planner.estimate(**kwargs).training_days, rel=1e-12)


def test_the_library_docs_frame_with_one_sized_row():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"params": ["70B", "405B", "70B"], "tokens": [15e12, 15e12, 2e12],
                       "gpus": [1024, None, 8], "price_per_gpu_hour": [2.0, 2.5, 2.0]})
    out = planner.estimate_many(df)
    assert out["error"].isna().all()
    one = planner.estimate(params="405B", tokens=15e12, price_per_gpu_hour=2.5)
    assert out.loc[1, "training_days"] == pytest.approx(one.training_days, rel=1e-12)


# --- sweeps: size, resume verification, one writer, workers die with the parent ----------------

@pytest.mark.parametrize("scenarios", [10**12, 10**14])  # wrote parts; a MemoryError
def test_a_sweep_too_large_is_refused_before_any_work(tmp_path, scenarios):
    axes = {"tokens": ["1T"] * 1000, "gpus": list(range(8, 8 + 1000)),
            "price_per_gpu_hour": [1.0 + i / 1000 for i in range(1000)],
            "budget": [f"{m}M" for m in range(1, 1001)],
            "deadline": [f"{d}d" for d in range(1, scenarios // 10**12 + 1)]}
    t0 = time.perf_counter()
    with pytest.raises(sweeping.SpecError, match=rf"{scenarios:,} scenarios.*at most "
                       r"1,000,000,000 scenarios; raise the limit with max_scenarios"):
        sweeping.sweep({"axes": axes}, tmp_path / "out")
    assert time.perf_counter() - t0 < 5 and not (tmp_path / "out").exists()
    small = {"fixed": {"tokens": "1T", "gpus": 64}, "axes": {"params": ["7B", "8B", "13B"]}}
    with pytest.raises(sweeping.SpecError, match="at most 2 scenarios"):
        sweeping.sweep({**small, "max_scenarios": 2})
    assert sweeping.sweep({**small, "max_scenarios": 3}).table.num_rows == 3


def test_a_sweep_of_sized_rows_is_refused_at_their_own_cost(tmp_path):
    # rows with no device count are sized by estimate itself, milliseconds a row, not the
    # columnar path's microseconds: a billion of them (a month on one core) had passed the
    # billion-scenario guard, sized at the columnar path's rate, and started
    axes = {"params": [f"{b}B" for b in range(1, 1001)],
            "tokens": [f"{t}B" for t in range(1000, 2000)],
            "price_per_gpu_hour": [round(1.0 + i / 1000, 3) for i in range(1000)]}
    said = (r"1,000,000,000 scenarios.* are too many: 1,000,000,000 of them answered by "
            r"estimate itself.*days on one core.*accepted: at most 1,000,000 scenarios "
            r"answered by estimate")
    with pytest.raises(sweeping.SpecError, match=said):
        sweeping.load_spec({"axes": axes})
    t0 = time.perf_counter()
    with pytest.raises(sweeping.SpecError, match=said):
        sweeping.sweep({"axes": axes}, tmp_path / "out")
    assert time.perf_counter() - t0 < 5 and not (tmp_path / "out").exists()
    # the same product with a device count: the columnar path, within the limit
    assert sweeping.load_spec({"fixed": {"gpus": 1024}, "axes": axes}).scenarios == 10**9
    # only the rows estimate answers count at its cost: here those of two accelerators
    two = {"params": axes["params"], "tokens": axes["tokens"][:1000]}
    mixed = {"fixed": {"gpus": 1024},
             "axes": {**two, "gpu": ["h100-sxm", "h100-sxm,b200", "b200,mi300x"]}}
    with pytest.raises(sweeping.SpecError, match=r"3,000,000 scenarios' are too many: "
                       r"2,000,000 of them answered by estimate itself"):
        sweeping.load_spec(mixed)
    mixed["axes"]["gpu"] = ["h100-sxm", "h100-sxm,b200"]
    assert sweeping.load_spec(mixed).scenarios == 2_000_000  # 1,000,000 sized: the limit
    big = {"axes": {**two, "price_per_gpu_hour": [2.0, 2.5]}}
    with pytest.raises(sweeping.SpecError, match="2,000,000 of them answered by estimate"):
        sweeping.load_spec(big)
    assert sweeping.load_spec({**big, "max_scenarios": 2_000_000}).scenarios == 2_000_000
    # a seed seeds the Monte Carlo rows alone: the others stay on the columnar path
    seeded = {"fixed": {"gpus": 1024, "seed": 7},
              "axes": {**two, "uncertainty": [True, False]}}
    with pytest.raises(sweeping.SpecError, match=r"2,002,000 scenarios' are too many: "
                       r"1,001,000 of them answered by estimate itself"):
        sweeping.load_spec({**seeded, "axes": {**seeded["axes"],
                                               "tokens": two["tokens"] + ["3T"]}})
    assert sweeping.load_spec(seeded).scenarios == 2_000_000
    # a budget question is a row of seconds: a budget sweep is held to fewer
    budget = {"mode": "budget", "axes": {"usd": [f"{m}M" for m in range(100, 200)],
                                         "deadline": [f"{d}d" for d in range(30, 230)]}}
    with pytest.raises(sweeping.SpecError, match=r"20,000 scenarios' are too many: "
                       r"20,000 budget questions.*accepted: at most 10,000 scenarios"):
        sweeping.load_spec(budget)
    assert sweeping.load_spec({**budget, "max_scenarios": 20_000}).scenarios == 20_000


SMALL = {"fixed": {"tokens": "1T", "gpu": "h100-sxm"},
         "axes": {"params": ["7B", "8B", "13B", "34B"], "gpus": [64, 128, 256]}}


def test_resume_rewrites_a_truncated_or_swapped_part(tmp_path):
    out, other = tmp_path / "out", tmp_path / "other"
    sweeping.sweep(SMALL, out, chunk_rows=4)
    sweeping.sweep({**SMALL, "fixed": {"tokens": "2T", "gpu": "h100-sxm"}}, other,
                   chunk_rows=4)
    want = sweeping.read(out)
    part1, part2 = out / ds.part_name(1), out / ds.part_name(2)
    part1.write_bytes(part1.read_bytes()[: part1.stat().st_size // 2])  # truncated
    part2.write_bytes((other / ds.part_name(2)).read_bytes())          # another sweep's
    with pytest.raises(Exception):  # noqa: B017 - Arrow's own error: the damage is real
        sweeping.read(out)
    r = sweeping.sweep(SMALL, out, chunk_rows=4, resume=True)
    assert (r.written, r.kept) == (2, 1)
    assert sweeping.read(out).equals(want)
    manifest = json.loads((out / ds.MANIFEST).read_text())
    for name, entry in manifest["parts"].items():
        assert entry == {"first": entry["first"], "rows": entry["rows"],
                         **ds.fingerprint(out / name)}


def test_a_second_writer_is_refused(tmp_path):
    import fcntl

    out = tmp_path / "out"
    sweeping.sweep(SMALL, out, chunk_rows=4)
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another sweep writing it
        with pytest.raises(sweeping.OutputError, match="being written by another sweep"):
            sweeping.sweep(SMALL, out, chunk_rows=4, resume=True)
        spec = tmp_path / "s.toml"
        spec.write_text('[fixed]\ntokens = "1T"\ngpu = "h100-sxm"\n[axes]\n'
                        'params = ["7B", "8B", "13B", "34B"]\ngpus = [64, 128, 256]\n')
        refused("sweep", spec, "-o", out, "--resume", says="being written by another sweep")
    finally:
        os.close(fd)
    assert sorted(os.listdir(out)) == [ds.MANIFEST] + [ds.part_name(k) for k in range(3)]


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.add(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _ours(pid: int) -> bool:
    """A multiprocessing process (a pool worker or the resource tracker) still running."""
    try:
        return b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_and_tracker_die_with_a_killed_sweep(tmp_path):
    spec = dict(SMALL, axes={"params": [f"{n}B" for n in range(7, 400, 3)],
                             "gpus": [64, 128, 256, 512, 1024]})
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from planner.many import sweep
        sweep.sweep({spec!r}, {str(tmp_path / 'out')!r}, workers=2, chunk_rows=5)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code])
    workers: set = set()
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(workers) < 3 and proc.poll() is None:
            time.sleep(0.2)  # two workers and the resource tracker
            workers = {p for p in _children(proc.pid) if _ours(p)}
        assert len(workers) >= 3, "the workers never started"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(_ours(p) for p in workers):
            time.sleep(0.2)
        alive = [p for p in workers if _ours(p)]
        assert not alive, f"workers outlived their parent: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in workers:  # never leave a test's workers running, even when it fails
            with contextlib.suppress(OSError):
                if _ours(p):
                    os.kill(p, signal.SIGKILL)


# --- results checked on the way out -------------------------------------------------------------

def test_impossible_figures_are_named():
    impossible = result_module.impossible
    assert impossible({"mfu": 0.4, "hfu": 0.5, "training_days": 30.0}) is None
    assert impossible({"mfu": 1.13}) == "mfu = 1.13"
    assert impossible({"training_days": -716.0}) == "training_days = -716.0"
    assert impossible({"cost_usd_total": -6.6e8}) == "cost_usd_total = -660000000.0"
    assert impossible({"mfu": 0.5, "hfu": 0.4}).startswith("mfu = 0.5 above hfu")
    assert impossible({"power_mw": np.array([1.0, np.nan, 0.0])}) == "power_mw = 0.0"
    # a run that never ends is an answer only when infeasible
    assert impossible({"training_days": math.inf, "goodput": 0.0}, feasible=False) is None
    assert impossible({"training_days": math.inf}, feasible=True) == "training_days = inf"


def test_a_bug_never_prints_an_impossible_plan(monkeypatch):
    from planner.plan import options

    real = options.steady_state

    def buggy(best, peak, hbm):
        cols = real(best, peak, hbm)
        cols["mfu"] = cols["mfu"] * 3  # a formula error: MFU above 1
        return cols

    monkeypatch.setattr(options, "steady_state", buggy)
    code, text = planner_cli("estimate", "--params", "7B", "--tokens", "1T", "--gpus", "64",
                             "--format", "json")
    assert code == 1 and "internal error" in text and "impossible figure (mfu = " in text
    assert "training_days" not in text  # no plan printed


def test_an_impossible_row_never_leaves_estimate_many(monkeypatch):
    from planner.many import chunk_answers

    real = chunk_answers.steady_state

    def buggy(best, peak, hbm):
        cols = real(best, peak, hbm)
        cols["step_time_s"] = -cols["step_time_s"]
        return cols

    monkeypatch.setattr(chunk_answers, "steady_state", buggy)
    with pytest.raises(result_module.ImpossiblePlan, match="step_time_s"):
        planner.estimate_many(pa.table({"params": ["7B"], "tokens": [1e12], "gpus": [64]}))


def test_parquet_written_rows_pass_the_checks(tmp_path):
    out = tmp_path / "out"
    sweeping.sweep(SMALL, out, chunk_rows=4)
    t = pq.read_table(out / ds.part_name(0))
    assert min(t.column("mfu").to_pylist()) > 0 and max(t.column("mfu").to_pylist()) <= 1


def test_an_impossible_budget_answer_never_leaves(monkeypatch):
    from planner.plan import options

    real = options.steady_state

    def buggy(best, peak, hbm):
        cols = real(best, peak, hbm)
        cols["hfu"] = cols["hfu"] * 0.5  # HFU below MFU
        return cols

    monkeypatch.setattr(options, "steady_state", buggy)
    with pytest.raises(result_module.ImpossiblePlan, match="above hfu"):
        planner.budget(usd="10M", gpu="h100-sxm")


def test_an_inventory_beyond_the_largest_cluster_is_refused():  # was a CP-SAT TypeError
    refused("estimate", "--params", "7B", "--tokens", "1T", "--inventory", "h100-sxm=1e30",
            says="--inventory: '1e30' is too large")


def test_every_row_refused_is_a_table_of_errors():  # each raised inside estimate_many before
    out = planner.estimate_many(pa.table({"params": pa.array([None, None], pa.string()),
                                          "tokens": ["1T", "2T"], "gpus": [64, 64]}))
    assert all("--params" in e for e in out.column("error").to_pylist())
    out = planner.estimate_many(pa.table({"params": ["7B"], "tokens": pa.array([None],
                                                                               pa.string()),
                                          "gpus": [64]}))
    assert "--tokens" in out.column("error")[0].as_py()


@pytest.mark.parametrize("run, says", [
    ({"params": "abc"}, "runs[0].params: 'abc' is not a count"),
    ({"workload": "llama3.1-8b"}, "runs[0].params: '1B' conflicts with workload"),
    # a precision its own gpu list cannot run is a contradiction inside the run's keys
    ({"precision": "fp4", "gpu": "h100-sxm"},
     "runs[0].precision: 'fp4' has no peak on h100-sxm (its gpu)"),
])
def test_a_fleet_runs_bad_inputs_are_named_not_reported_as_no_option(run, says):
    with pytest.raises(InputError) as exc:  # was INFEASIBLE: "no layout fits or makes progress"
        fleet.schedule(_small_fleet(**run))
    assert says in str(exc.value)


def test_a_precision_no_delivered_type_runs_is_the_runs_answer_not_the_fleets_error():
    # a run that names no gpu, whose precision none of the delivered types runs, is left out
    # with that reason (binding devices), as a run whose gpu is not delivered is; it had
    # refused the whole fleet ("run r1 on h100-sxm: precision: 'fp4' has no peak")
    d = fleet.schedule(_small_fleet(precision="fp4")).to_dict()
    assert d["status"] == "INFEASIBLE" and d["binding"] == "devices"
    assert "runs its precision fp4 (fleet.runs[0].precision)" in d["reason"]
    assert "h100-sxm has a peak for bf16, fp8" in d["reason"]


def test_a_shape_flag_over_a_workload_is_applied_and_reported():
    plan = planner.estimate(workload="llama3.1-405b", layers=64, gpus=16384)
    assert plan.workload["layers"] == 64
    assert plan.assumptions["architecture"] == {
        "value": "layers=64", "source": "given (--layers) over the shape of workload "
                                        "llama3.1-405b"}


def test_a_precision_refused_on_v100_names_its_fp16_peak():
    # V100 has no BF16 (its "bf16" peak is FP16 tensor cores): the accepted form said "(bf16)"
    with pytest.raises(InputError) as exc:
        planner.estimate(params="7B", tokens="1T", gpu="v100", gpus=8, precision="fp8")
    assert "a precision v100 has a peak for (fp16 (bf16 runs as FP16))" in str(exc.value)


def test_library_objects_refuse_in_place_edits_and_bad_calls_name_the_input():
    # was: acc.peak_flops["bf16"] *= 1.1 moved every later plan of the session (the catalog's
    # objects are cached and shared); cat.keys("gpus"), h100.peak("fp32") and
    # planner.Assumptions(nope=1) raised bare KeyError / TypeError
    import copy
    import dataclasses
    import pickle

    import planner
    from planner.errors import InputError

    cat = planner.catalog()
    h100 = cat.accelerator("h100-sxm")
    with pytest.raises(TypeError, match="catalog figures are read-only"):
        h100.peak_flops["bf16"] = 1.0
    with pytest.raises(TypeError, match="read-only"):
        cat.workload("llama3-70b").figures.clear()
    assert pickle.loads(pickle.dumps(h100)).peak_flops == h100.peak_flops
    assert copy.deepcopy(h100).peak_flops == h100.peak_flops
    faster = dataclasses.replace(h100, peak_flops={**h100.peak_flops, "bf16": 2e15})
    assert faster.peak("bf16") == 2e15 and h100.peak("bf16") == 989.4e12
    assert h100.peak("BF16") == h100.peak("bf16")
    with pytest.raises(InputError, match="'fp32' has no peak on h100-sxm; accepted: a "
                                         "precision h100-sxm has a peak for: bf16, fp8"):
        h100.peak("fp32")
    with pytest.raises(KeyError):  # a lookup of its peaks, as before
        h100.peak("fp4")
    with pytest.raises(InputError, match=r"kind: 'accelerator' is not a catalog kind \(did "
                                         "you mean accelerators\\?\\)"):
        cat.keys("accelerator")
    assert planner.catalog_table(cat, "sites") == planner.catalog_table(cat, ("sites",))
    with pytest.raises(InputError, match="Assumptions gemm_efficieny: 1 is not an assumption "
                                         r"\(did you mean gemm_efficiency\?\)"):
        planner.Assumptions(gemm_efficieny=1)
    assert issubclass(planner.OutputError, ValueError)
    assert issubclass(planner.ChartError, ValueError)


def test_a_workload_that_is_no_name_or_path_is_named():
    # was: OSError (file name too long) from a 300-character name, and a Workload object
    # taken for a path: exit 1 "internal error" on the command line
    import planner
    from planner.errors import InputError

    with pytest.raises(InputError, match="--workload: 'x{57}...' is no key and no usable "
                                         r"path \(File name too long\)"):
        planner.estimate(workload="x" * 300, tokens="1T", gpus=64)
    with pytest.raises(InputError, match="--workload: is of type Workload, not a key or a "
                                         "path; accepted: .*its .key, with catalog="):
        planner.estimate(workload=planner.catalog().workload("llama3-70b"), gpus=64)


def test_a_plan_that_never_ends_reads_none_on_the_object_as_in_its_json():
    # was: plan.training_days inf while to_dict() gave None
    import planner

    plan = planner.estimate(params="70B", tokens="2T", gpus=8192,
                            assumptions={"failure_rate_per_device_hour": 1.0})
    assert not plan.feasible and plan.binding == "reliability"
    assert plan.training_days is None and plan.gpu_hours is None and plan.co2_t is None
    assert plan.to_dict()["training_days"] is None
    assert "fails every 0.439 seconds on average" in plan.reason  # not "0.0 minutes"


def test_a_team_given_twice_must_agree_and_takes_either_spelling():
    # was: --assume team='frontier lab' --team company planned the company fit and labelled
    # it frontier lab; --assume team=frontier_lab was refused where --team took it
    import planner
    from planner.errors import InputError

    with pytest.raises(InputError, match="--team: 'company' conflicts with --assume "
                                         "team='frontier lab'"):
        planner.estimate(params="70B", tokens="2T", gpus=1024, team="company",
                         assumptions={"team": "frontier lab"})
    plan = planner.estimate(params="70B", tokens="2T", gpus=1024,
                            assumptions={"team": "frontier_lab"}, alternatives=False)
    assert plan.assumptions["team"]["value"] == "frontier lab"


def test_library_calls_name_their_bad_arguments():
    # was: duplicate columns a bare KeyError, pd.NA "is not an amount of money", sensitivity's
    # ranges unpacked blindly (ValueError, IndexError, low above high accepted), budget's
    # trends as a dict an AttributeError, planner.inverse missing before a budget call
    import pandas as pd

    import planner
    from planner.errors import InputError
    from planner.sensitivity import sensitivity

    df = pd.DataFrame([["7B", "1T", 64, 64]], columns=["params", "tokens", "gpus", "gpus"])
    with pytest.raises(InputError, match="column 'gpus': 'gpus' is given twice"):
        planner.estimate_many(df)
    out = planner.estimate_many(pd.DataFrame({
        "params": ["7B"], "tokens": ["1T"], "gpus": [64],
        "price_per_gpu_hour": pd.Series([pd.NA], dtype=object)}))
    assert pd.isna(out.loc[0, "error"]) and out.loc[0, "cost_usd_total"] > 0
    kw = dict(params="7B", tokens="100B", gpus=64)
    with pytest.raises(InputError, match=r"ranges\['restart_s'\]: \(60.0,\) is not valid"):
        sensitivity("cost_usd", ranges={"restart_s": (60.0,)}, **kw)
    with pytest.raises(InputError, match="price_range: .* has its low above its high"):
        sensitivity("cost_usd", price_range=(3.0, 1.0), **kw)
    with pytest.raises(InputError, match="trends: 'nope' is not a trend"):
        planner.budget(usd="1M", trends={"nope": 1})
    assert callable(planner.inverse.sensitivity)


def test_a_deadline_shorter_than_a_second_is_refused():
    # was: an assumption deadline_days of 1e-323 (or --deadline 1e-320s) underflowed the
    # limits' arithmetic: ValueError (math domain error) from the hostile-input fuzz
    import planner
    from planner.errors import InputError

    with pytest.raises(InputError, match="deadline_days: 1e-323 is too small"):
        planner.estimate(params="70B", tokens="2T", assumptions={"deadline_days": 1e-323})
    with pytest.raises(InputError, match="--deadline: '1e-320s' is shorter than a second"):
        planner.estimate(params="70B", tokens="2T", deadline="1e-320s")
    out = planner.estimate_many({"params": ["70B"], "tokens": ["2T"], "gpus": [64],
                                 "deadline": [0.5]})
    # a plain number below a day is refused first, as a sweep spec refuses it
    assert out.column("error")[0].as_py().startswith("--deadline: 0.5 is a plain number")


# --- a user's audit, 2026-11-30: shapes and limits that had slipped through ------------------

@pytest.mark.parametrize("args, says", [
    # experts are counted and timed as gated FFNs: a plain one is refused, not miscounted
    (("--layers", "32", "--hidden", "4096", "--heads", "32", "--kv-heads", "8", "--vocab",
      "32000", "--experts", "8", "--top-k", "2", "--expert-ffn", "14336", "--ffn-type",
      "plain"), ["--ffn-type", "does not go with experts"]),
    (("--workload", "mixtral-8x7b", "--ffn-type", "plain"), ["--ffn-type", "with experts"]),
    # an override the shape never reads is refused, not shown as applied
    (("--workload", "mixtral-8x7b", "--ffn", "20000"),
     ["--ffn: 20000 changes nothing in workload mixtral-8x7b", "--expert-ffn"]),
    (("--workload", "deepseek-v3", "--kv-heads", "1"),
     ["--kv-heads: 1 changes nothing", "Latent Attention"]),
    # the missing flag is the one named
    (("--workload", "llama3.1-8b", "--experts", "8"), ["--top-k: is missing"]),
    (("--workload", "llama3.1-8b", "--experts", "8", "--top-k", "2"),
     ["--expert-ffn: is missing"]),
    # a budget of nothing, like every other limit of zero
    (("--params", "1T", "--budget", "0"), ["--budget: '0' must be greater than zero"]),
])
def test_audited_shapes_and_limits_are_refused(args, says):
    refused("estimate", "--tokens", "1T", "--gpus", "64", *args, says=says)


def test_budget_command_refuses_a_budget_of_nothing():
    refused("budget", "--usd", "0", says="--usd: '0' must be greater than zero")


def test_shape_flags_infer_a_gated_ffn_under_grouped_kv_heads_and_experts():
    # Llama 3.2 1B's shape: ffn = 4 x hidden, but 8 KV heads of 32: a gated FFN, as its
    # config.json says (FLOPs per token 9.03e9, not the plain FFN's 7.41e9); a MoE shape
    # without --ffn is gated too
    llama = planner.estimate(layers=16, hidden=2048, heads=32, kv_heads=8, ffn=8192,
                             vocab=128256, tokens="1T", gpus=64)
    assert llama.workload["ffn_type"] == "gated"
    gpt = planner.estimate(layers=24, hidden=2048, heads=16, ffn=8192, vocab=50257,
                           tokens="1T", gpus=64)
    assert gpt.workload["ffn_type"] == "plain"  # GPT-3 XL: 4 x hidden, as many KV heads
    moe = planner.estimate(layers=32, hidden=4096, heads=32, kv_heads=8, vocab=32000,
                           experts=8, top_k=2, expert_ffn=14336, tokens="1T", gpus=64)
    assert moe.workload["ffn_type"] == "gated"


@pytest.mark.parametrize("text, says", [
    ('{"model_type": "llama", "num_hidden_layers": ' + "1" + "0" * 400 + "}",
     "a whole number from 1 to 16,777,216"),
    ('{"model_type": "llama", "num_hidden_layers": 1e12, "hidden_size": 4096}',
     "num_hidden_layers = 1000000000000.0; a whole number from 1 to 16,777,216"),
    ("[" * 100000 + "]" * 100000, "nested too deep"),
])
def test_config_json_out_of_reach_is_bad_input(tmp_path, text, says):
    path = tmp_path / "config.json"
    path.write_text(text)
    refused("estimate", "--workload", str(path), "--tokens", "1T", "--gpus", "8", says=says)


def test_catalog_integer_beyond_any_float_is_bad_input(tmp_path):
    src = (Path(planner.__file__).parent.parent / "workloads" / "llama3.1-8b.toml").read_text()
    text = re.sub(r"(?m)^layers = \d+", "layers = 1" + "0" * 400, src)
    path = tmp_path / "huge.toml"
    path.write_text(text)
    refused("estimate", "--workload", str(path), "--tokens", "1T", "--gpus", "8",
            says=["layers", "is too large"])


def test_a_sequence_length_given_twice_must_agree():
    refused("estimate", "--params", "70B", "--tokens", "1T", "--gpus", "1024", "--seq-len",
            "8192", "--assume", "seq_len=4096",
            says="--seq-len: '8192' conflicts with --assume seq_len=4096")
    # the same figure twice is one answer, reported as given
    plan = planner.estimate(params="70B", tokens="1T", gpus=1024, seq_len=4096,
                            assumptions={"seq_len": 4096})
    assert plan.workload["seq_len"] == 4096
    assumed = planner.estimate(params="70B", tokens="1T", gpus=1024,
                               assumptions={"seq_len": 4096})
    row = assumed.assumptions["seq_len"]
    assert row["value"] == 4096 and row["source"] == "given (--assume)"


def test_a_count_assumption_takes_the_count_suffixes():
    from planner.assumptions import parse_overrides

    assert parse_overrides(["global_batch_tokens=16M", "uncertainty_samples=2K"]) == {
        "global_batch_tokens": 16e6, "uncertainty_samples": 2000}
    refused("estimate", "--params", "70B", "--tokens", "1T", "--assume", "gemm_efficiency=5K",
            says="--assume gemm_efficiency: '5K' is not a number")


def test_a_run_that_never_ends_keeps_its_cost_keys_null():
    # a cluster that fails faster than it restarts: no end, no cost, and every key a script
    # reads stays in place as null (docs/interface.md)
    code, text = planner_cli("estimate", "--params", "1T", "--tokens", "15T", "--gpus",
                             "131072", "--assume", "failure_rate_per_device_hour=1e-3",
                             "--format", "json")
    plan = json.loads(text)
    assert plan["feasible"] is False and "no progress" in plan["reason"]
    for key in ("total", "per_trillion_tokens", "per_1e24_flop"):
        assert key in plan["cost_usd"] and plan["cost_usd"][key] is None


def test_a_layout_error_echoes_the_layout_as_typed_and_names_expert_parallelism():
    text = refused("estimate", "--workload", "mixtral-8x7b", "--tokens", "1T", "--gpus", "64",
                   "--layout", "tp=8,pp=2,ep=8,mb=1,vp=1",
                   says=["'tp=8,pp=2,ep=8,mb=1,vp=1' is not valid",
                         "ep dividing dp*cp and the 8 experts"])
    assert "microbatch=" not in text


def test_a_partial_latent_attention_is_refused():
    refused("estimate", "--workload", "llama3.1-8b", "--kv-lora-rank", "512", "--tokens", "1T",
            "--gpus", "8", says="--rope-head-dim: is missing with kv_lora_rank")


def test_the_plan_says_when_no_scored_row_of_its_kind_checks_its_mfu():
    # TPU v5p has scored dense bf16 rows, none of a mixture of experts: the MFU line says so
    code, text = planner_cli("estimate", "--workload", "mixtral-8x7b", "--tokens", "1T",
                             "--gpu", "tpu-v5p", "--gpus", "256")
    assert code == 0 and "no scored throughput row on tpu-v5p at bf16 moe" in text
    # and group-limited routing is shown with the shape it changes
    code, text = planner_cli("estimate", "--workload", "deepseek-v3", "--gpus", "2048",
                             "--gpu", "h800")
    assert "routed within 4/8 groups" in text.splitlines()[0]


def test_a_config_json_in_a_catalogs_workloads_is_named_not_skipped(tmp_path):
    folder = tmp_path / "workloads"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    refused("workloads", "list", "--catalog", str(tmp_path),
            says=["config.json' is not read", "--workload"])


def test_a_goodput_short_of_the_whole_does_not_read_as_the_whole():
    from planner.units import fmt_pct

    assert fmt_pct(0.99996) == ">99.9%" and fmt_pct(1.0) == "100.0%"
    assert fmt_pct(0.0001) == "<0.1%" and fmt_pct(0.0) == "0.0%" and fmt_pct(0.4123) == "41.2%"


def test_a_batch_too_small_for_the_cluster_is_named_not_a_circle_of_sizes():
    # one 4,096-token sequence on 100,000 devices: no smaller smooth size lays it out either,
    # so the hint names the batch, not a size (--gpus 1944 on 2,048 had then suggested 1728)
    text = refused("estimate", "--workload", "deepseek-v3", "--gpus", "100000",
                   "--global-batch", "4096", says=["--gpus: 100000 is not valid",
                                                   "the batch binds", "--global-batch"])
    assert "--gpus 98304" not in text
    # on 2,048 the size offered lays it out (tp8 pp54 cp4)
    refused("estimate", "--workload", "deepseek-v3", "--gpus", "2048", "--global-batch",
            "4096", says="--gpus 1728")
    assert planner.estimate(workload="deepseek-v3", gpus=1728, global_batch=4096).feasible
    refused("estimate", "--params", "405B", "--tokens", "15T", "--gpus", "50608",
            says="--gpus 49152")


def test_a_deadline_as_a_timedelta_is_its_seconds_and_a_negative_budget_names_one_form():
    # pandas' Timedelta (a datetime.timedelta) had been "not a duration"; a negative budget
    # had been told "a non-negative USD amount" though zero is refused
    import datetime

    import numpy as np
    import pandas as pd

    from planner.plan.quantities import parse_budget, parse_deadline

    for d in (datetime.timedelta(days=90), pd.Timedelta(days=90), np.timedelta64(90, "D")):
        assert parse_deadline(d) == 90 * 86400
    with pytest.raises(InputError, match="accepted: an amount of money greater than zero"):
        parse_budget(-5)
    out = planner.estimate_many(pd.DataFrame({"params": ["7B"], "tokens": ["1T"], "gpus": [64],
                                              "deadline": [pd.Timedelta(days=400)]}))
    assert out["error"].isna()[0] and bool(out["feasible"][0])


def test_an_accelerator_without_scale_out_bandwidth_is_said_to_stay_in_one_domain(tmp_path):
    # a file with only the required figures had read "no valid layout", binding memory, for a
    # model that fits many such devices: the missing figure is what binds
    text = "\n".join([
        'name = "X"', 'vendor = "Me"',
        'release_year = { value = 2025, source = "me", as_of = "2025" }',
        'peak_bf16_tflops = { value = 1000, source = "me", as_of = "2025" }',
        'hbm_gb = { value = 141, source = "me", as_of = "2025" }',
        'hbm_tb_per_s = { value = 4.8, source = "me", as_of = "2025" }',
        'scale_up_gb_per_s = { value = 450, source = "me", as_of = "2025" }',
        'scale_up_domain = { value = 8, source = "me", as_of = "2025" }',
        'devices_per_node = { value = 8, source = "me", as_of = "2025" }']) + "\n"
    cat = user_catalog(tmp_path, "accelerators", "x", text)
    plan = planner.estimate(params="70B", tokens="2T", gpu="x", catalog=str(cat))
    assert not plan.feasible and plan.binding == "unknown"
    assert "no scale-out bandwidth for x" in plan.reason
    small = planner.estimate(params="8B", tokens="2T", gpu="x", catalog=str(cat))
    assert small.assumptions["scale_out_gb_per_s"]["value"] == "unknown"
    assert "stays inside one scale-up domain" in small.assumptions["scale_out_gb_per_s"]["source"]
