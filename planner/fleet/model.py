"""CP-SAT for fleet schedules: several runs placed on several sites over time.

Instance -> model (one module per constraint family) -> Solution; the validator that checks a
solution without the solver is fleet/check.py. This module sees integers on a time grid of
whole steps (fleet.py turns dates, megawatts and deliveries into them); it never imports plan.

Each run has options (site, accelerator, cluster size), each with a duration in steps, a facility
power and a cost. A run's start is one integer variable; each option is an optional interval of
fixed size starting there, present when the option is chosen. Devices of each type at each site
and the power of each site are cumulative constraints whose capacity changes over time (devices
delivered, power ramping): the capacity is the horizon's largest, and fixed intervals reserve
what is not yet there (the OR-Tools scheduling samples' way of modelling a varying capacity).

The objective is lexicographic: weighted lateness first, then cost (then earlier starts, so the
optimum is unique). It is solved in two phases: minimise lateness; then, with lateness held at
the value found, minimise cost from the first phase's schedule as a hint. OPTIMAL means both
phases proved optimality among the options given (the sizes tried: fleet/options.py);
FEASIBLE that a schedule was found but a time limit came first.
"""

from __future__ import annotations

import abc
import math
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

import numpy as np
from ortools.sat.python import cp_model

from ..plan.limits import COST_RESOLUTION_USD, cap_units, need_units, resolution
from ..plan.sizing import SolverSettings, status_name

__all__ = ["WEIGHT_RESOLUTION", "FleetOption", "FleetRun", "FleetSite", "FleetInstance",
           "Placement", "FleetSolution", "FleetSettings", "build_model", "solve",
           "fits_alone", "longest_fit", "first_fit", "greedy", "dominated", "sites_power_step_mw"]

# Run weights are given as decimals (10, 2.5); CP-SAT needs integers: 0.01 keeps two decimals.
WEIGHT_RESOLUTION = 0.01

# Settings, explicit so runs repeat (STYLE.md habit 11). 60 s is the budget the issue gives a
# fleet of 20 runs on 5 sites over 104 weekly steps on 2 cores.
DEFAULT_TIME_LIMIT_S = 60.0
# Share of the time limit the lateness phase may use when it does not finish earlier; the cost
# phase gets the rest. Lateness is the primary objective, so it gets the larger share (on a
# generated fleet of 100 runs on 20 sites, 0.6 left lateness 58% from its bound after 32 s,
# 0.8 proved it optimal); the cost phase starts from the lateness phase's schedule (a hint).
LATENESS_PHASE_SHARE = 0.8
# A deterministic fleet solve's wall-clock limit, as a multiple of its time limit: a guard
# against a machine far slower than CP-SAT's measure of work assumes (2 cores: 3.7x).
WALL_CLOCK_GUARD = 8.0


@dataclass(frozen=True)
class FleetSettings(SolverSettings):
    """Sizing's solver settings with a fleet's longer limit and deterministic interleaving."""

    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    interleave: bool = True
    # the limit in CP-SAT's deterministic time rather than wall-clock seconds: a limit that
    # binds then stops the search at the same point on every run, whatever the machine's load
    # (a wall-clock limit stops it wherever the load has let it get: one file gave three
    # schedules), at the price of a wall time several times the limit (3.7x on 2 cores)
    deterministic: bool = False

    def solver(self, time_limit_s: float | None = None) -> cp_model.CpSolver:
        s = super().solver(time_limit_s)
        if self.deterministic:  # the limit set as work, the wall clock a guard behind it
            s.parameters.max_deterministic_time = s.parameters.max_time_in_seconds
            s.parameters.max_time_in_seconds *= WALL_CLOCK_GUARD
        return s

    def to_dict(self) -> dict:
        return {**super().to_dict(), "deterministic": self.deterministic}


@dataclass(frozen=True)
class FleetOption:
    """One way to run a run: on `site` (an index), `gpus` devices of `accelerator`."""

    run: int
    site: int
    accelerator: str
    gpus: int
    duration_steps: int
    training_days: float
    power_mw: float  # facility power at the site (its PUE)
    cost_usd: float  # nan when unknown


@dataclass(frozen=True)
class FleetRun:
    name: str
    earliest_step: int  # may start at this step's boundary or later
    deadline_step: int  # the last step boundary at or before its deadline
    weight: float = 1.0
    # the deadline itself, in steps from the horizon's start (a fraction inside a step): a run
    # is on time when its training ends by it, however much of its last step it holds; None:
    # the run's end step must reach no further than deadline_step
    deadline_steps: float | None = None


