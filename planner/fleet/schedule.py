"""Fleet schedules: several runs placed on several sites over time (`planner schedule`).

A fleet file (docs/interface.md, "Fleet spec") names a horizon cut into steps, sites (facility power
that ramps over time, PUE, energy price, devices delivered over time per type) and runs
(workload, earliest start, deadline, weight, optional size options). This module turns it into
a FleetInstance on the step grid (fleet/model.py): each run's options are (site, accelerator,
size), each planned once by ``planner.estimate`` at a fixed size (one layout search, cached by
workload, accelerator and size, shared across sites and runs). CP-SAT places every run once,
minimising weighted lateness, then cost; fleet/check.py validates every schedule before it is
returned, and a schedule that fails is an error, never an answer.

Fleet files and the step grid (dates, conservative rounding) are fleet/spec.py's.

A run's cost at a site is its owned hardware amortised over the run (cost.py) plus the site's
energy: the run's IT power x the site's PUE x hours x the site's price; or, where the purchase
price is unknown, the cloud price alone, which pays for the power its devices draw. The sites'
buildings are taken as built (no facility capex).
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ..assumptions import DEFAULT, Assumptions
from ..catalog import Catalog
from ..catalog import catalog as load_catalog
from ..errors import PrecisionError
from ..model.cost import energy_cost_usd
from ..model.flops import model_flops_per_token
from ..model.power import energy_mwh
from ..model.search import LAYOUT_FIELDS
from ..plan.cluster import size_unit
from ..plan.estimate import estimate
from ..plan.inputs import assumptions_for, resolve_workload
from ..plan.options import CAP_SPARE_RESOLUTION, SIZE_RESOLUTION, aligned_below, aligned_between
from ..progress import Progress
from ..schema import check_output_path, check_output_suffix
from ..units import SECONDS_PER_DAY, InputError, fmt_mw
from . import check as fleet_check
from . import model as fleet_model
from .model import FleetInstance, FleetOption, FleetRun, FleetSettings, FleetSite, FleetSolution
from .spec import (
    FleetSpec,
    RunSpec,
    SiteSpec,
    in_file_words,
    load,
    on_grid,
    parse_date,
    solver_settings,
    step_at_or_after,
    step_at_or_before,
)

__all__ = ["FleetSpec", "RunSpec", "SiteSpec", "FleetSchedule", "ScheduleError", "load",
           "parse_date", "build", "schedule", "DEFAULT_SIZE_OPTIONS"]

# A run without size options gets powers of two (in whole size units) around the size that
# would meet its window at Assumptions.planning_mfu: one below, the one at or above, one more.
DEFAULT_SIZE_OPTIONS = 3
# Doublings past those a run's default sizes may add while the largest misses its window at
# the MFU its plan reaches (each an estimate of the run at that size).
MORE_SIZE_OPTIONS = 4
# Between the largest default size that misses a run's window and the smallest that meets
# it (an octave or a half apart), sizes at this resolution are tried too (plan/options
# aligned_between): the lab example's next-3t ran on 49,152 B200 where 36,864 meets its
# window $79M cheaper.
BRACKET_RESOLUTION = 8
# When the fleet is infeasible, the least added capacity that lets every run in says which limit
# binds and by how much (fleet/model.py shortfall); each such solve gets at most this long.
DIAGNOSIS_TIME_LIMIT_S = 10.0



def _windows_cut(spec: FleetSpec) -> list[tuple[str, int]]:
    """Runs whose window the step grid shortens by two days or more: the days from the
    earliest start to the step it waits for (fleet/spec.py step_at_or_after), plus those of
    its deadline past the horizon's last whole step (runs hold whole steps inside it). A
    deadline inside the horizon costs nothing: a run is on time when its training ends by it,
    whatever step it ends in (fleet/model.py late_offset)."""
    out = []
    horizon_end = spec.step_start(spec.steps)
    for run in spec.runs:
        first = spec.step_start(step_at_or_after(spec, run.earliest))
        lost = (first - run.earliest).days \
            + max(0, (min(run.deadline, spec.end) - horizon_end).days)
        if lost >= 2:
            out.append((run.name, lost))
    return out


def _small(x: float) -> str:
    """A table's MW or $M: one decimal, or two significant figures below 0.1 (8 B200 draw
    0.021 MW, not "0.0")."""
    return f"{x:,.1f}" if x >= 0.095 or x == 0 else f"{x:.2g}"

def _mw_text(mw: float, up: bool) -> str:
    """fmt_mw's text of ``mw`` rounded up (a need, a shortfall) or down (a cap) at the
    precision it shows (a tenth of a MW; three significant figures below 1 MW), so that
    adding what a diagnosis names is enough: 0.3331 MW more had read "333 kW", and 1.833 MW
    was still short of 1.8331."""
    if not (math.isfinite(mw) and mw > 0):
        return fmt_mw(mw)
    step = 0.1 if mw >= 1 else 10.0 ** (math.floor(math.log10(mw)) - 2)  # fmt_mw's last digit
    units = round(mw / step, 9)  # float noise (0.3 / 0.001 = 299.99999999999994) is no digit
    return fmt_mw((math.ceil(units) if up else math.floor(units)) * step)


class ScheduleError(RuntimeError):
    """A schedule the validator rejected (a bug in the model, never a user error)."""


# --- options: one estimate per (workload, accelerator, size) ---------------------------------

@dataclass
class _Estimates:
    """planner.estimate at fixed sizes, cached: the slow part of building a fleet."""

    cat: Catalog
    asm: Assumptions
    cache: dict = field(default_factory=dict)
    why: dict = field(default_factory=dict)  # key -> why its plan gave no option
    calls: int = 0
    wall_s: float = 0.0
    bar: Progress | None = None

    def plan(self, inputs: tuple, acc: str, gpus: int):
        key = (inputs, acc, gpus)
        if key not in self.cache:
            t0 = time.perf_counter()
            self.calls += 1
            if self.bar is not None:
                self.bar.update()
            try:
                # the plan's figures alone: no alternatives (next layouts, other sizes)
                p = estimate(**dict(inputs), gpu=acc, gpus=gpus, ownership="owned",
                             catalog=self.cat, assumptions=self.asm, alternatives=False)
                self.cache[key] = p if p.feasible and p.training_days is not None and \
                    math.isfinite(p.training_days) else None
                if self.cache[key] is None:
                    self.why[key] = p.reason or "no layout fits or makes progress"
                elif p.power_peak_mw is None:  # no site's power limit could be checked
                    self.cache[key] = None
                    self.why[key] = (f"{acc} has no power figure (tdp_w or system_power_kw "
                                     "in its catalog file), so no site's power limit can be "
                                     "checked")
            except InputError as exc:
                if exc.name not in ("--gpus", "--layout"):
                    raise  # the run's own inputs: the user's to fix, never "no option"
                self.cache[key] = None  # no layout for this size
                self.why[key] = in_file_words(exc.reason or str(exc))
            self.wall_s += time.perf_counter() - t0
        return self.cache[key]


def _window_days(spec: FleetSpec, run: RunSpec) -> float:
    """The run's window, ending at its deadline or the fleet's end, whichever is first (a
    deadline past the end sized runs too small to finish inside the horizon)."""
    days = (min(run.deadline, spec.end) - run.earliest).days
    if days <= 0:
        days = (spec.end - run.earliest).days
    return max(days, spec.step_days)


def _default_sizes(w, window_days: float, acc, most: int, asm: Assumptions) -> list[int]:
    """Powers of two (in whole scale-up units) around the size meeting the run's window
    (``_window_days``) at asm.planning_mfu, and the half octave above each (1.5x: 12,288
    between 8,192 and 16,384, which the bench fleet's frontier run needed), at most the most
    devices of the type any site ever has. ``w``: the run's workload, resolved once."""
    flops = float(model_flops_per_token(w.architecture, w.seq_len)) * w.tokens
    ideal = flops / (acc.peak(w.precision) * asm.planning_mfu * window_days * SECONDS_PER_DAY)
    unit = size_unit(acc)
    base = max(0, math.floor(math.log2(max(ideal / unit, 1.0))))
    sizes = []
    for i in range(DEFAULT_SIZE_OPTIONS):
        sizes.append(unit * 2 ** (base + i))
        if i + 1 < DEFAULT_SIZE_OPTIONS and base + i >= 1:  # 1.5x a power of two of units
            sizes.append(unit * 3 * 2 ** (base + i - 1))
    fit = [g for g in sizes if g <= most]
    if not fit and most >= unit:
        fit = [unit * 2 ** math.floor(math.log2(most / unit))]
    return fit


def _bracket_sizes(days_at: dict, window_days: float, unit: int) -> list[int]:
    """Sizes strictly between the largest tried that misses the window and the smallest that
    meets it, aligned at BRACKET_RESOLUTION, from the last at or below the size the missing
    one's time scaled by devices reaches (device-days are not monotone in size: 448 H100 run
    DeepSeek-V3 in fewer than 384 do, so the start is one below that estimate); none when
    every size tried misses or meets."""
    meet = [g for g, days in days_at.items() if days <= window_days]
    if not meet:
        return []
    hi = min(meet)
    miss = [g for g, days in days_at.items() if g < hi and not days <= window_days]
    if not miss:
        return []
    lo = max(miss)
    need = lo * days_at[lo] / window_days if math.isfinite(days_at[lo]) else 0.0
    between = [k * unit for k in aligned_between(lo // unit, hi // unit, BRACKET_RESOLUTION)]
    below = [g for g in between if g <= need]
    return between[between.index(below[-1]):] if below else between


def _in_run(run: RunSpec, acc_key: str, exc: InputError) -> InputError:
    """A run's input error in the file's words (its keys, not flags), naming the run."""
    return InputError(f"run {run.name} on {acc_key}: {in_file_words(exc.name)}", exc.value,
                      in_file_words(exc.accepted), in_file_words(exc.reason))


def _cap_sizes(spec: FleetSpec, sites: list, acc_key: str, unit: int,
               it_w_per_device: float, first_step: int = 0) -> list[int]:
    """The largest size each site holding ``acc_key`` can run from ``first_step`` (the run's
    earliest) on, in whole units, aligned as a team builds under a cap
    (plan/options.aligned_below): its most devices delivered and the devices its most power
    carries at its peak PUE. A site whose power or delivery is below every default size still
    gets the run it can hold (1T on 15 MW of B200: 6,144 devices, where the default sizes
    start at 8,192 and the fleet had read infeasible); power the site has only before the run
    may start sizes nothing (10 MW in January offered 128 devices to a run from February on
    0.2 MW, and the fleet read infeasible)."""
    out = set()
    for site, grid in zip(spec.sites, sites):  # on the step grid: what the run's steps hold
        on_hand = grid.devices.get(acc_key, ())[first_step:]
        if not on_hand or max(on_hand) <= 0:
            continue
        # at each step, what both its devices and its power allow; the most over those steps
        power = [mw * 1e6 / (it_w_per_device * site.peak_pue) if it_w_per_device > 0
                 else math.inf for mw in grid.power_mw[first_step:]]
        most = int(max(min(n, p) for n, p in zip(on_hand, power)))
        k = most // unit
        if k >= 1:
            out |= {aligned_below(k, res) * unit
                    for res in (SIZE_RESOLUTION, CAP_SPARE_RESOLUTION)}
    return sorted(out)


@dataclass(frozen=True)
class OptionInfo:
    """What the output says about an option beyond the instance: the plan behind it."""

    layout: dict
    mfu: float
    it_power_mw: float  # IT at the servers' maximum (the site's peak is this x its peak PUE)


def _smaller_sizes(smallest: int, unit: int) -> list[int]:
    """Powers of two of ``unit`` below ``smallest``, largest first (a run's sizes when the
    fleet is infeasible with those tried: build's ``smaller``)."""
    out, g = [], unit * 2 ** max(0, math.floor(math.log2(max(smallest // unit, 1))))
    while g >= unit:
        if g < smallest:
            out.append(g)
        g //= 2
    return out


def _offer(spec: FleetSpec, r: int, acc_key: str, g: int, plan, options: list,
           infos: list) -> None:
    """Run ``r`` on ``g`` x ``acc_key`` (its plan) at each site delivered that type: one
    option each, with the site's PUEs and energy price."""
    # IT power at peak and on average: the plan's facility figures over its PUEs
    it_mw = plan.power_peak_mw / plan.assumptions["peak_pue"]["value"]
    it_average_mw = plan.power_average_mw / plan.assumptions["pue"]["value"]
    days = plan.training_days
    duration = max(1, math.ceil(round(days / spec.step_days, 9)))
    # the owned hardware's share of the run; the cloud price when no purchase price is known
    # (a plan without one has no owned parts)
    parts = [plan.cost_usd.get(k) for k in ("accelerators", "servers", "network",
                                            "maintenance")]
    owned = None not in parts
    hardware = sum(parts) if owned else plan.cost_usd["by_method"]["cloud"]
    hardware = math.nan if hardware is None else hardware  # unknown: NaN, shown null
    for s, site in enumerate(spec.sites):
        if acc_key not in site.deliveries:
            continue
        mw = it_mw * site.peak_pue
        # the site's energy bill beside owned hardware; a rental price already pays for the
        # power its devices draw, so nothing is added to it
        energy = energy_cost_usd(energy_mwh(it_average_mw * site.pue * 1e6,
                                            days * SECONDS_PER_DAY),
                                 site.energy_usd_per_kwh) if owned else 0.0
        options.append(FleetOption(r, s, acc_key, int(g), duration, float(days), float(mw),
                                   float(hardware + energy)))
        infos.append(OptionInfo(plan.layout, plan.mfu, it_mw))


def build(spec: FleetSpec, cat: Catalog | None = None, asm: Assumptions = DEFAULT,
          estimates: _Estimates | None = None,
          smaller: bool = False) -> tuple[FleetInstance, list, dict]:
    """The instance on the step grid, the plan behind each option, and what was dropped:
    {run name: [why each of its sizes gave no option]}. ``smaller``: each run without given
    sizes also gets the powers of two of its size unit below the smallest size tried, largest
    first, while the plan still finishes inside the horizon (schedule's second try)."""
    cat = cat or load_catalog(None)
    est = estimates or _Estimates(cat, asm)
    sites = []
    for s in spec.sites:
        devices = {acc: tuple(int(n) for n in on_grid(spec, series, cumulative=True))
                   for acc, series in s.deliveries.items()}
        sites.append(FleetSite(s.name, on_grid(spec, s.power_mw, cumulative=False), devices))
    most = {}
    for site in sites:
        for acc, on_hand in site.devices.items():
            most[acc] = max(most.get(acc, 0), max(on_hand, default=0))
    runs, options, infos, dropped = [], [], [], {}
    for r, run in enumerate(spec.runs):
        runs.append(FleetRun(run.name, step_at_or_after(spec, run.earliest),
                             step_at_or_before(spec, run.deadline), run.weight,
                             (run.deadline - spec.start).days / spec.step_days))
        accs = [a for a in (run.accelerators or sorted(most)) if most.get(a, 0) > 0]
        if not accs:
            late = sorted({f"{acc} from {d}" for site in spec.sites
                           for acc, series in site.deliveries.items()
                           for d, n in series if n > 0 and d >= spec.end})
            dropped.setdefault(run.name, []).append(
                ("none of its accelerators " + ", ".join(run.accelerators) +
                 " is delivered to any site" if run.accelerators else
                 "no site is delivered any accelerator")
                + (f" inside the horizon (delivered after its end: {', '.join(late[:3])})"
                   if late else ""))
        window = _window_days(spec, run)
        # the days from the step it may first start on to its deadline (or the horizon's end)
        reach = (min(run.deadline, spec.step_start(spec.steps))
                 - spec.step_start(step_at_or_after(spec, run.earliest))).days
        # the days from that step to the horizon's end: the longest a run may train
        horizon_days = (spec.step_start(spec.steps)
                        - spec.step_start(step_at_or_after(spec, run.earliest))).days
        w = resolve_workload(cat, {}, **dict(run.inputs), asm=asm)
        no_peak = []  # (type, error) of the types that cannot run the run's precision
        for acc_key in accs:
            acc = cat.accelerator(acc_key)
            try:  # a type that cannot run the run's precision (fp8 on an A100 site) is no
                acc.peak(w.precision)  # option, not a fault of the fleet (unless none can)
            except PrecisionError as exc:
                dropped.setdefault(run.name, []).append(f"{acc_key}: {in_file_words(str(exc))}")
                no_peak.append((acc_key, exc))
                continue
            sizes = list(run.gpus or _default_sizes(w, window, acc, most[acc_key], asm))
            if not sizes:  # no site holds one of its units (an NVL72 rack of 72 GB200)
                dropped.setdefault(run.name, []).append(
                    f"no site holds one {acc_key} unit of {size_unit(acc):,} devices (the most "
                    f"any holds is {most[acc_key]:,}): give sizes (gpus = [...]) to run on "
                    "fewer")
            capped = not run.gpus  # a run without size options adds what each site can hold
            bracketed = bool(run.gpus)  # and the sizes between missing and meeting its window
            between: list[int] = []  # those not tried yet, tried one at a time up to a fit
            it_w_device = None
            days_at = {}
            for g in sizes:
                try:
                    plan = est.plan(run.inputs, acc_key, g)
                except InputError as exc:  # in the file's words (its keys, not flags)
                    raise _in_run(run, acc_key, exc) from None
                if not run.gpus and capped and g == sizes[-1] and 2 * g <= most[acc_key] \
                        and 2 * g not in sizes and \
                        len(sizes) < DEFAULT_SIZE_OPTIONS + MORE_SIZE_OPTIONS and \
                        (plan is None or plan.training_days > window):
                    # the default sizes assume planning_mfu; where the largest runs past the
                    # window at the MFU it really reaches (DeepSeek-V3 on MI300X: 22%), the
                    # next power of two is tried too (it had been left late at 512)
                    sizes.append(2 * g)
                if plan is not None:  # IT watts a device draws at peak (the sites' caps)
                    it_w_device = (plan.power_peak_mw * 1e6
                                   / plan.assumptions["peak_pue"]["value"] / g)
                days_at[g] = plan.training_days if plan is not None else math.inf
                if capped and g == sizes[-1] and it_w_device:
                    capped = False
                    sizes += [c for c in _cap_sizes(spec, sites, acc_key, size_unit(acc),
                                                    it_w_device, runs[-1].earliest_step)
                              if c not in sizes]
                if not bracketed and not capped and g == sizes[-1]:
                    bracketed = True
                    between = [c for c in _bracket_sizes(days_at, reach, size_unit(acc))
                               if c not in sizes and c <= most[acc_key]]
                    if between:
                        sizes.append(between.pop(0))
                elif between and g == sizes[-1] and not days_at[g] <= reach:
                    sizes.append(between.pop(0))  # the next, until one meets the window
                if plan is None:
                    dropped.setdefault(run.name, []).append(
                        f"{g:,} x {acc_key}: " + est.why.get((run.inputs, acc_key, g),
                                                           "no layout fits or makes progress"))
                    continue
                _offer(spec, r, acc_key, g, plan, options, infos)
            if smaller and not run.gpus and sizes:
                # a second try for an infeasible fleet: sizes built around the run's window
                # and the sites' whole inventory may not fit beside the other runs (or the
                # power a site keeps): smaller ones, finishing later, may (schedule)
                for g in _smaller_sizes(min(sizes), size_unit(acc)):
                    try:
                        plan = est.plan(run.inputs, acc_key, g)
                    except InputError as exc:
                        raise _in_run(run, acc_key, exc) from None
                    # fewer devices hold more memory each and take longer: past the first
                    # that does not run, or does not finish inside the horizon, none would
                    if plan is None or plan.training_days > horizon_days:
                        break
                    _offer(spec, r, acc_key, g, plan, options, infos)
        if accs and len(no_peak) == len(accs):  # no type delivered runs it: the run's input
            raise _in_run(run, *no_peak[0])

    inst = FleetInstance(spec.steps, float(spec.step_days), tuple(runs), tuple(sites),
                         tuple(options))
    return inst, infos, dropped


# --- the schedule -----------------------------------------------------------------------------

@dataclass(frozen=True)
class FleetSchedule:
    """A validated schedule (or a reasoned infeasibility) with its instance and spec."""

    spec: FleetSpec
    instance: FleetInstance
    solution: FleetSolution
    infos: tuple
    binding: str | None
    reason: str | None
    estimate_calls: int
    estimate_s: float
    # runs no option of which fits even alone (binding and reason say why the first cannot):
    # the others are still scheduled, so one impossible run does not blank the plan
    unplaced: tuple = ()

    @property
    def status(self) -> str:
        """The solver's status of what it scheduled; INFEASIBLE when a run is left out."""
        return "INFEASIBLE" if self.unplaced else self.solution.status

    def runs(self) -> list[dict]:
        spec, inst = self.spec, self.instance
        out = []
        for p in self.solution.placements:
            opt, run, rs = inst.options[p.option], inst.runs[p.run], spec.runs[p.run]
            end_step = p.start_step + opt.duration_steps
            late = fleet_model.late_steps(inst, run, opt, p.start_step)
            # the day its training ends, inclusive (it holds its devices to its last step's end)
            finish = spec.step_start(p.start_step) + timedelta(
                days=max(1, math.ceil(round(opt.training_days, 9))) - 1)
            info = self.infos[p.option]
            out.append({
                "name": run.name, "site": inst.sites[opt.site].name,
                "accelerator": opt.accelerator, "gpus": opt.gpus,
                "start": spec.step_start(p.start_step).isoformat(),
                # the last day it holds its devices (inclusive, like start and deadline)
                "end": (spec.step_start(end_step) - timedelta(days=1)).isoformat(),
                "training_days": opt.training_days, "power_mw": opt.power_mw,
                "cost_usd": opt.cost_usd if math.isfinite(opt.cost_usd) else None,
                "finish": finish.isoformat(),
                "on_time": late == 0,
                # days its training ends past the deadline; the solver counts whole steps of it
                # (late_steps), so on time exactly when this is 0
                "lateness_days": float(max(0, (finish - rs.deadline).days + 1)),
                "earliest": rs.earliest.isoformat(),
                "deadline": (rs.deadline - timedelta(days=1)).isoformat(),
                "weight": run.weight, "duration_steps": opt.duration_steps,
                "layout": info.layout, "mfu": info.mfu})
        return out

    def sites_usage(self) -> list[dict]:
        spec, inst = self.spec, self.instance
        use = fleet_check.usage(inst, self.solution) if self.solution.placements else \
            {"devices": {}, "power_mw": {}}
        steps = [spec.step_start(t).isoformat() for t in range(inst.steps)]
        out = []
        for s, site in enumerate(inst.sites):
            drawn = use["power_mw"].get(s, np.zeros(inst.steps))
            out.append({
                "name": site.name, "step_starts": steps,
                "power_cap_mw": [float(x) for x in site.power_mw],
                "power_used_mw": [float(x) for x in drawn],
                "devices": {acc: {"on_hand": [int(x) for x in on_hand],
                                  "used": [int(x) for x in use["devices"].get(
                                      (s, acc), np.zeros(inst.steps, dtype=int))]}
                            for acc, on_hand in sorted(site.devices.items())}})
        return out

    def to_dict(self) -> dict:
        sol = self.solution
        placed = bool(sol.placements)
        return {
            "status": self.status,
            "unplaced": list(self.unplaced),
            "objective": ({"weighted_lateness_days": sol.weighted_lateness_steps *
                           self.spec.step_days,
                           "cost_usd": sol.cost_usd if math.isfinite(sol.cost_usd) else None}
                          if placed else None),
            "runs": self.runs(),
            "binding": self.binding, "reason": self.reason,
            "validated": placed,
            "phases": list(sol.phases), "solve_time_s": sol.solve_time_s,
            # (objective - proven bound) / objective per phase: 0 proven optimal, None unknown
            "optimality_gap": dict(sol.gap),
            "solver": self.spec.settings.to_dict(),
            "estimates": {"calls": self.estimate_calls, "wall_s": self.estimate_s},
            "horizon": {"start": self.spec.start.isoformat(),
                        "end": self.spec.last_day.isoformat(), "step_days": self.spec.step_days,
                        "steps": self.instance.steps},
            "options": len(self.instance.options),
            "sites": self.sites_usage(),
        }

    def table(self) -> str:
        from tabulate import tabulate

        d, spec = self.to_dict(), self.spec
        # every run of the file, those left out too (a 3-run file had read "2 runs")
        runs = (f"{_many(len(spec.runs) + len(self.unplaced), 'run')} "
                f"({len(self.solution.placements)} placed)" if self.unplaced
                else _many(len(spec.runs), "run"))
        head = [f"fleet: {_many(len(spec.sites), 'site')}, {runs}, "
                f"{spec.start} to {spec.last_day_text()} in {self.instance.steps} steps of "
                f"{spec.step_days} days; {len(self.instance.options)} options "
                f"({self.estimate_calls} estimates, {self.estimate_s:,.1f} s)",
                f"status: {d['status']} ("
                + (f"lateness phase: {d['phases'][0]}, so the greedy schedule stands"
                   if len(d["phases"]) == 1 and d["status"] == "FEASIBLE" else
                   f"lateness phase, cost phase: {', '.join(d['phases']) or 'n/a'}")
                + f") in {d['solve_time_s']:,.1f} s; "
                f"{spec.settings.workers} workers, seed {spec.settings.seed}, time limit "
                f"{spec.settings.time_limit_s:g} s (the option plans' and CP-SAT's together)"]
        if d["objective"]:
            obj = d["objective"]
            gap = ", ".join(f"{k} {'unknown' if v is None else f'{v:.1%}'}"
                            for k, v in d["optimality_gap"].items())
            cost = ("n/a (a price unknown)" if obj["cost_usd"] is None
                    else f"${obj['cost_usd'] / 1e6:,.1f}M")
            # the solver's lateness (fleet/model.py late_offset): days past the deadline,
            # rounded up to whole steps
            steps = ("" if spec.step_days == 1 else
                     f" (each run's days past its deadline rounded up to whole "
                     f"{spec.step_days:g}-day steps)")
            head.append(f"objective: weighted lateness {obj['weighted_lateness_days']:,.1f} "
                        f"days{steps}, then cost {cost}"
                        + (f" (gap to the proven bound: {gap})" if gap else ""))
            head.append("validated: each run placed once inside its window; devices and power "
                        "within each site's limits at every step")
            cut = _windows_cut(spec)
            if cut:
                head.append(f"grid: the {spec.step_days:g}-day steps shorten "
                            + ", ".join(f"{name}'s window by {days} d" for name, days in cut)
                            + " (a run starts and ends on a step: a shorter window may need a "
                            "larger cluster; step = \"1d\" plans to the day)")
        if d["binding"]:
            head.append(f"binding: {d['binding']}: {d['reason']}")
        if d["unplaced"]:
            others = ("the other runs are scheduled below" if d["runs"] else
                      "the other runs do not fit together either (binding says why)"
                      if spec.runs else "")
            head.append(f"unplaced: {', '.join(d['unplaced'])} (no option fits even alone)"
                        + (f"; {others}" if others else ""))
        if not d["runs"]:
            return "\n".join(head)
        rows = [(r["name"], r["site"], r["accelerator"], f"{r['gpus']:,}", r["start"],
                 r["finish"],
                 f"{r['training_days']:,.1f}", _small(r["power_mw"]),
                 "n/a" if r["cost_usd"] is None else _small(r["cost_usd"] / 1e6),
                 r["deadline"], "yes" if r["on_time"] else f"late {r['lateness_days']:g} d")
                for r in d["runs"]]
        return "\n".join(head) + "\n\n" + tabulate(
            rows, headers=["run", "site", "accelerator", "devices", "start", "trained by",
                           "days", "MW", "cost $M", "deadline", "on time"],
            disable_numparse=True,  # as formatted: "175.0" beside "103.3", not "175"
            colalign=("left", "left", "left", "right", "left", "left", "right", "right",
                      "right", "left", "left"))

    def __repr__(self) -> str:
        sol = self.solution
        # the fleet's status and every run of its file, those not placed too (a fleet with
        # one had read "OPTIMAL, 1 of 1 run")
        head = (f"FleetSchedule({self.status}, {len(sol.placements)} of "
                f"{_many(len(self.spec.runs) + len(self.unplaced), 'run')} on "
                f"{_many(len(self.spec.sites), 'site')}")
        if sol.placements:
            late = sol.weighted_lateness_steps * self.spec.step_days
            return head + f", weighted lateness {late:,} days, cost ${_small(sol.cost_usd / 1e6)}M)"
        return head + f", binding={self.binding!r})"

    def _repr_html_(self) -> str:
        """A notebook's view: status, objective and one row per run."""
        from .. import report

        return report.schedule_html(self.to_dict())

    def to_frame(self):
        """One row per run (the Parquet file's rows: layout flattened, dates as dates), as a
        pandas DataFrame."""
        from .. import report

        # every column whether or not a run is placed, as the Parquet file has (an infeasible
        # fleet had given a frame with none, so df["gpus"] raised KeyError)
        return report.pandas().DataFrame(self._rows(),
                                         columns=[name for name, _ in PARQUET_COLUMNS])

    def plot(self):
        """The schedule as a matplotlib Figure: runs on their sites over time, each site's
        power against its cap (the CLI's --gantt)."""
        from .. import charts

        return charts.gantt_figure(self.to_dict())

    def _rows(self) -> list[dict]:
        rows = []
        for r in self.runs():
            row = {k: v for k, v in r.items() if k != "layout"}
            for k in ("start", "end", "finish", "earliest", "deadline"):
                row[k] = date.fromisoformat(row[k])
            row.update({f"layout_{k}": v for k, v in (r["layout"] or {}).items()})
            row["status"] = self.status
            rows.append(row)
        return rows

    def write_parquet(self, path: str | Path) -> Path:
        """One row per run (the JSON's run keys, layout flattened, dates as dates); the status
        and objective in the file's metadata. Written to a temporary file, then renamed, so an
        interrupted write leaves no corrupt file."""
        import json

        import pyarrow as pa
        import pyarrow.parquet as pq

        # checked as the command line's -o is: a .csv had been written as Parquet, a missing
        # folder raised FileNotFoundError naming the temporary file
        check_output_path(check_output_suffix(path, "path", (".parquet",)), "path")
        rows = self._rows()
        d = self.to_dict()
        meta = {"status": d["status"], "objective": d["objective"], "binding": d["binding"],
                "reason": d["reason"], "unplaced": d["unplaced"], "solver": d["solver"],
                "horizon": d["horizon"]}
        # one schema whether or not any run is placed (an infeasible fleet: zero rows, every
        # column), so a script reading df["gpus"] reads it either way
        schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in PARQUET_COLUMNS])
        table = pa.Table.from_pylist(rows, schema=schema)
        # each field with its unit, as a sweep's Parquet carries them (docs/interface.md)
        units = {"gpus": "devices", "training_days": "days", "power_mw": "MW",
                 "cost_usd": "USD", "lateness_days": "days", "duration_steps": "steps",
                 "mfu": "fraction", "weight": "", "start": "date", "end": "date",
                 "finish": "date", "earliest": "date", "deadline": "date"}
        table = pa.Table.from_arrays(table.columns, schema=pa.schema(
            [f.with_metadata({"unit": units.get(f.name, "")}) for f in table.schema]))
        table = table.replace_schema_metadata({"planner.fleet": json.dumps(meta)})
        out = Path(path)
        fd, tmp = tempfile.mkstemp(dir=out.parent or ".", suffix=".parquet.tmp")
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            # mkstemp makes its file private (0600): the output gets the mode any new file
            # gets under the user's umask, as the Gantt chart's does
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return out


# The Parquet file's columns, in order, with their Arrow types (docs/interface.md): a run's
# JSON keys, its layout flattened, the fleet's status.
PARQUET_COLUMNS = (
    ("name", "string"), ("site", "string"), ("accelerator", "string"), ("gpus", "int64"),
    ("start", "date32"), ("end", "date32"), ("finish", "date32"), ("training_days", "float64"),
    ("power_mw", "float64"), ("cost_usd", "float64"), ("on_time", "bool_"),
    ("lateness_days", "int64"), ("earliest", "date32"), ("deadline", "date32"),
    ("weight", "float64"), ("duration_steps", "int64"), ("mfu", "float64"),
    *((f"layout_{k}", "string" if k == "recompute" else "int64") for k in LAYOUT_FIELDS),
    ("status", "string"))


def _diagnose(spec: FleetSpec, inst: FleetInstance, dropped: dict,
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
                                                     "no site is delivered", "no site holds"))
                                       for r in reasons) else \
                "gpus" if spec.runs[r].gpus and all(
                    "the batch binds" in x or "above the largest cluster" in x
                    for x in reasons) \
                else "catalog" if reasons and all("no power figure" in x for x in reasons) \
                else "memory"
            return binding, f"run {run.name} has no option that runs: {why}"
        if any(fleet_model.fits_alone(inst, o) for o in opts):
            continue
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
            broken.append(("devices", (
                f"run {run.name} needs {ok.gpus:,} {ok.accelerator} at one site at least "
                f"(the fewest of the sizes tried); "
                f"{inst.sites[ok.site].name} never has more than {ok.gpus - need:,} "
                f"({need:,} short)")))
        # power, among the options whose devices some site has (all of them when none has)
        pow_short = [(inst.options[k].power_mw - max(inst.sites[inst.options[k].site].power_mw),
                      k) for short, k in dev_short if short <= 0 or need > 0]
        need_mw, k = min(pow_short)
        if need_mw > 0:
            ok = inst.options[k]
            broken.append(("power", (
                f"run {run.name} needs {_mw_text(ok.power_mw, up=True)} at least "
                f"({ok.gpus:,} x {ok.accelerator} at {inst.sites[ok.site].name}: the least "
                f"of the options tried), whose cap never exceeds "
                f"{_mw_text(ok.power_mw - need_mw, up=False)} "
                f"({_mw_text(need_mw, up=True)} short)")))
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
        short = ""
        if binding == "power":  # by how much: the most power a whole stretch holds
            site = inst.sites[ok.site]
            devs = np.asarray(site.devices.get(ok.accelerator, (0,) * inst.steps)) >= ok.gpus
            caps = np.where(devs, np.asarray(site.power_mw, dtype=float), -np.inf)
            n = ok.duration_steps
            most = max((caps[t:t + n].min() for t in range(run.earliest_step,
                                                          inst.steps - n + 1)),
                       default=-np.inf)
            if np.isfinite(most):
                short = (f"; while it holds the devices for {n} steps its cap is at most "
                         f"{_mw_text(most, up=False)} "
                         f"({_mw_text(ok.power_mw - most, up=True)} short)")
        return binding, (f"run {run.name} needs {ok.gpus:,} {ok.accelerator} and "
                         f"{_mw_text(ok.power_mw, up=True)} at one site for "
                         f"{ok.duration_steps} steps "
                         f"({ok.training_days:,.1f} days); the longest stretch any site "
                         f"offers after its earliest start is {got} steps "
                         f"({inst.sites[ok.site].name}){short}")
    quick = replace(settings, time_limit_s=min(settings.time_limit_s, DIAGNOSIS_TIME_LIMIT_S))
    # the least capacity that lets every run in: devices alone and power alone, the one
    # smaller against what its sites have named first (70 kW more beats 8,192 more devices),
    # then both together when neither alone does
    def words(more: dict) -> str:
        return ", ".join(f"{n:,} more {key[2]} at {inst.sites[key[1]].name}"
                         if key[0] == "devices" else f"{_mw_text(n, up=True)} more at "
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
        text = (f"the runs do not all fit in the horizon with the {name} on hand; the least "
                f"that lets them all in (from the start of the horizon): {words(more)}")
        if len(found) > 1:
            text += f"; or, {found[1][1]} alone: {words(found[1][2])}"
        return name, text
    more = fleet_model.shortfall(inst, quick, ("devices", "power"))
    if more:
        return "capacity", ("the runs do not all fit in the horizon with the devices and "
                            "power on hand; the least that lets them all in (from the start "
                            f"of the horizon): {words(more)}")
    return "capacity", ("the runs do not all fit in the horizon with the devices and power on "
                        "hand, and no added capacity found in the diagnosis's "
                        f"{quick.time_limit_s:g} s lets them in")


def schedule(source, catalog=None, assumptions: Assumptions = DEFAULT,
             settings: FleetSettings | None = None, progress=None) -> FleetSchedule:
    """Plan a fleet file: place every run once on a site, in its window, within devices and
    power at every step; weighted lateness first, then cost. The schedule is validated without
    the solver before it is returned. ``progress`` (planner/progress.py) counts the plans of
    the options, then the solver's phases."""
    t_start = time.perf_counter()
    # a dict of overrides by name, as estimate, budget and sweep take them
    assumptions = assumptions_for(assumptions, None)
    cat = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    spec = source if isinstance(source, FleetSpec) else load(source, cat)
    if isinstance(source, FleetSpec):  # a file's or a dict's are refused as it is loaded
        for part in ("sites", "runs"):  # an empty fleet is no question (it had read OPTIMAL)
            if not getattr(spec, part):
                raise InputError(f"fleet.{part}", None, f"at least one [[{part}]] table",
                                 "is empty")
    interleave = FleetSettings.interleave
    if isinstance(settings, FleetSettings):  # checked as the file's [solver] table is
        interleave, settings = settings.interleave, settings.to_dict()
    if settings is not None and not isinstance(settings, dict):
        raise InputError("settings", settings, "a FleetSettings or a dict of the [solver] "
                         "table's keys (time_limit_s, workers, seed, deterministic)")
    if isinstance(settings, dict):  # the [solver] table's keys, checked as the file's are
        settings = replace(solver_settings(settings, "settings"), interleave=interleave)
    if settings is not None:
        spec = FleetSpec(spec.start, spec.end, spec.step_days, spec.sites, spec.runs, settings)
    est = _Estimates(cat, assumptions)
    tried = _attempt(spec, cat, assumptions, est, t_start, progress, smaller=False)
    # sizes built around each run's own window and the sites' whole inventory can leave a
    # fleet infeasible that smaller, later runs fit (4,000 of 4,096 H100 taken for the year
    # left a 13B run none of its sizes; 8 MW for a week, then 0.5 MW, fit no default size
    # of a 70B run, where 256 H100 fit): when proven infeasible, try again with the smaller
    # sizes (build's ``smaller``), only for the runs whose sizes the file does not give; where
    # the others are scheduled, only a run left out can gain (it fits nowhere, whatever they do)
    gain = [run for run in spec.runs if not run.gpus and (
        not tried.sol.placements or run.name in tried.unplaced)]
    if tried.infeasible and gain:
        again = _attempt(spec, cat, assumptions, est, t_start, progress, smaller=True,
                         unless=len(tried.inst_all.options))
        # the second try's answer where it places as many runs and proves what it says (a
        # solve its time limit cut short, placing nothing, says less than a proven INFEASIBLE)
        if again is not None and len(again.sol.placements) >= len(tried.sol.placements) \
                and (again.sol.placements or again.sol.status != "UNKNOWN"):
            tried = again
    inst, sol, unplaced, settings = tried.inst, tried.sol, tried.unplaced, spec.settings
    binding = reason = None
    if sol.placements:
        problems = fleet_check.check(inst, sol)
        if problems:
            raise ScheduleError("the schedule failed validation: " + "; ".join(problems))
    if unplaced:  # the first run that fits nowhere, then whether the others fit together
        binding, reason = _diagnose(spec, tried.inst_all, tried.dropped, settings)
        if not sol.placements and inst.runs:
            names = ", ".join(run.name for run in inst.runs)
            others = (_time_limit_reason(sol, settings) if sol.status == "UNKNOWN" else
                      _diagnose(tried.spec, _subset(tried.inst_all, tried.placeable),
                                tried.dropped, settings)[1])
            reason += (f"; and the other run{'s' if len(inst.runs) > 1 else ''} ({names}) "
                       f"cannot be scheduled either: {others}")
    elif sol.status == "UNKNOWN" and not sol.placements:
        binding, reason = "time_limit", _time_limit_reason(sol, settings)
    elif not sol.placements:
        binding, reason = _diagnose(spec, tried.inst_all, tried.dropped, settings)
    return FleetSchedule(tried.spec, inst, sol, tried.infos, binding, reason, est.calls,
                         est.wall_s, unplaced)


def _time_limit_reason(sol: FleetSolution, settings: FleetSettings) -> str:
    """Why a solve that found nothing proves nothing: the time its first phase had."""
    # the first phase (lateness) has LATENESS_PHASE_SHARE of the limit: say what it had
    phase_s = settings.time_limit_s * fleet_model.LATENESS_PHASE_SHARE
    return (f"no schedule found in {sol.solve_time_s:,.1f} s (the lateness phase's "
            f"{phase_s:g} s of the {settings.time_limit_s:g} s time limit); "
            "infeasibility not proven: raise --time-limit or [solver] time_limit_s")


def _subset(inst: FleetInstance, runs: list[int]) -> FleetInstance:
    """``inst`` with only the runs ``runs`` (indices, ascending) and their options, the runs
    numbered anew in that order."""
    if list(runs) == list(range(len(inst.runs))):  # every run: the instance as it is
        return inst
    index = {r: i for i, r in enumerate(runs)}
    return FleetInstance(inst.steps, inst.step_days, tuple(inst.runs[r] for r in runs),
                         inst.sites, tuple(replace(o, run=index[o.run])
                                           for o in inst.options if o.run in index))


@dataclass(frozen=True)
class _Tried:
    """One build and solve of a fleet: every option (for the diagnosis), and the instance the
    solver saw: the runs with an option that fits alone (``placeable``), in ``spec``."""

    inst_all: FleetInstance
    dropped: dict
    spec: FleetSpec  # the placeable runs
    placeable: list
    inst: FleetInstance
    infos: tuple
    unplaced: tuple
    sol: FleetSolution

    @property
    def infeasible(self) -> bool:
        """Proven unable to place every run (a solve cut short by its time limit is not)."""
        return self.sol.status == "INFEASIBLE" or (bool(self.unplaced)
                                                   and self.sol.status != "UNKNOWN")


def _attempt(spec: FleetSpec, cat: Catalog, asm: Assumptions, est: _Estimates,
             t_start: float, progress, smaller: bool, unless: int | None = None):
    """Build the fleet's options (``smaller``: build's), keep those that can be chosen, and
    solve; None when the build has no more than ``unless`` options (nothing new to solve)."""
    with Progress(progress, None, "option plans", "plan") as bar:
        est.bar = bar
        inst_all, infos_all, dropped = build(spec, cat, asm, est, smaller=smaller)
        est.bar = None
    if unless is not None and len(inst_all.options) <= unless:
        return None
    # options that cannot fit even alone only slow the solver: keep the others
    # and options another option of the same run beats in every way are no choice at all
    gone = fleet_model.dominated(inst_all)
    keep = [o for o in range(len(inst_all.options))
            if o not in gone and fleet_model.fits_alone(inst_all, o)]
    kept = FleetInstance(inst_all.steps, inst_all.step_days, inst_all.runs, inst_all.sites,
                         tuple(inst_all.options[o] for o in keep))
    # a run with no option left cannot be placed whatever the others do: schedule the others
    # (the fleet stays INFEASIBLE, and the diagnosis names that run)
    placeable = sorted({opt.run for opt in kept.options})
    unplaced = tuple(spec.runs[r].name for r in range(len(kept.runs)) if r not in placeable)
    inst = _subset(kept, placeable)  # options stay in their order: infos match
    infos = tuple(infos_all[o] for o in keep)
    placed_spec = FleetSpec(spec.start, spec.end, spec.step_days, spec.sites,
                            tuple(spec.runs[r] for r in placeable), spec.settings)
    if not placeable:  # every run fits nowhere: nothing to solve
        sol = FleetSolution("INFEASIBLE", phases=("INFEASIBLE",))
        return _Tried(inst_all, dropped, placed_spec, placeable, inst, infos, unplaced, sol)
    # the time limit holds for the whole call: the solver gets what the estimates left (at
    # least a quarter of it, so a slow catalog never leaves it nothing); a deterministic solve
    # gets the whole limit as work, which no wall clock may shorten (the estimates' time had
    # made two runs of one file give $1,314.5M and $1,441.0M)
    spent = 0.0 if spec.settings.deterministic else time.perf_counter() - t_start
    limit = spec.settings.time_limit_s
    with Progress(progress, 2, "CP-SAT phases", "phase") as bar:
        sol = fleet_model.solve(inst, replace(spec.settings,
                                              time_limit_s=max(limit - spent, limit / 4)),
                                on_phase=lambda: bar.update())
    return _Tried(inst_all, dropped, placed_spec, placeable, inst, infos, unplaced, sol)


def _many(n: int, noun: str) -> str:
    """'1 site', '3 sites'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
