"""PUE and energy price as estimate inputs: they replace the site's figures everywhere a plan
uses them (facility power, energy cost, sizing under a power cap, the Monte Carlo), are reported
as given, are validated, and are columns of estimate_many and axes of a sweep."""

import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cli
import planner
from planner.assumptions import DEFAULT
from planner.many.estimate_many import estimate_many

BASE = dict(params="13B", tokens="1T", gpu="h100-sxm", gpus=256)
SITE_PUE = 1.10  # hardware/sites/us-hyperscale.toml, the default site
SITE_PEAK_PUE = 1.20  # its design-day PUE, what the power contract covers
UPLIFT = DEFAULT.peak_pue_uplift  # a given PUE's peak: PUE + this


def _peak_only_catalog(tmp_path):
    """A catalog with a site "peakonly" that gives a design-day PUE of 1.4 and no annual one."""
    (tmp_path / "hardware" / "sites").mkdir(parents=True)
    (tmp_path / "hardware" / "sites" / "peakonly.toml").write_text(
        'name = "peak only"\nregion = "x"\n'
        'peak_pue = { value = 1.4, source = "a test", as_of = "2026" }\n')
    return planner.catalog(str(tmp_path))


@pytest.fixture(scope="module")
def base():
    return planner.estimate(**BASE), planner.estimate(**BASE, ownership="owned")


def test_pue_scales_facility_power_and_energy(base):
    plan, _ = base
    assert plan.assumptions["pue"]["value"] == SITE_PUE
    given_ = planner.estimate(**BASE, pue=1.5)
    assert given_.assumptions["pue"] == {"value": 1.5, "source": "given (--pue)"}
    assert given_.assumptions["peak_pue"]["value"] == pytest.approx(1.5 + UPLIFT)
    # facility power = IT power x PUE (The Green Grid 2007): only the PUE changed; the average
    # follows the annual PUE, the peak (the headline) the design-day one
    assert given_.power_average_mw == pytest.approx(plan.power_average_mw * 1.5 / SITE_PUE,
                                                    rel=1e-12)
    assert given_.power_mw == pytest.approx(plan.power_mw * (1.5 + UPLIFT) / SITE_PEAK_PUE,
                                            rel=1e-12)
    assert given_.energy_mwh == pytest.approx(plan.energy_mwh * 1.5 / SITE_PUE, rel=1e-12)
    assert given_.training_days == plan.training_days and given_.layout == plan.layout
    assert given_.cost_usd["total"] == plan.cost_usd["total"]  # cloud: the price is per hour


def test_a_given_pue_keeps_the_site_s_own_design_day_uplift():
    # cheap-power: annual 1.10, design day 1.15 (hardware/sites/cheap-power.toml). Giving its own
    # PUE had raised the peak to 1.10 + peak_pue_uplift 0.10 = 1.20 and turned a plan within a
    # 26 MW cap infeasible: the same physical inputs, opposite answers
    run = dict(params="405B", tokens="15T", gpus=16384, site="cheap-power", power_cap="26MW")
    site, own = planner.estimate(**run), planner.estimate(**run, pue=1.10)
    assert site.assumptions["peak_pue"]["value"] == own.assumptions["peak_pue"]["value"] == 1.15
    assert site.feasible and own.feasible and own.power_mw == site.power_mw
    assert "site cheap-power's design-day uplift 0.05" in own.assumptions["peak_pue"]["source"]
    hot = planner.estimate(**run, pue=1.30)
    assert hot.assumptions["peak_pue"]["value"] == 1.35
    assert hot.power_mw == pytest.approx(site.power_mw * 1.35 / 1.15, rel=1e-12)
    assert not hot.feasible and hot.binding == "power"
    # estimate_many's columnar path: the same peak, row by row
    out = estimate_many(pa.table({"params": ["405B"] * 3, "tokens": ["15T"] * 3,
                                  "gpus": [16384] * 3, "site": ["cheap-power"] * 3,
                                  "pue": [None, 1.10, 1.30]}), progress=False)
    assert out.column("power_mw").to_pylist() == [site.power_mw, own.power_mw, hot.power_mw]


