"""The options of a plan: candidate cluster sizes of each accelerator, each with its best
layout and its run, evaluated together.

One size search serves every plan: a given device count (one size), a layout that fixes the
size, or a sizing. A sizing evaluates a ladder of sizes in whole size units (quarter octaves:
1, 1.25, 1.5, 1.75 x a power of two), from the size whose ideal time (every device at its dense
peak) is twice the deadline, up until the curve of days against size has turned back up; the
largest size each cap allows (power, --max-gpus, inventory); and, around the deadline, every
size between the largest ladder size missing it and the smallest meeting it, so the smallest
cluster meeting the deadline is found to the unit where days fall with size; and, since they
need not (a size's factors set its layouts), the smooth sizes a team builds (smooth_between) in
the fifth below that size and within a quarter octave of the fastest; and a climb above it
while the device-time falls (quarter octaves, sixteenths in the first quarter). Every round
scores all its sizes' layouts in one step-model evaluation (model/search.py) and runs the run
model over all of them at once (plan/assemble.py).

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
from ..model.search import FITS, Best, SearchKey, best_layouts_each
from ..model.step import Hardware
from ..specs import Accelerator, Network, Site, Workload
from ..units import SECONDS_PER_DAY
from .assemble import run_figures, steady_state
from .limits import SIZE_RESOLUTION

# Sizes whose ideal time (every device at its dense peak, MFU 1) exceeds twice the deadline
# are no options: no real MFU brings them within it. The factor 2 keeps part of the curve
# beyond the deadline for the plot and for the relaxation messages.
SIZE_HORIZON_FACTOR = 2.0
# A dense ladder's first round spans this many octaves above its start; later rounds add one
# octave at a time while the fastest size is still near an end.
SIZE_OCTAVES = 6
# A cap's sizes: the one within 1/SIZE_RESOLUTION of it, and one within 1/CAP_SPARE_RESOLUTION
# with more factors of two for the layouts to use (a cap at 3,008 H100 = 2^6 x 47 leaves no
# room for context parallelism beside tp8 pp8: 308 days; 2,944 = 2^7 x 23 runs it in 274).
CAP_SPARE_RESOLUTION = 16
# Above the smallest size meeting the deadline, a walk tries the octave above it in quarter
# octaves, and the next octave while the least device-time is at its top or inside it and
# below every size before, at most this many octaves: the device-time need not rise with size
# (a mixture of experts spread thinner runs each device faster: 5,120 H100 cost less than the
# 3,072 that first met the deadline, 3,584 more than both, its 7 no factor the layouts can
# use); a mixture of experts climbs them all (70B with 16 experts on Gaudi 3 for 25 days: 192
# devices meet it at $169K, 512 at $161K, the octaves between dearer).
CLIMB_OCTAVES = 3
# The climb's first quarter octave also tries the multiples of the largest power of two at most
# 1/CLIMB_RESOLUTION of the deadline's size (aligned_between): a size's factors set its
# layouts, so a size off the ladder can cost less (70B on 15T tokens on MI300X within 54 days:
# 4,992 meet it at $9.01M, 5,376 = 2^8 x 21 run pp 2 for $8.74M in 49 days, where a $9M budget
# had read infeasible though the 52-day plan met it), a few sizes more a sizing.
CLIMB_RESOLUTION = 16
# The odd parts of the smooth sizes a dense model's climb tries beside the quarter-octave
# ladder's 2^a x {1, 3, 5, 7}: 2^a x 9 and 2^a x 15, a size or two an octave.
CLIMB_ODD_PARTS = (9, 15)
# The primes of the sizes tried, last, in the tenth below the smallest size meeting the
# deadline (2, 3 and 5 in the fifth below, before): 7 too (1T on 15T tokens: 35,840 H100 =
# 2^10 x 5 x 7 meet 120 days at $242M where the smallest of 2, 3 and 5 alone, 38,400, costs
# $246M), a size or two more (the fifth below would add three, 14% of a sizing's time:
# benchmarks/bench_cli.py).
SMOOTH_BELOW_DEADLINE = (2, 3, 5, 7)
# The smooth sizes about the fastest size and below the deadline's (and refine's, in
# plan/estimate.py) also take those of these primes that divide the layer count: a pipeline
# of that many stages splits the layers evenly, where uneven stages run at the pace of the
# fullest (ceil(L/pp) layers: model/search.py; PipeDream, Narayanan et al. 2019, sec. 3.1),
# so such a size gives the layouts a balanced pipeline that sizes of 2, 3 and 5 alone lack
# (1T with 64 experts on B200 has 88 layers: 16,896 = 2^9 x 3 x 11 run pp 11 in 119.6 days
# for $187M where 19,712 took $213M for a run 2% smaller, and a $220M budget had bought less
# than $210M). Larger primes are not sought.
PIPELINE_PRIMES = (7, 11, 13)


def layout_primes(architecture) -> tuple[int, ...]:
    """The primes of the smooth sizes a sizing tries for this architecture: 2, 3 and 5, and
    those of PIPELINE_PRIMES that divide its layer count (88 layers: 11)."""
    return (2, 3, 5) + tuple(p for p in PIPELINE_PRIMES if int(architecture.layers) % p == 0)


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
    # the assumptions its layouts are scored with: the plan's, with this accelerator's own
    # stack when none was given
    asm: Assumptions
    # devices a size grows by: the purchase unit (cluster.purchase_unit), or its least multiple
    # a pinned layout spans (estimate.stepped)
    unit: int = 1
    unit_asked: str = "auto"  # the --unit it came from


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
    best = best_layouts_each(keys, [sides[s].asm for s in side.tolist()], shared_memo())
    peak = np.array([sd.hw.peak_flops for sd in sides])[side]
    hbm = np.array([sd.hw.hbm_bytes for sd in sides])[side]
    cols = steady_state(best, peak, hbm)
    cols["cluster_gpus"] = gpus.astype(float)
    cols["workload_seq_len"] = np.full(len(gpus), float(w.seq_len))
    cols["workload_global_batch_tokens"] = cols["batch_seqs"] * w.seq_len
    opts = Options(sides, side, gpus, best, cols, fixed_t, allow_tp)
    return priced(opts, sides, w, asm, method, methods)


def priced(opts: Options, sides: list, w: Workload, asm: Assumptions, method: int,
           methods: tuple) -> Options:
    """The options with their runs worked out at ``sides``' prices, PUE and energy price
    (the layouts and step times kept: money does not change them)."""
    return priced_each([(opts, sides, method)], w, asm, methods)[0]


def priced_each(sets: list, w: Workload, asm: Assumptions, methods: tuple) -> list[Options]:
    """``priced`` of each (options, sides, method) of ``sets``, one workload's under one set
    of assumptions (the scenarios of plan_many, alike but for limits and money), by one run
    model evaluation over all their options: the run model is elementwise, so each option's
    figures are those ``priced`` gives it alone, at a fraction of the calls."""
    ends = np.cumsum([0] + [len(o.gpus) for o, _, _ in sets])
    devices = np.concatenate([np.where(o.best.state == FITS, o.gpus, np.nan)
                              for o, _, _ in sets])
    inputs = {k: np.concatenate([np.array([sd.inputs[k] for sd in sides], dtype=float)[o.side]
                                 for o, sides, _ in sets])
              for k in sets[0][1][0].inputs}
    method = np.concatenate([np.full(len(o.gpus), m) for o, _, m in sets])

    def joined(name: str) -> np.ndarray:
        return np.concatenate([np.asarray(o.cols[name]) for o, _, _ in sets])

    run = run_figures(devices, w.tokens, joined("tokens_per_s"),
                      joined("model_flops_per_token"), joined("hardware_flops_per_token"),
                      inputs, asm, method, methods)
    run = {k: np.broadcast_to(v, (int(ends[-1]),)) for k, v in run.items()}
    out = []
    for (o, sides, _), a, b in zip(sets, ends[:-1], ends[1:]):
        cols = dict(o.cols)
        cols.update({k: v[a:b].copy() for k, v in run.items()})
        out.append(Options(sides, o.side, o.gpus, o.best, cols, o.fixed, o.allow_tp))
    return out


def take(opts: Options, rows: np.ndarray) -> Options:
    """The options ``rows`` of a set."""
    return Options(opts.sides, opts.side[rows], opts.gpus[rows], opts.best.take(rows),
                   {k: np.asarray(v)[rows] for k, v in opts.cols.items()}, opts.fixed,
                   opts.allow_tp)


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


def smooth_between(lo: int, hi: int, primes: tuple[int, ...] = (2, 3, 5),
                   unit: int = 1, balanced: bool = True) -> list[int]:
    """Sizes in units strictly between ``lo`` and ``hi`` whose prime factors are all in
    ``primes``: the counts whose layouts have factors to use (a pipeline of 20 stages on 120
    layers), which the quarter-octave ladder passes over (92,160 = 2^11 x 3^2 x 5 MI300X run
    405B in 28.9 days, between the ladder's 81,920 at 30.8 and 98,304 at 30.0), and whose
    power of two (of devices: ``unit`` devices a size unit) is at least its odd part (92,160
    MI300X = 2^11 x 45), as a team builds them:
    a size of few twos (4,050 = 2 x 3^4 x 5^2) leaves data parallelism little to divide.
    ``balanced`` False: every such size, however few its twos (a last look before an answer
    of no plan: 20,160 = 2^6 x 315 H100 meet 405B's 90 days within $100M)."""
    out = [1]
    for p in primes:
        grown = []
        for k in out:
            while k < hi:
                grown.append(k)
                k *= p
        out = grown
    # the twos counted on the devices, not the units (115,200 H100 = 2^9 x 225 devices, in
    # 14,400 nodes of 8 = 2^6 x 225)
    return sorted(k for k in set(out) if lo < k < hi and (
        not balanced or ((k * unit) & -(k * unit)) ** 2 >= k * unit))


def _odd_part(n: int) -> int:
    """n without its factors of two (15,360 -> 15)."""
    return n // (n & -n)


def ladder(k_lo: int, k_hi: int) -> list[int]:
    """Quarter-octave sizes in units (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, ...) in
    [k_lo, k_hi]."""
    ks, a = set(), 0
    while (4 << a) // 4 <= k_hi:
        ks |= {(m << a) // 4 for m in (4, 5, 6, 7) if (m << a) % 4 == 0}
        a += 1
    return sorted(k for k in ks if k_lo <= k <= k_hi)


def sized(w: Workload, sides: list, fixed: dict, asm: Assumptions, allow_tp: bool,
          deadline_days: float | None, caps: dict, method: int, methods: tuple,
          dense: bool = True, hints: dict | None = None, counted=None) -> Options:
    """The options of a sizing (module docstring; ``walk`` decides the sizes). ``caps`` maps
    a side to the device counts its limits allow (power cap, --max-gpus, inventory);
    ``counted(n)`` hears of each round's sizes."""
    units, firsts, tops = first_sizes(w, sides, asm, deadline_days, caps, dense, hints)
    steps = walk(firsts, tops, deadline_days, dense, units,
                 jagged=bool(w.architecture.experts), primes=layout_primes(w.architecture))
    request, opts, known = next(steps), None, {}
    while True:
        new = evaluate_sizes(w, sides, request, units, fixed, asm, allow_tp, method, methods)
        opts = new if opts is None else merge(opts, new)
        if counted is not None:
            counted(len(request))
        known.update(walls(new, units))
        try:
            request = steps.send(known)
        except StopIteration:
            return opts


def first_sizes(w: Workload, sides: list, asm: Assumptions, deadline_days: float | None,
                caps: dict, dense: bool, hints: dict | None) -> tuple[list, list, list]:
    """(size unit, first sizes in units, largest size in units) of each side: the ladder from
    the horizon (``dense``), else two octaves where the deadline is likely met at a real MFU
    (MFU 1 at twice the deadline is ~5x too few devices), or the quarter octaves around a
    hinted size (side -> devices: an inverse plan's last probe, scaled); plus each cap."""
    hints = hints or {}
    horizon_s = (deadline_days or asm.deadline_days) * SECONDS_PER_DAY
    run_flops = float(model_flops_per_token(w.architecture, w.seq_len)) * w.tokens
    units, firsts, tops = [], [], []
    for s, sd in enumerate(sides):
        unit = sd.unit
        k_top = max(1, asm.max_gpus // unit)
        ideal = run_flops / (sd.acc.peak(w.precision) * horizon_s * SIZE_HORIZON_FACTOR)
        k_lo = (ladder(max(1, min(k_top, math.ceil(ideal / unit))), k_top)[:1] or [k_top])[0]
        if dense:
            ks = set(ladder(k_lo, min(k_top, k_lo << SIZE_OCTAVES))) or {k_lo}
        elif hints.get(s):
            k_h = min(k_top, max(1, round(hints[s] / unit)))
            ks = set(ladder(1, k_h)[-1:] + ladder(k_h, k_top)[:1])
        else:
            top = ladder(1, k_top)[-1]  # the largest ladder size: its halves are ladder sizes
            ks = {min(top, k_lo * 4), min(top, k_lo * 8)}
        ks |= {min(k_top, aligned_below(int(c // unit), res)) for c in caps.get(s, ())
               if c is not None and c >= unit
               for res in (SIZE_RESOLUTION, CAP_SPARE_RESOLUTION)}
        units.append(unit)
        firsts.append(ks)
        tops.append(k_top)
    return units, firsts, tops


def walk(firsts: list, tops: list, deadline_days: float | None, dense: bool,
         units: list | None = None, jagged: bool = False,
         primes: tuple[int, ...] = (2, 3, 5)):
    """The sizes a sizing tries, as a generator: it yields [(side, units), ...] to evaluate
    and is sent back {(side, units): wall seconds (inf: no layout runs)} of every size
    evaluated so far; the caller's last answer holds the sizing's options.

    ``dense`` (a curve to draw, the time objective, no deadline): the quarter-octave ladder,
    widened an octave a round while the fastest size is near an end, then the deadline's
    bracket narrowed. Otherwise (the cheapest size meeting a deadline is wanted): a walk an
    octave a round to the deadline's bracket, then the bracket narrowed; the fastest sizes in
    quarter octaves only when no size meets the deadline. What a walk tries depends on the
    days of the sizes it has seen and nothing else (not on prices), so rows of a table that
    differ only in money walk alike. ``jagged`` (a mixture of experts, whose device-time
    dips at the sizes its experts divide well): the climb above the deadline's size tries all
    CLIMB_OCTAVES octaves. ``primes``: those of the smooth sizes tried about the fastest size
    and below the deadline's (layout_primes; the climb keeps 2, 3 and 5)."""
    deadline_s = deadline_days * SECONDS_PER_DAY if deadline_days is not None else None
    n = len(firsts)
    units = units or [1] * n  # the devices of a size unit, per side (smooth_between)
    # a side's range runs from its smallest first size up to the last before a gap of more
    # than an octave: a cap's size far above the ladder is tried, but the sizes between are
    # reached by widening (a --max-gpus 8,192 had made the range 1,536-8,192 devices at once,
    # so a time objective never tried 3,072)
    spans = [[min(ks), _ladder_top(ks), k_top] for ks, k_top in zip(firsts, tops)]
    known = yield [(s, k) for s in range(n) for k in sorted(firsts[s])]
    for _ in range(64):  # widen each side's range, an octave a round
        more = []
        for s in range(n):
            lo, hi, k_top = spans[s]
            mine = _side(known, s)
            at, _ = _fastest(mine)
            meets = deadline_s is not None and _bracket(mine, deadline_s)[1]
            low_meets = meets and _bracket(mine, deadline_s)[1] <= lo
            # down: the fastest is in the lowest octave, none runs, or (walking) the smallest
            # size already meets the deadline
            if lo > 1 and (at is None or at < 2 * lo or (not dense and low_meets)):
                new = max(1, lo // 2)
                more += [(s, k) for k in (ladder(new, lo - 1) if dense else [new])]
                spans[s][0] = new
            # up: the fastest is near the top and (walking) no size meets the deadline yet
            if hi < k_top and (at is None or at * 2 > hi) and (dense or not meets):
                new = min(k_top, hi * 2)
                # a dense range's ladder from its bottom, the known filtered out below: a cap's
                # size can have bridged a gap of the ladder (405B on B200 under 200 MW: the
                # cap's 86,016 had joined 57,344 to 98,304, and 65,536 and 81,920 went untried)
                more += [(s, k) for k in (ladder(lo, new) if dense else [new])]
                spans[s][1] = new
        more = [sk for sk in more if sk not in known]
        if not more:
            break
        known = yield more
    if not dense:  # quarter octaves around the fastest size, when no size meets the deadline,
        # again around a new fastest (a walk an octave a step lands on sizes whose factors its
        # layouts use badly: 405B pinned to zero=3, pp=1 read 463 days on 4,096 H100, the best
        # of 1,280 x 2^k and their quarter octaves, where 8,192 takes 266)
        for _ in range(4):
            more = []
            for s in range(n):
                mine = _side(known, s)
                at, _ = _fastest(mine)
                if at is None or (deadline_s is not None and _bracket(mine, deadline_s)[1]):
                    continue
                more += [(s, k) for k in ladder(max(1, at // 2), min(at * 2, tops[s]))
                         if (s, k) not in known]
            if not more:
                break
            known = yield more
    # the smooth sizes within a quarter octave of the fastest: for a time objective, and
    # when no size meets the deadline (a smooth one may: 405B in 25 days on 128,000 H100,
    # where the ladder's fastest, 131,072, takes 26.8)
    more = []
    for s in range(n):
        mine = _side(known, s)
        at, _ = _fastest(mine)
        if at is not None and (dense or deadline_s is None
                               or not _bracket(mine, deadline_s)[1]):
            more += [(s, k) for k in smooth_between(at * 27 // 32,
                                                    min(at * 19 // 16, tops[s] + 1),
                                                    primes, unit=units[s])
                     if (s, k) not in known]
    if more:
        known = yield more
    if deadline_s is None:
        return
    start = {s: _bracket(_side(known, s), deadline_s)[0] for s in range(n)}
    # narrow each side's deadline bracket by bisection on aligned sizes: the midpoint is the
    # multiple of the largest power of two (in units) inside the bracket, a size a team would
    # build (a power-of-two number of racks, whose factors the layouts can use), until the
    # bracket is within 1/SIZE_RESOLUTION of its size (at least one unit)
    for _ in range(64):
        more = []
        for s in range(n):
            lo, hi = _bracket(_side(known, s), deadline_s)
            if hi is None or hi - lo <= max(1, hi // SIZE_RESOLUTION):
                continue
            mid = aligned_mid(lo, hi)
            if mid is not None and (s, mid) not in known:
                more.append((s, mid))
        if not more:
            break
        known = yield more
    # the smooth sizes of the bracket as the walk first found it, and of the fifth below the
    # smallest size meeting the deadline: days need not fall with size (a size's factors set
    # its layouts), so a smooth size below the bisection's answer may meet the deadline; then
    # those with a factor of 7 in the tenth below the smallest size now meeting it
    below = tuple(dict.fromkeys(SMOOTH_BELOW_DEADLINE + primes))
    for low, these in ((lambda s, hi: min(start[s], hi * 4 // 5), primes),
                       (lambda s, hi: hi * 9 // 10, below)):
        more = []
        for s in range(n):
            hi = _bracket(_side(known, s), deadline_s)[1]
            if hi is not None:
                more += [(s, k) for k in smooth_between(low(s, hi), hi, these, unit=units[s])
                         if (s, k) not in known]
        if more:
            known = yield more
    # climb: the octave above the smallest size meeting the deadline, in quarter octaves (the
    # first quarter in sixteenths: CLIMB_RESOLUTION), and the next while the least device-time
    # (size x wall: what a cost is made of, whatever the price) is at the top of the octave tried
    top = {s: _bracket(_side(known, s), deadline_s)[1] for s in range(n)}
    # the least device-time before each octave: the smallest size meeting the deadline's
    best = {s: (k * _side(known, s)[k] if k is not None else math.inf) for s, k in top.items()}
    for octave in range(CLIMB_OCTAVES):
        # and the smooth sizes of that first quarter, as of the fifth below (405B on 15T
        # tokens on H100: 38,400 = 2^9 x 75 meets 53 days for $107.9M, where the climb from
        # 37,376 had answered 40,960 for $111.4M, dearer than the plan for 50 days)
        more = [(s, j) for s, k in top.items() if k is not None and octave == 0
                for j in sorted(set(aligned_between(k, min(k * 5 // 4, tops[s]) + 1))
                                | set(smooth_between(k, min(k * 5 // 4, tops[s]) + 1, primes,
                                                     unit=units[s])))
                if (s, j) not in known]
        more += [(s, j) for s, k in top.items() if k is not None
                for j in sorted(set(ladder(k + 1, min(2 * k, tops[s])))
                                # a mixture of experts: the smooth sizes too, where its experts
                                # and layouts divide well (405B with 16 experts on 144 B200);
                                # a dense model: those of odd part 9 and 15 beside the ladder's
                                # 1, 3, 5 and 7 (1T on 5T tokens: 15,360 H100 = 2^10 x 15 in
                                # 83 days for less than the 11,264 that first met 120)
                                | set(j for j in smooth_between(k, min(2 * k, tops[s]) + 1,
                                                                unit=units[s])
                                      if jagged or _odd_part(j * units[s]) in CLIMB_ODD_PARTS))
                if (s, j) not in known]
        if more:  # an octave already known is judged all the same
            known = yield more
        for s, k in top.items():
            if k is None:
                continue
            tried = {j: wall for j, wall in _side(known, s).items() if k <= j <= 2 * k}
            least = min(tried, key=lambda j: (j * tried[j], j))
            # on while the least is at the octave's top, or inside it and below every size
            # before: the device-time of a mixture of experts is jagged in size (1T with 16
            # experts on H200: 384 nodes below 256 and 320, 512 below all three), so a least
            # inside an octave does not say the next holds none lower
            lower = least > k and least * tried[least] < best[s]
            best[s] = min(best[s], least * tried[least])
            top[s] = 2 * k if (least == max(tried) or lower or jagged) and 2 * k < tops[s] \
                else None
        if all(k is None for k in top.values()):
            return


def aligned_below(k: int, resolution: int = SIZE_RESOLUTION) -> int:
    """The size a team builds under a cap of ``k`` units: the largest multiple of the largest
    power of two that keeps it within 1/``resolution`` of the cap (5,395 units -> 5,376 =
    42 x 128), so its layouts have factors to use (a cap of 43,160 B200 = 2^3 x 5 x 13 x 83
    leaves pipelines 5 microbatches each; 43,008 = 2^11 x 3 x 7 does not)."""
    step = 1 << max(0, (k // resolution).bit_length() - 1)
    return max(1, k // step * step)


def walls(opts: Options, units: list) -> dict:
    """{(side, units): wall seconds} of evaluated options (inf where no layout runs)."""
    wall = np.where(opts.fits, opts.cols["wall_s"], np.inf)
    k = opts.gpus // np.array(units)[opts.side]
    return dict(zip(zip(opts.side.tolist(), k.tolist()), wall.tolist()))


def aligned_between(lo: int, hi: int, resolution: int = CLIMB_RESOLUTION) -> list[int]:
    """The multiples of the largest power of two at most ``lo`` / ``resolution`` strictly
    between ``lo`` and ``hi`` (624 units, 780 -> 656, 688, 720, 752)."""
    step = 1 << max(0, (lo // resolution).bit_length() - 1)
    return list(range((lo // step + 1) * step, hi, step))


def aligned_octaves(lo: int, hi: int, resolution: int = CLIMB_RESOLUTION) -> list[int]:
    """aligned_between an octave at a time: the sizes strictly between ``lo`` and ``hi`` at
    1/``resolution`` of an octave throughout (32 -> 86,016 units: ~180 sizes, where one step
    taken from ``lo`` gives every multiple of 2, ~43,000)."""
    out, a = [], max(lo, 1)
    while a < hi:
        top = min(2 * a, hi)
        out += aligned_between(a, top, resolution) + ([top] if top < hi else [])
        a = top
    return out


def _side(known: dict, s: int) -> dict:
    return {k: wall for (side, k), wall in known.items() if side == s}


def _ladder_top(ks) -> int:
    """The largest of the sizes reached from the smallest in steps of at most an octave."""
    ks = sorted(ks)
    top = ks[0]
    for k in ks[1:]:
        if k > 2 * top:
            break
        top = k
    return top


def _fastest(mine: dict) -> tuple[int | None, float]:
    """(size in units, wall seconds) of a side's fastest size that runs (None: none runs)."""
    runs = {k: wall for k, wall in mine.items() if math.isfinite(wall)}
    if not runs:
        return None, math.inf
    k = min(runs, key=lambda k: (runs[k], k))
    return k, runs[k]


def _bracket(mine: dict, deadline_s: float) -> tuple[int, int | None]:
    """(largest size in units missing the deadline below the smallest meeting it, that
    smallest); (0, None) when no size meets it."""
    hits = [k for k, wall in mine.items() if wall <= deadline_s]
    if not hits:
        return 0, None
    hi = min(hits)
    return max((k for k, wall in mine.items() if k < hi and not wall <= deadline_s),
               default=0), hi


def evaluate_sizes(w, sides, request: list, units: list, fixed, asm, allow_tp, method,
                   methods) -> Options:
    side = np.array([s for s, _ in request], dtype=np.int64)
    gpus = np.array([k * units[s] for s, k in request], dtype=np.int64)
    return evaluate(w, sides, side, gpus, fixed, asm, allow_tp, method, methods)


def aligned_mid(lo: int, hi: int) -> int | None:
    """The multiple of the largest power of two strictly inside (lo, hi), or None."""
    p = 1 << max(0, (hi - lo).bit_length() - 1)
    while p >= 1:
        mid = (lo // p + 1) * p
        if lo < mid < hi:
            return mid
        p //= 2
    return None