def late_offset(inst: "FleetInstance", run: FleetRun, opt: "FleetOption") -> int:
    """Steps late of ``opt`` started at step 0 (a start at step t adds t; 0 or less: on time):
    its training's end (training_days, not the whole steps it holds) past the deadline,
    rounded up to whole steps. A run ending 27 hours before its deadline inside the deadline's
    week had read a week late (its devices held to the step's end)."""
    if run.deadline_steps is None:
        return opt.duration_steps - run.deadline_step
    return math.ceil(round(opt.training_days / inst.step_days - run.deadline_steps, 9))


def late_steps(inst: "FleetInstance", run: FleetRun, opt: "FleetOption", start: int) -> int:
    """Whole steps a run placed as ``opt`` at ``start`` ends past its deadline (late_offset)."""
    return max(0, start + late_offset(inst, run, opt))


@dataclass(frozen=True)
class FleetSite:
    name: str
    power_mw: tuple  # facility power available during each step
    devices: Mapping[str, tuple] = field(default_factory=dict)  # accelerator -> on hand per step


@dataclass(frozen=True)
class FleetInstance:
    steps: int
    step_days: float
    runs: tuple
    sites: tuple
    options: tuple

    def options_of(self, r: int) -> list[int]:
        return [o for o, opt in enumerate(self.options) if opt.run == r]

    @cached_property
    def power_caps(self) -> tuple[float, tuple[np.ndarray, ...]]:
        """(power_step_mw, each site's power at each step in those steps, rounded down): the
        solver's units (PowerCapacity), once per instance for every option checked."""
        step = power_step_mw(self)
        return step, tuple(np.array([cap_units(p, step) for p in site.power_mw], np.int64)
                           for site in self.sites)


@dataclass(frozen=True)
class Placement:
    run: int
    option: int
    start_step: int


@dataclass(frozen=True)
class FleetSolution:
    status: str  # OPTIMAL | FEASIBLE | INFEASIBLE | UNKNOWN
    placements: tuple = ()
    weighted_lateness_steps: float | None = None  # sum of weight x steps late
    cost_usd: float | None = None
    solve_time_s: float = 0.0
    phases: tuple = ()  # status of each phase (lateness, cost)
    # how far the answer may be from the optimum, as CP-SAT's bound proves it: (objective -
    # bound) / objective of each phase (0: proven optimal; None: not known)
    gap: dict = field(default_factory=dict)


def _fit_mask(inst: FleetInstance, o: int, limits=("devices", "power")) -> np.ndarray:
    """Whether option o's site has the devices and the power it needs at each step (with
    nothing else there); `limits` checks only some of them."""
    opt = inst.options[o]
    site = inst.sites[opt.site]
    ok = np.ones(inst.steps, dtype=bool)
    if "devices" in limits:
        ok &= np.asarray(site.devices.get(opt.accelerator, (0,) * inst.steps)) >= opt.gpus
    if "power" in limits:  # in the solver's units (PowerCapacity): the need up, the cap down
        step, caps = inst.power_caps
        ok &= caps[opt.site] >= need_units([opt.power_mw], step)[0]
    return ok


def longest_fit(inst: FleetInstance, o: int, limits=("devices", "power")) -> int:
    """The longest stretch of steps, from the run's earliest step on, during which option o's
    site has the devices and the power it needs (with nothing else there); `limits` checks
    only some of them."""
    ok = _fit_mask(inst, o, limits)
    return longest_stretch(ok[inst.runs[inst.options[o].run].earliest_step:inst.steps])


def longest_stretch(ok) -> int:
    """The most consecutive true values of ``ok`` (steps in a row that hold something)."""
    best = stretch = 0
    for held in ok:
        stretch = stretch + 1 if held else 0
        best = max(best, stretch)
    return best


def first_fit(inst: FleetInstance, o: int) -> int | None:
    """The first step from the run's earliest on at which option o, alone on its site, can
    start and hold its devices and power for its whole duration; None where none can."""
    ok, n = _fit_mask(inst, o), inst.options[o].duration_steps
    stretch = 0
    for t in range(inst.runs[inst.options[o].run].earliest_step, inst.steps):
        stretch = stretch + 1 if ok[t] else 0
        if stretch >= n:
            return t - n + 1
    return None


