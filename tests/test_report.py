"""Rendering (planner/report.py): flatten (nested keys joined with '_', lists as JSON text),
plan_csv of a real plan (one header and one row, the sizing option table left out), plan_table
of a feasible and an infeasible plan, catalog_table and catalog_show (every key, each figure's
source), and budget_table of a planner.budget answer."""

import csv
import io
import json

import pytest

import planner
from planner import catalog_view, report
from planner.units import fmt_amount, fmt_count, fmt_days_column, fmt_money, fmt_pct


@pytest.fixture(scope="module")
def cat():
    return planner.catalog()


@pytest.fixture(scope="module")
def feasible():
    return planner.estimate(params="7B", tokens="1T", gpus=64).to_dict()


@pytest.fixture(scope="module")
def sized():
    """A plan sized by a deadline: it carries the sizing block with its option table."""
    return planner.estimate(params="7B", tokens="1T", deadline="30d").to_dict()


@pytest.fixture(scope="module")
def infeasible():
    return planner.estimate(params="1T", tokens="1T", gpu="a100-40gb", gpus=8).to_dict()


def _csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2 and text.count("\n") == 2  # one header line, one row
    return dict(zip(*rows))


# --- flatten ----------------------------------------------------------------------------------

def test_flatten_joins_nested_keys_and_writes_lists_as_json():
    d = {"a": 1, "b": {"c": 2, "d": {"e": None, "f": "x"}}, "g": [1, {"h": 2}], "i": {},
         "j": 1.5, "k": []}
    flat = report.flatten(d)
    assert flat == {"a": 1, "b_c": 2, "b_d_e": None, "b_d_f": "x", "g": '[1, {"h": 2}]',
                    "j": 1.5, "k": "[]"}
    assert list(flat) == ["a", "b_c", "b_d_e", "b_d_f", "g", "j", "k"]
    assert json.loads(flat["g"]) == [1, {"h": 2}]
    assert report.flatten({"x": 1}, "p_") == {"p_x": 1}


# --- plan_csv -----------------------------------------------------------------------------------

def test_plan_csv_is_one_row_of_estimate_many_columns_then_the_sizing(feasible, sized):
    # the same header for every answer (it varied with sizing, uncertainty and cost method,
    # so rows of many calls did not stack): estimate_many's answer columns, then the sizing's
    from planner.model.cost import METHOD_KEYS
    from planner.plan.fields import SIZING_COLUMNS, columns
    from planner.plan.result import answer_csv

    text = answer_csv(feasible)
    assert text.splitlines()[0] == answer_csv(sized).splitlines()[0]
    row = _csv(text)
    assert list(row) == [n for n, _, _ in columns(METHOD_KEYS)] + list(SIZING_COLUMNS)
    assert not any(k.startswith("alternatives") for k in row)
    assert row["feasible"] == "True"
    assert int(row["cluster_gpus"]) == 64 == feasible["cluster"]["gpus"]
    assert row["cluster_accelerator"] == feasible["cluster"]["accelerator"]
    assert int(row["layout_tp"]) == feasible["layout"]["tp"]
    assert row["layout_recompute"] == feasible["layout"]["recompute"]
    assert float(row["cost_usd_total"]) == pytest.approx(feasible["cost_usd"]["total"],
                                                         rel=1e-12)
    assert float(row["training_days"]) == pytest.approx(feasible["training_days"], rel=1e-12)
    assert row["p10_training_days"] == "" and row["sizing_status"] == ""  # None: empty cells
    assert float(row["assumptions_price_per_gpu_hour_value"]) == \
        feasible["assumptions"]["price_per_gpu_hour"]["value"]


def test_plan_csv_leaves_out_the_sizing_option_table(sized):
    from planner.plan.result import answer_csv

    assert sized["sizing"]["options"] and "relaxations" in sized["sizing"]
    row = _csv(answer_csv(sized))
    assert row["sizing_status"] == sized["sizing"]["status"]
    assert float(row["sizing_limits_deadline_days"]) == pytest.approx(30.0)
    assert not any(k.startswith(("sizing_options", "sizing_relaxations")) for k in row)
    assert "sizing_chosen" in row
    assert sized["sizing"]["options"]  # the plan itself is left as it was


# --- plan_table ---------------------------------------------------------------------------------

