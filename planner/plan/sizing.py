"""CP-SAT sizing: choose one option (accelerator, cluster size, layout) under limits.

Instance -> model (one module per constraint family) -> Solution, and a validator
(``violations``) that checks a choice against the limits with plain arithmetic, never the solver
(the d-krupke/cpsat-primer examples/tdd structure).

The options come from the vectorised step model: plan.py evaluates every layout of every
candidate cluster size of every allowed accelerator and keeps, per size, the fastest layout that
fits in memory. At a fixed size cost and power only grow with wall-clock time, so that layout
dominates every other layout of the same size; one row per (accelerator, size) is therefore
enough. This module never imports plan: it sees numpy arrays and limits only.

CP-SAT works on integers. Each quantity has one named resolution (below); a need is rounded up
and a limit down, so a choice the solver accepts meets the limit in exact arithmetic too, and
``violations`` confirms it on the unrounded floats.

When no option meets the limits the answer says which limit binds and the smallest relaxation
that works: each limit is removed in turn (then pairs, and so on) and CP-SAT minimises what that
limit bounds under the limits that remain ("needs 212 MW, cap 150 MW"; "the fastest plan takes
131 days, deadline 90").
"""

from __future__ import annotations

import abc
import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
from ortools.sat.python import cp_model

__all__ = ["LIMITS", "DAYS_RESOLUTION", "COST_RESOLUTION_USD", "POWER_RESOLUTION_MW",
           "GPU_RESOLUTION", "SolverSettings", "SizingLimits", "SizingInstance", "Relaxation",
           "SizingSolution", "solve", "violations", "build_model", "status_name"]

# --- integer resolutions, one per quantity -----------------------------------------------------
# 0.01 day = 14.4 minutes: finer than anything the run model resolves (one restart after a
# failure is asm.restart_s = 10 minutes, and a checkpoint interval is tens of minutes).
DAYS_RESOLUTION = 0.01
# USD 1,000: a plan costs millions; a thousand dollars is ~0.0001% of a frontier run and
# 1e12 USD (a trillion) still fits in 1e9 units, far inside CP-SAT's 64-bit coefficients.
COST_RESOLUTION_USD = 1_000.0
# 1 kW: one server of eight accelerators draws ~10 kW, so a cap is never met or missed by less
# than a tenth of a server; a 10 GW site is 1e7 units.
POWER_RESOLUTION_MW = 0.001
# Whole devices: counts are integers already.
GPU_RESOLUTION = 1

# The limits a sizing honours, in the order ties between them are broken.
LIMITS = ("deadline", "power", "budget", "max_gpus", "inventory")

# Solver settings, explicit so runs repeat (STYLE.md habit 11). A one-hot choice among a few
# hundred options is proved optimal in milliseconds; the limit only guards against misuse.
DEFAULT_TIME_LIMIT_S = 10.0
DEFAULT_WORKERS = 2  # the planner's reference machine has 2 cores
DEFAULT_SEED = 0


@dataclass(frozen=True)
class SolverSettings:
    """CP-SAT parameters every solve sets explicitly (sizing here; fleets in fleet_model.py)."""

    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    workers: int = DEFAULT_WORKERS
    seed: int = DEFAULT_SEED
    # Deterministic parallel search (batches of work interleaved over the workers): the same
    # input gives the same answer even when several optima tie.
    interleave: bool = False

    def solver(self, time_limit_s: float | None = None) -> cp_model.CpSolver:
        """A solver with these settings; ``time_limit_s`` overrides the limit for one phase."""
        s = cp_model.CpSolver()
        limit = self.time_limit_s if time_limit_s is None else time_limit_s
        s.parameters.max_time_in_seconds = max(0.01, float(limit))
        s.parameters.num_workers = int(self.workers)
        s.parameters.random_seed = int(self.seed)
        s.parameters.log_search_progress = False
        s.parameters.interleave_search = bool(self.interleave)
        return s

    def to_dict(self) -> dict:
        return {"time_limit_s": self.time_limit_s, "workers": self.workers, "seed": self.seed}


def status_name(status) -> str:
    """CP-SAT status -> "OPTIMAL", "FEASIBLE" (a solution, optimality not proven), "INFEASIBLE"
    (proven) or "UNKNOWN" (the time limit came first); a malformed model is a bug and raises."""
    if status == cp_model.MODEL_INVALID:
        raise RuntimeError("CP-SAT rejected the sizing model as invalid")
    return {cp_model.OPTIMAL: "OPTIMAL", cp_model.FEASIBLE: "FEASIBLE",
            cp_model.INFEASIBLE: "INFEASIBLE"}.get(status, "UNKNOWN")


