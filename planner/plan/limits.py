"""Limits and the options that meet them, without a solver.

An option is one way to run the plan: an accelerator, a cluster size and that size's best
layout, with its wall-clock days, cost and facility power. A sizing chooses one option under
the limits (deadline, power cap, budget, --max-gpus, inventory) by an objective (cost or time).
This module holds the option table (``SizingInstance``), the validator that checks a choice
with plain arithmetic (``violations``), the one wording of a broken limit (``breach_text``),
and the objective as integers (``rank``), which CP-SAT minimises in plan/sizing.py and which
``choose`` evaluates directly when only a deadline binds the choice.

CP-SAT works on integers. Each quantity has one named resolution (below); a need is rounded up
and a limit down, so a choice meeting the limit in integers meets it in exact arithmetic too,
and ``violations`` confirms it on the unrounded floats.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Mapping, NamedTuple

import numpy as np

from ..units import (
    fmt_days,
    fmt_days_bound,
    fmt_money,
    fmt_mw,
    fmt_mw_bound,
    rounded_at,
    sig3_step,
)

# Around the deadline, the bracket between the largest size missing it and the smallest
# meeting it is bisected until it is within 1/SIZE_RESOLUTION of the size (at least one unit):
# 1.6%, a few racks of a frontier cluster, one node of a small one (plan/options.walk; the
# budget's bracket likewise, plan/estimate.refine).
SIZE_RESOLUTION = 64

__all__ = ["LIMITS", "DAYS_RESOLUTION", "COST_RESOLUTION_USD", "POWER_RESOLUTION_MW",
           "GPU_RESOLUTION", "RESOLUTION", "RELATIVE_RESOLUTION", "resolution", "resolution_text",
           "SizingLimits",
           "SizingInstance", "Breach",
           "violations", "breaking", "breach_text", "relaxation_text", "need_units",
           "cap_units", "rank",
           "choose", "Relaxation", "SizingSolution", "solve", "solve_with", "run_numpy"]

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
RESOLUTION = {"deadline": DAYS_RESOLUTION, "power": POWER_RESOLUTION_MW,
              "budget": COST_RESOLUTION_USD, "max_gpus": GPU_RESOLUTION,
              "inventory": GPU_RESOLUTION}
# A limit is counted in steps of at most this share of itself: a $500 budget (or a 1-hour
# deadline, a 5 kW cap) is counted in finer steps than RESOLUTION's, a power of ten, so a plan
# inside it is never refused by the rounding (a $500 budget was $0 in whole $1,000s).
RELATIVE_RESOLUTION = 1e-4


def resolution_text(limit: str, step: float) -> str:
    """A limit's counting step in words: '$1,000', '$0.01', '0.01 day', '1 kW', '1 device'."""
    if limit == "budget":
        return f"${step:,.2f}".replace(".00", "")
    if limit == "deadline":
        return f"{step:g} day"
    if limit == "power":
        return f"{step * 1e3:g} kW"
    return f"{step:g} device"