def test_a_site_with_a_peak_but_no_annual_pue_keeps_its_peak_for_the_pue_its_plans_use(
        tmp_path):
    # the uplift of a given PUE is the site's peak - the annual PUE its plans use without one
    # (the default 1.2 here), in every path: a review found --pue 1.2, the PUE such a plan
    # already used, lowering the site's 1.4 to 1.3 (the default uplift); an earlier one,
    # estimate_many and estimate taking two different uplifts
    cat = _peak_only_catalog(tmp_path)
    run = dict(params="13B", tokens="1T", gpus=256, site="peakonly", catalog=cat)
    own = planner.estimate(**run)
    assert own.assumptions["pue"]["value"] == DEFAULT.pue
    assert own.assumptions["peak_pue"]["value"] == 1.4
    restated = planner.estimate(**run, pue=DEFAULT.pue)
    assert restated.assumptions["peak_pue"]["value"] == 1.4
    assert restated.power_mw == own.power_mw
    for pue in (1.1, 1.3):
        plan = planner.estimate(**run, pue=pue)
        assert plan.assumptions["peak_pue"]["value"] == round(pue + 1.4 - DEFAULT.pue, 10)
        many = estimate_many({"params": ["13B"], "tokens": ["1T"], "gpus": [256],
                              "site": ["peakonly"], "pue": [pue]}, catalog=cat, progress=False)
        assert many.column("power_mw").to_pylist() == [plan.power_mw]


def test_an_assumed_checkpoint_bandwidth_replaces_the_site_s_storage_figure():
    # it had been ignored wherever the site has a storage figure (the default site has): 1 GB/s
    # moved nothing, while the table reported it as given
    run = dict(params="13B", tokens="1T", gpu="h100-sxm", gpus=256)
    plan = planner.estimate(**run)
    assert plan.assumptions["storage_write_gb_per_s"]["source"] == "site us-hyperscale"
    slow = planner.estimate(**run, assumptions={"checkpoint_write_gb_per_s": 1})
    assert "storage_write_gb_per_s" not in slow.assumptions
    assert slow.assumptions["checkpoint_write_gb_per_s"] == {"value": 1.0,
                                                             "source": "given (--assume)"}
    assert slow.goodput < plan.goodput and slow.training_days > plan.training_days
    # the same figures where no site figure stands in the way, and in estimate_many
    elsewhere = planner.estimate(**run, site="eu-colocation",
                                 assumptions={"checkpoint_write_gb_per_s": 1})
    assert elsewhere.goodput == slow.goodput
    many = estimate_many(pa.table({"params": ["13B"], "tokens": ["1T"], "gpu": ["h100-sxm"],
                                   "gpus": [256]}),
                         assumptions={"checkpoint_write_gb_per_s": 1}, progress=False)
    assert many.column("goodput").to_pylist() == [slow.goodput]


def test_an_assumed_checkpoint_bandwidth_equal_to_the_default_still_replaces_the_site_s(
        tmp_path):
    # the review: a value compared with the default had let a site's 50 GB/s win over an
    # assumed 2,000 (the default's value), and a tornado's end at 2,000 fell back to the site
    (tmp_path / "hardware" / "sites").mkdir(parents=True)
    (tmp_path / "hardware" / "sites" / "slowstore.toml").write_text(
        'name = "slow store"\nregion = "x"\n'
        'storage_write_gb_per_s = { value = 50, source = "a test", as_of = "2026" }\n')
    cat = planner.catalog(str(tmp_path))
    run = dict(params="13B", tokens="1T", gpus=256, site="slowstore", catalog=cat)
    site = planner.estimate(**run)
    at_default = planner.estimate(**run, assumptions={"checkpoint_write_gb_per_s": 2000})
    elsewhere = planner.estimate(params="13B", tokens="1T", gpus=256, site="eu-colocation")
    assert site.assumptions["storage_write_gb_per_s"]["value"] == 50
    assert at_default.goodput == elsewhere.goodput > site.goodput  # 2,000 GB/s, as assumed
    assert at_default.assumptions["checkpoint_write_gb_per_s"]["source"] == "given (--assume)"
    from planner.sensitivity import sensitivity
    rows = sensitivity("training_days", ranges={"checkpoint_write_gb_per_s": (1000, 2000)},
                       **run)
    row = next(r for r in rows if r["assumption"] == "checkpoint_write_gb_per_s")
    assert row["at_high"] < row["at_low"]  # faster storage, fewer days


