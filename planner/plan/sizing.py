"""CP-SAT sizing: choose one option (accelerator, cluster size, layout) under limits.

Instance (plan/limits.py) -> model (one module per constraint family) -> Solution, and the
validator (limits.violations) that checks every choice with plain arithmetic, never the solver
(the d-krupke/cpsat-primer examples/tdd structure).

The options come from the vectorised step model: plan/options.py evaluates every layout of
every candidate cluster size of every allowed accelerator and keeps, per size, the fastest
layout that fits in memory. At a fixed size cost and power only grow with wall-clock time, so
that layout dominates every other layout of the same size; one row per (accelerator, size) is
therefore enough. This module sees numpy arrays and limits only.

CP-SAT works on integers, at the resolutions of plan/limits.py: a need is rounded up and a limit
down, so a choice the solver accepts meets the limit in exact arithmetic too, and
``violations`` confirms it on the unrounded floats.

When no option meets the limits the answer says which limit binds and the smallest relaxation
that works: each limit is removed in turn (then pairs, and so on) and CP-SAT minimises what that
limit bounds under the limits that remain ("needs 212 MW, cap 150 MW"; "the fastest plan takes
131 days, deadline 90").
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from .limits import (
    SizingInstance,
    SizingSolution,
    cap_units,
    need_units,
    rank,
    resolution,
    solve_with,
)

__all__ = ["SolverSettings", "solve", "build_model", "status_name"]

# Solver settings, explicit so runs repeat (STYLE.md habit 11). A one-hot choice among a few
# hundred options is proved optimal in milliseconds; the limit only guards against misuse.
DEFAULT_TIME_LIMIT_S = 10.0
DEFAULT_WORKERS = 2  # the planner's reference machine has 2 cores
DEFAULT_SEED = 0


@dataclass(frozen=True)
class SolverSettings:
    """CP-SAT parameters every solve sets explicitly (sizing here; fleets in fleet/model.py)."""

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
        step = resolution(self.limit, inst.cap(self.limit))
        need = need_units(inst.need(self.limit), step)
        cap = cap_units(inst.cap(self.limit), step)
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
    """The objective (limits.rank: one integer per option, the optimum unique), or, when
    relaxing a limit, what that limit bounds first."""

    def __init__(self, minimise: str | None = None):
        self.minimise = minimise

    def build(self, inst, model, x):
        coef = rank(inst, self.minimise)
        return sum(int(coef[i]) * x[i] for i in range(inst.n))


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
    model.minimize(Minimise(minimise).build(inst, model, x))
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


# --- solution ---------------------------------------------------------------------------------

def solve(inst: SizingInstance, settings: SolverSettings = SolverSettings()) -> SizingSolution:
    """Choose the option with CP-SAT; say which limit binds and, when none meets the limits,
    the smallest relaxation that works (limits.solve_with: the same search as the numpy
    engine, CP-SAT answering each question). Every answer is checked by ``violations``."""
    return solve_with(inst, lambda i, relaxed=(), minimise=None: _run(i, settings, relaxed,
                                                                         minimise), settings)
