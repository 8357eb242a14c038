"""The options of a plan: candidate cluster sizes of each accelerator, each with its best
layout and its run, evaluated together.

One size search serves every plan: a given device count (one size), a layout that fixes the
size, or a sizing. A sizing evaluates a ladder of sizes in whole size units (quarter octaves:
1, 1.25, 1.5, 1.75 x a power of two), from the size whose ideal time (every device at its dense
peak) is twice the deadline, up until the curve of days against size has turned back up; the
largest size each cap allows (power, --max-gpus, inventory); and, around the deadline, every
size between the largest ladder size missing it and the smallest meeting it, so the smallest
cluster meeting the deadline is found to the unit. Every round scores all its sizes' layouts in
one step-model evaluation (model/search.py) and runs the run model over all of them at once
(plan/assemble.py).

Layout searches are shared inside ``shared_searches`` (a memo of scored keys), so scenarios of
one workload and cluster, the probes of an inverse plan and a fleet's options score each
(workload, cluster, size, layout parts) once.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np

from ..assumptions import Assumptions
from ..model.flops import model_flops_per_token
from ..model.search import FITS, Best, SearchKey, best_layouts
from ..model.step import Hardware
from ..specs import Accelerator, Network, Site, Workload
from ..units import SECONDS_PER_DAY
from .assemble import run_figures, steady_state
from .cluster import size_unit

# Sizes whose ideal time (every device at its dense peak, MFU 1) exceeds twice the deadline
# are no options: no real MFU brings them within it. The factor 2 keeps part of the curve
# beyond the deadline for the plot and for the relaxation messages.
SIZE_HORIZON_FACTOR = 2.0
# The ladder's first round spans this many octaves above its start; later rounds add as many
# again while the fastest size is still near the top.
SIZE_OCTAVES = 6
# Around the deadline, brackets of at most this many units are filled in whole; wider ones
# are cut into this many steps per round until they are.
SIZE_REFINE_STEPS = 24


_SHARED: ContextVar[dict | None] = ContextVar("planner_shared_searches", default=None)


@contextmanager
def shared_searches(memo: dict | None = None):
    """Inside this block a layout search with the same inputs as an earlier one reuses it, so
    many scenarios on one workload and cluster search once. ``memo`` (a dict the caller keeps)
    carries the searches from one block to the next; without it an enclosing block's memo, if
    any, is kept."""
    token = _SHARED.set(memo if memo is not None else (_SHARED.get() or {}))
    try:
        yield
    finally:
        _SHARED.reset(token)


def shared_memo() -> dict | None:
    return _SHARED.get()


@dataclass
class Side:
    """One accelerator a plan may run on: its networks, the step model's view of it and the
    run model's inputs (prices, PUE, power, checkpoint), with what they assumed."""

    acc: Accelerator
    up: Network | None
    out: Network | None
    hw: Hardware
    inputs: dict
    used: dict
    site: Site | None


@dataclass
class Options:
    """Options of a plan (one per accelerator and size): ``side`` (index into ``sides``),
    ``gpus``, ``best`` (their best layouts) and ``cols`` (assembled figures)."""

    sides: list
    side: np.ndarray
    gpus: np.ndarray
    best: Best
    cols: dict = field(default_factory=dict)
    fixed: tuple = ()  # the layout parts given, sorted (name, value) pairs
    allow_tp: bool = False

    @property
    def fits(self) -> np.ndarray:
        """Options with a layout that runs and a finite run (goodput above zero)."""
        return (self.best.state == FITS) & np.isfinite(self.cols["wall_s"])

    def accelerators(self) -> np.ndarray:
        return np.array([s.acc.key for s in self.sides], dtype=object)[self.side]


def evaluate(w: Workload, sides: list, side: np.ndarray, gpus: np.ndarray, fixed: dict,
             asm: Assumptions, allow_tp: bool, method: int, methods: tuple) -> Options:
    """Score and assemble the options (side[i], gpus[i]): one layout evaluation for all."""
    fixed_t = tuple(sorted(fixed.items()))
    keys = [SearchKey(w.architecture, w.seq_len, w.global_batch_tokens, sides[s].hw, int(g),
                      fixed_t, allow_tp) for s, g in zip(side.tolist(), gpus.tolist())]
    best = best_layouts(keys, asm, shared_memo())
    peak = np.array([sd.hw.peak_flops for sd in sides])[side]
    cols = steady_state(best, peak)
    devices = np.where(best.state == FITS, gpus, np.nan)
    inputs = {k: np.array([sd.inputs[k] for sd in sides], dtype=float)[side]
              for k in sides[0].inputs}
    cols.update(run_figures(devices, w.tokens, cols["tokens_per_s"],
                            cols["model_flops_per_token"], cols["hardware_flops_per_token"],
                            inputs, asm, method, methods))
    cols["cluster_gpus"] = gpus.astype(float)
    cols["workload_seq_len"] = np.full(len(gpus), float(w.seq_len))
    cols["workload_global_batch_tokens"] = cols["batch_seqs"] * w.seq_len
    return Options(sides, side, gpus, best, cols, fixed_t, allow_tp)


def merge(a: Options, b: Options) -> Options:
    """Two sets of options as one, ordered by accelerator then size (no size twice)."""
    side = np.concatenate([a.side, b.side])
    gpus = np.concatenate([a.gpus, b.gpus])
    keys = side.astype(np.int64) * (1 << 40) + gpus
    _, first = np.unique(keys, return_index=True)
    best = Best.concat([a.best, b.best]).take(first)
    cols = {k: np.concatenate([np.asarray(a.cols[k]), np.asarray(b.cols[k])])[first]
            for k in a.cols}
    return Options(a.sides, side[first], gpus[first], best, cols, a.fixed, a.allow_tp)