def _rows_of(table: str) -> dict:
    """The 'name  value' lines of the plain block under the title."""
    out = {}
    for line in table.split("\n\n")[1].splitlines():
        name, _, value = line.partition("  ")
        out[name.strip()] = value.strip()
    return out


def test_plan_table_of_a_feasible_plan(feasible):
    p = feasible
    text = report.plan_table(p)
    w, c, lay = p["workload"], p["cluster"], p["layout"]
    title = text.splitlines()[0]
    assert title.startswith(f"{fmt_count(w['params'])} parameters")
    assert f"L={w['layers']} h={w['hidden']} heads={w['heads']}/{w['kv_heads']}" in title
    assert f"seq {w['seq_len']:,}" in title and title.endswith(w["precision"])
    rows = _rows_of(text)
    assert list(rows) == ["status", "binding limit", "cluster", "layout", "utilisation", "step",
                          "memory", "days", "realisation", "reliability", "GPU-hours", "power",
                          "energy", "cost", "to own it", "model FLOPs"]
    assert rows["status"] == "feasible"
    assert rows["binding limit"] == (p["binding"] or "none")
    assert rows["cluster"].startswith(f"64 x {c['accelerator']} ({c['nodes']} nodes")
    assert rows["layout"] == (f"tp={lay['tp']} pp={lay['pp']} dp={lay['dp']} cp={lay['cp']} "
                              f"ep={lay['ep']} mb={lay['microbatch']} "
                              f"vp={lay['virtual_stages']} recompute={lay['recompute']} "
                              f"zero={lay['zero']}")
    assert rows["utilisation"].startswith(f"MFU {fmt_pct(p['mfu'])}, HFU {fmt_pct(p['hfu'])}")
    assert rows["step"].startswith(f"{fmt_amount(p['step_time_s'])} s")
    assert rows["step"].endswith(f"largest overhead {p['bottleneck']} (0.2%)")
    assert rows["memory"] == (f"{p['memory_gb_per_gpu']:,.1f} of 80 GB per device "
                              f"({p['memory_free_gb_per_gpu']:,.1f} GB free)")
    assert f"goodput {fmt_pct(p['goodput'])}" in rows["reliability"]
    assert rows["days"] == (f"{fmt_days_column(p['training_days'])} expected (ideal "
                            f"{fmt_days_column(p['ideal_training_days'])})")
    assert rows["realisation"].startswith(f"x{p['realisation']['multiplier']:.2f}")
    assert rows["GPU-hours"] == (f"{fmt_count(p['gpu_hours'])} (ideal "
                                 f"{fmt_count(p['ideal_gpu_hours'])})")
    assert rows["cost"].startswith(f"{fmt_money(p['cost_usd']['total'])} {p['cost_method']}")
    assert "owned" in rows["cost"] and "cloud" in rows["cost"]  # the other method too
    assert rows["model FLOPs"].startswith(f"{p['model_flops']:.3g}")
    # then the breakdowns, the alternatives and the assumptions, one block each
    blocks = {b.splitlines()[0].split("  ")[0]: b.splitlines()[2:]
              for b in text.split("\n\n")[2:]}
    assert list(blocks) == ["step time", "memory per device", "alternative", "assumption"]
    step = {line.split()[0]: line.split()[1:] for line in blocks["step time"]}
    assert list(step) == [k for k, v in p["time_breakdown_s"].items() if v > 0]  # only > 0
    for k, (secs, share) in step.items():
        # to 3 significant figures (fmt_amount)
        assert secs == fmt_amount(p["time_breakdown_s"][k])
        assert share == fmt_pct(p["time_breakdown_s"][k] / p["step_time_s"])
    memory = {line.split()[0]: line.split()[1] for line in blocks["memory per device"]}
    assert list(memory) == list(p["memory_breakdown_gb"])
    for k, v in p["memory_breakdown_gb"].items():
        assert memory[k] == fmt_amount(v), k
    assert len(blocks["alternative"]) == len(p["alternatives"])
    assert [line.split()[0] for line in blocks["assumption"]] == list(p["assumptions"])


