"""plan/assemble.py: a plan's figures assembled from arrays, worked on hand-made inputs.

Covers run_figures (cloud cost = device-hours x price exactly; owned components add up to the
owned total; each row keeps its own method's components; cost per trillion tokens; model FLOPs
= per-token FLOPs x tokens), steady_state (TFLOP/s per device = MFU x peak / 1e12; GB =
bytes / 1e9), judge (a stuck row binds on reliability; broken limits bind in LIMITS order with
their reasons joined by '; '; feasible rows keep the given binding; a missed deadline is put
down to a cause taking at least FRONTIER_SHARE of the time), no_fit_reason's wording, and
workload_figures / cluster_figures against the catalog.
"""

import math

import numpy as np
import pytest

import planner
from planner.assumptions import DEFAULT
from planner.catalog import catalog
from planner.model.cost import OWNED_COMPONENTS
from planner.model.layouts import LAYOUT_FIELDS
from planner.model.reliability import RELIABILITY_KEYS
from planner.model.search import FIGURES, FITS, NO_FIT, NO_STEP, Best
from planner.model.step import MEMORY_KEYS, TIME_KEYS
from planner.plan import fields
from planner.plan.assemble import (
    FRONTIER_SHARE,
    cluster_figures,
    frontier,
    judge,
    no_fit_reason,
    reliability_reason,
    run_figures,
    steady_state,
    workload_figures,
)
from planner.plan.limits import LIMITS, breach_text

METHODS = ("cloud", "owned")
CAT = catalog()

# --- run_figures -------------------------------------------------------------------------------
# Three rows: 1,024 devices rented, 2,048 owned, 512 rented at an unknown price.
DEVICES = np.array([1024.0, 2048.0, 512.0])
TOKENS = 2e12
TOKENS_PER_S = np.array([4.0e6, 7.5e6, 2.0e6])
MODEL_FPT = np.array([4.2e10, 4.2e10, 4.2e10])
HW_FPT = np.array([5.6e10, 4.2e10, 4.2e10])
INPUTS = {"checkpoint_s": np.array([5.0, 5.0, 5.0]),
          "device_power_w": np.array([1275.0, 1275.0, 1275.0]),
          "pue": np.array([1.1, 1.3, 1.2]),
          "peak_pue": np.array([1.2, 1.45, 1.3]),
          "cloud_usd_per_hour": np.array([2.35, 2.35, np.nan]),
          "energy_usd_per_kwh": np.array([0.08, 0.06, 0.08]),
          "device_usd": np.array([25e3, 25e3, 25e3]),
          "server_usd_per_device": np.array([40e3, 40e3, 40e3]),
          "capex_usd_per_mw": np.array([10e6, 10e6, 10e6]),
          "grid_kg_co2_per_mwh": np.array([400.0, 400.0, 400.0])}
METHOD = np.array([0, 1, 0])


@pytest.fixture(scope="module")
def run():
    return run_figures(DEVICES, TOKENS, TOKENS_PER_S, MODEL_FPT, HW_FPT, INPUTS, DEFAULT,
                       METHOD, METHODS)


def test_cloud_cost_is_device_hours_times_price_exactly(run):
    assert run["gpu_hours"][0] == DEVICES[0] * run["wall_s"][0] / 3600.0
    assert run["cost_usd_total"][0] == run["gpu_hours"][0] * 2.35
    assert run["cost_usd_compute"][0] == run["cost_usd_total"][0]
    # the owned row's cloud total is kept by method, at its own price
    assert run["cost_usd_by_method_cloud"][1] == run["gpu_hours"][1] * 2.35
    # an unknown price is an unknown cost, never zero
    assert math.isnan(run["cost_usd_total"][2]) and math.isnan(run["cost_usd_compute"][2])
    assert math.isnan(run["cost_usd_per_trillion_tokens"][2])


def test_owned_components_add_up_to_the_owned_total(run):
    parts = [run[f"cost_usd_{c}"][1] for c in OWNED_COMPONENTS]
    assert all(p > 0 for p in parts)
    assert sum(parts) == run["cost_usd_total"][1] == run["cost_usd_by_method_owned"][1]
    # the energy component: facility MWh x 1000 kWh/MWh x $0.06
    assert run["cost_usd_energy"][1] == pytest.approx(run["energy_mwh"][1] * 1000 * 0.06,
                                                      rel=1e-12)


