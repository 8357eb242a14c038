"""Which assumptions move an answer most: a plan's cost, days or device-hours at the low and
high end of each assumption's documented range (a tornado table), largest swing first."""

from __future__ import annotations

import math

from .assumptions import DEFAULT
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


def sensitivity(quantity: str = "cost_usd", price_range: tuple[float, float] | None = None,
                ranges: dict | None = None, **estimate_kwargs) -> list[dict]:
    """Tornado table: the plan's ``quantity`` ("cost_usd" total, "training_days",
    "gpu_hours") at the low and high end of each assumption's range, largest swing first.
    ``price_range`` adds the cloud price per device-hour as a factor."""
    ranges = dict(SENSITIVITY_RANGES if ranges is None else ranges)
    base_asm = dict(estimate_kwargs.pop("assumptions", None) or {})

    def value(changes: dict | None = None, **given) -> float:
        """The quantity of the plan with ``changes`` to the assumptions and ``given`` inputs
        (its figure alone: no alternatives)."""
        plan = estimate(alternatives=False, assumptions={**base_asm, **(changes or {})},
                        **{**estimate_kwargs, **given})
        if not plan.feasible or plan.training_days is None:
            return math.nan
        return plan.cost_usd["total"] if quantity == "cost_usd" else getattr(plan, quantity)

    base = value()
    rows = []
    for name, (low, high, why) in ranges.items():
        lo, hi = value({name: low}), value({name: high})
        rows.append({"assumption": name, "low": low, "high": high, "at_low": lo,
                     "at_high": hi, "swing": abs(hi - lo), "why": why, "base": base})
    if price_range is not None:
        lo = value(price_per_gpu_hour=price_range[0])
        hi = value(price_per_gpu_hour=price_range[1])
        rows.append({"assumption": "price_per_gpu_hour", "low": price_range[0],
                     "high": price_range[1], "at_low": lo, "at_high": hi,
                     "swing": abs(hi - lo), "why": "cloud price per device-hour",
                     "base": base})
    return sorted(rows, key=lambda r: -r["swing"] if math.isfinite(r["swing"]) else 0.0)