def test_small_figures_are_not_rounded_to_zero():
    # was: a 70M model on 2,048 H100 (22 seconds, $29) read "0" days in the alternatives,
    # "tp_comm 0 ... 1.5%" and "weights 0" GB in the breakdowns, "0.02 s" a step, and
    # repr(plan) "0.0 days ... $0.0M cloud"; each now as the other figures of its kind
    plan = planner.estimate(params="70M", tokens="10B", gpus=2048)
    p = plan.to_dict()
    text = report.plan_table(p)
    blocks = {b.splitlines()[0].split("  ")[0]: b.splitlines()[2:]
              for b in text.split("\n\n")[2:]}
    step = {ln.split()[0]: ln.split()[1] for ln in blocks["step time"]}
    assert step["tp_comm"] == "0.000342"
    assert step["tp_comm"] == fmt_amount(p["time_breakdown_s"]["tp_comm"])
    memory = {ln.split()[0]: ln.split()[1] for ln in blocks["memory per device"]}
    assert memory["weights"] == fmt_amount(p["memory_breakdown_gb"]["weights"]) == "0.0355"
    assert _rows_of(text)["step"].startswith("0.0222 s, ")
    assert len(blocks["alternative"]) == len(p["alternatives"]) == 3
    for line, alt in zip(blocks["alternative"], p["alternatives"]):
        assert f"  {alt['training_days']:.3g} d  " in line  # 0.000254 d, not 0
    assert repr(plan) == "Plan(2048 x h100-sxm, 0.00609 hours, MFU 17.7%, $29.33 cloud)"


def test_the_headline_days_read_as_the_other_days_figures():
    # was: "119 d expected" (3 significant figures) beside a P50 of "118.7 d" and the
    # deadline's "120.0 days": the headline days now take fmt_days_column, as P10-P90 do
    p = planner.estimate(params="1T", tokens="15T", uncertainty=True).to_dict()
    text = report.plan_table(p)
    days = _rows_of(text)["days"]
    assert days == (f"{p['training_days']:,.1f} d expected "
                    f"(ideal {fmt_days_column(p['ideal_training_days'])})")
    assert 100 < p["training_days"] < 120 and days.startswith("119.3 d expected")
    p50 = next(ln for ln in text.splitlines() if ln.startswith("days (training_days)"))
    assert f"  {fmt_days_column(p['p50']['training_days'])}  " in p50


def test_plan_table_of_an_infeasible_plan(infeasible):
    p = infeasible
    assert not p["feasible"] and p["step_time_s"] is None
    text = report.plan_table(p)
    rows = _rows_of(text)
    assert list(rows) == ["status", "binding limit"]
    assert rows["status"] == f"INFEASIBLE: {p['reason']}"
    assert "no layout fits in memory" in rows["status"]
    assert rows["binding limit"] == "memory"
    # no figures, no breakdowns: the fewest devices a layout fits on (the one alternative),
    # then the assumptions
    blocks = text.split("\n\n")
    assert len(blocks) == 4 and blocks[2].startswith("alternative")
    assert [a["note"].split(",")[0] for a in p["alternatives"]] == \
        ["the fewest devices a layout fits on"]
    assert blocks[3].startswith("assumption")
    assert [line.split()[0] for line in blocks[3].splitlines()[2:]] == list(p["assumptions"])


# --- catalog ------------------------------------------------------------------------------------

def test_catalog_table_lists_every_entry_of_each_kind(cat):
    text = catalog_view.catalog_table(cat, ("accelerators", "networks", "sites", "workloads"))
    blocks = text.split("\n\n")
    assert len(blocks) == 4
    for block, kind, header in zip(blocks, ("accelerators", "networks", "sites", "workloads"),
                                   ("accelerator", "network", "site", "workload")):
        lines = block.splitlines()
        assert lines[0].split()[0] == header
        keys = [line.split()[0] for line in lines[2:]]
        assert keys == [item.key for item in cat.all(kind)], kind
    h100 = next(line for line in blocks[0].splitlines() if line.startswith("h100-sxm "))
    acc = cat.accelerator("h100-sxm")
    assert f"{acc.peak_flops['bf16'] / 1e12:,.0f}" in h100  # 989
    assert f"{acc.hbm_bytes / 1e9:,.0f}" in h100
    a100 = next(line for line in blocks[0].splitlines() if line.startswith("a100-40gb "))
    assert "n/a" in a100  # no fp8 peak


