"""Fleet schedules: several runs placed on several sites over time (`planner schedule`).

A fleet file (docs/interface.md, "Fleet spec") names a horizon cut into steps, sites (facility power
that ramps over time, PUE, energy price, devices delivered over time per type) and runs
(workload, earliest start, deadline, weight, optional size options). fleet/options.py turns it
into a FleetInstance on the step grid (fleet/model.py): each run's options are (site,
accelerator, size), each planned once by ``planner.estimate`` at a fixed size. This module keeps
the options that can be chosen and has CP-SAT place every run once, minimising weighted
lateness, then cost; fleet/check.py validates every schedule before it is returned, and a
schedule that fails is an error, never an answer. An infeasible fleet is diagnosed by
fleet/diagnose.py; the answer is a FleetSchedule (fleet/result.py).

Fleet files and the step grid (dates, conservative rounding) are fleet/spec.py's.
"""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import dataclass, replace

from ..assumptions import DEFAULT, Assumptions
from ..catalog import Catalog
from ..catalog import catalog as load_catalog
from ..errors import unknown_keyword
from ..plan.inputs import assumptions_for
from ..progress import Progress
from ..units import InputError, ascii_float
from . import check as fleet_check
from . import model as fleet_model
from .diagnose import diagnose, time_limit_reason
from .model import FleetInstance, FleetSettings, FleetSolution, late_steps
from .options import DEFAULT_SIZE_OPTIONS, SHARE_WAYS, Estimates, build, reach_days
from .result import FleetSchedule
from .spec import (
    FleetSpec,
    RunSpec,
    SiteSpec,
    load,
    parse_date,
    solver_settings,
)

__all__ = ["FleetSpec", "RunSpec", "SiteSpec", "FleetSchedule", "ScheduleError", "load",
           "parse_date", "build", "schedule", "DEFAULT_SIZE_OPTIONS"]


def _time_limit(value) -> float:
    """--time-limit in seconds: a positive, finite number, as [solver] time_limit_s."""
    accepted = "a positive, finite number of seconds"
    try:
        seconds = ascii_float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        raise InputError("--time-limit", value, accepted) from None
    if not 0 < seconds < math.inf:
        raise InputError("--time-limit", value, accepted)
    return seconds


class ScheduleError(RuntimeError):
    """A schedule the validator rejected (a bug in the model, never a user error)."""


