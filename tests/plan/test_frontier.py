"""Frontier scale: plans from 1e22 to 1e29 FLOP and up to 1,000,000 devices stay finite and
sensible; when more devices cannot meet the deadline, the plan names the limit that binds."""

import math

import pytest

import planner

SENSIBLE = {"deadline", "critical_batch", "network", "reliability", "memory", "power",
            "budget", "gpus", "max_gpus", "inventory"}


@pytest.mark.parametrize("params, tokens", [
    ("1B", "1.6T"),      # ~1e22 FLOP
    ("8B", "15T"),       # ~7e23
    ("70B", "15T"),      # ~6e24
    ("1T", "15T"),       # ~9e25
    ("3T", "60T"),       # ~1e27
    ("10T", "200T"),     # ~1e28
    ("30T", "600T"),     # ~1e29
])
def test_plans_stay_finite_or_name_their_limit(params, tokens):
    plan = planner.estimate(params=params, tokens=tokens)
    # None: a plan well inside every limit (1B on 1.6T tokens: one node of 8, 66 of the
    # default 120 days, the smallest size bought) has none binding it
    assert plan.binding in SENSIBLE or (plan.feasible and plan.binding is None
                                        and plan.training_days < 0.9 * 120)
    assert math.isfinite(plan.model_flops) and plan.model_flops > 0
    if plan.feasible:
        assert 0 < plan.training_days <= 120 and 0 < plan.mfu < 1
        assert math.isfinite(plan.cost_usd["total"]) and math.isfinite(plan.power_mw)
    else:
        assert plan.reason and plan.binding in {"critical_batch", "network", "reliability",
                                                "deadline"}


def test_frontier_runs_say_why_more_devices_do_not_help():
    plan = planner.estimate(params="10T", tokens="200T")
    assert not plan.feasible
    assert plan.binding in {"critical_batch", "network", "reliability"}
    assert "deadline" in plan.reason


def test_a_million_devices_is_an_answer():
    # a failure every ~3 minutes: under Daly's complete model the run still makes progress
    # (it had read none under the linear form, which charged failures landing in restarts
    # and rework a whole restart and half an interval each)
    plan = planner.estimate(params="1T", tokens="15T", gpus=1_000_000)
    assert plan.cluster["gpus"] == 1_000_000
    assert plan.feasible and 0.2 < plan.goodput < 0.5 and math.isfinite(plan.training_days)
    # a 20-minute restart makes it none: more than 99% of the time would go to failures
    stuck = planner.estimate(params="1T", tokens="15T", gpus=1_000_000,
                             assumptions={"restart_s": 1200.0})
    assert stuck.binding == "reliability" and not stuck.feasible
    assert "fails every" in stuck.reason and "no progress" in stuck.reason
    d = stuck.to_dict()
    assert d["training_days"] is None  # unknown stays null, never inf
    # A faster restart makes it a plan again.
    ok = planner.estimate(params="1T", tokens="15T", gpus=1_000_000,
                          assumptions={"restart_s": 30.0})
    assert ok.feasible and ok.goodput > plan.goodput