def test_catalog_show_gives_each_figure_with_its_source(cat):
    for acc in cat.all("accelerators"):
        text = catalog_view.catalog_show(cat, "accelerators", acc.key)
        path = cat.path("accelerators", acc.key)
        assert text.splitlines()[0] == f"accelerator {acc.key} ({path})"
        raw = cat.raw("accelerators", acc.key)
        for k, v in raw.items():
            if isinstance(v, dict) and "value" in v:
                shown = f"{v['value']:,}" if abs(v["value"]) >= 1e4 else str(v["value"])
                assert k in text and shown in text, (acc.key, k)
    text = catalog_view.catalog_show(cat, "accelerators", "h100-sxm")
    line = next(line for line in text.splitlines() if line.startswith("peak_bf16_tflops"))
    figure = cat.raw("accelerators", "h100-sxm")["peak_bf16_tflops"]
    assert "989.4" in line and figure["source"][:20] in line
    assert f"({figure['as_of']})" in text
    assert "source" in text.splitlines()[1]


def test_catalog_show_of_a_workload_lists_its_references(cat):
    text = catalog_view.catalog_show(cat, "workloads", "llama3.1-405b")
    assert text.startswith("workload llama3.1-405b (")
    raw = cat.raw("workloads", "llama3.1-405b")
    refs = [ref for v in raw.values() if isinstance(v, list) and v and isinstance(v[0], dict)
            for ref in v]
    assert refs
    for ref in refs:
        if ref.get("row_id"):
            assert str(ref["row_id"]) in text


# --- budget_table -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def answer():
    return planner.budget(gpus=64, gpu="h100-sxm", deadline="5d", params="1B",
                          tolerance=0.5).to_dict()


def test_budget_table_shows_the_limits_the_run_and_its_plan(answer):
    inv = answer["inverse"]
    assert answer["feasible"] and answer["workload"]
    text = report.budget_table(answer)
    lines = text.splitlines()
    # named as a reader names them (issue 14: not "deadline_s 150 d")
    assert lines[0] == "limits: deadline 5.00 d, devices 64"
    assert lines[1] == f"rule: {inv['rule']}"
    largest = next(line for line in lines if line.startswith("largest run"))
    assert (f"{fmt_count(inv['params'])} parameters x {fmt_count(inv['tokens'])} tokens = "
            f"{inv['model_flops']:.3g} FLOP") in largest
    assert any(line.startswith(f"binding limit  {answer['binding']}: ") for line in lines)
    considered = next(line for line in lines if line.startswith("h100-sxm "))
    c = inv["considered"][0]
    assert considered.split()[:3] == ["h100-sxm", f"${c['price_per_gpu_hour']:,.2f}",
                                      fmt_count(c["params"])]
    assert "the plan that trains it:" in lines
    plan = text.split("the plan that trains it:\n", 1)[1]
    assert plan == report.plan_table({**answer, "reason": None})
    assert _rows_of(plan)["status"] == "feasible"
    assert _rows_of(plan)["cluster"].startswith("64 x h100-sxm")


def test_budget_table_when_no_run_fits(answer):
    none = {**answer, "feasible": False, "workload": None, "reason": "nothing fits"}
    none["inverse"] = {**answer["inverse"], "year": 2027,
                       "limits": {"usd": 1e6, "power_cap_w": 2e7, "deadline_s": None}}
    text = report.budget_table(none)
    trends = answer["inverse"]["trends"]
    assert text.splitlines() == [f"limits: budget {fmt_money(1e6)}, power cap 20.0 MW; year 2027",
                                 f"rule: {answer['inverse']['rule']}",
                                 "context: frontier training runs' cost grows x2.4 a year "
                                 f"({trends['frontier_cost_source'].split(':')[0]})", "",
                                 "no run fits: nothing fits"]


def test_a_fixed_fleet_with_money_alone_says_it_has_no_deadline():
    # an auditor: 8 H100 and $10M planned a run of 868 days with no word of time
    limits = {"usd": 1e7, "power_cap_w": None, "deadline_s": None, "gpus": 8}
    assert report.limits_text(limits) == (
        f"budget {fmt_money(1e7)}, devices 8; no deadline (a fixed fleet's run takes what the "
        "money buys, however long: --deadline holds one)")
    assert "no deadline" not in report.limits_text({**limits, "deadline_s": 86400.0})