def test_energy_price_scales_the_owned_energy_cost(base):
    _, owned = base
    cheap = planner.estimate(**BASE, ownership="owned", energy_usd_per_kwh="$0.04")
    assert cheap.assumptions["energy_usd_per_kwh"] == {
        "value": 0.04, "source": "given (--energy-usd-per-kwh)"}
    assert cheap.cost_usd["energy"] == pytest.approx(owned.cost_usd["energy"] * 0.04 / 0.0806,
                                                     rel=1e-12)
    others = {k for k in owned.cost_usd if k not in ("energy", "total", "per_trillion_tokens",
                                                      "per_1e24_flop", "by_method")}
    assert all(cheap.cost_usd[k] == owned.cost_usd[k] for k in others)
    assert cheap.cost_usd["total"] == pytest.approx(
        owned.cost_usd["total"] - owned.cost_usd["energy"] + cheap.cost_usd["energy"])
    free = planner.estimate(**BASE, ownership="owned", energy_usd_per_kwh=0)
    assert free.cost_usd["energy"] == 0


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pue=st.floats(1.0, 3.0), price=st.floats(0.0, 0.5))
def test_power_and_energy_cost_are_linear_in_the_given_figures(base, pue, price):
    _, owned = base
    p = planner.estimate(**BASE, ownership="owned", pue=pue, energy_usd_per_kwh=price)
    assert p.power_average_mw == pytest.approx(owned.power_average_mw * pue / SITE_PUE,
                                               rel=1e-9)
    assert p.power_mw == pytest.approx(owned.power_mw * (pue + UPLIFT) / SITE_PEAK_PUE, rel=1e-9)
    assert p.cost_usd["energy"] == pytest.approx(
        owned.cost_usd["energy"] * (pue / SITE_PUE) * (price / 0.0806), rel=1e-9, abs=1e-6)


def test_a_higher_pue_fits_fewer_devices_under_a_power_cap():
    kw = dict(params="7B", tokens="2T", gpu="h100-sxm", power_cap="1MW", objective="time")
    low = planner.estimate(**kw, pue=1.05)
    high = planner.estimate(**kw, pue=2.0)
    assert low.feasible and high.feasible
    assert high.cluster["gpus"] < low.cluster["gpus"]
    assert high.power_mw <= 1.0 + 1e-9 and low.power_mw <= 1.0 + 1e-9


def test_uncertainty_samples_around_the_given_figures():
    kw = dict(BASE, ownership="owned", uncertainty=True)
    plan = planner.estimate(**kw, pue=1.6, energy_usd_per_kwh=0.2)
    assert plan.p10["power_mw"] < plan.power_mw * 1.01 and plan.p90["power_mw"] > plan.power_mw
    # the default site's PUE range is 1.09-1.10: samples around 1.6 are far above it
    site = planner.estimate(**kw)
    assert plan.p10["power_mw"] > site.p90["power_mw"] * 1.3
    # PUE 1 is the floor: no sample draws less than the IT load, so no draw's power falls
    # below the headline at PUE 1 (H100's device power has no range, and the efficiency draws
    # move days, not power); without the floor, draws went down to PUE 0.92 (x0.956)
    floor = planner.estimate(**kw, pue=1.0)
    assert floor.p10["power_mw"] >= floor.power_mw * (1 - 1e-12)
    assert floor.p90["power_mw"] > floor.power_mw


@pytest.mark.parametrize("flag,value,says", [
    ("pue", 0.9, "below 1"), ("pue", "high", "is not a PUE"), ("pue", -1.2, "negative"),
    ("energy_usd_per_kwh", -0.1, "negative"), ("energy_usd_per_kwh", 80, "per MWh"),
    ("energy_usd_per_kwh", "cheap", "is not a price per kWh")])
def test_bad_figures_name_the_input(flag, value, says):
    with pytest.raises(planner.InputError, match=f"--{flag.replace('_', '-')}.*{says}"):
        planner.estimate(**BASE, **{flag: value})


