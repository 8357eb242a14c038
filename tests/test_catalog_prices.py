"""Every accelerator is rented on one basis, the contract (reserved) price: the catalog's
where it has one at or below on-demand, else derived from on-demand by the share the catalog's
own contract and on-demand pairs show (planner/specs.py RESERVED_PER_ON_DEMAND)."""

import math
import re
import statistics

import pytest

import planner
from planner.assumptions import DEFAULT
from planner.catalog import catalog
from planner.specs import (
    DERIVED_RESERVED_RATE,
    RESERVED_PER_ON_DEMAND,
    RESERVED_PER_ON_DEMAND_RANGE,
    Figure,
    contract_from_on_demand,
)


def _pairs():
    """contract / on-demand of every accelerator whose catalog file has both, the contract at
    or below on-demand (a reservation of the same offer)."""
    out = {}
    for acc in catalog().all("accelerators"):
        c, od = acc.cloud_contract_usd_per_hour, acc.cloud_on_demand_usd_per_hour
        if c is not None and od is not None and c <= od:
            out[acc.key] = c / od
    return out


def test_the_share_is_google_s_committed_use_price_and_its_range_spans_the_catalog_pairs():
    pairs = _pairs()
    # Google Cloud TPU 1-year committed use: 30% below on-demand for v5e, v5p and Trillium
    for key in ("tpu-v5e", "tpu-v5p", "tpu-v6e"):
        assert pairs[key] == pytest.approx(RESERVED_PER_ON_DEMAND, abs=0.005), key
    low, high = RESERVED_PER_ON_DEMAND_RANGE
    # the low end: AWS's p4d (A100 40GB) capacity block against that instance's on-demand
    # price, both published by AWS; the file keeps the capacity block and prices on-demand in
    # the neocloud market, where the block sits above it (not a reservation of that offer)
    a100 = catalog().accelerator("a100-40gb")
    # AWS p4d.24xlarge on-demand, as the a100-40gb file's note reads it
    note = a100.figures["cloud_on_demand_usd_per_hour"].note
    per_hour = re.search(r"\$([\d.]+)/hr / 8 = \$([\d.]+)", note)
    p4d_on_demand = float(per_hour[1]) / 8
    assert p4d_on_demand == pytest.approx(float(per_hour[2]), abs=0.005)
    assert a100.cloud_contract_usd_per_hour / p4d_on_demand == pytest.approx(low, abs=0.005)
    assert "a100-40gb" not in pairs
    assert max(pairs.values()) == pytest.approx(high, abs=0.005)  # H100 contract index
    assert min(pairs.values()) >= low
    assert low <= statistics.median(pairs.values()) <= high


def test_both_a100_parts_rent_in_one_market_the_larger_memory_at_the_higher_price():
    # was: the 40 GB part rented at AWS's p4d capacity block ($1.84) and the 80 GB part at the
    # neocloud derived contract ($1.05): the smaller part 75% dearer, two markets set side by side
    cat = catalog()
    small, large = cat.accelerator("a100-40gb"), cat.accelerator("a100-80gb")
    (name_s, fig_s), (name_l, fig_l) = small.cloud_price(), large.cloud_price()
    assert name_s == name_l == DERIVED_RESERVED_RATE
    # Lambda's list prices: $15.92 (8x A100 40GB) and $22.32 (8x A100 80GB) an instance-hour
    assert fig_s.value / fig_l.value == pytest.approx(15.92 / 22.32, abs=0.005)
    assert fig_s.value == pytest.approx(1.07 * RESERVED_PER_ON_DEMAND)
    # and so is the range: the 80 GB part's on-demand range at the same ratio (the review: the
    # high had been AWS's $4.10, putting the smaller part's P90 cost above the larger's)
    od_s = small.figures["cloud_on_demand_usd_per_hour"]
    od_l = large.figures["cloud_on_demand_usd_per_hour"]
    assert od_s.low == pytest.approx(od_l.low * 15.92 / 22.32, abs=0.005)
    assert od_s.high == pytest.approx(od_l.high * 15.92 / 22.32, abs=0.005)
    assert fig_s.high < fig_l.high


def test_a_derived_contract_is_on_demand_times_the_share_with_both_ranges():
    od = Figure(5.50, "a listing", "2026", "S", low=4.50, high=7.25)
    fig = contract_from_on_demand("b200", od)
    assert fig.value == pytest.approx(3.85)
    # each side's log half-widths, on-demand's and the ratio's, added in quadrature
    down = math.hypot(math.log(5.50 / 4.50), math.log(0.70 / 0.45))
    up = math.hypot(math.log(7.25 / 5.50), math.log(0.80 / 0.70))
    assert (fig.low, fig.high) == pytest.approx((3.85 * math.exp(-down), 3.85 * math.exp(up)))
    assert (fig.low, fig.high) == pytest.approx((2.370, 5.233), abs=0.001)
    assert fig.confidence == "D" and fig.as_of == "2026"
    assert "b200 on-demand $5.50 x 0.7" in fig.source and fig.source.endswith("a listing")
    # an on-demand figure without a range is no exact figure: +-price_relative_range (16%),
    # as docs/uncertainty.md gives any price without one, joined with the ratio's range (it
    # had counted as exact, the ratio's 0.90-1.60 alone); a given relative range is used
    bare = contract_from_on_demand("x", Figure(2.0, "s", "2025"))
    r = DEFAULT.price_relative_range
    down = math.hypot(math.log(1 / (1 - r)), math.log(0.70 / 0.45))
    up = math.hypot(math.log(1 + r), math.log(0.80 / 0.70))
    assert (bare.low, bare.high) == pytest.approx((1.4 * math.exp(-down), 1.4 * math.exp(up)))
    assert (bare.low, bare.high) == pytest.approx((0.871, 1.709), abs=0.001)
    narrow = contract_from_on_demand("x", Figure(2.0, "s", "2025"), price_relative_range=0.0)
    assert (narrow.low, narrow.high) == pytest.approx((0.90, 1.60))
    half = contract_from_on_demand("x", Figure(2.0, "s", "2025", low=1.5))  # a low, no high
    assert half.low == pytest.approx(
        1.4 * math.exp(-math.hypot(math.log(2 / 1.5), math.log(0.70 / 0.45))))
    assert half.high == pytest.approx(bare.high)