def test_a_cost_p50_far_off_the_headline_says_why():
    # MI300X's derived contract price runs $0.82-4.23 around $1.39: the cost P50 of 70B on
    # 2T tokens sits 22% above the headline while the days' P50 is the headline's
    d = planner.estimate(params="70B", tokens="2T", gpu="mi300x", uncertainty=True).to_dict()
    off = d["p50"]["cost_usd"] / d["cost_usd"]["total"] - 1
    assert off > 0.05 and d["p50"]["training_days"] == pytest.approx(d["training_days"])
    assert f"cost P50 sits {off:.0%} above the headline" in report.plan_table(d)
    # H100's contract range (1.70-2.73 around 2.35) moves it less: no line
    h = planner.estimate(params="70B", tokens="2T", gpu="h100-sxm", uncertainty=True).to_dict()
    assert abs(h["p50"]["cost_usd"] / h["cost_usd"]["total"] - 1) <= 0.05
    assert "cost P50 sits" not in report.plan_table(h)


def test_plan_head_names_no_dense_ffn_when_every_layer_is_a_mixture_of_experts(feasible):
    # gpt-oss-120b: 36 MoE layers of 128 experts x2880, no dense FFN (transformers'
    # GptOssConfig): the head shows the experts' width, not "ffn=0"
    moe = planner.estimate(workload="gpt-oss-120b", tokens="1T", gpus=64).to_dict()
    head = report.plan_table(moe).splitlines()[0]
    assert "ffn=" not in head and "(gated) experts=4/128 x2880" in head
    # a dense plan keeps its width
    assert f"ffn={feasible['workload']['ffn']} (gated)" in report.plan_table(feasible)


def test_reliability_line_of_a_run_without_failures():
    # --assume failure_rate_per_device_hour=0: an infinite MTBF is JSON's null; the table says
    # no failures are modelled instead of dividing None (an internal error before)
    plan = planner.estimate(params="7B", tokens="1T", gpus=64,
                            assumptions={"failure_rate_per_device_hour": 0}).to_dict()
    assert plan["reliability"]["mtbf_s"] is None
    text = report.plan_table(plan)
    assert "no failures modelled (a failure rate of 0): no interruptions" in text


def test_reliability_line_of_a_run_that_never_ends_gives_its_seconds():
    # an auditor: a cluster failing every 8.79 seconds had read "a failure every 0.0 h,
    # checkpoint every 0.0 min" beside a status that gave the seconds
    plan = planner.estimate(params="70B", tokens="2T", gpus=4096,
                            assumptions={"failure_rate_per_device_hour": 0.1}).to_dict()
    mtbf = plan["reliability"]["mtbf_s"]
    assert mtbf == pytest.approx(3600 / (4096 * 0.1), rel=1e-6)  # 8.79 s
    text = report.plan_table(plan)
    assert "a failure every 8.79 seconds)" in text and "0.0 h" not in text
    assert "checkpoint every 0.0 min" not in text


def test_reliability_line_shows_fewer_than_ten_interruptions_with_a_decimal(feasible):
    # 64 devices at 1.973e-5 failures per device-hour: MTBF 791.8 h, so a run of a few hundred
    # hours expects a fraction of one interruption, which read "0" beside lost hours
    n = feasible["reliability"]["expected_interruptions"]
    assert 0 < n < 9.95
    assert f"{n:,.1f} expected interruptions" in report.plan_table(feasible)
    assert 3600 / (64 * 1.973e-5) == pytest.approx(feasible["reliability"]["mtbf_s"], rel=1e-3)


def test_a_budget_on_a_fixed_fleet_does_not_say_it_was_sized():
    # planner budget --gpus N: the fleet is given, no size is chosen, so no "sized to meet the
    # default deadline" line (it printed before; the answer's sizing is None)
    answer = planner.budget(gpus=512, gpu="h100-sxm").to_dict()
    assert answer["sizing"] is None
    assert "\nsized " not in report.budget_table(answer)
    sized = planner.estimate(params="7B", tokens="1T").to_dict()  # the default deadline sizes
    assert "sized          to meet the default 120-day deadline" in report.plan_table(sized)


def test_cluster_line_of_an_accelerator_without_a_network_file():
    # gh200's file names no scale-out network (HPE Slingshot has no file): the plan runs at the
    # file's own scale-out bandwidth, and the table says so instead of printing "None"
    plan = planner.estimate(params="7B", tokens="1T", gpu="gh200", gpus=64).to_dict()
    assert plan["cluster"]["network"] is None
    text = report.plan_table(plan)
    assert "None" not in text.split("\n")[4] and "no network named" in text