def dominated(inst: FleetInstance) -> set[int]:
    """Options no schedule needs: another option of the same run, site and accelerator needs
    no more devices, no more power, no more steps, is late by no more from any start (lateness
    counts from the training's end: late_offset; 256 devices ending a day late had beaten 288
    on time in the same two steps) and costs no more (and differs), so any schedule using the
    first can use the second in its place, no later and no dearer."""
    out: set[int] = set()
    groups: dict = {}
    for o, opt in enumerate(inst.options):
        groups.setdefault((opt.run, opt.site, opt.accelerator), []).append(o)
    for members in groups.values():
        run = inst.runs[inst.options[members[0]].run]
        late = {o: late_offset(inst, run, inst.options[o]) for o in members}
        for o in members:
            a = inst.options[o]
            for p in members:
                b = inst.options[p]
                if p != o and b.gpus <= a.gpus and b.duration_steps <= a.duration_steps \
                        and late[p] <= late[o] \
                        and b.power_mw <= a.power_mw and not b.cost_usd > a.cost_usd \
                        and (b.gpus, b.duration_steps, late[p], b.power_mw) != (
                            a.gpus, a.duration_steps, late[o], a.power_mw):
                    out.add(o)
                    break
    return out


def fits_alone(inst: FleetInstance, o: int) -> bool:
    """Whether option o fits on its site with nothing else there: some start in the run's
    window where the devices and the power it needs are on hand for its whole duration."""
    return longest_fit(inst, o) >= inst.options[o].duration_steps


# --- model: one module per constraint family ----------------------------------------------------

class Vars:
    """Decision variables: a start per run, a presence per option, and the intervals."""

    def __init__(self, inst: FleetInstance, model: cp_model.CpModel):
        self.start = []
        self.end = []
        for r, run in enumerate(inst.runs):
            opts = inst.options_of(r)
            shortest = min((inst.options[o].duration_steps for o in opts), default=0)
            hi = max(run.earliest_step, inst.steps - shortest)
            self.start.append(model.new_int_var(run.earliest_step, hi, f"start_{r}"))
            self.end.append(model.new_int_var(0, inst.steps, f"end_{r}"))
        self.x = [model.new_bool_var(f"use_{o}") for o in range(len(inst.options))]
        self.interval = [
            model.new_optional_fixed_size_interval_var(
                self.start[opt.run], opt.duration_steps, self.x[o], f"run_{o}")
            for o, opt in enumerate(inst.options)]
        self.late = [model.new_int_var(0, inst.steps, f"late_{r}") for r in range(len(inst.runs))]
        # capacity a diagnosis adds (shortfall): ("devices", site, accelerator) or ("power",
        # site) -> the extra devices or power steps, from the start of the horizon
        self.extra: dict = {}


class Module(abc.ABC):
    @abc.abstractmethod
    def build(self, inst: FleetInstance, model: cp_model.CpModel, v: Vars) -> None:
        """Add one family of constraints."""


class OnePlacementPerRun(Module):
    """Each run is placed exactly once: one (site, accelerator, size) option."""

    def build(self, inst, model, v):
        for r in range(len(inst.runs)):
            model.add_exactly_one([v.x[o] for o in inst.options_of(r)])


class RunWindow(Module):
    """A run starts at or after its earliest step, ends inside the horizon, and its end is its
    start plus the chosen option's duration; lateness is how far its training's end passes
    the deadline (late_offset), in whole steps."""

    def build(self, inst, model, v):
        for r, run in enumerate(inst.runs):
            opts = inst.options_of(r)
            model.add(v.end[r] == v.start[r] + sum(inst.options[o].duration_steps * v.x[o]
                                                   for o in opts))
            model.add(v.end[r] <= inst.steps)
            model.add(v.late[r] >= v.start[r] + sum(late_offset(inst, run, inst.options[o])
                                                    * v.x[o] for o in opts))


def _reservations(model: cp_model.CpModel, capacity: list[int], name: str):
    """Fixed intervals holding back what is not yet on hand: (intervals, demands, capacity)."""
    top = max(capacity) if capacity else 0
    intervals, demands = [], []
    t = 0
    while t < len(capacity):
        u = t
        while u < len(capacity) and capacity[u] == capacity[t]:
            u += 1
        if capacity[t] < top:
            intervals.append(model.new_fixed_size_interval_var(t, u - t, f"{name}_hold_{t}"))
            demands.append(top - capacity[t])
        t = u
    return intervals, demands, top


