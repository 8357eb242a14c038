"""Why a fleet is infeasible: the first run that fits nowhere and the limits it breaks alone, or
the least added capacity (devices, power, horizon) that lets every run in (fleet/model.py
shortfall), each by how much, in words a planner can act on."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import numpy as np

from ..plan.limits import need_units
from ..units import fmt_mw_bound, rounded_at, sig3_step
from . import model as fleet_model
from .model import FleetInstance, FleetRun, FleetSettings, FleetSite, FleetSolution
from .spec import (
    FleetSpec,
    on_grid,
    step_at_or_after,
)

__all__ = ["diagnose", "time_limit_reason"]

# When the fleet is infeasible, the least added capacity that lets every run in says which limit
# binds and by how much (fleet/model.py shortfall); each such solve gets at most this long.
DIAGNOSIS_TIME_LIMIT_S = 10.0


def _mw_figures(need: float, cap: float) -> tuple[str, str, str]:
    """(need, cap, shortfall) as texts that add up: the need rounded up and the cap down at
    one precision, the one that shows the shortfall (a tenth of a MW; three significant
    figures below 1 MW), and the shortfall their difference, so adding it is enough ("needs
    7.4 MW ... cap 7.0 MW (333 kW short)" had been printed for a 7.33 MW need: the need
    rounded to a tenth, the shortfall to a kW)."""
    short = need - cap
    if not (math.isfinite(need) and math.isfinite(cap) and short > 0):
        return (fmt_mw_bound(need, up=True), fmt_mw_bound(cap, up=False),
                fmt_mw_bound(short, up=True))
    step = 0.1 if short >= 1 else sig3_step(short)
    n_up, c_down = rounded_at(need, step, up=True), rounded_at(cap, step, up=False)

    def text(mw: float) -> str:
        """At that precision in the unit fmt_mw would choose (MW to at least a tenth; kW, W
        below), trailing zeros dropped."""
        unit, scale = ("MW", 1.0) if mw >= 1 else ("kW", 1e3) if mw >= 1e-3 else ("W", 1e6)
        digits = max(0, round(-math.log10(step * scale)))
        out = f"{mw * scale:,.{digits}f}"
        if "." in out:
            out = out.rstrip("0").rstrip(".")
        if unit == "MW" and "." not in out:
            out += ".0"
        return f"{out} {unit}"

    # the difference of two multiples of the step, its float noise no digit
    return text(n_up), text(c_down), text(rounded_at(n_up - c_down, step, up=True))


def diagnose(spec: FleetSpec, inst: FleetInstance, dropped: dict,
              settings: FleetSettings) -> tuple[str, str]:
    """Which limit makes the fleet infeasible, and by how much."""
    for r, run in enumerate(inst.runs):
        opts = inst.options_of(r)
        if not opts:
            reasons = dropped.get(run.name, [])
            why = "; ".join(reasons[:3]) or "no size options"
            # no site is delivered its accelerators (devices), a size given breaks the batch
            # or is above the largest cluster the planner plans (gpus, as estimate's given
            # size binds: 1e12 devices had read "memory"), a catalog figure is missing
            # (catalog), or no size of them runs it (memory)
            binding = "devices" if any(r.startswith(("none of its accelerators",
                                                     "no site is delivered", "no site holds",
                                                     "none of the accelerators delivered"))
                                       for r in reasons) else \
                "gpus" if spec.runs[r].gpus and all(
                    "the batch binds" in x or "above the largest cluster" in x
                    for x in reasons) \
                else "catalog" if reasons and all("no power figure" in x for x in reasons) \
                else "memory"
            return binding, f"run {run.name} has no option that runs: {why}"
        if any(fleet_model.fits_alone(inst, o) for o in opts):
            continue
        binding, text = _alone(spec, inst, r, run, opts)
        # power short on the grid where a grid of days fits the run alone: the steps bind,
        # not the megawatts
        finer = _finer_step(spec, inst, r, opts) if binding == "power" else None
        return ("step", finer) if finer else (binding, text)
    quick = replace(settings, time_limit_s=min(settings.time_limit_s, DIAGNOSIS_TIME_LIMIT_S))
    # the least capacity that lets every run in: devices alone and power alone, the one
    # smaller against what its sites have named first (70 kW more beats 8,192 more devices),
    # then both together when neither alone does
    def words(more: dict) -> str:
        return ", ".join(f"{n:,} more {key[2]} at {inst.sites[key[1]].name}"
                         if key[0] == "devices" else f"{fmt_mw_bound(n, up=True)} more at "
                         f"{inst.sites[key[1]].name}" for key, n in sorted(more.items()))

    def share(more: dict) -> float:
        """The added capacity against what its sites have at most (the largest share)."""
        def have(key):
            site = inst.sites[key[1]]
            return (max(site.devices.get(key[2], (0,))) if key[0] == "devices"
                    else max(site.power_mw))
        return max((n / have(key) if have(key) > 0 else math.inf) for key, n in more.items())

    found = [(share(more), name, more) for name in ("devices", "power")
             if (more := fleet_model.shortfall(inst, quick, (name,)))]
    if found:
        found.sort(key=lambda f: f[0])
        _, name, more = found[0]
        text = (f"the runs do not all fit in the horizon with the {name} on hand at the "
                f"sizes tried; the least that lets them all in (from the start of the "
                f"horizon): {words(more)}")
        if len(found) > 1:
            text += f"; or, {found[1][1]} alone: {words(found[1][2])}"
        return name, text
    more = fleet_model.shortfall(inst, quick, ("devices", "power"))
    if more:
        return "capacity", ("the runs do not all fit in the horizon with the devices and "
                            "power on hand at the sizes tried; the least that lets them all "
                            f"in (from the start of the horizon): {words(more)}")
    return "capacity", ("the runs do not all fit in the horizon with the devices and power on "
                        "hand at the sizes tried, and no added capacity found in the "
                        "diagnosis's "
                        f"{quick.time_limit_s:g} s lets them in")


def _alone(spec: FleetSpec, inst: FleetInstance, r: int, run, opts: list) -> tuple[str, str]:
    """Why run ``r`` (of ``inst``; ``opts`` its options) fits nowhere even alone on the step
    grid: every limit it breaks (the horizon, the devices a site ever has, the power it ever
    has), each by how much, the first named the binding one; else the stretch of steps it
    needs against the longest any site offers it."""
# every limit the run breaks alone, each by how much (the horizon, the devices a site
    # ever has, the power it ever has): the first named is the binding one
    broken = []
    shortest = min(opts, key=lambda o: inst.options[o].duration_steps)
    o = inst.options[shortest]
    room = inst.steps - run.earliest_step
    if o.duration_steps > room:
        given = spec.runs[r].earliest
        starts = spec.step_start(run.earliest_step)
        # a start inside a step waits for the next step's boundary (runs hold whole steps)
        moved = (f" (its earliest start {given}, inside a step, moved to the next step's "
                 f"start {starts}: runs hold whole steps)" if starts != given else
                 f" (its earliest start {starts})")
        broken.append(("horizon", (
            f"run {run.name} takes at least {o.training_days:,.2f} days "
            f"({o.gpus:,} x {o.accelerator}: {o.duration_steps} steps), but "
            f"{room} steps ({room * spec.step_days} days) are left from its "
            f"first step to the horizon's last day {spec.last_day_text()}" + moved)))
    # the devices and power of the options that fit the time left (all of them when none
    # does: the horizon is then named first)
    fit = [k for k in opts if inst.options[k].duration_steps <= room] or list(opts)
    dev_short = [(inst.options[k].gpus - max(inst.sites[inst.options[k].site].devices.get(
        inst.options[k].accelerator, (0,))), k) for k in fit]
    need, k = min(dev_short)
    if need > 0:
        ok = inst.options[k]
        # the sizes tried, not every count: no "at least" (a size between may need fewer)
        broken.append(("devices", (
            f"run {run.name} needs {ok.gpus:,} {ok.accelerator} at one site with the fewest "
            f"of the sizes tried; "
            f"{inst.sites[ok.site].name} never has more than {ok.gpus - need:,} "
            f"({need:,} short)")))
    # power, among the options whose devices some site has (all of them when none has)
    pow_short = [(inst.options[k].power_mw - max(inst.sites[inst.options[k].site].power_mw),
                  k) for short, k in dev_short if short <= 0 or need > 0]
    need_mw, k = min(pow_short)
    if need_mw > 0:
        ok = inst.options[k]
        needs, cap, short = _mw_figures(ok.power_mw, ok.power_mw - need_mw)
        # of the sizes tried, not every count: 416 H100 at 745 kW had read "needs 745 kW at
        # least" where 400 at 720 kW fit the horizon
        broken.append(("power", (
            f"run {run.name} needs {needs} with the least of the sizes tried "
            f"({ok.gpus:,} x {ok.accelerator} at {inst.sites[ok.site].name}), whose cap "
            f"never exceeds {cap} ({short} short)")))
    if broken:
        return broken[0][0], "; and ".join(
            [broken[0][1]] + [text.replace(f"run {run.name} ", "it ", 1)
                              for _, text in broken[1:]])
    opts = fit
    k = max(opts, key=lambda k: (fleet_model.longest_fit(inst, k) /
                                 inst.options[k].duration_steps, -k))
    ok, got = inst.options[k], fleet_model.longest_fit(inst, k)
    alone = fleet_model.longest_fit(inst, k, ("devices",))
    binding = "power" if alone >= ok.duration_steps else "devices"
    short, needs = "", fmt_mw_bound(ok.power_mw, up=True)
    if binding == "power":  # by how much: the most power a whole stretch holds
        site = inst.sites[ok.site]
        devs = np.asarray(site.devices.get(ok.accelerator, (0,) * inst.steps)) >= ok.gpus
        # as the solver counts them (model.PowerCapacity): the cap down, the need up, so the
        # cap named is below the need (a cap the floats put over it had read "-98.2 MW short")
        step, units = inst.power_caps
        caps = np.where(devs, units[ok.site] * step, -np.inf)
        need = float(need_units([ok.power_mw], step)[0]) * step
        n = ok.duration_steps
        most = max((caps[t:t + n].min() for t in range(run.earliest_step,
                                                      inst.steps - n + 1)),
                   default=-np.inf)
        if np.isfinite(most) and most < need:
            needs, cap, lack = _mw_figures(need, most)
            short = (f"; while it holds the devices for {n} steps its cap is at most "
                     f"{cap} ({lack} short)")
    return binding, (f"run {run.name} needs {ok.gpus:,} {ok.accelerator} and "
                     f"{needs} at one site for "
                     f"{ok.duration_steps} steps "
                     f"({ok.training_days:,.1f} days); the longest stretch any site "
                     f"offers after its earliest start is {got} steps "
                     f"({inst.sites[ok.site].name}){short}")


def _finer_step(spec: FleetSpec, inst: FleetInstance, r: int, opts: list) -> str | None:
    """Where run ``r`` fits nowhere alone on the step grid but would on a grid of days (one
    of ``opts`` at its own site, nothing else there), the words saying the grid binds;
    None where it would not, or the steps are days already. Runs hold whole steps, each at
    its least power and devices: a run of 17.3 days from 2027-02-05, on 100 MW until
    2027-02-25 and 5 MW after, ends on 2027-02-22 but holds its third weekly step to
    2027-02-25, and had read "its cap is at most 5.0 MW (2.4 MW short)"."""
    if spec.step_days == 1:
        return None
    days = FleetSpec(spec.start, spec.end, 1, spec.sites, spec.runs)
    run = spec.runs[r]
    first = step_at_or_after(days, run.earliest)
    for o in sorted(opts, key=lambda o: (inst.options[o].training_days, o)):
        opt = inst.options[o]
        site = spec.sites[opt.site]
        on_days = FleetSite(site.name, on_grid(days, site.power_mw, cumulative=False), {
            opt.accelerator: tuple(int(n) for n in on_grid(
                days, site.deliveries.get(opt.accelerator, ()), cumulative=True))})
        length = max(1, math.ceil(round(opt.training_days, 9)))
        alone = FleetInstance(days.steps, 1.0, (FleetRun(run.name, first, days.steps),),
                              (on_days,), (replace(opt, run=0, site=0, duration_steps=length),))
        t = fleet_model.first_fit(alone, 0)
        if t is None:
            continue
        start = days.step_start(t)
        step0 = step_at_or_after(spec, start)
        held = (f"; from {spec.step_start(step0)} those steps would hold its devices to "
                f"{spec.step_start(step0 + opt.duration_steps) - timedelta(days=1)}"
                if step0 + opt.duration_steps <= spec.steps else "")
        return (f"the {spec.step_days}-day step grid binds: run {run.name} fits alone on a "
                f"grid of days ({opt.gpus:,} x {opt.accelerator} at {site.name} from {start}, "
                f"training to {start + timedelta(days=length - 1)}, "
                f"{opt.training_days:,.1f} days, within the site's devices and power), but "
                f"not on steps of {spec.step_days} days, which it holds whole, each at its "
                f"least power and devices{held}; a finer step lets it in (step = \"1d\" "
                "plans to the day)")
    return None


def time_limit_reason(sol: FleetSolution, settings: FleetSettings) -> str:
    """Why a solve that found nothing proves nothing: the time its first phase had."""
    # the first phase (lateness) has LATENESS_PHASE_SHARE of the limit: say what it had
    phase_s = settings.time_limit_s * fleet_model.LATENESS_PHASE_SHARE
    return (f"no schedule found in {sol.solve_time_s:,.1f} s (the lateness phase's "
            f"{phase_s:g} s of the {settings.time_limit_s:g} s time limit): none was found "
            "in time, which is not a proof of infeasibility; raise --time-limit or [solver] "
            "time_limit_s")