def test_each_row_keeps_its_own_methods_components(run):
    for c in OWNED_COMPONENTS:
        assert math.isnan(run[f"cost_usd_{c}"][0]) and math.isnan(run[f"cost_usd_{c}"][2])
        assert math.isfinite(run[f"cost_usd_{c}"][1])
    assert math.isnan(run["cost_usd_compute"][1])
    # both methods' totals are kept for every row whose prices are known
    assert np.isfinite(run["cost_usd_by_method_owned"]).all()
    assert math.isfinite(run["cost_usd_by_method_cloud"][0])


def test_cost_per_unit_and_flops(run):
    total = run["cost_usd_total"]
    np.testing.assert_allclose(run["cost_usd_per_trillion_tokens"][:2], total[:2] / 2.0,
                               rtol=1e-15)
    assert (run["model_flops"] == MODEL_FPT * TOKENS).all()
    assert (run["hardware_flops"] == HW_FPT * TOKENS).all()
    np.testing.assert_allclose(run["cost_usd_per_1e24_flop"][:2],
                               total[:2] / (MODEL_FPT[:2] * TOKENS / 1e24), rtol=1e-15)
    assert (run["assumptions_price_per_gpu_hour_value"][:2] == 2.35).all()
    assert (run["assumptions_pue_value"] == INPUTS["pue"]).all()
    assert (run["assumptions_peak_pue_value"] == INPUTS["peak_pue"]).all()


def test_run_time_power_and_energy(run):
    compute_s = TOKENS / TOKENS_PER_S
    assert np.all((run["goodput"] > 0.9) & (run["goodput"] < 1))  # ~1-2k devices
    # the ideal run: useful time over goodput; the realised: x the realisation multiplier
    np.testing.assert_allclose(run["ideal_training_days"] * 86400, compute_s / run["goodput"],
                               rtol=1e-12)
    np.testing.assert_allclose(run["wall_s"], compute_s / run["goodput"]
                               * run["realisation_multiplier"], rtol=1e-12)
    np.testing.assert_allclose(run["training_days"], run["wall_s"] / 86400, rtol=1e-15)
    # peak facility power (the headline, what the site supplies): devices x W at the server's
    # maximum x (1 + network share) x peak PUE; the average: x utilisation, at the annual PUE
    it_peak_mw = DEVICES * 1275.0 * (1 + DEFAULT.network_power_fraction) / 1e6
    np.testing.assert_allclose(run["power_mw"], it_peak_mw * INPUTS["peak_pue"], rtol=1e-12)
    np.testing.assert_allclose(run["power_peak_mw"], run["power_mw"], rtol=0)
    np.testing.assert_allclose(run["power_average_mw"],
                               it_peak_mw * DEFAULT.power_utilisation * INPUTS["pue"],
                               rtol=1e-12)
    assert (run["power_average_mw"] < run["power_mw"]).all()
    # the energy bill integrates the average draw, not the peak
    np.testing.assert_allclose(run["energy_mwh"],
                               run["power_average_mw"] * run["training_days"] * 24, rtol=1e-12)
    np.testing.assert_allclose(run["co2_t"], run["energy_mwh"] * 0.4, rtol=1e-12)
    assert set(RELIABILITY_KEYS) <= {k[len("reliability_"):] for k in run
                                     if k.startswith("reliability_")}


# --- steady_state ------------------------------------------------------------------------------

def _best() -> Best:
    """Two keys: one fits (hand-set figures), one does not (NaN figures)."""
    figures = np.full((2, len(FIGURES)), np.nan)
    col = {name: j for j, name in enumerate(FIGURES)}
    row = {"step_time_s": 10.0, "tokens_per_s": 1.6e6, "mfu": 0.45, "hfu": 0.6,
           "memory_bytes": 61.5e9, "batch_seqs": 2048.0, "model_flops_per_token": 4.2e10,
           "hardware_flops_per_token": 5.6e10,
           **{f"time_{k}": 0.0 for k in TIME_KEYS},
           **{f"memory_{k}": 0.0 for k in MEMORY_KEYS}}
    row.update({"time_compute": 7.0, "time_tp_comm": 0.5, "time_pp_bubble": 2.0,
                "time_dp_comm": 0.5, "memory_weights": 14e9, "memory_grads": 14e9,
                "memory_optimizer": 28e9, "memory_activations": 5.5e9})
    for name, v in row.items():
        figures[0, col[name]] = v
    layouts = np.zeros((2, len(LAYOUT_FIELDS)), np.int64)
    layouts[0] = [8, 4, 32, 1, 1, 1, 1, 2, 1]
    return Best(np.array([FITS, NO_FIT], np.int8), figures, layouts,
                np.array([61.5e9, 95.5e9]), np.array([120, 80]), {})


