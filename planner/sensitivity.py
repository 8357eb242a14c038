"""Which assumptions move an answer most: a plan's cost, days or device-hours at the low and
high end of each assumption's documented range (a tornado table), largest swing first."""

from __future__ import annotations

import math

from .assumptions import DEFAULT
from .errors import InputError
from .plan.estimate import estimate

_GEMM = DEFAULT.gemm_efficiency  # the calibrated value (planner validate --refit)

SENSITIVITY_RANGES = {
    # name: (low, high, why) -- the documented ranges of docs/uncertainty.md and the catalogs
    "gemm_efficiency": (round(0.9 * _GEMM, 3), min(1.0, round(1.1 * _GEMM, 3)),
                        f"achieved GEMM throughput, +-10% around the calibrated {_GEMM:g}"),
    "failure_rate_per_device_hour": (1.2e-5, 3.4e-5, "Meta RSC-2 to RSC-1 failure rates "
                                     "(Kokolis et al. 2025, arXiv 2410.21680)"),
    "restart_s": (120.0, 1800.0, "2-minute hot-spare restart to 30-minute reschedule"),
    "pue": (1.1, 1.5, "hyperscale to enterprise colocation (Epoch AI "
            "energy.py; Uptime Institute survey 1.55-1.58)"),
    "energy_usd_per_kwh": (0.05, 0.12, "US industrial by state (EIA Electric Power Monthly, "
                           "Table 5.6.B)"),
    "tp_comm_overlap": (0.0, 1.0, "none to all of the tensor-parallel collectives hidden "
                        "behind the GEMMs (Megatron-LM 2021: none; Megatron-Core's userbuffers "
                        "overlap: the calibrated tp_overlap_fraction, 0.65)"),
}


QUANTITIES = ("cost_usd", "training_days", "gpu_hours")
# Inputs a plan also takes as keywords (a site's figure replaced): the tornado moves the keyword,
# so a given --pue or --energy-usd-per-kwh is the bar's centre, not a fixed point.
KEYWORD_INPUTS = ("pue", "energy_usd_per_kwh")


def sensitivity(quantity: str = "cost_usd", price_range: tuple[float, float] | None = None,
                ranges: dict | None = None, **estimate_kwargs) -> list[dict]:
    """Tornado table: the plan's ``quantity`` ("cost_usd" total, "training_days",
    "gpu_hours") at the low and high end of each assumption's range, largest swing first; an
    end at which no plan meets the limits (nan) ranks first, as the largest swing there is.
    A range that leaves out the plan's own value (a site's energy price above the US range) is
    widened to it, and says so. The realisation residual's fitted 10-90% range is a bar of its
    own, on the plan's cluster (with realisation off, none). ``price_range`` adds the cloud
    price per device-hour of the plan's accelerator (the one chosen, when several are
    compared) as a factor."""
    if quantity not in QUANTITIES:
        raise InputError("quantity", quantity, ", ".join(QUANTITIES))
    ranges = dict(SENSITIVITY_RANGES if ranges is None else ranges)
    base_asm = dict(estimate_kwargs.pop("assumptions", None) or {})

    def plan_with(changes: dict | None = None, **given):
        """The plan with ``changes`` to the assumptions and ``given`` inputs (its figures
        alone: no alternatives)."""
        return estimate(alternatives=False, assumptions={**base_asm, **(changes or {})},
                        **{**estimate_kwargs, **given})

    def value(plan) -> float:
        if not plan.feasible or plan.training_days is None:
            return math.nan
        return plan.cost_usd["total"] if quantity == "cost_usd" else getattr(plan, quantity)

    base_plan = plan_with()
    base = value(base_plan)
    rows = []
    for name, (low, high, why) in ranges.items():
        if name in KEYWORD_INPUTS:  # the plan's own figure (site's or given) inside the range
            own = base_plan.assumptions.get(name, {}).get("value")
            if isinstance(own, (int, float)) and not low <= own <= high:
                low, high = min(low, own), max(high, own)
                why = f"{why}; widened to the plan's own {own:g}"
            lo, hi = value(plan_with(**{name: low})), value(plan_with(**{name: high}))
        else:
            lo, hi = value(plan_with({name: low})), value(plan_with({name: high}))
        rows.append({"assumption": name, "low": low, "high": high, "at_low": lo,
                     "at_high": hi, "swing": abs(hi - lo), "why": why, "base": base})
    rel = base_plan.realisation if base_plan.feasible else None
    if rel and rel.get("multiplier") and rel["p90_multiplier"] > rel["p10_multiplier"]:
        # the realisation residual's fitted 10-90% range (model/realisation.py) on the plan's
        # own cluster (none with realisation off): days, device-hours and both costs are
        # proportional to the realised wall time there (run.outcome), so each end is the
        # plan's figure x its multiplier's ratio
        low, high = (rel["p10_multiplier"] / rel["multiplier"],
                     rel["p90_multiplier"] / rel["multiplier"])
        rows.append({"assumption": "realisation_residual", "low": low, "high": high,
                     "at_low": base * low, "at_high": base * high, "swing": base * (high - low),
                     "why": f"how whole runs realise against their ideal: the fitted 10-90% "
                            f"range, x{rel['p10_multiplier']:.2f}-x{rel['p90_multiplier']:.2f} "
                            f"the ideal wall time against the expected x{rel['multiplier']:.2f} "
                            "(docs/validation.md), on the plan's cluster", "base": base})
    if price_range is not None:
        # the price of the plan's accelerator: with several compared, another one at the same
        # price would answer a different question
        pin = {"gpu": base_plan.cluster["accelerator"]} if base_plan.cluster else {}
        lo = value(plan_with(price_per_gpu_hour=price_range[0], **pin))
        hi = value(plan_with(price_per_gpu_hour=price_range[1], **pin))
        rows.append({"assumption": "price_per_gpu_hour", "low": price_range[0],
                     "high": price_range[1], "at_low": lo, "at_high": hi,
                     "swing": abs(hi - lo), "why": "cloud price per device-hour"
                     + (f" of {pin['gpu']}" if pin else ""), "base": base})
    # an end that breaks the plan (nan) first, then the largest swing
    return sorted(rows, key=lambda r: -r["swing"] if math.isfinite(r["swing"]) else -math.inf)
