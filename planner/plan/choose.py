"""The choice among a plan's options: a given size judged against the limits, or the option a
sizing chooses under them (numpy for a deadline alone, CP-SAT under other limits, several
accelerators or the time objective: limits.solve_with's questions either way), with the
binding limit and why (plan/assemble.py's wording), and the summary the sizing chart draws."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from ..assumptions import Assumptions
from ..errors import InputError, LayoutError
from ..model.search import ERROR, FITS, NO_FIT, NO_LAYOUT, NO_STEP
from ..units import SECONDS_PER_DAY
from .assemble import (
    frontier,
    judge,
    no_fit_reason,
    no_fit_reasons,
    reliability_reason,
    size_notes,
)
from .layout_inputs import layout_text, no_layout_hint
from .limits import (
    SizingInstance,
    SizingLimits,
    count_breach_text,
    resolution,
    resolution_text,
    solve,
)
from .options import Options
from .quantities import Limits


def sizing_limits(limits: Limits, asm: Assumptions, default_deadline: bool) -> SizingLimits:
    """The limits in the sizing's units. Minimising cost needs a deadline (else the cheapest
    plan is the smallest cluster taking years): the default deadline applies."""
    deadline = limits.deadline_s / SECONDS_PER_DAY if limits.deadline_s is not None else None
    if deadline is None and default_deadline:
        deadline = asm.deadline_days
    return SizingLimits(
        deadline_days=deadline, budget_usd=limits.budget_usd,
        power_cap_mw=limits.power_cap_w / 1e6 if limits.power_cap_w is not None else None,
        max_gpus=limits.max_gpus, inventory=dict(limits.inventory))


@dataclass
class Choice:
    index: int
    feasible: bool
    binding: str | None
    reason: str | None
    summary: dict | None = None
    label: str | None = None  # the sizing line of the assumptions table
    limits: SizingLimits = SizingLimits()  # what the choice was made under
    objective: str = "cost"


@dataclass
class Setup:
    """How a request is planned: a given size, or a sizing with its deadline, caps, density
    and hints; the cost method; the limits in the sizing's units and the objective."""

    n_gpus: int | None
    method: int
    slim: SizingLimits
    objective: str
    wants_solver: bool
    deadline_days: float | None = None
    caps: dict = field(default_factory=dict)
    dense: bool = False
    hints: dict | None = None


def decide(req, st: Setup, opts: Options, engine: str) -> Choice:
    """The option chosen, with the binding limit and why."""
    limits, sides, asm = req.limits, req.sides, req.asm
    if st.n_gpus is not None:
        refuse_unusable(opts, req.w, st.n_gpus, req.fixed)
        if len(sides) == 1:
            choice = _judged(opts, st.slim, limits, asm)
        else:
            choice = _chosen(opts, st.slim, st.objective, asm, cp_sat=engine != "numpy")
            if choice.feasible and choice.binding is None:
                choice.binding = "gpus"  # the size given binds, as it does on one accelerator
    else:
        cp_sat = engine == "cp-sat" or (engine == "auto" and (
            limits.caps_size or len(sides) > 1 or limits.objective == "time"))
        choice = _chosen(opts, st.slim, st.objective, asm, cp_sat=cp_sat,
                         summary=True)
        # (the default deadline binds as a given one does, by the sizing's own test: a plan
        # well inside it, the cheapest of all sizes, has no binding limit)
        # a missed deadline that no other limit caused (without caps, or the fastest option
        # of all is the one that missed it): why more devices would not help
        if choice.binding == "deadline" and not choice.feasible and (
                not limits.caps_size or choice.index == _fastest_index(opts)):
            cause = (frontier(opts.cols, choice.index, _next_larger(opts, choice.index))
                     if opts.fits[choice.index] else None)
            if cause is not None:
                choice.binding, choice.reason = cause[0], f"{choice.reason}: {cause[1]}"
    choice.limits, choice.objective = st.slim, limits.objective or "cost"
    return choice


def _next_larger(opts: Options, i: int) -> int | None:
    """The option of the same accelerator with the fewest devices above option i's among
    those a layout runs (None: none)."""
    gpus = np.asarray(opts.gpus)
    mine = np.flatnonzero(np.asarray(opts.fits) & (np.asarray(opts.side) == opts.side[i])
                          & (gpus > gpus[i]))
    return int(mine[np.argmin(gpus[mine])]) if mine.size else None


def _fastest_index(opts: Options) -> int | None:
    """The option that finishes soonest among those a layout runs (None: none runs)."""
    days = np.where(opts.fits, np.asarray(opts.cols["training_days"], dtype=float), np.inf)
    return int(np.argmin(days)) if np.isfinite(days).any() else None