def test_steady_state_figures():
    peak = np.array([989e12, 989e12])
    s = steady_state(_best(), peak, np.array([80e9, 80e9]))
    assert s["tflops_per_gpu"][0] == 0.45 * 989e12 / 1e12
    assert s["memory_gb_per_gpu"][0] == 61.5
    assert s["memory_free_gb_per_gpu"][0] == pytest.approx(80.0 - 61.5)  # HBM less the peak
    assert s["memory_breakdown_gb_optimizer"][0] == 28.0
    assert s["time_breakdown_s_pp_bubble"][0] == 2.0
    assert (s["step_time_s"][0], s["tokens_per_s"][0], s["mfu"][0], s["hfu"][0]) == \
        (10.0, 1.6e6, 0.45, 0.6)
    assert s["bottleneck"][0] == "pp_bubble"  # the largest non-compute term
    assert s["layout_tp"][0] == 8 and s["layout_dp"][0] == 32 and s["layout_recompute"][0] == 2
    # the parts add up to the whole
    assert sum(s[f"memory_breakdown_gb_{k}"][0] for k in MEMORY_KEYS) == pytest.approx(61.5)
    assert sum(s[f"time_breakdown_s_{k}"][0] for k in TIME_KEYS) == pytest.approx(10.0)
    # the key that does not fit has no figures
    assert all(math.isnan(s[k][1]) for k in ("step_time_s", "tflops_per_gpu", "mfu",
                                             "memory_gb_per_gpu", "memory_free_gb_per_gpu"))


# --- judge -------------------------------------------------------------------------------------

def _rows(n: int, **given) -> dict:
    """n judged rows: 1,024 devices, 50 days, 10 MW, $50M, a compute-bound step, goodput 0.95;
    ``given`` replaces columns (lists)."""
    rows = {"cluster_gpus": [1024.0] * n, "training_days": [50.0] * n, "power_mw": [10.0] * n,
            "cost_usd_total": [50e6] * n, "wall_s": [50 * 86400.0] * n,
            "reliability_mtbf_s": [30_000.0] * n, "step_time_s": [10.0] * n,
            "goodput": [0.95] * n, "workload_global_batch_tokens": [2048 * 8192.0] * n,
            "workload_seq_len": [8192.0] * n, "layout_dp": [512] * n,
            "layout_microbatch": [1] * n}
    for k in TIME_KEYS:
        rows[f"time_breakdown_s_{k}"] = [10.0 if k == "compute" else 0.0] * n
    rows.update(given)
    return {k: np.array(v, dtype=object if k == "bottleneck" else float) for k, v in
            rows.items()}


def _limits(n: int, **given) -> dict:
    return {k: np.array(given.get(k, [np.nan] * n), dtype=float) for k in LIMITS}


def test_a_stuck_row_binds_on_reliability_with_its_reason():
    rows = _rows(2, cluster_gpus=[1e6, 1024.0], wall_s=[np.inf, 50 * 86400.0],
                 training_days=[np.inf, 50.0], reliability_mtbf_s=[300.0, 30_000.0])
    feasible, binding, reason = judge(rows, _limits(2, deadline=[90.0, 90.0]),
                                      ["h100-sxm"] * 2, "gpus", DEFAULT)
    assert feasible.tolist() == [False, True]
    assert binding.tolist() == ["reliability", "gpus"]
    assert reason[0] == reliability_reason(1_000_000, 300.0, DEFAULT) == (
        "at 1,000,000 devices the cluster fails every 5.0 minutes on average, within the "
        "3-minute restart plus the work redone: no progress (goodput below 1%); fewer devices, "
        "faster restarts or a lower failure rate")
    assert reason[1] is None
    _, quiet, words = judge(rows, _limits(2, deadline=[90.0, 90.0]), ["h100-sxm"] * 2, "gpus",
                            DEFAULT, texts=False)
    assert quiet.tolist() == ["reliability", "gpus"] and words.tolist() == [None, None]