def test_cli_flags_and_errors():
    r = CliRunner().invoke(cli.app, ["estimate", "--params", "13B", "--tokens", "1T",
                                     "--gpus", "256", "--gpu", "h100-sxm", "--pue", "1.3",
                                     "--energy-usd-per-kwh", "$0.05", "--format", "json"])
    assert r.exit_code == 0, r.output
    import json

    d = json.loads(r.output)
    assert d["assumptions"]["pue"]["value"] == 1.3
    assert d["assumptions"]["energy_usd_per_kwh"]["value"] == 0.05
    for args, flag in ((["--pue", "0.5"], "--pue"), (["--energy-usd-per-kwh", "x"],
                                                     "--energy-usd-per-kwh")):
        bad = CliRunner().invoke(cli.app, ["estimate", "--params", "13B", "--tokens", "1T",
                                           "--gpus", "256", *args])
        assert bad.exit_code == 2 and flag in bad.output and "accepted" in bad.output
        assert "Traceback" not in bad.output


def test_estimate_many_takes_them_as_columns(base):
    plan, owned = base
    table = pa.table({"params": ["13B"] * 4, "tokens": ["1T"] * 4, "gpu": ["h100-sxm"] * 4,
                      "gpus": [256] * 4, "ownership": ["cloud", "owned", "owned", "cloud"],
                      "pue": [None, 1.5, None, 0.5],
                      "energy_usd_per_kwh": [None, 0.04, 0.04, None]})
    rows = estimate_many(table).to_pylist()
    assert rows[0]["power_mw"] == pytest.approx(plan.power_mw, rel=1e-12)
    direct = planner.estimate(**BASE, ownership="owned", pue=1.5, energy_usd_per_kwh=0.04)
    assert rows[1]["power_mw"] == pytest.approx(direct.power_mw, rel=1e-12)
    assert rows[1]["cost_usd_energy"] == pytest.approx(direct.cost_usd["energy"], rel=1e-12)
    assert rows[1]["assumptions_pue_value"] == 1.5
    direct = planner.estimate(**BASE, ownership="owned", energy_usd_per_kwh=0.04)
    assert rows[2]["cost_usd_total"] == pytest.approx(direct.cost_usd["total"], rel=1e-12)
    assert rows[3]["error"] and "--pue" in rows[3]["error"] and rows[3]["power_mw"] is None


def test_sweep_axes(base):
    plan, _ = base
    spec = {"fixed": dict(BASE), "axes": {"pue": [1.1, 1.4], "energy_usd_per_kwh": [0.06]}}
    table = planner.sweep(spec).table
    assert table.schema.field("pue").metadata[b"unit"] == b""
    assert table.schema.field("energy_usd_per_kwh").metadata[b"unit"] == b"USD per kWh"
    rows = table.to_pylist()
    assert [r["pue"] for r in rows] == [1.1, 1.4]
    assert rows[1]["power_mw"] == pytest.approx(plan.power_mw * (1.4 + UPLIFT) / SITE_PEAK_PUE,
                                                rel=1e-12)
    assert rows[1]["power_average_mw"] == pytest.approx(plan.power_average_mw * 1.4 / SITE_PUE,
                                                        rel=1e-12)
    with pytest.raises(planner.sweep.SpecError, match=r"\[axes\] pue"):
        planner.sweep({"fixed": dict(BASE), "axes": {"pue": [0.8]}})


def test_estimate_many_answers_pue_and_energy_columns_without_per_row_estimates(monkeypatch):
    # They are row quantities of the vectorised path (like the price per device-hour), so a
    # million distinct PUEs cost no million estimate calls.
    import planner.many.estimate_many as many

    table = pa.table({**{k: [v] * 3 for k, v in BASE.items()},
                      "layout": ["tp=4,pp=1,dp=64"] * 3, "ownership": ["owned"] * 3,
                      "pue": [1.05, 1.3, 1.45], "energy_usd_per_kwh": [0.0, 0.11, 4.9]})
    expected = [planner.estimate(**BASE, layout="tp=4,pp=1,dp=64", ownership="owned", pue=p,
                                 energy_usd_per_kwh=e)
                for p, e in [(1.05, 0.0), (1.3, 0.11), (1.45, 4.9)]]

    def no_estimate(**kw):
        raise AssertionError("a row went to the per-row path")

    monkeypatch.setattr(many, "estimate", no_estimate)
    rows = estimate_many(table).to_pylist()
    for row, plan in zip(rows, expected):
        assert row["error"] is None
        assert row["power_mw"] == pytest.approx(plan.power_mw, rel=1e-12)
        assert row["cost_usd_total"] == pytest.approx(plan.cost_usd["total"], rel=1e-12)
        assert row["assumptions_pue_value"] == plan.assumptions["pue"]["value"]
    bad = estimate_many(pa.table({**{k: [v] for k, v in BASE.items()}, "pue": [0.9],
                                  "energy_usd_per_kwh": [6.0]})).to_pylist()[0]
    assert "--pue" in bad["error"] and "below 1" in bad["error"]


