"""sizing.py (CP-SAT choice of accelerator and size under limits) and its use by estimate.

Every constraint family has a feasible and an infeasible case on a hand-made option table whose
answer can be worked by hand; the validator (``violations``) is checked on its own; estimate's
sized plans are checked against the option table with plain numpy, without the solver.
"""

import math

import numpy as np
import pytest
from ortools.sat.python import cp_model

import planner
from planner.plan import limits, sizing
from planner.plan.limits import (
    COST_RESOLUTION_USD,
    POWER_RESOLUTION_MW,
    SizingInstance,
    SizingLimits,
    violations,
)
from planner.plan.options import aligned_between
from planner.plan.sizing import SolverSettings, solve
from planner.units import InputError

# Six options, two accelerators, worked by hand:
#   i  accelerator  gpus    days  cost $M  power MW
#   0  h100-sxm     8192    300   100      11.0
#   1  h100-sxm    16384    160   110      22.0
#   2  h100-sxm    32768     95   130      45.0
#   3  b200         8192    136    90      15.6
#   4  b200        16384     77    95      31.0
#   5  b200        32768     47   105      63.0
ACC = ["h100-sxm"] * 3 + ["b200"] * 3
GPUS = [8192, 16384, 32768] * 2
DAYS = [300, 160, 95, 136, 77, 47]
COST = [100e6, 110e6, 130e6, 90e6, 95e6, 105e6]
POWER = [11.0, 22.0, 45.0, 15.6, 31.0, 63.0]


def table(objective="cost", **limits) -> SizingInstance:
    return SizingInstance(ACC, GPUS, DAYS, COST, POWER, SizingLimits(**limits), objective)


def test_no_limit_cost_picks_cheapest_and_time_picks_fastest():
    assert solve(table()).index == 3  # $90M
    assert solve(table("time")).index == 5  # 47 days
    assert solve(table()).status == "OPTIMAL"


# --- one feasible and one infeasible case per constraint family -------------------------------

def test_deadline_feasible():
    s = solve(table(deadline_days=100))
    assert s.feasible and s.index == 4  # cheapest within 100 days: b200 16384, $95M
    assert s.binding == "deadline" and s.tight == ("deadline",)


def test_deadline_infeasible_says_fastest_plan_and_deadline():
    s = solve(table(deadline_days=40))
    assert not s.feasible and s.status == "INFEASIBLE" and s.binding == "deadline"
    assert s.index == 5
    assert s.reason == "the fastest plan takes 47.0 days (32,768 x b200), deadline 40.0 days"
    assert s.relaxations[0].needed == {"deadline": 47.0}
    assert s.relaxations[0].excess == pytest.approx(47 / 40 - 1)


def test_power_feasible_time_objective():
    s = solve(table("time", power_cap_mw=50))
    assert s.feasible and s.index == 4  # fastest under 50 MW: b200 16384 (31 MW, 77 days)
    assert s.binding == "power"


def test_power_infeasible_needs_mw_cap_mw():
    s = solve(table(power_cap_mw=10))
    assert not s.feasible and s.binding == "power" and s.index == 0
    assert s.reason == "needs 11.0 MW (8,192 x h100-sxm), cap 10.0 MW"


def test_budget_feasible():
    s = solve(table("time", budget_usd=100e6))
    assert s.feasible and s.index == 4  # fastest within $100M: b200 16384 (77 days, $95M)
    assert s.binding == "budget"


def test_budget_infeasible_cheapest_plan():
    s = solve(table(budget_usd=80e6))
    assert not s.feasible and s.binding == "budget" and s.index == 3
    assert s.reason == "the cheapest plan costs $90.0M (8,192 x b200), budget $80.0M"


def test_max_gpus_feasible():
    s = solve(table("time", max_gpus=16384))
    assert s.feasible and s.index == 4 and s.binding == "max_gpus"


def test_max_gpus_infeasible():
    s = solve(table(max_gpus=4096))
    assert not s.feasible and s.binding == "max_gpus" and s.index in (0, 3)
    assert "needs 8,192 devices" in s.reason and "--max-gpus 4,096" in s.reason


def test_inventory_feasible_counts_per_type():
    # Only 8,192 b200 on hand: the fastest plan moves to the other type where it is faster.
    s = solve(table("time", inventory={"b200": 8192}))
    assert s.feasible and s.index == 2 and s.binding == "inventory"
    # an inventory of another type does not bind this one
    assert solve(table("time", inventory={"h100-sxm": 1})).index == 5