# --- instance ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SizingLimits:
    """The limits, in the units their names carry; None (or an empty inventory) = no limit."""

    deadline_days: float | None = None
    budget_usd: float | None = None
    power_cap_mw: float | None = None
    max_gpus: int | None = None
    inventory: Mapping[str, int] = field(default_factory=dict)  # accelerator -> devices

    def active(self) -> tuple[str, ...]:
        given = {"deadline": self.deadline_days, "power": self.power_cap_mw,
                 "budget": self.budget_usd, "max_gpus": self.max_gpus,
                 "inventory": self.inventory or None}
        return tuple(k for k in LIMITS if given[k] is not None)

    def to_dict(self) -> dict:
        return {"deadline_days": self.deadline_days, "budget_usd": self.budget_usd,
                "power_cap_mw": self.power_cap_mw, "max_gpus": self.max_gpus,
                "inventory": dict(self.inventory)}


@dataclass(frozen=True)
class SizingInstance:
    """One row per option: accelerator key, devices, wall-clock days, cost and facility power.

    Unknown figures are nan (a TPU without a published price): an option whose figure is
    unknown cannot be shown to meet a limit on it, so that limit excludes it."""

    accelerator: tuple[str, ...]
    gpus: np.ndarray
    training_days: np.ndarray
    cost_usd: np.ndarray
    power_mw: np.ndarray
    limits: SizingLimits = SizingLimits()
    objective: str = "cost"  # "cost": cheapest meeting the limits; "time": fastest

    def __post_init__(self):
        object.__setattr__(self, "accelerator", tuple(str(a) for a in self.accelerator))
        for name in ("training_days", "cost_usd", "power_mw"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=float))
        object.__setattr__(self, "gpus", np.asarray(self.gpus, dtype=np.int64))
        n = len(self.accelerator)
        if any(len(getattr(self, k)) != n for k in ("gpus", "training_days", "cost_usd",
                                                    "power_mw")):
            raise ValueError("every option column must have one entry per option")
        if self.objective not in ("cost", "time"):
            raise ValueError(f"objective must be 'cost' or 'time', got {self.objective!r}")

    @property
    def n(self) -> int:
        return len(self.accelerator)

    def need(self, limit: str) -> np.ndarray:
        """What `limit` bounds, per option, in the limit's own unit (nan = unknown)."""
        if limit == "deadline":
            return self.training_days
        if limit == "power":
            return self.power_mw
        if limit == "budget":
            return self.cost_usd
        if limit in ("max_gpus", "inventory"):
            return self.gpus.astype(float)
        raise KeyError(limit)

    def cap(self, limit: str, i: int | None = None) -> float:
        """The limit's value (for the inventory: of option i's accelerator; inf when absent)."""
        lim = self.limits
        if limit == "inventory":
            return float(lim.inventory.get(self.accelerator[i], math.inf))
        value = {"deadline": lim.deadline_days, "power": lim.power_cap_mw,
                 "budget": lim.budget_usd, "max_gpus": lim.max_gpus}[limit]
        return math.inf if value is None else float(value)

    def rows(self) -> dict:
        """The option table as columns (JSON-ready)."""
        return {"accelerator": list(self.accelerator), "gpus": [int(g) for g in self.gpus],
                "training_days": [_num(x) for x in self.training_days],
                "cost_usd": [_num(x) for x in self.cost_usd],
                "power_mw": [_num(x) for x in self.power_mw]}


def _num(x) -> float | None:
    return float(x) if math.isfinite(x) else None


RESOLUTION = {"deadline": DAYS_RESOLUTION, "power": POWER_RESOLUTION_MW,
              "budget": COST_RESOLUTION_USD, "max_gpus": GPU_RESOLUTION,
              "inventory": GPU_RESOLUTION}


def need_units(values, resolution: float) -> np.ndarray:
    """Needs in integer units, rounded up (never understate a need); nan -> -1 (unknown).
    Rounding to 9 significant decimals first keeps float noise (100.0000000001) from
    pushing an exact value over its limit."""
    v = np.asarray(values, dtype=float) / resolution
    out = np.full(v.shape, -1, dtype=np.int64)
    known = np.isfinite(v)
    out[known] = np.ceil(np.round(v[known], 9)).astype(np.int64)
    return out


def cap_units(value: float, resolution: float) -> int:
    """A limit in integer units, rounded down (never overstate what is allowed)."""
    return int(math.floor(round(value / resolution, 9)))


# --- model: one module per constraint family ----------------------------------------------------

