"""The fleet schedule's validator: checks a solution against its instance with plain arithmetic,
never the solver (the d-krupke/cpsat-primer examples/tdd habit). fleet.py runs it on every
schedule before printing it; a schedule that fails is an error, never an answer.

Checks: each run placed exactly once, with one of its own options; inside its window (not
before its earliest step, ended by the horizon); its duration the whole steps its training days
need; at every step, devices of each type at each site within those delivered, and facility
power at each site within its cap; the lateness reported is the lateness of the placements.
"""

from __future__ import annotations

import math

import numpy as np

from .model import FleetInstance, FleetSolution, late_steps

__all__ = ["check", "usage"]

# Power is compared in float MW; the model rounds needs up to whole kW, so a schedule it
# accepts is within the cap exactly; this tolerance only absorbs float summation order.
POWER_TOLERANCE_MW = 1e-9


def usage(inst: FleetInstance, sol: FleetSolution) -> dict:
    """(site, accelerator) -> devices used per step, and site -> MW drawn per step."""
    devices: dict = {}
    power = {s: np.zeros(inst.steps) for s in range(len(inst.sites))}
    for p in sol.placements:
        opt = inst.options[p.option]
        lo, hi = max(0, p.start_step), min(inst.steps, p.start_step + opt.duration_steps)
        key = (opt.site, opt.accelerator)
        devices.setdefault(key, np.zeros(inst.steps, dtype=np.int64))[lo:hi] += opt.gpus
        power[opt.site][lo:hi] += opt.power_mw
    return {"devices": devices, "power_mw": power}


def check(inst: FleetInstance, sol: FleetSolution) -> list[str]:
    """Every way `sol` breaks the rules, in words; an empty list is a valid schedule."""
    problems = []
    placed = [p.run for p in sol.placements]
    for r, run in enumerate(inst.runs):
        n = placed.count(r)
        if n != 1:
            problems.append(f"run {run.name} is placed {n} times, not once")
    for p in sol.placements:
        if not 0 <= p.run < len(inst.runs) or not 0 <= p.option < len(inst.options):
            problems.append(f"placement {p} names no run or option of the instance")
            continue
        run, opt = inst.runs[p.run], inst.options[p.option]
        if opt.run != p.run:
            problems.append(f"run {run.name} uses option {p.option}, which is another run's")
        if p.start_step < run.earliest_step:
            problems.append(f"run {run.name} starts at step {p.start_step}, before its "
                            f"earliest step {run.earliest_step}")
        if p.start_step + opt.duration_steps > inst.steps:
            problems.append(f"run {run.name} ends at step {p.start_step + opt.duration_steps}, "
                            f"after the horizon's {inst.steps} steps")
        need = max(1, math.ceil(round(opt.training_days / inst.step_days, 9)))
        if opt.duration_steps != need:
            problems.append(f"run {run.name} holds {opt.duration_steps} steps for "
                            f"{opt.training_days:.2f} days, which need {need}")
    if problems:
        return problems
    use = usage(inst, sol)
    for (s, acc), used in sorted(use["devices"].items()):
        site = inst.sites[s]
        on_hand = np.asarray(site.devices.get(acc, (0,) * inst.steps))
        over = np.flatnonzero(used > on_hand)
        for t in over[:3]:
            problems.append(f"site {site.name} uses {int(used[t]):,} {acc} at step {t}, "
                            f"{int(on_hand[t]):,} on hand")
    for s, drawn in use["power_mw"].items():
        site = inst.sites[s]
        cap = np.asarray(site.power_mw, dtype=float)
        over = np.flatnonzero(drawn > cap + POWER_TOLERANCE_MW)
        for t in over[:3]:
            problems.append(f"site {site.name} draws {drawn[t]:,.3f} MW at step {t}, cap "
                            f"{cap[t]:,.3f} MW")
    if sol.weighted_lateness_steps is not None:
        late = sum(run.weight * late_steps(inst, run, inst.options[p.option], p.start_step)
                   for p in sol.placements for run in [inst.runs[p.run]])
        if not math.isclose(late, sol.weighted_lateness_steps, rel_tol=1e-9, abs_tol=1e-9):
            problems.append(f"weighted lateness reported {sol.weighted_lateness_steps}, "
                            f"the placements give {late}")
    return problems
