"""cost.py: hand-worked numbers, exact breakdowns, unknown prices, monotonicity."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.assumptions import DEFAULT
from planner.model.cost import (
    OWNED_COMPONENTS,
    SECONDS_PER_YEAR,
    capital_recovery_factor,
    cloud_cost,
    cost_per_1e24_flop,
    cost_per_trillion_tokens,
    owned_cost,
    purchase_capex,
)

# 16,384 H100 for 54 days (Llama 3 report, sec. 3.3.4), catalog prices (hardware/h100-sxm.toml)
N, WALL = 16_384, 54 * 86400.0
DEVICE, SERVER = 27_500.0, 39_200.0
IT_PEAK_W = N * 1275.0 * 1.08  # DGX H100 maximum per GPU + 8% network: the facility's size
FAC_W = IT_PEAK_W * 0.9 * 1.2  # the average draw x PUE: the energy bill


def _owned(**kw):
    args = dict(devices=N, wall_seconds=WALL, device_usd=DEVICE, server_usd_per_device=SERVER,
                it_peak_w=IT_PEAK_W, facility_w=FAC_W, energy_usd_per_kwh=0.0806,
                capex_usd_per_mw=11.7e6, asm=DEFAULT)
    args.update(kw)
    return owned_cost(**args)


def test_cloud_cost_is_hours_times_rate_exactly():
    hours = 16_384 * 54 * 24.0
    out = cloud_cost(hours, 2.35)
    assert out["total"] == hours * 2.35
    assert out["compute"] == out["total"]
    assert math.isnan(cloud_cost(hours, None)["total"])


def test_capital_recovery_factor():
    # 10% over 5 years: 0.1 x 1.1^5 / (1.1^5 - 1) = 0.263797 (standard annuity table).
    assert capital_recovery_factor(0.10, 5) == pytest.approx(0.1 * 1.1**5 / (1.1**5 - 1))
    assert capital_recovery_factor(0.10, 5) == pytest.approx(0.263797, abs=1e-6)
    assert capital_recovery_factor(0.0, 5) == 0.2
    assert capital_recovery_factor(1e-12, 5) == pytest.approx(0.2, rel=1e-9)  # continuous at 0
    crf = capital_recovery_factor(np.array([0.0, 0.05, 0.1]), np.array([4.0, 5.0, 15.0]))
    assert crf[0] == 0.25 and crf[2] == pytest.approx(0.131474, abs=1e-6)


def test_owned_cost_hand_worked():
    out = _owned()
    years = WALL / SECONDS_PER_YEAR
    crf5 = 0.1 * 1.1**5 / (1.1**5 - 1)
    crf15 = 0.1 * 1.1**15 / (1.1**15 - 1)
    acc, srv = N * DEVICE, N * (SERVER - DEVICE)
    net = 0.23 * (acc + srv)  # Cottier et al. 2024: +23% on server cost
    assert out["accelerators"] == pytest.approx(acc * crf5 * years)
    assert out["servers"] == pytest.approx(srv * crf5 * years)
    assert out["network"] == pytest.approx(net * crf5 * years)
    assert out["facility"] == pytest.approx(11.7 * IT_PEAK_W / 1e6 * 1e6 * crf15 * years)
    assert out["energy"] == pytest.approx(FAC_W * WALL / 3.6e9 * 1000 * 0.0806)
    assert out["maintenance"] == pytest.approx(0.03 * (acc + srv + net) * years)
    # $41.5M for 54 days; chips the largest part, energy a few % (Cottier et al. 2024: chips
    # ~44% of amortised cost, energy ~9%)
    assert 3.5e7 < out["total"] < 5e7
    assert out["accelerators"] == max(out[k] for k in OWNED_COMPONENTS)
    assert out["energy"] / out["total"] < 0.10


def test_owned_cost_per_gpu_hour_crosscheck():
    # Straight-line arithmetic: $50k IT over 5 years = $1.14/h at 0% cost of capital, no
    # maintenance: the straight-line figure.
    asm = DEFAULT.with_(cost_of_capital=0.0, maintenance_fraction=0.0, network_capex_fraction=0.0)
    out = owned_cost(1, 3600.0, 50_000.0, 50_000.0, 0.0, 0.0, 0.0, 0.0, asm)
    assert out["accelerators"] + out["servers"] == pytest.approx(50_000 / (5 * 8760))
    assert out["accelerators"] == pytest.approx(1.1416, abs=1e-4)


def test_server_overhead_when_server_price_unknown():
    out = _owned(server_usd_per_device=None)
    ref = _owned(server_usd_per_device=DEVICE * DEFAULT.server_overhead)
    assert out["servers"] == pytest.approx(ref["servers"])
    assert out["servers"] / out["accelerators"] == pytest.approx(0.64)  # Epoch 1.64 - 1


def test_breakdown_sums_exactly_to_total():
    out = _owned(energy_usd_per_kwh=np.array([0.05, 0.0806, 0.2]), devices=np.array([8, 1024,
                                                                                     100_000]))
    assert set(out) == set(OWNED_COMPONENTS) | {"total"}
    total = sum(out[k] for k in OWNED_COMPONENTS)
    assert np.array_equal(total, out["total"])
    assert all(out[k].shape == (3,) for k in out)


def test_unknown_prices_give_nan_only_where_needed():
    out = _owned(energy_usd_per_kwh=None)
    assert math.isnan(out["energy"]) and math.isnan(out["total"])
    assert math.isfinite(out["accelerators"]) and math.isfinite(out["facility"])
    out = _owned(capex_usd_per_mw=float("nan"))
    assert math.isnan(out["facility"]) and math.isfinite(out["energy"])
    out = _owned(device_usd=None, server_usd_per_device=None)
    for k in ("accelerators", "servers", "network", "maintenance", "total"):
        assert math.isnan(out[k]), k
    assert math.isfinite(out["energy"])
    # nan inside an array stays local to its element
    out = _owned(energy_usd_per_kwh=np.array([np.nan, 0.08]))
    assert math.isnan(out["total"][0]) and math.isfinite(out["total"][1])


def test_per_unit_costs():
    assert cost_per_trillion_tokens(30e6, 15e12) == 2e6
    assert cost_per_1e24_flop(4.6e6, 3.14e23) == pytest.approx(4.6e6 / 0.314)


def test_vectorised_equals_scalar():
    n = np.array([8, 2048, 16_384])
    wall = np.array([3600.0, 30 * 86400.0, 90 * 86400.0])
    price = np.array([0.05, 0.08, 0.2])
    server = np.array([np.nan, 39_200.0, 50_000.0])
    out = _owned(devices=n, wall_seconds=wall, energy_usd_per_kwh=price,
                 server_usd_per_device=server, it_peak_w=n * 1e3, facility_w=n * 1.2e3)
    for i in range(3):
        one = _owned(devices=n[i], wall_seconds=wall[i], energy_usd_per_kwh=price[i],
                     server_usd_per_device=server[i], it_peak_w=n[i] * 1e3,
                     facility_w=n[i] * 1.2e3)
        for k in out:
            assert out[k][i] == one[k], k


@given(st.floats(0.01, 1.0), st.floats(1.01, 3.0), st.floats(1e3, 1e5), st.floats(1.01, 3.0))
def test_higher_price_higher_cost(kwh, up, device_usd, up2):
    base = _owned(energy_usd_per_kwh=kwh, device_usd=device_usd, server_usd_per_device=None)
    assert _owned(energy_usd_per_kwh=kwh * up, device_usd=device_usd,
                  server_usd_per_device=None)["total"] > base["total"]
    assert _owned(energy_usd_per_kwh=kwh, device_usd=device_usd * up2,
                  server_usd_per_device=None)["total"] > base["total"]
    assert cloud_cost(1000.0, kwh * up)["total"] > cloud_cost(1000.0, kwh)["total"]


@given(st.floats(0.0, 0.3), st.floats(1.0, 20.0))
def test_crf_at_least_straight_line(rate, years):
    # Interest never makes capital cheaper than straight-line depreciation.
    assert capital_recovery_factor(rate, years) >= 1.0 / years * (1 - 1e-12)


def test_plan_reports_the_energy_price_it_used():
    # eu-colocation's own figure (Eurostat, hardware/sites/eu-colocation.toml), not the US
    # default of the assumptions, is what the plan prices energy at and what it reports.
    import planner

    cat = planner.catalog()
    site = cat.site("eu-colocation")
    plan = planner.estimate(params="7B", tokens="1T", gpu="h100-sxm", gpus=256,
                            site="eu-colocation", ownership="owned")
    used = plan.assumptions["energy_usd_per_kwh"]
    assert used["value"] == site.energy_usd_per_kwh == 0.216
    assert used["source"] == "site eu-colocation"
    assert plan.cost_usd["energy"] == pytest.approx(plan.energy_mwh * 1000 * 0.216, rel=1e-9)
    given = planner.estimate(params="7B", tokens="1T", gpu="h100-sxm", gpus=256,
                             site="eu-colocation", energy_usd_per_kwh=0.05)
    assert given.assumptions["energy_usd_per_kwh"] == {
        "value": 0.05, "source": "given (--energy-usd-per-kwh)"}


def test_purchase_capex_is_the_cluster_and_its_facility_up_front():
    # 1,000 H100 at a $39,200 server quote per device: servers hold their accelerators, the
    # network adds 23% (Cottier et al. 2024), the facility $11.7M per MW of peak IT load
    asm = DEFAULT
    c = purchase_capex(1000, 27_500.0, 39_200.0, 1.275e6, 11.7e6, asm)
    assert c["accelerators"] == pytest.approx(27.5e6)
    assert c["servers"] == pytest.approx(11.7e6)
    assert c["hardware"] == pytest.approx(39.2e6 * 1.23)
    assert c["facility"] == pytest.approx(1.275 * 11.7e6)
    assert c["total"] == pytest.approx(c["hardware"] + c["facility"])
    # the owned cost charges a run an annuity share of it: a year's hardware parts are the
    # hardware capex x the capital recovery factor
    year = owned_cost(1000, SECONDS_PER_YEAR, 27_500.0, 39_200.0, 1.275e6, 1.0e6, 0.0,
                      11.7e6, asm)
    crf = capital_recovery_factor(asm.cost_of_capital, asm.depreciation_years)
    assert year["accelerators"] + year["servers"] + year["network"] == \
        pytest.approx(c["hardware"] * crf)
    # no purchase price: the hardware is unknown, the facility still known
    unknown = purchase_capex(1000, float("nan"), float("nan"), 1.275e6, 11.7e6, asm)
    assert np.isnan(unknown["hardware"]) and np.isnan(unknown["total"])
    assert unknown["facility"] == pytest.approx(c["facility"])


def test_a_plan_reports_what_owning_its_cluster_costs():
    import planner

    p = planner.estimate(params="70B", tokens="2T", gpus=2048, gpu="h100-sxm")
    assert p.capex_usd["hardware"] == pytest.approx(2048 * 39_200 * 1.23)
    assert p.capex_usd["total"] > 20 * p.cost_usd["by_method"]["owned"]  # a run's share


def test_a_run_that_never_ends_at_a_free_price_costs_an_unknown_amount_quietly():
    # the fuzz: --price-per-gpu-hour 0 with a sensitivity end whose run never ends had
    # raised numpy's "invalid value encountered in multiply" (inf x 0)
    with np.errstate(invalid="raise"):
        cost = cloud_cost(np.array([math.inf, 100.0]), np.array([0.0, 2.0]))
    assert math.isnan(cost["total"][0]) and cost["total"][1] == 200.0


def test_an_assumed_server_overhead_replaces_the_catalog_s_server_quote_and_the_quote_is_shown():
    # the auditor: H100's owned cost rests on its catalog server quote ($39,200 a device), which
    # the assumptions never showed, and --assume server_overhead=2.0 was reported as given
    # while the quote made the cost. The user's figure wins, as an assumed PUE over the site's.
    import planner
    from planner.many.estimate_many import estimate_many

    run = dict(params="7B", tokens="100B", gpus=64, ownership="owned")
    plan = planner.estimate(**run)
    quote = plan.assumptions["server_usd_per_device"]
    assert quote["value"] == 39200 and "Thinkmate" in quote["source"]
    assert "server_overhead" not in plan.assumptions
    devices = plan.cluster["gpus"]
    assert plan.capex_usd["hardware"] == pytest.approx(devices * 39200 * 1.23)  # Cottier +23%
    two = planner.estimate(**run, assumptions={"server_overhead": 2.0})
    assert "server_usd_per_device" not in two.assumptions
    assert two.assumptions["server_overhead"]["value"] == 2.0
    assert two.assumptions["server_overhead"]["source"].startswith(
        "given (--assume), replacing h100-sxm's server_usd_per_device $39,200")
    purchase = two.assumptions["purchase_usd"]["value"]
    assert two.capex_usd["hardware"] == pytest.approx(devices * purchase * 2.0 * 1.23)
    assert two.cost_usd["total"] > plan.cost_usd["total"]
    # estimate_many's rows, as estimate's
    many = estimate_many({k: [v] for k, v in run.items()},
                         assumptions={"server_overhead": 2.0}, progress=False)
    assert many.column("cost_usd_total").to_pylist()[0] == pytest.approx(
        two.cost_usd["total"], rel=1e-12)
    # the Monte Carlo and the tornado no longer draw the quote the plan does not use
    from planner.sensitivity import sensitivity
    rows = sensitivity("cost_usd", **run, assumptions={"server_overhead": 2.0})
    names = {r["assumption"] for r in rows}
    assert "server_usd_per_device" not in names and "purchase_usd" in names
