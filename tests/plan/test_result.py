"""plan/result.py: the Plan answer and its JSON form.

Covers Plan.to_dict (nan and inf become None, numpy scalars become Python numbers, at any
depth), to_json round-tripping through json.loads, the repr of feasible and infeasible plans,
and empty_plan (every figure None, the binding and reason kept).
"""

import json
import math
from dataclasses import fields

import numpy as np

import planner
from planner.plan.result import FIGURES, Plan, clean_json, empty_plan

WORKLOAD = {"params": np.float64(7e9), "tokens": 3e11, "layers": np.int64(32), "name": "x"}
CLUSTER = {"accelerator": "h100-sxm", "gpus": np.int64(1024), "nodes": 128, "network": None}


def _plan(**over) -> Plan:
    base = dict(
        feasible=True, reason=None, binding="deadline", workload=WORKLOAD, cluster=CLUSTER,
        layout={"tp": np.int64(8), "pp": 2, "recompute": "none"},
        model_flops=np.float64(1.26e22), hardware_flops=float("inf"),
        step_time_s=np.float32(2.5), tokens_per_s=6.5e6, tflops_per_gpu=400.0, mfu=0.4123,
        hfu=np.float64(0.5), memory_gb_per_gpu=float("nan"), memory_free_gb_per_gpu=None,
        memory_breakdown_gb={"weights": np.float64(14.0), "other": np.float64("nan")},
        time_breakdown_s={"compute": 2.0, "dp_comm": np.float64("-inf")},
        bottleneck="dp_comm", goodput=np.float64(0.97), training_days=30.26,
        gpu_hours=743_669.76, power_mw=1.5, power_peak_mw=1.5, power_average_mw=1.24,
        energy_mwh=1089.4, co2_t=np.nan,
        cost_usd={"total": 12.345e6, "by_method": {"cloud": 12.345e6, "owned": np.nan}},
        cost_method="cloud", assumptions={"pue": {"value": np.float64(1.1), "source": "site"}},
        alternatives=[{"gpus": np.int64(8), "training_days": np.inf}],
        reliability={"mtbf_s": np.float64("inf")})
    base.update(over)
    return Plan(**base)


def test_to_dict_turns_nan_and_inf_into_none():
    d = _plan().to_dict()
    assert d["hardware_flops"] is None and d["memory_gb_per_gpu"] is None
    assert d["co2_t"] is None
    assert d["memory_breakdown_gb"] == {"weights": 14.0, "other": None}
    assert d["time_breakdown_s"] == {"compute": 2.0, "dp_comm": None}
    assert d["cost_usd"]["by_method"] == {"cloud": 12.345e6, "owned": None}
    assert d["alternatives"] == [{"gpus": 8, "training_days": None}]
    assert d["reliability"] == {"mtbf_s": None}
    assert d["cluster"]["network"] is None  # None stays None


def test_to_dict_turns_numpy_scalars_into_python():
    d = _plan().to_dict()
    assert type(d["model_flops"]) is float and d["model_flops"] == 1.26e22
    assert type(d["step_time_s"]) is float and d["step_time_s"] == 2.5
    assert type(d["cluster"]["gpus"]) is int and d["cluster"]["gpus"] == 1024
    assert type(d["layout"]["tp"]) is int and type(d["workload"]["layers"]) is int
    assert type(d["assumptions"]["pue"]["value"]) is float
    assert type(d["alternatives"][0]["gpus"]) is int

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        else:
            assert not isinstance(x, np.generic), x
            assert not (isinstance(x, float) and not math.isfinite(x)), x

    walk(d)
    assert list(d) == [f.name for f in fields(Plan)]


def test_clean_json_of_tuples_and_plain_values():
    assert clean_json((np.int32(3), [np.float16(0.5), float("nan")])) == [3, [0.5, None]]
    assert clean_json({"a": np.bool_(True), "b": "text", "c": None}) == \
        {"a": True, "b": "text", "c": None}


def test_to_json_round_trips():
    p = _plan()
    text = p.to_json()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == p.to_dict()
    assert json.loads(p.to_json(indent=None)) == p.to_dict()
    assert "\n" not in p.to_json(indent=None) and "\n" in text


def test_a_real_plan_round_trips_through_json():
    plan = planner.estimate(params="7B", tokens="300B", gpus=64)
    d = plan.to_dict()
    assert json.loads(plan.to_json()) == d
    assert d["cluster"]["gpus"] == 64 and d["training_days"] == plan.training_days