def schedule(source, catalog=None, assumptions: Assumptions = DEFAULT,
             settings: FleetSettings | None = None, progress=None, time_limit=None,
             **unknown) -> FleetSchedule:
    """Plan a fleet file: place every run once on a site, in its window, within devices and
    power at every step; weighted lateness first, then cost. The schedule is validated without
    the solver before it is returned. ``progress`` (planner/progress.py) counts the plans of
    the options, then the solver's phases. ``time_limit`` (seconds) is the CLI's --time-limit:
    the file's [solver] time_limit_s replaced, its other settings kept."""
    t_start = time.perf_counter()
    # the CLI's flags by their names, as estimate and budget take theirs (time_limit had been
    # a TypeError); any other keyword is named with the nearest one taken
    wrong = unknown_keyword("planner.schedule", unknown,
                            tuple(inspect.signature(schedule).parameters)[:-1])
    if wrong is not None:
        raise wrong
    limit_s = _time_limit(time_limit) if time_limit is not None else None
    # a dict of overrides by name, as estimate, budget and sweep take them
    assumptions = assumptions_for(assumptions, None)
    cat = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    spec = source if isinstance(source, FleetSpec) else load(source, cat, assumptions)
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
        if limit_s is not None and "time_limit_s" in settings:
            raise InputError("time_limit", time_limit, "time_limit or settings' time_limit_s, "
                             "not both", "conflicts with settings")
        settings = replace(solver_settings(settings, "settings"), interleave=interleave)
    if limit_s is not None:  # the file's (or the settings') other keys kept
        settings = replace(settings if settings is not None else spec.settings,
                           time_limit_s=limit_s)
    if settings is not None:
        spec = FleetSpec(spec.start, spec.end, spec.step_days, spec.sites, spec.runs, settings)
    est = Estimates(cat, assumptions)
    tried, smaller = _attempt(spec, cat, assumptions, est, t_start, progress,
                              smaller=False), False
    # sizes built around each run's own window and the sites' whole inventory can leave a
    # fleet infeasible that smaller, later runs fit (4,000 of 4,096 H100 taken for the year
    # left a 13B run none of its sizes; 8 MW for a week, then 0.5 MW, fit no default size
    # of a 70B run, where 256 H100 fit): when proven infeasible, try again with the smaller
    # sizes (build's ``smaller``), only for the runs whose sizes the file does not give; where
    # the others are scheduled, only a run left out can gain (it fits nowhere, whatever they do)
    gain = [run for run in spec.runs if not run.gpus and (
        not tried.sol.placements or run.name in tried.unplaced)]
    # and each site's levels split among the runs that may share it (two 70B runs on 3,000
    # H100 were offered 1,408, too slow for the horizon, and 1,536, two too many, and read
    # "72 more h100-sxm", where 1,472 each fit)
    share: dict = {}
    if tried.infeasible and gain:
        share = {run.name: {site.name: min(len(spec.runs), SHARE_WAYS) for site in spec.sites}
                 for run in gain}
        again = _attempt(spec, cat, assumptions, est, t_start, progress, smaller=True,
                         unless=len(tried.inst_all.options), share=share)
        # the second try's answer where it places as many runs and proves what it says (a
        # solve its time limit cut short, placing nothing, says less than a proven INFEASIBLE)
        if again is not None and len(again.sol.placements) >= len(tried.sol.placements) \
                and (again.sol.placements or again.sol.status != "UNKNOWN"):
            tried, smaller = again, True
    # a run the schedule put on a larger size than the smallest meeting its window alone
    # (other runs, or a site's power, left it less): the sizes between, and solved again,
    # the better answer kept (texas's power 1% short of two runs' need had put next-3t on
    # 49,152 B200 where 43,008 finish in time $85M cheaper)
    # Only after a proven optimum with time left: a solve its limit cut short would get less
    # time for more options (the 100-run benchmark fleet had taken 239 s where 81 s without)
    solver = spec.settings
    left = solver.deterministic or time.perf_counter() - t_start < solver.time_limit_s / 2
    climb = _climbs(spec, tried) if tried.sol.status == "OPTIMAL" and left else {}
    # a late run and the runs at its site while it runs: that site's levels split among them
    # (two 70B runs due 2027-06-23 on 3,000 H100 had run on 1,536 and 1,408, the second 7
    # days late, where 1,472 each are on time)
    late = _shares(tried) if tried.sol.status == "OPTIMAL" and left else {}
    more = {name: {site: ways for site, ways in sites.items()
                   if ways > share.get(name, {}).get(site, 1)}
            for name, sites in late.items()}
    if climb or any(more.values()):
        merged = {name: {**share.get(name, {}), **more.get(name, {})}
                  for name in {*share, *more}}
        again = _attempt(spec, cat, assumptions, est, t_start, progress, smaller=smaller,
                         unless=len(tried.inst_all.options), climb=climb, share=merged)
        if again is not None and _better(again.sol, tried.sol):
            tried = again
    inst, sol, unplaced, settings = tried.inst, tried.sol, tried.unplaced, spec.settings
    binding = reason = None
    if sol.placements:
        problems = fleet_check.check(inst, sol)
        if problems:
            raise ScheduleError("the schedule failed validation: " + "; ".join(problems))
    if unplaced:  # the first run that fits nowhere, then whether the others fit together
        binding, reason = diagnose(spec, tried.inst_all, tried.dropped, settings)
        if not sol.placements and inst.runs:
            names = ", ".join(run.name for run in inst.runs)
            others = (time_limit_reason(sol, settings) if sol.status == "UNKNOWN" else
                      diagnose(tried.spec, _subset(tried.inst_all, tried.placeable),
                                tried.dropped, settings)[1])
            reason += (f"; and the other run{'s' if len(inst.runs) > 1 else ''} ({names}) "
                       f"cannot be scheduled either: {others}")
    elif sol.status == "UNKNOWN" and not sol.placements:
        binding, reason = "time_limit", time_limit_reason(sol, settings)
    elif not sol.placements:
        binding, reason = diagnose(spec, tried.inst_all, tried.dropped, settings)
    return FleetSchedule(tried.spec, inst, sol, tried.infos, binding, reason, est.calls,
                         est.wall_s, unplaced)


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