def test_inventory_infeasible():
    s = solve(table(inventory={"b200": 4096, "h100-sxm": 4096}))
    assert not s.feasible and s.binding == "inventory"
    assert s.reason == "needs 8,192 b200, inventory 4,096"  # the cheapest way: b200 8192


def test_exactly_one_option_and_empty_table():
    s = solve(table(deadline_days=100, power_cap_mw=40))
    assert s.feasible and isinstance(s.index, int)
    empty = SizingInstance([], [], [], [], [], SizingLimits(deadline_days=10))
    e = solve(empty)
    assert not e.feasible and e.index is None and e.binding == "unknown"


def test_two_limits_together_when_no_single_relaxation_works():
    # Every option costs over $85M, only one (63 MW) is within 60 days, none is within both
    # 60 days and 40 MW: no single limit's relaxation works, so pairs are reported.
    s = solve(table(deadline_days=60, power_cap_mw=40, budget_usd=85e6))
    assert not s.feasible
    assert all(len(r.limits) == 2 for r in s.relaxations)
    first = s.relaxations[0]
    # deadline + budget within 40 MW: b200 16384 (77 days +28%, $95M +12%) overruns least;
    # b200 8192 ($90M) would overrun the deadline by 127%
    assert first.limits == ("deadline", "budget") and first.index == 4
    assert first.needed == {"deadline": 77.0, "budget": 95e6}
    assert first.excess == pytest.approx(77 / 60 - 1)
    assert s.reason.startswith("relaxing deadline and budget together: 16,384 x b200")


def test_several_single_relaxations_best_first():
    s = solve(table(deadline_days=60, power_cap_mw=40))
    # power alone: b200 32768 needs 63 MW (+57.5%); deadline alone: 77 days (+28.3%)
    assert [r.limits for r in s.relaxations] == [("deadline",), ("power",)]
    assert s.binding == "deadline"
    assert "or: needs 63.0 MW" in s.reason


def test_a_relaxed_deadline_names_the_untried_sizes_before_the_next_over_the_budget():
    # deadline alone within $100M: b200 16,384 (77 days, $95M); b200 32,768 is faster (47
    # days) but costs $105M, so the fastest size within the budget lies between the two, at a
    # size the walk (which sizes by days, not money) never tried
    s = solve(table(deadline_days=40, budget_usd=100e6))
    assert s.reason.startswith(
        "the fastest plan takes 77.0 days (16,384 x b200, meeting the other limits), deadline "
        "40.0 days; for that run, sizes between 16,384 and 32,768 x b200 were not tried "
        "(32,768 takes 47.0 "
        "days, still past the deadline, and breaks the budget)")
    # the next size breaks the power cap, whose size the walk tries (estimate._caps): nothing
    # to add; nor with the deadline alone
    assert "were not tried" not in solve(table(deadline_days=60, power_cap_mw=40)).reason
    assert "were not tried" not in solve(table(deadline_days=40)).reason
    # a relaxed budget: the cheapest plan meeting the deadline, smaller sizes being slower,
    # has no faster untried size above it to name
    s = solve(table(deadline_days=100, budget_usd=80e6))
    assert s.reason.startswith("the cheapest plan costs $95.0M (16,384 x b200, meeting the "
                               "other limits), budget $80.0M")
    assert "were not tried" not in s.reason


# --- integer resolution: conservative rounding, exact limits kept --------------------------

def test_option_exactly_at_the_limit_is_allowed():
    inst = SizingInstance(["x"], [8], [10.0], [1e6], [100.0], SizingLimits(power_cap_mw=100.0))
    assert solve(inst).feasible


def test_rounding_never_lets_an_option_over_the_limit():
    over = 100.0 + POWER_RESOLUTION_MW * 0.4  # 0.4 kW over: rounds up to the next kW
    inst = SizingInstance(["x"], [8], [10.0], [1e6], [over], SizingLimits(power_cap_mw=100.0))
    assert not solve(inst).feasible
    (breach,) = violations(inst, 0)
    assert breach[:3] == ("power", over, 100.0)
    # 100.0004 MW and its 100 MW cap had printed alike: the need rounds up at the precision
    # shown (the "% over" note for needs still reading as their caps: test_limits.py)
    assert breach.text == "needs 100.1 MW (8 x x), cap 100.0 MW"
    assert limits.need_units([over], POWER_RESOLUTION_MW)[0] == 100_001
    assert limits.cap_units(100.0, POWER_RESOLUTION_MW) == 100_000
    assert limits.need_units([2_500.0], COST_RESOLUTION_USD)[0] == 3  # $2,500 -> 3 x $1,000