def test_power_line_says_the_default_sites_cap_is_not_applied():
    # 405B on 15T tokens in 28 days needs ~169 MW peak, above us-hyperscale's 150 MW; the
    # default site caps nothing (no --site), and the line says what it would take to apply it
    plan = planner.estimate(params="405B", tokens="15T", deadline="28d").to_dict()
    assert plan["feasible"] and plan["power_mw"] > 150
    assert plan["assumptions"]["site_power_cap_mw"]["value"] == 150
    assert ("more than the 150 MW the default site us-hyperscale supplies, a cap not applied "
            "unless --site names it (or --power-cap sets one)") in report.plan_table(plan)


def test_an_owned_budget_names_the_price_column_as_the_rental_rate():
    # an owned budget is costed at purchase prices; the considered accelerators' column is
    # their rental rate, so its header says so (it read "$/device-h" beside owned costs)
    owned = planner.budget(usd="50M", gpu="h100-sxm", ownership="owned").to_dict()
    assert owned["cost_method"] == "owned"
    assert "cloud $/device-h" in report.budget_table(owned)
    cloud = planner.budget(usd="50M", gpu="h100-sxm").to_dict()
    assert "cloud $/device-h" not in report.budget_table(cloud)


def test_step_line_gives_computes_share_beside_the_largest_overhead(feasible):
    # "bottleneck dp_comm" read as communication-bound where compute was 81% of the step
    t, step = feasible["time_breakdown_s"], feasible["step_time_s"]
    line = next(ln for ln in report.plan_table(feasible).splitlines() if ln.startswith("step "))
    assert f"compute {t['compute'] / step:.0%} of the step" in line
    big = feasible["bottleneck"]
    if t[big] / step >= 0.0005:
        assert f"largest overhead {big} ({t[big] / step:.1%})" in line
    one = planner.estimate(params="1B", tokens="100B", gpus=1).to_dict()  # no collectives
    line = next(ln for ln in report.plan_table(one).splitlines() if ln.startswith("step "))
    assert line.endswith("compute 100% of the step")


def test_realisation_line_counts_the_runs_its_range_was_fitted_on():
    # "--team frontier lab" gives a narrower centre but a wider range than all runs' (x1.09-
    # x3.50 against x1.25-x2.79): the line says how few runs that range stands on
    from planner.model import realisation

    for team in ("frontier lab", None):
        plan = planner.estimate(params="7B", tokens="1T", gpus=64, team=team).to_dict()
        group = realisation.group_of(team)
        fit = realisation.FIT.get(group, realisation.FIT["any"])
        line = next(ln for ln in report.plan_table(plan).splitlines()
                    if ln.startswith("realisation"))
        assert f" {fit['runs']} public whole runs" in line
    assert realisation.FIT["any"]["runs"] == 50


def test_an_inventory_of_types_the_plan_leaves_out_is_said():
    # --inventory mi300x=8000 with --gpu h100-sxm had been ignored without a word (an error
    # would refuse a house default listing every type the team holds)
    plan = planner.estimate(params="7B", tokens="1T", gpu="h100-sxm",
                            inventory="mi300x=8000,h100-sxm=4096").to_dict()
    text = report.plan_table(plan)
    assert "inventory      mi300x=8,000 not used: the plan considers h100-sxm (--gpu)" in text
    both = planner.estimate(params="7B", tokens="1T", gpu="h100-sxm",
                            inventory="h100-sxm=4096").to_dict()
    assert "\ninventory " not in report.plan_table(both)


def test_a_given_cluster_past_the_default_deadline_says_so():
    # 1T on 256 H100 runs 59,442 days with no deadline held: "feasible" alone had read fine
    plan = planner.estimate(params="1T", tokens="15T", gpus=256).to_dict()
    row = next(ln for ln in report.plan_table(plan).splitlines() if ln.startswith("deadline "))
    assert "none held (--gpus given)" in row and "runs past the default 120-day deadline" in row
    past = [a for a in plan["alternatives"] if a.get("default_deadline_days")]
    assert past and past[0]["default_deadline_days"] == 120 and f"{past[0]['gpus']:,}" in row
    assert past[0]["meets_default_deadline"] is True