class Module(abc.ABC):
    """Adds one family of constraints (or one objective term) to the model."""

    @abc.abstractmethod
    def build(self, inst: SizingInstance, model: cp_model.CpModel, x: list) -> object:
        """Add constraints; return an objective expression (0 when none)."""


class ExactlyOneOption(Module):
    """The plan is exactly one option: one accelerator type, one size, its best layout."""

    def build(self, inst, model, x):
        model.add_exactly_one(x)
        return 0


class UpperLimit(Module):
    """need(option) <= limit for the chosen option; options with an unknown need are out.

    Used for the deadline (days), the power cap (facility MW, PUE included), the budget (USD)
    and --max-gpus (devices)."""

    def __init__(self, limit: str):
        self.limit = limit

    def build(self, inst, model, x):
        need = need_units(inst.need(self.limit), RESOLUTION[self.limit])
        cap = cap_units(inst.cap(self.limit), RESOLUTION[self.limit])
        for i in np.flatnonzero(need < 0):
            model.add(x[int(i)] == 0)  # unknown: cannot be shown to meet the limit
        model.add(sum(int(need[i]) * x[i] for i in range(inst.n) if need[i] >= 0) <= cap)
        return 0


class InventoryLimit(Module):
    """Devices of each accelerator type <= the devices of that type on hand."""

    def build(self, inst, model, x):
        for acc, count in sorted(inst.limits.inventory.items()):
            idx = [i for i in range(inst.n) if inst.accelerator[i] == acc]
            if idx:
                model.add(sum(int(inst.gpus[i]) * x[i] for i in idx) <= int(count))
        return 0


class Minimise(Module):
    """Lexicographic objective folded into one integer per option:
    primary units x n + the option's rank by the tie-breakers (secondary quantity, fewer
    devices, accelerator key), so the optimum is unique and runs repeat exactly. Options whose
    primary is unknown rank after every known one."""

    def __init__(self, primary: np.ndarray, resolution: float, tiebreak: list[np.ndarray]):
        self.primary, self.resolution, self.tiebreak = primary, resolution, tiebreak

    def coefficients(self, inst: SizingInstance) -> np.ndarray:
        units = need_units(self.primary, self.resolution)
        top = int(units.max()) + 1 if units.size and units.max() >= 0 else 0
        units = np.where(units < 0, top, units)
        keys = [np.asarray(inst.accelerator), inst.gpus.astype(float)]
        keys += [np.where(np.isfinite(t), t, np.inf) for t in reversed(self.tiebreak)]
        keys.append(np.where(np.isfinite(self.primary), self.primary, np.inf))
        order = np.lexsort(keys)  # last key is the primary
        rank = np.empty(inst.n, dtype=np.int64)
        rank[order] = np.arange(inst.n)
        return units * inst.n + rank

    def build(self, inst, model, x):
        coef = self.coefficients(inst)
        return sum(int(coef[i]) * x[i] for i in range(inst.n))


def objective_module(inst: SizingInstance, minimise: str | None = None) -> Minimise:
    """The plan's objective (cost, then time; or time, then cost), or, when relaxing a limit,
    what that limit bounds, then the plan's objective."""
    cost, days = inst.cost_usd, inst.training_days
    main = ([cost, days], COST_RESOLUTION_USD) if inst.objective == "cost" else \
        ([days, cost], DAYS_RESOLUTION)
    if minimise is None:
        return Minimise(main[0][0], main[1], main[0][1:])
    if minimise == "inventory":
        over = np.array([inst.gpus[i] - inst.cap("inventory", i) for i in range(inst.n)])
        return Minimise(np.maximum(over, 0.0), GPU_RESOLUTION, main[0])
    return Minimise(inst.need(minimise), RESOLUTION[minimise], main[0])


def limit_modules(inst: SizingInstance, relaxed: tuple[str, ...] = ()) -> list[Module]:
    mods: list[Module] = [ExactlyOneOption()]
    for limit in inst.limits.active():
        if limit in relaxed:
            continue
        mods.append(InventoryLimit() if limit == "inventory" else UpperLimit(limit))
    return mods


def build_model(inst: SizingInstance, relaxed: tuple[str, ...] = (),
                minimise: str | None = None) -> tuple[cp_model.CpModel, list]:
    """The CP-SAT model: one Boolean per option, the limits not in `relaxed`, and the
    objective (or, with `minimise`, what that limit bounds)."""
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"option_{i}") for i in range(inst.n)]
    for module in limit_modules(inst, relaxed):
        module.build(inst, model, x)
    model.minimize(objective_module(inst, minimise).build(inst, model, x))
    return model, x