def test_small_limits_are_counted_in_steps_of_their_size():
    """A $500 budget was $0 in whole $1,000s, and a $24.50 plan inside it was refused; a
    limit is counted in steps of at most 0.01% of itself, both solvers alike."""
    assert limits.resolution("budget", 500.0) == 0.01
    assert limits.resolution("budget", 50e6) == COST_RESOLUTION_USD
    assert limits.resolution("deadline", 1 / 24) == 1e-6  # a one-hour deadline
    assert limits.resolution("power", 0.005) == 1e-7  # a 5 kW cap
    assert limits.resolution("max_gpus", 4.0) == 1
    for cap, cost, ok in ((500.0, 24.5, True), (1_500.0, 1_200.0, True), (20.0, 24.5, False),
                          (24.5, 24.5, True), (24.5, 24.5 + 0.004, False)):
        inst = SizingInstance(["x"], [8], [1.0], [cost], [0.01], SizingLimits(budget_usd=cap))
        assert bool(inst.meets()[0]) is ok and solve(inst).feasible is ok, (cap, cost)
    inst = SizingInstance(["x"], [8], [1.0], [30.0], [0.01], SizingLimits(budget_usd=20.0))
    assert solve(inst).reason == "the cheapest plan costs $30.00 (8 x x), budget $20.00"
    plan = planner.estimate(params="70M", tokens="10B", budget="500")
    assert plan.feasible and 0 < plan.cost_usd["total"] <= 500


def test_unknown_figures_cannot_meet_a_limit_and_rank_last():
    cost = [math.nan, 95e6, 120e6]
    inst = SizingInstance(["tpu", "b200", "h100"], [8, 8, 8], [50, 60, 70], cost, [1, 1, 1],
                          SizingLimits())
    assert solve(inst).index == 1  # unknown cost ranks after every known cost
    budget = SizingInstance(["tpu"], [8], [50], [math.nan], [1], SizingLimits(budget_usd=1e9))
    s = solve(budget)
    assert not s.feasible and s.binding == "budget"
    assert s.reason == ("the cost of 8 x tpu is unknown (the cost line names the figure "
                        "missing: a device price or the site's capex_usd_per_mw, sourced, with "
                        "--catalog; or --price-per-gpu-hour), so it cannot be shown to meet the "
                        "budget $1,000.0M")
    assert violations(budget, 0)[0][0] == "budget"


def test_ties_break_on_time_then_fewer_devices():
    inst = SizingInstance(["a", "a", "b"], [16, 8, 8], [10, 10, 9], [5e6, 5e6, 5e6],
                          [1, 1, 1], SizingLimits())
    assert solve(inst).index == 2  # same cost: fewer days
    inst = SizingInstance(["a", "a"], [16, 8], [10, 10], [5e6, 5e6], [1, 1], SizingLimits())
    assert solve(inst).index == 1  # same cost and days: fewer devices


# --- validator, settings, repeatability ----------------------------------------------------

def test_validator_catches_a_hand_broken_choice():
    inst = table(deadline_days=100, power_cap_mw=40, budget_usd=100e6, max_gpus=16384,
                 inventory={"h100-sxm": 8192})
    chosen = solve(inst).index
    assert chosen == 4 and violations(inst, chosen) == []
    broken = {lim for lim, *_ in violations(inst, 2)}  # h100 32768: 95 d, $130M, 45 MW
    assert broken == {"power", "budget", "max_gpus", "inventory"}
    assert {lim for lim, *_ in violations(inst, 0)} == {"deadline"}


def test_same_input_same_answer_and_settings_are_explicit():
    inst = table(deadline_days=100, power_cap_mw=40)
    settings = SolverSettings(time_limit_s=5, workers=2, seed=7)
    a, b = solve(inst, settings), solve(inst, settings)
    assert (a.index, a.status, a.binding) == (b.index, b.status, b.binding)
    solver = settings.solver()
    assert solver.parameters.num_workers == 2 and solver.parameters.random_seed == 7
    assert solver.parameters.max_time_in_seconds == 5
    summary = a.summary(inst)
    assert summary["status"] == "OPTIMAL" and summary["workers"] == 2
    assert summary["resolution"] == {"training_days": 0.01, "cost_usd": 1000.0,
                                     "power_mw": 0.001, "gpus": 1}


