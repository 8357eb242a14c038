"""Uncertainty: a seeded, vectorised Monte Carlo over what a plan cannot know exactly (how the
run realises, achieved efficiency, failure rate, price, PUE, energy price), giving P10/P50/P90
of days, device-hours, facility MW, MWh and cost. Each draw goes through the same run model as
the plan (run.py).

Ranges (docs/uncertainty.md):
- realisation: the residual of realisation.py, a two-piece normal in logs whose 10th and 90th
  percentiles are those fitted on the public whole runs, less the efficiency draw in
  quadrature (the fitted residual already holds the step model's error);
- efficiency: lognormal multiplier on throughput, log-sd ``efficiency_log_sd``;
- failure rate: lognormal multiplier, log-sd ``failure_rate_log_sd``;
- cloud price, PUE, energy price: over the catalog figure's own range when it has one (else
  the relative default range named in Assumptions), peaked at the figure and with it as the
  median (``triangular``);
- design-day (peak) PUE: the same over the site figure's own range when it has one (never
  below the annual PUE drawn), else the annual PUE's draw scaled to it.
"""

from __future__ import annotations

import numpy as np

from ..assumptions import Assumptions
from . import realisation, run

QUANTITIES = ("training_days", "gpu_hours", "power_mw", "energy_mwh", "cost_usd")


def triangular(rng: np.random.Generator, value: float, low: float | None, high: float | None,
               relative: float, n: int) -> np.ndarray:
    """Draws over low..high peaked at the value, the value their median: half from a
    triangle on low..value and half from one on value..high, each with its mode at the value
    (a catalog figure is a typical quote, its range the spread of quotes: MI300X's median
    listing $1.99 in $1.50-6.00, whose one triangular(low, value, high) would put the median
    at $3.00). A missing bound is value x (1 -/+ relative)."""
    if value is None or not np.isfinite(value):
        return np.full(n, np.nan)
    lo = value * (1 - relative) if low is None else min(low, value)
    hi = value * (1 + relative) if high is None else max(high, value)
    if hi <= lo:
        return np.full(n, float(value))
    v = rng.random(n)
    side = rng.random(n) < 0.5
    # inverse CDFs: ((x - lo)/(value - lo))^2 below the value, 1 - ((hi - x)/(hi - value))^2 above
    return np.where(side, lo + (value - lo) * np.sqrt(v), hi - (hi - value) * np.sqrt(1.0 - v))


def simulate(devices: int, compute_s: float, inputs: dict, ranges: dict, ownership: str,
             asm: Assumptions, seed: int = 0) -> dict:
    """``asm.uncertainty_samples`` draws of the run; returns arrays per quantity.

    ``ranges`` maps an input name (cloud_usd_per_hour, pue, energy_usd_per_kwh, peak_pue) to
    its (low, high) from the catalog, or (None, None); a design-day PUE without a range of its
    own moves with the annual PUE drawn."""
    n = asm.uncertainty_samples
    rng = np.random.default_rng(seed)
    efficiency = rng.lognormal(0.0, asm.efficiency_log_sd, n)     # multiplier on throughput
    failures = rng.lognormal(0.0, asm.failure_rate_log_sd, n)     # multiplier on the rate
    draws = dict(inputs)
    for name, relative in (("cloud_usd_per_hour", asm.price_relative_range),
                           ("pue", asm.pue_relative_range),
                           ("energy_usd_per_kwh", asm.energy_price_relative_range)):
        low, high = ranges.get(name, (None, None))
        draws[name] = triangular(rng, inputs[name], low, high, relative, n)
    residual = realisation.draw_residual(rng, n, asm, other_log_sd=asm.efficiency_log_sd)
    failure_rate = asm.failure_rate_per_device_hour * failures
    # the residual with the efficiency and failure draws stands for the fitted residual, whose
    # median is its centre: a skewed residual plus the other draws has its median moved
    # towards the longer tail (2% for a frontier lab; goodput's response to the failure rate is
    # not linear, 1.5% more at 100,000 devices), so the sum is put back on the centre: the
    # ideal wall of each draw over the headline's, with the residual, has median 1
    ideal = run.ideal_run(devices, compute_s / efficiency, inputs["checkpoint_s"], asm,
                          failure_rate)["wall_s"]
    headline = run.ideal_run(devices, compute_s, inputs["checkpoint_s"], asm)["wall_s"]
    residual = residual - np.median(residual + np.log(ideal / headline))
    low, high = ranges.get("peak_pue", (None, None))
    if low is None and high is None:  # the design-day PUE moves with the annual one drawn
        peak = np.asarray(inputs["peak_pue"], dtype=float)
        draws["peak_pue"] = peak * draws["pue"] / inputs["pue"]
    else:  # the site's own design-day range; never below the annual PUE drawn
        draws["peak_pue"] = np.maximum(triangular(rng, inputs["peak_pue"], low, high, 0.0, n),
                                       draws["pue"])
    out = run.outcome(devices, compute_s / efficiency, asm=asm, failure_rate=failure_rate,
                      residual_log=residual, **draws)
    return {"training_days": out["training_days"], "gpu_hours": out["gpu_hours"],
            "power_mw": out["facility_peak_w"] / 1e6,
            "energy_mwh": out["energy_mwh"], "cost_usd": out["cost"][ownership]["total"]}


def quantiles(samples: dict) -> tuple[dict, dict, dict]:
    """(P10, P50, P90) dicts of every quantity; unknown (nan) stays unknown."""
    out = []
    for q in (10, 50, 90):
        row = {}
        for k in QUANTITIES:
            x = np.asarray(samples[k], dtype=float)
            x = x[np.isfinite(x)]
            row[k] = float(np.percentile(x, q)) if x.size == len(samples[k]) else float("nan")
        out.append(row)
    return out[0], out[1], out[2]