def _run(inst: SizingInstance, settings: SolverSettings, relaxed=(), minimise=None):
    if inst.n == 0:
        return "INFEASIBLE", None, 0.0
    model, x = build_model(inst, relaxed, minimise)
    solver = settings.solver()
    t0 = time.perf_counter()
    status = status_name(solver.solve(model))
    wall = time.perf_counter() - t0
    if status not in ("OPTIMAL", "FEASIBLE"):
        return status, None, wall
    chosen = [i for i in range(inst.n) if solver.boolean_value(x[i])]
    return status, chosen[0], wall


# --- validator: plain arithmetic, no solver ----------------------------------------------------

def violations(inst: SizingInstance, i: int, ignore: tuple[str, ...] = ()) -> list[tuple]:
    """(limit, need, cap) for every limit option i breaks; unknown needs break their limit."""
    out = []
    for limit in inst.limits.active():
        if limit in ignore:
            continue
        need, cap = float(inst.need(limit)[i]), inst.cap(limit, i)
        if not math.isfinite(need) or need > cap * (1 + 1e-12):
            out.append((limit, need, cap))
    return out


# --- solution ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Relaxation:
    """Relaxing `limits` (one, or several together) makes option `index` possible; `needed`
    is what each of them would have to allow, `excess` the largest relative overrun."""

    limits: tuple[str, ...]
    index: int
    needed: dict
    excess: float
    message: str

    def to_dict(self) -> dict:
        return {"limits": list(self.limits), "index": self.index, "needed": self.needed,
                "excess": self.excess, "message": self.message}


@dataclass(frozen=True)
class SizingSolution:
    status: str  # OPTIMAL | FEASIBLE | INFEASIBLE | UNKNOWN
    index: int | None  # the chosen option (when infeasible: the relaxation's option)
    feasible: bool
    binding: str | None  # feasible: the limit that keeps a better option out; else the one to relax
    reason: str | None
    tight: tuple[str, ...] = ()  # every limit whose removal would give a better plan
    relaxations: tuple[Relaxation, ...] = ()
    solve_time_s: float = 0.0
    settings: SolverSettings = SolverSettings()

    def summary(self, inst: SizingInstance) -> dict:
        """The solve in JSON-ready form (status, settings, resolutions, limits, options)."""
        return {"solver": "CP-SAT", "status": self.status, "objective": inst.objective,
                "feasible": self.feasible, "binding": self.binding, "tight": list(self.tight),
                "chosen": self.index, "solve_time_s": self.solve_time_s,
                **self.settings.to_dict(),
                "resolution": {"training_days": DAYS_RESOLUTION,
                               "cost_usd": COST_RESOLUTION_USD,
                               "power_mw": POWER_RESOLUTION_MW, "gpus": GPU_RESOLUTION},
                "limits": inst.limits.to_dict(),
                "relaxations": [r.to_dict() for r in self.relaxations],
                "options": inst.rows()}


def _unit_text(limit: str, value: float, inst: SizingInstance, i: int) -> tuple[str, str]:
    """(what option i needs, what the limit allows), in words."""
    acc, gpus = inst.accelerator[i], int(inst.gpus[i])
    if limit == "deadline":
        return f"{value:,.1f} days", f"deadline {inst.cap('deadline'):,.1f}"
    if limit == "power":
        return f"{value:,.1f} MW", f"cap {inst.cap('power'):,.1f} MW"
    if limit == "budget":
        return f"${value / 1e6:,.1f}M", f"budget ${inst.cap('budget') / 1e6:,.1f}M"
    if limit == "max_gpus":
        return f"{gpus:,} devices", f"--max-gpus {int(inst.cap('max_gpus')):,}"
    return f"{gpus:,} {acc}", f"inventory {int(inst.cap('inventory', i)):,}"