def test_an_assumed_pue_and_energy_price_replace_the_site_s_in_estimate_many_as_in_estimate():
    # the review: estimate_many's rows with a device count (and a sweep's) had kept the site's
    # PUE and energy price under assumptions={"pue": ..., "energy_usd_per_kwh": ...}, which
    # estimate, and the sized rows of the same sweep, take
    assumed = {"pue": 1.3, "energy_usd_per_kwh": 0.2}
    plan = planner.estimate(params="13B", tokens="1T", gpus=256, ownership="owned",
                            assumptions=assumed)
    assert plan.assumptions["pue"] == {"value": 1.3, "source": "given (--assume)"}
    assert plan.assumptions["peak_pue"]["value"] == round(1.3 + UPLIFT, 10)
    many = estimate_many({"params": ["13B", "13B"], "tokens": ["1T", "1T"], "gpus": [256, 256],
                          "ownership": ["owned", "owned"], "pue": [None, 1.5]},
                         assumptions=assumed, progress=False)
    assert many.column("assumptions_pue_value").to_pylist() == [1.3, 1.5]  # a row's own wins
    assert many.column("assumptions_peak_pue_value").to_pylist()[0] == \
        plan.assumptions["peak_pue"]["value"]
    assert many.column("assumptions_energy_usd_per_kwh_value").to_pylist() == [0.2, 0.2]
    for name in ("power_mw", "energy_mwh", "co2_t"):
        assert many.column(name).to_pylist()[0] == pytest.approx(getattr(plan, name),
                                                                 rel=1e-12)
    assert many.column("cost_usd_total").to_pylist()[0] == pytest.approx(
        plan.cost_usd["total"], rel=1e-12)


def test_an_assumed_pue_takes_the_same_design_day_uplift_as_a_given_one(tmp_path):
    # the review: at a site with a peak (1.4) but no annual PUE, --pue 1.3 read a 1.5 peak and
    # --assume pue=1.3 a 1.4 one (the uplift had been measured from the assumed PUE itself)
    cat = _peak_only_catalog(tmp_path)
    run = dict(params="13B", tokens="1T", gpus=256, site="peakonly", catalog=cat)
    given = planner.estimate(**run, pue=1.3)
    assumed = planner.estimate(**run, assumptions={"pue": 1.3})
    assert given.assumptions["peak_pue"]["value"] == assumed.assumptions["peak_pue"]["value"] \
        == round(1.3 + 1.4 - DEFAULT.pue, 10)
    assert given.power_mw == assumed.power_mw


def test_an_assumed_grid_intensity_replaces_the_site_s_and_the_one_used_is_reported():
    # the auditor: --assume grid_kg_co2_per_mwh=100 was reported as given while the site's 366
    # kg/MWh made the CO2 (2.06 t where 5.63 MWh x 0.1 t/MWh is 0.56); and without it the
    # intensity used never appeared in the assumptions, so CO2 could not be traced
    plan = planner.estimate(**BASE)
    assert plan.assumptions["grid_kg_co2_per_mwh"] == {"value": 366.0,
                                                       "source": "site us-hyperscale"}
    assert plan.co2_t == pytest.approx(plan.energy_mwh * 366 / 1000, rel=1e-12)
    low = planner.estimate(**BASE, assumptions={"grid_kg_co2_per_mwh": 100})
    assert low.assumptions["grid_kg_co2_per_mwh"] == {"value": 100.0,
                                                      "source": "given (--assume)"}
    assert low.energy_mwh == plan.energy_mwh
    assert low.co2_t == pytest.approx(plan.energy_mwh * 100 / 1000, rel=1e-12)
    # 0 is a carbon-free supply, not unknown; the same in estimate_many's rows
    assert planner.estimate(**BASE, assumptions={"grid_kg_co2_per_mwh": 0}).co2_t == 0
    many = estimate_many({k: [v] for k, v in BASE.items()},
                         assumptions={"grid_kg_co2_per_mwh": 100}, progress=False)
    assert many.column("co2_t").to_pylist()[0] == pytest.approx(low.co2_t, rel=1e-12)