def resolution(limit: str, cap: float) -> float:
    """The step a limit of value ``cap`` and the needs against it are counted in:
    RESOLUTION's, or a power of ten at most RELATIVE_RESOLUTION of a smaller cap."""
    step = RESOLUTION[limit]
    if limit in ("max_gpus", "inventory") or not (math.isfinite(cap) and cap > 0):
        return step
    return min(step, 10.0 ** math.floor(math.log10(cap * RELATIVE_RESOLUTION)))


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
        # what a choice asks of one instance again and again (each limit's test, the rank),
        # worked out once (a sizing's choice asks for every limit relaxed in turn)
        object.__setattr__(self, "_memo", {})

    def _once(self, make, *args) -> np.ndarray:
        """``make(self, *args)`` worked out once an instance, read-only (shared by every
        asker)."""
        memo = self.__dict__["_memo"]
        key = (make.__name__, *args)
        if key not in memo:
            value = make(self, *args)
            value.flags.writeable = False
            memo[key] = value
        return memo[key]

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

    def caps(self, limit: str):
        """The limit's value for every option: an array per option's accelerator for the
        inventory (once an instance), else the one value (cap)."""
        if limit != "inventory":
            return self.cap(limit)
        return self._once(SizingInstance._inventory_caps)

    def _inventory_caps(self) -> np.ndarray:
        return np.array([self.cap("inventory", i) for i in range(self.n)], dtype=float)

    def meets(self, relaxed: tuple[str, ...] = ()) -> np.ndarray:
        """Per option: whether it meets every limit (but those ``relaxed``) as CP-SAT sees it
        (plan/sizing.py): the need in whole units rounded up, the limit rounded down, an
        unknown need never meets. What meets them here also passes ``violations`` on the
        unrounded figures."""
        ok = np.ones(self.n, bool)
        for limit in self.limits.active():
            if limit not in relaxed:
                ok &= self._once(SizingInstance._meets, limit)
        return ok

    def _meets(self, limit: str) -> np.ndarray:
        """Per option: whether it meets ``limit`` (meets)."""
        if limit == "inventory":
            need = need_units(self.need(limit), GPU_RESOLUTION)
            cap = np.array([cap_units(c, 1) if math.isfinite(c) else np.iinfo(np.int64).max
                            for c in self.caps(limit).tolist()])
        else:
            step = resolution(limit, self.cap(limit))
            need = need_units(self.need(limit), step)
            cap = cap_units(self.cap(limit), step)
        return (need >= 0) & (need <= cap)

    def rows(self) -> dict:
        """The option table as columns (JSON-ready), with whether each meets the limits."""
        return {"accelerator": list(self.accelerator), "gpus": [int(g) for g in self.gpus],
                "training_days": [_num(x) for x in self.training_days],
                "cost_usd": [_num(x) for x in self.cost_usd],
                "power_mw": [_num(x) for x in self.power_mw],
                "meets_limits": [bool(x) for x in self.meets()]}


def _num(x) -> float | None:
    return float(x) if math.isfinite(x) else None


# --- the validator and the one wording ---------------------------------------------------

def broken(need, cap) -> np.ndarray:
    """Whether a need breaks its cap: an unknown need breaks any cap; no cap (inf or nan) is
    never broken. Vectorised over options or scenarios."""
    need, cap = np.asarray(need, dtype=float), np.asarray(cap, dtype=float)
    with np.errstate(invalid="ignore"):
        over = ~np.isfinite(need) | (need > cap * (1 + 1e-12))
    return over & np.isfinite(cap)


class Breach(NamedTuple):
    """A limit an option breaks: what it needs, what the limit allows, in words."""

    limit: str
    need: float
    cap: float
    text: str


def _usd(x: float, up: bool = False) -> str:
    """A budget or a cost as limits say it: '$15.2M' to a tenth of a million, fmt_money's
    text below; ``up``: a need rounded up at that precision (rounded_at)."""
    if up and math.isfinite(x) and x > 0:
        x = rounded_at(x, 1e5 if not x < 1e6 else 0.01 if x < 1e3 else sig3_step(x), True)
    return f"${x / 1e6:,.1f}M" if not abs(x) < 1e6 else fmt_money(x)


def _amounts(limit: str, need: float, cap: float, acc: str, gpus: int) -> tuple[str, str]:
    """(what the option needs, what the limit allows), in words: the need rounded up at the
    precision shown, so that giving it is enough ("takes 138.0 days" for 138.04 had left
    --deadline 138d infeasible), the cap as itself; where the two still read alike, the
    overshoot said ("need 2.0 MW (cap 2.0 MW)" had been printed)."""
    # a need within its cap (refused by the sizing's whole units: breach_text) is shown as
    # itself, not rounded up past the cap ("needs 59.4 MW ..., cap 59.3 MW" for 59.305
    # against 59.31: a review)
    up = not (math.isfinite(need) and math.isfinite(cap) and need <= cap)
    if limit == "deadline":  # below a day in hours (a 1 h deadline is not "0.0 days")
        need_text = fmt_days_bound(need, up=True) if up else fmt_days(need)
        cap_text = f"deadline {fmt_days(cap)}"
    elif limit == "power":  # below 1 MW in the unit that shows it (5 kW is not "0.0 MW")
        need_text, cap_text = (fmt_mw_bound(need, up=True) if up else fmt_mw(need),
                               f"cap {fmt_mw(cap)}")
    elif limit == "budget":
        need_text, cap_text = _usd(need, up=up), f"budget {_usd(cap)}"
    elif limit == "max_gpus":
        return f"{gpus:,} devices", f"--max-gpus {int(cap):,}"
    else:
        return f"{gpus:,} {acc}", f"inventory {int(cap):,}"
    if math.isfinite(need) and math.isfinite(cap) and need > cap > 0 and \
            cap_text.endswith(" " + need_text):
        # rounded alike ("needs 1.0 MW, cap 1.0 MW"): the overshoot says which side it is on
        need_text += f" ({(need / cap - 1.0) * 100:.2g}% over)"
    return need_text, cap_text