def refuse_unusable(opts: Options, w, n_gpus: int, fixed: dict) -> None:
    """A given size no layout can use, or inputs no layout can hold, is a user error."""
    for i, state in enumerate(opts.best.state.tolist()):
        if state == ERROR:
            raise LayoutError(opts.best.errors[i])
        if state == NO_LAYOUT:
            side = opts.sides[int(opts.side[i])]
            raise InputError("--layout" if fixed else "--gpus", layout_text(fixed) or n_gpus,
                             no_layout_hint(w, n_gpus, fixed, side.unit,
                                            side.hw.scale_up_domain))


def instance_of(opts: Options, rows: np.ndarray, slim: SizingLimits,
              objective: str) -> SizingInstance:
    c = opts.cols
    return SizingInstance(opts.accelerators()[rows], opts.gpus[rows],
                          c["training_days"][rows], c["cost_usd_total"][rows],
                          c["power_mw"][rows], slim, objective)


def _given_caps(opts: Options, slim: SizingLimits, limits: Limits) -> dict:
    """What a given size on one accelerator is judged against (None: no such limit)."""
    return {"deadline": slim.deadline_days, "power": slim.power_cap_mw,
            "budget": slim.budget_usd, "max_gpus": slim.max_gpus,
            "inventory": dict(limits.inventory).get(opts.sides[0].acc.key)}


def meets_limits(opts: Options, slim: SizingLimits, limits: Limits,
                 asm: Assumptions) -> np.ndarray:
    """Per option of one accelerator at given sizes, whether a plan on that size is feasible:
    a layout runs it and it meets every limit, as ``_judged`` judges one size (a fleet's
    counts: largest_run.fleet_count)."""
    caps = _given_caps(opts, slim, limits)
    n = len(opts.gpus)
    lim = {k: np.full(n, np.nan if v is None else float(v)) for k, v in caps.items()}
    feasible, _, _ = judge(opts.cols, lim, opts.accelerators(), "gpus", asm, texts=False)
    return np.asarray(feasible, bool) & opts.fits


def _judged(opts: Options, slim: SizingLimits, limits: Limits, asm: Assumptions) -> Choice:
    """A given size on one accelerator: the limits judge it, none chooses."""
    caps = _given_caps(opts, slim, limits)
    if not opts.fits[0]:
        unfit = _unfit(opts, asm)
        # a count over --max-gpus or the inventory is said beside the memory (--gpus 8
        # --max-gpus 4 had named the memory alone)
        gpus = int(opts.gpus[0])
        over = [count_breach_text(gpus, k, caps[k]) for k in ("max_gpus", "inventory")
                if caps[k] is not None and gpus > caps[k]]
        return replace(unfit, reason="; ".join([unfit.reason, *over])) if over else unfit
    lim = {k: np.array([np.nan if v is None else float(v)]) for k, v in caps.items()}
    rows = {**opts.cols, "training_days": opts.cols["training_days"]}
    feasible, binding, reason = judge(rows, lim, opts.accelerators(), "gpus", asm)
    return Choice(0, bool(feasible[0]), binding[0], reason[0])


def _unfit(opts: Options, asm: Assumptions, max_gpus: int | None = None) -> Choice:
    """No option runs: why, on each accelerator (side_unfit); with several, the one that comes
    closest is the answer's and the reason speaks for all of them (four accelerators on 16
    devices had named H100's 80 GB alone, as if the others had not been asked)."""
    if len(opts.sides) < 2:
        return side_unfit(opts, 0, asm, max_gpus)
    each = [side_unfit(opts, s, asm, max_gpus) for s in range(len(opts.sides))
            if (opts.side == s).any()]
    closest = min(each, key=lambda c: unfit_gap(opts, c.index))
    return replace(closest, reason=no_fit_reasons(
        [(opts.sides[int(opts.side[c.index])].acc, int(opts.gpus[c.index]), c.binding,
          c.reason, float(opts.best.lean_bytes[c.index])) for c in each]))


def unfit_gap(opts: Options, i: int) -> float:
    """How far option i is from running: 0 where a layout fits (failures outpace restarts),
    the leanest layout's memory over the device's HBM where that is known, else inf."""
    if opts.best.state[i] == FITS:
        return 0.0
    lean = float(opts.best.lean_bytes[i])
    hbm = float(opts.sides[int(opts.side[i])].acc.hbm_bytes)
    return lean / hbm if opts.best.state[i] == NO_FIT and np.isfinite(lean) and hbm > 0 \
        else np.inf