def test_status_names_keep_optimal_and_feasible_apart():
    assert sizing.status_name(cp_model.OPTIMAL) == "OPTIMAL"
    assert sizing.status_name(cp_model.FEASIBLE) == "FEASIBLE"
    assert sizing.status_name(cp_model.INFEASIBLE) == "INFEASIBLE"
    assert sizing.status_name(cp_model.UNKNOWN) == "UNKNOWN"
    with pytest.raises(RuntimeError):
        sizing.status_name(cp_model.MODEL_INVALID)


# --- estimate: the sized plan against its option table (numpy, no solver) ---------------------

def _meets(o: dict, limits: dict) -> np.ndarray:
    days, cost = np.array(o["training_days"], float), np.array(o["cost_usd"], float)
    mw, gpus = np.array(o["power_mw"], float), np.array(o["gpus"])
    ok = np.ones(len(gpus), bool)
    if limits["deadline_days"] is not None:
        ok &= days <= limits["deadline_days"]
    if limits["power_cap_mw"] is not None:
        ok &= mw <= limits["power_cap_mw"]
    if limits["budget_usd"] is not None:
        ok &= cost <= limits["budget_usd"]
    return ok


@pytest.fixture(scope="module")
def done_plan():
    # The acceptance command.
    return planner.estimate(params="1T", tokens="15T", deadline="120d", power_cap="100MW",
                            gpu="h100-sxm,b200,mi300x")


def test_done_command_honours_both_limits(done_plan):
    p = done_plan
    assert p.feasible and p.training_days <= 120 and p.power_mw <= 100
    assert p.cluster["accelerator"] in ("h100-sxm", "b200", "mi300x")
    s = p.sizing
    assert s["status"] == "OPTIMAL" and s["accelerators"] == ["h100-sxm", "b200", "mi300x"]
    assert s["limits"]["deadline_days"] == 120 and s["limits"]["power_cap_mw"] == 100
    # the cheapest option meeting both limits, found here without the solver
    o = s["options"]
    ok = _meets(o, s["limits"])
    cost = np.where(ok, np.array(o["cost_usd"], float), np.inf)
    j = int(np.argmin(cost))
    assert (o["accelerator"][j], o["gpus"][j]) == (p.cluster["accelerator"], p.cluster["gpus"])
    assert p.cost_usd["total"] == pytest.approx(cost[j])
    assert s["chosen"] == j
    assert "CP-SAT OPTIMAL" in p.assumptions["sizing"]["value"]


def test_infeasible_budget_names_the_cheapest_plan(done_plan):
    p = planner.estimate(params="1T", tokens="15T", budget="50M", gpu="h100-sxm,b200")
    assert not p.feasible and p.binding == "budget"
    o = p.sizing["options"]
    ok = _meets(o, {**p.sizing["limits"], "budget_usd": None})
    cheapest = np.min(np.where(ok, np.array(o["cost_usd"], float), np.inf))
    assert p.reason.startswith(f"the cheapest plan costs ${cheapest / 1e6:,.1f}M")
    assert p.reason.endswith("budget $50.0M") or "budget $50.0M;" in p.reason
    assert p.cost_usd["total"] == pytest.approx(cheapest)  # the plan shown is that plan


def test_power_cap_binds_with_time_objective():
    p = planner.estimate(params="70B", tokens="2T", power_cap="5MW", objective="time",
                         gpu="h100-sxm")
    assert p.feasible and p.power_mw <= 5 and p.binding == "power"
    per_device = p.power_mw / p.cluster["gpus"]
    assert p.cluster["gpus"] <= 5 / per_device


def test_inventory_keyword_and_flag_form():
    p = planner.estimate(params="70B", tokens="2T", deadline="30d", gpu="b200",
                         inventory="b200=1024")
    assert p.cluster["gpus"] <= 1024 or (not p.feasible and p.binding == "inventory")
    q = planner.estimate(params="70B", tokens="2T", deadline="30d", gpu="b200",
                         inventory={"b200": 16})
    # 16 b200 would take ~540 days (deadline +1,700%) and 30 days need ~300 b200 (+1,700%
    # over the inventory): both ways out are given, the smaller relative overrun first.
    assert not q.feasible and "inventory 16" in q.reason and "deadline 30" in q.reason
    if q.reason.startswith("the fastest plan takes"):
        assert q.binding == "deadline" and q.cluster["gpus"] == 16
    else:
        assert q.binding == "inventory" and q.reason.startswith("needs ")
    with pytest.raises(InputError, match="--inventory"):
        planner.estimate(params="70B", tokens="2T", inventory="h900=5")
    with pytest.raises(InputError, match="--inventory"):
        planner.estimate(params="70B", tokens="2T", inventory="b200")