def _climbs(spec: FleetSpec, tried: "_Tried") -> dict:
    """{run name: {accelerator: size}} of the runs placed on a larger size than the smallest
    of theirs meeting their window (options.reach_days), whose sizes the file does not give."""
    index = {run.name: r for r, run in enumerate(spec.runs)}
    reach = [reach_days(spec, run) for run in spec.runs]
    smallest: dict = {}  # (run, accelerator) -> the smallest size meeting the run's window
    for o in tried.inst_all.options:
        if o.training_days <= reach[o.run]:
            key = (o.run, o.accelerator)
            smallest[key] = min(smallest.get(key, o.gpus), o.gpus)
    out: dict = {}
    for p in tried.sol.placements:
        opt = tried.inst.options[p.option]
        r = index[tried.spec.runs[p.run].name]
        run = spec.runs[r]
        if not run.gpus and opt.gpus > smallest.get((r, opt.accelerator), opt.gpus):
            out.setdefault(run.name, {})[opt.accelerator] = opt.gpus
    return out


def _shares(tried: "_Tried") -> dict:
    """{run name: {site name: ways}} of each late run and the runs at its site while it runs
    (those whose sizes the file leaves open), ways being how many those are (at most
    SHARE_WAYS): that site's levels split among them are to be tried (build's ``share``);
    none where even its most devices split that way give the late run no more than it has
    (the benchmark fleet's frontier-a, late on 12,288 of texas's 12,288 B200: its solve had
    taken half as long again for nothing)."""
    inst, sol = tried.inst, tried.sol
    span = {p.run: (p.start_step, p.start_step + inst.options[p.option].duration_steps,
                    inst.options[p.option].site) for p in sol.placements}
    out: dict = {}
    for p in sol.placements:
        opt = inst.options[p.option]
        if not late_steps(inst, inst.runs[p.run], opt, p.start_step):
            continue
        lo, hi, site = span[p.run]
        beside = [q for q, (a, b, s) in span.items() if s == site and a < hi and lo < b]
        ways, name = min(len(beside), SHARE_WAYS), inst.sites[site].name
        most = max(inst.sites[site].devices.get(opt.accelerator, (0,)))
        for q in beside if ways > 1 and most / ways > opt.gpus else ():
            run = tried.spec.runs[q]
            if not run.gpus:
                mine = out.setdefault(run.name, {})
                mine[name] = max(mine.get(name, 1), ways)
    return out


def _better(a: FleetSolution, b: FleetSolution) -> bool:
    """Whether solution ``a`` is strictly better than ``b`` in the solver's order: more runs
    placed, then less weighted lateness, then less cost (an unknown cost counts as the
    dearest, so two unknown costs tie). A tie keeps ``b``, the first answer: an equal answer
    of the retry, perhaps unproven, had replaced a proven OPTIMAL (a review)."""
    def key(sol):
        cost = sol.cost_usd if sol.cost_usd is not None and math.isfinite(sol.cost_usd) \
            else math.inf
        return (-len(sol.placements), sol.weighted_lateness_steps or 0.0, cost)

    return bool(a.placements) and key(a) < key(b)


def _attempt(spec: FleetSpec, cat: Catalog, asm: Assumptions, est: Estimates,
             t_start: float, progress, smaller: bool, unless: int | None = None,
             climb: dict | None = None, share: dict | None = None):
    """Build the fleet's options (``smaller``, ``climb``, ``share``: build's), keep those
    that can be chosen, and solve; None when the build has no more than ``unless`` options
    (nothing new to solve)."""
    with Progress(progress, None, "option plans", "plan") as bar:
        est.bar = bar
        inst_all, infos_all, dropped = build(spec, cat, asm, est, smaller=smaller,
                                             climb=climb, share=share)
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
        sol = FleetSolution("INFEASIBLE")  # no phase runs
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