def test_a_site_without_a_grid_intensity_reports_it_unknown(tmp_path):
    cat = _peak_only_catalog(tmp_path)
    plan = planner.estimate(params="13B", tokens="1T", gpus=256, site="peakonly", catalog=cat)
    assert plan.co2_t is None
    used = plan.assumptions["grid_kg_co2_per_mwh"]
    assert used == {"value": None,  # unknown, as the assumption says
                    "source": DEFAULT.source("grid_kg_co2_per_mwh")}


def test_an_assumed_peak_pue_uplift_replaces_the_site_s_design_day_pue():
    # the auditor: --assume peak_pue_uplift=0.3 was reported as given while the site's peak
    # (1.2) held; an assumed uplift is the user's figure, as an assumed PUE replaces the site's
    plan = planner.estimate(**BASE)
    hot = planner.estimate(**BASE, assumptions={"peak_pue_uplift": 0.3})
    assert plan.assumptions["peak_pue"]["value"] == SITE_PEAK_PUE
    assert hot.assumptions["peak_pue"]["value"] == round(SITE_PUE + 0.3, 10)
    assert "replacing site us-hyperscale's peak_pue 1.2" in hot.assumptions["peak_pue"]["source"]
    assert hot.power_mw == pytest.approx(plan.power_mw * (SITE_PUE + 0.3) / SITE_PEAK_PUE)
    assert hot.power_average_mw == plan.power_average_mw  # the annual PUE is the site's
    # with a given PUE too, the assumed uplift over it (not the site's own uplift)
    both = planner.estimate(**BASE, pue=1.3, assumptions={"peak_pue_uplift": 0.3})
    assert both.assumptions["peak_pue"]["value"] == 1.6
    # estimate_many's rows, a row's PUE included, as estimate's
    many = estimate_many({**{k: [v, v] for k, v in BASE.items()}, "pue": [None, 1.3]},
                         assumptions={"peak_pue_uplift": 0.3}, progress=False)
    assert many.column("power_mw").to_pylist() == pytest.approx([hot.power_mw, both.power_mw],
                                                                rel=1e-12)
    # the Monte Carlo does not draw the site's peak range around the assumed peak
    drawn = planner.estimate(**BASE, assumptions={"peak_pue_uplift": 0.3}, uncertainty=True)
    assert drawn.p50["power_mw"] == pytest.approx(hot.power_mw, rel=0.02)


@pytest.mark.parametrize("value, says", [
    ("0.4", "kg/kWh or t/MWh typed as kg/MWh? (0.4 kg/kWh is 400 kg/MWh)"),
    ("9000", "lb/MWh (divide by 2.205) or g/MWh (divide by 1,000)?"),
])
def test_an_assumed_grid_intensity_in_the_wrong_unit_is_refused_as_a_sites_is(value, says):
    # a site file's 0.4 kg/MWh was refused as a unit slip while the assumption that replaces
    # it took 0.4 (CO2 3.71 t for 9,280 MWh, 1,000x too small) and 9,000 silently
    r = CliRunner().invoke(cli.app, ["estimate", "--params", "13B", "--tokens", "1T", "--gpus",
                                     "256", "--assume", f"grid_kg_co2_per_mwh={value}"])
    assert r.exit_code == 2 and says in r.output and "--assume grid_kg_co2_per_mwh" in r.output
    with pytest.raises(planner.InputError, match="accepted: 0 \\(a carbon-free supply\\)"):
        planner.estimate(**BASE, assumptions={"grid_kg_co2_per_mwh": float(value)})
    # 0 (a carbon-free supply) and a real grid's figure plan
    clean = planner.estimate(**BASE, assumptions={"grid_kg_co2_per_mwh": 0})
    dirty = planner.estimate(**BASE, assumptions={"grid_kg_co2_per_mwh": 400})
    assert clean.co2_t == 0 and dirty.co2_t == pytest.approx(dirty.energy_mwh * 0.4)