def test_broken_limits_bind_in_limits_order_with_reasons_joined():
    rows = _rows(3, training_days=[100.0, 50.0, 50.0], power_mw=[20.0, 20.0, 10.0],
                 cost_usd_total=[50e6, 50e6, 80e6], cluster_gpus=[1024.0, 4096.0, 2048.0])
    lim = _limits(3, deadline=[90.0] * 3, power=[15.0] * 3, budget=[60e6] * 3,
                  max_gpus=[2048.0] * 3, inventory=[1024.0] * 3)
    accs = ["b200", "b200", "h100-sxm"]
    feasible, binding, reason = judge(rows, lim, accs, "deadline", DEFAULT)
    assert not feasible.any()
    assert binding.tolist() == ["deadline", "power", "budget"]
    assert reason[0] == "; ".join([
        breach_text("deadline", 100.0, 90.0, "b200", 1024),
        breach_text("power", 20.0, 15.0, "b200", 1024)])
    assert reason[0] == ("the fastest plan takes 100.0 days (1,024 x b200), deadline 90.0 days; "
                         "needs 20.0 MW (1,024 x b200), cap 15.0 MW")
    assert reason[1] == ("needs 20.0 MW (4,096 x b200), cap 15.0 MW; needs 4,096 devices "
                         "(b200), --max-gpus 2,048; needs 4,096 b200, inventory 1,024")
    assert reason[2] == ("the cheapest plan costs $80.0M (2,048 x h100-sxm), budget $60.0M; "
                         "needs 2,048 h100-sxm, inventory 1,024")
    # texts=False: the same verdicts, no words
    quiet_ok, quiet, words = judge(rows, lim, accs, "deadline", DEFAULT, texts=False)
    assert quiet_ok.tolist() == feasible.tolist() and quiet.tolist() == binding.tolist()
    assert words.tolist() == [None, None, None]


def test_feasible_rows_keep_the_given_binding():
    rows = _rows(3)
    lim = _limits(3, deadline=[50.0, 60.0, np.nan], power=[10.0, np.nan, np.nan])
    feasible, binding, reason = judge(rows, lim, ["h100-sxm"] * 3,
                                      np.array(["deadline", "power", "gpus"], dtype=object),
                                      DEFAULT)
    assert feasible.tolist() == [True, True, True]  # 50 days at a 50-day deadline is on time
    assert binding.tolist() == ["deadline", "power", "gpus"]
    assert reason.tolist() == [None, None, None]


@pytest.mark.parametrize("given, cause, says", [
    (dict(time_breakdown_s_compute=[7.0], time_breakdown_s_pp_bubble=[3.0]), "critical_batch",
     "the global batch of 2,048 sequences leaves each of 512 pipelines 4 microbatches, so the "
     "pipeline bubble takes 30% of the step; more devices do not help without a larger global "
     "batch (--assume global_batch_tokens=N, or estimate's --global-batch: how large a batch "
     "still trains as well is the critical batch size, McCandlish et al. 2018, which the "
     "planner does not model)"),
    (dict(time_breakdown_s_compute=[7.5], time_breakdown_s_tp_comm=[1.0],
          time_breakdown_s_dp_comm=[1.5]), "network",
     "communication takes 25% of the step: the run is bound by data movement, not device "
     "count (mostly the gradients' reduction, once a step: a global batch larger than 2,048 "
     "sequences moves less per token"),
    (dict(time_breakdown_s_compute=[7.5], time_breakdown_s_tp_comm=[2.0],
          time_breakdown_s_dp_comm=[0.5]), "network",
     "communication takes 25% of the step: the run is bound by data movement, not device "
     "count"),
    (dict(goodput=[0.6], reliability_mtbf_s=[1800.0]), "reliability",
     "failures cost 40% of wall time at 1,024 devices (a failure every 30 minutes); larger "
     "clusters lose more to failures than they gain"),
    # exactly FRONTIER_SHARE of the step is enough
    (dict(time_breakdown_s_compute=[9.0], time_breakdown_s_pp_bubble=[1.0]), "critical_batch",
     "pipeline bubble takes 10% of the step"),
])
def test_the_fastest_option_missing_a_deadline_is_put_down_to_its_cause(given, cause, says):
    # a sizing's fastest option (more devices would not help): frontier names the cause
    rows = _rows(1, training_days=[100.0], **given)
    binding, why = frontier(rows, 0)
    assert binding == cause and says in why