def test_fixed_size_limits_use_the_same_validator():
    p = planner.estimate(params="70B", tokens="2T", gpus=2048, max_gpus=1024)
    assert not p.feasible and p.binding == "max_gpus"
    assert p.reason == "needs 2,048 devices (h100-sxm), --max-gpus 1,024"
    q = planner.estimate(params="70B", tokens="2T", gpus=2048, gpu="h100-sxm",
                         inventory={"h100-sxm": 1000})
    assert not q.feasible and q.binding == "inventory"


def test_default_path_unchanged_and_several_gpus_use_the_solver():
    p = planner.estimate(params="70B", tokens="2T")
    assert p.feasible and p.binding == "deadline"
    # the default deadline's sizing is reported too (it was null while the table named it),
    # ranked with numpy, no solver imported
    assert p.sizing["status"] == "OPTIMAL" and p.sizing["solver"].startswith("none")
    assert p.sizing["limits"]["deadline_days"] == 120 and p.sizing["options"]["gpus"]
    assert planner.estimate(params="70B", tokens="2T", gpus=1024).sizing is None
    q = planner.estimate(params="70B", tokens="2T", gpu="h100-sxm,b200")
    assert q.sizing["status"] == "OPTIMAL" and q.sizing["objective"] == "cost"
    assert q.training_days <= 120 and q.feasible