def count_breach_text(gpus: int, limit: str, cap: float) -> str:
    """A device count past --max-gpus or the inventory, said beside a plan's other reason
    (memory, failures): '8,192 devices break --max-gpus 4,096'."""
    return (f"{gpus:,} devices break {'--max-gpus' if limit == 'max_gpus' else 'the inventory'}"
            f" {int(cap):,}")


def breach_text(limit: str, need: float, cap: float, acc: str, gpus: int,
                within: bool = False) -> str:
    """One limit broken by ``gpus`` x ``acc``: 'needs 212.0 MW (65,536 x b200), cap 150.0
    MW'; 'the fastest plan takes 131.0 days (...), deadline 90.0 days'. ``within``: the option
    meets every other limit given."""
    need_text, cap_text = _amounts(limit, need, cap, acc, gpus)
    if math.isfinite(need) and math.isfinite(cap) and need <= cap and \
            limit in ("budget", "deadline", "power"):
        # within the limit, refused by the sizing's whole units (need up, limit down)
        step = resolution(limit, cap)
        allowed = cap_units(cap, step) * step
        shown = {"budget": f"${allowed:,.2f}", "deadline": f"{allowed:,.6g} days",
                 "power": f"{allowed * 1e3:,.6g} kW"}[limit]
        cap_text += f", counted by the sizing in whole {resolution_text(limit, step)}s: {shown}"
    if not math.isfinite(need):
        what = {"deadline": "training time", "power": "power", "budget": "cost"}[limit]
        hint = ("the cost line names the figure missing: a device price or the site's "
                "capex_usd_per_mw, sourced, with --catalog; or --price-per-gpu-hour"
                if limit == "budget" else "a sourced figure with --catalog")
        return (f"the {what} of {gpus:,} x {acc} is unknown ({hint}), so it cannot be shown "
                f"to meet the {cap_text}")
    where = f"{gpus:,} x {acc}" + (", meeting the other limits" if within else "")
    if limit == "deadline":
        return f"the fastest plan takes {need_text} ({where}), {cap_text}"
    if limit == "budget":
        return f"the cheapest plan costs {need_text} ({where}), {cap_text}"
    if limit == "power":
        return f"needs {need_text} ({where}), {cap_text}"
    if limit == "max_gpus":
        return f"needs {need_text} ({where.split(' x ')[1]}), {cap_text}"
    return f"needs {need_text}" + (" (meeting the other limits)" if within else "") + \
        f", {cap_text}"


def relaxation_text(inst: SizingInstance, limits: tuple[str, ...], i: int) -> str:
    """What option i needs of each limit in ``limits`` (relaxed together), in words."""
    acc, gpus = inst.accelerator[i], int(inst.gpus[i])
    within = any(k not in limits for k in inst.limits.active())
    if len(limits) == 1:
        text = breach_text(limits[0], float(inst.need(limits[0])[i]),
                           inst.cap(limits[0], i), acc, gpus, within)
        return text + (_untried_between(inst, i) if within and limits == ("deadline",)
                       else "")
    texts = [_amounts(k, float(inst.need(k)[i]), inst.cap(k, i), acc, gpus) for k in limits]
    needs = ", ".join(f"{need} ({cap})" for need, cap in texts)
    return (f"relaxing {' and '.join(limits)} together: {gpus:,} x {acc}"
            f"{' meeting the other limits' if within else ''} needs {needs}")