def test_every_priced_accelerator_rents_at_a_contract_price():
    cat = catalog()
    for acc in cat.all("accelerators"):
        name, fig = acc.cloud_price()
        if acc.cloud_on_demand_usd_per_hour is None and acc.cloud_contract_usd_per_hour is None:
            assert (name, fig) == (None, None)
            continue
        c, od = acc.cloud_contract_usd_per_hour, acc.cloud_on_demand_usd_per_hour
        if c is not None and (od is None or c <= od):
            assert (name, fig.value) == ("cloud_contract_usd_per_hour", c), acc.key
        else:  # no contract, or one above on-demand (H200's 2024 capacity block)
            assert name == DERIVED_RESERVED_RATE, acc.key
            assert fig.value == pytest.approx(od * RESERVED_PER_ON_DEMAND), acc.key
            assert fig.value < od and fig.low <= fig.value <= fig.high


def test_a_comparison_of_accelerators_prices_each_on_the_contract_basis():
    # was: H100 at its $2.35 contract against B200 and MI300X at their on-demand list prices
    plan = planner.estimate(params="70B", tokens="2T", gpu="b200", gpus=1024)
    price = plan.assumptions["price_per_gpu_hour"]
    assert price["value"] == pytest.approx(5.50 * 0.70)
    assert price["source"].startswith("derived: b200 on-demand $5.50 x 0.7")
    # cost is device-hours x that price
    assert plan.cost_usd["by_method"]["cloud"] == pytest.approx(plan.gpu_hours * 3.85,
                                                                 rel=1e-9)


def test_hardware_show_names_the_derived_rate_a_plan_rents_at():
    from planner.catalog_view import catalog_show

    text = catalog_show(catalog(), "accelerators", "b200")
    assert "rents at (derived contract)   3.85 [2.37-5.07]" in text  # on-demand 4.50-7.00
    assert "derived: b200 on-demand $5.50 x 0.7" in text
    # a catalog contract price is the file's own figure: no derived line
    assert "rents at" not in catalog_show(catalog(), "accelerators", "h100-sxm")


def test_an_accelerator_built_without_files_still_rents_at_its_prices():
    # a library user's Accelerator with prices but no sourced figures: both bases answer
    from dataclasses import replace

    bare = replace(catalog().accelerator("h100-sxm"), figures={})
    assert bare.cloud_price()[1].value == 2.35  # its contract price, not None
    od_only = replace(bare, cloud_contract_usd_per_hour=None)
    assert od_only.cloud_price()[1].value == pytest.approx(2.95 * 0.70)


def test_a_rented_only_chips_purchase_equivalent_spans_the_ratio_and_a_derived_price():
    # Chips that are not sold take the capex their on-demand price implies at the catalog's
    # on-demand / purchase ratio, 1.07e-4 (H100 SXM) to 1.6e-4 (MI300X), midpoint 1.335e-4.
    # Where the on-demand price is itself derived (confidence D: TPU v3, Trainium2), its range
    # joins the ratio's in quadrature, as a derived contract price joins its two; TPU v3 and
    # Trainium2 had taken their on-demand range at the midpoint ratio alone (Trainium2
    # 15,000-26,200, narrower than the ratio's own 16,900-25,200 on its high side).
    checked = 0
    for acc in catalog().all("accelerators"):
        buy = acc.figures.get("purchase_usd")
        if buy is None or not (buy.note or "").startswith("rented only"):
            continue
        od = acc.figures["cloud_on_demand_usd_per_hour"]
        mid = od.value / 1.335e-4
        assert buy.value == pytest.approx(mid, rel=0.01), acc.key
        lo_od = od.low if od.confidence == "D" and od.low else od.value
        hi_od = od.high if od.confidence == "D" and od.high else od.value
        down = math.hypot(math.log(od.value / lo_od), math.log(1.6 / 1.335))
        up = math.hypot(math.log(hi_od / od.value), math.log(1.335 / 1.07))
        assert buy.low == pytest.approx(mid * math.exp(-down), rel=0.01), acc.key
        assert buy.high == pytest.approx(mid * math.exp(up), rel=0.01), acc.key
        checked += 1
    assert checked >= 8  # the six TPUs and both Trainiums
