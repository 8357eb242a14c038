"""A fleet's options: each run on each site delivered an accelerator it may use, at each of its
sizes, planned once by ``planner.estimate`` at that fixed size (one layout search, cached by
workload, accelerator and size, shared across sites and runs), on the step grid of
fleet/spec.py (fleet/schedule.py solves them).

A run's cost at a site is its owned hardware amortised over the run (cost.py) plus the site's
energy: the run's IT power x the site's PUE x hours x the site's price; or, where the purchase
price is unknown, the cloud price alone, which pays for the power its devices draw. The sites'
buildings are taken as built (no facility capex).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ..assumptions import DEFAULT, Assumptions
from ..catalog import Catalog
from ..catalog import catalog as load_catalog
from ..errors import PrecisionError
from ..model.cost import energy_cost_usd
from ..model.flops import model_flops_per_token
from ..model.power import energy_mwh
from ..plan.cluster import size_unit
from ..plan.estimate import estimate
from ..plan.inputs import resolve_workload
from ..plan.limits import cap_units
from ..plan.options import (
    CAP_SPARE_RESOLUTION,
    SIZE_RESOLUTION,
    aligned_below,
    aligned_between,
    aligned_octaves,
)
from ..progress import Progress
from ..units import SECONDS_PER_DAY, InputError
from .model import (
    FleetInstance,
    FleetOption,
    FleetRun,
    FleetSite,
    longest_stretch,
    sites_power_step_mw,
)
from .spec import (
    FleetSpec,
    RunSpec,
    in_file_words,
    on_grid,
    step_at_or_after,
    step_at_or_before,
)

__all__ = ["Estimates", "OptionInfo", "build", "DEFAULT_SIZE_OPTIONS", "SHARE_WAYS"]

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
# Between the smallest size meeting a run's window alone and the size a schedule had to give
# it, sizes at this resolution are tried too (_climb_sizes; schedule's second try).
CLIMB_RESOLUTION = 16
# Where runs share a site, each of its levels split among at most this many of them is tried
# too (_cap_sizes' ways; schedule's second try, for an infeasible fleet or a late run).
SHARE_WAYS = 4


@dataclass
class Estimates:
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


def _climb_sizes(days_at: dict, window_days: float, unit: int, upto: int) -> list[int]:
    """Sizes strictly between the smallest tried that meets the window and ``upto`` (the size a
    schedule gave the run), aligned at CLIMB_RESOLUTION: other runs, a site's power or its
    deliveries may leave a run less than its window, and then it needs more devices than
    alone, where the sizes tried above are an octave or a half apart (the lab example under a
    power cap 1% short of two runs' need had put next-3t on 49,152 B200 where 43,008 finish in
    time $85M cheaper); none when no size meets the window."""
    meet = [g for g, days in days_at.items() if days <= window_days]
    if not meet or upto <= min(meet):
        return []
    # at that resolution of each octave: one step taken from the smallest had given a run
    # placed on 86,016 devices every multiple of 8 from 32 up, 10,747 plans (a review)
    return [k * unit for k in aligned_octaves(min(meet) // unit, upto // unit,
                                              CLIMB_RESOLUTION)]


def reach_days(spec: FleetSpec, run: RunSpec) -> int:
    """The days from the step a run may first start on to its deadline (or the horizon's
    end): the window its sizes are judged by."""
    return (min(run.deadline, spec.step_start(spec.steps))
            - spec.step_start(step_at_or_after(spec, run.earliest))).days


def _in_run(run: RunSpec, acc_key: str, exc: InputError) -> InputError:
    """A run's input error in the file's words (its keys, not flags), naming the run."""
    return InputError(f"run {run.name} on {acc_key}: {in_file_words(exc.name)}", exc.value,
                      in_file_words(exc.accepted), in_file_words(exc.reason))


def _levels(held: list) -> list[tuple[float, int]]:
    """(level, steps) of the distinct values of ``held`` (what a site holds at each step) that
    some stretch of steps holds longer than it holds any larger value, with that stretch's
    length, largest first: a size each carries is one a run can hold longer than the sizes
    above it (a site's peak for a fortnight, then less for the year: both)."""
    out, longest = [], 0
    for level in sorted(set(held), reverse=True):
        best = longest_stretch([h >= level for h in held])
        if best > longest:
            out.append((level, best))
            longest = best
    return out


def _cap_sizes(spec: FleetSpec, sites: list, acc_key: str, unit: int,
               it_w_per_device: float, first_step: int = 0, ways: dict | None = None,
               days_of=None) -> list[int]:
    """The sizes each site holding ``acc_key`` can run from ``first_step`` (the run's
    earliest) on, in whole units, aligned as a team builds under a cap
    (plan/options.aligned_below): the devices delivered and those its power carries at its
    peak PUE at its highest level (_levels), and at each lower one while the size of the
    level above takes longer than that level lasts (``days_of(size)``: the run's days; every
    level without it). A site whose power or delivery is below every default size still
    gets the run it can hold (1T on 15 MW of B200: 6,144 devices, where the default sizes
    start at 8,192 and the fleet had read infeasible); power the site has only before the
    run may start sizes nothing (10 MW in January offered 128 devices to a run from February
    on 0.2 MW, and the fleet read infeasible); power it sustains below a brief peak sizes a
    run too (20 MW for a fortnight, then 3.2 MW: 1,024 H100 had run 188 days late, sized by
    the peak and the default sizes, where 1,728 on 3.1 MW are 90 days late).
    ``ways``: {site name: n}: each level of those sites split among up to n runs too (aligned
    at CAP_SPARE_RESOLUTION), as runs sharing a site need (build's ``share``)."""
    out = set()
    step = sites_power_step_mw(sites)
    for site, grid in zip(spec.sites, sites):  # on the step grid: what the run's steps hold
        on_hand = grid.devices.get(acc_key, ())[first_step:]
        if not on_hand or max(on_hand) <= 0:
            continue
        # at each step, what both its devices and its power allow, the power counted as the
        # solver counts it (model.PowerCapacity: the cap rounded down to its step), so the
        # size offered is one the solver takes (a cap of exactly 2,304 devices' need had
        # offered 2,304, refused by its rounding, and nothing below)
        power = [cap_units(mw, step) * step * 1e6 / (it_w_per_device * site.peak_pue)
                 * (1 - 1e-9) if it_w_per_device > 0 else math.inf
                 for mw in grid.power_mw[first_step:]]
        for level, steps in _levels([min(n, p) for n, p in zip(on_hand, power)]):
            for m in range(1, (ways or {}).get(site.name, 1) + 1):
                k = int(level / m) // unit
                if k >= 1:
                    out |= {aligned_below(k, res) * unit
                            for res in ((SIZE_RESOLUTION, CAP_SPARE_RESOLUTION) if m == 1
                                        else (CAP_SPARE_RESOLUTION,))}
            k = int(level) // unit
            # the lower levels hold smaller sizes longer: of use only where this level's
            # size does not finish while it lasts
            if k < 1 or days_of is not None and \
                    days_of(aligned_below(k) * unit) <= steps * spec.step_days:
                break
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


def _no_precision(run: RunSpec, precision: str, no_peak: list) -> str:
    """Why run ``run`` has no option: no type delivered has a peak for its ``precision``
    (``no_peak``: each type and its PrecisionError), naming the key to change."""
    at = f"{run.table}.precision" if run.table else "precision"
    return (f"none of the accelerators delivered to the sites runs its precision {precision} "
            f"({at}): " + "; ".join(f"{acc} has a peak for {exc.accepted.split(': ')[-1]}"
                                    for acc, exc in no_peak))


def _no_option(dropped: dict, run: RunSpec, acc_key: str, g: int, est: Estimates) -> None:
    """Say why run ``run`` on ``g`` x ``acc_key`` gave no option (build's ``dropped``)."""
    dropped.setdefault(run.name, []).append(
        f"{g:,} x {acc_key}: " + est.why.get((run.inputs, acc_key, g),
                                           "no layout fits or makes progress"))


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
          estimates: Estimates | None = None, smaller: bool = False,
          climb: dict | None = None, share: dict | None = None
          ) -> tuple[FleetInstance, list, dict]:
    """The instance on the step grid, the plan behind each option, and what was dropped:
    {run name: [why each of its sizes gave no option]}. ``smaller``: each run without given
    sizes also gets the powers of two of its size unit below the smallest size tried, largest
    first, while the plan still finishes inside the horizon (schedule's second try).
    ``climb``: {run name: {accelerator: size}}: those runs also get the sizes between the
    smallest meeting their window and that size (_climb_sizes; schedule's second try).
    ``share``: {run name: {site name: ways}}: those runs also get those sites' levels split
    among up to that many runs (_cap_sizes), where runs sharing a site need sizes between
    those above (schedule's second try: two 70B runs on 3,000 H100 were offered 1,408 and
    1,536, too slow and too many side by side, where 1,472 each finish in time)."""
    climb, share = climb or {}, share or {}
    cat = cat or load_catalog(None)
    est = estimates or Estimates(cat, asm)
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
        reach = reach_days(spec, run)
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

            def plan_of(g: int, run=run, acc_key=acc_key):
                """The run's plan on ``g`` x ``acc_key`` (None where no layout runs); a bad
                input in the file's words (its keys, not flags)."""
                try:
                    return est.plan(run.inputs, acc_key, g)
                except InputError as exc:
                    raise _in_run(run, acc_key, exc) from None

            def days_of(g: int) -> float:
                """The run's days on ``g`` devices (inf where no layout runs)."""
                plan = plan_of(g)
                return plan.training_days if plan is not None else math.inf
            for g in sizes:
                plan = plan_of(g)
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
                                                    it_w_device, runs[-1].earliest_step,
                                                    days_of=days_of)
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
                    _no_option(dropped, run, acc_key, g, est)
                    continue
                _offer(spec, r, acc_key, g, plan, options, infos)
            upto = climb.get(run.name, {}).get(acc_key)
            more = _climb_sizes(days_at, reach, size_unit(acc), upto) \
                if upto and not run.gpus else []
            if run.name in share and it_w_device and not run.gpus:
                more += _cap_sizes(spec, sites, acc_key, size_unit(acc), it_w_device,
                                   runs[-1].earliest_step, share[run.name], days_of)
            for g in sorted(set(more)):
                if g > most[acc_key] or g in days_at:
                    continue
                plan = plan_of(g)
                if plan is None:
                    _no_option(dropped, run, acc_key, g, est)
                    continue
                _offer(spec, r, acc_key, g, plan, options, infos)
            if smaller and not run.gpus and sizes:
                # a second try for an infeasible fleet: sizes built around the run's window
                # and the sites' whole inventory may not fit beside the other runs (or the
                # power a site keeps): smaller ones, finishing later, may (schedule)
                for g in _smaller_sizes(min(sizes), size_unit(acc)):
                    plan = plan_of(g)
                    # fewer devices hold more memory each and take longer: past the first
                    # that does not run, or does not finish inside the horizon, none would
                    if plan is None or plan.training_days > horizon_days:
                        break
                    _offer(spec, r, acc_key, g, plan, options, infos)
        if accs and len(no_peak) == len(accs):
            # no type delivered runs its precision: the run fits nowhere, as one whose types
            # are not delivered (the fleet had stopped, exit 2, its other runs unscheduled);
            # a run naming only types that cannot run it was refused as its file was read
            dropped[run.name] = [_no_precision(run, w.precision, no_peak) + (
                # its own types not delivered, the way out is theirs too (a run naming
                # h100-sxm beside a100-80gb, fp8, on an A100 site had read only of the A100)
                "; not delivered: " + ", ".join(a for a in run.accelerators if a not in accs)
                if run.accelerators and len(accs) < len(run.accelerators) else "")]

    inst = FleetInstance(spec.steps, float(spec.step_days), tuple(runs), tuple(sites),
                         tuple(options))
    return inst, infos, dropped


# --- the schedule -----------------------------------------------------------------------------