def test_the_other_causes_past_the_frontier_share_are_named_with_the_batch_lever():
    # failures 30% of wall time bind; the bubble (2 s of 10: 2,048 sequences over 512
    # pipelines, 4 microbatches each) and the gradients' reduction (1.5 s) take their share too:
    # the batch, which the planner defaults, is the lever for both
    rows = _rows(1, goodput=[0.7], time_breakdown_s_compute=[6.5],
                 time_breakdown_s_pp_bubble=[2.0], time_breakdown_s_dp_comm=[1.5])
    binding, why = frontier(rows, 0)
    assert binding == "reliability"
    assert why.endswith(
        "larger clusters lose more to failures than they gain; also the pipeline bubble takes "
        "20% of the step (4 microbatches per pipeline) and communication takes 15% of the step "
        "(mostly the gradients' reduction): a global batch larger than 2,048 sequences shrinks "
        "the bubble and the gradients' reduction per token (--assume global_batch_tokens=N, or "
        "estimate's --global-batch)")
    # the gradients' reduction the only other cause: it is named, not "both" (an auditor)
    rows = _rows(1, goodput=[0.7], time_breakdown_s_compute=[8.5],
                 time_breakdown_s_dp_comm=[1.5])
    assert frontier(rows, 0)[1].endswith(
        "(mostly the gradients' reduction): a global batch larger than 2,048 sequences shrinks "
        "the gradients' reduction per token (--assume global_batch_tokens=N, or estimate's "
        "--global-batch)")
    # communication by tensor parallelism alone: the batch shrinks the bubble only
    rows = _rows(1, goodput=[0.7], time_breakdown_s_compute=[6.5],
                 time_breakdown_s_pp_bubble=[2.0], time_breakdown_s_tp_comm=[1.5])
    assert frontier(rows, 0)[1].endswith(
        "and communication takes 15% of the step: a global batch larger than 2,048 sequences "
        "shrinks the bubble (--assume global_batch_tokens=N, or estimate's --global-batch)")
    # the main cause already names the batch: the lever is not said twice
    rows = _rows(1, goodput=[0.85], time_breakdown_s_compute=[6.0],
                 time_breakdown_s_pp_bubble=[4.0])
    binding, why = frontier(rows, 0)
    assert binding == "critical_batch" and why.count("--global-batch") == 1
    assert why.endswith("; also failures cost 15% of wall time")


def test_no_cause_below_the_frontier_share():
    assert FRONTIER_SHARE == 0.1
    # bubble 9%, failures 5%: no cause takes a tenth of the time
    rows = _rows(1, training_days=[100.0], time_breakdown_s_compute=[9.1],
                 time_breakdown_s_pp_bubble=[0.9])
    assert frontier(rows, 0) is None


@pytest.mark.parametrize("given", [
    dict(time_breakdown_s_compute=[9.1], time_breakdown_s_pp_bubble=[0.9]),
    dict(time_breakdown_s_compute=[7.0], time_breakdown_s_pp_bubble=[3.0]),
    dict(time_breakdown_s_compute=[8.6], time_breakdown_s_dp_comm=[1.4]),
])
def test_a_given_size_missing_its_deadline_binds_on_the_deadline(given):
    # Issue 14: 1T on 16,384 GPUs with 30 days said "network" with communication at 14% of
    # the step. A given size misses the deadline because it is too small: the deadline binds,
    # and the figure that shows by how much is the devices it would take at this size's
    # throughput per device: ceil(1,024 x 100 / 90) = 1,138.
    rows = _rows(1, training_days=[100.0], **given)
    feasible, binding, reason = judge(rows, _limits(1, deadline=[90.0]), ["h100-sxm"], "gpus",
                                      DEFAULT)
    assert not feasible[0] and binding[0] == "deadline"
    assert reason[0] == ("the fastest plan takes 100.0 days (1,024 x h100-sxm), deadline 90.0 "
                         "days: at this size's throughput per device it needs at least 1,138 "
                         "devices (leave out --gpus, or any layout parts that fix the size, "
                         "to size the cluster)")
    # with the power cap broken too, both are named, the deadline first
    rows = _rows(1, training_days=[100.0], power_mw=[20.0], **given)
    _, binding, reason = judge(rows, _limits(1, deadline=[90.0], power=[15.0]), ["h100-sxm"],
                               "gpus", DEFAULT)
    assert binding[0] == "deadline" and "bubble" not in reason[0] and "MW" in reason[0]


# --- no_fit_reason -----------------------------------------------------------------------------

def test_no_fit_reason_memory_with_gb_numbers():
    assert no_fit_reason(NO_FIT, 95.5e9, "h100-sxm", 80e9, True) == (
        "memory", "no layout fits in memory: the leanest needs 95.5 GB per device, h100-sxm "
        "has 80 GB")
    assert no_fit_reason(NO_FIT, 1234.56e9, "mi300x", 192e9, True) == (
        "memory", "no layout fits in memory: the leanest needs 1,234.6 GB per device, mi300x "
        "has 192 GB")
    # a device's HBM to 3 significant figures (a file's 0.001 GB had read "0 GB")
    assert no_fit_reason(NO_FIT, 95.5e9, "x1", 1e6, True)[1].endswith("x1 has 0.001 GB")
    assert no_fit_reason(NO_FIT, np.nan, "h100-sxm", 80e9, True) == (
        "memory", "no valid layout for this cluster")