def _untried_between(inst: SizingInstance, i: int) -> str:
    """'; for that run, sizes between 24,576 and 49,152 x b200 were not tried (49,152 takes
    152.3 days but breaks the budget)': where option i is the fastest within the other limits
    and the next larger size tried of its accelerator is faster but over the budget, the
    fastest within
    the budget lies between the two, at a size the sizing's walk did not reach: the walk
    tries sizes by their days alone (plan/options.walk), and turns the power cap, --max-gpus
    and inventory into sizes it tries (plan/estimate._caps), but no budget; "" otherwise."""
    days, gpus = inst.training_days, inst.gpus
    mine = np.asarray(inst.accelerator) == inst.accelerator[i]
    above = np.flatnonzero(mine & (gpus > gpus[i]) & (days < days[i]))
    if not above.size:
        return ""
    j = int(above[np.argmin(gpus[above])])
    # the budget alone: a size between may be faster than i within the budget ("the fastest
    # plan takes" i's days is then an upper bound); a power cap, --max-gpus or inventory that
    # j breaks had its own size tried (plan/estimate._caps), so nothing between is said
    breaks = violations(inst, j, ignore=("deadline",))
    if breaks and "budget" not in [b.limit for b in breaks]:
        # a cap (power, --max-gpus, inventory) stops the cluster short of a faster size: said,
        # since the cap, not the device count, is what a buyer would move (1T on 15T tokens
        # in 40 days at a site of 150 MW had named the deadline alone)
        texts = [_amounts(b.limit, b.need, b.cap, inst.accelerator[j], int(gpus[j]))
                 for b in breaks]
        return (f"; a larger cluster runs faster but breaks a limit: {int(gpus[j]):,} x "
                f"{inst.accelerator[i]} take {fmt_days(float(days[j]))} and need "
                + " and ".join(f"{need} ({cap})" for need, cap in texts))
    if [b.limit for b in breaks] != ["budget"]:
        return ""
    between = sorted(int(g) for g in gpus[mine & (gpus > gpus[i]) & (gpus < gpus[j])])
    cuts = [int(gpus[i]), *between, int(gpus[j])]
    if max(b - a for a, b in zip(cuts, cuts[1:])) <= int(gpus[j]) // SIZE_RESOLUTION:
        return ""  # bisected to the sizing's resolution (estimate.refine): nothing left out
    tried = (f" other than {', '.join(f'{g:,}' for g in between)}" if between else "")
    return (f"; for that run, sizes between {int(gpus[i]):,} and {int(gpus[j]):,} x "
            f"{inst.accelerator[i]}{tried} were not tried ({int(gpus[j]):,} takes "
            f"{fmt_days(float(days[j]))}"
            # a faster size may still miss the deadline: "but" had read as meeting it
            + (", still past the deadline, and breaks the budget)"
               if inst.limits.deadline_days is not None
               and float(days[j]) > inst.limits.deadline_days else " but breaks the budget)"))


def violations(inst: SizingInstance, i: int, ignore: tuple[str, ...] = ()) -> list[Breach]:
    """Every limit option i breaks, worded; an unknown need breaks its limit."""
    out = []
    for limit in inst.limits.active():
        if limit in ignore:
            continue
        need, cap = float(inst.need(limit)[i]), inst.cap(limit, i)
        if broken(need, cap):
            out.append(Breach(limit, need, cap, breach_text(
                limit, need, cap, inst.accelerator[i], int(inst.gpus[i]))))
    return out


def breaking(inst: SizingInstance, ignore: tuple[str, ...] = ()) -> np.ndarray:
    """Per option: whether it breaks a limit (those in ``ignore`` aside), as ``violations``
    finds it (non-empty), for every option at once and without the words."""
    out = np.zeros(inst.n, bool)
    for limit in inst.limits.active():
        if limit in ignore:
            continue
        out |= broken(inst.need(limit), inst.caps(limit))
    return out


# --- the objective as integers ------------------------------------------------------------

def need_units(values, resolution: float) -> np.ndarray:
    """Needs in integer units, rounded up (never understate a need); nan -> -1 (unknown).
    Rounding to 9 significant decimals first keeps float noise (100.0000000001) from
    pushing an exact value over its limit."""
    v = np.asarray(values, dtype=float) / resolution
    out = np.full(v.shape, -1, dtype=np.int64)
    known = np.isfinite(v)
    out[known] = np.ceil(np.round(np.minimum(v[known], UNITS_CEILING), 9)).astype(np.int64)
    return out


def cap_units(value: float, resolution: float) -> int:
    """A limit in integer units, rounded down (never overstate what is allowed)."""
    return int(math.floor(round(min(value / resolution, UNITS_CEILING - 1), 9)))