class DeviceCapacity(Module):
    """Devices of each type at each site never exceed those delivered by then."""

    def build(self, inst, model, v):
        for s, site in enumerate(inst.sites):
            for acc, on_hand in sorted(site.devices.items()):
                opts = [o for o, opt in enumerate(inst.options)
                        if opt.site == s and opt.accelerator == acc]
                if not opts:
                    continue
                held, hold_demand, top = _reservations(model, [int(n) for n in on_hand],
                                                       f"dev_{s}_{acc}")
                model.add_cumulative([v.interval[o] for o in opts] + held,
                                     [inst.options[o].gpus for o in opts] + hold_demand,
                                     top + v.extra.get(("devices", s, acc), 0))


def power_step_mw(inst: "FleetInstance") -> float:
    """The step power is counted in (sites_power_step_mw of the instance's sites)."""
    return sites_power_step_mw(inst.sites)


def sites_power_step_mw(sites) -> float:
    """The step the power of ``sites`` (FleetSite) is counted in: whole kW (plan/limits.py
    POWER_RESOLUTION_MW), or finer for a site whose cap is so small a kW is over 0.01% of it
    (plan/limits.py resolution): a run needing 0.9165 MW was refused a 0.9166 MW site in
    whole kW; never finer than POWER_FLOOR_MW, a cap below which is no power."""
    caps = [p for site in sites for p in site.power_mw if p >= POWER_FLOOR_MW]
    return max(POWER_FLOOR_MW, min((resolution("power", p) for p in caps),
                                   default=resolution("power", math.inf)))


# The finest step a fleet's power is counted in: 1 W. No accelerator draws under a watt, so a
# cap below one powers nothing and counts as none; finer, a site falling to 1e-12 MW had set
# a step of 1e-16 MW, every cap and need beyond plan/limits.py's UNITS_CEILING, so a 1.9 MW
# run was refused a 100 MW site ("-98.2 MW short"). 10 GW is 1e10 watts, far inside it.
POWER_FLOOR_MW = 1e-6


class PowerCapacity(Module):
    """Facility power at each site never exceeds what the site has at that time. Power is in
    whole steps (power_step_mw): a run's need rounded up, the cap down."""

    def build(self, inst, model, v):
        step, caps = inst.power_caps
        for s in range(len(inst.sites)):
            opts = [o for o, opt in enumerate(inst.options) if opt.site == s]
            if not opts:
                continue
            held, hold_demand, top = _reservations(model, [int(c) for c in caps[s]],
                                                   f"power_{s}")
            need = need_units([inst.options[o].power_mw for o in opts], step)
            model.add_cumulative([v.interval[o] for o in opts] + held,
                                 [int(n) for n in need] + hold_demand,
                                 top + v.extra.get(("power", s), 0))


MODULES = {"placement": OnePlacementPerRun, "window": RunWindow, "devices": DeviceCapacity,
           "power": PowerCapacity}


def weight_units(inst: FleetInstance) -> list[int]:
    return [max(0, int(round(run.weight / WEIGHT_RESOLUTION))) for run in inst.runs]


def cost_units(inst: FleetInstance) -> list[int]:
    """Cost per option in $1,000 units; an unknown cost counts as one unit more than the run's
    dearest known option (neither free nor forbidden), so a tie goes to a known price (a
    catalog's unpriced copy of h100-sxm delivered beside it had taken both runs, and the
    fleet's cost read n/a)."""
    dearest: dict = {}  # run -> its dearest known option's cost, in units
    units = need_units([o.cost_usd for o in inst.options], COST_RESOLUTION_USD)
    for opt, c in zip(inst.options, units):
        if c >= 0:  # known (need_units: nan -> -1)
            dearest[opt.run] = max(dearest.get(opt.run, 0), int(c))
    return [int(c) if c >= 0 else dearest.get(opt.run, 0) + 1
            for opt, c in zip(inst.options, units)]


def build_model(inst: FleetInstance, short: tuple = ()) -> tuple[cp_model.CpModel, Vars]:
    """The constraints, without an objective; the families in ``short`` ("devices", "power")
    get a capacity variable added per site (and accelerator): what a diagnosis asks for
    (shortfall)."""
    model = cp_model.CpModel()
    v = Vars(inst, model)
    step = power_step_mw(inst) if short else None
    for s, site in enumerate(inst.sites if short else ()):
        mine = [o for o in inst.options if o.site == s]
        if "devices" in short:
            for acc in sorted(site.devices):
                most = sum(o.gpus for o in mine if o.accelerator == acc)
                v.extra[("devices", s, acc)] = model.new_int_var(0, most, f"more_{s}_{acc}")
        if "power" in short and mine:
            most = int(sum(need_units([o.power_mw for o in mine], step)))
            v.extra[("power", s)] = model.new_int_var(0, most, f"more_power_{s}")
    for module in MODULES.values():
        module().build(inst, model, v)
    return model, v