def side_unfit(opts: Options, s: int, asm: Assumptions, max_gpus: int | None = None) -> Choice:
    """Why no option of accelerator (side) ``s`` runs, at the largest size tried within
    ``max_gpus`` (--max-gpus, where any size tried is within it), or, where that size has no
    reason but "no valid layout", at the largest that has one (it fails faster than it
    restarts, its memory shortfall has a figure, or a bandwidth is unknown): a batch too small
    to split over a million devices had read "no valid layout for this cluster" past the
    user's own limit, where 1,268 GB against 80 GB, or failures outpacing restarts, is the
    answer."""
    rows = np.flatnonzero(opts.side == s)
    if max_gpus is not None and (opts.gpus[rows] <= max_gpus).any():
        rows = rows[opts.gpus[rows] <= max_gpus]
    state, lean = opts.best.state[rows], opts.best.lean_bytes[rows]
    has_reason = (state == FITS) | (state == NO_STEP) | ((state == NO_FIT) & np.isfinite(lean))
    largest = int(np.argmax(opts.gpus[rows]))
    i = int(rows[largest])
    if has_reason.any() and not has_reason[largest] and \
            opts.sides[int(opts.side[i])].acc.scale_out_bytes_per_s:
        i = int(rows[has_reason][np.argmax(opts.gpus[rows][has_reason])])
    sd = opts.sides[int(opts.side[i])]
    if opts.best.state[i] == FITS:  # it fits, but fails faster than it restarts
        return Choice(i, False, "reliability", reliability_reason(
            int(opts.gpus[i]), float(opts.cols["reliability_mtbf_s"][i]), asm,
            float(opts.cols["reliability_checkpoint_interval_s"][i])))
    binding, reason = no_fit_reason(int(opts.best.state[i]), float(opts.best.lean_bytes[i]),
                                    sd.acc.key, sd.acc.hbm_bytes,
                                    bool(sd.acc.scale_out_bytes_per_s))
    return Choice(i, False, binding, reason)


def _chosen(opts: Options, slim: SizingLimits, objective: str, asm: Assumptions,
            cp_sat: bool, summary: bool = True) -> Choice:
    """The option chosen among those that run, by CP-SAT (``cp_sat``) or by numpy (the same
    questions, limits.solve_with)."""
    rows = np.flatnonzero(opts.fits)
    if not rows.size:
        return _unfit(opts, asm, slim.max_gpus)
    inst = instance_of(opts, rows, slim, objective)
    if cp_sat:
        from . import sizing  # CP-SAT (and OR-Tools) only on the paths that use it

        sol = sizing.solve(inst, sizing.SolverSettings())
        settings = sol.settings
        label = (f"CP-SAT {sol.status}: {objective} among the {inst.n} sizes tried of "
                 f"{', '.join(dict.fromkeys(inst.accelerator))}")
        steps = ", ".join(resolution_text(k, resolution(k, inst.cap(k)))
                          for k in ("deadline", "budget", "power", "max_gpus"))
        source = (f"plan/sizing.py; time limit {settings.time_limit_s:g} s, {settings.workers} "
                  f"workers, seed {settings.seed}; resolutions {steps}")
    else:
        sol = solve(inst)
        label = (f"{sol.status}: {objective} among the {inst.n} sizes tried of "
                 f"{', '.join(dict.fromkeys(inst.accelerator))}, ranked with numpy")
        source = ("plan/limits.py: the solver's objective and questions, each answered by "
                  "enumerating the options (a one-of-n choice needs no search)")
    if sol.index is None:  # nothing to choose (unknown figures, time limit)
        i = int(rows[np.argmin(opts.cols["wall_s"][rows])])
        return Choice(i, False, sol.binding, sol.reason, sol.summary(inst) if summary else None,
                      label)
    choice = Choice(int(rows[sol.index]), sol.feasible, sol.binding, sol.reason,
                    sol.summary(inst) if summary else None, label)
    if summary:
        choice.summary["source"] = source
        # poor sizes (a smaller cluster finishes sooner) and why: the chart's envelope
        poor, notes = size_notes(_Taken(opts.cols, rows), opts.accelerators()[rows])
        choice.summary["options"]["poor"] = poor.tolist()
        choice.summary["options"]["note"] = notes
    return choice


class _Taken(Mapping):
    """Columns at ``rows``, each taken when read: size_notes reads a few of an option
    table's ~200 columns (a plan's time had gone on taking them all)."""

    def __init__(self, cols: dict, rows: np.ndarray):
        self._cols, self._rows = cols, rows

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name][self._rows]

    def __iter__(self):
        return iter(self._cols)

    def __len__(self) -> int:
        return len(self._cols)