def _message(inst: SizingInstance, limits: tuple[str, ...], i: int) -> str:
    """'needs 212.0 MW (65,536 x b200), cap 150.0 MW'; 'the fastest plan takes 131.0 days
    (...), deadline 90.0': what option i needs of each relaxed limit, against the limit."""
    acc, gpus = inst.accelerator[i], int(inst.gpus[i])
    within = any(k not in limits for k in inst.limits.active())
    texts = {k: _unit_text(k, float(inst.need(k)[i]), inst, i) for k in limits}
    if len(limits) > 1:  # several limits together: one option, what it needs of each
        needs = ", ".join(f"{need} ({cap})" for need, cap in texts.values())
        return (f"relaxing {' and '.join(limits)} together: {gpus:,} x {acc}"
                f"{' meeting the other limits' if within else ''} needs {needs}")
    limit = limits[0]
    need, cap = texts[limit]
    if not math.isfinite(float(inst.need(limit)[i])):
        what = {"deadline": "training time", "power": "power", "budget": "cost"}[limit]
        hint = ("--price-per-gpu-hour or a sourced price with --catalog" if limit == "budget"
                else "a sourced figure with --catalog")
        return (f"the {what} of {gpus:,} x {acc} is unknown ({hint}), so it cannot be shown "
                f"to meet the {cap}")
    where = f"{gpus:,} x {acc}" + (", meeting the other limits" if within else "")
    if limit == "deadline":
        return f"the fastest plan takes {need} ({where}), {cap}"
    if limit == "budget":
        return f"the cheapest plan costs {need} ({where}), {cap}"
    if limit == "power":
        return f"needs {need} ({where}), {cap}"
    if limit == "max_gpus":
        return f"needs {need} ({where.split(' x ')[1]}), {cap}"
    return f"needs {need}" + (" (meeting the other limits)" if within else "") + f", {cap}"


def _relax(inst: SizingInstance, settings: SolverSettings) -> tuple[list[Relaxation], float]:
    """The smallest sets of limits whose relaxation admits an option, and by how much."""
    active = inst.limits.active()
    spent = 0.0
    for size in range(1, len(active) + 1):
        found = []
        for subset in itertools.combinations(active, size):
            best = None
            for limit in subset:
                status, i, wall = _run(inst, settings, relaxed=subset, minimise=limit)
                spent += wall
                if i is None:
                    break  # no option even with these relaxed
                needed, excess = {}, -math.inf
                for k in subset:
                    value = (float(inst.gpus[i]) if k == "inventory" else
                             float(inst.need(k)[i]))
                    needed[k] = value
                    cap = inst.cap(k, i)
                    excess = max(excess, value / cap - 1.0 if cap > 0 else math.inf)
                cand = (excess, limit, i, needed)
                if best is None or cand[:2] < best[:2]:
                    best = cand
            if best is not None:
                excess, _, i, needed = best
                found.append(Relaxation(subset, i, needed, excess, _message(inst, subset, i)))
        if found:
            order = {k: n for n, k in enumerate(LIMITS)}
            found.sort(key=lambda r: (r.excess, [order[k] for k in r.limits]))
            return found, spent
    return [], spent


def solve(inst: SizingInstance, settings: SolverSettings = SolverSettings()) -> SizingSolution:
    """Choose the option; say which limit binds and, when none meets the limits, the smallest
    relaxation that works. Every answer is checked by ``violations``."""
    status, i, spent = _run(inst, settings)
    if i is not None:
        broken = violations(inst, i)
        if broken:  # the rounding is conservative, so this would be a bug in the model
            raise RuntimeError(f"CP-SAT chose option {i}, which breaks {broken}")
        # A limit binds when removing it would give a better plan; the one whose removal
        # gains most is named (ties in LIMITS order).
        primary = objective_module(inst).coefficients(inst) // inst.n
        gains = []
        for limit in inst.limits.active():
            st, j, wall = _run(inst, settings, relaxed=(limit,))
            spent += wall
            if j is not None and primary[j] < primary[i]:
                gains.append((int(primary[i] - primary[j]), limit))
        tight = tuple(k for _, k in sorted(gains, key=lambda g: (-g[0], LIMITS.index(g[1]))))
        return SizingSolution(status, i, True, tight[0] if tight else None, None, tight,
                              (), spent, settings)
    if status == "UNKNOWN":
        return SizingSolution(status, None, False, "time_limit", "no option found within the time "
                              f"limit of {settings.time_limit_s:g} s; infeasibility not proven",
                              solve_time_s=spent, settings=settings)
    relaxations, more = _relax(inst, settings)
    spent += more
    if not relaxations:
        reason = ("no option has known figures for the limits given" if inst.n else
                  "no options to choose from")
        return SizingSolution(status, None, False, "unknown", reason, solve_time_s=spent,
                              settings=settings)
    first = relaxations[0]
    reason = first.message
    if len(relaxations) > 1:
        reason += "; or: " + "; or: ".join(r.message for r in relaxations[1:])
    binding = max(first.limits, key=lambda k: (first.needed[k] / inst.cap(k, first.index)
                                               if inst.cap(k, first.index) > 0 else math.inf))
    return SizingSolution(status, first.index, False, binding, reason, (), tuple(relaxations),
                          spent, settings)
