"""Uncertainty: a seeded, vectorised Monte Carlo over what a plan cannot know exactly (how the
run realises, achieved efficiency, failure rate, price, PUE, energy price), giving P10/P50/P90
of days, device-hours, facility MW, MWh, CO2 and cost, and the chance of keeping to each
limit. Each draw goes through the same run model as the plan (run.py).

Ranges (docs/uncertainty.md):
- realisation: the residual of realisation.py, a two-piece normal in logs whose 10th, 50th
  and 90th percentiles are those fitted on the public whole runs; it holds the efficiency and
  failure draws (the fitted residual already holds the step model's error and the failures'
  spread): per rank, the wider of the two (realisation.draw_residual);
- efficiency: lognormal multiplier on throughput, log-sd ``efficiency_log_sd``;
- failure rate: lognormal multiplier, log-sd ``failure_rate_log_sd``;
- cloud price, PUE, energy price: over the catalog figure's own range when it has one (else
  the relative default range named in Assumptions), peaked at the figure and with it as the
  median (``triangular``);
- design-day (peak) PUE: the same over the site figure's own range when it has one (never
  below the annual PUE drawn), else the annual PUE's draw scaled to it;
- what owning costs (the accelerator's price, the server's, the facility's per MW) and the
  grid's carbon intensity: the same over the catalog figure's own range; a figure without one
  stays fixed (no range is invented for it).
"""

from __future__ import annotations

import numpy as np

from ..assumptions import Assumptions
from . import realisation, run

QUANTITIES = ("training_days", "gpu_hours", "power_mw", "energy_mwh", "co2_t", "cost_usd")
# The limits whose chance of being kept the Monte Carlo reports (within_limits).
WITHIN_LIMITS = ("deadline", "budget", "power_cap")
# Inputs drawn over their catalog range only: without one a figure stays fixed.
RANGED_ONLY = ("device_usd", "server_usd_per_device", "capex_usd_per_mw", "grid_kg_co2_per_mwh")


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

    ``ranges`` maps an input name (cloud_usd_per_hour, pue, energy_usd_per_kwh, peak_pue and
    RANGED_ONLY's) to its (low, high) from the catalog, or (None, None); a design-day PUE
    without a range of its own moves with the annual PUE drawn, a RANGED_ONLY input without
    one stays fixed."""
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
    for name in RANGED_ONLY:
        low, high = ranges.get(name, (None, None))
        draws[name] = triangular(rng, inputs[name], low, high, 0.0, n)
    # (a server quote holds its accelerator: with one, the owned hardware is the quote, and
    # the accelerator's draw only splits it; without one, the accelerator's draw x overhead)
    failure_rate = asm.failure_rate_per_device_hour * failures
    # the efficiency and failure draws move each draw's ideal wall time off the headline's; the
    # residual fitted on published runs already holds them, so the realised wall's percentiles
    # are the fitted ones, or theirs where they alone spread wider (realisation.draw_residual):
    # P50 is the headline, P10-P90 the fitted range
    ideal = run.ideal_run(devices, compute_s / efficiency, inputs["checkpoint_s"], asm,
                          failure_rate)["wall_s"]
    headline = run.ideal_run(devices, compute_s, inputs["checkpoint_s"], asm)["wall_s"]
    residual = realisation.draw_residual(rng, n, asm, other_log=np.log(ideal / headline))
    low, high = ranges.get("peak_pue", (None, None))
    if low is None and high is None:  # the design-day PUE moves with the annual one drawn
        peak = np.asarray(inputs["peak_pue"], dtype=float)
        draws["peak_pue"] = peak * draws["pue"] / inputs["pue"]
    else:  # the site's own design-day range; never below the annual PUE drawn
        draws["peak_pue"] = np.maximum(triangular(rng, inputs["peak_pue"], low, high, 0.0, n),
                                       draws["pue"])
    # every draw's wall time is the headline's moved by its residual, which holds the others
    out = run.outcome(devices, np.full(n, float(compute_s)), asm=asm, residual_log=residual,
                      **draws)
    return {"training_days": out["training_days"], "gpu_hours": out["gpu_hours"],
            "power_mw": out["facility_peak_w"] / 1e6,
            "energy_mwh": out["energy_mwh"], "co2_t": out["co2_t"],
            "cost_usd": out["cost"][ownership]["total"]}


def within_limits(samples: dict, deadline_days: float | None = None,
                  budget_usd: float | None = None,
                  power_cap_mw: float | None = None) -> dict | None:
    """The share of draws that meet each limit given (a deadline, a budget in the cost method's
    dollars, a power cap on the peak facility MW): the chance, under these ranges, that the run
    keeps to it. A draw that never ends misses a deadline and a budget; an unknown figure in
    any draw leaves that share unknown (nan). None when no limit is given."""
    out = {}
    for name, key, limit in zip(WITHIN_LIMITS, ("training_days", "cost_usd", "power_mw"),
                                (deadline_days, budget_usd, power_cap_mw)):
        if limit is None:
            continue
        x = np.asarray(samples[key], dtype=float)
        out[name] = float("nan") if np.isnan(x).any() else float(np.mean(x <= limit))
    return out or None


def quantiles(samples: dict) -> tuple[dict, dict, dict]:
    """(P10, P50, P90) dicts of every quantity; unknown (nan) stays unknown. A draw that never
    ends (+inf: the failures outpace the checkpoints) counts as the longest: a percentile
    below the draws that never end is known, one among them is nan (no figure: null, n/a)."""
    out = [{}, {}, {}]
    for k in QUANTITIES:
        x = np.asarray(samples[k], dtype=float)
        if np.isnan(x).any():
            for row in out:
                row[k] = float("nan")
            continue
        x = np.sort(x)
        for row, q in zip(out, (10, 50, 90)):
            # numpy's linear percentile between the two draws around it; none when one of
            # them never ends (no share of forever is a figure)
            pos = q / 100 * (x.size - 1)
            lo, hi = x[int(np.floor(pos))], x[int(np.ceil(pos))]
            row[k] = float(np.nan if np.isinf(hi) else lo + (hi - lo) * (pos - np.floor(pos)))
    return out[0], out[1], out[2]