def ladder(k_lo: int, k_hi: int) -> list[int]:
    """Quarter-octave sizes in units (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, ...) in
    [k_lo, k_hi]."""
    ks, a = set(), 0
    while (4 << a) // 4 <= k_hi:
        ks |= {(m << a) // 4 for m in (4, 5, 6, 7) if (m << a) % 4 == 0}
        a += 1
    return sorted(k for k in ks if k_lo <= k <= k_hi)


def sized(w: Workload, sides: list, fixed: dict, asm: Assumptions, allow_tp: bool,
          deadline_days: float | None, caps: dict, method: int, methods: tuple) -> Options:
    """The options of a sizing (module docstring). ``caps`` maps a side to the device counts
    its limits allow (power cap, --max-gpus, inventory)."""
    horizon_s = (deadline_days or asm.deadline_days) * SECONDS_PER_DAY
    run_flops = float(model_flops_per_token(w.architecture, w.seq_len)) * w.tokens
    plan: list[tuple[int, int]] = []  # (side, units) still to evaluate
    units, tops = [], []
    for s, sd in enumerate(sides):
        unit = size_unit(sd.acc)
        k_top = max(1, asm.max_gpus // unit)
        ideal = run_flops / (sd.acc.peak(w.precision) * horizon_s * SIZE_HORIZON_FACTOR)
        k_lo = max(1, min(k_top, math.ceil(ideal / unit)))
        k_hi = min(k_top, k_lo << SIZE_OCTAVES)
        ks = set(ladder(k_lo, k_hi)) or {k_top}
        ks |= {min(k_top, int(c // unit)) for c in caps.get(s, ()) if c is not None and
               c >= unit}
        plan += [(s, k) for k in sorted(ks)]
        units.append(unit)
        tops.append((k_top, k_hi))
    opts = _round(w, sides, plan, units, fixed, asm, allow_tp, method, methods)
    lows = [min(k for s2, k in plan if s2 == s) for s in range(len(sides))]
    # smaller sizes while a side's fastest size is its smallest (or none runs): beyond the
    # horizon the fastest plan may be far below it (failures, memory, the batch)
    for _ in range(8):
        more = []
        for s in range(len(sides)):
            mine = opts.side == s
            wall = np.where(opts.fits[mine], opts.cols["wall_s"][mine], np.inf)
            k = opts.gpus[mine] // units[s]
            if lows[s] <= 1 or (np.isfinite(wall).any()
                                and k[int(np.argmin(wall))] >= 2 * lows[s]):
                continue
            new_lo = max(1, lows[s] >> 3)
            more += [(s, kk) for kk in ladder(new_lo, lows[s] - 1)]
            lows[s] = new_lo
        if not more:
            break
        opts = merge(opts, _round(w, sides, more, units, fixed, asm, allow_tp, method, methods))
    # further octaves while a side's fastest size is still near the top of what was tried
    for _ in range(8):
        more = []
        for s in range(len(sides)):
            k_top, k_hi = tops[s]
            mine = opts.side == s
            if k_hi >= k_top or not mine.any():
                continue
            wall = np.where(opts.fits[mine], opts.cols["wall_s"][mine], np.inf)
            k = opts.gpus[mine] // units[s]
            at = k[int(np.argmin(wall))] if np.isfinite(wall).any() else k.max()
            if np.isfinite(wall).any() and at * 2 <= k_hi:
                continue  # the curve turned back up well inside the range
            new_hi = min(k_top, k_hi << 3)
            more += [(s, kk) for kk in ladder(k_hi + 1, new_hi)]
            tops[s] = (k_top, new_hi)
        if not more:
            break
        opts = merge(opts, _round(w, sides, more, units, fixed, asm, allow_tp, method, methods))
    if deadline_days is not None:
        opts = _refine(w, sides, opts, units, deadline_days * SECONDS_PER_DAY, fixed, asm,
                       allow_tp, method, methods)
    return opts


def _round(w, sides, plan, units, fixed, asm, allow_tp, method, methods) -> Options:
    side = np.array([s for s, _ in plan], dtype=np.int64)
    gpus = np.array([k * units[s] for s, k in plan], dtype=np.int64)
    return evaluate(w, sides, side, gpus, fixed, asm, allow_tp, method, methods)


def _refine(w, sides, opts: Options, units, deadline_s, fixed, asm, allow_tp, method,
            methods) -> Options:
    """Fill in the sizes between each side's largest size missing the deadline and its
    smallest meeting it, in rounds of at most SIZE_REFINE_STEPS sizes."""
    for _ in range(6):
        more = []
        for s in range(len(sides)):
            mine = np.flatnonzero(opts.side == s)
            k = opts.gpus[mine] // units[s]
            hit = opts.fits[mine] & (opts.cols["wall_s"][mine] <= deadline_s)
            if not hit.any():
                continue
            hi = int(k[hit].min())
            lo = int(max(k[~hit & (k < hi)], default=0))
            if hi - lo <= 1:
                continue
            step = max(1, math.ceil((hi - lo - 1) / SIZE_REFINE_STEPS))
            more += [(s, kk) for kk in range(lo + step, hi, step)]
        if not more:
            break
        opts = merge(opts, _round(w, sides, more, units, fixed, asm, allow_tp, method, methods))
    return opts