def lateness_expr(inst: FleetInstance, v: Vars):
    w = weight_units(inst)
    return sum(w[r] * v.late[r] for r in range(len(inst.runs)))


def greedy(inst: FleetInstance) -> tuple[Placement, ...] | None:
    """A schedule found without search, to start CP-SAT from (a hint) and to fall back on:
    runs placed one at a time, each on the option and earliest start that fit the devices and
    power left (in the model's integer units, so CP-SAT accepts it), least weighted lateness
    first, then cost. Runs are taken by deadline, by size (the largest device-time first) and
    by weight; the order giving the least weighted lateness (then cost) wins. None when no
    order places every run."""
    need = need_units([o.power_mw for o in inst.options], power_step_mw(inst))
    cost = cost_units(inst)
    size = [min((inst.options[o].gpus * inst.options[o].duration_steps
                 for o in inst.options_of(r)), default=0) for r in range(len(inst.runs))]
    runs = range(len(inst.runs))
    orders = (sorted(runs, key=lambda r: (inst.runs[r].deadline_step, -inst.runs[r].weight, r)),
              sorted(runs, key=lambda r: (-size[r], inst.runs[r].deadline_step, r)),
              sorted(runs, key=lambda r: (-inst.runs[r].weight, inst.runs[r].deadline_step, r)))
    best = None
    for order in orders:
        placed = _place(inst, order, need, cost)
        if placed is None:
            continue
        late = sum(inst.runs[p.run].weight * late_steps(inst, inst.runs[p.run],
                                                         inst.options[p.option], p.start_step)
                   for p in placed)
        score = (late, sum(cost[p.option] for p in placed))
        if best is None or score < best[0]:
            best = (score, placed)
    return best[1] if best else None


def _place(inst: FleetInstance, order: list, need: np.ndarray, cost: list):
    dev = {(s, acc): np.asarray(on_hand, dtype=np.int64)
           for s, site in enumerate(inst.sites) for acc, on_hand in site.devices.items()}
    dev_used = {k: np.zeros(inst.steps, np.int64) for k in dev}
    cap = inst.power_caps[1]
    power_used = [np.zeros(inst.steps, np.int64) for _ in inst.sites]
    placed: dict[int, Placement] = {}
    for r in order:
        run, best = inst.runs[r], None
        for o in inst.options_of(r):
            opt = inst.options[o]
            key = (opt.site, opt.accelerator)
            if key not in dev or need[o] < 0:
                continue
            ok = ((dev[key] - dev_used[key] >= opt.gpus)
                  & (cap[opt.site] - power_used[opt.site] >= need[o]))
            bad = np.concatenate([[0], np.cumsum(~ok)])  # steps that do not fit, cumulated
            starts = np.arange(run.earliest_step, inst.steps - opt.duration_steps + 1)
            fit = starts[bad[starts + opt.duration_steps] == bad[starts]]
            if not fit.size:
                continue
            t = int(fit[0])
            late = run.weight * late_steps(inst, run, opt, t)
            cand = (late, cost[o], t, o)
            if best is None or cand < best:
                best = cand
        if best is None:
            return None
        _, _, t, o = best
        opt = inst.options[o]
        dev_used[(opt.site, opt.accelerator)][t:t + opt.duration_steps] += opt.gpus
        power_used[opt.site][t:t + opt.duration_steps] += need[o]
        placed[r] = Placement(r, o, t)
    return tuple(placed[r] for r in range(len(inst.runs)))


def _result(inst: FleetInstance, placements, status: str, t0: float, phases: tuple,
            gap: dict) -> FleetSolution:
    late = sum(run.weight * late_steps(inst, run, inst.options[p.option], p.start_step)
               for run, p in zip(inst.runs, placements))
    total = sum(inst.options[p.option].cost_usd for p in placements)
    return FleetSolution(status, tuple(placements), float(late), float(total),
                         time.perf_counter() - t0, phases, gap)


def _gap(solver: cp_model.CpSolver) -> float | None:
    """(objective - proven bound) / objective, 0 when both are 0."""
    obj, bound = solver.objective_value, solver.best_objective_bound
    if not (math.isfinite(obj) and math.isfinite(bound)):
        return None
    return 0.0 if obj <= 0 else max(0.0, (obj - bound) / obj)