def test_sizing_chart(done_plan, tmp_path):
    pytest.importorskip("matplotlib")
    from planner import charts

    out = charts.sizing_chart(done_plan.to_dict(), tmp_path / "sizing.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    with pytest.raises(charts.ChartError, match="--gpus"):
        charts.sizing_chart(planner.estimate(params="70B", tokens="2T", gpus=1024).to_dict(),
                            tmp_path / "none.png")


def test_a_caps_size_with_factors_to_spare_is_tried():
    # was: infeasible under 5 MW and 300 days: the cap's size, 3,008 H100 = 2^6 x 47, leaves
    # no room for context parallelism beside tp8 pp8 (308 days) and closed the search, where
    # 2,944 (2^7 x 23) runs in 274 days at 4.9 MW
    plan = planner.estimate(params="413.5B", tokens="8.27T", gpu="h100-sxm", power_cap="5MW",
                            deadline="300d")
    assert plan.feasible and plan.training_days <= 300 and plan.power_mw <= 5


def test_the_walk_climbs_past_the_first_size_meeting_the_deadline_while_device_time_falls():
    # was: a budget's own answer (5,120 H100, $19.92M) re-planned came back infeasible: the walk
    # stopped at 3,072, the first size meeting the deadline ($20.4M), where a mixture of
    # experts spread thinner runs each device faster (4,096 and 5,120 cost less; 3,584 more)
    kw = dict(params=1374611941731.6858, tokens="10T", experts=64, top_k=4, gpu="h100-sxm")
    plan = planner.estimate(budget="20M", **kw)
    assert plan.feasible and plan.cost_usd["total"] <= 20e6
    fixed = planner.estimate(gpus=plan.cluster["gpus"], **kw)
    assert plan.cost_usd["total"] == pytest.approx(fixed.cost_usd["total"])


@pytest.mark.parametrize("inputs, deadlines", [
    # a mixture of experts' cost is jagged in size (its experts divide some sizes well): 1T
    # with 16 experts on H200 costs $1.43M on 512 devices, $1.49M on 384 and $1.50M on 256,
    # and the climb had stopped at the first octave's least, so 120 and 200 days bought the
    # dearer 384 and 256 where 90 days bought 512 (user audit)
    (dict(params="1T", tokens="1T", gpu="h200", experts=16, top_k=2, precision="fp8"),
     ("90d", "120d", "200d")),
    # 70B with 16 experts on Gaudi 3: 192 devices meet 25 days at $169K, 512 at $161K
    (dict(params="70B", tokens="1T", gpu="gaudi3", experts=16, top_k=4), ("15d", "25d")),
    # 405B with 16 experts on B200: 144 devices (a smooth size off the quarter-octave ladder)
    # had met 55 days for less than the 192 that 70 days bought
    (dict(params="405B", tokens="1T", gpu="b200", experts=16, top_k=2), ("55d", "70d")),
])
def test_a_looser_deadline_never_buys_a_dearer_plan(inputs, deadlines):
    costs = [planner.estimate(**inputs, deadline=d).cost_usd["total"] for d in deadlines]
    assert all(b <= a * (1 + 1e-9) for a, b in zip(costs, costs[1:])), costs


def test_the_default_deadline_binds_as_a_given_one_does():
    # the default 120 days had been called binding whenever it sized a plan, even one of 47
    # days chosen because a larger cluster is cheaper; typed in, the same plan read None
    moe = dict(params="1T", tokens="1T", gpu="h200", experts=16, top_k=2, precision="fp8")
    for inputs, binding in ((moe, None), (dict(params="70B", tokens="2T"), "deadline")):
        default, given = (planner.estimate(**inputs, **kw) for kw in ({}, {"deadline": "120d"}))
        assert default.cluster["gpus"] == given.cluster["gpus"]
        assert default.binding == given.binding == binding


def test_the_fastest_size_is_searched_around_each_new_fastest():
    # 405B pinned to zero=3, pp=1 cannot meet 90 days: the walk an octave a step tried 1,280 x
    # 2^k and the quarter octaves around the best of them, and said "the fastest plan takes
    # 463.0 days (4,096 x h100-sxm)" where 8,192 takes 266 (user audit)
    plan = planner.estimate(params="405B", tokens="15T", deadline="90d", layout="zero=3,pp=1")
    assert not plan.feasible and "(8,192 x h100-sxm)" in plan.reason
    fixed = planner.estimate(params="405B", tokens="15T", gpus=8192, layout="zero=3,pp=1")
    assert plan.training_days == pytest.approx(fixed.training_days, rel=1e-6)


def test_the_fifth_below_the_deadline_size_tries_sizes_with_a_factor_of_seven():
    # a user's audit: 35,840 H100 = 2^10 x 5 x 7 meet 1T on 15T tokens in 120 days for less
    # than the 38,400 the sizing had picked (sizes of 2, 3 and 5 alone), which it called optimal
    # (since the realisation's refit of 2026-12-02 they take 120.5 days: a 121-day deadline)
    plan = planner.estimate(params="1T", tokens="15T", deadline="121d")
    bigger = planner.estimate(params="1T", tokens="15T", gpus=38400)
    assert plan.cluster["gpus"] == 35840 and plan.training_days <= 121
    assert plan.cost_usd["total"] < bigger.cost_usd["total"]


def test_a_looser_deadline_never_picks_a_plan_the_tighter_one_beats():
    # a user's sweep: 1T on 5T tokens on H100 within 120 days had picked 11,264 devices for
    # $73.04M where the 90-day plan, 15,360 = 2^10 x 15, takes 83 days for $72.19M; the climb
    # above the smallest size meeting the deadline now tries 2^a x 9 and 2^a x 15 beside the
    # quarter-octave ladder; and, in the first quarter octave, the multiples of a sixteenth of
    # an octave: 12,800 = 2^9 x 25 in 98 days for $70.7M; and its smooth sizes (2026-12-03):
    # 11,520 = 2^8 x 45 in 108 days for $70.3M
    loose = planner.estimate(params="1T", tokens="5T", gpu="h100-sxm", deadline="120d")
    tight = planner.estimate(params="1T", tokens="5T", gpu="h100-sxm", deadline="90d")
    assert loose.cost_usd["total"] <= tight.cost_usd["total"]
    assert loose.cluster["gpus"] == 11520 and loose.training_days <= 120
    assert loose.cost_usd["total"] < 70.5e6


def test_a_looser_deadline_under_a_budget_stays_feasible():
    # a user's audit: 70B on 15T tokens on MI300X within $9M read feasible in 52 days (5,248
    # devices, $8.74M) and infeasible in 54 (4,992 devices, $9.01M, the smallest meeting 54
    # days): a size's factors set its layouts (5,248 runs pp 2, 4,992 pp 3), so the cheapest
    # size need not be on the ladder; the climb's first quarter octave now tries the multiples
    # of a sixteenth of an octave
    # ($11M since MI300X's matmul ceiling is the MAMF table's current row, 51% of peak where
    # 60% had been, 2026-12-02: 5,632 in 53.8 days for $10.13M, 6,400 in 49.6 for $10.61M)
    looser = planner.estimate(params="70B", tokens="15T", gpu="mi300x", deadline="54d",
                              budget="11M", alternatives=False)
    tighter = planner.estimate(params="70B", tokens="15T", gpu="mi300x", deadline="52d",
                               budget="11M", alternatives=False)
    assert looser.feasible and tighter.feasible
    assert looser.cost_usd["total"] <= 11e6 and tighter.cost_usd["total"] <= 11e6
    # among the sizes each tried (at $9M: 5,376 at $8.7426M, the 52-day plan's 5,248 at
    # $8.7403M)
    assert looser.cost_usd["total"] <= tighter.cost_usd["total"] * 1.001
    assert aligned_between(624, 781) == [640, 672, 704, 736, 768]


def test_a_sizing_no_layout_fits_answers_within_max_gpus_with_the_shortfall():
    # an auditor: a layout that never fits (unsharded 70B on tp1 pp1) had reported 1,000,000
    # devices, past --max-gpus 4096, and "no valid layout for this cluster" (at a million
    # devices the batch cannot split, so the memory figure was lost)
    plan = planner.estimate(params="70B", tokens="2T", layout="zero=0,tp=1,pp=1",
                            max_gpus=4096)
    assert not plan.feasible and plan.binding == "memory"
    assert plan.cluster["gpus"] <= 4096
    assert "leanest needs 1,268.0 GB per device, h100-sxm has 80 GB" in plan.reason
    alone = planner.estimate(params="70B", tokens="2T", layout="zero=0,tp=1,pp=1")
    assert "leanest needs 1,268.0 GB" in alone.reason and alone.cluster["gpus"] < 10**6
    # every size that lays out fails faster than it restarts: that is the answer, not "no
    # valid layout" at the million devices no batch splits over (the diff review)
    stuck = planner.estimate(params="7B", tokens="1T", deadline="30d",
                             assumptions={"failure_rate_per_device_hour": 1, "restart_s": 3600})
    assert stuck.binding == "reliability" and stuck.cluster["gpus"] < 10**6
    assert "no progress" in stuck.reason or "redoes more work" in stuck.reason


def test_a_looser_deadline_never_answers_a_dearer_plan():
    """Under the cost objective the plan for a later deadline costs at most the plan for an
    earlier one (which meets the later deadline too). The walk bisects to the smallest size
    meeting the deadline and climbs by aligned sizes; before the smooth sizes above the
    cheapest were tried, 405B on 15T tokens on H100 read $113.42M on 46,080 devices for 44 days
    and $116.03M on 44,544 for 47, and on MI300X 53 days read dearer than 50 (an audit)."""
    for gpu, deadlines in (("h100-sxm", (44, 47, 48, 50, 53, 54)), ("mi300x", (50, 53))):
        plans = [planner.estimate(params="405B", tokens="15T", gpu=gpu, deadline=f"{d}d")
                 for d in deadlines]
        for (d0, p0), (d1, p1) in zip(zip(deadlines, plans), zip(deadlines[1:], plans[1:])):
            assert p0.feasible and p1.feasible
            assert p0.training_days <= d0
            assert p1.cost_usd["total"] <= p0.cost_usd["total"] * (1 + 1e-9), (gpu, d0, d1)


@pytest.mark.parametrize("limit", [dict(power_cap="45MW"), dict(max_gpus=10_000),
                                   dict(inventory="h100-sxm=25000")])
def test_an_infeasible_plans_fastest_plan_is_the_one_the_time_objective_finds(limit):
    """When no size keeps the deadline and another limit, the answer's "the fastest plan
    takes N days" (the deadline's relaxation) is the plan --objective time gives under the
    other limits. It had been read off the cost walk's sizes alone (an audit: 1T on 15T tokens
    under 45 MW said 165.7 days on 26,624 H100, where the time objective finds 25,600 in
    158.6; 10,000 devices at most said more devices and more days too)."""
    base = dict(params="1T", tokens="15T", gpu="h100-sxm", alternatives=False, **limit)
    plan = planner.estimate(**base)
    assert not plan.feasible
    late = [r for r in plan.sizing["relaxations"] if r["limits"] == ["deadline"]]
    assert len(late) == 1
    fastest = planner.estimate(objective="time", **base)
    assert fastest.feasible
    assert late[0]["needed"]["deadline"] <= fastest.training_days * (1 + 1e-9)
    assert f"({fastest.cluster['gpus']:,} x h100-sxm" in late[0]["message"]


def test_a_plan_that_keeps_both_limits_is_found_among_sizes_of_few_twos():
    # was: 405B on H100 within 90 days and $100M read infeasible ($100.6M on 20,736), where
    # 20,160 = 2^6 x 315 H100 keep both (87.6 days, $99.6M): the sizing tries only sizes whose
    # power of two is at least their odd part, and a size's factors set its layouts (an
    # audit of the sizing); where no size tried keeps every limit, the refinement tries the
    # others too
    plan = planner.estimate(workload="llama3.1-405b", gpu="h100-sxm", deadline="90d",
                            budget="100M", alternatives=False)
    assert plan.feasible
    assert plan.training_days <= 90 and plan.cost_usd["total"] <= 100e6
    odd = plan.cluster["gpus"] // (plan.cluster["gpus"] & -plan.cluster["gpus"])
    assert odd > plan.cluster["gpus"] & -plan.cluster["gpus"]  # a size of few twos


def _cheapest_meeting(step: int, top: int, deadline_days: float, **kw):
    """(devices, cost) of the cheapest multiple of ``step`` up to ``top`` that meets the
    deadline, each evaluated as a given cluster (None: none does)."""
    best = None
    for n in range(step, top + 1, step):
        try:
            p = planner.estimate(**kw, gpus=n, alternatives=False)
        except InputError:  # no layout at that count
            continue
        if p.training_days is not None and p.training_days <= deadline_days and (
                best is None or p.cost_usd["total"] < best[1]):
            best = (n, p.cost_usd["total"])
    return best


@pytest.mark.parametrize("gpu,deadline,gpus", [("b200", "120d", 1024), ("b200", "60d", 2048),
                                               ("mi300x", "120d", 2048)])
def test_a_pinned_moe_layout_is_sized_in_its_own_step(gpu, deadline, gpus):
    # an auditor: DeepSeek-V3 pinned to tp=1,pp=16,ep=64 runs on multiples of pp x ep = 1,024
    # devices, but the sizing walked nodes of 8 (2,560 and 1,280 lay it out not) and answered
    # 3,072 B200 in 35.3 days for $10.0M where 1,024 meet 120 days (100.5) for $9.51M; 2,048
    # meet 60 days and, on MI300X, 120 (100.3 days, $6.87M against 3,072's $7.09M)
    kw = dict(workload="deepseek-v3", gpu=gpu, layout="tp=1,pp=16,ep=64", deadline=deadline)
    plan = planner.estimate(**kw, alternatives=False)
    best = _cheapest_meeting(1024, 4096, float(deadline[:-1]), **kw)
    assert plan.feasible and (plan.cluster["gpus"], plan.cost_usd["total"]) == \
        (gpus, pytest.approx(best[1], rel=1e-9)) and best[0] == gpus
    assert plan.assumptions["size_step"]["value"] == 1024


def test_a_pinned_dense_layout_of_odd_pipeline_is_sized():
    # an auditor's check: 405B pinned to tp=8,pp=9 runs on multiples of 72 devices, none of
    # which the sizing's nodes-of-8 ladder reached: it had answered "no valid layout for this
    # cluster" at 1,000,000 devices, where 13,968 = 194 x 72 H100 meet 120 days
    kw = dict(params="405B", tokens="15T", layout="tp=8,pp=9")
    plan = planner.estimate(**kw, alternatives=False)
    assert plan.feasible and plan.cluster["gpus"] % 72 == 0
    best = _cheapest_meeting(72, plan.cluster["gpus"], 120.0, **kw)
    assert best is not None and plan.cost_usd["total"] <= best[1] * (1 + 1e-9)


def test_a_pinned_layouts_step_is_tp_pp_and_the_least_multiple_of_dp_cp_and_ep():
    from planner.model.layouts import devices_step

    assert devices_step({}) == 1
    assert devices_step({"tp": 1, "pp": 16, "ep": 64}) == 1024
    assert devices_step({"tp": 8, "pp": 9}) == 72
    assert devices_step({"tp": 8, "pp": 16, "cp": 4}) == 512
    assert devices_step({"pp": 2, "dp": 6, "ep": 4}) == 24  # lcm(6, 4) = 12
    assert devices_step({"cp": 2, "ep": 8, "zero": 1}) == 8