def test_repr_of_a_feasible_plan():
    assert repr(_plan()) == "Plan(1024 x h100-sxm, 30.3 days, MFU 41.2%, $12.3M cloud)"
    owned = _plan(cost_usd={"total": 2.5e9}, cost_method="owned", mfu=0.5, training_days=1.04)
    assert repr(owned) == "Plan(1024 x h100-sxm, 1.0 days, MFU 50.0%, $2.50B owned)"


def test_repr_of_an_infeasible_plan():
    p = _plan(feasible=False, binding="power", reason="needs 212.0 MW (65,536 x b200), cap "
              "150.0 MW")
    assert repr(p) == ("Plan(infeasible, binding='power': needs 212.0 MW (65,536 x b200), "
                       "cap 150.0 MW)")


def test_empty_plan_leaves_every_figure_none():
    p = empty_plan({"name": "w"}, {"gpus": 8, "accelerator": "h100-sxm"}, {"pue": 1.1},
                   "memory", "no layout fits in memory")
    assert not p.feasible
    assert (p.binding, p.reason) == ("memory", "no layout fits in memory")
    assert all(getattr(p, k) is None for k in FIGURES) and p.layout is None
    assert p.workload == {"name": "w"} and p.cluster["gpus"] == 8
    assert p.assumptions == {"pue": 1.1}
    assert (p.p10, p.p50, p.p90, p.within_limits, p.reliability, p.realisation,
            p.sizing) == (None,) * 7
    assert p.alternatives == []
    d = p.to_dict()
    assert all(d[k] is None for k in FIGURES)
    # the figures are every field beyond the answer's identity and its context
    rest = {"feasible", "reason", "binding", "workload", "cluster", "layout", "assumptions",
            "p10", "p50", "p90", "within_limits", "reliability", "realisation", "alternatives",
            "sizing", "capex_usd"}
    assert set(FIGURES) == {f.name for f in fields(Plan)} - rest
    assert repr(p) == "Plan(infeasible, binding='memory': no layout fits in memory)"


def test_the_plans_fields_are_the_declared_columns():
    # plan/fields.py declares every flat column; a Plan flattened (less its tables of
    # assumptions, alternatives and sizing) has exactly those columns, no more, no fewer.
    from planner.many.scenarios import context
    from planner.plan.fields import ASSUMPTION_COLUMNS, columns
    from planner.report import flatten

    plan = planner.estimate(params="7B", tokens="1T", gpus=64, uncertainty=True,
                            ownership="owned", deadline="1000d", budget="$100M",
                            power_cap="10MW")  # every limit: within_limits has each
    flat = flatten({k: v for k, v in plan.to_dict().items()
                    if k not in ("assumptions", "alternatives", "sizing")})
    keys = context().cost_keys
    declared = {name for name, _, _ in columns(keys)}
    # columns a plan carries elsewhere: the row's error, figures of its assumptions table,
    # and the components of the cost method it was not priced by (their total is by_method)
    extra = {"error"} | {f"assumptions_{name}_value" for name, _, _ in ASSUMPTION_COLUMNS}
    extra |= {f"cost_usd_{k}" for k in keys["cloud"] if k != "total"}
    assert set(flat) == declared - extra


def test_method_keys_are_the_cost_models_keys():
    # the money columns follow the cost model: run.outcome's cost dicts, method by method
    from planner.model import run
    from planner.model.cost import METHOD_KEYS

    out = run.outcome(8, 1e6, checkpoint_s=10.0, device_power_w=1e3, pue=1.1, peak_pue=1.2,
                      cloud_usd_per_hour=2.0, energy_usd_per_kwh=0.08, device_usd=3e4,
                      server_usd_per_device=1e4, capex_usd_per_mw=1e7,
                      grid_kg_co2_per_mwh=400.0, asm=planner.Assumptions())
    assert {m: tuple(c) for m, c in out["cost"].items()} == METHOD_KEYS


def test_a_plans_frame_is_one_row_of_estimate_many_columns_exactly():
    import pandas as pd

    plan = planner.estimate(params="70B", tokens="2T", gpu="h100-sxm", gpus=1024)
    frame = plan.to_frame()
    many = planner.estimate_many(pd.DataFrame({"params": ["70B"], "tokens": ["2T"],
                                               "gpu": ["h100-sxm"], "gpus": [1024]}))
    answers = many.iloc[:, 4:]  # after the caller's four input columns
    assert list(frame.columns) == list(answers.columns)
    for c in frame.columns:
        a, b = frame.loc[0, c], answers.loc[0, c]
        assert (pd.isna(a) and pd.isna(b)) or a == b, c
        assert str(frame[c].dtype) == str(answers[c].dtype), c
    assert len(pd.concat([frame, answers])) == 2