# Needs and limits in units are held below 2^50: past every limit the inputs allow (a $1,000T
# budget is 1e12 units of $1,000; 10 TW is 1e10 units of 1 kW; a century 3.65e6 units of
# 0.01 day), so a need clipped there still breaks every limit, and CP-SAT's sums and the
# objective (units x options) stay far inside its 64-bit integers.
UNITS_CEILING = 2.0**50


def objective_columns(inst: SizingInstance, minimise: str | None = None):
    """(primary, resolution, tie-breakers) of the objective: cost, then device-hours (what a
    cost is made of, so an option whose price is unknown is ranked as the cheapest would be:
    the fewest device-hours, not the fastest), then time; or time then cost; when relaxing a
    limit, what that limit bounds first, then the plan's objective."""
    cost, days = inst.cost_usd, inst.training_days
    device_days = inst.gpus * days
    main = ([cost, device_days, days], COST_RESOLUTION_USD) if inst.objective == "cost" else \
        ([days, cost], DAYS_RESOLUTION)
    if minimise is None:
        return main[0][0], main[1], main[0][1:]
    if minimise == "inventory":
        over = np.array([inst.gpus[i] - inst.cap("inventory", i) for i in range(inst.n)])
        return np.maximum(over, 0.0), GPU_RESOLUTION, main[0]
    return inst.need(minimise), RESOLUTION[minimise], main[0]


def rank(inst: SizingInstance, minimise: str | None = None) -> np.ndarray:
    """The lexicographic objective folded into one integer per option: primary units x n +
    the option's rank by the tie-breakers (secondary quantity, fewer devices, accelerator
    key), so the optimum is unique and runs repeat exactly. Options whose primary is unknown
    rank after every known one. Worked out once an instance and question (read-only)."""
    return inst._once(_rank, minimise)


def _rank(inst: SizingInstance, minimise: str | None) -> np.ndarray:
    primary, resolution, tiebreak = objective_columns(inst, minimise)
    units = need_units(primary, resolution)
    top = int(units.max()) + 1 if units.size and units.max() >= 0 else 0
    units = np.where(units < 0, top, units)
    keys = [np.asarray(inst.accelerator), inst.gpus.astype(float)]
    keys += [np.where(np.isfinite(t), t, np.inf) for t in reversed(tiebreak)]
    keys.append(np.where(np.isfinite(primary), primary, np.inf))
    order = np.lexsort(keys)  # last key is the primary
    position = np.empty(inst.n, dtype=np.int64)
    position[order] = np.arange(inst.n)
    return units * inst.n + position


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
    settings: object = None  # the solver's settings (CP-SAT: plan/sizing.SolverSettings)

    def summary(self, inst: SizingInstance) -> dict:
        """The choice in JSON-ready form (solver, status, settings, resolutions, limits,
        options)."""
        solver = ({"solver": "CP-SAT"} if self.settings is not None else
                  {"solver": "none: the options ranked with numpy (the solver's objective)"})
        return {**solver, "status": self.status, "objective": inst.objective,
                "feasible": self.feasible, "binding": self.binding, "tight": list(self.tight),
                "chosen": self.index, "solve_time_s": self.solve_time_s,
                # the solver's settings, null when no solver ran (the same keys either way)
                **(self.settings.to_dict() if self.settings is not None else
                   {"time_limit_s": None, "workers": None, "seed": None}),
                "resolution": {"training_days": resolution("deadline", inst.cap("deadline")),
                               "cost_usd": resolution("budget", inst.cap("budget")),
                               "power_mw": resolution("power", inst.cap("power")),
                               "gpus": GPU_RESOLUTION},
                "limits": inst.limits.to_dict(),
                "relaxations": [r.to_dict() for r in self.relaxations],
                "options": inst.rows()}


def choose(inst: SizingInstance) -> int | None:
    """The option CP-SAT would choose (the least ``rank`` among those meeting every limit),
    found with numpy; None when none meets them."""
    ok = inst.meets()
    if not ok.any():
        return None
    coef = rank(inst)
    return int(np.flatnonzero(ok)[np.argmin(coef[ok])])


def meets_except(inst: SizingInstance, relaxed: tuple[str, ...] = ()) -> np.ndarray:
    """Per option: whether it meets every limit not in ``relaxed`` (the solver's integers)."""
    return inst.meets(relaxed)


