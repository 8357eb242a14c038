"""Every accelerator of the catalog answers a full plan (issue #13): a sized plan and a plan at
a fixed device count, each with finite days, cost and megawatts, under the accelerator's default
stack."""

import math

import pytest

import planner
from planner.frameworks import FRAMEWORKS

KEYS = planner.catalog().keys("accelerators")


def _finite(x) -> bool:
    return x is not None and math.isfinite(x) and x > 0


@pytest.mark.parametrize("gpu", KEYS)
def test_sized_and_fixed_plans_have_days_cost_and_power(gpu):
    sized = planner.estimate(params="70B", tokens="2T", gpu=gpu)
    assert sized.feasible, (gpu, sized.reason)
    fixed = planner.estimate(params="70B", tokens="2T", gpu=gpu, gpus=sized.cluster["gpus"])
    for plan in (sized, fixed):
        assert _finite(plan.training_days), gpu
        assert _finite(plan.cost_usd["total"]), gpu
        assert _finite(plan.power_mw), gpu
    assert fixed.training_days == pytest.approx(sized.training_days, rel=1e-9)
    # the stack the plan assumed is named, with its source
    used = sized.assumptions["framework"]
    assert used["value"] in FRAMEWORKS
    assert "best public stack" in used["source"]


def test_owned_cost_is_known_for_every_accelerator():
    from planner.plan.cluster import purchase_unit

    cat = planner.catalog()
    for gpu in KEYS:
        unit = purchase_unit(cat.accelerator(gpu))[0]  # ~1,024 devices in whole units
        plan = planner.estimate(params="70B", tokens="2T", gpu=gpu, gpus=-(-1024 // unit) * unit,
                                ownership="owned")
        assert _finite(plan.cost_usd["total"]), gpu


def test_a_run_without_flash_attention_gets_the_stack_of_its_era():
    # era facts a user gives (--assume flash_attention=false: Megatron-LM 2021/2022 runs)
    # imply a stack from before FlashAttention, hence before Megatron-Core's TP overlap
    old = planner.estimate(params="7B", tokens="1T", gpus=64,
                           assumptions={"flash_attention": False})
    assert old.assumptions["framework"]["value"] == "megatron"
    assert "predates FlashAttention" in old.assumptions["framework"]["source"]
    new = planner.estimate(params="7B", tokens="1T", gpus=64)
    assert new.assumptions["framework"]["value"] == "megatron-core"
    given = planner.estimate(params="7B", tokens="1T", gpus=64, framework="nemo",
                             assumptions={"flash_attention": False})
    assert given.assumptions["framework"]["value"] == "nemo"