def test_no_fit_reason_unknown_bandwidth():
    binding, reason = no_fit_reason(NO_STEP, 10e9, "tpu-v5p", 95e9, False)
    assert binding == "unknown"
    assert reason == ("layouts fit in memory but their step time needs the scale-out "
                      "bandwidth of tpu-v5p, which the catalog does not have (unknown stays "
                      "unknown: add a sourced figure with --catalog)")
    binding, reason = no_fit_reason(NO_STEP, 10e9, "x", 95e9, True)
    assert binding == "unknown" and "needs the network bandwidth of x" in reason


# --- workload and cluster figures --------------------------------------------------------------

def test_workload_figures_of_a_catalog_workload():
    w = CAT.workload("llama2-7b")
    f = workload_figures(w)
    assert list(f) == [name for name, _, _ in fields.WORKLOAD]
    assert f["params"] == f["active_params"] == 6_738_415_616  # Llama 2 7B, counted
    assert (f["layers"], f["hidden"], f["heads"], f["kv_heads"], f["ffn"], f["vocab"]) == \
        (32, 4096, 32, 32, 11008, 32000)
    assert (f["tokens"], f["seq_len"], f["global_batch_tokens"]) == (2e12, 4096, 4194304)
    assert (f["precision"], f["ffn_type"], f["name"], f["experts"], f["top_k"]) == \
        ("bf16", "gated", "Llama 2 7B", 0, 0)
    moe = workload_figures(CAT.workload("deepseek-v3"))
    assert moe["active_params"] < moe["params"] / 10 and moe["experts"] > 0
    assert moe["params"] == pytest.approx(671e9, rel=0.01)


def test_cluster_figures():
    acc = CAT.accelerator("h100-sxm")
    out, site = CAT.network("ib-ndr"), CAT.site("us-hyperscale")
    f = cluster_figures(acc, 100, out, site)
    assert list(f) == [name for name, _, _ in fields.CLUSTER]
    # 100 devices: 13 nodes of 8, 4 racks of 32 (DGX SuperPOD H100: four DGX H100 a rack)
    assert f == {"accelerator": "h100-sxm", "gpus": 100, "nodes": 13, "racks": 4,
                 "unit": "node", "unit_devices": 8, "units": 13, "spare_devices": 4,
                 "scale_up_domain": 8,
                 "network": "ib-ndr", "site": "us-hyperscale"}
    gb = cluster_figures(CAT.accelerator("gb200"), 144, None, None)
    assert (gb["nodes"], gb["racks"], gb["unit"], gb["unit_devices"]) == (36, 2, "rack", 72)
    # a rack the catalog does not size is unknown, not made up
    assert cluster_figures(CAT.accelerator("mi300x"), 64, None, None)["racks"] is None
    assert cluster_figures(acc, 8, None, None, (1, "device"))["unit"] == "device"
    assert cluster_figures(acc, 1024, None, None)["nodes"] == 128
    assert cluster_figures(acc, 1024, None, None)["network"] is None
    assert cluster_figures(acc, 1024, None, None)["site"] is None


def test_a_missed_deadline_names_the_loss_that_grows_with_size_not_the_largest_one():
    # an auditor: failures (21% of wall time, the largest loss at the fastest size, 129,024
    # GB200) were named, where the next size tried loses a point more to failures and 47% of
    # its step to the pipeline bubble (10% before): the batch stops more devices from helping
    # (330 MW, where 300 MW held the 129,024 at GB200's typical 1.667 kW a device)
    # (115 days since 2026-12-03: under Daly's complete failure model the 129,024 take 119.8
    # days and meet 120)
    plan = planner.estimate(params="2.193T", tokens="43.86T", gpu="gb200", power_cap="330MW",
                            deadline="115d")
    assert not plan.feasible and plan.binding == "critical_batch"
    assert "the next size tried" in plan.reason and "pipeline bubble takes" in plan.reason
    options = plan.sizing["options"]
    larger = [d for g, d in zip(options["gpus"], options["training_days"])
              if g > plan.cluster["gpus"] and d is not None]
    assert larger and min(larger) > plan.training_days  # more devices, no sooner