def shortfall(inst: FleetInstance, settings: FleetSettings, short: tuple) -> dict | None:
    """The least capacity that lets every run in (the families in ``short``: "devices",
    "power"): ("devices", site, accelerator) -> devices and ("power", site) -> MW more than
    each site has, from the horizon's start, minimising their sum (devices, and power in its
    counting steps); None when even that finds no schedule in the time allowed."""
    model, v = build_model(inst, short=short)
    model.minimize(sum(v.extra.values()))
    solver = settings.solver()
    if status_name(solver.solve(model)) not in ("OPTIMAL", "FEASIBLE"):
        return None
    step = power_step_mw(inst)
    out = {}
    for key, var in v.extra.items():
        more = solver.value(var)
        if more > 0:
            out[key] = more * step if key[0] == "power" else int(more)
    return out


def solve(inst: FleetInstance, settings: FleetSettings = FleetSettings(),
          on_phase=None) -> FleetSolution:
    """Phase 1 minimises weighted lateness; phase 2 holds it and minimises cost, then starts.
    Both start from a greedy schedule (a hint); when CP-SAT finds nothing in its time the
    greedy schedule, valid by construction, is the answer (FEASIBLE, its gap unknown).
    ``on_phase()`` is called as each phase ends."""
    on_phase = on_phase or (lambda: None)
    if not inst.runs:
        return FleetSolution("OPTIMAL", (), 0.0, 0.0, 0.0, ("OPTIMAL", "OPTIMAL"),
                             {"lateness": 0.0, "cost": 0.0})
    if any(not inst.options_of(r) for r in range(len(inst.runs))):
        return FleetSolution("INFEASIBLE")  # no phase runs: a run has no option
    t0 = time.perf_counter()
    start = greedy(inst)
    model, v = build_model(inst)
    lateness = lateness_expr(inst, v)
    model.minimize(lateness)
    if start is not None:
        _hint(model, v, inst, start)
    first = settings.solver(settings.time_limit_s * LATENESS_PHASE_SHARE)
    s1 = status_name(first.solve(model))
    on_phase()
    if s1 not in ("OPTIMAL", "FEASIBLE"):
        if start is not None:  # the greedy schedule stands
            return _result(inst, start, "FEASIBLE", t0, (s1,), {"lateness": None,
                                                                "cost": None})
        return FleetSolution(s1, solve_time_s=time.perf_counter() - t0, phases=(s1,))
    gap = {"lateness": _gap(first)}
    best_late = int(round(first.objective_value))
    hint_x = [first.boolean_value(x) for x in v.x]
    hint_start = [first.value(s) for s in v.start]
    # phase 2: lateness held at the value found, cost then earlier starts
    model.add(lateness <= best_late)
    cost = cost_units(inst)
    tie = len(inst.runs) * (inst.steps + 1) + 1  # sum of starts < tie: cost decides first
    model.minimize(sum(cost[o] * tie * v.x[o] for o in range(len(inst.options)))
                   + sum(v.start))
    model.clear_hints()
    for x, h in zip(v.x, hint_x):
        model.add_hint(x, h)
    for s, h in zip(v.start, hint_start):
        model.add_hint(s, h)
    used = first.deterministic_time if settings.deterministic else time.perf_counter() - t0
    left = settings.time_limit_s - used
    second = settings.solver(max(left, settings.time_limit_s * (1 - LATENESS_PHASE_SHARE)))
    s2 = status_name(second.solve(model))
    on_phase()
    solver = second if s2 in ("OPTIMAL", "FEASIBLE") else first
    gap["cost"] = _gap(second) if s2 in ("OPTIMAL", "FEASIBLE") else None
    status = "OPTIMAL" if (s1, s2) == ("OPTIMAL", "OPTIMAL") else "FEASIBLE"
    placements = []
    for r in range(len(inst.runs)):
        chosen = [o for o in inst.options_of(r) if solver.boolean_value(v.x[o])]
        placements.append(Placement(r, chosen[0], int(solver.value(v.start[r]))))
    return _result(inst, placements, status, t0, (s1, s2), gap)


def _hint(model: cp_model.CpModel, v: Vars, inst: FleetInstance, placements) -> None:
    chosen = {p.option for p in placements}
    for o, x in enumerate(v.x):
        model.add_hint(x, o in chosen)
    for p in placements:
        model.add_hint(v.start[p.run], p.start_step)
