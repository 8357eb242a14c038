"""A plan's P10/P50/P90: the Monte Carlo of model/uncertainty.py over the ranges of the catalog
figures the plan used (a given figure held fixed), and whether each draw keeps the plan's
limits."""

from __future__ import annotations

from dataclasses import replace

from ..assumptions import Assumptions
from ..catalog import Catalog
from ..model import uncertainty
from ..units import SECONDS_PER_DAY
from .cluster import run_inputs, site_peak_pue
from .quantities import Limits
from .result import Plan


def ranged_figures(acc, site) -> dict:
    """The catalog figures behind the run inputs that keep their value unless the catalog
    gives a range (uncertainty.RANGED_ONLY): {input: (the figure's name, Figure or None)}."""
    def of(holder, name: str):
        return name, (holder.figures.get(name) if holder is not None else None)
    return {"device_usd": of(acc, "purchase_usd"),
            "server_usd_per_device": of(acc, "server_usd_per_device"),
            "capex_usd_per_mw": of(site, "capex_usd_per_mw"),
            "grid_kg_co2_per_mwh": of(site, "grid_kg_co2_per_mwh")}


def with_uncertainty(plan: Plan, w, cat: Catalog, site, limits: Limits, asm: Assumptions,
                     seed: int, seed_given: bool = True) -> Plan:
    """P10/P50/P90 of days, device-hours, MW, MWh, CO2 and cost (model/uncertainty.py)."""
    acc = cat.accelerator(plan.cluster["accelerator"])
    inputs = run_inputs(w, acc, site, asm, {}, limits.price_per_gpu_hour, limits.pue,
                        limits.energy_usd_per_kwh)
    _, fig = acc.cloud_price(asm.price_relative_range)
    # a given price is the contract held: fixed, as the tornado holds it (sensitivity.py); an
    # auditor found it drawn +-price_relative_range, P50's cost 3% above the headline
    given = limits.price_per_gpu_hour
    ranges = {"cloud_usd_per_hour": (given, given) if given is not None else
              (fig.low, fig.high) if fig else (None, None)}
    for name in ("pue", "energy_usd_per_kwh"):
        f = site.figures.get(name) if site else None
        ranges[name] = (f.low, f.high) if f else (None, None)
        if getattr(limits, name) is not None:  # a given figure: its range is the default one
            ranges[name] = (None, None)
    f = site.figures.get("peak_pue") if site else None
    ranges["peak_pue"] = ((f.low, f.high) if f and limits.pue is None and
                          site_peak_pue(site, asm) is not None and
                          inputs["peak_pue"] == f.value else (None, None))
    # owning (accelerator, server, facility) and the grid's carbon: the catalog figure's own
    # range when the plan uses that figure, else none (uncertainty.RANGED_ONLY stay fixed)
    for name, (_, f) in ranged_figures(acc, site).items():
        ranges[name] = ((f.low, f.high) if f and inputs[name] == f.value else (None, None))
    if limits.pue is not None and limits.pue * (1 - asm.pue_relative_range) < 1:
        ranges["pue"] = (1.0, None)  # PUE >= 1 (a facility draws at least its IT load)
    samples = uncertainty.simulate(plan.cluster["gpus"], w.tokens / plan.tokens_per_s, inputs,
                                   ranges, limits.ownership, asm, seed)
    p10, p50, p90 = uncertainty.quantiles(samples)
    # the limits the plan was held to: given, or the default deadline a sized plan took
    deadline_days = (limits.deadline_s / SECONDS_PER_DAY if limits.deadline_s is not None
                     else ((plan.sizing or {}).get("limits") or {}).get("deadline_days"))
    within = uncertainty.within_limits(
        samples, deadline_days, limits.budget_usd,
        limits.power_cap_w / 1e6 if limits.power_cap_w is not None else None)
    used = dict(plan.assumptions)
    for name in ("uncertainty_samples", "efficiency_log_sd", "failure_rate_log_sd"):
        used[name] = {"value": getattr(asm, name), "source": asm.source(name)}
    used["uncertainty_seed"] = {"value": seed, "source": "given (--seed)" if seed_given else
                                "default: 0 (the same plan repeats its quantiles; --seed N "
                                "for another draw)"}
    return replace(plan, p10=p10, p50=p50, p90=p90, within_limits=within, assumptions=used)