def test_a_given_cluster_past_a_default_deadline_no_size_meets_says_so():
    # was: 10T on 100T tokens on 16,384 H100 (26,800 days) read "feasible" with no deadline
    # row, since no size tried meets 120 days (failures stop the growth near 4,500 days)
    plan = planner.estimate(params="10T", tokens="100T", gpus=16384).to_dict()
    assert plan["feasible"] and plan["training_days"] > 20_000
    past = next(a for a in plan["alternatives"] if a.get("default_deadline_days"))
    assert past["meets_default_deadline"] is False and past["training_days"] > 120
    assert past["gpus"] > 16384 and "no size tried meets the default" in past["note"]
    row = next(ln for ln in report.plan_table(plan).splitlines() if ln.startswith("deadline "))
    assert (f"runs past the default 120-day deadline, which no cluster size tried meets (the "
            f"sizing's nearest, {past['gpus']:,} x h100-sxm, takes "
            f"{past['training_days']:,.1f} days; --deadline to hold one)") in row


def test_a_device_only_rented_says_its_owned_price_is_notional():
    tpu = planner.estimate(params="70B", tokens="2T", gpu="tpu-v5p", gpus=1024).to_dict()
    assert tpu["assumptions"]["purchase_usd"]["source"].startswith("not sold")
    line = next(ln for ln in report.plan_table(tpu).splitlines() if ln.startswith("to own it"))
    assert "tpu-v5p is not sold: a notional price" in line
    h100 = planner.estimate(params="70B", tokens="2T", gpus=1024).to_dict()
    assert h100["assumptions"]["purchase_usd"]["value"] == 27_500
    line = next(ln for ln in report.plan_table(h100).splitlines() if ln.startswith("to own it"))
    assert "not sold" not in line


def test_a_sized_plan_no_limit_binds_says_why():
    # 118 of 120 days had read as a bare "none" under "sized to meet the default deadline"
    plan = planner.estimate(params="70B", tokens="15T", gpu="a100-80gb").to_dict()
    row = _rows_of(report.plan_table(plan))["binding limit"]
    assert plan["binding"] is None
    spare = plan["sizing"]["limits"]["deadline_days"] - plan["training_days"]
    assert row == ("none: the cheapest size tried meets the 120-day deadline with "
                   f"{spare:,.1f} days to spare")
    fastest = planner.estimate(params="70B", tokens="15T", objective="time").to_dict()
    assert fastest["binding"] is None
    assert _rows_of(report.plan_table(fastest))["binding limit"].startswith(
        "none: the fastest size tried")


def test_an_inventory_alone_names_the_types_planned_and_a_type_left_out_is_unlimited():
    # an auditor: with no --gpu the inventory's B200 were "not used ... (--gpu)", the default
    # H100 planned alone; and a --gpu type the inventory leaves out was unlimited, unsaid
    plan = planner.estimate(params="8B", tokens="2T", inventory="h100-sxm=20000,b200=8000")
    assert plan.sizing["accelerators"] == ["b200", "h100-sxm"]
    assert plan.assumptions["accelerator"]["value"] == "b200, h100-sxm"
    assert "--inventory" in plan.assumptions["accelerator"]["source"]
    assert "\ninventory " not in report.plan_table(plan.to_dict())
    # an accelerator assumed is given, and wins (a review: the inventory had replaced it)
    assumed = planner.estimate(params="8B", tokens="2T", inventory="b200=512",
                               assume="accelerator=h100-sxm")
    assert assumed.cluster["accelerator"] == "h100-sxm"
    assert assumed.assumptions["accelerator"]["value"] == "h100-sxm"
    part = planner.estimate(params="8B", tokens="2T", deadline="30d", gpu="h100-sxm,b200",
                            inventory="h100-sxm=200").to_dict()
    assert "inventory      b200 not in the inventory: no limit on how many" in \
        report.plan_table(part)


def test_a_fraction_of_an_interruption_is_not_rounded_to_zero():
    # was: '0.0 expected interruptions' for a 70M run on 8 devices, beside its lost hours
    import planner
    from planner.report import plan_table

    plan = planner.estimate(params="70M", tokens="10B", gpus=8, alternatives=False)
    n = plan.reliability["expected_interruptions"]
    assert 0 < n < 0.05
    line = next(ln for ln in plan_table(plan.to_dict()).splitlines()
                if ln.startswith("reliability"))
    assert "0.0 expected" not in line and f"{n:.3g} expected interruptions" in line