def run_numpy(inst: SizingInstance, relaxed: tuple[str, ...] = (),
              minimise: str | None = None) -> tuple[str, int | None, float]:
    """One question of ``solve_with``, answered with numpy: the least rank (limits.rank, the
    objective CP-SAT minimises) among the options meeting the limits not relaxed."""
    if inst.n == 0:
        return "INFEASIBLE", None, 0.0
    ok = meets_except(inst, relaxed)
    if not ok.any():
        return "INFEASIBLE", None, 0.0
    coef = rank(inst, minimise)
    return "OPTIMAL", int(np.flatnonzero(ok)[np.argmin(coef[ok])]), 0.0


def solve(inst: SizingInstance) -> SizingSolution:
    """The choice CP-SAT makes (plan/sizing.solve), with numpy: the same questions, each
    answered by enumerating the options (a one-of-n choice needs no search)."""
    return solve_with(inst, run_numpy)


def _relax(inst: SizingInstance, run) -> tuple[list[Relaxation], float]:
    """The smallest sets of limits whose relaxation admits an option, and by how much."""
    active = inst.limits.active()
    spent = 0.0
    for size in range(1, len(active) + 1):
        found = []
        for subset in itertools.combinations(active, size):
            best = None
            for limit in subset:
                status, i, wall = run(inst, relaxed=subset, minimise=limit)
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
                found.append(Relaxation(subset, i, needed, excess,
                                        relaxation_text(inst, subset, i)))
        if found:
            order = {k: n for n, k in enumerate(LIMITS)}
            found.sort(key=lambda r: (r.excess, [order[k] for k in r.limits]))
            return found, spent
    return [], spent


def _gain(columns: list, i: int, j: int) -> tuple[int, float] | None:
    """(column, gain) where option j is better than option i by the objective's columns taken
    in order (the first whose figures differ beyond float noise decides), else None."""
    for c, col in enumerate(columns):
        a, b = float(col[i]), float(col[j])
        if not (math.isfinite(a) or math.isfinite(b)):
            continue  # both unknown (no price): the next column decides
        if not (math.isfinite(a) and math.isfinite(b)):
            # an unknown figure ranks after every known one, as the solver ranks it (rank)
            return (c, math.inf) if math.isfinite(b) else None
        if abs(a - b) > 1e-9 * max(abs(a), abs(b), 1.0):
            return (c, a - b) if b < a else None
    return None


def solve_with(inst: SizingInstance, run, settings=None) -> SizingSolution:
    """Choose the option; say which limit binds and, when none meets the limits, the smallest
    relaxation that works. ``run(inst, relaxed=(), minimise=None)`` answers one question
    ((status, option index or None, seconds): the best option under the limits not relaxed,
    by the objective or by what ``minimise`` bounds): numpy (``run_numpy``) or CP-SAT
    (plan/sizing.py). Every answer is checked by ``violations``."""
    status, i, spent = run(inst)
    if i is not None:
        broken = violations(inst, i)
        if broken:  # the rounding is conservative, so this would be a bug in the model
            raise RuntimeError(f"CP-SAT chose option {i}, which breaks {broken}")
        # A limit binds when removing it would give a better plan; the one whose removal
        # gains most is named (ties in LIMITS order). Better by the objective's exact figures,
        # in its order (cost, then device-days, then days; or days, then cost): the solver's
        # whole $1,000 units had hidden a $604 gain (binding null at $1/device-h, "deadline" at
        # $2 for the same plan), and a price of 0 every cost gain
        primary, _, tiebreak = objective_columns(inst)
        columns = [primary, *tiebreak]
        gains = []
        for limit in inst.limits.active():
            st, j, wall = run(inst, relaxed=(limit,))
            spent += wall
            gain = None if j is None else _gain(columns, i, j)
            if gain is not None:
                gains.append((gain, limit))
        tight = tuple(k for _, k in sorted(gains, key=lambda g: (g[0][0], -g[0][1],
                                                                 LIMITS.index(g[1]))))
        return SizingSolution(status, i, True, tight[0] if tight else None, None, tight,
                              (), spent, settings)
    if status == "UNKNOWN":
        return SizingSolution(status, None, False, "time_limit", "no option found within the time "
                              f"limit of {settings.time_limit_s:g} s; infeasibility not proven",
                              solve_time_s=spent, settings=settings)
    relaxations, more = _relax(inst, run)
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
